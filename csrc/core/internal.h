/* internal.h - declarations shared inside the core only. */
#ifndef TC_INTERNAL_H
#define TC_INTERNAL_H
#include "tlscheck.h"

/* Fills render vars describing the certificate at `depth` of report->chain
 * (cert/subject/issuer/dates) into caller-provided storage. */
typedef struct tc_cert_vars {
    char cert[600], subject[512], issuer[512], not_before[40], not_after[40], days[24];
} tc_cert_vars;
void tc_cert_vars_fill(tc_cert_vars *cv, X509 *x, int depth, int64_t now, tc_render_vars *vars);

/* cert.c: the RFC 4514 text of a name, every byte outside printable
 * ASCII escaped as \xNN, as in Certificate.subject (malloc'd; NULL when
 * out of memory). */
char *tc_name_text(const X509_NAME *name);

/* cert.c: a serial number as Certificate.serial_number writes it
 * (lowercase hex, no separators; malloc'd, NULL when unreadable or out of
 * memory). */
char *tc_serial_hex(const ASN1_INTEGER *serial);

/* sigcache.c: the signature and validity-time step of X509_verify_cert,
 * done as OpenSSL 3.0 does it but with signatures on CA certificates
 * remembered (X509_STORE_CTX_set_verify).  Only for flags where it is the
 * same step: tc_chain_step_applies(flags) says. */
int tc_chain_step_applies(unsigned long flags);
int tc_chain_step(X509_STORE_CTX *ctx);

#endif
