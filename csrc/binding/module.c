/*
 * module.c - pytlscheck._core: the CPython binding of the C core.
 *
 * Multi-phase initialisation (PEP 489) with module state and heap types
 * (PEP 573), as Modules/_ssl.c does: no mutable C globals, so the module
 * can be loaded in several interpreters.  The GIL is released around work
 * that may block or take long (trust store loading, chain verification,
 * live checks); the core touches no Python object there.
 *
 * The Python layer (the .py files of pytlscheck) is the documented API; this module is
 * private and its surface is described in pytlscheck/_core.pyi.
 */
#include "binding.h"
#include "tc_mint.h"
#include "fetch.h"
#include "live_internal.h"

#include <errno.h>
#include <poll.h>
#include <time.h>

#include <openssl/crypto.h>

/* ---- module state: binding.h (core_state, tcpy_state) ----------------- */

/* ---- TrustStore -------------------------------------------------------- */

typedef struct {
    PyObject_HEAD
    tc_trust *trust;
} TrustStoreObject;

static PyObject *trust_wrap(PyTypeObject *tp, tc_trust *t)
{
    TrustStoreObject *self = PyObject_New(TrustStoreObject, tp);
    if (self == NULL) {
        tc_trust_free(t);
        return NULL;
    }
    self->trust = t;
    return (PyObject *)self;
}

static void TrustStore_dealloc(PyObject *op)
{
    TrustStoreObject *self = (TrustStoreObject *)op;
    PyTypeObject *tp = Py_TYPE(op);
    tc_trust_free(self->trust);
    tp->tp_free(op);
    Py_DECREF(tp);
}

/* Loading the system store reads files (and a large bundle takes tens of
 * milliseconds): the GIL is released meanwhile. */
static PyObject *TrustStore_system(PyObject *cls, PyObject *args, PyObject *kwargs)
{
    static char *kwlist[] = {"compare", NULL};
    PyObject *compare = Py_None, *cpath = NULL;
    tc_trust *t = NULL;
    tc_error err;
    tc_status st;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "|O:system", kwlist, &compare))
        return NULL;
    if (compare != Py_None && !PyUnicode_FSConverter(compare, &cpath))
        return NULL;
    tc_error_clear(&err);
    Py_BEGIN_ALLOW_THREADS
    st = tc_trust_new_system(&t, &err);
    if (st == TC_OK && cpath != NULL
        && tc_trust_set_compare(t, PyBytes_AS_STRING(cpath), &err) != TC_OK) {
        tc_trust_free(t);
        t = NULL;
        st = TC_FAIL;
    }
    Py_END_ALLOW_THREADS
    Py_XDECREF(cpath);
    if (st != TC_OK)
        return tcpy_raise(&err);
    return trust_wrap((PyTypeObject *)cls, t);
}

static PyObject *TrustStore_mozilla(PyObject *cls, PyObject *args)
{
    PyObject *path = NULL;
    const char *label;
    tc_trust *t = NULL;
    tc_error err;
    tc_status st;
    if (!PyArg_ParseTuple(args, "O&s:mozilla", PyUnicode_FSConverter, &path, &label))
        return NULL;
    tc_error_clear(&err);
    Py_BEGIN_ALLOW_THREADS
    st = tc_trust_new_mozilla(PyBytes_AS_STRING(path), label, &t, &err);
    Py_END_ALLOW_THREADS
    Py_DECREF(path);
    if (st != TC_OK)
        return tcpy_raise(&err);
    return trust_wrap((PyTypeObject *)cls, t);
}

static PyObject *TrustStore_union(PyObject *cls, PyObject *arg)
{
    PyTypeObject *tp = (PyTypeObject *)cls;
    PyObject *seq = PySequence_Fast(arg, "union() takes a list of TrustStore objects");
    tc_trust *t = NULL;
    tc_error err;
    tc_status st;
    if (seq == NULL)
        return NULL;
    Py_ssize_t n = PySequence_Fast_GET_SIZE(seq);
    tc_trust **parts = PyMem_Calloc(n > 0 ? (size_t)n : 1, sizeof(*parts));
    if (parts == NULL) {
        Py_DECREF(seq);
        return PyErr_NoMemory();
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *o = PySequence_Fast_GET_ITEM(seq, i);
        if (!PyObject_TypeCheck(o, tp)) {
            PyErr_Format(PyExc_TypeError, "union() item %zd must be a TrustStore, not %.80s",
                         i + 1, Py_TYPE(o)->tp_name);
            PyMem_Free(parts);
            Py_DECREF(seq);
            return NULL;
        }
        parts[i] = ((TrustStoreObject *)o)->trust;
    }
    tc_error_clear(&err);
    /* The parts stay referenced by seq while the GIL is released. */
    Py_BEGIN_ALLOW_THREADS
    st = tc_trust_new_union(parts, (size_t)n, &t, &err);
    Py_END_ALLOW_THREADS
    PyMem_Free(parts);
    Py_DECREF(seq);
    if (st != TC_OK)
        return tcpy_raise(&err);
    return trust_wrap(tp, t);
}

static PyObject *TrustStore_from_path(PyObject *cls, PyObject *arg)
{
    PyObject *path = NULL;
    tc_trust *t = NULL;
    tc_error err;
    tc_status st;
    if (!PyUnicode_FSConverter(arg, &path))
        return NULL;
    tc_error_clear(&err);
    Py_BEGIN_ALLOW_THREADS
    st = tc_trust_new_path(PyBytes_AS_STRING(path), &t, &err);
    Py_END_ALLOW_THREADS
    Py_DECREF(path);
    if (st != TC_OK)
        return tcpy_raise(&err);
    return trust_wrap((PyTypeObject *)cls, t);
}

static PyObject *TrustStore_from_der(PyObject *cls, PyObject *args, PyObject *kwargs)
{
    static char *kwlist[] = {"certificates", "what", NULL};
    PyObject *certs;
    const char *what = "the trust anchors";
    STACK_OF(X509) *sk;
    tc_trust *t = NULL;
    tc_error err;
    tc_status st;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "O|s:from_der", kwlist, &certs, &what))
        return NULL;
    sk = tcpy_certs_from(certs, what);
    if (sk == NULL)
        return NULL;
    tc_error_clear(&err);
    st = tc_trust_new_certs(sk, &t, &err);
    sk_X509_pop_free(sk, X509_free);
    if (st != TC_OK)
        return tcpy_raise(&err);
    return trust_wrap((PyTypeObject *)cls, t);
}

static PyObject *TrustStore_contains(PyObject *op, PyObject *arg)
{
    TrustStoreObject *self = (TrustStoreObject *)op;
    STACK_OF(X509) *sk = tcpy_certs_from(arg, "the certificate");
    int found = 0;
    if (sk == NULL)
        return NULL;
    for (int i = 0; i < sk_X509_num(sk) && !found; i++)
        found = tc_trust_contains(self->trust, sk_X509_value(sk, i));
    sk_X509_pop_free(sk, X509_free);
    return PyBool_FromLong(found);
}

static PyObject *TrustStore_get_description(PyObject *op, void *Py_UNUSED(closure))
{
    const char *d = tc_trust_describe(((TrustStoreObject *)op)->trust);
    return PyUnicode_DecodeUTF8(d ? d : "", d ? (Py_ssize_t)strlen(d) : 0, "replace");
}

static PyObject *TrustStore_get_sources(PyObject *op, void *Py_UNUSED(closure))
{
    const tc_trust *t = ((TrustStoreObject *)op)->trust;
    size_t n = tc_trust_source_count(t);
    PyObject *out = PyTuple_New((Py_ssize_t)n);
    for (size_t i = 0; out != NULL && i < n; i++) {
        const char *s = tc_trust_source(t, i);
        PyObject *item = PyUnicode_DecodeUTF8(s, (Py_ssize_t)strlen(s), "replace");
        if (item == NULL) {
            Py_CLEAR(out);
            break;
        }
        PyTuple_SET_ITEM(out, (Py_ssize_t)i, item);
    }
    return out;
}

static PyObject *TrustStore_repr(PyObject *op)
{
    const char *d = tc_trust_describe(((TrustStoreObject *)op)->trust);
    return PyUnicode_FromFormat("<TrustStore %s>", d ? d : "");
}

static PyObject *core_sigcache_stats(PyObject *module, PyObject *Py_UNUSED(ignored))
{
    uint64_t hits, misses;
    tc_sigcache_stats(&hits, &misses);
    return Py_BuildValue("{sKsK}", "hits", (unsigned long long)hits,
                         "misses", (unsigned long long)misses);
}

static PyObject *core_sigcache_clear(PyObject *module, PyObject *Py_UNUSED(ignored))
{
    tc_sigcache_clear();
    Py_RETURN_NONE;
}

/* The rule for URLs taken from certificates (fetch.c), by address. */
static PyObject *core_fetch_addr_allowed(PyObject *module, PyObject *args)
{
    const char *target, *address;
    tc_addr t, a;
    if (!PyArg_ParseTuple(args, "ss:fetch_addr_allowed", &target, &address))
        return NULL;
    if (!tc_addr_from_literal(target, 0, &t))
        return PyErr_Format(PyExc_ValueError, "target is not an IP address: %R", PyTuple_GET_ITEM(args, 0));
    if (!tc_addr_from_literal(address, 0, &a))
        return PyErr_Format(PyExc_ValueError, "address is not an IP address: %R", PyTuple_GET_ITEM(args, 1));
    const char *why = NULL;
    int ok = tc_fetch_addr_allowed((const struct sockaddr *)&t.ss, (const struct sockaddr *)&a.ss, &why);
    return Py_BuildValue("(Os)", ok ? Py_True : Py_False,
                         tc_addr_class_name(tc_addr_classify((const struct sockaddr *)&a.ss)));
}

static PyMethodDef TrustStore_methods[] = {
    {"system", (PyCFunction)(void (*)(void))TrustStore_system,
     METH_VARARGS | METH_KEYWORDS | METH_CLASS,
     "system(compare=None) -> TrustStore\n\nOpenSSL's default verify paths (SSL_CERT_FILE / SSL_CERT_DIR honoured);\n"
     "compare: a Mozilla bundle, read when a chain's root is missing, to say so."},
    {"mozilla", TrustStore_mozilla, METH_VARARGS | METH_CLASS,
     "mozilla(path, label) -> TrustStore\n\nMozilla's list as a PEM bundle (certifi's cacert.pem), named label;\n"
     "a root missing from it is looked up in the system store."},
    {"union", TrustStore_union, METH_O | METH_CLASS,
     "union(stores) -> TrustStore\n\nOne store holding every store's anchors, in order."},
    {"from_path", TrustStore_from_path, METH_O | METH_CLASS,
     "from_path(path) -> TrustStore\n\nA PEM bundle file or a directory of PEM files."},
    {"from_der", (PyCFunction)(void (*)(void))TrustStore_from_der,
     METH_VARARGS | METH_KEYWORDS | METH_CLASS,
     "from_der(certificates, what='the trust anchors') -> TrustStore\n\n"
     "Anchors from bytes (a PEM bundle or one DER certificate) or a list of them."},
    {"contains", TrustStore_contains, METH_O,
     "contains(certificate: bytes) -> bool\n\nWhether the certificate (PEM or DER) is an anchor."},
    {NULL, NULL, 0, NULL}
};

static PyGetSetDef TrustStore_getset[] = {
    {"description", TrustStore_get_description, NULL,
     "Where the anchors come from, in words.", NULL},
    {"sources", TrustStore_get_sources, NULL,
     "Where the anchors come from, one stable string per part (docs/api.md).", NULL},
    {NULL, NULL, NULL, NULL, NULL}
};

static PyType_Slot TrustStore_slots[] = {
    {Py_tp_dealloc, TrustStore_dealloc},
    {Py_tp_repr, TrustStore_repr},
    {Py_tp_methods, TrustStore_methods},
    {Py_tp_getset, TrustStore_getset},
    {Py_tp_doc, "An immutable set of trust anchors, shareable between threads."},
    {0, NULL}
};

static PyType_Spec TrustStore_spec = {
    .name = "pytlscheck._core.TrustStore",
    .basicsize = sizeof(TrustStoreObject),
    .flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_IMMUTABLETYPE | Py_TPFLAGS_DISALLOW_INSTANTIATION,
    .slots = TrustStore_slots,
};

static int trust_converter(PyObject *module, PyObject *obj, tc_trust **out)
{
    core_state *st = tcpy_state(module);
    if (!PyObject_TypeCheck(obj, st->TrustStore_Type)) {
        PyErr_Format(PyExc_TypeError, "trust must be a TrustStore, not %.80s",
                     Py_TYPE(obj)->tp_name);
        return -1;
    }
    *out = ((TrustStoreObject *)obj)->trust;
    return 0;
}

/* ---- Client ------------------------------------------------------------ */


static PyObject *Client_new(PyTypeObject *tp, PyObject *args, PyObject *kwargs)
{
    static char *kwlist[] = {"trust", "client_cert", "client_key", NULL};
    PyObject *trust_obj;
    Py_buffer cert = {0}, key = {0};
    tc_client_params p;
    tc_client *c = NULL;
    tc_error err;
    tc_status st;
    ClientObject *self = NULL;
    PyObject *module = PyType_GetModule(tp);
    core_state *state;

    if (module == NULL)
        return NULL;
    state = tcpy_state(module);
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "O!|z*z*:Client", kwlist,
                                     state->TrustStore_Type, &trust_obj, &cert, &key))
        return NULL;
    memset(&p, 0, sizeof(p));
    p.trust = ((TrustStoreObject *)trust_obj)->trust;
    if (cert.buf != NULL) {
        p.client_cert_pem = cert.buf;
        p.client_cert_len = (size_t)cert.len;
    }
    if (key.buf != NULL) {
        p.client_key_pem = key.buf;
        p.client_key_len = (size_t)key.len;
    }
    tc_error_clear(&err);
    st = tc_client_new(&p, &c, &err);
    if (cert.obj != NULL)
        PyBuffer_Release(&cert);
    if (key.obj != NULL)
        PyBuffer_Release(&key);
    if (st != TC_OK)
        return tcpy_raise(&err);
    self = (ClientObject *)tp->tp_alloc(tp, 0);
    if (self == NULL) {
        tc_client_free(c);
        return NULL;
    }
    self->client = c;
    return (PyObject *)self;
}

static void Client_dealloc(PyObject *op)
{
    ClientObject *self = (ClientObject *)op;
    PyTypeObject *tp = Py_TYPE(op);
    tc_client_free(self->client);
    tp->tp_free(op);
    Py_DECREF(tp);
}

static PyType_Slot Client_slots[] = {
    {Py_tp_new, Client_new},
    {Py_tp_dealloc, Client_dealloc},
    {Py_tp_doc, "Client(trust, client_cert=None, client_key=None)\n\n"
                "A reusable TLS client configuration (one SSL_CTX) for live checks,\n"
                "shareable between threads.  client_cert/client_key are PEM bytes."},
    {0, NULL}
};

static PyType_Spec Client_spec = {
    .name = "pytlscheck._core.Client",
    .basicsize = sizeof(ClientObject),
    .flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_IMMUTABLETYPE,
    .slots = Client_slots,
};

/* ---- module functions ------------------------------------------------ */

static PyObject *core_kinds(PyObject *module, PyObject *Py_UNUSED(ignored))
{
    PyObject *l = PyList_New(0);
    if (l == NULL)
        return NULL;
    for (int i = 0; i < TC_KIND__COUNT; i++) {
        const tc_kind_info *k = tc_kind_get((tc_kind)i);
        PyObject *d = Py_BuildValue(
            "{s:s, s:s, s:s, s:s, s:N, s:s, s:s, s:s, s:s, s:s}",
            "name", k->name,
            "severity", k->severity == TC_SEV_WARNING ? "warning" : "error",
            "exception", k->exception,
            "category", k->category == TC_CAT_CONNECTION ? "connection"
                        : k->category == TC_CAT_HANDSHAKE ? "handshake" : "certificate",
            "breaks_path", PyBool_FromLong(k->breaks_path),
            "cause", k->cause,
            "message", k->message,
            "fix", k->fix,
            "see_file", k->see_file,
            "see_live", k->see_live);
        if (d == NULL || PyList_Append(l, d) < 0) {
            Py_XDECREF(d);
            Py_DECREF(l);
            return NULL;
        }
        Py_DECREF(d);
    }
    return l;
}

/* The dicts of every certificate of sk, which this frees.  New list, or
 * NULL with an exception set. */
static PyObject *certs_list_consume(STACK_OF(X509) *sk)
{
    PyObject *l = PyList_New(sk_X509_num(sk));
    for (int i = 0; l != NULL && i < sk_X509_num(sk); i++) {
        PyObject *d = tcpy_cert_dict(sk_X509_value(sk, i));
        if (d == NULL)
            Py_CLEAR(l);
        else
            PyList_SET_ITEM(l, i, d);
    }
    sk_X509_pop_free(sk, X509_free);
    return l;
}

static PyObject *core_parse_certificates(PyObject *module, PyObject *args, PyObject *kwargs)
{
    static char *kwlist[] = {"data", "what", NULL};
    PyObject *data;
    const char *what = "the certificate data";
    STACK_OF(X509) *sk;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "O|s:parse_certificates", kwlist, &data, &what))
        return NULL;
    sk = tcpy_certs_from(data, what);
    if (sk == NULL)
        return NULL;
    return certs_list_consume(sk);
}

static PyObject *core_load_certificates(PyObject *module, PyObject *arg)
{
    PyObject *path = NULL;
    STACK_OF(X509) *sk = NULL;
    tc_error err;
    tc_status st;
    if (!PyUnicode_FSConverter(arg, &path))
        return NULL;
    tc_error_clear(&err);
    st = tc_certs_load_file(PyBytes_AS_STRING(path), &sk, &err);
    Py_DECREF(path);
    if (st != TC_OK)
        return tcpy_raise(&err);
    return certs_list_consume(sk);
}

static PyObject *core_read_file(PyObject *module, PyObject *arg)
{
    PyObject *path = NULL, *out;
    unsigned char *buf = NULL;
    size_t len = 0;
    tc_error err;
    tc_status st;
    if (!PyUnicode_FSConverter(arg, &path))
        return NULL;
    tc_error_clear(&err);
    Py_BEGIN_ALLOW_THREADS
    st = tc_file_read(PyBytes_AS_STRING(path), &buf, &len, &err);
    Py_END_ALLOW_THREADS
    Py_DECREF(path);
    if (st != TC_OK)
        return tcpy_raise(&err);
    out = PyBytes_FromStringAndSize(len ? (const char *)buf : "", (Py_ssize_t)len);
    free(buf);
    return out;
}

/* kind_for_verify_code(code) -> (kind, no_trusted_path) | None: the one
 * table's reading of a verify code a TLS client reported. */
static PyObject *core_kind_for_verify_code(PyObject *Py_UNUSED(module), PyObject *arg)
{
    long code = PyLong_AsLong(arg);
    if (code == -1 && PyErr_Occurred())
        return NULL;
    if (code <= 0 || code > INT_MAX)
        Py_RETURN_NONE;
    int no_trusted_path = 0;
    tc_kind kind = tc_kind_for_verify_code((int)code, &no_trusted_path);
    const tc_kind_info *k = tc_kind_get(kind);
    if (k == NULL)
        Py_RETURN_NONE;
    return Py_BuildValue("(sN)", k->name, PyBool_FromLong(no_trusted_path));
}

static PyObject *core_normalize_hostname(PyObject *module, PyObject *arg)
{
    const char *s;
    Py_ssize_t len;
    char out[256];
    unsigned char ip[16];
    size_t ip_len = 0;
    int is_ip = 0;
    tc_error err;
    if (!PyUnicode_Check(arg)) {
        PyErr_Format(PyExc_TypeError, "hostname must be str, not %.80s", Py_TYPE(arg)->tp_name);
        return NULL;
    }
    s = PyUnicode_AsUTF8AndSize(arg, &len);
    if (s == NULL)
        return NULL;
    tc_error_clear(&err);
    if (tc_hostname_normalize(s, (size_t)len, out, sizeof(out), &is_ip, ip, &ip_len, &err) != TC_OK)
        return tcpy_raise(&err);
    return Py_BuildValue("(sN)", out, PyBool_FromLong(is_ip));
}

static PyObject *core_match_hostname(PyObject *module, PyObject *args)
{
    PyObject *cert;
    const char *host;
    Py_ssize_t hlen;
    STACK_OF(X509) *sk;
    tc_host_match m;
    tc_error err;
    tc_status st;
    if (!PyArg_ParseTuple(args, "Os#:match_hostname", &cert, &host, &hlen))
        return NULL;
    sk = tcpy_certs_from(cert, "the certificate");
    if (sk == NULL)
        return NULL;
    memset(&m, 0, sizeof(m));
    tc_error_clear(&err);
    st = tc_hostname_check(sk_X509_value(sk, 0), host, (size_t)hlen, &m, &err);
    sk_X509_pop_free(sk, X509_free);
    if (st != TC_OK)
        return tcpy_raise(&err);
    m.matched_name[sizeof(m.matched_name) - 1] = '\0';
    m.reason[sizeof(m.reason) - 1] = '\0';
    return Py_BuildValue("(NNN)", PyBool_FromLong(m.matched),
                         m.matched_name[0]
                             ? PyUnicode_DecodeUTF8(m.matched_name, (Py_ssize_t)strlen(m.matched_name), "replace")
                             : Py_NewRef(Py_None),
                         PyUnicode_DecodeUTF8(m.reason, (Py_ssize_t)strlen(m.reason), "replace"));
}

static PyObject *core_verify(PyObject *module, PyObject *args, PyObject *kwargs)
{
    static char *kwlist[] = {"chain", "trust", "hostname", "at", "purpose", "crls",
                             "max_depth", "min_days", "min_remaining", "ekus", "what",
                             "file", NULL};
    PyObject *chain_obj, *trust_obj, *at = Py_None, *crls = Py_None, *ekus = Py_None;
    const char *hostname = NULL, *what = "the chain", *file_name = NULL;
    int purpose = TC_PURPOSE_SERVER, max_depth = -1, min_days = 30;
    double min_remaining = 0.0;
    tc_trust *trust;
    STACK_OF(X509) *chain = NULL;
    tc_report *report = NULL;
    vparams vp;
    tc_error err;
    tc_status st;
    PyObject *result = NULL;

    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "OO|zOiOiidOsz:verify", kwlist,
                                     &chain_obj, &trust_obj, &hostname, &at, &purpose,
                                     &crls, &max_depth, &min_days, &min_remaining,
                                     &ekus, &what, &file_name))
        return NULL;
    if (trust_converter(module, trust_obj, &trust) < 0)
        return NULL;
    chain = tcpy_certs_from(chain_obj, what);
    if (chain == NULL)
        return NULL;
    if (tcpy_vparams_fill(&vp, hostname, at, purpose, crls, max_depth, min_days,
                     min_remaining, ekus) < 0)
        goto done;
    vp.p.file_name = file_name;
    tc_error_clear(&err);
    if (tc_report_new(&report, &err) != TC_OK) {
        tcpy_raise(&err);
        goto done;
    }
    /* Verification may read the system store's hashed directory and does
     * public-key operations: other threads run meanwhile.  Every pointer
     * used here is owned by this call or by objects it holds. */
    Py_BEGIN_ALLOW_THREADS
    st = tc_verify(report, trust, chain, &vp.p, &err);
    Py_END_ALLOW_THREADS
    if (st != TC_OK) {
        tcpy_raise(&err);
        goto done;
    }
    result = tcpy_result_of(module, report);
done:
    tc_report_free(report);
    sk_X509_pop_free(chain, X509_free);
    tcpy_vparams_clear(&vp);
    return result;
}

/* A check in the main thread hands control back to Python this often at
 * least, so Ctrl-C raises KeyboardInterrupt at once instead of at the
 * check's deadline. */
#define CHECK_SLICE_NS 100000000LL

/* Steps c for at most one slice, waiting in ppoll between steps.  1 when
 * the check is done, 0 when the slice ended or a signal arrived.  Touches
 * no Python object: runs with the GIL released. */
static int check_slice(tc_check *c)
{
    int64_t end = tc_now_ns() + CHECK_SLICE_NS;
    int writable = 0;      /* what the last ppoll saw */
    for (;;) {
        tc_step st = tc_check_step_ready(c, writable);
        writable = 0;
        if (st == TC_STEP_DONE)
            return 1;
        int64_t now = tc_now_ns();
        if (now >= end)
            return 0;
        int64_t wake = tc_check_deadline_ns(c);
        int64_t wait = (wake < end ? wake : end) - now;
        if (wait < 0)
            wait = 0;
        struct timespec ts = { .tv_sec = (time_t)(wait / 1000000000LL),
                               .tv_nsec = (long)(wait % 1000000000LL) };
        struct pollfd pfd = { .fd = tc_check_fd(c),
                              .events = st == TC_STEP_WANT_READ ? POLLIN : POLLOUT };
        int rc = st == TC_STEP_WANT_TIMER || pfd.fd < 0 ? ppoll(NULL, 0, &ts, NULL)
                                                        : ppoll(&pfd, 1, &ts, NULL);
        if (rc < 0 && errno == EINTR)
            return 0;      /* a signal: let Python's handler run now */
        writable = rc > 0 && (pfd.revents & (POLLOUT | POLLERR | POLLHUP)) != 0;
    }
}

/* Runs one check to completion as tc_check_run does, in slices with the
 * GIL released; between slices Python's signal handlers run.  When one
 * raises, the check is freed (its socket closed) and -1 returned. */
static int run_check(tc_client *client, const tc_check_params *cp, tc_report **out)
{
    tc_check *c = NULL;
    tc_error err;
    tc_status st;
    int done, rv = -1;

    *out = NULL;
    tc_error_clear(&err);
    Py_BEGIN_ALLOW_THREADS
    st = tc_check_new(client, cp, &c, &err);
    Py_END_ALLOW_THREADS
    if (st != TC_OK) {
        tcpy_raise(&err);
        return -1;
    }
    for (;;) {
        Py_BEGIN_ALLOW_THREADS
        done = check_slice(c);
        Py_END_ALLOW_THREADS
        if (done)
            break;
        if (PyErr_CheckSignals() < 0)
            goto out;
    }
    const tc_error *cerr = tc_check_error(c);
    if (cerr != NULL) {
        tcpy_raise(cerr);
        goto out;
    }
    *out = tc_check_take_report(c);
    rv = 0;
out:
    tc_check_free(c);
    return rv;
}

static PyObject *core_check(PyObject *module, PyObject *args, PyObject *kwargs)
{
    static char *kwlist[] = {"client", "host", "port", "server_name", "timeout",
                             "at", "purpose", "crls", "max_depth", "min_days",
                             "min_remaining", "ekus", "starttls", "probe", NULL};
    PyObject *client_obj, *at = Py_None, *crls = Py_None, *ekus = Py_None;
    int probe = 0;
    const char *host, *server_name = NULL, *starttls = NULL;
    int port, purpose = TC_PURPOSE_SERVER, max_depth = -1, min_days = 30;
    double timeout = 10.0, min_remaining = 0.0;
    core_state *state = tcpy_state(module);
    tc_check_params cp;
    tc_report *report = NULL;
    vparams vp;
    PyObject *result = NULL;

    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "O!si|zdOiOiidOzp:check", kwlist,
                                     state->Client_Type, &client_obj, &host, &port,
                                     &server_name, &timeout, &at, &purpose, &crls,
                                     &max_depth, &min_days, &min_remaining, &ekus, &starttls,
                                     &probe))
        return NULL;
    if (tcpy_check_params(&cp, &vp, host, port, server_name, timeout, at, purpose, crls,
                          max_depth, min_days, min_remaining, ekus, starttls) < 0)
        return NULL;
    cp.probe = probe;
    /* The whole check (DNS, connect, handshake, verification) runs without
     * the GIL: many Python threads can check endpoints at once. */
    if (run_check(((ClientObject *)client_obj)->client, &cp, &report) < 0)
        goto done;
    result = tcpy_result_of(module, report);
done:
    tc_report_free(report);
    tcpy_vparams_clear(&vp);
    return result;
}

/* Converts an optional float of Unix seconds. */
static int opt_time(PyObject *obj, int64_t *out)
{
    if (obj == NULL || obj == Py_None)
        return 0;
    double t = PyFloat_AsDouble(obj);
    if (t == -1.0 && PyErr_Occurred())
        return -1;
    *out = (int64_t)t;
    return 0;
}

static PyObject *core_mint(PyObject *module, PyObject *args, PyObject *kwargs)
{
    static char *kwlist[] = {"common_name", "organization", "dns_names", "ip_addresses",
                             "not_before", "not_after", "is_ca", "path_length",
                             "key_type", "rsa_bits", "digest", "ekus",
                             "issuer_cert_pem", "issuer_key_pem", "aia_ca_issuers",
                             "ocsp_url", NULL};
    tc_mint_params p;
    PyObject *dns = Py_None, *ips = Py_None, *nb = Py_None, *na = Py_None, *ekus = Py_None;
    PyObject *dns_keep = NULL, *ips_keep = NULL, *ekus_keep = NULL;
    const char **dns_arr = NULL, **ips_arr = NULL, **ekus_arr = NULL;
    const char *issuer_cert = NULL, *issuer_key = NULL;
    Py_ssize_t issuer_cert_len = 0, issuer_key_len = 0;
    int is_ca = 0;
    char *cert_pem = NULL, *key_pem = NULL;
    tc_error err;
    tc_status st;
    PyObject *result = NULL;

    tc_mint_params_init(&p);
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "|$zzOOOOpizizOz#z#zz:mint", kwlist,
                                     &p.common_name, &p.organization, &dns, &ips, &nb, &na,
                                     &is_ca, &p.path_length, &p.key_type, &p.rsa_bits,
                                     &p.digest, &ekus, &issuer_cert, &issuer_cert_len,
                                     &issuer_key, &issuer_key_len, &p.aia_ca_issuers,
                                     &p.ocsp_url))
        return NULL;
    p.is_ca = is_ca;
    if (opt_time(nb, &p.not_before) < 0 || opt_time(na, &p.not_after) < 0)
        return NULL;
    dns_arr = tcpy_strarray(dns, "dns_names", &dns_keep, &p.n_dns);
    if (dns_arr == NULL)
        goto done;
    ips_arr = tcpy_strarray(ips, "ip_addresses", &ips_keep, &p.n_ip);
    if (ips_arr == NULL)
        goto done;
    ekus_arr = tcpy_strarray(ekus, "ekus", &ekus_keep, &p.n_ekus);
    if (ekus_arr == NULL)
        goto done;
    p.dns_names = dns_arr;
    p.ip_addresses = ips_arr;
    p.ekus = p.n_ekus ? ekus_arr : NULL;
    p.issuer_cert_pem = issuer_cert;
    p.issuer_cert_len = (size_t)issuer_cert_len;
    p.issuer_key_pem = issuer_key;
    p.issuer_key_len = (size_t)issuer_key_len;
    tc_error_clear(&err);
    /* Key generation (RSA especially) takes a while: release the GIL. */
    Py_BEGIN_ALLOW_THREADS
    st = tc_mint(&p, &cert_pem, &key_pem, &err);
    Py_END_ALLOW_THREADS
    if (st != TC_OK) {
        tcpy_raise(&err);
        goto done;
    }
    result = Py_BuildValue("(ss)", cert_pem, key_pem);
done:
    free(cert_pem);
    if (key_pem != NULL) {
        OPENSSL_cleanse(key_pem, strlen(key_pem));
        free(key_pem);
    }
    PyMem_Free(dns_arr);
    PyMem_Free(ips_arr);
    PyMem_Free(ekus_arr);
    Py_XDECREF(dns_keep);
    Py_XDECREF(ips_keep);
    Py_XDECREF(ekus_keep);
    return result;
}

#define KW(f) (PyCFunction)(void (*)(void))(f)

static PyMethodDef core_methods[] = {
    {"kinds", core_kinds, METH_NOARGS,
     "kinds() -> list[dict]\n\nThe problem kinds table, most fundamental first."},
    {"parse_certificates", KW(core_parse_certificates), METH_VARARGS | METH_KEYWORDS,
     "parse_certificates(data, what='the certificate data') -> list[dict]\n\n"
     "Certificates from bytes (PEM bundle or one DER certificate) or a list of them."},
    {"read_file", core_read_file, METH_O,
     "read_file(path) -> bytes: the core's bounded, non-blocking file reader."},
    {"load_certificates", core_load_certificates, METH_O,
     "load_certificates(path) -> list[dict]"},
    {"kind_for_verify_code", core_kind_for_verify_code, METH_O,
     "kind_for_verify_code(code: int) -> (kind, no_trusted_path) | None\n\n"
     "The kind an OpenSSL verify code (X509_V_ERR_*) is classified as; no_trusted_path\n"
     "for the codes whose kind depends on the path's shape.  None for 0 (no error)."},
    {"normalize_hostname", core_normalize_hostname, METH_O,
     "normalize_hostname(name: str) -> (str, is_ip: bool)\n\nValidates an ASCII hostname or IP literal."},
    {"match_hostname", core_match_hostname, METH_VARARGS,
     "match_hostname(cert: bytes, hostname: str) -> (ok, matched_name, reason)"},
    {"verify", KW(core_verify), METH_VARARGS | METH_KEYWORDS,
     "verify(chain, trust, hostname=None, at=None, purpose=PURPOSE_SERVER, crls=None,\n"
     "       max_depth=-1, min_days=30, min_remaining=0.0, ekus=None, what='the chain') -> dict"},
    {"check", KW(core_check), METH_VARARGS | METH_KEYWORDS,
     "check(client, host, port, server_name=None, timeout=10.0, at=None, purpose=0,\n"
     "      crls=None, max_depth=-1, min_days=30, min_remaining=0.0, ekus=None,\n"
     "      starttls=None, probe=False) -> dict\n\n"
     "One live check, run with the GIL released."},
    {"sigcache_stats", core_sigcache_stats, METH_NOARGS,
     "sigcache_stats() -> {'hits': n, 'misses': n}\n\nHow often a CA certificate's signature "
     "was found already verified (hits) or was verified (misses), process-wide."},
    {"fetch_addr_allowed", core_fetch_addr_allowed, METH_VARARGS,
     "fetch_addr_allowed(target, address) -> (allowed, address_class)\n\nThe rule for URLs taken "
     "from certificates: may a check of `target` fetch from `address` (IP literals)."},
    {"sigcache_clear", core_sigcache_clear, METH_NOARGS,
     "sigcache_clear()\n\nForgets every remembered signature and zeroes the counters."},
    {"mint", KW(core_mint), METH_VARARGS | METH_KEYWORDS,
     "mint(*, common_name=None, ...) -> (cert_pem, key_pem)\n\nThrowaway certificates for the lab and tests."},
    {NULL, NULL, 0, NULL}
};

/* ---- module definition ----------------------------------------------- */

static int exec_types(PyObject *module)
{
    core_state *st = tcpy_state(module);
    st->TrustStore_Type = (PyTypeObject *)PyType_FromModuleAndSpec(module, &TrustStore_spec, NULL);
    if (st->TrustStore_Type == NULL)
        return -1;
    if (PyModule_AddType(module, st->TrustStore_Type) < 0)
        return -1;
    st->Client_Type = (PyTypeObject *)PyType_FromModuleAndSpec(module, &Client_spec, NULL);
    if (st->Client_Type == NULL)
        return -1;
    if (PyModule_AddType(module, st->Client_Type) < 0)
        return -1;
    st->Result_Type = tcpy_result_type_new(module);
    if (st->Result_Type == NULL)
        return -1;
    if (PyModule_AddType(module, st->Result_Type) < 0)
        return -1;
    PyObject *fields = tcpy_result_fields();
    int rc = fields != NULL ? PyModule_AddObjectRef(module, "REPORT_FIELDS", fields) : -1;
    Py_XDECREF(fields);
    if (rc < 0)
        return -1;
    st->Batch_Type = tcpy_batch_type_new(module);
    if (st->Batch_Type == NULL)
        return -1;
    if (PyModule_AddType(module, st->Batch_Type) < 0)
        return -1;
    return 0;
}

static int exec_constants(PyObject *module)
{
    if (PyModule_AddIntConstant(module, "PURPOSE_SERVER", TC_PURPOSE_SERVER) < 0
        || PyModule_AddIntConstant(module, "PURPOSE_CLIENT", TC_PURPOSE_CLIENT) < 0
        || PyModule_AddStringConstant(module, "OPENSSL_VERSION", OpenSSL_version(OPENSSL_VERSION)) < 0)
        return -1;
    return 0;
}

static int core_traverse(PyObject *module, visitproc visit, void *arg)
{
    core_state *st = tcpy_state(module);
    Py_VISIT(st->TrustStore_Type);
    Py_VISIT(st->Client_Type);
    Py_VISIT(st->Batch_Type);
    Py_VISIT(st->Result_Type);
    return 0;
}

static int core_clear(PyObject *module)
{
    core_state *st = tcpy_state(module);
    Py_CLEAR(st->TrustStore_Type);
    Py_CLEAR(st->Client_Type);
    Py_CLEAR(st->Batch_Type);
    Py_CLEAR(st->Result_Type);
    return 0;
}

static void core_free(void *module)
{
    core_clear((PyObject *)module);
}

static PyModuleDef_Slot core_slots[] = {
    {Py_mod_exec, exec_types},
    {Py_mod_exec, exec_constants},
#if PY_VERSION_HEX >= 0x030C0000
    {Py_mod_multiple_interpreters, Py_MOD_PER_INTERPRETER_GIL_SUPPORTED},
#endif
    {0, NULL}
};

static struct PyModuleDef core_module = {
    PyModuleDef_HEAD_INIT,
    .m_name = "pytlscheck._core",
    .m_doc = "The C core of pytlscheck (private: use the pytlscheck package).",
    .m_size = sizeof(core_state),
    .m_methods = core_methods,
    .m_slots = core_slots,
    .m_traverse = core_traverse,
    .m_clear = core_clear,
    .m_free = core_free,
};

PyMODINIT_FUNC PyInit__core(void);

PyMODINIT_FUNC PyInit__core(void)
{
    return PyModuleDef_Init(&core_module);
}
