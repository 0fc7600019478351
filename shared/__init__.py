"""The Interzap wire protocol: frames, their fields, encoding, decoding and framing.

Knows bytes and events only. It imports nothing but the standard library and
knows nothing of sockets, clocks, databases or user interfaces (see PROTOCOL.md).
"""
