#include "sim_scenario.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "link/gso.h"
#include "util/rng.h"

typedef struct side {
    int state;      /* last state of the connection (not the listener) */
    bool seen;
    uint32_t visited;
    const char *name;
    bool print;
    uint64_t events; /* a hash of every trace event, in order */
} side;

/* SCEN_TRACE=1 in the environment prints every event, for debugging a
 * failing scenario. */
static void print_event(const side *sd, const ustk_trace_event *ev)
{
    const char *who = sd->name;
    double ms = (double)ev->now / 1000.0;
    switch (ev->kind) {
    case USTK_TRACE_SEG_IN:
    case USTK_TRACE_SEG_OUT:
        /* Relative numbers: our ISS for what we send, the peer's for
         * what it sends. */
    {
        bool out = ev->kind == USTK_TRACE_SEG_OUT;
        uint32_t ack_base = out ? ev->irs : ev->iss;
        fprintf(stderr,
                "%10.3f %s %s flags=%02x seq=%u ack=%u wnd=%u len=%u sack=%u",
                ms, who, out ? "out" : "in ", ev->seg.flags,
                ev->seg.seq - (out ? ev->iss : ev->irs),
                ev->seg.ack - ack_base, ev->seg.wnd, ev->seg.len,
                ev->seg.nsack);
        /* SACK blocks are in the sequence space the ACK is in. */
        for (unsigned i = 0; i < ev->seg.nsack && i < 4; i++)
            fprintf(stderr, " [%u,%u)", ev->seg.sack[i][0] - ack_base,
                    ev->seg.sack[i][1] - ack_base);
        fprintf(stderr, "%s\n", ev->seg.rtx ? " rtx" : "");
        break;
    }
    case USTK_TRACE_STATE:
        fprintf(stderr, "%10.3f %s state %s\n", ms, who,
                ustk_tcp_state_name(ev->state));
        break;
    case USTK_TRACE_TIMER:
        fprintf(stderr, "%10.3f %s timer %d\n", ms, who, ev->timer);
        break;
    case USTK_TRACE_ARP:
        fprintf(stderr,
                "%10.3f %s arp %s %s ip=%08x "
                "mac=%02x:%02x:%02x:%02x:%02x:%02x\n",
                ms, who, ev->arp_sent ? "sent" : "got",
                ev->arp_op == 1 ? "request" : "reply", (unsigned)ev->raddr,
                ev->arp_mac[0], ev->arp_mac[1], ev->arp_mac[2], ev->arp_mac[3],
                ev->arp_mac[4], ev->arp_mac[5]);
        break;
    case USTK_TRACE_CWND:
        fprintf(stderr, "%10.3f %s cwnd=%u ssthresh=%u\n", ms, who, ev->cwnd,
                ev->ssthresh);
        break;
    case USTK_TRACE_DROP:
        fprintf(stderr, "%10.3f %s drop %s seq=%u len=%u\n", ms, who,
                ustk_drop_name(ev->reason), ev->seg.seq - ev->irs, ev->seg.len);
        break;
    default:
        break;
    }
}

/* Fold a value into a running FNV-1a hash. */
static void mix(uint64_t *h, uint64_t v)
{
    for (int i = 0; i < 8; i++, v >>= 8) {
        *h ^= v & 0xff;
        *h *= 1099511628211ull;
    }
}

/* What an event says, field by field (no padding bytes). */
static void hash_event(uint64_t *h, const ustk_trace_event *ev)
{
    const ustk_trace_seg *g = &ev->seg;
    mix(h, (uint64_t)ev->kind);
    mix(h, ev->now);
    mix(h, (uint64_t)(int64_t)ev->sock);
    mix(h, (uint64_t)ev->laddr << 32 | ev->raddr);
    mix(h, (uint64_t)ev->lport << 16 | ev->rport);
    mix(h, (uint64_t)ev->iss << 32 | ev->irs);
    mix(h, (uint64_t)(uint32_t)ev->state << 32 | (uint32_t)ev->old_state);
    mix(h, (uint64_t)(uint32_t)ev->timer << 32 | (uint32_t)ev->reason);
    mix(h, (uint64_t)ev->cwnd << 32 | ev->ssthresh);
    mix(h, (uint64_t)g->seq << 32 | g->ack);
    mix(h, (uint64_t)g->wnd << 48 | (uint64_t)g->flags << 40 |
               (uint64_t)g->opts << 32 | g->len);
    mix(h, (uint64_t)g->mss << 16 | (uint64_t)g->wscale << 8 | g->nsack);
    for (int i = 0; i < 4; i++)
        mix(h, (uint64_t)g->sack[i][0] << 32 | g->sack[i][1]);
    mix(h, (uint64_t)g->ts_val << 32 | g->ts_ecr);
    mix(h, g->rtx);
}

static void on_trace(void *ctx, const ustk_trace_event *ev)
{
    side *sd = ctx;
    if (sd->print)
        print_event(sd, ev);
    hash_event(&sd->events, ev);
    if (ev->kind == USTK_TRACE_STATE && ev->rport != 0) {
        sd->state = ev->state;
        sd->seen = true;
        sd->visited |= 1u << ev->state;
    }
}

void scen_cfg_default(scen_cfg *c)
{
    memset(c, 0, sizeof(*c));
    c->link = USTK_LINK_ETHERNET;
    c->bytes = 20000;
    c->close = SCEN_CLOSE_CLIENT;
    c->seed = 1;
    ustk_sim_params_default(&c->sim);
    c->sim.latency = USTK_MS(5);
    c->sim.rate_bps = 100000000;
    c->msl = USTK_SEC(1);
    c->limit = USTK_SEC(3600);
    c->options = true;
    c->mode = SCEN_ECHO;
    c->cc = -1;
    c->sack = -1;
}

uint64_t scen_hash(const void *p, size_t n)
{
    const uint8_t *b = p;
    uint64_t h = 1469598103934665603ull;
    size_t i = 0;
    /* Eight bytes a step: the large transfers hash megabytes. */
    for (; i + 8 <= n; i += 8) {
        uint64_t w;
        memcpy(&w, b + i, 8);
        h ^= w;
        h *= 1099511628211ull;
    }
    for (; i < n; i++) {
        h ^= b[i];
        h *= 1099511628211ull;
    }
    return h;
}

static void set_err(int *slot, ptrdiff_t r)
{
    if (r < 0 && r != USTK_EAGAIN && r != USTK_EINPROGRESS && *slot == 0)
        *slot = (int)r;
}

/* A pseudo-random pattern, eight bytes per draw. */
static void fill(uint8_t *p, size_t n, uint64_t seed)
{
    ustk_rng rng;
    ustk_rng_seed(&rng, seed);
    for (size_t i = 0; i < n; i += 8) {
        uint64_t w = ustk_rng_next(&rng);
        memcpy(p + i, &w, n - i < 8 ? n - i : 8);
    }
}

/* Read everything there is into buf[*got..cap); sets *eof at end of stream.
 * The buffer has one byte more than expected so that excess shows. */
static void drain(ustk_stack *s, int h, uint8_t *buf, size_t cap, size_t *got,
                  bool *eof, int *err, ustk_time now)
{
    for (;;) {
        ptrdiff_t n = ustk_recv(s, h, buf + *got, cap - *got, now);
        if (n > 0) {
            *got += (size_t)n;
            if (*got < cap)
                continue;
            break;
        }
        if (n == 0)
            *eof = true;
        set_err(err, n);
        break;
    }
}

/* Close a handle, keeping a last look at its connection first. */
static void close_side(ustk_stack *s, int h, bool *open, bool *info_ok,
                       ustk_tcp_info *info, ustk_time now)
{
    *info_ok = ustk_tcp_info_get(s, h, info) == 0;
    ustk_close(s, h, now);
    *open = false;
}

static void apply_cfg(ustk_config *k, const scen_cfg *c)
{
    k->link = c->link;
    k->msl = c->msl;
    if (c->arp_ttl)
        k->arp_ttl = c->arp_ttl;
    if (c->snd_buf)
        k->snd_buf = c->snd_buf;
    if (c->rcv_buf)
        k->rcv_buf = c->rcv_buf;
    k->opt_sack = c->sack < 0 ? c->options : c->sack != 0;
    k->opt_timestamps = c->options;
    k->opt_wscale = c->options;
    if (c->cc >= 0)
        k->cc = (uint8_t)c->cc;
    if (c->syn_retries)
        k->syn_retries = k->synack_retries = c->syn_retries;
    if (c->data_retries)
        k->data_retries = c->data_retries;
    if (c->rto_max)
        k->rto_max = c->rto_max;
    if (c->arp_retries)
        k->arp_max_retries = c->arp_retries;
    if (c->tso) {
        k->tso_max = 65535;
        k->tx_csum_offload = true;
    }
    k->tcp_predict = !c->no_predict;
}

int scen_run(const scen_cfg *c, scen_result *r)
{
    memset(r, 0, sizeof(*r));
    bool print = getenv("SCEN_TRACE") != NULL;
    side cs = {USTK_TCP_CLOSED, false, 0, "C", print, 1469598103934665603ull};
    side ss = {USTK_TCP_CLOSED, false, 0, "S", print, 1469598103934665603ull};
    ustk_config cc, sc;
    ustk_config_default(&cc);
    ustk_config_default(&sc);
    apply_cfg(&cc, c);
    apply_cfg(&sc, c);
    cc.ip = USTK_IP4(10, 0, 0, 1);
    sc.ip = USTK_IP4(10, 0, 0, 2);
    uint8_t mc[6] = {2, 0, 0, 0, 0, 1}, ms[6] = {2, 0, 0, 0, 0, 2};
    memcpy(cc.mac, mc, 6);
    memcpy(sc.mac, ms, 6);
    cc.seed = c->seed * 2 + 1;
    sc.seed = c->seed * 2 + 2;
    cc.trace = on_trace;
    cc.trace_ctx = &cs;
    sc.trace = on_trace;
    sc.trace_ctx = &ss;

    bool duplex = c->mode == SCEN_DUPLEX;
    /* What the server sends and the client should read. */
    size_t back = duplex ? c->back_bytes : c->bytes;
    uint8_t *data = malloc(c->bytes + 1), *srv = malloc(c->bytes + 1),
            *cli = malloc(back + 1);
    uint8_t *sdata = duplex ? malloc(back + 1) : srv;
    ustk_stack *a = NULL, *b = NULL;
    ustk_link *la = NULL, *lb = NULL;
    int rc = -1;
    ustk_sim_params sp = c->sim;
    sp.kind = c->link;
    if (!data || !srv || !cli || !sdata || ustk_stack_create(&a, &cc, 0) ||
        ustk_stack_create(&b, &sc, 0) || ustk_sim_pair_create(&la, &lb, &sp))
        goto out;
    ustk_link *sim_a = la; /* the pair's end, for its counters */
    if (c->tso) {
        ustk_link *g;
        if (ustk_gso_link_create(&g, la))
            goto out;
        la = g;
        if (ustk_gso_link_create(&g, lb))
            goto out;
        lb = g;
    }
    fill(data, c->bytes, c->seed);
    if (duplex)
        fill(sdata, back, c->seed ^ 0x5eed5eed5eed5eedull);

    ustk_sim_node nodes[2] = {{a, la}, {b, lb}};
    ustk_time now = 0;
    int lsn = ustk_open(b, USTK_PROTO_TCP);
    ustk_sockaddr any = {0, 8888};
    if (lsn < 0 || ustk_bind(b, lsn, &any) || ustk_listen(b, lsn, 8))
        goto out;
    int cs_h = ustk_open(a, USTK_PROTO_TCP);
    ustk_sockaddr to = {sc.ip, 8888};
    if (cs_h < 0 || ustk_connect(a, cs_h, &to, now) != USTK_EINPROGRESS)
        goto out;

    int ss_h = -1;
    /* srv_sent: bytes the server has queued (the echo, or its stream). */
    size_t sent = 0, srv_got = 0, srv_sent = 0, cli_got = 0;
    bool c_open = true, s_open = true, c_eof = false, s_eof = false;
    /* Bytes read by both sides so far, and when that last grew. */
    size_t progress = 0;
    ustk_time progress_at = 0;
    for (;;) {
        bool more = ustk_sim_step(nodes, 2, &now, c->limit);
        r->steps++;
        /* Client */
        if (c_open) {
            int f = ustk_sock_poll(a, cs_h);
            if (f & USTK_ERROR)
                set_err(&r->client_err, ustk_sock_error(a, cs_h));
            if (cs.state >= USTK_TCP_ESTABLISHED)
                r->connected = true;
            if (sent < c->bytes && (f & USTK_WRITABLE) && !(f & USTK_HUP)) {
                ptrdiff_t n = ustk_send(a, cs_h, data + sent, c->bytes - sent, now);
                if (n > 0)
                    sent += (size_t)n;
                set_err(&r->client_err, n);
            }
            drain(a, cs_h, cli, back + 1, &cli_got, &c_eof, &r->client_err,
                  now);
        }
        /* Server */
        if (ss_h < 0) {
            ss_h = ustk_accept(b, lsn, NULL);
            if (ss_h < 0 && ss_h != USTK_EAGAIN)
                set_err(&r->server_err, ss_h);
        }
        if (ss_h >= 0 && s_open) {
            drain(b, ss_h, srv, c->bytes + 1, &srv_got, &s_eof,
                  &r->server_err, now);
            /* The echo can send what has been read; the server's own
             * stream is all there from the start. */
            size_t avail = duplex ? back : srv_got;
            while (srv_sent < avail) {
                ptrdiff_t n = ustk_send(b, ss_h, sdata + srv_sent,
                                        avail - srv_sent, now);
                if (n <= 0) {
                    set_err(&r->server_err, n);
                    break;
                }
                srv_sent += (size_t)n;
            }
        }
        /* Closing */
        bool c_done = r->connected && sent >= c->bytes && cli_got >= back;
        bool s_done = srv_got >= c->bytes && srv_sent >= back;
        if (r->data_done == 0 && srv_got + cli_got > progress) {
            if (now - progress_at > r->max_stall)
                r->max_stall = now - progress_at;
            progress = srv_got + cli_got;
            progress_at = now;
        }
        if (c_done && s_done && r->data_done == 0)
            r->data_done = now;
        switch (c->close) {
        case SCEN_CLOSE_CLIENT:
            if (c_open && c_done)
                close_side(a, cs_h, &c_open, &r->client_info_ok,
                           &r->client_info, now);
            if (s_open && ss_h >= 0 && s_eof)
                close_side(b, ss_h, &s_open, &r->server_info_ok,
                           &r->server_info, now);
            break;
        case SCEN_CLOSE_SERVER:
            if (s_open && ss_h >= 0 && s_done)
                close_side(b, ss_h, &s_open, &r->server_info_ok,
                           &r->server_info, now);
            if (c_open && c_eof)
                close_side(a, cs_h, &c_open, &r->client_info_ok,
                           &r->client_info, now);
            break;
        case SCEN_CLOSE_BOTH:
            if (c_open && s_open && ss_h >= 0 && c_done && s_done) {
                close_side(a, cs_h, &c_open, &r->client_info_ok,
                           &r->client_info, now);
                close_side(b, ss_h, &s_open, &r->server_info_ok,
                           &r->server_info, now);
            }
            break;
        }
        /* A failed side gives up its handle. */
        if (c_open && r->client_err)
            close_side(a, cs_h, &c_open, &r->client_info_ok,
                       &r->client_info, now);
        if (s_open && ss_h >= 0 && r->server_err)
            close_side(b, ss_h, &s_open, &r->server_info_ok,
                       &r->server_info, now);
        bool done = !c_open && !s_open && cs.state == USTK_TCP_CLOSED &&
                    (ss.state == USTK_TCP_CLOSED || !ss.seen);
        if (done) {
            r->end = now;
            break;
        }
        if (!more || now >= c->limit ||
            (c->max_steps && r->steps >= c->max_steps)) {
            r->timed_out = true;
            r->end = now;
            break;
        }
    }
    r->server_got = srv_got;
    r->client_got = cli_got;
    /* The client expects its own bytes back, or the server's stream. */
    const uint8_t *want = duplex ? sdata : data;
    r->data_ok = srv_got == c->bytes && cli_got == back &&
                 memcmp(srv, data, c->bytes) == 0 &&
                 memcmp(cli, want, back) == 0 &&
                 scen_hash(srv, srv_got) == scen_hash(data, c->bytes) &&
                 scen_hash(cli, cli_got) == scen_hash(want, back);
    r->client_state = cs.state;
    r->client_visited = cs.visited;
    r->server_visited = ss.visited;
    r->server_state = ss.seen ? ss.state : USTK_TCP_CLOSED;
    r->frames = ustk_sim_frame_count(sim_a);
    ustk_sim_stats_get(sim_a, &r->sim);
    ustk_stack_stats st;
    ustk_stack_stats_get(a, &st);
    r->retransmits = st.tcp_retransmits;
    r->arp_requests = st.arp_requests_sent;
    r->tso_frames = st.tcp_tso_frames;
    r->predicted = st.tcp_predicted;
    ustk_stack_stats_get(b, &st);
    r->retransmits += st.tcp_retransmits;
    r->tso_frames += st.tcp_tso_frames;
    r->predicted += st.tcp_predicted;
    r->client_events = cs.events;
    r->server_events = ss.events;
    r->arp_requests += st.arp_requests_sent;
    rc = 0;
out:
    ustk_stack_destroy(a);
    ustk_stack_destroy(b);
    ustk_link_destroy(la);
    ustk_link_destroy(lb);
    if (sdata != srv)
        free(sdata);
    free(data);
    free(srv);
    free(cli);
    return rc;
}
