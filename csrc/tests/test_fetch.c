/* test_fetch.c - fetch.c: the rule for URLs taken from certificates (URL
 * shape and address classes), the GET request, and the response parser. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include "tc_test.h"
#include <openssl/pkcs7.h>
#include "fetch.h"
#include "tc_pki.h"

#define T0 ((int64_t)1767225600)   /* 2026-01-01 00:00 UTC */

/* One DER, PEM or PKCS#7 (DER, PEM) rendering of x into buf. */
static size_t render(X509 *x, int how, unsigned char *buf, size_t cap)
{
    BIO *b = BIO_new(BIO_s_mem());
    int ok = 0;
    if (b == NULL)
        abort();
    if (how == 0) {
        ok = i2d_X509_bio(b, x);
    } else if (how == 1) {
        ok = PEM_write_bio_X509(b, x);
    } else {
        PKCS7 *p7 = PKCS7_new();
        STACK_OF(X509) *sk = sk_X509_new_null();
        ok = p7 != NULL && sk != NULL && PKCS7_set_type(p7, NID_pkcs7_signed) &&
             PKCS7_content_new(p7, NID_pkcs7_data) && PKCS7_add_certificate(p7, x) &&
             (how == 2 ? i2d_PKCS7_bio(b, p7) : PEM_write_bio_PKCS7(b, p7));
        sk_X509_free(sk);
        PKCS7_free(p7);
    }
    char *p = NULL;
    long n = BIO_get_mem_data(b, &p);
    if (!ok || n <= 0 || (size_t)n > cap)
        abort();
    memcpy(buf, p, (size_t)n);
    BIO_free(b);
    return (size_t)n;
}

/* The body of a caIssuers URL: parsed, and whether it completes a path. */
static void aia_tests(void)
{
    pki_spec s = pki_ca(T0 - 400 * PKI_DAY, "AIA Root", NULL);
    pki_cert root = pki_mint(&s);
    s = pki_ca(T0 - 300 * PKI_DAY, "AIA Intermediate", &root);
    pki_cert inter = pki_mint(&s);
    s = pki_ca(T0 - 300 * PKI_DAY, "Unrelated CA", NULL);
    pki_cert other = pki_mint(&s);
    s = pki_leaf(T0 - 10 * PKI_DAY, "aia.example", &inter);
    pki_cert leaf = pki_mint(&s);
    STACK_OF(X509) *anchors = pki_stack(root.x, NULL), *served = pki_stack(leaf.x, NULL);
    tc_trust *t = NULL;
    tc_error err;
    tc_error_clear(&err);
    if (tc_trust_new_certs(anchors, &t, &err) != TC_OK)
        abort();
    tc_verify_params p;
    tc_verify_params_init(&p);
    p.has_at = 1;
    p.at = T0;
    p.hostname = "aia.example";
    static unsigned char buf[16384];
    const char *why = NULL;
    for (int how = 0; how < 4; how++) {
        size_t n = render(inter.x, how, buf, sizeof(buf));
        STACK_OF(X509) *got = NULL;
        CHECK(tc_aia_certs(buf, n, &got, &why) == 1);
        CHECK(got != NULL && sk_X509_num(got) == 1 && X509_cmp(sk_X509_value(got, 0), inter.x) == 0);
        CHECK(tc_aia_completes(t, served, got, &p, &err) == 1);
        sk_X509_pop_free(got, X509_free);
    }
    /* Without it the chain is incomplete; an unrelated CA does not help. */
    STACK_OF(X509) *none = sk_X509_new_null(), *got = NULL;
    CHECK(tc_aia_completes(t, served, none, &p, &err) == 0);
    size_t n = render(other.x, 0, buf, sizeof(buf));
    CHECK(tc_aia_certs(buf, n, &got, &why) == 1);
    CHECK(tc_aia_completes(t, served, got, &p, &err) == 0);
    sk_X509_pop_free(got, X509_free);
    sk_X509_free(none);
    /* Garbage, nothing, a truncated certificate. */
    got = NULL;
    CHECK(tc_aia_certs((const unsigned char *)"<html>404</html>", 16, &got, &why) == 0 && got == NULL);
    CHECK(why != NULL && strstr(why, "not a certificate") != NULL);
    CHECK(tc_aia_certs(buf, 0, &got, &why) == 0);
    CHECK(tc_aia_certs(buf, n - 5, &got, &why) == 0 && got == NULL);
    tc_trust_free(t);
    sk_X509_pop_free(anchors, X509_free);
    sk_X509_pop_free(served, X509_free);
    pki_free(&leaf);
    pki_free(&other);
    pki_free(&inter);
    pki_free(&root);
}

static struct sockaddr_storage addr(const char *lit)
{
    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof(ss));
    struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
    struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
    if (inet_pton(AF_INET, lit, &s4->sin_addr) == 1)
        s4->sin_family = AF_INET;
    else if (inet_pton(AF_INET6, lit, &s6->sin6_addr) == 1)
        s6->sin6_family = AF_INET6;
    else
        abort();
    return ss;
}

static tc_addr_class cls(const char *lit)
{
    struct sockaddr_storage ss = addr(lit);
    return tc_addr_classify((const struct sockaddr *)&ss);
}

static int allowed(const char *target, const char *to, const char **why)
{
    struct sockaddr_storage t = addr(target), a = addr(to);
    return tc_fetch_addr_allowed((const struct sockaddr *)&t, (const struct sockaddr *)&a, why);
}

static unsigned char body[TC_FETCH_MAX_BODY];

static tc_http_result parse(const char *s, size_t n, int eof, tc_http_resp *r)
{
    memset(r, 0, sizeof(*r));
    r->body = body;
    r->body_cap = sizeof(body);
    return tc_http_parse((const unsigned char *)s, n, eof, r);
}
#define PARSE(s, eof, r) parse(s, sizeof(s) - 1, eof, r)

int main(void)
{
    tc_fetch_url u, b;
    const char *why = NULL;

    /* URLs. */
    CHECK(tc_fetch_url_parse("http://ca.example/int.der", 25, NULL, &u, &why));
    CHECK_STR(u.host, "ca.example");
    CHECK(u.port == 80);
    CHECK_STR(u.path, "/int.der");
    CHECK(tc_fetch_url_parse("HTTP://[::1]:8080", 17, NULL, &u, &why));
    CHECK_STR(u.host, "::1");
    CHECK(u.port == 8080);
    CHECK_STR(u.path, "/");
    CHECK(tc_fetch_url_parse("http://h:81/a?b#frag", 20, NULL, &u, &why));
    CHECK_STR(u.path, "/a?b");
    CHECK(!tc_fetch_url_parse("https://ca.example/x", 20, NULL, &u, &why));
    CHECK_STR(why, "only http URLs are fetched");
    CHECK(!tc_fetch_url_parse("ldap://ca.example/x", 19, NULL, &u, &why));
    CHECK(!tc_fetch_url_parse("http://user:pw@127.0.0.1/x", 26, NULL, &u, &why));
    CHECK_STR(why, "the URL carries credentials");
    CHECK(!tc_fetch_url_parse("http://h:0/", 11, NULL, &u, &why));
    CHECK(!tc_fetch_url_parse("http://h:65536/", 15, NULL, &u, &why));
    CHECK(!tc_fetch_url_parse("http://h:/", 10, NULL, &u, &why));
    CHECK(!tc_fetch_url_parse("http:///x", 9, NULL, &u, &why));
    CHECK(!tc_fetch_url_parse("http://h/a b", 12, NULL, &u, &why));
    CHECK(!tc_fetch_url_parse("http://[::1/", 12, NULL, &u, &why));
    /* Redirects: relative to the base, or absolute (then checked again). */
    CHECK(tc_fetch_url_parse("http://127.0.0.1:9/a", 20, NULL, &b, &why));
    CHECK(tc_fetch_url_parse("/b", 2, &b, &u, &why));
    CHECK_STR(u.host, "127.0.0.1");
    CHECK(u.port == 9 && strcmp(u.path, "/b") == 0);
    CHECK(!tc_fetch_url_parse("//evil/b", 8, &b, &u, &why));
    CHECK(!tc_fetch_url_parse("http://a@b/", 11, &b, &u, &why));

    /* Address classes. */
    CHECK(cls("127.0.0.1") == TC_ADDR_LOOPBACK);
    CHECK(cls("::1") == TC_ADDR_LOOPBACK);
    CHECK(cls("::ffff:127.0.0.1") == TC_ADDR_LOOPBACK);
    CHECK(cls("10.0.0.5") == TC_ADDR_PRIVATE);
    CHECK(cls("172.31.255.255") == TC_ADDR_PRIVATE);
    CHECK(cls("172.32.0.1") == TC_ADDR_PUBLIC);
    CHECK(cls("192.168.1.1") == TC_ADDR_PRIVATE);
    CHECK(cls("fd00::1") == TC_ADDR_PRIVATE);
    CHECK(cls("169.254.169.254") == TC_ADDR_LINK_LOCAL);
    CHECK(cls("::ffff:169.254.169.254") == TC_ADDR_LINK_LOCAL);
    CHECK(cls("fe80::1") == TC_ADDR_LINK_LOCAL);
    CHECK(cls("0.0.0.0") == TC_ADDR_UNSPECIFIED);
    CHECK(cls("::") == TC_ADDR_UNSPECIFIED);
    CHECK(cls("224.0.0.1") == TC_ADDR_MULTICAST);
    CHECK(cls("ff02::1") == TC_ADDR_MULTICAST);
    CHECK(cls("255.255.255.255") == TC_ADDR_RESERVED);
    CHECK(cls("100.64.0.1") == TC_ADDR_RESERVED);
    CHECK(cls("2001:db8::1") == TC_ADDR_RESERVED);
    CHECK(cls("64:ff9b::a00:5") == TC_ADDR_PRIVATE);   /* NAT64 of 10.0.0.5 */
    CHECK(cls("8.8.8.8") == TC_ADDR_PUBLIC);
    CHECK(cls("2606:4700::1111") == TC_ADDR_PUBLIC);
    CHECK(cls("::2") == TC_ADDR_RESERVED);
    CHECK_STR(tc_addr_class_name(TC_ADDR_LINK_LOCAL), "link-local");

    /* The rule: same class as the target; never link-local and kin. */
    CHECK(allowed("127.0.0.1", "127.0.0.1", &why));
    CHECK(allowed("127.0.0.1", "::ffff:127.0.0.1", &why));
    CHECK(allowed("::1", "127.0.0.2", &why));
    CHECK(allowed("10.1.2.3", "10.0.0.5", &why));
    CHECK(allowed("192.168.0.1", "fd12::1", &why));
    CHECK(allowed("93.184.216.34", "8.8.8.8", &why));
    /* A simulated public target. */
    CHECK(!allowed("93.184.216.34", "10.0.0.5", &why));
    CHECK_STR(why, "the URL points into a private network");
    CHECK(!allowed("93.184.216.34", "169.254.169.254", &why));
    CHECK(why != NULL && strstr(why, "link-local") != NULL);
    CHECK(!allowed("93.184.216.34", "::ffff:127.0.0.1", &why));
    CHECK(why != NULL && strstr(why, "loopback") != NULL);
    CHECK(!allowed("93.184.216.34", "fe80::1", &why));
    CHECK(!allowed("93.184.216.34", "127.0.0.1", &why));
    CHECK(!allowed("93.184.216.34", "0.0.0.0", &why));
    CHECK(!allowed("93.184.216.34", "224.0.0.1", &why));
    CHECK(!allowed("93.184.216.34", "192.0.2.1", &why));
    /* A loopback target fetches neither private nor public addresses. */
    CHECK(!allowed("127.0.0.1", "10.0.0.5", &why));
    CHECK(!allowed("127.0.0.1", "8.8.8.8", &why));
    CHECK(!allowed("10.0.0.1", "127.0.0.1", &why));
    CHECK(!allowed("169.254.1.1", "169.254.169.254", &why));

    /* The request. */
    char req[512];
    CHECK(tc_fetch_url_parse("http://[::1]:8080/i.p7c", 23, NULL, &u, &why));
    CHECK(tc_fetch_request(&u, req, sizeof(req)) > 0);
    CHECK(strncmp(req, "GET /i.p7c HTTP/1.1\r\nHost: [::1]:8080\r\n", 39) == 0);
    CHECK(strstr(req, "Cookie") == NULL && strstr(req, "Authorization") == NULL);
    CHECK(strcmp(req + strlen(req) - 4, "\r\n\r\n") == 0);
    CHECK(tc_fetch_request(&u, req, 20) == 0);

    /* Responses. */
    tc_http_resp r;
    CHECK(PARSE("HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc", 0, &r) == TC_HTTP_DONE);
    CHECK(r.status == 200 && r.body_len == 3 && memcmp(body, "abc", 3) == 0);
    CHECK(PARSE("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nabc", 0, &r) == TC_HTTP_WANT);
    CHECK(PARSE("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nabc", 1, &r) == TC_HTTP_FAILED);
    CHECK(PARSE("HTTP/1.1 200 OK\r\nContent-Len", 0, &r) == TC_HTTP_WANT);
    CHECK(PARSE("HTTP/1.0 200 OK\r\n\r\nclose-delimited", 0, &r) == TC_HTTP_WANT);
    CHECK(PARSE("HTTP/1.0 200 OK\r\n\r\nclose-delimited", 1, &r) == TC_HTTP_DONE);
    CHECK(r.body_len == 15);
    CHECK(PARSE("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2;x=y\r\nde\r\n0\r\n\r\n", 0, &r) == TC_HTTP_DONE);
    CHECK(r.body_len == 5 && memcmp(body, "abcde", 5) == 0);
    CHECK(PARSE("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nab", 0, &r) == TC_HTTP_WANT);
    CHECK(PARSE("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", 0, &r) == TC_HTTP_FAILED);
    CHECK(PARSE("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n", 0, &r) == TC_HTTP_FAILED);
    CHECK(PARSE("HTTP/1.1 200 OK\r\nContent-Length: 70000\r\n\r\n", 0, &r) == TC_HTTP_FAILED);
    CHECK_STR(r.why, "the response is larger than 64 KB");
    CHECK(PARSE("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n10001\r\n", 0, &r) == TC_HTTP_FAILED);
    CHECK(PARSE("HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab", 0, &r) == TC_HTTP_FAILED);
    CHECK(PARSE("HTTP/1.1 302 Found\r\nLocation:  /other \r\nContent-Length: 0\r\n\r\n", 0, &r) == TC_HTTP_DONE);
    CHECK(r.status == 302 && strcmp(r.location, "/other") == 0 && r.location_len == 6);
    CHECK(PARSE("SSH-2.0-OpenSSH\r\n", 0, &r) == TC_HTTP_FAILED);
    CHECK_STR(r.why, "the server did not answer in HTTP");
    CHECK(PARSE("HTTP/1.1 20 OK\r\n", 0, &r) == TC_HTTP_FAILED);
    CHECK(PARSE("", 1, &r) == TC_HTTP_FAILED);
    CHECK(PARSE("HTTP/1.1 204 No Content\r\n\r\n", 0, &r) == TC_HTTP_DONE);
    /* A body past 64 KB, close-delimited. */
    static char big[TC_FETCH_MAX_BODY + 64];
    const char *head = "HTTP/1.1 200 OK\r\n\r\n";
    memset(big, 'x', sizeof(big));
    memcpy(big, head, strlen(head));
    CHECK(parse(big, sizeof(big), 0, &r) == TC_HTTP_FAILED);
    CHECK(parse(big, strlen(head) + TC_FETCH_MAX_BODY, 1, &r) == TC_HTTP_DONE);
    CHECK(r.body_len == TC_FETCH_MAX_BODY);
    /* A head without an end. */
    memset(big, 'a', sizeof(big));
    memcpy(big, "HTTP/1.1 200 OK\r\nX: ", 20);
    CHECK(parse(big, TC_FETCH_MAX_HEAD + 10, 0, &r) == TC_HTTP_FAILED);

    aia_tests();
    return TC_TEST_DONE();
}
