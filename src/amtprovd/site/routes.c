/*
 * amtprov - site/routes.c: the route table of the site API (role site).
 * docs/api/openapi.yaml describes the same routes; keep them in step.
 */
#include <stddef.h>

#include "amtprov/limits.h"

#include "site/api.h"
#include "site/httpd.h"

const struct site_route site_routes[] = {
	{ SITE_POST, "/api/v1/agents/register", SITE_AUTH_ENROL,
	    AMTP_SITE_BODY_PREAUTH_MAX, site_api_register, "agent_register" },
	{ SITE_GET, "/api/v1/agents/policy", SITE_AUTH_AGENT, 0,
	    site_api_policy, "agent_policy" },
	{ SITE_POST, "/api/v1/agents/otp", SITE_AUTH_AGENT,
	    AMTP_SITE_BODY_MAX, site_api_otp, "agent_otp" },
	{ SITE_POST, "/api/v1/agents/state", SITE_AUTH_AGENT,
	    AMTP_SITE_BODY_MAX, site_api_state, "agent_state" },

	{ SITE_GET, "/api/v1/devices", SITE_AUTH_READ, 0,
	    site_api_devices, "devices" },
	{ SITE_GET, "/api/v1/devices/{id}", SITE_AUTH_READ, 0,
	    site_api_device, "device" },
	{ SITE_POST, "/api/v1/devices/{id}/requeue", SITE_AUTH_WRITE,
	    AMTP_SITE_BODY_PREAUTH_MAX, site_api_requeue, "device_requeue" },
	{ SITE_POST, "/api/v1/devices/{id}/cancel", SITE_AUTH_WRITE,
	    AMTP_SITE_BODY_PREAUTH_MAX, site_api_cancel, "device_cancel" },
	{ SITE_POST, "/api/v1/devices/{id}/unprovision", SITE_AUTH_WRITE,
	    AMTP_SITE_BODY_PREAUTH_MAX, site_api_unprovision,
	    "device_unprovision" },
	{ SITE_POST, "/api/v1/devices/{id}/rotate", SITE_AUTH_WRITE,
	    AMTP_SITE_BODY_PREAUTH_MAX, site_api_rotate, "device_rotate" },
	{ SITE_POST, "/api/v1/devices/{id}/passwords/{kind}/reveal",
	    SITE_AUTH_WRITE, AMTP_SITE_BODY_PREAUTH_MAX, site_api_reveal,
	    "password_reveal" },
	{ SITE_GET, "/api/v1/jobs", SITE_AUTH_READ, 0, site_api_jobs, "jobs" },
	{ SITE_GET, "/api/v1/audit", SITE_AUTH_READ, 0, site_api_audit,
	    "audit" },

	{ SITE_GET, "/healthz", SITE_AUTH_NONE, 0, site_api_healthz,
	    "healthz" },
	{ SITE_GET, "/metrics", SITE_AUTH_NONE, 0, site_api_metrics,
	    "metrics" },
	{ SITE_GET, NULL, SITE_AUTH_NONE, 0, NULL, NULL }
};
