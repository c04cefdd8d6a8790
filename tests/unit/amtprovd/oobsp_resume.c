/*
 * Unit tests for src/amtprovd/oobsp (role oobsp): a service point killed
 * right after the device acted (after SetAdminAclEntryEx, after
 * CommitChanges), its lease running out, and a second service point
 * resuming the job from the step log; and the "which password does the
 * device hold" rule on a committed device.  The code is shared with
 * oobsp_engine.c (see its main).
 */
#define OOBSP_TEST_RESUME 1
#include "oobsp_engine.c"
