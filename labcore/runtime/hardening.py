"""Identity and privileges of the container's process: user, groups, capabilities, no_new_privs.

:func:`plan_privileges` turns a :class:`ProcessSpec` into plain numbers before fork;
:func:`apply_privileges` runs in the child right before ``execve``, in runc's order: drop the
bounding set (needs CAP_SETPCAP, so first), switch groups and uid while keeping the permitted set,
then set the effective and permitted sets (inheritable and ambient stay empty, as in Docker) and
``no_new_privs``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from labcore.errors import UsageError
from labcore.linux import capabilities, prctl
from labcore.runtime.spec import ProcessSpec

__all__ = ["CapabilityError", "PrivilegePlan", "apply_privileges", "plan_privileges"]


class CapabilityError(UsageError):
    """A capability name the kernel does not know."""


@dataclass(frozen=True)
class PrivilegePlan:
    """What :func:`apply_privileges` does, as numbers."""

    uid: int
    gid: int
    groups: tuple[int, ...]
    drop_bounding: tuple[int, ...]
    keep: tuple[int, ...]
    mask: int
    no_new_privileges: bool


def plan_privileges(process: ProcessSpec) -> PrivilegePlan:
    """Resolve capability names to numbers; ``capabilities=None`` keeps every capability.

    Capabilities missing from the caller's own bounding set cannot be granted and are left out.
    """
    last = capabilities.last_cap()
    bounding = capabilities.bounding_set()
    available = [number for number in range(last + 1) if bounding >> number & 1]
    if process.capabilities is None:
        keep = tuple(available)
    else:
        try:
            numbers = {capabilities.cap_number(name) for name in process.capabilities}
        except KeyError as error:
            raise CapabilityError(
                f"unknown capability {error.args[0]!r}",
                hint="use names such as CHOWN or NET_ADMIN (see capabilities(7))",
            ) from None
        keep = tuple(sorted(numbers.intersection(available)))
    kept = set(keep)
    mask = 0
    for number in keep:
        mask |= 1 << number
    user = process.user
    return PrivilegePlan(
        uid=user.uid,
        gid=user.gid,
        groups=tuple(user.additional_gids),
        drop_bounding=tuple(number for number in available if number not in kept),  # the rest are gone already
        keep=keep,
        mask=mask,
        no_new_privileges=process.no_new_privileges,
    )


def apply_privileges(plan: PrivilegePlan) -> None:
    """Become ``plan``'s user with ``plan``'s capabilities (call in the child, as root, before exec)."""
    for number in plan.drop_bounding:
        prctl.capbset_drop(number)
    prctl.set_keepcaps(True)
    os.setgroups(list(plan.groups))
    os.setresgid(plan.gid, plan.gid, plan.gid)
    os.setresuid(plan.uid, plan.uid, plan.uid)
    prctl.set_keepcaps(False)
    # as Docker: root keeps the set as effective and permitted; another user gets none (as after a
    # plain setuid), and inheritable and ambient stay empty, so exec'd programs gain nothing
    granted = plan.mask if plan.uid == 0 else 0
    capabilities.capset(granted, granted, 0)
    prctl.ambient_clear_all()
    if plan.no_new_privileges:
        prctl.set_no_new_privs()
