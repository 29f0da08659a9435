/* `ustack demo`: a client and a server stack on a simulated link, a TCP
 * echo between them, and a ladder diagram of the whole conversation.
 *
 * The flow is ordinary application code over the non-blocking socket API:
 * the client connects to port 8888, sends a greeting and some pseudo-random
 * bytes, and reads the echo; the server accepts and echoes. Who closes first
 * is an option. The simulation loop advances a virtual clock from event to
 * event, so the run is exact and repeatable for a seed, and TIME-WAIT (with
 * a short MSL) expires in no real time at all.
 */
#include "demo.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "echo.h"
#include "ladder.h"
#include "link/pcap.h"
#include "link/sim.h"
#include "ustack/ustack.h"
#include "watch.h"

#define DEMO_PORT 8888
#define DEMO_LIMIT USTK_SEC(600) /* virtual time before giving up */
#define DEMO_MSL_S 1

/* The watcher's fate bits go to the ladder as they are. */
_Static_assert((int)WATCH_LOST == (int)LADDER_FATE_LOST &&
                   (int)WATCH_DUPLICATED == (int)LADDER_FATE_DUPLICATED &&
                   (int)WATCH_DELAYED == (int)LADDER_FATE_DELAYED &&
                   (int)WATCH_CORRUPTED == (int)LADDER_FATE_CORRUPTED,
               "watch and ladder fates differ");

typedef struct demo demo;

/* One side: its stack, its link, and the connection state the trace last
 * reported for it (the handles are gone after close, the trace is not). */
typedef struct endpoint {
    demo *d;
    int index; /* LADDER_LEFT (client) or LADDER_RIGHT (server) */
    ustk_stack *stack;
    ustk_link *link;
    int conn_state;
    bool had_conn;
} endpoint;

struct demo {
    const demo_opts *o;
    FILE *out;
    ladder *lad;
    endpoint ep[2];
    ustk_link *sim_end;
    ustk_time now;
    echo app;
    ustk_time t_start; /* the client's connect() */
    unsigned init_cwnd; /* segments, from the stacks' config */
    const char *why; /* why the run failed, when it did */
    char whybuf[120];
};

void demo_opts_default(demo_opts *o)
{
    memset(o, 0, sizeof *o);
    o->bytes = 4096;
    o->seed = 1;
    o->delay_ms = 10;
    o->rate_mbit = 100;
    o->cc = USTK_CC_NEWRENO;
    o->sack = true;
    o->close = DEMO_CLOSE_CLIENT;
    o->link = USTK_LINK_ETHERNET;
}

static void fmt_ms(char *buf, size_t cap, ustk_time t)
{
    snprintf(buf, cap, "%llu.%03llu", (unsigned long long)(t / 1000),
             (unsigned long long)(t % 1000));
}

static void on_note(void *ctx, ustk_time now, int side, const char *text)
{
    demo *d = ctx;
    ustk_sockaddr me;

    if (!d->lad)
        return;
    /* The first note is the client's connect(): it has bound by then, so
     * the header the ladder prints first can show its port. */
    if (side == ECHO_CLIENT && d->app.csock >= 0 &&
        ustk_getsockname(d->app.stack[ECHO_CLIENT], d->app.csock, &me) == 0)
        ladder_set_port(d->lad, LADDER_LEFT, me.port);
    ladder_note(d->lad, now, side, text);
}

/* ---- what the wire and the stacks report ------------------------------ */

static void on_frame(void *ctx, ustk_time now, const uint8_t *f, size_t n,
                     unsigned fate)
{
    endpoint *ep = ctx;

    if (!ep->d->lad)
        return;
    ladder_frame(ep->d->lad, now, ep->index, ep->d->o->link, f, n,
                 fate & ~(unsigned)WATCH_TOO_BIG);
    if (fate & WATCH_TOO_BIG) {
        char msg[80];
        snprintf(msg, sizeof msg,
                 "router: too big for MTU %u, ICMP \"frag needed\" back",
                 (unsigned)ep->d->o->path_mtu);
        ladder_note(ep->d->lad, now, ep->index, msg);
    }
}

static void on_trace(void *ctx, const ustk_trace_event *ev)
{
    endpoint *ep = ctx;

    if (ev->kind == USTK_TRACE_STATE && ev->rport != 0) {
        ep->conn_state = ev->state;
        if (ev->state != USTK_TCP_CLOSED)
            ep->had_conn = true;
    }
    if (ep->d->lad)
        ladder_event(ep->d->lad, ep->index, ev);
}

/* Both applications closed, and the trace saw both connections reach
 * CLOSED (the TIME-WAIT side gets there when 2*MSL expires). */
static bool finished(const demo *d)
{
    int i;

    if (!echo_closed(&d->app))
        return false;
    for (i = 0; i < 2; i++)
        if (!d->ep[i].had_conn || d->ep[i].conn_state != USTK_TCP_CLOSED)
            return false;
    return true;
}

/* ---- setting up and running -------------------------------------------- */

static int make_endpoint(demo *d, int i, ustk_link *sim)
{
    const demo_opts *o = d->o;
    endpoint *ep = &d->ep[i];
    ustk_config cfg;
    int rc;

    ep->d = d;
    ep->index = i;
    ep->conn_state = -1;
    /* The watcher sees each frame as it leaves, with its fate. */
    rc = watch_link_create(&ep->link, sim, d->sim_end, on_frame, ep);
    if (rc < 0)
        return rc;
    if (i == LADDER_LEFT && o->pcap) {
        ustk_link *pl = NULL;
        rc = ustk_pcap_link_create(&pl, ep->link, o->pcap);
        if (rc < 0) {
            fprintf(stderr, "ustack demo: cannot record to %s: %s\n", o->pcap,
                    strerror(-rc));
            return rc;
        }
        ep->link = pl;
    }
    ustk_config_default(&cfg);
    cfg.link = o->link;
    memcpy(cfg.mac, (const uint8_t[6]){ 2, 0, 0, 0, 0, (uint8_t)(i + 1) }, 6);
    cfg.ip = USTK_IP4(10, 0, 0, i + 1);
    cfg.prefix_len = 24;
    cfg.seed = o->seed * 2 + (uint64_t)i;
    cfg.msl = USTK_SEC(DEMO_MSL_S);
    cfg.cc = (uint8_t)o->cc;
    cfg.opt_sack = o->sack;
    cfg.trace = on_trace;
    cfg.trace_ctx = ep;
    rc = ustk_stack_create(&ep->stack, &cfg, d->now);
    if (rc < 0)
        fprintf(stderr, "ustack demo: cannot create the %s stack: %s\n",
                i ? "server" : "client", ustk_strerror(rc));
    return rc;
}

/* The earliest stack deadline or frame arrival, USTK_TIME_NEVER when
 * there is none. */
static ustk_time next_event(const ustk_sim_node *nodes, ustk_time now)
{
    ustk_time next = USTK_TIME_NEVER, t;
    int i;

    for (i = 0; i < 2; i++) {
        t = ustk_next_deadline(nodes[i].stack, now);
        if (t < next)
            next = t;
        t = ustk_link_next_arrival(nodes[i].link, now);
        if (t < next)
            next = t;
    }
    return next;
}

static void loop(demo *d)
{
    ustk_sim_node nodes[2] = { { d->ep[0].stack, d->ep[0].link },
                               { d->ep[1].stack, d->ep[1].link } };
    ustk_time before;
    char t[32];

    for (;;) {
        echo_step(&d->app, d->now);
        if (d->app.failed) {
            d->why = d->app.why;
            return;
        }
        if (finished(d))
            return;
        if (d->now >= DEMO_LIMIT) {
            d->why = "timed out after 600 s of virtual time";
            return;
        }
        before = d->now;
        if (!ustk_sim_step(nodes, 2, &d->now, DEMO_LIMIT)) {
            d->now = before; /* report the time it stopped, not the limit */
            fmt_ms(t, sizeof t, d->now);
            if (next_event(nodes, d->now) != USTK_TIME_NEVER)
                snprintf(d->whybuf, sizeof d->whybuf,
                         "timed out: the next event after %s ms is past the "
                         "%llu s of virtual time allowed", t,
                         (unsigned long long)(DEMO_LIMIT / USTK_SEC(1)));
            else
                snprintf(d->whybuf, sizeof d->whybuf,
                         "stalled: nothing more would happen after %s ms "
                         "(no frame in flight, no timer armed)", t);
            d->why = d->whybuf;
            return;
        }
    }
}

/* "2%" or "0.5%": a probability as a short percentage. */
static void fmt_pct(char *buf, size_t cap, double p)
{
    snprintf(buf, cap, "%g%%", p * 100.0);
}

static void intro(const demo *d)
{
    const demo_opts *o = d->o;
    static const char *const closer[] = {
        "the client closes first", "the server closes first",
        "both close at the same instant"
    };
    char faults[160] = "", pct[24];
    const struct {
        double p;
        const char *what;
    } fault[] = { { o->reorder, "reordered" },
                  { o->dup, "duplicated" },
                  { o->corrupt, "corrupted" } };
    size_t i, n = 0;

    for (i = 0; i < sizeof fault / sizeof fault[0]; i++) {
        if (fault[i].p <= 0.0 || n >= sizeof faults)
            continue;
        fmt_pct(pct, sizeof pct, fault[i].p);
        n += (size_t)snprintf(faults + n, sizeof faults - n, ", %s %s", pct,
                              fault[i].what);
    }
    fmt_pct(pct, sizeof pct, o->loss);
    fprintf(d->out,
            "ustack demo: a TCP echo between two ustack stacks on a simulated "
            "%s link\n"
            "  client 10.0.0.1, server 10.0.0.2:%d; seed %llu\n"
            "  link: %llu ms one way, %llu Mbit/s, %s lost%s\n"
            "  TCP: %s congestion control, SACK %s, initial window %u "
            "segments\n"
            "  the client sends \"%s\" and %llu pseudo-random bytes, the "
            "server echoes them,\n"
            "  then %s; MSL is %d s (RFC 9293: 2 min), so TIME-WAIT lasts "
            "%d s\n\n",
            o->link == USTK_LINK_IP ? "IP (no Ethernet, no ARP)" : "Ethernet",
            DEMO_PORT, (unsigned long long)o->seed,
            (unsigned long long)o->delay_ms, (unsigned long long)o->rate_mbit,
            pct, faults, o->cc == USTK_CC_CUBIC ? "CUBIC" : "NewReno",
            o->sack ? "on" : "off", d->init_cwnd, ECHO_GREETING,
            (unsigned long long)o->bytes, closer[o->close], DEMO_MSL_S,
            2 * DEMO_MSL_S);
}

/* The summary's lines after the first: goodput, each side's segments and
 * retransmissions by cause, and what the wire did. */
static void report_details(const demo *d)
{
    const echo *e = &d->app;
    ustk_time dur = (e->t_done ? e->t_done : d->now) - d->t_start;
    double mbit = dur ? (double)e->rx * 8.0 / (double)dur : 0.0;
    ustk_stack_stats st;
    ustk_sim_stats ss;
    char t[32];
    int i;

    fmt_ms(t, sizeof t, dur);
    fprintf(d->out,
            "  goodput %.3f Mbit/s: %llu bytes echoed in %s ms of virtual "
            "time%s\n",
            mbit, (unsigned long long)e->rx, t,
            e->t_done ? "" : " (unfinished)");
    for (i = 0; i < 2; i++) {
        const ustk_tcp_info *ti = &e->info[i];
        ustk_stack_stats_get(d->ep[i].stack, &st);
        fprintf(d->out, "  %s: %llu segments sent; ", i ? "server" : "client",
                (unsigned long long)st.tcp_segs_out);
        if (e->have_info[i])
            fprintf(d->out,
                    "retransmissions: %u timeout, %u fast retransmit, %u "
                    "SACK/RACK\n",
                    ti->rtx_timeout, ti->rtx_fast, ti->rtx_sack + ti->rtx_tlp);
        else
            fprintf(d->out, "retransmissions: no connection\n");
    }
    ustk_sim_stats_get(d->sim_end, &ss);
    fprintf(d->out,
            "  wire: %llu frames sent, %llu lost, %llu reordered, %llu "
            "duplicated, %llu corrupted\n",
            (unsigned long long)ss.sent,
            (unsigned long long)(ss.lost + ss.masked + ss.queue_drops),
            (unsigned long long)ss.reordered,
            (unsigned long long)ss.duplicated,
            (unsigned long long)ss.corrupted);
    if (d->o->path_mtu)
        fprintf(d->out,
                "  router: %llu packets too big for MTU %u, %llu ICMP "
                "\"fragmentation needed\" sent back\n",
                (unsigned long long)ss.too_big, (unsigned)d->o->path_mtu,
                (unsigned long long)ss.icmp_sent);
}

static int report(demo *d)
{
    bool tty = isatty(fileno(d->out)) &&
               !(getenv("NO_COLOR") && *getenv("NO_COLOR"));
    const echo *e = &d->app;
    bool ok = !d->why && finished(d) && echo_intact(e);
    char t[32];

    fmt_ms(t, sizeof t, d->now);
    if (!d->o->quiet)
        fputc('\n', d->out);
    if (ok) {
        fprintf(d->out,
                "%sok%s: echoed %llu/%llu bytes, matched (fnv1a %016llx); "
                "both sides CLOSED at %s ms\n",
                tty ? "\033[1;32m" : "", tty ? "\033[0m" : "",
                (unsigned long long)e->rx, (unsigned long long)e->total,
                (unsigned long long)e->h_rx, t);
        report_details(d);
        return 0;
    }
    if (!d->why)
        d->why = "the echo came back damaged";
    fprintf(d->out,
            "%sFAILED%s: echoed %llu/%llu bytes, %s; client %s, server %s at "
            "%s ms\n",
            tty ? "\033[1;31m" : "", tty ? "\033[0m" : "",
            (unsigned long long)e->rx, (unsigned long long)e->total,
            echo_intact(e)        ? "matched"
            : e->rx == e->total   ? "MISMATCH"
                                  : "incomplete",
            d->ep[0].conn_state >= 0 ? ustk_tcp_state_name(d->ep[0].conn_state)
                                     : "no connection",
            d->ep[1].conn_state >= 0 ? ustk_tcp_state_name(d->ep[1].conn_state)
                                     : "no connection",
            t);
    report_details(d);
    fflush(d->out);
    fprintf(stderr, "ustack demo: %s\n", d->why);
    echo_explain(e, stderr);
    return 1;
}

int demo_run(const demo_opts *o, FILE *out)
{
    demo *d = calloc(1, sizeof *d);
    ustk_sim_params sp;
    ustk_link *a = NULL, *b = NULL;
    int rc, status = 1, i;

    if (!d) {
        fprintf(stderr, "ustack demo: out of memory\n");
        return 1;
    }
    d->o = o;
    d->out = out;
    {
        ustk_config c;
        ustk_config_default(&c); /* the stacks keep its initial window */
        d->init_cwnd = c.init_cwnd;
    }

    if (!o->quiet) {
        ladder_opts lo;
        ladder_opts_default(&lo);
        lo.out = out;
        lo.color = isatty(fileno(out)) && !(getenv("NO_COLOR") && *getenv("NO_COLOR"));
        lo.utf8 = !o->ascii && ladder_utf8_locale();
        if (o->full)
            lo.collapse_head = lo.collapse_tail = 0;
        lo.wire_driven = true;
        if (ladder_create(&d->lad, &lo, "client", USTK_IP4(10, 0, 0, 1),
                          "server", USTK_IP4(10, 0, 0, 2)) < 0)
            goto out;
        ladder_set_port(d->lad, LADDER_RIGHT, DEMO_PORT);
        intro(d);
    }

    ustk_sim_params_default(&sp);
    sp.kind = o->link;
    sp.latency = USTK_MS(o->delay_ms);
    sp.rate_bps = o->rate_mbit * 1000000u;
    sp.seed = o->seed;
    sp.loss = o->loss;
    sp.reorder = o->reorder;
    sp.duplicate = o->dup;
    sp.corrupt = o->corrupt;
    sp.path_mtu = (uint16_t)o->path_mtu;
    rc = ustk_sim_pair_create(&a, &b, &sp);
    if (rc < 0) {
        fprintf(stderr, "ustack demo: cannot create the link: %s\n",
                ustk_strerror(rc));
        goto out;
    }
    d->sim_end = a;
    if (make_endpoint(d, LADDER_LEFT, a) < 0 ||
        make_endpoint(d, LADDER_RIGHT, b) < 0)
        goto out;
    d->app.stack[ECHO_CLIENT] = d->ep[LADDER_LEFT].stack;
    d->app.stack[ECHO_SERVER] = d->ep[LADDER_RIGHT].stack;
    d->app.client_addr = (ustk_sockaddr){ USTK_IP4(10, 0, 0, 1), 0 };
    d->app.server_addr = (ustk_sockaddr){ USTK_IP4(10, 0, 0, 2), DEMO_PORT };
    d->app.total = ECHO_GREETING_LEN + o->bytes;
    d->app.seed = o->seed;
    d->app.close = o->close;
    d->app.note = on_note;
    d->app.note_ctx = d;
    d->t_start = d->now;
    if (echo_start(&d->app, d->now) < 0) {
        fprintf(stderr, "ustack demo: %s\n", d->app.why);
        goto out;
    }
    loop(d);
    if (d->lad)
        ladder_flush(d->lad);
    status = report(d);
out:
    /* Destroying a stack closes what is left in it, which is traced: detach
     * the sink before the ladder goes. */
    for (i = 0; i < 2; i++) {
        if (d->ep[i].stack) {
            ustk_stack_set_trace(d->ep[i].stack, NULL, NULL);
            ustk_stack_destroy(d->ep[i].stack);
        }
    }
    ladder_destroy(d->lad);
    /* Each end's chain owns its simulated end; an end not yet wrapped is
     * destroyed here. The pair is freed with its second end. */
    if (d->ep[0].link)
        ustk_link_destroy(d->ep[0].link);
    else if (a)
        ustk_link_destroy(a);
    if (d->ep[1].link)
        ustk_link_destroy(d->ep[1].link);
    else if (b)
        ustk_link_destroy(b);
    free(d);
    return status;
}
