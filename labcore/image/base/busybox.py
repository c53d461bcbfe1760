"""The busybox base image's root filesystem, written as one layer from the host's static busybox.

The rootfs holds ``/bin/busybox`` plus one symbolic link per applet at the path the binary itself
reports (``busybox --list-full``), a minimal ``/etc/passwd`` and ``/etc/group``, and the empty
directories programs expect (``/tmp`` sticky and world-writable, ``/root`` private).
"""

from __future__ import annotations

import subprocess
from pathlib import Path

from labcore.errors import SystemSetupError
from labcore.image.base.elf import is_static_executable
from labcore.image.base.tarwriter import LayerWriter

__all__ = [
    "BUSYBOX_BINARY",
    "EMPTY_DIRECTORIES",
    "USER_ACCOUNTS",
    "USER_GROUPS",
    "busybox_applets",
    "busybox_version",
    "check_busybox_binary",
    "write_busybox_rootfs",
]

BUSYBOX_BINARY = Path("/bin/busybox")

#: Directories (and modes) every busybox image has, besides those that hold applets.
EMPTY_DIRECTORIES: dict[str, int] = {
    "bin": 0o755,
    "dev": 0o755,
    "etc": 0o755,
    "home": 0o755,
    "proc": 0o555,
    "root": 0o700,
    "sbin": 0o755,
    "sys": 0o555,
    "tmp": 0o1777,
    "usr": 0o755,
    "usr/bin": 0o755,
    "usr/sbin": 0o755,
    "var": 0o755,
    "var/spool": 0o755,
    "var/spool/mail": 0o755,
    "var/tmp": 0o1777,
    "var/www": 0o755,
}

USER_ACCOUNTS = """\
root:x:0:0:root:/root:/bin/sh
daemon:x:1:1:daemon:/usr/sbin:/bin/false
bin:x:2:2:bin:/bin:/bin/false
sys:x:3:3:sys:/dev:/bin/false
sync:x:4:100:sync:/bin:/bin/sync
mail:x:8:8:mail:/var/spool/mail:/bin/false
www-data:x:33:33:www-data:/var/www:/bin/false
operator:x:37:37:Operator:/var:/bin/false
nobody:x:65534:65534:nobody:/home:/bin/false
"""

USER_GROUPS = """\
root:x:0:
daemon:x:1:
bin:x:2:
sys:x:3:
adm:x:4:
tty:x:5:
disk:x:6:
wheel:x:10:root
mail:x:12:
www-data:x:33:
operator:x:37:
staff:x:50:
users:x:100:
nogroup:x:65534:
"""


def check_busybox_binary(binary: Path) -> None:
    """Raise :class:`SystemSetupError` unless ``binary`` is a static executable that can go in an image."""
    if not binary.is_file():
        raise SystemSetupError(f"busybox binary {binary} not found", hint="apt-get install busybox-static")
    if not is_static_executable(binary):
        raise SystemSetupError(
            f"busybox binary {binary} is not a static executable; it would not run inside the image",
            hint="apt-get install busybox-static (the plain busybox package is dynamically linked)",
        )


def busybox_applets(binary: Path = BUSYBOX_BINARY) -> list[str]:
    """The applet paths ``binary`` installs itself as, relative to the root (``bin/ls``...).

    The binary itself and applets meant for the root directory (``linuxrc``) are left out.
    """
    check_busybox_binary(binary)
    listing = subprocess.run([str(binary), "--list-full"], capture_output=True, text=True, check=True).stdout
    applets = {line.strip().strip("/") for line in listing.splitlines()}
    return sorted(path for path in applets if "/" in path and path != "bin/busybox")


def busybox_version(binary: Path = BUSYBOX_BINARY) -> str:
    """The version the binary reports, e.g. ``1.35.0``; empty if it does not say."""
    banner = subprocess.run([str(binary), "--help"], capture_output=True, text=True, check=False).stdout
    first = banner.splitlines()[0] if banner else ""
    words = first.split()
    return words[1].lstrip("v") if len(words) > 1 and words[0] == "BusyBox" else ""


def write_busybox_rootfs(writer: LayerWriter, binary: Path = BUSYBOX_BINARY) -> int:
    """Write the whole busybox root filesystem into ``writer``; return the number of applet links."""
    applets = busybox_applets(binary)
    directories = dict(EMPTY_DIRECTORIES)
    for applet in applets:
        parent = applet.rpartition("/")[0]
        while parent:
            directories.setdefault(parent, 0o755)
            parent = parent.rpartition("/")[0]
    for path in sorted(directories):
        writer.directory(path, directories[path])
    writer.file_copy("bin/busybox", binary, 0o755)
    for applet in applets:
        writer.symlink(applet, "/bin/busybox")
    writer.file_bytes("etc/passwd", USER_ACCOUNTS.encode())
    writer.file_bytes("etc/group", USER_GROUPS.encode())
    return len(applets)
