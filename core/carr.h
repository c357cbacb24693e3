/* carr.h - the capped array: room for one more element in a growable array whose element count has a
 * hard ceiling, the array counterpart of buf.h. Arrays filled from outside (threads of a dump, objects of
 * a transcript, rows of a listing) grow by doubling up to their cap; going past it is DS_ETOOBIG, never an
 * unbounded realloc. It keeps no state of its own: the caller's struct holds the pointer, count and
 * capacity, and owns the memory (free() it). Not thread-safe: one owner at a time. */
#ifndef DS_CARR_H
#define DS_CARR_H

#include <stddef.h>

/* Makes room for element n (the (n+1)th) of the array whose pointer is at arrp (the address of a
 * `T *`, NULL when empty) with *cap elements of elsz bytes allocated, and at most max elements in all.
 * Grows by doubling from 8; the new room is zeroed. DS_OK with room (also when there already was),
 * DS_ETOOBIG when n >= max or the size overflows (nothing changes), DS_ENOMEM (nothing changes).
 * Usage: rc = carr_reserve(&t->threads, &t->cap, t->nthreads, sizeof(*t->threads), MAX); */
int carr_reserve(void *arrp, size_t *cap, size_t n, size_t elsz, size_t max);

#endif
