/*
 * test_verify.c - tc_verify() on chains minted here, each named for what it
 * breaks.  Every kind is produced by one chain and absent from its good twin
 * (same chain with the one property fixed).  All checks run at a fixed
 * validation time (T0) so that nothing depends on the clock.
 *
 * VERBOSE=1 prints every report.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "tlscheck.h"
#include "internal.h"   /* tc_cert_vars_fill */
#include "tc_test.h"
#include "tc_pki.h"

#define T0 ((int64_t)1767225600)   /* 2026-01-01 00:00 UTC */
#define DAY PKI_DAY
#define ANY_DEPTH (-2)
#define K(id) TC_KIND_##id

/* ------------------------------------------------------------------ */
/* Helpers                                                             */
/* ------------------------------------------------------------------ */

static tc_trust *trust_of(X509 *first, ...)
{
    STACK_OF(X509) *sk = sk_X509_new_null();
    va_list ap;
    va_start(ap, first);
    for (X509 *x = first; x != NULL; x = va_arg(ap, X509 *))
        sk_X509_push(sk, x);
    va_end(ap);
    tc_trust *t = NULL;
    tc_error err;
    tc_error_clear(&err);
    if (tc_trust_new_certs(sk, &t, &err) != TC_OK) {
        fprintf(stderr, "tc_trust_new_certs: %s\n", err.msg);
        abort();
    }
    sk_X509_free(sk);
    return t;
}

static tc_verify_params params_at(int64_t at, const char *host)
{
    tc_verify_params p;
    tc_verify_params_init(&p);
    p.has_at = 1;
    p.at = at;
    p.hostname = host;
    return p;
}

static void dump(const char *name, const tc_report *r)
{
    if (getenv("VERBOSE") == NULL)
        return;
    printf("--- %s: %zu problem(s), path %d, verified %d\n", name, r->n_problems,
           r->path ? sk_X509_num(r->path) : -1, r->verified ? sk_X509_num(r->verified) : -1);
    for (size_t i = 0; i < r->n_problems; i++) {
        const tc_problem *p = &r->problems[i];
        printf("  [%s depth %d code %d] %s\n", tc_kind_get(p->kind)->name, p->depth,
               p->openssl_code, p->message);
    }
}

/* Every problem reads as a sentence: capital first, no template left. */
static void check_text(const tc_report *r)
{
    for (size_t i = 0; i < r->n_problems; i++) {
        const tc_problem *p = &r->problems[i];
        /* Problems added by policy.c come through tc_report_add() directly;
         * only note theirs (capitalising belongs in tc_report_add). */
        if (p->message && !(p->message[0] >= 'A' && p->message[0] <= 'Z'))
            fprintf(stderr, "  NOTE: message not capitalised (%s): %s\n",
                    tc_kind_get(p->kind)->name, p->message);
        CHECK(p->message != NULL && strchr(p->message, '{') == NULL);
        CHECK(p->message != NULL && strstr(p->message, "  ") == NULL);
        CHECK(p->message != NULL && strstr(p->message, "..") == NULL);
        CHECK(p->fix != NULL && p->fix[0] != '\0');
        CHECK(p->inspect_command != NULL && strncmp(p->inspect_command, "openssl", 7) == 0);
        if (p->openssl_code != 0)
            CHECK(p->openssl_reason != NULL && p->openssl_reason[0] != '\0');
        CHECK(p->depth >= -1 && (p->depth < 0 || p->depth < sk_X509_num(r->path)));
        if (i > 0)   /* sorted: table order, then depth */
            CHECK(r->problems[i - 1].kind < p->kind
                  || (r->problems[i - 1].kind == p->kind && r->problems[i - 1].depth < p->depth));
    }
}

static tc_report *run(const char *name, tc_trust *t, STACK_OF(X509) *chain,
                      const tc_verify_params *p)
{
    tc_report *r = NULL;
    tc_error err;
    tc_error_clear(&err);
    if (tc_report_new(&r, &err) != TC_OK)
        abort();
    tc_status st = tc_verify(r, t, chain, p, &err);
    if (st != TC_OK)
        fprintf(stderr, "%s: tc_verify failed: %s\n", name, err.msg);
    CHECK(st == TC_OK);
    dump(name, r);
    check_text(r);
    return r;
}

static const tc_problem *find(const tc_report *r, tc_kind k, int depth)
{
    for (size_t i = 0; i < r->n_problems; i++)
        if (r->problems[i].kind == k && (depth == ANY_DEPTH || r->problems[i].depth == depth))
            return &r->problems[i];
    return NULL;
}

static int has(const tc_report *r, tc_kind k, int depth)
{
    return find(r, k, depth) != NULL;
}

/* No error, and every warning is one about the served chain's shape
 * (served.c): what an extra certificate sent along costs, not a verdict. */
static int only_shape_warnings(const tc_report *r)
{
    for (size_t i = 0; i < r->n_problems; i++) {
        tc_kind k = r->problems[i].kind;
        if (k != K(CHAIN_INCLUDES_ROOT) && k != K(CHAIN_UNNEEDED_CERTIFICATES)
            && k != K(CHAIN_WRONG_ORDER) && k != K(CHAIN_DUPLICATES)) {
            fprintf(stderr, "  unexpected %s: %s\n", tc_kind_get(k)->name, r->problems[i].message);
            return 0;
        }
    }
    return 1;
}

static int msg_has(const tc_report *r, tc_kind k, int depth, const char *needle)
{
    const tc_problem *p = find(r, k, depth);
    int ok = p != NULL && strstr(p->message, needle) != NULL;
    if (!ok)
        fprintf(stderr, "  message of %s@%d lacks \"%s\": %s\n", tc_kind_get(k)->name, depth,
                needle, p ? p->message : "(no such problem)");
    return ok;
}

/* The problem is there and its message does not say needle (quiet: the
 * twin of a msg_has check). */
static int msg_lacks(const tc_report *r, tc_kind k, int depth, const char *needle)
{
    const tc_problem *p = find(r, k, depth);
    return p != NULL && strstr(p->message, needle) == NULL;
}

/* The kind appears in the bad report (at depth) and nowhere in the twin. */
#define CHECK_TWIN(bad, good, kind, depth) do { \
    CHECK(has(bad, kind, depth)); CHECK(!has(good, kind, ANY_DEPTH)); } while (0)

/* A standard PKI: Root -> Int -> leaf for api.example.com. */
typedef struct pki {
    pki_cert root, inter, leaf;
    tc_trust *trust;
} pki;

static pki pki_new(void)
{
    pki k;
    pki_spec s = pki_ca(T0 - 400 * DAY, "Test Root", NULL);
    s.org = "pytlscheck tests";
    k.root = pki_mint(&s);
    s = pki_ca(T0 - 300 * DAY, "Test Int", &k.root);
    s.org = "pytlscheck tests";
    k.inter = pki_mint(&s);
    s = pki_leaf(T0, "api.example.com", &k.inter);
    k.leaf = pki_mint(&s);
    k.trust = trust_of(k.root.x, NULL);
    return k;
}

static void pki_done(pki *k)
{
    pki_free(&k->root);
    pki_free(&k->inter);
    pki_free(&k->leaf);
    tc_trust_free(k->trust);
}

/* Verifies leaf (+ int) against k's root at T0 for api.example.com. */
static tc_report *run_leaf(const char *name, pki *k, X509 *leaf, const tc_verify_params *p)
{
    STACK_OF(X509) *chain = pki_stack(leaf, k->inter.x, NULL);
    tc_verify_params dp = params_at(T0, "api.example.com");
    tc_report *r = run(name, k->trust, chain, p ? p : &dp);
    sk_X509_pop_free(chain, X509_free);
    return r;
}

/* ------------------------------------------------------------------ */
/* Tests                                                               */
/* ------------------------------------------------------------------ */

static void test_good_chain(pki *k)
{
    STACK_OF(X509) *chain = pki_stack(k->leaf.x, k->inter.x, NULL);
    tc_verify_params p = params_at(T0, "API.Example.COM.");
    tc_report *r = run("good", k->trust, chain, &p);
    CHECK(r->n_problems == 0);
    CHECK(tc_report_ok(r));
    CHECK(sk_X509_num(r->chain) == 2);
    CHECK(sk_X509_num(r->path) == 3);
    CHECK(r->verified != NULL && sk_X509_num(r->verified) == 3);
    CHECK(r->verified && X509_cmp(sk_X509_value(r->verified, 2), k->root.x) == 0);
    CHECK_STR(r->hostname, "api.example.com");
    tc_report_free(r);

    /* The root sent along, and the chain in the wrong order: same verdict. */
    STACK_OF(X509) *c2 = pki_stack(k->leaf.x, k->root.x, k->inter.x, NULL);
    r = run("good, root sent, wrong order", k->trust, c2, &p);
    CHECK(only_shape_warnings(r) && r->verified != NULL);
    CHECK(msg_has(r, K(CHAIN_INCLUDES_ROOT), -1, "as certificate 2"));
    CHECK(msg_has(r, K(CHAIN_WRONG_ORDER), -1, "certificate 3 (CN=Test Int"));
    CHECK(!has(r, K(CHAIN_UNNEEDED_CERTIFICATES), ANY_DEPTH));
    tc_report_free(r);
    sk_X509_pop_free(c2, X509_free);

    /* No hostname: no name check, hostname NULL. */
    tc_verify_params p2 = params_at(T0, NULL);
    r = run("good, no hostname", k->trust, chain, &p2);
    CHECK(r->n_problems == 0 && r->hostname == NULL);
    tc_report_free(r);

    /* A report that already holds a chain (a live check passes the served
     * chain as report->chain itself): chain, path and verified are
     * replaced, problems already recorded are kept. */
    tc_report *rr = NULL;
    tc_error err;
    tc_error_clear(&err);
    CHECK(tc_report_new(&rr, &err) == TC_OK);
    tc_verify_params later = params_at(T0 + 4000 * DAY, "api.example.com");
    CHECK(tc_verify(rr, k->trust, chain, &later, &err) == TC_OK);
    size_t n1 = rr->n_problems;
    CHECK(n1 > 0 && rr->verified != NULL);
    CHECK(tc_verify(rr, k->trust, rr->chain, &p, &err) == TC_OK);
    CHECK(rr->n_problems == n1 && sk_X509_num(rr->chain) == 2 && sk_X509_num(rr->path) == 3);
    tc_report_free(rr);
    sk_X509_pop_free(chain, X509_free);
}

static void test_expired(pki *k)
{
    pki_spec s = pki_leaf(T0, "api.example.com", &k->inter);
    s.not_before = T0 - 100 * DAY;
    s.not_after = T0 - 10 * DAY;
    pki_cert leaf = pki_mint(&s);
    tc_report *bad = run_leaf("expired leaf", k, leaf.x, NULL);
    tc_verify_params then = params_at(T0 - 50 * DAY, "api.example.com");
    tc_report *good = run_leaf("expired leaf, judged before", k, leaf.x, &then);
    CHECK_TWIN(bad, good, K(EXPIRED), 0);
    CHECK(find(bad, K(EXPIRED), 0) && find(bad, K(EXPIRED), 0)->openssl_code == X509_V_ERR_CERT_HAS_EXPIRED);
    CHECK(msg_has(bad, K(EXPIRED), 0, "The server certificate (CN=api.example.com) expired on 2025-12-22 00:00 UTC, 10 days ago"));
    CHECK(!tc_report_ok(bad) && tc_report_ok(good));
    CHECK(bad->verified != NULL);   /* trusted path, expired leaf */
    CHECK(!has(bad, K(EXPIRES_SOON), ANY_DEPTH));
    tc_report_free(bad);
    tc_report_free(good);

    /* RFC 5280 4.1.2.5: the validity period includes notAfter itself. */
    tc_verify_params pe = params_at(T0 - 10 * DAY, "api.example.com");
    tc_report *edge = run_leaf("at notAfter exactly", k, leaf.x, &pe);
    CHECK(!has(edge, K(EXPIRED), ANY_DEPTH) && has(edge, K(EXPIRES_SOON), 0));
    CHECK(msg_has(edge, K(EXPIRES_SOON), 0, "in less than a day"));
    tc_report_free(edge);
    pe.at += 1;
    edge = run_leaf("one second after notAfter", k, leaf.x, &pe);
    CHECK(has(edge, K(EXPIRED), 0) && msg_has(edge, K(EXPIRED), 0, "less than a day ago"));
    tc_report_free(edge);

    /* One day: singular. */
    tc_verify_params p1 = params_at(T0 - 9 * DAY + 3600, "api.example.com");
    bad = run_leaf("expired 1 day ago", k, leaf.x, &p1);
    CHECK(msg_has(bad, K(EXPIRED), 0, ", 1 day ago: "));
    tc_report_free(bad);
    pki_free(&leaf);

    /* An expired intermediate: depth 1, named as the intermediate. */
    pki_spec si = pki_ca(T0 - 300 * DAY, "Old Int", &k->root);
    si.not_after = T0 - 2 * DAY;
    pki_cert old = pki_mint(&si);
    s = pki_leaf(T0 - 10 * DAY, "api.example.com", &old);
    pki_cert leaf2 = pki_mint(&s);
    STACK_OF(X509) *chain = pki_stack(leaf2.x, old.x, NULL);
    tc_verify_params p = params_at(T0, "api.example.com");
    bad = run("expired intermediate", k->trust, chain, &p);
    CHECK(has(bad, K(EXPIRED), 1) && !has(bad, K(EXPIRED), 0));
    CHECK(msg_has(bad, K(EXPIRED), 1, "The intermediate certificate (CN=Old Int) expired"));
    tc_report_free(bad);
    sk_X509_pop_free(chain, X509_free);
    pki_free(&leaf2);
    pki_free(&old);
}

static void test_not_yet_valid(pki *k)
{
    pki_spec s = pki_leaf(T0, "api.example.com", &k->inter);
    s.not_before = T0 + 5 * DAY;
    s.not_after = T0 + 95 * DAY;
    pki_cert leaf = pki_mint(&s);
    tc_report *bad = run_leaf("not yet valid", k, leaf.x, NULL);
    tc_verify_params later = params_at(T0 + 6 * DAY, "api.example.com");
    tc_report *good = run_leaf("not yet valid, judged later", k, leaf.x, &later);
    CHECK_TWIN(bad, good, K(NOT_YET_VALID), 0);
    CHECK(msg_has(bad, K(NOT_YET_VALID), 0, "is not valid until 2026-01-06 00:00 UTC, 5 days from now"));
    CHECK(good->n_problems == 0);
    tc_report_free(bad);
    tc_report_free(good);
    pki_free(&leaf);
}

static void test_hostname(pki *k)
{
    tc_verify_params pb = params_at(T0, "www.example.org");
    tc_report *bad = run_leaf("wrong host", k, k->leaf.x, &pb);
    tc_report *good = run_leaf("right host", k, k->leaf.x, NULL);
    CHECK_TWIN(bad, good, K(HOSTNAME_MISMATCH), 0);
    CHECK(msg_has(bad, K(HOSTNAME_MISMATCH), 0, "is not valid for www.example.org: "));
    CHECK(bad->verified != NULL);   /* the path is trusted; only the name is wrong */
    tc_report_free(bad);
    tc_report_free(good);

    /* An IP literal against a DNS-only certificate. */
    tc_verify_params pip = params_at(T0, "127.0.0.1");
    bad = run_leaf("IP host", k, k->leaf.x, &pip);
    CHECK(has(bad, K(HOSTNAME_MISMATCH), 0));
    tc_report_free(bad);
}

static void test_incomplete_chain(pki *k)
{
    /* The leaf alone: the intermediate is missing; its AIA URL is given. */
    pki_spec s = pki_leaf(T0, "api.example.com", &k->inter);
    s.aia = "caIssuers;URI:http://ca.example.net/int.der";
    pki_cert leaf = pki_mint(&s);
    STACK_OF(X509) *alone = pki_stack(leaf.x, NULL);
    tc_verify_params p = params_at(T0, "api.example.com");
    tc_report *bad = run("leaf alone", k->trust, alone, &p);
    tc_report *good = run_leaf("leaf with its intermediate", k, leaf.x, NULL);
    CHECK_TWIN(bad, good, K(INCOMPLETE_CHAIN), 0);
    CHECK(msg_has(bad, K(INCOMPLETE_CHAIN), 0,
                  "the issuer of the server certificate (CN=api.example.com), CN=Test Int,O=pytlscheck tests, was not sent"));
    CHECK(msg_has(bad, K(INCOMPLETE_CHAIN), 0, "; its certificate can be downloaded from http://ca.example.net/int.der."));
    CHECK(!has(bad, K(UNTRUSTED_ROOT), ANY_DEPTH) && !has(bad, K(SELF_SIGNED), ANY_DEPTH));
    CHECK(bad->verified == NULL && good->verified != NULL);
    CHECK(bad->n_problems == 1);
    tc_report_free(bad);
    tc_report_free(good);
    sk_X509_pop_free(alone, X509_free);
    pki_free(&leaf);

    /* Two intermediates, the upper one missing: named at depth 1. */
    pki_spec s1 = pki_ca(T0 - 300 * DAY, "Upper Int", &k->root);
    pki_cert i1 = pki_mint(&s1);
    pki_spec s2 = pki_ca(T0 - 200 * DAY, "Lower Int", &i1);
    pki_cert i2 = pki_mint(&s2);
    s = pki_leaf(T0, "api.example.com", &i2);
    pki_cert l2 = pki_mint(&s);
    STACK_OF(X509) *missing = pki_stack(l2.x, i2.x, NULL);
    STACK_OF(X509) *shuffled = pki_stack(l2.x, i1.x, i2.x, NULL);   /* wrong order */
    bad = run("upper intermediate missing", k->trust, missing, &p);
    good = run("intermediates in the wrong order", k->trust, shuffled, &p);
    /* A CA on top: a private root or a second intermediate (issue 13). */
    CHECK_TWIN(bad, good, K(UNKNOWN_ROOT), 1);
    CHECK(msg_has(bad, K(UNKNOWN_ROOT), 1, "ends in the intermediate certificate (CN=Lower Int), a CA certificate whose issuer, CN=Upper Int, is not in"));
    CHECK(msg_has(bad, K(UNKNOWN_ROOT), 1, "second intermediate that was not sent"));
    CHECK(!has(bad, K(INCOMPLETE_CHAIN), ANY_DEPTH));
    CHECK(only_shape_warnings(good) && good->verified && sk_X509_num(good->verified) == 4);
    CHECK(has(good, K(CHAIN_WRONG_ORDER), -1));
    tc_report_free(bad);
    tc_report_free(good);
    sk_X509_pop_free(missing, X509_free);
    sk_X509_pop_free(shuffled, X509_free);
    pki_free(&l2);
    pki_free(&i2);
    pki_free(&i1);
}

static void test_self_signed(pki *k)
{
    pki_spec s = pki_leaf(T0, "api.example.com", NULL);
    pki_cert self = pki_mint(&s);
    STACK_OF(X509) *chain = pki_stack(self.x, NULL);
    tc_verify_params p = params_at(T0, "api.example.com");
    tc_report *bad = run("self-signed leaf", k->trust, chain, &p);
    tc_trust *pinned = trust_of(self.x, NULL);
    tc_report *good = run("self-signed leaf, trusted", pinned, chain, &p);
    CHECK_TWIN(bad, good, K(SELF_SIGNED), 0);
    CHECK(msg_has(bad, K(SELF_SIGNED), 0, "The server certificate (CN=api.example.com) is self-signed: it vouches for itself"));
    CHECK(msg_has(bad, K(SELF_SIGNED), 0, "the 1 trust anchor given"));
    CHECK(!has(bad, K(UNTRUSTED_ROOT), ANY_DEPTH) && !has(bad, K(INCOMPLETE_CHAIN), ANY_DEPTH));
    CHECK(good->n_problems == 0 && good->verified != NULL);
    tc_report_free(bad);
    tc_report_free(good);
    tc_trust_free(pinned);
    sk_X509_pop_free(chain, X509_free);
    pki_free(&self);
}

static void test_untrusted_root(pki *k)
{
    pki_spec so = pki_ca(T0 - 400 * DAY, "Other Root", NULL);
    pki_cert other = pki_mint(&so);
    tc_trust *wrong = trust_of(other.x, NULL);
    tc_verify_params p = params_at(T0, "api.example.com");

    /* The full chain, root included, against another root. */
    STACK_OF(X509) *full = pki_stack(k->leaf.x, k->inter.x, k->root.x, NULL);
    tc_report *bad = run("untrusted root", wrong, full, &p);
    tc_report *good = run("trusted root", k->trust, full, &p);
    CHECK_TWIN(bad, good, K(UNTRUSTED_ROOT), 2);
    CHECK(msg_has(bad, K(UNTRUSTED_ROOT), 2, "The chain ends in the root CN=Test Root,O=pytlscheck tests, which is not in the 1 trust anchor given"));
    CHECK(!has(bad, K(INCOMPLETE_CHAIN), ANY_DEPTH) && !has(bad, K(SELF_SIGNED), ANY_DEPTH));
    CHECK(bad->verified == NULL && sk_X509_num(bad->path) == 3);
    tc_report_free(bad);
    tc_report_free(good);

    /* Without the root: the chain is incomplete, the root named as missing. */
    STACK_OF(X509) *noroot = pki_stack(k->leaf.x, k->inter.x, NULL);
    bad = run("unknown root not sent", wrong, noroot, &p);
    CHECK(has(bad, K(UNKNOWN_ROOT), 1) && !has(bad, K(UNTRUSTED_ROOT), ANY_DEPTH)
          && !has(bad, K(INCOMPLETE_CHAIN), ANY_DEPTH));
    CHECK(msg_has(bad, K(UNKNOWN_ROOT), 1, "whose issuer, CN=Test Root,O=pytlscheck tests, is not in"));
    CHECK(strstr(bad->problems[0].fix, "trust=") != NULL);
    tc_report_free(bad);

    /* A leaf issued directly by an untrusted root. */
    pki_spec sl = pki_leaf(T0, "api.example.com", &other);
    pki_cert direct = pki_mint(&sl);
    STACK_OF(X509) *two = pki_stack(direct.x, other.x, NULL);
    bad = run("leaf directly under an untrusted root", k->trust, two, &p);
    good = run("leaf directly under a trusted root", wrong, two, &p);
    CHECK_TWIN(bad, good, K(UNTRUSTED_ROOT), 1);
    CHECK(!has(bad, K(SELF_SIGNED), ANY_DEPTH));
    CHECK(only_shape_warnings(good) && has(good, K(CHAIN_INCLUDES_ROOT), -1));
    tc_report_free(bad);
    tc_report_free(good);

    sk_X509_pop_free(full, X509_free);
    sk_X509_pop_free(noroot, X509_free);
    sk_X509_pop_free(two, X509_free);
    pki_free(&direct);
    tc_trust_free(wrong);
    pki_free(&other);
}

/* A PEM file of x in a fresh temporary file; the path is malloc'd. */
static char *pem_file(X509 *x)
{
    char *path = strdup("/tmp/tc_verify_pem_XXXXXX");
    int fd = path ? mkstemp(path) : -1;
    char *pem = pki_pem(x);
    if (fd < 0 || write(fd, pem, strlen(pem)) != (ssize_t)strlen(pem))
        pki_die("writing a PEM file");
    close(fd);
    free(pem);
    return path;
}

/* The other named list's words (tc_kinds.h TC_WORDS_*): the system store
 * lacks the root that "Mozilla's list" has, and the reverse; twins
 * without a comparison, or with the root in neither list, say nothing. */
static void test_other_list_words(pki *k)
{
    pki_spec so = pki_ca(T0 - 400 * DAY, "Other Root", NULL);
    pki_cert other = pki_mint(&so);
    char *ours = pem_file(k->root.x), *theirs = pem_file(other.x);
    char dir[] = "/tmp/tc_verify_dir_XXXXXX";
    if (mkdtemp(dir) == NULL)
        pki_die("mkdtemp");
    tc_verify_params p = params_at(T0, "api.example.com");
    STACK_OF(X509) *full = pki_stack(k->leaf.x, k->inter.x, k->root.x, NULL);
    STACK_OF(X509) *noroot = pki_stack(k->leaf.x, k->inter.x, NULL);
    tc_error err;
    tc_error_clear(&err);

    /* An outdated system bundle: the other root only; Mozilla's has ours. */
    setenv("SSL_CERT_FILE", theirs, 1);
    setenv("SSL_CERT_DIR", dir, 1);
    tc_trust *sys = NULL, *plain = NULL, *moz = NULL;
    CHECK(tc_trust_new_system(&sys, &err) == TC_OK);
    CHECK(tc_trust_set_compare(sys, ours, &err) == TC_OK);
    CHECK(tc_trust_new_system(&plain, &err) == TC_OK);
    tc_report *bad = run("root missing from the system bundle", sys, full, &p);
    CHECK(msg_has(bad, K(UNTRUSTED_ROOT), 2, TC_WORDS_THIS_ROOT TC_WORDS_ONLY_MOZILLA "."));
    tc_report *twin = run("root missing, no comparison", plain, full, &p);
    CHECK(msg_lacks(twin, K(UNTRUSTED_ROOT), 2, TC_WORDS_ONLY_MOZILLA));
    tc_report_free(bad);
    tc_report_free(twin);
    bad = run("issuer missing from the system bundle", sys, noroot, &p);
    CHECK(msg_has(bad, K(UNKNOWN_ROOT), 1, TC_WORDS_ITS_ISSUER TC_WORDS_ONLY_MOZILLA));
    tc_report_free(bad);

    /* The reverse: the system store has ours, Mozilla's list does not. */
    setenv("SSL_CERT_FILE", ours, 1);
    CHECK(tc_trust_new_mozilla(theirs, "certifi 1.0", &moz, &err) == TC_OK);
    bad = run("root only in the system store", moz, full, &p);
    CHECK(msg_has(bad, K(UNTRUSTED_ROOT), 2, TC_WORDS_THIS_ROOT TC_WORDS_ONLY_SYSTEM "."));
    tc_report_free(bad);
    tc_trust_free(moz);

    /* In neither list: the verdict alone. */
    setenv("SSL_CERT_FILE", theirs, 1);
    CHECK(tc_trust_new_mozilla(theirs, "certifi 1.0", &moz, &err) == TC_OK);
    bad = run("root in neither list", moz, full, &p);
    CHECK(msg_lacks(bad, K(UNTRUSTED_ROOT), 2, TC_WORDS_ONLY_SYSTEM));
    tc_report_free(bad);

    unsetenv("SSL_CERT_FILE");
    unsetenv("SSL_CERT_DIR");
    tc_trust_free(moz);
    tc_trust_free(sys);
    tc_trust_free(plain);
    sk_X509_pop_free(full, X509_free);
    sk_X509_pop_free(noroot, X509_free);
    unlink(ours);
    unlink(theirs);
    rmdir(dir);
    free(ours);
    free(theirs);
    pki_free(&other);
}

static void test_cross_signed(pki *k)
{
    /* New Root (self-signed) and the same key cross-signed by Old Root. */
    pki_spec s = pki_ca(T0 - 400 * DAY, "Old Root", NULL);
    pki_cert oldroot = pki_mint(&s);
    s = pki_ca(T0 - 100 * DAY, "New Root", NULL);
    pki_cert newroot = pki_mint(&s);
    s = pki_ca(T0 - 100 * DAY, "New Root", &oldroot);
    s.reuse_key = newroot.key;
    pki_cert cross = pki_mint(&s);
    s = pki_ca(T0 - 50 * DAY, "New Int", &newroot);
    pki_cert inter = pki_mint(&s);
    s = pki_leaf(T0, "api.example.com", &inter);
    pki_cert leaf = pki_mint(&s);

    STACK_OF(X509) *chain = pki_stack(leaf.x, inter.x, cross.x, NULL);
    tc_verify_params p = params_at(T0, "api.example.com");
    tc_trust *t_new = trust_of(newroot.x, NULL), *t_old = trust_of(oldroot.x, NULL);
    tc_report *r = run("cross-signed, new root trusted", t_new, chain, &p);
    CHECK(only_shape_warnings(r) && r->verified && sk_X509_num(r->verified) == 3);
    CHECK(has(r, K(CHAIN_UNNEEDED_CERTIFICATES), -1));   /* the cross-certificate */
    tc_report_free(r);
    r = run("cross-signed, old root trusted", t_old, chain, &p);
    CHECK(r->n_problems == 0 && r->verified && sk_X509_num(r->verified) == 4);
    tc_report_free(r);
    r = run("cross-signed, neither trusted", k->trust, chain, &p);
    CHECK(has(r, K(UNKNOWN_ROOT), 2));
    CHECK(msg_has(r, K(UNKNOWN_ROOT), 2, "ends in the intermediate certificate (CN=New Root), a CA certificate whose issuer, CN=Old Root, is not in"));
    tc_report_free(r);

    tc_trust_free(t_new);
    tc_trust_free(t_old);
    sk_X509_pop_free(chain, X509_free);
    pki_free(&leaf);
    pki_free(&inter);
    pki_free(&cross);
    pki_free(&newroot);
    pki_free(&oldroot);
}

static void test_alternative_paths(pki *k)
{
    /* Two certificates for the same intermediate "Int B" (same key): one
     * under a CA whose name constraints exclude the leaf's name, one
     * directly under the root.  OpenSSL takes the first it finds and does
     * not backtrack; the verdict must not depend on the order sent. */
    tc_verify_params p = params_at(T0, "api.example.com");
    pki_spec s = pki_ca(T0 - 300 * DAY, "Constrained CA", &k->root);
    s.name_constraints = "critical,excluded;DNS:api.example.com";
    pki_cert constrained = pki_mint(&s);
    s = pki_ca(T0 - 200 * DAY, "Int B", &constrained);
    pki_cert b_under_nc = pki_mint(&s);
    s = pki_ca(T0 - 200 * DAY, "Int B", &k->root);
    s.reuse_key = b_under_nc.key;
    pki_cert b_under_root = pki_mint(&s);
    s = pki_leaf(T0, "api.example.com", &b_under_nc);
    pki_cert leaf = pki_mint(&s);

    STACK_OF(X509) *order1 = pki_stack(leaf.x, b_under_nc.x, constrained.x, b_under_root.x, NULL);
    STACK_OF(X509) *order2 = pki_stack(leaf.x, b_under_root.x, b_under_nc.x, constrained.x, NULL);
    tc_report *r1 = run("constrained path first", k->trust, order1, &p);
    tc_report *r2 = run("good path first", k->trust, order2, &p);
    CHECK(only_shape_warnings(r1) && r1->verified && sk_X509_num(r1->verified) == 3);
    CHECK(only_shape_warnings(r2) && r2->verified && sk_X509_num(r2->verified) == 3);
    tc_report_free(r1);
    tc_report_free(r2);

    /* Only the constrained path: the violation is reported. */
    STACK_OF(X509) *only = pki_stack(leaf.x, b_under_nc.x, constrained.x, NULL);
    r1 = run("only the constrained path", k->trust, only, &p);
    CHECK(has(r1, K(NAME_CONSTRAINTS_VIOLATION), 0));
    tc_report_free(r1);

    /* A dead end first (Int B under an unknown root), then the good one. */
    pki_spec so = pki_ca(T0 - 400 * DAY, "Unknown Root", NULL);
    pki_cert unknown = pki_mint(&so);
    s = pki_ca(T0 - 100 * DAY, "Int B", &unknown);
    s.reuse_key = b_under_nc.key;
    pki_cert b_dead = pki_mint(&s);
    STACK_OF(X509) *dead_first = pki_stack(leaf.x, b_dead.x, b_under_root.x, NULL);
    r1 = run("dead end first", k->trust, dead_first, &p);
    CHECK(only_shape_warnings(r1) && r1->verified != NULL);
    CHECK(msg_has(r1, K(CHAIN_UNNEEDED_CERTIFICATES), -1, "certificate 2 (CN=Int B)"));
    tc_report_free(r1);

    sk_X509_pop_free(order1, X509_free);
    sk_X509_pop_free(order2, X509_free);
    sk_X509_pop_free(only, X509_free);
    sk_X509_pop_free(dead_first, X509_free);
    pki_free(&b_dead);
    pki_free(&unknown);
    pki_free(&leaf);
    pki_free(&b_under_root);
    pki_free(&b_under_nc);
    pki_free(&constrained);
}

static void test_legacy_root(void)
{
    /* A root like Go Daddy Class 2 or TWCA Global Root CA in the system
     * store: basicConstraints not critical, no keyUsage, no SKI.  As the
     * anchor it is accepted, as browsers do (test_invalid_ca shows the
     * missing keyUsage and SKI refused on an intermediate); the
     * non-critical basicConstraints is a warning, as on any CA. */
    pki_spec s = pki_ca(T0 - 400 * DAY, "Legacy Root", NULL);
    s.bc_critical = 0;
    s.key_usage = "";
    s.no_skid = 1;
    pki_cert legacy = pki_mint(&s);
    s = pki_ca(T0 - 300 * DAY, "Modern Int", &legacy);
    pki_cert inter = pki_mint(&s);
    s = pki_leaf(T0, "api.example.com", &inter);
    pki_cert leaf = pki_mint(&s);
    tc_trust *t = trust_of(legacy.x, NULL);
    STACK_OF(X509) *chain = pki_stack(leaf.x, inter.x, NULL);
    tc_verify_params p = params_at(T0, "api.example.com");
    tc_report *r = run("legacy root as the anchor", t, chain, &p);
    CHECK(r->n_problems == 1 && r->problems[0].kind == K(PROFILE_DEVIATION)
          && r->problems[0].depth == 2);
    CHECK(r->verified && sk_X509_num(r->verified) == 3);
    tc_report_free(r);
    tc_trust_free(t);
    sk_X509_pop_free(chain, X509_free);
    pki_free(&leaf);
    pki_free(&inter);
    pki_free(&legacy);
}

static void test_intermediate_anchor(pki *k)
{
    /* An intermediate given as the trust anchor is an anchor. */
    tc_trust *t = trust_of(k->inter.x, NULL);
    STACK_OF(X509) *alone = pki_stack(k->leaf.x, NULL);
    tc_verify_params p = params_at(T0, "api.example.com");
    tc_report *r = run("intermediate as anchor", t, alone, &p);
    CHECK(r->n_problems == 0 && r->verified && sk_X509_num(r->verified) == 2);
    tc_report_free(r);
    tc_trust_free(t);
    sk_X509_pop_free(alone, X509_free);
}

static void test_weak_signature(pki *k)
{
    pki_spec s = pki_ca(T0 - 300 * DAY, "SHA1 Int", &k->root);
    s.digest = "sha1";
    pki_cert weak = pki_mint(&s);
    s = pki_leaf(T0, "api.example.com", &weak);
    pki_cert leaf = pki_mint(&s);
    STACK_OF(X509) *chain = pki_stack(leaf.x, weak.x, NULL);
    tc_verify_params p = params_at(T0, "api.example.com");
    tc_report *bad = run("SHA-1 intermediate", k->trust, chain, &p);
    tc_report *good = run_leaf("SHA-256 intermediate", k, k->leaf.x, NULL);
    CHECK_TWIN(bad, good, K(WEAK_SIGNATURE), 1);
    CHECK(msg_has(bad, K(WEAK_SIGNATURE), 1, "is signed with SHA-1 (ecdsa-with-SHA1), a broken hash algorithm"));
    CHECK(!has(bad, K(WEAK_SIGNATURE), 0));
    tc_report_free(bad);
    tc_report_free(good);
    sk_X509_pop_free(chain, X509_free);
    pki_free(&leaf);
    pki_free(&weak);

    /* A SHA-1 self-signed root as the anchor is fine: its signature is not
     * what makes it trusted.  The same root, untrusted, is flagged. */
    s = pki_ca(T0 - 400 * DAY, "SHA1 Root", NULL);
    s.digest = "sha1";
    pki_cert root = pki_mint(&s);
    s = pki_leaf(T0, "api.example.com", &root);
    pki_cert l2 = pki_mint(&s);
    STACK_OF(X509) *c2 = pki_stack(l2.x, root.x, NULL);
    tc_trust *t = trust_of(root.x, NULL);
    tc_report *r = run("SHA-1 anchor", t, c2, &p);
    CHECK(only_shape_warnings(r));
    tc_report_free(r);
    r = run("SHA-1 untrusted root", k->trust, c2, &p);
    CHECK(has(r, K(WEAK_SIGNATURE), 1) && has(r, K(UNTRUSTED_ROOT), 1));
    tc_report_free(r);
    tc_trust_free(t);
    sk_X509_pop_free(c2, X509_free);
    pki_free(&l2);
    pki_free(&root);

    /* MD5, on an RSA leaf. */
    s = pki_leaf(T0, "api.example.com", NULL);
    s.key = "rsa1024";   /* MD5 needs RSA; the size does not matter here */
    s.digest = "md5";
    pki_cert md5 = pki_mint(&s);
    STACK_OF(X509) *c3 = pki_stack(md5.x, NULL);
    t = trust_of(md5.x, NULL);
    r = run("MD5 self-signed leaf, pinned", t, c3, &p);
    CHECK(!has(r, K(WEAK_SIGNATURE), 0));   /* a pinned self-signed anchor */
    tc_report_free(r);
    r = run("MD5 self-signed leaf", k->trust, c3, &p);
    CHECK(msg_has(r, K(WEAK_SIGNATURE), 0, "signed with MD5 (md5WithRSAEncryption)"));
    tc_report_free(r);
    tc_trust_free(t);
    sk_X509_pop_free(c3, X509_free);
    pki_free(&md5);
}

static void test_weak_key(pki *k)
{
    pki_spec s = pki_leaf(T0, "api.example.com", &k->inter);
    s.key = "rsa1024";
    pki_cert weak = pki_mint(&s);
    s.key = "rsa2048";
    pki_cert strong = pki_mint(&s);
    tc_report *bad = run_leaf("RSA-1024 leaf", k, weak.x, NULL);
    tc_report *good = run_leaf("RSA-2048 leaf", k, strong.x, NULL);
    CHECK_TWIN(bad, good, K(WEAK_KEY), 0);
    CHECK(msg_has(bad, K(WEAK_KEY), 0, "has a 1024-bit RSA key, which modern TLS clients refuse"));
    CHECK(good->n_problems == 0);
    tc_report_free(bad);
    tc_report_free(good);
    pki_free(&weak);
    pki_free(&strong);

    s.key = "ec224";
    pki_cert p224 = pki_mint(&s);
    bad = run_leaf("P-224 leaf", k, p224.x, NULL);
    CHECK(msg_has(bad, K(WEAK_KEY), 0, "has a 224-bit EC (curve secp224r1; clients accept only"));
    tc_report_free(bad);
    pki_free(&p224);
}

static void test_revoked(pki *k)
{
    const X509 *revoked[] = { k->leaf.x };
    X509_CRL *root_crl = pki_crl(&k->root, T0 - DAY, T0 + 7 * DAY, NULL, 0);
    X509_CRL *int_bad = pki_crl(&k->inter, T0 - DAY, T0 + 7 * DAY, revoked, 1);
    X509_CRL *int_good = pki_crl(&k->inter, T0 - DAY, T0 + 7 * DAY, NULL, 0);
    STACK_OF(X509_CRL) *bad_crls = sk_X509_CRL_new_null(), *good_crls = sk_X509_CRL_new_null(),
                       *partial = sk_X509_CRL_new_null();
    sk_X509_CRL_push(bad_crls, root_crl);
    sk_X509_CRL_push(bad_crls, int_bad);
    sk_X509_CRL_push(good_crls, root_crl);
    sk_X509_CRL_push(good_crls, int_good);
    sk_X509_CRL_push(partial, int_good);

    tc_verify_params p = params_at(T0, "api.example.com");
    p.crls = bad_crls;
    tc_report *bad = run_leaf("revoked leaf", k, k->leaf.x, &p);
    p.crls = good_crls;
    tc_report *good = run_leaf("leaf not on the CRL", k, k->leaf.x, &p);
    CHECK_TWIN(bad, good, K(REVOKED), 0);
    CHECK(find(bad, K(REVOKED), 0) && find(bad, K(REVOKED), 0)->openssl_code == X509_V_ERR_CERT_REVOKED);
    CHECK(msg_has(bad, K(REVOKED), 0, "has been revoked by its issuer on 2025-12-31 00:00 UTC (reason: keyCompromise): its CA says"));
    CHECK(good->n_problems == 0);
    tc_report_free(bad);
    tc_report_free(good);

    /* No CRL for the intermediate (the root's is missing): the leaf is
     * checked, the intermediate is a warning naming the CRL it needs, and
     * the chain verifies (issue 16 item 6). */
    p.crls = partial;
    bad = run_leaf("CRL of the root missing", k, k->leaf.x, &p);
    const tc_problem *rn = find(bad, K(REVOCATION_NOT_CHECKED), 1);
    CHECK(rn != NULL && rn->openssl_code == X509_V_ERR_UNABLE_TO_GET_CRL);
    CHECK(msg_has(bad, K(REVOCATION_NOT_CHECKED), 1, "was not checked for revocation, although CRLs were given: it needs a CRL from CN=Test Root,O=pytlscheck tests"));
    CHECK(msg_has(bad, K(REVOCATION_NOT_CHECKED), 1, "none of the CRLs given is from that issuer"));
    CHECK(!has(bad, K(REVOCATION_NOT_CHECKED), 0) && !has(bad, K(CHAIN_INVALID), 1));
    CHECK(tc_report_ok(bad) && bad->verified != NULL);
    tc_report_free(bad);
    /* The same CRL revoking the leaf: revoked, whatever the root's CRL. */
    STACK_OF(X509_CRL) *partial_bad = sk_X509_CRL_new_null();
    sk_X509_CRL_push(partial_bad, int_bad);
    p.crls = partial_bad;
    bad = run_leaf("revoked, CRL of the root missing", k, k->leaf.x, &p);
    CHECK(has(bad, K(REVOKED), 0) && has(bad, K(REVOCATION_NOT_CHECKED), 1) && !tc_report_ok(bad));
    tc_report_free(bad);
    sk_X509_CRL_free(partial_bad);

    /* An expired CRL. */
    X509_CRL *stale = pki_crl(&k->inter, T0 - 30 * DAY, T0 - 20 * DAY, NULL, 0);
    STACK_OF(X509_CRL) *stale_crls = sk_X509_CRL_new_null();
    sk_X509_CRL_push(stale_crls, root_crl);
    sk_X509_CRL_push(stale_crls, stale);
    p.crls = stale_crls;
    bad = run_leaf("stale CRL", k, k->leaf.x, &p);
    CHECK(msg_has(bad, K(CHAIN_INVALID), 0, "the CRL from CN=Test Int,O=pytlscheck tests has expired"));
    tc_report_free(bad);

    sk_X509_CRL_free(bad_crls);
    sk_X509_CRL_free(good_crls);
    sk_X509_CRL_free(partial);
    sk_X509_CRL_free(stale_crls);
    X509_CRL_free(root_crl);
    X509_CRL_free(int_bad);
    X509_CRL_free(int_good);
    X509_CRL_free(stale);
}

static void test_invalid_purpose(pki *k)
{
    pki_spec s = pki_leaf(T0, "api.example.com", &k->inter);
    s.eku = "clientAuth";
    pki_cert client = pki_mint(&s);
    tc_report *bad = run_leaf("clientAuth-only leaf as a server", k, client.x, NULL);
    tc_verify_params pc = params_at(T0, NULL);
    pc.purpose = TC_PURPOSE_CLIENT;
    tc_report *good = run_leaf("clientAuth-only leaf as a client", k, client.x, &pc);
    CHECK_TWIN(bad, good, K(INVALID_PURPOSE), 0);
    CHECK(find(bad, K(INVALID_PURPOSE), 0)->openssl_code == X509_V_ERR_INVALID_PURPOSE);
    CHECK(msg_has(bad, K(INVALID_PURPOSE), 0, "The server certificate (CN=api.example.com) may not be used for this purpose: its extendedKeyUsage allows only clientAuth, not serverAuth, which the certificate of a TLS server needs."));
    CHECK(good->n_problems == 0);
    tc_report_free(bad);
    tc_report_free(good);

    /* The mirror: a serverAuth-only leaf as a client certificate. */
    s.eku = "serverAuth";
    pki_cert server = pki_mint(&s);
    bad = run_leaf("serverAuth-only leaf as a client", k, server.x, &pc);
    CHECK(msg_has(bad, K(INVALID_PURPOSE), 0, "The client certificate (CN=api.example.com) may not be used for this purpose"));
    tc_report_free(bad);

    /* Required EKUs given by the caller. */
    const char *ekus[] = { "codeSigning" };
    tc_verify_params pe = params_at(T0, "api.example.com");
    pe.required_ekus = ekus;
    pe.n_required_ekus = 1;
    bad = run_leaf("codeSigning required", k, server.x, &pe);
    CHECK(msg_has(bad, K(INVALID_PURPOSE), 0, "allows only serverAuth, without codeSigning, which you required"));
    tc_report_free(bad);
    const char *ekus_ok[] = { "serverAuth", "1.3.6.1.5.5.7.3.1" };
    pe.required_ekus = ekus_ok;
    pe.n_required_ekus = 2;
    good = run_leaf("serverAuth required, by name and OID", k, server.x, &pe);
    CHECK(good->n_problems == 0);
    tc_report_free(good);

    /* A CA certificate as the leaf. */
    s = pki_leaf(T0, "api.example.com", &k->inter);
    s.ca = 1;
    pki_cert ca_leaf = pki_mint(&s);
    bad = run_leaf("CA certificate as the leaf", k, ca_leaf.x, NULL);
    CHECK(msg_has(bad, K(INVALID_PURPOSE), 0, "it is a CA certificate (basicConstraints CA:TRUE)"));
    tc_report_free(bad);

    pki_free(&client);
    pki_free(&server);
    pki_free(&ca_leaf);
}

static void test_invalid_ca(pki *k)
{
    tc_verify_params p = params_at(T0, "api.example.com");

    /* An "intermediate" that says CA:FALSE (no keyUsage, so OpenSSL builds
     * the path through it and then refuses it: code 79). */
    pki_spec s = pki_ca(T0 - 300 * DAY, "Leafy Int", &k->root);
    s.ca = 0;
    s.key_usage = "";
    s.eku = "";
    pki_cert notca = pki_mint(&s);
    s = pki_leaf(T0, "api.example.com", &notca);
    pki_cert leaf = pki_mint(&s);
    STACK_OF(X509) *chain = pki_stack(leaf.x, notca.x, NULL);
    tc_report *bad = run("CA:FALSE intermediate", k->trust, chain, &p);
    tc_report *good = run_leaf("CA:TRUE intermediate", k, k->leaf.x, NULL);
    CHECK_TWIN(bad, good, K(INVALID_CA), 1);
    CHECK(msg_has(bad, K(INVALID_CA), 1, "The intermediate certificate (CN=Leafy Int) is used to sign another certificate but is not allowed to act as a CA: its basicConstraints says CA:FALSE (it is a leaf certificate), yet it signed the server certificate (CN=api.example.com)."));
    CHECK(!has(bad, K(INCOMPLETE_CHAIN), ANY_DEPTH));
    tc_report_free(bad);
    tc_report_free(good);
    sk_X509_pop_free(chain, X509_free);
    pki_free(&leaf);
    pki_free(&notca);

    /* A CA whose keyUsage forbids signing certificates: OpenSSL will not
     * even take it as the issuer; it was sent, so it is the problem, not a
     * missing intermediate. */
    s = pki_ca(T0 - 300 * DAY, "No CertSign Int", &k->root);
    s.key_usage = "critical,digitalSignature,cRLSign";
    pki_cert nosign = pki_mint(&s);
    s = pki_leaf(T0, "api.example.com", &nosign);
    pki_cert l2 = pki_mint(&s);
    chain = pki_stack(l2.x, nosign.x, NULL);
    bad = run("intermediate without keyCertSign", k->trust, chain, &p);
    CHECK(has(bad, K(INVALID_CA), ANY_DEPTH) && !has(bad, K(INCOMPLETE_CHAIN), ANY_DEPTH));
    CHECK(msg_has(bad, K(INVALID_CA), ANY_DEPTH, "its keyUsage does not include keyCertSign, so its key may not sign certificates, yet it signed the server certificate (CN=api.example.com)"));
    CHECK(bad->verified == NULL);
    tc_report_free(bad);
    sk_X509_pop_free(chain, X509_free);
    pki_free(&l2);
    pki_free(&nosign);

    /* No keyUsage on an intermediate: RFC 5280 4.2.1.3 requires it of a
     * CA; on the trust anchor it is moot (6.3.3 (f): "if present"). */
    s = pki_ca(T0 - 300 * DAY, "No KU Int", &k->root);
    s.key_usage = "";
    pki_cert noku = pki_mint(&s);
    s = pki_leaf(T0, "api.example.com", &noku);
    pki_cert l4 = pki_mint(&s);
    chain = pki_stack(l4.x, noku.x, NULL);
    bad = run("intermediate without keyUsage", k->trust, chain, &p);
    CHECK(msg_has(bad, K(INVALID_CA), 1, "it has no keyUsage extension, which RFC 5280 section 4.2.1.3 requires of a CA certificate"));
    tc_report_free(bad);
    tc_trust *t_noku = trust_of(noku.x, NULL);
    STACK_OF(X509) *l4_alone = pki_stack(l4.x, NULL);
    good = run("anchor without keyUsage", t_noku, l4_alone, &p);
    CHECK(good->n_problems == 0);
    tc_report_free(good);
    tc_trust_free(t_noku);
    sk_X509_pop_free(l4_alone, X509_free);
    sk_X509_pop_free(chain, X509_free);
    pki_free(&l4);
    pki_free(&noku);

    /* A root whose keyUsage is empty (so no keyCertSign): OpenSSL finds it
     * invalid and cannot even take it as the leaf's issuer.  The report
     * names the root and why, not a vague "unspecified" error. */
    s = pki_ca(T0 - 400 * DAY, "Empty KU Root", NULL);
    s.key_usage = "";
    s.extra_oid = "2.5.29.15";              /* keyUsage, a BIT STRING with no bit */
    s.extra_value = "critical,DER:03:01:00";
    pki_cert emptyku = pki_mint(&s);
    s = pki_leaf(T0, "api.example.com", &emptyku);
    pki_cert l5 = pki_mint(&s);
    tc_trust *t_empty = trust_of(emptyku.x, NULL);
    chain = pki_stack(l5.x, NULL);
    bad = run("root with an empty keyUsage", t_empty, chain, &p);
    const tc_problem *ic = find(bad, K(INVALID_CA), -1);
    CHECK(ic != NULL && ic->openssl_code == X509_V_ERR_KEYUSAGE_NO_CERTSIGN);
    CHECK(msg_has(bad, K(INVALID_CA), -1, "The root certificate (CN=Empty KU Root) is used to sign another certificate but is not allowed to act as a CA: its keyUsage does not include keyCertSign"));
    CHECK(!has(bad, K(CHAIN_INVALID), ANY_DEPTH) && !has(bad, K(INCOMPLETE_CHAIN), ANY_DEPTH));
    CHECK(bad->verified == NULL);
    tc_report_free(bad);
    tc_trust_free(t_empty);
    sk_X509_pop_free(chain, X509_free);
    pki_free(&l5);
    pki_free(&emptyku);

    /* A CA whose basicConstraints is not critical (RFC 5280 4.2.1.9 asks
     * it of the issuer): a warning naming the clients that refuse it. */
    s = pki_ca(T0 - 300 * DAY, "Soft Int", &k->root);
    s.bc_critical = 0;
    pki_cert soft = pki_mint(&s);
    s = pki_leaf(T0, "api.example.com", &soft);
    pki_cert l3 = pki_mint(&s);
    chain = pki_stack(l3.x, soft.x, NULL);
    bad = run("non-critical basicConstraints", k->trust, chain, &p);
    CHECK(msg_has(bad, K(PROFILE_DEVIATION), 1, "its basicConstraints (CA:TRUE) is not marked critical"));
    CHECK(msg_has(bad, K(PROFILE_DEVIATION), 1, "Python 3.13 and later refuse it"));
    CHECK(bad->n_problems == 1 && bad->verified != NULL);
    tc_report_free(bad);
    tc_trust *t_soft = trust_of(soft.x, NULL);
    STACK_OF(X509) *l3_alone = pki_stack(l3.x, NULL);
    good = run("anchor with a non-critical basicConstraints", t_soft, l3_alone, &p);
    CHECK(good->n_problems == 1 && good->problems[0].kind == K(PROFILE_DEVIATION)
          && good->verified != NULL);
    tc_report_free(good);
    tc_trust_free(t_soft);
    sk_X509_pop_free(l3_alone, X509_free);
    sk_X509_pop_free(chain, X509_free);
    pki_free(&l3);
    pki_free(&soft);
}

static void test_path_length(pki *k)
{
    tc_verify_params p = params_at(T0, "api.example.com");
    pki_spec s = pki_ca(T0 - 300 * DAY, "Upper Int", &k->root);
    s.pathlen = 0;
    pki_cert upper0 = pki_mint(&s);
    s.pathlen = 1;
    s.reuse_key = upper0.key;
    pki_cert upper1 = pki_mint(&s);
    s = pki_ca(T0 - 200 * DAY, "Lower Int", &upper0);
    pki_cert lower = pki_mint(&s);
    s = pki_leaf(T0, "api.example.com", &lower);
    pki_cert leaf = pki_mint(&s);

    STACK_OF(X509) *c0 = pki_stack(leaf.x, lower.x, upper0.x, NULL);
    STACK_OF(X509) *c1 = pki_stack(leaf.x, lower.x, upper1.x, NULL);
    tc_report *bad = run("pathlen 0 with an intermediate below", k->trust, c0, &p);
    tc_report *good = run("pathlen 1 with an intermediate below", k->trust, c1, &p);
    CHECK_TWIN(bad, good, K(PATH_LENGTH_EXCEEDED), 2);
    CHECK(msg_has(bad, K(PATH_LENGTH_EXCEEDED), 2, "The chain is longer than the intermediate certificate (CN=Upper Int) allows: its pathLenConstraint is 0, so no intermediate certificate may follow it, yet 1 does."));
    CHECK(good->n_problems == 0);
    tc_report_free(bad);
    tc_report_free(good);

    /* The caller's max_depth: two intermediates, at most one allowed. */
    tc_verify_params pm = p;
    pm.max_depth = 1;
    bad = run("max_depth 1, two intermediates", k->trust, c1, &pm);
    pm.max_depth = 2;
    good = run("max_depth 2, two intermediates", k->trust, c1, &pm);
    CHECK_TWIN(bad, good, K(PATH_LENGTH_EXCEEDED), -1);
    CHECK(msg_has(bad, K(PATH_LENGTH_EXCEEDED), -1, "The chain is longer than the maximum depth you set (max_depth=1) allows"));
    CHECK(bad->verified == NULL && good->verified != NULL);
    tc_report_free(bad);
    tc_report_free(good);

    /* Self-issued intermediates do not count (RFC 5280 6.1.4 (l)):
     * root -> Upper Int -> Upper Int (new key, self-issued) -> leaf. */
    s = pki_ca(T0 - 100 * DAY, "Upper Int", &upper1);
    pki_cert rekey = pki_mint(&s);
    s = pki_leaf(T0, "api.example.com", &rekey);
    pki_cert l2 = pki_mint(&s);
    STACK_OF(X509) *si = pki_stack(l2.x, rekey.x, upper1.x, NULL);
    pm.max_depth = 1;
    good = run("max_depth 1, one intermediate plus a self-issued one", k->trust, si, &pm);
    CHECK(good->n_problems == 0 && good->verified && sk_X509_num(good->verified) == 4);
    tc_report_free(good);
    pm.max_depth = 0;
    bad = run("max_depth 0, one intermediate plus a self-issued one", k->trust, si, &pm);
    CHECK(has(bad, K(PATH_LENGTH_EXCEEDED), -1));
    tc_report_free(bad);

    sk_X509_pop_free(c0, X509_free);
    sk_X509_pop_free(c1, X509_free);
    sk_X509_pop_free(si, X509_free);
    pki_free(&l2);
    pki_free(&rekey);
    pki_free(&leaf);
    pki_free(&lower);
    pki_free(&upper0);
    pki_free(&upper1);
}

static void test_name_constraints(pki *k)
{
    tc_verify_params p = params_at(T0, "api.other.org");
    pki_spec s = pki_ca(T0 - 300 * DAY, "Corp CA", &k->root);
    s.name_constraints = "critical,permitted;DNS:example.com,excluded;DNS:secret.example.com";
    pki_cert corp = pki_mint(&s);
    s = pki_leaf(T0, "api.other.org", &corp);
    pki_cert outside = pki_mint(&s);
    s = pki_leaf(T0, "api.example.com", &corp);
    pki_cert inside = pki_mint(&s);
    s = pki_leaf(T0, "db.secret.example.com", &corp);
    pki_cert excluded = pki_mint(&s);

    STACK_OF(X509) *cb = pki_stack(outside.x, corp.x, NULL);
    STACK_OF(X509) *cg = pki_stack(inside.x, corp.x, NULL);
    STACK_OF(X509) *cx = pki_stack(excluded.x, corp.x, NULL);
    tc_report *bad = run("name outside the permitted subtree", k->trust, cb, &p);
    p.hostname = "api.example.com";
    tc_report *good = run("name inside the permitted subtree", k->trust, cg, &p);
    CHECK_TWIN(bad, good, K(NAME_CONSTRAINTS_VIOLATION), 0);
    CHECK(find(bad, K(NAME_CONSTRAINTS_VIOLATION), 0)->openssl_code == X509_V_ERR_PERMITTED_VIOLATION);
    CHECK(msg_has(bad, K(NAME_CONSTRAINTS_VIOLATION), 0, "its names (DNS:api.other.org) are not all inside the namespace the intermediate certificate (CN=Corp CA) is limited to (permitted: DNS:example.com)"));
    CHECK(good->n_problems == 0);
    tc_report_free(bad);
    tc_report_free(good);
    p.hostname = "db.secret.example.com";
    bad = run("name in an excluded subtree", k->trust, cx, &p);
    CHECK(msg_has(bad, K(NAME_CONSTRAINTS_VIOLATION), 0, "one of its names (DNS:db.secret.example.com) is in a namespace that the intermediate certificate (CN=Corp CA) excludes (excluded: DNS:secret.example.com)"));
    tc_report_free(bad);

    sk_X509_pop_free(cb, X509_free);
    sk_X509_pop_free(cg, X509_free);
    sk_X509_pop_free(cx, X509_free);
    pki_free(&outside);
    pki_free(&inside);
    pki_free(&excluded);
    pki_free(&corp);
}

static void test_malformed(pki *k)
{
    /* keyUsage keyCertSign on a CA:FALSE leaf (RFC 5280 4.2.1.3). */
    pki_spec s = pki_leaf(T0, "api.example.com", &k->inter);
    s.key_usage = "critical,digitalSignature,keyCertSign";
    pki_cert bad_ku = pki_mint(&s);
    tc_report *bad = run_leaf("keyCertSign on a leaf", k, bad_ku.x, NULL);
    tc_report *good = run_leaf("plain leaf", k, k->leaf.x, NULL);
    CHECK_TWIN(bad, good, K(MALFORMED_CERTIFICATE), 0);
    CHECK(msg_has(bad, K(MALFORMED_CERTIFICATE), 0, "is not a well-formed X.509 certificate: its keyUsage includes keyCertSign although it is not a CA certificate"));
    tc_report_free(bad);
    tc_report_free(good);
    pki_free(&bad_ku);

    /* No authorityKeyIdentifier on a leaf under an intermediate. */
    s = pki_leaf(T0, "api.example.com", &k->inter);
    s.no_akid = 1;
    pki_cert noakid = pki_mint(&s);
    bad = run_leaf("leaf without AKID", k, noakid.x, NULL);
    CHECK(msg_has(bad, K(MALFORMED_CERTIFICATE), 0, "it has no authorityKeyIdentifier extension"));
    tc_report_free(bad);
    pki_free(&noakid);
}

static void test_chain_invalid(pki *k)
{
    /* An unknown critical extension (RFC 5280 section 4.2). */
    pki_spec s = pki_leaf(T0, "api.example.com", &k->inter);
    s.extra_oid = "1.3.6.1.4.1.55738.666.1";
    s.extra_value = "critical,DER:05:00";
    pki_cert crit = pki_mint(&s);
    s.extra_value = "DER:05:00";
    pki_cert noncrit = pki_mint(&s);
    tc_report *bad = run_leaf("unknown critical extension", k, crit.x, NULL);
    tc_report *good = run_leaf("unknown non-critical extension", k, noncrit.x, NULL);
    CHECK_TWIN(bad, good, K(CHAIN_INVALID), 0);
    const tc_problem *ci = find(bad, K(CHAIN_INVALID), 0);
    CHECK(ci && ci->openssl_code == X509_V_ERR_UNHANDLED_CRITICAL_EXTENSION);
    CHECK(ci && ci->openssl_reason && strcmp(ci->openssl_reason, X509_verify_cert_error_string(X509_V_ERR_UNHANDLED_CRITICAL_EXTENSION)) == 0);
    CHECK(msg_has(bad, K(CHAIN_INVALID), 0, "it has a critical extension this validator does not understand (1.3.6.1.4.1.55738.666.1)"));
    CHECK(good->n_problems == 0);
    tc_report_free(bad);
    tc_report_free(good);
    pki_free(&crit);
    pki_free(&noncrit);

    /* Signed by the intermediate sent, but its authorityKeyIdentifier names
     * another key: OpenSSL will not pair them, and the chain looks
     * incomplete; the certificate that did sign it was sent, so the broken
     * identifier is the problem, not a missing intermediate. */
    pki_spec sf = pki_ca(T0 - 300 * DAY, "Test Int", &k->root);
    sf.org = "pytlscheck tests";
    pki_cert fake = pki_mint(&sf);
    s = pki_leaf(T0, "api.example.com", &fake);
    pki_cert wrong_akid = pki_mint(&s);
    CHECK(X509_sign(wrong_akid.x, k->inter.key, EVP_sha256()) > 0);
    bad = run_leaf("AKID naming another key", k, wrong_akid.x, NULL);
    ci = find(bad, K(CHAIN_INVALID), 0);
    CHECK(ci && ci->openssl_code == X509_V_ERR_AKID_SKID_MISMATCH);
    CHECK(msg_has(bad, K(CHAIN_INVALID), 0, "its authorityKeyIdentifier does not match the subjectKeyIdentifier of the certificate that signed it"));
    CHECK(!has(bad, K(INCOMPLETE_CHAIN), ANY_DEPTH));
    CHECK(bad->verified == NULL);
    tc_report_free(bad);
    pki_free(&wrong_akid);
    pki_free(&fake);

    /* A signature that does not verify: one bit of the leaf's signature
     * flipped. */
    unsigned char *der = NULL;
    int n = i2d_X509(k->leaf.x, &der);
    CHECK(n > 10);
    der[n - 1] ^= 0x01;
    const unsigned char *q = der;
    X509 *broken = d2i_X509(NULL, &q, n);
    CHECK(broken != NULL);
    if (broken) {
        bad = run_leaf("bad signature", k, broken, NULL);
        ci = find(bad, K(CHAIN_INVALID), 0);
        CHECK(ci && ci->openssl_code == X509_V_ERR_CERT_SIGNATURE_FAILURE);
        CHECK(msg_has(bad, K(CHAIN_INVALID), 0, "its signature does not verify with the public key of its issuer (CN=Test Int,O=pytlscheck tests)"));
        tc_report_free(bad);
        X509_free(broken);
    }
    OPENSSL_free(der);
}

static void test_expires_soon(pki *k)
{
    pki_spec s = pki_leaf(T0, "api.example.com", &k->inter);
    s.not_before = T0 - 80 * DAY;
    s.not_after = T0 + 10 * DAY;
    pki_cert soon = pki_mint(&s);
    tc_report *bad = run_leaf("expires in 10 days", k, soon.x, NULL);
    tc_verify_params p5 = params_at(T0, "api.example.com");
    p5.min_days = 5;
    tc_report *good = run_leaf("expires in 10 days, 5 asked", k, soon.x, &p5);
    CHECK_TWIN(bad, good, K(EXPIRES_SOON), 0);
    const tc_problem *w = find(bad, K(EXPIRES_SOON), 0);
    CHECK(w && w->severity == TC_SEV_WARNING);
    CHECK(tc_report_ok(bad));   /* a warning only */
    CHECK(msg_has(bad, K(EXPIRES_SOON), 0, "expires on 2026-01-11 00:00 UTC, in 10 days (less than the 30 days required)."));
    CHECK(good->n_problems == 0);
    tc_report_free(good);
    tc_report_free(bad);

    /* By share of the lifetime: 10 of 90 days left is under 50%. */
    tc_verify_params ps = p5;
    ps.min_remaining = 0.5;
    bad = run_leaf("under half its lifetime", k, soon.x, &ps);
    CHECK(msg_has(bad, K(EXPIRES_SOON), 0, "in 10 days (less than 50% of its 90-day lifetime left)."));
    tc_report_free(bad);
    ps.min_days = 30;
    ps.min_remaining = 0.125;
    bad = run_leaf("both windows", k, soon.x, &ps);
    CHECK(msg_has(bad, K(EXPIRES_SOON), 0, "(less than the 30 days required, and less than 12.5% of its 90-day lifetime left)"));
    tc_report_free(bad);
    ps.min_days = -1;
    ps.min_remaining = 0;
    good = run_leaf("window disabled", k, soon.x, &ps);
    CHECK(good->n_problems == 0);
    tc_report_free(good);
    pki_free(&soon);

    /* The intermediate too. */
    pki_spec si = pki_ca(T0 - 300 * DAY, "Ending Int", &k->root);
    si.not_after = T0 + 3 * DAY;
    pki_cert ending = pki_mint(&si);
    s = pki_leaf(T0, "api.example.com", &ending);
    pki_cert leaf = pki_mint(&s);
    STACK_OF(X509) *chain = pki_stack(leaf.x, ending.x, NULL);
    tc_verify_params p = params_at(T0, "api.example.com");
    bad = run("intermediate ending soon", k->trust, chain, &p);
    CHECK(has(bad, K(EXPIRES_SOON), 1) && !has(bad, K(EXPIRES_SOON), 0));
    tc_report_free(bad);
    sk_X509_pop_free(chain, X509_free);
    pki_free(&leaf);
    pki_free(&ending);
}

static void test_many_problems(pki *k)
{
    /* Expired, wrong name, weak key, SHA-1: all in one run. */
    pki_spec s = pki_leaf(T0, "api.example.com", &k->inter);
    s.key = "rsa1024";
    s.digest = "sha1";
    s.not_before = T0 - 100 * DAY;
    s.not_after = T0 - DAY;
    pki_cert leaf = pki_mint(&s);
    tc_verify_params p = params_at(T0, "www.example.org");
    tc_report *r = run_leaf("four problems", k, leaf.x, &p);
    CHECK(has(r, K(EXPIRED), 0));
    CHECK(has(r, K(HOSTNAME_MISMATCH), 0));
    CHECK(has(r, K(WEAK_KEY), 0));
    CHECK(has(r, K(WEAK_SIGNATURE), 0));
    CHECK(r->n_problems == 4);
    CHECK(r->n_problems && r->problems[0].kind == K(EXPIRED));   /* most fundamental first */
    tc_report_free(r);
    pki_free(&leaf);

    /* Problems at several depths: an untrusted root and an expired leaf. */
    s = pki_leaf(T0, "api.example.com", &k->inter);
    s.not_after = T0 - DAY;
    pki_cert old = pki_mint(&s);
    pki_spec so = pki_ca(T0, "Other Root", NULL);
    pki_cert other = pki_mint(&so);
    tc_trust *wrong = trust_of(other.x, NULL);
    STACK_OF(X509) *chain = pki_stack(old.x, k->inter.x, k->root.x, NULL);
    tc_verify_params p2 = params_at(T0, "api.example.com");
    r = run("untrusted root and expired leaf", wrong, chain, &p2);
    CHECK(has(r, K(UNTRUSTED_ROOT), 2) && has(r, K(EXPIRED), 0));
    tc_report_free(r);
    sk_X509_pop_free(chain, X509_free);
    tc_trust_free(wrong);
    pki_free(&other);
    pki_free(&old);
}

static void test_bad_input(pki *k)
{
    tc_report *r = NULL;
    tc_error err;
    tc_error_clear(&err);
    CHECK(tc_report_new(&r, &err) == TC_OK);
    STACK_OF(X509) *empty = sk_X509_new_null();
    tc_verify_params p = params_at(T0, "api.example.com");
    CHECK(tc_verify(r, k->trust, empty, &p, &err) == TC_FAIL);
    CHECK(err.code == TC_E_INVALID);
    CHECK_STR(err.msg, "the chain is empty: pass at least the server's certificate");
    CHECK(tc_verify(r, k->trust, NULL, &p, &err) == TC_FAIL && err.code == TC_E_INVALID);

    STACK_OF(X509) *chain = pki_stack(k->leaf.x, k->inter.x, NULL);
    tc_error_clear(&err);
    p.hostname = "not a host!";
    CHECK(tc_verify(r, k->trust, chain, &p, &err) == TC_FAIL);
    CHECK(err.code == TC_E_INVALID && err.msg[0] != '\0');

    const char *ekus[] = { "noSuchUsage" };
    p.hostname = NULL;
    p.required_ekus = ekus;
    p.n_required_ekus = 1;
    tc_error_clear(&err);
    CHECK(tc_verify(r, k->trust, chain, &p, &err) == TC_FAIL && err.code == TC_E_INVALID);
    CHECK(strstr(err.msg, "noSuchUsage") != NULL);

    /* Default parameters (NULL): now, server, no hostname. */
    tc_error_clear(&err);
    CHECK(tc_verify(r, k->trust, chain, NULL, &err) == TC_OK);
    tc_report_free(r);
    sk_X509_pop_free(chain, X509_free);
    sk_X509_free(empty);

    tc_verify_params d;
    tc_verify_params_init(&d);
    CHECK(d.max_depth == -1 && d.min_days == 30 && d.purpose == TC_PURPOSE_SERVER && !d.has_at);
}

static void test_cert_vars(pki *k)
{
    tc_cert_vars cv;
    tc_render_vars v = { 0 };
    tc_cert_vars_fill(&cv, k->leaf.x, 0, T0, &v);
    CHECK_STR(v.cert, "the server certificate (CN=api.example.com)");
    CHECK_STR(v.issuer, "CN=Test Int,O=pytlscheck tests");
    CHECK_STR(v.not_after, "2026-04-01 00:00 UTC");
    CHECK_STR(v.days, "90 days");
    tc_cert_vars_fill(&cv, k->inter.x, 1, T0, &v);
    CHECK_STR(v.cert, "the intermediate certificate (CN=Test Int, O=pytlscheck tests)");
    tc_cert_vars_fill(&cv, k->root.x, 2, T0, &v);
    CHECK_STR(v.cert, "the root certificate (CN=Test Root, O=pytlscheck tests)");
    CHECK_STR(v.subject, "CN=Test Root,O=pytlscheck tests");

    /* Control characters in a name are escaped, never passed through. */
    pki_spec s = pki_leaf(T0, "api.example.com", &k->inter);
    s.cn = "evil\nname\x01";
    pki_cert evil = pki_mint(&s);
    tc_cert_vars_fill(&cv, evil.x, 0, T0, &v);
    CHECK_STR(v.cert, "the server certificate (CN=evil\\x0aname\\x01)");
    CHECK(strchr(v.subject, '\n') == NULL);
    pki_free(&evil);
}


/* sigcache.c: a CA certificate's signature that verified is not checked
 * again for the same bytes and issuer key; leaves are never remembered;
 * failures are never remembered; the validity period is checked every
 * time. */
static void test_sigcache(pki *k)
{
    uint64_t hits, misses;
    tc_sigcache_clear();
    STACK_OF(X509) *chain = pki_stack(k->leaf.x, k->inter.x, NULL);
    tc_verify_params p = params_at(T0, "api.example.com");
    tc_report *r = run("sigcache, first", k->trust, chain, &p);
    CHECK(r->n_problems == 0 && r->verified != NULL);
    tc_report_free(r);
    tc_sigcache_stats(&hits, &misses);
    CHECK(hits == 0 && misses == 1);      /* the intermediate; not the leaf */

    r = run("sigcache, again", k->trust, chain, &p);
    CHECK(r->n_problems == 0 && r->verified != NULL);
    tc_report_free(r);
    tc_sigcache_stats(&hits, &misses);
    CHECK(hits == 1 && misses == 1);

    /* Remembered signature, expired certificates: still expired. */
    tc_verify_params later = params_at(T0 + 4000 * DAY, "api.example.com");
    r = run("sigcache, later", k->trust, chain, &later);
    CHECK(has(r, K(EXPIRED), 0) && has(r, K(EXPIRED), 1) && !tc_report_ok(r));
    tc_report_free(r);
    tc_sigcache_stats(&hits, &misses);
    CHECK(hits == 2 && misses == 1);
    sk_X509_pop_free(chain, X509_free);

    /* The intermediate with one bit of its signature flipped, after the
     * genuine one was remembered: a miss, and a bad signature, every time. */
    unsigned char *der = NULL;
    int n = i2d_X509(k->inter.x, &der);
    CHECK(n > 10);
    der[n - 1] ^= 0x01;
    const unsigned char *q = der;
    X509 *broken = d2i_X509(NULL, &q, n);
    CHECK(broken != NULL);
    for (int round = 0; broken && round < 2; round++) {
        STACK_OF(X509) *c = pki_stack(k->leaf.x, broken, NULL);
        r = run("sigcache, broken intermediate", k->trust, c, &p);
        const tc_problem *ci = find(r, K(CHAIN_INVALID), 1);
        CHECK(ci && ci->openssl_code == X509_V_ERR_CERT_SIGNATURE_FAILURE);
        CHECK(!tc_report_ok(r) && r->verified == NULL);
        tc_report_free(r);
        sk_X509_pop_free(c, X509_free);
        tc_sigcache_stats(&hits, &misses);
        CHECK(hits == 2 && misses == (uint64_t)(2 + round));
    }
    X509_free(broken);
    OPENSSL_free(der);

    /* The same intermediate under another root of the same name (another
     * key): never accepted, whatever was remembered for the real root. */
    pki_spec rs = pki_ca(T0 - 400 * DAY, "Test Root", NULL);
    rs.org = "pytlscheck tests";
    pki_cert other = pki_mint(&rs);
    tc_trust *t2 = trust_of(other.x, NULL);
    chain = pki_stack(k->leaf.x, k->inter.x, NULL);
    r = run("sigcache, other root", t2, chain, &p);
    CHECK(!tc_report_ok(r) && r->verified == NULL);
    tc_report_free(r);
    sk_X509_pop_free(chain, X509_free);
    tc_trust_free(t2);
    pki_free(&other);
}

int main(void)
{
    pki k = pki_new();
    test_good_chain(&k);
    test_expired(&k);
    test_not_yet_valid(&k);
    test_hostname(&k);
    test_incomplete_chain(&k);
    test_self_signed(&k);
    test_untrusted_root(&k);
    test_other_list_words(&k);
    test_cross_signed(&k);
    test_intermediate_anchor(&k);
    test_alternative_paths(&k);
    test_legacy_root();
    test_weak_signature(&k);
    test_weak_key(&k);
    test_revoked(&k);
    test_invalid_purpose(&k);
    test_invalid_ca(&k);
    test_path_length(&k);
    test_name_constraints(&k);
    test_malformed(&k);
    test_chain_invalid(&k);
    test_expires_soon(&k);
    test_many_problems(&k);
    test_bad_input(&k);
    test_cert_vars(&k);
    test_sigcache(&k);
    pki_done(&k);
    return TC_TEST_DONE();
}
