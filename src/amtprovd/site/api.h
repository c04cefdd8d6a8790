/*
 * amtprov - site/api.h: the handlers of the site API (role site).
 * api_agent.c serves the agents, api_admin.c the admins, api_misc.c
 * /healthz and /metrics.  The route table is in routes.c.
 */
#ifndef SITE_API_H
#define SITE_API_H

#include <stdint.h>

#include <jansson.h>

struct amtp_store;
struct amtp_device_rec;
struct amtp_job_rec;
struct site_req;

void site_api_register(struct site_req *req);
void site_api_policy(struct site_req *req);
void site_api_otp(struct site_req *req);
void site_api_state(struct site_req *req);

void site_api_devices(struct site_req *req);
void site_api_device(struct site_req *req);
void site_api_requeue(struct site_req *req);
void site_api_cancel(struct site_req *req);
void site_api_unprovision(struct site_req *req);
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

/* JSON forms of the store's records (NULL when out of memory). */
json_t *site_json_device(const struct amtp_device_rec *d);
json_t *site_json_job(const struct amtp_job_rec *j);

#endif
