#!/usr/bin/env bash
# Starts the services the tests need and prints the environment they use.
# PostgreSQL: the Debian cluster on 127.0.0.1:5432 with a role and database for
# the tests.  slapd is started by each LDAP test itself, in its own folder.
# Usage: eval "$(scripts/test-services.sh)"
set -euo pipefail
pgver=$(ls /usr/lib/postgresql 2>/dev/null | sort -n | tail -1)
if [ -z "$pgver" ]; then
	echo "echo 'test-services: PostgreSQL is not installed' >&2"
	exit 0
fi
if ! pg_lsclusters -h 2>/dev/null | grep -q .; then
	pg_createcluster "$pgver" main >/dev/null 2>&1
fi
cluster=$(pg_lsclusters -h | head -1 | awk '{print $1" "$2}')
if ! pg_lsclusters -h | head -1 | grep -q online; then
	pg_ctlcluster $cluster start >&2
fi
port=$(pg_lsclusters -h | head -1 | awk '{print $3}')
for i in $(seq 1 30); do
	runuser -u postgres -- psql -p "$port" -qAtc 'select 1' >/dev/null 2>&1 && break
	sleep 0.5
done
runuser -u postgres -- psql -p "$port" -qAt >/dev/null 2>&1 <<SQL || true
DO \$\$ BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'amtprov_test') THEN
    CREATE ROLE amtprov_test LOGIN PASSWORD 'amtprov_test' CREATEDB;
  END IF;
END \$\$;
SQL
runuser -u postgres -- psql -p "$port" -qAtc "SELECT 1 FROM pg_database WHERE datname='amtprov_test'" |
	grep -q 1 || runuser -u postgres -- createdb -p "$port" -O amtprov_test amtprov_test >&2
echo "export AMTP_TEST_PG='postgresql://amtprov_test:amtprov_test@127.0.0.1:$port/amtprov_test'"
