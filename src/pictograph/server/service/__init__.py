"""Behaviour of the server: every rule lives here; nothing here imports the web framework."""
