/*
 * tc_mint.h - minting throwaway certificates with OpenSSL, for the built-in
 * lab (pytlscheck demo / pytlscheck.lab) and tests.  Never used to verify.
 */
#ifndef TC_MINT_H
#define TC_MINT_H
#include "tlscheck.h"

typedef struct tc_mint_params {
    const char *common_name;              /* subject CN (may be NULL: empty subject) */
    const char *organization;             /* subject O, or NULL */
    const char *const *dns_names;         /* SAN dNSName entries */
    size_t n_dns;
    const char *const *ip_addresses;      /* SAN iPAddress entries, as text */
    size_t n_ip;
    int64_t not_before;                   /* Unix seconds */
    int64_t not_after;
    int is_ca;                            /* basicConstraints CA:TRUE (critical) + keyCertSign/cRLSign */
    int path_length;                      /* -1: none */
    const char *key_type;                 /* "ec" (P-256, default), "ec384", "rsa", "ed25519" */
    int rsa_bits;                         /* for "rsa"; default 2048 */
    const char *digest;                   /* "sha256" (default), "sha384", "sha1", "md5" */
    const char *const *ekus;              /* "serverAuth", "clientAuth", or dotted OIDs; NULL/0: serverAuth+clientAuth for leaves, none for CAs */
    size_t n_ekus;
    const char *issuer_cert_pem;          /* NULL: self-signed */
    size_t issuer_cert_len;
    const char *issuer_key_pem;
    size_t issuer_key_len;
    const char *aia_ca_issuers;           /* AIA caIssuers URL, or NULL */
    const char *ocsp_url;                 /* AIA OCSP URL, or NULL */
} tc_mint_params;

void tc_mint_params_init(tc_mint_params *p);   /* defaults: ec, sha256, now-1h .. now+90d, path_length -1 */

/* Mints a key and a certificate; *cert_pem and *key_pem are malloc'd
 * NUL-terminated PEM strings the caller frees. */
TC_MUST_USE tc_status tc_mint(const tc_mint_params *p, char **cert_pem,
                              char **key_pem, tc_error *err);
#endif
