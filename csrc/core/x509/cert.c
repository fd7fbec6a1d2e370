/*
 * cert.c - parsing certificates and CRLs, and reading every field of one
 * certificate into a tc_cert_info whose strings are safe to print.
 *
 * Input bytes are untrusted: they travel as (pointer, length), are read
 * through a memory BIO (never assumed NUL-terminated), and every string
 * taken out of a certificate goes through esc_dup(), which turns control
 * characters, NUL bytes and invalid UTF-8 into \xNN.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/asn1.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "internal.h"
#include "text.h"

/* Certificate files larger than this are refused: the biggest public
 * bundles are a few hundred KB, so 16 MiB is generous and bounds memory. */
#define TC_CERT_FILE_MAX ((size_t)16 * 1024 * 1024)

static const char *name_or_default(const char *what)
{
    return (what != NULL && what[0] != '\0') ? what : "the data";
}

/* ------------------------------------------------------------------ */
/* Safe strings                                                        */
/* ------------------------------------------------------------------ */

/*
 * A printable, NUL-terminated copy of (p, n): bytes below 0x20, 0x7f, the
 * C1 controls U+0080..U+009F (some terminals act on them) and bytes that
 * are not part of well-formed UTF-8 become \xNN.  With esc_backslash a
 * literal backslash becomes \x5c too, so the output cannot be mistaken
 * for an escape (RFC 4514 names escape their backslashes themselves).
 * *saw_nul is set when a NUL byte was seen (saw_nul may be NULL).
 * Returns NULL on allocation failure.
 */
static char *esc_dup(const unsigned char *p, size_t n, int esc_backslash,
                     int *saw_nul)
{
    static const char hex[] = "0123456789abcdef";
    if (n > (SIZE_MAX - 1) / 4)
        return NULL;
    char *out = malloc(4 * n + 1);
    if (out == NULL)
        return NULL;
    size_t o = 0, i = 0;
    while (i < n) {
        unsigned char b = p[i];
        int escape;
        size_t seq = tc_text_unit(p + i, n - i, esc_backslash, &escape);
        if (b == 0 && saw_nul != NULL)
            *saw_nul = 1;
        if (escape) {
            for (size_t k = 0; k < seq; k++) {
                out[o++] = '\\';
                out[o++] = 'x';
                out[o++] = hex[p[i + k] >> 4];
                out[o++] = hex[p[i + k] & 0x0f];
            }
        } else {
            memcpy(out + o, p + i, seq);
            o += seq;
        }
        i += seq;
    }
    out[o] = '\0';
    return out;
}

static char *esc_cstr(const char *s)
{
    return esc_dup((const unsigned char *)s, strlen(s), 1, NULL);
}

/* An ASN1_STRING as escaped UTF-8.  BMPString, UniversalString and
 * T61String (read as Latin-1, like OpenSSL does) are converted first; the
 * rest (UTF8String, IA5String for SANs and URLs, PrintableString...) is
 * escaped byte for byte, so that a high byte in an IA5String is shown as
 * \xNN instead of being reinterpreted.  When a conversion fails the raw
 * bytes are escaped: a malformed string is shown, never dropped. */
static char *asn1_string_esc(const ASN1_STRING *s, int *saw_nul)
{
    int type = ASN1_STRING_type(s);
    if (type == V_ASN1_BMPSTRING || type == V_ASN1_UNIVERSALSTRING ||
        type == V_ASN1_T61STRING) {
        unsigned char *utf8 = NULL;
        int n = ASN1_STRING_to_UTF8(&utf8, s);
        if (n >= 0) {
            char *r = esc_dup(utf8, (size_t)n, 1, saw_nul);
            OPENSSL_free(utf8);
            return r;
        }
    }
    int len = ASN1_STRING_length(s);
    return esc_dup(ASN1_STRING_get0_data(s), len > 0 ? (size_t)len : 0, 1,
                   saw_nul);
}

/* Appends item (owned, may not be NULL) to the list, growing its array in
 * powers of two.  On failure the item is freed. */
static int strlist_push(tc_strlist *l, char *item)
{
    if (item == NULL)
        return 0;
    if (l->count == 0 || (l->count >= 4 && (l->count & (l->count - 1)) == 0)) {
        size_t cap = l->count == 0 ? 4 : l->count * 2;
        if (cap > SIZE_MAX / sizeof(char *)) {
            free(item);
            return 0;
        }
        char **items = realloc(l->items, cap * sizeof(char *));
        if (items == NULL) {
            free(item);
            return 0;
        }
        l->items = items;
    }
    l->items[l->count++] = item;
    return 1;
}

static void strlist_clear(tc_strlist *l)
{
    for (size_t i = 0; i < l->count; i++)
        free(l->items[i]);
    free(l->items);
    l->items = NULL;
    l->count = 0;
}

/* ------------------------------------------------------------------ */
/* Parsing PEM bundles and DER                                         */
/* ------------------------------------------------------------------ */

/* What one parse looks for: certificates or CRLs. */
typedef struct der_kind {
    const char *noun;              /* "certificate" */
    const char *begin_line;        /* the line a user would look for */
    const char *const *labels;     /* PEM labels that hold one */
    size_t n_labels;
    /* Decodes one object; `label` indexes labels, -1 for bare DER. */
    void *(*d2i)(const unsigned char **pp, long len, int label);
    void (*free_one)(void *obj);
    int (*push)(void *stack, void *obj);
} der_kind;

/* RFC 7468 section 5.1 names CERTIFICATE; "X509 CERTIFICATE" is the
 * pre-RFC label OpenSSL still reads; TRUSTED CERTIFICATE is OpenSSL's
 * certificate plus trust settings (X509_AUX). */
static const char *const CERT_LABELS[] = {
    "CERTIFICATE", "X509 CERTIFICATE", "TRUSTED CERTIFICATE",
};
#define CERT_LABEL_TRUSTED 2
static const char *const CRL_LABELS[] = { "X509 CRL" };

static void *cert_d2i(const unsigned char **pp, long len, int label)
{
    if (label == CERT_LABEL_TRUSTED)
        return d2i_X509_AUX(NULL, pp, len);
    return d2i_X509(NULL, pp, len);
}
static void cert_free(void *x) { X509_free(x); }
static int cert_push(void *st, void *x) { return sk_X509_push(st, x) > 0; }

static void *crl_d2i(const unsigned char **pp, long len, int label)
{
    (void)label;
    return d2i_X509_CRL(NULL, pp, len);
}
static void crl_free(void *x) { X509_CRL_free(x); }
static int crl_push(void *st, void *x) { return sk_X509_CRL_push(st, x) > 0; }

static const der_kind CERT_KIND = {
    "certificate", "-----BEGIN CERTIFICATE-----",
    CERT_LABELS, sizeof(CERT_LABELS) / sizeof(CERT_LABELS[0]),
    cert_d2i, cert_free, cert_push,
};
static const der_kind CRL_KIND = {
    "CRL", "-----BEGIN X509 CRL-----",
    CRL_LABELS, sizeof(CRL_LABELS) / sizeof(CRL_LABELS[0]),
    crl_d2i, crl_free, crl_push,
};

static int is_space(unsigned char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' ||
           c == '\v';
}

/* The reason of the last OpenSSL error, for "(OpenSSL: ...)" details. */
static const char *openssl_reason(void)
{
    const char *r = ERR_reason_error_string(ERR_peek_last_error());
    return r != NULL ? r : "no reason given";
}

/* Decodes exactly one object from (p, n): trailing bytes are an error,
 * because a certificate followed by more bytes is not what was meant. */
static void *d2i_exact(const der_kind *k, const unsigned char *p, size_t n,
                       int label, size_t *trailing)
{
    const unsigned char *q = p;
    *trailing = 0;
    if (n > LONG_MAX)
        return NULL;
    void *obj = k->d2i(&q, (long)n, label);
    if (obj != NULL && (size_t)(q - p) != n) {
        *trailing = n - (size_t)(q - p);
        k->free_one(obj);
        return NULL;
    }
    return obj;
}

/* The label of the idx-th (1-based) "-----BEGIN " line, for messages
 * about a block PEM_read_bio could not read (it frees the name then). */
static void pem_label_of_block(const unsigned char *data, size_t len,
                               int idx, char *buf, size_t buflen)
{
    static const char begin[] = "-----BEGIN ";
    const size_t blen = sizeof(begin) - 1;
    int seen = 0;
    buf[0] = '\0';
    for (size_t i = 0; i + blen <= len; i++) {
        if ((i > 0 && data[i - 1] != '\n') || memcmp(data + i, begin, blen) != 0)
            continue;
        if (++seen < idx)
            continue;
        size_t s = i + blen, e = s;
        while (e < len && e - s < 64 && data[e] != '-' && data[e] != '\n')
            e++;
        char *label = esc_dup(data + s, e - s, 1, NULL);
        if (label != NULL) {
            snprintf(buf, buflen, "%s", label);
            free(label);
        }
        return;
    }
}

static int label_index(const der_kind *k, const char *name)
{
    for (size_t i = 0; i < k->n_labels; i++)
        if (strcmp(name, k->labels[i]) == 0)
            return (int)i;
    return -1;
}

/* Why PEM_read_bio gave up on a block, in words, keyed by its PEM reason. */
static const struct {
    int reason;
    const char *why;
} PEM_WHY[] = {
    { PEM_R_BAD_END_LINE, "it has no matching '-----END' line" },
    { PEM_R_BAD_BASE64_DECODE, "its base64 text is damaged" },
    { PEM_R_SHORT_HEADER, "its header is cut short" },
    { PEM_R_BAD_IV_CHARS, "its encryption header is damaged" },
};

static const char *pem_why(unsigned long e)
{
    if (ERR_GET_LIB(e) == ERR_LIB_PEM)
        for (size_t i = 0; i < sizeof(PEM_WHY) / sizeof(PEM_WHY[0]); i++)
            if (ERR_GET_REASON(e) == PEM_WHY[i].reason)
                return PEM_WHY[i].why;
    return "it cannot be decoded";
}

/* Reads every PEM block; objects of kind k are pushed on st, other blocks
 * are skipped.  Returns the number of objects found or -1 (err set). */
static int parse_pem(const der_kind *k, const unsigned char *data, size_t len,
                     const char *what, void *st, tc_error *err)
{
    int found = 0, block = 0, rv = -1;
    char *name = NULL, *header = NULL;
    unsigned char *body = NULL;
    long body_len = 0;
    char other[80] = "";
    BIO *bio = BIO_new_mem_buf(data, (int)len);   /* len <= INT_MAX, checked by the caller */

    if (bio == NULL) {
        tc_error_set(err, TC_E_NOMEM, "out of memory while reading %s", what);
        goto done;
    }
    for (;;) {
        ERR_clear_error();
        if (!PEM_read_bio(bio, &name, &header, &body, &body_len)) {
            unsigned long e = ERR_peek_last_error();
            if (ERR_GET_LIB(e) == ERR_LIB_PEM &&
                ERR_GET_REASON(e) == PEM_R_NO_START_LINE)
                break;   /* no further "-----BEGIN" line: the normal end */
            char label[80];
            pem_label_of_block(data, len, block + 1, label, sizeof(label));
            if (label_index(k, label) >= 0 || label[0] == '\0')
                tc_error_set(err, TC_E_INVALID,
                             "%s has a %s block that is cut off or corrupted "
                             "(block %d: %s)", what, k->noun, block + 1,
                             pem_why(e));
            else
                tc_error_set(err, TC_E_INVALID,
                             "%s has a PEM block of type '%s' that is cut off "
                             "or corrupted (block %d: %s)", what, label,
                             block + 1, pem_why(e));
            goto done;
        }
        block++;
        int li = label_index(k, name);
        if (li < 0) {
            if (other[0] == '\0') {
                char *esc = esc_cstr(name);
                snprintf(other, sizeof(other), "%s", esc ? esc : "?");
                free(esc);
            }
        } else {
            size_t trailing = 0;
            void *obj = d2i_exact(k, body, (size_t)body_len, li, &trailing);
            if (obj == NULL) {
                if (trailing)
                    tc_error_set(err, TC_E_INVALID,
                                 "%s has a %s block with %zu unexpected bytes "
                                 "after the %s (block %d)", what, k->noun,
                                 trailing, k->noun, block);
                else
                    tc_error_set(err, TC_E_INVALID,
                                 "%s has a %s block whose contents are not a "
                                 "valid %s (block %d; OpenSSL: %s)", what,
                                 k->noun, k->noun, block, openssl_reason());
                goto done;
            }
            if (!k->push(st, obj)) {
                k->free_one(obj);
                tc_error_set(err, TC_E_NOMEM, "out of memory while reading %s",
                             what);
                goto done;
            }
            found++;
        }
        OPENSSL_free(name);
        OPENSSL_free(header);
        OPENSSL_free(body);
        name = header = NULL;
        body = NULL;
    }
    if (found == 0 && block > 0) {
        tc_error_set(err, TC_E_INVALID,
                     "%s contains no %s: it has %d PEM block%s (the first of "
                     "type '%s') but none is a '%s' block", what, k->noun,
                     block, block == 1 ? "" : "s", other, k->begin_line);
        goto done;
    }
    rv = found;
done:
    OPENSSL_free(name);
    OPENSSL_free(header);
    OPENSSL_free(body);
    BIO_free(bio);
    return rv;
}

static int is_blank(unsigned char c)
{
    return c == ' ' || c == '\t';
}

/* 1 when (p, n) holds only printable ASCII, UTF-8 and whitespace. */
static int is_text(const unsigned char *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if ((p[i] < 0x20 && !is_space(p[i])) || p[i] == 0x7f)
            return 0;
    return 1;
}

/* 1 when some line holds "-----BEGIN " after leading blanks. */
static int needs_dedent(const unsigned char *data, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        if (i > 0 && data[i - 1] != '\n')
            continue;
        size_t j = i;
        while (j < len && is_blank(data[j]))
            j++;
        if (j > i && len - j >= 11 && memcmp(data + j, "-----BEGIN ", 11) == 0)
            return 1;
    }
    return 0;
}

/* A copy of (data, len) without the blanks that start each line. */
static unsigned char *dedent(const unsigned char *data, size_t len,
                             size_t *out_len)
{
    unsigned char *r = malloc(len ? len : 1);
    size_t o = 0;
    int at_start = 1;
    if (r == NULL)
        return NULL;
    for (size_t i = 0; i < len; i++) {
        if (at_start && is_blank(data[i]))
            continue;
        at_start = data[i] == '\n';
        r[o++] = data[i];
    }
    *out_len = o;
    return r;
}

static tc_status parse_any(const der_kind *k, const unsigned char *data,
                           size_t len, const char *what, void *st,
                           tc_error *err)
{
    tc_status rv = TC_FAIL;
    unsigned char *dedented = NULL;
    size_t i = 0;

    what = name_or_default(what);
    if (data == NULL)
        len = 0;
    while (i < len && is_space(data[i]))
        i++;
    if (i == len) {
        tc_error_set(err, TC_E_INVALID, "%s is empty: it contains no %s", what,
                     k->noun);
        goto done;
    }
    if (len > INT_MAX) {   /* BIO_new_mem_buf takes an int */
        tc_error_set(err, TC_E_INVALID, "%s is too large (%zu bytes) to be a "
                     "%s file", what, len, k->noun);
        goto done;
    }
    int has_begin = memmem(data, len, "-----BEGIN ", 11) != NULL;
    /* DER starts with a SEQUENCE tag (0x30, which is also ASCII '0') and
     * is binary; text that starts with '0' is read as text. */
    if (data[i] == 0x30 && !is_text(data + i, len - i)) {
        size_t trailing = 0;
        ERR_clear_error();
        void *obj = d2i_exact(k, data + i, len - i, -1, &trailing);
        if (obj != NULL) {
            if (!k->push(st, obj)) {
                k->free_one(obj);
                tc_error_set(err, TC_E_NOMEM, "out of memory while reading %s",
                             what);
                goto done;
            }
            rv = TC_OK;
            goto done;
        }
        if (!has_begin) {
            if (trailing)
                tc_error_set(err, TC_E_INVALID,
                             "%s holds a DER %s followed by %zu unexpected "
                             "bytes; give exactly one DER %s, or use PEM for "
                             "several", what, k->noun, trailing, k->noun);
            else
                tc_error_set(err, TC_E_INVALID,
                             "%s looks like DER (it starts with an ASN.1 "
                             "SEQUENCE) but is not a valid %s; it may be cut "
                             "off or corrupted (OpenSSL: %s)", what, k->noun,
                             openssl_reason());
            goto done;
        }
        /* Text that happens to start with '0' but holds PEM: read it as PEM. */
    }
    if (!has_begin) {
        tc_error_set(err, TC_E_INVALID,
                     "%s contains no PEM %s (no '%s' line) and is not DER "
                     "either", what, k->noun, k->begin_line);
        goto done;
    }
    if (needs_dedent(data, len)) {
        /* PEM wants "-----BEGIN" at the start of a line; text pasted from
         * an indented source (a YAML value, a Python string) is read with
         * the indentation of every line removed. */
        dedented = dedent(data, len, &len);
        if (dedented == NULL) {
            tc_error_set(err, TC_E_NOMEM, "out of memory while reading %s",
                         what);
            goto done;
        }
        data = dedented;
    }
    int found = parse_pem(k, data, len, what, st, err);
    if (found < 0)
        goto done;
    if (found == 0) {
        tc_error_set(err, TC_E_INVALID,
                     "%s contains no PEM %s (no '%s' line) and is not DER "
                     "either", what, k->noun, k->begin_line);
        goto done;
    }
    rv = TC_OK;
done:
    free(dedented);
    ERR_clear_error();   /* leave no stale errors for the next caller */
    return rv;
}

tc_status tc_certs_parse(const unsigned char *data, size_t len,
                         const char *what, STACK_OF(X509) **out, tc_error *err)
{
    *out = NULL;
    STACK_OF(X509) *st = sk_X509_new_null();
    if (st == NULL)
        return tc_error_set(err, TC_E_NOMEM, "out of memory while reading %s",
                            name_or_default(what));
    if (parse_any(&CERT_KIND, data, len, what, st, err) != TC_OK) {
        sk_X509_pop_free(st, X509_free);
        return TC_FAIL;
    }
    *out = st;
    return TC_OK;
}

tc_status tc_crls_parse(const unsigned char *data, size_t len,
                        const char *what, STACK_OF(X509_CRL) **out,
                        tc_error *err)
{
    *out = NULL;
    STACK_OF(X509_CRL) *st = sk_X509_CRL_new_null();
    if (st == NULL)
        return tc_error_set(err, TC_E_NOMEM, "out of memory while reading %s",
                            name_or_default(what));
    if (parse_any(&CRL_KIND, data, len, what, st, err) != TC_OK) {
        sk_X509_CRL_pop_free(st, X509_CRL_free);
        return TC_FAIL;
    }
    *out = st;
    return TC_OK;
}

tc_status tc_crl_input_parse(const unsigned char *data, size_t len,
                             const char *what, STACK_OF(X509_CRL) **crls,
                             STACK_OF(X509) **certs, tc_error *err)
{
    *crls = NULL;
    *certs = NULL;
    /* "CERTIFICATE-----" ends the BEGIN line of every certificate label
     * (CERT_LABELS) and of no CRL's. */
    int has_cert = data != NULL && memmem(data, len, "CERTIFICATE-----", 16) != NULL;
    if (tc_crls_parse(data, len, what, crls, err) == TC_OK) {
        if (has_cert && tc_certs_parse(data, len, what, certs, err) != TC_OK) {
            sk_X509_CRL_pop_free(*crls, X509_CRL_free);
            *crls = NULL;
            return TC_FAIL;
        }
        return TC_OK;
    }
    /* A CRL that is there and broken is said as such. */
    if (!has_cert || memmem(data, len, "-----BEGIN X509 CRL", 19) != NULL)
        return TC_FAIL;
    /* No CRL in it: certificates alone are CRL issuers' certificates. */
    tc_error cert_err;
    tc_error_clear(&cert_err);
    if (tc_certs_parse(data, len, what, certs, &cert_err) != TC_OK) {
        if (err != NULL)
            *err = cert_err;
        return TC_FAIL;
    }
    if ((*crls = sk_X509_CRL_new_null()) == NULL) {
        sk_X509_pop_free(*certs, X509_free);
        *certs = NULL;
        return tc_error_set(err, TC_E_NOMEM, "out of memory while reading %s",
                            name_or_default(what));
    }
    tc_error_clear(err);
    return TC_OK;
}

/* Reads a whole file of at most TC_CERT_FILE_MAX bytes into *buf. */
tc_status tc_file_read(const char *path, unsigned char **buf,
                           size_t *len, tc_error *err)
{
    tc_status rv = TC_FAIL;
    unsigned char *data = NULL;
    size_t n = 0, cap = 0;
    struct stat sb;
    char ebuf[128];

    *buf = NULL;
    *len = 0;
    /* O_NONBLOCK so that opening a FIFO without a writer cannot hang. */
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0) {
        int e = errno;
        tc_error_set(err, TC_E_IO, "cannot read %s: %s", path,
                     strerror_r(e, ebuf, sizeof(ebuf)));
        if (err)
            err->sys_errno = e;
        goto done;
    }
    if (fstat(fd, &sb) != 0) {
        int e = errno;
        tc_error_set(err, TC_E_IO, "cannot read %s: %s", path,
                     strerror_r(e, ebuf, sizeof(ebuf)));
        if (err)
            err->sys_errno = e;
        goto done;
    }
    if (S_ISDIR(sb.st_mode)) {
        tc_error_set(err, TC_E_IO, "cannot read %s: it is a directory, not a "
                     "certificate file", path);
        if (err)
            err->sys_errno = EISDIR;
        goto done;
    }
    if (S_ISREG(sb.st_mode) && (uintmax_t)sb.st_size > TC_CERT_FILE_MAX) {
        tc_error_set(err, TC_E_INVALID, "%s is too large to be a certificate "
                     "file (%jd bytes; files over 16 MiB are refused)", path,
                     (intmax_t)sb.st_size);
        goto done;
    }
    int fl = fcntl(fd, F_GETFL);
    if (fl < 0 || fcntl(fd, F_SETFL, fl & ~O_NONBLOCK) != 0) {
        int e = errno;
        tc_error_set(err, TC_E_IO, "cannot read %s: %s", path,
                     strerror_r(e, ebuf, sizeof(ebuf)));
        if (err)
            err->sys_errno = e;
        goto done;
    }
    /* Read to EOF rather than trusting st_size: special files report 0. */
    for (;;) {
        if (n == cap) {
            if (cap > TC_CERT_FILE_MAX) {
                tc_error_set(err, TC_E_INVALID, "%s is too large to be a "
                             "certificate file (files over 16 MiB are "
                             "refused)", path);
                goto done;
            }
            size_t ncap = cap == 0 ? 65536 : cap * 2;
            unsigned char *nd = realloc(data, ncap);
            if (nd == NULL) {
                tc_error_set(err, TC_E_NOMEM, "out of memory while reading %s",
                             path);
                goto done;
            }
            data = nd;
            cap = ncap;
        }
        ssize_t r = read(fd, data + n, cap - n);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            int e = errno;
            tc_error_set(err, TC_E_IO, "cannot read %s: %s", path,
                         strerror_r(e, ebuf, sizeof(ebuf)));
            if (err)
                err->sys_errno = e;
            goto done;
        }
        if (r == 0)
            break;
        n += (size_t)r;
    }
    if (n > TC_CERT_FILE_MAX) {
        tc_error_set(err, TC_E_INVALID, "%s is too large to be a certificate "
                     "file (files over 16 MiB are refused)", path);
        goto done;
    }
    *buf = data;
    *len = n;
    data = NULL;
    rv = TC_OK;
done:
    if (fd >= 0)
        close(fd);
    free(data);
    return rv;
}

tc_status tc_certs_load_file(const char *path, STACK_OF(X509) **out,
                             tc_error *err)
{
    unsigned char *data = NULL;
    size_t len = 0;
    *out = NULL;
    if (path == NULL || path[0] == '\0')
        return tc_error_set(err, TC_E_INVALID, "no certificate file path was "
                            "given (the path is empty)");
    if (tc_file_read(path, &data, &len, err) != TC_OK)
        return TC_FAIL;
    tc_status rv = tc_certs_parse(data, len, path, out, err);
    free(data);
    return rv;
}

/* ------------------------------------------------------------------ */
/* Field extraction                                                    */
/* ------------------------------------------------------------------ */

/* Keep UTF-8 readable (no \C3\BC for u-umlaut) and leave control
 * characters to esc_dup, so every escape in the output has one form. */
#define TC_NAME_FLAGS \
    (XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB & ~ASN1_STRFLGS_ESC_CTRL)

/* An X509_NAME in RFC 4514 form, escaped.  A name whose strings do not
 * decode (invalid UTF-8 inside a UTF8String, an odd-length BMPString) makes
 * X509_NAME_print_ex fail; it is then printed with every value as #hex
 * (RFC 4514 section 2.4), which always works. */
static char *name_string(const X509_NAME *name, int *saw_nul);

char *tc_name_text(const X509_NAME *name)
{
    return name_string(name, NULL);
}

static char *name_string(const X509_NAME *name, int *saw_nul)
{
    char *r = NULL;
    char *mem = NULL;
    BIO *b = BIO_new(BIO_s_mem());
    if (b == NULL)
        return NULL;
    if (X509_NAME_print_ex(b, name, 0, TC_NAME_FLAGS) < 0) {
        if (BIO_reset(b) != 1)
            goto done;
        if (X509_NAME_print_ex(b, name, 0,
                               XN_FLAG_RFC2253 | ASN1_STRFLGS_DUMP_ALL) < 0)
            goto done;
    }
    long n = BIO_get_mem_data(b, &mem);
    r = esc_dup((const unsigned char *)mem, n > 0 ? (size_t)n : 0, 0, saw_nul);
done:
    BIO_free(b);
    return r;
}

/* What is malformed in one certificate, as "; "-joined fragments. */
typedef struct flaws {
    char buf[512];
    size_t len;
} flaws;

static void flaw(flaws *f, const char *fmt, ...) TC_PRINTF(2, 3);
static void flaw(flaws *f, const char *fmt, ...)
{
    if (f->len + 3 >= sizeof(f->buf))
        return;
    if (f->len > 0) {
        memcpy(f->buf + f->len, "; ", 3);
        f->len += 2;
    }
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(f->buf + f->len, sizeof(f->buf) - f->len, fmt, ap);
    va_end(ap);
    if (n > 0)
        f->len += (size_t)n < sizeof(f->buf) - f->len ? (size_t)n
                                                       : sizeof(f->buf) - f->len - 1;
}

/* X509_get_ext_d2i that records an extension present twice (RFC 5280
 * section 4.2 forbids it) or present but undecodable. */
static void *get_ext(X509 *x, int nid, flaws *fl)
{
    int crit = -1;
    void *v = X509_get_ext_d2i(x, nid, &crit, NULL);
    if (v == NULL && crit == -2)
        flaw(fl, "its %s extension appears more than once", OBJ_nid2sn(nid));
    else if (v == NULL && crit >= 0)
        flaw(fl, "its %s extension cannot be decoded", OBJ_nid2sn(nid));
    return v;
}

/* RFC 5280 section 4.2.1.3 bit order; "contentCommitment" is the current
 * name of the bit once called nonRepudiation. */
static const char *const KEY_USAGE_NAMES[] = {
    "digitalSignature", "contentCommitment", "keyEncipherment",
    "dataEncipherment", "keyAgreement", "keyCertSign", "cRLSign",
    "encipherOnly", "decipherOnly",
};

static const struct {
    int id;              /* EVP_PKEY_* */
    tc_key_type type;
    const char *name;
    int fixed_bits;      /* > 0: reported instead of EVP_PKEY_get_bits */
} KEY_TYPES[] = {
    { EVP_PKEY_RSA, TC_KEY_RSA, "RSA", 0 },
    { EVP_PKEY_RSA_PSS, TC_KEY_RSA_PSS, "RSA-PSS", 0 },
    { EVP_PKEY_EC, TC_KEY_EC, "EC", 0 },
    /* The field sizes, as the header documents (OpenSSL says 253 / 456). */
    { EVP_PKEY_ED25519, TC_KEY_ED25519, "Ed25519", 255 },
    { EVP_PKEY_ED448, TC_KEY_ED448, "Ed448", 448 },
    { EVP_PKEY_DSA, TC_KEY_DSA, "DSA", 0 },
};

static void extract_key(X509 *x, tc_cert_info *ci, int *ok)
{
    EVP_PKEY *pk = X509_get0_pubkey(x);
    ci->key_type = TC_KEY_UNKNOWN;
    ci->key_type_name = "unknown";
    if (pk == NULL) {
        /* An algorithm OpenSSL cannot load: name it by its OID if known. */
        ASN1_OBJECT *alg = NULL;
        X509_PUBKEY *xpk = X509_get_X509_PUBKEY(x);
        if (xpk != NULL &&
            X509_PUBKEY_get0_param(&alg, NULL, NULL, NULL, xpk) == 1 &&
            alg != NULL && OBJ_obj2nid(alg) != NID_undef)
            ci->key_type_name = OBJ_nid2sn(OBJ_obj2nid(alg));
        return;
    }
    int id = EVP_PKEY_get_base_id(pk);
    int bits = EVP_PKEY_get_bits(pk);
    ci->key_bits = bits > 0 ? bits : 0;
    for (size_t i = 0; i < sizeof(KEY_TYPES) / sizeof(KEY_TYPES[0]); i++) {
        if (KEY_TYPES[i].id != id)
            continue;
        ci->key_type = KEY_TYPES[i].type;
        ci->key_type_name = KEY_TYPES[i].name;
        if (KEY_TYPES[i].fixed_bits > 0)
            ci->key_bits = KEY_TYPES[i].fixed_bits;
        break;
    }
    if (ci->key_type == TC_KEY_UNKNOWN && id != NID_undef &&
        OBJ_nid2sn(id) != NULL)
        ci->key_type_name = OBJ_nid2sn(id);
    if (ci->key_type == TC_KEY_EC) {
        char group[80];
        size_t glen = 0;
        /* Fails for explicit curve parameters: no name then. */
        if (EVP_PKEY_get_group_name(pk, group, sizeof(group), &glen) == 1) {
            ci->key_curve = esc_cstr(group);
            if (ci->key_curve == NULL)
                *ok = 0;
        }
    }
}

static char *obj_name(const ASN1_OBJECT *o, int use_ln)
{
    int nid = OBJ_obj2nid(o);
    if (nid != NID_undef) {
        const char *s = use_ln ? OBJ_nid2ln(nid) : OBJ_nid2sn(nid);
        if (s != NULL)
            return esc_cstr(s);
    }
    char buf[128];
    int n = OBJ_obj2txt(buf, sizeof(buf), o, 1);
    if (n <= 0)
        return esc_cstr("(unreadable OID)");
    if ((size_t)n < sizeof(buf))
        return esc_cstr(buf);
    char *big = malloc((size_t)n + 1);
    if (big == NULL)
        return NULL;
    char *r = NULL;
    if (OBJ_obj2txt(big, n + 1, o, 1) > 0)
        r = esc_cstr(big);
    free(big);
    return r;
}

static char *ip_string(const ASN1_OCTET_STRING *os)
{
    const unsigned char *p = ASN1_STRING_get0_data(os);
    int n = ASN1_STRING_length(os);
    char buf[INET6_ADDRSTRLEN];
    if (n == 4 || n == 16) {
        if (inet_ntop(n == 4 ? AF_INET : AF_INET6, p, buf, sizeof(buf)))
            return esc_cstr(buf);
    }
    /* Not an address (RFC 5280 section 4.2.1.6 allows only 4 or 16
     * octets here): show every byte. */
    char *r = malloc((n > 0 ? (size_t)n : 0) * 4 + 1);
    if (r == NULL)
        return NULL;
    static const char hex[] = "0123456789abcdef";
    size_t o = 0;
    for (int i = 0; i < n; i++) {
        r[o++] = '\\';
        r[o++] = 'x';
        r[o++] = hex[p[i] >> 4];
        r[o++] = hex[p[i] & 0x0f];
    }
    r[o] = '\0';
    return r;
}

static int extract_sans(X509 *x, tc_cert_info *ci, flaws *fl)
{
    int ok = 1;
    GENERAL_NAMES *gens = get_ext(x, NID_subject_alt_name, fl);
    if (gens == NULL)
        return 1;   /* absent, duplicated or undecodable: no SANs to show */
    for (int i = 0; ok && i < sk_GENERAL_NAME_num(gens); i++) {
        const GENERAL_NAME *g = sk_GENERAL_NAME_value(gens, i);
        switch (g->type) {
        case GEN_DNS:
            ok = strlist_push(&ci->dns_names,
                              asn1_string_esc(g->d.dNSName, &ci->names_have_nul));
            break;
        case GEN_EMAIL:
            ok = strlist_push(&ci->email_addresses,
                              asn1_string_esc(g->d.rfc822Name,
                                              &ci->names_have_nul));
            break;
        case GEN_IPADD:
            ok = strlist_push(&ci->ip_addresses, ip_string(g->d.iPAddress));
            break;
        default:
            break;   /* URI, directoryName, otherName...: not shown */
        }
    }
    GENERAL_NAMES_free(gens);
    return ok;
}

static int extract_aia(X509 *x, tc_cert_info *ci, flaws *fl)
{
    int ok = 1;
    AUTHORITY_INFO_ACCESS *aia = get_ext(x, NID_info_access, fl);
    if (aia == NULL)
        return 1;
    for (int i = 0; ok && i < sk_ACCESS_DESCRIPTION_num(aia); i++) {
        const ACCESS_DESCRIPTION *ad = sk_ACCESS_DESCRIPTION_value(aia, i);
        if (ad->location == NULL || ad->location->type != GEN_URI)
            continue;
        int nid = OBJ_obj2nid(ad->method);
        tc_strlist *l = nid == NID_ad_ca_issuers ? &ci->ca_issuers
                      : nid == NID_ad_OCSP ? &ci->ocsp_urls : NULL;
        if (l != NULL)
            ok = strlist_push(l, asn1_string_esc(
                    ad->location->d.uniformResourceIdentifier, NULL));
    }
    AUTHORITY_INFO_ACCESS_free(aia);
    return ok;
}

static int extract_usages(X509 *x, tc_cert_info *ci, flaws *fl)
{
    int ok = 1;
    ASN1_BIT_STRING *ku = get_ext(x, NID_key_usage, fl);
    if (ku != NULL) {
        for (size_t i = 0; ok && i < sizeof(KEY_USAGE_NAMES) / sizeof(KEY_USAGE_NAMES[0]); i++)
            if (ASN1_BIT_STRING_get_bit(ku, (int)i))
                ok = strlist_push(&ci->key_usage, esc_cstr(KEY_USAGE_NAMES[i]));
        ASN1_BIT_STRING_free(ku);
    }
    EXTENDED_KEY_USAGE *eku = get_ext(x, NID_ext_key_usage, fl);
    if (eku != NULL) {
        for (int i = 0; ok && i < sk_ASN1_OBJECT_num(eku); i++)
            ok = strlist_push(&ci->extended_key_usage,
                              obj_name(sk_ASN1_OBJECT_value(eku, i), 0));
        EXTENDED_KEY_USAGE_free(eku);
    }
    return ok;
}

static void extract_basic_constraints(X509 *x, tc_cert_info *ci, flaws *fl)
{
    ci->path_length = -1;
    BASIC_CONSTRAINTS *bc = get_ext(x, NID_basic_constraints, fl);
    if (bc == NULL)
        return;
    ci->has_basic_constraints = 1;
    ci->is_ca = bc->ca != 0;
    if (bc->pathlen != NULL) {
        int64_t v;
        /* A negative or unreadable pathLen is malformed: treat as absent. */
        if (ASN1_INTEGER_get_int64(&v, bc->pathlen) == 1 && v >= 0)
            ci->path_length = v > INT_MAX ? INT_MAX : (int)v;
        else
            flaw(fl, "its pathLenConstraint is negative or unreadable");
    }
    BASIC_CONSTRAINTS_free(bc);
}

char *tc_serial_hex(const ASN1_INTEGER *serial)
{
    char *r = NULL;
    BIGNUM *bn = serial ? ASN1_INTEGER_to_BN(serial, NULL) : NULL;
    if (bn == NULL)
        return NULL;
    char *h = BN_bn2hex(bn);
    if (h != NULL) {
        for (char *c = h; *c; c++)
            if (*c >= 'A' && *c <= 'F')
                *c = (char)(*c - 'A' + 'a');
        r = esc_cstr(h);
        OPENSSL_free(h);
    }
    BN_free(bn);
    return r;
}

static char *signature_name(X509 *x)
{
    int nid = X509_get_signature_nid(x);
    if (nid != NID_undef && OBJ_nid2ln(nid) != NULL)
        return esc_cstr(OBJ_nid2ln(nid));
    const X509_ALGOR *alg = NULL;
    const ASN1_OBJECT *obj = NULL;
    X509_get0_signature(NULL, &alg, x);
    if (alg == NULL)
        return esc_cstr("unknown");
    X509_ALGOR_get0(&obj, NULL, NULL, alg);
    return obj != NULL ? obj_name(obj, 1) : esc_cstr("unknown");
}

/* The CN: the last commonName of the subject (the most specific one). */
static int extract_common_name(X509 *x, tc_cert_info *ci)
{
    const X509_NAME *subj = X509_get_subject_name(x);
    int idx = -1, last = -1;
    while ((idx = X509_NAME_get_index_by_NID(subj, NID_commonName, idx)) >= 0)
        last = idx;
    if (last < 0)
        return 1;
    const ASN1_STRING *s = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(subj, last));
    if (s == NULL)
        return 1;
    ci->common_name = asn1_string_esc(s, &ci->names_have_nul);
    return ci->common_name != NULL;
}

tc_status tc_cert_info_extract(X509 *x, tc_cert_info *out, tc_error *err)
{
    tc_status rv = TC_FAIL;
    unsigned char *der = NULL;
    int ok = 1;
    flaws fl;

    fl.len = 0;
    fl.buf[0] = '\0';
    memset(out, 0, sizeof(*out));
    out->path_length = -1;
    if (x == NULL)
        return tc_error_set(err, TC_E_INVALID, "no certificate was given");

    int der_len = i2d_X509(x, &der);
    if (der_len <= 0) {
        tc_error_set(err, TC_E_INVALID, "the certificate cannot be encoded as "
                     "DER (OpenSSL: %s)", openssl_reason());
        goto done;
    }
    out->der = malloc((size_t)der_len);
    if (out->der == NULL)
        goto nomem;
    memcpy(out->der, der, (size_t)der_len);
    out->der_len = (size_t)der_len;
    const EVP_MD *sha256 = tc_sha256();
    if (sha256 == NULL)
        sha256 = EVP_sha256();      /* the fetch failed: the implicit lookup */
    if (!EVP_Digest(der, (size_t)der_len, out->sha256, NULL, sha256, NULL)) {
        tc_error_set(err, TC_E_INTERNAL, "SHA-256 of the certificate failed "
                     "(OpenSSL: %s)", openssl_reason());
        goto done;
    }

    const X509_NAME *subj = X509_get_subject_name(x);
    const X509_NAME *iss = X509_get_issuer_name(x);
    out->subject = name_string(subj, &out->names_have_nul);
    out->issuer = name_string(iss, NULL);
    if (out->subject == NULL || out->issuer == NULL)
        goto nomem;
    if (!extract_common_name(x, out))
        goto nomem;

    /* RFC 5280 section 4.1.2.5: UTCTime or GeneralizedTime, in Zulu.
     * OpenSSL decodes the certificate without checking them. */
    if (!tc_asn1_time_unix(X509_get0_notBefore(x), &out->not_before))
        flaw(&fl, "its notBefore time is not a valid UTCTime or "
             "GeneralizedTime");
    if (!tc_asn1_time_unix(X509_get0_notAfter(x), &out->not_after))
        flaw(&fl, "its notAfter time is not a valid UTCTime or "
             "GeneralizedTime");

    out->serial_hex = tc_serial_hex(X509_get0_serialNumber(x));
    out->signature_algorithm = signature_name(x);
    if (out->serial_hex == NULL || out->signature_algorithm == NULL)
        goto nomem;
    long version = X509_get_version(x);
    if (version < 0 || version > 2)
        flaw(&fl, "its version field is %ld (only 0, 1 and 2 exist)", version);
    out->version = version >= 0 && version < INT_MAX ? (int)version + 1 : 0;

    extract_key(x, out, &ok);
    extract_basic_constraints(x, out, &fl);
    if (!ok || !extract_sans(x, out, &fl) || !extract_usages(x, out, &fl) ||
        !extract_aia(x, out, &fl))
        goto nomem;
    if (fl.len > 0 && (out->malformed = strdup(fl.buf)) == NULL)
        goto nomem;

    int ss = X509_self_signed(x, 1);
    out->self_signed = ss == 1;
    out->self_issued = X509_NAME_cmp(subj, iss) == 0;
    rv = TC_OK;
    goto done;
nomem:
    tc_error_set(err, TC_E_NOMEM, "out of memory while reading the "
                 "certificate's fields");
done:
    OPENSSL_free(der);
    if (rv != TC_OK)
        tc_cert_info_clear(out);
    ERR_clear_error();
    return rv;
}

void tc_cert_info_clear(tc_cert_info *info)
{
    if (info == NULL)
        return;
    free(info->subject);
    free(info->issuer);
    free(info->common_name);
    strlist_clear(&info->dns_names);
    strlist_clear(&info->ip_addresses);
    strlist_clear(&info->email_addresses);
    free(info->serial_hex);
    free(info->key_curve);
    free(info->signature_algorithm);
    strlist_clear(&info->key_usage);
    strlist_clear(&info->extended_key_usage);
    strlist_clear(&info->ca_issuers);
    strlist_clear(&info->ocsp_urls);
    free(info->der);
    free(info->malformed);
    memset(info, 0, sizeof(*info));
}

const char *tc_cert_label(const tc_cert_info *info)
{
    if (info == NULL)
        return "(no certificate)";
    if (info->common_name != NULL && info->common_name[0] != '\0')
        return info->common_name;
    if (info->subject != NULL && info->subject[0] != '\0')
        return info->subject;
    return "(empty subject)";
}
