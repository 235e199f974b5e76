# Shared by up.sh and down.sh (sourced, not run). See docs/TESTBED.md.
# Everything here prints to stderr only: stdout of up.sh carries the URL lines alone.

TESTBED_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$TESTBED_DIR/../.." && pwd)"
SERVICES="$ROOT/.services"
# A checkout sharing another's servers links its .services there: use the physical path, which is
# what the servers' command lines (FERRETDB_MATCH) carry, so either checkout recognises them.
[[ -L $SERVICES ]] && SERVICES="$(readlink -f "$SERVICES")"
CACHE="$ROOT/.cache"

# Overridable, so a second checkout can run a test bed of its own beside this one (docs/TESTBED.md).
REDIS_PORT=${TESTBED_REDIS_PORT:-16379}
KAFKA_PORT=${TESTBED_KAFKA_PORT:-19092}
KAFKA_CONTROLLER_PORT=${TESTBED_KAFKA_CONTROLLER_PORT:-19093}
MONGODB_PORT=${TESTBED_MONGODB_PORT:-37017}
# Jaeger: OTLP/HTTP (the endpoint up.sh prints), OTLP/gRPC, query API + UI (printed), query gRPC.
JAEGER_OTLP_PORT=${TESTBED_JAEGER_OTLP_PORT:-14318}
JAEGER_OTLP_GRPC_PORT=${TESTBED_JAEGER_OTLP_GRPC_PORT:-14317}
JAEGER_QUERY_PORT=${TESTBED_JAEGER_QUERY_PORT:-16686}
JAEGER_QUERY_GRPC_PORT=${TESTBED_JAEGER_QUERY_GRPC_PORT:-16685}

REDIS_DIR="$SERVICES/redis"
REDIS_PID="$REDIS_DIR/redis.pid"
REDIS_LOG="$REDIS_DIR/redis.log"

KAFKA_DIR="$SERVICES/kafka"
KAFKA_LIBS="$KAFKA_DIR/libs"
KAFKA_PID="$KAFKA_DIR/kafka.pid"
KAFKA_LOG="$KAFKA_DIR/kafka.log"

FERRETDB_DIR="$SERVICES/ferretdb"
FERRETDB_BIN="$SERVICES/bin/ferretdb"
FERRETDB_PID="$FERRETDB_DIR/ferretdb.pid"
FERRETDB_LOG="$FERRETDB_DIR/ferretdb.log"

JAEGER_DIR="$SERVICES/jaeger"
JAEGER_BIN="$SERVICES/bin/jaeger"
JAEGER_PID="$JAEGER_DIR/jaeger.pid"
JAEGER_LOG="$JAEGER_DIR/jaeger.log"

# What each server's /proc/PID/cmdline must contain, so that a stale pid file whose pid
# now belongs to another process is never mistaken for our server (nor killed).
REDIS_MATCH="redis-server"
KAFKA_MATCH="kafka.Kafka"
FERRETDB_MATCH="$FERRETDB_BIN"
JAEGER_MATCH="$JAEGER_BIN"

log() { printf '[testbed +%ss] %s\n' "$SECONDS" "$*" >&2; }

# pid_of PIDFILE MATCH: prints the pid and succeeds when that process is alive (not a zombie)
# and its command line contains MATCH.
pid_of() {
  local file=$1 match=$2 pid state cmdline
  [[ -s $file ]] || return 1
  pid=$(<"$file")
  [[ $pid =~ ^[0-9]+$ ]] || return 1
  [[ -r /proc/$pid/stat ]] || return 1
  state=$(sed -e 's/^.*) //' "/proc/$pid/stat" 2>/dev/null | cut -c1) || return 1
  [[ $state != Z && $state != X ]] || return 1
  cmdline=$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null) || return 1
  [[ $cmdline == *"$match"* ]] || return 1
  printf '%s\n' "$pid"
}

# stop_server NAME PIDFILE MATCH SECONDS: SIGTERM, wait up to SECONDS, then SIGKILL.
stop_server() {
  local name=$1 file=$2 match=$3 seconds=$4 pid deadline
  if ! pid=$(pid_of "$file" "$match"); then
    rm -f "$file"
    log "$name: not running"
    return 0
  fi
  log "$name: stopping pid $pid"
  kill -TERM "$pid" 2>/dev/null || true
  deadline=$((SECONDS + seconds))
  while pid_of "$file" "$match" >/dev/null && ((SECONDS < deadline)); do
    sleep 0.2
  done
  if pid_of "$file" "$match" >/dev/null; then
    log "$name: still running after ${seconds}s, sending SIGKILL"
    kill -KILL "$pid" 2>/dev/null || true
    sleep 0.5
  fi
  rm -f "$file"
  log "$name: stopped"
}

# Serialises up.sh and down.sh runs of one checkout (bounded wait).
take_lock() {
  mkdir -p "$SERVICES"
  exec 9>"$SERVICES/.lock"
  if ! flock -w 900 9; then
    log "another up.sh/down.sh still holds $SERVICES/.lock after 900s"
    exit 1
  fi
}
