#!/bin/sh
# The image's install steps, in one place: the Dockerfile runs this script, and
# tests/test_packaging.py runs it into a fresh virtual environment (Docker cannot
# run everywhere the tests do).
#
#   docker/install.sh SOURCE VENV
#
# installs aggregator from the source folder SOURCE (pyproject.toml, constraints.txt,
# aggregator/, alembic/) into a new virtual environment VENV, with the versions
# constraints.txt pins, then checks that the installed command starts.
# $PYTHON names the interpreter (default python3). pip's own settings apply
# (the image sets PIP_NO_CACHE_DIR; the test keeps pip's cache between runs).
set -eu

src=${1:?usage: docker/install.sh SOURCE VENV}
venv=${2:?usage: docker/install.sh SOURCE VENV}

"${PYTHON:-python3}" -m venv "$venv"
"$venv/bin/python" -m pip install --quiet --constraint "$src/constraints.txt" "$src"
"$venv/bin/aggregator" --version
