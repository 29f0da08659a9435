/* Scripted TCP tests: the fixture, the segment notation, the peer and the
 * clock. See tcp_harness.h for the notation. */
#include "tcp_harness.h"

#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/bytes.h"
#include "wire/icmp.h"
#include "wire/ipv4.h"

/* ---- the parsed segment description ----------------------------------- */

enum {
    F_SEQ = 1u << 0,
    F_ACK = 1u << 1,
    F_WND = 1u << 2,
    F_LEN = 1u << 3,
    F_DATA = 1u << 4,
    F_CTL = 1u << 5,
    F_SEQ_ABS = 1u << 6,
    F_ACK_ABS = 1u << 7,
    F_OPTS = 1u << 8,   /* an option token: the option set is exact */
    F_TS_VAL = 1u << 9, /* <TS=val,ecr> rather than <TS> */
    F_NOTS = 1u << 10,
    F_SACK_ABS = 1u << 11,
    F_BADSUM = 1u << 12 /* inject(): the last byte damaged after summing */
};

typedef struct th_spec {
    unsigned f;
    uint32_t seq, ack, len;
    uint16_t wnd;
    uint8_t flags; /* required */
    uint8_t maybe; /* may be present or not */
    ustk_tcp_opts opts;
    size_t dlen;
    uint8_t data[TH_DATA_MAX];
    char text[1024];
} th_spec;

static const struct {
    const char *name;
    uint8_t bit;
} flag_names[] = {
    {"SYN", USTK_TCP_SYN}, {"ACK", USTK_TCP_ACK}, {"FIN", USTK_TCP_FIN},
    {"RST", USTK_TCP_RST}, {"PSH", USTK_TCP_PSH}, {"URG", USTK_TCP_URG},
    {"ECE", USTK_TCP_ECE}, {"CWR", USTK_TCP_CWR},
};

void th_fail(const char *file, int line, const char *fmt, ...)
{
    char msg[4096];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    print_error("%s:%d: %s\n", file, line, msg);
    _fail(file, line);
}

void th_assert_drop(const char *file, int line, int got, int want)
{
    if (got != want)
        th_fail(file, line, "input result %s (%d), want %s (%d)",
                got ? ustk_drop_name(got) : "consumed", got,
                want ? ustk_drop_name(want) : "consumed", want);
}

void th_assert_err(const char *file, int line, long got, long want)
{
    if (got != want)
        th_fail(file, line, "result %s (%ld), want %s (%ld)",
                got <= 0 ? ustk_errname((int)got) : "a count", got,
                want <= 0 ? ustk_errname((int)want) : "a count", want);
}

static double rel_time(ustk_time now)
{
    return (double)(int64_t)(now - TH_T0) / 1e6;
}

static void flags_str(uint8_t flags, char *out, size_t cap)
{
    size_t n = 0;

    out[0] = '\0';
    for (size_t i = 0; i < sizeof flag_names / sizeof flag_names[0]; i++) {
        if (flags & flag_names[i].bit)
            n += (size_t)snprintf(out + n, n < cap ? cap - n : 0, "%s%s",
                                  n ? "," : "", flag_names[i].name);
    }
    if (n == 0)
        snprintf(out, cap, "none");
}

static bool parse_u32(const char *s, size_t n, uint32_t *out)
{
    char tmp[32];
    char *end;
    unsigned long long v;

    if (n == 0 || n >= sizeof tmp)
        return false;
    memcpy(tmp, s, n);
    tmp[n] = '\0';
    v = strtoull(tmp, &end, 0);
    if (*end != '\0' || v > UINT32_MAX)
        return false;
    *out = (uint32_t)v;
    return true;
}

/* A number with an optional '@' (absolute) in front. */
static bool parse_num(const char *s, size_t n, uint32_t *out, bool *abs)
{
    *abs = n > 0 && s[0] == '@';
    if (*abs) {
        s++;
        n--;
    }
    return parse_u32(s, n, out);
}

static void parse_spec(th_spec *sp, const char *file, int line)
{
    const char *p = sp->text;

    while (*p) {
        const char *key, *val = NULL, *end;
        size_t klen, vlen = 0;
        bool abs = false;

        if (isspace((unsigned char)*p)) {
            p++;
            continue;
        }
        if (*p != '<')
            th_fail(file, line, "segment \"%s\": expected '<' at \"%s\"",
                    sp->text, p);
        key = ++p;
        while (isalpha((unsigned char)*p))
            p++;
        klen = (size_t)(p - key);
        end = strchr(p, '>');
        if (!end)
            th_fail(file, line, "segment \"%s\": missing '>'", sp->text);
        if (*p == '=') {
            val = p + 1;
            vlen = (size_t)(end - val);
        } else if (p != end) {
            th_fail(file, line, "segment \"%s\": bad token at \"%s\"",
                    sp->text, key);
        }
#define KEY(k) (klen == sizeof(k) - 1 && strncmp(key, k, klen) == 0)
        if (KEY("SEQ") && val) {
            if (!parse_num(val, vlen, &sp->seq, &abs))
                goto bad;
            sp->f |= F_SEQ | (abs ? F_SEQ_ABS : 0);
        } else if (KEY("ACK") && val) {
            if (!parse_num(val, vlen, &sp->ack, &abs))
                goto bad;
            sp->f |= F_ACK | (abs ? F_ACK_ABS : 0);
        } else if (KEY("WND") && val) {
            uint32_t w;

            if (!parse_u32(val, vlen, &w) || w > 65535)
                goto bad;
            sp->wnd = (uint16_t)w;
            sp->f |= F_WND;
        } else if (KEY("LEN") && val) {
            if (!parse_u32(val, vlen, &sp->len) || sp->len > 65000)
                goto bad;
            sp->f |= F_LEN;
        } else if (KEY("DATA") && val) {
            if (vlen > TH_DATA_MAX)
                goto bad;
            memcpy(sp->data, val, vlen);
            sp->dlen = vlen;
            sp->f |= F_DATA;
        } else if (KEY("CTL") && val) {
            const char *q = val;

            sp->f |= F_CTL;
            while (q < end) {
                const char *comma = memchr(q, ',', (size_t)(end - q));
                const char *stop = comma ? comma : end;
                bool optional = stop > q && stop[-1] == '?';
                size_t n = (size_t)(stop - q) - (optional ? 1 : 0);
                uint8_t bit = 0;

                for (size_t i = 0; i < sizeof flag_names / sizeof flag_names[0]; i++)
                    if (strlen(flag_names[i].name) == n &&
                        strncmp(flag_names[i].name, q, n) == 0)
                        bit = flag_names[i].bit;
                if (!bit)
                    goto bad;
                if (optional)
                    sp->maybe |= bit;
                else
                    sp->flags |= bit;
                q = comma ? comma + 1 : end;
            }
        } else if (KEY("MSS") && val) {
            uint32_t v;

            if (!parse_u32(val, vlen, &v) || v > 65535)
                goto bad;
            sp->opts.mss = (uint16_t)v;
            sp->opts.has |= USTK_OPT_MSS;
            sp->f |= F_OPTS;
        } else if (KEY("WS") && val) {
            uint32_t v;

            if (!parse_u32(val, vlen, &v) || v > 255)
                goto bad;
            sp->opts.wscale = (uint8_t)v;
            sp->opts.has |= USTK_OPT_WSCALE;
            sp->f |= F_OPTS;
        } else if (KEY("SACKOK") && !val) {
            sp->opts.has |= USTK_OPT_SACK_PERM;
            sp->f |= F_OPTS;
        } else if (KEY("TS")) {
            sp->opts.has |= USTK_OPT_TS;
            sp->f |= F_OPTS;
            if (val) {
                const char *comma = memchr(val, ',', vlen);

                if (!comma ||
                    !parse_u32(val, (size_t)(comma - val), &sp->opts.ts_val) ||
                    !parse_u32(comma + 1, (size_t)(end - comma - 1),
                               &sp->opts.ts_ecr))
                    goto bad;
                sp->f |= F_TS_VAL;
            }
        } else if (KEY("SACK") && val) {
            const char *q = val;

            if (q < end && *q == '@') {
                sp->f |= F_SACK_ABS;
                q++;
            }
            while (q < end) {
                const char *comma = memchr(q, ',', (size_t)(end - q));
                const char *stop = comma ? comma : end;
                const char *dash = memchr(q, '-', (size_t)(stop - q));
                uint8_t k = sp->opts.nsack;

                if (!dash || k >= USTK_TCP_MAX_SACK ||
                    !parse_u32(q, (size_t)(dash - q), &sp->opts.sack[k][0]) ||
                    !parse_u32(dash + 1, (size_t)(stop - dash - 1),
                               &sp->opts.sack[k][1]))
                    goto bad;
                sp->opts.nsack++;
                q = comma ? comma + 1 : end;
            }
            sp->opts.has |= USTK_OPT_SACK;
            sp->f |= F_OPTS;
        } else if (KEY("NOOPTS") && !val) {
            sp->f |= F_OPTS | F_NOTS;
        } else if (KEY("NOTS") && !val) {
            sp->f |= F_NOTS;
        } else if (KEY("BADSUM") && !val) {
            sp->f |= F_BADSUM;
        } else {
            goto bad;
        }
#undef KEY
        p = end + 1;
        continue;
bad:
        th_fail(file, line, "segment \"%s\": cannot read token <%.*s>",
                sp->text, (int)(end - key), key);
    }
}

static void spec_format(th_spec *sp, const char *fmt, va_list ap)
    TH_PRINTF(2, 0);

static void spec_format(th_spec *sp, const char *fmt, va_list ap)
{
    memset(sp, 0, sizeof *sp);
    vsnprintf(sp->text, sizeof sp->text, fmt, ap);
}

/* ---- patterns ------------------------------------------------------------- */

/* Every byte depends on its sequence number through a multiplicative hash, so
 * a byte delivered at the wrong offset, twice, or from the wrong direction
 * shows as a mismatch. */
uint8_t th_peer_byte(uint32_t rseq)
{
    return (uint8_t)((rseq * 2654435761u) >> 24);
}

uint8_t th_stack_byte(uint32_t rseq)
{
    return (uint8_t)(((rseq ^ 0x5a5a5a5au) * 2246822519u) >> 24);
}

/* ---- fixture ---------------------------------------------------------------- */

static void trace_sink(void *ctx, const struct ustk_trace_event *ev)
{
    tcp_test *t = ctx;
    th_state_change *sc;

    if (ev->kind != USTK_TRACE_STATE)
        return;
    sc = &t->states[t->nstates % TH_TRACE_MAX];
    sc->at = ev->now;
    sc->lport = ev->lport;
    sc->rport = ev->rport;
    sc->old_state = ev->old_state;
    sc->state = ev->state;
    t->nstates++;
}

static void conn_reset(th_conn *c, uint16_t lport, uint16_t pport)
{
    memset(c, 0, sizeof *c);
    c->sock = -1;
    c->lport = lport;
    c->pport = pport;
    /* Distinct per peer port, so that two peers never share numbers. */
    c->irs = TH_PEER_ISS + (uint32_t)(pport - TH_PEER_PORT) * 0x01000193u;
    c->peer_wnd = 65535;
    c->stack_ws = -1;
    c->peer_ws = -1;
    c->peer_tsval = 0;
}

int th_setup(void **state)
{
    tcp_test *t = calloc(1, sizeof *t);
    ustk_config *cfg;

    if (!t)
        return -1;
    cfg = &t->cfg;
    ustk_config_default(cfg);
    cfg->link = USTK_LINK_IP;
    cfg->ip = TH_LOCAL_IP;
    cfg->prefix_len = 24;
    cfg->gateway = 0;
    cfg->mtu = 1500;
    cfg->seed = 0x7573746b74637031ull;
    cfg->max_sockets = 64;
    cfg->max_backlog = 8;
    cfg->max_half_open = 8;
    cfg->snd_buf = 65536;
    cfg->rcv_buf = 30000;
    /* The fixtures' handshakes take rtt = 500 ms. Whether or not the stack
     * takes an RTT sample from the handshake, RFC 6298 then gives the same
     * RTO: SRTT + 4 * RTTVAR = 500 + 4 * 250 = 1500 ms = rto_initial. */
    cfg->rto_initial = USTK_MS(1500);
    cfg->rto_min = USTK_MS(200);
    cfg->rto_max = USTK_SEC(60);
    cfg->syn_retries = 3;
    cfg->synack_retries = 2;
    cfg->data_retries = 4;
    cfg->msl = USTK_SEC(2);
    cfg->fin_wait2_timeout = USTK_SEC(10);
    cfg->delack = 0;
    cfg->opt_wscale = false;
    cfg->opt_sack = false;
    cfg->opt_timestamps = false;
    cfg->wscale = 0;

    t->now = TH_T0;
    t->lsock = -1;
    t->backlog = 4;
    t->rtt = USTK_MS(500);
    t->peer_syn_opts = "<MSS=1460>";
    t->ip_id = 1;
    conn_reset(&t->c, 0, TH_PEER_PORT);
    *state = t;
    return 0;
}

int th_teardown(void **state)
{
    tcp_test *t = *state;

    if (t) {
        if (t->s)
            ustk_stack_destroy(t->s);
        free(t);
    }
    *state = NULL;
    return 0;
}

void th_start(tcp_test *t)
{
    int rc;

    if (t->s)
        return;
    if (!t->cfg.trace) {
        t->cfg.trace = trace_sink;
        t->cfg.trace_ctx = t;
    }
    rc = ustk_stack_create(&t->s, &t->cfg, t->now);
    if (rc != 0 || !t->s)
        th_fail(__FILE__, __LINE__, "ustk_stack_create: %s",
                ustk_errname(rc));
}

void th_new_peer(tcp_test *t, uint16_t pport)
{
    conn_reset(&t->c, t->c.lport, pport);
}

uint64_t th_drops(const tcp_test *t, int reason)
{
    return t->s ? ustk_stack_drops(t->s, reason) : 0;
}

ustk_time th_deadline(const tcp_test *t)
{
    return ustk_next_deadline(t->s, t->now);
}

/* ---- negotiation as the peer sees it -------------------------------------- */

static bool ts_ok(const th_conn *c)
{
    return c->stack_syn_seen && c->peer_syn_seen && c->stack_ts && c->peer_ts;
}

static bool sack_ok(const th_conn *c)
{
    return c->stack_syn_seen && c->peer_syn_seen && c->stack_sack &&
           c->peer_sack;
}

static uint32_t peer_clock(const tcp_test *t)
{
    /* The peer's timestamp clock ticks in milliseconds (RFC 7323 §5.4). */
    return 0x10000000u + (uint32_t)((t->now - TH_T0) / 1000u);
}

/* ---- inject -------------------------------------------------------------------- */

int th_icmp_error(tcp_test *t, uint8_t type, uint8_t code, uint32_t rest,
                  uint32_t rseq, uint16_t total_len, uint16_t frag)
{
    uint8_t quote[28];
    ustk_ipv4_hdr ih;
    ustk_icmp_hdr ic;

    memset(&ih, 0, sizeof ih);
    ih.total_len = total_len;
    ih.ttl = 64;
    ih.frag = frag;
    ih.proto = USTK_IP_PROTO_TCP;
    ih.src = TH_LOCAL_IP;
    ih.dst = TH_PEER_IP;
    ustk_ipv4_emit(&ih, quote, 20);
    ustk_store_be16(quote + 20, t->c.lport);
    ustk_store_be16(quote + 22, t->c.pport);
    ustk_store_be32(quote + 24, t->c.iss + rseq);
    memset(&ic, 0, sizeof ic);
    ic.type = type;
    ic.code = code;
    ic.rest = rest;
    ic.data = quote;
    ic.data_len = sizeof quote;
    size_t n = ustk_icmp_emit(&ic, t->frame + 20, sizeof t->frame - 20);
    memset(&ih, 0, sizeof ih);
    ih.total_len = (uint16_t)(20 + n);
    ih.ttl = 64;
    ih.proto = USTK_IP_PROTO_ICMP;
    ih.src = USTK_IP4(10, 0, 0, 254);
    ih.dst = TH_LOCAL_IP;
    ustk_ipv4_emit(&ih, t->frame, 20);
    return ustk_input(t->s, t->now, t->frame, 20 + n);
}

int th_inject(tcp_test *t, const char *file, int line, const char *fmt, ...)
{
    th_conn *c = &t->c;
    th_spec sp;
    ustk_tcp_hdr h;
    ustk_ipv4_hdr ip;
    uint8_t payload[65536];
    size_t plen = 0, tcp_len, n;
    va_list ap;

    va_start(ap, fmt);
    spec_format(&sp, fmt, ap);
    va_end(ap);
    parse_spec(&sp, file, line);
    th_start(t);

    if (!(sp.f & F_CTL) || !(sp.f & F_SEQ))
        th_fail(file, line, "inject \"%s\": needs <SEQ> and <CTL>", sp.text);
    if (sp.maybe)
        th_fail(file, line, "inject \"%s\": '?' flags only in expect()",
                sp.text);
    memset(&h, 0, sizeof h);
    h.sport = c->pport;
    h.dport = c->lport;
    h.flags = sp.flags;
    h.seq = (sp.f & F_SEQ_ABS) ? sp.seq : c->irs + sp.seq;
    if (sp.flags & USTK_TCP_ACK) {
        if (!(sp.f & F_ACK))
            th_fail(file, line, "inject \"%s\": ACK flag needs <ACK=n>",
                    sp.text);
        if (!(sp.f & F_ACK_ABS) && !c->iss_known)
            th_fail(file, line,
                    "inject \"%s\": relative ACK, but the stack's ISS is not "
                    "known yet (use <ACK=@n>)", sp.text);
        h.ack = (sp.f & F_ACK_ABS) ? sp.ack : c->iss + sp.ack;
    } else if (sp.f & F_ACK) {
        h.ack = (sp.f & F_ACK_ABS) ? sp.ack : c->iss + sp.ack;
    }
    h.wnd = (sp.f & F_WND) ? sp.wnd : c->peer_wnd;
    h.opts = sp.opts;
    if (sp.opts.has & USTK_OPT_SACK) {
        if (!(sp.f & F_SACK_ABS))
            for (uint8_t i = 0; i < h.opts.nsack; i++) {
                h.opts.sack[i][0] += c->iss;
                h.opts.sack[i][1] += c->iss;
            }
    }
    if ((sp.opts.has & USTK_OPT_TS) && !(sp.f & F_TS_VAL)) {
        h.opts.ts_val = peer_clock(t);
        h.opts.ts_ecr = (sp.flags & USTK_TCP_ACK) ? c->stack_tsval : 0;
    } else if (!(sp.opts.has & USTK_OPT_TS) && !(sp.f & F_NOTS) &&
               !(sp.flags & (USTK_TCP_RST | USTK_TCP_SYN)) && ts_ok(c)) {
        /* RFC 7323 §3.2: once negotiated, TSopt MUST be sent in every
         * non-<RST> segment. */
        h.opts.has |= USTK_OPT_TS;
        h.opts.ts_val = peer_clock(t);
        h.opts.ts_ecr = c->stack_tsval;
    }
    if (h.opts.has & USTK_OPT_TS)
        c->peer_tsval = h.opts.ts_val;

    if (sp.f & F_DATA) {
        memcpy(payload, sp.data, sp.dlen);
        plen = sp.dlen;
    } else if (sp.f & F_LEN) {
        uint32_t first = h.seq - c->irs + ((sp.flags & USTK_TCP_SYN) ? 1u : 0u);

        for (uint32_t i = 0; i < sp.len; i++)
            payload[i] = th_peer_byte(first + i);
        plen = sp.len;
    }

    if ((sp.flags & USTK_TCP_SYN) && !c->peer_syn_seen) {
        c->peer_syn_seen = true;
        c->peer_mss = (h.opts.has & USTK_OPT_MSS) ? h.opts.mss : 0;
        c->peer_ts = (h.opts.has & USTK_OPT_TS) != 0;
        c->peer_sack = (h.opts.has & USTK_OPT_SACK_PERM) != 0;
        c->peer_ws = (h.opts.has & USTK_OPT_WSCALE) ? h.opts.wscale : -1;
    }

    tcp_len = USTK_TCP_HDR_LEN + ustk_tcp_opts_len(&h.opts) + plen;
    memset(&ip, 0, sizeof ip);
    ip.hdr_len = USTK_IPV4_HDR_LEN;
    ip.total_len = (uint16_t)(USTK_IPV4_HDR_LEN + tcp_len);
    ip.id = t->ip_id++;
    ip.frag = USTK_IPV4_DF;
    ip.ttl = 64;
    ip.proto = USTK_IP_PROTO_TCP;
    ip.src = TH_PEER_IP;
    ip.dst = TH_LOCAL_IP;
    if (ustk_ipv4_emit(&ip, t->frame, sizeof t->frame) != USTK_IPV4_HDR_LEN)
        th_fail(file, line, "inject: ustk_ipv4_emit failed");
    n = ustk_tcp_emit(&h, payload, plen, TH_PEER_IP, TH_LOCAL_IP,
                      t->frame + USTK_IPV4_HDR_LEN,
                      sizeof t->frame - USTK_IPV4_HDR_LEN);
    if (n != tcp_len)
        th_fail(file, line, "inject: ustk_tcp_emit wrote %zu bytes, want %zu",
                n, tcp_len);
    if (sp.f & F_BADSUM) /* damaged on the way: the checksum no longer fits */
        t->frame[USTK_IPV4_HDR_LEN + n - 1] ^= 0x5a;
    t->last_input = ustk_input(t->s, t->now, t->frame, USTK_IPV4_HDR_LEN + n);
    return t->last_input;
}

/* ---- capture and compare ------------------------------------------------------ */

static void render(const tcp_test *t, const th_seg *g, char *out, size_t cap)
{
    const th_conn *c = &t->c;
    char fl[64];
    size_t n = 0;

#define PUT(...)                                                              \
    do {                                                                      \
        n += (size_t)snprintf(out + n, n < cap ? cap - n : 0, __VA_ARGS__);   \
    } while (0)
    flags_str(g->h.flags, fl, sizeof fl);
    PUT("<SEQ=%" PRIu32 ">", g->rseq);
    if (g->h.flags & USTK_TCP_ACK)
        PUT("<ACK=%" PRIu32 ">", g->rack);
    PUT("<CTL=%s><WND=%u>", fl, g->h.wnd);
    if (g->len)
        PUT("<LEN=%zu>", g->len);
    if (g->h.opts.has & USTK_OPT_MSS)
        PUT("<MSS=%u>", g->h.opts.mss);
    if (g->h.opts.has & USTK_OPT_WSCALE)
        PUT("<WS=%u>", g->h.opts.wscale);
    if (g->h.opts.has & USTK_OPT_SACK_PERM)
        PUT("<SACKOK>");
    if (g->h.opts.has & USTK_OPT_TS)
        PUT("<TS=%" PRIu32 ",%" PRIu32 ">", g->h.opts.ts_val, g->h.opts.ts_ecr);
    if (g->h.opts.has & USTK_OPT_SACK) {
        PUT("<SACK=");
        for (uint8_t i = 0; i < g->h.opts.nsack; i++)
            PUT("%s%" PRIu32 "-%" PRIu32, i ? "," : "",
                g->h.opts.sack[i][0] - c->irs, g->h.opts.sack[i][1] - c->irs);
        PUT(">");
    }
    PUT(" (ports %u->%u, abs seq=%" PRIu32 " ack=%" PRIu32 ", t=%.6f s)",
        g->h.sport, g->h.dport, g->h.seq, g->h.ack, rel_time(g->at));
#undef PUT
}

/* Take the next frame the stack sends at t->now and parse it. */
static bool capture(tcp_test *t, const char *file, int line, th_seg *g)
{
    th_conn *c = &t->c;
    ustk_ipv4_hdr ip;
    size_t len = 0;
    int rc;

    if (!t->s)
        th_fail(file, line, "no stack yet (call a conn_in_* helper first)");
    rc = ustk_poll_output(t->s, t->now, t->rx, sizeof t->rx, &len);
    if (rc == USTK_EAGAIN)
        return false;
    if (rc != 0 || len == 0)
        th_fail(file, line, "ustk_poll_output: %s (len %zu)",
                ustk_errname(rc), len);
    rc = ustk_ipv4_parse(t->rx, len, &ip);
    if (rc != 0)
        th_fail(file, line, "the stack sent a bad IPv4 packet: %s",
                ustk_drop_name(rc));
    if (ip.proto != USTK_IP_PROTO_TCP || ip.src != TH_LOCAL_IP ||
        ip.dst != TH_PEER_IP || ip.total_len != len)
        th_fail(file, line,
                "the stack sent an unexpected packet: proto %u, %08" PRIx32
                " -> %08" PRIx32 ", total_len %u of %zu",
                ip.proto, ip.src, ip.dst, ip.total_len, len);
    memset(g, 0, sizeof *g);
    rc = ustk_tcp_parse(t->rx + ip.hdr_len, (size_t)ip.total_len - ip.hdr_len,
                        ip.src, ip.dst, true, &g->h);
    if (rc != 0)
        th_fail(file, line, "the stack sent a bad TCP segment: %s",
                ustk_drop_name(rc));
    g->at = t->now;
    g->ttl = ip.ttl;
    g->ip_frag = ip.frag;
    g->data = t->rx + ip.hdr_len + g->h.hdr_len;
    g->len = (size_t)ip.total_len - ip.hdr_len - g->h.hdr_len;

    /* Learn what the stack chose: its port (active opens), its ISS and
     * options (its SYN or SYN-ACK), its latest timestamp. */
    if (g->h.flags & USTK_TCP_SYN) {
        if (c->lport == 0)
            c->lport = g->h.sport;
        if (!c->iss_known && g->h.sport == c->lport && g->h.dport == c->pport) {
            c->iss = g->h.seq;
            c->iss_known = true;
        }
        if (g->h.sport == c->lport && g->h.dport == c->pport) {
            c->stack_syn_seen = true;
            c->stack_ts = (g->h.opts.has & USTK_OPT_TS) != 0;
            c->stack_sack = (g->h.opts.has & USTK_OPT_SACK_PERM) != 0;
            c->stack_ws = (g->h.opts.has & USTK_OPT_WSCALE) ? g->h.opts.wscale : -1;
        }
    }
    if ((g->h.opts.has & USTK_OPT_TS) && g->h.sport == c->lport &&
        g->h.dport == c->pport)
        c->stack_tsval = g->h.opts.ts_val;
    g->rseq = g->h.seq - c->iss;
    g->rack = g->h.ack - c->irs;
    return true;
}

bool th_take(tcp_test *t, const char *file, int line, th_seg *out)
{
    if (!capture(t, file, line, out))
        return false;
    t->last = *out;
    return true;
}

#define DIFF(...)                                                             \
    do {                                                                      \
        dn += (size_t)snprintf(diff + dn, dn < sizeof diff ? sizeof diff - dn : 0, \
                               __VA_ARGS__);                                  \
    } while (0)

static void compare(tcp_test *t, const th_spec *sp, const th_seg *g,
                    const char *file, int line)
{
    const th_conn *c = &t->c;
    char diff[2048];
    size_t dn = 0;
    uint8_t ignore = sp->maybe;
    size_t want_len = 0;

    diff[0] = '\0';
    if (!(sp->f & F_CTL))
        th_fail(file, line, "expect \"%s\": needs <CTL=...>", sp->text);
    if (g->h.sport != c->lport || g->h.dport != c->pport)
        DIFF(" ports (want %u->%u, got %u->%u)", c->lport, c->pport,
             g->h.sport, g->h.dport);
    if (!(sp->flags & USTK_TCP_PSH))
        ignore |= USTK_TCP_PSH;
    if ((g->h.flags & ~ignore) != (sp->flags & ~ignore)) {
        char a[64], b[64];

        flags_str(sp->flags, a, sizeof a);
        flags_str(g->h.flags, b, sizeof b);
        DIFF(" flags (want %s, got %s)", a, b);
    }
    if (sp->f & F_SEQ) {
        uint32_t want;

        if (!(sp->f & F_SEQ_ABS) && !c->iss_known)
            th_fail(file, line, "expect \"%s\": the stack's ISS is unknown "
                    "(use <SEQ=@n>)", sp->text);
        want = (sp->f & F_SEQ_ABS) ? sp->seq : c->iss + sp->seq;
        if (g->h.seq != want)
            DIFF(" seq (want %" PRIu32 ", got %" PRIu32 ")",
                 sp->f & F_SEQ_ABS ? want : sp->seq,
                 sp->f & F_SEQ_ABS ? g->h.seq : g->rseq);
    }
    if ((sp->f & F_ACK) && (g->h.flags & USTK_TCP_ACK)) {
        uint32_t want = (sp->f & F_ACK_ABS) ? sp->ack : c->irs + sp->ack;

        if (g->h.ack != want)
            DIFF(" ack (want %" PRIu32 ", got %" PRIu32 ")",
                 sp->f & F_ACK_ABS ? want : sp->ack,
                 sp->f & F_ACK_ABS ? g->h.ack : g->rack);
    }
    if ((sp->f & F_WND) && g->h.wnd != sp->wnd)
        DIFF(" wnd (want %u, got %u)", sp->wnd, g->h.wnd);

    if (sp->f & F_DATA)
        want_len = sp->dlen;
    else if (sp->f & F_LEN)
        want_len = sp->len;
    if (g->len != want_len) {
        DIFF(" len (want %zu, got %zu)", want_len, g->len);
    } else if (sp->f & F_DATA) {
        if (memcmp(g->data, sp->data, want_len) != 0)
            DIFF(" payload bytes differ from <DATA>");
    } else if (want_len) {
        uint32_t first = g->rseq + ((g->h.flags & USTK_TCP_SYN) ? 1u : 0u);

        for (size_t i = 0; i < want_len; i++) {
            if (g->data[i] != th_stack_byte(first + (uint32_t)i)) {
                DIFF(" payload byte %zu (seq %" PRIu32 ") is 0x%02x, the "
                     "stream has 0x%02x", i, first + (uint32_t)i, g->data[i],
                     th_stack_byte(first + (uint32_t)i));
                break;
            }
        }
    }

    if (sp->f & F_OPTS) {
        const ustk_tcp_opts *o = &g->h.opts;

        if (o->has != sp->opts.has)
            DIFF(" options (want set 0x%02x, got 0x%02x)", sp->opts.has, o->has);
        if ((sp->opts.has & o->has & USTK_OPT_MSS) && o->mss != sp->opts.mss)
            DIFF(" mss (want %u, got %u)", sp->opts.mss, o->mss);
        if ((sp->opts.has & o->has & USTK_OPT_WSCALE) &&
            o->wscale != sp->opts.wscale)
            DIFF(" wscale (want %u, got %u)", sp->opts.wscale, o->wscale);
        if ((sp->f & F_TS_VAL) && (o->has & USTK_OPT_TS) &&
            (o->ts_val != sp->opts.ts_val || o->ts_ecr != sp->opts.ts_ecr))
            DIFF(" ts (want %" PRIu32 ",%" PRIu32 ", got %" PRIu32 ",%" PRIu32 ")",
                 sp->opts.ts_val, sp->opts.ts_ecr, o->ts_val, o->ts_ecr);
        if ((sp->opts.has & o->has & USTK_OPT_SACK)) {
            uint32_t base = (sp->f & F_SACK_ABS) ? 0 : c->irs;

            if (o->nsack != sp->opts.nsack)
                DIFF(" sack blocks (want %u, got %u)", sp->opts.nsack, o->nsack);
            for (uint8_t i = 0; i < o->nsack && i < sp->opts.nsack; i++)
                if (o->sack[i][0] != base + sp->opts.sack[i][0] ||
                    o->sack[i][1] != base + sp->opts.sack[i][1])
                    DIFF(" sack[%u] (want %" PRIu32 "-%" PRIu32 ", got %" PRIu32
                         "-%" PRIu32 ")", i, sp->opts.sack[i][0],
                         sp->opts.sack[i][1], o->sack[i][0] - base,
                         o->sack[i][1] - base);
        }
    } else if (!(g->h.flags & USTK_TCP_SYN)) {
        const ustk_tcp_opts *o = &g->h.opts;

        /* Options that only belong on a SYN, or were never negotiated, must
         * not appear later (RFC 9293 §3.7.1, RFC 7323 §2.2 and §3.2, RFC
         * 2018 §2). */
        if (o->has & (USTK_OPT_MSS | USTK_OPT_WSCALE | USTK_OPT_SACK_PERM))
            DIFF(" SYN-only option on a non-SYN segment (set 0x%02x)", o->has);
        if ((o->has & USTK_OPT_SACK) && !sack_ok(c))
            DIFF(" SACK blocks without SACK negotiated");
        if (!(g->h.flags & USTK_TCP_RST) && c->stack_syn_seen &&
            c->peer_syn_seen) {
            if (ts_ok(c) && !(o->has & USTK_OPT_TS) && !(sp->f & F_NOTS))
                DIFF(" no timestamp though negotiated (RFC 7323 §3.2)");
            if (!ts_ok(c) && (o->has & USTK_OPT_TS))
                DIFF(" timestamp though not negotiated");
        }
    }
    if ((sp->f & F_NOTS) && !(sp->f & F_OPTS) && (g->h.opts.has & USTK_OPT_TS))
        DIFF(" timestamp present (want none)");

    if (dn) {
        char actual[1024];

        render(t, g, actual, sizeof actual);
        th_fail(file, line,
                "segment mismatch at t=%.6f s\n    expected: %s\n    actual:   %s\n"
                "    differs: %s",
                rel_time(t->now), sp->text, actual, diff);
    }
}

#undef DIFF

static const th_seg *expect_spec(tcp_test *t, th_spec *sp, const char *file,
                                 int line)
{
    th_seg g;

    parse_spec(sp, file, line);
    if (!capture(t, file, line, &g)) {
        ustk_time d = ustk_next_deadline(t->s, t->now);

        if (d == USTK_TIME_NEVER)
            th_fail(file, line, "expected %s at t=%.6f s, but the stack sent "
                    "nothing (next deadline: never)", sp->text,
                    rel_time(t->now));
        th_fail(file, line, "expected %s at t=%.6f s, but the stack sent "
                "nothing (next deadline: t=%.6f s)", sp->text,
                rel_time(t->now), rel_time(d));
    }
    compare(t, sp, &g, file, line);
    t->last = g;
    return &t->last;
}

const th_seg *th_expect(tcp_test *t, const char *file, int line,
                        const char *fmt, ...)
{
    th_spec sp;
    va_list ap;

    va_start(ap, fmt);
    spec_format(&sp, fmt, ap);
    va_end(ap);
    return expect_spec(t, &sp, file, line);
}

const th_seg *th_expect_at(tcp_test *t, ustk_time at, const char *file,
                           int line, const char *fmt, ...)
{
    th_spec sp;
    va_list ap;

    va_start(ap, fmt);
    spec_format(&sp, fmt, ap);
    va_end(ap);
    th_expect_nothing_until(t, at, file, line);
    return expect_spec(t, &sp, file, line);
}

void th_expect_segments(tcp_test *t, const char *file, int line,
                        uint32_t first, uint32_t n, uint32_t mss)
{
    for (uint32_t i = 0; i < n; i++)
        th_expect(t, file, line, "<SEQ=%u><ACK=1><CTL=ACK><LEN=%u>",
                  1 + (first + i) * mss, mss);
}

void th_expect_nothing(tcp_test *t, const char *file, int line)
{
    th_seg g;

    if (capture(t, file, line, &g)) {
        char actual[1024];

        render(t, &g, actual, sizeof actual);
        th_fail(file, line, "expected nothing at t=%.6f s, but the stack "
                "sent %s", rel_time(t->now), actual);
    }
}

void th_expect_nothing_until(tcp_test *t, ustk_time until, const char *file,
                             int line)
{
    if (until < t->now)
        th_fail(file, line, "expect_nothing_until(t=%.6f s): the clock is "
                "already at t=%.6f s", rel_time(until), rel_time(t->now));
    while (t->now < until) {
        ustk_time d;
        th_seg g;

        if (capture(t, file, line, &g)) {
            char actual[1024];

            render(t, &g, actual, sizeof actual);
            th_fail(file, line, "expected nothing before t=%.6f s, but at "
                    "t=%.6f s the stack sent %s", rel_time(until),
                    rel_time(t->now), actual);
        }
        d = ustk_next_deadline(t->s, t->now);
        if (d <= t->now)
            th_fail(file, line, "ustk_next_deadline says t=%.6f s, not after "
                    "now (t=%.6f s), though ustk_poll_output had nothing: the "
                    "deadline and the output disagree (DESIGN principle 3)",
                    rel_time(d), rel_time(t->now));
        if (d >= until)
            break;
        t->now = d;
    }
    t->now = until;
}

void th_advance_to(tcp_test *t, ustk_time at, const char *file, int line)
{
    if (at < t->now)
        th_fail(file, line, "advance_to(t=%.6f s): time cannot go back from "
                "t=%.6f s", rel_time(at), rel_time(t->now));
    t->now = at;
}

int th_drain(tcp_test *t)
{
    th_seg g;
    int n = 0;

    while (capture(t, __FILE__, __LINE__, &g))
        n++;
    return n;
}

/* ---- application side --------------------------------------------------------- */

ptrdiff_t th_app_send(tcp_test *t, size_t n)
{
    uint8_t *buf = malloc(n ? n : 1);
    ptrdiff_t rc;

    if (!buf)
        return USTK_ENOMEM;
    for (size_t i = 0; i < n; i++)
        buf[i] = th_stack_byte((uint32_t)(t->c.app_sent + 1 + i));
    rc = ustk_send(t->s, t->c.sock, buf, n, t->now);
    if (rc > 0)
        t->c.app_sent += (uint64_t)rc;
    free(buf);
    return rc;
}

void th_app_recv_expect(tcp_test *t, size_t n, const char *file, int line)
{
    uint8_t *buf = malloc(n + 1);
    size_t got = 0;

    if (!buf)
        th_fail(file, line, "out of memory");
    while (got < n) {
        ptrdiff_t rc = ustk_recv(t->s, t->c.sock, buf + got, n - got, t->now);

        if (rc <= 0) {
            free(buf);
            th_fail(file, line, "recv: wanted %zu bytes, got %zu, then %s",
                    n, got, rc == 0 ? "end of stream" : ustk_errname((int)rc));
        }
        got += (size_t)rc;
    }
    if (got != n) {
        free(buf);
        th_fail(file, line, "recv: wanted %zu bytes, got %zu", n, got);
    }
    for (size_t i = 0; i < n; i++) {
        uint32_t rseq = (uint32_t)(t->c.app_rcvd + 1 + i);

        if (buf[i] != th_peer_byte(rseq)) {
            uint8_t b = buf[i];

            free(buf);
            th_fail(file, line, "recv: byte %zu (seq %" PRIu32 ") is 0x%02x, "
                    "the peer sent 0x%02x", i, rseq, b, th_peer_byte(rseq));
        }
    }
    t->c.app_rcvd += n;
    free(buf);
}

/* ---- looking at the stack ------------------------------------------------------ */

ustk_tcp_info th_info(tcp_test *t, int sock, const char *file, int line)
{
    ustk_tcp_info ti;
    int rc;

    memset(&ti, 0, sizeof ti);
    rc = ustk_tcp_info_get(t->s, sock, &ti);
    if (rc != 0)
        th_fail(file, line, "ustk_tcp_info_get(%d): %s", sock,
                ustk_errname(rc));
    return ti;
}

void th_assert_state(tcp_test *t, int sock, int state, const char *file,
                     int line)
{
    ustk_tcp_info ti = th_info(t, sock, file, line);

    if (ti.state != state)
        th_fail(file, line, "socket %d is in %s, want %s", sock,
                ustk_tcp_state_name(ti.state), ustk_tcp_state_name(state));
}

int th_traced_state(const tcp_test *t)
{
    size_t n = t->nstates < TH_TRACE_MAX ? t->nstates : TH_TRACE_MAX;

    for (size_t i = 0; i < n; i++) {
        const th_state_change *sc =
            &t->states[(t->nstates - 1 - i) % TH_TRACE_MAX];

        if (sc->lport == t->c.lport && sc->rport == t->c.pport)
            return sc->state;
    }
    return -1;
}

bool th_traced_change(const tcp_test *t, int old_state, int new_state)
{
    size_t n = t->nstates < TH_TRACE_MAX ? t->nstates : TH_TRACE_MAX;

    for (size_t i = 0; i < n; i++) {
        const th_state_change *sc = &t->states[i];

        if (sc->lport == t->c.lport && sc->rport == t->c.pport &&
            sc->old_state == old_state && sc->state == new_state)
            return true;
    }
    return false;
}

/* ---- connections in each state ----------------------------------------------- */

void th_conn_in_listen(tcp_test *t, const char *file, int line)
{
    ustk_sockaddr a = {TH_LOCAL_IP, TH_LISTEN_PORT};
    int rc;

    th_start(t);
    t->lsock = ustk_open(t->s, USTK_PROTO_TCP);
    if (t->lsock < 0)
        th_fail(file, line, "ustk_open: %s", ustk_errname(t->lsock));
    rc = ustk_bind(t->s, t->lsock, &a);
    if (rc != 0)
        th_fail(file, line, "ustk_bind: %s", ustk_errname(rc));
    rc = ustk_listen(t->s, t->lsock, t->backlog);
    if (rc != 0)
        th_fail(file, line, "ustk_listen: %s", ustk_errname(rc));
    t->c.lport = TH_LISTEN_PORT;
    th_assert_state(t, t->lsock, USTK_TCP_LISTEN, file, line);
}

void th_conn_in_syn_sent(tcp_test *t, const char *file, int line)
{
    ustk_sockaddr to = {TH_PEER_IP, t->c.pport}, me = {0, 0};
    int rc;

    th_start(t);
    t->c.sock = ustk_open(t->s, USTK_PROTO_TCP);
    if (t->c.sock < 0)
        th_fail(file, line, "ustk_open: %s", ustk_errname(t->c.sock));
    rc = ustk_connect(t->s, t->c.sock, &to, t->now);
    if (rc != USTK_EINPROGRESS)
        th_fail(file, line, "ustk_connect: %s, want EINPROGRESS",
                ustk_errname(rc));
    if (ustk_getsockname(t->s, t->c.sock, &me) == 0 && me.port != 0)
        t->c.lport = me.port; /* otherwise learnt from the SYN */
    th_expect(t, file, line, "<SEQ=0><CTL=SYN>");
    th_assert_state(t, t->c.sock, USTK_TCP_SYN_SENT, file, line);
}

void th_conn_in_syn_received(tcp_test *t, const char *file, int line)
{
    if (t->lsock < 0)
        th_conn_in_listen(t, file, line);
    th_inject(t, file, line, "<SEQ=0><CTL=SYN>%s", t->peer_syn_opts);
    th_expect(t, file, line, "<SEQ=0><ACK=1><CTL=SYN,ACK>");
}

void th_conn_in_syn_received_simopen(tcp_test *t, const char *file, int line)
{
    th_conn_in_syn_sent(t, file, line);
    th_advance_to(t, t->now + t->rtt / 2, file, line);
    /* RFC 9293 §3.5, Figure 8: both SYNs cross. */
    th_inject(t, file, line, "<SEQ=0><CTL=SYN>%s", t->peer_syn_opts);
    th_expect(t, file, line, "<SEQ=0><ACK=1><CTL=SYN,ACK>");
    th_assert_state(t, t->c.sock, USTK_TCP_SYN_RECEIVED, file, line);
}

void th_conn_in_established(tcp_test *t, const char *file, int line)
{
    th_conn_in_syn_sent(t, file, line);
    th_advance_to(t, t->now + t->rtt, file, line);
    th_inject(t, file, line, "<SEQ=0><ACK=1><CTL=SYN,ACK>%s", t->peer_syn_opts);
    th_expect(t, file, line, "<SEQ=1><ACK=1><CTL=ACK>");
    th_assert_state(t, t->c.sock, USTK_TCP_ESTABLISHED, file, line);
}

void th_conn_in_established_passive(tcp_test *t, const char *file, int line)
{
    ustk_sockaddr peer = {0, 0};

    th_conn_in_syn_received(t, file, line);
    th_advance_to(t, t->now + t->rtt, file, line);
    th_inject(t, file, line, "<SEQ=1><ACK=1><CTL=ACK>");
    th_expect_nothing(t, file, line);
    t->c.sock = ustk_accept(t->s, t->lsock, &peer);
    if (t->c.sock < 0)
        th_fail(file, line, "ustk_accept: %s", ustk_errname(t->c.sock));
    if (peer.addr != TH_PEER_IP || peer.port != t->c.pport)
        th_fail(file, line, "ustk_accept: peer %08" PRIx32 ":%u, want "
                "%08" PRIx32 ":%u", peer.addr, peer.port, TH_PEER_IP,
                t->c.pport);
    th_assert_state(t, t->c.sock, USTK_TCP_ESTABLISHED, file, line);
}

void th_conn_in_fin_wait_1(tcp_test *t, const char *file, int line)
{
    int rc;

    th_conn_in_established(t, file, line);
    rc = ustk_shutdown(t->s, t->c.sock, USTK_SHUT_WR, t->now);
    if (rc != 0)
        th_fail(file, line, "ustk_shutdown(WR): %s", ustk_errname(rc));
    th_expect(t, file, line, "<SEQ=1><ACK=1><CTL=FIN,ACK>");
    th_assert_state(t, t->c.sock, USTK_TCP_FIN_WAIT_1, file, line);
}

void th_conn_in_fin_wait_2(tcp_test *t, const char *file, int line)
{
    th_conn_in_fin_wait_1(t, file, line);
    th_advance_to(t, t->now + t->rtt, file, line);
    th_inject(t, file, line, "<SEQ=1><ACK=2><CTL=ACK>");
    th_expect_nothing(t, file, line);
    th_assert_state(t, t->c.sock, USTK_TCP_FIN_WAIT_2, file, line);
}

void th_conn_in_closing(tcp_test *t, const char *file, int line)
{
    th_conn_in_fin_wait_1(t, file, line);
    /* The peer's FIN crosses ours: it does not acknowledge our FIN. */
    th_inject(t, file, line, "<SEQ=1><ACK=1><CTL=FIN,ACK>");
    th_expect(t, file, line, "<SEQ=2><ACK=2><CTL=ACK>");
    th_assert_state(t, t->c.sock, USTK_TCP_CLOSING, file, line);
}

void th_conn_in_time_wait(tcp_test *t, const char *file, int line)
{
    th_conn_in_fin_wait_2(t, file, line);
    th_inject(t, file, line, "<SEQ=1><ACK=2><CTL=FIN,ACK>");
    th_expect(t, file, line, "<SEQ=2><ACK=2><CTL=ACK>");
    th_assert_state(t, t->c.sock, USTK_TCP_TIME_WAIT, file, line);
}

void th_conn_in_close_wait(tcp_test *t, const char *file, int line)
{
    th_conn_in_established(t, file, line);
    th_inject(t, file, line, "<SEQ=1><ACK=1><CTL=FIN,ACK>");
    th_expect(t, file, line, "<SEQ=1><ACK=2><CTL=ACK>");
    th_assert_state(t, t->c.sock, USTK_TCP_CLOSE_WAIT, file, line);
}

void th_conn_in_last_ack(tcp_test *t, const char *file, int line)
{
    int rc;

    th_conn_in_close_wait(t, file, line);
    rc = ustk_shutdown(t->s, t->c.sock, USTK_SHUT_WR, t->now);
    if (rc != 0)
        th_fail(file, line, "ustk_shutdown(WR): %s", ustk_errname(rc));
    th_expect(t, file, line, "<SEQ=1><ACK=2><CTL=FIN,ACK>");
    th_assert_state(t, t->c.sock, USTK_TCP_LAST_ACK, file, line);
}
