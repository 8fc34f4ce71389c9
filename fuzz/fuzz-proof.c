/* SPDX-License-Identifier: Apache-2.0 */
/* fuzz-proof.c: strict proof decoding, re-encoding, and RFC 9162 proof verification */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "merkle.h"

#include "fuzz.h"

/*
 * Fixed hashes from tests/vectors/expected.txt, so that the seed proofs verify:
 * inclusion.proof is record 5 in the tree of size 14 (batch 4), consistency.proof goes
 * from size 10 (batch 2) to 14 (batch 4).
 */
static uint8_t leaf5[LS_HASH_LEN], root10[LS_HASH_LEN], root14[LS_HASH_LEN];

static void init_hashes(void)
{
        static int done;

        if (done)
                return;
        fuzz_hash_hex(leaf5, "4e529ca380aa3a8e88d7a1b15c5ebd802ee539a7cb0b440854c0a7688e0127a9");
        fuzz_hash_hex(root10, "c96907da1349414cbf5fb0bc1a187edf2a2caf10e26c50ceb50c1a4aabcb48f1");
        fuzz_hash_hex(root14, "69d24a3ceb7f046dff87aac98d8ae3d459ca415bae90ee9ebc8502d3919663d5");
        done = 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        const uint8_t(*path)[LS_HASH_LEN];
        uint8_t *out;
        size_t n = 0;
        LsProof p;
        int r;

        fuzz_init();
        init_hashes();

        r = ls_proof_decode(&p, data, size);
        if (r < 0) {
                FUZZ_CHECK(r == -ENODATA || r == -EBADMSG);
                return 0;
        }
        FUZZ_CHECK(size == LS_PROOF_HDR_LEN + (size_t) p.count * LS_HASH_LEN);
        FUZZ_CHECK(p.path == data + LS_PROOF_HDR_LEN);
        path = (const uint8_t(*)[LS_HASH_LEN]) p.path;

        switch (p.kind) {
        case LS_PROOF_INCLUSION:
                FUZZ_CHECK(p.count <= LS_MAX_INCLUSION_PROOF);
                FUZZ_CHECK(p.count == ls_inclusion_proof_len(p.a, p.b));
                r = ls_verify_inclusion(p.a, p.b, leaf5, path, p.count, root14);
                /* A decoded proof has a valid shape: only the hashes can be wrong. */
                FUZZ_CHECK(r == 0 || r == -EILSEQ);
                break;
        case LS_PROOF_CONSISTENCY:
                FUZZ_CHECK(p.count <= LS_MAX_CONSISTENCY_PROOF);
                FUZZ_CHECK(p.count == ls_consistency_proof_len(p.a, p.b));
                r = ls_verify_consistency(p.a, p.b, root10, root14, path, p.count);
                FUZZ_CHECK(r == 0 || r == -EILSEQ);
                if (p.a == p.b)
                        FUZZ_CHECK(r == -EILSEQ && p.count == 0);
                r = ls_verify_consistency(p.a, p.b, root14, root14, path, p.count);
                FUZZ_CHECK(r == 0 || r == -EILSEQ);
                break;
        default:
                FUZZ_CHECK(!"decoded an unknown proof kind");
        }

        /* Round trip: the decoder is strict, so encoding the result gives the input back. */
        out = malloc(size);
        FUZZ_CHECK(out);
        FUZZ_CHECK(ls_proof_encode(&p, out, size, &n) == 0);
        FUZZ_CHECK(n == size && memcmp(out, data, size) == 0);
        FUZZ_CHECK(ls_proof_encode(&p, out, size - 1, &n) == -ENOBUFS);
        free(out);
        return 0;
}
