/* ustack — Linux TUN/TAP devices as links (see tun.h).
 *
 * The driver is shared by both kinds: they differ only in the flag given to
 * TUNSETIFF and in what the frames are. ustk_tun_open() is the TUN entry
 * point; tap.c has the TAP one.
 */
#include "tun.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <linux/virtio_net.h>
#include <net/if.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "frameq.h"

#define TUN_CLONE_PATH "/dev/net/tun"

typedef struct tundev {
    ustk_link link; /* first, so a ustk_link * is a tundev * */
    int fd;
    char name[IFNAMSIZ];
    bool created;
    unsigned mtu;
    /* A frame read for a caller whose buffer was too small, kept for the
     * next call (the kernel hands a frame out only once). */
    uint8_t *rbuf;
    size_t rlen;
    bool pending;
    /* With virtio-net headers: the one before the frame read last. */
    bool vnet;
    struct virtio_net_hdr rhdr;
    /* With a batch: frames waiting for the next io_uring submission. */
    ustk__frameq *q;
    ustk_tundev_stats st;
} tundev;

static int tun_send(ustk_link *l, ustk_time now, const uint8_t *frame, size_t len);
static int tun_recv(ustk_link *l, ustk_time now, uint8_t *buf, size_t cap, size_t *len);
static ustk_time tun_next_arrival(const ustk_link *l, ustk_time now);
static int tun_fd(const ustk_link *l);
static void tun_destroy(ustk_link *l);
static int tun_send_meta(ustk_link *l, ustk_time now, const uint8_t *frame,
                         size_t len, const ustk_frame_meta *m);
static int tun_recv_meta(ustk_link *l, ustk_time now, uint8_t *buf, size_t cap,
                         size_t *len, ustk_frame_meta *m);
static int tun_flush(ustk_link *l, ustk_time now);
static uint8_t *tun_tx_buf(ustk_link *l, size_t *cap);

static const ustk_link_ops tun_ops = {
    .send = tun_send,
    .recv = tun_recv,
    .next_arrival = tun_next_arrival,
    .fd = tun_fd,
    .destroy = tun_destroy,
    .flush = tun_flush,
    .tx_buf = tun_tx_buf,
};

/* The same device with virtio-net headers: frames with metadata too. */
static const ustk_link_ops tun_vnet_ops = {
    .send = tun_send,
    .recv = tun_recv,
    .next_arrival = tun_next_arrival,
    .fd = tun_fd,
    .destroy = tun_destroy,
    .send_meta = tun_send_meta,
    .recv_meta = tun_recv_meta,
    .flush = tun_flush,
    .tx_buf = tun_tx_buf,
};

__attribute__((format(printf, 3, 4)))
static void say(char *why, size_t whylen, const char *fmt, ...)
{
    va_list ap;

    if (!why || whylen == 0)
        return;
    va_start(ap, fmt);
    vsnprintf(why, whylen, fmt, ap);
    va_end(ap);
}

static const char *kind_name(ustk_link_kind k)
{
    return k == USTK_LINK_IP ? "TUN" : "TAP";
}

/* Linux's rules for interface names (dev_valid_name()), plus no '%': the
 * kernel would take it as a template and pick a name of its own. */
bool ustk_tundev_name_ok(const char *name, char *why, size_t whylen)
{
    size_t n = name ? strlen(name) : 0;

    if (n == 0) {
        say(why, whylen, "the device name is empty");
        return false;
    }
    if (n >= IFNAMSIZ) {
        say(why, whylen, "device name '%s' is too long (%zu characters, at most %d)",
            name, n, IFNAMSIZ - 1);
        return false;
    }
    if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0) {
        say(why, whylen, "'%s' is not a valid device name", name);
        return false;
    }
    for (const char *p = name; *p; p++) {
        unsigned char c = (unsigned char)*p;
        if (c == '/' || c == ':' || c == '%' || c <= ' ' || c >= 0x7f) {
            say(why, whylen,
                "device name '%s' has a character Linux does not allow "
                "('/', ':', '%%', spaces or control characters)", name);
            return false;
        }
    }
    return true;
}

/* After TUNSETIFF said EINVAL: say what the device of that name is. */
static void explain_einval(const char *name, ustk_link_kind want, char *why,
                           size_t whylen)
{
    char path[64], buf[32];
    unsigned long flags;
    FILE *f;

    snprintf(path, sizeof path, "/sys/class/net/%s/tun_flags", name);
    f = fopen(path, "re");
    if (f) {
        bool got = fgets(buf, sizeof buf, f) != NULL;
        fclose(f);
        if (got && sscanf(buf, "%lx", &flags) == 1) {
            bool is_tun = (flags & IFF_TUN) != 0;
            if (is_tun != (want == USTK_LINK_IP)) {
                say(why, whylen, "%s is a %s device, not a %s device", name,
                    is_tun ? "TUN" : "TAP", kind_name(want));
                return;
            }
            if (flags & IFF_MULTI_QUEUE) {
                say(why, whylen, "%s is a multi-queue %s device, which ustack "
                    "does not open", name, kind_name(want));
                return;
            }
        }
    } else {
        snprintf(path, sizeof path, "/sys/class/net/%s", name);
        if (access(path, F_OK) == 0) {
            say(why, whylen, "%s exists and is not a TUN/TAP device", name);
            return;
        }
    }
    say(why, whylen, "cannot attach to %s as a %s device: %s", name,
        kind_name(want), strerror(EINVAL));
}

/* SIOCSIFMTU, SIOCGIFMTU and the IFF_UP flag go through any socket. */
static int ctl_socket(void)
{
    return socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
}

static int set_mtu(int sk, const char *name, unsigned mtu)
{
    struct ifreq ifr;

    memset(&ifr, 0, sizeof ifr);
    memcpy(ifr.ifr_name, name, strlen(name) + 1);
    ifr.ifr_mtu = (int)mtu;
    return ioctl(sk, SIOCSIFMTU, &ifr) < 0 ? -errno : 0;
}

static unsigned get_mtu(int sk, const char *name)
{
    struct ifreq ifr;

    memset(&ifr, 0, sizeof ifr);
    memcpy(ifr.ifr_name, name, strlen(name) + 1);
    if (ioctl(sk, SIOCGIFMTU, &ifr) < 0 || ifr.ifr_mtu <= 0)
        return 0;
    return (unsigned)ifr.ifr_mtu;
}

static int bring_up(int sk, const char *name)
{
    struct ifreq ifr;

    memset(&ifr, 0, sizeof ifr);
    memcpy(ifr.ifr_name, name, strlen(name) + 1);
    if (ioctl(sk, SIOCGIFFLAGS, &ifr) < 0)
        return -errno;
    if (ifr.ifr_flags & IFF_UP)
        return 0;
    ifr.ifr_flags = (short)(ifr.ifr_flags | IFF_UP);
    return ioctl(sk, SIOCSIFFLAGS, &ifr) < 0 ? -errno : 0;
}

static bool no_permission(int err)
{
    return err == EPERM || err == EACCES;
}

/* Set the MTU, bring the device up, read the MTU back. */
static int configure(tundev *t, const ustk_tundev_opts *o, char *why,
                     size_t whylen)
{
    int sk = ctl_socket(), rc = 0;

    if (sk < 0) {
        rc = -errno;
        say(why, whylen, "cannot open a socket to configure %s: %s", t->name,
            strerror(-rc));
        return rc;
    }
    if (o->mtu && (rc = set_mtu(sk, t->name, o->mtu)) < 0) {
        say(why, whylen, "cannot set the MTU of %s to %u: %s%s", t->name,
            o->mtu, strerror(-rc),
            no_permission(-rc) ? ": need root or CAP_NET_ADMIN" : "");
        goto out;
    }
    if (o->up && (rc = bring_up(sk, t->name)) < 0) {
        say(why, whylen, "cannot bring %s up: %s%s", t->name, strerror(-rc),
            no_permission(-rc) ? ": need root or CAP_NET_ADMIN" : "");
        goto out;
    }
    t->mtu = get_mtu(sk, t->name);
out:
    close(sk);
    return rc;
}

/* The virtio-net header before every frame, and the offloads Linux may
 * use on frames both ways: checksums and TCP segmentation over IPv4. */
static int set_offloads(int fd, char *why, size_t whylen)
{
    int sz = (int)sizeof(struct virtio_net_hdr);
    unsigned long off = TUN_F_CSUM | TUN_F_TSO4;

    if (ioctl(fd, TUNSETVNETHDRSZ, &sz) < 0) {
        int err = errno;
        say(why, whylen, "the TUN/TAP driver takes no virtio-net header "
            "(TUNSETVNETHDRSZ): %s", strerror(err));
        return -err;
    }
    if (ioctl(fd, TUNSETOFFLOAD, off) < 0) {
        int err = errno;
        say(why, whylen, "the TUN/TAP driver refuses checksum and TSO "
            "offloads (TUNSETOFFLOAD): %s", strerror(err));
        return -err;
    }
    return 0;
}

/* Plain frames on a device that existed: no offloads. They belong to the
 * device, not to the descriptor, so a device that an earlier run opened
 * with virtio-net headers keeps them; Linux would then hand over frames
 * with their checksums left to do, and nothing in a plain frame says so.
 * Turning them off is harmless where none were on; a driver that knows
 * no offloads at all (ENOTTY, EINVAL) has none to turn off. */
static int clear_offloads(int fd, char *why, size_t whylen)
{
    if (ioctl(fd, TUNSETOFFLOAD, 0UL) < 0) {
        int err = errno;
        if (err == ENOTTY || err == EINVAL)
            return 0;
        say(why, whylen, "cannot turn off the offloads an earlier user left "
            "on the device (TUNSETOFFLOAD): %s", strerror(err));
        return -err;
    }
    return 0;
}

/* The queue of frames for io_uring, with slots for the largest frame the
 * MTU allows (bigger ones, TSO segments say, are written at once). */
static int open_queue(tundev *t, unsigned batch, char *why, size_t whylen)
{
    size_t slot = (t->mtu ? t->mtu : 1500) + 14 +
                  (t->vnet ? sizeof(struct virtio_net_hdr) : 0);
    int rc;

    if (batch > 4096 || (batch & (batch - 1))) {
        say(why, whylen, "a batch of %u frames: it must be a power of two, "
            "at most 4096", batch);
        return -EINVAL;
    }
    if (!(t->q = malloc(sizeof *t->q))) {
        say(why, whylen, "out of memory");
        return -ENOMEM;
    }
    rc = ustk__frameq_init(t->q, t->fd, batch, slot);
    if (rc < 0) {
        say(why, whylen, "cannot set up io_uring to write frames in "
            "batches: %s%s", strerror(-rc),
            rc == -EPERM ? " (kernel.io_uring_disabled?)" : "");
        free(t->q);
        t->q = NULL;
    }
    return rc;
}

int ustk_tundev_open(ustk_link **out, const ustk_tundev_opts *o, char *why,
                     size_t whylen)
{
    struct ifreq ifr;
    tundev *t = NULL;
    bool existed;
    int fd = -1, rc, err;

    if (why && whylen)
        why[0] = '\0';
    if (!out || !o) {
        say(why, whylen, "no device given");
        return -EINVAL;
    }
    *out = NULL;
    if (o->kind != USTK_LINK_ETHERNET && o->kind != USTK_LINK_IP) {
        say(why, whylen, "unknown kind of device");
        return -EINVAL;
    }
    if (!ustk_tundev_name_ok(o->name, why, whylen))
        return -EINVAL;
    existed = if_nametoindex(o->name) != 0;
    if (o->attach_only && !existed) {
        say(why, whylen, "no network device named %s (create one with: ip "
            "tuntap add dev %s mode %s)", o->name, o->name,
            o->kind == USTK_LINK_IP ? "tun" : "tap");
        return -ENODEV;
    }

    fd = open(TUN_CLONE_PATH, O_RDWR | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) {
        err = errno;
        if (err == ENOENT)
            say(why, whylen, "%s does not exist: load the tun module "
                "(modprobe tun) or create the node (mknod %s c 10 200)",
                TUN_CLONE_PATH, TUN_CLONE_PATH);
        else if (no_permission(err))
            say(why, whylen, "cannot open %s: %s: need root or CAP_NET_ADMIN",
                TUN_CLONE_PATH, strerror(err));
        else if (err == ENODEV || err == ENXIO)
            say(why, whylen, "cannot open %s: the kernel has no TUN/TAP "
                "driver (modprobe tun)", TUN_CLONE_PATH);
        else
            say(why, whylen, "cannot open %s: %s", TUN_CLONE_PATH, strerror(err));
        return -err;
    }

    memset(&ifr, 0, sizeof ifr);
    ifr.ifr_flags = (short)((o->kind == USTK_LINK_IP ? IFF_TUN : IFF_TAP) |
                            IFF_NO_PI | (o->vnet_hdr ? IFF_VNET_HDR : 0));
    memcpy(ifr.ifr_name, o->name, strlen(o->name) + 1);
    if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
        err = errno;
        if (no_permission(err))
            say(why, whylen, "cannot %s %s device %s: %s: need root or "
                "CAP_NET_ADMIN", existed ? "attach to" : "create",
                kind_name(o->kind), o->name, strerror(err));
        else if (err == EINVAL)
            explain_einval(o->name, o->kind, why, whylen);
        else if (err == EBUSY)
            say(why, whylen, "%s is in use by another process", o->name);
        else
            say(why, whylen, "cannot %s %s device %s: %s",
                existed ? "attach to" : "create", kind_name(o->kind), o->name,
                strerror(err));
        close(fd);
        return -err;
    }

    t = calloc(1, sizeof *t);
    if (!t) {
        say(why, whylen, "out of memory");
        close(fd);
        return -ENOMEM;
    }
    t->fd = fd;
    t->created = !existed;
    t->vnet = o->vnet_hdr;
    rc = o->vnet_hdr ? set_offloads(fd, why, whylen)
         : existed   ? clear_offloads(fd, why, whylen)
                     : 0;
    if (rc < 0) {
        close(fd);
        free(t);
        return rc;
    }
    /* The kernel may have written back the name it used; it is ours. */
    memcpy(t->name, ifr.ifr_name, IFNAMSIZ);
    t->name[IFNAMSIZ - 1] = '\0';
    rc = configure(t, o, why, whylen);
    if (rc == 0 && o->batch)
        rc = open_queue(t, o->batch, why, whylen);
    if (rc < 0) {
        close(fd);
        free(t);
        return rc;
    }
    t->link.ops = o->vnet_hdr ? &tun_vnet_ops : &tun_ops;
    t->link.kind = o->kind;
    *out = &t->link;
    return 0;
}

int ustk_tun_open(ustk_link **out, const char *name, bool up, char *why,
                  size_t whylen)
{
    ustk_tundev_opts o = { .name = name, .kind = USTK_LINK_IP, .up = up };

    return ustk_tundev_open(out, &o, why, whylen);
}

static const tundev *cdev(const ustk_link *l)
{
    return (l && (l->ops == &tun_ops || l->ops == &tun_vnet_ops))
               ? (const tundev *)l : NULL;
}

unsigned ustk_tundev_batch(const ustk_link *l)
{
    const tundev *t = cdev(l);
    return t && t->q ? t->q->nslots : 0;
}

bool ustk_tundev_vnet_hdr(const ustk_link *l)
{
    const tundev *t = cdev(l);
    return t && t->vnet;
}

const char *ustk_tundev_name(const ustk_link *l)
{
    const tundev *t = cdev(l);
    return t ? t->name : NULL;
}

unsigned ustk_tundev_mtu(const ustk_link *l)
{
    const tundev *t = cdev(l);
    return t ? t->mtu : 0;
}

bool ustk_tundev_created(const ustk_link *l)
{
    const tundev *t = cdev(l);
    return t && t->created;
}

int ustk_tundev_wait_running(const ustk_link *l, unsigned timeout_ms)
{
    const tundev *t = cdev(l);
    const struct timespec step = { 0, 5 * 1000 * 1000 };
    struct ifreq ifr;
    int sk, rc = -ETIMEDOUT;

    if (!t)
        return -EINVAL;
    sk = ctl_socket();
    if (sk < 0)
        return -errno;
    for (unsigned waited = 0;; waited += 5) {
        memset(&ifr, 0, sizeof ifr);
        memcpy(ifr.ifr_name, t->name, sizeof t->name);
        if (ioctl(sk, SIOCGIFFLAGS, &ifr) < 0) {
            rc = -errno;
            break;
        }
        if ((ifr.ifr_flags & (IFF_UP | IFF_RUNNING)) == (IFF_UP | IFF_RUNNING)) {
            rc = 0;
            break;
        }
        if (waited >= timeout_ms)
            break;
        nanosleep(&step, NULL); /* woken early by a signal: look again */
    }
    close(sk);
    return rc;
}

void ustk_tundev_stats_get(const ustk_link *l, ustk_tundev_stats *out)
{
    const tundev *t = cdev(l);

    if (t)
        *out = t->st;
    else
        memset(out, 0, sizeof *out);
}

/* Write what the queue holds; a queue whose ring fails is given up, and
 * the link goes on with write(). */
static int queue_flush(tundev *t)
{
    ustk__frameq_result r = { 0, 0, 0, 0 };
    unsigned queued = t->q->queued;
    int rc = ustk__frameq_flush(t->q, &r);

    t->st.frames_out += r.frames;
    t->st.bytes_out += r.bytes - (t->vnet ? r.frames * sizeof t->rhdr : 0);
    t->st.send_errors += r.errors;
    if (rc < 0) {
        t->st.send_errors += queued;
        ustk__frameq_exit(t->q);
        free(t->q);
        t->q = NULL;
        return rc;
    }
    return r.errors ? r.last_error : 0;
}

static int tun_flush(ustk_link *l, ustk_time now)
{
    tundev *t = (tundev *)l;

    (void)now;
    return t->q ? queue_flush(t) : 0;
}

/* Queue a frame (behind its header) for the next flush. 1 when queued, 0
 * when it must be written now (too big for a slot; the queue is flushed
 * first, so that frames keep their order). */
static int queue_frame(tundev *t, const uint8_t *frame, size_t len,
                       const struct virtio_net_hdr *h)
{
    size_t hl = t->vnet ? sizeof *h : 0;
    uint8_t *slot;

    if (hl + len > t->q->slot_size) {
        (void)queue_flush(t);
        return 0;
    }
    if (!(slot = ustk__frameq_slot(t->q))) {
        /* Lost frames were counted; this one goes on. */
        (void)queue_flush(t);
        if (!t->q)
            return 0;
        slot = ustk__frameq_slot(t->q);
    }
    memcpy(slot, h, hl);
    if (frame != slot + hl) /* not built in place (tun_tx_buf) */
        memcpy(slot + hl, frame, len);
    ustk__frameq_push(t->q, hl + len);
    return 1;
}

/* The next slot, behind room for the header; a full queue is written
 * first. */
static uint8_t *tun_tx_buf(ustk_link *l, size_t *cap)
{
    tundev *t = (tundev *)l;
    size_t hl = t->vnet ? sizeof t->rhdr : 0;
    uint8_t *slot;

    if (!t->q)
        return NULL;
    if (!(slot = ustk__frameq_slot(t->q))) {
        (void)queue_flush(t);
        if (!t->q)
            return NULL;
        slot = ustk__frameq_slot(t->q);
    }
    *cap = t->q->slot_size - hl;
    return slot + hl;
}

/* One frame, behind its virtio-net header when the device has them. */
static int dev_write(tundev *t, const uint8_t *frame, size_t len,
                     const struct virtio_net_hdr *h)
{
    struct virtio_net_hdr wh;
    struct iovec iov[2];
    int cnt = 0;
    size_t want = len;
    ssize_t n;

    if (!frame || len == 0)
        return USTK_EINVAL;
    if (len > USTK_LINK_FRAME_MAX)
        return USTK_EMSGSIZE;
    if (t->q && queue_frame(t, frame, len, h))
        return 0;
    if (t->vnet) {
        memcpy(&wh, h, sizeof wh);
        iov[cnt].iov_base = &wh;
        iov[cnt++].iov_len = sizeof *h;
        want += sizeof *h;
    }
    /* writev() takes no const; the kernel only reads the frame. */
    memcpy(&iov[cnt].iov_base, &frame, sizeof frame);
    iov[cnt++].iov_len = len;
    /* A plain frame goes with write(): the kernel's single-buffer path
     * is cheaper per frame than an iovec's. */
    do
        n = t->vnet ? writev(t->fd, iov, cnt) : write(t->fd, frame, len);
    while (n < 0 && errno == EINTR);
    if (n < 0) {
        t->st.send_errors++;
        /* A full queue in the kernel loses the frame, as on a wire. */
        return (errno == EAGAIN || errno == EWOULDBLOCK) ? USTK_ENOBUFS : -errno;
    }
    if ((size_t)n != want) { /* the driver writes whole frames or none */
        t->st.send_errors++;
        return -EIO;
    }
    t->st.frames_out++;
    t->st.bytes_out += len;
    return 0;
}

static int tun_send(ustk_link *l, ustk_time now, const uint8_t *frame, size_t len)
{
    struct virtio_net_hdr h;

    (void)now;
    memset(&h, 0, sizeof h); /* a complete frame: nothing to do */
    return dev_write((tundev *)l, frame, len, &h);
}

static int tun_send_meta(ustk_link *l, ustk_time now, const uint8_t *frame,
                         size_t len, const ustk_frame_meta *m)
{
    tundev *t = (tundev *)l;
    struct virtio_net_hdr h;
    int rc;

    (void)now;
    memset(&h, 0, sizeof h);
    if (m && (m->flags & USTK_META_NEEDS_CSUM)) {
        /* The header is in the host's byte order (a legacy header, no
         * TUNSETVNETLE/BE). */
        h.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
        h.csum_start = m->csum_start;
        h.csum_offset = m->csum_offset;
        h.hdr_len = m->hdr_len;
    }
    if (m && m->gso_type == USTK_GSO_TCPV4) {
        h.gso_type = VIRTIO_NET_HDR_GSO_TCPV4;
        h.gso_size = m->gso_size;
    }
    rc = dev_write(t, frame, len, &h);
    if (rc == 0 && h.gso_type)
        t->st.tso_out++;
    else if (rc == 0 && h.flags)
        t->st.csum_out++;
    return rc;
}

/* The one's complement checksum of f[start, len), stored at start + off
 * (which holds the pseudo-header sum): what the device would have done. */
static void complete_csum(uint8_t *f, size_t len, size_t start, size_t off)
{
    uint32_t sum = 0;
    size_t i;

    if (start >= len || start + off + 2 > len)
        return;
    for (i = start; i + 1 < len; i += 2)
        sum += (uint32_t)f[i] << 8 | f[i + 1];
    if (i < len)
        sum += (uint32_t)f[i] << 8;
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    sum = ~sum & 0xffff;
    f[start + off] = (uint8_t)(sum >> 8);
    f[start + off + 1] = (uint8_t)sum;
}

/* Read one frame (and its header) into buf, or into our own buffer when
 * buf cannot hold the largest; a frame kept from before comes first. */
static int dev_read(tundev *t, uint8_t *buf, size_t cap, size_t *len)
{
    struct iovec iov[2];
    int cnt = 0;
    uint8_t *dst;
    ssize_t n;

    if (!t->pending) {
        /* With a buffer for the largest frame, read straight into it;
         * otherwise into our own, so that nothing is ever cut short. */
        if (cap >= USTK_LINK_FRAME_MAX) {
            dst = buf;
        } else {
            if (!t->rbuf && !(t->rbuf = malloc(USTK_LINK_FRAME_MAX)))
                return USTK_ENOMEM;
            dst = t->rbuf;
        }
        memset(&t->rhdr, 0, sizeof t->rhdr);
        if (t->vnet) {
            iov[cnt].iov_base = &t->rhdr;
            iov[cnt++].iov_len = sizeof t->rhdr;
        }
        iov[cnt].iov_base = dst;
        iov[cnt++].iov_len = USTK_LINK_FRAME_MAX;
        do
            n = t->vnet ? readv(t->fd, iov, cnt)
                        : read(t->fd, dst, USTK_LINK_FRAME_MAX);
        while (n < 0 && errno == EINTR);
        if (n < 0)
            return (errno == EAGAIN || errno == EWOULDBLOCK) ? USTK_EAGAIN : -errno;
        if (t->vnet)
            n -= (ssize_t)sizeof t->rhdr;
        if (n <= 0)
            return USTK_EAGAIN;
        t->st.frames_in++;
        t->st.bytes_in += (uint64_t)n;
        if (t->rhdr.gso_type != VIRTIO_NET_HDR_GSO_NONE)
            t->st.gso_in++;
        if (dst == buf) {
            *len = (size_t)n;
            return 0;
        }
        t->rlen = (size_t)n;
        t->pending = true;
    }
    if (t->rlen > cap) {
        t->st.too_big++;
        return USTK_EMSGSIZE;
    }
    memcpy(buf, t->rbuf, t->rlen);
    *len = t->rlen;
    t->pending = false;
    return 0;
}

/* The IP protocol of a frame (0 when it is not IPv4). */
static uint8_t frame_proto(const tundev *t, const uint8_t *f, size_t len)
{
    size_t ip = t->link.kind == USTK_LINK_ETHERNET ? 14 : 0;

    if (ip && (len < 14 || f[12] != 0x08 || f[13] != 0x00))
        return 0;
    return len >= ip + 20 ? f[ip + 9] : 0;
}

static int tun_recv(ustk_link *l, ustk_time now, uint8_t *buf, size_t cap, size_t *len)
{
    tundev *t = (tundev *)l;
    int rc;

    (void)now;
    rc = dev_read(t, buf, cap, len);
    /* A caller without metadata gets a complete frame. */
    if (rc == 0 && (t->rhdr.flags & VIRTIO_NET_HDR_F_NEEDS_CSUM)) {
        complete_csum(buf, *len, t->rhdr.csum_start, t->rhdr.csum_offset);
        t->st.csum_sw++;
    }
    return rc;
}

static int tun_recv_meta(ustk_link *l, ustk_time now, uint8_t *buf, size_t cap,
                         size_t *len, ustk_frame_meta *m)
{
    tundev *t = (tundev *)l;
    const struct virtio_net_hdr *h = &t->rhdr;
    int rc;

    (void)now;
    memset(m, 0, sizeof *m);
    rc = dev_read(t, buf, cap, len);
    if (rc != 0)
        return rc;
    if (h->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) {
        /* The stack trusts a partial TCP checksum from a local sender;
         * anything else is completed here. */
        if (frame_proto(t, buf, *len) == 6) {
            m->flags |= USTK_META_NEEDS_CSUM;
            m->csum_start = h->csum_start;
            m->csum_offset = h->csum_offset;
        } else {
            complete_csum(buf, *len, h->csum_start, h->csum_offset);
            t->st.csum_sw++;
        }
    }
    if (h->flags & VIRTIO_NET_HDR_F_DATA_VALID)
        m->flags |= USTK_META_DATA_VALID;
    if ((h->gso_type & ~VIRTIO_NET_HDR_GSO_ECN) == VIRTIO_NET_HDR_GSO_TCPV4) {
        m->gso_type = USTK_GSO_TCPV4;
        m->gso_size = h->gso_size;
        m->hdr_len = h->hdr_len;
    }
    return 0;
}

static ustk_time tun_next_arrival(const ustk_link *l, ustk_time now)
{
    (void)l;
    (void)now;
    return USTK_TIME_NEVER;
}

static int tun_fd(const ustk_link *l)
{
    return ((const tundev *)l)->fd;
}

static void tun_destroy(ustk_link *l)
{
    tundev *t = (tundev *)l;

    if (t->q) {
        (void)queue_flush(t);
        if (t->q)
            ustk__frameq_exit(t->q);
        free(t->q);
    }
    close(t->fd); /* a device we created goes away with it */
    free(t->rbuf);
    free(t);
}
