"""The only place labcore makes raw system calls (through ctypes).

Failures are raised as :class:`OSError` carrying errno and the path or object involved, exactly as
the standard library does, never wrapped into another type.
"""
