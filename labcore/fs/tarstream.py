"""A streaming tar reader that hashes every byte it consumes.

Layers are read once, front to back, from a pipe or a decompressor, so this reader never seeks.
It understands what OCI layers contain: ustar and GNU headers, PAX extended headers (long names,
big numbers, sub-second mtimes, ``SCHILY.xattr.*``), GNU long names and global PAX headers. GNU
sparse files are refused. The sha256 of the whole uncompressed stream, trailing padding included,
is the layer's ``diff_id``; :attr:`HashingReader.size` and :meth:`HashingReader.digest` give it.
"""

from __future__ import annotations

import os
import struct
import tarfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import BinaryIO, NamedTuple

from labcore.digest import Digest
from labcore.errors import LayerError
from labcore.fs.hashing import BackgroundHasher

__all__ = ["BLOCK", "HashingReader", "TarEntry", "TarFormatError", "iter_entries"]

BLOCK = 512
_READ_SIZE = 1 << 20
_ZERO_BLOCK = bytes(BLOCK)
_NO_PAX: dict[str, bytes] = {}
_DEVICE_TYPES = (tarfile.CHRTYPE, tarfile.BLKTYPE)
_XATTR_PREFIX = "SCHILY.xattr."
_REGULAR_TYPES = (tarfile.REGTYPE, tarfile.AREGTYPE, tarfile.CONTTYPE)
_EXTENSION_TYPES = (tarfile.XHDTYPE, tarfile.XGLTYPE, tarfile.GNUTYPE_LONGNAME, tarfile.GNUTYPE_LONGLINK)
_KNOWN_TYPES = (
    *_REGULAR_TYPES,
    tarfile.LNKTYPE,
    tarfile.SYMTYPE,
    tarfile.CHRTYPE,
    tarfile.BLKTYPE,
    tarfile.DIRTYPE,
    tarfile.FIFOTYPE,
)


class TarFormatError(LayerError):
    """A layer stream that is not a tar archive labcore can read."""

    default_hint = "the layer blob is truncated, not a tar archive, or still compressed"


@dataclass(slots=True)
class TarEntry:
    """One member of a tar stream, with PAX and GNU extensions already merged in."""

    name: str
    type: bytes
    mode: int
    uid: int
    gid: int
    size: int
    mtime_ns: int
    linkname: str
    devmajor: int
    devminor: int
    xattrs: dict[str, bytes] = field(default_factory=dict)

    @property
    def is_regular(self) -> bool:
        """True for a regular file (including the obsolete contiguous type)."""
        return self.type in _REGULAR_TYPES

    @property
    def is_dir(self) -> bool:
        """True for a directory."""
        return self.type == tarfile.DIRTYPE


class HashingReader:
    """Reads a binary stream in large chunks, hashing (sha256) and counting what it consumes.

    With ``background=True`` the hashing runs on a second thread; close the reader then.
    """

    def __init__(self, raw: BinaryIO, *, background: bool = False) -> None:
        self._raw = raw
        # hashing on a second thread is faster, but then the reader must be closed (or used in a
        # with block) so that the thread ends
        self._hash = BackgroundHasher(threaded=background)
        self._buffer = b""
        self._offset = 0
        self.size = 0  # bytes pulled from the stream so far
        self.position = 0  # bytes handed to the caller so far

    def _fill(self) -> bool:
        chunk = self._raw.read(_READ_SIZE)
        if not chunk:
            return False
        self._hash.update(chunk)
        self.size += len(chunk)
        self._buffer = self._buffer[self._offset :] + chunk if self._offset < len(self._buffer) else chunk
        self._offset = 0
        return True

    def read_exact(self, count: int) -> bytes:
        """Exactly ``count`` bytes; fewer only at end of stream."""
        while len(self._buffer) - self._offset < count:
            if not self._fill():
                break
        data = self._buffer[self._offset : self._offset + count]
        self._offset += len(data)
        self.position += len(data)
        return data

    def copy_to_fd(self, fd: int, count: int) -> int:
        """Write the next ``count`` bytes to file descriptor ``fd``; return how many were available."""
        remaining = count
        while remaining:
            if self._offset >= len(self._buffer) and not self._fill():
                break
            view = memoryview(self._buffer)[self._offset : self._offset + remaining]
            while view:
                written = os.write(fd, view)
                view = view[written:]
                self._offset += written
                remaining -= written
                self.position += written
        return count - remaining

    def skip(self, count: int) -> int:
        """Discard the next ``count`` bytes; return how many were available."""
        remaining = count
        while remaining:
            if self._offset >= len(self._buffer) and not self._fill():
                break
            step = min(remaining, len(self._buffer) - self._offset)
            self._offset += step
            self.position += step
            remaining -= step
        return count - remaining

    def drain(self) -> None:
        """Consume the rest of the stream (the tar's trailing zero padding) into the hash."""
        self.position += len(self._buffer) - self._offset
        self._buffer, self._offset = b"", 0
        while self._fill():
            self.position += len(self._buffer)
            self._buffer = b""

    def digest(self) -> Digest:
        """sha256 of every byte read from the stream so far."""
        return self._hash.digest()

    def close(self) -> None:
        """Stop the hashing thread; the wrapped stream stays open."""
        self._hash.close()

    def __enter__(self) -> HashingReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def iter_entries(reader: HashingReader) -> Iterator[TarEntry]:
    """Yield the members of the tar stream in ``reader``, in order.

    After each yield the caller may consume up to ``entry.size`` data bytes from ``reader``
    (e.g. :meth:`HashingReader.copy_to_fd`); whatever it leaves, and the padding, is skipped.
    Raises :class:`TarFormatError` on a damaged or truncated archive.
    """
    global_pax: dict[str, bytes] = {}
    local_pax: dict[str, bytes] = {}
    long_name: str | None = None
    long_link: str | None = None
    while True:
        header_at = reader.position
        block = reader.read_exact(BLOCK)
        if len(block) < BLOCK:
            if not block and header_at == 0:
                raise TarFormatError("layer stream is empty")
            raise TarFormatError(f"layer stream ends inside a tar header at byte {header_at}")
        if block == _ZERO_BLOCK:
            return  # end-of-archive marker
        info = _parse_header(block, header_at)
        size = info.size
        if info.type in _EXTENSION_TYPES:
            payload = _read_payload(reader, size, header_at)
            if info.type == tarfile.XHDTYPE:
                local_pax.update(_parse_pax(payload, header_at))
            elif info.type == tarfile.XGLTYPE:
                global_pax.update(_parse_pax(payload, header_at))
            elif info.type == tarfile.GNUTYPE_LONGNAME:
                long_name = payload.split(b"\0", 1)[0].decode("utf-8", "surrogateescape")
            else:
                long_link = payload.split(b"\0", 1)[0].decode("utf-8", "surrogateescape")
            continue
        if global_pax or local_pax or long_name is not None or long_link is not None:
            entry = _make_entry(info, {**global_pax, **local_pax}, long_name, long_link, header_at)
            local_pax, long_name, long_link = {}, None, None
        else:
            entry = _make_entry(info, _NO_PAX, None, None, header_at)
        data_at = reader.position
        # like tarfile and GNU tar, only regular files carry data blocks
        padded = -(-entry.size // BLOCK) * BLOCK if entry.is_regular else 0
        yield entry
        left = data_at + padded - reader.position
        if left > 0 and reader.skip(left) < left:
            raise TarFormatError(f"layer stream ends inside the data of {entry.name!r}")


def _read_payload(reader: HashingReader, size: int, header_at: int) -> bytes:
    if size > 64 << 20:
        raise TarFormatError(f"extended tar header at byte {header_at} claims {size} bytes")
    payload = reader.read_exact(size)
    padding = -size % BLOCK
    if len(payload) < size or reader.skip(padding) < padding:
        raise TarFormatError(f"layer stream ends inside an extended header at byte {header_at}")
    return payload


def _parse_pax(payload: bytes, header_at: int) -> dict[str, bytes]:
    records: dict[str, bytes] = {}
    position = 0
    while position < len(payload):
        if payload[position] == 0:
            break
        space = payload.find(b" ", position)
        try:
            length = int(payload[position:space])
        except ValueError:
            length = 0
        record = payload[space + 1 : position + length]
        if space < 0 or length <= 0 or not record.endswith(b"\n") or b"=" not in record:
            raise TarFormatError(f"bad PAX record in the extended header at byte {header_at}")
        key, _, value = record[:-1].partition(b"=")
        records[key.decode("utf-8", "surrogateescape")] = value
        position += length
    return records


class _Header(NamedTuple):
    name: str
    mode: int
    uid: int
    gid: int
    size: int
    mtime: int
    type: bytes
    linkname: str
    devmajor: int
    devminor: int


# name, mode, uid, gid, size, mtime, chksum, typeflag, linkname, magic+version, uname, gname,
# devmajor, devminor, prefix
_USTAR = struct.Struct("100s8s8s8s12s12s8sc100s8s32s32s8s8s155s")
_POSIX_MAGIC = b"ustar\x0000"


def _parse_header(block: bytes, header_at: int) -> _Header:
    """Decode a 512-byte ustar/GNU header (faster than tarfile's, which this hot loop needs)."""
    (name, mode, uid, gid, size, mtime, checksum, typeflag, linkname, magic, _, _, devmajor, devminor, prefix) = (
        _USTAR.unpack_from(block)
    )
    # the checksum treats its own 8 bytes as spaces; some old tars summed signed bytes
    unsigned = sum(block) - sum(checksum) + 8 * 32
    stored = _number(checksum, header_at)
    if stored != unsigned and stored != unsigned - 256 * sum(1 for byte in block if byte > 127):
        raise TarFormatError(f"bad tar header at byte {header_at}: checksum mismatch")
    text = _text(name)
    if magic == _POSIX_MAGIC and prefix[0]:
        text = _text(prefix) + "/" + text
    return _Header(
        name=text,
        mode=_number(mode, header_at),
        uid=_number(uid, header_at),
        gid=_number(gid, header_at),
        size=_number(size, header_at),
        mtime=_number(mtime, header_at),
        type=typeflag,
        linkname=_text(linkname),
        devmajor=_number(devmajor, header_at) if typeflag in _DEVICE_TYPES else 0,
        devminor=_number(devminor, header_at) if typeflag in _DEVICE_TYPES else 0,
    )


def _text(field: bytes) -> str:
    return field.split(b"\0", 1)[0].decode("utf-8", "surrogateescape")


def _number(field: bytes, header_at: int) -> int:
    try:
        return int(field.rstrip(b"\0") or b"0", 8)  # the usual case: NUL-terminated octal digits
    except ValueError:
        pass
    if field and field[0] & 0x80:
        # GNU base-256: 0x80 marks a positive number, 0xff a negative one (two's complement)
        value = int.from_bytes(field[1:], "big")
        return value - (1 << (8 * (len(field) - 1))) if field[0] == 0xFF else value
    digits = field.split(b"\0", 1)[0].strip()
    if not digits:
        return 0
    try:
        return int(digits, 8)
    except ValueError:
        raise TarFormatError(f"bad tar header at byte {header_at}: {field!r} is not a number") from None


def _make_entry(
    info: _Header, pax: dict[str, bytes], long_name: str | None, long_link: str | None, header_at: int
) -> TarEntry:
    name = long_name if long_name is not None else info.name
    linkname = long_link if long_link is not None else info.linkname
    numbers = {"uid": info.uid, "gid": info.gid, "size": info.size}
    mtime_ns = info.mtime * 1_000_000_000
    xattrs: dict[str, bytes] = {}
    for key, value in pax.items():
        if key == "path":
            name = value.decode("utf-8", "surrogateescape")
        elif key == "linkpath":
            linkname = value.decode("utf-8", "surrogateescape")
        elif key in ("uid", "gid", "size"):
            try:
                numbers[key] = int(value)
            except ValueError:
                raise TarFormatError(f"bad PAX {key} {value!r} at byte {header_at}") from None
        elif key == "mtime":
            mtime_ns = _parse_pax_time(value, header_at)
        elif key.startswith(_XATTR_PREFIX):
            xattrs[key[len(_XATTR_PREFIX) :]] = value
        elif key.startswith("GNU.sparse"):
            raise TarFormatError(f"layer entry {name!r} is a GNU sparse file, which labcore does not read")
    if info.type == tarfile.GNUTYPE_SPARSE:
        raise TarFormatError(f"layer entry {name!r} is a GNU sparse file, which labcore does not read")
    if info.type not in _KNOWN_TYPES:
        raise TarFormatError(f"layer entry {name!r} has unknown tar type {info.type!r}")
    entry_type = info.type
    if entry_type == tarfile.AREGTYPE and name.endswith("/"):
        entry_type = tarfile.DIRTYPE  # old V7 archives mark directories by the trailing slash only
    if entry_type == tarfile.DIRTYPE:
        name = name.rstrip("/") or "."
    return TarEntry(
        name=name,
        type=entry_type,
        mode=info.mode,
        uid=numbers["uid"],
        gid=numbers["gid"],
        size=numbers["size"],
        mtime_ns=mtime_ns,
        linkname=linkname,
        devmajor=info.devmajor,
        devminor=info.devminor,
        xattrs=xattrs,
    )


def _parse_pax_time(value: bytes, header_at: int) -> int:
    text = value.decode("ascii", "replace")
    negative = text.startswith("-")
    whole, _, fraction = text.lstrip("-").partition(".")
    if not whole.isdigit() or (fraction and not fraction.isdigit()):
        raise TarFormatError(f"bad PAX mtime {text!r} at byte {header_at}")
    nanoseconds = int(whole) * 1_000_000_000 + int((fraction + "000000000")[:9])
    return -nanoseconds if negative else nanoseconds
