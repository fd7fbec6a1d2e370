/*
 * mint.c - throwaway keys and certificates for the built-in lab
 * (pytlscheck demo, pytlscheck.lab) and for tests.  Never used to verify.
 *
 * Everything is built from structures (GENERAL_NAMES, BASIC_CONSTRAINTS,
 * ...) rather than from OpenSSL config strings, so a name holding a comma
 * or a colon lands in the certificate as given instead of being parsed.
 */
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>
#include "tc_mint.h"

typedef enum key_kind { KEY_EC, KEY_RSA, KEY_ED25519 } key_kind;

static const struct key_spec {
    const char *name;       /* tc_mint_params.key_type */
    key_kind kind;
    const char *curve;      /* EC group for EVP_PKEY_Q_keygen */
} KEY_SPECS[] = {
    { "ec", KEY_EC, "P-256" },
    { "ec256", KEY_EC, "P-256" },
    { "ec384", KEY_EC, "P-384" },
    { "rsa", KEY_RSA, NULL },
    { "ed25519", KEY_ED25519, NULL },
};

static const struct digest_spec {
    const char *name;       /* tc_mint_params.digest */
    const char *fetch;      /* algorithm name for EVP_MD_fetch */
} DIGEST_SPECS[] = {
    { "sha256", "SHA256" },
    { "sha384", "SHA384" },
    { "sha512", "SHA512" },
    { "sha1", "SHA1" },   /* for lab "weak signature" certificates only */
    { "md5", "MD5" },
};

/* keyUsage bit numbers, RFC 5280 section 4.2.1.3. */
enum { BIT_DIGITAL_SIGNATURE = 0, BIT_KEY_ENCIPHERMENT = 2,
       BIT_KEY_CERT_SIGN = 5, BIT_CRL_SIGN = 6 };

#define MINT_DEFAULT_DAYS 90
#define MINT_RSA_MIN_BITS 512
#define MINT_RSA_MAX_BITS 16384

void tc_mint_params_init(tc_mint_params *p)
{
    int64_t now = (int64_t)time(NULL);

    memset(p, 0, sizeof(*p));
    p->not_before = now - 3600;
    p->not_after = now + (int64_t)MINT_DEFAULT_DAYS * 86400;
    p->path_length = -1;
    p->key_type = "ec";
    p->rsa_bits = 2048;
    p->digest = "sha256";
}

/* Records the most recent OpenSSL error behind a failed call and clears
 * the queue so it does not leak into the next user of this thread. */
static tc_status ossl_fail(tc_error *err, const char *what)
{
    char reason[256] = "no OpenSSL error recorded";
    unsigned long e = ERR_peek_last_error();

    if (e != 0)
        ERR_error_string_n(e, reason, sizeof(reason));
    ERR_clear_error();
    return tc_error_set(err, TC_E_INTERNAL,
                        "Could not mint the certificate: %s failed (%s).",
                        what, reason);
}

static const struct key_spec *find_key_spec(const char *name)
{
    for (size_t i = 0; i < sizeof(KEY_SPECS) / sizeof(KEY_SPECS[0]); i++)
        if (strcmp(KEY_SPECS[i].name, name) == 0)
            return &KEY_SPECS[i];
    return NULL;
}

static const struct digest_spec *find_digest_spec(const char *name)
{
    for (size_t i = 0; i < sizeof(DIGEST_SPECS) / sizeof(DIGEST_SPECS[0]); i++)
        if (strcmp(DIGEST_SPECS[i].name, name) == 0)
            return &DIGEST_SPECS[i];
    return NULL;
}

static tc_status generate_key(const struct key_spec *spec, int rsa_bits,
                              EVP_PKEY **out, tc_error *err)
{
    EVP_PKEY *key = NULL;

    switch (spec->kind) {
    case KEY_EC:
        key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", spec->curve);
        break;
    case KEY_RSA:
        key = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)rsa_bits);
        break;
    case KEY_ED25519:
        key = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
        break;
    }
    if (key == NULL)
        return ossl_fail(err, "generating the key");
    *out = key;
    return TC_OK;
}

/* A (ptr, len) PEM buffer into a BIO; len must fit an int. */
static tc_status pem_bio(const char *pem, size_t len, const char *what,
                         BIO **out, tc_error *err)
{
    if (len > INT_MAX)
        return tc_error_set(err, TC_E_INVALID, "The %s is too large.", what);
    *out = BIO_new_mem_buf(pem, (int)len);
    if (*out == NULL)
        return ossl_fail(err, "allocating a memory BIO");
    return TC_OK;
}

static tc_status load_issuer(const tc_mint_params *p, X509 **cert,
                             EVP_PKEY **key, tc_error *err)
{
    tc_status rv = TC_FAIL;
    BIO *bio = NULL;

    if (p->issuer_key_pem == NULL) {
        tc_error_set(err, TC_E_INVALID,
                     "An issuer certificate was given without its private key (issuer_key_pem).");
        goto done;
    }
    if (pem_bio(p->issuer_cert_pem, p->issuer_cert_len, "issuer certificate", &bio, err) != TC_OK)
        goto done;
    *cert = PEM_read_bio_X509(bio, NULL, NULL, NULL);
    if (*cert == NULL) {
        ERR_clear_error();
        tc_error_set(err, TC_E_INVALID,
                     "The issuer certificate is not a PEM certificate.");
        goto done;
    }
    BIO_free(bio);
    if (pem_bio(p->issuer_key_pem, p->issuer_key_len, "issuer key", &bio, err) != TC_OK)
        goto done;
    /* A NULL password callback with an empty passphrase: encrypted keys
     * are refused rather than prompting on the terminal. */
    *key = PEM_read_bio_PrivateKey(bio, NULL, NULL, (void *)"");
    if (*key == NULL) {
        ERR_clear_error();
        tc_error_set(err, TC_E_INVALID,
                     "The issuer key is not an unencrypted PEM private key.");
        goto done;
    }
    if (X509_check_private_key(*cert, *key) != 1) {
        ERR_clear_error();
        tc_error_set(err, TC_E_INVALID,
                     "The issuer key does not belong to the issuer certificate.");
        goto done;
    }
    rv = TC_OK;
done:
    BIO_free(bio);
    return rv;
}

/* Random 16-byte positive serial (RFC 5280 section 4.1.2.2: positive, at
 * most 20 octets; CA/B Forum: at least 64 bits of randomness). */
static tc_status set_serial(X509 *x, tc_error *err)
{
    tc_status rv = TC_FAIL;
    unsigned char raw[16];
    BIGNUM *bn = NULL;

    if (RAND_bytes(raw, (int)sizeof(raw)) != 1) {
        ossl_fail(err, "drawing a random serial number");
        goto done;
    }
    raw[0] &= 0x7f;   /* positive */
    raw[0] |= 0x40;   /* and exactly 16 bytes long */
    bn = BN_bin2bn(raw, (int)sizeof(raw), NULL);
    if (bn == NULL || BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)) == NULL) {
        ossl_fail(err, "setting the serial number");
        goto done;
    }
    rv = TC_OK;
done:
    BN_free(bn);
    return rv;
}

static tc_status build_subject(const tc_mint_params *p, X509_NAME **out,
                               tc_error *err)
{
    X509_NAME *name = X509_NAME_new();

    if (name == NULL)
        return ossl_fail(err, "allocating the subject name");
    if (p->organization != NULL &&
        X509_NAME_add_entry_by_NID(name, NID_organizationName, MBSTRING_UTF8,
                                   (const unsigned char *)p->organization,
                                   -1, -1, 0) != 1)
        goto fail;
    if (p->common_name != NULL &&
        X509_NAME_add_entry_by_NID(name, NID_commonName, MBSTRING_UTF8,
                                   (const unsigned char *)p->common_name,
                                   -1, -1, 0) != 1)
        goto fail;
    *out = name;
    return TC_OK;
fail:
    X509_NAME_free(name);
    ERR_clear_error();
    return tc_error_set(err, TC_E_INVALID,
                        "The subject name (CN/O) could not be encoded; is it valid UTF-8 and short enough (CN at most 64 characters)?");
}

/* An IA5String general name (dNSName, URI) holding text as given. */
static GENERAL_NAME *ia5_general_name(int type, const char *text)
{
    GENERAL_NAME *gn = GENERAL_NAME_new();
    ASN1_IA5STRING *s = ASN1_IA5STRING_new();

    if (gn == NULL || s == NULL || ASN1_STRING_set(s, text, -1) != 1) {
        GENERAL_NAME_free(gn);
        ASN1_IA5STRING_free(s);
        return NULL;
    }
    GENERAL_NAME_set0_value(gn, type, s);
    return gn;
}

static tc_status add_san(X509 *x, const tc_mint_params *p, int critical,
                         tc_error *err)
{
    tc_status rv = TC_FAIL;
    GENERAL_NAMES *names = NULL;
    GENERAL_NAME *gn = NULL;

    if (p->n_dns == 0 && p->n_ip == 0)
        return TC_OK;
    names = GENERAL_NAMES_new();
    if (names == NULL) {
        ossl_fail(err, "allocating subjectAltName");
        goto done;
    }
    for (size_t i = 0; i < p->n_dns; i++) {
        gn = ia5_general_name(GEN_DNS, p->dns_names[i]);
        if (gn == NULL || sk_GENERAL_NAME_push(names, gn) <= 0) {
            ossl_fail(err, "adding a dNSName");
            goto done;
        }
        gn = NULL;
    }
    for (size_t i = 0; i < p->n_ip; i++) {
        ASN1_OCTET_STRING *ip = a2i_IPADDRESS(p->ip_addresses[i]);
        if (ip == NULL) {
            ERR_clear_error();
            tc_error_set(err, TC_E_INVALID,
                         "'%.200s' is not an IPv4 or IPv6 address.",
                         p->ip_addresses[i]);
            goto done;
        }
        gn = GENERAL_NAME_new();
        if (gn == NULL) {
            ASN1_OCTET_STRING_free(ip);
            ossl_fail(err, "adding an iPAddress");
            goto done;
        }
        GENERAL_NAME_set0_value(gn, GEN_IPADD, ip);
        if (sk_GENERAL_NAME_push(names, gn) <= 0) {
            ossl_fail(err, "adding an iPAddress");
            goto done;
        }
        gn = NULL;
    }
    if (X509_add1_ext_i2d(x, NID_subject_alt_name, names, critical,
                          X509V3_ADD_DEFAULT) != 1) {
        ossl_fail(err, "adding subjectAltName");
        goto done;
    }
    rv = TC_OK;
done:
    GENERAL_NAME_free(gn);
    GENERAL_NAMES_free(names);
    return rv;
}

static tc_status add_basic_constraints(X509 *x, const tc_mint_params *p,
                                       tc_error *err)
{
    tc_status rv = TC_FAIL;
    BASIC_CONSTRAINTS *bc = BASIC_CONSTRAINTS_new();

    if (bc == NULL) {
        ossl_fail(err, "allocating basicConstraints");
        goto done;
    }
    bc->ca = p->is_ca ? 0xff : 0;
    if (p->is_ca && p->path_length >= 0) {
        bc->pathlen = ASN1_INTEGER_new();
        if (bc->pathlen == NULL || ASN1_INTEGER_set(bc->pathlen, p->path_length) != 1) {
            ossl_fail(err, "setting pathLenConstraint");
            goto done;
        }
    }
    /* Critical, as RFC 5280 section 4.2.1.9 requires for CA certificates. */
    if (X509_add1_ext_i2d(x, NID_basic_constraints, bc, 1, X509V3_ADD_DEFAULT) != 1) {
        ossl_fail(err, "adding basicConstraints");
        goto done;
    }
    rv = TC_OK;
done:
    BASIC_CONSTRAINTS_free(bc);
    return rv;
}

static tc_status add_key_usage(X509 *x, const tc_mint_params *p,
                               const struct key_spec *spec, tc_error *err)
{
    tc_status rv = TC_FAIL;
    ASN1_BIT_STRING *ku = ASN1_BIT_STRING_new();
    int ok;

    if (ku == NULL) {
        ossl_fail(err, "allocating keyUsage");
        goto done;
    }
    if (p->is_ca) {
        ok = ASN1_BIT_STRING_set_bit(ku, BIT_KEY_CERT_SIGN, 1) == 1 &&
             ASN1_BIT_STRING_set_bit(ku, BIT_CRL_SIGN, 1) == 1;
    } else {
        ok = ASN1_BIT_STRING_set_bit(ku, BIT_DIGITAL_SIGNATURE, 1) == 1;
        /* RSA key transport (TLS 1.2 RSA suites) needs keyEncipherment. */
        if (ok && spec->kind == KEY_RSA)
            ok = ASN1_BIT_STRING_set_bit(ku, BIT_KEY_ENCIPHERMENT, 1) == 1;
    }
    if (!ok) {
        ossl_fail(err, "setting keyUsage bits");
        goto done;
    }
    if (X509_add1_ext_i2d(x, NID_key_usage, ku, 1, X509V3_ADD_DEFAULT) != 1) {
        ossl_fail(err, "adding keyUsage");
        goto done;
    }
    rv = TC_OK;
done:
    ASN1_BIT_STRING_free(ku);
    return rv;
}

static tc_status add_eku(X509 *x, const tc_mint_params *p, tc_error *err)
{
    static const char *const leaf_default[] = { "serverAuth", "clientAuth" };
    const char *const *names = p->ekus;
    size_t n = p->n_ekus;
    tc_status rv = TC_FAIL;
    EXTENDED_KEY_USAGE *eku = NULL;
    ASN1_OBJECT *obj = NULL;

    if (names == NULL || n == 0) {
        if (p->is_ca)
            return TC_OK;
        names = leaf_default;
        n = sizeof(leaf_default) / sizeof(leaf_default[0]);
    }
    eku = EXTENDED_KEY_USAGE_new();
    if (eku == NULL) {
        ossl_fail(err, "allocating extendedKeyUsage");
        goto done;
    }
    for (size_t i = 0; i < n; i++) {
        obj = OBJ_txt2obj(names[i], 0);
        if (obj == NULL) {
            ERR_clear_error();
            tc_error_set(err, TC_E_INVALID,
                         "'%.200s' is not an extended key usage name (serverAuth, clientAuth, ...) or a dotted OID.",
                         names[i]);
            goto done;
        }
        if (sk_ASN1_OBJECT_push(eku, obj) <= 0) {
            ossl_fail(err, "adding an extended key usage");
            goto done;
        }
        obj = NULL;
    }
    if (X509_add1_ext_i2d(x, NID_ext_key_usage, eku, 0, X509V3_ADD_DEFAULT) != 1) {
        ossl_fail(err, "adding extendedKeyUsage");
        goto done;
    }
    rv = TC_OK;
done:
    ASN1_OBJECT_free(obj);
    EXTENDED_KEY_USAGE_free(eku);
    return rv;
}

/* Key identifier by RFC 5280 section 4.2.1.2 method 1: the SHA-1 of the
 * subjectPublicKey BIT STRING. */
static ASN1_OCTET_STRING *key_identifier(const X509 *x)
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    ASN1_OCTET_STRING *id = NULL;
    EVP_MD *sha1 = EVP_MD_fetch(NULL, "SHA1", NULL);

    if (sha1 != NULL && X509_pubkey_digest(x, sha1, md, &len) == 1) {
        id = ASN1_OCTET_STRING_new();
        if (id != NULL && ASN1_OCTET_STRING_set(id, md, (int)len) != 1) {
            ASN1_OCTET_STRING_free(id);
            id = NULL;
        }
    }
    EVP_MD_free(sha1);
    return id;
}

/* subjectKeyIdentifier of x, and authorityKeyIdentifier naming the
 * issuer's key: the issuer's own SKI when it has one (chain building
 * compares them), else the same hash of its key. */
static tc_status add_key_ids(X509 *x, X509 *issuer, tc_error *err)
{
    tc_status rv = TC_FAIL;
    ASN1_OCTET_STRING *ski = NULL;
    AUTHORITY_KEYID *akid = NULL;
    const ASN1_OCTET_STRING *issuer_ski;

    ski = key_identifier(x);
    if (ski == NULL) {
        ossl_fail(err, "hashing the public key");
        goto done;
    }
    if (X509_add1_ext_i2d(x, NID_subject_key_identifier, ski, 0, X509V3_ADD_DEFAULT) != 1) {
        ossl_fail(err, "adding subjectKeyIdentifier");
        goto done;
    }
    akid = AUTHORITY_KEYID_new();
    if (akid == NULL) {
        ossl_fail(err, "allocating authorityKeyIdentifier");
        goto done;
    }
    if (issuer == x) {
        akid->keyid = ASN1_OCTET_STRING_dup(ski);
    } else {
        issuer_ski = X509_get0_subject_key_id(issuer);
        akid->keyid = issuer_ski != NULL ? ASN1_OCTET_STRING_dup(issuer_ski)
                                         : key_identifier(issuer);
    }
    if (akid->keyid == NULL) {
        ossl_fail(err, "computing the authority key identifier");
        goto done;
    }
    if (X509_add1_ext_i2d(x, NID_authority_key_identifier, akid, 0, X509V3_ADD_DEFAULT) != 1) {
        ossl_fail(err, "adding authorityKeyIdentifier");
        goto done;
    }
    rv = TC_OK;
done:
    ASN1_OCTET_STRING_free(ski);
    AUTHORITY_KEYID_free(akid);
    return rv;
}

static tc_status push_access(AUTHORITY_INFO_ACCESS *aia, int method_nid,
                             const char *url, tc_error *err)
{
    ACCESS_DESCRIPTION *ad = ACCESS_DESCRIPTION_new();
    GENERAL_NAME *gn = NULL;

    if (ad == NULL)
        return ossl_fail(err, "allocating an access description");
    gn = ia5_general_name(GEN_URI, url);
    if (gn == NULL) {
        ACCESS_DESCRIPTION_free(ad);
        return ossl_fail(err, "encoding an access URL");
    }
    GENERAL_NAME_free(ad->location);
    ad->location = gn;
    ASN1_OBJECT_free(ad->method);
    ad->method = OBJ_nid2obj(method_nid);
    if (ad->method == NULL || sk_ACCESS_DESCRIPTION_push(aia, ad) <= 0) {
        ACCESS_DESCRIPTION_free(ad);
        return ossl_fail(err, "adding an access description");
    }
    return TC_OK;
}

static tc_status add_aia(X509 *x, const tc_mint_params *p, tc_error *err)
{
    tc_status rv = TC_FAIL;
    AUTHORITY_INFO_ACCESS *aia = NULL;

    if (p->aia_ca_issuers == NULL && p->ocsp_url == NULL)
        return TC_OK;
    aia = AUTHORITY_INFO_ACCESS_new();
    if (aia == NULL) {
        ossl_fail(err, "allocating authorityInfoAccess");
        goto done;
    }
    if (p->ocsp_url != NULL && push_access(aia, NID_ad_OCSP, p->ocsp_url, err) != TC_OK)
        goto done;
    if (p->aia_ca_issuers != NULL &&
        push_access(aia, NID_ad_ca_issuers, p->aia_ca_issuers, err) != TC_OK)
        goto done;
    if (X509_add1_ext_i2d(x, NID_info_access, aia, 0, X509V3_ADD_DEFAULT) != 1) {
        ossl_fail(err, "adding authorityInfoAccess");
        goto done;
    }
    rv = TC_OK;
done:
    AUTHORITY_INFO_ACCESS_free(aia);
    return rv;
}

/* Copies a memory BIO's contents into a malloc'd NUL-terminated string. */
static tc_status bio_to_string(BIO *bio, char **out, tc_error *err)
{
    char *data = NULL;
    long len = BIO_get_mem_data(bio, &data);
    char *s;

    if (len <= 0 || data == NULL)
        return ossl_fail(err, "reading the PEM output");
    s = malloc((size_t)len + 1);
    if (s == NULL)
        return tc_error_set(err, TC_E_NOMEM, "Out of memory while writing PEM.");
    memcpy(s, data, (size_t)len);
    s[len] = '\0';
    *out = s;
    return TC_OK;
}

static int is_edwards(const EVP_PKEY *key)
{
    return EVP_PKEY_is_a(key, "ED25519") || EVP_PKEY_is_a(key, "ED448");
}

tc_status tc_mint(const tc_mint_params *p, char **cert_pem, char **key_pem,
                  tc_error *err)
{
    tc_status rv = TC_FAIL;
    const struct key_spec *kspec;
    const struct digest_spec *dspec;
    int rsa_bits;
    EVP_PKEY *key = NULL, *issuer_key = NULL;
    X509 *x = NULL, *issuer = NULL;
    X509_NAME *subject = NULL;
    EVP_MD *md = NULL;
    BIO *out = NULL;
    char *cert_s = NULL, *key_s = NULL;

    if (cert_pem == NULL || key_pem == NULL || p == NULL)
        return tc_error_set(err, TC_E_INVALID, "tc_mint needs params and two output pointers.");
    *cert_pem = *key_pem = NULL;

    kspec = find_key_spec(p->key_type != NULL ? p->key_type : "ec");
    if (kspec == NULL) {
        tc_error_set(err, TC_E_INVALID,
                     "Unknown key type '%.100s': use ec, ec384, rsa or ed25519.",
                     p->key_type);
        goto done;
    }
    rsa_bits = p->rsa_bits > 0 ? p->rsa_bits : 2048;
    if (kspec->kind == KEY_RSA &&
        (rsa_bits < MINT_RSA_MIN_BITS || rsa_bits > MINT_RSA_MAX_BITS)) {
        tc_error_set(err, TC_E_INVALID,
                     "An RSA key of %d bits cannot be generated: use %d to %d bits.",
                     rsa_bits, MINT_RSA_MIN_BITS, MINT_RSA_MAX_BITS);
        goto done;
    }
    dspec = find_digest_spec(p->digest != NULL ? p->digest : "sha256");
    if (dspec == NULL) {
        tc_error_set(err, TC_E_INVALID,
                     "Unknown digest '%.100s': use sha256, sha384, sha512, sha1 or md5.",
                     p->digest);
        goto done;
    }
    if (p->issuer_cert_pem == NULL && p->issuer_key_pem != NULL) {
        tc_error_set(err, TC_E_INVALID,
                     "An issuer key was given without the issuer certificate (issuer_cert_pem).");
        goto done;
    }
    if (p->issuer_cert_pem != NULL && load_issuer(p, &issuer, &issuer_key, err) != TC_OK)
        goto done;

    if (generate_key(kspec, rsa_bits, &key, err) != TC_OK)
        goto done;

    x = X509_new();
    if (x == NULL) {
        ossl_fail(err, "allocating the certificate");
        goto done;
    }
    if (X509_set_version(x, X509_VERSION_3) != 1) {
        ossl_fail(err, "setting the version");
        goto done;
    }
    if (set_serial(x, err) != TC_OK)
        goto done;
    if (ASN1_TIME_set(X509_getm_notBefore(x), (time_t)p->not_before) == NULL ||
        ASN1_TIME_set(X509_getm_notAfter(x), (time_t)p->not_after) == NULL) {
        ossl_fail(err, "setting the validity period");
        goto done;
    }
    if (build_subject(p, &subject, err) != TC_OK)
        goto done;
    if (X509_set_subject_name(x, subject) != 1 ||
        X509_set_issuer_name(x, issuer != NULL ? X509_get_subject_name(issuer)
                                               : subject) != 1) {
        ossl_fail(err, "setting the names");
        goto done;
    }
    if (X509_set_pubkey(x, key) != 1) {
        ossl_fail(err, "setting the public key");
        goto done;
    }
    if (add_basic_constraints(x, p, err) != TC_OK ||
        add_key_usage(x, p, kspec, err) != TC_OK ||
        add_eku(x, p, err) != TC_OK ||
        /* RFC 5280 section 4.2.1.6: with an empty subject the SAN is critical. */
        add_san(x, p, X509_NAME_entry_count(subject) == 0, err) != TC_OK ||
        add_key_ids(x, issuer != NULL ? issuer : x, err) != TC_OK ||
        add_aia(x, p, err) != TC_OK)
        goto done;

    /* Ed25519 signs the message itself (RFC 8410): no separate digest. */
    {
        EVP_PKEY *signer = issuer_key != NULL ? issuer_key : key;
        if (!is_edwards(signer)) {
            md = EVP_MD_fetch(NULL, dspec->fetch, NULL);
            if (md == NULL) {
                ossl_fail(err, "loading the digest");
                goto done;
            }
        }
        if (X509_sign(x, signer, md) <= 0) {
            ossl_fail(err, "signing the certificate");
            goto done;
        }
    }

    out = BIO_new(BIO_s_mem());
    if (out == NULL || PEM_write_bio_X509(out, x) != 1) {
        ossl_fail(err, "writing the certificate PEM");
        goto done;
    }
    if (bio_to_string(out, &cert_s, err) != TC_OK)
        goto done;
    BIO_free(out);
    out = BIO_new(BIO_s_mem());
    if (out == NULL ||
        PEM_write_bio_PrivateKey(out, key, NULL, NULL, 0, NULL, NULL) != 1) {
        ossl_fail(err, "writing the key PEM");
        goto done;
    }
    if (bio_to_string(out, &key_s, err) != TC_OK)
        goto done;

    *cert_pem = cert_s;
    *key_pem = key_s;
    cert_s = key_s = NULL;
    rv = TC_OK;
done:
    free(cert_s);
    if (key_s != NULL)
        OPENSSL_cleanse(key_s, strlen(key_s));
    free(key_s);
    BIO_free(out);
    EVP_MD_free(md);
    X509_NAME_free(subject);
    X509_free(x);
    X509_free(issuer);
    EVP_PKEY_free(key);
    EVP_PKEY_free(issuer_key);
    return rv;
}
