/*
 * hostname.c - does a certificate name a host?  RFC 6125 section 6.4 and
 * the CA/Browser Forum Baseline Requirements (BR) section 7.1.4.2.1.
 *
 * Three layers, each usable alone:
 *   tc_hostname_normalize  validates what the caller typed (a DNS name or
 *                          an IP literal) and puts it in one canonical form;
 *   tc_host_pattern_match  the pure matcher: one dNSName pattern against one
 *                          normalised DNS host name (rules in one comment);
 *   tc_hostname_check      the policy: which SAN entries count, which miss
 *                          is the nearest one, and the sentence that says so.
 *
 * Reasons are one sentence without a final period, so that they can be the
 * {detail} of the hostname_mismatch message ("... is not valid for X:
 * {detail}.").  Certificate bytes are never assumed to be NUL-terminated:
 * they travel as (pointer, length) and are escaped (\xNN) before printing.
 *
 * Design rule: pytlscheck never accepts a name that OpenSSL's
 * X509_check_host (with CPython's flags NO_PARTIAL_WILDCARDS and
 * NEVER_CHECK_SUBJECT) or X509_check_ip would reject, except where the
 * input syntax differs (a trailing dot, IPv6 brackets); see
 * docs/hostname.md, where every difference is tabled, and
 * csrc/tests/test_hostname.c, which holds the two side by side.
 */
#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <openssl/asn1.h>
#include <openssl/crypto.h>
#include <openssl/objects.h>
#include <openssl/x509v3.h>

#include "tlscheck.h"
#include "text.h"

#define DNS_NAME_MAX 253    /* RFC 1035 section 2.3.4, without the root dot */
#define DNS_LABEL_MAX 63
#define SHOW_MAX 80         /* bytes of a name shown in a sentence */
#define LIST_MAX 5          /* names listed before "and N more" */

/* ------------------------------------------------------------------ */
/* Small text helpers: a bounded sentence builder that never overflows  */
/* ------------------------------------------------------------------ */

typedef struct sbuf {
    char *p;
    size_t cap, len;
    int truncated;
} sbuf;

static void sb_init(sbuf *b, char *p, size_t cap)
{
    b->p = p;
    b->cap = cap;
    b->len = 0;
    b->truncated = 0;
    if (cap > 0)
        p[0] = '\0';
}

static void sb_printf(sbuf *b, const char *fmt, ...) TC_PRINTF(2, 3);
static void sb_printf(sbuf *b, const char *fmt, ...)
{
    va_list ap;
    int n;

    if (b->cap == 0 || b->truncated)
        return;
    va_start(ap, fmt);
    n = vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= b->cap - b->len) {
        /* Keep what fitted and say that something was cut. */
        b->truncated = 1;
        b->len = b->cap - 1;
        if (b->cap > 4)
            memcpy(b->p + b->cap - 4, "...", 4);
        return;
    }
    b->len += (size_t)n;
}

/* Appends untrusted bytes escaped by the core's one rule (text.h), at
 * most SHOW_MAX input bytes. */
static void sb_escaped(sbuf *b, const void *data, size_t n)
{
    char tmp[4 * SHOW_MAX + 8];
    tc_escape(tmp, sizeof(tmp), data, n, SHOW_MAX);
    sb_printf(b, "%s", tmp);
}

static int lower(int c)
{
    return (c >= 'A' && c <= 'Z') ? c - 'A' + 'a' : c;
}

/* Case-insensitive ASCII comparison of two spans (RFC 4343). */
static int ieq(const char *a, size_t an, const char *b, size_t bn)
{
    size_t i;

    if (an != bn)
        return 0;
    for (i = 0; i < an; i++)
        if (lower((unsigned char)a[i]) != lower((unsigned char)b[i]))
            return 0;
    return 1;
}

static int is_ldh(int c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (c >= '0' && c <= '9') || c == '-';
}

static int is_digit(int c)
{
    return c >= '0' && c <= '9';
}

static int is_hex(int c)
{
    return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

static size_t label_len(const char *s, size_t n)
{
    const char *dot = memchr(s, '.', n);
    return dot ? (size_t)(dot - s) : n;
}

static size_t label_count(const char *s, size_t n)
{
    size_t i, c = 1;

    for (i = 0; i < n; i++)
        c += s[i] == '.';
    return c;
}

static int all_ldh(const char *s, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++)
        if (!is_ldh((unsigned char)s[i]))
            return 0;
    return 1;
}

/* A label of letters, digits and hyphens that neither starts nor ends with
 * a hyphen (RFC 1123 section 2.1, RFC 5890 section 2.3.1). */
static int strict_ldh_label(const char *s, size_t n)
{
    return n > 0 && s[0] != '-' && s[n - 1] != '-' && all_ldh(s, n);
}

static const char *const count_words[] = {
    "no", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine",
};

static void sb_count(sbuf *b, size_t n)
{
    if (n < sizeof(count_words) / sizeof(count_words[0]))
        sb_printf(b, "%s", count_words[n]);
    else
        sb_printf(b, "%zu", n);
}

/* ------------------------------------------------------------------ */
/* Name syntax                                                         */
/* ------------------------------------------------------------------ */

/* What is wrong with a name, most telling first. */
typedef enum name_defect {
    DEF_NONE = 0,
    DEF_EMPTY,
    DEF_NUL,
    DEF_NON_ASCII,
    DEF_CHAR,
    DEF_TRAILING_DOT,
    DEF_EMPTY_LABEL,
    DEF_LABEL_TOO_LONG,
    DEF_TOO_LONG
} name_defect;

/* Phrases completing "it ...", indexed by name_defect. */
static const char *const defect_text[] = {
    [DEF_NONE] = "is well formed",
    [DEF_EMPTY] = "is empty",
    [DEF_NUL] = "contains a NUL byte",
    [DEF_NON_ASCII] = "contains non-ASCII bytes instead of xn-- A-labels",
    [DEF_CHAR] = "contains a character that is not a letter, digit, hyphen, underscore or dot",
    [DEF_TRAILING_DOT] = "ends with a dot, which RFC 5280 section 4.2.1.6 does not allow in a certificate",
    [DEF_EMPTY_LABEL] = "has an empty label",
    [DEF_LABEL_TOO_LONG] = "has a label longer than 63 characters",
    [DEF_TOO_LONG] = "is longer than 253 characters",
};

/* Syntax of a DNS name as found in a certificate or given to the matcher:
 * ASCII letters, digits, '-', '_' (and '*' when allow_star), labels of
 * 1..63 bytes, at most 253 bytes, no trailing dot.  Hyphen placement is
 * left to tc_hostname_normalize: certificates in the wild carry such
 * names and OpenSSL compares them literally. */
static name_defect name_syntax(const char *s, size_t n, int allow_star)
{
    size_t i, lab = 0;

    if (n == 0)
        return DEF_EMPTY;
    if (memchr(s, '\0', n) != NULL)
        return DEF_NUL;
    for (i = 0; i < n; i++)
        if ((unsigned char)s[i] >= 0x80)
            return DEF_NON_ASCII;
    for (i = 0; i < n; i++) {
        int c = (unsigned char)s[i];
        if (!is_ldh(c) && c != '_' && c != '.' && !(allow_star && c == '*'))
            return DEF_CHAR;
    }
    if (s[n - 1] == '.' && n > 1 && s[n - 2] != '.')
        return DEF_TRAILING_DOT;
    for (i = 0; i <= n; i++) {
        if (i == n || s[i] == '.') {
            if (lab == 0)
                return DEF_EMPTY_LABEL;
            if (lab > DNS_LABEL_MAX)
                return DEF_LABEL_TOO_LONG;
            lab = 0;
        } else {
            lab++;
        }
    }
    return n > DNS_NAME_MAX ? DEF_TOO_LONG : DEF_NONE;
}

/* The last label is numeric (all digits, or 0x and hex digits): such a
 * name is an IPv4 address in some form, never a DNS name (RFC 3696
 * section 2; the WHATWG URL standard's "ends in a number" rule). */
static int ends_in_number(const char *s, size_t n)
{
    const char *dot = NULL;
    size_t i, start;

    for (i = n; i > 0; i--)
        if (s[i - 1] == '.') {
            dot = s + i - 1;
            break;
        }
    start = dot ? (size_t)(dot - s) + 1 : 0;
    if (start == n)
        return 0;
    if (n - start >= 2 && s[start] == '0' && lower((unsigned char)s[start + 1]) == 'x') {
        for (i = start + 2; i < n; i++)
            if (!is_hex((unsigned char)s[i]))
                return 0;
        return 1;
    }
    for (i = start; i < n; i++)
        if (!is_digit((unsigned char)s[i]))
            return 0;
    return 1;
}

/* Strict dotted-quad IPv4: four decimal numbers 0..255 without leading
 * zeros (a leading zero means octal to inet_aton, so refusing it avoids
 * reading 010.0.0.1 as 8.0.0.1).  Returns 1 and fills out[4]. */
static int parse_ipv4(const char *s, size_t n, unsigned char out[4])
{
    size_t i = 0;
    int part;

    for (part = 0; part < 4; part++) {
        unsigned v = 0;
        size_t digits = 0;
        if (part > 0) {
            if (i >= n || s[i] != '.')
                return 0;
            i++;
        }
        while (i < n && is_digit((unsigned char)s[i])) {
            if (digits > 0 && v == 0)
                return 0;
            v = v * 10 + (unsigned)(s[i] - '0');
            if (v > 255)
                return 0;
            digits++;
            i++;
        }
        if (digits == 0)
            return 0;
        out[part] = (unsigned char)v;
    }
    return i == n;
}

static int parse_ipv6(const char *s, size_t n, unsigned char out[16])
{
    char tmp[INET6_ADDRSTRLEN + 1];

    if (n == 0 || n >= sizeof(tmp))
        return 0;
    memcpy(tmp, s, n);
    tmp[n] = '\0';
    return inet_pton(AF_INET6, tmp, out) == 1;
}

/* An IP literal as text, with or without IPv6 brackets; 4 or 16, 0 when
 * the text is no IP literal. */
static size_t parse_ip(const char *s, size_t n, unsigned char out[16])
{
    if (n >= 2 && s[0] == '[' && s[n - 1] == ']')
        return parse_ipv6(s + 1, n - 2, out) ? 16 : 0;
    if (memchr(s, ':', n) != NULL)
        return parse_ipv6(s, n, out) ? 16 : 0;
    return parse_ipv4(s, n, out) ? 4 : 0;
}

static void sb_ip(sbuf *b, const unsigned char *ip, size_t len)
{
    char txt[INET6_ADDRSTRLEN];

    if ((len == 4 && inet_ntop(AF_INET, ip, txt, sizeof(txt)) != NULL) ||
        (len == 16 && inet_ntop(AF_INET6, ip, txt, sizeof(txt)) != NULL))
        sb_printf(b, "%s", txt);
    else
        sb_printf(b, "(malformed IP address of %zu bytes)", len);
}

/* ------------------------------------------------------------------ */
/* Normalising the caller's hostname                                   */
/* ------------------------------------------------------------------ */

static tc_status invalid_host(tc_error *err, const char *in, size_t len,
                              const char *why)
{
    char shown[4 * SHOW_MAX + 8];
    sbuf b;

    sb_init(&b, shown, sizeof(shown));
    sb_escaped(&b, in, len);
    return tc_error_set(err, TC_E_INVALID, "the hostname \"%s\" %s", shown, why);
}

tc_status tc_hostname_normalize(const char *in, size_t len, char *out,
                                size_t outlen, int *is_ip,
                                unsigned char ip[16], size_t *ip_len,
                                tc_error *err)
{
    unsigned char addr[16];
    size_t alen, n = len, i, start;

    if (is_ip != NULL)
        *is_ip = 0;
    if (ip_len != NULL)
        *ip_len = 0;
    if (out == NULL || outlen == 0)
        return tc_error_set(err, TC_E_INTERNAL, "tc_hostname_normalize: no output buffer");
    out[0] = '\0';
    if (in == NULL || len == 0)
        return tc_error_set(err, TC_E_INVALID, "the hostname is empty: give a DNS name such as api.example.com or an IP address");
    for (i = 0; i < len; i++) {
        if ((unsigned char)in[i] >= 0x80)
            return invalid_host(err, in, len, "contains non-ASCII characters; convert it to its IDNA A-label form (xn--...) first, as pytlscheck's Python API does");
    }
    if (memchr(in, '\0', len) != NULL)
        return invalid_host(err, in, len, "contains a NUL byte");

    /* IP literals (RFC 6125 section 6.4.4 compares them as bytes).  One
     * trailing dot is tolerated on IPv4 as the WHATWG URL parser does. */
    alen = parse_ip(in, len, addr);
    if (alen == 0 && len > 1 && in[len - 1] == '.' && parse_ipv4(in, len - 1, addr))
        alen = 4;
    if (alen == 0 && len >= 2 && in[0] == '[')
        return invalid_host(err, in, len, "is in brackets but is not an IPv6 address");
    if (alen == 0 && memchr(in, '%', len) != NULL && memchr(in, ':', len) != NULL)
        return invalid_host(err, in, len, "has an IPv6 zone ID (%...), which no certificate can name; drop the zone");
    if (alen == 0 && memchr(in, ':', len) != NULL)
        return invalid_host(err, in, len, "contains ':' but is not an IPv6 address (if it is host:port, give the port separately)");
    if (alen != 0) {
        char txt[INET6_ADDRSTRLEN];
        if (inet_ntop(alen == 4 ? AF_INET : AF_INET6, addr, txt, sizeof(txt)) == NULL)
            return tc_error_set(err, TC_E_INTERNAL, "inet_ntop failed on a parsed address");
        if (strlen(txt) + 1 > outlen)
            return tc_error_set(err, TC_E_INTERNAL, "tc_hostname_normalize: output buffer too small");
        memcpy(out, txt, strlen(txt) + 1);
        if (is_ip != NULL)
            *is_ip = 1;
        if (ip != NULL)
            memcpy(ip, addr, alen);
        if (ip_len != NULL)
            *ip_len = alen;
        return TC_OK;
    }

    /* A DNS name: the absolute form "example.com." names the same host. */
    if (n > 1 && in[n - 1] == '.')
        n--;
    switch (name_syntax(in, n, 0)) {
    case DEF_NONE:
        break;
    case DEF_EMPTY:
    case DEF_EMPTY_LABEL:
    case DEF_TRAILING_DOT:
        return invalid_host(err, in, len, "has an empty label (two dots in a row, or a leading dot)");
    case DEF_NUL:
    case DEF_NON_ASCII:
    case DEF_CHAR:
        return invalid_host(err, in, len, "is neither a DNS name nor an IP address: a DNS name has only letters, digits, hyphens and dots");
    case DEF_LABEL_TOO_LONG:
        return invalid_host(err, in, len, "has a label longer than 63 characters (RFC 1035 section 2.3.4)");
    case DEF_TOO_LONG:
        return invalid_host(err, in, len, "is longer than 253 characters (RFC 1035 section 2.3.4)");
    }
    for (start = 0; start < n; start += label_len(in + start, n - start) + 1) {
        size_t l = label_len(in + start, n - start);
        if (in[start] == '-' || in[start + l - 1] == '-')
            return invalid_host(err, in, len, "has a label that starts or ends with a hyphen, which DNS host names may not (RFC 1123 section 2.1)");
    }
    if (ends_in_number(in, n))
        return invalid_host(err, in, len, "is neither a DNS name nor an IP address: it ends in a number but is not four decimal numbers 0-255 (write IPv4 addresses as a.b.c.d without leading zeros)");
    if (n + 1 > outlen)
        return tc_error_set(err, TC_E_INTERNAL, "tc_hostname_normalize: output buffer too small");
    for (i = 0; i < n; i++)
        out[i] = (char)lower((unsigned char)in[i]);
    out[n] = '\0';
    return TC_OK;
}

/* ------------------------------------------------------------------ */
/* The matcher                                                         */
/* ------------------------------------------------------------------ */

/* Outcomes of one pattern against one host.  Between HM_MATCH and
 * HM_DIFFERENT lie the near misses, nearest first: the entry would match
 * if exactly one rule were lifted, and that rule is the explanation. */
typedef enum hm_code {
    HM_MATCH = 0,
    HM_BAD_PATTERN_NEAR,    /* malformed, but its repaired form matches */
    HM_WILD_DEPTH,          /* *.example.com vs a.b.example.com */
    HM_WILD_BARE,           /* *.example.com vs example.com */
    HM_WILD_PARTIAL,        /* f*.example.com */
    HM_WILD_IDNA,           /* a partial wildcard against an A-label */
    HM_WILD_NOT_LEFTMOST,   /* www.*.example.com */
    HM_WILD_TOO_BROAD,      /* *.com */
    HM_WILD_PUBLIC_SUFFIX,  /* *.co.uk: the base is a public suffix */
    HM_WILD_HOST_CHARS,     /* *.example.com vs my_host.example.com */
    HM_WILD_PATTERN_CHARS,  /* *.my_zone.example.com */
    HM_DIFFERENT,           /* another name altogether */
    HM_BAD_PATTERN,         /* malformed SAN entry: never matches */
    HM_HOST_IS_IP,          /* an IP literal never matches a dNSName */
    HM_BAD_HOST             /* the host is no DNS name */
} hm_code;

typedef struct hm_result {
    hm_code code;
    name_defect defect;     /* for HM_BAD_PATTERN(_NEAR) */
} hm_result;

/* Case-insensitive glob of one label where '*' matches any run of
 * characters; only used to find out whether a wildcard that the rules
 * refuse would otherwise have matched (the near misses). */
static int label_glob(const char *p, size_t pn, const char *h, size_t hn)
{
    size_t pi = 0, hi = 0, star = (size_t)-1, mark = 0;

    while (hi < hn) {
        if (pi < pn && p[pi] == '*') {
            star = pi++;
            mark = hi;
        } else if (pi < pn && lower((unsigned char)p[pi]) == lower((unsigned char)h[hi])) {
            pi++;
            hi++;
        } else if (star != (size_t)-1) {
            pi = star + 1;
            hi = ++mark;
        } else {
            return 0;
        }
    }
    while (pi < pn && p[pi] == '*')
        pi++;
    return pi == pn;
}

/*
 * The rules, from RFC 6125 section 6.4.3 (and 6.4.1, 6.4.4), tightened the
 * way browsers and the CA/Browser Forum BR 7.1.4.2.1 do:
 *  1. Names compare case-insensitively as ASCII (RFC 4343); "xn--" A-labels
 *     are plain ASCII here: IDNA is the caller's job (RFC 6125 6.4.2).
 *  2. A host that is an IP literal never matches a dNSName (6.4.4: IPs are
 *     compared with iPAddress entries only, as bytes, one level up).
 *  3. A pattern that is not a well-formed name (NUL, non-ASCII, empty label,
 *     trailing dot, over-long) never matches: a NUL is the classic
 *     "good.com\0.evil.com" trick.
 *  4. '*' is honoured only as the whole left-most label ("*.example.com"):
 *     never in another label (6.4.3 bullet 1), never partially ("f*",
 *     "*oo": bullet 3 only permits those, RFC 9525 section 6.3 and the BR
 *     forbid them), never inside an A-label ("xn--*", bullet 4).
 *  5. The wildcard stands for exactly one label, non-empty: it covers
 *     neither "a.b.example.com" nor the bare "example.com" (bullet 2).
 *  6. At least two labels must follow it: "*.com" is never honoured, nor
 *     is a wildcard whose base is a public suffix of the Public Suffix
 *     List's ICANN section ("*.co.uk"), as in Chrome (psl.c).
 *  7. As in OpenSSL, the covered label must be letters, digits and hyphens
 *     and the fixed labels proper LDH labels: we never accept what
 *     OpenSSL's X509_check_host refuses.
 * Each refusal is returned as its own code so the caller can explain it.
 */
static hm_result hm_match(const char *pat, size_t plen, const char *host, size_t hlen)
{
    hm_result r = { HM_DIFFERENT, DEF_NONE };
    size_t np, nh, pl, hl, fl, pi, hi;

    if (memchr(host, ':', hlen) != NULL || ends_in_number(host, hlen))
        return r.code = HM_HOST_IS_IP, r;                       /* rule 2 */
    if (name_syntax(host, hlen, 0) != DEF_NONE)
        return r.code = HM_BAD_HOST, r;
    if ((r.defect = name_syntax(pat, plen, 1)) != DEF_NONE)
        return r.code = HM_BAD_PATTERN, r;                      /* rule 3 */
    if (memchr(pat, '*', plen) == NULL) {                       /* rule 1 */
        r.code = ieq(pat, plen, host, hlen) ? HM_MATCH : HM_DIFFERENT;
        return r;
    }
    np = label_count(pat, plen);
    nh = label_count(host, hlen);
    fl = label_len(pat, plen);
    if (np != nh) {                                             /* rule 5 */
        if (fl == 1 && pat[0] == '*' && np >= 2) {
            const char *suf = pat + 2;
            size_t sl = plen - 2;
            if (ieq(suf, sl, host, hlen))
                r.code = HM_WILD_BARE;
            else if (nh > np && hlen > sl && host[hlen - sl - 1] == '.' &&
                     ieq(suf, sl, host + hlen - sl, sl))
                r.code = HM_WILD_DEPTH;
        }
        return r;
    }
    /* Same shape: would a lax glob match, label by label? */
    for (pi = 0, hi = 0; pi < plen; pi += pl + 1, hi += hl + 1) {
        pl = label_len(pat + pi, plen - pi);
        hl = label_len(host + hi, hlen - hi);
        if (!label_glob(pat + pi, pl, host + hi, hl))
            return r;                                           /* different */
    }
    hl = label_len(host, hlen);
    if (memchr(pat + fl, '*', plen - fl) != NULL)
        r.code = HM_WILD_NOT_LEFTMOST;                          /* rule 4 */
    else if (fl != 1)
        r.code = (fl >= 4 && ieq(pat, 4, "xn--", 4)) ||
                 (hl >= 4 && ieq(host, 4, "xn--", 4)) ? HM_WILD_IDNA : HM_WILD_PARTIAL;
    else if (np < 3)
        r.code = HM_WILD_TOO_BROAD;                             /* rule 6 */
    else if (tc_public_suffix(host + hl + 1, hlen - hl - 1))
        r.code = HM_WILD_PUBLIC_SUFFIX;                         /* rule 6 */
    else if (!all_ldh(host, hl))
        r.code = HM_WILD_HOST_CHARS;                            /* rule 7 */
    else {
        r.code = HM_MATCH;
        for (pi = 2; pi < plen; pi += pl + 1) {
            pl = label_len(pat + pi, plen - pi);
            if (!strict_ldh_label(pat + pi, pl))
                r.code = HM_WILD_PATTERN_CHARS;
        }
    }
    return r;
}

/* Rule 3 for explanations: a malformed entry is a near miss when the
 * obvious repair (cut at a NUL, drop one trailing dot, trim spaces) would
 * match; clients still ignore it. */
static hm_result hm_match_explained(const char *pat, size_t plen,
                                    const char *host, size_t hlen)
{
    hm_result r = hm_match(pat, plen, host, hlen);
    const char *nul;
    size_t start = 0, end = plen;

    if (r.code != HM_BAD_PATTERN)
        return r;
    if ((nul = memchr(pat, '\0', plen)) != NULL)
        end = (size_t)(nul - pat);
    while (start < end && pat[start] == ' ')
        start++;
    while (end > start && pat[end - 1] == ' ')
        end--;
    if (end > start + 1 && pat[end - 1] == '.')
        end--;
    if (hm_match(pat + start, end - start, host, hlen).code == HM_MATCH)
        r.code = HM_BAD_PATTERN_NEAR;
    return r;
}

/* One phrase per outcome, naming the rule. */
static void hm_explain(sbuf *b, hm_result r, const char *pat, size_t plen,
                       const char *host, size_t hlen)
{
    size_t hl = label_len(host, hlen);

    switch (r.code) {
    case HM_MATCH:
        sb_printf(b, "%.*s matches the SAN entry ", (int)hlen, host);
        sb_escaped(b, pat, plen);
        return;
    case HM_BAD_PATTERN_NEAR:
        sb_printf(b, "the SAN entry \"");
        sb_escaped(b, pat, plen);
        sb_printf(b, "\" would name %.*s but %s, so it is ignored", (int)hlen, host,
                  defect_text[r.defect]);
        return;
    case HM_WILD_DEPTH:
        sb_printf(b, "the wildcard ");
        sb_escaped(b, pat, plen);
        sb_printf(b, " covers one label; %.*s has ", (int)hlen, host);
        sb_count(b, label_count(host, hlen) - label_count(pat, plen) + 1);
        return;
    case HM_WILD_BARE:
        sb_printf(b, "wildcards do not cover the bare domain: ");
        sb_escaped(b, pat, plen);
        sb_printf(b, " does not match %.*s", (int)hlen, host);
        return;
    case HM_WILD_PARTIAL:
        sb_printf(b, "partial wildcards such as ");
        sb_escaped(b, pat, plen);
        sb_printf(b, " are not honoured (only a whole left-most * label is), so it does not match %.*s",
                  (int)hlen, host);
        return;
    case HM_WILD_IDNA:
        sb_printf(b, "a wildcard never matches part of an internationalised (xn--) label, so ");
        sb_escaped(b, pat, plen);
        sb_printf(b, " does not match %.*s", (int)hlen, host);
        return;
    case HM_WILD_NOT_LEFTMOST:
        sb_printf(b, "a wildcard is honoured only as the whole left-most label, so ");
        sb_escaped(b, pat, plen);
        sb_printf(b, " does not match %.*s", (int)hlen, host);
        return;
    case HM_WILD_TOO_BROAD:
        sb_printf(b, "the wildcard ");
        sb_escaped(b, pat, plen);
        sb_printf(b, " is too broad to be honoured (at least two labels must follow the *), so it does not match %.*s",
                  (int)hlen, host);
        return;
    case HM_WILD_PUBLIC_SUFFIX:
        sb_printf(b, "the wildcard ");
        sb_escaped(b, pat, plen);
        sb_printf(b, " is not honoured because %.*s is a public suffix, a registry under which anyone may register names "
                     "(the ICANN section of the Public Suffix List, version %.10s), and browsers refuse a wildcard over one, "
                     "so it does not match %.*s",
                  (int)(hlen - hl - 1), host + hl + 1, tc_psl_version(), (int)hlen, host);
        return;
    case HM_WILD_HOST_CHARS:
        sb_printf(b, "the wildcard ");
        sb_escaped(b, pat, plen);
        sb_printf(b, " covers only labels of letters, digits and hyphens; the label %.*s of %.*s has other characters",
                  (int)hl, host, (int)hlen, host);
        return;
    case HM_WILD_PATTERN_CHARS:
        sb_printf(b, "the wildcard ");
        sb_escaped(b, pat, plen);
        sb_printf(b, " is not honoured because a label after the * is not letters, digits and inner hyphens, so it does not match %.*s",
                  (int)hlen, host);
        return;
    case HM_DIFFERENT:
        sb_escaped(b, pat, plen);
        sb_printf(b, " does not match %.*s", (int)hlen, host);
        return;
    case HM_BAD_PATTERN:
        sb_printf(b, "the SAN entry \"");
        sb_escaped(b, pat, plen);
        sb_printf(b, "\" %s, so it never matches", defect_text[r.defect]);
        return;
    case HM_HOST_IS_IP:
        sb_escaped(b, host, hlen);
        sb_printf(b, " is an IP address, which only an IP address SAN can match, never the DNS name entry ");
        sb_escaped(b, pat, plen);
        return;
    case HM_BAD_HOST:
        sb_printf(b, "\"");
        sb_escaped(b, host, hlen);
        sb_printf(b, "\" is not a valid DNS host name");
        return;
    }
}

int tc_host_pattern_match(const char *pattern, size_t plen,
                          const char *host, size_t hlen,
                          char *why, size_t whylen)
{
    hm_result r;
    sbuf b;

    if (pattern == NULL || host == NULL) {
        if (why != NULL && whylen > 0)
            snprintf(why, whylen, "no pattern or no host name was given");
        return 0;
    }
    r = hm_match_explained(pattern, plen, host, hlen);
    if (why != NULL) {
        sb_init(&b, why, whylen);
        hm_explain(&b, r, pattern, plen, host, hlen);
    }
    return r.code == HM_MATCH;
}

/* ------------------------------------------------------------------ */
/* The policy: which SAN entries count, and the nearest miss           */
/* ------------------------------------------------------------------ */

typedef enum san_state { SAN_ABSENT, SAN_OK, SAN_UNDECODABLE, SAN_DUPLICATE } san_state;

typedef struct san_view {
    GENERAL_NAMES *gens;        /* owned */
    san_state state;
    size_t n_dns, n_ip, n_bad;  /* usable DNS names, usable IPs, malformed entries */
} san_view;

static int gen_value(const GENERAL_NAME *g, const char **p, size_t *n)
{
    const ASN1_STRING *s;

    if (g->type == GEN_DNS)
        s = g->d.dNSName;
    else if (g->type == GEN_IPADD)
        s = g->d.iPAddress;
    else
        return 0;
    if (s == NULL || ASN1_STRING_length(s) < 0)
        return 0;
    *p = (const char *)ASN1_STRING_get0_data(s);
    *n = (size_t)ASN1_STRING_length(s);
    if (*p == NULL)
        *p = "", *n = 0;
    return 1;
}

/* An entry that can take part in matching: a well-formed dNSName (wildcard
 * syntax allowed) or an iPAddress of 4 or 16 bytes. */
static int gen_usable(const GENERAL_NAME *g)
{
    const char *p = NULL;
    size_t n = 0;

    if (!gen_value(g, &p, &n))
        return 0;
    if (g->type == GEN_IPADD)
        return n == 4 || n == 16;
    return name_syntax(p, n, 1) == DEF_NONE;
}

static void san_view_load(san_view *v, X509 *cert)
{
    int crit = -1, i;

    memset(v, 0, sizeof(*v));
    v->gens = X509_get_ext_d2i(cert, NID_subject_alt_name, &crit, NULL);
    if (v->gens == NULL) {
        /* -1: absent; -2: more than once (RFC 5280 4.2 forbids it);
         * otherwise present but not decodable. */
        v->state = crit == -1 ? SAN_ABSENT : crit == -2 ? SAN_DUPLICATE : SAN_UNDECODABLE;
        return;
    }
    v->state = SAN_OK;
    for (i = 0; i < sk_GENERAL_NAME_num(v->gens); i++) {
        const GENERAL_NAME *g = sk_GENERAL_NAME_value(v->gens, i);
        if (g->type != GEN_DNS && g->type != GEN_IPADD)
            continue;
        if (!gen_usable(g))
            v->n_bad++;
        else if (g->type == GEN_DNS)
            v->n_dns++;
        else
            v->n_ip++;
    }
}

/* "a, b and c" / "a, b, c, d, e and 3 more" over the usable entries of
 * the given types. */
static void sb_names(sbuf *b, const san_view *v, int want_dns, int want_ip)
{
    size_t total = 0, shown = 0;
    int i;

    for (i = 0; i < sk_GENERAL_NAME_num(v->gens); i++) {
        const GENERAL_NAME *g = sk_GENERAL_NAME_value(v->gens, i);
        total += gen_usable(g) && ((g->type == GEN_DNS && want_dns) ||
                                   (g->type == GEN_IPADD && want_ip));
    }
    for (i = 0; i < sk_GENERAL_NAME_num(v->gens) && shown < LIST_MAX; i++) {
        const GENERAL_NAME *g = sk_GENERAL_NAME_value(v->gens, i);
        const char *p = NULL;
        size_t n = 0;
        if (!gen_usable(g) || !((g->type == GEN_DNS && want_dns) ||
                                (g->type == GEN_IPADD && want_ip)) ||
            !gen_value(g, &p, &n))
            continue;
        if (shown > 0)
            sb_printf(b, shown + 1 == total ? " and " : ", ");
        if (g->type == GEN_IPADD)
            sb_ip(b, (const unsigned char *)p, n);
        else
            sb_escaped(b, p, n);
        shown++;
    }
    if (total > shown)
        sb_printf(b, " and %zu more", total - shown);
}

/* The same address in the other family: a.b.c.d and ::ffff:a.b.c.d
 * (RFC 4291 section 2.5.5.2), which byte comparison tells apart. */
static int same_address(const unsigned char *ip, size_t ip_len,
                        const char *san, size_t n)
{
    static const unsigned char mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
    const unsigned char *s = (const unsigned char *)san;

    if (ip_len == 16 && n == 4)
        return memcmp(ip, mapped, 12) == 0 && memcmp(ip + 12, s, 4) == 0;
    if (ip_len == 4 && n == 16)
        return memcmp(s, mapped, 12) == 0 && memcmp(s + 12, ip, 4) == 0;
    return 0;
}

/* Does any subject CN name the host?  1 yes, 0 no; the last CN read is
 * written, escaped, to shown (left empty when the subject has none). */
static int cn_names_host(X509 *cert, const char *host, size_t hlen,
                         int is_ip, const unsigned char *ip, size_t ip_len,
                         sbuf *shown)
{
    const X509_NAME *name = X509_get_subject_name(cert);
    int i = -1, found = 0;

    while (!found && name != NULL &&
           (i = X509_NAME_get_index_by_NID(name, NID_commonName, i)) >= 0) {
        const X509_NAME_ENTRY *ne = X509_NAME_get_entry(name, i);
        unsigned char *utf8 = NULL, addr[16];
        int n = ASN1_STRING_to_UTF8(&utf8, X509_NAME_ENTRY_get_data(ne));
        if (n < 0)
            continue;   /* undecodable CN: it names nothing */
        sb_init(shown, shown->p, shown->cap);
        sb_escaped(shown, utf8, (size_t)n);
        if (is_ip)
            found = parse_ip((const char *)utf8, (size_t)n, addr) == ip_len &&
                    memcmp(addr, ip, ip_len) == 0;
        else
            found = hm_match((const char *)utf8, (size_t)n, host, hlen).code == HM_MATCH;
        OPENSSL_free(utf8);
    }
    return found;
}

/* Names the first malformed DNS / IP entry and what is wrong with it. */
static void sb_first_bad(sbuf *b, const san_view *v)
{
    int i;

    for (i = 0; i < sk_GENERAL_NAME_num(v->gens); i++) {
        const GENERAL_NAME *g = sk_GENERAL_NAME_value(v->gens, i);
        const char *p = NULL;
        size_t n = 0;
        if ((g->type != GEN_DNS && g->type != GEN_IPADD) || gen_usable(g) ||
            !gen_value(g, &p, &n))
            continue;
        if (g->type == GEN_IPADD) {
            sb_printf(b, "an IP address entry of %zu bytes instead of 4 or 16", n);
        } else if (n == 0) {
            sb_printf(b, "an empty DNS name entry");
        } else {
            sb_printf(b, "\"");
            sb_escaped(b, p, n);
            sb_printf(b, "\" %s", defect_text[name_syntax(p, n, 1)]);
        }
        return;
    }
}

static void sb_bad_note(sbuf *b, const san_view *v)
{
    if (v->n_bad == 1)
        sb_printf(b, " (one malformed SAN entry was ignored)");
    else if (v->n_bad > 1)
        sb_printf(b, " (%zu malformed SAN entries were ignored)", v->n_bad);
}

static const char cn_ignored[] =
    "which clients ignore since RFC 6125/2818 and Chrome 58";

/* The sentence for a failed match: the nearest miss when there is one,
 * else what the certificate is valid for. */
static void explain_miss(sbuf *b, X509 *cert, const san_view *v,
                         const char *host, size_t hlen, int is_ip,
                         const unsigned char *ip, size_t ip_len)
{
    hm_result best = { HM_DIFFERENT, DEF_NONE };
    const char *bp = NULL;
    size_t bn = 0;
    int i, ip_as_dns = 0, other_family = -1;
    char cn_buf[4 * SHOW_MAX + 8];
    sbuf cn;

    sb_init(&cn, cn_buf, sizeof(cn_buf));

    if (v->state == SAN_UNDECODABLE || v->state == SAN_DUPLICATE) {
        sb_printf(b, "the certificate's Subject Alternative Name extension %s, so no name can match",
                  v->state == SAN_DUPLICATE ? "appears more than once (RFC 5280 section 4.2 forbids that)"
                                            : "cannot be decoded (it is malformed)");
        return;
    }
    for (i = 0; v->gens != NULL && i < sk_GENERAL_NAME_num(v->gens); i++) {
        const GENERAL_NAME *g = sk_GENERAL_NAME_value(v->gens, i);
        const char *p = NULL;
        size_t n = 0;
        unsigned char addr[16];
        if (!gen_value(g, &p, &n))
            continue;
        if (g->type == GEN_DNS && is_ip) {
            ip_as_dns |= parse_ip(p, n, addr) == ip_len && memcmp(addr, ip, ip_len) == 0;
        } else if (g->type == GEN_DNS) {
            hm_result r = hm_match_explained(p, n, host, hlen);
            if (r.code < best.code) {
                best = r;
                bp = p;
                bn = n;
            }
        } else if (is_ip && other_family < 0 && same_address(ip, ip_len, p, n)) {
            other_family = i;
        }
    }
    if (best.code < HM_DIFFERENT) {
        hm_explain(b, best, bp, bn, host, hlen);
        return;
    }
    if (cn_names_host(cert, host, hlen, is_ip, ip, ip_len, &cn)) {
        sb_printf(b, "the certificate names %.*s only in its subject CN, %s; ", (int)hlen, host, cn_ignored);
        if (v->state == SAN_ABSENT)
            sb_printf(b, "it has no Subject Alternative Name");
        else if (v->n_dns + v->n_ip == 0)
            sb_printf(b, "its Subject Alternative Name has no usable DNS name or IP address entry");
        else {
            sb_printf(b, "its Subject Alternative Names (");
            sb_names(b, v, 1, 1);
            sb_printf(b, ") do not include it");
        }
        return;
    }
    if (ip_as_dns) {
        sb_printf(b, "the certificate lists %.*s as a DNS name, but an IP address matches only an IP address SAN, never a DNS name",
                  (int)hlen, host);
        return;
    }
    if (other_family >= 0) {
        const char *p = NULL;
        size_t n = 0;
        (void)gen_value(sk_GENERAL_NAME_value(v->gens, other_family), &p, &n);
        sb_printf(b, "the certificate has the IP address SAN ");
        sb_ip(b, (const unsigned char *)p, n);
        sb_printf(b, ", the same address as %.*s written as %s, but IP addresses compare byte for byte; connect to ",
                  (int)hlen, host, n == 4 ? "IPv4 instead of IPv4-mapped IPv6" : "IPv4-mapped IPv6 instead of IPv4");
        sb_ip(b, (const unsigned char *)p, n);
        sb_printf(b, " or add %.*s as an IP address SAN", (int)hlen, host);
        return;
    }
    if (v->n_dns + v->n_ip == 0) {
        if (v->state == SAN_ABSENT)
            sb_printf(b, "the certificate has no Subject Alternative Name, so it is valid for no host name");
        else if (v->n_bad > 0) {
            sb_printf(b, "every DNS name or IP address entry of the certificate's Subject Alternative Name is malformed (");
            sb_first_bad(b, v);
            sb_printf(b, "), so none can match");
        } else
            sb_printf(b, "the certificate's Subject Alternative Name has no DNS name or IP address entry, so it is valid for no host name");
        if (cn.len > 0)
            sb_printf(b, " (its subject CN %s does not count: clients ignore the CN since RFC 6125/2818 and Chrome 58)", cn_buf);
        return;
    }
    if (is_ip && v->n_ip == 0) {
        sb_printf(b, "the host is an IP address (%.*s) and the certificate has no IP address SAN; IP addresses must appear as IP SANs, not DNS names (it is valid for ",
                  (int)hlen, host);
        sb_names(b, v, 1, 0);
        sb_printf(b, ")");
        return;
    }
    if (!is_ip && v->n_dns == 0) {
        sb_printf(b, "the certificate names only the IP address%s ", v->n_ip > 1 ? "es" : "");
        sb_names(b, v, 0, 1);
        sb_printf(b, ", and a host name such as %.*s matches only DNS name SANs", (int)hlen, host);
        sb_bad_note(b, v);
        return;
    }
    sb_printf(b, "the certificate is valid for ");
    sb_names(b, v, 1, 1);
    sb_printf(b, ", not for %.*s", (int)hlen, host);
    sb_bad_note(b, v);
}

tc_status tc_hostname_check(X509 *cert, const char *hostname, size_t len,
                            tc_host_match *out, tc_error *err)
{
    tc_error local;
    tc_error *e = err != NULL ? err : &local;
    char host[DNS_NAME_MAX + 2];
    unsigned char ip[16];
    size_t ip_len = 0, hlen;
    int is_ip = 0, i;
    san_view v;
    sbuf b;

    if (out == NULL)
        return tc_error_set(err, TC_E_INTERNAL, "tc_hostname_check: no result structure");
    memset(out, 0, sizeof(*out));
    if (cert == NULL)
        return tc_error_set(err, TC_E_INVALID, "no certificate was given to match the hostname against");
    tc_error_clear(e);
    if (tc_hostname_normalize(hostname, len, host, sizeof(host), &is_ip, ip,
                              &ip_len, e) != TC_OK) {
        snprintf(out->reason, sizeof(out->reason), "%s", e->msg);
        return TC_FAIL;
    }
    hlen = strlen(host);    /* our own normalised copy, NUL-terminated */
    sb_init(&b, out->reason, sizeof(out->reason));
    san_view_load(&v, cert);

    /* RFC 6125 6.4.4: DNS names against dNSName only, IPs against
     * iPAddress only, first match wins.  The CN is never consulted
     * (RFC 6125 6.4.4 allows it only without SANs; RFC 9525 drops it). */
    for (i = 0; v.gens != NULL && i < sk_GENERAL_NAME_num(v.gens); i++) {
        const GENERAL_NAME *g = sk_GENERAL_NAME_value(v.gens, i);
        const char *p = NULL;
        size_t n = 0;
        if (!gen_value(g, &p, &n))
            continue;
        if (is_ip && g->type == GEN_IPADD && n == ip_len && memcmp(p, ip, n) == 0) {
            out->matched = 1;
            sbuf m;
            sb_init(&m, out->matched_name, sizeof(out->matched_name));
            sb_ip(&m, ip, ip_len);
            sb_printf(&b, "%s matches the IP address SAN %s", host, out->matched_name);
            break;
        }
        if (!is_ip && g->type == GEN_DNS &&
            hm_match(p, n, host, hlen).code == HM_MATCH) {
            out->matched = 1;
            snprintf(out->matched_name, sizeof(out->matched_name), "%.*s", (int)n, p);
            hm_explain(&b, (hm_result){ HM_MATCH, DEF_NONE }, p, n, host, hlen);
            break;
        }
    }
    if (!out->matched)
        explain_miss(&b, cert, &v, host, hlen, is_ip, ip, ip_len);
    GENERAL_NAMES_free(v.gens);
    return TC_OK;
}
