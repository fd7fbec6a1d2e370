/*
 * cref - the C reference client of the benchmark: the practical limit a
 * TLS checker on this machine can reach with OpenSSL.
 *
 * What one "check" is, here and for every client the benchmark compares:
 *   socket + non-blocking connect to ADDR:PORT, a full TLS handshake with SNI,
 *   the chain verified against one trust anchor (CA file) and the certificate
 *   matched against the host name (X509_VERIFY_PARAM_set1_host), then
 *   close_notify (sent, not awaited) and close.
 * One SSL_CTX (and so one X509_STORE, loaded once) serves every check; K checks
 * are in flight at once on one thread driven by epoll (edge-triggered);
 * N checks in total. Each check has a deadline (--timeout, default 10 s).
 *
 * Usage: cref --addr IP --port P --sni NAME --ca FILE --k K --n N
 *             [--timeout S] [--label TEXT] [--release-buffers 0|1]
 * Prints one JSON object on stdout:
 *   ok, failed, wall_s, checks_per_s, p50_ms, p99_ms (whole check),
 *   connect_p50_ms (TCP connect), handshake_p50_ms (TLS handshake after
 *   connect), cpu_ms_per_check (getrusage user+system of this process over
 *   the run, divided by N), peak_rss_kb (VmHWM), protocol, first_error.
 * The exit status is 0 when every check succeeded.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

enum slot_state { SLOT_FREE, SLOT_CONNECTING, SLOT_HANDSHAKING };

typedef struct slot {
    enum slot_state state;
    int fd;
    SSL *ssl;
    int64_t start_ns;
    int64_t connected_ns;
    int64_t deadline_ns;
} slot;

typedef struct run {
    SSL_CTX *ctx;
    struct sockaddr_storage addr;
    socklen_t addrlen;
    const char *sni;
    int ep;
    slot *slots;
    int k;
    long n;
    long started;
    long done;
    long ok;
    long failed;
    int64_t timeout_ns;
    double *total_ms;   /* one per successful check */
    double *connect_ms;
    double *handshake_ms;
    char first_error[256];
    char protocol[32];
} run;

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void note_error(run *r, const char *what, const char *detail)
{
    if (r->first_error[0] == '\0')
        snprintf(r->first_error, sizeof r->first_error, "%s: %s", what, detail);
}

static void slot_close(run *r, slot *s, int success)
{
    int64_t end = now_ns();

    if (s->ssl != NULL) {
        if (success)
            (void)SSL_shutdown(s->ssl); /* send close_notify; do not wait */
        SSL_free(s->ssl);
        s->ssl = NULL;
    }
    if (s->fd >= 0) {
        close(s->fd); /* also removes it from the epoll set */
        s->fd = -1;
    }
    if (success) {
        r->total_ms[r->ok] = (double)(end - s->start_ns) / 1e6;
        r->connect_ms[r->ok] = (double)(s->connected_ns - s->start_ns) / 1e6;
        r->handshake_ms[r->ok] = (double)(end - s->connected_ns) / 1e6;
        r->ok++;
    } else {
        r->failed++;
    }
    r->done++;
    s->state = SLOT_FREE;
}

static void slot_fail_ssl(run *r, slot *s, const char *what)
{
    unsigned long e = ERR_get_error();
    char buf[200];

    if (e != 0) {
        ERR_error_string_n(e, buf, sizeof buf);
    } else if (s->ssl != NULL && SSL_get_verify_result(s->ssl) != X509_V_OK) {
        snprintf(buf, sizeof buf, "%s",
                 X509_verify_cert_error_string(SSL_get_verify_result(s->ssl)));
    } else {
        snprintf(buf, sizeof buf, "%s", strerror(errno));
    }
    note_error(r, what, buf);
    ERR_clear_error();
    slot_close(r, s, 0);
}

/* Drives the handshake as far as it goes without blocking. */
static void slot_handshake(run *r, slot *s)
{
    int rc;

    ERR_clear_error();
    rc = SSL_do_handshake(s->ssl);
    if (rc == 1) {
        /* SSL_VERIFY_PEER already failed the handshake on a bad chain or
         * name; this re-check guards against a mis-set context. */
        if (SSL_get_verify_result(s->ssl) != X509_V_OK) {
            slot_fail_ssl(r, s, "verify");
            return;
        }
        if (r->protocol[0] == '\0')
            snprintf(r->protocol, sizeof r->protocol, "%s", SSL_get_version(s->ssl));
        slot_close(r, s, 1);
        return;
    }
    switch (SSL_get_error(s->ssl, rc)) {
    case SSL_ERROR_WANT_READ:
    case SSL_ERROR_WANT_WRITE:
        return; /* the edge-triggered registration covers both */
    default:
        slot_fail_ssl(r, s, "handshake");
        return;
    }
}

static void slot_connected(run *r, slot *s)
{
    int err = 0;
    socklen_t len = sizeof err;

    if (getsockopt(s->fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0 || err != 0) {
        note_error(r, "connect", strerror(err != 0 ? err : errno));
        slot_close(r, s, 0);
        return;
    }
    s->connected_ns = now_ns();
    s->ssl = SSL_new(r->ctx);
    if (s->ssl == NULL || SSL_set_fd(s->ssl, s->fd) != 1 ||
        SSL_set_tlsext_host_name(s->ssl, r->sni) != 1 ||
        X509_VERIFY_PARAM_set1_host(SSL_get0_param(s->ssl), r->sni, 0) != 1) {
        slot_fail_ssl(r, s, "SSL setup");
        return;
    }
    SSL_set_connect_state(s->ssl);
    s->state = SLOT_HANDSHAKING;
    slot_handshake(r, s);
}

static void slot_start(run *r, slot *s)
{
    struct epoll_event ev;

    s->start_ns = now_ns();
    s->deadline_ns = s->start_ns + r->timeout_ns;
    s->ssl = NULL;
    s->fd = socket(r->addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    r->started++;
    if (s->fd < 0) {
        note_error(r, "socket", strerror(errno));
        slot_close(r, s, 0);
        return;
    }
    memset(&ev, 0, sizeof ev);
    ev.events = EPOLLIN | EPOLLOUT | EPOLLET;
    ev.data.ptr = s;
    if (epoll_ctl(r->ep, EPOLL_CTL_ADD, s->fd, &ev) != 0) {
        note_error(r, "epoll_ctl", strerror(errno));
        slot_close(r, s, 0);
        return;
    }
    s->state = SLOT_CONNECTING;
    if (connect(s->fd, (struct sockaddr *)&r->addr, r->addrlen) != 0 && errno != EINPROGRESS) {
        note_error(r, "connect", strerror(errno));
        slot_close(r, s, 0);
    }
    /* Connected or in progress: the EPOLLOUT edge drives the next step. */
}

static void fill(run *r)
{
    for (int i = 0; i < r->k && r->started < r->n; i++)
        if (r->slots[i].state == SLOT_FREE)
            slot_start(r, &r->slots[i]);
}

static void expire(run *r, int64_t now)
{
    for (int i = 0; i < r->k; i++) {
        slot *s = &r->slots[i];
        if (s->state != SLOT_FREE && now >= s->deadline_ns) {
            note_error(r, "timeout", s->state == SLOT_CONNECTING ? "connect" : "handshake");
            slot_close(r, s, 0);
        }
    }
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Nearest-rank percentile of a sorted array; the Python clients use the same. */
static double percentile(const double *v, long n, double p)
{
    long rank;
    if (n <= 0)
        return -1.0;
    rank = (long)((p / 100.0) * (double)n + 0.999999999);
    if (rank < 1)
        rank = 1;
    if (rank > n)
        rank = n;
    return v[rank - 1];
}

/* Runs until r->n checks are done, K at a time. 0, or -1 on a system error. */
static int drive(run *r)
{
    int64_t last_scan = now_ns();
    struct epoll_event *evs = calloc((size_t)r->k, sizeof *evs);

    if (evs == NULL) {
        fprintf(stderr, "cref: out of memory\n");
        return -1;
    }
    fill(r);
    while (r->done < r->n) {
        int n = epoll_wait(r->ep, evs, r->k, 100);
        int64_t now;
        if (n < 0) {
            if (errno == EINTR)
                continue;
            perror("cref: epoll_wait");
            free(evs);
            return -1;
        }
        for (int i = 0; i < n; i++) {
            slot *s = evs[i].data.ptr;
            if (s->state == SLOT_CONNECTING)
                slot_connected(r, s);
            else if (s->state == SLOT_HANDSHAKING)
                slot_handshake(r, s);
            /* SLOT_FREE: closed earlier in this batch; stale event. */
        }
        now = now_ns();
        if (now - last_scan >= 100000000) {
            expire(r, now);
            last_scan = now;
        }
        fill(r);
    }
    free(evs);
    return 0;
}

static double cpu_ms(const struct rusage *ru)
{
    return (double)ru->ru_utime.tv_sec * 1e3 + (double)ru->ru_utime.tv_usec / 1e3 +
           (double)ru->ru_stime.tv_sec * 1e3 + (double)ru->ru_stime.tv_usec / 1e3;
}

/* Peak RSS of this program in KB: VmHWM of /proc/self/status. Not ru_maxrss,
 * which Linux carries over execve from the parent that spawned us (with
 * vfork-style spawning, the parent's whole RSS) and so overstates a small
 * program started from Python. */
static long peak_rss_kb(void)
{
    char line[256];
    long kb = -1;
    FILE *f = fopen("/proc/self/status", "r");

    if (f == NULL)
        return -1;
    while (fgets(line, sizeof line, f) != NULL)
        if (strncmp(line, "VmHWM:", 6) == 0) {
            kb = strtol(line + 6, NULL, 10);
            break;
        }
    fclose(f);
    return kb;
}

static void usage(void)
{
    fprintf(stderr, "usage: cref --addr IP --port P --sni NAME --ca FILE --k K --n N "
                    "[--timeout S] [--label TEXT] [--release-buffers 0|1]\n");
}

static int parse_addr(run *r, const char *ip, long port)
{
    struct sockaddr_in *a4 = (struct sockaddr_in *)&r->addr;
    struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)&r->addr;

    memset(&r->addr, 0, sizeof r->addr);
    if (inet_pton(AF_INET, ip, &a4->sin_addr) == 1) {
        a4->sin_family = AF_INET;
        a4->sin_port = htons((uint16_t)port);
        r->addrlen = sizeof *a4;
        return 0;
    }
    if (inet_pton(AF_INET6, ip, &a6->sin6_addr) == 1) {
        a6->sin6_family = AF_INET6;
        a6->sin6_port = htons((uint16_t)port);
        r->addrlen = sizeof *a6;
        return 0;
    }
    return -1;
}

int main(int argc, char **argv)
{
    run r;
    const char *ip = NULL, *ca = NULL, *label = "cref";
    long port = 0, k = 0, timeout_s = 10;
    int rc = 1, release_buffers = 0;
    struct rusage ru0, ru1;
    struct rlimit nofile;
    int64_t t0, t1;

    memset(&r, 0, sizeof r);
    r.ep = -1;
    r.n = 0;
    for (int i = 1; i + 1 < argc; i += 2) {
        const char *opt = argv[i], *val = argv[i + 1];
        if (strcmp(opt, "--addr") == 0)
            ip = val;
        else if (strcmp(opt, "--port") == 0)
            port = strtol(val, NULL, 10);
        else if (strcmp(opt, "--sni") == 0)
            r.sni = val;
        else if (strcmp(opt, "--ca") == 0)
            ca = val;
        else if (strcmp(opt, "--k") == 0)
            k = strtol(val, NULL, 10);
        else if (strcmp(opt, "--n") == 0)
            r.n = strtol(val, NULL, 10);
        else if (strcmp(opt, "--timeout") == 0)
            timeout_s = strtol(val, NULL, 10);
        else if (strcmp(opt, "--label") == 0)
            label = val;
        else if (strcmp(opt, "--release-buffers") == 0)
            release_buffers = strcmp(val, "1") == 0;
        else {
            usage();
            return 2;
        }
    }
    if (argc % 2 != 1 || ip == NULL || ca == NULL || r.sni == NULL || port <= 0 ||
        port > 65535 || k <= 0 || k > 100000 || r.n <= 0 || timeout_s <= 0) {
        usage();
        return 2;
    }
    if (parse_addr(&r, ip, port) != 0) {
        fprintf(stderr, "cref: --addr must be an IPv4 or IPv6 literal\n");
        return 2;
    }
    r.k = (int)(k < r.n ? k : r.n);
    r.timeout_ns = (int64_t)timeout_s * 1000000000;

    /* K sockets plus a few: raise the soft limit to the hard one if needed. */
    if (getrlimit(RLIMIT_NOFILE, &nofile) == 0 && nofile.rlim_cur < (rlim_t)r.k + 64) {
        nofile.rlim_cur = nofile.rlim_max;
        if (setrlimit(RLIMIT_NOFILE, &nofile) != 0)
            perror("cref: setrlimit");
    }

    r.slots = calloc((size_t)r.k, sizeof *r.slots);
    r.total_ms = calloc((size_t)r.n, sizeof(double));
    r.connect_ms = calloc((size_t)r.n, sizeof(double));
    r.handshake_ms = calloc((size_t)r.n, sizeof(double));
    if (r.slots == NULL || r.total_ms == NULL || r.connect_ms == NULL || r.handshake_ms == NULL) {
        fprintf(stderr, "cref: out of memory\n");
        goto done;
    }
    for (int i = 0; i < r.k; i++) {
        r.slots[i].fd = -1;
        r.slots[i].state = SLOT_FREE;
    }

    r.ctx = SSL_CTX_new(TLS_client_method());
    if (r.ctx == NULL || SSL_CTX_set_min_proto_version(r.ctx, TLS1_2_VERSION) != 1 ||
        SSL_CTX_load_verify_locations(r.ctx, ca, NULL) != 1) {
        fprintf(stderr, "cref: cannot set up the SSL_CTX with CA file %s\n", ca);
        ERR_print_errors_fp(stderr);
        goto done;
    }
    SSL_CTX_set_verify(r.ctx, SSL_VERIFY_PEER, NULL);
    SSL_CTX_set_session_cache_mode(r.ctx, SSL_SESS_CACHE_OFF);
    /* Off by default: the reference is the plain client. On, idle checks give
     * their record buffers back, which is what memory per in-flight check
     * mostly is (see docs/performance.md). */
    if (release_buffers)
        SSL_CTX_set_mode(r.ctx, SSL_MODE_RELEASE_BUFFERS);

    r.ep = epoll_create1(EPOLL_CLOEXEC);
    if (r.ep < 0) {
        perror("cref: epoll_create1");
        goto done;
    }

    /* One untimed warm-up check first: OpenSSL initialises lazily (provider
     * algorithm fetches, the store's first use), and a steady-state figure
     * should not carry that; the Python clients do the same. */
    {
        long n = r.n;
        int k_all = r.k;
        r.n = 1;
        r.k = 1;
        if (drive(&r) != 0)
            goto done;
        /* A failed warm-up is not fatal: the timed run fails the same way
         * and reports it (first_error keeps the reason). */
        r.n = n;
        r.k = k_all;
        r.started = r.done = r.ok = r.failed = 0;
    }

    if (getrusage(RUSAGE_SELF, &ru0) != 0) {
        perror("cref: getrusage");
        goto done;
    }
    t0 = now_ns();
    if (drive(&r) != 0)
        goto done;
    t1 = now_ns();
    if (getrusage(RUSAGE_SELF, &ru1) != 0) {
        perror("cref: getrusage");
        goto done;
    }
    {
        double wall = (double)(t1 - t0) / 1e9;
        qsort(r.total_ms, (size_t)r.ok, sizeof(double), cmp_double);
        qsort(r.connect_ms, (size_t)r.ok, sizeof(double), cmp_double);
        qsort(r.handshake_ms, (size_t)r.ok, sizeof(double), cmp_double);
        printf("{\"client\": \"%s\", \"k\": %d, \"n\": %ld, \"ok\": %ld, \"failed\": %ld, "
               "\"wall_s\": %.4f, \"checks_per_s\": %.2f, \"p50_ms\": %.3f, \"p99_ms\": %.3f, "
               "\"connect_p50_ms\": %.3f, \"handshake_p50_ms\": %.3f, "
               "\"cpu_ms_per_check\": %.4f, \"peak_rss_kb\": %ld, \"protocol\": \"%s\", "
               "\"first_error\": \"",
               label, r.k, r.n, r.ok, r.failed, wall, (double)r.ok / wall,
               percentile(r.total_ms, r.ok, 50), percentile(r.total_ms, r.ok, 99),
               percentile(r.connect_ms, r.ok, 50), percentile(r.handshake_ms, r.ok, 50),
               (cpu_ms(&ru1) - cpu_ms(&ru0)) / (double)r.n, peak_rss_kb(), r.protocol);
        /* The error text is OpenSSL's or strerror's: keep JSON-safe bytes. */
        for (const char *c = r.first_error; *c != '\0'; c++)
            if (*c != '"' && *c != '\\' && (unsigned char)*c >= 0x20 && (unsigned char)*c < 0x7f)
                putchar(*c);
        printf("\"}\n");
    }
    rc = r.failed == 0 ? 0 : 1;
done:
    if (r.slots != NULL)
        for (int i = 0; i < r.k; i++)
            if (r.slots[i].state != SLOT_FREE) {
                SSL_free(r.slots[i].ssl);
                if (r.slots[i].fd >= 0)
                    close(r.slots[i].fd);
            }
    if (r.ep >= 0)
        close(r.ep);
    SSL_CTX_free(r.ctx);
    free(r.slots);
    free(r.total_ms);
    free(r.connect_ms);
    free(r.handshake_ms);
    return rc;
}
