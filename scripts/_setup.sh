# Shared by scripts/run and scripts/test: create .venv and install the pinned dependencies.
# Idempotent: reinstalls only when requirements.lock or pyproject.toml changed.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROOT=$(pwd)
VENV="$ROOT/.venv"
PY="$VENV/bin/python"

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then sudo "$@"; else return 1; fi; }

find_python() {
  for candidate in python3.13 python3.12 python3.11 python3; do
    if command -v "$candidate" >/dev/null 2>&1 && "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
      echo "$candidate"; return 0
    fi
  done
  echo "Python 3.11 or newer is required." >&2; return 1
}

if [ ! -x "$PY" ]; then
  BASE_PY=$(find_python)
  if ! "$BASE_PY" -m venv "$VENV" 2>/dev/null; then
    echo "python3-venv is missing; installing it with apt-get..." >&2
    rm -rf "$VENV"
    as_root apt-get update -qq && as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv >/dev/null \
      || { echo "Could not install python3-venv; install it and run again." >&2; exit 1; }
    "$BASE_PY" -m venv "$VENV"
  fi
fi

STAMP="$VENV/.installed"
if [ ! -f "$STAMP" ] || [ requirements.lock -nt "$STAMP" ] || [ pyproject.toml -nt "$STAMP" ]; then
  echo "Installing pinned dependencies into .venv ..."
  "$PY" -m pip install --quiet --disable-pip-version-check --upgrade pip
  "$PY" -m pip install --quiet --disable-pip-version-check -r requirements.lock
  "$PY" -m pip install --quiet --disable-pip-version-check --no-deps -e .
  touch "$STAMP"
fi

# The independent FHIR validators (issue 18) are npm packages pinned by tools/fhir-validator/package-lock.json.
# Installed only when node and npm exist; reinstalled only when the lock file changes. Without them the FHIR
# validation tests skip and say why (CI sets TRIGGERPOINT_REQUIRE_NODE=1, so there they fail instead).
FHIR_VALIDATOR="$ROOT/tools/fhir-validator"
if command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1; then
  FV_STAMP="$FHIR_VALIDATOR/node_modules/.installed"
  if [ ! -f "$FV_STAMP" ] || [ "$FHIR_VALIDATOR/package-lock.json" -nt "$FV_STAMP" ] || [ "$FHIR_VALIDATOR/package.json" -nt "$FV_STAMP" ]; then
    echo "Installing the FHIR validators (npm ci in tools/fhir-validator) ..."
    FV_LOG=$(mktemp)
    if npm ci --prefix "$FHIR_VALIDATOR" --no-audit --no-fund --loglevel=error >"$FV_LOG" 2>&1; then
      touch "$FV_STAMP"
    else
      echo "npm ci in tools/fhir-validator failed; the FHIR validation tests will skip (or fail on CI). npm said:" >&2
      tail -n 20 "$FV_LOG" >&2
    fi
    rm -f "$FV_LOG"
  fi
else
  echo "NOTE: node/npm not found; the FHIR validation tests will be SKIPPED (they need Node 20.19+; CI has it)."
fi
export PATH="$VENV/bin:$PATH"
