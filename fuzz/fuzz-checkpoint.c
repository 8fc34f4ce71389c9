/* SPDX-License-Identifier: Apache-2.0 */
/* fuzz-checkpoint.c: strict parsing of signed-note checkpoints, then signature verification */
#include <errno.h>
#include <string.h>

#include "checkpoint.h"

#include "fuzz.h"

/* Batch 2 (golden-old.checkpoint) is signed by epoch 0, batch 4 (golden.checkpoint) by epoch 1. */
static uint8_t pk_epoch0[LS_PK_LEN], pk_epoch1[LS_PK_LEN];

static void init_keys(void)
{
        static int done;

        if (done)
                return;
        fuzz_vector_pk(pk_epoch0, "epoch-key-0");
        fuzz_vector_pk(pk_epoch1, "epoch-key-1");
        done = 1;
}

/* Number of bytes of the first `lines` lines of s (LF included). */
static size_t lines_len(const char *s, size_t n, unsigned lines)
{
        size_t i = 0;

        while (lines > 0 && i < n) {
                if (s[i++] == '\n')
                        lines--;
        }
        return i;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        const char *text = (const char *) data;
        char body[LS_NOTE_BODY_MAX];
        LsCheckpoint c;
        size_t off = 0, want;
        int r, n;

        fuzz_init();
        init_keys();

        r = ls_checkpoint_parse(&c, text, size, &off);
        if (r < 0) {
                FUZZ_CHECK(r == -EBADMSG || r == -E2BIG);
                FUZZ_CHECK(off <= size);
                return 0;
        }
        FUZZ_CHECK(off == 0);
        FUZZ_CHECK(c.body_len < size);
        FUZZ_CHECK(c.nsigs >= 1 && c.nsigs <= LS_MAX_CHECKPOINT_SIGS);
        for (unsigned i = 0; i < c.nsigs; i++) {
                const LsNoteSig *s = &c.sigs[i];
                FUZZ_CHECK(s->name_off <= size && s->name_len <= size - s->name_off);
        }

        /*
         * The parser accepts canonical text only (lower-case hex, no leading zeros, canonical
         * base64), so formatting the parsed fields must give back the signed body exactly.
         */
        n = ls_checkpoint_body(body, sizeof(body), c.chain_id, c.tree_size, c.root, c.batch_no,
                               c.header_hash);
        FUZZ_CHECK(n > 0);
        want = c.has_batch ? (size_t) n : lines_len(body, (size_t) n, 3);
        if (c.body_len != want || memcmp(body, text, want) != 0) {
                fprintf(stderr, "fuzz-checkpoint: parsed fields do not format back to the body\n");
                abort();
        }

        r = ls_checkpoint_verify(&c, text, pk_epoch0);
        FUZZ_CHECK(r == 0 || r == -ENOKEY || r == -EKEYREJECTED);
        r = ls_checkpoint_verify(&c, text, pk_epoch1);
        FUZZ_CHECK(r == 0 || r == -ENOKEY || r == -EKEYREJECTED);
        return 0;
}
