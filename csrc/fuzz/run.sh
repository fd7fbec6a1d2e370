#!/usr/bin/env bash
# Runs every libFuzzer target of csrc/fuzz for a bounded time, one after
# the other (one core), and fails when any of them finds a crash, a leak,
# undefined behaviour or a hang.
#
#   FUZZ_SECONDS=60 csrc/fuzz/run.sh [TARGET...]     (default 10 s each)
#
# New inputs go to csrc/fuzz/build/work/<target> (the committed seeds in
# corpus/<target> are only read).  A crasher is copied to
# csrc/fuzz/regressions/<target>/: commit it once fixed, and
# `make -C csrc/fuzz replay-run` replays it from then on.
set -uo pipefail
cd "$(dirname "$0")"
SECONDS_EACH=${FUZZ_SECONDS:-10}
TARGETS=("$@")
[ ${#TARGETS[@]} -eq 0 ] && TARGETS=(cert hostname verify handshake ocsp starttls fetch)

make -s fuzzers || exit 1
mkdir -p build/work build/artifacts
rc=0
for t in "${TARGETS[@]}"; do
    mkdir -p "build/work/$t" "build/artifacts/$t"
    dicts=()
    [ -f "dict/$t.dict" ] && dicts=(-dict="dict/$t.dict")
    seeds=("corpus/$t")
    [ -d "regressions/$t" ] && seeds+=("regressions/$t")
    echo "== fuzz_$t for ${SECONDS_EACH}s"
    start=$(date +%s)
    ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1} \
    UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1} \
    "build/fz/fuzz_$t" "build/work/$t" "${seeds[@]}" "${dicts[@]}" \
        -max_total_time="$SECONDS_EACH" -timeout=10 -rss_limit_mb=2048 -max_len=16384 \
        -print_final_stats=1 -artifact_prefix="build/artifacts/$t/" \
        >"build/fuzz_$t.log" 2>&1
    status=$?
    grep -E '^(stat::number_of_executed_units|stat::peak_rss_mb)|^#[0-9]+.*DONE' "build/fuzz_$t.log" | tr '\n' ' '
    echo "($(( $(date +%s) - start ))s, exit $status)"
    if [ $status -ne 0 ]; then
        rc=1
        echo "FAILED: fuzz_$t found a problem; log: csrc/fuzz/build/fuzz_$t.log"
        grep -E 'ERROR|SUMMARY|runtime error|Test unit written' "build/fuzz_$t.log" | head -20
        mkdir -p "regressions/$t"
        for a in build/artifacts/"$t"/*; do
            [ -f "$a" ] && cp "$a" "regressions/$t/" && echo "crasher kept: csrc/fuzz/regressions/$t/$(basename "$a")"
        done
    fi
done
exit $rc
