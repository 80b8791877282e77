#!/usr/bin/env bash
# redis-benchmark scenario: ping, set, get, incr and mset complete with zero
# errors (the server counts every error reply in INFO total_error_replies).
set -euo pipefail
P=$RINGKV_PORT
before=$(redis-cli -p $P info stats | tr -d '\r' | awk -F: '$1=="total_error_replies"{print $2}')
out=$(redis-benchmark -p $P -t ping,set,get,incr,mset -n 20000 -c 20 -P 4 --csv 2>&1)
echo "$out"
for t in PING_INLINE PING_MBULK SET GET INCR "MSET (10 keys)"; do
  # A here-string, not echo | grep -q: grep -q exits at its first match, and
  # under pipefail the echo it cut off (SIGPIPE) failed the check.
  grep -q "^\"$t\"," <<< "$out" || { echo "FAIL: no result for $t" >&2; exit 1; }
done
after=$(redis-cli -p $P info stats | tr -d '\r' | awk -F: '$1=="total_error_replies"{print $2}')
[ "$before" = "$after" ] || { echo "FAIL: error replies during benchmark: $before -> $after" >&2; exit 1; }
[ "$(redis-cli -p $P exists counter:__rand_int__)" = 1 ] || { echo "FAIL: INCR key missing" >&2; exit 1; }
echo ok
