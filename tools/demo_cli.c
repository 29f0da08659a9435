/* `ustack demo`: its command line. */
#include <stdio.h>
#include <string.h>

#include "args.h"
#include "demo.h"

static const char *const close_names[] = { "client", "server", "both", NULL };
static const char *const link_names[] = { "ethernet", "ip", NULL };
static const char *const cc_names[] = { "newreno", "cubic", NULL };

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
          "  --close WHO      who closes first: client, server or both (default client)\n"
          "\n"
          "the link (each direction; PCT is a percentage of frames, 0..100):\n"
          "  --loss PCT       frames lost (default 0)\n"
          "  --reorder PCT    frames held back so that later ones overtake them\n"
          "  --dup PCT        frames delivered twice\n"
          "  --corrupt PCT    frames with one bit flipped\n"
          "  --delay-ms N     one-way latency in ms, 0..10000 (default 10)\n"
          "  --rate-mbit N    link rate in Mbit/s, 1..100000 (default 100)\n"
          "  --link KIND      ethernet (with ARP) or ip (raw IPv4 frames)\n"
          "  --path-mtu N     a router on the way whose next hop takes N bytes,\n"
          "                   576..1500: larger packets come back as ICMP\n"
          "                   \"fragmentation needed\" (path MTU discovery)\n"
          "\n"
          "TCP (both stacks):\n"
          "  --cc ALGO        congestion control: newreno or cubic (default newreno)\n"
          "  --no-sack        do not offer SACK (RFC 2018)\n"
          "\n"
          "output:\n"
          "  --pcap FILE      record the client's end of the link to FILE\n"
          "  --full           draw every segment (long transfers are summarised)\n"
          "  --quiet          print only the summary\n"
          "  --ascii          no box-drawing characters\n"
          "  --help           this text\n"
          "\n"
          "The summary gives the goodput (bytes echoed over the virtual time from\n"
          "connect() to the last byte read back), the segments each side sent and\n"
          "its retransmissions by cause (timeout, fast retransmit, SACK/RACK).\n"
          "\n"
          "Exit status: 0 when the echo came back intact and both sides reached\n"
          "CLOSED, 1 when not, 2 for bad arguments. NO_COLOR turns colours off.\n",
          f);
}

/* A percentage option into a probability. */
static int percent(const args *a, const char *v, double *out)
{
    if (args_double(a, v, 0.0, 100.0, out) < 0)
        return -1;
    *out /= 100.0;
    return 0;
}

/* One option with a value; returns 1 when it was one, 0 when not, -1 when
 * it was one with a bad value. */
static int value_opt(args *a, demo_opts *o)
{
    const char *v;
    int rc, pick;

#define OPT(name) ((rc = args_value(a, name, &v)) != 0)
    if (OPT("--bytes")) {
        if (rc < 0 || args_u64(a, v, 0, 100000000, &o->bytes) < 0)
            return -1;
    } else if (OPT("--seed")) {
        if (rc < 0 || args_u64(a, v, 0, UINT64_MAX, &o->seed) < 0)
            return -1;
    } else if (OPT("--loss")) {
        if (rc < 0 || percent(a, v, &o->loss) < 0)
            return -1;
    } else if (OPT("--reorder")) {
        if (rc < 0 || percent(a, v, &o->reorder) < 0)
            return -1;
    } else if (OPT("--dup")) {
        if (rc < 0 || percent(a, v, &o->dup) < 0)
            return -1;
    } else if (OPT("--corrupt")) {
        if (rc < 0 || percent(a, v, &o->corrupt) < 0)
            return -1;
    } else if (OPT("--delay-ms")) {
        if (rc < 0 || args_u64(a, v, 0, 10000, &o->delay_ms) < 0)
            return -1;
    } else if (OPT("--rate-mbit")) {
        if (rc < 0 || args_u64(a, v, 1, 100000, &o->rate_mbit) < 0)
            return -1;
    } else if (OPT("--path-mtu")) {
        if (rc < 0 || args_u64(a, v, 576, 1500, &o->path_mtu) < 0)
            return -1;
    } else if (OPT("--cc")) {
        if (rc < 0 || args_choice(a, v, cc_names, &pick) < 0)
            return -1;
        o->cc = pick ? USTK_CC_CUBIC : USTK_CC_NEWRENO;
    } else if (OPT("--close")) {
        if (rc < 0 || args_choice(a, v, close_names, &pick) < 0)
            return -1;
        o->close = (demo_close)pick;
    } else if (OPT("--link")) {
        if (rc < 0 || args_choice(a, v, link_names, &pick) < 0)
            return -1;
        o->link = pick ? USTK_LINK_IP : USTK_LINK_ETHERNET;
    } else if (OPT("--pcap")) {
        if (rc < 0)
            return -1;
        if (!*v) {
            fprintf(stderr, "ustack demo: --pcap needs a file name\n");
            return -1;
        }
        o->pcap = v;
    } else {
        return 0;
    }
#undef OPT
    return 1;
}

int demo_main(int argc, char **argv)
{
    demo_opts o;
    args a;
    int rc;

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
        } else if (args_flag(&a, "--no-sack")) {
            o.sack = false;
        } else if ((rc = value_opt(&a, &o)) != 0) {
            if (rc < 0)
                goto bad;
        } else {
            args_unknown(&a);
            goto bad;
        }
    }
    return demo_run(&o, stdout);
bad:
    args_usage_hint(demo_usage);
    return 2;
}
