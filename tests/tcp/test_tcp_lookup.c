/* The connection table (tcp_conn.c): a 4-tuple is hashed once. A new
 * connection is the last one found from its hash-in, with its hash kept,
 * so the segments of its handshake and its unhashing need no SipHash; a
 * connection that is not the last one is unhashed by its recomputed hash.
 * These look inside the stack: what they check (which block is cached,
 * under which hash, and that an unhashed block is no longer found) has no
 * effect on the wire until it goes wrong. */
#include "core/tcp_priv.h"
#include "tcp_harness.h"

static ustk_tcb *find(tcp_test *t, uint16_t pport)
{
    return ustk__tcb_lookup(t->s, TH_LOCAL_IP, t->c.lport, TH_PEER_IP, pport);
}

static void assert_last_is(const tcp_test *t, uint16_t lport, uint16_t pport)
{
    const ustk_stack *s = t->s;
    const ustk_tcb *c = s->last_tcb;
    assert_non_null(c);
    assert_int_equal(c->lport, lport);
    assert_int_equal(c->rport, pport);
    assert_int_equal(c->raddr, TH_PEER_IP);
    assert_int_equal(s->last_hash,
                     ustk__conn_hash(s, c->laddr, c->lport, c->raddr, c->rport));
}

/* connect(): the new block is the last connection, under the hash of its
 * 4-tuple; the SYN,ACK finds it and completes the handshake. */
static void test_connect_makes_last(void **state)
{
    tcp_test *t = *state;

    conn_in_syn_sent(t);
    assert_last_is(t, t->c.lport, t->c.pport);
    ustk_tcb *c = t->s->last_tcb;
    inject(t, "<SEQ=0><ACK=1><CTL=SYN,ACK>");
    expect(t, "<SEQ=1><ACK=1><CTL=ACK>");
    assert_state(t, USTK_TCP_ESTABLISHED);
    assert_ptr_equal(t->s->last_tcb, c);
}

/* A SYN to a listener: the child is the last connection, and the ACK of
 * the handshake finds it. */
static void test_syn_makes_child_last(void **state)
{
    tcp_test *t = *state;

    conn_in_syn_received(t);
    assert_last_is(t, TH_LISTEN_PORT, TH_PEER_PORT);
    ustk_tcb *child = t->s->last_tcb;
    assert_int_equal(child->state, USTK_TCP_SYN_RECEIVED);
    inject(t, "<SEQ=1><ACK=1><CTL=ACK>");
    expect_nothing(t);
    assert_ptr_equal(t->s->last_tcb, child);
    assert_int_equal(child->state, USTK_TCP_ESTABLISHED);
    assert_true(ustk_accept(t->s, t->lsock, NULL) >= 0);
}

/* Three children; the first, no longer the last connection, is reset:
 * it leaves the table (its hash computed again), the others stay, and a
 * new SYN from its port makes a new connection. */
static void test_unhash_not_last(void **state)
{
    tcp_test *t = *state;

    conn_in_syn_received(t);
    ustk_tcb *first = t->s->last_tcb;
    for (uint16_t p = TH_PEER_PORT + 1; p <= TH_PEER_PORT + 2; p++) {
        th_new_peer(t, p);
        inject(t, "<SEQ=0><CTL=SYN>");
        expect(t, "<SEQ=0><ACK=1><CTL=SYN,ACK>");
        assert_last_is(t, TH_LISTEN_PORT, p);
    }
    assert_ptr_not_equal(t->s->last_tcb, first);
    assert_ptr_equal(find(t, TH_PEER_PORT), first);
    /* That lookup made it the last one: make the third the last again. */
    assert_non_null(find(t, TH_PEER_PORT + 2));
    assert_ptr_not_equal(t->s->last_tcb, first);
    assert_int_equal(t->s->ntcb, 4); /* the listener and three children */

    /* Closed without a segment for it (as a timer would close it). */
    ustk__tcb_close(t->s, first, 0);
    assert_int_equal(t->s->ntcb, 3);
    assert_null(find(t, TH_PEER_PORT));
    assert_non_null(find(t, TH_PEER_PORT + 1));
    assert_non_null(find(t, TH_PEER_PORT + 2));

    th_new_peer(t, TH_PEER_PORT);
    inject(t, "<SEQ=0><CTL=SYN>");
    expect(t, "<SEQ=0><ACK=1><CTL=SYN,ACK>");
    inject(t, "<SEQ=1><ACK=1><CTL=ACK>");
    expect_nothing(t);
    assert_int_equal(find(t, TH_PEER_PORT)->state, USTK_TCP_ESTABLISHED);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        TH_TEST(test_connect_makes_last),
        TH_TEST(test_syn_makes_child_last),
        TH_TEST(test_unhash_not_last),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
