"""The ``labcore`` command line: a thin client over the library."""
