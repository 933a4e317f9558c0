#!/usr/bin/env bash
# Quickstart command 2: lint, type-check and the test suite (real PostgreSQL and Temporal, embedded).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh
# The browser tests drive Debian's chromium (Playwright never downloads one).
if ! command -v chromium >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ]; then
    echo "==> installing chromium for the browser tests (apt-get)"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  else
    echo "chromium is missing: as root, apt-get update && apt-get install -y chromium" >&2
    exit 1
  fi
fi
echo "==> ruff"
.venv/bin/ruff check .
.venv/bin/ruff format --check .
echo "==> mypy"
.venv/bin/mypy
echo "==> console: tsc, eslint, vitest"
npm run --prefix console --silent check
echo "==> pytest"
exec .venv/bin/pytest "$@"
