/* hostname.c - STUB (owner: hostname helper). */
#include "tlscheck.h"
int tc_host_pattern_match(const char *pattern, size_t plen, const char *host, size_t hlen, char *why, size_t whylen) { return 0; }
tc_status tc_hostname_normalize(const char *in, size_t len, char *out, size_t outlen, int *is_ip, unsigned char ip[16], size_t *ip_len, tc_error *err)
{ return tc_error_set(err, TC_E_INTERNAL, "not implemented yet"); }
tc_status tc_hostname_check(X509 *cert, const char *hostname, size_t len, tc_host_match *out, tc_error *err)
{ return tc_error_set(err, TC_E_INTERNAL, "not implemented yet"); }
