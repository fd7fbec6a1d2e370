/* policy.c - STUB (owner: conformance helper). */
#include "internal.h"
tc_status tc_policy_check(tc_report *report, STACK_OF(X509) *path, const tc_verify_params *params, tc_error *err) { return TC_OK; }
