/* SPDX-License-Identifier: Apache-2.0 */
/* control.c: control record fields (SPEC §4) */
#include <errno.h>
#include <string.h>

#include "control.h"
#include "util.h"

enum { T_NONE, T_U16, T_U32, T_U64, T_I64, T_FIXED, T_VAR };

typedef struct TagInfo {
        const char *name;
        uint8_t kind;
        uint16_t min, max;   /* byte sizes */
} TagInfo;

static const TagInfo tags[LS_TAG_MAX + 1] = {
        [LS_TAG_COUNT] = {"count", T_U64, 8, 8},
        [LS_TAG_FIRST_TIME] = {"first_time", T_U64, 8, 8},
        [LS_TAG_LAST_TIME] = {"last_time", T_U64, 8, 8},
        [LS_TAG_CAUSE] = {"cause", T_U16, 2, 2},
        [LS_TAG_TEXT] = {"text", T_VAR, 0, 4096},
        [LS_TAG_BOOT_ID] = {"boot_id", T_FIXED, 16, 16},
        [LS_TAG_CONFIG_HASH] = {"config_hash", T_FIXED, 32, 32},
        [LS_TAG_VERSION] = {"version", T_VAR, 0, 64},
        [LS_TAG_CERT] = {"cert", T_FIXED, LS_CERT_LEN, LS_CERT_LEN},
        [LS_TAG_REVOCATION] = {"revocation", T_VAR, LS_REVOCATION_FIXED_LEN,
                               LS_REVOCATION_MAX_LEN},
        [LS_TAG_CASE_ID] = {"case_id", T_VAR, 0, 256},
        [LS_TAG_EXAMINER] = {"examiner", T_VAR, 0, 256},
        [LS_TAG_FILTER] = {"filter", T_VAR, 0, 4096},
        [LS_TAG_MANIFEST_HASH] = {"manifest_hash", T_FIXED, 32, 32},
        [LS_TAG_ACTION] = {"action", T_U16, 2, 2},
        [LS_TAG_FIRST_SEQ] = {"first_seq", T_U64, 8, 8},
        [LS_TAG_LAST_SEQ] = {"last_seq", T_U64, 8, 8},
        [LS_TAG_PREV_HASH] = {"prev_hash", T_FIXED, 32, 32},
        [LS_TAG_CLOCK_DELTA] = {"clock_delta", T_I64, 8, 8},
        [LS_TAG_SOURCE] = {"source", T_VAR, 0, 256},
        [LS_TAG_ARCHIVE_FIRST] = {"archive_first", T_U64, 8, 8},
        [LS_TAG_ARCHIVE_LAST] = {"archive_last", T_U64, 8, 8},
        [LS_TAG_SEAL_HASH] = {"seal_hash", T_FIXED, 32, 32},
        [LS_TAG_RECEIVED] = {"received", T_U64, 8, 8},
        [LS_TAG_LOST] = {"lost", T_U64, 8, 8},
        [LS_TAG_PID] = {"pid", T_U32, 4, 4},
        [LS_TAG_HEARTBEAT_INTERVAL] = {"heartbeat_interval", T_U64, 8, 8},
        [LS_TAG_CLOSE] = {"close", T_FIXED, LS_CLOSE_LEN, LS_CLOSE_LEN},
        [LS_TAG_CONFINEMENT] = {"confinement", T_U32, 4, 4},
        [LS_TAG_UID] = {"uid", T_U32, 4, 4},
        [LS_TAG_COMMAND] = {"command", T_VAR, 0, 1024},
};

/* Required tags per control type (SPEC §4.2), zero-terminated. */
static const uint16_t required[LS_CTL_MAX + 1][6] = {
        [LS_CTL_START] = {LS_TAG_BOOT_ID, LS_TAG_VERSION},
        [LS_CTL_STOP] = {0},
        [LS_CTL_UNCLEAN_SHUTDOWN] = {LS_TAG_COUNT},
        [LS_CTL_LOSS] = {LS_TAG_COUNT, LS_TAG_CAUSE},
        [LS_CTL_HEARTBEAT] = {0},
        [LS_CTL_KEY_TRANSITION] = {LS_TAG_CERT},
        [LS_CTL_REVOCATION] = {LS_TAG_REVOCATION},
        [LS_CTL_CUSTODY] = {LS_TAG_ACTION},
        [LS_CTL_CONFIG_CHANGE] = {LS_TAG_CONFIG_HASH},
        [LS_CTL_CLOCK_STEP] = {LS_TAG_CLOCK_DELTA},
        [LS_CTL_RETENTION] = {LS_TAG_ARCHIVE_FIRST, LS_TAG_ARCHIVE_LAST, LS_TAG_FIRST_SEQ,
                              LS_TAG_LAST_SEQ, LS_TAG_SEAL_HASH},
        [LS_CTL_EPOCH_CLOSE] = {LS_TAG_CLOSE},
};

static const TagInfo *tag_info(uint16_t tag)
{
        tag &= (uint16_t) ~LS_TAG_CRITICAL;
        if (tag == 0 || tag > LS_TAG_MAX)
                return NULL;
        return &tags[tag];
}

/* Iterates fields; returns 1 with a field, 0 at the end, <0 on malformed input. */
static int next_field(const uint8_t *p, size_t n, size_t *pos, uint16_t *tag, const uint8_t **val,
                      uint16_t *len)
{
        if (*pos == n)
                return 0;
        if (n - *pos < 4)
                return -ENODATA;
        *tag = ls_get16(p + *pos);
        *len = ls_get16(p + *pos + 2);
        if (n - *pos - 4 < *len)
                return -ENODATA;
        *val = p + *pos + 4;
        *pos += 4 + (size_t) *len;
        return 1;
}

int ls_control_decode(LsControl *c, const uint8_t *body, size_t n, size_t *ret_offset)
{
        size_t pos = LS_CONTROL_HDR_LEN, field_pos, dummy;
        int last = -1, k;
        uint16_t tag, len;
        const uint8_t *val;
        uint16_t type;

        if (!ret_offset)
                ret_offset = &dummy;
        *ret_offset = 0;
        if (n < LS_CONTROL_HDR_LEN)
                return -ENODATA;
        if (n > LS_MAX_CONTROL_BODY)
                return -E2BIG;
        type = ls_get16(body);
        if (type == 0) {
                *ret_offset = 0;
                return -EBADMSG;
        }
        if (ls_get16(body + 2) != 0) {
                *ret_offset = 2;
                return -EBADMSG;
        }
        for (;;) {
                field_pos = pos;
                k = next_field(body, n, &pos, &tag, &val, &len);
                if (k == 0)
                        break;
                *ret_offset = field_pos;
                if (k < 0)
                        return k;
                /* Order and uniqueness go by tag number; bit 15 only marks it critical. */
                uint16_t num = tag & (uint16_t) ~LS_TAG_CRITICAL;
                if ((int) num <= last || num == 0)
                        return -EBADMSG;
                last = num;
                const TagInfo *ti = tag_info(tag);
                if (!ti || !ti->kind) {
                        if (tag & LS_TAG_CRITICAL)
                                return -EPROTONOSUPPORT;
                        continue;
                }
                if (len > ti->max)
                        return ti->min == ti->max ? -EBADMSG : -E2BIG;
                if (len < ti->min)
                        return -EBADMSG;
        }
        c->type = type;
        c->body = body;
        c->len = n;
        if (type <= LS_CTL_MAX) {
                for (size_t i = 0; i < ELEMENTSOF(required[type]) && required[type][i]; i++) {
                        if (!ls_control_get(c, required[type][i], &val, &len)) {
                                *ret_offset = n;
                                return -EBADMSG;
                        }
                }
        }
        *ret_offset = 0;
        return 0;
}

int ls_control_get(const LsControl *c, uint16_t want, const uint8_t **ret_val, uint16_t *ret_len)
{
        size_t pos = LS_CONTROL_HDR_LEN;
        uint16_t tag, len;
        const uint8_t *val;

        while (next_field(c->body, c->len, &pos, &tag, &val, &len) > 0) {
                if ((tag & (uint16_t) ~LS_TAG_CRITICAL) == want) {
                        *ret_val = val;
                        *ret_len = len;
                        return 1;
                }
        }
        return 0;
}

int ls_control_get_u64(const LsControl *c, uint16_t tag, uint64_t *ret)
{
        const uint8_t *v;
        uint16_t len;

        if (!ls_control_get(c, tag, &v, &len))
                return 0;
        switch (len) {
        case 2:
                *ret = ls_get16(v);
                return 1;
        case 4:
                *ret = ls_get32(v);
                return 1;
        case 8:
                *ret = ls_get64(v);
                return 1;
        default:
                return 0;
        }
}

const char *ls_control_type_name(uint16_t type)
{
        static const char *const names[LS_CTL_MAX + 1] = {
                [LS_CTL_START] = "start",
                [LS_CTL_STOP] = "stop",
                [LS_CTL_UNCLEAN_SHUTDOWN] = "unclean-shutdown",
                [LS_CTL_LOSS] = "loss",
                [LS_CTL_HEARTBEAT] = "heartbeat",
                [LS_CTL_KEY_TRANSITION] = "key-transition",
                [LS_CTL_REVOCATION] = "revocation",
                [LS_CTL_CUSTODY] = "custody",
                [LS_CTL_CONFIG_CHANGE] = "config-change",
                [LS_CTL_CLOCK_STEP] = "clock-step",
                [LS_CTL_RETENTION] = "retention",
                [LS_CTL_EPOCH_CLOSE] = "epoch-close",
        };
        return type <= LS_CTL_MAX && names[type] ? names[type] : "unknown";
}

const char *ls_control_tag_name(uint16_t tag)
{
        const TagInfo *ti = tag_info(tag);
        return ti && ti->name ? ti->name : "unknown";
}

const char *ls_loss_cause_name(uint16_t cause)
{
        static const char *const names[] = {
                [LS_LOSS_UDP_OVERFLOW] = "udp-overflow",
                [LS_LOSS_RATE_LIMIT] = "rate-limit",
                [LS_LOSS_REJECTED_SOURCE] = "rejected-source",
                [LS_LOSS_DISK_FULL] = "disk-full",
                [LS_LOSS_TRUNCATED] = "truncated",
                [LS_LOSS_WAL_DAMAGE] = "wal-damage",
                [LS_LOSS_QUEUE_OVERFLOW] = "queue-overflow",
                [LS_LOSS_CONNECTION_REFUSED] = "connection-refused",
                [LS_LOSS_CONNECTION_CLOSED] = "connection-closed",
                [LS_LOSS_THROTTLED] = "throttled",
        };
        return cause < ELEMENTSOF(names) && names[cause] ? names[cause] : "unknown";
}

const char *ls_custody_action_name(uint16_t action)
{
        static const char *const names[] = {
                [LS_CUSTODY_EXPORT] = "export",
                [LS_CUSTODY_QUERY] = "query",
                [LS_CUSTODY_REINDEX] = "reindex",
                [LS_CUSTODY_VERIFY] = "verify",
                [LS_CUSTODY_CHECKPOINT] = "checkpoint",
        };
        return action < ELEMENTSOF(names) && names[action] ? names[action] : "unknown";
}

void ls_control_begin(LsControlBuilder *b, uint16_t type)
{
        ls_put16(b->buf, type);
        ls_put16(b->buf + 2, 0);
        b->len = LS_CONTROL_HDR_LEN;
        b->last_tag = 0;
        b->err = type == 0 ? -EINVAL : 0;
}

void ls_control_add(LsControlBuilder *b, uint16_t tag, const void *p, size_t n)
{
        if (b->err)
                return;
        if ((int) tag <= b->last_tag || n > UINT16_MAX) {
                b->err = -EINVAL;
                return;
        }
        if (sizeof(b->buf) - b->len < 4 + n) {
                b->err = -E2BIG;
                return;
        }
        ls_put16(b->buf + b->len, tag);
        ls_put16(b->buf + b->len + 2, (uint16_t) n);
        if (n)
                memcpy(b->buf + b->len + 4, p, n);
        b->len += 4 + n;
        b->last_tag = tag;
}

void ls_control_add_u16(LsControlBuilder *b, uint16_t tag, uint16_t v)
{
        uint8_t x[2];
        ls_put16(x, v);
        ls_control_add(b, tag, x, sizeof(x));
}

void ls_control_add_u32(LsControlBuilder *b, uint16_t tag, uint32_t v)
{
        uint8_t x[4];
        ls_put32(x, v);
        ls_control_add(b, tag, x, sizeof(x));
}

void ls_control_add_u64(LsControlBuilder *b, uint16_t tag, uint64_t v)
{
        uint8_t x[8];
        ls_put64(x, v);
        ls_control_add(b, tag, x, sizeof(x));
}

void ls_control_add_str(LsControlBuilder *b, uint16_t tag, const char *s)
{
        ls_control_add(b, tag, s, strlen(s));
}

int ls_control_end(LsControlBuilder *b, const uint8_t **ret_body, size_t *ret_len)
{
        LsControl c;
        int k;

        if (b->err)
                return b->err;
        k = ls_control_decode(&c, b->buf, b->len, NULL);
        if (k < 0)
                return k;
        *ret_body = b->buf;
        *ret_len = b->len;
        return 0;
}
