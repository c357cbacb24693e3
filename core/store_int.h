/* store_int.h - what the store's own files (core/store_*.c) share and nothing else may use: the inside
 * of a struct store, the statement cache, binding, stepping and the one-statement transaction. The
 * public API is store.h; this header is private to core/store*.c (the only files that include
 * sqlite3.h). Same thread rules as the store: a struct store is used by one thread at a time.
 *
 * Statements: every SQL text the store runs is a `static const char` array in the file that uses it;
 * its address is the key of the store's statement cache, so each is prepared once per connection
 * (SQLITE_PREPARE_PERSISTENT) and handed out reset and unbound. Values are always bound, never
 * printed into SQL. Every public function ends with store_release (no read transaction stays open
 * between calls). */
#ifndef DS_STORE_INT_H
#define DS_STORE_INT_H

#include <sqlite3.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include "ds.h"
#include "store.h"

struct store;

/* Slots of the statement cache (open addressing on the SQL text's address; the store has about a
 * hundred fixed statements plus the dump listing's shapes, see store_query.c). */
#define STORE_STMT_SLOTS 1024

/* States that still wait for work (retention never deletes these). */
#define STORE_PENDING_STATES "('discovered', 'triaged', 'analyzing')"

struct store {
	sqlite3 *db;
	char *path;
	int rw;
	int busy_ms;
	int version;
	int tx_depth;
	int bind_rc;                            /* first bind error since the statement was taken */
	const void *stmt_key[STORE_STMT_SLOTS]; /* the statement cache: key (SQL text address) */
	sqlite3_stmt *stmt[STORE_STMT_SLOTS];   /* and its prepared statement (owned, finalised by close) */
};

/* Names as stored in the database, indexed by the enums of store.h. */
extern const char *const store_state_names[STORE_STATE_COUNT];
extern const char *const store_mail_kind_names[3];
extern const char *const store_mail_state_names[4];
/* Index of name in names[0..n), -1 when absent or NULL. */
int store_name_parse(const char *const *names, int n, const char *name);

/* The open connection (owned by the store). */
struct sqlite3 *store_sqlite(struct store *s);
/* 1 when the store was opened read-write. */
int store_writable(const struct store *s);

/* Turns a SQLite result code into a DS_E code with a message naming the database and `what`. */
int store_fail(struct store *s, struct ds_err *e, int rc, const char *what);

/* The cached statement for sql (a static text: its address is the key), reset and unbound. */
int store_stmt(struct store *s, const char *sql, sqlite3_stmt **out, struct ds_err *e);
/* Same with a key of the caller's (a static object's address) for SQL text built at run time; sql is
 * read only when the statement is not cached yet. */
int store_stmt_keyed(struct store *s, const void *key, const char *sql, sqlite3_stmt **out, struct ds_err *e);
/* Resets every statement still running. Called at the end of every public function. */
void store_release(struct store *s);

/* Binding: a failure is kept and reported by the next store_step. */
void store_bi(struct store *s, sqlite3_stmt *st, int i, int64_t v);
void store_bnull(struct store *s, sqlite3_stmt *st, int i);
/* Text (NULL binds NULL); longer than STORE_MAX_TEXT is DS_ETOOBIG. Borrowed until the step. */
void store_bt(struct store *s, sqlite3_stmt *st, int i, const char *v);
/* An error message, cut to STORE_MAX_ERROR bytes at a UTF-8 boundary and cleaned (text_clean_dupn with
 * TEXT_KEEP_NL | TEXT_KEEP_TAB: controls, bidi controls, invalid UTF-8 replaced) (copied). */
void store_berr(struct store *s, sqlite3_stmt *st, int i, const char *v);
/* An address as "0x..." text, NULL when !has. */
void store_baddr(struct store *s, sqlite3_stmt *st, int i, int has, uint64_t v);
/* Binds the values that follow from ?1 on, one character of types a parameter:
 *   'i' int64_t, 'n' int64_t bound as NULL when 0, 't' text (const char *, NULL binds NULL),
 *   'e' an error message (const char *, as store_berr), '-' leaves the parameter NULL (no value).
 * Integers must be passed as int64_t (cast literals). */
void store_bindv(struct store *s, sqlite3_stmt *st, const char *types, va_list ap);

/* Steps st: 1 with a row, 0 when done, a DS_E code on error (bind errors included). */
int store_step(struct store *s, sqlite3_stmt *st, struct ds_err *e, const char *what);
/* Steps st to its end and resets it. */
int store_run(struct store *s, sqlite3_stmt *st, struct ds_err *e, const char *what);
/* Runs cached statement sql without parameters. */
int store_exec(struct store *s, const char *sql, struct ds_err *e, const char *what);
/* Takes cached statement sql, binds the values (store_bindv) and steps once: 1 with *st on the row
 * (the caller reads it and resets *st or lets store_release do it), 0 no row, a DS_E code. */
int store_row(struct store *s, const char *sql, sqlite3_stmt **st, struct ds_err *e, const char *what,
	      const char *types, ...);
/* Runs cached statement sql with the values bound (store_bindv) to its end, inside whatever
 * transaction is open; *changes (may be NULL) gets the rows it changed. */
int store_do(struct store *s, const char *sql, int64_t *changes, struct ds_err *e, const char *what,
	     const char *types, ...);
/* One statement in its own transaction (a savepoint inside the caller's): begin, take, bind, run,
 * commit (rollback on any error), store_release. *changes (may be NULL) gets the rows it changed.
 * DS_EINVAL on a read-only store. */
int store_write(struct store *s, const char *sql, int64_t *changes, struct ds_err *e, const char *what,
		const char *types, ...);

/* Ends the transaction store_tx_begin opened: commits when rc is DS_OK, else rolls back; returns
 * the outcome (rc, or the commit's error). */
int store_tx_end(struct store *s, int rc, struct ds_err *e);

/* A consistent snapshot for multi-query reads; a no-op inside a caller's transaction. */
int store_read_begin(struct store *s, int *began, struct ds_err *e);
void store_read_end(struct store *s, int began);

/* Columns of the current row. */
int64_t store_col_i64(sqlite3_stmt *st, int i);
/* malloc'd copy of a text column, "" for NULL; NULL only when out of memory. */
char *store_col_dup(sqlite3_stmt *st, int i);
/* Like store_col_dup but NULL stays NULL; *oom is set on allocation failure. */
char *store_col_dup_null(sqlite3_stmt *st, int i, int *oom);
/* Copies a text column into buf (cut to size), "" when it is not text. */
void store_col_copy(sqlite3_stmt *st, int i, char *buf, size_t size);

/* The counts of dumps per state ("SELECT state, COUNT(*)"), shared with store_status_get. */
extern const char store_queue_sql_counts[];
/* Reads the single integer of a one-row MIN() query with ?1 bound to arg (NULL: no parameter), then
 * store_release; DS_ENOENT when it is NULL. */
int store_queue_min(struct store *s, const char *sql, const char *arg, int64_t *at, struct ds_err *e);

/* 1 when h is 64 lowercase hex digits. */
int store_check_sha256(const char *h);
/* The part of p after its last '/' or '\\'. */
const char *store_basename(const char *p);

#endif
