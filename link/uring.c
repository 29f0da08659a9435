/* ustack — a minimal io_uring of our own (see uring.h).
 *
 * The layout is the kernel's (io_uring_setup(2)): three shared mappings,
 * the submission ring (head, tail, mask, the index array), the completion
 * ring (head, tail, mask, the completions) and the submission entries.
 * The kernel moves the submission head and the completion tail, we move
 * the others; each side publishes its index with a release store after
 * writing what it covers, and reads the other's with an acquire load.
 */
#include "uring.h"

#include <errno.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

static int sys_setup(unsigned entries, struct io_uring_params *p)
{
    return (int)syscall(__NR_io_uring_setup, entries, p);
}

static int sys_enter(int fd, unsigned submit, unsigned wait, unsigned flags)
{
    return (int)syscall(__NR_io_uring_enter, fd, submit, wait, flags, NULL,
                        (size_t)0);
}

static int sys_register(int fd, unsigned op, const void *arg, unsigned n)
{
    return (int)syscall(__NR_io_uring_register, fd, op, arg, n);
}

static void *ring_ptr(void *base, uint32_t off)
{
    return (uint8_t *)base + off;
}

/* Set up with the flags that make a single thread's submissions cheapest
 * (no locking for other submitters, task work run only when we enter),
 * dropping them on a kernel too old to know them. */
static int setup(unsigned entries, struct io_uring_params *p)
{
    static const unsigned tries[] = {
        IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN |
            IORING_SETUP_SUBMIT_ALL,
        IORING_SETUP_SUBMIT_ALL,
        0,
    };
    int fd = -1;

    for (size_t i = 0; i < sizeof tries / sizeof tries[0]; i++) {
        memset(p, 0, sizeof *p);
        p->flags = tries[i] | IORING_SETUP_CQSIZE;
        p->cq_entries = entries * 2;
        fd = sys_setup(entries, p);
        if (fd >= 0 || errno != EINVAL)
            break;
    }
    return fd < 0 ? -errno : fd;
}

int ustk__uring_init(ustk__uring *r, unsigned entries)
{
    struct io_uring_params p;
    int fd, err;

    memset(r, 0, sizeof *r);
    r->fd = -1;
    if (entries == 0 || entries > 4096 || (entries & (entries - 1)))
        return -EINVAL;
    fd = setup(entries, &p);
    if (fd < 0)
        return fd;
    r->fd = fd;
    r->entries = p.sq_entries;
    r->sq_map_len = p.sq_off.array + p.sq_entries * sizeof(unsigned);
    r->cq_map_len = p.cq_off.cqes + p.cq_entries * sizeof(struct io_uring_cqe);
    /* One mapping serves both rings where the kernel allows it (5.4+). */
    if (p.features & IORING_FEAT_SINGLE_MMAP) {
        if (r->cq_map_len > r->sq_map_len)
            r->sq_map_len = r->cq_map_len;
        r->cq_map_len = r->sq_map_len;
    }
    r->sq_map = mmap(NULL, r->sq_map_len, PROT_READ | PROT_WRITE,
                     MAP_SHARED | MAP_POPULATE, fd, IORING_OFF_SQ_RING);
    if (r->sq_map == MAP_FAILED) {
        r->sq_map = NULL;
        goto fail;
    }
    if (p.features & IORING_FEAT_SINGLE_MMAP) {
        r->cq_map = r->sq_map;
    } else {
        r->cq_map = mmap(NULL, r->cq_map_len, PROT_READ | PROT_WRITE,
                         MAP_SHARED | MAP_POPULATE, fd, IORING_OFF_CQ_RING);
        if (r->cq_map == MAP_FAILED) {
            r->cq_map = NULL;
            goto fail;
        }
    }
    r->sqes_len = p.sq_entries * sizeof(struct io_uring_sqe);
    r->sqes = mmap(NULL, r->sqes_len, PROT_READ | PROT_WRITE,
                   MAP_SHARED | MAP_POPULATE, fd, IORING_OFF_SQES);
    if (r->sqes == MAP_FAILED) {
        r->sqes = NULL;
        goto fail;
    }
    r->sq_head = ring_ptr(r->sq_map, p.sq_off.head);
    r->sq_tail = ring_ptr(r->sq_map, p.sq_off.tail);
    r->sq_mask = *(unsigned *)ring_ptr(r->sq_map, p.sq_off.ring_mask);
    r->sq_array = ring_ptr(r->sq_map, p.sq_off.array);
    r->sq_local = *r->sq_tail;
    r->cq_head = ring_ptr(r->cq_map, p.cq_off.head);
    r->cq_tail = ring_ptr(r->cq_map, p.cq_off.tail);
    r->cq_mask = *(unsigned *)ring_ptr(r->cq_map, p.cq_off.ring_mask);
    r->cqes = ring_ptr(r->cq_map, p.cq_off.cqes);
    /* Entry i of the index array names submission entry i, for good: the
     * entries are used in ring order. */
    for (unsigned i = 0; i < p.sq_entries; i++)
        r->sq_array[i] = i;
    return 0;
fail:
    err = -errno;
    ustk__uring_exit(r);
    return err;
}

void ustk__uring_exit(ustk__uring *r)
{
    if (r->sqes)
        munmap(r->sqes, r->sqes_len);
    if (r->cq_map && r->cq_map != r->sq_map)
        munmap(r->cq_map, r->cq_map_len);
    if (r->sq_map)
        munmap(r->sq_map, r->sq_map_len);
    if (r->fd >= 0)
        close(r->fd);
    memset(r, 0, sizeof *r);
    r->fd = -1;
}

struct io_uring_sqe *ustk__uring_sqe(ustk__uring *r)
{
    unsigned head = __atomic_load_n(r->sq_head, __ATOMIC_ACQUIRE);
    struct io_uring_sqe *sqe;

    if (r->sq_local - head >= r->entries)
        return NULL;
    sqe = &r->sqes[r->sq_local & r->sq_mask];
    memset(sqe, 0, sizeof *sqe);
    r->sq_local++;
    return sqe;
}

unsigned ustk__uring_pending(const ustk__uring *r)
{
    return r->sq_local - *r->sq_tail;
}

int ustk__uring_submit(ustk__uring *r, unsigned wait_nr)
{
    unsigned n = ustk__uring_pending(r);
    int rc;

    /* The entries are written before the kernel can see the new tail. */
    __atomic_store_n(r->sq_tail, r->sq_local, __ATOMIC_RELEASE);
    do
        rc = sys_enter(r->fd, n, wait_nr,
                       wait_nr ? IORING_ENTER_GETEVENTS : 0);
    while (rc < 0 && errno == EINTR);
    return rc < 0 ? -errno : rc;
}

struct io_uring_cqe *ustk__uring_cqe(ustk__uring *r)
{
    unsigned head = *r->cq_head;

    if (head == __atomic_load_n(r->cq_tail, __ATOMIC_ACQUIRE))
        return NULL;
    return &r->cqes[head & r->cq_mask];
}

void ustk__uring_cqe_seen(ustk__uring *r)
{
    /* The completion is read before the kernel may overwrite it. */
    __atomic_store_n(r->cq_head, *r->cq_head + 1, __ATOMIC_RELEASE);
}

int ustk__uring_register_files(ustk__uring *r, const int *fds, unsigned n)
{
    return sys_register(r->fd, IORING_REGISTER_FILES, fds, n) < 0 ? -errno : 0;
}
