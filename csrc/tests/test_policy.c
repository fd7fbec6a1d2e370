/*
 * test_policy.c - tc_policy_check() on its own: a path given directly (no
 * OpenSSL path building), each row a chain with one flaw and the kind and
 * depth it must produce, or none.  Then every root of the system trust
 * store as the anchor of a path: the leniencies for anchors must let all
 * of them through (real roots break several RFC 5280 MUSTs).  (An anchor
 * without subjectKeyIdentifier is in the Python tests: OpenSSL's config
 * syntax cannot give the certificate below it an authorityKeyIdentifier.)
 */
#include <time.h>
#include <openssl/err.h>
#include "classify.h"
#include "tc_pki.h"
#include "tc_test.h"

static const int64_t T0 = 1750000000;   /* 2025-06-15 */

/* tc_policy_check on `path` taken as anchored (its top a trust anchor),
 * judged at p->at. */
static tc_status policy_run(tc_report *r, STACK_OF(X509) *path, const tc_verify_params *p,
                            tc_error *err)
{
    tc_judge j = { r, NULL, path, path, NULL, p, p->has_at ? p->at : (int64_t)time(NULL), 1 };
    r->evaluated_at = j.now;
    return tc_policy_check(&j, err);
}

/* What a row changes in the default root -> intermediate -> leaf chain. */
typedef struct row {
    const char *name;
    void (*tweak)(pki_spec *root, pki_spec *inter, pki_spec *leaf);
    tc_purpose purpose;
    const char *hostname;
    tc_kind kind;       /* TC_KIND__COUNT: no problem at all */
    int depth;
} row;

static void t_none(pki_spec *r, pki_spec *i, pki_spec *l) { (void)r; (void)i; (void)l; }
static void t_leaf_no_aki(pki_spec *r, pki_spec *i, pki_spec *l) { l->no_akid = 1; }
static void t_leaf_is_ca(pki_spec *r, pki_spec *i, pki_spec *l) { l->ca = 1; l->eku = ""; }
static void t_leaf_certsign(pki_spec *r, pki_spec *i, pki_spec *l)
{ l->key_usage = "critical,digitalSignature,keyCertSign"; }
static void t_leaf_underscore(pki_spec *r, pki_spec *i, pki_spec *l)
{ l->san = "DNS:api.example.com,DNS:a_b.example.com"; }
static void t_leaf_cn_case(pki_spec *r, pki_spec *i, pki_spec *l) { l->cn = "API.Example.com"; }
static void t_leaf_cn_descriptive(pki_spec *r, pki_spec *i, pki_spec *l) { l->cn = "ACME API"; }
static void t_leaf_anyeku(pki_spec *r, pki_spec *i, pki_spec *l) { l->eku = "serverAuth,anyExtendedKeyUsage"; }
static void t_leaf_rsa1024(pki_spec *r, pki_spec *i, pki_spec *l) { l->key = "rsa1024"; }
static void t_leaf_p224(pki_spec *r, pki_spec *i, pki_spec *l) { l->key = "ec224"; }
static void t_leaf_nc(pki_spec *r, pki_spec *i, pki_spec *l)
{ l->name_constraints = "critical,permitted;DNS:example.com"; }
static void t_leaf_empty_aia(pki_spec *r, pki_spec *i, pki_spec *l)
{ l->extra_oid = "1.3.6.1.5.5.7.1.1"; l->extra_value = "DER:30:00"; }
static void t_inter_bc_noncrit(pki_spec *r, pki_spec *i, pki_spec *l) { i->bc_critical = 0; }
static void t_inter_no_ski(pki_spec *r, pki_spec *i, pki_spec *l) { i->no_skid = 1; l->no_akid = 1; }
static void t_inter_eku_client(pki_spec *r, pki_spec *i, pki_spec *l) { i->eku = "clientAuth"; }
static void t_inter_nc_excludes(pki_spec *r, pki_spec *i, pki_spec *l)
{ i->name_constraints = "critical,excluded;DNS:bar.example.com"; l->san = "DNS:*.example.com"; }
static void t_inter_nc_empty(pki_spec *r, pki_spec *i, pki_spec *l)
{ i->extra_oid = "2.5.29.30"; i->extra_value = "critical,DER:30:00"; }
static void t_root_bc_noncrit(pki_spec *r, pki_spec *i, pki_spec *l) { r->bc_critical = 0; }
static void t_root_no_ku(pki_spec *r, pki_spec *i, pki_spec *l) { r->key_usage = ""; }
static void t_root_no_bc(pki_spec *r, pki_spec *i, pki_spec *l) { r->ca = -1; }

static const row ROWS[] = {
    { "clean chain", t_none, TC_PURPOSE_SERVER, "api.example.com", TC_KIND__COUNT, 0 },
    { "leaf without AKI", t_leaf_no_aki, TC_PURPOSE_SERVER, "api.example.com", TC_KIND_MALFORMED_CERTIFICATE, 0 },
    { "leaf is a CA", t_leaf_is_ca, TC_PURPOSE_SERVER, "api.example.com", TC_KIND_INVALID_PURPOSE, 0 },
    { "leaf keyCertSign", t_leaf_certsign, TC_PURPOSE_SERVER, "api.example.com", TC_KIND_INVALID_PURPOSE, 0 },
    { "leaf SAN underscore", t_leaf_underscore, TC_PURPOSE_SERVER, "api.example.com", TC_KIND_MALFORMED_CERTIFICATE, 0 },
    { "leaf CN case differs", t_leaf_cn_case, TC_PURPOSE_SERVER, "api.example.com", TC_KIND_MALFORMED_CERTIFICATE, 0 },
    { "leaf CN case differs, client", t_leaf_cn_case, TC_PURPOSE_CLIENT, NULL, TC_KIND__COUNT, 0 },
    { "leaf CN descriptive", t_leaf_cn_descriptive, TC_PURPOSE_SERVER, "api.example.com", TC_KIND__COUNT, 0 },
    { "leaf anyExtendedKeyUsage", t_leaf_anyeku, TC_PURPOSE_SERVER, "api.example.com", TC_KIND_INVALID_PURPOSE, 0 },
    { "leaf RSA 1024", t_leaf_rsa1024, TC_PURPOSE_SERVER, "api.example.com", TC_KIND_WEAK_KEY, 0 },
    { "leaf P-224", t_leaf_p224, TC_PURPOSE_SERVER, "api.example.com", TC_KIND_WEAK_KEY, 0 },
    { "leaf nameConstraints", t_leaf_nc, TC_PURPOSE_SERVER, "api.example.com", TC_KIND_MALFORMED_CERTIFICATE, 0 },
    { "leaf empty AIA", t_leaf_empty_aia, TC_PURPOSE_SERVER, "api.example.com", TC_KIND_MALFORMED_CERTIFICATE, 0 },
    /* OpenSSL's strict check reports it (code 89, a warning): test_verify.c. */
    { "intermediate BC not critical", t_inter_bc_noncrit, TC_PURPOSE_SERVER, "api.example.com", TC_KIND__COUNT, 0 },
    { "intermediate without SKI", t_inter_no_ski, TC_PURPOSE_SERVER, "api.example.com", TC_KIND_MALFORMED_CERTIFICATE, 1 },
    { "intermediate EKU clientAuth, server", t_inter_eku_client, TC_PURPOSE_SERVER, "api.example.com", TC_KIND_INVALID_PURPOSE, 1 },
    { "intermediate EKU clientAuth, client", t_inter_eku_client, TC_PURPOSE_CLIENT, NULL, TC_KIND__COUNT, 0 },
    { "wildcard over excluded name", t_inter_nc_excludes, TC_PURPOSE_SERVER, "foo.example.com", TC_KIND_NAME_CONSTRAINTS_VIOLATION, 0 },
    { "empty nameConstraints", t_inter_nc_empty, TC_PURPOSE_SERVER, "api.example.com", TC_KIND_INVALID_CA, 1 },
    { "anchor BC not critical", t_root_bc_noncrit, TC_PURPOSE_SERVER, "api.example.com", TC_KIND__COUNT, 0 },
    { "anchor without keyUsage", t_root_no_ku, TC_PURPOSE_SERVER, "api.example.com", TC_KIND__COUNT, 0 },
    { "anchor without BC", t_root_no_bc, TC_PURPOSE_SERVER, "api.example.com", TC_KIND_INVALID_CA, 2 },
};

static int has_problem(const tc_report *r, tc_kind kind, int depth)
{
    for (size_t i = 0; i < r->n_problems; i++)
        if (r->problems[i].kind == kind && r->problems[i].depth == depth)
            return 1;
    return 0;
}

static void run_row(const row *t)
{
    pki_spec rs = pki_ca(T0, "Policy Root", NULL);
    rs.no_akid = 1;     /* a self-signed root: AKI optional (RFC 5280 4.2.1.1) */
    pki_spec is = pki_ca(T0, "Policy CA", NULL);
    pki_spec ls = pki_leaf(T0, "api.example.com", NULL);
    t->tweak(&rs, &is, &ls);
    pki_cert root = pki_mint(&rs);
    is.issuer = &root;
    pki_cert inter = pki_mint(&is);
    ls.issuer = &inter;
    pki_cert leaf = pki_mint(&ls);
    STACK_OF(X509) *path = pki_stack(leaf.x, inter.x, root.x, NULL);

    tc_verify_params p;
    tc_verify_params_init(&p);
    p.at = T0;
    p.has_at = 1;
    p.purpose = t->purpose;
    p.hostname = t->hostname;
    tc_report *r = NULL;
    tc_error err;
    CHECK(tc_report_new(&r, &err) == TC_OK);
    CHECK(policy_run(r, path, &p, &err) == TC_OK);
    if (t->kind == TC_KIND__COUNT) {
        if (r->n_problems != 0)
            fprintf(stderr, "%s: unexpected %s@%d: %s\n", t->name,
                    tc_kind_get(r->problems[0].kind)->name, r->problems[0].depth,
                    r->problems[0].message);
        CHECK(r->n_problems == 0);
    } else {
        if (!has_problem(r, t->kind, t->depth))
            fprintf(stderr, "%s: expected %s@%d\n", t->name, tc_kind_get(t->kind)->name, t->depth);
        CHECK(has_problem(r, t->kind, t->depth));
        /* Every message is a sentence naming its rule. */
        for (size_t i = 0; i < r->n_problems; i++)
            CHECK(r->problems[i].message[0] >= 'A' && r->problems[i].message[0] <= 'Z');
    }
    tc_report_free(r);
    sk_X509_pop_free(path, X509_free);
    pki_free(&leaf);
    pki_free(&inter);
    pki_free(&root);
}

/* A problem already reported for the same (kind, certificate) gets
 * policy.c's other findings appended, not the ones OpenSSL's own check
 * made (matched by its verify code). */
static void findings_join_an_existing_problem(void)
{
    pki_spec rs = pki_ca(T0, "Policy Root", NULL);
    rs.no_akid = 1;
    pki_cert root = pki_mint(&rs);
    pki_spec ls = pki_leaf(T0, "api.example.com", &root);
    ls.cn = "API.example.com";
    ls.no_akid = 1;
    pki_cert leaf = pki_mint(&ls);
    STACK_OF(X509) *path = pki_stack(leaf.x, root.x, NULL);
    tc_verify_params p;
    tc_verify_params_init(&p);
    p.at = T0;
    p.has_at = 1;
    p.hostname = "api.example.com";
    tc_report *r = NULL;
    tc_error err;
    CHECK(tc_report_new(&r, &err) == TC_OK);
    tc_render_vars v;
    memset(&v, 0, sizeof(v));
    v.cert = "the server certificate";
    v.detail = "it has no authorityKeyIdentifier extension, which RFC 5280 section 4.2.1.1 requires";
    /* As classify.c words OpenSSL's code 85 (no authorityKeyIdentifier). */
    CHECK(tc_report_add(r, TC_KIND_MALFORMED_CERTIFICATE, 0, X509_V_ERR_MISSING_AUTHORITY_KEY_IDENTIFIER,
                        NULL, &v, &err) == TC_OK);
    CHECK(policy_run(r, path, &p, &err) == TC_OK);
    CHECK(r->n_problems == 1);
    const char *m = r->problems[0].message;
    CHECK(strstr(m, " Also: its subject CN \"API.example.com\" names the same host") != NULL);
    const char *first = strstr(m, "authorityKeyIdentifier");
    CHECK(first != NULL && strstr(first + 1, "authorityKeyIdentifier") == NULL);
    tc_report_free(r);
    sk_X509_pop_free(path, X509_free);
    pki_free(&leaf);
    pki_free(&root);
}

/* Every root of the system store, as the anchor of [root, root]: no
 * finding about the anchor.  Skipped (and said) when there is no store. */
static void system_roots_pass(void)
{
    const char *path = getenv(X509_get_default_cert_file_env());
    if (path == NULL)
        path = X509_get_default_cert_file();
    FILE *f = fopen(path, "r");
    if (f == NULL) {
        printf("system trust store %s not found: root scan skipped\n", path);
        return;
    }
    int n = 0, flagged = 0;
    X509 *x;
    while ((x = PEM_read_X509(f, NULL, NULL, NULL)) != NULL) {
        STACK_OF(X509) *p2 = pki_stack(x, x, NULL);
        tc_verify_params p;
        tc_verify_params_init(&p);
        tc_report *r = NULL;
        tc_error err;
        CHECK(tc_report_new(&r, &err) == TC_OK);
        CHECK(policy_run(r, p2, &p, &err) == TC_OK);
        for (size_t i = 0; i < r->n_problems; i++) {
            /* The profile rules are what is tested: a root of the store
             * that has expired (real clock) is refused, and rightly. */
            tc_kind k = r->problems[i].kind;
            if (r->problems[i].depth != 1 || k == TC_KIND_EXPIRED || tc_kind_get(k)->severity == TC_SEV_WARNING)
                continue;
            flagged++;
            fprintf(stderr, "root refused as anchor: %s\n", r->problems[i].message);
        }
        tc_report_free(r);
        sk_X509_pop_free(p2, X509_free);
        X509_free(x);
        n++;
    }
    ERR_clear_error();
    fclose(f);
    printf("system trust store %s: %d roots, %d refused as anchors\n", path, n, flagged);
    CHECK(flagged == 0);
}

int main(void)
{
    for (size_t i = 0; i < sizeof(ROWS) / sizeof(ROWS[0]); i++)
        run_row(&ROWS[i]);
    findings_join_an_existing_problem();
    system_roots_pass();
    return TC_TEST_DONE();
}
