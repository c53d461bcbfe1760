"""Run pyroute2 calls where they work: never on a thread whose asyncio loop is already running.

pyroute2's synchronous ``IPRoute`` drives an asyncio loop of its own for every call, which fails
with "This event loop is already running" in a Jupyter kernel (its main thread runs a loop). Every
function of :mod:`labcore.runtime.network` that opens ``IPRoute`` is wrapped with
:func:`outside_event_loop`, which moves the call to a short-lived worker thread only then.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import functools
from collections.abc import Callable
from typing import ParamSpec, TypeVar

__all__ = ["outside_event_loop"]

P = ParamSpec("P")
R = TypeVar("R")


def outside_event_loop(function: Callable[P, R]) -> Callable[P, R]:
    """Call ``function`` directly, or in a worker thread when this thread runs an event loop."""

    @functools.wraps(function)
    def call(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            return function(*args, **kwargs)
        with concurrent.futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix="netlink") as worker:
            return worker.submit(function, *args, **kwargs).result()

    return call
