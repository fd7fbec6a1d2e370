/*
 * ocsp.c - a stapled OCSP response (RFC 6960), read and judged for the
 * leaf of a live check.
 *
 * The bytes come from the server: at most TC_OCSP_MAX of them are parsed,
 * as one DER OCSPResponse with nothing after it.  The response is verified
 * as a client that honours the staple does: it must be a basic response,
 * carry an entry whose CertID is the leaf's (under the leaf's issuer),
 * be signed by that issuer or by a responder it authorised (a certificate
 * it issued, with the OCSPSigning extended key usage, valid now: RFC 6960
 * section 4.2.2.2), and be current (thisUpdate not in the future,
 * nextUpdate not passed, with a few minutes of clock skew allowed).
 * Whether the issuer itself is trusted is the chain's verdict, judged by
 * tc_verify.
 */
#include <stdlib.h>
#include <string.h>
#include <openssl/err.h>
#include <openssl/ocsp.h>
#include <openssl/x509v3.h>
#include "internal.h"
#include "classify.h"

/* Clock skew allowed on thisUpdate / nextUpdate (OpenSSL's own default
 * for OCSP_check_validity). */
#define SKEW_S 300

void tc_ocsp_free(tc_ocsp *o)
{
    if (o == NULL)
        return;
    free(o->error);
    free(o);
}

static const char *status_name(int st)
{
    switch (st) {
    case V_OCSP_CERTSTATUS_GOOD:
        return "good";
    case V_OCSP_CERTSTATUS_REVOKED:
        return "revoked";
    case V_OCSP_CERTSTATUS_UNKNOWN:
        return "unknown";
    default:
        return NULL;
    }
}

/* The issuer of leaf: next on the path, else a certificate of the served
 * chain that issued it (X509_check_issued: names and key identifiers),
 * else the leaf itself when it is self-signed. */
static X509 *find_issuer(const tc_report *r, X509 *leaf)
{
    if (r->path != NULL && sk_X509_num(r->path) >= 2) {
        X509 *x = sk_X509_value(r->path, 1);
        if (X509_check_issued(x, leaf) == X509_V_OK)
            return x;
    }
    for (int i = 1; i < sk_X509_num(r->chain); i++) {
        X509 *x = sk_X509_value(r->chain, i);
        if (X509_check_issued(x, leaf) == X509_V_OK)
            return x;
    }
    /* A self-signed leaf answers for itself. */
    return tc_cert_self_signed(leaf) ? leaf : NULL;
}

/* OCSP_id_get0_info takes a non-const CertID it only reads; the getters
 * hand out const ones. */
static int certid_info(const OCSP_CERTID *cid, ASN1_OBJECT **md, ASN1_INTEGER **serial)
{
    union { const OCSP_CERTID *c; OCSP_CERTID *m; } u = { .c = cid };
    return cid != NULL && OCSP_id_get0_info(NULL, md, NULL, serial, u.m) == 1;
}

static void serial_hex(tb *b, const ASN1_INTEGER *serial)
{
    char *hex = tc_serial_hex(serial);
    tb_add(b, hex ? hex : "an unreadable number");
    free(hex);
}

/* The entry of bs about leaf: its index, or -1.  With the issuer, the whole
 * CertID must match (hash of the issuer's name and key, and the serial);
 * without it, only the serial can be compared.  *other_issuer is set when
 * an entry has the leaf's serial under another issuer. */
static int find_entry(OCSP_BASICRESP *bs, X509 *leaf, X509 *issuer, int *other_issuer)
{
    const ASN1_INTEGER *want = X509_get0_serialNumber(leaf);
    int n = OCSP_resp_count(bs);
    *other_issuer = 0;
    for (int i = 0; i < n; i++) {
        OCSP_SINGLERESP *s = OCSP_resp_get0(bs, i);
        const OCSP_CERTID *cid = s ? OCSP_SINGLERESP_get0_id(s) : NULL;
        ASN1_OBJECT *md_oid = NULL;
        ASN1_INTEGER *serial = NULL;
        if (!certid_info(cid, &md_oid, &serial) || serial == NULL || ASN1_INTEGER_cmp(serial, want) != 0)
            continue;
        if (issuer == NULL)
            return i;
        const EVP_MD *md = md_oid ? EVP_get_digestbyobj(md_oid) : NULL;
        OCSP_CERTID *mine = md ? OCSP_cert_to_id(md, leaf, issuer) : NULL;
        int same = mine != NULL && OCSP_id_cmp(mine, cid) == 0;
        OCSP_CERTID_free(mine);
        if (same)
            return i;
        *other_issuer = 1;
    }
    return -1;
}

/* May signer sign OCSP responses about certificates issued by issuer?
 * The issuer itself (same name and key), or a responder it delegated to.
 * 1 yes; 0 no, with why in b. */
static int authorised(X509 *signer, X509 *issuer, int64_t now, tb *b)
{
    char label[600];
    if (X509_NAME_cmp(X509_get_subject_name(signer), X509_get_subject_name(issuer)) == 0
        && EVP_PKEY_eq(X509_get0_pubkey(signer), X509_get0_pubkey(issuer)) == 1)
        return 1;
    tc_x509_label(label, sizeof(label), signer);
    EVP_PKEY *ikey = X509_get0_pubkey(issuer);
    int issued = X509_check_issued(issuer, signer) == X509_V_OK && ikey != NULL
                 && X509_verify(signer, ikey) == 1;
    if (!issued) {
        tb_addf(b, "it is signed by %s, which is neither the certificate's issuer nor a "
                "responder that issuer authorised, so anyone holding that key could have "
                "written it", label);
        return 0;
    }
    /* X509_check_purpose with -1 only computes the cached extensions. */
    if (X509_check_purpose(signer, -1, 0) != 1
        || !(X509_get_extension_flags(signer) & EXFLAG_XKUSAGE)
        || !(X509_get_extended_key_usage(signer) & XKU_OCSP_SIGN)) {
        tb_addf(b, "it is signed by %s, a certificate of the issuer without the OCSPSigning "
                "extended key usage that would let it answer for the issuer (RFC 6960 "
                "section 4.2.2.2)", label);
        return 0;
    }
    int64_t nb = 0, na = 0;
    if (!tc_asn1_time_unix(X509_get0_notBefore(signer), &nb)
        || !tc_asn1_time_unix(X509_get0_notAfter(signer), &na) || now < nb || now > na) {
        tb_addf(b, "it is signed by the responder certificate %s, which is not valid now",
                label);
        return 0;
    }
    return 1;
}

static void fmt_when(tb *b, const ASN1_TIME *t)
{
    char text[40];
    tc_format_time(text, sizeof(text), t);
    tb_add(b, text);
}

typedef enum outcome {
    OUT_GOOD = 0,      /* verifies, good: nothing to say */
    OUT_REVOKED,       /* verifies, revoked: the revocation words in rev */
    OUT_INVALID,       /* ocsp_staple_invalid, why in words */
    OUT_UNCHECKED,     /* the issuer is missing: why in words, no problem */
    OUT_NOMEM          /* could not judge: out of memory */
} outcome;

/* Reads the response and decides o's fields (all but error).  OpenSSL's
 * errors on these untrusted bytes are dropped (the words say what failed). */
static outcome judge(tc_report *r, const unsigned char *der, size_t len, int64_t now,
                     tc_ocsp *o, tb *why, tb *rev)
{
    ERR_set_mark();
    OCSP_RESPONSE *resp = NULL;
    OCSP_BASICRESP *bs = NULL;
    STACK_OF(X509) *extra = NULL;
    outcome out = OUT_INVALID;
    X509 *leaf = sk_X509_value(r->chain, 0);

    if (len > TC_OCSP_MAX) {
        tb_addf(why, "it is %zu bytes long, more than the %d bytes pytlscheck "
                "reads (real responses take a few kilobytes)", len, TC_OCSP_MAX);
        goto done;
    }
    const unsigned char *p = der;
    resp = d2i_OCSP_RESPONSE(NULL, &p, (long)len);
    if (resp == NULL || (size_t)(p - der) != len) {
        tb_add(why, resp == NULL ? "it is not a DER-encoded OCSP response"
                                 : "it has bytes after the end of the OCSP response");
        goto done;
    }
    int rst = OCSP_response_status(resp);
    if (rst != OCSP_RESPONSE_STATUS_SUCCESSFUL) {
        tb_addf(why, "it is the responder's error answer \"%s\" rather than a status of "
                "the certificate", OCSP_response_status_str(rst));
        goto done;
    }
    if ((bs = OCSP_response_get1_basic(resp)) == NULL) {
        tb_add(why, "it is not a basic OCSP response (the only type RFC 6960 defines)");
        goto done;
    }
    if (leaf == NULL) {
        tb_add(why, "the server sent no certificate for it to be about");
        goto done;
    }
    X509 *issuer = find_issuer(r, leaf);
    int other_issuer = 0;
    int idx = find_entry(bs, leaf, issuer, &other_issuer);
    if (idx < 0) {
        tb_add(why, "it is about ");
        if (other_issuer) {
            tb_add(why, "a certificate with the leaf's serial number under another issuer");
        } else {
            OCSP_SINGLERESP *s0 = OCSP_resp_get0(bs, 0);
            ASN1_INTEGER *serial = NULL;
            ASN1_OBJECT *md_oid = NULL;
            if (s0 != NULL && certid_info(OCSP_SINGLERESP_get0_id(s0), &md_oid, &serial)) {
                tb_add(why, "another certificate (serial ");
                serial_hex(why, serial);
                tb_add(why, "), not the one the server sent (serial ");
                serial_hex(why, X509_get0_serialNumber(leaf));
                tb_add(why, "): it is probably left over from the certificate before a renewal");
            } else {
                tb_add(why, "no certificate at all: it has no entry");
            }
        }
        goto done;
    }

    OCSP_SINGLERESP *single = OCSP_resp_get0(bs, idx);
    int reason = OCSP_REVOKED_STATUS_NOSTATUS;
    ASN1_GENERALIZEDTIME *revtime = NULL, *thisupd = NULL, *nextupd = NULL;
    int st = OCSP_single_get0_status(single, &reason, &revtime, &thisupd, &nextupd);
    o->status = status_name(st);
    if (o->status == NULL) {
        tb_add(why, "its entry for the certificate has no readable status");
        goto done;
    }
    o->has_this_update = tc_asn1_time_unix(thisupd, &o->this_update);
    o->has_next_update = nextupd != NULL && tc_asn1_time_unix(nextupd, &o->next_update);
    if (st == V_OCSP_CERTSTATUS_REVOKED) {
        o->has_revoked_at = tc_asn1_time_unix(revtime, &o->revoked_at);
        o->reason = tc_crl_reason_name(reason);
    }

    if (issuer == NULL) {
        out = OUT_UNCHECKED;
        char *itext = tc_name_text(X509_get_issuer_name(leaf));
        tb_addf(why, "the certificate of its issuer, %s, was neither sent by the server nor "
                "found among the trust anchors, so who signed the response cannot be checked",
                itext ? itext : "(unreadable)");
        free(itext);
        goto done;
    }

    /* Who signed it: a certificate in the response, in the served chain,
     * or the issuer itself (by name or key hash, the ResponderID). */
    if ((extra = sk_X509_dup(r->chain)) == NULL || !sk_X509_push(extra, issuer)) {
        out = OUT_NOMEM;
        goto done;
    }
    X509 *signer = NULL;
    if (OCSP_resp_get0_signer(bs, &signer, extra) != 1 || signer == NULL) {
        tb_add(why, "the responder it names as its signer is neither the certificate's issuer "
               "nor a certificate sent in the response or the chain");
        goto done;
    }
    STACK_OF(X509) *one = sk_X509_new_null();
    if (one == NULL || sk_X509_push(one, signer) <= 0) {
        sk_X509_free(one);
        out = OUT_NOMEM;
        goto done;
    }
    /* The signature only, with the signer's key (its authority is
     * authorised()'s question, not OpenSSL's chain building). */
    int sig_ok = OCSP_basic_verify(bs, one, NULL, OCSP_NOINTERN | OCSP_NOVERIFY) == 1;
    sk_X509_free(one);
    if (!sig_ok) {
        char label[600];
        tc_x509_label(label, sizeof(label), signer);
        tb_addf(why, "its signature does not verify with the key of %s, the responder it "
                "names: it was signed by another key, or altered", label);
        goto done;
    }
    if (!authorised(signer, issuer, now, why))
        goto done;
    if (o->has_this_update && o->this_update > now + SKEW_S) {
        tb_add(why, "it was produced for a time still to come (thisUpdate ");
        fmt_when(why, thisupd);
        tb_add(why, "): the responder's clock or this one is wrong");
        goto done;
    }
    if (!o->has_this_update) {
        tb_add(why, "its thisUpdate time cannot be read");
        goto done;
    }
    if (o->has_next_update && o->next_update < now - SKEW_S) {
        tb_add(why, "it is stale: its nextUpdate, ");
        fmt_when(why, nextupd);
        tb_add(why, ", has passed, so the responder's word on the certificate has run out and "
               "the server keeps stapling an old answer");
        goto done;
    }
    if (st == V_OCSP_CERTSTATUS_UNKNOWN) {
        tb_add(why, "the responder says it does not know the certificate (status \"unknown\"): "
               "it is probably another CA's responder, or the certificate is not yet in its "
               "database");
        o->verified = 1;      /* signed, current, for the leaf: it verifies */
        goto done;
    }
    o->verified = 1;
    out = OUT_GOOD;
    if (st == V_OCSP_CERTSTATUS_REVOKED) {
        tc_words_revocation(rev, revtime, o->reason ? reason : -1);
        tb_add(rev, ", as the OCSP response the server staples says");
        out = OUT_REVOKED;
    }
done:
    sk_X509_free(extra);
    OCSP_BASICRESP_free(bs);
    OCSP_RESPONSE_free(resp);
    ERR_pop_to_mark();
    return out;
}

tc_status tc_ocsp_judge(tc_report *r, const unsigned char *der, size_t len, int64_t now,
                        const tc_render_vars *vars, tc_error *err)
{
    tc_ocsp_free(r->ocsp);
    r->ocsp = calloc(1, sizeof(*r->ocsp));
    if (r->ocsp == NULL)
        return tc_error_set(err, TC_E_NOMEM, "out of memory judging the stapled OCSP response");
    char why_s[900], rev_s[200];
    tb why, rev;
    tb_init(&why, why_s, sizeof(why_s));
    tb_init(&rev, rev_s, sizeof(rev_s));
    outcome out = judge(r, der, len, now, r->ocsp, &why, &rev);
    if (out == OUT_NOMEM)
        return tc_error_set(err, TC_E_NOMEM, "out of memory judging the stapled OCSP response");
    if (!r->ocsp->verified && (r->ocsp->error = strdup(why.len ? why_s : "it could not be read"))
        == NULL)
        return tc_error_set(err, TC_E_NOMEM, "out of memory judging the stapled OCSP response");
    if (out == OUT_UNCHECKED || out == OUT_GOOD)
        return TC_OK;

    X509 *leaf = sk_X509_value(r->chain, 0);
    tc_cert_vars cv;
    tc_render_vars v = *vars;
    if (leaf != NULL)
        tc_cert_vars_fill(&cv, leaf, 0, now, &v);
    v.detail = out == OUT_REVOKED ? rev_s : why_s;
    if (out == OUT_REVOKED) {
        if (tc_report_add(r, TC_KIND_REVOKED, 0, 0, NULL, &v, err) != TC_OK)
            return TC_FAIL;
        /* A revocation breaks the path (the kinds table): no verified chain. */
        sk_X509_pop_free(r->verified, X509_free);
        r->verified = NULL;
        return TC_OK;
    }
    return tc_report_add(r, TC_KIND_OCSP_STAPLE_INVALID, leaf ? 0 : -1, 0, NULL, &v, err);
}
