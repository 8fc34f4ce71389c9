/* SPDX-License-Identifier: Apache-2.0 */
/* magic.h: structure magics and archive frame headers (SPEC §1, §8.1) */
#pragma once

#include <stdint.h>
#include <string.h>

#include "defs.h"
#include "util.h"

static inline void ls_magic_put(uint8_t *p, char x)
{
        static const uint8_t m[LS_MAGIC_LEN] = {0x89, 'L', 'S', 0, 0x0d, 0x0a, 0x1a, 0x0a};
        memcpy(p, m, LS_MAGIC_LEN);
        p[3] = (uint8_t) x;
}

static inline int ls_magic_check(const uint8_t *p, char x)
{
        uint8_t m[LS_MAGIC_LEN];
        ls_magic_put(m, x);
        return memcmp(p, m, LS_MAGIC_LEN) == 0;
}

static inline void ls_frame_put(uint8_t out[LS_FRAME_HDR_LEN], uint32_t len)
{
        ls_put32(out, LS_SKIPPABLE_MAGIC);
        ls_put32(out + 4, len);
}
