/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sha256.c: SHA-256 (FIPS 180-4) behind the LsSha256 API of hash.h.
 *
 * On x86 CPUs with the SHA extensions (SHA-NI) the compression function runs on
 * sha256rnds2/sha256msg1/sha256msg2; the functions that use them carry a target
 * attribute, so the rest of the build keeps the default instruction set. Everywhere
 * else the state is libsodium's and libsodium does all the work: there is no second
 * portable implementation here. The choice is made once, at first use (CPUID), and
 * recorded in each state at init, so a state always finishes with the implementation
 * that started it.
 */
#include <string.h>

#include <sodium.h>

#include "hash.h"
#include "util.h"

#if (defined(__x86_64__) || defined(__i386__)) && (defined(__GNUC__) || defined(__clang__))
#define LS_HAVE_SHA_NI 1
#include <cpuid.h>
#include <immintrin.h>
#else
#define LS_HAVE_SHA_NI 0
#endif

enum {
        IMPL_UNKNOWN = 0,
        IMPL_SHA_NI = 1,
        IMPL_SODIUM = 2,
};

static int impl_detected = IMPL_UNKNOWN; /* what the CPU supports, set once */
static int impl_forced;                  /* test switch: 1 = libsodium regardless */

static const uint32_t sha256_iv[8] = {
        0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
        0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
};

#if LS_HAVE_SHA_NI

static const uint32_t sha256_k[64] __attribute__((aligned(16))) = {
        0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4,
        0xab1c5ed5, 0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe,
        0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f,
        0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7,
        0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc,
        0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b,
        0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116,
        0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
        0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7,
        0xc67178f2,
};

/* Four rounds t = 4i .. 4i+3 on the message words in w (W[t] + K[t] added here). */
#define SHA_NI_ROUNDS4(i, w)                                                                       \
        do {                                                                                       \
                __m128i m_ = _mm_add_epi32(                                                        \
                        (w), _mm_load_si128((const __m128i *) (const void *) &sha256_k[4 * (i)])); \
                cdgh = _mm_sha256rnds2_epu32(cdgh, abef, m_);                                      \
                m_ = _mm_shuffle_epi32(m_, 0x0E);                                                  \
                abef = _mm_sha256rnds2_epu32(abef, cdgh, m_);                                      \
        } while (0)

/*
 * Message schedule: with w0..w3 = W[t-16..t-13], W[t-12..t-9], W[t-8..t-5], W[t-4..t-1],
 * w0 becomes W[t..t+3] = σ1(W[t-2..]) + W[t-7..] + σ0(W[t-15..]) + W[t-16..].
 */
#define SHA_NI_SCHEDULE(w0, w1, w2, w3)                                                            \
        (w0) = _mm_sha256msg2_epu32(                                                               \
                _mm_add_epi32(_mm_sha256msg1_epu32((w0), (w1)), _mm_alignr_epi8((w3), (w2), 4)),   \
                (w3))

/* Compresses n >= 1 consecutive 64-byte blocks at p into h (host-order words a..h). */
__attribute__((target("sha,sse4.1"))) static void sha256_blocks_ni(uint32_t h[8], const uint8_t *p,
                                                                   size_t n)
{
        /* Byte swap of each 32-bit word: the message is big-endian. */
        const __m128i bswap = _mm_set_epi64x(0x0c0d0e0f08090a0bLL, 0x0405060700010203LL);
        __m128i abef, cdgh, tmp, abef_save, cdgh_save, w0, w1, w2, w3;

        /* h[0..3] = DCBA, h[4..7] = HGFE (lane 3..0) -> ABEF and CDGH as sha256rnds2 wants. */
        tmp = _mm_loadu_si128((const __m128i *) (const void *) &h[0]);
        cdgh = _mm_loadu_si128((const __m128i *) (const void *) &h[4]);
        tmp = _mm_shuffle_epi32(tmp, 0xB1);      /* CDAB */
        cdgh = _mm_shuffle_epi32(cdgh, 0x1B);    /* EFGH */
        abef = _mm_alignr_epi8(tmp, cdgh, 8);    /* ABEF */
        cdgh = _mm_blend_epi16(cdgh, tmp, 0xF0); /* CDGH */

        do {
                abef_save = abef;
                cdgh_save = cdgh;

                w0 = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *) (const void *) p), bswap);
                w1 = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *) (const void *) (p + 16)),
                                      bswap);
                w2 = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *) (const void *) (p + 32)),
                                      bswap);
                w3 = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *) (const void *) (p + 48)),
                                      bswap);

                SHA_NI_ROUNDS4(0, w0);
                SHA_NI_ROUNDS4(1, w1);
                SHA_NI_ROUNDS4(2, w2);
                SHA_NI_ROUNDS4(3, w3);

                SHA_NI_SCHEDULE(w0, w1, w2, w3);
                SHA_NI_ROUNDS4(4, w0);
                SHA_NI_SCHEDULE(w1, w2, w3, w0);
                SHA_NI_ROUNDS4(5, w1);
                SHA_NI_SCHEDULE(w2, w3, w0, w1);
                SHA_NI_ROUNDS4(6, w2);
                SHA_NI_SCHEDULE(w3, w0, w1, w2);
                SHA_NI_ROUNDS4(7, w3);

                SHA_NI_SCHEDULE(w0, w1, w2, w3);
                SHA_NI_ROUNDS4(8, w0);
                SHA_NI_SCHEDULE(w1, w2, w3, w0);
                SHA_NI_ROUNDS4(9, w1);
                SHA_NI_SCHEDULE(w2, w3, w0, w1);
                SHA_NI_ROUNDS4(10, w2);
                SHA_NI_SCHEDULE(w3, w0, w1, w2);
                SHA_NI_ROUNDS4(11, w3);

                SHA_NI_SCHEDULE(w0, w1, w2, w3);
                SHA_NI_ROUNDS4(12, w0);
                SHA_NI_SCHEDULE(w1, w2, w3, w0);
                SHA_NI_ROUNDS4(13, w1);
                SHA_NI_SCHEDULE(w2, w3, w0, w1);
                SHA_NI_ROUNDS4(14, w2);
                SHA_NI_SCHEDULE(w3, w0, w1, w2);
                SHA_NI_ROUNDS4(15, w3);

                abef = _mm_add_epi32(abef, abef_save);
                cdgh = _mm_add_epi32(cdgh, cdgh_save);
                p += 64;
        } while (--n > 0);

        /* ABEF, CDGH -> DCBA, HGFE */
        tmp = _mm_shuffle_epi32(abef, 0x1B);     /* FEBA */
        cdgh = _mm_shuffle_epi32(cdgh, 0xB1);    /* DCHG */
        abef = _mm_blend_epi16(tmp, cdgh, 0xF0); /* DCBA */
        cdgh = _mm_alignr_epi8(cdgh, tmp, 8);    /* HGFE */
        _mm_storeu_si128((__m128i *) (void *) &h[0], abef);
        _mm_storeu_si128((__m128i *) (void *) &h[4], cdgh);
}

/*
 * Two independent messages, one block each: the same rounds as sha256_blocks_ni() written
 * twice side by side. sha256rnds2 has a latency of several cycles and one stream leaves the
 * SHA unit waiting; two streams fill those cycles (issue 16: leaves, salts and tree nodes
 * of a batch are independent hashes).
 */
#define SHA_NI_LOAD_STATE(h, abef, cdgh)                                                           \
        do {                                                                                       \
                __m128i t_ = _mm_loadu_si128((const __m128i *) (const void *) &(h)[0]);             \
                cdgh = _mm_loadu_si128((const __m128i *) (const void *) &(h)[4]);                  \
                t_ = _mm_shuffle_epi32(t_, 0xB1);                                                  \
                cdgh = _mm_shuffle_epi32(cdgh, 0x1B);                                              \
                abef = _mm_alignr_epi8(t_, cdgh, 8);                                               \
                cdgh = _mm_blend_epi16(cdgh, t_, 0xF0);                                            \
        } while (0)
#define SHA_NI_STORE_STATE(h, abef, cdgh)                                                          \
        do {                                                                                       \
                __m128i t_ = _mm_shuffle_epi32(abef, 0x1B);                                        \
                cdgh = _mm_shuffle_epi32(cdgh, 0xB1);                                              \
                abef = _mm_blend_epi16(t_, cdgh, 0xF0);                                            \
                cdgh = _mm_alignr_epi8(cdgh, t_, 8);                                               \
                _mm_storeu_si128((__m128i *) (void *) &(h)[0], abef);                              \
                _mm_storeu_si128((__m128i *) (void *) &(h)[4], cdgh);                              \
        } while (0)
#define SHA_NI_ROUNDS4_X2(i, wa, wb)                                                               \
        do {                                                                                       \
                const __m128i k_ = _mm_load_si128((const __m128i *) (const void *) &sha256_k[4 * (i)]); \
                __m128i ma_ = _mm_add_epi32((wa), k_), mb_ = _mm_add_epi32((wb), k_);              \
                cdgh_a = _mm_sha256rnds2_epu32(cdgh_a, abef_a, ma_);                               \
                cdgh_b = _mm_sha256rnds2_epu32(cdgh_b, abef_b, mb_);                               \
                ma_ = _mm_shuffle_epi32(ma_, 0x0E);                                                \
                mb_ = _mm_shuffle_epi32(mb_, 0x0E);                                                \
                abef_a = _mm_sha256rnds2_epu32(abef_a, cdgh_a, ma_);                               \
                abef_b = _mm_sha256rnds2_epu32(abef_b, cdgh_b, mb_);                               \
        } while (0)

__attribute__((target("sha,sse4.1"))) static void sha256_block_ni_x2(uint32_t ha[8],
                                                                     const uint8_t *pa,
                                                                     uint32_t hb[8],
                                                                     const uint8_t *pb)
{
        const __m128i bswap = _mm_set_epi64x(0x0c0d0e0f08090a0bLL, 0x0405060700010203LL);
        __m128i abef_a, cdgh_a, abef_b, cdgh_b, sa0, sa1, sb0, sb1;
        __m128i a0, a1, a2, a3, b0, b1, b2, b3;

        SHA_NI_LOAD_STATE(ha, abef_a, cdgh_a);
        SHA_NI_LOAD_STATE(hb, abef_b, cdgh_b);
        sa0 = abef_a;
        sa1 = cdgh_a;
        sb0 = abef_b;
        sb1 = cdgh_b;
#define LD(p, o) _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *) (const void *) ((p) + (o))), bswap)
        a0 = LD(pa, 0);
        a1 = LD(pa, 16);
        a2 = LD(pa, 32);
        a3 = LD(pa, 48);
        b0 = LD(pb, 0);
        b1 = LD(pb, 16);
        b2 = LD(pb, 32);
        b3 = LD(pb, 48);
#undef LD
        SHA_NI_ROUNDS4_X2(0, a0, b0);
        SHA_NI_ROUNDS4_X2(1, a1, b1);
        SHA_NI_ROUNDS4_X2(2, a2, b2);
        SHA_NI_ROUNDS4_X2(3, a3, b3);
        for (int i = 4; i < 16; i += 4) {
                SHA_NI_SCHEDULE(a0, a1, a2, a3);
                SHA_NI_SCHEDULE(b0, b1, b2, b3);
                SHA_NI_ROUNDS4_X2(i, a0, b0);
                SHA_NI_SCHEDULE(a1, a2, a3, a0);
                SHA_NI_SCHEDULE(b1, b2, b3, b0);
                SHA_NI_ROUNDS4_X2(i + 1, a1, b1);
                SHA_NI_SCHEDULE(a2, a3, a0, a1);
                SHA_NI_SCHEDULE(b2, b3, b0, b1);
                SHA_NI_ROUNDS4_X2(i + 2, a2, b2);
                SHA_NI_SCHEDULE(a3, a0, a1, a2);
                SHA_NI_SCHEDULE(b3, b0, b1, b2);
                SHA_NI_ROUNDS4_X2(i + 3, a3, b3);
        }
        abef_a = _mm_add_epi32(abef_a, sa0);
        cdgh_a = _mm_add_epi32(cdgh_a, sa1);
        abef_b = _mm_add_epi32(abef_b, sb0);
        cdgh_b = _mm_add_epi32(cdgh_b, sb1);
        SHA_NI_STORE_STATE(ha, abef_a, cdgh_a);
        SHA_NI_STORE_STATE(hb, abef_b, cdgh_b);
}

static int detect(void)
{
        unsigned a, b, c, d;

        /* SHA: CPUID.(7,0):EBX[29]; SSSE3 and SSE4.1: CPUID.1:ECX[9] and [19]. */
        if (__get_cpuid_max(0, NULL) < 7 || !__get_cpuid_count(7, 0, &a, &b, &c, &d) ||
            !(b & (1u << 29)))
                return IMPL_SODIUM;
        if (!__get_cpuid(1, &a, &b, &c, &d) || !(c & (1u << 9)) || !(c & (1u << 19)))
                return IMPL_SODIUM;
        return IMPL_SHA_NI;
}

#else /* !LS_HAVE_SHA_NI */

static void sha256_blocks_ni(uint32_t h[8], const uint8_t *p, size_t n)
{
        abort(); /* never selected */
}

static void sha256_block_ni_x2(uint32_t ha[8], const uint8_t *pa, uint32_t hb[8],
                               const uint8_t *pb)
{
        abort(); /* never selected */
}

static int detect(void)
{
        return IMPL_SODIUM;
}

#endif

/*
 * The implementation for a state initialised now. Threads may race on the first call;
 * they all compute and store the same value.
 */
static int impl(void)
{
        int v = __atomic_load_n(&impl_detected, __ATOMIC_RELAXED);

        if (_unlikely_(v == IMPL_UNKNOWN)) {
                v = detect();
                __atomic_store_n(&impl_detected, v, __ATOMIC_RELAXED);
        }
        if (_unlikely_(__atomic_load_n(&impl_forced, __ATOMIC_RELAXED)))
                return IMPL_SODIUM;
        return v;
}

int ls_sha256_force_portable(int on)
{
        __atomic_store_n(&impl_forced, on ? 1 : 0, __ATOMIC_RELAXED);
        return impl() == IMPL_SHA_NI;
}

const char *ls_sha256_implementation(void)
{
        return impl() == IMPL_SHA_NI ? "sha-ni" : "libsodium";
}

static inline void store_be32(uint8_t *p, uint32_t v)
{
        p[0] = (uint8_t) (v >> 24);
        p[1] = (uint8_t) (v >> 16);
        p[2] = (uint8_t) (v >> 8);
        p[3] = (uint8_t) v;
}

static inline void store_be64(uint8_t *p, uint64_t v)
{
        store_be32(p, (uint32_t) (v >> 32));
        store_be32(p + 4, (uint32_t) v);
}

/*
 * Pads the last r < 64 bytes of a message of total bytes, already in buf, compresses
 * and writes the digest. buf is clobbered.
 */
static void finish_ni(uint32_t h[8], uint8_t buf[64], size_t r, uint64_t total,
                      uint8_t out[LS_HASH_LEN])
{
        buf[r++] = 0x80;
        if (r > 56) {
                memset(buf + r, 0, 64 - r);
                sha256_blocks_ni(h, buf, 1);
                r = 0;
        }
        memset(buf + r, 0, 56 - r);
        store_be64(buf + 56, total << 3);
        sha256_blocks_ni(h, buf, 1);
        for (int i = 0; i < 8; i++)
                store_be32(out + 4 * i, h[i]);
}

void ls_sha256_init(LsSha256 *s)
{
        if (impl() == IMPL_SHA_NI) {
                s->portable = 0;
                memcpy(s->u.ni.h, sha256_iv, sizeof(sha256_iv));
                s->u.ni.count = 0;
        } else {
                s->portable = 1;
                crypto_hash_sha256_init(&s->u.sodium);
        }
}

void ls_sha256_update(LsSha256 *s, const void *data, size_t n)
{
        const uint8_t *p = data;
        size_t have;

        if (s->portable) {
                crypto_hash_sha256_update(&s->u.sodium, p, n);
                return;
        }
        if (n == 0)
                return;
        have = (size_t) (s->u.ni.count & 63);
        s->u.ni.count += n;
        if (have > 0) {
                size_t take = MIN(64 - have, n);

                memcpy(s->u.ni.buf + have, p, take);
                p += take;
                n -= take;
                if (have + take < 64)
                        return;
                sha256_blocks_ni(s->u.ni.h, s->u.ni.buf, 1);
        }
        if (n >= 64) {
                sha256_blocks_ni(s->u.ni.h, p, n / 64);
                p += n & ~(size_t) 63;
                n &= 63;
        }
        if (n > 0)
                memcpy(s->u.ni.buf, p, n);
}

void ls_sha256_final(LsSha256 *s, uint8_t out[LS_HASH_LEN])
{
        if (s->portable) {
                crypto_hash_sha256_final(&s->u.sodium, out); /* wipes the state */
                return;
        }
        finish_ni(s->u.ni.h, s->u.ni.buf, (size_t) (s->u.ni.count & 63), s->u.ni.count, out);
        sodium_memzero(s, sizeof(*s));
}

void ls_sha256(uint8_t out[LS_HASH_LEN], const void *data, size_t n)
{
        const uint8_t *p = data;
        uint32_t h[8];
        uint8_t buf[64];
        size_t full = n & ~(size_t) 63;

        if (impl() != IMPL_SHA_NI) {
                crypto_hash_sha256(out, p, n);
                return;
        }
        memcpy(h, sha256_iv, sizeof(h));
        if (full > 0)
                sha256_blocks_ni(h, p, full / 64);
        if (n > full)
                memcpy(buf, p + full, n - full);
        finish_ni(h, buf, n - full, n, out);
        /* as libsodium's one-shot does: no copy of the input or the state is left behind */
        sodium_memzero(buf, sizeof(buf));
        sodium_memzero(h, sizeof(h));
}

/* The blocks still to compress for one message: its last data and the padding (x2). */
typedef struct NiStream {
        uint32_t h[8];
        const uint8_t *p; /* data not consumed yet */
        size_t n;
        uint64_t total;   /* message length in bytes */
        size_t r;         /* bytes waiting in buf */
        unsigned tail, tail_i;
        uint8_t buf[128];
} NiStream;

/* h: the state after `done` bytes (a multiple of 64); then r < 64 bytes at q, then p[0..n). */
static inline void ni_stream_init(NiStream *x, const uint32_t h[8], uint64_t done, const uint8_t *q,
                                  size_t r, const void *p, size_t n)
{
        memcpy(x->h, h, sizeof(x->h));
        x->r = r;
        memcpy(x->buf, q, r);
        x->p = p;
        x->n = n;
        x->total = done + r + n;
        x->tail = x->tail_i = 0;
}

/* The next 64-byte block of the padded message, or NULL after the last. */
static inline const uint8_t *ni_next(NiStream *x)
{
        if (x->tail == 0) {
                if (x->r > 0) {
                        size_t take = MIN(64 - x->r, x->n);
                        memcpy(x->buf + x->r, x->p, take);
                        x->p += take;
                        x->n -= take;
                        x->r += take;
                        if (x->r == 64) {
                                x->r = 0;
                                return x->buf;
                        }
                } else if (x->n >= 64) {
                        const uint8_t *b = x->p;
                        x->p += 64;
                        x->n -= 64;
                        return b;
                } else {
                        memcpy(x->buf, x->p, x->n);
                        x->r = x->n;
                        x->p += x->n;
                        x->n = 0;
                }
                /* x->r < 64 bytes left: the padding, in one or two blocks */
                size_t len = x->r + 1 > 56 ? 128 : 64;
                x->buf[x->r] = 0x80;
                memset(x->buf + x->r + 1, 0, len - 8 - x->r - 1);
                store_be64(x->buf + len - 8, x->total << 3);
                x->tail = (unsigned) (len / 64);
        }
        if (x->tail_i < x->tail)
                return x->buf + 64 * x->tail_i++;
        return NULL;
}

static inline void ni_digest(uint8_t out[LS_HASH_LEN], const uint32_t h[8])
{
        for (int i = 0; i < 8; i++) {
                uint32_t w = __builtin_bswap32(h[i]);
                memcpy(out + 4 * i, &w, 4);
        }
}

/* Both streams to the end, their blocks compressed side by side while both have one. */
static void ni_run_x2(NiStream *x, NiStream *y, uint8_t outa[LS_HASH_LEN],
                      uint8_t outb[LS_HASH_LEN])
{
        const uint8_t *ba = ni_next(x), *bb = ni_next(y);

        while (ba && bb) {
                sha256_block_ni_x2(x->h, ba, y->h, bb);
                ba = ni_next(x);
                bb = ni_next(y);
        }
        for (; ba; ba = ni_next(x))
                sha256_blocks_ni(x->h, ba, 1);
        for (; bb; bb = ni_next(y))
                sha256_blocks_ni(y->h, bb, 1);
        ni_digest(outa, x->h);
        ni_digest(outb, y->h);
}

void ls_sha256_final_x2(LsSha256 *a, const void *pa, size_t na, uint8_t outa[LS_HASH_LEN],
                        LsSha256 *b, const void *pb, size_t nb, uint8_t outb[LS_HASH_LEN])
{
        NiStream x, y;
        size_t ra, rb;

        if (a->portable || b->portable) {
                ls_sha256_update(a, pa, na);
                ls_sha256_final(a, outa);
                ls_sha256_update(b, pb, nb);
                ls_sha256_final(b, outb);
                return;
        }
        ra = (size_t) (a->u.ni.count & 63);
        rb = (size_t) (b->u.ni.count & 63);
        ni_stream_init(&x, a->u.ni.h, a->u.ni.count - ra, a->u.ni.buf, ra, pa, na);
        ni_stream_init(&y, b->u.ni.h, b->u.ni.count - rb, b->u.ni.buf, rb, pb, nb);
        ni_run_x2(&x, &y, outa, outb);
        sodium_memzero(&x, sizeof(x));
        sodium_memzero(&y, sizeof(y));
        sodium_memzero(a, sizeof(*a));
        sodium_memzero(b, sizeof(*b));
}

void ls_sha256_prefixed_x2(uint8_t outa[LS_HASH_LEN], const uint8_t *qa, size_t ra,
                           const void *pa, size_t na, uint8_t outb[LS_HASH_LEN],
                           const uint8_t *qb, size_t rb, const void *pb, size_t nb)
{
        NiStream x, y;

        if (impl() != IMPL_SHA_NI || ra >= 64 || rb >= 64) {
                LsSha256 s;
                ls_sha256_init(&s);
                ls_sha256_update(&s, qa, ra);
                ls_sha256_update(&s, pa, na);
                ls_sha256_final(&s, outa);
                ls_sha256_init(&s);
                ls_sha256_update(&s, qb, rb);
                ls_sha256_update(&s, pb, nb);
                ls_sha256_final(&s, outb);
                return;
        }
        ni_stream_init(&x, sha256_iv, 0, qa, ra, pa, na);
        ni_stream_init(&y, sha256_iv, 0, qb, rb, pb, nb);
        ni_run_x2(&x, &y, outa, outb);
}

void ls_sha256_final_copy_x2(const LsSha256 *a, const void *pa, size_t na,
                             uint8_t outa[LS_HASH_LEN], const LsSha256 *b, const void *pb,
                             size_t nb, uint8_t outb[LS_HASH_LEN])
{
        size_t ra, rb;

        if (a->portable || b->portable) {
                LsSha256 x = *a, y = *b;
                ls_sha256_final_x2(&x, pa, na, outa, &y, pb, nb, outb);
                return;
        }
        ra = (size_t) (a->u.ni.count & 63);
        rb = (size_t) (b->u.ni.count & 63);
        if (ra + na <= 55 && rb + nb <= 55) {
                /* one padded block each, built in place (salts: HMAC inner and outer) */
                uint32_t hx[8], hy[8];
                uint8_t bx[64] = {0}, by[64] = {0};
                memcpy(hx, a->u.ni.h, sizeof(hx));
                memcpy(hy, b->u.ni.h, sizeof(hy));
                memcpy(bx, a->u.ni.buf, ra);
                memcpy(bx + ra, pa, na);
                bx[ra + na] = 0x80;
                store_be64(bx + 56, (a->u.ni.count + na) << 3);
                memcpy(by, b->u.ni.buf, rb);
                memcpy(by + rb, pb, nb);
                by[rb + nb] = 0x80;
                store_be64(by + 56, (b->u.ni.count + nb) << 3);
                sha256_block_ni_x2(hx, bx, hy, by);
                ni_digest(outa, hx);
                ni_digest(outb, hy);
                sodium_memzero(bx, sizeof(bx));
                sodium_memzero(by, sizeof(by));
                return;
        }
        NiStream x, y;
        ni_stream_init(&x, a->u.ni.h, a->u.ni.count - ra, a->u.ni.buf, ra, pa, na);
        ni_stream_init(&y, b->u.ni.h, b->u.ni.count - rb, b->u.ni.buf, rb, pb, nb);
        ni_run_x2(&x, &y, outa, outb);
        sodium_memzero(&x, sizeof(x));
        sodium_memzero(&y, sizeof(y));
}
