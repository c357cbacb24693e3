/* store_query.c - the CLI's read queries over the store: dump listings and the whole record of one
 * dump, buckets with their applications, root signatures, the report's counts and `status` (see
 * store.h). Results are cJSON objects named by the SQL columns, owned by the caller; the service reads
 * its states through the typed functions of store_queue.c instead. Nothing here writes. */
#include "store.h"
#include "plat.h"
#include "store_int.h"

#include <cjson/cJSON.h>

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define BUCKET_COLS "b.id, b.kind, b.key, b.title, b.first_seen, b.last_seen, b.count"
#define APP_COUNT "(SELECT COUNT(*) FROM bucket_apps ba WHERE ba.bucket_id = b.id) AS app_count"
/* The page of buckets is chosen first (the inner query, on the buckets table alone); the range counts
 * are then counted for those rows only, each a range of the dump_buckets_bucket index. */
#define BUCKETS_LIST(order)                                                                               \
	"SELECT " BUCKET_COLS ", " APP_COUNT ", "                                                           \
	"CASE WHEN ?2 <= 0 THEN b.count ELSE (SELECT COUNT(*) FROM dump_buckets x WHERE x.bucket_id = b.id " \
	"AND x.seen_at >= ?2) END AS count_since, "                                                         \
	"CASE WHEN ?2 <= 0 OR ?4 <= 0 THEN NULL ELSE (SELECT COUNT(*) FROM dump_buckets x "                \
	"WHERE x.bucket_id = b.id AND x.seen_at >= ?4 AND x.seen_at < ?2) END AS count_before "            \
	"FROM (SELECT * FROM buckets b WHERE (?1 IS NULL OR b.kind = ?1) ORDER BY " order ", b.id LIMIT ?3) b " \
	"ORDER BY " order ", b.id"
#define RANGE "discovered_at >= ?1 AND discovered_at < ?2"

static const char sql_dump[] = "SELECT * FROM dumps WHERE id = ?1";
static const char sql_dump_buckets[] = "SELECT " BUCKET_COLS " FROM dump_buckets db JOIN buckets b "
				       "ON b.id = db.bucket_id WHERE db.dump_id = ?1 ORDER BY b.kind, b.id";
static const char sql_analysis[] = "SELECT * FROM analyses WHERE dump_id = ?1";
static const char sql_contexts[] = "SELECT id, ordinal, name, loader_allocator, state FROM contexts "
				   "WHERE analysis_id = ?1 ORDER BY ordinal";
static const char sql_roots[] = "SELECT id, ordinal, kind, culprit, signature, probable_false_root, thread, frame, "
				"catalogue_id, chain_text, chain_json, bucket_id FROM roots WHERE context_id = ?1 "
				"ORDER BY ordinal";
static const char sql_duplicates[] = "SELECT id FROM dumps WHERE duplicate_of = ?1 ORDER BY id";
static const char sql_buckets_by_count[] = BUCKETS_LIST("b.count DESC");
static const char sql_buckets_by_last[] = BUCKETS_LIST("b.last_seen DESC");
static const char sql_buckets_by_first[] = BUCKETS_LIST("b.first_seen DESC");
static const char sql_bucket_apps[] = "SELECT app, count, first_seen, last_seen FROM bucket_apps WHERE bucket_id = ?1 "
				      "ORDER BY count DESC, app LIMIT ?2";
static const char sql_bucket_one[] = "SELECT " BUCKET_COLS ", " APP_COUNT ", b.count AS count_since FROM buckets b "
				     "WHERE b.id = ?1";
static const char sql_roots_list[] =
	"SELECT b.id AS bucket_id, b.key AS signature, b.title AS culprit, r.kind, r.catalogue_id, "
	"r.probable_false_root, b.count, b.first_seen, b.last_seen, r.dump_id AS example_dump_id, " APP_COUNT ", "
	"(SELECT COUNT(DISTINCT context_id) FROM roots rc WHERE rc.bucket_id = b.id) AS context_count "
	"FROM buckets b JOIN roots r ON r.id = (SELECT max(id) FROM roots WHERE bucket_id = b.id) "
	"WHERE b.kind = 'root' AND b.count > 0 AND b.last_seen >= ?1 "
	"ORDER BY b.count DESC, b.id LIMIT ?2";
static const char sql_report_buckets[] = "SELECT " BUCKET_COLS ", x.n AS count_in_range, (b.first_seen >= ?1) AS is_new "
					 "FROM (SELECT bucket_id, COUNT(*) AS n FROM dump_buckets WHERE seen_at >= ?1 "
					 "AND seen_at < ?2 GROUP BY bucket_id) x JOIN buckets b ON b.id = x.bucket_id "
					 "ORDER BY x.n DESC, b.id LIMIT 200";
static const char sql_status_row[] = "SELECT * FROM service_status WHERE id = ?1";
static const char sql_outbox_counts[] = "SELECT state, COUNT(*) FROM outbox GROUP BY state";
static const char sql_raw_usage[] = "SELECT COUNT(*) AS count, COALESCE(SUM(size), 0) AS bytes, "
				    "MIN(discovered_at) AS oldest_discovered_at FROM dumps WHERE deleted_at IS NULL";
static const char sql_kv_all[] = "SELECT key, value FROM service_kv ORDER BY key";
static const char sql_bucket_range_counts[] = "SELECT bucket_id, COUNT(*) AS count FROM dump_buckets "
					      "WHERE seen_at >= ?1 AND seen_at < ?2 GROUP BY bucket_id ORDER BY bucket_id";
/* the report's day/state/app counts: one pass over the covering index dumps_report, in time order,
 * counted in C (a GROUP BY here sorts in a temporary B-tree: several times slower) */
static const char sql_report_rows[] = "SELECT discovered_at, app, state, has_leak FROM dumps WHERE " RANGE
				      " ORDER BY discovered_at";

/* Applications listed per bucket in bucket and root listings (app_count has the total). */
#define STORE_LIST_APPS 5

/* Filters of store_dump_list: one cached statement per combination of filters and sort order. */
enum { LF_APP = 1, LF_SINCE = 2, LF_UNTIL = 4, LF_STATE = 8, LF_BUCKET = 16, LF_LEAK = 32, LF_SHAPES = 64 };

static int store_is_bool_col(const char *name)
{
	return strncmp(name, "has_", 4) == 0 || strcmp(name, "probable_false_root") == 0 || strcmp(name, "is_new") == 0;
}

/* The current row as an object named by its columns (see store.h for the rules). NULL on OOM. */
static cJSON *store_row_json(sqlite3_stmt *st)
{
	cJSON *o = cJSON_CreateObject(), *v;
	char key[64];
	int i, n = sqlite3_column_count(st);

	for (i = 0; o != NULL && i < n; i++) {
		const char *name = sqlite3_column_name(st, i);
		size_t len = strlen(name);
		int is_json = len > 5 && strcmp(name + len - 5, "_json") == 0;

		snprintf(key, sizeof(key), "%.*s", (int)(is_json ? len - 5 : len), name);
		switch (sqlite3_column_type(st, i)) {
		case SQLITE_INTEGER:
			if (store_is_bool_col(name))
				v = cJSON_CreateBool(sqlite3_column_int64(st, i) != 0);
			else
				v = cJSON_CreateNumber((double)sqlite3_column_int64(st, i));
			break;
		case SQLITE_FLOAT: v = cJSON_CreateNumber(sqlite3_column_double(st, i)); break;
		case SQLITE_NULL: v = cJSON_CreateNull(); break;
		default: {
			const char *t = (const char *)sqlite3_column_text(st, i);
			size_t tn = (size_t)sqlite3_column_bytes(st, i);

			v = NULL;
			if (t != NULL && is_json)
				v = cJSON_ParseWithLength(t, tn);
			if (v == NULL && t != NULL) {
				/* Not valid JSON: keep the text under the column's own name. */
				snprintf(key, sizeof(key), "%s", name);
				v = cJSON_CreateString(t);
			}
			break;
		}
		}
		if (v == NULL || !cJSON_AddItemToObject(o, key, v)) {
			cJSON_Delete(v);
			cJSON_Delete(o);
			o = NULL;
		}
	}
	return o;
}

/* Appends every remaining row of st to array arr. */
static int store_rows_json(struct store *s, sqlite3_stmt *st, cJSON *arr, struct ds_err *e, const char *what)
{
	cJSON *o;
	int rc;

	while ((rc = store_step(s, st, e, what)) == 1) {
		o = store_row_json(st);
		if (o == NULL || !cJSON_AddItemToArray(arr, o)) {
			cJSON_Delete(o);
			rc = ds_err_setn(e, DS_ENOMEM, "out of memory while %s", what);
			break;
		}
	}
	sqlite3_reset(st);
	return rc;
}

static int store_add_apps_all(struct store *s, cJSON *arr, struct ds_err *e);

/* Reads the one row of sql with ?1 bound to id into *o, which is added as `name` of parent when parent
 * is not NULL (JSON null when there is no row and parent is given). 1 with a row, 0 without, a DS_E
 * code. */
static int store_row_obj(struct store *s, const char *sql, int64_t id, cJSON *parent, const char *name, cJSON **o,
			 struct ds_err *e, const char *what)
{
	sqlite3_stmt *st = NULL;
	int rc = store_row(s, sql, &st, e, what, "i", id), found = rc;

	*o = NULL;
	if (rc < 0 || (rc == 0 && parent == NULL))
		goto out;
	*o = rc == 1 ? store_row_json(st) : cJSON_CreateNull();
	if (*o == NULL || (parent != NULL && !cJSON_AddItemToObject(parent, name, *o))) {
		cJSON_Delete(*o);
		*o = NULL;
		rc = ds_err_setn(e, DS_ENOMEM, "out of memory while %s", what);
	}
out:
	if (st != NULL)
		sqlite3_reset(st);
	return rc < 0 ? rc : found;
}

/* Builds one answer of the read API in one snapshot: fill makes *r (which it owns until it returns) from
 * the store inside a read transaction. On DS_OK *out takes *r; otherwise *r is freed and *out stays
 * NULL. Ends the read and releases the store either way. */
static int store_read_json(struct store *s, int (*fill)(struct store *, void *, cJSON **, struct ds_err *), void *arg,
			   cJSON **out, struct ds_err *e)
{
	cJSON *r = NULL;
	int rc, began = 0;

	*out = NULL;
	rc = store_read_begin(s, &began, e);
	if (rc == DS_OK)
		rc = fill(s, arg, &r, e);
	if (rc == DS_OK) {
		*out = r;
		r = NULL;
	}
	cJSON_Delete(r);
	store_read_end(s, began);
	store_release(s);
	return rc;
}

struct store_query {
	const char *what, *sql, *types;
	int with_apps;
	va_list ap;
};

static int store_query_fill(struct store *s, void *arg, cJSON **r, struct ds_err *e)
{
	struct store_query *q = arg;
	sqlite3_stmt *st = NULL;
	va_list ap;
	int rc;

	*r = cJSON_CreateArray();
	rc = *r != NULL ? store_stmt(s, q->sql, &st, e) : ds_err_setn(e, DS_ENOMEM, "out of memory");
	if (rc != DS_OK)
		goto out;
	va_copy(ap, q->ap);
	store_bindv(s, st, q->types, ap);
	va_end(ap);
	rc = store_rows_json(s, st, *r, e, q->what);
	if (rc == DS_OK && q->with_apps)
		rc = store_add_apps_all(s, *r, e);
out:
	return rc;
}

/* An array of the rows of sql with the values bound (store_bindv), read in one snapshot; with_apps adds
 * each bucket's top applications. *out owned by the caller. */
static int store_query_array(struct store *s, cJSON **out, int with_apps, struct ds_err *e, const char *what,
			     const char *sql, const char *types, ...)
{
	struct store_query q = { .what = what, .sql = sql, .types = types, .with_apps = with_apps };
	int rc;

	va_start(q.ap, types);
	rc = store_read_json(s, store_query_fill, &q, out, e);
	va_end(q.ap);
	return rc;
}

/* Runs cached query q with integer parameters ?1 (and ?2 when it has one) and adds its rows as array
 * `name` of obj. */
static int store_add_rows2(struct store *s, cJSON *obj, const char *name, const char *q, int64_t p1, int64_t p2,
			   struct ds_err *e)
{
	sqlite3_stmt *st = NULL;
	cJSON *arr = cJSON_CreateArray();
	int rc;

	if (arr == NULL || !cJSON_AddItemToObject(obj, name, arr)) {
		cJSON_Delete(arr);
		rc = ds_err_setn(e, DS_ENOMEM, "out of memory");
		goto out;
	}
	rc = store_stmt(s, q, &st, e);
	if (rc != DS_OK)
		goto out;
	store_bi(s, st, 1, p1);
	if (sqlite3_bind_parameter_count(st) >= 2)
		store_bi(s, st, 2, p2);
	rc = store_rows_json(s, st, arr, e, "reading");
out:
	return rc;
}

static int store_add_rows(struct store *s, cJSON *obj, const char *name, const char *q, int64_t p1, struct ds_err *e)
{
	return store_add_rows2(s, obj, name, q, p1, 0, e);
}

/* Adds "apps" (the bucket's applications by count, at most `max`, <= 0: all) to a bucket object. */
static int store_add_apps(struct store *s, cJSON *b, int64_t max, struct ds_err *e)
{
	cJSON *id = cJSON_GetObjectItemCaseSensitive(b, "id");

	if (!cJSON_IsNumber(id))
		id = cJSON_GetObjectItemCaseSensitive(b, "bucket_id");
	return store_add_rows2(s, b, "apps", sql_bucket_apps, cJSON_IsNumber(id) ? (int64_t)id->valuedouble : 0,
			       max > 0 ? max : -1, e);
}

/* Adds "apps" to every bucket of arr. */
static int store_add_apps_all(struct store *s, cJSON *arr, struct ds_err *e)
{
	cJSON *b;
	int rc = DS_OK;

	cJSON_ArrayForEach(b, arr) {
		rc = store_add_apps(s, b, STORE_LIST_APPS, e);
		if (rc != DS_OK)
			break;
	}
	return rc;
}

#define LIST_COLS                                                                                              \
	"SELECT d.id, d.path, d.file_name, d.size, d.discovered_at, d.state, d.attempts, d.last_error, "       \
	"d.duplicate_of, d.deleted_at, d.app, d.process_name, d.pid, d.os, d.arch, d.dump_time, "              \
	"d.exception_name, d.exception_code, d.runtime_version, d.has_heap, d.has_leak, d.crash_bucket_id, "   \
	"(SELECT title FROM buckets WHERE id = d.crash_bucket_id) AS bucket_title FROM dumps d WHERE 1"

/* The cached statement for one filter shape and sort order; only fixed SQL fragments are joined, every
 * value is bound (?1 app, ?2 since, ?3 until, ?4 state, ?5 bucket, ?6 limit, ?7 offset). */
static int store_list_stmt(struct store *s, int shape, int sort, sqlite3_stmt **out, struct ds_err *e)
{
	static const char *const order[STORE_SORT_COUNT] = {
		" ORDER BY d.discovered_at DESC, d.id DESC",
		" ORDER BY d.discovered_at ASC, d.id ASC",
		" ORDER BY d.size DESC, d.id DESC",
		" ORDER BY d.app ASC, d.discovered_at DESC, d.id DESC",
		" ORDER BY d.state ASC, d.discovered_at DESC, d.id DESC",
	};
	/* one cache key per shape and order (the text is built only when it is not cached yet) */
	static const char keys[LF_SHAPES * STORE_SORT_COUNT];
	char sql[1400];

	snprintf(sql, sizeof(sql), "%s%s%s%s%s%s%s%s LIMIT ?6 OFFSET ?7", LIST_COLS,
		 shape & LF_APP ? " AND d.app = ?1" : "", shape & LF_SINCE ? " AND d.discovered_at >= ?2" : "",
		 shape & LF_UNTIL ? " AND d.discovered_at < ?3" : "", shape & LF_STATE ? " AND d.state = ?4" : "",
		 shape & LF_BUCKET ? " AND d.id IN (SELECT dump_id FROM dump_buckets WHERE bucket_id = ?5)" : "",
		 shape & LF_LEAK ? " AND d.has_leak = 1" : "", order[sort]);
	return store_stmt_keyed(s, &keys[shape + LF_SHAPES * sort], sql, out, e);
}

/* store_dump_list without the release, into arr. */
static int store_list_into(struct store *s, const struct store_dump_filter *f, cJSON *arr, struct ds_err *e)
{
	sqlite3_stmt *st = NULL;
	int shape = 0, rc;

	if (f->sort < 0 || f->sort >= STORE_SORT_COUNT || (f->state != -1 && store_state_name(f->state) == NULL)) {
		rc = ds_err_setn(e, DS_EINVAL, "store_dump_list: unknown sort %d or state %d", f->sort, f->state);
		goto out;
	}
	shape |= f->app != NULL ? LF_APP : 0;
	shape |= f->since != 0 ? LF_SINCE : 0;
	shape |= f->until != 0 ? LF_UNTIL : 0;
	shape |= f->state != -1 ? LF_STATE : 0;
	shape |= f->bucket_id != 0 ? LF_BUCKET : 0;
	shape |= f->leak ? LF_LEAK : 0;
	rc = store_list_stmt(s, shape, f->sort, &st, e);
	if (rc != DS_OK)
		goto out;
	if (shape & LF_APP)
		store_bt(s, st, 1, f->app);
	if (shape & LF_SINCE)
		store_bi(s, st, 2, f->since);
	if (shape & LF_UNTIL)
		store_bi(s, st, 3, f->until);
	if (shape & LF_STATE)
		store_bt(s, st, 4, store_state_name(f->state));
	if (shape & LF_BUCKET)
		store_bi(s, st, 5, f->bucket_id);
	store_bi(s, st, 6, f->limit > 0 ? f->limit : -1);
	store_bi(s, st, 7, f->offset > 0 ? f->offset : 0);
	rc = store_rows_json(s, st, arr, e, "listing dumps");
out:
	return rc;
}

int store_dump_list(struct store *s, const struct store_dump_filter *f, cJSON **out, struct ds_err *e)
{
	cJSON *arr = cJSON_CreateArray();
	int rc;

	*out = NULL;
	if (arr == NULL) {
		rc = ds_err_setn(e, DS_ENOMEM, "out of memory");
		goto out;
	}
	rc = store_list_into(s, f, arr, e);
	if (rc == DS_OK) {
		*out = arr;
		arr = NULL;
	}
out:
	cJSON_Delete(arr);
	store_release(s);
	return rc;
}

static int store_dump_fill(struct store *s, void *arg, cJSON **r, struct ds_err *e)
{
	int64_t id = *(const int64_t *)arg;
	sqlite3_stmt *cst = NULL;
	cJSON *d, *an = NULL, *ctxs, *c;
	int rc;

	rc = store_row_obj(s, sql_dump, id, NULL, NULL, r, e, "reading a dump");
	d = *r;
	if (rc == 0)
		rc = ds_err_setn(e, DS_ENOENT, "no dump %" PRId64 " in %s", id, s->path);
	if (rc < 0)
		goto out;
	rc = store_add_rows(s, d, "buckets", sql_dump_buckets, id, e);
	if (rc == DS_OK)
		rc = store_add_rows(s, d, "duplicates", sql_duplicates, id, e);
	if (rc == DS_OK)
		rc = store_row_obj(s, sql_analysis, id, d, "analysis", &an, e, "reading an analysis");
	if (rc < 0)
		goto out;
	rc = DS_OK;
	if (cJSON_IsNull(an))
		goto out;
	ctxs = cJSON_AddArrayToObject(an, "contexts");
	if (ctxs == NULL) {
		rc = ds_err_setn(e, DS_ENOMEM, "out of memory");
		goto out;
	}
	rc = store_stmt(s, sql_contexts, &cst, e);
	if (rc != DS_OK)
		goto out;
	store_bi(s, cst, 1, (int64_t)cJSON_GetObjectItemCaseSensitive(an, "id")->valuedouble);
	while ((rc = store_step(s, cst, e, "reading contexts")) == 1) {
		c = store_row_json(cst);
		if (c == NULL || !cJSON_AddItemToArray(ctxs, c)) {
			cJSON_Delete(c);
			rc = ds_err_setn(e, DS_ENOMEM, "out of memory");
			break;
		}
		rc = store_add_rows(s, c, "roots", sql_roots, sqlite3_column_int64(cst, 0), e);
		if (rc != DS_OK)
			break;
	}
	sqlite3_reset(cst);
out:
	return rc;
}

int store_dump_get(struct store *s, int64_t id, cJSON **out, struct ds_err *e)
{
	return store_read_json(s, store_dump_fill, &id, out, e);
}

int store_bucket_list(struct store *s, const struct store_bucket_filter *f, cJSON **out, struct ds_err *e)
{
	static const char *const q[STORE_BSORT_N] = { sql_buckets_by_count, sql_buckets_by_last, sql_buckets_by_first };

	*out = NULL;
	if (f->sort < 0 || f->sort >= STORE_BSORT_N)
		return ds_err_setn(e, DS_EINVAL, "store_bucket_list: unknown sort %d", f->sort);
	return store_query_array(s, out, 1, e, "listing buckets", q[f->sort], "tiii", f->kind, f->since,
				 f->limit > 0 ? f->limit : (int64_t)-1, f->before);
}

static int store_bucket_fill(struct store *s, void *arg, cJSON **r, struct ds_err *e)
{
	struct store_dump_filter f = *(const struct store_dump_filter *)arg;
	int64_t id = f.bucket_id;
	cJSON *b, *dumps;
	int rc;

	rc = store_row_obj(s, sql_bucket_one, id, NULL, NULL, r, e, "reading a bucket");
	b = *r;
	if (rc == 0)
		rc = ds_err_setn(e, DS_ENOENT, "no bucket %" PRId64 " in %s", id, s->path);
	if (rc < 0)
		goto out;
	dumps = b != NULL ? cJSON_AddArrayToObject(b, "dumps") : NULL;
	if (dumps == NULL) {
		rc = ds_err_setn(e, DS_ENOMEM, "out of memory");
		goto out;
	}
	rc = store_add_apps(s, b, 0, e);
	if (rc == DS_OK)
		rc = store_list_into(s, &f, dumps, e);
out:
	return rc;
}

int store_bucket_get(struct store *s, int64_t id, int64_t dump_limit, cJSON **out, struct ds_err *e)
{
	struct store_dump_filter f;

	memset(&f, 0, sizeof(f));
	f.state = -1;
	f.bucket_id = id;
	f.limit = dump_limit;
	return store_read_json(s, store_bucket_fill, &f, out, e);
}

int store_roots_list(struct store *s, int64_t since, int64_t limit, cJSON **out, struct ds_err *e)
{
	return store_query_array(s, out, 1, e, "listing root signatures", sql_roots_list, "ii", since,
				 limit > 0 ? limit : (int64_t)-1);
}

/* Runs a "SELECT name, count" query and adds {name: count} as object `name` of obj; keys lists the
 * names that are always present (count 0 when absent), may be NULL. */
static int store_add_counts(struct store *s, cJSON *obj, const char *name, sqlite3_stmt *st, const char *const *keys,
			    int nkeys, struct ds_err *e)
{
	cJSON *o = cJSON_AddObjectToObject(obj, name), *it;
	int rc = DS_OK, i;

	if (o == NULL)
		return ds_err_setn(e, DS_ENOMEM, "out of memory");
	for (i = 0; i < nkeys; i++)
		if (cJSON_AddNumberToObject(o, keys[i], 0) == NULL)
			return ds_err_setn(e, DS_ENOMEM, "out of memory");
	while ((rc = store_step(s, st, e, "counting")) == 1) {
		const char *k = (const char *)sqlite3_column_text(st, 0);
		double v = (double)sqlite3_column_int64(st, 1);

		if (k == NULL)
			continue;
		it = cJSON_GetObjectItemCaseSensitive(o, k);
		if (it != NULL)
			cJSON_SetNumberValue(it, v);
		else if (cJSON_AddNumberToObject(o, k, v) == NULL)
			rc = ds_err_setn(e, DS_ENOMEM, "out of memory");
		if (rc < 0)
			break;
	}
	sqlite3_reset(st);
	return rc;
}

/* Adds n to the number `key` of object o (created at 0 when missing). */
static int store_json_add(cJSON *o, const char *key, double n)
{
	cJSON *it = cJSON_GetObjectItemCaseSensitive(o, key);

	if (it == NULL)
		return cJSON_AddNumberToObject(o, key, n) != NULL;
	cJSON_SetNumberValue(it, it->valuedouble + n);
	return 1;
}

/* Per-application counts of the report, in an open-addressing hash table (power-of-two size). */
struct store_appcount {
	char *app;
	int64_t count, leaks;
};
struct store_apps {
	struct store_appcount *slot;
	size_t cap, n;
};

static uint64_t store_hash(const char *s)
{
	uint64_t h = 1469598103934665603ull; /* FNV-1a */

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ull;
	return h;
}

/* Adds one dump of app to the table. 0 on allocation failure. */
static int store_apps_add(struct store_apps *t, const char *app, int64_t leak)
{
	struct store_appcount *old = t->slot, *e;
	size_t i, oldcap = t->cap;

	if (2 * (t->n + 1) > t->cap) {
		t->cap = t->cap ? 2 * t->cap : 256;
		t->slot = calloc(t->cap, sizeof(*t->slot));
		if (t->slot == NULL) {
			t->slot = old;
			t->cap = oldcap;
			return 0;
		}
		for (i = 0; i < oldcap; i++)
			if (old[i].app != NULL) {
				size_t j = store_hash(old[i].app) & (t->cap - 1);
				while (t->slot[j].app != NULL)
					j = (j + 1) & (t->cap - 1);
				t->slot[j] = old[i];
			}
		free(old);
	}
	for (i = store_hash(app) & (t->cap - 1); t->slot[i].app != NULL && strcmp(t->slot[i].app, app) != 0;)
		i = (i + 1) & (t->cap - 1);
	e = &t->slot[i];
	if (e->app == NULL) {
		e->app = strdup(app);
		if (e->app == NULL)
			return 0;
		t->n++;
	}
	e->count++;
	e->leaks += leak;
	return 1;
}

static void store_apps_free(struct store_apps *t)
{
	size_t i;

	for (i = 0; i < t->cap; i++)
		free(t->slot[i].app);
	free(t->slot);
	t->slot = NULL;
	t->cap = t->n = 0;
}

/* Most dumps first, then by name (the order the GROUP BY query gave). */
static int store_appcount_cmp(const void *a, const void *b)
{
	const struct store_appcount *x = a, *y = b;

	if (x->app == NULL || y->app == NULL)
		return (x->app == NULL) - (y->app == NULL);
	if (x->count != y->count)
		return x->count > y->count ? -1 : 1;
	return strcmp(x->app, y->app);
}

/* Counts the rows of sql_report_rows (time order) into "days" [{day, count, leaks}] (UTC days with
 * dumps), "apps" [{app, count, leaks}] and the totals. */
static int store_report_days(struct store *s, sqlite3_stmt *st, cJSON *days, cJSON *apps, cJSON *totals,
			     cJSON *by_state, struct ds_err *e)
{
	struct store_apps t = { NULL, 0, 0 };
	int64_t state_n[STORE_STATE_COUNT] = { 0 }, dayno, cur_day = INT64_MIN, day_n = 0, day_leaks = 0, leaks = 0, all = 0;
	cJSON *cur = NULL, *o;
	const char *app, *state;
	struct tm tm;
	char name[48];
	size_t i;
	int rc, ok = 1, k, leak;

	while (ok && (rc = store_step(s, st, e, "counting dumps by day")) == 1) {
		dayno = sqlite3_column_int64(st, 0);
		dayno = dayno >= 0 ? dayno / 86400000 : -((-dayno + 86399999) / 86400000);
		app = (const char *)sqlite3_column_text(st, 1);
		state = (const char *)sqlite3_column_text(st, 2);
		leak = sqlite3_column_int(st, 3) != 0;
		if (dayno != cur_day) {
			if (cur != NULL)
				ok = store_json_add(cur, "count", (double)day_n) && store_json_add(cur, "leaks", (double)day_leaks);
			cur_day = dayno;
			day_n = day_leaks = 0;
			if (plat_gmtime(dayno * 86400, &tm) == DS_OK)
				snprintf(name, sizeof(name), "%04d-%02d-%02d", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday);
			else
				snprintf(name, sizeof(name), "?");
			cur = cJSON_CreateObject();
			ok = ok && cur != NULL && cJSON_AddItemToArray(days, cur) && cJSON_AddStringToObject(cur, "day", name) &&
			     cJSON_AddNumberToObject(cur, "count", 0) && cJSON_AddNumberToObject(cur, "leaks", 0);
			if (!ok)
				break;
		}
		day_n++;
		day_leaks += leak;
		all++;
		leaks += leak;
		k = store_state_parse(state != NULL ? state : "");
		if (k >= 0)
			state_n[k]++;
		ok = store_apps_add(&t, app != NULL ? app : "", leak);
	}
	if (ok && cur != NULL)
		ok = store_json_add(cur, "count", (double)day_n) && store_json_add(cur, "leaks", (double)day_leaks);
	ok = ok && store_json_add(totals, "dumps", (double)all) && store_json_add(totals, "leaks", (double)leaks);
	for (k = 0; ok && k < STORE_STATE_COUNT; k++)
		ok = store_json_add(by_state, store_state_names[k], (double)state_n[k]);
	if (ok && rc == 0 && t.cap > 0) {
		qsort(t.slot, t.cap, sizeof(*t.slot), store_appcount_cmp);
		for (i = 0; ok && i < t.n; i++) {
			o = cJSON_CreateObject();
			ok = o != NULL && cJSON_AddItemToArray(apps, o) && cJSON_AddStringToObject(o, "app", t.slot[i].app) &&
			     cJSON_AddNumberToObject(o, "count", (double)t.slot[i].count) &&
			     cJSON_AddNumberToObject(o, "leaks", (double)t.slot[i].leaks);
		}
	}
	if (!ok)
		rc = ds_err_setn(e, DS_ENOMEM, "out of memory building the report");
	sqlite3_reset(st);
	store_apps_free(&t);
	return rc;
}

static int store_report_fill(struct store *s, void *arg, cJSON **rp, struct ds_err *e)
{
	const int64_t since = ((const int64_t *)arg)[0], until = ((const int64_t *)arg)[1];
	sqlite3_stmt *st = NULL;
	cJSON *r = *rp = cJSON_CreateObject(), *totals, *by_state = NULL, *days, *buckets, *apps;
	int rc, i;

	totals = cJSON_AddObjectToObject(r, "totals");
	days = cJSON_AddArrayToObject(r, "days");
	buckets = cJSON_AddArrayToObject(r, "buckets");
	apps = cJSON_AddArrayToObject(r, "apps");
	if (totals != NULL && cJSON_AddNumberToObject(totals, "dumps", 0) && cJSON_AddNumberToObject(totals, "leaks", 0) &&
	    cJSON_AddNumberToObject(totals, "apps", 0))
		by_state = cJSON_AddObjectToObject(totals, "by_state");
	for (i = 0; by_state != NULL && i < STORE_STATE_COUNT; i++)
		if (cJSON_AddNumberToObject(by_state, store_state_names[i], 0) == NULL)
			by_state = NULL;
	if (days == NULL || by_state == NULL || buckets == NULL || apps == NULL) {
		rc = ds_err_setn(e, DS_ENOMEM, "out of memory");
		goto out;
	}
	rc = store_stmt(s, sql_report_rows, &st, e);
	if (rc != DS_OK)
		goto out;
	store_bi(s, st, 1, since);
	store_bi(s, st, 2, until);
	rc = store_report_days(s, st, days, apps, totals, by_state, e);
	if (rc == DS_OK)
		rc = store_stmt(s, sql_report_buckets, &st, e);
	if (rc != DS_OK)
		goto out;
	store_bi(s, st, 1, since);
	store_bi(s, st, 2, until);
	rc = store_rows_json(s, st, buckets, e, "building the report");
	if (rc != DS_OK)
		goto out;
	cJSON_SetNumberValue(cJSON_GetObjectItemCaseSensitive(totals, "apps"), cJSON_GetArraySize(apps));
out:
	return rc;
}

int store_report(struct store *s, int64_t since, int64_t until, cJSON **out, struct ds_err *e)
{
	int64_t range[2] = { since, until > 0 ? until : INT64_MAX };

	return store_read_json(s, store_report_fill, range, out, e);
}

int store_bucket_counts(struct store *s, int64_t since, int64_t until, cJSON **out, struct ds_err *e)
{
	return store_query_array(s, out, 0, e, "reading", sql_bucket_range_counts, "ii", since,
				 until > 0 ? until : INT64_MAX);
}

static int store_status_fill(struct store *s, void *arg, cJSON **rp, struct ds_err *e)
{
	sqlite3_stmt *st = NULL;
	cJSON *r = *rp = cJSON_CreateObject(), *v = NULL;
	int rc;

	(void)arg;
	if (r == NULL || cJSON_AddNumberToObject(r, "schema_version", s->version) == NULL) {
		rc = ds_err_setn(e, DS_ENOMEM, "out of memory");
		goto out;
	}
	rc = store_row_obj(s, sql_status_row, 1, r, "service", &v, e, "reading the service status");
	if (rc < 0)
		goto out;
	rc = store_stmt(s, store_queue_sql_counts, &st, e);
	if (rc == DS_OK)
		rc = store_add_counts(s, r, "queue", st, store_state_names, STORE_STATE_COUNT, e);
	if (rc == DS_OK)
		rc = store_stmt(s, sql_outbox_counts, &st, e);
	if (rc == DS_OK)
		rc = store_add_counts(s, r, "outbox", st, store_mail_state_names, 4, e);
	if (rc == DS_OK)
		rc = store_stmt(s, sql_kv_all, &st, e);
	if (rc != DS_OK)
		goto out;
	v = cJSON_AddObjectToObject(r, "kv");
	while (v != NULL && (rc = store_step(s, st, e, "reading service values")) == 1) {
		const char *k = (const char *)sqlite3_column_text(st, 0);
		const char *val = (const char *)sqlite3_column_text(st, 1);

		if (k != NULL && cJSON_AddStringToObject(v, k, val != NULL ? val : "") == NULL)
			v = NULL;
	}
	sqlite3_reset(st);
	if (v == NULL)
		rc = ds_err_setn(e, DS_ENOMEM, "out of memory");
	if (rc < 0)
		goto out;
	rc = store_stmt(s, sql_raw_usage, &st, e);
	if (rc != DS_OK)
		goto out;
	rc = store_step(s, st, e, "measuring raw dumps");
	v = rc == 1 ? store_row_json(st) : NULL;
	sqlite3_reset(st);
	if (rc < 0)
		goto out;
	if (v == NULL || !cJSON_AddItemToObject(r, "raw", v)) {
		cJSON_Delete(v);
		rc = ds_err_setn(e, DS_ENOMEM, "out of memory");
		goto out;
	}
	rc = DS_OK;
out:
	return rc;
}

int store_status_get(struct store *s, cJSON **out, struct ds_err *e)
{
	return store_read_json(s, store_status_fill, NULL, out, e);
}
