#!/usr/bin/env bash
# The manual pages and docs/cli.md against the programs: every man page
# renders without a groff warning; every option that `amtprov --help`,
# `amtprov init --help`, `amtprovd`'s usage and `amtsim`'s usage print is
# in the program's manual page; every amtprov command and option that the
# manual page names is one the program accepts (no invented flags).
set -u

B=${AMTP_BUILD:?AMTP_BUILD must name the build directory}
S=${AMTP_SRC:?AMTP_SRC must name the source directory}
M=$S/docs/man
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
ok() { echo "ok: $*"; }

if command -v groff >/dev/null; then
	for m in "$M"/*.[18]; do
		w=$(groff -man -ww -z "$m" 2>&1)
		[ -z "$w" ] && ok "$(basename "$m") renders cleanly" || fail "$(basename "$m"): $w"
	done
fi

# the options a program prints, as --name words
opts() { grep -o -- '--[a-z][a-z0-9-]*' | sort -u; }
# the options a man page names (roff escapes \- undone)
manopts() { sed 's/\\-/-/g; s/\\f[BIRP]//g' "$1" | grep -o -- '--[a-z][a-z0-9-]*' | sort -u; }

check() {	# NAME MANPAGE HELP-TEXT
	local missing
	missing=$(comm -23 <(printf '%s\n' "$3" | opts) <(manopts "$2"))
	[ -z "$missing" ] && ok "$1: every option of its usage is in $(basename "$2")" ||
		fail "$1: not in $(basename "$2"): $(echo $missing)"
}
check amtprov "$M/amtprov.1" "$("$B/src/cli/amtprov" --help; "$B/src/cli/amtprov" init --help)"
check amtprovd "$M/amtprovd.8" "$("$B/src/amtprovd/amtprovd" --help 2>&1 | grep -v unrecognized)"
check amtsim "$M/amtsim.1" "$("$B/src/amtsim/amtsim" --help 2>&1)"
check amtprov-agent "$M/amtprov-agent.8" "$("$B/src/agent/amtprov-agent" --help 2>&1)"

# no invented amtprov options: each one its man page names is accepted by
# the command that takes it (an unknown option makes getopt say so)
help=$("$B/src/cli/amtprov" --help; "$B/src/cli/amtprov" init --help;
	for c in devices jobs audit watch summary requeue; do "$B/src/cli/amtprov" $c --help; done
	"$B/src/cli/amtprov" device show 1 --help; "$B/src/cli/amtprov" device password 1 --help)
extra=$(comm -13 <(printf '%s\n' "$help" | opts) <(manopts "$M/amtprov.1"))
[ -z "$extra" ] && ok "amtprov.1 names no option the program lacks" || fail "amtprov.1 names unknown options: $(echo $extra)"
others=$("$B/src/amtprovd/amtprovd" --help 2>&1; "$B/src/amtsim/amtsim" --help 2>&1; "$B/src/agent/amtprov-agent" --help 2>&1)
extra=$(comm -13 <(printf '%s\n%s\n' "$help" "$others" | opts) <(grep -o -- '--[a-z][a-z0-9-]*' "$S/docs/cli.md" | sort -u))
[ -z "$extra" ] && ok "docs/cli.md names no option amtprov lacks" || fail "docs/cli.md names unknown options: $(echo $extra)"
[ $fails = 0 ] && echo PASS || { echo "$fails failure(s)"; exit 1; }
