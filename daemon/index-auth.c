/* SPDX-License-Identifier: Apache-2.0 */
/* index-auth.c: which batches the state directory's keys vouch for (see index.h) */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hash.h"
#include "index.h"
#include "magic.h"
#include "state.h"
#include "trust.h"
#include "util.h"

/* As the appliance's own limit for keys/history.lsk (keyfile.c). */
#define AUTH_HISTORY_MAX (16u << 20)
#define AUTH_ERR_MAX 512

struct IndexAuth {
        int state_dirfd;
        uint8_t chain_id[LS_CHAIN_ID_LEN];
        uint8_t root_pk[LS_PK_LEN];
        LsTrust *t;
        struct stat hist;          /* keys/history.lsk as loaded (st_ino 0: absent) */
        char err[AUTH_ERR_MAX];
};

static _Thread_local char new_err[AUTH_ERR_MAX];

static int auth_fail(IndexAuth *a, int r, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));
static int auth_fail(IndexAuth *a, int r, const char *fmt, ...)
{
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(a ? a->err : new_err, AUTH_ERR_MAX, fmt, ap);
        va_end(ap);
        return r;
}

const char *index_auth_error(const IndexAuth *a)
{
        return a ? a->err : new_err;
}

/*
 * The bytes of keys/history.lsk from `o` on are the start of one item cut short (the signer
 * appending it right now): what is before them is the history as it stood.
 */
static int torn_tail(const uint8_t *p, size_t n, size_t o)
{
        size_t len;
        char kind;

        return ls_history_item(p + o, n - o, &kind, &len) == -ENODATA;
}

/*
 * A new trust authority holding the root key and what keys/history.lsk certifies, revokes
 * and closes, bound to this chain. formats/read/trust.c alone decides what it accepts.
 */
static int auth_load(IndexAuth *a)
{
        _cleanup_free_ uint8_t *p = NULL;
        LsTrust *t = NULL;
        struct stat st = {};
        size_t n = 0, off = 0;
        int r;

        /* Stat first: a history that grows while it is read reads as changed later. */
        if (fstatat(a->state_dirfd, STATE_HISTORY, &st, 0) < 0 && errno != ENOENT)
                return auth_fail(a, -errno, "%s: %s", STATE_HISTORY, strerror(errno));
        r = read_file_at(a->state_dirfd, STATE_HISTORY, AUTH_HISTORY_MAX, &p, &n);
        if (r == -ENOENT)
                n = 0;
        else if (r < 0)
                return auth_fail(a, r, "%s: %s", STATE_HISTORY, strerror(-r));
        r = ls_trust_new(&t, a->root_pk);
        if (r < 0)
                return auth_fail(a, r, "%s", strerror(-r));
        ls_trust_set_chain(t, a->chain_id);
        r = ls_trust_load_history(t, p, n, NULL, NULL, &off);
        if (r == -EBADMSG && torn_tail(p, n, off))
                r = ls_trust_load_history(t, p, off, NULL, NULL, &off);
        if (r < 0) {
                ls_trust_free(t);
                if (r == -EBADMSG)
                        return auth_fail(a, r, "%s: offset %zu: not a certificate, revocation "
                                               "or epoch close",
                                         STATE_HISTORY, off);
                return auth_fail(a, r, "%s: %s", STATE_HISTORY, strerror(-r));
        }
        ls_trust_free(a->t);
        a->t = t;
        a->hist = st;
        return 0;
}

int index_auth_new(IndexAuth **ret, int state_dirfd, const uint8_t chain_id[LS_CHAIN_ID_LEN])
{
        _cleanup_free_ uint8_t *text = NULL;
        uint8_t key_id[LS_KEY_ID_LEN];
        IndexAuth *a;
        size_t n;
        int r;

        r = read_file_at(state_dirfd, STATE_ROOT_PUB, LS_PUBKEY_TEXT_MAX, &text, &n);
        if (r < 0)
                return auth_fail(NULL, r, "%s: %s", STATE_ROOT_PUB, strerror(-r));
        a = calloc(1, sizeof(*a));
        if (!a)
                return auth_fail(NULL, -ENOMEM, "out of memory");
        a->state_dirfd = -1;
        r = ls_pubkey_parse((const char *) text, n, a->root_pk, key_id);
        if (r < 0) {
                index_auth_free(a);
                return auth_fail(NULL, r, "%s: not a public key file", STATE_ROOT_PUB);
        }
        memcpy(a->chain_id, chain_id, LS_CHAIN_ID_LEN);
        a->state_dirfd = fcntl(state_dirfd, F_DUPFD_CLOEXEC, 3);
        if (a->state_dirfd < 0) {
                r = -errno;
                index_auth_free(a);
                return auth_fail(NULL, r, "%s", strerror(-r));
        }
        r = auth_load(a);
        if (r < 0) {
                auth_fail(NULL, r, "%s", a->err);
                index_auth_free(a);
                return r;
        }
        *ret = a;
        return 0;
}

IndexAuth *index_auth_free(IndexAuth *a)
{
        if (!a)
                return NULL;
        ls_trust_free(a->t);
        if (a->state_dirfd >= 0)
                close(a->state_dirfd);
        free(a);
        return NULL;
}

/* keys/history.lsk changed since it was loaded (logseald certified a new key meanwhile)? */
static int history_changed(IndexAuth *a)
{
        struct stat st;

        if (fstatat(a->state_dirfd, STATE_HISTORY, &st, 0) < 0)
                return 0;
        return st.st_ino != a->hist.st_ino || st.st_size != a->hist.st_size ||
               st.st_mtim.tv_sec != a->hist.st_mtim.tv_sec ||
               st.st_mtim.tv_nsec != a->hist.st_mtim.tv_nsec;
}

int index_auth_batch(IndexAuth *a, const LsBatchHeader *h, char *why, size_t cap)
{
        char hex[2 * LS_KEY_ID_LEN + 1];
        LsTrustDecision d = {};
        int r;

        a->err[0] = 0;
        ls_trust_check_batch(a->t, h, &d);
        if (d.result == LS_TRUST_UNKNOWN_KEY && history_changed(a)) {
                r = auth_load(a);
                if (r < 0)
                        return r;
                ls_trust_check_batch(a->t, h, &d);
        }
        /*
         * d.unbound (an ended epoch whose close is not known, as in format-1 chains) is no
         * reason to withhold a record here: the signature and the key's window check out.
         * Whether the evidence is bound to its epoch is logseal-verify's to report.
         */
        if (d.result == LS_TRUST_OK)
                return 0;
        ls_hex(hex, h->key_id, LS_KEY_ID_LEN);
        snprintf(why, cap, "%s (key %s, epoch %" PRIu64 "): %s", ls_trust_result_name(d.result),
                 hex, h->epoch,
                 d.why ? d.why : "");
        return -EKEYREJECTED;
}
