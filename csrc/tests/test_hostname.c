/*
 * test_hostname.c - the hostname matcher held against OpenSSL.
 *
 * Every row of `rows` mints a certificate whose SAN (and subject CN) come
 * from a small spec, then asks three judges about one host:
 *   want  tc_hostname_check: 1 match, 0 no match, E the hostname is invalid
 *   ossl  OpenSSL the way CPython's ssl module asks it: X509_check_ip_asc
 *         for IP literals (as OpenSSL parses them), X509_check_host with
 *         NO_PARTIAL_WILDCARDS | NEVER_CHECK_SUBJECT otherwise (1, 0, -2)
 *   dflt  the same OpenSSL call with flags 0 (partial wildcards allowed, CN
 *         consulted when there is no DNS SAN)
 * A row where pytlscheck accepts and one of the OpenSSL columns does not,
 * or the other way round, must name the difference (`diff`, the ids of
 * the table in docs/hostname.md), and a row that names one must show it.
 * Where our normalise step yields an IP, X509_check_ip on those bytes must
 * agree with us exactly: IP SANs compare as bytes on both sides.
 *
 * Spec syntax: entries separated by '|':
 *   DNS:name  IP:text  IPHEX:hexbytes  EMAIL:x  URI:x  CN:name
 *   DUPSAN (the SAN extension twice)  BADSAN (an undecodable SAN)
 * %XX in names is the byte XX (so NUL and UTF-8 can be written).
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "tlscheck.h"
#include "tc_test.h"

#define E (-1)          /* want: TC_FAIL with TC_E_INVALID */
#define STRICT_FLAGS (X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS | X509_CHECK_FLAG_NEVER_CHECK_SUBJECT)

/* 64 and 63 byte labels, a 254-byte name. */
#define L63 "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define L64 L63 "b"
#define L62 "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define N254 L63 "." L63 "." L63 "." L62

typedef struct row {
    const char *spec;   /* SAN / CN spec */
    const char *host;   /* as given, %XX escapes */
    int want;           /* pytlscheck */
    int ossl;           /* OpenSSL, CPython's flags */
    int dflt;           /* OpenSSL, flags 0 */
    const char *diff;   /* docs/hostname.md ids, NULL when all agree */
    const char *why;    /* substring of the reason, or NULL */
} row;

static const row rows[] = {
    /* Exact names: case-insensitive ASCII, one trailing dot on the host. */
    { "DNS:example.com", "example.com", 1, 1, 1, NULL, "example.com matches the SAN entry example.com" },
    { "DNS:example.com", "EXAMPLE.COM", 1, 1, 1, NULL, "matches the SAN entry example.com" },
    { "DNS:EXAMPLE.com", "example.COM", 1, 1, 1, NULL, "matches the SAN entry EXAMPLE.com" },
    { "DNS:example.com", "www.example.com", 0, 0, 0, NULL, "the certificate is valid for example.com, not for www.example.com" },
    { "DNS:www.example.com", "example.com", 0, 0, 0, NULL, "valid for www.example.com, not for example.com" },
    { "DNS:example.com", "example.org", 0, 0, 0, NULL, NULL },
    { "DNS:example.com", "example.co", 0, 0, 0, NULL, NULL },
    { "DNS:example.com", "example.comm", 0, 0, 0, NULL, NULL },
    { "DNS:example.com", "example.com.evil.com", 0, 0, 0, NULL, NULL },
    { "DNS:example.com", "example.com.", 1, 0, 0, "D1", "matches the SAN entry example.com" },
    { "DNS:localhost", "LOCALHOST.", 1, 0, 0, "D1", NULL },
    { "DNS:example.com.", "example.com", 0, 0, 0, NULL, "would name example.com but ends with a dot" },
    { "DNS:example.com.", "example.com.", 0, 1, 1, "D4", "ends with a dot" },
    { "DNS:localhost", "localhost", 1, 1, 1, NULL, NULL },
    { "DNS:a.b.c.d.example.com", "a.b.c.d.example.com", 1, 1, 1, NULL, NULL },
    { "DNS:a.b", "a.b", 1, 1, 1, NULL, NULL },
    { "DNS:123.example.com", "123.example.com", 1, 1, 1, NULL, NULL },
    { "DNS:exam-ple.com", "exam-ple.com", 1, 1, 1, NULL, NULL },
    { "DNS:my_host.example.com", "my_host.example.com", 1, 1, 1, NULL, NULL },
    { "DNS:api.example.com|DNS:www.example.com", "www.example.com", 1, 1, 1, NULL, "matches the SAN entry www.example.com" },
    { "DNS:a.example.com|DNS:b.example.com", "c.example.com", 0, 0, 0, NULL, "valid for a.example.com and b.example.com, not for c.example.com" },
    { "DNS:a.example.com|DNS:b.example.com|DNS:c.example.com", "d.example.com", 0, 0, 0, NULL, "valid for a.example.com, b.example.com and c.example.com, not for d.example.com" },
    { "DNS:a.example.com|DNS:b.example.com|DNS:c.example.com|DNS:d.example.com|DNS:e.example.com|DNS:f.example.com|DNS:g.example.com",
      "z.example.com", 0, 0, 0, NULL, "a.example.com, b.example.com, c.example.com, d.example.com, e.example.com and 2 more, not for z.example.com" },
    { "DNS:example.com|IP:10.0.0.5", "example.com", 1, 1, 1, NULL, NULL },
    { "DNS:example.com|IP:10.0.0.5", "www.example.com", 0, 0, 0, NULL, "valid for example.com and 10.0.0.5, not for www.example.com" },

    /* IDNA: A-labels are ASCII; the caller converts U-labels first. */
    { "DNS:xn--bcher-kva.example", "xn--bcher-kva.example", 1, 1, 1, NULL, NULL },
    { "DNS:xn--bcher-kva.example", "XN--BCHER-KVA.EXAMPLE", 1, 1, 1, NULL, NULL },
    { "DNS:xn--bcher-kva.example", "bucher.example", 0, 0, 0, NULL, NULL },
    { "DNS:xn--bcher-kva.example", "b%C3%BCcher.example", E, 0, 0, NULL, "non-ASCII" },
    { "DNS:b%C3%BCcher.example", "b%C3%BCcher.example", E, 1, 1, "D6", "IDNA" },
    { "DNS:b%C3%BCcher.example", "xn--bcher-kva.example", 0, 0, 0, NULL, "is malformed (\"b\xc3\xbc" "cher.example\" contains non-ASCII bytes instead of xn-- A-labels), so none can match" },
    { "DNS:*.example.com", "xn--bcher-kva.example.com", 1, 1, 1, NULL, "matches the SAN entry *.example.com" },
    { "DNS:*.xn--bcher-kva.example", "www.xn--bcher-kva.example", 1, 1, 1, NULL, NULL },
    { "DNS:xn--*.example.com", "xn--bcher-kva.example.com", 0, 0, 0, NULL, "internationalised (xn--) label" },
    { "DNS:*n--bcher-kva.example.com", "xn--bcher-kva.example.com", 0, 0, 0, NULL, "internationalised (xn--) label" },
    { "DNS:x*.example.com", "xn--bcher-kva.example.com", 0, 0, 0, NULL, "internationalised (xn--) label" },
    { "DNS:*.example.com", "xn--*.example.com", E, 0, 0, NULL, NULL },

    /* Wildcards: the whole left-most label, exactly one label. */
    { "DNS:*.example.com", "www.example.com", 1, 1, 1, NULL, "www.example.com matches the SAN entry *.example.com" },
    { "DNS:*.example.com", "WWW.Example.Com", 1, 1, 1, NULL, NULL },
    { "DNS:*.Example.COM", "www.example.com", 1, 1, 1, NULL, NULL },
    { "DNS:*.example.com", "1.example.com", 1, 1, 1, NULL, NULL },
    { "DNS:*.example.com", "a-b.example.com", 1, 1, 1, NULL, NULL },
    { "DNS:*.example.com", "www.example.com.", 1, 0, 0, "D1", NULL },
    { "DNS:*.example.com", "example.com", 0, 0, 0, NULL, "wildcards do not cover the bare domain: *.example.com does not match example.com" },
    { "DNS:*.example.com", "api.eu.example.com", 0, 0, 0, NULL, "the wildcard *.example.com covers one label; api.eu.example.com has two" },
    { "DNS:*.example.com", "a.b.c.example.com", 0, 0, 0, NULL, "covers one label; a.b.c.example.com has three" },
    { "DNS:*.example.com", "www.example.org", 0, 0, 0, NULL, "valid for *.example.com, not for www.example.org" },
    { "DNS:*.example.com", "com", 0, 0, 0, NULL, NULL },
    { "DNS:*.example.com", "my_host.example.com", 0, 0, 0, NULL, "covers only labels of letters, digits and hyphens" },
    { "DNS:*.example.com", "-a.example.com", E, 1, 1, "D5", "hyphen" },
    { "DNS:*.example.com", "*.example.com", E, 1, 1, "D5", NULL },
    { "DNS:*.example.com", ".example.com", E, 1, 1, "D5", "empty label" },
    { "DNS:*.a.b.c.example.com", "x.a.b.c.example.com", 1, 1, 1, NULL, NULL },
    { "DNS:*.a.b", "x.a.b", 1, 1, 1, NULL, NULL },
    /* A wildcard over a public suffix (Public Suffix List, ICANN section). */
    { "DNS:*.co.uk", "example.co.uk", 0, 1, 1, "D11", "because co.uk is a public suffix" },
    { "DNS:*.CO.UK", "example.co.uk", 0, 1, 1, "D11", "because co.uk is a public suffix" },
    { "DNS:*.kawasaki.jp", "x.kawasaki.jp", 1, 1, 1, NULL, NULL },
    { "DNS:*.x.kawasaki.jp", "a.x.kawasaki.jp", 0, 1, 1, "D11", "x.kawasaki.jp is a public suffix" },
    { "DNS:*.foo.ck", "www.foo.ck", 0, 1, 1, "D11", "foo.ck is a public suffix" },
    { "DNS:*.www.ck", "a.www.ck", 1, 1, 1, NULL, NULL },
    { "DNS:*.city.kawasaki.jp", "a.city.kawasaki.jp", 1, 1, 1, NULL, NULL },
    { "DNS:*.example.co.uk", "www.example.co.uk", 1, 1, 1, NULL, NULL },
    { "DNS:*.s3.amazonaws.com", "bucket.s3.amazonaws.com", 1, 1, 1, NULL, NULL },
    { "DNS:*.xn--55qx5d.cn", "a.xn--55qx5d.cn", 0, 1, 1, "D11", "xn--55qx5d.cn is a public suffix" },
    { "DNS:*.a.internal", "x.a.internal", 1, 1, 1, NULL, NULL },
    { "DNS:*.example.com|DNS:example.com", "example.com", 1, 1, 1, NULL, NULL },
    { "DNS:*.example.com|DNS:example.com", "a.b.example.com", 0, 0, 0, NULL, "covers one label; a.b.example.com has two" },
    { "DNS:*.example.com|DNS:*.eu.example.com", "api.eu.example.com", 1, 1, 1, NULL, "matches the SAN entry *.eu.example.com" },
    { "DNS:*.eu.example.com|DNS:*.example.com", "api.us.example.com", 0, 0, 0, NULL, "*.example.com covers one label; api.us.example.com has two" },
    { "DNS:*.eu.example.com", "api.example.com", 0, 0, 0, NULL, "valid for *.eu.example.com, not for api.example.com" },
    { "DNS:*.com", "example.com", 0, 0, 0, NULL, "the wildcard *.com is too broad" },
    { "DNS:*.b", "a.b", 0, 0, 0, NULL, "too broad" },
    { "DNS:*", "localhost", 0, 0, 0, NULL, "too broad" },
    { "DNS:f*.example.com", "foo.example.com", 0, 0, 1, "D7", "partial wildcards such as f*.example.com are not honoured" },
    { "DNS:*oo.example.com", "foo.example.com", 0, 0, 1, "D7", "partial wildcards" },
    { "DNS:f*o.example.com", "foo.example.com", 0, 0, 0, NULL, "partial wildcards" },
    { "DNS:**.example.com", "a.example.com", 0, 0, 0, NULL, "partial wildcards" },
    { "DNS:f*.example.com", "bar.example.com", 0, 0, 0, NULL, "valid for f*.example.com, not for bar.example.com" },
    { "DNS:www.*.example.com", "www.a.example.com", 0, 0, 0, NULL, "only as the whole left-most label" },
    { "DNS:*.*.example.com", "a.b.example.com", 0, 0, 0, NULL, "only as the whole left-most label" },
    { "DNS:*.my_zone.example.com", "a.my_zone.example.com", 0, 0, 0, NULL, "a label after the * is not letters" },
    { "DNS:*.-bad.example.com", "a.-bad.example.com", E, 0, 0, NULL, NULL },
    { "DNS:*.example.com.", "www.example.com", 0, 0, 0, NULL, "would name www.example.com but ends with a dot" },
    { "DNS:*.example.com.", "www.example.com.", 0, 0, 0, NULL, NULL },

    /* IP literals: iPAddress SANs only, compared as bytes. */
    { "IP:10.0.0.5", "10.0.0.5", 1, 1, 1, NULL, "10.0.0.5 matches the IP address SAN 10.0.0.5" },
    { "IP:10.0.0.5", "10.0.0.6", 0, 0, 0, NULL, "valid for 10.0.0.5, not for 10.0.0.6" },
    { "IP:10.0.0.5|IP:10.0.0.6", "10.0.0.7", 0, 0, 0, NULL, "valid for 10.0.0.5 and 10.0.0.6, not for 10.0.0.7" },
    { "DNS:10.0.0.5", "10.0.0.5", 0, 0, 0, NULL, "lists 10.0.0.5 as a DNS name" },
    { "DNS:*.0.0.5", "10.0.0.5", 0, 0, 0, NULL, "no IP address SAN" },
    { "DNS:example.com", "10.0.0.5", 0, 0, 0, NULL, "the host is an IP address (10.0.0.5) and the certificate has no IP address SAN; IP addresses must appear as IP SANs, not DNS names" },
    { "IP:10.0.0.5|DNS:*.example.com", "10.0.0.5", 1, 1, 1, NULL, NULL },
    { "IP:255.255.255.255", "255.255.255.255", 1, 1, 1, NULL, NULL },
    { "IP:0.0.0.0", "0.0.0.0", 1, 1, 1, NULL, NULL },
    { "IP:10.0.0.5", "10.0.0.5.", 1, 0, 0, "D3", NULL },
    { "IP:10.0.0.5", "010.0.0.5", E, 1, 1, "D10", "ends in a number" },
    { "IP:10.0.0.5", "10.0.0.05", E, 1, 1, "D10", NULL },
    { "IP:10.0.0.5", "10.0.5", E, 0, 0, NULL, NULL },
    { "IP:10.0.0.5", "0x0a.0.0.5", E, 0, 0, NULL, NULL },
    { "IP:1.2.3.4", "1.2.3.4.5", E, 0, 0, NULL, NULL },
    { "IP:10.0.0.5", "256.0.0.5", E, 0, 0, NULL, NULL },
    { "DNS:10.0.5", "10.0.5", E, 1, 1, "D5", "ends in a number" },
    { "IP:127.0.0.1", "localhost", 0, 0, 0, NULL, "names only the IP address 127.0.0.1, and a host name such as localhost matches only DNS name SANs" },
    { "DNS:localhost|IP:127.0.0.1", "127.0.0.1", 1, 1, 1, NULL, NULL },
    { "DNS:localhost|IP:127.0.0.1|IP:::1", "::1", 1, 1, 1, NULL, "::1 matches the IP address SAN ::1" },
    { "IP:::1", "::1", 1, 1, 1, NULL, NULL },
    { "IP:::1", "0:0:0:0:0:0:0:1", 1, 1, 1, NULL, "::1 matches the IP address SAN ::1" },
    { "IP:0:0:0:0:0:0:0:1", "::1", 1, 1, 1, NULL, NULL },
    { "IP:::1", "[::1]", 1, 0, 0, "D2", NULL },
    { "IP:::1", "[0:0::1]", 1, 0, 0, "D2", NULL },
    { "IP:fe80::1", "[FE80::1]", 1, 0, 0, "D2", NULL },
    { "IP:fe80::1", "FE80::0001", 1, 1, 1, NULL, NULL },
    { "IP:2001:db8::1", "2001:DB8::1", 1, 1, 1, NULL, NULL },
    { "IP:2001:db8::1", "2001:db8::2", 0, 0, 0, NULL, "valid for 2001:db8::1, not for 2001:db8::2" },
    { "IP:::1", "[::1", E, 0, 0, NULL, "not an IPv6 address" },
    { "IP:fe80::1", "fe80::1%eth0", E, 0, 0, NULL, "zone" },
    { "DNS:localhost", "localhost:8443", E, 0, 0, NULL, "give the port separately" },
    { "IP:10.0.0.5", "::ffff:10.0.0.5", 0, 0, 0, NULL, "the same address as ::ffff:10.0.0.5" },
    { "IP:::ffff:10.0.0.5", "10.0.0.5", 0, 0, 0, NULL, "the same address as 10.0.0.5" },
    { "IP:::ffff:10.0.0.5", "::ffff:10.0.0.5", 1, 1, 1, NULL, NULL },
    { "IPHEX:0a000005ff", "10.0.0.5", 0, 0, 0, NULL, "malformed (an IP address entry of 5 bytes instead of 4 or 16)" },
    { "IPHEX:0a00|DNS:a.example.com", "c.example.com", 0, 0, 0, NULL, "(one malformed SAN entry was ignored)" },

    /* The subject CN never counts (RFC 6125 6.4.4, RFC 9525). */
    { "CN:api.example.com", "api.example.com", 0, 0, 1, "D8",
      "the certificate names api.example.com only in its subject CN, which clients ignore since RFC 6125/2818 and Chrome 58; it has no Subject Alternative Name" },
    { "CN:API.EXAMPLE.COM", "api.example.com", 0, 0, 1, "D8", "only in its subject CN" },
    { "CN:*.example.com", "www.example.com", 0, 0, 1, "D8", "only in its subject CN" },
    { "CN:api.example.com|DNS:www.example.com", "api.example.com", 0, 0, 0, NULL,
      "its Subject Alternative Names (www.example.com) do not include it" },
    { "CN:api.example.com|EMAIL:api@example.com", "api.example.com", 0, 0, 1, "D8", "has no usable DNS name or IP address entry" },
    { "CN:other.example.com", "api.example.com", 0, 0, 0, NULL,
      "the certificate has no Subject Alternative Name, so it is valid for no host name (its subject CN other.example.com does not count" },
    { "CN:10.0.0.5", "10.0.0.5", 0, 0, 0, NULL, "names 10.0.0.5 only in its subject CN" },
    { "CN:b%C3%BCcher.example", "b%C3%BCcher.example", E, 0, 1, "D6 D8", NULL },
    { "CN:api.example.com|BADSAN", "api.example.com", 0, 0, 1, "D8", "cannot be decoded" },
    { "CN:api.example.com|DUPSAN|DNS:api.example.com", "api.example.com", 0, 0, 1, "D8", "appears more than once" },
    { "", "api.example.com", 0, 0, 0, NULL, "no Subject Alternative Name, so it is valid for no host name" },
    { "URI:https://api.example.com/", "api.example.com", 0, 0, 0, NULL, "has no DNS name or IP address entry" },
    { "EMAIL:api@example.com", "example.com", 0, 0, 0, NULL, "has no DNS name or IP address entry" },

    /* Malformed SAN entries never match; the host is validated. */
    { "DNS:api.example.com%00.evil.com", "api.example.com", 0, 0, 0, NULL, "\"api.example.com\\x00.evil.com\" would name api.example.com but contains a NUL byte" },
    { "DNS:api.example.com%00.evil.com", "api.example.com%00.evil.com", E, -2, -2, NULL, "NUL" },
    { "DNS:api.example.com|DNS:api.example.com%00.evil.com", "api.example.com", 1, 1, 1, NULL, NULL },
    { "DNS:api.example.com", "api.example.com%00", E, 1, 1, "D5", "NUL" },
    { "DNS:", "example.com", 0, 0, 0, NULL, "is malformed (an empty DNS name entry), so none can match" },
    { "DNS:api%20example.com", "api example.com", E, 1, 1, "D5", "neither a DNS name nor an IP address" },
    { "DNS:api.example.com%20", "api.example.com", 0, 0, 0, NULL, "would name api.example.com but contains a character" },
    { "DNS:a..example.com", "a..example.com", E, 1, 1, "D5", "empty label" },
    { "DNS:-a.example.com", "-a.example.com", E, 1, 1, "D5", "hyphen" },
    { "DNS:a-.example.com", "a-.example.com", E, 1, 1, "D5", "hyphen" },
    { "DNS:example.123", "example.123", E, 1, 1, "D5", "ends in a number" },
    { "DNS:" L64 ".example.com", L64 ".example.com", E, 1, 1, "D5", "longer than 63" },
    { "DNS:" L63 ".example.com", L63 ".example.com", 1, 1, 1, NULL, NULL },
    { "DNS:" N254, N254, E, 1, 1, "D5", "longer than 253" },
    { "DNS:example.com", "", E, 0, 0, NULL, "empty" },
    { "DNS:example.com", ".", E, 0, 0, NULL, "empty label" },
    { "DNS:example.com", "example..com", E, 0, 0, NULL, "empty label" },
    { "DNS:www.example.com", "www.example.com..", E, 0, 0, NULL, "empty label" },
    { "DNS:example.com", "exa$mple.com", E, 0, 0, NULL, "neither a DNS name nor an IP address" },
};

/* ------------------------------------------------------------------ */
/* Minting                                                             */
/* ------------------------------------------------------------------ */

static int hexval(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Decodes %XX escapes of s[0..n) into out; returns the length. */
static size_t unescape(const char *s, size_t n, unsigned char *out, size_t cap)
{
    size_t i, o = 0;

    for (i = 0; i < n && o < cap; i++) {
        if (s[i] == '%' && i + 2 < n &&
            hexval((unsigned char)s[i + 1]) >= 0 && hexval((unsigned char)s[i + 2]) >= 0) {
            out[o++] = (unsigned char)(hexval((unsigned char)s[i + 1]) * 16 + hexval((unsigned char)s[i + 2]));
            i += 2;
        } else {
            out[o++] = (unsigned char)s[i];
        }
    }
    return o;
}

static size_t unhex(const char *s, size_t n, unsigned char *out, size_t cap)
{
    size_t i, o = 0;

    for (i = 0; i + 1 < n && o < cap; i += 2)
        out[o++] = (unsigned char)(hexval((unsigned char)s[i]) * 16 + hexval((unsigned char)s[i + 1]));
    return o;
}

static int add_gen(GENERAL_NAMES *gens, int type, const unsigned char *v, size_t n)
{
    GENERAL_NAME *g = GENERAL_NAME_new();
    ASN1_STRING *s = type == GEN_IPADD ? ASN1_OCTET_STRING_new() : ASN1_IA5STRING_new();

    if (g == NULL || s == NULL || !ASN1_STRING_set(s, v, (int)n)) {
        GENERAL_NAME_free(g);
        ASN1_STRING_free(s);
        return 0;
    }
    GENERAL_NAME_set0_value(g, type, s);
    if (!sk_GENERAL_NAME_push(gens, g)) {
        GENERAL_NAME_free(g);
        return 0;
    }
    return 1;
}

static EVP_PKEY *test_key;

/* A signed, DER-round-tripped certificate for spec (NULL on failure). */
static X509 *mint(const char *spec)
{
    X509 *x = X509_new(), *out = NULL;
    X509_NAME *name = X509_NAME_new();
    GENERAL_NAMES *gens = sk_GENERAL_NAME_new_null();
    unsigned char buf[600], *der = NULL;
    const unsigned char *q;
    int have_san = 0, dup = 0, bad = 0, derlen, ok = 0;
    const char *p = spec;

    if (x == NULL || name == NULL || gens == NULL)
        goto done;
    while (*p) {
        const char *end = strchr(p, '|');
        size_t n = end ? (size_t)(end - p) : strlen(p), len;
        if (strncmp(p, "DNS:", 4) == 0) {
            len = unescape(p + 4, n - 4, buf, sizeof(buf));
            if (!add_gen(gens, GEN_DNS, buf, len))
                goto done;
            have_san = 1;
        } else if (strncmp(p, "EMAIL:", 6) == 0 || strncmp(p, "URI:", 4) == 0) {
            size_t off = p[0] == 'E' ? 6 : 4;
            if (!add_gen(gens, p[0] == 'E' ? GEN_EMAIL : GEN_URI, (const unsigned char *)p + off, n - off))
                goto done;
            have_san = 1;
        } else if (strncmp(p, "IPHEX:", 6) == 0) {
            len = unhex(p + 6, n - 6, buf, sizeof(buf));
            if (!add_gen(gens, GEN_IPADD, buf, len))
                goto done;
            have_san = 1;
        } else if (strncmp(p, "IP:", 3) == 0) {
            char txt[64];
            ASN1_OCTET_STRING *ip;
            snprintf(txt, sizeof(txt), "%.*s", (int)(n - 3), p + 3);
            if ((ip = a2i_IPADDRESS(txt)) == NULL)
                goto done;
            ok = add_gen(gens, GEN_IPADD, ASN1_STRING_get0_data(ip), (size_t)ASN1_STRING_length(ip));
            ASN1_OCTET_STRING_free(ip);
            if (!ok)
                goto done;
            ok = 0;
            have_san = 1;
        } else if (strncmp(p, "CN:", 3) == 0) {
            len = unescape(p + 3, n - 3, buf, sizeof(buf));
            if (!X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, buf, (int)len, -1, 0))
                goto done;
        } else if (strncmp(p, "DUPSAN", 6) == 0) {
            dup = 1;
        } else if (strncmp(p, "BADSAN", 6) == 0) {
            bad = 1;
        } else {
            fprintf(stderr, "bad spec entry in \"%s\"\n", spec);
            goto done;
        }
        p += n + (end != NULL);
    }
    if (!X509_set_version(x, X509_VERSION_3) ||
        !ASN1_INTEGER_set(X509_get_serialNumber(x), 1) ||
        !X509_set_subject_name(x, name) || !X509_set_issuer_name(x, name) ||
        X509_gmtime_adj(X509_getm_notBefore(x), 0) == NULL ||
        X509_gmtime_adj(X509_getm_notAfter(x), 86400) == NULL ||
        !X509_set_pubkey(x, test_key))
        goto done;
    if (have_san && X509_add1_ext_i2d(x, NID_subject_alt_name, gens, 0, X509V3_ADD_DEFAULT) != 1)
        goto done;
    if (dup && X509_add1_ext_i2d(x, NID_subject_alt_name, gens, 0, X509V3_ADD_APPEND) != 1)
        goto done;
    if (bad) {
        /* A SEQUENCE that claims 3 bytes and holds 2: undecodable. */
        static const unsigned char garbage[] = { 0x30, 0x03, 0x82, 0x01 };
        ASN1_OCTET_STRING *os = ASN1_OCTET_STRING_new();
        X509_EXTENSION *ext = NULL;
        if (os == NULL || !ASN1_OCTET_STRING_set(os, garbage, sizeof(garbage)) ||
            (ext = X509_EXTENSION_create_by_NID(NULL, NID_subject_alt_name, 0, os)) == NULL ||
            !X509_add_ext(x, ext, -1)) {
            ASN1_OCTET_STRING_free(os);
            X509_EXTENSION_free(ext);
            goto done;
        }
        ASN1_OCTET_STRING_free(os);
        X509_EXTENSION_free(ext);
    }
    if (X509_sign(x, test_key, EVP_sha256()) <= 0)
        goto done;
    /* Parse it back, as a certificate from a file or a peer would be. */
    if ((derlen = i2d_X509(x, &der)) <= 0)
        goto done;
    q = der;
    out = d2i_X509(NULL, &q, derlen);
    ok = out != NULL;
done:
    if (!ok)
        fprintf(stderr, "mint failed for \"%s\"\n", spec);
    OPENSSL_free(der);
    GENERAL_NAMES_free(gens);
    X509_NAME_free(name);
    X509_free(x);
    return out;
}

/* ------------------------------------------------------------------ */
/* The table                                                           */
/* ------------------------------------------------------------------ */

/* The OpenSSL columns: IP literals (as OpenSSL parses them) through
 * X509_check_ip_asc, everything else through X509_check_host. */
static int openssl_judge(X509 *x, const char *host, size_t hlen, unsigned flags)
{
    ASN1_OCTET_STRING *ip = NULL;

    if (memchr(host, '\0', hlen) == NULL && hlen > 0 && (ip = a2i_IPADDRESS(host)) != NULL) {
        ASN1_OCTET_STRING_free(ip);
        return X509_check_ip_asc(x, host, flags);
    }
    return X509_check_host(x, host, hlen, flags, NULL);
}

static int n_rows_run, n_rows_differ;

static void run_row(const row *r, size_t idx)
{
    unsigned char hb[600];
    char host[600], norm[256];
    size_t hlen = unescape(r->host, strlen(r->host), hb, sizeof(hb) - 1), ip_len = 0;
    unsigned char ip[16];
    int got, ossl, dflt, is_ip = 0, differs;
    tc_host_match m;
    tc_error err;
    tc_status st;
    X509 *x = mint(r->spec);

    memcpy(host, hb, hlen);
    host[hlen] = '\0';
    CHECK(x != NULL);
    if (x == NULL)
        return;
    tc_error_clear(&err);
    st = tc_hostname_check(x, host, hlen, &m, &err);
    got = st == TC_OK ? m.matched : E;
    ossl = openssl_judge(x, host, hlen, STRICT_FLAGS);
    dflt = openssl_judge(x, host, hlen, 0);
    n_rows_run++;
    if (getenv("TEST_HOSTNAME_VERBOSE") != NULL)
        printf("%3zu %-40s %-28s us=%2d ossl=%2d dflt=%2d %-5s %s\n", idx, r->spec, r->host,
               got, ossl, dflt, r->diff ? r->diff : "", m.reason);

    if (got != r->want || ossl != r->ossl || dflt != r->dflt)
        fprintf(stderr, "row %zu {\"%s\", \"%s\"}: pytlscheck %d (want %d), openssl %d (want %d), default %d (want %d): %s\n",
                idx, r->spec, r->host, got, r->want, ossl, r->ossl, dflt, r->dflt, m.reason);
    CHECK(got == r->want);
    CHECK(ossl == r->ossl);
    CHECK(dflt == r->dflt);
    if (st != TC_OK) {
        CHECK(err.code == TC_E_INVALID);
        CHECK(strcmp(m.reason, err.msg) == 0);
    }
    CHECK(m.reason[0] != '\0');
    CHECK(m.reason[strlen(m.reason) - 1] != '.');   /* a {detail}, no period */
    CHECK(m.matched == (m.matched_name[0] != '\0'));
    if (r->why != NULL && strstr(m.reason, r->why) == NULL) {
        fprintf(stderr, "row %zu {\"%s\", \"%s\"}: reason \"%s\" lacks \"%s\"\n",
                idx, r->spec, r->host, m.reason, r->why);
        CHECK(!"reason substring");
    }

    /* Differences are marked, and marks are not stale. */
    differs = (got == 1) != (ossl == 1) || (got == 1) != (dflt == 1);
    n_rows_differ += differs;
    if (differs != (r->diff != NULL))
        fprintf(stderr, "row %zu {\"%s\", \"%s\"}: differs=%d but diff mark is %s\n",
                idx, r->spec, r->host, differs, r->diff ? r->diff : "NULL");
    CHECK(differs == (r->diff != NULL));
    /* Accepting what OpenSSL (CPython's flags) refuses is allowed only for
     * input syntax: a trailing dot (D1), brackets (D2), IPv4 dot (D3). */
    if (got == 1 && ossl != 1)
        CHECK(r->diff != NULL && (strstr(r->diff, "D1") || strstr(r->diff, "D2") || strstr(r->diff, "D3")));

    /* IP SANs: byte comparison, exactly as X509_check_ip does it. */
    tc_error_clear(&err);
    if (tc_hostname_normalize(host, hlen, norm, sizeof(norm), &is_ip, ip, &ip_len, &err) == TC_OK && is_ip)
        CHECK(X509_check_ip(x, ip, ip_len, 0) == got);
    X509_free(x);
}

/* ------------------------------------------------------------------ */
/* The pure matcher, curl unit1397 style                               */
/* ------------------------------------------------------------------ */

typedef struct prow {
    const char *pattern, *host;
    int want;
    const char *why;
} prow;

static const prow prows[] = {
    { "example.com", "example.com", 1, "example.com matches the SAN entry example.com" },
    { "Example.Com", "eXample.com", 1, NULL },
    { "*.example.com", "www.example.com", 1, NULL },
    { "*.example.com", "www.example.com.", 0, "not a valid DNS host name" },
    { "*.example.com", "example.com", 0, "wildcards do not cover the bare domain" },
    { "*.example.com", "api.eu.example.com", 0, "the wildcard *.example.com covers one label; api.eu.example.com has two" },
    { "*.example.com", "a.b.c.d.e.f.g.h.i.j.example.com", 0, "has 10" },
    { "f*.example.com", "foo.example.com", 0, "partial" },
    { "*oo.example.com", "foo.example.com", 0, "partial" },
    { "f*.example.com", "f.example.com", 0, "partial" },
    { "*.com", "example.com", 0, "too broad" },
    { "*.co", "example.co", 0, "too broad" },
    { "*.co.uk", "example.co.uk", 0, "public suffix" },
    { "*.Co.Uk", "EXAMPLE.CO.UK", 0, "because CO.UK is a public suffix" },
    { "*", "a", 0, "too broad" },
    { "a.*.com", "a.b.com", 0, "left-most" },
    { "xn--*.example.com", "xn--bcher-kva.example.com", 0, "internationalised" },
    { "*.example.com", "xn--bcher-kva.example.com", 1, NULL },
    { "*.example.com", "10.0.0.5", 0, "is an IP address" },
    { "10.0.0.5", "10.0.0.5", 0, "is an IP address" },
    { "*.example.com", "::1", 0, "is an IP address" },
    { "example.com.", "example.com", 0, "ends with a dot" },
    { "", "example.com", 0, "is empty" },
    { "exa mple.com", "example.com", 0, "contains a character" },
    { "a..com", "a..com", 0, "not a valid DNS host name" },
    { "*.example.com", "a_b.example.com", 0, "letters, digits and hyphens" },
    { "a_b.example.com", "A_B.example.com", 1, NULL },
    { "*.ex_ample.com", "a.ex_ample.com", 0, "not letters, digits" },
    { "*.example.com", "*.example.com", 0, "not a valid DNS host name" },
    { "*.*.example.com", "a.b.example.com", 0, "left-most" },
};

static void test_pattern_match(void)
{
    char why[512];
    size_t i;

    for (i = 0; i < sizeof(prows) / sizeof(prows[0]); i++) {
        const prow *r = &prows[i];
        int got = tc_host_pattern_match(r->pattern, strlen(r->pattern), r->host,
                                        strlen(r->host), why, sizeof(why));
        if (got != r->want || (r->why != NULL && strstr(why, r->why) == NULL))
            fprintf(stderr, "pattern row %zu (\"%s\", \"%s\"): got %d, why \"%s\"\n",
                    i, r->pattern, r->host, got, why);
        CHECK(got == r->want);
        CHECK(r->why == NULL || strstr(why, r->why) != NULL);
    }
    /* Lengths are honoured: nothing is read past plen / hlen. */
    CHECK(tc_host_pattern_match("example.comXXX", 11, "example.com", 11, NULL, 0) == 1);
    CHECK(tc_host_pattern_match("example.com", 11, "example.comXXX", 11, why, sizeof(why)) == 1);
    CHECK(tc_host_pattern_match("example.com\0.evil.com", 21, "example.com", 11, why, sizeof(why)) == 0);
    CHECK(strstr(why, "NUL") != NULL);
    /* A tiny buffer is filled, terminated and not overrun. */
    memset(why, 'Z', sizeof(why));
    CHECK(tc_host_pattern_match("*.example.com", 13, "a.b.example.com", 15, why, 8) == 0);
    CHECK(strlen(why) == 7 && why[8] == 'Z');
    CHECK(tc_host_pattern_match(NULL, 0, "a", 1, why, sizeof(why)) == 0);
}

/* ------------------------------------------------------------------ */
/* Normalising                                                         */
/* ------------------------------------------------------------------ */

typedef struct nrow {
    const char *in;     /* %XX escapes */
    int ok;
    const char *out;    /* normalised, or a substring of the error */
    size_t ip_len;      /* 0: DNS name */
} nrow;

static const nrow nrows[] = {
    { "Example.COM", 1, "example.com", 0 },
    { "example.com.", 1, "example.com", 0 },
    { "localhost", 1, "localhost", 0 },
    { "my_host.corp", 1, "my_host.corp", 0 },
    { "xn--bcher-kva.example", 1, "xn--bcher-kva.example", 0 },
    { L63 ".example.com", 1, L63 ".example.com", 0 },
    { "10.0.0.5", 1, "10.0.0.5", 4 },
    { "10.0.0.5.", 1, "10.0.0.5", 4 },
    { "0.0.0.0", 1, "0.0.0.0", 4 },
    { "::1", 1, "::1", 16 },
    { "[::1]", 1, "::1", 16 },
    { "0:0:0:0:0:0:0:1", 1, "::1", 16 },
    { "[2001:DB8:0:0:0:0:0:1]", 1, "2001:db8::1", 16 },
    { "::ffff:10.0.0.5", 1, "::ffff:10.0.0.5", 16 },
    { "", 0, "the hostname is empty", 0 },
    { ".", 0, "empty label", 0 },
    { "example.com..", 0, "empty label", 0 },
    { ".example.com", 0, "empty label", 0 },
    { "a..b", 0, "empty label", 0 },
    { L64 ".example.com", 0, "longer than 63", 0 },
    { N254, 0, "longer than 253", 0 },
    { "b%C3%BCcher.example", 0, "the hostname \"b\xc3\xbc" "cher.example\" contains non-ASCII characters; convert it to its IDNA A-label form", 0 },
    { "exa%00mple.com", 0, "NUL", 0 },
    { "exa mple.com", 0, "the hostname \"exa mple.com\" is neither a DNS name nor an IP address", 0 },
    { "exa%0ample.com", 0, "\\x0a", 0 },
    { "http://example.com/", 0, "give the port separately", 0 },
    { "example.com/path", 0, "neither a DNS name nor an IP address", 0 },
    { "*.example.com", 0, "neither a DNS name nor an IP address", 0 },
    { "-a.example.com", 0, "hyphen", 0 },
    { "a-.example.com", 0, "hyphen", 0 },
    { "[::1", 0, "in brackets but is not an IPv6 address", 0 },
    { "[10.0.0.5]", 0, "in brackets but is not an IPv6 address", 0 },
    { "[example.com]", 0, "in brackets", 0 },
    { "::1::2", 0, "not an IPv6 address", 0 },
    { "fe80::1%25eth0", 0, "zone", 0 },
    { "example.com:443", 0, "give the port separately", 0 },
    { "256.1.1.1", 0, "ends in a number", 0 },
    { "1.2.3", 0, "ends in a number", 0 },
    { "127.1", 0, "ends in a number", 0 },
    { "010.0.0.1", 0, "ends in a number", 0 },
    { "0x7f.0.0.1", 0, "ends in a number", 0 },
    { "foo.0x1f", 0, "ends in a number", 0 },
    { "example.123", 0, "ends in a number", 0 },
    { "123.example", 1, "123.example", 0 },
    { "10.0.0.5..", 0, "empty label", 0 },
};

static void test_normalize(void)
{
    size_t i;

    for (i = 0; i < sizeof(nrows) / sizeof(nrows[0]); i++) {
        const nrow *r = &nrows[i];
        unsigned char in[600], ip[16];
        char out[256];
        size_t n = unescape(r->in, strlen(r->in), in, sizeof(in)), ip_len = 99;
        int is_ip = 99;
        tc_error err;
        tc_status st;

        tc_error_clear(&err);
        st = tc_hostname_normalize((const char *)in, n, out, sizeof(out), &is_ip, ip, &ip_len, &err);
        if ((st == TC_OK) != r->ok ||
            (r->ok && strcmp(out, r->out) != 0) ||
            (!r->ok && strstr(err.msg, r->out) == NULL))
            fprintf(stderr, "normalize row %zu \"%s\": status %d out \"%s\" err \"%s\"\n",
                    i, r->in, st, out, err.msg);
        CHECK((st == TC_OK) == r->ok);
        if (r->ok) {
            CHECK_STR(out, r->out);
            CHECK(is_ip == (r->ip_len != 0));
            CHECK(ip_len == r->ip_len);
        } else {
            CHECK(err.code == TC_E_INVALID);
            CHECK(strstr(err.msg, r->out) != NULL);
            CHECK(is_ip == 0 && ip_len == 0);
        }
    }

    /* Output buffers are respected; NULL out-params are allowed. */
    {
        char small[4];
        tc_error err;
        CHECK(tc_hostname_normalize("example.com", 11, small, sizeof(small), NULL, NULL, NULL, &err) == TC_FAIL);
        CHECK(err.code == TC_E_INTERNAL);
        CHECK(tc_hostname_normalize("a", 1, small, sizeof(small), NULL, NULL, NULL, &err) == TC_OK);
        CHECK_STR(small, "a");
        CHECK(tc_hostname_normalize(NULL, 0, small, sizeof(small), NULL, NULL, NULL, NULL) == TC_FAIL);
    }
    /* The bytes of an IP are the address. */
    {
        unsigned char ip[16];
        size_t ip_len = 0;
        int is_ip = 0;
        char out[64];
        static const unsigned char v6[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 1 };
        CHECK(tc_hostname_normalize("10.1.2.3", 8, out, sizeof(out), &is_ip, ip, &ip_len, NULL) == TC_OK);
        CHECK(ip_len == 4 && ip[0] == 10 && ip[1] == 1 && ip[2] == 2 && ip[3] == 3);
        CHECK(tc_hostname_normalize("[2001:db8::1]", 13, out, sizeof(out), &is_ip, ip, &ip_len, NULL) == TC_OK);
        CHECK(ip_len == 16 && memcmp(ip, v6, 16) == 0);
    }
}

/* ------------------------------------------------------------------ */
/* Odds and ends of the policy                                         */
/* ------------------------------------------------------------------ */

static void test_policy_edges(void)
{
    tc_host_match m;
    tc_error err;
    X509 *x;
    char spec[8192];
    size_t i, len = 0;

    /* Python's ssl and most OpenSSL clients call X509_check_ip for IP
     * hosts; handing the IP text to X509_check_host instead matches a
     * dNSName that spells the address (D9).  We never do. */
    x = mint("DNS:10.0.0.5|DNS:*.0.0.5");
    CHECK(x != NULL);
    if (x != NULL) {
        CHECK(X509_check_host(x, "10.0.0.5", 8, 0, NULL) == 1);
        CHECK(X509_check_ip_asc(x, "10.0.0.5", 0) == 0);
        CHECK(tc_hostname_check(x, "10.0.0.5", 8, &m, &err) == TC_OK && m.matched == 0);
        X509_free(x);
    }

    /* matched_name is the SAN entry as written. */
    x = mint("DNS:*.Example.COM|IP:2001:db8::1");
    CHECK(x != NULL);
    if (x != NULL) {
        CHECK(tc_hostname_check(x, "API.example.com.", 16, &m, &err) == TC_OK && m.matched);
        CHECK_STR(m.matched_name, "*.Example.COM");
        CHECK_STR(m.reason, "api.example.com matches the SAN entry *.Example.COM");
        CHECK(tc_hostname_check(x, "[2001:DB8:0::1]", 15, &m, &err) == TC_OK && m.matched);
        CHECK_STR(m.matched_name, "2001:db8::1");
        CHECK_STR(m.reason, "2001:db8::1 matches the IP address SAN 2001:db8::1");
        /* A bad hostname: TC_FAIL, and the reason carries the message too. */
        CHECK(tc_hostname_check(x, "a..b", 4, &m, &err) == TC_FAIL);
        CHECK(err.code == TC_E_INVALID && !m.matched && strstr(m.reason, "\"a..b\"") != NULL);
        CHECK(tc_hostname_check(x, "a..b", 4, &m, NULL) == TC_FAIL);
        CHECK(strstr(m.reason, "empty label") != NULL);
        X509_free(x);
    }
    CHECK(tc_hostname_check(NULL, "a", 1, &m, &err) == TC_FAIL && err.code == TC_E_INVALID);

    /* Many long names: the reason stays one bounded sentence. */
    for (i = 0; i < 40; i++)
        len += (size_t)snprintf(spec + len, sizeof(spec) - len, "%sDNS:%s%02zu.example.com",
                                i ? "|" : "", "a-rather-long-label-to-fill-the-reason-buffer-quickly", i);
    x = mint(spec);
    CHECK(x != NULL);
    if (x != NULL) {
        CHECK(tc_hostname_check(x, "other.example.com", 17, &m, &err) == TC_OK && !m.matched);
        CHECK(strlen(m.reason) < sizeof(m.reason));
        CHECK(strstr(m.reason, "and 35 more, not for other.example.com") != NULL);
        X509_free(x);
    }
}

/* The Public Suffix List lookup on its own (psl.c): the list's rules,
 * exceptions and wildcards, the implicit "*", and input that is no name. */
static void test_public_suffix(void)
{
    static const struct { const char *name; int want; } cases[] = {
        { "com", 1 }, { "COM", 1 }, { "co.uk", 1 }, { "Co.Uk", 1 }, { "uk", 1 },
        { "example.co.uk", 0 }, { "example.com", 0 }, { "www.example.com", 0 },
        /* *.ck with the exception !www.ck */
        { "ck", 1 }, { "foo.ck", 1 }, { "www.ck", 0 }, { "a.www.ck", 0 }, { "a.foo.ck", 0 },
        /* *.kawasaki.jp with !city.kawasaki.jp */
        { "kawasaki.jp", 0 }, { "x.kawasaki.jp", 1 }, { "city.kawasaki.jp", 0 },
        { "a.city.kawasaki.jp", 0 },
        /* an unknown top-level domain: the implicit "*" rule */
        { "internal", 1 }, { "a.internal", 0 }, { "localhost", 1 },
        /* IDN suffixes as A-labels (xn--55qx5d.cn is com.cn in Chinese) */
        { "xn--55qx5d.cn", 1 }, { "xn--j6w193g", 1 }, { "example.xn--j6w193g", 0 },
        /* the private section is not applied */
        { "s3.amazonaws.com", 0 }, { "appspot.com", 0 }, { "github.io", 0 },
        /* no DNS name */
        { "", 0 }, { ".", 0 }, { ".com", 0 }, { "com.", 0 }, { "co..uk", 0 },
    };
    size_t i;
    char big[300];

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        int got = tc_public_suffix(cases[i].name, strlen(cases[i].name));
        if (got != cases[i].want)
            fprintf(stderr, "tc_public_suffix(\"%s\") = %d, want %d\n", cases[i].name, got, cases[i].want);
        CHECK(got == cases[i].want);
    }
    CHECK(tc_public_suffix(NULL, 3) == 0);
    CHECK(tc_public_suffix("co.uk\0x", 8) == 0);
    CHECK(tc_public_suffix("co.uk", 4) == 0);        /* "co.u": a length, not a C string */
    CHECK(tc_public_suffix("example.co.uk", 2) == 1);  /* "ex", one label */
    CHECK(tc_public_suffix("uk\xff", 3) == 0);
    memset(big, 'a', sizeof(big));
    CHECK(tc_public_suffix(big, sizeof(big)) == 0);  /* over 253 bytes */
    CHECK(strncmp(tc_psl_version(), "20", 2) == 0);
}

int main(void)
{
    size_t i;

    test_key = EVP_EC_gen("P-256");
    CHECK(test_key != NULL);
    if (test_key == NULL)
        return TC_TEST_DONE();
    for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
        run_row(&rows[i], i);
    CHECK(n_rows_run >= 100);
    printf("hostname table: %d rows against OpenSSL %s, %d deliberately different\n",
           n_rows_run, OpenSSL_version(OPENSSL_VERSION_STRING), n_rows_differ);
    test_pattern_match();
    test_public_suffix();
    test_normalize();
    test_policy_edges();
    EVP_PKEY_free(test_key);
    return TC_TEST_DONE();
}
