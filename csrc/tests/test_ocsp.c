/*
 * test_ocsp.c - tc_ocsp_judge on responses minted here with OpenSSL's OCSP
 * API (good, revoked, unknown, delegated responder, wrong key, another
 * certificate, stale, future) and on hostile bytes (garbage, truncated,
 * trailing bytes, oversize, an error answer, an empty response), for a
 * chain verified first with tc_verify, as a live check does.
 */
#include <openssl/err.h>
#include <openssl/ocsp.h>
#include "tlscheck.h"
#include "tc_pki.h"
#include "tc_test.h"

static int64_t T0;
static pki_cert root, inter, leaf, other, responder, stranger;
static tc_trust *trust;

typedef struct mint_opts {
    const pki_cert *about;      /* default leaf */
    const pki_cert *signer;     /* default inter */
    X509 *include;              /* a certificate put in the response */
    int status;                 /* V_OCSP_CERTSTATUS_* */
    int64_t this_update, next_update;   /* offsets from T0; next 0: none */
    int reason;
    const EVP_MD *id_md;        /* CertID hash, default SHA-1 */
    const pki_cert *issuer;     /* for the CertID, default inter */
} mint_opts;

static unsigned char *mint(const mint_opts *o, size_t *len)
{
    const pki_cert *about = o->about ? o->about : &leaf;
    const pki_cert *signer = o->signer ? o->signer : &inter;
    OCSP_CERTID *id = OCSP_cert_to_id(o->id_md, about->x, (o->issuer ? o->issuer : &inter)->x);
    OCSP_BASICRESP *bs = OCSP_BASICRESP_new();
    ASN1_TIME *tu = pki_time(T0 + o->this_update);
    ASN1_TIME *nu = o->next_update ? pki_time(T0 + o->next_update) : NULL;
    ASN1_TIME *rt = pki_time(T0 - 2 * PKI_DAY);
    if (id == NULL || bs == NULL)
        pki_die("OCSP_BASICRESP_new");
    if (OCSP_basic_add1_status(bs, id, o->status, o->reason, o->status == V_OCSP_CERTSTATUS_REVOKED ? rt : NULL,
                               tu, nu) == NULL)
        pki_die("OCSP_basic_add1_status");
    STACK_OF(X509) *certs = o->include ? pki_stack(o->include, NULL) : NULL;
    if (OCSP_basic_sign(bs, signer->x, signer->key, EVP_sha256(), certs,
                        o->include ? 0 : OCSP_NOCERTS) != 1)
        pki_die("OCSP_basic_sign");
    OCSP_RESPONSE *resp = OCSP_response_create(OCSP_RESPONSE_STATUS_SUCCESSFUL, bs);
    unsigned char *der = NULL;
    int n = resp ? i2d_OCSP_RESPONSE(resp, &der) : -1;
    if (n <= 0)
        pki_die("i2d_OCSP_RESPONSE");
    *len = (size_t)n;
    OCSP_RESPONSE_free(resp);
    OCSP_BASICRESP_free(bs);
    OCSP_CERTID_free(id);
    ASN1_TIME_free(tu);
    ASN1_TIME_free(nu);
    ASN1_TIME_free(rt);
    sk_X509_pop_free(certs, X509_free);
    return der;
}

static mint_opts defaults(void)
{
    mint_opts o;
    memset(&o, 0, sizeof(o));
    o.status = V_OCSP_CERTSTATUS_GOOD;
    o.this_update = -3600;
    o.next_update = 3 * PKI_DAY;
    o.reason = OCSP_REVOKED_STATUS_NOSTATUS;
    o.id_md = EVP_sha1();
    return o;
}

/* A report of the chain served, judged. */
static tc_report *judged_chain(const unsigned char *der, size_t len, STACK_OF(X509) *chain)
{
    tc_report *r = NULL;
    tc_error err;
    tc_verify_params p;
    tc_verify_params_init(&p);
    p.hostname = "api.example.com";
    p.at = T0;
    p.has_at = 1;
    if (tc_report_new(&r, &err) != TC_OK || tc_verify(r, trust, chain, &p, &err) != TC_OK)
        pki_die("tc_verify");
    sk_X509_pop_free(chain, X509_free);
    if ((r->target = strdup("api.example.com:443")) == NULL)    /* as a live check's */
        pki_die("strdup");
    tc_render_vars vars = { .target = "api.example.com:443", .sni = "-servername api.example.com" };
    tc_status st = tc_ocsp_judge(r, der, len, T0, &vars, &err);
    CHECK(st == TC_OK);
    CHECK(r->ocsp != NULL);
    return r;
}

/* ... of leaf + inter, or the leaf only. */
static tc_report *judged(const unsigned char *der, size_t len, int with_inter)
{
    return judged_chain(der, len, with_inter ? pki_stack(leaf.x, inter.x, NULL)
                                             : pki_stack(leaf.x, NULL));
}

static const tc_problem *find(const tc_report *r, tc_kind k)
{
    for (size_t i = 0; i < r->n_problems; i++)
        if (r->problems[i].kind == k)
            return &r->problems[i];
    return NULL;
}

static int has(const char *s, const char *part)
{
    return s != NULL && strstr(s, part) != NULL;
}

static void test_good(void)
{
    mint_opts o = defaults();
    size_t len;
    unsigned char *der = mint(&o, &len);
    tc_report *r = judged(der, len, 1);
    CHECK_STR(r->ocsp->status, "good");
    CHECK(r->ocsp->verified && r->ocsp->error == NULL);
    CHECK(r->ocsp->has_this_update && r->ocsp->this_update == T0 - 3600);
    CHECK(r->ocsp->has_next_update && r->ocsp->next_update == T0 + 3 * PKI_DAY);
    CHECK(!r->ocsp->has_revoked_at && r->ocsp->reason == NULL);
    CHECK(r->n_problems == 0 && r->verified != NULL);
    tc_report_free(r);
    OPENSSL_free(der);

    /* SHA-256 CertID, and a delegated responder carried in the response. */
    o.id_md = EVP_sha256();
    o.signer = &responder;
    o.include = responder.x;
    der = mint(&o, &len);
    r = judged(der, len, 1);
    CHECK(r->ocsp->verified && r->n_problems == 0);
    tc_report_free(r);
    OPENSSL_free(der);
}

static void test_revoked(void)
{
    mint_opts o = defaults();
    o.status = V_OCSP_CERTSTATUS_REVOKED;
    o.reason = OCSP_REVOKED_STATUS_KEYCOMPROMISE;
    size_t len;
    unsigned char *der = mint(&o, &len);
    tc_report *r = judged(der, len, 1);
    CHECK_STR(r->ocsp->status, "revoked");
    CHECK(r->ocsp->verified);
    CHECK(r->ocsp->has_revoked_at && r->ocsp->revoked_at == T0 - 2 * PKI_DAY);
    CHECK_STR(r->ocsp->reason, "keyCompromise");
    const tc_problem *p = find(r, TC_KIND_REVOKED);
    CHECK(p != NULL && p->depth == 0);
    CHECK(p && has(p->message, "(reason: keyCompromise), as the OCSP response the server staples says"));
    CHECK(p && has(p->inspect_command, "-status"));
    CHECK(r->verified == NULL && !tc_report_ok(r));
    tc_report_free(r);
    OPENSSL_free(der);
}

static void expect_invalid(const mint_opts *o, int verified, const char *status,
                           const char *words)
{
    size_t len;
    unsigned char *der = mint(o, &len);
    tc_report *r = judged(der, len, 1);
    CHECK(r->ocsp->verified == verified);
    if (status)
        CHECK_STR(r->ocsp->status, status);
    else
        CHECK(r->ocsp->status == NULL);
    const tc_problem *p = find(r, TC_KIND_OCSP_STAPLE_INVALID);
    CHECK(p != NULL && p->severity == TC_SEV_WARNING);
    if (p && !has(p->message, words))
        fprintf(stderr, "  message: %s\n  wanted: %s\n", p->message, words);
    CHECK(p && has(p->message, words));
    CHECK(verified || has(r->ocsp->error, words));
    CHECK(tc_report_ok(r) && r->verified != NULL);
    tc_report_free(r);
    OPENSSL_free(der);
}

static void test_invalid(void)
{
    mint_opts o = defaults();
    o.status = V_OCSP_CERTSTATUS_UNKNOWN;
    expect_invalid(&o, 1, "unknown", "does not know the certificate");

    o = defaults();
    o.signer = &stranger;
    o.include = stranger.x;
    expect_invalid(&o, 0, "good", "neither the certificate's issuer nor a responder");

    o = defaults();
    o.signer = &other;            /* issued by inter, but no OCSPSigning */
    o.include = other.x;
    expect_invalid(&o, 0, "good", "without the OCSPSigning extended key usage");

    o = defaults();
    o.about = &other;
    expect_invalid(&o, 0, NULL, "about another certificate");

    o = defaults();
    o.this_update = -10 * PKI_DAY;
    o.next_update = -PKI_DAY;
    expect_invalid(&o, 0, "good", "it is stale");

    o = defaults();
    o.this_update = PKI_DAY;
    expect_invalid(&o, 0, "good", "for a time still to come");
}

static void test_wrong_key(void)
{
    /* A good response, its signature's last byte flipped. */
    mint_opts o = defaults();
    size_t len;
    unsigned char *der = mint(&o, &len);
    der[len - 1] ^= 0x01;
    tc_report *r = judged(der, len, 1);
    CHECK(!r->ocsp->verified && has(r->ocsp->error, "signature does not verify"));
    CHECK(find(r, TC_KIND_OCSP_STAPLE_INVALID) != NULL);
    tc_report_free(r);
    OPENSSL_free(der);
}

static void test_no_issuer(void)
{
    mint_opts o = defaults();
    size_t len;
    unsigned char *der = mint(&o, &len);
    tc_report *r = judged(der, len, 0);
    CHECK_STR(r->ocsp->status, "good");
    CHECK(!r->ocsp->verified && has(r->ocsp->error, "cannot be checked"));
    CHECK(find(r, TC_KIND_OCSP_STAPLE_INVALID) == NULL);
    CHECK(find(r, TC_KIND_INCOMPLETE_CHAIN) != NULL);
    tc_report_free(r);
    OPENSSL_free(der);
}

static void test_self_signed(void)
{
    /* A self-signed leaf answers for itself: the staple verifies (the
     * chain's own problem, self_signed, stays). */
    pki_spec s = pki_leaf(T0, "api.example.com", NULL);
    pki_cert self = pki_mint(&s);
    mint_opts o = defaults();
    o.about = &self;
    o.issuer = &self;
    o.signer = &self;
    size_t len;
    unsigned char *der = mint(&o, &len);
    tc_report *r = judged_chain(der, len, pki_stack(self.x, NULL));
    CHECK_STR(r->ocsp->status, "good");
    if (!r->ocsp->verified)
        fprintf(stderr, "  error: %s\n", r->ocsp->error);
    CHECK(r->ocsp->verified);
    CHECK(find(r, TC_KIND_SELF_SIGNED) != NULL && find(r, TC_KIND_OCSP_STAPLE_INVALID) == NULL);
    tc_report_free(r);
    OPENSSL_free(der);
    pki_free(&self);
}

static void hostile(const unsigned char *der, size_t len, const char *words)
{
    tc_report *r = judged(der, len, 1);
    CHECK(r->ocsp->status == NULL && !r->ocsp->verified);
    if (!has(r->ocsp->error, words))
        fprintf(stderr, "  error: %s\n  wanted: %s\n", r->ocsp->error, words);
    CHECK(has(r->ocsp->error, words));
    CHECK(find(r, TC_KIND_OCSP_STAPLE_INVALID) != NULL);
    tc_report_free(r);
}

static void test_hostile_bytes(void)
{
    static const unsigned char garbage[] = "HTTP/1.1 200 OK\r\n\r\nnot an OCSP response";
    hostile(garbage, sizeof(garbage) - 1, "not a DER-encoded OCSP response");

    mint_opts o = defaults();
    size_t len;
    unsigned char *der = mint(&o, &len);
    hostile(der, len / 2, "not a DER-encoded OCSP response");
    for (size_t cut = 1; cut < len; cut += 7) {       /* every truncation is classified */
        tc_report *r = judged(der, cut, 1);
        CHECK(!r->ocsp->verified && find(r, TC_KIND_OCSP_STAPLE_INVALID) != NULL);
        tc_report_free(r);
    }
    unsigned char *longer = malloc(len + 3);
    if (longer == NULL)
        pki_die("malloc");
    memcpy(longer, der, len);
    memcpy(longer + len, "\x00\x00\x00", 3);
    hostile(longer, len + 3, "bytes after the end");
    free(longer);
    OPENSSL_free(der);

    unsigned char *big = calloc(1, TC_OCSP_MAX + 1);
    if (big == NULL)
        pki_die("calloc");
    hostile(big, TC_OCSP_MAX + 1, "more than the 65536 bytes");
    free(big);

    OCSP_RESPONSE *err_resp = OCSP_response_create(OCSP_RESPONSE_STATUS_TRYLATER, NULL);
    unsigned char *e = NULL;
    int n = err_resp ? i2d_OCSP_RESPONSE(err_resp, &e) : -1;
    if (n <= 0)
        pki_die("OCSP_response_create");
    hostile(e, (size_t)n, "error answer \"trylater\"");
    OPENSSL_free(e);
    OCSP_RESPONSE_free(err_resp);

    /* A basic response with no entry at all. */
    OCSP_BASICRESP *bs = OCSP_BASICRESP_new();
    if (bs == NULL || OCSP_basic_sign(bs, inter.x, inter.key, EVP_sha256(), NULL, OCSP_NOCERTS) != 1)
        pki_die("OCSP_basic_sign");
    OCSP_RESPONSE *empty = OCSP_response_create(OCSP_RESPONSE_STATUS_SUCCESSFUL, bs);
    unsigned char *ed = NULL;
    n = empty ? i2d_OCSP_RESPONSE(empty, &ed) : -1;
    if (n <= 0)
        pki_die("i2d_OCSP_RESPONSE");
    hostile(ed, (size_t)n, "no entry");
    OPENSSL_free(ed);
    OCSP_RESPONSE_free(empty);
    OCSP_BASICRESP_free(bs);
}

int main(void)
{
    tc_error err;
    T0 = (int64_t)time(NULL);
    pki_spec s = pki_ca(T0, "OCSP C Root", NULL);
    root = pki_mint(&s);
    s = pki_ca(T0, "OCSP C Issuing CA", &root);
    inter = pki_mint(&s);
    s = pki_leaf(T0, "api.example.com", &inter);
    leaf = pki_mint(&s);
    s = pki_leaf(T0, "other.example.com", &inter);
    other = pki_mint(&s);
    s = pki_leaf(T0, "OCSP C Responder", &inter);
    s.eku = "OCSPSigning";
    responder = pki_mint(&s);
    s = pki_ca(T0, "OCSP C Stranger", NULL);
    stranger = pki_mint(&s);
    STACK_OF(X509) *anchors = pki_stack(root.x, NULL);
    if (tc_trust_new_certs(anchors, &trust, &err) != TC_OK)
        pki_die("tc_trust_new_certs");
    sk_X509_pop_free(anchors, X509_free);

    test_good();
    test_revoked();
    test_invalid();
    test_wrong_key();
    test_no_issuer();
    test_self_signed();
    test_hostile_bytes();

    tc_trust_free(trust);
    pki_free(&root);
    pki_free(&inter);
    pki_free(&leaf);
    pki_free(&other);
    pki_free(&responder);
    pki_free(&stranger);
    return TC_TEST_DONE();
}
