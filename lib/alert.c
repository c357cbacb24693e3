/* alert.c - renders the new-bucket alert mail (subject, text, HTML) from the store's bucket objects.
 * Plain text is laid out for a terminal-width mail reader; HTML escapes every value that came from a
 * dump or the database. It does not send, schedule or store anything; the digest is the report's
 * (lib/report.c), rendered by the same code as `dumpscout report`. */
#include "alert.h"

#include "core/buf.h"
#include "core/plat.h"
#include "core/text.h"

#include <cjson/cJSON.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Both parts under construction, with a sticky error: after the first failure every append is a no-op. */
struct alert_out {
	struct buf text, html;
	int rc;
};

static void alert_t(struct alert_out *o, const char *fmt, ...) DS_PRINTF(2, 3);
static void alert_t(struct alert_out *o, const char *fmt, ...)
{
	va_list ap;

	if (o->rc != DS_OK)
		return;
	va_start(ap, fmt);
	o->rc = text_vbprintf(&o->text, fmt, ap); /* values cleaned: no line break from a bucket title */
	va_end(ap);
}

/* Raw HTML (markup written here, never a value). */
static void alert_h(struct alert_out *o, const char *s)
{
	if (o->rc == DS_OK)
		o->rc = buf_puts(&o->html, s);
}

/* A value into HTML, escaped. */
static void alert_hv(struct alert_out *o, const char *v)
{
	char *c = text_clean_dup(v, 0);
	const char *rep, *s = c;
	size_t run = 0;

	if (c == NULL && o->rc == DS_OK)
		o->rc = DS_ENOMEM;
	if (c == NULL)
		return;

	for (; o->rc == DS_OK && s[run] != '\0';) {
		switch (s[run]) {
		case '<': rep = "&lt;"; break;
		case '>': rep = "&gt;"; break;
		case '&': rep = "&amp;"; break;
		case '"': rep = "&quot;"; break;
		case '\'': rep = "&#39;"; break;
		default: rep = NULL; break;
		}
		if (rep == NULL) {
			run++;
			continue;
		}
		o->rc = buf_append(&o->html, s, run);
		if (o->rc == DS_OK)
			o->rc = buf_puts(&o->html, rep);
		s += run + 1;
		run = 0;
	}
	if (o->rc == DS_OK)
		o->rc = buf_append(&o->html, s, run);
	free(c);
}

static void alert_hnum(struct alert_out *o, long long v)
{
	char n[32];

	snprintf(n, sizeof(n), "%lld", v);
	alert_h(o, n);
}

static const char *alert_str(const cJSON *obj, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);

	return cJSON_IsString(v) && v->valuestring != NULL ? v->valuestring : "";
}

static long long alert_num(const cJSON *obj, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);

	return cJSON_IsNumber(v) ? (long long)v->valuedouble : cJSON_IsTrue(v) ? 1 : 0;
}

/* "2024-05-01 08:00" in local time, or "the start" for 0. */
static void alert_time(int64_t ms, char *out, size_t n)
{
	struct tm tm;
	long off;

	if (ms <= 0) {
		snprintf(out, n, "the start");
		return;
	}
	if (plat_localtime(ms / 1000, &tm, &off) != DS_OK || strftime(out, n, "%Y-%m-%d %H:%M", &tm) == 0)
		snprintf(out, n, "%lld ms", (long long)ms);
}

static const char *alert_s(long long n)
{
	return n == 1 ? "" : "s";
}

static void alert_open(struct alert_out *o)
{
	memset(o, 0, sizeof(*o));
	buf_init(&o->text, ALERT_MAX_PART);
	buf_init(&o->html, ALERT_MAX_PART);
	alert_h(o, "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"></head>"
		    "<body style=\"font-family: sans-serif\">\n");
}

/* Moves the parts into m (on success) and frees what is left. */
static int alert_close(struct alert_out *o, struct alert_msg *m, struct ds_err *e)
{
	alert_h(o, "</body></html>\n");
	if (o->rc == DS_OK) {
		m->text_len = o->text.len;
		m->html_len = o->html.len;
		m->text = buf_steal(&o->text);
		m->html = buf_steal(&o->html);
		if (m->text == NULL || m->html == NULL)
			o->rc = DS_ENOMEM;
	}
	if (o->rc == DS_OK && m->subject == NULL)
		o->rc = DS_ENOMEM;
	buf_free(&o->text);
	buf_free(&o->html);
	if (o->rc != DS_OK) {
		alert_msg_clear(m);
		ds_err_setn(e, o->rc, "cannot render the mail: %s", ds_strerror(o->rc));
	}
	return o->rc;
}

/* One bucket: "  crash  TITLE" then "bucket ID: N dumps; apps: a, b". */
static void alert_bucket(struct alert_out *o, const cJSON *b)
{
	const cJSON *apps = cJSON_GetObjectItemCaseSensitive(b, "apps"), *a;
	const char *title = alert_str(b, "title");
	long long count = alert_num(b, "count");
	int i = 0;

	if (title[0] == '\0')
		title = alert_str(b, "key");
	alert_t(o, "  %-5s  %s\n         bucket %lld: %lld dump%s", alert_str(b, "kind"), title,
		 alert_num(b, "id"), count, alert_s(count));
	alert_h(o, "<tr><td>");
	alert_hv(o, alert_str(b, "kind"));
	alert_h(o, "</td><td>");
	alert_hv(o, title);
	alert_h(o, "</td><td>");
	alert_hnum(o, alert_num(b, "id"));
	alert_h(o, "</td><td>");
	alert_hnum(o, count);
	alert_h(o, "</td><td>");
	cJSON_ArrayForEach(a, apps) {
		alert_t(o, "%s%s", i == 0 ? "; apps: " : ", ", alert_str(a, "app"));
		if (i > 0)
			alert_h(o, ", ");
		alert_hv(o, alert_str(a, "app"));
		i++;
	}
	alert_t(o, "\n");
	alert_h(o, "</td></tr>\n");
}

static void alert_table_head(struct alert_out *o)
{
	alert_h(o, "<table border=\"1\" cellpadding=\"4\" cellspacing=\"0\"><tr><th>kind</th><th>bucket</th>"
		    "<th>id</th><th>dumps</th><th>applications</th></tr>\n");
}

int alert_render(const cJSON *buckets, const char *host, struct alert_msg *out, struct ds_err *e)
{
	struct alert_out o;
	const cJSON *it, *first;
	char subj[300], when[64];
	int n = cJSON_GetArraySize(buckets), listed = 0, rc;
	const char *title;

	memset(out, 0, sizeof(*out));
	first = cJSON_GetArrayItem(buckets, 0);
	if (n <= 0 || first == NULL)
		return ds_err_setn(e, DS_EINVAL, "an alert needs at least one bucket");
	if (host == NULL || host[0] == '\0')
		host = "this machine";
	title = alert_str(first, "title");
	if (title[0] == '\0')
		title = alert_str(first, "key");
	if (n == 1)
		snprintf(subj, sizeof(subj), "new %s bucket on %s: %.160s", alert_str(first, "kind"), host, title);
	else
		snprintf(subj, sizeof(subj), "%d new buckets on %s: %.160s, ...", n, host, title);
	out->subject = strdup(subj);
	alert_open(&o);
	alert_t(&o, "%d new bucket%s seen by dumpscout on %s:\n\n", n, n == 1 ? "" : "s", host);
	alert_h(&o, "<h2>");
	alert_hnum(&o, n);
	alert_h(&o, " new bucket(s) seen by dumpscout on ");
	alert_hv(&o, host);
	alert_h(&o, "</h2>\n");
	alert_table_head(&o);
	cJSON_ArrayForEach(it, buckets) {
		if (listed++ >= ALERT_MAX_LISTED)
			break;
		alert_time((int64_t)alert_num(it, "first_seen"), when, sizeof(when));
		alert_bucket(&o, it);
		alert_t(&o, "         first seen %s\n", when);
	}
	alert_h(&o, "</table>\n");
	if (n > ALERT_MAX_LISTED) {
		alert_t(&o, "  ... and %d more\n", n - ALERT_MAX_LISTED);
		alert_h(&o, "<p>... and ");
		alert_hnum(&o, n - ALERT_MAX_LISTED);
		alert_h(&o, " more</p>\n");
	}
	alert_t(&o, "\nDetails: dumpscout buckets; dumpscout bucket ID\n"
		     "At most one alert is sent per alert_min_interval_minutes; buckets seen meanwhile go into the next.\n");
	rc = alert_close(&o, out, e);
	return rc;
}

void alert_msg_clear(struct alert_msg *m)
{
	if (m == NULL)
		return;
	free(m->subject);
	free(m->text);
	free(m->html);
	memset(m, 0, sizeof(*m));
}
