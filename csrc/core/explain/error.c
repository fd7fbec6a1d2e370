/* error.c - the tc_error out-parameter. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include "tlscheck.h"

void tc_error_clear(tc_error *err)
{
    if (err == NULL)
        return;
    err->code = TC_E_NONE;
    err->sys_errno = 0;
    err->msg[0] = '\0';
}

tc_status tc_error_set(tc_error *err, tc_errcode code, const char *fmt, ...)
{
    if (err == NULL)
        return TC_FAIL;
    err->code = code;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
    va_end(ap);
    return TC_FAIL;
}
