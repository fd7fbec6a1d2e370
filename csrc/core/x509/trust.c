/*
 * trust.c - trust stores: an X509_STORE plus what is needed to describe it
 * and to answer "is this certificate one of the anchors?".
 *
 * A tc_trust is immutable once built and reference counted with atomic
 * operations, so one store serves many checks on many threads (OpenSSL 3
 * locks the X509_STORE's own lookup cache internally).  The one thing
 * built later is the comparison store of a named list (the system store's
 * Mozilla bundle, a Mozilla store's system store): loaded on the first
 * tc_trust_elsewhere() question, published with a compare-and-swap.
 */
#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include <openssl/err.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

#include "tlscheck.h"

struct tc_trust {
    int refs;                  /* __atomic only */
    X509_STORE *store;         /* owned; read-only after creation */
    /* Every anchor loaded by hand (file, directory, explicit list); a
     * system or hashed-directory store may hold more, found by lookup. */
    STACK_OF(X509) *anchors;   /* owned */
    int uses_lookup;           /* 1: ask the store too (system, directory) */
    char *desc;                /* owned */
    int system;                /* OpenSSL's default paths are loaded */
    char *dir;                 /* owned: the hashed directory looked up, or NULL */
    int list;                  /* LIST_*: the named list it is (plus files) */
    char *compare_path;        /* owned: LIST_SYSTEM's Mozilla bundle, or NULL */
    struct other_cache *other; /* owned: the comparison store, built later */
    char **sources;            /* owned, n_sources strings */
    size_t n_sources;
};

enum { LIST_NONE = 0, LIST_SYSTEM, LIST_MOZILLA };

/* Written after the store is shared, so kept outside it (a const tc_trust
 * points to it); both fields __atomic only. */
struct other_cache {
    tc_trust *store;           /* owned */
    int failed;                /* it could not be loaded: not tried again */
};

static tc_status nomem(tc_error *err)
{
    return tc_error_set(err, TC_E_NOMEM, "out of memory while building a "
                        "trust store");
}

static tc_status trust_alloc(tc_trust **out, tc_error *err)
{
    tc_trust *t = calloc(1, sizeof(*t));
    *out = NULL;
    if (t == NULL)
        return nomem(err);
    t->refs = 1;
    t->store = X509_STORE_new();
    t->anchors = sk_X509_new_null();
    t->other = calloc(1, sizeof(*t->other));
    if (t->store == NULL || t->anchors == NULL || t->other == NULL) {
        tc_trust_free(t);
        return nomem(err);
    }
    *out = t;
    return TC_OK;
}

static char *dup_printf(const char *fmt, ...) TC_PRINTF(1, 2);
static char *dup_printf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        return NULL;
    char *s = malloc((size_t)n + 1);
    if (s == NULL)
        return NULL;
    va_start(ap, fmt);
    vsnprintf(s, (size_t)n + 1, fmt, ap);
    va_end(ap);
    return s;
}

/* Appends s (owned, NULL when its allocation failed) to t's sources. */
static int add_source(tc_trust *t, char *s)
{
    if (s == NULL)
        return 0;
    char **n = realloc(t->sources, (t->n_sources + 1) * sizeof(*n));
    if (n == NULL) {
        free(s);
        return 0;
    }
    t->sources = n;
    t->sources[t->n_sources++] = s;
    return 1;
}

/* Adds x (not consumed) to the store and to the anchor list, once. */
static int add_anchor(tc_trust *t, X509 *x)
{
    for (int i = 0; i < sk_X509_num(t->anchors); i++)
        if (X509_cmp(sk_X509_value(t->anchors, i), x) == 0)
            return 1;
    if (X509_STORE_add_cert(t->store, x) != 1)
        return 0;
    if (!X509_up_ref(x))
        return 0;
    if (sk_X509_push(t->anchors, x) <= 0) {
        X509_free(x);
        return 0;
    }
    return 1;
}

tc_status tc_trust_new_system(tc_trust **out, tc_error *err)
{
    tc_trust *t = NULL;
    if (trust_alloc(&t, err) != TC_OK)
        return TC_FAIL;
    /* Reads SSL_CERT_FILE and SSL_CERT_DIR itself; a missing default file
     * is not an error (the store is then empty and says so in reports). */
    if (X509_STORE_set_default_paths(t->store) != 1) {
        ERR_clear_error();
        tc_trust_free(t);
        return tc_error_set(err, TC_E_INTERNAL, "cannot load the system trust "
                            "store (OpenSSL's default certificate paths)");
    }
    ERR_clear_error();
    /* Mirror OpenSSL's choice (it ignores the variables in setuid
     * programs, as secure_getenv does) so the description names what was
     * really loaded. */
    const char *file = secure_getenv(X509_get_default_cert_file_env());
    const char *dir = secure_getenv(X509_get_default_cert_dir_env());
    if (file == NULL)
        file = X509_get_default_cert_file();
    if (dir == NULL)
        dir = X509_get_default_cert_dir();
    t->uses_lookup = 1;
    t->system = 1;
    t->list = LIST_SYSTEM;
    t->desc = dup_printf("the system trust store (%s / %s)", file, dir);
    if (t->desc == NULL || !add_source(t, dup_printf("system (%s, %s)", file, dir))) {
        tc_trust_free(t);
        return nomem(err);
    }
    *out = t;
    return TC_OK;
}

/* Whether a directory entry is worth loading: *.pem, *.crt, *.cer, or an
 * OpenSSL hash link ("1a2b3c4d.0", see openssl-rehash(1)). */
static int looks_like_cert_file(const char *name)
{
    static const char *const EXTS[] = { ".pem", ".crt", ".cer" };
    size_t n = strlen(name);
    for (size_t i = 0; i < sizeof(EXTS) / sizeof(EXTS[0]); i++)
        if (n > 4 && strcasecmp(name + n - 4, EXTS[i]) == 0)
            return 1;
    if (n < 10 || name[8] != '.')
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = name[i];
        int hexd = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
        if (i == 8 ? c != '.' : i < 8 ? !hexd : !(c >= '0' && c <= '9'))
            return 0;
    }
    return 1;
}

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Loads every certificate file of dir into t.  Files that do not parse
 * are skipped (system directories hold other files); *skipped counts them. */
static tc_status load_dir(tc_trust *t, const char *dir, int *skipped,
                          tc_error *err)
{
    tc_status rv = TC_FAIL;
    char **names = NULL;
    size_t n = 0, cap = 0;
    char ebuf[128];
    DIR *d = opendir(dir);
    if (d == NULL) {
        int e = errno;
        tc_error_set(err, TC_E_IO, "cannot read directory %s: %s", dir,
                     strerror_r(e, ebuf, sizeof(ebuf)));
        if (err)
            err->sys_errno = e;
        return TC_FAIL;
    }
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        if (!looks_like_cert_file(de->d_name))
            continue;
        if (n == cap) {
            size_t ncap = cap ? cap * 2 : 16;
            char **nn = realloc(names, ncap * sizeof(*names));
            if (nn == NULL)
                goto oom;
            names = nn;
            cap = ncap;
        }
        names[n] = strdup(de->d_name);
        if (names[n] == NULL)
            goto oom;
        n++;
    }
    /* Sorted, so that the order anchors are added in does not depend on
     * the file system. */
    if (n > 1)
        qsort(names, n, sizeof(*names), cmp_names);
    for (size_t i = 0; i < n; i++) {
        char *path = dup_printf("%s/%s", dir, names[i]);
        if (path == NULL)
            goto oom;
        STACK_OF(X509) *certs = NULL;
        tc_error e2;
        tc_error_clear(&e2);
        if (tc_certs_load_file(path, &certs, &e2) != TC_OK) {
            free(path);
            if (e2.code == TC_E_NOMEM)
                goto oom;
            (*skipped)++;
            continue;
        }
        free(path);
        int ok = 1;
        for (int j = 0; ok && j < sk_X509_num(certs); j++)
            ok = add_anchor(t, sk_X509_value(certs, j));
        sk_X509_pop_free(certs, X509_free);
        if (!ok)
            goto oom;
    }
    rv = TC_OK;
    goto done;
oom:
    nomem(err);
done:
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
    closedir(d);
    return rv;
}

tc_status tc_trust_new_path(const char *path, tc_trust **out, tc_error *err)
{
    tc_trust *t = NULL;
    STACK_OF(X509) *certs = NULL;
    struct stat sb;
    char ebuf[128];
    tc_status rv = TC_FAIL;

    *out = NULL;
    if (path == NULL || path[0] == '\0')
        return tc_error_set(err, TC_E_INVALID, "no trust store path was given "
                            "(the path is empty)");
    if (stat(path, &sb) != 0) {
        int e = errno;
        tc_error_set(err, TC_E_IO, "cannot read trust store %s: %s", path,
                     strerror_r(e, ebuf, sizeof(ebuf)));
        if (err)
            err->sys_errno = e;
        return TC_FAIL;
    }
    if (trust_alloc(&t, err) != TC_OK)
        return TC_FAIL;

    if (S_ISDIR(sb.st_mode)) {
        int skipped = 0;
        /* The hash lookup finds anchors named by subject hash, loaded only
         * when a chain asks for them. */
        X509_LOOKUP *lu = X509_STORE_add_lookup(t->store, X509_LOOKUP_hash_dir());
        if (lu == NULL || X509_LOOKUP_add_dir(lu, path, X509_FILETYPE_PEM) != 1) {
            nomem(err);
            goto done;
        }
        /* Also load every certificate file now, so that a directory that
         * was never rehashed works too. */
        if (load_dir(t, path, &skipped, err) != TC_OK)
            goto done;
        if (sk_X509_num(t->anchors) == 0) {
            tc_error_set(err, TC_E_INVALID, "the trust store directory %s "
                         "contains no certificate: no *.pem, *.crt or *.cer "
                         "file (or hash link) in it holds one%s", path,
                         skipped ? " that can be read" : "");
            goto done;
        }
        size_t plen = strlen(path);
        int slash = plen > 0 && path[plen - 1] == '/';
        t->uses_lookup = 1;
        t->dir = strdup(path);
        t->desc = dup_printf("the anchors in directory %s%s", path,
                             slash ? "" : "/");
        if (t->dir == NULL
            || !add_source(t, dup_printf("directory (%s%s)", path, slash ? "" : "/"))) {
            nomem(err);
            goto done;
        }
    } else {
        if (tc_certs_load_file(path, &certs, err) != TC_OK)
            goto done;
        for (int i = 0; i < sk_X509_num(certs); i++)
            if (!add_anchor(t, sk_X509_value(certs, i))) {
                nomem(err);
                goto done;
            }
        t->desc = dup_printf("the anchors in %s", path);
        if (!add_source(t, dup_printf("file (%s)", path))) {
            nomem(err);
            goto done;
        }
    }
    if (t->desc == NULL) {
        nomem(err);
        goto done;
    }
    *out = t;
    t = NULL;
    rv = TC_OK;
done:
    sk_X509_pop_free(certs, X509_free);
    tc_trust_free(t);
    ERR_clear_error();
    return rv;
}

tc_status tc_trust_new_certs(STACK_OF(X509) *anchors, tc_trust **out,
                             tc_error *err)
{
    tc_trust *t = NULL;
    *out = NULL;
    if (anchors == NULL || sk_X509_num(anchors) == 0)
        return tc_error_set(err, TC_E_INVALID, "the list of trust anchors is "
                            "empty: give at least one certificate to trust");
    if (trust_alloc(&t, err) != TC_OK)
        return TC_FAIL;
    for (int i = 0; i < sk_X509_num(anchors); i++) {
        X509 *x = sk_X509_value(anchors, i);
        if (x == NULL) {
            tc_trust_free(t);
            ERR_clear_error();
            return tc_error_set(err, TC_E_INVALID, "trust anchor %d of the "
                                "list is missing (NULL)", i + 1);
        }
        if (!add_anchor(t, x)) {
            tc_trust_free(t);
            ERR_clear_error();
            return nomem(err);
        }
    }
    int n = sk_X509_num(t->anchors);
    t->desc = dup_printf("the %d trust anchor%s given", n, n == 1 ? "" : "s");
    if (t->desc == NULL || !add_source(t, dup_printf("certificates (%d)", n))) {
        tc_trust_free(t);
        return nomem(err);
    }
    ERR_clear_error();
    *out = t;
    return TC_OK;
}

tc_trust *tc_trust_ref(tc_trust *t)
{
    if (t != NULL)
        __atomic_add_fetch(&t->refs, 1, __ATOMIC_RELAXED);
    return t;
}

void tc_trust_free(tc_trust *t)
{
    if (t == NULL)
        return;
    /* Release so that our writes happen before another thread frees;
     * acquire on the last drop so that its writes are seen before we free. */
    if (__atomic_sub_fetch(&t->refs, 1, __ATOMIC_ACQ_REL) != 0)
        return;
    X509_STORE_free(t->store);
    sk_X509_pop_free(t->anchors, X509_free);
    free(t->desc);
    free(t->dir);
    free(t->compare_path);
    if (t->other != NULL)
        tc_trust_free(__atomic_load_n(&t->other->store, __ATOMIC_ACQUIRE));
    free(t->other);
    for (size_t i = 0; i < t->n_sources; i++)
        free(t->sources[i]);
    free(t->sources);
    free(t);
}

X509_STORE *tc_trust_store(const tc_trust *t)
{
    return t != NULL ? t->store : NULL;
}

/* Asks the store's lookups (files, hash directory) for certificates with
 * x's subject and compares each with x. */
static int store_has(X509_STORE *store, X509 *x)
{
    int found = 0;
    STACK_OF(X509) *cands = NULL;
    X509_STORE_CTX *ctx = X509_STORE_CTX_new();
    if (ctx == NULL || X509_STORE_CTX_init(ctx, store, NULL, NULL) != 1)
        goto done;
    cands = X509_STORE_CTX_get1_certs(ctx, X509_get_subject_name(x));
    for (int i = 0; !found && i < sk_X509_num(cands); i++)
        found = X509_cmp(sk_X509_value(cands, i), x) == 0;
done:
    sk_X509_pop_free(cands, X509_free);
    X509_STORE_CTX_free(ctx);
    return found;
}

int tc_trust_contains(const tc_trust *t, X509 *x)
{
    int found = 0;
    if (t == NULL || x == NULL)
        return 0;
    for (int i = 0; !found && i < sk_X509_num(t->anchors); i++)
        found = X509_cmp(sk_X509_value(t->anchors, i), x) == 0;
    if (!found && t->uses_lookup)
        found = store_has(t->store, x);
    ERR_clear_error();
    return found;
}

const char *tc_trust_describe(const tc_trust *t)
{
    return t != NULL && t->desc != NULL ? t->desc : "no trust store";
}

size_t tc_trust_source_count(const tc_trust *t)
{
    return t != NULL ? t->n_sources : 0;
}

const char *tc_trust_source(const tc_trust *t, size_t i)
{
    return t != NULL && i < t->n_sources ? t->sources[i] : NULL;
}

tc_status tc_trust_new_mozilla(const char *path, const char *label,
                               tc_trust **out, tc_error *err)
{
    tc_trust *t = NULL;
    *out = NULL;
    if (label == NULL || label[0] == '\0')
        return tc_error_set(err, TC_E_INVALID, "a Mozilla bundle needs a name "
                            "(the label is empty)");
    if (tc_trust_new_path(path, &t, err) != TC_OK)
        return TC_FAIL;
    char *desc = dup_printf("Mozilla's list of roots from %s (%s)", label, path);
    char *src = dup_printf("%s (%s)", label, path);
    if (desc == NULL || src == NULL) {
        free(desc);
        free(src);
        tc_trust_free(t);
        return nomem(err);
    }
    free(t->desc);
    t->desc = desc;
    free(t->sources[0]);
    t->sources[0] = src;
    t->list = LIST_MOZILLA;
    *out = t;
    return TC_OK;
}

tc_status tc_trust_set_compare(tc_trust *t, const char *mozilla_path,
                               tc_error *err)
{
    if (t == NULL || t->list != LIST_SYSTEM)
        return tc_error_set(err, TC_E_INVALID, "only the system trust store is "
                            "compared with a Mozilla bundle");
    char *p = mozilla_path != NULL ? strdup(mozilla_path) : NULL;
    if (mozilla_path != NULL && p == NULL)
        return nomem(err);
    free(t->compare_path);
    t->compare_path = p;
    return TC_OK;
}

/* "A, B and C" of the parts' descriptions. */
static char *join_descs(tc_trust *const *parts, size_t n)
{
    size_t len = 1;
    for (size_t i = 0; i < n; i++)
        len += strlen(tc_trust_describe(parts[i])) + 5;
    char *s = malloc(len);
    if (s == NULL)
        return NULL;
    s[0] = '\0';
    for (size_t i = 0; i < n; i++) {
        if (i > 0)
            strcat(s, i + 1 == n ? " and " : ", ");
        strcat(s, tc_trust_describe(parts[i]));
    }
    return s;
}

tc_status tc_trust_new_union(tc_trust *const *parts, size_t n, tc_trust **out,
                             tc_error *err)
{
    tc_trust *t = NULL;
    int systems = 0, mozillas = 0;
    const char *compare = NULL;
    *out = NULL;
    if (parts == NULL || n == 0)
        return tc_error_set(err, TC_E_INVALID, "the list of trust stores is empty");
    for (size_t i = 0; i < n; i++) {
        if (parts[i] == NULL)
            return tc_error_set(err, TC_E_INVALID, "trust store %zu of the list is "
                                "missing (NULL)", i + 1);
        /* A part's lookups are its system paths and its one directory:
         * a union inside a union would lose the inner ones. */
        if (parts[i]->n_sources != 1)
            return tc_error_set(err, TC_E_INVALID, "trust store %zu of the list is "
                                "itself a list of stores", i + 1);
    }
    if (trust_alloc(&t, err) != TC_OK)
        return TC_FAIL;
    for (size_t i = 0; i < n; i++) {
        const tc_trust *p = parts[i];
        if (p->system && !t->system) {
            if (X509_STORE_set_default_paths(t->store) != 1) {
                ERR_clear_error();
                tc_trust_free(t);
                return tc_error_set(err, TC_E_INTERNAL, "cannot load the system trust "
                                    "store (OpenSSL's default certificate paths)");
            }
            t->system = 1;
        }
        if (p->dir != NULL) {
            X509_LOOKUP *lu = X509_STORE_add_lookup(t->store, X509_LOOKUP_hash_dir());
            if (lu == NULL || X509_LOOKUP_add_dir(lu, p->dir, X509_FILETYPE_PEM) != 1)
                goto oom;
        }
        for (int k = 0; k < sk_X509_num(p->anchors); k++)
            if (!add_anchor(t, sk_X509_value(p->anchors, k)))
                goto oom;
        if (!add_source(t, strdup(p->sources[0])))
            goto oom;
        t->uses_lookup |= p->uses_lookup;
        if (p->list == LIST_SYSTEM) {
            systems++;
            if (compare == NULL)
                compare = p->compare_path;
        } else if (p->list == LIST_MOZILLA) {
            mozillas++;
        }
    }
    ERR_clear_error();
    /* Compared only when the store is one of the two named lists (plus
     * files): with both, or neither, there is no "other" list. */
    t->list = systems && !mozillas ? LIST_SYSTEM : mozillas && !systems ? LIST_MOZILLA
              : LIST_NONE;
    if (t->list == LIST_SYSTEM && compare != NULL
        && (t->compare_path = strdup(compare)) == NULL)
        goto oom;
    t->desc = join_descs(parts, n);
    if (t->desc == NULL)
        goto oom;
    *out = t;
    return TC_OK;
oom:
    ERR_clear_error();
    tc_trust_free(t);
    return nomem(err);
}

/* The store of the other named list, loaded once (NULL when there is none
 * or it cannot be loaded).  Logically const: a cache, published with a
 * compare-and-swap so that concurrent first questions keep one copy. */
static const tc_trust *other_store(const tc_trust *t)
{
    struct other_cache *c = t->other;
    tc_trust *o = __atomic_load_n(&c->store, __ATOMIC_ACQUIRE);
    if (o != NULL || __atomic_load_n(&c->failed, __ATOMIC_ACQUIRE))
        return o;
    tc_trust *made = NULL;
    tc_error e;
    tc_error_clear(&e);
    tc_status st = TC_FAIL;
    if (t->list == LIST_SYSTEM && t->compare_path != NULL)
        st = tc_trust_new_path(t->compare_path, &made, &e);
    else if (t->list == LIST_MOZILLA)
        st = tc_trust_new_system(&made, &e);
    ERR_clear_error();
    if (st != TC_OK) {
        __atomic_store_n(&c->failed, 1, __ATOMIC_RELEASE);
        return NULL;
    }
    tc_trust *expected = NULL;
    if (!__atomic_compare_exchange_n(&c->store, &expected, made, 0, __ATOMIC_ACQ_REL,
                                     __ATOMIC_ACQUIRE)) {
        tc_trust_free(made);
        return expected;
    }
    return made;
}

/* An anchor of o with x's issuer name whose key verifies x's signature. */
static int has_issuer(const tc_trust *o, X509 *x)
{
    int found = 0;
    STACK_OF(X509) *cands = NULL;
    X509_STORE_CTX *ctx = X509_STORE_CTX_new();
    if (ctx == NULL || X509_STORE_CTX_init(ctx, o->store, NULL, NULL) != 1)
        goto done;
    cands = X509_STORE_CTX_get1_certs(ctx, X509_get_issuer_name(x));
    for (int i = 0; !found && i < sk_X509_num(cands); i++) {
        X509 *c = sk_X509_value(cands, i);
        EVP_PKEY *pk = X509_get0_pubkey(c);
        found = pk != NULL && X509_check_issued(c, x) == X509_V_OK
                && X509_verify(x, pk) == 1;
    }
done:
    sk_X509_pop_free(cands, X509_free);
    X509_STORE_CTX_free(ctx);
    ERR_clear_error();
    return found;
}

tc_elsewhere tc_trust_elsewhere(const tc_trust *t, X509 *x, int issuer_of)
{
    if (t == NULL || x == NULL || t->list == LIST_NONE)
        return TC_ELSEWHERE_NONE;
    const tc_trust *o = other_store(t);
    if (o == NULL)
        return TC_ELSEWHERE_NONE;
    if (!(issuer_of ? has_issuer(o, x) : tc_trust_contains(o, x)))
        return TC_ELSEWHERE_NONE;
    return t->list == LIST_SYSTEM ? TC_ELSEWHERE_MOZILLA : TC_ELSEWHERE_SYSTEM;
}
