/* The routing table: what is there from the start, longest prefix match
 * with overlapping routes, the errors of ustk_route_add/del/lookup, and
 * routes at work (the neighbour ARP asks for, connect without a route);
 * and a host that does not forward. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "net_util.h"

static uint8_t frame[NET_FRAME];

#define GW USTK_IP4(10, 0, 0, 254)

static ustk_stack *routed(uint32_t max_routes, ustk_ip4 gateway,
                          ustk_link_kind link)
{
    ustk_config c;
    net_cfg(&c, NET_A, link);
    c.max_routes = max_routes;
    c.gateway = gateway;
    return net_stack(&c);
}

static ustk_ip4 hop(ustk_stack *s, ustk_ip4 dst)
{
    ustk_ip4 h = 0;
    assert_int_equal(ustk_route_lookup(s, dst, &h), 0);
    return h;
}

static void initial_table(void **st)
{
    (void)st;
    ustk_stack *s = routed(16, GW, USTK_LINK_IP);
    assert_int_equal(hop(s, NET_B), NET_B);
    assert_int_equal(hop(s, USTK_IP4(8, 8, 8, 8)), GW);
    ustk_ip4 h = 7;
    assert_int_equal(ustk_route_lookup(s, 0, &h), USTK_ENETUNREACH);
    assert_int_equal(ustk_route_lookup(s, 0xffffffffu, &h), USTK_ENETUNREACH);
    assert_int_equal(h, 7);
    assert_int_equal(ustk_route_lookup(s, NET_B, NULL), USTK_EINVAL);
    assert_int_equal(ustk_route_lookup(NULL, NET_B, &h), USTK_EINVAL);
    /* The default route from the config is an entry like any other. */
    assert_int_equal(ustk_route_add(s, 0, 0, GW), USTK_EEXIST);
    assert_int_equal(ustk_route_del(s, 0, 0), 0);
    assert_int_equal(ustk_route_lookup(s, USTK_IP4(8, 8, 8, 8), &h),
                     USTK_ENETUNREACH);
    assert_int_equal(ustk_route_del(s, 0, 0), USTK_ENOENT);
    ustk_stack_destroy(s);
    /* Without a gateway: only the subnet. */
    s = routed(16, 0, USTK_LINK_IP);
    assert_int_equal(ustk_route_lookup(s, USTK_IP4(10, 0, 1, 1), &h),
                     USTK_ENETUNREACH);
    assert_int_equal(hop(s, USTK_IP4(10, 0, 0, 200)), USTK_IP4(10, 0, 0, 200));
    ustk_stack_destroy(s);
}

static void add_del_errors(void **st)
{
    (void)st;
    ustk_stack *s = routed(4, GW, USTK_LINK_IP);
    /* Bad prefixes. */
    assert_int_equal(ustk_route_add(s, USTK_IP4(10, 1, 0, 0), 33, GW),
                     USTK_EINVAL);
    assert_int_equal(ustk_route_add(s, USTK_IP4(10, 1, 0, 1), 16, GW),
                     USTK_EINVAL);
    assert_int_equal(ustk_route_del(s, USTK_IP4(10, 1, 0, 1), 16),
                     USTK_EINVAL);
    assert_int_equal(ustk_route_del(s, USTK_IP4(10, 1, 0, 0), 40),
                     USTK_EINVAL);
    /* Gateways that are no neighbours. */
    assert_int_equal(ustk_route_add(s, USTK_IP4(10, 1, 0, 0), 16,
                                    USTK_IP4(10, 0, 1, 1)),
                     USTK_EINVAL);
    assert_int_equal(ustk_route_add(s, USTK_IP4(10, 1, 0, 0), 16, NET_A),
                     USTK_EINVAL);
    assert_int_equal(ustk_route_add(s, USTK_IP4(10, 1, 0, 0), 16,
                                    USTK_IP4(10, 0, 0, 255)),
                     USTK_EINVAL);
    assert_int_equal(ustk_route_add(NULL, 0, 0, 0), USTK_EINVAL);
    /* Two fit (the table holds the subnet and the default route too). */
    assert_int_equal(ustk_route_add(s, USTK_IP4(10, 1, 0, 0), 16, GW), 0);
    assert_int_equal(ustk_route_add(s, USTK_IP4(10, 1, 0, 0), 16, NET_B),
                     USTK_EEXIST);
    assert_int_equal(ustk_route_add(s, USTK_IP4(10, 2, 0, 0), 16, GW), 0);
    assert_int_equal(ustk_route_add(s, USTK_IP4(10, 3, 0, 0), 16, GW),
                     USTK_ENOBUFS);
    assert_int_equal(ustk_route_del(s, USTK_IP4(10, 3, 0, 0), 16),
                     USTK_ENOENT);
    assert_int_equal(ustk_route_del(s, USTK_IP4(10, 2, 0, 0), 16), 0);
    assert_int_equal(ustk_route_add(s, USTK_IP4(10, 3, 0, 0), 16, GW), 0);
    ustk_stack_destroy(s);
    /* A table too small for the subnet and the default route. */
    ustk_config c;
    net_cfg(&c, NET_A, USTK_LINK_IP);
    c.max_routes = 1;
    ustk_stack *bad = NULL;
    assert_int_equal(ustk_stack_create(&bad, &c, 0), USTK_EINVAL);
}

/* Longest prefix wins among overlapping routes, whatever the order they
 * were added in; deleting the longer one uncovers the shorter. */
static void longest_prefix(void **st)
{
    (void)st;
    ustk_stack *s = routed(16, NET_B, USTK_LINK_IP);
    const ustk_ip4 g16 = USTK_IP4(10, 0, 0, 16), g24 = USTK_IP4(10, 0, 0, 24);
    assert_int_equal(ustk_route_add(s, USTK_IP4(10, 1, 2, 128), 25, 0), 0);
    assert_int_equal(ustk_route_add(s, USTK_IP4(10, 1, 0, 0), 16, g16), 0);
    assert_int_equal(ustk_route_add(s, USTK_IP4(10, 1, 2, 0), 24, g24), 0);
    assert_int_equal(ustk_route_add(s, USTK_IP4(10, 1, 2, 7), 32, NET_C), 0);
    assert_int_equal(hop(s, USTK_IP4(10, 1, 9, 9)), g16);
    assert_int_equal(hop(s, USTK_IP4(10, 1, 2, 3)), g24);
    assert_int_equal(hop(s, USTK_IP4(10, 1, 2, 7)), NET_C);
    assert_int_equal(hop(s, USTK_IP4(10, 1, 2, 200)), USTK_IP4(10, 1, 2, 200));
    assert_int_equal(hop(s, USTK_IP4(10, 2, 0, 1)), NET_B);
    assert_int_equal(hop(s, USTK_IP4(10, 0, 0, 77)), USTK_IP4(10, 0, 0, 77));
    assert_int_equal(ustk_route_del(s, USTK_IP4(10, 1, 2, 0), 24), 0);
    assert_int_equal(hop(s, USTK_IP4(10, 1, 2, 3)), g16);
    assert_int_equal(hop(s, USTK_IP4(10, 1, 2, 7)), NET_C);
    /* A gateway reached through an on-link route of our own. */
    assert_int_equal(ustk_route_add(s, USTK_IP4(8, 8, 8, 0), 24,
                                    USTK_IP4(10, 1, 2, 129)),
                     0);
    assert_int_equal(hop(s, USTK_IP4(8, 8, 8, 8)), USTK_IP4(10, 1, 2, 129));
    assert_int_equal(ustk_route_add(s, USTK_IP4(9, 9, 9, 0), 24,
                                    USTK_IP4(10, 1, 9, 1)),
                     USTK_EINVAL); /* reached only through a gateway */
    ustk_stack_destroy(s);
}

/* On Ethernet the route decides whom ARP asks for: the gateway of the
 * longest matching prefix. Without a route connect fails at once. */
static void routes_at_work(void **st)
{
    (void)st;
    ustk_stack *s = routed(16, 0, USTK_LINK_ETHERNET);
    net_drain(s, 0);
    int t = ustk_open(s, USTK_PROTO_TCP);
    ustk_sockaddr far = {USTK_IP4(10, 1, 2, 3), 80};
    assert_int_equal(ustk_connect(s, t, &far, 0), USTK_ENETUNREACH);
    int u = ustk_open(s, USTK_PROTO_UDP);
    assert_int_equal(ustk_sendto(s, u, "x", 1, &far, 0), USTK_ENETUNREACH);
    assert_int_equal(ustk_route_add(s, USTK_IP4(10, 1, 0, 0), 16, GW), 0);
    assert_int_equal(ustk_route_add(s, USTK_IP4(10, 1, 2, 0), 24, NET_C), 0);
    assert_int_equal(ustk_sendto(s, u, "x", 1, &far, 0), 1);
    size_t n = net_take(s, 0, frame);
    assert_int_equal(n, 42);
    assert_int_equal(ustk_load_be16(frame + 12), 0x0806);
    assert_int_equal(ustk_load_be32(frame + 38), NET_C); /* target */
    assert_int_equal(ustk_connect(s, t, &far, 0), USTK_EINPROGRESS);
    ustk_stack_destroy(s);
}

/* A host does not forward: a datagram for another address is dropped,
 * even one we have a route for, and nothing is sent. */
static void no_forwarding(void **st)
{
    (void)st;
    ustk_stack *s = routed(16, GW, USTK_LINK_IP);
    size_t n = net_udp(frame, NET_B, USTK_IP4(8, 8, 8, 8), 1, 53, "q", 1);
    assert_int_equal(ustk_input(s, 0, frame, n), USTK_DROP_IP_NOT_FOR_US);
    n = net_udp(frame, NET_B, NET_C, 1, 53, "q", 1);
    assert_int_equal(ustk_input(s, 0, frame, n), USTK_DROP_IP_NOT_FOR_US);
    assert_int_equal(net_drops(s, USTK_DROP_IP_NOT_FOR_US), 2);
    assert_int_equal(net_take(s, 0, frame), 0);
    ustk_stack_destroy(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(initial_table),
        cmocka_unit_test(add_del_errors),
        cmocka_unit_test(longest_prefix),
        cmocka_unit_test(routes_at_work),
        cmocka_unit_test(no_forwarding),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
