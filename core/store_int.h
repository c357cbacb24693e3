/* store_int.h - what the store's own files (core/store_*.c) share with store.c and nothing else may
 * use: the SQLite handle behind a struct store. Same thread rules as the store. */
#ifndef DS_STORE_INT_H
#define DS_STORE_INT_H

struct sqlite3;
struct store;

/* The open connection (owned by the store). */
struct sqlite3 *store_sqlite(struct store *s);
/* 1 when the store was opened read-write. */
int store_writable(const struct store *s);

#endif
