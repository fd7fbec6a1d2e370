/*
 * verify.c - offline chain verification.
 *
 * 1. OpenSSL's X509_STORE_CTX builds and checks the path, with a verify
 *    callback that records every (code, depth, certificate) and lets
 *    validation go on, so one run yields every problem, not only the first.
 * 2. classify.c turns those codes into problem kinds (a table), and decides
 *    self_signed / untrusted_root / incomplete_chain from the path's shape.
 * 3. policy.c runs every check OpenSSL leaves to callers over that path:
 *    validity, weak signature hashes and keys, the leaf's purpose, the host
 *    name (hostname.c, never OpenSSL's matcher), the expiry window, the
 *    caller's max_depth, and the web-PKI profile rules; then served.c
 *    judges the chain as it was sent, and the problems are ordered.
 *
 * Choices, and why:
 *  - X509_V_FLAG_X509_STRICT always: RFC 5280 encoding rules OpenSSL only
 *    enforces on request (critical basicConstraints on CAs, key identifiers,
 *    empty names...) are rules every web client applies.
 *  - X509_V_FLAG_POLICY_CHECK always: certificate policies are processed
 *    as RFC 5280 section 6.1 says, with its defaults for the relying
 *    party (initial policy set anyPolicy, no explicit policy required,
 *    mapping and anyPolicy allowed), so only the CAs' own policyConstraints
 *    and inhibitAnyPolicy can make a path fail (invalid_policy).  OpenSSL
 *    3.0.8 and later bound the policy tree (CVE-2023-0464).
 *  - X509_V_FLAG_PARTIAL_CHAIN always: every certificate in the trust store
 *    is a trust anchor, self-signed or not.  That is what web-PKI clients do
 *    (Chrome, Firefox's mozilla::pkix, Go, rustls, pyca/cryptography all
 *    take any trusted certificate as an anchor, RFC 5280 section 6.1.1 (d)),
 *    and what a caller means by passing an intermediate as `trust`.  It
 *    changes nothing for the system store, which holds self-signed roots;
 *    the chain the server sends never makes anything trusted, because the
 *    flag only applies to certificates found in the store.
 *  - Validation time is always set explicitly (now, or params->at) so that
 *    OpenSSL and our own checks judge at the same instant.
 *  - max_depth is the number of intermediates allowed, anchor and leaf not
 *    counted; OpenSSL's X509_VERIFY_PARAM_set_depth has the same meaning
 *    (checked: depth 1 accepts root->I1->leaf and refuses root->I1->I2->leaf),
 *    but counts self-issued intermediates, which RFC 5280 section 6.1.4 (l)
 *    does not.  So OpenSSL gets max_depth plus the self-issued certificates
 *    sent, and the exact count is ours (tc_judge_max_depth).
 *  - With CRLs, revocation is checked wherever a CRL covers a certificate
 *    of the path (CRL_CHECK_ALL, so that an intermediate is checked too),
 *    and a certificate that no CRL given covers is a warning
 *    (revocation_not_checked), not a failure: `openssl verify -crl_check`
 *    checks the leaf alone and says nothing of the rest, `-crl_check_all`
 *    fails the whole chain for one CRL not given; neither says which
 *    certificates went unchecked.  A CRL that is there and cannot be used
 *    (expired, bad signature, its issuer not found) stays an error.
 *  - RFC 5280 section 6.3 in full: X509_V_FLAG_EXTENDED_CRL_SUPPORT
 *    (indirect CRLs, a cRLIssuer in the distribution point, CRLs signed by
 *    a key other than the certificate's issuer's, onlySomeReasons
 *    partitions, scopes) and X509_V_FLAG_USE_DELTAS (a delta CRL named by
 *    freshestCRL is read with its base).  OpenSSL finds a CRL's signer on
 *    the path or among the untrusted certificates, then validates the
 *    signer's own path to the same anchor.  So the untrusted set it gets
 *    is the chain sent, the certificates given with the CRLs
 *    (params->crl_certs) and the trust store's certificates named as a
 *    CRL's issuer; those extra certificates are for CRLs only: a path
 *    built through one is built again without them (attempt.borrowed).
 *  - The CRL signer's own path is validated by OpenSSL in a nested
 *    context (the same parameters); a CRL signer no CRL covers is
 *    accepted there as the path's certificates are (see nested_ok).
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <openssl/err.h>
#include <openssl/objects.h>
#include <openssl/x509v3.h>
#include "classify.h"
#include "text.h"

void tc_verify_params_init(tc_verify_params *p)
{
    memset(p, 0, sizeof(*p));
    p->purpose = TC_PURPOSE_SERVER;
    p->max_depth = -1;
    p->min_days = 30;
    p->min_remaining = 0;
}

/* OpenSSL's purpose for ours, and the EKU that purpose implies. */
static const struct { int x509_purpose; int eku_nid; } OSSL_PURPOSE[] = {
    [TC_PURPOSE_SERVER] = { X509_PURPOSE_SSL_SERVER, NID_server_auth },
    [TC_PURPOSE_CLIENT] = { X509_PURPOSE_SSL_CLIENT, NID_client_auth },
};

/* What the verify callback collects. */
typedef struct vstate {
    tc_verr *errs;
    size_t n, cap;
    int nomem;
} vstate;

static int vstate_push(vstate *st, int code, int depth, X509 *x)
{
    for (size_t i = 0; i < st->n; i++)
        if (st->errs[i].code == code && st->errs[i].depth == depth)
            return 1;
    if (st->n == st->cap) {
        size_t cap = st->cap ? st->cap * 2 : 8;
        tc_verr *e = realloc(st->errs, cap * sizeof(*e));
        if (e == NULL)
            return 0;
        st->errs = e;
        st->cap = cap;
    }
    if (x != NULL && !X509_up_ref(x))
        x = NULL;
    st->errs[st->n++] = (tc_verr){ code, depth, x };
    return 1;
}

static void vstate_clear(vstate *st)
{
    for (size_t i = 0; i < st->n; i++)
        X509_free(st->errs[i].cert);
    free(st->errs);
    memset(st, 0, sizeof(*st));
}

/* In the nested context that validates a CRL signer's path (OpenSSL's
 * check_crl_path): which errors do not make its CRL unusable.  A CRL
 * signer that no CRL covers is, like a certificate of the path, not
 * refused for it (OpenSSL also refuses to go one level deeper: the
 * CRL_PATH_VALIDATION_ERROR of a key rollover's new-key certificate,
 * whose CRL it signs itself, means the same).  Anything else (a revoked,
 * expired or wrongly issued signer, another anchor) stands, and the CRL
 * is not used: CRL_PATH_VALIDATION_ERROR.  (OpenSSL 3.0 does not apply
 * the TLS purpose to the signer: tests/test_crls.py has one for code
 * signing.) */
static int nested_ok(X509_STORE_CTX *ctx)
{
    switch (X509_STORE_CTX_get_error(ctx)) {
    case X509_V_ERR_UNABLE_TO_GET_CRL:
    case X509_V_ERR_DIFFERENT_CRL_SCOPE:
    case X509_V_ERR_CRL_PATH_VALIDATION_ERROR:
        return 1;
    default:
        return 0;
    }
}

/* Records the error and says "go on", so that every problem is found. */
static int record_error(int ok, X509_STORE_CTX *ctx)
{
    vstate *st = X509_STORE_CTX_get_app_data(ctx);
    if (ok)
        return 1;
    if (st == NULL)    /* a nested context (a CRL signer's path) */
        return X509_STORE_CTX_get0_parent_ctx(ctx) != NULL && nested_ok(ctx);
    /* OpenSSL goes on to read a CRL whose scope does not cover the
     * certificate once told to go on; its entries say nothing about it
     * (RFC 5280 section 6.3.3 (b)): no revocation from it.  Such a CRL
     * ends the search at its depth, so a revocation after it is its. */
    int depth = X509_STORE_CTX_get_error_depth(ctx);
    if (X509_STORE_CTX_get_error(ctx) == X509_V_ERR_CERT_REVOKED)
        for (size_t i = 0; i < st->n; i++)
            if (st->errs[i].code == X509_V_ERR_DIFFERENT_CRL_SCOPE && st->errs[i].depth == depth)
                return 1;
    if (!vstate_push(st, X509_STORE_CTX_get_error(ctx), depth,
                     X509_STORE_CTX_get_current_cert(ctx))) {
        st->nomem = 1;
        return 0;
    }
    return 1;
}

/* 1 when OpenSSL's purpose check applies: the caller asked for nothing
 * beyond the purpose, or the EKUs required include the purpose's own. */
static int use_openssl_purpose(const tc_verify_params *p)
{
    if (p->n_required_ekus == 0)
        return 1;
    ASN1_OBJECT *own = OBJ_nid2obj(OSSL_PURPOSE[p->purpose].eku_nid);
    for (size_t i = 0; i < p->n_required_ekus; i++) {
        ASN1_OBJECT *o = OBJ_txt2obj(p->required_ekus[i], 0);
        int same = o != NULL && OBJ_cmp(o, own) == 0;
        ASN1_OBJECT_free(o);
        if (same)
            return 1;
    }
    return 0;
}

/* One run of OpenSSL's path building and validation. */
typedef struct attempt {
    X509_STORE_CTX *ctx;
    vstate st;
    STACK_OF(X509) *path;      /* X509_STORE_CTX_get1_chain(), may be NULL */
    STACK_OF(X509) *all;       /* untrusted + CRL issuers (shallow), or NULL */
    STACK_OF(X509) *looked_up; /* the store's CRL issuers in all (owned) */
    int anchored;
    int borrowed;              /* the path went through a certificate given for CRLs only */
} attempt;

static void attempt_clear(attempt *a)
{
    vstate_clear(&a->st);
    X509_STORE_CTX_free(a->ctx);
    sk_X509_free(a->all);
    sk_X509_pop_free(a->looked_up, X509_free);
    sk_X509_pop_free(a->path, X509_free);
    memset(a, 0, sizeof(*a));
}

static int sk_has(STACK_OF(X509) *sk, X509 *x)
{
    for (int i = 0; i < sk_X509_num(sk); i++)
        if (X509_cmp(sk_X509_value(sk, i), x) == 0)
            return 1;
    return 0;
}

static int push_new(STACK_OF(X509) *sk, X509 *x)
{
    return sk_has(sk, x) || sk_X509_push(sk, x) > 0;
}

/* a->all: the chain sent, then the certificates given with the CRLs, then
 * the trust store's certificates named as the issuer of a CRL given, for
 * OpenSSL to find each CRL's signer among (see the top of the file); the
 * references the store's lookup gave are kept in a->looked_up.  0: out
 * of memory. */
static int crl_issuers_add(attempt *a, STACK_OF(X509) *untrusted, const tc_verify_params *params)
{
    if ((a->all = sk_X509_dup(untrusted)) == NULL
        || (a->looked_up = sk_X509_new_null()) == NULL)
        return 0;
    for (int i = 0; i < sk_X509_num(params->crl_certs); i++)
        if (!push_new(a->all, sk_X509_value(params->crl_certs, i)))
            return 0;
    for (int i = 0; i < sk_X509_CRL_num(params->crls); i++) {
        ERR_set_mark();
        STACK_OF(X509) *named = X509_STORE_CTX_get1_certs(a->ctx,
                                    X509_CRL_get_issuer(sk_X509_CRL_value(params->crls, i)));
        ERR_pop_to_mark();
        int ok = 1;
        while (ok && sk_X509_num(named) > 0) {
            X509 *x = sk_X509_shift(named);
            if (sk_has(a->all, x)) {
                X509_free(x);
            } else if (!sk_X509_push(a->looked_up, x)) {
                X509_free(x);
                ok = 0;
            } else {
                ok = sk_X509_push(a->all, x) > 0;
            }
        }
        sk_X509_pop_free(named, X509_free);
        if (!ok)
            return 0;
    }
    return 1;
}

/* TC_FAIL only when OpenSSL could not be set up or memory ran out.
 * crl_issuers: give OpenSSL the CRL signers' certificates besides the
 * chain (crl_issuers_add). */
static tc_status attempt_run(attempt *a, const tc_trust *trust, X509 *leaf,
                             STACK_OF(X509) *untrusted, const tc_verify_params *params,
                             int64_t now, int depth, int crl_issuers, tc_error *err)
{
    memset(a, 0, sizeof(*a));
    if ((a->ctx = X509_STORE_CTX_new()) == NULL)
        return tc_error_set(err, TC_E_NOMEM, "out of memory verifying the chain");
    if (!X509_STORE_CTX_init(a->ctx, tc_trust_store(trust), leaf, untrusted))
        return tc_error_set(err, TC_E_INTERNAL, "OpenSSL could not set up chain verification");
    X509_VERIFY_PARAM *vp = X509_STORE_CTX_get0_param(a->ctx);
    unsigned long flags = X509_V_FLAG_X509_STRICT | X509_V_FLAG_PARTIAL_CHAIN
                          | X509_V_FLAG_POLICY_CHECK;
    if (params->crls != NULL) {
        flags |= X509_V_FLAG_CRL_CHECK | X509_V_FLAG_CRL_CHECK_ALL
                 | X509_V_FLAG_EXTENDED_CRL_SUPPORT | X509_V_FLAG_USE_DELTAS;
        if (crl_issuers) {
            if (!crl_issuers_add(a, untrusted, params))
                return tc_error_set(err, TC_E_NOMEM, "out of memory verifying the chain");
            X509_STORE_CTX_set0_untrusted(a->ctx, a->all);
        }
    }
    if (!X509_VERIFY_PARAM_set_flags(vp, flags))
        return tc_error_set(err, TC_E_INTERNAL, "OpenSSL refused the verification flags");
    X509_VERIFY_PARAM_set_time(vp, (time_t)now);
    /* The relying party's initial policy set: anyPolicy (RFC 5280 6.1.1
     * (c)).  OpenSSL's empty default accepts no policy at all once a CA
     * requires an explicit one.  OBJ_nid2obj's object is static: the
     * parameter's eventual ASN1_OBJECT_free of it does nothing. */
    if (!X509_VERIFY_PARAM_add0_policy(vp, OBJ_nid2obj(NID_any_policy)))
        return tc_error_set(err, TC_E_NOMEM, "out of memory setting up chain verification");
    if (depth >= 0)
        X509_VERIFY_PARAM_set_depth(vp, depth);
    if (use_openssl_purpose(params)
        && !X509_STORE_CTX_set_purpose(a->ctx, OSSL_PURPOSE[params->purpose].x509_purpose))
        return tc_error_set(err, TC_E_INTERNAL, "OpenSSL refused the verification purpose");
    if (params->crls != NULL)
        X509_STORE_CTX_set0_crls(a->ctx, params->crls);
    X509_STORE_CTX_set_verify_cb(a->ctx, record_error);
    if (tc_chain_step_applies(flags))
        X509_STORE_CTX_set_verify(a->ctx, tc_chain_step);
    if (!X509_STORE_CTX_set_app_data(a->ctx, &a->st))
        return tc_error_set(err, TC_E_NOMEM, "out of memory verifying the chain");

    int ok = X509_verify_cert(a->ctx);
    if (a->st.nomem)
        return tc_error_set(err, TC_E_NOMEM, "out of memory verifying the chain");
    if (ok < 0) {
        /* Stopped without asking the callback (allocation failure, a store
         * that cannot be searched): record why. */
        int code = X509_STORE_CTX_get_error(a->ctx);
        if (code == X509_V_ERR_OUT_OF_MEM)
            return tc_error_set(err, TC_E_NOMEM, "out of memory verifying the chain");
        if (code == X509_V_OK)
            code = X509_V_ERR_UNSPECIFIED;
        if (!vstate_push(&a->st, code, X509_STORE_CTX_get_error_depth(a->ctx),
                         X509_STORE_CTX_get_current_cert(a->ctx)))
            return tc_error_set(err, TC_E_NOMEM, "out of memory verifying the chain");
    }
    a->path = X509_STORE_CTX_get1_chain(a->ctx);
    if (a->path != NULL && sk_X509_num(a->path) > 0)
        a->anchored = X509_STORE_CTX_get_num_untrusted(a->ctx) < sk_X509_num(a->path);
    if (a->all != NULL) {
        int nu = X509_STORE_CTX_get_num_untrusted(a->ctx);
        for (int i = 1; i < nu && i < sk_X509_num(a->path); i++)
            if (!sk_has(untrusted, sk_X509_value(a->path, i)))
                a->borrowed = 1;
    }
    return TC_OK;
}

/* Problems another path might avoid: no anchor, a broken link, or any
 * error above the leaf. */
static int attempt_doubtful(const attempt *a)
{
    if (!a->anchored)
        return 1;
    for (size_t i = 0; i < a->st.n; i++)
        if (a->st.errs[i].depth > 0 || tc_classify_blocks_trust(a->st.errs[i].code))
            return 1;
    return 0;
}

/* OpenSSL 3.0 builds one path and never backtracks (RFC 4158 path
 * building does).  When the path it built is doubtful, try again without
 * each sent intermediate of that path in turn, nearest the leaf first, and
 * keep the first alternative that is anchored and sound (e.g. the same
 * intermediate cross-signed under a CA whose name constraints allow the
 * leaf).  Bounded: at most MAX_ALTERNATIVES more runs, none for large
 * chains, so a hostile chain cannot make us spin. */
#define MAX_ALTERNATIVES 4
#define MAX_SENT_FOR_ALTERNATIVES 16

static tc_status try_alternatives(attempt *best, const tc_trust *trust, X509 *leaf,
                                  STACK_OF(X509) *untrusted, const tc_verify_params *params,
                                  int64_t now, int depth, int crl_issuers, tc_error *err)
{
    if (!attempt_doubtful(best) || best->path == NULL
        || sk_X509_num(untrusted) > MAX_SENT_FOR_ALTERNATIVES)
        return TC_OK;
    int tries = 0, n = sk_X509_num(best->path);
    STACK_OF(X509) *path = best->path;
    for (int i = 1; i < n && tries < MAX_ALTERNATIVES; i++) {
        X509 *drop = sk_X509_value(path, i);
        STACK_OF(X509) *fewer = sk_X509_new_null();
        int dropped = 0;
        if (fewer == NULL)
            return tc_error_set(err, TC_E_NOMEM, "out of memory verifying the chain");
        for (int k = 0; k < sk_X509_num(untrusted); k++) {
            X509 *x = sk_X509_value(untrusted, k);
            if (X509_cmp(x, drop) == 0)
                dropped = 1;
            else if (!sk_X509_push(fewer, x)) {
                sk_X509_free(fewer);
                return tc_error_set(err, TC_E_NOMEM, "out of memory verifying the chain");
            }
        }
        if (!dropped) {        /* came from the store: nothing to take away */
            sk_X509_free(fewer);
            continue;
        }
        attempt alt;
        tries++;
        tc_status st = attempt_run(&alt, trust, leaf, fewer, params, now, depth, crl_issuers, err);
        sk_X509_free(fewer);
        if (st != TC_OK) {
            attempt_clear(&alt);
            return TC_FAIL;
        }
        if (alt.path != NULL && !alt.borrowed && !attempt_doubtful(&alt)) {
            attempt_clear(best);
            *best = alt;
            return TC_OK;
        }
        attempt_clear(&alt);
    }
    return TC_OK;
}

/* A self-signed leaf is one thing to fix, not two: its purpose findings
 * (a CA certificate as the leaf, CA:TRUE, keyCertSign ...) go away with
 * it, so they join its explanation instead of standing as errors. */
static tc_status fold_into_self_signed(tc_report *r, tc_error *err)
{
    tc_problem *ss = NULL;
    for (size_t i = 0; i < r->n_problems; i++)
        if (r->problems[i].kind == TC_KIND_SELF_SIGNED && r->problems[i].depth == 0)
            ss = &r->problems[i];
    if (ss == NULL)
        return TC_OK;
    size_t w = 0;
    for (size_t i = 0; i < r->n_problems; i++) {
        tc_problem *p = &r->problems[i];
        if (p->kind == TC_KIND_INVALID_PURPOSE && p->depth == 0 && p->message != NULL) {
            size_t a = strlen(ss->message), b = strlen(p->message);
            char *m = malloc(a + 7 + b + 1);
            if (m == NULL)
                return tc_error_set(err, TC_E_NOMEM, "out of memory recording a problem");
            memcpy(m, ss->message, a);
            memcpy(m + a, " Also: ", 7);
            memcpy(m + a + 7, p->message, b + 1);
            if (m[a + 7] >= 'A' && m[a + 7] <= 'Z')
                m[a + 7] = (char)(m[a + 7] - 'A' + 'a');
            free(ss->message);
            ss->message = m;
            free(p->openssl_reason);
            free(p->message);
            free(p->fix);
            free(p->inspect_command);
            continue;
        }
        if (w != i) {
            if (ss == p)
                ss = &r->problems[w];
            r->problems[w] = *p;
        }
        w++;
    }
    r->n_problems = w;
    return TC_OK;
}

tc_status tc_verify(tc_report *report, const tc_trust *trust, STACK_OF(X509) *chain,
                    const tc_verify_params *params, tc_error *err)
{
    tc_status rv = TC_FAIL;
    tc_verify_params defaults;
    STACK_OF(X509) *given = NULL, *untrusted = NULL;
    attempt run = { 0 };
    char host[256];

    if (params == NULL) {
        tc_verify_params_init(&defaults);
        params = &defaults;
    }
    if (report == NULL)
        return tc_error_set(err, TC_E_INVALID, "no report was given to fill");
    if (chain == NULL || sk_X509_num(chain) == 0)
        return tc_error_set(err, TC_E_INVALID,
                            "the chain is empty: pass at least the %s's certificate",
                            params->purpose == TC_PURPOSE_CLIENT ? "client" : "server");
    for (int i = 0; i < sk_X509_num(chain); i++)
        if (sk_X509_value(chain, i) == NULL)
            return tc_error_set(err, TC_E_INVALID,
                                "certificate %d of the chain is missing (NULL)", i + 1);
    if (trust == NULL || tc_trust_store(trust) == NULL)
        return tc_error_set(err, TC_E_INVALID, "no trust store was given to verify against");
    if ((int)params->purpose < 0
        || (size_t)params->purpose >= sizeof(OSSL_PURPOSE) / sizeof(OSSL_PURPOSE[0]))
        return tc_error_set(err, TC_E_INVALID, "unknown purpose %d: use server or client",
                            (int)params->purpose);
    for (size_t i = 0; i < params->n_required_ekus; i++) {
        const char *name = params->required_ekus ? params->required_ekus[i] : NULL;
        ASN1_OBJECT *o = name ? OBJ_txt2obj(name, 0) : NULL;
        ASN1_OBJECT_free(o);
        if (o == NULL)
            return tc_error_set(err, TC_E_INVALID,
                                "'%s' is not an extended key usage name or OID (for example serverAuth, clientAuth or 1.3.6.1.5.5.7.3.1)",
                                name ? name : "(null)");
    }
    if (params->hostname != NULL) {
        int is_ip = 0;
        unsigned char ip[16];
        size_t ip_len = 0;
        if (tc_hostname_normalize(params->hostname, strlen(params->hostname), host,
                                  sizeof(host), &is_ip, ip, &ip_len, err) != TC_OK)
            return TC_FAIL;
    }
    int64_t now = params->has_at ? params->at : (int64_t)time(NULL);
    report->evaluated_at = now;

    ERR_set_mark();
    /* The report owns its copies; chain may be report->chain itself. */
    given = X509_chain_up_ref(chain);
    if (given == NULL)
        goto nomem;
    sk_X509_pop_free(report->chain, X509_free);
    report->chain = given;
    sk_X509_pop_free(report->path, X509_free);
    report->path = NULL;
    sk_X509_pop_free(report->verified, X509_free);
    report->verified = NULL;
    free(report->hostname);
    report->hostname = NULL;
    if (params->hostname != NULL && (report->hostname = strdup(host)) == NULL)
        goto nomem;
    free(report->file_arg);
    report->file_arg = NULL;
    if (params->file_name != NULL && (report->file_arg = tc_shell_quote(params->file_name)) == NULL)
        goto nomem;

    X509 *leaf = sk_X509_value(given, 0);
    int self_issued_sent = 0;
    if ((untrusted = sk_X509_new_null()) == NULL)
        goto nomem;
    for (int i = 1; i < sk_X509_num(given); i++) {
        X509 *x = sk_X509_value(given, i);
        if (!sk_X509_push(untrusted, x))
            goto nomem;
        if (X509_NAME_cmp(X509_get_subject_name(x), X509_get_issuer_name(x)) == 0)
            self_issued_sent++;
    }

    int depth = params->max_depth >= 0 ? params->max_depth + self_issued_sent : -1;
    /* The certificates given for CRLs must not build the path: if they
     * did, build it again without them (their CRLs may then go unused). */
    int crl_issuers = params->crls != NULL;
    if (attempt_run(&run, trust, leaf, untrusted, params, now, depth, crl_issuers, err) != TC_OK)
        goto done;
    if (run.borrowed) {
        attempt_clear(&run);
        crl_issuers = 0;
        if (attempt_run(&run, trust, leaf, untrusted, params, now, depth, 0, err) != TC_OK)
            goto done;
    }
    if (try_alternatives(&run, trust, leaf, untrusted, params, now, depth, crl_issuers, err) != TC_OK)
        goto done;

    /* The path as far as OpenSSL got; when it built nothing, the chain as
     * given, so that problem depths always index report->path. */
    int anchored = run.anchored;
    if (run.path != NULL && sk_X509_num(run.path) > 0) {
        report->path = run.path;
        run.path = NULL;
    } else if ((report->path = X509_chain_up_ref(given)) == NULL) {
        goto nomem;
    }

    tc_judge j = { report, trust, report->path, given, run.ctx, params, now, anchored };
    if (tc_classify_openssl(&j, run.st.errs, run.st.n, err) != TC_OK)
        goto done;

    if (tc_policy_check(&j, err) != TC_OK
        || tc_judge_served(&j, err) != TC_OK
        || tc_classify_vague(&j, run.st.errs, run.st.n, err) != TC_OK)
        goto done;

    int blocked = 0;
    for (size_t i = 0; i < run.st.n; i++)
        blocked |= tc_classify_blocks_trust(run.st.errs[i].code);
    /* Verified: a path to an anchor whose links all hold (see CLS_BLOCKS in
     * classify.c), as OpenSSL and the web-PKI rules of policy.c judge. */
    for (size_t i = 0; i < report->n_problems; i++)
        blocked |= tc_kind_breaks_path(report->problems[i].kind);
    if (fold_into_self_signed(report, err) != TC_OK)
        goto done;
    if (anchored && !blocked && (report->verified = X509_chain_up_ref(report->path)) == NULL)
        goto nomem;
    tc_report_sort(report);
    rv = TC_OK;
    goto done;

nomem:
    tc_error_set(err, TC_E_NOMEM, "out of memory verifying the chain");
done:
    attempt_clear(&run);
    sk_X509_free(untrusted);
    ERR_pop_to_mark();
    return rv;
}
