import mmap

from labcore.linux.memory import mappings, prefault_mappings


def test_mappings_list_this_process_memory() -> None:
    found = mappings()
    assert any(mapping.path == "[stack]" for mapping in found)
    assert all(mapping.size > 0 and len(mapping.permissions) == 4 for mapping in found)


def test_prefault_populates_memory_and_changes_nothing() -> None:
    region = mmap.mmap(-1, 1 << 20)  # fresh anonymous memory: nothing of it is resident yet
    region[:5] = b"hello"
    populated = prefault_mappings()
    assert populated >= 1 << 20
    assert region[:5] == b"hello" and region[-1] == 0
    region.close()
