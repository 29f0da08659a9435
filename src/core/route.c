/* The routing table: longest prefix match over a short array (at most
 * cfg.max_routes entries) kept sorted by prefix length, longest first, so
 * the first entry that matches is the answer. A host has a handful of
 * routes; the scan is bounded by the config and touches no socket. */
#include <string.h>

#include "stack_priv.h"

static uint32_t prefix_mask(uint8_t prefix_len)
{
    return prefix_len ? ~0u << (32 - prefix_len) : 0;
}

static const ustk_route *route_match(const ustk_stack *s, uint32_t dst)
{
    for (uint32_t i = 0; i < s->nroutes; i++) {
        const ustk_route *r = &s->routes[i];
        if ((dst & r->mask) == r->dst)
            return r;
    }
    return NULL;
}

static ustk_route *route_find(ustk_stack *s, uint32_t dst, uint8_t prefix_len)
{
    for (uint32_t i = 0; i < s->nroutes; i++)
        if (s->routes[i].prefix_len == prefix_len && s->routes[i].dst == dst)
            return &s->routes[i];
    return NULL;
}

/* Insert keeping the order: after every entry with a prefix at least as
 * long, so equal prefixes keep the order they were added in. The caller
 * has checked for room and duplicates. */
static void route_insert(ustk_stack *s, uint32_t dst, uint8_t prefix_len,
                         uint32_t gateway)
{
    uint32_t i = 0;
    while (i < s->nroutes && s->routes[i].prefix_len >= prefix_len)
        i++;
    memmove(&s->routes[i + 1], &s->routes[i],
            sizeof(*s->routes) * (s->nroutes - i));
    ustk_route *r = &s->routes[i];
    r->mask = prefix_mask(prefix_len);
    r->dst = dst & r->mask;
    r->gateway = gateway;
    r->prefix_len = prefix_len;
    s->nroutes++;
}

int ustk__route_init(ustk_stack *s)
{
    s->routes = ustk__alloc(s, sizeof(*s->routes) * s->cfg.max_routes);
    if (!s->routes)
        return USTK_ENOMEM;
    s->nroutes = 0;
    /* The connected subnet, then the default route through the gateway
     * (unless the subnet already covers everything). */
    route_insert(s, s->cfg.ip, s->cfg.prefix_len, 0);
    if (s->cfg.gateway && s->cfg.prefix_len > 0)
        route_insert(s, 0, 0, s->cfg.gateway);
    return 0;
}

void ustk__route_fini(ustk_stack *s)
{
    ustk__free(s, s->routes);
    s->routes = NULL;
    s->nroutes = 0;
}

uint32_t ustk__route(const ustk_stack *s, uint32_t dst)
{
    /* "This host" and the limited broadcast are never routed (RFC 1122
     * §3.2.1.3). */
    if (dst == 0 || dst == 0xffffffffu)
        return 0;
    /* This host's addresses, ours and all of 127/8, are reached through
     * the loopback queue (ip.c), whatever the table says, as Linux's
     * local table comes before the others: a loopback destination never
     * goes to a gateway (RFC 1122 §3.2.1.3). */
    if (ustk__ip_is_local(s, dst))
        return dst;
    const ustk_route *r = route_match(s, dst);
    if (!r)
        return 0;
    return r->gateway ? r->gateway : dst;
}

int ustk_route_add(ustk_stack *s, ustk_ip4 dst, uint8_t prefix_len,
                   ustk_ip4 gateway)
{
    if (!s || prefix_len > 32)
        return USTK_EINVAL;
    /* A prefix with bits set beyond its length is a mistake, not a
     * request to mask them (Linux refuses it too). */
    if (dst & ~prefix_mask(prefix_len))
        return USTK_EINVAL;
    /* 127/8 is this host, whatever the table says (ustk__route): a route
     * into it would never be used, and a gateway there is no neighbour. */
    if ((prefix_len >= 8 && ustk__ip_is_loopback(dst)) ||
        ustk__ip_is_loopback(gateway))
        return USTK_EINVAL;
    if (gateway) {
        /* RFC 1122 §3.3.1.1: a gateway is a neighbour, reached on the
         * link; the route that reaches it must be a direct one. */
        const ustk_route *via = route_match(s, gateway);
        if (!via || via->gateway != 0 || gateway == s->cfg.ip ||
            gateway == 0xffffffffu || ustk__ip_is_bcast(s, gateway) ||
            ustk__ip_is_class_de(gateway))
            return USTK_EINVAL;
    }
    if (route_find(s, dst, prefix_len))
        return USTK_EEXIST;
    if (s->nroutes >= s->cfg.max_routes)
        return USTK_ENOBUFS;
    route_insert(s, dst, prefix_len, gateway);
    return 0;
}

int ustk_route_del(ustk_stack *s, ustk_ip4 dst, uint8_t prefix_len)
{
    if (!s || prefix_len > 32 || (dst & ~prefix_mask(prefix_len)))
        return USTK_EINVAL;
    ustk_route *r = route_find(s, dst, prefix_len);
    if (!r)
        return USTK_ENOENT;
    uint32_t i = (uint32_t)(r - s->routes);
    memmove(&s->routes[i], &s->routes[i + 1],
            sizeof(*s->routes) * (s->nroutes - i - 1));
    s->nroutes--;
    return 0;
}

int ustk_route_lookup(const ustk_stack *s, ustk_ip4 dst, ustk_ip4 *next_hop)
{
    if (!s || !next_hop)
        return USTK_EINVAL;
    uint32_t hop = ustk__route(s, dst);
    if (!hop)
        return USTK_ENETUNREACH;
    *next_hop = hop;
    return 0;
}
