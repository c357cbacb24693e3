/* queue.c - the loop-thread side of the dump queue: batches discoveries into rows, claims due rows,
 * runs triage and analysis on the libuv pool (uv_queue_work) and records their results through the
 * store. It decides states, retries and links; it does not parse dumps or talk to the engine. */
#include "queue.h"
#include "share.h"
#include "watcher.h"

#include "core/log.h"
#include "core/plat.h"
#include "core/store_share.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define QUEUE_TRIAGE_PARALLEL 2          /* triage is cheap: two at a time keeps the pool free */
#define QUEUE_BATCH_MAX 512              /* rows per discovery transaction */
#define QUEUE_DUP_WAIT_MS 30000          /* a duplicate waits this long for its original's analysis */
#define QUEUE_DB_RETRY_MS 1000
/* Files bigger than this are hashed AFTER their triage row is written: the SHA-256 of a 68 MiB heap
 * dump takes ~0.3 s and of a multi-GiB one tens of seconds, while triage itself reads only the
 * directories. Meanwhile a .NET dump waits in 'triaged' with its analysis held (due later), so the
 * duplicate check still sees the hash first; if the service dies in between, the hold simply ends. */
#define QUEUE_HASH_INLINE_MAX (4u << 20)
#define QUEUE_HASH_HOLD_MS (5 * 60 * 1000)

struct queue_triage_job {
	uv_work_t req;
	struct queue *q;
	int attempts;
	int held;                /* its analysis is held until the deferred hash is recorded */
	int64_t discovered_at;   /* the dump's (the date of its folder on the share) */
	struct worker_triage w;
};

struct queue_analysis_job {
	uv_work_t req;
	struct queue *q;
	int64_t id;
	int attempts;
	char *path;
	char file_id[96];
	struct plat_file *file;  /* open during the analysis step (pool thread) */
	struct worker_analysis_in in;
	struct worker_analysis_out out;
};

int64_t queue_backoff_ms(uint32_t base_s, int attempts)
{
	int64_t ms = (int64_t)base_s * 1000;
	int i;

	for (i = 1; i < attempts && ms < 86400000; i++)
		ms *= 2;
	return ms < 86400000 ? ms : 86400000;
}

static void queue_on_flush(uv_timer_t *t);
static void queue_on_due(uv_timer_t *t);

void queue_init(struct queue *q, uv_loop_t *loop, struct store *st, const struct config *cfg,
		worker_analyze_fn analyze)
{
	memset(q, 0, sizeof(*q));
	q->loop = loop;
	q->st = st;
	q->cfg = cfg;
	q->analyze = analyze;
	q->triage_max = QUEUE_TRIAGE_PARALLEL;
	atomic_init(&q->cancel, 0);
	uv_timer_init(loop, &q->due_timer);
	uv_timer_init(loop, &q->flush_timer);
	q->due_timer.data = q;
	q->flush_timer.data = q;
}

int queue_start(struct queue *q, struct ds_err *e)
{
	struct store_recovery r = { 0 };
	int rc;

	rc = store_recover(q->st, &r, e);
	if (rc != DS_OK)
		return rc;
	if (r.analyzing_reset > 0)
		log_info("queue", "%lld dump(s) were being analysed when the service stopped: queued again",
			 (long long)r.analyzing_reset);
	if (r.outbox_reset > 0)
		log_info("queue", "%lld mail message(s) were being sent when the service stopped: queued again "
				  "(a message the server had already accepted goes once more, same Message-ID)",
			 (long long)r.outbox_reset);
	queue_pump(q);
	return DS_OK;
}

int queue_inflight(const struct queue *q)
{
	return q->triage_inflight + q->analysis_inflight;
}

static void queue_check_idle(struct queue *q)
{
	if (q->stopping && queue_inflight(q) == 0 && q->on_idle != NULL)
		q->on_idle(q->ctx);
}

/* ---- discovery ---- */

static void queue_batch_free(struct queue *q)
{
	size_t i;

	for (i = 0; i < q->nbatch; i++)
		free(q->batch[i].path);
	q->nbatch = 0;
}

/* Writes the batch in one transaction. On a database error the batch is kept and retried. */
static int queue_flush(struct queue *q)
{
	struct store_file f;
	struct ds_err e = { 0 };
	int64_t id, now = plat_now_ms();
	size_t i;
	int rc, outcome;

	if (q->nbatch == 0)
		return DS_OK;
	rc = store_tx_begin(q->st, &e);
	if (rc != DS_OK)
		goto out;
	for (i = 0; i < q->nbatch; i++) {
		memset(&f, 0, sizeof(f));
		f.path = q->batch[i].path;
		f.size = q->batch[i].size;
		f.mtime_ns = q->batch[i].mtime_ns;
		rc = store_dump_upsert(q->st, &f, now, &id, &outcome, &e);
		if (rc != DS_OK) {
			store_tx_rollback(q->st);
			goto out;
		}
		if (outcome == STORE_UPSERT_SAME) {
			q->stats.seen_again++;
			log_debug("queue", "%s: already recorded as dump %lld", f.path, (long long)id);
		} else {
			q->stats.discovered++;
			log_info("queue", "dump %lld: %s (%llu bytes)%s", (long long)id, f.path,
				 (unsigned long long)f.size, outcome == STORE_UPSERT_REPLACED ? ", replacing an older file" : "");
		}
	}
	rc = store_tx_commit(q->st, &e);
	if (rc != DS_OK)
		goto out;
	queue_batch_free(q);
out:
	if (rc != DS_OK) {
		log_error("queue", "cannot record %zu discovered file(s), retrying: %s", q->nbatch, e.msg);
		if (!q->closed)
			uv_timer_start(&q->flush_timer, queue_on_flush, QUEUE_DB_RETRY_MS, 0);
	}
	return rc;
}

static void queue_on_flush(uv_timer_t *t)
{
	struct queue *q = t->data;

	if (queue_flush(q) == DS_OK)
		queue_pump(q);
}

void queue_on_ready(void *ctx, const struct watcher_ready *r)
{
	struct queue *q = ctx;
	struct queue_file *nb;
	char *path;

	if (q->closed)
		return;
	if (q->nbatch == q->capbatch) {
		size_t cap = q->capbatch ? q->capbatch * 2 : 64;
		nb = realloc(q->batch, cap * sizeof(*nb));
		if (nb == NULL)
			goto nomem;
		q->batch = nb;
		q->capbatch = cap;
	}
	path = strdup(r->path);
	if (path == NULL)
		goto nomem;
	q->batch[q->nbatch].path = path;
	q->batch[q->nbatch].size = r->size;
	q->batch[q->nbatch].mtime_ns = r->mtime_ns;
	q->nbatch++;
	/* Many files complete in the same loop turn during a burst: one transaction for all of them. */
	if (q->nbatch >= QUEUE_BATCH_MAX) {
		if (queue_flush(q) == DS_OK)
			queue_pump(q);
	} else if (!uv_is_active((uv_handle_t *)&q->flush_timer)) {
		uv_timer_start(&q->flush_timer, queue_on_flush, 0, 0);
	}
	return;
nomem:
	log_error("queue", "%s: out of memory; it will be seen again on the next rescan", r->path);
	if (q->watcher != NULL)
		watcher_forget(q->watcher, r->path);
}

/* ---- triage ---- */

static void queue_triage_work(uv_work_t *req)
{
	struct queue_triage_job *j = req->data;

	worker_triage_run(&j->w);
}

static void queue_fail_or_retry(struct queue *q, int64_t id, int attempts, int retry_state, const char *error)
{
	struct ds_err e = { 0 };
	int64_t due;

	if (attempts >= (int)q->cfg->max_attempts) {
		char msg[1200];
		snprintf(msg, sizeof(msg), "%s (gave up after %d attempts)", error, attempts);
		q->stats.failed++;
		log_warn("queue", "dump %lld failed: %s", (long long)id, msg);
		if (store_dump_transition(q->st, id, STORE_FAILED, 0, msg, &e) != DS_OK)
			log_error("queue", "dump %lld: %s", (long long)id, e.msg);
		return;
	}
	due = plat_now_ms() + queue_backoff_ms(q->cfg->backoff_base_s, attempts);
	q->stats.retries++;
	log_warn("queue", "dump %lld: %s; attempt %d of %u, next in %lld s", (long long)id, error, attempts,
		 q->cfg->max_attempts, (long long)((due - plat_now_ms()) / 1000));
	if (store_dump_transition(q->st, id, retry_state, due, error, &e) != DS_OK)
		log_error("queue", "dump %lld: %s", (long long)id, e.msg);
}

/* ---- the deferred hash of a big file (after its triage row) ---- */

static void queue_hash_work(uv_work_t *req)
{
	struct queue_triage_job *j = req->data;

	worker_hash_run(&j->w);
}

static void queue_hash_done(uv_work_t *req, int status)
{
	struct queue_triage_job *j = req->data;
	struct queue *q = j->q;
	struct ds_err e = { 0 };
	int64_t dup = 0;

	(void)status;
	q->triage_inflight--;
	if (j->w.hash_rc == DS_OK && store_dump_set_hash(q->st, j->w.id, j->w.sha256, &dup, &e) != DS_OK)
		log_error("queue", "dump %lld: cannot record its hash: %s", (long long)j->w.id, e.msg);
	log_debug("queue", "dump %lld hashed in %llu ms%s", (long long)j->w.id,
		  (unsigned long long)(j->w.hash_ns / 1000000), dup ? " (same content as an earlier dump)" : "");
	/* release the analysis (also when the hash failed: it is then analysed on its own) */
	if (j->held && store_dump_transition(q->st, j->w.id, STORE_TRIAGED, 0, NULL, &e) != DS_OK)
		log_error("queue", "dump %lld: %s", (long long)j->w.id, e.msg);
	worker_triage_clear(&j->w);
	free(j);
	queue_pump(q);
	queue_check_idle(q);
}

/* Starts the deferred hash of a recorded triage; 1 when started (j is then the hash job's). */
static int queue_start_hash(struct queue *q, struct queue_triage_job *j, int state)
{
	struct ds_err e = { 0 };

	if (state == STORE_TRIAGED) {
		if (store_dump_transition(q->st, j->w.id, STORE_TRIAGED, plat_now_ms() + QUEUE_HASH_HOLD_MS, NULL, &e) !=
		    DS_OK) {
			log_error("queue", "dump %lld: %s", (long long)j->w.id, e.msg);
			return 0;
		}
		j->held = 1;
	}
	if (uv_queue_work(q->loop, &j->req, queue_hash_work, queue_hash_done) != 0) {
		if (j->held)
			store_dump_transition(q->st, j->w.id, STORE_TRIAGED, 0, NULL, &e);
		return 0;
	}
	q->triage_inflight++;
	return 1;
}

static void queue_triage_done(uv_work_t *req, int status)
{
	struct queue_triage_job *j = req->data;
	struct queue *q = j->q;
	struct worker_verdict v;
	struct store_triage st;
	struct ds_err e = { 0 };
	int64_t dup = 0, bucket = 0;
	int rc, hashing = 0;

	(void)status;
	q->triage_inflight--;
	q->stats.triaged++;
	worker_triage_verdict(&j->w, &v);
	if (j->w.hash_rc == DS_OK && j->w.sha256[0] != '\0') {
		rc = store_dump_set_hash(q->st, j->w.id, j->w.sha256, &dup, &e);
		if (rc != DS_OK)
			log_error("queue", "dump %lld: cannot record its hash: %s", (long long)j->w.id, e.msg);
	}
	if (v.retry) {
		queue_fail_or_retry(q, j->w.id, j->attempts, STORE_DISCOVERED, v.error);
	} else if (j->w.rc == DS_OK) {
		worker_triage_to_store(&j->w.t, j->w.json, &st);
		st.file_id = j->w.file_id;
		st.share_wanted = j->w.file != NULL;
		rc = store_record_triage(q->st, j->w.id, &st, v.state, plat_now_ms(), &bucket, &e);
		if (rc != DS_OK) {
			log_error("queue", "dump %lld: cannot record triage: %s", (long long)j->w.id, e.msg);
			queue_fail_or_retry(q, j->w.id, j->attempts, STORE_DISCOVERED, e.msg);
		} else {
			log_info("queue", "dump %lld triaged in %llu ms: %s pid %llu %s%s%s%s", (long long)j->w.id,
				 (unsigned long long)(j->w.duration_ns / 1000000),
				 j->w.t.process_name ? j->w.t.process_name : "?", (unsigned long long)j->w.t.pid,
				 j->w.t.exc.name[0] ? j->w.t.exc.name : "", dup ? " (same content as dump " : "",
				 dup ? "earlier)" : "", v.state == STORE_TRIAGED ? "; waits for heap analysis" : "");
			/* the copy to the share is recorded as wanted: it runs on the pool now, with the file
			 * triage read (share_copy_file owns it from here) */
			if (j->w.file != NULL) {
				share_copy_file(q->share, j->w.id, j->w.path, j->discovered_at, j->w.file_id, j->w.file);
				j->w.file = NULL;
			}
			if (j->w.defer_hash)
				hashing = queue_start_hash(q, j, v.state);
			if (v.state == STORE_TRIAGED && q->analyze == NULL && !q->waiting_logged) {
				q->waiting_logged = 1;
				log_info("queue", "this queue triages only (it was given no analysis function): .NET "
						  "dumps with a heap stay 'triaged'");
			}
		}
	} else {
		if (v.state == STORE_FAILED)
			q->stats.failed++;
		log_warn("queue", "dump %lld %s: %s: %s", (long long)j->w.id, store_state_name(v.state), j->w.path,
			 v.error);
		if (store_dump_transition(q->st, j->w.id, v.state, 0, v.error, &e) != DS_OK)
			log_error("queue", "dump %lld: %s", (long long)j->w.id, e.msg);
	}
	if (!hashing) {
		worker_triage_clear(&j->w);
		free(j);
	}
	if (q->on_triaged != NULL)
		q->on_triaged(q->ctx);
	queue_pump(q);
	queue_check_idle(q);
}

/* Claims the next dump for a stage into *job; logs a failure other than DS_ENOENT (nothing to claim). */
static int queue_claim(struct queue *q, int stage, struct store_job *job)
{
	struct ds_err e = { 0 };
	int rc = store_claim(q->st, stage, plat_now_ms(), 0, job, &e);

	if (rc != DS_OK && rc != DS_ENOENT)
		log_error("queue", "cannot claim a dump for %s: %s",
			  stage == STORE_STAGE_TRIAGE ? "triage" : "analysis", e.msg);
	return rc;
}

static int queue_start_triage(struct queue *q)
{
	struct queue_triage_job *j;
	struct store_job job = { 0 };
	struct ds_err e = { 0 };
	int rc, copied = 0;

	rc = queue_claim(q, STORE_STAGE_TRIAGE, &job);
	if (rc != DS_OK)
		return rc;
	j = calloc(1, sizeof(*j));
	if (j == NULL) {
		store_job_clear(&job);
		return DS_ENOMEM;
	}
	j->q = q;
	j->attempts = job.attempts;
	j->w.id = job.id;
	j->w.path = job.path; /* taken over */
	j->w.defer_hash = job.size > QUEUE_HASH_INLINE_MAX && job.sha256[0] == '\0';
	j->discovered_at = job.discovered_at;
	/* one copy per dump on the share: a new triage of a dump already copied makes none */
	if (q->share != NULL && store_share_has_copy(q->st, j->w.id, &copied, &e) == DS_OK && !copied)
		j->w.keep_file = 1;
	job.path = NULL;
	store_job_clear(&job);
	j->req.data = j;
	rc = uv_queue_work(q->loop, &j->req, queue_triage_work, queue_triage_done);
	if (rc != 0) {
		log_error("queue", "cannot start triage: %s", uv_strerror(rc));
		store_dump_transition(q->st, j->w.id, STORE_DISCOVERED, plat_now_ms() + QUEUE_DB_RETRY_MS, NULL, &e);
		free(j->w.path);
		free(j);
		return DS_EIO;
	}
	q->triage_inflight++;
	return DS_OK;
}

/* ---- analysis ---- */

/* The re-check before the engine runs (issue 12 item 4): the path must still name the file triage read,
 * not a link, not a rewritten or swapped file. A dump recorded before identities existed is at least
 * opened without following a link. Pool thread. */
static int queue_analysis_open(struct queue_analysis_job *j)
{
	struct plat_file_id id;
	int rc;

	if (j->file_id[0] == '\0')
		return plat_file_open_ex(j->path, PLAT_OPEN_DUMP | PLAT_OPEN_LOCK, &j->file);
	rc = plat_file_id_parse(j->file_id, &id);
	if (rc == DS_OK)
		rc = plat_file_open_verified(j->path, &id, &j->file);
	return rc;
}

static void queue_analysis_work(uv_work_t *req)
{
	struct queue_analysis_job *j = req->data;
	int rc = queue_analysis_open(j);

	if (rc != DS_OK) {
		j->out.state = rc == DS_EPERM || rc == DS_EIO || rc == DS_ENOMEM ? STORE_TRIAGED : STORE_FAILED;
		j->out.transient = j->out.state == STORE_TRIAGED;
		snprintf(j->out.error, sizeof(j->out.error), "not analysed: %s: %s",
			 rc == DS_ENOENT ? "the file is gone" : ds_strerror(rc), j->path);
		return;
	}
	j->in.file = j->file;
	j->q->analyze(&j->in, &j->out);
	plat_file_close(j->file);
	j->file = NULL;
}

static void queue_analysis_done(uv_work_t *req, int status)
{
	struct queue_analysis_job *j = req->data;
	struct queue *q = j->q;
	struct ds_err e = { 0 };
	const char *err = j->out.error[0] ? j->out.error : NULL;
	int rc = DS_OK;

	(void)status;
	q->analysis_inflight--;
	q->stats.analyses++;
	if (j->out.transient) {
		if (j->out.has_analysis) /* keep what the failed attempt learned; the state is set below */
			rc = store_record_analysis(q->st, j->id, &j->out.an, STORE_TRIAGED,
						   plat_now_ms() + queue_backoff_ms(q->cfg->backoff_base_s, j->attempts),
						   err, NULL, &e);
		queue_fail_or_retry(q, j->id, j->attempts, STORE_TRIAGED, err ? err : "analysis failed");
	} else if (j->out.has_analysis) {
		rc = store_record_analysis(q->st, j->id, &j->out.an, j->out.state, 0, err, NULL, &e);
	} else {
		rc = store_dump_transition(q->st, j->id, j->out.state, 0, err, &e);
	}
	if (rc != DS_OK)
		log_error("queue", "dump %lld: cannot record the analysis: %s", (long long)j->id, e.msg);
	else if (!j->out.transient)
		log_info("queue", "dump %lld analysed: %s%s%s", (long long)j->id, store_state_name(j->out.state),
			 err ? ": " : "", err ? err : "");
	if (j->out.owner_free != NULL)
		j->out.owner_free(j->out.owner);
	free(j->path);
	free(j);
	if (q->on_analyzed != NULL)
		q->on_analyzed(q->ctx);
	queue_pump(q);
	queue_check_idle(q);
}

/* A dump with the same content as an earlier one shares its analysis. Returns 1 when handled. */
static int queue_link_duplicate(struct queue *q, const struct store_job *job)
{
	struct store_dump_ref orig;
	struct ds_err e = { 0 };
	char msg[256];
	int handled = 0, st;

	if (job->duplicate_of == 0 || store_dump_find_id(q->st, job->duplicate_of, &orig, &e) != DS_OK)
		goto out;
	st = orig.state;
	if (st == STORE_DONE || st == STORE_FAILED || st == STORE_UNSUPPORTED) {
		snprintf(msg, sizeof(msg), "same content as dump %lld: its analysis applies", (long long)job->duplicate_of);
		if (store_dump_transition(q->st, job->id, st, 0, st == STORE_DONE ? NULL : msg, &e) != DS_OK)
			log_error("queue", "dump %lld: %s", (long long)job->id, e.msg);
		else
			log_info("queue", "dump %lld: %s", (long long)job->id, msg);
		q->stats.linked++;
		handled = 1;
	} else if (st == STORE_TRIAGED || st == STORE_ANALYZING || st == STORE_DISCOVERED) {
		/* the original is not analysed yet: look again later instead of analysing twice */
		if (store_dump_transition(q->st, job->id, STORE_TRIAGED, plat_now_ms() + QUEUE_DUP_WAIT_MS, NULL, &e) != DS_OK)
			log_error("queue", "dump %lld: %s", (long long)job->id, e.msg);
		handled = 1;
	}
out:
	return handled;
}

static int queue_start_analysis(struct queue *q)
{
	struct queue_analysis_job *j;
	struct store_job job = { 0 };
	struct ds_err e = { 0 };
	int rc;

	rc = queue_claim(q, STORE_STAGE_ANALYZE, &job);
	if (rc != DS_OK)
		return rc;
	if (queue_link_duplicate(q, &job)) {
		store_job_clear(&job);
		return DS_OK;
	}
	j = calloc(1, sizeof(*j));
	if (j == NULL) {
		store_job_clear(&job);
		return DS_ENOMEM;
	}
	j->q = q;
	j->id = job.id;
	j->attempts = job.attempts;
	j->path = job.path;
	job.path = NULL;
	memcpy(j->file_id, job.file_id, sizeof(j->file_id));
	store_job_clear(&job);
	j->in.id = j->id;
	j->in.path = j->path;
	j->in.file_id = j->file_id;
	j->in.engine = q->cfg->engine;
	j->in.dac_dirs = (const char *const *)q->cfg->dac_dirs;
	j->in.ndac_dirs = q->cfg->ndac_dirs;
	j->in.cmd_timeout_ms = q->cfg->command_timeout_s * 1000u;
	j->in.dump_timeout_ms = q->cfg->dump_timeout_s * 1000u;
	j->in.max_roots = q->cfg->max_roots;
	j->in.max_output = (size_t)q->cfg->output_cap_bytes;
	j->in.cancel = &q->cancel;
	j->req.data = j;
	rc = uv_queue_work(q->loop, &j->req, queue_analysis_work, queue_analysis_done);
	if (rc != 0) {
		log_error("queue", "cannot start an analysis: %s", uv_strerror(rc));
		store_dump_transition(q->st, j->id, STORE_TRIAGED, plat_now_ms() + QUEUE_DB_RETRY_MS, NULL, &e);
		free(j->path);
		free(j);
		return DS_EIO;
	}
	log_info("queue", "dump %lld: SOS analysis started (attempt %d)", (long long)j->id, j->attempts);
	q->analysis_inflight++;
	return DS_OK;
}

/* ---- pumping ---- */

static void queue_on_due(uv_timer_t *t)
{
	queue_pump(t->data);
}

static void queue_arm_due(struct queue *q)
{
	int64_t at = 0, a2 = 0, now = plat_now_ms();
	struct ds_err e = { 0 };
	int has = 0;

	if (store_next_due(q->st, STORE_STAGE_TRIAGE, &at, &e) == DS_OK)
		has = 1;
	if (q->analyze != NULL && store_next_due(q->st, STORE_STAGE_ANALYZE, &a2, &e) == DS_OK) {
		if (!has || a2 < at)
			at = a2;
		has = 1;
	}
	uv_timer_stop(&q->due_timer);
	/* Rows due now but not claimed are waiting for capacity: a finishing job pumps again. */
	if (has && at > now)
		uv_timer_start(&q->due_timer, queue_on_due, (uint64_t)(at - now), 0);
}

void queue_pump(struct queue *q)
{
	if (q->stopping || q->closed)
		return;
	if (q->nbatch > 0 && queue_flush(q) != DS_OK)
		return;
	while (q->triage_inflight < q->triage_max && queue_start_triage(q) == DS_OK)
		;
	while (q->analyze != NULL && q->analysis_inflight < (int)q->cfg->concurrency && queue_start_analysis(q) == DS_OK)
		;
	queue_arm_due(q);
}

void queue_stop(struct queue *q)
{
	if (q->stopping)
		return;
	q->stopping = 1;
	atomic_store(&q->cancel, 1);
	uv_timer_stop(&q->due_timer);
	uv_timer_stop(&q->flush_timer);
	queue_flush(q); /* files already judged complete get their rows now */
	if (q->analysis_inflight > 0)
		log_info("queue", "stopping: %d analysis job(s) told to give up; they are resumed at the next start",
			 q->analysis_inflight);
	queue_check_idle(q);
}

void queue_close(struct queue *q)
{
	if (q->closed)
		return;
	q->closed = 1;
	uv_close((uv_handle_t *)&q->due_timer, NULL);
	uv_close((uv_handle_t *)&q->flush_timer, NULL);
	queue_batch_free(q);
	free(q->batch);
	q->batch = NULL;
	q->capbatch = 0;
}
