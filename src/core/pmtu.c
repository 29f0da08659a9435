/* Path MTU discovery (RFC 1191): what we learn from ICMP "fragmentation
 * needed", per destination.
 *
 * TCP sends every segment with DF set. A router whose next hop takes less
 * drops it and says so, naming that hop's MTU; TCP checks that the error
 * quotes a segment in flight (RFC 5927 §4.1) and then asks here to
 * remember the smaller path MTU, which its connection and every later
 * connection to the destination use until the entry expires (§6.3). The
 * cache has cfg.pmtu_entries entries and is scanned: it is consulted when
 * a connection starts and when an error arrives, never per segment. */
#include "stack_priv.h"

int ustk__pmtu_init(ustk_stack *s)
{
    if (!s->cfg.pmtu_entries)
        return 0;
    s->pmtu = ustk__alloc(s, sizeof(*s->pmtu) * s->cfg.pmtu_entries);
    return s->pmtu ? 0 : -1;
}

void ustk__pmtu_fini(ustk_stack *s)
{
    ustk__free(s, s->pmtu);
    s->pmtu = NULL;
    s->npmtu = 0;
}

static ustk_pmtu *find(const ustk_stack *s, uint32_t dst)
{
    for (uint32_t i = 0; i < s->npmtu; i++)
        if (s->pmtu[i].dst == dst)
            return &s->pmtu[i];
    return NULL;
}

uint32_t ustk__pmtu_get(const ustk_stack *s, uint32_t dst, bool *no_df)
{
    if (no_df)
        *no_df = false;
    if (!s->npmtu)
        return s->cfg.mtu;
    const ustk_pmtu *e = find(s, dst);
    if (!e || e->expires <= s->now)
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

uint32_t ustk__pmtu_learn(ustk_stack *s, uint32_t dst, uint16_t next_mtu,
                          uint16_t quoted_len, bool *no_df_out)
{
    /* §4: the next-hop MTU is what the router could not forward; routers
     * older than RFC 1191 send 0, and then the datagram's length is all
     * there is to guess from. A hop that says it takes the datagram it
     * refused says nothing. */
    if (next_mtu >= quoted_len)
        return 0;
    uint32_t mtu = next_mtu ? next_mtu : plateau_below(quoted_len);
    bool no_df = false;
    uint32_t floor = s->cfg.mtu < USTK_PMTU_MIN ? s->cfg.mtu : USTK_PMTU_MIN;
    if (mtu < floor) {
        mtu = floor;
        no_df = true;
    }
    bool old_no_df;
    uint32_t cur = ustk__pmtu_get(s, dst, &old_no_df);
    if (mtu > cur || (mtu == cur && no_df <= old_no_df))
        return 0;
    *no_df_out = no_df;
    s->stats.pmtu_learned++;
    if (!s->cfg.pmtu_entries)
        return mtu; /* news for the connection that asked only */
    ustk_pmtu *e = find(s, dst);
    if (!e && s->npmtu < s->cfg.pmtu_entries)
        e = &s->pmtu[s->npmtu++];
    if (!e) {
        /* Full: the entry nearest its expiry gives way (an expired one
         * first). */
        e = &s->pmtu[0];
        for (uint32_t i = 1; i < s->npmtu; i++)
            if (s->pmtu[i].expires < e->expires)
                e = &s->pmtu[i];
    }
    e->dst = dst;
    e->mtu = (uint16_t)mtu;
    e->no_df = no_df;
    e->expires = s->now + s->cfg.pmtu_expire;
    return mtu;
}
