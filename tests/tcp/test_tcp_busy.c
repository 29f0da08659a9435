/* The connection block's busy part (docs/DESIGN.md, "The connection
 * block"): taken when a connection has something going on, given back
 * when it is quiet, taken again on demand, without a change on the wire.
 * The stack's tcp_busy gauge counts the blocks that hold one. */
#include "tcp_harness.h"

#define MSS 1460u

static uint64_t busy(const ustk_stack *s)
{
    ustk_stack_stats st;
    ustk_stack_stats_get(s, &st);
    return st.tcp_busy;
}

/* Established and idle: quiet. Data to send takes the part; the ACK of
 * everything gives it back. Data received takes it; the read that drains
 * the buffer (its ACK already sent) gives it back. */
static void test_busy_part_follows_activity(void **state)
{
    tcp_test *t = *state;

    conn_in_established(t);
    assert_int_equal(busy(t->s), 0);
    assert_int_equal(th_deadline(t), USTK_TIME_NEVER);
    assert_int_equal(info(t).snd_nxt, info(t).snd_una);

    assert_int_equal(app_send(t, 100), 100);
    assert_int_equal(busy(t->s), 1);
    expect(t, "<SEQ=1><ACK=1><CTL=ACK><LEN=100>");
    assert_int_equal(busy(t->s), 1); /* in flight, retransmission timer */
    advance_to(t, t->now + USTK_MS(50));
    inject(t, "<SEQ=1><ACK=101><CTL=ACK>");
    assert_int_equal(busy(t->s), 0);
    assert_int_equal(th_deadline(t), USTK_TIME_NEVER);

    /* The RTT estimate and the statistics stay with the core. */
    ustk_tcp_info i = info(t);
    assert_true(i.srtt_us > 0);
    assert_int_equal(i.bytes_sent, 100);
    assert_int_equal(i.snd_queued, 0);

    inject(t, "<SEQ=1><ACK=101><CTL=ACK><LEN=10>");
    expect(t, "<SEQ=101><ACK=11><CTL=ACK>"); /* a quick ACK */
    assert_int_equal(busy(t->s), 1);         /* the bytes wait for a read */
    app_recv_expect(t, 10);
    assert_int_equal(busy(t->s), 0);
    assert_int_equal(info(t).bytes_received, 10);

    /* Taken again on demand, with nothing lost: the next segment carries
     * on from where the sequence space was. */
    assert_int_equal(app_send(t, 50), 50);
    expect(t, "<SEQ=101><ACK=11><CTL=ACK><LEN=50>");
    inject(t, "<SEQ=11><ACK=151><CTL=ACK>");
    assert_int_equal(busy(t->s), 0);
}

/* A socket option away from the stack's default keeps the part (the
 * option lives there); back at the default, the connection is quiet. */
static void test_busy_part_keeps_options(void **state)
{
    tcp_test *t = *state;
    int v = 0;

    conn_in_established(t);
    assert_int_equal(busy(t->s), 0);
    assert_int_equal(ustk_getsockopt(t->s, t->c.sock, USTK_TCP_KEEPCNT, &v),
                     0);
    assert_int_equal(v, (int)t->cfg.keepalive_count);
    assert_int_equal(
        ustk_setsockopt(t->s, t->c.sock, USTK_TCP_USER_TIMEOUT, 3000), 0);
    assert_int_equal(busy(t->s), 1);
    assert_int_equal(
        ustk_getsockopt(t->s, t->c.sock, USTK_TCP_USER_TIMEOUT, &v), 0);
    assert_int_equal(v, 3000);
    assert_int_equal(
        ustk_setsockopt(t->s, t->c.sock, USTK_TCP_USER_TIMEOUT, 0), 0);
    assert_int_equal(busy(t->s), 0);
    /* Options kept in the core do not need the part. */
    assert_int_equal(ustk_setsockopt(t->s, t->c.sock, USTK_TCP_NODELAY, 1),
                     0);
    assert_int_equal(busy(t->s), 0);
    assert_int_equal(ustk_getsockopt(t->s, t->c.sock, USTK_TCP_NODELAY, &v),
                     0);
    assert_int_equal(v, 1);
}

/* Keepalive on a connection that had been quiet for a long time: the
 * option takes the part, which holds the deadline; probes go at the idle
 * time and the interval, and the connection fails after the count. */
static void test_keepalive_after_quiet_spell(void **state)
{
    tcp_test *t = *state;
    int sock;
    ustk_time t0;

    conn_in_established(t);
    sock = t->c.sock;
    assert_int_equal(busy(t->s), 0);
    advance_to(t, t->now + USTK_SEC(3600));
    expect_nothing(t);
    assert_int_equal(ustk_setsockopt(t->s, sock, USTK_TCP_KEEPIDLE, 10), 0);
    assert_int_equal(ustk_setsockopt(t->s, sock, USTK_TCP_KEEPINTVL, 2), 0);
    assert_int_equal(ustk_setsockopt(t->s, sock, USTK_TCP_KEEPCNT, 2), 0);
    t0 = t->now;
    assert_int_equal(ustk_setsockopt(t->s, sock, USTK_SO_KEEPALIVE, 1), 0);
    assert_int_equal(busy(t->s), 1);
    assert_int_equal(th_deadline(t), t0 + USTK_SEC(10));
    expect_at(t, t0 + USTK_SEC(10), "<SEQ=0><ACK=1><CTL=ACK>");
    inject(t, "<SEQ=1><ACK=1><CTL=ACK>");
    t0 = t->now;
    expect_at(t, t0 + USTK_SEC(10), "<SEQ=0><ACK=1><CTL=ACK>");
    expect_at(t, t0 + USTK_SEC(12), "<SEQ=0><ACK=1><CTL=ACK>");
    expect_nothing_until(t, t0 + USTK_SEC(14) - 1);
    advance_to(t, t0 + USTK_SEC(14));
    th_drain(t);
    assert_err(ustk_sock_error(t->s, sock), USTK_ETIMEDOUT);
}

/* ---- two stacks ---------------------------------------------------------- */

#define A_IP USTK_IP4(10, 0, 0, 1)
#define B_IP USTK_IP4(10, 0, 0, 2)
#define PORT 7000
#define A_BYTES 300000u
#define B_BYTES 200000u

static uint64_t fnv(uint64_t h, const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        h = (h ^ p[i]) * 0x100000001b3ull;
    return h;
}

static uint8_t pattern(uint32_t seed, size_t i)
{
    return (uint8_t)((i * 2654435761u) >> 13 ^ seed);
}

typedef struct side {
    ustk_stack *s;
    int sock;
    size_t sent, rcvd, want_send;
    uint64_t h_sent, h_rcvd;
    uint32_t seed;
} side;

static ustk_stack *make_stack(ustk_ip4 ip, uint64_t seed, ustk_time now)
{
    ustk_config c;
    ustk_stack *s = NULL;
    ustk_config_default(&c);
    c.link = USTK_LINK_IP;
    c.ip = ip;
    c.prefix_len = 24;
    c.seed = seed;
    assert_int_equal(ustk_stack_create(&s, &c, now), 0);
    return s;
}

/* Move frames both ways at a fixed one-way delay of zero until neither
 * stack has anything to send now; the application side of each stack
 * sends and reads as much as it can on the way. */
static void pump(side *a, side *b, ustk_time now)
{
    static uint8_t f[2048];
    bool moved = true;
    while (moved) {
        moved = false;
        side *sd[2] = {a, b};
        for (int k = 0; k < 2; k++) {
            side *x = sd[k], *y = sd[1 - k];
            uint8_t buf[4096];
            while (x->sock >= 0 && x->sent < x->want_send) {
                size_t n = x->want_send - x->sent;
                if (n > sizeof buf)
                    n = sizeof buf;
                for (size_t i = 0; i < n; i++)
                    buf[i] = pattern(x->seed, x->sent + i);
                ptrdiff_t r = ustk_send(x->s, x->sock, buf, n, now);
                if (r <= 0)
                    break;
                x->h_sent = fnv(x->h_sent, buf, (size_t)r);
                x->sent += (size_t)r;
                moved = true;
            }
            for (;;) {
                ptrdiff_t r = x->sock >= 0
                                  ? ustk_recv(x->s, x->sock, buf, sizeof buf,
                                              now)
                                  : -1;
                if (r <= 0)
                    break;
                x->h_rcvd = fnv(x->h_rcvd, buf, (size_t)r);
                x->rcvd += (size_t)r;
                moved = true;
            }
            size_t len = 0;
            while (ustk_poll_output(x->s, now, f, sizeof f, &len) == 0 &&
                   len) {
                ustk_input(y->s, now, f, len);
                moved = true;
            }
        }
    }
}

/* Run both stacks to the point where neither has a deadline left, the
 * clock following the earliest deadline. */
static ustk_time run(side *a, side *b, ustk_time now)
{
    for (int i = 0; i < 100000; i++) {
        pump(a, b, now);
        ustk_time da = ustk_next_deadline(a->s, now);
        ustk_time db = ustk_next_deadline(b->s, now);
        ustk_time d = da < db ? da : db;
        if (d == USTK_TIME_NEVER)
            return now;
        if (d > now)
            now = d;
    }
    fail_msg("the stacks never went idle");
    return now;
}

/* A connection between two stacks goes quiet on both ends once
 * established; after an hour of quiet a transfer both ways at once takes
 * the parts again, delivers every byte (the hashes agree both ways) and
 * leaves both ends quiet again. */
static void test_transfer_after_quiet_spell(void **state)
{
    (void)state;
    ustk_time now = USTK_SEC(1);
    side a = {.sock = -1, .seed = 0x5a, .h_sent = 0xcbf29ce484222325ull};
    side b = {.sock = -1, .seed = 0xa5, .h_sent = 0xcbf29ce484222325ull};
    a.h_rcvd = b.h_rcvd = 0xcbf29ce484222325ull;
    a.s = make_stack(A_IP, 11, now);
    b.s = make_stack(B_IP, 22, now);

    int l = ustk_open(b.s, USTK_PROTO_TCP);
    ustk_sockaddr me = {.addr = B_IP, .port = PORT};
    assert_int_equal(ustk_bind(b.s, l, &me), 0);
    assert_int_equal(ustk_listen(b.s, l, 4), 0);
    a.sock = ustk_open(a.s, USTK_PROTO_TCP);
    assert_int_equal(ustk_connect(a.s, a.sock, &me, now), USTK_EINPROGRESS);
    now = run(&a, &b, now);
    b.sock = ustk_accept(b.s, l, NULL);
    assert_true(b.sock >= 0);
    now = run(&a, &b, now);
    assert_int_equal(busy(a.s), 0);
    assert_int_equal(busy(b.s), 1); /* the listener */

    now += USTK_SEC(3600);
    assert_int_equal(ustk_next_deadline(a.s, now), USTK_TIME_NEVER);
    assert_int_equal(ustk_next_deadline(b.s, now), USTK_TIME_NEVER);
    a.want_send = A_BYTES;
    b.want_send = B_BYTES;
    now = run(&a, &b, now);
    assert_int_equal(a.sent, A_BYTES);
    assert_int_equal(b.sent, B_BYTES);
    assert_int_equal(b.rcvd, A_BYTES);
    assert_int_equal(a.rcvd, B_BYTES);
    assert_true(a.h_sent == b.h_rcvd);
    assert_true(b.h_sent == a.h_rcvd);
    assert_int_equal(busy(a.s), 0);
    assert_int_equal(busy(b.s), 1);

    ustk_tcp_info ia, ib;
    assert_int_equal(ustk_tcp_info_get(a.s, a.sock, &ia), 0);
    assert_int_equal(ustk_tcp_info_get(b.s, b.sock, &ib), 0);
    assert_int_equal(ia.bytes_sent, A_BYTES);
    assert_int_equal(ia.bytes_received, B_BYTES);
    assert_int_equal(ib.bytes_sent, B_BYTES);
    assert_int_equal(ib.bytes_received, A_BYTES);
    assert_int_equal(ia.state, USTK_TCP_ESTABLISHED);

    ustk_stack_destroy(a.s);
    ustk_stack_destroy(b.s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_busy_part_follows_activity,
                                        th_setup, th_teardown),
        cmocka_unit_test_setup_teardown(test_busy_part_keeps_options,
                                        th_setup, th_teardown),
        cmocka_unit_test_setup_teardown(test_keepalive_after_quiet_spell,
                                        th_setup, th_teardown),
        cmocka_unit_test(test_transfer_after_quiet_spell),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
