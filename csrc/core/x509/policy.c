/*
 * policy.c - every check OpenSSL leaves to the caller.
 *
 * tc_verify() lets OpenSSL build and check the path (signatures, validity,
 * basic constraints of intermediates, name constraints, purpose, CRLs) and
 * classify.c words what OpenSSL said.  This file alone then judges what
 * OpenSSL does not: over the whole path, the validity period at the
 * caller's time, weak signature hashes, the leaf's purpose, the host name
 * (hostname.c's matcher), the expiry window and the caller's max_depth;
 * and per certificate the profile rules of RFC 5280 (section 4.1, 4.2)
 * and of the CA/Browser Forum
 * Baseline Requirements (BR) that OpenSSL does not check, or checks only
 * under X509_V_FLAG_X509_STRICT, which is too strict for real trust
 * stores (see below).
 *
 * Each rule names the clause it comes from.  Every rule is either one a
 * browser or web-PKI verifier enforces, or one the RFC / BR makes a MUST
 * that publicly trusted certificates meet; docs/conformance.md lists them
 * and the suite cases they decide.
 *
 * Trust anchors get leniency where real roots of the public web break a
 * rule: the Mozilla/Debian store holds roots with a zero serial number,
 * a non-critical basicConstraints, no keyUsage, no subjectKeyIdentifier,
 * a GeneralizedTime before 2050, or an authorityKeyIdentifier that names
 * issuer and serial.  A rule marked "not anchors" below is one such root
 * breaks; an anchor is the last certificate of a path of two or more.
 *
 * Findings are collected per (kind, certificate) and reported as one
 * problem whose {detail} lists every rule broken, so a certificate that
 * breaks three rules says all three.  A report holds one problem per
 * (kind, certificate): when one was already reported (OpenSSL's strict
 * checks overlap with several rules here), the findings it does not
 * already say are appended to its message ("Also: ...").  A finding that
 * is the same rule as one of OpenSSL's checks carries that verify code,
 * and is left out of a problem worded from that code: the match is by
 * code, never by wording.  Every loop over
 * names or constraints is bounded (denial-of-service cases of the suite).
 */
#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/x509v3.h>
#include "text.h"
#include "classify.h"   /* tc_cert_vars_fill_purpose: "the client certificate" wording */

/* Where a certificate sits in the path. */
enum {
    ROLE_LEAF = 1,          /* depth 0 */
    ROLE_INTERMEDIATE = 2,  /* between the leaf and the top */
    ROLE_ANCHOR = 4,        /* the top of a path of two or more */
};
#define ROLE_CA (ROLE_INTERMEDIATE | ROLE_ANCHOR)
#define ROLE_ISSUED (ROLE_LEAF | ROLE_INTERMEDIATE)
#define ROLE_ANY (ROLE_LEAF | ROLE_CA)

/* OpenSSL's code for a key below its security level, by role. */
#define KEY_TOO_SMALL(depth) ((depth) == 0 ? X509_V_ERR_EE_KEY_TOO_SMALL : X509_V_ERR_CA_KEY_TOO_SMALL)

/* Bounds that keep a hostile certificate from making a check quadratic. */
#define MAX_NAME_CHECKS (1L << 20)  /* names x constraints comparisons */
#define MAX_CN_CHECKED 16           /* subject CN attributes compared with SANs */
#define MAX_NAMES_LISTED 3          /* bad names quoted in one detail */

/* One finding: a sentence fragment, and the OpenSSL verify code of the
 * same rule (X509_V_ERR_*; 0: OpenSSL has no such check). */
typedef struct finding {
    int same_code;
    char text[512];
} finding;

/* Every finding about one certificate under one kind. */
typedef struct note {
    tc_kind kind;
    size_t n;
    int truncated;
    finding f[10];
} note;

typedef struct pol {
    const tc_judge *j;
    tc_report *report;
    STACK_OF(X509) *path;
    const tc_verify_params *params;
    tc_error *err;
    int n;              /* path length */
    int64_t now;
    note notes[8];      /* more than the kinds a rule can use */
    size_t n_notes;
    int nomem;          /* a rule could not allocate: the check is incomplete */
} pol;

static void note_add(pol *p, tc_kind kind, int same_code, const char *fmt, ...)
    TC_PRINTF(4, 5);

static void note_add(pol *p, tc_kind kind, int same_code, const char *fmt, ...)
{
    note *nt = NULL;
    for (size_t i = 0; i < p->n_notes; i++)
        if (p->notes[i].kind == kind)
            nt = &p->notes[i];
    if (nt == NULL) {
        if (p->n_notes == sizeof(p->notes) / sizeof(p->notes[0]))
            return;     /* cannot happen: more slots than kinds */
        nt = &p->notes[p->n_notes++];
        nt->kind = kind;
        nt->n = 0;
        nt->truncated = 0;
    }
    if (nt->n == sizeof(nt->f) / sizeof(nt->f[0])) {
        nt->truncated = 1;
        return;
    }
    finding *f = &nt->f[nt->n++];
    f->same_code = same_code;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(f->text, sizeof(f->text), fmt, ap);
    va_end(ap);
}

/* The report's problem of (kind, depth), or NULL. */
static tc_problem *problem_at(tc_report *r, tc_kind kind, int depth)
{
    for (size_t i = 0; i < r->n_problems; i++)
        if (r->problems[i].kind == kind && r->problems[i].depth == depth)
            return &r->problems[i];
    return NULL;
}

/* Does pr say what OpenSSL's check `code` found?  A problem is worded from
 * one verify code at most (the first for its kind and certificate). */
static int said_by(const tc_problem *pr, int code)
{
    return code != 0 && pr->openssl_code == code;
}

/* Appends " Also: a; b." to a problem reported first (problems are one
 * per kind and certificate), leaving out the findings OpenSSL's own check
 * of the same rule already made. */
static tc_status amend(pol *p, tc_problem *pr, const note *nt)
{
    size_t add = 0;
    for (size_t i = 0; i < nt->n; i++)
        if (!said_by(pr, nt->f[i].same_code))
            add += strlen(nt->f[i].text) + 2;
    if (add == 0)
        return TC_OK;
    size_t len = strlen(pr->message);
    char *m = realloc(pr->message, len + add + sizeof(" Also: ") + sizeof("; and more."));
    if (m == NULL)
        return tc_error_set(p->err, TC_E_NOMEM, "out of memory recording a problem");
    pr->message = m;
    memcpy(m + len, " Also: ", sizeof(" Also: "));
    int first = 1;
    for (size_t i = 0; i < nt->n; i++) {
        if (said_by(pr, nt->f[i].same_code))
            continue;
        if (!first)
            strcat(m, "; ");
        strcat(m, nt->f[i].text);
        first = 0;
    }
    strcat(m, nt->truncated ? "; and more." : ".");
    return TC_OK;
}

/* Turns the pending notes into report problems about `depth` (-1: the
 * path as a whole, described by `what`). */
static tc_status notes_flush(pol *p, int depth, const char *what)
{
    tc_status rv = TC_OK;
    for (size_t i = 0; i < p->n_notes && rv == TC_OK; i++) {
        const note *nt = &p->notes[i];
        tc_problem *existing = problem_at(p->report, nt->kind, depth);
        if (existing != NULL) {
            rv = amend(p, existing, nt);
            continue;
        }
        char detail[sizeof(nt->f) + 64];
        detail[0] = '\0';
        for (size_t k = 0; k < nt->n; k++) {
            if (k)
                strcat(detail, "; ");
            strcat(detail, nt->f[k].text);
        }
        if (nt->truncated)
            strcat(detail, "; and more");
        tc_render_vars vars;
        tc_cert_vars cv;
        memset(&vars, 0, sizeof(vars));
        memset(&cv, 0, sizeof(cv));
        if (depth >= 0)
            tc_cert_vars_fill_purpose(&cv, sk_X509_value(p->path, depth), depth,
                                      p->now, p->params->purpose, &vars);
        else
            vars.cert = what;
        vars.detail = detail;
        vars.hostname = p->params->hostname;
        rv = tc_report_add(p->report, nt->kind, depth, 0, NULL, &vars, p->err);
    }
    p->n_notes = 0;
    return rv;
}

/* ------------------------------------------------------------------ */
/* Small helpers                                                       */
/* ------------------------------------------------------------------ */

/* Untrusted bytes as printable text, by the core's one rule (text.h), cut
 * at 96 bytes. */
static void printable(char *out, size_t outlen, const unsigned char *s,
                      size_t len)
{
    tc_escape(out, outlen, s, len, 96);
}

static uint32_t xflags(X509 *x)
{
    return X509_get_extension_flags(x);
}

static int is_ca(X509 *x)
{
    return (xflags(x) & EXFLAG_CA) != 0;
}

static int has_ext(X509 *x, int nid)
{
    return X509_get_ext_by_NID(x, nid, -1) >= 0;
}

static const char *nid_name(int nid)
{
    const char *sn = OBJ_nid2sn(nid);
    return sn ? sn : "an extension";
}

static int ascii_lower(int c)
{
    return (c >= 'A' && c <= 'Z') ? c + ('a' - 'A') : c;
}

static int span_ieq(const unsigned char *a, size_t alen,
                    const unsigned char *b, size_t blen)
{
    if (alen != blen)
        return 0;
    for (size_t i = 0; i < alen; i++)
        if (ascii_lower(a[i]) != ascii_lower(b[i]))
            return 0;
    return 1;
}

/* ------------------------------------------------------------------ */
/* Rules about one certificate                                         */
/* ------------------------------------------------------------------ */

typedef void (*rule_fn)(pol *p, X509 *x, int depth, int role);

/* RFC 5280 4.1.2.1: extensions exist only in version 3.  CA/B BR 7.1.1:
 * the certificates of a TLS server's chain are version 3 (a version 1
 * anchor, which can carry nothing, is let through). */
static void rule_version(pol *p, X509 *x, int depth, int role)
{
    long v = X509_get_version(x);
    if (v == X509_VERSION_3)
        return;
    if (X509_get_ext_count(x) > 0)
        note_add(p, TC_KIND_MALFORMED_CERTIFICATE, X509_V_ERR_EXTENSIONS_REQUIRE_VERSION_3,
                 "it is an X.509 version %ld certificate but carries extensions, "
                 "which only version 3 allows (RFC 5280 section 4.1.2.1)", v + 1);
    else if (role != ROLE_ANCHOR && p->params->purpose == TC_PURPOSE_SERVER)
        note_add(p, TC_KIND_MALFORMED_CERTIFICATE, 0,
                 "it is an X.509 version %ld certificate; CA/B BR 7.1.1 requires "
                 "version 3, the only one that can carry subjectAltName and "
                 "basicConstraints", v + 1);
}

/* RFC 5280 4.1.2.2: a positive integer of at most 20 octets.  Not
 * anchors: nine roots of the public store have serial number 0. */
static void rule_serial(pol *p, X509 *x, int depth, int role)
{
    const ASN1_INTEGER *sn = X509_get0_serialNumber(x);
    const unsigned char *d = ASN1_STRING_get0_data(sn);
    int len = ASN1_STRING_length(sn);
    while (len > 0 && d[0] == 0) {
        d++;
        len--;
    }
    if (ASN1_STRING_type(sn) == V_ASN1_NEG_INTEGER && len > 0)
        note_add(p, TC_KIND_MALFORMED_CERTIFICATE, 0,
                 "its serial number is negative; RFC 5280 section 4.1.2.2 "
                 "requires a positive integer");
    else if (len == 0)
        note_add(p, TC_KIND_MALFORMED_CERTIFICATE, 0,
                 "its serial number is zero; RFC 5280 section 4.1.2.2 "
                 "requires a positive integer");
    else if (len + ((d[0] & 0x80) ? 1 : 0) > 20)
        note_add(p, TC_KIND_MALFORMED_CERTIFICATE, 0,
                 "its serial number is %d octets long; RFC 5280 section "
                 "4.1.2.2 allows at most 20", len + ((d[0] & 0x80) ? 1 : 0));
}

/* RFC 5280 4.1.1.2: signatureAlgorithm equals tbsCertificate.signature. */
static void rule_signature_fields(pol *p, X509 *x, int depth, int role)
{
    const X509_ALGOR *outer = NULL;
    X509_get0_signature(NULL, &outer, x);
    const X509_ALGOR *inner = X509_get0_tbs_sigalg(x);
    if (outer == NULL || inner == NULL || X509_ALGOR_cmp(outer, inner) == 0)
        return;
    const ASN1_OBJECT *o1 = NULL, *o2 = NULL;
    char n1[80], n2[80];
    X509_ALGOR_get0(&o1, NULL, NULL, outer);
    X509_ALGOR_get0(&o2, NULL, NULL, inner);
    if (o1 == NULL || OBJ_obj2txt(n1, sizeof(n1), o1, 0) <= 0)
        strcpy(n1, "?");
    if (o2 == NULL || OBJ_obj2txt(n2, sizeof(n2), o2, 0) <= 0)
        strcpy(n2, "?");
    note_add(p, TC_KIND_MALFORMED_CERTIFICATE, X509_V_ERR_SIGNATURE_ALGORITHM_INCONSISTENCY,
             "its two signature algorithm fields differ (%s outside, %s "
             "inside the signed part); RFC 5280 section 4.1.1.2 requires "
             "them to be identical", n1, n2);
}

/* RFC 5280 4.1.2.4 / 4.1.2.6: a non-empty issuer; a CA has a non-empty
 * subject. */
static void rule_names(pol *p, X509 *x, int depth, int role)
{
    if (X509_NAME_entry_count(X509_get_issuer_name(x)) == 0)
        note_add(p, TC_KIND_MALFORMED_CERTIFICATE, X509_V_ERR_ISSUER_NAME_EMPTY,
                 "its issuer name is empty; RFC 5280 section 4.1.2.4 "
                 "requires a non-empty issuer");
    if ((role & ROLE_CA) && X509_NAME_entry_count(X509_get_subject_name(x)) == 0)
        note_add(p, TC_KIND_INVALID_CA, 0,
                 "its subject name is empty; RFC 5280 section 4.1.2.6 "
                 "requires a CA certificate to have a non-empty subject");
}

static int obj_ptr_cmp(const void *a, const void *b)
{
    return OBJ_cmp(*(const ASN1_OBJECT *const *)a, *(const ASN1_OBJECT *const *)b);
}

/* RFC 5280 4.2: "A certificate MUST NOT include more than one instance of
 * a particular extension."  Sorted, so a certificate with thousands of
 * extensions costs n log n. */
static void rule_duplicate_extensions(pol *p, X509 *x, int depth, int role)
{
    int n = X509_get_ext_count(x);
    if (n < 2)
        return;
    const ASN1_OBJECT **v = calloc((size_t)n, sizeof(*v));
    if (v == NULL) {
        p->nomem = 1;
        return;
    }
    for (int i = 0; i < n; i++)
        v[i] = X509_EXTENSION_get_object(X509_get_ext(x, i));
    qsort(v, (size_t)n, sizeof(*v), obj_ptr_cmp);
    for (int i = 1; i < n; i++) {
        if (OBJ_cmp(v[i - 1], v[i]) != 0)
            continue;
        char name[80];
        if (OBJ_obj2txt(name, sizeof(name), v[i], 0) <= 0)
            strcpy(name, "?");
        note_add(p, TC_KIND_MALFORMED_CERTIFICATE, 0,
                 "it carries the %s extension more than once; RFC 5280 "
                 "section 4.2 allows one instance of each extension", name);
        break;
    }
    free(v);
}

/* Every extension OpenSSL knows the syntax of must decode (RFC 5280
 * 4.2; Chrome refuses a certificate whose AIA, SAN, ... does not parse). */
static void rule_extensions_decode(pol *p, X509 *x, int depth, int role)
{
    int n = X509_get_ext_count(x);
    for (int i = 0; i < n; i++) {
        X509_EXTENSION *ext = X509_get_ext(x, i);
        const X509V3_EXT_METHOD *m = X509V3_EXT_get(ext);
        if (m == NULL)
            continue;   /* unknown: only its criticality matters (OpenSSL) */
        void *v = X509V3_EXT_d2i(ext);
        if (v != NULL) {
            if (m->it != NULL)
                ASN1_item_free(v, ASN1_ITEM_ptr(m->it));
            else if (m->ext_free != NULL)
                m->ext_free(v);
            continue;
        }
        int nid = OBJ_obj2nid(X509_EXTENSION_get_object(ext));
        note_add(p, TC_KIND_MALFORMED_CERTIFICATE, 0,
                 "its %s extension cannot be decoded (its bytes do not follow "
                 "the syntax RFC 5280 gives it)", nid_name(nid));
    }
}

/* Criticality the RFC fixes for an extension, as data. */
enum { MUST_BE_NONCRITICAL = 0, MUST_BE_CRITICAL = 1 };
static const struct crit_rule {
    int nid;
    int must;
    int roles;
    const char *where;
    int same_code;          /* OpenSSL's strict check of the same rule, or 0 */
    int issuer_rule;        /* a rule for the issuer only: a relying party
                             * accepts it broken (a warning) */
} CRIT_RULES[] = {
    { NID_authority_key_identifier, MUST_BE_NONCRITICAL, ROLE_ANY, "RFC 5280 section 4.2.1.1",
      X509_V_ERR_AUTHORITY_KEY_IDENTIFIER_CRITICAL },
    { NID_subject_key_identifier, MUST_BE_NONCRITICAL, ROLE_ANY, "RFC 5280 section 4.2.1.2",
      X509_V_ERR_SUBJECT_KEY_IDENTIFIER_CRITICAL },
    { NID_info_access, MUST_BE_NONCRITICAL, ROLE_ANY, "RFC 5280 section 4.2.2.1", 0 },
    { NID_sinfo_access, MUST_BE_NONCRITICAL, ROLE_ANY, "RFC 5280 section 4.2.2.2", 0 },
    { NID_freshest_crl, MUST_BE_NONCRITICAL, ROLE_ANY, "RFC 5280 section 4.2.1.15", 0 },
    { NID_policy_constraints, MUST_BE_CRITICAL, ROLE_ISSUED, "RFC 5280 section 4.2.1.11", 0, 1 },
    { NID_inhibit_any_policy, MUST_BE_CRITICAL, ROLE_ISSUED, "RFC 5280 section 4.2.1.14", 0, 1 },
};

static void rule_criticality(pol *p, X509 *x, int depth, int role)
{
    for (size_t i = 0; i < sizeof(CRIT_RULES) / sizeof(CRIT_RULES[0]); i++) {
        const struct crit_rule *r = &CRIT_RULES[i];
        int idx = X509_get_ext_by_NID(x, r->nid, -1);
        if (idx < 0 || !(role & r->roles))
            continue;
        int crit = X509_EXTENSION_get_critical(X509_get_ext(x, idx)) != 0;
        if (crit != r->must)
        {
            if (r->issuer_rule)
                note_add(p, TC_KIND_PROFILE_DEVIATION, r->same_code,
                         "its %s extension is not marked critical, which %s asks of the CA "
                         "that issues it; certificate policies are processed all the same "
                         "(RFC 3280-era CAs leave it non-critical, and validators accept it)",
                         nid_name(r->nid), r->where);
            else
                note_add(p, TC_KIND_MALFORMED_CERTIFICATE, r->same_code,
                         "its %s extension is %s; %s requires it to be %s",
                         nid_name(r->nid), crit ? "marked critical" : "not marked critical",
                         r->where, r->must ? "critical" : "non-critical");
        }
    }
}

/* Extensions whose ASN.1 is SEQUENCE SIZE (1..MAX) OF ...: an empty list
 * is not a valid encoding (RFC 5280 4.2.1.4, 4.2.1.6, 4.2.1.11,
 * 4.2.1.12, 4.2.1.13, 4.2.2.1).  Read from the raw bytes, so it does not
 * depend on how leniently OpenSSL decodes them. */
static const int NONEMPTY_EXTS[] = {
    NID_subject_alt_name, NID_issuer_alt_name, NID_ext_key_usage,
    NID_info_access, NID_sinfo_access, NID_certificate_policies,
    NID_crl_distribution_points, NID_freshest_crl, NID_policy_constraints,
};

static void rule_nonempty_lists(pol *p, X509 *x, int depth, int role)
{
    for (size_t i = 0; i < sizeof(NONEMPTY_EXTS) / sizeof(NONEMPTY_EXTS[0]); i++) {
        int idx = X509_get_ext_by_NID(x, NONEMPTY_EXTS[i], -1);
        if (idx < 0)
            continue;
        const ASN1_OCTET_STRING *v = X509_EXTENSION_get_data(X509_get_ext(x, idx));
        const unsigned char *d = ASN1_STRING_get0_data(v);
        if (ASN1_STRING_length(v) == 2 && d[0] == 0x30 && d[1] == 0x00)
            note_add(p, NONEMPTY_EXTS[i] == NID_policy_constraints
                            ? TC_KIND_INVALID_CA : TC_KIND_MALFORMED_CERTIFICATE,
                     NONEMPTY_EXTS[i] == NID_subject_alt_name ? X509_V_ERR_EMPTY_SUBJECT_ALT_NAME : 0,
                     "its %s extension is empty (an empty list; RFC 5280 "
                     "requires at least one entry)", nid_name(NONEMPTY_EXTS[i]));
    }
}

/* RFC 5280 4.2.1.1: every certificate that is not self-signed carries an
 * authorityKeyIdentifier with keyIdentifier; X.509 (8.2.2.1) requires
 * authorityCertIssuer and authorityCertSerialNumber together or neither;
 * and the identifier must describe the certificate's issuer (for a
 * self-signed root: itself; CA/B BR 7.1.2.1.3). */
static void rule_authority_key_id(pol *p, X509 *x, int depth, int role)
{
    int crit = -1;
    AUTHORITY_KEYID *akid = X509_get_ext_d2i(x, NID_authority_key_identifier, &crit, NULL);
    if (akid == NULL) {
        /* crit >= 0: present but undecodable, see rule_extensions_decode.
         * Anchors are exempt from presence: RFC 5280 6.1.1(d) takes only
         * a name and a key from an anchor, and cross-signed roots without
         * the extension are trusted (cve::cve-2024-0567). */
        if (crit == -1 && role != ROLE_ANCHOR &&
            X509_get_version(x) == X509_VERSION_3 && !(xflags(x) & EXFLAG_SS))
            note_add(p, TC_KIND_MALFORMED_CERTIFICATE, X509_V_ERR_MISSING_AUTHORITY_KEY_IDENTIFIER,
                     "it has no authorityKeyIdentifier extension; RFC 5280 "
                     "section 4.2.1.1 requires one in every certificate that "
                     "is not self-signed");
        return;
    }
    if (akid->keyid == NULL)
        note_add(p, TC_KIND_MALFORMED_CERTIFICATE, 0,
                 "its authorityKeyIdentifier has no keyIdentifier field, which "
                 "RFC 5280 section 4.2.1.1 requires");
    if ((akid->issuer == NULL) != (akid->serial == NULL))
        note_add(p, TC_KIND_MALFORMED_CERTIFICATE, 0,
                 "its authorityKeyIdentifier has %s without %s; X.509 "
                 "requires both fields or neither",
                 akid->issuer ? "authorityCertIssuer" : "authorityCertSerialNumber",
                 akid->issuer ? "authorityCertSerialNumber" : "authorityCertIssuer");
    X509 *issuer = NULL;
    if (depth + 1 < p->n)
        issuer = sk_X509_value(p->path, depth + 1);
    else if (xflags(x) & EXFLAG_SI)
        issuer = x;
    if (issuer != NULL && X509_check_akid(issuer, akid) != X509_V_OK)
        note_add(p, TC_KIND_MALFORMED_CERTIFICATE, 0, issuer == x
                 ? "its authorityKeyIdentifier does not describe its own key and "
                   "serial, although it is self-issued (CA/B BR 7.1.2.1.3)"
                 : "its authorityKeyIdentifier does not describe the certificate "
                   "that issued it (RFC 5280 section 4.2.1.1)");
    AUTHORITY_KEYID_free(akid);
}

/* RFC 5280 4.2.1.2: every CA certificate carries a subjectKeyIdentifier.
 * Not anchors: two roots of the public store have none. */
static void rule_subject_key_id(pol *p, X509 *x, int depth, int role)
{
    if (X509_get_version(x) == X509_VERSION_3 && is_ca(x) &&
        !has_ext(x, NID_subject_key_identifier))
        note_add(p, TC_KIND_MALFORMED_CERTIFICATE, X509_V_ERR_MISSING_SUBJECT_KEY_IDENTIFIER,
                 "it is a CA certificate without a subjectKeyIdentifier "
                 "extension, which RFC 5280 section 4.2.1.2 requires");
}

/* RFC 5280 4.2.1.9 and 4.2.1.3, CA/B BR 7.1.2.7.8: cA, keyCertSign and
 * pathLenConstraint agree; a CA certificate is not a leaf. */
static void rule_basic_constraints(pol *p, X509 *x, int depth, int role)
{
    uint32_t f = xflags(x);
    uint32_t ku = X509_get_key_usage(x);   /* all bits when absent */
    int has_ku = (f & EXFLAG_KUSAGE) != 0;
    if (has_ku && ku == 0)
        note_add(p, TC_KIND_MALFORMED_CERTIFICATE, 0,
                 "its keyUsage extension has no bit set; RFC 5280 section "
                 "4.2.1.3 requires at least one");
    if (role == ROLE_LEAF) {
        /* A CA certificate as the leaf: check_leaf_purpose says so. */
        if (!(f & EXFLAG_CA) && has_ku && (ku & KU_KEY_CERT_SIGN))
            note_add(p, TC_KIND_INVALID_PURPOSE, X509_V_ERR_KU_KEY_CERT_SIGN_INVALID_FOR_NON_CA,
                     "its keyUsage asserts keyCertSign although it is not a CA "
                     "(basicConstraints cA is not TRUE); RFC 5280 section "
                     "4.2.1.3 forbids that");
        return;
    }
    int idx = X509_get_ext_by_NID(x, NID_basic_constraints, -1);
    if (idx < 0) {
        /* A version 1 anchor cannot carry extensions at all. */
        if (X509_get_version(x) == X509_VERSION_3)
            note_add(p, TC_KIND_INVALID_CA, 0,
                     "it has no basicConstraints extension; RFC 5280 section "
                     "4.2.1.9 requires every CA certificate to carry one with "
                     "cA=TRUE");
        return;
    }
    if (!(f & EXFLAG_CA)) {
        note_add(p, TC_KIND_INVALID_CA, 0,
                 "its basicConstraints does not assert cA=TRUE (RFC 5280 "
                 "section 4.2.1.9)");
        return;
    }
    /* A non-critical basicConstraints: OpenSSL's strict check (code 89,
     * always on) reports it, as a warning (classify.c). */
    if (has_ku && !(ku & KU_KEY_CERT_SIGN))
        note_add(p, TC_KIND_INVALID_CA, 0,
                 "its keyUsage does not include keyCertSign (RFC 5280 section "
                 "4.2.1.3)");
}

static int eku_has(const EXTENDED_KEY_USAGE *eku, const ASN1_OBJECT *want)
{
    for (int i = 0; i < sk_ASN1_OBJECT_num(eku); i++)
        if (OBJ_cmp(sk_ASN1_OBJECT_value(eku, i), want) == 0)
            return 1;
    return 0;
}

static int eku_has_nid(const EXTENDED_KEY_USAGE *eku, int nid)
{
    const ASN1_OBJECT *o = OBJ_nid2obj(nid);
    return o != NULL && eku_has(eku, o);
}

/* The first EKU the caller requires (short names or dotted OIDs; none:
 * the purpose's own) that eku does not list, written into out; 0 when
 * eku allows them all. */
static int missing_eku(pol *p, const EXTENDED_KEY_USAGE *eku, char *out, size_t outlen)
{
    const tc_verify_params *v = p->params;
    if (v->required_ekus == NULL || v->n_required_ekus == 0) {
        int nid = v->purpose == TC_PURPOSE_CLIENT ? NID_client_auth : NID_server_auth;
        if (eku_has_nid(eku, nid))
            return 0;
        snprintf(out, outlen, "%s", OBJ_nid2sn(nid));
        return 1;
    }
    for (size_t i = 0; i < v->n_required_ekus; i++) {
        ASN1_OBJECT *o = OBJ_txt2obj(v->required_ekus[i], 0);
        if (o == NULL)
            continue;   /* not a name or OID: the binding refuses those first */
        int has = eku_has(eku, o);
        ASN1_OBJECT_free(o);
        if (!has) {
            snprintf(out, outlen, "%s", v->required_ekus[i]);
            return 1;
        }
    }
    return 0;
}

/* EKU rules.  Leaf (server purpose, CA/B BR 7.1.2.7.10 and 7.1.2.7.6):
 * no anyExtendedKeyUsage, not critical.  A leaf without the extension is
 * accepted (RFC 5280 4.2.1.12; browsers accept it).  Intermediates (CA/B
 * BR 7.1.2.2, enforced by Chrome and Firefox): an EKU in a CA constrains
 * what it may issue, so it must allow what the leaf is used for. */
static void rule_extended_key_usage(pol *p, X509 *x, int depth, int role)
{
    int crit = -1, idx = X509_get_ext_by_NID(x, NID_ext_key_usage, -1);
    if (idx < 0)
        return;
    EXTENDED_KEY_USAGE *eku = X509_get_ext_d2i(x, NID_ext_key_usage, &crit, NULL);
    if (eku == NULL)
        return;     /* undecodable: see rule_extensions_decode */
    int any = eku_has_nid(eku, NID_anyExtendedKeyUsage);
    if (role == ROLE_LEAF && p->params->purpose == TC_PURPOSE_SERVER) {
        if (any)
            note_add(p, TC_KIND_INVALID_PURPOSE, 0,
                     "its extendedKeyUsage includes anyExtendedKeyUsage, which "
                     "CA/B BR 7.1.2.7.10 forbids in a server certificate");
        if (crit)
            note_add(p, TC_KIND_INVALID_PURPOSE, 0,
                     "its extendedKeyUsage extension is marked critical, which "
                     "CA/B BR 7.1.2.7.6 forbids in a server certificate");
    }
    char want[128];
    if (!any && missing_eku(p, eku, want, sizeof(want))) {
        /* The leaf's: check_leaf_purpose says it. */
        if (role == ROLE_INTERMEDIATE)
            note_add(p, TC_KIND_INVALID_PURPOSE, X509_V_ERR_INVALID_PURPOSE,
                     "it is an intermediate CA whose extendedKeyUsage does not "
                     "include %s, so the certificates it issues may not be used "
                     "for that either (CA/B BR 7.1.2.2)", want);
    }
    EXTENDED_KEY_USAGE_free(eku);
}

/*
 * Why a dNSName is not in the preferred name syntax of RFC 1034 section
 * 3.5 as RFC 5280 4.2.1.6 requires (letters, digits, hyphens; labels of
 * 1..63 octets; 253 in all), or NULL when it is.  '*' is let through:
 * where a wildcard may stand is the matcher's business (hostname.c),
 * which refuses to match a misplaced one rather than refusing the
 * certificate, as browsers do.
 */
static const char *dns_syntax_error(const unsigned char *s, size_t len)
{
    if (len == 0)
        return "it is empty";
    if (len > 253)
        return "it is longer than 253 characters";
    size_t label = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = s[i];
        if (c == '.') {
            if (label == 0)
                return i == 0 ? "it starts with a dot" : "it has an empty label";
            label = 0;
            continue;
        }
        if (++label > 63)
            return "it has a label longer than 63 characters";
        if (c == '_')
            return "it contains an underscore";
        if (c >= 0x80)
            return "it contains a non-ASCII byte (internationalized names are "
                   "written in their xn-- form)";
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
              (c >= '0' && c <= '9') || c == '-' || c == '*'))
            return "it contains a character other than a letter, digit or hyphen";
    }
    if (label == 0)
        return "it ends with a dot";
    return NULL;
}

static int email_valid(const unsigned char *s, size_t len)
{
    size_t at = len, n_at = 0;
    for (size_t i = 0; i < len; i++)
        if (s[i] == '@') {
            n_at++;
            at = i;
        }
    return n_at == 1 && at > 0 && at + 1 < len;
}

/* The canonical text of an iPAddress SAN: dotted decimal, or RFC 5952
 * (glibc's inet_ntop writes it: lowercase, no leading zeros, the longest
 * run of two or more zero groups as "::"). */
static int ip_text(const ASN1_OCTET_STRING *ip, char *out, size_t outlen)
{
    int len = ASN1_STRING_length(ip);
    if (len != 4 && len != 16)
        return 0;
    return inet_ntop(len == 4 ? AF_INET : AF_INET6, ASN1_STRING_get0_data(ip),
                     out, (socklen_t)outlen) != NULL;
}

/* RFC 5280 4.2.1.6 and CA/B BR 7.1.2.7.12 on the leaf's names. */
static void rule_subject_alt_name(pol *p, X509 *x, int depth, int role)
{
    int crit = -1;
    GENERAL_NAMES *gens = X509_get_ext_d2i(x, NID_subject_alt_name, &crit, NULL);
    int subject_empty = X509_NAME_entry_count(X509_get_subject_name(x)) == 0;
    if (gens == NULL) {
        /* crit >= 0: present but undecodable, see rule_extensions_decode */
        if (crit == -1 && subject_empty)
            note_add(p, TC_KIND_MALFORMED_CERTIFICATE, 0,
                     "its subject is empty and it has no subjectAltName "
                     "extension, so it names nothing (RFC 5280 section 4.2.1.6)");
        else if (crit == -1 && p->params->purpose == TC_PURPOSE_SERVER &&
                 p->params->hostname == NULL)
            note_add(p, TC_KIND_INVALID_PURPOSE, 0,
                     "it has no subjectAltName extension: TLS clients match "
                     "server names only against subjectAltName entries (RFC "
                     "6125, CA/B BR 7.1.2.7.12), so no client accepts it for "
                     "any name");
        return;
    }
    if (subject_empty && !crit)
        note_add(p, TC_KIND_MALFORMED_CERTIFICATE, X509_V_ERR_EMPTY_SUBJECT_SAN_NOT_CRITICAL,
                 "its subject name is empty and its subjectAltName extension is "
                 "not marked critical, which RFC 5280 section 4.2.1.6 requires "
                 "when the subject is empty");
    if (!subject_empty && crit && p->params->purpose == TC_PURPOSE_SERVER)
        note_add(p, TC_KIND_MALFORMED_CERTIFICATE, 0,
                 "its subjectAltName extension is marked critical although its "
                 "subject is not empty; CA/B BR 7.1.2.7.12 requires it to be "
                 "non-critical then");
    int listed = 0, n = sk_GENERAL_NAME_num(gens);
    for (int i = 0; i < n && listed < MAX_NAMES_LISTED; i++) {
        const GENERAL_NAME *g = sk_GENERAL_NAME_value(gens, i);
        char shown[400];
        if (g->type == GEN_DNS) {
            const unsigned char *d = ASN1_STRING_get0_data(g->d.dNSName);
            size_t len = (size_t)ASN1_STRING_length(g->d.dNSName);
            const char *why = dns_syntax_error(d, len);
            if (why == NULL)
                continue;
            printable(shown, sizeof(shown), d, len);
            note_add(p, TC_KIND_MALFORMED_CERTIFICATE, 0,
                     "its subjectAltName entry DNS:%s is not a valid DNS name "
                     "(%s; RFC 5280 section 4.2.1.6)", shown, why);
            listed++;
        } else if (g->type == GEN_IPADD) {
            int len = ASN1_STRING_length(g->d.iPAddress);
            if (len == 4 || len == 16)
                continue;
            note_add(p, TC_KIND_MALFORMED_CERTIFICATE, 0,
                     "its subjectAltName has an IP address entry of %d bytes; "
                     "an address is 4 (IPv4) or 16 (IPv6) bytes (RFC 5280 "
                     "section 4.2.1.6)", len);
            listed++;
        } else if (g->type == GEN_EMAIL) {
            const unsigned char *d = ASN1_STRING_get0_data(g->d.rfc822Name);
            size_t len = (size_t)ASN1_STRING_length(g->d.rfc822Name);
            if (email_valid(d, len))
                continue;
            printable(shown, sizeof(shown), d, len);
            note_add(p, TC_KIND_MALFORMED_CERTIFICATE, 0,
                     "its subjectAltName entry email:%s is not a mailbox "
                     "address (RFC 5280 section 4.2.1.6)", shown);
            listed++;
        }
    }
    GENERAL_NAMES_free(gens);
}

/* Do a CN and a dNSName name the same host but differ in ASCII letter
 * case only? */
static int dns_same_host(const unsigned char *cn, size_t cnlen,
                         const unsigned char *san, size_t sanlen)
{
    return span_ieq(cn, cnlen, san, sanlen);
}

/* A CN that is a domain name written with Unicode labels: dots, letters,
 * digits, hyphens, and at least one non-ASCII byte, no spaces. */
static int cn_is_unicode_domain(const unsigned char *cn, size_t len)
{
    int dot = 0, high = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = cn[i];
        if (c == '.')
            dot = 1;
        else if (c >= 0x80)
            high = 1;
        else if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                   (c >= '0' && c <= '9') || c == '-' || c == '*'))
            return 0;
    }
    return dot && high;
}

/* Parses a CN as an IP address the way lenient parsers do (inet_aton
 * takes 0xC0A80101 and 192.168.001.001); 4 or 16 bytes, or 0. */
static int cn_as_ip(const char *cn, unsigned char out[16])
{
    struct in_addr a4;
    if (strchr(cn, ':') != NULL)
        return inet_pton(AF_INET6, cn, out) == 1 ? 16 : 0;
    if (strchr(cn, '.') == NULL && !(cn[0] == '0' && (cn[1] == 'x' || cn[1] == 'X')))
        return 0;   /* a bare number is not read as an address here */
    if (inet_aton(cn, &a4) == 0)
        return 0;
    memcpy(out, &a4.s_addr, 4);
    return 4;
}

/* CA/B BR 7.1.4.3 (server certificates): a subject CN is a
 * character-for-character copy of a dNSName entry, or an iPAddress entry
 * in dotted-decimal / RFC 5952 text.  Enforced where the CN names the
 * same host as a SAN entry but writes it differently (letter case;
 * 0xC0A80101 or 192.168.001.001 for 192.168.1.1; uppercase or
 * uncompressed IPv6), and for a CN that is a Unicode domain name, which
 * can never be a copy of a dNSName (those are ASCII, in xn-- form) and
 * which IDNA 2003 and 2008 may map to different hosts: names that two
 * parsers can read differently.  A CN naming some other host is left
 * alone, as browsers ignore the CN; see docs/conformance.md. */
static void rule_common_name(pol *p, X509 *x, int depth, int role)
{
    if (p->params->purpose != TC_PURPOSE_SERVER)
        return;
    GENERAL_NAMES *gens = X509_get_ext_d2i(x, NID_subject_alt_name, NULL, NULL);
    if (gens == NULL)
        return;     /* no SAN: reported by the SAN and hostname checks */
    X509_NAME *subj = X509_get_subject_name(x);
    int n_gens = sk_GENERAL_NAME_num(gens);
    int checked = 0;
    for (int idx = X509_NAME_get_index_by_NID(subj, NID_commonName, -1);
         idx >= 0 && checked < MAX_CN_CHECKED;
         idx = X509_NAME_get_index_by_NID(subj, NID_commonName, idx), checked++) {
        unsigned char *utf8 = NULL;
        int len = ASN1_STRING_to_UTF8(&utf8,
                      X509_NAME_ENTRY_get_data(X509_NAME_get_entry(subj, idx)));
        if (len <= 0 || len > 253 || memchr(utf8, 0, (size_t)len) != NULL) {
            OPENSSL_free(utf8);
            continue;
        }
        char cn[256], ip[64];
        unsigned char addr[16];
        memcpy(cn, utf8, (size_t)len);
        cn[len] = '\0';
        OPENSSL_free(utf8);
        int alen = cn_as_ip(cn, addr), exact = 0, same = -1;
        for (int i = 0; i < n_gens && !exact; i++) {
            const GENERAL_NAME *g = sk_GENERAL_NAME_value(gens, i);
            if (g->type == GEN_DNS) {
                const unsigned char *d = ASN1_STRING_get0_data(g->d.dNSName);
                size_t dlen = (size_t)ASN1_STRING_length(g->d.dNSName);
                if (dlen == (size_t)len && memcmp(d, cn, dlen) == 0)
                    exact = 1;
                else if (alen == 0 && same < 0 &&
                         dns_same_host((const unsigned char *)cn, (size_t)len, d, dlen))
                    same = i;
            } else if (g->type == GEN_IPADD && ip_text(g->d.iPAddress, ip, sizeof(ip))) {
                if (strcmp(ip, cn) == 0)
                    exact = 1;
                else if (alen > 0 && same < 0 &&
                         ASN1_STRING_length(g->d.iPAddress) == alen &&
                         memcmp(ASN1_STRING_get0_data(g->d.iPAddress), addr, (size_t)alen) == 0)
                    same = i;
            }
        }
        if (!exact && same < 0 &&
            cn_is_unicode_domain((const unsigned char *)cn, (size_t)len)) {
            char shown[400];
            printable(shown, sizeof(shown), (const unsigned char *)cn, (size_t)len);
            note_add(p, TC_KIND_MALFORMED_CERTIFICATE, 0,
                     "its subject CN \"%s\" is a domain name in Unicode form; "
                     "CA/B BR 7.1.4.3 requires the CN to be a copy of a dNSName "
                     "entry, and those are ASCII (the xn-- form), so that no two "
                     "parsers read it differently", shown);
            continue;
        }
        if (exact || same < 0)
            continue;
        const GENERAL_NAME *g = sk_GENERAL_NAME_value(gens, same);
        char shown[400], san[400];
        printable(shown, sizeof(shown), (const unsigned char *)cn, (size_t)len);
        if (g->type == GEN_DNS)
            printable(san, sizeof(san), ASN1_STRING_get0_data(g->d.dNSName),
                      (size_t)ASN1_STRING_length(g->d.dNSName));
        else if (!ip_text(g->d.iPAddress, san, sizeof(san)))
            strcpy(san, "?");
        note_add(p, TC_KIND_MALFORMED_CERTIFICATE, 0,
                 "its subject CN \"%s\" names the same host as its "
                 "subjectAltName entry %s%s but is written differently; CA/B BR "
                 "7.1.4.3 requires the CN to be a character-for-character copy "
                 "(%s), so that no two parsers read it differently", shown,
                 g->type == GEN_DNS ? "DNS:" : "IP:", san,
                 g->type == GEN_DNS ? "same letter case"
                                    : "dotted decimal, or RFC 5952 for IPv6");
    }
    GENERAL_NAMES_free(gens);
}

/* RFC 5280 4.2.1.10: name constraints only in CA certificates; in a CA,
 * at least one non-empty list, and well-formed DNS constraints.  A
 * non-critical nameConstraints is accepted (CA/B BR 7.1.2.5.2 allows it,
 * browsers accept it), and so is a DNS constraint with a leading dot
 * (".example.com"): RFC 5280 does not define it, but Chrome, Firefox, Go
 * and OpenSSL read it as "subdomains of" and private CAs use it. */
static void rule_name_constraints(pol *p, X509 *x, int depth, int role)
{
    int crit = -1, idx = X509_get_ext_by_NID(x, NID_name_constraints, -1);
    if (idx < 0)
        return;
    if (!is_ca(x)) {
        note_add(p, TC_KIND_MALFORMED_CERTIFICATE, 0,
                 "it carries a nameConstraints extension, which RFC 5280 "
                 "section 4.2.1.10 allows only in CA certificates");
        return;
    }
    NAME_CONSTRAINTS *nc = X509_get_ext_d2i(x, NID_name_constraints, &crit, NULL);
    if (nc == NULL)
        return;     /* undecodable: see rule_extensions_decode */
    int np = nc->permittedSubtrees ? sk_GENERAL_SUBTREE_num(nc->permittedSubtrees) : -1;
    int ne = nc->excludedSubtrees ? sk_GENERAL_SUBTREE_num(nc->excludedSubtrees) : -1;
    if (np <= 0 && ne <= 0)
        note_add(p, TC_KIND_INVALID_CA, 0,
                 "its nameConstraints extension lists neither permitted nor "
                 "excluded names; RFC 5280 section 4.2.1.10 and CA/B BR "
                 "7.1.2.5.2 require at least one");
    else if (np == 0 || ne == 0)
        note_add(p, TC_KIND_INVALID_CA, 0,
                 "its nameConstraints extension has an empty %s list; RFC 5280 "
                 "section 4.2.1.10 requires each list present to name at least "
                 "one subtree", np == 0 ? "permitted" : "excluded");
    NAME_CONSTRAINTS_free(nc);
}

/* CA/B BR 6.1.5 and 7.1.3.1, and what browsers accept: RSA of at least
 * 2048 bits in whole bytes; ECDSA on P-256, P-384 or P-521 (named);
 * no DSA.  Ed25519 and Ed448 (RFC 8410) are let through for private
 * PKIs. */
static void rule_public_key(pol *p, X509 *x, int depth, int role)
{
    EVP_PKEY *k = X509_get0_pubkey(x);
    if (k == NULL) {
        note_add(p, TC_KIND_MALFORMED_CERTIFICATE, 0,
                 "its public key cannot be decoded");
        return;
    }
    int bits = EVP_PKEY_get_bits(k);
    switch (EVP_PKEY_get_base_id(k)) {
    case EVP_PKEY_RSA:
    case EVP_PKEY_RSA_PSS:
        if (bits < 2048)
            note_add(p, TC_KIND_WEAK_KEY, KEY_TOO_SMALL(depth), "%d-bit RSA", bits);
        else if (bits % 8 != 0)
            note_add(p, TC_KIND_WEAK_KEY, 0,
                     "%d-bit RSA (a modulus that is not a whole number of "
                     "bytes, which CA/B BR 6.1.5 forbids)", bits);
        break;
    case EVP_PKEY_EC: {
        static const char *const CURVES[] = { "prime256v1", "secp384r1", "secp521r1" };
        char group[80];
        size_t glen = 0;
        if (EVP_PKEY_get_group_name(k, group, sizeof(group), &glen) != 1 || glen == 0) {
            note_add(p, TC_KIND_MALFORMED_CERTIFICATE, X509_V_ERR_EC_KEY_EXPLICIT_PARAMS,
                     "its %d-bit EC key spells out explicit curve parameters "
                     "instead of naming a curve, which CA/B BR 7.1.3.1.2 "
                     "forbids", bits);
            break;
        }
        size_t i;
        for (i = 0; i < sizeof(CURVES) / sizeof(CURVES[0]); i++)
            if (strcmp(group, CURVES[i]) == 0)
                break;
        if (i == sizeof(CURVES) / sizeof(CURVES[0]))
            note_add(p, TC_KIND_WEAK_KEY, KEY_TOO_SMALL(depth),
                     "%d-bit EC (curve %s; clients accept only P-256, P-384 "
                     "and P-521, CA/B BR 6.1.5)", bits, group);
        break;
    }
    case EVP_PKEY_DSA:
        note_add(p, TC_KIND_WEAK_KEY, KEY_TOO_SMALL(depth),
                 "%d-bit DSA (DSA, which browsers no longer accept and CA/B "
                 "BR 6.1.5 forbids)", bits);
        break;
    default:
        break;
    }
}

/* Is t in the encoding RFC 5280 4.1.2.5 requires: UTCTime YYMMDDHHMMSSZ
 * through 2049, GeneralizedTime YYYYMMDDHHMMSSZ from 2050? */
/* *issuer_only: the encoding is valid but not the one RFC 5280 tells
 * CAs to use (GeneralizedTime before 2050), which validators accept. */
static const char *time_encoding_error(const ASN1_TIME *t, int *issuer_only)
{
    const unsigned char *d = ASN1_STRING_get0_data(t);
    int len = ASN1_STRING_length(t), digits = 0;
    *issuer_only = 0;
    while (digits < len && d[digits] >= '0' && d[digits] <= '9')
        digits++;
    if (ASN1_STRING_type(t) == V_ASN1_UTCTIME) {
        if (len != 13 || digits != 12 || d[12] != 'Z')
            return "a UTCTime not of the form YYMMDDHHMMSSZ";
        return NULL;
    }
    if (len != 15 || digits != 14 || d[14] != 'Z')
        return "a GeneralizedTime not of the form YYYYMMDDHHMMSSZ";
    int year = (d[0] - '0') * 1000 + (d[1] - '0') * 100 + (d[2] - '0') * 10 + (d[3] - '0');
    if (year < 2050) {
        *issuer_only = 1;
        return "a GeneralizedTime for a year before 2050, where RFC 5280 section 4.1.2.5 "
               "tells CAs to use UTCTime; validators read both";
    }
    return NULL;
}

/* Not anchors: a root of the public store uses GeneralizedTime before
 * 2050.  A time that does not follow its encoding is malformed; a valid
 * GeneralizedTime where a UTCTime belongs is the issuer's deviation. */
static void rule_validity_encoding(pol *p, X509 *x, int depth, int role)
{
    const ASN1_TIME *times[2] = { X509_get0_notBefore(x), X509_get0_notAfter(x) };
    static const char *const field[2] = { "notBefore", "notAfter" };
    for (int i = 0; i < 2; i++) {
        int issuer_only;
        const char *why = time_encoding_error(times[i], &issuer_only);
        if (why == NULL)
            continue;
        if (issuer_only)
            note_add(p, TC_KIND_PROFILE_DEVIATION, 0, "its %s is %s", field[i], why);
        else
            note_add(p, TC_KIND_MALFORMED_CERTIFICATE, 0, "its %s is %s (RFC 5280 section 4.1.2.5)",
                     field[i], why);
    }
}

/* The rules, in the order their findings are listed. */
static const struct rule {
    rule_fn fn;
    int roles;
} RULES[] = {
    { rule_version, ROLE_ANY },
    { rule_serial, ROLE_ISSUED },
    { rule_signature_fields, ROLE_ANY },
    { rule_names, ROLE_ANY },
    { rule_validity_encoding, ROLE_ISSUED },
    { rule_duplicate_extensions, ROLE_ANY },
    { rule_extensions_decode, ROLE_ANY },
    { rule_criticality, ROLE_ANY },
    { rule_nonempty_lists, ROLE_ANY },
    { rule_authority_key_id, ROLE_ANY },
    { rule_subject_key_id, ROLE_INTERMEDIATE },
    { rule_basic_constraints, ROLE_ANY },
    { rule_name_constraints, ROLE_ANY },
    { rule_extended_key_usage, ROLE_ISSUED },
    { rule_subject_alt_name, ROLE_LEAF },
    { rule_common_name, ROLE_LEAF },
    { rule_public_key, ROLE_ANY },
};

/* ------------------------------------------------------------------ */
/* Rules about the path                                                */
/* ------------------------------------------------------------------ */

/* A wildcard SAN "*.base" covers every name one label below base.  If a
 * CA above excludes such a name, the wildcard reaches into the excluded
 * namespace: OpenSSL compares "*.example.com" as a literal string and
 * misses it (CVE-2025-61727; RFC 5280 4.2.1.10 read with RFC 9525).  The
 * leaf is refused, as Go and rustls-webpki now do. */
static void check_wildcards_vs_exclusions(pol *p)
{
    X509 *leaf = sk_X509_value(p->path, 0);
    GENERAL_NAMES *gens = X509_get_ext_d2i(leaf, NID_subject_alt_name, NULL, NULL);
    if (gens == NULL)
        return;
    long budget = MAX_NAME_CHECKS;
    int found = 0;
    for (int d = 1; d < p->n && budget > 0; d++) {
        X509 *ca = sk_X509_value(p->path, d);
        if (!has_ext(ca, NID_name_constraints))
            continue;
        NAME_CONSTRAINTS *nc = X509_get_ext_d2i(ca, NID_name_constraints, NULL, NULL);
        if (nc == NULL)
            continue;   /* reported by rule_name_constraints */
        for (int i = 0; i < sk_GENERAL_NAME_num(gens) && budget > 0; i++) {
            const GENERAL_NAME *g = sk_GENERAL_NAME_value(gens, i);
            if (g->type != GEN_DNS)
                continue;
            const unsigned char *w = ASN1_STRING_get0_data(g->d.dNSName);
            size_t wlen = (size_t)ASN1_STRING_length(g->d.dNSName);
            if (wlen < 3 || w[0] != '*' || w[1] != '.')
                continue;
            const unsigned char *base = w + 2;
            size_t blen = wlen - 2;
            for (int j = 0; j < sk_GENERAL_SUBTREE_num(nc->excludedSubtrees) && budget > 0; j++, budget--) {
                const GENERAL_SUBTREE *st = sk_GENERAL_SUBTREE_value(nc->excludedSubtrees, j);
                if (st->base == NULL || st->base->type != GEN_DNS)
                    continue;
                const unsigned char *c = ASN1_STRING_get0_data(st->base->d.dNSName);
                size_t clen = (size_t)ASN1_STRING_length(st->base->d.dNSName);
                if (clen > 0 && c[0] == '.') {
                    c++;
                    clen--;
                }
                /* c must be exactly "label.base". */
                if (clen < blen + 2 || c[clen - blen - 1] != '.' ||
                    !span_ieq(c + clen - blen, blen, base, blen) ||
                    memchr(c, '.', clen - blen - 1) != NULL)
                    continue;
                char ws[400], cs[400], who[600];
                tc_cert_vars cv;
                tc_render_vars vars;
                memset(&vars, 0, sizeof(vars));
                tc_cert_vars_fill_purpose(&cv, ca, d, p->now, p->params->purpose, &vars);
                printable(ws, sizeof(ws), w, wlen);
                printable(cs, sizeof(cs), c, clen);
                snprintf(who, sizeof(who), "%s", vars.cert ? vars.cert : "a CA above it");
                note_add(p, TC_KIND_NAME_CONSTRAINTS_VIOLATION, 0,
                         "its wildcard name %s covers %s, which %s excludes "
                         "(a client matching the wildcard would accept a name "
                         "the CA may not issue for; CVE-2025-61727)", ws, cs, who);
                found = 1;
                budget = 0;
            }
        }
        NAME_CONSTRAINTS_free(nc);
    }
    if (budget <= 0 && !found)
        note_add(p, TC_KIND_NAME_CONSTRAINTS_VIOLATION, 0,
                 "it has more names and its CAs more constraints than can be "
                 "checked in reasonable time (%ld comparisons); refused as a "
                 "denial-of-service guard", MAX_NAME_CHECKS);
    GENERAL_NAMES_free(gens);
}

/* OpenSSL refuses to compare more than 2^20 (names x constraints) per
 * certificate (NAME_CHECK_MAX in crypto/x509/v3_ncons.c) and reports it
 * as an unspecified error; say what it is.  Names: subject attributes
 * plus SAN entries; constraints: permitted plus excluded subtrees. */
static void check_constraint_volume(pol *p, int depth)
{
    X509 *x = sk_X509_value(p->path, depth);
    if (depth > 0 && (xflags(x) & EXFLAG_SI))
        return;     /* RFC 5280 6.1.3 (b): self-issued CAs are not checked */
    GENERAL_NAMES *gens = X509_get_ext_d2i(x, NID_subject_alt_name, NULL, NULL);
    long names = X509_NAME_entry_count(X509_get_subject_name(x))
                 + (gens ? sk_GENERAL_NAME_num(gens) : 0);
    GENERAL_NAMES_free(gens);
    for (int d = depth + 1; d < p->n && names > 0; d++) {
        X509 *ca = sk_X509_value(p->path, d);
        if (!has_ext(ca, NID_name_constraints))
            continue;
        NAME_CONSTRAINTS *nc = X509_get_ext_d2i(ca, NID_name_constraints, NULL, NULL);
        if (nc == NULL)
            continue;
        long cons = (long)sk_GENERAL_SUBTREE_num(nc->permittedSubtrees)
                    + sk_GENERAL_SUBTREE_num(nc->excludedSubtrees);
        NAME_CONSTRAINTS_free(nc);
        if (cons > MAX_NAME_CHECKS / names) {
            note_add(p, TC_KIND_NAME_CONSTRAINTS_VIOLATION, 0,
                     "it has %ld names and a CA above it %ld name constraints, "
                     "more than the %ld comparisons a verifier will make; refused "
                     "as a denial-of-service guard, so its names cannot be shown "
                     "to be allowed", names, cons, MAX_NAME_CHECKS);
            return;
        }
    }
}

/* RFC 5280 5.2.3: a CRL carries a CRLNumber.  A CRL without one, from the
 * issuer of a certificate in the path, is not one revocation can be
 * judged by (OpenSSL checks that it is non-critical, not that it is
 * there). */
static tc_status check_crls(pol *p)
{
    STACK_OF(X509_CRL) *crls = p->params->crls;
    for (int i = 0; crls != NULL && i < sk_X509_CRL_num(crls); i++) {
        X509_CRL *crl = sk_X509_CRL_value(crls, i);
        if (X509_CRL_get_ext_by_NID(crl, NID_crl_number, -1) >= 0)
            continue;
        for (int d = 0; d < p->n - 1; d++) {
            X509 *x = sk_X509_value(p->path, d);
            if (X509_NAME_cmp(X509_CRL_get_issuer(crl), X509_get_issuer_name(x)) != 0)
                continue;
            note_add(p, TC_KIND_CHAIN_INVALID, 0,
                     "the CRL its issuer published has no CRLNumber extension, "
                     "which RFC 5280 section 5.2.3 requires, so its revocation "
                     "status cannot be judged");
            if (notes_flush(p, d, NULL) != TC_OK)
                return TC_FAIL;
        }
    }
    return TC_OK;
}

/* ------------------------------------------------------------------ */
/* Over the whole path                                                 */
/* ------------------------------------------------------------------ */

/* The matcher's reason as a fragment after "is not valid for HOST: ". */
static void reason_fragment(char *dst, size_t n, const char *src)
{
    snprintf(dst, n, "%s", src);
    size_t len = strlen(dst);
    while (len > 0 && (dst[len - 1] == '.' || dst[len - 1] == ' '))
        dst[--len] = '\0';
    /* "The ..." -> "the ...", but leave "CN", "IPv6", "SAN" alone. */
    if (dst[0] >= 'A' && dst[0] <= 'Z' && dst[1] >= 'a' && dst[1] <= 'z')
        dst[0] = (char)(dst[0] - 'A' + 'a');
}

static tc_status check_validity_period(const tc_judge *j, tc_error *err)
{
    /* OpenSSL checks every certificate's dates already; this keeps the
     * rule whole whatever path OpenSSL took (merged by (kind, depth)). */
    for (int i = 0; i < sk_X509_num(j->path); i++) {
        X509 *x = sk_X509_value(j->path, i);
        int64_t nb, na;
        if (!tc_asn1_time_unix(X509_get0_notBefore(x), &nb)
            || !tc_asn1_time_unix(X509_get0_notAfter(x), &na))
            continue;   /* OpenSSL reports the bad encoding (13, 14) */
        /* RFC 5280 section 4.1.2.5: notBefore through notAfter, inclusive. */
        if (na < j->now && tc_judge_add(j, TC_KIND_EXPIRED, i, x, NULL, 0, "", err) != TC_OK)
            return TC_FAIL;
        if (nb > j->now && tc_judge_add(j, TC_KIND_NOT_YET_VALID, i, x, NULL, 0, "", err) != TC_OK)
            return TC_FAIL;
    }
    return TC_OK;
}

static tc_status check_weak_signatures(const tc_judge *j, tc_error *err)
{
    int n = sk_X509_num(j->path);
    char detail[256];
    for (int i = 0; i < n; i++) {
        X509 *x = sk_X509_value(j->path, i);
        /* A trust anchor's own signature is never checked by anyone: the
         * anchor is trusted for its key, not its signature.  Asked only
         * of a weak signature: checking a self-signature costs as much as
         * a handshake's signature check, on every live check. */
        if (tc_fact_weak_signature(x, detail, sizeof(detail))
            && !(i == n - 1 && j->anchored && tc_cert_self_signed(x))
            && tc_judge_add(j, TC_KIND_WEAK_SIGNATURE, i, x, NULL, 0, detail, err) != TC_OK)
            return TC_FAIL;
    }
    return TC_OK;
}

static tc_status check_expiry_window(const tc_judge *j, tc_error *err)
{
    const tc_verify_params *p = j->params;
    for (int i = 0; i < sk_X509_num(j->path); i++) {
        X509 *x = sk_X509_value(j->path, i);
        int64_t nb, na;
        if (!tc_asn1_time_unix(X509_get0_notBefore(x), &nb)
            || !tc_asn1_time_unix(X509_get0_notAfter(x), &na) || na < j->now)
            continue;   /* unreadable, or already expired: not a warning */
        int64_t left = na - j->now, life = na - nb;
        int by_days = p->min_days >= 0 && left < (int64_t)p->min_days * 86400;
        int by_share = p->min_remaining > 0 && life > 0
                       && (double)left < p->min_remaining * (double)life;
        if (!by_days && !by_share)
            continue;
        char detail[200], share[120] = "";
        if (by_share) {
            long long pct10 = (long long)(p->min_remaining * 1000.0 + 0.5);
            long long life_days = (long long)((life + 43200) / 86400);
            if (pct10 % 10 == 0)
                snprintf(share, sizeof(share), "less than %lld%% of its %lld-day lifetime left",
                         pct10 / 10, life_days);
            else
                snprintf(share, sizeof(share), "less than %lld.%lld%% of its %lld-day lifetime left",
                         pct10 / 10, pct10 % 10, life_days);
        }
        if (by_days && by_share)
            snprintf(detail, sizeof(detail), " (less than the %d days required, and %s)",
                     p->min_days, share);
        else if (by_days)
            snprintf(detail, sizeof(detail), " (less than the %d days required)", p->min_days);
        else
            snprintf(detail, sizeof(detail), " (%s)", share);
        if (tc_judge_add(j, TC_KIND_EXPIRES_SOON, i, x, NULL, 0, detail, err) != TC_OK)
            return TC_FAIL;
    }
    return TC_OK;
}

static tc_status check_hostname(const tc_judge *j, X509 *leaf, tc_error *err)
{
    const char *host = j->report->hostname;
    if (host == NULL)
        return TC_OK;
    tc_host_match m;
    memset(&m, 0, sizeof(m));
    if (tc_hostname_check(leaf, host, strlen(host), &m, err) != TC_OK)
        return TC_FAIL;
    if (m.matched)
        return TC_OK;
    char detail[sizeof(m.reason)];
    reason_fragment(detail, sizeof(detail), m.reason[0] ? m.reason
                    : "none of its subjectAltName entries covers it");
    return tc_judge_add(j, TC_KIND_HOSTNAME_MISMATCH, 0, leaf, NULL, 0, detail, err);
}

/* The caller's max_depth counts intermediates, and like RFC 5280 6.1.4(l)
 * for pathLenConstraint it does not count self-issued ones (a CA's key
 * rollover certificate is not another CA); the leaf and the anchor never
 * count.  OpenSSL's own depth limit (code 22, worded by classify.c) cuts
 * longer paths before they are built; this catches the rest exactly. */
static tc_status check_max_depth(const tc_judge *j, tc_error *err)
{
    int n = sk_X509_num(j->path), have = 0;
    if (!j->anchored || j->params->max_depth < 0)
        return TC_OK;
    for (int i = 1; i < n - 1; i++)
        if (!(X509_get_extension_flags(sk_X509_value(j->path, i)) & EXFLAG_SI))
            have++;
    return have > j->params->max_depth ? tc_judge_max_depth(j, 0, have, err) : TC_OK;
}

/* Why the leaf may not serve the purpose (the words are classify.c's,
 * which also words OpenSSL's own purpose check, code 26, with them). */
static tc_status check_leaf_purpose(const tc_judge *j, tc_error *err)
{
    char detail[1024];
    X509 *leaf = sk_X509_value(j->path, 0);
    tc_fact_leaf_purpose(j, leaf, detail, sizeof(detail));
    if (!detail[0])
        return TC_OK;
    return tc_judge_add(j, TC_KIND_INVALID_PURPOSE, 0, leaf, NULL, 0, detail, err);
}

/* The checks over the whole path, in the order their problems amend. */
static tc_status check_path(const tc_judge *j, tc_error *err)
{
    if (check_max_depth(j, err) != TC_OK || check_leaf_purpose(j, err) != TC_OK
        || check_validity_period(j, err) != TC_OK || check_weak_signatures(j, err) != TC_OK
        || check_hostname(j, sk_X509_value(j->path, 0), err) != TC_OK
        || check_expiry_window(j, err) != TC_OK)
        return TC_FAIL;
    return TC_OK;
}

tc_status tc_policy_check(const tc_judge *j, tc_error *err)
{
    STACK_OF(X509) *path = j->path;
    /* Only the header is set: p.notes (about 40 KB) is written before it
     * is read (note_add), so zeroing it would only cost time and cache. */
    pol p;
    p.n_notes = 0;
    p.nomem = 0;
    p.j = j;
    p.report = j->report;
    p.path = path;
    p.params = j->params;
    p.err = err;
    p.n = path ? sk_X509_num(path) : 0;
    /* The time tc_verify measured from: one clock reading per report. */
    p.now = j->now;
    if (p.n == 0)
        return TC_OK;
    if (check_path(j, err) != TC_OK)
        return TC_FAIL;

    for (int d = 0; d < p.n; d++) {
        X509 *x = sk_X509_value(path, d);
        int role = d == 0 ? ROLE_LEAF : d == p.n - 1 ? ROLE_ANCHOR : ROLE_INTERMEDIATE;
        for (size_t r = 0; r < sizeof(RULES) / sizeof(RULES[0]); r++)
            if (RULES[r].roles & role)
                RULES[r].fn(&p, x, d, role);
        if (d == 0)
            check_wildcards_vs_exclusions(&p);
        if (d < p.n - 1)
            check_constraint_volume(&p, d);
        if (notes_flush(&p, d, NULL) != TC_OK)
            return TC_FAIL;
    }
    if (check_crls(&p) != TC_OK)
        return TC_FAIL;
    if (p.nomem)
        return tc_error_set(err, TC_E_NOMEM,
                            "out of memory checking the web-PKI rules of the chain");
    return TC_OK;
}
