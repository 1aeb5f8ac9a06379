#!/usr/bin/env bash
# Tests of the Python package (python/) against a real `plancache serve`.
#
#   tests/python/run.sh BINARY
#
# BINARY is the plancache executable of a CMake build directory of this tree
# (build/release/plancache): that directory also builds the extension
# behind plancache.Engine (target _engine), which the install takes from it
# (PLANCACHE_BUILD_DIR, python/setup.py) instead of building it again.
#
# Installs the package offline into a fresh virtual environment
# (/usr/bin/python3 -m venv --system-site-packages, so Debian's pytest and
# setuptools are seen; pip install --no-build-isolation --no-index), then runs
# pytest from that environment in a scratch directory, so the installed
# package is imported and not python/ of the source tree (conftest.py checks
# plancache.__file__). Exits non-zero when anything fails.
set -euo pipefail

if [[ $# -ne 1 || ! -x "$1" ]]; then
  echo "usage: $0 BUILD_DIR/plancache" >&2
  exit 2
fi
BINARY=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
BUILD_DIR=$(dirname "$BINARY")
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
PY=/usr/bin/python3
if [[ ! -f "$BUILD_DIR/CMakeCache.txt" ]]; then
  echo "$0: $BUILD_DIR is not a CMake build directory (the extension is built there)" >&2
  exit 2
fi

WORK=$(mktemp -d "${TMPDIR:-/tmp}/plancache-python-XXXXXX")
trap 'rm -rf "$WORK"' EXIT

"$PY" -m venv --system-site-packages "$WORK/venv"
# pip builds in place with --no-build-isolation; build from a copy of python/
# (without a previous install's build/ and *.egg-info) so that the source
# tree gets none and two runs at once do not share one. The extension comes
# from BUILD_DIR: setup.py only runs `cmake --build BUILD_DIR --target _engine`.
mkdir "$WORK/src"
tar -C "$REPO/python" --exclude=./build --exclude='./*.egg-info' -cf - . | tar -C "$WORK/src" -xf -
PLANCACHE_BUILD_DIR="$BUILD_DIR" "$WORK/venv/bin/python" -m pip install --quiet \
  --no-build-isolation --no-index --disable-pip-version-check "$WORK/src"

cd "$WORK"
export PLANCACHE_BINARY="$BINARY" PLANCACHE_REQUIRE_INSTALLED=1 PYTHONDONTWRITEBYTECODE=1
"$WORK/venv/bin/python" -c 'import plancache, sys; print("plancache", plancache.__version__, "from", plancache.__file__)'
"$WORK/venv/bin/python" -m pytest -p no:cacheprovider --import-mode=importlib \
  -q -ra "$REPO/tests/python"
