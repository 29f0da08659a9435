/* What the performance benches share. */
#include "bench_common.h"

#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <math.h>
#include <net/if.h>
#include <dirent.h>
#include <sched.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* ---- options --------------------------------------------------------------- */

void bench_opts_default(bench_opts *o)
{
    memset(o, 0, sizeof *o);
    o->kernel = true;
    o->cpu = -1;
}

int bench_opts_parse(args *a, bench_opts *o)
{
    const char *v;
    uint64_t x;
    int rc;

    if (args_flag(a, "--json")) {
        o->json = true;
        return 1;
    }
    if (args_flag(a, "--quick")) {
        o->quick = true;
        return 1;
    }
    if (args_flag(a, "--no-kernel")) {
        o->kernel = false;
        return 1;
    }
    if (args_flag(a, "--malloc-default")) {
        o->malloc_default = true;
        return 1;
    }
    if ((rc = args_value(a, "--runs", &v)) != 0) {
        if (rc < 0 || args_u64(a, v, 1, BENCH_MAX_RUNS, &o->runs) < 0)
            return -1;
        return 1;
    }
    if ((rc = args_value(a, "--cpu", &v)) != 0) {
        if (rc < 0 || args_u64(a, v, 0, 4095, &x) < 0)
            return -1;
        o->cpu = (int)x;
        return 1;
    }
    return 0;
}

int bench_opt_sizes(args *a, uint64_t *n, unsigned *nn, unsigned max)
{
    const char *v;
    int rc = args_value(a, "--n", &v);

    if (rc <= 0)
        return rc;
    if (*nn == max) {
        fprintf(stderr, "%s: at most %u sizes\n", a->cmd, max);
        return -1;
    }
    if (args_u64(a, v, 1, 1000000, &n[*nn]) < 0)
        return -1;
    (*nn)++;
    return 1;
}

int bench_opt_stream(args *a, uint64_t *bytes, uint64_t *buf, bool *verify)
{
    const char *v;
    int rc;

    if (args_flag(a, "--verify")) {
        *verify = true;
        return 1;
    }
    if ((rc = args_value(a, "--bytes", &v)) != 0)
        return rc < 0 || args_u64(a, v, 1, 1ull << 40, bytes) < 0 ? -1 : 1;
    if ((rc = args_value(a, "--buf", &v)) != 0)
        return rc < 0 || args_u64(a, v, 4096, 1u << 30, buf) < 0 ? -1 : 1;
    return 0;
}

void bench_malloc_setup(const bench_opts *o)
{
    if (o->malloc_default)
        return;
    mallopt(M_TRIM_THRESHOLD, 1 << 30);
    mallopt(M_MMAP_THRESHOLD, 32 << 20);
}

unsigned bench_opts_runs(const bench_opts *o)
{
    return o->runs ? (unsigned)o->runs : 5u;
}

int bench_parsed(int rc, void (*usage)(FILE *))
{
    if (rc == 2) {
        args_usage_hint(usage);
    }
    return rc;
}

void bench_start(const bench_opts *o, bench_out *out, unsigned *runs,
                 int *cpu)
{
    out->json = o->json;
    out->f = stdout;
    *runs = bench_opts_runs(o);
    *cpu = bench_pin(o->cpu);
    bench_malloc_setup(o);
}

/* ---- clocks ---------------------------------------------------------------- */

static double ts_sec(clockid_t id)
{
    struct timespec t;

    clock_gettime(id, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

double bench_wall(void)
{
    return ts_sec(CLOCK_MONOTONIC);
}

double bench_cpu(void)
{
    return ts_sec(CLOCK_PROCESS_CPUTIME_ID);
}

ustk_time bench_usec(void)
{
    struct timespec t;

    clock_gettime(CLOCK_MONOTONIC, &t);
    return (ustk_time)t.tv_sec * 1000000u + (ustk_time)t.tv_nsec / 1000u;
}

void bench_span_begin(bench_span *s)
{
    s->wall = s->cpu = 0;
    s->cpu0 = bench_cpu();
    s->wall0 = bench_wall();
}

void bench_span_end(bench_span *s)
{
    double w = bench_wall(), c = bench_cpu();

    s->wall = w - s->wall0;
    s->cpu = c - s->cpu0;
}

/* ---- runs ------------------------------------------------------------------ */

void bench_runs_add(bench_runs *rs, const bench_run *r)
{
    if (rs->n < BENCH_MAX_RUNS)
        rs->r[rs->n++] = *r;
}

const bench_run *bench_runs_median(const bench_runs *rs)
{
    unsigned idx[BENCH_MAX_RUNS], i, j;

    for (i = 0; i < rs->n; i++)
        idx[i] = i;
    /* Insertion sort by value: a handful of runs. */
    for (i = 1; i < rs->n; i++)
        for (j = i; j > 0 && rs->r[idx[j - 1]].value > rs->r[idx[j]].value;
             j--) {
            unsigned t = idx[j];
            idx[j] = idx[j - 1];
            idx[j - 1] = t;
        }
    return &rs->r[idx[(rs->n - 1) / 2]];
}

double bench_runs_min(const bench_runs *rs)
{
    double m = rs->r[0].value;
    unsigned i;

    for (i = 1; i < rs->n; i++)
        if (rs->r[i].value < m)
            m = rs->r[i].value;
    return m;
}

double bench_runs_max(const bench_runs *rs)
{
    double m = rs->r[0].value;
    unsigned i;

    for (i = 1; i < rs->n; i++)
        if (rs->r[i].value > m)
            m = rs->r[i].value;
    return m;
}

/* ---- results --------------------------------------------------------------- */

void bench_result_init(bench_result *r, const char *bench, const char *name,
                       const char *unit, const char *label,
                       bool higher_better)
{
    memset(r, 0, sizeof *r);
    r->bench = bench;
    snprintf(r->name, sizeof r->name, "%s", name);
    r->unit = unit;
    r->label = label;
    r->higher_better = higher_better;
}

double bench_result_ratio(const bench_result *r)
{
    double k;

    if (r->us.n == 0 || r->kern.n == 0)
        return -1.0;
    k = bench_runs_median(&r->kern)->value;
    if (k <= 0.0)
        return -1.0;
    return bench_runs_median(&r->us)->value / k;
}

static int goal_met(bench_goal g, double v, double target)
{
    switch (g) {
    case BENCH_GOAL_AT_LEAST:
        return v >= target;
    case BENCH_GOAL_AT_MOST:
        return v <= target;
    default:
        return -1;
    }
}

int bench_result_met(const bench_result *r)
{
    int a = -1, b = -1;
    double ratio = bench_result_ratio(r);

    if (r->us.n == 0)
        return -1;
    if (r->goal)
        a = goal_met(r->goal, bench_runs_median(&r->us)->value, r->target);
    if (r->ratio_goal && ratio >= 0.0)
        b = goal_met(r->ratio_goal, ratio, r->ratio_target);
    if (a < 0 && b < 0)
        return -1;
    return a != 0 && b != 0;
}

/* A number with the digits that matter: 1523401, 32.4, 0.613. */
static void fmt_num(char *buf, size_t cap, double v)
{
    double a = fabs(v);

    if (a >= 1000.0 || v == floor(v))
        snprintf(buf, cap, "%.0f", v);
    else if (a >= 100.0)
        snprintf(buf, cap, "%.1f", v);
    else if (a >= 1.0)
        snprintf(buf, cap, "%.2f", v);
    else
        snprintf(buf, cap, "%.3g", v);
}

static void json_num(FILE *f, double v)
{
    if (isfinite(v))
        fprintf(f, "%.6g", v);
    else
        fputs("null", f);
}

static const char *goal_op(bench_goal g)
{
    return g == BENCH_GOAL_AT_LEAST ? ">=" : "<=";
}

static void target_text(const bench_result *r, char *buf, size_t cap)
{
    char t[32];
    size_t n = 0;

    buf[0] = '\0';
    if (r->goal) {
        fmt_num(t, sizeof t, r->target);
        n += (size_t)snprintf(buf + n, cap - n, "%s %s %s", goal_op(r->goal),
                              t, r->unit);
    }
    if (r->ratio_goal && n < cap)
        snprintf(buf + n, cap - n, "%s%s %.2fx the kernel", n ? ", " : "",
                 goal_op(r->ratio_goal), r->ratio_target);
}

static void json_runs(FILE *f, const char *prefix, const bench_runs *rs)
{
    const bench_run *m = bench_runs_median(rs);
    unsigned i;

    fprintf(f, "\"%s\":", prefix);
    json_num(f, m->value);
    fprintf(f, ",\"%s_min\":", prefix);
    json_num(f, bench_runs_min(rs));
    fprintf(f, ",\"%s_max\":", prefix);
    json_num(f, bench_runs_max(rs));
    fprintf(f, ",\"%s_runs\":%u,\"%s_samples\":[", prefix, rs->n, prefix);
    for (i = 0; i < rs->n; i++) {
        if (i)
            fputc(',', f);
        json_num(f, rs->r[i].value);
    }
    fprintf(f, "],\"%s_measured\":{\"bytes\":%llu,\"segments\":%llu,"
               "\"count\":%llu,\"cpu_s\":",
            prefix, (unsigned long long)m->bytes,
            (unsigned long long)m->segments, (unsigned long long)m->count);
    json_num(f, m->cpu);
    fputs(",\"ksoftirqd_cpu_s\":", f);
    json_num(f, m->other_cpu);
    fputs(",\"wall_s\":", f);
    json_num(f, m->wall);
    fputc('}', f);
}

void bench_print_header(const bench_out *o, const char *title,
                        const char *lines)
{
    if (o->json) {
        fprintf(stderr, "%s\n", title);
        return;
    }
    fprintf(o->f, "\n%s\n%s", title, lines ? lines : "");
    fflush(o->f);
}

void bench_print_note(const bench_out *o, const char *fmt, ...)
{
    va_list ap;
    FILE *f = o->json ? stderr : o->f;

    va_start(ap, fmt);
    vfprintf(f, fmt, ap);
    va_end(ap);
    fflush(f);
}

static void table_runs(FILE *f, const char *who, const bench_runs *rs,
                       const char *unit)
{
    const bench_run *m = bench_runs_median(rs);
    char v[32], lo[32], hi[32];

    fmt_num(v, sizeof v, m->value);
    fmt_num(lo, sizeof lo, bench_runs_min(rs));
    fmt_num(hi, sizeof hi, bench_runs_max(rs));
    fprintf(f, "    %-7s %10s %-8s (min %s, max %s; %u runs)\n", who, v, unit,
            lo, hi, rs->n);
}

static void table_measured(FILE *f, const char *who, const bench_run *m)
{
    fprintf(f, "    %-7s median run: ", who);
    if (m->bytes)
        fprintf(f, "%llu bytes, ", (unsigned long long)m->bytes);
    if (m->segments)
        fprintf(f, "%llu segments, ", (unsigned long long)m->segments);
    if (m->count)
        fprintf(f, "%llu counted, ", (unsigned long long)m->count);
    if (m->other_cpu > 0)
        fprintf(f, "%.3f s CPU (%.3f s of it in ksoftirqd), %.3f s wall\n",
                m->cpu, m->other_cpu, m->wall);
    else
        fprintf(f, "%.3f s CPU, %.3f s wall\n", m->cpu, m->wall);
}

void bench_print_result(const bench_out *o, const bench_result *r)
{
    FILE *f = o->f;
    double ratio = bench_result_ratio(r);
    int met = bench_result_met(r);
    char tgt[128];

    target_text(r, tgt, sizeof tgt);
    if (o->json) {
        fprintf(f, "{\"bench\":\"%s\",\"name\":\"%s\",\"unit\":\"%s\","
                   "\"better\":\"%s\",\"value\":",
                r->bench, r->name, r->unit,
                r->higher_better ? "higher" : "lower");
        if (r->us.n)
            json_num(f, bench_runs_median(&r->us)->value);
        else
            fputs("null", f);
        if (r->us.n) {
            fputc(',', f);
            json_runs(f, "median", &r->us);
        }
        if (r->kern.n) {
            fputc(',', f);
            json_runs(f, "kernel", &r->kern);
            fputs(",\"ratio\":", f);
            if (ratio >= 0.0)
                json_num(f, ratio);
            else
                fputs("null", f);
        } else {
            fputs(",\"kernel\":null,\"ratio\":null", f);
        }
        fprintf(f, ",\"target\":\"%s\",\"met\":%s", tgt,
                met < 0 ? "null" : met ? "true" : "false");
        if (r->extra_json[0])
            fprintf(f, ",%s", r->extra_json);
        fputs("}\n", f);
        fflush(f);
        return;
    }
    fprintf(f, "\n  %s  %s (%s, %s is better)\n", r->name, r->label, r->unit,
            r->higher_better ? "higher" : "lower");
    if (r->us.n)
        table_runs(f, "ustack", &r->us, r->unit);
    else
        fprintf(f, "    ustack  not measured\n");
    if (r->kern.n)
        table_runs(f, "kernel", &r->kern, r->unit);
    if (ratio >= 0.0)
        fprintf(f, "    ratio   %10.3f          (ustack / kernel)\n", ratio);
    if (tgt[0])
        fprintf(f, "    target  %s: %s\n", tgt,
                met < 0 ? "no figure" : met ? "met" : "NOT met");
    if (r->us.n)
        table_measured(f, "ustack", bench_runs_median(&r->us));
    if (r->kern.n)
        table_measured(f, "kernel", bench_runs_median(&r->kern));
    if (r->note[0])
        fprintf(f, "    note    %s\n", r->note);
    fflush(f);
}

/* ---- the machine ----------------------------------------------------------- */

int bench_pin(int cpu)
{
    cpu_set_t set;
    long n = sysconf(_SC_NPROCESSORS_ONLN);

    if (cpu < 0)
        cpu = n > 0 ? (int)n - 1 : 0;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    if (sched_setaffinity(0, sizeof set, &set) != 0)
        return -1;
    return cpu;
}

int bench_current_cpu(void)
{
    return sched_getcpu();
}

double bench_ksoftirqd_cpu(int cpu)
{
    static int pid_cpu = -2, pid = -1;
    char path[64], want[32], buf[512];
    unsigned long long ut = 0, st = 0;
    const char *p;
    FILE *f;
    int i;

    if (cpu != pid_cpu) {
        DIR *d = opendir("/proc");
        struct dirent *e;
        pid_cpu = cpu;
        pid = -1;
        snprintf(want, sizeof want, "ksoftirqd/%d\n", cpu);
        while (d && (e = readdir(d)) != NULL) {
            char comm[64] = "";
            if (e->d_name[0] < '1' || e->d_name[0] > '9')
                continue;
            snprintf(path, sizeof path, "/proc/%.20s/comm", e->d_name);
            if (!(f = fopen(path, "r")))
                continue;
            if (!fgets(comm, sizeof comm, f))
                comm[0] = '\0';
            fclose(f);
            if (strcmp(comm, want) == 0) {
                pid = atoi(e->d_name);
                break;
            }
        }
        if (d)
            closedir(d);
    }
    if (pid < 0)
        return -1.0;
    snprintf(path, sizeof path, "/proc/%d/stat", pid);
    if (!(f = fopen(path, "r")))
        return -1.0;
    if (!fgets(buf, sizeof buf, f)) {
        fclose(f);
        return -1.0;
    }
    fclose(f);
    /* Fields after the command name (which is in parentheses): state is
     * field 3, utime 14 and stime 15. */
    p = strrchr(buf, ')');
    if (!p)
        return -1.0;
    p++;
    for (i = 3; i <= 13 && p; i++)
        p = strchr(p + 1, ' ');
    if (!p || sscanf(p, " %llu %llu", &ut, &st) != 2)
        return -1.0;
    return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

uint64_t bench_rss(void)
{
    unsigned long long size = 0, res = 0;
    FILE *f = fopen("/proc/self/statm", "r");

    if (!f)
        return 0;
    if (fscanf(f, "%llu %llu", &size, &res) != 2)
        res = 0;
    fclose(f);
    return (uint64_t)res * (uint64_t)sysconf(_SC_PAGESIZE);
}

int bench_sysctl_write(const char *path, const char *value)
{
    int fd = open(path, O_WRONLY);
    ssize_t n;

    if (fd < 0)
        return -1;
    n = write(fd, value, strlen(value));
    close(fd);
    return n == (ssize_t)strlen(value) ? 0 : -1;
}

static int loopback_up(void)
{
    struct ifreq ifr;
    int fd = socket(AF_INET, SOCK_DGRAM, 0), rc = -1;

    if (fd < 0)
        return -1;
    memset(&ifr, 0, sizeof ifr);
    snprintf(ifr.ifr_name, sizeof ifr.ifr_name, "lo");
    if (ioctl(fd, SIOCGIFFLAGS, &ifr) == 0) {
        ifr.ifr_flags |= IFF_UP;
        rc = ioctl(fd, SIOCSIFFLAGS, &ifr);
    }
    close(fd);
    return rc;
}

static bool own_netns;

bool bench_in_own_netns(void)
{
    return own_netns;
}

typedef struct child_head {
    int ok;
    int in_netns;
    char err[200];
} child_head;

static bool read_all(int fd, void *buf, size_t len)
{
    uint8_t *p = buf;

    while (len) {
        ssize_t n = read(fd, p, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return false;
        p += n;
        len -= (size_t)n;
    }
    return true;
}

static void write_all(int fd, const void *buf, size_t len)
{
    const uint8_t *p = buf;

    while (len) {
        ssize_t n = write(fd, p, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return;
        p += n;
        len -= (size_t)n;
    }
}

const char *bench_in_child(const char *(*fn)(void *arg, void *out), void *arg,
                           void *out, size_t outlen, bool netns,
                           bool *in_netns)
{
    static char err[256];
    child_head h;
    int p[2], status;
    pid_t pid;

    if (in_netns)
        *in_netns = false;
    if (pipe(p) != 0) {
        snprintf(err, sizeof err, "pipe: %s", strerror(errno));
        return err;
    }
    fflush(NULL);
    pid = fork();
    if (pid < 0) {
        snprintf(err, sizeof err, "fork: %s", strerror(errno));
        close(p[0]);
        close(p[1]);
        return err;
    }
    if (pid == 0) {
        const char *e;
        close(p[0]);
        memset(&h, 0, sizeof h);
        if (netns && unshare(CLONE_NEWNET) == 0 && loopback_up() == 0)
            h.in_netns = 1;
        own_netns = h.in_netns != 0;
        e = fn(arg, out);
        h.ok = e == NULL;
        if (e)
            snprintf(h.err, sizeof h.err, "%s", e);
        write_all(p[1], &h, sizeof h);
        write_all(p[1], out, outlen);
        close(p[1]);
        _exit(0);
    }
    close(p[1]);
    memset(&h, 0, sizeof h);
    if (!read_all(p[0], &h, sizeof h) || !read_all(p[0], out, outlen)) {
        close(p[0]);
        waitpid(pid, &status, 0);
        if (WIFSIGNALED(status))
            snprintf(err, sizeof err, "the child died of signal %d",
                     WTERMSIG(status));
        else
            snprintf(err, sizeof err, "the child exited without a result");
        return err;
    }
    close(p[0]);
    waitpid(pid, &status, 0);
    if (in_netns)
        *in_netns = h.in_netns != 0;
    if (!h.ok) {
        snprintf(err, sizeof err, "%s", h.err);
        return err;
    }
    return NULL;
}

/* ---- a counting allocator -------------------------------------------------- */

#define MEM_HDR 16u

void *bench_mem_alloc(void *ctx, size_t n)
{
    bench_mem *m = ctx;
    uint8_t *p = malloc(n + MEM_HDR);

    if (!p)
        return NULL;
    memcpy(p, &n, sizeof n);
    m->live_bytes += n;
    m->live_blocks++;
    m->total_allocs++;
    return p + MEM_HDR;
}

void bench_mem_free(void *ctx, void *ptr)
{
    bench_mem *m = ctx;
    uint8_t *p;
    size_t n;

    if (!ptr)
        return;
    p = (uint8_t *)ptr - MEM_HDR;
    memcpy(&n, p, sizeof n);
    m->live_bytes -= n;
    m->live_blocks--;
    free(p);
}

void bench_mem_hook(ustk_config *cfg, bench_mem *m)
{
    cfg->alloc = bench_mem_alloc;
    cfg->free = bench_mem_free;
    cfg->alloc_ctx = m;
}

/* ---- formatting ------------------------------------------------------------ */

void bench_fmt_count(char *buf, size_t cap, uint64_t n)
{
    if (n >= 1000000 && n % 1000000 == 0)
        snprintf(buf, cap, "%lluM", (unsigned long long)(n / 1000000));
    else if (n >= 1000 && n % 1000 == 0)
        snprintf(buf, cap, "%lluk", (unsigned long long)(n / 1000));
    else
        snprintf(buf, cap, "%llu", (unsigned long long)n);
}
