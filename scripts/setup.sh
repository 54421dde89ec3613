#!/usr/bin/env bash
# Installs spokenlm and everything it needs on a fresh Debian machine (CPU):
# the TTS engines and tools from Debian, torch 2.13.0 (CPU build) first so nothing
# pulls a CUDA build, then the package with its extras into .venv.
set -euo pipefail
cd "$(dirname "$0")/.."

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
if command -v apt-get >/dev/null; then
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq \
    espeak-ng flite festival festvox-kallpc16k festvox-kdlpc16k festvox-us-slt-hts \
    sox libsndfile1 libtcmalloc-minimal4 chromium gcc python3-dev >/dev/null  # gcc: zerospeech-libriabx2 builds its DTW
fi

PYTHON=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then "$PYTHON" -m venv .venv; fi
. .venv/bin/activate
pip install -q --upgrade pip
pip install -q torch==2.13.0
pip install -q -e '.[all]'
echo "spokenlm installed in .venv (activate with: . .venv/bin/activate)"
