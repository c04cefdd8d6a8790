#!/usr/bin/env bash
# Load benchmark of the site API: starts amtprovd (role site) on a temp site
# (SQLite, self-signed ECDSA P-256 certificate, port chosen by the kernel)
# and runs bench_site_load against it: N agents at once, each registering,
# posting its OTP hash and its state message over one keep-alive HTTPS
# connection.  Prints errors, throughput and p99 latency.
#
# usage: AMTP_BUILD=build/release bench/site_load.sh [AGENTS] [THREADS] [RATE]
#   AGENTS  simulated agents (default 1000)
#   THREADS site.threads of amtprovd (default 4)
#   RATE    agents started per second (default: all at once)
#   AMTP_BENCH_TMP  where the temp site goes (default /tmp; /dev/shm takes
#                   the disk's fsync cost out)
#   AMTP_BENCH_TLS_PRIORITIES  site.tls_priorities (default: amtprovd's)
#   AMTP_BENCH_KEY  server key: ec (P-256, default) or rsa (RSA 2048)
#   AMTP_BENCH_MAXCONN  site.max_connections (default 4096)
# Use a build without sanitizers for figures (ASan makes everything 2-5x
# slower).
set -u
B=${AMTP_BUILD:?set AMTP_BUILD to a build directory}
N=${1:-1000}
THREADS=${2:-4}
RATE=${3:-0}
AMTPROVD=$B/src/amtprovd/amtprovd
BENCH=$B/bench_site_load
for f in "$AMTPROVD" "$BENCH"; do
	[ -x "$f" ] || { echo "$f: not built (cmake --build $B --target amtprovd bench_site_load)"; exit 2; }
done

T=$(mktemp -d "${AMTP_BENCH_TMP:-/tmp}/amtp_site_load.XXXXXX")
PID=
cleanup() {
	if [ -n "$PID" ] && kill -0 "$PID" 2>/dev/null; then
		kill "$PID"
		wait "$PID" 2>/dev/null
	fi
	rm -rf "$T"
}
trap cleanup EXIT

case ${AMTP_BENCH_KEY:-ec} in
rsa) KEYOPT=(-newkey rsa:2048) ;;
*) KEYOPT=(-newkey ec -pkeyopt ec_paramgen_curve:P-256) ;;
esac
openssl req -x509 "${KEYOPT[@]}" -nodes \
	-keyout "$T/site.key" -out "$T/site.crt" -days 2 -subj /CN=127.0.0.1 \
	-addext "subjectAltName=IP:127.0.0.1" 2>/dev/null || exit 1
chmod 600 "$T/site.key"
"$AMTPROVD" --make-master-key "$T/master.key" || exit 1
openssl rand -hex 24 > "$T/enrol.secret"
chmod 600 "$T/enrol.secret"
cat > "$T/amtprovd.conf" <<CONF
[site]
roles = site
listen = 127.0.0.1:0
tls_cert = $T/site.crt
tls_key = $T/site.key
database = sqlite:$T/site.db
master_key_file = $T/master.key
enrolment_secret_file = $T/enrol.secret
threads = $THREADS
max_connections = ${AMTP_BENCH_MAXCONN:-4096}
log_level = warning
${AMTP_BENCH_TLS_PRIORITIES:+tls_priorities = $AMTP_BENCH_TLS_PRIORITIES}
[oob]
dns_domain = bench.example.test
CONF
ulimit -n 8192 2>/dev/null || ulimit -n "$(ulimit -Hn)"
"$AMTPROVD" -c "$T/amtprovd.conf" > "$T/daemon.log" 2>&1 &
PID=$!
PORT=
for _ in $(seq 1 100); do
	# log_level warning hides the start line: find the port of our site
	# role (the child of $PID) with ss
	CHILD=$(pgrep -P "$PID" | head -1)
	[ -n "$CHILD" ] && PORT=$(ss -ltnpH 2>/dev/null | grep "pid=$CHILD," | grep -o '127.0.0.1:[0-9]*' | head -1 | cut -d: -f2)
	[ -n "$PORT" ] && break
	kill -0 "$PID" 2>/dev/null || break
	sleep 0.1
done
[ -n "$PORT" ] || { echo "amtprovd did not start"; cat "$T/daemon.log"; exit 1; }
echo "amtprovd on 127.0.0.1:$PORT, $THREADS threads, SQLite; $N agents; key ${AMTP_BENCH_KEY:-ec}; TLS $(openssl s_client -connect "127.0.0.1:$PORT" </dev/null 2>/dev/null | sed -n 's/^New, \(.*\)$/\1/p' | head -1)"
cpu() { # utime + stime of the site role (the child) in seconds
	local c
	c=$(pgrep -P "$PID" | head -1)
	[ -n "$c" ] && awk -v hz="$(getconf CLK_TCK)" '{ printf "%.2f", ($14 + $15) / hz }' "/proc/$c/stat"
}
c0=$(cpu)
TIMEFORMAT='bench client: %U s user + %S s system CPU, %R s elapsed'
time "$BENCH" -u "https://127.0.0.1:$PORT" -k "$T/site.crt" -s "$T/enrol.secret" -n "$N" -r "$RATE"
st=$?
c1=$(cpu)
echo "site server: $(awk -v a="$c0" -v b="$c1" 'BEGIN { printf "%.2f", b - a }') s CPU; machine load: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) CPUs"
# the server's own view: request time from its first byte to its answer,
# from the latency histogram of /metrics (bucket upper bounds)
curl -sS --cacert "$T/site.crt" "https://127.0.0.1:$PORT/metrics" > "$T/metrics" || st=1
awk -F'[{}" ]+' '
/^amtprov_http_request_duration_seconds_bucket\{route="agent_/ {
	split($0, kv, /[{}]/); lab = kv[2]; v = $NF
	match(lab, /route="[a-z_]*"/); route = substr(lab, RSTART + 7, RLENGTH - 8)
	match(lab, /le="[^"]*"/); le = substr(lab, RSTART + 4, RLENGTH - 5)
	n[route, le] += v; if (le == "+Inf") tot[route] += v
	if (!(route in seen)) { seen[route] = 1; order[++nr] = route }
	if (!((route, le) in ls)) { ls[route, le] = 1; les[route, ++nl[route]] = le }
}
END {
	for (i = 1; i <= nr; i++) {
		r = order[i]; p50 = p99 = ""
		for (j = 1; j <= nl[r]; j++) {
			le = les[r, j]
			if (p50 == "" && n[r, le] >= 0.50 * tot[r]) p50 = le
			if (p99 == "" && n[r, le] >= 0.99 * tot[r]) p99 = le
		}
		printf "server (metrics) %-15s n=%-6d p50 <= %ss  p99 <= %ss\n", r, tot[r], p50, p99
	}
}' "$T/metrics"
awk '/^amtprov_site_write_units_total / { u = $2 } /^amtprov_site_write_commits_total / { c = $2 }
END { if (c > 0) printf "group commit: %d agent writes in %d commits (%.1f per commit)\n", u, c, u / c }' "$T/metrics"
echo "jobs queued: $(sqlite3 "$T/site.db" 'SELECT count(*) FROM jobs' 2>/dev/null || echo '?')"
exit $st
