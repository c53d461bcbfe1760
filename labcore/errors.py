"""The exceptions labcore raises for bad input and broken state.

Every error a user can cause derives from :class:`LabcoreError`, which carries a
message that names the offending thing and a ``hint`` that says what to do::

    LabcoreError
    ├── UsageError                 bad flags, specs or arguments
    ├── NotFoundError              an image, container, volume or blob is missing
    ├── ConflictError              a name is taken, or a state forbids the move
    ├── DigestError                content does not match its digest or size
    ├── InvalidReferenceError      an image reference breaks Docker's rules
    ├── LayerError                 a layer cannot be read or applied
    │   └── UnsafeLayerError       a hostile layer entry was refused
    ├── StoreError                 the image store is damaged or inconsistent
    ├── RegistryError              a registry refused or failed a request
    └── SystemSetupError           the host lacks something labcore needs

Failed system calls are not wrapped: they stay :class:`OSError` with errno and path.
"""

from __future__ import annotations

__all__ = [
    "ConflictError",
    "DigestError",
    "InvalidReferenceError",
    "LabcoreError",
    "LayerError",
    "NotFoundError",
    "RegistryError",
    "StoreError",
    "SystemSetupError",
    "UnsafeLayerError",
    "UsageError",
]


class LabcoreError(Exception):
    """Base of every error labcore raises on purpose.

    ``message`` says what went wrong and names the offender; ``hint`` says how to fix it.
    """

    default_hint = ""

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint if hint is not None else self.default_hint

    def __str__(self) -> str:
        if self.hint:
            return f"{self.message}\nhint: {self.hint}"
        return self.message


class UsageError(LabcoreError):
    """An argument, flag or spec that cannot be understood."""


class NotFoundError(LabcoreError):
    """Something named by the user does not exist."""


class ConflictError(LabcoreError):
    """A name is already taken, or the object's state forbids the operation."""


class DigestError(LabcoreError):
    """Content whose digest or size differs from the one expected."""

    default_hint = "the content is corrupt or was truncated; fetch or import it again"


class InvalidReferenceError(UsageError):
    """An image reference or digest string that breaks the naming rules."""

    default_hint = "use NAME[:TAG][@sha256:HEX], e.g. busybox, library/busybox:1.36 or localhost:5000/app"


class LayerError(LabcoreError):
    """A layer tarball that cannot be read, written or applied."""


class UnsafeLayerError(LayerError):
    """A layer entry that would write outside the root or break it; nothing was written for it."""

    default_hint = "the layer is hostile or broken; do not use this image"


class StoreError(LabcoreError):
    """The image store is inconsistent or cannot be written."""


class RegistryError(LabcoreError):
    """A registry answered with an error or could not be reached."""


class SystemSetupError(LabcoreError):
    """The host lacks a kernel feature, a tool or a permission labcore needs."""

    default_hint = "run `labcore doctor` to see what is missing and how to fix it"
