/*
 * amtprov - wsman.c: WS-Management envelopes, parsed and built (libamtp;
 * the simulator parses requests and builds replies, the service point the
 * other way round).  See wsman.h; facts from spec/amt-facts.md 5.3.
 *
 * Parsed trees live in an arena owned by the request or response, so one
 * call frees them.  Recursion over nested properties and EPRs carries a
 * depth counter checked against AMTP_MAX_XML_DEPTH (the loader has already
 * refused deeper documents; the counter keeps the walk bounded on its own).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/tree.h>

#include "amtprov/buf.h"
#include "amtprov/err.h"
#include "amtprov/limits.h"
#include "amtprov/str.h"
#include "amtprov/wsman.h"
#include "amtprov/xml.h"

#define CHUNK_MIN	(16 * 1024)

/* ------------------------------------------------------------------ */
/* Arena                                                              */

struct chunk {
	struct chunk	*next;
	size_t		 used, cap;
	max_align_t	 data[];
};

struct amtp_wsman_arena {
	struct chunk	*head;
	size_t		 total;
};

static void
arena_free(struct amtp_wsman_arena *a)
{
	struct chunk *c, *n;

	if (a == NULL)
		return;
	/* Parsed values include passwords (SetAdminAclEntryEx, MEBx): what
	 * was handed out is wiped (the rest of a chunk was never written) */
	for (c = a->head; c != NULL; c = n) {
		n = c->next;
		explicit_bzero(c->data, c->used);
		free(c);
	}
	free(a);
}

/* Zeroed memory from the arena, or NULL (out of memory or over
 * AMTP_WSMAN_ARENA_MAX). */
static void *
aalloc(struct amtp_wsman_arena *a, size_t n)
{
	struct chunk *c = a->head;
	size_t al = sizeof(max_align_t), cap;
	void *p;

	n = (n + al - 1) / al * al;
	if (n == 0)
		n = al;
	if (c == NULL || c->cap - c->used < n) {
		cap = n > CHUNK_MIN ? n : CHUNK_MIN;
		if (a->total + cap > AMTP_WSMAN_ARENA_MAX)
			return NULL;
		/* not zeroed as a whole: a reply uses a few hundred bytes of
		 * its 16 KiB chunk, and zeroing (then wiping) it all was a
		 * tenth of the parse */
		if ((c = malloc(sizeof(*c) + cap)) == NULL)
			return NULL;
		c->used = 0;
		c->cap = cap;
		c->next = a->head;
		a->head = c;
		a->total += cap;
	}
	p = (unsigned char *)c->data + c->used;
	c->used += n;
	memset(p, 0, n);
	return p;
}

static char *
astrndup(struct amtp_wsman_arena *a, const char *s, size_t n)
{
	char *p;

	if ((p = aalloc(a, n + 1)) == NULL)
		return NULL;
	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

/* ------------------------------------------------------------------ */
/* Parse context                                                      */

struct pctx {
	struct amtp_wsman_arena	*a;
	char			*err;
	size_t			 errlen;
};

static int
fail(struct pctx *x, int r, const char *what, const char *name)
{
	if (x->err != NULL && x->errlen > 0 && x->err[0] == '\0') {
		if (name != NULL)
			snprintf(x->err, x->errlen, "%s: %.64s", what, name);
		else
			snprintf(x->err, x->errlen, "%s", what);
	}
	return r;
}

static int
is_ws(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* The text directly inside n (text and CDATA children joined), trimmed of
 * XML white space when trim is set, copied into the arena. */
static int
node_text(struct pctx *x, const xmlNode *n, int trim, const char **out)
{
	const xmlNode *c;
	size_t total = 0, off = 0, len;
	const char *s;
	char *p;

	*out = NULL;
	for (c = n->children; c != NULL; c = c->next)
		if ((c->type == XML_TEXT_NODE ||
		    c->type == XML_CDATA_SECTION_NODE) && c->content != NULL)
			total += strlen((const char *)c->content);
	if (total > AMTP_MAX_XML_TEXT)
		return fail(x, AMTP_E_TOOBIG, "text too long", (const char *)n->name);
	if ((p = aalloc(x->a, total + 1)) == NULL)
		return AMTP_E_NOMEM;
	for (c = n->children; c != NULL; c = c->next) {
		if ((c->type != XML_TEXT_NODE &&
		    c->type != XML_CDATA_SECTION_NODE) || c->content == NULL)
			continue;
		len = strlen((const char *)c->content);
		memcpy(p + off, c->content, len);
		off += len;
	}
	p[off] = '\0';
	if (trim) {
		s = p;
		while (*s != '\0' && is_ws(*s))
			s++;
		len = strlen(s);
		while (len > 0 && is_ws(s[len - 1]))
			len--;
		memmove(p, s, len);
		p[len] = '\0';
	}
	*out = p;
	return 0;
}

static const char *
node_ns(const xmlNode *n)
{
	return n->ns != NULL && n->ns->href != NULL ?
	    (const char *)n->ns->href : "";
}

/* Attributes allowed on a property or selector element: Name (selectors),
 * Dialect (an Enumerate Filter), xsi:nil, xsi:type, xml:lang.  Anything
 * else is refused. */
static int
check_attrs(struct pctx *x, const xmlNode *n, int selector)
{
	const xmlAttr *at;
	const char *ns;

	for (at = n->properties; at != NULL; at = at->next) {
		ns = at->ns != NULL && at->ns->href != NULL ?
		    (const char *)at->ns->href : NULL;
		if (selector && ns == NULL &&
		    strcmp((const char *)at->name, "Name") == 0)
			continue;
		if (ns == NULL && strcmp((const char *)at->name, "Dialect") == 0)
			continue;
		if (ns != NULL && strcmp(ns, AMTP_WSMAN_NS_XSI) == 0 &&
		    (strcmp((const char *)at->name, "nil") == 0 ||
		    strcmp((const char *)at->name, "type") == 0))
			continue;
		if (ns != NULL && strcmp(ns,
		    "http://www.w3.org/XML/1998/namespace") == 0)
			continue;
		return fail(x, AMTP_E_PROTO, "unexpected attribute",
		    (const char *)at->name);
	}
	return 0;
}

static int parse_epr(struct pctx *, const xmlNode *, int,
    const struct amtp_wsman_epr **);

static int
parse_selectors(struct pctx *x, const xmlNode *set, int depth,
    const struct amtp_wsman_selector **out, size_t *nout)
{
	struct amtp_wsman_selector *sel;
	const xmlNode *c, *epr;
	xmlChar *name;
	size_t n = 0;
	int r;

	*out = NULL;
	*nout = 0;
	for (c = amtp_xml_child(set); c != NULL; c = amtp_xml_next(c)) {
		if (!amtp_xml_is(c, AMTP_WSMAN_NS_WSMAN, "Selector"))
			return fail(x, AMTP_E_PROTO, "unexpected element in "
			    "SelectorSet", (const char *)c->name);
		n++;
	}
	if (n > AMTP_WSMAN_MAX_SELECTORS)
		return fail(x, AMTP_E_PROTO, "too many selectors", NULL);
	if (n == 0)
		return 0;
	if ((sel = aalloc(x->a, n * sizeof(*sel))) == NULL)
		return AMTP_E_NOMEM;
	n = 0;
	for (c = amtp_xml_child(set); c != NULL; c = amtp_xml_next(c), n++) {
		if ((r = check_attrs(x, c, 1)) != 0)
			return r;
		if ((name = xmlGetNoNsProp(c, (const xmlChar *)"Name")) == NULL)
			return fail(x, AMTP_E_PROTO, "Selector without Name",
			    NULL);
		sel[n].name = astrndup(x->a, (const char *)name,
		    strlen((const char *)name));
		xmlFree(name);
		if (sel[n].name == NULL)
			return AMTP_E_NOMEM;
		if ((epr = amtp_xml_find(c, AMTP_WSMAN_NS_ADDR,
		    "EndpointReference")) != NULL) {
			if ((r = parse_epr(x, epr, depth + 1, &sel[n].epr)) != 0)
				return r;
		} else if (amtp_xml_child(c) != NULL) {
			return fail(x, AMTP_E_PROTO, "unexpected element in "
			    "Selector", sel[n].name);
		} else if ((r = node_text(x, c, 1, &sel[n].value)) != 0)
			return r;
	}
	*out = sel;
	*nout = n;
	return 0;
}

/* n holds Address and/or ReferenceParameters (addressing namespace). */
static int
parse_epr(struct pctx *x, const xmlNode *n, int depth,
    const struct amtp_wsman_epr **out)
{
	struct amtp_wsman_epr *e;
	const xmlNode *c, *rp;
	int r;

	*out = NULL;
	if (depth > AMTP_MAX_XML_DEPTH)
		return fail(x, AMTP_E_DEPTH, "references nested too deep", NULL);
	if ((e = aalloc(x->a, sizeof(*e))) == NULL)
		return AMTP_E_NOMEM;
	if ((c = amtp_xml_find(n, AMTP_WSMAN_NS_ADDR, "Address")) != NULL &&
	    (r = node_text(x, c, 1, &e->address)) != 0)
		return r;
	if ((rp = amtp_xml_find(n, AMTP_WSMAN_NS_ADDR,
	    "ReferenceParameters")) != NULL) {
		if ((c = amtp_xml_find(rp, AMTP_WSMAN_NS_WSMAN,
		    "ResourceURI")) != NULL &&
		    (r = node_text(x, c, 1, &e->resource_uri)) != 0)
			return r;
		if ((c = amtp_xml_find(rp, AMTP_WSMAN_NS_WSMAN,
		    "SelectorSet")) != NULL &&
		    (r = parse_selectors(x, c, depth, &e->selectors,
		    &e->nselectors)) != 0)
			return r;
	}
	*out = e;
	return 0;
}

static int
is_epr_element(const xmlNode *n)
{
	return amtp_xml_find(n, AMTP_WSMAN_NS_ADDR, "ReferenceParameters") !=
	    NULL || amtp_xml_find(n, AMTP_WSMAN_NS_ADDR, "Address") != NULL;
}

static int
parse_obj(struct pctx *x, const xmlNode *n, int depth,
    const struct amtp_wsman_obj **out)
{
	struct amtp_wsman_obj *o;
	struct amtp_wsman_prop *p;
	const xmlNode *c;
	xmlChar *nil;
	size_t k = 0;
	int r;

	*out = NULL;
	if (depth > AMTP_MAX_XML_DEPTH)
		return fail(x, AMTP_E_DEPTH, "properties nested too deep", NULL);
	if ((o = aalloc(x->a, sizeof(*o))) == NULL)
		return AMTP_E_NOMEM;
	/* An object's namespace is that of its properties (an embedded
	 * instance such as WiFiEndpointSettingsInput is a property of its
	 * parent's namespace whose children are in the class namespace). */
	c = amtp_xml_child(n) != NULL ? amtp_xml_child(n) : n;
	if ((o->ns = astrndup(x->a, node_ns(c), strlen(node_ns(c)))) == NULL ||
	    (o->name = astrndup(x->a, (const char *)n->name,
	    strlen((const char *)n->name))) == NULL)
		return AMTP_E_NOMEM;
	if (amtp_xml_child(n) != NULL && amtp_xml_has_text(n))
		return fail(x, AMTP_E_PROTO, "text mixed with elements",
		    o->name);
	for (c = amtp_xml_child(n); c != NULL; c = amtp_xml_next(c))
		k++;
	if (k > AMTP_WSMAN_MAX_PROPS)
		return fail(x, AMTP_E_PROTO, "too many properties", o->name);
	if (k > 0 && (p = aalloc(x->a, k * sizeof(*p))) == NULL)
		return AMTP_E_NOMEM;
	else if (k == 0)
		p = NULL;
	k = 0;
	for (c = amtp_xml_child(n); c != NULL; c = amtp_xml_next(c), k++) {
		if ((r = check_attrs(x, c, 0)) != 0)
			return r;
		if ((p[k].ns = astrndup(x->a, node_ns(c),
		    strlen(node_ns(c)))) == NULL ||
		    (p[k].name = astrndup(x->a, (const char *)c->name,
		    strlen((const char *)c->name))) == NULL)
			return AMTP_E_NOMEM;
		if ((nil = xmlGetNsProp(c, (const xmlChar *)"nil",
		    (const xmlChar *)AMTP_WSMAN_NS_XSI)) != NULL) {
			p[k].nil = strcmp((const char *)nil, "true") == 0;
			xmlFree(nil);
		}
		if (amtp_xml_child(c) == NULL)
			r = node_text(x, c, 0, &p[k].text);
		else if (is_epr_element(c))
			r = parse_epr(x, c, depth + 1, &p[k].epr);
		else
			r = parse_obj(x, c, depth + 1, &p[k].obj);
		if (r != 0)
			return r;
	}
	o->props = p;
	o->nprops = k;
	*out = o;
	return 0;
}

/* Finds Header and Body under a SOAP 1.2 Envelope root. */
static int
parse_envelope(struct pctx *x, xmlDocPtr doc, const xmlNode **hdr,
    const xmlNode **body)
{
	const xmlNode *root = xmlDocGetRootElement(doc), *c;

	*hdr = *body = NULL;
	if (!amtp_xml_is(root, AMTP_WSMAN_NS_SOAP, "Envelope"))
		return fail(x, AMTP_E_PROTO, "root is not a SOAP 1.2 Envelope",
		    NULL);
	for (c = amtp_xml_child(root); c != NULL; c = amtp_xml_next(c)) {
		if (amtp_xml_is(c, AMTP_WSMAN_NS_SOAP, "Header") &&
		    *hdr == NULL && *body == NULL)
			*hdr = c;
		else if (amtp_xml_is(c, AMTP_WSMAN_NS_SOAP, "Body") &&
		    *body == NULL)
			*body = c;
		else
			return fail(x, AMTP_E_PROTO, "unexpected element in "
			    "Envelope", (const char *)c->name);
	}
	if (*hdr == NULL)
		return fail(x, AMTP_E_PROTO, "no SOAP Header", NULL);
	if (*body == NULL)
		return fail(x, AMTP_E_PROTO, "no SOAP Body", NULL);
	if (amtp_xml_has_text(root) || amtp_xml_has_text(*hdr) ||
	    amtp_xml_has_text(*body))
		return fail(x, AMTP_E_PROTO, "text outside elements", NULL);
	return 0;
}

/* A header field that may appear once. */
static int
header_once(struct pctx *x, const xmlNode *c, const char **dst)
{
	if (*dst != NULL)
		return fail(x, AMTP_E_PROTO, "repeated header",
		    (const char *)c->name);
	if (amtp_xml_child(c) != NULL)
		return fail(x, AMTP_E_PROTO, "element inside a text field",
		    (const char *)c->name);
	return node_text(x, c, 1, dst);
}

static int
parse_count(struct pctx *x, const xmlNode *n, long long *out)
{
	const char *t;
	int r;

	if ((r = node_text(x, n, 1, &t)) != 0)
		return r;
	if (amtp_parse_int(t, 1, INT32_MAX, out) != 0)
		return fail(x, AMTP_E_PROTO, "bad number in",
		    (const char *)n->name);
	return 0;
}

static const struct {
	enum amtp_wsman_op	 op;
	const char		*action;
} actions[] = {
	{ AMTP_WSMAN_OP_GET, AMTP_WSMAN_NS_TRANSFER "/Get" },
	{ AMTP_WSMAN_OP_PUT, AMTP_WSMAN_NS_TRANSFER "/Put" },
	{ AMTP_WSMAN_OP_CREATE, AMTP_WSMAN_NS_TRANSFER "/Create" },
	{ AMTP_WSMAN_OP_DELETE, AMTP_WSMAN_NS_TRANSFER "/Delete" },
	{ AMTP_WSMAN_OP_ENUMERATE, AMTP_WSMAN_NS_ENUM "/Enumerate" },
	{ AMTP_WSMAN_OP_PULL, AMTP_WSMAN_NS_ENUM "/Pull" },
	{ AMTP_WSMAN_OP_RELEASE, AMTP_WSMAN_NS_ENUM "/Release" },
};

static int
request_fill(struct pctx *x, xmlDocPtr doc, struct amtp_wsman_request *q)
{
	const xmlNode *hdr, *body, *c, *b0;
	size_t i, ulen;
	int r;

	if ((r = parse_envelope(x, doc, &hdr, &body)) != 0)
		return r;
	for (c = amtp_xml_child(hdr); c != NULL; c = amtp_xml_next(c)) {
		r = 0;
		if (amtp_xml_is(c, AMTP_WSMAN_NS_ADDR, "Action"))
			r = header_once(x, c, &q->action);
		else if (amtp_xml_is(c, AMTP_WSMAN_NS_ADDR, "To"))
			r = header_once(x, c, &q->to);
		else if (amtp_xml_is(c, AMTP_WSMAN_NS_ADDR, "MessageID"))
			r = header_once(x, c, &q->message_id);
		else if (amtp_xml_is(c, AMTP_WSMAN_NS_ADDR, "ReplyTo")) {
			const xmlNode *ad = amtp_xml_find(c, AMTP_WSMAN_NS_ADDR,
			    "Address");

			if (ad != NULL)
				r = header_once(x, ad, &q->reply_to);
		} else if (amtp_xml_is(c, AMTP_WSMAN_NS_WSMAN, "ResourceURI"))
			r = header_once(x, c, &q->resource_uri);
		else if (amtp_xml_is(c, AMTP_WSMAN_NS_WSMAN,
		    "OperationTimeout"))
			r = header_once(x, c, &q->operation_timeout);
		else if (amtp_xml_is(c, AMTP_WSMAN_NS_WSMAN, "SelectorSet")) {
			if (q->selectors != NULL)
				return fail(x, AMTP_E_PROTO, "repeated header",
				    "SelectorSet");
			r = parse_selectors(x, c, 1, &q->selectors,
			    &q->nselectors);
		}
		/* Other headers (OptionSet, Locale, MaxEnvelopeSize...) are
		 * not needed by AMT's provisioning calls and are skipped. */
		if (r != 0)
			return r;
	}
	if (q->action == NULL || q->action[0] == '\0')
		return fail(x, AMTP_E_PROTO, "no Action header", NULL);
	if (q->message_id == NULL)
		return fail(x, AMTP_E_PROTO, "no MessageID header", NULL);
	for (i = 0; i < sizeof(actions) / sizeof(actions[0]); i++)
		if (strcmp(q->action, actions[i].action) == 0)
			q->op = actions[i].op;
	if (q->op == AMTP_WSMAN_OP_UNKNOWN && q->resource_uri != NULL) {
		ulen = strlen(q->resource_uri);
		if (ulen > 0 && strncmp(q->action, q->resource_uri, ulen) == 0 &&
		    q->action[ulen] == '/' && q->action[ulen + 1] != '\0' &&
		    strchr(q->action + ulen + 1, '/') == NULL) {
			q->op = AMTP_WSMAN_OP_INVOKE;
			q->method = q->action + ulen + 1;
		}
	}
	if (q->resource_uri == NULL && q->op != AMTP_WSMAN_OP_PULL &&
	    q->op != AMTP_WSMAN_OP_RELEASE)
		return fail(x, AMTP_E_PROTO, "no ResourceURI header", NULL);
	if ((b0 = amtp_xml_child(body)) != NULL &&
	    amtp_xml_next(b0) != NULL)
		return fail(x, AMTP_E_PROTO, "more than one element in Body",
		    NULL);
	if (b0 != NULL && (r = parse_obj(x, b0, 1, &q->body)) != 0)
		return r;
	if (amtp_xml_is(b0, AMTP_WSMAN_NS_ENUM, "Pull") ||
	    amtp_xml_is(b0, AMTP_WSMAN_NS_ENUM, "Release")) {
		for (c = amtp_xml_child(b0); c != NULL; c = amtp_xml_next(c)) {
			if (amtp_xml_is(c, AMTP_WSMAN_NS_ENUM,
			    "EnumerationContext"))
				r = header_once(x, c, &q->enum_context);
			else if (amtp_xml_is(c, AMTP_WSMAN_NS_ENUM,
			    "MaxElements"))
				r = parse_count(x, c, &q->max_elements);
			else if (amtp_xml_is(c, AMTP_WSMAN_NS_ENUM,
			    "MaxCharacters"))
				r = parse_count(x, c, &q->max_characters);
			if (r != 0)
				return r;
		}
	}
	if ((q->op == AMTP_WSMAN_OP_PULL || q->op == AMTP_WSMAN_OP_RELEASE) &&
	    q->enum_context == NULL)
		return fail(x, AMTP_E_PROTO, "no EnumerationContext", NULL);
	return 0;
}

int
amtp_wsman_request_parse(const void *xml, size_t len,
    struct amtp_wsman_request **out, char *err, size_t errlen)
{
	struct amtp_wsman_request *q = NULL;
	struct pctx x;
	xmlDocPtr doc = NULL;
	int r;

	if (err != NULL && errlen > 0)
		err[0] = '\0';
	if (out == NULL)
		return AMTP_E_INVAL;
	*out = NULL;
	if ((r = amtp_xml_parse(xml, len, AMTP_MAX_SOAP_SIZE, &doc, err,
	    errlen)) != 0)
		goto out;
	r = AMTP_E_NOMEM;
	if ((q = calloc(1, sizeof(*q))) == NULL ||
	    (q->arena = calloc(1, sizeof(*q->arena))) == NULL)
		goto out;
	x.a = q->arena;
	x.err = err;
	x.errlen = errlen;
	if ((r = request_fill(&x, doc, q)) != 0)
		goto out;
	*out = q;
	q = NULL;
	r = 0;
 out:
	amtp_wsman_request_free(q);
	amtp_xml_free_wipe(doc);
	return r;
}

void
amtp_wsman_request_free(struct amtp_wsman_request *q)
{
	if (q == NULL)
		return;
	arena_free(q->arena);
	free(q);
}

/* ------------------------------------------------------------------ */
/* Responses                                                          */

/* The local part of a QName text ("a:Sender" -> "Sender"). */
static const char *
qname_local(const char *s)
{
	const char *c;

	if (s == NULL)
		return NULL;
	c = strrchr(s, ':');
	return c != NULL ? c + 1 : s;
}

/* All text below n (Detail may hold elements), trimmed. */
static int
deep_text(struct pctx *x, const xmlNode *n, const char **out)
{
	xmlChar *t;
	size_t len;
	const char *s;

	*out = NULL;
	if ((t = xmlNodeGetContent(n)) == NULL)
		return 0;
	s = (const char *)t;
	while (*s != '\0' && is_ws(*s))
		s++;
	len = strlen(s);
	while (len > 0 && is_ws(s[len - 1]))
		len--;
	if (len > AMTP_MAX_XML_TEXT) {
		xmlFree(t);
		return fail(x, AMTP_E_TOOBIG, "text too long", NULL);
	}
	*out = astrndup(x->a, s, len);
	xmlFree(t);
	return *out == NULL ? AMTP_E_NOMEM : 0;
}

static int
parse_fault(struct pctx *x, const xmlNode *f, struct amtp_wsman_response *p)
{
	const xmlNode *code, *v, *sub, *reason, *txt, *det;
	const char *t;
	int r;

	p->is_fault = 1;
	if ((code = amtp_xml_find(f, AMTP_WSMAN_NS_SOAP, "Code")) != NULL) {
		if ((v = amtp_xml_find(code, AMTP_WSMAN_NS_SOAP, "Value")) !=
		    NULL) {
			if ((r = node_text(x, v, 1, &t)) != 0)
				return r;
			p->fault.code = qname_local(t);
		}
		if ((sub = amtp_xml_find(code, AMTP_WSMAN_NS_SOAP,
		    "Subcode")) != NULL && (v = amtp_xml_find(sub,
		    AMTP_WSMAN_NS_SOAP, "Value")) != NULL) {
			if ((r = node_text(x, v, 1, &t)) != 0)
				return r;
			p->fault.subcode = qname_local(t);
		}
	}
	if ((reason = amtp_xml_find(f, AMTP_WSMAN_NS_SOAP, "Reason")) != NULL &&
	    (txt = amtp_xml_find(reason, AMTP_WSMAN_NS_SOAP, "Text")) != NULL &&
	    (r = node_text(x, txt, 1, &p->fault.reason)) != 0)
		return r;
	if ((det = amtp_xml_find(f, AMTP_WSMAN_NS_SOAP, "Detail")) != NULL) {
		if ((r = deep_text(x, det, &p->fault.detail)) != 0)
			return r;
		if (p->fault.detail != NULL && p->fault.detail[0] == '\0')
			p->fault.detail = NULL;
	}
	return 0;
}

static int
response_fill(struct pctx *x, xmlDocPtr doc, struct amtp_wsman_response *p)
{
	const xmlNode *hdr, *body, *c, *b0, *items;
	struct amtp_wsman_obj *it = NULL;
	const struct amtp_wsman_obj *io;
	const char *t;
	size_t n, k;
	int r;

	if ((r = parse_envelope(x, doc, &hdr, &body)) != 0)
		return r;
	for (c = amtp_xml_child(hdr); c != NULL; c = amtp_xml_next(c)) {
		r = 0;
		if (amtp_xml_is(c, AMTP_WSMAN_NS_ADDR, "Action"))
			r = header_once(x, c, &p->action);
		else if (amtp_xml_is(c, AMTP_WSMAN_NS_ADDR, "RelatesTo"))
			r = header_once(x, c, &p->relates_to);
		else if (amtp_xml_is(c, AMTP_WSMAN_NS_ADDR, "MessageID"))
			r = header_once(x, c, &p->message_id);
		else if (amtp_xml_is(c, AMTP_WSMAN_NS_WSMAN, "ResourceURI"))
			r = header_once(x, c, &p->resource_uri);
		if (r != 0)
			return r;
	}
	if ((b0 = amtp_xml_child(body)) == NULL)
		return 0;		/* e.g. DeleteResponse */
	if (amtp_xml_next(b0) != NULL)
		return fail(x, AMTP_E_PROTO, "more than one element in Body",
		    NULL);
	if (amtp_xml_is(b0, AMTP_WSMAN_NS_SOAP, "Fault")) {
		if ((r = parse_fault(x, b0, p)) != 0)
			return r;
		return AMTP_E_SOAP_FAULT;
	}
	if (amtp_xml_is(b0, AMTP_WSMAN_NS_TRANSFER, "ResourceCreated")) {
		/* The body is an EPR, not properties: name it, parse the EPR. */
		struct amtp_wsman_obj *o;

		if ((o = aalloc(x->a, sizeof(*o))) == NULL)
			return AMTP_E_NOMEM;
		o->ns = AMTP_WSMAN_NS_TRANSFER;
		o->name = "ResourceCreated";
		p->body = o;
		return parse_epr(x, b0, 1, &p->created);
	}
	if ((r = parse_obj(x, b0, 1, &p->body)) != 0)
		return r;
	if (amtp_xml_is(b0, AMTP_WSMAN_NS_ENUM, "EnumerateResponse") ||
	    amtp_xml_is(b0, AMTP_WSMAN_NS_ENUM, "PullResponse")) {
		if ((c = amtp_xml_find(b0, AMTP_WSMAN_NS_ENUM,
		    "EnumerationContext")) != NULL &&
		    (r = node_text(x, c, 1, &p->enum_context)) != 0)
			return r;
		if (amtp_xml_find(b0, AMTP_WSMAN_NS_ENUM, "EndOfSequence") !=
		    NULL)
			p->end_of_sequence = 1;
		if ((items = amtp_xml_find(b0, AMTP_WSMAN_NS_ENUM, "Items")) !=
		    NULL) {
			n = 0;
			for (c = amtp_xml_child(items); c != NULL;
			    c = amtp_xml_next(c))
				n++;
			if (n > AMTP_WSMAN_MAX_ITEMS)
				return fail(x, AMTP_E_PROTO, "too many items",
				    NULL);
			if (n > 0 && (it = aalloc(x->a, n * sizeof(*it))) ==
			    NULL)
				return AMTP_E_NOMEM;
			k = 0;
			for (c = amtp_xml_child(items); c != NULL;
			    c = amtp_xml_next(c), k++) {
				if ((r = parse_obj(x, c, 2, &io)) != 0)
					return r;
				it[k] = *io;
			}
			p->items = n > 0 ? it : NULL;
			p->nitems = n;
		}
	} else {
		n = strlen(p->body->name);
		if (n > 7 && strcmp(p->body->name + n - 7, "_OUTPUT") == 0 &&
		    (t = amtp_wsman_obj_text(p->body, "ReturnValue")) != NULL) {
			if (amtp_parse_int(t, INT32_MIN, UINT32_MAX,
			    &p->return_value) != 0)
				return fail(x, AMTP_E_PROTO, "bad ReturnValue",
				    NULL);
			p->has_return_value = 1;
		}
	}
	return 0;
}

int
amtp_wsman_response_parse(const void *xml, size_t len,
    struct amtp_wsman_response **out, char *err, size_t errlen)
{
	struct amtp_wsman_response *p = NULL;
	struct pctx x;
	xmlDocPtr doc = NULL;
	int r;

	if (err != NULL && errlen > 0)
		err[0] = '\0';
	if (out == NULL)
		return AMTP_E_INVAL;
	*out = NULL;
	if ((r = amtp_xml_parse(xml, len, AMTP_MAX_SOAP_SIZE, &doc, err,
	    errlen)) != 0)
		goto out;
	r = AMTP_E_NOMEM;
	if ((p = calloc(1, sizeof(*p))) == NULL ||
	    (p->arena = calloc(1, sizeof(*p->arena))) == NULL)
		goto out;
	x.a = p->arena;
	x.err = err;
	x.errlen = errlen;
	r = response_fill(&x, doc, p);
	if (r != 0 && r != AMTP_E_SOAP_FAULT)
		goto out;
	if (r == AMTP_E_SOAP_FAULT && err != NULL && errlen > 0)
		amtp_wsman_fault_describe(p, err, errlen);
	*out = p;
	p = NULL;
 out:
	amtp_wsman_response_free(p);
	amtp_xml_free_wipe(doc);
	return r;
}

void
amtp_wsman_response_free(struct amtp_wsman_response *p)
{
	if (p == NULL)
		return;
	arena_free(p->arena);
	free(p);
}

void
amtp_wsman_fault_describe(const struct amtp_wsman_response *p, char *dst,
    size_t dstlen)
{
	if (dst == NULL || dstlen == 0)
		return;
	if (p == NULL || !p->is_fault) {
		snprintf(dst, dstlen, "no fault");
		return;
	}
	snprintf(dst, dstlen, "%s%s%s: %s%s%s",
	    p->fault.code != NULL ? p->fault.code : "?",
	    p->fault.subcode != NULL ? "/" : "",
	    p->fault.subcode != NULL ? p->fault.subcode : "",
	    p->fault.reason != NULL ? p->fault.reason : "(no reason)",
	    p->fault.detail != NULL ? " - " : "",
	    p->fault.detail != NULL ? p->fault.detail : "");
}

/* ------------------------------------------------------------------ */
/* Accessors                                                          */

const struct amtp_wsman_prop *
amtp_wsman_obj_prop(const struct amtp_wsman_obj *o, const char *name,
    size_t idx)
{
	size_t i;

	if (o == NULL || name == NULL)
		return NULL;
	for (i = 0; i < o->nprops; i++)
		if (o->props[i].name != NULL &&
		    strcmp(o->props[i].name, name) == 0 && idx-- == 0)
			return &o->props[i];
	return NULL;
}

size_t
amtp_wsman_obj_count(const struct amtp_wsman_obj *o, const char *name)
{
	size_t i, n = 0;

	if (o == NULL || name == NULL)
		return 0;
	for (i = 0; i < o->nprops; i++)
		if (o->props[i].name != NULL &&
		    strcmp(o->props[i].name, name) == 0)
			n++;
	return n;
}

const char *
amtp_wsman_obj_text(const struct amtp_wsman_obj *o, const char *name)
{
	const struct amtp_wsman_prop *p = amtp_wsman_obj_prop(o, name, 0);

	return p != NULL ? p->text : NULL;
}

const char *
amtp_wsman_epr_selector(const struct amtp_wsman_epr *e, const char *name)
{
	size_t i;

	if (e == NULL || name == NULL)
		return NULL;
	for (i = 0; i < e->nselectors; i++)
		if (e->selectors[i].name != NULL &&
		    strcmp(e->selectors[i].name, name) == 0)
			return e->selectors[i].value;
	return NULL;
}

/* ------------------------------------------------------------------ */
/* Status names (spec 1.3)                                            */

static const struct {
	long long	 code;
	const char	*name;
} statuses[] = {
	{ 0, "SUCCESS" }, { 1, "INTERNAL_ERROR" }, { 2, "NOT_READY" },
	{ 3, "INVALID_AMT_MODE" }, { 4, "INVALID_MESSAGE_LENGTH" },
	{ 5, "TABLE_FINGERPRINT_NOT_AVAILABLE" },
	{ 6, "INTEGRITY_CHECK_FAILED" }, { 7, "UNSUPPORTED_ISVS_VERSION" },
	{ 8, "APPLICATION_NOT_REGISTERED" }, { 9, "INVALID_REGISTRATION_DATA" },
	{ 10, "APPLICATION_DOES_NOT_EXIST" }, { 11, "NOT_ENOUGH_STORAGE" },
	{ 12, "INVALID_NAME" }, { 13, "BLOCK_DOES_NOT_EXIST" },
	{ 14, "INVALID_BYTE_OFFSET" }, { 15, "INVALID_BYTE_COUNT" },
	{ 16, "NOT_PERMITTED" }, { 17, "NOT_OWNER" },
	{ 18, "BLOCK_LOCKED_BY_OTHER" }, { 19, "BLOCK_NOT_LOCKED" },
	{ 20, "INVALID_GROUP_PERMISSIONS" }, { 21, "GROUP_DOES_NOT_EXIST" },
	{ 22, "INVALID_MEMBER_COUNT" }, { 23, "MAX_LIMIT_REACHED" },
	{ 24, "INVALID_AUTH_TYPE" }, { 25, "AUTHENTICATION_FAILED" },
	{ 26, "INVALID_DHCP_MODE" }, { 27, "INVALID_IP_ADDRESS" },
	{ 28, "INVALID_DOMAIN_NAME" }, { 29, "UNSUPPORTED_VERSION" },
	{ 30, "REQUEST_UNEXPECTED" }, { 31, "INVALID_TABLE_TYPE" },
	{ 32, "INVALID_PROVISIONING_STATE" }, { 33, "UNSUPPORTED_OBJECT" },
	{ 34, "INVALID_TIME" }, { 35, "INVALID_INDEX" },
	{ 36, "INVALID_PARAMETER" }, { 37, "INVALID_NETMASK" },
	{ 38, "FLASH_WRITE_LIMIT_EXCEEDED" }, { 39, "INVALID_IMAGE_LENGTH" },
	{ 40, "INVALID_IMAGE_SIGNATURE" }, { 41, "PROPOSE_ANOTHER_VERSION" },
	{ 42, "INVALID_PID_FORMAT" }, { 43, "INVALID_PPS_FORMAT" },
	{ 44, "BIST_COMMAND_BLOCKED" }, { 45, "CONNECTION_FAILED" },
	{ 46, "CONNECTION_TOO_MANY" }, { 47, "RNG_GENERATION_IN_PROGRESS" },
	{ 48, "RNG_NOT_READY" }, { 49, "CERTIFICATE_NOT_READY" },
	{ 512, "REMOTE_ACCESS_NOT_GRANTED" },
	{ 513, "REMOTE_ACCESS_HOST_VPN_IS_DISABLED" },
	{ 514, "REMOTE_ACCESS_GRANTED_WITHOUT_DDNS" },
	{ 515, "REMOTE_ACCESS_GRANTED_WITH_DDNS" },
	{ 1024, "DISABLED_BY_POLICY" }, { 2048, "NETWORK_IF_ERROR_BASE" },
	{ 2049, "UNSUPPORTED_OEM_NUMBER" }, { 2050, "UNSUPPORTED_BOOT_OPTION" },
	{ 2051, "INVALID_COMMAND" }, { 2052, "INVALID_SPECIAL_COMMAND" },
	{ 2053, "INVALID_HANDLE" }, { 2054, "INVALID_PASSWORD" },
	{ 2055, "INVALID_REALM" }, { 2056, "STORAGE_ACL_ENTRY_IN_USE" },
	{ 2057, "DATA_MISSING" }, { 2058, "DUPLICATE" },
	{ 2059, "EVENTLOG_FROZEN" }, { 2060, "PKI_MISSING_KEYS" },
	{ 2061, "PKI_GENERATING_KEYS" }, { 2062, "INVALID_KEY" },
	{ 2063, "INVALID_CERT" }, { 2064, "CERT_KEY_NOT_MATCH" },
	{ 2065, "MAX_KERB_DOMAIN_REACHED" }, { 2066, "UNSUPPORTED" },
	{ 2067, "INVALID_PRIORITY" }, { 2068, "NOT_FOUND" },
	{ 2069, "INVALID_CREDENTIALS" }, { 2070, "INVALID_PASSPHRASE" },
	{ 2072, "NO_ASSOCIATION" }, { 2075, "AUDIT_FAIL" },
	{ 2076, "BLOCKING_COMPONENT" }, { 2081, "USER_CONSENT_REQUIRED" },
	{ 2082, "OPERATION_IN_PROGRESS" }, { 2500, "IPV6_INTERFACE_DISABLED" },
	{ 2501, "INTERFACE_DOES_NOT_EXIST" },
};

const char *
amtp_wsman_status_name(long long code)
{
	size_t i;

	for (i = 0; i < sizeof(statuses) / sizeof(statuses[0]); i++)
		if (statuses[i].code == code)
			return statuses[i].name;
	return "UNKNOWN";
}

int
amtp_wsman_check_return(const struct amtp_wsman_response *p, const char *cls,
    const char *method, char *msg, size_t msglen)
{
	if (msg != NULL && msglen > 0)
		msg[0] = '\0';
	if (p == NULL || !p->has_return_value) {
		if (msg != NULL && msglen > 0)
			snprintf(msg, msglen, "%s.%s: no ReturnValue in the "
			    "response", cls != NULL ? cls : "?",
			    method != NULL ? method : "?");
		return AMTP_E_PROTO;
	}
	if (p->return_value == 0)
		return 0;
	if (msg != NULL && msglen > 0)
		snprintf(msg, msglen, "%s.%s: ReturnValue %lld (%s)",
		    cls != NULL ? cls : "?", method != NULL ? method : "?",
		    p->return_value, amtp_wsman_status_name(p->return_value));
	return AMTP_E_AMT_STATUS;
}

/* ------------------------------------------------------------------ */
/* Builders                                                           */

/* Prefixes a builder uses for addressing and wsman elements. */
struct bctx {
	struct amtp_buf	*b;
	const char	*pa;		/* addressing: "a" or "b" */
	const char	*pw;		/* wsman: "w" or "c" */
	const char	*anon_addr;	/* EPR Address when none is given */
	char		 next_prefix;	/* next free prefix letter */
};

static int
put(struct bctx *c, const char *s)
{
	return amtp_buf_put_cstring(c->b, s);
}

static int
esc(struct bctx *c, const char *s)
{
	return amtp_xml_escape(c->b, s != NULL ? s : "", 0);
}

/* An element name must be an XML NCName of ASCII letters, digits, '_',
 * '-' and '.', not starting with a digit, '-' or '.'. */
static int
valid_name(const char *s)
{
	const char *p;

	if (s == NULL || *s == '\0' || (*s >= '0' && *s <= '9') || *s == '-' ||
	    *s == '.' || strlen(s) > 256)
		return 0;
	for (p = s; *p != '\0'; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9') || *p == '_' || *p == '-' ||
		    *p == '.'))
			return 0;
	return 1;
}

static int
put_elem_text(struct bctx *c, const char *pfx, const char *name,
    const char *text)
{
	int r;

	if ((r = amtp_buf_putf(c->b, "<%s:%s>", pfx, name)) != 0 ||
	    (r = esc(c, text)) != 0 ||
	    (r = amtp_buf_putf(c->b, "</%s:%s>", pfx, name)) != 0)
		return r;
	return 0;
}

static int put_epr(struct bctx *, const struct amtp_wsman_epr *, int);

static int
put_selectors(struct bctx *c, const struct amtp_wsman_selector *s, size_t n,
    int depth)
{
	size_t i;
	int r;

	if (n == 0)
		return 0;
	if (n > AMTP_WSMAN_MAX_SELECTORS || s == NULL)
		return AMTP_E_INVAL;
	if ((r = amtp_buf_putf(c->b, "<%s:SelectorSet>", c->pw)) != 0)
		return r;
	for (i = 0; i < n; i++) {
		if (s[i].name == NULL || (s[i].value == NULL) ==
		    (s[i].epr == NULL))
			return AMTP_E_INVAL;
		if ((r = amtp_buf_putf(c->b, "<%s:Selector Name=\"", c->pw)) !=
		    0 || (r = amtp_xml_escape(c->b, s[i].name, 1)) != 0 ||
		    (r = put(c, "\">")) != 0)
			return r;
		if (s[i].epr != NULL) {
			if ((r = amtp_buf_putf(c->b, "<%s:EndpointReference>",
			    c->pa)) != 0 ||
			    (r = put_epr(c, s[i].epr, depth + 1)) != 0 ||
			    (r = amtp_buf_putf(c->b, "</%s:EndpointReference>",
			    c->pa)) != 0)
				return r;
		} else if ((r = esc(c, s[i].value)) != 0)
			return r;
		if ((r = amtp_buf_putf(c->b, "</%s:Selector>", c->pw)) != 0)
			return r;
	}
	return amtp_buf_putf(c->b, "</%s:SelectorSet>", c->pw);
}

/* Address + ReferenceParameters (the content of an EPR element). */
static int
put_epr(struct bctx *c, const struct amtp_wsman_epr *e, int depth)
{
	int r;

	if (depth > AMTP_MAX_XML_DEPTH)
		return AMTP_E_DEPTH;
	if ((r = put_elem_text(c, c->pa, "Address", e->address != NULL ?
	    e->address : c->anon_addr)) != 0 ||
	    (r = amtp_buf_putf(c->b, "<%s:ReferenceParameters>", c->pa)) != 0)
		return r;
	if (e->resource_uri != NULL && (r = put_elem_text(c, c->pw,
	    "ResourceURI", e->resource_uri)) != 0)
		return r;
	if ((r = put_selectors(c, e->selectors, e->nselectors, depth)) != 0)
		return r;
	return amtp_buf_putf(c->b, "</%s:ReferenceParameters>", c->pa);
}

/* The properties of an object whose elements use prefix pfx bound to ns. */
static int
put_props(struct bctx *c, const struct amtp_wsman_obj *o, const char *pfx,
    const char *ns, int depth)
{
	const struct amtp_wsman_prop *p;
	char mypfx[2], kidpfx[2];
	const char *kidns;
	size_t i;
	int r;

	if (depth > AMTP_MAX_XML_DEPTH)
		return AMTP_E_DEPTH;
	if (o->nprops > 0 && o->props == NULL)
		return AMTP_E_INVAL;
	for (i = 0; i < o->nprops; i++) {
		p = &o->props[i];
		if (!valid_name(p->name) || (p->text != NULL) +
		    (p->epr != NULL) + (p->obj != NULL) > 1)
			return AMTP_E_INVAL;
		if (c->next_prefix > 'z')
			return AMTP_E_INVAL;
		/* The property element: the parent's prefix, or its own. */
		if (p->ns != NULL && strcmp(p->ns, ns) != 0) {
			mypfx[0] = c->next_prefix++;
			mypfx[1] = '\0';
			if ((r = amtp_buf_putf(c->b, "<%s:%s xmlns:%s=\"", mypfx,
			    p->name, mypfx)) != 0 ||
			    (r = amtp_xml_escape(c->b, p->ns, 1)) != 0 ||
			    (r = put(c, "\"")) != 0)
				return r;
		} else {
			mypfx[0] = pfx[0];
			mypfx[1] = '\0';
			if ((r = amtp_buf_putf(c->b, "<%s:%s", mypfx,
			    p->name)) != 0)
				return r;
		}
		kidns = p->ns != NULL ? p->ns : ns;
		kidpfx[0] = mypfx[0];
		kidpfx[1] = '\0';
		if (p->obj != NULL && p->obj->ns != NULL && p->obj->ns[0] !=
		    '\0' && strcmp(p->obj->ns, kidns) != 0) {
			if (c->next_prefix > 'z')
				return AMTP_E_INVAL;
			kidpfx[0] = c->next_prefix++;
			kidns = p->obj->ns;
			if ((r = amtp_buf_putf(c->b, " xmlns:%s=\"", kidpfx)) !=
			    0 || (r = amtp_xml_escape(c->b, kidns, 1)) != 0 ||
			    (r = put(c, "\"")) != 0)
				return r;
		}
		if (p->nil && (r = put(c, " xsi:nil=\"true\"")) != 0)
			return r;
		if ((r = put(c, ">")) != 0)
			return r;
		if (p->epr != NULL)
			r = put_epr(c, p->epr, depth + 1);
		else if (p->obj != NULL)
			r = put_props(c, p->obj, kidpfx, kidns, depth + 1);
		else
			r = esc(c, p->text);
		if (r != 0)
			return r;
		if ((r = amtp_buf_putf(c->b, "</%s:%s>", mypfx, p->name)) != 0)
			return r;
	}
	return 0;
}

/* The last segment of a resource URI (the class name). */
static const char *
class_of(const char *uri)
{
	const char *s = strrchr(uri, '/');

	return s != NULL ? s + 1 : uri;
}

static int
valid_text(const char *s)
{
	struct amtp_buf *t;
	int r;

	if (s == NULL)
		return 0;
	if ((t = amtp_buf_new(strlen(s) * 6 + 16)) == NULL)
		return 0;
	r = amtp_xml_escape(t, s, 0);
	amtp_buf_free(t);
	return r == 0;
}

static const char *op_names[AMTP_WSMAN_OP__MAX] = {
	NULL, "Get", "Put", "Create", "Delete", "Enumerate", "Pull", "Release",
	NULL
};

/* Copies a finished envelope to out, or leaves out unchanged. */
static int
finish(struct amtp_buf *tmp, struct amtp_buf *out)
{
	return amtp_buf_put(out, amtp_buf_ptr(tmp), amtp_buf_len(tmp));
}

int
amtp_wsman_request_build(const struct amtp_wsman_req_build *rb,
    struct amtp_buf *out)
{
	struct bctx c;
	char action[1024];
	const char *name, *ns;
	int r = AMTP_E_INVAL;

	memset(&c, 0, sizeof(c));
	if (rb == NULL || out == NULL || rb->resource_uri == NULL ||
	    rb->message_id == NULL || rb->op <= AMTP_WSMAN_OP_UNKNOWN ||
	    rb->op >= AMTP_WSMAN_OP__MAX || !valid_text(rb->resource_uri))
		goto out;
	if (rb->op == AMTP_WSMAN_OP_INVOKE) {
		if (!valid_name(rb->method))
			goto out;
		if (snprintf(action, sizeof(action), "%s/%s", rb->resource_uri,
		    rb->method) >= (int)sizeof(action))
			goto out;
	} else if (snprintf(action, sizeof(action), "%s/%s",
	    rb->op <= AMTP_WSMAN_OP_DELETE ? AMTP_WSMAN_NS_TRANSFER :
	    AMTP_WSMAN_NS_ENUM, op_names[rb->op]) >= (int)sizeof(action))
		goto out;
	if ((rb->op == AMTP_WSMAN_OP_PULL || rb->op == AMTP_WSMAN_OP_RELEASE) &&
	    rb->enum_context == NULL)
		goto out;
	r = AMTP_E_NOMEM;
	if ((c.b = amtp_buf_new(AMTP_MAX_SOAP_SIZE)) == NULL)
		goto out;
	c.pa = "a";
	c.pw = "w";
	c.anon_addr = "/wsman";
	c.next_prefix = 'q';
	if ((r = put(&c, "<?xml version=\"1.0\" encoding=\"utf-8\"?>"
	    "<Envelope xmlns:xsi=\"" AMTP_WSMAN_NS_XSI "\" "
	    "xmlns:xsd=\"http://www.w3.org/2001/XMLSchema\" "
	    "xmlns:a=\"" AMTP_WSMAN_NS_ADDR "\" "
	    "xmlns:w=\"" AMTP_WSMAN_NS_WSMAN "\" "
	    "xmlns=\"" AMTP_WSMAN_NS_SOAP "\"><Header>")) != 0 ||
	    (r = put_elem_text(&c, "a", "Action", action)) != 0 ||
	    (r = put_elem_text(&c, "a", "To", rb->to != NULL ? rb->to :
	    "/wsman")) != 0 ||
	    (r = put_elem_text(&c, "w", "ResourceURI", rb->resource_uri)) != 0 ||
	    (r = put_elem_text(&c, "a", "MessageID", rb->message_id)) != 0 ||
	    (r = put(&c, "<a:ReplyTo><a:Address>" AMTP_WSMAN_ANONYMOUS
	    "</a:Address></a:ReplyTo>")) != 0 ||
	    (r = put_elem_text(&c, "w", "OperationTimeout",
	    rb->timeout != NULL ? rb->timeout : "PT60S")) != 0 ||
	    (r = put_selectors(&c, rb->selectors, rb->nselectors, 1)) != 0 ||
	    (r = put(&c, "</Header><Body>")) != 0)
		goto out;
	switch (rb->op) {
	case AMTP_WSMAN_OP_ENUMERATE:
		r = put(&c, "<Enumerate xmlns=\"" AMTP_WSMAN_NS_ENUM "\" />");
		break;
	case AMTP_WSMAN_OP_PULL:
	case AMTP_WSMAN_OP_RELEASE:
		if ((r = amtp_buf_putf(c.b, "<%s xmlns=\"" AMTP_WSMAN_NS_ENUM
		    "\"><EnumerationContext>", op_names[rb->op])) != 0 ||
		    (r = esc(&c, rb->enum_context)) != 0 ||
		    (r = put(&c, "</EnumerationContext>")) != 0)
			break;
		if (rb->op == AMTP_WSMAN_OP_PULL && (r = amtp_buf_putf(c.b,
		    "<MaxElements>%u</MaxElements>"
		    "<MaxCharacters>%u</MaxCharacters>",
		    rb->max_elements != 0 ? rb->max_elements : 999,
		    rb->max_characters != 0 ? rb->max_characters : 99999)) != 0)
			break;
		r = amtp_buf_putf(c.b, "</%s>", op_names[rb->op]);
		break;
	case AMTP_WSMAN_OP_PUT:
	case AMTP_WSMAN_OP_CREATE:
	case AMTP_WSMAN_OP_INVOKE:
		if (rb->op != AMTP_WSMAN_OP_INVOKE && rb->body == NULL) {
			r = AMTP_E_INVAL;
			break;
		}
		if (rb->op == AMTP_WSMAN_OP_INVOKE) {
			if (snprintf(action, sizeof(action), "%s_INPUT",
			    rb->method) >= (int)sizeof(action)) {
				r = AMTP_E_INVAL;
				break;
			}
			name = rb->body != NULL && rb->body->name != NULL ?
			    rb->body->name : action;
		} else
			name = rb->body->name != NULL ? rb->body->name :
			    class_of(rb->resource_uri);
		ns = rb->body != NULL && rb->body->ns != NULL &&
		    rb->body->ns[0] != '\0' ? rb->body->ns : rb->resource_uri;
		if (!valid_name(name)) {
			r = AMTP_E_INVAL;
			break;
		}
		if ((r = amtp_buf_putf(c.b, "<h:%s xmlns:h=\"", name)) != 0 ||
		    (r = amtp_xml_escape(c.b, ns, 1)) != 0 ||
		    (r = put(&c, "\">")) != 0)
			break;
		if (rb->body != NULL &&
		    (r = put_props(&c, rb->body, "h", ns, 1)) != 0)
			break;
		r = amtp_buf_putf(c.b, "</h:%s>", name);
		break;
	default:
		r = 0;		/* Get, Delete: empty Body */
		break;
	}
	if (r != 0)
		goto out;
	if ((r = put(&c, "</Body></Envelope>")) != 0 ||
	    (r = finish(c.b, out)) != 0)
		goto out;
	r = 0;
 out:
	amtp_buf_free(c.b);
	return r;
}

#define RESP_NS_COMMON \
	"xmlns:a=\"" AMTP_WSMAN_NS_SOAP "\" " \
	"xmlns:b=\"" AMTP_WSMAN_NS_ADDR "\" " \
	"xmlns:c=\"" AMTP_WSMAN_NS_WSMAN "\" " \
	"xmlns:d=\"http://schemas.xmlsoap.org/ws/2005/02/trust\" " \
	"xmlns:e=\"http://docs.oasis-open.org/wss/2004/01/" \
	"oasis-200401-wss-wssecurity-secext-1.0.xsd\" " \
	"xmlns:f=\"http://schemas.dmtf.org/wbem/wsman/1/cimbinding.xsd\" "

static int
put_resp_header(struct bctx *c, const char *relates_to, const char *action,
    const char *message_id, const char *resource_uri)
{
	int r;

	if ((r = put(c, "<a:Header><b:To>" AMTP_WSMAN_ANONYMOUS "</b:To>")) !=
	    0 || (r = put_elem_text(c, "b", "RelatesTo", relates_to != NULL ?
	    relates_to : "")) != 0 ||
	    (r = put(c, "<b:Action a:mustUnderstand=\"true\">")) != 0 ||
	    (r = esc(c, action)) != 0 || (r = put(c, "</b:Action>")) != 0 ||
	    (r = put_elem_text(c, "b", "MessageID", message_id)) != 0)
		return r;
	if (resource_uri != NULL && (r = put_elem_text(c, "c", "ResourceURI",
	    resource_uri)) != 0)
		return r;
	return put(c, "</a:Header><a:Body>");
}

/* <p:name>props</p:name> with p already declared for ns. */
static int
put_instance(struct bctx *c, const struct amtp_wsman_obj *o,
    const char *name, const char *pfx, const char *ns)
{
	int r;

	if (!valid_name(name))
		return AMTP_E_INVAL;
	if ((r = amtp_buf_putf(c->b, "<%s:%s>", pfx, name)) != 0 ||
	    (o != NULL && (r = put_props(c, o, pfx, ns, 1)) != 0) ||
	    (r = amtp_buf_putf(c->b, "</%s:%s>", pfx, name)) != 0)
		return r;
	return 0;
}

int
amtp_wsman_response_build(const struct amtp_wsman_resp_build *rb,
    struct amtp_buf *out)
{
	struct bctx c;
	char action[1024], mname[300];
	const char *cls_ns, *g_ns = NULL, *h_ns = NULL, *name;
	size_t i;
	int r = AMTP_E_INVAL;

	memset(&c, 0, sizeof(c));
	if (rb == NULL || out == NULL || rb->message_id == NULL ||
	    rb->op <= AMTP_WSMAN_OP_UNKNOWN || rb->op >= AMTP_WSMAN_OP__MAX ||
	    rb->resource_uri == NULL ||
	    !valid_text(rb->resource_uri))
		goto out;
	cls_ns = rb->resource_uri;
	if (rb->op == AMTP_WSMAN_OP_INVOKE) {
		if (!valid_name(rb->method) || snprintf(action, sizeof(action),
		    "%s/%sResponse", rb->resource_uri, rb->method) >=
		    (int)sizeof(action))
			goto out;
	} else if (snprintf(action, sizeof(action), "%s/%sResponse",
	    rb->op <= AMTP_WSMAN_OP_DELETE ? AMTP_WSMAN_NS_TRANSFER :
	    AMTP_WSMAN_NS_ENUM, op_names[rb->op]) >= (int)sizeof(action))
		goto out;
	switch (rb->op) {
	case AMTP_WSMAN_OP_GET:
	case AMTP_WSMAN_OP_PUT:
	case AMTP_WSMAN_OP_INVOKE:
		if (rb->body != NULL && rb->body->ns != NULL &&
		    rb->body->ns[0] != '\0')
			cls_ns = rb->body->ns;
		g_ns = cls_ns;
		if (rb->op != AMTP_WSMAN_OP_INVOKE && rb->body == NULL)
			goto out;
		break;
	case AMTP_WSMAN_OP_CREATE:
		g_ns = AMTP_WSMAN_NS_TRANSFER;
		if (rb->created == NULL)
			goto out;
		break;
	case AMTP_WSMAN_OP_ENUMERATE:
		g_ns = AMTP_WSMAN_NS_ENUM;
		if (rb->enum_context == NULL)
			goto out;
		break;
	case AMTP_WSMAN_OP_PULL:
		g_ns = AMTP_WSMAN_NS_ENUM;
		h_ns = cls_ns;
		if (rb->nitems > 0 && rb->items == NULL)
			goto out;
		if (rb->nitems > AMTP_WSMAN_MAX_ITEMS)
			goto out;
		break;
	default:
		break;
	}
	r = AMTP_E_NOMEM;
	if ((c.b = amtp_buf_new(AMTP_MAX_SOAP_SIZE)) == NULL)
		goto out;
	c.pa = "b";
	c.pw = "c";
	c.anon_addr = AMTP_WSMAN_ANONYMOUS;
	c.next_prefix = h_ns != NULL ? 'i' : 'h';
	if ((r = put(&c, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>"
	    "<a:Envelope " RESP_NS_COMMON)) != 0)
		goto out;
	if (g_ns != NULL && ((r = put(&c, "xmlns:g=\"")) != 0 ||
	    (r = amtp_xml_escape(c.b, g_ns, 1)) != 0 || (r = put(&c, "\" "))
	    != 0))
		goto out;
	if (h_ns != NULL && ((r = put(&c, "xmlns:h=\"")) != 0 ||
	    (r = amtp_xml_escape(c.b, h_ns, 1)) != 0 || (r = put(&c, "\" "))
	    != 0))
		goto out;
	if ((r = put(&c, "xmlns:xsi=\"" AMTP_WSMAN_NS_XSI "\">")) != 0 ||
	    (r = put_resp_header(&c, rb->relates_to, action, rb->message_id,
	    rb->resource_uri)) != 0)
		goto out;
	switch (rb->op) {
	case AMTP_WSMAN_OP_GET:
	case AMTP_WSMAN_OP_PUT:
		name = rb->body->name != NULL ? rb->body->name :
		    class_of(rb->resource_uri);
		r = put_instance(&c, rb->body, name, "g", cls_ns);
		break;
	case AMTP_WSMAN_OP_INVOKE:
		if (snprintf(mname, sizeof(mname), "%s_OUTPUT", rb->method) >=
		    (int)sizeof(mname)) {
			r = AMTP_E_INVAL;
			break;
		}
		name = rb->body != NULL && rb->body->name != NULL ?
		    rb->body->name : mname;
		r = put_instance(&c, rb->body, name, "g", cls_ns);
		break;
	case AMTP_WSMAN_OP_CREATE:
		if ((r = put(&c, "<g:ResourceCreated>")) != 0 ||
		    (r = put_epr(&c, rb->created, 1)) != 0)
			break;
		r = put(&c, "</g:ResourceCreated>");
		break;
	case AMTP_WSMAN_OP_ENUMERATE:
		if ((r = put(&c, "<g:EnumerateResponse>")) != 0 ||
		    (r = put_elem_text(&c, "g", "EnumerationContext",
		    rb->enum_context)) != 0)
			break;
		r = put(&c, "</g:EnumerateResponse>");
		break;
	case AMTP_WSMAN_OP_PULL:
		if ((r = put(&c, "<g:PullResponse>")) != 0)
			break;
		if (rb->enum_context != NULL && (r = put_elem_text(&c, "g",
		    "EnumerationContext", rb->enum_context)) != 0)
			break;
		if ((r = put(&c, "<g:Items>")) != 0)
			break;
		for (i = 0; i < rb->nitems && r == 0; i++)
			r = put_instance(&c, &rb->items[i],
			    rb->items[i].name != NULL ? rb->items[i].name :
			    class_of(rb->resource_uri), "h", h_ns);
		if (r != 0 || (r = put(&c, "</g:Items>")) != 0)
			break;
		if (rb->end_of_sequence && (r = put(&c,
		    "<g:EndOfSequence></g:EndOfSequence>")) != 0)
			break;
		r = put(&c, "</g:PullResponse>");
		break;
	default:
		r = 0;		/* Delete, Release: empty Body */
		break;
	}
	if (r != 0)
		goto out;
	if ((r = put(&c, "</a:Body></a:Envelope>")) != 0 ||
	    (r = finish(c.b, out)) != 0)
		goto out;
	r = 0;
 out:
	amtp_buf_free(c.b);
	return r;
}

int
amtp_wsman_fault_build(const char *relates_to, const char *message_id,
    const char *action, const char *code, const char *subcode_ns,
    const char *subcode, const char *reason, const char *detail,
    struct amtp_buf *out)
{
	struct bctx c;
	const char *spfx = NULL;
	int r = AMTP_E_INVAL;

	memset(&c, 0, sizeof(c));
	if (out == NULL || message_id == NULL || code == NULL ||
	    reason == NULL || !valid_name(code) ||
	    (subcode != NULL && (!valid_name(subcode) || subcode_ns == NULL)))
		goto out;
	if (subcode != NULL) {
		if (strcmp(subcode_ns, AMTP_WSMAN_NS_ADDR) == 0)
			spfx = "b";
		else if (strcmp(subcode_ns, AMTP_WSMAN_NS_WSMAN) == 0)
			spfx = "c";
		else
			spfx = "g";
	}
	r = AMTP_E_NOMEM;
	if ((c.b = amtp_buf_new(AMTP_MAX_SOAP_SIZE)) == NULL)
		goto out;
	c.pa = "b";
	c.pw = "c";
	if ((r = put(&c, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>"
	    "<a:Envelope " RESP_NS_COMMON)) != 0)
		goto out;
	if (spfx != NULL && spfx[0] == 'g' && ((r = put(&c, "xmlns:g=\"")) !=
	    0 || (r = amtp_xml_escape(c.b, subcode_ns, 1)) != 0 ||
	    (r = put(&c, "\" ")) != 0))
		goto out;
	if ((r = put(&c, "xmlns:xsi=\"" AMTP_WSMAN_NS_XSI "\">")) != 0 ||
	    (r = put_resp_header(&c, relates_to, action != NULL ? action :
	    AMTP_WSMAN_NS_ADDR "/fault", message_id, NULL)) != 0 ||
	    (r = amtp_buf_putf(c.b, "<a:Fault><a:Code><a:Value>a:%s</a:Value>",
	    code)) != 0)
		goto out;
	if (spfx != NULL && (r = amtp_buf_putf(c.b, "<a:Subcode><a:Value>%s:%s"
	    "</a:Value></a:Subcode>", spfx, subcode)) != 0)
		goto out;
	if ((r = put(&c, "</a:Code><a:Reason><a:Text xml:lang=\"en-US\">")) !=
	    0 || (r = esc(&c, reason)) != 0 ||
	    (r = put(&c, "</a:Text></a:Reason><a:Detail>")) != 0 ||
	    (detail != NULL && (r = esc(&c, detail)) != 0) ||
	    (r = put(&c, "</a:Detail></a:Fault></a:Body></a:Envelope>")) != 0 ||
	    (r = finish(c.b, out)) != 0)
		goto out;
	r = 0;
 out:
	amtp_buf_free(c.b);
	return r;
}
