/* daemon.c - ties the service together on one libuv loop: store, watcher, queue, timers (heartbeat,
 * retention) and signals. Start-up fails loudly and early (folders, database, watches); once running,
 * errors are logged and the loop goes on. It does not parse dumps or decide queue states. */
#include "daemon.h"
#include "analysis.h"
#include "fleet.h"
#include "mailer.h"
#include "queue.h"
#include "share.h"
#include "lib/retention.h"
#include "watcher.h"

#include "core/log.h"
#include "core/plat.h"
#include "core/store.h"

#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>

#include <uv.h>

#define DAEMON_RETENTION_DEBOUNCE_MS 2000

static void daemon_hook_publish(uv_async_t *a);

struct daemon {
	const struct config *cfg;
	uv_loop_t *loop;
	struct store *st;
	struct queue q;
	struct watcher *w;
	struct mailer *mailer;       /* NULL without a "mail" section */
	struct fleet *fleet;         /* NULL without a "fleet" section */
	struct share *share;         /* NULL without fleet.dump_share */
	char host[256];
	uv_timer_t heartbeat, retention, retention_soon, grace;
	uv_signal_t sigterm, sigint, sighup;
	uv_async_t stopreq;          /* daemon_request_stop from another thread */
	int stopping;
	int queue_idle, mailer_stopped, fleet_stopped, share_stopped;
	int handles_open;
	struct plat_lock *lock;      /* DB.lock: one dumpscoutd per database */
};

static void daemon_retention(struct daemon *d)
{
	struct retention_quota quota = { d->cfg->max_count, d->cfg->max_bytes, d->cfg->max_age_days };
	struct retention_report rep;
	struct ds_err e = { 0 };

	if (d->stopping)
		return;
	if (retention_run(d->st, &quota, plat_now_ms(), 0, &rep, &e) != DS_OK)
		log_error("retention", "%s", e.msg);
	else if (rep.deleted > 0 || rep.errors > 0)
		log_info("retention", "%zu of %zu raw file(s) deleted (%llu bytes), %zu could not be", rep.deleted,
			 rep.files_before, (unsigned long long)rep.bytes_deleted, rep.errors);
	share_round(d->share, plat_now_ms());
}

static void daemon_on_retention(uv_timer_t *t)
{
	daemon_retention(t->data);
}

/* After each new dump, retention runs once things have been quiet for a moment (a burst is one run);
 * the mailer looks for new buckets. */
static void daemon_on_triaged(void *ctx)
{
	struct daemon *d = ctx;

	if (!d->stopping)
		uv_timer_start(&d->retention_soon, daemon_on_retention, DAEMON_RETENTION_DEBOUNCE_MS, 0);
	mailer_on_recorded(d->mailer);
	fleet_on_recorded(d->fleet);
}

/* An analysis was recorded: it may have brought a new root signature. */
static void daemon_on_analyzed(void *ctx)
{
	struct daemon *d = ctx;

	mailer_on_recorded(d->mailer);
	fleet_on_recorded(d->fleet);
}

static void daemon_on_heartbeat(uv_timer_t *t)
{
	struct daemon *d = t->data;
	struct watcher_stats ws;
	struct ds_err e = { 0 };

	if (store_status_heartbeat(d->st, plat_now_ms(), &e) != DS_OK)
		log_warn("daemon", "heartbeat: %s", e.msg);
	/* rows another process made due (`dumpscout reanalyze` requeues them) are claimed within a beat */
	if (!d->stopping)
		queue_pump(&d->q);
	if (d->w != NULL && log_get_level() >= LOG_DEBUG) {
		watcher_get_stats(d->w, &ws);
		log_debug("daemon", "events %llu, scans %llu (%llu skipped), files ready %llu, pending %zu; "
				    "rows new %llu, seen again %llu, triaged %llu, failed %llu, in flight %d",
			  (unsigned long long)ws.events, (unsigned long long)ws.scans,
			  (unsigned long long)ws.scans_skipped, (unsigned long long)ws.ready, ws.pending,
			  (unsigned long long)d->q.stats.discovered, (unsigned long long)d->q.stats.seen_again,
			  (unsigned long long)d->q.stats.triaged, (unsigned long long)d->q.stats.failed,
			  queue_inflight(&d->q));
	}
}

static void daemon_on_closed(uv_handle_t *h)
{
	struct daemon *d = h->data;

	d->handles_open--;
}

static void daemon_close_handle(struct daemon *d, uv_handle_t *h)
{
	if (!uv_is_closing(h)) {
		h->data = d;
		uv_close(h, daemon_on_closed);
	}
}

/* Everything has stopped (the queue's work and the mailer's delivery round): close the remaining
 * handles so uv_run returns. */
static void daemon_finish(struct daemon *d)
{
	if (!d->queue_idle || (d->mailer != NULL && !d->mailer_stopped) || (d->fleet != NULL && !d->fleet_stopped) ||
	    (d->share != NULL && !d->share_stopped))
		return;
	uv_timer_stop(&d->grace);
	daemon_close_handle(d, (uv_handle_t *)&d->grace);
	daemon_close_handle(d, (uv_handle_t *)&d->sigterm);
	daemon_close_handle(d, (uv_handle_t *)&d->sigint);
	daemon_hook_publish(NULL);
	daemon_close_handle(d, (uv_handle_t *)&d->stopreq);
	queue_close(&d->q);
}

static void daemon_on_idle(void *ctx)
{
	struct daemon *d = ctx;

	d->queue_idle = 1;
	daemon_finish(d);
}

static void daemon_on_mailer_stopped(void *ctx)
{
	struct daemon *d = ctx;

	d->mailer_stopped = 1;
	daemon_finish(d);
}

static void daemon_on_fleet_stopped(void *ctx)
{
	struct daemon *d = ctx;

	d->fleet_stopped = 1;
	daemon_finish(d);
}

static void daemon_on_share_stopped(void *ctx)
{
	struct daemon *d = ctx;

	d->share_stopped = 1;
	daemon_finish(d);
}

/* A copy on the share was recorded (with a snapshot naming it): publish it soon. */
static void daemon_on_shared(void *ctx)
{
	struct daemon *d = ctx;

	fleet_on_recorded(d->fleet);
}

/* The fleet's digest sender queued mail: deliver it now. */
static void daemon_on_fleet_mail(void *ctx)
{
	struct daemon *d = ctx;

	mailer_poke(d->mailer);
}

static void daemon_on_grace(uv_timer_t *t)
{
	struct daemon *d = t->data;

	log_warn("daemon", "%d job(s)%s%s%s still running after %d ms: leaving them to the next start",
		 queue_inflight(&d->q), mailer_busy(d->mailer) ? " and a mail delivery round" : "",
		 fleet_busy(d->fleet) ? " and a fleet publishing round" : "",
		 share_busy(d->share) ? " and a copy to the share (its temporary file is replaced then)" : "",
		 DAEMON_STOP_GRACE_MS);
	uv_stop(d->loop);
}

static void daemon_stop(struct daemon *d, const char *why)
{
	if (d->stopping) {
		log_warn("daemon", "%s again: stopping now", why);
		uv_stop(d->loop);
		return;
	}
	d->stopping = 1;
	log_info("daemon", "%s: stopping (waiting for work in flight)", why);
	watcher_close(d->w);
	d->w = NULL;
	d->q.watcher = NULL;
	uv_timer_stop(&d->heartbeat);
	uv_timer_stop(&d->retention);
	uv_timer_stop(&d->retention_soon);
	daemon_close_handle(d, (uv_handle_t *)&d->heartbeat);
	daemon_close_handle(d, (uv_handle_t *)&d->retention);
	daemon_close_handle(d, (uv_handle_t *)&d->retention_soon);
	daemon_close_handle(d, (uv_handle_t *)&d->sighup);
	/* SIGTERM/SIGINT stay armed until the work is done: a second one stops at once. */
	uv_unref((uv_handle_t *)&d->sigterm);
	uv_unref((uv_handle_t *)&d->sigint);
	uv_timer_start(&d->grace, daemon_on_grace, DAEMON_STOP_GRACE_MS, 0);
	mailer_stop(d->mailer, daemon_on_mailer_stopped, d); /* calls back once its round in flight ends */
	fleet_stop(d->fleet, daemon_on_fleet_stopped, d);    /* the same for a publishing round */
	share_stop(d->share, daemon_on_share_stopped, d);    /* copies under way give up at their next chunk */
	queue_stop(&d->q); /* calls daemon_on_idle, now or when the last job ends */
}

/* The stop and ready hooks for a supervisor that sends no signal (the Windows service control
 * manager's handler runs on another thread). daemon_stop_async is the running loop's handle. */
static uv_once_t daemon_hook_once = UV_ONCE_INIT;
static uv_mutex_t daemon_hook_lock;
static uv_async_t *daemon_stop_async;
static int daemon_stop_early; /* asked before the loop could take it */
static void (*daemon_ready_fn)(void *ctx);
static void *daemon_ready_ctx;

static void daemon_hook_init(void)
{
	uv_mutex_init(&daemon_hook_lock);
}

static void daemon_hook_publish(uv_async_t *a)
{
	uv_once(&daemon_hook_once, daemon_hook_init);
	uv_mutex_lock(&daemon_hook_lock);
	daemon_stop_async = a;
	if (a != NULL && daemon_stop_early)
		uv_async_send(a);
	uv_mutex_unlock(&daemon_hook_lock);
}

void daemon_request_stop(void)
{
	uv_once(&daemon_hook_once, daemon_hook_init);
	uv_mutex_lock(&daemon_hook_lock);
	daemon_stop_early = 1;
	if (daemon_stop_async != NULL)
		uv_async_send(daemon_stop_async);
	uv_mutex_unlock(&daemon_hook_lock);
}

void daemon_set_ready_hook(void (*fn)(void *ctx), void *ctx)
{
	daemon_ready_fn = fn;
	daemon_ready_ctx = ctx;
}

static void daemon_on_stop_request(uv_async_t *a)
{
	struct daemon *d = a->data;

	if (!d->stopping) /* several sends may arrive as one callback, or a stop after a stop */
		daemon_stop(d, "stop requested");
}

static void daemon_on_signal(uv_signal_t *s, int signum)
{
	struct daemon *d = s->data;

	if (signum == SIGHUP) {
		log_info("daemon", "SIGHUP: configuration is read at start-up only; restart the service to apply changes");
		return;
	}
	daemon_stop(d, signum == SIGTERM ? "SIGTERM" : "SIGINT");
}

/* Creates a missing folder. Dump folders are written by OTHER services (createdump runs as the crashing
 * program's user): sticky and writable by all, not listable by them (01733), like a drop box. */
static int daemon_folder(const char *path, int mode, const char *what)
{
	struct plat_stat st;
	int rc;

	if (plat_lstat(path, &st) == DS_OK) {
		if (!st.is_dir) {
			log_error("daemon", "%s %s exists but is not a folder", what, path);
			return DS_EINVAL;
		}
		return DS_OK;
	}
	rc = plat_mkdirs(path, 0755);
	if (rc == DS_OK)
		rc = plat_chmod(path, mode);
	if (rc != DS_OK)
		log_error("daemon", "cannot create %s %s: %s", what, path, ds_strerror(rc));
	else
		log_info("daemon", "created %s %s (mode %04o)", what, path, (unsigned)mode);
	return rc;
}

/* 1 if `in` is a path inside folder `dir` (textually; both as configured, absolute). */
static int daemon_inside(const char *in, const char *dir)
{
	size_t n = strlen(dir);

	while (n > 1 && plat_is_path_sep((unsigned char)dir[n - 1]))
		n--;
	return strncmp(in, dir, n) == 0 && plat_is_path_sep((unsigned char)in[n]);
}

/* The data folder and the database files are private (issue 12 item 6; docs/service.md "Private data"):
 * the folder 0700, or 0711 (enter, not list) when a dump folder lies inside it so that crashing
 * programs can reach that folder; the database, -wal, -shm 0600. Modes that are looser are tightened
 * (an install made before this version had 0711 and 0644). */
static int daemon_private(const struct config *cfg)
{
	static const char *const sfx[] = { "", "-wal", "-shm" };
	char path[4200];
	size_t i;
	int mode = 0700, have, rc;

	for (i = 0; i < cfg->ndump_dirs; i++)
		if (daemon_inside(cfg->dump_dirs[i], cfg->data_dir))
			mode = 0711;
	rc = daemon_folder(cfg->data_dir, mode, "data folder");
	if (rc == DS_OK && plat_file_mode(cfg->data_dir, &have) == DS_OK && (have & 0777 & ~mode) != 0) {
		rc = plat_chmod(cfg->data_dir, mode);
		log_info("daemon", "data folder %s was mode %04o: now %04o", cfg->data_dir, (unsigned)(have & 07777),
			 (unsigned)mode);
	}
	for (i = 0; rc == DS_OK && i < DS_ARRAY_LEN(sfx); i++) {
		snprintf(path, sizeof(path), "%s%s", cfg->db, sfx[i]);
		if (plat_file_mode(path, &have) == DS_OK && (have & 077) != 0) {
			rc = plat_chmod(path, 0600);
			log_info("daemon", "%s was mode %04o: now 0600", path, (unsigned)(have & 07777));
		}
	}
	if (rc != DS_OK)
		log_error("daemon", "cannot make the data folder private: %s", ds_strerror(rc));
	return rc;
}

/* New dumps readable only by their writer and the service, whatever the writer's umask. */
static void daemon_dump_acl(const char *dir)
{
	int rc = plat_dir_private_default(dir);

	if (rc == DS_EUNSUPPORTED)
		log_warn("daemon", "dump folder %s: the file system has no POSIX ACLs; dumps keep the mode their "
				   "writer gives them (other local users may read them when it is not 0600)", dir);
	else if (rc != DS_OK)
		log_warn("daemon", "dump folder %s: cannot set its default ACL: %s", dir, ds_strerror(rc));
}

/* One dumpscoutd per database: a second one refuses to start and names the first. */
static int daemon_lock(struct daemon *d)
{
	char path[4200];
	int holder = 0, rc;

	snprintf(path, sizeof(path), "%s.lock", d->cfg->db);
	rc = plat_lock_acquire(path, &d->lock, &holder);
	if (rc == DS_EBUSY)
		log_error("daemon", "another dumpscoutd (pid %d) is already running on %s (lock %s): not starting "
				    "a second one", holder, d->cfg->db, path);
	else if (rc != DS_OK)
		log_error("daemon", "cannot take the lock %s: %s", path, ds_strerror(rc));
	return rc;
}

static int daemon_status(struct daemon *d)
{
	struct store_status ss;
	struct ds_err e = { 0 };
	char *cfgjson = NULL, *colljson = NULL;
	cJSON *coll = NULL, *units;
	size_t i;
	int rc;

	memset(&ss, 0, sizeof(ss));
	cfgjson = config_to_json(d->cfg, 0);
	coll = cJSON_CreateObject();
	units = cJSON_AddArrayToObject(coll, "units");
	for (i = 0; units != NULL && i < d->cfg->nunits; i++)
		cJSON_AddItemToArray(units, cJSON_CreateString(d->cfg->units[i]));
	cJSON_AddStringToObject(coll, "dump_dir", d->cfg->dump_dirs[0]);
	colljson = cJSON_PrintUnformatted(coll);
	ss.version = DS_VERSION;
	ss.pid = (int64_t)uv_os_getpid();
	ss.hostname = d->host;
	ss.started_at = plat_now_ms();
	ss.heartbeat_at = ss.started_at;
	ss.config_json = cfgjson;
	ss.collection_json = colljson;
	rc = store_status_start(d->st, &ss, &e);
	if (rc != DS_OK)
		log_error("daemon", "cannot write the service status: %s", e.msg);
	cJSON_Delete(coll);
	free(cfgjson);
	free(colljson);
	return rc;
}

int daemon_run(const struct config *cfg)
{
	struct daemon d;
	struct ds_err e = { 0 };
	uv_loop_t loop;
	size_t i, hl;
	int rc, code = DS_EXIT_FAIL, loop_ok = 0;

	memset(&d, 0, sizeof(d));
	d.cfg = cfg;
	d.loop = &loop;
	hl = sizeof(d.host);
	if (uv_os_gethostname(d.host, &hl) != 0)
		d.host[0] = '\0';
	log_info("daemon", "dumpscoutd %s starting: database %s, %zu dump folder(s), stability %u ms, rescan %u s",
		 DS_VERSION, cfg->db, cfg->ndump_dirs, cfg->stability_ms, cfg->rescan_s);
	/* Everything the service writes (database, -wal, -shm, lock, logs) is private to it. */
	plat_private_files();
	rc = daemon_private(cfg);
	for (i = 0; rc == DS_OK && i < cfg->ndump_dirs; i++) {
		rc = daemon_folder(cfg->dump_dirs[i], 01733, "dump folder");
		if (rc == DS_OK)
			daemon_dump_acl(cfg->dump_dirs[i]);
	}
	if (rc != DS_OK)
		goto out;
	rc = daemon_lock(&d);
	if (rc != DS_OK)
		goto out;
	/* The lock is ours: any engine still running on our dump folders was left by a dumpscoutd that
	 * died (kill -9); end it before it competes with ours for the same dump. */
	i = (size_t)plat_reap_orphan_engines((const char *const *)cfg->dump_dirs, cfg->ndump_dirs);
	if (i > 0)
		log_warn("daemon", "ended %zu engine process group(s) a previous dumpscoutd left running", i);
	rc = store_open(cfg->db, STORE_READWRITE, &d.st, &e);
	if (rc != DS_OK) {
		log_error("daemon", "%s", e.msg);
		goto out;
	}
	if (daemon_status(&d) != DS_OK)
		goto out;
	/* the copier keeps the loop's address only; it runs once the loop does */
	if (share_new(&loop, d.st, cfg->fleet,
		      cfg->fleet != NULL && cfg->fleet->hostname != NULL ? cfg->fleet->hostname : d.host, &d.share) != DS_OK) {
		log_error("daemon", "out of memory");
		goto out;
	}
	if (uv_loop_init(&loop) != 0) {
		log_error("daemon", "cannot start the event loop");
		goto out;
	}
	loop_ok = 1;
	queue_init(&d.q, &loop, d.st, cfg, analysis_run);
	share_set_hook(d.share, daemon_on_shared, &d);
	d.q.share = d.share;
	d.q.on_triaged = daemon_on_triaged;
	d.q.on_idle = daemon_on_idle;
	d.q.on_analyzed = daemon_on_analyzed;
	d.q.ctx = &d;
	uv_timer_init(&loop, &d.heartbeat);
	uv_timer_init(&loop, &d.retention);
	uv_timer_init(&loop, &d.retention_soon);
	uv_timer_init(&loop, &d.grace);
	uv_signal_init(&loop, &d.sigterm);
	uv_signal_init(&loop, &d.sigint);
	uv_signal_init(&loop, &d.sighup);
	uv_async_init(&loop, &d.stopreq, daemon_on_stop_request);
	d.stopreq.data = &d;
	d.handles_open = 8;
	daemon_hook_publish(&d.stopreq);
	d.heartbeat.data = d.retention.data = d.retention_soon.data = d.grace.data = &d;
	d.sigterm.data = d.sigint.data = d.sighup.data = &d;
	uv_signal_start(&d.sigterm, daemon_on_signal, SIGTERM);
	uv_signal_start(&d.sigint, daemon_on_signal, SIGINT);
	uv_signal_start(&d.sighup, daemon_on_signal, SIGHUP);
	/* Recover and resume the rows first, then watch: the watcher's start-up scan finds files that
	 * arrived while the service was down, and files already recorded are recognised by path. */
	rc = queue_start(&d.q, &e);
	if (rc != DS_OK) {
		log_error("daemon", "%s", e.msg);
		goto stop;
	}
	rc = watcher_start(&loop, cfg->dump_dirs, cfg->ndump_dirs, cfg->stability_ms, cfg->rescan_s, queue_on_ready,
			   &d.q, &d.w, &e);
	d.q.watcher = d.w;
	if (rc != DS_OK) {
		log_error("daemon", "%s", e.msg);
		goto stop;
	}
	/* after queue_start: its recovery has put mail left 'sending' by a crash back to 'queued' */
	rc = mailer_start(&loop, d.st, cfg, d.host, &d.mailer, &e);
	if (rc != DS_OK) {
		log_error("daemon", "mail: %s", e.msg);
		goto stop;
	}
	/* the fleet publisher: without a "fleet" section it only switches the outbox off */
	rc = fleet_start(&loop, d.st, cfg, d.host, &d.fleet, &e);
	if (rc != DS_OK) {
		log_error("daemon", "fleet: %s", e.msg);
		goto stop;
	}
	fleet_set_mail_hook(d.fleet, daemon_on_fleet_mail, &d);
	uv_timer_start(&d.heartbeat, daemon_on_heartbeat, (uint64_t)cfg->heartbeat_s * 1000,
		       (uint64_t)cfg->heartbeat_s * 1000);
	uv_timer_start(&d.retention, daemon_on_retention, 1000, (uint64_t)cfg->retention_interval_s * 1000);
	log_info("daemon", "watching %s%s; ready", cfg->dump_dirs[0], cfg->ndump_dirs > 1 ? " and more" : "");
	code = DS_EXIT_OK;
	if (daemon_ready_fn != NULL)
		daemon_ready_fn(daemon_ready_ctx);
stop:
	if (code != DS_EXIT_OK)
		daemon_stop(&d, "start-up failed");
	uv_run(&loop, UV_RUN_DEFAULT);
	if (d.handles_open == 0 && queue_inflight(&d.q) == 0 && !mailer_busy(d.mailer) && !fleet_busy(d.fleet) &&
	    !share_busy(d.share)) {
		/* a clean stop: every handle is closed, so the loop can be closed too */
		uv_run(&loop, UV_RUN_NOWAIT);
		if (uv_loop_close(&loop) != 0)
			log_debug("daemon", "the loop still had handles at exit");
	}
	loop_ok = 0;
	if (store_status_heartbeat(d.st, plat_now_ms(), &e) != DS_OK)
		log_warn("daemon", "final heartbeat: %s", e.msg);
	log_info("daemon", "stopped: %llu new dump(s) recorded, %llu triaged this run",
		 (unsigned long long)d.q.stats.discovered, (unsigned long long)d.q.stats.triaged);
	daemon_hook_publish(NULL); /* the loop and its handles end here */
out:
	(void)loop_ok;
	mailer_free(d.mailer);
	fleet_free(d.fleet);
	share_free(d.share);
	store_close(d.st);
	plat_lock_release(d.lock);
	return code;
}
