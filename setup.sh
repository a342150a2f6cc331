#!/usr/bin/env bash
# One-command setup: creates .venv in the repository root and installs Retouch with everything it needs.
set -euo pipefail
cd "$(dirname "$0")"
PYTHON="${PYTHON:-python3}"
"$PYTHON" -m venv .venv
.venv/bin/python -m pip install --quiet --upgrade pip
# An exact torch pin: a looser requirement would pull the multi-gigabyte CUDA build on a CPU machine.
.venv/bin/python -m pip install --quiet "torch==2.13.0"
.venv/bin/python -m pip install --quiet -e ".[dev]"
echo "Retouch is installed in .venv: try .venv/bin/retouch --help"
