/* `ustack serve`: servers on a real TAP or TUN device until interrupted.
 *
 * HTTP (static files, tools/http.c), TCP echo and discard, UDP echo; the
 * stack answers ARP and ping by itself. Every socket of ours is in a small
 * table from handle to what it is, so that the stack's readiness events
 * (ustk_events) go straight to the connection they are about. On SIGINT
 * or SIGTERM every connection is closed gracefully, the loop runs on until
 * their FINs have been exchanged (at most --grace seconds), and the
 * counters are printed.
 */
#include <stdlib.h>
#include <string.h>

#include "args.h"
#include "http.h"
#include "netdev.h"
#include "netcmd.h"

#define SV_BUCKETS 1024u
#define SV_ECHO_BUF 65536u
#define SV_UDP_MAX 65536u

typedef enum {
    K_HTTP_LISTEN,
    K_ECHO_LISTEN,
    K_DISCARD_LISTEN,
    K_HTTP,
    K_ECHO,
    K_DISCARD,
    K_UDP_ECHO
} kind;

static const char *const kind_name[] = { "http", "echo", "discard", "http",
                                         "echo", "discard", "udp-echo" };

typedef struct echo_conn {
    uint64_t bytes;
    size_t off, len;
    bool eof;
    uint8_t buf[SV_ECHO_BUF];
} echo_conn;

typedef struct ent {
    struct ent *hnext;       /* hash chain */
    struct ent *prev, *next; /* every socket of ours */
    int sock;
    kind k;
    ustk_sockaddr peer;
    uint64_t bytes;          /* discard: bytes read */
    void *obj;               /* http_conn, echo_conn or NULL */
} ent;

typedef struct serve_opts {
    netdev_opts nd;
    uint64_t http_port, echo_port, discard_port, udp_echo_port; /* 0 = off */
    const char *root;
    uint64_t grace_s;
    bool quiet;
} serve_opts;

typedef struct server {
    const serve_opts *o;
    netdev nd;
    ustk_stack *s;
    http_server *http;
    ent *tab[SV_BUCKETS];
    ent *all;
    unsigned nconns;
    FILE *log; /* stderr, or NULL with --quiet */
    uint8_t *scratch;
} server;

static const char *const CMD = "ustack serve";

/* ---- the table of our sockets -------------------------------------------- */

static unsigned bucket(int sock)
{
    return ((unsigned)sock * 2654435761u) % SV_BUCKETS;
}

static ent *find(const server *sv, int sock)
{
    ent *e = sv->tab[bucket(sock)];

    while (e && e->sock != sock)
        e = e->hnext;
    return e;
}

static ent *add(server *sv, int sock, kind k, void *obj)
{
    ent *e = calloc(1, sizeof *e);
    unsigned b = bucket(sock);

    if (!e)
        return NULL;
    e->sock = sock;
    e->k = k;
    e->obj = obj;
    e->hnext = sv->tab[b];
    sv->tab[b] = e;
    e->next = sv->all;
    if (sv->all)
        sv->all->prev = e;
    sv->all = e;
    if (k == K_HTTP || k == K_ECHO || k == K_DISCARD)
        sv->nconns++;
    return e;
}

/* Forget an entry (its socket is closed already, its object freed). */
static void del(server *sv, ent *e)
{
    ent **pp = &sv->tab[bucket(e->sock)];

    while (*pp != e)
        pp = &(*pp)->hnext;
    *pp = e->hnext;
    if (e->prev)
        e->prev->next = e->next;
    else
        sv->all = e->next;
    if (e->next)
        e->next->prev = e->prev;
    if (e->k == K_HTTP || e->k == K_ECHO || e->k == K_DISCARD)
        sv->nconns--;
    free(e);
}

static void log_conn(server *sv, const ent *e, const char *what)
{
    char peer[32];

    if (!sv->log)
        return;
    netdev_fmt_ip(peer, sizeof peer, e->peer.addr, e->peer.port);
    fprintf(sv->log, "%s: %s %s %s\n", CMD, kind_name[e->k], peer, what);
}

/* ---- echo and discard ------------------------------------------------------ */

/* Close a connection whose application is done: bytes still unread are
 * read first, so that the close is a FIN and not a reset. */
static void close_quietly(server *sv, ent *e, ustk_time now)
{
    while (ustk_recv(sv->s, e->sock, sv->scratch, SV_UDP_MAX, now) > 0)
        ;
    (void)ustk_close(sv->s, e->sock, now);
}

static void end_conn(server *sv, ent *e, ustk_time now, const char *why)
{
    char what[96];

    if (e->k == K_ECHO) {
        echo_conn *c = e->obj;
        snprintf(what, sizeof what, "closed%s%s: %llu bytes echoed",
                 why ? ", " : "", why ? why : "", (unsigned long long)c->bytes);
    } else {
        snprintf(what, sizeof what, "closed%s%s: %llu bytes read",
                 why ? ", " : "", why ? why : "", (unsigned long long)e->bytes);
    }
    log_conn(sv, e, what);
    close_quietly(sv, e, now);
    free(e->obj);
    del(sv, e);
}

/* Returns false when the connection ended. */
static bool step_echo(server *sv, ent *e, ustk_time now)
{
    echo_conn *c = e->obj;
    ptrdiff_t r;

    for (;;) {
        if (c->len) {
            r = ustk_send(sv->s, e->sock, c->buf + c->off, c->len, now);
            if (r == USTK_EAGAIN)
                break;
            if (r < 0) {
                end_conn(sv, e, now, ustk_strerror((int)r));
                return false;
            }
            c->off += (size_t)r;
            c->len -= (size_t)r;
            c->bytes += (uint64_t)r;
            continue;
        }
        if (c->eof)
            break;
        r = ustk_recv(sv->s, e->sock, c->buf, sizeof c->buf, now);
        if (r == USTK_EAGAIN)
            break;
        if (r < 0) {
            end_conn(sv, e, now, ustk_strerror((int)r));
            return false;
        }
        if (r == 0) {
            c->eof = true;
            break;
        }
        c->off = 0;
        c->len = (size_t)r;
    }
    /* The peer has finished and everything went back: our FIN follows. */
    if (c->eof && c->len == 0) {
        end_conn(sv, e, now, NULL);
        return false;
    }
    return true;
}

static bool step_discard(server *sv, ent *e, ustk_time now)
{
    ptrdiff_t r;

    for (;;) {
        r = ustk_recv(sv->s, e->sock, sv->scratch, SV_UDP_MAX, now);
        if (r == USTK_EAGAIN)
            return true;
        if (r <= 0) {
            end_conn(sv, e, now, r < 0 ? ustk_strerror((int)r) : NULL);
            return false;
        }
        e->bytes += (uint64_t)r;
    }
}

/* ---- accepting --------------------------------------------------------------- */

static void step_conn(server *sv, ent *e, ustk_time now);

static void accept_all(server *sv, ent *l, ustk_time now)
{
    ustk_sockaddr peer;
    int cs;

    for (;;) {
        kind k = l->k == K_HTTP_LISTEN ? K_HTTP : l->k == K_ECHO_LISTEN ? K_ECHO : K_DISCARD;
        void *obj = NULL;
        ent *e;

        cs = ustk_accept(sv->s, l->sock, &peer);
        if (cs == USTK_EAGAIN)
            return;
        if (cs < 0) {
            fprintf(stderr, "%s: accept on the %s port: %s\n", CMD,
                    kind_name[l->k], ustk_strerror(cs));
            return;
        }
        if (k == K_HTTP)
            obj = http_conn_new(sv->http, sv->s, cs, &peer, now);
        else if (k == K_ECHO)
            obj = calloc(1, sizeof(echo_conn));
        if ((k != K_DISCARD && !obj) || !(e = add(sv, cs, k, obj))) {
            fprintf(stderr, "%s: out of memory: connection refused\n", CMD);
            if (k == K_HTTP && obj)
                http_conn_close(obj, now);
            else
                (void)ustk_abort(sv->s, cs, now);
            if (k == K_ECHO)
                free(obj);
            continue;
        }
        e->peer = peer;
        if (k != K_HTTP)
            log_conn(sv, e, "connected");
        /* Data may have come with the handshake: look now. */
        step_conn(sv, e, now);
    }
}

/* ---- UDP echo -------------------------------------------------------------------- */

static void step_udp_echo(server *sv, ent *e, ustk_time now)
{
    ustk_sockaddr from;
    ptrdiff_t n, r;

    for (;;) {
        n = ustk_recvfrom(sv->s, e->sock, sv->scratch, SV_UDP_MAX, &from, now);
        if (n == USTK_EAGAIN)
            return;
        if (n < 0) {
            /* An ICMP error about an earlier reply, say: nothing to do. */
            (void)ustk_sock_error(sv->s, e->sock);
            continue;
        }
        if (n > (ptrdiff_t)SV_UDP_MAX)
            n = SV_UDP_MAX;
        r = ustk_sendto(sv->s, e->sock, sv->scratch, (size_t)n, &from, now);
        if (r < 0 && r != USTK_EAGAIN && sv->log) {
            char peer[32];
            netdev_fmt_ip(peer, sizeof peer, from.addr, from.port);
            fprintf(sv->log, "%s: udp-echo to %s: %s\n", CMD, peer,
                    ustk_strerror((int)r));
        }
        /* A full output queue loses the datagram, as UDP may. */
    }
}

static void step_conn(server *sv, ent *e, ustk_time now)
{
    switch (e->k) {
    case K_HTTP_LISTEN:
    case K_ECHO_LISTEN:
    case K_DISCARD_LISTEN:
        accept_all(sv, e, now);
        break;
    case K_HTTP:
        if (!http_conn_step(e->obj, now))
            del(sv, e);
        break;
    case K_ECHO:
        step_echo(sv, e, now);
        break;
    case K_DISCARD:
        step_discard(sv, e, now);
        break;
    case K_UDP_ECHO:
        step_udp_echo(sv, e, now);
        break;
    }
}

static void dispatch(server *sv, ustk_time now)
{
    ustk_event ev[64];
    int n;

    while ((n = ustk_events(sv->s, ev, 64)) > 0) {
        for (int i = 0; i < n; i++) {
            ent *e = find(sv, ev[i].sock);
            if (e)
                step_conn(sv, e, now);
        }
    }
}

/* Once a second: connections idle too long. */
static void tick(server *sv, ustk_time now)
{
    ent *e = sv->all, *next;

    for (; e; e = next) {
        next = e->next;
        if (e->k == K_HTTP && !http_conn_tick(e->obj, now))
            del(sv, e);
    }
}

/* ---- setting up, running, shutting down -------------------------------------------- */

static int listen_on(server *sv, kind k, uint64_t port, ustk_proto proto)
{
    ustk_sockaddr a = { 0, (uint16_t)port };
    int sock, rc;

    sock = ustk_open(sv->s, proto);
    if (sock < 0) {
        rc = sock;
        goto fail;
    }
    if ((rc = ustk_bind(sv->s, sock, &a)) < 0 ||
        (proto == USTK_PROTO_TCP &&
         (rc = ustk_listen(sv->s, sock, (int)ustk_stack_config(sv->s)->max_backlog)) < 0))
        goto fail;
    if (!add(sv, sock, k, NULL)) {
        rc = USTK_ENOMEM;
        goto fail;
    }
    return 0;
fail:
    fprintf(stderr, "%s: cannot serve %s on port %llu: %s\n", CMD, kind_name[k],
            (unsigned long long)port, ustk_strerror(rc));
    return -1;
}

static void close_everything(server *sv, ustk_time now)
{
    ent *e, *next;

    for (e = sv->all; e; e = next) {
        next = e->next;
        switch (e->k) {
        case K_HTTP:
            http_conn_close(e->obj, now);
            break;
        case K_ECHO:
        case K_DISCARD:
            log_conn(sv, e, "closed at shutdown");
            close_quietly(sv, e, now);
            free(e->obj);
            break;
        default:
            (void)ustk_close(sv->s, e->sock, now);
            break;
        }
        del(sv, e);
    }
}

static int run(server *sv)
{
    const serve_opts *o = sv->o;
    ustk_time now, next_tick = 0;
    int rc, status = 0;
    char line[200];
    size_t n = 0;

    if (netdev_open(&sv->nd, &o->nd, CMD, stdout) < 0)
        return 1;
    sv->s = sv->nd.stack;
    netdev_describe(&sv->nd, stderr);
    if (o->http_port && http_server_create(&sv->http, o->root, sv->log, CMD) < 0)
        return 1;
    if ((o->http_port && listen_on(sv, K_HTTP_LISTEN, o->http_port, USTK_PROTO_TCP) < 0) ||
        (o->echo_port && listen_on(sv, K_ECHO_LISTEN, o->echo_port, USTK_PROTO_TCP) < 0) ||
        (o->discard_port &&
         listen_on(sv, K_DISCARD_LISTEN, o->discard_port, USTK_PROTO_TCP) < 0) ||
        (o->udp_echo_port &&
         listen_on(sv, K_UDP_ECHO, o->udp_echo_port, USTK_PROTO_UDP) < 0))
        return 1;

    line[0] = '\0';
    if (o->http_port)
        n += (size_t)snprintf(line + n, sizeof line - n, " http on %llu (%s);",
                              (unsigned long long)o->http_port, o->root);
    if (o->echo_port && n < sizeof line)
        n += (size_t)snprintf(line + n, sizeof line - n, " echo on %llu;",
                              (unsigned long long)o->echo_port);
    if (o->discard_port && n < sizeof line)
        n += (size_t)snprintf(line + n, sizeof line - n, " discard on %llu;",
                              (unsigned long long)o->discard_port);
    if (o->udp_echo_port && n < sizeof line)
        n += (size_t)snprintf(line + n, sizeof line - n, " udp-echo on %llu;",
                              (unsigned long long)o->udp_echo_port);
    fprintf(stderr, "%s: ready:%s ARP and ping answered; Ctrl-C stops\n", CMD,
            line);
    fflush(stderr);

    for (;;) {
        rc = ustk_loop_step(&sv->nd.loop, USTK_SEC(1));
        if (rc < 0) {
            fprintf(stderr, "%s: the device failed: %s\n", CMD, strerror(-rc));
            status = 1;
            break;
        }
        now = ustk_loop_now(&sv->nd.loop);
        dispatch(sv, now);
        if (now >= next_tick) {
            tick(sv, now);
            next_tick = now + USTK_SEC(1);
        }
        if (rc == 0)
            break;
    }

    now = ustk_loop_now(&sv->nd.loop);
    if (status == 0) {
        fprintf(stderr, "%s: stopping: closing %u connection%s (waiting up to "
                "%llu s for the FINs)\n", CMD, sv->nconns, sv->nconns == 1 ? "" : "s",
                (unsigned long long)o->grace_s);
        close_everything(sv, now);
        netdev_drain(&sv->nd, now + USTK_SEC(o->grace_s));
        if (conntrace_busy(sv->nd.ct))
            fprintf(stderr, "%s: %u connection%s still closing; giving up on "
                    "them\n", CMD, conntrace_busy(sv->nd.ct),
                    conntrace_busy(sv->nd.ct) == 1 ? "" : "s");
    } else {
        close_everything(sv, now);
    }
    conntrace_flush(sv->nd.ct);
    fflush(stdout);
    netdev_print_stats(&sv->nd, stdout);
    fflush(stdout);
    return status;
}

/* ---- the command line ---------------------------------------------------------- */

void serve_usage(FILE *f)
{
    fputs("usage: ustack serve [--tap NAME | --tun NAME] --ip ADDR[/PREFIX]\n"
          "                    [--gateway ADDR] [--http PORT --root DIR] "
          "[--echo PORT]\n"
          "                    [--discard PORT] [--udp-echo PORT] [--trace] "
          "[--pcap FILE] ...\n"
          "\n"
          "Run servers on ustack over a real TAP or TUN device until "
          "interrupted (Ctrl-C,\n"
          "SIGTERM); then close every connection gracefully and print the "
          "counters.\n"
          "The stack answers ARP and ping by itself. Needs root or "
          "CAP_NET_ADMIN.\n"
          "\n"
          "services:\n"
          "  --http PORT        static files over HTTP/1.1 (GET, HEAD) from "
          "--root\n"
          "  --root DIR         the directory --http serves\n"
          "  --echo PORT        TCP echo: everything read is sent back\n"
          "  --discard PORT     TCP discard: everything read is thrown away\n"
          "  --udp-echo PORT    UDP echo: each datagram goes back to its "
          "sender\n"
          "  --grace SECONDS    at exit, how long to wait for FINs (default "
          "3)\n"
          "  -q, --quiet        no line per connection or request\n",
          f);
    netdev_usage(f);
    fputs("\n"
          "example (Linux at 10.0.0.1 on tap0, ustack at 10.0.0.2):\n"
          "  ip tuntap add dev tap0 mode tap\n"
          "  ip addr add 10.0.0.1/24 dev tap0 && ip link set tap0 up\n"
          "  ustack serve --tap tap0 --ip 10.0.0.2/24 --http 80 --root . "
          "--echo 7 --trace\n"
          "  curl http://10.0.0.2/README.md; ping 10.0.0.2\n",
          f);
}

static int parse(int argc, char **argv, serve_opts *o)
{
    args a;
    const char *v;
    int r;

    memset(o, 0, sizeof *o);
    netdev_opts_default(&o->nd);
    o->grace_s = 3;
    args_init(&a, CMD, argc, argv);
    while (args_next(&a)) {
        if ((r = netdev_parse(&a, &o->nd)) != 0) {
            if (r < 0)
                return -1;
        } else if ((r = args_value(&a, "--http", &v)) != 0) {
            if (r < 0 || args_u64(&a, v, 1, 65535, &o->http_port) < 0)
                return -1;
        } else if ((r = args_value(&a, "--echo", &v)) != 0) {
            if (r < 0 || args_u64(&a, v, 1, 65535, &o->echo_port) < 0)
                return -1;
        } else if ((r = args_value(&a, "--discard", &v)) != 0) {
            if (r < 0 || args_u64(&a, v, 1, 65535, &o->discard_port) < 0)
                return -1;
        } else if ((r = args_value(&a, "--udp-echo", &v)) != 0) {
            if (r < 0 || args_u64(&a, v, 1, 65535, &o->udp_echo_port) < 0)
                return -1;
        } else if ((r = args_value(&a, "--root", &v)) != 0) {
            if (r < 0)
                return -1;
            if (*v == '\0') {
                fprintf(stderr, "%s: --root: the directory name is empty\n", CMD);
                return -1;
            }
            o->root = v;
        } else if ((r = args_value(&a, "--grace", &v)) != 0) {
            if (r < 0 || args_u64(&a, v, 0, 600, &o->grace_s) < 0)
                return -1;
        } else if (args_flag(&a, "--quiet") || args_flag(&a, "-q")) {
            o->quiet = true;
        } else {
            return args_unknown(&a);
        }
    }
    if (netdev_check(&a, &o->nd) < 0)
        return -1;
    if (o->http_port && !o->root) {
        fprintf(stderr, "%s: --http needs --root DIR (the files to serve)\n", CMD);
        return -1;
    }
    if (o->root && !o->http_port) {
        fprintf(stderr, "%s: --root is for --http PORT\n", CMD);
        return -1;
    }
    {
        uint64_t tcp[3] = { o->http_port, o->echo_port, o->discard_port };
        for (int i = 0; i < 3; i++)
            for (int j = i + 1; j < 3; j++)
                if (tcp[i] && tcp[i] == tcp[j]) {
                    fprintf(stderr, "%s: two TCP services on port %llu\n", CMD,
                            (unsigned long long)tcp[i]);
                    return -1;
                }
    }
    return 0;
}

int serve_main(int argc, char **argv)
{
    serve_opts o;
    server *sv;
    int status;

    for (int i = 1; i < argc; i++)
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            serve_usage(stdout);
            return 0;
        }
    if (parse(argc, argv, &o) < 0) {
        args_usage_hint(serve_usage);
        return 2;
    }
    sv = calloc(1, sizeof *sv);
    if (!sv || !(sv->scratch = malloc(SV_UDP_MAX))) {
        fprintf(stderr, "%s: out of memory\n", CMD);
        free(sv);
        return 1;
    }
    sv->o = &o;
    sv->log = o.quiet ? NULL : stderr;
    status = run(sv);
    if (sv->s)
        close_everything(sv, ustk_loop_now(&sv->nd.loop));
    http_server_destroy(sv->http);
    netdev_close(&sv->nd);
    free(sv->scratch);
    free(sv);
    return status;
}
