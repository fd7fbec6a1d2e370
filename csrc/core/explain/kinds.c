/* kinds.c - the kinds table as data (generated from kinds.h). */
#include <string.h>
#include "tlscheck.h"

static const tc_kind_info KINDS[TC_KIND__COUNT] = {
#define TC_KIND(id, name_, sev, exc, cat, breaks, cause_, msg, fix_, file_, live_) \
    { TC_KIND_##id, name_, sev, exc, cat, breaks, cause_, msg, fix_, file_, live_ },
#include "tc_kinds.h"
#undef TC_KIND
};

const tc_kind_info *tc_kind_get(tc_kind kind)
{
    if ((int)kind < 0 || kind >= TC_KIND__COUNT)
        return NULL;
    return &KINDS[kind];
}

tc_kind tc_kind_by_name(const char *name)
{
    if (name == NULL)
        return TC_KIND__COUNT;
    for (int i = 0; i < TC_KIND__COUNT; i++)
        if (strcmp(KINDS[i].name, name) == 0)
            return (tc_kind)i;
    return TC_KIND__COUNT;
}
