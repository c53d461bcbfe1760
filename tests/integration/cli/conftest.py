from tests.fixtures_images import base_images, base_store  # noqa: F401
