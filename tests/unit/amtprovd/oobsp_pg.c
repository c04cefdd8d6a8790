/*
 * Unit tests for src/amtprovd/oobsp (role oobsp) on PostgreSQL (the shared
 * site database of several service points): a device through every step,
 * the pending-password rule, a kill and a take-over, and a fleet, on the
 * server named by AMTP_TEST_PG (one schema per test, dropped afterwards).
 * Without AMTP_TEST_PG the program says so and passes.  The code is shared
 * with oobsp_engine.c (see its main).
 */
#define OOBSP_TEST_PG 1
#include "oobsp_engine.c"
