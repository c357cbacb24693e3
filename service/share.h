/* share.h - the service's copies of raw dumps to the fleet's dump share (fleet.dump_share, docs/fleet.md).
 * A copy runs on the libuv pool (uv_queue_work), never on the loop thread: a large dump on a slow share
 * delays only its own copy, not the watcher, the queue or the heartbeats. Results are recorded on the
 * loop thread through the store (core/store_share.h): a copy's path (and a new fleet snapshot naming it),
 * or a failure, retried later with a backoff. Also the share's retention: copies older than
 * fleet.dump_share_days are deleted (on the pool as well), and only the files this service wrote (the
 * store's list) are ever touched. It does not triage, and it never decides what the central database holds.
 *
 * Threads: every function here is for the loop thread. The pool thread of a copy touches only its job
 * (the open file, the names) and reads the stop flag.
 *
 * Ownership of the dump's file: the triage worker opens the dump once, checks it (no link, one hard
 * link, unchanged while read) and triages it; when a copy is wanted it keeps that file open and the
 * queue passes it here with share_copy_file, which owns it from then on: it is copied by the pool
 * thread from that descriptor (handle) with plat_file_read_at, never reopened by path, and closed
 * once the copy has ended, whatever happened (also when it is refused for lack of room, and at stop).
 * A copy tried again later (after a failure, or after a restart) has no open file left: it reopens
 * the dump with plat_file_open_verified against the identity triage recorded, so a file swapped at
 * that path is refused, not copied. */
#ifndef DS_SERVICE_SHARE_H
#define DS_SERVICE_SHARE_H

#include <stddef.h>
#include <stdint.h>

#include <uv.h>

struct fleet_config;
struct plat_file;
struct store;
struct share;

/* Copies at once, at most (each on a pool thread: two keeps the pool free for triage and analysis). */
#define SHARE_COPY_MAX 2
/* Dumps whose open file waits for a free copy slot, at most; beyond, the file is closed and the copy is
 * made by a later round (which reopens the dump by its identity). */
#define SHARE_WAIT_MAX 16
/* Old copies deleted per round, at most (one job on the pool). */
#define SHARE_EXPIRE_MAX 200
/* A failed copy is tried again this long after its last attempt, doubling with each failure up to a day. */
#define SHARE_RETRY_AFTER_MS 60000

/* The test-only fault injection (docs/fleet.md "Tests"): when this environment variable names a file,
 * each copy, after writing its first chunk to the temporary file, waits until that file exists (or the
 * service stops). The tests use it to hold a copy in progress, i.e. to make the share slow on demand. */
#define SHARE_TEST_GATE_ENV "DUMPSCOUT_TEST_SHARE_GATE"

struct share_stats {
	uint64_t copied;   /* copies written this run */
	uint64_t failed;   /* attempts that failed this run (each is tried again) */
	uint64_t stopped;  /* copies cut short by the service stopping (made by the next start) */
};

/* A copier for loop, or *out NULL when fc has no dump_share (every function below accepts NULL and then
 * does nothing; share_copy_file closes the file). host names this host's folder on the share (copied).
 * st and fc are borrowed and must outlive it. DS_ENOMEM. */
int share_new(uv_loop_t *loop, struct store *st, const struct fleet_config *fc, const char *host, struct share **out);

/* Called after each recorded copy (the store queued a snapshot naming it): the daemon pokes the fleet
 * publisher. */
void share_set_hook(struct share *sh, void (*on_recorded)(void *ctx), void *ctx);

/* The first copy of dump_id (its local path, discovered at discovered_at ms: the share folder's date),
 * from f, which this takes over (see above); file_id is the identity triage recorded for f
 * (plat_file_id_format): the copy is refused (DS_ECHANGED, a failed attempt) when the open file no
 * longer has it before or at the end of the copy, i.e. it was written to after its triage. Started now when a slot is free, else it waits (at most
 * SHARE_WAIT_MAX); a dump whose copy is already under way or waiting is not copied twice. The caller has
 * recorded that the copy is wanted (store_share_want, in the triage's transaction), so a copy that is
 * dropped here, cut short or killed is made by a later round. */
void share_copy_file(struct share *sh, int64_t dump_id, const char *path, int64_t discovered_at,
		     const char *file_id, struct plat_file *f);

/* One round at now (ms): starts the copies that are due (wanted and never finished, e.g. cut short by
 * a crash: at once; failed: after their backoff) as slots allow, and deletes copies older than
 * fleet.dump_share_days. Problems are logged and recorded; nothing here fails the service. */
void share_round(struct share *sh, int64_t now);

/* Stops: no copy is started any more, waiting files are closed, copies under way are told to give up
 * (each removes its temporary file at its next chunk; its dump stays wanted for the next start), and
 * the retention's deletions end after the file at hand. on_stopped(ctx) is called, possibly at once,
 * when nothing is on the pool any more. */
void share_stop(struct share *sh, void (*on_stopped)(void *ctx), void *ctx);

/* Jobs on the pool (copies, and the retention's deletions). */
int share_busy(const struct share *sh);

/* This run's counters (zeros for NULL). */
void share_get_stats(const struct share *sh, struct share_stats *out);

/* Frees sh (after share_stop has called back, or when the loop is gone). NULL-safe. */
void share_free(struct share *sh);

/* The share's folder and file names of dump id: "HOST/YYYY-MM-DD" (the UTC day of day_ms, the dump's
 * discovery) and "ID-BASENAME", each character outside [A-Za-z0-9._-] of host and name replaced by '_'.
 * The same for every attempt, so a retry after a crash lands on the same names. Pure. */
void share_names(const char *host, int64_t id, const char *path, int64_t day_ms, char *dir, size_t ndir,
		 char *name, size_t nname);

#endif
