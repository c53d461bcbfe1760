from tests.fixtures_images import base_images, base_store, busybox, busybox_cache  # noqa: F401
