/*
 * revocation.c - CRLs in words: why no CRL given covered a certificate,
 * and which CRL a revocation was read from.
 *
 * OpenSSL says only "unable to get certificate CRL" or "different CRL
 * scope".  RFC 5280 section 6.3.3 decides whether a CRL covers a
 * certificate; this file says, for the certificate left uncovered, which
 * CRL it needs (from whom: its issuer, or the cRLIssuer of its
 * distribution point; where: the distribution point's URLs), and for each
 * CRL given that came near, why it did not do: a scope that leaves the
 * certificate out (issuingDistributionPoint: onlyContainsCACerts,
 * onlyContainsUserCerts, onlyContainsAttributeCerts, another distribution
 * point), a CRL from another issuer not marked indirect, a delta CRL (read
 * only with its base), a signer whose certificate was not given, a
 * partition of reasons (onlySomeReasons) that leaves reasons uncovered.
 * Every string from a certificate or CRL goes through text.h's rule.
 */
#include <stdlib.h>
#include <string.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>
#include "classify.h"
#include "text.h"

/* ReasonFlags bits (RFC 5280 section 4.2.1.13); bit 0 is unused. */
static const char *const REASON_BITS[] = {
    NULL, "keyCompromise", "cACompromise", "affiliationChanged", "superseded",
    "cessationOfOperation", "certificateHold", "privilegeWithdrawn", "aACompromise",
};
#define N_REASON_BITS (sizeof(REASON_BITS) / sizeof(REASON_BITS[0]))
#define ALL_REASONS 0x1feu

static unsigned reasons_of(const ASN1_BIT_STRING *bits)
{
    if (bits == NULL)
        return ALL_REASONS;
    unsigned r = 0;
    for (unsigned i = 1; i < N_REASON_BITS; i++)
        if (ASN1_BIT_STRING_get_bit(bits, (int)i))
            r |= 1u << i;
    return r;
}

static void add_reasons(tb *b, unsigned r)
{
    const char *sep = "";
    for (unsigned i = 1; i < N_REASON_BITS; i++)
        if (r & (1u << i)) {
            tb_addf(b, "%s%s", sep, REASON_BITS[i]);
            sep = ", ";
        }
}

static void add_name(tb *b, const X509_NAME *name)
{
    char *text = tc_name_text(name);
    tb_add(b, text != NULL && text[0] != '\0' ? text : "an empty name");
    free(text);
}

/* The URIs among names, each after `first` (the first one written, n
 * counting those written before) or `sep`; returns the new count. */
static int add_uris(tb *b, const GENERAL_NAMES *names, int n, const char *first, const char *sep)
{
    for (int i = 0; i < sk_GENERAL_NAME_num(names); i++) {
        const GENERAL_NAME *g = sk_GENERAL_NAME_value(names, i);
        if (g->type != GEN_URI)
            continue;
        tb_add(b, n++ ? sep : first);
        tb_add_bytes(b, ASN1_STRING_get0_data(g->d.uniformResourceIdentifier),
                     (size_t)ASN1_STRING_length(g->d.uniformResourceIdentifier));
    }
    return n;
}

static const GENERAL_NAMES *full_name(const DIST_POINT_NAME *dpn)
{
    return dpn != NULL && dpn->type == 0 ? dpn->name.fullname : NULL;
}

/* 1 when the CRL's issuer may speak for x: x's issuer, or a cRLIssuer of
 * one of its distribution points. */
static int from_issuer_of(X509 *x, const CRL_DIST_POINTS *dps, const X509_NAME *crl_issuer)
{
    if (X509_NAME_cmp(crl_issuer, X509_get_issuer_name(x)) == 0)
        return 1;
    for (int i = 0; i < sk_DIST_POINT_num(dps); i++) {
        const GENERAL_NAMES *ci = sk_DIST_POINT_value(dps, i)->CRLissuer;
        for (int k = 0; k < sk_GENERAL_NAME_num(ci); k++) {
            const GENERAL_NAME *g = sk_GENERAL_NAME_value(ci, k);
            if (g->type == GEN_DIRNAME && X509_NAME_cmp(g->d.directoryName, crl_issuer) == 0)
                return 1;
        }
    }
    return 0;
}

/* RFC 5280 section 6.3.3 (b)(2)(i): the IDP's distribution point is one
 * of x's (full names compared; a relative name is not judged here). */
static int idp_matches(const ISSUING_DIST_POINT *idp, const CRL_DIST_POINTS *dps)
{
    const GENERAL_NAMES *want = idp != NULL ? full_name(idp->distpoint) : NULL;
    if (want == NULL)
        return 1;
    for (int i = 0; i < sk_DIST_POINT_num(dps); i++) {
        const GENERAL_NAMES *have = full_name(sk_DIST_POINT_value(dps, i)->distpoint);
        for (int a = 0; a < sk_GENERAL_NAME_num(have); a++)
            for (int w = 0; w < sk_GENERAL_NAME_num(want); w++)
                if (GENERAL_NAME_cmp(sk_GENERAL_NAME_value(have, a),
                                     sk_GENERAL_NAME_value(want, w)) == 0)
                    return 1;
    }
    return 0;
}

static int signs_crl(X509 *c, X509_CRL *crl, AUTHORITY_KEYID *akid)
{
    return X509_NAME_cmp(X509_get_subject_name(c), X509_CRL_get_issuer(crl)) == 0
           && X509_check_akid(c, akid) == X509_V_OK;
}

/* A certificate of the CRL's signer (its name, and its key by the CRL's
 * authorityKeyIdentifier) among the path, the chain given, the
 * certificates given with the CRLs and the trust store. */
static int signer_known(const tc_judge *j, X509_CRL *crl)
{
    AUTHORITY_KEYID *akid = X509_CRL_get_ext_d2i(crl, NID_authority_key_identifier, NULL, NULL);
    STACK_OF(X509) *const lists[] = { j->path, j->given, j->params->crl_certs };
    int found = 0;
    for (size_t l = 0; !found && l < sizeof(lists) / sizeof(lists[0]); l++)
        for (int i = 0; !found && i < sk_X509_num(lists[l]); i++)
            found = signs_crl(sk_X509_value(lists[l], i), crl, akid);
    if (!found && j->ctx != NULL) {
        ERR_set_mark();
        STACK_OF(X509) *named = X509_STORE_CTX_get1_certs(j->ctx, X509_CRL_get_issuer(crl));
        ERR_pop_to_mark();
        for (int i = 0; !found && i < sk_X509_num(named); i++)
            found = signs_crl(sk_X509_value(named, i), crl, akid);
        sk_X509_pop_free(named, X509_free);
    }
    AUTHORITY_KEYID_free(akid);
    return found;
}

/* Why one CRL given, from a CRL issuer that may speak for x, does not
 * cover it; adds the reasons it does cover to *covered. */
static void why_not(const tc_judge *j, X509 *x, const CRL_DIST_POINTS *dps, X509_CRL *crl,
                    unsigned *covered, tb *b)
{
    ISSUING_DIST_POINT *idp = X509_CRL_get_ext_d2i(crl, NID_issuing_distribution_point, NULL, NULL);
    ASN1_INTEGER *base = X509_CRL_get_ext_d2i(crl, NID_delta_crl, NULL, NULL);
    int is_ca = (X509_get_extension_flags(x) & EXFLAG_CA) != 0;
    int other_issuer = X509_NAME_cmp(X509_CRL_get_issuer(crl), X509_get_issuer_name(x)) != 0;

    tb_add(b, "; the CRL given from ");
    add_name(b, X509_CRL_get_issuer(crl));
    if (base != NULL) {
        tb_addf(b, " is a delta CRL, read only with the complete CRL it updates (CRLNumber %ld) and within that one's scope",
                ASN1_INTEGER_get(base));
    } else if (other_issuer && (idp == NULL || !idp->indirectCRL)) {
        tb_add(b, " is not marked as an indirect CRL (indirectCRL in its issuingDistributionPoint), so it does not speak for certificates of ");
        add_name(b, X509_get_issuer_name(x));
    } else if (idp != NULL && idp->onlyattr) {
        tb_add(b, " covers attribute certificates only (onlyContainsAttributeCerts)");
    } else if (idp != NULL && idp->onlyCA && !is_ca) {
        tb_add(b, " covers CA certificates only (onlyContainsCACerts), and this is an end-entity certificate");
    } else if (idp != NULL && idp->onlyuser && is_ca) {
        tb_add(b, " covers end-entity certificates only (onlyContainsUserCerts), and this is a CA certificate");
    } else if (!idp_matches(idp, dps)) {
        tb_add(b, " is the CRL of the distribution point ");
        add_uris(b, full_name(idp->distpoint), 0, "", ", ");
        tb_add(b, sk_DIST_POINT_num(dps) > 0 ? ", which is not one the certificate names"
                                            : ", and the certificate names no distribution point");
    } else if (!signer_known(j, crl)) {
        tb_add(b, " is signed by a key whose certificate is neither in the chain, nor in the trust store, nor given with the CRLs: pass the signer's certificate with the CRL in crls=");
    } else {
        unsigned r = reasons_of(idp != NULL ? idp->onlysomereasons : NULL);
        *covered |= r;
        if (r != ALL_REASONS) {
            tb_add(b, " covers only revocations for ");
            add_reasons(b, r);
            tb_add(b, " (onlySomeReasons)");
        } else {
            tb_add(b, " was not found to cover it (RFC 5280 section 6.3.3 (b))");
        }
    }
    ASN1_INTEGER_free(base);
    ISSUING_DIST_POINT_free(idp);
}

void tc_words_no_crl(const tc_judge *j, X509 *x, tb *b)
{
    ERR_set_mark();
    CRL_DIST_POINTS *dps = X509_get_ext_d2i(x, NID_crl_distribution_points, NULL, NULL);
    ERR_pop_to_mark();

    /* Which CRL it needs: from whom, published where. */
    tb_add(b, "it needs a CRL from ");
    int named = 0;
    for (int i = 0; i < sk_DIST_POINT_num(dps); i++) {
        const GENERAL_NAMES *ci = sk_DIST_POINT_value(dps, i)->CRLissuer;
        for (int k = 0; k < sk_GENERAL_NAME_num(ci); k++) {
            const GENERAL_NAME *g = sk_GENERAL_NAME_value(ci, k);
            if (g->type != GEN_DIRNAME)
                continue;
            tb_add(b, named++ ? " or " : "");
            add_name(b, g->d.directoryName);
        }
    }
    if (named)
        tb_add(b, " (the cRLIssuer of its distribution point: an indirect CRL)");
    else
        add_name(b, X509_get_issuer_name(x));
    int urls = 0;
    for (int i = 0; i < sk_DIST_POINT_num(dps); i++)
        urls = add_uris(b, full_name(sk_DIST_POINT_value(dps, i)->distpoint), urls,
                        ", published at ", " or ");
    if (urls == 0)
        tb_add(b, " (the certificate names no CRL distribution point URL)");

    /* What the CRLs given that came near lack. */
    unsigned covered = 0;
    int near = 0;
    STACK_OF(X509_CRL) *crls = j->params->crls;
    for (int i = 0; i < sk_X509_CRL_num(crls); i++) {
        X509_CRL *crl = sk_X509_CRL_value(crls, i);
        if (!from_issuer_of(x, dps, X509_CRL_get_issuer(crl)))
            continue;
        near++;
        why_not(j, x, dps, crl, &covered, b);
    }
    if (near == 0)
        tb_add(b, "; none of the CRLs given is from that issuer");
    else if (covered != 0 && (covered & ALL_REASONS) != ALL_REASONS) {
        tb_add(b, "; no CRL given covers revocations for ");
        add_reasons(b, ALL_REASONS & ~covered);
    }
    CRL_DIST_POINTS_free(dps);
}

void tc_words_revoked_from(X509 *x, X509_CRL *crl, tb *b)
{
    ASN1_INTEGER *base = X509_CRL_get_ext_d2i(crl, NID_delta_crl, NULL, NULL);
    ASN1_INTEGER *number = X509_CRL_get_ext_d2i(crl, NID_crl_number, NULL, NULL);
    if (base != NULL) {
        tb_add(b, ", on the delta CRL");
        if (number != NULL)
            tb_addf(b, " number %ld", ASN1_INTEGER_get(number));
    }
    if (X509_NAME_cmp(X509_CRL_get_issuer(crl), X509_get_issuer_name(x)) != 0) {
        tb_add(b, base != NULL ? " of " : ", on the indirect CRL of ");
        add_name(b, X509_CRL_get_issuer(crl));
    }
    ASN1_INTEGER_free(base);
    ASN1_INTEGER_free(number);
}

/* May this CRL's entries be about x: from x's issuer, or indirect. */
int tc_crl_may_list(X509 *x, X509_CRL *crl)
{
    if (X509_NAME_cmp(X509_CRL_get_issuer(crl), X509_get_issuer_name(x)) == 0)
        return 1;
    ISSUING_DIST_POINT *idp = X509_CRL_get_ext_d2i(crl, NID_issuing_distribution_point, NULL, NULL);
    int indirect = idp != NULL && idp->indirectCRL;
    ISSUING_DIST_POINT_free(idp);
    return indirect;
}
