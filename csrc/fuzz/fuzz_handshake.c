/*
 * fuzz_handshake.c - the TLS client of a live check (handshake.c) fed by a
 * fuzzed peer over its memory BIOs: no socket, the input is what the
 * "server" sends.
 *
 * Input: one options byte, then the server's bytes.
 *   options bits 0-1  context: main, diagnostic probe, main with a client
 *                     certificate, main without SNI
 *           bits 2-4  the server's bytes arrive in chunks of
 *                     all / 1 / 2 / 5 / 17 / 100 / 512 / 4096 bytes
 *           bit 5     the transport ends with a reset (ECONNRESET), else EOF
 *           bit 6     also run the diagnostic refinement (tc_hs_probe_refine)
 *
 * As live.c does: feed a chunk, advance, drain what the client wants to
 * send (discarded: the peer is scripted), until the handshake completes
 * (then the post-handshake read), fails, or the input ends (then the
 * transport's verdicts: closed, timeout, not TLS).  Whatever chain the
 * peer served is verified against the fixed anchor, as capture_main does,
 * and the handshake's report fields are filled.  Every verdict string is
 * read to its end.
 */
#include <errno.h>
#include <openssl/err.h>
#include "fuzz_common.h"
#include "live_internal.h"
#include "anchor.h"

static SSL_CTX *main_ctx, *probe_ctx, *client_ctx;
static tc_trust *anchor_trust;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    tc_error err;
    STACK_OF(X509) *anchors = NULL;
    (void)argc;
    (void)argv;
    if (tc_hs_ctx_new(&main_ctx, &err) != TC_OK || tc_hs_probe_ctx_new(&probe_ctx, &err) != TC_OK ||
        tc_hs_ctx_new(&client_ctx, &err) != TC_OK ||
        tc_hs_ctx_use_client_cert(client_ctx, FUZZ_CLIENT_PEM, sizeof(FUZZ_CLIENT_PEM) - 1,
                                  FUZZ_CLIENT_KEY_PEM, sizeof(FUZZ_CLIENT_KEY_PEM) - 1,
                                  &err) != TC_OK ||
        tc_certs_parse((const unsigned char *)FUZZ_ANCHOR_PEM, sizeof(FUZZ_ANCHOR_PEM) - 1,
                       "the fuzz anchor", &anchors, &err) != TC_OK ||
        tc_trust_new_certs(anchors, &anchor_trust, &err) != TC_OK)
        abort();
    sk_X509_pop_free(anchors, X509_free);
    return 0;
}

static void touch_verdict(const tc_verdict *v)
{
    if (tc_kind_get(v->kind) == NULL)
        abort();
    if (memchr(v->reason, '\0', sizeof(v->reason)) == NULL ||
        memchr(v->detail, '\0', sizeof(v->detail)) == NULL)
        abort();
    fuzz_touch(v->reason);
    fuzz_touch(v->detail);
}

static void drain(tc_hs *hs)
{
    const unsigned char *p;
    size_t n;
    while ((n = tc_hs_out_peek(hs, &p)) > 0) {
        volatile unsigned char sink = p[0] ^ p[n - 1];   /* the borrowed span is readable */
        (void)sink;
        tc_hs_out_consume(hs, n);
    }
}

/* What capture_main does with a chain received before the end. */
static void judge_chain(tc_hs *hs)
{
    tc_report *r = NULL;
    tc_error err;
    if (tc_report_new(&r, &err) != TC_OK)
        return;
    if (tc_hs_fill_report(hs, r, &err) != TC_OK && err.code != TC_E_NOMEM)
        abort();
    fuzz_touch(r->protocol);
    fuzz_touch(r->cipher);
    fuzz_touch(r->group);
    fuzz_touch(r->alpn);
    for (size_t i = 0; i < r->client_ca_names.count; i++)
        fuzz_touch(r->client_ca_names.items[i]);
    STACK_OF(X509) *chain = SSL_get_peer_cert_chain(hs->ssl);   /* borrowed */
    if (chain != NULL && sk_X509_num(chain) > 0) {
        tc_verify_params p;
        tc_verify_params_init(&p);
        p.hostname = "example.com";
        p.has_at = 1;
        p.at = 1893456000;
        if (tc_verify(r, anchor_trust, chain, &p, &err) == TC_OK) {
            for (size_t i = 0; i < r->n_problems; i++) {
                fuzz_touch(r->problems[i].message);
                fuzz_touch(r->problems[i].fix);
                fuzz_touch(r->problems[i].inspect_command);
            }
        } else if (err.code != TC_E_NOMEM && err.code != TC_E_INVALID) {
            abort();
        }
    }
    tc_report_free(r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const size_t chunks[] = { 0, 1, 2, 5, 17, 100, 512, 4096 };
    tc_hs hs;
    tc_verdict v;
    tc_error err;
    int failed = 0, done = 0;

    if (size < 1)
        return 0;
    uint8_t opt = data[0];
    data++;
    size--;
    int which = opt & 3;
    SSL_CTX *ctx = which == 1 ? probe_ctx : which == 2 ? client_ctx : main_ctx;
    size_t chunk = chunks[(opt >> 2) & 7];
    if (chunk == 0)
        chunk = size ? size : 1;

    if (tc_hs_init(&hs, ctx, which == 3 ? NULL : "example.com", &err) != TC_OK)
        abort();
    /* The ClientHello goes out before the server says anything. */
    if (tc_hs_advance(&hs, &v) != TC_HS_WANT)
        abort();
    drain(&hs);

    size_t off = 0;
    while (off < size && !failed) {
        size_t n = size - off < chunk ? size - off : chunk;
        if (tc_hs_not_tls(&hs)) {
            /* live.c stops feeding TLS and only keeps the banner. */
            tc_hs_keep(&hs, data + off, n);
            off += n;
            continue;
        }
        if (tc_hs_feed(&hs, data + off, n, &err) != TC_OK)
            abort();
        off += n;
        /* Bounded rounds, as live.c: each advance consumes bytes or waits. */
        tc_hs_result hr = done ? tc_hs_post(&hs, &v) : tc_hs_advance(&hs, &v);
        drain(&hs);
        if (hr == TC_HS_FAILED) {
            touch_verdict(&v);
            failed = 1;
        } else if (hr == TC_HS_DONE && !done) {
            done = 1;
            judge_chain(&hs);
            hr = tc_hs_post(&hs, &v);
            drain(&hs);
            if (hr == TC_HS_FAILED) {
                touch_verdict(&v);
                failed = 1;
            }
        }
    }
    if (!failed && !done)
        judge_chain(&hs);
    if (tc_hs_not_tls(&hs)) {
        tc_hs_verdict_not_tls(&hs, &v);
        touch_verdict(&v);
        (void)tc_hs_banner_complete(&hs);
    }
    tc_hs_verdict_closed(&hs, (opt & 32) ? ECONNRESET : 0, &v);
    touch_verdict(&v);
    tc_hs_verdict_timeout(&hs, 2.5, &v);
    touch_verdict(&v);
    if (opt & 64) {
        tc_hs_verdict_closed(&hs, 0, &v);
        tc_hs_probe_refine(&hs, failed, main_ctx, &v);
        touch_verdict(&v);
    }
    tc_hs_clear(&hs);
    ERR_clear_error();
    return 0;
}
