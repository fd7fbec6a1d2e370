/*
 * text.h - the core's one rule for untrusted bytes in text, and the bounded
 * text buffer every message is built in (private to the core).
 *
 * The rule (tc_text_unit): bytes below 0x20, 0x7f, the C1 controls
 * U+0080..U+009F (C2 80..C2 9F: some terminals act on them, CSI is U+009B),
 * the bidirectional-text controls (U+202E and its kin, which reorder what is
 * shown) and bytes that are not part of well-formed UTF-8 (RFC 3629 section 4) are
 * written as \xNN; with esc_backslash a literal backslash is too, so the
 * output cannot be mistaken for an escape.  Everything else is copied.
 */
#ifndef TC_TEXT_H
#define TC_TEXT_H
#include <stddef.h>
#include "tlscheck.h"

/* The unit starting at p (n > 0 bytes left): its length in bytes (1..4)
 * and, in *escape, whether it must be written as \xNN per byte. */
size_t tc_text_unit(const unsigned char *p, size_t n, int esc_backslash, int *escape);

/* (p, n) escaped by the rule, backslashes too, into out (always
 * NUL-terminated): at most `show` input bytes, and "..." when cut. */
void tc_escape(char *out, size_t outlen, const unsigned char *p, size_t n, size_t show);

/* A bounded, always NUL-terminated text buffer over caller storage; what
 * does not fit is cut (never inside a UTF-8 sequence). */
typedef struct tb { char *p; size_t cap, len; } tb;
void tb_init(tb *b, char *p, size_t cap);
void tb_addf(tb *b, const char *fmt, ...) TC_PRINTF(2, 3);
void tb_add(tb *b, const char *s);
/* Untrusted bytes, escaped by the rule above (backslashes kept). */
void tb_add_bytes(tb *b, const unsigned char *s, size_t n);

/* An ASN1_TIME as Unix seconds (any year, whatever time_t is): 1, or 0
 * when it cannot be read. */
#include <stdint.h>
#include <openssl/asn1.h>
int tc_asn1_time_unix(const ASN1_TIME *t, int64_t *out);

/* s as one shell word (as Python's shlex.quote writes it: plain when it
 * holds only letters, digits and @%+=:,./-_, else in single quotes);
 * malloc'd, NULL when out of memory. */
char *tc_shell_quote(const char *s);

#endif
