/* SPDX-License-Identifier: Apache-2.0 */
/* chain-verify.c: the verification procedure of SPEC §6.3, §8, §9.3 and §11 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "archive-reader.h"
#include "chain-verify.h"
#include "control.h"
#include "hash.h"
#include "merkle.h"
#include "payload.h"
#include "util.h"
#include "work-pool.h"

typedef struct ArchiveCtx {
        const char *file;
        int have_header;          /* a structurally valid header was read */
        int header_verified;
        LsArchiveHeader hdr;
        uint64_t offset_header;
        int damaged;              /* any damage or failed batch in this archive */
        uint64_t batches, records, min_time, max_time;
        uint64_t first_batch_no;
        int have_last;
        LsBatchHeader last;       /* last verified batch */
        LsArchiveSummary sum;
} ArchiveCtx;

/*
 * Parallel verification: everything that depends only on one batch's own bytes
 * (payload digest, decompression, record decoding, salts, leaves and the perfect
 * subtrees of its leaves) is a BatchJob, run on worker threads; the job's results
 * are then taken in file order by verify_batch(), which makes every decision
 * (links, trust, tree, findings, callbacks) on the caller's thread exactly as a
 * sequential verifier would. With one job there are no threads and the same
 * functions run one after the other.
 */

/* What the in-order pass needs of each record (its bytes stay in the job's payload). */
typedef struct RecInfo {
        uint64_t time_ns;
        uint32_t off, len; /* the record's encoding in the decompressed payload */
        uint16_t flags;
        uint8_t type;
} RecInfo;

/* Perfect subtrees of one batch's leaves: at most two per level. */
#define MAX_SUBTREES 130

typedef struct BatchJob {
        LsPoolJob pj; /* first: the pool hands this back */
        struct BatchJob *next;
        /* input */
        LsBatchHeader h;
        uint64_t offset, length;
        uint8_t *payload;
        size_t payload_cap, payload_len;
        LsPayload *pc;
        size_t held_raw; /* the largest decompressed payload pc has held */
        size_t cost; /* bytes counted against the window's budget */
        /* results */
        int open_r;           /* ls_payload_open() */
        int err;              /* -ENOMEM: no room for the records' facts */
        int k;                /* the last ls_payload_next() */
        size_t roff;
        uint64_t it_next_seq;
        uint32_t it_index;
        uint32_t nrec;
        RecInfo *recs;
        size_t recs_cap;
        uint64_t tmin, tmax;
        unsigned nsub;
        struct {
                uint8_t hash[LS_HASH_LEN];
                unsigned height;
        } sub[MAX_SUBTREES];
} BatchJob;

/* Jobs kept for reuse only while their buffers are small. */
#define JOB_KEEP_BYTES (8u << 20)
#define DEFAULT_BUDGET ((size_t) 256 << 20)

struct LsChainVerifier {
        LsVerifyCallbacks cb;
        LsTrust *trust;

        /* the window of batches in flight, oldest first, bounded by budget bytes */
        unsigned jobs;
        size_t budget, win_bytes;
        size_t kept_bytes;            /* buffers of the jobs kept for reuse, at most budget */
        unsigned win_count, max_count;
        LsPool *pool;
        BatchJob *win_head, *win_tail, *free_jobs;

        int have_chain;
        uint8_t chain_id[LS_CHAIN_ID_LEN];

        /* where the next batch must continue */
        int have_prev_batch;
        int links_known;          /* next_* and prev_header_hash are trustworthy */
        uint64_t next_batch_no, next_seq;
        uint8_t prev_header_hash[LS_HASH_LEN];
        int tree_valid;
        LsMerkle tree;

        /* archive chain */
        int have_prev_archive;
        int prev_archive_sealed;
        uint64_t next_archive_no;
        uint8_t prev_seal_hash[LS_HASH_LEN];

        /* heartbeat coverage (SPEC §11): silence longer than the announced interval */
        uint64_t hb_ns;               /* from the last START, 0: not announced */
        uint64_t last_time;           /* time of the previous record, LS_UNSET: unknown */
        int last_was_stop;
        struct {
                int active;
                uint64_t from, to, batch, seq, offset;
        } gap;

        int first_archive_seen;
        uint8_t last_key_id[LS_KEY_ID_LEN];   /* key of the last verified batch */
        int have_history;                     /* a key history came from the investigator */
        uint64_t upto;                        /* ls_chain_verifier_set_upto; LS_UNSET: all */
        int upto_reached;                     /* batch upto was taken: examine nothing more */
        char guarantee[512];
        uint64_t first_archive_no;
        int last_archive_open;
        ArchiveCtx a;
        LsVerifyStats st;
};

const char *ls_class_name(LsClass c)
{
        switch (c) {
        case LS_CLASS_INTACT:
                return "intact";
        case LS_CLASS_TAMPERED:
                return "tampered";
        case LS_CLASS_IO:
                return "error";
        case LS_CLASS_GAP:
                return "gap";
        case LS_CLASS_PARTIAL:
                return "partial";
        case LS_CLASS_REVOKED:
                return "revoked";
        case LS_CLASS_NOTE:
                return "note";
        }
        return "unknown";
}

int ls_class_rank(LsClass c)
{
        switch (c) {
        case LS_CLASS_INTACT:
                return 0;
        case LS_CLASS_PARTIAL:
                return 1;
        case LS_CLASS_GAP:
                return 2;
        case LS_CLASS_REVOKED:
                return 3;
        case LS_CLASS_IO:
                return 4;
        case LS_CLASS_TAMPERED:
                return 5;
        case LS_CLASS_NOTE:
                break;
        }
        return -1;
}

__attribute__((format(printf, 8, 9))) static void report(LsChainVerifier *v, LsClass cls, int code,
                                                         const char *check, uint64_t offset,
                                                         uint64_t batch_no, uint64_t seq,
                                                         const char *fmt, ...)
{
        LsFinding f = {
                .cls = cls,
                .code = code,
                .check = check,
                .file = v->a.file,
                .offset = offset,
                .archive_no = v->a.have_header ? v->a.hdr.archive_no : LS_UNSET,
                .batch_no = batch_no,
                .seq = seq,
        };
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(f.detail, sizeof(f.detail), fmt, ap);
        va_end(ap);
        v->st.findings[cls]++;
        if (v->cb.finding)
                v->cb.finding(v->cb.userdata, &f);
}

/* ---- keys: every decision is the trust module's (trust.c, SPEC §9.3) ---- */

static const char *cert_reason(int r, const char *why)
{
        if (why)
                return why;
        return r == -ENOKEY ? "issuer unknown" : "forged, forked or out of order";
}

int ls_chain_verifier_add_cert(LsChainVerifier *v, const LsCert *c, const char *source)
{
        (void) source;
        return ls_trust_add_cert(v->trust, c, NULL);
}

int ls_chain_verifier_add_revocation(LsChainVerifier *v, const LsRevocation *rv,
                                     const char *source)
{
        (void) source;
        return ls_trust_add_revocation(v->trust, rv, NULL);
}

int ls_chain_verifier_add_close(LsChainVerifier *v, const LsEpochClose *c, const char *source)
{
        (void) source;
        return ls_trust_add_close(v->trust, c, NULL);
}

LsTrust *ls_chain_verifier_trust(LsChainVerifier *v)
{
        return v->trust;
}

static LsClass class_of(LsTrustResult r)
{
        return r == LS_TRUST_REVOKED ? LS_CLASS_REVOKED : LS_CLASS_TAMPERED;
}

/* ---- batch jobs (worker side: pure functions of one batch) ---- */

static void job_free(BatchJob *j)
{
        if (!j)
                return;
        ls_payload_free(j->pc);
        free(j->payload);
        free(j->recs);
        free(j);
}

/* Leaves per chunk: a perfect subtree hashed two hashes at a time (ls_*_x2). */
#define CHUNK_LOG 10

/* Root of the perfect subtree of the 2^lg leaves of records i.. (lg <= CHUNK_LOG). */
static void chunk_root(const BatchJob *j, const uint8_t *raw, const LsSaltKey *k, uint32_t i,
                       unsigned lg, uint8_t (*l)[LS_HASH_LEN], uint8_t out[LS_HASH_LEN])
{
        const uint64_t s = j->h.first_seq + i;
        const uint32_t c = UINT32_C(1) << lg;
        uint8_t s0[LS_SALT_LEN], s1[LS_SALT_LEN];

        if (c == 1) {
                ls_salt_derive(k, s, s0);
                ls_leaf_hash(out, s0, raw + j->recs[i].off, j->recs[i].len);
                sodium_memzero(s0, sizeof(s0));
                return;
        }
        for (uint32_t x = 0; x < c; x += 2) {
                const RecInfo *r0 = &j->recs[i + x], *r1 = &j->recs[i + x + 1];
                ls_salt_derive_x2(k, s + x, s0, s + x + 1, s1);
                ls_leaf_hash_x2(l[x], s0, raw + r0->off, r0->len, l[x + 1], s1, raw + r1->off,
                                r1->len);
        }
        sodium_memzero(s0, sizeof(s0));
        sodium_memzero(s1, sizeof(s1));
        /* level by level, in place: node x reads 2x and 2x+1 before it is written */
        for (uint32_t w = c / 2; w >= 2; w /= 2)
                for (uint32_t x = 0; x < w; x += 2)
                        ls_node_hash_x2(l[x], l[2 * x], l[2 * x + 1], l[x + 1], l[2 * x + 2],
                                        l[2 * x + 3]);
        ls_node_hash(out, l[0], l[1]);
}

/*
 * Perfect subtrees of leaves [first_seq, first_seq + record_count), left to right, hashed
 * chunk by chunk while the records are decoded (the chunk is still in the cache). The
 * results count only when every record decoded (k == 0): then nrec == record_count.
 */
typedef struct Hasher {
        uint64_t pos;      /* tree position of the current subtree */
        uint32_t i, end;   /* next record to hash; end of the current subtree */
        unsigned ht;       /* height of the current subtree */
        LsSaltKey k;
        LsMerkle m;        /* chunks of a subtree above CHUNK_LOG */
} Hasher;

static void hasher_sub(const BatchJob *j, Hasher *hs)
{
        unsigned ht = hs->pos ? (unsigned) __builtin_ctzll(hs->pos) : 62;

        if (ht > 62)
                ht = 62;
        while ((UINT64_C(1) << ht) > (uint64_t) (j->h.record_count - hs->i))
                ht--;
        hs->ht = ht;
        hs->end = hs->i + (uint32_t) (UINT64_C(1) << ht);
        if (ht > CHUNK_LOG)
                ls_merkle_init(&hs->m);
}

static void hasher_init(const BatchJob *j, Hasher *hs)
{
        hs->pos = j->h.first_seq;
        hs->i = 0;
        ls_salt_key_init(&hs->k, j->h.salt_seed);
        hasher_sub(j, hs);
}

/* Hashes every whole chunk among the first `avail` records. */
static void hasher_run(BatchJob *j, const uint8_t *raw, Hasher *hs, uint32_t avail)
{
        static _Thread_local uint8_t l[1u << CHUNK_LOG][LS_HASH_LEN];
        uint8_t root[LS_HASH_LEN];

        while (hs->i < j->h.record_count && j->nsub < MAX_SUBTREES) {
                const unsigned lg = MIN(hs->ht, (unsigned) CHUNK_LOG);
                const uint32_t c = UINT32_C(1) << lg;
                if ((uint64_t) hs->i + c > avail)
                        return;
                if (hs->ht <= CHUNK_LOG) {
                        chunk_root(j, raw, &hs->k, hs->i, lg, l, j->sub[j->nsub].hash);
                } else {
                        chunk_root(j, raw, &hs->k, hs->i, lg, l, root);
                        (void) ls_merkle_append_subtree(&hs->m, root, lg);
                }
                hs->i += c;
                if (hs->i == hs->end) {
                        if (hs->ht > CHUNK_LOG)
                                memcpy(j->sub[j->nsub].hash, hs->m.peaks[0], LS_HASH_LEN);
                        j->sub[j->nsub].height = hs->ht;
                        j->nsub++;
                        hs->pos += UINT64_C(1) << hs->ht;
                        if (hs->i < j->h.record_count)
                                hasher_sub(j, hs);
                }
        }
}

static void job_run(LsPoolJob *pj)
{
        BatchJob *j = (BatchJob *) pj;
        const LsBatchHeader *h = &j->h;
        LsPayloadIter it;
        LsRecord rec;
        const uint8_t *bytes, *raw;
        size_t len, rawlen, want;
        Hasher hs;
        int k;

        j->err = 0;
        j->k = 0;
        j->roff = 0;
        j->nrec = j->nsub = 0;
        j->tmin = UINT64_MAX;
        j->tmax = 0;
        j->open_r = ls_payload_open(j->pc, h, j->payload, j->payload_len);
        if (j->open_r < 0)
                return;
        raw = ls_payload_raw(j->pc, &rawlen);
        /* Every entry takes at least 4 + LS_RECORD_FIXED_LEN bytes: bounded by the payload. */
        want = MIN((size_t) h->record_count, rawlen / (4 + LS_RECORD_FIXED_LEN) + 1);
        if (j->recs_cap < want) {
                RecInfo *q = realloc(j->recs, want * sizeof(*q));
                if (!q) {
                        j->err = -ENOMEM;
                        return;
                }
                j->recs = q;
                j->recs_cap = want;
        }
        ls_payload_iter_init(&it, h, raw, rawlen);
        hasher_init(j, &hs);
        while ((k = ls_payload_next(&it, &rec, &bytes, &len, NULL, &j->roff)) > 0) {
                RecInfo *ri;
                if (j->nrec == j->recs_cap) { /* cannot happen: the bound above holds */
                        k = -EBADMSG;
                        break;
                }
                ri = &j->recs[j->nrec++];
                ri->time_ns = rec.time_ns;
                ri->off = (uint32_t) (bytes - raw);
                ri->len = (uint32_t) len;
                ri->flags = rec.flags;
                ri->type = rec.type;
                j->tmin = MIN(j->tmin, rec.time_ns);
                j->tmax = MAX(j->tmax, rec.time_ns);
                if ((j->nrec & 255) == 0)
                        hasher_run(j, raw, &hs, j->nrec);
        }
        j->k = k;
        j->it_index = it.index;
        j->it_next_seq = it.next_seq;
        if (k == 0)
                hasher_run(j, raw, &hs, j->nrec);
        ls_salt_key_wipe(&hs.k);
}

/* ---- setup ---- */

int ls_chain_verifier_new(LsChainVerifier **ret, const uint8_t root_pk[LS_PK_LEN],
                          const LsVerifyCallbacks *cb)
{
        LsChainVerifier *v = calloc(1, sizeof(*v));
        int r;

        if (!v)
                return -ENOMEM;
        if (cb)
                v->cb = *cb;
        v->jobs = 1;
        v->budget = DEFAULT_BUDGET;
        v->max_count = 1;
        r = ls_trust_new(&v->trust, root_pk);
        if (r < 0) {
                ls_chain_verifier_free(v);
                return r;
        }
        v->tree_valid = 1;
        ls_merkle_init(&v->tree);
        v->st.first_batch = v->st.last_batch = LS_UNSET;
        v->st.first_seq = v->st.last_seq = LS_UNSET;
        v->st.tree_checked_all = 1;
        v->last_time = LS_UNSET;
        v->upto = LS_UNSET;
        *ret = v;
        return 0;
}

LsChainVerifier *ls_chain_verifier_free(LsChainVerifier *v)
{
        if (!v)
                return NULL;
        ls_pool_free(v->pool);
        while (v->win_head) {
                BatchJob *j = v->win_head;
                v->win_head = j->next;
                j->next = v->free_jobs;
                v->free_jobs = j;
        }
        while (v->free_jobs) {
                BatchJob *j = v->free_jobs;
                v->free_jobs = j->next;
                job_free(j);
        }
        ls_trust_free(v->trust);
        free(v);
        return NULL;
}

int ls_chain_verifier_set_jobs(LsChainVerifier *v, unsigned jobs, size_t budget)
{
        LsPool *p = NULL;
        int r;

        if (v->win_head)
                return -EBUSY;
        if (jobs == 0)
                jobs = ls_online_cpus();
        if (jobs > 1) {
                r = ls_pool_new(&p, jobs);
                if (r < 0)
                        return r;
        }
        ls_pool_free(v->pool);
        v->pool = p;
        v->jobs = jobs;
        v->budget = budget ? budget : DEFAULT_BUDGET;
        /* enough batches in flight to keep every worker busy while the oldest is taken */
        v->max_count = jobs > 1 ? 4 * jobs : 1;
        return 0;
}

size_t ls_chain_verifier_keys(const LsChainVerifier *v, const LsKeyInfo **ret)
{
        return ls_trust_keys(v->trust, ret);
}

/* ---- control records of a verified batch ---- */

static void learn_from_records(LsChainVerifier *v, const LsBatchHeader *h, const uint8_t *raw,
                               size_t rawlen, int report_errors, uint64_t offset)
{
        LsPayloadIter it;
        LsRecord rec;
        const uint8_t *bytes, *val;
        size_t len, off;
        uint16_t vlen;
        LsControl c;

        ls_payload_iter_init(&it, h, raw, rawlen);
        while (ls_payload_next(&it, &rec, &bytes, &len, NULL, &off) > 0) {
                const char *why = NULL, *what = NULL;
                int r = 0;

                if (rec.type != LS_REC_CONTROL)
                        continue;
                if (ls_control_decode(&c, rec.body, rec.body_len, NULL) < 0)
                        continue;
                if (c.type == LS_CTL_KEY_TRANSITION && ls_control_get(&c, LS_TAG_CERT, &val, &vlen)) {
                        LsCert cert;
                        what = "key transition";
                        r = ls_cert_decode(&cert, val, vlen);
                        if (r == 0)
                                r = ls_trust_add_cert(v->trust, &cert, &why);
                } else if (c.type == LS_CTL_REVOCATION &&
                           ls_control_get(&c, LS_TAG_REVOCATION, &val, &vlen)) {
                        LsRevocation rv;
                        what = "revocation";
                        r = ls_revocation_decode(&rv, val, vlen);
                        if (r == 0)
                                r = ls_trust_add_revocation(v->trust, &rv, &why);
                } else if (c.type == LS_CTL_EPOCH_CLOSE &&
                           ls_control_get(&c, LS_TAG_CLOSE, &val, &vlen)) {
                        LsEpochClose cl;
                        what = "epoch close";
                        r = ls_close_decode(&cl, val, vlen);
                        if (r == 0)
                                r = ls_trust_add_close(v->trust, &cl, &why);
                }
                if (r < 0 && report_errors)
                        report(v, LS_CLASS_TAMPERED, r == -ENOKEY || r == -EXDEV ? -EKEYREJECTED : r,
                               what, offset, h->batch_no, rec.seq,
                               "%s in the chain is not acceptable: %s", what,
                               cert_reason(r, why));
        }
}

/* ---- heartbeat coverage ---- */

static void report_gap(LsChainVerifier *v)
{
        if (!v->gap.active)
                return;
        report(v, LS_CLASS_GAP, -ENODATA, "heartbeat gap", v->gap.offset, v->gap.batch, v->gap.seq,
               "%.0f s without any record although the appliance announced a heartbeat every "
               "%.0f s, and no signed stop, restart or clock step explains it",
               (double) (v->gap.to - v->gap.from) / 1e9, (double) v->hb_ns / 1e9);
        v->gap.active = 0;
}

static void track_time(LsChainVerifier *v, const LsRecord *rec, const LsControl *ctl,
                       uint64_t batch_no, uint64_t offset)
{
        uint16_t type = ctl ? ctl->type : 0;
        uint64_t x;

        /*
         * A record re-sealed from the WAL after a crash carries the time it was received,
         * before the UNCLEAN_SHUTDOWN that declares the crash: it neither opens nor closes a
         * silence (SPEC §11), or every recovery would read as a gap.
         */
        if (rec->flags & LS_RECF_RECOVERED)
                return;
        /* A signed clock step explains a jump; a declared unclean stop the downtime before it
         * (a record that must open its batch may come first: SPEC §11). */
        if (type == LS_CTL_CLOCK_STEP || type == LS_CTL_UNCLEAN_SHUTDOWN)
                v->gap.active = 0;
        if (v->hb_ns && v->last_time != LS_UNSET && !v->last_was_stop &&
            type != LS_CTL_START && type != LS_CTL_UNCLEAN_SHUTDOWN &&
            type != LS_CTL_CLOCK_STEP && rec->time_ns > v->last_time &&
            rec->time_ns - v->last_time > 2 * v->hb_ns + 10000000000ull) {
                report_gap(v);
                v->gap.active = 1;
                v->gap.from = v->last_time;
                v->gap.to = rec->time_ns;
                v->gap.batch = batch_no;
                v->gap.seq = rec->seq;
                v->gap.offset = offset;
        }
        if (type == LS_CTL_START)
                v->hb_ns = ls_control_get_u64(ctl, LS_TAG_HEARTBEAT_INTERVAL, &x) ? x : 0;
        v->last_time = rec->time_ns;
        v->last_was_stop = type == LS_CTL_STOP;
}

/* ---- batches ---- */

static void verify_archive_header_sig(LsChainVerifier *v);

static void verify_batch(LsChainVerifier *v, BatchJob *j)
{
        const LsBatchHeader *h = &j->h;
        const uint64_t off = j->offset, b = h->batch_no;
        int payload_ok = 0, authentic = 0, ok = 1, r;
        const uint8_t *raw = NULL;
        size_t rawlen = 0;
        LsKeyInfo *key;

        v->a.batches++;
        if (!v->have_chain) {
                memcpy(v->chain_id, h->chain_id, LS_CHAIN_ID_LEN);
                v->have_chain = 1;
                ls_trust_set_chain(v->trust, h->chain_id);
        } else if (memcmp(v->chain_id, h->chain_id, LS_CHAIN_ID_LEN) != 0) {
                report(v, LS_CLASS_TAMPERED, -EBADMSG, "chain id", off, b, h->first_seq,
                       "batch belongs to another chain (spliced in)");
                ok = 0;
        }

        r = j->open_r; /* ls_payload_open(), run by the job */
        if (r == 0) {
                payload_ok = 1;
                raw = ls_payload_raw(j->pc, &rawlen);
        }

        /*
         * SPEC §6.3: a batch whose key is not known yet (the chain's first batch, an admin
         * rotation) may carry that key's certificate as its first record; certificates are
         * self-authenticating, so they are learnt from the payload before the signature is
         * checked.
         */
        key = ls_trust_key(v->trust, h->key_id);
        if (!key && payload_ok) {
                learn_from_records(v, h, raw, rawlen, 0, off);
                key = ls_trust_key(v->trust, h->key_id);
        }
        if (v->a.have_header && !v->a.header_verified)
                verify_archive_header_sig(v);

        LsTrustDecision d;
        ls_trust_check_batch(v->trust, h, &d);
        switch (d.result) {
        case LS_TRUST_UNKNOWN_KEY: {
                char hex[2 * LS_KEY_ID_LEN + 1];
                ls_hex(hex, h->key_id, LS_KEY_ID_LEN);
                report(v, LS_CLASS_TAMPERED, -EKEYREJECTED, "signing key", off, b, h->first_seq,
                       "key %s is not certified from the root key for this chain (pass its "
                       "certificates with --keys if earlier archives are absent)",
                       hex);
                ok = 0;
                break;
        }
        case LS_TRUST_BAD_SIGNATURE:
                report(v, LS_CLASS_TAMPERED, -EKEYREJECTED, "batch signature", off, b,
                       h->first_seq, "signature does not verify");
                ok = 0;
                break;
        case LS_TRUST_REVOKED:
                /*
                 * Authentic but untrusted: reported per key by the review at the end, the
                 * same whether the revocation was known before or found later in the chain.
                 */
                authentic = 1;
                break;
        case LS_TRUST_OK:
                authentic = 1;
                break;
        case LS_TRUST_DENIED:
        case LS_TRUST_AFTER_CLOSE:
        case LS_TRUST_NOT_EVIDENCE:
                authentic = 1;
                report(v, LS_CLASS_TAMPERED, -EKEYREJECTED,
                       d.result == LS_TRUST_AFTER_CLOSE ? "epoch close" : "key validity", off, b,
                       h->first_seq, "signed by the key of epoch %" PRIu64 ": %s",
                       d.key ? d.key->epoch : h->epoch, d.why);
                ok = 0;
                break;
        }

        if (r == -EILSEQ) {
                report(v, LS_CLASS_TAMPERED, r, "payload hash", off + 8 + LS_BATCH_HEADER_LEN, b,
                       h->first_seq, "compressed payload does not match the signed digest");
                ok = 0;
        } else if (r < 0) {
                report(v, LS_CLASS_TAMPERED, r, "payload frame", off + 8 + LS_BATCH_HEADER_LEN, b,
                       h->first_seq, "payload is not one zstd frame of the declared size");
                ok = 0;
        }

        if (v->a.have_header && h->archive_no != v->a.hdr.archive_no) {
                report(v, LS_CLASS_TAMPERED, -EBADMSG, "archive number", off + 8 + 32, b,
                       h->first_seq, "batch says archive %" PRIu64 ", file header says %" PRIu64,
                       h->archive_no, v->a.hdr.archive_no);
                ok = 0;
        }

        /* links to the previous batch */
        if (v->have_prev_batch && v->links_known) {
                if (b != v->next_batch_no) {
                        report(v, LS_CLASS_TAMPERED, -EBADMSG, "batch order", off + 8 + 40, b,
                               h->first_seq,
                               b < v->next_batch_no ?
                                       "batch %" PRIu64 " repeated or out of order (expected %" PRIu64 ")" :
                                       "batch %" PRIu64 " follows a missing batch (expected %" PRIu64 ")",
                               b, v->next_batch_no);
                        ok = 0;
                } else if (!ls_hash_equal(h->prev_header_hash, v->prev_header_hash)) {
                        report(v, LS_CLASS_TAMPERED, -EILSEQ, "batch chain", off + 8 + 120, b,
                               h->first_seq, "previous-header hash does not match batch %" PRIu64,
                               b - 1);
                        ok = 0;
                }
                if (h->first_seq != v->next_seq) {
                        report(v, LS_CLASS_TAMPERED, -EBADMSG, "sequence", off + 8 + 48, b,
                               h->first_seq, "first sequence %" PRIu64 ", expected %" PRIu64,
                               h->first_seq, v->next_seq);
                        ok = 0;
                }
        } else if (v->a.have_header && v->a.batches == 1 &&
                   (b != v->a.hdr.first_batch_no || h->first_seq != v->a.hdr.first_seq)) {
                report(v, LS_CLASS_TAMPERED, -EBADMSG, "archive start", off, b, h->first_seq,
                       "first batch is not the one the archive header names (%" PRIu64 ")",
                       v->a.hdr.first_batch_no);
                ok = 0;
        }

        /* records, leaves and the Merkle root */
        int tree_ok = v->tree_valid && v->tree.size == h->first_seq, has_control = 0;
        if (payload_ok) {
                LsMerkle t = v->tree;
                uint64_t tmin = j->tmin, tmax = j->tmax;
                int k = j->k, recs_ok = 1;

                if (j->err < 0) {
                        report(v, LS_CLASS_IO, -ENOMEM, "memory", off, b, h->first_seq,
                               "out of memory");
                        return;
                }
                /* Pass 1 (decoded by the job): control records and times, in order. */
                for (uint32_t i = 0; i < j->nrec; i++) {
                        const RecInfo *ri = &j->recs[i];
                        LsControl ctl;
                        LsRecord rec = {
                                .type = ri->type,
                                .flags = ri->flags,
                                .seq = h->first_seq + i,
                                .time_ns = ri->time_ns,
                        };
                        size_t coff = 0;
                        int ck = -1;
                        if (rec.type == LS_REC_CONTROL) {
                                has_control = 1;
                                (void) ls_record_decode(&rec, raw + ri->off, ri->len, &coff);
                                coff = 0;
                                if ((ck = ls_control_decode(&ctl, rec.body, rec.body_len, &coff)) < 0) {
                                        report(v, LS_CLASS_TAMPERED, ck, "control record", off, b,
                                               rec.seq,
                                               "control record malformed at body offset %zu (%s)",
                                               coff,
                                               ck == -EPROTONOSUPPORT ? "unknown critical field" :
                                                                        "bad fields");
                                        ok = 0;
                                }
                        }
                        track_time(v, &rec, ck == 0 ? &ctl : NULL, b, off);
                }
                /* Pass 2: the job's perfect subtrees of the leaves, appended in order. */
                if (k == 0 && tree_ok)
                        for (unsigned i = 0; i < j->nsub && tree_ok; i++)
                                if (ls_merkle_append_subtree(&t, j->sub[i].hash, j->sub[i].height) < 0)
                                        tree_ok = 0;
                if (k < 0) {
                        report(v, LS_CLASS_TAMPERED, k, "record", off, b, j->it_next_seq,
                               "record %" PRIu32 " of the batch is malformed at payload offset %zu",
                               j->it_index, j->roff);
                        recs_ok = ok = 0;
                        tree_ok = 0;
                } else if (tmin != h->min_time_ns || tmax != h->max_time_ns) {
                        report(v, LS_CLASS_TAMPERED, -EBADMSG, "time range", off + 8 + 64, b,
                               h->first_seq, "header time range does not match the records");
                        ok = 0;
                }
                if (recs_ok && tree_ok) {
                        uint8_t root[LS_HASH_LEN];
                        ls_merkle_root(&t, root);
                        if (!ls_hash_equal(root, h->tree_root)) {
                                report(v, LS_CLASS_TAMPERED, -EILSEQ, "Merkle root", off + 8 + 88,
                                       b, h->first_seq,
                                       "tree root after this batch does not match the leaves");
                                ok = 0;
                                tree_ok = 0;
                        } else {
                                v->tree = t;
                        }
                }
        } else {
                tree_ok = 0;
        }
        if (!tree_ok) {
                v->tree_valid = 0;
                v->st.tree_checked_all = 0;
        }

        /* a suspected gap survives one further batch without a clock step: report it */
        if (v->gap.active && v->gap.batch < b)
                report_gap(v);

        /* advance */
        if (authentic) {
                v->next_batch_no = b + 1;
                v->next_seq = h->tree_size;
                ls_batch_header_hash(h, v->prev_header_hash);
                v->links_known = 1;
        } else {
                v->next_batch_no = v->have_prev_batch ? v->next_batch_no + 1 : b + 1;
                v->links_known = 0;
        }
        v->have_prev_batch = 1;

        if (ok) {
                v->st.batches_ok++;
                v->a.sum.batches_ok++;
                v->st.records += h->record_count;
                v->a.sum.records += h->record_count;
                if (v->st.first_batch == LS_UNSET) {
                        v->st.first_batch = b;
                        v->st.first_seq = h->first_seq;
                }
                v->st.last_batch = b;
                v->st.last_seq = h->tree_size - 1;
                memcpy(v->last_key_id, h->key_id, LS_KEY_ID_LEN);
                if (v->a.sum.first_seq == LS_UNSET)
                        v->a.sum.first_seq = h->first_seq;
                v->a.sum.last_seq = h->tree_size - 1;
                v->a.sum.min_time_ns = MIN(v->a.sum.min_time_ns, h->min_time_ns);
                v->a.sum.max_time_ns = MAX(v->a.sum.max_time_ns, h->max_time_ns);
                ls_trust_note_signed(v->trust, h);
                v->a.have_last = 1;
                v->a.last = *h;
                v->a.records += h->record_count;
                v->a.min_time = MIN(v->a.min_time, h->min_time_ns);
                v->a.max_time = MAX(v->a.max_time, h->max_time_ns);
                if (has_control)
                        learn_from_records(v, h, raw, rawlen, 1, off);
                if (v->cb.record && (has_control || v->cb.all_records)) {
                        LsPayloadIter it;
                        LsRecord rec;
                        const uint8_t *bytes;
                        size_t len, roff;

                        ls_payload_iter_init(&it, h, raw, rawlen);
                        while (ls_payload_next(&it, &rec, &bytes, &len, NULL, &roff) > 0)
                                if (rec.type == LS_REC_CONTROL || v->cb.all_records)
                                        v->cb.record(v->cb.userdata, h, &rec);
                }
                if (v->cb.batch)
                        v->cb.batch(v->cb.userdata, v->a.file, off, h);
        } else {
                v->st.batches_bad++;
                v->a.sum.batches_bad++;
                v->a.sum.bytes_unverified += j->length;
                v->a.damaged = 1;
        }
}

/* ---- archive header and trailer ---- */

static void verify_archive_header_sig(LsChainVerifier *v)
{
        const LsArchiveHeader *h = &v->a.hdr;
        LsKeyInfo *key = ls_trust_key(v->trust, h->key_id);
        LsTrustDecision d;

        if (!key)
                return; /* retried at the first batch, reported at the end of the archive */
        v->a.header_verified = -1;
        if (ls_archive_header_verify(h, key->pk) < 0) {
                report(v, LS_CLASS_TAMPERED, -EKEYREJECTED, "archive header signature",
                       v->a.offset_header, h->first_batch_no, h->first_seq,
                       "archive header signature does not verify");
                v->a.damaged = 1;
                return;
        }
        /*
         * The key must be one that may sign the archive's first batch. A revocation is judged
         * on the batches (SPEC §9.3), not on the header that precedes them.
         */
        ls_trust_may_sign(v->trust, h->key_id, h->chain_id, h->first_batch_no, h->created_ns, &d);
        if (h->epoch != key->epoch || (d.result != LS_TRUST_OK && d.result != LS_TRUST_REVOKED)) {
                report(v, LS_CLASS_TAMPERED, -EKEYREJECTED, "archive header key",
                       v->a.offset_header, h->first_batch_no, h->first_seq,
                       "archive header signed by a key not valid for batch %" PRIu64 ": %s",
                       h->first_batch_no, d.why ? d.why : "another epoch");
                v->a.damaged = 1;
                return;
        }
        v->a.header_verified = 1;
        /* Resume Merkle checking from the signed tree state when ours was lost. */
        if (!v->tree_valid && !v->have_prev_batch) {
                v->tree.size = h->first_seq;
                v->tree.n = h->peak_count;
                memcpy(v->tree.peaks, h->peaks, (size_t) h->peak_count * LS_HASH_LEN);
                v->tree_valid = 1;
        } else if (!v->tree_valid && v->next_seq == h->first_seq) {
                v->tree.size = h->first_seq;
                v->tree.n = h->peak_count;
                memcpy(v->tree.peaks, h->peaks, (size_t) h->peak_count * LS_HASH_LEN);
                v->tree_valid = 1;
        }
}

static void process_header(LsChainVerifier *v, const LsReadItem *item)
{
        const LsArchiveHeader *h = &item->header;

        v->a.have_header = 1;
        v->a.hdr = *h;
        v->a.offset_header = item->offset;
        v->a.sum.header_ok = 1;
        v->a.sum.archive_no = h->archive_no;
        if (!v->have_chain) {
                memcpy(v->chain_id, h->chain_id, LS_CHAIN_ID_LEN);
                v->have_chain = 1;
                ls_trust_set_chain(v->trust, h->chain_id);
        } else if (memcmp(v->chain_id, h->chain_id, LS_CHAIN_ID_LEN) != 0) {
                report(v, LS_CLASS_TAMPERED, -EBADMSG, "chain id", item->offset + 8 + 16,
                       h->first_batch_no, h->first_seq,
                       "archive belongs to another chain (spliced in)");
                v->a.damaged = 1;
        }
        if (!v->first_archive_seen) {
                v->first_archive_seen = 1;
                v->first_archive_no = h->archive_no;
                if (h->archive_no == 0)
                        v->tree_valid = 1;
                else
                        v->tree_valid = 0; /* taken from the peaks once the header verifies */
        }
        if (v->have_prev_archive) {
                if (h->archive_no < v->next_archive_no) {
                        report(v, LS_CLASS_TAMPERED, -EBADMSG, "archive order", item->offset + 8 + 32,
                               h->first_batch_no, h->first_seq,
                               "archive %" PRIu64 " repeated or out of order (expected %" PRIu64 ")",
                               h->archive_no, v->next_archive_no);
                        v->a.damaged = 1;
                } else if (h->archive_no > v->next_archive_no) {
                        report(v, LS_CLASS_GAP, -EBADMSG, "archive gap", item->offset,
                               h->first_batch_no, h->first_seq,
                               "archives %" PRIu64 "..%" PRIu64 " are missing",
                               v->next_archive_no, h->archive_no - 1);
                        /* The batch links across the gap cannot be checked. */
                        v->links_known = 0;
                        v->last_time = LS_UNSET;
                        v->tree_valid = 0;
                } else if (!v->prev_archive_sealed) {
                        report(v, LS_CLASS_TAMPERED, -EBADMSG, "archive seal", item->offset,
                               h->first_batch_no, h->first_seq,
                               "previous archive has no valid seal trailer but is followed by "
                               "this one (truncated or damaged)");
                } else if (!ls_hash_equal(h->prev_seal_hash, v->prev_seal_hash)) {
                        report(v, LS_CLASS_TAMPERED, -EILSEQ, "archive chain", item->offset + 8 + 64,
                               h->first_batch_no, h->first_seq,
                               "previous-seal hash does not match archive %" PRIu64,
                               h->archive_no - 1);
                        v->a.damaged = 1;
                }
        }
        if (v->have_prev_batch && v->links_known &&
            (h->first_batch_no != v->next_batch_no || h->first_seq != v->next_seq)) {
                report(v, LS_CLASS_TAMPERED, -EBADMSG, "archive start", item->offset + 8 + 40,
                       h->first_batch_no, h->first_seq,
                       "archive starts at batch %" PRIu64 " record %" PRIu64
                       ", expected batch %" PRIu64 " record %" PRIu64,
                       h->first_batch_no, h->first_seq, v->next_batch_no, v->next_seq);
                v->a.damaged = 1;
        }
        if (v->tree_valid && v->tree.size == h->first_seq &&
            (v->tree.n != h->peak_count ||
             memcmp(v->tree.peaks, h->peaks, (size_t) h->peak_count * LS_HASH_LEN) != 0)) {
                report(v, LS_CLASS_TAMPERED, -EILSEQ, "archive tree state",
                       item->offset + 8 + LS_ARCHIVE_HEADER_FIXED_LEN, h->first_batch_no,
                       h->first_seq, "tree state in the archive header does not match the chain");
                v->a.damaged = 1;
        }
        verify_archive_header_sig(v);
}

static void process_trailer(LsChainVerifier *v, const LsReadItem *item)
{
        const LsTrailer *t = &item->trailer;
        const uint64_t off = item->offset;
        uint64_t last = t->first_batch_no + t->batch_count - 1;
        LsKeyInfo *key = ls_trust_key(v->trust, t->key_id);
        LsTrustDecision d1 = {.result = LS_TRUST_UNKNOWN_KEY}, d2 = d1;
        int ok = 1;

        if (!ls_hash_equal(t->content_hash, item->content_hash)) {
                report(v, LS_CLASS_TAMPERED, -EILSEQ, "seal content hash", off + 8 + 168, last,
                       LS_UNSET, "archive bytes before the seal were modified");
                ok = 0;
        }
        if (!key || ls_trailer_verify(t, key->pk) < 0) {
                report(v, LS_CLASS_TAMPERED, -EKEYREJECTED, "seal signature", off + 8 + 216, last,
                       LS_UNSET, key ? "seal signature does not verify" : "seal key unknown");
                ok = 0;
        } else if ((ls_trust_may_sign(v->trust, t->key_id, t->chain_id, last, t->sealed_ns, &d1),
                    ls_trust_may_sign(v->trust, t->key_id, t->chain_id, last + 1, t->sealed_ns, &d2),
                    t->epoch != key->epoch ||
                            (d1.result != LS_TRUST_OK && d1.result != LS_TRUST_REVOKED &&
                             d2.result != LS_TRUST_OK && d2.result != LS_TRUST_REVOKED))) {
                report(v, LS_CLASS_TAMPERED, -EKEYREJECTED, "seal key", off + 8 + 200, last,
                       LS_UNSET, "seal signed by a key not valid at the end of this archive");
                ok = 0;
        }
        if (ok && (!v->a.have_header || memcmp(t->chain_id, v->a.hdr.chain_id, 16) != 0 ||
                   t->archive_no != v->a.hdr.archive_no ||
                   t->first_batch_no != v->a.hdr.first_batch_no ||
                   t->first_seq != v->a.hdr.first_seq)) {
                report(v, LS_CLASS_TAMPERED, -EBADMSG, "seal fields", off + 8 + 16, last, LS_UNSET,
                       "seal does not describe this archive");
                ok = 0;
        }
        if (ok && !v->a.damaged) {
                uint8_t lh[LS_HASH_LEN];
                if (v->a.have_last)
                        ls_batch_header_hash(&v->a.last, lh);
                if (!v->a.have_last || t->batch_count != v->a.batches ||
                    t->record_count != v->a.records || t->tree_size != v->a.last.tree_size ||
                    !ls_hash_equal(t->tree_root, v->a.last.tree_root) ||
                    !ls_hash_equal(t->last_header_hash, lh) || t->min_time_ns != v->a.min_time ||
                    t->max_time_ns != v->a.max_time) {
                        report(v, LS_CLASS_TAMPERED, -EBADMSG, "seal counts", off + 8 + 48, last,
                               LS_UNSET,
                               "seal counts, times or last batch do not match the batches read "
                               "(batches removed or added)");
                        ok = 0;
                }
        }
        if (ok) {
                v->a.sum.sealed = 1;
                ls_trailer_hash(t, v->prev_seal_hash);
        }
}

/* ---- the window of batches in flight ---- */

static size_t job_bytes(const BatchJob *j)
{
        return j->payload_cap + j->recs_cap * sizeof(RecInfo) + j->held_raw;
}

/* Takes the oldest batch's results (waiting for its job) and verifies it in order. */
static void take_oldest(LsChainVerifier *v)
{
        BatchJob *j = v->win_head;

        ls_pool_wait(v->pool, &j->pj);
        v->win_head = j->next;
        if (!v->win_head)
                v->win_tail = NULL;
        v->win_bytes -= j->cost;
        v->win_count--;
        verify_batch(v, j);
        if (job_bytes(j) > JOB_KEEP_BYTES || v->kept_bytes + job_bytes(j) > v->budget) {
                job_free(j);
                return;
        }
        v->kept_bytes += job_bytes(j);
        j->next = v->free_jobs;
        v->free_jobs = j;
}

static void drain(LsChainVerifier *v)
{
        while (v->win_head)
                take_oldest(v);
}

/*
 * Queues a batch: its bytes are copied into a job (the reader's buffer is reused for
 * the next item). The window holds at most `budget` bytes of compressed payload,
 * decompressed payload and record facts, and never fewer than one batch; jobs kept for
 * reuse hold at most another budget: memory is bounded whatever the archive size.
 * 0, or -ENOMEM with nothing queued.
 */
static int submit_batch(LsChainVerifier *v, const LsReadItem *item)
{
        const LsBatchHeader *h = &item->batch;
        size_t cost = item->payload_len + (size_t) h->payload_raw_len +
                      (size_t) h->record_count * sizeof(RecInfo);
        BatchJob *j;

        while (v->win_head && (v->win_bytes + cost > v->budget || v->win_count >= v->max_count))
                take_oldest(v);
        j = v->free_jobs;
        if (j) {
                v->free_jobs = j->next;
                v->kept_bytes -= job_bytes(j);
        } else {
                j = calloc(1, sizeof(*j));
                if (!j || ls_payload_new(&j->pc) < 0) {
                        free(j);
                        return -ENOMEM;
                }
                j->pj.run = job_run;
        }
        if (j->payload_cap < item->payload_len) {
                uint8_t *q = realloc(j->payload, item->payload_len);
                if (!q) {
                        job_free(j);
                        return -ENOMEM;
                }
                j->payload = q;
                j->payload_cap = item->payload_len;
        }
        memcpy(j->payload, item->payload, item->payload_len);
        j->payload_len = item->payload_len;
        j->h = *h;
        j->held_raw = MAX(j->held_raw, (size_t) MIN(h->payload_raw_len, LS_MAX_BATCH_RAW));
        j->offset = item->offset;
        j->length = item->length;
        j->cost = cost;
        j->next = NULL;
        if (v->win_tail)
                v->win_tail->next = j;
        else
                v->win_head = j;
        v->win_tail = j;
        v->win_bytes += cost;
        v->win_count++;
        ls_pool_submit(v->pool, &j->pj);
        if (!v->pool)
                take_oldest(v); /* one job: verified at once, as it was read */
        return 0;
}

/* ---- ls_chain_verifier_set_upto: the evidence ends at a checkpoint's batch ---- */

void ls_chain_verifier_set_upto(LsChainVerifier *v, uint64_t batch_no)
{
        v->upto = batch_no;
}

/* 1: item comes after batch upto (any item but that archive's trailer): not examined. */
static int upto_stop(LsChainVerifier *v, const LsReadItem *item)
{
        if (v->upto == LS_UNSET)
                return 0;
        if (v->upto_reached && item->kind != LS_ITEM_TRAILER)
                return 1;
        if (item->kind == LS_ITEM_BATCH && item->batch.batch_no >= v->upto)
                v->upto_reached = 1;
        return item->kind == LS_ITEM_BATCH && item->batch.batch_no > v->upto;
}

int ls_chain_verifier_upto_reached(const LsChainVerifier *v)
{
        return v->upto_reached;
}

int ls_chain_verify_archive(LsChainVerifier *v, int fd, const char *file)
{
        LsArchiveReader *rd = NULL;
        LsReadItem *item;
        int r;

        if (v->upto_reached) {
                close(fd); /* after the batch of set_upto: not examined */
                return 0;
        }
        memset(&v->a, 0, sizeof(v->a));
        v->a.file = file;
        v->a.min_time = UINT64_MAX;
        v->a.sum.file = file;
        v->a.sum.first_seq = v->a.sum.last_seq = LS_UNSET;
        v->a.sum.min_time_ns = UINT64_MAX;
        v->a.sum.archive_no = LS_UNSET;
        r = ls_archive_reader_new(&rd, fd);
        if (r < 0) {
                close(fd);
                report(v, LS_CLASS_IO, r, "open", LS_UNSET, LS_UNSET, LS_UNSET,
                       "cannot read archive: %s", strerror(-r));
                return r;
        }
        item = calloc(1, sizeof(*item));
        if (!item) {
                ls_archive_reader_free(rd);
                return -ENOMEM;
        }
        v->st.archives++;
        v->a.sum.file_size = ls_archive_reader_file_size(rd);
        while ((r = ls_archive_reader_next(rd, item)) > 0) {
                if (upto_stop(v, item))
                        break;
                /* Anything but a batch depends on the batches before it: take them first. */
                if (item->kind != LS_ITEM_BATCH)
                        drain(v);
                switch (item->kind) {
                case LS_ITEM_HEADER:
                        process_header(v, item);
                        break;
                case LS_ITEM_BATCH:
                        r = submit_batch(v, item);
                        if (r < 0) {
                                drain(v);
                                report(v, LS_CLASS_IO, r, "memory", item->offset,
                                       item->batch.batch_no, item->batch.first_seq,
                                       "out of memory");
                                v->a.sum.bytes_unverified += item->length;
                                v->a.damaged = 1;
                        }
                        break;
                case LS_ITEM_TRAILER:
                        process_trailer(v, item);
                        break;
                case LS_ITEM_DAMAGE:
                        v->last_time = LS_UNSET;
                        report(v, LS_CLASS_TAMPERED, item->error, item->what, item->error_offset,
                               LS_UNSET, LS_UNSET,
                               "%" PRIu64 " bytes at offset %" PRIu64 " are not a valid frame; "
                               "skipped to offset %" PRIu64,
                               item->length, item->offset, item->offset + item->length);
                        v->a.sum.bytes_unverified += item->length;
                        v->a.damaged = 1;
                        v->links_known = 0;
                        v->tree_valid = 0;
                        v->st.tree_checked_all = 0;
                        break;
                case LS_ITEM_TORN_TAIL:
                        report(v, LS_CLASS_PARTIAL, item->error, item->what, item->offset,
                               LS_UNSET, LS_UNSET,
                               "incomplete last frame of %" PRIu64 " bytes at offset %" PRIu64
                               " (unclean stop of an open archive); not verified",
                               item->length, item->offset);
                        v->a.sum.bytes_unverified += item->length;
                        break;
                }
        }
        drain(v);
        if (r < 0)
                report(v, LS_CLASS_IO, r, "read", ls_archive_reader_position(rd), LS_UNSET,
                       LS_UNSET, "read error: %s", strerror(-r));
        else
                ls_archive_reader_file_hash(rd, v->a.sum.file_hash);
        if (!v->a.have_header)
                report(v, LS_CLASS_TAMPERED, -EBADMSG, "archive header", 0, LS_UNSET, LS_UNSET,
                       "no valid archive header");
        else if (v->a.header_verified == 0)
                report(v, LS_CLASS_TAMPERED, -EKEYREJECTED, "archive header signature",
                       v->a.offset_header, v->a.hdr.first_batch_no, v->a.hdr.first_seq,
                       "archive header signed by a key not certified from the root key");
        if (v->a.sum.sealed)
                v->st.archives_sealed++;
        v->have_prev_archive = 1;
        v->prev_archive_sealed = v->a.sum.sealed;
        v->last_archive_open = !v->a.sum.sealed;
        if (v->a.have_header)
                v->next_archive_no = v->a.hdr.archive_no + 1;
        else
                v->next_archive_no++;
        if (v->cb.archive)
                v->cb.archive(v->cb.userdata, &v->a.sum);
        free(item);
        ls_archive_reader_free(rd);
        return r < 0 ? r : 0;
}

static void on_review(void *ud, const LsKeyInfo *k, LsTrustResult result, const char *detail)
{
        LsChainVerifier *v = ud;

        report(v, class_of(result), -EKEYREJECTED, result == LS_TRUST_REVOKED ? "revoked" : "epoch close",
               LS_UNSET, k->last_signed, LS_UNSET, "%s", detail);
}

/* SPEC §11.1: what the verdict guarantees given what the investigator supplied. */
static void make_guarantee(LsChainVerifier *v)
{
        const LsKeyInfo *k;
        const LsEpochClose *c;

        v->guarantee[0] = 0;
        if (v->st.last_batch == LS_UNSET)
                return;
        k = ls_trust_key(v->trust, v->last_key_id);
        if (!k || k->is_root)
                return;
        c = ls_trust_close(v->trust, k->chain_id, k->epoch);
        if (!ls_trust_epoch_ended(v->trust, k)) {
                /* only a history that itself certifies the last key says it is still in use */
                if (!k->in_history)
                        snprintf(v->guarantee, sizeof(v->guarantee),
                                 "Nothing you supplied comes from after this evidence: if a copy "
                                 "of any signing key it relies on survived the appliance's "
                                 "erasure, a truncation or rewrite after batch %" PRIu64
                                 " (the chain cut there and continued with fabricated batches) "
                                 "cannot be excluded. Supply the appliance's current key history "
                                 "(logsealctl key export-history) or a checkpoint published later "
                                 "to exclude it.",
                                 v->st.first_batch);
                else
                        snprintf(v->guarantee, sizeof(v->guarantee),
                                 "The key history you supplied shows the key of epoch %" PRIu64
                                 ", which signed the last batch, still in use: what it sealed "
                                 "after batch %" PRIu64
                                 " (a truncation of the tail) cannot be excluded without a "
                                 "checkpoint published later.",
                                 k->epoch, v->st.last_batch);
        } else if (c && c->last_batch_no == v->st.last_batch) {
                snprintf(v->guarantee, sizeof(v->guarantee),
                         "The evidence ends exactly at the end of epoch %" PRIu64
                         ", as its signed close states; the key history shows later epochs, "
                         "whose batches are not part of this evidence.",
                         k->epoch);
        } else if (!c && !(k->cert_flags & LS_CERT_F_CLOSED)) {
                snprintf(v->guarantee, sizeof(v->guarantee),
                         "The key history shows that epoch %" PRIu64
                         " ended, but its format-1 certificate does not bind the epoch to what "
                         "it sealed: a truncation after batch %" PRIu64
                         " and batches fabricated with a copy of that erased key cannot be "
                         "excluded. A checkpoint published later would settle it.",
                         k->epoch, k->valid_from_batch);
        }
}

void ls_chain_verifier_set_history(LsChainVerifier *v)
{
        v->have_history = 1;
}

/* The last key of the evidence is format 2 and has ended, but its close is not known. */
static int unbound_tail(LsChainVerifier *v)
{
        const LsKeyInfo *k;

        if (v->st.last_batch == LS_UNSET)
                return 0;
        k = ls_trust_key(v->trust, v->last_key_id);
        return k && !k->is_root && (k->cert_flags & LS_CERT_F_CLOSED) &&
               ls_trust_epoch_ended(v->trust, k) && !ls_trust_close(v->trust, k->chain_id, k->epoch);
}

LsClass ls_chain_verifier_finish(LsChainVerifier *v, LsVerifyStats *ret)
{
        LsClass c = LS_CLASS_INTACT;
        uint64_t known;

        report_gap(v);
        v->a.file = NULL;
        memset(&v->a.hdr, 0, sizeof(v->a.hdr));
        v->a.have_header = 0;
        /* Closes and revocations learnt after a key's batches apply to them too (§9.3). */
        ls_trust_review(v->trust, on_review, v);
        if (v->st.batches_ok == 0 && v->st.batches_bad == 0) {
                report(v, LS_CLASS_IO, -ENODATA, "evidence", LS_UNSET, LS_UNSET, LS_UNSET,
                       "no batches found");
        } else {
                if (v->first_archive_seen && v->first_archive_no != 0)
                        report(v, LS_CLASS_PARTIAL, 0, "chain start", LS_UNSET,
                               v->st.first_batch, v->st.first_seq,
                               "evidence starts at archive %" PRIu64
                               ", not at the chain's first archive",
                               v->first_archive_no);
                known = v->have_chain ? ls_trust_known_last_batch(v->trust, v->chain_id) : LS_UNSET;
                if (v->upto_reached)
                        ; /* the evidence ends at batch upto by request: its tail is not judged */
                else if (known != LS_UNSET && (v->st.last_batch == LS_UNSET || v->st.last_batch < known))
                        report(v, LS_CLASS_GAP, -ENODATA, "truncated chain", LS_UNSET,
                               v->st.last_batch, v->st.last_seq,
                               "the signed epoch closes you supplied show that the chain reached "
                               "batch %" PRIu64 ", but the evidence ends at batch %" PRIu64
                               ": the batches after it are missing",
                               known, v->st.last_batch);
                else if (unbound_tail(v))
                        report(v, LS_CLASS_PARTIAL, 0, "epoch close", LS_UNSET, v->st.last_batch,
                               v->st.last_seq,
                               "the evidence ends in an epoch that has ended (a successor key is "
                               "certified) but whose signed close is missing: what that epoch "
                               "sealed is not bound (SPEC §9.4)");
                else if (v->last_archive_open)
                        report(v, LS_CLASS_PARTIAL, 0, "open archive", LS_UNSET,
                               v->st.last_batch, v->st.last_seq,
                               "the last archive is open (not sealed): evidence may continue");
        }
        make_guarantee(v);
        {
                const LsKeyInfo *keys;
                v->st.keys = ls_trust_keys(v->trust, &keys);
        }
        for (int k = LS_CLASS_INTACT; k < LS_CLASS_NOTE; k++)
                if (v->st.findings[k] && ls_class_rank(k) > ls_class_rank(c))
                        c = k;
        if (ret)
                *ret = v->st;
        return c;
}

const char *ls_chain_verifier_guarantee(const LsChainVerifier *v)
{
        return v->guarantee;
}
