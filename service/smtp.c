/* smtp.c - mail delivery: the SMTP transport over libcurl (STARTTLS/TLS, AUTH, the server's replies)
 * and the outbox pump that hands due messages to it. The only file that includes curl.h, so programs
 * that only configure, compose or queue mail (the CLI) do not load libcurl and its dependencies.
 * Configuration, composing, queueing and scheduling are mail.c's. */
#include "smtp.h"
#include "lib/mail.h"
#include "lib/mime.h"
#include "core/buf.h"
#include "core/log.h"
#include "core/plat.h"
#include "core/store.h"

#include <curl/curl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAIL_LOG "mail"

/* Copies a NUL-terminated string into n bytes, cut if needed. */
static void mail_copy(char *dst, size_t n, const char *src)
{
	size_t l = strlen(src);

	if (n == 0)
		return;
	if (l >= n)
		l = n - 1;
	memcpy(dst, src, l);
	dst[l] = '\0';
}
int mail_global_init(void)
{
	return curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK ? DS_OK : DS_ENOMEM;
}

void mail_global_cleanup(void)
{
	curl_global_cleanup();
}

/* ---- delivery ---- */

struct mail_reader {
	const char *p;
	size_t left;
};

static size_t mail_read_cb(char *dst, size_t size, size_t nitems, void *ud)
{
	struct mail_reader *r = ud;
	size_t n = size * nitems;

	if (n > r->left)
		n = r->left;
	memcpy(dst, r->p, n);
	r->p += n;
	r->left -= n;
	return n;
}

/* The server's replies, as libcurl passes them to the header callback (one line per call). */
struct mail_replies {
	long last_code;
	char last[512];
	long fail_code;          /* first reply of 400 or more */
	char fail[512];
};

static void mail_reply_copy(char *dst, size_t n, const char *src, size_t len)
{
	size_t i, o = 0;

	while (len > 0 && (src[len - 1] == '\n' || src[len - 1] == '\r'))
		len--;
	for (i = 0; i < len && o + 1 < n; i++)
		dst[o++] = (unsigned char)src[i] < 0x20 || src[i] == 0x7F ? '?' : src[i];
	dst[o] = '\0';
}

static size_t mail_header_cb(char *line, size_t size, size_t nitems, void *ud)
{
	struct mail_replies *r = ud;
	size_t n = size * nitems;
	long code;

	if (n >= 3 && line[0] >= '1' && line[0] <= '5' && line[1] >= '0' && line[1] <= '9' && line[2] >= '0' &&
	    line[2] <= '9' && (n == 3 || line[3] == ' ' || line[3] == '\r' || line[3] == '\n' || line[3] == '-')) {
		code = (line[0] - '0') * 100 + (line[1] - '0') * 10 + (line[2] - '0');
		if (n == 3 || line[3] != '-') { /* the last line of a reply */
			r->last_code = code;
			mail_reply_copy(r->last, sizeof(r->last), line, n);
			if (code >= 400 && r->fail_code == 0) {
				r->fail_code = code;
				mail_reply_copy(r->fail, sizeof(r->fail), line, n);
			}
		}
	}
	return n;
}

/* Replaces every occurrence of secret in s with "****" (in place; s only shrinks or keeps its size
 * because the password is at least 4 bytes, otherwise the hit is blanked). */
static void mail_redact(char *s, const char *secret)
{
	size_t sl, n;
	char *p;

	if (secret == NULL || (sl = strlen(secret)) == 0)
		return;
	while ((p = strstr(s, secret)) != NULL) {
		n = sl >= 4 ? 4 : sl;
		memset(p, '*', n);
		memmove(p + n, p + sl, strlen(p + sl) + 1);
	}
}

static int mail_classify(CURLcode cc, long code)
{
	if (cc == CURLE_OK)
		return MAIL_SENT;
	if (cc == CURLE_LOGIN_DENIED || code == 535 || code == 534 || code == 530)
		return MAIL_AUTH;
	if (code >= 500)
		return MAIL_REJECTED;
	if (code >= 400)
		return MAIL_TRANSIENT;
	switch (cc) {
	case CURLE_USE_SSL_FAILED:
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CACERT_BADFILE:
	case CURLE_SSL_CERTPROBLEM:
	case CURLE_UNSUPPORTED_PROTOCOL:
	case CURLE_URL_MALFORMAT:
	case CURLE_NOT_BUILT_IN:
		return MAIL_CONFIG;
	default:
		return MAIL_TRANSIENT; /* refused, timed out, reset, resolver: the server may be back later */
	}
}

/* mail_send with the password already read (NULL: no AUTH). */
static int mail_send_pw(const struct mail_config *c, const char *pw, const char *msg, size_t len,
			const struct mime_addr *rcpt, size_t nrcpt, struct mail_result *res)
{
	struct mail_replies rep;
	struct mail_reader rd = { msg, len };
	struct curl_slist *rl = NULL, *tmp;
	char url[600], from[MIME_ADDR_MAX + 3], addr[MIME_ADDR_MAX + 3], errbuf[CURL_ERROR_SIZE];
	const char *helo, *what;
	CURL *h = NULL;
	CURLcode cc;
	size_t i;
	int rc = DS_OK;

	memset(res, 0, sizeof(*res));
	memset(&rep, 0, sizeof(rep));
	errbuf[0] = '\0';
	helo = strchr(c->from.addr, '@');
	helo = helo != NULL ? helo + 1 : "localhost";
	snprintf(url, sizeof(url), "%s://%s%s%s:%u/%s", c->security == MAIL_SEC_TLS ? "smtps" : "smtp",
		 strchr(c->server, ':') ? "[" : "", c->server, strchr(c->server, ':') ? "]" : "", c->port, helo);
	snprintf(from, sizeof(from), "<%s>", c->from.addr);
	for (i = 0; i < nrcpt; i++) {
		snprintf(addr, sizeof(addr), "<%s>", rcpt[i].addr);
		tmp = curl_slist_append(rl, addr);
		if (tmp == NULL) {
			rc = DS_ENOMEM;
			goto out;
		}
		rl = tmp;
	}
	h = curl_easy_init();
	if (h == NULL || rl == NULL) {
		rc = h == NULL ? DS_ENOMEM : DS_EINVAL;
		snprintf(res->error, sizeof(res->error), "%s", h == NULL ? "cannot start libcurl" : "no recipients");
		res->outcome = MAIL_CONFIG;
		goto out;
	}
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
	curl_easy_setopt(h, CURLOPT_USE_SSL, (long)(c->security == MAIL_SEC_NONE ? CURLUSESSL_NONE : CURLUSESSL_ALL));
	curl_easy_setopt(h, CURLOPT_MAIL_FROM, from);
	curl_easy_setopt(h, CURLOPT_MAIL_RCPT, rl);
	curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);
	curl_easy_setopt(h, CURLOPT_READFUNCTION, mail_read_cb);
	curl_easy_setopt(h, CURLOPT_READDATA, &rd);
	curl_easy_setopt(h, CURLOPT_INFILESIZE_LARGE, (curl_off_t)len);
	curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, mail_header_cb);
	curl_easy_setopt(h, CURLOPT_HEADERDATA, &rep);
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, (long)c->connect_timeout_s);
	curl_easy_setopt(h, CURLOPT_TIMEOUT, (long)c->timeout_s);
	if (c->ca_file != NULL)
		curl_easy_setopt(h, CURLOPT_CAINFO, c->ca_file);
	if (c->username != NULL) {
		curl_easy_setopt(h, CURLOPT_USERNAME, c->username);
		curl_easy_setopt(h, CURLOPT_PASSWORD, pw != NULL ? pw : "");
	}
	cc = curl_easy_perform(h);
	res->smtp_code = rep.fail_code != 0 ? rep.fail_code : rep.last_code;
	mail_copy(res->smtp_text, sizeof(res->smtp_text), rep.fail_code != 0 ? rep.fail : rep.last);
	res->outcome = mail_classify(cc, res->smtp_code);
	if (res->outcome == MAIL_SENT)
		goto out;
	rc = DS_ENET;
	if (errbuf[0] == '\0')
		snprintf(errbuf, sizeof(errbuf), "%s", curl_easy_strerror(cc));
	switch (res->outcome) {
	case MAIL_AUTH:
		snprintf(res->error, sizeof(res->error), "SMTP server %s:%u refused the login for user '%s': %s",
			 c->server, c->port, c->username ? c->username : "", res->smtp_text[0] ? res->smtp_text : errbuf);
		break;
	case MAIL_REJECTED:
		snprintf(res->error, sizeof(res->error), "SMTP server %s:%u rejected the message: %s", c->server,
			 c->port, res->smtp_text);
		break;
	case MAIL_CONFIG:
		what = cc == CURLE_USE_SSL_FAILED ? " (the server does not offer STARTTLS)" : "";
		snprintf(res->error, sizeof(res->error), "SMTP server %s:%u: %s%s; check the mail settings", c->server,
			 c->port, errbuf, what);
		break;
	default:
		if (res->smtp_code >= 400)
			snprintf(res->error, sizeof(res->error), "SMTP server %s:%u deferred the message: %s", c->server,
				 c->port, res->smtp_text);
		else
			snprintf(res->error, sizeof(res->error), "cannot deliver to SMTP server %s:%u: %s", c->server,
				 c->port, errbuf);
		break;
	}
out:
	if (h != NULL)
		curl_easy_cleanup(h);
	curl_slist_free_all(rl);
	mail_redact(res->error, pw);
	mail_redact(res->smtp_text, pw);
	mail_wipe(errbuf, sizeof(errbuf));
	return rc;
}

int mail_send(const struct mail_config *c, const char *msg, size_t len, const struct mime_addr *rcpt, size_t nrcpt,
	      struct mail_result *res)
{
	struct ds_err pe;
	char *pw = NULL;
	int rc;

	memset(res, 0, sizeof(*res));
	rc = mail_password(c, &pw, &pe);
	if (rc != DS_OK) {
		res->outcome = MAIL_CONFIG;
		mail_copy(res->error, sizeof(res->error), pe.msg);
		return rc;
	}
	rc = mail_send_pw(c, pw, msg, len, rcpt, nrcpt, res);
	mail_password_free(pw);
	return rc;
}

/* ---- outbox ---- */

static uint64_t mail_fnv(uint64_t h, const char *s)
{
	for (; s != NULL && *s; s++) {
		h ^= (unsigned char)*s;
		h *= 1099511628211ULL;
	}
	h ^= 0xFF; /* field separator */
	h *= 1099511628211ULL;
	return h;
}

/* A fingerprint of what decides whether the server accepts our login and TLS (never 0). */
static uint64_t mail_fingerprint(const struct mail_config *c, const char *pw)
{
	char port[16];
	uint64_t h = 1469598103934665603ULL;

	snprintf(port, sizeof(port), "%u/%d", c->port, c->security);
	h = mail_fnv(h, c->server);
	h = mail_fnv(h, port);
	h = mail_fnv(h, c->username);
	h = mail_fnv(h, pw);
	h = mail_fnv(h, c->ca_file);
	return h == 0 ? 1 : h;
}

/* Splits the row's comma-separated recipients. DS_EINVAL when one is not an address. */
static int mail_row_rcpt(const char *to, struct mime_addr *out, size_t max, size_t *n, struct ds_err *e)
{
	char one[MIME_ADDR_MAX + MIME_NAME_MAX + 8];
	const char *p = to, *comma;
	size_t len;
	int rc;

	*n = 0;
	while (p != NULL && *p) {
		comma = strchr(p, ',');
		len = comma ? (size_t)(comma - p) : strlen(p);
		if (len >= sizeof(one) || *n >= max)
			return ds_err_setn(e, DS_EINVAL, "outbox recipients too long or too many");
		memcpy(one, p, len);
		one[len] = '\0';
		rc = mime_addr_parse(one, &out[*n], e);
		if (rc != DS_OK)
			return rc;
		(*n)++;
		p = comma ? comma + 1 : NULL;
	}
	return *n > 0 ? DS_OK : ds_err_setn(e, DS_EINVAL, "outbox message has no recipients");
}

/* Delivers one claimed row; fills res. A row without a stored MIME text (written by another part of
 * the program) is built here from its bodies, with its own Message-ID and creation time. */
static void mail_deliver_row(const struct mail_config *c, const char *pw, const struct store_mail *m,
			     struct mail_result *res)
{
	struct mime_addr *rcpt = NULL;
	struct mime_message mm;
	struct ds_err e;
	char *built = NULL;
	const char *msg = m->mime;
	size_t nrcpt = 0, len = m->mime ? strlen(m->mime) : 0;

	memset(res, 0, sizeof(*res));
	rcpt = calloc(MAIL_MAX_RCPT, sizeof(*rcpt));
	if (rcpt == NULL) {
		res->outcome = MAIL_TRANSIENT;
		snprintf(res->error, sizeof(res->error), "out of memory");
		goto out;
	}
	if (mail_row_rcpt(m->to, rcpt, MAIL_MAX_RCPT, &nrcpt, &e) != DS_OK) {
		res->outcome = MAIL_REJECTED;
		snprintf(res->error, sizeof(res->error), "bad recipients in the outbox: %s", e.msg);
		goto out;
	}
	if (msg == NULL) {
		memset(&mm, 0, sizeof(mm));
		mm.from = &c->from;
		mm.to = rcpt;
		mm.to_count = nrcpt;
		mm.subject = m->subject;
		mm.text = m->body_text;
		mm.text_len = m->body_text ? strlen(m->body_text) : 0;
		mm.html = m->body_html;
		mm.html_len = m->body_html ? strlen(m->body_html) : 0;
		mm.date_ms = m->created_at;
		mm.message_id = m->message_id;
		mm.max_bytes = c->max_message_bytes;
		if (mime_build(&mm, &built, &len, NULL, &e) != DS_OK) {
			res->outcome = MAIL_REJECTED;
			snprintf(res->error, sizeof(res->error), "cannot build the message: %s", e.msg);
			goto out;
		}
		msg = built;
	}
	mail_send_pw(c, pw, msg, len, rcpt, nrcpt, res);
out:
	free(built);
	free(rcpt);
}

int mail_outbox_pump(struct store *st, struct mail_config *c, int64_t now, int max_messages,
		     struct mail_pump_stats *stats, struct ds_err *e)
{
	struct mail_pump_stats local;
	struct store_mail m;
	struct mail_result res;
	struct ds_err pe;
	char *pw = NULL, err[1200];
	uint64_t fp;
	int rc = DS_OK, i, permanent;
	int64_t next;

	if (stats == NULL)
		stats = &local;
	memset(stats, 0, sizeof(*stats));
	memset(&m, 0, sizeof(m));
	if (max_messages <= 0)
		max_messages = 100;
	if (mail_password(c, &pw, &pe) != DS_OK) {
		stats->blocked = 1;
		mail_copy(stats->last_error, sizeof(stats->last_error), pe.msg);
		log_error(MAIL_LOG, "mail delivery paused: %s", pe.msg);
		store_status_error(st, pe.msg, now, NULL);
		goto out;
	}
	fp = mail_fingerprint(c, pw);
	if (atomic_load(&c->auth_block) == fp) {
		stats->blocked = 1;
		snprintf(stats->last_error, sizeof(stats->last_error), "delivery paused until the mail settings change");
		goto out;
	}
	atomic_store(&c->auth_block, 0);
	for (i = 0; i < max_messages; i++) {
		rc = store_outbox_claim(st, now, &m, e);
		if (rc == DS_ENOENT) {
			rc = DS_OK;
			break;
		}
		if (rc != DS_OK)
			goto out;
		mail_deliver_row(c, pw, &m, &res);
		if (res.outcome == MAIL_SENT) {
			rc = store_outbox_sent(st, m.id, now, e);
			if (rc != DS_OK) {
				/* accepted but not recorded: the row stays 'sending' until store_recover at the
				 * next start, which sends it once more with the same Message-ID */
				log_error(MAIL_LOG, "message %" PRId64 " %s was accepted but could not be marked sent: %s",
					  m.id, m.message_id, e != NULL ? e->msg : ds_strerror(rc));
				goto out;
			}
			stats->sent++;
			log_info(MAIL_LOG, "sent message %" PRId64 " %s to %s: %ld %s", m.id, m.message_id, m.to,
				 res.smtp_code, res.smtp_text);
		} else {
			permanent = res.outcome == MAIL_REJECTED;
			next = now + mail_backoff_ms(m.attempts);
			if (res.outcome == MAIL_AUTH || res.outcome == MAIL_CONFIG)
				next = now; /* retried as soon as the settings change (the block below) */
			if (!permanent && now - m.created_at >= MAIL_GIVE_UP_MS) {
				permanent = 1;
				snprintf(err, sizeof(err), "gave up after %d attempts: %s", m.attempts, res.error);
			} else {
				mail_copy(err, sizeof(err), res.error);
			}
			rc = store_outbox_failed(st, m.id, err, permanent, next, e);
			if (rc != DS_OK)
				goto out;
			mail_copy(stats->last_error, sizeof(stats->last_error), err);
			if (permanent) {
				stats->failed++;
				log_error(MAIL_LOG, "message %" PRId64 " %s failed: %s", m.id, m.message_id, err);
			} else {
				stats->retry++;
				log_warn(MAIL_LOG, "message %" PRId64 " %s not sent (attempt %d): %s", m.id, m.message_id,
					 m.attempts, err);
			}
			if (res.outcome == MAIL_AUTH || res.outcome == MAIL_CONFIG) {
				atomic_store(&c->auth_block, fp);
				stats->blocked = 1;
				log_error(MAIL_LOG, "mail delivery paused until the settings change: %s", err);
				store_status_error(st, err, now, NULL);
				store_mail_clear(&m);
				break;
			}
			if (res.outcome == MAIL_TRANSIENT) {
				store_mail_clear(&m);
				break; /* the server is away: the rest waits for the backoff too */
			}
		}
		store_mail_clear(&m);
	}
out:
	store_mail_clear(&m);
	mail_password_free(pw);
	return rc;
}

/* ---- schedule ---- */

