#!/usr/bin/env bash
# Quickstart command 1: the whole engine on embedded PostgreSQL and Temporal. Ctrl-C stops everything.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh
exec .venv/bin/journeys dev "$@"
