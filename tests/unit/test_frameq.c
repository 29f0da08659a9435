/* Frames queued for io_uring (link/frameq.h) on a SOCK_SEQPACKET pair,
 * which keeps each write one message: nothing leaves before the flush,
 * everything leaves in order after it, a full queue says so, and a
 * descriptor that refuses the writes makes each frame an error. Skipped
 * where the kernel has no io_uring or has it switched off. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "link/frameq.h"

#define SLOTS 8
#define SLOT_SIZE 200

static int pair[2] = { -1, -1 };

/* Queue a frame of len bytes, byte i = seed + i. */
static void push(ustk__frameq *q, size_t len, uint8_t seed)
{
    uint8_t *slot = ustk__frameq_slot(q);

    assert_non_null(slot);
    for (size_t i = 0; i < len; i++)
        slot[i] = (uint8_t)(seed + i);
    ustk__frameq_push(q, len);
}

static void expect_frame(size_t len, uint8_t seed)
{
    uint8_t buf[SLOT_SIZE * 2];
    ssize_t n = recv(pair[1], buf, sizeof buf, MSG_DONTWAIT);

    assert_int_equal(n, (ssize_t)len);
    for (size_t i = 0; i < len; i++)
        assert_int_equal(buf[i], (uint8_t)(seed + i));
}

static void expect_nothing(void)
{
    uint8_t buf[16];

    assert_int_equal(recv(pair[1], buf, sizeof buf, MSG_DONTWAIT), -1);
    assert_true(errno == EAGAIN || errno == EWOULDBLOCK);
}

static void test_flush_writes_in_order(void **state)
{
    static const size_t lens[] = { 1, 60, 200, 14, 199 };
    ustk__frameq *q = *state;
    ustk__frameq_result r = { 0, 0, 0, 0 };
    uint64_t bytes = 0;

    for (size_t i = 0; i < 5; i++) {
        push(q, lens[i], (uint8_t)(i * 31));
        bytes += lens[i];
    }
    expect_nothing(); /* queued, not written */
    assert_int_equal(ustk__frameq_flush(q, &r), 0);
    assert_int_equal(r.frames, 5);
    assert_int_equal(r.bytes, bytes);
    assert_int_equal(r.errors, 0);
    for (size_t i = 0; i < 5; i++)
        expect_frame(lens[i], (uint8_t)(i * 31));
    expect_nothing();
    /* An empty queue flushes to nothing. */
    assert_int_equal(ustk__frameq_flush(q, &r), 0);
    assert_int_equal(r.frames, 5);
}

static void test_full_queue(void **state)
{
    ustk__frameq *q = *state;
    ustk__frameq_result r = { 0, 0, 0, 0 };

    /* Round after round: the ring's entries come back with the slots. */
    for (int round = 0; round < 3; round++) {
        for (int i = 0; i < SLOTS; i++)
            push(q, 100, (uint8_t)(round * 16 + i));
        assert_null(ustk__frameq_slot(q));
        assert_int_equal(ustk__frameq_flush(q, &r), 0);
        assert_non_null(ustk__frameq_slot(q));
        for (int i = 0; i < SLOTS; i++)
            expect_frame(100, (uint8_t)(round * 16 + i));
    }
    assert_int_equal(r.frames, 3 * SLOTS);
    assert_int_equal(r.errors, 0);
}

static void test_refused_writes(void **state)
{
    ustk__frameq q;
    ustk__frameq_result r = { 0, 0, 0, 0 };
    int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);

    (void)state;
    assert_true(fd >= 0);
    assert_int_equal(ustk__frameq_init(&q, fd, 4, 64), 0);
    push(&q, 10, 1);
    push(&q, 20, 2);
    assert_int_equal(ustk__frameq_flush(&q, &r), 0);
    assert_int_equal(r.frames, 0);
    assert_int_equal(r.errors, 2);
    assert_int_equal(r.last_error, -EBADF);
    ustk__frameq_exit(&q);
    close(fd);
}

static void test_bad_sizes(void **state)
{
    ustk__frameq q;

    (void)state;
    assert_int_equal(ustk__frameq_init(&q, pair[0], 3, 64), -EINVAL);
    assert_int_equal(ustk__frameq_init(&q, pair[0], 0, 64), -EINVAL);
    assert_int_equal(ustk__frameq_init(&q, pair[0], 8192, 64), -EINVAL);
    assert_int_equal(ustk__frameq_init(&q, -1, 8, 64), -EINVAL);
    assert_int_equal(ustk__frameq_init(&q, pair[0], 8, 0), -EINVAL);
}

static int setup(void **state)
{
    static ustk__frameq q;

    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair) != 0)
        return -1;
    if (ustk__frameq_init(&q, pair[0], SLOTS, SLOT_SIZE) != 0)
        return -1;
    *state = &q;
    return 0;
}

static int teardown(void **state)
{
    ustk__frameq_exit(*state);
    close(pair[0]);
    close(pair[1]);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_flush_writes_in_order, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_full_queue, setup, teardown),
        cmocka_unit_test(test_refused_writes),
        cmocka_unit_test(test_bad_sizes),
    };
    ustk__uring r;
    int rc = ustk__uring_init(&r, 4);

    if (rc == -ENOSYS || rc == -EPERM || rc == -EACCES) {
        printf("SKIP: no io_uring here (%s)\n", strerror(-rc));
        return 77;
    }
    assert_int_equal(rc, 0);
    ustk__uring_exit(&r);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
