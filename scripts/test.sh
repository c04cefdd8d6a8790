#!/usr/bin/env bash
# The whole test suite: installs what is missing, builds the three
# configurations (release with -Werror, ASan+UBSan, libFuzzer), and runs the
# unit, integration, corpus-replay and source-check tests under the
# sanitizers, then each fuzz target for a few seconds.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
bash scripts/deps.sh all
bash scripts/build.sh release
bash scripts/build.sh asan
bash scripts/build.sh fuzz
eval "$(bash scripts/test-services.sh)"
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
rc=0
bash scripts/fuzz-smoke.sh "$top/build/fuzz" "${AMTP_FUZZ_SECONDS:-5}" || rc=1
cd build/asan
ctest -j "${AMTP_JOBS:-2}" --output-on-failure --timeout 900 || rc=1
exit $rc
