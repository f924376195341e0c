import os
import subprocess
import sys

import pytest

# The PyTorch side of every comparison lives in tools/reference; the tests use the same code.
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "tools", "reference"))

CLI = os.environ.get("SQUEEZENET_CLI", "build/squeezenet")
DATA = os.environ.get("SQUEEZENET_DATA", "../shared/data")
FIXTURES = os.environ.get("SQUEEZENET_FIXTURES", "build/tests/fixtures")


def run_cli(*args):
    """Runs the squeezenet command; returns (exit code, stdout+stderr)."""
    p = subprocess.run([CLI, *map(str, args)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    return p.returncode, p.stdout


@pytest.fixture
def cli():
    assert os.path.exists(CLI), f"build the squeezenet command first ({CLI})"
    return run_cli
