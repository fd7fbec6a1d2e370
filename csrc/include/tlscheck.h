/*
 * tlscheck.h - the public interface of pytlscheck's C core.
 *
 * The core never includes Python.h: a C program (csrc/tests/) drives it the
 * same way the CPython binding (csrc/binding/) does.
 *
 * Conventions (see STYLE.md, "Habits"):
 *  - A function that can fail returns tc_status (TC_OK or TC_FAIL), marked
 *    TC_MUST_USE, and on failure fills the caller's tc_error.  "Could not
 *    decide" is TC_FAIL; "no" is a result in an out-struct.
 *  - *_new / *_free pairs; every *_free accepts NULL.  Pointers documented as
 *    "borrowed" are owned by someone else and stay valid as long as it does.
 *  - Untrusted bytes travel as (pointer, length).
 *  - Times are Unix seconds, UTC (int64_t).  Durations in the report are
 *    milliseconds (double, -1 when not measured).
 */
#ifndef TLSCHECK_H
#define TLSCHECK_H

#include <stddef.h>
#include <stdint.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__)
#define TC_MUST_USE __attribute__((warn_unused_result))
#define TC_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define TC_MUST_USE
#define TC_PRINTF(a, b)
#endif

/* ------------------------------------------------------------------ */
/* Status and errors                                                   */
/* ------------------------------------------------------------------ */

typedef enum tc_status { TC_OK = 0, TC_FAIL = -1 } tc_status;

/* Why a call could not produce a result.  The binding maps these to Python
 * exceptions: INVALID -> ValueError, IO -> OSError (with sys_errno),
 * NOMEM -> MemoryError, INTERNAL -> RuntimeError. */
typedef enum tc_errcode {
    TC_E_NONE = 0,
    TC_E_INVALID,   /* bad input from the caller: garbage PEM, bad hostname */
    TC_E_IO,        /* a file could not be read; sys_errno says why */
    TC_E_NOMEM,
    TC_E_INTERNAL   /* an OpenSSL call failed unexpectedly */
} tc_errcode;

typedef struct tc_error {
    tc_errcode code;
    int sys_errno;
    char msg[512];  /* a whole sentence that names the input */
} tc_error;

void tc_error_clear(tc_error *err);
/* Sets code and formats msg.  Returns TC_FAIL so callers can
 * `return tc_error_set(err, ...)`.  err may be NULL. */
tc_status tc_error_set(tc_error *err, tc_errcode code, const char *fmt, ...)
    TC_PRINTF(3, 4);

/* ------------------------------------------------------------------ */
/* Problem kinds: generated from csrc/include/tc_kinds.h (the one table)     */
/* ------------------------------------------------------------------ */

typedef enum tc_severity { TC_SEV_ERROR = 0, TC_SEV_WARNING = 1 } tc_severity;

typedef enum tc_kind {
#define TC_KIND(id, name, sev, exc, cat, breaks, cause, msg, fix, see_file, see_live) TC_KIND_##id,
#include "tc_kinds.h"
#undef TC_KIND
    TC_KIND__COUNT
} tc_kind;

typedef enum tc_category {
    TC_CAT_CERTIFICATE = 0,    /* CertificateProblem */
    TC_CAT_CONNECTION = 1,     /* ConnectionProblem */
    TC_CAT_HANDSHAKE = 2       /* HandshakeProblem */
} tc_category;

typedef struct tc_kind_info {
    tc_kind kind;
    const char *name;          /* stable string, e.g. "expired" */
    tc_severity severity;
    const char *exception;     /* Python exception class name */
    tc_category category;      /* the exception's family */
    int breaks_path;           /* the path does not hold: no verified chain */
    const char *cause;         /* the typical cause, for docs (plain text) */
    const char *message;       /* template, see tc_render() */
    const char *fix;           /* template */
    const char *see_file;      /* openssl command template, offline */
    const char *see_live;      /* openssl command template, live endpoint */
} tc_kind_info;

/* The table, in "most fundamental first" order.  Never NULL for a valid
 * kind; NULL when kind is out of range. */
const tc_kind_info *tc_kind_get(tc_kind kind);
/* Lookup by name; returns TC_KIND__COUNT when unknown. */
tc_kind tc_kind_by_name(const char *name);
/* The kind OpenSSL's verify code `code` (X509_V_ERR_*, as a TLS client
 * such as Python's ssl module reports it) is classified as by the one table
 * in classify.c; a code OpenSSL may add later is chain_invalid.  When
 * no_trusted_path is not NULL it is set to 1 for the codes that only say
 * "no trusted path" (2, 18, 19, 20, 21, 27): their kind depends on the
 * shape of the path, not on the code, so the kind returned is only the
 * usual one.  TC_KIND__COUNT for code <= 0 (X509_V_OK: no error). */
tc_kind tc_kind_for_verify_code(int code, int *no_trusted_path);

/* ------------------------------------------------------------------ */
/* Certificates (cert.c)                                               */
/* ------------------------------------------------------------------ */

/* Parse a PEM bundle (one or more CERTIFICATE / TRUSTED CERTIFICATE
 * blocks, other PEM blocks such as keys are skipped) or a single DER
 * certificate.  `what` names the input in error messages (a path, or
 * "the PEM data").  Zero certificates, garbage, truncated PEM or trailing
 * DER bytes are TC_E_INVALID.  On success *out is a new stack the caller
 * frees with sk_X509_pop_free(.., X509_free). */
TC_MUST_USE tc_status tc_certs_parse(const unsigned char *data, size_t len,
                                     const char *what, STACK_OF(X509) **out,
                                     tc_error *err);

/* Read a file and parse it as above; a missing file is TC_E_IO naming
 * the path. */
TC_MUST_USE tc_status tc_certs_load_file(const char *path,
                                         STACK_OF(X509) **out, tc_error *err);

/* Reads a whole file into *buf (free() it): at most 16 MiB, and a FIFO,
 * a device or a directory answers at once instead of blocking or reading
 * forever.  The one reader of certificate, chain and CRL files. */
TC_MUST_USE tc_status tc_file_read(const char *path, unsigned char **buf,
                                   size_t *len, tc_error *err);

/* Parse CRLs (PEM bundle or single DER). Same rules as tc_certs_parse. */
TC_MUST_USE tc_status tc_crls_parse(const unsigned char *data, size_t len,
                                    const char *what,
                                    STACK_OF(X509_CRL) **out, tc_error *err);
/* What a caller gives as CRLs (crls=): CRLs as tc_crls_parse reads them,
 * and, in PEM, the certificates of CRL issuers that are neither in the
 * chain nor the trust store (a separate CRL-signing certificate, the
 * certificate of a CA's new key after a rollover, the issuer of an
 * indirect CRL).  A PEM file of certificates only is accepted: *crls is
 * then empty.  *certs is NULL when there is no certificate. */
TC_MUST_USE tc_status tc_crl_input_parse(const unsigned char *data, size_t len,
                                         const char *what, STACK_OF(X509_CRL) **crls,
                                         STACK_OF(X509) **certs, tc_error *err);

typedef struct tc_strlist {
    char **items;   /* owned, each NUL-terminated (escaped, see below) */
    size_t count;
} tc_strlist;

typedef enum tc_key_type {
    TC_KEY_UNKNOWN = 0, TC_KEY_RSA, TC_KEY_EC, TC_KEY_ED25519, TC_KEY_ED448,
    TC_KEY_DSA, TC_KEY_RSA_PSS
} tc_key_type;

/* Every field extracted from one certificate.  All strings are owned by
 * the struct, UTF-8, and safe to print: control characters and NUL bytes
 * found in the certificate are escaped as \xNN (the *_has_nul flags say
 * when a NUL was seen, which makes a name malformed). */
typedef struct tc_cert_info {
    char *subject;              /* RFC 4514, e.g. "CN=api.example.com,O=Ex" */
    char *issuer;               /* RFC 4514 */
    char *common_name;          /* last CN of the subject, or NULL */
    tc_strlist dns_names;       /* SAN dNSName entries, in order */
    tc_strlist ip_addresses;    /* SAN iPAddress entries as text ("10.0.0.1", "::1") */
    tc_strlist email_addresses; /* SAN rfc822Name entries */
    char *serial_hex;           /* lowercase hex, no separators, e.g. "0a1b" */
    int64_t not_before;         /* Unix seconds UTC */
    int64_t not_after;
    unsigned char sha256[32];   /* fingerprint of the DER */
    tc_key_type key_type;
    const char *key_type_name;  /* static: "RSA", "EC", "Ed25519", ... */
    int key_bits;               /* RSA modulus bits, EC curve bits, 255 for Ed25519 */
    char *key_curve;            /* EC curve short name ("prime256v1"), else NULL */
    char *signature_algorithm;  /* e.g. "sha256WithRSAEncryption", "ecdsa-with-SHA256" */
    int version;                /* 1, 2 or 3 */
    int has_basic_constraints;
    int is_ca;                  /* basicConstraints cA */
    int path_length;            /* pathLenConstraint, -1 when absent */
    tc_strlist key_usage;       /* names: "digitalSignature", "keyCertSign", ... */
    tc_strlist extended_key_usage; /* short names "serverAuth", or dotted OIDs */
    tc_strlist ca_issuers;      /* AIA caIssuers URLs */
    tc_strlist ocsp_urls;       /* AIA OCSP URLs */
    int self_signed;            /* subject == issuer and the signature verifies with its own key */
    int self_issued;            /* subject == issuer */
    int names_have_nul;         /* a NUL byte inside subject/SAN: malformed */
    unsigned char *der;         /* owned copy of the DER encoding */
    size_t der_len;
    /* Added by cert.c's owner: NULL for a well-formed certificate, else an
     * owned sentence fragment naming what is malformed ("its notAfter time
     * is not a valid UTCTime or GeneralizedTime; its subjectAltName
     * extension appears more than once").  tc_cert_info_extract still
     * succeeds then: unreadable fields stay empty (times 0), so a hostile
     * certificate can be shown and reported rather than dropped. */
    char *malformed;
} tc_cert_info;

/* Fill *out (zeroed first) from x.  On TC_FAIL *out holds nothing to free. */
TC_MUST_USE tc_status tc_cert_info_extract(X509 *x, tc_cert_info *out,
                                           tc_error *err);
void tc_cert_info_clear(tc_cert_info *info);   /* frees members, zeroes */

/* "CN=api.example.com" style short label for messages: the CN when there is
 * one, else the full subject.  Returns a pointer into info (borrowed). */
const char *tc_cert_label(const tc_cert_info *info);

/* ------------------------------------------------------------------ */
/* Hostname matching (hostname.c): RFC 6125 section 6.4 + CA/B Forum   */
/* ------------------------------------------------------------------ */

typedef struct tc_host_match {
    int matched;                 /* 1 match, 0 no match */
    char matched_name[256];      /* the SAN entry that matched ("" if none) */
    char reason[768];            /* one sentence, always filled: why it matched or not */
} tc_host_match;

/* Pure matcher: does DNS pattern (a SAN dNSName, maybe a wildcard) cover
 * host?  Both as (pointer, length), host already normalised (ASCII, no
 * trailing dot, lowercase not required).  Returns 1 or 0; when why is not
 * NULL and the answer is 0, writes a reason fragment that names the rule
 * ("the wildcard *.example.com covers one label; api.eu.example.com has
 * two"). */
int tc_host_pattern_match(const char *pattern, size_t plen,
                          const char *host, size_t hlen,
                          char *why, size_t whylen);

/* Public Suffix List (psl.c, compiled in from the shipped list): 1 when
 * the DNS name (ASCII, A-labels, any case, no trailing dot) is itself a
 * public suffix by the rules of the list's ICANN section (co.uk, com,
 * any single label through the list's implicit "*" rule), 0 otherwise
 * (example.co.uk; s3.amazonaws.com, which only the private section
 * lists; anything that is no DNS name). */
int tc_public_suffix(const char *name, size_t n);

/* The compiled-in list's VERSION line ("2026-10-22_08-36-41_UTC"). */
const char *tc_psl_version(void);

/* Validates and normalises a hostname given by the caller: ASCII only
 * (the Python layer applies IDNA first), one trailing dot dropped,
 * lowercased, LDH labels of 1..63 bytes, total <= 253, or an IPv4 / IPv6
 * literal (IPv6 with or without brackets).  *is_ip is set, and for IPs
 * ip[16]/ *ip_len receive the address bytes (4 or 16).  TC_E_INVALID with
 * a sentence naming the input otherwise. */
TC_MUST_USE tc_status tc_hostname_normalize(const char *in, size_t len,
                                            char *out, size_t outlen,
                                            int *is_ip, unsigned char ip[16],
                                            size_t *ip_len, tc_error *err);

/* Policy, one level up from the matcher: DNS names match only dNSName
 * SANs, IP literals only iPAddress SANs, the subject CN is never used (a
 * CN-only certificate gets a reason saying so).  TC_FAIL only when the
 * hostname itself is invalid (see tc_hostname_normalize). */
TC_MUST_USE tc_status tc_hostname_check(X509 *cert, const char *hostname,
                                        size_t len, tc_host_match *out,
                                        tc_error *err);

/* ------------------------------------------------------------------ */
/* Trust stores (trust.c)                                              */
/* ------------------------------------------------------------------ */

/* An immutable, shareable set of anchors.  Thread-safe after creation;
 * reference counted so one store serves many checks. */
typedef struct tc_trust tc_trust;

/* OpenSSL's default paths, honouring SSL_CERT_FILE / SSL_CERT_DIR. */
TC_MUST_USE tc_status tc_trust_new_system(tc_trust **out, tc_error *err);
/* A PEM file (bundle) or a hashed/unhashed directory of PEM files.
 * A missing path is TC_E_IO; a file with no certificate TC_E_INVALID. */
TC_MUST_USE tc_status tc_trust_new_path(const char *path, tc_trust **out,
                                        tc_error *err);
/* Explicit anchors (up-referenced, the caller keeps its stack). */
TC_MUST_USE tc_status tc_trust_new_certs(STACK_OF(X509) *anchors,
                                         tc_trust **out, tc_error *err);
tc_trust *tc_trust_ref(tc_trust *t);     /* returns t with one more ref */
void tc_trust_free(tc_trust *t);         /* drops one ref; NULL ok */
/* Borrowed: the store to hand to X509_STORE_CTX_init. */
X509_STORE *tc_trust_store(const tc_trust *t);
/* 1 when a certificate with the same DER is an anchor of this store. */
int tc_trust_contains(const tc_trust *t, X509 *x);
/* Describes the store for messages: "the system trust store
 * (/usr/lib/ssl/certs)", "the anchors in root.pem", "3 given anchors". */
const char *tc_trust_describe(const tc_trust *t);

/* Mozilla's list of roots as a PEM bundle (certifi's cacert.pem): the
 * anchors of the file, named by `label` (the caller's name for it, e.g.
 * "certifi 2026.10.19"). */
TC_MUST_USE tc_status tc_trust_new_mozilla(const char *path, const char *label,
                                           tc_trust **out, tc_error *err);
/* For a system store, before it is shared: the Mozilla bundle to compare
 * with when a chain's root is missing (tc_trust_elsewhere). */
TC_MUST_USE tc_status tc_trust_set_compare(tc_trust *t, const char *mozilla_path,
                                           tc_error *err);
/* One store holding every part's anchors and lookups (system paths,
 * hashed directories), described and sourced as the parts in order. */
TC_MUST_USE tc_status tc_trust_new_union(tc_trust *const *parts, size_t n,
                                         tc_trust **out, tc_error *err);
/* Where the anchors come from, one stable string per part, its first
 * word the part's kind: "system (FILE, DIR)", "file (PATH)",
 * "directory (PATH/)", "certificates (N)", or the Mozilla bundle's
 * "LABEL (PATH)" (docs/api.md, "Trust stores"). */
size_t tc_trust_source_count(const tc_trust *t);
const char *tc_trust_source(const tc_trust *t, size_t i);

/* Whether the other named list trusts what this one lacks: for a store
 * that is the system store (plus files), Mozilla's list given with
 * tc_trust_set_compare; for a Mozilla store (plus files), the system
 * store.  issuer_of 0: x itself is an anchor there; 1: an anchor there
 * issued x (its name, and its key verifies x's signature).  That store is
 * loaded on the first question and kept. */
typedef enum {
    TC_ELSEWHERE_NONE = 0,
    TC_ELSEWHERE_MOZILLA,    /* in Mozilla's list, not in the system store */
    TC_ELSEWHERE_SYSTEM      /* in the system store, not in Mozilla's list */
} tc_elsewhere;
tc_elsewhere tc_trust_elsewhere(const tc_trust *t, X509 *x, int issuer_of);

/* ------------------------------------------------------------------ */
/* Reports (report.c): owns every string                               */
/* ------------------------------------------------------------------ */

typedef struct tc_problem {
    tc_kind kind;
    tc_severity severity;      /* copied from the table */
    int depth;                 /* index into report->path (0 = leaf), -1: not about one certificate */
    int openssl_code;          /* X509_V_ERR_*, or 0 */
    char *openssl_reason;      /* X509_verify_cert_error_string / SSL reason / alert name; owned, may be NULL */
    char *message;             /* rendered one-sentence explanation, owned */
    char *fix;                 /* rendered fix, owned */
    char *inspect_command;     /* rendered openssl command, owned */
} tc_problem;

typedef struct tc_timings {
    double dns_ms, connect_ms, handshake_ms, total_ms;   /* -1: not measured */
} tc_timings;

/* A stapled OCSP response, as read and judged (ocsp.c).  Every field is
 * about the leaf's entry in the response. */
typedef struct tc_ocsp {
    const char *status;        /* static "good", "revoked", "unknown"; NULL when the
                                  staple says nothing usable about the leaf (unreadable,
                                  an error answer, or about another certificate) */
    int verified;              /* signed by the leaf's issuer or a responder it
                                  authorised, for the leaf, and current */
    int64_t this_update, next_update, revoked_at;  /* Unix seconds, when has_* */
    int has_this_update, has_next_update, has_revoked_at;
    const char *reason;        /* static CRLReason name when revoked with one, else NULL */
    char *error;               /* owned: why verified is 0, a sentence fragment; NULL when verified */
} tc_ocsp;

/* The probe (survey.c, driven by live.c): what connections beyond the
 * health check learned about the endpoint.  Only on a check asked for it
 * (tc_check_params.probe); every field is measured, never guessed. */
#define TC_PROBE_VERSIONS 4        /* index 0..3: TLS 1.0, 1.1, 1.2, 1.3 */
#define TC_PROBE_MAX_CONNECTIONS 32 /* in all, the health check's included */
typedef struct tc_probe {
    double rtt_ms;                 /* the fastest TCP connect seen, -1 unknown */
    int handshake_round_trips;     /* of the health check's full handshake, 0 unknown */
    int hello_retry_request;       /* the server answered with a HelloRetryRequest */
    char *hrr_group;               /* the group it asked for then, or NULL; owned */
    int protocols[TC_PROBE_VERSIONS];   /* 1 accepted, 0 refused, -1 not tried */
    tc_strlist suites[TC_PROBE_VERSIONS];   /* accepted suites, in the order found */
    tc_strlist groups;             /* accepted key-exchange groups ("X25519", "P-256") */
    int http2;                     /* the server chose h2 when offered by ALPN */
    int connections;               /* connections in all, the health check's included */
    int complete;                  /* every planned connection ran (no budget cut, no deadline) */
    int dh_min_bits;               /* the smallest DHE group seen, 0 when none */
    /* Resumption: a full handshake closed cleanly (close_notify), then a
     * connection offering its session. */
    const char *resumption;        /* static "accepted" / "refused" / "unsupported", NULL: not asked */
    const char *resumption_mechanism;   /* static "ticket" / "session_id", or NULL */
    double resumed_handshake_ms;   /* -1 when not resumed */
    int resumed_round_trips;       /* -1 when not resumed */
    long ticket_lifetime_s;        /* the ticket's lifetime hint, -1 when none */
    /* 0-RTT: a fresh ticket (they may be single-use), then real early
     * bytes sent with it. */
    const char *early_data;        /* static "accepted" / "rejected" / "unsupported", NULL: not asked */
    long max_early_data;           /* bytes the ticket allows, -1 when no ticket said */
} tc_probe;

void tc_probe_free(tc_probe *p);

typedef struct tc_report {
    tc_problem *problems;      /* sorted: table order, then depth */
    size_t n_problems;
    size_t cap_problems;

    STACK_OF(X509) *chain;     /* as given / as served, leaf first; owned (may be empty, never NULL after tc_report_new) */
    STACK_OF(X509) *path;      /* the path OpenSSL built, leaf first, as far as it got (anchor included when reached); owned, NULL before tc_verify */
    STACK_OF(X509) *verified;  /* == a copy of path when it ends in a trust anchor and no error was found building it; NULL otherwise; owned */
    char *hostname;            /* the name verified (normalised), or NULL */
    size_t chain_bytes;        /* the chain's size in the TLS Certificate message
                                  (its body: each DER certificate with its framing),
                                  what client limits count; 0 before tc_verify */
    char *file_arg;            /* file_name shell-quoted for commands, or NULL; owned */
    int64_t evaluated_at;      /* the validation time (Unix seconds) that every day
                                  count of the report is measured from; 0 before tc_verify */

    /* Live checks (live.c); NULL / -1 / 0 for offline reports. */
    char *target;              /* "host:port" as given to connect */
    char *server_name;         /* SNI sent, or NULL (IP literal) */
    char *address;             /* the address that answered, "127.0.0.1" or "::1" */
    int port;
    char *protocol;            /* "TLSv1.3" */
    char *cipher;              /* "TLS_AES_256_GCM_SHA384" */
    char *group;               /* "X25519" */
    char *alpn;                /* "h2", "http/1.1", or NULL */
    int ocsp_stapled;
    tc_ocsp *ocsp;             /* the stapled response judged, or NULL: none stapled; owned */
    tc_probe *probe;           /* the probe's findings, or NULL: no probe asked; owned */
    int client_cert_requested;
    tc_strlist client_ca_names;   /* RFC 4514 names the server accepts */
    char *peer_banner;         /* first bytes of a non-TLS peer, escaped, or NULL */
    const char *starttls;      /* the STARTTLS protocol used ("smtp", static), or NULL:
                                  TLS from the first byte */
    tc_timings timings;
} tc_report;

TC_MUST_USE tc_status tc_report_new(tc_report **out, tc_error *err);
void tc_report_free(tc_report *r);

/* Values a problem's templates may use.  NULL fields render as "". */
typedef struct tc_render_vars {
    const char *cert;      /* "the server certificate (CN=api.example.com)" */
    const char *subject;
    const char *issuer;
    const char *not_before;  /* "2025-01-01 00:00 UTC" */
    const char *not_after;
    const char *days;        /* "12" */
    const char *hostname;
    const char *detail;      /* kind-specific sentence fragment */
    const char *target;      /* "host:port" */
    const char *sni;         /* "-servername NAME" or "" */
    const char *trust;       /* tc_trust_describe() */
    const char *leaf_file;   /* the leaf's file in commands: "leaf.pem" or the caller's file */
    const char *chain_file;  /* the intermediates' file: "chain.pem" or the caller's file */
    const char *remedy;      /* a fix this finding knows to come first, or NULL:
                              * {remedy} opens a fix template */
    const char *starttls;    /* "-starttls smtp" (s_client's option) or "" */
} tc_render_vars;

/* Renders a template: each {name} of tc_render_vars is replaced; "{{" is a
 * literal brace.  Returns a malloc'd string, NULL on allocation failure. */
char *tc_render(const char *tmpl, const tc_render_vars *vars);

/* Appends a problem of `kind`, rendering message / fix / inspect command
 * from the table with vars (inspect uses see_live when report->target is
 * set, see_file otherwise), once: what the report knows of its context
 * fills the variables vars leaves NULL ({target}, {sni} from server_name,
 * {leaf_file} and {chain_file} from file_arg).  openssl_reason may be NULL.  Problems equal
 * in (kind, depth) are merged: the first wins. */
TC_MUST_USE tc_status tc_report_add(tc_report *r, tc_kind kind, int depth,
                                    int openssl_code,
                                    const char *openssl_reason,
                                    const tc_render_vars *vars,
                                    tc_error *err);
/* Stable sort by (table order, depth). */
void tc_report_sort(tc_report *r);
/* 1 when no problem of severity error. */
int tc_report_ok(const tc_report *r);

/* ------------------------------------------------------------------ */
/* Chain verification (verify.c, classify.c)                           */
/* ------------------------------------------------------------------ */

typedef enum tc_purpose { TC_PURPOSE_SERVER = 0, TC_PURPOSE_CLIENT = 1 } tc_purpose;

typedef struct tc_verify_params {
    const char *hostname;      /* DNS name or IP literal, or NULL: no name check */
    int64_t at;                /* validation time, Unix seconds */
    int has_at;                /* 0: now */
    tc_purpose purpose;
    int max_depth;             /* max intermediates allowed; -1: OpenSSL default */
    int min_days;              /* expires_soon when fewer days remain (default 30); <0 disables */
    double min_remaining;      /* expires_soon when less than this fraction of the validity period remains; <=0 disables */
    STACK_OF(X509_CRL) *crls;  /* borrowed, NULL: no revocation check */
    STACK_OF(X509) *crl_certs; /* borrowed, NULL: none.  Certificates of CRL issuers
                                  given with the CRLs: used only to find and check the
                                  signer of a CRL, never to build the path */
    const char *const *required_ekus; /* borrowed: short names or dotted OIDs the leaf must carry; NULL/0: the purpose's own */
    size_t n_required_ekus;
    const char *file_name;     /* the chain file the caller read, or NULL: the "see it
                                  by hand" commands name it (shell-quoted) instead of
                                  leaf.pem / chain.pem */
} tc_verify_params;

/* Sets defaults: now, server purpose, max_depth -1, min_days 30. */
void tc_verify_params_init(tc_verify_params *p);

/* Verifies `chain` (leaf first, the rest in any order; borrowed, the report
 * takes its own references) against `trust`, recording EVERY problem found
 * at every depth into `report` (OpenSSL's verify callback lets validation
 * go on), then the checks OpenSSL leaves to callers (hostname, weak
 * signature, weak key, purpose, expiry window, web-PKI rules).
 * TC_FAIL only when it could not judge at all (empty chain, bad hostname,
 * out of memory); a failing chain is TC_OK with problems in the report. */
TC_MUST_USE tc_status tc_verify(tc_report *report, const tc_trust *trust,
                                STACK_OF(X509) *chain,
                                const tc_verify_params *params,
                                tc_error *err);

/* tc_verify remembers, process-wide, which CA certificates' signatures
 * verified under which issuer key (sigcache.c), so a batch whose chains
 * share intermediates checks each of those signatures once.  How often a
 * signature on a CA certificate was found there (hits) or had to be
 * checked (misses); and emptying it (tests, benchmarks). */
void tc_sigcache_stats(uint64_t *hits, uint64_t *misses);
void tc_sigcache_clear(void);

/* SHA-256, fetched once per process (EVP_sha256() is looked up again in
 * the provider tables at every use in OpenSSL 3.0); NULL if unavailable. */
const EVP_MD *tc_sha256(void);

/* The largest stapled OCSP response read (bytes); a larger one is
 * ocsp_staple_invalid without being parsed.  Real ones are 1-4 KB. */
#define TC_OCSP_MAX 65536

/* Judges a stapled OCSP response (der, len: untrusted bytes from the
 * server) about the leaf of report->chain, after tc_verify: the issuer is
 * the leaf's issuer on report->path, else in the served chain.  Sets
 * report->ocsp (replacing any), and adds `revoked` (when a response that
 * verifies says so; the path then no longer counts as verified) or
 * `ocsp_staple_invalid` (a staple that cannot be read, does not verify, is
 * not about the leaf, or is stale at `now`).  An issuer that cannot be
 * found leaves verified 0 with the reason in words and no problem (the
 * chain's own problem says what is missing).  vars gives {target} and
 * {sni}.  TC_FAIL only when out of memory. */
TC_MUST_USE tc_status tc_ocsp_judge(tc_report *report, const unsigned char *der,
                                    size_t len, int64_t now,
                                    const tc_render_vars *vars, tc_error *err);
void tc_ocsp_free(tc_ocsp *o);

/* ------------------------------------------------------------------ */
/* Live checks (target.c, net.c, live.c)                               */
/* ------------------------------------------------------------------ */

/* A reusable client configuration (SSL_CTX plus trust), shared by many
 * checks and threads; reference counted. */
typedef struct tc_client tc_client;

typedef struct tc_client_params {
    tc_trust *trust;                 /* borrowed (the client takes a ref) */
    const char *client_cert_pem;     /* PEM cert (+chain) for mTLS, or NULL */
    size_t client_cert_len;
    const char *client_key_pem;      /* PEM private key, or NULL */
    size_t client_key_len;
} tc_client_params;

TC_MUST_USE tc_status tc_client_new(const tc_client_params *p,
                                    tc_client **out, tc_error *err);
tc_client *tc_client_ref(tc_client *c);
void tc_client_free(tc_client *c);

/* STARTTLS: the plaintext dialogue a protocol speaks before TLS
 * (csrc/core/conn/starttls.c).  The names are openssl s_client's
 * -starttls names. */
typedef enum tc_starttls {
    TC_STARTTLS_NONE = 0,
    TC_STARTTLS_SMTP, TC_STARTTLS_IMAP, TC_STARTTLS_POP3, TC_STARTTLS_FTP,
    TC_STARTTLS_LDAP, TC_STARTTLS_POSTGRES, TC_STARTTLS_MYSQL, TC_STARTTLS_XMPP,
    TC_STARTTLS__COUNT
} tc_starttls;
/* "smtp" for TC_STARTTLS_SMTP; NULL for NONE or an unknown value. */
const char *tc_starttls_name(tc_starttls p);
/* The protocol named name ("smtp", ...): 1 and *out set, or 0. */
int tc_starttls_from_name(const char *name, tc_starttls *out);

typedef struct tc_check_params {
    const char *host;          /* DNS name or IP literal to connect to (no brackets) */
    int port;
    const char *server_name;   /* SNI and name to verify; NULL: host (no SNI for an IP) */
    double timeout;            /* seconds, bounds DNS + connect + handshake */
    tc_verify_params verify;   /* hostname is filled from server_name/host */
    int probe;                 /* 1: after the check, survey the endpoint (report->probe) */
    tc_starttls starttls;      /* plaintext preamble before TLS, TC_STARTTLS_NONE: none */
} tc_check_params;

/* One check as a non-blocking state machine (resolve, connect, handshake),
 * each step resumable on readiness under one monotonic deadline, so that
 * one thread can drive many. */
typedef struct tc_check tc_check;

TC_MUST_USE tc_status tc_check_new(tc_client *client,
                                   const tc_check_params *p,
                                   tc_check **out, tc_error *err);
void tc_check_free(tc_check *c);

typedef enum tc_step {
    TC_STEP_DONE = 0,      /* finished: take the report */
    TC_STEP_WANT_READ,     /* poll tc_check_fd for POLLIN */
    TC_STEP_WANT_WRITE,    /* poll tc_check_fd for POLLOUT */
    TC_STEP_WANT_TIMER     /* nothing to poll (e.g. DNS in flight): call again by the deadline or soon */
} tc_step;

/* Advances the machine as far as it can without blocking. */
tc_step tc_check_step(tc_check *c);
/* The same, told that the socket tc_check_fd named before this call was
 * just reported writable (or in error) by the caller's poll/epoll: the
 * machine then does not poll it again itself.  writable 0 is
 * tc_check_step. */
tc_step tc_check_step_ready(tc_check *c, int writable);
int tc_check_fd(const tc_check *c);              /* -1 when none */
/* Which socket tc_check_fd is: a number that changes whenever the machine
 * opens a new socket (the probe after the main connection, the next
 * address), even one that got the number of the socket it just closed.
 * close() took the old socket out of any epoll set, so a driver that
 * registers tc_check_fd must register again when this changes, whatever
 * the fd number says. */
unsigned long tc_check_fd_serial(const tc_check *c);
int64_t tc_check_deadline_ns(const tc_check *c); /* CLOCK_MONOTONIC */
/* Hands over the report (caller frees); valid once DONE. */
tc_report *tc_check_take_report(tc_check *c);

/* Convenience: run one check to completion with poll(). */
TC_MUST_USE tc_status tc_check_run(tc_client *client,
                                   const tc_check_params *p,
                                   tc_report **out, tc_error *err);

/* Added by live.c: once DONE, why the check itself could not run (out of
 * memory, no socket left); NULL when it ran, its findings then being in
 * the report.  (tc_check_deadline_ns returns the next time the machine
 * must be stepped even without readiness, never later than the check's
 * own deadline.) */
const tc_error *tc_check_error(const tc_check *c);

/* Monotonic clock in nanoseconds. */
int64_t tc_now_ns(void);

/* ------------------------------------------------------------------ */
/* Many checks (multi.c; owner: many-endpoints helper)                 */
/* ------------------------------------------------------------------ */

/* Runs many live checks on ONE thread with at most `concurrency` in
 * flight: epoll over the machines' sockets, one timer for their
 * deadlines.  A check's machine (and so its deadline) starts only when a
 * slot frees up, so a check queued behind 100,000 others still gets its
 * whole timeout.  Results come out as they complete. */
typedef struct tc_multi tc_multi;

/* concurrency >= 1.  Makes sure the process may open that many sockets
 * next to the descriptors it already has: raises the RLIMIT_NOFILE soft
 * limit to the hard limit when needed, and fails with TC_E_IO (sys_errno
 * EMFILE) and a sentence naming the limit when even the hard limit is
 * too low. */
TC_MUST_USE tc_status tc_multi_new(size_t concurrency, tc_multi **out,
                                   tc_error *err);
/* Closes every socket, frees every machine, queued check and result.
 * NULL ok.  Never while another thread is inside tc_multi_run. */
void tc_multi_free(tc_multi *m);

/* Queues one check; `tag` comes back with its result.  Thread-safe: may
 * be called while another thread runs tc_multi_run (which it wakes).
 * Copies *p (strings, required EKUs; CRLs are up-referenced) and takes a
 * reference on client, so the caller's memory may go at once. */
TC_MUST_USE tc_status tc_multi_add(tc_multi *m, tc_client *client,
                                   const tc_check_params *p, uint64_t tag,
                                   tc_error *err);
/* Thread-safe: drops the queued or running check `tag` (its socket is
 * closed by the running thread at its next wake-up); it yields no
 * result.  Unknown tags are ignored. */
void tc_multi_cancel(tc_multi *m, uint64_t tag);
/* Thread-safe: makes a running tc_multi_run return soon. */
void tc_multi_wake(tc_multi *m);

/* Drives the checks until at least one result is ready, nothing is left
 * to run, tc_multi_wake was called, a signal interrupted the wait, or
 * max_wait_ns passed (so a caller can look at signals between calls).
 * *ready: results waiting for tc_multi_pop.  One thread at a time.
 * TC_FAIL only when the driver itself failed (epoll). */
TC_MUST_USE tc_status tc_multi_run(tc_multi *m, int64_t max_wait_ns,
                                   size_t *ready, tc_error *err);
/* Takes the oldest result, in completion order: 1 with *tag and either
 * *report (the caller frees it) or, when the check could not run at all
 * (tc_check_new refused its parameters, out of memory, no socket left),
 * *report NULL and *check_err filled.  0 when no result is ready. */
int tc_multi_pop(tc_multi *m, uint64_t *tag, tc_report **report,
                 tc_error *check_err);

typedef struct tc_multi_stats {
    size_t queued;          /* added, not started */
    size_t in_flight;       /* machines running now */
    size_t ready;           /* results not yet popped */
    size_t max_in_flight;   /* the most ever running at once */
    size_t concurrency;     /* the limit given to tc_multi_new */
    uint64_t started, completed;
} tc_multi_stats;
/* Thread-safe snapshot. */
void tc_multi_get_stats(tc_multi *m, tc_multi_stats *out);

#ifdef __cplusplus
}
#endif
#endif /* TLSCHECK_H */
