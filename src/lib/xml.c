/*
 * amtprov - xml.c: hardened libxml2 parsing and XML escaping (libamtp; the
 * simulator parses requests with it, the service point responses).  See
 * xml.h for the rules.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <libxml/parser.h>
#include <libxml/parserInternals.h>
#include <libxml/SAX2.h>
#include <libxml/tree.h>

#include "amtprov/buf.h"
#include "amtprov/err.h"
#include "amtprov/limits.h"
#include "amtprov/str.h"
#include "amtprov/xml.h"

/* Why the parser was stopped by one of our handlers. */
enum guard_stop {
	STOP_NONE = 0,
	STOP_DOCTYPE,
	STOP_DEPTH,
	STOP_ELEMENTS,
	STOP_ENTITY,
	STOP__MAX
};

struct guard {
	int		depth;
	size_t		elements;
	enum guard_stop	why;
};

static void
seterr(char *err, size_t errlen, const char *msg)
{
	if (err != NULL && errlen > 0)
		snprintf(err, errlen, "%s", msg);
}

static void
guard_stop(xmlParserCtxtPtr c, enum guard_stop why)
{
	struct guard *g = c->_private;

	if (g->why == STOP_NONE)
		g->why = why;
	xmlStopParser(c);
}

static void
on_doctype(void *ctx, const xmlChar *name, const xmlChar *eid,
    const xmlChar *sid)
{
	(void)name;
	(void)eid;
	(void)sid;
	guard_stop(ctx, STOP_DOCTYPE);
}

static void
on_entity_decl(void *ctx, const xmlChar *name, int type, const xmlChar *pid,
    const xmlChar *sid, xmlChar *content)
{
	(void)name;
	(void)type;
	(void)pid;
	(void)sid;
	(void)content;
	guard_stop(ctx, STOP_ENTITY);
}

static void
on_start(void *ctx, const xmlChar *localname, const xmlChar *prefix,
    const xmlChar *uri, int nb_namespaces, const xmlChar **namespaces,
    int nb_attributes, int nb_defaulted, const xmlChar **attributes)
{
	xmlParserCtxtPtr c = ctx;
	struct guard *g = c->_private;

	if (g->why != STOP_NONE)
		return;
	if (++g->depth > AMTP_MAX_XML_DEPTH) {
		guard_stop(c, STOP_DEPTH);
		return;
	}
	if (++g->elements > AMTP_MAX_XML_ELEMENTS) {
		guard_stop(c, STOP_ELEMENTS);
		return;
	}
	xmlSAX2StartElementNs(ctx, localname, prefix, uri, nb_namespaces,
	    namespaces, nb_attributes, nb_defaulted, attributes);
}

static void
on_end(void *ctx, const xmlChar *localname, const xmlChar *prefix,
    const xmlChar *uri)
{
	xmlParserCtxtPtr c = ctx;
	struct guard *g = c->_private;

	if (g->why != STOP_NONE)
		return;
	g->depth--;
	xmlSAX2EndElementNs(ctx, localname, prefix, uri);
}

static void
quiet(void *ctx, const char *msg, ...)
{
	(void)ctx;
	(void)msg;
}

/* Walks the tree without recursion: text sizes and node kinds. */
static int
check_tree(xmlDocPtr doc, char *err, size_t errlen)
{
	xmlNode *n = doc->children;

	if (doc->intSubset != NULL || doc->extSubset != NULL) {
		seterr(err, errlen, "DOCTYPE not allowed");
		return AMTP_E_XML;
	}
	while (n != NULL) {
		switch (n->type) {
		case XML_TEXT_NODE:
		case XML_CDATA_SECTION_NODE:
			if (n->content != NULL &&
			    strlen((const char *)n->content) > AMTP_MAX_XML_TEXT) {
				seterr(err, errlen, "text too long");
				return AMTP_E_TOOBIG;
			}
			break;
		case XML_ELEMENT_NODE:
		case XML_COMMENT_NODE:
			break;
		case XML_PI_NODE:
			seterr(err, errlen, "processing instruction not allowed");
			return AMTP_E_XML;
		default:
			seterr(err, errlen, "entity or DTD node not allowed");
			return AMTP_E_XML;
		}
		if (n->type == XML_ELEMENT_NODE && n->children != NULL) {
			n = n->children;
			continue;
		}
		while (n != NULL && n->next == NULL)
			n = n->parent != (xmlNode *)doc ? n->parent : NULL;
		if (n != NULL)
			n = n->next;
	}
	return 0;
}

int
amtp_xml_parse(const void *data, size_t len, size_t maxsize, xmlDocPtr *out,
    char *err, size_t errlen)
{
	xmlParserCtxtPtr ctxt = NULL;
	xmlDocPtr doc = NULL;
	xmlGenericErrorFunc old_fn;
	void *old_ctx;
	struct guard g;
	int r = AMTP_E_INVAL;

	seterr(err, errlen, "");
	if (out == NULL)
		return AMTP_E_INVAL;
	*out = NULL;
	if (data == NULL)
		goto out;
	if (maxsize > AMTP_MAX_SOAP_SIZE)
		maxsize = AMTP_MAX_SOAP_SIZE;
	r = AMTP_E_TOOBIG;
	if (len > maxsize || len > INT32_MAX) {
		seterr(err, errlen, "document too large");
		goto out;
	}
	r = AMTP_E_XML;
	if (len == 0) {
		seterr(err, errlen, "empty document");
		goto out;
	}
	r = AMTP_E_NOMEM;
	if ((ctxt = xmlNewParserCtxt()) == NULL)
		goto out;
	memset(&g, 0, sizeof(g));
	ctxt->_private = &g;
	ctxt->sax->internalSubset = on_doctype;
	ctxt->sax->externalSubset = on_doctype;
	ctxt->sax->entityDecl = on_entity_decl;
	ctxt->sax->startElementNs = on_start;
	ctxt->sax->endElementNs = on_end;
	/* Encoding errors go to libxml2's generic handler, not the
	 * context's: silence it for this parse (its state is per thread). */
	old_fn = xmlGenericError;
	old_ctx = xmlGenericErrorContext;
	xmlSetGenericErrorFunc(NULL, quiet);
	doc = xmlCtxtReadMemory(ctxt, data, (int)len, NULL, NULL,
	    XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING |
	    XML_PARSE_NOCDATA);
	xmlSetGenericErrorFunc(old_ctx, old_fn);
	switch (g.why) {
	case STOP_DOCTYPE:
	case STOP_ENTITY:
		r = AMTP_E_XML;
		seterr(err, errlen, "DOCTYPE not allowed");
		goto out;
	case STOP_DEPTH:
		r = AMTP_E_DEPTH;
		seterr(err, errlen, "elements nested too deep");
		goto out;
	case STOP_ELEMENTS:
		r = AMTP_E_TOOBIG;
		seterr(err, errlen, "too many elements");
		goto out;
	default:
		break;
	}
	r = AMTP_E_XML;
	if (doc == NULL || !ctxt->wellFormed) {
		const xmlError *e = &ctxt->lastError;

		if (err != NULL && errlen > 0 && e->message != NULL) {
			size_t n;

			snprintf(err, errlen, "line %d: %s", e->line, e->message);
			n = strlen(err);
			while (n > 0 && (err[n - 1] == '\n' || err[n - 1] == ' '))
				err[--n] = '\0';
		} else
			seterr(err, errlen, "not well-formed XML");
		goto out;
	}
	if ((r = check_tree(doc, err, errlen)) != 0)
		goto out;
	*out = doc;
	doc = NULL;
	r = 0;
 out:
	amtp_xml_free_wipe(doc);
	if (ctxt != NULL) {
		ctxt->_private = NULL;
		xmlFreeParserCtxt(ctxt);
	}
	return r;
}

/* Wipes the content of a text-like node when the document owns it. */
static void
wipe_content(xmlDocPtr doc, xmlNode *n)
{
	if ((n->type != XML_TEXT_NODE && n->type != XML_CDATA_SECTION_NODE) ||
	    n->content == NULL ||
	    n->content == (xmlChar *)&n->properties ||	/* XML_PARSE_COMPACT */
	    (doc->dict != NULL && xmlDictOwns(doc->dict, n->content) == 1))
		return;
	explicit_bzero(n->content, strlen((const char *)n->content));
}

void
amtp_xml_free_wipe(xmlDocPtr doc)
{
	xmlNode *n, *c;
	xmlAttr *a;

	if (doc == NULL)
		return;
	/* The same walk as check_tree: no recursion. */
	n = doc->children;
	while (n != NULL) {
		wipe_content(doc, n);
		if (n->type == XML_ELEMENT_NODE) {
			for (a = n->properties; a != NULL; a = a->next)
				for (c = a->children; c != NULL; c = c->next)
					wipe_content(doc, c);
			if (n->children != NULL) {
				n = n->children;
				continue;
			}
		}
		while (n != NULL && n->next == NULL)
			n = n->parent != (xmlNode *)doc ? n->parent : NULL;
		if (n != NULL)
			n = n->next;
	}
	xmlFreeDoc(doc);
}

int
amtp_xml_is(const xmlNode *n, const char *ns, const char *local)
{
	if (n == NULL || n->type != XML_ELEMENT_NODE)
		return 0;
	if (local != NULL && strcmp((const char *)n->name, local) != 0)
		return 0;
	if (ns == NULL)
		return n->ns == NULL || n->ns->href == NULL;
	return n->ns != NULL && n->ns->href != NULL &&
	    strcmp((const char *)n->ns->href, ns) == 0;
}

xmlNode *
amtp_xml_child(const xmlNode *n)
{
	xmlNode *c;

	if (n == NULL)
		return NULL;
	for (c = n->children; c != NULL; c = c->next)
		if (c->type == XML_ELEMENT_NODE)
			return c;
	return NULL;
}

xmlNode *
amtp_xml_next(const xmlNode *n)
{
	xmlNode *c;

	if (n == NULL)
		return NULL;
	for (c = n->next; c != NULL; c = c->next)
		if (c->type == XML_ELEMENT_NODE)
			return c;
	return NULL;
}

xmlNode *
amtp_xml_find(const xmlNode *n, const char *ns, const char *local)
{
	xmlNode *c;

	for (c = amtp_xml_child(n); c != NULL; c = amtp_xml_next(c))
		if (amtp_xml_is(c, ns, local))
			return c;
	return NULL;
}

int
amtp_xml_has_text(const xmlNode *n)
{
	const xmlNode *c;
	const char *p;

	for (c = n->children; c != NULL; c = c->next) {
		if (c->type != XML_TEXT_NODE && c->type != XML_CDATA_SECTION_NODE)
			continue;
		for (p = (const char *)c->content; p != NULL && *p != '\0'; p++)
			if (*p != ' ' && *p != '\t' && *p != '\n' && *p != '\r')
				return 1;
	}
	return 0;
}

/* Length of the UTF-8 sequence at s that encodes an XML 1.0 Char, or 0. */
static size_t
xml_char_len(const unsigned char *s)
{
	uint32_t cp;
	size_t n;

	if (s[0] < 0x80) {
		if (s[0] < 0x20 && s[0] != '\t' && s[0] != '\n' && s[0] != '\r')
			return 0;
		return 1;
	}
	/* NUL-terminated: the sequence stops at the NUL */
	if ((n = amtp_utf8_seq(s, 4, &cp)) == 0 || cp == 0xfffe ||
	    cp == 0xffff)
		return 0;
	return n;
}

int
amtp_xml_escape(struct amtp_buf *b, const char *s, int attr)
{
	const unsigned char *p;
	size_t n;
	int r;

	if (b == NULL || s == NULL)
		return AMTP_E_INVAL;
	for (p = (const unsigned char *)s; *p != '\0'; p += n)
		if ((n = xml_char_len(p)) == 0)
			return AMTP_E_INVAL;
	for (p = (const unsigned char *)s; *p != '\0'; p++) {
		const char *rep = NULL;
		size_t run;

		/* a run that needs no escape, in one write */
		for (run = 0; p[run] != '\0' && p[run] != '&' &&
		    p[run] != '<' && p[run] != '>' && p[run] != '\r' &&
		    (!attr || (p[run] != '"' && p[run] != '\t' &&
		    p[run] != '\n')); run++)
			;
		if (run > 0) {
			if ((r = amtp_buf_put(b, p, run)) != 0)
				return r;
			p += run;
			if (*p == '\0')
				break;
		}
		switch (*p) {
		case '&':
			rep = "&amp;";
			break;
		case '<':
			rep = "&lt;";
			break;
		case '>':
			rep = "&gt;";
			break;
		case '\r':
			rep = "&#13;";
			break;
		case '"':
			rep = attr ? "&quot;" : NULL;
			break;
		case '\t':
			rep = attr ? "&#9;" : NULL;
			break;
		case '\n':
			rep = attr ? "&#10;" : NULL;
			break;
		default:
			break;
		}
		r = rep != NULL ? amtp_buf_put_cstring(b, rep) :
		    amtp_buf_put_u8(b, *p);
		if (r != 0)
			return r;
	}
	return 0;
}
