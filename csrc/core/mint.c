/* mint.c - STUB (owner: surfaces helper). */
#include <string.h>
#include "tc_mint.h"
void tc_mint_params_init(tc_mint_params *p) { memset(p, 0, sizeof(*p)); p->path_length = -1; }
tc_status tc_mint(const tc_mint_params *p, char **cert_pem, char **key_pem, tc_error *err)
{ *cert_pem = *key_pem = NULL; return tc_error_set(err, TC_E_INTERNAL, "not implemented yet"); }
