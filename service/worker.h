/* worker.h - the work the service does off the loop thread: native triage with the content hash, and
 * the SOS analysis step. Each job is a plain struct filled on the loop thread, run on a libuv pool
 * thread (no store, no loop access there), and read back on the loop thread, where the queue records
 * it. The analysis step is one function pointer so the engine driver plugs in without touching the
 * queue; until it is set, .NET dumps with a heap wait in 'triaged'. */
#ifndef DS_WORKER_H
#define DS_WORKER_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "analyzer/triage.h"
#include "core/ds.h"
#include "core/plat.h"
#include "core/store.h"

/* ---- triage ---- */

struct worker_triage {
	/* in (loop thread) */
	int64_t id;
	char *path;              /* owned */
	int defer_hash;          /* 1: worker_triage_run skips the hash; worker_hash_run computes it later */
	int keep_file;           /* 1: a copy to the share is wanted: keep the file open in `file` */
	/* out (pool thread) */
	int rc;                  /* triage_read_file's result */
	struct ds_err err;
	struct triage t;         /* valid when rc == DS_OK */
	char *json;              /* triage_to_json, owned, or NULL */
	int hash_rc;
	char sha256[65];         /* "" unless hash_rc == DS_OK */
	char file_id[96];        /* plat_file_id_format of the file read, "" unless rc == DS_OK; in for
				    worker_hash_run, which hashes only that file */
	uint64_t duration_ns;
	uint64_t hash_ns;        /* worker_hash_run's time */
	struct plat_file *file;  /* with keep_file and a triage that stands: the file triage read, still
				    open (owned by w: the queue hands it to share_copy_file, or
				    worker_triage_clear closes it); else NULL */
};

/* Opens the file once (no link followed, a second hard link refused: DS_ELINK), triages it, and unless
 * defer_hash is set hashes it; records its identity in file_id. With keep_file and a triage that stands
 * (the file unchanged while read), the open file is left in w->file for the copy to the share: that
 * very descriptor is what gets copied, not whatever the path names later. Pool thread; touches only *w. */
void worker_triage_run(struct worker_triage *w);
/* Hashes the file (the deferred half of a big file's triage job: its triage row is written first, so
 * the SHA-256 of a multi-GiB dump does not delay it). Pool thread; touches only *w. */
void worker_hash_run(struct worker_triage *w);
/* Frees what w owns (not w itself), closing w->file if it is still there. Loop or pool thread. */
void worker_triage_clear(struct worker_triage *w);

/* What a triage outcome means for the queue. */
struct worker_verdict {
	int state;               /* enum store_state to move to */
	int retry;               /* transient: retry later from 'discovered' (until attempts run out) */
	char error[STORE_MAX_ERROR < 1024 ? STORE_MAX_ERROR : 1024]; /* "" when none */
};
/* Decides from a finished triage job: DONE (nothing to analyse), TRIAGED (a .NET dump with a heap),
 * FAILED (not a dump, corrupt: the reader's message with the offset), UNSUPPORTED, or a retry
 * (file busy or unreadable for a moment). Pure. */
void worker_triage_verdict(const struct worker_triage *w, struct worker_verdict *v);

/* Maps a triage result to the store's record (pointers borrow from t and json). Pure. */
void worker_triage_to_store(const struct triage *t, const char *json, struct store_triage *out);

/* ---- analysis ---- */

struct worker_analysis_in {
	int64_t id;
	const char *path;
	const char *engine;          /* configured heap engine path, "" = find it */
	const char *const *dac_dirs; /* analysis.dac_dirs */
	size_t ndac_dirs;
	uint32_t cmd_timeout_ms, dump_timeout_ms, max_roots;
	size_t max_output;
	const char *triage_json;     /* NULL when unknown */
	const char *file_id;         /* the identity triage recorded ("" when none) */
	struct plat_file *file;      /* the dump, opened and re-checked against file_id just before the
				        step runs (borrowed: the queue closes it after). The engine reads
				        it (heap_opts.file), never the path: plat.h, plat_file_open_verified. */
	atomic_int *cancel;          /* set to 1 when the service is stopping: give up soon, transient */
};

struct worker_analysis_out {
	int has_analysis;            /* record `an` (else only the state change) */
	struct store_analysis an;    /* pointers owned by owner */
	int state;                   /* STORE_DONE, STORE_FAILED or STORE_UNSUPPORTED */
	int transient;               /* timeout, engine crash, cancelled: retry with backoff */
	char error[1024];
	void *owner;                 /* freed with owner_free(owner) on the loop thread after recording */
	void (*owner_free)(void *owner);
};

/* The analysis step: runs on a pool thread, may block for minutes (the engine), must not touch the
 * store or the loop. Fills out (zeroed by the caller). The service's is analysis_run (service/analysis.h),
 * which daemon.c hands to the queue; this file knows only its shape. */
typedef void (*worker_analyze_fn)(const struct worker_analysis_in *in, struct worker_analysis_out *out);

#endif
