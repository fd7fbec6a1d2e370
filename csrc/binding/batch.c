/*
 * batch.c - _core.Batch: many live checks on one thread (tc_multi).
 *
 * The Python layer (pytlscheck/many.py) adds checks and calls run(wait)
 * in a loop.  run() releases the GIL while the core waits on its sockets
 * and steps the machines, and takes it back only to hand out the reports
 * that completed, as dicts.  It returns at least every `wait` seconds, so
 * the caller notices Ctrl-C: PyErr_CheckSignals runs right after the GIL
 * is back, and the caller's `finally: batch.close()` closes every socket.
 *
 * Threads: add(), cancel(), wake() and the counters may be used from any
 * thread while one thread is inside run() (the core takes a mutex).
 * close() from another thread while run() is waiting is deferred: it
 * wakes run(), which frees the driver on its way out.
 */
#include "binding.h"

typedef struct {
    PyObject_HEAD
    tc_multi *multi;      /* NULL once closed */
    int running;          /* a thread is inside run() (GIL released) */
    int close_requested;  /* close() came while running */
} BatchObject;

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
    BatchObject *self = (BatchObject *)tp->tp_alloc(tp, 0);
    if (self == NULL) {
        tc_multi_free(m);
        return NULL;
    }
    self->multi = m;
    return (PyObject *)self;
}

static void Batch_dealloc(PyObject *op)
{
    BatchObject *self = (BatchObject *)op;
    PyTypeObject *tp = Py_TYPE(op);
    /* run() holds a reference while it runs: never running here. */
    tc_multi_free(self->multi);
    tp->tp_free(op);
    Py_DECREF(tp);
}

static int closed(BatchObject *self)
{
    if (self->multi == NULL || self->close_requested) {
        PyErr_SetString(PyExc_ValueError, "the batch is closed");
        return 1;
    }
    return 0;
}

static PyObject *Batch_add(PyObject *op, PyObject *args, PyObject *kwargs)
{
    static char *kwlist[] = {"tag", "client", "host", "port", "server_name", "timeout",
                             "min_days", "min_remaining", "at", "purpose", "crls",
                             "max_depth", "ekus", NULL};
    BatchObject *self = (BatchObject *)op;
    unsigned long long tag;
    PyObject *client_obj, *at = Py_None, *crls = Py_None, *ekus = Py_None;
    const char *host, *server_name = NULL;
    int port, purpose = TC_PURPOSE_SERVER, max_depth = -1, min_days = 30;
    double timeout = 10.0, min_remaining = 0.0;
    tc_check_params cp;
    vparams vp;
    tc_error err;
    tc_status st;

    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "KOsi|zdidOiOiO:add", kwlist, &tag,
                                     &client_obj, &host, &port, &server_name, &timeout,
                                     &min_days, &min_remaining, &at, &purpose, &crls,
                                     &max_depth, &ekus))
        return NULL;
    if (closed(self))
        return NULL;
    PyObject *module = PyType_GetModule(Py_TYPE(op));
    if (module == NULL)
        return NULL;
    tc_client *client = tcpy_client_of(module, client_obj);
    if (client == NULL)
        return NULL;
    if (port < 1 || port > 65535) {
        PyErr_Format(PyExc_ValueError, "port must be between 1 and 65535, not %d", port);
        return NULL;
    }
    if (!(timeout > 0)) {
        PyErr_SetString(PyExc_ValueError, "timeout must be a positive number of seconds");
        return NULL;
    }
    if (tcpy_vparams_fill(&vp, NULL, at, purpose, crls, max_depth, min_days,
                          min_remaining, ekus) < 0)
        return NULL;
    memset(&cp, 0, sizeof(cp));
    cp.host = host;
    cp.port = port;
    cp.server_name = server_name;
    cp.timeout = timeout;
    cp.verify = vp.p;
    tc_error_clear(&err);
    /* Copies everything: vp can go at once. */
    st = tc_multi_add(self->multi, client, &cp, (uint64_t)tag, &err);
    tcpy_vparams_clear(&vp);
    if (st != TC_OK)
        return tcpy_raise(&err);
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

static PyObject *Batch_run(PyObject *op, PyObject *arg)
{
    BatchObject *self = (BatchObject *)op;
    double wait = PyFloat_AsDouble(arg);
    size_t ready = 0;
    tc_error err;
    tc_status st;
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
    self->running = 1;
    Py_INCREF(op);
    tc_error_clear(&err);
    Py_BEGIN_ALLOW_THREADS
    st = tc_multi_run(self->multi, (int64_t)(wait * 1e9), &ready, &err);
    Py_END_ALLOW_THREADS
    self->running = 0;
    PyObject *out = NULL;
    if (self->close_requested) {
        tc_multi_free(self->multi);
        self->multi = NULL;
        out = PyList_New(0);
        goto done;
    }
    if (st != TC_OK) {
        tcpy_raise(&err);
        goto done;
    }
    /* Ctrl-C: raise now; the caller closes the batch (every socket). */
    if (PyErr_CheckSignals() < 0)
        goto done;
    PyObject *module = PyType_GetModule(Py_TYPE(op));
    if (module == NULL)
        goto done;
    PyObject *ca_cache = tcpy_ca_cache(module);
    out = PyList_New(0);
    if (out == NULL)
        goto done;
    uint64_t tag;
    tc_report *report;
    tc_error ce;
    tc_error_clear(&ce);
    while (tc_multi_pop(self->multi, &tag, &report, &ce)) {
        PyObject *value = report != NULL ? tcpy_report_dict(report, ca_cache) : error_object(&ce);
        tc_report_free(report);
        PyObject *item = value != NULL ? Py_BuildValue("(KN)", (unsigned long long)tag, value)
                                       : NULL;
        if (item == NULL || PyList_Append(out, item) < 0) {
            Py_XDECREF(item);
            Py_CLEAR(out);
            goto done;
        }
        Py_DECREF(item);
        tc_error_clear(&ce);
    }
done:
    Py_DECREF(op);
    return out;
}

static PyObject *Batch_cancel(PyObject *op, PyObject *arg)
{
    BatchObject *self = (BatchObject *)op;
    unsigned long long tag = PyLong_AsUnsignedLongLong(arg);
    if (tag == (unsigned long long)-1 && PyErr_Occurred())
        return NULL;
    if (self->multi != NULL && !self->close_requested)
        tc_multi_cancel(self->multi, (uint64_t)tag);
    Py_RETURN_NONE;
}

static PyObject *Batch_wake(PyObject *op, PyObject *Py_UNUSED(ignored))
{
    BatchObject *self = (BatchObject *)op;
    if (self->multi != NULL)
        tc_multi_wake(self->multi);
    Py_RETURN_NONE;
}

static PyObject *Batch_close(PyObject *op, PyObject *Py_UNUSED(ignored))
{
    BatchObject *self = (BatchObject *)op;
    if (self->multi == NULL)
        Py_RETURN_NONE;
    if (self->running) {
        self->close_requested = 1;
        tc_multi_wake(self->multi);
        Py_RETURN_NONE;
    }
    tc_multi_free(self->multi);
    self->multi = NULL;
    Py_RETURN_NONE;
}

static PyObject *Batch_stats(PyObject *op, PyObject *Py_UNUSED(ignored))
{
    BatchObject *self = (BatchObject *)op;
    tc_multi_stats s;
    if (self->multi == NULL || self->close_requested) {
        memset(&s, 0, sizeof(s));
    } else {
        tc_multi_get_stats(self->multi, &s);
    }
    return Py_BuildValue("{s:n, s:n, s:n, s:n, s:n, s:K, s:K}",
                         "queued", (Py_ssize_t)s.queued, "in_flight", (Py_ssize_t)s.in_flight,
                         "ready", (Py_ssize_t)s.ready, "max_in_flight", (Py_ssize_t)s.max_in_flight,
                         "concurrency", (Py_ssize_t)s.concurrency,
                         "started", (unsigned long long)s.started,
                         "completed", (unsigned long long)s.completed);
}

static PyObject *Batch_get_closed(PyObject *op, void *Py_UNUSED(closure))
{
    BatchObject *self = (BatchObject *)op;
    return PyBool_FromLong(self->multi == NULL || self->close_requested);
}

#define KW(f) (PyCFunction)(void (*)(void))(f)

static PyMethodDef Batch_methods[] = {
    {"add", KW(Batch_add), METH_VARARGS | METH_KEYWORDS,
     "add(tag, client, host, port, server_name=None, timeout=10.0, min_days=30,\n"
     "    min_remaining=0.0, at=None, purpose=0, crls=None, max_depth=-1, ekus=None)\n\n"
     "Queues one check; thread-safe.  Its machine starts when a slot frees up."},
    {"run", Batch_run, METH_O,
     "run(wait: float) -> list[tuple[int, dict | Exception]]\n\n"
     "Drives the checks (GIL released) until some complete or `wait` seconds\n"
     "pass; returns (tag, report dict) for each completed check, or (tag,\n"
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
    return (PyTypeObject *)PyType_FromModuleAndSpec(module, &Batch_spec, NULL);
}
