/*
 * classify.c - OpenSSL verify codes to problem kinds, as data, and the
 * wording of every certificate problem.
 *
 * ROWS below maps each X509_V_ERR_* code of OpenSSL 3.0 (x509_vfy.h, codes
 * 1..94) to the most specific kind and a detail template in plain words.
 * The codes that only say "no trusted path" (2, 18, 19, 20, 21, 27) are not
 * worded by code: OpenSSL's choice among them depends on how far the build
 * got, so trust_rule() decides from the shape of the path instead:
 *
 *   - the leaf itself is self-signed and not an anchor   -> self_signed
 *   - the path reaches a self-signed root that is not an
 *     anchor (the leaf issued directly by it included)   -> untrusted_root
 *   - the top of the path is not self-signed and its
 *     issuer was neither sent nor is an anchor           -> incomplete_chain
 *     (naming the missing issuer and its AIA caIssuers URL)
 *   - ... unless a certificate that did sign the top was sent or is in the
 *     store but may not sign certificates (keyUsage without keyCertSign):
 *     that certificate is the problem                    -> invalid_ca
 *
 * Detail templates are rendered with tc_render(); inside them:
 *   {cert}    the certificate this one issued (one step toward the leaf),
 *             described: "the server certificate (CN=api.example.com)"
 *   {subject} this certificate's short label ("CN=R11, O=Let's Encrypt")
 *   {issuer}  this certificate's issuer name (RFC 4514)
 *   {detail}  the fact computed for the row (see enum fact)
 *   {trust}   the trust store's description
 * A row's leaf_detail, when set, is used instead at depth 0 with the kind
 * malformed_certificate: the invalid_ca wording ("is used to sign another
 * certificate") is wrong for a certificate that signed nothing.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/x509v3.h>
#include "classify.h"
#include "text.h"

/* ------------------------------------------------------------------ */
/* Bounded text building                                               */
/* ------------------------------------------------------------------ */

/* tb, tb_add*, tb_add_bytes: text.h (the one escaping rule). */

/* Appends what a memory BIO holds, sanitised. */
static void tb_add_bio(tb *b, BIO *bio)
{
    char *data = NULL;
    long n = BIO_get_mem_data(bio, &data);
    if (n > 0 && data != NULL)
        tb_add_bytes(b, (const unsigned char *)data, (size_t)n);
}

static void tb_add_obj(tb *b, const ASN1_OBJECT *obj)
{
    int nid = OBJ_obj2nid(obj);
    if (nid != NID_undef && OBJ_nid2sn(nid) != NULL) {
        tb_add(b, OBJ_nid2sn(nid));
        return;
    }
    char oid[128];
    if (OBJ_obj2txt(oid, sizeof(oid), obj, 1) > 0)
        tb_add(b, oid);
    else
        tb_add(b, "an unknown OID");
}

/* ------------------------------------------------------------------ */
/* Times                                                               */
/* ------------------------------------------------------------------ */

/* tc_asn1_time_unix: text.c (dates, in one place). */

void tc_format_time(char *out, size_t n, const ASN1_TIME *t)
{
    struct tm tm;
    memset(&tm, 0, sizeof(tm));
    if (t == NULL || ASN1_TIME_to_tm(t, &tm) != 1) {
        snprintf(out, n, "an unreadable date");
        return;
    }
    snprintf(out, n, "%04d-%02d-%02d %02d:%02d UTC", tm.tm_year + 1900,
             tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min);
}

/* "less than a day", "1 day", "12 days": whole days, rounded down. */
static void format_days(char *out, size_t n, int64_t seconds)
{
    int64_t d = (seconds < 0 ? -seconds : seconds) / 86400;
    if (d == 0)
        snprintf(out, n, "less than a day");
    else
        snprintf(out, n, "%lld day%s", (long long)d, d == 1 ? "" : "s");
}

/* ------------------------------------------------------------------ */
/* Names and labels                                                    */
/* ------------------------------------------------------------------ */

/* The value of the last entry of `nid` in name, sanitised; 0 when none. */
static int name_entry(tb *b, const X509_NAME *name, int nid)
{
    int idx = -1, last = -1;
    while ((idx = X509_NAME_get_index_by_NID(name, nid, idx)) >= 0)
        last = idx;
    if (last < 0)
        return 0;
    const ASN1_STRING *data = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, last));
    unsigned char *utf8 = NULL;
    int n = ASN1_STRING_to_UTF8(&utf8, data);
    if (n < 0)
        return 0;
    tb_add_bytes(b, utf8, (size_t)n);
    OPENSSL_free(utf8);
    return 1;
}

/* RFC 4514 text of a name ("CN=R11,O=Let's Encrypt,C=US"). */
static void name_rfc4514(tb *b, const X509_NAME *name)
{
    /* The same text as Certificate.subject (cert.c), so a message can be
     * matched against the certificate's fields. */
    char *text = tc_name_text(name);
    if (text != NULL && text[0] != '\0')
        tb_add(b, text);
    else
        tb_add(b, text != NULL ? "an empty name" : "an unreadable name");
    free(text);
}

/* Short label: "CN=R11, O=Let's Encrypt"; without a CN the whole subject;
 * with an empty subject, the first DNS name. */
static void cert_label(tb *b, X509 *x)
{
    const X509_NAME *subj = X509_get_subject_name(x);
    tb cn;
    char tmp[300];
    tb_init(&cn, tmp, sizeof(tmp));
    if (name_entry(&cn, subj, NID_commonName)) {
        tb_addf(b, "CN=%s", tmp);
        tb_init(&cn, tmp, sizeof(tmp));
        if (name_entry(&cn, subj, NID_organizationName))
            tb_addf(b, ", O=%s", tmp);
        return;
    }
    if (X509_NAME_entry_count(subj) > 0) {
        name_rfc4514(b, subj);
        return;
    }
    GENERAL_NAMES *san = X509_get_ext_d2i(x, NID_subject_alt_name, NULL, NULL);
    for (int i = 0; i < sk_GENERAL_NAME_num(san); i++) {
        GENERAL_NAME *g = sk_GENERAL_NAME_value(san, i);
        if (g->type == GEN_DNS) {
            tb_add(b, "empty subject, DNS:");
            tb_add_bytes(b, ASN1_STRING_get0_data(g->d.dNSName),
                         (size_t)ASN1_STRING_length(g->d.dNSName));
            GENERAL_NAMES_free(san);
            return;
        }
    }
    GENERAL_NAMES_free(san);
    tb_add(b, "empty subject");
}

void tc_x509_label(char *out, size_t n, X509 *x)
{
    tb b;
    tb_init(&b, out, n);
    cert_label(&b, x);
}

int tc_cert_self_signed(X509 *x)
{
    ERR_set_mark();
    int ss = X509_self_signed(x, 1) == 1;
    if (!ss && X509_NAME_cmp(X509_get_subject_name(x), X509_get_issuer_name(x)) == 0) {
        EVP_PKEY *pk = X509_get0_pubkey(x);
        ss = pk != NULL && X509_verify(x, pk) == 1;
    }
    ERR_pop_to_mark();
    return ss;
}

static int cert_self_issued(X509 *x)
{
    return X509_NAME_cmp(X509_get_subject_name(x), X509_get_issuer_name(x)) == 0;
}

void tc_cert_vars_fill_purpose(tc_cert_vars *cv, X509 *x, int depth, int64_t now,
                               tc_purpose purpose, tc_render_vars *vars)
{
    memset(cv, 0, sizeof(*cv));
    vars->cert = cv->cert;
    vars->subject = cv->subject;
    vars->issuer = cv->issuer;
    vars->not_before = cv->not_before;
    vars->not_after = cv->not_after;
    vars->days = cv->days;
    if (x == NULL)
        return;

    const char *role;
    if (depth == 0)
        role = purpose == TC_PURPOSE_CLIENT ? "client" : "server";
    else
        role = tc_cert_self_signed(x) ? "root" : "intermediate";
    char label[400];
    tb b;
    tb_init(&b, label, sizeof(label));
    cert_label(&b, x);
    tb_init(&b, cv->cert, sizeof(cv->cert));
    tb_addf(&b, "the %s certificate (%s)", role, label);
    tb_init(&b, cv->subject, sizeof(cv->subject));
    name_rfc4514(&b, X509_get_subject_name(x));
    tb_init(&b, cv->issuer, sizeof(cv->issuer));
    name_rfc4514(&b, X509_get_issuer_name(x));

    const ASN1_TIME *nb = X509_get0_notBefore(x), *na = X509_get0_notAfter(x);
    tc_format_time(cv->not_before, sizeof(cv->not_before), nb);
    tc_format_time(cv->not_after, sizeof(cv->not_after), na);
    /* {days}: from the validation time to the date that matters: notAfter
     * once past it, notBefore before it, else the time left. */
    int64_t tb_, ta_;
    if (tc_asn1_time_unix(nb, &tb_) && tc_asn1_time_unix(na, &ta_)) {
        int64_t diff = now > ta_ ? now - ta_ : now < tb_ ? tb_ - now : ta_ - now;
        format_days(cv->days, sizeof(cv->days), diff);
    }
}

void tc_cert_vars_fill(tc_cert_vars *cv, X509 *x, int depth, int64_t now,
                       tc_render_vars *vars)
{
    tc_cert_vars_fill_purpose(cv, x, depth, now, TC_PURPOSE_SERVER, vars);
}

/* ------------------------------------------------------------------ */
/* Facts: what a detail template's {detail} says                       */
/* ------------------------------------------------------------------ */

typedef enum fact {
    F_NONE,
    F_CA,          /* why it may not act as a CA */
    F_PATHLEN,     /* its pathLenConstraint against the intermediates below it */
    F_PURPOSE,     /* EKU / keyUsage against the purpose */
    F_USE,         /* the purpose in words */
    F_NAMES_OUT,   /* names outside its CA's permitted subtrees */
    F_NAMES_EXCL,  /* names inside its CA's excluded subtrees */
    F_SIGALG,      /* its signature hash and algorithm */
    F_KEY,         /* its key type and size */
    F_REVOKED,     /* when and why it was revoked */
    F_NOCRL,       /* which CRL it needs, and why those given do not cover it */
    F_CRITEXT,     /* the critical extensions not understood */
    F_BADEXT,      /* which extension is invalid */
    F__COUNT
} fact;

typedef void (*fact_fn)(const tc_judge *j, X509 *x, int depth, X509 *child, tb *b);

static const struct purpose_info {
    int eku_nid;
    const char *eku;           /* short name */
    const char *use;           /* the purpose in words */
    const char *who;           /* "a TLS server" */
    const char *holders;       /* "TLS servers" */
    uint32_t ku_ok;            /* keyUsage bits, one of which the leaf needs */
    const char *ku_words;
} PURPOSES[] = {
    [TC_PURPOSE_SERVER] = { NID_server_auth, "serverAuth", "TLS server authentication",
                            "a TLS server", "TLS servers",
                            KU_DIGITAL_SIGNATURE | KU_KEY_ENCIPHERMENT | KU_KEY_AGREEMENT,
                            "digitalSignature, keyEncipherment or keyAgreement" },
    [TC_PURPOSE_CLIENT] = { NID_client_auth, "clientAuth", "TLS client authentication",
                            "a TLS client", "TLS clients",
                            KU_DIGITAL_SIGNATURE | KU_KEY_AGREEMENT,
                            "digitalSignature or keyAgreement" },
};

static const struct purpose_info *purpose_of(const tc_judge *j)
{
    tc_purpose p = j->params->purpose;
    if ((int)p < 0 || (size_t)p >= sizeof(PURPOSES) / sizeof(PURPOSES[0]))
        p = TC_PURPOSE_SERVER;
    return &PURPOSES[p];
}

static const struct { uint32_t bit; const char *name; } KU_NAMES[] = {
    { KU_DIGITAL_SIGNATURE, "digitalSignature" }, { KU_NON_REPUDIATION, "nonRepudiation" },
    { KU_KEY_ENCIPHERMENT, "keyEncipherment" },   { KU_DATA_ENCIPHERMENT, "dataEncipherment" },
    { KU_KEY_AGREEMENT, "keyAgreement" },         { KU_KEY_CERT_SIGN, "keyCertSign" },
    { KU_CRL_SIGN, "cRLSign" },                   { KU_ENCIPHER_ONLY, "encipherOnly" },
    { KU_DECIPHER_ONLY, "decipherOnly" },
};

static void list_key_usage(tb *b, uint32_t ku)
{
    const char *sep = "";
    for (size_t i = 0; i < sizeof(KU_NAMES) / sizeof(KU_NAMES[0]); i++)
        if (ku & KU_NAMES[i].bit) {
            tb_addf(b, "%s%s", sep, KU_NAMES[i].name);
            sep = ", ";
        }
    if (!*sep)
        tb_add(b, "nothing");
}

/* X509_check_ca() answers other than 0 and 1, in words. */
static const char *const CA_LOOKALIKE[] = {
    [3] = "it is a self-signed version 1 certificate, which has no basicConstraints extension to say it is a CA",
    [4] = "its keyUsage includes keyCertSign, but it has no basicConstraints extension saying CA:TRUE",
    [5] = "only the obsolete Netscape certificate type extension marks it as a CA",
};

static void fact_ca(const tc_judge *j, X509 *x, int depth, X509 *child, tb *b)
{
    int crit = -1;
    int r = X509_check_ca(x);
    if (r > 0 && (size_t)r < sizeof(CA_LOOKALIKE) / sizeof(CA_LOOKALIKE[0]) && CA_LOOKALIKE[r]) {
        tb_add(b, CA_LOOKALIKE[r]);
        return;
    }
    BASIC_CONSTRAINTS *bc = X509_get_ext_d2i(x, NID_basic_constraints, &crit, NULL);
    uint32_t ku = X509_get_key_usage(x);
    if (bc == NULL && crit == -1)
        tb_add(b, X509_get_version(x) < X509_VERSION_3
                  ? "it is an old version 1 certificate, which cannot carry the basicConstraints extension that marks a CA"
                  : "it has no basicConstraints extension, so nothing marks it as a CA");
    else if (bc == NULL)
        tb_add(b, "its basicConstraints extension is duplicated or cannot be decoded");
    else if (!bc->ca)
        tb_add(b, "its basicConstraints says CA:FALSE (it is a leaf certificate)");
    else if (ku != UINT32_MAX && !(ku & KU_KEY_CERT_SIGN))
        tb_add(b, "its keyUsage does not include keyCertSign, so its key may not sign certificates");
    else if (!crit)
        tb_add(b, "its basicConstraints extension is not marked critical");
    else
        tb_add(b, "OpenSSL does not accept it as a CA certificate");
    BASIC_CONSTRAINTS_free(bc);
}

static void fact_pathlen(const tc_judge *j, X509 *x, int depth, X509 *child, tb *b)
{
    long plen = X509_get_pathlen(x);
    int below = 0;
    /* RFC 5280 section 6.1.4 (l): self-issued intermediates do not count. */
    for (int i = 1; i < depth && i < sk_X509_num(j->path); i++)
        if (!cert_self_issued(sk_X509_value(j->path, i)))
            below++;
    if (plen == 0)
        tb_add(b, "its pathLenConstraint is 0, so no intermediate certificate may follow it");
    else
        tb_addf(b, "its pathLenConstraint is %ld, so at most %ld intermediate certificate%s may follow it",
                plen, plen, plen == 1 ? "" : "s");
    if (below > 0)
        tb_addf(b, ", yet %d %s", below, below == 1 ? "does" : "do");
}

static void fact_use(const tc_judge *j, X509 *x, int depth, X509 *child, tb *b)
{
    const struct purpose_info *p = purpose_of(j);
    tb_addf(b, "%s (%s)", p->use, p->eku);
}

/* Appends the EKUs of x ("clientAuth, codeSigning"); 0 when x has none. */
static int list_eku(tb *b, X509 *x)
{
    EXTENDED_KEY_USAGE *eku = X509_get_ext_d2i(x, NID_ext_key_usage, NULL, NULL);
    if (eku == NULL)
        return 0;
    for (int i = 0; i < sk_ASN1_OBJECT_num(eku); i++) {
        if (i)
            tb_add(b, ", ");
        tb_add_obj(b, sk_ASN1_OBJECT_value(eku, i));
    }
    if (sk_ASN1_OBJECT_num(eku) == 0)
        tb_add(b, "nothing");
    EXTENDED_KEY_USAGE_free(eku);
    return 1;
}

static int has_eku(EXTENDED_KEY_USAGE *eku, const ASN1_OBJECT *want)
{
    for (int i = 0; i < sk_ASN1_OBJECT_num(eku); i++)
        if (OBJ_cmp(sk_ASN1_OBJECT_value(eku, i), want) == 0)
            return 1;
    return 0;
}

void tc_fact_leaf_purpose(const tc_judge *j, X509 *leaf, char *out, size_t outlen)
{
    const struct purpose_info *p = purpose_of(j);
    tb b;
    tb_init(&b, out, outlen);
    const char *sep = "";

    /* A CA certificate as the leaf: refused for a TLS server under the web
     * PKI's rules, which are what purpose="server" with its own EKU means
     * (CA/B BR 7.1.2.7.8; Firefox's mozilla::pkix and rustls-webpki refuse
     * it, while OpenSSL's purpose check, Python's ssl, curl and Go accept
     * it).  For a client certificate or EKUs the caller names, keyUsage
     * and extendedKeyUsage alone decide, as OpenSSL's X509_check_purpose
     * does (docs/kinds.md, "The leaf's purpose"). */
    if (j->params->purpose == TC_PURPOSE_SERVER && j->params->n_required_ekus == 0) {
        BASIC_CONSTRAINTS *bc = X509_get_ext_d2i(leaf, NID_basic_constraints, NULL, NULL);
        if (bc != NULL && bc->ca) {
            tb_addf(&b, "it is a CA certificate (basicConstraints CA:TRUE), meant to issue other certificates, not to identify %s: "
                        "the CA/Browser Forum Baseline Requirements (7.1.2.7.8) forbid that in a server certificate, "
                        "and Firefox and rustls refuse it (OpenSSL, Python's ssl module and curl accept it)",
                    p->who);
            sep = "; also, ";
        }
        BASIC_CONSTRAINTS_free(bc);
    }

    EXTENDED_KEY_USAGE *eku = X509_get_ext_d2i(leaf, NID_ext_key_usage, NULL, NULL);
    if (eku != NULL) {
        /* RFC 5280 section 4.2.1.12: without the extension any use is
         * allowed; with it, only what it lists.  anyExtendedKeyUsage is not
         * taken for serverAuth/clientAuth (CA/B Forum BR 7.1.2.7.10). */
        char missing[256];
        tb m;
        tb_init(&m, missing, sizeof(missing));
        int n_missing = 0, own = j->params->n_required_ekus == 0;
        if (own) {
            if (!has_eku(eku, OBJ_nid2obj(p->eku_nid))) {
                tb_add(&m, p->eku);
                n_missing++;
            }
        } else {
            for (size_t i = 0; i < j->params->n_required_ekus; i++) {
                ASN1_OBJECT *want = OBJ_txt2obj(j->params->required_ekus[i], 0);
                if (want != NULL && !has_eku(eku, want)) {
                    tb_addf(&m, "%s%s", n_missing ? ", " : "", j->params->required_ekus[i]);
                    n_missing++;
                }
                ASN1_OBJECT_free(want);
            }
        }
        if (n_missing) {
            tb_addf(&b, "%sits extendedKeyUsage allows only ", sep);
            list_eku(&b, leaf);
            if (own)
                tb_addf(&b, ", not %s, which the certificate of %s needs", missing, p->who);
            else
                tb_addf(&b, ", without %s, which you required", missing);
            sep = "; also, ";
        }
        EXTENDED_KEY_USAGE_free(eku);
    }

    uint32_t ku = X509_get_key_usage(leaf);
    if (ku != UINT32_MAX && !(ku & p->ku_ok)) {
        tb_addf(&b, "%sits keyUsage allows only ", sep);
        list_key_usage(&b, ku);
        tb_addf(&b, ", while a key used for %s needs %s", p->use, p->ku_words);
    }
}

static void fact_purpose(const tc_judge *j, X509 *x, int depth, X509 *child, tb *b)
{
    const struct purpose_info *p = purpose_of(j);
    if (depth == 0) {
        size_t before = b->len;
        tc_fact_leaf_purpose(j, x, b->p + b->len, b->cap - b->len);
        b->len += strlen(b->p + b->len);
        if (b->len == before)
            tb_addf(b, "OpenSSL's check for %s certificates rejects it (for example an old Netscape certificate type that excludes this use)",
                    p->use);
        return;
    }
    EXTENDED_KEY_USAGE *eku = X509_get_ext_d2i(x, NID_ext_key_usage, NULL, NULL);
    int lacks = eku != NULL && !has_eku(eku, OBJ_nid2obj(p->eku_nid));
    EXTENDED_KEY_USAGE_free(eku);
    if (lacks) {
        tb_add(b, "it is a CA whose extendedKeyUsage (");
        list_eku(b, x);
        tb_addf(b, ") does not include %s, so it may not issue certificates for %s", p->eku, p->holders);
    } else if (X509_check_ca(x) == 1) {
        tb_addf(b, "OpenSSL does not accept it as a CA for %s", p->use);
    }
    /* else: it is no CA at all, which invalid_ca (79) already says. */
}

/* Lists the entries of a GENERAL_NAMES-like stack: "DNS:a, IP Address:1.2.3.4". */
static void list_general_name(tb *b, GENERAL_NAME *g, const char *sep)
{
    BIO *bio = BIO_new(BIO_s_mem());
    if (bio == NULL)
        return;
    if (GENERAL_NAME_print(bio, g) > 0) {
        tb_add(b, sep);
        tb_add_bio(b, bio);
    }
    BIO_free(bio);
}

static void list_subtrees(tb *b, STACK_OF(GENERAL_SUBTREE) *st)
{
    for (int i = 0; i < sk_GENERAL_SUBTREE_num(st); i++)
        list_general_name(b, sk_GENERAL_SUBTREE_value(st, i)->base, i ? ", " : "");
}

static void list_names(tb *b, X509 *x)
{
    GENERAL_NAMES *san = X509_get_ext_d2i(x, NID_subject_alt_name, NULL, NULL);
    int n = sk_GENERAL_NAME_num(san), shown = n < 6 ? n : 5;
    for (int i = 0; i < shown; i++)
        list_general_name(b, sk_GENERAL_NAME_value(san, i), i ? ", " : "");
    if (n > shown)
        tb_addf(b, " and %d more", n - shown);
    GENERAL_NAMES_free(san);
    if (n <= 0) {
        /* Without DNS SANs, OpenSSL checks a host-like CN against the
         * constraints, so name the subject. */
        tb_add(b, "subject ");
        name_rfc4514(b, X509_get_subject_name(x));
    }
}

static void fact_names(const tc_judge *j, X509 *x, int depth, tb *b, int excluded)
{
    NAME_CONSTRAINTS *nc = NULL;
    int k;
    for (k = depth + 1; k < sk_X509_num(j->path); k++) {
        nc = X509_get_ext_d2i(sk_X509_value(j->path, k), NID_name_constraints, NULL, NULL);
        if (nc != NULL && NAME_CONSTRAINTS_check(x, nc) != X509_V_OK)
            break;
        NAME_CONSTRAINTS_free(nc);
        nc = NULL;
    }
    tb_add(b, excluded ? "one of its names (" : "its names (");
    list_names(b, x);
    if (nc == NULL) {
        tb_add(b, excluded ? ") is in a namespace a CA above it excludes"
                           : ") are not all inside the namespace a CA above it is limited to");
        return;
    }
    tc_cert_vars cv;
    tc_render_vars v = { 0 };
    tc_cert_vars_fill_purpose(&cv, sk_X509_value(j->path, k), k, j->now, j->params->purpose, &v);
    if (excluded) {
        tb_addf(b, ") is in a namespace that %s excludes (excluded: ", cv.cert);
        list_subtrees(b, nc->excludedSubtrees);
    } else {
        tb_addf(b, ") are not all inside the namespace %s is limited to (permitted: ", cv.cert);
        list_subtrees(b, nc->permittedSubtrees);
    }
    tb_add(b, ")");
    NAME_CONSTRAINTS_free(nc);
}

static void fact_names_out(const tc_judge *j, X509 *x, int depth, X509 *child, tb *b)
{
    fact_names(j, x, depth, b, 0);
}

static void fact_names_excl(const tc_judge *j, X509 *x, int depth, X509 *child, tb *b)
{
    fact_names(j, x, depth, b, 1);
}

/* Hashes that no longer make a safe certificate signature. */
static const struct { int md_nid; const char *name; } WEAK_MD[] = {
    { NID_md2, "MD2" }, { NID_md4, "MD4" }, { NID_md5, "MD5" },
    { NID_md5_sha1, "MD5+SHA-1" }, { NID_sha1, "SHA-1" }, { NID_mdc2, "MDC2" },
};

static void sigalg_name(tb *b, X509 *x)
{
    const X509_ALGOR *alg = NULL;
    const ASN1_OBJECT *obj = NULL;
    X509_get0_signature(NULL, &alg, x);
    if (alg != NULL)
        X509_ALGOR_get0(&obj, NULL, NULL, alg);
    if (obj != NULL) {
        int nid = OBJ_obj2nid(obj);
        if (nid != NID_undef && OBJ_nid2ln(nid) != NULL)
            tb_add(b, OBJ_nid2ln(nid));
        else
            tb_add_obj(b, obj);
    } else {
        tb_add(b, "an unknown algorithm");
    }
}

int tc_fact_weak_signature(X509 *x, char *out, size_t outlen)
{
    int mdnid = NID_undef, pknid = NID_undef, secbits = 0;
    uint32_t flags = 0;
    tb b;
    tb_init(&b, out, outlen);
    ERR_set_mark();
    int ok = X509_get_signature_info(x, &mdnid, &pknid, &secbits, &flags);
    ERR_pop_to_mark();
    if (!ok)
        return 0;
    for (size_t i = 0; i < sizeof(WEAK_MD) / sizeof(WEAK_MD[0]); i++)
        if (WEAK_MD[i].md_nid == mdnid) {
            tb_addf(&b, "%s (", WEAK_MD[i].name);
            sigalg_name(&b, x);
            tb_add(&b, ")");
            return 1;
        }
    return 0;
}

static void fact_sigalg(const tc_judge *j, X509 *x, int depth, X509 *child, tb *b)
{
    if (!tc_fact_weak_signature(x, b->p + b->len, b->cap - b->len))
        sigalg_name(b, x);
    b->len += strlen(b->p + b->len);
}

static void key_words(tb *b, EVP_PKEY *pk, const char *type)
{
    tb_addf(b, "%d-bit %s", EVP_PKEY_get_bits(pk), type);
    char group[64];
    size_t glen = 0;
    if (EVP_PKEY_get_base_id(pk) == EVP_PKEY_EC
        && EVP_PKEY_get_group_name(pk, group, sizeof(group), &glen) == 1 && glen > 0)
        tb_addf(b, " (%s)", group);
}

/* The key OpenSSL found below its security level (codes 66, 67), in
 * words; whether a key is weak is policy.c's rule. */
static void fact_key(const tc_judge *j, X509 *x, int depth, X509 *child, tb *b)
{
    EVP_PKEY *pk = X509_get0_pubkey(x);
    if (pk != NULL)
        key_words(b, pk, OBJ_nid2sn(EVP_PKEY_get_base_id(pk)) ? OBJ_nid2sn(EVP_PKEY_get_base_id(pk)) : "");
    else
        tb_add(b, "unreadable");
}

/* CRLReason names, RFC 5280 section 5.3.1. */
static const char *const CRL_REASONS[] = {
    "unspecified", "keyCompromise", "cACompromise", "affiliationChanged", "superseded",
    "cessationOfOperation", "certificateHold", NULL, "removeFromCRL",
    "privilegeWithdrawn", "aACompromise",
};

const char *tc_crl_reason_name(long reason)
{
    if (reason >= 0 && (size_t)reason < sizeof(CRL_REASONS) / sizeof(CRL_REASONS[0]))
        return CRL_REASONS[reason];
    return NULL;
}

void tc_words_revocation(tb *b, const ASN1_TIME *when, long reason)
{
    char text[40];
    tc_format_time(text, sizeof(text), when);
    tb_addf(b, " on %s", text);
    const char *name = tc_crl_reason_name(reason);
    if (name != NULL)
        tb_addf(b, " (reason: %s)", name);
}

static void fact_revoked(const tc_judge *j, X509 *x, int depth, X509 *child, tb *b)
{
    STACK_OF(X509_CRL) *crls = j->params->crls;
    for (int i = 0; i < sk_X509_CRL_num(crls); i++) {
        X509_CRL *crl = sk_X509_CRL_value(crls, i);
        X509_REVOKED *rev = NULL;
        if (!tc_crl_may_list(x, crl) || X509_CRL_get0_by_cert(crl, &rev, x) != 1 || rev == NULL)
            continue;
        ASN1_ENUMERATED *reason = X509_REVOKED_get_ext_d2i(rev, NID_crl_reason, NULL, NULL);
        tc_words_revocation(b, X509_REVOKED_get0_revocationDate(rev),
                            reason ? ASN1_ENUMERATED_get(reason) : -1);
        ASN1_ENUMERATED_free(reason);
        tc_words_revoked_from(x, crl, b);
        return;
    }
}

static void fact_nocrl(const tc_judge *j, X509 *x, int depth, X509 *child, tb *b)
{
    tc_words_no_crl(j, x, b);
}

static void fact_critext(const tc_judge *j, X509 *x, int depth, X509 *child, tb *b)
{
    const char *sep = "";
    for (int i = 0; i < X509_get_ext_count(x); i++) {
        X509_EXTENSION *e = X509_get_ext(x, i);
        if (X509_EXTENSION_get_critical(e) && !X509_supported_extension(e)) {
            tb_add(b, sep);
            tb_add_obj(b, X509_EXTENSION_get_object(e));
            sep = ", ";
        }
    }
    if (!*sep)
        tb_add(b, "an unknown extension");
}

static void fact_badext(const tc_judge *j, X509 *x, int depth, X509 *child, tb *b)
{
    for (int i = 0; i < X509_get_ext_count(x); i++) {
        X509_EXTENSION *e = X509_get_ext(x, i);
        const ASN1_OBJECT *obj = X509_EXTENSION_get_object(e);
        if (X509_get_ext_by_OBJ(x, obj, i) >= 0) {
            tb_add(b, "it has the ");
            tb_add_obj(b, obj);
            tb_add(b, " extension twice, and RFC 5280 section 4.2 allows each extension once");
            return;
        }
        void *decoded = NULL;
        const X509V3_EXT_METHOD *m = X509V3_EXT_get(e);
        if (m == NULL)
            continue;
        ERR_set_mark();
        decoded = X509V3_EXT_d2i(e);
        ERR_pop_to_mark();
        if (decoded == NULL) {
            tb_add(b, "its ");
            tb_add_obj(b, obj);
            tb_add(b, " extension cannot be decoded");
            return;
        }
        if (m->it != NULL)
            ASN1_item_free(decoded, ASN1_ITEM_ptr(m->it));
        else if (m->ext_free != NULL)
            m->ext_free(decoded);
    }
    ASN1_BIT_STRING *ku = X509_get_ext_d2i(x, NID_key_usage, NULL, NULL);
    int empty_ku = ku != NULL;
    for (int bit = 0; empty_ku && bit < 9; bit++)
        empty_ku = !ASN1_BIT_STRING_get_bit(ku, bit);
    ASN1_BIT_STRING_free(ku);
    if (empty_ku) {
        tb_add(b, "its keyUsage extension is empty, and RFC 5280 section 4.2.1.3 requires at least one usage");
        return;
    }
    BASIC_CONSTRAINTS *bc = X509_get_ext_d2i(x, NID_basic_constraints, NULL, NULL);
    int pathlen_without_ca = bc != NULL && bc->pathlen != NULL && !bc->ca;
    int negative = bc != NULL && bc->pathlen != NULL && ASN1_INTEGER_get(bc->pathlen) < 0;
    BASIC_CONSTRAINTS_free(bc);
    if (pathlen_without_ca)
        tb_add(b, "its basicConstraints has a pathLenConstraint but says CA:FALSE (RFC 5280 section 4.2.1.9)");
    else if (negative)
        tb_add(b, "its basicConstraints has a negative pathLenConstraint");
    else
        tb_add(b, "one of its extensions is invalid (badly encoded, or contradicting another)");
}

static const fact_fn FACTS[F__COUNT] = {
    [F_NONE] = NULL,
    [F_CA] = fact_ca,
    [F_PATHLEN] = fact_pathlen,
    [F_PURPOSE] = fact_purpose,
    [F_USE] = fact_use,
    [F_NAMES_OUT] = fact_names_out,
    [F_NAMES_EXCL] = fact_names_excl,
    [F_SIGALG] = fact_sigalg,
    [F_KEY] = fact_key,
    [F_REVOKED] = fact_revoked,
    [F_NOCRL] = fact_nocrl,
    [F_CRITEXT] = fact_critext,
    [F_BADEXT] = fact_badext,
};

/* ------------------------------------------------------------------ */
/* The table                                                           */
/* ------------------------------------------------------------------ */

enum {
    CLS_TRUST = 1 << 0,        /* "no trusted path": decided by trust_rule() */
    /* The path is not trusted when reported: report->verified stays NULL.
     * "Verified" means a path to an anchor whose every link holds: each
     * signature verifies, each issuer may issue (CA, keyUsage, path length,
     * name constraints, policy), the anchor is trusted for the purpose and
     * nothing is revoked.  Dates, the leaf's names and purpose, key and hash
     * strength, encoding strictness are judged apart and do not void it. */
    CLS_BLOCKS = 1 << 1,
    CLS_MAXDEPTH = 1 << 2,     /* the caller's max_depth cut the chain: depth -1 */
    CLS_ISSUER_SIDE = 1 << 3,  /* about the issuer of the certificate checked */
    /* Moot for the trust anchor, which is trusted input to path validation
     * (RFC 5280 section 6.1.1 (d)), not a certificate of the path: whether
     * it is revoked (OpenSSL's CRL_CHECK_ALL asks anyway), and the profile
     * rules that roots of the Mozilla/Debian store still in use break and
     * every browser accepts: no keyUsage (Go Daddy Class 2, Starfield
     * Class 2; RFC 5280 section 6.3.3 (f) checks keyUsage only "if
     * present"), a non-critical basicConstraints (the same, Chunghwa ePKI
     * Root), no subjectKeyIdentifier (TWCA Global Root CA).  Costs two
     * x509-limbo cases that expect these roots refused (docs/conformance.md). */
    CLS_NOT_ANCHOR = 1 << 4,
    /* OpenSSL calls a certificate expired at its notAfter second; RFC 5280
     * section 4.1.2.5 says the validity period includes notAfter. */
    CLS_INCLUSIVE_END = 1 << 5,
    /* Says only that OpenSSL stopped: worded only when nothing more
     * specific explains the refusal (tc_classify_vague). */
    CLS_VAGUE = 1 << 6,
    /* No valid policy for the path (RFC 5280 6.1.5 (g)): OpenSSL names no
     * certificate, so judge_policy finds the one whose constraint it was. */
    CLS_POLICY = 1 << 7,
};

typedef struct cls_row {
    const char *detail;        /* NULL: the code is not in the table */
    tc_kind kind;
    unsigned flags;
    fact fact;
    const char *leaf_detail;   /* at depth 0: malformed_certificate with this */
} cls_row;

#define ROW(code, kind_, flags_, fact_, detail_) \
    [code] = { detail_, TC_KIND_##kind_, flags_, fact_, NULL }
#define ROW2(code, kind_, flags_, fact_, detail_, leaf_) \
    [code] = { detail_, TC_KIND_##kind_, flags_, fact_, leaf_ }
#define NOCRL "its revocation status could not be checked: "
/* The clients that refuse what OpenSSL's strict mode alone refuses (codes
 * 80, 81, 89: pytlscheck/_words.py adds whether this Python is one). */
#define STRICT_REFUSERS "most clients accept it, but Python 3.13 and later refuse it by default (ssl.create_default_context() sets ssl.VERIFY_X509_STRICT), and so does openssl verify -x509_strict"

static const cls_row ROWS[] = {
    ROW(X509_V_ERR_UNSPECIFIED, CHAIN_INVALID, CLS_VAGUE, F_NONE,
        "OpenSSL reported an unspecified verification error"),
    ROW(X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT, INCOMPLETE_CHAIN, CLS_TRUST | CLS_BLOCKS, F_NONE,
        "its issuer could not be found"),
    /* No CRL given covers it (none from its CRL issuer, none in scope,
     * reasons left uncovered): unknown, not refused (verify.c's top). */
    ROW(X509_V_ERR_UNABLE_TO_GET_CRL, REVOCATION_NOT_CHECKED, CLS_NOT_ANCHOR, F_NOCRL, "{detail}"),
    ROW(X509_V_ERR_UNABLE_TO_DECRYPT_CERT_SIGNATURE, MALFORMED_CERTIFICATE, CLS_BLOCKS, F_NONE,
        "its signature value cannot be decoded"),
    ROW(X509_V_ERR_UNABLE_TO_DECRYPT_CRL_SIGNATURE, CHAIN_INVALID, CLS_NOT_ANCHOR, F_NONE,
        NOCRL "the signature value of the CRL from {issuer} cannot be decoded"),
    ROW(X509_V_ERR_UNABLE_TO_DECODE_ISSUER_PUBLIC_KEY, MALFORMED_CERTIFICATE, CLS_BLOCKS, F_NONE,
        "its public key cannot be decoded, so nothing it signed can be checked"),
    ROW(X509_V_ERR_CERT_SIGNATURE_FAILURE, CHAIN_INVALID, CLS_BLOCKS, F_NONE,
        "its signature does not verify with the public key of its issuer ({issuer}): it was altered after signing, or signed by another key of the same name"),
    ROW(X509_V_ERR_CRL_SIGNATURE_FAILURE, CHAIN_INVALID, CLS_NOT_ANCHOR, F_NONE,
        NOCRL "the signature on the CRL from {issuer} does not verify"),
    ROW(X509_V_ERR_CERT_NOT_YET_VALID, NOT_YET_VALID, 0, F_NONE, ""),
    ROW(X509_V_ERR_CERT_HAS_EXPIRED, EXPIRED, CLS_INCLUSIVE_END, F_NONE, ""),
    ROW(X509_V_ERR_CRL_NOT_YET_VALID, CHAIN_INVALID, CLS_NOT_ANCHOR, F_NONE,
        NOCRL "the CRL from {issuer} is not valid yet (its lastUpdate is in the future)"),
    ROW(X509_V_ERR_CRL_HAS_EXPIRED, CHAIN_INVALID, CLS_NOT_ANCHOR, F_NONE,
        NOCRL "the CRL from {issuer} has expired (its nextUpdate has passed); fetch a current one"),
    ROW(X509_V_ERR_ERROR_IN_CERT_NOT_BEFORE_FIELD, MALFORMED_CERTIFICATE, 0, F_NONE,
        "its notBefore date is not a valid time"),
    ROW(X509_V_ERR_ERROR_IN_CERT_NOT_AFTER_FIELD, MALFORMED_CERTIFICATE, 0, F_NONE,
        "its notAfter date is not a valid time"),
    ROW(X509_V_ERR_ERROR_IN_CRL_LAST_UPDATE_FIELD, CHAIN_INVALID, CLS_NOT_ANCHOR, F_NONE,
        NOCRL "the CRL from {issuer} has an invalid lastUpdate date"),
    ROW(X509_V_ERR_ERROR_IN_CRL_NEXT_UPDATE_FIELD, CHAIN_INVALID, CLS_NOT_ANCHOR, F_NONE,
        NOCRL "the CRL from {issuer} has an invalid nextUpdate date"),
    ROW(X509_V_ERR_OUT_OF_MEM, CHAIN_INVALID, CLS_BLOCKS, F_NONE,
        "OpenSSL ran out of memory"),
    ROW(X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT, SELF_SIGNED, CLS_TRUST | CLS_BLOCKS, F_NONE,
        "it is self-signed"),
    ROW(X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN, UNTRUSTED_ROOT, CLS_TRUST | CLS_BLOCKS, F_NONE,
        "the chain ends in a self-signed root that is not trusted"),
    ROW(X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY, INCOMPLETE_CHAIN, CLS_TRUST | CLS_BLOCKS, F_NONE,
        "its issuer is not among the anchors"),
    ROW(X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE, INCOMPLETE_CHAIN, CLS_TRUST | CLS_BLOCKS, F_NONE,
        "its issuer could not be found"),
    ROW(X509_V_ERR_CERT_CHAIN_TOO_LONG, PATH_LENGTH_EXCEEDED, CLS_BLOCKS | CLS_MAXDEPTH, F_NONE,
        "longer than max_depth allows (worded by tc_judge_max_depth)"),
    ROW(X509_V_ERR_CERT_REVOKED, REVOKED, CLS_BLOCKS, F_REVOKED, "{detail}"),
    ROW(X509_V_ERR_NO_ISSUER_PUBLIC_KEY, CHAIN_INVALID, CLS_NOT_ANCHOR, F_NONE,
        NOCRL "the public key of the CRL's issuer cannot be read"),
    ROW(X509_V_ERR_PATH_LENGTH_EXCEEDED, PATH_LENGTH_EXCEEDED, CLS_BLOCKS, F_PATHLEN, "{detail}"),
    ROW(X509_V_ERR_INVALID_PURPOSE, INVALID_PURPOSE, 0, F_PURPOSE, "{detail}"),
    ROW(X509_V_ERR_CERT_UNTRUSTED, UNTRUSTED_ROOT, CLS_TRUST | CLS_BLOCKS, F_NONE,
        "the trust store does not trust it for this purpose"),
    ROW(X509_V_ERR_CERT_REJECTED, INVALID_PURPOSE, CLS_BLOCKS, F_USE,
        "{trust} marks it as rejected for {detail}"),
    ROW(X509_V_ERR_SUBJECT_ISSUER_MISMATCH, CHAIN_INVALID, 0, F_NONE,
        "its issuer name does not match the subject name of the certificate that signed it"),
    ROW(X509_V_ERR_AKID_SKID_MISMATCH, CHAIN_INVALID, 0, F_NONE,
        "its authorityKeyIdentifier does not match the subjectKeyIdentifier of the certificate that signed it ({issuer})"),
    ROW(X509_V_ERR_AKID_ISSUER_SERIAL_MISMATCH, CHAIN_INVALID, 0, F_NONE,
        "its authorityKeyIdentifier names an issuer or serial number other than those of the certificate that signed it ({issuer})"),
    ROW2(X509_V_ERR_KEYUSAGE_NO_CERTSIGN, INVALID_CA, CLS_ISSUER_SIDE | CLS_BLOCKS, F_NONE,
         "its keyUsage does not include keyCertSign, so its key may not sign certificates, yet it signed {cert}",
         "its keyUsage does not include keyCertSign"),
    ROW(X509_V_ERR_UNABLE_TO_GET_CRL_ISSUER, CHAIN_INVALID, CLS_NOT_ANCHOR, F_NONE,
        NOCRL "the certificate that signed the CRL that covers it could not be found; pass it with the CRL in crls="),
    ROW(X509_V_ERR_UNHANDLED_CRITICAL_EXTENSION, CHAIN_INVALID, 0, F_CRITEXT,
        "it has a critical extension this validator does not understand ({detail}), and RFC 5280 section 4.2 requires rejecting such a certificate"),
    ROW(X509_V_ERR_KEYUSAGE_NO_CRL_SIGN, CHAIN_INVALID, CLS_NOT_ANCHOR, F_NONE,
        NOCRL "its CRL is signed by a certificate whose keyUsage does not include cRLSign"),
    ROW(X509_V_ERR_UNHANDLED_CRITICAL_CRL_EXTENSION, CHAIN_INVALID, CLS_NOT_ANCHOR, F_NONE,
        NOCRL "the CRL from {issuer} has a critical extension this validator does not understand"),
    ROW2(X509_V_ERR_INVALID_NON_CA, INVALID_CA, CLS_BLOCKS, F_CA,
         "it is the issuer of the proxy certificate {cert}, but only a non-CA certificate may be ({detail})",
         "it is a CA certificate used where only a non-CA certificate may be"),
    ROW(X509_V_ERR_PROXY_PATH_LENGTH_EXCEEDED, PATH_LENGTH_EXCEEDED, CLS_BLOCKS, F_NONE,
        "the proxy certificates below it are more than its proxyCertInfo pathLength allows"),
    ROW(X509_V_ERR_KEYUSAGE_NO_DIGITAL_SIGNATURE, INVALID_PURPOSE, 0, F_NONE,
        "its keyUsage does not include digitalSignature"),
    ROW(X509_V_ERR_PROXY_CERTIFICATES_NOT_ALLOWED, INVALID_PURPOSE, 0, F_NONE,
        "it is a proxy certificate (RFC 3820), and proxy certificates are not accepted"),
    ROW(X509_V_ERR_INVALID_EXTENSION, MALFORMED_CERTIFICATE, 0, F_BADEXT, "{detail}"),
    ROW(X509_V_ERR_INVALID_POLICY_EXTENSION, INVALID_POLICY, CLS_BLOCKS | CLS_POLICY, F_NONE,
        "worded by judge_policy"),
    ROW(X509_V_ERR_NO_EXPLICIT_POLICY, INVALID_POLICY, CLS_BLOCKS | CLS_POLICY, F_NONE,
        "worded by judge_policy"),
    ROW(X509_V_ERR_DIFFERENT_CRL_SCOPE, REVOCATION_NOT_CHECKED, CLS_NOT_ANCHOR, F_NOCRL, "{detail}"),
    ROW(X509_V_ERR_UNSUPPORTED_EXTENSION_FEATURE, CHAIN_INVALID, 0, F_NONE,
        "it uses an extension feature this validator does not support"),
    ROW(X509_V_ERR_UNNESTED_RESOURCE, CHAIN_INVALID, 0, F_NONE,
        "its IP address or AS number resources (RFC 3779) are not inside its issuer's"),
    ROW(X509_V_ERR_PERMITTED_VIOLATION, NAME_CONSTRAINTS_VIOLATION, CLS_BLOCKS, F_NAMES_OUT, "{detail}"),
    ROW(X509_V_ERR_EXCLUDED_VIOLATION, NAME_CONSTRAINTS_VIOLATION, CLS_BLOCKS, F_NAMES_EXCL, "{detail}"),
    ROW(X509_V_ERR_SUBTREE_MINMAX, NAME_CONSTRAINTS_VIOLATION, CLS_BLOCKS, F_NONE,
        "the nameConstraints of a CA above it set minimum or maximum subtree fields, which RFC 5280 section 4.2.1.10 forbids"),
    ROW(X509_V_ERR_APPLICATION_VERIFICATION, CHAIN_INVALID, 0, F_NONE,
        "the application's own verification rejected it"),
    ROW(X509_V_ERR_UNSUPPORTED_CONSTRAINT_TYPE, NAME_CONSTRAINTS_VIOLATION, CLS_BLOCKS, F_NONE,
        "a CA above it has nameConstraints of a name type that cannot be checked, so the constraint cannot be honoured"),
    ROW(X509_V_ERR_UNSUPPORTED_CONSTRAINT_SYNTAX, NAME_CONSTRAINTS_VIOLATION, CLS_BLOCKS, F_NONE,
        "a CA above it has nameConstraints whose syntax cannot be checked, so the constraint cannot be honoured"),
    ROW(X509_V_ERR_UNSUPPORTED_NAME_SYNTAX, NAME_CONSTRAINTS_VIOLATION, CLS_BLOCKS, F_NONE,
        "one of its names has a syntax that cannot be checked against the nameConstraints of a CA above it"),
    ROW(X509_V_ERR_CRL_PATH_VALIDATION_ERROR, CHAIN_INVALID, CLS_NOT_ANCHOR, F_NONE,
        NOCRL "the certificate that signed its CRL does not validate up to the same trust anchor (it is revoked, expired, or not issued under that anchor)"),
    ROW(X509_V_ERR_PATH_LOOP, CHAIN_INVALID, CLS_BLOCKS, F_NONE,
        "the chain loops back on itself"),
    ROW(X509_V_ERR_SUITE_B_INVALID_VERSION, CHAIN_INVALID, 0, F_NONE,
        "it is not a version 3 certificate, which Suite B requires"),
    ROW(X509_V_ERR_SUITE_B_INVALID_ALGORITHM, CHAIN_INVALID, 0, F_NONE,
        "its key algorithm is not allowed by Suite B"),
    ROW(X509_V_ERR_SUITE_B_INVALID_CURVE, CHAIN_INVALID, 0, F_NONE,
        "its curve is not allowed by Suite B"),
    ROW(X509_V_ERR_SUITE_B_INVALID_SIGNATURE_ALGORITHM, CHAIN_INVALID, 0, F_NONE,
        "its signature algorithm is not allowed by Suite B"),
    ROW(X509_V_ERR_SUITE_B_LOS_NOT_ALLOWED, CHAIN_INVALID, 0, F_NONE,
        "Suite B does not allow the 128-bit security level here"),
    ROW(X509_V_ERR_SUITE_B_CANNOT_SIGN_P_384_WITH_P_256, CHAIN_INVALID, 0, F_NONE,
        "Suite B does not allow a P-256 key to sign a P-384 one"),
    ROW(X509_V_ERR_HOSTNAME_MISMATCH, HOSTNAME_MISMATCH, 0, F_NONE,
        "none of its names covers the host name"),
    ROW(X509_V_ERR_EMAIL_MISMATCH, CHAIN_INVALID, 0, F_NONE,
        "none of its e-mail addresses matches the one expected"),
    ROW(X509_V_ERR_IP_ADDRESS_MISMATCH, HOSTNAME_MISMATCH, 0, F_NONE,
        "none of its IP addresses matches the address"),
    ROW(X509_V_ERR_DANE_NO_MATCH, CHAIN_INVALID, 0, F_NONE,
        "no DANE TLSA record matches it"),
    ROW(X509_V_ERR_EE_KEY_TOO_SMALL, WEAK_KEY, 0, F_KEY, "{detail}"),
    ROW(X509_V_ERR_CA_KEY_TOO_SMALL, WEAK_KEY, 0, F_KEY, "{detail}"),
    ROW(X509_V_ERR_CA_MD_TOO_WEAK, WEAK_SIGNATURE, 0, F_SIGALG, "{detail}"),
    ROW(X509_V_ERR_INVALID_CALL, CHAIN_INVALID, CLS_BLOCKS, F_NONE,
        "OpenSSL's verification was called incorrectly (a bug in this program)"),
    ROW(X509_V_ERR_STORE_LOOKUP, CHAIN_INVALID, CLS_BLOCKS | CLS_VAGUE, F_NONE,
        "{trust} could not be searched for its issuer"),
    ROW(X509_V_ERR_NO_VALID_SCTS, CHAIN_INVALID, 0, F_NONE,
        "it has no valid Certificate Transparency timestamp (SCT)"),
    ROW(X509_V_ERR_PROXY_SUBJECT_NAME_VIOLATION, CHAIN_INVALID, 0, F_NONE,
        "its subject name is not derived from its issuer's, as a proxy certificate's must be"),
    ROW(X509_V_ERR_OCSP_VERIFY_NEEDED, CHAIN_INVALID, CLS_NOT_ANCHOR, F_NONE,
        NOCRL "an OCSP check is needed"),
    ROW(X509_V_ERR_OCSP_VERIFY_FAILED, CHAIN_INVALID, CLS_NOT_ANCHOR, F_NONE,
        NOCRL "the OCSP response could not be verified"),
    ROW(X509_V_ERR_OCSP_CERT_UNKNOWN, CHAIN_INVALID, CLS_NOT_ANCHOR, F_NONE,
        NOCRL "the OCSP responder does not know it"),
    ROW(X509_V_ERR_UNSUPPORTED_SIGNATURE_ALGORITHM, CHAIN_INVALID, CLS_BLOCKS, F_SIGALG,
        "it is signed with an algorithm this validator does not support ({detail})"),
    ROW(X509_V_ERR_SIGNATURE_ALGORITHM_MISMATCH, CHAIN_INVALID, CLS_BLOCKS, F_SIGALG,
        "its signature algorithm ({detail}) does not fit the type of its issuer's key"),
    ROW(X509_V_ERR_SIGNATURE_ALGORITHM_INCONSISTENCY, MALFORMED_CERTIFICATE, 0, F_NONE,
        "the signature algorithm inside it differs from the one on its signature (RFC 5280 section 4.1.1.2)"),
    ROW2(X509_V_ERR_INVALID_CA, INVALID_CA, CLS_BLOCKS, F_CA,
         "{detail}, yet it signed {cert}", "{detail}"),
    /* OpenSSL's strict check (always on) of a rule for the issuing CA: a
     * pathLenConstraint means something only in a CA certificate that may
     * sign (RFC 5280 section 4.2.1.9), so a relying party ignores it
     * elsewhere, as mozilla::pkix and rustls-webpki do (Mozilla bug
     * 985025).  A warning: a CA:FALSE or non-signing intermediate is
     * refused by its own problem (invalid_ca). */
    ROW(X509_V_ERR_PATHLEN_INVALID_FOR_NON_CA, PROFILE_DEVIATION, 0, F_NONE,
        "it has a pathLenConstraint although it is not a CA certificate (CA:FALSE), against RFC 5280 section 4.2.1.9; the constraint means nothing outside a CA certificate, so " STRICT_REFUSERS),
    ROW(X509_V_ERR_PATHLEN_WITHOUT_KU_KEY_CERT_SIGN, PROFILE_DEVIATION, 0, F_NONE,
        "it has a pathLenConstraint although its keyUsage does not include keyCertSign, against RFC 5280 section 4.2.1.9; the constraint means nothing in a certificate that may not sign certificates, so " STRICT_REFUSERS),
    ROW(X509_V_ERR_KU_KEY_CERT_SIGN_INVALID_FOR_NON_CA, MALFORMED_CERTIFICATE, 0, F_NONE,
        "its keyUsage includes keyCertSign although it is not a CA certificate (RFC 5280 section 4.2.1.3)"),
    ROW(X509_V_ERR_ISSUER_NAME_EMPTY, MALFORMED_CERTIFICATE, 0, F_NONE,
        "its issuer name is empty (RFC 5280 section 4.1.2.4)"),
    ROW(X509_V_ERR_SUBJECT_NAME_EMPTY, MALFORMED_CERTIFICATE, 0, F_NONE,
        "its subject name is empty, which RFC 5280 section 4.1.2.6 allows only for a leaf with a subjectAltName"),
    ROW(X509_V_ERR_MISSING_AUTHORITY_KEY_IDENTIFIER, MALFORMED_CERTIFICATE, 0, F_NONE,
        "it has no authorityKeyIdentifier extension, which RFC 5280 section 4.2.1.1 requires"),
    ROW(X509_V_ERR_MISSING_SUBJECT_KEY_IDENTIFIER, MALFORMED_CERTIFICATE, CLS_NOT_ANCHOR, F_NONE,
        "it is a CA certificate without a subjectKeyIdentifier extension, which RFC 5280 section 4.2.1.2 requires"),
    ROW(X509_V_ERR_EMPTY_SUBJECT_ALT_NAME, MALFORMED_CERTIFICATE, 0, F_NONE,
        "its subjectAltName extension is empty (RFC 5280 section 4.2.1.6)"),
    ROW(X509_V_ERR_EMPTY_SUBJECT_SAN_NOT_CRITICAL, MALFORMED_CERTIFICATE, 0, F_NONE,
        "its subject name is empty and its subjectAltName extension is not marked critical, which RFC 5280 section 4.2.1.6 requires"),
    /* A rule for the issuing CA, which most clients do not enforce: a
     * warning, for roots too (Go Daddy Class 2, Starfield Class 2 and
     * Chunghwa ePKI of the public store have one).  The Python layer adds
     * whether this very interpreter is one of the clients that refuse it. */
    ROW(X509_V_ERR_CA_BCONS_NOT_CRITICAL, PROFILE_DEVIATION, 0, F_NONE,
        "its basicConstraints (CA:TRUE) is not marked critical, as RFC 5280 section 4.2.1.9 asks of the CA that issues it; " STRICT_REFUSERS),
    ROW(X509_V_ERR_AUTHORITY_KEY_IDENTIFIER_CRITICAL, MALFORMED_CERTIFICATE, 0, F_NONE,
        "its authorityKeyIdentifier extension is marked critical, which RFC 5280 section 4.2.1.1 forbids"),
    ROW(X509_V_ERR_SUBJECT_KEY_IDENTIFIER_CRITICAL, MALFORMED_CERTIFICATE, 0, F_NONE,
        "its subjectKeyIdentifier extension is marked critical, which RFC 5280 section 4.2.1.2 forbids"),
    ROW2(X509_V_ERR_CA_CERT_MISSING_KEY_USAGE, INVALID_CA, CLS_NOT_ANCHOR, F_NONE,
         "it has no keyUsage extension, which RFC 5280 section 4.2.1.3 requires of a CA certificate, yet it signed {cert}",
         "it is a CA certificate without a keyUsage extension (RFC 5280 section 4.2.1.3)"),
    ROW(X509_V_ERR_EXTENSIONS_REQUIRE_VERSION_3, MALFORMED_CERTIFICATE, 0, F_NONE,
        "it has extensions but is not a version 3 certificate (RFC 5280 section 4.1.2.1)"),
    ROW(X509_V_ERR_EC_KEY_EXPLICIT_PARAMS, MALFORMED_CERTIFICATE, 0, F_NONE,
        "its EC key spells out explicit curve parameters instead of naming a standard curve (RFC 5480 section 2.1.1)"),
};

/* Any code OpenSSL may add later. */
static const cls_row UNKNOWN_ROW = { "OpenSSL rejected it", TC_KIND_CHAIN_INVALID, 0, F_NONE, NULL };

static const cls_row *row_for(int code)
{
    if (code > 0 && (size_t)code < sizeof(ROWS) / sizeof(ROWS[0]) && ROWS[code].detail)
        return &ROWS[code];
    return &UNKNOWN_ROW;
}

int tc_kind_breaks_path(tc_kind kind)
{
    const tc_kind_info *k = tc_kind_get(kind);
    return k != NULL && k->breaks_path;
}

int tc_classify_blocks_trust(int code)
{
    return (row_for(code)->flags & CLS_BLOCKS) != 0;
}

tc_kind tc_kind_for_verify_code(int code, int *no_trusted_path)
{
    if (no_trusted_path != NULL)
        *no_trusted_path = 0;
    if (code <= 0)
        return TC_KIND__COUNT;
    const cls_row *row = row_for(code);
    if (no_trusted_path != NULL)
        *no_trusted_path = (row->flags & CLS_TRUST) != 0;
    return row->kind;
}

/* ------------------------------------------------------------------ */
/* Adding problems                                                     */
/* ------------------------------------------------------------------ */

/* tc_judge_add, with a remedy: a fix the finding knows to come first
 * ({remedy}), or NULL. */
static tc_status judge_add_core(const tc_judge *j, tc_kind kind, int depth, X509 *x,
                                const char *cert_text, int code, const char *detail,
                                const char *remedy, tc_error *err)
{
    if (x == NULL && depth >= 0 && depth < sk_X509_num(j->path))
        x = sk_X509_value(j->path, depth);
    tc_cert_vars cv;
    tc_render_vars v = { 0 };
    tc_cert_vars_fill_purpose(&cv, x, depth, j->now, j->params->purpose, &v);
    if (cert_text != NULL)
        v.cert = cert_text;
    v.hostname = j->report->hostname;
    v.detail = detail ? detail : "";
    v.trust = tc_trust_describe(j->trust);
    v.remedy = remedy;

    size_t before = j->report->n_problems;
    if (tc_report_add(j->report, kind, depth, code,
                      code ? X509_verify_cert_error_string(code) : NULL, &v, err) != TC_OK)
        return TC_FAIL;
    /* A template may open with {cert} ("the server certificate ..."): a
     * sentence starts with a capital. */
    if (j->report->n_problems > before) {
        char *m = j->report->problems[j->report->n_problems - 1].message;
        if (m && m[0] >= 'a' && m[0] <= 'z')
            m[0] = (char)(m[0] - 'a' + 'A');
    }
    return TC_OK;
}

tc_status tc_judge_add(const tc_judge *j, tc_kind kind, int depth, X509 *x,
                       const char *cert_text, int code, const char *detail,
                       tc_error *err)
{
    return judge_add_core(j, kind, depth, x, cert_text, code, detail, NULL, err);
}

/* Words one table row about x (at depth; child = what x signed, NULL: the
 * certificate below x in the path) and adds it. */
static tc_status add_row(const tc_judge *j, const cls_row *row, int code, int depth,
                         X509 *x, X509 *child, tc_error *err)
{
    int n = sk_X509_num(j->path);
    if (x == NULL && depth >= 0 && depth < n)
        x = sk_X509_value(j->path, depth);
    if (child == NULL && depth > 0 && depth - 1 < n)
        child = sk_X509_value(j->path, depth - 1);

    tc_kind kind = row->kind;
    const char *tmpl = row->detail;
    if (depth == 0 && row->leaf_detail != NULL) {
        kind = TC_KIND_MALFORMED_CERTIFICATE;
        tmpl = row->leaf_detail;
    }

    if ((row->flags & CLS_NOT_ANCHOR) && j->anchored && depth == n - 1)
        return TC_OK;
    int64_t end;
    if ((row->flags & CLS_INCLUSIVE_END) && x != NULL
        && tc_asn1_time_unix(X509_get0_notAfter(x), &end) && end >= j->now)
        return TC_OK;

    char fact_text[1024], label[400], issuer[512];
    tb b;
    tb_init(&b, fact_text, sizeof(fact_text));
    if (FACTS[row->fact] != NULL && x != NULL)
        FACTS[row->fact](j, x, depth, child, &b);
    if (row->fact == F_PURPOSE && fact_text[0] == '\0')
        return TC_OK;   /* explained by another problem (see fact_purpose) */
    tb_init(&b, label, sizeof(label));
    if (x != NULL)
        cert_label(&b, x);
    tb_init(&b, issuer, sizeof(issuer));
    if (x != NULL)
        name_rfc4514(&b, X509_get_issuer_name(x));
    tc_cert_vars ccv;
    tc_render_vars dv = { 0 };
    /* The child sits one step below x, or (for an issuer outside the
     * path) is the top of the path. */
    int child_depth = depth > 0 ? depth - 1
                      : (child != NULL && n > 0 && child == sk_X509_value(j->path, n - 1)) ? n - 1 : -1;
    tc_cert_vars_fill_purpose(&ccv, child, child_depth, j->now, j->params->purpose, &dv);
    dv.subject = label;
    dv.issuer = issuer;
    dv.detail = fact_text;
    dv.trust = tc_trust_describe(j->trust);
    char *d = tc_render(tmpl, &dv);
    if (d == NULL)
        return tc_error_set(err, TC_E_NOMEM, "out of memory describing a problem");

    /* chain_invalid is the catch-all: keep OpenSSL's own words in sight. */
    if (kind == TC_KIND_CHAIN_INVALID && code != 0) {
        const char *why = X509_verify_cert_error_string(code);
        size_t len = strlen(d) + strlen(why) + 16;
        char *d2 = malloc(len);
        if (d2 == NULL) {
            free(d);
            return tc_error_set(err, TC_E_NOMEM, "out of memory describing a problem");
        }
        snprintf(d2, len, "%s (OpenSSL: %s)", d, why);
        free(d);
        d = d2;
    }

    tc_status st = tc_judge_add(j, kind, depth, x, NULL, code, d, err);
    free(d);
    return st;
}

tc_status tc_judge_max_depth(const tc_judge *j, int code, int have, tc_error *err)
{
    char detail[200], cert_text[80];
    int m = j->params->max_depth;
    snprintf(cert_text, sizeof(cert_text), "the maximum depth you set (max_depth=%d)", m);
    if (have > 0)
        snprintf(detail, sizeof(detail),
                 "the path to a trusted root has %d intermediate certificate%s (not counting self-issued ones), and at most %d %s allowed",
                 have, have == 1 ? "" : "s", m, m == 1 ? "is" : "are");
    else
        snprintf(detail, sizeof(detail),
                 "the path to a trusted root needs more than %d intermediate certificate%s",
                 m, m == 1 ? "" : "s");
    return tc_judge_add(j, TC_KIND_PATH_LENGTH_EXCEEDED, -1, NULL, cert_text, code,
                        detail, err);
}

/* ------------------------------------------------------------------ */
/* No trusted path: decided by the shape of the path                   */
/* ------------------------------------------------------------------ */

/* Why OpenSSL would not take c as the issuer of top, most telling first;
 * *issuer_side says whether that is about c (or about top). */
static int refusal_reason(X509 *c, X509 *top, int *issuer_side)
{
    ERR_set_mark();
    ASN1_BIT_STRING *ku = X509_get_ext_d2i(c, NID_key_usage, NULL, NULL);
    int no_certsign = ku != NULL && !ASN1_BIT_STRING_get_bit(ku, 5 /* keyCertSign */);
    ASN1_BIT_STRING_free(ku);
    int r;
    *issuer_side = 1;
    if (no_certsign)
        r = X509_V_ERR_KEYUSAGE_NO_CERTSIGN;
    else if (X509_get_extension_flags(c) & EXFLAG_INVALID)
        r = X509_V_ERR_INVALID_EXTENSION;
    else if (X509_check_ca(c) != 1)
        r = X509_V_ERR_INVALID_CA;
    else {
        r = X509_check_issued(c, top);
        *issuer_side = (row_for(r)->flags & CLS_ISSUER_SIDE) != 0;
    }
    ERR_pop_to_mark();
    return r;
}

/* A certificate that did sign `top` (its key verifies top's signature),
 * sent or in the store, that OpenSSL would not take as top's issuer;
 * up-referenced, with the reason in *why.  *signer is set when some
 * certificate signed top at all. */
static X509 *refused_issuer(const tc_judge *j, X509 *top, STACK_OF(X509) *anchors, int *why,
                            int *issuer_side, int *signer)
{
    const X509_NAME *want = X509_get_issuer_name(top);
    for (int pass = 0; pass < 2; pass++) {
        STACK_OF(X509) *sk = pass == 0 ? j->given : anchors;
        for (int i = pass == 0 ? 1 : 0; i < sk_X509_num(sk); i++) {
            X509 *c = sk_X509_value(sk, i);
            EVP_PKEY *pk = X509_get0_pubkey(c);
            if (pk == NULL || X509_cmp(c, top) == 0
                || X509_NAME_cmp(X509_get_subject_name(c), want) != 0)
                continue;
            ERR_set_mark();
            int signed_it = X509_verify(top, pk) == 1;
            ERR_pop_to_mark();
            if (!signed_it)
                continue;
            *signer = 1;
            int reason = refusal_reason(c, top, issuer_side);
            if (reason != X509_V_OK && X509_up_ref(c)) {
                *why = reason;
                return c;
            }
        }
    }
    return NULL;
}

/* caIssuers URL of x's AIA, appended as "; its certificate can be
 * downloaded from URL". */
static void aia_hint(tb *b, X509 *x)
{
    AUTHORITY_INFO_ACCESS *aia = X509_get_ext_d2i(x, NID_info_access, NULL, NULL);
    for (int i = 0; i < sk_ACCESS_DESCRIPTION_num(aia); i++) {
        ACCESS_DESCRIPTION *ad = sk_ACCESS_DESCRIPTION_value(aia, i);
        if (OBJ_obj2nid(ad->method) == NID_ad_ca_issuers && ad->location->type == GEN_URI) {
            const ASN1_IA5STRING *u = ad->location->d.uniformResourceIdentifier;
            tb_add(b, "; its certificate can be downloaded from ");
            tb_add_bytes(b, ASN1_STRING_get0_data(u), (size_t)ASN1_STRING_length(u));
            break;
        }
    }
    AUTHORITY_INFO_ACCESS_free(aia);
}

/* When the other named list (system / Mozilla) trusts the missing root:
 * top itself (issuer_of 0) or top's issuer (1).  The words are
 * tc_kinds.h's; the lookup is trust.c's, made only here, for a chain with
 * no trusted path. */
static const char *elsewhere_words(tb *b, const tc_judge *j, X509 *top, int issuer_of)
{
    tc_elsewhere w = tc_trust_elsewhere(j->trust, top, issuer_of);
    if (w == TC_ELSEWHERE_NONE)
        return NULL;
    tb_add(b, issuer_of ? TC_WORDS_ITS_ISSUER : TC_WORDS_THIS_ROOT);
    tb_add(b, w == TC_ELSEWHERE_MOZILLA ? TC_WORDS_ONLY_MOZILLA : TC_WORDS_ONLY_SYSTEM);
    if (!issuer_of)
        tb_add(b, ".");
    return w == TC_ELSEWHERE_MOZILLA ? TC_REMEDY_ONLY_MOZILLA : TC_REMEDY_ONLY_SYSTEM;
}

static tc_status trust_rule(const tc_judge *j, const tc_verr *te, tc_error *err)
{
    int n = sk_X509_num(j->path);
    if (n <= 0)
        return TC_OK;
    X509 *top = sk_X509_value(j->path, n - 1);
    int code = te ? te->code : 0;

    /* OpenSSL cannot build a path through a certificate whose key it
     * cannot decode (X509_self_signed fails, "internal error"): the
     * missing issuer would be made up.  The undecodable key is the
     * problem, and policy.c says it. */
    for (int i = 0; i < n; i++)
        if (X509_get0_pubkey(sk_X509_value(j->path, i)) == NULL)
            return TC_OK;

    if (j->anchored) {
        /* The path reached an anchor and OpenSSL still did not trust it:
         * trust settings on the anchor (X509_V_ERR_CERT_UNTRUSTED). */
        char d[600];
        snprintf(d, sizeof(d), "%s does not trust the anchor it reached for this purpose (OpenSSL: %s)",
                 tc_trust_describe(j->trust), X509_verify_cert_error_string(code));
        return tc_judge_add(j, TC_KIND_CHAIN_INVALID, n - 1, top, NULL, code, d, err);
    }
    if (tc_cert_self_signed(top)) {
        char d[400];
        tb b;
        tb_init(&b, d, sizeof(d));
        const char *remedy = elsewhere_words(&b, j, top, 0);
        return judge_add_core(j, n == 1 ? TC_KIND_SELF_SIGNED : TC_KIND_UNTRUSTED_ROOT,
                              n - 1, top, NULL, code, d, remedy, err);
    }

    /* Not self-signed, and no issuer in the path: missing, or refused. */
    ERR_set_mark();
    STACK_OF(X509) *anchors = X509_STORE_CTX_get1_certs(j->ctx, X509_get_issuer_name(top));
    ERR_pop_to_mark();
    int why = X509_V_OK, issuer_side = 0, signer = 0;
    X509 *issuer = refused_issuer(j, top, anchors, &why, &issuer_side, &signer);
    tc_status st;
    if (issuer != NULL) {
        const cls_row *row = row_for(why);
        if (issuer_side)
            st = add_row(j, row, why, -1, issuer, top, err);
        else
            st = add_row(j, row, why, n - 1, top, NULL, err);
        X509_free(issuer);
    } else {
        char detail[700];
        tb b;
        tb_init(&b, detail, sizeof(detail));
        if (sk_X509_num(anchors) > 0 && !signer)
            tb_add(&b, " (a trust anchor has that name, but its key did not sign this certificate: a re-issued or look-alike CA)");
        const char *remedy = elsewhere_words(&b, j, top, 1);
        aia_hint(&b, top);
        /* The server sent its leaf and at least one CA certificate, and
         * the top's issuer is nowhere: most often the chain is complete up
         * to a private root that was not passed as trust=.  "Serve the
         * full chain" is the fix only for a leaf sent alone. */
        int ca_on_top = n > 1 && (X509_get_extension_flags(top) & EXFLAG_CA)
                        && !(sk_X509_num(anchors) > 0 && !signer);
        /* A certificate named like the issuer was sent (a cycle, a
         * look-alike): not an unknown root. */
        for (int i = 0; ca_on_top && i < sk_X509_num(j->given); i++)
            if (X509_NAME_cmp(X509_get_subject_name(sk_X509_value(j->given, i)),
                              X509_get_issuer_name(top)) == 0)
                ca_on_top = 0;
        st = judge_add_core(j, ca_on_top ? TC_KIND_UNKNOWN_ROOT : TC_KIND_INCOMPLETE_CHAIN,
                            n - 1, top, NULL, code, detail, remedy, err);
    }
    sk_X509_pop_free(anchors, X509_free);
    return st;
}

/* ------------------------------------------------------------------ */
/* Certificate policies (RFC 5280 section 6.1)                          */
/* ------------------------------------------------------------------ */

#define MAX_POLICIES_LISTED 4

/* "1.2.3.4, 1.2.3.5" (anyPolicy by name), or "no policy". */
static void list_policies(tb *b, X509 *x)
{
    CERTIFICATEPOLICIES *cp = X509_get_ext_d2i(x, NID_certificate_policies, NULL, NULL);
    int n = cp ? sk_POLICYINFO_num(cp) : 0;
    if (n <= 0)
        tb_add(b, "no certificate policy");
    for (int i = 0; i < n && i < MAX_POLICIES_LISTED; i++) {
        if (i)
            tb_add(b, ", ");
        tb_add_obj(b, sk_POLICYINFO_value(cp, i)->policyid);
    }
    if (n > MAX_POLICIES_LISTED)
        tb_addf(b, " and %d more", n - MAX_POLICIES_LISTED);
    CERTIFICATEPOLICIES_free(cp);
}

/* Does a policyMappings of x map to or from anyPolicy (RFC 5280 4.2.1.5
 * forbids both)? */
static int maps_any_policy(X509 *x)
{
    POLICY_MAPPINGS *pm = X509_get_ext_d2i(x, NID_policy_mappings, NULL, NULL);
    int found = 0;
    for (int i = 0; pm != NULL && i < sk_POLICY_MAPPING_num(pm); i++) {
        POLICY_MAPPING *m = sk_POLICY_MAPPING_value(pm, i);
        found |= OBJ_obj2nid(m->issuerDomainPolicy) == NID_any_policy
                 || OBJ_obj2nid(m->subjectDomainPolicy) == NID_any_policy;
    }
    sk_POLICY_MAPPING_pop_free(pm, POLICY_MAPPING_free);
    return found;
}

/* One policy constraint of x: requireExplicitPolicy (which 0) or
 * inhibitPolicyMapping (which 1), or -1 when absent. */
static long policy_constraint(X509 *x, int which)
{
    POLICY_CONSTRAINTS *pc = X509_get_ext_d2i(x, NID_policy_constraints, NULL, NULL);
    long v = -1;
    if (pc != NULL) {
        const ASN1_INTEGER *i = which == 0 ? pc->requireExplicitPolicy : pc->inhibitPolicyMapping;
        if (i != NULL)
            v = ASN1_INTEGER_get(i);
        POLICY_CONSTRAINTS_free(pc);
    }
    return v;
}

/* The path has no valid policy although one is required (code 43), or a
 * certificate's policy extensions are invalid (42).  The anchor's own
 * extensions take no part (RFC 5280 6.1.1 (d)). */
static tc_status judge_policy(const tc_judge *j, int code, tc_error *err)
{
    int n = sk_X509_num(j->path);
    char detail[1400];
    tb b;
    tb_init(&b, detail, sizeof(detail));
    int last = j->anchored ? n - 2 : n - 1;
    if (code == X509_V_ERR_INVALID_POLICY_EXTENSION) {
        for (int d = last; d >= 0; d--) {
            X509 *x = sk_X509_value(j->path, d);
            if (!(X509_get_extension_flags(x) & EXFLAG_INVALID_POLICY))
                continue;
            if (maps_any_policy(x))
                tb_add(&b, "its policyMappings maps a policy to or from anyPolicy, which RFC 5280 "
                           "section 4.2.1.5 forbids, so its policies cannot be processed");
            else
                tb_add(&b, "its certificatePolicies, policyMappings or policyConstraints extension "
                           "is invalid (a policy listed twice, an empty list, or bytes that do not "
                           "decode), so its policies cannot be processed");
            return tc_judge_add(j, TC_KIND_INVALID_POLICY, d, x, NULL, code, detail, err);
        }
        tb_add(&b, "OpenSSL found a certificate's policy extensions invalid");
        return tc_judge_add(j, TC_KIND_INVALID_POLICY, -1, NULL, "a certificate of the path",
                            code, detail, err);
    }

    /* The highest certificate whose requireExplicitPolicy reaches the end
     * of the path: its skipCerts is at most the number of certificates
     * below it that are not self-issued (6.1.4 (h), (i); 6.1.5 (a), (b)). */
    int req = -1;
    long skip = -1;
    for (int d = last; d >= 0; d--) {
        int below = 0;
        for (int k = 0; k < d; k++)
            below += !(X509_get_extension_flags(sk_X509_value(j->path, k)) & EXFLAG_SI) || k == 0;
        long v = policy_constraint(sk_X509_value(j->path, d), 0);
        if (v >= 0 && v <= below) {
            req = d;
            skip = v;
            break;
        }
    }
    if (req < 0)
        return tc_judge_add(j, TC_KIND_INVALID_POLICY, -1, NULL, "a certificate of the path", code,
                            "a certificate requires an explicit policy, and none is valid for the "
                            "whole path", err);
    tb_addf(&b, "its policyConstraints sets requireExplicitPolicy=%ld, so the path needs one "
                "policy that every certificate from it down asserts (or maps to), and there is "
                "none: ", skip);
    for (int d = req; d >= 0; d--) {
        X509 *x = sk_X509_value(j->path, d);
        char label[400];
        tc_x509_label(label, sizeof(label), x);
        tb_addf(&b, "%s%s asserts ", d == req ? "" : "; ", label);
        list_policies(&b, x);
    }
    for (int d = last; d > 0; d--) {
        X509 *x = sk_X509_value(j->path, d);
        char label[400];
        tc_x509_label(label, sizeof(label), x);
        ASN1_INTEGER *inh = X509_get_ext_d2i(x, NID_inhibit_any_policy, NULL, NULL);
        if (inh != NULL)
            tb_addf(&b, "; %s sets inhibitAnyPolicy=%ld, so anyPolicy below it stands for no policy",
                    label, ASN1_INTEGER_get(inh));
        ASN1_INTEGER_free(inh);
        long m = policy_constraint(x, 1);
        if (m >= 0)
            tb_addf(&b, "; %s sets inhibitPolicyMapping=%ld, so policy mappings below it do not count",
                    label, m);
    }
    return tc_judge_add(j, TC_KIND_INVALID_POLICY, req, NULL, NULL, code, detail, err);
}

tc_status tc_classify_openssl(const tc_judge *j, const tc_verr *errs, size_t n,
                              tc_error *err)
{
    const tc_verr *trust_err = NULL;
    int cut = 0;
    for (size_t i = 0; i < n; i++) {
        const cls_row *row = row_for(errs[i].code);
        if (row->flags & CLS_TRUST) {
            if (trust_err == NULL)
                trust_err = &errs[i];
            continue;
        }
        if (row->flags & CLS_VAGUE)
            continue;
        if (row->flags & CLS_POLICY) {
            if (judge_policy(j, errs[i].code, err) != TC_OK)
                return TC_FAIL;
            continue;
        }
        if (row->flags & CLS_MAXDEPTH) {
            cut = 1;
            if (tc_judge_max_depth(j, errs[i].code, 0, err) != TC_OK)
                return TC_FAIL;
            continue;
        }
        if (add_row(j, row, errs[i].code, errs[i].depth, errs[i].cert, NULL, err) != TC_OK)
            return TC_FAIL;
    }
    /* A path that is not anchored always gets its why, even if OpenSSL
     * said nothing about it; a chain cut short by max_depth already has
     * (OpenSSL then also says the issuer is missing: it stopped looking). */
    if (cut)
        return TC_OK;
    if (trust_err != NULL || !j->anchored)
        return trust_rule(j, trust_err, err);
    return TC_OK;
}

tc_status tc_classify_vague(const tc_judge *j, const tc_verr *errs, size_t n,
                            tc_error *err)
{
    if (!tc_report_ok(j->report))
        return TC_OK;
    for (size_t i = 0; i < n; i++) {
        const cls_row *row = row_for(errs[i].code);
        if ((row->flags & CLS_VAGUE)
            && add_row(j, row, errs[i].code, errs[i].depth, errs[i].cert, NULL, err) != TC_OK)
            return TC_FAIL;
    }
    return TC_OK;
}
