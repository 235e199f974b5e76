#!/usr/bin/env bash
# Stops the test-bed servers started by up.sh (by their pid files), all or those named. Exits 0 when they were not
# running. Data under .services/ is kept: up.sh starts again on it. See docs/TESTBED.md.
set -euo pipefail

# shellcheck source=lib.sh
source "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/lib.sh"

exec 3>&1 1>&2
take_lock

# Which servers: all by default, or those named (kafka, mongodb, redis, jaeger) — fault tests stop one.
wanted=("$@")
((${#wanted[@]} > 0)) || wanted=(kafka mongodb redis jaeger)
is_wanted() { [[ " ${wanted[*]} " == *" $1 "* ]]; }

# In parallel: Kafka's controlled shutdown takes a few seconds, the others are quick.
if is_wanted kafka; then stop_server kafka "$KAFKA_PID" "$KAFKA_MATCH" 30 & fi
if is_wanted mongodb; then stop_server mongodb "$FERRETDB_PID" "$FERRETDB_MATCH" 15 & fi
if is_wanted redis; then stop_server redis "$REDIS_PID" "$REDIS_MATCH" 15 & fi
if is_wanted jaeger; then stop_server jaeger "$JAEGER_PID" "$JAEGER_MATCH" 15 & fi
wait
exit 0
