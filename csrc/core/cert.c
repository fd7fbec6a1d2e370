/* cert.c - STUB (owner: cert/trust helper). */
#include "tlscheck.h"
tc_status tc_certs_parse(const unsigned char *data, size_t len, const char *what, STACK_OF(X509) **out, tc_error *err)
{ *out = NULL; return tc_error_set(err, TC_E_INTERNAL, "not implemented yet"); }
tc_status tc_certs_load_file(const char *path, STACK_OF(X509) **out, tc_error *err)
{ *out = NULL; return tc_error_set(err, TC_E_INTERNAL, "not implemented yet"); }
tc_status tc_crls_parse(const unsigned char *data, size_t len, const char *what, STACK_OF(X509_CRL) **out, tc_error *err)
{ *out = NULL; return tc_error_set(err, TC_E_INTERNAL, "not implemented yet"); }
tc_status tc_cert_info_extract(X509 *x, tc_cert_info *out, tc_error *err)
{ return tc_error_set(err, TC_E_INTERNAL, "not implemented yet"); }
void tc_cert_info_clear(tc_cert_info *info) { (void)info; }
const char *tc_cert_label(const tc_cert_info *info) { return ""; }
