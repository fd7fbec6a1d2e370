/*
 * fuzz_fetch.c - the HTTP response parser of fetch.c (AIA fetches) fed by
 * a fuzzed server, and the URL rule fed by its redirects.
 *
 * Input: one options byte, then the server's bytes.
 *   options bits 0-2  the bytes arrive in chunks of
 *                     all / 1 / 2 / 5 / 17 / 100 / 512 / 4096 bytes
 *           bit 3     the Location, if any, is parsed as an absolute URL
 *                     (else relative to a base)
 *
 * As the fetch state does: the bytes so far are parsed again after every
 * chunk, until DONE or FAILED; at the end of the input, once more with
 * eof.  The body must stay within its buffer and the words be set on
 * failure.
 */
#include "fuzz_common.h"
#include "fetch.h"

static unsigned char body[TC_FETCH_MAX_BODY];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const size_t chunks[] = { 0, 1, 2, 5, 17, 100, 512, 4096 };
    if (size < 1)
        return 0;
    uint8_t opt = data[0];
    data++;
    size--;
    size_t chunk = chunks[opt & 7] ? chunks[opt & 7] : size + 1;
    tc_http_resp r;
    memset(&r, 0, sizeof(r));
    r.body = body;
    r.body_cap = sizeof(body);
    tc_http_result res = TC_HTTP_WANT;
    size_t have = 0;
    while (res == TC_HTTP_WANT && have < size) {
        have += size - have < chunk ? size - have : chunk;
        res = tc_http_parse(data, have, 0, &r);
    }
    if (res == TC_HTTP_WANT)
        res = tc_http_parse(data, size, 1, &r);
    if (res == TC_HTTP_WANT)
        abort();   /* at eof the parser decides */
    if (res == TC_HTTP_FAILED) {
        if (r.why == NULL)
            abort();
        fuzz_touch(r.why);
        return 0;
    }
    if (r.body_len > TC_FETCH_MAX_BODY || r.location_len >= sizeof(r.location) ||
        r.location[r.location_len] != '\0')
        abort();
    if (r.body_len > 0) {
        volatile unsigned char sink = body[0] ^ body[r.body_len - 1];
        (void)sink;
    }
    if (r.location_len > 0) {
        tc_fetch_url base, u;
        const char *why = NULL;
        int ok = tc_fetch_url_parse("http://127.0.0.1:8080/a", 23, NULL, &base, &why);
        if (!ok)
            abort();
        ok = tc_fetch_url_parse(r.location, r.location_len, (opt & 8) ? NULL : &base, &u, &why);
        if (!ok) {
            fuzz_touch(why);
        } else {
            char req[2048];
            fuzz_touch(u.host);
            fuzz_touch(u.path);
            if (u.port < 1 || u.port > 65535 || u.path[0] != '/')
                abort();
            if (tc_fetch_request(&u, req, sizeof(req)) > 0)
                fuzz_touch(req);
        }
    }
    return 0;
}
