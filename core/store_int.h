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


/* For the store's files (the helpers of store_fleet.c): prepare sql (DS_EDB/DS_EBUSY/DS_ENOMEM with e
 * naming the database and `what`); run a statement binding ?1 = a, ?2 = b and, when it has a ?3, t
 * (NULL: SQL NULL), *changes (may be NULL) the rows changed; turn the connection's last error into e. */
#include <stdint.h>
#include "ds.h"
struct sqlite3_stmt;
int store_int_prepare(struct store *s, const char *sql, struct sqlite3_stmt **st, struct ds_err *e, const char *what);
int store_int_exec(struct store *s, const char *sql, int64_t a, int64_t b, const char *t, int64_t *changes,
		   struct ds_err *e, const char *what);
int store_int_fail(struct store *s, struct ds_err *e, const char *what);

#endif
