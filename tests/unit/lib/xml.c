/* Unit tests for src/lib/xml.c: the hardened libxml2 loader (hostile
 * fixtures, every limit at and one over) and XML escaping. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <fcntl.h>
#include <malloc.h>
#include <unistd.h>

#include <libxml/xmlmemory.h>

#include "amtprov/buf.h"
#include "amtprov/err.h"
#include "amtprov/limits.h"
#include "amtprov/xml.h"

#define FIX	AMTP_SRC_DIR "/tests/fixtures/xml/"

static int
parse_file(const char *name, char *err, size_t errlen)
{
	struct amtp_buf *b = NULL;
	xmlDocPtr doc = NULL;
	char path[512];
	int r;

	snprintf(path, sizeof(path), FIX "%s", name);
	assert_int_equal(amtp_buf_load_file(path, 2 * AMTP_MAX_SOAP_SIZE, &b), 0);
	r = amtp_xml_parse(amtp_buf_ptr(b), amtp_buf_len(b), AMTP_MAX_SOAP_SIZE,
	    &doc, err, errlen);
	if (r == 0)
		xmlFreeDoc(doc);
	else
		assert_null(doc);
	amtp_buf_free(b);
	return r;
}

static int
parse_mem(const char *s, size_t len, char *err, size_t errlen)
{
	xmlDocPtr doc = NULL;
	int r;

	r = amtp_xml_parse(s, len, AMTP_MAX_SOAP_SIZE, &doc, err, errlen);
	if (r == 0)
		xmlFreeDoc(doc);
	return r;
}

static int
parse_str(const char *s)
{
	return parse_mem(s, strlen(s), NULL, 0);
}

static void
test_hostile_fixtures(void **state)
{
	char err[256];

	(void)state;
	assert_int_equal(parse_file("xxe.xml", err, sizeof(err)), AMTP_E_XML);
	assert_string_equal(err, "DOCTYPE not allowed");
	assert_int_equal(parse_file("billion-laughs.xml", err, sizeof(err)),
	    AMTP_E_XML);
	assert_string_equal(err, "DOCTYPE not allowed");
	assert_int_equal(parse_file("external-dtd.xml", err, sizeof(err)),
	    AMTP_E_XML);
	assert_string_equal(err, "DOCTYPE not allowed");
	assert_int_equal(parse_file("deep-nesting.xml", err, sizeof(err)),
	    AMTP_E_DEPTH);
	assert_string_equal(err, "elements nested too deep");
	assert_int_equal(parse_file("huge-text.xml", err, sizeof(err)),
	    AMTP_E_TOOBIG);
	assert_string_equal(err, "text too long");
	/* and a good one */
	assert_int_equal(parse_file("golden/amt_general_get.xml", err,
	    sizeof(err)), 0);
	assert_string_equal(err, "");
}

/* n nested <x> elements (the root counts as one level). */
static char *
nested(int n)
{
	size_t len = (size_t)n * 7 + 1, off = 0;
	char *s = malloc(len);
	int i;

	assert_non_null(s);
	for (i = 0; i < n; i++)
		off += (size_t)snprintf(s + off, len - off, "<x>");
	for (i = 0; i < n; i++)
		off += (size_t)snprintf(s + off, len - off, "</x>");
	return s;
}

static void
test_depth_limit(void **state)
{
	char *s;

	(void)state;
	s = nested(AMTP_MAX_XML_DEPTH);
	assert_int_equal(parse_str(s), 0);
	free(s);
	s = nested(AMTP_MAX_XML_DEPTH + 1);
	assert_int_equal(parse_str(s), AMTP_E_DEPTH);
	free(s);
}

static void
test_size_limits(void **state)
{
	struct amtp_buf *b = amtp_buf_new(2 * AMTP_MAX_SOAP_SIZE + 64);
	xmlDocPtr doc = NULL;
	size_t i;
	char err[128];

	(void)state;
	/* Text: exactly at the limit, one over. */
	assert_int_equal(amtp_buf_put_cstring(b, "<x>"), 0);
	assert_int_equal(amtp_buf_put_zero(b, AMTP_MAX_XML_TEXT), 0);
	memset((uint8_t *)amtp_buf_ptr(b) + 3, 'a', AMTP_MAX_XML_TEXT);
	assert_int_equal(amtp_buf_put_cstring(b, "</x>"), 0);
	assert_int_equal(parse_mem(amtp_buf_str(b), amtp_buf_len(b), NULL, 0), 0);
	amtp_buf_reset(b);
	assert_int_equal(amtp_buf_put_cstring(b, "<x>"), 0);
	assert_int_equal(amtp_buf_put_zero(b, AMTP_MAX_XML_TEXT + 1), 0);
	memset((uint8_t *)amtp_buf_ptr(b) + 3, 'a', AMTP_MAX_XML_TEXT + 1);
	assert_int_equal(amtp_buf_put_cstring(b, "</x>"), 0);
	assert_int_equal(parse_mem(amtp_buf_str(b), amtp_buf_len(b), NULL, 0),
	    AMTP_E_TOOBIG);

	/* Elements: the limit counts every element, the root too. */
	amtp_buf_reset(b);
	assert_int_equal(amtp_buf_put_cstring(b, "<r>"), 0);
	for (i = 1; i < AMTP_MAX_XML_ELEMENTS; i++)
		assert_int_equal(amtp_buf_put_cstring(b, "<a/>"), 0);
	assert_int_equal(amtp_buf_put_cstring(b, "</r>"), 0);
	assert_int_equal(parse_mem(amtp_buf_str(b), amtp_buf_len(b), NULL, 0), 0);
	amtp_buf_reset(b);
	assert_int_equal(amtp_buf_put_cstring(b, "<r>"), 0);
	for (i = 0; i < AMTP_MAX_XML_ELEMENTS; i++)
		assert_int_equal(amtp_buf_put_cstring(b, "<a/>"), 0);
	assert_int_equal(amtp_buf_put_cstring(b, "</r>"), 0);
	assert_int_equal(parse_mem(amtp_buf_str(b), amtp_buf_len(b), err,
	    sizeof(err)), AMTP_E_TOOBIG);
	assert_string_equal(err, "too many elements");

	/* Whole document: refused before parsing, whatever maxsize says. */
	amtp_buf_reset(b);
	assert_int_equal(amtp_buf_put_cstring(b, "<r>"), 0);
	assert_int_equal(amtp_buf_put_zero(b, AMTP_MAX_SOAP_SIZE), 0);
	assert_int_equal(amtp_xml_parse(amtp_buf_ptr(b), amtp_buf_len(b),
	    2 * AMTP_MAX_SOAP_SIZE, &doc, err, sizeof(err)), AMTP_E_TOOBIG);
	assert_string_equal(err, "document too large");
	assert_null(doc);
	assert_int_equal(amtp_xml_parse("<r/>", 4, 3, &doc, NULL, 0),
	    AMTP_E_TOOBIG);
	assert_int_equal(amtp_xml_parse("<r/>", 4, 4, &doc, NULL, 0), 0);
	xmlFreeDoc(doc);
	amtp_buf_free(b);
}

static void
test_malformed(void **state)
{
	char err[256];
	xmlDocPtr doc = (xmlDocPtr)1;

	(void)state;
	assert_int_equal(parse_mem("<a><b></a>", 10, err, sizeof(err)),
	    AMTP_E_XML);
	assert_non_null(strstr(err, "line 1:"));
	assert_int_equal(parse_str("<a>"), AMTP_E_XML);
	assert_int_equal(parse_str("<a>&foo;</a>"), AMTP_E_XML);
	assert_int_equal(parse_str("<a x='1' x='2'/>"), AMTP_E_XML);
	assert_int_equal(parse_str("<a/><b/>"), AMTP_E_XML);
	assert_int_equal(parse_str("<a>\xff\xfe</a>"), AMTP_E_XML);
	assert_int_equal(parse_str("<?xml-stylesheet href='x'?><a/>"),
	    AMTP_E_XML);
	assert_int_equal(parse_str("<a><?pi x?></a>"), AMTP_E_XML);
	assert_int_equal(parse_mem("", 0, err, sizeof(err)), AMTP_E_XML);
	assert_string_equal(err, "empty document");
	assert_int_equal(amtp_xml_parse(NULL, 3, 100, &doc, NULL, 0),
	    AMTP_E_INVAL);
	assert_null(doc);
	assert_int_equal(amtp_xml_parse("<a/>", 4, 100, NULL, NULL, 0),
	    AMTP_E_INVAL);
	/* Predefined entities, character references, CDATA and comments are
	 * plain XML and fine. */
	assert_int_equal(parse_str("<a>&lt;&amp;&#65;<![CDATA[x<y]]><!-- c --></a>"),
	    0);
}

static void
test_match(void **state)
{
	xmlDocPtr doc;
	xmlNode *root, *c;
	const char *s = "<p:r xmlns:p='urn:one' xmlns:q='urn:two'>"
	    "<q:a>t</q:a> <p:b/> <c> </c></p:r>";

	(void)state;
	assert_int_equal(amtp_xml_parse(s, strlen(s), 4096, &doc, NULL, 0), 0);
	root = xmlDocGetRootElement(doc);
	assert_true(amtp_xml_is(root, "urn:one", "r"));
	assert_false(amtp_xml_is(root, "urn:two", "r"));
	assert_false(amtp_xml_is(root, NULL, "r"));
	assert_true(amtp_xml_is(root, "urn:one", NULL));
	c = amtp_xml_child(root);
	assert_true(amtp_xml_is(c, "urn:two", "a"));
	assert_true(amtp_xml_has_text(c));
	c = amtp_xml_next(c);
	assert_true(amtp_xml_is(c, "urn:one", "b"));
	c = amtp_xml_next(c);
	assert_true(amtp_xml_is(c, NULL, "c"));
	assert_false(amtp_xml_has_text(c));	/* white space only */
	assert_null(amtp_xml_next(c));
	assert_non_null(amtp_xml_find(root, "urn:one", "b"));
	assert_null(amtp_xml_find(root, "urn:two", "b"));
	xmlFreeDoc(doc);
}

static void
test_escape(void **state)
{
	struct amtp_buf *b = amtp_buf_new(256);
	struct amtp_buf *tiny = amtp_buf_new(4);

	(void)state;
	assert_int_equal(amtp_xml_escape(b, "a<b>&\"c\"\r\n\t", 0), 0);
	assert_string_equal(amtp_buf_str(b), "a&lt;b&gt;&amp;\"c\"&#13;\n\t");
	amtp_buf_reset(b);
	assert_int_equal(amtp_xml_escape(b, "a<b>&\"c\"\r\n\t", 1), 0);
	assert_string_equal(amtp_buf_str(b),
	    "a&lt;b&gt;&amp;&quot;c&quot;&#13;&#10;&#9;");
	amtp_buf_reset(b);
	assert_int_equal(amtp_xml_escape(b, "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80",
	    0), 0);
	assert_string_equal(amtp_buf_str(b), "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80");
	amtp_buf_reset(b);
	/* Refused: controls, broken or overlong UTF-8, surrogates, U+FFFE. */
	assert_int_equal(amtp_xml_escape(b, "a\x01", 0), AMTP_E_INVAL);
	assert_int_equal(amtp_xml_escape(b, "a\x7f\x1b", 0), AMTP_E_INVAL);
	assert_int_equal(amtp_xml_escape(b, "\xc3", 0), AMTP_E_INVAL);
	assert_int_equal(amtp_xml_escape(b, "\xc0\xaf", 0), AMTP_E_INVAL);
	assert_int_equal(amtp_xml_escape(b, "\xe0\x80\xaf", 0), AMTP_E_INVAL);
	assert_int_equal(amtp_xml_escape(b, "\xed\xa0\x80", 0), AMTP_E_INVAL);
	assert_int_equal(amtp_xml_escape(b, "\xef\xbf\xbe", 0), AMTP_E_INVAL);
	assert_int_equal(amtp_xml_escape(b, "\xf4\x90\x80\x80", 0), AMTP_E_INVAL);
	assert_int_equal(amtp_buf_len(b), 0);
	assert_int_equal(amtp_xml_escape(b, NULL, 0), AMTP_E_INVAL);
	assert_int_equal(amtp_xml_escape(tiny, "&&&&", 0), AMTP_E_TOOBIG);
	amtp_buf_free(b);
	amtp_buf_free(tiny);
}

/* Untrusted bytes must not make libxml2 write to stderr (a peer could fill
 * the simulator's log): encoding errors go to a silenced handler. */
static void
test_quiet(void **state)
{
	static const char *bad[] = {
		"<?xml version=\"1.0\" encoding=\"UTF-16\"?>\xff\xff\xff\xff<a/>",
		"<?xml version=\"1.0\" encoding=\"x-unknown\"?><a/>",
		"<?xml version=\"1.0\" encoding=\"ISO-2022-JP\"?><a>\x1b$B\xff</a>",
		"<a>\xff\xfe</a>",
	};
	char path[] = "/tmp/amtp_xml_quiet_XXXXXX";
	int fd, saved;
	size_t i;
	off_t end;

	(void)state;
	assert_true((fd = mkstemp(path)) >= 0);
	assert_true((saved = dup(2)) >= 0);
	assert_true(dup2(fd, 2) == 2);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_not_equal(parse_str(bad[i]), 0);
	end = lseek(fd, 0, SEEK_END);
	assert_true(dup2(saved, 2) == 2);
	close(saved);
	close(fd);
	unlink(path);
	assert_int_equal(end, 0);
}

/* libxml2's free, watched: counts blocks freed while `watching` that still
 * hold the marker. */
#define MARKER	"Zq7Secret"
static int watching, unwiped;

static void
watch_free(void *p)
{
	if (p != NULL && watching &&
	    memmem(p, malloc_usable_size(p), MARKER, strlen(MARKER)) != NULL)
		unwiped++;
	free(p);
}

/* A document's text, CDATA and attribute values are wiped before libxml2
 * frees them (review 2026-11-28: SOAP bodies carry passwords). */
static void
test_free_wipe(void **state)
{
	static const char *docs[] = {
		"<a><b>" MARKER "-text</b><c x=\"" MARKER "-attr\"/></a>",
		"<a><![CDATA[" MARKER "-cdata]]></a>",
		"<a>" MARKER "&amp;more<b/>tail " MARKER "</a>",
	};
	xmlDocPtr doc;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(docs) / sizeof(docs[0]); i++) {
		assert_int_equal(amtp_xml_parse(docs[i], strlen(docs[i]),
		    AMTP_MAX_SOAP_SIZE, &doc, NULL, 0), 0);
		/* Plain xmlFreeDoc would leave the marker: check that the
		 * watch sees it, on a copy. */
		if (i == 0) {
			xmlDocPtr copy = xmlCopyDoc(doc, 1);

			assert_non_null(copy);
			unwiped = 0;
			watching = 1;
			xmlFreeDoc(copy);
			watching = 0;
			assert_true(unwiped > 0);
		}
		unwiped = 0;
		watching = 1;
		amtp_xml_free_wipe(doc);
		watching = 0;
		assert_int_equal(unwiped, 0);
	}
	amtp_xml_free_wipe(NULL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_free_wipe),
		cmocka_unit_test(test_hostile_fixtures),
		cmocka_unit_test(test_depth_limit),
		cmocka_unit_test(test_size_limits),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_match),
		cmocka_unit_test(test_escape),
		cmocka_unit_test(test_quiet),
	};

	/* Before libxml2 allocates anything. */
	if (xmlMemSetup(watch_free, malloc, realloc, strdup) != 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
