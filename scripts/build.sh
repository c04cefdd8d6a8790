#!/usr/bin/env bash
# Builds amtprov in one of its configurations.
#   scripts/build.sh release   build/release: -O2, warnings as errors (the programs the demo runs)
#   scripts/build.sh asan      build/asan: ASan+UBSan, warnings as errors (what the tests run)
#   scripts/build.sh fuzz      build/fuzz: clang + libFuzzer targets
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
kind=${1:-release}
jobs=${AMTP_JOBS:-2}
case "$kind" in
release) args=(-DCMAKE_BUILD_TYPE=RelWithDebInfo -DAMTP_WERROR=ON) ;;
asan) args=(-DCMAKE_BUILD_TYPE=Debug -DAMTP_WERROR=ON -DAMTP_SANITIZE=ON) ;;
fuzz) args=(-DCMAKE_BUILD_TYPE=Debug -DAMTP_FUZZ=ON -DCMAKE_C_COMPILER=clang) ;;
*) echo "usage: $0 release|asan|fuzz" >&2; exit 2 ;;
esac
bdir="$top/build/$kind"
mkdir -p "$top/build"
cmake -S "$top" -B "$bdir" -G "Unix Makefiles" "${args[@]}" >"$bdir.cmake.log" 2>&1 ||
	{ mkdir -p "$top/build"; cmake -S "$top" -B "$bdir" "${args[@]}"; exit 1; }
cmake --build "$bdir" -j "$jobs" >"$bdir.build.log" 2>&1 || {
	grep -E 'error|Error' "$bdir.build.log" | head -40
	echo "build ($kind) failed; full log: $bdir.build.log" >&2
	exit 1
}
echo "build ($kind): ok ($bdir)"
