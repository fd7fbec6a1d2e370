/*
 * fuzz_cert.c - certificate parsing and field extraction on arbitrary
 * bytes: tc_certs_parse (PEM bundle or DER), tc_cert_info_extract on every
 * certificate it returns, every extracted string read to its end,
 * tc_cert_label, the hostname policy on the parsed certificate, and
 * tc_crls_parse and tc_crl_input_parse (the crls= reader) on the same bytes.
 *
 * Invariants checked (abort = crash = failure):
 *  - a parse that succeeds returns at least one certificate;
 *  - extraction never fails except for memory (TC_E_NOMEM): a hostile
 *    certificate is described, not dropped (cert.c's contract);
 *  - every string is NUL-terminated and holds no raw control byte (they
 *    are escaped as \xNN, tlscheck.h "safe to print").
 */
#include <openssl/err.h>
#include "fuzz_common.h"
#include "tlscheck.h"

static void check_printable(const char *s)
{
    if (s == NULL)
        return;
    fuzz_touch(s);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        if (*p < 0x20 || *p == 0x7f)
            abort();     /* a raw control byte escaped the escaping */
}

static void check_list(const tc_strlist *l)
{
    if (l->count > 0 && l->items == NULL)
        abort();
    for (size_t i = 0; i < l->count; i++)
        check_printable(l->items[i]);
}

static void one_cert(X509 *x)
{
    tc_cert_info info;
    tc_error err;
    tc_error_clear(&err);
    if (tc_cert_info_extract(x, &info, &err) != TC_OK) {
        if (err.code != TC_E_NOMEM)
            abort();
        return;
    }
    check_printable(info.subject);
    check_printable(info.issuer);
    check_printable(info.common_name);
    check_list(&info.dns_names);
    check_list(&info.ip_addresses);
    check_list(&info.email_addresses);
    check_printable(info.serial_hex);
    check_printable(info.key_type_name);
    check_printable(info.key_curve);
    check_printable(info.signature_algorithm);
    check_list(&info.key_usage);
    check_list(&info.extended_key_usage);
    check_list(&info.ca_issuers);
    check_list(&info.ocsp_urls);
    check_printable(info.malformed);
    check_printable(tc_cert_label(&info));
    if (info.der_len > 0 && info.der == NULL)
        abort();
    tc_cert_info_clear(&info);

    /* The hostname policy over whatever names the certificate holds. */
    static const char *const hosts[] = { "example.com", "a.b.example.com", "127.0.0.1", "::1" };
    for (size_t i = 0; i < sizeof(hosts) / sizeof(hosts[0]); i++) {
        tc_host_match m;
        if (tc_hostname_check(x, hosts[i], strlen(hosts[i]), &m, &err) != TC_OK)
            abort();     /* the hostnames are valid: only the certificate varies */
        if (memchr(m.reason, '\0', sizeof(m.reason)) == NULL ||
            memchr(m.matched_name, '\0', sizeof(m.matched_name)) == NULL)
            abort();
        fuzz_touch(m.reason);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    STACK_OF(X509) *sk = NULL;
    STACK_OF(X509_CRL) *crls = NULL;
    tc_error err;

    tc_error_clear(&err);
    if (tc_certs_parse(data, size, "the fuzz input", &sk, &err) == TC_OK) {
        if (sk == NULL || sk_X509_num(sk) < 1)
            abort();
        for (int i = 0; i < sk_X509_num(sk); i++)
            one_cert(sk_X509_value(sk, i));
        sk_X509_pop_free(sk, X509_free);
    } else {
        if (sk != NULL || err.code == TC_E_NONE)
            abort();
        fuzz_touch(err.msg);
    }
    tc_error_clear(&err);
    if (tc_crls_parse(data, size, "the fuzz input", &crls, &err) == TC_OK)
        sk_X509_CRL_pop_free(crls, X509_CRL_free);
    else
        fuzz_touch(err.msg);
    tc_error_clear(&err);
    STACK_OF(X509) *signers = NULL;
    if (tc_crl_input_parse(data, size, "the fuzz input", &crls, &signers, &err) == TC_OK) {
        sk_X509_CRL_pop_free(crls, X509_CRL_free);
        sk_X509_pop_free(signers, X509_free);
    } else {
        if (crls != NULL || signers != NULL)
            abort();
        fuzz_touch(err.msg);
    }
    ERR_clear_error();
    return 0;
}
