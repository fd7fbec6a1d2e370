/*
 * starttls.c - the plaintext dialogue a protocol speaks before TLS starts
 * (SMTP RFC 3207, IMAP RFC 3501 section 6.2.1, POP3 RFC 2595 section 4,
 * FTP RFC 4217 section 4, LDAP RFC 4511 section 4.14, PostgreSQL's
 * SSLRequest, MySQL's SSL request packet, XMPP RFC 6120 section 5).
 *
 * Bytes in, bytes out, no sockets (as handshake.c): live.c moves the bytes
 * under its deadline, a fuzz target drives it from memory.  Each protocol
 * is a row of DIALOGUES: a list of steps, each one what to send and how
 * its reply is read and judged.  What the server sends is bounded: one
 * line at most STLS_LINE_MAX bytes, one reply at most STLS_REPLY_MAX
 * bytes; past that the server is not speaking the protocol.  Server text
 * quoted in a verdict goes through tc_escape.
 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "live_internal.h"
#include "text.h"

/* The name this client gives itself in SMTP's EHLO (RFC 5321 section
 * 4.1.1.1 wants a domain; .invalid is reserved for names that are not). */
#define STLS_CLIENT_NAME "pytlscheck.invalid"

/* ---- the protocol names ---------------------------------------------- */

static const struct { tc_starttls proto; const char *name, *title, *a_title; } NAMES[] = {
    { TC_STARTTLS_SMTP, "smtp", "SMTP", "an SMTP" },
    { TC_STARTTLS_IMAP, "imap", "IMAP", "an IMAP" },
    { TC_STARTTLS_POP3, "pop3", "POP3", "a POP3" },
    { TC_STARTTLS_FTP, "ftp", "FTP", "an FTP" },
    { TC_STARTTLS_LDAP, "ldap", "LDAP", "an LDAP" },
    { TC_STARTTLS_POSTGRES, "postgres", "PostgreSQL", "a PostgreSQL" },
    { TC_STARTTLS_MYSQL, "mysql", "MySQL", "a MySQL" },
    { TC_STARTTLS_XMPP, "xmpp", "XMPP", "an XMPP" },
};
#define N_NAMES (sizeof(NAMES) / sizeof(NAMES[0]))

const char *tc_starttls_name(tc_starttls p)
{
    for (size_t i = 0; i < N_NAMES; i++)
        if (NAMES[i].proto == p)
            return NAMES[i].name;
    return NULL;
}

int tc_starttls_from_name(const char *name, tc_starttls *out)
{
    for (size_t i = 0; name != NULL && i < N_NAMES; i++)
        if (strcmp(NAMES[i].name, name) == 0) {
            *out = NAMES[i].proto;
            return 1;
        }
    return 0;
}

static const char *title(tc_starttls p)
{
    for (size_t i = 0; i < N_NAMES; i++)
        if (NAMES[i].proto == p)
            return NAMES[i].title;
    return "STARTTLS";
}

/* "an SMTP" */
static const char *a_title(tc_starttls p)
{
    for (size_t i = 0; i < N_NAMES; i++)
        if (NAMES[i].proto == p)
            return NAMES[i].a_title;
    return "a STARTTLS";
}

/* ---- the dialogues, as data ------------------------------------------- */

/* How a complete reply is recognised. */
typedef enum form {
    F_NONE,        /* no reply: the step ends once sent (MySQL's SSL request) */
    F_CODE,        /* SMTP / FTP: "250-..." lines up to "250 ..." */
    F_IMAP_GREET,  /* one untagged line: "* OK ..." */
    F_IMAP_TAGGED, /* untagged lines up to the line tagged with tag */
    F_POP_LINE,    /* one line: "+OK ..." or "-ERR ..." */
    F_POP_MULTI,   /* "+OK" then lines up to ".", or one "-ERR" line */
    F_LDAP,        /* one BER LDAPMessage: an ExtendedResponse */
    F_PG_BYTE,     /* one byte: 'S' or 'N' (or an ErrorResponse) */
    F_MYSQL,       /* one packet: the server's initial handshake */
    F_XMPP_FEAT,   /* the stream header, then <stream:features> */
    F_XMPP_TLS     /* <proceed/> or <failure/> */
} form;

/* What a well-formed reply that is not the good one means. */
typedef enum on_bad { B_REFUSED, B_UNAVAILABLE, B_SKIP } on_bad;

typedef struct step {
    const char *send;         /* sent before reading (may hold "{name}": the server's); NULL: none */
    size_t send_len;          /* for binary sends (0: strlen after formatting) */
    form form;
    const char *ok;           /* a good reply starts with this (text forms) */
    const char *ok2;          /* or this, or NULL */
    const char *tag;          /* F_IMAP_TAGGED: the command's tag */
    const char *need;         /* a capability the reply must list, or NULL */
    on_bad bad;
    const char *what;         /* "greeting", "reply to EHLO": said as "the SMTP server's ..." */
} step;

#define MAX_STEPS 3

/* An LDAP ExtendedRequest for StartTLS (RFC 4511 section 4.14.1), message 1:
 * SEQUENCE { INTEGER 1, [APPLICATION 23] { [0] "1.3.6.1.4.1.1466.20037" } } */
static const char LDAP_STARTTLS[] =
    "\x30\x1d\x02\x01\x01\x77\x18\x80\x16" "1.3.6.1.4.1.1466.20037";
/* PostgreSQL's SSLRequest: length 8, code 80877103 (1234 << 16 | 5679). */
static const char PG_SSLREQUEST[] = "\x00\x00\x00\x08\x04\xd2\x16\x2f";
/* MySQL's SSL request (protocol 4.1 HandshakeResponse cut before the
 * user name): length 32, sequence 1; capabilities CLIENT_LONG_PASSWORD |
 * CLIENT_PROTOCOL_41 | CLIENT_SSL | CLIENT_TRANSACTIONS |
 * CLIENT_SECURE_CONNECTION; max packet 16 MiB; charset utf8mb4 (45); 23
 * bytes of zeros. */
static const char MYSQL_SSLREQUEST[] =
    "\x20\x00\x00\x01" "\x01\xaa\x00\x00" "\x00\x00\x00\x01" "\x2d"
    "\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00";
#define MYSQL_CLIENT_SSL 0x0800u

static const struct dialogue {
    tc_starttls proto;
    step steps[MAX_STEPS];
} DIALOGUES[] = {
    { TC_STARTTLS_SMTP, {
        { NULL, 0, F_CODE, "220", NULL, NULL, NULL, B_REFUSED, "greeting" },
        { "EHLO " STLS_CLIENT_NAME "\r\n", 0, F_CODE, "250", NULL, NULL, "STARTTLS", B_UNAVAILABLE,
          "reply to EHLO" },
        { "STARTTLS\r\n", 0, F_CODE, "220", NULL, NULL, NULL, B_REFUSED, "reply to STARTTLS" },
    } },
    { TC_STARTTLS_IMAP, {
        { NULL, 0, F_IMAP_GREET, "* OK", "* PREAUTH", NULL, NULL, B_REFUSED, "greeting" },
        { "a1 CAPABILITY\r\n", 0, F_IMAP_TAGGED, "a1 OK", NULL, "a1", "STARTTLS", B_UNAVAILABLE,
          "reply to CAPABILITY" },
        { "a2 STARTTLS\r\n", 0, F_IMAP_TAGGED, "a2 OK", NULL, "a2", NULL, B_REFUSED,
          "reply to STARTTLS" },
    } },
    { TC_STARTTLS_POP3, {
        { NULL, 0, F_POP_LINE, "+OK", NULL, NULL, NULL, B_REFUSED, "greeting" },
        { "CAPA\r\n", 0, F_POP_MULTI, "+OK", NULL, NULL, "STLS", B_SKIP, "reply to CAPA" },
        { "STLS\r\n", 0, F_POP_LINE, "+OK", NULL, NULL, NULL, B_REFUSED, "reply to STLS" },
    } },
    { TC_STARTTLS_FTP, {
        { NULL, 0, F_CODE, "220", NULL, NULL, NULL, B_REFUSED, "greeting" },
        { "FEAT\r\n", 0, F_CODE, "211", NULL, NULL, "AUTH TLS", B_SKIP, "reply to FEAT" },
        { "AUTH TLS\r\n", 0, F_CODE, "234", NULL, NULL, NULL, B_REFUSED, "reply to AUTH TLS" },
    } },
    { TC_STARTTLS_LDAP, {
        { LDAP_STARTTLS, sizeof(LDAP_STARTTLS) - 1, F_LDAP, NULL, NULL, NULL, NULL, B_REFUSED,
          "reply to the StartTLS extended operation" },
    } },
    { TC_STARTTLS_POSTGRES, {
        { PG_SSLREQUEST, sizeof(PG_SSLREQUEST) - 1, F_PG_BYTE, NULL, NULL, NULL, NULL, B_REFUSED,
          "reply to the SSLRequest" },
    } },
    { TC_STARTTLS_MYSQL, {
        { NULL, 0, F_MYSQL, NULL, NULL, NULL, NULL, B_REFUSED, "greeting (the initial handshake packet)" },
        { MYSQL_SSLREQUEST, sizeof(MYSQL_SSLREQUEST) - 1, F_NONE, NULL, NULL, NULL, NULL, B_REFUSED,
          "SSL request" },
    } },
    { TC_STARTTLS_XMPP, {
        { "<?xml version='1.0'?><stream:stream xmlns='jabber:client' "
          "xmlns:stream='http://etherx.jabber.org/streams' to='{name}' version='1.0'>", 0,
          F_XMPP_FEAT, NULL, NULL, NULL, "urn:ietf:params:xml:ns:xmpp-tls", B_UNAVAILABLE,
          "stream features" },
        { "<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>", 0, F_XMPP_TLS, NULL, NULL, NULL,
          NULL, B_REFUSED, "reply to <starttls/>" },
    } },
};

static const struct dialogue *dialogue_of(tc_starttls p)
{
    for (size_t i = 0; i < sizeof(DIALOGUES) / sizeof(DIALOGUES[0]); i++)
        if (DIALOGUES[i].proto == p)
            return &DIALOGUES[i];
    return NULL;
}

static const step *cur(const tc_stls *s)
{
    const struct dialogue *d = dialogue_of(s->proto);
    return d != NULL && s->stage < MAX_STEPS ? &d->steps[s->stage] : NULL;
}

/* ---- set-up ------------------------------------------------------------ */

/* Queues the current step's command (if any) after what is still unsent
 * (a server that answers ahead of its time makes two due at once). */
static void queue_send(tc_stls *s)
{
    const step *st = cur(s);
    memmove(s->out, s->out + s->out_off, s->out_len - s->out_off);
    s->out_len -= s->out_off;
    s->out_off = 0;
    if (st == NULL || st->send == NULL)
        return;
    size_t room = sizeof(s->out) - s->out_len;
    if (st->send_len > 0) {
        size_t k = st->send_len < room ? st->send_len : room;
        memcpy(s->out + s->out_len, st->send, k);
        s->out_len += k;
    } else {
        /* "{name}" in the command is the server's name. */
        const char *mark = strstr(st->send, "{name}");
        size_t head = mark ? (size_t)(mark - st->send) : strlen(st->send);
        const char *tail = mark ? mark + 6 : "";
        int n = snprintf((char *)s->out + s->out_len, room, "%.*s%s%s", (int)head, st->send,
                         mark ? s->domain : "", tail);
        s->out_len += n < 0 ? 0 : (size_t)n < room ? (size_t)n : room - 1;
    }
}

/* A step with no form ends when its bytes are queued. */
static int begin_step(tc_stls *s)
{
    queue_send(s);
    s->reply_bytes = 0;
    s->reply_lines = 0;
    s->need_seen = 0;
    s->line0[0] = '\0';
    const step *st = cur(s);
    if (st != NULL && st->form == F_NONE) {
        s->done = 1;
        return 1;
    }
    return 0;
}

tc_status tc_stls_init(tc_stls *s, tc_starttls proto, const char *domain, tc_error *err)
{
    memset(s, 0, sizeof(*s));
    if (dialogue_of(proto) == NULL)
        return tc_error_set(err, TC_E_INVALID, "unknown STARTTLS protocol %d", (int)proto);
    if ((s->buf = malloc(TC_STLS_BUF)) == NULL)
        return tc_error_set(err, TC_E_NOMEM, "out of memory for the STARTTLS dialogue");
    s->proto = proto;
    /* XMPP names the server's domain: the name verified (no quote can
     * reach the stream header: it is a normalised host name or address). */
    snprintf(s->domain, sizeof(s->domain), "%s", domain ? domain : "");
    for (char *q = s->domain; *q; q++)
        if (*q == '\'' || *q == '<' || *q == '>' || *q == '&')
            *q = '_';
    (void)begin_step(s);
    return TC_OK;
}

void tc_stls_clear(tc_stls *s)
{
    free(s->buf);
    s->buf = NULL;
    s->len = 0;
}

size_t tc_stls_out_peek(const tc_stls *s, const unsigned char **p)
{
    *p = s->out + s->out_off;
    return s->out_len - s->out_off;
}

void tc_stls_out_consume(tc_stls *s, size_t n)
{
    s->out_off += n < s->out_len - s->out_off ? n : s->out_len - s->out_off;
}

size_t tc_stls_leftover(const tc_stls *s, const unsigned char **p)
{
    *p = s->buf;
    return s->done ? s->len : 0;
}

/* ---- verdicts ------------------------------------------------------------ */

static void quote(char *out, size_t outlen, const unsigned char *p, size_t n)
{
    tc_escape(out, outlen, p, n, 200);
}

static tc_stls_result verdict(tc_stls *s, tc_kind kind, tc_verdict *v, const char *fmt, ...)
    TC_PRINTF(4, 5);

static tc_stls_result verdict(tc_stls *s, tc_kind kind, tc_verdict *v, const char *fmt, ...)
{
    va_list ap;
    memset(v, 0, sizeof(*v));
    v->kind = kind;
    snprintf(v->reason, sizeof(v->reason), "%s",
             kind == TC_KIND_STARTTLS_UNAVAILABLE ? "STARTTLS not offered"
             : kind == TC_KIND_STARTTLS_REFUSED ? "STARTTLS refused" : "not this protocol");
    va_start(ap, fmt);
    vsnprintf(v->detail, sizeof(v->detail), fmt, ap);
    va_end(ap);
    s->failed = 1;
    return TC_STLS_FAILED;
}

static tc_stls_result mismatch_line(tc_stls *s, tc_verdict *v, const unsigned char *line, size_t n)
{
    char q[4 * 200 + 8];
    const step *st = cur(s);
    quote(q, sizeof(q), line, n);
    return verdict(s, TC_KIND_STARTTLS_PROTOCOL_MISMATCH, v,
                   "instead of %s server's %s it sent '%s'", a_title(s->proto),
                   st ? st->what : "reply", q);
}

/* ", it offers: PIPELINING, SIZE 10240000" or "". */
static const char *offers(const tc_stls *s, char *out, size_t outlen)
{
    snprintf(out, outlen, "%s%s", s->offered[0] ? " (what it offers: " : "", s->offered);
    if (s->offered[0])
        snprintf(out + strlen(out), outlen - strlen(out), ")");
    return out;
}

/* The step's reply was complete and well-formed: good (next step, or
 * done) or bad (judged by the step's on_bad). */
static tc_stls_result judge(tc_stls *s, int good, tc_verdict *v)
{
    const struct dialogue *d = dialogue_of(s->proto);
    const step *st = cur(s);
    const char *proto = title(s->proto);
    char off[sizeof(s->offered) + 40];
    if (good && st->need != NULL && !s->need_seen) {
        if (st->bad != B_SKIP)
            return verdict(s, TC_KIND_STARTTLS_UNAVAILABLE, v, "the %s server's %s does not list %s%s",
                           proto, st->what, st->need, offers(s, off, sizeof(off)));
        s->need_missing = st->need;    /* said below, if the upgrade fails */
    }
    if (!good) {
        if (st->bad == B_UNAVAILABLE)
            return verdict(s, TC_KIND_STARTTLS_UNAVAILABLE, v, "the %s server's %s was '%s'%s",
                           proto, st->what, s->line0, offers(s, off, sizeof(off)));
        if (st->bad == B_REFUSED && s->need_missing != NULL)
            return verdict(s, TC_KIND_STARTTLS_UNAVAILABLE, v,
                           "the %s server does not list %s among its capabilities%s, and its %s was '%s'",
                           proto, s->need_missing, offers(s, off, sizeof(off)), st->what, s->line0);
        if (st->bad == B_REFUSED)
            return verdict(s, TC_KIND_STARTTLS_REFUSED, v, "the %s server's %s was '%s'",
                           proto, st->what, s->line0);
        /* B_SKIP: the command is optional (CAPA, FEAT): go on. */
    }
    if (s->stage + 1 >= MAX_STEPS ||
        (d->steps[s->stage + 1].form == F_NONE && d->steps[s->stage + 1].send == NULL)) {
        s->done = 1;
        return TC_STLS_DONE;
    }
    s->stage++;
    if (begin_step(s))
        return TC_STLS_DONE;
    return TC_STLS_WANT;
}

/* ---- text replies -------------------------------------------------------- */

/* Whether the line lists token (case-insensitive, as a whole word). */
static int has_token(const unsigned char *line, size_t n, const char *token)
{
    size_t k = strlen(token);
    for (size_t i = 0; i + k <= n; i++) {
        if (strncasecmp((const char *)line + i, token, k) != 0)
            continue;
        int before = i == 0 || !isalnum(line[i - 1]);
        int after = i + k == n || !isalnum(line[i + k]);
        if (before && after)
            return 1;
    }
    return 0;
}

/* Adds what one line offers to s->offered ("PIPELINING, SIZE 1024"). */
static void offer(tc_stls *s, const unsigned char *p, size_t n)
{
    char q[STLS_OFFER_ITEM * 4 + 8];
    tb b;
    const step *st = cur(s);
    if (st == NULL || st->need == NULL)
        return;       /* only a capability list says what is offered */
    while (n > 0 && (*p == ' ' || *p == '\t')) {
        p++;
        n--;
    }
    if (n == 0)
        return;
    tc_escape(q, sizeof(q), p, n, STLS_OFFER_ITEM);
    tb_init(&b, s->offered + strlen(s->offered), sizeof(s->offered) - strlen(s->offered));
    tb_addf(&b, "%s%s", s->offered[0] ? ", " : "", q);
}

static int is_code_line(const unsigned char *p, size_t n)
{
    return n >= 3 && isdigit(p[0]) && isdigit(p[1]) && isdigit(p[2]) &&
           (n == 3 || p[3] == ' ' || p[3] == '-');
}

/* One complete line (without its CR LF) of the current reply: 1 when it
 * ends the reply, 0 when more lines follow, -1 when the verdict is set. */
static int line_in(tc_stls *s, const unsigned char *p, size_t n, int *good, tc_verdict *v)
{
    const step *st = cur(s);
    if (s->reply_lines++ == 0)
        quote(s->line0, sizeof(s->line0), p, n);
    switch (st->form) {
    case F_CODE:
        if (!is_code_line(p, n) || (s->reply_lines > 1 && memcmp(p, s->code, 3) != 0)) {
            /* FTP lets the middle lines of a reply be any text (RFC 959
             * section 4.2); SMTP's all carry the code. */
            if (s->reply_lines > 1 && s->proto == TC_STARTTLS_FTP) {
                if (st->need && has_token(p, n, st->need))
                    s->need_seen = 1;
                offer(s, p, n);
                return 0;
            }
            mismatch_line(s, v, p, n);
            return -1;
        }
        if (s->reply_lines == 1)
            memcpy(s->code, p, 3);
        if (st->need && has_token(p + 3, n - 3, st->need))
            s->need_seen = 1;
        if (s->reply_lines > 1 && n > 4)
            offer(s, p + 4, n - 4);
        if (n == 3 || p[3] == ' ') {
            *good = memcmp(s->code, st->ok, 3) == 0;
            return 1;
        }
        return 0;
    case F_IMAP_GREET:
        if (n < 2 || p[0] != '*' || p[1] != ' ') {
            mismatch_line(s, v, p, n);
            return -1;
        }
        *good = (n >= strlen(st->ok) && strncasecmp((const char *)p, st->ok, strlen(st->ok)) == 0) ||
                (st->ok2 && n >= strlen(st->ok2) && strncasecmp((const char *)p, st->ok2, strlen(st->ok2)) == 0);
        return 1;
    case F_IMAP_TAGGED: {
        size_t tl = strlen(st->tag);
        if (n >= 2 && p[0] == '*' && p[1] == ' ') {
            if (n >= 13 && strncasecmp((const char *)p, "* CAPABILITY ", 13) == 0) {
                if (st->need && has_token(p + 13, n - 13, st->need))
                    s->need_seen = 1;
                offer(s, p + 13, n - 13);
            }
            s->reply_lines = 0;    /* quote the tagged line, not this one */
            return 0;
        }
        if (n > tl && memcmp(p, st->tag, tl) == 0 && p[tl] == ' ') {
            quote(s->line0, sizeof(s->line0), p, n);
            *good = n >= strlen(st->ok) && strncasecmp((const char *)p, st->ok, strlen(st->ok)) == 0;
            return 1;
        }
        if (n >= 2 && p[0] == '+' && p[1] == ' ')
            return 0;              /* a continuation request: not ours, go on */
        mismatch_line(s, v, p, n);
        return -1;
    }
    case F_POP_LINE:
    case F_POP_MULTI:
        if (s->reply_lines == 1) {
            int ok = n >= 3 && memcmp(p, "+OK", 3) == 0;
            int err = n >= 4 && memcmp(p, "-ERR", 4) == 0;
            if (!ok && !err) {
                mismatch_line(s, v, p, n);
                return -1;
            }
            *good = s->first_good = ok;
            return st->form == F_POP_LINE || !ok;
        }
        if (n == 1 && p[0] == '.') {
            *good = s->first_good;
            return 1;
        }
        if (st->need && has_token(p, n, st->need))
            s->need_seen = 1;
        offer(s, p, n);
        return 0;
    default:
        return 0;
    }
}

/* Takes complete lines out of s->buf. */
static tc_stls_result lines(tc_stls *s, tc_verdict *v)
{
    size_t start = 0;
    for (;;) {
        unsigned char *nl = memchr(s->buf + start, '\n', s->len - start);
        if (nl == NULL)
            break;
        size_t end = (size_t)(nl - s->buf), n = end - start;
        if (n > 0 && s->buf[start + n - 1] == '\r')
            n--;
        int good = 0;
        int r = line_in(s, s->buf + start, n, &good, v);
        start = end + 1;
        if (r < 0)
            return TC_STLS_FAILED;
        if (r > 0) {
            memmove(s->buf, s->buf + start, s->len - start);
            s->len -= start;
            start = 0;
            tc_stls_result jr = judge(s, good, v);
            if (jr != TC_STLS_WANT)
                return jr;
        }
    }
    memmove(s->buf, s->buf + start, s->len - start);
    s->len -= start;
    if (s->len > STLS_LINE_MAX) {
        char q[4 * 60 + 8];
        const step *st = cur(s);
        quote(q, sizeof(q), s->buf, s->len < 60 ? s->len : 60);
        return verdict(s, TC_KIND_STARTTLS_PROTOCOL_MISMATCH, v,
                       "in its %s it sent a line longer than %d bytes ('%s...'), which no %s "
                       "server sends", st->what, STLS_LINE_MAX, q, title(s->proto));
    }
    return TC_STLS_WANT;
}

/* ---- binary and XML replies ------------------------------------------------ */

static const struct { int code; const char *name; } LDAP_RESULTS[] = {
    { 1, "operationsError" }, { 2, "protocolError" }, { 3, "timeLimitExceeded" },
    { 8, "strongerAuthRequired" }, { 11, "adminLimitExceeded" }, { 12, "unavailableCriticalExtension" },
    { 50, "insufficientAccessRights" }, { 51, "busy" }, { 52, "unavailable" },
    { 53, "unwillingToPerform" }, { 80, "other" },
};

/* A BER length at p (n bytes): its value and the bytes it takes, or 0
 * when incomplete, -1 when not a definite length this reader takes. */
static int ber_len(const unsigned char *p, size_t n, size_t *len, size_t *used)
{
    if (n < 1)
        return 0;
    if (p[0] < 0x80) {
        *len = p[0];
        *used = 1;
        return 1;
    }
    size_t k = p[0] & 0x7f;
    if (k == 0 || k > 3)
        return -1;
    if (n < 1 + k)
        return 0;
    *len = 0;
    for (size_t i = 0; i < k; i++)
        *len = *len << 8 | p[1 + i];
    *used = 1 + k;
    return 1;
}

/* One TLV at p: tag, content offset and length; 1 / 0 incomplete / -1 bad. */
static int ber_tlv(const unsigned char *p, size_t n, unsigned char *tag, size_t *off, size_t *len)
{
    size_t used;
    if (n < 2)
        return 0;
    *tag = p[0];
    int r = ber_len(p + 1, n - 1, len, &used);
    if (r <= 0)
        return r;
    *off = 1 + used;
    return 1;
}

static tc_stls_result ldap_reply(tc_stls *s, tc_verdict *v)
{
    unsigned char tag;
    size_t off, len;
    const step *st = cur(s);
    int r = ber_tlv(s->buf, s->len, &tag, &off, &len);
    if (r < 0 || (r > 0 && tag != 0x30) || (s->len > 0 && s->buf[0] != 0x30))
        return mismatch_line(s, v, s->buf, s->len < 40 ? s->len : 40);
    if (r == 0 || s->len < off + len) {
        if (r > 0 && off + len > TC_STLS_BUF)
            return verdict(s, TC_KIND_STARTTLS_PROTOCOL_MISMATCH, v,
                           "in its %s it announced an LDAP message of %zu bytes, more than "
                           "any StartTLS reply takes", st->what, len);
        return TC_STLS_WANT;
    }
    /* The message: messageID, then the protocolOp. */
    const unsigned char *m = s->buf + off;
    size_t mn = len, o2, l2;
    unsigned char t2;
    if (ber_tlv(m, mn, &t2, &o2, &l2) != 1 || t2 != 0x02 || o2 + l2 > mn)
        return mismatch_line(s, v, s->buf, s->len < 40 ? s->len : 40);
    int msgid = l2 == 1 ? m[o2] : -1;
    m += o2 + l2;
    mn -= o2 + l2;
    if (ber_tlv(m, mn, &t2, &o2, &l2) != 1 || o2 + l2 > mn || t2 != 0x78)
        return mismatch_line(s, v, s->buf, s->len < 40 ? s->len : 40);
    const unsigned char *op = m + o2;
    size_t opn = l2;
    unsigned char t3;
    size_t o3, l3;
    /* resultCode: an ENUMERATED of at most 3 bytes (RFC 4511 codes are < 128). */
    if (ber_tlv(op, opn, &t3, &o3, &l3) != 1 || t3 != 0x0a || l3 < 1 || l3 > 3 || o3 + l3 > opn)
        return mismatch_line(s, v, s->buf, s->len < 40 ? s->len : 40);
    int code = 0;
    for (size_t i = 0; i < l3; i++)
        code = code << 8 | op[o3 + i];      /* < 2^24: no overflow */
    /* matchedDN, then diagnosticMessage (both OCTET STRINGs). */
    char diag[4 * 200 + 8] = "";
    size_t at = o3 + l3;
    for (int field = 0; field < 2 && at < opn; field++) {
        unsigned char t4;
        size_t o4, l4;
        if (ber_tlv(op + at, opn - at, &t4, &o4, &l4) != 1 || t4 != 0x04 || at + o4 + l4 > opn)
            break;
        if (field == 1)
            quote(diag, sizeof(diag), op + at + o4, l4);
        at += o4 + l4;
    }
    /* Whatever follows the message is TLS (nothing, in practice). */
    size_t total = off + len;
    memmove(s->buf, s->buf + total, s->len - total);
    s->len -= total;
    if (code == 0 && msgid == 1) {
        s->done = 1;
        return TC_STLS_DONE;
    }
    const char *name = "an unknown result";
    for (size_t i = 0; i < sizeof(LDAP_RESULTS) / sizeof(LDAP_RESULTS[0]); i++)
        if (LDAP_RESULTS[i].code == code)
            name = LDAP_RESULTS[i].name;
    if (msgid == 0)
        return verdict(s, TC_KIND_STARTTLS_REFUSED, v,
                       "the LDAP server sent a notice of disconnection instead (result %d, %s%s%s%s)",
                       code, name, diag[0] ? ": '" : "", diag, diag[0] ? "'" : "");
    /* protocolError: the extended operation is not supported;
     * unavailable: no TLS configured (slapd says "TLS not configured"). */
    if (code == 2 || code == 52)
        return verdict(s, TC_KIND_STARTTLS_UNAVAILABLE, v,
                       "the LDAP server answered the StartTLS extended operation with result %d "
                       "(%s)%s%s%s", code, name, diag[0] ? ": '" : "", diag, diag[0] ? "'" : "");
    return verdict(s, TC_KIND_STARTTLS_REFUSED, v,
                   "the LDAP server answered the StartTLS extended operation with result %d (%s)%s%s%s",
                   code, name, diag[0] ? ": '" : "", diag, diag[0] ? "'" : "");
}

static tc_stls_result pg_reply(tc_stls *s, tc_verdict *v)
{
    if (s->len < 1)
        return TC_STLS_WANT;
    unsigned char b = s->buf[0];
    if (b == 'S') {
        memmove(s->buf, s->buf + 1, s->len - 1);
        s->len--;
        s->done = 1;
        return TC_STLS_DONE;
    }
    if (b == 'N')
        return verdict(s, TC_KIND_STARTTLS_UNAVAILABLE, v,
                       "the PostgreSQL server answered the SSLRequest with 'N': it accepts "
                       "only unencrypted connections (ssl = off in postgresql.conf)");
    if (b == 'E') {
        /* An ErrorResponse: 'E', length, fields (type byte, C string)...;
         * the message is field 'M'.  Wait for the whole of it (bounded). */
        if (s->len < 5)
            return TC_STLS_WANT;
        size_t len = (size_t)s->buf[1] << 24 | (size_t)s->buf[2] << 16 | (size_t)s->buf[3] << 8 | s->buf[4];
        if (len < 4 || len + 1 > TC_STLS_BUF)
            return mismatch_line(s, v, s->buf, s->len < 40 ? s->len : 40);
        if (s->len < len + 1)
            return TC_STLS_WANT;
        char msg[4 * 200 + 8] = "";
        for (size_t i = 5; i < len + 1 && s->buf[i] != 0;) {
            unsigned char type = s->buf[i++];
            const unsigned char *str = s->buf + i;
            const unsigned char *z = memchr(str, 0, len + 1 - i);
            if (z == NULL)
                break;
            if (type == 'M')
                quote(msg, sizeof(msg), str, (size_t)(z - str));
            i += (size_t)(z - str) + 1;
        }
        return verdict(s, TC_KIND_STARTTLS_REFUSED, v,
                       "the PostgreSQL server answered the SSLRequest with an error: '%s'", msg);
    }
    return mismatch_line(s, v, s->buf, s->len < 40 ? s->len : 40);
}

static tc_stls_result mysql_reply(tc_stls *s, tc_verdict *v)
{
    if (s->len < 4)
        return TC_STLS_WANT;
    size_t len = (size_t)s->buf[0] | (size_t)s->buf[1] << 8 | (size_t)s->buf[2] << 16;
    if (len == 0 || len + 4 > TC_STLS_BUF || s->buf[3] != 0)
        return mismatch_line(s, v, s->buf, s->len < 40 ? s->len : 40);
    if (s->len < len + 4)
        return TC_STLS_WANT;
    const unsigned char *p = s->buf + 4;
    if (p[0] == 0xff) {
        /* ERR packet: 0xff, code (2), message (no SQL state before the handshake). */
        char msg[4 * 200 + 8] = "";
        if (len > 3)
            quote(msg, sizeof(msg), p + 3, len - 3);
        return verdict(s, TC_KIND_STARTTLS_REFUSED, v,
                       "the MySQL server sent an error instead of its greeting (%u): '%s'",
                       len >= 3 ? (unsigned)(p[1] | p[2] << 8) : 0u, msg);
    }
    if (p[0] != 10)
        return mismatch_line(s, v, s->buf, s->len < 40 ? s->len : 40);
    const unsigned char *z = memchr(p + 1, 0, len - 1);
    /* version, NUL, connection id (4), scramble (8), filler (1), caps (2) */
    if (z == NULL || (size_t)(z - p) + 1 + 4 + 8 + 1 + 2 > len)
        return mismatch_line(s, v, s->buf, s->len < 40 ? s->len : 40);
    char version[4 * 60 + 8];
    quote(version, sizeof(version), p + 1, (size_t)(z - p - 1));
    const unsigned char *caps = z + 1 + 4 + 8 + 1;
    unsigned flags = caps[0] | (unsigned)caps[1] << 8;
    s->len = 0;          /* the next bytes are TLS */
    if (!(flags & MYSQL_CLIENT_SSL))
        return verdict(s, TC_KIND_STARTTLS_UNAVAILABLE, v,
                       "the MySQL server (version '%s') does not announce SSL in its greeting's "
                       "capability flags (0x%04x): TLS is not configured (ssl_cert, ssl_key)",
                       version, flags);
    return judge(s, 1, v);
}

/* Whether (p, n) holds needle. */
static const unsigned char *find(const unsigned char *p, size_t n, const char *needle)
{
    return memmem(p, n, needle, strlen(needle));
}

static tc_stls_result xmpp_reply(tc_stls *s, tc_verdict *v)
{
    const step *st = cur(s);
    size_t i = 0;
    while (i < s->len && (s->buf[i] == ' ' || s->buf[i] == '\r' || s->buf[i] == '\n' || s->buf[i] == '\t'))
        i++;
    if (i < s->len && s->buf[i] != '<')
        return mismatch_line(s, v, s->buf + i, s->len - i < 60 ? s->len - i : 60);
    const unsigned char *err = find(s->buf, s->len, "<stream:error");
    if (err != NULL) {
        const unsigned char *end = find(err, s->len - (size_t)(err - s->buf), "</stream:error>");
        if (end == NULL && s->len < TC_STLS_BUF)
            return TC_STLS_WANT;
        size_t n = end ? (size_t)(end - err) + 15 : s->len - (size_t)(err - s->buf);
        char q[4 * 200 + 8];
        quote(q, sizeof(q), err, n);
        /* host-unknown: the stream names a domain the server does not serve. */
        int unknown = find(err, n, "host-unknown") != NULL;
        return verdict(s, TC_KIND_STARTTLS_REFUSED, v,
                       "the XMPP server ended the stream with an error: '%s'%s%s%s", q,
                       unknown ? " (the stream was addressed to '" : "", unknown ? s->domain : "",
                       unknown ? "': give the XMPP domain it serves as server_name=, --server-name)" : "");
    }
    if (st->form == F_XMPP_FEAT) {
        const unsigned char *f = find(s->buf, s->len, "<stream:features");
        const unsigned char *end = f ? find(f, s->len - (size_t)(f - s->buf), "</stream:features>") : NULL;
        const unsigned char *empty = f ? find(f, s->len - (size_t)(f - s->buf), "<stream:features/>") : NULL;
        if (end == NULL && empty == NULL) {
            if (s->len >= TC_STLS_BUF)
                return verdict(s, TC_KIND_STARTTLS_PROTOCOL_MISMATCH, v,
                               "the XMPP server sent %d bytes without its stream features", TC_STLS_BUF);
            return TC_STLS_WANT;
        }
        size_t fn = end ? (size_t)(end - f) : (size_t)(empty - f);
        /* What follows the features is the next reply's. */
        size_t used = end ? (size_t)(end - s->buf) + strlen("</stream:features>")
                          : (size_t)(empty - s->buf) + strlen("<stream:features/>");
        s->need_seen = find(f, fn, st->need) != NULL;
        /* What it offers: the names of the features' elements. */
        for (const unsigned char *q = f + 1; q < f + fn; q++) {
            if (*q != '<' || q + 1 >= f + fn || q[1] == '/')
                continue;
            size_t k = 1;
            while (q + k < f + fn && (isalnum(q[k]) || q[k] == '-' || q[k] == '_' || q[k] == ':'))
                k++;
            offer(s, q + 1, k - 1);
        }
        memmove(s->buf, s->buf + used, s->len - used);
        s->len -= used;
        return judge(s, 1, v);
    }
    const unsigned char *proceed = find(s->buf, s->len, "<proceed");
    const unsigned char *fail = find(s->buf, s->len, "<failure");
    if (proceed != NULL) {
        const unsigned char *gt = memchr(proceed, '>', s->len - (size_t)(proceed - s->buf));
        if (gt == NULL)
            return TC_STLS_WANT;
        size_t used = (size_t)(gt - s->buf) + 1;
        memmove(s->buf, s->buf + used, s->len - used);
        s->len -= used;
        s->done = 1;
        return TC_STLS_DONE;
    }
    if (fail != NULL)
        return verdict(s, TC_KIND_STARTTLS_REFUSED, v, "the XMPP server answered <starttls/> with <failure/>");
    if (s->len >= TC_STLS_BUF)
        return verdict(s, TC_KIND_STARTTLS_PROTOCOL_MISMATCH, v,
                       "the XMPP server sent %d bytes without answering <starttls/>", TC_STLS_BUF);
    return TC_STLS_WANT;
}

/* ---- feeding ----------------------------------------------------------------- */

static tc_stls_result parse(tc_stls *s, tc_verdict *v)
{
    const step *st = cur(s);
    switch (st->form) {
    case F_LDAP:
        return ldap_reply(s, v);
    case F_PG_BYTE:
        return pg_reply(s, v);
    case F_MYSQL:
        return mysql_reply(s, v);
    case F_XMPP_FEAT:
    case F_XMPP_TLS:
        return xmpp_reply(s, v);
    case F_NONE:
        return TC_STLS_DONE;
    default:
        return lines(s, v);
    }
}

tc_stls_result tc_stls_feed(tc_stls *s, const unsigned char *p, size_t n, size_t *used, tc_verdict *v)
{
    *used = 0;
    if (s->failed || s->buf == NULL)
        return TC_STLS_FAILED;   /* a verdict was given already */
    if (s->done)
        return TC_STLS_DONE;
    while (n > 0) {
        /* Only what the current step can read: the rest waits (it may be
         * TLS, after the last reply). */
        size_t room = TC_STLS_BUF - s->len;
        size_t k = n < room ? n : room;
        memcpy(s->buf + s->len, p, k);
        s->len += k;
        s->bytes_in += k;
        s->reply_bytes += k;
        *used += k;
        p += k;
        n -= k;
        /* A reply that completes a step may be followed by the next's. */
        tc_stls_result r;
        for (;;) {
            int stage = s->stage;
            r = parse(s, v);
            if (r != TC_STLS_WANT || s->stage == stage || s->len == 0)
                break;
        }
        if (r != TC_STLS_WANT)
            return r;
        if (s->reply_bytes > STLS_REPLY_MAX) {
            const step *st = cur(s);
            return verdict(s, TC_KIND_STARTTLS_PROTOCOL_MISMATCH, v,
                           "its %s did not end within %d bytes (%d lines so far), which no %s "
                           "server sends", st->what, STLS_REPLY_MAX, s->reply_lines,
                           title(s->proto));
        }
        if (s->len >= TC_STLS_BUF)
            return verdict(s, TC_KIND_STARTTLS_PROTOCOL_MISMATCH, v,
                           "its %s did not end within %d bytes", cur(s)->what, TC_STLS_BUF);
    }
    return TC_STLS_WANT;
}

int tc_stls_done(const tc_stls *s)
{
    return s->done;
}

void tc_stls_verdict_closed(const tc_stls *s, int sys_errno, tc_verdict *v)
{
    const step *st = cur(s);
    const char *how = sys_errno == ECONNRESET ? "reset the connection" : "closed the connection";
    tc_stls scratch = { .proto = s->proto };
    if (s->bytes_in == 0 && s->stage == 0) {
        (void)verdict(&scratch, TC_KIND_STARTTLS_PROTOCOL_MISMATCH, v,
                      "it %s without sending %s %s: not %s server, or one that rejects this "
                      "client at once", how, a_title(s->proto), st ? st->what : "greeting",
                      a_title(s->proto));
        return;
    }
    (void)verdict(&scratch, TC_KIND_STARTTLS_REFUSED, v, "the %s server %s instead of sending its %s",
                  title(s->proto), how, st ? st->what : "reply");
}

void tc_stls_verdict_timeout(const tc_stls *s, double seconds, tc_verdict *v)
{
    const step *st = cur(s);
    tc_stls scratch = { .proto = s->proto };
    const char *silent = "a server that waits for the client to speak first (HTTP, another "
                         "protocol, or TLS from the first byte as on ports 465, 993, 995 and "
                         "636) is silent like this";
    if (s->bytes_in == 0 && s->stage == 0) {
        (void)verdict(&scratch, TC_KIND_STARTTLS_PROTOCOL_MISMATCH, v,
                      "no %s %s came within %.1f s; %s", title(s->proto),
                      st ? st->what : "greeting", seconds, silent);
        return;
    }
    if (s->reply_bytes == 0) {
        (void)verdict(&scratch, TC_KIND_STARTTLS_PROTOCOL_MISMATCH, v,
                      "the %s server's %s did not come within %.1f s", title(s->proto),
                      st ? st->what : "reply", seconds);
        return;
    }
    (void)verdict(&scratch, TC_KIND_STARTTLS_PROTOCOL_MISMATCH, v,
                  "the %s server's %s did not end within %.1f s (%zu bytes so far)",
                  title(s->proto), st ? st->what : "reply", seconds, s->reply_bytes);
}
