"""The ``pictograph`` command line."""
