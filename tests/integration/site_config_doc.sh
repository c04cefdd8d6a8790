#!/usr/bin/env bash
# docs/configuration.md cannot drift from the amtprovd.conf schema: its
# reference block must equal `amtprovd --print-defaults`, and its example
# must pass `amtprovd --check-config` (with the files it names stubbed in a
# temp dir).
set -u
B=${AMTP_BUILD:?}
S=${AMTP_SRC:?}
AMTPROVD=$B/src/amtprovd/amtprovd
DOC=$S/docs/configuration.md
T=$(mktemp -d /tmp/amtp_conf_doc.XXXXXX)
trap 'rm -rf "$T"' EXIT
fails=0

"$AMTPROVD" --print-defaults > "$T/defaults" || { echo "FAIL: --print-defaults"; exit 1; }
sed -n '/<!-- BEGIN amtprovd --print-defaults -->/,/<!-- END amtprovd --print-defaults -->/p' "$DOC" |
	sed '1,2d;$d' | sed '$d' > "$T/doc"
if ! diff -u "$T/doc" "$T/defaults"; then
	echo "FAIL: docs/configuration.md reference differs from amtprovd --print-defaults"
	fails=1
fi
sed -n '/<!-- BEGIN example -->/,/<!-- END example -->/p' "$DOC" |
	sed '1,2d;$d' | sed '$d' > "$T/example.conf"
[ -s "$T/example.conf" ] || { echo "FAIL: no example"; fails=1; }
if ! "$AMTPROVD" -c "$T/example.conf" --check-config > "$T/check.out" 2>&1; then
	echo "FAIL: the documented example does not pass --check-config:"
	cat "$T/check.out"
	fails=1
fi
[ $fails -eq 0 ] && echo "site_config_doc: ok"
exit $fails
