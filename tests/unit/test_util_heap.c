/* The intrusive min-heap (src/util/heap.c) under long random sequences of
 * inserts, re-keys and removals, checked after every operation: each node's
 * slot matches where it sits, every parent's key is at most its children's,
 * membership and keys match a plain model, and the top has the smallest key.
 * Draining the heap must yield the model's keys in sorted order. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "util/heap.h"

#define NODES 300

typedef struct fixture {
    ustk_heap h;
    ustk_heap_node *slots[NODES];
    ustk_heap_node nodes[NODES];
    /* The model: which nodes are in, and with which key. */
    int in[NODES];
    uint64_t key[NODES];
    uint32_t count;
} fixture;

static uint64_t test_rand_state;

/* splitmix64, local to the test so the heap test does not depend on the
 * library's own generator. */
static uint64_t test_rand(void)
{
    uint64_t z = (test_rand_state += 0x9e3779b97f4a7c15u);

    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
    return z ^ (z >> 31);
}

static uint32_t rand_below(uint32_t n)
{
    return (uint32_t)(test_rand() % n);
}

static void fixture_init(fixture *f, uint32_t cap)
{
    assert_true(cap <= NODES);
    memset(f, 0, sizeof(*f));
    ustk_heap_init(&f->h, f->slots, cap);
    for (int i = 0; i < NODES; i++)
        ustk_heap_node_init(&f->nodes[i]);
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

    return (x > y) - (x < y);
}

static void check(const fixture *f)
{
    const ustk_heap *h = &f->h;
    uint64_t min = UINT64_MAX;

    assert_int_equal(h->n, f->count);
    assert_true(h->n <= h->cap);
    for (uint32_t i = 0; i < h->n; i++) {
        const ustk_heap_node *node = h->v[i];
        ptrdiff_t idx = node - f->nodes;

        assert_true(idx >= 0 && idx < NODES);
        assert_int_equal(node->slot, i);
        assert_true(f->in[idx]);
        assert_true(node->key == f->key[idx]);
        if (i > 0)
            assert_true(h->v[(i - 1) / 2]->key <= node->key);
    }
    for (int i = 0; i < NODES; i++) {
        assert_int_equal(ustk_heap_contains(&f->nodes[i]), f->in[i] != 0);
        if (f->in[i] && f->key[i] < min)
            min = f->key[i];
    }
    if (f->count == 0)
        assert_null(ustk_heap_top(h));
    else
        assert_true(ustk_heap_top(h)->key == min);
}

static void op_set(fixture *f, int i, uint64_t key)
{
    bool full = f->count == f->h.cap;
    bool ok = ustk_heap_set(&f->h, &f->nodes[i], key);

    if (!f->in[i] && full) {
        /* A full heap refuses a new node and leaves it out. */
        assert_false(ok);
        assert_false(ustk_heap_contains(&f->nodes[i]));
        return;
    }
    assert_true(ok);
    if (!f->in[i])
        f->count++;
    f->in[i] = 1;
    f->key[i] = key;
}

static void op_remove(fixture *f, int i)
{
    ustk_heap_remove(&f->h, &f->nodes[i]);
    assert_false(ustk_heap_contains(&f->nodes[i]));
    if (f->in[i])
        f->count--;
    f->in[i] = 0;
}

/* Pop everything via top() and remove(), comparing with the sorted model. */
static void drain_and_compare(fixture *f)
{
    uint64_t want[NODES];
    uint32_t n = 0;

    for (int i = 0; i < NODES; i++)
        if (f->in[i])
            want[n++] = f->key[i];
    qsort(want, n, sizeof(want[0]), cmp_u64);
    for (uint32_t k = 0; k < n; k++) {
        ustk_heap_node *top = ustk_heap_top(&f->h);

        assert_non_null(top);
        assert_true(top->key == want[k]);
        op_remove(f, (int)(top - f->nodes));
        check(f);
    }
    assert_null(ustk_heap_top(&f->h));
}

static void test_empty(void **state)
{
    fixture f;

    (void)state;
    fixture_init(&f, 4);
    check(&f);
    /* Removing a node that was never inserted changes nothing. */
    op_remove(&f, 0);
    check(&f);
}

static void test_small_sequence(void **state)
{
    fixture f;

    (void)state;
    fixture_init(&f, 8);
    op_set(&f, 0, 50);
    op_set(&f, 1, 20);
    op_set(&f, 2, 30);
    check(&f);
    assert_ptr_equal(ustk_heap_top(&f.h), &f.nodes[1]);
    op_set(&f, 0, 10); /* re-key down: moves to the top */
    check(&f);
    assert_ptr_equal(ustk_heap_top(&f.h), &f.nodes[0]);
    op_set(&f, 0, 99); /* re-key up: sinks */
    check(&f);
    assert_ptr_equal(ustk_heap_top(&f.h), &f.nodes[1]);
    op_remove(&f, 1); /* remove the top */
    check(&f);
    assert_ptr_equal(ustk_heap_top(&f.h), &f.nodes[2]);
    op_set(&f, 2, 30); /* re-key to the same value */
    check(&f);
    drain_and_compare(&f);
}

/* Capacity is a hard limit: the (cap + 1)th node is refused, re-keying a
 * member of a full heap still works, and after a removal there is room. */
static void test_full(void **state)
{
    fixture f;

    (void)state;
    fixture_init(&f, 3);
    op_set(&f, 0, 5);
    op_set(&f, 1, 6);
    op_set(&f, 2, 7);
    op_set(&f, 3, 1);
    check(&f);
    op_set(&f, 2, 0);
    check(&f);
    assert_ptr_equal(ustk_heap_top(&f.h), &f.nodes[2]);
    op_remove(&f, 0);
    op_set(&f, 3, 1);
    check(&f);
    drain_and_compare(&f);

    /* A zero-capacity heap refuses everything. */
    fixture_init(&f, 0);
    op_set(&f, 0, 1);
    check(&f);
}

/* Keys cover the extremes of the range and collide often, because timer
 * deadlines do both. */
static uint64_t random_key(void)
{
    switch (rand_below(4)) {
    case 0:
        return rand_below(8);
    case 1:
        return UINT64_MAX - rand_below(3);
    default:
        return test_rand();
    }
}

static void run_random(uint32_t cap, uint64_t seed, int steps)
{
    fixture f;

    fixture_init(&f, cap);
    test_rand_state = seed;
    for (int step = 0; step < steps; step++) {
        int i = (int)rand_below(NODES);
        uint32_t r = rand_below(10);

        if (r < 6)
            op_set(&f, i, random_key());
        else if (r < 9)
            op_remove(&f, i);
        else if (f.count > 0)
            op_remove(&f, (int)(ustk_heap_top(&f.h) - f.nodes));
        check(&f);
        if (step % 5000 == 4999)
            drain_and_compare(&f);
    }
    drain_and_compare(&f);
}

static void test_random_against_model(void **state)
{
    (void)state;
    run_random(NODES, 1, 40000);
    run_random(NODES / 2, 2, 40000); /* often full */
    run_random(1, 3, 5000);
    run_random(2, 4, 5000);
    run_random(17, 5, 20000);
}

/* Insert in ascending, descending and equal order, the shapes that walk the
 * longest sift paths or none at all. */
static void test_ordered_inserts(void **state)
{
    fixture f;

    (void)state;
    fixture_init(&f, NODES);
    for (int i = 0; i < NODES; i++) {
        op_set(&f, i, (uint64_t)i);
        check(&f);
    }
    drain_and_compare(&f);
    for (int i = 0; i < NODES; i++) {
        op_set(&f, i, (uint64_t)(NODES - i));
        check(&f);
    }
    drain_and_compare(&f);
    for (int i = 0; i < NODES; i++)
        op_set(&f, i, 42);
    check(&f);
    /* Remove from the middle of a heap of ties. */
    for (int i = NODES / 3; i < NODES; i += 2) {
        op_remove(&f, i);
        check(&f);
    }
    drain_and_compare(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_empty),
        cmocka_unit_test(test_small_sequence),
        cmocka_unit_test(test_full),
        cmocka_unit_test(test_random_against_model),
        cmocka_unit_test(test_ordered_inserts),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
