/* The kinds table and the renderer. */
#include <stdlib.h>
#include <string.h>
#include "tlscheck.h"
#include "tc_test.h"

int main(void)
{
    for (int i = 0; i < TC_KIND__COUNT; i++) {
        const tc_kind_info *k = tc_kind_get((tc_kind)i);
        CHECK(k != NULL && k->kind == (tc_kind)i);
        CHECK(tc_kind_by_name(k->name) == (tc_kind)i);
        CHECK(k->message[0] && k->fix[0] && k->see_live[0]);
    }
    CHECK(tc_kind_get(TC_KIND__COUNT) == NULL);
    CHECK(tc_kind_by_name("no_such_kind") == TC_KIND__COUNT);

    /* A client's verify code read through the one table (diagnose()). */
    int trust = -1;
    CHECK(tc_kind_for_verify_code(10, &trust) == TC_KIND_EXPIRED && trust == 0);
    CHECK(tc_kind_for_verify_code(62, &trust) == TC_KIND_HOSTNAME_MISMATCH && trust == 0);
    CHECK(tc_kind_for_verify_code(20, &trust) == TC_KIND_INCOMPLETE_CHAIN && trust == 1);
    CHECK(tc_kind_for_verify_code(18, &trust) == TC_KIND_SELF_SIGNED && trust == 1);
    CHECK(tc_kind_for_verify_code(19, NULL) == TC_KIND_UNTRUSTED_ROOT);
    CHECK(tc_kind_for_verify_code(0, &trust) == TC_KIND__COUNT && trust == 0);
    CHECK(tc_kind_for_verify_code(100000, &trust) == TC_KIND_CHAIN_INVALID && trust == 0);

    tc_render_vars v = { .hostname = "api.example.com", .detail = "x" };
    char *s = tc_render("for {hostname}: {detail} {{literal} {unknown}", &v);
    CHECK_STR(s, "for api.example.com: x {literal} {unknown}");
    free(s);
    s = tc_render("openssl s_client -connect {target} {sni} </dev/null", &(tc_render_vars){ .target = "h:1" });
    CHECK_STR(s, "openssl s_client -connect h:1 </dev/null");
    free(s);

    tc_report *r = NULL;
    tc_error err;
    tc_error_clear(&err);
    CHECK(tc_report_new(&r, &err) == TC_OK);
    CHECK(tc_report_add(r, TC_KIND_EXPIRES_SOON, 0, 0, NULL, &v, &err) == TC_OK);
    CHECK(tc_report_ok(r));
    CHECK(tc_report_add(r, TC_KIND_EXPIRED, 1, 10, "certificate has expired", &v, &err) == TC_OK);
    CHECK(tc_report_add(r, TC_KIND_EXPIRED, 1, 10, "dup", &v, &err) == TC_OK);
    CHECK(tc_report_add(r, TC_KIND_EXPIRED, 0, 10, "certificate has expired", &v, &err) == TC_OK);
    CHECK(r->n_problems == 3);
    tc_report_sort(r);
    CHECK(r->problems[0].kind == TC_KIND_EXPIRED && r->problems[0].depth == 0);
    CHECK(r->problems[1].kind == TC_KIND_EXPIRED && r->problems[1].depth == 1);
    CHECK(r->problems[2].kind == TC_KIND_EXPIRES_SOON);
    CHECK(!tc_report_ok(r));
    tc_report_free(r);
    tc_report_free(NULL);

    /* A message opening with a lowercase variable still reads as a sentence. */
    CHECK(tc_report_new(&r, &err) == TC_OK);
    tc_render_vars low = { .cert = "the server certificate (CN=x)", .not_after = "2025-01-01",
                           .days = "3 days" };
    CHECK(tc_report_add(r, TC_KIND_EXPIRED, 0, 10, NULL, &low, &err) == TC_OK);
    CHECK(strncmp(r->problems[0].message, "The server certificate", 22) == 0);
    tc_report_free(r);
    return TC_TEST_DONE();
}
