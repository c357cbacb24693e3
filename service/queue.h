/* queue.h - the dump queue of the service, on the loop thread: records every complete file the
 * watcher reports as a row BEFORE any work, claims due rows from the store and hands them to the
 * workers (triage at once, SOS analysis with the configured concurrency), records what they return,
 * retries transient failures with exponential backoff, and links identical content to one analysis.
 * The store is the queue: nothing is held only in memory, so a restart resumes from the rows. */
#ifndef DS_QUEUE_H
#define DS_QUEUE_H

#include <stdatomic.h>
#include <stdint.h>

#include <uv.h>

#include "core/store.h"
#include "lib/config.h"
#include "worker.h"

struct share;
struct watcher_ready;

struct queue_file {
	char *path;
	uint64_t size;
	int64_t mtime_ns;
};

struct queue_stats {
	uint64_t discovered;   /* new rows written */
	uint64_t seen_again;   /* files already known (restarts, rescans) */
	uint64_t triaged;      /* triage jobs finished (any outcome) */
	uint64_t failed;       /* rows moved to failed */
	uint64_t analyses;     /* analysis jobs finished */
	uint64_t linked;       /* duplicates linked to an earlier analysis */
	uint64_t retries;      /* transient failures put back with a backoff */
};

struct queue {
	uv_loop_t *loop;
	struct store *st;              /* borrowed; loop thread only */
	const struct config *cfg;      /* borrowed */
	struct share *share;           /* borrowed, NULL without fleet.dump_share (daemon sets it): takes the
					  open file of each triaged dump whose copy is wanted */
	worker_analyze_fn analyze;     /* NULL: .NET dumps with a heap wait in 'triaged' */
	struct watcher *watcher;       /* borrowed, may be NULL: told to forget files it could not record */
	uv_timer_t due_timer;          /* the next retry or backoff due */
	uv_timer_t flush_timer;        /* writes the batch of discovered files */
	struct queue_file *batch;      /* discovered, not yet written (one transaction per loop turn) */
	size_t nbatch, capbatch;
	int triage_inflight, triage_max;
	int analysis_inflight;
	int stopping, closed;
	int waiting_logged;            /* "this queue triages only" said once */
	atomic_int cancel;             /* tells running analyses to give up (shutdown) */
	void (*on_triaged)(void *ctx); /* after each triage recorded (retention runs from here) */
	void (*on_idle)(void *ctx);    /* stopping and nothing in flight any more */
	void (*on_analyzed)(void *ctx); /* after each analysis recorded (new root buckets: the mailer) */
	void *ctx;
	struct queue_stats stats;
};

/* Prepares q on loop (timers initialised; close with queue_close). Loop thread. */
void queue_init(struct queue *q, uv_loop_t *loop, struct store *st, const struct config *cfg,
		worker_analyze_fn analyze);

/* Start-up: rows a crash left in 'analyzing' go back to 'triaged', leases are cleared, and every due
 * row is claimed as capacity allows. DS_E... from the store (e has the message). */
int queue_start(struct queue *q, struct ds_err *e);

/* The watcher's callback (ctx is the queue): batches the file; the row is written before the loop
 * does anything else with it. */
void queue_on_ready(void *ctx, const struct watcher_ready *r);

/* Claims and starts whatever is due and fits. Loop thread. */
void queue_pump(struct queue *q);

/* Stops claiming, writes the pending batch, tells running analyses to give up; on_idle is called
 * (possibly at once) when no triage or analysis is in flight any more. */
void queue_stop(struct queue *q);

/* Jobs in flight (triage + analysis). */
int queue_inflight(const struct queue *q);

/* Closes the timers (after queue_stop); the struct may be freed once the loop has run. */
void queue_close(struct queue *q);

/* Backoff before attempt `attempts + 1`: base * 2^(attempts-1) seconds, at most a day. Pure. */
int64_t queue_backoff_ms(uint32_t base_s, int attempts);

#endif
