/*
 * amtprov - oobsp/plan.c: the plan of a provisioning job (role oobsp), as
 * data.  The engine (engine.c) walks it in order; each entry names the step
 * as the job log shows it, the function that does it and when it runs.
 * docs/service-point.md is this table in prose.
 */
#include <stddef.h>
#include <string.h>

#include "oobsp/oobsp.h"
#include "oobsp/oobsp_int.h"

const struct oobsp_step oobsp_plan_provision[] = {
	{ "connect", oobsp_step_connect, OOBSP_F_SESSION,
	    "TLS to 16993 with the provisioning certificate chain (7); Digest "
	    "as admin with the escrowed passwords, then the setup credentials "
	    "in order (8, 9); settles a pending password after a crash" },
	{ "read-facts", oobsp_step_read_facts, OOBSP_F_SESSION,
	    "AMT_GeneralSettings: the Digest realm" },
	{ "otp-check", oobsp_step_otp_check, OOBSP_F_STAGE1,
	    "ProvisioningServerOTP, SHA-256, constant-time compare with the "
	    "site's hash (5); nothing is written before" },
	{ "time-sync", oobsp_step_time_sync, OOBSP_F_STAGE1,
	    "GetLowAccuracyTimeSynch, SetHighAccuracyTimeSynch" },
	{ "host-name", oobsp_step_host_name, OOBSP_F_STAGE1,
	    "AMT_GeneralSettings HostName and DomainName" },
	{ "tls-certificate", oobsp_step_tls_cert, OOBSP_F_STAGE1,
	    "GenerateKeyPair, GeneratePKCS10RequestEx, certificate from the "
	    "enrollment point (6), AddCertificate; AddKey fallback" },
	{ "tls-enable", oobsp_step_tls_enable, OOBSP_F_STAGE1,
	    "AMT_TLSCredentialContext, AMT_TLSSettingData Enabled" },
	{ "admin-password", oobsp_step_admin_password, OOBSP_F_STAGE1,
	    "random password escrowed as pending, SetAdminAclEntryEx, "
	    "promoted" },
	{ "mebx-password", oobsp_step_mebx_password, OOBSP_F_STAGE1,
	    "the same two phases for the MEBx password (policy)" },
	{ "commit", oobsp_step_commit, OOBSP_F_STAGE1,
	    "CommitChanges: the device goes POST" },
	{ "verify", oobsp_step_verify, OOBSP_F_SESSION,
	    "reconnect: TLS pinned to the issued certificate, Digest with the "
	    "escrowed admin password" },
	{ "user-acls", oobsp_step_user_acls, OOBSP_F_STAGE2,
	    "user ACL entries replaced by the configured accounts" },
	{ "kerberos", oobsp_step_kerberos, OOBSP_F_STAGE2,
	    "Kerberos settings from the directory account" },
	{ "power", oobsp_step_power, OOBSP_F_STAGE2,
	    "AMT_SystemPowerScheme SetPowerScheme" },
	{ "network-services", oobsp_step_net_services, OOBSP_F_STAGE2,
	    "SOL and IDE redirection, web UI, ping" },
	{ "wifi", oobsp_step_wifi, OOBSP_F_STAGE2,
	    "Wi-Fi profiles: old ones deleted, PSK and 802.1X ones added "
	    "(802.1X: trusted root, client certificate from the enrollment "
	    "point for a device-made key)" },
	{ "wired-8021x", oobsp_step_wired_8021x, OOBSP_F_STAGE2,
	    "the wired AMT_8021XProfile, with its certificates" },
	{ "report", oobsp_step_report, 0,
	    "status provisioned, OTP forgotten, audit record (12)" },
};

const size_t oobsp_plan_provision_len =
    sizeof(oobsp_plan_provision) / sizeof(oobsp_plan_provision[0]);

_Static_assert(sizeof(oobsp_plan_provision) / sizeof(oobsp_plan_provision[0])
    <= OOBSP_PLAN_MAX, "the plan outgrew OOBSP_PLAN_MAX (j->done)");

int
oobsp_plan_find(const char *name)
{
	size_t i;

	for (i = 0; i < oobsp_plan_provision_len; i++)
		if (strcmp(oobsp_plan_provision[i].name, name) == 0)
			return (int)i;
	return -1;
}
