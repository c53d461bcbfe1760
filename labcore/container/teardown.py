"""Undo what a container's run set up on the host: its cgroup and its rootfs mount.

Used by the supervisor when the init exits and by the reaper when a supervisor died. Safe to call
more than once; it marks the state ``torn_down`` when everything is gone.
"""

from __future__ import annotations

import contextlib

from labcore.container.rootfs import unmount_rootfs
from labcore.container.state import ContainerPaths, RuntimeState, update_state
from labcore.runtime.cgroups import Cgroup

__all__ = ["LOCAL_NETWORK_MODES", "teardown"]

#: network modes that need no sandbox: the container's own empty netns, or the host's
LOCAL_NETWORK_MODES = ("none", "host")


def teardown(
    paths: ContainerPaths,
    state: RuntimeState,
    network: str = "none",
    *,
    mark: bool = True,
    cgroup: Cgroup | None = None,
) -> None:
    """Kill what is left in the cgroup, remove it, unmount the rootfs, and leave the ``network``.

    ``network`` is the container's network mode; for a bridge network its endpoint, address
    lease, port rules and network namespace are removed. ``mark`` records ``torn_down`` in the
    state file (the supervisor records it together with the exit instead). ``cgroup`` is the
    container's group when the caller has it open, else the one the state names is opened.
    """
    group = cgroup
    if group is None and state.cgroup:
        try:
            group = Cgroup.open(state.cgroup)
        except FileNotFoundError:
            group = None
    if group is not None:
        with contextlib.suppress(FileNotFoundError):
            group.destroy(keep_parent=True)  # the next container needs it (system prune removes it)
    unmount_rootfs(paths)
    if network not in LOCAL_NETWORK_MODES:
        from labcore.runtime import network as networking

        networking.cleanup(paths.container_id)
    if mark:
        update_state(paths, torn_down=True)
