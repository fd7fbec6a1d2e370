/*
 * fuzz_common.h - shared by the libFuzzer targets of csrc/fuzz/.
 *
 * Each target defines LLVMFuzzerTestOneInput (and may define
 * LLVMFuzzerInitialize).  Built with clang -fsanitize=fuzzer it is a
 * fuzzer; linked with replay_main.c (any compiler, no libFuzzer) it is a
 * program that runs the target once per file given, which is how the seed
 * corpus and every crasher found become regression tests.
 */
#ifndef TC_FUZZ_COMMON_H
#define TC_FUZZ_COMMON_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

/* Reads a NUL-terminated string and makes the compiler believe its bytes
 * matter, so every byte of it is touched (ASan sees any overread, and a
 * string that is not terminated runs into the redzone). */
static inline size_t fuzz_touch(const char *s)
{
    volatile size_t sink = 0;
    if (s == NULL)
        return 0;
    size_t n = strlen(s);
    for (size_t i = 0; i < n; i++)
        sink += (unsigned char)s[i];
    return n + (sink & 0);
}

/* Splits the input at the first occurrence of a separator byte sequence:
 * lets one input carry several fields without a binary format the
 * fuzzer would have to learn. */
static inline int fuzz_split(const uint8_t *data, size_t size, const char *sep,
                             size_t *first_len, const uint8_t **rest, size_t *rest_len)
{
    size_t k = strlen(sep);
    for (size_t i = 0; i + k <= size; i++)
        if (memcmp(data + i, sep, k) == 0) {
            *first_len = i;
            *rest = data + i + k;
            *rest_len = size - i - k;
            return 1;
        }
    *first_len = size;
    *rest = data + size;
    *rest_len = 0;
    return 0;
}

#endif
