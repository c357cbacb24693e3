/* mailer.c - drives the mail from the daemon's loop: a delivery round on a pool thread whenever the
 * outbox has something due, the digest when the schedule says so, an alert when buckets newer than the
 * last alerted one appear. Decisions and queueing happen on the loop thread with the loop's store;
 * only mail_outbox_pump runs on the pool thread, with a store of its own. It does not build MIME, talk
 * SMTP or render anything itself: the digest is lib/report.c's (the same text and HTML as `dumpscout
 * report`), the alert lib/alert.c's. */
#include "mailer.h"
#include "lib/alert.h"
#include "smtp.h"
#include "lib/mail.h"
#include "fleet.h"

#include "lib/report.h"

#include "core/log.h"
#include "core/plat.h"
#include "core/store.h"

#include <cjson/cJSON.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAILER_LOG "mail"
#define MAILER_HANDLES 3

struct mailer {
	uv_loop_t *loop;
	struct store *st;             /* the loop's (borrowed) */
	struct store *pump_st;        /* the delivery thread's (owned) */
	struct mail_config *mc;       /* the config's (not owned); read by both threads, auth_block is atomic */
	const char *host;
	uv_timer_t tick, pump_timer, alert_timer;
	uv_work_t pump_req;
	int pumping, pump_again, stopping, handles_open, curl_ok;
	int alert_pending;            /* something was recorded since the last look for new buckets */
	int fleet_mode;               /* fleet.digest: digests and alerts are the fleet sender's (fleet_digest.c) */
	int64_t alerted;              /* highest bucket id an alert covered (MAILER_KV_ALERTED) */
	/* pool thread -> loop thread */
	int pump_rc;
	struct mail_pump_stats pump_stats;
	struct ds_err pump_err;
	void (*on_stopped)(void *ctx);
	void *stop_ctx;
};

static void mailer_maybe_stopped(struct mailer *m)
{
	void (*cb)(void *) = m->on_stopped;

	if (m->stopping && !m->pumping && m->handles_open == 0 && cb != NULL) {
		m->on_stopped = NULL;
		cb(m->stop_ctx);
	}
}

/* ---- delivery ---- */

static void mailer_pump_work(uv_work_t *req)
{
	struct mailer *m = req->data;

	memset(&m->pump_err, 0, sizeof(m->pump_err));
	m->pump_rc = mail_outbox_pump(m->pump_st, m->mc, plat_now_ms(), 0, &m->pump_stats, &m->pump_err);
}

static void mailer_pump(struct mailer *m);

static void mailer_on_pump_timer(uv_timer_t *t)
{
	mailer_pump(t->data);
}

/* The next round: when the next queued message is due, at most MAILER_POLL_MS away. While delivery is
 * paused (login refused, password unreadable) only the poll runs, which notices a fixed password. */
static void mailer_schedule_pump(struct mailer *m)
{
	struct ds_err e = { 0 };
	int64_t at, now = plat_now_ms(), delay = MAILER_POLL_MS;

	if (!m->pump_stats.blocked && store_outbox_next_due(m->st, &at, &e) == DS_OK && at - now < delay)
		delay = at - now < 1000 ? 1000 : at - now;
	uv_timer_start(&m->pump_timer, mailer_on_pump_timer, (uint64_t)delay, 0);
}

static void mailer_pump_done(uv_work_t *req, int status)
{
	struct mailer *m = req->data;
	struct mail_pump_stats *s = &m->pump_stats;

	(void)status;
	m->pumping = 0;
	if (m->pump_rc != DS_OK)
		log_error(MAILER_LOG, "delivery round: %s", m->pump_err.msg);
	else if (s->sent + s->retry + s->failed > 0)
		log_debug(MAILER_LOG, "delivery round: %d sent, %d to retry, %d failed%s", s->sent, s->retry, s->failed,
			  s->blocked ? ", paused" : "");
	if (m->stopping) {
		mailer_maybe_stopped(m);
		return;
	}
	if (m->pump_again) {
		m->pump_again = 0;
		mailer_pump(m);
		return;
	}
	mailer_schedule_pump(m);
}

/* Starts a delivery round now, or right after the one in flight. */
static void mailer_pump(struct mailer *m)
{
	int rc;

	if (m->stopping)
		return;
	if (m->pumping) {
		m->pump_again = 1;
		return;
	}
	uv_timer_stop(&m->pump_timer);
	m->pump_req.data = m;
	rc = uv_queue_work(m->loop, &m->pump_req, mailer_pump_work, mailer_pump_done);
	if (rc != 0) {
		log_error(MAILER_LOG, "cannot start a delivery round: %s", uv_strerror(rc));
		uv_timer_start(&m->pump_timer, mailer_on_pump_timer, MAILER_POLL_MS, 0);
		return;
	}
	m->pumping = 1;
}

/* ---- alerts ---- */

static int64_t mailer_bucket_id(const cJSON *b)
{
	return (int64_t)cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(b, "id"));
}

/* Keeps arr sorted by bucket id (a handful of new buckets at a time). */
static void mailer_insert_by_id(cJSON *arr, cJSON *item, int64_t id)
{
	const cJSON *it;
	int i = 0;

	cJSON_ArrayForEach(it, arr) {
		if (mailer_bucket_id(it) > id)
			break;
		i++;
	}
	if (it == NULL)
		cJSON_AddItemToArray(arr, item);
	else
		cJSON_InsertItemInArray(arr, i, item);
}

/* Every bucket, oldest id first in *fresh those above `after`; *max_id the highest id of all (0: none). */
static int mailer_buckets_after(struct store *st, int64_t after, cJSON **fresh, int64_t *max_id, struct ds_err *e)
{
	struct store_bucket_filter f;
	cJSON *all = NULL, *it, *next, *out = NULL;
	int64_t id;
	int rc;

	*fresh = NULL;
	*max_id = 0;
	memset(&f, 0, sizeof(f));
	f.sort = STORE_BSORT_FIRST_SEEN;
	rc = store_bucket_list(st, &f, &all, e);
	if (rc != DS_OK)
		goto out;
	out = cJSON_CreateArray();
	if (out == NULL) {
		rc = DS_ENOMEM;
		goto out;
	}
	for (it = all->child; it != NULL; it = next) {
		next = it->next;
		id = mailer_bucket_id(it);
		if (id > *max_id)
			*max_id = id;
		if (id > after)
			mailer_insert_by_id(out, cJSON_DetachItemViaPointer(all, it), id);
	}
	*fresh = out;
	out = NULL;
out:
	cJSON_Delete(all);
	cJSON_Delete(out);
	return rc;
}

static void mailer_on_alert_timer(uv_timer_t *t);

/* Looks for buckets newer than the last alert and queues one alert about all of them, when the rate
 * limit allows; otherwise the timer comes back when it does. */
static void mailer_check_alerts(struct mailer *m)
{
	struct alert_msg dm;
	struct ds_err e = { 0 };
	cJSON *fresh = NULL;
	int64_t max_id, since, next, now = plat_now_ms(), id = 0, first;
	int allowed, rc, n;

	memset(&dm, 0, sizeof(dm));
	m->alert_pending = 0;
	if (!m->mc->alert_on_new_bucket)
		return;
	rc = mailer_buckets_after(m->st, m->alerted, &fresh, &max_id, &e);
	if (rc != DS_OK)
		goto out;
	n = cJSON_GetArraySize(fresh);
	if (n == 0)
		goto out;
	if (max_id < m->alerted)
		max_id = m->alerted;
	rc = mail_alert_due(m->st, m->mc, now, &allowed, &since, &e);
	if (rc != DS_OK)
		goto out;
	if (!allowed) {
		mail_alert_allowed(m->mc, since, now, &next);
		log_debug(MAILER_LOG, "%d new bucket(s): the next alert may go in %lld s", n, (long long)(next - now) / 1000);
		if (next > now)
			uv_timer_start(&m->alert_timer, mailer_on_alert_timer, (uint64_t)(next - now), 0);
		goto out;
	}
	rc = alert_render(fresh, m->host, &dm, &e);
	if (rc != DS_OK)
		goto out;
	first = mailer_bucket_id(cJSON_GetArrayItem(fresh, 0));
	/* the alert and the mark of what it covers commit together: a restart cannot alert twice */
	rc = store_tx_begin(m->st, &e);
	if (rc != DS_OK)
		goto out;
	rc = mail_alert_enqueue(m->st, m->mc, first, dm.subject, dm.text, dm.text_len, dm.html, dm.html_len, now, &id, &e);
	if (rc == DS_OK)
		rc = mail_state_set(m->st, MAILER_KV_ALERTED, max_id, plat_now_ms(), &e);
	if (rc == DS_OK)
		rc = store_tx_commit(m->st, &e);
	else
		store_tx_rollback(m->st);
	if (rc != DS_OK)
		goto out;
	m->alerted = max_id;
	log_info(MAILER_LOG, "alert queued as message %" PRId64 ": %d new bucket(s), first bucket %" PRId64, id, n, first);
	mailer_pump(m);
out:
	if (rc != DS_OK)
		log_error(MAILER_LOG, "cannot queue the new-bucket alert: %s", e.msg[0] ? e.msg : ds_strerror(rc));
	alert_msg_clear(&dm);
	cJSON_Delete(fresh);
}

static void mailer_on_alert_timer(uv_timer_t *t)
{
	mailer_check_alerts(t->data);
}

void mailer_poke(struct mailer *m)
{
	if (m != NULL)
		mailer_pump(m);
}

void mailer_on_recorded(struct mailer *m)
{
	if (m == NULL || m->stopping || !m->mc->alert_on_new_bucket || m->fleet_mode)
		return;
	/* a throttle, not a debounce: a steady stream of dumps still gets its alert within a second */
	if (!uv_is_active((uv_handle_t *)&m->alert_timer))
		uv_timer_start(&m->alert_timer, mailer_on_alert_timer, MAILER_ALERT_THROTTLE_MS, 0);
	m->alert_pending = 1;
}

/* ---- digest ---- */

static void mailer_check_digest(struct mailer *m)
{
	struct ds_err e = { 0 };
	cJSON *rep = NULL;
	char *text = NULL, *html = NULL, *subject = NULL;
	size_t tlen = 0, hlen = 0;
	int64_t since, now = plat_now_ms(), id = 0;
	int due = 0, rc, empty = 0;

	rc = mail_digest_due(m->st, m->mc, now, &due, &since, &e);
	if (rc != DS_OK || !due)
		goto out;
	/* the same model and renderers as `dumpscout report --since LAST` */
	rc = report_build(m->st, since, now, now, &rep, &e);
	if (rc == DS_OK)
		rc = report_render_text(rep, &text, &tlen);
	if (rc == DS_OK)
		rc = report_render_html(rep, &html, &hlen);
	if (rc == DS_OK && (subject = report_subject(rep)) == NULL)
		rc = DS_ENOMEM;
	if (rc != DS_OK)
		goto out;
	empty = report_is_empty(rep);
	rc = mail_digest_enqueue(m->st, m->mc, subject, text, tlen, html, hlen, empty, now, &id, &e);
	if (rc != DS_OK)
		goto out;
	if (id == 0) {
		log_info(MAILER_LOG, "digest skipped: nothing new (skip_empty_digest)");
	} else {
		log_info(MAILER_LOG, "digest queued as message %" PRId64 "%s", id, empty ? " (nothing new)" : "");
		mailer_pump(m);
	}
out:
	if (rc != DS_OK)
		log_error(MAILER_LOG, "cannot queue the digest: %s", e.msg[0] ? e.msg : ds_strerror(rc));
	cJSON_Delete(rep);
	free(text);
	free(html);
	free(subject);
}

static void mailer_on_tick(uv_timer_t *t)
{
	struct mailer *m = t->data;

	if (m->fleet_mode) { /* only deliver: the fleet's sender queues into this outbox */
		mailer_pump(m);
		return;
	}
	mailer_check_digest(m);
	if (m->alert_pending && !uv_is_active((uv_handle_t *)&m->alert_timer))
		mailer_check_alerts(m);
}

/* ---- life cycle ---- */

int mailer_start(uv_loop_t *loop, struct store *st, const struct config *cfg, const char *host,
		 struct mailer **out, struct ds_err *e)
{
	struct mailer *m = NULL;
	cJSON *fresh = NULL;
	int64_t max_id;
	int rc = DS_OK, found;

	*out = NULL;
	if (cfg->mail == NULL)
		goto out;
	m = calloc(1, sizeof(*m));
	if (m == NULL) {
		rc = ds_err_setn(e, DS_ENOMEM, "out of memory");
		goto out;
	}
	m->loop = loop;
	m->st = st;
	m->host = host;
	m->mc = cfg->mail;
	m->fleet_mode = fleet_config_digest(cfg->fleet);
	if (mail_global_init() != DS_OK) {
		rc = ds_err_setn(e, DS_EIO, "cannot initialise libcurl for mail delivery");
		goto out;
	}
	m->curl_ok = 1;
	rc = store_open(cfg->db, STORE_READWRITE, &m->pump_st, e);
	if (rc != DS_OK)
		goto out;
	/* Alerts cover buckets that appear from now on: at the first start with mail, the buckets
	 * already in the database are the digest's business, not an alert's. */
	rc = mail_state_get(st, MAILER_KV_ALERTED, &m->alerted, &found, e);
	if (rc == DS_OK && !found) {
		rc = mailer_buckets_after(st, INT64_MAX, &fresh, &max_id, e);
		if (rc == DS_OK)
			rc = mail_state_set(st, MAILER_KV_ALERTED, max_id, plat_now_ms(), e);
		m->alerted = max_id;
	}
	if (rc != DS_OK)
		goto out;
	uv_timer_init(loop, &m->tick);
	uv_timer_init(loop, &m->pump_timer);
	uv_timer_init(loop, &m->alert_timer);
	m->tick.data = m->pump_timer.data = m->alert_timer.data = m;
	m->handles_open = MAILER_HANDLES;
	log_info(MAILER_LOG, "mail on: server %s:%u, %zu recipient(s), digest %s, alerts %s (at most one per %u min)",
		 m->mc->server, m->mc->port, m->mc->to_count,
		 m->mc->schedule == MAIL_SCHED_EVERY ? "every few hours" : "daily",
		 m->mc->alert_on_new_bucket ? "on" : "off", m->mc->alert_min_interval_minutes);
	uv_timer_start(&m->tick, mailer_on_tick, 0, MAILER_TICK_MS);
	mailer_pump(m);
	/* dumps recorded while the service was down, or found by the start-up scan */
	m->alert_pending = 1;
	*out = m;
	m = NULL;
out:
	cJSON_Delete(fresh);
	mailer_free(m);
	return rc;
}

static void mailer_on_closed(uv_handle_t *h)
{
	struct mailer *m = h->data;

	m->handles_open--;
	mailer_maybe_stopped(m);
}

void mailer_stop(struct mailer *m, void (*on_stopped)(void *ctx), void *ctx)
{
	if (m == NULL || m->stopping)
		return;
	m->stopping = 1;
	m->on_stopped = on_stopped;
	m->stop_ctx = ctx;
	if (m->pumping)
		log_info(MAILER_LOG, "waiting for the delivery round in flight (at most %u s)", m->mc->timeout_s);
	uv_close((uv_handle_t *)&m->tick, mailer_on_closed);
	uv_close((uv_handle_t *)&m->pump_timer, mailer_on_closed);
	uv_close((uv_handle_t *)&m->alert_timer, mailer_on_closed);
}

int mailer_busy(const struct mailer *m)
{
	return m != NULL && m->pumping;
}

void mailer_free(struct mailer *m)
{
	if (m == NULL)
		return;
	if (m->pumping) /* the pool thread still uses them; the process is exiting */
		return;
	store_close(m->pump_st);
	if (m->curl_ok)
		mail_global_cleanup();
	free(m);
}
