/*
 * classify.h - private interface between verify.c (runs OpenSSL's chain
 * validation), classify.c (turns OpenSSL verify codes into problem kinds,
 * and words every problem), policy.c (the checks OpenSSL leaves to
 * callers) and served.c (the chain as sent).
 */
#ifndef TC_CLASSIFY_H
#define TC_CLASSIFY_H
#include "internal.h"
#include "text.h"

/* One error OpenSSL reported through the verify callback. */
typedef struct tc_verr {
    int code;       /* X509_V_ERR_* */
    int depth;      /* X509_STORE_CTX_get_error_depth(): index into the path */
    X509 *cert;     /* X509_STORE_CTX_get_current_cert(), up-referenced; may be NULL */
} tc_verr;

/* What classifying and wording a problem needs; every pointer borrowed. */
typedef struct tc_judge {
    tc_report *report;
    const tc_trust *trust;
    STACK_OF(X509) *path;          /* == report->path, leaf first */
    STACK_OF(X509) *given;         /* the chain as the caller gave it, leaf first */
    X509_STORE_CTX *ctx;           /* the (finished) verification: store lookups */
    const tc_verify_params *params;
    int64_t now;                   /* validation time */
    int anchored;                  /* the path ends in a trust anchor */
} tc_judge;

/* 1 when OpenSSL reporting `code` means the path is not trusted (no anchor
 * reached, anchor rejected, chain cut short), so report->verified stays NULL. */
int tc_classify_blocks_trust(int code);

/* Turns OpenSSL's errors into problems: each code through the table in
 * classify.c; the "no trusted path" codes (2, 18, 19, 20, 21, 27) through
 * the shape of the path into self_signed / untrusted_root /
 * incomplete_chain (or invalid_ca when the issuer was sent but may not
 * sign certificates).  TC_FAIL only on allocation failure. */
TC_MUST_USE tc_status tc_classify_openssl(const tc_judge *j, const tc_verr *errs,
                                          size_t n, tc_error *err);

/* The errors that only say OpenSSL stopped (unspecified, store lookup),
 * worded only when the report has no error yet: call it last. */
TC_MUST_USE tc_status tc_classify_vague(const tc_judge *j, const tc_verr *errs,
                                        size_t n, tc_error *err);

/* Kinds that say the path itself does not hold (no anchor, a CA that may
 * not issue, a constraint broken, a revocation): any of them, from
 * OpenSSL or from policy.c, leaves report->verified NULL. */
int tc_kind_breaks_path(tc_kind kind);

/* "CN=api.example.com, O=Example" (or the RFC 4514 subject, or the first
 * SAN): the short label of x that messages use, escaped, into out. */
void tc_x509_label(char *out, size_t n, X509 *x);

/* Every check OpenSSL leaves to the caller (policy.c), on the path
 * OpenSSL built (leaf first, anchor last) or, when it built none, on the
 * chain as given: over the whole path (validity at the caller's time, weak
 * signatures, the leaf's purpose, the host name, the expiry window,
 * max_depth), then the web-PKI profile rules per certificate.  Run after
 * tc_classify_openssl: a rule OpenSSL also checks is said once, matched by
 * its verify code.  TC_FAIL only on allocation failure. */
TC_MUST_USE tc_status tc_policy_check(const tc_judge *j, tc_error *err);

/* The served chain as clients receive it (served.c): the Certificate
 * message's size against what clients accept and against TCP's initial
 * window, the server's certificate first, and what the chain should not
 * carry (duplicates, certificates off the path, the root, a wrong order).
 * Sets report->chain_bytes.  TC_FAIL only on allocation failure. */
TC_MUST_USE tc_status tc_judge_served(const tc_judge *j, tc_error *err);

/* revocation.c: CRLs in words.  Why no CRL given covers x, as a
 * fragment ("it needs a CRL from ..., published at URL; the CRL given
 * from ... covers CA certificates only ..."). */
void tc_words_no_crl(const tc_judge *j, X509 *x, tb *b);
/* Which CRL revoked x, when it is not simply its issuer's complete CRL
 * (", on the delta CRL number 2", ", on the indirect CRL of NAME"). */
void tc_words_revoked_from(X509 *x, X509_CRL *crl, tb *b);
/* "2026-01-02 03:04 UTC" (or "an unreadable date"): every date in words. */
void tc_format_time(char *out, size_t n, const ASN1_TIME *t);
/* When and why a certificate was revoked, the one wording for CRLs and
 * OCSP: " on 2026-01-02 03:04 UTC (reason: keyCompromise)" (the reason
 * only when it has a name).  reason: the CRLReason code, -1 when absent. */
void tc_words_revocation(tb *b, const ASN1_TIME *when, long reason);
/* The RFC 5280 name of a CRLReason code ("keyCompromise"), NULL when the
 * code has none. */
const char *tc_crl_reason_name(long reason);
/* 1 when crl's entries may be about x: from x's issuer, or indirect. */
int tc_crl_may_list(X509 *x, X509_CRL *crl);

/* Adds one problem, filling every template variable.  x NULL means
 * path[depth].  depth -1 is "not about one certificate of the path"; x may
 * still name the certificate meant, and cert_text (when not NULL) replaces
 * the {cert} description.  code is the OpenSSL verify code or 0. */
TC_MUST_USE tc_status tc_judge_add(const tc_judge *j, tc_kind kind, int depth,
                                   X509 *x, const char *cert_text, int code,
                                   const char *detail, tc_error *err);

/* Why the leaf may not serve the purpose (a CA certificate as the leaf, EKU
 * without the purpose's usage or without a required one, keyUsage that
 * rules out TLS), as a detail fragment; "" when nothing is wrong. */
void tc_fact_leaf_purpose(const tc_judge *j, X509 *leaf, char *out, size_t outlen);

/* Weak signature hash (MD5, SHA-1, ...) on x: 1 and "SHA-1
 * (sha1WithRSAEncryption)" in out; 0 when the hash is fine. */
int tc_fact_weak_signature(X509 *x, char *out, size_t outlen);

/* path_length_exceeded for the caller's max_depth (depth -1): `have` the
 * intermediates counted, 0 when unknown (OpenSSL cut the chain, code 22). */
TC_MUST_USE tc_status tc_judge_max_depth(const tc_judge *j, int code, int have,
                                         tc_error *err);

/* Self-signed: subject == issuer and its own key verifies its signature. */
int tc_cert_self_signed(X509 *x);

/* tc_asn1_time_unix: text.h. */

/* tc_cert_vars_fill with the role of depth 0 made explicit ("the server
 * certificate" or "the client certificate"). */
void tc_cert_vars_fill_purpose(tc_cert_vars *cv, X509 *x, int depth, int64_t now,
                               tc_purpose purpose, tc_render_vars *vars);

#endif /* TC_CLASSIFY_H */
