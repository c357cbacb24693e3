/* fleet.c - the fleet publisher of dumpscoutd (see fleet.h): the "fleet" config section, and the rounds
 * that upload the SQLite outbox to PostgreSQL from a pool thread. A round reads the oldest snapshots
 * (store_fleet_batch), calls fleet.ingest() once per batch, and deletes the batch locally only after
 * that call returned, i.e. after PostgreSQL committed; a crash or an outage in between leaves the rows
 * to be sent again, and the central ledger of event ids turns the repeat into a no-op. The fleet digest
 * (one sender for the fleet) is fleet_digest.c's; this file only runs it in the round. */
#include "fleet.h"
#include "fleet_digest.h"

#include "core/fleetdb.h"
#include "core/log.h"
#include "core/plat.h"
#include "core/store.h"
#include "core/store_fleet.h"

#include <cjson/cJSON.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FLEET_LOG "fleet"
#define FLEET_HANDLES 1
/* How soon after a recording a round starts (a burst of dumps is one round). */
#define FLEET_SOON_MS 200
/* Batches per round at most (a round also has to end for the service to stop quickly). */
#define FLEET_ROUND_BATCHES 50


struct fleet {
	uv_loop_t *loop;
	const struct fleet_config *fc;  /* the config's section (loaded once, outlives the publisher) */
	char *hostname;                 /* owned: fc's hostname, else the machine's name */
	struct store *pump_st;          /* the pool thread's store (owned) */
	struct fleetdb *db;             /* the pool thread's connection (owned), NULL while disconnected */
	struct fleet_digest *digest;    /* NULL unless fleet.digest */
	char host_id[STORE_FLEET_UUID_LEN];
	char os[PLAT_OS_NAME_MAX];      /* the OS name and version (plat_os_name) */
	uv_timer_t timer;
	uv_work_t req;
	int running, again, stopping, handles_open;
	int failures;                   /* rounds failed in a row (backoff) */
	int64_t pause_ms;               /* DUMPSCOUT_TEST_FLEET_PAUSE_MS: tests' window after a commit */
	/* pool thread -> loop thread */
	int round_rc;
	struct ds_err round_err;
	size_t round_sent, round_applied;
	int round_mail;                 /* messages the fleet digest queued */
	int64_t round_backlog;
	void (*on_stopped)(void *ctx);
	void *stop_ctx;
	void (*on_mail)(void *ctx);
	void *mail_ctx;
};

/* ---- the round (pool thread) ---- */

/* The host object fleet.ingest takes, with the current backlog. malloc'd. */
static char *fleet_host_info(struct fleet *f, int64_t backlog, int64_t overflowed)
{
	cJSON *o = cJSON_CreateObject();
	char *s = NULL;

	if (o != NULL && cJSON_AddStringToObject(o, "hostname", f->hostname) &&
	    cJSON_AddStringToObject(o, "os", f->os) && cJSON_AddStringToObject(o, "version", DS_VERSION) &&
	    cJSON_AddNumberToObject(o, "backlog", (double)backlog) &&
	    cJSON_AddNumberToObject(o, "overflowed", (double)overflowed))
		s = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	return s;
}

static int fleet_connect(struct fleet *f, struct ds_err *e)
{
	char *pw = NULL;
	int rc, version;

	if (fleetdb_ok(f->db))
		return DS_OK;
	fleetdb_close(f->db);
	f->db = NULL;
	rc = fleet_config_password(f->fc, &pw, e);
	if (rc == DS_OK)
		rc = fleetdb_connect(f->fc->url, pw, (int)f->fc->connect_timeout_s, &f->db, e);
	fleet_config_password_free(pw);
	if (rc == DS_OK)
		rc = fleetdb_check(f->db, &version, e);
	if (rc != DS_OK) {
		fleetdb_close(f->db);
		f->db = NULL;
	}
	return rc;
}

static int fleet_overflowed(struct fleet *f, int64_t *n, struct ds_err *e)
{
	cJSON *st = NULL;
	int rc = store_fleet_status(f->pump_st, &st, e);

	*n = 0;
	if (rc == DS_OK)
		*n = (int64_t)cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(st, "overflowed"));
	cJSON_Delete(st);
	return rc;
}

static void fleet_round_work(uv_work_t *req)
{
	struct fleet *f = req->data;
	struct ds_err *e = &f->round_err;
	char *events = NULL, *info = NULL;
	int64_t last_id = 0, backlog = 0, overflowed = 0, now;
	size_t n = 0;
	int rc, applied = 0, batches = 0;

	memset(e, 0, sizeof(*e));
	f->round_sent = f->round_applied = 0;
	f->round_mail = 0;
	rc = fleet_connect(f, e);
	if (rc != DS_OK)
		goto out;
	rc = store_fleet_resync(f->pump_st, plat_now_ms(), NULL, e);
	for (; rc == DS_OK && batches < FLEET_ROUND_BATCHES; batches++) {
		free(events);
		free(info);
		events = info = NULL;
		rc = store_fleet_batch(f->pump_st, f->fc->batch_size, (size_t)f->fc->batch_bytes, &events, &n, &last_id, e);
		if (rc == DS_OK)
			rc = store_fleet_backlog(f->pump_st, &backlog, e);
		if (rc == DS_OK)
			rc = fleet_overflowed(f, &overflowed, e);
		if (rc != DS_OK)
			break;
		/* the backlog this batch leaves behind, as the central host row shows it */
		info = fleet_host_info(f, backlog - (int64_t)n, overflowed);
		if (info == NULL) {
			rc = ds_err_setn(e, DS_ENOMEM, "out of memory");
			break;
		}
		/* an empty outbox still calls in once per round: last_seen and the backlog stay current */
		rc = fleetdb_ingest(f->db, f->host_id, info, events, &applied, e);
		if (rc != DS_OK || n == 0)
			break;
		if (f->pause_ms > 0) /* tests: the window between PostgreSQL's commit and the local mark */
			uv_sleep((unsigned)f->pause_ms);
		now = plat_now_ms();
		rc = store_fleet_sent(f->pump_st, last_id, n, now, e);
		if (rc != DS_OK)
			break;
		f->round_sent += n;
		f->round_applied += (size_t)applied;
		if (n < f->fc->batch_size && n > 0 && events != NULL && (size_t)backlog <= n)
			break; /* that was the last of it */
	}
	if (rc == DS_OK && f->digest != NULL)
		rc = fleet_digest_round(f->digest, f->db, f->pump_st, f->host_id, plat_now_ms(), &f->round_mail, e);
out:
	if (rc != DS_OK) /* kept for `dumpscout status`; the rows stay for the next round */
		store_fleet_failed(f->pump_st, last_id, e->msg, plat_now_ms(), NULL);
	if (rc == DS_ENET || (f->db != NULL && !fleetdb_ok(f->db))) {
		fleetdb_close(f->db);
		f->db = NULL;
	}
	if (store_fleet_backlog(f->pump_st, &f->round_backlog, NULL) != DS_OK)
		f->round_backlog = -1;
	f->round_rc = rc;
	free(events);
	free(info);
}

static void fleet_round(struct fleet *f);

static void fleet_on_timer(uv_timer_t *t)
{
	fleet_round(t->data);
}

static void fleet_maybe_stopped(struct fleet *f)
{
	void (*cb)(void *) = f->on_stopped;

	if (f->stopping && !f->running && f->handles_open == 0 && cb != NULL) {
		f->on_stopped = NULL;
		cb(f->stop_ctx);
	}
}

static void fleet_round_done(uv_work_t *req, int status)
{
	struct fleet *f = req->data;
	int64_t delay = (int64_t)f->fc->interval_s * 1000;
	int i;

	(void)status;
	f->running = 0;
	if (f->round_mail > 0 && f->on_mail != NULL)
		f->on_mail(f->mail_ctx);
	if (f->round_rc != DS_OK) {
		f->failures++;
		for (i = 1; i < f->failures && delay < FLEET_MAX_BACKOFF_MS; i++)
			delay *= 2;
		if (delay > FLEET_MAX_BACKOFF_MS)
			delay = FLEET_MAX_BACKOFF_MS;
		/* the first failure of a run is an error, repeats are warnings: an outage is one story */
		if (f->failures == 1)
			log_error(FLEET_LOG, "publishing: %s (backlog %" PRId64 "; retrying)", f->round_err.msg, f->round_backlog);
		else
			log_warn(FLEET_LOG, "publishing (attempt %d): %s (backlog %" PRId64 ")", f->failures, f->round_err.msg,
				 f->round_backlog);
	} else {
		if (f->failures > 0)
			log_info(FLEET_LOG, "publishing again after %d failed attempt(s)", f->failures);
		f->failures = 0;
		if (f->round_sent > 0)
			log_info(FLEET_LOG, "published %zu snapshot(s), %zu new to the fleet database, backlog %" PRId64,
				 f->round_sent, f->round_applied, f->round_backlog);
		if (f->round_backlog > 0)
			delay = FLEET_SOON_MS;
	}
	if (f->stopping) {
		fleet_maybe_stopped(f);
		return;
	}
	if (f->again && f->round_rc == DS_OK) {
		f->again = 0;
		fleet_round(f);
		return;
	}
	uv_timer_start(&f->timer, fleet_on_timer, (uint64_t)delay, 0);
}

static void fleet_round(struct fleet *f)
{
	int rc;

	if (f->stopping)
		return;
	if (f->running) {
		f->again = 1;
		return;
	}
	uv_timer_stop(&f->timer);
	f->req.data = f;
	rc = uv_queue_work(f->loop, &f->req, fleet_round_work, fleet_round_done);
	if (rc != 0) {
		log_error(FLEET_LOG, "cannot start a publishing round: %s", uv_strerror(rc));
		uv_timer_start(&f->timer, fleet_on_timer, (uint64_t)f->fc->interval_s * 1000, 0);
		return;
	}
	f->running = 1;
}

/* ---- life cycle (loop thread) ---- */

int fleet_start(uv_loop_t *loop, struct store *st, const struct config *cfg, const char *host, struct fleet **out,
		struct ds_err *e)
{
	struct fleet *f = NULL;
	const char *pause;
	int rc = DS_OK;

	*out = NULL;
	if (cfg->fleet == NULL) {
		/* no fleet: nothing may pile up in the outbox */
		rc = store_fleet_configure(st, 0, STORE_FLEET_DEFAULT_BACKLOG, e);
		goto out;
	}
	f = calloc(1, sizeof(*f));
	if (f == NULL) {
		rc = ds_err_setn(e, DS_ENOMEM, "out of memory");
		goto out;
	}
	f->loop = loop;
	if (!fleetdb_available()) { /* fail at start-up, not once a round with a growing outbox */
		rc = ds_err_setn(e, DS_EUNSUPPORTED, "this dumpscoutd was built without PostgreSQL (libpq): remove the "
						     "\"fleet\" section");
		goto out;
	}
	f->fc = cfg->fleet;
	f->hostname = strdup(f->fc->hostname != NULL ? f->fc->hostname : host != NULL && host[0] != '\0' ? host : "unknown");
	if (f->hostname == NULL) {
		rc = ds_err_setn(e, DS_ENOMEM, "out of memory");
		goto out;
	}
	plat_os_name(f->os); /* "unknown" when the OS does not say: not worth refusing to publish */
	rc = store_fleet_configure(st, 1, (int64_t)f->fc->max_backlog, e);
	if (rc == DS_OK)
		rc = store_fleet_host_id(st, f->host_id, e);
	if (rc == DS_OK)
		rc = store_open(cfg->db, STORE_READWRITE, &f->pump_st, e);
	if (rc == DS_OK && f->fc->digest)
		rc = fleet_digest_new(cfg, host, &f->digest, e);
	if (rc != DS_OK)
		goto out;
	pause = getenv("DUMPSCOUT_TEST_FLEET_PAUSE_MS");
	if (pause != NULL)
		f->pause_ms = strtoll(pause, NULL, 10);
	uv_timer_init(loop, &f->timer);
	f->timer.data = f;
	f->handles_open = FLEET_HANDLES;
	log_info(FLEET_LOG, "fleet on: host %s (id %s), batches of %u, backlog bound %llu%s", f->hostname, f->host_id,
		 f->fc->batch_size, (unsigned long long)f->fc->max_backlog, f->fc->digest ? ", fleet digest" : "");
	fleet_round(f);
	*out = f;
	f = NULL;
out:
	fleet_free(f);
	return rc;
}

void fleet_set_mail_hook(struct fleet *f, void (*fn)(void *ctx), void *ctx)
{
	if (f != NULL) {
		f->on_mail = fn;
		f->mail_ctx = ctx;
	}
}

void fleet_on_recorded(struct fleet *f)
{
	if (f == NULL || f->stopping)
		return;
	if (f->running) {
		f->again = 1;
		return;
	}
	/* a burst of recordings is one round, soon; during an outage the backoff stays */
	if (f->failures == 0 && (!uv_is_active((uv_handle_t *)&f->timer) || uv_timer_get_due_in(&f->timer) > FLEET_SOON_MS))
		uv_timer_start(&f->timer, fleet_on_timer, FLEET_SOON_MS, 0);
}

static void fleet_on_closed(uv_handle_t *h)
{
	struct fleet *f = h->data;

	f->handles_open--;
	fleet_maybe_stopped(f);
}

void fleet_stop(struct fleet *f, void (*on_stopped)(void *ctx), void *ctx)
{
	if (f == NULL || f->stopping)
		return;
	f->stopping = 1;
	f->on_stopped = on_stopped;
	f->stop_ctx = ctx;
	uv_close((uv_handle_t *)&f->timer, fleet_on_closed);
}

int fleet_busy(const struct fleet *f)
{
	return f != NULL && f->running;
}

void fleet_free(struct fleet *f)
{
	if (f == NULL)
		return;
	if (f->running) /* the pool thread still uses them; the process is exiting */
		return;
	fleetdb_close(f->db);
	store_close(f->pump_st);
	fleet_digest_free(f->digest);
	free(f->hostname);
	free(f);
}
