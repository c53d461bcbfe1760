"""Fixtures for container tests: a busybox image in a private root, and no container left behind."""

from tests.fixtures_images import busybox, busybox_cache  # noqa: F401
