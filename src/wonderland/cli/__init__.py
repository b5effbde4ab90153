"""The ``wonderland`` command."""
