/*
 * live_internal.h - private declarations of the live check (owner: live
 * helper).  Three files, one concern each:
 *   net.c        resolve (a getaddrinfo thread pool) and connect, without blocking;
 *                errno and getaddrinfo codes as data
 *   handshake.c  the TLS client over memory BIOs: bytes in, bytes out, no
 *                sockets, so a fuzz target can drive it from an in-memory
 *                peer; SSL reasons, alerts and peer banners as data
 *   starttls.c   the plaintext dialogue before TLS (STARTTLS and its kin):
 *                bytes in, bytes out, no sockets, one table of dialogues
 *   live.c       tc_client and the tc_check state machine that joins them
 *                under one monotonic deadline
 */
#ifndef TC_LIVE_INTERNAL_H
#define TC_LIVE_INTERNAL_H

#include <sys/socket.h>
#include "tlscheck.h"

/* How many of the peer's first bytes are kept to explain a non-TLS peer. */
#define TC_BANNER_MAX 128
/* At most this many addresses of one name are tried. */
#define TC_MAX_ADDRS 64

/* ------------------------------------------------------------------ */
/* net.c                                                               */
/* ------------------------------------------------------------------ */

typedef struct tc_addr {
    struct sockaddr_storage ss;
    socklen_t len;
} tc_addr;

/* 1 when host is an IPv4 or IPv6 literal (no brackets); *out then holds
 * it with port.  0 otherwise (a DNS name to resolve). */
int tc_addr_from_literal(const char *host, int port, tc_addr *out);
/* "127.0.0.1" or "::1" into buf (always NUL-terminated). */
void tc_addr_format(const tc_addr *a, char *buf, size_t len);

/* One asynchronous lookup, run by a process-wide pool of at most
 * TC_RESOLVER_THREADS threads (started on demand, gone after a second
 * idle) each calling blocking getaddrinfo.  Freeing a lookup never
 * blocks: a queued one is dropped, a running one is detached and freed
 * by its worker when getaddrinfo returns. */
typedef struct tc_resolver tc_resolver;
#define TC_RESOLVER_THREADS 64

struct addrinfo;
/* The blocking resolver the pool's workers call: getaddrinfo.  Tests
 * only may point it elsewhere (before any lookup, restored after). */
extern int (*tc_resolve_blocking)(const char *host, const char *service,
                                  const struct addrinfo *hints, struct addrinfo **res);

TC_MUST_USE tc_status tc_resolve_start(const char *host, tc_resolver **out,
                                       tc_error *err);
/* 0 while in flight; 1 when finished: *gai_code is 0 on success, else an
 * EAI_* code (with *sys_errno for EAI_SYSTEM). */
int tc_resolve_poll(tc_resolver *r, int *gai_code, int *sys_errno);
/* Copies the answers (deduplicated, resolver order, v4 and v6) with
 * port set, at most max.  Valid after tc_resolve_poll returned 1 with 0. */
size_t tc_resolve_addrs(tc_resolver *r, int port, tc_addr *out, size_t max);
void tc_resolve_free(tc_resolver *r);

/* Opens a non-blocking, close-on-exec TCP socket and starts connecting.
 * Returns 0 when connected at once, 1 when in progress (wait for
 * POLLOUT), -1 when the attempt failed (*sys_errno says why; *fd is -1).
 * TC_FAIL (through err) only when no socket could be created at all
 * (EMFILE...): a local problem, not the endpoint's. */
TC_MUST_USE tc_status tc_connect_start(const tc_addr *a, int *fd, int *result,
                                       int *sys_errno, tc_error *err);
/* After POLLOUT: 0 connected, -1 failed with *sys_errno (SO_ERROR). */
int tc_connect_finish(int fd, int *sys_errno);
/* 1 when fd is ready for events now (poll with a zero timeout). */
int tc_fd_ready(int fd, short events);

/* errno -> kind, as data. */
typedef struct tc_errno_class {
    int err;
    tc_kind kind;
    const char *name;      /* "ECONNREFUSED" */
    const char *what;      /* "the connection was refused" */
} tc_errno_class;
/* Never NULL: unknown values get a generic row (kind connection_timeout,
 * name NULL: use strerror). */
const tc_errno_class *tc_errno_classify(int e);

/* getaddrinfo code -> stable name ("EAI_NONAME") and plain words. */
typedef struct tc_gai_class {
    int code;
    const char *name;
    const char *what;
} tc_gai_class;
const tc_gai_class *tc_gai_classify(int code);

/* ------------------------------------------------------------------ */
/* handshake.c                                                         */
/* ------------------------------------------------------------------ */

/* The result of a failed attempt, before it becomes a problem. */
typedef struct tc_verdict {
    tc_kind kind;
    char reason[160];       /* SSL reason / alert name / errno name, or "" */
    char detail[768];       /* the {detail} sentence fragment */
    int want_probe;         /* a diagnostic probe may say more (version/cipher) */
    const char *cert;       /* static {cert} words (malformed_certificate), or NULL */
} tc_verdict;

/* Client-side TLS over memory BIOs.  Plain struct so the check embeds it. */
typedef struct tc_hs {
    SSL *ssl;                      /* owned; owns its BIOs */
    BIO *rbio, *wbio;              /* borrowed from ssl */
    unsigned char first[TC_BANNER_MAX];  /* the peer's first bytes */
    size_t first_len;
    unsigned long long bytes_in;
    int server_hello_seen;
    int cert_request_seen;         /* the server asked for a client certificate */
    int client_cert_sent;          /* and we answered with a non-empty one */
    int ticket_seen;               /* NewSessionTicket after the handshake */
    int hrr_seen;                  /* a HelloRetryRequest came (TLS 1.3) */
    int real_server_hello;         /* a ServerHello that is no HelloRetryRequest */
    int last_msg_in;               /* last handshake message type received, -1 */
    int complete;                  /* SSL_do_handshake returned 1 */
} tc_hs;

typedef enum tc_hs_result {
    TC_HS_WANT = 0,    /* needs more bytes from the peer */
    TC_HS_DONE,        /* finished (handshake complete / post phase decided) */
    TC_HS_FAILED       /* verdict filled */
} tc_hs_result;

/* The main context: TLS 1.2..1.3, security level 2, ALPN h2 + http/1.1,
 * OCSP status request, no certificate verification inside OpenSSL (ours
 * runs after the handshake on the served chain). */
TC_MUST_USE tc_status tc_hs_ctx_new(SSL_CTX **out, tc_error *err);
/* The diagnostic probe's context: every version OpenSSL has and every
 * cipher suite at security level 0.  Never used to judge a certificate. */
TC_MUST_USE tc_status tc_hs_probe_ctx_new(SSL_CTX **out, tc_error *err);
/* Loads a client certificate (PEM, leaf then chain) and key (PEM; NULL:
 * taken from the certificate PEM) into ctx.  TC_E_INVALID with a sentence
 * when they do not parse, the key is encrypted, or they do not match. */
TC_MUST_USE tc_status tc_hs_ctx_use_client_cert(SSL_CTX *ctx,
                                                const char *cert_pem, size_t cert_len,
                                                const char *key_pem, size_t key_len,
                                                tc_error *err);

/* sni: a DNS name or NULL (no SNI). */
TC_MUST_USE tc_status tc_hs_init(tc_hs *hs, SSL_CTX *ctx, const char *sni,
                                 tc_error *err);
void tc_hs_clear(tc_hs *hs);
/* Offers no ALPN protocol (the context offers h2 and http/1.1): after
 * STARTTLS the protocol is the service's own, and servers such as Exim
 * answer HTTP's names with the alert no_application_protocol. */
TC_MUST_USE tc_status tc_hs_no_alpn(tc_hs *hs, tc_error *err);
/* Remembers the first bytes only (the banner), without TLS. */
void tc_hs_keep(tc_hs *hs, const unsigned char *p, size_t n);
/* Hands bytes from the peer to TLS (and keeps the first ones). */
TC_MUST_USE tc_status tc_hs_feed(tc_hs *hs, const unsigned char *p, size_t n,
                                 tc_error *err);
/* 1 when the peer's first bytes cannot start a TLS record. */
int tc_hs_not_tls(const tc_hs *hs);
/* 1 when the banner holds a full first line or is full. */
int tc_hs_banner_complete(const tc_hs *hs);
/* Runs the handshake as far as the bytes fed allow. */
tc_hs_result tc_hs_advance(tc_hs *hs, tc_verdict *v);
/* After the handshake (TLS 1.3 client authentication): reads what the
 * server sends next.  DONE when it accepted us (ticket, data, close),
 * FAILED with a verdict when it sent an alert. */
tc_hs_result tc_hs_post(tc_hs *hs, tc_verdict *v);
/* Bytes TLS wants sent: borrowed pointer valid until the next call. */
size_t tc_hs_out_peek(tc_hs *hs, const unsigned char **p);
void tc_hs_out_consume(tc_hs *hs, size_t n);

/* Verdicts decided by the transport, worded from the handshake's stage. */
void tc_hs_verdict_closed(const tc_hs *hs, int sys_errno, tc_verdict *v);
void tc_hs_verdict_timeout(const tc_hs *hs, double seconds, tc_verdict *v);
void tc_hs_verdict_not_tls(const tc_hs *hs, tc_verdict *v);

/* After the diagnostic probe (probe_refused: it failed with a version or
 * cipher verdict of its own): says which version / cipher suite the
 * server really speaks, and reclassifies v when that explains it. */
void tc_hs_probe_refine(const tc_hs *probe, int probe_refused, SSL_CTX *main_ctx,
                        tc_verdict *v);
/* "TLS 1.0" for TLS1_VERSION, NULL when unknown. */
const char *tc_tls_version_name(int version);
/* Fills report fields from a completed handshake (protocol, cipher,
 * group, alpn, ocsp, client CA names).  TC_FAIL on allocation failure. */
/* After a completed handshake that the server asked to authenticate the
 * client: client_certificate_requested when none was sent, and
 * client_certificate_not_accepted when the one sent is issued by none of
 * the CAs the server listed.  base holds target/sni/hostname. */
TC_MUST_USE tc_status tc_hs_client_auth_findings(const tc_hs *hs, tc_report *r,
                                                 const tc_render_vars *base, int64_t now,
                                                 tc_error *err);
TC_MUST_USE tc_status tc_hs_fill_report(const tc_hs *hs, tc_report *r,
                                        tc_error *err);

/* NULL when suite c is none of the weak ones (NULL encryption, anonymous,
 * RC4, DES, 3DES), else why it is weak, in words. */
const char *tc_suite_weakness(const SSL_CIPHER *c);
/* "P-256" for secp256r1, "X25519" for x25519; others as given. */
const char *tc_group_probe_name(const char *name);
/* The negotiated key-exchange group as report.group writes it ("X25519",
 * "secp256r1", "ffdhe2048", "DH 1024 bits"); 0 when none. */
int tc_hs_group_name(SSL *ssl, char *out, size_t len);

/* ------------------------------------------------------------------ */
/* survey.c: the probe's plan of connections                           */
/* ------------------------------------------------------------------ */

/* Which connection to open next and what it offers; what each one
 * learned.  No sockets: live.c opens the connections (states
 * ST_SURVEY_CONNECT / ST_SURVEY), this file decides them. */
typedef struct tc_survey {
    int phase;                     /* the plan's row in progress */
    int in_phase;                  /* connections made in this row */
    int tls13;                     /* TLS 1.3 accepted (groups are probed with it) */
    tc_probe *probe;               /* borrowed: the report's */
    char weak[400], nofs[400];     /* examples found for the kinds */
    int planned;                   /* connections this survey may still open */
    SSL_SESSION *session;          /* owned: the session of the full handshake, to offer again */
    double handshake_ms;           /* set by live.c before tc_survey_record: the last
                                      connection's handshake time, -1 when it did not finish */
} tc_survey;

void tc_survey_init(tc_survey *s, tc_probe *probe);
void tc_survey_clear(tc_survey *s);     /* frees the kept session */
/* What the connection just configured needs from live.c: 0 stop at the
 * ServerHello flight; 1 finish the handshake, then close with
 * close_notify; 2 the same, reading the server's NewSessionTicket first
 * (TLS 1.3 sends it after the handshake). */
int tc_survey_full(const tc_survey *s);
/* Non-NULL when the connection just configured sends these early bytes
 * (0-RTT) with its ClientHello: an idempotent request. */
const char *tc_survey_early_bytes(const tc_survey *s);
/* 1 and configures ssl (fresh from the probe context) for the next
 * connection; 0 when the survey is over. */
TC_MUST_USE int tc_survey_next(tc_survey *s, SSL *ssl);
/* 1 when hs has learned what its connection was for (ServerHello with
 * the version, the suite and, in TLS 1.2, the key exchange). */
int tc_survey_learned(const tc_hs *hs);
/* Records a connection's outcome: accepted 1 (tc_survey_learned), 0
 * refused (alert, close, timeout). */
void tc_survey_record(tc_survey *s, const tc_hs *hs, int accepted);
/* Adds the probe's warnings to the report (legacy_protocol, weak_cipher,
 * no_forward_secrecy, weak_dh). */
TC_MUST_USE tc_status tc_survey_findings(const tc_survey *s, tc_report *r,
                                         const tc_render_vars *base, tc_error *err);
/* ------------------------------------------------------------------ */
/* starttls.c                                                          */
/* ------------------------------------------------------------------ */

/* What the server may send before TLS, at most: the reply being read is
 * held in TC_STLS_BUF bytes; a text line is at most STLS_LINE_MAX bytes
 * (RFC 5321 allows 512); one reply, however many lines, at most
 * STLS_REPLY_MAX bytes.  Past that it is not the protocol. */
#define TC_STLS_BUF 16384
#define STLS_LINE_MAX 4096
#define STLS_REPLY_MAX (64 * 1024)
/* The capabilities quoted from a reply, each cut at this many bytes. */
#define STLS_OFFER_ITEM 60

typedef enum tc_stls_result {
    TC_STLS_WANT = 0,  /* needs more bytes from the peer (and maybe to send some) */
    TC_STLS_DONE,      /* the server agreed: send what is queued, then start TLS */
    TC_STLS_FAILED     /* verdict filled: a starttls_* kind */
} tc_stls_result;

typedef struct tc_stls {
    tc_starttls proto;
    int stage;                 /* the step of the dialogue in progress */
    unsigned char *buf;        /* TC_STLS_BUF bytes, owned: the reply being read */
    size_t len;
    size_t reply_bytes;        /* bytes of the current reply so far */
    int reply_lines;
    unsigned long long bytes_in;
    unsigned char out[512];    /* the command to send */
    size_t out_len, out_off;
    char domain[256];          /* the server's name (XMPP's to=) */
    char code[3];              /* the reply code of a multi-line reply */
    int need_seen;             /* the capability the step needs was listed */
    int first_good;            /* a multi-line reply's first line was the good one */
    const char *need_missing;  /* a capability an optional step did not list */
    char line0[4 * 200 + 8];   /* the reply's first line, escaped */
    char offered[400];         /* capabilities listed, escaped, ", "-separated */
    int done, failed;
} tc_stls;

/* Starts the dialogue: the first command (if the client speaks first) is
 * queued.  domain: the name verified (the server's). */
TC_MUST_USE tc_status tc_stls_init(tc_stls *s, tc_starttls proto, const char *domain,
                                   tc_error *err);
void tc_stls_clear(tc_stls *s);
/* Bytes from the peer: *used of them were taken (the rest, after DONE, is
 * TLS; so are the tc_stls_leftover bytes). */
tc_stls_result tc_stls_feed(tc_stls *s, const unsigned char *p, size_t n, size_t *used,
                            tc_verdict *v);
int tc_stls_done(const tc_stls *s);
/* Bytes to send: borrowed pointer valid until the next call. */
size_t tc_stls_out_peek(const tc_stls *s, const unsigned char **p);
void tc_stls_out_consume(tc_stls *s, size_t n);
/* After DONE: bytes the server sent after its last plaintext reply. */
size_t tc_stls_leftover(const tc_stls *s, const unsigned char **p);
/* Verdicts decided by the transport during the dialogue. */
void tc_stls_verdict_closed(const tc_stls *s, int sys_errno, tc_verdict *v);
void tc_stls_verdict_timeout(const tc_stls *s, double seconds, tc_verdict *v);

#endif
