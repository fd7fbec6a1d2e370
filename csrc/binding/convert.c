/* convert.c - core structs to Python objects, Python arguments to core
 * inputs.  No policy here: only conversion. */
#include "binding.h"

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

PyObject *tcpy_raise(const tc_error *err)
{
    const char *msg = err->msg[0] ? err->msg : "the TLS check core failed without a message";
    PyObject *exc;

    switch (err->code) {
    case TC_E_INVALID:
        PyErr_SetString(PyExc_ValueError, msg);
        return NULL;
    case TC_E_IO:
        /* OSError(errno, msg) picks the errno's subclass
         * (FileNotFoundError, PermissionError, ...). */
        if (err->sys_errno != 0)
            exc = PyObject_CallFunction(PyExc_OSError, "is", err->sys_errno, msg);
        else
            exc = PyObject_CallFunction(PyExc_OSError, "s", msg);
        if (exc != NULL) {
            PyErr_SetObject((PyObject *)Py_TYPE(exc), exc);
            Py_DECREF(exc);
        }
        return NULL;
    case TC_E_NOMEM:
        return PyErr_NoMemory();
    case TC_E_NONE:     /* a failure that forgot to say why: still a bug */
    case TC_E_INTERNAL:
        PyErr_SetString(PyExc_RuntimeError, msg);
        return NULL;
    }
    PyErr_SetString(PyExc_RuntimeError, msg);
    return NULL;
}

/* ---- small builders: each returns a new reference or NULL ---------- */

/* Strings from the core are UTF-8 and escaped; "replace" keeps a core bug
 * from turning into a crash or an exception the caller cannot act on. */
static PyObject *str_or_none(const char *s)
{
    if (s == NULL)
        Py_RETURN_NONE;
    return PyUnicode_DecodeUTF8(s, (Py_ssize_t)strlen(s), "replace");
}

static PyObject *strlist_tuple(const tc_strlist *l)
{
    PyObject *t = PyTuple_New((Py_ssize_t)l->count);
    if (t == NULL)
        return NULL;
    for (size_t i = 0; i < l->count; i++) {
        PyObject *s = str_or_none(l->items[i]);
        if (s == NULL) {
            Py_DECREF(t);
            return NULL;
        }
        PyTuple_SET_ITEM(t, (Py_ssize_t)i, s);
    }
    return t;
}

static PyObject *ms_or_none(double ms)
{
    if (ms < 0)
        Py_RETURN_NONE;
    return PyFloat_FromDouble(ms);
}

/* Sets d[key] = v and drops v; v == NULL propagates the failure. */
static int put(PyObject *d, const char *key, PyObject *v)
{
    if (v == NULL)
        return -1;
    int rc = PyDict_SetItemString(d, key, v);
    Py_DECREF(v);
    return rc;
}

static PyObject *hex_of(const unsigned char *p, size_t n)
{
    static const char digits[] = "0123456789abcdef";
    char buf[2 * 64 + 1];
    if (n > 64)
        n = 64;
    for (size_t i = 0; i < n; i++) {
        buf[2 * i] = digits[p[i] >> 4];
        buf[2 * i + 1] = digits[p[i] & 0xf];
    }
    return PyUnicode_FromStringAndSize(buf, (Py_ssize_t)(2 * n));
}

static PyObject *info_dict(const tc_cert_info *ci)
{
    PyObject *d = PyDict_New();
    if (d == NULL)
        return NULL;
    if (put(d, "subject", str_or_none(ci->subject)) < 0
        || put(d, "issuer", str_or_none(ci->issuer)) < 0
        || put(d, "common_name", str_or_none(ci->common_name)) < 0
        || put(d, "dns_names", strlist_tuple(&ci->dns_names)) < 0
        || put(d, "ip_addresses", strlist_tuple(&ci->ip_addresses)) < 0
        || put(d, "email_addresses", strlist_tuple(&ci->email_addresses)) < 0
        || put(d, "serial_number", str_or_none(ci->serial_hex)) < 0
        || put(d, "not_before", PyLong_FromLongLong((long long)ci->not_before)) < 0
        || put(d, "not_after", PyLong_FromLongLong((long long)ci->not_after)) < 0
        || put(d, "fingerprint_sha256", hex_of(ci->sha256, sizeof(ci->sha256))) < 0
        || put(d, "key_type", str_or_none(ci->key_type_name ? ci->key_type_name : "unknown")) < 0
        || put(d, "key_bits", PyLong_FromLong(ci->key_bits)) < 0
        || put(d, "key_curve", str_or_none(ci->key_curve)) < 0
        || put(d, "signature_algorithm", str_or_none(ci->signature_algorithm)) < 0
        || put(d, "version", PyLong_FromLong(ci->version)) < 0
        || put(d, "has_basic_constraints", PyBool_FromLong(ci->has_basic_constraints)) < 0
        || put(d, "is_ca", PyBool_FromLong(ci->is_ca)) < 0
        || put(d, "path_length", ci->path_length < 0 ? Py_NewRef(Py_None)
                                                      : PyLong_FromLong(ci->path_length)) < 0
        || put(d, "key_usage", strlist_tuple(&ci->key_usage)) < 0
        || put(d, "extended_key_usage", strlist_tuple(&ci->extended_key_usage)) < 0
        || put(d, "ca_issuers", strlist_tuple(&ci->ca_issuers)) < 0
        || put(d, "ocsp_urls", strlist_tuple(&ci->ocsp_urls)) < 0
        || put(d, "self_signed", PyBool_FromLong(ci->self_signed)) < 0
        || put(d, "self_issued", PyBool_FromLong(ci->self_issued)) < 0
        || put(d, "names_have_nul", PyBool_FromLong(ci->names_have_nul)) < 0
        || put(d, "malformed", str_or_none(ci->malformed)) < 0
        || put(d, "der", PyBytes_FromStringAndSize((const char *)ci->der,
                                                   (Py_ssize_t)ci->der_len)) < 0) {
        Py_DECREF(d);
        return NULL;
    }
    return d;
}

PyObject *tcpy_cert_dict(X509 *x)
{
    tc_cert_info ci;
    tc_error err;
    tc_error_clear(&err);
    if (tc_cert_info_extract(x, &ci, &err) != TC_OK)
        return tcpy_raise(&err);
    PyObject *d = info_dict(&ci);
    tc_cert_info_clear(&ci);
    return d;
}

/* ---- reports --------------------------------------------------------- */

/* chain, path and verified mostly hold the same certificates: convert each
 * distinct certificate once and share the dict.  Chains are short. */
typedef struct cert_memo {
    X509 *certs[32];
    PyObject *dicts[32];   /* borrowed from the lists built below */
    int n;
    int lazy_leaves;       /* leaves as handles, converted when read */
} cert_memo;

/* Intermediates and roots recur across the reports of a batch (a few
 * CAs issue most certificates) and their dicts never change: keep them,
 * so each is extracted once per process rather than once per report (a
 * root's extraction includes checking its self-signature, as costly as a
 * handshake's signature check).  Leaves, one per endpoint, are not kept.
 * The cache is bounded by starting over when full. */
#define CA_CACHE_MAX 1024

/* ---- leaves: converted when first read ------------------------------- */

/* For one report at a time (check(), verify()), a leaf is converted only
 * if the caller reads it (Report.chain, leaf, a problem's certificate): a
 * caller that wants the verdict does not pay for extracting the leaf's
 * fields.  The handle is a capsule owning one reference to the X509;
 * cert_info() converts it.  Batches convert leaves at once: an X509 held
 * until read costs about 3 KB more per report than its converted fields,
 * which adds up over a batch of 100,000 reports. */
#define CERT_CAPSULE "pytlscheck._core.cert"

static void cert_capsule_free(PyObject *capsule)
{
    X509_free(PyCapsule_GetPointer(capsule, CERT_CAPSULE));
}

static PyObject *cert_handle(X509 *x)
{
    if (!X509_up_ref(x)) {
        ERR_clear_error();
        return PyErr_NoMemory();
    }
    PyObject *c = PyCapsule_New(x, CERT_CAPSULE, cert_capsule_free);
    if (c == NULL)
        X509_free(x);
    return c;
}

PyObject *tcpy_cert_handle_info(PyObject *handle)
{
    X509 *x = PyCapsule_GetPointer(handle, CERT_CAPSULE);
    return x != NULL ? tcpy_cert_dict(x) : NULL;
}

static PyObject *ca_cached_dict(PyObject *cache, X509 *x, int lazy_leaves)
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    if (cache == NULL)
        return tcpy_cert_dict(x);
    if (X509_check_ca(x) <= 0)
        return lazy_leaves ? cert_handle(x) : tcpy_cert_dict(x);
    const EVP_MD *sha256 = tc_sha256();
    if (sha256 == NULL || !X509_digest(x, sha256, md, &len)) {
        ERR_clear_error();
        return tcpy_cert_dict(x);
    }
    PyObject *key = PyBytes_FromStringAndSize((const char *)md, (Py_ssize_t)len);
    if (key == NULL)
        return NULL;
    PyObject *d = PyDict_GetItemWithError(cache, key);     /* borrowed */
    if (d != NULL) {
        Py_DECREF(key);
        return Py_NewRef(d);
    }
    if (PyErr_Occurred() || (d = tcpy_cert_dict(x)) == NULL) {
        Py_DECREF(key);
        return NULL;
    }
    if (PyDict_GET_SIZE(cache) >= CA_CACHE_MAX)
        PyDict_Clear(cache);
    if (PyDict_SetItem(cache, key, d) < 0) {
        Py_DECREF(key);
        Py_DECREF(d);
        return NULL;
    }
    Py_DECREF(key);
    return d;
}

static PyObject *memo_dict(cert_memo *m, X509 *x, PyObject *ca_cache)
{
    for (int i = 0; i < m->n; i++)
        if (m->certs[i] == x || X509_cmp(m->certs[i], x) == 0)
            return Py_NewRef(m->dicts[i]);
    PyObject *d = ca_cached_dict(ca_cache, x, m->lazy_leaves);
    if (d != NULL && m->n < (int)(sizeof(m->certs) / sizeof(m->certs[0]))) {
        m->certs[m->n] = x;
        m->dicts[m->n] = d;   /* stays alive: the caller's list holds it */
        m->n++;
    }
    return d;
}

static PyObject *stack_list(cert_memo *m, STACK_OF(X509) *sk, PyObject *ca_cache)
{
    if (sk == NULL)
        Py_RETURN_NONE;
    int n = sk_X509_num(sk);
    PyObject *l = PyList_New(n < 0 ? 0 : n);
    if (l == NULL)
        return NULL;
    for (int i = 0; i < n; i++) {
        PyObject *d = memo_dict(m, sk_X509_value(sk, i), ca_cache);
        if (d == NULL) {
            Py_DECREF(l);
            return NULL;
        }
        PyList_SET_ITEM(l, i, d);
    }
    return l;
}

static PyObject *problem_dict(const tc_problem *p)
{
    const tc_kind_info *k = tc_kind_get(p->kind);
    PyObject *d = PyDict_New();
    if (d == NULL)
        return NULL;
    if (put(d, "kind", str_or_none(k ? k->name : "chain_invalid")) < 0
        || put(d, "severity", str_or_none(p->severity == TC_SEV_WARNING ? "warning" : "error")) < 0
        || put(d, "depth", PyLong_FromLong(p->depth)) < 0
        || put(d, "openssl_code", PyLong_FromLong(p->openssl_code)) < 0
        || put(d, "openssl_reason", str_or_none(p->openssl_reason)) < 0
        || put(d, "message", str_or_none(p->message)) < 0
        || put(d, "fix", str_or_none(p->fix)) < 0
        || put(d, "inspect_command", str_or_none(p->inspect_command)) < 0) {
        Py_DECREF(d);
        return NULL;
    }
    return d;
}

static PyObject *timings_dict(const tc_timings *t)
{
    PyObject *d = PyDict_New();
    if (d == NULL)
        return NULL;
    if (put(d, "dns", ms_or_none(t->dns_ms)) < 0
        || put(d, "connect", ms_or_none(t->connect_ms)) < 0
        || put(d, "handshake", ms_or_none(t->handshake_ms)) < 0
        || put(d, "total", ms_or_none(t->total_ms)) < 0) {
        Py_DECREF(d);
        return NULL;
    }
    return d;
}

PyObject *tcpy_report_dict(const tc_report *r, PyObject *ca_cache, int lazy_leaves)
{
    cert_memo memo;
    memo.n = 0;
    memo.lazy_leaves = lazy_leaves;
    PyObject *d = PyDict_New();
    PyObject *problems = NULL;
    if (d == NULL)
        return NULL;
    problems = PyList_New((Py_ssize_t)r->n_problems);
    if (problems == NULL)
        goto fail;
    for (size_t i = 0; i < r->n_problems; i++) {
        PyObject *p = problem_dict(&r->problems[i]);
        if (p == NULL)
            goto fail;
        PyList_SET_ITEM(problems, (Py_ssize_t)i, p);
    }
    if (put(d, "ok", PyBool_FromLong(tc_report_ok(r))) < 0
        || put(d, "problems", Py_NewRef(problems)) < 0
        || put(d, "chain", stack_list(&memo, r->chain, ca_cache)) < 0
        || put(d, "path", stack_list(&memo, r->path, ca_cache)) < 0
        || put(d, "verified", stack_list(&memo, r->verified, ca_cache)) < 0
        || put(d, "hostname", str_or_none(r->hostname)) < 0
        || put(d, "chain_bytes", r->chain_bytes == 0 ? Py_NewRef(Py_None)
                                 : PyLong_FromSize_t(r->chain_bytes)) < 0
        || put(d, "evaluated_at", r->evaluated_at == 0 ? Py_NewRef(Py_None)
                                  : PyLong_FromLongLong((long long)r->evaluated_at)) < 0
        || put(d, "target", str_or_none(r->target)) < 0
        || put(d, "server_name", str_or_none(r->server_name)) < 0
        || put(d, "address", str_or_none(r->address)) < 0
        || put(d, "port", r->port < 0 ? Py_NewRef(Py_None) : PyLong_FromLong(r->port)) < 0
        || put(d, "protocol", str_or_none(r->protocol)) < 0
        || put(d, "cipher", str_or_none(r->cipher)) < 0
        || put(d, "group", str_or_none(r->group)) < 0
        || put(d, "alpn", str_or_none(r->alpn)) < 0
        || put(d, "ocsp_stapled", PyBool_FromLong(r->ocsp_stapled)) < 0
        || put(d, "client_certificate_requested", PyBool_FromLong(r->client_cert_requested)) < 0
        || put(d, "client_ca_names", strlist_tuple(&r->client_ca_names)) < 0
        || put(d, "peer_banner", str_or_none(r->peer_banner)) < 0
        || put(d, "starttls", str_or_none(r->starttls)) < 0
        || put(d, "timings", timings_dict(&r->timings)) < 0)
        goto fail;
    Py_DECREF(problems);
    return d;
fail:
    Py_XDECREF(problems);
    Py_DECREF(d);
    return NULL;
}

/* ---- arguments in ---------------------------------------------------- */

/* Parses one bytes-like object and appends its certificates to *all. */
static int certs_append(STACK_OF(X509) *all, PyObject *obj, const char *what)
{
    Py_buffer view;
    STACK_OF(X509) *got = NULL;
    tc_error err;
    tc_status st;
    int rc = -1;

    if (PyUnicode_Check(obj)) {
        PyErr_Format(PyExc_TypeError, "%s must be bytes (PEM or DER), not str", what);
        return -1;
    }
    if (PyObject_GetBuffer(obj, &view, PyBUF_SIMPLE) < 0)
        return -1;
    tc_error_clear(&err);
    st = tc_certs_parse(view.buf, (size_t)view.len, what, &got, &err);
    PyBuffer_Release(&view);
    if (st != TC_OK) {
        tcpy_raise(&err);
        goto done;
    }
    while (sk_X509_num(got) > 0) {
        X509 *x = sk_X509_shift(got);
        if (!sk_X509_push(all, x)) {
            X509_free(x);
            PyErr_NoMemory();
            goto done;
        }
    }
    rc = 0;
done:
    sk_X509_pop_free(got, X509_free);
    return rc;
}

STACK_OF(X509) *tcpy_certs_from(PyObject *obj, const char *what)
{
    STACK_OF(X509) *all = sk_X509_new_null();
    if (all == NULL)
        return (STACK_OF(X509) *)PyErr_NoMemory();
    if (PyList_Check(obj) || PyTuple_Check(obj)) {
        PyObject *seq = PySequence_Fast(obj, "expected a list");
        if (seq == NULL)
            goto fail;
        Py_ssize_t n = PySequence_Fast_GET_SIZE(seq);
        for (Py_ssize_t i = 0; i < n; i++) {
            char name[300];
            PyOS_snprintf(name, sizeof(name), "certificate %zd of %s", i + 1, what);
            if (certs_append(all, PySequence_Fast_GET_ITEM(seq, i), name) < 0) {
                Py_DECREF(seq);
                goto fail;
            }
        }
        Py_DECREF(seq);
    } else if (certs_append(all, obj, what) < 0) {
        goto fail;
    }
    return all;
fail:
    sk_X509_pop_free(all, X509_free);
    return NULL;
}

/* One item of crls=: its CRLs go to *all, the certificates of CRL
 * issuers it carries to *certs (made when the first one comes). */
static int crls_append(STACK_OF(X509_CRL) *all, STACK_OF(X509) **certs, PyObject *obj,
                       const char *what)
{
    Py_buffer view;
    STACK_OF(X509_CRL) *got = NULL;
    STACK_OF(X509) *got_certs = NULL;
    tc_error err;
    tc_status st;
    int rc = -1;

    if (PyObject_GetBuffer(obj, &view, PyBUF_SIMPLE) < 0)
        return -1;
    tc_error_clear(&err);
    st = tc_crl_input_parse(view.buf, (size_t)view.len, what, &got, &got_certs, &err);
    PyBuffer_Release(&view);
    if (st != TC_OK) {
        tcpy_raise(&err);
        goto done;
    }
    while (sk_X509_CRL_num(got) > 0) {
        X509_CRL *c = sk_X509_CRL_shift(got);
        if (!sk_X509_CRL_push(all, c)) {
            X509_CRL_free(c);
            PyErr_NoMemory();
            goto done;
        }
    }
    if (sk_X509_num(got_certs) > 0 && *certs == NULL
        && (*certs = sk_X509_new_null()) == NULL) {
        PyErr_NoMemory();
        goto done;
    }
    while (sk_X509_num(got_certs) > 0) {
        X509 *x = sk_X509_shift(got_certs);
        if (!sk_X509_push(*certs, x)) {
            X509_free(x);
            PyErr_NoMemory();
            goto done;
        }
    }
    rc = 0;
done:
    sk_X509_CRL_pop_free(got, X509_CRL_free);
    sk_X509_pop_free(got_certs, X509_free);
    return rc;
}

STACK_OF(X509_CRL) *tcpy_crls_from(PyObject *obj, const char *what, STACK_OF(X509) **certs)
{
    *certs = NULL;
    if (obj == NULL || obj == Py_None)
        return NULL;
    STACK_OF(X509_CRL) *all = sk_X509_CRL_new_null();
    if (all == NULL)
        return (STACK_OF(X509_CRL) *)PyErr_NoMemory();
    if (PyList_Check(obj) || PyTuple_Check(obj)) {
        PyObject *seq = PySequence_Fast(obj, "expected a list");
        if (seq == NULL)
            goto fail;
        Py_ssize_t n = PySequence_Fast_GET_SIZE(seq);
        for (Py_ssize_t i = 0; i < n; i++) {
            char name[300];
            PyOS_snprintf(name, sizeof(name), "CRL %zd of %s", i + 1, what);
            if (crls_append(all, certs, PySequence_Fast_GET_ITEM(seq, i), name) < 0) {
                Py_DECREF(seq);
                goto fail;
            }
        }
        Py_DECREF(seq);
    } else if (crls_append(all, certs, obj, what) < 0) {
        goto fail;
    }
    return all;
fail:
    sk_X509_CRL_pop_free(all, X509_CRL_free);
    sk_X509_pop_free(*certs, X509_free);
    *certs = NULL;
    return NULL;
}

const char **tcpy_strarray(PyObject *obj, const char *what, PyObject **seq_out,
                           size_t *count)
{
    PyObject *seq;
    const char **arr;
    Py_ssize_t n;

    *seq_out = NULL;
    *count = 0;
    if (obj == NULL || obj == Py_None) {
        seq = PyTuple_New(0);
    } else if (PyUnicode_Check(obj) || PyBytes_Check(obj)) {
        PyErr_Format(PyExc_TypeError, "%s must be a sequence of str, not a single string", what);
        return NULL;
    } else {
        seq = PySequence_Tuple(obj);
    }
    if (seq == NULL)
        return NULL;
    n = PyTuple_GET_SIZE(seq);
    arr = PyMem_Calloc((size_t)n + 1, sizeof(*arr));
    if (arr == NULL) {
        Py_DECREF(seq);
        return (const char **)PyErr_NoMemory();
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *s = PyTuple_GET_ITEM(seq, i);
        Py_ssize_t len;
        if (!PyUnicode_Check(s)) {
            PyErr_Format(PyExc_TypeError, "%s must hold str items, not %.80s",
                         what, Py_TYPE(s)->tp_name);
            goto fail;
        }
        arr[i] = PyUnicode_AsUTF8AndSize(s, &len);
        if (arr[i] == NULL)
            goto fail;
        if ((size_t)len != strlen(arr[i])) {
            PyErr_Format(PyExc_ValueError, "%s: item %zd contains a NUL character", what, i + 1);
            goto fail;
        }
    }
    *seq_out = seq;
    *count = (size_t)n;
    return arr;
fail:
    PyMem_Free(arr);
    Py_DECREF(seq);
    return NULL;
}

/* ---- verification parameters shared by verify() and check() ---------- */

void tcpy_vparams_clear(vparams *v)
{
    sk_X509_CRL_pop_free(v->crls, X509_CRL_free);
    v->crls = NULL;
    sk_X509_pop_free(v->crl_certs, X509_free);
    v->crl_certs = NULL;
    PyMem_Free(v->ekus);
    v->ekus = NULL;
    Py_CLEAR(v->ekus_keep);
}

int tcpy_vparams_fill(vparams *v, const char *hostname, PyObject *at,
                        int purpose, PyObject *crls, int max_depth, int min_days,
                        double min_remaining, PyObject *ekus)
{
    size_t n = 0;
    memset(v, 0, sizeof(*v));
    tc_verify_params_init(&v->p);
    v->p.hostname = hostname;
    if (at != NULL && at != Py_None) {
        double t = PyFloat_AsDouble(at);
        if (t == -1.0 && PyErr_Occurred())
            return -1;
        v->p.at = (int64_t)t;
        v->p.has_at = 1;
    }
    if (purpose != TC_PURPOSE_SERVER && purpose != TC_PURPOSE_CLIENT) {
        PyErr_Format(PyExc_ValueError, "purpose must be PURPOSE_SERVER or PURPOSE_CLIENT, not %d", purpose);
        return -1;
    }
    v->p.purpose = (tc_purpose)purpose;
    v->p.max_depth = max_depth;
    v->p.min_days = min_days;
    v->p.min_remaining = min_remaining;
    v->crls = tcpy_crls_from(crls, "the CRLs", &v->crl_certs);
    if (v->crls == NULL && PyErr_Occurred())
        return -1;
    v->p.crls = v->crls;
    v->p.crl_certs = v->crl_certs;
    v->ekus = tcpy_strarray(ekus, "ekus", &v->ekus_keep, &n);
    if (v->ekus == NULL) {
        tcpy_vparams_clear(v);
        return -1;
    }
    v->p.required_ekus = n ? v->ekus : NULL;
    v->p.n_required_ekus = n;
    return 0;
}

int tcpy_check_params(tc_check_params *cp, vparams *vp, const char *host, int port,
                      const char *server_name, double timeout, PyObject *at,
                      int purpose, PyObject *crls, int max_depth, int min_days,
                      double min_remaining, PyObject *ekus, const char *starttls)
{
    tc_starttls proto = TC_STARTTLS_NONE;
    if (starttls != NULL && !tc_starttls_from_name(starttls, &proto)) {
        PyErr_Format(PyExc_ValueError, "unknown STARTTLS protocol '%.40s'", starttls);
        return -1;
    }
    /* The port and the timeout are checked once, by the core
     * (tc_check_new), whose error reaches Python as a ValueError. */
    if (tcpy_vparams_fill(vp, NULL, at, purpose, crls, max_depth, min_days,
                          min_remaining, ekus) < 0)
        return -1;
    memset(cp, 0, sizeof(*cp));
    cp->host = host;
    cp->port = port;
    cp->server_name = server_name;
    cp->timeout = timeout;
    cp->verify = vp->p;
    cp->starttls = proto;
    return 0;
}
