/*
 * amtprov - site/api.h: the handlers of the site API (role site).
 * api_agent.c serves the agents, api_admin.c the admins, api_misc.c
 * /healthz and /metrics.  The route table is in routes.c.
 */
#ifndef SITE_API_H
#define SITE_API_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "store/store.h"

struct amtp_store;
struct amtp_device_rec;
struct amtp_job_rec;
struct site_req;
struct site_state_req;

void site_api_register(struct site_req *req);
void site_api_policy(struct site_req *req);
void site_api_otp(struct site_req *req);
void site_api_state(struct site_req *req);

void site_api_devices(struct site_req *req);
void site_api_device(struct site_req *req);
void site_api_requeue(struct site_req *req);
void site_api_cancel(struct site_req *req);
void site_api_unprovision(struct site_req *req);
void site_api_rotate(struct site_req *req);
void site_api_reveal(struct site_req *req);
void site_api_jobs(struct site_req *req);
void site_api_audit(struct site_req *req);

void site_api_healthz(struct site_req *req);
void site_api_metrics(struct site_req *req);

/*
 * After an OTP or a state message: when the device is "not provisioned" and
 * has both an OTP hash and firmware facts and no open provisioning job,
 * give it its directory account (step 4, site/diracct.c) and queue its
 * provisioning job.  *job_id gets the open job's id, or 0 when nothing is
 * queued.  On a directory failure the answer (409/503) is set in req.
 */
int site_api_maybe_queue(struct site_req *req, struct amtp_store *st,
    int64_t device_id, int64_t *job_id);

/*
 * The AMT status and status reason (into reason, reasonsz bytes) that the
 * state message in implies for a device whose status is cur.  *may_queue
 * is set to 0 when the message must not queue a job: provisioning_state
 * "in" with a reason is the agent saying it stopped because another tool
 * is configuring the device.  The agent's reason, when given, is kept.
 */
enum amtp_amt_status site_api_state_status(const struct site_state_req *in,
    enum amtp_amt_status cur, char *reason, size_t reasonsz, int *may_queue);

/* True when the policy tells the agent of a device with status s to go on
 * with steps 1-3 (unknown, not supported, detected, not provisioned). */
int site_api_is_provisionable(enum amtp_amt_status s);

/* JSON forms of the store's records (NULL when out of memory). */
json_t *site_json_device(const struct amtp_device_rec *d);
json_t *site_json_job(const struct amtp_job_rec *j);

#endif
