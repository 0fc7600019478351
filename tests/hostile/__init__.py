"""Hostile input (issue 5): the server under random frames, fuzzed framing, floods, secrets."""
