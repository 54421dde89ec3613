#!/usr/bin/env bash
# Builds .venv-zerospeech: the ZeroSpeech reference tools that tests compare our scores with
# (tests/benchmarks/published/test_slm21_zerospeech.py, tests/eval/test_abx_reference.py). The tests run it on
# first use (tests/helpers/zerospeech_reference.py), so scripts/setup.sh and the quickstart do not wait for it.
#
# * zerospeech-benchmarks 0.9.4 (sLM21 scorer and validator) pins pydantic < 2 and its scorer needs pandas < 3,
#   which .venv cannot share. Its PyPI metadata declares direct-URL extras, which pip >= 26.3 refuses to install
#   from PyPI even with --no-deps, so this venv keeps a pip below 26.3 (Python's bundled one when it is).
# * zerospeech-libriabx2 0.9.8 (ABX) needs torch and torchaudio; torchaudio is imported only by its CPC feature
#   extractor (which the tests do not run) and no release matches our torch, so it is installed --no-deps.
# * Only what .venv lacks or pins differently is installed here: a .pth file appends .venv's site-packages to
#   sys.path after this venv's own, so pydantic 1 and pandas 2 come from here and torch, numpy, scipy, rich,
#   requests, PyYAML and joblib from .venv.
#
# Success leaves .venv-zerospeech/READY (with what was installed: a later run with the same pins does nothing);
# failure leaves .venv-zerospeech/FAILED with the reason and exits 0, and those tests skip, naming it (the next
# test session tries again).
set -uo pipefail
cd "$(dirname "$0")/.."
SIDE=.venv-zerospeech
MAIN_SITE=$(.venv/bin/python -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
TOOLS="zerospeech-benchmarks==0.9.4 zerospeech-libriabx2==0.9.8"
STAMP="$TOOLS over $MAIN_SITE"
if [ "$(cat "$SIDE/READY" 2>/dev/null)" = "$STAMP" ]; then
  echo "ZeroSpeech reference tools already in $SIDE"
  exit 0
fi

rm -rf "$SIDE"
log=$(mktemp)
build() {
  set -e
  .venv/bin/python -m venv "$SIDE"
  local pip=("$SIDE/bin/python" -m pip install -q --disable-pip-version-check)
  "${pip[@]}" 'pip>=23,<26.3'
  "${pip[@]}" 'pydantic[email]>=1.10,<2' distro pycryptodome humanize treelib filesplit pytz
  "${pip[@]}" --no-deps 'pandas>=2,<3' $TOOLS
  echo "$MAIN_SITE" > "$("$SIDE/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')/spokenlm-venv.pth"
  "$SIDE/bin/python" -c "import importlib.util as u, pandas, pydantic, torch, libri_light_dtw; assert pandas.__version__[0] == '2' and pydantic.VERSION[0] == '1' and u.find_spec('zerospeech')"
}
(build) >"$log" 2>&1  # not an if-condition, so set -e holds inside build
if [ $? -eq 0 ]; then
  echo "$STAMP" > "$SIDE/READY"
  echo "ZeroSpeech reference tools installed in $SIDE"
else
  mkdir -p "$SIDE"
  { echo "scripts/setup_zerospeech.sh failed:"; tail -n 5 "$log"; } > "$SIDE/FAILED"
  echo "warning: $(head -c 2000 "$SIDE/FAILED")" >&2
fi
rm -f "$log"
