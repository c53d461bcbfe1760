"""Find containers whose supervisor died (e.g. ``kill -9``) and clean up after them.

A supervisor that dies leaves the container's cgroup (maybe with processes in it), the rootfs
overlay mount and a state file that says "running". :func:`reap` kills what is left in the
cgroup, unmounts, records the container as exited (exit code 137, like a SIGKILL) and removes
it when it was run with ``--rm``. Every container command calls it first, and so does
``labcore system prune``.
"""

from __future__ import annotations

import contextlib

from labcore.container.state import ContainerPaths, load_state, needs_reaping, now_rfc3339, update_state

__all__ = ["reap", "reap_one"]


def reap_one(paths: ContainerPaths, network: str = "none") -> bool:
    """Clean up one container if its supervisor is gone without tearing down; True if it did."""
    from labcore.container.teardown import teardown

    state = load_state(paths)
    if not needs_reaping(state):
        return False
    assert state is not None
    if state.phase != "exited":
        state = update_state(
            paths,
            phase="exited",
            exit_code=137 if state.exit_code is None else state.exit_code,
            finished_at=now_rfc3339(),
            error=state.error or "the container's supervisor died; cleaned up by the reaper",
        )
    teardown(paths, state, network)
    return True


def reap() -> list[str]:
    """Clean up every container whose supervisor died; return their ids."""
    from labcore.container.lookup import all_records
    from labcore.container.removal import delete_container_files

    cleaned = []
    for record in all_records():
        paths = ContainerPaths.of(record.id)
        if reap_one(paths, record.network):
            cleaned.append(record.id)
            if record.auto_remove:
                with contextlib.suppress(Exception):
                    delete_container_files(paths, record, remove_anonymous_volumes=True)
    return cleaned
