/* SPDX-License-Identifier: Apache-2.0 */
/* dump.c: --dump: the records of verified batches (or a bundle's verified disclosed records)
 * on stdout, raw or as JSON lines */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "control.h"
#include "text.h"
#include "util.h"
#include "verify.h"

/* A record as JSON: the --dump=json line, and a disclosed record of a bundle report. */
json_t *record_json(const LsRecord *rec)
{
        json_t *o = json_object();
        char t[64];
        ls_time_format(t, sizeof(t), rec->time_ns);
        json_object_set_new(o, "seq", json_integer((json_int_t) rec->seq));
        json_object_set_new(o, "time", json_string(t));
        json_object_set_new(o, "type", json_string(rec->type == LS_REC_SYSLOG ? "syslog" :
                                                                               "control"));
        json_object_set_new(o, "transport", json_string(ls_transport_name(rec->transport)));
        if (rec->family == LS_FAMILY_IPV4 || rec->family == LS_FAMILY_IPV6) {
                char a[64];
                inet_ntop(rec->family == LS_FAMILY_IPV4 ? AF_INET : AF_INET6, rec->address, a,
                          sizeof(a));
                json_object_set_new(o, "peer", json_string(a));
                json_object_set_new(o, "port", json_integer(rec->port));
        } else if (rec->family == LS_FAMILY_UNIX) {
                uint32_t pid, uid, gid;
                ls_record_get_ucred(rec, &pid, &uid, &gid);
                json_object_set_new(o, "pid", json_integer(pid));
                json_object_set_new(o, "uid", json_integer(uid));
                json_object_set_new(o, "gid", json_integer(gid));
        }
        if (rec->conn_id)
                json_object_set_new(o, "connection", json_integer(rec->conn_id));
        if (rec->identity_len)
                json_object_set_new(o, "sender_identity",
                                    json_stringn((const char *) rec->identity, rec->identity_len) ?:
                                            json_string("(not UTF-8)"));
        json_t *flags = json_array();
        if (rec->flags & LS_RECF_PARSE_FAILED)
                json_array_append_new(flags, json_string("parse-failed"));
        if (rec->flags & LS_RECF_TRUNCATED)
                json_array_append_new(flags, json_string("truncated"));
        if (rec->flags & LS_RECF_RECOVERED)
                json_array_append_new(flags, json_string("recovered"));
        json_object_set_new(o, "flags", flags);
        if (rec->flags & LS_RECF_TRUNCATED)
                json_object_set_new(o, "original_length", json_integer(rec->orig_len));
        if (rec->type == LS_REC_SYSLOG) {
                json_t *s = json_stringn((const char *) rec->body, rec->body_len);
                if (s && !memchr(rec->body, 0, rec->body_len)) {
                        json_object_set_new(o, "message", s);
                } else {
                        char *b64 = malloc(ls_base64_len(rec->body_len));
                        json_decref(s);
                        if (b64) {
                                ls_base64(b64, rec->body, rec->body_len);
                                json_object_set_new(o, "message_base64", json_string(b64));
                                free(b64);
                        }
                }
        } else {
                json_object_set_new(o, "control",
                                    json_string(ls_control_type_name(
                                            rec->body_len >= 2 ? ls_get16(rec->body) : 0)));
        }
        return o;
}

void dump_record(Ctx *c, const LsRecord *rec)
{
        if (rec->time_ns < c->dump_from || rec->time_ns > c->dump_to || rec->seq < c->dump_seq_from ||
            rec->seq > c->dump_seq_to)
                return;
        if (c->dump == DUMP_RAW || c->dump == DUMP_TEXT) {
                if (rec->type != LS_REC_SYSLOG)
                        return;
                if (c->dump == DUMP_RAW)
                        fwrite(rec->body, 1, rec->body_len, stdout);
                else
                        ls_text_write(stdout, rec->body, rec->body_len);
                fputc('\n', stdout);
                return;
        }
        json_t *o = record_json(rec);
        json_dumpf(o, stdout, JSON_COMPACT | JSON_PRESERVE_ORDER);
        fputc('\n', stdout);
        json_decref(o);
}
