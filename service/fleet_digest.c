/* fleet_digest.c - the fleet's single digest and alert sender (see fleet_digest.h). The schedule is the
 * mail section's (mail_next_digest_at), counted from the last digest the fleet claimed in PostgreSQL,
 * so whichever agent holds the lock computes the same next slot; the claim of that slot is what makes
 * the digest single even if two agents ever believed they held the lock. The digest is the report of
 * `dumpscout --fleet report` (cli/report.c over the central results) and the alert alert.c's. */
#include "fleet_digest.h"
#include "lib/alert.h"
#include "lib/mail.h"

#include "lib/report.h"
#include "core/fleetdb.h"
#include "core/log.h"
#include "core/store.h"

#include <cjson/cJSON.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FLEET_DIGEST_LOG "fleet"

struct fleet_digest {
	struct mail_config *mc; /* borrowed from the config */
	const char *host;
	int sender;  /* held the lock at the last round (for the log) */
};

int fleet_digest_new(const struct config *cfg, const char *host, struct fleet_digest **out, struct ds_err *e)
{
	struct fleet_digest *d = NULL;
	int rc = DS_OK;

	*out = NULL;
	if (cfg->mail == NULL) {
		rc = ds_err_setn(e, DS_EINVAL, "fleet.digest needs a mail section (the sender mails with it)");
		goto out;
	}
	d = calloc(1, sizeof(*d));
	if (d == NULL) {
		rc = ds_err_setn(e, DS_ENOMEM, "out of memory");
		goto out;
	}
	d->host = host;
	d->mc = cfg->mail; /* loaded and checked once with the config (lib/config.c), which outlives us */
	*out = d;
	d = NULL;
out:
	fleet_digest_free(d);
	return rc;
}

void fleet_digest_free(struct fleet_digest *d)
{
	if (d == NULL)
		return;
	free(d);
}

/* Queues the fleet digest when the schedule says it is due and this sender claims the slot first. */
static int fleet_digest_digest(struct fleet_digest *d, struct fleetdb *db, struct store *st, const char *host_id,
			       int64_t now, int *queued, struct ds_err *e)
{
	struct mail_compose m;
	cJSON *rep = NULL, *prev = NULL, *roots = NULL, *model = NULL;
	char *text = NULL, *html = NULL, *subject = NULL, key[64], subj[512];
	size_t tlen = 0, hlen = 0;
	int64_t last = 0, next, id = 0;
	int rc, claimed = 0, existed = 0;

	rc = fleetdb_digest_last(db, &last, e);
	if (rc != DS_OK)
		goto out;
	if (last <= 0) { /* the fleet's schedule starts now: claim its start */
		rc = fleetdb_mail_claim(db, host_id, "digest:start", &claimed, e);
		goto out;
	}
	next = mail_next_digest_at(d->mc, last, now);
	if (next > now)
		goto out;
	snprintf(key, sizeof(key), "digest:%" PRId64, next);
	rc = fleetdb_mail_claim(db, host_id, key, &claimed, e);
	if (rc != DS_OK || !claimed)
		goto out;
	rc = fleetdb_report(db, last, now, NULL, &rep, e);
	if (rc == DS_OK)
		rc = fleetdb_bucket_counts(db, last - (now - last), last, NULL, &prev, e);
	if (rc == DS_OK)
		rc = fleetdb_roots(db, last, 0, NULL, &roots, e);
	if (rc != DS_OK)
		goto out;
	rc = report_build_from(rep, prev, roots, last, now, now, &model, e);
	rep = prev = roots = NULL;
	if (rc == DS_OK)
		rc = report_render_text(model, &text, &tlen);
	if (rc == DS_OK)
		rc = report_render_html(model, &html, &hlen);
	if (rc == DS_OK && (subject = report_subject(model)) == NULL)
		rc = DS_ENOMEM;
	if (rc != DS_OK) {
		ds_err_setn(e, rc, "cannot render the fleet digest: %s", ds_strerror(rc));
		goto out;
	}
	snprintf(subj, sizeof(subj), "fleet: %s", subject);
	memset(&m, 0, sizeof(m));
	m.kind = STORE_MAIL_DIGEST;
	m.dedupe_key = key;
	m.subject = subj;
	m.text = text;
	m.text_len = tlen;
	m.html = html;
	m.html_len = hlen;
	rc = mail_enqueue(st, d->mc, &m, now, &id, &existed, e);
	if (rc == DS_OK && !existed) {
		(*queued)++;
		log_info(FLEET_DIGEST_LOG, "fleet digest queued as message %" PRId64, id);
	}
out:
	cJSON_Delete(rep);
	cJSON_Delete(prev);
	cJSON_Delete(roots);
	cJSON_Delete(model);
	free(text);
	free(html);
	free(subject);
	return rc;
}

/* Queues one alert about the buckets new to the fleet that this sender claimed. */
static int fleet_digest_alert(struct fleet_digest *d, struct fleetdb *db, struct store *st, const char *host_id,
			      int64_t now, int *queued, struct ds_err *e)
{
	struct alert_msg am;
	struct mail_compose m;
	cJSON *fresh = NULL;
	char key[96];
	int64_t id = 0;
	int rc, existed = 0;

	memset(&am, 0, sizeof(am));
	rc = fleetdb_alert_claim(db, host_id, &fresh, e);
	if (rc != DS_OK || cJSON_GetArraySize(fresh) == 0 || !d->mc->alert_on_new_bucket)
		goto out;
	rc = alert_render(fresh, "the fleet", &am, e);
	if (rc != DS_OK)
		goto out;
	snprintf(key, sizeof(key), "fleet-alert:%.0f",
		 cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(fresh, 0), "id")));
	memset(&m, 0, sizeof(m));
	m.kind = STORE_MAIL_ALERT;
	m.dedupe_key = key;
	m.subject = am.subject;
	m.text = am.text;
	m.text_len = am.text_len;
	m.html = am.html;
	m.html_len = am.html_len;
	rc = mail_enqueue(st, d->mc, &m, now, &id, &existed, e);
	if (rc == DS_OK && !existed) {
		(*queued)++;
		log_info(FLEET_DIGEST_LOG, "fleet alert queued as message %" PRId64 ": %d new bucket(s)", id,
			 cJSON_GetArraySize(fresh));
	}
out:
	alert_msg_clear(&am);
	cJSON_Delete(fresh);
	return rc;
}

int fleet_digest_round(struct fleet_digest *d, struct fleetdb *db, struct store *st, const char *host_id, int64_t now,
		       int *queued, struct ds_err *e)
{
	int rc, held = 0, q = 0;

	rc = fleetdb_sender_lock(db, &held, e);
	if (rc != DS_OK)
		goto out;
	if (held != d->sender)
		log_info(FLEET_DIGEST_LOG, "%s the fleet's digest sender", held ? "this service is now" : "this service is no longer");
	d->sender = held;
	if (!held)
		goto out;
	rc = fleet_digest_digest(d, db, st, host_id, now, &q, e);
	if (rc == DS_OK)
		rc = fleet_digest_alert(d, db, st, host_id, now, &q, e);
out:
	if (queued != NULL)
		*queued = q;
	return rc;
}
