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
#include "store/store.h"

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
	    "Wi-Fi profiles: old ones deleted with the certificates and keys "
	    "only they used, PSK and 802.1X ones added (802.1X: trusted root, "
	    "client certificate from the enrollment point for a device-made "
	    "key)" },
	{ "wired-8021x", oobsp_step_wired_8021x, OOBSP_F_STAGE2,
	    "the wired AMT_8021XProfile and IPS_IEEE8021xSettings, linked to "
	    "their certificates (SetCertificates); the former link's "
	    "certificates deleted when unused" },
	{ "report", oobsp_step_report, 0,
	    "status provisioned, OTP forgotten, audit record (12)" },
};

const size_t oobsp_plan_provision_len =
    sizeof(oobsp_plan_provision) / sizeof(oobsp_plan_provision[0]);

_Static_assert(sizeof(oobsp_plan_provision) / sizeof(oobsp_plan_provision[0])
    <= OOBSP_PLAN_MAX, "the plan outgrew OOBSP_PLAN_MAX (j->done)");

/* A new admin password for a provisioned device (job kind rotate). */
const struct oobsp_step oobsp_plan_rotate[] = {
	{ "connect", oobsp_step_connect, OOBSP_F_SESSION,
	    "Digest with the escrowed admin password (pending first: a "
	    "rotation cut short is settled here)" },
	{ "read-facts", oobsp_step_read_facts, OOBSP_F_SESSION,
	    "AMT_GeneralSettings: the Digest realm" },
	{ "verify", oobsp_step_verify, OOBSP_F_SESSION,
	    "TLS pinned to the issued certificate, the current password" },
	{ "rotate-admin", oobsp_step_rotate_admin, 0,
	    "new password escrowed as pending, SetAdminAclEntryEx, promoted, "
	    "checked on a new session" },
	{ "report", oobsp_step_report_rotate, 0,
	    "audit record" },
};

const size_t oobsp_plan_rotate_len =
    sizeof(oobsp_plan_rotate) / sizeof(oobsp_plan_rotate[0]);

_Static_assert(sizeof(oobsp_plan_rotate) / sizeof(oobsp_plan_rotate[0])
    <= OOBSP_PLAN_MAX, "the plan outgrew OOBSP_PLAN_MAX (j->done)");

/* Back to PRE (job kind unprovision). */
const struct oobsp_step oobsp_plan_unprovision[] = {
	{ "connect", oobsp_step_unprov_connect, OOBSP_F_SESSION,
	    "Digest with the escrowed admin password (pending first); a "
	    "device that no longer listens after an earlier attempt's "
	    "Unprovision is PRE" },
	{ "unprovision", oobsp_step_unprovision, OOBSP_F_LOGFIRST,
	    "AMT_SetupAndConfigurationService.Unprovision(ProvisioningMode 1)" },
	{ "confirm-pre", oobsp_step_confirm_pre, 0,
	    "a new connection: refused (PRE closes 16993) or "
	    "ProvisioningState 0" },
	{ "directory", oobsp_step_dir_disable, 0,
	    "the device's directory account disabled" },
	{ "report", oobsp_step_report_unprov, 0,
	    "escrowed admin and MEBx passwords retired, status not "
	    "provisioned, audit record" },
};

const size_t oobsp_plan_unprovision_len =
    sizeof(oobsp_plan_unprovision) / sizeof(oobsp_plan_unprovision[0]);

_Static_assert(sizeof(oobsp_plan_unprovision) /
    sizeof(oobsp_plan_unprovision[0]) <= OOBSP_PLAN_MAX,
    "the plan outgrew OOBSP_PLAN_MAX (j->done)");

static const struct oobsp_plan plans[AMTP_JOB_KIND__MAX] = {
	[AMTP_JOB_PROVISION] = { oobsp_plan_provision,
	    sizeof(oobsp_plan_provision) / sizeof(oobsp_plan_provision[0]) },
	[AMTP_JOB_ROTATE] = { oobsp_plan_rotate,
	    sizeof(oobsp_plan_rotate) / sizeof(oobsp_plan_rotate[0]) },
	[AMTP_JOB_UNPROVISION] = { oobsp_plan_unprovision,
	    sizeof(oobsp_plan_unprovision) /
	    sizeof(oobsp_plan_unprovision[0]) },
};

const struct oobsp_plan *
oobsp_plan_for(int kind)
{
	if (kind < 0 || kind >= AMTP_JOB_KIND__MAX || plans[kind].steps == NULL)
		return NULL;
	return &plans[kind];
}

int
oobsp_plan_index(const struct oobsp_plan *plan, const char *name)
{
	size_t i;

	for (i = 0; i < plan->n; i++)
		if (strcmp(plan->steps[i].name, name) == 0)
			return (int)i;
	return -1;
}

int
oobsp_plan_find(const char *name)
{
	return oobsp_plan_index(&plans[AMTP_JOB_PROVISION], name);
}
