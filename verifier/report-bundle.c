/* SPDX-License-Identifier: Apache-2.0 */
/* report-bundle.c: a bundle's verification report, as text for people and as the archive
 * report's JSON with a "bundle" object */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "config.h"
#include "control.h"
#include "hash.h"
#include "text.h"
#include "util.h"
#include "verify.h"

static const char *file_status_name(LsBundleFileStatus s)
{
        switch (s) {
        case LS_BUNDLE_FILE_OK:
                return "ok";
        case LS_BUNDLE_FILE_MISMATCH:
                return "mismatch";
        case LS_BUNDLE_FILE_MISSING:
                return "missing";
        case LS_BUNDLE_FILE_UNLISTED:
                return "unlisted";
        case LS_BUNDLE_FILE_NOT_REGULAR:
                return "not-regular";
        case LS_BUNDLE_FILE_UNREADABLE:
                return "unreadable";
        case LS_BUNDLE_FILE_MANIFEST:
                return "manifest";
        }
        return "unknown";
}

/* JSON text of bytes that are not UTF-8: printable ASCII with \xHH escapes (the schema's
 * rendering; text reports use text.h). */
static void json_escape_into(char *out, size_t cap, const uint8_t *p, size_t n)
{
        size_t o = 0;

        for (size_t i = 0; i < n && o + 5 < cap; i++) {
                if (p[i] >= 0x20 && p[i] < 0x7f && p[i] != '\\' && p[i] != '"')
                        out[o++] = (char) p[i];
                else
                        o += (size_t) snprintf(out + o, cap - o, "\\x%02x", p[i]);
        }
        out[MIN(o, cap - 1)] = 0;
}

/* JSON text of arbitrary bytes: valid UTF-8 as is, otherwise \xHH escapes. */
static json_t *json_text(const uint8_t *p, size_t n)
{
        json_t *s = json_stringn((const char *) p, n);
        _cleanup_free_ char *buf = NULL;

        if (s && !memchr(p, 0, n))
                return s;
        json_decref(s);
        buf = malloc(4 * n + 1);
        if (!buf)
                return json_null();
        json_escape_into(buf, 4 * n + 1, p, n);
        return json_string(buf);
}

static json_t *json_opt_text(const LsBundleText *t)
{
        return t->present ? json_text(t->p, t->len) : json_null();
}

/* A case field for a quoted value of the text report (text_write_quoted), into a buffer;
 * cut at a character, never inside an escape, when it does not fit. */
static void quoted_into(char *out, size_t cap, const uint8_t *p, size_t n)
{
        _cleanup_free_ char *buf = NULL;
        size_t len = 0, k;
        FILE *m = open_memstream(&buf, &len);

        if (!m) {
                snprintf(out, cap, "?");
                return;
        }
        text_write_quoted(m, p, n);
        if (fclose(m) != 0 || !buf) {
                snprintf(out, cap, "?");
                return;
        }
        if (len < cap) {
                memcpy(out, buf, len + 1);
                return;
        }
        k = cap - 4; /* room for "..." */
        while (k > 0 && ((uint8_t) buf[k] & 0xc0) == 0x80)
                k--;
        for (size_t i = k > 6 ? k - 6 : 0; i < k; i++)
                if (buf[i] == '\\') {
                        k = i;
                        break;
                }
        memcpy(out, buf, k);
        memcpy(out + k, "...", 4);
}

/* Root first: the keys from the trust anchor down to the checkpoint's signing key. */
static size_t cert_path(Bundle *b, const LsKeyInfo *path[], size_t max)
{
        const LsKeyInfo *keys;
        size_t nkeys = ls_bundle_reader_keys(b->reader, &keys), n = 0;
        const uint8_t *want;

        if (!b->sum.have_signer)
                return 0;
        want = b->sum.signer.key_id;
        while (n < max) {
                const LsKeyInfo *k = NULL;
                for (size_t i = 0; i < nkeys; i++)
                        if (memcmp(keys[i].key_id, want, LS_KEY_ID_LEN) == 0)
                                k = &keys[i];
                if (!k)
                        break;
                path[n++] = k;
                if (k == &keys[0])
                        break; /* the trust anchor */
                want = k->issuer_key_id;
        }
        for (size_t i = 0; i < n / 2; i++) {
                const LsKeyInfo *t = path[i];
                path[i] = path[n - 1 - i];
                path[n - 1 - i] = t;
        }
        return n;
}

/* "2, 5 and 7" (at most the first 8, then "…") */
static void seq_list(Bundle *b, char *out, size_t cap)
{
        size_t o = 0;
        LsRecord rec;

        out[0] = 0;
        for (size_t i = 0; i < b->nrecs && o < cap; i++) {
                if (ls_record_decode(&rec, b->recs[i].bytes, b->recs[i].len, NULL) < 0)
                        continue;
                if (i == 8) {
                        o += (size_t) snprintf(out + o, cap - o, ", …");
                        break;
                }
                o += (size_t) snprintf(out + o, cap - o, "%s%" PRIu64,
                                       i == 0 ? "" : i + 1 == b->nrecs ? " and " : ", ", rec.seq);
        }
}

/* "README.txt, report.txt and x.txt" (at most the first 6, then how many more) */
static void unauthenticated_list(Bundle *b, char *out, size_t cap)
{
        size_t o = 0, n = 0, total = 0;
        char name[65];                  /* long names are cut: the file list has them whole */

        out[0] = 0;
        for (size_t i = 0; i < b->nfiles; i++)
                total += !b->files[i].authenticated;
        for (size_t i = 0; i < b->nfiles && o < cap; i++) {
                if (b->files[i].authenticated)
                        continue;
                if (n == 6) {
                        o += (size_t) snprintf(out + o, cap - o, " and %zu more", total - n);
                        break;
                }
                quoted_into(name, sizeof(name), (const uint8_t *) b->files[i].name,
                            strlen(b->files[i].name));
                o += (size_t) snprintf(out + o, cap - o, "%s%s",
                                       n == 0 ? "" : n + 1 == total ? " and " : ", ", name);
                n++;
        }
}

/* The sentence that says which files of the bundle prove nothing ("" when none). */
static void bundle_unauthenticated(Bundle *b, char *out, size_t cap)
{
        char names[512];

        out[0] = 0;
        if (!b->sum.files_not_authenticated)
                return;
        unauthenticated_list(b, names, sizeof(names));
        snprintf(out, cap,
                 " %s %s %s NOT AUTHENTICATED: not evidence, covered by no signature; %s may "
                 "have been rewritten or added along with the manifest, and %s nothing.",
                 b->sum.files_not_authenticated == 1 ? "The file" : "The files", names,
                 b->sum.files_not_authenticated == 1 ? "is" : "are",
                 b->sum.files_not_authenticated == 1 ? "it" : "they",
                 b->sum.files_not_authenticated == 1 ? "proves" : "prove");
}

/* What the bundle proves, in plain words (or why it proves nothing). */
static void bundle_proves(Bundle *b, LsClass verdict, char *out, size_t cap)
{
        const LsBundleSummary *s = &b->sum;
        char chain[2 * LS_CHAIN_ID_LEN + 1], key[2 * LS_KEY_ID_LEN + 1],
                root[2 * LS_KEY_ID_LEN + 1], seqs[256], cs[600], ex[600], fl[600], other[1024];

        bundle_unauthenticated(b, other, sizeof(other));
        if (verdict != LS_CLASS_INTACT) {
                snprintf(out, cap, "%s%s",
                         verdict == LS_CLASS_IO ?
                                 "Nothing: the bundle could not be verified (see the findings)." :
                                 "Nothing as a whole: the bundle failed verification (see the "
                                 "findings). Records listed below verified one by one against an "
                                 "authenticated checkpoint; the export they belong to did not.",
                         other);
                return;
        }
        ls_hex(chain, s->checkpoint.chain_id, LS_CHAIN_ID_LEN);
        ls_hex(key, s->signer.key_id, LS_KEY_ID_LEN);
        ls_hex(root, b->c->report.root_key_id, LS_KEY_ID_LEN);
        seq_list(b, seqs, sizeof(seqs));
        quoted_into(cs, sizeof(cs), s->case_id.p, s->case_id.len);
        quoted_into(ex, sizeof(ex), s->examiner.p, s->examiner.len);
        quoted_into(fl, sizeof(fl), s->filter.p, s->filter.len);
        snprintf(out, cap,
                 "The %" PRIu32 " disclosed record%s %s, byte for byte, record%s %s of log chain %s. "
                 "The appliance key %s (epoch %" PRIu64 "), certified from the root key %s, "
                 "signed the chain's tree of %" PRIu64 " records at batch %" PRIu64
                 ", and each disclosed record is in that tree. The chain also recorded this "
                 "export as record %" PRIu64 " (case \"%s\", examiner \"%s\", filter \"%s\", %" PRIu64
                 " record%s), and the disclosed set is exactly the exported one. The bundle shows "
                 "none of the chain's other %" PRIu64 " records, and nothing after this "
                 "checkpoint.%s",
                 s->header.record_count, s->header.record_count == 1 ? "" : "s",
                 s->header.record_count == 1 ? "is" : "are",
                 s->header.record_count == 1 ? "" : "s", seqs, chain, key, s->signer.epoch, root,
                 s->checkpoint.tree_size, s->checkpoint.batch_no, s->custody_seq,
                 s->case_id.present ? cs : "-", s->examiner.present ? ex : "-",
                 s->filter.present ? fl : "-", s->count, s->count == 1 ? "" : "s",
                 s->checkpoint.tree_size - s->header.record_count - 1, other);
}

static const char *bundle_verdict_sentence(LsClass c)
{
        switch (c) {
        case LS_CLASS_INTACT:
                return "INTACT: every disclosed record, the checkpoint and the custody record "
                       "verified from the given root key";
        case LS_CLASS_TAMPERED:
                return "TAMPERED OR CORRUPT: the bundle failed verification (see findings)";
        case LS_CLASS_PARTIAL:
                return "NOT PROVEN: every check passed, but nothing proves the checkpoint was "
                       "signed before its key's epoch ended (see findings)";
        case LS_CLASS_REVOKED:
                return "REVOKED: the bundle verifies, but its checkpoint is signed by a key a root "
                       "revocation covers (see findings)";
        default:
                return "NOT VERIFIED: usage or input/output error";
        }
}

static void text_record(FILE *f, const LsRecord *rec)
{
        char t[64], a[64];

        ls_time_format(t, sizeof(t), rec->time_ns);
        fprintf(f, "  record %" PRIu64 "  %s  %s", rec->seq, t, ls_transport_name(rec->transport));
        if (rec->family == LS_FAMILY_IPV4 || rec->family == LS_FAMILY_IPV6) {
                inet_ntop(rec->family == LS_FAMILY_IPV4 ? AF_INET : AF_INET6, rec->address, a,
                          sizeof(a));
                fprintf(f, rec->family == LS_FAMILY_IPV6 ? " from [%s]:%u" : " from %s:%u", a,
                        rec->port);
        } else if (rec->family == LS_FAMILY_UNIX) {
                uint32_t pid, uid, gid;
                ls_record_get_ucred(rec, &pid, &uid, &gid);
                fprintf(f, " from pid %" PRIu32 " uid %" PRIu32 " gid %" PRIu32, pid, uid, gid);
        }
        if (rec->conn_id)
                fprintf(f, " connection %" PRIu32, rec->conn_id);
        if (rec->flags & LS_RECF_PARSE_FAILED)
                fputs(", parse failed", f);
        if (rec->flags & LS_RECF_TRUNCATED)
                fprintf(f, ", TRUNCATED (received %" PRIu32 " bytes)", rec->orig_len);
        if (rec->flags & LS_RECF_RECOVERED)
                fputs(", recovered", f);
        fputc('\n', f);
        if (rec->identity_len) {
                fputs("    sender: ", f);
                ls_text_write(f, rec->identity, rec->identity_len);
                fputc('\n', f);
        }
        if (rec->type == LS_REC_SYSLOG) {
                fputs("    ", f);
                ls_text_write(f, rec->body, rec->body_len);
                fputc('\n', f);
        } else {
                fprintf(f, "    (control record: %s)\n",
                        ls_control_type_name(rec->body_len >= 2 ? ls_get16(rec->body) : 0));
        }
}

/* Word-wrapped paragraph, indented. */
static void text_paragraph(FILE *f, const char *s, size_t indent, size_t width)
{
        size_t col = 0;

        while (*s) {
                size_t w = strcspn(s, " ");
                if (col && col + 1 + w > width) {
                        fputc('\n', f);
                        col = 0;
                }
                if (!col) {
                        fprintf(f, "%*s", (int) indent, "");
                        col = indent;
                } else {
                        fputc(' ', f);
                        col++;
                }
                fwrite(s, 1, w, f);
                col += w;
                s += w;
                while (*s == ' ')
                        s++;
        }
        if (col)
                fputc('\n', f);
}

static void text_bundle_text(FILE *f, const char *label, const LsBundleText *t)
{
        if (!t->present)
                return;
        fprintf(f, "  %-10s ", label);
        ls_text_write(f, t->p, t->len);
        fputc('\n', f);
}

void bundle_write_text(Bundle *b, FILE *f)
{
        const Report *r = &b->c->report;
        const LsBundleSummary *s = &b->sum;
        char hex[2 * LS_HASH_LEN + 1], t1[64], proves[4096];
        const LsKeyInfo *path[64];
        size_t npath;

        report_write_text_head(r, f, "evidence bundle verification report");
        fputs("Bundle:       ", f);
        ls_text_write(f, (const uint8_t *) b->path, strlen(b->path));
        fprintf(f, " (%s)\n", b->kind == BUNDLE_TAR ? "tar archive" : "directory");
        if (r->have_chain) {
                ls_hex(hex, r->chain_id, LS_CHAIN_ID_LEN);
                fprintf(f, "Chain:        %s\n", hex);
        }

        fprintf(f, "\nVERDICT: %s (exit %d)\n", bundle_verdict_sentence(r->verdict),
                (int) r->verdict);
        if (r->limit[0])
                fprintf(f, "  LIMIT: %s\n", r->limit);
        fprintf(f, "  disclosed records verified %" PRIu64 " of %" PRIu32
                   "; custody record %s; checkpoint %s\n",
                s->records_verified, s->header.record_count,
                s->custody_ok ? "verified" : "NOT verified",
                s->checkpoint_verified ? "verified" : "NOT verified");
        fputs("\nWhat this bundle proves:\n", f);
        bundle_proves(b, r->verdict, proves, sizeof(proves));
        text_paragraph(f, proves, 2, 78);

        fputs("\nCheckpoint (checkpoint.txt):\n", f);
        if (s->checkpoint_parsed) {
                ls_hex(hex, s->checkpoint.chain_id, LS_CHAIN_ID_LEN);
                fprintf(f, "  chain %s, tree size %" PRIu64 ", batch %" PRIu64 "\n", hex,
                        s->checkpoint.tree_size, s->checkpoint.batch_no);
                ls_hex(hex, s->checkpoint.root, LS_HASH_LEN);
                fprintf(f, "  root %s\n", hex);
                if (s->have_signer) {
                        ls_hex(hex, s->signer.key_id, LS_KEY_ID_LEN);
                        fprintf(f, "  signed by key %s (epoch %" PRIu64 ", from batch %" PRIu64
                                   "): %s\n",
                                hex, s->signer.epoch, s->signer.valid_from_batch,
                                s->checkpoint_verified ? "signature verified, key may sign this "
                                                         "batch" :
                                                         "NOT allowed to sign this batch");
                } else {
                        fputs("  signed by no key certified from the root key\n", f);
                }
                npath = cert_path(b, path, ELEMENTSOF(path));
                if (npath) {
                        fputs("  certification path:", f);
                        for (size_t i = 0; i < npath; i++) {
                                ls_hex(hex, path[i]->key_id, LS_KEY_ID_LEN);
                                if (path[i]->is_root)
                                        fprintf(f, "%s root %s%s", i ? " ->" : "", hex,
                                                i == 0 ? " (trust anchor)" : "");
                                else
                                        fprintf(f, "%s key %s (epoch %" PRIu64 ")", i ? " ->" : "",
                                                hex, path[i]->epoch);
                        }
                        fputc('\n', f);
                }
        } else {
                fputs("  not readable (see findings)\n", f);
        }

        fputs("\nCustody record", f);
        if (s->have_custody) {
                ls_time_format(t1, sizeof(t1), s->custody_time_ns);
                fprintf(f, " (record %" PRIu64 ", %s): %s\n", s->custody_seq, t1,
                        s->custody_ok ? "verified" : "NOT verified");
                fprintf(f, "  %-10s %s\n", "action",
                        s->have_action ? ls_custody_action_name(s->action) : "-");
                text_bundle_text(f, "case", &s->case_id);
                text_bundle_text(f, "examiner", &s->examiner);
                text_bundle_text(f, "filter", &s->filter);
                text_bundle_text(f, "text", &s->text);
                if (s->have_count)
                        fprintf(f, "  %-10s %" PRIu64 " (the bundle discloses %" PRIu32 ")\n",
                                "count", s->count, s->header.record_count);
                if (s->have_manifest_hash) {
                        ls_hex(hex, s->manifest_hash, LS_HASH_LEN);
                        fprintf(f, "  %-10s %s: %s\n", "selection", hex,
                                s->selection_ok ? "matches the disclosed records" :
                                                  "does NOT match the disclosed records");
                }
        } else {
                fputs(": not readable (see findings)\n", f);
        }

        fprintf(f, "\nDisclosed records (%zu verified%s):\n", b->nrecs,
                b->recs_not_listed ? ", first ones listed" : "");
        for (size_t i = 0; i < b->nrecs; i++) {
                LsRecord rec;
                if (ls_record_decode(&rec, b->recs[i].bytes, b->recs[i].len, NULL) == 0)
                        text_record(f, &rec);
        }
        if (s->records_failed)
                fprintf(f, "  %" PRIu64 " disclosed record(s) did NOT verify and are not shown "
                           "(see findings)\n",
                        s->records_failed);
        if (!b->nrecs && !s->records_failed)
                fputs("  none\n", f);

        fprintf(f, "\nFiles (%zu; only the evidence files are verified, the others are NOT "
                   "AUTHENTICATED):\n",
                b->nfiles);
        for (size_t i = 0; i < b->nfiles; i++) {
                const BundleFileRow *x = &b->files[i];
                fputs("  ", f);
                ls_text_write(f, (const uint8_t *) x->name, strlen(x->name));
                if (x->have_hash) {
                        ls_hex(hex, x->sha256, LS_HASH_LEN);
                        fprintf(f, "\n    sha256 %s, %" PRIu64 " bytes", hex, x->size);
                }
                if (x->authenticated)
                        fprintf(f, "%s%s\n", x->have_hash ? ", " : ": ",
                                file_status_name(x->status));
                else
                        /* Never "ok": matching a manifest anyone can rewrite proves nothing. */
                        fprintf(f, "%s%s; NOT AUTHENTICATED (not evidence: no signature covers "
                                   "it)\n",
                                x->have_hash ? ", " : ": ",
                                x->status == LS_BUNDLE_FILE_OK ? "matches its manifest line" :
                                                                 file_status_name(x->status));
        }

        if (b->ncps) {
                fprintf(f, "\nCheckpoints compared (%zu):\n", b->ncps);
                for (size_t i = 0; i < b->ncps; i++)
                        fprintf(f, "  %s: tree size %" PRIu64 ": %s. %s\n", b->cps[i].cp->file,
                                b->cps[i].cp->cp.tree_size, b->cps[i].result, b->cps[i].detail);
        }

        /* Bundle findings name no archive: the same lines as for archives. */
        report_write_findings_text(r, f);
}

static json_t *bundle_json(Bundle *b)
{
        const LsBundleSummary *s = &b->sum;
        json_t *o = json_object(), *a;
        const LsKeyInfo *path[64];
        char proves[4096];
        size_t npath;

        json_object_set_new(o, "path", json_text((const uint8_t *) b->path, strlen(b->path)));
        json_object_set_new(o, "format", json_string(b->kind == BUNDLE_TAR ? "tar" : "directory"));
        a = json_array();
        for (size_t i = 0; i < b->nfiles; i++) {
                const BundleFileRow *x = &b->files[i];
                json_array_append_new(
                        a, json_pack("{s:o,s:s,s:o,s:o,s:b}", "name",
                                     json_text((const uint8_t *) x->name, strlen(x->name)), "status",
                                     file_status_name(x->status), "size", json_u64(x->size),
                                     "sha256",
                                     x->have_hash ? json_hex(x->sha256, LS_HASH_LEN) : json_null(),
                                     "authenticated", x->authenticated));
        }
        json_object_set_new(o, "files", a);
        json_object_set_new(o, "manifest_ok", json_boolean(s->manifest_ok));
        json_object_set_new(o, "record_count",
                            s->header_ok ? json_integer(s->header.record_count) : json_null());
        json_object_set_new(o, "records_verified", json_integer((json_int_t) s->records_verified));
        json_object_set_new(o, "records_failed", json_integer((json_int_t) s->records_failed));

        if (s->checkpoint_parsed) {
                json_t *cp = json_object();
                json_object_set_new(cp, "chain_id", json_hex(s->checkpoint.chain_id, LS_CHAIN_ID_LEN));
                json_object_set_new(cp, "tree_size", json_integer((json_int_t) s->checkpoint.tree_size));
                json_object_set_new(cp, "batch", json_integer((json_int_t) s->checkpoint.batch_no));
                json_object_set_new(cp, "root", json_hex(s->checkpoint.root, LS_HASH_LEN));
                json_object_set_new(cp, "signed_by", s->have_signer ?
                                                             json_hex(s->signer.key_id, LS_KEY_ID_LEN) :
                                                             json_null());
                json_object_set_new(cp, "epoch", s->have_signer ?
                                                         json_integer((json_int_t) s->signer.epoch) :
                                                         json_null());
                json_object_set_new(cp, "verified", json_boolean(s->checkpoint_verified));
                a = json_array();
                npath = cert_path(b, path, ELEMENTSOF(path));
                for (size_t i = 0; i < npath; i++)
                        json_array_append_new(a, json_hex(path[i]->key_id, LS_KEY_ID_LEN));
                json_object_set_new(cp, "certification_path", a);
                json_object_set_new(o, "checkpoint", cp);
        } else {
                json_object_set_new(o, "checkpoint", json_null());
        }

        if (s->have_custody) {
                json_t *cu = json_object();
                char t[64];
                ls_time_format(t, sizeof(t), s->custody_time_ns);
                json_object_set_new(cu, "seq", json_integer((json_int_t) s->custody_seq));
                json_object_set_new(cu, "time", json_string(t));
                json_object_set_new(cu, "verified", json_boolean(s->custody_ok));
                json_object_set_new(cu, "action", s->have_action ?
                                                          json_string(ls_custody_action_name(s->action)) :
                                                          json_null());
                json_object_set_new(cu, "case", json_opt_text(&s->case_id));
                json_object_set_new(cu, "examiner", json_opt_text(&s->examiner));
                json_object_set_new(cu, "filter", json_opt_text(&s->filter));
                json_object_set_new(cu, "text", json_opt_text(&s->text));
                json_object_set_new(cu, "count", s->have_count ? json_integer((json_int_t) s->count) :
                                                                 json_null());
                json_object_set_new(cu, "selection_hash",
                                    s->have_manifest_hash ? json_hex(s->manifest_hash, LS_HASH_LEN) :
                                                            json_null());
                json_object_set_new(cu, "selection_matches", json_boolean(s->selection_ok));
                json_object_set_new(o, "custody", cu);
        } else {
                json_object_set_new(o, "custody", json_null());
        }

        a = json_array();
        for (size_t i = 0; i < b->nrecs; i++) {
                LsRecord rec;
                if (ls_record_decode(&rec, b->recs[i].bytes, b->recs[i].len, NULL) == 0)
                        json_array_append_new(a, record_json(&rec));
        }
        json_object_set_new(o, "records", a);
        json_object_set_new(o, "records_listed_all", json_boolean(b->recs_not_listed == 0));

        a = json_array();
        for (size_t i = 0; i < b->ncps; i++)
                json_array_append_new(
                        a, json_pack("{s:s,s:o,s:o,s:s,s:s}", "file", b->cps[i].cp->file,
                                     "tree_size", json_u64(b->cps[i].cp->cp.tree_size), "batch",
                                     json_u64(b->cps[i].cp->cp.has_batch ?
                                                        b->cps[i].cp->cp.batch_no :
                                                        LS_UNSET),
                                     "result", b->cps[i].result, "detail", b->cps[i].detail));
        json_object_set_new(o, "checkpoints", a);
        bundle_proves(b, b->c->report.verdict, proves, sizeof(proves));
        json_object_set_new(o, "proves", json_string(proves));
        return o;
}

/* The archive report's JSON (schema logseal-verify-report/1) with a "bundle" object. */
int bundle_write_json(Bundle *b, FILE *f)
{
        _cleanup_free_ char *buf = NULL;
        size_t len = 0;
        FILE *m = open_memstream(&buf, &len);
        json_t *doc, *verdict;
        int k;

        if (!m)
                return -ENOMEM;
        k = report_write_json(&b->c->report, m);
        if (fclose(m) != 0 || k < 0)
                return -ENOMEM;
        doc = json_loadb(buf, len, 0, NULL);
        if (!doc)
                return -EBADMSG;
        verdict = json_object_get(doc, "verdict");
        if (verdict)
                json_object_set_new(verdict, "summary",
                                    json_string(bundle_verdict_sentence(b->c->report.verdict)));
        json_object_set_new(doc, "bundle", bundle_json(b));
        k = json_dumpf(doc, f, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
        fputc('\n', f);
        json_decref(doc);
        return k < 0 ? -EIO : 0;
}

