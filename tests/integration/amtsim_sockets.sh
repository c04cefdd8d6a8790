#!/usr/bin/env bash
# amtsim's MEI sockets under misuse, from a raw client (python): an unknown
# GUID is closed, an oversized packet closes the connection, a fifth
# connection to one device is closed, a garbage request gets an error
# status, and running out of descriptors pauses accepting instead of
# spinning; the device answers again once clients go away.
set -u
B=${AMTP_BUILD:?}/src/amtsim/amtsim
T=$(mktemp -d /tmp/amtsim-sock.XXXXXX)
PID=
cleanup() {
	[ -n "$PID" ] && kill -9 "$PID" 2>/dev/null && wait "$PID" 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; [ -f "$T/log" ] && tail -5 "$T/log"; exit 1; }
command -v python3 >/dev/null || { echo "no python3"; exit 77; }

"$B" --state "$T/s" --devices 2 --create-only --no-fsync --quiet || fail "create"
start_sim() {	# [max open files]
	( [ -n "${1:-}" ] && ulimit -n "$1"; exec "$B" --state "$T/s" --no-network --quiet ) >"$T/log" 2>&1 &
	PID=$!
	for _ in $(seq 1 100); do grep -q '^amtsim: ready' "$T/log" && return; sleep 0.1; done
	fail "not ready"
}
stop_sim() {
	kill -0 "$PID" || fail "amtsim died"
	kill "$PID"; wait "$PID"; rc=$?; PID=
	[ $rc -eq 0 ] || fail "exit status $rc"
}

cat > "$T/lib.py" <<'PY'
import socket, struct, sys, time
AMTHI = bytes.fromhex("2800f812b7b42d4baca846e0ff65814c")
def conn(path, guid=AMTHI):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    s.settimeout(3)
    s.connect(path)
    s.send(guid)
    return s, s.recv(100)
def req(cmd, payload=b""):
    return struct.pack("<BBHII", 1, 1, 0, cmd, len(payload)) + payload
def check(cond, what):
    if not cond:
        print("check failed:", what); sys.exit(1)
def cpu(pid):
    with open("/proc/%d/stat" % pid) as f:
        return sum(int(v) for v in f.read().split()[13:15])
PY

start_sim
PYTHONPATH=$T python3 - "$T/s/0001.mei" "$T/s/0002.mei" <<'PY' || fail "socket checks"
import sys, struct, socket, time
from lib import *
dev1, dev2 = sys.argv[1], sys.argv[2]
s, hello = conn(dev1)
check(hello == struct.pack("<IB3x", 4160, 1), "hello %r" % hello)
s.send(req(0x04000011))
r = s.recv(8192)
check(r == struct.pack("<BBHIII", 1, 1, 0, 0x04800011, 8, 0) + struct.pack("<I", 0), "state reply %r" % r)
# garbage: an error status, the connection stays
s.send(b"\x07" * 5)
r = s.recv(8192)
check(len(r) == 16 and struct.unpack("<I", r[12:16])[0] == 4, "garbage reply %r" % r)
s.send(req(0x04000011)); check(len(s.recv(8192)) == 20, "still served")
# oversized: the connection is closed
s.send(b"\x00" * 4161)
check(s.recv(8192) == b"", "oversize not closed")
# unknown GUID: closed without a hello
x, hello = conn(dev1, bytes(16))
check(hello == b"", "unknown guid answered %r" % hello)
# four connections are served, the fifth is closed
cs = [conn(dev2)[0] for _ in range(4)]
x = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET); x.settimeout(3)
x.connect(dev2)
try:
    x.send(AMTHI); got = x.recv(100)
except (BrokenPipeError, ConnectionResetError):
    got = b""
check(got == b"", "fifth connection served")
for c in cs: c.close()
time.sleep(0.5)	# let amtsim see the closes
s, hello = conn(dev2)
check(len(hello) == 8, "served again after the others closed")
PY
stop_sim

# Out of descriptors: 7 to run, so 3 connections fit; more wait in the
# backlog.  amtsim must not spin, and must serve again afterwards.
start_sim 10
PYTHONPATH=$T python3 - "$T/s/0001.mei" "$T/s/0002.mei" "$PID" <<'PY' || fail "descriptor checks"
import sys, socket, time
from lib import *
dev1, dev2, pid = sys.argv[1], sys.argv[2], int(sys.argv[3])
hold = []
for path in (dev1, dev2, dev1, dev2, dev1, dev2, dev1, dev2):
    c = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    c.connect(path)
    hold.append(c)
time.sleep(1.0)
t0 = cpu(pid); time.sleep(1.0); t1 = cpu(pid)
check(t1 - t0 < 30, "amtsim spins while out of descriptors (%d ticks/s)" % (t1 - t0))
for c in hold: c.close()
time.sleep(1.0)
s, hello = conn(dev1)
s.send(req(0x04000011))
check(len(s.recv(8192)) == 20, "served again after the flood")
PY
grep -q "out of descriptors" "$T/log" || fail "descriptors never ran out: the test did not test"
[ "$(grep -c "out of descriptors" "$T/log")" -le 2 ] || fail "warning repeated: $(grep -c "out of descriptors" "$T/log")"
stop_sim
echo "PASS"
