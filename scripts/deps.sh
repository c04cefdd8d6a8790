#!/usr/bin/env bash
# Installs exactly the Debian packages that amtprov needs to build and test.
# Idempotent: packages already installed are left alone; it says what it installs.
# Usage: scripts/deps.sh [build|test|all]   (default: all)
set -euo pipefail

build_pkgs=(
	build-essential cmake pkg-config clang libclang-rt-14-dev
	libssl-dev libcurl4-openssl-dev libmicrohttpd-dev libxml2-dev
	libjansson-dev libsqlite3-dev libpq-dev libldap-dev libinih-dev
	libcmocka-dev libumockdev-dev
)
test_pkgs=(
	openssl curl sqlite3 postgresql slapd ldap-utils umockdev
	gnutls-bin procps iproute2 python3 jq groff-base util-linux
)

what=${1:-all}
case "$what" in
build) want=("${build_pkgs[@]}") ;;
test) want=("${test_pkgs[@]}") ;;
all) want=("${build_pkgs[@]}" "${test_pkgs[@]}") ;;
*) echo "usage: $0 [build|test|all]" >&2; exit 2 ;;
esac

missing=()
for p in "${want[@]}"; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
		missing+=("$p")
	fi
done
if [ ${#missing[@]} -eq 0 ]; then
	exit 0
fi
echo "deps: installing ${missing[*]}"
if [ "$(id -u)" -ne 0 ]; then
	echo "deps: not root; run as root or install these packages first" >&2
	exit 1
fi
export DEBIAN_FRONTEND=noninteractive
# slapd asks questions at install time and starts a system daemon; we start our own.
echo "slapd slapd/no_configuration boolean true" | debconf-set-selections
apt-get update -q >/dev/null
apt-get install -y -q --no-install-recommends "${missing[@]}" >/tmp/amtprov-deps.log 2>&1 || {
	echo "deps: apt-get install failed; see /tmp/amtprov-deps.log" >&2
	tail -20 /tmp/amtprov-deps.log >&2
	exit 1
}
echo "deps: installed ${#missing[@]} package(s)"
