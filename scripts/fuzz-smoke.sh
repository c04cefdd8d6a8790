#!/usr/bin/env bash
# Runs each libFuzzer target for a few seconds on a copy of its corpus.
# Usage: fuzz-smoke.sh BUILD_DIR SECONDS
set -uo pipefail
bdir=$1
secs=${2:-5}
top=$(cd "$(dirname "$0")/.." && pwd)
rc=0
n=0
for f in "$bdir"/fuzz_*; do
	[ -x "$f" ] || continue
	name=$(basename "$f")
	corpus="$top/fuzz/corpus/${name#fuzz_}"
	work=$(mktemp -d)
	cp -r "$corpus"/. "$work"/ 2>/dev/null || true
	dict=()
	[ -f "$top/fuzz/${name#fuzz_}.dict" ] && dict=(-dict="$top/fuzz/${name#fuzz_}.dict")
	if "$f" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 "${dict[@]}" "$work" \
		>"$work.log" 2>&1; then
		echo "fuzz $name: ok ($(grep -oE 'DONE.*|#[0-9]+.*DONE' "$work.log" | tail -1))"
	else
		echo "fuzz $name: FAILED"
		tail -40 "$work.log"
		rc=1
	fi
	n=$((n + 1))
	rm -rf "$work" "$work.log"
done
echo "fuzz smoke: $n target(s) run"
exit $rc
