/* test_starttls.c - the STARTTLS dialogues of starttls.c, bytes in and
 * bytes out: what the client sends, and how each server answer is judged. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include "tc_test.h"
#include "live_internal.h"

/* Runs a dialogue: the server's bytes in chunks of `chunk`; the client's
 * bytes (all of them) are appended to sent.  Returns the last result. */
static tc_stls_result run(tc_starttls proto, const char *server, size_t len, size_t chunk,
                          char *sent, size_t sent_cap, tc_verdict *v, size_t *leftover)
{
    tc_stls s;
    tc_error err;
    tc_stls_result r = TC_STLS_WANT;
    size_t off = 0, sn = 0;
    sent[0] = '\0';
    *leftover = 0;
    if (tc_stls_init(&s, proto, "example.com", &err) != TC_OK)
        return TC_STLS_FAILED;
    for (;;) {
        const unsigned char *p;
        size_t n = tc_stls_out_peek(&s, &p);
        if (n > 0 && sn + n < sent_cap) {
            memcpy(sent + sn, p, n);
            sn += n;
            sent[sn] = '\0';
        }
        tc_stls_out_consume(&s, n);
        if (r != TC_STLS_WANT || off >= len)
            break;
        size_t k = len - off < chunk ? len - off : chunk, used = 0;
        r = tc_stls_feed(&s, (const unsigned char *)server + off, k, &used, v);
        off += used;
    }
    if (r == TC_STLS_DONE) {
        const unsigned char *p;
        *leftover = tc_stls_leftover(&s, &p) + (len - off);
    }
    tc_stls_clear(&s);
    return r;
}

#define RUN(proto, server, chunk) \
    run(proto, server, sizeof(server) - 1, chunk, sent, sizeof(sent), &v, &left)

int main(void)
{
    char sent[2048];
    tc_verdict v;
    size_t left;

    CHECK_STR(tc_starttls_name(TC_STARTTLS_POSTGRES), "postgres");
    tc_starttls p;
    CHECK(tc_starttls_from_name("xmpp", &p) && p == TC_STARTTLS_XMPP);
    CHECK(!tc_starttls_from_name("gopher", &p) && !tc_starttls_from_name(NULL, &p));
    CHECK(tc_starttls_name(TC_STARTTLS_NONE) == NULL);

    /* SMTP, whole and byte by byte: EHLO, STARTTLS, then TLS's first bytes kept. */
    for (size_t chunk = 1; chunk <= 4096; chunk *= 8) {
        CHECK(RUN(TC_STARTTLS_SMTP, "220-mx.test hi\r\n220 mx.test ESMTP\r\n250-mx.test\r\n"
                  "250-PIPELINING\r\n250 STARTTLS\r\n220 go ahead\r\n\x16\x03", chunk) == TC_STLS_DONE);
        CHECK_STR(sent, "EHLO pytlscheck.invalid\r\nSTARTTLS\r\n");
        CHECK(left == 2);
    }
    CHECK(RUN(TC_STARTTLS_SMTP, "220 mx\r\n250-mx\r\n250-PIPELINING\r\n250 SIZE 1000\r\n", 4096) == TC_STLS_FAILED);
    CHECK(v.kind == TC_KIND_STARTTLS_UNAVAILABLE);
    CHECK(strstr(v.detail, "does not list STARTTLS (what it offers: PIPELINING, SIZE 1000)") != NULL);
    CHECK(RUN(TC_STARTTLS_SMTP, "220 mx\r\n250 STARTTLS\r\n454 4.7.0 no TLS\r\n", 3) == TC_STLS_FAILED);
    CHECK(v.kind == TC_KIND_STARTTLS_REFUSED && strstr(v.detail, "'454 4.7.0 no TLS'") != NULL);
    CHECK(RUN(TC_STARTTLS_SMTP, "554 go away\r\n", 100) == TC_STLS_FAILED);
    CHECK(v.kind == TC_KIND_STARTTLS_REFUSED && strstr(v.detail, "greeting was '554 go away'") != NULL);
    CHECK(RUN(TC_STARTTLS_SMTP, "SSH-2.0-OpenSSH\r\n", 100) == TC_STLS_FAILED);
    CHECK(v.kind == TC_KIND_STARTTLS_PROTOCOL_MISMATCH && strstr(v.detail, "'SSH-2.0-OpenSSH'") != NULL);
    CHECK(RUN(TC_STARTTLS_SMTP, "220 mx\r\n250-a\r\n251 b\r\n", 100) == TC_STLS_FAILED);
    CHECK(v.kind == TC_KIND_STARTTLS_PROTOCOL_MISMATCH);   /* a code that changes mid-reply */
    CHECK(RUN(TC_STARTTLS_SMTP, "220 \x1b[2J\r\n", 100) == TC_STLS_WANT);   /* greeting good, EHLO pending */

    /* IMAP */
    CHECK(RUN(TC_STARTTLS_IMAP, "* OK ready\r\n* CAPABILITY IMAP4rev1 STARTTLS\r\na1 OK done\r\n"
              "a2 OK begin\r\n", 5) == TC_STLS_DONE);
    CHECK_STR(sent, "a1 CAPABILITY\r\na2 STARTTLS\r\n");
    CHECK(RUN(TC_STARTTLS_IMAP, "* OK ready\r\n* CAPABILITY IMAP4rev1 AUTH=PLAIN\r\na1 OK done\r\n", 4096)
          == TC_STLS_FAILED);
    CHECK(v.kind == TC_KIND_STARTTLS_UNAVAILABLE && strstr(v.detail, "IMAP4rev1 AUTH=PLAIN") != NULL);
    CHECK(RUN(TC_STARTTLS_IMAP, "* BYE no\r\n", 4096) == TC_STLS_FAILED && v.kind == TC_KIND_STARTTLS_REFUSED);
    CHECK(RUN(TC_STARTTLS_IMAP, "* OK r\r\n* CAPABILITY STARTTLS\r\na1 OK\r\na2 NO nope\r\n", 4096)
          == TC_STLS_FAILED && v.kind == TC_KIND_STARTTLS_REFUSED && strstr(v.detail, "'a2 NO nope'"));

    /* POP3: CAPA listing STLS; CAPA unknown and STLS refused. */
    CHECK(RUN(TC_STARTTLS_POP3, "+OK hi\r\n+OK\r\nUSER\r\nSTLS\r\n.\r\n+OK go\r\n", 7) == TC_STLS_DONE);
    CHECK_STR(sent, "CAPA\r\nSTLS\r\n");
    CHECK(RUN(TC_STARTTLS_POP3, "+OK hi\r\n+OK\r\nUSER\r\n.\r\n-ERR no\r\n", 4096) == TC_STLS_FAILED);
    CHECK(v.kind == TC_KIND_STARTTLS_UNAVAILABLE && strstr(v.detail, "USER") != NULL);
    CHECK(RUN(TC_STARTTLS_POP3, "+OK hi\r\n-ERR what\r\n-ERR no TLS\r\n", 4096) == TC_STLS_FAILED);
    CHECK(v.kind == TC_KIND_STARTTLS_REFUSED);

    /* FTP: middle lines of a multi-line reply are free text. */
    CHECK(RUN(TC_STARTTLS_FTP, "220-Welcome\r\n to the server\r\n220 ready\r\n211-Features:\r\n AUTH TLS\r\n"
              " PBSZ\r\n211 End\r\n234 Proceed\r\n", 9) == TC_STLS_DONE);
    CHECK_STR(sent, "FEAT\r\nAUTH TLS\r\n");
    CHECK(RUN(TC_STARTTLS_FTP, "220 ready\r\n211-Features:\r\n EPSV\r\n211 End\r\n530 login first\r\n", 4096)
          == TC_STLS_FAILED);
    CHECK(v.kind == TC_KIND_STARTTLS_UNAVAILABLE && strstr(v.detail, "EPSV") != NULL);

    /* LDAP: the ExtendedRequest, then success / unavailable / a notice. */
    CHECK(RUN(TC_STARTTLS_LDAP, "\x30\x0c\x02\x01\x01\x78\x07\x0a\x01\x00\x04\x00\x04\x00", 1) == TC_STLS_DONE);
    CHECK(memcmp(sent, "\x30\x1d\x02\x01\x01\x77\x18\x80\x16" "1.3.6.1.4.1.1466.20037", 31) == 0);
    CHECK(RUN(TC_STARTTLS_LDAP, "\x30\x1a\x02\x01\x01\x78\x15\x0a\x01\x34\x04\x00\x04\x0eTLS not set up", 4096)
          == TC_STLS_FAILED);
    CHECK(v.kind == TC_KIND_STARTTLS_UNAVAILABLE && strstr(v.detail, "52 (unavailable): 'TLS not set up'"));
    CHECK(RUN(TC_STARTTLS_LDAP, "HTTP/1.0 400\r\n", 4096) == TC_STLS_FAILED &&
          v.kind == TC_KIND_STARTTLS_PROTOCOL_MISMATCH);

    /* PostgreSQL */
    CHECK(RUN(TC_STARTTLS_POSTGRES, "S", 1) == TC_STLS_DONE);
    CHECK(memcmp(sent, "\x00\x00\x00\x08\x04\xd2\x16\x2f", 8) == 0);
    CHECK(RUN(TC_STARTTLS_POSTGRES, "N", 1) == TC_STLS_FAILED && v.kind == TC_KIND_STARTTLS_UNAVAILABLE);
    CHECK(RUN(TC_STARTTLS_POSTGRES, "E\x00\x00\x00\x14SFATAL\x00Mno way\x00\x00", 3) == TC_STLS_FAILED);
    CHECK(v.kind == TC_KIND_STARTTLS_REFUSED && strstr(v.detail, "'no way'") != NULL);
    CHECK(RUN(TC_STARTTLS_POSTGRES, "HTTP/1.1 400", 100) == TC_STLS_FAILED &&
          v.kind == TC_KIND_STARTTLS_PROTOCOL_MISMATCH);

    /* MySQL: the greeting's CLIENT_SSL flag decides. */
    static const char greet[] = "\x24\x00\x00\x00\x0a" "5.7.1\x00" "\x01\x00\x00\x00" "abcdefgh" "\x00"
                                "\xff\xff" "\x2d\x02\x00\xff\x81\x15" "\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00";
    CHECK(RUN(TC_STARTTLS_MYSQL, greet, 2) == TC_STLS_DONE);
    CHECK(sent[0] == 0x20 && sent[3] == 1 && (sent[5] & 0x08));   /* 32 bytes, seq 1, CLIENT_SSL */
    static const char nossl[] = "\x24\x00\x00\x00\x0a" "5.7.1\x00" "\x01\x00\x00\x00" "abcdefgh" "\x00"
                                "\xff\xf7" "\x2d\x02\x00\xff\x81\x15" "\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00";
    CHECK(RUN(TC_STARTTLS_MYSQL, nossl, 4096) == TC_STLS_FAILED && v.kind == TC_KIND_STARTTLS_UNAVAILABLE);
    CHECK(strstr(v.detail, "'5.7.1'") != NULL);

    /* XMPP */
    CHECK(RUN(TC_STARTTLS_XMPP, "<?xml version='1.0'?><stream:stream xmlns:stream='http://etherx.jabber.org/streams'>"
              "<stream:features><starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/></stream:features>"
              "<proceed xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>", 13) == TC_STLS_DONE);
    CHECK(strstr(sent, "to='example.com'") != NULL && strstr(sent, "<starttls xmlns=") != NULL);
    CHECK(RUN(TC_STARTTLS_XMPP, "<stream:stream><stream:features><mechanisms/></stream:features>", 4096)
          == TC_STLS_FAILED && v.kind == TC_KIND_STARTTLS_UNAVAILABLE && strstr(v.detail, "mechanisms"));

    /* Bounds: a line past STLS_LINE_MAX, a reply past STLS_REPLY_MAX. */
    static char big[STLS_REPLY_MAX + 8192];
    memset(big, 'A', sizeof(big));
    CHECK(run(TC_STARTTLS_SMTP, big, sizeof(big), 1000, sent, sizeof(sent), &v, &left) == TC_STLS_FAILED);
    CHECK(v.kind == TC_KIND_STARTTLS_PROTOCOL_MISMATCH && strstr(v.detail, "longer than 4096") != NULL);
    for (size_t i = 0; i + 10 <= sizeof(big); i += 10)
        memcpy(big + i, "220-xxxx\r\n", 10);
    CHECK(run(TC_STARTTLS_SMTP, big, sizeof(big), 1000, sent, sizeof(sent), &v, &left) == TC_STLS_FAILED);
    CHECK(v.kind == TC_KIND_STARTTLS_PROTOCOL_MISMATCH && strstr(v.detail, "did not end within 65536") != NULL);

    /* The transport's verdicts. */
    tc_stls s;
    tc_error err;
    CHECK(tc_stls_init(&s, TC_STARTTLS_SMTP, "h", &err) == TC_OK);
    tc_stls_verdict_timeout(&s, 2.0, &v);
    CHECK(v.kind == TC_KIND_STARTTLS_PROTOCOL_MISMATCH && strstr(v.detail, "no SMTP greeting came within 2.0 s"));
    tc_stls_verdict_closed(&s, ECONNRESET, &v);
    CHECK(v.kind == TC_KIND_STARTTLS_PROTOCOL_MISMATCH && strstr(v.detail, "reset the connection"));
    tc_stls_clear(&s);
    return TC_TEST_DONE();
}
