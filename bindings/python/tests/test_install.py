"""Run by pip_install.sh: the tests above ran on the pip-installed package, type stubs included."""
import os
import sys

import pytest

import squeezenet


@pytest.mark.skipif(not os.environ.get("SQUEEZENET_INSTALLED"), reason="only after pip_install.sh's pip install")
def test_the_installed_package_is_the_one_tested():
    folder = os.path.dirname(squeezenet.__file__)
    assert folder.startswith(sys.prefix) and "site-packages" in folder, folder
    for name in ("__init__.py", "_core.pyi", "py.typed"):
        assert os.path.exists(os.path.join(folder, name)), name
