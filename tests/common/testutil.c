/* SPDX-License-Identifier: Apache-2.0 */
/* testutil.c: deterministic records, keys and the golden chain */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hash.h"
#include "testutil.h"
#include "util.h"

void tu_seed(uint8_t out[32], const char *name)
{
        LsSha256 s;

        ls_sha256_init(&s);
        ls_sha256_update(&s, "logseal-test-vector-", 20);
        ls_sha256_update(&s, name, strlen(name));
        ls_sha256_final(&s, out);
}

static LsRecord base(uint64_t t, uint8_t transport, const char *msg)
{
        LsRecord r = {
                .type = LS_REC_SYSLOG,
                .time_ns = t,
                .transport = transport,
                .body = (const uint8_t *) msg,
                .body_len = (uint32_t) strlen(msg),
        };
        r.orig_len = r.body_len;
        return r;
}

LsRecord tu_udp4(uint64_t t, const char *ip4, uint16_t port, const char *msg)
{
        LsRecord r = base(t, LS_TRANSPORT_UDP, msg);
        r.family = LS_FAMILY_IPV4;
        r.port = port;
        inet_pton(AF_INET, ip4, r.address);
        return r;
}

LsRecord tu_tcp6(uint64_t t, const uint8_t ip6[16], uint16_t port, uint32_t conn,
                 const char *msg)
{
        LsRecord r = base(t, LS_TRANSPORT_TCP, msg);
        r.family = LS_FAMILY_IPV6;
        r.port = port;
        r.conn_id = conn;
        memcpy(r.address, ip6, 16);
        return r;
}

LsRecord tu_unix(uint64_t t, uint32_t pid, uint32_t uid, uint32_t gid, const char *msg)
{
        LsRecord r = base(t, LS_TRANSPORT_UNIX_DGRAM, msg);
        ls_record_set_ucred(&r, pid, uid, gid);
        return r;
}

int tu_control(LsRecord *r, uint64_t t, LsControlBuilder *b)
{
        const uint8_t *body;
        size_t len;
        int k = ls_control_end(b, &body, &len);

        if (k < 0)
                return k;
        *r = (LsRecord){
                .type = LS_REC_CONTROL,
                .time_ns = t,
                .body = body,
                .body_len = (uint32_t) len,
                .orig_len = (uint32_t) len,
        };
        return 0;
}

int tu_cert(LsCert *c, const uint8_t chain_id[16], const LsKeyPair *subject, uint8_t kind,
            uint64_t valid_from_batch, uint64_t issued_ns, LsKeyPair *issuer)
{
        LsSigner s;

        memset(c, 0, sizeof(*c));
        c->kind = kind;
        if (kind == LS_CERT_SIGNING)
                memcpy(c->chain_id, chain_id, LS_CHAIN_ID_LEN);
        memcpy(c->pk, subject->pk, LS_PK_LEN);
        c->epoch = subject->epoch;
        c->valid_from_batch = valid_from_batch;
        c->issued_ns = issued_ns;
        ls_signer_from_keypair(&s, issuer);
        return ls_cert_sign(c, &s);
}

int tu_read_file(const char *path, size_t max, uint8_t **ret, size_t *ret_len)
{
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
        struct stat st;
        uint8_t *p;
        size_t got = 0;

        if (fd < 0)
                return -errno;
        if (fstat(fd, &st) < 0)
                return -errno;
        if ((uint64_t) st.st_size > max)
                return -E2BIG;
        p = malloc((size_t) st.st_size + 1);
        if (!p)
                return -ENOMEM;
        while (got < (size_t) st.st_size) {
                ssize_t k = read(fd, p + got, (size_t) st.st_size - got);
                if (k <= 0) {
                        free(p);
                        return k < 0 ? -errno : -EIO;
                }
                got += (size_t) k;
        }
        p[got] = 0;
        *ret = p;
        *ret_len = got;
        return 0;
}

int tu_write_file(const char *path, const void *p, size_t n)
{
        _cleanup_close_ int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        const uint8_t *q = p;

        if (fd < 0)
                return -errno;
        while (n > 0) {
                ssize_t k = write(fd, q, n);
                if (k < 0)
                        return -errno;
                q += k;
                n -= (size_t) k;
        }
        return 0;
}

static void golden_seed(void *ud, uint64_t batch_no, uint8_t out[LS_HASH_LEN])
{
        char name[64];

        (void) ud;
        snprintf(name, sizeof(name), "salt-seed-%llu", (unsigned long long) batch_no);
        tu_seed(out, name);
}

#define CHECK(x)                                                                                   \
        do {                                                                                       \
                int _r = (x);                                                                      \
                if (_r < 0)                                                                        \
                        return _r;                                                                 \
        } while (0)

static int add(LsChainWriter *w, LsRecord r)
{
        return ls_chain_writer_add(w, &r);
}

static int add_ctl(LsChainWriter *w, uint64_t t, LsControlBuilder *b)
{
        LsRecord r;
        CHECK(tu_control(&r, t, b));
        return ls_chain_writer_add(w, &r);
}

int tu_golden_chain(int dirfd, TuGolden *g)
{
        static const uint8_t ip6[16] = {0x20, 0x01, 0x0d, 0xb8, [15] = 0x42};
        static const uint8_t boot_id[16] = {0xb0, 0x07, [15] = 0x01};
        uint8_t seed[32], cert_bytes[LS_CERT_LEN];
        LsChainWriterConfig cfg = {
                .dirfd = dirfd,
                .zstd_level = 3,
                .max_batch_raw = 1 << 20,
                .max_batch_records = 1000,
                .seed_fn = golden_seed,
        };
        LsChainWriter *w = NULL;
        LsControlBuilder *b;
        LsSigner s0, s1;
        LsRecord r;
        uint64_t t = TU_T0;
        int k;

        memset(g, 0, sizeof(*g));
        tu_seed(seed, "chain-id");
        memcpy(g->chain_id, seed, LS_CHAIN_ID_LEN);
        memcpy(cfg.chain_id, g->chain_id, LS_CHAIN_ID_LEN);
        tu_seed(seed, "root-key");
        CHECK(ls_keypair_from_seed(&g->root, seed, 0));
        tu_seed(seed, "epoch-key-0");
        CHECK(ls_keypair_from_seed(&g->epoch0, seed, 0));
        tu_seed(seed, "epoch-key-1");
        CHECK(ls_keypair_from_seed(&g->epoch1, seed, 1));
        CHECK(tu_cert(&g->cert0, g->chain_id, g->epoch0, LS_CERT_SIGNING, 0, t, g->root));
        CHECK(tu_cert(&g->cert1, g->chain_id, g->epoch1, LS_CERT_SIGNING, 4, t + 3000000000,
                      g->epoch0));
        ls_signer_from_keypair(&s0, g->epoch0);
        ls_signer_from_keypair(&s1, g->epoch1);

        b = malloc(sizeof(*b));
        if (!b)
                return -ENOMEM;
        k = ls_chain_writer_new(&w, &cfg, NULL);
        if (k < 0)
                goto out;

#define TRY(x)                                                                                     \
        do {                                                                                       \
                k = (x);                                                                           \
                if (k < 0)                                                                         \
                        goto out;                                                                  \
        } while (0)

        /* batch 0: epoch-0 certificate, start, three messages */
        ls_cert_encode(&g->cert0, cert_bytes);
        ls_control_begin(b, LS_CTL_KEY_TRANSITION);
        ls_control_add_str(b, LS_TAG_TEXT, "initial signing key certified by the root key");
        ls_control_add(b, LS_TAG_CERT, cert_bytes, LS_CERT_LEN);
        TRY(add_ctl(w, t, b));
        ls_control_begin(b, LS_CTL_START);
        ls_control_add(b, LS_TAG_BOOT_ID, boot_id, sizeof(boot_id));
        ls_control_add_str(b, LS_TAG_VERSION, "0.1.0");
        ls_control_add_u32(b, LS_TAG_PID, 4242);
        TRY(add_ctl(w, t, b));
        TRY(add(w, tu_udp4(t + 1000, "192.0.2.10", 514,
                           "<34>1 2026-01-01T00:00:00.000001Z host1 su - ID47 - 'su root' failed")));
        TRY(add(w, tu_tcp6(t + 2000, ip6, 40001, 1,
                           "<13>Jan  1 00:00:00 host2 sshd[99]: Accepted publickey for alice")));
        r = tu_unix(t + 3000, 777, 0, 0, "<14>local message from a unix socket");
        TRY(ls_chain_writer_add(w, &r));
        TRY(ls_chain_writer_flush(w, &s0, t + 4000, &g->batches[0]));

        /* batch 1: flags and an authenticated identity */
        t += 1000000000;
        r = tu_tcp6(t, ip6, 40001, 1, "not syslog at all \x01\x02\xff");
        r.flags = LS_RECF_PARSE_FAILED;
        TRY(ls_chain_writer_add(w, &r));
        r = tu_tcp6(t + 1, ip6, 40001, 1, "<13>1 2026-01-01T00:00:01Z h a - - - truncat");
        r.flags = LS_RECF_TRUNCATED;
        r.orig_len = 70000;
        TRY(ls_chain_writer_add(w, &r));
        r = tu_unix(t + 2, 1234, 0, 0, "<13>1 2026-01-01T00:00:01Z agency-host app - - - via TLS");
        r.transport = LS_TRANSPORT_UNIX_STREAM;
        r.conn_id = 2;
        r.identity = (const uint8_t *) "CN=agency-host.example.gob.mx,O=Agency";
        r.identity_len = (uint16_t) strlen((const char *) r.identity);
        TRY(ls_chain_writer_add(w, &r));
        TRY(ls_chain_writer_flush(w, &s0, t + 3, &g->batches[1]));

        /* batch 2: heartbeat and a declared loss; then seal archive 0 */
        t += 1000000000;
        ls_control_begin(b, LS_CTL_LOSS);
        ls_control_add_u64(b, LS_TAG_COUNT, 3);
        ls_control_add_u64(b, LS_TAG_FIRST_TIME, t - 500);
        ls_control_add_u64(b, LS_TAG_LAST_TIME, t - 100);
        ls_control_add_u16(b, LS_TAG_CAUSE, LS_LOSS_UDP_OVERFLOW);
        ls_control_add_str(b, LS_TAG_SOURCE, "udp:0.0.0.0:514");
        TRY(add_ctl(w, t, b));
        ls_control_begin(b, LS_CTL_HEARTBEAT);
        ls_control_add_u64(b, LS_TAG_RECEIVED, 6);
        ls_control_add_u64(b, LS_TAG_LOST, 3);
        TRY(add_ctl(w, t + 1, b));
        TRY(ls_chain_writer_flush(w, &s0, t + 2, &g->batches[2]));
        TRY(ls_chain_writer_seal(w, &s0, t + 3));

        /* batch 3 (archive 1): a message and the transition to epoch 1 */
        t += 1000000000;
        TRY(add(w, tu_udp4(t, "198.51.100.7", 51514, "<165>1 2026-01-01T00:00:03Z r1 - - - ok")));
        ls_cert_encode(&g->cert1, cert_bytes);
        ls_control_begin(b, LS_CTL_KEY_TRANSITION);
        ls_control_add(b, LS_TAG_CERT, cert_bytes, LS_CERT_LEN);
        TRY(add_ctl(w, t + 1, b));
        TRY(ls_chain_writer_flush(w, &s0, t + 2, &g->batches[3]));

        /* batch 4: signed by epoch 1; stop; seal with epoch 1 */
        t += 1000000000;
        TRY(add(w, tu_udp4(t, "198.51.100.7", 51514, "<165>1 2026-01-01T00:00:04Z r1 - - - bye")));
        ls_control_begin(b, LS_CTL_STOP);
        ls_control_add_str(b, LS_TAG_TEXT, "SIGTERM");
        ls_control_add_u64(b, LS_TAG_RECEIVED, 8);
        TRY(add_ctl(w, t + 1, b));
        TRY(ls_chain_writer_flush(w, &s1, t + 2, &g->batches[4]));
        TRY(ls_chain_writer_seal(w, &s1, t + 3));
        k = 0;
out:
        ls_chain_writer_free(w);
        free(b);
        return k;
}

void tu_golden_free(TuGolden *g)
{
        g->root = ls_keypair_free(g->root);
        g->epoch0 = ls_keypair_free(g->epoch0);
        g->epoch1 = ls_keypair_free(g->epoch1);
}
