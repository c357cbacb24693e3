/* fleetdb.c - the central PostgreSQL store over libpq (see fleetdb.h): connection, the versioned schema
 * of schema/fleet/, the ingest call and the read functions. Values always travel as parameters
 * (PQexecParams), never spliced into SQL text; results are one JSON value parsed with cJSON. It keeps
 * no state beyond the connection and whether it holds the sender lock. */
#include "fleetdb.h"

#include <cjson/cJSON.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifdef DS_HAVE_LIBPQ

#include <libpq-fe.h>

struct fleetdb {
	PGconn *conn;
	int sender;  /* holds FLEETDB_SENDER_LOCK */
};

/* Results bigger than this are refused (a listing without --limit over a whole fleet). */
#define FLEETDB_MAX_RESULT (256u * 1024 * 1024)

/* The first line of libpq's message, without the trailing newline. */
static const char *fleetdb_msg(const char *m, char *buf, size_t n)
{
	size_t i = 0;

	if (m == NULL)
		m = "unknown error";
	while (m[i] != '\0' && m[i] != '\n' && i + 1 < n) {
		buf[i] = m[i];
		i++;
	}
	buf[i] = '\0';
	return buf;
}

/* Turns a failed result (or a lost connection) into a DS_E code with a message naming what failed. */
static int fleetdb_fail(struct fleetdb *f, PGresult *res, struct ds_err *e, const char *what)
{
	const char *state = res != NULL ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
	const char *m = res != NULL && PQresultErrorMessage(res)[0] != '\0' ? PQresultErrorMessage(res) : PQerrorMessage(f->conn);
	char buf[200];
	int code = DS_EDB;

	if (PQstatus(f->conn) != CONNECTION_OK || state == NULL || strncmp(state, "08", 2) == 0 ||
	    strncmp(state, "57P", 3) == 0 || strcmp(state, "53300") == 0)
		code = DS_ENET;
	else if (strcmp(state, "42501") == 0)
		code = DS_EPERM;
	else if (strcmp(state, "3F000") == 0 || strcmp(state, "42883") == 0 || strcmp(state, "42P01") == 0)
		code = DS_ESCHEMA;
	fleetdb_msg(m, buf, sizeof(buf));
	if (code == DS_ESCHEMA)
		return ds_err_setn(e, code, "fleet database: %s while %s (run dumpscout fleet init)", buf, what);
	return ds_err_setn(e, code, "fleet database: %s while %s", buf, what);
}

/* Server notices ("schema already exists, skipping") are not for the user's terminal or the log. */
static void fleetdb_notice(void *arg, const char *message)
{
	(void)arg;
	(void)message;
}

int fleetdb_available(void)
{
	return 1;
}

int fleetdb_connect(const char *conninfo, const char *password, int connect_timeout_s, struct fleetdb **out,
		    struct ds_err *e)
{
	const char *keys[5], *vals[5];
	char tmo[16], buf[200];
	struct fleetdb *f = NULL;
	int rc = DS_OK, n = 0;

	*out = NULL;
	if (conninfo == NULL || conninfo[0] == '\0') {
		rc = ds_err_setn(e, DS_EINVAL, "fleet.url: no connection string given");
		goto out;
	}
	f = calloc(1, sizeof(*f));
	if (f == NULL) {
		rc = ds_err_setn(e, DS_ENOMEM, "out of memory connecting to the fleet database");
		goto out;
	}
	/* the conninfo comes first and is expanded; the keys after it override what it says */
	keys[n] = "dbname";
	vals[n++] = conninfo;
	keys[n] = "application_name";
	vals[n++] = "dumpscout";
	if (connect_timeout_s > 0) {
		snprintf(tmo, sizeof(tmo), "%d", connect_timeout_s);
		keys[n] = "connect_timeout";
		vals[n++] = tmo;
	}
	if (password != NULL) {
		keys[n] = "password";
		vals[n++] = password;
	}
	keys[n] = NULL;
	vals[n] = NULL;
	f->conn = PQconnectdbParams(keys, vals, 1);
	if (f->conn == NULL) {
		rc = ds_err_setn(e, DS_ENOMEM, "out of memory connecting to the fleet database");
		goto out;
	}
	if (PQstatus(f->conn) != CONNECTION_OK) {
		rc = ds_err_setn(e, DS_ENET, "cannot connect to the fleet database: %s",
				 fleetdb_msg(PQerrorMessage(f->conn), buf, sizeof(buf)));
		goto out;
	}
	PQsetNoticeProcessor(f->conn, fleetdb_notice, NULL);
	*out = f;
	f = NULL;
out:
	fleetdb_close(f);
	return rc;
}

void fleetdb_close(struct fleetdb *f)
{
	if (f == NULL)
		return;
	if (f->conn != NULL)
		PQfinish(f->conn);
	free(f);
}

int fleetdb_ok(const struct fleetdb *f)
{
	return f != NULL && f->conn != NULL && PQstatus(f->conn) == CONNECTION_OK;
}

/* Runs sql with text parameters; *res holds the result when it succeeded (caller PQclear). */
static int fleetdb_exec(struct fleetdb *f, const char *sql, int n, const char *const *params, PGresult **res,
			struct ds_err *e, const char *what)
{
	PGresult *r = PQexecParams(f->conn, sql, n, NULL, params, NULL, NULL, 0);
	ExecStatusType st = r != NULL ? PQresultStatus(r) : PGRES_FATAL_ERROR;
	int rc = DS_OK;

	*res = NULL;
	if (st != PGRES_TUPLES_OK && st != PGRES_COMMAND_OK) {
		rc = fleetdb_fail(f, r, e, what);
		PQclear(r);
		goto out;
	}
	*res = r;
out:
	return rc;
}

/* Runs a fixed SQL text (the embedded migrations, transaction control): no parameters, many statements. */
static int fleetdb_exec_text(struct fleetdb *f, const char *sql, struct ds_err *e, const char *what)
{
	PGresult *r = PQexec(f->conn, sql);
	ExecStatusType st = r != NULL ? PQresultStatus(r) : PGRES_FATAL_ERROR;
	int rc = DS_OK;

	if (st != PGRES_TUPLES_OK && st != PGRES_COMMAND_OK)
		rc = fleetdb_fail(f, r, e, what);
	PQclear(r);
	return rc;
}

/* A query with one JSON (or NULL) value as its result: *out parsed, or NULL for SQL NULL. */
static int fleetdb_json(struct fleetdb *f, const char *sql, int n, const char *const *params, cJSON **out,
			struct ds_err *e, const char *what)
{
	PGresult *r = NULL;
	int rc;

	*out = NULL;
	rc = fleetdb_exec(f, sql, n, params, &r, e, what);
	if (rc != DS_OK)
		goto out;
	if (PQntuples(r) != 1 || PQnfields(r) != 1) {
		rc = ds_err_setn(e, DS_EDB, "fleet database: unexpected result shape while %s", what);
		goto out;
	}
	if (PQgetisnull(r, 0, 0))
		goto out;
	if ((size_t)PQgetlength(r, 0, 0) > FLEETDB_MAX_RESULT) {
		rc = ds_err_setn(e, DS_ETOOBIG, "fleet database: the result is too large while %s (use --limit)", what);
		goto out;
	}
	*out = cJSON_ParseWithLength(PQgetvalue(r, 0, 0), (size_t)PQgetlength(r, 0, 0));
	if (*out == NULL)
		rc = ds_err_setn(e, DS_EDB, "fleet database: the server's JSON could not be read while %s", what);
out:
	PQclear(r);
	return rc;
}

static int fleetdb_version(struct fleetdb *f, int *v, struct ds_err *e)
{
	PGresult *r = NULL;
	int rc;

	*v = 0;
	rc = fleetdb_exec(f, "SELECT CASE WHEN to_regclass('fleet.schema_version') IS NULL THEN -1 "
			     "ELSE (SELECT coalesce(max(version), 0) FROM fleet.schema_version) END",
			  0, NULL, &r, e, "reading the schema version");
	if (rc == DS_OK)
		*v = atoi(PQgetvalue(r, 0, 0));
	if (*v < 0)
		*v = 0;
	PQclear(r);
	return rc;
}

int fleetdb_init(struct fleetdb *f, int *applied, struct ds_err *e)
{
	char what[160], ver[16];
	const char *params[2];
	PGresult *r = NULL;
	size_t i;
	int rc = DS_OK, v, n = 0, tx = 0;

	for (i = 0; i < fleet_schema_migration_count; i++) {
		snprintf(what, sizeof(what), "applying fleet migration %s", fleet_schema_migrations[i].name);
		rc = fleetdb_exec_text(f,
				       "BEGIN; SELECT pg_advisory_xact_lock(7306929158512766060); "
				       "CREATE SCHEMA IF NOT EXISTS fleet; "
				       "CREATE TABLE IF NOT EXISTS fleet.schema_version (version integer PRIMARY KEY, "
				       "name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())",
				       e, what);
		if (rc != DS_OK)
			goto out;
		tx = 1;
		rc = fleetdb_version(f, &v, e);
		if (rc != DS_OK)
			goto out;
		if (v > (int)fleet_schema_migration_count) {
			rc = ds_err_setn(e, DS_ESCHEMA, "the fleet database is schema version %d, this dumpscout knows up to "
							"%zu: upgrade dumpscout", v, fleet_schema_migration_count);
			goto out;
		}
		if (v < fleet_schema_migrations[i].version) {
			rc = fleetdb_exec_text(f, fleet_schema_migrations[i].sql, e, what);
			if (rc != DS_OK)
				goto out;
			snprintf(ver, sizeof(ver), "%d", fleet_schema_migrations[i].version);
			params[0] = ver;
			params[1] = fleet_schema_migrations[i].name;
			rc = fleetdb_exec(f, "INSERT INTO fleet.schema_version (version, name) VALUES ($1::int, $2)", 2, params,
					  &r, e, what);
			PQclear(r);
			r = NULL;
			if (rc != DS_OK)
				goto out;
			n++;
		}
		rc = fleetdb_exec_text(f, "COMMIT", e, what);
		tx = 0;
		if (rc != DS_OK)
			goto out;
	}
	if (applied != NULL)
		*applied = n;
out:
	if (tx)
		fleetdb_exec_text(f, "ROLLBACK", NULL, "rolling back");
	return rc;
}

int fleetdb_check(struct fleetdb *f, int *version, struct ds_err *e)
{
	int rc = fleetdb_version(f, version, e);

	if (rc != DS_OK)
		return rc;
	if (*version > (int)fleet_schema_migration_count)
		return ds_err_setn(e, DS_ESCHEMA, "the fleet database is schema version %d, this dumpscout knows up to %zu: "
						  "upgrade dumpscout", *version, fleet_schema_migration_count);
	if (*version < (int)fleet_schema_migration_count)
		return ds_err_setn(e, DS_ESCHEMA, "the fleet database is schema version %d, this dumpscout needs %zu: run "
						  "dumpscout fleet init", *version, fleet_schema_migration_count);
	return DS_OK;
}

int fleetdb_ingest(struct fleetdb *f, const char *host_id, const char *host_info_json, const char *events_json,
		   int *applied, struct ds_err *e)
{
	const char *params[3] = { host_id, host_info_json, events_json };
	PGresult *r = NULL;
	int rc;

	*applied = 0;
	rc = fleetdb_exec(f, "SELECT fleet.ingest($1::uuid, $2::jsonb, $3::jsonb)", 3, params, &r, e,
			  "publishing a batch");
	if (rc == DS_OK)
		*applied = atoi(PQgetvalue(r, 0, 0));
	PQclear(r);
	return rc;
}

/* JSON text of a filter (NULL: "{}"); malloc'd. */
static char *fleetdb_filter(const cJSON *filter)
{
	return filter != NULL ? cJSON_PrintUnformatted(filter) : strdup("{}");
}

static int fleetdb_filter_call(struct fleetdb *f, const char *sql, const cJSON *filter, cJSON **out, struct ds_err *e,
			       const char *what)
{
	char *fj = fleetdb_filter(filter);
	const char *params[1] = { fj };
	int rc;

	if (fj == NULL)
		return ds_err_setn(e, DS_ENOMEM, "out of memory");
	rc = fleetdb_json(f, sql, 1, params, out, e, what);
	free(fj);
	if (rc == DS_OK && *out == NULL)
		*out = cJSON_CreateArray();
	return rc;
}

int fleetdb_list(struct fleetdb *f, const cJSON *filter, cJSON **out, struct ds_err *e)
{
	return fleetdb_filter_call(f, "SELECT fleet.api_list($1::jsonb)", filter, out, e, "listing dumps");
}

int fleetdb_buckets(struct fleetdb *f, const cJSON *filter, cJSON **out, struct ds_err *e)
{
	return fleetdb_filter_call(f, "SELECT fleet.api_buckets($1::jsonb)", filter, out, e, "listing buckets");
}

int fleetdb_show(struct fleetdb *f, int64_t seq, cJSON **out, struct ds_err *e)
{
	char s[24];
	const char *params[1] = { s };
	int rc;

	snprintf(s, sizeof(s), "%lld", (long long)seq);
	rc = fleetdb_json(f, "SELECT fleet.api_show($1::bigint)", 1, params, out, e, "reading a dump");
	if (rc == DS_OK && *out == NULL)
		rc = ds_err_setn(e, DS_ENOENT, "no dump %lld in the fleet database", (long long)seq);
	return rc;
}

int fleetdb_bucket(struct fleetdb *f, int64_t seq, int64_t dump_limit, const char *host, cJSON **out, struct ds_err *e)
{
	char s[24], l[24];
	const char *params[3] = { s, l, host };
	int rc;

	snprintf(s, sizeof(s), "%lld", (long long)seq);
	snprintf(l, sizeof(l), "%lld", (long long)dump_limit);
	rc = fleetdb_json(f, "SELECT fleet.api_bucket($1::bigint, $2::bigint, $3)", 3, params, out, e, "reading a bucket");
	if (rc == DS_OK && *out == NULL)
		rc = ds_err_setn(e, DS_ENOENT, "no bucket %lld in the fleet database", (long long)seq);
	return rc;
}

/* fn($1::bigint, $2::bigint, $3) with two numbers and a host. */
static int fleetdb_call3(struct fleetdb *f, const char *sql, int64_t a, int64_t b, const char *host, cJSON **out,
			 struct ds_err *e, const char *what)
{
	char sa[24], sb[24];
	const char *params[3] = { sa, sb, host };
	int rc;

	snprintf(sa, sizeof(sa), "%lld", (long long)a);
	snprintf(sb, sizeof(sb), "%lld", (long long)b);
	rc = fleetdb_json(f, sql, 3, params, out, e, what);
	if (rc == DS_OK && *out == NULL)
		*out = cJSON_CreateArray();
	return rc;
}

int fleetdb_roots(struct fleetdb *f, int64_t since, int64_t limit, const char *host, cJSON **out, struct ds_err *e)
{
	return fleetdb_call3(f, "SELECT fleet.api_roots($1::bigint, $2::bigint, $3)", since, limit, host, out, e,
			     "listing roots");
}

int fleetdb_report(struct fleetdb *f, int64_t since, int64_t until, const char *host, cJSON **out, struct ds_err *e)
{
	return fleetdb_call3(f, "SELECT fleet.api_report($1::bigint, $2::bigint, $3)", since, until, host, out, e,
			     "building the report");
}

int fleetdb_bucket_counts(struct fleetdb *f, int64_t since, int64_t until, const char *host, cJSON **out,
			  struct ds_err *e)
{
	return fleetdb_call3(f, "SELECT fleet.api_bucket_counts($1::bigint, $2::bigint, $3)", since, until, host, out, e,
			     "counting buckets");
}

int fleetdb_hosts(struct fleetdb *f, cJSON **out, struct ds_err *e)
{
	int rc = fleetdb_json(f, "SELECT fleet.api_hosts()", 0, NULL, out, e, "listing hosts");

	if (rc == DS_OK && *out == NULL)
		*out = cJSON_CreateArray();
	return rc;
}

int fleetdb_new_buckets(struct fleetdb *f, int64_t since, cJSON **out, struct ds_err *e)
{
	char s[24];
	const char *params[1] = { s };
	int rc;

	snprintf(s, sizeof(s), "%lld", (long long)since);
	rc = fleetdb_json(f, "SELECT fleet.api_new_buckets($1::bigint)", 1, params, out, e, "listing new buckets");
	if (rc == DS_OK && *out == NULL)
		*out = cJSON_CreateArray();
	return rc;
}

int fleetdb_sender_lock(struct fleetdb *f, int *held, struct ds_err *e)
{
	PGresult *r = NULL;
	int rc = DS_OK;

	*held = 0;
	if (f->sender && fleetdb_ok(f)) {
		*held = 1;
		goto out;
	}
	rc = fleetdb_exec(f, "SELECT pg_try_advisory_lock(" FLEETDB_SENDER_LOCK_SQL ")", 0, NULL, &r, e,
			  "taking the digest sender lock");
	if (rc == DS_OK)
		*held = f->sender = PQgetvalue(r, 0, 0)[0] == 't';
out:
	PQclear(r);
	return rc;
}

int fleetdb_mail_claim(struct fleetdb *f, const char *host_id, const char *key, int *claimed, struct ds_err *e)
{
	const char *params[2] = { host_id, key };
	PGresult *r = NULL;
	int rc;

	*claimed = 0;
	rc = fleetdb_exec(f, "SELECT fleet.mail_claim($1::uuid, $2)", 2, params, &r, e, "claiming a fleet mail");
	if (rc == DS_OK)
		*claimed = PQgetvalue(r, 0, 0)[0] == 't';
	PQclear(r);
	return rc;
}

int fleetdb_digest_last(struct fleetdb *f, int64_t *at, struct ds_err *e)
{
	PGresult *r = NULL;
	int rc;

	*at = 0;
	rc = fleetdb_exec(f, "SELECT fleet.digest_last()", 0, NULL, &r, e, "reading the last fleet digest");
	if (rc == DS_OK)
		*at = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
	PQclear(r);
	return rc;
}

int fleetdb_alert_claim(struct fleetdb *f, const char *host_id, cJSON **out, struct ds_err *e)
{
	const char *params[1] = { host_id };
	int rc = fleetdb_json(f, "SELECT fleet.alert_claim($1::uuid)", 1, params, out, e, "claiming new buckets");

	if (rc == DS_OK && *out == NULL)
		*out = cJSON_CreateArray();
	return rc;
}

#else /* !DS_HAVE_LIBPQ */

#define FLEETDB_NOPQ(e) ds_err_setn((e), DS_EUNSUPPORTED, "this dumpscout was built without PostgreSQL (libpq): no fleet")

int fleetdb_available(void)
{
	return 0;
}

int fleetdb_connect(const char *conninfo, const char *password, int connect_timeout_s, struct fleetdb **out,
		    struct ds_err *e)
{
	(void)conninfo;
	(void)password;
	(void)connect_timeout_s;
	*out = NULL;
	return FLEETDB_NOPQ(e);
}
void fleetdb_close(struct fleetdb *f) { (void)f; }
int fleetdb_ok(const struct fleetdb *f) { (void)f; return 0; }
int fleetdb_init(struct fleetdb *f, int *applied, struct ds_err *e) { (void)f; (void)applied; return FLEETDB_NOPQ(e); }
int fleetdb_check(struct fleetdb *f, int *version, struct ds_err *e) { (void)f; *version = 0; return FLEETDB_NOPQ(e); }
int fleetdb_ingest(struct fleetdb *f, const char *host_id, const char *host_info_json, const char *events_json,
		   int *applied, struct ds_err *e)
{
	(void)f; (void)host_id; (void)host_info_json; (void)events_json;
	*applied = 0;
	return FLEETDB_NOPQ(e);
}
int fleetdb_list(struct fleetdb *f, const cJSON *filter, cJSON **out, struct ds_err *e)
{ (void)f; (void)filter; *out = NULL; return FLEETDB_NOPQ(e); }
int fleetdb_show(struct fleetdb *f, int64_t seq, cJSON **out, struct ds_err *e)
{ (void)f; (void)seq; *out = NULL; return FLEETDB_NOPQ(e); }
int fleetdb_buckets(struct fleetdb *f, const cJSON *filter, cJSON **out, struct ds_err *e)
{ (void)f; (void)filter; *out = NULL; return FLEETDB_NOPQ(e); }
int fleetdb_bucket(struct fleetdb *f, int64_t seq, int64_t dump_limit, const char *host, cJSON **out, struct ds_err *e)
{ (void)f; (void)seq; (void)dump_limit; (void)host; *out = NULL; return FLEETDB_NOPQ(e); }
int fleetdb_roots(struct fleetdb *f, int64_t since, int64_t limit, const char *host, cJSON **out, struct ds_err *e)
{ (void)f; (void)since; (void)limit; (void)host; *out = NULL; return FLEETDB_NOPQ(e); }
int fleetdb_report(struct fleetdb *f, int64_t since, int64_t until, const char *host, cJSON **out, struct ds_err *e)
{ (void)f; (void)since; (void)until; (void)host; *out = NULL; return FLEETDB_NOPQ(e); }
int fleetdb_bucket_counts(struct fleetdb *f, int64_t since, int64_t until, const char *host, cJSON **out,
			  struct ds_err *e)
{ (void)f; (void)since; (void)until; (void)host; *out = NULL; return FLEETDB_NOPQ(e); }
int fleetdb_hosts(struct fleetdb *f, cJSON **out, struct ds_err *e) { (void)f; *out = NULL; return FLEETDB_NOPQ(e); }
int fleetdb_new_buckets(struct fleetdb *f, int64_t since, cJSON **out, struct ds_err *e)
{ (void)f; (void)since; *out = NULL; return FLEETDB_NOPQ(e); }
int fleetdb_sender_lock(struct fleetdb *f, int *held, struct ds_err *e) { (void)f; *held = 0; return FLEETDB_NOPQ(e); }
int fleetdb_mail_claim(struct fleetdb *f, const char *host_id, const char *key, int *claimed, struct ds_err *e)
{ (void)f; (void)host_id; (void)key; *claimed = 0; return FLEETDB_NOPQ(e); }
int fleetdb_digest_last(struct fleetdb *f, int64_t *at, struct ds_err *e) { (void)f; *at = 0; return FLEETDB_NOPQ(e); }
int fleetdb_alert_claim(struct fleetdb *f, const char *host_id, cJSON **out, struct ds_err *e)
{ (void)f; (void)host_id; *out = NULL; return FLEETDB_NOPQ(e); }

#endif
