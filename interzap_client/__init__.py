"""The Interzap terminal client."""
