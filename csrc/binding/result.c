/*
 * result.c - _core.Result: one report of the core, in one block of memory,
 * whose Python values are made when first read.
 *
 * tcpy_flat_new copies what Python may read of a tc_report into one
 * malloc'd block (the report's fields, its problems, the DER of each
 * distinct certificate) and touches no Python: a batch's driver thread
 * calls it, then frees the tc_report (and the certificates libssl made)
 * on the thread that allocated them.  The Python side then holds one
 * block per report and frees it with one free().  A Result makes a
 * Python object only when asked (pytlscheck/report.py caches what it
 * made): a batch whose user reads `ok` and `timings` never converts a
 * certificate or a string it does not read.
 *
 * Adding a field to Report: one row in REPORT_FIELDS below (its name,
 * how it converts, where the tc_report holds it); Report reads every
 * name of _core.REPORT_FIELDS from here (report.py), and to_dict() and
 * the JSON schema say how it is written out.
 */
#include "binding.h"
#include "text.h"           /* tc_asn1_time_unix */

#include <stdint.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

/* How a field converts to Python (get_field below):
 *   F_STR      a string or None
 *   F_INT0     an int, None when 0 (not measured)
 *   F_PORT     an int, None when negative
 *   F_BOOL     a bool
 *   F_STRLIST  a list of str
 *   F_TIMINGS  {"dns", "connect", "handshake", "total"}: milliseconds or None
 *   F_OCSP     the stapled response judged: {"status", "reason", "error": str
 *              or None, "verified": bool, "this_update", "next_update",
 *              "revoked_at": Unix seconds or None}, or None
 *   F_PROBE    the probe's findings: {"rtt_ms", "handshake_round_trips",
 *              "hello_retry_request", "hrr_group", "protocols": {version:
 *              bool}, "cipher_suites": {version: [str]}, "groups", "http2",
 *              "connections", "complete", "dh_min_bits", "resumption",
 *              "resumption_mechanism", "resumed_handshake_ms",
 *              "resumed_round_trips", "ticket_lifetime_s", "early_data",
 *              "max_early_data"}, or None */
enum { F_STR, F_INT0, F_PORT, F_BOOL, F_STRLIST, F_TIMINGS, F_OCSP, F_PROBE };

/* X(name, how, value in the tc_report r) */
#define REPORT_FIELDS(X)                                                   \
    X(hostname, F_STR, r->hostname)                                        \
    X(chain_bytes, F_INT0, (int64_t)r->chain_bytes)                        \
    X(evaluated_at, F_INT0, r->evaluated_at)                               \
    X(target, F_STR, r->target)                                            \
    X(server_name, F_STR, r->server_name)                                  \
    X(address, F_STR, r->address)                                          \
    X(port, F_PORT, (int64_t)r->port)                                      \
    X(protocol, F_STR, r->protocol)                                        \
    X(cipher, F_STR, r->cipher)                                            \
    X(group, F_STR, r->group)                                              \
    X(alpn, F_STR, r->alpn)                                                \
    X(ocsp_stapled, F_BOOL, (int64_t)r->ocsp_stapled)                      \
    X(client_certificate_requested, F_BOOL, (int64_t)r->client_cert_requested) \
    X(client_ca_names, F_STRLIST, &r->client_ca_names)                     \
    X(peer_banner, F_STR, r->peer_banner)                                  \
    X(starttls, F_STR, r->starttls)                                        \
    X(ocsp, F_OCSP, r->ocsp)                                               \
    X(probe, F_PROBE, r->probe)                                            \
    X(timings, F_TIMINGS, &r->timings)

#define AS_ENUM(name, how, value) FIELD_##name,
enum { REPORT_FIELDS(AS_ENUM) N_FIELDS };

static const struct { const char *name; int how; } FIELD_INFO[N_FIELDS] = {
#define AS_INFO(name, how, value) { #name, how },
    REPORT_FIELDS(AS_INFO)
};

/* ---- the block ------------------------------------------------------ */

/* Offsets into the block; NONE: no value (a NULL string, no list). */
#define NONE UINT32_MAX
#define MAX_CERTS 32       /* distinct certificates kept per report */

typedef union slot {
    int64_t i;             /* F_INT0, F_PORT, F_BOOL */
    uint32_t off;          /* F_STR (a NUL-terminated string), F_STRLIST
                              (uint32 count, then count string offsets),
                              F_TIMINGS (4 doubles) */
} slot;

typedef struct flat_problem {
    int kind, severity, depth, openssl_code;
    uint32_t reason, message, fix, inspect;   /* strings */
} flat_problem;

typedef struct flat_cert {
    uint32_t der, der_len;
    int is_ca;             /* X509_check_ca: its Python object is shared */
    int has_not_after;
    int64_t not_after;     /* Unix seconds, when has_not_after */
    unsigned char sha256[32];   /* of the DER, for CAs */
} flat_cert;

typedef struct flat {
    int ok;
    slot v[N_FIELDS];
    uint32_t n_problems, problems;      /* flat_problem[] */
    uint32_t n_certs, certs;            /* flat_cert[] */
    int32_t list_n[3];                  /* chain, path, verified; -1: None */
    uint32_t list[3];                   /* uint32 certificate indices */
} flat;

typedef struct builder {
    unsigned char *p;
    size_t len, cap;
    int failed;
} builder;

/* Room for n more bytes at an 8-byte boundary; its offset, or NONE. */
static uint32_t reserve(builder *b, size_t n)
{
    size_t at = (b->len + 7) & ~(size_t)7;
    if (b->failed || at + n > UINT32_MAX - 1) {
        b->failed = 1;
        return NONE;
    }
    if (at + n > b->cap) {
        size_t cap = b->cap ? b->cap : 1024;
        while (cap < at + n)
            cap *= 2;
        unsigned char *p = realloc(b->p, cap);
        if (p == NULL) {
            b->failed = 1;
            return NONE;
        }
        b->p = p;
        b->cap = cap;
    }
    memset(b->p + b->len, 0, at + n - b->len);
    b->len = at + n;
    return (uint32_t)at;
}

static uint32_t add_str(builder *b, const char *s)
{
    if (s == NULL)
        return NONE;
    size_t n = strlen(s) + 1;
    uint32_t at = reserve(b, n);
    if (at != NONE)
        memcpy(b->p + at, s, n);
    return at;
}

static uint32_t add_strlist(builder *b, const tc_strlist *l)
{
    uint32_t at = reserve(b, sizeof(uint32_t) * (l->count + 1));
    if (at == NONE)
        return NONE;
    uint32_t count = (uint32_t)l->count;
    memcpy(b->p + at, &count, sizeof(count));
    for (size_t i = 0; i < l->count; i++) {
        uint32_t s = add_str(b, l->items[i]);
        if (s == NONE)
            return NONE;
        memcpy(b->p + at + sizeof(uint32_t) * (i + 1), &s, sizeof(s));
    }
    return at;
}

/* One setter per way of converting; a field's value goes through the one
 * its row names (REPORT_FIELDS). */
static void put_F_STR(builder *b, slot *s, const char *v) { s->off = add_str(b, v); }
static void put_F_INT0(builder *b, slot *s, int64_t v) { (void)b; s->i = v; }
static void put_F_PORT(builder *b, slot *s, int64_t v) { (void)b; s->i = v; }
static void put_F_BOOL(builder *b, slot *s, int64_t v) { (void)b; s->i = v != 0; }
static void put_F_STRLIST(builder *b, slot *s, const tc_strlist *v) { s->off = add_strlist(b, v); }
static void put_F_TIMINGS(builder *b, slot *s, const tc_timings *t)
{
    double d[4] = { t->dns_ms, t->connect_ms, t->handshake_ms, t->total_ms };
    s->off = reserve(b, sizeof(d));
    if (s->off != NONE)
        memcpy(b->p + s->off, d, sizeof(d));
}

/* A tc_ocsp in the block: strings by offset, times with their flags. */
typedef struct flat_ocsp {
    uint32_t status, reason, error;
    int32_t verified;
    int32_t has[3];            /* this_update, next_update, revoked_at */
    int64_t t[3];
} flat_ocsp;

static void put_F_OCSP(builder *b, slot *s, const tc_ocsp *o)
{
    if (o == NULL) {
        s->off = NONE;
        return;
    }
    /* The strings first: adding one may move the block. */
    flat_ocsp f = {
        .status = add_str(b, o->status), .reason = add_str(b, o->reason),
        .error = add_str(b, o->error), .verified = o->verified != 0,
        .has = { o->has_this_update, o->has_next_update, o->has_revoked_at },
        .t = { o->this_update, o->next_update, o->revoked_at },
    };
    s->off = reserve(b, sizeof(f));
    if (s->off != NONE)
        memcpy(b->p + s->off, &f, sizeof(f));
}

/* A tc_probe in the block. */
typedef struct flat_probe {
    double rtt_ms, resumed_ms;
    int64_t ticket_lifetime, max_early_data;
    int32_t resumed_round_trips, pad;
    uint32_t resumption, mechanism, early_data, pad2;
    int32_t round_trips, hrr, http2, connections, complete, dh_min_bits;
    int32_t protocols[TC_PROBE_VERSIONS];
    uint32_t hrr_group, groups;
    uint32_t suites[TC_PROBE_VERSIONS];
} flat_probe;

static void put_F_PROBE(builder *b, slot *s, const tc_probe *p)
{
    if (p == NULL) {
        s->off = NONE;
        return;
    }
    flat_probe f = {
        .rtt_ms = p->rtt_ms, .round_trips = p->handshake_round_trips,
        .hrr = p->hello_retry_request != 0, .http2 = p->http2 != 0,
        .connections = p->connections, .complete = p->complete != 0,
        .dh_min_bits = p->dh_min_bits, .resumed_ms = p->resumed_handshake_ms,
        .ticket_lifetime = p->ticket_lifetime_s, .resumed_round_trips = p->resumed_round_trips,
    };
    f.resumption = add_str(b, p->resumption);
    f.mechanism = add_str(b, p->resumption_mechanism);
    f.early_data = add_str(b, p->early_data);
    f.max_early_data = p->max_early_data;
    /* Strings and lists first: adding one may move the block. */
    f.hrr_group = add_str(b, p->hrr_group);
    f.groups = add_strlist(b, &p->groups);
    for (int i = 0; i < TC_PROBE_VERSIONS; i++) {
        f.protocols[i] = p->protocols[i];     /* 1, 0, -1 not tried */
        f.suites[i] = add_strlist(b, &p->suites[i]);
    }
    s->off = reserve(b, sizeof(f));
    if (s->off != NONE)
        memcpy(b->p + s->off, &f, sizeof(f));
}

/* The index of x among the certificates kept so far (each distinct one
 * once), adding it when new. */
static uint32_t add_cert(builder *b, X509 **seen, uint32_t *n_seen, uint32_t *certs_at, X509 *x)
{
    for (uint32_t i = 0; i < *n_seen; i++)
        if (seen[i] == x || X509_cmp(seen[i], x) == 0)
            return i;
    if (*n_seen >= MAX_CERTS)
        return 0;          /* cannot happen: chains are capped far below */
    uint32_t i = (*n_seen)++;
    seen[i] = x;
    flat_cert fc;
    memset(&fc, 0, sizeof(fc));
    int len = i2d_X509(x, NULL);
    if (len <= 0) {
        ERR_clear_error();
        b->failed = 1;
        return 0;
    }
    fc.der = reserve(b, (size_t)len);
    fc.der_len = (uint32_t)len;
    if (fc.der != NONE) {
        unsigned char *q = b->p + fc.der;
        if (i2d_X509(x, &q) != len) {
            ERR_clear_error();
            b->failed = 1;
        }
    }
    fc.has_not_after = tc_asn1_time_unix(X509_get0_notAfter(x), &fc.not_after);
    if (X509_check_ca(x) > 0) {
        unsigned int mdlen = 0;
        const EVP_MD *sha256 = tc_sha256();
        fc.is_ca = sha256 != NULL && X509_digest(x, sha256, fc.sha256, &mdlen)
                   && mdlen == sizeof(fc.sha256);
        ERR_clear_error();
    }
    if (!b->failed)
        memcpy(b->p + *certs_at + sizeof(flat_cert) * i, &fc, sizeof(fc));
    return i;
}

static void add_list(builder *b, flat *f, int which, STACK_OF(X509) *sk, X509 **seen,
                     uint32_t *n_seen, uint32_t certs_at)
{
    if (sk == NULL) {
        f->list_n[which] = -1;
        f->list[which] = NONE;
        return;
    }
    int n = sk_X509_num(sk);
    if (n < 0)
        n = 0;
    f->list_n[which] = n;
    f->list[which] = reserve(b, sizeof(uint32_t) * (size_t)n + 1);
    for (int i = 0; i < n && !b->failed; i++) {
        uint32_t idx = add_cert(b, seen, n_seen, &certs_at, sk_X509_value(sk, i));
        if (!b->failed)
            memcpy(b->p + f->list[which] + sizeof(uint32_t) * (size_t)i, &idx, sizeof(idx));
    }
}

unsigned char *tcpy_flat_new(const tc_report *r)
{
    builder b = { NULL, 0, 0, 0 };
    flat f;
    memset(&f, 0, sizeof(f));
    if (reserve(&b, sizeof(flat)) != 0)
        goto fail;
    f.ok = tc_report_ok(r);
#define AS_PUT(name, how, value) put_##how(&b, &f.v[FIELD_##name], value);
    REPORT_FIELDS(AS_PUT)
#undef AS_PUT
    f.n_problems = (uint32_t)r->n_problems;
    f.problems = reserve(&b, sizeof(flat_problem) * r->n_problems + 1);
    for (size_t i = 0; i < r->n_problems && !b.failed; i++) {
        const tc_problem *p = &r->problems[i];
        flat_problem fp;
        fp.kind = (int)p->kind;
        fp.severity = (int)p->severity;
        fp.depth = p->depth;
        fp.openssl_code = p->openssl_code;
        fp.reason = add_str(&b, p->openssl_reason);
        fp.message = add_str(&b, p->message);
        fp.fix = add_str(&b, p->fix);
        fp.inspect = add_str(&b, p->inspect_command);
        if (!b.failed)
            memcpy(b.p + f.problems + sizeof(fp) * i, &fp, sizeof(fp));
    }
    X509 *seen[MAX_CERTS];
    uint32_t n_seen = 0;
    uint32_t certs_at = reserve(&b, sizeof(flat_cert) * MAX_CERTS);
    add_list(&b, &f, 0, r->chain, seen, &n_seen, certs_at);
    add_list(&b, &f, 1, r->path, seen, &n_seen, certs_at);
    add_list(&b, &f, 2, r->verified, seen, &n_seen, certs_at);
    f.n_certs = n_seen;
    f.certs = certs_at;
    if (b.failed)
        goto fail;
    memcpy(b.p, &f, sizeof(f));
    return b.p;
fail:
    free(b.p);
    return NULL;
}

void tcpy_flat_free(unsigned char *blob)
{
    free(blob);
}

/* ---- reading the block ---------------------------------------------- */

typedef struct {
    PyObject_HEAD
    unsigned char *blob;   /* owned */
} ResultObject;

static const flat *head_of(PyObject *op)
{
    return (const flat *)((ResultObject *)op)->blob;
}

/* Strings from the core are UTF-8 and escaped; "replace" keeps a core bug
 * from turning into a crash or an exception the caller cannot act on. */
static PyObject *str_at(const unsigned char *blob, uint32_t off)
{
    if (off == NONE)
        Py_RETURN_NONE;
    const char *s = (const char *)blob + off;
    return PyUnicode_DecodeUTF8(s, (Py_ssize_t)strlen(s), "replace");
}

static PyObject *ms_or_none(double ms)
{
    if (ms < 0)
        Py_RETURN_NONE;
    return PyFloat_FromDouble(ms);
}

static PyObject *strlist_at(const unsigned char *blob, uint32_t off)
{
    uint32_t n;
    if (off == NONE)
        return PyList_New(0);
    memcpy(&n, blob + off, sizeof(n));
    PyObject *l = PyList_New((Py_ssize_t)n);
    for (uint32_t i = 0; l != NULL && i < n; i++) {
        uint32_t s;
        memcpy(&s, blob + off + sizeof(uint32_t) * (i + 1), sizeof(s));
        PyObject *v = str_at(blob, s);
        if (v == NULL)
            Py_CLEAR(l);
        else
            PyList_SET_ITEM(l, (Py_ssize_t)i, v);
    }
    return l;
}

static PyObject *timings_at(const unsigned char *blob, uint32_t off)
{
    static const char *const keys[4] = { "dns", "connect", "handshake", "total" };
    double d[4] = { -1, -1, -1, -1 };
    if (off != NONE)
        memcpy(d, blob + off, sizeof(d));
    PyObject *out = PyDict_New();
    for (int i = 0; out != NULL && i < 4; i++) {
        PyObject *v = ms_or_none(d[i]);
        if (v == NULL || PyDict_SetItemString(out, keys[i], v) < 0)
            Py_CLEAR(out);
        Py_XDECREF(v);
    }
    return out;
}

static PyObject *ocsp_at(const unsigned char *blob, uint32_t off)
{
    static const char *const times[3] = { "this_update", "next_update", "revoked_at" };
    flat_ocsp f;
    if (off == NONE)
        Py_RETURN_NONE;
    memcpy(&f, blob + off, sizeof(f));
    PyObject *out = PyDict_New();
    if (out == NULL)
        return NULL;
    struct { const char *key; PyObject *v; } items[7] = {
        { "status", str_at(blob, f.status) }, { "reason", str_at(blob, f.reason) },
        { "error", str_at(blob, f.error) }, { "verified", PyBool_FromLong(f.verified) },
    };
    for (int i = 0; i < 3; i++) {
        items[4 + i].key = times[i];
        items[4 + i].v = f.has[i] ? PyLong_FromLongLong((long long)f.t[i]) : Py_NewRef(Py_None);
    }
    for (int i = 0; i < 7; i++) {
        if (out != NULL && (items[i].v == NULL
                            || PyDict_SetItemString(out, items[i].key, items[i].v) < 0))
            Py_CLEAR(out);
        Py_XDECREF(items[i].v);
    }
    return out;
}

/* Sets d[key] = v and drops v; -1 (and d cleared by the caller) on failure. */
static int set_item(PyObject *d, const char *key, PyObject *v)
{
    int rc = v == NULL ? -1 : PyDict_SetItemString(d, key, v);
    Py_XDECREF(v);
    return rc;
}

static PyObject *probe_at(const unsigned char *blob, uint32_t off)
{
    static const char *const versions[TC_PROBE_VERSIONS] = { "TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3" };
    flat_probe f;
    if (off == NONE)
        Py_RETURN_NONE;
    memcpy(&f, blob + off, sizeof(f));
    PyObject *out = PyDict_New(), *protocols = PyDict_New(), *suites = PyDict_New();
    PyObject *untried = PyList_New(0);
    int bad = out == NULL || protocols == NULL || suites == NULL || untried == NULL;
    for (int i = 0; !bad && i < TC_PROBE_VERSIONS; i++) {
        bad = set_item(protocols, versions[i], PyBool_FromLong(f.protocols[i] == 1)) < 0 ||
              set_item(suites, versions[i], strlist_at(blob, f.suites[i])) < 0;
        if (!bad && f.protocols[i] < 0) {
            PyObject *name = PyUnicode_FromString(versions[i]);
            bad = name == NULL || PyList_Append(untried, name) < 0;
            Py_XDECREF(name);
        }
    }
    if (!bad)
        bad = set_item(out, "untested_protocols", Py_NewRef(untried)) < 0;
    if (!bad) {
        bad = set_item(out, "rtt_ms", ms_or_none(f.rtt_ms)) < 0 ||
              set_item(out, "handshake_round_trips",
                       f.round_trips > 0 ? PyLong_FromLong(f.round_trips) : Py_NewRef(Py_None)) < 0 ||
              set_item(out, "hello_retry_request", PyBool_FromLong(f.hrr)) < 0 ||
              set_item(out, "hrr_group", str_at(blob, f.hrr_group)) < 0 ||
              set_item(out, "protocols", Py_NewRef(protocols)) < 0 ||
              set_item(out, "cipher_suites", Py_NewRef(suites)) < 0 ||
              set_item(out, "groups", strlist_at(blob, f.groups)) < 0 ||
              set_item(out, "http2", PyBool_FromLong(f.http2)) < 0 ||
              set_item(out, "connections", PyLong_FromLong(f.connections)) < 0 ||
              set_item(out, "complete", PyBool_FromLong(f.complete)) < 0 ||
              set_item(out, "dh_min_bits",
                       f.dh_min_bits > 0 ? PyLong_FromLong(f.dh_min_bits) : Py_NewRef(Py_None)) < 0 ||
              set_item(out, "resumption", str_at(blob, f.resumption)) < 0 ||
              set_item(out, "resumption_mechanism", str_at(blob, f.mechanism)) < 0 ||
              set_item(out, "resumed_handshake_ms", ms_or_none(f.resumed_ms)) < 0 ||
              set_item(out, "resumed_round_trips", f.resumed_round_trips >= 0
                       ? PyLong_FromLong(f.resumed_round_trips) : Py_NewRef(Py_None)) < 0 ||
              set_item(out, "ticket_lifetime_s", f.ticket_lifetime >= 0
                       ? PyLong_FromLongLong((long long)f.ticket_lifetime) : Py_NewRef(Py_None)) < 0 ||
              set_item(out, "early_data", str_at(blob, f.early_data)) < 0 ||
              set_item(out, "max_early_data", f.max_early_data >= 0
                       ? PyLong_FromLongLong((long long)f.max_early_data) : Py_NewRef(Py_None)) < 0;
    }
    Py_XDECREF(protocols);
    Py_XDECREF(suites);
    Py_XDECREF(untried);
    if (bad)
        Py_CLEAR(out);
    return out;
}

static PyObject *get_field(PyObject *op, void *closure)
{
    int which = (int)(intptr_t)closure;
    const unsigned char *blob = ((ResultObject *)op)->blob;
    const slot *s = &head_of(op)->v[which];
    switch (FIELD_INFO[which].how) {
    case F_STR:
        return str_at(blob, s->off);
    case F_INT0:
        if (s->i == 0)
            Py_RETURN_NONE;
        return PyLong_FromLongLong((long long)s->i);
    case F_PORT:
        if (s->i < 0)
            Py_RETURN_NONE;
        return PyLong_FromLongLong((long long)s->i);
    case F_BOOL:
        return PyBool_FromLong((long)s->i);
    case F_STRLIST:
        return strlist_at(blob, s->off);
    case F_TIMINGS:
        return timings_at(blob, s->off);
    case F_OCSP:
        return ocsp_at(blob, s->off);
    case F_PROBE:
        return probe_at(blob, s->off);
    }
    PyErr_SetString(PyExc_RuntimeError, "a report field of no known kind");
    return NULL;
}

static PyObject *Result_get_ok(PyObject *op, void *Py_UNUSED(closure))
{
    return PyBool_FromLong(head_of(op)->ok);
}

static const flat_cert *cert_at(PyObject *op, PyObject *arg)
{
    const flat *f = head_of(op);
    Py_ssize_t i = PyLong_AsSsize_t(arg);
    if (i == -1 && PyErr_Occurred())
        return NULL;
    if (i < 0 || (size_t)i >= f->n_certs) {
        PyErr_Format(PyExc_IndexError, "certificate index %zd out of range", i);
        return NULL;
    }
    return (const flat_cert *)(((ResultObject *)op)->blob + f->certs) + i;
}

/* The leaf's notAfter (Unix seconds), or None when there is no chain or
 * it cannot be read: what Report.days_remaining needs, without making the
 * leaf's Certificate. */
static PyObject *Result_get_leaf_not_after(PyObject *op, void *Py_UNUSED(closure))
{
    const flat *f = head_of(op);
    const unsigned char *blob = ((ResultObject *)op)->blob;
    if (f->list_n[0] <= 0)
        Py_RETURN_NONE;
    uint32_t idx;
    memcpy(&idx, blob + f->list[0], sizeof(idx));
    const flat_cert *c = (const flat_cert *)(blob + f->certs) + idx;
    if (!c->has_not_after)
        Py_RETURN_NONE;
    return PyLong_FromLongLong((long long)c->not_after);
}

static PyObject *Result_problems(PyObject *op, PyObject *Py_UNUSED(ignored))
{
    const flat *f = head_of(op);
    const unsigned char *blob = ((ResultObject *)op)->blob;
    PyObject *l = PyList_New((Py_ssize_t)f->n_problems);
    for (uint32_t i = 0; l != NULL && i < f->n_problems; i++) {
        flat_problem p;
        memcpy(&p, blob + f->problems + sizeof(p) * i, sizeof(p));
        const tc_kind_info *k = tc_kind_get((tc_kind)p.kind);
        PyObject *t = Py_BuildValue("(ssNNiiNN)", k ? k->name : "chain_invalid",
                                    p.severity == TC_SEV_WARNING ? "warning" : "error",
                                    str_at(blob, p.message), str_at(blob, p.fix),
                                    p.depth, p.openssl_code, str_at(blob, p.reason),
                                    str_at(blob, p.inspect));
        if (t == NULL)
            Py_CLEAR(l);
        else
            PyList_SET_ITEM(l, (Py_ssize_t)i, t);
    }
    return l;
}

static PyObject *index_list(const unsigned char *blob, int32_t n, uint32_t off)
{
    if (n < 0)
        Py_RETURN_NONE;
    PyObject *t = PyTuple_New(n);
    for (int32_t i = 0; t != NULL && i < n; i++) {
        uint32_t idx;
        memcpy(&idx, blob + off + sizeof(uint32_t) * (size_t)i, sizeof(idx));
        PyObject *v = PyLong_FromUnsignedLong(idx);
        if (v == NULL)
            Py_CLEAR(t);
        else
            PyTuple_SET_ITEM(t, i, v);
    }
    return t;
}

static PyObject *Result_certs(PyObject *op, PyObject *Py_UNUSED(ignored))
{
    const flat *f = head_of(op);
    const unsigned char *blob = ((ResultObject *)op)->blob;
    return Py_BuildValue("(NNN)", index_list(blob, f->list_n[0], f->list[0]),
                         index_list(blob, f->list_n[1], f->list[1]),
                         index_list(blob, f->list_n[2], f->list[2]));
}

static PyObject *Result_cert_key(PyObject *op, PyObject *arg)
{
    static const char digits[] = "0123456789abcdef";
    const flat_cert *c = cert_at(op, arg);
    if (c == NULL)
        return NULL;
    if (!c->is_ca)
        Py_RETURN_NONE;
    char hex[2 * sizeof(c->sha256)];
    for (size_t i = 0; i < sizeof(c->sha256); i++) {
        hex[2 * i] = digits[c->sha256[i] >> 4];
        hex[2 * i + 1] = digits[c->sha256[i] & 0xf];
    }
    return PyUnicode_FromStringAndSize(hex, (Py_ssize_t)sizeof(hex));
}

static PyObject *Result_cert_info(PyObject *op, PyObject *arg)
{
    const flat_cert *c = cert_at(op, arg);
    if (c == NULL)
        return NULL;
    const unsigned char *p = ((ResultObject *)op)->blob + c->der;
    X509 *x = d2i_X509(NULL, &p, (long)c->der_len);
    if (x == NULL) {
        ERR_clear_error();
        PyErr_SetString(PyExc_RuntimeError, "a report's certificate no longer parses");
        return NULL;
    }
    PyObject *d = tcpy_cert_dict(x);
    X509_free(x);
    return d;
}

/* result["name"]: the same values as result.name, for the fields and ok
 * (code that read the report dicts the binding used to return). */
static PyObject *Result_subscript(PyObject *op, PyObject *key)
{
    const char *name = PyUnicode_Check(key) ? PyUnicode_AsUTF8(key) : NULL;
    if (name != NULL) {
        if (strcmp(name, "ok") == 0)
            return Result_get_ok(op, NULL);
        for (int i = 0; i < N_FIELDS; i++)
            if (strcmp(name, FIELD_INFO[i].name) == 0)
                return get_field(op, (void *)(intptr_t)i);
    } else if (PyErr_Occurred()) {
        return NULL;
    }
    PyErr_SetObject(PyExc_KeyError, key);
    return NULL;
}

static void Result_dealloc(PyObject *op)
{
    PyTypeObject *tp = Py_TYPE(op);
    tcpy_flat_free(((ResultObject *)op)->blob);
    tp->tp_free(op);
    Py_DECREF(tp);
}

static PyMethodDef Result_methods[] = {
    {"problems", Result_problems, METH_NOARGS,
     "problems() -> list of (kind, severity, message, fix, depth, openssl_code,\n"
     "openssl_reason, inspect_command)"},
    {"certs", Result_certs, METH_NOARGS,
     "certs() -> (chain, path, verified): tuples of certificate indices, or None"},
    {"cert_key", Result_cert_key, METH_O,
     "cert_key(i) -> the SHA-256 fingerprint of a CA certificate, None for others"},
    {"cert_info", Result_cert_info, METH_O, "cert_info(i) -> the fields of certificate i"},
    {NULL, NULL, 0, NULL}
};

static PyGetSetDef Result_getset[N_FIELDS + 3] = {
#define AS_GETSET(name, how, value) { #name, get_field, NULL, NULL, (void *)(intptr_t)FIELD_##name },
    REPORT_FIELDS(AS_GETSET)
#undef AS_GETSET
    {"ok", Result_get_ok, NULL, "True when no problem is an error.", NULL},
    {"leaf_not_after", Result_get_leaf_not_after, NULL,
     "The leaf's notAfter in Unix seconds, or None.", NULL},
    {NULL, NULL, NULL, NULL, NULL}
};

static PyType_Slot Result_slots[] = {
    {Py_tp_dealloc, Result_dealloc},
    {Py_tp_methods, Result_methods},
    {Py_tp_getset, Result_getset},
    {Py_mp_subscript, Result_subscript},
    {Py_tp_doc, "One report of the core; pytlscheck.Report reads it."},
    {0, NULL}
};

static PyType_Spec Result_spec = {
    .name = "pytlscheck._core.Result",
    .basicsize = sizeof(ResultObject),
    .flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_IMMUTABLETYPE | Py_TPFLAGS_DISALLOW_INSTANTIATION,
    .slots = Result_slots,
};

PyTypeObject *tcpy_result_type_new(PyObject *module)
{
    return (PyTypeObject *)PyType_FromModuleAndSpec(module, &Result_spec, NULL);
}

PyObject *tcpy_result_fields(void)
{
    PyObject *t = PyTuple_New(N_FIELDS);
    for (int i = 0; t != NULL && i < N_FIELDS; i++) {
        PyObject *s = PyUnicode_FromString(FIELD_INFO[i].name);
        if (s == NULL)
            Py_CLEAR(t);
        else
            PyTuple_SET_ITEM(t, i, s);
    }
    return t;
}

PyObject *tcpy_result_new(PyObject *module, unsigned char *blob)
{
    PyTypeObject *tp = tcpy_state(module)->Result_Type;
    ResultObject *self = PyObject_New(ResultObject, tp);
    if (self == NULL) {
        tcpy_flat_free(blob);
        return NULL;
    }
    self->blob = blob;
    return (PyObject *)self;
}

PyObject *tcpy_result_of(PyObject *module, const tc_report *r)
{
    unsigned char *blob = tcpy_flat_new(r);
    if (blob == NULL)
        return PyErr_NoMemory();
    return tcpy_result_new(module, blob);
}
