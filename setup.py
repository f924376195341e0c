"""The Python module `squeezenet`, built by the project's CMake build (target squeezenet_python).

Debian 12, no network: pip install --no-build-isolation --no-index .
The build goes to $SQUEEZENET_BUILD_DIR, else build/ (where scripts/setup.sh builds), configured here if it
is not yet; an existing build is reused, so only what changed is compiled.
"""
import glob
import os
import re
import shutil
import subprocess
import sys

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

ROOT = os.path.dirname(os.path.abspath(__file__))


def version():
    """The one version of the project: CMakeLists.txt's project() line."""
    with open(os.path.join(ROOT, "CMakeLists.txt")) as f:
        return re.search(r"project\(squeezenet_cpp VERSION ([0-9.]+)", f.read()).group(1)


class CMakeBuild(build_ext):
    def build_extension(self, ext):
        build_dir = os.path.abspath(os.environ.get("SQUEEZENET_BUILD_DIR") or os.path.join(ROOT, "build"))
        if not os.path.exists(os.path.join(build_dir, "CMakeCache.txt")):
            launcher = ["-DCMAKE_CXX_COMPILER_LAUNCHER=ccache"] if shutil.which("ccache") else []
            subprocess.run(["cmake", "-S", ROOT, "-B", build_dir, "-DCMAKE_BUILD_TYPE=Release",
                            f"-DPython3_EXECUTABLE={sys.executable}", *launcher], check=True)
        subprocess.run(["cmake", "--build", build_dir, "--target", "squeezenet_python", "-j", str(os.cpu_count() or 1)],
                       check=True)
        name = os.path.basename(self.get_ext_filename(ext.name))
        built = os.path.join(build_dir, "python", "squeezenet", name)
        if not os.path.exists(built):
            found = glob.glob(os.path.join(build_dir, "python", "squeezenet", "_core*.so"))
            sys.exit(f"{build_dir}: the Python module there ({', '.join(map(os.path.basename, found)) or 'none'}) is "
                     f"not {name}, for this Python ({sys.executable}); set SQUEEZENET_BUILD_DIR to a new folder")
        os.makedirs(os.path.dirname(self.get_ext_fullpath(ext.name)), exist_ok=True)
        shutil.copyfile(built, self.get_ext_fullpath(ext.name))


setup(
    version=version(),
    packages=["squeezenet"],
    package_dir={"": "bindings/python"},
    package_data={"squeezenet": ["_core.pyi", "py.typed"]},
    ext_modules=[Extension("squeezenet._core", sources=[])],
    cmdclass={"build_ext": CMakeBuild},
    # setuptools' own build folder, inside CMake's rather than beside it
    options={"build": {"build_base": os.path.join("build", "setuptools")}},
)
