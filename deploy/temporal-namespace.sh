#!/bin/sh
# Runs in temporalio/admin-tools once the server is healthy: the namespace and the search attributes
# every enrollment carries (JourneyKey, JourneyVersion, CurrentNode, PersonKey). Idempotent.
set -eu
ADDR="--address ${TEMPORAL_ADDRESS}"
temporal operator namespace describe $ADDR -n "${TEMPORAL_NAMESPACE}" >/dev/null 2>&1 \
  || temporal operator namespace create $ADDR -n "${TEMPORAL_NAMESPACE}" --retention 30d
for attr in JourneyKey=Keyword JourneyVersion=Int CurrentNode=Keyword PersonKey=Keyword; do
  temporal operator search-attribute create $ADDR -n "${TEMPORAL_NAMESPACE}" --name "${attr%%=*}" --type "${attr##*=}" || true
done
