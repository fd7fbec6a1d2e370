/* tc_mint: certificates minted for the lab parse back with the fields
 * asked for, chain to their issuer, and bad input is refused with a
 * sentence. */
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include "tc_mint.h"
#include "tc_test.h"

static X509 *parse_cert(const char *pem)
{
    BIO *b = BIO_new_mem_buf(pem, -1);
    X509 *x = b ? PEM_read_bio_X509(b, NULL, NULL, NULL) : NULL;
    BIO_free(b);
    return x;
}

static EVP_PKEY *parse_key(const char *pem)
{
    BIO *b = BIO_new_mem_buf(pem, -1);
    EVP_PKEY *k = b ? PEM_read_bio_PrivateKey(b, NULL, NULL, NULL) : NULL;
    BIO_free(b);
    return k;
}

/* 1 when leaf verifies under root (with optional intermediate). */
static int chains_to(X509 *leaf, X509 *inter, X509 *root)
{
    X509_STORE *store = X509_STORE_new();
    X509_STORE_CTX *ctx = X509_STORE_CTX_new();
    STACK_OF(X509) *untrusted = sk_X509_new_null();
    int ok = 0;

    if (store && ctx && untrusted && X509_STORE_add_cert(store, root) == 1 &&
        (inter == NULL || sk_X509_push(untrusted, inter) > 0) &&
        X509_STORE_CTX_init(ctx, store, leaf, untrusted) == 1)
        ok = X509_verify_cert(ctx) == 1;
    sk_X509_free(untrusted);
    X509_STORE_CTX_free(ctx);
    X509_STORE_free(store);
    return ok;
}

static int key_usage(X509 *x)
{
    return (int)X509_get_key_usage(x);
}

static void test_root_intermediate_leaf(void)
{
    tc_error err;
    tc_mint_params p;
    char *root_pem = NULL, *root_key = NULL, *int_pem = NULL, *int_key = NULL;
    char *leaf_pem = NULL, *leaf_key = NULL;
    const char *dns[] = { "localhost", "api.example.test" };
    const char *ips[] = { "127.0.0.1", "::1" };

    tc_error_clear(&err);
    tc_mint_params_init(&p);
    p.common_name = "pytlscheck test root";
    p.organization = "pytlscheck";
    p.is_ca = 1;
    p.key_type = "ec384";
    p.digest = "sha384";
    CHECK(tc_mint(&p, &root_pem, &root_key, &err) == TC_OK);
    CHECK(root_pem && strncmp(root_pem, "-----BEGIN CERTIFICATE-----", 27) == 0);
    CHECK(root_key && strstr(root_key, "PRIVATE KEY") != NULL);

    tc_mint_params_init(&p);
    p.common_name = "pytlscheck test intermediate";
    p.is_ca = 1;
    p.path_length = 0;
    p.key_type = "rsa";
    p.issuer_cert_pem = root_pem;
    p.issuer_cert_len = root_pem ? strlen(root_pem) : 0;
    p.issuer_key_pem = root_key;
    p.issuer_key_len = root_key ? strlen(root_key) : 0;
    p.aia_ca_issuers = "http://127.0.0.1:1/root.der";
    CHECK(tc_mint(&p, &int_pem, &int_key, &err) == TC_OK);

    tc_mint_params_init(&p);
    p.common_name = "localhost";
    p.dns_names = dns;
    p.n_dns = 2;
    p.ip_addresses = ips;
    p.n_ip = 2;
    p.issuer_cert_pem = int_pem;
    p.issuer_cert_len = int_pem ? strlen(int_pem) : 0;
    p.issuer_key_pem = int_key;
    p.issuer_key_len = int_key ? strlen(int_key) : 0;
    p.ocsp_url = "http://127.0.0.1:1/ocsp";
    CHECK(tc_mint(&p, &leaf_pem, &leaf_key, &err) == TC_OK);
    if (err.code != TC_E_NONE)
        fprintf(stderr, "mint: %s\n", err.msg);

    X509 *root = root_pem ? parse_cert(root_pem) : NULL;
    X509 *inter = int_pem ? parse_cert(int_pem) : NULL;
    X509 *leaf = leaf_pem ? parse_cert(leaf_pem) : NULL;
    EVP_PKEY *lkey = leaf_key ? parse_key(leaf_key) : NULL;
    CHECK(root && inter && leaf && lkey);
    if (root && inter && leaf && lkey) {
        CHECK(chains_to(leaf, inter, root));
        /* negative twin: without the intermediate there is no path */
        CHECK(!chains_to(leaf, NULL, root));
        CHECK(X509_check_private_key(leaf, lkey) == 1);
        CHECK(X509_check_ca(root) == 1);
        CHECK(X509_check_ca(inter) == 1);
        CHECK(X509_check_ca(leaf) == 0);
        CHECK((key_usage(root) & (KU_KEY_CERT_SIGN | KU_CRL_SIGN)) == (KU_KEY_CERT_SIGN | KU_CRL_SIGN));
        CHECK((key_usage(leaf) & KU_DIGITAL_SIGNATURE) && !(key_usage(leaf) & KU_KEY_CERT_SIGN));
        CHECK(!(key_usage(leaf) & KU_KEY_ENCIPHERMENT));   /* EC leaf */
        CHECK((X509_get_extended_key_usage(leaf) & (XKU_SSL_SERVER | XKU_SSL_CLIENT)) == (XKU_SSL_SERVER | XKU_SSL_CLIENT));
        CHECK(X509_get_pathlen(inter) == 0);
        CHECK(X509_get_pathlen(root) == -1);
        CHECK(X509_check_host(leaf, "api.example.test", 0, 0, NULL) == 1);
        CHECK(X509_check_host(leaf, "other.example.test", 0, 0, NULL) == 0);
        CHECK(X509_check_ip_asc(leaf, "::1", 0) == 1);
        CHECK(X509_check_ip_asc(leaf, "127.0.0.2", 0) == 0);
        CHECK(X509_get_signature_nid(root) == NID_ecdsa_with_SHA384);
        CHECK(X509_get_signature_nid(inter) == NID_ecdsa_with_SHA256);  /* EC root key, default digest */
        CHECK(X509_get_signature_nid(leaf) == NID_sha256WithRSAEncryption);
        CHECK(X509_get_version(leaf) == X509_VERSION_3);

        /* serial: positive, 16 bytes */
        const ASN1_INTEGER *serial = X509_get0_serialNumber(leaf);
        BIGNUM *bn = ASN1_INTEGER_to_BN(serial, NULL);
        CHECK(bn && !BN_is_negative(bn) && BN_num_bytes(bn) == 16);
        BN_free(bn);
        /* two mints never share a serial */
        CHECK(ASN1_INTEGER_cmp(X509_get0_serialNumber(root), serial) != 0);

        /* AKI of the leaf equals SKI of the intermediate */
        const ASN1_OCTET_STRING *aki = X509_get0_authority_key_id(leaf);
        const ASN1_OCTET_STRING *ski = X509_get0_subject_key_id(inter);
        CHECK(aki && ski && ASN1_OCTET_STRING_cmp(aki, ski) == 0);

        /* basicConstraints is critical */
        int crit = -1;
        BASIC_CONSTRAINTS *bc = X509_get_ext_d2i(leaf, NID_basic_constraints, &crit, NULL);
        CHECK(bc && crit == 1 && !bc->ca);
        BASIC_CONSTRAINTS_free(bc);

        AUTHORITY_INFO_ACCESS *aia = X509_get_ext_d2i(inter, NID_info_access, NULL, NULL);
        CHECK(aia && sk_ACCESS_DESCRIPTION_num(aia) == 1 &&
              OBJ_obj2nid(sk_ACCESS_DESCRIPTION_value(aia, 0)->method) == NID_ad_ca_issuers);
        AUTHORITY_INFO_ACCESS_free(aia);
        aia = X509_get_ext_d2i(leaf, NID_info_access, NULL, NULL);
        CHECK(aia && sk_ACCESS_DESCRIPTION_num(aia) == 1 &&
              OBJ_obj2nid(sk_ACCESS_DESCRIPTION_value(aia, 0)->method) == NID_ad_OCSP);
        AUTHORITY_INFO_ACCESS_free(aia);
    }
    EVP_PKEY_free(lkey);
    X509_free(root);
    X509_free(inter);
    X509_free(leaf);
    free(root_pem); free(root_key); free(int_pem); free(int_key);
    free(leaf_pem); free(leaf_key);
}

static void test_key_types_and_digests(void)
{
    static const struct { const char *key; int bits; const char *digest; int sig_nid; } rows[] = {
        { "ec", 0, "sha256", NID_ecdsa_with_SHA256 },
        { "ec384", 0, "sha512", NID_ecdsa_with_SHA512 },
        { "rsa", 1024, "sha1", NID_sha1WithRSAEncryption },
        { "rsa", 1024, "md5", NID_md5WithRSAEncryption },
        { "ed25519", 0, "sha256", NID_ED25519 },   /* digest ignored */
    };
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        tc_error err;
        tc_mint_params p;
        char *c = NULL, *k = NULL;
        tc_error_clear(&err);
        tc_mint_params_init(&p);
        p.common_name = "self";
        p.key_type = rows[i].key;
        p.rsa_bits = rows[i].bits;
        p.digest = rows[i].digest;
        CHECK(tc_mint(&p, &c, &k, &err) == TC_OK);
        if (c == NULL) {
            fprintf(stderr, "row %zu: %s\n", i, err.msg);
            continue;
        }
        X509 *x = parse_cert(c);
        CHECK(x != NULL);
        if (x) {
            CHECK(X509_get_signature_nid(x) == rows[i].sig_nid);
            EVP_PKEY *pub = X509_get0_pubkey(x);
            CHECK(pub && X509_verify(x, pub) == 1);
            if (rows[i].bits)
                CHECK(EVP_PKEY_get_bits(pub) == rows[i].bits);
            if (strcmp(rows[i].key, "rsa") == 0)
                CHECK(key_usage(x) & KU_KEY_ENCIPHERMENT);
        }
        X509_free(x);
        free(c);
        free(k);
    }
}

static void test_validity_and_empty_subject(void)
{
    tc_error err;
    tc_mint_params p;
    char *c = NULL, *k = NULL;
    const char *dns[] = { "only.example.test" };
    int64_t now = (int64_t)time(NULL);

    tc_error_clear(&err);
    tc_mint_params_init(&p);
    p.dns_names = dns;
    p.n_dns = 1;
    p.not_before = now - 10 * 86400;
    p.not_after = now - 86400;            /* expired yesterday */
    CHECK(tc_mint(&p, &c, &k, &err) == TC_OK);
    X509 *x = c ? parse_cert(c) : NULL;
    CHECK(x != NULL);
    if (x) {
        time_t t = (time_t)now;
        CHECK(X509_cmp_time(X509_get0_notAfter(x), &t) < 0);
        CHECK(X509_NAME_entry_count(X509_get_subject_name(x)) == 0);
        int crit = -1;
        GENERAL_NAMES *san = X509_get_ext_d2i(x, NID_subject_alt_name, &crit, NULL);
        CHECK(san && crit == 1);
        GENERAL_NAMES_free(san);
    }
    X509_free(x);
    free(c);
    free(k);

    /* a date past 2049 becomes a GeneralizedTime, still readable */
    tc_mint_params_init(&p);
    p.common_name = "far";
    p.not_after = (int64_t)2600000000LL;
    c = k = NULL;
    CHECK(tc_mint(&p, &c, &k, &err) == TC_OK);
    x = c ? parse_cert(c) : NULL;
    CHECK(x && ASN1_STRING_type(X509_get0_notAfter(x)) == V_ASN1_GENERALIZEDTIME);
    X509_free(x);
    free(c);
    free(k);
}

static void test_bad_input(void)
{
    tc_error err;
    tc_mint_params p;
    char *c = (char *)1, *k = (char *)1;
    const char *bad_ip[] = { "300.1.1.1" };
    const char *bad_eku[] = { "notAnEku" };

    tc_mint_params_init(&p);
    p.key_type = "dsa";
    tc_error_clear(&err);
    CHECK(tc_mint(&p, &c, &k, &err) == TC_FAIL);
    CHECK(err.code == TC_E_INVALID && strstr(err.msg, "dsa") != NULL);
    CHECK(c == NULL && k == NULL);

    tc_mint_params_init(&p);
    p.digest = "sha3-999";
    tc_error_clear(&err);
    CHECK(tc_mint(&p, &c, &k, &err) == TC_FAIL && err.code == TC_E_INVALID);

    tc_mint_params_init(&p);
    p.ip_addresses = bad_ip;
    p.n_ip = 1;
    tc_error_clear(&err);
    CHECK(tc_mint(&p, &c, &k, &err) == TC_FAIL && err.code == TC_E_INVALID);
    CHECK(strstr(err.msg, "300.1.1.1") != NULL);

    tc_mint_params_init(&p);
    p.ekus = bad_eku;
    p.n_ekus = 1;
    tc_error_clear(&err);
    CHECK(tc_mint(&p, &c, &k, &err) == TC_FAIL && err.code == TC_E_INVALID);

    tc_mint_params_init(&p);
    p.key_type = "rsa";
    p.rsa_bits = 100;
    tc_error_clear(&err);
    CHECK(tc_mint(&p, &c, &k, &err) == TC_FAIL && err.code == TC_E_INVALID);

    tc_mint_params_init(&p);
    p.issuer_cert_pem = "not pem";
    p.issuer_cert_len = 7;
    p.issuer_key_pem = "not pem";
    p.issuer_key_len = 7;
    tc_error_clear(&err);
    CHECK(tc_mint(&p, &c, &k, &err) == TC_FAIL && err.code == TC_E_INVALID);

    /* issuer key that does not match the issuer certificate */
    char *c1 = NULL, *k1 = NULL, *c2 = NULL, *k2 = NULL;
    tc_mint_params_init(&p);
    p.is_ca = 1;
    CHECK(tc_mint(&p, &c1, &k1, &err) == TC_OK);
    CHECK(tc_mint(&p, &c2, &k2, &err) == TC_OK);
    if (c1 && k2) {
        tc_mint_params_init(&p);
        p.issuer_cert_pem = c1;
        p.issuer_cert_len = strlen(c1);
        p.issuer_key_pem = k2;
        p.issuer_key_len = strlen(k2);
        tc_error_clear(&err);
        CHECK(tc_mint(&p, &c, &k, &err) == TC_FAIL && err.code == TC_E_INVALID);
        CHECK(strstr(err.msg, "does not belong") != NULL);
        /* its twin with the right key works */
        p.issuer_key_pem = k1;
        p.issuer_key_len = strlen(k1);
        CHECK(tc_mint(&p, &c, &k, &err) == TC_OK);
        free(c);
        free(k);
    }
    free(c1); free(k1); free(c2); free(k2);

    CHECK(tc_mint(NULL, &c, &k, NULL) == TC_FAIL);
}

int main(void)
{
    test_root_intermediate_leaf();
    test_key_types_and_digests();
    test_validity_and_empty_subject();
    test_bad_input();
    return TC_TEST_DONE();
}
