/* Simulation tier: both ends connect to each other at the same instant
 * (RFC 9293 Figure 8). Each goes SYN-SENT -> SYN-RECEIVED -> ESTABLISHED,
 * then data flows both ways and both close at once. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "link/sim.h"
#include "ustack/ustack.h"

typedef struct {
    uint32_t visited;
    int state;
    uint32_t syn_out, synack_out;
} side;

static void on_trace(void *ctx, const ustk_trace_event *ev)
{
    side *sd = ctx;
    if (ev->kind == USTK_TRACE_STATE && ev->rport) {
        sd->visited |= 1u << ev->state;
        sd->state = ev->state;
    }
    if (ev->kind == USTK_TRACE_SEG_OUT && (ev->seg.flags & USTK_TCP_SYN)) {
        if (ev->seg.flags & USTK_TCP_ACK)
            sd->synack_out++;
        else
            sd->syn_out++;
    }
}

static void simultaneous_open(void **st)
{
    (void)st;
    side sa = {0}, sb = {0};
    ustk_config ca, cb;
    ustk_config_default(&ca);
    ustk_config_default(&cb);
    ca.link = cb.link = USTK_LINK_IP;
    ca.ip = USTK_IP4(10, 0, 0, 1);
    cb.ip = USTK_IP4(10, 0, 0, 2);
    ca.seed = 5;
    cb.seed = 6;
    ca.msl = cb.msl = USTK_SEC(1);
    ca.trace = cb.trace = on_trace;
    ca.trace_ctx = &sa;
    cb.trace_ctx = &sb;
    ustk_stack *a, *b;
    assert_int_equal(ustk_stack_create(&a, &ca, 0), 0);
    assert_int_equal(ustk_stack_create(&b, &cb, 0), 0);
    ustk_sim_params p;
    ustk_sim_params_default(&p);
    p.kind = USTK_LINK_IP;
    p.latency = USTK_MS(20);
    ustk_link *la, *lb;
    assert_int_equal(ustk_sim_pair_create(&la, &lb, &p), 0);
    ustk_sim_node nodes[2] = {{a, la}, {b, lb}};

    int ha = ustk_open(a, USTK_PROTO_TCP), hb = ustk_open(b, USTK_PROTO_TCP);
    ustk_sockaddr pa = {0, 5000}, pb = {0, 6000};
    assert_int_equal(ustk_bind(a, ha, &pa), 0);
    assert_int_equal(ustk_bind(b, hb, &pb), 0);
    ustk_sockaddr ta = {cb.ip, 6000}, tb = {ca.ip, 5000};
    ustk_time now = 0;
    assert_int_equal(ustk_connect(a, ha, &ta, now), USTK_EINPROGRESS);
    assert_int_equal(ustk_connect(b, hb, &tb, now), USTK_EINPROGRESS);
    while (sa.state != USTK_TCP_ESTABLISHED || sb.state != USTK_TCP_ESTABLISHED) {
        assert_true(ustk_sim_step(nodes, 2, &now, USTK_SEC(10)));
        assert_true(now < USTK_SEC(10));
    }
    /* Both crossed SYNs: one SYN and one SYN,ACK each, no retransmission,
     * established after one round trip plus the SYN,ACK's flight. */
    uint32_t want = (1u << USTK_TCP_SYN_SENT) | (1u << USTK_TCP_SYN_RECEIVED) |
                    (1u << USTK_TCP_ESTABLISHED);
    assert_int_equal(sa.visited, want);
    assert_int_equal(sb.visited, want);
    assert_int_equal(sa.syn_out, 1);
    assert_int_equal(sa.synack_out, 1);
    assert_int_equal(sb.syn_out, 1);
    assert_int_equal(sb.synack_out, 1);
    assert_int_equal(now, USTK_MS(40));

    ustk_tcp_info ia, ib;
    assert_int_equal(ustk_tcp_info_get(a, ha, &ia), 0);
    assert_int_equal(ustk_tcp_info_get(b, hb, &ib), 0);
    assert_int_equal(ia.irs, ib.iss);
    assert_int_equal(ib.irs, ia.iss);
    assert_int_equal(ia.snd_una, ia.iss + 1);
    assert_int_equal(ib.snd_una, ib.iss + 1);

    const char ma[] = "from a", mb[] = "from b, longer";
    assert_int_equal(ustk_send(a, ha, ma, sizeof ma, now), (ptrdiff_t)sizeof ma);
    assert_int_equal(ustk_send(b, hb, mb, sizeof mb, now), (ptrdiff_t)sizeof mb);
    char ra[64] = {0}, rb[64] = {0};
    size_t na = 0, nb = 0;
    while (na < sizeof mb || nb < sizeof ma) {
        assert_true(ustk_sim_step(nodes, 2, &now, USTK_SEC(10)));
        ptrdiff_t n = ustk_recv(a, ha, ra + na, sizeof ra - na, now);
        if (n > 0)
            na += (size_t)n;
        n = ustk_recv(b, hb, rb + nb, sizeof rb - nb, now);
        if (n > 0)
            nb += (size_t)n;
    }
    assert_memory_equal(ra, mb, sizeof mb);
    assert_memory_equal(rb, ma, sizeof ma);
    assert_int_equal(ustk_close(a, ha, now), 0);
    assert_int_equal(ustk_close(b, hb, now), 0);
    while (ustk_sim_step(nodes, 2, &now, USTK_SEC(60)) && now < USTK_SEC(60))
        if (sa.state == USTK_TCP_CLOSED && sb.state == USTK_TCP_CLOSED)
            break;
    assert_int_equal(sa.state, USTK_TCP_CLOSED);
    assert_int_equal(sb.state, USTK_TCP_CLOSED);
    assert_true(sa.visited & (1u << USTK_TCP_CLOSING));
    assert_true(sb.visited & (1u << USTK_TCP_CLOSING));
    ustk_stack_destroy(a);
    ustk_stack_destroy(b);
    ustk_link_destroy(la);
    ustk_link_destroy(lb);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(simultaneous_open)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
