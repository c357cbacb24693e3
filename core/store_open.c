/* store_open.c - the store's connection: opening and migrating the database, transactions (the write
 * lock), the statement cache with binding and stepping that the other store files use (store_int.h),
 * and the names of the stored enumerations. It knows no table beyond what the migrations create. */
#include "store.h"
#include "plat.h"
#include "schema.h"
#include "store_int.h"
#include "text.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char sql_begin[] = "BEGIN IMMEDIATE";
static const char sql_begin_read[] = "BEGIN";
static const char sql_commit[] = "COMMIT";
static const char sql_rollback[] = "ROLLBACK";
static const char sql_savepoint[] = "SAVEPOINT store_sp";
static const char sql_release[] = "RELEASE store_sp";
static const char sql_rollback_to[] = "ROLLBACK TO store_sp";
static const char sql_user_version[] = "PRAGMA user_version";

const char *const store_state_names[STORE_STATE_COUNT] = {
	"discovered", "triaged", "analyzing", "done", "failed", "unsupported",
};
static const char *const status_names[STORE_AN_COUNT] = {
	"ok", "timeout", "engine_missing", "no_dac", "unsupported_host", "failed", "parse_error",
};
const char *const store_mail_kind_names[3] = { "digest", "alert", "test" };
const char *const store_mail_state_names[4] = { "queued", "sending", "sent", "failed" };

int store_name_parse(const char *const *names, int n, const char *name)
{
	int i;

	for (i = 0; name != NULL && i < n; i++)
		if (strcmp(names[i], name) == 0)
			return i;
	return -1;
}

const char *store_state_name(int state)
{
	return state >= 0 && state < STORE_STATE_COUNT ? store_state_names[state] : NULL;
}

int store_state_parse(const char *name)
{
	return store_name_parse(store_state_names, STORE_STATE_COUNT, name);
}

const char *store_analysis_status_name(int status)
{
	return status >= 0 && status < STORE_AN_COUNT ? status_names[status] : NULL;
}

int store_analysis_status_parse(const char *name)
{
	return store_name_parse(status_names, STORE_AN_COUNT, name);
}

const char *store_path(const struct store *s)
{
	return s->path;
}

struct sqlite3 *store_sqlite(struct store *s)
{
	return s->db;
}

int store_writable(const struct store *s)
{
	return s->rw;
}

int store_schema_version(const struct store *s)
{
	return s->version;
}

/* ---- errors, statements, binding ---- */

int store_fail(struct store *s, struct ds_err *e, int rc, const char *what)
{
	const char *msg = sqlite3_errstr(rc);

	if (s->db != NULL && sqlite3_extended_errcode(s->db) == rc)
		msg = sqlite3_errmsg(s->db);
	switch (rc & 0xff) {
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		return ds_err_setn(e, DS_EBUSY,
				   "database %s is locked by another connection (waited %d ms) while %s: "
				   "try again, or raise the busy timeout",
				   s->path, s->busy_ms, what);
	case SQLITE_NOMEM: return ds_err_setn(e, DS_ENOMEM, "out of memory while %s (database %s)", what, s->path);
	case SQLITE_TOOBIG:
		return ds_err_setn(e, DS_ETOOBIG, "a value is too large for database %s while %s", s->path, what);
	case SQLITE_CORRUPT:
	case SQLITE_NOTADB:
		return ds_err_setn(e, DS_ECORRUPT, "database %s is damaged or not a dumpscout database (%s) while %s",
				   s->path, msg, what);
	case SQLITE_READONLY:
	case SQLITE_PERM:
	case SQLITE_AUTH:
		return ds_err_setn(e, DS_EPERM, "cannot write database %s (%s) while %s", s->path, msg, what);
	case SQLITE_CANTOPEN:
		return ds_err_setn(e, DS_EIO, "cannot open database %s (%s)", s->path, msg);
	case SQLITE_IOERR:
	case SQLITE_FULL:
		return ds_err_setn(e, DS_EIO, "input/output error on database %s (%s) while %s", s->path, msg, what);
	case SQLITE_CONSTRAINT:
		return ds_err_setn(e, DS_EINVAL, "database %s refused a value while %s: %s", s->path, what, msg);
	default: return ds_err_setn(e, DS_EDB, "database %s: %s while %s", s->path, msg, what);
	}
}

int store_stmt_keyed(struct store *s, const void *key, const char *sql, sqlite3_stmt **out, struct ds_err *e)
{
	size_t i = ((uintptr_t)key >> 3) % STORE_STMT_SLOTS, n;
	int rc = DS_OK, src;

	*out = NULL;
	for (n = 0; n < STORE_STMT_SLOTS && s->stmt_key[i] != NULL && s->stmt_key[i] != key; n++)
		i = (i + 1) % STORE_STMT_SLOTS;
	if (n == STORE_STMT_SLOTS) {
		rc = ds_err_setn(e, DS_EDB, "database %s: the statement cache is full", s->path);
		goto out;
	}
	if (s->stmt_key[i] == NULL) {
		src = sqlite3_prepare_v3(s->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &s->stmt[i], NULL);
		if (src != SQLITE_OK) {
			s->stmt[i] = NULL;
			rc = store_fail(s, e, src, "preparing a query");
			goto out;
		}
		s->stmt_key[i] = key;
	}
	sqlite3_reset(s->stmt[i]);
	sqlite3_clear_bindings(s->stmt[i]);
	s->bind_rc = SQLITE_OK;
	*out = s->stmt[i];
out:
	return rc;
}

int store_stmt(struct store *s, const char *sql, sqlite3_stmt **out, struct ds_err *e)
{
	return store_stmt_keyed(s, sql, sql, out, e);
}

void store_release(struct store *s)
{
	sqlite3_stmt *p;

	for (p = sqlite3_next_stmt(s->db, NULL); p != NULL; p = sqlite3_next_stmt(s->db, p))
		if (sqlite3_stmt_busy(p))
			sqlite3_reset(p);
}

static void store_bind_rc(struct store *s, int rc)
{
	if (rc != SQLITE_OK && s->bind_rc == SQLITE_OK)
		s->bind_rc = rc;
}

void store_bi(struct store *s, sqlite3_stmt *st, int i, int64_t v)
{
	store_bind_rc(s, sqlite3_bind_int64(st, i, v));
}

void store_bnull(struct store *s, sqlite3_stmt *st, int i)
{
	store_bind_rc(s, sqlite3_bind_null(st, i));
}

void store_bt(struct store *s, sqlite3_stmt *st, int i, const char *v)
{
	size_t n;

	if (v == NULL) {
		store_bnull(s, st, i);
		return;
	}
	n = strlen(v);
	if (n > STORE_MAX_TEXT)
		store_bind_rc(s, SQLITE_TOOBIG);
	else
		store_bind_rc(s, sqlite3_bind_text(st, i, v, (int)n, SQLITE_STATIC));
}

void store_berr(struct store *s, sqlite3_stmt *st, int i, const char *v)
{
	char *clean;
	size_t n;

	if (v == NULL) {
		store_bnull(s, st, i);
		return;
	}
	n = strlen(v);
	if (n > STORE_MAX_ERROR) {
		n = STORE_MAX_ERROR;
		while (n > 0 && ((unsigned char)v[n] & 0xC0) == 0x80)
			n--;
	}
	/* An error may quote what a dump or a program wrote: stored (and published to the fleet) without
	 * terminal controls, bidi controls or invalid UTF-8 (core/text.h); line breaks and tabs stay. */
	clean = text_clean_dupn(v, n, TEXT_KEEP_NL | TEXT_KEEP_TAB);
	if (clean == NULL)
		store_bind_rc(s, SQLITE_NOMEM);
	else
		store_bind_rc(s, sqlite3_bind_text(st, i, clean, -1, SQLITE_TRANSIENT));
	free(clean);
}

void store_baddr(struct store *s, sqlite3_stmt *st, int i, int has, uint64_t v)
{
	char tmp[24];

	if (!has) {
		store_bnull(s, st, i);
		return;
	}
	snprintf(tmp, sizeof(tmp), "0x%" PRIx64, v);
	store_bind_rc(s, sqlite3_bind_text(st, i, tmp, -1, SQLITE_TRANSIENT));
}

void store_bindv(struct store *s, sqlite3_stmt *st, const char *types, va_list ap)
{
	int64_t v;
	int i;

	/* one type a parameter: a miscounted list is a programming error, reported at the step */
	if (strlen(types) != (size_t)sqlite3_bind_parameter_count(st))
		store_bind_rc(s, SQLITE_RANGE);
	for (i = 1; types[i - 1] != '\0'; i++) {
		switch (types[i - 1]) {
		case 'i': store_bi(s, st, i, va_arg(ap, int64_t)); break;
		case 'n':
			v = va_arg(ap, int64_t);
			if (v != 0)
				store_bi(s, st, i, v);
			break;
		case 't': store_bt(s, st, i, va_arg(ap, const char *)); break;
		case 'e': store_berr(s, st, i, va_arg(ap, const char *)); break;
		case '-': break;
		default: store_bind_rc(s, SQLITE_MISUSE); break;
		}
	}
}

int store_step(struct store *s, sqlite3_stmt *st, struct ds_err *e, const char *what)
{
	int rc;

	if (s->bind_rc != SQLITE_OK)
		return store_fail(s, e, s->bind_rc, what);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		return 1;
	if (rc == SQLITE_DONE)
		return 0;
	return store_fail(s, e, rc, what);
}

int store_run(struct store *s, sqlite3_stmt *st, struct ds_err *e, const char *what)
{
	int rc;

	do
		rc = store_step(s, st, e, what);
	while (rc == 1);
	sqlite3_reset(st);
	return rc;
}

int store_exec(struct store *s, const char *sql, struct ds_err *e, const char *what)
{
	sqlite3_stmt *st = NULL;
	int rc = store_stmt(s, sql, &st, e);

	if (rc == DS_OK)
		rc = store_run(s, st, e, what);
	return rc;
}

int store_row(struct store *s, const char *sql, sqlite3_stmt **st, struct ds_err *e, const char *what,
	      const char *types, ...)
{
	va_list ap;
	int rc = store_stmt(s, sql, st, e);

	if (rc == DS_OK) {
		va_start(ap, types);
		store_bindv(s, *st, types, ap);
		va_end(ap);
		rc = store_step(s, *st, e, what);
	}
	return rc;
}

static int store_dov(struct store *s, const char *sql, int64_t *changes, struct ds_err *e, const char *what,
		     const char *types, va_list ap)
{
	sqlite3_stmt *st = NULL;
	int rc = store_stmt(s, sql, &st, e);

	if (rc != DS_OK)
		goto out;
	store_bindv(s, st, types, ap);
	rc = store_run(s, st, e, what);
	if (rc == DS_OK && changes != NULL)
		*changes = sqlite3_changes64(s->db);
out:
	return rc;
}

int store_do(struct store *s, const char *sql, int64_t *changes, struct ds_err *e, const char *what,
	     const char *types, ...)
{
	va_list ap;
	int rc;

	va_start(ap, types);
	rc = store_dov(s, sql, changes, e, what, types, ap);
	va_end(ap);
	return rc;
}

int store_write(struct store *s, const char *sql, int64_t *changes, struct ds_err *e, const char *what,
		const char *types, ...)
{
	va_list ap;
	int rc = store_tx_begin(s, e);

	if (rc != DS_OK)
		goto out;
	va_start(ap, types);
	rc = store_dov(s, sql, changes, e, what, types, ap);
	va_end(ap);
	rc = store_tx_end(s, rc, e);
out:
	store_release(s);
	return rc;
}

int64_t store_col_i64(sqlite3_stmt *st, int i)
{
	return sqlite3_column_int64(st, i);
}

char *store_col_dup(sqlite3_stmt *st, int i)
{
	const unsigned char *t = sqlite3_column_text(st, i);
	size_t n = (size_t)sqlite3_column_bytes(st, i);
	char *p = malloc(n + 1);

	if (p != NULL) {
		if (t != NULL)
			memcpy(p, t, n);
		p[t != NULL ? n : 0] = '\0';
	}
	return p;
}

char *store_col_dup_null(sqlite3_stmt *st, int i, int *oom)
{
	char *p;

	if (sqlite3_column_type(st, i) == SQLITE_NULL)
		return NULL;
	p = store_col_dup(st, i);
	if (p == NULL)
		*oom = 1;
	return p;
}

void store_col_copy(sqlite3_stmt *st, int i, char *buf, size_t size)
{
	buf[0] = '\0';
	if (sqlite3_column_type(st, i) == SQLITE_TEXT)
		snprintf(buf, size, "%s", (const char *)sqlite3_column_text(st, i));
}

int store_check_sha256(const char *h)
{
	size_t i;

	if (h == NULL || strlen(h) != 64)
		return 0;
	for (i = 0; i < 64; i++)
		if (!((h[i] >= '0' && h[i] <= '9') || (h[i] >= 'a' && h[i] <= 'f')))
			return 0;
	return 1;
}

const char *store_basename(const char *p)
{
	const char *b = p;

	for (; p != NULL && *p != '\0'; p++)
		if (*p == '/' || *p == '\\')
			b = p + 1;
	return b;
}

/* ---- transactions ---- */

int store_tx_begin(struct store *s, struct ds_err *e)
{
	int rc;

	if (!s->rw) {
		rc = ds_err_setn(e, DS_EINVAL, "database %s was opened read-only", s->path);
		goto out;
	}
	rc = store_exec(s, s->tx_depth == 0 ? sql_begin : sql_savepoint, e, "starting a transaction");
	if (rc == DS_OK)
		s->tx_depth++;
out:
	return rc;
}

int store_tx_commit(struct store *s, struct ds_err *e)
{
	int rc;

	if (s->tx_depth <= 0) {
		rc = ds_err_setn(e, DS_EINVAL, "database %s: commit without a transaction", s->path);
		goto out;
	}
	store_release(s);
	rc = store_exec(s, s->tx_depth == 1 ? sql_commit : sql_release, e, "committing");
	if (rc != DS_OK) {
		store_tx_rollback(s);
		goto out;
	}
	s->tx_depth--;
out:
	return rc;
}

void store_tx_rollback(struct store *s)
{
	if (s->tx_depth <= 0)
		return;
	store_release(s);
	if (sqlite3_get_autocommit(s->db)) {
		/* SQLite already rolled the whole transaction back (e.g. after an I/O error). */
		s->tx_depth = 0;
		return;
	}
	if (s->tx_depth == 1) {
		store_exec(s, sql_rollback, NULL, "rolling back");
	} else {
		store_exec(s, sql_rollback_to, NULL, "rolling back");
		store_exec(s, sql_release, NULL, "rolling back");
	}
	s->tx_depth--;
}

int store_tx_end(struct store *s, int rc, struct ds_err *e)
{
	if (rc == DS_OK)
		return store_tx_commit(s, e);
	store_tx_rollback(s);
	return rc;
}

int store_read_begin(struct store *s, int *began, struct ds_err *e)
{
	int rc = DS_OK;

	*began = 0;
	if (s->tx_depth == 0 && sqlite3_get_autocommit(s->db)) {
		rc = store_exec(s, sql_begin_read, e, "starting a read");
		*began = rc == DS_OK;
	}
	return rc;
}

void store_read_end(struct store *s, int began)
{
	if (began) {
		store_release(s);
		store_exec(s, sql_commit, NULL, "ending a read");
	}
}

/* ---- open, migrate, close ---- */

static int store_user_version(struct store *s, int *v, struct ds_err *e)
{
	sqlite3_stmt *st = NULL;
	int rc = store_row(s, sql_user_version, &st, e, "reading the schema version", "");

	if (rc == 1) {
		*v = sqlite3_column_int(st, 0);
		rc = DS_OK;
	} else if (rc == 0) {
		rc = ds_err_setn(e, DS_EDB, "database %s: no schema version", s->path);
	}
	if (st != NULL)
		sqlite3_reset(st);
	return rc;
}

/* Runs a fixed SQL text (pragmas and the embedded migrations: no values from outside). */
static int store_exec_text(struct store *s, const char *sql, struct ds_err *e, const char *what)
{
	char *msg = NULL;
	int rc = sqlite3_exec(s->db, sql, NULL, NULL, &msg);

	if (rc != SQLITE_OK) {
		int code = store_fail(s, e, rc, what);
		if (e != NULL && msg != NULL && (code == DS_EDB || code == DS_EINVAL))
			ds_err_setn(e, code, "database %s: %s while %s", s->path, msg, what);
		rc = code;
	}
	sqlite3_free(msg);
	return rc;
}

static int store_migrate(struct store *s, struct ds_err *e)
{
	char what[160], pragma[48];
	size_t i;
	int rc = DS_OK, v;

	for (i = (size_t)s->version; i < schema_migration_count; i++) {
		snprintf(what, sizeof(what), "applying migration %s", schema_migrations[i].name);
		rc = store_tx_begin(s, e);
		if (rc != DS_OK)
			goto out;
		/* Another process may have migrated while we waited for the lock. */
		rc = store_user_version(s, &v, e);
		if (rc == DS_OK && v <= (int)i) {
			rc = store_exec_text(s, schema_migrations[i].sql, e, what);
			if (rc == DS_OK) {
				snprintf(pragma, sizeof(pragma), "PRAGMA user_version = %d", schema_migrations[i].version);
				rc = store_exec_text(s, pragma, e, what);
			}
		}
		if (rc != DS_OK) {
			store_tx_rollback(s);
			goto out;
		}
		rc = store_tx_commit(s, e);
		if (rc != DS_OK)
			goto out;
	}
	rc = store_user_version(s, &s->version, e);
out:
	return rc;
}

/* Parent folder of path ("" when it has none); malloc'd. */
static char *store_dirname(const char *path)
{
	const char *b = store_basename(path);
	size_t n = (size_t)(b - path);
	char *d = malloc(n + 1);

	if (d != NULL) {
		memcpy(d, path, n);
		d[n] = '\0';
		while (n > 1 && (d[n - 1] == '/' || d[n - 1] == '\\'))
			d[--n] = '\0';
	}
	return d;
}
int store_open(const char *path, int flags, struct store **out, struct ds_err *e)
{
	return store_open_ex(path, flags, STORE_DEFAULT_BUSY_MS, out, e);
}

int store_open_ex(const char *path, int flags, int busy_timeout_ms, struct store **out, struct ds_err *e)
{
	struct store *s = NULL;
	struct plat_stat pst;
	char *dir = NULL;
	int rc, src, oflags, newest = (int)schema_migration_count;

	*out = NULL;
	if (path == NULL || path[0] == '\0') {
		rc = ds_err_setn(e, DS_EINVAL, "no database path given");
		goto out;
	}
	s = calloc(1, sizeof(*s));
	if (s == NULL || (s->path = strdup(path)) == NULL) {
		rc = ds_err_setn(e, DS_ENOMEM, "out of memory opening database %s", path);
		goto out;
	}
	s->rw = (flags & STORE_READWRITE) != 0;
	s->busy_ms = busy_timeout_ms > 0 ? busy_timeout_ms : STORE_DEFAULT_BUSY_MS;
	if (!s->rw) {
		rc = plat_lstat(path, &pst);
		if (rc == DS_ENOENT) {
			rc = ds_err_setn(e, DS_ENOENT, "no database at %s", path);
			goto out;
		}
		if (rc != DS_OK) {
			rc = ds_err_setn(e, rc, "cannot read database %s: %s", path, ds_strerror(rc));
			goto out;
		}
		oflags = SQLITE_OPEN_READONLY;
	} else {
		dir = store_dirname(path);
		if (dir == NULL) {
			rc = ds_err_setn(e, DS_ENOMEM, "out of memory opening database %s", path);
			goto out;
		}
		if (dir[0] != '\0') {
			rc = plat_mkdirs(dir, 0750);
			if (rc != DS_OK) {
				rc = ds_err_setn(e, rc, "cannot create the folder %s for the database: %s", dir,
						 ds_strerror(rc));
				goto out;
			}
		}
		oflags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;
	}
	src = sqlite3_open_v2(path, &s->db, oflags | SQLITE_OPEN_NOMUTEX, NULL);
	if (src != SQLITE_OK) {
		rc = store_fail(s, e, src, "opening");
		goto out;
	}
	sqlite3_extended_result_codes(s->db, 1);
	sqlite3_busy_timeout(s->db, s->busy_ms);
	rc = store_exec_text(s, "PRAGMA foreign_keys = ON", e, "setting up the connection");
	if (rc == DS_OK && s->rw)
		rc = store_exec_text(s, "PRAGMA journal_mode = WAL", e, "switching to WAL mode");
	if (rc == DS_OK && s->rw)
		rc = store_exec_text(s, "PRAGMA synchronous = NORMAL", e, "setting up the connection");
	if (rc == DS_OK)
		rc = store_user_version(s, &s->version, e);
	if (rc != DS_OK)
		goto out;
	if (s->version > newest) {
		rc = ds_err_setn(e, DS_ESCHEMA,
				 "database at %s is schema version %d, this dumpscout knows up to %d: upgrade dumpscout",
				 path, s->version, newest);
		goto out;
	}
	if (s->version < newest) {
		if (!s->rw) {
			rc = ds_err_setn(e, DS_ESCHEMA,
					 "database at %s is schema version %d, this dumpscout needs %d: start the "
					 "service (dumpscoutd) of this version once to upgrade it",
					 path, s->version, newest);
			goto out;
		}
		rc = store_migrate(s, e);
		if (rc != DS_OK)
			goto out;
	}
	*out = s;
	s = NULL;
out:
	free(dir);
	store_close(s);
	return rc;
}

void store_close(struct store *s)
{
	sqlite3_stmt *p;

	if (s == NULL)
		return;
	if (s->db != NULL) {
		while (s->tx_depth > 0)
			store_tx_rollback(s);
		while ((p = sqlite3_next_stmt(s->db, NULL)) != NULL)
			sqlite3_finalize(p);
		sqlite3_close(s->db);
	}
	free(s->path);
	free(s);
}
