/* `ustack bench goodput`: bulk-transfer goodput on a simulated link, for
 * each congestion control, SACK on and off, several loss rates and RTTs,
 * next to the bound of Mathis, Semke, Mahdavi and Ott ("The macroscopic
 * behavior of the TCP congestion avoidance algorithm", CCR 1997):
 *
 *     goodput <= MSS / RTT * C / sqrt(p),  C = sqrt(3/2) ~ 1.22
 *
 * Every cell is one or more runs of bench_xfer (one per seed; the median
 * is reported). The runs are independent, so they are shared out among
 * worker threads, the longest first.
 */
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "args.h"
#include "bench.h"
#include "bench_common.h"
#include "bench_xfer.h"

#define LINK_BPS 100000000.0
#define MATHIS_C 1.22
#define MAX_SEEDS 15
#define MAX_JOBS 64
#define NCC 2
#define NSACK 2
#define NLOSS 5
#define NRTT 3
#define NCELLS (NCC * NSACK * NLOSS * NRTT)

static const double loss_pct[NLOSS] = { 0, 0.1, 1, 3, 10 };
static const unsigned rtt_ms[NRTT] = { 1, 20, 100 };

typedef struct gp_opts {
    bool json;
    uint64_t seeds, jobs, max_bytes, rtts;
} gp_opts;

typedef struct cell {
    ustk_cc_kind cc;
    bool sack;
    double loss; /* probability */
    unsigned rtt_ms;
    uint64_t bytes;
    unsigned nruns;
    xfer_result res[MAX_SEEDS];
    int err[MAX_SEEDS];
    unsigned median; /* index of the median run */
} cell;

typedef struct job {
    unsigned cell, run;
} job;

typedef struct gp {
    const gp_opts *o;
    cell cells[NCELLS];
    job jobs[NCELLS * MAX_SEEDS];
    unsigned njobs;
    atomic_uint next, finished;
    bool progress;
} gp;

/* ---- the cells ---------------------------------------------------------- */

static double mathis_bps(double mss, double rtt_s, double p)
{
    return mss * 8.0 / rtt_s * MATHIS_C / sqrt(p);
}

/* The model of Padhye, Firoiu, Towsley and Kurose ("Modeling TCP
 * throughput", SIGCOMM 1998, its approximation with timeouts), which the
 * Mathis bound leaves out: b = 2 segments per ACK (delayed ACKs), rtt the
 * measured smoothed RTT, t0 the retransmission timeout. */
static double pftk_bps(double mss, double rtt_s, double p, double t0_s)
{
    const double b = 2.0;
    double q = 3.0 * sqrt(3.0 * b * p / 8.0);
    double d = rtt_s * sqrt(2.0 * b * p / 3.0) +
               t0_s * (q < 1.0 ? q : 1.0) * p * (1.0 + 32.0 * p * p);

    return mss * 8.0 / d;
}

/* Bytes for a cell: enough for `rtts` round trips at the rate the cell
 * should reach (the bound, or the link rate), at most max_bytes. The MSS
 * here is the one the stacks will use: the MTU less 40 bytes of headers
 * and 12 of timestamps. */
static uint64_t cell_bytes(const gp_opts *o, double p, unsigned rtt)
{
    double rate = LINK_BPS, b;

    if (p > 0.0 && mathis_bps(1448.0, rtt / 1e3, p) < rate)
        rate = mathis_bps(1448.0, rtt / 1e3, p);
    b = (double)o->rtts * (rtt / 1e3) * rate / 8.0;
    return b < (double)o->max_bytes ? (uint64_t)b + 1 : o->max_bytes;
}

static void make_cells(gp *g)
{
    unsigned c = 0, cc, sk, li, ri, k;

    for (cc = 0; cc < NCC; cc++)
        for (sk = 0; sk < NSACK; sk++)
            for (li = 0; li < NLOSS; li++)
                for (ri = 0; ri < NRTT; ri++, c++) {
                    cell *x = &g->cells[c];
                    x->cc = cc ? USTK_CC_CUBIC : USTK_CC_NEWRENO;
                    x->sack = sk == 0;
                    x->loss = loss_pct[li] / 100.0;
                    x->rtt_ms = rtt_ms[ri];
                    x->bytes = cell_bytes(g->o, x->loss, x->rtt_ms);
                    /* Without loss the seed changes nothing that matters
                     * (ISNs, ports): one run is enough. */
                    x->nruns = li == 0 ? 1u : (unsigned)g->o->seeds;
                    for (k = 0; k < x->nruns; k++)
                        g->jobs[g->njobs++] = (job){ c, k };
                }
}

/* The longest runs first, so that no thread is left with a long one at
 * the end; the wall time of a run grows with its bytes. */
static int job_cmp(const void *a, const void *b, void *ctx)
{
    const gp *g = ctx;
    const job *x = a, *y = b;
    uint64_t bx = g->cells[x->cell].bytes, by = g->cells[y->cell].bytes;

    if (bx != by)
        return bx > by ? -1 : 1;
    if (x->cell != y->cell)
        return x->cell < y->cell ? -1 : 1;
    return x->run < y->run ? -1 : x->run > y->run;
}

static void run_job(gp *g, const job *j)
{
    cell *c = &g->cells[j->cell];
    xfer_params p;

    xfer_params_default(&p);
    p.cc = c->cc;
    p.sack = c->sack;
    p.loss = c->loss;
    p.latency = USTK_MS(c->rtt_ms) / 2;
    p.rate_bps = (uint64_t)LINK_BPS;
    p.bytes = c->bytes;
    p.seed = j->run + 1;
    p.limit = USTK_SEC(6 * 3600);
    c->err[j->run] = xfer_run(&p, &c->res[j->run]);
}

static void *worker(void *arg)
{
    gp *g = arg;
    unsigned k, done;

    while ((k = atomic_fetch_add(&g->next, 1u)) < g->njobs) {
        run_job(g, &g->jobs[k]);
        done = atomic_fetch_add(&g->finished, 1u) + 1;
        if (g->progress)
            fprintf(stderr, "\r  %u/%u runs", done, g->njobs);
    }
    return NULL;
}

static int run_all(gp *g)
{
    pthread_t th[MAX_JOBS];
    unsigned n = (unsigned)g->o->jobs, i, started = 0;

    for (i = 1; i < n; i++) {
        if (pthread_create(&th[i], NULL, worker, g) != 0)
            break;
        started++;
    }
    worker(g); /* this thread is a worker too */
    for (i = 1; i <= started; i++)
        pthread_join(th[i], NULL);
    if (g->progress)
        fputs("\r\033[K", stderr);
    return (int)started + 1;
}

/* ---- the figures ---------------------------------------------------------- */

static int run_cmp(const void *a, const void *b, void *ctx)
{
    const cell *c = ctx;
    double x = c->res[*(const unsigned *)a].goodput_bps;
    double y = c->res[*(const unsigned *)b].goodput_bps;

    return x < y ? -1 : x > y;
}

static void find_median(cell *c)
{
    unsigned idx[MAX_SEEDS], k;

    for (k = 0; k < c->nruns; k++)
        idx[k] = k;
    qsort_r(idx, c->nruns, sizeof idx[0], run_cmp, c);
    /* For an even count, the lower of the middle two: a run that
     * happened, not an average of two. */
    c->median = idx[(c->nruns - 1) / 2];
}

static bool cell_finished(const cell *c)
{
    unsigned k;

    for (k = 0; k < c->nruns; k++)
        if (c->err[k] || !c->res[k].done || !c->res[k].intact)
            return false;
    return true;
}

typedef struct figures {
    double goodput, mathis, bound, ratio; /* Mbit/s; mathis < 0: none */
    double pftk; /* Mbit/s; < 0: none */
    bool capped;
} figures;

static figures cell_figures(const cell *c, ustk_time rto_min)
{
    const xfer_result *r = &c->res[c->median];
    double mss = r->snd.mss ? r->snd.mss : 1448.0;
    double srtt = r->snd.srtt_us / 1e6, t0;
    figures f = { r->goodput_bps / 1e6, -1.0, LINK_BPS / 1e6, 0.0, -1.0,
                  true };

    if (c->loss > 0.0) {
        f.mathis = mathis_bps(mss, c->rtt_ms / 1e3, c->loss) / 1e6;
        f.capped = f.mathis >= f.bound;
        if (!f.capped)
            f.bound = f.mathis;
        /* RFC 6298 (2.3) and (2.4): SRTT + 4 RTTVAR, at least rto_min. */
        t0 = srtt + 4.0 * r->snd.rttvar_us / 1e6;
        if (t0 < rto_min / 1e6)
            t0 = rto_min / 1e6;
        if (srtt > 0.0)
            f.pftk = pftk_bps(mss, srtt, c->loss, t0) / 1e6;
    }
    f.ratio = f.goodput / f.bound;
    return f;
}

static const char *cc_name(ustk_cc_kind cc)
{
    return cc == USTK_CC_CUBIC ? "cubic" : "newreno";
}

static void print_json(const gp *g)
{
    ustk_config cfg;
    unsigned i, k;

    ustk_config_default(&cfg);
    for (i = 0; i < NCELLS; i++) {
        const cell *c = &g->cells[i];
        const xfer_result *m = &c->res[c->median];
        figures f = cell_figures(c, cfg.rto_min);
        printf("{\"cc\":\"%s\",\"sack\":%s,\"loss_pct\":%g,\"rtt_ms\":%u,"
               "\"link_mbit\":%g,\"bytes\":%llu,\"runs\":%u,\"goodput_mbit\":[",
               cc_name(c->cc), c->sack ? "true" : "false", c->loss * 100.0,
               c->rtt_ms, LINK_BPS / 1e6, (unsigned long long)c->bytes,
               c->nruns);
        for (k = 0; k < c->nruns; k++)
            printf("%s%.3f", k ? "," : "", c->res[k].goodput_bps / 1e6);
        printf("],\"median_mbit\":%.3f,", f.goodput);
        if (f.mathis < 0)
            printf("\"mathis_mbit\":null,");
        else
            printf("\"mathis_mbit\":%.3f,", f.mathis);
        if (f.pftk < 0)
            printf("\"pftk_mbit\":null,");
        else
            printf("\"pftk_mbit\":%.3f,", f.pftk);
        printf("\"bound_mbit\":%.3f,\"ratio\":%.3f,\"finished\":%s,"
               "\"median_run\":{\"seed\":%u,\"virtual_s\":%.3f,\"mss\":%u,"
               "\"rto_fired\":%u,\"ssthresh_cuts\":%u,"
               "\"rtx_timeout\":%u,\"rtx_fast\":%u,\"rtx_sack\":%u,"
               "\"segs_out\":%llu,\"frames_lost\":%llu,\"srtt_ms\":%.3f,"
               "\"rttvar_ms\":%.3f}}\n",
               f.bound, f.ratio, cell_finished(c) ? "true" : "false",
               c->median + 1, (double)m->duration / 1e6, m->snd.mss,
               m->rto_fired, m->ssthresh_cuts, m->snd.rtx_timeout, m->snd.rtx_fast, m->snd.rtx_sack,
               (unsigned long long)m->snd.segs_out,
               (unsigned long long)m->wire.lost, m->snd.srtt_us / 1e3,
               m->snd.rttvar_us / 1e3);
    }
}

static void print_table(const gp *g)
{
    bool any_capped = false, any_unfinished = false;
    unsigned i, r;
    char b[16];

    ustk_config cfg;
    char cap[32];

    ustk_config_default(&cfg);
    if (g->o->max_bytes % 1000000 == 0)
        snprintf(cap, sizeof cap, "%llu MB",
                 (unsigned long long)(g->o->max_bytes / 1000000));
    else
        snprintf(cap, sizeof cap, "%llu bytes",
                 (unsigned long long)g->o->max_bytes);
    printf("ustack bench goodput: one-way bulk transfers between two ustack "
           "stacks\n"
           "  link: simulated raw IP, %.0f Mbit/s, MTU 1500, 4096-frame "
           "queues, random loss both ways\n"
           "  TCP: 4 MiB buffers, window scaling, timestamps, delayed ACKs, "
           "RTO min %llu ms\n"
           "  each cell: min(%s, %llu RTTs at the bound); goodput in Mbit/s, "
           "median of %llu seed%s\n"
           "  bound: Mathis et al. MSS/RTT * 1.22/sqrt(p), MSS 1448; "
           "ratio = goodput / bound\n\n",
           LINK_BPS / 1e6, (unsigned long long)(cfg.rto_min / 1000), cap,
           (unsigned long long)g->o->rtts, (unsigned long long)g->o->seeds,
           g->o->seeds == 1 ? "" : "s");
    printf("%-17s", "");
    for (r = 0; r < NRTT; r++) {
        char h[32];
        snprintf(h, sizeof h, "RTT %u ms", rtt_ms[r]);
        printf(r + 1 < NRTT ? "  %-20s" : "  %s", h);
    }
    printf("\n%-7s %-4s %5s", "cc", "SACK", "loss%");
    for (r = 0; r < NRTT; r++)
        printf("  %7s %6s %5s", "goodput", "bound", "ratio");
    putchar('\n');
    for (i = 0; i < NCELLS; i += NRTT) {
        const cell *c = &g->cells[i];
        printf("%-7s %-4s %5g", cc_name(c->cc), c->sack ? "on" : "off",
               c->loss * 100.0);
        for (r = 0; r < NRTT; r++) {
            const cell *x = &g->cells[i + r];
            figures f = cell_figures(x, cfg.rto_min);
            bool fin = cell_finished(x);
            any_unfinished |= !fin;
            if (f.mathis < 0) {
                snprintf(b, sizeof b, "-");
            } else {
                snprintf(b, sizeof b, f.bound < 10.0 ? "%.2f%s" : "%.1f%s",
                         f.bound, f.capped ? "*" : "");
                any_capped |= f.capped;
            }
            printf("  %7.2f%s%6s %5.2f", f.goodput, fin ? " " : "!", b,
                   f.ratio);
        }
        putchar('\n');
        if ((i / NRTT) % NLOSS == NLOSS - 1 && i + NRTT < NCELLS)
            putchar('\n');
    }
    printf("\n  -  no loss: no bound; the ratio is to the link rate\n");
    if (any_capped)
        printf("  *  the bound is above the link rate: capped at it\n");
    if (any_unfinished)
        printf("  !  a run of this cell did not finish (see --json)\n");
}

/* ---- command line ---------------------------------------------------------- */

void bench_goodput_usage(FILE *f)
{
    fputs("usage: ustack bench goodput [options]\n"
          "\n"
          "Bulk-transfer goodput of ustack between two ustack stacks on a\n"
          "simulated 100 Mbit/s raw-IP link (MTU 1500, 4 MiB buffers, window\n"
          "scaling, queues longer than any window), for NewReno and CUBIC, SACK on\n"
          "and off, loss 0, 0.1, 1, 3 and 10 % (each direction) and RTT 1, 20 and\n"
          "100 ms, next to the bound of Mathis et al., MSS/RTT * 1.22/sqrt(p).\n"
          "The figures depend only on the options, never on the machine; the\n"
          "wall time printed at the end does.\n"
          "\n"
          "options:\n"
          "  --seeds N      runs per lossy cell, 1..15; the median is shown (default 5)\n"
          "  --rtts N       round trips a cell should last at least, 1..100000\n"
          "                 (default 2000)\n"
          "  --max-bytes N  but at most this many bytes, 1000..10000000000\n"
          "                 (default 1000000000)\n"
          "  --jobs N       threads, 1..64 (default: the number of CPUs)\n"
          "  --json         one JSON object per cell instead of the table\n"
          "  --help         this text\n",
          f);
}

static int parse(int argc, char **argv, gp_opts *o)
{
    const char *v;
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    args a;
    int rc;

    o->json = false;
    o->seeds = 5;
    o->rtts = 2000;
    o->max_bytes = 1000000000;
    o->jobs = cpus < 1 ? 1 : cpus > MAX_JOBS ? MAX_JOBS : (uint64_t)cpus;
    args_init(&a, "ustack bench goodput", argc, argv);
    while (args_next(&a)) {
        if (args_flag(&a, "--help") || args_flag(&a, "-h")) {
            bench_goodput_usage(stdout);
            return 0;
        } else if (args_flag(&a, "--json")) {
            o->json = true;
        } else if ((rc = args_value(&a, "--seeds", &v)) != 0) {
            if (rc < 0 || args_u64(&a, v, 1, MAX_SEEDS, &o->seeds) < 0)
                return 2;
        } else if ((rc = args_value(&a, "--rtts", &v)) != 0) {
            if (rc < 0 || args_u64(&a, v, 1, 100000, &o->rtts) < 0)
                return 2;
        } else if ((rc = args_value(&a, "--max-bytes", &v)) != 0) {
            if (rc < 0 ||
                args_u64(&a, v, 1000, 10000000000ull, &o->max_bytes) < 0)
                return 2;
        } else if ((rc = args_value(&a, "--jobs", &v)) != 0) {
            if (rc < 0 || args_u64(&a, v, 1, MAX_JOBS, &o->jobs) < 0)
                return 2;
        } else {
            args_unknown(&a);
            return 2;
        }
    }
    return -1;
}

int bench_goodput_main(int argc, char **argv)
{
    struct timespec t0, t1;
    gp_opts o;
    gp *g;
    int rc = parse(argc, argv, &o), threads;
    unsigned i;
    double wall;

    if (bench_parsed(rc, bench_goodput_usage) >= 0)
        return rc;
    g = calloc(1, sizeof *g);
    if (!g) {
        fprintf(stderr, "ustack bench goodput: out of memory\n");
        return 1;
    }
    g->o = &o;
    g->progress = isatty(fileno(stderr));
    make_cells(g);
    qsort_r(g->jobs, g->njobs, sizeof g->jobs[0], job_cmp, g);
    clock_gettime(CLOCK_MONOTONIC, &t0);
    threads = run_all(g);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    wall = (double)(t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9;
    for (i = 0; i < NCELLS; i++)
        find_median(&g->cells[i]);
    rc = 0;
    for (i = 0; i < NCELLS; i++) {
        unsigned k;
        for (k = 0; k < g->cells[i].nruns; k++) {
            const cell *c = &g->cells[i];
            if (c->err[k] || !c->res[k].intact) {
                fprintf(stderr,
                        "ustack bench goodput: %s, SACK %s, %g%% loss, "
                        "%u ms, seed %u: %s\n",
                        cc_name(c->cc), c->sack ? "on" : "off",
                        c->loss * 100, c->rtt_ms, k + 1,
                        c->err[k] ? ustk_strerror(c->err[k])
                                  : "the data arrived damaged");
                rc = 1;
            }
        }
    }
    if (o.json) {
        print_json(g);
        fprintf(stderr, "wall time %.1f s, %u runs on %d thread%s\n", wall,
                g->njobs, threads, threads == 1 ? "" : "s");
    } else {
        print_table(g);
        printf("\nwall time %.1f s, %u runs on %d thread%s\n", wall,
               g->njobs, threads, threads == 1 ? "" : "s");
    }
    free(g);
    return rc;
}
