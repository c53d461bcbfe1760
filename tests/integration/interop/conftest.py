from tests.fixtures_images import base_images, base_store

__all__ = ["base_images", "base_store"]
