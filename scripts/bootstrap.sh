#!/usr/bin/env bash
# Creates .venv and installs journeys with its dev extra; re-installs only when pyproject.toml changed.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-python3.11}"
command -v "$PYTHON" >/dev/null 2>&1 || PYTHON=python3
if [ ! -x .venv/bin/python ]; then
  echo "==> creating .venv with $($PYTHON --version)"
  "$PYTHON" -m venv .venv
fi
stamp=.venv/.installed-$(sha256sum pyproject.toml | cut -c1-16)
if [ ! -f "$stamp" ]; then
  echo "==> installing journeys and its dev tools into .venv (first run: about a minute)"
  .venv/bin/python -m pip install --quiet --upgrade pip
  .venv/bin/python -m pip install --quiet -e '.[dev]'
  rm -f .venv/.installed-* && touch "$stamp"
fi
# The browser SDK the API serves (api/routes/sdk.py), from npm, pinned by sdk/package-lock.json.
sdk_stamp=sdk/node_modules/.installed-$(sha256sum sdk/package-lock.json | cut -c1-16)
if [ ! -f "$sdk_stamp" ]; then
  echo "==> installing the browser SDK (npm ci in sdk/)"
  npm ci --prefix sdk --no-audit --no-fund --silent
  touch "$sdk_stamp"
fi
