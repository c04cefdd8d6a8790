/*
 * amtprov - ws.c: amtsim's WS-Management engine.  One generic Get, Put,
 * Create, Delete, Enumerate, Pull, Release and Invoke over the class tables
 * of classes.c; envelopes are parsed and built by libamtp's wsman.h.
 *
 * Replies are shaped like a real device's (spec/golden/): properties in the
 * table's order (AMT's: ASCII order of names), <Method>_OUTPUT with the
 * ReturnValue last, EnumerationContext ids in AMT's form, SOAP faults with
 * AMT's subcodes.  HTTP status: 200, or 400 for a Sender fault and 500 for
 * a Receiver fault (as AMT).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "amtprov/buf.h"
#include "amtprov/err.h"
#include "amtprov/log.h"
#include "amtprov/str.h"
#include "amtprov/xml.h"
#include "device.h"
#include "simnet.h"

/* ---- arena ---- */

struct simnet_chunk {
	struct simnet_chunk	*next;
	size_t			 used, cap;
	max_align_t		 data[];
};

#define ARENA_CHUNK	8192

void *
simnet_alloc(struct simnet_arena *a, size_t n)
{
	struct simnet_chunk *c = a->head;
	size_t al = sizeof(max_align_t), cap;
	void *p;

	n = (n + al - 1) / al * al;
	if (n == 0)
		n = al;
	if (c == NULL || c->cap - c->used < n) {
		cap = n > ARENA_CHUNK ? n : ARENA_CHUNK;
		if ((c = calloc(1, sizeof(*c) + cap)) == NULL)
			return NULL;
		c->cap = cap;
		c->next = a->head;
		a->head = c;
	}
	p = (unsigned char *)c->data + c->used;
	c->used += n;
	return p;
}

char *
simnet_strdup(struct simnet_arena *a, const char *s)
{
	size_t n = strlen(s);
	char *p;

	if ((p = simnet_alloc(a, n + 1)) != NULL)
		memcpy(p, s, n + 1);
	return p;
}

char *
simnet_printf(struct simnet_arena *a, const char *fmt, ...)
{
	va_list ap;
	char *p;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0 || (p = simnet_alloc(a, (size_t)n + 1)) == NULL)
		return NULL;
	va_start(ap, fmt);
	(void)vsnprintf(p, (size_t)n + 1, fmt, ap);
	va_end(ap);
	return p;
}

void
simnet_arena_free(struct simnet_arena *a)
{
	struct simnet_chunk *c, *n;

	for (c = a->head; c != NULL; c = n) {
		n = c->next;
		explicit_bzero(c->data, c->cap);
		free(c);
	}
	a->head = NULL;
}

/* ---- instances as WS-Management objects ---- */

static const char *
prop_text(struct simnet_ctx *x, const struct simnet_prop *p,
    const json_t *inst)
{
	const json_t *v;

	if (p == NULL)
		return NULL;
	if (p->get != NULL)
		return p->get(x, inst);
	v = json_object_get(inst, p->name);
	if (json_is_string(v))
		return json_string_value(v);
	if (json_is_array(v) && json_array_size(v) > 0 &&
	    json_is_string(json_array_get(v, 0)))
		return json_string_value(json_array_get(v, 0));
	return NULL;
}

static struct amtp_wsman_epr *
epr_from_json(struct simnet_arena *a, const json_t *v)
{
	struct amtp_wsman_epr *e;
	struct amtp_wsman_selector *s;
	const json_t *sel, *sv;
	const char *k;
	size_t n = 0;

	if ((e = simnet_alloc(a, sizeof(*e))) == NULL)
		return NULL;
	e->resource_uri = simnet_str(v, "uri", NULL);
	sel = json_object_get(v, "sel");
	n = json_object_size(sel);
	if (n > AMTP_WSMAN_MAX_SELECTORS)
		n = AMTP_WSMAN_MAX_SELECTORS;
	if (n > 0 && (s = simnet_alloc(a, n * sizeof(*s))) != NULL) {
		e->selectors = s;
		json_object_foreach((json_t *)sel, k, sv) {
			if (e->nselectors == n || !json_is_string(sv))
				continue;
			s[e->nselectors].name = k;
			s[e->nselectors].value = json_string_value(sv);
			e->nselectors++;
		}
	}
	return e;
}

/* The instance as an object in table order (arena memory; strings point
 * into inst, which must outlive the object). */
static struct amtp_wsman_obj *
obj_from_inst(struct simnet_ctx *x, const struct simnet_class *cls,
    const json_t *inst)
{
	struct amtp_wsman_obj *o;
	struct amtp_wsman_prop *pp;
	const struct simnet_prop *p;
	const json_t *v, *e;
	const char *t;
	size_t i, k, n = 0, cap = 0;

	for (i = 0; i < cls->nprops; i++) {
		v = json_object_get(inst, cls->props[i].name);
		cap += json_is_array(v) ? json_array_size(v) : 1;
	}
	if ((o = simnet_alloc(x->a, sizeof(*o))) == NULL ||
	    (pp = simnet_alloc(x->a, (cap + 1) * sizeof(*pp))) == NULL)
		return NULL;
	for (i = 0; i < cls->nprops; i++) {
		p = &cls->props[i];
		if (p->flags & SP_HIDDEN)
			continue;
		v = json_object_get(inst, p->name);
		if (p->get == NULL && json_is_array(v)) {
			json_array_foreach(v, k, e) {
				if (!json_is_string(e) || n == cap)
					continue;
				pp[n].name = p->name;
				pp[n].text = json_string_value(e);
				n++;
			}
			continue;
		}
		if (p->get == NULL && p->type == ST_EPR && json_is_object(v)) {
			pp[n].name = p->name;
			if ((pp[n].epr = epr_from_json(x->a, v)) == NULL)
				return NULL;
			n++;
			continue;
		}
		if ((t = prop_text(x, p, inst)) == NULL || n == cap)
			continue;
		pp[n].name = p->name;
		pp[n].text = t;
		n++;
	}
	/* an association enumerated through its base class names its own
	 * class (the hidden "_class") */
	o->name = json_is_string(json_object_get(inst, "_class")) ?
	    json_string_value(json_object_get(inst, "_class")) : cls->name;
	o->props = pp;
	o->nprops = n;
	return o;
}

/* ---- classes ---- */

const struct simnet_class *
simnet_class_find(const char *uri)
{
	const struct simnet_class *c;
	size_t i, bl;

	if (uri == NULL)
		return NULL;
	for (i = 0; i < simnet_nclasses; i++) {
		c = simnet_classes[i];
		bl = strlen(c->base);
		if (strncmp(uri, c->base, bl) == 0 &&
		    strcmp(uri + bl, c->name) == 0)
			return c;
	}
	return NULL;
}

const char *
simnet_class_uri(struct simnet_arena *a, const struct simnet_class *cls)
{
	return simnet_printf(a, "%s%s", cls->base, cls->name);
}

const struct simnet_prop *
simnet_prop_find(const struct simnet_class *cls, const char *name)
{
	size_t i;

	for (i = 0; i < cls->nprops; i++)
		if (strcmp(cls->props[i].name, name) == 0)
			return &cls->props[i];
	return NULL;
}

int
simnet_prop_valid(const struct simnet_prop *p, const char *v)
{
	struct amtp_buf *b;
	long long n;
	int ok;

	switch (p->type) {
	case ST_BOOL:
		return strcmp(v, "true") == 0 || strcmp(v, "false") == 0;
	case ST_INT:
		return amtp_parse_int(v, p->min, p->max, &n) == 0;
	case ST_B64:
		if ((b = amtp_buf_new(strlen(v) + 16)) == NULL)
			return 0;
		ok = amtp_b64_decode(b, v, strlen(v)) == 0;
		amtp_buf_free(b);
		return ok;
	case ST_STR:
		return p->max <= 0 || strlen(v) <= (size_t)p->max;
	default:
		return 0;
	}
}

json_t *
simnet_class_instances(struct simnet_ctx *x, const struct simnet_class *cls)
{
	json_t *arr;

	if (cls->instances != NULL)
		return cls->instances(x);
	arr = json_object_get(json_object_get(x->root, "inst"), cls->name);
	if (!json_is_array(arr)) {
		if ((arr = json_array()) == NULL)
			return NULL;
		if (cls->defaults != NULL)
			cls->defaults(x->d, arr);
		if (json_object_set_new(simnet_obj(x->root, "inst"), cls->name,
		    arr) != 0)
			return NULL;
	}
	return json_incref(arr);
}

/* The instance the selectors name (first one when there are none), or
 * NULL.  *idx gets its position. */
static json_t *
find_instance(struct simnet_ctx *x, const struct simnet_class *cls,
    json_t *arr, const struct amtp_wsman_selector *sel, size_t nsel,
    size_t *idx, int *fault)
{
	const struct simnet_prop *p;
	const char *t;
	json_t *inst;
	size_t i, k;
	int ok;

	*fault = SF_NONE;
	for (k = 0; k < nsel; k++) {
		if (sel[k].value == NULL ||
		    (p = simnet_prop_find(cls, sel[k].name)) == NULL) {
			*fault = SF_INVALID_SELECTORS;
			return NULL;
		}
		(void)p;
	}
	json_array_foreach(arr, i, inst) {
		ok = 1;
		for (k = 0; k < nsel && ok; k++) {
			p = simnet_prop_find(cls, sel[k].name);
			t = prop_text(x, p, inst);
			ok = t != NULL && strcmp(t, sel[k].value) == 0;
		}
		if (ok) {
			*idx = i;
			return inst;
		}
	}
	*fault = SF_INVALID_SELECTORS;
	return NULL;
}

/* ---- replies ---- */

static const char *
next_msgid(struct simnet_ctx *x)
{
	return simnet_printf(x->a, "uuid:00000000-8086-8086-8086-%012llX",
	    (unsigned long long)++x->sd->msg_counter);
}

static const struct {
	int		 code_sender;
	const char	*ns;
	const char	*sub;
	const char	*reason;
} faults[SF__MAX] = {
	[SF_DEST_UNREACHABLE] = { 1, AMTP_WSMAN_NS_ADDR,
	    "DestinationUnreachable", "No route can be determined to reach "
	    "the destination role defined by the WSAddressing To." },
	[SF_ACTION_NOT_SUPPORTED] = { 1, AMTP_WSMAN_NS_ADDR,
	    "ActionNotSupported", "The action is not supported by the "
	    "service." },
	[SF_INVALID_SELECTORS] = { 1, AMTP_WSMAN_NS_WSMAN, "InvalidSelectors",
	    "The Selectors for the resource were not valid." },
	[SF_INVALID_REPRESENTATION] = { 1, AMTP_WSMAN_NS_TRANSFER,
	    "InvalidRepresentation", "The XML content was invalid." },
	[SF_ALREADY_EXISTS] = { 1, AMTP_WSMAN_NS_WSMAN, "AlreadyExists",
	    "The sender attempted to create a resource which already "
	    "exists." },
	[SF_INVALID_ENUM_CONTEXT] = { 0, AMTP_WSMAN_NS_ENUM,
	    "InvalidEnumerationContext", "The supplied enumeration context is "
	    "invalid." },
	[SF_MALFORMED] = { 1, AMTP_WSMAN_NS_WSMAN, "SchemaValidationError",
	    "The supplied SOAP violates the corresponding XML schema "
	    "definition." },
	[SF_ACCESS_DENIED] = { 1, AMTP_WSMAN_NS_WSMAN, "AccessDenied",
	    "The sender was not authorized to access the resource." },
	[SF_INTERNAL] = { 0, AMTP_WSMAN_NS_WSMAN, "InternalError",
	    "The service cannot comply with the request due to internal "
	    "processing errors." },
};

static int
reply_fault(struct simnet_ctx *x, struct simnet_reply *rep, int f,
    const char *detail)
{
	char clean[256];
	size_t i;
	int r;

	if (f <= SF_NONE || f >= SF__MAX)
		f = SF_INTERNAL;
	amtp_buf_reset(rep->body);
	rep->http_status = faults[f].code_sender ? 400 : 500;
	/* The detail may quote the request's bytes (a parser message):
	 * printable ASCII only. */
	if (detail != NULL) {
		for (i = 0; detail[i] != '\0' && i < sizeof(clean) - 1; i++)
			clean[i] = detail[i] >= ' ' && detail[i] <= '~' ?
			    detail[i] : '?';
		clean[i] = '\0';
		detail = clean;
	}
	r = amtp_wsman_fault_build(x->req != NULL ? x->req->message_id :
	    NULL, next_msgid(x), NULL, faults[f].code_sender ? "Sender" :
	    "Receiver", faults[f].ns, faults[f].sub, faults[f].reason, detail,
	    rep->body);
	if (r == AMTP_E_INVAL)	/* a MessageID the builder refuses */
		r = amtp_wsman_fault_build(NULL, next_msgid(x), NULL,
		    faults[f].code_sender ? "Sender" : "Receiver",
		    faults[f].ns, faults[f].sub, faults[f].reason, NULL,
		    rep->body);
	return r;
}

/* ---- operations ---- */

static int
op_get(struct simnet_ctx *x, const struct simnet_class *cls,
    struct amtp_wsman_resp_build *rb)
{
	json_t *arr, *inst;
	size_t idx;
	int f;

	if (!(cls->ops & SC_GET))
		return SF_ACTION_NOT_SUPPORTED;
	if ((arr = simnet_class_instances(x, cls)) == NULL)
		return SF_INTERNAL;
	inst = find_instance(x, cls, arr, x->req->selectors,
	    x->req->nselectors, &idx, &f);
	if (inst != NULL && (rb->body = obj_from_inst(x, cls, inst)) == NULL)
		f = SF_INTERNAL;
	/* The strings stay alive with the flash (or the built array, kept
	 * until the reply is built: see keep). */
	json_array_append(x->keep, arr);
	json_decref(arr);
	return inst != NULL ? (rb->body != NULL ? SF_NONE : SF_INTERNAL) : f;
}

static int
op_put(struct simnet_ctx *x, const struct simnet_class *cls,
    struct amtp_wsman_resp_build *rb, int *changed)
{
	const struct amtp_wsman_obj *b = x->req->body;
	const struct simnet_prop *p;
	const struct amtp_wsman_prop *bp;
	json_t *arr, *inst, *nw = NULL, *a2;
	size_t idx, i;
	int f;

	if (!(cls->ops & SC_PUT))
		return SF_ACTION_NOT_SUPPORTED;
	if (b == NULL || b->name == NULL || strcmp(b->name, cls->name) != 0)
		return SF_INVALID_REPRESENTATION;
	if ((arr = simnet_class_instances(x, cls)) == NULL)
		return SF_INTERNAL;
	if (x->req->nselectors > 0)
		inst = find_instance(x, cls, arr, x->req->selectors,
		    x->req->nselectors, &idx, &f);
	else {
		/* No selectors: the instance the body's InstanceID names,
		 * else the first. */
		struct amtp_wsman_selector s;

		s.name = "InstanceID";
		s.value = amtp_wsman_obj_text(b, "InstanceID");
		s.epr = NULL;
		if (s.value != NULL && simnet_prop_find(cls, "InstanceID"))
			inst = find_instance(x, cls, arr, &s, 1, &idx, &f);
		else
			inst = find_instance(x, cls, arr, NULL, 0, &idx, &f);
	}
	if (inst == NULL)
		goto out;
	f = SF_INTERNAL;
	if ((nw = json_deep_copy(inst)) == NULL)
		goto out;
	/* Arrays named in the body are replaced as a whole. */
	for (i = 0; i < b->nprops; i++) {
		bp = &b->props[i];
		if ((p = simnet_prop_find(cls, bp->name)) == NULL ||
		    !(p->flags & SP_WRITE) || p->get != NULL)
			continue;	/* unknown or read-only: ignored */
		if (bp->nil)
			continue;
		if (bp->text == NULL || (bp->text[0] != '\0' &&
		    !simnet_prop_valid(p, bp->text)) ||
		    (bp->text[0] == '\0' && !(p->flags & SP_ARRAY) &&
		    p->type != ST_STR)) {
			f = SF_INVALID_REPRESENTATION;
			goto out;
		}
		if (p->flags & SP_ARRAY) {
			a2 = json_object_get(nw, p->name);
			if (!json_is_array(a2) || amtp_wsman_obj_prop(b,
			    bp->name, 0) == bp) {
				a2 = json_array();
				(void)json_object_set_new(nw, p->name, a2);
			}
			if (bp->text[0] != '\0')
				(void)json_array_append_new(a2,
				    json_string(bp->text));
		} else
			(void)json_object_set_new(nw, p->name,
			    json_string(bp->text));
	}
	if (cls->put != NULL && (f = cls->put(x, nw, inst)) != SF_NONE)
		goto out;
	if (cls->instances == NULL) {
		if (json_array_set(arr, idx, nw) != 0) {
			f = SF_INTERNAL;
			goto out;
		}
		*changed = 1;
	}
	if ((rb->body = obj_from_inst(x, cls, nw)) == NULL) {
		f = SF_INTERNAL;
		goto out;
	}
	json_array_append(x->keep, nw);
	f = SF_NONE;
 out:
	json_decref(nw);
	json_decref(arr);
	return f;
}

static struct simnet_enum *
enum_find(struct simnet_dev *sd, const char *id)
{
	size_t i;

	for (i = 0; i < AMTP_SIM_NET_ENUMS_MAX; i++)
		if (sd->enums[i].id[0] != '\0' && strcmp(sd->enums[i].id, id) ==
		    0)
			return &sd->enums[i];
	return NULL;
}

static void
enum_drop(struct simnet_enum *e)
{
	json_decref(e->items);
	memset(e, 0, sizeof(*e));
}

void
simnet_ws_expire(struct simnet_dev *sd, uint64_t now)
{
	size_t i;

	for (i = 0; i < AMTP_SIM_NET_ENUMS_MAX; i++)
		if (sd->enums[i].id[0] != '\0' && sd->enums[i].expires <= now)
			enum_drop(&sd->enums[i]);
}

void
simnet_ws_free(struct simnet_dev *sd)
{
	size_t i;

	for (i = 0; i < AMTP_SIM_NET_ENUMS_MAX; i++)
		if (sd->enums[i].id[0] != '\0')
			enum_drop(&sd->enums[i]);
}

static int
op_enumerate(struct simnet_ctx *x, const struct simnet_class *cls,
    struct amtp_wsman_resp_build *rb)
{
	struct simnet_enum *e = NULL, *oldest = NULL;
	uint64_t now = simnet_now_ms();
	size_t i;

	if (!(cls->ops & SC_ENUM))
		return SF_ACTION_NOT_SUPPORTED;
	simnet_ws_expire(x->sd, now);
	for (i = 0; i < AMTP_SIM_NET_ENUMS_MAX; i++) {
		if (x->sd->enums[i].id[0] == '\0') {
			e = &x->sd->enums[i];
			break;
		}
		if (oldest == NULL || x->sd->enums[i].expires <
		    oldest->expires)
			oldest = &x->sd->enums[i];
	}
	if (e == NULL) {
		/* Full: the oldest context goes, as AMT does. */
		enum_drop(oldest);
		e = oldest;
	}
	if ((e->items = simnet_class_instances(x, cls)) == NULL)
		return SF_INTERNAL;
	/* A snapshot: later changes do not move a running enumeration. */
	{
		json_t *snap = json_deep_copy(e->items);

		json_decref(e->items);
		if ((e->items = snap) == NULL)
			return SF_INTERNAL;
	}
	e->cls = cls;
	e->pos = 0;
	e->expires = now + AMTP_SIM_NET_ENUM_LIFE_MS;
	(void)snprintf(e->id, sizeof(e->id), "%08X-0000-0000-0000-000000000000",
	    ++x->sd->enum_counter);
	rb->enum_context = simnet_strdup(x->a, e->id);
	return rb->enum_context != NULL ? SF_NONE : SF_INTERNAL;
}

static int
op_pull(struct simnet_ctx *x, struct amtp_wsman_resp_build *rb,
    const struct simnet_class **clsp)
{
	struct simnet_enum *e;
	struct amtp_wsman_obj *items, *o;
	size_t max, n, i;

	if ((e = enum_find(x->sd, x->req->enum_context)) == NULL ||
	    e->expires <= simnet_now_ms())
		return SF_INVALID_ENUM_CONTEXT;
	if (x->req->resource_uri != NULL && simnet_class_find(
	    x->req->resource_uri) != e->cls)
		return SF_INVALID_ENUM_CONTEXT;
	*clsp = e->cls;
	max = x->req->max_elements > 0 ? (size_t)x->req->max_elements : 1;
	if (max > AMTP_WSMAN_MAX_ITEMS)
		max = AMTP_WSMAN_MAX_ITEMS;
	n = json_array_size(e->items) - e->pos;
	if (n > max)
		n = max;
	if ((items = simnet_alloc(x->a, (n + 1) * sizeof(*items))) == NULL)
		return SF_INTERNAL;
	for (i = 0; i < n; i++) {
		if ((o = obj_from_inst(x, e->cls, json_array_get(e->items,
		    e->pos + i))) == NULL)
			return SF_INTERNAL;
		items[i] = *o;
	}
	e->pos += n;
	rb->items = items;
	rb->nitems = n;
	rb->resource_uri = simnet_class_uri(x->a, e->cls);
	/* The items point into e->items: keep them until the reply is
	 * built, even when the context ends now. */
	json_array_append(x->keep, e->items);
	if (e->pos >= json_array_size(e->items)) {
		rb->end_of_sequence = 1;
		enum_drop(e);
	} else {
		rb->enum_context = simnet_strdup(x->a, e->id);
		e->expires = simnet_now_ms() + AMTP_SIM_NET_ENUM_LIFE_MS;
	}
	return SF_NONE;
}

static int
op_release(struct simnet_ctx *x, struct simnet_reply *rep)
{
	struct simnet_enum *e;
	int r;

	if ((e = enum_find(x->sd, x->req->enum_context)) == NULL)
		return SF_INVALID_ENUM_CONTEXT;
	enum_drop(e);
	/* wsman.h builds no ReleaseResponse: a thin local builder. */
	if ((r = amtp_buf_put_cstring(rep->body, "<?xml version=\"1.0\" "
	    "encoding=\"UTF-8\"?><a:Envelope xmlns:a=\"" AMTP_WSMAN_NS_SOAP
	    "\" xmlns:b=\"" AMTP_WSMAN_NS_ADDR "\"><a:Header><b:To>"
	    AMTP_WSMAN_ANONYMOUS "</b:To><b:RelatesTo>")) != 0 ||
	    (r = amtp_xml_escape(rep->body, x->req->message_id, 0)) != 0 ||
	    (r = amtp_buf_put_cstring(rep->body, "</b:RelatesTo><b:Action "
	    "a:mustUnderstand=\"true\">" AMTP_WSMAN_NS_ENUM
	    "/ReleaseResponse</b:Action><b:MessageID>")) != 0 ||
	    (r = amtp_buf_put_cstring(rep->body, next_msgid(x))) != 0 ||
	    (r = amtp_buf_put_cstring(rep->body, "</b:MessageID></a:Header>"
	    "<a:Body></a:Body></a:Envelope>")) != 0)
		return SF_INTERNAL;
	return SF_NONE;
}

static int
op_create(struct simnet_ctx *x, const struct simnet_class *cls,
    struct amtp_wsman_resp_build *rb, int *changed)
{
	struct amtp_wsman_epr *e;
	int f;

	if (!(cls->ops & SC_CREATE) || cls->create == NULL)
		return SF_ACTION_NOT_SUPPORTED;
	if (x->req->body == NULL || strcmp(x->req->body->name, cls->name) != 0)
		return SF_INVALID_REPRESENTATION;
	if ((e = simnet_alloc(x->a, sizeof(*e))) == NULL)
		return SF_INTERNAL;
	if ((f = cls->create(x, x->req->body, e)) != SF_NONE)
		return f;
	rb->created = e;
	*changed = 1;
	return SF_NONE;
}

static int
op_delete(struct simnet_ctx *x, const struct simnet_class *cls, int *changed)
{
	json_t *arr, *inst;
	size_t idx;
	int f;

	if (!(cls->ops & SC_DELETE) || cls->del == NULL)
		return SF_ACTION_NOT_SUPPORTED;
	if (x->req->nselectors == 0)
		return SF_INVALID_SELECTORS;
	if ((arr = simnet_class_instances(x, cls)) == NULL)
		return SF_INTERNAL;
	inst = find_instance(x, cls, arr, x->req->selectors,
	    x->req->nselectors, &idx, &f);
	if (inst != NULL && (f = cls->del(x, inst)) == SF_NONE) {
		if (cls->instances == NULL)
			(void)json_array_remove(arr, idx);
		*changed = 1;
	}
	json_decref(arr);
	return f;
}

static int
op_invoke(struct simnet_ctx *x, const struct simnet_class *cls,
    struct amtp_wsman_resp_build *rb, int *changed)
{
	const struct simnet_method *m = NULL;
	struct simnet_call *c;
	struct amtp_wsman_obj *o;
	size_t i;

	for (i = 0; cls->methods != NULL && cls->methods[i].name != NULL; i++)
		if (strcmp(cls->methods[i].name, x->req->method) == 0)
			m = &cls->methods[i];
	if (m == NULL)
		return SF_ACTION_NOT_SUPPORTED;
	if ((c = simnet_alloc(x->a, sizeof(*c))) == NULL ||
	    (o = simnet_alloc(x->a, sizeof(*o))) == NULL)
		return SF_INTERNAL;
	c->x = x;
	c->cls = cls;
	c->in = x->req->body;
	if (c->in != NULL && c->in->name != NULL) {
		char want[160];

		(void)snprintf(want, sizeof(want), "%s_INPUT", m->name);
		if (strcmp(c->in->name, want) != 0)
			return SF_INVALID_REPRESENTATION;
	}
	m->fn(c);
	if (c->fault != SF_NONE)
		return c->fault;
	if (c->nout < SIMNET_OUT_MAX) {
		c->out[c->nout].name = "ReturnValue";
		c->out[c->nout].text = simnet_printf(x->a, "%lld", c->rv);
		c->nout++;
	}
	o->props = c->out;
	o->nprops = c->nout;
	rb->body = o;
	if (c->save && c->rv == 0)
		*changed = 1;
	return SF_NONE;
}

void
simnet_reply_reset(struct simnet_reply *rep)
{
	amtp_buf_free(rep->body);
	memset(rep, 0, sizeof(*rep));
}

static const char *op_names[AMTP_WSMAN_OP__MAX] = {
	"?", "Get", "Put", "Create", "Delete", "Enumerate", "Pull", "Release",
	NULL
};

int
simnet_ws_handle(struct simnet_dev *sd, const void *xml, size_t len,
    struct simnet_reply *rep)
{
	struct amtp_wsman_request *req = NULL;
	struct amtp_wsman_resp_build rb;
	struct simnet_arena arena = { NULL };
	struct simnet_ctx x;
	const struct simnet_class *cls = NULL;
	char perr[160];
	int f = SF_NONE, r, changed = 0;

	memset(rep, 0, sizeof(*rep));
	memset(&x, 0, sizeof(x));
	memset(&rb, 0, sizeof(rb));
	if ((rep->body = amtp_buf_new(AMTP_MAX_SOAP_SIZE)) == NULL)
		return AMTP_E_NOMEM;
	rep->http_status = 200;
	x.sd = sd;
	x.d = sd->d;
	x.a = &arena;
	if ((x.keep = json_array()) == NULL) {
		r = AMTP_E_NOMEM;
		goto out;
	}
	if ((x.root = simnet_flash(sd->d)) == NULL) {
		r = AMTP_E_NOMEM;
		goto out;
	}
	r = amtp_wsman_request_parse(xml, len, &req, perr, sizeof(perr));
	if (r == AMTP_E_NOMEM)
		goto out;
	if (r != 0) {
		char esc[AMTP_LOG_ESCAPE_SIZE];

		log_info("dev %u: malformed request: %s: %s", sd->d->index,
		    amtp_strerror(r), amtp_log_escape(esc, sizeof(esc), perr,
		    strlen(perr)));
		(void)snprintf(rep->call, sizeof(rep->call), "?.?");
		r = reply_fault(&x, rep, SF_MALFORMED, perr);
		goto out;
	}
	x.req = req;
	cls = simnet_class_find(req->resource_uri);
	(void)snprintf(rep->call, sizeof(rep->call), "%s.%s",
	    cls != NULL ? cls->name : "?", req->op == AMTP_WSMAN_OP_INVOKE ?
	    req->method : op_names[req->op]);
	if (req->op == AMTP_WSMAN_OP_UNKNOWN) {
		f = cls == NULL && req->resource_uri != NULL &&
		    strncmp(req->action, req->resource_uri,
		    strlen(req->resource_uri)) == 0 ? SF_DEST_UNREACHABLE :
		    SF_ACTION_NOT_SUPPORTED;
		goto fault;
	}
	if (req->op != AMTP_WSMAN_OP_PULL && req->op != AMTP_WSMAN_OP_RELEASE &&
	    (cls == NULL || (cls->present != NULL && !cls->present(&x)))) {
		f = SF_DEST_UNREACHABLE;
		goto fault;
	}
	rb.op = req->op;
	rb.resource_uri = req->resource_uri;
	rb.method = req->method;
	rb.relates_to = req->message_id;
	switch (req->op) {
	case AMTP_WSMAN_OP_GET:
		f = op_get(&x, cls, &rb);
		break;
	case AMTP_WSMAN_OP_PUT:
		f = op_put(&x, cls, &rb, &changed);
		break;
	case AMTP_WSMAN_OP_CREATE:
		f = op_create(&x, cls, &rb, &changed);
		break;
	case AMTP_WSMAN_OP_DELETE:
		f = op_delete(&x, cls, &changed);
		break;
	case AMTP_WSMAN_OP_ENUMERATE:
		f = op_enumerate(&x, cls, &rb);
		break;
	case AMTP_WSMAN_OP_PULL:
		f = op_pull(&x, &rb, &cls);
		if (cls != NULL)
			(void)snprintf(rep->call, sizeof(rep->call), "%s.Pull",
			    cls->name);
		break;
	case AMTP_WSMAN_OP_RELEASE:
		f = op_release(&x, rep);
		if (f == SF_NONE) {
			r = 0;
			goto out;
		}
		break;
	case AMTP_WSMAN_OP_INVOKE:
		f = op_invoke(&x, cls, &rb, &changed);
		break;
	default:
		f = SF_ACTION_NOT_SUPPORTED;
		break;
	}
	/* Flash first, the answer after (what the firmware persists is
	 * persisted before the client hears of it). */
	if (changed && f == SF_NONE && simnet_save(sd->d) != 0)
		f = SF_INTERNAL;
	if (f != SF_NONE)
		goto fault;
	rb.message_id = next_msgid(&x);
	if ((r = amtp_wsman_response_build(&rb, rep->body)) != 0) {
		log_warn_r(r, "dev %u: %s: building the reply", sd->d->index,
		    rep->call);
		f = SF_INTERNAL;
		goto fault;
	}
	rep->delay_ms = x.delay_ms;
	rep->after = x.after;
	r = 0;
	goto out;
 fault:
	log_debug("dev %u: %s: fault %s", sd->d->index, rep->call,
	    faults[f < SF__MAX ? f : SF_INTERNAL].sub);
	rep->after = x.after;
	r = reply_fault(&x, rep, f, NULL);
 out:
	/* Temporary references kept for the reply's strings. */
	json_decref(x.keep);
	simnet_arena_free(&arena);
	amtp_wsman_request_free(req);
	return r;
}
