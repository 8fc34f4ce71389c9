/* SPDX-License-Identifier: Apache-2.0 */
/* fuzz-record.c: record and control-body decoding; a decoded record must re-encode identically */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "control.h"
#include "keys.h"
#include "record.h"

#include "fuzz.h"

static int inside(const uint8_t *p, size_t n, const uint8_t *q, size_t m)
{
        return q >= p && m <= n && (size_t) (q - p) <= n - m;
}

static void fuzz_control(const LsRecord *rec)
{
        LsControl c;
        const uint8_t *val;
        uint16_t len;
        size_t off = 0;
        uint64_t u;

        if (ls_control_decode(&c, rec->body, rec->body_len, &off) < 0) {
                FUZZ_CHECK(off <= rec->body_len);
                return;
        }
        FUZZ_CHECK(c.body == rec->body && c.len == rec->body_len);
        (void) ls_control_type_name(c.type);

        /* Every known tag, plus a few unknown and critical ones. */
        for (unsigned tag = 0; tag <= LS_TAG_MAX + 2; tag++) {
                const uint16_t variants[2] = {(uint16_t) tag, (uint16_t) (tag | LS_TAG_CRITICAL)};
                for (size_t i = 0; i < 2; i++) {
                        if (!ls_control_get(&c, variants[i], &val, &len))
                                continue;
                        FUZZ_CHECK(inside(c.body, c.len, val, len));
                        (void) ls_control_tag_name(variants[i]);
                        if (ls_control_get_u64(&c, variants[i], &u))
                                FUZZ_CHECK(len == 2 || len == 4 || len == 8);
                }
        }

        if (ls_control_get(&c, LS_TAG_CAUSE, &val, &len) && len == 2)
                (void) ls_loss_cause_name((uint16_t) (val[0] | val[1] << 8));
        if (ls_control_get(&c, LS_TAG_ACTION, &val, &len) && len == 2)
                (void) ls_custody_action_name((uint16_t) (val[0] | val[1] << 8));
        if (ls_control_get(&c, LS_TAG_CERT, &val, &len)) {
                LsCert cert;
                uint8_t buf[LS_CERT_LEN];
                if (ls_cert_decode(&cert, val, len) == 0) {
                        ls_cert_encode(&cert, buf);
                        FUZZ_CHECK(len == LS_CERT_LEN && memcmp(buf, val, len) == 0);
                }
        }
        if (ls_control_get(&c, LS_TAG_REVOCATION, &val, &len)) {
                LsRevocation rv;
                uint8_t buf[LS_REVOCATION_MAX_LEN];
                size_t n;
                if (ls_revocation_decode(&rv, val, len) == 0) {
                        FUZZ_CHECK(ls_revocation_encode(&rv, buf, sizeof(buf), &n) == 0);
                        FUZZ_CHECK(n == len && memcmp(buf, val, len) == 0);
                }
        }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        LsRecord rec;
        uint8_t *out;
        size_t off = 0, n = 0;
        uint32_t pid, uid, gid;

        fuzz_init();
        if (ls_record_decode(&rec, data, size, &off) < 0) {
                /* The offset of the problem may be just past the input, never further. */
                FUZZ_CHECK(off <= size);
                return 0;
        }
        FUZZ_CHECK(ls_record_check(&rec) == 0);
        FUZZ_CHECK(ls_record_size(&rec) == size);
        FUZZ_CHECK(rec.identity_len == 0 || inside(data, size, rec.identity, rec.identity_len));
        FUZZ_CHECK(inside(data, size, rec.body, rec.body_len));
        (void) ls_transport_name(rec.transport);
        if (rec.family == LS_FAMILY_UNIX)
                ls_record_get_ucred(&rec, &pid, &uid, &gid);

        if (rec.type == LS_REC_CONTROL)
                fuzz_control(&rec);

        /* Exactly sized: an encoder writing past the record's size trips ASan. */
        out = malloc(size);
        FUZZ_CHECK(out);
        FUZZ_CHECK(ls_record_encode(&rec, out, size, &n) == 0);
        FUZZ_CHECK(n == size);
        if (memcmp(out, data, size) != 0) {
                fprintf(stderr, "fuzz-record: re-encoding differs from the input\n");
                abort();
        }
        /* One byte less must be refused, not overflowed. */
        FUZZ_CHECK(ls_record_encode(&rec, out, size - 1, &n) == -ENOBUFS);
        free(out);
        return 0;
}
