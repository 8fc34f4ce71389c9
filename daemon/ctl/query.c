/* SPDX-License-Identifier: Apache-2.0 */
/* query.c: `logsealctl query`: the index selects, the archives answer */

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "control.h"
#include "ctl.h"
#include "hash.h"
#include "index.h"
#include "record.h"
#include "state.h"
#include "text.h"

/* A JSON value for claimed text: a string when it is valid UTF-8 without NUL, else null
 * (jansson checks UTF-8; we never print text we would have to alter). */
static json_t *json_text(const uint8_t *p, size_t n)
{
        json_t *v;

        if (!p || !n || memchr(p, 0, n))
                return json_null();
        v = json_stringn((const char *) p, n);
        return v ? v : json_null();
}

typedef struct Query {
        IndexFilter filter;
        IndexBatchReader *reader;
        int json, text, raw;
        const char *grep;          /* substring of the message (re-read from the archive) */
        const char *match;         /* full-text words: the same text, case-insensitively */
        uint64_t limit;            /* applied after the substring match */
        uint64_t printed, mismatched, unreadable;
        uint64_t refused;          /* records of batches that are not authentic */
        uint64_t refused_batches, last_refused_batch;
} Query;

#define QUERY_DONE 1

/* Case-insensitive (ASCII) substring search in bytes. */
static int memcasemem(const uint8_t *p, size_t n, const char *needle)
{
        size_t k = strlen(needle);

        for (size_t i = 0; k <= n && i <= n - k; i++)
                if (strncasecmp((const char *) p + i, needle, k) == 0)
                        return 1;
        return 0;
}

/* Text escaped (text.h) for a [bracketed] field: a ']' of the text is \x5d, so that the
 * field cannot seem to end early. */
static void write_bracketed(const uint8_t *p, size_t n)
{
        for (size_t i = 0; i < n;) {
                const uint8_t *q = memchr(p + i, ']', n - i);
                size_t k = q ? (size_t) (q - p) - i : n - i;
                ls_text_write(stdout, p + i, k);
                i += k;
                if (q) {
                        fputs("\\x5d", stdout);
                        i++;
                }
        }
}

/* One record as a JSON line: the exact text (or bytes in base64). */
static int print_json(const LsRecord *rec, const IndexFields *fl)
{
        int r;
        char t[64];
        json_t *o = json_object(), *msg;
        ls_time_format(t, sizeof(t), rec->time_ns);
        json_object_set_new(o, "seq", json_integer((json_int_t) rec->seq));
        json_object_set_new(o, "time", json_string(t));
        json_object_set_new(o, "transport", json_string(ls_transport_name(rec->transport)));
        json_object_set_new(o, "host", json_text(fl->host, fl->host_len));
        json_object_set_new(o, "app", json_text(fl->app, fl->app_len));
        json_object_set_new(o, "peer", json_text((const uint8_t *) fl->peer, strlen(fl->peer)));
        if (fl->have_port)
                json_object_set_new(o, "port", json_integer(fl->port));
        msg = memchr(rec->body, 0, rec->body_len) ? NULL :
                                                 json_stringn((const char *) rec->body, rec->body_len);
        if (msg) {
                json_object_set_new(o, "message", msg);
        } else {
                _cleanup_free_ char *b64 = malloc(ls_base64_len(rec->body_len));
                if (!b64) {
                        json_decref(o);
                        return -ENOMEM;
                }
                ls_base64(b64, rec->body, rec->body_len);
                json_object_set_new(o, "message_base64", json_string(b64));
        }
        if (rec->identity_len) {
                json_t *id = json_text(rec->identity, rec->identity_len);
                if (json_is_null(id) && rec->identity_len <= LS_MAX_IDENTITY) {
                        /* Not UTF-8: its exact bytes (SPEC §3 does not require UTF-8). */
                        char b64[LS_MAX_IDENTITY * 2];
                        ls_base64(b64, rec->identity, rec->identity_len);
                        json_object_set_new(o, "sender_identity_base64", json_string(b64));
                        json_decref(id);
                } else if (!json_is_null(id))
                        json_object_set_new(o, "sender_identity", id);
        }
        if (rec->flags & LS_RECF_TRUNCATED) {
                json_object_set_new(o, "truncated", json_true());
                json_object_set_new(o, "original_length", json_integer(rec->orig_len));
        }
        r = json_dumpf(o, stdout, JSON_COMPACT | JSON_PRESERVE_ORDER);
        fputc('\n', stdout);
        json_decref(o);
        return r < 0 ? -EIO : 0;
}

static int print_hit(void *ud, const IndexHit *hit)
{
        Query *q = ud;
        const IndexFilter *f = &q->filter;
        IndexFields fl;
        LsRecord rec;
        int r;

        r = index_batch_reader_get(q->reader, hit, &rec);
        if (r == -EKEYREJECTED) {
                /* Never printed: these bytes are not the ones the appliance sealed. */
                q->refused++;
                if (q->refused_batches == 0 || q->last_refused_batch != hit->batch_no) {
                        q->last_refused_batch = hit->batch_no;
                        if (q->refused_batches++ < 10)
                                fprintf(stderr, PROG ": %s\n", index_batch_reader_error(q->reader));
                        else if (q->refused_batches == 11)
                                fprintf(stderr, PROG ": (further batches that are not authentic "
                                                "are not listed)\n");
                }
                return 0;
        }
        if (r < 0) {
                if (q->unreadable++ < 10)
                        fprintf(stderr, PROG ": seq %" PRIu64 ": %s\n", hit->seq,
                                index_batch_reader_error(q->reader));
                else if (q->unreadable == 11)
                        fprintf(stderr, PROG ": (further records that cannot be re-read are "
                                        "not listed)\n");
                return r == -ENOMEM || r == -EMFILE ? r : 0;
        }
        /* The archive, not the index, decides whether the record matches. */
        index_record_fields(&rec, &fl);
        if (!index_filter_match(f, &rec, &fl)) {
                q->mismatched++;
                return 0;
        }
        if (q->grep && !memmem(rec.body, rec.body_len, q->grep, strlen(q->grep)))
                return 0;
        if (q->match && !memcasemem(rec.body, rec.body_len, q->match))
                return 0;
        if (q->limit && q->printed == q->limit)
                return -QUERY_DONE;
        q->printed++;
        if (q->raw) {
                /* --raw: the bytes as received, to a pipe (cmd_query refuses a terminal). */
                fwrite(rec.body, 1, rec.body_len, stdout);
                fputc('\n', stdout);
                return 0;
        }
        if (q->json)
                return print_json(&rec, &fl);
        if (q->text) {
                char t[64];
                ls_time_format(t, sizeof(t), rec.time_ns);
                printf("%" PRIu64 " %s %s ", rec.seq, t, fl.peer[0] ? fl.peer : "-");
                if (rec.identity_len) {
                        /* The sender identity a trusted front end gave (SPEC §3). */
                        fputc('[', stdout);
                        write_bracketed(rec.identity, rec.identity_len);
                        fputs("] ", stdout);
                }
        }
        /* Text from senders reaches a person: escaped (text.h), one message per line. */
        ls_text_write(stdout, rec.body, rec.body_len);
        fputc('\n', stdout);
        return 0;
}

/* A facility or severity by RFC 5424 name or number. */
static int parse_syslog_code(const char *s, int severity, int *ret)
{
        static const char *const fac[] = {"kern", "user", "mail", "daemon", "auth", "syslog",
                                          "lpr", "news", "uucp", "cron", "authpriv", "ftp",
                                          "ntp", "audit", "alert", "clock", "local0", "local1",
                                          "local2", "local3", "local4", "local5", "local6",
                                          "local7"};
        static const char *const sev[] = {"emerg", "alert", "crit", "err", "warning", "notice",
                                          "info", "debug"};
        const char *const *names = severity ? sev : fac;
        int n = severity ? 8 : 24;
        char *end;
        long v;

        for (int i = 0; i < n; i++)
                if (!strcmp(s, names[i])) {
                        *ret = i;
                        return 0;
                }
        errno = 0;
        v = strtol(s, &end, 10);
        if (errno || *end || end == s || v < 0 || v >= n)
                return -EINVAL;
        *ret = (int) v;
        return 0;
}

static int parse_seq_range(const char *s, uint64_t *from, uint64_t *to)
{
        unsigned long long a, b;
        int n = 0;

        if (sscanf(s, "%llu-%llu%n", &a, &b, &n) == 2 && s[n] == 0 && a <= b && b < UINT64_MAX) {
                *from = a;
                *to = b + 1;
                return 0;
        }
        return -EINVAL;
}

/* --facility and --severity (IndexFilter *target). */
static int syslog_code_option(const char *cmd, const Option *o, const char *arg)
{
        IndexFilter *f = o->target;
        int severity = !strcmp(o->name, "severity");

        if (parse_syslog_code(arg, severity, severity ? &f->severity : &f->facility) < 0)
                return usage_error("%s: --%s: '%s' is not a %s name (%s) or 0-%d", cmd, o->name,
                                   arg, o->name, severity ? "emerg, ..., debug" :
                                                            "kern, user, ..., local7",
                                   severity ? 7 : 23);
        *(severity ? &f->has_severity : &f->has_facility) = 1;
        return 0;
}

static int seq_option(const char *cmd, const Option *o, const char *arg)
{
        IndexFilter *f = o->target;

        if (parse_seq_range(arg, &f->seq_from, &f->seq_to) < 0)
                return usage_error("%s: --seq takes A-B (A <= B)", cmd);
        return 0;
}

/* --grep and --match (const char **target). */
static int nonempty_option(const char *cmd, const Option *o, const char *arg)
{
        if (!arg[0])
                return usage_error("%s: --%s needs %s", cmd, o->name,
                                   strcmp(o->name, "match") ? "a non-empty string" : "words");
        *(const char **) o->target = arg;
        return 0;
}

int cmd_query(int argc, char **argv)
{
        const char *dir = NULL, *case_id = NULL, *examiner = NULL;
        Query q = {.filter = {.to_ns = UINT64_MAX, .syslog_only = 1}};
        const Option opts[] = {
                {"state-dir", 'd', OPTION_STRING, &dir, .arg = "DIR",
                 .help = "the appliance's state directory"},
                {"host", 0, OPTION_STRING, &q.filter.host, .word = "host=", .arg = "H",
                 .help = "messages whose host name (as the sender wrote it) is H"},
                {"app", 0, OPTION_STRING, &q.filter.app, .word = "app=", .arg = "A",
                 .help = "messages whose app name (APP-NAME or BSD tag) is A"},
                {"identity", 0, OPTION_STRING, &q.filter.identity, .word = "identity=",
                 .arg = "SUBJECT",
                 .help = "messages a trusted front end sealed with this sender\n"
                         "identity: its certificate subject, or the whole identity"},
                {"from", 0, OPTION_TIME, &q.filter.from_ns, .word = "from=", .arg = "TIME",
                 .help = "received at or after TIME: RFC 3339\n"
                         "(2026-01-01T00:00:00Z) or @NANOSECONDS"},
                {"to", 0, OPTION_TIME, &q.filter.to_ns, .word = "to=", .arg = "TIME",
                 .help = "received before TIME"},
                {"facility", 0, OPTION_CALL, &q.filter, syslog_code_option, .word = "facility=",
                 .arg = "F", .help = "of this facility (kern, user, ..., local7, or 0-23)"},
                {"severity", 0, OPTION_CALL, &q.filter, syslog_code_option, .word = "severity<=",
                 .arg = "S", .help = "of this severity or more severe (emerg ... debug, 0-7)"},
                {"seq", 0, OPTION_CALL, &q.filter, seq_option, .word = "seq=", .arg = "A-B",
                 .help = "with sequence numbers A to B"},
                {"grep", 0, OPTION_CALL, &q.grep, nonempty_option, .word = "grep=",
                 .arg = "TEXT", .help = "whose message contains the bytes TEXT"},
                {"match", 0, OPTION_CALL, &q.match, nonempty_option, .word = "match=",
                 .arg = "WORDS",
                 .help = "whose message has these words, case-insensitively\n"
                         "(the full-text index: reindex --fulltext)"},
                {"limit", 'n', OPTION_LIMIT, &q.limit, .arg = "N", .help = "at most N messages"},
                {"text", 0, OPTION_FLAG, &q.text,
                 .help = "sequence number, receive time, peer, [sender identity]\n"
                         "and message on each line, escaped"},
                {"json", 0, OPTION_FLAG, &q.json,
                 .help = "JSON lines with the exact text (not escaped)"},
                {"raw", 0, OPTION_FLAG, &q.raw,
                 .help = "the messages' bytes as received, one per line; only\n"
                         "to a pipe or file, never to a terminal"},
                {"case", 0, OPTION_STRING, &case_id, .arg = "ID",
                 .help = "with --examiner: seal a custody record of this query"},
                {"examiner", 0, OPTION_STRING, &examiner, .arg = "NAME",
                 .help = "who ran the query (with --case)"},
                {}};
        _cleanup_close_ int dirfd = -1, archfd = -1;
        uint8_t chain_id[LS_CHAIN_ID_LEN];
        Index *ix = NULL;
        IndexAuth *auth = NULL;
        uint64_t added = 0;
        char words[1024] = "";
        OptionWords w = {words, sizeof(words)};
        uint64_t stale_batches = 0;
        int r, stale;

        r = parse_options("query", argc, argv, opts, OPTIONS_ARGS, &w);
        if (r != 0)
                return options_exit(r);
        q.filter.match = q.match;
        /* The substring is matched on the archive's bytes: the limit counts matches. */
        if (!q.grep && !q.match)
                q.filter.limit = q.limit;
        if (!!case_id != !!examiner)
                return usage_error("query: --case and --examiner go together (they seal a custody "
                                   "record of this query)");
        if (q.json + q.text + q.raw > 1)
                return usage_error("query: --json, --text and --raw exclude each other");
        if (q.raw && isatty(STDOUT_FILENO))
                return usage_error("query: --raw prints the bytes senders sent, escape sequences "
                                   "included: not to a terminal (pipe or redirect it, or leave "
                                   "--raw out for escaped text)");
        r = no_arguments("query", argc, argv);
        if (r != 0)
                return r;
        if (!dir)
                return usage_error("query: --state-dir DIR is required");
        if (q.filter.to_ns <= q.filter.from_ns)
                return usage_error("query: --to must be later than --from");
        r = open_chain(dir, &dirfd, &archfd, chain_id);
        if (r != 0)
                return r;
        r = exists_at(dirfd, STATE_INDEX);
        if (r < 0)
                return log_errno(r, "%s/%s", dir, STATE_INDEX);
        if (r == 0)
                return log_error("%s/%s does not exist: build it with 'logsealctl reindex "
                                 "--state-dir %s'",
                                 dir, STATE_INDEX, dir);
        /* Nothing is printed that the root key and the key history do not vouch for. */
        r = index_auth_new(&auth, dirfd, chain_id);
        if (r < 0)
                return log_error("%s/%s: the records' batch signatures cannot be checked without "
                                 "it; nothing printed",
                                 dir, index_auth_error(NULL));
        r = index_open(&ix, dirfd, chain_id);
        if (r < 0) {
                index_auth_free(auth);
                if (r == -EXDEV)
                        return log_error("%s: %s: move it away", dir, index_last_error(NULL));
                return log_error("%s: %s (rebuild it with 'logsealctl reindex --state-dir %s')",
                                 dir, index_last_error(NULL), dir);
        }
        index_set_log(ix, index_log_stderr, NULL);
        index_set_auth(ix, auth);
        /* Index what the archives hold beyond the index first (usually nothing). */
        r = index_catch_up(ix, archfd, &added);
        stale = r < 0;
        if (r == -EKEYREJECTED)
                log_error("%s: %s", dir, index_last_error(ix));
        else if (stale)
                fprintf(stderr, PROG ": warning: %s: the index may lack recent records: %s\n", dir,
                        index_last_error(ix));

        r = index_batch_reader_new(&q.reader, archfd, chain_id);
        if (r < 0) {
                index_free(ix);
                index_auth_free(auth);
                return log_errno(r, "query");
        }
        index_batch_reader_set_auth(q.reader, auth);
        r = index_query(ix, q.reader, &q.filter, print_hit, &q);
        if (r == -QUERY_DONE)
                r = 0;
        stale_batches = index_query_mismatches(ix);
        if (r < 0 && index_last_error(ix)[0])
                log_error("%s: %s", dir, index_last_error(ix));
        else if (r < 0)
                log_errno(r, "%s", dir);
        index_batch_reader_free(q.reader);
        index_free(ix);
        index_auth_free(auth);
        if (fflush(stdout) != 0 || ferror(stdout))
                return log_errno(-EIO, "standard output");
        if (q.mismatched)
                log_error("%" PRIu64 " records the index selected do not match in the archives "
                          "and were not printed: the index is out of step with the archives; "
                          "rebuild it with 'logsealctl reindex --state-dir %s'",
                          q.mismatched, dir);
        if (stale_batches)
                log_error("%" PRIu64 " batches the index selected do not hold what it says "
                          "(their host, app or identity names, or their time range, differ in "
                          "the archives; what was printed comes from the archives): the index "
                          "is out of step with the archives; rebuild it with 'logsealctl "
                          "reindex --state-dir %s'",
                          stale_batches, dir);
        if (q.unreadable)
                log_error("%" PRIu64 " records could not be re-read from the archives where "
                          "the index says they are: rebuild the index with 'logsealctl reindex "
                          "--state-dir %s' (it names any damage; logseal-verify checks it)",
                          q.unreadable, dir);
        if (q.refused)
                log_error("%" PRIu64 " record(s) of %" PRIu64 " batch(es) were NOT printed: "
                          "those batches are NOT AUTHENTIC under %s/%s and %s/%s (reasons above: "
                          "a signature that does not verify, as after an edit of the archive, or "
                          "a key that may not sign them); 'logsealctl verify --state-dir %s' "
                          "reports on the whole chain",
                          q.refused, q.refused_batches, dir, STATE_ROOT_PUB, dir, STATE_HISTORY,
                          dir);
        if (case_id && r >= 0)
                (void) seal_custody_note(dir, LS_CUSTODY_QUERY, case_id, examiner,
                                         words[0] ? words + 1 : "(all)", q.printed, NULL);
        return r < 0 || stale || stale_batches || q.mismatched || q.unreadable || q.refused ? EXIT_FAILURE : 0;
}
