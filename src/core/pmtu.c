/* Path MTU discovery (RFC 1191): what we learn from ICMP "fragmentation
 * needed", per destination.
 *
 * TCP sends every segment with DF set. A router whose next hop takes less
 * drops it and says so, naming that hop's MTU; TCP checks that the error
 * quotes a segment in flight (RFC 5927 §4.1) and then asks here to
 * remember the smaller path MTU, which its connection and every later
 * connection to the destination use until the entry expires (§6.3).
 *
 * The cache is direct-mapped: a destination has one slot, chosen by a
 * hash keyed from the stack's seed, and a newer destination takes the
 * slot of an older one. A lookup is one probe, on every new connection
 * and every error, whatever the size; losing an entry to a collision
 * costs one more "fragmentation needed" from the path. */
#include "stack_priv.h"
#include "util/bytes.h"

int ustk__pmtu_init(ustk_stack *s)
{
    if (!s->cfg.pmtu_entries)
        return 0;
    uint32_t n = ustk__pow2_at_least(s->cfg.pmtu_entries, 1);
    s->pmtu = ustk__alloc_zero(s, sizeof(*s->pmtu) * n);
    if (!s->pmtu)
        return -1;
    s->pmtu_mask = n - 1;
    /* From the connection hash's key (the seed's), not drawn anew, so
     * that nothing else the generator gives changes. */
    s->pmtu_key = ustk_load_be32(s->hash_key + 12) | 1u;
    return 0;
}

void ustk__pmtu_fini(ustk_stack *s)
{
    ustk__free(s, s->pmtu);
    s->pmtu = NULL;
    s->npmtu = 0;
}

static ustk_pmtu *slot(const ustk_stack *s, uint32_t dst)
{
    /* Multiplicative hashing of the address mixed with a secret: the
     * high bits of the product depend on every bit of both. */
    uint32_t h = (dst ^ (s->pmtu_key >> 1)) * s->pmtu_key * 0x9e3779b1u;
    return &s->pmtu[(h >> 16 ^ h) & s->pmtu_mask];
}

uint32_t ustk__pmtu_get(const ustk_stack *s, ustk_time now, uint32_t dst,
                        bool *no_df)
{
    if (no_df)
        *no_df = false;
    if (!s->npmtu)
        return s->cfg.mtu;
    const ustk_pmtu *e = slot(s, dst);
    if (!e->mtu || e->dst != dst || e->expires <= now)
        return s->cfg.mtu;
    if (no_df)
        *no_df = e->no_df;
    return e->mtu;
}

/* RFC 1191 §7: without a next-hop MTU, guess the largest of the common
 * MTUs ("plateaus") below the size of the datagram that did not fit. */
static uint32_t plateau_below(uint32_t len)
{
    static const uint16_t plateaus[] = {32000, 17914, 8166, 4352, 2002,
                                        1492,  1006,  508,  296,  68};
    for (size_t i = 0; i < sizeof(plateaus) / sizeof(plateaus[0]); i++)
        if (plateaus[i] < len)
            return plateaus[i];
    return 68;
}

uint32_t ustk__pmtu_learn(ustk_stack *s, ustk_time now, uint32_t dst,
                          uint16_t next_mtu, uint16_t quoted_len,
                          bool *no_df_out)
{
    uint32_t cur = ustk__pmtu_get(s, now, dst, no_df_out);
    /* §4: the next-hop MTU is what the router could not forward; routers
     * older than RFC 1191 send 0, and then the datagram's length is all
     * there is to guess from. A hop that says it takes the datagram it
     * refused says nothing. */
    if (next_mtu >= quoted_len)
        return cur;
    uint32_t mtu = next_mtu ? next_mtu : plateau_below(quoted_len);
    bool no_df = false;
    uint32_t floor = s->cfg.mtu < USTK_PMTU_MIN ? s->cfg.mtu : USTK_PMTU_MIN;
    if (mtu < floor) {
        mtu = floor;
        no_df = true;
    }
    if (mtu > cur || (mtu == cur && no_df <= *no_df_out))
        return cur;
    *no_df_out = no_df;
    if (!s->pmtu)
        return mtu; /* news for the connection that asked only */
    ustk_pmtu *e = slot(s, dst);
    if (!e->mtu)
        s->npmtu++;
    e->dst = dst;
    e->mtu = (uint16_t)mtu;
    e->no_df = no_df;
    e->expires = now + s->cfg.pmtu_expire;
    s->stats.pmtu_learned++;
    return mtu;
}
