#!/usr/bin/env bash
# Fails when a banned function (STYLE.md section 4) is used in src/, include/,
# tests/, fuzz/ or bench/.
set -u
top=${1:-$(dirname "$0")/..}
cd "$top" || exit 2
pat='(^|[^_a-zA-Z0-9])(strcpy|strcat|sprintf|vsprintf|gets|strtok|atoi|atol|atoll)[[:space:]]*\('
hits=$(grep -rnE "$pat" --include='*.c' --include='*.h' src include tests fuzz bench 2>/dev/null |
	grep -vE '(snprintf|vsnprintf|asprintf|vasprintf)[[:space:]]*\(' | grep -v 'banned-ok')
if [ -n "$hits" ]; then
	echo "banned functions in use (STYLE.md section 4):"
	echo "$hits"
	exit 1
fi
echo "check-banned: no banned functions"
