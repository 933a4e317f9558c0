#!/usr/bin/env bash
# Quickstart command 2: lint, type-check and the test suite (real PostgreSQL and Temporal, embedded).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh
echo "==> ruff"
.venv/bin/ruff check .
.venv/bin/ruff format --check .
echo "==> mypy"
.venv/bin/mypy
echo "==> pytest"
exec .venv/bin/pytest "$@"
