/* A compact TIME-WAIT record that expires while a trace is installed is
 * first expanded into a connection block, so that the trace shows the
 * timer and the move to CLOSED. When the connection table is full that
 * expansion fails, and the record must still leave its hash bucket before
 * its number is reused: a freed record left in a bucket made a later
 * record's chain loop, and the next SYN's lookup never returned. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "ustack/ustack.h"

typedef struct pair {
    ustk_stack *a, *b;
    ustk_time now;
    int traced;
} pair;

static void sink(void *ctx, const ustk_trace_event *ev)
{
    (void)ev;
    ((pair *)ctx)->traced++;
}

static void pump(pair *p)
{
    uint8_t buf[2048];
    size_t len;
    for (int i = 0; i < 100; i++) {
        int moved = 0;
        while (ustk_poll_output(p->a, p->now, buf, sizeof buf, &len) == 0) {
            ustk_input(p->b, p->now, buf, len);
            moved++;
        }
        while (ustk_poll_output(p->b, p->now, buf, sizeof buf, &len) == 0) {
            ustk_input(p->a, p->now, buf, len);
            moved++;
        }
        if (!moved)
            return;
    }
    fail_msg("the stacks never went quiet");
}

/* Run both stacks' timers and traffic for span. */
static void settle(pair *p, ustk_time span)
{
    ustk_time end = p->now + span;
    for (;;) {
        pump(p);
        ustk_time a = ustk_next_deadline(p->a, p->now);
        ustk_time b = ustk_next_deadline(p->b, p->now);
        ustk_time d = a < b ? a : b;
        if (d > end)
            break;
        if (d > p->now)
            p->now = d;
    }
    p->now = end;
}

/* A connects from port to B's listener; B's handle, accepted (or -1). */
static int conn(pair *p, int lst, uint16_t port, int *bh)
{
    int h = ustk_open(p->a, USTK_PROTO_TCP);
    ustk_sockaddr me = {0, port}, to = {USTK_IP4(10, 0, 0, 2), 80};
    assert_int_equal(ustk_bind(p->a, h, &me), 0);
    assert_int_equal(ustk_connect(p->a, h, &to, p->now), USTK_EINPROGRESS);
    settle(p, USTK_MS(10));
    if (bh)
        *bh = ustk_accept(p->b, lst, NULL);
    return h;
}

static ustk_stack_stats stats(const ustk_stack *s)
{
    ustk_stack_stats st;
    ustk_stack_stats_get(s, &st);
    return st;
}

static void test_expiry_with_full_table(void **state)
{
    (void)state;
    pair p = {0};
    ustk_config c;
    ustk_config_default(&c);
    c.link = USTK_LINK_IP;
    c.ip = USTK_IP4(10, 0, 0, 1);
    assert_int_equal(ustk_stack_create(&p.a, &c, 0), 0);
    c.ip = USTK_IP4(10, 0, 0, 2);
    c.max_sockets = 4;
    c.max_time_wait = 2;
    c.msl = USTK_SEC(1);
    c.trace = sink;
    c.trace_ctx = &p;
    assert_int_equal(ustk_stack_create(&p.b, &c, 0), 0);
    int l = ustk_open(p.b, USTK_PROTO_TCP);
    ustk_sockaddr any = {0, 80};
    assert_int_equal(ustk_bind(p.b, l, &any), 0);
    assert_int_equal(ustk_listen(p.b, l, 8), 0);

    /* B closes first, and its orphaned end becomes a TIME-WAIT record. */
    int b1, a1 = conn(&p, l, 1001, &b1);
    assert_true(b1 >= 0);
    ustk_close(p.b, b1, p.now);
    settle(&p, USTK_MS(10));
    ustk_close(p.a, a1, p.now);
    settle(&p, USTK_MS(10));
    assert_int_equal(stats(p.b).tcp_time_wait, 1);
    /* The table fills: the listener and three connections. */
    int b2, b3;
    int a2 = conn(&p, l, 1002, &b2);
    conn(&p, l, 1003, &b3);
    conn(&p, l, 1004, NULL); /* left in the accept queue */
    assert_int_equal(stats(p.b).tcp_connections, 4);
    /* 2 MSL later the record is gone, traced or not. */
    p.now += USTK_SEC(3);
    settle(&p, USTK_MS(1));
    assert_int_equal(stats(p.b).tcp_time_wait, 0);
    /* Another record takes the freed number. */
    ustk_close(p.b, b2, p.now);
    settle(&p, USTK_MS(10));
    ustk_close(p.a, a2, p.now);
    settle(&p, USTK_MS(10));
    assert_int_equal(stats(p.b).tcp_time_wait, 1);
    /* New SYNs look in the TIME-WAIT table first; each is answered. */
    for (uint16_t port = 2000; port < 2032; port++) {
        int h = conn(&p, l, port, NULL);
        ustk_abort(p.a, h, p.now);
        pump(&p);
    }
    assert_int_equal(stats(p.b).tcp_time_wait, 1);
    assert_true(p.traced > 0);
    ustk_stack_destroy(p.a);
    ustk_stack_destroy(p.b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_expiry_with_full_table),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
