/*
 * sigcache.c - the chain's signature and validity-time step, with the
 * signatures on CA certificates remembered across verifications.
 *
 * Why: a batch checks many endpoints whose chains share a few
 * intermediates (a handful of CAs issue most certificates).  OpenSSL
 * checks the root's signature on the same intermediate again for every
 * endpoint; with an ECDSA P-256 chain that one signature check is about a
 * tenth of a whole check's CPU.  The answer cannot change: it depends only
 * on the intermediate's bytes and on its issuer's public key.
 *
 * How: OpenSSL lets a verification context replace the step of
 * X509_verify_cert that checks each certificate's signature and validity
 * period (X509_STORE_CTX_set_verify).  tc_chain_step does that step as
 * OpenSSL 3.0 does it, for the flags the core always uses (a partial
 * chain is accepted; a trust anchor's own signature is not checked), and
 * reports every error through the context's callback the same way: same
 * code, same depth, same certificate, same order.  The difference is one:
 * when the subject is a CA certificate, a signature that verified before,
 * over the same certificate bytes with the same issuer key, is not checked
 * again.
 *
 * The cache key is SHA-256 of the subject's whole DER encoding (to-be-signed
 * part, algorithm and signature value) followed by SHA-256 of the issuer's
 * SubjectPublicKeyInfo DER (algorithm, parameters and key).  SHA-1 is not
 * used although OpenSSL keeps one per certificate: a chosen-prefix SHA-1
 * collision between a CA-signed certificate and a forged one would turn
 * the cache into a forgery oracle.  Only successes are cached, so every
 * failure is found and reported afresh.  Leaf certificates are never
 * cached: each endpoint has its own leaf, and caching it would flatter any
 * benchmark that checks one endpoint many times.
 *
 * The table is process-wide, fixed in size (SLOTS entries, direct-mapped,
 * the newest wins), guarded by one mutex held only for a 64-byte compare
 * or copy, and made safe across fork() with pthread_atfork.
 */
#include <pthread.h>
#include <string.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include "internal.h"

#define SLOTS 4096u                 /* power of two */
#define KEY_LEN (2 * 32)            /* SHA-256 of the subject, of the issuer key */

typedef struct slot {
    unsigned char key[KEY_LEN];
    int used;
} slot;

static slot table[SLOTS];
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_once_t once = PTHREAD_ONCE_INIT;
static uint64_t n_hits, n_misses;
static EVP_MD *sha256;              /* fetched once; NULL if unavailable */
static int cache_on;                /* sha256 and the fork handlers are there */

static void before_fork(void) { pthread_mutex_lock(&lock); }
static void after_fork(void) { pthread_mutex_unlock(&lock); }

static void setup(void)
{
    /* Fetched explicitly: EVP_sha256() would be looked up again in the
     * provider tables at every digest.  Never freed: lives as long as the
     * process, like OpenSSL's own method stores. */
    sha256 = EVP_MD_fetch(NULL, "SHA2-256", NULL);
    /* Without fork handlers a child could inherit a held lock: no cache
     * then (verification itself is unaffected), but SHA-256 stays usable. */
    cache_on = sha256 != NULL && pthread_atfork(before_fork, after_fork, after_fork) == 0;
}

/* SHA-256 of i2d output.  0 when the object cannot be encoded. */
static int digest_der(unsigned char out[32], const unsigned char *der, int len)
{
    unsigned int n = 0;
    return len > 0 && EVP_Digest(der, (size_t)len, out, &n, sha256, NULL) && n == 32;
}

static int make_key(unsigned char key[KEY_LEN], X509 *subject, X509 *issuer)
{
    unsigned char *der = NULL;
    int len = i2d_X509(subject, &der);
    int ok = digest_der(key, der, len);
    OPENSSL_free(der);
    if (!ok)
        return 0;
    der = NULL;
    len = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(issuer), &der);
    ok = digest_der(key + 32, der, len);
    OPENSSL_free(der);
    return ok;
}

static size_t slot_of(const unsigned char key[KEY_LEN])
{
    size_t h = 0;
    memcpy(&h, key, sizeof(h));     /* the bytes of a SHA-256 are uniform */
    return h & (SLOTS - 1);
}

static int cache_has(const unsigned char key[KEY_LEN])
{
    slot *s = &table[slot_of(key)];
    pthread_mutex_lock(&lock);
    int hit = s->used && memcmp(s->key, key, KEY_LEN) == 0;
    if (hit)
        n_hits++;
    else
        n_misses++;
    pthread_mutex_unlock(&lock);
    return hit;
}

static void cache_put(const unsigned char key[KEY_LEN])
{
    slot *s = &table[slot_of(key)];
    pthread_mutex_lock(&lock);
    memcpy(s->key, key, KEY_LEN);
    s->used = 1;
    pthread_mutex_unlock(&lock);
}

const EVP_MD *tc_sha256(void)
{
    pthread_once(&once, setup);
    return sha256;
}

void tc_sigcache_stats(uint64_t *hits, uint64_t *misses)
{
    pthread_mutex_lock(&lock);
    *hits = n_hits;
    *misses = n_misses;
    pthread_mutex_unlock(&lock);
}

void tc_sigcache_clear(void)
{
    pthread_mutex_lock(&lock);
    memset(table, 0, sizeof(table));
    n_hits = n_misses = 0;
    pthread_mutex_unlock(&lock);
}

/* 1 when subject's signature verifies with issuer's key. */
static int signature_ok(X509 *subject, X509 *issuer, EVP_PKEY *key)
{
    unsigned char k[KEY_LEN];
    int cacheable = cache_on && X509_check_ca(subject) > 0 && make_key(k, subject, issuer);
    if (cacheable && cache_has(k))
        return 1;
    if (X509_verify(subject, key) <= 0)
        return 0;
    if (cacheable)
        cache_put(k);
    return 1;
}

/* Tells the context's callback about an error, as OpenSSL does: 0 when
 * the callback says stop. */
static int report(X509_STORE_CTX *ctx, X509 *cert, int depth, int code)
{
    X509_STORE_CTX_set_error_depth(ctx, depth);
    X509_STORE_CTX_set_current_cert(ctx, cert);
    X509_STORE_CTX_set_error(ctx, code);
    return X509_STORE_CTX_get_verify_cb(ctx)(0, ctx);
}

/* RFC 5280 6.1.4 (n): an issuer whose key usage is given must allow
 * signing certificates (a proxy certificate's issuer: signing). */
static int signing_allowed(X509 *issuer, X509 *subject)
{
    if (!(X509_get_extension_flags(issuer) & EXFLAG_KUSAGE))
        return X509_V_OK;
    uint32_t ku = X509_get_key_usage(issuer);
    if (X509_get_extension_flags(subject) & EXFLAG_PROXY)
        return (ku & KU_DIGITAL_SIGNATURE) ? X509_V_OK : X509_V_ERR_KEYUSAGE_NO_DIGITAL_SIGNATURE;
    return (ku & KU_KEY_CERT_SIGN) ? X509_V_OK : X509_V_ERR_KEYUSAGE_NO_CERTSIGN;
}

static int check_time(X509_STORE_CTX *ctx, X509 *x, int depth)
{
    const X509_VERIFY_PARAM *vp = X509_STORE_CTX_get0_param(ctx);
    unsigned long flags = X509_VERIFY_PARAM_get_flags(vp);
    time_t at, *when = NULL;
    if (flags & X509_V_FLAG_USE_CHECK_TIME) {
        at = X509_VERIFY_PARAM_get_time(vp);
        when = &at;
    } else if (flags & X509_V_FLAG_NO_CHECK_TIME) {
        return 1;
    }
    int c = X509_cmp_time(X509_get0_notBefore(x), when);
    if (c == 0 && !report(ctx, x, depth, X509_V_ERR_ERROR_IN_CERT_NOT_BEFORE_FIELD))
        return 0;
    if (c > 0 && !report(ctx, x, depth, X509_V_ERR_CERT_NOT_YET_VALID))
        return 0;
    c = X509_cmp_time(X509_get0_notAfter(x), when);
    if (c == 0 && !report(ctx, x, depth, X509_V_ERR_ERROR_IN_CERT_NOT_AFTER_FIELD))
        return 0;
    if (c < 0 && !report(ctx, x, depth, X509_V_ERR_CERT_HAS_EXPIRED))
        return 0;
    return 1;
}

int tc_chain_step_applies(unsigned long flags)
{
    return (flags & X509_V_FLAG_PARTIAL_CHAIN) && !(flags & X509_V_FLAG_CHECK_SS_SIGNATURE);
}

int tc_chain_step(X509_STORE_CTX *ctx)
{
    pthread_once(&once, setup);
    STACK_OF(X509) *chain = X509_STORE_CTX_get0_chain(ctx);
    int top = sk_X509_num(chain) - 1;
    if (top < 0)
        return 0;
    /* From the top down.  With partial chains allowed, the top certificate
     * (the anchor, or the highest one found) only has its validity period
     * checked, whether or not it is self-issued; every other one is
     * checked against the one above it. */
    for (int depth = top; depth >= 0; depth--) {
        X509 *subject = sk_X509_value(chain, depth);
        if (depth < top) {
            X509 *issuer = sk_X509_value(chain, depth + 1);
            int code = signing_allowed(issuer, subject);
            if (code != X509_V_OK && !report(ctx, issuer, depth + 1, code))
                return 0;
            EVP_PKEY *key = X509_get0_pubkey(issuer);
            if (key == NULL) {
                if (!report(ctx, issuer, depth + 1, X509_V_ERR_UNABLE_TO_DECODE_ISSUER_PUBLIC_KEY))
                    return 0;
            } else if (!signature_ok(subject, issuer, key)) {
                if (!report(ctx, subject, depth, X509_V_ERR_CERT_SIGNATURE_FAILURE))
                    return 0;
            }
        }
        if (!check_time(ctx, subject, depth))
            return 0;
        /* This depth is done; an earlier error stays recorded. */
        X509_STORE_CTX_set_current_cert(ctx, subject);
        X509_STORE_CTX_set_error_depth(ctx, depth);
        if (!X509_STORE_CTX_get_verify_cb(ctx)(1, ctx))
            return 0;
    }
    return 1;
}
