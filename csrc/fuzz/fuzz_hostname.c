/*
 * fuzz_hostname.c - the hostname matcher and normaliser on arbitrary
 * bytes.  Input: PATTERN '\n' HOST (no newline: the whole input is both).
 *
 *  - tc_host_pattern_match(pattern, host) over the raw spans (they may
 *    hold NUL bytes and anything else: the matcher takes lengths);
 *  - tc_hostname_normalize(host) and, when it accepts, the matcher again
 *    on the normalised host, which must then be a valid name: normalising
 *    twice gives the same result (idempotent), and an IP literal is never
 *    matched by a DNS pattern holding no digits-and-dots;
 *  - the reason buffers are always NUL-terminated, even when tiny;
 *  - tc_public_suffix (the Public Suffix List, psl.c) on the raw host
 *    bytes answers 0 or 1, and a wildcard over a name it calls a public
 *    suffix never matches (the seeds *.co.uk, *.foo.ck, *.www.ck reach
 *    the list through the matcher as well).
 */
#include "fuzz_common.h"
#include "tlscheck.h"

static void match(const char *p, size_t plen, const char *h, size_t hlen)
{
    char why[200];
    char tiny[3];
    memset(why, 'X', sizeof(why));
    int m = tc_host_pattern_match(p, plen, h, hlen, why, sizeof(why));
    if (m != 0 && m != 1)
        abort();
    if (!m && memchr(why, '\0', sizeof(why)) == NULL)
        abort();
    memset(tiny, 'X', sizeof(tiny));
    int m2 = tc_host_pattern_match(p, plen, h, hlen, tiny, sizeof(tiny));
    if (m2 != m)
        abort();         /* the answer cannot depend on the reason buffer */
    if (!m2 && memchr(tiny, '\0', sizeof(tiny)) == NULL)
        abort();
    if (tc_host_pattern_match(p, plen, h, hlen, NULL, 0) != m)
        abort();
}

static void public_suffix(const char *h, size_t hlen)
{
    char pat[260], host[260];
    int ps = tc_public_suffix(h, hlen);
    if (ps != 0 && ps != 1)
        abort();
    if (!ps || hlen + 2 > sizeof(pat))
        return;
    memcpy(pat, "*.", 2);
    memcpy(pat + 2, h, hlen);
    memcpy(host, "a.", 2);
    memcpy(host + 2, h, hlen);
    if (tc_host_pattern_match(pat, hlen + 2, host, hlen + 2, NULL, 0) != 0)
        abort();        /* a wildcard over a public suffix is never honoured */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t plen, hlen;
    const uint8_t *host;
    if (!fuzz_split(data, size, "\n", &plen, &host, &hlen)) {
        host = data;
        hlen = size;
    }
    const char *pattern = (const char *)data;
    match(pattern, plen, (const char *)host, hlen);
    public_suffix((const char *)host, hlen);

    char norm[256], again[256];
    unsigned char ip[16], ip2[16];
    int is_ip = -1, is_ip2 = -1;
    size_t ip_len = 99, ip_len2 = 99;
    tc_error err;
    tc_error_clear(&err);
    if (tc_hostname_normalize((const char *)host, hlen, norm, sizeof(norm), &is_ip, ip, &ip_len,
                              &err) != TC_OK) {
        if (err.code == TC_E_NONE)
            abort();
        fuzz_touch(err.msg);
        return 0;
    }
    size_t nlen = fuzz_touch(norm);
    if (nlen == 0 || nlen > 253 + 2 /* brackets are dropped, so at most 253 or an IPv6 text */)
        abort();
    if (is_ip != 0 && is_ip != 1)
        abort();
    if (is_ip && ip_len != 4 && ip_len != 16)
        abort();
    /* Normalising a normalised name changes nothing. */
    if (tc_hostname_normalize(norm, nlen, again, sizeof(again), &is_ip2, ip2, &ip_len2, &err) != TC_OK)
        abort();
    if (strcmp(norm, again) != 0 || is_ip2 != is_ip || (is_ip && (ip_len2 != ip_len ||
                                                                  memcmp(ip, ip2, ip_len) != 0)))
        abort();
    match(pattern, plen, norm, nlen);
    /* The normalised name matches itself as a pattern (no wildcard in it). */
    if (!is_ip && memchr(norm, '*', nlen) == NULL &&
        tc_host_pattern_match(norm, nlen, norm, nlen, NULL, 0) != 1)
        abort();
    return 0;
}
