/*
 * test_multi.c - tc_multi, many checks on one thread, against real
 * servers on loopback: a listener that never answers (its backlog holds
 * the connections), a plain-HTTP responder thread, a closed port, a
 * scripted TLS 1.0-only responder thread, and an `openssl s_server` child
 * serving a minted chain.  Every server started
 * here is stopped here.
 */
#include <errno.h>
#include <fcntl.h>
#include <dirent.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include "tlscheck.h"
#include "tc_mint.h"
#include "tc_test.h"

/* Seconds a batch may take past its bound.  Under valgrind (make valgrind
 * sets TC_TEST_TIME_SCALE) every handshake step runs ~50x slower, so the
 * bound stretches with it; it still catches a batch that waits N x timeout. */
static double margin(void)
{
    const char *s = getenv("TC_TEST_TIME_SCALE");
    double scale = s ? atof(s) : 1.0;
    return 1.5 * (scale > 1.0 ? scale : 1.0);
}
#define MARGIN margin()

static char tmpdir[64];

static void die(const char *what)
{
    fprintf(stderr, "test_multi: %s: %s\n", what, strerror(errno));
    exit(2);
}

static double now_s(void)
{
    return (double)tc_now_ns() / 1e9;
}

static int count_fds(void)
{
    int n = 0;
    DIR *d = opendir("/proc/self/fd");
    if (d == NULL)
        return -1;
    while (readdir(d) != NULL)
        n++;
    closedir(d);
    return n;
}

/* ------------------------------------------------------------------ */
/* Servers                                                             */
/* ------------------------------------------------------------------ */

static int listen_v4(int *port, int backlog)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in a = { .sin_family = AF_INET };
    socklen_t len = sizeof(a);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd < 0 || bind(fd, (struct sockaddr *)&a, len) != 0 || listen(fd, backlog) != 0 ||
        getsockname(fd, (struct sockaddr *)&a, &len) != 0)
        die("listen");
    *port = ntohs(a.sin_port);
    return fd;
}

/* Never accepts: the kernel completes TCP handshakes into the backlog and
 * the ClientHello is never answered. */
typedef struct silent { int fd, port; } silent;

static void silent_start(silent *s, int backlog)
{
    s->fd = listen_v4(&s->port, backlog);
}

static void silent_stop(silent *s)
{
    close(s->fd);
}

/* Answers every connection with an HTTP error: not TLS. */
typedef struct http { int fd, port; atomic_int stop; pthread_t th; } http;

static void *http_main(void *arg)
{
    http *h = arg;
    while (!atomic_load(&h->stop)) {
        struct pollfd p = { .fd = h->fd, .events = POLLIN };
        if (poll(&p, 1, 50) <= 0)
            continue;
        int c = accept4(h->fd, NULL, NULL, SOCK_CLOEXEC);
        if (c < 0)
            continue;
        static const char resp[] = "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n";
        (void)!send(c, resp, sizeof(resp) - 1, MSG_NOSIGNAL);
        close(c);
    }
    return NULL;
}

static void http_start(http *h)
{
    memset(h, 0, sizeof(*h));
    h->fd = listen_v4(&h->port, 128);
    if (pthread_create(&h->th, NULL, http_main, h) != 0)
        die("pthread_create");
}

static void http_stop(http *h)
{
    atomic_store(&h->stop, 1);
    pthread_join(h->th, NULL);
    close(h->fd);
}

static int closed_port(void)
{
    int port;
    int fd = listen_v4(&port, 1);
    close(fd);
    return port;
}

/* A scripted TLS 1.0-only server, for checks run one after another:
 * connections alternate between a check's main handshake (answered with a
 * protocol_version alert, as a TLS 1.0-only server does) and its
 * diagnostic probe (answered, after a pause that leaves the client
 * waiting in epoll, with a TLS 1.0 ServerHello; the probe needs no more).
 * The probe's socket gets the number of the main connection's, closed
 * just before: the driver must watch it anyway (issue 13 item 6). */
typedef struct old_tls { int fd, port; atomic_int stop; pthread_t th; } old_tls;

#define OLD_TLS_PAUSE_MS 100

/* Reads one TLS record (header and body), each wait bounded: 1 read, 0 not. */
static int read_record(int c)
{
    unsigned char buf[16384 + 5];
    size_t have = 0, want = 5;
    while (have < want) {
        struct pollfd p = { .fd = c, .events = POLLIN };
        if (poll(&p, 1, 10000) <= 0)
            return 0;
        ssize_t n = recv(c, buf + have, want - have, 0);
        if (n <= 0)
            return 0;
        have += (size_t)n;
        if (have == 5 && want == 5)
            want = 5 + ((size_t)buf[3] << 8 | buf[4]);
        if (want > sizeof(buf))
            return 0;
    }
    return 1;
}

/* Waits (bounded) for the client to close, then closes. */
static void linger_close(int c)
{
    unsigned char buf[4096];
    for (int i = 0; i < 40; i++) {
        struct pollfd p = { .fd = c, .events = POLLIN };
        if (poll(&p, 1, 50) > 0 && recv(c, buf, sizeof(buf), 0) <= 0)
            break;
    }
    close(c);
}

static void *old_tls_main(void *arg)
{
    static const unsigned char alert[] = { 0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 70 };
    unsigned char hello[5 + 4 + 38] = {
        0x16, 0x03, 0x01, 0x00, 0x2a,      /* handshake record, TLS 1.0, 42 bytes */
        0x02, 0x00, 0x00, 0x26,            /* ServerHello, 38 bytes */
        0x03, 0x01,                        /* TLS 1.0 */
    };
    /* random: 32 bytes (no downgrade sentinel), then an empty session id,
     * TLS_RSA_WITH_AES_128_CBC_SHA, no compression, no extensions */
    memset(hello + 11, 0x5a, 32);
    hello[43] = 0x00;
    hello[44] = 0x00;
    hello[45] = 0x2f;
    hello[46] = 0x00;
    old_tls *o = arg;
    unsigned long n = 0;
    while (!atomic_load(&o->stop)) {
        struct pollfd p = { .fd = o->fd, .events = POLLIN };
        if (poll(&p, 1, 50) <= 0)
            continue;
        int c = accept4(o->fd, NULL, NULL, SOCK_CLOEXEC);
        if (c < 0)
            continue;
        if (read_record(c)) {
            if (n++ % 2 == 0) {
                (void)!send(c, alert, sizeof(alert), MSG_NOSIGNAL);
            } else {
                struct timespec pause = { 0, OLD_TLS_PAUSE_MS * 1000000L };
                nanosleep(&pause, NULL);
                (void)!send(c, hello, sizeof(hello), MSG_NOSIGNAL);
            }
        }
        linger_close(c);
    }
    return NULL;
}

static void old_tls_start(old_tls *o)
{
    memset(o, 0, sizeof(*o));
    o->fd = listen_v4(&o->port, 16);
    if (pthread_create(&o->th, NULL, old_tls_main, o) != 0)
        die("pthread_create");
}

static void old_tls_stop(old_tls *o)
{
    atomic_store(&o->stop, 1);
    pthread_join(o->th, NULL);
    close(o->fd);
}

typedef struct s_server { pid_t pid; int port; int stdin_w; } s_server;

static int s_server_start(s_server *s, const char *cert, const char *key)
{
    const char *argv[] = { "openssl", "s_server", "-accept", "127.0.0.1:0", "-naccept", "1000",
                           "-cert", cert, "-key", key, NULL };
    int in[2];
    char out_path[128];
    snprintf(out_path, sizeof(out_path), "%s/s_server.out", tmpdir);
    if (pipe(in) != 0)
        die("pipe");
    s->port = 0;
    s->pid = fork();
    if (s->pid < 0)
        die("fork");
    if (s->pid == 0) {
        int out = open(out_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        int devnull = open("/dev/null", O_WRONLY);
        dup2(in[0], 0);
        dup2(out, 1);
        dup2(devnull, 2);
        /* execvp takes char *const[] but does not write the strings. */
        char *exec_argv[sizeof argv / sizeof argv[0]];
        memcpy(exec_argv, argv, sizeof argv);
        execvp("openssl", exec_argv);
        _exit(127);
    }
    close(in[0]);
    s->stdin_w = in[1];    /* kept open: s_server must not see EOF on stdin */
    for (int i = 0; i < 500 && s->port == 0; i++) {
        char line[256];
        FILE *f = fopen(out_path, "r");
        while (f && fgets(line, sizeof(line), f))
            if (strncmp(line, "ACCEPT", 6) == 0 && strrchr(line, ':'))
                s->port = atoi(strrchr(line, ':') + 1);
        if (f)
            fclose(f);
        if (s->port == 0)
            usleep(10000);
    }
    unlink(out_path);
    return s->port > 0;
}

static void s_server_stop(s_server *s)
{
    if (s->pid > 0) {
        kill(s->pid, SIGTERM);
        waitpid(s->pid, NULL, 0);
    }
    close(s->stdin_w);
    s->pid = 0;
}

/* ------------------------------------------------------------------ */
/* Helpers                                                             */
/* ------------------------------------------------------------------ */

static void add(tc_multi *m, tc_client *cl, const char *host, int port, double timeout,
                uint64_t tag)
{
    tc_check_params p = { .host = host, .port = port, .timeout = timeout };
    tc_error err;
    tc_verify_params_init(&p.verify);
    if (tc_multi_add(m, cl, &p, tag, &err) != TC_OK) {
        fprintf(stderr, "tc_multi_add: %s\n", err.msg);
        tc_test_fail++;
    }
}

/* Runs m until `expect` results came out; kinds[tag] receives the first
 * problem's kind (TC_KIND__COUNT: none; -1: the check could not run). */
static int drain(tc_multi *m, size_t expect, int *kinds, size_t n_kinds, double limit_s)
{
    size_t got = 0;
    double t0 = now_s();
    while (got < expect && now_s() - t0 < limit_s) {
        size_t ready;
        tc_error err;
        if (tc_multi_run(m, 100 * 1000000LL, &ready, &err) != TC_OK) {
            fprintf(stderr, "tc_multi_run: %s\n", err.msg);
            return -1;
        }
        uint64_t tag;
        tc_report *r;
        tc_error ce;
        while (tc_multi_pop(m, &tag, &r, &ce)) {
            got++;
            if (tag < n_kinds) {
                CHECK(kinds[tag] == -2);     /* each tag exactly once */
                kinds[tag] = r == NULL ? -1 : r->n_problems ? (int)r->problems[0].kind
                                                             : TC_KIND__COUNT;
            }
            tc_report_free(r);
        }
    }
    return (int)got;
}

/* ------------------------------------------------------------------ */
/* Tests                                                               */
/* ------------------------------------------------------------------ */

static void test_arguments(void)
{
    tc_multi *m = NULL;
    tc_error err;
    CHECK(tc_multi_new(0, &m, &err) == TC_FAIL && err.code == TC_E_INVALID && m == NULL);
    CHECK(tc_multi_new(4, &m, &err) == TC_OK && m != NULL);
    /* Nothing queued: returns at once with nothing ready. */
    size_t ready = 99;
    double t0 = now_s();
    CHECK(tc_multi_run(m, 2000 * 1000000LL, &ready, &err) == TC_OK && ready == 0);
    CHECK(now_s() - t0 < 0.5);
    tc_check_params p = { .host = NULL };
    CHECK(tc_multi_add(m, NULL, &p, 1, &err) == TC_FAIL && err.code == TC_E_INVALID);
    tc_multi_free(m);
    tc_multi_free(NULL);
}

/* The soft descriptor limit is raised to the hard one when the
 * concurrency needs it; beyond the hard limit the error names it.  In a
 * child: lowering the hard limit cannot be undone. */
static void test_fd_limit(void)
{
    pid_t pid = fork();
    if (pid == 0) {
        struct rlimit rl = { .rlim_cur = 100, .rlim_max = 600 };
        tc_multi *m = NULL;
        tc_error err;
        int rc = 0;
        if (setrlimit(RLIMIT_NOFILE, &rl) != 0)
            _exit(10);      /* valgrind keeps the limit to itself */
        if (tc_multi_new(300, &m, &err) != TC_OK)
            rc |= 1;
        tc_multi_free(m);
        m = NULL;
        if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur != 600)
            rc |= 2;
        if (tc_multi_new(5000, &m, &err) != TC_FAIL || err.code != TC_E_IO ||
            err.sys_errno != EMFILE || strstr(err.msg, "at most 600") == NULL)
            rc |= 4;
        _exit(rc);
    }
    int status = -1;
    CHECK(pid > 0 && waitpid(pid, &status, 0) == pid);
    if (WIFEXITED(status) && WEXITSTATUS(status) == 10) {
        fprintf(stderr, "test_multi: setrlimit refused (valgrind?); fd limit case skipped\n");
        return;
    }
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        fprintf(stderr, "fd limit child: status %d\n", status);
}

/* A mixed batch with at most K in flight: every tag comes back once with
 * the kind its server produces, silent peers time out together (the
 * batch takes about one timeout, not one per silent peer), and no more
 * than K machines ever ran at once. */
static void test_mixed_batch(tc_client *cl)
{
    enum { N = 60, K = 16 };
    silent quiet;
    http web;
    int refused = closed_port();
    silent_start(&quiet, 64);
    http_start(&web);
    tc_multi *m = NULL;
    tc_error err;
    int kinds[N];
    CHECK(tc_multi_new(K, &m, &err) == TC_OK);
    for (int i = 0; i < N; i++) {
        kinds[i] = -2;
        int port = i % 4 == 0 ? quiet.port : i % 4 == 1 ? refused : web.port;
        add(m, cl, "127.0.0.1", port, 1.0, (uint64_t)i);
    }
    /* A check that cannot start: no such port. */
    tc_check_params bad = { .host = "127.0.0.1", .port = 0, .timeout = 1.0 };
    tc_verify_params_init(&bad.verify);
    CHECK(tc_multi_add(m, cl, &bad, 1000, &err) == TC_OK);
    double t0 = now_s();
    int got = drain(m, N + 1, kinds, N, 20);
    double dt = now_s() - t0;
    CHECK(got == N + 1);
    for (int i = 0; i < N; i++) {
        tc_kind want = i % 4 == 0 ? TC_KIND_HANDSHAKE_TIMEOUT
                     : i % 4 == 1 ? TC_KIND_CONNECTION_REFUSED : TC_KIND_NOT_TLS;
        CHECK(kinds[i] == (int)want);
    }
    /* 15 silent peers, 16 slots: one round of timeouts, plus the rest. */
    CHECK(dt < 1.0 + MARGIN);
    tc_multi_stats st;
    tc_multi_get_stats(m, &st);
    CHECK(st.max_in_flight <= K && st.max_in_flight >= K / 2);
    CHECK(st.in_flight == 0 && st.queued == 0 && st.ready == 0);
    CHECK(st.started == N && st.completed == N + 1);
    tc_multi_free(m);
    http_stop(&web);
    silent_stop(&quiet);
}

/* The error of a check that could not start comes back with its tag. */
static void test_error_result(tc_client *cl)
{
    tc_multi *m = NULL;
    tc_error err;
    CHECK(tc_multi_new(2, &m, &err) == TC_OK);
    tc_check_params bad = { .host = "bad host", .port = 443, .timeout = 1.0 };
    tc_verify_params_init(&bad.verify);
    CHECK(tc_multi_add(m, cl, &bad, 7, &err) == TC_OK);
    size_t ready = 0;
    CHECK(tc_multi_run(m, 1000 * 1000000LL, &ready, &err) == TC_OK && ready == 1);
    uint64_t tag = 0;
    tc_report *r = (tc_report *)1;
    tc_error ce;
    tc_error_clear(&ce);
    CHECK(tc_multi_pop(m, &tag, &r, &ce) == 1);
    CHECK(tag == 7 && r == NULL && ce.code == TC_E_INVALID && strstr(ce.msg, "0x20") != NULL);
    CHECK(tc_multi_pop(m, &tag, &r, &ce) == 0);
    tc_multi_free(m);
}

/* Hundreds in flight on one thread: 400 checks of a silent listener with
 * 400 slots time out together. */
static void test_hundreds(tc_client *cl)
{
    enum { N = 400 };
    silent quiet;
    silent_start(&quiet, 1024);
    tc_multi *m = NULL;
    tc_error err;
    static int kinds[N];
    CHECK(tc_multi_new(N, &m, &err) == TC_OK);
    for (int i = 0; i < N; i++) {
        kinds[i] = -2;
        add(m, cl, "127.0.0.1", quiet.port, 1.0, (uint64_t)i);
    }
    double t0 = now_s();
    CHECK(drain(m, N, kinds, N, 20) == N);
    CHECK(now_s() - t0 < 1.0 + MARGIN);
    int timeouts = 0;
    for (int i = 0; i < N; i++)
        timeouts += kinds[i] == TC_KIND_HANDSHAKE_TIMEOUT;
    CHECK(timeouts == N);
    tc_multi_stats st;
    tc_multi_get_stats(m, &st);
    CHECK(st.max_in_flight == N);
    tc_multi_free(m);
    silent_stop(&quiet);
}

/* Cancelling queued and running checks; freeing a driver with checks in
 * flight closes every socket. */
static void test_cancel_and_free(tc_client *cl)
{
    silent quiet;
    silent_start(&quiet, 64);
    int fds0 = count_fds();
    tc_multi *m = NULL;
    tc_error err;
    CHECK(tc_multi_new(4, &m, &err) == TC_OK);
    for (int i = 0; i < 8; i++)
        add(m, cl, "127.0.0.1", quiet.port, 30.0, (uint64_t)i);
    size_t ready = 0;
    CHECK(tc_multi_run(m, 200 * 1000000LL, &ready, &err) == TC_OK && ready == 0);
    tc_multi_stats st;
    tc_multi_get_stats(m, &st);
    CHECK(st.in_flight == 4 && st.queued == 4);
    for (int i = 0; i < 8; i++)
        if (i != 2 && i != 6)
            tc_multi_cancel(m, (uint64_t)i);
    tc_multi_cancel(m, 12345);    /* unknown: ignored */
    CHECK(tc_multi_run(m, 200 * 1000000LL, &ready, &err) == TC_OK && ready == 0);
    tc_multi_get_stats(m, &st);
    CHECK(st.in_flight == 2 && st.queued == 0);
    CHECK(count_fds() == fds0 + 2 + 2);   /* epoll + eventfd, two sockets */
    tc_multi_free(m);
    CHECK(count_fds() == fds0);
    silent_stop(&quiet);
}

typedef struct waker { tc_multi *m; tc_client *cl; int port; } waker;

static void *wake_later(void *arg)
{
    waker *w = arg;
    usleep(100 * 1000);
    add(w->m, w->cl, "127.0.0.1", w->port, 0.3, 99);     /* added while running */
    usleep(100 * 1000);
    tc_multi_wake(w->m);
    return NULL;
}

/* Another thread adds a check while tc_multi_run waits, and wakes it. */
static void test_other_thread(tc_client *cl)
{
    silent quiet;
    silent_start(&quiet, 64);
    tc_multi *m = NULL;
    tc_error err;
    CHECK(tc_multi_new(4, &m, &err) == TC_OK);
    add(m, cl, "127.0.0.1", quiet.port, 30.0, 1);
    waker w = { m, cl, quiet.port };
    pthread_t th;
    if (pthread_create(&th, NULL, wake_later, &w) != 0)
        die("pthread_create");
    size_t ready = 0;
    double t0 = now_s();
    CHECK(tc_multi_run(m, 10 * 1000000000LL, &ready, &err) == TC_OK && ready == 0);
    double dt = now_s() - t0;
    CHECK(dt >= 0.15 && dt < 1.0);       /* woken, not the 10 s */
    pthread_join(th, NULL);
    tc_multi_stats st;
    tc_multi_get_stats(m, &st);
    CHECK(st.in_flight == 2);
    /* The added one (0.3 s timeout) finishes first. */
    CHECK(tc_multi_run(m, 2 * 1000000000LL, &ready, &err) == TC_OK && ready == 1);
    uint64_t tag = 0;
    tc_report *r = NULL;
    CHECK(tc_multi_pop(m, &tag, &r, NULL) == 1 && tag == 99 && r != NULL);
    tc_report_free(r);
    tc_multi_free(m);
    silent_stop(&quiet);
}

/* Full TLS checks through the driver against openssl s_server: every
 * report is the trusted chain's, with the negative twin (another root)
 * failing the same way every time. */
static void test_tls(tc_client *cl, tc_client *other, const char *cert, const char *key)
{
    s_server srv;
    if (!s_server_start(&srv, cert, key)) {
        fprintf(stderr, "test_multi: openssl s_server did not start; TLS cases skipped\n");
        s_server_stop(&srv);
        return;
    }
    enum { N = 24 };
    tc_multi *m = NULL;
    tc_error err;
    CHECK(tc_multi_new(4, &m, &err) == TC_OK);
    for (int i = 0; i < N; i++) {
        tc_check_params p = { .host = "127.0.0.1", .port = srv.port, .server_name = "localhost",
                              .timeout = 10.0 };
        tc_verify_params_init(&p.verify);
        CHECK(tc_multi_add(m, i % 2 ? other : cl, &p, (uint64_t)i, &err) == TC_OK);
    }
    int kinds[N];
    for (int i = 0; i < N; i++)
        kinds[i] = -2;
    CHECK(drain(m, N, kinds, N, 30) == N);
    for (int i = 0; i < N; i++) {
        if (i % 2 == 0)
            CHECK(kinds[i] == TC_KIND__COUNT);          /* no problem at all */
        else
            CHECK(kinds[i] != TC_KIND__COUNT && kinds[i] >= 0);
    }
    tc_multi_free(m);
    s_server_stop(&srv);
}

/* The probe after a protocol_version alert is watched even though its
 * socket has the main connection's number and waits for the same event:
 * each check ends with the probe's answer, about OLD_TLS_PAUSE_MS after it
 * starts, not at its deadline with the alert's vaguer message. */
static void test_probe_reuses_fd(tc_client *cl)
{
    double scale = MARGIN / 1.5;     /* 1, or valgrind's slowdown */
    old_tls srv;
    old_tls_start(&srv);
    tc_multi *m = NULL;
    tc_error err;
    CHECK(tc_multi_new(4, &m, &err) == TC_OK);
    for (int i = 0; i < 5; i++) {
        tc_check_params p = { .host = "127.0.0.1", .port = srv.port, .timeout = 3.0 * scale };
        tc_verify_params_init(&p.verify);
        CHECK(tc_multi_add(m, cl, &p, (uint64_t)i, &err) == TC_OK);
        double t0 = now_s();
        tc_report *r = NULL;
        uint64_t tag = 0;
        tc_error ce;
        while (now_s() - t0 < 3.0 * scale + MARGIN) {
            size_t ready;
            if (tc_multi_run(m, 100 * 1000000LL, &ready, &err) != TC_OK) {
                fprintf(stderr, "tc_multi_run: %s\n", err.msg);
                break;
            }
            if (tc_multi_pop(m, &tag, &r, &ce))
                break;
        }
        double took = now_s() - t0;
        CHECK(r != NULL && tag == (uint64_t)i);
        if (r == NULL)
            continue;
        CHECK(r->n_problems == 1 && r->problems[0].kind == TC_KIND_PROTOCOL_MISMATCH);
        CHECK(r->n_problems >= 1 && r->problems[0].message != NULL &&
              strstr(r->problems[0].message, "the server only speaks TLS 1.0") != NULL);
        CHECK(took < 1.0 * scale);
        if (took >= 1.0 * scale || r->n_problems < 1)
            fprintf(stderr, "test_probe_reuses_fd: run %d took %.2f s: %s\n", i + 1, took,
                    r->n_problems ? r->problems[0].message : "(no problem)");
        tc_report_free(r);
    }
    tc_multi_free(m);
    old_tls_stop(&srv);
}

int main(void)
{
    tc_error err;
    signal(SIGPIPE, SIG_IGN);
    snprintf(tmpdir, sizeof(tmpdir), "/tmp/test_multi.XXXXXX");
    if (mkdtemp(tmpdir) == NULL)
        die("mkdtemp");

    tc_mint_params mp;
    char *root_cert = NULL, *root_key = NULL, *leaf_cert = NULL, *leaf_key = NULL;
    char *other_cert = NULL, *other_key = NULL;
    static const char *const dns[] = { "localhost" };
    tc_mint_params_init(&mp);
    mp.common_name = "Multi Test Root";
    mp.is_ca = 1;
    if (tc_mint(&mp, &root_cert, &root_key, &err) != TC_OK)
        return 2;
    mp.common_name = "Other Root";
    if (tc_mint(&mp, &other_cert, &other_key, &err) != TC_OK)
        return 2;
    tc_mint_params_init(&mp);
    mp.common_name = "localhost";
    mp.dns_names = dns;
    mp.n_dns = 1;
    mp.issuer_cert_pem = root_cert;
    mp.issuer_cert_len = strlen(root_cert);
    mp.issuer_key_pem = root_key;
    mp.issuer_key_len = strlen(root_key);
    if (tc_mint(&mp, &leaf_cert, &leaf_key, &err) != TC_OK)
        return 2;
    char cert_path[128], key_path[128];
    snprintf(cert_path, sizeof(cert_path), "%s/leaf.pem", tmpdir);
    snprintf(key_path, sizeof(key_path), "%s/leaf.key", tmpdir);
    FILE *f = fopen(cert_path, "w");
    if (f == NULL)
        die("fopen");
    fputs(leaf_cert, f);
    fclose(f);
    if ((f = fopen(key_path, "w")) == NULL)
        die("fopen");
    fputs(leaf_key, f);
    fclose(f);

    STACK_OF(X509) *anchors = NULL, *others = NULL;
    tc_trust *trust = NULL, *other_trust = NULL;
    tc_client *cl = NULL, *other = NULL;
    if (tc_certs_parse((const unsigned char *)root_cert, strlen(root_cert), "root", &anchors, &err) != TC_OK ||
        tc_certs_parse((const unsigned char *)other_cert, strlen(other_cert), "other", &others, &err) != TC_OK ||
        tc_trust_new_certs(anchors, &trust, &err) != TC_OK ||
        tc_trust_new_certs(others, &other_trust, &err) != TC_OK) {
        fprintf(stderr, "trust: %s\n", err.msg);
        return 2;
    }
    tc_client_params cp = { .trust = trust };
    CHECK(tc_client_new(&cp, &cl, &err) == TC_OK);
    cp.trust = other_trust;
    CHECK(tc_client_new(&cp, &other, &err) == TC_OK);

    test_arguments();
    test_fd_limit();
    test_error_result(cl);
    test_mixed_batch(cl);
    test_hundreds(cl);
    test_cancel_and_free(cl);
    test_other_thread(cl);
    test_probe_reuses_fd(cl);
    test_tls(cl, other, cert_path, key_path);

    tc_client_free(cl);
    tc_client_free(other);
    tc_trust_free(trust);
    tc_trust_free(other_trust);
    sk_X509_pop_free(anchors, X509_free);
    sk_X509_pop_free(others, X509_free);
    free(root_cert); free(root_key); free(other_cert); free(other_key);
    free(leaf_cert); free(leaf_key);
    unlink(cert_path);
    unlink(key_path);
    rmdir(tmpdir);
    return TC_TEST_DONE();
}
