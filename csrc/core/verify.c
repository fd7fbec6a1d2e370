/* verify.c - STUB (owner: verify helper). */
#include <string.h>
#include "internal.h"
void tc_verify_params_init(tc_verify_params *p) { memset(p, 0, sizeof(*p)); p->max_depth = -1; p->min_days = 30; }
tc_status tc_verify(tc_report *report, const tc_trust *trust, STACK_OF(X509) *chain, const tc_verify_params *params, tc_error *err)
{ return tc_error_set(err, TC_E_INTERNAL, "not implemented yet"); }
void tc_cert_vars_fill(tc_cert_vars *cv, X509 *x, int depth, int64_t now, tc_render_vars *vars) { (void)cv; }
