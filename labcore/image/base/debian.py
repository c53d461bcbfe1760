"""The Debian base image's root filesystem, made with ``debootstrap`` and cached as a tarball.

debootstrap downloads and unpacks a few hundred megabytes, so its result is kept as an
uncompressed tar under ``$LABCORE_CACHE/debootstrap/<suite>-<arch>-<variant>.tar`` and reused by
every labcore root on this host. The packages come from the mirror the host's apt already uses.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

from labcore.errors import SystemSetupError, UsageError
from labcore.image.base.cache import cache_root
from labcore.image.base.dirtar import write_directory_tar
from labcore.image.base.platform import debian_architecture

__all__ = ["APT_SOURCES", "debian_mirror", "debian_rootfs_tarball", "skip_in_rootfs"]

APT_SOURCES = (Path("/etc/apt/sources.list.d/debian.sources"), Path("/etc/apt/sources.list"))

# Directories whose contents do not belong in an image: kernel filesystems and device nodes the
# runtime provides, and apt's download caches (as Debian's own images leave them out).
_EMPTY_IN_IMAGE = frozenset(
    {"dev", "proc", "sys", "run", "tmp", "var/cache/apt/archives", "var/lib/apt/lists", "debootstrap"}
)
_NAME_RE = re.compile(r"^[a-z][a-z0-9.+-]*$")


def skip_in_rootfs(path: str) -> bool:
    """True for directories of a debootstrap tree whose contents stay out of the image."""
    return path in _EMPTY_IN_IMAGE


def _mirrors_in_deb822(text: str) -> list[str]:
    found = []
    for stanza in re.split(r"\n\s*\n", text):
        fields: dict[str, str] = {}
        for line in stanza.splitlines():
            if line.startswith("#") or ":" not in line or line[0].isspace():
                continue
            key, _, value = line.partition(":")
            fields[key.strip().lower()] = value.strip()
        suites = fields.get("suites", "").split()
        if "deb" in fields.get("types", "").split() and any("-" not in suite for suite in suites):
            found.extend(fields.get("uris", "").split())
    return found


def _mirrors_in_one_line(text: str) -> list[str]:
    found = []
    for line in text.splitlines():
        words = [word for word in line.split() if not word.startswith("[")]
        if len(words) >= 3 and words[0] == "deb" and "-" not in words[2]:
            found.append(words[1])
    return found


def debian_mirror(sources: tuple[Path, ...] = APT_SOURCES) -> str:
    """The Debian archive URI the host's apt is configured with (first match wins)."""
    for path in sources:
        if not path.is_file():
            continue
        text = path.read_text(encoding="utf-8")
        mirrors = _mirrors_in_deb822(text) if path.suffix == ".sources" else _mirrors_in_one_line(text)
        if mirrors:
            return mirrors[0]
    raise SystemSetupError(
        "no Debian mirror found in " + ", ".join(str(path) for path in sources),
        hint="configure apt with a Debian archive (a 'deb' source for the main suite), or pass a mirror",
    )


def _check_name(kind: str, value: str) -> None:
    if not _NAME_RE.match(value):
        raise UsageError(f"invalid debootstrap {kind} {value!r}",
                         hint=f"use a Debian {kind} name such as bookworm, amd64 or minbase")


def debian_rootfs_tarball(suite: str = "bookworm", arch: str | None = None, variant: str = "minbase",
                          mirror: str | None = None) -> Path:
    """Path of the cached rootfs tarball for ``suite``/``arch``/``variant``, running debootstrap if needed."""
    arch = arch or debian_architecture()
    for kind, value in (("suite", suite), ("architecture", arch), ("variant", variant)):
        _check_name(kind, value)
    tarball = cache_root() / "debootstrap" / f"{suite}-{arch}-{variant}.tar"
    if tarball.is_file():
        return tarball
    if shutil.which("debootstrap") is None:
        raise SystemSetupError("debootstrap is not installed", hint="apt-get install debootstrap")
    tarball.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=tarball.parent, prefix=f".{suite}-") as workdir:
        target = Path(workdir) / "rootfs"
        # a private mount namespace: whatever debootstrap mounts inside the target (proc, sys)
        # disappears with it, even when it fails half-way
        command = ["unshare", "--mount", "--propagation", "private", "debootstrap", f"--variant={variant}",
                   f"--arch={arch}", suite, str(target), mirror or debian_mirror()]
        result = subprocess.run(command, capture_output=True, text=True, check=False)
        if result.returncode != 0:
            tail = "\n".join((result.stdout + result.stderr).strip().splitlines()[-5:])
            raise SystemSetupError(f"debootstrap {suite} failed:\n{tail}",
                                   hint="check the network path to the Debian mirror and retry")
        partial = Path(workdir) / "rootfs.tar"
        with partial.open("wb") as file:
            write_directory_tar(target, file, skip_in_rootfs)
            file.flush()
            os.fsync(file.fileno())
        partial.rename(tarball)
    return tarball
