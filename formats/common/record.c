/* SPDX-License-Identifier: Apache-2.0 */
/* record.c: encode, decode and check records (SPEC §3) */
#include <errno.h>
#include <string.h>

#include "record.h"
#include "util.h"

size_t ls_record_size(const LsRecord *r)
{
        return LS_RECORD_FIXED_LEN + (size_t) r->identity_len + (size_t) r->body_len;
}

static int check_address(const LsRecord *r, size_t *off)
{
        size_t used;

        switch (r->family) {
        case LS_FAMILY_NONE:
                used = 0;
                break;
        case LS_FAMILY_IPV4:
                used = 4;
                break;
        case LS_FAMILY_IPV6:
                used = 16;
                break;
        case LS_FAMILY_UNIX:
                used = 12;
                break;
        default:
                *off = 21;
                return -EBADMSG;
        }
        if (!ls_all_zero(r->address + used, 16 - used)) {
                *off = 24 + used;
                return -EBADMSG;
        }
        if (r->family != LS_FAMILY_IPV4 && r->family != LS_FAMILY_IPV6 && r->port != 0) {
                *off = 22;
                return -EBADMSG;
        }
        return 0;
}

static int check_record(const LsRecord *r, size_t *off)
{
        int ok;

        if (r->identity_len > LS_MAX_IDENTITY) {
                *off = 48;
                return -E2BIG;
        }
        if (r->body_len > LS_MAX_BODY) {
                *off = 52;
                return -E2BIG;
        }
        if (r->type != LS_REC_SYSLOG && r->type != LS_REC_CONTROL) {
                *off = 1;
                return -EBADMSG;
        }
        if (r->flags & ~LS_RECF_KNOWN) {
                *off = 2;
                return -EBADMSG;
        }
        if (r->transport > LS_TRANSPORT_MAX) {
                *off = 20;
                return -EBADMSG;
        }
        switch (r->transport) {
        case LS_TRANSPORT_UDP:
        case LS_TRANSPORT_TCP:
                ok = r->family == LS_FAMILY_IPV4 || r->family == LS_FAMILY_IPV6;
                break;
        case LS_TRANSPORT_UNIX_DGRAM:
        case LS_TRANSPORT_UNIX_STREAM:
                ok = r->family == LS_FAMILY_UNIX || r->family == LS_FAMILY_NONE;
                break;
        default:
                ok = r->family == LS_FAMILY_NONE;
                break;
        }
        if (!ok) {
                *off = 21;
                return -EBADMSG;
        }
        int k = check_address(r, off);
        if (k < 0)
                return k;
        if (r->flags & LS_RECF_TRUNCATED ? r->orig_len <= r->body_len
                                         : r->orig_len != r->body_len) {
                *off = 44;
                return -EBADMSG;
        }
        if (r->type == LS_REC_CONTROL) {
                if (r->transport != LS_TRANSPORT_INTERNAL || r->conn_id != 0 ||
                    r->identity_len != 0 ||
                    (r->flags & (LS_RECF_PARSE_FAILED | LS_RECF_TRUNCATED))) {
                        *off = 20;
                        return -EBADMSG;
                }
        } else if (r->transport == LS_TRANSPORT_INTERNAL) {
                *off = 20;
                return -EBADMSG;
        }
        return 0;
}

int ls_record_check(const LsRecord *r)
{
        size_t off = 0;
        return check_record(r, &off);
}

int ls_record_encode(const LsRecord *r, uint8_t *out, size_t cap, size_t *ret_len)
{
        size_t n = ls_record_size(r);
        int k = ls_record_check(r);

        if (k < 0)
                return k;
        if (cap < n)
                return -ENOBUFS;
        out[0] = LS_RECORD_VERSION;
        out[1] = r->type;
        ls_put16(out + 2, r->flags);
        ls_put64(out + 4, r->seq);
        ls_put64(out + 12, r->time_ns);
        out[20] = r->transport;
        out[21] = r->family;
        ls_put16(out + 22, r->port);
        memcpy(out + 24, r->address, 16);
        ls_put32(out + 40, r->conn_id);
        ls_put32(out + 44, r->orig_len);
        ls_put16(out + 48, r->identity_len);
        ls_put16(out + 50, 0);
        ls_put32(out + 52, r->body_len);
        if (r->identity_len)
                memcpy(out + LS_RECORD_FIXED_LEN, r->identity, r->identity_len);
        if (r->body_len)
                memcpy(out + LS_RECORD_FIXED_LEN + r->identity_len, r->body, r->body_len);
        if (ret_len)
                *ret_len = n;
        return 0;
}

int ls_record_decode(LsRecord *ret, const uint8_t *p, size_t n, size_t *ret_offset)
{
        LsRecord r = {};
        size_t off = 0, dummy;
        int k;

        if (!ret_offset)
                ret_offset = &dummy;
        if (n < LS_RECORD_FIXED_LEN) {
                *ret_offset = n;
                return -ENODATA;
        }
        if (p[0] != LS_RECORD_VERSION) {
                *ret_offset = 0;
                return -EPROTONOSUPPORT;
        }
        r.type = p[1];
        r.flags = ls_get16(p + 2);
        r.seq = ls_get64(p + 4);
        r.time_ns = ls_get64(p + 12);
        r.transport = p[20];
        r.family = p[21];
        r.port = ls_get16(p + 22);
        memcpy(r.address, p + 24, 16);
        r.conn_id = ls_get32(p + 40);
        r.orig_len = ls_get32(p + 44);
        r.identity_len = ls_get16(p + 48);
        r.body_len = ls_get32(p + 52);
        if (ls_get16(p + 50) != 0) {
                *ret_offset = 50;
                return -EBADMSG;
        }
        k = check_record(&r, &off);
        if (k < 0) {
                *ret_offset = off;
                return k;
        }
        if (n - LS_RECORD_FIXED_LEN < (size_t) r.identity_len + r.body_len) {
                *ret_offset = n;
                return -ENODATA;
        }
        if (n != ls_record_size(&r)) {
                *ret_offset = ls_record_size(&r);
                return -EBADMSG;
        }
        r.identity = r.identity_len ? p + LS_RECORD_FIXED_LEN : NULL;
        r.body = p + LS_RECORD_FIXED_LEN + r.identity_len;
        *ret = r;
        return 0;
}

void ls_record_set_ucred(LsRecord *r, uint32_t pid, uint32_t uid, uint32_t gid)
{
        r->family = LS_FAMILY_UNIX;
        r->port = 0;
        memset(r->address, 0, sizeof(r->address));
        ls_put32(r->address, pid);
        ls_put32(r->address + 4, uid);
        ls_put32(r->address + 8, gid);
}

void ls_record_get_ucred(const LsRecord *r, uint32_t *pid, uint32_t *uid, uint32_t *gid)
{
        *pid = ls_get32(r->address);
        *uid = ls_get32(r->address + 4);
        *gid = ls_get32(r->address + 8);
}

const char *ls_transport_name(uint8_t transport)
{
        static const char *const names[] = {"internal", "udp", "tcp", "unix-dgram",
                                            "unix-stream"};
        return transport < ELEMENTSOF(names) ? names[transport] : "unknown";
}
