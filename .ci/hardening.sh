#!/usr/bin/env bash
# The hardening stages of CI (issue 7), run after the normal suite by .ci/run:
#
#   1. sanitizers  the whole pytest suite again, against a build of the
#                  extension with -fsanitize=address,undefined (a copy of the
#                  tree under $WORK, the ASan runtime preloaded into Python);
#                  plus the C unit tests under the same sanitizers
#   2. valgrind    make -C csrc valgrind: the C unit tests under memcheck,
#                  zero errors and zero definite/indirect leaks
#   3. fuzz        every libFuzzer target for FUZZ_SECONDS (default 60) each
#                  and the seed/crasher corpus replayed without libFuzzer
#   4. leaks       tests/test_leaks.py (20,000 checks, 100,000 verify_chain
#                  calls, resident memory flat) on the normal build
#
#   .ci/hardening.sh                     all stages
#   .ci/hardening.sh fuzz valgrind       only these
#   FUZZ_SECONDS=10 .ci/hardening.sh     shorter fuzzing (local runs)
#
# Installs what it needs (clang with the libFuzzer runtime, valgrind) with
# apt-get when missing.  Prints each stage's duration; fails at the end if
# any stage failed.  docs/security.md says how to run each stage by hand.
set -uo pipefail
cd "$(dirname "$0")/.."
REPO=$(pwd)
FUZZ_SECONDS=${FUZZ_SECONDS:-60}
# Scratch space (the sanitizer tree copy, build logs): one per run, so two
# runs at once do not share it; kept when a stage fails, for a look.
WORK=${HARDENING_WORK:-}
OWN_WORK=
PYTHON=${PYTHON:-python}
STAGES=("$@")
[ ${#STAGES[@]} -eq 0 ] && STAGES=(sanitizers valgrind fuzz leaks)

# ---- tools -------------------------------------------------------------
apt_install() {
    echo "installing: $*"
    if [ -z "${APT_UPDATED:-}" ]; then
        apt-get update -qq && APT_UPDATED=1
    fi
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

fuzzer_works() {
    local d
    d=$(mktemp -d)
    printf 'int LLVMFuzzerTestOneInput(const unsigned char *d, unsigned long n){(void)d;(void)n;return 0;}\n' > "$d/t.c"
    clang -fsanitize=fuzzer,address,undefined "$d/t.c" -o "$d/t" >/dev/null 2>&1
    local rc=$?
    rm -rf "$d"
    return $rc
}

need_tools() {
    local want=()
    command -v gcc >/dev/null || want+=(gcc)
    command -v make >/dev/null || want+=(make)
    command -v pkg-config >/dev/null || want+=(pkg-config)
    command -v openssl >/dev/null || want+=(openssl)
    [ -f /usr/include/openssl/ssl.h ] || want+=(libssl-dev)
    for s in "${STAGES[@]}"; do
        case $s in
            valgrind) command -v valgrind >/dev/null || want+=(valgrind) ;;
            fuzz) command -v clang >/dev/null || want+=(clang) ;;
        esac
    done
    [ ${#want[@]} -gt 0 ] && apt_install "${want[@]}"
    for s in "${STAGES[@]}"; do
        if [ "$s" = fuzz ] && ! fuzzer_works; then
            # Debian splits the sanitizer and libFuzzer runtimes out of clang.
            local v
            v=$(clang --version | sed -n 's/.*clang version \([0-9]*\).*/\1/p' | head -1)
            apt_install "libclang-rt-${v}-dev" || apt_install llvm
            fuzzer_works || { echo "clang cannot build libFuzzer targets"; return 1; }
        fi
    done
    return 0
}

# ---- stages --------------------------------------------------------------
stage_sanitizers() {
    local asan ubsan copy="$WORK/asan-tree"
    asan=$(gcc -print-file-name=libasan.so)
    ubsan=$(gcc -print-file-name=libubsan.so)
    [ -f "$asan" ] || { echo "no ASan runtime ($asan)"; return 1; }
    # A copy of the tree (tracked and new files, nothing git ignores), so
    # the sanitizer build never replaces the in-place extension of $REPO.
    rm -rf "$copy" && mkdir -p "$copy"
    if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
        git ls-files -z --cached --others --exclude-standard | tar -C "$REPO" --null -T - -cf - | tar -C "$copy" -xf -
    else
        tar -C "$REPO" --exclude=.git --exclude=build --exclude='*.so' --exclude='*.o' \
            --exclude=__pycache__ -cf - . | tar -C "$copy" -xf -
    fi
    # setup.py runs directly here, not in pip's isolated build environment:
    # it needs the setuptools floor of pyproject.toml's build-system (the
    # SPDX licence string).
    "$PYTHON" -m pip install -q 'setuptools>=77' >"$WORK/setuptools.log" 2>&1 \
        || { tail -30 "$WORK/setuptools.log"; return 1; }
    (cd "$copy" && PYTLSCHECK_SANITIZE=address,undefined \
        "$PYTHON" setup.py -q build_ext --inplace >"$WORK/asan-build.log" 2>&1) \
        || { tail -30 "$WORK/asan-build.log"; return 1; }
    # The package is imported from the copy (PYTHONPATH comes before the
    # editable install's finder); children the tests start inherit it all.
    # detect_leaks=0: the interpreter itself leaks at exit; C leaks are
    # valgrind's stage.  A UBSan report aborts the test that caused it.
    # The conformance suite file sits next to the original tree, not the copy.
    local limbo=${PYTLSCHECK_LIMBO:-}
    if [ -z "$limbo" ] && [ -f tools/conformance.py ]; then
        limbo=$("$PYTHON" -c 'import runpy; print(runpy.run_path("tools/conformance.py")["suite_path"]())' 2>/dev/null || true)
    fi
    # Resident-memory bounds mean nothing under ASan (its quarantine keeps
    # freed memory on purpose): PYTLSCHECK_SANITIZED tells tests so, and
    # the RSS test of test_bad_input.py (which does not read it) is left
    # to the normal run.  LD_PRELOAD reaches every child (make, openssl,
    # cc): they run on the ASan runtime too, harmlessly.
    (cd "$copy" && \
        PYTHONPATH="$copy" LD_PRELOAD="$asan:$ubsan" PYTLSCHECK_SANITIZED=address,undefined \
        PYTLSCHECK_LIMBO="$limbo" \
        ASAN_OPTIONS=detect_leaks=0:abort_on_error=1 \
        UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
        PYTHONMALLOC=malloc \
        "$PYTHON" -m pytest -q -p no:cacheprovider tests \
            --deselect tests/test_bad_input.py::test_ten_thousand_calls_do_not_grow_memory) || return 1
    # The C unit tests under the same sanitizers (their own build dir).
    (cd "$copy" && SANITIZE=address,undefined BUILD=build/asan \
        ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
        make -s -C csrc test) || return 1
}

stage_valgrind() {
    make -s -C csrc valgrind
}

stage_fuzz() {
    FUZZ_SECONDS="$FUZZ_SECONDS" csrc/fuzz/run.sh || return 1
    make -s -C csrc/fuzz replay-run || return 1
    # The replays once more under ASan + UBSan with gcc (another compiler).
    SANITIZE=address,undefined ASAN_OPTIONS=detect_leaks=1 \
        make -s -C csrc/fuzz replay-run
}

stage_leaks() {
    PYTLSCHECK_HARDENING=1 "$PYTHON" -m pytest -q -s -p no:cacheprovider tests/test_leaks.py
}

# ---- main ----------------------------------------------------------------
# One function, parsed whole before it runs: editing this file while it
# runs cannot change what the running instance does.
main() {
    for s in "${STAGES[@]}"; do
        case $s in
            sanitizers|valgrind|fuzz|leaks) ;;
            *) echo "unknown stage: $s (sanitizers, valgrind, fuzz, leaks)"; exit 2 ;;
        esac
    done
    if [ -z "$WORK" ]; then
        WORK=$(mktemp -d /tmp/pytlscheck-hardening.XXXXXX) || exit 1
        OWN_WORK=1
    fi
    mkdir -p "$WORK"
    echo "scratch: $WORK"
    need_tools || exit 1
    failed=()
    summary=()
    for s in "${STAGES[@]}"; do
        echo "==== hardening: $s"
        start=$(date +%s)
        if "stage_$s"; then result=ok; else result=FAILED; failed+=("$s"); fi
        took=$(( $(date +%s) - start ))
        summary+=("$(printf '%-11s %-6s %4d s' "$s" "$result" "$took")")
        echo "==== hardening: $s $result in ${took}s"
    done
    echo "==== hardening summary"
    printf '%s\n' "${summary[@]}"
    if [ ${#failed[@]} -gt 0 ]; then
        echo "hardening FAILED: ${failed[*]} (scratch kept: $WORK)"
        exit 1
    fi
    [ -n "$OWN_WORK" ] && rm -rf "$WORK"
    echo "hardening: all stages passed"
}
main
exit $?
