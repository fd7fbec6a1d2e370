/*
 * fetch.h - a small HTTP/1.1 GET client for URLs taken from certificates
 * (AIA caIssuers), bytes in and bytes out like handshake.c: no sockets.
 *
 * A URL found in a certificate is chosen by whoever made the certificate,
 * so it is fetched only under one rule (docs/security.md):
 *   tc_fetch_url_parse   http only, no userinfo, a host, any port
 *   tc_fetch_addr_allowed  the address to fetch from is of the same class as
 *                        the target's (loopback, private or public); never
 *                        link-local, unspecified, multicast or reserved;
 *                        IPv4-mapped IPv6 judged as IPv4
 * Both apply to every resolved address and to every redirect.
 */
#ifndef TC_FETCH_H
#define TC_FETCH_H

#include <stddef.h>
#include <sys/socket.h>

/* The largest body kept, and the most redirects followed. */
#define TC_FETCH_MAX_BODY (64 * 1024)
#define TC_FETCH_MAX_HEAD (8 * 1024)
#define TC_FETCH_MAX_REDIRECTS 2
#define TC_FETCH_URL_MAX 1024

typedef struct tc_fetch_url {
    char host[256];     /* a name or an IP literal, without brackets */
    int port;           /* 80 unless the URL says */
    char path[TC_FETCH_URL_MAX];  /* "/..." with the query, never the fragment */
} tc_fetch_url;

/* Parses an absolute URL (or, with base non-NULL, a redirect's Location
 * relative to base).  Returns 1, or 0 with *why set to words. */
int tc_fetch_url_parse(const char *url, size_t len, const tc_fetch_url *base,
                       tc_fetch_url *out, const char **why);

typedef enum tc_addr_class {
    TC_ADDR_PUBLIC = 0,
    TC_ADDR_LOOPBACK,
    TC_ADDR_PRIVATE,       /* RFC 1918, ULA fc00::/7 */
    TC_ADDR_LINK_LOCAL,    /* 169.254/16, fe80::/10 */
    TC_ADDR_UNSPECIFIED,   /* 0.0.0.0/8, :: */
    TC_ADDR_MULTICAST,     /* 224/4, ff00::/8 */
    TC_ADDR_RESERVED       /* documentation, benchmarking, CGNAT, 240/4, ... */
} tc_addr_class;

tc_addr_class tc_addr_classify(const struct sockaddr *sa);
const char *tc_addr_class_name(tc_addr_class c);
/* 1 when a fetch from `to` is allowed for a check whose target is at
 * `target`; 0 with *why ("the URL points into a private network"). */
int tc_fetch_addr_allowed(const struct sockaddr *target, const struct sockaddr *to,
                          const char **why);

/* The GET request for u into buf (NUL-terminated); its length, or 0 when
 * it does not fit. */
size_t tc_fetch_request(const tc_fetch_url *u, char *buf, size_t cap);

typedef enum { TC_HTTP_WANT, TC_HTTP_DONE, TC_HTTP_FAILED } tc_http_result;

typedef struct tc_http_resp {
    int status;
    char location[TC_FETCH_URL_MAX];   /* raw bytes of Location, or "" */
    size_t location_len;
    unsigned char *body;     /* decoded body, owned by the caller (cap bytes) */
    size_t body_len, body_cap;
    const char *why;         /* when FAILED: words */
} tc_http_resp;

/* Parses the response so far, buf[0..len); eof says the peer closed.
 * Stateless: call again with more bytes.  WANT means feed more (or, at
 * eof, never returned: a close-delimited body is then DONE, anything
 * else FAILED). */
tc_http_result tc_http_parse(const unsigned char *buf, size_t len, int eof, tc_http_resp *r);



/* ------------------------------------------------------------------ */
/* What a caIssuers URL serves                                         */
/* ------------------------------------------------------------------ */
#include <openssl/x509.h>
#include "tlscheck.h"

/* The certificates in a fetched body: one DER certificate, PKCS#7
 * certs-only (DER or PEM), or PEM certificates.  Returns 1 with *out a new
 * stack (sk_X509_pop_free), or 0 with *why in words. */
int tc_aia_certs(const unsigned char *body, size_t len, STACK_OF(X509) **out, const char **why);

/* Whether chain (as served) with extra added as untrusted intermediates
 * verifies to an anchor of trust under params: 1 yes, 0 no, -1 when it
 * could not be judged (err set).  A fresh report: the check's is not
 * touched. */
int tc_aia_completes(const tc_trust *trust, STACK_OF(X509) *chain, STACK_OF(X509) *extra,
                     const tc_verify_params *params, tc_error *err);
#endif
