#!/bin/bash
# Feeds a scenario file (see oracle_diff.py for the format) through redis-cli
# to ringkv-server and to a real redis-server, and diffs redis-cli's output.
# Lines with a directive (!sort, !scan ...) are skipped: their replies are
# order- or time-dependent and oracle_diff.py compares them instead.
#
#   test_data_cli_diff.sh [RINGKV_PORT REDIS_PORT scenario.cmds...]
# Without arguments (as ctest runs it through run.sh): RINGKV_PORT from the
# environment, a redis-server started here on a free port, and the strings
# and keyspace scenarios.
# Exit status: 0 when the outputs are identical.
set -u
here=$(cd "$(dirname "$0")" && pwd)
oracle_pid=""
if [ $# -ge 2 ]; then
  ours=$1; theirs=$2; shift 2
else
  ours=${RINGKV_PORT:?RINGKV_PORT}
  theirs=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()')
  work=$(mktemp -d /tmp/ringkv-oracle.XXXXXX)
  /usr/bin/redis-server --port "$theirs" --bind 127.0.0.1 --save '' --appendonly no \
    --dir "$work" > /dev/null &
  oracle_pid=$!
  trap 'kill "$oracle_pid" 2>/dev/null; wait "$oracle_pid" 2>/dev/null; rm -rf "$work"' EXIT
  for _ in $(seq 1 100); do
    [ "$(redis-cli -p "$theirs" ping 2>/dev/null)" = "PONG" ] && break
    sleep 0.1
  done
  set -- "$here/scenarios/strings.cmds" "$here/scenarios/keyspace.cmds"
fi
status=0
for f in "$@"; do
  cmds=$(grep -v -e '^#' -e '^!' -e '^[[:space:]]*$' "$f")
  redis-cli -p "$ours" FLUSHALL > /dev/null
  redis-cli -p "$theirs" FLUSHALL > /dev/null
  # tr: redis-cli prints raw NUL bytes of binary values; bash drops them anyway.
  a=$(printf '%s\n' "$cmds" | redis-cli -p "$ours" 2>&1 | tr -d '\0')
  b=$(printf '%s\n' "$cmds" | redis-cli -p "$theirs" 2>&1 | tr -d '\0')
  if ! diff <(printf '%s\n' "$b") <(printf '%s\n' "$a") > /tmp/cli_diff.$$; then
    echo "== $f: redis-cli output differs (< redis, > ringkv)"
    cat /tmp/cli_diff.$$
    status=1
  else
    echo "== $f: identical ($(printf '%s\n' "$cmds" | wc -l) commands)"
  fi
  rm -f /tmp/cli_diff.$$
done
exit $status
