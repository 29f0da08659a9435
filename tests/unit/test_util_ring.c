/* The byte ring (src/util/ring.c) against a deliberately naive model that
 * moves one byte at a time with a modulo per byte. The model tracks the whole
 * storage, not just the stored bytes, because bytes placed ahead of the
 * stream by write_at() must survive reads and discards in their physical
 * place. The real storage sits between guard bytes so that any write outside
 * it is seen even without AddressSanitizer. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "util/ring.h"

#define GUARD 16
#define GUARD_BYTE 0xa5
#define MAX_CAP 1024

/* The model: same contract, obvious implementation. */
typedef struct model {
    uint8_t buf[MAX_CAP];
    uint32_t cap, head, len;
} model;

static void model_init(model *m, uint32_t cap)
{
    memset(m->buf, 0, sizeof(m->buf));
    m->cap = cap;
    m->head = 0;
    m->len = 0;
}

static uint32_t model_write_at(model *m, uint32_t off, const uint8_t *src, uint32_t n)
{
    uint32_t i;

    for (i = 0; i < n && (uint64_t)m->len + off + i < m->cap; i++)
        m->buf[((uint64_t)m->head + m->len + off + i) % m->cap] = src[i];
    return i;
}

static uint32_t model_write(model *m, const uint8_t *src, uint32_t n)
{
    uint32_t done = model_write_at(m, 0, src, n);

    m->len += done;
    return done;
}

static void model_commit(model *m, uint32_t n)
{
    uint64_t len = (uint64_t)m->len + n;

    m->len = len > m->cap ? m->cap : (uint32_t)len;
}

static uint32_t model_peek(const model *m, uint32_t off, uint8_t *dst, uint32_t n)
{
    uint32_t i;

    for (i = 0; i < n && (uint64_t)off + i < m->len; i++)
        dst[i] = m->buf[((uint64_t)m->head + off + i) % m->cap];
    return i;
}

static uint32_t model_discard(model *m, uint32_t n)
{
    if (n > m->len)
        n = m->len;
    m->head = (m->head + n) % m->cap;
    m->len -= n;
    return n;
}

/* The real ring, with its storage between two guard zones. */
typedef struct fixture {
    uint8_t mem[GUARD + MAX_CAP + GUARD];
    ustk_ring r;
    model m;
} fixture;

static void fixture_init(fixture *f, uint32_t cap)
{
    assert_true(cap > 0 && cap <= MAX_CAP);
    memset(f->mem, GUARD_BYTE, sizeof(f->mem));
    memset(f->mem + GUARD, 0, cap);
    ustk_ring_init(&f->r, f->mem + GUARD, cap);
    model_init(&f->m, cap);
}

/* Everything observable must agree: counts, the head, and every byte of the
 * storage; and nothing outside the storage may have changed. */
static void check(const fixture *f)
{
    uint32_t cap = f->m.cap;

    assert_int_equal(ustk_ring_len(&f->r), f->m.len);
    assert_int_equal(ustk_ring_space(&f->r), cap - f->m.len);
    assert_int_equal(f->r.cap, cap);
    assert_int_equal(f->r.head, f->m.head);
    assert_memory_equal(f->r.buf, f->m.buf, cap);
    for (size_t i = 0; i < GUARD; i++)
        assert_int_equal(f->mem[i], GUARD_BYTE);
    for (size_t i = GUARD + cap; i < sizeof(f->mem); i++)
        assert_int_equal(f->mem[i], GUARD_BYTE);
}

static uint64_t test_rand_state;

/* splitmix64, local to the test so the ring test does not depend on the
 * library's own generator. */
static uint64_t test_rand(void)
{
    uint64_t z = (test_rand_state += 0x9e3779b97f4a7c15u);

    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
    return z ^ (z >> 31);
}

static uint32_t rand_below(uint32_t n)
{
    return (uint32_t)(test_rand() % n);
}

static void fill_pattern(uint8_t *p, uint32_t n, uint8_t start)
{
    for (uint32_t i = 0; i < n; i++)
        p[i] = (uint8_t)(start + i * 7u + 1u);
}

/* Move the head of an empty ring to position h by writing and discarding h
 * bytes, so that the following operations start at that physical offset. */
static void move_head(fixture *f, uint32_t h)
{
    uint8_t junk[MAX_CAP] = {0};

    fill_pattern(junk, h, 0xf0);
    assert_int_equal(ustk_ring_write(&f->r, junk, h), h);
    assert_int_equal(model_write(&f->m, junk, h), h);
    assert_int_equal(ustk_ring_discard(&f->r, h), h);
    assert_int_equal(model_discard(&f->m, h), h);
    check(f);
}

static const uint32_t caps[] = {1, 2, 3, 7, 8, 64, 100};

static void test_init_empty(void **state)
{
    fixture f;
    uint8_t out[4] = {9, 9, 9, 9};

    (void)state;
    fixture_init(&f, 7);
    check(&f);
    assert_int_equal(ustk_ring_len(&f.r), 0);
    assert_int_equal(ustk_ring_space(&f.r), 7);
    assert_int_equal(ustk_ring_peek(&f.r, 0, out, 4), 0);
    assert_int_equal(ustk_ring_read(&f.r, out, 4), 0);
    assert_int_equal(ustk_ring_discard(&f.r, 4), 0);
    assert_int_equal(out[0], 9);
    check(&f);
}

/* For each capacity, start at every head position and write every length
 * from 0 to cap + 1: the stored bytes must come back in order whether or not
 * they wrap, and writes beyond the capacity must be clamped. */
static void test_wrap_every_offset(void **state)
{
    (void)state;
    for (size_t c = 0; c < sizeof(caps) / sizeof(caps[0]); c++) {
        uint32_t cap = caps[c];

        for (uint32_t h = 0; h < cap; h++) {
            for (uint32_t n = 0; n <= cap + 1; n++) {
                fixture f;
                uint8_t in[MAX_CAP + 1], out[MAX_CAP + 1], want[MAX_CAP + 1];
                uint32_t expect = n < cap ? n : cap;

                fixture_init(&f, cap);
                move_head(&f, h);
                fill_pattern(in, n, (uint8_t)(h + n));
                assert_int_equal(ustk_ring_write(&f.r, in, n), expect);
                assert_int_equal(model_write(&f.m, in, n), expect);
                check(&f);

                /* Peek windows at every offset, including ones that run
                 * past the end or start beyond it: every length for small
                 * rings, the lengths around the edges for larger ones. */
                for (uint32_t off = 0; off <= expect + 1; off++) {
                    uint32_t rest = off < expect ? expect - off : 0;

                    for (uint32_t k = 0; k <= rest + 1; k++) {
                        uint32_t got;

                        if (cap > 8 && k > 2 && k != rest / 2 && k + 1 < rest)
                            continue;
                        got = ustk_ring_peek(&f.r, off, out, k);
                        assert_int_equal(got, model_peek(&f.m, off, want, k));
                        assert_int_equal(got, k < rest ? k : rest);
                        assert_memory_equal(out, want, got);
                        assert_memory_equal(out, in + off, got);
                    }
                }
                check(&f);

                /* Read it back in two pieces split at every point. */
                if (expect > 0) {
                    uint32_t split = (h + n) % (expect + 1);

                    assert_int_equal(ustk_ring_read(&f.r, out, split), split);
                    assert_int_equal(ustk_ring_read(&f.r, out + split, cap + 5),
                                     expect - split);
                    assert_memory_equal(out, in, expect);
                    model_discard(&f.m, expect);
                }
                assert_int_equal(ustk_ring_len(&f.r), 0);
                check(&f);
            }
        }
    }
}

/* Fill the ring, then keep it busy with a steady stream so the head laps the
 * storage many times: what comes out must equal what went in. */
static void test_stream_laps(void **state)
{
    (void)state;
    for (size_t c = 0; c < sizeof(caps) / sizeof(caps[0]); c++) {
        uint32_t cap = caps[c];
        ustk_ring r;
        uint8_t storage[MAX_CAP], chunk[MAX_CAP], out[MAX_CAP];
        uint64_t written = 0, read = 0;

        ustk_ring_init(&r, storage, cap);
        test_rand_state = cap;
        while (read < 20u * cap + 1000u) {
            uint32_t n = rand_below(cap + 1), got;

            for (uint32_t i = 0; i < n; i++)
                chunk[i] = (uint8_t)((written + i) * 13u);
            got = ustk_ring_write(&r, chunk, n);
            assert_int_equal(got, n < cap - (written - read) ? n : cap - (written - read));
            written += got;
            got = ustk_ring_read(&r, out, rand_below(cap + 1));
            for (uint32_t i = 0; i < got; i++)
                assert_int_equal(out[i], (uint8_t)((read + i) * 13u));
            read += got;
            assert_int_equal(ustk_ring_len(&r), written - read);
        }
    }
}

/* write_at() places bytes past the end without changing len; commit() then
 * makes them part of the stream. Tried at every head position and offset,
 * with data that wraps and data clamped by the capacity. */
static void test_write_at_commit(void **state)
{
    (void)state;
    for (size_t c = 0; c < sizeof(caps) / sizeof(caps[0]); c++) {
        uint32_t cap = caps[c];

        for (uint32_t h = 0; h < cap; h++) {
            for (uint32_t stored = 0; stored <= cap; stored += (cap > 8 ? cap / 4 : 1)) {
                for (uint32_t off = 0; off <= cap + 1; off++) {
                    fixture f;
                    uint8_t head_bytes[MAX_CAP], gap[MAX_CAP + 2], ahead[MAX_CAP + 4];
                    uint8_t out[MAX_CAP];
                    uint32_t space = cap - stored;
                    uint32_t n = 3;
                    uint32_t fit = off >= space ? 0 : (n < space - off ? n : space - off);

                    fixture_init(&f, cap);
                    move_head(&f, h);
                    fill_pattern(head_bytes, stored, 0x10);
                    assert_int_equal(ustk_ring_write(&f.r, head_bytes, stored), stored);
                    model_write(&f.m, head_bytes, stored);

                    /* Out-of-order data first: len must not move. */
                    fill_pattern(ahead, n, 0x80);
                    assert_int_equal(ustk_ring_write_at(&f.r, off, ahead, n), fit);
                    assert_int_equal(model_write_at(&f.m, off, ahead, n), fit);
                    assert_int_equal(ustk_ring_len(&f.r), stored);
                    check(&f);

                    /* Then the hole before it, then commit both at once. */
                    if (fit > 0) {
                        fill_pattern(gap, off, 0x40);
                        assert_int_equal(ustk_ring_write_at(&f.r, 0, gap, off), off);
                        model_write_at(&f.m, 0, gap, off);
                        ustk_ring_commit(&f.r, off + fit);
                        model_commit(&f.m, off + fit);
                        check(&f);
                        assert_int_equal(ustk_ring_len(&f.r), stored + off + fit);
                        assert_int_equal(ustk_ring_peek(&f.r, 0, out, cap), stored + off + fit);
                        assert_memory_equal(out, head_bytes, stored);
                        assert_memory_equal(out + stored, gap, off);
                        assert_memory_equal(out + stored + off, ahead, fit);
                    }
                }
            }
        }
    }
}

/* Bytes placed ahead of an empty stream must survive the stream's reads:
 * this is a receive buffer whose reader has caught up while a later segment
 * waits for the hole before it to fill. */
static void test_write_at_survives_read(void **state)
{
    fixture f;
    uint8_t in[5] = {1, 2, 3, 4, 5}, ahead[3] = {7, 8, 9}, out[8];

    (void)state;
    fixture_init(&f, 7);
    assert_int_equal(ustk_ring_write(&f.r, in, 5), 5);
    model_write(&f.m, in, 5);
    assert_int_equal(ustk_ring_write_at(&f.r, 1, ahead, 3), 1); /* only 2 free */
    model_write_at(&f.m, 1, ahead, 3);
    assert_int_equal(ustk_ring_read(&f.r, out, 5), 5);
    model_discard(&f.m, 5);
    check(&f);
    /* Now empty with the head at 5: offset 1 past the end is index 6. */
    assert_int_equal(ustk_ring_write_at(&f.r, 2, ahead + 1, 2), 2);
    model_write_at(&f.m, 2, ahead + 1, 2);
    assert_int_equal(ustk_ring_write_at(&f.r, 0, in, 1), 1);
    model_write_at(&f.m, 0, in, 1);
    ustk_ring_commit(&f.r, 4);
    model_commit(&f.m, 4);
    check(&f);
    assert_int_equal(ustk_ring_read(&f.r, out, 8), 4);
    assert_int_equal(out[0], 1);
    assert_int_equal(out[1], 7);
    assert_int_equal(out[2], 8);
    assert_int_equal(out[3], 9);
}

/* commit() and write_at() clamp to the free space and never touch more. */
static void test_clamps(void **state)
{
    fixture f;
    uint8_t in[16];

    (void)state;
    fill_pattern(in, sizeof(in), 0);
    fixture_init(&f, 7);
    move_head(&f, 4);
    assert_int_equal(ustk_ring_write_at(&f.r, 7, in, 1), 0);
    assert_int_equal(ustk_ring_write_at(&f.r, UINT32_MAX, in, 1), 0);
    assert_int_equal(ustk_ring_write_at(&f.r, 6, in, UINT32_MAX), 1);
    model_write_at(&f.m, 6, in, 1);
    check(&f);
    ustk_ring_commit(&f.r, UINT32_MAX);
    model_commit(&f.m, UINT32_MAX);
    check(&f);
    assert_int_equal(ustk_ring_len(&f.r), 7);
    assert_int_equal(ustk_ring_write(&f.r, in, 1), 0);
    assert_int_equal(ustk_ring_write_at(&f.r, 0, in, 1), 0);
    ustk_ring_commit(&f.r, 1);
    assert_int_equal(ustk_ring_len(&f.r), 7);
    assert_int_equal(ustk_ring_peek(&f.r, 7, in, 1), 0);
    assert_int_equal(ustk_ring_peek(&f.r, UINT32_MAX, in, UINT32_MAX), 0);
    assert_int_equal(ustk_ring_discard(&f.r, UINT32_MAX), 7);
    model_discard(&f.m, 7);
    check(&f);
}

/* Random operations of every kind, compared with the model after each. */
static void test_random_against_model(void **state)
{
    static const uint32_t rcaps[] = {1, 7, 64, 1000, MAX_CAP};

    (void)state;
    for (size_t c = 0; c < sizeof(rcaps) / sizeof(rcaps[0]); c++) {
        uint32_t cap = rcaps[c];
        fixture f;

        fixture_init(&f, cap);
        test_rand_state = 1000 + cap;
        for (int step = 0; step < 20000; step++) {
            uint8_t in[MAX_CAP + 8], out[MAX_CAP + 8], want[MAX_CAP + 8];
            uint32_t n = rand_below(cap + 3), off = rand_below(cap + 3);
            uint32_t a, b;

            fill_pattern(in, n, (uint8_t)step);
            switch (rand_below(6)) {
            case 0:
                a = ustk_ring_write(&f.r, in, n);
                b = model_write(&f.m, in, n);
                break;
            case 1:
                a = ustk_ring_write_at(&f.r, off, in, n);
                b = model_write_at(&f.m, off, in, n);
                break;
            case 2:
                ustk_ring_commit(&f.r, n);
                model_commit(&f.m, n);
                a = b = 0;
                break;
            case 3:
                a = ustk_ring_peek(&f.r, off, out, n);
                b = model_peek(&f.m, off, want, n);
                assert_int_equal(a, b);
                assert_memory_equal(out, want, a);
                break;
            case 4:
                a = ustk_ring_discard(&f.r, n);
                b = model_discard(&f.m, n);
                break;
            default:
                b = model_peek(&f.m, 0, want, n);
                model_discard(&f.m, n);
                a = ustk_ring_read(&f.r, out, n);
                assert_int_equal(a, b);
                assert_memory_equal(out, want, a);
                break;
            }
            assert_int_equal(a, b);
            check(&f);
        }
    }
}

/* A capacity that is not a power of two and close to 2^32 must not overflow
 * the index arithmetic. Only the geometry is exercised: the storage pointer
 * is never dereferenced because every operation here copies zero bytes or
 * is refused. */
static void test_huge_capacity_arithmetic(void **state)
{
    ustk_ring r;
    uint8_t dummy = 0;

    (void)state;
    ustk_ring_init(&r, &dummy, UINT32_MAX);
    r.head = UINT32_MAX - 3;
    r.len = UINT32_MAX - 5;
    assert_int_equal(ustk_ring_space(&r), 5);
    assert_int_equal(ustk_ring_write_at(&r, 5, &dummy, 1), 0);
    assert_int_equal(ustk_ring_discard(&r, 10), 10);
    assert_int_equal(r.head, 7); /* (2^32 - 4 + 10) mod (2^32 - 1) */
    assert_int_equal(r.len, UINT32_MAX - 15);
}

/* The spans of [off, off + n) hold exactly the bytes peek copies, in one
 * piece or two around the end of the storage, clamped the same way. */
static void test_spans_match_peek(void **state)
{
    uint8_t store[97], in[97], want[97], got[97];
    ustk_ring r;

    (void)state;
    for (uint32_t i = 0; i < sizeof in; i++)
        in[i] = (uint8_t)(i * 13 + 1);
    for (uint32_t start = 0; start < 97; start += 7) {
        ustk_ring_init(&r, store, sizeof store);
        ustk_ring_write(&r, in, start);
        ustk_ring_discard(&r, start); /* head at start */
        ustk_ring_write(&r, in, 90);
        for (uint32_t off = 0; off <= 92; off += 3)
            for (uint32_t n = 0; n <= 95; n += 4) {
                const uint8_t *p[2];
                uint32_t len[2];
                uint32_t w = ustk_ring_peek(&r, off, want, n);
                uint32_t k = ustk_ring_spans(&r, off, n, p, len);
                assert_int_equal(k, w);
                assert_int_equal(len[0] + len[1], k);
                if (k == 0)
                    continue;
                memcpy(got, p[0], len[0]);
                if (len[1]) {
                    assert_ptr_equal(p[1], store);
                    memcpy(got + len[0], p[1], len[1]);
                }
                assert_memory_equal(got, want, k);
            }
    }
}

/* The free spans of [off, off + n) are where ustk_ring_write_at() writes:
 * bytes copied into them and committed read back as written. */
static void test_free_spans_match_write_at(void **state)
{
    uint8_t store[61], in[61], out[61];
    ustk_ring r;

    (void)state;
    for (uint32_t i = 0; i < sizeof in; i++)
        in[i] = (uint8_t)(i * 7 + 5);
    for (uint32_t start = 0; start < 61; start += 5)
        for (uint32_t stored = 0; stored <= 61; stored += 6)
            for (uint32_t off = 0; off <= 62; off += 4)
                for (uint32_t n = 0; n <= 62; n += 9) {
                    uint8_t *p[2];
                    uint32_t len[2], space, want, k;
                    ustk_ring_init(&r, store, sizeof store);
                    ustk_ring_write(&r, in, start);
                    ustk_ring_discard(&r, start);
                    ustk_ring_write(&r, in, stored);
                    space = ustk_ring_space(&r);
                    want = off >= space ? 0 : (n < space - off ? n : space - off);
                    k = ustk_ring_free_spans(&r, off, n, p, len);
                    assert_int_equal(k, want);
                    assert_int_equal(len[0] + len[1], k);
                    if (!k)
                        continue;
                    memcpy(p[0], in, len[0]);
                    if (len[1]) {
                        assert_ptr_equal(p[1], store);
                        memcpy(p[1], in + len[0], len[1]);
                    }
                    if (off == 0) {
                        ustk_ring_commit(&r, k);
                        assert_int_equal(ustk_ring_peek(&r, stored, out, k), k);
                        assert_memory_equal(out, in, k);
                    }
                }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_init_empty),
        cmocka_unit_test(test_wrap_every_offset),
        cmocka_unit_test(test_stream_laps),
        cmocka_unit_test(test_write_at_commit),
        cmocka_unit_test(test_write_at_survives_read),
        cmocka_unit_test(test_clamps),
        cmocka_unit_test(test_random_against_model),
        cmocka_unit_test(test_huge_capacity_arithmetic),
        cmocka_unit_test(test_spans_match_peek),
        cmocka_unit_test(test_free_spans_match_write_at),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
