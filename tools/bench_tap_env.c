/* The namespaces, interfaces and cleanup of `ustack bench tap` (see
 * bench_tap_env.h). */
#include "bench_tap_env.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/ethtool.h>
#include <linux/sockios.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bench_common.h"

#define NETNS_DIR "/run/netns"
#define NS_PREFIX "ustkb-"

/* Everything the cleanup needs, prepared beforehand so that a signal
 * handler only makes system calls. */
static char ns_names[TAPB_NS_MAX][32];
static char ns_paths[TAPB_NS_MAX][64];
static volatile sig_atomic_t ns_made[TAPB_NS_MAX];
static int ns_fds[TAPB_NS_MAX] = { -1, -1 };
static int home_fd = -1;
static volatile sig_atomic_t ip_child; /* the `ip` running now, or 0 */
static char ip_path[256];

static const int fatal_sigs[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT,
                                  SIGSEGV, SIGBUS, SIGABRT, SIGFPE, SIGILL };
#define NFATAL (sizeof fatal_sigs / sizeof fatal_sigs[0])
static struct sigaction old_sa[NFATAL];
static bool handlers_set, atexit_set;

__attribute__((format(printf, 3, 4)))
static void say(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;

    if (!err || !errlen)
        return;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

/* ---- can it run ---------------------------------------------------------- */

static bool find_ip(void)
{
    const char *path = getenv("PATH");
    char dirs[1024];
    char *save = NULL, *d;

    if (ip_path[0])
        return true;
    snprintf(dirs, sizeof dirs, "%s:/usr/sbin:/sbin:/usr/bin:/bin",
             path ? path : "");
    for (d = strtok_r(dirs, ":", &save); d; d = strtok_r(NULL, ":", &save)) {
        char p[sizeof ip_path];
        if (!*d)
            continue;
        if ((size_t)snprintf(p, sizeof p, "%s/ip", d) >= sizeof p)
            continue;
        if (access(p, X_OK) == 0) {
            memcpy(ip_path, p, sizeof p);
            return true;
        }
    }
    return false;
}

const char *tapb_skip_reason(void)
{
    if (geteuid() != 0)
        return "needs root to create network namespaces (and a TAP device)";
    if (!find_ip())
        return "needs ip to create network namespaces (apt-get install "
               "iproute2)";
    if (access("/dev/net/tun", R_OK | W_OK) != 0)
        return "needs /dev/net/tun for the TAP device (modprobe tun)";
    return NULL;
}

/* ---- cleanup ------------------------------------------------------------- */

/* What `ip netns del` does: the name is a bind mount of the namespace on
 * a file under /run/netns. */
static int remove_name(const char *path)
{
    if (umount2(path, MNT_DETACH) != 0 && errno != EINVAL && errno != ENOENT)
        return -1;
    if (unlink(path) != 0 && errno != ENOENT)
        return -1;
    return 0;
}

void tapb_env_cleanup(void)
{
    pid_t c = (pid_t)ip_child;
    int i;

    if (c > 0) {
        kill(c, SIGKILL);
        while (waitpid(c, NULL, 0) < 0 && errno == EINTR)
            ;
        ip_child = 0;
    }
    for (i = 0; i < TAPB_NS_MAX; i++) {
        if (ns_made[i]) {
            remove_name(ns_paths[i]);
            ns_made[i] = 0;
        }
        if (ns_fds[i] >= 0) {
            close(ns_fds[i]);
            ns_fds[i] = -1;
        }
    }
}

static void on_fatal(int sig)
{
    int saved = errno;
    struct sigaction sa;

    tapb_env_cleanup();
    /* Then die of the signal, as without us. It is blocked while we run:
     * delivered (with the default action) when we return. */
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = SIG_DFL;
    sigemptyset(&sa.sa_mask);
    sigaction(sig, &sa, NULL);
    raise(sig);
    errno = saved;
}

/* The names of benches that are gone (killed with SIGKILL, say). A name
 * is ustkb-<pid>-<role>; it is stale when that process no longer exists
 * (or is this one: a name this process has not made yet). */
static void sweep_stale(void)
{
    DIR *d = opendir(NETNS_DIR);
    struct dirent *e;
    unsigned removed = 0;

    if (!d)
        return;
    while ((e = readdir(d)) != NULL) {
        char role[32], path[300];
        int pid;
        if (strncmp(e->d_name, NS_PREFIX, strlen(NS_PREFIX)) != 0 ||
            sscanf(e->d_name + strlen(NS_PREFIX), "%d-%31s", &pid, role) != 2 ||
            pid <= 0)
            continue;
        if (pid != getpid() && (kill(pid, 0) == 0 || errno != ESRCH))
            continue;
        snprintf(path, sizeof path, "%s/%s", NETNS_DIR, e->d_name);
        if (remove_name(path) == 0)
            removed++;
    }
    closedir(d);
    if (removed)
        fprintf(stderr, "ustack bench tap: removed %u namespace name(s) left "
                "by benches that are no longer running\n", removed);
}

int tapb_env_start(char *err, size_t errlen)
{
    struct sigaction sa;
    size_t i;

    if (!find_ip()) {
        say(err, errlen, "no ip command");
        return -1;
    }
    home_fd = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
    if (home_fd < 0) {
        say(err, errlen, "open /proc/self/ns/net: %s", strerror(errno));
        return -1;
    }
    if (!atexit_set) {
        if (atexit(tapb_env_cleanup) != 0) {
            say(err, errlen, "atexit failed");
            return -1;
        }
        atexit_set = true;
    }
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_fatal;
    sigemptyset(&sa.sa_mask);
    for (i = 0; i < NFATAL; i++)
        sigaddset(&sa.sa_mask, fatal_sigs[i]);
    for (i = 0; i < NFATAL; i++)
        if (sigaction(fatal_sigs[i], &sa, &old_sa[i]) != 0) {
            say(err, errlen, "sigaction: %s", strerror(errno));
            while (i-- > 0)
                sigaction(fatal_sigs[i], &old_sa[i], NULL);
            return -1;
        }
    handlers_set = true;
    sweep_stale();
    return 0;
}

void tapb_env_finish(void)
{
    size_t i;

    tapb_env_cleanup();
    if (home_fd >= 0) {
        if (setns(home_fd, CLONE_NEWNET) != 0)
            fprintf(stderr, "ustack bench tap: cannot return to the first "
                    "network namespace: %s\n", strerror(errno));
        close(home_fd);
        home_fd = -1;
    }
    if (handlers_set)
        for (i = 0; i < NFATAL; i++)
            sigaction(fatal_sigs[i], &old_sa[i], NULL);
    handlers_set = false;
}

/* ---- ip ------------------------------------------------------------------ */

int tapb_ip(char *err, size_t errlen, ...)
{
    static char store[24][64];
    char *argv[24];
    sigset_t block, old;
    va_list ap;
    pid_t pid;
    int n = 0, status, i;
    const char *a;

    argv[n++] = ip_path;
    va_start(ap, errlen);
    while ((a = va_arg(ap, const char *)) != NULL && n < 23) {
        if (strlen(a) >= sizeof store[n]) {
            va_end(ap);
            say(err, errlen, "ip: argument too long: %s", a);
            return -1;
        }
        memcpy(store[n], a, strlen(a) + 1);
        argv[n] = store[n];
        n++;
    }
    va_end(ap);
    argv[n] = NULL;
    /* No signal between the fork and noting the child, so a handler
     * always knows whom to kill. */
    sigemptyset(&block);
    for (i = 0; i < (int)NFATAL; i++)
        sigaddset(&block, fatal_sigs[i]);
    if (sigprocmask(SIG_BLOCK, &block, &old) != 0) {
        say(err, errlen, "sigprocmask: %s", strerror(errno));
        return -1;
    }
    fflush(NULL);
    pid = fork();
    if (pid < 0) {
        int e = errno;
        sigprocmask(SIG_SETMASK, &old, NULL);
        say(err, errlen, "fork: %s", strerror(e));
        return -1;
    }
    if (pid == 0) {
        struct sigaction dfl;
        memset(&dfl, 0, sizeof dfl);
        dfl.sa_handler = SIG_DFL;
        sigemptyset(&dfl.sa_mask);
        for (i = 0; i < (int)NFATAL; i++)
            sigaction(fatal_sigs[i], &dfl, NULL);
        sigprocmask(SIG_SETMASK, &old, NULL);
        /* Our standard output may be JSON lines: ip's goes to stderr. */
        if (dup2(STDERR_FILENO, STDOUT_FILENO) < 0)
            _exit(126);
        execv(ip_path, argv);
        _exit(127);
    }
    ip_child = pid;
    sigprocmask(SIG_SETMASK, &old, NULL);
    while (waitpid(pid, &status, 0) < 0) {
        if (errno != EINTR) {
            ip_child = 0;
            say(err, errlen, "waitpid: %s", strerror(errno));
            return -1;
        }
    }
    ip_child = 0;
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
        return 0;
    {
        char cmd[200];
        size_t k = 0;
        cmd[0] = '\0';
        for (i = 0; i < n && k < sizeof cmd; i++)
            k += (size_t)snprintf(cmd + k, sizeof cmd - k, "%s%s", i ? " " : "",
                                  i ? argv[i] : "ip");
        if (WIFEXITED(status))
            say(err, errlen, "'%s' exited with status %d", cmd,
                WEXITSTATUS(status));
        else
            say(err, errlen, "'%s' died of signal %d", cmd,
                WIFSIGNALED(status) ? WTERMSIG(status) : 0);
    }
    return -1;
}

/* ---- namespaces ---------------------------------------------------------- */

int tapb_ns_create(int idx, const char *role, char *err, size_t errlen)
{
    if (idx < 0 || idx >= TAPB_NS_MAX) {
        say(err, errlen, "no namespace slot %d", idx);
        return -1;
    }
    snprintf(ns_names[idx], sizeof ns_names[idx], NS_PREFIX "%d-%s",
             (int)getpid(), role);
    snprintf(ns_paths[idx], sizeof ns_paths[idx], NETNS_DIR "/%s",
             ns_names[idx]);
    /* Marked before it exists: a signal during `ip` removes it too. */
    ns_made[idx] = 1;
    if (tapb_ip(err, errlen, "netns", "add", ns_names[idx],
                (const char *)NULL) < 0)
        return -1;
    ns_fds[idx] = open(ns_paths[idx], O_RDONLY | O_CLOEXEC);
    if (ns_fds[idx] < 0) {
        say(err, errlen, "open %s: %s", ns_paths[idx], strerror(errno));
        return -1;
    }
    return 0;
}

const char *tapb_ns_name(int idx)
{
    return idx >= 0 && idx < TAPB_NS_MAX ? ns_names[idx] : "";
}

int tapb_ns_enter(int idx)
{
    if (idx < 0 || idx >= TAPB_NS_MAX || ns_fds[idx] < 0) {
        errno = EBADF;
        return -1;
    }
    return setns(ns_fds[idx], CLONE_NEWNET);
}

int tapb_ns_leave(void)
{
    if (home_fd < 0) {
        errno = EBADF;
        return -1;
    }
    return setns(home_fd, CLONE_NEWNET);
}

/* ---- interfaces ---------------------------------------------------------- */

static void ifr_set_name(struct ifreq *ifr, const char *name)
{
    memset(ifr, 0, sizeof *ifr);
    snprintf(ifr->ifr_name, sizeof ifr->ifr_name, "%s", name);
}

static void ifr_ip(struct ifreq *ifr, uint32_t ip)
{
    struct sockaddr_in sin;

    memset(&sin, 0, sizeof sin);
    sin.sin_family = AF_INET;
    sin.sin_addr.s_addr = htonl(ip);
    memcpy(&ifr->ifr_addr, &sin, sizeof sin);
}

static int set_up(int sk, const char *ifname)
{
    struct ifreq ifr;

    ifr_set_name(&ifr, ifname);
    if (ioctl(sk, SIOCGIFFLAGS, &ifr) < 0)
        return -1;
    ifr.ifr_flags = (short)(ifr.ifr_flags | IFF_UP);
    return ioctl(sk, SIOCSIFFLAGS, &ifr);
}

int tapb_ifc_setup(const char *ifname, uint32_t ip, unsigned prefix,
                   unsigned mtu, char *err, size_t errlen)
{
    struct ifreq ifr;
    uint32_t mask = prefix ? ~0u << (32 - prefix) : 0;
    int sk = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    const char *what;

    if (sk < 0) {
        say(err, errlen, "socket: %s", strerror(errno));
        return -1;
    }
    what = "set the MTU of";
    ifr_set_name(&ifr, ifname);
    ifr.ifr_mtu = (int)mtu;
    if (mtu && ioctl(sk, SIOCSIFMTU, &ifr) < 0)
        goto fail;
    what = "set the address of";
    ifr_set_name(&ifr, ifname);
    ifr_ip(&ifr, ip);
    if (ioctl(sk, SIOCSIFADDR, &ifr) < 0)
        goto fail;
    what = "set the netmask of";
    ifr_set_name(&ifr, ifname);
    ifr_ip(&ifr, mask);
    if (ioctl(sk, SIOCSIFNETMASK, &ifr) < 0)
        goto fail;
    what = "bring up";
    if (set_up(sk, ifname) < 0)
        goto fail;
    close(sk);
    return 0;
fail:
    say(err, errlen, "cannot %s %s: %s", what, ifname, strerror(errno));
    close(sk);
    return -1;
}

int tapb_lo_up(char *err, size_t errlen)
{
    int sk = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), rc;

    if (sk < 0) {
        say(err, errlen, "socket: %s", strerror(errno));
        return -1;
    }
    rc = set_up(sk, "lo");
    if (rc < 0)
        say(err, errlen, "cannot bring up lo: %s", strerror(errno));
    close(sk);
    return rc;
}

int tapb_ifc_wait_running(const char *ifname, unsigned timeout_ms)
{
    const struct timespec step = { 0, 5 * 1000 * 1000 };
    struct ifreq ifr;
    unsigned waited;
    int sk = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), rc = -1;

    if (sk < 0)
        return -1;
    for (waited = 0;; waited += 5) {
        ifr_set_name(&ifr, ifname);
        if (ioctl(sk, SIOCGIFFLAGS, &ifr) < 0)
            break;
        if ((ifr.ifr_flags & (IFF_UP | IFF_RUNNING)) ==
            (IFF_UP | IFF_RUNNING)) {
            rc = 0;
            break;
        }
        if (waited >= timeout_ms) {
            errno = ETIMEDOUT;
            break;
        }
        nanosleep(&step, NULL);
    }
    close(sk);
    return rc;
}

void tapb_no_ipv6(void)
{
    /* Absent when the kernel has no IPv6: then there is nothing to stop. */
    (void)bench_sysctl_write("/proc/sys/net/ipv6/conf/default/disable_ipv6",
                             "1");
    (void)bench_sysctl_write("/proc/sys/net/ipv6/conf/all/disable_ipv6", "1");
}

/* ---- offloads ------------------------------------------------------------ */

static int ethtool_value(const char *ifname, uint32_t cmd, uint32_t *v)
{
    struct ethtool_value ev;
    struct ifreq ifr;
    int sk = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), rc;

    if (sk < 0)
        return -1;
    memset(&ev, 0, sizeof ev);
    ev.cmd = cmd;
    ev.data = *v;
    ifr_set_name(&ifr, ifname);
    ifr.ifr_data = (char *)&ev;
    rc = ioctl(sk, SIOCETHTOOL, &ifr);
    if (rc == 0)
        *v = ev.data;
    else
        rc = -1;
    {
        int e = errno;
        close(sk);
        errno = e;
    }
    return rc;
}

int tapb_offloads_off(const char *ifname, char *err, size_t errlen)
{
    /* TSO before checksum offload: it depends on it. */
    static const struct {
        uint32_t cmd;
        const char *name;
    } off[] = {
        { ETHTOOL_STSO, "tso" },        { ETHTOOL_SGSO, "gso" },
        { ETHTOOL_SGRO, "gro" },        { ETHTOOL_STXCSUM, "tx" },
        { ETHTOOL_SRXCSUM, "rx" },
    };
    size_t i;

    for (i = 0; i < sizeof off / sizeof off[0]; i++) {
        uint32_t v = 0;
        if (ethtool_value(ifname, off[i].cmd, &v) < 0) {
            say(err, errlen, "cannot turn %s off on %s (SIOCETHTOOL): %s",
                off[i].name, ifname, strerror(errno));
            return -1;
        }
    }
    return 0;
}

void tapb_offloads_describe(const char *ifname, char *buf, size_t cap)
{
    static const struct {
        uint32_t cmd;
        const char *name;
    } get[] = {
        { ETHTOOL_GTSO, "tso" },         { ETHTOOL_GGSO, "gso" },
        { ETHTOOL_GGRO, "gro" },         { ETHTOOL_GTXCSUM, "tx-csum" },
        { ETHTOOL_GRXCSUM, "rx-csum" },  { ETHTOOL_GSG, "sg" },
    };
    size_t i, n = 0;

    buf[0] = '\0';
    for (i = 0; i < sizeof get / sizeof get[0] && n < cap; i++) {
        uint32_t v = 0;
        int rc = ethtool_value(ifname, get[i].cmd, &v);
        n += (size_t)snprintf(buf + n, cap - n, "%s%s %s", i ? ", " : "",
                              get[i].name, rc < 0 ? "?" : v ? "on" : "off");
    }
}

/* ---- /proc --------------------------------------------------------------- */

int tapb_cpustat_read(int cpu, tapb_cpustat *out)
{
    char line[512], want[32];
    unsigned long long v[8];
    double hz = (double)sysconf(_SC_CLK_TCK);
    FILE *f = fopen("/proc/stat", "re");
    int rc = -1;

    memset(out, 0, sizeof *out);
    if (!f)
        return -1;
    snprintf(want, sizeof want, "cpu%d ", cpu);
    while (fgets(line, sizeof line, f)) {
        if (strncmp(line, want, strlen(want)) != 0)
            continue;
        memset(v, 0, sizeof v);
        /* user nice system idle iowait irq softirq steal */
        if (sscanf(line + strlen(want), "%llu %llu %llu %llu %llu %llu %llu "
                   "%llu", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &v[6],
                   &v[7]) >= 7) {
            out->user = (double)(v[0] + v[1]) / hz;
            out->system = (double)v[2] / hz;
            out->softirq = (double)v[6] / hz;
            out->busy = (double)(v[0] + v[1] + v[2] + v[5] + v[6] + v[7]) / hz;
            rc = 0;
        }
        break;
    }
    fclose(f);
    return rc;
}

int tapb_snmp_open(void)
{
    return open("/proc/self/net/snmp", O_RDONLY | O_CLOEXEC);
}

uint64_t tapb_snmp_tcp(int fd, const char *field)
{
    char buf[8192], *head, *vals, *sh, *sv, *h, *x;
    size_t len = 0;
    ssize_t n;

    if (fd < 0 || lseek(fd, 0, SEEK_SET) < 0)
        return 0;
    while (len < sizeof buf - 1 &&
           (n = read(fd, buf + len, sizeof buf - 1 - len)) > 0)
        len += (size_t)n;
    buf[len] = '\0';
    /* Two lines start with "Tcp:": the names, then the values. */
    head = strstr(buf, "\nTcp:");
    if (!head)
        return 0;
    head++;
    vals = strchr(head, '\n');
    if (!vals)
        return 0;
    *vals++ = '\0';
    if (strncmp(vals, "Tcp:", 4) != 0)
        return 0;
    x = strchr(vals, '\n');
    if (x)
        *x = '\0';
    h = strtok_r(head, " ", &sh);
    x = strtok_r(vals, " ", &sv);
    while (h && x) {
        if (strcmp(h, field) == 0)
            return strtoull(x, NULL, 10);
        h = strtok_r(NULL, " ", &sh);
        x = strtok_r(NULL, " ", &sv);
    }
    return 0;
}
