/* An intrusive binary min-heap of deadlines. Each connection embeds a node;
 * the node remembers its slot, so update and remove are O(log n) and nothing
 * ever scans all connections to find the next timer. The slot array is
 * allocated once, at the capacity the config allows. */
#ifndef USTK_UTIL_HEAP_H
#define USTK_UTIL_HEAP_H

#include <stdbool.h>
#include <stdint.h>

#define USTK_HEAP_NONE UINT32_MAX

typedef struct ustk_heap_node {
    uint64_t key;  /* deadline */
    uint32_t slot; /* USTK_HEAP_NONE when not in the heap */
} ustk_heap_node;

typedef struct ustk_heap {
    ustk_heap_node **v;
    uint32_t n, cap;
} ustk_heap;

/* v must have room for cap pointers. */
void ustk_heap_init(ustk_heap *h, ustk_heap_node **v, uint32_t cap);
static inline void ustk_heap_node_init(ustk_heap_node *n) { n->key = 0; n->slot = USTK_HEAP_NONE; }
static inline bool ustk_heap_contains(const ustk_heap_node *n) { return n->slot != USTK_HEAP_NONE; }
/* Insert the node with the key, or move it if it is already in. Returns
 * false only when the heap is full and the node was not in it. A node may be
 * in at most one heap at a time, and must be passed back to that heap. */
bool ustk_heap_set(ustk_heap *h, ustk_heap_node *n, uint64_t key);
/* Take the node out. A node that is not in the heap is left alone, so a
 * timer can be cancelled without checking whether it is armed. */
void ustk_heap_remove(ustk_heap *h, ustk_heap_node *n);
/* The node with the smallest key, or NULL when empty. Among equal keys any
 * one may be returned. */
static inline ustk_heap_node *ustk_heap_top(const ustk_heap *h) { return h->n ? h->v[0] : 0; }

#endif
