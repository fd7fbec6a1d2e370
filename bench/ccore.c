/*
 * ccore.c - pytlscheck's C core alone, without Python: the same checks as
 * check_many (tc_multi, full reports: verification, host name, web-PKI
 * rules, problems rendered), driven by this program's one thread.  It
 * tells apart what the core costs from what the Python layer adds.
 *
 *   ccore --addr IP --port P --sni NAME --ca FILE --k K --n N [--timeout S]
 *
 * Prints one JSON line with the same keys as cref (checks_per_s, p50_ms,
 * p99_ms, cpu_ms_per_check, peak_rss_kb, ...).  A check counts as ok when
 * its report has no error.  One untimed warm-up check first, as for every
 * client.  Built by hand (see bench/README.md); not used by run.py.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/resource.h>
#include "tlscheck.h"

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double percentile(const double *v, long n, int p)
{
    if (n <= 0)
        return -1.0;
    long rank = (long)((double)p / 100.0 * (double)n + 0.999999);
    if (rank < 1)
        rank = 1;
    if (rank > n)
        rank = n;
    return v[rank - 1];
}

static double cpu_ms(const struct rusage *ru)
{
    return (double)ru->ru_utime.tv_sec * 1e3 + (double)ru->ru_utime.tv_usec / 1e3 +
           (double)ru->ru_stime.tv_sec * 1e3 + (double)ru->ru_stime.tv_usec / 1e3;
}

static long peak_rss_kb(void)
{
    char line[256];
    long kb = -1;
    FILE *f = fopen("/proc/self/status", "r");
    if (f == NULL)
        return -1;
    while (fgets(line, sizeof line, f) != NULL)
        if (strncmp(line, "VmHWM:", 6) == 0) {
            kb = strtol(line + 6, NULL, 10);
            break;
        }
    fclose(f);
    return kb;
}

/* Runs n checks with k in flight; fills lat (ms, ok checks) and counts.
 * 0, or -1 when the driver itself failed. */
static int drive(tc_client *client, const tc_check_params *cp, long n, int k,
                 double *lat, long *ok, long *failed, char *first_error, size_t fe_len)
{
    tc_multi *m = NULL;
    tc_error err;
    tc_error_clear(&err);
    if (tc_multi_new((size_t)k, &m, &err) != TC_OK) {
        fprintf(stderr, "ccore: %s\n", err.msg);
        return -1;
    }
    for (long i = 0; i < n; i++)
        if (tc_multi_add(m, client, cp, (uint64_t)i, &err) != TC_OK) {
            fprintf(stderr, "ccore: %s\n", err.msg);
            tc_multi_free(m);
            return -1;
        }
    long done = 0;
    while (done < n) {
        size_t ready = 0;
        if (tc_multi_run(m, 1000000000LL, &ready, &err) != TC_OK) {
            fprintf(stderr, "ccore: %s\n", err.msg);
            tc_multi_free(m);
            return -1;
        }
        uint64_t tag;
        tc_report *r;
        tc_error cerr;
        while (tc_multi_pop(m, &tag, &r, &cerr)) {
            done++;
            if (r != NULL && tc_report_ok(r)) {
                lat[(*ok)++] = r->timings.total_ms;
            } else {
                (*failed)++;
                if (first_error[0] == '\0')
                    snprintf(first_error, fe_len, "%s",
                             r == NULL ? cerr.msg
                             : r->n_problems ? r->problems[0].message : "not ok");
            }
            tc_report_free(r);
        }
    }
    tc_multi_free(m);
    return 0;
}

int main(int argc, char **argv)
{
    const char *addr = NULL, *sni = NULL, *ca = NULL;
    long port = 0, n = 0, k = 0;
    double timeout = 10.0;
    for (int i = 1; i + 1 < argc; i += 2) {
        const char *o = argv[i], *v = argv[i + 1];
        if (!strcmp(o, "--addr")) addr = v;
        else if (!strcmp(o, "--port")) port = strtol(v, NULL, 10);
        else if (!strcmp(o, "--sni")) sni = v;
        else if (!strcmp(o, "--ca")) ca = v;
        else if (!strcmp(o, "--k")) k = strtol(v, NULL, 10);
        else if (!strcmp(o, "--n")) n = strtol(v, NULL, 10);
        else if (!strcmp(o, "--timeout")) timeout = strtod(v, NULL);
        else {
            fprintf(stderr, "ccore: unknown option %s\n", o);
            return 2;
        }
    }
    if (!addr || !sni || !ca || port < 1 || port > 65535 || n < 1 || k < 1) {
        fprintf(stderr, "usage: ccore --addr IP --port P --sni NAME --ca FILE --k K --n N "
                        "[--timeout S]\n");
        return 2;
    }
    tc_error err;
    tc_error_clear(&err);
    tc_trust *trust = NULL;
    tc_client *client = NULL;
    if (tc_trust_new_path(ca, &trust, &err) != TC_OK) {
        fprintf(stderr, "ccore: %s\n", err.msg);
        return 1;
    }
    tc_client_params clp = { .trust = trust };
    if (tc_client_new(&clp, &client, &err) != TC_OK) {
        fprintf(stderr, "ccore: %s\n", err.msg);
        tc_trust_free(trust);
        return 1;
    }
    tc_check_params cp;
    memset(&cp, 0, sizeof cp);
    cp.host = addr;
    cp.port = (int)port;
    cp.server_name = sni;
    cp.timeout = timeout;
    tc_verify_params_init(&cp.verify);

    double *lat = calloc((size_t)n + 1, sizeof(double));
    char first_error[512] = "";
    long ok = 0, failed = 0;
    int rc = 1;
    struct rusage ru0, ru1;
    struct timespec t0, t1;
    if (lat == NULL)
        goto out;
    /* Warm-up, untimed (trust store, OpenSSL's lazy initialisation). */
    if (drive(client, &cp, 1, 1, lat, &ok, &failed, first_error, sizeof first_error) != 0)
        goto out;
    ok = failed = 0;
    first_error[0] = '\0';
    if (getrusage(RUSAGE_SELF, &ru0) != 0)
        goto out;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    if (drive(client, &cp, n, (int)k, lat, &ok, &failed, first_error, sizeof first_error) != 0)
        goto out;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    if (getrusage(RUSAGE_SELF, &ru1) != 0)
        goto out;
    double wall = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    qsort(lat, (size_t)ok, sizeof(double), cmp_double);
    printf("{\"client\": \"ccore\", \"k\": %ld, \"n\": %ld, \"ok\": %ld, \"failed\": %ld, "
           "\"wall_s\": %.4f, \"checks_per_s\": %.2f, \"p50_ms\": %.3f, \"p99_ms\": %.3f, "
           "\"cpu_ms_per_check\": %.4f, \"peak_rss_kb\": %ld, \"first_error\": \"",
           k, n, ok, failed, wall, (double)ok / wall, percentile(lat, ok, 50),
           percentile(lat, ok, 99), (cpu_ms(&ru1) - cpu_ms(&ru0)) / (double)n, peak_rss_kb());
    for (const char *c = first_error; *c != '\0'; c++)
        if (*c != '"' && *c != '\\' && (unsigned char)*c >= 0x20 && (unsigned char)*c < 0x7f)
            putchar(*c);
    printf("\"}\n");
    rc = failed == 0 ? 0 : 1;
out:
    free(lat);
    tc_client_free(client);
    tc_trust_free(trust);
    return rc;
}
