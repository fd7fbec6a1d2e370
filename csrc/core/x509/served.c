/*
 * served.c - the chain as clients receive it: what the Certificate message
 * costs and what it should not carry.  OpenSSL builds its path from the
 * served certificates as an unordered pool, so none of this changes its
 * verdict; clients do care: most refuse a message over OpenSSL's default
 * limit, some do not reorder, and every byte past TCP's initial window
 * costs a round trip.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "classify.h"
#include "text.h"

/* OpenSSL's default limit on the Certificate message a client accepts
 * (SSL_MAX_CERT_LIST_DEFAULT, "excessive message size" past it): Python's
 * ssl, curl and s_client keep it. */
#define CLIENT_CERT_LIST_MAX 102400
/* TCP's initial congestion window: 10 segments (RFC 6928) of 1448-1460
 * bytes, about 14,600 bytes; the server's first flight also carries the
 * ServerHello, a signature and Finished (some 600 bytes), so a Certificate
 * message above this needs a second window. */
#define INITIAL_WINDOW_CHAIN_MAX 14000
/* Order and the path are judged on at most this many served certificates
 * (pairwise comparisons); size and copies on all of them. */
#define SERVED_MAX 512

/* The Certificate message's body for these certificates: TLS 1.3 (RFC
 * 8446 section 4.4.2) has a context byte and 2 extension-length bytes per
 * entry; TLS 1.2 (RFC 5246 section 7.4.2) has neither.  Stapled OCSP and
 * SCT extensions, when a server adds them in TLS 1.3, are not counted. */
static size_t cert_message_body(STACK_OF(X509) *chain, int tls13)
{
    size_t total = (tls13 ? 1 : 0) + 3;
    for (int i = 0; i < sk_X509_num(chain); i++) {
        int len = i2d_X509(sk_X509_value(chain, i), NULL);
        total += 3 + (size_t)(len > 0 ? len : 0) + (tls13 ? 2 : 0);
    }
    return total;
}

/* "102,400" */
static void thousands(char *out, size_t n, size_t v)
{
    char digits[32];
    int len = snprintf(digits, sizeof(digits), "%zu", v);
    tb b;
    tb_init(&b, out, n);
    for (int i = 0; i < len; i++) {
        tb_addf(&b, "%c", digits[i]);
        if ((len - i - 1) % 3 == 0 && i + 1 < len)
            tb_add(&b, ",");
    }
}

static int same(X509 *a, X509 *b)
{
    return a == b || X509_cmp(a, b) == 0;
}

/* Index of x in the path, or -1. */
static int path_index(STACK_OF(X509) *path, X509 *x)
{
    for (int i = 0; i < sk_X509_num(path); i++)
        if (same(sk_X509_value(path, i), x))
            return i;
    return -1;
}

static void label_of(char *out, size_t n, X509 *x)
{
    tc_x509_label(out, n, x);
}

/* "certificates 2 to 251" / "certificate 3" (1-based positions). */
static void positions(tb *b, int first, int last)
{
    if (first == last)
        tb_addf(b, "certificate %d", first + 1);
    else
        tb_addf(b, "certificates %d to %d", first + 1, last + 1);
}

static tc_status judge_size(const tc_judge *j, STACK_OF(X509) *served, tc_error *err)
{
    const char *proto = j->report->protocol;
    int tls13 = proto == NULL || strcmp(proto, "TLSv1.3") == 0;
    size_t body = cert_message_body(served, tls13);
    j->report->chain_bytes = body;

    /* The largest certificate, to say whether one leaf alone is the cause. */
    int big = 0, big_len = 0;
    for (int i = 0; i < sk_X509_num(served); i++) {
        int len = i2d_X509(sk_X509_value(served, i), NULL);
        if (len > big_len) {
            big_len = len;
            big = i;
        }
    }
    char bytes[32], detail[900], label[300];
    thousands(bytes, sizeof(bytes), body);
    label_of(label, sizeof(label), sk_X509_value(served, big));
    if (body > CLIENT_CERT_LIST_MAX) {
        char one[32];
        thousands(one, sizeof(one), (size_t)big_len);
        tb b;
        tb_init(&b, detail, sizeof(detail));
        tb_addf(&b, "its %d certificate%s take %s bytes in the Certificate message",
                sk_X509_num(served), sk_X509_num(served) == 1 ? "" : "s", bytes);
        if ((size_t)big_len * 2 > body)
            tb_addf(&b, ", %s of them for certificate %d alone (%s)", one, big + 1, label);
        return tc_judge_add(j, TC_KIND_CHAIN_TOO_LARGE, -1, sk_X509_value(served, 0), NULL, 0,
                            detail, err);
    }
    if (body > INITIAL_WINDOW_CHAIN_MAX) {
        snprintf(detail, sizeof(detail), "%s bytes in the Certificate message (%d certificate%s)",
                 bytes, sk_X509_num(served), sk_X509_num(served) == 1 ? "" : "s");
        return tc_judge_add(j, TC_KIND_CHAIN_EXTRA_ROUND_TRIP, -1, sk_X509_value(served, 0),
                            NULL, 0, detail, err);
    }
    return TC_OK;
}

/* The first certificate sent is a CA certificate while an end-entity
 * certificate comes later: the server's own certificate is not first. */
static tc_status judge_leaf_first(const tc_judge *j, STACK_OF(X509) *served, int *reported,
                                  tc_error *err)
{
    *reported = 0;
    X509 *first = sk_X509_value(served, 0);
    if (X509_check_ca(first) <= 0)
        return TC_OK;
    for (int i = 1; i < sk_X509_num(served); i++) {
        X509 *x = sk_X509_value(served, i);
        if (X509_check_ca(x) > 0)
            continue;
        char a[300], b_[300], detail[900];
        label_of(a, sizeof(a), first);
        label_of(b_, sizeof(b_), x);
        snprintf(detail, sizeof(detail),
                 "certificate 1 (%s) is a CA certificate, and the server's own certificate "
                 "(%s) comes as certificate %d", a, b_, i + 1);
        *reported = 1;
        return tc_judge_add(j, TC_KIND_LEAF_NOT_FIRST, -1, x, NULL, 0, detail, err);
    }
    return TC_OK;
}

/* Copies of one certificate: counted over the whole chain against its
 * first DISTINCT_MAX distinct certificates (a chain of copies is the
 * common case; thousands of distinct certificates are judged on size). */
#define DISTINCT_MAX 512
typedef struct dup_row { X509 *x; int count, first, last, contiguous; } dup_row;

static tc_status judge_duplicates(const tc_judge *j, STACK_OF(X509) *served, tc_error *err)
{
    static const int SHOW = 3;
    int n = sk_X509_num(served), nd = 0, kinds = 0, copies = 0, shown = 0;
    dup_row *rows = calloc(DISTINCT_MAX, sizeof(*rows));
    if (rows == NULL)
        return tc_error_set(err, TC_E_NOMEM, "out of memory judging the served chain");
    for (int i = 0; i < n; i++) {
        X509 *x = sk_X509_value(served, i);
        int k = 0;
        while (k < nd && !same(rows[k].x, x))
            k++;
        if (k < nd) {
            rows[k].contiguous &= i == rows[k].last + 1;
            rows[k].last = i;
            rows[k].count++;
        } else if (nd < DISTINCT_MAX) {
            rows[nd++] = (dup_row){ x, 1, i, i, 1 };
        }
    }
    char detail[1200];
    tb b;
    tb_init(&b, detail, sizeof(detail));
    for (int k = 0; k < nd; k++) {
        if (rows[k].count == 1)
            continue;
        kinds++;
        copies += rows[k].count - 1;
        if (shown < SHOW) {
            char label[300];
            label_of(label, sizeof(label), rows[k].x);
            tb_addf(&b, "%s%s is sent %d times (", shown ? "; " : "", label, rows[k].count);
            if (rows[k].contiguous)
                positions(&b, rows[k].first, rows[k].last);
            else
                tb_addf(&b, "first as certificate %d", rows[k].first + 1);
            tb_add(&b, ")");
            shown++;
        }
    }
    free(rows);
    if (kinds == 0)
        return TC_OK;
    if (kinds > shown)
        tb_addf(&b, "; and %d more certificates are repeated", kinds - shown);
    tb_addf(&b, ": %d needless cop%s", copies, copies == 1 ? "y" : "ies");
    return tc_judge_add(j, TC_KIND_CHAIN_DUPLICATES, -1, sk_X509_value(served, 0), NULL, 0,
                        detail, err);
}

/* Off the path, the root, the order: judged only on an anchored path
 * (without one, what the chain needs is not known). */
static tc_status judge_path_shape(const tc_judge *j, STACK_OF(X509) *served, tc_error *err)
{
    STACK_OF(X509) *path = j->path;
    int n = sk_X509_num(served), np = sk_X509_num(path);
    if (!j->anchored || np == 0 || !same(sk_X509_value(path, 0), sk_X509_value(served, 0)))
        return TC_OK;

    char off[1200], root[600], order[1200];
    tb boff, broot, border;
    tb_init(&boff, off, sizeof(off));
    tb_init(&broot, root, sizeof(root));
    tb_init(&border, order, sizeof(order));
    int n_off = 0, shown_off = 0, last_pos = 0, last_served = 0, out_of_order = 0;
    X509 *anchor = sk_X509_value(path, np - 1);
    for (int i = 1; i < n; i++) {
        X509 *x = sk_X509_value(served, i);
        int dup = 0;
        for (int k = 0; k < i && !dup; k++)
            dup = same(sk_X509_value(served, k), x);
        if (dup)
            continue;            /* judge_duplicates says it */
        char label[300];
        label_of(label, sizeof(label), x);
        int at = path_index(path, x);
        if (at < 0) {
            n_off++;
            if (shown_off++ < 4)
                tb_addf(&boff, "%scertificate %d (%s)", shown_off > 1 ? ", " : "", i + 1, label);
            continue;
        }
        if (same(x, anchor) && np > 1 && broot.len == 0 && tc_cert_self_signed(x)) {
            char bytes[32];
            int len = i2d_X509(x, NULL);
            thousands(bytes, sizeof(bytes), (size_t)(len > 0 ? len : 0));
            tb_addf(&broot, "%s, as certificate %d (%s bytes)", label, i + 1, bytes);
        }
        if (at < last_pos && !out_of_order) {
            out_of_order = 1;
            char above[300];
            label_of(above, sizeof(above), sk_X509_value(served, last_served));
            tb_addf(&border, "certificate %d (%s) is sent after certificate %d (%s), which is "
                    "above it in the path; the path runs ", i + 1, label, last_served + 1, above);
            for (int k = 0; k < np; k++) {
                char step[300];
                label_of(step, sizeof(step), sk_X509_value(path, k));
                tb_addf(&border, "%s%s", k ? " -> " : "", step);
            }
        }
        if (at > last_pos) {
            last_pos = at;
            last_served = i;
        }
    }
    if (n_off > shown_off)
        tb_addf(&boff, " and %d more", n_off - shown_off);
    if (n_off > 0
        && tc_judge_add(j, TC_KIND_CHAIN_UNNEEDED_CERTIFICATES, -1, NULL, NULL, 0, off,
                        err) != TC_OK)
        return TC_FAIL;
    if (broot.len > 0
        && tc_judge_add(j, TC_KIND_CHAIN_INCLUDES_ROOT, -1, anchor, NULL, 0, root, err) != TC_OK)
        return TC_FAIL;
    if (out_of_order
        && tc_judge_add(j, TC_KIND_CHAIN_WRONG_ORDER, -1, NULL, NULL, 0, order, err) != TC_OK)
        return TC_FAIL;
    return TC_OK;
}

tc_status tc_judge_served(const tc_judge *j, tc_error *err)
{
    STACK_OF(X509) *served = j->given;
    int n = sk_X509_num(served);
    if (served == NULL || n <= 0)
        return TC_OK;
    if (judge_size(j, served, err) != TC_OK)
        return TC_FAIL;
    /* Order and the path compare certificates pairwise: on a chain longer
     * than SERVED_MAX (already too large for every client) only its start. */
    STACK_OF(X509) *head = served;
    if (n > SERVED_MAX) {
        if ((head = sk_X509_new_reserve(NULL, SERVED_MAX)) == NULL)
            return tc_error_set(err, TC_E_NOMEM, "out of memory judging the served chain");
        for (int i = 0; i < SERVED_MAX; i++)
            (void)sk_X509_push(head, sk_X509_value(served, i));   /* reserved: cannot fail */
    }
    int leaf_reported = 0;
    tc_status st = TC_FAIL;
    if (judge_leaf_first(j, head, &leaf_reported, err) == TC_OK
        && judge_duplicates(j, served, err) == TC_OK
        && (leaf_reported || judge_path_shape(j, head, err) == TC_OK))
        st = TC_OK;
    if (head != served)
        sk_X509_free(head);
    return st;
}
