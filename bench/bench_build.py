"""Build one 10-step Dockerfile with labcore, `buildah bud` and `docker build`, cold, cached and after a change.

Run as root, with a private LABCORE_ROOT so the lab's store is left alone::

    R=$(mktemp -d); LABCORE_ROOT=$R/root .venv/bin/python bench/bench_build.py [--runs N] [--skip PEER]; rm -rf $R

busybox:latest is made in $LABCORE_ROOT (left for the caller to remove); every labcore build uses a
fresh root holding a copy of that store, and all else lives in a temporary directory removed at the end.

The Dockerfile (FROM busybox, ENV, WORKDIR, RUN, COPY src/, RUN, COPY app.sh, RUN, RUN, CMD) is built
three ways by every tool, with the same busybox base (labcore's ``busybox:latest``, copied into
buildah's storage with skopeo and into dockerd with ``docker load`` of a ``labcore save`` archive):

- cold: an empty build cache (a fresh labcore root / buildah storage, the docker images removed);
- cached: the same build again, every step reused;
- changed: ``src/f2.txt`` (copied by step 5 of 10) gets new content, so steps 5-10 run again.

Tools: labcore in-process (``labcore.build.build``), the ``labcore build`` command (with bytecode
cached in a temporary PYTHONPYCACHEPREFIX, as an installed package has it, and once more compiling
from source as this venv's PYTHONDONTWRITEBYTECODE=1 makes it), ``buildah bud
--layers`` (chroot isolation, overlay storage in a temporary directory), and ``docker build`` with the
classic builder and with BuildKit, against a dockerd started here inside a network namespace made for
it (loopback only) and stopped, with its netns, cgroups and directories removed, even on failure.
Each figure is the median of ``--runs`` builds; the runs of the tools are interleaved, and every
tool builds once, untimed, before timing starts. The table and its ratios go to
bench/RESULTS-build.md, followed by where a cached ``labcore build`` command spends its time
(startup floors and a cProfile; ``--no-profile`` leaves that out).
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import os
import platform
import re
import resource
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from labcore.linux.mount import UmountFlag, umount
from labcore.linux.mountinfo import mounts

RESULTS = Path(__file__).resolve().parent / "RESULTS-build.md"
PYTHON = Path(sys.executable)
LABCORE = PYTHON.parent / "labcore"  # the venv's entry point, what users run
DOCKER = "/usr/bin/docker"  # the client of Debian's docker.io, the same version as its dockerd
DOCKERD = "/usr/sbin/dockerd"
SCENARIOS = ("cold", "cached", "changed")
STEPS = 10
CHANGED_FILE = "src/f2.txt"
NOTES_HEADING = "## Analysis"  # the results file keeps this section across runs
REUSE_MARK = re.compile(r"-> Using cache|^#\d+ CACHED", re.MULTILINE)

DOCKERFILE = """\
FROM busybox
ENV GREETING=hello APP_HOME=/app
WORKDIR /app
RUN mkdir -p /app/data && echo base > /app/data/base.txt
COPY src/ /app/src/
RUN cat /app/src/*.txt > /app/data/all.txt && wc -l /app/data/all.txt
COPY app.sh /app/app.sh
RUN chmod +x /app/app.sh && echo "$GREETING" > /app/data/greeting.txt
RUN ls -l /app /app/src > /app/data/listing.txt
CMD ["/app/app.sh"]
"""


def write_context(context: Path) -> None:
    """The build context: the Dockerfile, three files under src/ and a script."""
    (context / "src").mkdir(parents=True)
    (context / "Dockerfile").write_text(DOCKERFILE)
    for number in (1, 2, 3):
        (context / "src" / f"f{number}.txt").write_text(f"file {number}\n" * 50)
    (context / "app.sh").write_text("#!/bin/sh\ncat /app/data/greeting.txt\n")


def change_copied_file(context: Path, run: int) -> None:
    """Give the file step 5 copies content no build has seen, so every tool rebuilds from there on."""
    (context / CHANGED_FILE).write_text(f"file 2, changed for run {run} at {time.time_ns()}\n")


def run_tool(argv: list[str], env: dict[str, str] | None = None, cwd: Path | None = None) -> str:
    """Run a command to completion; return its output, or fail with its last lines."""
    done = subprocess.run(argv, env=env, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          text=True, check=False)
    if done.returncode != 0:
        tail = "\n".join(done.stdout.splitlines()[-20:])
        raise RuntimeError(f"{' '.join(argv[:4])} ... failed with exit code {done.returncode}:\n{tail}")
    return done.stdout


def unmount_under(directory: Path) -> None:
    """Detach every mount at or below ``directory``, deepest first (what a crashed peer left)."""
    prefix = str(directory.resolve())
    targets = [entry.target for entry in mounts()
               if entry.target == prefix or entry.target.startswith(prefix + "/")]
    for target in sorted(set(targets), key=len, reverse=True):
        with contextlib.suppress(OSError):
            umount(target, UmountFlag.DETACH)


# --------------------------------------------------------------------------------------------- tools


class Tool:
    """One way of building: ``reset`` empties its cache, ``build`` builds and says how many steps it reused."""

    name = ""

    def reset(self) -> None:
        """Make the next build a cold one (untimed)."""

    def build(self) -> int:
        """Build the context, tagged; return the number of steps taken from the cache."""
        raise NotImplementedError

    def close(self) -> None:
        """Stop whatever the tool started and remove its files."""


class LabcoreRoots:
    """Fresh labcore roots under ``work``, each holding a copy of the store of ``template`` (busybox:latest)."""

    def __init__(self, template: Path, work: Path) -> None:
        from labcore.image.base import busybox_image

        self.template, self.work = template, work
        os.environ["LABCORE_ROOT"] = str(template)
        busybox_image()
        self.count = 0

    @property
    def store(self) -> Path:
        """The template's store, an OCI layout with busybox:latest."""
        return self.template / "store"

    def fresh(self) -> Path:
        """A new root with only the busybox image: no build cache, no snapshots."""
        self.count += 1
        root = self.work / f"root-{self.count}"
        shutil.copytree(self.store, root / "store", symlinks=True)
        return root


class LabcoreApi(Tool):
    """``labcore.build.build`` called in this process."""

    name = "labcore (API)"

    def __init__(self, roots: LabcoreRoots, context: Path) -> None:
        self.roots, self.context = roots, context
        self.reset()

    def reset(self) -> None:
        os.environ["LABCORE_ROOT"] = str(self.roots.fresh())

    def build(self) -> int:
        from labcore.build import build

        result = build(self.context, tags=["bench/build:api"], progress="quiet", output=lambda _: None)
        return result.cached_steps - 1  # FROM counts as cached


class LabcoreCli(Tool):
    """The ``labcore build`` command, a new Python process each time.

    With ``pycache``, bytecode is cached there (as for an installed package); with None, every
    run compiles labcore's modules from source, as in this repo's venv (PYTHONDONTWRITEBYTECODE=1).
    """

    def __init__(self, roots: LabcoreRoots, context: Path, pycache: Path | None) -> None:
        self.roots, self.context = roots, context
        self.env = {key: value for key, value in os.environ.items()
                    if key not in ("PYTHONDONTWRITEBYTECODE", "PYTHONPYCACHEPREFIX")}
        if pycache is None:
            self.name = "labcore build (no .pyc)"
            self.env["PYTHONDONTWRITEBYTECODE"] = "1"
        else:
            self.name = "labcore build"
            self.env["PYTHONPYCACHEPREFIX"] = str(pycache)
        self.reset()

    def reset(self) -> None:
        self.env["LABCORE_ROOT"] = str(self.roots.fresh())

    def arguments(self) -> list[str]:
        """The arguments after ``labcore``, also used for the profile."""
        return ["build", "-t", "bench/build:cli", "--progress", "plain", str(self.context)]

    def build(self) -> int:
        return len(REUSE_MARK.findall(run_tool([str(LABCORE), *self.arguments()], env=self.env)))


class LabcoreServedCli(LabcoreCli):
    """The ``labcore build`` command with a command server (``labcore server``) running for its root."""

    def __init__(self, roots: LabcoreRoots, context: Path, pycache: Path) -> None:
        self.server_env: dict[str, str] | None = None
        super().__init__(roots, context, pycache)
        self.name = "labcore build (with labcore server)"

    def reset(self) -> None:
        self.close()
        super().reset()
        self.server_env = dict(self.env)
        run_tool([str(LABCORE), "server", "start"], env=self.server_env)  # untimed, as the cache reset

    def close(self) -> None:
        if self.server_env is not None:
            run_tool([str(LABCORE), "server", "stop"], env=self.server_env)
            self.server_env = None


class Buildah(Tool):
    """``buildah bud --layers --isolation chroot`` with overlay storage under a temporary directory."""

    name = "buildah bud"

    def __init__(self, work: Path, base_layout: Path, context: Path) -> None:
        self.work, self.base_layout, self.context = work, base_layout, context
        self.count = 0
        self.storage: Path = work
        self.reset()

    def options(self) -> list[str]:
        """Where this storage lives; never the host's /var/lib/containers."""
        return ["--root", str(self.storage / "root"), "--runroot", str(self.storage / "runroot"),
                "--storage-driver", "overlay"]

    def reset(self) -> None:
        self.count += 1
        self.storage = self.work / f"storage-{self.count}"
        target = f"overlay@{self.storage / 'root'}+{self.storage / 'runroot'}"
        run_tool(["skopeo", "copy", "-q", f"oci:{self.base_layout}:docker.io/library/busybox:latest",
                  f"containers-storage:[{target}]docker.io/library/busybox:latest"])

    def build(self) -> int:
        output = run_tool(["buildah", *self.options(), "bud", "--isolation", "chroot", "--layers",
                           "-t", "bench/build:buildah", str(self.context)])
        return len(REUSE_MARK.findall(output))

    def close(self) -> None:
        with contextlib.suppress(RuntimeError):
            run_tool(["buildah", *self.options(), "rm", "--all"])
        unmount_under(self.work)
        shutil.rmtree(self.work, ignore_errors=True)


class Dockerd:
    """A dockerd of our own: its own netns (loopback only), data, exec root, socket and cgroup parent."""

    def __init__(self, work: Path) -> None:
        self.work = work
        self.name = f"lcbench-build-{os.getpid()}"
        self.socket = work / "docker.sock"
        self.log = work / "dockerd.log"
        self.process: subprocess.Popen[bytes] | None = None
        self.netns_made = False
        # dockerd writes these outside its roots; remove them afterwards only if we made them
        self.host_leftovers = [path for path in (Path("/etc/docker/key.json"), Path("/run/docker"),
                                                 Path("/run/containerd"))  # the shims' sockets dir
                               if not path.exists()]
        self.env = {**os.environ, "DOCKER_CONFIG": str(work / "client-config")}

    def start(self) -> None:
        """Start dockerd in a new netns and wait until it answers."""
        self.work.mkdir(parents=True, exist_ok=True)
        run_tool(["ip", "netns", "add", self.name])
        self.netns_made = True
        run_tool(["ip", "netns", "exec", self.name, "ip", "link", "set", "lo", "up"])
        config = self.work / "daemon.json"
        config.write_text("{}\n")
        # nsenter --net, not `ip netns exec`: that remounts /sys, hiding the cgroup mounts from dockerd
        argv = ["nsenter", f"--net=/run/netns/{self.name}", DOCKERD, "--config-file", str(config),
                "--data-root", str(self.work / "data"), "--exec-root", str(self.work / "exec"),
                "--pidfile", str(self.work / "dockerd.pid"), "--host", f"unix://{self.socket}",
                "--bridge", "none", "--iptables=false", "--ip6tables=false", "--ip-masq=false",
                "--storage-driver", "overlay2", "--cgroup-parent", self.name]
        with self.log.open("wb") as log:
            self.process = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + 60
        while subprocess.run(self.client("version"), env=self.env, capture_output=True, check=False).returncode:
            if self.process.poll() is not None or time.monotonic() > deadline:
                tail = "\n".join(self.log.read_text(errors="replace").splitlines()[-15:])
                raise RuntimeError(f"dockerd did not come up:\n{tail}")
            time.sleep(0.2)

    def client(self, *words: str) -> list[str]:
        """A docker command line against this daemon."""
        return [DOCKER, "-H", f"unix://{self.socket}", *words]

    def version(self) -> str:
        """The daemon's version."""
        return run_tool(self.client("version", "--format", "{{.Server.Version}}"), env=self.env).strip()

    def stop(self) -> None:
        """Stop dockerd (and the containerd it started), then remove its netns, cgroups and files."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.process.pid, signal.SIGKILL)  # its own session: dockerd and containerd
                self.process.wait()
        unmount_under(self.work)
        self.remove_cgroups()
        if self.netns_made:
            subprocess.run(["ip", "netns", "delete", self.name], check=False)
        for path in self.host_leftovers:
            if path.is_dir():
                shutil.rmtree(path, ignore_errors=True)
            else:
                path.unlink(missing_ok=True)
        shutil.rmtree(self.work, ignore_errors=True)

    def remove_cgroups(self) -> None:
        """rmdir the (now empty) cgroups dockerd and BuildKit made under our cgroup parent, in every hierarchy."""
        found = []
        for directory, subdirs, _ in os.walk("/sys/fs/cgroup"):
            if Path(directory).name == self.name:
                found.append(Path(directory))
                subdirs.clear()
        for top in found:
            for directory, _, _ in sorted(os.walk(top), key=lambda item: -len(item[0])):
                with contextlib.suppress(OSError):
                    os.rmdir(directory)


class DockerBuild(Tool):
    """``docker build`` against our dockerd, with the classic builder or BuildKit."""

    def __init__(self, daemon: Dockerd, context: Path, buildkit: bool) -> None:
        self.daemon, self.context, self.buildkit = daemon, context, buildkit
        self.name = "docker build (BuildKit)" if buildkit else "docker build (classic)"
        self.tag = "bench/build:buildkit" if buildkit else "bench/build:classic"
        self.env = {**daemon.env, "DOCKER_BUILDKIT": "1" if buildkit else "0"}

    def reset(self) -> None:
        client = self.daemon.client
        subprocess.run(client("rmi", "-f", self.tag), env=self.env, capture_output=True, check=False)
        run_tool(client("image", "prune", "-f"), env=self.env)
        run_tool(client("builder", "prune", "-af"), env=self.env)
        left = run_tool(client("images", "--format", "{{.Repository}}:{{.Tag}}"), env=self.env).split()
        if "busybox:latest" not in left:
            raise RuntimeError(f"docker lost its busybox base: {left}")

    def build(self) -> int:
        # our dockerd has no bridge; RUN steps need no network
        argv = self.daemon.client("build", "--network", "none", "-t", self.tag, str(self.context))
        if self.buildkit:
            argv[-1:-1] = ["--progress", "plain"]
        return len(REUSE_MARK.findall(run_tool(argv, env=self.env)))


# ---------------------------------------------------------------------------------------------- run


def measure(tools: list[Tool], context: Path, runs: int) -> dict[str, dict[str, list[tuple[float, int]]]]:
    """Time every tool in every scenario, ``runs`` times each, interleaving the tools."""
    samples: dict[str, dict[str, list[tuple[float, int]]]] = {tool.name: {s: [] for s in SCENARIOS} for tool in tools}
    for tool in tools:  # warm-up: imports, page cache, daemons' first build
        tool.build()
    for scenario in SCENARIOS:
        for run in range(runs):
            if scenario == "changed":
                change_copied_file(context, run)
            for tool in tools:
                if scenario == "cold":
                    tool.reset()
                start = time.perf_counter()
                reused = tool.build()
                samples[tool.name][scenario].append((time.perf_counter() - start, reused))
            print(f"{scenario} run {run + 1}/{runs}: " + ", ".join(
                f"{tool.name} {samples[tool.name][scenario][-1][0]:.3f}s" for tool in tools), flush=True)
    return samples


def check_reuse(samples: dict[str, dict[str, list[tuple[float, int]]]]) -> None:
    """Every tool must really have built cold, reused in the cached build, and rebuilt after the change."""
    for name, scenarios in samples.items():
        cold = {reused for _, reused in scenarios["cold"]}
        cached = {reused for _, reused in scenarios["cached"]}
        changed = {reused for _, reused in scenarios["changed"]}
        if cold != {0} or len(cached) != 1 or len(changed) != 1 or not max(changed) < min(cached):
            raise RuntimeError(f"{name}: unexpected cache reuse: cold {cold}, cached {cached}, changed {changed}")


def where_time_goes(cli: LabcoreCli, rounds: int = 9) -> str:
    """Where a cached ``labcore build`` command spends its time: startup floors, then a cProfile."""
    floors = {
        "`python -c pass` (interpreter and site)": [str(PYTHON), "-c", "pass"],
        "`labcore --help` (+ CLI discovery and parser)": [str(LABCORE), "--help"],
        "`python -c 'import labcore.build'`": [str(PYTHON), "-c", "import labcore.build"],
        "`labcore build` of the cached context": [str(LABCORE), *cli.arguments()],
    }
    lines = ["| what (bytecode cached) | median wall (s) | median CPU, user + sys (s) |", "|---|---|---|"]
    for label, argv in floors.items():
        walls, cpus = [], []
        for _ in range(rounds):
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            start = time.perf_counter()
            run_tool(argv, env=cli.env)
            walls.append(time.perf_counter() - start)
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            cpus.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
        lines.append(f"| {label} | {statistics.median(walls):.3f} | {statistics.median(cpus):.3f} |")
    output = run_tool([str(PYTHON), "-m", "cProfile", "-s", "cumulative", "-m", "labcore", *cli.arguments()],
                      env=cli.env)
    profile = output.splitlines()
    start = next(number for number, line in enumerate(profile) if "ncalls" in line)
    lines += ["", "cProfile of one cached `labcore build` command (top 40 by cumulative time):", "", "```",
              *profile[start - 2: start + 40], "```"]
    return "\n".join(lines)


def tool_versions(tools: list[Tool], daemon: Dockerd | None) -> str:
    """The peers' versions, for the results."""
    parts = []
    if any(isinstance(tool, Buildah) for tool in tools):
        parts.append(run_tool(["buildah", "--version"]).strip())
    if daemon is not None:
        parts.append(f"dockerd {daemon.version()} (overlay2, netns {daemon.name}, loopback only)")
    return "; ".join(parts)


def report(samples: dict[str, dict[str, list[tuple[float, int]]]], args: argparse.Namespace, versions: str,
           load: tuple[float, float], profile: str | None) -> str:
    """The Markdown results: medians, steps reused, ratios labcore / peer, the goal."""
    medians = {name: {s: statistics.median(t for t, _ in runs) for s, runs in scenarios.items()}
               for name, scenarios in samples.items()}
    reused = {name: {s: runs[0][1] for s, runs in scenarios.items()} for name, scenarios in samples.items()}
    command = " ".join(["R=$(mktemp -d); LABCORE_ROOT=$R/root .venv/bin/python bench/bench_build.py",
                        *sys.argv[1:]]) + "; rm -rf $R"
    lines = [
        "# Dockerfile builds: labcore vs buildah bud and docker build",
        "",
        f"Command (as root): `{command}`",
        f"Date: {datetime.datetime.now(datetime.UTC):%Y-%m-%d %H:%M} UTC. Machine: {platform.machine()}, "
        f"{os.cpu_count()} CPUs, Linux {platform.release()}, Debian 12, Python {platform.python_version()}, "
        f"hybrid cgroups (v1 controllers); 1-minute load average {load[0]:.1f} at the start, {load[1]:.1f} at "
        "the end (other jobs share this machine, so absolute times vary between runs; the interleaved ratios "
        "vary less).",
        f"Peers: {versions}.",
        f"A {STEPS}-step Dockerfile on labcore's busybox base (see `DOCKERFILE` in the script); medians of "
        f"{args.runs} runs per scenario, tools interleaved, one untimed warm-up build each. "
        f"*cold*: empty build cache; *cached*: the same build again; *changed*: `{CHANGED_FILE}` "
        "(copied by step 5) has new content. Reused = steps each tool reported as taken from its cache "
        "(BuildKit does not count metadata steps).",
        "",
        "| tool | cold (s) | cached (s) | changed (s) | reused cold / cached / changed |",
        "|---|---|---|---|---|",
    ]
    for name in medians:
        m, r = medians[name], reused[name]
        lines.append(f"| {name} | {m['cold']:.3f} | {m['cached']:.3f} | {m['changed']:.3f} | "
                     f"{r['cold']} / {r['cached']} / {r['changed']} |")
    ours = [name for name in medians if name.startswith("labcore") and "no .pyc" not in name]
    peers = [name for name in medians if not name.startswith("labcore")]
    if peers:
        lines += ["", "Ratios (labcore / peer; below 1 means labcore is faster):", "",
                  "| labcore / peer | cold | cached | changed |", "|---|---|---|---|"]
        for mine in ours:
            for peer in peers:
                cells = " | ".join(f"{medians[mine][s] / medians[peer][s]:.3f}" for s in SCENARIOS)
                lines.append(f"| {mine} / {peer} | {cells} |")
    lines += ["", "Goal (issue 7): the cached rebuild under 0.5 s and faster than every peer:", ""]
    for mine in ours:
        cached = medians[mine]["cached"]
        fastest_peer = min((medians[peer]["cached"] for peer in peers), default=float("inf"))
        verdict = "met" if cached < 0.5 and cached < fastest_peer else "missed"
        lines.append(f"- {mine}: {cached:.3f} s, fastest peer {fastest_peer:.3f} s: **{verdict}**")
    if profile:
        lines += ["", "## Where the cached `labcore build` command spends its time", "", profile]
    return "\n".join(lines) + "\n"


def write_results(text: str) -> None:
    """Write the results file atomically, keeping its hand-written section (from ``NOTES_HEADING`` on)."""
    old = RESULTS.read_text() if RESULTS.exists() else ""
    notes = old[old.index(NOTES_HEADING):] if NOTES_HEADING in old else ""
    temporary = RESULTS.with_suffix(".tmp")
    with temporary.open("w") as out:
        out.write(text + ("\n" + notes if notes else ""))
        out.flush()
        os.fsync(out.fileno())
    temporary.replace(RESULTS)


@contextlib.contextmanager
def started_dockerd(work: Path, archive: Path) -> Iterator[Dockerd]:
    """A running dockerd with busybox:latest loaded; always stopped and cleaned afterwards."""
    daemon = Dockerd(work)
    try:
        daemon.start()
        run_tool(daemon.client("load", "-i", str(archive)), env=daemon.env)
        yield daemon
    finally:
        daemon.stop()


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="builds per scenario and tool (default 5)")
    parser.add_argument("--skip", action="append", default=[], choices=["buildah", "docker", "buildkit"],
                        help="leave a peer out (repeatable)")
    parser.add_argument("--no-profile", action="store_true",
                        help="leave out the startup figures and the cProfile of a cached `labcore build`")
    args = parser.parse_args()
    if os.geteuid() != 0:
        parser.error("run as root: builds mount overlays and run containers")
    if not os.environ.get("LABCORE_ROOT"):
        parser.error("set LABCORE_ROOT to a private directory, e.g. LABCORE_ROOT=$(mktemp -d)/root")

    # a TERM or INT (even when started in the background) unwinds through the clean-up below
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(128 + signal.SIGTERM))
    signal.signal(signal.SIGINT, signal.default_int_handler)
    work = Path(tempfile.mkdtemp(prefix="bench-build-"))
    load_at_start = os.getloadavg()[0]
    tools: list[Tool] = []
    try:
        context = work / "context"
        write_context(context)
        roots = LabcoreRoots(Path(os.environ["LABCORE_ROOT"]), work / "labcore")
        from labcore.image.archive import save_images

        archive = work / "busybox.tar"
        save_images(["busybox:latest"], archive)
        cli = LabcoreCli(roots, context, pycache=work / "pycache")
        tools += [LabcoreApi(roots, context), cli, LabcoreServedCli(roots, context, pycache=work / "pycache"),
                  LabcoreCli(roots, context, pycache=None)]
        if "buildah" not in args.skip and shutil.which("buildah"):
            tools.append(Buildah(work / "buildah", roots.store, context))
        with contextlib.ExitStack() as stack:
            daemon = None
            if not {"docker", "buildkit"} <= set(args.skip) and Path(DOCKERD).exists():
                daemon = stack.enter_context(started_dockerd(work / "docker", archive))
                if "docker" not in args.skip:
                    tools.append(DockerBuild(daemon, context, buildkit=False))
                if "buildkit" not in args.skip:
                    tools.append(DockerBuild(daemon, context, buildkit=True))
            samples = measure(tools, context, args.runs)
            versions = tool_versions(tools, daemon)
        check_reuse(samples)
        profile = None if args.no_profile else where_time_goes(cli)
        text = report(samples, args, versions, (load_at_start, os.getloadavg()[0]), profile)
        print(text)
        write_results(text)
    finally:
        for tool in tools:
            tool.close()
        unmount_under(work)
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
