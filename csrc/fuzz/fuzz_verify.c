/*
 * fuzz_verify.c - the classifier and the rendering of every problem on
 * arbitrary certificate chains, against a fixed anchor (anchor.h, minted
 * once by make_seeds.py: the seeds are chains it issued, so mutations
 * start from chains that verify).
 *
 * Input: one options byte, then the chain: a PEM bundle, a single DER
 * certificate, or DER certificates back to back (leaf first).
 *   options bits 0-1  hostname: none, example.com, www.example.com, 127.0.0.1
 *           bit 2     purpose client (else server)
 *           bit 3     check revocation with the anchor's (empty) CRL
 *           bit 4     max_depth 1
 *           bit 5     require the EKUs serverAuth and 1.3.6.1.4.1.99999.1
 *           bit 6     min_remaining 0.5 and min_days 400
 *           bit 7     also trust the chain's last certificate (a second anchor)
 *
 * Then tc_verify at a fixed time, and every string of the report is read
 * to its end: each problem's message, fix, inspect command and OpenSSL
 * reason, the hostname, and the fields of every certificate of the chain
 * and the path.  Invariants: problems are sorted (table order, then
 * depth), their severity is the table's, a depth indexes the path, and a
 * report with a verified path has no error of the chain itself.
 */
#include <limits.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include "fuzz_common.h"
#include "tlscheck.h"
#include "anchor.h"

/* 2030-01-01 00:00:00 UTC: inside the seeds' validity. */
#define FUZZ_AT 1893456000

static tc_trust *anchor_trust;
static STACK_OF(X509) *anchor_certs;
static STACK_OF(X509_CRL) *anchor_crls;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    tc_error err;
    (void)argc;
    (void)argv;
    if (tc_certs_parse((const unsigned char *)FUZZ_ANCHOR_PEM, sizeof(FUZZ_ANCHOR_PEM) - 1,
                       "the fuzz anchor", &anchor_certs, &err) != TC_OK ||
        tc_trust_new_certs(anchor_certs, &anchor_trust, &err) != TC_OK ||
        tc_crls_parse((const unsigned char *)FUZZ_ANCHOR_CRL_PEM, sizeof(FUZZ_ANCHOR_CRL_PEM) - 1,
                      "the fuzz CRL", &anchor_crls, &err) != TC_OK)
        abort();
    return 0;
}

/* DER certificates back to back; NULL when not even one parses. */
static STACK_OF(X509) *der_sequence(const uint8_t *p, size_t n)
{
    STACK_OF(X509) *sk = sk_X509_new_null();
    if (sk == NULL)
        return NULL;
    while (n > 0 && n <= LONG_MAX) {
        const unsigned char *q = p;
        X509 *x = d2i_X509(NULL, &q, (long)n);
        if (x == NULL)
            break;
        if (sk_X509_push(sk, x) <= 0) {
            X509_free(x);
            break;
        }
        n -= (size_t)(q - p);
        p = q;
    }
    ERR_clear_error();
    if (sk_X509_num(sk) == 0) {
        sk_X509_free(sk);
        return NULL;
    }
    return sk;
}

static void touch_cert(X509 *x)
{
    tc_cert_info info;
    tc_error err;
    if (tc_cert_info_extract(x, &info, &err) != TC_OK) {
        if (err.code != TC_E_NOMEM)
            abort();
        return;
    }
    fuzz_touch(info.subject);
    fuzz_touch(info.issuer);
    fuzz_touch(tc_cert_label(&info));
    fuzz_touch(info.malformed);
    tc_cert_info_clear(&info);
}

static void touch_stack(STACK_OF(X509) *sk)
{
    for (int i = 0; sk != NULL && i < sk_X509_num(sk); i++)
        touch_cert(sk_X509_value(sk, i));
}

static void check_report(const tc_report *r)
{
    int path_len = r->path ? sk_X509_num(r->path) : 0;
    for (size_t i = 0; i < r->n_problems; i++) {
        const tc_problem *p = &r->problems[i];
        const tc_kind_info *k = tc_kind_get(p->kind);
        if (k == NULL || k->severity != p->severity)
            abort();
        if (p->message == NULL || p->fix == NULL || p->inspect_command == NULL)
            abort();
        if (fuzz_touch(p->message) == 0)
            abort();
        fuzz_touch(p->fix);
        fuzz_touch(p->inspect_command);
        fuzz_touch(p->openssl_reason);
        /* (No check for leftover "{name}" text: a certificate may carry
         * such text itself, and it is rendered literally, not expanded.) */
        if (p->depth < -1 || (p->depth >= 0 && p->depth >= path_len && p->depth >= sk_X509_num(r->chain)))
            abort();
        if (i > 0) {
            const tc_problem *q = &r->problems[i - 1];
            if (q->kind > p->kind || (q->kind == p->kind && q->depth > p->depth))
                abort();   /* tc_report_sort: table order, then depth */
        }
    }
    fuzz_touch(r->hostname);
    touch_stack(r->chain);
    touch_stack(r->path);
    touch_stack(r->verified);
    (void)tc_report_ok(r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const hosts[] = { NULL, "example.com", "www.example.com", "127.0.0.1" };
    static const char *const ekus[] = { "serverAuth", "1.3.6.1.4.1.99999.1" };
    STACK_OF(X509) *chain = NULL;
    tc_trust *trust = NULL;
    tc_report *report = NULL;
    tc_error err;

    if (size < 2)
        return 0;
    uint8_t opt = data[0];
    data++;
    size--;
    if (tc_certs_parse(data, size, "the fuzz chain", &chain, &err) != TC_OK &&
        (chain = der_sequence(data, size)) == NULL)
        goto done;

    tc_verify_params p;
    tc_verify_params_init(&p);
    p.hostname = hosts[opt & 3];
    p.has_at = 1;
    p.at = FUZZ_AT;
    p.purpose = (opt & 4) ? TC_PURPOSE_CLIENT : TC_PURPOSE_SERVER;
    p.crls = (opt & 8) ? anchor_crls : NULL;
    p.max_depth = (opt & 16) ? 1 : -1;
    if (opt & 32) {
        p.required_ekus = ekus;
        p.n_required_ekus = 2;
    }
    if (opt & 64) {
        p.min_remaining = 0.5;
        p.min_days = 400;
    }
    if (opt & 128) {
        STACK_OF(X509) *two = sk_X509_dup(anchor_certs);
        if (two == NULL || sk_X509_push(two, sk_X509_value(chain, sk_X509_num(chain) - 1)) <= 0 ||
            tc_trust_new_certs(two, &trust, &err) != TC_OK) {
            sk_X509_free(two);
            goto done;
        }
        sk_X509_free(two);
    } else {
        trust = tc_trust_ref(anchor_trust);
    }
    fuzz_touch(tc_trust_describe(trust));
    if (tc_report_new(&report, &err) != TC_OK)
        goto done;
    if (tc_verify(report, trust, chain, &p, &err) != TC_OK) {
        /* Only "could not judge": a hostile chain is judged, not refused. */
        if (err.code != TC_E_NOMEM && err.code != TC_E_INVALID)
            abort();
        fuzz_touch(err.msg);
        goto done;
    }
    check_report(report);
done:
    tc_report_free(report);
    tc_trust_free(trust);
    sk_X509_pop_free(chain, X509_free);
    ERR_clear_error();
    return 0;
}
