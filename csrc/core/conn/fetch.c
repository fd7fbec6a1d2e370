/*
 * fetch.c - see fetch.h: the rule for URLs taken from certificates, the GET
 * request, and the response parser (status line, headers, Content-Length,
 * chunked or close-delimited bodies, at most TC_FETCH_MAX_BODY bytes).
 */
#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/pkcs7.h>
#include "fetch.h"

/* ------------------------------------------------------------------ */
/* URLs                                                                */
/* ------------------------------------------------------------------ */

static int url_byte_ok(unsigned char c)
{
    return c > 0x20 && c < 0x7f;
}

int tc_fetch_url_parse(const char *url, size_t len, const tc_fetch_url *base,
                       tc_fetch_url *out, const char **why)
{
    memset(out, 0, sizeof(*out));
    for (size_t i = 0; i < len; i++)
        if (!url_byte_ok((unsigned char)url[i])) {
            *why = "the URL holds a space or a control byte";
            return 0;
        }
    if (len == 0) {
        *why = "the URL is empty";
        return 0;
    }
    const char *p = url, *end = url + len;
    if (base != NULL && p[0] == '/' && (len < 2 || p[1] != '/')) {
        /* An absolute path on the same host. */
        *out = *base;
        goto path;
    }
    if (len < 7 || strncasecmp(p, "http://", 7) != 0) {
        *why = "only http URLs are fetched";
        return 0;
    }
    p += 7;
    const char *auth = p;
    while (p < end && *p != '/' && *p != '?' && *p != '#')
        p++;
    const char *auth_end = p;
    if (memchr(auth, '@', (size_t)(auth_end - auth)) != NULL) {
        *why = "the URL carries credentials";
        return 0;
    }
    const char *h = auth, *h_end, *port = NULL;
    if (h < auth_end && *h == '[') {
        h_end = memchr(h, ']', (size_t)(auth_end - h));
        if (h_end == NULL) {
            *why = "the URL's host is malformed";
            return 0;
        }
        h++;
        if (h_end + 1 < auth_end) {
            if (h_end[1] != ':') {
                *why = "the URL's host is malformed";
                return 0;
            }
            port = h_end + 2;
        }
    } else {
        h_end = memchr(h, ':', (size_t)(auth_end - h));
        if (h_end != NULL)
            port = h_end + 1;
        else
            h_end = auth_end;
    }
    size_t hl = (size_t)(h_end - h);
    if (hl == 0 || hl >= sizeof(out->host)) {
        *why = "the URL's host is missing or too long";
        return 0;
    }
    memcpy(out->host, h, hl);
    out->host[hl] = '\0';
    out->port = 80;
    if (port != NULL) {
        long v = 0;
        if (port == auth_end) {
            *why = "the URL's port is malformed";
            return 0;
        }
        for (const char *q = port; q < auth_end; q++) {
            if (!isdigit((unsigned char)*q) || (v = v * 10 + (*q - '0')) > 65535) {
                *why = "the URL's port is malformed";
                return 0;
            }
        }
        if (v == 0) {
            *why = "the URL's port is malformed";
            return 0;
        }
        out->port = (int)v;
    }
path:;
    const char *frag = memchr(p, '#', (size_t)(end - p));
    if (frag != NULL)
        end = frag;
    size_t pl = (size_t)(end - p), off = 0;
    if (pl == 0 || *p != '/')
        out->path[off++] = '/';
    if (off + pl >= sizeof(out->path)) {
        *why = "the URL is too long";
        return 0;
    }
    memcpy(out->path + off, p, pl);
    out->path[off + pl] = '\0';
    return 1;
}

/* ------------------------------------------------------------------ */
/* Address classes: one table per family, longest listed first where   */
/* prefixes nest (the first match wins).                               */
/* ------------------------------------------------------------------ */

typedef struct { unsigned char net[4]; int bits; tc_addr_class cls; } v4_range;
typedef struct { unsigned char net[16]; int bits; tc_addr_class cls; } v6_range;

static const v4_range V4[] = {
    { { 0, 0, 0, 0 }, 8, TC_ADDR_UNSPECIFIED },
    { { 10, 0, 0, 0 }, 8, TC_ADDR_PRIVATE },
    { { 100, 64, 0, 0 }, 10, TC_ADDR_RESERVED },      /* shared address space (CGNAT) */
    { { 127, 0, 0, 0 }, 8, TC_ADDR_LOOPBACK },
    { { 169, 254, 0, 0 }, 16, TC_ADDR_LINK_LOCAL },
    { { 172, 16, 0, 0 }, 12, TC_ADDR_PRIVATE },
    { { 192, 0, 0, 0 }, 24, TC_ADDR_RESERVED },       /* IETF protocol assignments */
    { { 192, 0, 2, 0 }, 24, TC_ADDR_RESERVED },       /* TEST-NET-1 */
    { { 192, 88, 99, 0 }, 24, TC_ADDR_RESERVED },     /* 6to4 relay anycast */
    { { 192, 168, 0, 0 }, 16, TC_ADDR_PRIVATE },
    { { 198, 18, 0, 0 }, 15, TC_ADDR_RESERVED },      /* benchmarking */
    { { 198, 51, 100, 0 }, 24, TC_ADDR_RESERVED },    /* TEST-NET-2 */
    { { 203, 0, 113, 0 }, 24, TC_ADDR_RESERVED },     /* TEST-NET-3 */
    { { 224, 0, 0, 0 }, 4, TC_ADDR_MULTICAST },
    { { 240, 0, 0, 0 }, 4, TC_ADDR_RESERVED },        /* incl. 255.255.255.255 */
};

static const v6_range V6[] = {
    { { 0 }, 128, TC_ADDR_UNSPECIFIED },
    { { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1 }, 128, TC_ADDR_LOOPBACK },
    { { 0x20, 0x01, 0x0d, 0xb8 }, 32, TC_ADDR_RESERVED },  /* documentation */
    { { 0x20, 0x01, 0x00, 0x00 }, 32, TC_ADDR_RESERVED },  /* Teredo */
    { { 0x20, 0x02 }, 16, TC_ADDR_RESERVED },              /* 6to4: embeds IPv4 */
    { { 0x20 }, 3, TC_ADDR_PUBLIC },                       /* global unicast */
    { { 0xfc }, 7, TC_ADDR_PRIVATE },
    { { 0xfe, 0x80 }, 10, TC_ADDR_LINK_LOCAL },
    { { 0xff }, 8, TC_ADDR_MULTICAST },
};

static int prefix_match(const unsigned char *a, const unsigned char *net, int bits)
{
    int full = bits / 8, rest = bits % 8;
    if (memcmp(a, net, (size_t)full) != 0)
        return 0;
    if (rest == 0)
        return 1;
    unsigned char mask = (unsigned char)(0xff << (8 - rest));
    return (a[full] & mask) == (net[full] & mask);
}

static tc_addr_class classify_v4(const unsigned char *a)
{
    for (size_t i = 0; i < sizeof(V4) / sizeof(V4[0]); i++)
        if (prefix_match(a, V4[i].net, V4[i].bits))
            return V4[i].cls;
    return TC_ADDR_PUBLIC;
}

tc_addr_class tc_addr_classify(const struct sockaddr *sa)
{
    static const unsigned char mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
    static const unsigned char nat64[12] = { 0, 0x64, 0xff, 0x9b, 0, 0, 0, 0, 0, 0, 0, 0 };
    if (sa == NULL)
        return TC_ADDR_RESERVED;
    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *s4 = (const struct sockaddr_in *)(const void *)sa;
        return classify_v4((const unsigned char *)&s4->sin_addr);
    }
    if (sa->sa_family != AF_INET6)
        return TC_ADDR_RESERVED;
    const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)(const void *)sa;
    const unsigned char *a = s6->sin6_addr.s6_addr;
    /* IPv4-mapped and the NAT64 well-known prefix reach an IPv4 address. */
    if (memcmp(a, mapped, 12) == 0 || memcmp(a, nat64, 12) == 0)
        return classify_v4(a + 12);
    for (size_t i = 0; i < sizeof(V6) / sizeof(V6[0]); i++)
        if (prefix_match(a, V6[i].net, V6[i].bits))
            return V6[i].cls;
    return TC_ADDR_RESERVED;
}

static const char *const CLASS_NAME[] = {
    [TC_ADDR_PUBLIC] = "public",
    [TC_ADDR_LOOPBACK] = "loopback",
    [TC_ADDR_PRIVATE] = "private",
    [TC_ADDR_LINK_LOCAL] = "link-local",
    [TC_ADDR_UNSPECIFIED] = "unspecified",
    [TC_ADDR_MULTICAST] = "multicast",
    [TC_ADDR_RESERVED] = "reserved",
};

/* Why a fetch to an address of each class is refused. */
static const char *const CLASS_WHY[] = {
    [TC_ADDR_PUBLIC] = "the URL points to the public internet, the target does not",
    [TC_ADDR_LOOPBACK] = "the URL points to this machine (loopback)",
    [TC_ADDR_PRIVATE] = "the URL points into a private network",
    [TC_ADDR_LINK_LOCAL] = "the URL points to a link-local address (such as a cloud metadata service)",
    [TC_ADDR_UNSPECIFIED] = "the URL points to an unspecified address",
    [TC_ADDR_MULTICAST] = "the URL points to a multicast address",
    [TC_ADDR_RESERVED] = "the URL points to a reserved address",
};

const char *tc_addr_class_name(tc_addr_class c)
{
    return (unsigned)c < sizeof(CLASS_NAME) / sizeof(CLASS_NAME[0]) ? CLASS_NAME[c] : "reserved";
}

int tc_fetch_addr_allowed(const struct sockaddr *target, const struct sockaddr *to,
                          const char **why)
{
    tc_addr_class t = tc_addr_classify(target), c = tc_addr_classify(to);
    int fetchable = c == TC_ADDR_PUBLIC || c == TC_ADDR_LOOPBACK || c == TC_ADDR_PRIVATE;
    if (fetchable && c == t)
        return 1;
    *why = CLASS_WHY[c];
    return 0;
}

/* ------------------------------------------------------------------ */
/* The request                                                         */
/* ------------------------------------------------------------------ */

size_t tc_fetch_request(const tc_fetch_url *u, char *buf, size_t cap)
{
    int v6 = strchr(u->host, ':') != NULL;
    char port[16] = "";
    if (u->port != 80)
        snprintf(port, sizeof(port), ":%d", u->port);
    int n = snprintf(buf, cap,
                     "GET %s HTTP/1.1\r\nHost: %s%s%s%s\r\n"
                     "User-Agent: pytlscheck\r\nAccept: */*\r\nConnection: close\r\n\r\n",
                     u->path, v6 ? "[" : "", u->host, v6 ? "]" : "", port);
    if (n < 0 || (size_t)n >= cap)
        return 0;
    return (size_t)n;
}

/* ------------------------------------------------------------------ */
/* The response                                                        */
/* ------------------------------------------------------------------ */

static tc_http_result fail(tc_http_resp *r, const char *why)
{
    r->why = why;
    return TC_HTTP_FAILED;
}

/* The end of the line starting at p (the '\n'), or NULL. */
static const unsigned char *line_end(const unsigned char *p, const unsigned char *end)
{
    return memchr(p, '\n', (size_t)(end - p));
}

static int header_is(const unsigned char *p, size_t n, const char *name)
{
    size_t k = strlen(name);
    return n > k && p[k] == ':' && strncasecmp((const char *)p, name, k) == 0;
}

/* The header's value, trimmed of blanks and the CR. */
static void header_value(const unsigned char *line, const unsigned char *nl, size_t namelen,
                         const unsigned char **v, size_t *vn)
{
    const unsigned char *a = line + namelen + 1, *b = nl;
    while (a < b && (*a == ' ' || *a == '\t'))
        a++;
    while (b > a && (b[-1] == '\r' || b[-1] == ' ' || b[-1] == '\t'))
        b--;
    *v = a;
    *vn = (size_t)(b - a);
}

static int parse_dec(const unsigned char *p, size_t n, size_t *out)
{
    size_t v = 0;
    if (n == 0)
        return 0;
    for (size_t i = 0; i < n; i++) {
        if (!isdigit(p[i]) || v > (SIZE_MAX - 9) / 10)
            return 0;
        v = v * 10 + (size_t)(p[i] - '0');
    }
    *out = v;
    return 1;
}

static tc_http_result body_put(tc_http_resp *r, const unsigned char *p, size_t n)
{
    if (n > r->body_cap - r->body_len || r->body_len + n > TC_FETCH_MAX_BODY)
        return fail(r, "the response is larger than 64 KB");
    memcpy(r->body + r->body_len, p, n);
    r->body_len += n;
    return TC_HTTP_DONE;
}

tc_http_result tc_http_parse(const unsigned char *buf, size_t len, int eof, tc_http_resp *r)
{
    const unsigned char *end = buf + len, *p = buf;
    r->status = 0;
    r->location[0] = '\0';
    r->location_len = 0;
    r->body_len = 0;
    r->why = NULL;

    /* The head: status line and headers, within TC_FETCH_MAX_HEAD. */
    const unsigned char *nl = line_end(p, end);
    if (nl == NULL) {
        if (len > TC_FETCH_MAX_HEAD)
            return fail(r, "the response's head is too long");
        return eof ? fail(r, "the server closed before answering in HTTP") : TC_HTTP_WANT;
    }
    if (nl - p < 12 || memcmp(p, "HTTP/1.", 7) != 0 || (p[7] != '0' && p[7] != '1') || p[8] != ' ' ||
        !isdigit(p[9]) || !isdigit(p[10]) || !isdigit(p[11]) || (nl - p > 12 && p[12] != ' ' && p[12] != '\r'))
        return fail(r, "the server did not answer in HTTP");
    r->status = (p[9] - '0') * 100 + (p[10] - '0') * 10 + (p[11] - '0');
    int chunked = 0, have_length = 0;
    size_t length = 0;
    p = nl + 1;
    for (;;) {
        nl = line_end(p, end);
        if (nl == NULL) {
            if (len > TC_FETCH_MAX_HEAD)
                return fail(r, "the response's head is too long");
            return eof ? fail(r, "the server closed in the middle of the headers") : TC_HTTP_WANT;
        }
        if ((size_t)(nl + 1 - buf) > TC_FETCH_MAX_HEAD)
            return fail(r, "the response's head is too long");
        size_t ln = (size_t)(nl - p);
        if (ln == 0 || (ln == 1 && p[0] == '\r')) {
            p = nl + 1;
            break;
        }
        const unsigned char *v;
        size_t vn;
        if (header_is(p, ln, "content-length")) {
            header_value(p, nl, 14, &v, &vn);
            size_t l;
            if (!parse_dec(v, vn, &l) || (have_length && l != length))
                return fail(r, "the response's Content-Length is malformed");
            have_length = 1;
            length = l;
        } else if (header_is(p, ln, "transfer-encoding")) {
            header_value(p, nl, 17, &v, &vn);
            if (vn == 7 && strncasecmp((const char *)v, "chunked", 7) == 0)
                chunked = 1;
            else if (!(vn == 8 && strncasecmp((const char *)v, "identity", 8) == 0))
                return fail(r, "the response uses a transfer encoding other than chunked");
        } else if (header_is(p, ln, "location")) {
            header_value(p, nl, 8, &v, &vn);
            if (vn >= sizeof(r->location))
                return fail(r, "the redirect's Location is too long");
            memcpy(r->location, v, vn);
            r->location[vn] = '\0';
            r->location_len = vn;
        }
        p = nl + 1;
    }
    if (r->status == 204 || r->status == 304 || (r->status >= 100 && r->status < 200))
        return TC_HTTP_DONE;

    /* The body. */
    if (chunked) {
        for (;;) {
            nl = line_end(p, end);
            if (nl == NULL) {
                if (end - p > 64)
                    return fail(r, "the response's chunked body is malformed");
                return eof ? fail(r, "the server closed in the middle of the body") : TC_HTTP_WANT;
            }
            size_t sz = 0, i = 0;
            for (; p + i < nl && isxdigit(p[i]); i++) {
                if (sz > TC_FETCH_MAX_BODY)
                    return fail(r, "the response is larger than 64 KB");
                sz = sz * 16 + (size_t)(isdigit(p[i]) ? p[i] - '0' : (tolower(p[i]) - 'a' + 10));
            }
            if (i == 0 || (p[i] != '\r' && p[i] != ';' && p + i != nl))
                return fail(r, "the response's chunked body is malformed");
            if (sz > TC_FETCH_MAX_BODY || r->body_len + sz > TC_FETCH_MAX_BODY)
                return fail(r, "the response is larger than 64 KB");
            p = nl + 1;
            if (sz == 0) {
                /* Trailers up to the empty line. */
                for (;;) {
                    nl = line_end(p, end);
                    if (nl == NULL)
                        return eof ? TC_HTTP_DONE : TC_HTTP_WANT;
                    if (nl == p || (nl - p == 1 && p[0] == '\r'))
                        return TC_HTTP_DONE;
                    p = nl + 1;
                }
            }
            if ((size_t)(end - p) < sz + 2)
                return eof ? fail(r, "the server closed in the middle of the body") : TC_HTTP_WANT;
            if (body_put(r, p, sz) != TC_HTTP_DONE)
                return TC_HTTP_FAILED;
            p += sz;
            if (p[0] == '\r' && p[1] == '\n')
                p += 2;
            else if (p[0] == '\n')
                p += 1;
            else
                return fail(r, "the response's chunked body is malformed");
        }
    }
    size_t have = (size_t)(end - p);
    if (have_length) {
        if (length > TC_FETCH_MAX_BODY)
            return fail(r, "the response is larger than 64 KB");
        if (have < length)
            return eof ? fail(r, "the server closed in the middle of the body") : TC_HTTP_WANT;
        return body_put(r, p, length);
    }
    if (have > TC_FETCH_MAX_BODY)
        return fail(r, "the response is larger than 64 KB");
    if (!eof)
        return TC_HTTP_WANT;
    return body_put(r, p, have);
}

/* ------------------------------------------------------------------ */
/* What a caIssuers URL serves                                         */
/* ------------------------------------------------------------------ */

static STACK_OF(X509) *pkcs7_certs(PKCS7 *p7)
{
    if (p7 == NULL || !PKCS7_type_is_signed(p7) || p7->d.sign == NULL || p7->d.sign->cert == NULL ||
        sk_X509_num(p7->d.sign->cert) == 0)
        return NULL;
    STACK_OF(X509) *out = sk_X509_new_null();
    if (out == NULL)
        return NULL;
    for (int i = 0; i < sk_X509_num(p7->d.sign->cert); i++) {
        X509 *x = sk_X509_value(p7->d.sign->cert, i);
        if (!X509_up_ref(x))
            goto fail;
        if (!sk_X509_push(out, x)) {
            X509_free(x);
            goto fail;
        }
    }
    return out;
fail:
    sk_X509_pop_free(out, X509_free);
    return NULL;
}

int tc_aia_certs(const unsigned char *body, size_t len, STACK_OF(X509) **out, const char **why)
{
    tc_error err;
    *out = NULL;
    if (len == 0 || len > TC_FETCH_MAX_BODY || len > INT32_MAX) {
        *why = "the URL served nothing";
        return 0;
    }
    tc_error_clear(&err);
    if (tc_certs_parse(body, len, "the fetched data", out, &err) == TC_OK)
        return 1;
    ERR_clear_error();
    /* PKCS#7 certs-only, DER then PEM. */
    const unsigned char *p = body;
    PKCS7 *p7 = d2i_PKCS7(NULL, &p, (long)len);
    if (p7 != NULL && p != body + len) {
        PKCS7_free(p7);
        p7 = NULL;
    }
    if (p7 == NULL) {
        ERR_clear_error();
        BIO *b = BIO_new_mem_buf(body, (int)len);
        if (b != NULL) {
            p7 = PEM_read_bio_PKCS7(b, NULL, NULL, NULL);
            BIO_free(b);
        }
    }
    ERR_clear_error();
    *out = pkcs7_certs(p7);
    PKCS7_free(p7);
    if (*out != NULL)
        return 1;
    *why = "the URL served something that is not a certificate (DER, PEM or PKCS#7)";
    return 0;
}

int tc_aia_completes(const tc_trust *trust, STACK_OF(X509) *chain, STACK_OF(X509) *extra,
                     const tc_verify_params *params, tc_error *err)
{
    STACK_OF(X509) *all = sk_X509_dup(chain);
    tc_report *r = NULL;
    int ans = -1;
    if (all == NULL) {
        tc_error_set(err, TC_E_NOMEM, "out of memory");
        return -1;
    }
    for (int i = 0; i < sk_X509_num(extra); i++)
        if (!sk_X509_push(all, sk_X509_value(extra, i))) {
            tc_error_set(err, TC_E_NOMEM, "out of memory");
            goto done;
        }
    if (tc_report_new(&r, err) != TC_OK || tc_verify(r, trust, all, params, err) != TC_OK)
        goto done;
    ans = r->verified != NULL;
done:
    tc_report_free(r);
    sk_X509_free(all);   /* borrowed certificates */
    return ans;
}
