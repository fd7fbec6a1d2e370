/*
 * multi.c - many live checks on one thread (tc_multi).
 *
 * The driver owns up to `concurrency` slots, each running one tc_check
 * machine (live.c).  One epoll instance watches the socket each machine
 * waits on; one binary heap of wake-up times (tc_check_deadline_ns)
 * serves as the timer for every machine, so DNS polling, connect
 * attempts and deadlines need no thread or timerfd of their own.  A
 * queued check becomes a machine only when a slot frees up: its deadline
 * starts then, not when it was queued.
 *
 *   tc_multi_add ──> queue ──> slot (machine) ──> results ──> tc_multi_pop
 *        (any thread)           epoll + heap        (the running thread)
 *
 * Threads: tc_multi_add, tc_multi_cancel, tc_multi_wake and
 * tc_multi_get_stats may be called from any thread; they take the mutex
 * and write to an eventfd that epoll watches, so a runner asleep in
 * epoll_wait wakes up.  Slots, the heap and the results belong to the
 * thread inside tc_multi_run (one at a time).
 *
 * Socket registrations: a machine closes its socket itself (on failure,
 * before trying the next address, when done), and close() removes the
 * socket from the epoll interest list.  So when a machine reports a
 * different socket than the slot registered, the old registration is
 * already gone and must not be deleted: the number may belong to another
 * slot's new socket by now.  "Different" is tc_check_fd_serial, not the
 * number: the probe's socket usually gets the number of the main
 * connection's, closed just before it, and waits for the same event, so
 * comparing numbers would leave it unwatched until the deadline.  A
 * reused number that is not registered any more shows up as ENOENT on
 * EPOLL_CTL_MOD and is added instead.
 */
#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include "tlscheck.h"

#define NS_PER_S 1000000000LL
/* epoll events taken per wait. */
#define MAX_EVENTS 256
/* epoll data of the eventfd (slot indices are below it). */
#define WAKE_TOKEN UINT64_MAX
/* Descriptors kept free for everything else of the process (glibc's
 * resolver sockets, files, the embedding application). */
#define FD_RESERVE 64

/* ------------------------------------------------------------------ */
/* Jobs: a check's parameters, owned copies                             */
/* ------------------------------------------------------------------ */

/* A job is also its own result: once its check is done, the job (its
 * parameters released) moves to the results list carrying the report, so
 * completing a check never allocates and no result can be lost. */
typedef struct job {
    struct job *next;
    uint64_t tag;
    tc_client *client;             /* one reference */
    tc_check_params p;             /* pointers into this job */
    STACK_OF(X509_CRL) *crls;      /* each CRL up-referenced */
    STACK_OF(X509) *crl_certs;     /* each up-referenced */
    char **ekus;
    size_t n_ekus;
    /* The result. */
    tc_report *report;             /* owned */
    tc_error *err;                 /* owned; NULL when the check ran */
    int err_lost;                  /* it did not run, and no memory was left to say why */
} job;

static const tc_error NOMEM_ERR = { TC_E_NOMEM, 0, "out of memory keeping the error of a check" };

/* What the check needed, once it is done. */
static void job_release_params(job *j)
{
    tc_client_free(j->client);
    j->client = NULL;
    sk_X509_CRL_pop_free(j->crls, X509_CRL_free);
    j->crls = NULL;
    sk_X509_pop_free(j->crl_certs, X509_free);
    j->crl_certs = NULL;
    for (size_t i = 0; i < j->n_ekus; i++)
        free(j->ekus[i]);
    free(j->ekus);
    j->ekus = NULL;
    j->n_ekus = 0;
    free((char *)(uintptr_t)j->p.host);
    free((char *)(uintptr_t)j->p.server_name);
    j->p.host = j->p.server_name = NULL;
}

static void job_free(job *j)
{
    if (j == NULL)
        return;
    job_release_params(j);
    tc_report_free(j->report);
    free(j->err);
    free(j);
}

static tc_status job_new(tc_client *client, const tc_check_params *p, uint64_t tag,
                         job **out, tc_error *err)
{
    *out = NULL;
    if (client == NULL || p == NULL || p->host == NULL)
        return tc_error_set(err, TC_E_INVALID, "A queued check needs a client and a host.");
    job *j = calloc(1, sizeof(*j));
    if (j == NULL)
        goto nomem;
    j->tag = tag;
    j->client = tc_client_ref(client);
    j->p = *p;
    j->p.host = NULL;
    j->p.server_name = NULL;
    j->p.verify.crls = NULL;
    j->p.verify.crl_certs = NULL;
    j->p.verify.required_ekus = NULL;
    j->p.verify.n_required_ekus = 0;
    j->p.verify.hostname = NULL;      /* tc_check_new fills it */
    char *host = strdup(p->host);
    j->p.host = host;
    if (host == NULL)
        goto nomem;
    if (p->server_name != NULL) {
        char *sn = strdup(p->server_name);
        j->p.server_name = sn;
        if (sn == NULL)
            goto nomem;
    }
    if (p->verify.crls != NULL) {
        if ((j->crls = sk_X509_CRL_new_null()) == NULL)
            goto nomem;
        for (int i = 0; i < sk_X509_CRL_num(p->verify.crls); i++) {
            X509_CRL *crl = sk_X509_CRL_value(p->verify.crls, i);
            if (!X509_CRL_up_ref(crl))
                goto nomem;
            if (sk_X509_CRL_push(j->crls, crl) <= 0) {
                X509_CRL_free(crl);
                goto nomem;
            }
        }
        j->p.verify.crls = j->crls;
    }
    if (p->verify.crl_certs != NULL) {
        if ((j->crl_certs = X509_chain_up_ref(p->verify.crl_certs)) == NULL)
            goto nomem;
        j->p.verify.crl_certs = j->crl_certs;
    }
    if (p->verify.required_ekus != NULL && p->verify.n_required_ekus > 0) {
        if ((j->ekus = calloc(p->verify.n_required_ekus, sizeof(*j->ekus))) == NULL)
            goto nomem;
        for (size_t i = 0; i < p->verify.n_required_ekus; i++) {
            if ((j->ekus[i] = strdup(p->verify.required_ekus[i])) == NULL)
                goto nomem;
            j->n_ekus++;
        }
        j->p.verify.required_ekus = (const char *const *)j->ekus;
        j->p.verify.n_required_ekus = j->n_ekus;
    }
    *out = j;
    return TC_OK;
nomem:
    job_free(j);
    return tc_error_set(err, TC_E_NOMEM, "out of memory queueing a check of %s", p->host);
}

/* ------------------------------------------------------------------ */
/* The driver                                                          */
/* ------------------------------------------------------------------ */

typedef struct slot {
    tc_check *check;       /* NULL: free */
    job *job;              /* owned while the check runs (it borrows from it) */
    int fd;                /* registered with epoll, -1: none */
    unsigned long serial;  /* tc_check_fd_serial of the registered socket */
    uint32_t events;       /* registered events */
    int64_t wake;          /* heap key */
    size_t hpos;           /* index in the heap */
} slot;

struct tc_multi {
    int epfd, wakefd;
    size_t concurrency;
    int no_pwait2;         /* the kernel (or valgrind) lacks epoll_pwait2 */

    /* Runner-owned. */
    slot *slots;
    size_t *heap;          /* slot indices, min-heap on slots[].wake */
    size_t n_heap;
    size_t *free_slots;    /* stack of free slot indices */
    size_t n_free;
    job *res_head, *res_tail;   /* finished jobs, completion order */

    /* Shared, under lock. */
    pthread_mutex_t lock;
    job *q_head, *q_tail;
    uint64_t *cancels;
    size_t n_cancels, cap_cancels;
    int wake_requested;
    int sleeping;          /* the runner waits in epoll: adds and cancels must wake it */
    tc_multi_stats stats;
};

/* Wakes the runner out of epoll_wait.  Callers hold no lock. */
static void multi_signal(tc_multi *m)
{
    uint64_t one = 1;
    /* EAGAIN: the counter is already non-zero, the runner will wake. */
    (void)!write(m->wakefd, &one, sizeof(one));
}

/* ---- the timer heap ------------------------------------------------ */

static void heap_swap(tc_multi *m, size_t a, size_t b)
{
    size_t t = m->heap[a];
    m->heap[a] = m->heap[b];
    m->heap[b] = t;
    m->slots[m->heap[a]].hpos = a;
    m->slots[m->heap[b]].hpos = b;
}

static void heap_up(tc_multi *m, size_t i)
{
    while (i > 0) {
        size_t parent = (i - 1) / 2;
        if (m->slots[m->heap[parent]].wake <= m->slots[m->heap[i]].wake)
            break;
        heap_swap(m, i, parent);
        i = parent;
    }
}

static void heap_down(tc_multi *m, size_t i)
{
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, min = i;
        if (l < m->n_heap && m->slots[m->heap[l]].wake < m->slots[m->heap[min]].wake)
            min = l;
        if (r < m->n_heap && m->slots[m->heap[r]].wake < m->slots[m->heap[min]].wake)
            min = r;
        if (min == i)
            return;
        heap_swap(m, i, min);
        i = min;
    }
}

static void heap_insert(tc_multi *m, size_t s)
{
    m->slots[s].hpos = m->n_heap;
    m->heap[m->n_heap++] = s;
    heap_up(m, m->n_heap - 1);
}

static void heap_update(tc_multi *m, size_t s, int64_t wake)
{
    int64_t old = m->slots[s].wake;
    m->slots[s].wake = wake;
    if (wake < old)
        heap_up(m, m->slots[s].hpos);
    else if (wake > old)
        heap_down(m, m->slots[s].hpos);
}

static void heap_remove(tc_multi *m, size_t s)
{
    size_t i = m->slots[s].hpos;
    m->n_heap--;
    if (i != m->n_heap) {
        heap_swap(m, i, m->n_heap);
        heap_down(m, i);
        heap_up(m, i);
    }
}

/* ---- descriptor limit ---------------------------------------------- */

static size_t open_fds(void)
{
    size_t n = 0;
    DIR *d = opendir("/proc/self/fd");
    if (d == NULL)
        return 0;      /* no /proc: count on the reserve */
    while (readdir(d) != NULL)
        n++;
    closedir(d);
    return n > 2 ? n - 2 : 0;     /* "." and ".." */
}

/* Each check holds at most one socket at a time. */
static tc_status ensure_fd_limit(size_t concurrency, tc_error *err)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
        return TC_OK;      /* cannot tell: let socket() say so later */
    size_t have = open_fds();
    rlim_t need = (rlim_t)concurrency + (rlim_t)have + FD_RESERVE;
    if (rl.rlim_cur == RLIM_INFINITY || need <= rl.rlim_cur)
        return TC_OK;
    if (rl.rlim_max != RLIM_INFINITY && need > rl.rlim_max) {
        tc_error_set(err, TC_E_IO,
                     "%zu checks in flight need about %llu file descriptors (one socket each, "
                     "plus the %zu this process has open and %d in reserve), but this process "
                     "may open at most %llu (its RLIMIT_NOFILE hard limit): lower the "
                     "concurrency to at most %llu, or raise the hard limit (ulimit -Hn as "
                     "root, LimitNOFILE= for a systemd service).",
                     concurrency, (unsigned long long)need, have, FD_RESERVE,
                     (unsigned long long)rl.rlim_max,
                     rl.rlim_max > (rlim_t)have + FD_RESERVE
                         ? (unsigned long long)(rl.rlim_max - (rlim_t)have - FD_RESERVE) : 0ULL);
        if (err != NULL)
            err->sys_errno = EMFILE;
        return TC_FAIL;
    }
    /* The soft limit is a courtesy to programs that select() on small
     * descriptor numbers; one that asked for this many sockets does not. */
    struct rlimit raised = { .rlim_cur = rl.rlim_max, .rlim_max = rl.rlim_max };
    if (setrlimit(RLIMIT_NOFILE, &raised) != 0) {
        int e = errno;
        tc_error_set(err, TC_E_IO,
                     "%zu checks in flight need about %llu file descriptors, but the soft "
                     "limit is %llu and raising it to the hard limit %llu failed: %s.",
                     concurrency, (unsigned long long)need, (unsigned long long)rl.rlim_cur,
                     (unsigned long long)rl.rlim_max, strerror(e));
        if (err != NULL)
            err->sys_errno = e;
        return TC_FAIL;
    }
    return TC_OK;
}

/* ---- life cycle ---------------------------------------------------- */

tc_status tc_multi_new(size_t concurrency, tc_multi **out, tc_error *err)
{
    *out = NULL;
    if (concurrency < 1 || concurrency > 1000000)
        return tc_error_set(err, TC_E_INVALID,
                            "The number of checks in flight must be 1 to 1000000, not %zu.",
                            concurrency);
    if (ensure_fd_limit(concurrency, err) != TC_OK)
        return TC_FAIL;
    tc_multi *m = calloc(1, sizeof(*m));
    if (m == NULL)
        return tc_error_set(err, TC_E_NOMEM, "out of memory creating a check driver");
    m->epfd = m->wakefd = -1;
    m->concurrency = concurrency;
    m->stats.concurrency = concurrency;
    if (pthread_mutex_init(&m->lock, NULL) != 0) {
        free(m);
        return tc_error_set(err, TC_E_INTERNAL, "could not create a mutex");
    }
    m->slots = calloc(concurrency, sizeof(*m->slots));
    m->heap = calloc(concurrency, sizeof(*m->heap));
    m->free_slots = calloc(concurrency, sizeof(*m->free_slots));
    if (m->slots == NULL || m->heap == NULL || m->free_slots == NULL) {
        tc_error_set(err, TC_E_NOMEM, "out of memory creating a check driver for %zu checks",
                     concurrency);
        goto fail;
    }
    for (size_t i = 0; i < concurrency; i++) {
        m->slots[i].fd = -1;
        m->free_slots[m->n_free++] = concurrency - 1 - i;   /* slot 0 first */
    }
    if ((m->epfd = epoll_create1(EPOLL_CLOEXEC)) < 0 ||
        (m->wakefd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) < 0) {
        int e = errno;
        tc_error_set(err, TC_E_IO, "could not create the check driver's epoll instance: %s",
                     strerror(e));
        if (err != NULL)
            err->sys_errno = e;
        goto fail;
    }
    struct epoll_event ev = { .events = EPOLLIN, .data.u64 = WAKE_TOKEN };
    if (epoll_ctl(m->epfd, EPOLL_CTL_ADD, m->wakefd, &ev) != 0) {
        int e = errno;
        tc_error_set(err, TC_E_IO, "could not watch the check driver's eventfd: %s", strerror(e));
        if (err != NULL)
            err->sys_errno = e;
        goto fail;
    }
    *out = m;
    return TC_OK;
fail:
    tc_multi_free(m);
    return TC_FAIL;
}

/* Frees the slot's machine (closing its socket, which epoll forgets) and
 * returns its job to the caller. */
static job *slot_release(tc_multi *m, size_t s)
{
    slot *sl = &m->slots[s];
    job *j = sl->job;
    heap_remove(m, s);
    tc_check_free(sl->check);
    sl->check = NULL;
    sl->job = NULL;
    sl->fd = -1;
    sl->events = 0;
    m->free_slots[m->n_free++] = s;
    pthread_mutex_lock(&m->lock);
    m->stats.in_flight--;
    pthread_mutex_unlock(&m->lock);
    return j;
}

void tc_multi_free(tc_multi *m)
{
    if (m == NULL)
        return;
    if (m->slots != NULL && m->heap != NULL)
        for (size_t s = 0; s < m->concurrency; s++)
            if (m->slots[s].check != NULL)
                job_free(slot_release(m, s));
    while (m->q_head != NULL) {
        job *j = m->q_head;
        m->q_head = j->next;
        job_free(j);
    }
    while (m->res_head != NULL) {
        job *r = m->res_head;
        m->res_head = r->next;
        job_free(r);
    }
    if (m->epfd >= 0)
        close(m->epfd);
    if (m->wakefd >= 0)
        close(m->wakefd);
    free(m->slots);
    free(m->heap);
    free(m->free_slots);
    free(m->cancels);
    pthread_mutex_destroy(&m->lock);
    free(m);
}

/* ---- the thread-safe entry points ----------------------------------- */

tc_status tc_multi_add(tc_multi *m, tc_client *client, const tc_check_params *p,
                       uint64_t tag, tc_error *err)
{
    job *j;
    if (job_new(client, p, tag, &j, err) != TC_OK)
        return TC_FAIL;
    pthread_mutex_lock(&m->lock);
    if (m->q_tail != NULL)
        m->q_tail->next = j;
    else
        m->q_head = j;
    m->q_tail = j;
    m->stats.queued++;
    /* A runner that is not asleep sees the queue before it next waits:
     * adding between two tc_multi_run calls costs no system call.  Nor
     * does adding while every slot is busy: the runner itself frees the
     * next slot, and looks at the queue before it sleeps again.  (A
     * check being started counts late, which at worst wakes it once too
     * often.) */
    int wake = m->sleeping && m->stats.in_flight < m->concurrency;
    pthread_mutex_unlock(&m->lock);
    if (wake)
        multi_signal(m);
    return TC_OK;
}

void tc_multi_cancel(tc_multi *m, uint64_t tag)
{
    pthread_mutex_lock(&m->lock);
    if (m->n_cancels == m->cap_cancels) {
        size_t cap = m->cap_cancels ? 2 * m->cap_cancels : 16;
        uint64_t *c = realloc(m->cancels, cap * sizeof(*c));
        if (c == NULL) {
            /* Out of memory: the check runs to its deadline and its
             * result is delivered; the caller drops it. */
            pthread_mutex_unlock(&m->lock);
            return;
        }
        m->cancels = c;
        m->cap_cancels = cap;
    }
    m->cancels[m->n_cancels++] = tag;
    int sleeping = m->sleeping;
    pthread_mutex_unlock(&m->lock);
    if (sleeping)
        multi_signal(m);
}

void tc_multi_wake(tc_multi *m)
{
    pthread_mutex_lock(&m->lock);
    m->wake_requested = 1;
    pthread_mutex_unlock(&m->lock);
    multi_signal(m);
}

void tc_multi_get_stats(tc_multi *m, tc_multi_stats *out)
{
    pthread_mutex_lock(&m->lock);
    *out = m->stats;
    pthread_mutex_unlock(&m->lock);
}

/* ---- the runner ---------------------------------------------------- */

/* Files job j as done: with its report, or with the error that kept
 * the check from running (e != NULL). */
static void push_result(tc_multi *m, job *j, tc_report *report, const tc_error *e)
{
    job_release_params(j);
    j->next = NULL;
    j->report = report;
    if (e != NULL) {
        j->err = malloc(sizeof(*j->err));
        if (j->err != NULL)
            *j->err = *e;
        else
            j->err_lost = 1;
    }
    if (m->res_tail != NULL)
        m->res_tail->next = j;
    else
        m->res_head = j;
    m->res_tail = j;
    pthread_mutex_lock(&m->lock);
    m->stats.ready++;
    m->stats.completed++;
    pthread_mutex_unlock(&m->lock);
}

int tc_multi_pop(tc_multi *m, uint64_t *tag, tc_report **report, tc_error *check_err)
{
    job *r = m->res_head;
    if (r == NULL)
        return 0;
    m->res_head = r->next;
    if (m->res_head == NULL)
        m->res_tail = NULL;
    *tag = r->tag;
    *report = r->report;
    r->report = NULL;
    if (check_err != NULL && (r->err != NULL || r->err_lost))
        *check_err = r->err != NULL ? *r->err : NOMEM_ERR;
    job_free(r);
    pthread_mutex_lock(&m->lock);
    m->stats.ready--;
    pthread_mutex_unlock(&m->lock);
    return 1;
}
/* Registers what the machine waits for.  TC_FAIL: epoll refused. */
static tc_status watch(tc_multi *m, size_t s, tc_step st, tc_error *err)
{
    slot *sl = &m->slots[s];
    int fd = tc_check_fd(sl->check);
    unsigned long serial = tc_check_fd_serial(sl->check);
    uint32_t want = st == TC_STEP_WANT_READ ? EPOLLIN : st == TC_STEP_WANT_WRITE ? EPOLLOUT : 0;
    /* Another socket, even under the same number (the probe after the
     * main connection usually gets it): the machine closed the registered
     * one, so it is already unregistered. */
    if (fd != sl->fd || serial != sl->serial) {
        sl->fd = -1;
        sl->events = 0;
    }
    if (fd < 0 || (sl->fd == fd && sl->events == want))
        return TC_OK;
    struct epoll_event ev = { .events = want, .data.u64 = s };
    int op = sl->fd == fd ? EPOLL_CTL_MOD : EPOLL_CTL_ADD;
    int rc = epoll_ctl(m->epfd, op, fd, &ev);
    if (rc != 0 && op == EPOLL_CTL_MOD && errno == ENOENT)
        rc = epoll_ctl(m->epfd, EPOLL_CTL_ADD, fd, &ev);     /* a reused number */
    else if (rc != 0 && op == EPOLL_CTL_ADD && errno == EEXIST)
        rc = epoll_ctl(m->epfd, EPOLL_CTL_MOD, fd, &ev);
    if (rc != 0) {
        int e = errno;
        tc_error_set(err, TC_E_IO, "could not watch a check's socket with epoll: %s", strerror(e));
        if (err != NULL)
            err->sys_errno = e;
        return TC_FAIL;
    }
    sl->fd = fd;
    sl->serial = serial;
    sl->events = want;
    return TC_OK;
}

/* Advances slot s as far as it goes; hands its result over when done.
 * events: what epoll reported for its socket (0: a timer or a start). */
static tc_status step(tc_multi *m, size_t s, uint32_t events, tc_error *err)
{
    slot *sl = &m->slots[s];
    tc_step st = tc_check_step_ready(sl->check,
                                     (events & (EPOLLOUT | EPOLLERR | EPOLLHUP)) != 0);
    if (st == TC_STEP_DONE) {
        const tc_error *ce = tc_check_error(sl->check);
        tc_error copy;
        tc_report *r = NULL;
        if (ce != NULL)
            copy = *ce;
        else
            r = tc_check_take_report(sl->check);
        push_result(m, slot_release(m, s), r, ce != NULL ? &copy : NULL);
        return TC_OK;
    }
    heap_update(m, s, tc_check_deadline_ns(sl->check));
    return watch(m, s, st, err);
}

/* Moves queued jobs into free slots and applies cancellations. */
static tc_status start_queued(tc_multi *m, tc_error *err)
{
    for (;;) {
        job *j = NULL;
        uint64_t cancel = 0;
        int have_cancel = 0;
        pthread_mutex_lock(&m->lock);
        if (m->n_cancels > 0) {
            cancel = m->cancels[--m->n_cancels];
            have_cancel = 1;
        } else if (m->n_free > 0 && m->q_head != NULL) {
            j = m->q_head;
            m->q_head = j->next;
            if (m->q_head == NULL)
                m->q_tail = NULL;
            j->next = NULL;
            m->stats.queued--;
        }
        pthread_mutex_unlock(&m->lock);
        if (have_cancel) {
            /* Queued, running, or done and not yet popped. */
            pthread_mutex_lock(&m->lock);
            for (job **pp = &m->q_head; *pp != NULL; pp = &(*pp)->next) {
                if ((*pp)->tag == cancel) {
                    job *dead = *pp;
                    *pp = dead->next;
                    if (m->q_tail == dead) {
                        m->q_tail = NULL;
                        for (job *t = m->q_head; t != NULL; t = t->next)
                            m->q_tail = t;
                    }
                    m->stats.queued--;
                    pthread_mutex_unlock(&m->lock);
                    job_free(dead);
                    goto next;
                }
            }
            pthread_mutex_unlock(&m->lock);
            for (size_t s = 0; s < m->concurrency; s++)
                if (m->slots[s].check != NULL && m->slots[s].job->tag == cancel) {
                    job_free(slot_release(m, s));
                    goto next;
                }
            job *prev = NULL;
            for (job **rp = &m->res_head; *rp != NULL; prev = *rp, rp = &(*rp)->next) {
                if ((*rp)->tag == cancel) {
                    job *dead = *rp;
                    *rp = dead->next;
                    if (m->res_tail == dead)
                        m->res_tail = prev;
                    job_free(dead);
                    pthread_mutex_lock(&m->lock);
                    m->stats.ready--;
                    pthread_mutex_unlock(&m->lock);
                    break;
                }
            }
        next:
            continue;
        }
        if (j == NULL)
            return TC_OK;
        tc_error ce;
        tc_error_clear(&ce);
        size_t s = m->free_slots[--m->n_free];
        slot *sl = &m->slots[s];
        if (tc_check_new(j->client, &j->p, &sl->check, &ce) != TC_OK) {
            m->free_slots[m->n_free++] = s;
            push_result(m, j, NULL, &ce);
            continue;
        }
        sl->job = j;
        sl->fd = -1;
        sl->events = 0;
        sl->wake = tc_check_deadline_ns(sl->check);
        heap_insert(m, s);
        pthread_mutex_lock(&m->lock);
        m->stats.started++;
        m->stats.in_flight++;
        if (m->stats.in_flight > m->stats.max_in_flight)
            m->stats.max_in_flight = m->stats.in_flight;
        pthread_mutex_unlock(&m->lock);
        if (step(m, s, 0, err) != TC_OK)
            return TC_FAIL;
    }
}

/* Waits for readiness until `until` (CLOCK_MONOTONIC ns).  Returns the
 * number of events, 0 on timeout or a signal, -1 on failure. */
static int wait_events(tc_multi *m, struct epoll_event *evs, int64_t until)
{
    int64_t left = until - tc_now_ns();
    if (left < 0)
        left = 0;
    struct timespec ts = { .tv_sec = left / NS_PER_S, .tv_nsec = left % NS_PER_S };
    int n = -1;
    if (!m->no_pwait2) {
        n = epoll_pwait2(m->epfd, evs, MAX_EVENTS, &ts, NULL);
        if (n < 0 && errno == ENOSYS)
            m->no_pwait2 = 1;
    }
    if (m->no_pwait2) {
        /* Kernels before 5.11: millisecond timeouts, rounded up so a
         * timer is never run early. */
        int64_t ms = (left + 999999) / 1000000;
        n = epoll_wait(m->epfd, evs, MAX_EVENTS, ms > 1000000 ? 1000000 : (int)ms);
    }
    if (n < 0 && errno == EINTR)
        return 0;
    return n;
}

tc_status tc_multi_run(tc_multi *m, int64_t max_wait_ns, size_t *ready, tc_error *err)
{
    struct epoll_event evs[MAX_EVENTS];
    int64_t until = tc_now_ns() + (max_wait_ns > 0 ? max_wait_ns : 0);
    tc_status rc = TC_FAIL;
    *ready = 0;
    for (;;) {
        if (start_queued(m, err) != TC_OK)
            goto done;
        pthread_mutex_lock(&m->lock);
        int woken = m->wake_requested;
        m->wake_requested = 0;
        int idle = m->q_head == NULL;
        /* Added (or cancelled) since start_queued looked, with a slot
         * free: go round again rather than sleep on it. */
        int more = (!idle && m->n_free > 0) || m->n_cancels > 0;
        int64_t now = tc_now_ns();
        int leave = m->res_head != NULL || woken || (idle && m->n_heap == 0) || now >= until;
        m->sleeping = !leave && !more;
        pthread_mutex_unlock(&m->lock);
        if (leave)
            break;
        if (more)
            continue;
        int64_t next = m->n_heap > 0 && m->slots[m->heap[0]].wake < until
                           ? m->slots[m->heap[0]].wake : until;
        int n = wait_events(m, evs, next);
        pthread_mutex_lock(&m->lock);
        m->sleeping = 0;
        pthread_mutex_unlock(&m->lock);
        if (n < 0) {
            int e = errno;
            tc_error_set(err, TC_E_IO, "waiting for sockets with epoll failed: %s", strerror(e));
            if (err != NULL)
                err->sys_errno = e;
            goto done;
        }
        for (int i = 0; i < n; i++) {
            uint64_t s = evs[i].data.u64;
            if (s == WAKE_TOKEN) {
                uint64_t count;
                (void)!read(m->wakefd, &count, sizeof(count));
                continue;
            }
            /* The slot may have finished (timer) earlier in this round. */
            if (s < m->concurrency && m->slots[s].check != NULL &&
                step(m, (size_t)s, evs[i].events, err) != TC_OK)
                goto done;
        }
        /* Timers: each due machine once per round (one that asks to be
         * called again at once waits for the next round). */
        now = tc_now_ns();
        for (size_t due = m->n_heap; due > 0 && m->n_heap > 0 &&
                                     m->slots[m->heap[0]].wake <= now; due--)
            if (step(m, m->heap[0], 0, err) != TC_OK)
                goto done;
        if (n == 0 && m->res_head == NULL && tc_now_ns() >= until)
            break;
    }
    rc = TC_OK;
done:
    pthread_mutex_lock(&m->lock);
    *ready = m->stats.ready;
    pthread_mutex_unlock(&m->lock);
    return rc;
}
