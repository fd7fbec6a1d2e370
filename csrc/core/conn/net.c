/*
 * net.c - resolve and connect without ever blocking.
 *
 * Name resolution runs blocking getaddrinfo in a small pool of our own
 * threads, shared by the process: a check queues a request and polls its
 * state without blocking, so DNS is bounded by the check's deadline and
 * up to TC_RESOLVER_THREADS lookups run at once (glibc's getaddrinfo_a
 * runs at most 20, which serialised large batches).  Workers start on
 * demand and exit after a second without work.  A request abandoned
 * while it runs (deadline, cancel) cannot be freed under its worker's
 * feet, and waiting would block: it is marked detached and the worker
 * frees it when getaddrinfo returns.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
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

/* Lifecycle of a request, under pool.lock. */
enum { R_QUEUED, R_RUNNING, R_DONE };

struct tc_resolver {
    struct tc_resolver *next;   /* queue link (R_QUEUED) */
    int state;
    int detached;               /* R_RUNNING and abandoned: the worker frees it */
    int gai_code, sys_errno;    /* R_DONE */
    struct addrinfo *result;    /* R_DONE, owned */
    char name[];
};

/* How long an idle worker waits for work before it exits. */
#define IDLE_EXIT_NS 1000000000LL
/* getaddrinfo with NSS modules wants more than a minimal stack. */
#define WORKER_STACK (1024 * 1024)

static struct {
    pthread_mutex_t lock;
    pthread_cond_t work;        /* a request was queued */
    tc_resolver *head, *tail;   /* R_QUEUED requests, oldest first */
    int threads;                /* workers alive */
    int idle;                   /* of which waiting for work */
} pool = { PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, NULL, NULL, 0, 0 };

int (*tc_resolve_blocking)(const char *host, const char *service,
                           const struct addrinfo *hints, struct addrinfo **res) = getaddrinfo;

static void resolver_destroy(tc_resolver *r)
{
    if (r->result != NULL)
        freeaddrinfo(r->result);
    free(r);
}

static void lookup(tc_resolver *r, const struct addrinfo *hints)
{
    struct addrinfo *res = NULL;
    errno = 0;
    int rc = tc_resolve_blocking(r->name, NULL, hints, &res);
    int e = errno;
    pthread_mutex_lock(&pool.lock);
    int detached = r->detached;
    if (!detached) {
        r->gai_code = rc;
        r->sys_errno = rc == EAI_SYSTEM ? e : 0;
        r->result = rc == 0 ? res : NULL;
        r->state = R_DONE;
    }
    pthread_mutex_unlock(&pool.lock);
    if (detached) {
        if (rc == 0 && res != NULL)
            freeaddrinfo(res);
        free(r);
    } else if (rc != 0 && res != NULL) {
        freeaddrinfo(res);
    }
}

static void *worker(void *arg)
{
    struct addrinfo hints;
    (void)arg;
    memset(&hints, 0, sizeof(hints));
    hints.ai_family = AF_UNSPEC;          /* v4 and v6 */
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_protocol = IPPROTO_TCP;
    /* No AI_ADDRCONFIG: a host with only loopback v6 would lose ::1. */
    pthread_mutex_lock(&pool.lock);
    for (;;) {
        tc_resolver *r = pool.head;
        if (r == NULL) {
            /* pool.work uses the default clock, CLOCK_REALTIME: a clock
             * step only moves when an idle worker exits. */
            struct timespec until;
            clock_gettime(CLOCK_REALTIME, &until);
            until.tv_sec += IDLE_EXIT_NS / 1000000000LL;
            pool.idle++;
            int rc = 0;
            while (pool.head == NULL && rc != ETIMEDOUT)
                rc = pthread_cond_timedwait(&pool.work, &pool.lock, &until);
            pool.idle--;
            if (pool.head == NULL)
                break;
            continue;
        }
        pool.head = r->next;
        if (pool.head == NULL)
            pool.tail = NULL;
        r->next = NULL;
        r->state = R_RUNNING;
        pthread_mutex_unlock(&pool.lock);
        lookup(r, &hints);
        pthread_mutex_lock(&pool.lock);
    }
    pool.threads--;
    pthread_mutex_unlock(&pool.lock);
    return NULL;
}

/* Under pool.lock: starts a worker when the queue holds more requests
 * than there are idle workers and the pool is not full.  0, or an
 * errno when no worker could be started and none is alive. */
static int ensure_worker(void)
{
    size_t queued = 0;
    for (const tc_resolver *r = pool.head; r != NULL && queued <= (size_t)pool.idle; r = r->next)
        queued++;
    if (queued <= (size_t)pool.idle || pool.threads >= TC_RESOLVER_THREADS)
        return 0;
    pthread_attr_t attr;
    pthread_t t;
    int rc = pthread_attr_init(&attr);
    if (rc == 0) {
        (void)pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
        (void)pthread_attr_setstacksize(&attr, WORKER_STACK);
        /* Workers take no signal: Ctrl-C belongs to the main thread. */
        sigset_t all, old;
        sigfillset(&all);
        pthread_sigmask(SIG_SETMASK, &all, &old);
        rc = pthread_create(&t, &attr, worker, NULL);
        pthread_sigmask(SIG_SETMASK, &old, NULL);
        pthread_attr_destroy(&attr);
    }
    if (rc == 0) {
        pool.threads++;
        return 0;
    }
    return pool.threads > 0 ? 0 : rc;
}

/* Under pool.lock: unlinks a queued request. */
static void unqueue(tc_resolver *r)
{
    tc_resolver *prev = NULL;
    for (tc_resolver *q = pool.head; q != NULL; prev = q, q = q->next) {
        if (q != r)
            continue;
        if (prev != NULL)
            prev->next = r->next;
        else
            pool.head = r->next;
        if (pool.tail == r)
            pool.tail = prev;
        r->next = NULL;
        return;
    }
}

/* fork() copies the pool's state but none of its threads: the child
 * starts with no worker (requests queued before the fork are served by
 * new ones; those that were running are lost and end at their check's
 * deadline) and a lock no dead thread can be holding. */
static void pool_prepare(void) { pthread_mutex_lock(&pool.lock); }
static void pool_parent(void) { pthread_mutex_unlock(&pool.lock); }
static void pool_child(void)
{
    pool.threads = 0;
    pool.idle = 0;
    pthread_mutex_init(&pool.lock, NULL);
    pthread_cond_init(&pool.work, NULL);
}

static pthread_once_t pool_once = PTHREAD_ONCE_INIT;
static void pool_init(void)
{
    (void)pthread_atfork(pool_prepare, pool_parent, pool_child);
}

tc_status tc_resolve_start(const char *host, tc_resolver **out, tc_error *err)
{
    size_t n = strlen(host);
    *out = NULL;
    (void)pthread_once(&pool_once, pool_init);
    tc_resolver *r = calloc(1, sizeof(*r) + n + 1);
    if (r == NULL)
        return tc_error_set(err, TC_E_NOMEM, "out of memory starting a DNS lookup of %s", host);
    memcpy(r->name, host, n + 1);
    pthread_mutex_lock(&pool.lock);
    r->state = R_QUEUED;
    if (pool.tail != NULL)
        pool.tail->next = r;
    else
        pool.head = r;
    pool.tail = r;
    int rc = ensure_worker();
    if (rc != 0) {
        /* No thread at all: the lookup failed, which the check reports
         * as dns_failure (EAI_SYSTEM with the errno). */
        unqueue(r);
        r->state = R_DONE;
        r->gai_code = EAI_SYSTEM;
        r->sys_errno = rc;
    } else {
        pthread_cond_signal(&pool.work);
    }
    pthread_mutex_unlock(&pool.lock);
    *out = r;
    return TC_OK;
}

int tc_resolve_poll(tc_resolver *r, int *gai_code, int *sys_errno)
{
    int done;
    pthread_mutex_lock(&pool.lock);
    done = r->state == R_DONE;
    if (done) {
        *gai_code = r->gai_code;
        *sys_errno = r->sys_errno;
    } else if (r->state == R_QUEUED) {
        /* After a fork, or when the pool shrank: make sure someone will
         * take it. */
        (void)ensure_worker();
    }
    pthread_mutex_unlock(&pool.lock);
    return done;
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
    for (const struct addrinfo *ai = r->result; ai != NULL && n < max; ai = ai->ai_next) {
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
    pthread_mutex_lock(&pool.lock);
    int running = r->state == R_RUNNING;
    if (running)
        r->detached = 1;       /* its worker frees it */
    else if (r->state == R_QUEUED)
        unqueue(r);            /* never started: nobody else holds it */
    pthread_mutex_unlock(&pool.lock);
    if (!running)
        resolver_destroy(r);
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
