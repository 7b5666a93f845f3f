#!/bin/sh
# Builds the libFuzzer targets with clang (address and undefined sanitizers) and runs one.
#
#   tests/fuzz/run.sh TARGET SECONDS [LIBFUZZER_ARGS...]
#   tests/fuzz/run.sh request_parser 60
#   tests/fuzz/run.sh chunked 300 -jobs=2 -workers=2
#
# TARGET is request_parser, response_parser, chunked, headers, path_normalization,
# route_table or config_load. The build directory is build-fuzz in the source tree unless
# GANTRY_FUZZ_BUILD names another.
# New inputs go to $BUILD/fuzz-corpus/TARGET (the checked-in seeds in
# tests/fuzz/corpus/TARGET are read, not written); a crashing input is saved as
# $BUILD/fuzz-artifacts/TARGET-crash-<hash>. Replay one with
# `$BUILD/tests/fuzz/TARGET_fuzzer FILE`; once fixed, add it to the seeds.
set -eu

if [ $# -lt 2 ]; then
  echo "usage: $0 TARGET SECONDS [LIBFUZZER_ARGS...]" >&2
  exit 2
fi
target=$1
seconds=$2
shift 2

src=$(cd "$(dirname "$0")/../.." && pwd)
build=${GANTRY_FUZZ_BUILD:-$src/build-fuzz}
seeds=$src/tests/fuzz/corpus/$target
if [ ! -d "$seeds" ]; then
  echo "$0: unknown target '$target' (no $seeds)" >&2
  exit 2
fi

if [ ! -f "$build/build.ninja" ]; then
  # fuzzer-no-link instruments libgantry and llhttp for coverage; -fno-sanitize-recover
  # makes undefined behaviour a crash the fuzzer keeps, not a message it scrolls past.
  # Clang 14 with libstdc++: Asio 1.22 looks for coroutines only in libc++, so say they are
  # there; and -fsanitize=function breaks coroutines ("Cannot represent a difference across
  # sections"). Tests and examples are left out: the fuzz targets need neither.
  flags='-fsanitize=fuzzer-no-link -fno-sanitize-recover=all -fno-sanitize=function'
  flags="$flags -DASIO_HAS_CO_AWAIT=1"
  CC=clang CXX=clang++ meson setup "$build" "$src" \
    -Dfuzz=true -Dtests=false -Dexamples=false \
    -Dbuildtype=debugoptimized -Db_sanitize=address,undefined -Db_lundef=false \
    -Dc_args="$flags" -Dcpp_args="$flags"
fi
ninja -C "$build" "tests/fuzz/${target}_fuzzer"

mkdir -p "$build/fuzz-corpus/$target" "$build/fuzz-artifacts"
# A dictionary of the tokens the target's input is made of; headers and route_table read
# binary operations, not text.
case $target in
  headers|route_table) dict= ;;
  config_load) dict=-dict=$src/tests/fuzz/config.dict ;;
  *) dict=-dict=$src/tests/fuzz/http.dict ;;
esac
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}
exec "$build/tests/fuzz/${target}_fuzzer" \
  -max_total_time="$seconds" -print_final_stats=1 \
  -artifact_prefix="$build/fuzz-artifacts/$target-" $dict "$@" \
  "$build/fuzz-corpus/$target" "$seeds"
