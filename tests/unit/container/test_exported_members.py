import importlib
import types

import labcore.container as containers


def test_public_api_is_functions_and_classes_even_after_submodules_load():
    # a submodule named like an API function would replace it on the package once imported
    for module in ("lifecycle", "execute", "inspection", "changes", "logfile", "commit", "bundle", "reaper"):
        importlib.import_module(f"labcore.container.{module}")
    for name in containers.__all__:
        member = getattr(containers, name)
        assert not isinstance(member, types.ModuleType), name
        assert callable(member), name


def test_all_lists_the_documented_verbs():
    verbs = {
        "run",
        "create",
        "start",
        "exec",
        "stop",
        "kill",
        "remove",
        "list",
        "logs",
        "wait",
        "inspect",
        "diff",
        "stats",
    }
    assert verbs <= set(containers.__all__)
