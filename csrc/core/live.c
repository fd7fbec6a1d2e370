/* live.c - STUB (owner: live-check helper). */
#include <time.h>
#include "tlscheck.h"
tc_status tc_client_new(const tc_client_params *p, tc_client **out, tc_error *err) { *out = NULL; return tc_error_set(err, TC_E_INTERNAL, "not implemented yet"); }
tc_client *tc_client_ref(tc_client *c) { return c; }
void tc_client_free(tc_client *c) { (void)c; }
tc_status tc_check_new(tc_client *client, const tc_check_params *p, tc_check **out, tc_error *err) { *out = NULL; return tc_error_set(err, TC_E_INTERNAL, "not implemented yet"); }
void tc_check_free(tc_check *c) { (void)c; }
tc_step tc_check_step(tc_check *c) { return TC_STEP_DONE; }
int tc_check_fd(const tc_check *c) { return -1; }
int64_t tc_check_deadline_ns(const tc_check *c) { return 0; }
tc_report *tc_check_take_report(tc_check *c) { return NULL; }
tc_status tc_check_run(tc_client *client, const tc_check_params *p, tc_report **out, tc_error *err) { *out = NULL; return tc_error_set(err, TC_E_INTERNAL, "not implemented yet"); }
int64_t tc_now_ns(void) { struct timespec ts; clock_gettime(CLOCK_MONOTONIC, &ts); return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec; }
