/* SPDX-License-Identifier: Apache-2.0 */
/* report.c: accumulate findings, archives, keys and events; print them as text and JSON */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "config.h"
#include "control.h"
#include "hash.h"
#include "keys.h"
#include "report.h"
#include "text.h"
#include "util.h"

void report_init(Report *r)
{
        memset(r, 0, sizeof(*r));
}

void report_free(Report *r)
{
        for (size_t i = 0; i < r->narchives; i++)
                free((char *) r->archives[i].file);
        for (size_t i = 0; i < r->nfindings; i++)
                free((char *) r->findings[i].file);
        for (size_t i = 0; i < r->nevents; i++) {
                free(r->events[i].file);
                free(r->events[i].body);
        }
        for (size_t i = 0; i < r->ncheckpoints; i++)
                free(r->checkpoints[i].file);
        free(r->archives);
        free(r->findings);
        free(r->events);
        free(r->checkpoints);
        free(r->keys);
}

void report_restart(Report *r)
{
        Report keep = *r;

        report_free(r);
        report_init(r);
        r->case_id = keep.case_id;
        r->examiner = keep.examiner;
        r->root_key_file = keep.root_key_file;
        memcpy(r->root_fingerprint, keep.root_fingerprint, sizeof(keep.root_fingerprint));
        memcpy(r->root_key_id, keep.root_key_id, sizeof(keep.root_key_id));
        r->started_ns = keep.started_ns;
}

static int grow(void *pp, size_t n, size_t elem)
{
        void **p = pp;
        /* Double at powers of two: n is the current count. */
        if (n && (n & (n - 1)))
                return 0;
        void *q = realloc(*p, (n ? 2 * n : 8) * elem);
        if (!q)
                return -ENOMEM;
        *p = q;
        return 0;
}

static char *dup_or_null(const char *s)
{
        return s ? strdup(s) : NULL;
}

int report_add_finding(Report *r, const LsFinding *f)
{
        r->findings_total++;
        if (r->nfindings >= REPORT_MAX_FINDINGS)
                return 0;
        if (grow(&r->findings, r->nfindings, sizeof(*r->findings)) < 0)
                return -ENOMEM;
        r->findings[r->nfindings] = *f;
        r->findings[r->nfindings].file = dup_or_null(f->file);
        r->nfindings++;
        return 0;
}

int report_add_archive(Report *r, const LsArchiveSummary *s)
{
        if (grow(&r->archives, r->narchives, sizeof(*r->archives)) < 0)
                return -ENOMEM;
        r->archives[r->narchives] = *s;
        r->archives[r->narchives].file = dup_or_null(s->file);
        r->narchives++;
        return 0;
}

int report_add_event(Report *r, const LsBatchHeader *h, const LsRecord *rec, const char *file)
{
        uint16_t type = rec->body_len >= 2 ? ls_get16(rec->body) : 0;
        Event *e;

        r->event_counts[type <= LS_CTL_MAX ? type : LS_CTL_MAX + 1]++;
        r->events_total++;
        /* Heartbeats are counted, not listed: there is one per idle interval. */
        if (type == LS_CTL_HEARTBEAT || r->nevents >= REPORT_MAX_EVENTS)
                return 0;
        if (grow(&r->events, r->nevents, sizeof(*r->events)) < 0)
                return -ENOMEM;
        e = &r->events[r->nevents];
        e->type = type;
        e->seq = rec->seq;
        e->batch_no = h->batch_no;
        e->time_ns = rec->time_ns;
        e->file = dup_or_null(file);
        e->body = malloc(rec->body_len ? rec->body_len : 1);
        if (!e->body)
                return -ENOMEM;
        memcpy(e->body, rec->body, rec->body_len);
        e->body_len = rec->body_len;
        r->nevents++;
        return 0;
}

int report_add_checkpoint(Report *r, const CheckpointCheck *c)
{
        if (grow(&r->checkpoints, r->ncheckpoints, sizeof(*r->checkpoints)) < 0)
                return -ENOMEM;
        r->checkpoints[r->ncheckpoints] = *c;
        r->checkpoints[r->ncheckpoints].file = dup_or_null(c->file);
        r->ncheckpoints++;
        return 0;
}

int report_set_keys(Report *r, const LsKeyInfo *keys, size_t n)
{
        r->keys = malloc(n * sizeof(*keys));
        if (!r->keys)
                return -ENOMEM;
        memcpy(r->keys, keys, n * sizeof(*keys));
        r->nkeys = n;
        return 0;
}

void report_raise_verdict(Report *r)
{
        for (size_t i = 0; i < r->nfindings; i++) {
                LsClass k = r->findings[i].cls;
                if (ls_class_rank(k) > ls_class_rank(r->verdict))
                        r->verdict = k;
        }
}

/* A JSON string for arbitrary bytes: valid UTF-8 as is, otherwise \xHH escapes as text. */
static json_t *json_bytes(const uint8_t *p, size_t n)
{
        json_t *s = json_stringn((const char *) p, n);
        char *buf;
        size_t o = 0;

        if (s && !memchr(p, 0, n))
                return s;
        json_decref(s);
        buf = malloc(4 * n + 1);
        if (!buf)
                return NULL;
        for (size_t i = 0; i < n; i++) {
                if (p[i] >= 0x20 && p[i] < 0x7f && p[i] != '\\')
                        buf[o++] = (char) p[i];
                else if (p[i] == '\\') {
                        buf[o++] = '\\';
                        buf[o++] = '\\';
                } else
                        o += (size_t) sprintf(buf + o, "\\x%02x", p[i]);
        }
        s = json_stringn(buf, o);
        free(buf);
        return s;
}

json_t *json_hex(const uint8_t *p, size_t n)
{
        char hex[2 * 64 + 1];

        if (n > 64)
                n = 64;
        ls_hex(hex, p, n);
        return json_string(hex);
}

static json_t *json_time(uint64_t ns)
{
        char t[64];

        if (ns == UINT64_MAX)
                return json_null();
        ls_time_format(t, sizeof(t), ns);
        return json_string(t);
}

json_t *json_u64(uint64_t v)
{
        /* LS_UNSET renders as null: "not known", never a huge number. */
        return v == LS_UNSET ? json_null() : json_integer((json_int_t) v);
}

static const char *tag_kind(uint16_t tag)
{
        switch (tag) {
        case LS_TAG_FIRST_TIME:
        case LS_TAG_LAST_TIME:
                return "time";
        case LS_TAG_TEXT:
        case LS_TAG_VERSION:
        case LS_TAG_CASE_ID:
        case LS_TAG_EXAMINER:
        case LS_TAG_FILTER:
        case LS_TAG_SOURCE:
        case LS_TAG_COMMAND:
                return "text";
        case LS_TAG_BOOT_ID:
        case LS_TAG_CONFIG_HASH:
        case LS_TAG_MANIFEST_HASH:
        case LS_TAG_PREV_HASH:
        case LS_TAG_SEAL_HASH:
                return "hex";
        case LS_TAG_CERT:
                return "cert";
        case LS_TAG_REVOCATION:
                return "revocation";
        case LS_TAG_CLOSE:
                return "close";
        case LS_TAG_CLOCK_DELTA:
                return "i64";
        case LS_TAG_CAUSE:
                return "cause";
        case LS_TAG_ACTION:
                return "action";
        default:
                return "int";
        }
}

/*
 * Control fields as a JSON object keyed by tag name. With `raw`, text values are the exact
 * bytes (json_stringn_nocheck: never dumped as JSON, for the text report to escape).
 */
static json_t *event_fields(const Event *e, int raw)
{
        json_t *o = json_object();
        LsControl c;
        const uint8_t *v;
        uint16_t len;

        if (ls_control_decode(&c, e->body, e->body_len, NULL) < 0)
                return o;
        for (uint16_t tag = 1; tag <= LS_TAG_MAX; tag++) {
                if (!ls_control_get(&c, tag, &v, &len))
                        continue;
                const char *k = tag_kind(tag), *name = ls_control_tag_name(tag);
                json_t *val;
                if (!strcmp(k, "time"))
                        val = json_time(ls_get64(v));
                else if (!strcmp(k, "text"))
                        val = raw ? json_stringn_nocheck((const char *) v, len) :
                                    json_bytes(v, len);
                else if (!strcmp(k, "hex"))
                        val = json_hex(v, len);
                else if (!strcmp(k, "i64"))
                        val = json_integer((json_int_t) (int64_t) ls_get64(v));
                else if (!strcmp(k, "cause"))
                        val = json_string(ls_loss_cause_name(ls_get16(v)));
                else if (!strcmp(k, "action"))
                        val = json_string(ls_custody_action_name(ls_get16(v)));
                else if (!strcmp(k, "cert")) {
                        LsCert cert;
                        val = json_object();
                        if (ls_cert_decode(&cert, v, len) == 0) {
                                json_object_set_new(val, "key_id", json_hex(cert.key_id, 8));
                                json_object_set_new(val, "epoch", json_u64(cert.epoch));
                                json_object_set_new(val, "valid_from_batch",
                                                    json_u64(cert.valid_from_batch));
                                json_object_set_new(val, "issuer",
                                                    json_hex(cert.issuer_key_id, 8));
                        }
                } else if (!strcmp(k, "revocation")) {
                        LsRevocation rv;
                        val = json_object();
                        if (ls_revocation_decode(&rv, v, len) == 0) {
                                json_object_set_new(val, "key_id",
                                                    json_hex(rv.revoked_key_id, 8));
                                json_object_set_new(val, "from_batch", json_u64(rv.from_batch));
                                json_object_set_new(val, "from_time", json_time(rv.from_time_ns));
                                json_object_set_new(
                                        val, "reason",
                                        raw ? json_stringn_nocheck(rv.reason, rv.reason_len) :
                                              json_bytes((const uint8_t *) rv.reason,
                                                         rv.reason_len));
                        }
                } else if (!strcmp(k, "close")) {
                        LsEpochClose cl;
                        val = json_object();
                        if (ls_close_decode(&cl, v, len) == 0) {
                                json_object_set_new(val, "key_id",
                                                    json_hex(cl.closed_key_id, 8));
                                json_object_set_new(val, "epoch", json_u64(cl.closed_epoch));
                                json_object_set_new(val, "last_batch", json_u64(cl.last_batch_no));
                                json_object_set_new(val, "tree_size", json_u64(cl.tree_size));
                                json_object_set_new(val, "max_time", json_time(cl.max_time_ns));
                                json_object_set_new(val, "issuer", json_hex(cl.issuer_key_id, 8));
                        }
                } else {
                        uint64_t x = 0;
                        ls_control_get_u64(&c, tag, &x);
                        val = json_u64(x);
                }
                json_object_set_new(o, name, val);
        }
        return o;
}

static const char *verdict_sentence(const Report *r)
{
        switch (r->verdict) {
        case LS_CLASS_INTACT:
                if (r->upto)
                        return "INTACT UP TO THE CHECKPOINT: every batch verified from the chain "
                               "start up to the authentic checkpoint given with --upto, which names "
                               "exactly that tree, signed by keys certified from the given root "
                               "key; later batches were not examined";
                return "INTACT: every batch verified from the chain start to a sealed end, "
                       "signed by keys certified from the given root key";
        case LS_CLASS_TAMPERED:
                return "TAMPERED OR CORRUPT: some evidence failed verification (see findings)";
        case LS_CLASS_IO:
                for (size_t i = 0; i < r->nfindings; i++)
                        if (r->findings[i].cls == LS_CLASS_IO && r->findings[i].check &&
                            strcmp(r->findings[i].check, "later format") == 0)
                                return "NOT JUDGED: part of the evidence was written by a later "
                                       "format of logseal and is authentic, but this "
                                       "logseal-verify cannot read it: upgrade logseal-verify. "
                                       "What precedes it was verified (see findings); nothing "
                                       "from there on was judged";
                return "NOT VERIFIED: usage or input/output error";
        case LS_CLASS_GAP:
                return "GAP: the evidence verifies, but records or archives are missing without "
                       "a signed explanation";
        case LS_CLASS_PARTIAL:
                return "PARTIAL: what is present verifies, but it does not cover the whole chain "
                       "or is not proven (it does not start at the chain start, ends in an open "
                       "archive, or its epoch is not bound; see findings)";
        case LS_CLASS_REVOKED:
                return "REVOKED: the evidence verifies, but some of it is signed by a key that a "
                       "root revocation covers, so it is not trusted (see findings)";
        default:
                return "";
        }
}

static const char *cp_result_name(CheckpointResult c)
{
        static const char *const names[] = {"consistent", "fork", "missing-tail", "unverified",
                                            "not-reached"};
        return names[c];
}

int report_write_json(const Report *r, FILE *f)
{
        json_t *o = json_object(), *a;
        char hex[64];
        int k;

        json_object_set_new(o, "schema", json_string(REPORT_SCHEMA));
        json_object_set_new(o, "tool", json_pack("{s:s,s:s}", "name", "logseal-verify", "version",
                                                 LOGSEAL_VERSION));
        json_object_set_new(o, "case", r->case_id ? json_string(r->case_id) : json_null());
        json_object_set_new(o, "examiner", r->examiner ? json_string(r->examiner) : json_null());
        json_object_set_new(o, "started", json_time(r->started_ns));
        json_object_set_new(o, "finished", json_time(r->finished_ns));
        ls_hex(hex, r->root_key_id, LS_KEY_ID_LEN);
        json_object_set_new(o, "trust_anchor",
                            json_pack("{s:s,s:s,s:s?}", "key_id", hex, "fingerprint",
                                      r->root_fingerprint, "file", r->root_key_file));
        json_object_set_new(o, "verdict",
                            json_pack("{s:s,s:i,s:s,s:s*}", "class", ls_class_name(r->verdict),
                                      "exit_code", (int) r->verdict, "summary",
                                      verdict_sentence(r), "limit",
                                      r->limit[0] ? r->limit : NULL));

        json_t *chain = json_object();
        json_object_set_new(chain, "chain_id",
                            r->have_chain ? json_hex(r->chain_id, LS_CHAIN_ID_LEN) : json_null());
        if (r->stats.batches_later || r->stats.later_unjudged) {
                json_object_set_new(chain, "later_format_batches",
                                    json_u64(r->stats.batches_later));
                json_object_set_new(chain, "later_format_not_judged",
                                    json_u64(r->stats.later_unjudged));
        }
        json_object_set_new(chain, "first_batch", json_u64(r->stats.first_batch));
        json_object_set_new(chain, "last_batch", json_u64(r->stats.last_batch));
        json_object_set_new(chain, "first_seq", json_u64(r->stats.first_seq));
        json_object_set_new(chain, "last_seq", json_u64(r->stats.last_seq));
        json_object_set_new(chain, "records_verified", json_u64(r->stats.records));
        json_object_set_new(chain, "batches_verified", json_u64(r->stats.batches_ok));
        json_object_set_new(chain, "batches_failed", json_u64(r->stats.batches_bad));
        json_object_set_new(chain, "archives", json_u64(r->stats.archives));
        json_object_set_new(chain, "archives_sealed", json_u64(r->stats.archives_sealed));
        json_object_set_new(chain, "merkle_roots_recomputed",
                            json_boolean(r->stats.tree_checked_all));
        json_object_set_new(o, "chain", chain);

        a = json_array();
        for (size_t i = 0; i < r->nkeys; i++) {
                const LsKeyInfo *key = &r->keys[i];
                char fpr[LS_FINGERPRINT_LEN];
                ls_fingerprint(fpr, key->pk);
                json_t *k2 = json_object();
                json_object_set_new(k2, "key_id", json_hex(key->key_id, 8));
                json_object_set_new(k2, "role", json_string(key->is_root ? "root" : "signing"));
                json_object_set_new(k2, "fingerprint", json_string(fpr));
                json_object_set_new(k2, "epoch", key->is_root ? json_null() : json_u64(key->epoch));
                json_object_set_new(k2, "valid_from_batch",
                                    key->is_root ? json_null() : json_u64(key->valid_from_batch));
                json_object_set_new(k2, "certified_by",
                                    i == 0 ? json_null() : json_hex(key->issuer_key_id, 8));
                json_object_set_new(k2, "batches_signed", json_u64(key->batches_signed));
                json_object_set_new(k2, "revoked", json_boolean(key->revoked));
                json_array_append_new(a, k2);
        }
        json_object_set_new(o, "keys", a);

        a = json_array();
        for (size_t i = 0; i < r->narchives; i++) {
                const LsArchiveSummary *s = &r->archives[i];
                json_t *x = json_object();
                json_object_set_new(x, "file", json_bytes((const uint8_t *) s->file,
                                                          strlen(s->file)));
                json_object_set_new(x, "size", json_u64(s->file_size));
                json_object_set_new(x, "sha256", json_hex(s->file_hash, LS_HASH_LEN));
                json_object_set_new(x, "archive_no",
                                    s->header_ok ? json_u64(s->archive_no) : json_null());
                json_object_set_new(x, "sealed", json_boolean(s->sealed));
                json_object_set_new(x, "batches_verified", json_u64(s->batches_ok));
                json_object_set_new(x, "batches_failed", json_u64(s->batches_bad));
                json_object_set_new(x, "records_verified", json_u64(s->records));
                json_object_set_new(x, "first_seq", json_u64(s->first_seq));
                json_object_set_new(x, "last_seq", json_u64(s->last_seq));
                json_object_set_new(x, "first_time", json_time(s->min_time_ns));
                json_object_set_new(x, "last_time",
                                    s->first_seq == LS_UNSET ? json_null() :
                                                               json_time(s->max_time_ns));
                json_object_set_new(x, "unverified_bytes", json_u64(s->bytes_unverified));
                if (s->dict_id)
                        json_object_set_new(x, "dictionary_id", json_u64(s->dict_id));
                json_array_append_new(a, x);
        }
        json_object_set_new(o, "archives", a);

        json_t *ev = json_object(), *counts = json_object();
        for (uint16_t t = 1; t <= LS_CTL_MAX; t++)
                json_object_set_new(counts, ls_control_type_name(t), json_u64(r->event_counts[t]));
        json_object_set_new(counts, "unknown", json_u64(r->event_counts[LS_CTL_MAX + 1]));
        json_object_set_new(ev, "counts", counts);
        a = json_array();
        for (size_t i = 0; i < r->nevents; i++) {
                const Event *e = &r->events[i];
                json_t *x = json_object();
                json_object_set_new(x, "type", json_string(ls_control_type_name(e->type)));
                json_object_set_new(x, "seq", json_u64(e->seq));
                json_object_set_new(x, "batch", json_u64(e->batch_no));
                json_object_set_new(x, "time", json_time(e->time_ns));
                json_object_set_new(x, "fields", event_fields(e, 0));
                json_array_append_new(a, x);
        }
        json_object_set_new(ev, "list", a);
        json_object_set_new(ev, "listed_all", json_boolean(r->nevents + r->event_counts[LS_CTL_HEARTBEAT] == r->events_total));
        json_object_set_new(o, "events", ev);

        a = json_array();
        for (size_t i = 0; i < r->ncheckpoints; i++) {
                const CheckpointCheck *c = &r->checkpoints[i];
                json_array_append_new(
                        a, json_pack("{s:s,s:o,s:o,s:s,s:o,s:s}", "file", c->file, "tree_size",
                                     json_u64(c->tree_size), "batch", json_u64(c->batch_no),
                                     "result", cp_result_name(c->result), "missing_records",
                                     json_u64(c->missing_records), "detail", c->detail));
        }
        json_object_set_new(o, "checkpoints", a);

        a = json_array();
        for (size_t i = 0; i < r->nfindings; i++) {
                const LsFinding *x = &r->findings[i];
                json_t *j = json_object();
                json_object_set_new(j, "class", json_string(ls_class_name(x->cls)));
                json_object_set_new(j, "check", json_string(x->check ? x->check : ""));
                json_object_set_new(j, "code", json_string(x->code ? strerrorname_np(-x->code) ?
                                                                      strerrorname_np(-x->code) :
                                                                      "unknown" :
                                                                      "none"));
                json_object_set_new(j, "file", x->file ? json_bytes((const uint8_t *) x->file,
                                                                    strlen(x->file)) :
                                                         json_null());
                json_object_set_new(j, "offset", json_u64(x->offset));
                json_object_set_new(j, "archive", json_u64(x->archive_no));
                json_object_set_new(j, "batch", json_u64(x->batch_no));
                json_object_set_new(j, "seq", json_u64(x->seq));
                json_object_set_new(j, "detail", json_bytes((const uint8_t *) x->detail,
                                                            strlen(x->detail)));
                json_array_append_new(a, j);
        }
        json_object_set_new(o, "findings", a);
        json_object_set_new(o, "findings_total", json_u64(r->findings_total));

        k = json_dumpf(o, f, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
        fputc('\n', f);
        json_decref(o);
        return k < 0 ? -EIO : 0;
}

/* A field value in the text report: strings escaped (text.h) in quotes, the rest as JSON. */
static void text_value(FILE *f, json_t *val)
{
        const char *key;
        json_t *v;
        size_t i = 0;

        if (json_is_string(val)) {
                fputc('"', f);
                text_write_quoted(f, (const uint8_t *) json_string_value(val),
                                  json_string_length(val));
                fputc('"', f);
        } else if (json_is_object(val)) {
                fputc('{', f);
                json_object_foreach(val, key, v)
                {
                        fprintf(f, "%s%s=", i++ ? ", " : "", key);
                        text_value(f, v);
                }
                fputc('}', f);
        } else {
                char *s = json_dumps(val, JSON_ENCODE_ANY | JSON_COMPACT);
                fputs(s ? s : "?", f);
                free(s);
        }
}

static void text_event(FILE *f, const Event *e)
{
        json_t *fields = event_fields(e, 1);
        const char *key;
        json_t *val;
        char t[64];

        ls_time_format(t, sizeof(t), e->time_ns);
        fprintf(f, "  %-17s seq %-10" PRIu64 " batch %-8" PRIu64 " %s", ls_control_type_name(e->type),
                e->seq, e->batch_no, t);
        json_object_foreach(fields, key, val)
        {
                fprintf(f, " %s=", key);
                text_value(f, val);
        }
        fputc('\n', f);
        json_decref(fields);
}

void text_write_quoted(FILE *f, const uint8_t *p, size_t n)
{
        size_t i = 0;

        /* ls_text_write never emits '"' for anything but a '"' of the text. */
        while (i < n) {
                const uint8_t *q = memchr(p + i, '"', n - i);
                size_t k = q ? (size_t) (q - p) - i : n - i;
                ls_text_write(f, p + i, k);
                i += k;
                if (q) {
                        fputs("\\x22", f);
                        i++;
                }
        }
}

/* label, then s escaped (text.h), then a newline. */
static void text_line(FILE *f, const char *label, const char *s)
{
        fputs(label, f);
        ls_text_write(f, (const uint8_t *) s, strlen(s));
        fputc('\n', f);
}

void report_write_text_head(const Report *r, FILE *f, const char *title)
{
        char hex[64], t1[64], t2[64];

        fprintf(f, "logseal-verify %s — %s\n", LOGSEAL_VERSION, title);
        ls_time_format(t1, sizeof(t1), r->started_ns);
        ls_time_format(t2, sizeof(t2), r->finished_ns);
        fprintf(f, "Started:      %s\nFinished:     %s\n", t1, t2);
        if (r->case_id)
                text_line(f, "Case:         ", r->case_id);
        if (r->examiner)
                text_line(f, "Examiner:     ", r->examiner);
        ls_hex(hex, r->root_key_id, LS_KEY_ID_LEN);
        fprintf(f, "Trust anchor: root key %s (", hex);
        if (r->root_key_file)
                ls_text_write(f, (const uint8_t *) r->root_key_file, strlen(r->root_key_file));
        else
                fputc('-', f);
        fprintf(f, ")\n              fingerprint %s\n", r->root_fingerprint);
}

void report_write_text(const Report *r, FILE *f)
{
        char hex[64], t1[64], t2[64];

        report_write_text_head(r, f, "chain-of-custody verification report");
        if (r->have_chain) {
                ls_hex(hex, r->chain_id, LS_CHAIN_ID_LEN);
                fprintf(f, "Chain:        %s\n", hex);
        }
        fprintf(f, "\nVERDICT: %s (exit %d)\n", verdict_sentence(r), (int) r->verdict);
        if (r->limit[0])
                fprintf(f, "  LIMIT: %s\n", r->limit);
        fprintf(f, "  batches verified %" PRIu64 ", failed %" PRIu64 "; records verified %" PRIu64
                   "; archives %" PRIu64 " (%" PRIu64 " sealed)\n",
                r->stats.batches_ok, r->stats.batches_bad, r->stats.records, r->stats.archives,
                r->stats.archives_sealed);
        if (r->stats.batches_later || r->stats.later_unjudged)
                fprintf(f, "  of a later format (SPEC §1.1): %" PRIu64 " batches authentic by their "
                           "envelope (links and keys checked, content NOT judged), %" PRIu64
                           " structures NOT judged (keys certified where this verifier cannot "
                           "read)\n",
                        r->stats.batches_later, r->stats.later_unjudged);
        if (r->stats.first_batch != LS_UNSET)
                fprintf(f, "  batches %" PRIu64 "..%" PRIu64 ", sequence %" PRIu64 "..%" PRIu64
                           "%s\n",
                        r->stats.first_batch, r->stats.last_batch, r->stats.first_seq,
                        r->stats.last_seq,
                        r->stats.tree_checked_all ? ", every Merkle root recomputed" : "");

        fprintf(f, "\nKeys (%zu):\n", r->nkeys);
        for (size_t i = 0; i < r->nkeys; i++) {
                const LsKeyInfo *k = &r->keys[i];
                char iss[32];
                ls_hex(hex, k->key_id, 8);
                ls_hex(iss, k->issuer_key_id, 8);
                if (k->is_root)
                        fprintf(f, "  %s root%s%s\n", hex, i ? " certified by " : " (trust anchor)",
                                i ? iss : "");
                else
                        fprintf(f, "  %s signing epoch %" PRIu64 " from batch %" PRIu64
                                   ", certified by %s, signed %" PRIu64 " batches%s\n",
                                hex, k->epoch, k->valid_from_batch, iss, k->batches_signed,
                                k->revoked ? ", REVOKED" : "");
        }

        fprintf(f, "\nArchives (%zu):\n", r->narchives);
        for (size_t i = 0; i < r->narchives; i++) {
                const LsArchiveSummary *s = &r->archives[i];
                char h[2 * LS_HASH_LEN + 1];
                ls_hex(h, s->file_hash, LS_HASH_LEN);
                fprintf(f, "  ");
                ls_text_write(f, (const uint8_t *) s->file, strlen(s->file));
                fprintf(f, "\n    sha256 %s, %" PRIu64 " bytes\n", h, s->file_size);
                if (s->header_ok)
                        fprintf(f, "    archive %" PRIu64 ", %s, ", s->archive_no,
                                s->sealed ? "sealed" : "NOT sealed");
                else
                        fprintf(f, "    archive header unreadable, ");
                fprintf(f, "batches verified %" PRIu64 ", failed %" PRIu64, s->batches_ok,
                        s->batches_bad);
                if (s->first_seq != LS_UNSET) {
                        ls_time_format(t1, sizeof(t1), s->min_time_ns);
                        ls_time_format(t2, sizeof(t2), s->max_time_ns);
                        fprintf(f, ", seq %" PRIu64 "..%" PRIu64 ", %s .. %s", s->first_seq,
                                s->last_seq, t1, t2);
                }
                if (s->bytes_unverified)
                        fprintf(f, ", %" PRIu64 " bytes NOT verified", s->bytes_unverified);
                fputc('\n', f);
        }

        fprintf(f, "\nEvents recorded in the chain (%" PRIu64 "):\n", r->events_total);
        for (uint16_t t = 1; t <= LS_CTL_MAX + 1; t++)
                if (r->event_counts[t])
                        fprintf(f, "  %s: %" PRIu64 "\n",
                                t <= LS_CTL_MAX ? ls_control_type_name(t) : "unknown",
                                r->event_counts[t]);
        for (size_t i = 0; i < r->nevents; i++)
                text_event(f, &r->events[i]);

        if (r->ncheckpoints) {
                fprintf(f, "\nCheckpoints (%zu):\n", r->ncheckpoints);
                for (size_t i = 0; i < r->ncheckpoints; i++) {
                        const CheckpointCheck *c = &r->checkpoints[i];
                        fputs("  ", f);
                        ls_text_write(f, (const uint8_t *) c->file, strlen(c->file));
                        fprintf(f, ": tree size %" PRIu64 ": %s. ", c->tree_size,
                                cp_result_name(c->result));
                        text_line(f, "", c->detail);
                }
        }

        report_write_findings_text(r, f);
}

void report_write_findings_text(const Report *r, FILE *f)
{
        fprintf(f, "\nFindings (%" PRIu64 "%s):\n", r->findings_total,
                r->findings_total > r->nfindings ? ", first ones listed" : "");
        for (size_t i = 0; i < r->nfindings; i++) {
                const LsFinding *x = &r->findings[i];
                fprintf(f, "  [%s] ", ls_class_name(x->cls));
                if (x->file) {
                        ls_text_write(f, (const uint8_t *) x->file, strlen(x->file));
                        fputs(": ", f);
                }
                if (x->archive_no != LS_UNSET)
                        fprintf(f, "archive %" PRIu64 ", ", x->archive_no);
                if (x->offset != LS_UNSET)
                        fprintf(f, "offset %" PRIu64 ", ", x->offset);
                if (x->batch_no != LS_UNSET)
                        fprintf(f, "batch %" PRIu64 ", ", x->batch_no);
                if (x->seq != LS_UNSET)
                        fprintf(f, "record %" PRIu64 ", ", x->seq);
                fprintf(f, "%s: ", x->check);
                ls_text_write(f, (const uint8_t *) x->detail, strlen(x->detail));
                fputc('\n', f);
        }
        if (!r->findings_total)
                fprintf(f, "  none\n");
}
