/* report.c - tc_report owns every string it holds; problems are rendered
 * from the kinds table here, and nowhere else. */
#include <stdlib.h>
#include <string.h>
#include "tlscheck.h"

tc_status tc_report_new(tc_report **out, tc_error *err)
{
    *out = NULL;
    tc_report *r = calloc(1, sizeof(*r));
    if (r == NULL)
        return tc_error_set(err, TC_E_NOMEM, "out of memory creating a report");
    r->chain = sk_X509_new_null();
    if (r->chain == NULL) {
        free(r);
        return tc_error_set(err, TC_E_NOMEM, "out of memory creating a report");
    }
    r->port = -1;
    r->timings.dns_ms = r->timings.connect_ms = -1;
    r->timings.handshake_ms = r->timings.total_ms = -1;
    *out = r;
    return TC_OK;
}

static void strlist_free(tc_strlist *l)
{
    for (size_t i = 0; i < l->count; i++)
        free(l->items[i]);
    free(l->items);
    l->items = NULL;
    l->count = 0;
}

void tc_probe_free(tc_probe *p)
{
    if (p == NULL)
        return;
    free(p->hrr_group);
    for (int i = 0; i < TC_PROBE_VERSIONS; i++)
        strlist_free(&p->suites[i]);
    strlist_free(&p->groups);
    free(p);
}

void tc_report_free(tc_report *r)
{
    if (r == NULL)
        return;
    for (size_t i = 0; i < r->n_problems; i++) {
        tc_problem *p = &r->problems[i];
        free(p->openssl_reason);
        free(p->message);
        free(p->fix);
        free(p->inspect_command);
    }
    free(r->problems);
    sk_X509_pop_free(r->chain, X509_free);
    sk_X509_pop_free(r->path, X509_free);
    sk_X509_pop_free(r->verified, X509_free);
    free(r->hostname);
    free(r->file_arg);
    free(r->target);
    free(r->server_name);
    free(r->address);
    free(r->protocol);
    free(r->cipher);
    free(r->group);
    free(r->alpn);
    strlist_free(&r->client_ca_names);
    tc_probe_free(r->probe);
    free(r->peer_banner);
    tc_ocsp_free(r->ocsp);
    free(r);
}

/* A growable byte buffer for rendering. */
typedef struct buf { char *p; size_t len, cap; int failed; } buf;

static void buf_put(buf *b, const char *s, size_t n)
{
    if (b->failed)
        return;
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 128;
        while (cap < b->len + n + 1)
            cap *= 2;
        char *p = realloc(b->p, cap);
        if (p == NULL) {
            b->failed = 1;
            return;
        }
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

/* Template variable names, as data. */
#define VAR(name) { #name, sizeof(#name) - 1, offsetof(tc_render_vars, name) }
static const struct { const char *name; size_t len; size_t off; } VARS[] = {
    VAR(cert), VAR(subject), VAR(issuer), VAR(not_before), VAR(not_after),
    VAR(days), VAR(hostname), VAR(detail), VAR(target), VAR(sni), VAR(trust),
    VAR(leaf_file), VAR(chain_file), VAR(remedy), VAR(starttls),
};
#undef VAR

char *tc_render(const char *tmpl, const tc_render_vars *vars)
{
    static const tc_render_vars empty;
    buf b = {0};
    if (vars == NULL)
        vars = &empty;
    buf_put(&b, "", 0);
    for (const char *s = tmpl; s && *s;) {
        if (s[0] == '{' && s[1] == '{') {
            buf_put(&b, "{", 1);
            s += 2;
            continue;
        }
        if (s[0] == '{') {
            const char *close = strchr(s, '}');
            size_t i, n = close ? (size_t)(close - s - 1) : 0;
            for (i = 0; close && i < sizeof(VARS) / sizeof(VARS[0]); i++)
                if (VARS[i].len == n && memcmp(VARS[i].name, s + 1, n) == 0)
                    break;
            if (close && i < sizeof(VARS) / sizeof(VARS[0])) {
                const char *v = *(const char *const *)((const char *)vars + VARS[i].off);
                if (v && *v)
                    buf_put(&b, v, strlen(v));
                s = close + 1;
                /* An empty variable between two spaces ("-connect {target}
                 * {sni} </dev/null") leaves one space, not two; spaces in
                 * the values themselves (certificate text) are kept. */
                if ((v == NULL || *v == '\0') && *s == ' ' && b.len > 0 && b.p[b.len - 1] == ' ')
                    s++;
                continue;
            }
        }
        buf_put(&b, s, 1);
        s++;
    }
    if (b.failed) {
        free(b.p);
        return NULL;
    }
    return b.p;
}

tc_status tc_report_add(tc_report *r, tc_kind kind, int depth,
                        int openssl_code, const char *openssl_reason,
                        const tc_render_vars *vars, tc_error *err)
{
    const tc_kind_info *k = tc_kind_get(kind);
    if (k == NULL)
        return tc_error_set(err, TC_E_INTERNAL, "unknown problem kind %d", (int)kind);
    for (size_t i = 0; i < r->n_problems; i++)
        if (r->problems[i].kind == kind && r->problems[i].depth == depth)
            return TC_OK;
    if (r->n_problems == r->cap_problems) {
        size_t cap = r->cap_problems ? r->cap_problems * 2 : 8;
        tc_problem *p = realloc(r->problems, cap * sizeof(*p));
        if (p == NULL)
            return tc_error_set(err, TC_E_NOMEM, "out of memory recording a problem");
        r->problems = p;
        r->cap_problems = cap;
    }
    /* The report's own context fills what the caller's vars leave out, so
     * every command is rendered once, naming the right target and file. */
    tc_render_vars v = vars ? *vars : (tc_render_vars){ 0 };
    char sni[300] = "";
    if (v.target == NULL)
        v.target = r->target;
    if (v.sni == NULL && r->server_name != NULL) {
        snprintf(sni, sizeof(sni), "-servername %s", r->server_name);
        v.sni = sni;
    }
    char starttls[40] = "";
    if (v.starttls == NULL && r->starttls != NULL) {
        snprintf(starttls, sizeof(starttls), "-starttls %s", r->starttls);
        v.starttls = starttls;
    }
    if (v.leaf_file == NULL)
        v.leaf_file = r->file_arg ? r->file_arg : "leaf.pem";
    if (v.chain_file == NULL)
        v.chain_file = r->file_arg ? r->file_arg : "chain.pem";
    vars = &v;

    tc_problem p = {0};
    p.kind = kind;
    p.severity = k->severity;
    p.depth = depth;
    p.openssl_code = openssl_code;
    p.openssl_reason = openssl_reason ? strdup(openssl_reason) : NULL;
    p.message = tc_render(k->message, vars);
    p.fix = tc_render(k->fix, vars);
    p.inspect_command = tc_render(r->target ? k->see_live : k->see_file, vars);
    if ((openssl_reason && !p.openssl_reason) || !p.message || !p.fix || !p.inspect_command) {
        free(p.openssl_reason);
        free(p.message);
        free(p.fix);
        free(p.inspect_command);
        return tc_error_set(err, TC_E_NOMEM, "out of memory recording a problem");
    }
    /* Every message and fix is a sentence: templates may open with a
     * variable ("{cert} expired ...") whose value starts lowercase. */
    if (p.message[0] >= 'a' && p.message[0] <= 'z')
        p.message[0] = (char)(p.message[0] - 'a' + 'A');
    if (p.fix[0] >= 'a' && p.fix[0] <= 'z')
        p.fix[0] = (char)(p.fix[0] - 'a' + 'A');
    r->problems[r->n_problems++] = p;
    return TC_OK;
}

static int problem_cmp(const void *a, const void *b)
{
    const tc_problem *x = a, *y = b;
    if (x->kind != y->kind)
        return x->kind < y->kind ? -1 : 1;
    if (x->depth != y->depth)
        return x->depth < y->depth ? -1 : 1;
    return 0;
}

void tc_report_sort(tc_report *r)
{
    /* (kind, depth) pairs are unique (tc_report_add merges), so qsort's
     * instability cannot reorder equal elements. */
    if (r->n_problems > 1)
        qsort(r->problems, r->n_problems, sizeof(tc_problem), problem_cmp);
}

int tc_report_ok(const tc_report *r)
{
    for (size_t i = 0; i < r->n_problems; i++)
        if (r->problems[i].severity == TC_SEV_ERROR)
            return 0;
    return 1;
}
