/*
 * net.c - resolve and connect without ever blocking.
 *
 * Name resolution uses glibc's getaddrinfo_a in GAI_NOWAIT mode: the
 * lookup runs in glibc's helper threads and the check polls gai_error, so
 * DNS is bounded by the check's deadline and many lookups run at once.
 * A lookup abandoned while still running (deadline reached) cannot be
 * freed under glibc's feet, and waiting for it would block: it goes to a
 * reaper list and is freed by a later call once glibc is done with it.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "live_internal.h"

/* ------------------------------------------------------------------ */
/* Addresses                                                           */
/* ------------------------------------------------------------------ */

int tc_addr_from_literal(const char *host, int port, tc_addr *out)
{
    memset(out, 0, sizeof(*out));
    struct sockaddr_in *v4 = (struct sockaddr_in *)&out->ss;
    struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)&out->ss;
    if (inet_pton(AF_INET, host, &v4->sin_addr) == 1) {
        v4->sin_family = AF_INET;
        v4->sin_port = htons((uint16_t)port);
        out->len = sizeof(*v4);
        return 1;
    }
    if (inet_pton(AF_INET6, host, &v6->sin6_addr) == 1) {
        v6->sin6_family = AF_INET6;
        v6->sin6_port = htons((uint16_t)port);
        out->len = sizeof(*v6);
        return 1;
    }
    return 0;
}

void tc_addr_format(const tc_addr *a, char *buf, size_t len)
{
    const void *src = NULL;
    if (len == 0)
        return;
    buf[0] = '\0';
    if (a->ss.ss_family == AF_INET)
        src = &((const struct sockaddr_in *)&a->ss)->sin_addr;
    else if (a->ss.ss_family == AF_INET6)
        src = &((const struct sockaddr_in6 *)&a->ss)->sin6_addr;
    if (src == NULL || inet_ntop(a->ss.ss_family, src, buf, (socklen_t)len) == NULL)
        buf[0] = '\0';
}

/* ------------------------------------------------------------------ */
/* Resolution                                                          */
/* ------------------------------------------------------------------ */

struct tc_resolver {
    struct gaicb cb;            /* read and written by glibc's helper thread */
    struct addrinfo hints;      /* must live as long as the request */
    struct tc_resolver *next;   /* reaper list link */
    int started;                /* getaddrinfo_a accepted the request */
    int start_error;            /* its EAI_* code when it did not */
    char name[];                /* the name looked up, also read by glibc */
};

static pthread_mutex_t reaper_lock = PTHREAD_MUTEX_INITIALIZER;
static tc_resolver *reaper_list;

static void resolver_destroy(tc_resolver *r)
{
    if (r->cb.ar_result != NULL)
        freeaddrinfo(r->cb.ar_result);
    free(r);
}

/* Frees every abandoned lookup glibc has finished with. */
static void reap(void)
{
    tc_resolver *done = NULL;
    pthread_mutex_lock(&reaper_lock);
    for (tc_resolver **pp = &reaper_list; *pp != NULL;) {
        tc_resolver *r = *pp;
        if (gai_error(&r->cb) != EAI_INPROGRESS) {
            *pp = r->next;
            r->next = done;
            done = r;
        } else {
            pp = &r->next;
        }
    }
    pthread_mutex_unlock(&reaper_lock);
    while (done != NULL) {
        tc_resolver *next = done->next;
        resolver_destroy(done);
        done = next;
    }
}

tc_status tc_resolve_start(const char *host, tc_resolver **out, tc_error *err)
{
    size_t n = strlen(host);
    *out = NULL;
    reap();
    tc_resolver *r = calloc(1, sizeof(*r) + n + 1);
    if (r == NULL)
        return tc_error_set(err, TC_E_NOMEM, "out of memory starting a DNS lookup of %s", host);
    memcpy(r->name, host, n + 1);
    r->hints.ai_family = AF_UNSPEC;          /* v4 and v6 */
    r->hints.ai_socktype = SOCK_STREAM;
    r->hints.ai_protocol = IPPROTO_TCP;
    /* No AI_ADDRCONFIG: a host with only loopback v6 would lose ::1. */
    r->cb.ar_name = r->name;
    r->cb.ar_request = &r->hints;
    struct gaicb *list[1] = { &r->cb };
    int rc = getaddrinfo_a(GAI_NOWAIT, list, 1, NULL);
    if (rc != 0) {
        /* glibc could not queue it (no thread, no memory): the lookup
         * failed, which the check reports as dns_failure. */
        r->start_error = rc;
    } else {
        r->started = 1;
    }
    *out = r;
    return TC_OK;
}

int tc_resolve_poll(tc_resolver *r, int *gai_code, int *sys_errno)
{
    *sys_errno = 0;
    if (!r->started) {
        *gai_code = r->start_error;
        return 1;
    }
    int rc = gai_error(&r->cb);
    if (rc == EAI_INPROGRESS)
        return 0;
    /* For EAI_SYSTEM the errno lives in glibc's helper thread: unknown. */
    *gai_code = rc;
    return 1;
}

static int same_addr(const tc_addr *a, const struct addrinfo *ai)
{
    return a->len == ai->ai_addrlen && a->ss.ss_family == ai->ai_family &&
           (ai->ai_family == AF_INET
                ? memcmp(&((const struct sockaddr_in *)&a->ss)->sin_addr,
                         &((const struct sockaddr_in *)ai->ai_addr)->sin_addr, 4) == 0
                : memcmp(&((const struct sockaddr_in6 *)&a->ss)->sin6_addr,
                         &((const struct sockaddr_in6 *)ai->ai_addr)->sin6_addr, 16) == 0 &&
                  ((const struct sockaddr_in6 *)&a->ss)->sin6_scope_id ==
                      ((const struct sockaddr_in6 *)ai->ai_addr)->sin6_scope_id);
}

size_t tc_resolve_addrs(tc_resolver *r, int port, tc_addr *out, size_t max)
{
    size_t n = 0;
    for (const struct addrinfo *ai = r->cb.ar_result; ai != NULL && n < max; ai = ai->ai_next) {
        if ((ai->ai_family != AF_INET && ai->ai_family != AF_INET6) ||
            ai->ai_addrlen > sizeof(out[n].ss))
            continue;
        size_t i;
        for (i = 0; i < n; i++)
            if (same_addr(&out[i], ai))
                break;
        if (i < n)
            continue;
        memset(&out[n], 0, sizeof(out[n]));
        memcpy(&out[n].ss, ai->ai_addr, ai->ai_addrlen);
        out[n].len = ai->ai_addrlen;
        if (ai->ai_family == AF_INET)
            ((struct sockaddr_in *)&out[n].ss)->sin_port = htons((uint16_t)port);
        else
            ((struct sockaddr_in6 *)&out[n].ss)->sin6_port = htons((uint16_t)port);
        n++;
    }
    return n;
}

void tc_resolve_free(tc_resolver *r)
{
    if (r == NULL)
        return;
    if (r->started && gai_error(&r->cb) == EAI_INPROGRESS &&
        gai_cancel(&r->cb) != EAI_CANCELED && gai_error(&r->cb) == EAI_INPROGRESS) {
        /* Still running in glibc's thread: it owns r until it finishes. */
        pthread_mutex_lock(&reaper_lock);
        r->next = reaper_list;
        reaper_list = r;
        pthread_mutex_unlock(&reaper_lock);
    } else {
        resolver_destroy(r);
    }
    reap();
}

/* ------------------------------------------------------------------ */
/* Connecting                                                          */
/* ------------------------------------------------------------------ */

tc_status tc_connect_start(const tc_addr *a, int *fd, int *result,
                           int *sys_errno, tc_error *err)
{
    *fd = -1;
    *result = -1;
    *sys_errno = 0;
    int s = socket(a->ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_TCP);
    if (s < 0) {
        int e = errno;
        /* An address family this machine lacks is the endpoint's route,
         * not a local failure: report it as that address failing. */
        if (e == EAFNOSUPPORT || e == EPROTONOSUPPORT) {
            *sys_errno = e;
            return TC_OK;
        }
        tc_error_set(err, TC_E_IO, "could not create a socket: %s", strerror(e));
        if (err != NULL)
            err->sys_errno = e;
        return TC_FAIL;
    }
    /* The ClientHello is one small write: send it at once. */
    int one = 1;
    (void)setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    if (connect(s, (const struct sockaddr *)&a->ss, a->len) == 0) {
        *fd = s;
        *result = 0;
        return TC_OK;
    }
    int e = errno;
    if (e == EINPROGRESS || e == EINTR) {
        *fd = s;
        *result = 1;
        return TC_OK;
    }
    close(s);
    *sys_errno = e;
    return TC_OK;
}

int tc_connect_finish(int fd, int *sys_errno)
{
    int e = 0;
    socklen_t len = sizeof(e);
    if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &len) != 0)
        e = errno;
    *sys_errno = e;
    return e == 0 ? 0 : -1;
}

int tc_fd_ready(int fd, short events)
{
    struct pollfd p = { .fd = fd, .events = events };
    int rc;
    do
        rc = poll(&p, 1, 0);
    while (rc < 0 && errno == EINTR);
    /* Errors and hang-ups count as ready: the next call reports them. */
    return rc > 0 && (p.revents & (events | POLLERR | POLLHUP | POLLNVAL));
}

/* ------------------------------------------------------------------ */
/* Classification tables                                               */
/* ------------------------------------------------------------------ */

#define ROW(e, kind, what) { e, TC_KIND_##kind, #e, what }
static const tc_errno_class ERRNO_TABLE[] = {
    ROW(ECONNREFUSED, CONNECTION_REFUSED, "the connection was refused"),
    ROW(EACCES, CONNECTION_REFUSED, "a local firewall rule refused the connection"),
    ROW(EPERM, CONNECTION_REFUSED, "a local firewall rule refused the connection"),
    ROW(ETIMEDOUT, CONNECTION_TIMEOUT, "the TCP connection attempt got no answer"),
    ROW(EHOSTUNREACH, CONNECTION_TIMEOUT, "there is no route to the host"),
    ROW(ENETUNREACH, CONNECTION_TIMEOUT, "the network is unreachable from here"),
    ROW(EHOSTDOWN, CONNECTION_TIMEOUT, "the host is down"),
    ROW(ENETDOWN, CONNECTION_TIMEOUT, "the local network is down"),
    ROW(EADDRNOTAVAIL, CONNECTION_TIMEOUT, "this machine has no source address for it (for IPv6: no IPv6 connectivity)"),
    ROW(EAFNOSUPPORT, CONNECTION_TIMEOUT, "this machine does not support the address family (for IPv6: IPv6 is disabled)"),
    ROW(EPROTONOSUPPORT, CONNECTION_TIMEOUT, "this machine does not support the address family"),
    ROW(ECONNRESET, CONNECTION_RESET, "the connection was reset"),
    ROW(ECONNABORTED, CONNECTION_RESET, "the connection was aborted"),
    ROW(EPIPE, CONNECTION_RESET, "the connection was closed while sending"),
};
#undef ROW

const tc_errno_class *tc_errno_classify(int e)
{
    static const tc_errno_class unknown = {
        0, TC_KIND_CONNECTION_TIMEOUT, NULL, "the connection attempt failed"
    };
    for (size_t i = 0; i < sizeof(ERRNO_TABLE) / sizeof(ERRNO_TABLE[0]); i++)
        if (ERRNO_TABLE[i].err == e)
            return &ERRNO_TABLE[i];
    return &unknown;
}

#define ROW(code, what) { code, #code, what }
static const tc_gai_class GAI_TABLE[] = {
    ROW(EAI_NONAME, "no such name is known to DNS"),
    ROW(EAI_NODATA, "the name exists but has no address (A or AAAA) record"),
    ROW(EAI_ADDRFAMILY, "the name has no address of a usable family"),
    ROW(EAI_AGAIN, "the resolver did not give an answer (a temporary failure: the DNS server is unreachable or timed out)"),
    ROW(EAI_FAIL, "the DNS server reported a permanent failure"),
    ROW(EAI_MEMORY, "the resolver ran out of memory"),
    ROW(EAI_SYSTEM, "the resolver hit a system error"),
    ROW(EAI_SERVICE, "the service is not known"),
    ROW(EAI_FAMILY, "the address family is not supported"),
    ROW(EAI_CANCELED, "the lookup was canceled"),
};
#undef ROW

const tc_gai_class *tc_gai_classify(int code)
{
    static const tc_gai_class unknown = { 0, NULL, "the lookup failed" };
    for (size_t i = 0; i < sizeof(GAI_TABLE) / sizeof(GAI_TABLE[0]); i++)
        if (GAI_TABLE[i].code == code)
            return &GAI_TABLE[i];
    return &unknown;
}
