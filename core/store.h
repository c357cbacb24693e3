/* store.h - the SQLite store of dumpscout: opening and migrating the database, the dump queue
 * (discover, claim, transition, recover), triage and analysis records with their buckets, retention,
 * the mail outbox, the service status, and the read queries of the CLI. It knows SQL and nothing of
 * libuv, engines or SMTP. The store's files (core/store_*.c, sharing the private store_int.h) are
 * the only ones in the tree that include sqlite3.h: store_open.c (opening, migrations, transactions),
 * store_queue.c (discovery, the queue, retention), store_records.c (triage, analyses, buckets),
 * store_outbox.c (mail), store_status.c (the service's status row and values), store_query.c (the
 * CLI's cJSON queries), store_fleet.c (the fleet outbox, store_fleet.h).
 * The service reads through typed functions (structs and enums below); the cJSON queries at the end
 * are the CLI's and carry the SQL column names.
 *
 * Conventions for every function below:
 * - Returns DS_OK or a negative DS_E... code and, when `e` is not NULL, fills it with a message that
 *   names the database path: DS_EBUSY (locked by another connection past the busy timeout),
 *   DS_ESCHEMA, DS_ENOENT (no such database / row / nothing due), DS_EINVAL (bad argument, or a write
 *   on a read-only store), DS_ETOOBIG (a text field over STORE_MAX_TEXT), DS_ENOMEM, DS_EDB (other).
 * - Times are int64 milliseconds since the Unix epoch (UTC); file modification times are ns.
 * - Strings passed in are borrowed for the call only. Strings and arrays handed out are owned by the
 *   caller and released with the matching *_clear / *_free function; cJSON trees handed out are owned
 *   by the caller (cJSON_Delete).
 * - Thread-safety: a struct store is used by one thread at a time (its cached statements are not
 *   shared). Use one store per thread; several stores (and processes) may open the same database.
 */
#ifndef DS_STORE_H
#define DS_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "ds.h"

struct cJSON;
struct store;

/* Open flags. */
#define STORE_READONLY 0x0  /* the CLI: never creates or migrates; a missing database is DS_ENOENT */
#define STORE_READWRITE 0x1 /* the service: creates the folder and the file, applies migrations */

#define STORE_DEFAULT_BUSY_MS 5000
/* Longest text stored in one column (JSON blobs, MIME bodies); longer is DS_ETOOBIG. */
#define STORE_MAX_TEXT (64u * 1024 * 1024)
/* Error messages (last_error columns) are cut to this many bytes. */
#define STORE_MAX_ERROR 4000u

/* ---- opening ---- */

/* Opens (read-write: creates, with its folder via plat_mkdirs) the database at path, applies the
 * embedded migrations in order, each in its own transaction, tracked by PRAGMA user_version; sets WAL
 * mode, foreign keys and the busy timeout (STORE_DEFAULT_BUSY_MS). *out is owned by the caller
 * (store_close). Errors: DS_ENOENT "no database at PATH" (read-only and missing), DS_ESCHEMA "database
 * at PATH is schema version N, this dumpscout knows up to M: upgrade dumpscout" (or, read-only, a
 * database older than the binary that the service must upgrade first), DS_EBUSY, DS_ECORRUPT (not a
 * SQLite database), DS_EPERM, DS_EDB. */
int store_open(const char *path, int flags, struct store **out, struct ds_err *e);
/* Same with a busy timeout in ms (<= 0: the default). */
int store_open_ex(const char *path, int flags, int busy_timeout_ms, struct store **out, struct ds_err *e);
/* Finalises the cached statements and closes the database (an open transaction is rolled back).
 * NULL is allowed. */
void store_close(struct store *s);
/* The path given to store_open (owned by the store). */
const char *store_path(const struct store *s);
/* The schema version of the open database (== schema_migration_count after a read-write open). */
int store_schema_version(const struct store *s);

/* Explicit transaction, e.g. to record a burst of discoveries with one commit. Nests: the store's own
 * functions run inside it as savepoints. store_tx_begin takes the write lock at once (BEGIN IMMEDIATE),
 * so DS_EBUSY comes here and not halfway through. Every successful begin needs one commit or
 * rollback. */
int store_tx_begin(struct store *s, struct ds_err *e);
int store_tx_commit(struct store *s, struct ds_err *e);
void store_tx_rollback(struct store *s);

/* ---- enumerations (names as stored in the database) ---- */

enum store_state {
	STORE_DISCOVERED = 0, /* row exists, no work done yet: waits for triage */
	STORE_TRIAGED,        /* triaged, waits for SOS analysis */
	STORE_ANALYZING,      /* claimed by an analysis worker */
	STORE_DONE,           /* finished (analysed, or triage was all there was to do) */
	STORE_FAILED,         /* permanent failure; last_error says why */
	STORE_UNSUPPORTED,    /* a valid file we cannot handle */
	STORE_STATE_COUNT
};
/* "discovered", ... ; NULL for an out-of-range value. Thread-safe. */
const char *store_state_name(int state);
/* Inverse of store_state_name; -1 when unknown. Thread-safe. */
int store_state_parse(const char *name);

enum store_analysis_status {
	STORE_AN_OK = 0,
	STORE_AN_TIMEOUT,
	STORE_AN_ENGINE_MISSING,
	STORE_AN_NO_DAC,
	STORE_AN_UNSUPPORTED_HOST,
	STORE_AN_FAILED,
	STORE_AN_PARSE_ERROR,
	STORE_AN_COUNT
};
const char *store_analysis_status_name(int status);
int store_analysis_status_parse(const char *name);

/* ---- dumps: discovery ---- */

struct store_file {
	const char *path;     /* as found by the watcher; the identity of a live row */
	uint64_t size;
	int64_t mtime_ns;
	const char *sha256;   /* 64 lowercase hex digits of the whole file, or NULL when not computed yet */
};

enum store_upsert_outcome {
	STORE_UPSERT_NEW = 0,  /* no live row had this path: a row was inserted ('discovered') */
	STORE_UPSERT_SAME,     /* the live row describes this file (same size+mtime, or same hash) */
	STORE_UPSERT_REPLACED  /* the file at this path has new content: the old row is kept as history
				  (replaced_by/replaced_at/deleted_at set, failed if it was still pending)
				  and a new 'discovered' row was inserted; *id is the new row */
};

/* Insert-or-get by path, idempotent: the same path seen twice is one row. Content is compared by size
 * and mtime, and by hash when both sides have one (a touched file with an equal hash is SAME; an equal
 * size+mtime with a different hash is REPLACED). A SAME row that retention had marked deleted is marked
 * present again (the file is back). *id gets the live row's id. */
int store_dump_upsert(struct store *s, const struct store_file *f, int64_t now, int64_t *id, int *outcome,
		      struct ds_err *e);

struct store_dump_ref {
	int64_t id;
	uint64_t size;
	int64_t mtime_ns;
	char sha256[65];      /* "" when not computed */
	int state;            /* enum store_state */
	int64_t deleted_at;   /* 0 when the raw file is present */
	int64_t duplicate_of; /* 0 when none */
};
/* The live row for a path (the watcher's cheap "did anything change?" check). DS_ENOENT if none. */
int store_dump_find_path(struct store *s, const char *path, struct store_dump_ref *out, struct ds_err *e);
/* The same row by id, replaced rows included (the service's typed look-up of a dump's state, e.g. of
 * the original a duplicate waits for). DS_ENOENT if no such dump. */
int store_dump_find_id(struct store *s, int64_t id, struct store_dump_ref *out, struct ds_err *e);
/* Records the content hash of a dump and links it to the original with the same hash (the oldest row
 * that is itself no duplicate). *duplicate_of (may be NULL) gets that id or 0. */
int store_dump_set_hash(struct store *s, int64_t id, const char *sha256, int64_t *duplicate_of,
			struct ds_err *e);
/* The oldest non-duplicate row with this hash other than exclude_id (0: none excluded). DS_ENOENT. */
int store_dump_find_hash(struct store *s, const char *sha256, int64_t exclude_id, int64_t *id,
			 struct ds_err *e);

/* ---- dumps: the queue ---- */

enum store_stage {
	STORE_STAGE_TRIAGE = 0, /* rows in 'discovered' */
	STORE_STAGE_ANALYZE     /* rows in 'triaged' (moved to 'analyzing' by the claim) */
};

struct store_job {
	int64_t id;
	char *path;           /* owned (store_job_clear) */
	uint64_t size;
	int64_t mtime_ns;
	char sha256[65];      /* "" when not computed */
	int attempts;         /* including the claim that returned this job */
	int64_t discovered_at;
	int64_t duplicate_of; /* 0 when none */
	char file_id[96];     /* the identity triage recorded (plat_file_id_format), "" when none */
};
void store_job_clear(struct store_job *j);

/* Atomically claims the oldest due job of a stage: a row in the stage's state with next_attempt_at <=
 * now and no live lease (analysis: also an 'analyzing' row whose lease ran out). The claim counts an
 * attempt and sets a lease of lease_ms (<= 0: until the next transition or store_recover); analysis
 * claims move the row to 'analyzing'. A worker that dies leaves a row that store_recover (at service
 * start) or the lease's end makes claimable again. DS_ENOENT when nothing is due. */
int store_claim(struct store *s, int stage, int64_t now, int64_t lease_ms, struct store_job *job,
		struct ds_err *e);
/* Moves a dump to `state` (enum store_state), clears its lease, sets next_attempt_at (0: at once) and
 * last_error (NULL clears it). For a retry, pass the state to retry from ('discovered' or 'triaged')
 * with the backoff the caller computed. Attempts are not reset. DS_ENOENT if no such dump. */
int store_dump_transition(struct store *s, int64_t id, int state, int64_t next_attempt_at, const char *error,
			  struct ds_err *e);
/* Service start-up recovery (call once after opening, while no worker runs): 'analyzing' rows go back
 * to 'triaged', every lease is cleared, 'sending' mail goes back to 'queued'. Counts are optional. */
struct store_recovery {
	int64_t analyzing_reset;
	int64_t leases_cleared;
	int64_t outbox_reset;
};
int store_recover(struct store *s, struct store_recovery *r, struct ds_err *e);
/* When the next row of a stage becomes claimable: the earliest max(next_attempt_at, lease end) among
 * its rows (analysis: 'analyzing' rows' lease ends included), for the service's timer. INT64_MAX means
 * only held rows remain (leases without an end). DS_ENOENT if the stage is empty. */
int store_next_due(struct store *s, int stage, int64_t *at, struct ds_err *e);
/* Number of rows per state (counts[STORE_STATE_COUNT]). */
int store_queue_counts(struct store *s, int64_t *counts, struct ds_err *e);
/* Puts a dump back in the queue for the CLI's `reanalyze ID`: 'triaged' if it has been triaged, else
 * 'discovered'; attempts 0, due now, error cleared. DS_ENOENT if no such dump. */
int store_dump_requeue(struct store *s, int64_t id, int64_t now, struct ds_err *e);
/* Same for every 'failed' dump (`reanalyze --failed`); *n (may be NULL) gets how many. */
int store_requeue_failed(struct store *s, int64_t now, int64_t *n, struct ds_err *e);

/* ---- triage ---- */

/* What native triage found (the service fills it from struct triage). NULL strings are stored as NULL;
 * has_* flags say whether the number next to them is known. */
struct store_triage {
	const char *app;            /* application name for filters and per-app counts; NULL: the
				       process name's base name */
	const char *format, *writer, *os, *os_version, *arch;
	int has_pid;
	uint64_t pid;
	const char *process_name, *app_version, *command_line;
	int64_t dump_time;          /* ms since the epoch, 0 when unknown */
	int has_exception;
	uint32_t exception_code;
	const char *exception_name;
	uint64_t exception_address;
	int has_fault_address;
	uint64_t fault_address;
	int has_crashing_thread;
	uint64_t crashing_thread;
	int64_t thread_count, module_count;
	const char *runtime_name, *runtime_version;
	int has_heap;
	const char *bucket_key;     /* the crash bucket (triage's bucket string), NULL/"": none */
	const char *bucket_title;   /* shown in listings; NULL: the key */
	const char *json;           /* the full `inspect --json` object */
	const char *file_id;        /* plat_file_id_format of the file triage read; NULL: none (then
				       retention never deletes the file) */
	int share_wanted;           /* 1: a copy to the fleet's dump share is wanted (store_share_want, in
				       the same transaction) */
};

/* Records triage in one transaction: the fields and JSON, the crash bucket (created on first sight,
 * first/last seen and per-application counts updated; a dump counts once however often it is recorded;
 * a dump whose bucket or app changed is moved), and the transition to next_state (normally 'triaged',
 * or 'done' when there is nothing to analyse, or 'unsupported') with attempts reset to 0, lease and
 * error cleared. *bucket_id (may be NULL) gets the crash bucket id or 0. */
int store_record_triage(struct store *s, int64_t id, const struct store_triage *t, int next_state, int64_t now,
			int64_t *bucket_id, struct ds_err *e);

/* ---- analysis ---- */

struct store_root {
	const char *kind;           /* "static", "handle", "stack", "finalizer", ... (the classifier's) */
	const char *culprit;        /* e.g. "MessagePack.MessagePackSerializerOptions.Options" */
	const char *signature;      /* address-free signature: the root bucket key (NULL/"": no bucket) */
	int probable_false_root;
	int has_thread;
	uint64_t thread;
	const char *frame;
	const char *catalogue_id;   /* id of the known-culprit catalogue entry, or NULL */
	const char *chain_text;     /* the chain as the engine printed it */
	const char *chain_json;     /* the parsed chain (array of links) */
};

struct store_context {
	const char *name;           /* the AssemblyLoadContext's name */
	int has_loader_allocator;
	uint64_t loader_allocator;
	const char *state;          /* e.g. "held", "unloading", "alive" */
	size_t nroots;
	const struct store_root *roots;
};

struct store_analysis {
	const char *engine;         /* "dotnet-dump", "cdb" */
	const char *engine_version;
	int status;                 /* enum store_analysis_status */
	int64_t started_at, finished_at, duration_ms;
	const char *error;
	const char *exception_type, *exception_message;
	const char *json;           /* the `analyze --json` object */
	const char *crash_bucket_key;   /* NULL: keep triage's crash bucket; else move the dump to this one
					   (a .NET crash: managed exception type and first application frame) */
	const char *crash_bucket_title;
	int leak;                   /* a context was unloaded and is still alive, even with no root recorded */
	size_t ncontexts;
	const struct store_context *contexts;
};

/* Records an analysis with its contexts and roots in ONE transaction, replacing any earlier analysis of
 * the dump (idempotent per dump: recording the same analysis twice leaves the same rows and counts).
 * Each root signature is upserted as a 'root' bucket and linked to the dump once. dumps.has_leak is set
 * when a root that is not a probable false root was found, or a->leak says so. With crash_bucket_key set
 * the dump moves to that crash bucket (created on first sight, counts moved). The dump then moves to next_state with
 * next_attempt_at and error (as store_dump_transition). *analysis_id may be NULL. */
int store_record_analysis(struct store *s, int64_t dump_id, const struct store_analysis *a, int next_state,
			  int64_t next_attempt_at, const char *error, int64_t *analysis_id, struct ds_err *e);

/* ---- retention ---- */

struct store_raw {
	int64_t id;
	char *path;             /* owned by the array (store_raw_free) */
	uint64_t size;
	int64_t mtime_ns;
	int64_t discovered_at;
	int64_t crash_bucket_id; /* 0 when none */
	int state;
	int pending;            /* state is discovered/triaged/analyzing: do not delete */
	int keep;               /* the newest present dump of at least one of its buckets: do not delete */
	char file_id[96];       /* the identity triage recorded; "" for a pending row */
};
/* Every dump whose raw file is still present (deleted_at NULL) and that triage recognised as a dump (it
 * has a recorded identity) or that is still pending, oldest first (discovered_at, id), with the flags
 * above. Files that failed triage ("not a crash dump", corrupt, refused links) are never listed: they
 * may be anything, the database included, and retention deletes only dumps. The caller sums sizes for its quotas and deletes rows with !pending && !keep from
 * the front. *out is owned by the caller (store_raw_free). */
int store_retention_list(struct store *s, struct store_raw **out, size_t *n, struct ds_err *e);
void store_raw_free(struct store_raw *a, size_t n);
/* Records that the raw file is gone (retention or the user deleted it); rows and analyses stay. */
int store_dump_mark_deleted(struct store *s, int64_t id, int64_t now, struct ds_err *e);

/* ---- mail outbox ---- */

enum store_mail_kind { STORE_MAIL_DIGEST = 0, STORE_MAIL_ALERT, STORE_MAIL_TEST };
enum store_mail_state { STORE_MAIL_QUEUED = 0, STORE_MAIL_SENDING, STORE_MAIL_SENT, STORE_MAIL_FAILED };

struct store_mail_new {
	int kind;                 /* enum store_mail_kind */
	const char *dedupe_key;   /* e.g. "digest:2024-05-01" or "alert:bucket:17"; NULL: none */
	const char *message_id;   /* required, stable for the row: "<...@...>" */
	const char *subject;
	const char *to;           /* recipients, comma-separated */
	const char *body_text, *body_html, *mime; /* any may be NULL */
	int64_t bucket_id;        /* alerts: the new bucket; 0: none */
};
/* Writes a message to the outbox, due at once. When dedupe_key is set and a row with it exists,
 * nothing is written and *id gets the existing row (*existed = 1). id/existed may be NULL. */
int store_outbox_enqueue(struct store *s, const struct store_mail_new *m, int64_t now, int64_t *id, int *existed,
			 struct ds_err *e);

struct store_mail {
	int64_t id;
	int kind, state, attempts;
	char *dedupe_key, *message_id, *subject, *to, *body_text, *body_html, *mime, *last_error; /* owned */
	int64_t bucket_id, created_at, next_attempt_at, sent_at;
};
void store_mail_clear(struct store_mail *m);
/* Claims the oldest queued message due at now: state 'sending', attempts + 1. A sent or failed message
 * is never returned. DS_ENOENT when nothing is due. */
int store_outbox_claim(struct store *s, int64_t now, struct store_mail *m, struct ds_err *e);
/* The server accepted the message. */
int store_outbox_sent(struct store *s, int64_t id, int64_t now, struct ds_err *e);
/* Sending failed: back to 'queued' due at next_attempt_at (backoff computed by the caller), or, when
 * permanent, 'failed' for good. error is kept in last_error. */
int store_outbox_failed(struct store *s, int64_t id, const char *error, int permanent, int64_t next_attempt_at,
			struct ds_err *e);
int store_outbox_get(struct store *s, int64_t id, struct store_mail *m, struct ds_err *e);
/* Earliest next_attempt_at of a queued message; DS_ENOENT if none. */
int store_outbox_next_due(struct store *s, int64_t *at, struct ds_err *e);

/* ---- service status ---- */

struct store_status {
	const char *version;
	int64_t pid;
	const char *hostname;
	int64_t started_at;
	int64_t heartbeat_at;
	const char *config_json;      /* the config in effect (no secrets) */
	const char *collection_json;  /* collection settings in effect */
};
/* Writes the whole status row at start-up (last error cleared). */
int store_status_start(struct store *s, const struct store_status *st, struct ds_err *e);
/* Updates the heartbeat only. */
int store_status_heartbeat(struct store *s, int64_t now, struct ds_err *e);
/* Records the service's last error (NULL clears it). */
int store_status_error(struct store *s, const char *error, int64_t now, struct ds_err *e);
/* Small persistent values ("mail.last_digest_at"...). get: *value malloc'd (caller frees), DS_ENOENT. */
int store_kv_get(struct store *s, const char *key, char **value, struct ds_err *e);
int store_kv_set(struct store *s, const char *key, const char *value, int64_t now, struct ds_err *e);

/* ---- read queries for the CLI (cJSON results, owned by the caller) ----
 * Objects carry the table's column names; columns ending in "_json" are parsed and appear without the
 * suffix ("triage", "result", "chain", "config"...), has_* and probable_false_root are booleans, NULL
 * columns are JSON null. Integers are JSON numbers (exact up to 2^53); addresses are "0x..." strings. */

enum store_sort { STORE_SORT_NEWEST = 0, STORE_SORT_OLDEST, STORE_SORT_SIZE, STORE_SORT_APP, STORE_SORT_STATE,
		  STORE_SORT_COUNT };

struct store_dump_filter {
	const char *app;      /* NULL: any */
	int64_t since, until; /* discovered_at in [since, until); 0: open */
	int state;            /* enum store_state, -1: any */
	int64_t bucket_id;    /* crash or root bucket; 0: any */
	int leak;             /* only dumps with a held context (has_leak) */
	int64_t limit;        /* <= 0: no limit */
	int64_t offset;
	int sort;             /* enum store_sort */
};
/* Array of dump summaries: id, path, file_name, size, discovered_at, state, attempts, last_error,
 * duplicate_of, deleted_at, app, process_name, pid, os, arch, dump_time, exception_name,
 * exception_code, runtime_version, has_heap, has_leak, crash_bucket_id, bucket_title. */
int store_dump_list(struct store *s, const struct store_dump_filter *f, struct cJSON **out, struct ds_err *e);
/* Everything about one dump: all dumps columns ("triage" parsed), "buckets" (its crash and root
 * buckets), "analysis" (null, or the analyses row with "contexts", each with "roots"), "duplicates"
 * (ids of rows with duplicate_of = id). DS_ENOENT if no such dump. */
int store_dump_get(struct store *s, int64_t id, struct cJSON **out, struct ds_err *e);

enum store_bucket_sort { STORE_BSORT_COUNT = 0, STORE_BSORT_LAST_SEEN, STORE_BSORT_FIRST_SEEN, STORE_BSORT_N };
struct store_bucket_filter {
	const char *kind;     /* "crash", "root", NULL: both */
	int sort;             /* enum store_bucket_sort */
	int64_t since;        /* count_since counts links seen at or after this (0: all) */
	int64_t limit;        /* <= 0: no limit */
	int64_t before;       /* > 0 (and since > 0): count_before counts links seen in [before, since) */
};
/* Array of buckets: id, kind, key, title, first_seen, last_seen, count, app_count, count_since,
 * count_before (null unless asked for), and "apps": the top 5 [{app, count, first_seen, last_seen}] by
 * count (app_count has how many in all). The counts are computed for the listed buckets only. */
int store_bucket_list(struct store *s, const struct store_bucket_filter *f, struct cJSON **out, struct ds_err *e);
/* One bucket (as in the list, with all its "apps") and "dumps": its newest dumps (summaries as
 * store_dump_list, at most dump_limit, <= 0: all). DS_ENOENT. */
int store_bucket_get(struct store *s, int64_t id, int64_t dump_limit, struct cJSON **out, struct ds_err *e);
/* The leak view: root-signature buckets last seen at or after since, by count: bucket_id, signature,
 * culprit, kind, catalogue_id, probable_false_root, count, first_seen, last_seen, example_dump_id,
 * app_count, context_count (contexts held by roots of this signature), apps (top 5). */
int store_roots_list(struct store *s, int64_t since, int64_t limit, struct cJSON **out, struct ds_err *e);
/* Counts for the report over discovered_at in [since, until) (until 0: open): "totals" {dumps, leaks,
 * apps, by_state{...}}, "buckets": buckets with dumps in the range [{id, kind, key, title, first_seen,
 * last_seen, count, count_in_range, is_new}] by count_in_range (at most 200), "apps": [{app, count,
 * leaks}], "days": [{day "YYYY-MM-DD" (UTC), count, leaks}]. */
int store_report(struct store *s, int64_t since, int64_t until, struct cJSON **out, struct ds_err *e);
/* Links per bucket with seen_at in [since, until) (until 0: open), for trends: an array of {bucket_id,
 * count} by bucket_id, buckets without links in the range left out. */
int store_bucket_counts(struct store *s, int64_t since, int64_t until, struct cJSON **out, struct ds_err *e);
/* `status`: "schema_version", "service" (the status row or null), "queue" {state: count}, "outbox"
 * {state: count}, "raw" {count, bytes, oldest_discovered_at} (dumps whose file is present), "kv". */
int store_status_get(struct store *s, struct cJSON **out, struct ds_err *e);

#endif
