/*
 * fuzz_ocsp.c - the stapled OCSP response reader and judge (ocsp.c) on
 * arbitrary bytes: what a server may put in its CertificateStatus message.
 *
 * Input: the response bytes, then optionally the separator "\n--chain--\n"
 * and the served chain (PEM bundle or DER, leaf first).  Without a chain
 * that parses, the chain is the fixed client certificate and anchor of
 * anchor.h.  The chain is taken as the path (as tc_verify would leave it
 * for a chain that verifies), and tc_ocsp_judge runs at a fixed time inside
 * the seeds' validity (make_seeds.py: responses from 2020 to 2040, minted
 * with their own small CA so that mutations start from ones that verify).
 *
 * Invariants (abort = crash = failure): judging succeeds except for
 * memory; report->ocsp is set; status is NULL or one of the three names;
 * verified has no error and an unverified staple says why; every string
 * is NUL-terminated without raw control bytes; `revoked` only comes from a
 * verified "revoked" response, and `ocsp_staple_invalid` is a warning;
 * judging again replaces the first result (no leak).
 */
#include <openssl/err.h>
#include "fuzz_common.h"
#include "tlscheck.h"
#include "anchor.h"

/* 2030-01-01 00:00:00 UTC. */
#define FUZZ_AT 1893456000
#define SEP "\n--chain--\n"

static STACK_OF(X509) *fixed_chain;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    tc_error err;
    STACK_OF(X509) *anchor = NULL;
    (void)argc;
    (void)argv;
    if (tc_certs_parse((const unsigned char *)FUZZ_CLIENT_PEM, sizeof(FUZZ_CLIENT_PEM) - 1,
                       "the fuzz client", &fixed_chain, &err) != TC_OK ||
        tc_certs_parse((const unsigned char *)FUZZ_ANCHOR_PEM, sizeof(FUZZ_ANCHOR_PEM) - 1,
                       "the fuzz anchor", &anchor, &err) != TC_OK)
        abort();
    while (sk_X509_num(anchor) > 0)
        if (!sk_X509_push(fixed_chain, sk_X509_shift(anchor)))
            abort();
    sk_X509_free(anchor);
    return 0;
}

static void check_printable(const char *s)
{
    if (s == NULL)
        return;
    fuzz_touch(s);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        if (*p < 0x20 || *p == 0x7f)
            abort();
}

static void check_report(const tc_report *r)
{
    const tc_ocsp *o = r->ocsp;
    if (o == NULL)
        abort();
    if (o->status != NULL && strcmp(o->status, "good") != 0 && strcmp(o->status, "revoked") != 0
        && strcmp(o->status, "unknown") != 0)
        abort();
    if (o->verified ? o->error != NULL : o->error == NULL)
        abort();
    if (o->verified && o->status == NULL)
        abort();
    check_printable(o->error);
    check_printable(o->reason);
    for (size_t i = 0; i < r->n_problems; i++) {
        const tc_problem *p = &r->problems[i];
        if (p->kind == TC_KIND_REVOKED && !(o->verified && strcmp(o->status, "revoked") == 0))
            abort();
        if (p->kind == TC_KIND_OCSP_STAPLE_INVALID && p->severity != TC_SEV_WARNING)
            abort();
        check_printable(p->message);
        check_printable(p->fix);
        check_printable(p->inspect_command);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    tc_error err;
    tc_report *r = NULL;
    size_t resp_len, rest_len;
    const uint8_t *rest;
    STACK_OF(X509) *chain = NULL;

    tc_error_clear(&err);
    if (fuzz_split(data, size, SEP, &resp_len, &rest, &rest_len) && rest_len > 0 &&
        tc_certs_parse(rest, rest_len, "the fuzz chain", &chain, &err) != TC_OK)
        chain = NULL;
    STACK_OF(X509) *use = chain ? chain : fixed_chain;
    if (tc_report_new(&r, &err) != TC_OK)
        abort();
    sk_X509_pop_free(r->chain, X509_free);
    if ((r->chain = X509_chain_up_ref(use)) == NULL || (r->path = X509_chain_up_ref(use)) == NULL
        || (r->verified = X509_chain_up_ref(use)) == NULL
        || (r->target = strdup("example.com:443")) == NULL)
        abort();
    tc_render_vars vars = { .target = "example.com:443", .sni = "-servername example.com" };
    for (int round = 0; round < 2; round++) {
        tc_error_clear(&err);
        if (tc_ocsp_judge(r, data, resp_len, FUZZ_AT, &vars, &err) != TC_OK) {
            if (err.code != TC_E_NOMEM)
                abort();
            break;
        }
        check_report(r);
    }
    tc_report_free(r);
    sk_X509_pop_free(chain, X509_free);
    ERR_clear_error();
    return 0;
}
