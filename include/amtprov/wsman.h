/*
 * amtprov - wsman.h: WS-Management SOAP envelopes as Intel AMT speaks them
 * (spec/amt-facts.md 5.3, spec/golden/, spec/requests/).
 *
 * Parsing (both sides): amtp_wsman_request_parse() for the simulator,
 * amtp_wsman_response_parse() for the service point.  Both go through the
 * hardened loader of xml.h and match namespace URI + local name, never
 * prefixes.  The result is a tree of plain structs whose strings all live in
 * one arena owned by the parsed object and freed with it.
 *
 * Building: amtp_wsman_request_build() writes requests in the layout of
 * Intel's RPS (spec/requests/); amtp_wsman_response_build() and
 * amtp_wsman_fault_build() write replies shaped like a real device's
 * (spec/golden/).  Builders take the same structs the parsers produce, so a
 * property list is an ordered list of (name, value): an array is the same
 * name repeated, a reference is an EPR, an embedded instance is an object.
 */
#ifndef AMTPROV_WSMAN_H
#define AMTPROV_WSMAN_H

#include <stddef.h>

struct amtp_buf;
struct amtp_wsman_arena;

#define AMTP_WSMAN_NS_SOAP	"http://www.w3.org/2003/05/soap-envelope"
#define AMTP_WSMAN_NS_ADDR	"http://schemas.xmlsoap.org/ws/2004/08/addressing"
#define AMTP_WSMAN_NS_WSMAN	"http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd"
#define AMTP_WSMAN_NS_ENUM	"http://schemas.xmlsoap.org/ws/2004/09/enumeration"
#define AMTP_WSMAN_NS_TRANSFER	"http://schemas.xmlsoap.org/ws/2004/09/transfer"
#define AMTP_WSMAN_NS_XSI	"http://www.w3.org/2001/XMLSchema-instance"
#define AMTP_WSMAN_ANONYMOUS	AMTP_WSMAN_NS_ADDR "/role/anonymous"
#define AMTP_WSMAN_URI_AMT	"http://intel.com/wbem/wscim/1/amt-schema/1/"
#define AMTP_WSMAN_URI_CIM	"http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/"
#define AMTP_WSMAN_URI_IPS	"http://intel.com/wbem/wscim/1/ips-schema/1/"

enum amtp_wsman_op {
	AMTP_WSMAN_OP_UNKNOWN = 0,
	AMTP_WSMAN_OP_GET,
	AMTP_WSMAN_OP_PUT,
	AMTP_WSMAN_OP_CREATE,
	AMTP_WSMAN_OP_DELETE,
	AMTP_WSMAN_OP_ENUMERATE,
	AMTP_WSMAN_OP_PULL,
	AMTP_WSMAN_OP_RELEASE,
	AMTP_WSMAN_OP_INVOKE,	/* Action = <ResourceURI>/<Method> */
	AMTP_WSMAN_OP__MAX
};

struct amtp_wsman_epr;

/* <w:Selector Name="name">value</w:Selector>; value is NULL when the
 * selector holds an EndpointReference instead (epr). */
struct amtp_wsman_selector {
	const char			*name;
	const char			*value;
	const struct amtp_wsman_epr	*epr;
};

/* An endpoint reference: Address plus ReferenceParameters (ResourceURI and
 * SelectorSet).  Builders write address NULL as "/wsman" in requests and as
 * the anonymous role in responses. */
struct amtp_wsman_epr {
	const char				*address;
	const char				*resource_uri;
	const struct amtp_wsman_selector	*selectors;
	size_t					 nselectors;
};

struct amtp_wsman_obj;

/*
 * One property: exactly one of text, epr, obj is set (text "" for an empty
 * element).  ns is the element's namespace URI (parsed); builders treat NULL
 * as the parent's namespace.  nil: xsi:nil="true".
 */
struct amtp_wsman_prop {
	const char			*ns;
	const char			*name;
	const char			*text;
	const struct amtp_wsman_epr	*epr;
	const struct amtp_wsman_obj	*obj;
	int				 nil;
};

/* An instance, a method's _INPUT/_OUTPUT, or any element holding
 * properties.  Builders: ns NULL means the resource URI. */
struct amtp_wsman_obj {
	const char			*ns;
	const char			*name;
	const struct amtp_wsman_prop	*props;
	size_t				 nprops;
};

/* The idx-th property called name (0 = first), or NULL. */
const struct amtp_wsman_prop *amtp_wsman_obj_prop(
    const struct amtp_wsman_obj *o, const char *name, size_t idx);
/* How many properties are called name (an array's length). */
size_t amtp_wsman_obj_count(const struct amtp_wsman_obj *o, const char *name);
/* Text of the first property called name, or NULL (absent, or not text). */
const char *amtp_wsman_obj_text(const struct amtp_wsman_obj *o,
    const char *name);
/* Value of the selector called name, or NULL. */
const char *amtp_wsman_epr_selector(const struct amtp_wsman_epr *e,
    const char *name);

/* A parsed request (simulator side).  Absent strings are NULL. */
struct amtp_wsman_request {
	enum amtp_wsman_op			 op;
	const char				*action;
	const char				*to;
	const char				*resource_uri;
	const char				*message_id;
	const char				*reply_to;	/* ReplyTo/Address */
	const char				*operation_timeout;
	const char				*method;	/* INVOKE */
	const struct amtp_wsman_selector	*selectors;
	size_t					 nselectors;
	/* The first element of Body (NULL for an empty Body): the instance
	 * of Put/Create, the _INPUT of Invoke, Enumerate/Pull themselves. */
	const struct amtp_wsman_obj		*body;
	const char				*enum_context;	/* Pull, Release */
	long long				 max_elements;	/* Pull; 0: absent */
	long long				 max_characters;
	struct amtp_wsman_arena			*arena;		/* private */
};

/*
 * Parses a request envelope of len bytes (at most AMTP_MAX_SOAP_SIZE; a
 * caller with a tighter pre-authentication cap checks it first).  Required:
 * Envelope/Header/Body in the SOAP 1.2 namespace, Action, ResourceURI
 * (except for Pull/Release), MessageID.  err (may be NULL) gets a reason.
 * 0; AMTP_E_TOOBIG, AMTP_E_DEPTH, AMTP_E_XML (see amtp_xml_parse);
 * AMTP_E_PROTO (well-formed but not a WS-Management request: missing
 * header, too many selectors or properties, bad number); AMTP_E_NOMEM.
 */
int amtp_wsman_request_parse(const void *xml, size_t len,
    struct amtp_wsman_request **out, char *err, size_t errlen);
void amtp_wsman_request_free(struct amtp_wsman_request *req);

struct amtp_wsman_fault {
	const char	*code;		/* local part: "Sender", "Receiver" */
	const char	*subcode;	/* local part: "DestinationUnreachable" */
	const char	*reason;	/* Reason/Text */
	const char	*detail;	/* text inside Detail, or NULL */
};

/* A parsed response (service point side).  Absent strings are NULL. */
struct amtp_wsman_response {
	const char			*action;
	const char			*relates_to;
	const char			*message_id;
	const char			*resource_uri;
	const struct amtp_wsman_obj	*body;		/* first Body element */
	int				 has_return_value;
	long long			 return_value;	/* <Method>_OUTPUT */
	const char			*enum_context;	/* Enumerate/Pull */
	const struct amtp_wsman_obj	*items;		/* Pull: the instances */
	size_t				 nitems;
	int				 end_of_sequence;
	const struct amtp_wsman_epr	*created;	/* ResourceCreated */
	int				 is_fault;
	struct amtp_wsman_fault		 fault;
	struct amtp_wsman_arena		*arena;		/* private */
};

/*
 * Parses a response envelope.  A SOAP Fault returns AMTP_E_SOAP_FAULT *and*
 * sets *out (is_fault = 1, fault filled) so that the caller can report it;
 * amtp_wsman_fault_describe() formats it.  Other results as
 * amtp_wsman_request_parse() (*out NULL on those errors).
 */
int amtp_wsman_response_parse(const void *xml, size_t len,
    struct amtp_wsman_response **out, char *err, size_t errlen);
void amtp_wsman_response_free(struct amtp_wsman_response *resp);

/* "Sender/DestinationUnreachable: No route can be ..." into dst. */
void amtp_wsman_fault_describe(const struct amtp_wsman_response *resp,
    char *dst, size_t dstlen);

/*
 * The name of an AMT ReturnValue / PT_STATUS number (spec 1.3), e.g. 2057 ->
 * "DATA_MISSING", or "UNKNOWN".  CIM methods such as RequestStateChange use
 * their own small numbers; callers name those themselves.
 */
const char *amtp_wsman_status_name(long long code);

/*
 * Checks a method response: 0 when ReturnValue is 0; AMTP_E_AMT_STATUS with
 * msg "<cls>.<method>: ReturnValue 2057 (DATA_MISSING)" otherwise;
 * AMTP_E_PROTO when the response has no ReturnValue.  msg may be NULL.
 */
int amtp_wsman_check_return(const struct amtp_wsman_response *resp,
    const char *cls, const char *method, char *msg, size_t msglen);

/* What a request builder needs. */
struct amtp_wsman_req_build {
	enum amtp_wsman_op			 op;
	const char				*resource_uri;
	const char				*method;	/* INVOKE */
	const char				*message_id;	/* required */
	const char				*to;		/* NULL: "/wsman" */
	const char				*timeout;	/* NULL: "PT60S" */
	const struct amtp_wsman_selector	*selectors;
	size_t					 nselectors;
	/* PUT/CREATE: the instance (name NULL: the class, the last segment of
	 * the resource URI); INVOKE: the parameters (name NULL:
	 * <method>_INPUT).  ns NULL: the resource URI.  May be NULL for an
	 * INVOKE without parameters. */
	const struct amtp_wsman_obj		*body;
	const char				*enum_context;	/* PULL, RELEASE */
	unsigned				 max_elements;	/* PULL; 0: 999 */
	unsigned				 max_characters; /* 0: 99999 */
};

/*
 * Appends a request envelope, byte for byte in the layout of spec/requests/
 * (default namespace SOAP, a: addressing, w: wsman, h: the class; embedded
 * objects of another namespace get q:, r:, ...).  Text is escaped; a string
 * that is not well-formed UTF-8 or holds an XML-forbidden character gives
 * AMTP_E_INVAL.  0, AMTP_E_INVAL, AMTP_E_TOOBIG (out is then unchanged),
 * AMTP_E_NOMEM.
 */
int amtp_wsman_request_build(const struct amtp_wsman_req_build *rb,
    struct amtp_buf *out);

/* What a response builder needs. */
struct amtp_wsman_resp_build {
	enum amtp_wsman_op		 op;		/* what it answers */
	const char			*resource_uri;	/* echoed */
	const char			*method;	/* INVOKE */
	const char			*relates_to;	/* request MessageID */
	const char			*message_id;	/* required */
	/* GET/PUT: the instance; INVOKE: <method>_OUTPUT's properties
	 * (ReturnValue among them; name NULL: <method>_OUTPUT). */
	const struct amtp_wsman_obj	*body;
	const struct amtp_wsman_epr	*created;	/* CREATE */
	const char			*enum_context;	/* ENUMERATE; PULL */
	const struct amtp_wsman_obj	*items;		/* PULL */
	size_t				 nitems;
	int				 end_of_sequence; /* PULL */
};

/*
 * Appends a response envelope shaped like AMT's (spec/golden/): one line,
 * a: SOAP, b: addressing, c: wsman, d: trust, e: wsse, f: cimbinding, g: the
 * class (Get/Put/Invoke), enumeration (Enumerate/Pull, class h:) or
 * transfer (Create), all declared on the Envelope; header To, RelatesTo,
 * Action (mustUnderstand), MessageID, ResourceURI.  Same errors as the
 * request builder.
 */
int amtp_wsman_response_build(const struct amtp_wsman_resp_build *rb,
    struct amtp_buf *out);

/*
 * Appends a SOAP fault as AMT sends one: Action (NULL: the addressing
 * fault action), Code/Value "a:<code>" ("Sender" or "Receiver"),
 * Subcode/Value "<prefix>:<subcode>" with the prefix bound to subcode_ns,
 * Reason/Text xml:lang="en-US", Detail (detail may be NULL).
 */
int amtp_wsman_fault_build(const char *relates_to, const char *message_id,
    const char *action, const char *code, const char *subcode_ns,
    const char *subcode, const char *reason, const char *detail,
    struct amtp_buf *out);

#endif
