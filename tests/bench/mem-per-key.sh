#!/usr/bin/env bash
# Bytes per key: loads KEYS (default 1000000) keys of 16 bytes with 16-byte
# values into redis-server and into ringkv-server (via redis-cli --pipe) and
# prints the INFO used_memory delta and the RSS delta divided by the key count.
# Env: KEYS, THREADS (ringkv threads, default 1), RINGKV_SERVER.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
KEYS=${KEYS:-1000000}
THREADS=${THREADS:-1}
[ -x "$RINGKV_SERVER" ] || { echo "build ringkv-server first ($RINGKV_SERVER)" >&2; exit 1; }

payload=$(mktemp)
/usr/bin/python3 - "$KEYS" > "$payload" <<'PY'
import sys
n = int(sys.argv[1])
out = sys.stdout.buffer
for i in range(n):
    k = b"k%015d" % i
    v = b"v%015d" % i
    out.write(b"*3\r\n$3\r\nSET\r\n$16\r\n" + k + b"\r\n$16\r\n" + v + b"\r\n")
PY

measure() {  # measure NAME PORT
  local name=$1 port=$2
  local used0 rss0 used1 rss1 keys
  used0=$(info_field "$port" used_memory); rss0=$(info_field "$port" used_memory_rss)
  redis-cli -p "$port" --pipe < "$payload" > /dev/null
  keys=$(redis-cli -p "$port" dbsize)
  used1=$(info_field "$port" used_memory); rss1=$(info_field "$port" used_memory_rss)
  /usr/bin/python3 -c "
k=$keys; du=$used1-$used0; dr=$rss1-$rss0
print(f'{\"$name\":<8} {k:>9} {du:>14} {du/k:>10.1f} {dr:>14} {dr/k:>10.1f}')"
}

echo "# $KEYS keys, 16-byte keys and 16-byte values, loaded with redis-cli --pipe"
printf '%-8s %9s %14s %10s %14s %10s\n' server keys used_delta B/key rss_delta B/key
port=$(free_port); start_redis "$port" 0; pid=$LAST_PID
measure redis "$port"; stop_pid "$pid"
port=$(free_port); start_ringkv "$port" 0 "$THREADS"; pid=$LAST_PID
measure ringkv "$port"; stop_pid "$pid"
rm -f "$payload"
