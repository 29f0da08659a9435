/* The world `ustack bench tap` runs in: network namespaces of its own,
 * the interfaces in them, offloads, and cleaning all of it up on every way
 * out (a normal return, exit(), a signal).
 *
 * The namespaces are named ones (`ip netns add ustkb-<pid>-<role>`), so
 * that a person can look into them with `ip netns exec` while the bench
 * runs. The process moves between them with setns(): a socket or a TAP
 * device belongs to the namespace it was made in, whatever namespace the
 * process is in later, so everything is made in its namespace and used
 * from the one the process started in.
 *
 * Deleting a named namespace is what `ip netns del` does: lazily unmount
 * /run/netns/NAME and remove the file. Those are two system calls, safe in
 * a signal handler, so the handler does exactly what the normal path does;
 * the namespace itself (and the veth pairs and TAP device in it) goes away
 * when nothing refers to it any more, at the latest when this process
 * exits. A process killed with SIGKILL leaves its names behind: the next
 * run removes the names of benches that are no longer running.
 */
#ifndef USTK_TOOLS_BENCH_TAP_ENV_H
#define USTK_TOOLS_BENCH_TAP_ENV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TAPB_NS_MAX 2

/* Why the bench cannot run here (not root, no `ip`, no /dev/net/tun), as
 * the end of a "skipped: ..." line, or NULL. */
const char *tapb_skip_reason(void);

/* Remember the namespace the process is in, install the cleanup (atexit
 * and handlers for the signals that end a process), and remove the names
 * left by benches that are no longer running. Returns 0 or -1 with err
 * set. */
int tapb_env_start(char *err, size_t errlen);

/* Make namespace `idx` (0 .. TAPB_NS_MAX - 1), named ustkb-<pid>-<role>,
 * and open it. Returns 0 or -1 with err set. */
int tapb_ns_create(int idx, const char *role, char *err, size_t errlen);
const char *tapb_ns_name(int idx);
/* Move the process into namespace idx, or back to the one it started in.
 * Return 0 or -1 with errno set. */
int tapb_ns_enter(int idx);
int tapb_ns_leave(void);

/* Run `ip` with the arguments (NULL-terminated) and wait for it. Returns
 * 0 when it exited 0, or -1 with err saying how it ended (its own message
 * went to stderr). */
int tapb_ip(char *err, size_t errlen, ...) __attribute__((sentinel));

/* In the current namespace: give an interface an address (host order)
 * and prefix, the MTU (0: leave it) and bring it up; `lo` up. Return 0
 * or -1 with err set. */
int tapb_ifc_setup(const char *ifname, uint32_t ip, unsigned prefix,
                   unsigned mtu, char *err, size_t errlen);
int tapb_lo_up(char *err, size_t errlen);
/* Wait until the interface is up and running (carrier taken in, queueing
 * discipline attached), at most timeout_ms. Returns 0 or -1. */
int tapb_ifc_wait_running(const char *ifname, unsigned timeout_ms);
/* No IPv6 on the interfaces of the current namespace (no router
 * solicitations or listener reports on the links we measure). */
void tapb_no_ipv6(void);

/* Offloads, through the SIOCETHTOOL ioctl (what `ethtool -K` does):
 * turn off TSO, GSO, GRO and checksum offload on transmit and receive.
 * Returns 0 or -1 with err set (the kernel's reason). */
int tapb_offloads_off(const char *ifname, char *err, size_t errlen);
/* "tso off, gso off, gro off, tx-csum off, rx-csum off, sg on", as read
 * back from the device. */
void tapb_offloads_describe(const char *ifname, char *buf, size_t cap);

/* Delete what was made: kill a running `ip`, remove the namespaces' names,
 * close the descriptors of the namespaces. Safe to call twice, and from a
 * signal handler. */
void tapb_env_cleanup(void);
/* The normal end: tapb_env_cleanup(), back to the namespace the process
 * started in, the signal handlers as they were. */
void tapb_env_finish(void);

/* Times of one CPU from /proc/stat, in seconds (sampled at the tick:
 * USER_HZ resolution). */
typedef struct tapb_cpustat {
    double user, system, softirq, busy; /* busy: all but idle and iowait */
} tapb_cpustat;
int tapb_cpustat_read(int cpu, tapb_cpustat *out);

/* A counter of the Tcp: lines of /proc/net/snmp read through fd (opened
 * in the namespace whose counters it shows). 0 when it cannot be read. */
uint64_t tapb_snmp_tcp(int fd, const char *field);
/* Open /proc/self/net/snmp of the current namespace, or -1. */
int tapb_snmp_open(void);

#endif
