import asyncio
import threading

from labcore.runtime.network.netlink import outside_event_loop


@outside_event_loop
def where_am_i(value: int) -> tuple[int, str, bool]:
    try:
        asyncio.get_running_loop()
        running = True
    except RuntimeError:
        running = False
    return value * 2, threading.current_thread().name, running


def test_runs_in_place_without_a_loop() -> None:
    doubled, thread, running = where_am_i(21)
    assert (doubled, thread, running) == (42, threading.current_thread().name, False)


def test_moves_off_a_thread_whose_loop_runs_as_in_jupyter() -> None:
    async def inside_a_kernel() -> tuple[int, str, bool]:
        return where_am_i(21)

    doubled, thread, running = asyncio.run(inside_a_kernel())
    assert doubled == 42 and thread.startswith("netlink") and not running
