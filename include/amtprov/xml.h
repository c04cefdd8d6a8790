/*
 * amtprov - xml.h: a small hardened layer over libxml2 (STYLE.md 5), used by
 * the WS-Management code (wsman.c) on both sides.
 *
 * amtp_xml_parse() caps the size before libxml2 sees a byte, parses with
 * XML_PARSE_NONET and never NOENT, DTDLOAD or HUGE, stops at any DOCTYPE
 * (before its internal subset, so no entity is ever declared), counts depth
 * and elements while parsing and stops at AMTP_MAX_XML_DEPTH /
 * AMTP_MAX_XML_ELEMENTS, then checks every text node against
 * AMTP_MAX_XML_TEXT and refuses processing instructions and entity nodes.
 * Matching is by namespace URI and local name, never by prefix.
 * amtp_xml_escape() writes text for the builders: it refuses bytes that are
 * not well-formed UTF-8 or not XML 1.0 characters, and escapes the rest.
 */
#ifndef AMTPROV_XML_H
#define AMTPROV_XML_H

#include <stddef.h>

#include <libxml/tree.h>

struct amtp_buf;

/*
 * Parses len bytes (at most maxsize, itself at most AMTP_MAX_SOAP_SIZE) into
 * a new document in *out (free with amtp_xml_free_wipe(), or xmlFreeDoc()
 * when it cannot hold a secret).  err (may be NULL) gets a
 * short reason for a person: "DOCTYPE not allowed", "line 3: ...".
 * 0; AMTP_E_TOOBIG (input, element count or a text over its limit);
 * AMTP_E_DEPTH (nesting over AMTP_MAX_XML_DEPTH); AMTP_E_XML (not
 * well-formed, DOCTYPE, processing instruction, entity); AMTP_E_NOMEM.
 */
int amtp_xml_parse(const void *data, size_t len, size_t maxsize,
    xmlDocPtr *out, char *err, size_t errlen);

/*
 * Wipes the text of doc (element text, CDATA and attribute values: a SOAP
 * body may carry passwords) and frees it.  Strings that libxml2 keeps in
 * its shared dictionary (names, and some short text) are left alone; so is
 * the parser's own copy of the input, which libxml2 frees without wiping.
 * NULL does nothing.
 */
void amtp_xml_free_wipe(xmlDocPtr doc);

/* 1 when n is an element with namespace URI ns (NULL: no namespace) and
 * local name local (NULL: any). */
int amtp_xml_is(const xmlNode *n, const char *ns, const char *local);
/* First element child of n, next element sibling of n; NULL when none. */
xmlNode *amtp_xml_child(const xmlNode *n);
xmlNode *amtp_xml_next(const xmlNode *n);
/* The first element child of n matching ns/local, or NULL. */
xmlNode *amtp_xml_find(const xmlNode *n, const char *ns, const char *local);
/* 1 when n has non-whitespace text directly inside it. */
int amtp_xml_has_text(const xmlNode *n);

/*
 * Appends s escaped for element content (attr 0: & < > and CR) or for a
 * double-quoted attribute value (attr 1: also " and TAB/LF).  AMTP_E_INVAL
 * when s is not well-formed UTF-8 or holds a character XML 1.0 forbids
 * (controls other than TAB, LF, CR); nothing is appended then.
 * AMTP_E_TOOBIG / AMTP_E_NOMEM from the buffer, which may then hold part of
 * s (the builders write into their own buffer and copy it on success).
 */
int amtp_xml_escape(struct amtp_buf *b, const char *s, int attr);

#endif
