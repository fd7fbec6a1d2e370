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
