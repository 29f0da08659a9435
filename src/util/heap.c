/* A binary min-heap stored in an array of node pointers: the children of
 * slot i are 2i+1 and 2i+2. Every move of a node into a slot also updates
 * the node's own record of that slot, which is what lets re-keying and
 * removal start from the node instead of searching for it.
 *
 * Sifting moves a "hole" rather than swapping pairs: nodes on the path shift
 * by one level and the moving node is written once, at the end. */
#include "util/heap.h"

void ustk_heap_init(ustk_heap *h, ustk_heap_node **v, uint32_t cap)
{
    h->v = v;
    h->n = 0;
    h->cap = cap;
}

static void place(ustk_heap *h, ustk_heap_node *node, uint32_t slot)
{
    h->v[slot] = node;
    node->slot = slot;
}

/* Move node, whose key may be smaller than its parent's, up from slot. */
static void sift_up(ustk_heap *h, ustk_heap_node *node, uint32_t slot)
{
    while (slot > 0) {
        uint32_t parent = (slot - 1) / 2;

        if (h->v[parent]->key <= node->key)
            break;
        place(h, h->v[parent], slot);
        slot = parent;
    }
    place(h, node, slot);
}

/* Move node, whose key may be larger than its children's, down from slot. */
static void sift_down(ustk_heap *h, ustk_heap_node *node, uint32_t slot)
{
    for (;;) {
        /* 64-bit arithmetic: 2 * slot + 2 can exceed 32 bits near the top
         * of the capacity range. */
        uint64_t child = 2 * (uint64_t)slot + 1;

        if (child >= h->n)
            break;
        if (child + 1 < h->n && h->v[child + 1]->key < h->v[child]->key)
            child++;
        if (node->key <= h->v[child]->key)
            break;
        place(h, h->v[child], slot);
        slot = (uint32_t)child;
    }
    place(h, node, slot);
}

/* Put node, already holding its key, into slot, moving it whichever way the
 * heap order needs. At most one of the two sifts does anything. */
static void restore(ustk_heap *h, ustk_heap_node *node, uint32_t slot)
{
    if (slot > 0 && node->key < h->v[(slot - 1) / 2]->key)
        sift_up(h, node, slot);
    else
        sift_down(h, node, slot);
}

bool ustk_heap_set(ustk_heap *h, ustk_heap_node *n, uint64_t key)
{
    if (!ustk_heap_contains(n)) {
        if (h->n >= h->cap)
            return false;
        n->key = key;
        sift_up(h, n, h->n++);
        return true;
    }
    n->key = key;
    restore(h, n, n->slot);
    return true;
}

void ustk_heap_remove(ustk_heap *h, ustk_heap_node *n)
{
    uint32_t slot = n->slot;
    ustk_heap_node *last;

    if (!ustk_heap_contains(n))
        return;
    n->slot = USTK_HEAP_NONE;
    last = h->v[--h->n];
    if (last != n)
        restore(h, last, slot);
}
