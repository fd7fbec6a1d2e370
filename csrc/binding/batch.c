/*
 * batch.c - _core.Batch: many live checks on one native thread (tc_multi).
 *
 * Each batch has a driver thread of its own (started by the first add())
 * that never touches Python: it runs tc_multi_run in a loop, pops the
 * reports that complete, flattens each into one block (result.c) and
 * files them on a completion queue (mutex + condition variable).
 * run(wait) only waits on that queue with the GIL released and hands
 * what it finds to Python as _core.Result objects, so the sockets keep
 * being stepped while Python builds reports: a slow consumer delays no
 * handshake in flight.
 *
 *   add() ──> tc_multi ──(driver thread)──> completion queue ──> run()
 *
 * run() returns at least every `wait` seconds, so the caller notices
 * Ctrl-C: PyErr_CheckSignals runs right after the GIL is back, and the
 * caller's `finally: batch.close()` stops the driver thread and closes
 * every socket.  The driver thread blocks every signal, so SIGINT reaches
 * the Python thread.
 *
 * Threads: add(), cancel(), wake() and the counters may be used from any
 * thread while one thread is inside run().  close() from another thread
 * while run() is waiting is deferred: it wakes run(), which stops the
 * driver and frees everything on its way out.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <time.h>
#include <unistd.h>
#include "binding.h"

/* How long the idle driver thread sleeps between looks (it is woken by
 * add() and close() anyway), and the longest tc_multi_run call. */
#define DRIVER_IDLE_NS  (1000LL * 1000000LL)
#define DRIVER_RUN_NS   (1000LL * 1000000LL)

/* One completed check on its way from the driver thread to run(). */
typedef struct done_item {
    struct done_item *next;
    uint64_t tag;
    unsigned char *flat;     /* the report (tcpy_flat_new), owned; NULL: err says why */
    tc_error err;
} done_item;

/* What the driver thread and the Python side share (under lock). */
typedef struct driver {
    tc_multi *multi;
    pthread_t thread;
    int started;             /* thread runs (join it) */
    pthread_mutex_t lock;
    pthread_cond_t work_cv;  /* driver waits: add(), close() */
    pthread_cond_t done_cv;  /* run() waits: completions, failure, close() */
    unsigned long add_gen;   /* bumped by every add() */
    int stop;                /* the driver must leave */
    int failed;              /* tc_multi_run failed: fail_err says why */
    int close_requested;     /* close() came while run() waited */
    int wake_requested;      /* wake(): run() returns what it has */
    tc_error fail_err;
    done_item *q_head, *q_tail;
    size_t n_q;
} driver;

typedef struct {
    PyObject_HEAD
    driver *d;            /* NULL once closed */
    int running;          /* a thread is inside run() (GIL released) */
    pid_t pid;            /* the process that made it */
    unsigned long fork_gen;   /* fork_generation when it was made */
    int forked;           /* used in a child after fork(): given up */
} BatchObject;

/* Bumped in every child process by a pthread_atfork handler
 * (tcpy_batch_type_new installs it once per process): a batch knows it
 * is in a child by comparing generations, without a getpid() system call
 * per method call.  Process-wide by nature, so a C global. */
static volatile unsigned long fork_generation;
static pthread_once_t fork_hook_once = PTHREAD_ONCE_INIT;

static void on_fork_child(void)
{
    fork_generation++;
}

static void install_fork_hook(void)
{
    (void)pthread_atfork(NULL, NULL, on_fork_child);
}

/* In a child after fork() the driver thread does not exist, and its lock
 * may have been held by a thread that is gone: touching the batch could
 * hang.  So the child gives it up at the first use (its memory and the
 * descriptors inherited from the parent are left alone, a bounded leak)
 * and add()/run() say why.  Called first by every method. */
static void give_up_if_forked(BatchObject *self)
{
    if (self->d != NULL && fork_generation != self->fork_gen) {
        self->d = NULL;
        self->running = 0;
        self->forked = 1;
    }
}

static void free_items(done_item *it)
{
    while (it != NULL) {
        done_item *next = it->next;
        tcpy_flat_free(it->flat);
        free(it);
        it = next;
    }
}

static void deadline_after(struct timespec *ts, int64_t ns)
{
    clock_gettime(CLOCK_MONOTONIC, ts);
    ns += ts->tv_nsec;
    ts->tv_sec += (time_t)(ns / 1000000000LL);
    ts->tv_nsec = (long)(ns % 1000000000LL);
}

/* Moves the completed checks from the core to the completion queue,
 * each report flattened into one block here, so that what the check
 * allocated on this thread (the report, the certificates libssl parsed)
 * is freed on this thread too: the Python side frees one block. */
static void drain(driver *d)
{
    done_item *head = NULL, *tail = NULL;
    size_t n = 0;
    for (;;) {
        done_item *it = malloc(sizeof(*it));
        if (it == NULL) {
            /* Out of memory: the results stay in the core, where run
             * returns at once; wait a little rather than spin. */
            struct timespec ms = { 0, 1000000L };
            nanosleep(&ms, NULL);
            break;
        }
        it->next = NULL;
        it->flat = NULL;
        tc_error_clear(&it->err);
        tc_report *report = NULL;
        if (!tc_multi_pop(d->multi, &it->tag, &report, &it->err)) {
            free(it);
            break;
        }
        if (report != NULL) {
            it->flat = tcpy_flat_new(report);
            tc_report_free(report);
            if (it->flat == NULL)
                (void)tc_error_set(&it->err, TC_E_NOMEM, "out of memory keeping a check's report");
        }
        if (tail != NULL)
            tail->next = it;
        else
            head = it;
        tail = it;
        n++;
    }
    if (head == NULL)
        return;
    pthread_mutex_lock(&d->lock);
    if (d->q_tail != NULL)
        d->q_tail->next = head;
    else
        d->q_head = head;
    d->q_tail = tail;
    d->n_q += n;
    pthread_cond_signal(&d->done_cv);
    pthread_mutex_unlock(&d->lock);
}

static void *driver_main(void *arg)
{
    driver *d = arg;
    for (;;) {
        pthread_mutex_lock(&d->lock);
        int stop = d->stop;
        unsigned long gen = d->add_gen;
        pthread_mutex_unlock(&d->lock);
        if (stop)
            break;
        tc_multi_stats s;
        tc_multi_get_stats(d->multi, &s);
        if (s.queued == 0 && s.in_flight == 0 && s.ready == 0) {
            /* Nothing to drive: sleep until add() (which bumps add_gen
             * after queueing, so no add is missed) or close(). */
            struct timespec until;
            deadline_after(&until, DRIVER_IDLE_NS);
            pthread_mutex_lock(&d->lock);
            if (!d->stop && d->add_gen == gen)
                pthread_cond_timedwait(&d->work_cv, &d->lock, &until);
            pthread_mutex_unlock(&d->lock);
            continue;
        }
        size_t ready = 0;
        tc_error err;
        tc_error_clear(&err);
        if (tc_multi_run(d->multi, DRIVER_RUN_NS, &ready, &err) != TC_OK) {
            pthread_mutex_lock(&d->lock);
            d->failed = 1;
            d->fail_err = err;
            pthread_cond_broadcast(&d->done_cv);
            pthread_mutex_unlock(&d->lock);
            break;
        }
        drain(d);
    }
    return NULL;
}

/* Starts the driver thread if it is not running.  0, or -1 with an
 * exception set. */
static int driver_start(driver *d)
{
    if (d->started)
        return 0;
    sigset_t all, old;
    sigfillset(&all);
    /* The thread inherits this mask: signals go to Python's threads. */
    pthread_sigmask(SIG_SETMASK, &all, &old);
    int rc = pthread_create(&d->thread, NULL, driver_main, d);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (rc != 0) {
        errno = rc;
        PyErr_SetFromErrno(PyExc_OSError);
        return -1;
    }
    d->started = 1;
    return 0;
}

/* Stops the driver thread and frees everything: every socket is closed
 * when this returns.  The GIL may be held (the thread never takes it). */
static void driver_free(driver *d)
{
    if (d == NULL)
        return;
    if (d->started) {
        pthread_mutex_lock(&d->lock);
        d->stop = 1;
        pthread_cond_broadcast(&d->work_cv);
        pthread_mutex_unlock(&d->lock);
        tc_multi_wake(d->multi);
        pthread_join(d->thread, NULL);
        d->started = 0;
    }
    tc_multi_free(d->multi);
    free_items(d->q_head);
    pthread_cond_destroy(&d->work_cv);
    pthread_cond_destroy(&d->done_cv);
    pthread_mutex_destroy(&d->lock);
    free(d);
}

static driver *driver_new(tc_multi *m)
{
    driver *d = calloc(1, sizeof(*d));
    pthread_condattr_t ca;
    if (d == NULL)
        return NULL;
    d->multi = m;
    if (pthread_mutex_init(&d->lock, NULL) != 0) {
        free(d);
        return NULL;
    }
    if (pthread_condattr_init(&ca) != 0)
        goto fail_lock;
    if (pthread_condattr_setclock(&ca, CLOCK_MONOTONIC) != 0 ||
        pthread_cond_init(&d->work_cv, &ca) != 0)
        goto fail_attr;
    if (pthread_cond_init(&d->done_cv, &ca) != 0) {
        pthread_cond_destroy(&d->work_cv);
        goto fail_attr;
    }
    pthread_condattr_destroy(&ca);
    return d;
fail_attr:
    pthread_condattr_destroy(&ca);
fail_lock:
    pthread_mutex_destroy(&d->lock);
    free(d);
    return NULL;
}

static PyObject *Batch_new(PyTypeObject *tp, PyObject *args, PyObject *kwargs)
{
    static char *kwlist[] = {"concurrency", NULL};
    Py_ssize_t concurrency;
    tc_multi *m = NULL;
    tc_error err;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "n:Batch", kwlist, &concurrency))
        return NULL;
    if (concurrency < 1) {
        PyErr_Format(PyExc_ValueError, "concurrency must be at least 1, not %zd", concurrency);
        return NULL;
    }
    tc_error_clear(&err);
    if (tc_multi_new((size_t)concurrency, &m, &err) != TC_OK)
        return tcpy_raise(&err);
    driver *d = driver_new(m);
    if (d == NULL) {
        tc_multi_free(m);
        return PyErr_NoMemory();
    }
    BatchObject *self = (BatchObject *)tp->tp_alloc(tp, 0);
    if (self == NULL) {
        driver_free(d);
        return NULL;
    }
    self->d = d;
    self->pid = getpid();
    self->fork_gen = fork_generation;
    return (PyObject *)self;
}

/* Stops the driver thread (GIL released: it never needs it, but the
 * join may wait for one step of the machines) and frees the batch. */
static void batch_shutdown(BatchObject *self)
{
    driver *d = self->d;
    self->d = NULL;
    if (d == NULL)
        return;
    Py_BEGIN_ALLOW_THREADS
    driver_free(d);
    Py_END_ALLOW_THREADS
}

static void Batch_dealloc(PyObject *op)
{
    BatchObject *self = (BatchObject *)op;
    PyTypeObject *tp = Py_TYPE(op);
    /* run() holds a reference while it runs: never running here. */
    give_up_if_forked(self);
    batch_shutdown(self);
    tp->tp_free(op);
    Py_DECREF(tp);
}

static int close_pending(driver *d)
{
    pthread_mutex_lock(&d->lock);
    int c = d->close_requested;
    pthread_mutex_unlock(&d->lock);
    return c;
}

static int closed(BatchObject *self)
{
    give_up_if_forked(self);
    if (self->forked) {
        PyErr_Format(PyExc_RuntimeError, "this batch was made in process %ld, before a "
                     "fork(); its driver thread does not exist in this process (%ld): make "
                     "a new batch here", (long)self->pid, (long)getpid());
        return 1;
    }
    if (self->d == NULL || close_pending(self->d)) {
        PyErr_SetString(PyExc_ValueError, "the batch is closed");
        return 1;
    }
    return 0;
}

static PyObject *Batch_add(PyObject *op, PyObject *args, PyObject *kwargs)
{
    static char *kwlist[] = {"tag", "client", "host", "port", "server_name", "timeout",
                             "min_days", "min_remaining", "at", "purpose", "crls",
                             "max_depth", "ekus", "starttls", "probe", NULL};
    BatchObject *self = (BatchObject *)op;
    int probe = 0;
    unsigned long long tag;
    PyObject *client_obj, *at = Py_None, *crls = Py_None, *ekus = Py_None;
    const char *host, *server_name = NULL, *starttls = NULL;
    int port, purpose = TC_PURPOSE_SERVER, max_depth = -1, min_days = 30;
    double timeout = 10.0, min_remaining = 0.0;
    tc_check_params cp;
    vparams vp;
    tc_error err;
    tc_status st;

    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "KOsi|zdidOiOiOzp:add", kwlist, &tag,
                                     &client_obj, &host, &port, &server_name, &timeout,
                                     &min_days, &min_remaining, &at, &purpose, &crls,
                                     &max_depth, &ekus, &starttls, &probe))
        return NULL;
    if (closed(self))
        return NULL;
    PyObject *module = PyType_GetModule(Py_TYPE(op));
    if (module == NULL)
        return NULL;
    tc_client *client = tcpy_client_of(module, client_obj);
    if (client == NULL)
        return NULL;
    if (tcpy_check_params(&cp, &vp, host, port, server_name, timeout, at, purpose, crls,
                          max_depth, min_days, min_remaining, ekus, starttls) < 0)
        return NULL;
    cp.probe = probe;
    tc_error_clear(&err);
    /* Copies everything: vp can go at once. */
    st = tc_multi_add(self->d->multi, client, &cp, (uint64_t)tag, &err);
    tcpy_vparams_clear(&vp);
    if (st != TC_OK)
        return tcpy_raise(&err);
    driver *d = self->d;
    /* After queueing: a driver that saw no work and the old add_gen
     * does not go to sleep on this check. */
    pthread_mutex_lock(&d->lock);
    d->add_gen++;
    pthread_cond_signal(&d->work_cv);
    pthread_mutex_unlock(&d->lock);
    if (driver_start(d) < 0) {
        tc_multi_cancel(d->multi, (uint64_t)tag);
        return NULL;
    }
    Py_RETURN_NONE;
}

/* The exception a failed check's error maps to, as an object. */
static PyObject *error_object(const tc_error *err)
{
    tcpy_raise(err);
#if PY_VERSION_HEX >= 0x030C0000
    return PyErr_GetRaisedException();
#else
    PyObject *type, *value, *tb;
    PyErr_Fetch(&type, &value, &tb);
    PyErr_NormalizeException(&type, &value, &tb);
    if (value != NULL && tb != NULL)
        PyException_SetTraceback(value, tb);
    Py_XDECREF(type);
    Py_XDECREF(tb);
    return value;
#endif
}

/* Nothing queued, in flight or ready anywhere: run() need not wait. */
static int idle_locked(driver *d)
{
    tc_multi_stats s;
    if (d->q_head != NULL || !d->started)
        return d->q_head == NULL;
    tc_multi_get_stats(d->multi, &s);
    return s.queued == 0 && s.in_flight == 0 && s.ready == 0;
}

static PyObject *Batch_run(PyObject *op, PyObject *arg)
{
    BatchObject *self = (BatchObject *)op;
    double wait = PyFloat_AsDouble(arg);
    if (wait == -1.0 && PyErr_Occurred())
        return NULL;
    if (!(wait >= 0) || wait > 3600) {
        PyErr_SetString(PyExc_ValueError, "wait must be 0 to 3600 seconds");
        return NULL;
    }
    if (closed(self))
        return NULL;
    if (self->running) {
        PyErr_SetString(PyExc_RuntimeError, "run() is already running in another thread");
        return NULL;
    }
    driver *d = self->d;
    done_item *items = NULL;
    int failed, close_now;
    tc_error fail_err;
    self->running = 1;
    Py_INCREF(op);
    Py_BEGIN_ALLOW_THREADS
    struct timespec until;
    deadline_after(&until, (int64_t)(wait * 1e9));
    pthread_mutex_lock(&d->lock);
    while (d->q_head == NULL && !d->failed && !d->close_requested && !d->wake_requested &&
           !idle_locked(d)) {
        int rc = pthread_cond_timedwait(&d->done_cv, &d->lock, &until);
        if (rc == ETIMEDOUT)
            break;
    }
    d->wake_requested = 0;
    items = d->q_head;
    d->q_head = d->q_tail = NULL;
    d->n_q = 0;
    failed = d->failed;
    fail_err = d->fail_err;
    close_now = d->close_requested;
    pthread_mutex_unlock(&d->lock);
    Py_END_ALLOW_THREADS
    self->running = 0;
    PyObject *out = NULL;
    if (close_now) {
        free_items(items);
        items = NULL;
        batch_shutdown(self);
        out = PyList_New(0);
        goto done;
    }
    if (failed && items == NULL) {
        tcpy_raise(&fail_err);
        goto done;
    }
    /* Ctrl-C: raise now; the caller closes the batch (every socket). */
    if (PyErr_CheckSignals() < 0)
        goto done;
    PyObject *module = PyType_GetModule(Py_TYPE(op));
    if (module == NULL)
        goto done;
    out = PyList_New(0);
    if (out == NULL)
        goto done;
    for (done_item *it = items; it != NULL; it = it->next) {
        PyObject *value;
        if (it->flat != NULL) {
            value = tcpy_result_new(module, it->flat);    /* takes the block */
            it->flat = NULL;
        } else {
            value = error_object(&it->err);
        }
        PyObject *item = value != NULL ? Py_BuildValue("(KN)", (unsigned long long)it->tag, value)
                                       : NULL;
        if (item == NULL || PyList_Append(out, item) < 0) {
            Py_XDECREF(item);
            Py_CLEAR(out);
            goto done;
        }
        Py_DECREF(item);
    }
done:
    free_items(items);
    Py_DECREF(op);
    return out;
}

static PyObject *Batch_cancel(PyObject *op, PyObject *arg)
{
    BatchObject *self = (BatchObject *)op;
    unsigned long long tag = PyLong_AsUnsignedLongLong(arg);
    if (tag == (unsigned long long)-1 && PyErr_Occurred())
        return NULL;
    give_up_if_forked(self);
    driver *d = self->d;
    if (d == NULL || close_pending(d))
        Py_RETURN_NONE;
    tc_multi_cancel(d->multi, (uint64_t)tag);
    /* Done already and waiting for run(): drop it here. */
    done_item *dead = NULL;
    pthread_mutex_lock(&d->lock);
    done_item *prev = NULL;
    for (done_item **pp = &d->q_head; *pp != NULL; prev = *pp, pp = &(*pp)->next) {
        if ((*pp)->tag == (uint64_t)tag) {
            dead = *pp;
            *pp = dead->next;
            if (d->q_tail == dead)
                d->q_tail = prev;
            dead->next = NULL;
            d->n_q--;
            break;
        }
    }
    pthread_mutex_unlock(&d->lock);
    free_items(dead);
    Py_RETURN_NONE;
}

static PyObject *Batch_wake(PyObject *op, PyObject *Py_UNUSED(ignored))
{
    BatchObject *self = (BatchObject *)op;
    give_up_if_forked(self);
    driver *d = self->d;
    if (d != NULL) {
        pthread_mutex_lock(&d->lock);
        d->wake_requested = 1;
        pthread_cond_broadcast(&d->done_cv);
        pthread_mutex_unlock(&d->lock);
    }
    Py_RETURN_NONE;
}

static PyObject *Batch_close(PyObject *op, PyObject *Py_UNUSED(ignored))
{
    BatchObject *self = (BatchObject *)op;
    give_up_if_forked(self);
    driver *d = self->d;
    if (d == NULL)
        Py_RETURN_NONE;
    if (self->running) {
        pthread_mutex_lock(&d->lock);
        d->close_requested = 1;
        pthread_cond_broadcast(&d->done_cv);
        pthread_mutex_unlock(&d->lock);
        Py_RETURN_NONE;
    }
    batch_shutdown(self);
    Py_RETURN_NONE;
}

static PyObject *Batch_stats(PyObject *op, PyObject *Py_UNUSED(ignored))
{
    BatchObject *self = (BatchObject *)op;
    give_up_if_forked(self);
    driver *d = self->d;
    tc_multi_stats s;
    size_t waiting = 0;
    memset(&s, 0, sizeof(s));
    if (d != NULL && !close_pending(d)) {
        pthread_mutex_lock(&d->lock);
        tc_multi_get_stats(d->multi, &s);
        waiting = d->n_q;
        pthread_mutex_unlock(&d->lock);
    }
    return Py_BuildValue("{s:n, s:n, s:n, s:n, s:n, s:K, s:K}",
                         "queued", (Py_ssize_t)s.queued, "in_flight", (Py_ssize_t)s.in_flight,
                         "ready", (Py_ssize_t)(s.ready + waiting),
                         "max_in_flight", (Py_ssize_t)s.max_in_flight,
                         "concurrency", (Py_ssize_t)s.concurrency,
                         "started", (unsigned long long)s.started,
                         "completed", (unsigned long long)s.completed);
}

static PyObject *Batch_get_closed(PyObject *op, void *Py_UNUSED(closure))
{
    BatchObject *self = (BatchObject *)op;
    give_up_if_forked(self);
    return PyBool_FromLong(self->d == NULL || close_pending(self->d));
}

#define KW(f) (PyCFunction)(void (*)(void))(f)

static PyMethodDef Batch_methods[] = {
    {"add", KW(Batch_add), METH_VARARGS | METH_KEYWORDS,
     "add(tag, client, host, port, server_name=None, timeout=10.0, min_days=30,\n"
     "    min_remaining=0.0, at=None, purpose=0, crls=None, max_depth=-1, ekus=None,\n"
     "    starttls=None, probe=False)\n\n"
     "Queues one check; thread-safe.  Its machine starts when a slot frees up."},
    {"run", Batch_run, METH_O,
     "run(wait: float) -> list[tuple[int, Result | Exception]]\n\n"
     "Waits (GIL released) until some checks complete or `wait` seconds pass\n"
     "(the batch's own native thread drives the sockets meanwhile); returns\n"
     "(tag, Result) for each completed check, or (tag,\n"
     "exception) for one that could not run.  Raises KeyboardInterrupt (or\n"
     "what a signal handler raises) between waits."},
    {"cancel", Batch_cancel, METH_O, "cancel(tag) -> None\n\nDrops a queued or running check."},
    {"wake", Batch_wake, METH_NOARGS, "wake() -> None\n\nMakes a running run() return soon."},
    {"close", Batch_close, METH_NOARGS,
     "close() -> None\n\nCloses every socket and frees every check (deferred to run()'s\n"
     "return when another thread is inside it)."},
    {"stats", Batch_stats, METH_NOARGS,
     "stats() -> dict\n\nqueued, in_flight, ready, max_in_flight, concurrency, started, completed."},
    {NULL, NULL, 0, NULL}
};

static PyGetSetDef Batch_getset[] = {
    {"closed", Batch_get_closed, NULL, "True once close() was called.", NULL},
    {NULL, NULL, NULL, NULL, NULL}
};

static PyType_Slot Batch_slots[] = {
    {Py_tp_new, Batch_new},
    {Py_tp_dealloc, Batch_dealloc},
    {Py_tp_methods, Batch_methods},
    {Py_tp_getset, Batch_getset},
    {Py_tp_doc, "Batch(concurrency)\n\n"
                "Many live checks driven by one thread, at most `concurrency` in flight."},
    {0, NULL}
};

static PyType_Spec Batch_spec = {
    .name = "pytlscheck._core.Batch",
    .basicsize = sizeof(BatchObject),
    .flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_IMMUTABLETYPE,
    .slots = Batch_slots,
};

PyTypeObject *tcpy_batch_type_new(PyObject *module)
{
    (void)pthread_once(&fork_hook_once, install_fork_hook);
    return (PyTypeObject *)PyType_FromModuleAndSpec(module, &Batch_spec, NULL);
}
