/*
 * test_live.c - the live check against real servers on loopback: raw
 * socket servers in threads of this program (HTTP, SSH, SMTP banners,
 * silent, reset, close after ClientHello) and `openssl s_server` children
 * for TLS (good chain, TLS 1.0 only, no shared cipher, client certificate
 * required).  Every server started here is stopped here.
 *
 * Each failure kind has its test, and each kind a real server produces;
 * every check must return within its timeout plus a small margin.
 */
#include <errno.h>
#include <dirent.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include "tlscheck.h"
#include "tc_mint.h"
#include "../core/conn/live_internal.h"
#include "../core/explain/text.h"
#include "tc_test.h"

#define MARGIN 1.5   /* seconds a check may take past its timeout (valgrind is slow) */

static char tmpdir[64];
static int ipv6_ok;

static void die(const char *what)
{
    fprintf(stderr, "test_live: %s: %s\n", what, strerror(errno));
    exit(2);
}

static double now_s(void)
{
    return (double)tc_now_ns() / 1e9;
}

/* ------------------------------------------------------------------ */
/* Files                                                               */
/* ------------------------------------------------------------------ */

static char *path_of(const char *name)
{
    static char paths[16][128];
    static int next;
    char *p = paths[next++ % 16];
    snprintf(p, 128, "%s/%s", tmpdir, name);
    return p;
}

static void write_file(const char *name, const char *a, const char *b)
{
    FILE *f = fopen(path_of(name), "w");
    if (f == NULL)
        die("fopen");
    fputs(a, f);
    if (b)
        fputs(b, f);
    fclose(f);
}

typedef struct minted { char *cert, *key; } minted;

static minted mint(const char *cn, int is_ca, const minted *issuer, int client)
{
    tc_mint_params p;
    tc_error err;
    minted m = {0};
    static const char *const dns[] = { "localhost" };
    static const char *const ips[] = { "127.0.0.1", "::1" };
    static const char *const client_eku[] = { "clientAuth" };
    tc_mint_params_init(&p);
    p.common_name = cn;
    p.is_ca = is_ca;
    if (!is_ca && !client) {
        p.dns_names = dns;
        p.n_dns = 1;
        p.ip_addresses = ips;
        p.n_ip = 2;
    }
    if (client) {
        p.ekus = client_eku;
        p.n_ekus = 1;
    }
    if (issuer) {
        p.issuer_cert_pem = issuer->cert;
        p.issuer_cert_len = strlen(issuer->cert);
        p.issuer_key_pem = issuer->key;
        p.issuer_key_len = strlen(issuer->key);
    }
    if (tc_mint(&p, &m.cert, &m.key, &err) != TC_OK) {
        fprintf(stderr, "mint: %s\n", err.msg);
        exit(2);
    }
    return m;
}

/* ------------------------------------------------------------------ */
/* Raw socket servers (threads)                                        */
/* ------------------------------------------------------------------ */

enum raw_mode { RAW_HTTP, RAW_SSH, RAW_SMTP, RAW_SILENT, RAW_RESET, RAW_CLOSE_AFTER_HELLO };

typedef struct raw_server {
    int lfd, port, mode;
    atomic_int stop;
    pthread_t th;
    int held[64];
    int n_held;
} raw_server;

static int listen_on(int family, int *port, int backlog)
{
    int fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int one = 1;
    struct sockaddr_storage ss = {0};
    socklen_t len;
    if (fd < 0)
        return -1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (family == AF_INET) {
        struct sockaddr_in *a = (struct sockaddr_in *)&ss;
        a->sin_family = AF_INET;
        a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        len = sizeof(*a);
    } else {
        struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;
        a->sin6_family = AF_INET6;
        a->sin6_addr = in6addr_loopback;
        len = sizeof(*a);
    }
    if (bind(fd, (struct sockaddr *)&ss, len) != 0 || listen(fd, backlog) != 0 ||
        getsockname(fd, (struct sockaddr *)&ss, &len) != 0) {
        close(fd);
        return -1;
    }
    *port = ntohs(family == AF_INET ? ((struct sockaddr_in *)&ss)->sin_port
                                    : ((struct sockaddr_in6 *)&ss)->sin6_port);
    return fd;
}

static void send_all(int fd, const char *s)
{
    (void)!send(fd, s, strlen(s), MSG_NOSIGNAL);
}

static void read_some(int fd)
{
    char buf[4096];
    struct pollfd p = { .fd = fd, .events = POLLIN };
    if (poll(&p, 1, 2000) > 0)
        (void)!recv(fd, buf, sizeof(buf), 0);
}

static void *raw_main(void *arg)
{
    raw_server *s = arg;
    while (!atomic_load(&s->stop)) {
        struct pollfd p = { .fd = s->lfd, .events = POLLIN };
        if (poll(&p, 1, 50) <= 0)
            continue;
        int fd = accept4(s->lfd, NULL, NULL, SOCK_CLOEXEC);
        if (fd < 0)
            continue;
        switch (s->mode) {
        case RAW_HTTP:
            read_some(fd);
            send_all(fd, "HTTP/1.1 400 Bad Request\r\nServer: nginx\r\nContent-Length: 0\r\n"
                         "Connection: close\r\n\r\n");
            break;
        case RAW_SSH:
            send_all(fd, "SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n");
            read_some(fd);
            send_all(fd, "Invalid SSH identification string.\r\n");
            break;
        case RAW_SMTP:
            send_all(fd, "220 mail.example.test ESMTP Postfix\r\n");
            read_some(fd);
            send_all(fd, "500 5.5.2 Error: bad syntax\r\n");
            break;
        case RAW_SILENT:
            if (s->n_held < 64) {
                s->held[s->n_held++] = fd;
                fd = -1;
            }
            break;
        case RAW_RESET: {
            struct linger lg = { .l_onoff = 1, .l_linger = 0 };
            read_some(fd);
            setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
            break;
        }
        case RAW_CLOSE_AFTER_HELLO:
            read_some(fd);
            break;
        }
        if (fd >= 0)
            close(fd);
    }
    return NULL;
}

static void raw_start(raw_server *s, int mode)
{
    memset(s, 0, sizeof(*s));
    s->mode = mode;
    s->lfd = listen_on(AF_INET, &s->port, 16);
    if (s->lfd < 0)
        die("listen");
    if (pthread_create(&s->th, NULL, raw_main, s) != 0)
        die("pthread_create");
}

static void raw_stop(raw_server *s)
{
    atomic_store(&s->stop, 1);
    pthread_join(s->th, NULL);
    for (int i = 0; i < s->n_held; i++)
        close(s->held[i]);
    close(s->lfd);
}

/* ------------------------------------------------------------------ */
/* openssl s_server children                                           */
/* ------------------------------------------------------------------ */

typedef struct s_server { pid_t pid; int port; int stdin_w; } s_server;

/* Starts `openssl s_server -accept 127.0.0.1:0 ARGS...` and reads the
 * port it bound from its "ACCEPT host:port" line. */
static int s_server_start(s_server *s, const char *const *args)
{
    const char *argv[40] = { "openssl", "s_server", "-accept", "127.0.0.1:0", "-naccept", "1000" };
    int argc = 6, in[2];
    char out_path[128];
    snprintf(out_path, sizeof(out_path), "%s/s_server.%d.out", tmpdir, rand());
    for (int i = 0; args[i] && argc < 38; i++)
        argv[argc++] = args[i];
    argv[argc] = NULL;
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
/* Running checks                                                      */
/* ------------------------------------------------------------------ */

static tc_report *run(tc_client *cl, const char *host, int port, const char *sni,
                      double timeout, double *elapsed)
{
    tc_check_params p = { .host = host, .port = port, .server_name = sni, .timeout = timeout };
    tc_report *r = NULL;
    tc_error err;
    tc_verify_params_init(&p.verify);
    double t0 = now_s();
    tc_error_clear(&err);
    if (tc_check_run(cl, &p, &r, &err) != TC_OK) {
        fprintf(stderr, "tc_check_run(%s:%d) failed: %s\n", host, port, err.msg);
        r = NULL;
    }
    double dt = now_s() - t0;
    if (elapsed)
        *elapsed = dt;
    CHECK(dt <= timeout + MARGIN);
    return r;
}

static const tc_problem *find(const tc_report *r, tc_kind k)
{
    for (size_t i = 0; r && i < r->n_problems; i++)
        if (r->problems[i].kind == k)
            return &r->problems[i];
    return NULL;
}

static void show(const char *name, const tc_report *r)
{
    if (getenv("TEST_LIVE_VERBOSE") == NULL || r == NULL)
        return;
    printf("--- %s: target=%s address=%s protocol=%s cipher=%s group=%s alpn=%s "
           "dns=%.2f connect=%.2f handshake=%.2f total=%.2f ms\n",
           name, r->target, r->address ? r->address : "-", r->protocol ? r->protocol : "-",
           r->cipher ? r->cipher : "-", r->group ? r->group : "-", r->alpn ? r->alpn : "-",
           r->timings.dns_ms, r->timings.connect_ms, r->timings.handshake_ms, r->timings.total_ms);
    for (size_t i = 0; i < r->n_problems; i++)
        printf("    %s [%s]: %s\n      fix: %s\n      see: %s\n", tc_kind_get(r->problems[i].kind)->name,
               r->problems[i].openssl_reason ? r->problems[i].openssl_reason : "",
               r->problems[i].message, r->problems[i].fix, r->problems[i].inspect_command);
}

/* Expects exactly one problem of `kind` whose message contains `needle`. */
static void expect_kind(const char *name, tc_report *r, tc_kind kind, const char *needle)
{
    const tc_problem *p = find(r, kind);
    show(name, r);
    CHECK(r != NULL);
    if (r == NULL)
        return;
    if (p == NULL) {
        fprintf(stderr, "%s: expected %s, got:\n", name, tc_kind_get(kind)->name);
        for (size_t i = 0; i < r->n_problems; i++)
            fprintf(stderr, "   %s: %s\n", tc_kind_get(r->problems[i].kind)->name, r->problems[i].message);
    }
    CHECK(p != NULL);
    if (p != NULL && needle != NULL && strstr(p->message, needle) == NULL) {
        fprintf(stderr, "%s: message lacks '%s': %s\n", name, needle, p->message);
        CHECK(0);
    }
    CHECK(!tc_report_ok(r));
    CHECK(r->timings.total_ms >= 0);
}

static int free_port(void)
{
    int port = 0;
    int fd = listen_on(AF_INET, &port, 1);
    if (fd < 0)
        die("listen");
    close(fd);
    return port;
}

/* ------------------------------------------------------------------ */
/* Tests                                                               */
/* ------------------------------------------------------------------ */

static void test_pure(void)
{
    char out[64];
    tc_escape(out, sizeof(out), (const unsigned char *)"HTTP/1.1 400\r\n\x01\xff\\", 17, SIZE_MAX);
    CHECK_STR(out, "HTTP/1.1 400\\x0d\\x0a\\x01\\xff\\x5c");
    tc_escape(out, 8, (const unsigned char *)"abcdefghijkl", 12, SIZE_MAX);
    CHECK_STR(out, "abcd...");
    CHECK(tc_errno_classify(ECONNREFUSED)->kind == TC_KIND_CONNECTION_REFUSED);
    CHECK(tc_errno_classify(ETIMEDOUT)->kind == TC_KIND_CONNECTION_TIMEOUT);
    CHECK(tc_errno_classify(ECONNRESET)->kind == TC_KIND_CONNECTION_RESET);
    CHECK(tc_errno_classify(12345)->name == NULL);
    CHECK_STR(tc_tls_version_name(TLS1_VERSION), "TLS 1.0");
    CHECK(tc_tls_version_name(0x9999) == NULL);

    /* The banner table, driven without sockets. */
    static const struct { const char *bytes; const char *want; } rows[] = {
        { "HTTP/1.1 400 Bad Request\r\nServer: x\r\n", "plain HTTP: 'HTTP/1.1 400 Bad Request'" },
        { "SSH-2.0-OpenSSH_9.2\r\n", "SSH server (its banner: 'SSH-2.0-OpenSSH_9.2')" },
        { "220 mx.example ESMTP\r\n", "SMTP server" },
        { "220 ProFTPD FTP server ready\r\n", "FTP server" },
        { "* OK IMAP4rev1 ready\r\n", "IMAP server" },
        { "+OK POP3 ready\r\n", "POP3 server" },
        { "<!DOCTYPE HTML>\n<html>", "plain HTTP: a page without a status line" },
        { "<?xml version='1.0'?><stream:stream to='x'>", "XMPP server" },
        { "\x00\x01\x02garbage", "not a TLS record: '\\x00\\x01\\x02garbage'" },
    };
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        tc_hs hs;
        tc_verdict v;
        memset(&hs, 0, sizeof(hs));
        size_t n = rows[i].bytes[0] ? strlen(rows[i].bytes) : 10;
        tc_hs_keep(&hs, (const unsigned char *)rows[i].bytes, n);
        CHECK(tc_hs_not_tls(&hs));
        tc_hs_verdict_not_tls(&hs, &v);
        CHECK(v.kind == TC_KIND_NOT_TLS);
        if (strstr(v.detail, rows[i].want) == NULL) {
            fprintf(stderr, "banner row %zu: '%s' lacks '%s'\n", i, v.detail, rows[i].want);
            CHECK(0);
        }
    }
    tc_hs hs;
    memset(&hs, 0, sizeof(hs));
    tc_hs_keep(&hs, (const unsigned char *)"\x16\x03\x03\x00\x10", 5);
    CHECK(!tc_hs_not_tls(&hs));
}

/* The handshake engine with no socket at all: a peer that answers the
 * ClientHello with an alert, fed from memory. */
static void test_in_memory(void)
{
    SSL_CTX *ctx = NULL;
    tc_error err;
    tc_hs hs;
    tc_verdict v;
    const unsigned char *out;
    CHECK(tc_hs_ctx_new(&ctx, &err) == TC_OK);
    CHECK(tc_hs_init(&hs, ctx, "example.test", &err) == TC_OK);
    CHECK(tc_hs_advance(&hs, &v) == TC_HS_WANT);
    size_t n = tc_hs_out_peek(&hs, &out);
    CHECK(n > 40 && out[0] == 0x16);          /* a handshake record: the ClientHello */
    tc_hs_out_consume(&hs, n);
    CHECK(tc_hs_out_peek(&hs, &out) == 0);
    /* fatal protocol_version alert */
    static const unsigned char alert[] = { 0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 70 };
    CHECK(tc_hs_feed(&hs, alert, sizeof(alert), &err) == TC_OK);
    CHECK(tc_hs_advance(&hs, &v) == TC_HS_FAILED);
    CHECK(v.kind == TC_KIND_PROTOCOL_MISMATCH);
    CHECK(v.want_probe);
    CHECK(strstr(v.detail, "protocol version") != NULL);
    tc_hs_clear(&hs);

    CHECK(tc_hs_init(&hs, ctx, NULL, &err) == TC_OK);
    CHECK(tc_hs_advance(&hs, &v) == TC_HS_WANT);
    static const unsigned char hf[] = { 0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 40 };
    CHECK(tc_hs_feed(&hs, hf, sizeof(hf), &err) == TC_OK);
    CHECK(tc_hs_advance(&hs, &v) == TC_HS_FAILED);
    CHECK(v.kind == TC_KIND_NO_SHARED_CIPHER);
    CHECK(strstr(v.detail, "in answer to the ClientHello") != NULL);
    tc_hs_clear(&hs);
    SSL_CTX_free(ctx);
}

static void test_bad_arguments(tc_client *cl)
{
    tc_check_params p = { .host = "127.0.0.1", .port = 0, .timeout = 1 };
    tc_check *c = NULL;
    tc_error err;
    tc_verify_params_init(&p.verify);
    CHECK(tc_check_new(cl, &p, &c, &err) == TC_FAIL && err.code == TC_E_INVALID);
    p.port = 443;
    p.timeout = -1;
    CHECK(tc_check_new(cl, &p, &c, &err) == TC_FAIL && err.code == TC_E_INVALID);
    p.timeout = 1;
    p.host = "bad host";
    CHECK(tc_check_new(cl, &p, &c, &err) == TC_FAIL && err.code == TC_E_INVALID);
    p.host = "";
    CHECK(tc_check_new(cl, &p, &c, &err) == TC_FAIL && err.code == TC_E_INVALID);
    CHECK(c == NULL);

    /* mTLS material that does not parse or does not match */
    minted a = mint("A", 0, NULL, 1), b = mint("B", 0, NULL, 1);
    tc_client_params cp = { .client_cert_pem = "garbage", .client_cert_len = 7,
                            .client_key_pem = a.key, .client_key_len = strlen(a.key) };
    tc_client *bad = NULL;
    CHECK(tc_client_new(&cp, &bad, &err) == TC_FAIL && err.code == TC_E_INVALID);
    CHECK(strstr(err.msg, "not a PEM certificate") != NULL);
    cp.client_cert_pem = a.cert;
    cp.client_cert_len = strlen(a.cert);
    cp.client_key_pem = b.key;
    cp.client_key_len = strlen(b.key);
    CHECK(tc_client_new(&cp, &bad, &err) == TC_FAIL && err.code == TC_E_INVALID);
    CHECK(strstr(err.msg, "does not belong") != NULL);
    cp.client_key_pem = "junk";
    cp.client_key_len = 4;
    CHECK(tc_client_new(&cp, &bad, &err) == TC_FAIL && err.code == TC_E_INVALID);
    cp.client_key_pem = a.key;
    cp.client_key_len = strlen(a.key);
    CHECK(tc_client_new(&cp, &bad, &err) == TC_OK);
    tc_client_free(bad);
    free(a.cert); free(a.key); free(b.cert); free(b.key);
}

static void test_connection_kinds(tc_client *cl)
{
    tc_report *r;
    double dt;

    r = run(cl, "nonexistent.invalid", 443, NULL, 5, NULL);
    expect_kind("dns_failure", r, TC_KIND_DNS_FAILURE, "nonexistent.invalid");
    CHECK(r && r->timings.dns_ms >= 0 && r->address == NULL);
    CHECK(r && r->problems[0].inspect_command && strstr(r->problems[0].inspect_command, "getent") != NULL);
    tc_report_free(r);

    int port = free_port();
    r = run(cl, "127.0.0.1", port, NULL, 5, NULL);
    expect_kind("connection_refused", r, TC_KIND_CONNECTION_REFUSED, "ECONNREFUSED");
    CHECK(r && r->timings.dns_ms == 0);
    tc_report_free(r);

    /* "localhost" resolves to 127.0.0.1 (and maybe ::1): every address refuses. */
    r = run(cl, "localhost", port, NULL, 5, NULL);
    expect_kind("connection_refused localhost", r, TC_KIND_CONNECTION_REFUSED, "127.0.0.1");
    CHECK(r && r->timings.dns_ms >= 0);
    tc_report_free(r);

    /* connection_timeout on loopback, without dropping packets anywhere:
     * a listener with backlog 0 whose one queue slot is taken drops every
     * further SYN, so the connection attempt gets no answer. */
    int bport = 0;
    int lfd = listen_on(AF_INET, &bport, 0);
    int filler = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)bport),
                              .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    CHECK(lfd >= 0 && filler >= 0 && connect(filler, (struct sockaddr *)&sa, sizeof(sa)) == 0);
    r = run(cl, "127.0.0.1", bport, NULL, 1.0, &dt);
    expect_kind("connection_timeout", r, TC_KIND_CONNECTION_TIMEOUT, "no answer to the TCP connection attempt");
    CHECK(dt >= 0.9);
    CHECK(r && r->address == NULL && r->timings.connect_ms < 0);
    tc_report_free(r);
    close(filler);
    close(lfd);

    raw_server s;
    raw_start(&s, RAW_RESET);
    r = run(cl, "127.0.0.1", s.port, NULL, 5, NULL);
    expect_kind("connection_reset (RST)", r, TC_KIND_CONNECTION_RESET, NULL);
    CHECK(r && r->address && strcmp(r->address, "127.0.0.1") == 0);
    tc_report_free(r);
    raw_stop(&s);

    raw_start(&s, RAW_CLOSE_AFTER_HELLO);
    r = run(cl, "127.0.0.1", s.port, NULL, 5, NULL);
    expect_kind("connection_reset (close)", r, TC_KIND_CONNECTION_RESET, "closed the connection right after the ClientHello");
    tc_report_free(r);
    raw_stop(&s);

    raw_start(&s, RAW_SILENT);
    r = run(cl, "127.0.0.1", s.port, "silent.test", 1.0, &dt);
    expect_kind("handshake_timeout", r, TC_KIND_HANDSHAKE_TIMEOUT, "sent nothing");
    CHECK(dt >= 0.9);
    CHECK(r && r->server_name && strcmp(r->server_name, "silent.test") == 0);
    CHECK(r && r->problems[0].inspect_command &&
          strstr(r->problems[0].inspect_command, "-servername silent.test") != NULL);
    tc_report_free(r);
    raw_stop(&s);
}

static void test_not_tls(tc_client *cl)
{
    static const struct { int mode; const char *needle; } rows[] = {
        { RAW_HTTP, "plain HTTP: 'HTTP/1.1 400 Bad Request'" },
        { RAW_SSH, "SSH server (its banner: 'SSH-2.0-OpenSSH_9.2p1 Debian-2')" },
        { RAW_SMTP, "SMTP server (its banner: '220 mail.example.test ESMTP Postfix')" },
    };
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        raw_server s;
        raw_start(&s, rows[i].mode);
        tc_report *r = run(cl, "127.0.0.1", s.port, NULL, 5, NULL);
        expect_kind("not_tls", r, TC_KIND_NOT_TLS, rows[i].needle);
        CHECK(r && r->peer_banner != NULL);
        tc_report_free(r);
        raw_stop(&s);
    }
}

static void test_tls_servers(tc_client *cl, tc_client *mtls, const char *leaf, const char *key,
                             const char *client_ca)
{
    s_server s;
    tc_report *r;

    const char *tls10[] = { "-cert", leaf, "-key", key, "-tls1", "-cipher", "DEFAULT@SECLEVEL=0", NULL };
    CHECK(s_server_start(&s, tls10));
    r = run(cl, "127.0.0.1", s.port, NULL, 5, NULL);
    expect_kind("protocol_mismatch", r, TC_KIND_PROTOCOL_MISMATCH, "only speaks TLS 1.0");
    CHECK(r && r->problems[0].message && strstr(r->problems[0].message, "RFC 8996") != NULL);
    tc_report_free(r);
    s_server_stop(&s);

    const char *nocipher[] = { "-cert", leaf, "-key", key, "-tls1_2", "-cipher",
                               "ECDHE-ECDSA-NULL-SHA:@SECLEVEL=0", NULL };
    CHECK(s_server_start(&s, nocipher));
    r = run(cl, "127.0.0.1", s.port, NULL, 5, NULL);
    expect_kind("no_shared_cipher", r, TC_KIND_NO_SHARED_CIPHER, "ECDHE-ECDSA-NULL-SHA");
    tc_report_free(r);
    s_server_stop(&s);

    /* Client certificate required: TLS 1.3 (the alert comes after the
     * handshake) and TLS 1.2 (it comes instead of the server's Finished). */
    const char *mtls13[] = { "-cert", leaf, "-key", key, "-Verify", "1", "-CAfile", client_ca, NULL };
    const char *mtls12[] = { "-cert", leaf, "-key", key, "-Verify", "1", "-CAfile", client_ca, "-tls1_2", NULL };
    const char *const *variants[] = { mtls13, mtls12 };
    for (int i = 0; i < 2; i++) {
        CHECK(s_server_start(&s, variants[i]));
        r = run(cl, "127.0.0.1", s.port, NULL, 5, NULL);
        expect_kind("client_certificate_required", r, TC_KIND_CLIENT_CERTIFICATE_REQUIRED,
                    i == 0 ? "alert 'certificate required' (116)" : "alert 'handshake failure' (40)");
        CHECK(r && r->client_cert_requested);
        CHECK(r && r->client_ca_names.count == 1 &&
              strstr(r->client_ca_names.items[0], "CN=Test Client CA") != NULL);
        tc_report_free(r);
        /* its good twin: the same server, with the client certificate */
        r = run(mtls, "127.0.0.1", s.port, NULL, 5, NULL);
        show("mtls ok", r);
        CHECK(r && find(r, TC_KIND_CLIENT_CERTIFICATE_REQUIRED) == NULL);
        CHECK(r && find(r, TC_KIND_HANDSHAKE_FAILURE) == NULL);
        CHECK(r && r->client_cert_requested && r->protocol != NULL);
        CHECK(r && tc_report_ok(r));
        tc_report_free(r);
        s_server_stop(&s);
    }
}

/* The probe: the survey's connections, one at a time, against s_server
 * (one client at a time), with tickets and early data. */
static void test_probe(tc_client *cl, const char *leaf, const char *key)
{
    s_server s;
    const char *args[] = { "-cert", leaf, "-key", key, "-early_data", "-alpn", "h2", NULL };
    CHECK(s_server_start(&s, args));
    tc_check_params p = { .host = "127.0.0.1", .port = s.port, .timeout = 5, .probe = 1 };
    tc_report *r = NULL;
    tc_error err;
    tc_verify_params_init(&p.verify);
    tc_error_clear(&err);
    CHECK(tc_check_run(cl, &p, &r, &err) == TC_OK);
    const tc_probe *pr = r ? r->probe : NULL;
    CHECK(pr != NULL);
    if (pr != NULL) {
        CHECK(pr->rtt_ms >= 0 && pr->handshake_round_trips == 1 && !pr->hello_retry_request);
        CHECK(pr->protocols[3] == 1 && pr->protocols[0] == 0);
        CHECK(pr->suites[3].count == 3);
        CHECK(pr->groups.count >= 3);
        CHECK(pr->http2 == 1);
        CHECK(pr->resumption && strcmp(pr->resumption, "accepted") == 0);
        CHECK(pr->early_data && strcmp(pr->early_data, "accepted") == 0);
        CHECK(pr->max_early_data > 0 && pr->resumed_round_trips == 0);
        CHECK(pr->complete && pr->connections > 1 && pr->connections <= TC_PROBE_MAX_CONNECTIONS);
        CHECK(find(r, TC_KIND_LEGACY_PROTOCOL) == NULL && find(r, TC_KIND_WEAK_CIPHER) == NULL);
    }
    tc_report_free(r);
    s_server_stop(&s);
}

static void test_success(tc_client *cl, const char *leaf, const char *key)
{
    s_server s;
    tc_report *r;
    const char *good[] = { "-cert", leaf, "-key", key, "-alpn", "h2,http/1.1", NULL };
    CHECK(s_server_start(&s, good));

    r = run(cl, "127.0.0.1", s.port, NULL, 5, NULL);
    show("good (IP)", r);
    CHECK(r && tc_report_ok(r) && r->n_problems == 0);
    if (r) {
        CHECK_STR(r->protocol, "TLSv1.3");
        CHECK(r->cipher && strncmp(r->cipher, "TLS_", 4) == 0);
        CHECK_STR(r->group, "X25519");
        CHECK_STR(r->alpn, "h2");
        CHECK_STR(r->address, "127.0.0.1");
        CHECK(r->server_name == NULL);       /* no SNI for an IP literal */
        CHECK(r->port == s.port);
        CHECK(sk_X509_num(r->chain) == 1);
        CHECK(r->timings.connect_ms >= 0 && r->timings.handshake_ms >= 0);
        CHECK(r->timings.total_ms >= r->timings.handshake_ms);
        CHECK(!r->client_cert_requested);
        CHECK(!r->ocsp_stapled);
    }
    tc_report_free(r);

    /* Connect to the IP, verify another name: hostname_mismatch. */
    r = run(cl, "127.0.0.1", s.port, "api.example.test", 5, NULL);
    show("mismatch", r);
    CHECK(r && find(r, TC_KIND_HOSTNAME_MISMATCH) != NULL);
    if (r && find(r, TC_KIND_HOSTNAME_MISMATCH)) {
        char want[96];
        snprintf(want, sizeof(want), "-connect 127.0.0.1:%d -servername api.example.test", s.port);
        CHECK(strstr(find(r, TC_KIND_HOSTNAME_MISMATCH)->inspect_command, want) != NULL);
    }
    CHECK(r && r->server_name && strcmp(r->server_name, "api.example.test") == 0);
    tc_report_free(r);

    r = run(cl, "localhost", s.port, NULL, 5, NULL);
    show("good (localhost)", r);
    CHECK(r && tc_report_ok(r));
    CHECK(r && r->server_name && strcmp(r->server_name, "localhost") == 0);
    tc_report_free(r);
    s_server_stop(&s);

    /* TLS 1.2 with ECDHE: the group is reported too. */
    const char *tls12[] = { "-cert", leaf, "-key", key, "-tls1_2", NULL };
    CHECK(s_server_start(&s, tls12));
    r = run(cl, "127.0.0.1", s.port, NULL, 5, NULL);
    show("good TLS 1.2", r);
    CHECK(r && tc_report_ok(r));
    if (r) {
        CHECK_STR(r->protocol, "TLSv1.2");
        CHECK(r->group != NULL);
        CHECK(r->alpn == NULL);
    }
    tc_report_free(r);
    s_server_stop(&s);
}

static void test_ipv6(tc_client *cl)
{
    raw_server s;
    memset(&s, 0, sizeof(s));
    s.mode = RAW_HTTP;
    s.lfd = listen_on(AF_INET6, &s.port, 16);
    if (s.lfd < 0) {
        printf("skipped: no IPv6 loopback\n");
        return;
    }
    ipv6_ok = 1;
    if (pthread_create(&s.th, NULL, raw_main, &s) != 0)
        die("pthread_create");
    tc_report *r = run(cl, "::1", s.port, NULL, 5, NULL);
    expect_kind("not_tls over IPv6", r, TC_KIND_NOT_TLS, "plain HTTP");
    CHECK(r && r->address && strcmp(r->address, "::1") == 0);
    CHECK(r && r->target && strncmp(r->target, "[::1]:", 6) == 0);
    tc_report_free(r);
    raw_stop(&s);
}

/* Many checks driven by one thread through tc_check_step_ready (told
 * what poll saw, as tc_multi does): the machine never blocks, so the slow
 * (silent) peers do not delay the others. */
static void test_many_one_thread(tc_client *cl)
{
    raw_server silent, http;
    enum { N = 24 };
    tc_check *c[N];
    tc_error err;
    raw_start(&silent, RAW_SILENT);
    raw_start(&http, RAW_HTTP);
    double t0 = now_s();
    for (int i = 0; i < N; i++) {
        tc_check_params p = { .host = "127.0.0.1", .port = i % 2 ? silent.port : http.port,
                              .timeout = 1.0 };
        tc_verify_params_init(&p.verify);
        CHECK(tc_check_new(cl, &p, &c[i], &err) == TC_OK);
    }
    int left = N;
    int writable[N] = { 0 };
    while (left > 0) {
        struct pollfd pf[N];
        int idx[N], n = 0;
        int64_t wake = INT64_MAX;
        left = 0;
        for (int i = 0; i < N; i++) {
            if (c[i] == NULL)
                continue;
            tc_step st = tc_check_step_ready(c[i], writable[i]);
            writable[i] = 0;
            if (st == TC_STEP_DONE) {
                tc_report *r = tc_check_take_report(c[i]);
                CHECK(r != NULL);
                CHECK(r && r->n_problems == 1 &&
                      r->problems[0].kind == (i % 2 ? TC_KIND_HANDSHAKE_TIMEOUT : TC_KIND_NOT_TLS));
                tc_report_free(r);
                tc_check_free(c[i]);
                c[i] = NULL;
                continue;
            }
            left++;
            if (tc_check_deadline_ns(c[i]) < wake)
                wake = tc_check_deadline_ns(c[i]);
            if (tc_check_fd(c[i]) >= 0 && st != TC_STEP_WANT_TIMER) {
                pf[n] = (struct pollfd){ .fd = tc_check_fd(c[i]),
                                         .events = st == TC_STEP_WANT_READ ? POLLIN : POLLOUT };
                idx[n++] = i;
            }
        }
        if (left > 0) {
            int64_t ms_left = (wake - tc_now_ns()) / 1000000;
            if (poll(pf, (nfds_t)n, ms_left < 0 ? 0 : ms_left > 100 ? 100 : (int)ms_left + 1) > 0)
                for (int k = 0; k < n; k++)
                    writable[idx[k]] = (pf[k].revents & (POLLOUT | POLLERR | POLLHUP)) != 0;
        }
    }
    double dt = now_s() - t0;
    CHECK(dt < 1.0 + MARGIN);   /* all 12 silent peers time out together */
    raw_stop(&silent);
    raw_stop(&http);
}

/* ---- the resolver pool ---------------------------------------------- */

/* A stand-in for getaddrinfo: counts the lookups running at once, holds
 * each at a gate until the test opens it, then resolves 127.0.0.1. */
static pthread_mutex_t gate_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t gate_cond = PTHREAD_COND_INITIALIZER;
static int gate_open, gate_now, gate_peak, gate_calls;

static int gated_resolve(const char *host, const char *service,
                         const struct addrinfo *hints, struct addrinfo **res)
{
    struct addrinfo h = *hints;
    (void)host;
    pthread_mutex_lock(&gate_lock);
    gate_calls++;
    if (++gate_now > gate_peak)
        gate_peak = gate_now;
    while (!gate_open)
        pthread_cond_wait(&gate_cond, &gate_lock);
    pthread_mutex_unlock(&gate_lock);
    h.ai_flags |= AI_NUMERICHOST;
    int rc = getaddrinfo("127.0.0.1", service, &h, res);
    pthread_mutex_lock(&gate_lock);
    gate_now--;
    pthread_mutex_unlock(&gate_lock);
    return rc;
}

static int gate_read(int *what)
{
    pthread_mutex_lock(&gate_lock);
    int v = *what;
    pthread_mutex_unlock(&gate_lock);
    return v;
}

/* 200 lookups of distinct names: TC_RESOLVER_THREADS of them run at once
 * (glibc's getaddrinfo_a ran 20), never more; freeing a running lookup
 * detaches it (its worker frees it), freeing a queued one drops it
 * before it runs.  Valgrind checks that both are freed exactly once. */
static int count_threads(void)
{
    int n = 0;
    DIR *d = opendir("/proc/self/task");
    if (d == NULL)
        return -1;
    for (struct dirent *e; (e = readdir(d)) != NULL;)
        n += e->d_name[0] != '.';
    closedir(d);
    return n;
}

static void test_resolver_pool(void)
{
    enum { N = 200 };
    int threads_before = count_threads();
    tc_resolver *r[N] = {0};
    tc_error err;
    char name[64];
    int (*saved)(const char *, const char *, const struct addrinfo *, struct addrinfo **) =
        tc_resolve_blocking;
    tc_resolve_blocking = gated_resolve;
    for (int i = 0; i < N; i++) {
        snprintf(name, sizeof(name), "host%d.pool.test", i);
        CHECK(tc_resolve_start(name, &r[i], &err) == TC_OK);
    }
    double t0 = now_s();
    while (gate_read(&gate_now) < TC_RESOLVER_THREADS && now_s() - t0 < 10)
        usleep(1000);
    usleep(50000);     /* room for a 65th to start, if the pool allowed it */
    CHECK(gate_read(&gate_now) == TC_RESOLVER_THREADS);
    CHECK(gate_read(&gate_peak) == TC_RESOLVER_THREADS);
    int code = -1, se = -1;
    CHECK(tc_resolve_poll(r[0], &code, &se) == 0);      /* held at the gate */
    CHECK(tc_resolve_poll(r[N - 1], &code, &se) == 0);  /* still queued */
    tc_resolve_free(r[0]);        /* running: detached */
    tc_resolve_free(r[N - 1]);    /* queued: dropped */
    r[0] = r[N - 1] = NULL;
    pthread_mutex_lock(&gate_lock);
    gate_open = 1;
    pthread_cond_broadcast(&gate_cond);
    pthread_mutex_unlock(&gate_lock);
    int left = N - 2, good = 0;
    while (left > 0 && now_s() - t0 < 20) {
        for (int i = 0; i < N; i++) {
            if (r[i] == NULL || !tc_resolve_poll(r[i], &code, &se))
                continue;
            tc_addr a[4];
            char text[64] = "";
            if (code == 0 && tc_resolve_addrs(r[i], 443, a, 4) == 1) {
                tc_addr_format(&a[0], text, sizeof(text));
                good += strcmp(text, "127.0.0.1") == 0;
            }
            tc_resolve_free(r[i]);
            r[i] = NULL;
            left--;
        }
        usleep(1000);
    }
    CHECK(left == 0);
    CHECK(good == N - 2);
    while (gate_read(&gate_now) > 0 && now_s() - t0 < 20)
        usleep(1000);
    CHECK(gate_read(&gate_calls) == N - 1);   /* the dropped one never ran */
    CHECK(gate_read(&gate_peak) == TC_RESOLVER_THREADS);
    printf("resolver pool: %d lookups, at most %d at once, %.0f ms\n", N,
           gate_read(&gate_peak), (now_s() - t0) * 1000);
    tc_resolve_blocking = saved;
    /* The workers are not kept per lookup: idle, they exit. */
    CHECK(count_threads() > threads_before);
    t0 = now_s();
    while (count_threads() > threads_before && now_s() - t0 < 10)
        usleep(10000);
    CHECK(count_threads() == threads_before);
}

int main(void)
{
    tc_error err;
    signal(SIGPIPE, SIG_IGN);
    snprintf(tmpdir, sizeof(tmpdir), "/tmp/test_live.XXXXXX");
    if (mkdtemp(tmpdir) == NULL)
        die("mkdtemp");

    minted root = mint("Test Root CA", 1, NULL, 0);
    minted leaf = mint("localhost", 0, &root, 0);
    minted client_ca = mint("Test Client CA", 1, NULL, 0);
    minted client = mint("test client", 0, &client_ca, 1);
    write_file("root.pem", root.cert, NULL);
    write_file("leaf.pem", leaf.cert, NULL);
    write_file("leaf.key", leaf.key, NULL);
    write_file("client_ca.pem", client_ca.cert, NULL);
    char leaf_path[128], key_path[128], ca_path[128];
    snprintf(leaf_path, sizeof(leaf_path), "%s", path_of("leaf.pem"));
    snprintf(key_path, sizeof(key_path), "%s", path_of("leaf.key"));
    snprintf(ca_path, sizeof(ca_path), "%s", path_of("client_ca.pem"));

    tc_trust *trust = NULL;
    if (tc_trust_new_path(path_of("root.pem"), &trust, &err) != TC_OK) {
        fprintf(stderr, "trust: %s\n", err.msg);
        return 2;
    }
    tc_client_params cp = { .trust = trust };
    tc_client *cl = NULL, *mtls = NULL;
    CHECK(tc_client_new(&cp, &cl, &err) == TC_OK);
    cp.client_cert_pem = client.cert;
    cp.client_cert_len = strlen(client.cert);
    cp.client_key_pem = client.key;
    cp.client_key_len = strlen(client.key);
    CHECK(tc_client_new(&cp, &mtls, &err) == TC_OK);

    test_pure();
    test_resolver_pool();
    test_in_memory();
    test_bad_arguments(cl);
    test_connection_kinds(cl);
    test_not_tls(cl);
    test_ipv6(cl);
    test_many_one_thread(cl);
    test_tls_servers(cl, mtls, leaf_path, key_path, ca_path);
    test_probe(cl, leaf_path, key_path);
    test_success(cl, leaf_path, key_path);

    tc_client_free(cl);
    tc_client_free(mtls);
    tc_trust_free(trust);
    free(root.cert); free(root.key); free(leaf.cert); free(leaf.key);
    free(client_ca.cert); free(client_ca.key); free(client.cert); free(client.key);
    static const char *const files[] = { "root.pem", "leaf.pem", "leaf.key", "client_ca.pem" };
    for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++)
        unlink(path_of(files[i]));
    rmdir(tmpdir);
    /* The resolver pool's workers linger for a second after their last
     * lookup and free their resolver state when they exit; let them, so
     * valgrind does not count that state as lost at exit. */
    sleep(2);
    return TC_TEST_DONE();
}
