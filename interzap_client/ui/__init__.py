"""The full-screen client: the only package that imports prompt_toolkit."""
