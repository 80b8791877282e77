#!/usr/bin/env bash
# Runs one compat scenario against a freshly started server.
#   run.sh SERVER_BINARY SCENARIO [ARGS...]
# Picks a free loopback port (bind to port 0), starts SERVER_BINARY there
# (ringkv-server, or redis-server when the binary's name says so, for checking
# a scenario against the real thing), waits for PING, runs the scenario with
# RINGKV_PORT / RINGKV_PID set, stops the server by PID, and exits with the
# scenario's status. Everything is bounded by TIMEOUT seconds (default 120).
set -euo pipefail
server=${1:?server binary}
shift
timeout_s=${TIMEOUT:-120}
port=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()')
work=$(mktemp -d /tmp/ringkv-compat.XXXXXX)
log="$work/server.log"
case "$(basename "$server")" in
  redis-server*) "$server" --port "$port" --bind 127.0.0.1 --save '' --appendonly no \
                   --dir "$work" --logfile "$log" ${SERVER_ARGS:-} & ;;
  *) "$server" --port "$port" --threads "${THREADS:-2}" --dir "$work/data" ${SERVER_ARGS:-} \
       2> "$log" & ;;
esac
pid=$!
cleanup() {
  if kill -0 "$pid" 2>/dev/null; then
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
  fi
  wait "$pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
ok=0
for _ in $(seq 1 100); do
  if [ "$(redis-cli -p "$port" ${PING_AUTH:-} ping 2>/dev/null)" = "PONG" ]; then ok=1; break; fi
  if ! kill -0 "$pid" 2>/dev/null; then break; fi
  sleep 0.1
done
if [ "$ok" != 1 ]; then
  echo "server did not start; log:" >&2
  cat "$log" >&2 || true
  exit 1
fi
export RINGKV_PORT=$port RINGKV_PID=$pid RINGKV_LOG=$log RINGKV_WORK=$work
set +e
timeout "$timeout_s" "$@"
status=$?
set -e
if [ $status -ne 0 ]; then
  echo "scenario failed with status $status; server log tail:" >&2
  tail -20 "$log" >&2 || true
fi
exit $status
