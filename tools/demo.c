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

#include "args.h"
#include "echo.h"
#include "ladder.h"
#include "link/pcap.h"
#include "link/sim.h"
#include "ustack/ustack.h"
#include "watch.h"

#define DEMO_PORT 8888
#define DEMO_LIMIT USTK_SEC(600) /* virtual time before giving up */
#define DEMO_LATENCY_MS 10
#define DEMO_RATE_BPS 100000000u
#define DEMO_MSL_S 1

static const char *const close_names[] = { "client", "server", "both", NULL };
static const char *const link_names[] = { "ethernet", "ip", NULL };

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
    const char *why; /* why the run failed, when it did */
    char whybuf[120];
};

void demo_opts_default(demo_opts *o)
{
    memset(o, 0, sizeof *o);
    o->bytes = 4096;
    o->seed = 1;
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
                     bool lost)
{
    endpoint *ep = ctx;

    if (ep->d->lad)
        ladder_frame(ep->d->lad, now, ep->index, ep->d->o->link, f, n, lost);
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
    cfg.trace = on_trace;
    cfg.trace_ctx = ep;
    rc = ustk_stack_create(&ep->stack, &cfg, d->now);
    if (rc < 0)
        fprintf(stderr, "ustack demo: cannot create the %s stack: %s\n",
                i ? "server" : "client", ustk_strerror(rc));
    return rc;
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
            snprintf(d->whybuf, sizeof d->whybuf,
                     "stalled: nothing more would happen after %s ms (no "
                     "frame in flight, no timer armed)", t);
            d->why = d->whybuf;
            return;
        }
    }
}

static bool utf8_locale(void)
{
    const char *v = getenv("LC_ALL");

    if (!v || !*v)
        v = getenv("LC_CTYPE");
    if (!v || !*v)
        v = getenv("LANG");
    return v && (strstr(v, "UTF-8") || strstr(v, "utf-8") ||
                 strstr(v, "UTF8") || strstr(v, "utf8"));
}

static void intro(const demo *d)
{
    const demo_opts *o = d->o;
    static const char *const closer[] = {
        "the client closes first", "the server closes first",
        "both close at the same instant"
    };

    fprintf(d->out,
            "ustack demo: a TCP echo between two ustack stacks on a simulated "
            "%s link\n"
            "  client 10.0.0.1, server 10.0.0.2:%d; %d ms one way, %u Mbit/s, "
            "%g%% loss, seed %llu\n"
            "  the client sends \"%s\" and %llu pseudo-random bytes, the "
            "server echoes them,\n"
            "  then %s; MSL is %d s (RFC 9293: 2 min), so TIME-WAIT lasts "
            "%d s\n\n",
            o->link == USTK_LINK_IP ? "IP (no Ethernet, no ARP)" : "Ethernet",
            DEMO_PORT, DEMO_LATENCY_MS, DEMO_RATE_BPS / 1000000u,
            o->loss * 100.0, (unsigned long long)o->seed, ECHO_GREETING,
            (unsigned long long)o->bytes, closer[o->close], DEMO_MSL_S,
            2 * DEMO_MSL_S);
}

static int report(demo *d)
{
    bool tty = isatty(fileno(d->out)) && !(getenv("NO_COLOR") && *getenv("NO_COLOR"));
    const echo *e = &d->app;
    bool ok = !d->why && finished(d) && echo_intact(e);
    ustk_sim_stats ss;
    ustk_stack_stats st[2];
    char t[32];
    int i;

    ustk_sim_stats_get(d->sim_end, &ss);
    for (i = 0; i < 2; i++)
        ustk_stack_stats_get(d->ep[i].stack, &st[i]);
    fmt_ms(t, sizeof t, d->now);
    if (!d->o->quiet)
        fprintf(d->out,
                "\nwire: %llu frames sent, %llu lost; segments retransmitted: "
                "client %llu, server %llu\n",
                (unsigned long long)ss.sent,
                (unsigned long long)(ss.lost + ss.masked + ss.queue_drops),
                (unsigned long long)st[0].tcp_retransmits,
                (unsigned long long)st[1].tcp_retransmits);
    if (ok) {
        fprintf(d->out,
                "%sok%s: echoed %llu/%llu bytes, matched (fnv1a %016llx); "
                "both sides CLOSED at %s ms\n",
                tty ? "\033[1;32m" : "", tty ? "\033[0m" : "",
                (unsigned long long)e->rx, (unsigned long long)e->total,
                (unsigned long long)e->h_rx, t);
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

    if (!o->quiet) {
        ladder_opts lo;
        ladder_opts_default(&lo);
        lo.out = out;
        lo.color = isatty(fileno(out)) && !(getenv("NO_COLOR") && *getenv("NO_COLOR"));
        lo.utf8 = !o->ascii && utf8_locale();
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
    sp.latency = USTK_MS(DEMO_LATENCY_MS);
    sp.rate_bps = DEMO_RATE_BPS;
    sp.seed = o->seed;
    sp.loss = o->loss;
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

/* ---- command line ------------------------------------------------------ */

void demo_usage(FILE *f)
{
    fputs("usage: ustack demo [options]\n"
          "\n"
          "Two ustack stacks, a client (10.0.0.1) and a server (10.0.0.2), on a\n"
          "simulated link with a virtual clock. The client connects to port 8888,\n"
          "sends a greeting and some bytes, the server echoes them, and the\n"
          "connection closes. Every segment is drawn as a ladder diagram.\n"
          "\n"
          "options:\n"
          "  --bytes N        pseudo-random bytes after the greeting, 0..100000000\n"
          "                   (default 4096)\n"
          "  --seed N         seed for the link, the stacks and the data (default 1)\n"
          "  --loss PCT       frames lost on the link, in percent, 0..100 (default 0)\n"
          "  --close WHO      who closes first: client, server or both (default client)\n"
          "  --link KIND      ethernet (with ARP) or ip (raw IPv4 frames)\n"
          "  --pcap FILE      record the client's end of the link to FILE\n"
          "  --full           draw every segment (long transfers are summarised)\n"
          "  --quiet          print only the summary\n"
          "  --ascii          no box-drawing characters\n"
          "  --help           this text\n"
          "\n"
          "Exit status: 0 when the echo came back intact and both sides reached\n"
          "CLOSED, 1 when not, 2 for bad arguments. NO_COLOR turns colours off.\n",
          f);
}

int demo_main(int argc, char **argv)
{
    demo_opts o;
    args a;
    const char *v;
    int rc, pick;

    demo_opts_default(&o);
    args_init(&a, "ustack demo", argc, argv);
    while (args_next(&a)) {
        if (args_flag(&a, "--help") || args_flag(&a, "-h")) {
            demo_usage(stdout);
            return 0;
        } else if (args_flag(&a, "--quiet")) {
            o.quiet = true;
        } else if (args_flag(&a, "--full")) {
            o.full = true;
        } else if (args_flag(&a, "--ascii")) {
            o.ascii = true;
        } else if ((rc = args_value(&a, "--bytes", &v)) != 0) {
            if (rc < 0 || args_u64(&a, v, 0, 100000000, &o.bytes) < 0)
                goto bad;
        } else if ((rc = args_value(&a, "--seed", &v)) != 0) {
            if (rc < 0 || args_u64(&a, v, 0, UINT64_MAX, &o.seed) < 0)
                goto bad;
        } else if ((rc = args_value(&a, "--loss", &v)) != 0) {
            if (rc < 0 || args_double(&a, v, 0.0, 100.0, &o.loss) < 0)
                goto bad;
            o.loss /= 100.0;
        } else if ((rc = args_value(&a, "--close", &v)) != 0) {
            if (rc < 0 || args_choice(&a, v, close_names, &pick) < 0)
                goto bad;
            o.close = (demo_close)pick;
        } else if ((rc = args_value(&a, "--link", &v)) != 0) {
            if (rc < 0 || args_choice(&a, v, link_names, &pick) < 0)
                goto bad;
            o.link = pick ? USTK_LINK_IP : USTK_LINK_ETHERNET;
        } else if ((rc = args_value(&a, "--pcap", &v)) != 0) {
            if (rc < 0)
                goto bad;
            if (!*v) {
                fprintf(stderr, "ustack demo: --pcap needs a file name\n");
                goto bad;
            }
            o.pcap = v;
        } else {
            args_unknown(&a);
            goto bad;
        }
    }
    return demo_run(&o, stdout);
bad:
    fputc('\n', stderr);
    demo_usage(stderr);
    return 2;
}
