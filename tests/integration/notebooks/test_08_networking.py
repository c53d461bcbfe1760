"""Chapter 08's checks catch plausible wrong answers, and the chapter runs again over an interrupted run.

The generic chapter test proves the solved notebook passes and the unsolved one fails its tests;
this one hands in answers that are almost right (real namespaces, veths, bridges, containers and
published ports, under nbval) and checks that exactly the matching test cells fail with a hint
naming the mistake. That run stops before its cleanup cell, leaving namespaces, a network and
running containers behind; a solved run in the same lab must then pass and clean everything up.
"""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

import labcore.container as containers
from labcore.course.builder import write_notebook
from labcore.course.chapter import load_chapter
from labcore.course.nbrun import CellResult, run_notebooks
from labcore.course.paths import default_source_dir
from labcore.course.variants import Variant, make_notebook
from labcore.errors import LabcoreError
from labcore.runtime import network
from labcore.runtime.network import links

pytestmark = [pytest.mark.integration, pytest.mark.root, pytest.mark.slow]

CHAPTER = load_chapter(default_source_dir() / "08-networking.md")
ROOT_NAME = "labcore-root"

WRONG_ANSWERS = {
    # the two addresses swapped: red pings its own (unreachable, lo is down) address, not blue
    "cable-answer": (
        "def cable():\n"
        "    with IPRoute(netns=NS['red'], flags=0) as red:\n"
        "        red.link('add', ifname='eth0', kind='veth', peer={'ifname': 'eth0', 'net_ns_fd': NETNS['blue']})\n"
        "        index = red.link_lookup(ifname='eth0')[0]\n"
        "        red.addr('add', index=index, address='10.0.8.2', prefixlen=24)\n"
        "        red.link('set', index=index, state='up')\n"
        "    with IPRoute(netns=NS['blue'], flags=0) as blue:\n"
        "        index = blue.link_lookup(ifname='eth0')[0]\n"
        "        blue.addr('add', index=index, address='10.0.8.1', prefixlen=24)\n"
        "        blue.link('set', index=index, state='up')\n"
        "\n"
        "netlink(cable)\n"
    ),
    # the switch end is up but never plugged into br0
    "plug-answer": (
        "def plug(name, address):\n"
        "    interface = ipaddress.ip_interface(address)\n"
        "    with IPRoute(netns=NS[name], flags=0) as inside:\n"
        "        inside.link('add', ifname='eth0', kind='veth', peer={'ifname': name, 'net_ns_fd': NETNS['switch']})\n"
        "        index = inside.link_lookup(ifname='eth0')[0]\n"
        "        inside.addr('add', index=index, address=str(interface.ip), prefixlen=interface.network.prefixlen)\n"
        "        inside.link('set', index=index, state='up')\n"
        "    with IPRoute(netns=NS['switch'], flags=0) as switch:\n"
        "        switch.link('set', index=switch.link_lookup(ifname=name)[0], state='up')\n"
        "\n"
        "for name, address in ADDRESSES.items():\n"
        "    netlink(plug, name, address)\n"
    ),
    # on the network, but serving another text
    "server-answer": (
        "server = containers.run('busybox', serve('hello'), detach=True, name='ch08-server', network=NETWORK)\n"
    ),
    # the page decoded to text
    "publish-answer": (
        "public = containers.run('busybox', serve('hello through a published port'), detach=True,\n"
        "                        name='ch08-public', network=NETWORK, publish=['127.0.0.1::80'])\n"
        "host_port = int(containers.inspect('ch08-public')['NetworkSettings']['Ports']['80/tcp'][0]['HostPort'])\n"
        "page = fetch(f'http://127.0.0.1:{host_port}/').decode()\n"
    ),
    # labcore's records instead of the kernel
    "bridge-of-answer": "def bridge_of(name):\n    return networking.get_network(NETWORK).bridge\n",
}

EXPECTED_FAILURES = {
    "cable-check": "10.0.8.1/24",
    "cable-ping": "answered by blue",
    "plug-check": "plugged into br0",
    "plug-another": "yellow must reach red",
    "server-check": "must serve the text",
    "publish-check": "page must hold",
    "bridge-of-live": "must name that bridge",
}


def _tag(root: Path) -> str:
    """The tag the chapter gives its machine-wide names in the lab at ``root`` (see its setup cell)."""
    return hashlib.sha256(str(root.resolve()).encode()).hexdigest()[:8]


def _leftover_namespaces(root: Path) -> list[str]:
    return sorted(path.name for path in Path("/run/netns").glob(f"ch08-{_tag(root)}-*"))


@dataclass(frozen=True)
class Runs:
    """The wrong answers' run (stopped before its cleanup cell) and a solved run after it."""

    wrong: dict[str, CellResult]
    again: dict[str, CellResult]
    root: Path


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Runs]:
    """Hand in the wrong answers without cleaning up, then run the solved notebook on that lab.

    Both notebooks sit in one folder, so they share one LABCORE_ROOT. Whatever a failed run
    leaves (containers, the network, hand-made namespaces) is removed at the end.
    """
    folder = tmp_path_factory.mktemp("ch08-runs")
    root = folder / ROOT_NAME
    wrong = make_notebook(CHAPTER, Variant.GRADING)
    wrong.cells = [cell for cell in wrong.cells if cell["id"] != "cleanup"]
    for cell in wrong.cells:
        if cell["id"] in WRONG_ANSWERS:
            cell.source = WRONG_ANSWERS[cell["id"]]
    wrong_path = folder / "wrong.ipynb"
    write_notebook(wrong_path, wrong)
    again_path = folder / "again.ipynb"
    write_notebook(again_path, make_notebook(CHAPTER, Variant.INSTRUCTOR))
    try:
        wrong_results = run_notebooks([wrong_path], cell_timeout=120, root_name=ROOT_NAME)[wrong_path]
        left_behind = _leftover_namespaces(root)
        again_results = run_notebooks([again_path], cell_timeout=120, root_name=ROOT_NAME)[again_path]
        assert left_behind, "the interrupted run should have left its namespaces for the second run to remove"
        yield Runs(wrong_results, again_results, root)
    finally:
        _remove_everything(root)


def _remove_everything(root: Path) -> None:
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("LABCORE_ROOT", str(root))
        for container in containers.list(all=True):
            containers.remove(container, force=True)
        for item in network.list_networks():
            with contextlib.suppress(LabcoreError):
                network.remove_network(item.name)
    for name in _leftover_namespaces(root):
        network.remove_netns(name)
    links.delete_link(f"c8d{_tag(root)}")


def test_every_cell_ran(runs: Runs) -> None:
    code_cells = [cell["id"] for cell in CHAPTER.notebook.cells if cell.cell_type == "code"]
    assert sorted(runs.wrong) == sorted(set(code_cells) - {"cleanup"})


def test_exactly_the_tests_for_the_mistakes_fail(runs: Runs) -> None:
    failed = {cell_id: result.summary for cell_id, result in runs.wrong.items() if not result.passed}
    assert set(failed) == set(EXPECTED_FAILURES), failed


@pytest.mark.parametrize("cell_id", sorted(EXPECTED_FAILURES))
def test_the_hint_names_the_mistake(runs: Runs, cell_id: str) -> None:
    summary = runs.wrong[cell_id].summary
    assert summary.startswith("hint:"), summary
    assert EXPECTED_FAILURES[cell_id] in summary


def test_the_correct_half_of_an_answer_still_scores(runs: Runs) -> None:
    """The wrong page is still served from the container's own namespace, the rule is in place..."""
    assert runs.wrong["server-kernel"].passed
    assert runs.wrong["publish-rule"].passed
    assert runs.wrong["bridge-of-check"].passed


def test_a_second_run_on_the_leftovers_passes_and_cleans_up(runs: Runs) -> None:
    assert {cell_id: result.summary for cell_id, result in runs.again.items() if not result.passed} == {}
    assert len(runs.again) == len([cell for cell in CHAPTER.notebook.cells if cell.cell_type == "code"])
    assert _leftover_namespaces(runs.root) == []
    assert not links.link_exists(f"c8d{_tag(runs.root)}")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("LABCORE_ROOT", str(runs.root))
        assert [container.name for container in containers.list(all=True)] == []
        assert [item.name for item in network.list_networks() if item.name.startswith("ch08-")] == []
