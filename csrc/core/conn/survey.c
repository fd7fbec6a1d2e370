/*
 * survey.c - the probe's plan: which connection to open next, what it
 * offers, and what its answer means.
 *
 * No sockets and no clock here: live.c opens each connection (states
 * ST_SURVEY_CONNECT and ST_SURVEY of its machine) from the probe context
 * (every version, security level 0: the health check's own context is
 * never touched), lets tc_survey_next configure it, runs the handshake
 * only until the ServerHello flight is in (tc_survey_learned), closes it,
 * and hands the outcome to tc_survey_record.  One connection at a time:
 * a server that serves one client at a time (openssl s_server) never has
 * a probe connection queued behind another.
 *
 * The plan is the table PLAN below, one row per question, in order; a row
 * that enumerates repeats with what was found taken out of the offer
 * until the server refuses.  The whole probe opens at most
 * TC_PROBE_MAX_CONNECTIONS connections, the health check's included.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/err.h>
#include "live_internal.h"
#include "text.h"

/* TLS 1.3's suites (RFC 8446 appendix B.4), offered to enumerate them. */
static const char *const TLS13_SUITES[] = {
    "TLS_AES_256_GCM_SHA384", "TLS_CHACHA20_POLY1305_SHA256", "TLS_AES_128_GCM_SHA256",
    "TLS_AES_128_CCM_SHA256", "TLS_AES_128_CCM_8_SHA256",
};
#define N_TLS13 (sizeof(TLS13_SUITES) / sizeof(TLS13_SUITES[0]))

/* Key-exchange groups asked about, one per connection. */
static const char *const GROUPS[] = { "X25519", "P-256", "P-384", "P-521", "X448" };
#define N_GROUPS (sizeof(GROUPS) / sizeof(GROUPS[0]))

typedef enum row_kind {
    R_SUITES13, R_SUITES, R_GROUPS, R_RESUME_FIRST, R_RESUME_AGAIN, R_EARLY_FIRST, R_EARLY_AGAIN
} row_kind;

/* What 0-RTT sends: real bytes (early data "rejected" exists only if some
 * were sent), an idempotent request, as the replay caveat demands. */
static const char EARLY_BYTES[] = "HEAD / HTTP/1.0\r\n\r\n";

static const struct plan_row {
    row_kind kind;
    int min, max;            /* protocol versions offered */
    const char *ciphers;     /* TLS 1.2-and-below cipher string (R_SUITES) */
    int enumerate;           /* repeat without what was found until refused */
} PLAN[] = {
    /* TLS 1.3 and its suites. */
    { R_SUITES13, TLS1_3_VERSION, TLS1_3_VERSION, NULL, 1 },
    /* The warnings' questions first, so a budget cut never hides them. */
    { R_SUITES, TLS1_VERSION, TLS1_2_VERSION, "eNULL:aNULL:RC4:DES:3DES:EXP", 0 },
    { R_SUITES, TLS1_VERSION, TLS1_2_VERSION, "kRSA", 0 },
    { R_SUITES, TLS1_VERSION, TLS1_2_VERSION, "kDHE:!aNULL", 0 },
    /* Legacy versions: accepted or not. */
    { R_SUITES, TLS1_VERSION, TLS1_VERSION, "ALL:COMPLEMENTOFALL", 0 },
    { R_SUITES, TLS1_1_VERSION, TLS1_1_VERSION, "ALL:COMPLEMENTOFALL", 0 },
    /* Groups, one per connection. */
    { R_GROUPS, 0, 0, NULL, 0 },
    /* Resumption: a full handshake, closed cleanly (OpenSSL's server drops
     * a session whose connection ended without close_notify), then its
     * session offered again. */
    { R_RESUME_FIRST, TLS1_VERSION, TLS1_3_VERSION, "ALL:COMPLEMENTOFALL", 0 },
    { R_RESUME_AGAIN, TLS1_VERSION, TLS1_3_VERSION, "ALL:COMPLEMENTOFALL", 0 },
    /* 0-RTT (TLS 1.3): a fresh ticket, since tickets may be single-use
     * (anti-replay), then early bytes sent with it. */
    { R_EARLY_FIRST, TLS1_3_VERSION, TLS1_3_VERSION, NULL, 0 },
    { R_EARLY_AGAIN, TLS1_3_VERSION, TLS1_3_VERSION, NULL, 0 },
    /* TLS 1.2's suites, with what is left of the budget. */
    { R_SUITES, TLS1_2_VERSION, TLS1_2_VERSION, "ALL:COMPLEMENTOFALL", 1 },
};
#define N_PLAN ((int)(sizeof(PLAN) / sizeof(PLAN[0])))

static int version_index(int version)
{
    return version >= TLS1_VERSION && version <= TLS1_3_VERSION ? version - TLS1_VERSION : -1;
}

static int list_has(const tc_strlist *l, const char *s)
{
    for (size_t i = 0; i < l->count; i++)
        if (strcmp(l->items[i], s) == 0)
            return 1;
    return 0;
}

/* Appends a copy of s (best effort: an allocation failure loses one name). */
static void list_push(tc_strlist *l, const char *s)
{
    if (list_has(l, s))
        return;
    char *copy = strdup(s);
    char **items = copy ? realloc(l->items, (l->count + 1) * sizeof(*items)) : NULL;
    if (items == NULL) {
        free(copy);
        return;
    }
    l->items = items;
    l->items[l->count++] = copy;
}

void tc_survey_init(tc_survey *s, tc_probe *probe)
{
    memset(s, 0, sizeof(*s));
    s->probe = probe;
    s->planned = TC_PROBE_MAX_CONNECTIONS - probe->connections;
    s->handshake_ms = -1;
}

void tc_survey_clear(tc_survey *s)
{
    SSL_SESSION_free(s->session);
    s->session = NULL;
}

int tc_survey_full(const tc_survey *s)
{
    if (s->phase >= N_PLAN)
        return 0;
    row_kind k = PLAN[s->phase].kind;
    if (k == R_RESUME_FIRST || k == R_EARLY_FIRST)
        return 2;
    return k == R_RESUME_AGAIN || k == R_EARLY_AGAIN;
}

const char *tc_survey_early_bytes(const tc_survey *s)
{
    return s->phase < N_PLAN && PLAN[s->phase].kind == R_EARLY_AGAIN ? EARLY_BYTES : NULL;
}

static void next_row(tc_survey *s)
{
    s->phase++;
    s->in_phase = 0;
}

/* Configures ssl for the current row; 0 when the row has nothing left to
 * offer (then the caller moves on). */
static int configure(tc_survey *s, SSL *ssl)
{
    const struct plan_row *row = &PLAN[s->phase];
    char buf[2048];
    tb b;
    tb_init(&b, buf, sizeof(buf));
    if (row->kind == R_SUITES13) {
        const tc_strlist *found = &s->probe->suites[3];
        for (size_t i = 0; i < N_TLS13; i++)
            if (!list_has(found, TLS13_SUITES[i]))
                tb_addf(&b, "%s%s", b.len ? ":" : "", TLS13_SUITES[i]);
        if (b.len == 0 || b.len + 1 >= sizeof(buf))
            return 0;
        return SSL_set_min_proto_version(ssl, TLS1_3_VERSION) == 1 &&
               SSL_set_max_proto_version(ssl, TLS1_3_VERSION) == 1 &&
               SSL_set_ciphersuites(ssl, buf) == 1;
    }
    if (row->kind == R_GROUPS) {
        if ((size_t)s->in_phase >= N_GROUPS)
            return 0;
        int v13 = s->probe->protocols[3] == 1;
        const char *g = GROUPS[s->in_phase];
        tb_addf(&b, "%s", g);
        /* TLS 1.2: an ECDSA certificate's curve must be among the groups
         * offered (RFC 8422 5.1), so the NIST curves follow the one asked
         * about, which comes first; it counts only when chosen. */
        for (size_t i = 0; !v13 && i < N_GROUPS; i++)
            if (strncmp(GROUPS[i], "P-", 2) == 0 && strcmp(GROUPS[i], g) != 0)
                tb_addf(&b, ":%s", GROUPS[i]);
        return SSL_set_min_proto_version(ssl, v13 ? TLS1_3_VERSION : TLS1_VERSION) == 1 &&
               SSL_set_max_proto_version(ssl, v13 ? TLS1_3_VERSION : TLS1_2_VERSION) == 1 &&
               SSL_set_cipher_list(ssl, "ECDHE:@SECLEVEL=0") == 1 &&
               SSL_set1_groups_list(ssl, buf) == 1;
    }
    if (row->kind == R_EARLY_FIRST || row->kind == R_EARLY_AGAIN) {
        if (s->probe->protocols[3] != 1 || (row->kind == R_EARLY_AGAIN && s->session == NULL))
            return 0;
        SSL_clear_options(ssl, SSL_OP_NO_TICKET);
        return SSL_set_min_proto_version(ssl, TLS1_3_VERSION) == 1 &&
               SSL_set_max_proto_version(ssl, TLS1_3_VERSION) == 1 &&
               (row->kind == R_EARLY_FIRST || SSL_set_session(ssl, s->session) == 1);
    }
    if (row->kind == R_RESUME_FIRST || row->kind == R_RESUME_AGAIN) {
        if (row->kind == R_RESUME_AGAIN && s->session == NULL)
            return 0;
        /* The probe context turns tickets off (as every check does). */
        SSL_clear_options(ssl, SSL_OP_NO_TICKET);
        return SSL_set_min_proto_version(ssl, row->min) == 1 &&
               SSL_set_max_proto_version(ssl, row->max) == 1 &&
               SSL_set_cipher_list(ssl, "ALL:COMPLEMENTOFALL:@SECLEVEL=0") == 1 &&
               (row->kind == R_RESUME_FIRST || SSL_set_session(ssl, s->session) == 1);
    }
    tb_addf(&b, "%s", row->ciphers);
    if (row->enumerate) {
        const tc_strlist *found = &s->probe->suites[version_index(row->max)];
        for (size_t i = 0; i < found->count; i++)
            tb_addf(&b, ":!%s", found->items[i]);
    }
    tb_addf(&b, ":@SECLEVEL=0");
    if (b.len + 1 >= sizeof(buf))
        return 0;
    /* Fails ("no cipher match") once everything was taken out. */
    return SSL_set_min_proto_version(ssl, row->min) == 1 &&
           SSL_set_max_proto_version(ssl, row->max) == 1 &&
           SSL_set_cipher_list(ssl, buf) == 1;
}

int tc_survey_next(tc_survey *s, SSL *ssl)
{
    while (s->phase < N_PLAN) {
        if (s->planned <= 0)
            return 0;     /* the budget is spent: probe->complete stays 0 */
        int ok = configure(s, ssl);
        ERR_clear_error();
        if (ok) {
            s->planned--;
            s->probe->connections++;
            return 1;
        }
        next_row(s);
    }
    s->probe->complete = 1;
    return 0;
}

int tc_survey_learned(const tc_hs *hs)
{
    if (hs->ssl == NULL || !hs->real_server_hello)
        return 0;
    return hs->complete || SSL_version(hs->ssl) == TLS1_3_VERSION ||
           hs->last_msg_in == SSL3_MT_SERVER_DONE;
}

static void add_example(char *buf, size_t len, const char *name, const char *why)
{
    size_t used = strlen(buf);
    if (strstr(buf, name) != NULL || used + 8 >= len)
        return;
    snprintf(buf + used, len - used, "%s%s%s%s%s", used ? "; " : "", name,
             why ? " (" : "", why ? why : "", why ? ")" : "");
}

static void record_suite(tc_survey *s, SSL *ssl, int vi)
{
    const SSL_CIPHER *c = SSL_get_current_cipher(ssl);
    if (c == NULL)
        return;
    const char *name = SSL_CIPHER_get_name(c);
    list_push(&s->probe->suites[vi], name);
    const char *why = tc_suite_weakness(c);
    if (why != NULL)
        add_example(s->weak, sizeof(s->weak), name, why);
    int kx = SSL_CIPHER_get_kx_nid(c);
    if (vi < 3 && kx != NID_kx_ecdhe && kx != NID_kx_dhe && kx != NID_kx_ecdhe_psk &&
        kx != NID_kx_dhe_psk)
        add_example(s->nofs, sizeof(s->nofs), name, NULL);
    if (kx == NID_kx_dhe) {
        EVP_PKEY *tmp = NULL;
        if (SSL_get_peer_tmp_key(ssl, &tmp) == 1 && tmp != NULL) {
            int bits = EVP_PKEY_get_bits(tmp);
            if (bits > 0 && (s->probe->dh_min_bits == 0 || bits < s->probe->dh_min_bits))
                s->probe->dh_min_bits = bits;
        }
        EVP_PKEY_free(tmp);
        ERR_clear_error();
    }
}

/* First connection: what the server issued (a ticket, a session id, or
 * nothing: "unsupported").  Second: whether offering it was accepted. */
static void record_resumption(tc_survey *s, const tc_hs *hs, int completed, int again)
{
    tc_probe *p = s->probe;
    if (!again) {
        SSL_SESSION *sess = completed && hs->ssl ? SSL_get1_session(hs->ssl) : NULL;
        unsigned int id_len = 0;
        if (sess != NULL)
            (void)SSL_SESSION_get_id(sess, &id_len);
        if (sess != NULL && SSL_SESSION_is_resumable(sess) &&
            (SSL_SESSION_has_ticket(sess) || id_len > 0)) {
            int ticket = SSL_SESSION_has_ticket(sess);
            p->resumption_mechanism = ticket ? "ticket" : "session_id";
            p->ticket_lifetime_s = ticket ? (long)SSL_SESSION_get_ticket_lifetime_hint(sess) : -1;
            SSL_SESSION_free(s->session);
            s->session = sess;
        } else {
            SSL_SESSION_free(sess);
            if (completed)
                p->resumption = "unsupported";
        }
        ERR_clear_error();
        return;
    }
    int reused = completed && hs->ssl && SSL_session_reused(hs->ssl);
    p->resumption = reused ? "accepted" : "refused";
    if (reused) {
        p->resumed_handshake_ms = s->handshake_ms;
        /* RFC 8446 2.2 / RFC 5246 7.3: one round trip; a HelloRetryRequest
         * repeated on the resumed handshake costs another. */
        p->resumed_round_trips = 1 + (hs->hrr_seen != 0);
    }
    tc_survey_clear(s);
}

static void record_early(tc_survey *s, const tc_hs *hs, int completed, int again)
{
    tc_probe *p = s->probe;
    if (!again) {
        SSL_SESSION *sess = completed && hs->ssl ? SSL_get1_session(hs->ssl) : NULL;
        tc_survey_clear(s);
        if (sess != NULL && SSL_SESSION_is_resumable(sess) && SSL_SESSION_has_ticket(sess)) {
            p->max_early_data = (long)SSL_SESSION_get_max_early_data(sess);
            if (p->max_early_data > 0) {
                s->session = sess;
                sess = NULL;
            } else {
                p->early_data = "unsupported";   /* no max_early_data in the ticket */
            }
        }
        SSL_SESSION_free(sess);
        ERR_clear_error();
        return;
    }
    int status = completed && hs->ssl ? SSL_get_early_data_status(hs->ssl) : SSL_EARLY_DATA_REJECTED;
    p->early_data = status == SSL_EARLY_DATA_ACCEPTED ? "accepted" : "rejected";
    if (status == SSL_EARLY_DATA_ACCEPTED && p->resumed_round_trips >= 0)
        p->resumed_round_trips = 0;    /* the request went with the first flight */
    tc_survey_clear(s);
}

void tc_survey_record(tc_survey *s, const tc_hs *hs, int accepted)
{
    if (s->phase >= N_PLAN)
        return;
    const struct plan_row *row = &PLAN[s->phase];
    int vi = accepted && hs->ssl ? version_index(SSL_version(hs->ssl)) : -1;
    if (row->kind == R_RESUME_FIRST || row->kind == R_RESUME_AGAIN) {
        record_resumption(s, hs, accepted, row->kind == R_RESUME_AGAIN);
        next_row(s);
        return;
    }
    if (row->kind == R_EARLY_FIRST || row->kind == R_EARLY_AGAIN) {
        record_early(s, hs, accepted, row->kind == R_EARLY_AGAIN);
        next_row(s);
        return;
    }
    if (accepted && vi >= 0) {
        s->probe->protocols[vi] = 1;
        if (row->kind == R_GROUPS) {
            char g[64];
            if (tc_hs_group_name(hs->ssl, g, sizeof(g)) &&
                strcmp(tc_group_probe_name(g), GROUPS[s->in_phase]) == 0)
                list_push(&s->probe->groups, GROUPS[s->in_phase]);
        } else {
            record_suite(s, hs->ssl, vi);
        }
    } else if (row->kind != R_GROUPS && row->min == row->max && s->in_phase == 0) {
        int ri = version_index(row->min);
        if (s->probe->protocols[ri] != 1)
            s->probe->protocols[ri] = 0;
    }
    s->in_phase++;
    if (row->kind == R_GROUPS)
        return;   /* configure() ends the row after the last group */
    if (!accepted || !row->enumerate)
        next_row(s);
}

tc_status tc_survey_findings(const tc_survey *s, tc_report *r, const tc_render_vars *base,
                             tc_error *err)
{
    const tc_probe *p = s->probe;
    char detail[512];
    tc_render_vars vars = *base;
    vars.detail = detail;
    if (p->protocols[0] == 1 || p->protocols[1] == 1) {
        snprintf(detail, sizeof(detail), "%s",
                 p->protocols[0] == 1 && p->protocols[1] == 1 ? "TLS 1.0 and TLS 1.1"
                 : p->protocols[0] == 1 ? "TLS 1.0" : "TLS 1.1");
        if (tc_report_add(r, TC_KIND_LEGACY_PROTOCOL, -1, 0, NULL, &vars, err) != TC_OK)
            return TC_FAIL;
    }
    if (s->weak[0]) {
        snprintf(detail, sizeof(detail), "%s", s->weak);
        if (tc_report_add(r, TC_KIND_WEAK_CIPHER, -1, 0, NULL, &vars, err) != TC_OK)
            return TC_FAIL;
    }
    if (s->nofs[0]) {
        snprintf(detail, sizeof(detail), "%s (static RSA key exchange)", s->nofs);
        if (tc_report_add(r, TC_KIND_NO_FORWARD_SECRECY, -1, 0, NULL, &vars, err) != TC_OK)
            return TC_FAIL;
    }
    if (p->dh_min_bits > 0 && p->dh_min_bits < 2048) {
        snprintf(detail, sizeof(detail), "its DHE suites use a %d-bit group", p->dh_min_bits);
        if (tc_report_add(r, TC_KIND_WEAK_DH, -1, 0, NULL, &vars, err) != TC_OK)
            return TC_FAIL;
    }
    return TC_OK;
}
