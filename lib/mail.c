/* mail.c - the mailer's policy: validates the "mail" config section, reads the password, queues
 * messages in the outbox (enqueue, dedupe, backoff) and computes the digest and alert schedule. Delivery
 * over SMTP (libcurl) and the outbox pump are smtp.c's. It builds no MIME itself (mime.c) and renders no report (the report module does); it
 * never writes a password or a message body to a log or an error. */
#include "mail.h"
#include "config_value.h"

#include "core/buf.h"
#include "core/cursor.h"
#include "core/log.h"
#include "core/plat.h"
#include "core/store.h"

#include <cjson/cJSON.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAIL_LOG "mail"
#define MAIL_PASSWORD_MAX 4096

static const char *const mail_keys[] = {
	"server", "port", "security", "username", "password_file", "password_env", "ca_file", "from", "to",
	"subject_prefix", "schedule", "alert_on_new_bucket", "alert_min_interval_minutes", "max_message_bytes",
	"skip_empty_digest", "connect_timeout_s", "timeout_s",
};

void mail_config_free(struct mail_config *c)
{
	if (c == NULL)
		return;
	free(c->server);
	free(c->username);
	free(c->password_file);
	free(c->password_env);
	free(c->ca_file);
	free(c->to);
	free(c->subject_prefix);
	free(c);
}

static int mail_host_ok(const char *h)
{
	size_t n = strlen(h);

	if (n == 0 || n > 253)
		return 0;
	for (; *h; h++)
		if (!((*h >= 'a' && *h <= 'z') || (*h >= 'A' && *h <= 'Z') || (*h >= '0' && *h <= '9') || *h == '.' ||
		      *h == '-' || *h == ':'))
			return 0;
	return 1;
}

static int mail_is_localhost(const char *h)
{
	return strcmp(h, "localhost") == 0 || strcmp(h, "127.0.0.1") == 0 || strcmp(h, "::1") == 0;
}

static int mail_cfg_schedule(const cJSON *o, struct mail_config *c, struct ds_err *e)
{
	const cJSON *s = cJSON_GetObjectItemCaseSensitive(o, "schedule"), *d, *h;
	const char *t;
	uint64_t hours;

	if (s == NULL)
		return DS_OK;
	if (!cJSON_IsObject(s))
		return ds_err_setn(e, DS_EINVAL, "mail.schedule: must be {\"daily_at\": \"HH:MM\"} or {\"every_hours\": N}");
	d = cJSON_GetObjectItemCaseSensitive(s, "daily_at");
	h = cJSON_GetObjectItemCaseSensitive(s, "every_hours");
	if ((d == NULL) == (h == NULL) || cJSON_GetArraySize(s) != 1)
		return ds_err_setn(e, DS_EINVAL, "mail.schedule: give exactly one of daily_at or every_hours");
	if (d != NULL) {
		t = cJSON_IsString(d) ? d->valuestring : NULL;
		if (t == NULL || strlen(t) != 5 || t[2] != ':' || t[0] < '0' || t[0] > '2' || t[1] < '0' || t[1] > '9' ||
		    t[3] < '0' || t[3] > '5' || t[4] < '0' || t[4] > '9' || (t[0] - '0') * 10 + (t[1] - '0') > 23)
			return ds_err_setn(e, DS_EINVAL, "mail.schedule.daily_at: must be \"HH:MM\" (00:00 to 23:59)");
		c->schedule = MAIL_SCHED_DAILY;
		c->daily_hour = (t[0] - '0') * 10 + (t[1] - '0');
		c->daily_minute = (t[3] - '0') * 10 + (t[4] - '0');
	} else {
		if (!config_value_uint(h, 1, 24 * 31, &hours))
			return ds_err_setn(e, DS_EINVAL, "mail.schedule.every_hours: must be a whole number from 1 to 744");
		c->schedule = MAIL_SCHED_EVERY;
		c->every_hours = (unsigned)hours;
	}
	return DS_OK;
}

static int mail_cfg_to(const cJSON *o, struct mail_config *c, struct ds_err *e)
{
	const cJSON *to = cJSON_GetObjectItemCaseSensitive(o, "to"), *it;
	struct ds_err ae;
	size_t n, i = 0;

	if (to == NULL)
		return ds_err_setn(e, DS_EINVAL, "mail.to: required (an address or a list of addresses)");
	n = cJSON_IsArray(to) ? (size_t)cJSON_GetArraySize(to) : 1;
	if ((!cJSON_IsArray(to) && !cJSON_IsString(to)) || n == 0 || n > MAIL_MAX_RCPT)
		return ds_err_setn(e, DS_EINVAL, "mail.to: must be an address or a list of 1..%d addresses", MAIL_MAX_RCPT);
	c->to = calloc(n, sizeof(*c->to));
	if (c->to == NULL)
		return DS_ENOMEM;
	if (cJSON_IsString(to)) {
		if (mime_addr_parse(to->valuestring, &c->to[0], &ae) != DS_OK)
			return ds_err_setn(e, DS_EINVAL, "mail.to: %s", ae.msg);
		c->to_count = 1;
		return DS_OK;
	}
	cJSON_ArrayForEach(it, to) {
		if (!cJSON_IsString(it))
			return ds_err_setn(e, DS_EINVAL, "mail.to[%zu]: must be a string", i);
		if (mime_addr_parse(it->valuestring, &c->to[i], &ae) != DS_OK)
			return ds_err_setn(e, DS_EINVAL, "mail.to[%zu]: %s", i, ae.msg);
		i++;
	}
	c->to_count = i;
	return DS_OK;
}

int mail_config_parse(const struct cJSON *mail, const char *base_dir, struct mail_config **out, struct ds_err *e)
{
	struct mail_config *c = NULL;
	struct ds_err ae;
	char *sec = NULL, *from = NULL;
	uint64_t v;
	int rc = DS_OK, port_set = 0;

	*out = NULL;
	rc = config_value_section(mail, "mail", mail_keys, DS_ARRAY_LEN(mail_keys), e);
	if (rc != DS_OK)
		goto out;
	c = calloc(1, sizeof(*c));
	if (c == NULL) {
		rc = DS_ENOMEM;
		goto out;
	}
	c->security = MAIL_SEC_STARTTLS;
	c->schedule = MAIL_SCHED_DAILY;
	c->daily_hour = 8;
	c->alert_on_new_bucket = 1;
	c->alert_min_interval_minutes = 60;
	c->max_message_bytes = MAIL_DEFAULT_MAX_BYTES;
	c->connect_timeout_s = 15;
	c->timeout_s = 120;
	atomic_init(&c->auth_block, 0);

	if ((rc = config_value_key_str(mail, "mail", "server", 253, 0, &c->server, e)) != DS_OK ||
	    (rc = config_value_key_str(mail, "mail", "security", 16, 0, &sec, e)) != DS_OK ||
	    (rc = config_value_key_str(mail, "mail", "username", 256, 0, &c->username, e)) != DS_OK ||
	    (rc = config_value_key_str(mail, "mail", "password_file", 4096, 0, &c->password_file, e)) != DS_OK ||
	    (rc = config_value_key_str(mail, "mail", "password_env", 128, 0, &c->password_env, e)) != DS_OK ||
	    (rc = config_value_key_str(mail, "mail", "ca_file", 4096, 0, &c->ca_file, e)) != DS_OK ||
	    (rc = config_value_key_str(mail, "mail", "from", 512, 0, &from, e)) != DS_OK ||
	    (rc = config_value_key_str(mail, "mail", "subject_prefix", 100, 1, &c->subject_prefix, e)) != DS_OK)
		goto out;
	if (c->server == NULL || !mail_host_ok(c->server)) {
		rc = ds_err_setn(e, DS_EINVAL, "mail.server: required: a host name or IP address");
		goto out;
	}
	if (sec != NULL) {
		if (strcmp(sec, "starttls") == 0) {
			c->security = MAIL_SEC_STARTTLS;
		} else if (strcmp(sec, "tls") == 0) {
			c->security = MAIL_SEC_TLS;
		} else if (strcmp(sec, "none") == 0) {
			c->security = MAIL_SEC_NONE;
		} else {
			rc = ds_err_setn(e, DS_EINVAL, "mail.security: must be \"starttls\", \"tls\" or \"none\"");
			goto out;
		}
	}
	if (c->security == MAIL_SEC_NONE && !mail_is_localhost(c->server)) {
		rc = ds_err_setn(e, DS_EINVAL,
				 "mail.security: \"none\" (no encryption) is only allowed for localhost, 127.0.0.1 or "
				 "::1, not '%s'",
				 c->server);
		goto out;
	}
	v = 0;
	if ((rc = config_value_key_uint(mail, "mail", "port", 1, 65535, &v, e)) != DS_OK)
		goto out;
	port_set = v != 0;
	c->port = port_set ? (unsigned)v : c->security == MAIL_SEC_TLS ? 465 : c->security == MAIL_SEC_NONE ? 25 : 587;
	if (from == NULL || mime_addr_parse(from, &c->from, &ae) != DS_OK) {
		rc = ds_err_setn(e, DS_EINVAL, "mail.from: %s", from == NULL ? "required (the sender address)" : ae.msg);
		goto out;
	}
	if ((rc = mail_cfg_to(mail, c, e)) != DS_OK)
		goto out;
	if (c->subject_prefix == NULL && (c->subject_prefix = strdup("[dumpscout]")) == NULL) {
		rc = DS_ENOMEM;
		goto out;
	}
	if ((rc = mail_cfg_schedule(mail, c, e)) != DS_OK ||
	    (rc = config_value_key_bool(mail, "mail", "alert_on_new_bucket", &c->alert_on_new_bucket, e)) != DS_OK ||
	    (rc = config_value_key_bool(mail, "mail", "skip_empty_digest", &c->skip_empty_digest, e)) != DS_OK)
		goto out;
	v = c->alert_min_interval_minutes;
	if ((rc = config_value_key_uint(mail, "mail", "alert_min_interval_minutes", 0, 7 * 24 * 60, &v, e)) !=
	    DS_OK)
		goto out;
	c->alert_min_interval_minutes = (unsigned)v;
	v = c->max_message_bytes;
	if ((rc = config_value_key_uint(mail, "mail", "max_message_bytes", MAIL_MIN_MAX_BYTES, STORE_MAX_TEXT, &v,
					e)) != DS_OK)
		goto out;
	c->max_message_bytes = (size_t)v;
	v = c->connect_timeout_s;
	if ((rc = config_value_key_uint(mail, "mail", "connect_timeout_s", 1, 600, &v, e)) != DS_OK)
		goto out;
	c->connect_timeout_s = (unsigned)v;
	v = c->timeout_s;
	if ((rc = config_value_key_uint(mail, "mail", "timeout_s", 1, 3600, &v, e)) != DS_OK)
		goto out;
	c->timeout_s = (unsigned)v;

	if (c->username == NULL && (c->password_file != NULL || c->password_env != NULL)) {
		rc = ds_err_setn(e, DS_EINVAL, "mail.username: required when a password is given");
		goto out;
	}
	if (c->username != NULL && (c->password_file == NULL) == (c->password_env == NULL)) {
		rc = ds_err_setn(e, DS_EINVAL, "mail.username is set: give exactly one of mail.password_file or "
					       "mail.password_env");
		goto out;
	}
	if ((rc = config_value_path(&c->password_file, base_dir)) != DS_OK ||
	    (rc = config_value_path(&c->ca_file, base_dir)) != DS_OK)
		goto out;
	if (c->password_file != NULL &&
	    (rc = config_value_secret_file("mail", "password_file", c->password_file, e)) != DS_OK)
		goto out;
	*out = c;
	c = NULL;
out:
	free(sec);
	free(from);
	mail_config_free(c);
	return rc;
}


void mail_wipe(char *p, size_t n)
{
	config_value_wipe(p, n);
}

void mail_password_free(char *pw)
{
	config_value_secret_free(pw);
}

int mail_password(const struct mail_config *c, char **pw, struct ds_err *e)
{
	*pw = NULL;
	/* without a username there is no login, whatever else is set */
	return c->username == NULL ? DS_OK
				   : config_value_secret("mail", c->password_file, c->password_env, MAIL_PASSWORD_MAX, pw, e);
}

int64_t mail_backoff_ms(int attempts)
{
	int64_t ms = 60000;

	while (attempts-- > 1 && ms < 3600000)
		ms *= 2;
	return ms > 3600000 ? 3600000 : ms;
}

int mail_state_get(struct store *st, const char *key, int64_t *v, int *found, struct ds_err *e)
{
	char *s = NULL;
	int rc, have = 0;

	*v = 0;
	rc = store_kv_get(st, key, &s, e);
	if (rc == DS_ENOENT)
		rc = DS_OK;
	else if (rc == DS_OK)
		have = cursor_parse_int(s, INT64_MIN, INT64_MAX, v) == DS_OK;
	free(s);
	if (found != NULL)
		*found = have;
	return rc;
}

int mail_state_set(struct store *st, const char *key, int64_t v, int64_t now, struct ds_err *e)
{
	char s[32];

	snprintf(s, sizeof(s), "%" PRId64, v);
	return store_kv_set(st, key, s, now, e);
}

/* The database's random Message-ID token, made on first use. Runs inside the caller's transaction. */
static int mail_token(struct store *st, int64_t now, char *tok, size_t n, struct ds_err *e)
{
	static const char hex[] = "0123456789abcdef";
	unsigned char r[12];
	char *s = NULL;
	size_t i;
	int rc;

	rc = store_kv_get(st, "mail.token", &s, e);
	if (rc == DS_OK && strlen(s) > 0 && strlen(s) < n) {
		snprintf(tok, n, "%s", s);
		free(s);
		return DS_OK;
	}
	free(s);
	if (rc != DS_OK && rc != DS_ENOENT)
		return rc;
	if (n < 2 * sizeof(r) + 1 || plat_random_bytes(r, sizeof(r)) != DS_OK)
		return ds_err_setn(e, DS_EIO, "no random source for the mail token");
	for (i = 0; i < sizeof(r); i++) {
		tok[2 * i] = hex[r[i] >> 4];
		tok[2 * i + 1] = hex[r[i] & 15];
	}
	tok[2 * sizeof(r)] = '\0';
	return store_kv_set(st, "mail.token", tok, now, e);
}

/* mail_enqueue inside the caller's transaction. */
static int mail_enqueue_tx(struct store *st, const struct mail_config *c, const struct mail_compose *m, int64_t now,
			   int64_t *id, int *existed, struct ds_err *e)
{
	struct store_mail_new nm;
	struct mime_message mm;
	struct buf subj, to;
	char tok[64], msgid[400], *mime = NULL;
	const char *dom;
	int64_t seq;
	size_t len, i;
	int rc;

	buf_init(&subj, 4096);
	buf_init(&to, 64 * 1024);
	rc = mail_token(st, now, tok, sizeof(tok), e);
	if (rc != DS_OK)
		goto out;
	rc = mail_state_get(st, "mail.seq", &seq, NULL, e);
	if (rc != DS_OK)
		goto out;
	seq++;
	rc = mail_state_set(st, "mail.seq", seq, now, e);
	if (rc != DS_OK)
		goto out;
	dom = strchr(c->from.addr, '@');
	rc = mime_message_id(seq, tok, dom ? dom + 1 : NULL, msgid, sizeof(msgid));
	if (rc != DS_OK)
		goto out;
	if (c->subject_prefix[0] != '\0')
		rc = buf_printf(&subj, "%s %.1000s", c->subject_prefix, m->subject ? m->subject : "");
	else
		rc = buf_printf(&subj, "%.1000s", m->subject ? m->subject : "");
	for (i = 0; rc == DS_OK && i < c->to_count; i++)
		rc = buf_printf(&to, "%s%s", i ? ", " : "", c->to[i].addr);
	if (rc != DS_OK)
		goto out;
	memset(&mm, 0, sizeof(mm));
	mm.from = &c->from;
	mm.to = c->to;
	mm.to_count = c->to_count;
	mm.subject = subj.data;
	mm.text = m->text;
	mm.text_len = m->text_len;
	mm.html = m->html;
	mm.html_len = m->html_len;
	mm.date_ms = now;
	mm.message_id = msgid;
	mm.max_bytes = c->max_message_bytes;
	rc = mime_build(&mm, &mime, &len, NULL, e);
	if (rc != DS_OK)
		goto out;
	memset(&nm, 0, sizeof(nm));
	nm.kind = m->kind;
	nm.dedupe_key = m->dedupe_key;
	nm.message_id = msgid;
	nm.subject = subj.data;
	nm.to = to.data;
	nm.mime = mime;
	nm.bucket_id = m->bucket_id;
	rc = store_outbox_enqueue(st, &nm, now, id, existed, e);
out:
	free(mime);
	buf_free(&subj);
	buf_free(&to);
	return rc;
}

int mail_enqueue(struct store *st, const struct mail_config *c, const struct mail_compose *m, int64_t now, int64_t *id,
		 int *existed, struct ds_err *e)
{
	int rc, ex = 0;

	rc = store_tx_begin(st, e);
	if (rc != DS_OK)
		return rc;
	rc = mail_enqueue_tx(st, c, m, now, id, &ex, e);
	if (existed != NULL)
		*existed = ex;
	if (rc != DS_OK || ex) {
		/* nothing new: do not spend a sequence number */
		store_tx_rollback(st);
		return rc;
	}
	return store_tx_commit(st, e);
}

int64_t mail_next_digest_at(const struct mail_config *c, int64_t last_digest, int64_t now)
{
	int64_t base = last_digest > 0 ? last_digest : now, t, sec;
	struct tm tm;
	long off;
	int day, ok;

	if (c->schedule == MAIL_SCHED_EVERY)
		return base + (int64_t)c->every_hours * 3600000;
	sec = base / 1000;
	if (plat_localtime(sec, &tm, &off) != DS_OK)
		return base + 24LL * 3600000;
	for (day = 0; day < 4; day++) {
		struct tm cand = tm;

		cand.tm_mday += day;
		cand.tm_hour = c->daily_hour;
		cand.tm_min = c->daily_minute;
		cand.tm_sec = 0;
		cand.tm_isdst = -1;
		t = plat_mktime_local(&cand, &ok);
		if (ok && t * 1000 > base)
			return t * 1000;
	}
	return base + 24LL * 3600000;
}

int mail_alert_allowed(const struct mail_config *c, int64_t last_alert, int64_t now, int64_t *next)
{
	int64_t at;

	if (next != NULL)
		*next = 0;
	if (!c->alert_on_new_bucket)
		return 0;
	at = last_alert > 0 ? last_alert + (int64_t)c->alert_min_interval_minutes * 60000 : now;
	if (at <= now)
		return 1;
	if (next != NULL)
		*next = at;
	return 0;
}

int mail_digest_due(struct store *st, const struct mail_config *c, int64_t now, int *due, int64_t *since,
		    struct ds_err *e)
{
	int64_t last;
	int rc;

	*due = 0;
	*since = 0;
	rc = mail_state_get(st, "mail.last_digest_at", &last, NULL, e);
	if (rc != DS_OK)
		return rc;
	if (last <= 0) /* first run: the schedule starts now */
		return mail_state_set(st, "mail.last_digest_at", now, now, e);
	*since = last;
	*due = mail_next_digest_at(c, last, now) <= now;
	return DS_OK;
}

/* Enqueues (unless skip) and records the time under kv_key, in one transaction. */
static int mail_enqueue_recorded(struct store *st, const struct mail_config *c, const struct mail_compose *m,
				 int skip, const char *kv_key, int64_t now, int64_t *id, struct ds_err *e)
{
	int rc, ex = 0;

	if (id != NULL)
		*id = 0;
	rc = store_tx_begin(st, e);
	if (rc != DS_OK)
		return rc;
	if (!skip)
		rc = mail_enqueue_tx(st, c, m, now, id, &ex, e);
	if (rc == DS_OK)
		rc = mail_state_set(st, kv_key, now, now, e);
	if (rc != DS_OK) {
		store_tx_rollback(st);
		return rc;
	}
	return store_tx_commit(st, e);
}

int mail_digest_enqueue(struct store *st, const struct mail_config *c, const char *subject, const char *text,
			size_t text_len, const char *html, size_t html_len, int empty, int64_t now, int64_t *id,
			struct ds_err *e)
{
	struct mail_compose m;
	char key[64];
	int64_t last;
	int rc;

	rc = mail_state_get(st, "mail.last_digest_at", &last, NULL, e);
	if (rc != DS_OK)
		return rc;
	snprintf(key, sizeof(key), "digest:%" PRId64, mail_next_digest_at(c, last, now));
	memset(&m, 0, sizeof(m));
	m.kind = STORE_MAIL_DIGEST;
	m.dedupe_key = key;
	m.subject = subject;
	m.text = text;
	m.text_len = text_len;
	m.html = html;
	m.html_len = html_len;
	return mail_enqueue_recorded(st, c, &m, empty && c->skip_empty_digest, "mail.last_digest_at", now, id, e);
}

int mail_alert_due(struct store *st, const struct mail_config *c, int64_t now, int *allowed, int64_t *since,
		   struct ds_err *e)
{
	int64_t last;
	int rc;

	*allowed = 0;
	*since = 0;
	rc = mail_state_get(st, "mail.last_alert_at", &last, NULL, e);
	if (rc != DS_OK)
		return rc;
	*since = last;
	*allowed = mail_alert_allowed(c, last, now, NULL);
	return DS_OK;
}

int mail_alert_enqueue(struct store *st, const struct mail_config *c, int64_t bucket_id, const char *subject,
		       const char *text, size_t text_len, const char *html, size_t html_len, int64_t now,
		       int64_t *id, struct ds_err *e)
{
	struct mail_compose m;
	char key[64];

	snprintf(key, sizeof(key), "alert:bucket:%" PRId64, bucket_id);
	memset(&m, 0, sizeof(m));
	m.kind = STORE_MAIL_ALERT;
	m.dedupe_key = key;
	m.subject = subject;
	m.text = text;
	m.text_len = text_len;
	m.html = html;
	m.html_len = html_len;
	m.bucket_id = bucket_id;
	return mail_enqueue_recorded(st, c, &m, 0, "mail.last_alert_at", now, id, e);
}
