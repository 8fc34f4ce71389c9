/* SPDX-License-Identifier: Apache-2.0 */
/* fuzz-payload.c: the batch payload reader's column layout (SPEC §6.4) on any content */
#include <zstd.h>

#include "hash.h"
#include "util.h"
#include "payload.h"

#include "fuzz.h"

/*
 * Input: u32 record_count, u32 payload_raw_len, u64 min_time_ns, then the column content
 * (uncompressed). The target compresses it into a frame that passes the payload digest, so
 * every input reaches the column decoder, which must never read or write out of bounds,
 * must rebuild exactly payload_raw_len bytes or fail, and whose records the iterator checks.
 */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        static LsPayload *pl;
        static uint8_t *frame;
        static size_t frame_cap;
        LsBatchHeader h = {.incompat_flags = LS_BATCH_INCOMPAT_COLUMNS};
        size_t n, bound;

        fuzz_init();
        if (!pl)
                FUZZ_CHECK(ls_payload_new(&pl) == 0);
        if (size < 16)
                return 0;
        h.record_count = (ls_get32(data) % 64) + 1;
        h.payload_raw_len = ls_get32(data + 4) % (1u << 20);
        h.min_time_ns = ls_get64(data + 8);
        h.first_seq = 7;
        if (h.payload_raw_len < h.record_count * (4 + LS_RECORD_FIXED_LEN))
                return 0;
        bound = ZSTD_compressBound(size - 16);
        if (frame_cap < bound) {
                free(frame);
                frame = malloc(bound);
                FUZZ_CHECK(frame);
                frame_cap = bound;
        }
        n = ZSTD_compress(frame, bound, data + 16, size - 16, 1);
        FUZZ_CHECK(!ZSTD_isError(n));
        h.payload_len = (uint32_t) n;
        ls_sha256(h.payload_hash, frame, n);
        if (ls_payload_open(pl, &h, frame, n) == 0) {
                const uint8_t *raw, *bytes;
                size_t rawlen, len, off = 0;
                LsPayloadIter it;
                LsRecord rec;
                uint8_t leaf[LS_HASH_LEN];

                raw = ls_payload_raw(pl, &rawlen);
                FUZZ_CHECK(rawlen == h.payload_raw_len);
                ls_payload_iter_init(&it, &h, raw, rawlen);
                while (ls_payload_next(&it, &rec, &bytes, &len, leaf, &off) > 0)
                        FUZZ_CHECK(bytes >= raw && (size_t) (bytes - raw) <= rawlen - len);
                FUZZ_CHECK(off <= rawlen);
        }
        return 0;
}
