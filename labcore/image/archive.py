"""Image archives: ``labcore save`` writes them, ``labcore load`` reads them.

See :mod:`archive_save` for what is written (Docker 25+ ``docker save`` format, or a plain OCI
layout) and :mod:`archive_load` for what can be read (those, and the older ``docker save``
format). :mod:`archive_reader`, :mod:`archive_writer`, :mod:`archive_oci` and
:mod:`archive_docker` hold the pieces.
"""

from __future__ import annotations

from labcore.image.archive_load import LoadedImage, load_archive
from labcore.image.archive_reader import ArchiveError
from labcore.image.archive_save import ARCHIVE_FORMATS, ArchiveFormat, save_images

__all__ = ["ARCHIVE_FORMATS", "ArchiveError", "ArchiveFormat", "LoadedImage", "load_archive", "save_images"]
