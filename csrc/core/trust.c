/* trust.c - STUB (owner: cert/trust helper). */
#include "tlscheck.h"
tc_status tc_trust_new_system(tc_trust **out, tc_error *err) { *out = NULL; return tc_error_set(err, TC_E_INTERNAL, "not implemented yet"); }
tc_status tc_trust_new_path(const char *path, tc_trust **out, tc_error *err) { *out = NULL; return tc_error_set(err, TC_E_INTERNAL, "not implemented yet"); }
tc_status tc_trust_new_certs(STACK_OF(X509) *anchors, tc_trust **out, tc_error *err) { *out = NULL; return tc_error_set(err, TC_E_INTERNAL, "not implemented yet"); }
tc_trust *tc_trust_ref(tc_trust *t) { return t; }
void tc_trust_free(tc_trust *t) { (void)t; }
X509_STORE *tc_trust_store(const tc_trust *t) { return NULL; }
int tc_trust_contains(const tc_trust *t, X509 *x) { return 0; }
const char *tc_trust_describe(const tc_trust *t) { return ""; }
