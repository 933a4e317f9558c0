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
# The console (console/, served at /console): npm ci when its lock file changed, a build when its sources did.
console_deps=console/node_modules/.installed-$(sha256sum console/package-lock.json | cut -c1-16)
if [ ! -f "$console_deps" ]; then
  echo "==> installing the console's build tools (npm ci in console/)"
  npm ci --prefix console --no-audit --no-fund --silent
  touch "$console_deps"
fi
console_sources=$(cd console && find src index.html package-lock.json tsconfig.json vite.config.ts -type f | sort)
console_built=console/dist/.built-$(cd console && cat $console_sources | sha256sum | cut -c1-16)
if [ ! -f "$console_built" ]; then
  echo "==> building the console (npm run build in console/)"
  npm run build --prefix console --silent >/dev/null
  touch "$console_built"
fi
