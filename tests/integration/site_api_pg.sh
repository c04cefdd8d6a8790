#!/usr/bin/env bash
# The site API scenario of site_api.sh on PostgreSQL (AMTP_TEST_PG), in a
# schema of its own.  Skipped (77) when AMTP_TEST_PG is not set.
[ -n "${AMTP_TEST_PG:-}" ] || { echo "SKIP: AMTP_TEST_PG not set"; exit 77; }
SITE_API_PG=$AMTP_TEST_PG exec bash "$(dirname "$0")/site_api.sh"
