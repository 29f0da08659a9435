/* The simulated link pair, driven with raw frames (no stack): timing under
 * latency and rate, the queue limit, the drop mask, each seeded impairment,
 * repeatability from the seed, and the counters. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "link/sim.h"

/* ---- helpers ---------------------------------------------------------- */

typedef struct pair {
    ustk_link *a, *b;
} pair;

static pair make_pair(const ustk_sim_params *p)
{
    pair pr;
    assert_int_equal(ustk_sim_pair_create(&pr.a, &pr.b, p), 0);
    assert_non_null(pr.a);
    assert_non_null(pr.b);
    return pr;
}

static void free_pair(pair *pr)
{
    ustk_link_destroy(pr->a);
    ustk_link_destroy(pr->b);
}

static ustk_sim_params params_quiet(void)
{
    ustk_sim_params p;
    ustk_sim_params_default(&p);
    p.latency = USTK_MS(10);
    return p;
}

/* A frame of len bytes whose first four bytes carry a tag (big-endian) and
 * the rest a pattern derived from it. */
static void fill_frame(uint8_t *f, size_t len, uint32_t tag)
{
    for (size_t i = 0; i < len; i++)
        f[i] = (uint8_t)(tag * 31u + i * 7u);
    if (len >= 4) {
        f[0] = (uint8_t)(tag >> 24);
        f[1] = (uint8_t)(tag >> 16);
        f[2] = (uint8_t)(tag >> 8);
        f[3] = (uint8_t)tag;
    }
}

static uint32_t frame_tag(const uint8_t *f)
{
    return (uint32_t)f[0] << 24 | (uint32_t)f[1] << 16 | (uint32_t)f[2] << 8 | f[3];
}

static void send_tagged(ustk_link *l, ustk_time now, size_t len, uint32_t tag)
{
    uint8_t f[2048];
    assert_true(len <= sizeof f);
    fill_frame(f, len, tag);
    assert_int_equal(ustk_link_send(l, now, f, len), 0);
}

/* Receive one frame that must be there at `now`; returns its tag. */
static uint32_t recv_tag(ustk_link *l, ustk_time now, size_t *len_out)
{
    uint8_t buf[USTK_LINK_FRAME_MAX];
    size_t len = 0;
    assert_int_equal(ustk_link_recv(l, now, buf, sizeof buf, &len), 0);
    assert_true(len >= 4);
    if (len_out)
        *len_out = len;
    return frame_tag(buf);
}

static void expect_nothing(ustk_link *l, ustk_time now)
{
    uint8_t buf[64];
    size_t len = 0;
    assert_int_equal(ustk_link_recv(l, now, buf, sizeof buf, &len), USTK_EAGAIN);
}

static ustk_time min_time(ustk_time x, ustk_time y)
{
    return x < y ? x : y;
}

/* One delivery seen by drain_until. */
typedef struct delivery {
    ustk_time t;
    int end; /* 0: received on a, 1: on b */
    uint32_t tag;
    size_t len;
    uint8_t bytes[256];
} delivery;

/* Receive everything that arrives by `until`, end b first then a at each
 * arrival time, appending what arrived where and when to out[*n]. */
static void drain_until(pair *pr, ustk_time until, delivery *out, size_t *np, size_t max)
{
    size_t n = *np;
    for (;;) {
        ustk_time t = min_time(ustk_link_next_arrival(pr->a, 0),
                               ustk_link_next_arrival(pr->b, 0));
        if (t == USTK_TIME_NEVER || t > until)
            break;
        ustk_link *ends[2] = { pr->b, pr->a };
        for (int e = 0; e < 2; e++) {
            uint8_t buf[USTK_LINK_FRAME_MAX];
            size_t len;
            while (ustk_link_recv(ends[e], t, buf, sizeof buf, &len) == 0) {
                assert_true(n < max);
                delivery *d = &out[n++];
                d->t = t;
                d->end = e == 0 ? 1 : 0;
                d->tag = frame_tag(buf);
                d->len = len;
                assert_true(len <= sizeof d->bytes);
                memcpy(d->bytes, buf, len);
            }
        }
    }
    *np = n;
}

static void check_stats_balance(const ustk_link *l, uint64_t in_flight)
{
    ustk_sim_stats st;
    ustk_sim_stats_get(l, &st);
    assert_int_equal(st.sent + st.duplicated,
                     st.delivered + st.lost + st.masked + st.queue_drops + in_flight);
}

/* ---- timing ----------------------------------------------------------- */

static void test_latency_exact(void **state)
{
    (void)state;
    ustk_sim_params p = params_quiet();
    pair pr = make_pair(&p);

    assert_true(ustk_link_next_arrival(pr.a, 0) == USTK_TIME_NEVER);
    assert_true(ustk_link_next_arrival(pr.b, 0) == USTK_TIME_NEVER);

    send_tagged(pr.a, 1000, 60, 1);
    send_tagged(pr.a, 1500, 60, 2);
    send_tagged(pr.b, 1200, 60, 3);

    /* Each end sees only the frames headed to it. */
    assert_int_equal(ustk_link_next_arrival(pr.b, 0), 1000 + USTK_MS(10));
    assert_int_equal(ustk_link_next_arrival(pr.a, 0), 1200 + USTK_MS(10));

    expect_nothing(pr.b, 1000 + USTK_MS(10) - 1);
    assert_int_equal(recv_tag(pr.b, 1000 + USTK_MS(10), NULL), 1);
    expect_nothing(pr.b, 1000 + USTK_MS(10));
    assert_int_equal(ustk_link_next_arrival(pr.b, 0), 1500 + USTK_MS(10));
    assert_int_equal(recv_tag(pr.b, USTK_SEC(5), NULL), 2); /* late is fine */
    assert_true(ustk_link_next_arrival(pr.b, 0) == USTK_TIME_NEVER);

    expect_nothing(pr.a, 1200 + USTK_MS(10) - 1);
    assert_int_equal(recv_tag(pr.a, 1200 + USTK_MS(10), NULL), 3);
    free_pair(&pr);
}

static void test_rate_serializes(void **state)
{
    (void)state;
    ustk_sim_params p = params_quiet();
    p.rate_bps = 1000000; /* 1250 bytes take 10 ms */
    pair pr = make_pair(&p);
    uint8_t big[1250];
    fill_frame(big, sizeof big, 0);

    for (uint32_t i = 0; i < 3; i++) {
        big[3] = (uint8_t)i;
        assert_int_equal(ustk_link_send(pr.a, 0, big, sizeof big), 0);
    }
    /* Back to back: they finish at 10, 20 and 30 ms. */
    for (uint32_t i = 0; i < 3; i++) {
        ustk_time at = USTK_MS(10) * (i + 1) + USTK_MS(10);
        assert_int_equal(ustk_link_next_arrival(pr.b, 0), at);
        expect_nothing(pr.b, at - 1);
        assert_int_equal(recv_tag(pr.b, at, NULL), i);
    }
    /* The line is idle again at 30 ms; a frame sent at 100 ms starts then. */
    big[3] = 9;
    assert_int_equal(ustk_link_send(pr.a, USTK_MS(100), big, sizeof big), 0);
    assert_int_equal(ustk_link_next_arrival(pr.b, 0), USTK_MS(120));
    assert_int_equal(recv_tag(pr.b, USTK_MS(120), NULL), 9);
    /* A frame sent while the line is busy waits for it. */
    assert_int_equal(ustk_link_send(pr.a, USTK_MS(200), big, sizeof big), 0);
    assert_int_equal(ustk_link_send(pr.a, USTK_MS(205), big, sizeof big), 0);
    assert_int_equal(recv_tag(pr.b, USTK_MS(220), NULL), 9);
    assert_int_equal(ustk_link_next_arrival(pr.b, 0), USTK_MS(230));
    /* The other direction has its own line. */
    assert_int_equal(ustk_link_send(pr.b, USTK_MS(200), big, sizeof big), 0);
    assert_int_equal(ustk_link_next_arrival(pr.a, 0), USTK_MS(220));
    free_pair(&pr);
}

static void test_rate_fractional_exact(void **state)
{
    (void)state;
    ustk_sim_params p = params_quiet();
    p.latency = 0;
    p.rate_bps = 3000000; /* one byte takes 8/3 us */
    pair pr = make_pair(&p);
    uint8_t f[4] = { 0, 0, 0, 0 };

    /* Four-byte frames take 32/3 us each: they finish at 10.67, 21.33 and
     * exactly 32 us, and arrive at the microsecond rounded up. The error
     * does not accumulate. */
    for (uint8_t i = 0; i < 3; i++) {
        f[3] = i;
        assert_int_equal(ustk_link_send(pr.a, 0, f, sizeof f), 0);
    }
    const ustk_time want[3] = { 11, 22, 32 };
    for (uint32_t i = 0; i < 3; i++) {
        assert_int_equal(ustk_link_next_arrival(pr.b, 0), want[i]);
        assert_int_equal(recv_tag(pr.b, want[i], NULL), i);
    }

    /* 300 frames back to back end at exactly 300 * 32/3 = 3200 us after
     * the line went idle. */
    for (uint32_t i = 0; i < 300; i++)
        assert_int_equal(ustk_link_send(pr.a, 1000, f, sizeof f), 0);
    ustk_time last = 0;
    for (uint32_t i = 0; i < 300; i++) {
        last = ustk_link_next_arrival(pr.b, 0);
        recv_tag(pr.b, last, NULL);
    }
    assert_int_equal(last, 1000 + 3200);
    free_pair(&pr);
}

static void test_same_time_keeps_send_order(void **state)
{
    (void)state;
    ustk_sim_params p = params_quiet();
    pair pr = make_pair(&p);
    for (uint32_t i = 0; i < 50; i++)
        send_tagged(pr.a, 7, 40, i);
    for (uint32_t i = 0; i < 50; i++)
        assert_int_equal(recv_tag(pr.b, 7 + USTK_MS(10), NULL), i);
    free_pair(&pr);
}

/* ---- limits and errors ------------------------------------------------ */

static void test_queue_limit(void **state)
{
    (void)state;
    ustk_sim_params p = params_quiet();
    p.queue_limit = 4;
    pair pr = make_pair(&p);

    for (uint32_t i = 0; i < 6; i++)
        send_tagged(pr.a, 0, 100, i); /* 4 and 5 find no room */
    /* The limit is per direction. */
    for (uint32_t i = 0; i < 4; i++)
        send_tagged(pr.b, 0, 100, 100 + i);

    ustk_sim_stats st;
    ustk_sim_stats_get(pr.a, &st);
    assert_int_equal(st.sent, 10);
    assert_int_equal(st.queue_drops, 2);

    for (uint32_t i = 0; i < 2; i++)
        assert_int_equal(recv_tag(pr.b, USTK_MS(10), NULL), i);
    /* Frames count until received: two slots are free again. */
    send_tagged(pr.a, USTK_MS(10), 100, 6);
    send_tagged(pr.a, USTK_MS(10), 100, 7);
    send_tagged(pr.a, USTK_MS(10), 100, 8);
    for (uint32_t i = 2; i < 4; i++)
        assert_int_equal(recv_tag(pr.b, USTK_MS(10), NULL), i);
    assert_int_equal(recv_tag(pr.b, USTK_MS(20), NULL), 6);
    assert_int_equal(recv_tag(pr.b, USTK_MS(20), NULL), 7);
    expect_nothing(pr.b, USTK_SEC(1));

    ustk_sim_stats_get(pr.b, &st);
    assert_int_equal(st.sent, 13);
    assert_int_equal(st.queue_drops, 3);
    assert_int_equal(st.delivered, 6);
    check_stats_balance(pr.a, 4); /* b -> a still holds four */
    free_pair(&pr);
}

static void test_frame_size_limits(void **state)
{
    (void)state;
    ustk_sim_params p = params_quiet();
    pair pr = make_pair(&p);
    uint8_t *big = calloc(1, USTK_LINK_FRAME_MAX + 1);
    assert_non_null(big);

    assert_int_equal(ustk_link_send(pr.a, 0, big, USTK_LINK_FRAME_MAX + 1), USTK_EMSGSIZE);
    assert_int_equal(ustk_link_send(pr.a, 0, big, 0), USTK_EINVAL);
    assert_int_equal(ustk_sim_frame_count(pr.a), 0);
    big[0] = 0xab;
    big[USTK_LINK_FRAME_MAX - 1] = 0xcd;
    assert_int_equal(ustk_link_send(pr.a, 0, big, USTK_LINK_FRAME_MAX), 0);
    assert_int_equal(ustk_sim_frame_count(pr.b), 1);

    /* A buffer too small leaves the frame where it is. */
    uint8_t small[100];
    size_t len = 0;
    assert_int_equal(ustk_link_recv(pr.b, USTK_MS(10), small, sizeof small, &len),
                     USTK_EMSGSIZE);
    memset(big, 0, USTK_LINK_FRAME_MAX + 1);
    assert_int_equal(ustk_link_recv(pr.b, USTK_MS(10), big, USTK_LINK_FRAME_MAX, &len), 0);
    assert_int_equal(len, USTK_LINK_FRAME_MAX);
    assert_int_equal(big[0], 0xab);
    assert_int_equal(big[USTK_LINK_FRAME_MAX - 1], 0xcd);

    ustk_sim_stats st;
    ustk_sim_stats_get(pr.a, &st);
    assert_int_equal(st.sent, 1);
    assert_int_equal(st.delivered, 1);
    free(big);
    free_pair(&pr);
}

static void test_bad_params(void **state)
{
    (void)state;
    ustk_link *a = (ustk_link *)&a, *b = (ustk_link *)&b;
    ustk_sim_params p;

    ustk_sim_params_default(&p);
    p.loss = 1.5;
    assert_int_equal(ustk_sim_pair_create(&a, &b, &p), USTK_EINVAL);
    assert_null(a);
    assert_null(b);
    ustk_sim_params_default(&p);
    p.corrupt = -0.1;
    assert_int_equal(ustk_sim_pair_create(&a, &b, &p), USTK_EINVAL);
    ustk_sim_params_default(&p);
    p.reorder = NAN;
    assert_int_equal(ustk_sim_pair_create(&a, &b, &p), USTK_EINVAL);
    ustk_sim_params_default(&p);
    p.drop_mask_len = USTK_SIM_MASK_MAX + 1;
    assert_int_equal(ustk_sim_pair_create(&a, &b, &p), USTK_EINVAL);
    ustk_sim_params_default(&p);
    p.queue_limit = USTK_SIM_QUEUE_MAX + 1;
    assert_int_equal(ustk_sim_pair_create(&a, &b, &p), USTK_EINVAL);
    ustk_sim_params_default(&p);
    p.kind = (ustk_link_kind)7;
    assert_int_equal(ustk_sim_pair_create(&a, &b, &p), USTK_EINVAL);
    assert_int_equal(ustk_sim_pair_create(&a, &b, NULL), USTK_EINVAL);

    /* Probabilities of exactly 0 and 1 are fine, and the kind is carried. */
    ustk_sim_params_default(&p);
    p.kind = USTK_LINK_IP;
    p.loss = 1.0;
    assert_int_equal(ustk_sim_pair_create(&a, &b, &p), 0);
    assert_int_equal(a->kind, USTK_LINK_IP);
    assert_int_equal(b->kind, USTK_LINK_IP);
    assert_int_equal(a->ops->fd(a), -1);
    ustk_link_destroy(b); /* either end may go first */
    ustk_link_destroy(a);
}

static void test_destroy_with_frames_in_flight(void **state)
{
    (void)state;
    ustk_sim_params p = params_quiet();
    p.duplicate = 0.5;
    pair pr = make_pair(&p);
    for (uint32_t i = 0; i < 100; i++) {
        send_tagged(pr.a, i, 1000, i);
        send_tagged(pr.b, i, 1500, i);
    }
    /* Leak checking (ASan) shows that the in-flight copies are freed. */
    free_pair(&pr);
}

/* ---- drop mask -------------------------------------------------------- */

static void test_drop_mask_exact(void **state)
{
    (void)state;
    ustk_sim_params p = params_quiet();
    const uint32_t mask[] = { 0, 3, 4, 9, 17 };
    memcpy(p.drop_mask, mask, sizeof mask);
    p.drop_mask_len = 5;
    pair pr = make_pair(&p);

    /* Indices count across both directions: even ones go a -> b here, odd
     * ones b -> a, each tagged with the index it will get. */
    for (uint32_t i = 0; i < 20; i++) {
        assert_int_equal(ustk_sim_frame_count(pr.a), i);
        send_tagged(i % 2 ? pr.b : pr.a, i * 10, 64, i);
    }
    assert_int_equal(ustk_sim_frame_count(pr.b), 20);

    bool seen[20] = { false };
    uint8_t buf[256];
    size_t len;
    while (ustk_link_recv(pr.b, USTK_SEC(1), buf, sizeof buf, &len) == 0) {
        assert_int_equal(frame_tag(buf) % 2, 0);
        seen[frame_tag(buf)] = true;
    }
    while (ustk_link_recv(pr.a, USTK_SEC(1), buf, sizeof buf, &len) == 0) {
        assert_int_equal(frame_tag(buf) % 2, 1);
        seen[frame_tag(buf)] = true;
    }
    for (uint32_t i = 0; i < 20; i++) {
        bool masked = i == 0 || i == 3 || i == 4 || i == 9 || i == 17;
        assert_int_equal(seen[i], !masked);
    }
    ustk_sim_stats st;
    ustk_sim_stats_get(pr.a, &st);
    assert_int_equal(st.sent, 20);
    assert_int_equal(st.masked, 5);
    assert_int_equal(st.delivered, 15);
    assert_int_equal(st.lost + st.queue_drops + st.duplicated + st.corrupted + st.reordered, 0);
    free_pair(&pr);
}

/* ---- seeded impairments ----------------------------------------------- */

/* A busy two-way exchange under every impairment at once. */
static size_t run_mixed(uint64_t seed, delivery *out, size_t max, ustk_sim_stats *st)
{
    ustk_sim_params p;
    ustk_sim_params_default(&p);
    p.seed = seed;
    p.latency = USTK_MS(3);
    p.rate_bps = 10000000;
    p.queue_limit = 64;
    p.loss = 0.1;
    p.corrupt = 0.1;
    p.duplicate = 0.1;
    p.reorder = 0.1;
    p.drop_mask[0] = 5;
    p.drop_mask_len = 1;
    pair pr = make_pair(&p);
    size_t n = 0;
    for (uint32_t i = 0; i < 400; i++) {
        ustk_time now = (ustk_time)i * 150;
        drain_until(&pr, now, out, &n, max);
        send_tagged(i % 3 ? pr.a : pr.b, now, 40 + (i * 37) % 200, i);
    }
    drain_until(&pr, USTK_TIME_NEVER - 1, out, &n, max);
    ustk_sim_stats_get(pr.a, st);
    check_stats_balance(pr.a, 0);
    free_pair(&pr);
    return n;
}

static bool same_run(const delivery *x, size_t nx, const delivery *y, size_t ny)
{
    if (nx != ny)
        return false;
    for (size_t i = 0; i < nx; i++)
        if (x[i].t != y[i].t || x[i].end != y[i].end || x[i].len != y[i].len ||
            memcmp(x[i].bytes, y[i].bytes, x[i].len) != 0)
            return false;
    return true;
}

static void test_seed_determines_run(void **state)
{
    (void)state;
    const size_t max = 1000;
    delivery *r1 = calloc(max, sizeof *r1);
    delivery *r2 = calloc(max, sizeof *r2);
    delivery *r3 = calloc(max, sizeof *r3);
    assert_non_null(r1);
    assert_non_null(r2);
    assert_non_null(r3);
    ustk_sim_stats s1, s2, s3;

    size_t n1 = run_mixed(42, r1, max, &s1);
    size_t n2 = run_mixed(42, r2, max, &s2);
    size_t n3 = run_mixed(43, r3, max, &s3);

    assert_true(n1 > 200);
    assert_true(same_run(r1, n1, r2, n2));
    assert_memory_equal(&s1, &s2, sizeof s1);
    assert_false(same_run(r1, n1, r3, n3));

    /* Every impairment had a chance to act. */
    assert_int_equal(s1.masked, 1);
    assert_true(s1.lost > 0 && s1.corrupted > 0 && s1.duplicated > 0 && s1.reordered > 0);
    free(r1);
    free(r2);
    free(r3);
}

static void test_directions_independent(void **state)
{
    (void)state;
    /* The fate of a -> b frames does not depend on b -> a traffic. */
    ustk_sim_params p = params_quiet();
    p.loss = 0.3;
    p.seed = 7;
    bool got[2][200];
    for (int run = 0; run < 2; run++) {
        pair pr = make_pair(&p);
        for (uint32_t i = 0; i < 200; i++) {
            send_tagged(pr.a, i, 64, i);
            if (run == 1)
                send_tagged(pr.b, i, 64, 1000 + i);
        }
        memset(got[run], 0, sizeof got[run]);
        uint8_t buf[128];
        size_t len;
        while (ustk_link_recv(pr.b, USTK_SEC(1), buf, sizeof buf, &len) == 0)
            got[run][frame_tag(buf)] = true;
        free_pair(&pr);
    }
    assert_memory_equal(got[0], got[1], sizeof got[0]);
}

static void test_loss_rate(void **state)
{
    (void)state;
    ustk_sim_params p = params_quiet();
    p.loss = 0.1;
    p.queue_limit = 20000;
    pair pr = make_pair(&p);
    const uint32_t n = 20000;
    for (uint32_t i = 0; i < n; i++)
        send_tagged(pr.a, i, 60, i);
    uint32_t got = 0;
    uint32_t prev = 0;
    uint8_t buf[128];
    size_t len;
    while (ustk_link_recv(pr.b, USTK_SEC(10), buf, sizeof buf, &len) == 0) {
        uint32_t tag = frame_tag(buf);
        assert_true(got == 0 || tag > prev); /* loss alone never reorders */
        prev = tag;
        got++;
    }
    ustk_sim_stats st;
    ustk_sim_stats_get(pr.a, &st);
    assert_int_equal(st.lost + got, n);
    assert_int_equal(st.delivered, got);
    /* Expect 2000 lost, standard deviation about 42: allow five of them. */
    assert_in_range(st.lost, 1790, 2210);
    free_pair(&pr);
}

static int popcount8(uint8_t x)
{
    int c = 0;
    for (; x; x &= (uint8_t)(x - 1))
        c++;
    return c;
}

static void test_corrupt_flips_one_bit(void **state)
{
    (void)state;
    ustk_sim_params p = params_quiet();
    p.corrupt = 1.0;
    pair pr = make_pair(&p);
    const uint32_t n = 500;
    for (uint32_t i = 0; i < n; i++)
        send_tagged(pr.a, i, 1 + (i * 13) % 200, i);

    uint32_t first_byte_hits = 0;
    for (uint32_t i = 0; i < n; i++) {
        size_t want_len = 1 + (i * 13) % 200;
        uint8_t want[256], buf[256];
        size_t len;
        fill_frame(want, want_len, i);
        assert_int_equal(ustk_link_recv(pr.b, USTK_SEC(1), buf, sizeof buf, &len), 0);
        assert_int_equal(len, want_len);
        int flipped = 0;
        for (size_t k = 0; k < len; k++)
            flipped += popcount8((uint8_t)(buf[k] ^ want[k]));
        assert_int_equal(flipped, 1);
        if (buf[0] != want[0])
            first_byte_hits++;
    }
    /* The position varies: one-byte frames (every 200th) always hit byte 0,
     * the others only sometimes. */
    assert_true(first_byte_hits < n / 4);
    ustk_sim_stats st;
    ustk_sim_stats_get(pr.b, &st);
    assert_int_equal(st.corrupted, n);
    assert_int_equal(st.delivered, n);
    free_pair(&pr);
}

static void test_corrupt_leaves_sender_buffer(void **state)
{
    (void)state;
    ustk_sim_params p = params_quiet();
    p.corrupt = 1.0;
    pair pr = make_pair(&p);
    uint8_t f[64], orig[64];
    fill_frame(f, sizeof f, 5);
    memcpy(orig, f, sizeof f);
    assert_int_equal(ustk_link_send(pr.a, 0, f, sizeof f), 0);
    assert_memory_equal(f, orig, sizeof f);
    free_pair(&pr);
}

static void test_duplicate(void **state)
{
    (void)state;
    ustk_sim_params p = params_quiet();
    p.duplicate = 1.0;
    pair pr = make_pair(&p);
    for (uint32_t i = 0; i < 10; i++)
        send_tagged(pr.a, i * 100, 80, i);
    for (uint32_t i = 0; i < 10; i++) {
        ustk_time at = i * 100 + USTK_MS(10);
        assert_int_equal(ustk_link_next_arrival(pr.b, 0), at);
        assert_int_equal(recv_tag(pr.b, at, NULL), i);
        assert_int_equal(ustk_link_next_arrival(pr.b, 0), at); /* the copy */
        assert_int_equal(recv_tag(pr.b, at, NULL), i);
    }
    expect_nothing(pr.b, USTK_SEC(1));
    ustk_sim_stats st;
    ustk_sim_stats_get(pr.a, &st);
    assert_int_equal(st.sent, 10);
    assert_int_equal(st.duplicated, 10);
    assert_int_equal(st.delivered, 20);
    free_pair(&pr);

    /* A copy needs a queue slot of its own; without one it is not made. */
    p.queue_limit = 3;
    pr = make_pair(&p);
    send_tagged(pr.a, 0, 80, 1); /* original and copy */
    send_tagged(pr.a, 0, 80, 2); /* original only */
    send_tagged(pr.a, 0, 80, 3); /* dropped */
    ustk_sim_stats_get(pr.a, &st);
    assert_int_equal(st.duplicated, 1);
    assert_int_equal(st.queue_drops, 1);
    assert_int_equal(recv_tag(pr.b, USTK_MS(10), NULL), 1);
    assert_int_equal(recv_tag(pr.b, USTK_MS(10), NULL), 1);
    assert_int_equal(recv_tag(pr.b, USTK_MS(10), NULL), 2);
    expect_nothing(pr.b, USTK_SEC(1));
    check_stats_balance(pr.a, 0);
    free_pair(&pr);
}

static void test_reorder(void **state)
{
    (void)state;
    ustk_sim_params p = params_quiet();
    p.reorder = 0.3;
    p.seed = 99;
    /* Default reorder_delay: 2 * latency + 1 ms = 21 ms. */
    pair pr = make_pair(&p);
    const uint32_t n = 200;
    for (uint32_t i = 0; i < n; i++)
        send_tagged(pr.a, (ustk_time)i * 1000, 64, i);

    bool held[200] = { false }, overtaken[200] = { false };
    uint32_t nheld = 0, got = 0, max_tag = 0;
    while (ustk_link_next_arrival(pr.b, 0) != USTK_TIME_NEVER) {
        ustk_time t = ustk_link_next_arrival(pr.b, 0);
        uint32_t tag = recv_tag(pr.b, t, NULL);
        assert_true(tag < n);
        ustk_time sent_at = (ustk_time)tag * 1000;
        /* Every frame arrives on time or exactly reorder_delay late. */
        if (t == sent_at + USTK_MS(10) + USTK_MS(21)) {
            held[tag] = true;
            nheld++;
        } else {
            assert_int_equal(t, sent_at + USTK_MS(10));
        }
        overtaken[tag] = got > 0 && tag < max_tag;
        if (tag > max_tag)
            max_tag = tag;
        got++;
    }
    assert_int_equal(got, n);
    ustk_sim_stats st;
    ustk_sim_stats_get(pr.a, &st);
    assert_int_equal(st.reordered, nheld);
    assert_in_range(nheld, 30, 90);
    /* Only held frames are overtaken, and one that was held is overtaken
     * by any frame sent within 21 ms after it that was not. */
    for (uint32_t i = 0; i < n; i++) {
        if (!held[i]) {
            assert_false(overtaken[i]);
            continue;
        }
        bool passed = false;
        for (uint32_t j = i + 1; j < n && j <= i + 20; j++)
            passed = passed || !held[j];
        assert_int_equal(overtaken[i], passed);
    }
    free_pair(&pr);

    /* An explicit reorder_delay is used as given. */
    p.reorder = 1.0;
    p.reorder_delay = 5;
    pr = make_pair(&p);
    send_tagged(pr.a, 0, 64, 1);
    assert_int_equal(ustk_link_next_arrival(pr.b, 0), USTK_MS(10) + 5);
    free_pair(&pr);
}

static void test_stats_of_other_link(void **state)
{
    (void)state;
    ustk_link_ops ops = { 0 };
    ustk_link fake = { .ops = &ops, .kind = USTK_LINK_ETHERNET };
    ustk_sim_stats st;
    memset(&st, 0xff, sizeof st);
    ustk_sim_stats_get(&fake, &st);
    assert_int_equal(st.sent, 0);
    assert_int_equal(st.delivered, 0);
    assert_int_equal(ustk_sim_frame_count(&fake), 0);
}

/* ---- two stacks over a pair: ustk_pump and ustk_sim_step --------------- */

static ustk_stack *make_stack(uint8_t host)
{
    ustk_config c;
    ustk_config_default(&c);
    c.link = USTK_LINK_ETHERNET;
    const uint8_t mac[6] = { 0x02, 0, 0, 0, 0, host };
    memcpy(c.mac, mac, 6);
    c.ip = USTK_IP4(10, 0, 0, host);
    c.prefix_len = 24;
    c.seed = host;
    ustk_stack *s = NULL;
    assert_int_equal(ustk_stack_create(&s, &c, 0), 0);
    return s;
}

static void test_stacks_resolve_arp_and_connect(void **state)
{
    (void)state;
    const ustk_time lat = USTK_MS(3);
    ustk_sim_params p;
    ustk_sim_params_default(&p);
    p.latency = lat;
    pair pr = make_pair(&p);
    ustk_stack *sa = make_stack(1), *sb = make_stack(2);
    ustk_sim_node nodes[2] = { { sa, pr.a }, { sb, pr.b } };

    int ls = ustk_open(sb, USTK_PROTO_TCP);
    assert_true(ls >= 0);
    const ustk_sockaddr any = { 0, 8888 };
    assert_int_equal(ustk_bind(sb, ls, &any), 0);
    assert_int_equal(ustk_listen(sb, ls, 4), 0);

    /* Let the start-up traffic (gratuitous ARP) settle first. */
    ustk_time now = 0;
    while (ustk_sim_step(nodes, 2, &now, USTK_MS(50)))
        ;
    assert_int_equal(now, USTK_MS(50)); /* nothing pending: clock at until */
    assert_false(ustk_sim_step(nodes, 2, &now, USTK_MS(50)));
    ustk_stack_stats a0, b0;
    ustk_stack_stats_get(sa, &a0);
    ustk_stack_stats_get(sb, &b0);

    /* A connects to B's address: A must resolve it before the SYN goes. */
    const ustk_time t0 = now;
    int cs = ustk_open(sa, USTK_PROTO_TCP);
    assert_true(cs >= 0);
    const ustk_sockaddr to = { USTK_IP4(10, 0, 0, 2), 8888 };
    assert_int_equal(ustk_connect(sa, cs, &to, now), USTK_EINPROGRESS);

    while (!(ustk_sock_poll(sa, cs) & (USTK_WRITABLE | USTK_ERROR)) &&
           ustk_sim_step(nodes, 2, &now, t0 + USTK_SEC(5)))
        ;
    assert_int_equal(ustk_sock_poll(sa, cs) & (USTK_WRITABLE | USTK_ERROR), USTK_WRITABLE);
    /* ARP request, ARP reply, SYN, SYN-ACK: four one-way trips, and each
     * step lands exactly on an arrival. (B learnt A's address from the
     * request, RFC 826, so its SYN-ACK needs no ARP of its own.) */
    assert_int_equal(now, t0 + 4 * lat);

    ustk_stack_stats a1, b1;
    ustk_stack_stats_get(sa, &a1);
    ustk_stack_stats_get(sb, &b1);
    assert_int_equal(a1.arp_requests_sent - a0.arp_requests_sent, 1);
    assert_int_equal(b1.arp_replies_sent - b0.arp_replies_sent, 1);
    assert_int_equal(b1.arp_requests_sent, b0.arp_requests_sent);

    /* The handshake's last ACK reaches B one trip later. */
    while (ustk_accept(sb, ls, NULL) < 0 && ustk_sim_step(nodes, 2, &now, t0 + USTK_SEC(5)))
        ;
    assert_int_equal(now, t0 + 5 * lat);

    ustk_sim_stats st;
    ustk_sim_stats_get(pr.a, &st);
    assert_int_equal(st.lost + st.masked + st.queue_drops, 0);
    assert_int_equal(st.delivered, st.sent);

    ustk_stack_destroy(sa);
    ustk_stack_destroy(sb);
    free_pair(&pr);
}

static void test_pump_moves_both_ways(void **state)
{
    (void)state;
    ustk_sim_params p;
    ustk_sim_params_default(&p);
    p.latency = 0;
    pair pr = make_pair(&p);
    ustk_stack *sb = make_stack(2);

    /* Raw end a asks who has 10.0.0.2; B must answer (RFC 826). */
    uint8_t req[42] = {
        0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02, 0, 0, 0, 0, 0x09, 0x08, 0x06,
        0x00, 0x01, 0x08, 0x00, 6, 4, 0x00, 0x01,
        0x02, 0, 0, 0, 0, 0x09, 10, 0, 0, 9,
        0, 0, 0, 0, 0, 0, 10, 0, 0, 2,
    };
    assert_int_equal(ustk_link_send(pr.a, USTK_MS(7), req, sizeof req), 0);
    ustk_stack_stats before, after;
    ustk_stack_stats_get(sb, &before);
    /* Too early: the request has not arrived, though B may have start-up
     * traffic of its own to send. */
    size_t early = ustk_pump(sb, pr.b, USTK_MS(6));
    ustk_stack_stats_get(sb, &after);
    assert_int_equal(after.frames_in, before.frames_in);
    assert_int_equal(after.frames_out - before.frames_out, early);

    size_t moved = ustk_pump(sb, pr.b, USTK_MS(7));
    ustk_stack_stats_get(sb, &before);
    assert_int_equal(before.frames_in - after.frames_in, 1);
    assert_int_equal(moved, 1 + (before.frames_out - after.frames_out));
    assert_true(moved >= 2);
    assert_int_equal(ustk_pump(sb, pr.b, USTK_MS(7)), 0); /* all quiet */

    /* The reply is among what reached end a, addressed to the asker. */
    bool replied = false;
    uint8_t buf[USTK_LINK_FRAME_MAX];
    size_t len;
    while (ustk_link_recv(pr.a, USTK_MS(7), buf, sizeof buf, &len) == 0) {
        if (len >= 42 && buf[12] == 0x08 && buf[13] == 0x06 && buf[21] == 2) {
            assert_memory_equal(buf, req + 6, 6);       /* to the asker's MAC */
            assert_memory_equal(buf + 38, req + 28, 4); /* for its address */
            replied = true;
        }
    }
    assert_true(replied);

    ustk_stack_destroy(sb);
    free_pair(&pr);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_latency_exact),
        cmocka_unit_test(test_rate_serializes),
        cmocka_unit_test(test_rate_fractional_exact),
        cmocka_unit_test(test_same_time_keeps_send_order),
        cmocka_unit_test(test_queue_limit),
        cmocka_unit_test(test_frame_size_limits),
        cmocka_unit_test(test_bad_params),
        cmocka_unit_test(test_destroy_with_frames_in_flight),
        cmocka_unit_test(test_drop_mask_exact),
        cmocka_unit_test(test_seed_determines_run),
        cmocka_unit_test(test_directions_independent),
        cmocka_unit_test(test_loss_rate),
        cmocka_unit_test(test_corrupt_flips_one_bit),
        cmocka_unit_test(test_corrupt_leaves_sender_buffer),
        cmocka_unit_test(test_duplicate),
        cmocka_unit_test(test_reorder),
        cmocka_unit_test(test_stats_of_other_link),
        cmocka_unit_test(test_stacks_resolve_arp_and_connect),
        cmocka_unit_test(test_pump_moves_both_ways),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
