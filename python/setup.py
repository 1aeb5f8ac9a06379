"""Builds the plancache package with its compiled extension, plancache._engine.

The metadata is pyproject.toml's; this file only adds the extension behind
plancache.Engine (src/python/ of the repository), built by CMake, and copied
into the package as plancache/_engine<EXT_SUFFIX>:

    pip install --no-build-isolation --no-index ./python

- With PLANCACHE_BUILD_DIR set to a configured CMake build directory of the
  repository (tests/python/run.sh sets it to the tree's release build), only
  `cmake --build $PLANCACHE_BUILD_DIR --target _engine` runs: nothing already
  built is built again. That directory must be configured for this Python
  (its Python_EXECUTABLE, by default /usr/bin/python3).
- Otherwise the repository (PLANCACHE_SOURCE_DIR, by default the parent of
  this directory) is configured in a build directory of its own under
  python/build/ (Release, no benchmarks, warnings not fatal, ccache when
  installed) for the Python pip runs under, and the `_engine` target (the
  library's core, memory, disk and cache components and the binding) is
  built there. Later installs reuse it.

Needs cmake, a C++20 compiler and the Debian packages of
deps/debian-packages.txt (python3-dev and pybind11-dev for the extension);
nothing is downloaded.
"""

import os
import shutil
import subprocess
import sys
import sysconfig

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

HERE = os.path.dirname(os.path.abspath(__file__))
TARGET = "_engine"


def _run(cmd, env=None):
    print("plancache setup.py:", " ".join(cmd), flush=True)
    subprocess.run(cmd, check=True, env=env)


def _python():
    """The interpreter CMake builds for: the base one of a venv (stable across venvs)."""
    base = getattr(sys, "_base_executable", None)
    return base if base and os.path.exists(base) else sys.executable


def _source_dir():
    source = os.path.abspath(os.environ.get("PLANCACHE_SOURCE_DIR") or os.path.join(HERE, ".."))
    if not os.path.isfile(os.path.join(source, "src", "python", "CMakeLists.txt")):
        raise RuntimeError(
            "the plancache repository is not at %s (building plancache._engine needs it): set "
            "PLANCACHE_SOURCE_DIR to the repository root, or PLANCACHE_BUILD_DIR to a "
            "configured build directory of it" % source)
    return source


def _configure(source, build_dir):
    """Configures the private build directory for this Python."""
    cmd = ["cmake", "-S", source, "-B", build_dir, "-DCMAKE_BUILD_TYPE=Release",
           "-DPLANCACHE_BENCH=OFF", "-DPLANCACHE_WERROR=OFF",
           "-DPython_EXECUTABLE=" + _python(), "-DPYTHON_EXECUTABLE=" + _python()]
    if not os.path.isfile(os.path.join(build_dir, "CMakeCache.txt")) and shutil.which("ninja"):
        cmd += ["-G", "Ninja"]
    env = dict(os.environ)
    if shutil.which("ccache"):
        cmd += ["-DCMAKE_CXX_COMPILER_LAUNCHER=ccache", "-DCMAKE_C_COMPILER_LAUNCHER=ccache"]
        env.setdefault("CCACHE_BASEDIR", source)  # hits across checkouts, as scripts/test.sh
        env.setdefault("CCACHE_NOHASHDIR", "1")
    _run(cmd, env)
    return env


def _built_module(build_dir, suffix):
    where = os.path.join(build_dir, "src", "python")
    path = os.path.join(where, TARGET + suffix)
    if os.path.isfile(path):
        return path
    found = sorted(f for f in os.listdir(where) if f.startswith(TARGET + ".")) \
        if os.path.isdir(where) else []
    raise RuntimeError(
        "%s has no %s%s (found: %s): it is configured for another Python than %s; configure it "
        "with -DPython_EXECUTABLE=%s" % (where, TARGET, suffix, ", ".join(found) or "nothing",
                                         sys.executable, _python()))


class CMakeBuild(build_ext):
    """build_ext that builds the extension with the repository's CMake."""

    def build_extension(self, ext):
        suffix = sysconfig.get_config_var("EXT_SUFFIX")
        build_dir = os.environ.get("PLANCACHE_BUILD_DIR")
        env = None
        if build_dir:
            build_dir = os.path.abspath(build_dir)
            if not os.path.isfile(os.path.join(build_dir, "CMakeCache.txt")):
                raise RuntimeError("PLANCACHE_BUILD_DIR=%s is not a configured CMake build "
                                   "directory (no CMakeCache.txt)" % build_dir)
        else:
            tag = suffix.strip(".").rsplit(".", 1)[0] or "python"
            build_dir = os.path.join(HERE, "build", "cmake-" + tag)
            env = _configure(_source_dir(), build_dir)
        jobs = os.environ.get("PLANCACHE_BUILD_JOBS") or str(os.cpu_count() or 1)
        _run(["cmake", "--build", build_dir, "--target", TARGET, "--parallel", jobs], env)
        out = self.get_ext_fullpath(ext.name)
        os.makedirs(os.path.dirname(out), exist_ok=True)
        shutil.copyfile(_built_module(build_dir, suffix), out)


setup(
    ext_modules=[Extension("plancache." + TARGET, sources=[])],
    cmdclass={"build_ext": CMakeBuild},
    zip_safe=False,
)
