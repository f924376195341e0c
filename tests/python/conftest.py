import json
import os
import struct
import subprocess

import numpy as np
import pytest

CLI = os.environ.get("SQUEEZENET_CLI", "build/squeezenet")
DATA = os.environ.get("SQUEEZENET_DATA", "../shared/data")
FIXTURES = os.environ.get("SQUEEZENET_FIXTURES", "build/tests/fixtures")


def run_cli(*args):
    """Runs the squeezenet command; returns (exit code, stdout+stderr)."""
    p = subprocess.run([CLI, *map(str, args)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    return p.returncode, p.stdout


def read_safetensors(path):
    """A reader written from the safetensors specification, independent of the C++ one."""
    with open(path, "rb") as f:
        (n,) = struct.unpack("<Q", f.read(8))
        header = json.loads(f.read(n))
        data = f.read()
    meta = header.pop("__metadata__", {})
    dtypes = {"F32": "<f4", "F16": "<f2", "F64": "<f8"}
    tensors = {}
    for name, e in header.items():
        a, b = e["data_offsets"]
        tensors[name] = np.frombuffer(data[a:b], dtypes[e["dtype"]]).reshape(e["shape"]).astype(np.float32)
    return tensors, meta


@pytest.fixture
def cli():
    assert os.path.exists(CLI), f"build the squeezenet command first ({CLI})"
    return run_cli
