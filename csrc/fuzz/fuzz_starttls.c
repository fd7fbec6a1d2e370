/*
 * fuzz_starttls.c - the STARTTLS dialogue (starttls.c) fed by a fuzzed
 * server: no socket, the input is what the "server" sends before TLS.
 *
 * Input: one options byte, then the server's bytes.
 *   options bits 0-2  the protocol: smtp, imap, pop3, ftp, ldap, postgres,
 *                     mysql, xmpp
 *           bits 3-5  the server's bytes arrive in chunks of
 *                     all / 1 / 2 / 5 / 17 / 100 / 512 / 4096 bytes
 *           bit 6     the transport ends with a reset (ECONNRESET), else EOF
 *
 * As live.c does: drain what the client queues (discarded: the peer is
 * scripted), feed a chunk, until the dialogue is done (then the leftover
 * is read, as TLS would get it), fails, or the input ends (then the
 * transport's verdicts: closed, timeout).  Every verdict string is read to
 * its end and must be a starttls_* kind.
 */
#include <errno.h>
#include "fuzz_common.h"
#include "live_internal.h"

static void touch_verdict(const tc_verdict *v)
{
    if (v->kind != TC_KIND_STARTTLS_PROTOCOL_MISMATCH && v->kind != TC_KIND_STARTTLS_UNAVAILABLE &&
        v->kind != TC_KIND_STARTTLS_REFUSED)
        abort();
    if (memchr(v->reason, '\0', sizeof(v->reason)) == NULL ||
        memchr(v->detail, '\0', sizeof(v->detail)) == NULL)
        abort();
    fuzz_touch(v->reason);
    fuzz_touch(v->detail);
    /* The escaper's promise: no control byte reaches the words. */
    for (const char *p = v->detail; *p; p++)
        if ((unsigned char)*p < 0x20 || *p == 0x7f)
            abort();
}

static void drain(tc_stls *s)
{
    const unsigned char *p;
    size_t n;
    while ((n = tc_stls_out_peek(s, &p)) > 0) {
        volatile unsigned char sink = p[0] ^ p[n - 1];   /* the borrowed span is readable */
        (void)sink;
        tc_stls_out_consume(s, n > 7 ? n / 2 : n);      /* partial sends, as a full socket */
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const size_t chunks[] = { 0, 1, 2, 5, 17, 100, 512, 4096 };
    tc_stls s;
    tc_verdict v;
    tc_error err;
    int failed = 0, done = 0;

    if (size < 1)
        return 0;
    uint8_t opt = data[0];
    data++;
    size--;
    tc_starttls proto = (tc_starttls)(TC_STARTTLS_SMTP + (opt & 7));
    size_t chunk = chunks[(opt >> 3) & 7];
    if (chunk == 0)
        chunk = size ? size : 1;
    if (tc_stls_init(&s, proto, (opt & 128) ? "127.0.0.1" : "example.com", &err) != TC_OK)
        abort();
    drain(&s);
    size_t off = 0;
    while (off < size && !failed && !done) {
        size_t n = size - off < chunk ? size - off : chunk, used = 0;
        tc_stls_result r = tc_stls_feed(&s, data + off, n, &used, &v);
        if (used > n)
            abort();
        off += used;
        drain(&s);
        if (r == TC_STLS_FAILED) {
            touch_verdict(&v);
            failed = 1;
        } else if (r == TC_STLS_DONE) {
            const unsigned char *left;
            size_t k = tc_stls_leftover(&s, &left);
            if (k > TC_STLS_BUF)
                abort();
            for (size_t i = 0; i < k; i++) {
                volatile unsigned char sink = left[i];
                (void)sink;
            }
            if (!tc_stls_done(&s))
                abort();
            done = 1;
        } else if (used == 0) {
            abort();    /* a dialogue that wants bytes takes them */
        }
    }
    /* Feeding after the end changes nothing. */
    if (failed || done) {
        size_t used;
        tc_stls_result again = tc_stls_feed(&s, (const uint8_t *)"x", 1, &used, &v);
        if (again != (failed ? TC_STLS_FAILED : TC_STLS_DONE) || used != 0)
            abort();
    }
    if (!failed && !done) {
        tc_stls_verdict_closed(&s, (opt & 64) ? ECONNRESET : 0, &v);
        touch_verdict(&v);
        tc_stls_verdict_timeout(&s, 2.5, &v);
        touch_verdict(&v);
    }
    tc_stls_clear(&s);
    tc_stls_clear(&s);       /* twice: clearing is idempotent */
    return 0;
}
