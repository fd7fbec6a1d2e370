/*
 * handshake.c - the TLS client half of a live check, over memory BIOs.
 *
 * No sockets here: bytes from the peer go in with tc_hs_feed, bytes for
 * the peer come out with tc_hs_out_peek/consume.  live.c moves them over
 * a socket; a fuzz target can move them from an in-memory peer.  Keeping
 * the transport ours also keeps the peer's first bytes, which is how a
 * plain-HTTP (or SSH, SMTP...) listener on a TLS port is recognised.
 *
 * Failures are classified from numbers, never from message text: the
 * alert number the server sent (SSL reasons >= SSL_AD_REASON_OFFSET are
 * received alerts), OpenSSL's SSL reason code, and the stage the
 * handshake had reached (seen through the message callback).  Each is a
 * const table below.
 */
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include "internal.h"
#include "live_internal.h"
#include "classify.h"
#include "text.h"

/* ALPN wire format: length-prefixed protocol names (RFC 7301 3.1). */
static const unsigned char ALPN_PROTOS[] = "\x02h2\x08http/1.1";

/* An empty Certificate message: 4-byte header + 3-byte list length
 * (TLS 1.2), + 1-byte context (TLS 1.3).  Longer means a certificate. */
#define EMPTY_CERTIFICATE_MAX 8

/* Handshake messages up to this size are accepted: room for chains of
 * 50 certificates or leaves with thousands of names (OpenSSL's own
 * default is 100 KB), still a bound on what one check may buffer. */
#define MAX_CERT_LIST (1024L * 1024L)

/* ------------------------------------------------------------------ */
/* Small helpers                                                       */
/* ------------------------------------------------------------------ */

static const struct { int version; const char *name; } VERSIONS[] = {
    { SSL3_VERSION, "SSL 3.0" },
    { TLS1_VERSION, "TLS 1.0" },
    { TLS1_1_VERSION, "TLS 1.1" },
    { TLS1_2_VERSION, "TLS 1.2" },
    { TLS1_3_VERSION, "TLS 1.3" },
};

const char *tc_tls_version_name(int version)
{
    for (size_t i = 0; i < sizeof(VERSIONS) / sizeof(VERSIONS[0]); i++)
        if (VERSIONS[i].version == version)
            return VERSIONS[i].name;
    return NULL;
}

/* Handshake message names (RFC 8446 section 4, RFC 5246 section 7.4). */
static const struct { int type; const char *name; } MESSAGES[] = {
    { SSL3_MT_HELLO_REQUEST, "HelloRequest" },
    { SSL3_MT_SERVER_HELLO, "ServerHello" },
    { SSL3_MT_NEWSESSION_TICKET, "NewSessionTicket" },
    { SSL3_MT_ENCRYPTED_EXTENSIONS, "EncryptedExtensions" },
    { SSL3_MT_CERTIFICATE, "Certificate" },
    { SSL3_MT_SERVER_KEY_EXCHANGE, "ServerKeyExchange" },
    { SSL3_MT_CERTIFICATE_REQUEST, "CertificateRequest" },
    { SSL3_MT_SERVER_DONE, "ServerHelloDone" },
    { SSL3_MT_CERTIFICATE_VERIFY, "CertificateVerify" },
    { SSL3_MT_FINISHED, "Finished" },
    { SSL3_MT_CERTIFICATE_STATUS, "CertificateStatus" },
    { SSL3_MT_KEY_UPDATE, "KeyUpdate" },
};

static const char *message_name(int type)
{
    for (size_t i = 0; i < sizeof(MESSAGES) / sizeof(MESSAGES[0]); i++)
        if (MESSAGES[i].type == type)
            return MESSAGES[i].name;
    return "an unknown message";
}

/* ------------------------------------------------------------------ */
/* Contexts                                                            */
/* ------------------------------------------------------------------ */

/* OpenSSL's own chain verification is skipped: tc_verify runs on the
 * served chain after the handshake and records every problem, which a
 * verify callback that stops at the first error cannot.  Skipping it also
 * saves building a chain twice per check.  No application data is ever
 * sent, so an unverified peer is never trusted with anything. */
static int skip_openssl_verification(X509_STORE_CTX *store, void *arg)
{
    (void)store;
    (void)arg;
    return 1;
}

static tc_status ctx_fail(SSL_CTX *ctx, const char *what, tc_error *err)
{
    unsigned long e = ERR_peek_last_error();
    tc_error_set(err, e ? TC_E_INTERNAL : TC_E_NOMEM,
                 "could not set up the TLS client (%s): %s", what,
                 e ? ERR_reason_error_string(e) : "out of memory");
    ERR_clear_error();
    SSL_CTX_free(ctx);
    return TC_FAIL;
}

static tc_status ctx_common(SSL_CTX *ctx, tc_error *err)
{
    /* SSL_CTX_set_alpn_protos returns 0 on success. */
    if (SSL_CTX_set_alpn_protos(ctx, ALPN_PROTOS, sizeof(ALPN_PROTOS) - 1) != 0)
        return ctx_fail(ctx, "ALPN", err);
    if (SSL_CTX_set_tlsext_status_type(ctx, TLSEXT_STATUSTYPE_ocsp) != 1)
        return ctx_fail(ctx, "OCSP status request", err);
    SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
    SSL_CTX_set_cert_verify_callback(ctx, skip_openssl_verification, NULL);
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
    /* Every check is a full handshake: no session is ever resumed. */
    SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET);
    /* Thousands of checks in flight: give buffers back when idle. */
    SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
    SSL_CTX_set_max_cert_list(ctx, MAX_CERT_LIST);
    return TC_OK;
}

tc_status tc_hs_ctx_new(SSL_CTX **out, tc_error *err)
{
    *out = NULL;
    ERR_clear_error();
    SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
    if (ctx == NULL)
        return ctx_fail(NULL, "SSL_CTX_new", err);
    /* What a modern client accepts (RFC 8996 retired TLS 1.0 and 1.1),
     * pinned so the verdict does not depend on the system openssl.cnf. */
    if (SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) != 1 ||
        SSL_CTX_set_max_proto_version(ctx, TLS1_3_VERSION) != 1)
        return ctx_fail(ctx, "protocol versions", err);
    SSL_CTX_set_security_level(ctx, 2);
    if (ctx_common(ctx, err) != TC_OK)
        return TC_FAIL;
    *out = ctx;
    return TC_OK;
}

tc_status tc_hs_probe_ctx_new(SSL_CTX **out, tc_error *err)
{
    *out = NULL;
    ERR_clear_error();
    SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
    if (ctx == NULL)
        return ctx_fail(NULL, "SSL_CTX_new", err);
    /* 0 = the lowest / highest version this OpenSSL has. */
    if (SSL_CTX_set_min_proto_version(ctx, 0) != 1 ||
        SSL_CTX_set_max_proto_version(ctx, 0) != 1)
        return ctx_fail(ctx, "probe protocol versions", err);
    SSL_CTX_set_security_level(ctx, 0);
    if (SSL_CTX_set_cipher_list(ctx, "ALL:eNULL:@SECLEVEL=0") != 1)
        return ctx_fail(ctx, "probe cipher list", err);
    /* Old servers lack RFC 5746 secure renegotiation; the probe only
     * wants to learn what they speak. */
    SSL_CTX_set_options(ctx, SSL_OP_LEGACY_SERVER_CONNECT);
    if (ctx_common(ctx, err) != TC_OK)
        return TC_FAIL;
    *out = ctx;
    return TC_OK;
}

/* Never prompt on a terminal for a passphrase: note that one was asked. */
static int no_passphrase(char *buf, int size, int rwflag, void *u)
{
    (void)buf;
    (void)size;
    (void)rwflag;
    *(int *)u = 1;
    return 0;
}

tc_status tc_hs_ctx_use_client_cert(SSL_CTX *ctx, const char *cert_pem, size_t cert_len,
                                    const char *key_pem, size_t key_len, tc_error *err)
{
    tc_status rv = TC_FAIL;
    BIO *cbio = NULL, *kbio = NULL;
    X509 *leaf = NULL;
    EVP_PKEY *key = NULL;
    int asked = 0;

    ERR_clear_error();
    if (cert_len > INT_MAX || key_len > INT_MAX) {
        tc_error_set(err, TC_E_INVALID, "The client certificate or key is too large to be PEM.");
        goto done;
    }
    cbio = BIO_new_mem_buf(cert_pem, (int)cert_len);
    if (cbio == NULL) {
        tc_error_set(err, TC_E_NOMEM, "out of memory reading the client certificate");
        goto done;
    }
    leaf = PEM_read_bio_X509(cbio, NULL, no_passphrase, &asked);
    if (leaf == NULL) {
        tc_error_set(err, TC_E_INVALID,
                     "The client certificate is not a PEM certificate: expected a "
                     "'-----BEGIN CERTIFICATE-----' block.");
        goto done;
    }
    if (SSL_CTX_use_certificate(ctx, leaf) != 1) {
        unsigned long e = ERR_peek_last_error();
        tc_error_set(err, TC_E_INVALID, "OpenSSL refused the client certificate: %s.",
                     e ? ERR_reason_error_string(e) : "unknown reason");
        goto done;
    }
    /* The rest of the PEM: intermediates sent after the leaf. */
    for (;;) {
        X509 *x = PEM_read_bio_X509(cbio, NULL, no_passphrase, &asked);
        if (x == NULL)
            break;
        if (SSL_CTX_add0_chain_cert(ctx, x) != 1) {
            X509_free(x);
            tc_error_set(err, TC_E_INVALID, "OpenSSL refused a certificate of the client chain.");
            goto done;
        }
    }
    ERR_clear_error();   /* the end of the PEM input */

    kbio = key_pem ? BIO_new_mem_buf(key_pem, (int)key_len)
                   : BIO_new_mem_buf(cert_pem, (int)cert_len);
    if (kbio == NULL) {
        tc_error_set(err, TC_E_NOMEM, "out of memory reading the client key");
        goto done;
    }
    key = PEM_read_bio_PrivateKey(kbio, NULL, no_passphrase, &asked);
    if (key == NULL) {
        if (asked)
            tc_error_set(err, TC_E_INVALID,
                         "The client key is encrypted with a passphrase, which pytlscheck "
                         "does not ask for: decrypt it first (openssl pkey -in client.key "
                         "-out client-plain.key).");
        else if (key_pem == NULL)
            tc_error_set(err, TC_E_INVALID,
                         "The client certificate PEM holds no private key: pass the key "
                         "too (client_key=...).");
        else
            tc_error_set(err, TC_E_INVALID,
                         "The client key is not a PEM private key: expected a "
                         "'-----BEGIN PRIVATE KEY-----' block.");
        goto done;
    }
    if (X509_check_private_key(leaf, key) != 1) {
        tc_error_set(err, TC_E_INVALID,
                     "The client key does not belong to the client certificate: the "
                     "certificate's public key is not the key's (were they issued together?).");
        goto done;
    }
    if (SSL_CTX_use_PrivateKey(ctx, key) != 1 || SSL_CTX_check_private_key(ctx) != 1) {
        unsigned long e = ERR_peek_last_error();
        tc_error_set(err, TC_E_INVALID, "OpenSSL refused the client key: %s.",
                     e ? ERR_reason_error_string(e) : "unknown reason");
        goto done;
    }
    rv = TC_OK;
done:
    ERR_clear_error();
    EVP_PKEY_free(key);
    X509_free(leaf);
    BIO_free(kbio);
    BIO_free(cbio);
    return rv;
}

/* ------------------------------------------------------------------ */
/* One handshake                                                       */
/* ------------------------------------------------------------------ */

/* Sees every handshake message in both directions (after decryption in
 * TLS 1.3): how far the server got, whether it asked for a client
 * certificate, whether ours was empty. */
static void on_message(int write_p, int version, int content_type,
                       const void *buf, size_t len, SSL *ssl, void *arg)
{
    tc_hs *hs = arg;
    const unsigned char *p = buf;
    (void)version;
    (void)ssl;
    if (content_type != SSL3_RT_HANDSHAKE || len < 1)
        return;
    if (write_p) {
        if (p[0] == SSL3_MT_CERTIFICATE)
            hs->client_cert_sent = len > EMPTY_CERTIFICATE_MAX;
        return;
    }
    hs->last_msg_in = p[0];
    if (p[0] == SSL3_MT_SERVER_HELLO) {
        /* OpenSSL 3.0 has no getter for a HelloRetryRequest: it is a
         * ServerHello whose random is this fixed value (RFC 8446 4.1.3). */
        static const unsigned char HRR_RANDOM[32] = {
            0xCF, 0x21, 0xAD, 0x74, 0xE5, 0x9A, 0x61, 0x11, 0xBE, 0x1D, 0x8C, 0x02,
            0x1E, 0x65, 0xB8, 0x91, 0xC2, 0xA2, 0x11, 0x16, 0x7A, 0xBB, 0x8C, 0x5E,
            0x07, 0x9E, 0x09, 0xE2, 0xC8, 0xA8, 0x33, 0x9C,
        };
        hs->server_hello_seen = 1;
        /* type (1), length (3), legacy_version (2), then the random. */
        if (len >= 6 + sizeof(HRR_RANDOM) && memcmp(p + 6, HRR_RANDOM, sizeof(HRR_RANDOM)) == 0)
            hs->hrr_seen = 1;
        else
            hs->real_server_hello = 1;
    }
    else if (p[0] == SSL3_MT_CERTIFICATE_REQUEST)
        hs->cert_request_seen = 1;
    else if (p[0] == SSL3_MT_NEWSESSION_TICKET)
        hs->ticket_seen = 1;
}

tc_status tc_hs_no_alpn(tc_hs *hs, tc_error *err)
{
    /* SSL_set_alpn_protos returns 0 on success. */
    if (hs->ssl == NULL || SSL_set_alpn_protos(hs->ssl, NULL, 0) != 0) {
        ERR_clear_error();
        return tc_error_set(err, TC_E_INTERNAL, "could not clear the ALPN list of a handshake");
    }
    return TC_OK;
}

tc_status tc_hs_init(tc_hs *hs, SSL_CTX *ctx, const char *sni, tc_error *err)
{
    memset(hs, 0, sizeof(*hs));
    hs->last_msg_in = -1;
    ERR_clear_error();
    hs->ssl = SSL_new(ctx);
    BIO *rbio = BIO_new(BIO_s_mem());
    BIO *wbio = BIO_new(BIO_s_mem());
    if (hs->ssl == NULL || rbio == NULL || wbio == NULL) {
        BIO_free(rbio);
        BIO_free(wbio);
        SSL_free(hs->ssl);
        hs->ssl = NULL;
        ERR_clear_error();
        return tc_error_set(err, TC_E_NOMEM, "out of memory starting a TLS handshake");
    }
    /* An empty read BIO means "wait for more", not end of stream: the
     * transport decides when the peer closed. */
    BIO_set_mem_eof_return(rbio, -1);
    SSL_set_bio(hs->ssl, rbio, wbio);    /* ssl owns both now */
    hs->rbio = rbio;
    hs->wbio = wbio;
    SSL_set_connect_state(hs->ssl);
    SSL_set_msg_callback(hs->ssl, on_message);
    SSL_set_msg_callback_arg(hs->ssl, hs);
    /* SNI carries DNS names only, never IP literals (RFC 6066 section 3). */
    /* SSL_set_tlsext_host_name() is a macro that casts the const away
     * (clang's -Wcast-qual); the same call, with the cast through an
     * integer: OpenSSL copies the name and never writes to it. */
    if (sni != NULL && SSL_ctrl(hs->ssl, SSL_CTRL_SET_TLSEXT_HOSTNAME, TLSEXT_NAMETYPE_host_name,
                                (void *)(uintptr_t)sni) != 1) {
        tc_hs_clear(hs);
        ERR_clear_error();
        return tc_error_set(err, TC_E_INVALID, "'%s' cannot be sent as a TLS server name (SNI)", sni);
    }
    return TC_OK;
}

void tc_hs_clear(tc_hs *hs)
{
    SSL_free(hs->ssl);   /* frees the BIOs too */
    hs->ssl = NULL;
    hs->rbio = hs->wbio = NULL;
}

void tc_hs_keep(tc_hs *hs, const unsigned char *p, size_t n)
{
    size_t room = sizeof(hs->first) - hs->first_len;
    size_t k = n < room ? n : room;
    memcpy(hs->first + hs->first_len, p, k);
    hs->first_len += k;
    hs->bytes_in += n;
}

tc_status tc_hs_feed(tc_hs *hs, const unsigned char *p, size_t n, tc_error *err)
{
    tc_hs_keep(hs, p, n);
    while (n > 0) {
        int chunk = n > INT_MAX ? INT_MAX : (int)n;
        int w = BIO_write(hs->rbio, p, chunk);
        if (w <= 0) {
            ERR_clear_error();
            return tc_error_set(err, TC_E_NOMEM, "out of memory buffering the server's handshake");
        }
        p += w;
        n -= (size_t)w;
    }
    return TC_OK;
}

/* A TLS record starts with a content type (20..24: change_cipher_spec,
 * alert, handshake, application_data, heartbeat) and a version whose
 * major byte is 3 (RFC 8446 section 5.1, RFC 5246 section 6.2.1). */
int tc_hs_not_tls(const tc_hs *hs)
{
    if (hs->first_len >= 1 && (hs->first[0] < 20 || hs->first[0] > 24))
        return 1;
    if (hs->first_len >= 2 && hs->first[1] != 3)
        return 1;
    return 0;
}

int tc_hs_banner_complete(const tc_hs *hs)
{
    return hs->first_len == sizeof(hs->first) ||
           memchr(hs->first, '\n', hs->first_len) != NULL;
}

size_t tc_hs_out_peek(tc_hs *hs, const unsigned char **p)
{
    char *data = NULL;
    long n = BIO_get_mem_data(hs->wbio, &data);
    *p = (const unsigned char *)data;
    return n > 0 ? (size_t)n : 0;
}

void tc_hs_out_consume(tc_hs *hs, size_t n)
{
    unsigned char scratch[1024];
    while (n > 0) {
        int k = BIO_read(hs->wbio, scratch, n < sizeof(scratch) ? (int)n : (int)sizeof(scratch));
        if (k <= 0)
            break;
        n -= (size_t)k;
    }
}

/* ------------------------------------------------------------------ */
/* Classification tables                                               */
/* ------------------------------------------------------------------ */

/* Alert names (RFC 8446 section 6, RFC 5246 section 7.2, RFC 7301,
 * RFC 7507); OpenSSL 3.0's own table lacks the TLS 1.3 ones. */
static const struct { int alert; const char *name; } ALERT_NAMES[] = {
    { 0, "close notify" }, { 10, "unexpected message" }, { 20, "bad record MAC" },
    { 21, "decryption failed" }, { 22, "record overflow" }, { 30, "decompression failure" },
    { 40, "handshake failure" }, { 41, "no certificate" }, { 42, "bad certificate" },
    { 43, "unsupported certificate" }, { 44, "certificate revoked" },
    { 45, "certificate expired" }, { 46, "certificate unknown" }, { 47, "illegal parameter" },
    { 48, "unknown CA" }, { 49, "access denied" }, { 50, "decode error" },
    { 51, "decrypt error" }, { 60, "export restriction" }, { 70, "protocol version" },
    { 71, "insufficient security" }, { 80, "internal error" },
    { 86, "inappropriate fallback" }, { 90, "user canceled" }, { 100, "no renegotiation" },
    { 109, "missing extension" }, { 110, "unsupported extension" },
    { 111, "certificate unobtainable" }, { 112, "unrecognized name" },
    { 113, "bad certificate status response" }, { 114, "bad certificate hash value" },
    { 115, "unknown PSK identity" }, { 116, "certificate required" },
    { 120, "no application protocol" },
};

static const char *alert_name(int alert)
{
    for (size_t i = 0; i < sizeof(ALERT_NAMES) / sizeof(ALERT_NAMES[0]); i++)
        if (ALERT_NAMES[i].alert == alert)
            return ALERT_NAMES[i].name;
    return SSL_alert_desc_string_long(alert);
}

/* Where the handshake was when the server sent its alert: the same
 * alert means different things at different stages. */
enum { AT_HELLO = 0, AT_SERVER_FLIGHT = 1, AT_CLIENT_AUTH = 2 };

static const char *const STAGE_WORDS[] = {
    [AT_HELLO] = "in answer to the ClientHello",
    [AT_SERVER_FLIGHT] = "after its ServerHello",
    [AT_CLIENT_AUTH] = "after asking for a client certificate",
};

/* Received alert -> kind at each stage.  CCR at AT_CLIENT_AUTH means
 * client_certificate_required when no certificate was sent, and a
 * handshake_failure naming the rejected certificate when one was. */
#define K(x) TC_KIND_##x
static const struct alert_row {
    int alert;
    tc_kind kind[3];
    const char *why;       /* plain words, or NULL */
} ALERTS[] = {
    { SSL_AD_PROTOCOL_VERSION, { K(PROTOCOL_MISMATCH), K(PROTOCOL_MISMATCH), K(PROTOCOL_MISMATCH) },
      "it supports none of the TLS versions this client offers (TLS 1.2 and 1.3)" },
    { SSL_AD_HANDSHAKE_FAILURE, { K(NO_SHARED_CIPHER), K(HANDSHAKE_FAILURE), K(CLIENT_CERTIFICATE_REQUIRED) },
      NULL },
    { SSL_AD_INSUFFICIENT_SECURITY, { K(NO_SHARED_CIPHER), K(HANDSHAKE_FAILURE), K(HANDSHAKE_FAILURE) },
      "it requires stronger (or other) cipher suites than this client offers" },
    { SSL_AD_CERTIFICATE_REQUIRED, { K(CLIENT_CERTIFICATE_REQUIRED), K(CLIENT_CERTIFICATE_REQUIRED), K(CLIENT_CERTIFICATE_REQUIRED) },
      NULL },
    { SSL_AD_BAD_CERTIFICATE, { K(HANDSHAKE_FAILURE), K(HANDSHAKE_FAILURE), K(CLIENT_CERTIFICATE_REQUIRED) }, NULL },
    { SSL_AD_UNSUPPORTED_CERTIFICATE, { K(HANDSHAKE_FAILURE), K(HANDSHAKE_FAILURE), K(CLIENT_CERTIFICATE_REQUIRED) }, NULL },
    { SSL_AD_CERTIFICATE_REVOKED, { K(HANDSHAKE_FAILURE), K(HANDSHAKE_FAILURE), K(CLIENT_CERTIFICATE_REQUIRED) }, NULL },
    { SSL_AD_CERTIFICATE_EXPIRED, { K(HANDSHAKE_FAILURE), K(HANDSHAKE_FAILURE), K(CLIENT_CERTIFICATE_REQUIRED) }, NULL },
    { SSL_AD_CERTIFICATE_UNKNOWN, { K(HANDSHAKE_FAILURE), K(HANDSHAKE_FAILURE), K(CLIENT_CERTIFICATE_REQUIRED) }, NULL },
    { SSL_AD_UNKNOWN_CA, { K(HANDSHAKE_FAILURE), K(HANDSHAKE_FAILURE), K(CLIENT_CERTIFICATE_REQUIRED) }, NULL },
    { SSL_AD_ACCESS_DENIED, { K(HANDSHAKE_FAILURE), K(HANDSHAKE_FAILURE), K(CLIENT_CERTIFICATE_REQUIRED) }, NULL },
    { SSL_AD_UNRECOGNIZED_NAME, { K(HANDSHAKE_FAILURE), K(HANDSHAKE_FAILURE), K(HANDSHAKE_FAILURE) },
      "it does not serve the server name (SNI) this client asked for" },
    { SSL_AD_NO_APPLICATION_PROTOCOL, { K(HANDSHAKE_FAILURE), K(HANDSHAKE_FAILURE), K(HANDSHAKE_FAILURE) },
      "it supports neither h2 nor http/1.1 by ALPN" },
    { SSL_AD_INTERNAL_ERROR, { K(HANDSHAKE_FAILURE), K(HANDSHAKE_FAILURE), K(HANDSHAKE_FAILURE) },
      "the server hit an internal error (see its error log)" },
    { SSL_AD_DECODE_ERROR, { K(HANDSHAKE_FAILURE), K(HANDSHAKE_FAILURE), K(HANDSHAKE_FAILURE) },
      "it could not parse this client's handshake message" },
    { SSL_AD_ILLEGAL_PARAMETER, { K(HANDSHAKE_FAILURE), K(HANDSHAKE_FAILURE), K(HANDSHAKE_FAILURE) },
      "it found a parameter of this client's handshake unacceptable" },
    { SSL_AD_MISSING_EXTENSION, { K(HANDSHAKE_FAILURE), K(HANDSHAKE_FAILURE), K(HANDSHAKE_FAILURE) },
      "it expected a TLS extension this client did not send" },
    { SSL_AD_INAPPROPRIATE_FALLBACK, { K(PROTOCOL_MISMATCH), K(PROTOCOL_MISMATCH), K(PROTOCOL_MISMATCH) },
      "it saw a version fallback it refuses (RFC 7507)" },
};

/* Local SSL reasons (this client gave up) -> kind. */
static const struct reason_row {
    int reason;
    tc_kind kind;
    const char *why;       /* NULL: OpenSSL's reason text says it */
} REASONS[] = {
    { SSL_R_UNSUPPORTED_PROTOCOL, K(PROTOCOL_MISMATCH),
      "the server chose a TLS version this client does not accept" },
    { SSL_R_WRONG_SSL_VERSION, K(PROTOCOL_MISMATCH),
      "the server chose a TLS version this client does not accept" },
    { SSL_R_WRONG_VERSION_NUMBER, K(PROTOCOL_MISMATCH),
      "the server's records carry a TLS version this client does not accept" },
    { SSL_R_BAD_PROTOCOL_VERSION_NUMBER, K(PROTOCOL_MISMATCH),
      "the server's records carry a TLS version this client does not accept" },
    { SSL_R_NO_PROTOCOLS_AVAILABLE, K(PROTOCOL_MISMATCH), NULL },
    { SSL_R_WRONG_CIPHER_RETURNED, K(NO_SHARED_CIPHER),
      "the server chose a cipher suite this client did not offer" },
    { SSL_R_NO_SHARED_CIPHER, K(NO_SHARED_CIPHER), NULL },
    { SSL_R_NO_CIPHERS_AVAILABLE, K(NO_SHARED_CIPHER), NULL },
    { SSL_R_PACKET_LENGTH_TOO_LONG, K(NOT_TLS), NULL },
    { SSL_R_UNSAFE_LEGACY_RENEGOTIATION_DISABLED, K(HANDSHAKE_FAILURE),
      "the server does not support secure renegotiation (RFC 5746), which OpenSSL 3 clients require" },
    { SSL_R_DH_KEY_TOO_SMALL, K(HANDSHAKE_FAILURE),
      "the server's Diffie-Hellman group is too small (under 2048 bits) for clients at security level 2" },
    { SSL_R_EE_KEY_TOO_SMALL, K(HANDSHAKE_FAILURE),
      "the server certificate's key is too small for clients at security level 2" },
    { SSL_R_CA_KEY_TOO_SMALL, K(HANDSHAKE_FAILURE),
      "a CA key in the served chain is too small for clients at security level 2" },
    { SSL_R_CA_MD_TOO_WEAK, K(HANDSHAKE_FAILURE),
      "a signature in the served chain uses a hash too weak for clients at security level 2" },
    { SSL_R_WRONG_CURVE, K(HANDSHAKE_FAILURE),
      "the server chose a key-exchange group this client did not offer" },
    { SSL_R_BAD_KEY_SHARE, K(HANDSHAKE_FAILURE), "the server sent an invalid key share" },
    { SSL_R_BAD_ECPOINT, K(HANDSHAKE_FAILURE), "the server sent an invalid key share" },
    { SSL_R_BAD_SIGNATURE, K(HANDSHAKE_FAILURE),
      "the server's handshake signature does not verify with its certificate's key" },
    { SSL_R_WRONG_SIGNATURE_TYPE, K(HANDSHAKE_FAILURE),
      "the server signed with an algorithm this client did not offer" },
    { SSL_R_NO_SUITABLE_SIGNATURE_ALGORITHM, K(HANDSHAKE_FAILURE),
      "the server signed with an algorithm this client did not offer" },
    { SSL_R_DECRYPTION_FAILED_OR_BAD_RECORD_MAC, K(HANDSHAKE_FAILURE),
      "a record failed its integrity check (corrupted in transit, or a broken middlebox)" },
    { SSL_R_EXCESSIVE_MESSAGE_SIZE, K(CHAIN_TOO_LARGE),
      "the server's Certificate message is over 1 MB, more than even this checker accepts" },
};
#undef K

/* SSL reasons OpenSSL gives while reading the server's Certificate
 * message when a certificate in it is not DER it can parse
 * (tls_process_server_certificate): d2i_X509 failed, or the DER ended
 * before the length the message gave it.  A message whose list lengths
 * do not add up (SSL_R_LENGTH_MISMATCH) is a broken message, not a
 * broken certificate: it stays a handshake_failure. */
static const struct cert_parse_row {
    int reason;
    const char *why;
} CERT_PARSE[] = {
    { ERR_R_ASN1_LIB, "" },
    { ERR_R_NESTED_ASN1_ERROR, "" },
    { SSL_R_CERT_LENGTH_MISMATCH, " (its DER ends before or after the length the message gives it)" },
};

/* 1 when the failure is a server certificate that does not parse: an
 * ASN.1 error, or a CERT_PARSE reason, while the last message received
 * was the server's Certificate. */
static int cert_parse_verdict(const tc_hs *hs, unsigned long ssl_code,
                              unsigned long asn1_code, tc_verdict *v)
{
    if (hs->last_msg_in != SSL3_MT_CERTIFICATE)
        return 0;
    const struct cert_parse_row *row = NULL;
    int reason = ssl_code ? ERR_GET_REASON(ssl_code) : 0;
    for (size_t i = 0; ssl_code && i < sizeof(CERT_PARSE) / sizeof(CERT_PARSE[0]); i++)
        if (CERT_PARSE[i].reason == reason)
            row = &CERT_PARSE[i];
    if (row == NULL && asn1_code == 0)
        return 0;
    const char *ssl_text = ssl_code ? ERR_reason_error_string(ssl_code) : NULL;
    const char *asn1_text = asn1_code ? ERR_reason_error_string(asn1_code) : NULL;
    v->kind = TC_KIND_MALFORMED_CERTIFICATE;
    v->cert = "a certificate in the server's Certificate message";
    snprintf(v->reason, sizeof(v->reason), "%s",
             asn1_text ? asn1_text : ssl_text ? ssl_text : "");
    snprintf(v->detail, sizeof(v->detail),
             "the server sent a certificate that is not valid DER%s; OpenSSL says: %s%s%s",
             row ? row->why : CERT_PARSE[0].why,
             asn1_text ? asn1_text : "", asn1_text && ssl_text ? ", " : "",
             ssl_text ? ssl_text : (asn1_text ? "" : "no reason given"));
    return 1;
}

/* Fills reason/detail for a received alert. */
static void alert_verdict(const tc_hs *hs, int alert, tc_verdict *v)
{
    int stage = hs->cert_request_seen ? AT_CLIENT_AUTH
              : hs->server_hello_seen ? AT_SERVER_FLIGHT : AT_HELLO;
    const struct alert_row *row = NULL;
    for (size_t i = 0; i < sizeof(ALERTS) / sizeof(ALERTS[0]); i++)
        if (ALERTS[i].alert == alert)
            row = &ALERTS[i];
    const char *name = alert_name(alert);
    snprintf(v->reason, sizeof(v->reason), "%s", name);
    v->kind = row ? row->kind[stage] : TC_KIND_HANDSHAKE_FAILURE;
    if (v->kind == TC_KIND_CLIENT_CERTIFICATE_REQUIRED && hs->client_cert_sent) {
        v->kind = TC_KIND_HANDSHAKE_FAILURE;
        snprintf(v->detail, sizeof(v->detail),
                 "the server rejected the client certificate it was given, with the alert '%s' (%d)",
                 name, alert);
        return;
    }
    if (v->kind == TC_KIND_CLIENT_CERTIFICATE_REQUIRED) {
        /* The kind's sentence ends "...refused without one{detail}." */
        snprintf(v->detail, sizeof(v->detail), " (it sent the alert '%s' (%d) %s)",
                 name, alert, STAGE_WORDS[stage]);
        return;
    }
    snprintf(v->detail, sizeof(v->detail), "the server sent the alert '%s' (%d) %s%s%s",
             name, alert, STAGE_WORDS[stage], row && row->why ? ": " : "",
             row && row->why ? row->why : "");
    v->want_probe = v->kind == TC_KIND_PROTOCOL_MISMATCH || v->kind == TC_KIND_NO_SHARED_CIPHER;
}

/* Classifies the failure OpenSSL just reported, then empties its
 * (thread-local) error queue so the next check on this thread starts
 * clean. */
static void classify_failure(const tc_hs *hs, int ssl_error, tc_verdict *v)
{
    unsigned long code = 0, asn1 = 0, e;
    while ((e = ERR_get_error()) != 0) {
        if (code == 0 && ERR_GET_LIB(e) == ERR_LIB_SSL)
            code = e;     /* the first SSL error is the root cause */
        if (asn1 == 0 && ERR_GET_LIB(e) == ERR_LIB_ASN1)
            asn1 = e;     /* the deepest DER decoding error */
    }
    ERR_clear_error();
    memset(v, 0, sizeof(*v));
    int reason = code ? ERR_GET_REASON(code) : 0;

    if (cert_parse_verdict(hs, code, asn1, v))
        return;

    if (reason > SSL_AD_REASON_OFFSET && reason < SSL_AD_REASON_OFFSET + 256) {
        alert_verdict(hs, reason - SSL_AD_REASON_OFFSET, v);
        return;
    }
    const struct reason_row *row = NULL;
    for (size_t i = 0; code && i < sizeof(REASONS) / sizeof(REASONS[0]); i++)
        if (REASONS[i].reason == reason)
            row = &REASONS[i];
    const char *text = code ? ERR_reason_error_string(code) : NULL;
    if (row != NULL && row->kind == TC_KIND_NOT_TLS) {
        tc_hs_verdict_not_tls(hs, v);
        return;
    }
    if (row != NULL) {
        v->kind = row->kind;
        snprintf(v->reason, sizeof(v->reason), "%s", text ? text : "");
        snprintf(v->detail, sizeof(v->detail), "%s", row->why ? row->why : (text ? text : ""));
        v->want_probe = v->kind == TC_KIND_PROTOCOL_MISMATCH || v->kind == TC_KIND_NO_SHARED_CIPHER;
        return;
    }
    if (code == 0 && (ssl_error == SSL_ERROR_SYSCALL || ssl_error == SSL_ERROR_ZERO_RETURN)) {
        tc_hs_verdict_closed(hs, 0, v);
        return;
    }
    v->kind = TC_KIND_HANDSHAKE_FAILURE;
    snprintf(v->reason, sizeof(v->reason), "%s", text ? text : "");
    snprintf(v->detail, sizeof(v->detail), "this client gave up %s (last message: %s): %s",
             hs->server_hello_seen ? "during the server's handshake" : "before the ServerHello",
             hs->last_msg_in >= 0 ? message_name(hs->last_msg_in) : "none",
             text ? text : "an unclassified TLS error");
}

tc_hs_result tc_hs_advance(tc_hs *hs, tc_verdict *v)
{
    ERR_clear_error();
    int rc = SSL_do_handshake(hs->ssl);
    if (rc == 1) {
        hs->complete = 1;
        return TC_HS_DONE;
    }
    int e = SSL_get_error(hs->ssl, rc);
    if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
        ERR_clear_error();
        return TC_HS_WANT;
    }
    classify_failure(hs, e, v);
    return TC_HS_FAILED;
}

tc_hs_result tc_hs_post(tc_hs *hs, tc_verdict *v)
{
    unsigned char buf[512];
    ERR_clear_error();
    int n = SSL_read(hs->ssl, buf, sizeof(buf));
    if (n > 0)
        return TC_HS_DONE;    /* it spoke: it accepted this client */
    int e = SSL_get_error(hs->ssl, n);
    if (e == SSL_ERROR_ZERO_RETURN) {
        ERR_clear_error();
        return TC_HS_DONE;    /* close_notify, no complaint */
    }
    if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
        ERR_clear_error();
        /* A session ticket comes only once the server accepted our
         * Finished (and our certificate, if any). */
        return hs->ticket_seen ? TC_HS_DONE : TC_HS_WANT;
    }
    classify_failure(hs, e, v);
    return TC_HS_FAILED;
}

/* ------------------------------------------------------------------ */
/* Verdicts decided by the transport                                   */
/* ------------------------------------------------------------------ */

static void stage_words(const tc_hs *hs, char *out, size_t len)
{
    if (hs->complete)
        snprintf(out, len, "after the handshake");
    else if (hs->bytes_in == 0)
        snprintf(out, len, "right after the ClientHello, before sending anything");
    else
        snprintf(out, len, "in the middle of its handshake, after %llu bytes (last complete message: %s)",
                 hs->bytes_in, hs->last_msg_in >= 0 ? message_name(hs->last_msg_in) : "none");
}

void tc_hs_verdict_closed(const tc_hs *hs, int sys_errno, tc_verdict *v)
{
    char stage[200];
    memset(v, 0, sizeof(*v));
    stage_words(hs, stage, sizeof(stage));
    v->kind = TC_KIND_CONNECTION_RESET;
    const tc_errno_class *ec = sys_errno ? tc_errno_classify(sys_errno) : NULL;
    if (ec != NULL && ec->name != NULL) {
        snprintf(v->reason, sizeof(v->reason), "%s", ec->name);
        snprintf(v->detail, sizeof(v->detail), "%s (%s) %s", ec->what, ec->name, stage);
    } else if (sys_errno) {
        snprintf(v->reason, sizeof(v->reason), "%s", strerror(sys_errno));
        snprintf(v->detail, sizeof(v->detail), "%s %s", strerror(sys_errno), stage);
    } else {
        snprintf(v->reason, sizeof(v->reason), "unexpected EOF");
        snprintf(v->detail, sizeof(v->detail), "the server closed the connection %s", stage);
    }
}

void tc_hs_verdict_timeout(const tc_hs *hs, double seconds, tc_verdict *v)
{
    memset(v, 0, sizeof(*v));
    v->kind = TC_KIND_HANDSHAKE_TIMEOUT;
    snprintf(v->reason, sizeof(v->reason), "timeout");
    if (hs->bytes_in == 0)
        snprintf(v->detail, sizeof(v->detail),
                 "it sent nothing in the %.1f s after the ClientHello", seconds);
    else
        snprintf(v->detail, sizeof(v->detail),
                 "in %.1f s it sent only %llu bytes of its handshake (last complete "
                 "message: %s): it stalled, or sends far too slowly",
                 seconds, hs->bytes_in,
                 hs->last_msg_in >= 0 ? message_name(hs->last_msg_in) : "none");
}

/* What a non-TLS peer's first line says it is.  Rows are tried in order;
 * `also` must appear in the first line when set. */
static const struct banner_row {
    const char *prefix;
    const char *also;
    const char *before;    /* text before the quoted first line */
    const char *after;     /* text after it */
} BANNERS[] = {
    { "HTTP/", NULL, "it answered with plain HTTP: '", "'" },
    { "SSH-", NULL, "it is an SSH server (its banner: '", "')" },
    { "220", "FTP", "it is an FTP server (its banner: '",
      "'); FTP over TLS starts in plain text with AUTH TLS (check it with starttls='ftp', "
      "--starttls ftp), or uses the implicit FTPS port 990" },
    { "220", NULL, "it is an SMTP server (its banner: '",
      "'); SMTP upgrades to TLS with STARTTLS (check it with starttls='smtp', --starttls smtp), "
      "or uses port 465 for implicit TLS" },
    { "* OK", NULL, "it is an IMAP server (its banner: '",
      "'); IMAP upgrades to TLS with STARTTLS (check it with starttls='imap', --starttls imap), "
      "or uses port 993 for implicit TLS" },
    { "+OK", NULL, "it is a POP3 server (its banner: '",
      "'); POP3 upgrades to TLS with STLS (check it with starttls='pop3', --starttls pop3), "
      "or uses port 995 for implicit TLS" },
    { "-ERR", NULL, "it answered with a text error line (as POP3 or Redis do): '", "'" },
    { "<?xml", "stream:stream", "it is an XMPP server (its greeting: '",
      "'); XMPP upgrades to TLS with STARTTLS (check it with starttls='xmpp', --starttls xmpp), "
      "or uses port 5223 for implicit TLS" },
    { "<", NULL, "it answered with plain HTTP: a page without a status line, "
      "as HTTP/0.9 replies look: '", "'" },
    { "RFB ", NULL, "it is a VNC server (its banner: '", "')" },
    { "AMQP", NULL, "it is an AMQP message broker (its greeting: '", "')" },
};

void tc_hs_verdict_not_tls(const tc_hs *hs, tc_verdict *v)
{
    char line[200];
    memset(v, 0, sizeof(*v));
    v->kind = TC_KIND_NOT_TLS;
    snprintf(v->reason, sizeof(v->reason), "not a TLS record");
    size_t n = hs->first_len;
    for (size_t i = 0; i < hs->first_len; i++)
        if (hs->first[i] == '\r' || hs->first[i] == '\n') {
            n = i;
            break;
        }
    tc_escape(line, sizeof(line), hs->first, n, SIZE_MAX);
    for (size_t i = 0; i < sizeof(BANNERS) / sizeof(BANNERS[0]); i++) {
        const struct banner_row *b = &BANNERS[i];
        size_t plen = strlen(b->prefix);
        if (n < plen || memcmp(hs->first, b->prefix, plen) != 0)
            continue;
        if (b->also != NULL && memmem(hs->first, n, b->also, strlen(b->also)) == NULL)
            continue;
        snprintf(v->detail, sizeof(v->detail), "%s%s%s", b->before, line, b->after);
        return;
    }
    tc_escape(line, sizeof(line), hs->first, hs->first_len, SIZE_MAX);
    snprintf(v->detail, sizeof(v->detail),
             "its first bytes are not a TLS record: '%s'", line);
}

/* ------------------------------------------------------------------ */
/* Report fields                                                       */
/* ------------------------------------------------------------------ */

static int set_str(char **dst, const char *s)
{
    free(*dst);
    *dst = s ? strdup(s) : NULL;
    return s == NULL || *dst != NULL;
}

/* Key-exchange group names as users meet them (openssl s_client's "Server
 * Temp Key: X25519", RFC 7748): OpenSSL 3.0's SSL_group_to_name() gives
 * the provider's lower-case spelling for these two.  Others (secp256r1,
 * ffdhe2048, ...) keep their TLS registry names. */
static const struct { const char *openssl, *shown; } GROUP_NAMES[] = {
    { "x25519", "X25519" },
    { "x448", "X448" },
};



static const char *group_display(const char *name)
{
    for (size_t i = 0; i < sizeof(GROUP_NAMES) / sizeof(GROUP_NAMES[0]); i++)
        if (strcmp(GROUP_NAMES[i].openssl, name) == 0)
            return GROUP_NAMES[i].shown;
    return name;
}

/* The probe's spelling of the NIST curves (RFC 8446's names, as the
 * issue's contract and `openssl -groups` write them). */
static const struct { const char *openssl, *shown; } NIST_NAMES[] = {
    { "secp256r1", "P-256" },
    { "prime256v1", "P-256" },
    { "secp384r1", "P-384" },
    { "secp521r1", "P-521" },
};

const char *tc_group_probe_name(const char *name)
{
    for (size_t i = 0; i < sizeof(NIST_NAMES) / sizeof(NIST_NAMES[0]); i++)
        if (strcmp(NIST_NAMES[i].openssl, name) == 0)
            return NIST_NAMES[i].shown;
    return group_display(name);
}

int tc_hs_group_name(SSL *ssl, char *out, size_t len)
{
    out[0] = '\0';
    int nid = SSL_get_negotiated_group(ssl);
    if (nid != NID_undef) {
        const char *name = SSL_group_to_name(ssl, nid);
        if (name == NULL && (nid & TLSEXT_nid_unknown) == 0)
            name = OBJ_nid2sn(nid);
        if (name != NULL)
            snprintf(out, len, "%s", group_display(name));
        else
            snprintf(out, len, "group 0x%04x", nid & 0xffff);
        return 1;
    }
    /* TLS 1.2 finite-field DHE: no named group, only the key. */
    EVP_PKEY *tmp = NULL;
    if (SSL_get_peer_tmp_key(ssl, &tmp) == 1 && tmp != NULL) {
        char gname[64];
        size_t glen = 0;
        if (EVP_PKEY_get_group_name(tmp, gname, sizeof(gname), &glen) == 1 && glen > 0)
            snprintf(out, len, "%s", gname);
        else
            snprintf(out, len, "%s %d bits", EVP_PKEY_get0_type_name(tmp), EVP_PKEY_get_bits(tmp));
        EVP_PKEY_free(tmp);
    }
    ERR_clear_error();
    return out[0] != '\0';
}

/* RFC 4514 text of a name, escaped as certificate names are (\xNN, the
 * same text as Certificate.subject), cut at 1024 bytes (never inside an
 * escape): a CertificateRequest may carry many long names. */
static char *name_text(const X509_NAME *name)
{
    char *s = tc_name_text(name);
    ERR_clear_error();
    if (s != NULL && strlen(s) > 1024) {
        size_t cut = 1024;
        /* Back off to the start of an escape the cut would split. */
        for (size_t k = 1; k <= 3 && k <= cut; k++)
            if (s[cut - k] == '\\') {
                cut -= k;
                break;
            }
        s[cut] = '\0';
    }
    return s;
}

#define MAX_CA_NAMES 256

/* 1 when name is the issuer of x or of a certificate of chain, or the
 * subject of one of chain's (a chain sent up to the listed CA). */
static int issued_under(const X509_NAME *name, X509 *x, STACK_OF(X509) *chain)
{
    if (X509_NAME_cmp(name, X509_get_issuer_name(x)) == 0)
        return 1;
    for (int i = 0; i < sk_X509_num(chain); i++) {
        X509 *c = sk_X509_value(chain, i);
        if (X509_NAME_cmp(name, X509_get_issuer_name(c)) == 0
            || X509_NAME_cmp(name, X509_get_subject_name(c)) == 0)
            return 1;
    }
    return 0;
}

tc_status tc_hs_client_auth_findings(const tc_hs *hs, tc_report *r,
                                     const tc_render_vars *base, int64_t now, tc_error *err)
{
    if (hs->ssl == NULL || !hs->complete || !hs->cert_request_seen)
        return TC_OK;
    for (size_t i = 0; i < r->n_problems; i++)
        if (r->problems[i].kind == TC_KIND_CLIENT_CERTIFICATE_REQUIRED
            || r->problems[i].kind == TC_KIND_HANDSHAKE_FAILURE)
            return TC_OK;      /* the server already said no */
    const STACK_OF(X509_NAME) *cas = SSL_get0_peer_CA_list(hs->ssl);
    int ncas = cas ? sk_X509_NAME_num(cas) : 0;
    char names[1200];
    tb b;
    tb_init(&b, names, sizeof(names));
    for (size_t i = 0; i < r->client_ca_names.count && i < 8; i++)
        tb_addf(&b, "%s%s", i ? "; " : "", r->client_ca_names.items[i]);
    if (r->client_ca_names.count > 8)
        tb_addf(&b, "; and %zu more", r->client_ca_names.count - 8);

    tc_render_vars v = *base;
    char detail[1300];
    if (!hs->client_cert_sent) {
        if (ncas > 0)
            snprintf(detail, sizeof(detail), " (it accepts certificates issued by: %s)", names);
        else
            snprintf(detail, sizeof(detail), " (it named no CA whose certificates it accepts)");
        v.detail = detail;
        return tc_report_add(r, TC_KIND_CLIENT_CERTIFICATE_REQUESTED, -1, 0, NULL, &v, err);
    }
    X509 *mine = SSL_get_certificate(hs->ssl);
    if (mine == NULL || ncas == 0)
        return TC_OK;
    STACK_OF(X509) *chain = NULL;
    if (!SSL_get0_chain_certs(hs->ssl, &chain))
        chain = NULL;
    for (int i = 0; i < ncas; i++)
        if (issued_under(sk_X509_NAME_value(cas, i), mine, chain))
            return TC_OK;
    tc_cert_vars cv;
    tc_cert_vars_fill_purpose(&cv, mine, 0, now, TC_PURPOSE_CLIENT, &v);
    v.target = base->target;
    v.sni = base->sni;
    v.hostname = base->hostname;
    snprintf(detail, sizeof(detail), ": %s", names);
    v.detail = detail;
    size_t before = r->n_problems;
    if (tc_report_add(r, TC_KIND_CLIENT_CERTIFICATE_NOT_ACCEPTED, -1, 0, NULL, &v, err) != TC_OK)
        return TC_FAIL;
    if (r->n_problems > before) {      /* the template opens with {cert} */
        char *m = r->problems[r->n_problems - 1].message;
        if (m && m[0] >= 'a' && m[0] <= 'z')
            m[0] = (char)(m[0] - 'a' + 'A');
    }
    return TC_OK;
}

tc_status tc_hs_fill_report(const tc_hs *hs, tc_report *r, tc_error *err)
{
    SSL *ssl = hs->ssl;
    r->client_cert_requested = hs->cert_request_seen;
    const STACK_OF(X509_NAME) *cas = hs->cert_request_seen ? SSL_get0_peer_CA_list(ssl) : NULL;
    int ncas = cas ? sk_X509_NAME_num(cas) : 0;
    if (ncas > MAX_CA_NAMES)
        ncas = MAX_CA_NAMES;
    if (ncas > 0 && r->client_ca_names.items == NULL) {
        r->client_ca_names.items = calloc((size_t)ncas, sizeof(char *));
        if (r->client_ca_names.items == NULL)
            goto nomem;
        for (int i = 0; i < ncas; i++) {
            char *s = name_text(sk_X509_NAME_value(cas, i));
            if (s == NULL)
                goto nomem;
            r->client_ca_names.items[r->client_ca_names.count++] = s;
        }
    }
    if (!hs->complete)
        return TC_OK;

    const SSL_CIPHER *cipher = SSL_get_current_cipher(ssl);
    char group[96];
    const unsigned char *alpn = NULL;
    unsigned int alpn_len = 0;
    const unsigned char *ocsp = NULL;
    long ocsp_len = SSL_get_tlsext_status_ocsp_resp(ssl, &ocsp);
    SSL_get0_alpn_selected(ssl, &alpn, &alpn_len);
    r->ocsp_stapled = ocsp != NULL && ocsp_len > 0;
    if (!set_str(&r->protocol, SSL_get_version(ssl)) ||
        !set_str(&r->cipher, cipher ? SSL_CIPHER_get_name(cipher) : NULL) ||
        !set_str(&r->group, tc_hs_group_name(ssl, group, sizeof(group)) ? group : NULL))
        goto nomem;
    if (alpn_len > 0) {
        char text[64];
        tc_escape(text, sizeof(text), alpn, alpn_len, SIZE_MAX);
        if (!set_str(&r->alpn, text))
            goto nomem;
    }
    return TC_OK;
nomem:
    return tc_error_set(err, TC_E_NOMEM, "out of memory recording the handshake");
}

/* ------------------------------------------------------------------ */
/* The diagnostic probe                                                */
/* ------------------------------------------------------------------ */

/* 1 when the main context offers cipher c, 0 when not, -1 unknown. */
/* Why clients refuse a suite, from what it is made of: the first row whose
 * encryption (cipher_nid) or authentication (auth_nid) matches.  NID_undef
 * as a suite's cipher means NULL encryption. */
static const struct {
    int cipher_nid, auth_nid;   /* 0: this column does not decide the row */
    const char *why;
} WEAK_SUITES[] = {
    { 0, NID_auth_null,
      "it is anonymous: the server proves nothing about who it is, so anyone on the "
      "path can stand in for it" },
    { NID_rc4, 0, "RC4 is broken and forbidden in TLS (RFC 7465)" },
    { NID_des_ede3_cbc, 0, "3DES has 64-bit blocks, open to the Sweet32 collision attack" },
    { NID_des_cbc, 0, "single DES has 56-bit keys, broken by brute force" },
};

static const char *weak_suite_reason(const SSL_CIPHER *c)
{
    int cipher = SSL_CIPHER_get_cipher_nid(c), auth = SSL_CIPHER_get_auth_nid(c);
    if (cipher == NID_undef)
        return "it is a NULL suite: NULL means no encryption at all, so everything sent "
               "(passwords and tokens included) would cross the network in clear text, "
               "only protected against tampering";
    for (size_t i = 0; i < sizeof(WEAK_SUITES) / sizeof(WEAK_SUITES[0]); i++)
        if ((WEAK_SUITES[i].cipher_nid != 0 && WEAK_SUITES[i].cipher_nid == cipher) ||
            (WEAK_SUITES[i].auth_nid != 0 && WEAK_SUITES[i].auth_nid == auth))
            return WEAK_SUITES[i].why;
    return "it is obsolete or below security level 2 (too small a key, or a weak MAC)";
}

const char *tc_suite_weakness(const SSL_CIPHER *c)
{
    int cipher = SSL_CIPHER_get_cipher_nid(c), auth = SSL_CIPHER_get_auth_nid(c);
    if (cipher == NID_undef)
        return weak_suite_reason(c);
    for (size_t i = 0; i < sizeof(WEAK_SUITES) / sizeof(WEAK_SUITES[0]); i++)
        if ((WEAK_SUITES[i].cipher_nid != 0 && WEAK_SUITES[i].cipher_nid == cipher) ||
            (WEAK_SUITES[i].auth_nid != 0 && WEAK_SUITES[i].auth_nid == auth))
            return WEAK_SUITES[i].why;
    return NULL;
}

static int main_offers(SSL_CTX *ctx, const SSL_CIPHER *c)
{
    int found = -1;
    SSL *tmp = SSL_new(ctx);
    STACK_OF(SSL_CIPHER) *sk = tmp ? SSL_get1_supported_ciphers(tmp) : NULL;
    if (sk != NULL) {
        found = 0;
        for (int i = 0; i < sk_SSL_CIPHER_num(sk); i++)
            if (SSL_CIPHER_get_id(sk_SSL_CIPHER_value(sk, i)) == SSL_CIPHER_get_id(c))
                found = 1;
    }
    sk_SSL_CIPHER_free(sk);
    SSL_free(tmp);
    ERR_clear_error();
    return found;
}

void tc_hs_probe_refine(const tc_hs *probe, int probe_refused, SSL_CTX *main_ctx,
                        tc_verdict *v)
{
    size_t used = strlen(v->detail);
    v->want_probe = 0;
    if (probe->ssl == NULL || !probe->server_hello_seen) {
        if (probe_refused && used < sizeof(v->detail))
            snprintf(v->detail + used, sizeof(v->detail) - used,
                     " (a diagnostic probe offering every TLS version and cipher suite "
                     "OpenSSL has was refused too)");
        return;
    }
    int version = SSL_version(probe->ssl);
    const char *vname = tc_tls_version_name(version);
    const SSL_CIPHER *c = SSL_get_current_cipher(probe->ssl);
    char suite[160] = "";
    if (vname == NULL)
        return;
    if (c != NULL) {
        const char *std = SSL_CIPHER_standard_name(c);
        snprintf(suite, sizeof(suite), "%s%s%s%s", SSL_CIPHER_get_name(c),
                 std ? " (" : "", std ? std : "", std ? ")" : "");
    }
    if (version < TLS1_2_VERSION) {
        v->kind = TC_KIND_PROTOCOL_MISMATCH;
        snprintf(v->detail, sizeof(v->detail),
                 "the server only speaks %s, which modern clients refuse (RFC 8996); "
                 "offered every version from TLS 1.0 to TLS 1.3, it chose %s",
                 vname, vname);
        return;
    }
    if (c != NULL && main_offers(main_ctx, c) == 0) {
        v->kind = TC_KIND_NO_SHARED_CIPHER;
        snprintf(v->detail, sizeof(v->detail),
                 "offered every cipher suite OpenSSL has, the server picked %s with %s; "
                 "this client, like every modern client at its default security level "
                 "(OpenSSL's level 2), refuses that suite, because %s",
                 suite, vname, weak_suite_reason(c));
        return;
    }
    if (used < sizeof(v->detail))
        snprintf(v->detail + used, sizeof(v->detail) - used,
                 " (a diagnostic probe offering every version and cipher suite negotiated "
                 "%s with %s, so neither is the cause)", vname, suite);
}
