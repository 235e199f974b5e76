#!/usr/bin/env bash
# Stops the test-bed servers started by up.sh (by their pid files). Exits 0 when they were not
# running. Data under .services/ is kept: up.sh starts again on it. See docs/TESTBED.md.
set -euo pipefail

# shellcheck source=lib.sh
source "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/lib.sh"

exec 3>&1 1>&2
take_lock

# In parallel: Kafka's controlled shutdown takes a few seconds, the others are quick.
stop_server kafka "$KAFKA_PID" "$KAFKA_MATCH" 30 &
stop_server mongodb "$FERRETDB_PID" "$FERRETDB_MATCH" 15 &
stop_server redis "$REDIS_PID" "$REDIS_MATCH" 15 &
wait
exit 0
