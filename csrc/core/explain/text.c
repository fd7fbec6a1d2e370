/* text.c - the one escaping rule for untrusted bytes and the bounded text
 * buffer (see text.h). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/asn1.h>

#include "text.h"

/* Length of the well-formed UTF-8 sequence (2..4 bytes) starting at p,
 * or 0 when it is not one (overlong forms, surrogates and code points
 * above U+10FFFF are not well-formed: RFC 3629 section 4). */
static size_t utf8_seq_len(const unsigned char *p, size_t n)
{
    unsigned char b = p[0];
    size_t len;
    unsigned char lo = 0x80, hi = 0xbf;   /* range of the second byte */

    if (b >= 0xc2 && b <= 0xdf)
        len = 2;
    else if (b >= 0xe0 && b <= 0xef) {
        len = 3;
        if (b == 0xe0)
            lo = 0xa0;
        else if (b == 0xed)
            hi = 0x9f;
    } else if (b >= 0xf0 && b <= 0xf4) {
        len = 4;
        if (b == 0xf0)
            lo = 0x90;
        else if (b == 0xf4)
            hi = 0x8f;
    } else
        return 0;
    if (n < len || p[1] < lo || p[1] > hi)
        return 0;
    for (size_t i = 2; i < len; i++)
        if (p[i] < 0x80 || p[i] > 0xbf)
            return 0;
    return len;
}

/* The bidirectional-text controls (U+061C, U+200E, U+200F, U+202A..U+202E,
 * U+2066..U+2069): they reorder what a terminal or page shows around them,
 * so a name holding one can read as another (CVE-2021-42574). */
static int is_bidi_control(const unsigned char *p, size_t seq)
{
    if (seq == 2)
        return p[0] == 0xd8 && p[1] == 0x9c;                    /* U+061C */
    if (seq != 3 || p[0] != 0xe2)
        return 0;
    if (p[1] == 0x80)
        return p[2] == 0x8e || p[2] == 0x8f || (p[2] >= 0xaa && p[2] <= 0xae);
    return p[1] == 0x81 && p[2] >= 0xa6 && p[2] <= 0xa9;
}

size_t tc_text_unit(const unsigned char *p, size_t n, int esc_backslash, int *escape)
{
    unsigned char b = p[0];
    if (b < 0x80) {
        *escape = b < 0x20 || b == 0x7f || (esc_backslash && b == '\\');
        return 1;
    }
    size_t seq = utf8_seq_len(p, n);
    if (seq == 0) {
        *escape = 1;
        return 1;
    }
    /* C2 80..C2 9F encode the C1 controls. */
    *escape = (b == 0xc2 && p[1] <= 0x9f) || is_bidi_control(p, seq);
    return seq;
}

void tc_escape(char *out, size_t outlen, const unsigned char *p, size_t n, size_t show)
{
    tb b;
    if (outlen == 0)
        return;
    tb_init(&b, out, outlen);
    size_t limit = n < show ? n : show, i = 0;
    /* Room for "..." is kept while writing, so a cut always shows. */
    size_t room = outlen > 4 ? outlen - 4 : 1;
    while (i < limit) {
        int escape;
        size_t seq = tc_text_unit(p + i, limit - i, 1, &escape);
        size_t need = escape ? 4 * seq : seq;
        if (b.len + need > room)
            break;
        if (escape)
            for (size_t k = 0; k < seq; k++)
                tb_addf(&b, "\\x%02x", p[i + k]);
        else {
            memcpy(b.p + b.len, p + i, seq);
            b.len += seq;
            b.p[b.len] = '\0';
        }
        i += seq;
    }
    if (i < n && outlen > 4)
        tb_add(&b, "...");
}

void tb_init(tb *b, char *p, size_t cap)
{
    b->p = p;
    b->cap = cap;
    b->len = 0;
    if (cap)
        p[0] = '\0';
}

/* After a cut, drop a trailing partial UTF-8 sequence. */
static void tb_trim_utf8(tb *b)
{
    size_t n = b->len, k = 0;
    while (n > 0 && k < 4 && ((unsigned char)b->p[n - 1] & 0xC0) == 0x80) {
        n--;
        k++;
    }
    if (n > 0 && ((unsigned char)b->p[n - 1] & 0xC0) == 0xC0) {
        unsigned char lead = (unsigned char)b->p[n - 1];
        size_t need = lead >= 0xF0 ? 3 : lead >= 0xE0 ? 2 : 1;
        if (k < need)
            b->len = n - 1;
    }
    b->p[b->len] = '\0';
}

void tb_addf(tb *b, const char *fmt, ...)
{
    if (b->cap == 0 || b->len + 1 >= b->cap)
        return;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    if ((size_t)n >= b->cap - b->len) {
        b->len = b->cap - 1;
        tb_trim_utf8(b);
    } else {
        b->len += (size_t)n;
    }
}

void tb_add(tb *b, const char *s)
{
    tb_addf(b, "%s", s);
}

void tb_add_bytes(tb *b, const unsigned char *s, size_t n)
{
    size_t i = 0;
    while (i < n && b->len + 1 < b->cap) {
        int escape;
        size_t seq = tc_text_unit(s + i, n - i, 0, &escape);
        if (escape) {
            size_t before = b->len;
            for (size_t k = 0; k < seq; k++)
                tb_addf(b, "\\x%02x", s[i + k]);
            if (b->len - before < 4 * seq) {   /* cut: no half escape */
                b->len = before;
                b->p[b->len] = '\0';
                break;
            }
        } else {
            if (b->len + seq + 1 > b->cap)
                break;
            memcpy(b->p + b->len, s + i, seq);
            b->len += seq;
            b->p[b->len] = '\0';
        }
        i += seq;
    }
}

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's
 * algorithm), so dates past 2038 work whatever time_t is. */
static int64_t days_from_civil(int64_t y, int m, int d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

int tc_asn1_time_unix(const ASN1_TIME *t, int64_t *out)
{
    struct tm tm;
    memset(&tm, 0, sizeof(tm));
    if (t == NULL || ASN1_TIME_to_tm(t, &tm) != 1)
        return 0;
    *out = days_from_civil((int64_t)tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday) * 86400
           + tm.tm_hour * 3600 + tm.tm_min * 60 + tm.tm_sec;
    return 1;
}


char *tc_shell_quote(const char *s)
{
    static const char safe[] = "@%+=:,./-_";
    size_t n = strlen(s), quotes = 0;
    int plain = n > 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
              || strchr(safe, c) != NULL) || c == '\0')
            plain = 0;
        quotes += c == '\'';
    }
    if (plain)
        return strdup(s);
    /* '...' with each ' written as '"'"' */
    char *out = malloc(n + 4 * quotes + 3);
    if (out == NULL)
        return NULL;
    size_t o = 0;
    out[o++] = '\'';
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '\'') {
            memcpy(out + o, "'\"'\"'", 5);
            o += 5;
        } else {
            out[o++] = s[i];
        }
    }
    out[o++] = '\'';
    out[o] = '\0';
    return out;
}
