/* Minimal test harness for the C core's test programs: CHECK records a
 * failure and goes on; TC_TEST_MAIN prints "N passed, N failed". */
#ifndef TC_TEST_H
#define TC_TEST_H
#include <stdio.h>
#include <string.h>

static int tc_test_pass, tc_test_fail;
#define CHECK(cond) do { if (cond) tc_test_pass++; else { tc_test_fail++; \
    fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); } } while (0)
#define CHECK_STR(a, b) do { const char *a_ = (a), *b_ = (b); \
    if (a_ && b_ && strcmp(a_, b_) == 0) tc_test_pass++; else { tc_test_fail++; \
    fprintf(stderr, "%s:%d: CHECK_STR failed: \"%s\" != \"%s\"\n", __FILE__, __LINE__, \
            a_ ? a_ : "(null)", b_ ? b_ : "(null)"); } } while (0)
#define TC_TEST_DONE() (printf("%d passed, %d failed\n", tc_test_pass, tc_test_fail), tc_test_fail ? 1 : 0)
#endif
