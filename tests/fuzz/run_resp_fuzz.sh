#!/usr/bin/env bash
# Builds the RESP parser fuzz target with clang (libFuzzer + ASan + UBSan) in
# its own directory and runs it for FUZZ_SECONDS (default 60). Exit status is
# non-zero on a crash, a sanitizer report or a build failure.
#   tests/fuzz/run_resp_fuzz.sh <source dir> <work dir>
set -euo pipefail
src=${1:?source dir}
work=${2:?work dir}
secs=${FUZZ_SECONDS:-60}
mkdir -p "$work/corpus"
bin="$work/resp_parser_fuzz"
sources=(
  "$src/tests/fuzz/resp_parser_fuzz.cc"
  "$src/server/resp/resp_parser.cc"
  "$src/server/resp/reply_builder.cc"
  "$src/server/commands/arg_parse.cc"
  "$src/server/shard/glob.cc"
)
newest=$(ls -t "${sources[@]}" "$src/server/resp/resp_parser.h" | head -1)
if [ ! -x "$bin" ] || [ "$newest" -nt "$bin" ]; then
  clang++ -std=c++20 -O1 -g -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
    -I"$src" "${sources[@]}" -o "$bin"
fi
# Seeds: a few valid and invalid requests.
printf '\x80*2\r\n$3\r\nGET\r\n$1\r\nk\r\n' > "$work/corpus/seed1"
printf '\x83set k "a b\\x41" '"'"'c'"'"'\r\nPING\n' > "$work/corpus/seed2"
printf '\xc1*1\r\n$536870913\r\n' > "$work/corpus/seed3"
exec "$bin" -max_total_time="$secs" -rss_limit_mb=1024 -max_len=4096 -print_final_stats=1 "$work/corpus"
