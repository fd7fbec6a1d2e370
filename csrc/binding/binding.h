/*
 * binding.h - private declarations shared by the CPython binding's files.
 *
 * The binding converts arguments in and results out, and does nothing else:
 * every decision about certificates is the core's (csrc/core).  module.c
 * holds the module definition and its functions; batch.c the Batch type
 * (module.c creates it; batch.c never calls module.c); convert.c turns
 * core structs into Python objects and Python arguments into core inputs,
 * for both; result.c the Result type (a report, converted when read).
 * The module state is declared here, so both read it directly.
 */
#ifndef TC_BINDING_H
#define TC_BINDING_H

#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include "tlscheck.h"

/* Raises the Python exception matching err->code and returns NULL:
 * TC_E_INVALID -> ValueError, TC_E_IO -> OSError(errno, msg),
 * TC_E_NOMEM -> MemoryError, TC_E_INTERNAL -> RuntimeError. */
PyObject *tcpy_raise(const tc_error *err);

/* One certificate as a dict of every tc_cert_info field plus "der".
 * New reference, NULL with an exception set. */
PyObject *tcpy_cert_dict(X509 *x);

/* result.c: a tc_report in one malloc'd block (tcpy_flat_new; no Python
 * is touched, so any thread may call it; NULL when out of memory), and
 * the _core.Result object that owns such a block and converts its fields
 * when read (tcpy_result_new takes the block, also on failure). */
unsigned char *tcpy_flat_new(const tc_report *r);
void tcpy_flat_free(unsigned char *blob);
PyObject *tcpy_result_new(PyObject *module, unsigned char *blob);
/* tcpy_flat_new + tcpy_result_new; new reference or NULL with an exception. */
PyObject *tcpy_result_of(PyObject *module, const tc_report *r);
PyTypeObject *tcpy_result_type_new(PyObject *module);
/* The names of the fields a Result has, in order (_core.REPORT_FIELDS). */
PyObject *tcpy_result_fields(void);

/* Builds a certificate stack from `obj`: a bytes-like object (a PEM bundle
 * or one DER certificate) or a list/tuple of them.  `what` names the input
 * in error messages.  Returns NULL with an exception set; the caller frees
 * the stack with sk_X509_pop_free(.., X509_free). */
STACK_OF(X509) *tcpy_certs_from(PyObject *obj, const char *what);

/* The same for CRLs; None gives NULL without an exception (check with
 * PyErr_Occurred()). */
STACK_OF(X509_CRL) *tcpy_crls_from(PyObject *obj, const char *what,
                                   STACK_OF(X509) **certs);

/* A Python sequence of str -> a NULL-terminated array of borrowed UTF-8
 * pointers (valid while `seq_out` lives).  *seq_out receives a new
 * reference to a tuple holding the strings; free the array with
 * PyMem_Free and drop *seq_out.  None gives an empty array. */
const char **tcpy_strarray(PyObject *obj, const char *what, PyObject **seq_out,
                           size_t *count);

/* ---- shared by module.c and batch.c ------------------------------- */

/* Verification parameters converted from Python arguments: what
 * tc_verify_params borrows (CRLs, EKU strings) lives here. */
typedef struct vparams {
    tc_verify_params p;
    STACK_OF(X509_CRL) *crls;
    STACK_OF(X509) *crl_certs;   /* CRL issuers' certificates given with the CRLs */
    const char **ekus;
    PyObject *ekus_keep;   /* owns the strings ekus points into */
} vparams;

/* Fills *v (zeroed first); -1 with an exception set.  Clear with
 * tcpy_vparams_clear in any case. */
int tcpy_vparams_fill(vparams *v, const char *hostname, PyObject *at,
                      int purpose, PyObject *crls, int max_depth, int min_days,
                      double min_remaining, PyObject *ekus);
void tcpy_vparams_clear(vparams *v);

/* The arguments of one live check, shared by check() and Batch.add():
 * checks the port and timeout, fills *vp (as tcpy_vparams_fill) and *cp,
 * which borrows host and server_name from the caller and its verification
 * parameters from *vp.  0, or -1 with an exception set and nothing to
 * clear; on 0 the caller clears *vp once *cp is no longer used. */
int tcpy_check_params(tc_check_params *cp, vparams *vp, const char *host, int port,
                      const char *server_name, double timeout, PyObject *at,
                      int purpose, PyObject *crls, int max_depth, int min_days,
                      double min_remaining, PyObject *ekus, const char *starttls);

/* The module's state (PEP 489 / 573: no C globals), read by module.c and
 * batch.c alike, so neither calls into the other for it. */
typedef struct {
    PyTypeObject *TrustStore_Type;
    PyTypeObject *Client_Type;
    PyTypeObject *Batch_Type;      /* batch.c */
    PyTypeObject *Result_Type;     /* result.c */
} core_state;

static inline core_state *tcpy_state(PyObject *module)
{
    return (core_state *)PyModule_GetState(module);
}

/* A _core.Client: owns one reference to its tc_client. */
typedef struct {
    PyObject_HEAD
    tc_client *client;
} ClientObject;

/* The tc_client of a _core.Client (borrowed), or NULL with TypeError. */
static inline tc_client *tcpy_client_of(PyObject *module, PyObject *obj)
{
    core_state *st = tcpy_state(module);
    if (!PyObject_TypeCheck(obj, st->Client_Type)) {
        PyErr_Format(PyExc_TypeError, "client must be a Client, not %.80s",
                     Py_TYPE(obj)->tp_name);
        return NULL;
    }
    return ((ClientObject *)obj)->client;
}

/* batch.c: the Batch type (many checks on one thread), made for module. */
PyTypeObject *tcpy_batch_type_new(PyObject *module);

#endif
