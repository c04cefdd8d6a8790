#!/usr/bin/env bash
# The agent integration test (agent_flow.sh) once more, over the MEI driver
# back end: the agent opens /dev/mei0, issues IOCTL_MEI_CONNECT_CLIENT and
# does one write() per request and one read() per answer, exactly as on
# real hardware, while umockdev (libumockdev-preload, Debian's umockdev
# package) emulates the node and tests/tools/umockdev_mei_relay relays its
# ioctl/write/read to a running amtsim device.  Skips (77) when umockdev is
# not installed.
set -u
SRC=${AMTP_SRC:-$(cd "$(dirname "$0")/../.." && pwd)}
AGENT_MEI=umockdev exec bash "$SRC/tests/integration/agent_flow.sh"
