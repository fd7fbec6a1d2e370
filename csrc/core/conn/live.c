/*
 * live.c - tc_client (a shared TLS client configuration) and tc_check
 * (one live check as a non-blocking state machine).
 *
 *   RESOLVE ──> CONNECT ──> [STARTTLS] ──> HANDSHAKE ──> POST ──> DONE
 *      │           │  ▲          │              │ │ └──> BANNER ──┘ (not TLS)
 *      │           └──┘          └──────────────┤ └──> PROBE_CONNECT ──> [STARTTLS] ──> PROBE ──┘
 *      │      next address                      │      (diagnostic: which version or
 *      └────────────────────────────────────────┴──>   cipher does the server speak?)
 *
 * STARTTLS (when the check names a protocol) is the plaintext dialogue of
 * starttls.c, on the main connection and again on the probe's, under the
 * same deadline; its verdicts are the starttls_* kinds.
 *
 * With the probe (tc_check_params.probe), a check that connected goes on,
 * before DONE, to SURVEY_CONNECT <-> SURVEY: one connection at a time,
 * each planned by survey.c (versions, suites, groups, resumption, 0-RTT)
 * and closed before the next opens, within the same deadline.
 *
 * Every state is resumable: tc_check_step does what it can without
 * blocking and says what it waits for (a readable or writable fd, or a
 * timer while glibc resolves).  One monotonic deadline, fixed when the
 * check is created, bounds DNS, connect, handshake, the post-handshake
 * read and the probe; tc_check_deadline_ns tells a driver when it must
 * call again even if nothing happens (the next internal deadline, never
 * later than the check's own).
 */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <netdb.h>
#include <poll.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/socket.h>
#include <openssl/err.h>
#include "live_internal.h"
#include "text.h"

#define NS_PER_S 1000000000LL
#define NS_PER_MS 1000000LL
/* How long to wait for the server's verdict on our client certificate
 * after a TLS 1.3 handshake (it comes one round trip after our Finished),
 * on top of a few measured round trips. */
#define POST_WINDOW_NS (250 * NS_PER_MS)
/* How long a non-TLS peer gets to finish its first line. */
#define BANNER_GRACE_NS (200 * NS_PER_MS)
/* DNS polling backoff, from first poll to steady state. */
#define DNS_BACKOFF_MIN_NS (50 * 1000LL)
#define DNS_BACKOFF_MAX_NS (10 * NS_PER_MS)
/* Bytes read from the socket per round before TLS gets to consume them,
 * and rounds per call of tc_check_step: a peer that floods cannot keep
 * the thread (and the other checks it drives) past the deadline. */
#define READ_BUDGET (64 * 1024)
#define ROUNDS_PER_STEP 8
/* The probe is skipped when less than this remains. */
#define PROBE_MIN_NS (20 * NS_PER_MS)

int64_t tc_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * NS_PER_S + ts.tv_nsec;
}

static double ms(int64_t ns)
{
    return (double)ns / (double)NS_PER_MS;
}

/* ------------------------------------------------------------------ */
/* tc_client                                                           */
/* ------------------------------------------------------------------ */

struct tc_client {
    atomic_int refs;
    SSL_CTX *ctx;          /* what a modern client offers */
    SSL_CTX *probe_ctx;    /* diagnostic probe: everything, never judged */
    tc_trust *trust;       /* one reference */
};

tc_status tc_client_new(const tc_client_params *p, tc_client **out, tc_error *err)
{
    *out = NULL;
    tc_client *c = calloc(1, sizeof(*c));
    if (c == NULL)
        return tc_error_set(err, TC_E_NOMEM, "out of memory creating a TLS client");
    atomic_init(&c->refs, 1);
    if (tc_hs_ctx_new(&c->ctx, err) != TC_OK || tc_hs_probe_ctx_new(&c->probe_ctx, err) != TC_OK)
        goto fail;
    if (p != NULL && (p->client_cert_pem != NULL || p->client_key_pem != NULL)) {
        if (p->client_cert_pem == NULL) {
            tc_error_set(err, TC_E_INVALID,
                         "A client key was given without a client certificate: pass the "
                         "certificate too (client_cert=...).");
            goto fail;
        }
        /* The probe never authenticates: it only learns versions. */
        if (tc_hs_ctx_use_client_cert(c->ctx, p->client_cert_pem, p->client_cert_len,
                                      p->client_key_pem, p->client_key_len, err) != TC_OK)
            goto fail;
    }
    if (p != NULL && p->trust != NULL)
        c->trust = tc_trust_ref(p->trust);
    else if (tc_trust_new_system(&c->trust, err) != TC_OK)
        goto fail;
    *out = c;
    return TC_OK;
fail:
    tc_client_free(c);
    return TC_FAIL;
}

tc_client *tc_client_ref(tc_client *c)
{
    if (c != NULL)
        atomic_fetch_add(&c->refs, 1);
    return c;
}

void tc_client_free(tc_client *c)
{
    if (c == NULL || atomic_fetch_sub(&c->refs, 1) != 1)
        return;
    SSL_CTX_free(c->ctx);
    SSL_CTX_free(c->probe_ctx);
    tc_trust_free(c->trust);
    free(c);
}

/* ------------------------------------------------------------------ */
/* tc_check                                                            */
/* ------------------------------------------------------------------ */

typedef enum state {
    ST_RESOLVE, ST_CONNECT, ST_STARTTLS, ST_HANDSHAKE, ST_BANNER, ST_POST,
    ST_PROBE_CONNECT, ST_PROBE, ST_SURVEY_CONNECT, ST_SURVEY, ST_DONE
} state;

struct tc_check {
    tc_client *client;         /* one reference */
    tc_report *report;         /* owned until taken */
    tc_error err;              /* why the check itself failed */
    int failed;
    state st;

    char *host;                /* where to connect (no brackets) */
    char *verify_name;         /* normalised name to verify */
    const char *sni;           /* verify_name, or NULL for an IP literal */
    char *sni_arg;             /* "-servername NAME" or "" */
    int port;
    double timeout;
    tc_verify_params verify;   /* hostname -> verify_name */

    int64_t t_start, deadline, wake;

    tc_resolver *res;
    int64_t dns_backoff;

    tc_addr *addrs;
    size_t n_addrs, next_addr;
    size_t cur;                /* address of the attempt in flight */
    int answered;              /* index of the address that answered, -1 */
    int fd;
    unsigned long fd_serial;   /* sockets opened so far (tc_check_fd_serial) */
    int64_t t_attempt, attempt_deadline;
    tc_kind conn_kind;         /* what the failed attempts amount to */
    char attempts[480];        /* "127.0.0.1: the connection was refused (ECONNREFUSED); ..." */
    size_t n_failed;           /* attempts that failed */
    size_t n_listed;           /* of which named in attempts */
    char conn_reason[48];      /* errno name of the decisive attempt */

    tc_starttls starttls;      /* the preamble's protocol, or TC_STARTTLS_NONE */
    tc_stls stls;              /* its dialogue, while ST_STARTTLS */
    tc_verdict stls_verdict;   /* what it concluded when it failed */
    int stls_failed;

    tc_hs hs;
    int hs_is_probe;
    int captured;              /* main handshake copied into the report */
    int64_t t_hs_start, sub_deadline;
    int peer_eof, io_errno;
    /* Within one tc_check_step call: the last recv was short, so the
     * socket holds nothing more now (another recv would only say EAGAIN;
     * epoll and poll are level-triggered, so what comes later wakes us). */
    int rx_drained;
    int writable_hint;         /* tc_check_step_ready: the socket polled writable */
    tc_verdict verdict;        /* held while the probe runs */

    /* The probe (check_params.probe): a survey of the endpoint after the
     * check, one connection at a time (survey.c plans them). */
    int want_survey, survey_started;
    int survey_sub;            /* step_survey_full: 0 handshake, 1 ticket, 2 close */
    int survey_early_sent;     /* this connection's early bytes are queued */
    tc_survey survey;
};

#define AGAIN (-1)

static void close_fd(tc_check *c)
{
    if (c->fd >= 0)
        close(c->fd);
    c->fd = -1;
}

static void release(tc_check *c)
{
    close_fd(c);
    tc_hs_clear(&c->hs);
    tc_survey_clear(&c->survey);
    tc_stls_clear(&c->stls);
    tc_resolve_free(c->res);
    c->res = NULL;
}

static void fail_hard(tc_check *c)
{
    c->failed = 1;
    release(c);
    c->st = ST_DONE;
}


/* Copies what the main handshake learned into the report and verifies
 * the served chain, once, whether the handshake finished or not (a chain
 * received before a failure is still worth judging). */
static tc_status capture_main(tc_check *c)
{
    if (c->captured || c->hs_is_probe || c->hs.ssl == NULL)
        return TC_OK;
    c->captured = 1;
    if (tc_hs_fill_report(&c->hs, c->report, &c->err) != TC_OK)
        return TC_FAIL;
    STACK_OF(X509) *chain = SSL_get_peer_cert_chain(c->hs.ssl);   /* borrowed, leaf first */
    if (chain == NULL || sk_X509_num(chain) == 0) {
        if (!c->hs.complete)
            return TC_OK;
        tc_verdict v = { .kind = TC_KIND_HANDSHAKE_FAILURE };
        snprintf(v.detail, sizeof(v.detail), "the server completed the handshake without sending a certificate");
        tc_render_vars vars = { .target = c->report->target, .sni = c->sni_arg,
                                .hostname = c->host, .detail = v.detail };
        return tc_report_add(c->report, v.kind, -1, 0, NULL, &vars, &c->err);
    }
    if (tc_verify(c->report, c->client->trust, chain, &c->verify, &c->err) != TC_OK)
        return TC_FAIL;
    const unsigned char *staple = NULL;
    long staple_len = c->hs.complete ? SSL_get_tlsext_status_ocsp_resp(c->hs.ssl, &staple) : -1;
    if (staple != NULL && staple_len > 0) {
        tc_render_vars vars = { .target = c->report->target, .sni = c->sni_arg };
        if (tc_ocsp_judge(c->report, staple, (size_t)staple_len, c->report->evaluated_at,
                          &vars, &c->err) != TC_OK)
            return TC_FAIL;
    }
    /* The report holds the chain as served, even if verification did not
     * copy it. */
    if (sk_X509_num(c->report->chain) == 0)
        for (int i = 0; i < sk_X509_num(chain); i++) {
            X509 *x = sk_X509_value(chain, i);
            if (!X509_up_ref(x))
                return tc_error_set(&c->err, TC_E_INTERNAL, "could not keep the served chain");
            if (sk_X509_push(c->report->chain, x) <= 0) {
                X509_free(x);
                return tc_error_set(&c->err, TC_E_NOMEM, "out of memory keeping the served chain");
            }
        }
    return TC_OK;
}

static int start_survey(tc_check *c, int64_t now);

static void finalize(tc_check *c, int64_t now)
{
    if (c->survey_started)
        goto done;         /* back from the survey: the check was judged before it */
    if (capture_main(c) != TC_OK) {
        fail_hard(c);
        return;
    }
    if (!c->hs_is_probe) {
        tc_render_vars base = { .target = c->report->target, .sni = c->sni_arg,
                                .hostname = c->host };
        if (tc_hs_client_auth_findings(&c->hs, c->report, &base,
                                        c->report->evaluated_at ? c->report->evaluated_at
                                        : (int64_t)time(NULL), &c->err)
            != TC_OK) {
            fail_hard(c);
            return;
        }
    }
    if (c->want_survey && start_survey(c, now))
        return;
done:
    release(c);
    c->report->timings.total_ms = ms(tc_now_ns() - c->t_start);
    if (c->report->hostname == NULL && (c->report->hostname = strdup(c->verify_name)) == NULL) {
        tc_error_set(&c->err, TC_E_NOMEM, "out of memory finishing a report");
        fail_hard(c);
        return;
    }
    tc_report_sort(c->report);
    c->st = ST_DONE;
}

static void add_verdict(tc_check *c, const tc_verdict *v, int64_t now)
{
    tc_render_vars vars = {
        .target = c->report->target, .sni = c->sni_arg, .hostname = c->host,
        .detail = v->detail, .cert = v->cert,
    };
    if (capture_main(c) != TC_OK) {
        fail_hard(c);
        return;
    }
    if (v->kind == TC_KIND_NOT_TLS && c->report->peer_banner == NULL) {
        char banner[4 * TC_BANNER_MAX + 4];
        tc_escape(banner, sizeof(banner), c->hs.first, c->hs.first_len, SIZE_MAX);
        if ((c->report->peer_banner = strdup(banner)) == NULL) {
            tc_error_set(&c->err, TC_E_NOMEM, "out of memory recording the peer's banner");
            fail_hard(c);
            return;
        }
    }
    if (tc_report_add(c->report, v->kind, -1, 0, v->reason[0] ? v->reason : NULL, &vars,
                      &c->err) != TC_OK) {
        fail_hard(c);
        return;
    }
    finalize(c, now);
}

/* A verdict on the main connection: either final, or held while a
 * diagnostic probe learns which version or cipher the server speaks. */
static void conclude(tc_check *c, const tc_verdict *v, int64_t now)
{
    if (v->want_probe && !c->hs_is_probe && c->answered >= 0 &&
        c->deadline - now > PROBE_MIN_NS) {
        if (capture_main(c) != TC_OK) {
            fail_hard(c);
            return;
        }
        c->verdict = *v;
        close_fd(c);
        tc_hs_clear(&c->hs);
        c->st = ST_PROBE_CONNECT;
        return;
    }
    add_verdict(c, v, now);
}

static void probe_done(tc_check *c, int refused, int64_t now)
{
    tc_hs_probe_refine(&c->hs, refused, c->client->ctx, &c->verdict);
    add_verdict(c, &c->verdict, now);
}

/* ---- connecting ---------------------------------------------------- */

/* Room kept at the end of c->attempts for "; and N more addresses ...". */
#define ATTEMPTS_TAIL 64

/* Lists one failed attempt in c->attempts while it fits.  Once one does
 * not, no later one is listed either (the list stays in order); they are
 * counted, and connect_failed says how many more were tried. */
static void record_attempt(tc_check *c, size_t idx, int sys_errno, double waited_s)
{
    char addr[64], entry[200];
    const tc_errno_class *ec = tc_errno_classify(sys_errno);
    size_t used = strlen(c->attempts);
    tc_addr_format(&c->addrs[idx], addr, sizeof(addr));
    if (ec->kind != TC_KIND_CONNECTION_TIMEOUT || c->n_failed == 0) {
        c->conn_kind = ec->kind;   /* an answer (refusal, reset) beats silence */
        snprintf(c->conn_reason, sizeof(c->conn_reason), "%s",
                 waited_s >= 0 ? "timeout" : ec->name ? ec->name : strerror(sys_errno));
    }
    c->n_failed++;
    if (waited_s >= 0)
        snprintf(entry, sizeof(entry), "%s%s: no answer to the TCP connection attempt within %.1f s",
                 used ? "; " : "", addr, waited_s);
    else
        snprintf(entry, sizeof(entry), "%s%s: %s, %s",
                 used ? "; " : "", addr, ec->what, ec->name ? ec->name : strerror(sys_errno));
    size_t n = strlen(entry);
    if (c->n_listed + 1 != c->n_failed || used + n + ATTEMPTS_TAIL >= sizeof(c->attempts))
        return;
    memcpy(c->attempts + used, entry, n + 1);
    c->n_listed++;
}

static void connect_failed(tc_check *c, int64_t now)
{
    char more[ATTEMPTS_TAIL] = "";
    size_t unlisted = c->n_failed - c->n_listed;
    tc_verdict v = { .kind = c->conn_kind };
    snprintf(v.reason, sizeof(v.reason), "%s", c->conn_reason[0] ? c->conn_reason : "timeout");
    if (unlisted > 0)
        snprintf(more, sizeof(more), "; and %zu more address%s, which failed too",
                 unlisted, unlisted == 1 ? "" : "es");
    if (c->next_addr < c->n_addrs)
        snprintf(v.detail, sizeof(v.detail), "%s%s (%zu more address%s not tried before the deadline)",
                 c->attempts, more, c->n_addrs - c->next_addr,
                 c->n_addrs - c->next_addr == 1 ? " was" : "es were");
    else
        snprintf(v.detail, sizeof(v.detail), "%s%s", c->attempts, more);
    add_verdict(c, &v, now);
}

static int on_connected(tc_check *c, int64_t now)
{
    int probe = c->st == ST_PROBE_CONNECT;
    if (!probe) {
        char addr[64];
        c->answered = (int)c->cur;
        c->report->timings.connect_ms = ms(tc_now_ns() - c->t_attempt);
        if (c->report->probe != NULL)
            c->report->probe->rtt_ms = c->report->timings.connect_ms;
        tc_addr_format(&c->addrs[c->cur], addr, sizeof(addr));
        if ((c->report->address = strdup(addr)) == NULL) {
            tc_error_set(&c->err, TC_E_NOMEM, "out of memory recording the address");
            fail_hard(c);
            return AGAIN;
        }
    }
    if (tc_hs_init(&c->hs, probe ? c->client->probe_ctx : c->client->ctx, c->sni, &c->err) != TC_OK) {
        fail_hard(c);
        return AGAIN;
    }
    c->hs_is_probe = probe;
    c->peer_eof = 0;
    c->io_errno = 0;
    /* The server speaks after our ClientHello: reading before it came
     * would only say EAGAIN.  (A server that talks first, such as a
     * non-TLS banner, wakes the poll at once.) */
    c->rx_drained = 1;
    c->t_hs_start = tc_now_ns();
    c->st = probe ? ST_PROBE : ST_HANDSHAKE;
    if (c->starttls != TC_STARTTLS_NONE) {
        tc_stls_clear(&c->stls);
        c->stls_failed = 0;
        if (tc_hs_no_alpn(&c->hs, &c->err) != TC_OK ||
            tc_stls_init(&c->stls, c->starttls, c->verify_name, &c->err) != TC_OK) {
            fail_hard(c);
            return AGAIN;
        }
        c->st = ST_STARTTLS;
    }
    return AGAIN;
}

static int step_connect(tc_check *c, int64_t now)
{
    int probe = c->st == ST_PROBE_CONNECT;
    int se = 0;
    if (c->fd < 0) {
        size_t left;
        if (probe) {
            c->cur = (size_t)c->answered;
            left = 1;
        } else {
            if (c->next_addr >= c->n_addrs) {
                connect_failed(c, now);
                return AGAIN;
            }
            c->cur = c->next_addr++;
            left = c->n_addrs - c->cur;
        }
        /* Each remaining address gets its share of the time left, so one
         * that drops packets cannot starve the ones after it. */
        c->attempt_deadline = now + (c->deadline - now) / (int64_t)left;
        int result;
        c->t_attempt = tc_now_ns();
        if (tc_connect_start(&c->addrs[c->cur], &c->fd, &result, &se, &c->err) != TC_OK) {
            fail_hard(c);
            return AGAIN;
        }
        if (c->fd >= 0)
            c->fd_serial++;     /* a new socket, whatever its number */
        c->writable_hint = 0;   /* it was about the old one */
        if (result < 0) {
            if (probe) {
                probe_done(c, 0, now);
                return AGAIN;
            }
            record_attempt(c, c->cur, se, -1);
            return AGAIN;
        }
        if (result == 0)
            return on_connected(c, now);
    }
    if (!c->writable_hint && !tc_fd_ready(c->fd, POLLOUT)) {
        if (now < c->attempt_deadline) {
            c->wake = c->attempt_deadline;
            return TC_STEP_WANT_WRITE;
        }
        close_fd(c);
        if (probe)
            probe_done(c, 0, now);
        else
            record_attempt(c, c->cur, ETIMEDOUT, (double)(now - c->t_attempt) / NS_PER_S);
        return AGAIN;
    }
    if (tc_connect_finish(c->fd, &se) != 0) {
        close_fd(c);
        if (probe)
            probe_done(c, 0, now);
        else
            record_attempt(c, c->cur, se, -1);
        return AGAIN;
    }
    return on_connected(c, now);
}

/* ---- moving bytes -------------------------------------------------- */

/* Sends what TLS queued.  0: all sent; 1: the socket is full; -1: the
 * peer is gone (c->io_errno). */
static int flush_out(tc_check *c)
{
    const unsigned char *p;
    size_t n;
    int plain = c->st == ST_STARTTLS;
    while ((plain ? (n = tc_stls_out_peek(&c->stls, &p)) > 0
            : c->hs.ssl != NULL && (n = tc_hs_out_peek(&c->hs, &p)) > 0)) {
        ssize_t w = send(c->fd, p, n, MSG_NOSIGNAL);
        if (w > 0) {
            if (plain)
                tc_stls_out_consume(&c->stls, (size_t)w);
            else
                tc_hs_out_consume(&c->hs, (size_t)w);
            continue;
        }
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return 1;
        c->io_errno = w < 0 ? errno : EPIPE;
        return -1;
    }
    return 0;
}

/* The STARTTLS dialogue's share of bytes read: until it ends, they are
 * its; once it has, what it did not take goes to TLS.  0, or -2 when the
 * check failed. */
static int feed_plain(tc_check *c, const unsigned char *p, size_t n)
{
    size_t used = 0;
    if (!c->stls_failed && !tc_stls_done(&c->stls)) {
        tc_stls_result r = tc_stls_feed(&c->stls, p, n, &used, &c->stls_verdict);
        if (r == TC_STLS_FAILED) {
            c->stls_failed = 1;
            return 0;
        }
        if (r != TC_STLS_DONE)
            return 0;
        const unsigned char *left;
        size_t k = tc_stls_leftover(&c->stls, &left);
        if (k > 0 && tc_hs_feed(&c->hs, left, k, &c->err) != TC_OK)
            goto fail;
    }
    if (c->stls_failed || used >= n)
        return 0;
    if (tc_hs_feed(&c->hs, p + used, n - used, &c->err) != TC_OK)
        goto fail;
    return 0;
fail:
    fail_hard(c);
    return -2;
}

/* Reads what the peer sent (bounded per call).  feed: hand it to TLS,
 * else only keep the first bytes; in ST_STARTTLS, to the dialogue.  >0:
 * bytes read; 0: nothing yet; -1: the peer closed or reset
 * (c->io_errno); -2: the check failed. */
static int pump_in(tc_check *c, int feed)
{
    unsigned char buf[16384];
    size_t total = 0;
    int plain = c->st == ST_STARTTLS;
    if (c->peer_eof)
        return -1;
    if (c->rx_drained)
        return 0;
    while (total < READ_BUDGET && !(plain && (c->stls_failed || tc_stls_done(&c->stls)))) {
        ssize_t n = recv(c->fd, buf, sizeof(buf), 0);
        if (n > 0) {
            /* A short read emptied the socket: no recv just for EAGAIN. */
            if ((size_t)n < sizeof(buf))
                c->rx_drained = 1;
            if (plain) {
                if (feed_plain(c, buf, (size_t)n) < 0)
                    return -2;
            } else if (!feed)
                tc_hs_keep(&c->hs, buf, (size_t)n);
            else if (tc_hs_feed(&c->hs, buf, (size_t)n, &c->err) != TC_OK) {
                fail_hard(c);
                return -2;
            }
            total += (size_t)n;
            if (c->rx_drained)
                break;
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            break;
        c->peer_eof = 1;
        c->io_errno = n < 0 ? errno : 0;
        break;
    }
    if (total > 0)
        return total > INT_MAX ? INT_MAX : (int)total;
    return c->peer_eof ? -1 : 0;
}

/* ---- handshake ----------------------------------------------------- */

static int handshake_done(tc_check *c, int64_t now)
{
    if (c->hs_is_probe) {
        probe_done(c, 0, now);
        return AGAIN;
    }
    c->report->timings.handshake_ms = ms(tc_now_ns() - c->t_hs_start);
    if (capture_main(c) != TC_OK) {
        fail_hard(c);
        return AGAIN;
    }
    now = tc_now_ns();      /* verification took its time */
    /* TLS 1.3 finishes the client's handshake before the server has seen
     * our (possibly empty) certificate; its verdict, an alert such as
     * certificate_required (RFC 8446 section 4.4.2.4), arrives one round
     * trip later.  Wait for it, briefly and within the deadline. */
    if (SSL_version(c->hs.ssl) == TLS1_3_VERSION && c->hs.cert_request_seen) {
        int64_t window = POST_WINDOW_NS + 4 * (int64_t)(c->report->timings.connect_ms * NS_PER_MS);
        c->sub_deadline = now + window < c->deadline ? now + window : c->deadline;
        c->st = ST_POST;
        return AGAIN;
    }
    finalize(c, now);
    return AGAIN;
}

static int handshake_failed(tc_check *c, const tc_verdict *v, int64_t now)
{
    (void)flush_out(c);     /* best effort: let the server see our alert */
    if (c->hs_is_probe) {
        probe_done(c, v->kind == TC_KIND_PROTOCOL_MISMATCH || v->kind == TC_KIND_NO_SHARED_CIPHER, now);
        return AGAIN;
    }
    c->report->timings.handshake_ms = ms(tc_now_ns() - c->t_hs_start);
    conclude(c, v, now);
    return AGAIN;
}

static int peer_closed(tc_check *c, int64_t now)
{
    tc_verdict v;
    if (c->hs_is_probe) {
        probe_done(c, 0, now);
        return AGAIN;
    }
    c->report->timings.handshake_ms = ms(tc_now_ns() - c->t_hs_start);
    tc_hs_verdict_closed(&c->hs, c->io_errno, &v);
    conclude(c, &v, now);
    return AGAIN;
}

/* More rounds in this call?  Otherwise yield() hands back to the driver
 * with bytes fed to TLS but not yet looked at: the fd may have nothing
 * more, so ask to be called again at once rather than on readiness. */
static int another_round(int *rounds)
{
    return ++*rounds < ROUNDS_PER_STEP;
}

static int yield(tc_check *c)
{
    c->wake = tc_now_ns();
    return TC_STEP_WANT_TIMER;
}

static int step_handshake(tc_check *c, int64_t now)
{
    int rounds = 0;
    for (;;) {
        tc_verdict v;
        tc_hs_result hr = tc_hs_advance(&c->hs, &v);
        if (hr == TC_HS_FAILED)
            return handshake_failed(c, &v, now);
        /* The probe has learned what it came for once the ServerHello is in. */
        if (hr == TC_HS_DONE || (c->hs_is_probe && c->hs.server_hello_seen))
            return handshake_done(c, now);
        int w = flush_out(c);
        if (w > 0) {
            c->wake = c->deadline;
            return TC_STEP_WANT_WRITE;
        }
        int got = pump_in(c, 1);
        if (got == -2)
            return AGAIN;
        if (!c->hs_is_probe && tc_hs_not_tls(&c->hs)) {
            c->report->timings.handshake_ms = ms(tc_now_ns() - c->t_hs_start);
            c->sub_deadline = now + BANNER_GRACE_NS < c->deadline ? now + BANNER_GRACE_NS : c->deadline;
            c->st = ST_BANNER;
            return AGAIN;
        }
        if (got > 0) {
            if (another_round(&rounds))
                continue;   /* TLS has new bytes to look at */
            return yield(c);
        }
        if (got < 0 || w < 0) {
            if (w < 0 && c->io_errno == 0)
                c->io_errno = EPIPE;
            return peer_closed(c, now);
        }
        c->wake = c->deadline;
        return TC_STEP_WANT_READ;
    }
}

/* The plaintext dialogue: send its command, read its reply, until the
 * server agrees to TLS (then the handshake, on the same socket) or a
 * starttls_* verdict. */
static int stls_failed(tc_check *c, const tc_verdict *v, int64_t now)
{
    if (c->hs_is_probe) {
        probe_done(c, 0, now);
        return AGAIN;
    }
    add_verdict(c, v, now);
    return AGAIN;
}

static int step_starttls(tc_check *c, int64_t now)
{
    int rounds = 0;
    for (;;) {
        if (c->stls_failed)
            return stls_failed(c, &c->stls_verdict, now);
        int w = flush_out(c);
        if (w > 0) {
            c->wake = c->deadline;
            return TC_STEP_WANT_WRITE;
        }
        if (w == 0 && tc_stls_done(&c->stls)) {
            tc_stls_clear(&c->stls);
            c->t_hs_start = tc_now_ns();
            c->st = c->hs_is_probe ? ST_PROBE : ST_HANDSHAKE;
            return AGAIN;
        }
        int got = w < 0 ? -1 : pump_in(c, 1);
        if (got == -2)
            return AGAIN;
        if (c->stls_failed)
            continue;
        if (got > 0) {
            if (another_round(&rounds))
                continue;
            return yield(c);
        }
        if (got < 0 && !tc_stls_done(&c->stls)) {
            tc_verdict v;
            if (w < 0 && c->io_errno == 0)
                c->io_errno = EPIPE;
            tc_stls_verdict_closed(&c->stls, c->io_errno, &v);
            return stls_failed(c, &v, now);
        }
        if (got < 0)
            continue;   /* done: the handshake meets the closed peer */
        c->wake = c->deadline;
        return TC_STEP_WANT_READ;
    }
}

static int step_banner(tc_check *c, int64_t now)
{
    int rounds = 0;
    for (;;) {
        int got = pump_in(c, 0);
        if (got == -2)
            return AGAIN;
        if (tc_hs_banner_complete(&c->hs) || got < 0 || now >= c->sub_deadline) {
            tc_verdict v;
            tc_hs_verdict_not_tls(&c->hs, &v);
            add_verdict(c, &v, now);
            return AGAIN;
        }
        if (got == 0 || !another_round(&rounds)) {
            c->wake = c->sub_deadline;
            return TC_STEP_WANT_READ;
        }
    }
}

static int step_post(tc_check *c, int64_t now)
{
    int rounds = 0;
    for (;;) {
        tc_verdict v;
        int w = flush_out(c);
        tc_hs_result hr = tc_hs_post(&c->hs, &v);
        if (hr == TC_HS_FAILED) {
            add_verdict(c, &v, now);
            return AGAIN;
        }
        if (hr == TC_HS_DONE || now >= c->sub_deadline) {
            finalize(c, now);
            return AGAIN;
        }
        if (w > 0) {
            c->wake = c->sub_deadline;
            return TC_STEP_WANT_WRITE;
        }
        int got = pump_in(c, 1);
        if (got == -2)
            return AGAIN;
        if (got > 0) {
            if (another_round(&rounds))
                continue;
            return yield(c);
        }
        if (got < 0 || w < 0) {
            /* Closed without an alert: nothing to say about it. */
            finalize(c, now);
            return AGAIN;
        }
        c->wake = c->sub_deadline;
        return TC_STEP_WANT_READ;
    }
}

/* ---- the probe's survey ------------------------------------------- */

/* Each survey connection gets this much, plus a few round trips, within
 * the check's deadline: a server that swallows a ClientHello it does not
 * like costs one such wait, not the whole timeout. */
#define SURVEY_CONN_NS (400 * NS_PER_MS)

/* What the health check's own handshake says (before its SSL goes), and
 * whether a survey can run: 1 when it started (state ST_SURVEY_CONNECT). */
static int start_survey(tc_check *c, int64_t now)
{
    tc_probe *p = c->report->probe;
    c->survey_started = 1;
    if (p == NULL)
        return 0;
    if (c->hs.ssl != NULL && c->hs.complete && !c->hs_is_probe) {
        int v13 = SSL_version(c->hs.ssl) == TLS1_3_VERSION;
        /* RFC 8446 2.1: a HelloRetryRequest costs one more round trip. */
        p->hello_retry_request = c->hs.hrr_seen;
        p->handshake_round_trips = v13 ? 1 + (c->hs.hrr_seen != 0) : 2;
        if (c->hs.hrr_seen) {
            char g[64];
            if (tc_hs_group_name(c->hs.ssl, g, sizeof(g)))
                p->hrr_group = strdup(tc_group_probe_name(g));
        }
        p->http2 = c->report->alpn != NULL && strcmp(c->report->alpn, "h2") == 0;
    }
    /* The version the check itself negotiated is accepted, whatever the
     * survey's connections find (a server may stop answering). */
    static const char *const versions[TC_PROBE_VERSIONS] = { "TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3" };
    for (int i = 0; c->report->protocol != NULL && i < TC_PROBE_VERSIONS; i++)
        if (strcmp(c->report->protocol, versions[i]) == 0)
            p->protocols[i] = 1;
    /* A STARTTLS endpoint would need its preamble on every survey
     * connection: not done yet, so its probe holds only what the check's
     * own handshake measured (complete stays 0). */
    if (c->answered < 0 || c->deadline - now <= PROBE_MIN_NS || c->starttls != TC_STARTTLS_NONE)
        return 0;
    close_fd(c);
    tc_hs_clear(&c->hs);
    c->hs_is_probe = 1;
    tc_survey_init(&c->survey, p);
    c->st = ST_SURVEY_CONNECT;
    return 1;
}

static void survey_finish(tc_check *c, int64_t now)
{
    close_fd(c);
    tc_hs_clear(&c->hs);
    tc_render_vars base = { .target = c->report->target, .sni = c->sni_arg,
                            .hostname = c->host };
    if (tc_survey_findings(&c->survey, c->report, &base, &c->err) != TC_OK) {
        fail_hard(c);
        return;
    }
    finalize(c, now);
}

/* One survey connection is over: its outcome to the plan, its socket
 * closed before the next one opens (a server serving one connection at a
 * time never has ours queued behind each other). */
static int survey_conn_done(tc_check *c, int accepted)
{
    tc_survey_record(&c->survey, &c->hs, accepted);
    close_fd(c);
    tc_hs_clear(&c->hs);
    c->st = ST_SURVEY_CONNECT;
    return AGAIN;
}

static int step_survey_connect(tc_check *c, int64_t now)
{
    int se = 0;
    if (c->fd < 0) {
        if (tc_hs_init(&c->hs, c->client->probe_ctx, c->sni, &c->err) != TC_OK) {
            fail_hard(c);
            return AGAIN;
        }
        if (!tc_survey_next(&c->survey, c->hs.ssl)) {
            survey_finish(c, now);
            return AGAIN;
        }
        double rtt = c->report->probe->rtt_ms;
        int64_t budget = SURVEY_CONN_NS + (rtt > 0 ? 6 * (int64_t)(rtt * NS_PER_MS) : 0);
        c->attempt_deadline = now + budget < c->deadline ? now + budget : c->deadline;
        int result;
        c->t_attempt = tc_now_ns();
        if (tc_connect_start(&c->addrs[c->answered], &c->fd, &result, &se, &c->err) != TC_OK) {
            fail_hard(c);
            return AGAIN;
        }
        if (c->fd >= 0)
            c->fd_serial++;
        c->writable_hint = 0;
        if (result < 0) {          /* the server stopped accepting: the survey ends */
            survey_finish(c, now);
            return AGAIN;
        }
        if (result > 0 && !tc_fd_ready(c->fd, POLLOUT)) {
            c->wake = c->attempt_deadline;
            return TC_STEP_WANT_WRITE;
        }
    } else if (!c->writable_hint && !tc_fd_ready(c->fd, POLLOUT)) {
        if (now < c->attempt_deadline) {
            c->wake = c->attempt_deadline;
            return TC_STEP_WANT_WRITE;
        }
        survey_finish(c, now);
        return AGAIN;
    }
    if (tc_connect_finish(c->fd, &se) != 0) {
        survey_finish(c, now);
        return AGAIN;
    }
    double took = ms(tc_now_ns() - c->t_attempt);
    tc_probe *p = c->report->probe;
    if (p->rtt_ms < 0 || took < p->rtt_ms)
        p->rtt_ms = took;
    c->peer_eof = 0;
    c->io_errno = 0;
    c->rx_drained = 1;     /* the server speaks after our ClientHello */
    c->survey_sub = 0;
    c->survey_early_sent = 0;
    c->survey.handshake_ms = -1;
    c->t_hs_start = tc_now_ns();
    c->st = ST_SURVEY;
    return AGAIN;
}

/* A connection that finishes its handshake (resumption): then, for the
 * first one in TLS 1.3, reads until the server's NewSessionTicket (it
 * comes after the handshake: a client that closes at once has none),
 * and closes with close_notify, bounded by the connection's deadline. */
static int step_survey_full(tc_check *c, int64_t now)
{
    int rounds = 0;
    for (;;) {
        tc_verdict v;
        if (c->survey_sub == 0) {
            const char *early = tc_survey_early_bytes(&c->survey);
            if (early != NULL && !c->survey_early_sent) {
                size_t written = 0;
                c->survey_early_sent = 1;
                ERR_clear_error();
                /* Queues ClientHello and the early bytes in memory. */
                if (SSL_write_early_data(c->hs.ssl, early, strlen(early), &written) != 1)
                    ERR_clear_error();
            }
            tc_hs_result hr = tc_hs_advance(&c->hs, &v);
            if (hr == TC_HS_FAILED)
                return survey_conn_done(c, 0);
            if (hr == TC_HS_DONE) {
                c->survey.handshake_ms = ms(tc_now_ns() - c->t_hs_start);
                c->survey_sub = tc_survey_full(&c->survey) == 2 &&
                                SSL_version(c->hs.ssl) == TLS1_3_VERSION ? 1 : 2;
                continue;
            }
        } else if (c->survey_sub == 1) {
            tc_hs_result hr = tc_hs_post(&c->hs, &v);
            if (hr != TC_HS_WANT || now >= c->attempt_deadline) {
                c->survey_sub = 2;
                continue;
            }
        } else {
            ERR_clear_error();
            (void)SSL_shutdown(c->hs.ssl);   /* queues our close_notify */
            ERR_clear_error();
            (void)flush_out(c);
            return survey_conn_done(c, 1);
        }
        int w = flush_out(c);
        if (w > 0) {
            c->wake = c->attempt_deadline;
            return TC_STEP_WANT_WRITE;
        }
        int got = pump_in(c, 1);
        if (got == -2)
            return AGAIN;
        if (got > 0) {
            if (another_round(&rounds))
                continue;
            return yield(c);
        }
        if (got < 0 || w < 0 || now >= c->attempt_deadline) {
            if (c->survey_sub == 1) {
                c->survey_sub = 2;
                continue;
            }
            return survey_conn_done(c, 0);
        }
        c->wake = c->attempt_deadline;
        return TC_STEP_WANT_READ;
    }
}

static int step_survey(tc_check *c, int64_t now)
{
    int rounds = 0;
    if (tc_survey_full(&c->survey))
        return step_survey_full(c, now);
    for (;;) {
        tc_verdict v;
        tc_hs_result hr = tc_hs_advance(&c->hs, &v);
        if (tc_survey_learned(&c->hs))
            return survey_conn_done(c, 1);
        if (hr != TC_HS_WANT)
            return survey_conn_done(c, 0);
        int w = flush_out(c);
        if (w > 0) {
            c->wake = c->attempt_deadline;
            return TC_STEP_WANT_WRITE;
        }
        int got = pump_in(c, 1);
        if (got == -2)
            return AGAIN;
        if (got > 0) {
            if (another_round(&rounds))
                continue;
            return yield(c);
        }
        if (got < 0 || w < 0 || now >= c->attempt_deadline)
            return survey_conn_done(c, 0);
        c->wake = c->attempt_deadline;
        return TC_STEP_WANT_READ;
    }
}

/* ---- resolving ----------------------------------------------------- */

static int step_resolve(tc_check *c, int64_t now)
{
    int code = 0, se = 0;
    if (!tc_resolve_poll(c->res, &code, &se)) {
        int64_t next = now + c->dns_backoff;
        c->wake = next < c->deadline ? next : c->deadline;
        c->dns_backoff = c->dns_backoff * 2 < DNS_BACKOFF_MAX_NS ? c->dns_backoff * 2 : DNS_BACKOFF_MAX_NS;
        return TC_STEP_WANT_TIMER;
    }
    c->report->timings.dns_ms = ms(now - c->t_start);
    tc_addr found[TC_MAX_ADDRS];
    size_t n = code == 0 ? tc_resolve_addrs(c->res, c->port, found, TC_MAX_ADDRS) : 0;
    tc_resolve_free(c->res);
    c->res = NULL;
    if (n == 0) {
        tc_verdict v = { .kind = TC_KIND_DNS_FAILURE };
        const tc_gai_class *g = tc_gai_classify(code);
        if (code == 0) {
            snprintf(v.reason, sizeof(v.reason), "no address");
            snprintf(v.detail, sizeof(v.detail), "the name has no IPv4 or IPv6 address");
        } else {
            snprintf(v.reason, sizeof(v.reason), "%s", g->name ? g->name : gai_strerror(code));
            snprintf(v.detail, sizeof(v.detail), "%s (%s: %s)", g->what,
                     g->name ? g->name : "getaddrinfo", gai_strerror(code));
        }
        add_verdict(c, &v, now);
        return AGAIN;
    }
    if ((c->addrs = malloc(n * sizeof(*c->addrs))) == NULL) {
        tc_error_set(&c->err, TC_E_NOMEM, "out of memory keeping the addresses of %s", c->host);
        fail_hard(c);
        return AGAIN;
    }
    memcpy(c->addrs, found, n * sizeof(*c->addrs));
    c->n_addrs = n;
    c->st = ST_CONNECT;
    return AGAIN;
}

/* ---- the deadline -------------------------------------------------- */

static void on_deadline(tc_check *c, int64_t now)
{
    tc_verdict v = { .kind = TC_KIND_HANDSHAKE_TIMEOUT };
    switch (c->st) {
    case ST_RESOLVE:
        c->report->timings.dns_ms = ms(now - c->t_start);
        v.kind = TC_KIND_DNS_FAILURE;
        snprintf(v.reason, sizeof(v.reason), "timeout");
        snprintf(v.detail, sizeof(v.detail),
                 "the lookup did not finish within %.1f s (the DNS server is slow or unreachable)",
                 c->timeout);
        add_verdict(c, &v, now);
        return;
    case ST_CONNECT:
        if (c->fd >= 0) {
            close_fd(c);
            record_attempt(c, c->cur, ETIMEDOUT, (double)(now - c->t_attempt) / NS_PER_S);
        }
        connect_failed(c, now);
        return;
    case ST_STARTTLS:
        tc_stls_verdict_timeout(&c->stls, c->timeout, &v);
        (void)stls_failed(c, &v, now);
        return;
    case ST_HANDSHAKE:
        c->report->timings.handshake_ms = ms(tc_now_ns() - c->t_hs_start);
        tc_hs_verdict_timeout(&c->hs, c->timeout, &v);
        add_verdict(c, &v, now);
        return;
    case ST_BANNER:
        tc_hs_verdict_not_tls(&c->hs, &v);
        add_verdict(c, &v, now);
        return;
    case ST_POST:
        finalize(c, now);
        return;
    case ST_PROBE_CONNECT:
    case ST_PROBE:
        add_verdict(c, &c->verdict, now);
        return;
    case ST_SURVEY_CONNECT:
    case ST_SURVEY:
        survey_finish(c, now);
        return;
    case ST_DONE:
        return;
    }
}

/* ---- the machine --------------------------------------------------- */

tc_step tc_check_step(tc_check *c)
{
    return tc_check_step_ready(c, 0);
}

tc_step tc_check_step_ready(tc_check *c, int writable)
{
    /* Both hints hold for this call only: what the caller saw, and what
     * this call's reads found. */
    c->writable_hint = writable != 0;
    c->rx_drained = 0;
    for (;;) {
        int r = AGAIN;
        if (c->st == ST_DONE)
            return TC_STEP_DONE;
        int64_t now = tc_now_ns();
        if (now >= c->deadline) {
            on_deadline(c, now);
            continue;
        }
        switch (c->st) {
        case ST_RESOLVE:
            r = step_resolve(c, now);
            break;
        case ST_CONNECT:
        case ST_PROBE_CONNECT:
            r = step_connect(c, now);
            break;
        case ST_HANDSHAKE:
        case ST_PROBE:
            r = step_handshake(c, now);
            break;
        case ST_STARTTLS:
            r = step_starttls(c, now);
            break;
        case ST_BANNER:
            r = step_banner(c, now);
            break;
        case ST_POST:
            r = step_post(c, now);
            break;
        case ST_SURVEY_CONNECT:
            r = step_survey_connect(c, now);
            break;
        case ST_SURVEY:
            r = step_survey(c, now);
            break;
        case ST_DONE:
            break;
        }
        if (r != AGAIN)
            return (tc_step)r;
    }
}

int tc_check_fd(const tc_check *c)
{
    return c->fd;
}

unsigned long tc_check_fd_serial(const tc_check *c)
{
    return c->fd_serial;
}

int64_t tc_check_deadline_ns(const tc_check *c)
{
    return c->wake < c->deadline ? c->wake : c->deadline;
}

const tc_error *tc_check_error(const tc_check *c)
{
    return c->failed ? &c->err : NULL;
}

tc_report *tc_check_take_report(tc_check *c)
{
    if (c->st != ST_DONE || c->failed)
        return NULL;
    tc_report *r = c->report;
    c->report = NULL;
    return r;
}

void tc_check_free(tc_check *c)
{
    if (c == NULL)
        return;
    release(c);
    tc_report_free(c->report);
    tc_client_free(c->client);
    free(c->addrs);
    free(c->host);
    free(c->verify_name);
    free(c->sni_arg);
    free(c);
}

/* Accepts "host" or "[v6]" (brackets dropped); refuses what could not be
 * a host: empty, too long, spaces or control characters. */
static tc_status copy_host(const char *in, char **out, tc_error *err)
{
    size_t n = strlen(in);
    *out = NULL;
    if (n >= 2 && in[0] == '[' && in[n - 1] == ']') {
        in++;
        n -= 2;
    }
    if (n == 0 || n > 253)
        return tc_error_set(err, TC_E_INVALID, "The host to connect to must be 1 to 253 characters, not %zu.", n);
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)in[i] <= 0x20 || (unsigned char)in[i] >= 0x7f || in[i] == '/')
            return tc_error_set(err, TC_E_INVALID,
                                "The host to connect to contains a character a host name "
                                "or address cannot have (byte 0x%02x at position %zu).",
                                (unsigned char)in[i], i);
    if ((*out = strndup(in, n)) == NULL)
        return tc_error_set(err, TC_E_NOMEM, "out of memory");
    return TC_OK;
}

tc_status tc_check_new(tc_client *client, const tc_check_params *p, tc_check **out,
                       tc_error *err)
{
    char norm[256];
    int is_ip = 0;
    unsigned char ip[16];
    size_t ip_len = 0;
    *out = NULL;
    if (client == NULL || p == NULL || p->host == NULL)
        return tc_error_set(err, TC_E_INVALID, "A live check needs a client and a host.");
    if (p->port < 1 || p->port > 65535)
        return tc_error_set(err, TC_E_INVALID, "The port must be between 1 and 65535, not %d.", p->port);
    if (!(p->timeout > 0) || !isfinite(p->timeout) || p->timeout > 86400)
        return tc_error_set(err, TC_E_INVALID,
                            "The timeout must be a positive number of seconds (at most one day).");
    if (p->starttls != TC_STARTTLS_NONE && tc_starttls_name(p->starttls) == NULL)
        return tc_error_set(err, TC_E_INVALID, "Unknown STARTTLS protocol %d.", (int)p->starttls);

    tc_check *c = calloc(1, sizeof(*c));
    if (c == NULL)
        return tc_error_set(err, TC_E_NOMEM, "out of memory creating a check");
    c->fd = -1;
    c->answered = -1;
    c->conn_kind = TC_KIND_CONNECTION_TIMEOUT;
    c->client = tc_client_ref(client);
    c->port = p->port;
    c->timeout = p->timeout;
    c->starttls = p->starttls;
    c->t_start = tc_now_ns();
    c->deadline = c->t_start + (int64_t)(p->timeout * (double)NS_PER_S);
    c->wake = c->deadline;
    c->dns_backoff = DNS_BACKOFF_MIN_NS;

    if (copy_host(p->host, &c->host, err) != TC_OK)
        goto fail;
    const char *name = p->server_name ? p->server_name : c->host;
    if (tc_hostname_normalize(name, strlen(name), norm, sizeof(norm), &is_ip, ip, &ip_len, err) != TC_OK)
        goto fail;
    if ((c->verify_name = strdup(norm)) == NULL)
        goto nomem;
    c->sni = is_ip ? NULL : c->verify_name;
    c->verify = p->verify;
    c->verify.hostname = c->verify_name;

    size_t arg_len = c->sni ? strlen(c->sni) + sizeof("-servername ") : 1;
    size_t target_len = strlen(c->host) + 16;
    if ((c->sni_arg = malloc(arg_len)) == NULL || tc_report_new(&c->report, err) != TC_OK ||
        (c->report->target = malloc(target_len)) == NULL)
        goto nomem;
    snprintf(c->sni_arg, arg_len, "%s%s", c->sni ? "-servername " : "", c->sni ? c->sni : "");
    snprintf(c->report->target, target_len, strchr(c->host, ':') ? "[%s]:%d" : "%s:%d",
             c->host, c->port);
    c->report->port = c->port;
    if (p->probe) {
        c->want_survey = 1;
        if ((c->report->probe = calloc(1, sizeof(*c->report->probe))) == NULL)
            goto nomem;
        c->report->probe->rtt_ms = -1;
        c->report->probe->resumed_handshake_ms = -1;
        c->report->probe->resumed_round_trips = -1;
        c->report->probe->ticket_lifetime_s = -1;
        c->report->probe->max_early_data = -1;
        c->report->probe->connections = 1;     /* the check's own */
        for (int i = 0; i < TC_PROBE_VERSIONS; i++)
            c->report->probe->protocols[i] = -1;      /* not tried yet */
    }
    c->report->starttls = tc_starttls_name(c->starttls);
    if (c->sni != NULL && (c->report->server_name = strdup(c->sni)) == NULL)
        goto nomem;

    tc_addr literal;
    if (tc_addr_from_literal(c->host, c->port, &literal)) {
        if ((c->addrs = malloc(sizeof(*c->addrs))) == NULL)
            goto nomem;
        c->addrs[0] = literal;
        c->n_addrs = 1;
        c->report->timings.dns_ms = 0;    /* nothing to look up */
        c->st = ST_CONNECT;
    } else {
        if (tc_resolve_start(c->host, &c->res, err) != TC_OK)
            goto fail;
        c->st = ST_RESOLVE;
    }
    *out = c;
    return TC_OK;
nomem:
    tc_error_set(err, TC_E_NOMEM, "out of memory creating a check");
fail:
    tc_check_free(c);
    return TC_FAIL;
}

tc_status tc_check_run(tc_client *client, const tc_check_params *p, tc_report **out,
                       tc_error *err)
{
    tc_check *c = NULL;
    *out = NULL;
    if (tc_check_new(client, p, &c, err) != TC_OK)
        return TC_FAIL;
    int writable = 0;      /* what the last ppoll saw */
    for (;;) {
        tc_step st = tc_check_step_ready(c, writable);
        writable = 0;
        if (st == TC_STEP_DONE)
            break;
        int64_t wait = tc_check_deadline_ns(c) - tc_now_ns();
        if (wait < 0)
            wait = 0;
        struct timespec ts = { .tv_sec = wait / NS_PER_S, .tv_nsec = wait % NS_PER_S };
        struct pollfd pfd = { .fd = tc_check_fd(c),
                              .events = st == TC_STEP_WANT_READ ? POLLIN : POLLOUT };
        /* EINTR just means: step again. */
        if (st == TC_STEP_WANT_TIMER || pfd.fd < 0)
            (void)ppoll(NULL, 0, &ts, NULL);
        else if (ppoll(&pfd, 1, &ts, NULL) > 0)
            writable = (pfd.revents & (POLLOUT | POLLERR | POLLHUP)) != 0;
    }
    if (c->failed) {
        if (err != NULL)
            *err = c->err;
        tc_check_free(c);
        return TC_FAIL;
    }
    *out = tc_check_take_report(c);
    tc_check_free(c);
    return TC_OK;
}
