#!/bin/bash
# Feeds a scenario file (see oracle_diff.py for the format) through redis-cli
# to ringkv-server and to a real redis-server, and diffs redis-cli's output.
# Lines with a directive (!sort, !scan ...) are skipped: their replies are
# order- or time-dependent and oracle_diff.py compares them instead.
#
#   cli_diff.sh RINGKV_PORT REDIS_PORT scenario.cmds...
# Exit status: 0 when the outputs are identical.
set -u
ours=$1; theirs=$2; shift 2
status=0
for f in "$@"; do
  cmds=$(grep -v -e '^#' -e '^!' -e '^[[:space:]]*$' "$f")
  redis-cli -p "$ours" FLUSHALL > /dev/null
  redis-cli -p "$theirs" FLUSHALL > /dev/null
  a=$(printf '%s\n' "$cmds" | redis-cli -p "$ours" 2>&1)
  b=$(printf '%s\n' "$cmds" | redis-cli -p "$theirs" 2>&1)
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
