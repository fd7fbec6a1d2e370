/*
 * tc_pki.h - minting throwaway certificates and CRLs in memory for the C
 * test programs, each with exactly the property a test means to break.
 *
 * Header-only (static inline), test code only: it aborts the test program
 * on an OpenSSL failure instead of reporting it, because a test that cannot
 * mint its fixture has nothing to assert.
 *
 *   pki_spec s = pki_defaults(T0);           EC P-256, T0-1d .. T0+90d
 *   s.cn = "Root"; s.ca = 1;
 *   pki_cert root = pki_mint(&s);            self-signed (s.issuer NULL)
 *   s = pki_leaf(T0, "api.example.com", &root);
 *   pki_cert leaf = pki_mint(&s);
 *   STACK_OF(X509) *chain = pki_stack(leaf.x, NULL);
 *   ...
 *   pki_free(&leaf); pki_free(&root); sk_X509_pop_free(chain, X509_free);
 *
 * Extensions are given in OpenSSL's config syntax (the same strings as an
 * `openssl x509 -extfile`), so a test reads like the certificate it wants.
 */
#ifndef TC_PKI_H
#define TC_PKI_H

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#define PKI_DAY ((int64_t)86400)

typedef struct pki_cert {
    X509 *x;
    EVP_PKEY *key;
} pki_cert;

typedef struct pki_spec {
    const char *cn;              /* subject CN, NULL: none */
    const char *org;             /* subject O, NULL: none */
    const char *dns;             /* one DNS SAN (shorthand for san = "DNS:<dns>") */
    const char *san;             /* "DNS:a.example.com,IP:127.0.0.1", NULL: no SAN */
    int64_t not_before, not_after;
    int ca;                      /* 1: CA:TRUE; 0: CA:FALSE; -1: no basicConstraints */
    int bc_critical;             /* basicConstraints marked critical */
    int pathlen;                 /* pathLenConstraint, -1: none */
    const char *key_usage;       /* NULL: the default for ca; "": none */
    const char *eku;             /* NULL: serverAuth,clientAuth for leaves, none for CAs; "": none */
    const char *key;             /* "ec" (P-256), "ec384", "ec224", "rsa1024", "rsa2048", "ed25519" */
    const char *digest;          /* "sha256" (default), "sha1", "md5", ... */
    const char *name_constraints;/* "critical,permitted;DNS:example.com" */
    const char *aia;             /* "caIssuers;URI:http://ca.example/int.der" */
    const char *extra_oid;       /* an extra extension: dotted OID ... */
    const char *extra_value;     /* ... and value, e.g. "critical,DER:05:00" */
    int no_akid, no_skid;        /* leave out the key identifiers */
    long serial;                 /* 0: random */
    const char *issuer_cn;       /* override the issuer name (signature stays the issuer's) */
    const pki_cert *issuer;      /* NULL: self-signed */
    EVP_PKEY *reuse_key;         /* borrowed: certify this key instead of a new one */
} pki_spec;

static inline void pki_die(const char *what)
{
    fprintf(stderr, "tc_pki: %s failed\n", what);
    abort();
}

static inline pki_spec pki_defaults(int64_t now)
{
    pki_spec s;
    memset(&s, 0, sizeof(s));
    s.not_before = now - PKI_DAY;
    s.not_after = now + 90 * PKI_DAY;
    s.ca = 0;
    s.bc_critical = 1;
    s.pathlen = -1;
    return s;
}

/* A CA: CA:TRUE critical, keyCertSign + cRLSign, 10 years. */
static inline pki_spec pki_ca(int64_t now, const char *cn, const pki_cert *issuer)
{
    pki_spec s = pki_defaults(now);
    s.cn = cn;
    s.ca = 1;
    s.not_after = now + 3650 * PKI_DAY;
    s.issuer = issuer;
    return s;
}

/* A TLS server leaf for one DNS name. */
static inline pki_spec pki_leaf(int64_t now, const char *dns, const pki_cert *issuer)
{
    pki_spec s = pki_defaults(now);
    s.cn = dns;
    s.dns = dns;
    s.issuer = issuer;
    return s;
}

static inline EVP_PKEY *pki_keygen(const char *type)
{
    EVP_PKEY *k = NULL;
    if (type == NULL || strcmp(type, "ec") == 0)
        k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    else if (strcmp(type, "ec384") == 0)
        k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-384");
    else if (strcmp(type, "ec224") == 0)
        k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-224");
    else if (strcmp(type, "ed25519") == 0)
        k = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
    else if (strncmp(type, "rsa", 3) == 0)
        k = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)strtoul(type + 3, NULL, 10));
    if (k == NULL)
        pki_die("key generation");
    return k;
}

static inline ASN1_TIME *pki_time(int64_t t)
{
    ASN1_TIME *a = ASN1_TIME_set(NULL, (time_t)t);
    if (a == NULL)
        pki_die("ASN1_TIME_set");
    return a;
}

/* Adds one extension in config syntax; issuer may equal x (self-signed). */
static inline void pki_ext(X509 *x, X509 *issuer, const char *name, const char *value)
{
    X509V3_CTX ctx;
    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, issuer, x, NULL, NULL, 0);
    X509_EXTENSION *e = X509V3_EXT_nconf(NULL, &ctx, name, value);
    if (e == NULL || !X509_add_ext(x, e, -1)) {
        fprintf(stderr, "tc_pki: extension %s = %s\n", name, value);
        pki_die("X509V3_EXT_nconf");
    }
    X509_EXTENSION_free(e);
}

static inline void pki_name_add(X509_NAME *n, const char *field, const char *v)
{
    if (v && !X509_NAME_add_entry_by_txt(n, field, MBSTRING_UTF8,
                                         (const unsigned char *)v, -1, -1, 0))
        pki_die("X509_NAME_add_entry_by_txt");
}

static inline pki_cert pki_mint(const pki_spec *s)
{
    pki_cert c = { X509_new(), NULL };
    if (c.x == NULL)
        pki_die("X509_new");
    if (s->reuse_key) {
        if (!EVP_PKEY_up_ref(s->reuse_key))
            pki_die("EVP_PKEY_up_ref");
        c.key = s->reuse_key;
    } else {
        c.key = pki_keygen(s->key);
    }
    X509 *ix = s->issuer ? s->issuer->x : c.x;
    EVP_PKEY *ikey = s->issuer ? s->issuer->key : c.key;

    if (!X509_set_version(c.x, X509_VERSION_3))
        pki_die("X509_set_version");
    uint64_t serial = (uint64_t)s->serial;
    if (serial == 0) {
        if (RAND_bytes((unsigned char *)&serial, sizeof(serial)) != 1)
            pki_die("RAND_bytes");
        serial = (serial >> 2) | 1;   /* positive, non-zero, fits int64 */
    }
    if (!ASN1_INTEGER_set_int64(X509_get_serialNumber(c.x), (int64_t)serial))
        pki_die("ASN1_INTEGER_set_int64");

    X509_NAME *subj = X509_get_subject_name(c.x);
    pki_name_add(subj, "O", s->org);
    pki_name_add(subj, "CN", s->cn);
    if (s->issuer_cn) {
        X509_NAME *in = X509_NAME_new();
        if (in == NULL)
            pki_die("X509_NAME_new");
        pki_name_add(in, "CN", s->issuer_cn);
        if (!X509_set_issuer_name(c.x, in))
            pki_die("X509_set_issuer_name");
        X509_NAME_free(in);
    } else if (!X509_set_issuer_name(c.x, X509_get_subject_name(ix))) {
        pki_die("X509_set_issuer_name");
    }
    ASN1_TIME *nb = pki_time(s->not_before), *na = pki_time(s->not_after);
    if (!X509_set1_notBefore(c.x, nb) || !X509_set1_notAfter(c.x, na))
        pki_die("X509_set1_notBefore");
    ASN1_TIME_free(nb);
    ASN1_TIME_free(na);
    if (!X509_set_pubkey(c.x, c.key))
        pki_die("X509_set_pubkey");

    char buf[300];
    if (s->ca >= 0) {
        if (s->ca && s->pathlen >= 0)
            snprintf(buf, sizeof(buf), "%sCA:TRUE,pathlen:%d",
                     s->bc_critical ? "critical," : "", s->pathlen);
        else
            snprintf(buf, sizeof(buf), "%sCA:%s", s->bc_critical ? "critical," : "",
                     s->ca ? "TRUE" : "FALSE");
        pki_ext(c.x, ix, "basicConstraints", buf);
    }
    const char *ku = s->key_usage;
    if (ku == NULL)
        ku = s->ca == 1 ? "critical,keyCertSign,cRLSign" : "critical,digitalSignature";
    if (ku[0])
        pki_ext(c.x, ix, "keyUsage", ku);
    const char *eku = s->eku;
    if (eku == NULL)
        eku = s->ca == 1 ? "" : "serverAuth,clientAuth";
    if (eku[0])
        pki_ext(c.x, ix, "extendedKeyUsage", eku);
    if (!s->no_skid)
        pki_ext(c.x, ix, "subjectKeyIdentifier", "hash");
    if (!s->no_akid && X509_get_ext_by_NID(ix, NID_subject_key_identifier, -1) >= 0) {
        pki_ext(c.x, ix, "authorityKeyIdentifier", "keyid:always");
    } else if (!s->no_akid && s->issuer != NULL) {
        /* An issuer without SKI (a legacy root): the key identifier is the
         * SHA-1 of its public key, as RFC 5280 4.2.1.2 method (1) makes it. */
        unsigned char md[EVP_MAX_MD_SIZE];
        unsigned int mdlen = 0;
        AUTHORITY_KEYID *akid = AUTHORITY_KEYID_new();
        if (akid == NULL || !X509_pubkey_digest(ix, EVP_sha1(), md, &mdlen)
            || (akid->keyid = ASN1_OCTET_STRING_new()) == NULL
            || !ASN1_OCTET_STRING_set(akid->keyid, md, (int)mdlen)
            || !X509_add1_ext_i2d(c.x, NID_authority_key_identifier, akid, 0, 0))
            pki_die("authorityKeyIdentifier");
        AUTHORITY_KEYID_free(akid);
    }
    if (s->san) {
        pki_ext(c.x, ix, "subjectAltName", s->san);
    } else if (s->dns) {
        snprintf(buf, sizeof(buf), "DNS:%s", s->dns);
        pki_ext(c.x, ix, "subjectAltName", buf);
    }
    if (s->name_constraints)
        pki_ext(c.x, ix, "nameConstraints", s->name_constraints);
    if (s->aia)
        pki_ext(c.x, ix, "authorityInfoAccess", s->aia);
    if (s->extra_oid)
        pki_ext(c.x, ix, s->extra_oid, s->extra_value);

    const EVP_MD *md = NULL;
    if (EVP_PKEY_get_base_id(ikey) != EVP_PKEY_ED25519) {
        md = EVP_get_digestbyname(s->digest ? s->digest : "sha256");
        if (md == NULL)
            pki_die("EVP_get_digestbyname");
    }
    if (X509_sign(c.x, ikey, md) <= 0)
        pki_die("X509_sign");
    return c;
}

static inline void pki_free(pki_cert *c)
{
    X509_free(c->x);
    EVP_PKEY_free(c->key);
    c->x = NULL;
    c->key = NULL;
}

/* A new stack of up-referenced certificates; the list ends with NULL. */
static inline STACK_OF(X509) *pki_stack(X509 *first, ...)
{
    STACK_OF(X509) *sk = sk_X509_new_null();
    if (sk == NULL)
        pki_die("sk_X509_new_null");
    va_list ap;
    va_start(ap, first);
    for (X509 *x = first; x != NULL; x = va_arg(ap, X509 *))
        if (!X509_up_ref(x) || !sk_X509_push(sk, x))
            pki_die("sk_X509_push");
    va_end(ap);
    return sk;
}

/* A v2 CRL from ca, valid this_update .. next_update, revoking the given
 * serials (revoked at this_update, reason keyCompromise). */
static inline X509_CRL *pki_crl(const pki_cert *ca, int64_t this_update,
                                int64_t next_update, const X509 *const *revoked,
                                size_t n_revoked)
{
    X509_CRL *crl = X509_CRL_new();
    if (crl == NULL || !X509_CRL_set_version(crl, X509_CRL_VERSION_2)
        || !X509_CRL_set_issuer_name(crl, X509_get_subject_name(ca->x)))
        pki_die("X509_CRL_new");
    ASN1_TIME *tu = pki_time(this_update), *nu = pki_time(next_update);
    if (!X509_CRL_set1_lastUpdate(crl, tu) || !X509_CRL_set1_nextUpdate(crl, nu))
        pki_die("X509_CRL_set1_lastUpdate");
    for (size_t i = 0; i < n_revoked; i++) {
        X509_REVOKED *r = X509_REVOKED_new();
        ASN1_ENUMERATED *reason = ASN1_ENUMERATED_new();
        ASN1_INTEGER *serial = ASN1_INTEGER_dup(X509_get0_serialNumber(revoked[i]));
        if (r == NULL || reason == NULL || serial == NULL
            || !X509_REVOKED_set_serialNumber(r, serial)
            || !X509_REVOKED_set_revocationDate(r, tu)
            || !ASN1_ENUMERATED_set(reason, 1 /* keyCompromise */)
            || !X509_REVOKED_add1_ext_i2d(r, NID_crl_reason, reason, 0, 0)
            || !X509_CRL_add0_revoked(crl, r))
            pki_die("X509_REVOKED");
        ASN1_ENUMERATED_free(reason);
        ASN1_INTEGER_free(serial);
    }
    ASN1_INTEGER *num = ASN1_INTEGER_new();
    if (num == NULL || !ASN1_INTEGER_set(num, 1)
        || !X509_CRL_add1_ext_i2d(crl, NID_crl_number, num, 0, 0))
        pki_die("crlNumber");
    ASN1_INTEGER_free(num);
    X509V3_CTX ctx;
    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, ca->x, NULL, NULL, crl, 0);
    X509_EXTENSION *akid = X509V3_EXT_nconf(NULL, &ctx, "authorityKeyIdentifier", "keyid:always");
    if (akid == NULL || !X509_CRL_add_ext(crl, akid, -1))
        pki_die("CRL authorityKeyIdentifier");
    X509_EXTENSION_free(akid);
    ASN1_TIME_free(tu);
    ASN1_TIME_free(nu);
    if (!X509_CRL_sort(crl) || X509_CRL_sign(crl, ca->key, EVP_sha256()) <= 0)
        pki_die("X509_CRL_sign");
    return crl;
}

/* PEM text of a certificate (malloc'd, NUL-terminated), for tests that
 * feed the parsers. */
static inline char *pki_pem(X509 *x)
{
    BIO *b = BIO_new(BIO_s_mem());
    char *p = NULL, *out;
    long n;
    if (b == NULL || !PEM_write_bio_X509(b, x) || (n = BIO_get_mem_data(b, &p)) <= 0)
        pki_die("PEM_write_bio_X509");
    out = malloc((size_t)n + 1);
    if (out == NULL)
        pki_die("malloc");
    memcpy(out, p, (size_t)n);
    out[n] = '\0';
    BIO_free(b);
    return out;
}

#endif /* TC_PKI_H */
