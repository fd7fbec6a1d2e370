/*
 * test_cert.c - certificate / CRL parsing, field extraction and trust
 * stores (cert.c, trust.c).  Every certificate is minted here with OpenSSL
 * and named for what it exercises; each positive case has a negative twin.
 */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "tlscheck.h"
#include "tc_test.h"

#define CHECK_HAS(hay, needle) do { const char *h_ = (hay); \
    if (h_ && strstr(h_, (needle))) tc_test_pass++; else { tc_test_fail++; \
    fprintf(stderr, "%s:%d: CHECK_HAS failed: \"%s\" lacks \"%s\"\n", \
            __FILE__, __LINE__, h_ ? h_ : "(null)", (needle)); } } while (0)

/* ------------------------------------------------------------------ */
/* Minting                                                             */
/* ------------------------------------------------------------------ */

typedef struct ext_spec {
    int nid;
    const char *value;         /* openssl x509v3_config(5) syntax */
} ext_spec;

typedef struct mint {
    const char *cn;            /* NULL: no CN */
    size_t cn_len;             /* 0: strlen(cn) */
    int cn_type;               /* 0: V_ASN1_UTF8STRING (raw bytes, no checks) */
    const char *org;
    EVP_PKEY *key;             /* subject key (borrowed) */
    X509 *issuer;              /* NULL: self-signed */
    EVP_PKEY *issuer_key;
    const ext_spec *exts;      /* ends with nid 0; may be NULL */
    GENERAL_NAMES *san_raw;    /* a hand-built SAN (borrowed), or NULL */
    long serial;               /* 0: 1 */
    int64_t not_before, not_after;   /* 0: now-1h / now+90d */
    const char *md;            /* NULL: sha256 (ignored for Ed25519) */
} mint;

static EVP_PKEY *mk_key(const char *type)
{
    if (strcmp(type, "rsa") == 0)
        return EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)1024);
    if (strcmp(type, "ec384") == 0)
        return EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-384");
    if (strcmp(type, "ed25519") == 0)
        return EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
    return EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
}

static X509 *mk_cert(const mint *m)
{
    X509 *x = X509_new();
    X509_NAME *name = X509_NAME_new();
    int ok = x != NULL && name != NULL;
    int64_t now = (int64_t)time(NULL);

    ok = ok && X509_set_version(x, X509_VERSION_3);
    ok = ok && ASN1_INTEGER_set(X509_get_serialNumber(x), m->serial ? m->serial : 1);
    ok = ok && ASN1_TIME_set(X509_getm_notBefore(x),
                             (time_t)(m->not_before ? m->not_before : now - 3600));
    ok = ok && ASN1_TIME_set(X509_getm_notAfter(x),
                             (time_t)(m->not_after ? m->not_after : now + 90 * 86400));
    if (ok && m->org)
        ok = X509_NAME_add_entry_by_NID(name, NID_organizationName, MBSTRING_UTF8,
                                        (const unsigned char *)m->org, -1, -1, 0);
    if (ok && m->cn)
        ok = X509_NAME_add_entry_by_NID(name, NID_commonName,
                                        m->cn_type ? m->cn_type : V_ASN1_UTF8STRING,
                                        (const unsigned char *)m->cn,
                                        m->cn_len ? (int)m->cn_len : (int)strlen(m->cn),
                                        -1, 0);
    ok = ok && X509_set_subject_name(x, name);
    ok = ok && X509_set_issuer_name(x, m->issuer ? X509_get_subject_name(m->issuer) : name);
    ok = ok && X509_set_pubkey(x, m->key);
    for (const ext_spec *e = m->exts; ok && e && e->nid; e++) {
        X509V3_CTX ctx;
        X509V3_set_ctx(&ctx, m->issuer ? m->issuer : x, x, NULL, NULL, 0);
        X509_EXTENSION *ext = X509V3_EXT_nconf_nid(NULL, &ctx, e->nid, e->value);
        ok = ext != NULL && X509_add_ext(x, ext, -1);
        X509_EXTENSION_free(ext);
    }
    if (ok && m->san_raw)
        ok = X509_add1_ext_i2d(x, NID_subject_alt_name, m->san_raw, 0,
                               X509V3_ADD_DEFAULT) == 1;
    EVP_PKEY *sk = m->issuer_key ? m->issuer_key : m->key;
    const EVP_MD *md = EVP_PKEY_get_base_id(sk) == EVP_PKEY_ED25519 ? NULL
                     : EVP_get_digestbyname(m->md ? m->md : "sha256");
    ok = ok && X509_sign(x, sk, md) > 0;
    X509_NAME_free(name);
    if (!ok) {
        ERR_print_errors_fp(stderr);
        X509_free(x);
        fprintf(stderr, "mk_cert failed\n");
        exit(2);
    }
    return x;
}

/* PEM / DER encodings as malloc'd buffers. */
static char *pem_of(X509 *x, int trusted)
{
    BIO *b = BIO_new(BIO_s_mem());
    char *p = NULL, *r;
    if (trusted)
        PEM_write_bio_X509_AUX(b, x);
    else
        PEM_write_bio_X509(b, x);
    long n = BIO_get_mem_data(b, &p);
    r = malloc((size_t)n + 1);
    memcpy(r, p, (size_t)n);
    r[n] = '\0';
    BIO_free(b);
    return r;
}

static char *pem_of_key(EVP_PKEY *k)
{
    BIO *b = BIO_new(BIO_s_mem());
    char *p = NULL, *r;
    PEM_write_bio_PrivateKey(b, k, NULL, NULL, 0, NULL, NULL);
    long n = BIO_get_mem_data(b, &p);
    r = malloc((size_t)n + 1);
    memcpy(r, p, (size_t)n);
    r[n] = '\0';
    BIO_free(b);
    return r;
}

static unsigned char *der_of(X509 *x, size_t *len)
{
    unsigned char *d = NULL;
    int n = i2d_X509(x, &d);
    unsigned char *r = malloc((size_t)n + 16);
    memcpy(r, d, (size_t)n);
    OPENSSL_free(d);
    *len = (size_t)n;
    return r;
}

static char *cat3(const char *a, const char *b, const char *c)
{
    size_t la = strlen(a), lb = strlen(b), lc = strlen(c);
    char *r = malloc(la + lb + lc + 1);
    memcpy(r, a, la);
    memcpy(r + la, b, lb);
    memcpy(r + la + lb, c, lc + 1);
    return r;
}

static int same_der(X509 *a, X509 *b)
{
    return a != NULL && b != NULL && X509_cmp(a, b) == 0;
}

/* A small PKI shared by the tests: a root, an intermediate, a leaf, and
 * an unrelated root with the same subject as `root` but another key. */
static EVP_PKEY *k_root, *k_int, *k_leaf, *k_other;
static X509 *c_root, *c_int, *c_leaf, *c_other_root, *c_impostor_root;

static const ext_spec CA_EXTS[] = {
    { NID_basic_constraints, "critical,CA:TRUE" },
    { NID_key_usage, "critical,keyCertSign,cRLSign" },
    { NID_subject_key_identifier, "hash" },
    { 0, NULL },
};

static void make_pki(void)
{
    k_root = mk_key("ec");
    k_int = mk_key("ec");
    k_leaf = mk_key("ec");
    k_other = mk_key("ec");
    c_root = mk_cert(&(mint){ .cn = "Test Root CA", .org = "tlscheck tests",
                              .key = k_root, .exts = CA_EXTS, .serial = 1 });
    static const ext_spec int_exts[] = {
        { NID_basic_constraints, "critical,CA:TRUE,pathlen:2" },
        { NID_key_usage, "critical,keyCertSign,cRLSign" },
        { 0, NULL },
    };
    c_int = mk_cert(&(mint){ .cn = "Test Intermediate CA", .key = k_int,
                             .issuer = c_root, .issuer_key = k_root,
                             .exts = int_exts, .serial = 2 });
    static const ext_spec leaf_exts[] = {
        { NID_basic_constraints, "critical,CA:FALSE" },
        { NID_subject_alt_name, "DNS:api.example.com,DNS:*.eu.example.com,"
                                "IP:10.0.0.1,IP:2001:db8::1,email:ops@example.com" },
        { NID_key_usage, "critical,digitalSignature,keyEncipherment" },
        { NID_ext_key_usage, "serverAuth,clientAuth,1.2.3.4.5" },
        { NID_info_access, "caIssuers;URI:http://ca.example/int.crt,"
                           "OCSP;URI:http://ocsp.example/" },
        { 0, NULL },
    };
    c_leaf = mk_cert(&(mint){ .cn = "api.example.com", .org = "Example",
                              .key = k_leaf, .issuer = c_int,
                              .issuer_key = k_int, .exts = leaf_exts,
                              .serial = 0x0a1b, .not_before = 1700000000,
                              .not_after = 1900000000 });
    c_other_root = mk_cert(&(mint){ .cn = "Other Root CA", .key = k_other,
                                    .exts = CA_EXTS, .serial = 3 });
    /* Same subject as c_root, different key: a lookup by subject finds
     * c_root for it, and only the DER comparison tells them apart. */
    c_impostor_root = mk_cert(&(mint){ .cn = "Test Root CA", .org = "tlscheck tests",
                                       .key = k_other, .exts = CA_EXTS, .serial = 1 });
}

static void free_pki(void)
{
    X509_free(c_root);
    X509_free(c_int);
    X509_free(c_leaf);
    X509_free(c_other_root);
    X509_free(c_impostor_root);
    EVP_PKEY_free(k_root);
    EVP_PKEY_free(k_int);
    EVP_PKEY_free(k_leaf);
    EVP_PKEY_free(k_other);
}

/* ------------------------------------------------------------------ */
/* Temporary files                                                     */
/* ------------------------------------------------------------------ */

static char tmpdir[64];
static char *created[64];
static int n_created;

static char *tmp_path(const char *name)
{
    size_t n = strlen(tmpdir) + strlen(name) + 2;
    char *p = malloc(n);
    snprintf(p, n, "%s/%s", tmpdir, name);
    return p;
}

/* Writes a file under tmpdir; returns its path (owned by the cleanup list). */
static const char *write_tmp(const char *name, const void *data, size_t len)
{
    char *p = tmp_path(name);
    FILE *f = fopen(p, "wb");
    if (f == NULL || fwrite(data, 1, len, f) != len || fclose(f) != 0) {
        perror(p);
        exit(2);
    }
    created[n_created++] = p;
    return p;
}

static const char *mkdir_tmp(const char *name)
{
    char *p = tmp_path(name);
    if (mkdir(p, 0700) != 0) {
        perror(p);
        exit(2);
    }
    created[n_created++] = p;
    return p;
}

static void cleanup_tmp(void)
{
    /* Files were created before the directories that hold them. */
    for (int i = n_created - 1; i >= 0; i--) {
        if (unlink(created[i]) != 0)
            rmdir(created[i]);
        free(created[i]);
    }
    rmdir(tmpdir);
}

/* ------------------------------------------------------------------ */
/* Parsing                                                             */
/* ------------------------------------------------------------------ */

static STACK_OF(X509) *parse(const void *data, size_t len, const char *what,
                             tc_error *err)
{
    STACK_OF(X509) *st = (STACK_OF(X509) *)1;   /* must be reset */
    tc_error_clear(err);
    if (tc_certs_parse(data, len, what, &st, err) != TC_OK) {
        CHECK(st == NULL);
        CHECK(err->code != TC_E_NONE && err->msg[0] != '\0');
        CHECK(ERR_peek_error() == 0);   /* no stale errors left behind */
        return NULL;
    }
    CHECK(ERR_peek_error() == 0);
    return st;
}

static void test_pem_bundles(void)
{
    tc_error err;
    char *p1 = pem_of(c_leaf, 0), *p2 = pem_of(c_int, 0), *p3 = pem_of(c_root, 0);
    char *bundle = cat3(p1, p2, p3);

    /* A bundle of three, order kept. */
    STACK_OF(X509) *st = parse(bundle, strlen(bundle), "chain.pem", &err);
    CHECK(st != NULL && sk_X509_num(st) == 3);
    if (st) {
        CHECK(same_der(sk_X509_value(st, 0), c_leaf));
        CHECK(same_der(sk_X509_value(st, 1), c_int));
        CHECK(same_der(sk_X509_value(st, 2), c_root));
    }
    sk_X509_pop_free(st, X509_free);

    /* Twin: the second block's base64 damaged. */
    char *bad = strdup(bundle);
    char *b2 = strstr(bad + strlen(p1), "\n") + 1;   /* first body line of block 2 */
    b2[10] = '!';
    b2[11] = '*';
    CHECK(parse(bad, strlen(bad), "the PEM data", &err) == NULL);
    CHECK(err.code == TC_E_INVALID);
    CHECK_HAS(err.msg, "the PEM data has a certificate block that is cut off or corrupted (block 2");
    free(bad);

    /* CRLF line endings (files from Windows). */
    size_t bl = strlen(bundle), o = 0;
    char *crlf = malloc(2 * bl + 1);
    for (size_t i = 0; i < bl; i++) {
        if (bundle[i] == '\n')
            crlf[o++] = '\r';
        crlf[o++] = bundle[i];
    }
    st = parse(crlf, o, "windows.pem", &err);
    CHECK(st != NULL && sk_X509_num(st) == 3);
    sk_X509_pop_free(st, X509_free);
    free(crlf);

    /* Text around the blocks (like `openssl x509 -text` output) is fine. */
    char *noisy = cat3("Certificate:\n    Data: whatever\n", p1, "trailing words\n");
    st = parse(noisy, strlen(noisy), "noisy.pem", &err);
    CHECK(st != NULL && sk_X509_num(st) == 1);
    sk_X509_pop_free(st, X509_free);
    free(noisy);

    /* Without a trailing newline, and not NUL-terminated: parse only a
     * prefix of a buffer whose next byte would corrupt the block. */
    size_t l1 = strlen(p1);
    char *unterminated = malloc(l1 + 5);
    memcpy(unterminated, p1, l1 - 1);   /* drop the final '\n' */
    memcpy(unterminated + l1 - 1, "XXXXX", 5);
    st = parse(unterminated, l1 - 1, "cut.pem", &err);
    CHECK(st != NULL && sk_X509_num(st) == 1);
    sk_X509_pop_free(st, X509_free);
    /* Twin: the same bytes with the junk counted are not a certificate. */
    CHECK(parse(unterminated, l1 + 4, "cut.pem", &err) == NULL);
    CHECK(err.code == TC_E_INVALID);
    free(unterminated);

    /* A private key block between two certificates is skipped. */
    char *key = pem_of_key(k_leaf);
    char *with_key = cat3(p1, key, p2);
    st = parse(with_key, strlen(with_key), "server.pem", &err);
    CHECK(st != NULL && sk_X509_num(st) == 2);
    if (st) {
        CHECK(same_der(sk_X509_value(st, 0), c_leaf));
        CHECK(same_der(sk_X509_value(st, 1), c_int));
    }
    sk_X509_pop_free(st, X509_free);
    free(with_key);
    /* Twin: only the key. */
    CHECK(parse(key, strlen(key), "key.pem", &err) == NULL);
    CHECK(err.code == TC_E_INVALID);
    CHECK_HAS(err.msg, "key.pem contains no certificate");
    CHECK_HAS(err.msg, "PRIVATE KEY");
    free(key);

    /* Truncated: a BEGIN without END. */
    size_t half = strlen(p2) / 2;
    char *trunc = malloc(strlen(p1) + half + 1);
    memcpy(trunc, p1, strlen(p1));
    memcpy(trunc + strlen(p1), p2, half);
    trunc[strlen(p1) + half] = '\0';
    CHECK(parse(trunc, strlen(trunc), "chain.pem", &err) == NULL);
    CHECK(err.code == TC_E_INVALID);
    CHECK_HAS(err.msg, "chain.pem has a certificate block that is cut off or corrupted (block 2");
    free(trunc);

    /* A well-formed PEM block whose body is not a certificate. */
    static const char not_cert[] =
        "-----BEGIN CERTIFICATE-----\naGVsbG8gd29ybGQ=\n-----END CERTIFICATE-----\n";
    CHECK(parse(not_cert, sizeof(not_cert) - 1, "hello.pem", &err) == NULL);
    CHECK(err.code == TC_E_INVALID);
    CHECK_HAS(err.msg, "hello.pem has a certificate block whose contents are not a valid certificate (block 1");

    free(bundle);
    free(p1);
    free(p2);
    free(p3);
}

static void test_der_and_trusted(void)
{
    tc_error err;
    size_t dlen = 0;
    unsigned char *der = der_of(c_leaf, &dlen);

    STACK_OF(X509) *st = parse(der, dlen, "leaf.der", &err);
    CHECK(st != NULL && sk_X509_num(st) == 1);
    if (st)
        CHECK(same_der(sk_X509_value(st, 0), c_leaf));
    sk_X509_pop_free(st, X509_free);

    /* Twin: trailing bytes after the DER certificate. */
    memcpy(der + dlen, "\x01\x02\x03", 3);
    CHECK(parse(der, dlen + 3, "leaf.der", &err) == NULL);
    CHECK(err.code == TC_E_INVALID);
    CHECK_HAS(err.msg, "leaf.der holds a DER certificate followed by 3 unexpected bytes");
    /* Twin: cut off DER. */
    CHECK(parse(der, dlen - 10, "leaf.der", &err) == NULL);
    CHECK(err.code == TC_E_INVALID);
    CHECK_HAS(err.msg, "leaf.der looks like DER");
    free(der);

    /* TRUSTED CERTIFICATE (OpenSSL's X509_AUX form). */
    char *tp = pem_of(c_root, 1);
    CHECK_HAS(tp, "-----BEGIN TRUSTED CERTIFICATE-----");
    st = parse(tp, strlen(tp), "trusted.pem", &err);
    CHECK(st != NULL && sk_X509_num(st) == 1);
    if (st)
        CHECK(same_der(sk_X509_value(st, 0), c_root));
    sk_X509_pop_free(st, X509_free);
    /* Twin: the same block relabelled as something else is skipped, and
     * then there is no certificate at all. */
    char *relabel = strdup(tp);
    char *l;
    while ((l = strstr(relabel, "TRUSTED CERTIFICATE")) != NULL)
        memcpy(l, "TRUSTED  XERTIFICATE", 19);
    CHECK(parse(relabel, strlen(relabel), "trusted.pem", &err) == NULL);
    CHECK(err.code == TC_E_INVALID);
    CHECK_HAS(err.msg, "contains no certificate");
    free(relabel);
    free(tp);
}

static void test_garbage_and_empty(void)
{
    tc_error err;
    static const char garbage[] = "hello, this is not a certificate\n";
    CHECK(parse(garbage, sizeof(garbage) - 1, "root.pem", &err) == NULL);
    CHECK(err.code == TC_E_INVALID);
    CHECK_STR(err.msg, "root.pem contains no PEM certificate (no "
              "'-----BEGIN CERTIFICATE-----' line) and is not DER either");

    /* Text that starts with '0' (0x30, the DER SEQUENCE tag) is text. */
    CHECK(parse("0 certificates\n", 15, "zero.txt", &err) == NULL);
    CHECK(err.code == TC_E_INVALID);
    CHECK_HAS(err.msg, "zero.txt contains no PEM certificate");

    /* Binary noise starting with a SEQUENCE tag. */
    static const unsigned char noise[] = { 0x30, 0x82, 0xff, 0xff, 0x00, 0x01 };
    CHECK(parse(noise, sizeof(noise), "noise.bin", &err) == NULL);
    CHECK(err.code == TC_E_INVALID);
    CHECK_HAS(err.msg, "noise.bin looks like DER");

    CHECK(parse("", 0, "empty.pem", &err) == NULL);
    CHECK(err.code == TC_E_INVALID);
    CHECK_HAS(err.msg, "empty.pem is empty");
    CHECK(parse(NULL, 0, NULL, &err) == NULL);
    CHECK_HAS(err.msg, "is empty");
    CHECK(parse(" \n\t\r\n", 5, "blank.pem", &err) == NULL);
    CHECK_HAS(err.msg, "blank.pem is empty");
    /* Twin: whitespace around a real certificate is fine, and so is an
     * indented block (PEM pasted from YAML or a Python string). */
    char *p = pem_of(c_root, 0);
    char *padded = cat3("\n\n  ", p, "\n\n");
    STACK_OF(X509) *st = parse(padded, strlen(padded), "padded.pem", &err);
    CHECK(st != NULL && sk_X509_num(st) == 1);
    sk_X509_pop_free(st, X509_free);
    free(padded);
    free(p);

    /* Stale errors in the queue before the call do not confuse it. */
    ERR_raise(ERR_LIB_PEM, PEM_R_BAD_END_LINE);
    p = pem_of(c_int, 0);
    st = parse(p, strlen(p), "int.pem", &err);
    CHECK(st != NULL && sk_X509_num(st) == 1);
    sk_X509_pop_free(st, X509_free);
    free(p);
}

static void test_crls(void)
{
    tc_error err;
    X509_CRL *crl = X509_CRL_new();
    ASN1_TIME *t = ASN1_TIME_new();
    X509_REVOKED *rev = X509_REVOKED_new();
    ASN1_INTEGER *serial = ASN1_INTEGER_new();
    int ok = crl && t && rev && serial;
    ok = ok && X509_CRL_set_version(crl, X509_CRL_VERSION_2);
    ok = ok && X509_CRL_set_issuer_name(crl, X509_get_subject_name(c_root));
    ok = ok && ASN1_TIME_set(t, time(NULL)) && X509_CRL_set1_lastUpdate(crl, t);
    ok = ok && ASN1_TIME_set(t, time(NULL) + 86400) && X509_CRL_set1_nextUpdate(crl, t);
    ok = ok && ASN1_INTEGER_set(serial, 2) && X509_REVOKED_set_serialNumber(rev, serial);
    ok = ok && ASN1_TIME_set(t, time(NULL)) && X509_REVOKED_set_revocationDate(rev, t);
    ok = ok && X509_CRL_add0_revoked(crl, rev);
    if (!ok)
        X509_REVOKED_free(rev);
    ok = ok && X509_CRL_sign(crl, k_root, EVP_sha256()) > 0;
    CHECK(ok);
    ASN1_TIME_free(t);
    ASN1_INTEGER_free(serial);

    BIO *b = BIO_new(BIO_s_mem());
    char *pem = NULL;
    PEM_write_bio_X509_CRL(b, crl);
    long n = BIO_get_mem_data(b, &pem);
    STACK_OF(X509_CRL) *st = NULL;
    CHECK(tc_crls_parse((const unsigned char *)pem, (size_t)n, "root.crl", &st, &err) == TC_OK);
    CHECK(st != NULL && sk_X509_CRL_num(st) == 1);
    if (st && sk_X509_CRL_num(st) == 1)
        CHECK(X509_CRL_cmp(sk_X509_CRL_value(st, 0), crl) == 0);
    sk_X509_CRL_pop_free(st, X509_CRL_free);
    /* Twin: a certificate is not a CRL. */
    char *cp = pem_of(c_root, 0);
    CHECK(tc_crls_parse((const unsigned char *)cp, strlen(cp), "root.pem", &st, &err) == TC_FAIL);
    CHECK(st == NULL && err.code == TC_E_INVALID);
    CHECK_HAS(err.msg, "root.pem contains no CRL");
    /* crls= input: a certificate next to a CRL is a CRL signer's; a file
     * of certificates only is accepted; a broken CRL next to a
     * certificate is still an error. */
    STACK_OF(X509) *signers = NULL;
    size_t pl = (size_t)n, cl = strlen(cp);   /* a memory BIO's data has no NUL */
    char *both = malloc(pl + cl + 1);
    CHECK(both != NULL);
    if (both != NULL) {
        memcpy(both, pem, pl);
        memcpy(both + pl, cp, cl + 1);
        CHECK(tc_crl_input_parse((const unsigned char *)both, pl + cl, "crls.pem", &st, &signers, &err) == TC_OK);
        CHECK(sk_X509_CRL_num(st) == 1 && sk_X509_num(signers) == 1);
        if (sk_X509_num(signers) == 1)
            CHECK(X509_cmp(sk_X509_value(signers, 0), c_root) == 0);
        sk_X509_CRL_pop_free(st, X509_CRL_free);
        sk_X509_pop_free(signers, X509_free);
        char *crl_body = strstr(both, "-----BEGIN X509 CRL-----\n");
        if (crl_body != NULL)
            crl_body[25] = crl_body[25] == 'A' ? 'B' : 'A';   /* corrupt the CRL's DER */
        CHECK(tc_crl_input_parse((const unsigned char *)both, pl + cl, "crls.pem", &st, &signers, &err) == TC_FAIL);
        CHECK(st == NULL && signers == NULL && err.code == TC_E_INVALID);
        CHECK_HAS(err.msg, "crls.pem has a CRL block");
        free(both);
    }
    CHECK(tc_crl_input_parse((const unsigned char *)cp, cl, "signer.pem", &st, &signers, &err) == TC_OK);
    CHECK(st != NULL && sk_X509_CRL_num(st) == 0 && sk_X509_num(signers) == 1);
    sk_X509_CRL_pop_free(st, X509_CRL_free);
    sk_X509_pop_free(signers, X509_free);
    CHECK(tc_crl_input_parse((const unsigned char *)"junk", 4, "junk.pem", &st, &signers, &err) == TC_FAIL);
    CHECK(st == NULL && signers == NULL);
    CHECK_HAS(err.msg, "junk.pem contains no PEM CRL");
    free(cp);
    BIO_free(b);

    unsigned char *der = NULL;
    int dl = i2d_X509_CRL(crl, &der);
    CHECK(tc_crls_parse(der, (size_t)dl, "root.crl.der", &st, &err) == TC_OK);
    CHECK(st != NULL && sk_X509_CRL_num(st) == 1);
    sk_X509_CRL_pop_free(st, X509_CRL_free);
    /* Twin: DER with a byte missing. */
    CHECK(tc_crls_parse(der, (size_t)dl - 1, "root.crl.der", &st, &err) == TC_FAIL);
    CHECK(st == NULL && err.code == TC_E_INVALID);
    CHECK_HAS(err.msg, "is not a valid CRL");
    CHECK(ERR_peek_error() == 0);
    OPENSSL_free(der);
    X509_CRL_free(crl);
}

/* ------------------------------------------------------------------ */
/* Files                                                               */
/* ------------------------------------------------------------------ */

static void test_files(void)
{
    tc_error err;
    STACK_OF(X509) *st = NULL;
    char *p = pem_of(c_leaf, 0);
    const char *good = write_tmp("chain.pem", p, strlen(p));
    free(p);

    tc_error_clear(&err);
    CHECK(tc_certs_load_file(good, &st, &err) == TC_OK);
    CHECK(st != NULL && sk_X509_num(st) == 1);
    sk_X509_pop_free(st, X509_free);

    /* Twin: missing file. */
    char *missing = tmp_path("nope.pem");
    char expect[600];
    snprintf(expect, sizeof(expect), "cannot read %s: No such file or directory", missing);
    CHECK(tc_certs_load_file(missing, &st, &err) == TC_FAIL);
    CHECK(st == NULL && err.code == TC_E_IO && err.sys_errno == ENOENT);
    CHECK_STR(err.msg, expect);
    free(missing);

    /* A directory. */
    CHECK(tc_certs_load_file(tmpdir, &st, &err) == TC_FAIL);
    CHECK(err.code == TC_E_IO && err.sys_errno == EISDIR);
    CHECK_HAS(err.msg, "is a directory");

    /* Garbage names the file. */
    const char *junk = write_tmp("junk.pem", "junk\n", 5);
    CHECK(tc_certs_load_file(junk, &st, &err) == TC_FAIL);
    CHECK(err.code == TC_E_INVALID);
    CHECK_HAS(err.msg, junk);

    /* Over 16 MiB: refused without reading it all (a sparse file). */
    const char *big = write_tmp("big.pem", "", 0);
    CHECK(truncate(big, 17 * 1024 * 1024) == 0);
    CHECK(tc_certs_load_file(big, &st, &err) == TC_FAIL);
    CHECK(err.code == TC_E_INVALID);
    CHECK_HAS(err.msg, "16 MiB");
    /* Twin: 16 MiB of padding minus a bit plus a certificate is read. */
    CHECK(truncate(big, 0) == 0);
    p = pem_of(c_root, 0);
    FILE *f = fopen(big, "wb");
    static char spaces[1 << 16];
    memset(spaces, '\n', sizeof(spaces));
    for (int i = 0; i < 250; i++)
        fwrite(spaces, 1, sizeof(spaces), f);
    fwrite(p, 1, strlen(p), f);
    fclose(f);
    CHECK(tc_certs_load_file(big, &st, &err) == TC_OK);
    CHECK(st != NULL && sk_X509_num(st) == 1);
    sk_X509_pop_free(st, X509_free);
    free(p);
}

/* ------------------------------------------------------------------ */
/* Field extraction                                                    */
/* ------------------------------------------------------------------ */

static int list_is(const tc_strlist *l, const char *const *want, size_t n)
{
    if (l->count != n)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (strcmp(l->items[i], want[i]) != 0)
            return 0;
    return 1;
}

static void test_fields(void)
{
    tc_error err;
    tc_cert_info ci;

    /* The leaf: every extension set. */
    CHECK(tc_cert_info_extract(c_leaf, &ci, &err) == TC_OK);
    CHECK_STR(ci.subject, "CN=api.example.com,O=Example");
    CHECK_STR(ci.issuer, "CN=Test Intermediate CA");
    CHECK_STR(ci.common_name, "api.example.com");
    CHECK_STR(tc_cert_label(&ci), "api.example.com");
    static const char *const dns[] = { "api.example.com", "*.eu.example.com" };
    static const char *const ips[] = { "10.0.0.1", "2001:db8::1" };
    static const char *const mails[] = { "ops@example.com" };
    static const char *const ku[] = { "digitalSignature", "keyEncipherment" };
    static const char *const eku[] = { "serverAuth", "clientAuth", "1.2.3.4.5" };
    static const char *const cai[] = { "http://ca.example/int.crt" };
    static const char *const ocsp[] = { "http://ocsp.example/" };
    CHECK(list_is(&ci.dns_names, dns, 2));
    CHECK(list_is(&ci.ip_addresses, ips, 2));
    CHECK(list_is(&ci.email_addresses, mails, 1));
    CHECK(list_is(&ci.key_usage, ku, 2));
    CHECK(list_is(&ci.extended_key_usage, eku, 3));
    CHECK(list_is(&ci.ca_issuers, cai, 1));
    CHECK(list_is(&ci.ocsp_urls, ocsp, 1));
    CHECK_STR(ci.serial_hex, "0a1b");
    CHECK(ci.not_before == 1700000000);
    CHECK(ci.not_after == 1900000000);
    CHECK(ci.key_type == TC_KEY_EC);
    CHECK_STR(ci.key_type_name, "EC");
    CHECK(ci.key_bits == 256);
    CHECK_STR(ci.key_curve, "prime256v1");
    CHECK_STR(ci.signature_algorithm, "ecdsa-with-SHA256");
    CHECK(ci.version == 3);
    CHECK(ci.has_basic_constraints == 1 && ci.is_ca == 0 && ci.path_length == -1);
    CHECK(ci.self_signed == 0 && ci.self_issued == 0);
    CHECK(ci.names_have_nul == 0);
    /* DER copy and fingerprint, computed independently. */
    size_t dlen = 0;
    unsigned char *der = der_of(c_leaf, &dlen);
    unsigned char md[32];
    CHECK(EVP_Digest(der, dlen, md, NULL, EVP_sha256(), NULL) == 1);
    CHECK(ci.der_len == dlen && memcmp(ci.der, der, dlen) == 0);
    CHECK(memcmp(ci.sha256, md, 32) == 0);
    free(der);
    tc_cert_info_clear(&ci);
    CHECK(ci.subject == NULL && ci.der == NULL && ci.dns_names.count == 0);

    /* The intermediate: a CA with a path length. */
    CHECK(tc_cert_info_extract(c_int, &ci, &err) == TC_OK);
    CHECK(ci.has_basic_constraints && ci.is_ca && ci.path_length == 2);
    static const char *const caku[] = { "keyCertSign", "cRLSign" };
    CHECK(list_is(&ci.key_usage, caku, 2));
    CHECK(ci.self_signed == 0 && ci.self_issued == 0);
    tc_cert_info_clear(&ci);

    /* The root: self-signed, CA without a path length. */
    CHECK(tc_cert_info_extract(c_root, &ci, &err) == TC_OK);
    CHECK(ci.is_ca && ci.path_length == -1);
    CHECK(ci.self_signed == 1 && ci.self_issued == 1);
    CHECK_STR(ci.subject, "CN=Test Root CA,O=tlscheck tests");
    CHECK_STR(ci.serial_hex, "01");
    tc_cert_info_clear(&ci);

    /* Twin of self_signed: same name as its issuer, signed by another key. */
    X509 *self_issued = mk_cert(&(mint){ .cn = "Test Root CA", .org = "tlscheck tests",
                                         .key = k_other, .issuer = c_root,
                                         .issuer_key = k_root, .exts = CA_EXTS });
    CHECK(tc_cert_info_extract(self_issued, &ci, &err) == TC_OK);
    CHECK(ci.self_issued == 1 && ci.self_signed == 0);
    tc_cert_info_clear(&ci);
    X509_free(self_issued);

    /* A bare certificate: no extension at all, no CN. */
    EVP_PKEY *k = mk_key("ec");
    X509 *bare = mk_cert(&(mint){ .org = "Only Org", .key = k, .issuer = c_root,
                                  .issuer_key = k_root });
    CHECK(tc_cert_info_extract(bare, &ci, &err) == TC_OK);
    CHECK(ci.common_name == NULL);
    CHECK_STR(tc_cert_label(&ci), "O=Only Org");
    CHECK(ci.dns_names.count == 0 && ci.ip_addresses.count == 0 &&
          ci.email_addresses.count == 0 && ci.key_usage.count == 0 &&
          ci.extended_key_usage.count == 0 && ci.ca_issuers.count == 0 &&
          ci.ocsp_urls.count == 0);
    CHECK(ci.has_basic_constraints == 0 && ci.is_ca == 0 && ci.path_length == -1);
    tc_cert_info_clear(&ci);
    X509_free(bare);

    /* Times outside 1970..2038: before the epoch, and the RFC 5280
     * "no well-defined expiration" value 99991231235959Z. */
    X509 *wide = mk_cert(&(mint){ .cn = "wide", .key = k, .issuer = c_root,
                                  .issuer_key = k_root, .not_before = -86400,
                                  .not_after = 253402300799LL, .serial = 0x80 });
    CHECK(tc_cert_info_extract(wide, &ci, &err) == TC_OK);
    CHECK(ci.not_before == -86400);
    CHECK(ci.not_after == 253402300799LL);
    CHECK_STR(ci.serial_hex, "80");
    tc_cert_info_clear(&ci);
    X509_free(wide);

    /* Malformed but decodable: a damaged notAfter time and a SAN
     * extension present twice.  Extraction still works and says so. */
    static const ext_spec twice[] = {
        { NID_subject_alt_name, "DNS:one.example" },
        { NID_subject_alt_name, "DNS:two.example" },
        { 0, NULL },
    };
    X509 *dup = mk_cert(&(mint){ .cn = "dup", .key = k, .issuer = c_root,
                                 .issuer_key = k_root, .exts = twice,
                                 .not_after = 1900000000 });
    size_t dl = 0;
    unsigned char *dd = der_of(dup, &dl);
    unsigned char *tq = memmem(dd, dl, "300317174640Z", 13);
    CHECK(tq != NULL);
    if (tq)
        tq[4] = 'x';
    STACK_OF(X509) *st = parse(dd, dl, "bad-time.der", &err);
    CHECK(st != NULL && sk_X509_num(st) == 1);
    if (st) {
        CHECK(tc_cert_info_extract(sk_X509_value(st, 0), &ci, &err) == TC_OK);
        CHECK_HAS(ci.malformed, "its notAfter time is not a valid UTCTime or GeneralizedTime");
        CHECK_HAS(ci.malformed, "its subjectAltName extension appears more than once");
        CHECK(ci.not_after == 0 && ci.not_before != 0);
        CHECK(ci.dns_names.count == 0);
        CHECK_STR(ci.common_name, "dup");
        tc_cert_info_clear(&ci);
        CHECK(ci.malformed == NULL);
    }
    sk_X509_pop_free(st, X509_free);
    free(dd);
    X509_free(dup);
    /* Twin: the well-formed leaf has nothing malformed. */
    CHECK(tc_cert_info_extract(c_leaf, &ci, &err) == TC_OK);
    CHECK(ci.malformed == NULL);
    tc_cert_info_clear(&ci);

    /* Empty subject. */
    X509 *empty = mk_cert(&(mint){ .key = k, .issuer = c_root, .issuer_key = k_root });
    CHECK(tc_cert_info_extract(empty, &ci, &err) == TC_OK);
    CHECK_STR(ci.subject, "");
    CHECK_STR(tc_cert_label(&ci), "(empty subject)");
    tc_cert_info_clear(&ci);
    X509_free(empty);
    EVP_PKEY_free(k);

    CHECK(tc_cert_info_extract(NULL, &ci, &err) == TC_FAIL);
    CHECK(err.code == TC_E_INVALID);
    tc_cert_info_clear(NULL);
}

static void test_key_types(void)
{
    static const struct {
        const char *key;
        tc_key_type type;
        const char *name;
        int bits;
        const char *curve;     /* NULL: none expected */
        const char *sig;
    } ROWS[] = {
        { "rsa", TC_KEY_RSA, "RSA", 1024, NULL, "sha256WithRSAEncryption" },
        { "ec", TC_KEY_EC, "EC", 256, "prime256v1", "ecdsa-with-SHA256" },
        { "ec384", TC_KEY_EC, "EC", 384, "secp384r1", "ecdsa-with-SHA256" },
        { "ed25519", TC_KEY_ED25519, "Ed25519", 255, NULL, "ED25519" },
    };
    for (size_t i = 0; i < sizeof(ROWS) / sizeof(ROWS[0]); i++) {
        tc_error err;
        tc_cert_info ci;
        EVP_PKEY *k = mk_key(ROWS[i].key);
        X509 *x = mk_cert(&(mint){ .cn = "k.example", .key = k });   /* self-signed */
        CHECK(tc_cert_info_extract(x, &ci, &err) == TC_OK);
        CHECK(ci.key_type == ROWS[i].type);
        CHECK_STR(ci.key_type_name, ROWS[i].name);
        CHECK(ci.key_bits == ROWS[i].bits);
        if (ROWS[i].curve)
            CHECK_STR(ci.key_curve, ROWS[i].curve);
        else
            CHECK(ci.key_curve == NULL);
        CHECK_STR(ci.signature_algorithm, ROWS[i].sig);
        CHECK(ci.self_signed == 1);
        tc_cert_info_clear(&ci);
        X509_free(x);
        EVP_PKEY_free(k);
    }
    /* sha1 on RSA: the signature name follows the certificate. */
    tc_error err;
    tc_cert_info ci;
    EVP_PKEY *k = mk_key("rsa");
    X509 *x = mk_cert(&(mint){ .cn = "old.example", .key = k, .md = "sha1" });
    CHECK(tc_cert_info_extract(x, &ci, &err) == TC_OK);
    CHECK_STR(ci.signature_algorithm, "sha1WithRSAEncryption");
    tc_cert_info_clear(&ci);
    X509_free(x);
    EVP_PKEY_free(k);
}

typedef struct san_row {
    int type;            /* GEN_DNS, GEN_IPADD, GEN_EMAIL */
    const char *v;       /* raw bytes */
    size_t n;
} san_row;

static GENERAL_NAMES *raw_sans(const san_row *rows, size_t nrows)
{
    GENERAL_NAMES *g = GENERAL_NAMES_new();
    for (size_t i = 0; i < nrows; i++) {
        GENERAL_NAME *gn = GENERAL_NAME_new();
        ASN1_STRING *s = rows[i].type == GEN_IPADD ? ASN1_OCTET_STRING_new()
                                                  : ASN1_IA5STRING_new();
        ASN1_STRING_set(s, rows[i].v, (int)rows[i].n);
        GENERAL_NAME_set0_value(gn, rows[i].type, s);
        sk_GENERAL_NAME_push(g, gn);
    }
    return g;
}

static void test_hostile_names(void)
{
    tc_error err;
    tc_cert_info ci;
    EVP_PKEY *k = mk_key("ec");

    /* Control characters and a NUL in the CN. */
    static const char evil_cn[] = "evil\n\x1b[31mred\x7f\0.good.com";
    X509 *x = mk_cert(&(mint){ .cn = evil_cn, .cn_len = sizeof(evil_cn) - 1,
                               .key = k, .issuer = c_root, .issuer_key = k_root });
    CHECK(tc_cert_info_extract(x, &ci, &err) == TC_OK);
    CHECK_STR(ci.common_name, "evil\\x0a\\x1b[31mred\\x7f\\x00.good.com");
    CHECK_STR(ci.subject, "CN=evil\\x0a\\x1b[31mred\\x7f\\x00.good.com");
    CHECK(ci.names_have_nul == 1);
    tc_cert_info_clear(&ci);
    X509_free(x);

    /* Twin: readable UTF-8 stays as it is, no NUL flagged. */
    x = mk_cert(&(mint){ .cn = "Z\xc3\xbcrich \xe2\x82\xac", .key = k,
                         .issuer = c_root, .issuer_key = k_root });
    CHECK(tc_cert_info_extract(x, &ci, &err) == TC_OK);
    CHECK_STR(ci.common_name, "Z\xc3\xbcrich \xe2\x82\xac");
    CHECK_STR(ci.subject, "CN=Z\xc3\xbcrich \xe2\x82\xac");
    CHECK(ci.names_have_nul == 0);
    tc_cert_info_clear(&ci);
    X509_free(x);

    /* A T61String is read as Latin-1: U+009B (a C1 control, CSI on some
     * terminals) is escaped, U+00E9 stays readable. */
    x = mk_cert(&(mint){ .cn = "a\x9bz\xe9", .cn_type = V_ASN1_T61STRING,
                         .key = k, .issuer = c_root, .issuer_key = k_root });
    CHECK(tc_cert_info_extract(x, &ci, &err) == TC_OK);
    CHECK_STR(ci.common_name, "a\\xc2\\x9bz\xc3\xa9");
    CHECK_STR(ci.subject, "CN=a\\xc2\\x9bz\xc3\xa9");
    tc_cert_info_clear(&ci);
    X509_free(x);

    /* Invalid UTF-8 inside a UTF8String subject: OpenSSL refuses to decode
     * such a name, so the certificate does not parse (it is malformed). */
    x = mk_cert(&(mint){ .cn = "aQQb", .key = k, .issuer = c_root,
                         .issuer_key = k_root });
    size_t dlen = 0;
    unsigned char *der = der_of(x, &dlen);
    STACK_OF(X509) *st = parse(der, dlen, "utf8.der", &err);
    CHECK(st != NULL && sk_X509_num(st) == 1);   /* twin: intact it parses */
    sk_X509_pop_free(st, X509_free);
    unsigned char *q = memmem(der, dlen, "aQQb", 4);
    CHECK(q != NULL);
    if (q) {
        q[1] = 0xff;
        q[2] = 0xfe;
        CHECK(parse(der, dlen, "utf8.der", &err) == NULL);
        CHECK(err.code == TC_E_INVALID);
        CHECK_HAS(err.msg, "utf8.der looks like DER");
    }
    free(der);
    X509_free(x);

    /* A BMPString CN is converted to UTF-8. */
    static const char bmp[] = "\0h\0i\0\xe9";
    x = mk_cert(&(mint){ .cn = bmp, .cn_len = 6, .cn_type = V_ASN1_BMPSTRING,
                         .key = k, .issuer = c_root, .issuer_key = k_root });
    CHECK(tc_cert_info_extract(x, &ci, &err) == TC_OK);
    CHECK_STR(ci.common_name, "hi\xc3\xa9");
    CHECK(ci.names_have_nul == 0);
    tc_cert_info_clear(&ci);
    X509_free(x);

    /* SANs: a NUL inside a dNSName, a backslash, odd IP lengths. */
    static const san_row rows[] = {
        { GEN_DNS, "evil.com\0.good.com", 18 },
        { GEN_DNS, "back\\x00slash", 13 },
        { GEN_DNS, "a\xff\xfe" "b\xc2\x9b" "c\xe2\x82", 9 },
        { GEN_IPADD, "\x0a\x00\x00\x01\xff\xff\xff\x00", 8 },
        { GEN_IPADD, "\x7f\x00\x00\x01", 4 },
        { GEN_IPADD, "\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\x01", 16 },
        { GEN_EMAIL, "a@b\r\nc", 6 },
    };
    GENERAL_NAMES *g = raw_sans(rows, sizeof(rows) / sizeof(rows[0]));
    x = mk_cert(&(mint){ .cn = "clean", .key = k, .issuer = c_root,
                         .issuer_key = k_root, .san_raw = g });
    GENERAL_NAMES_free(g);
    CHECK(tc_cert_info_extract(x, &ci, &err) == TC_OK);
    static const char *const dns[] = { "evil.com\\x00.good.com", "back\\x5cx00slash",
                                       "a\\xff\\xfeb\\xc2\\x9bc\\xe2\\x82" };
    static const char *const ips[] = { "\\x0a\\x00\\x00\\x01\\xff\\xff\\xff\\x00",
                                       "127.0.0.1", "::1" };
    static const char *const mails[] = { "a@b\\x0d\\x0ac" };
    CHECK(list_is(&ci.dns_names, dns, 3));
    CHECK(list_is(&ci.ip_addresses, ips, 3));
    CHECK(list_is(&ci.email_addresses, mails, 1));
    CHECK(ci.names_have_nul == 1);
    tc_cert_info_clear(&ci);
    X509_free(x);

    /* Twin: the same shape without the NUL. */
    static const san_row clean_rows[] = {
        { GEN_DNS, "evil.com.good.com", 17 },
    };
    g = raw_sans(clean_rows, 1);
    x = mk_cert(&(mint){ .cn = "clean", .key = k, .issuer = c_root,
                         .issuer_key = k_root, .san_raw = g });
    GENERAL_NAMES_free(g);
    CHECK(tc_cert_info_extract(x, &ci, &err) == TC_OK);
    CHECK(ci.dns_names.count == 1 && ci.names_have_nul == 0);
    tc_cert_info_clear(&ci);
    X509_free(x);
    EVP_PKEY_free(k);
}

static void test_huge(void)
{
    tc_error err;
    tc_cert_info ci;
    EVP_PKEY *k = mk_key("ec");

    /* 10,000 SANs, through PEM and back. */
    enum { NSAN = 10000 };
    size_t cap = (size_t)NSAN * 24 + 1, o = 0;
    char *v = malloc(cap);
    for (int i = 0; i < NSAN; i++)
        o += (size_t)snprintf(v + o, cap - o, "%sDNS:h%d.example.com", i ? "," : "", i);
    const ext_spec exts[] = { { NID_subject_alt_name, v }, { 0, NULL } };
    X509 *x = mk_cert(&(mint){ .cn = "many", .key = k, .issuer = c_root,
                               .issuer_key = k_root, .exts = exts });
    free(v);
    char *pem = pem_of(x, 0);
    STACK_OF(X509) *st = parse(pem, strlen(pem), "many.pem", &err);
    CHECK(st != NULL && sk_X509_num(st) == 1);
    if (st) {
        CHECK(tc_cert_info_extract(sk_X509_value(st, 0), &ci, &err) == TC_OK);
        CHECK(ci.dns_names.count == NSAN);
        if (ci.dns_names.count == NSAN) {
            CHECK_STR(ci.dns_names.items[0], "h0.example.com");
            CHECK_STR(ci.dns_names.items[NSAN - 1], "h9999.example.com");
        }
        tc_cert_info_clear(&ci);
    }
    sk_X509_pop_free(st, X509_free);
    free(pem);
    X509_free(x);

    /* A 64 KB subject CN. */
    size_t n = 64 * 1024;
    char *cn = malloc(n);
    memset(cn, 'a', n);
    x = mk_cert(&(mint){ .cn = cn, .cn_len = n, .key = k, .issuer = c_root,
                         .issuer_key = k_root });
    free(cn);
    pem = pem_of(x, 0);
    st = parse(pem, strlen(pem), "long.pem", &err);
    CHECK(st != NULL && sk_X509_num(st) == 1);
    if (st) {
        CHECK(tc_cert_info_extract(sk_X509_value(st, 0), &ci, &err) == TC_OK);
        CHECK(ci.common_name && strlen(ci.common_name) == n);
        CHECK(ci.subject && strlen(ci.subject) == n + 3);
        tc_cert_info_clear(&ci);
    }
    sk_X509_pop_free(st, X509_free);
    free(pem);
    X509_free(x);
    EVP_PKEY_free(k);
}

/* Deterministic mutations of the leaf's DER: whatever OpenSSL decodes,
 * tc_cert_info_extract must describe (a hostile server's certificate is
 * reported, never dropped), and nothing may crash or leak. */
static void test_mutations(void)
{
    size_t dlen = 0;
    unsigned char *orig = der_of(c_leaf, &dlen);
    unsigned char *m = malloc(dlen);
    uint32_t rng = 12345;
    int parsed = 0, extracted = 0, flagged = 0;
    for (int it = 0; it < 600; it++) {
        memcpy(m, orig, dlen);
        size_t len = dlen;
        for (int j = 0; j < 1 + it % 4; j++) {
            rng = rng * 1103515245u + 12345u;
            size_t pos = (rng >> 8) % dlen;
            rng = rng * 1103515245u + 12345u;
            m[pos] = (unsigned char)(rng >> 16);
        }
        if (it % 7 == 0)
            len = (size_t)(rng >> 4) % dlen;
        STACK_OF(X509) *st = NULL;
        tc_error err;
        if (tc_certs_parse(m, len, "mutant.der", &st, &err) != TC_OK) {
            if (err.code != TC_E_INVALID || err.msg[0] == '\0')
                CHECK(!"a failed parse is TC_E_INVALID with a message");
            continue;
        }
        parsed++;
        tc_cert_info ci;
        if (tc_cert_info_extract(sk_X509_value(st, 0), &ci, &err) == TC_OK) {
            extracted++;
            flagged += ci.malformed != NULL;
            tc_cert_info_clear(&ci);
        }
        sk_X509_pop_free(st, X509_free);
    }
    CHECK(parsed > 20);            /* the mutations do reach extraction */
    CHECK(extracted == parsed);
    CHECK(flagged > 0);            /* and some of them are flagged */
    CHECK(ERR_peek_error() == 0);
    free(m);
    free(orig);
}

/* ------------------------------------------------------------------ */
/* Trust stores                                                        */
/* ------------------------------------------------------------------ */

/* Does OpenSSL build leaf -> int -> anchor with this store? */
static int chain_verifies(const tc_trust *t)
{
    STACK_OF(X509) *untrusted = sk_X509_new_null();
    X509_STORE_CTX *ctx = X509_STORE_CTX_new();
    int ok = 0;
    sk_X509_push(untrusted, c_int);
    if (X509_STORE_CTX_init(ctx, tc_trust_store(t), c_leaf, untrusted) == 1)
        ok = X509_verify_cert(ctx) == 1;
    X509_STORE_CTX_free(ctx);
    sk_X509_free(untrusted);
    ERR_clear_error();
    return ok;
}

static void test_trust_file(void)
{
    tc_error err;
    tc_trust *t = NULL;
    char *p = pem_of(c_root, 0);
    const char *root = write_tmp("root.pem", p, strlen(p));
    free(p);

    tc_error_clear(&err);
    CHECK(tc_trust_new_path(root, &t, &err) == TC_OK);
    char want[600];
    snprintf(want, sizeof(want), "the anchors in %s", root);
    CHECK_STR(tc_trust_describe(t), want);
    CHECK(tc_trust_contains(t, c_root) == 1);
    CHECK(tc_trust_contains(t, c_other_root) == 0);
    CHECK(tc_trust_contains(t, c_impostor_root) == 0);
    CHECK(tc_trust_contains(t, c_int) == 0);
    CHECK(chain_verifies(t));
    tc_trust_free(t);

    /* Twin: trust the other root only; the chain no longer verifies. */
    p = pem_of(c_other_root, 0);
    const char *other = write_tmp("other.pem", p, strlen(p));
    free(p);
    CHECK(tc_trust_new_path(other, &t, &err) == TC_OK);
    CHECK(tc_trust_contains(t, c_root) == 0);
    CHECK(!chain_verifies(t));
    tc_trust_free(t);

    /* A file with no certificate. */
    const char *keyonly = write_tmp("notes.txt", "just notes\n", 11);
    CHECK(tc_trust_new_path(keyonly, &t, &err) == TC_FAIL);
    CHECK(t == NULL && err.code == TC_E_INVALID);
    CHECK_HAS(err.msg, keyonly);
    /* A missing path. */
    char *missing = tmp_path("missing.pem");
    CHECK(tc_trust_new_path(missing, &t, &err) == TC_FAIL);
    CHECK(t == NULL && err.code == TC_E_IO && err.sys_errno == ENOENT);
    CHECK_HAS(err.msg, missing);
    CHECK_HAS(err.msg, "No such file or directory");
    free(missing);
    CHECK(tc_trust_new_path("", &t, &err) == TC_FAIL);
    CHECK(err.code == TC_E_INVALID);
}

static void test_trust_dir(void)
{
    tc_error err;
    tc_trust *t = NULL;

    /* Unhashed: root.crt among unrelated files. */
    mkdir_tmp("anchors");
    char *p = pem_of(c_root, 0);
    write_tmp("anchors/root.crt", p, strlen(p));
    write_tmp("anchors/README.txt", "not a cert\n", 11);
    write_tmp("anchors/broken.pem", "-----BEGIN CERTIFICATE-----\nAAA\n", 32);
    free(p);
    char *dir = tmp_path("anchors");
    tc_error_clear(&err);
    CHECK(tc_trust_new_path(dir, &t, &err) == TC_OK);
    char want[600];
    snprintf(want, sizeof(want), "the anchors in directory %s/", dir);
    CHECK_STR(tc_trust_describe(t), want);
    CHECK(tc_trust_contains(t, c_root) == 1);
    CHECK(tc_trust_contains(t, c_impostor_root) == 0);
    CHECK(tc_trust_contains(t, c_other_root) == 0);
    CHECK(chain_verifies(t));
    tc_trust_free(t);
    free(dir);

    /* Hashed only: one "<hash>.0" file, found by the hash lookup too. */
    mkdir_tmp("hashed");
    char name[64];
    snprintf(name, sizeof(name), "hashed/%08lx.0", X509_subject_name_hash(c_root));
    p = pem_of(c_root, 0);
    write_tmp(name, p, strlen(p));
    free(p);
    dir = tmp_path("hashed/");
    CHECK(tc_trust_new_path(dir, &t, &err) == TC_OK);
    snprintf(want, sizeof(want), "the anchors in directory %s", dir);
    CHECK_STR(tc_trust_describe(t), want);
    CHECK(tc_trust_contains(t, c_root) == 1);
    CHECK(tc_trust_contains(t, c_impostor_root) == 0);
    CHECK(chain_verifies(t));
    tc_trust_free(t);
    free(dir);

    /* Twin: a directory without any certificate. */
    mkdir_tmp("empty");
    write_tmp("empty/README.txt", "nothing\n", 8);
    write_tmp("empty/bad.pem", "garbage\n", 8);
    dir = tmp_path("empty");
    CHECK(tc_trust_new_path(dir, &t, &err) == TC_FAIL);
    CHECK(t == NULL && err.code == TC_E_INVALID);
    CHECK_HAS(err.msg, "contains no certificate");
    CHECK_HAS(err.msg, dir);
    free(dir);
}

static void test_trust_certs(void)
{
    tc_error err;
    tc_trust *t = NULL;
    STACK_OF(X509) *anchors = sk_X509_new_null();
    sk_X509_push(anchors, c_root);
    sk_X509_push(anchors, c_other_root);
    tc_error_clear(&err);
    CHECK(tc_trust_new_certs(anchors, &t, &err) == TC_OK);
    sk_X509_free(anchors);   /* the store keeps its own references */
    CHECK_STR(tc_trust_describe(t), "the 2 trust anchors given");
    CHECK(tc_trust_contains(t, c_root) == 1);
    CHECK(tc_trust_contains(t, c_other_root) == 1);
    CHECK(tc_trust_contains(t, c_impostor_root) == 0);
    CHECK(tc_trust_contains(t, c_leaf) == 0);
    CHECK(tc_trust_contains(t, NULL) == 0);
    CHECK(chain_verifies(t));
    /* Reference counting: two refs, two frees. */
    tc_trust *t2 = tc_trust_ref(t);
    CHECK(t2 == t);
    tc_trust_free(t);
    CHECK(tc_trust_contains(t2, c_root) == 1);
    tc_trust_free(t2);
    tc_trust_free(NULL);

    /* Twin: an anchor list without the chain's root. */
    anchors = sk_X509_new_null();
    sk_X509_push(anchors, c_impostor_root);
    CHECK(tc_trust_new_certs(anchors, &t, &err) == TC_OK);
    CHECK_STR(tc_trust_describe(t), "the 1 trust anchor given");
    CHECK(tc_trust_contains(t, c_root) == 0);
    CHECK(!chain_verifies(t));
    tc_trust_free(t);
    sk_X509_free(anchors);

    anchors = sk_X509_new_null();
    CHECK(tc_trust_new_certs(anchors, &t, &err) == TC_FAIL);
    CHECK(t == NULL && err.code == TC_E_INVALID);
    CHECK_HAS(err.msg, "empty");
    sk_X509_free(anchors);
    CHECK(tc_trust_store(NULL) == NULL);
    CHECK(tc_trust_contains(NULL, c_root) == 0);
}

/* Named lists (tc_trust_new_mozilla, tc_trust_set_compare), unions, the
 * per-part sources, and tc_trust_elsewhere: "system" is a bundle with the
 * other root, "Mozilla's list" a bundle with ours. */
static void test_trust_named(void)
{
    tc_error err;
    tc_trust *sys = NULL, *moz = NULL, *u = NULL, *certs = NULL, *uu = NULL;
    char *p = pem_of(c_other_root, 0);
    const char *sysfile = write_tmp("named-sys.pem", p, strlen(p));
    free(p);
    p = pem_of(c_root, 0);
    const char *mozfile = write_tmp("named-moz.pem", p, strlen(p));
    free(p);
    mkdir_tmp("named-sysdir");
    char *dir = tmp_path("named-sysdir");
    setenv("SSL_CERT_FILE", sysfile, 1);
    setenv("SSL_CERT_DIR", dir, 1);
    tc_error_clear(&err);

    CHECK(tc_trust_new_system(&sys, &err) == TC_OK);
    char want[700];
    snprintf(want, sizeof(want), "system (%s, %s)", sysfile, dir);
    CHECK(tc_trust_source_count(sys) == 1);
    CHECK_STR(tc_trust_source(sys, 0), want);
    CHECK(tc_trust_source(sys, 1) == NULL);
    /* Not compared before it is told with what. */
    CHECK(tc_trust_elsewhere(sys, c_root, 0) == TC_ELSEWHERE_NONE);
    tc_trust_free(sys);
    CHECK(tc_trust_new_system(&sys, &err) == TC_OK);
    CHECK(tc_trust_set_compare(sys, mozfile, &err) == TC_OK);
    CHECK(tc_trust_elsewhere(sys, c_root, 0) == TC_ELSEWHERE_MOZILLA);
    CHECK(tc_trust_elsewhere(sys, c_root, 0) == TC_ELSEWHERE_MOZILLA);  /* kept */
    CHECK(tc_trust_elsewhere(sys, c_impostor_root, 0) == TC_ELSEWHERE_NONE);
    CHECK(tc_trust_elsewhere(sys, c_other_root, 0) == TC_ELSEWHERE_NONE);
    CHECK(tc_trust_elsewhere(sys, c_int, 1) == TC_ELSEWHERE_MOZILLA);   /* issued by c_root */
    CHECK(tc_trust_elsewhere(sys, c_leaf, 1) == TC_ELSEWHERE_NONE);     /* by c_int */
    CHECK(tc_trust_elsewhere(sys, c_int, 0) == TC_ELSEWHERE_NONE);

    CHECK(tc_trust_new_mozilla(mozfile, "certifi 1.0", &moz, &err) == TC_OK);
    snprintf(want, sizeof(want), "certifi 1.0 (%s)", mozfile);
    CHECK_STR(tc_trust_source(moz, 0), want);
    snprintf(want, sizeof(want), "Mozilla's list of roots from certifi 1.0 (%s)", mozfile);
    CHECK_STR(tc_trust_describe(moz), want);
    CHECK(tc_trust_contains(moz, c_root) == 1);
    CHECK(chain_verifies(moz));
    CHECK(tc_trust_elsewhere(moz, c_other_root, 0) == TC_ELSEWHERE_SYSTEM);
    CHECK(tc_trust_elsewhere(moz, c_impostor_root, 0) == TC_ELSEWHERE_NONE);
    CHECK(tc_trust_set_compare(moz, mozfile, &err) == TC_FAIL && err.code == TC_E_INVALID);
    CHECK(tc_trust_new_mozilla(mozfile, "", &u, &err) == TC_FAIL && u == NULL);

    /* Both lists in one store: nothing to compare with. */
    tc_trust *both[] = { sys, moz };
    CHECK(tc_trust_new_union(both, 2, &u, &err) == TC_OK);
    CHECK(tc_trust_source_count(u) == 2);
    CHECK_STR(tc_trust_source(u, 1), tc_trust_source(moz, 0));
    CHECK(tc_trust_contains(u, c_root) && tc_trust_contains(u, c_other_root));
    CHECK(chain_verifies(u));
    CHECK(tc_trust_elsewhere(u, c_impostor_root, 0) == TC_ELSEWHERE_NONE);
    snprintf(want, sizeof(want), "%s and %s", tc_trust_describe(sys), tc_trust_describe(moz));
    CHECK_STR(tc_trust_describe(u), want);
    /* A union is not a part of another. */
    tc_trust *nested[] = { u, sys };
    CHECK(tc_trust_new_union(nested, 2, &uu, &err) == TC_FAIL && uu == NULL);
    CHECK_HAS(err.msg, "itself a list");
    tc_trust_free(u);
    u = NULL;
    CHECK(tc_trust_new_union(both, 0, &u, &err) == TC_FAIL && u == NULL);

    /* The system store plus explicit anchors keeps the system's comparison. */
    STACK_OF(X509) *sk = sk_X509_new_null();
    sk_X509_push(sk, c_impostor_root);
    CHECK(tc_trust_new_certs(sk, &certs, &err) == TC_OK);
    sk_X509_free(sk);
    CHECK_STR(tc_trust_source(certs, 0), "certificates (1)");
    tc_trust *mixed[] = { sys, certs };
    CHECK(tc_trust_new_union(mixed, 2, &u, &err) == TC_OK);
    CHECK(tc_trust_contains(u, c_impostor_root) && tc_trust_contains(u, c_other_root));
    CHECK(!chain_verifies(u));
    CHECK(tc_trust_elsewhere(u, c_root, 0) == TC_ELSEWHERE_MOZILLA);
    tc_trust_free(u);
    tc_trust_free(certs);

    /* A comparison bundle that cannot be read: no words, and no crash. */
    tc_trust_free(sys);
    CHECK(tc_trust_new_system(&sys, &err) == TC_OK);
    char *gone = tmp_path("named-missing.pem");
    CHECK(tc_trust_set_compare(sys, gone, &err) == TC_OK);
    CHECK(tc_trust_elsewhere(sys, c_root, 0) == TC_ELSEWHERE_NONE);
    CHECK(tc_trust_elsewhere(sys, c_root, 0) == TC_ELSEWHERE_NONE);
    free(gone);
    CHECK(ERR_peek_error() == 0);

    tc_trust_free(sys);
    tc_trust_free(moz);
    unsetenv("SSL_CERT_FILE");
    unsetenv("SSL_CERT_DIR");
    free(dir);
}

static void test_trust_system(void)
{
    tc_error err;
    tc_trust *t = NULL;
    char *p = pem_of(c_root, 0);
    const char *file = write_tmp("sys-bundle.pem", p, strlen(p));
    free(p);
    mkdir_tmp("sysdir");
    char *dir = tmp_path("sysdir");

    setenv("SSL_CERT_FILE", file, 1);
    setenv("SSL_CERT_DIR", dir, 1);
    tc_error_clear(&err);
    CHECK(tc_trust_new_system(&t, &err) == TC_OK);
    char want[600];
    snprintf(want, sizeof(want), "the system trust store (%s / %s)", file, dir);
    CHECK_STR(tc_trust_describe(t), want);
    CHECK(tc_trust_contains(t, c_root) == 1);
    CHECK(tc_trust_contains(t, c_impostor_root) == 0);
    CHECK(tc_trust_contains(t, c_other_root) == 0);
    CHECK(chain_verifies(t));
    tc_trust_free(t);

    /* Twin: pointed at the other root, ours is not trusted. */
    p = pem_of(c_other_root, 0);
    file = write_tmp("sys-other.pem", p, strlen(p));
    free(p);
    setenv("SSL_CERT_FILE", file, 1);
    CHECK(tc_trust_new_system(&t, &err) == TC_OK);
    CHECK(tc_trust_contains(t, c_root) == 0);
    CHECK(tc_trust_contains(t, c_other_root) == 1);
    CHECK(!chain_verifies(t));
    tc_trust_free(t);
    unsetenv("SSL_CERT_FILE");
    unsetenv("SSL_CERT_DIR");

    /* Without overrides the description names OpenSSL's defaults. */
    CHECK(tc_trust_new_system(&t, &err) == TC_OK);
    snprintf(want, sizeof(want), "the system trust store (%s / %s)",
             X509_get_default_cert_file(), X509_get_default_cert_dir());
    CHECK_STR(tc_trust_describe(t), want);
    tc_trust_free(t);
    free(dir);
}

/* Many threads sharing one store: ref, look up, free. */
static void *trust_worker(void *arg)
{
    tc_trust *t = arg;
    long good = 0;
    for (int i = 0; i < 200; i++) {
        tc_trust *mine = tc_trust_ref(t);
        good += tc_trust_contains(mine, c_root) == 1 &&
                tc_trust_contains(mine, c_impostor_root) == 0;
        tc_trust_free(mine);
    }
    return (void *)good;
}

static void test_trust_threads(void)
{
    tc_error err;
    tc_trust *t = NULL;
    char *dir = tmp_path("anchors");
    CHECK(tc_trust_new_path(dir, &t, &err) == TC_OK);
    free(dir);
    pthread_t th[8];
    for (int i = 0; i < 8; i++)
        CHECK(pthread_create(&th[i], NULL, trust_worker, tc_trust_ref(t)) == 0);
    for (int i = 0; i < 8; i++) {
        void *r = NULL;
        CHECK(pthread_join(th[i], &r) == 0);
        CHECK((long)r == 200);
        tc_trust_free(t);   /* the ref handed to thread i */
    }
    tc_trust_free(t);
}

int main(void)
{
    snprintf(tmpdir, sizeof(tmpdir), "/tmp/tc_cert_XXXXXX");
    if (mkdtemp(tmpdir) == NULL) {
        perror("mkdtemp");
        return 2;
    }
    make_pki();
    test_pem_bundles();
    test_der_and_trusted();
    test_garbage_and_empty();
    test_crls();
    test_files();
    test_fields();
    test_key_types();
    test_hostile_names();
    test_huge();
    test_mutations();
    test_trust_file();
    test_trust_dir();
    test_trust_certs();
    test_trust_system();
    test_trust_named();
    test_trust_threads();
    free_pki();
    cleanup_tmp();
    return TC_TEST_DONE();
}
