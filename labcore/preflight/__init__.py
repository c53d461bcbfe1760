"""The lab's pre-flight check: can this host run labcore's containers.

``doctor()`` runs every check and returns a :class:`Report`; ``labcore doctor`` prints it as a table
or JSON. Each failed check carries a hint that says how to fix it.
"""

from labcore.preflight.report import Check, Report, Status
from labcore.preflight.run import doctor

__all__ = ["Check", "Report", "Status", "doctor"]
