"""The container init in C (``init.c`` beside this module): where it is built, how a plan is written for it.

An init cloned ahead of its plan (:mod:`labcore.runtime.preinit`) execs this program while it
waits, so that setting up the container costs system calls only, not the copy-on-write page
faults of a cloned interpreter. ``./lab provision`` builds it (``python -m labcore.runtime.cinit``)
into the environment's ``libexec``; where no C compiler works, the pre-cloned init stays in
Python and does the same steps (:func:`labcore.runtime.init.run_init_directly`).
``LABCORE_C_INIT`` names another build, or ``0`` to turn it off.

The plan is NUL-terminated fields: ``labcore-plan-1``, then records (a tag and its fields), then
``end``. Optional fields are ``-`` (none) or ``+`` and the value. A plan the C init's fixed
limits cannot hold is not encoded (:func:`encode_plan` returns None): the caller then has the fork
server clone an init as usual.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from labcore.runtime.init import InitPlan

__all__ = ["SOURCE", "binary_path", "build", "default_path", "encode_plan", "main"]

SOURCE = Path(__file__).with_name("init.c")
_COMPILE_FLAGS = ["-O2", "-std=c11", "-Wall", "-Wextra", "-Werror", "-Wl,-z,now"]
# the fixed sizes of init.c's plan (struct plan, MAX_ITEMS, MAX_FDS)
_MAX_ITEMS = 4096
_MAX_CGROUPS = 64
_MAX_GROUPS = 256
_MAX_DROPS = 128
_MAX_JOINS = 12  # 16 descriptors, 4 of them the sync socket and stdio


def default_path() -> Path:
    """Where ``./lab provision`` builds the C init: this environment's ``libexec``."""
    return Path(sys.prefix) / "libexec" / "labcore-init"


def binary_path() -> str | None:
    """The C init to use, if it is built and not turned off (``LABCORE_C_INIT``)."""
    chosen = os.environ.get("LABCORE_C_INIT")
    if chosen == "0":
        return None
    path = chosen or str(default_path())
    return path if os.access(path, os.X_OK) else None


def _optional(value: str | None) -> str:
    return "-" if value is None else "+" + value


def encode_plan(plan: InitPlan, late: int) -> bytes | None:
    """``plan`` in the C init's format; ``late`` are the namespaces it makes after joining its cgroup.

    None when the plan does not fit the C init's limits, or has what only the Python init does
    (a user namespace, or no root filesystem: an exec).
    """
    privileges = plan.privileges
    if (
        plan.rootfs is None
        or plan.userns
        or max(len(plan.mount_steps), len(plan.args), len(plan.environ)) >= _MAX_ITEMS
        or len(plan.cgroup_procs) > _MAX_CGROUPS
        or len(privileges.groups) > _MAX_GROUPS
        or len(privileges.drop_bounding) > _MAX_DROPS
        or len(plan.join) > _MAX_JOINS
    ):
        return None
    fields = ["labcore-plan-1"]
    for procs in plan.cgroup_procs:
        fields += ["cgroup", procs]
    for _, kind in plan.join:
        fields += ["join", str(kind)]
    fields += ["late", str(late), "rootfs", plan.rootfs]
    if plan.loopback:
        fields.append("loopback")
    for step in plan.mount_steps:
        fields += ["step", step.kind, step.target, _optional(step.source), _optional(step.fstype), str(step.flags)]
        fields.append(_optional(step.data))
    if plan.hostname:
        fields += ["hostname", plan.hostname]
    if plan.terminal:
        fields.append("terminal")
    if plan.start_at_once:
        fields.append("start")
    fields += ["cwd", plan.cwd, "path", plan.search_path]
    for arg in plan.args:
        fields += ["arg", arg]
    for key, value in plan.environ.items():
        fields += ["env", f"{key}={value}"]
    fields += ["uid", str(privileges.uid), "gid", str(privileges.gid), "mask", str(privileges.mask)]
    for group in privileges.groups:
        fields += ["group", str(group)]
    for number in privileges.drop_bounding:
        fields += ["drop", str(number)]
    if privileges.no_new_privileges:
        fields.append("nnp")
    fields.append("end")
    fields.append("")  # every field ends with a NUL, the last one too
    return "\0".join(fields).encode("utf-8", "surrogateescape")


def build(path: Path | None = None, compiler: str | None = None) -> bool:
    """Compile the C init to ``path`` (default :func:`default_path`); False when no C compiler is found.

    A compiler that rejects the source raises ``subprocess.CalledProcessError`` with its output.
    """
    import shutil
    import subprocess

    target = path or default_path()
    cc = compiler or shutil.which("cc") or shutil.which("gcc")
    if cc is None:
        return False
    target.parent.mkdir(parents=True, exist_ok=True)
    temp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    try:
        subprocess.run([cc, *_COMPILE_FLAGS, "-o", str(temp), str(SOURCE)], check=True, capture_output=True, text=True)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    temp.replace(target)
    return True


def main(argv: list[str] | None = None) -> int:
    """``python -m labcore.runtime.cinit [PATH]``: build the C init (a missing compiler is not an error)."""
    import subprocess

    args = sys.argv[1:] if argv is None else argv
    if len(args) > 1:
        print("usage: python -m labcore.runtime.cinit [PATH]", file=sys.stderr)
        return 2
    try:
        built = build(Path(args[0]) if args else None)
    except subprocess.CalledProcessError as error:
        print(f"labcore: could not compile {SOURCE.name}; containers use the Python init\n{error.stderr}",
              file=sys.stderr)  # fmt: skip
        return 0
    if not built:
        print("labcore: no C compiler; containers use the Python init", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
