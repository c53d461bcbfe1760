import json
import os
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT4

import labcore.container as containers
from labcore.container.bundle import write_bundle
from labcore.errors import ConflictError

pytestmark = [pytest.mark.root, pytest.mark.integration]

SCHEMAS = Path(os.environ.get("LABCORE_OCI_SCHEMAS") or Path(__file__).parents[3].parent / "shared" / "oci-schemas")
PROBE = ["sh", "-c", "id; echo $PATH; pwd; ls /; grep -E '^(Cap|NoNewPrivs)' /proc/self/status; echo $$"]


def _validate_runtime_config(config):
    folder = SCHEMAS / "runtime-spec"

    def retrieve(uri):
        return Resource.from_contents(json.loads((folder / uri.rsplit("/", 1)[-1]).read_text()), DRAFT4)

    schema = json.loads((folder / "config-schema.json").read_text())
    jsonschema.Draft4Validator(schema, registry=Registry(retrieve=retrieve)).validate(config)


def test_bundle_config_validates_against_oci_schema(busybox, tmp_path):
    bundle = write_bundle(busybox, tmp_path / "bundle", PROBE)
    config = json.loads((bundle / "config.json").read_text())
    _validate_runtime_config(config)
    assert config["process"]["args"] == PROBE
    assert (bundle / "rootfs" / "bin" / "busybox").is_file()
    with pytest.raises(ConflictError, match="not empty"):
        write_bundle(busybox, bundle)


def test_same_output_under_labcore_crun_and_runc(busybox, tmp_path):
    bundle = write_bundle(busybox, tmp_path / "bundle", PROBE)
    labcore_output = containers.run(busybox, PROBE, remove=True).stdout
    runc_root = tmp_path / "runc-state"
    runc = subprocess.run(["runc", "--root", str(runc_root), "run", "-b", str(bundle), "lc-runc-probe"],
                          capture_output=True, text=True, timeout=60)  # fmt: skip
    subprocess.run(["runc", "--root", str(runc_root), "delete", "-f", "lc-runc-probe"], capture_output=True)
    assert runc.returncode == 0, runc.stderr
    crun_root = tmp_path / "crun-state"
    # crun wants a pure cgroup v1 or v2 view: hide the controller-less cgroup2 in a private mount ns
    script = f"umount /sys/fs/cgroup/unified && exec crun --root {crun_root} run -b {bundle} lc-crun-probe"
    crun = subprocess.run(["unshare", "-m", "sh", "-c", script], capture_output=True, text=True, timeout=60)
    subprocess.run(["crun", "--root", str(crun_root), "delete", "-f", "lc-crun-probe"], capture_output=True)
    assert crun.returncode == 0, crun.stderr
    assert labcore_output.endswith("\n1\n")  # the command is pid 1 everywhere
    assert runc.stdout == labcore_output
    assert crun.stdout == labcore_output


def test_bundle_cli(busybox, tmp_path):
    target = tmp_path / "cli-bundle"
    command = [sys.executable, "-m", "labcore.cli.main", "bundle", busybox, str(target), "echo", "hi"]
    done = subprocess.run(command, capture_output=True, text=True, check=True)
    assert done.stdout.strip() == str(target)
    assert json.loads((target / "config.json").read_text())["process"]["args"] == ["echo", "hi"]
