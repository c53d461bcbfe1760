"""``labcore doctor``: the pre-flight check."""

from __future__ import annotations

import argparse
import json

ORDER = 1


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``doctor`` command."""
    parser = subparsers.add_parser("doctor", help="check that this host can run the lab")
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Print the report; exit 1 when a required check failed."""
    from labcore.preflight import doctor

    report = doctor()
    print(json.dumps(report.to_dict(), indent=2) if args.json else report.table())
    return 0 if report.ok else 1
