/* share.c - the copies to the fleet's dump share (see share.h): a few jobs on the libuv pool, each
 * copying one dump (plat_file_copy_atomic) from the file triage kept open or, for a later attempt, from
 * the dump reopened by its recorded identity; their results recorded on the loop thread; and the share's
 * retention. It knows no SQL (core/store_share.h) and does not triage. */
#include "share.h"

#include "core/log.h"
#include "core/plat.h"
#include "core/store_share.h"
#include "lib/fleet_config.h"
#include "lib/when.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SHARE_LOG "share"
/* How often a copy held by the test gate looks for its file. */
#define SHARE_GATE_POLL_MS 20

struct share_job {
	uv_work_t req;
	struct share *sh;
	struct share_job *next;     /* in the waiting list */
	int64_t dump_id;
	int64_t day_ms;             /* the dump's discovery: its folder's date */
	char *path;                 /* the local dump (owned) */
	char file_id[PLAT_FILE_ID_TEXT]; /* its identity: what the copied file must be, from start to end */
	struct plat_file *file;     /* owned; NULL: reopened by the pool thread from path and file_id */
	struct plat_file_id want;   /* file_id parsed (pool thread) */
	/* pool thread -> loop thread */
	int rc;
	char dest[1400];            /* the copy's path when rc == DS_OK */
};

/* The deletions of one round of the share's retention (file deletions on a share that hangs would hold
 * the loop as much as a copy). */
struct share_expire_job {
	uv_work_t req;
	struct share *sh;
	struct store_share_item *items; /* owned */
	size_t n;
	int *rcs;                       /* plat_unlink's result per item (pool thread) */
};

struct share {
	uv_loop_t *loop;
	struct store *st;                 /* borrowed, loop thread only */
	const struct fleet_config *fc;    /* borrowed */
	char host[256];
	char *gate;                       /* SHARE_TEST_GATE_ENV's file, or NULL */
	int64_t busy_ids[SHARE_COPY_MAX]; /* the dumps being copied (0: free slot) */
	int inflight;
	int expiring;                     /* a share_expire_job is on the pool */
	struct share_job *wait_head, *wait_tail;
	int nwait;
	int stopping;
	atomic_int cancel;                /* read by the pool threads: the service is stopping */
	struct share_stats stats;
	void (*on_recorded)(void *ctx);
	void *rec_ctx;
	void (*on_stopped)(void *ctx);
	void *stop_ctx;
};

static void share_clean(char *s)
{
	for (; *s != '\0'; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') || *s == '.' ||
		      *s == '-' || *s == '_'))
			*s = '_';
}

void share_names(const char *host, int64_t id, const char *path, int64_t day_ms, char *dir, size_t ndir,
		 char *name, size_t nname)
{
	const char *base = path;
	char day[16];
	size_t i;

	for (i = 0; path[i] != '\0'; i++)
		if (plat_is_path_sep((unsigned char)path[i]))
			base = path + i + 1;
	when_format_day((day_ms > 0 ? day_ms : 0) / 86400000, day, sizeof(day));
	snprintf(dir, ndir, "%.200s", host[0] != '\0' ? host : "unknown");
	share_clean(dir);
	if (dir[0] == '.') /* no "." or ".." folder, no hidden one */
		dir[0] = '_';
	i = strlen(dir);
	snprintf(dir + i, ndir - i, "/%s", day);
	snprintf(name, nname, "%lld-%.200s", (long long)id, base);
	share_clean(name);
}

static void share_job_free(struct share_job *j)
{
	if (j == NULL)
		return;
	plat_file_close(j->file);
	free(j->path);
	free(j);
}

/* ---- the copy (pool thread) ---- */

/* DS_OK when the open file is still the one triage recorded (not written to since), else DS_ECHANGED. */
static int share_same(struct share_job *j)
{
	struct plat_file_id now;
	int rc = plat_file_identity(j->file, &now);

	return rc != DS_OK ? rc : plat_file_id_same(&now, &j->want) ? DS_OK : DS_ECHANGED;
}

/* plat_file_copy_atomic's callback: gives up when the service stops; with the test gate, holds the
 * copy after its first chunk until the gate's file exists; after the last chunk (before the rename),
 * refuses a file that changed while it was copied. */
static int share_progress(void *ctx, uint64_t done, uint64_t total)
{
	struct share_job *j = ctx;
	struct plat_stat st;

	while (j->sh->gate != NULL && !atomic_load(&j->sh->cancel) && plat_lstat(j->sh->gate, &st) != DS_OK)
		uv_sleep(SHARE_GATE_POLL_MS);
	if (atomic_load(&j->sh->cancel))
		return DS_ECANCELED;
	return done == total ? share_same(j) : DS_OK;
}

static void share_work(uv_work_t *req)
{
	struct share_job *j = req->data;
	char dir[256], name[256];

	j->rc = plat_file_id_parse(j->file_id, &j->want);
	if (j->rc == DS_OK)
		j->rc = j->file == NULL ? plat_file_open_verified(j->path, &j->want, &j->file) : share_same(j);
	if (j->rc == DS_OK) {
		share_names(j->sh->host, j->dump_id, j->path, j->day_ms, dir, sizeof(dir), name, sizeof(name));
		j->rc = plat_file_copy_atomic(j->file, j->sh->fc->dump_share, dir, name, share_progress, j);
	}
	if (j->rc == DS_OK)
		snprintf(j->dest, sizeof(j->dest), "%s/%s/%s", j->sh->fc->dump_share, dir, name);
	/* the descriptor is of no use any more: closed here, not held until the loop gets to the result */
	plat_file_close(j->file);
	j->file = NULL;
}

/* ---- the loop thread ---- */

static int share_is_busy(const struct share *sh, int64_t dump_id)
{
	const struct share_job *w;
	int i;

	for (i = 0; i < SHARE_COPY_MAX; i++)
		if (sh->busy_ids[i] == dump_id)
			return 1;
	for (w = sh->wait_head; w != NULL; w = w->next)
		if (w->dump_id == dump_id)
			return 1;
	return 0;
}

static void share_done(uv_work_t *req, int status);
static void share_due(struct share *sh, int64_t now);

/* Calls on_stopped once stopping and nothing is on the pool any more. */
static void share_check_stopped(struct share *sh)
{
	void (*cb)(void *) = sh->on_stopped;

	if (!sh->stopping || sh->inflight > 0 || sh->expiring || cb == NULL)
		return;
	sh->on_stopped = NULL;
	cb(sh->stop_ctx);
}

/* Starts j on the pool (a slot is free); on failure j is freed and its dump stays wanted. */
static void share_start(struct share *sh, struct share_job *j)
{
	int i, rc;

	j->sh = sh;
	j->req.data = j;
	rc = uv_queue_work(sh->loop, &j->req, share_work, share_done);
	if (rc != 0) {
		log_error(SHARE_LOG, "dump %lld: cannot start its copy: %s (tried again later)", (long long)j->dump_id,
			  uv_strerror(rc));
		share_job_free(j);
		return;
	}
	for (i = 0; i < SHARE_COPY_MAX; i++)
		if (sh->busy_ids[i] == 0) {
			sh->busy_ids[i] = j->dump_id;
			break;
		}
	sh->inflight++;
}

/* Starts waiting copies while slots are free. */
static void share_pump(struct share *sh)
{
	struct share_job *j;

	while (!sh->stopping && sh->inflight < SHARE_COPY_MAX && sh->wait_head != NULL) {
		j = sh->wait_head;
		sh->wait_head = j->next;
		if (sh->wait_head == NULL)
			sh->wait_tail = NULL;
		sh->nwait--;
		j->next = NULL;
		share_start(sh, j);
	}
}

/* Takes j: started, put in the waiting list, or (no room, stopping, its dump already under way) freed
 * with its dump left wanted for a later round. */
static void share_submit(struct share *sh, struct share_job *j)
{
	if (sh->stopping || share_is_busy(sh, j->dump_id)) {
		share_job_free(j);
		return;
	}
	if (sh->inflight < SHARE_COPY_MAX && sh->wait_head == NULL) {
		share_start(sh, j);
		return;
	}
	if (sh->nwait >= SHARE_WAIT_MAX) {
		log_debug(SHARE_LOG, "dump %lld: %d copies waiting already; it is copied by a later round",
			  (long long)j->dump_id, sh->nwait);
		share_job_free(j);
		return;
	}
	if (sh->wait_tail != NULL)
		sh->wait_tail->next = j;
	else
		sh->wait_head = j;
	sh->wait_tail = j;
	sh->nwait++;
}

static void share_done(uv_work_t *req, int status)
{
	struct share_job *j = req->data;
	struct share *sh = j->sh;
	struct ds_err e = { 0 };
	char why[300];
	int i, more = 0, rc = status == UV_ECANCELED ? DS_ECANCELED : j->rc;

	for (i = 0; i < SHARE_COPY_MAX; i++)
		if (sh->busy_ids[i] == j->dump_id) {
			sh->busy_ids[i] = 0;
			break;
		}
	sh->inflight--;
	if (rc == DS_ECANCELED) {
		/* nothing recorded: the dump stays wanted, and the next start copies it */
		sh->stats.stopped++;
		log_info(SHARE_LOG, "dump %lld: copy to the share stopped (the service is stopping); made at the next "
				    "start", (long long)j->dump_id);
	} else {
		if (rc == DS_OK) {
			sh->stats.copied++;
			log_info(SHARE_LOG, "dump %lld copied to %s", (long long)j->dump_id, j->dest);
		} else {
			sh->stats.failed++;
			snprintf(why, sizeof(why), "cannot copy to %s: %s", sh->fc->dump_share, ds_strerror(rc));
			log_warn(SHARE_LOG, "dump %lld: %s (the local dump is kept; the copy is tried again later)",
				 (long long)j->dump_id, why);
		}
		if (store_share_record(sh->st, j->dump_id, rc == DS_OK ? j->dest : NULL, rc == DS_OK ? NULL : why,
				       plat_now_ms(), &e) != DS_OK) {
			log_error(SHARE_LOG, "dump %lld: cannot record its copy: %s", (long long)j->dump_id, e.msg);
		} else {
			if (rc == DS_OK && sh->on_recorded != NULL)
				sh->on_recorded(sh->rec_ctx);
			more = 1;
		}
	}
	share_job_free(j);
	share_pump(sh);
	/* a slot may still be free: the next copies due (after a restart there may be many) go on now
	 * rather than at the next round; not after a result the store could not take (the same dump
	 * would be due again at once) */
	if (more && !sh->stopping)
		share_due(sh, plat_now_ms());
	share_check_stopped(sh);
}

int share_new(uv_loop_t *loop, struct store *st, const struct fleet_config *fc, const char *host, struct share **out)
{
	struct share *sh;
	const char *gate;

	*out = NULL;
	if (fc == NULL || fc->dump_share == NULL)
		return DS_OK;
	sh = calloc(1, sizeof(*sh));
	if (sh == NULL)
		return DS_ENOMEM;
	sh->loop = loop;
	sh->st = st;
	sh->fc = fc;
	snprintf(sh->host, sizeof(sh->host), "%s", host != NULL ? host : "");
	atomic_init(&sh->cancel, 0);
	gate = getenv(SHARE_TEST_GATE_ENV);
	if (gate != NULL && gate[0] != '\0') {
		sh->gate = strdup(gate);
		if (sh->gate == NULL) {
			free(sh);
			return DS_ENOMEM;
		}
		log_warn(SHARE_LOG, "%s is set (a test's fault injection): each copy waits for %s", SHARE_TEST_GATE_ENV,
			 sh->gate);
	}
	*out = sh;
	return DS_OK;
}

void share_set_hook(struct share *sh, void (*on_recorded)(void *ctx), void *ctx)
{
	if (sh == NULL)
		return;
	sh->on_recorded = on_recorded;
	sh->rec_ctx = ctx;
}

void share_copy_file(struct share *sh, int64_t dump_id, const char *path, int64_t discovered_at,
		     const char *file_id, struct plat_file *f)
{
	struct share_job *j;

	if (sh == NULL) {
		plat_file_close(f);
		return;
	}
	j = calloc(1, sizeof(*j));
	if (j != NULL)
		j->path = strdup(path);
	if (j == NULL || j->path == NULL) {
		log_error(SHARE_LOG, "dump %lld: out of memory; it is copied by a later round", (long long)dump_id);
		plat_file_close(f);
		share_job_free(j);
		return;
	}
	j->dump_id = dump_id;
	j->day_ms = discovered_at;
	snprintf(j->file_id, sizeof(j->file_id), "%s", file_id);
	j->file = f;
	share_submit(sh, j);
}

/* Starts the copies that are due, as free slots allow (a copy under way or waiting is skipped). */
static void share_due(struct share *sh, int64_t now)
{
	struct store_share_item *items = NULL;
	struct share_job *j;
	struct ds_err e = { 0 };
	int64_t gone = 0;
	size_t n = 0, i;
	int room = SHARE_COPY_MAX - sh->inflight;

	if (room <= 0 || sh->wait_head != NULL)
		return;
	if (store_share_drop_gone(sh->st, &gone, &e) != DS_OK)
		log_error(SHARE_LOG, "%s", e.msg);
	else if (gone > 0)
		log_warn(SHARE_LOG, "%lld copy(ies) never made: the local dump was deleted (retention) first", (long long)gone);
	/* enough rows that those already under way cannot crowd out the free slots */
	if (store_share_due(sh->st, now, SHARE_RETRY_AFTER_MS, (size_t)(room + sh->inflight), &items, &n, &e) != DS_OK)
		log_error(SHARE_LOG, "%s", e.msg);
	for (i = 0; i < n && sh->inflight < SHARE_COPY_MAX; i++) {
		if (share_is_busy(sh, items[i].dump_id))
			continue;
		j = calloc(1, sizeof(*j));
		if (j == NULL)
			break;
		j->dump_id = items[i].dump_id;
		j->day_ms = items[i].discovered_at;
		j->path = items[i].path;
		items[i].path = NULL;
		snprintf(j->file_id, sizeof(j->file_id), "%s", items[i].file_id);
		share_submit(sh, j);
	}
	store_share_items_free(items, n);
}

static void share_expire_free(struct share_expire_job *x)
{
	store_share_items_free(x->items, x->n);
	free(x->rcs);
	free(x);
}

/* Pool thread: the deletions, until the service stops. */
static void share_expire_work(uv_work_t *req)
{
	struct share_expire_job *x = req->data;
	size_t i;

	for (i = 0; i < x->n; i++)
		x->rcs[i] = atomic_load(&x->sh->cancel) ? DS_ECANCELED : plat_unlink(x->items[i].path);
}

/* Loop thread: the store forgets the copies that are gone (and the central rows stop naming them). */
static void share_expire_done(uv_work_t *req, int status)
{
	struct share_expire_job *x = req->data;
	struct share *sh = x->sh;
	struct ds_err e = { 0 };
	int64_t now = plat_now_ms();
	size_t i, gone = 0;

	(void)status;
	for (i = 0; i < x->n; i++) {
		if (x->rcs[i] == DS_ECANCELED)
			continue;
		if (x->rcs[i] != DS_OK && x->rcs[i] != DS_ENOENT) {
			log_warn(SHARE_LOG, "cannot delete %s: %s", x->items[i].path, ds_strerror(x->rcs[i]));
			continue;
		}
		if (store_share_forget(sh->st, x->items[i].dump_id, now, &e) != DS_OK)
			log_error(SHARE_LOG, "%s", e.msg);
		else
			gone++;
	}
	if (gone > 0) {
		log_info(SHARE_LOG, "%zu copy(ies) older than %u day(s) deleted from %s", gone, sh->fc->dump_share_days,
			 sh->fc->dump_share);
		if (sh->on_recorded != NULL)
			sh->on_recorded(sh->rec_ctx);
	}
	share_expire_free(x);
	sh->expiring = 0;
	share_check_stopped(sh);
}

/* Starts the deletion of the copies older than fleet.dump_share_days (only files in the store's list)
 * on the pool, one round at a time. */
static void share_expire(struct share *sh, int64_t now)
{
	struct share_expire_job *x;
	struct ds_err e = { 0 };
	int rc;

	if (sh->fc->dump_share_days == 0 || sh->expiring)
		return;
	x = calloc(1, sizeof(*x));
	if (x == NULL)
		return;
	x->sh = sh;
	if (store_share_expired(sh->st, now - (int64_t)sh->fc->dump_share_days * 86400000, SHARE_EXPIRE_MAX,
				&x->items, &x->n, &e) != DS_OK)
		log_error(SHARE_LOG, "%s", e.msg);
	x->rcs = x->n > 0 ? calloc(x->n, sizeof(*x->rcs)) : NULL;
	if (x->n == 0 || x->rcs == NULL) {
		share_expire_free(x);
		return;
	}
	x->req.data = x;
	rc = uv_queue_work(sh->loop, &x->req, share_expire_work, share_expire_done);
	if (rc != 0) {
		log_error(SHARE_LOG, "cannot start the share's retention: %s", uv_strerror(rc));
		share_expire_free(x);
		return;
	}
	sh->expiring = 1;
}

void share_round(struct share *sh, int64_t now)
{
	if (sh == NULL || sh->stopping)
		return;
	share_due(sh, now);
	share_expire(sh, now);
}

void share_stop(struct share *sh, void (*on_stopped)(void *ctx), void *ctx)
{
	struct share_job *j;

	if (sh == NULL) {
		if (on_stopped != NULL)
			on_stopped(ctx);
		return;
	}
	sh->stopping = 1;
	atomic_store(&sh->cancel, 1);
	while ((j = sh->wait_head) != NULL) {
		sh->wait_head = j->next;
		share_job_free(j);
	}
	sh->wait_tail = NULL;
	sh->nwait = 0;
	if (sh->inflight > 0)
		log_info(SHARE_LOG, "stopping: %d copy(ies) to the share told to give up; made at the next start",
			 sh->inflight);
	sh->on_stopped = on_stopped;
	sh->stop_ctx = ctx;
	share_check_stopped(sh);
}

int share_busy(const struct share *sh)
{
	return sh != NULL ? sh->inflight + sh->expiring : 0;
}

void share_get_stats(const struct share *sh, struct share_stats *out)
{
	memset(out, 0, sizeof(*out));
	if (sh != NULL)
		*out = sh->stats;
}

void share_free(struct share *sh)
{
	struct share_job *j;

	if (sh == NULL)
		return;
	while ((j = sh->wait_head) != NULL) {
		sh->wait_head = j->next;
		share_job_free(j);
	}
	/* A job still on the pool (the stop's grace ran out; the process is ending) reads sh: left to it. */
	if (share_busy(sh))
		return;
	free(sh->gate);
	free(sh);
}
