/* report.c - the report model and its text, HTML and JSON renderings (see report.h). The database is
 * hostile ground: process names, culprits and titles come from dumps, so the HTML renderer escapes
 * every such string and the text renderer replaces control characters. The page has no scripts, no
 * links to load and no images; its charts are table cells with a width and a background colour, which
 * browsers and mail clients both draw. */
#include "report.h"
#include "jget.h"
#include "when.h"
#include "analyzer/culprits.h"
#include "core/buf.h"
#include "core/text.h"
#include "core/store.h"

#include <cjson/cJSON.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DAY_MS (86400LL * 1000)

/* ---- the model ---- */

/* Copies the named members of src into a new object appended to arr. */
static int report_pick(cJSON *arr, const cJSON *src, const char *const *keys, size_t n)
{
	cJSON *o = cJSON_CreateObject(), *v;
	size_t i;

	if (o == NULL || !cJSON_AddItemToArray(arr, o)) {
		cJSON_Delete(o);
		return DS_ENOMEM;
	}
	for (i = 0; i < n; i++) {
		const cJSON *it = cJSON_GetObjectItemCaseSensitive(src, keys[i]);

		v = it != NULL ? cJSON_Duplicate(it, 1) : cJSON_CreateNull();
		if (v == NULL || !cJSON_AddItemToObject(o, keys[i], v)) {
			cJSON_Delete(v);
			return DS_ENOMEM;
		}
	}
	return DS_OK;
}

static const struct culprit_entry *report_cat_find(const struct culprit_catalogue *cat, const char *id)
{
	size_t i;

	for (i = 0; id != NULL && cat != NULL && i < cat->n; i++)
		if (cat->entries[i].id != NULL && strcmp(cat->entries[i].id, id) == 0)
			return &cat->entries[i];
	return NULL;
}

/* The count of bucket id in prev ({bucket_id, count} sorted by bucket_id, as an index array). */
static int64_t report_prev(const int64_t *ids, const int64_t *cnt, int64_t n, int64_t id)
{
	int64_t lo = 0, hi = n - 1, mid;

	while (lo <= hi) {
		mid = lo + (hi - lo) / 2;
		if (ids[mid] == id)
			return cnt[mid];
		if (ids[mid] < id)
			lo = mid + 1;
		else
			hi = mid - 1;
	}
	return 0;
}

/* Fills the gaps of "days" with zero days when the range is short enough to chart day by day. */
static int report_fill_days(cJSON *r, int64_t since, int64_t until)
{
	cJSON *days = cJSON_GetObjectItemCaseSensitive(r, "days"), *nd, *d, *o;
	int64_t first = since / DAY_MS, last = (until - 1) / DAY_MS, day;
	char name[16];

	if (!cJSON_IsArray(days) || since <= 0 || last - first + 1 > REPORT_MAX_DAYS)
		return DS_OK;
	nd = cJSON_CreateArray();
	if (nd == NULL)
		return DS_ENOMEM;
	for (day = first; day <= last; day++) {
		when_format_day(day, name, sizeof(name));
		o = NULL;
		cJSON_ArrayForEach(d, days)
			if (jget_str(d, "day") != NULL && strcmp(jget_str(d, "day"), name) == 0)
				o = cJSON_Duplicate(d, 1);
		if (o == NULL) {
			o = cJSON_CreateObject();
			if (o != NULL && (!cJSON_AddStringToObject(o, "day", name) || !cJSON_AddNumberToObject(o, "count", 0) ||
					  !cJSON_AddNumberToObject(o, "leaks", 0))) {
				cJSON_Delete(o);
				o = NULL;
			}
		}
		if (o == NULL || !cJSON_AddItemToArray(nd, o)) {
			cJSON_Delete(o);
			cJSON_Delete(nd);
			return DS_ENOMEM;
		}
	}
	return cJSON_ReplaceItemInObjectCaseSensitive(r, "days", nd) ? DS_OK : DS_ENOMEM;
}

int report_build(struct store *s, int64_t since, int64_t until, int64_t now, cJSON **out, struct ds_err *e)
{
	cJSON *r = NULL, *prev = NULL, *roots = NULL;
	int rc;

	*out = NULL;
	rc = store_report(s, since, until, &r, e);
	if (rc == DS_OK)
		rc = store_bucket_counts(s, since - (until - since), since, &prev, e);
	if (rc == DS_OK)
		rc = store_roots_list(s, since, 0, &roots, e);
	if (rc == DS_OK)
		return report_build_from(r, prev, roots, since, until, now, out, e);
	cJSON_Delete(r);
	cJSON_Delete(prev);
	cJSON_Delete(roots);
	return rc;
}

int report_build_from(cJSON *r, cJSON *prev, cJSON *roots, int64_t since, int64_t until, int64_t now, cJSON **out,
		      struct ds_err *e)
{
	static const char *const bkeys[] = { "id", "kind", "title", "count_in_range", "count", "first_seen", "last_seen" };
	struct culprit_catalogue cat;
	cJSON *newb, *grown, *top, *cul, *b, *o, *totals;
	const cJSON *c, *rt;
	int64_t *ids = NULL, *cnt = NULL, n = 0, i = 0, nnew = 0, ngrown = 0, before, in;
	int rc = DS_OK, have_cat = 0;

	*out = NULL;
	memset(&cat, 0, sizeof(cat));
	have_cat = culprits_load_builtin(&cat, NULL) == DS_OK;
	n = cJSON_GetArraySize(prev);
	ids = calloc((size_t)n + 1, sizeof(*ids));
	cnt = calloc((size_t)n + 1, sizeof(*cnt));
	totals = cJSON_GetObjectItemCaseSensitive(r, "totals");
	newb = cJSON_AddArrayToObject(r, "new_buckets");
	grown = cJSON_AddArrayToObject(r, "grown_buckets");
	top = cJSON_AddArrayToObject(r, "top_buckets");
	cul = cJSON_AddArrayToObject(r, "top_culprits");
	if (ids == NULL || cnt == NULL || newb == NULL || grown == NULL || top == NULL || cul == NULL ||
	    !cJSON_IsObject(totals) || !cJSON_AddNumberToObject(r, "since", (double)since) ||
	    !cJSON_AddNumberToObject(r, "until", (double)until) ||
	    !cJSON_AddNumberToObject(r, "generated_at", (double)now)) {
		rc = ds_err_setn(e, DS_ENOMEM, "out of memory building the report");
		goto out;
	}
	cJSON_ArrayForEach(c, prev) {
		ids[i] = jget_num(c, "bucket_id", 0);
		cnt[i++] = jget_num(c, "count", 0);
	}
	/* store_report lists the range's buckets by count_in_range, most first. */
	cJSON_ArrayForEach(b, cJSON_GetObjectItemCaseSensitive(r, "buckets")) {
		const char *kind = jget_str(b, "kind");
		int is_root = kind != NULL && strcmp(kind, "root") == 0;

		in = jget_num(b, "count_in_range", 0);
		before = report_prev(ids, cnt, n, jget_num(b, "id", 0));
		if (jget_bool(b, "is_new")) {
			nnew++;
			if (cJSON_GetArraySize(newb) < REPORT_TOP)
				rc = report_pick(newb, b, bkeys, DS_ARRAY_LEN(bkeys));
		} else if (in > before) {
			ngrown++;
			if (cJSON_GetArraySize(grown) < REPORT_TOP) {
				rc = report_pick(grown, b, bkeys, DS_ARRAY_LEN(bkeys));
				o = cJSON_GetArrayItem(grown, cJSON_GetArraySize(grown) - 1);
				if (rc == DS_OK && (!cJSON_AddNumberToObject(o, "count_before", (double)before) ||
						    !cJSON_AddNumberToObject(o, "growth", (double)(in - before))))
					rc = DS_ENOMEM;
			}
		}
		if (rc == DS_OK && !is_root && cJSON_GetArraySize(top) < REPORT_TOP) {
			rc = report_pick(top, b, bkeys, DS_ARRAY_LEN(bkeys));
			o = cJSON_GetArrayItem(top, cJSON_GetArraySize(top) - 1);
			if (rc == DS_OK && !cJSON_AddBoolToObject(o, "is_new", jget_bool(b, "is_new")))
				rc = DS_ENOMEM;
		}
		if (rc == DS_OK && is_root && cJSON_GetArraySize(cul) < REPORT_TOP) {
			const struct culprit_entry *ce = NULL;
			const char *cid = NULL, *rkind = NULL;
			int fr = 0;

			cJSON_ArrayForEach(rt, roots)
				if (jget_num(rt, "bucket_id", 0) == jget_num(b, "id", 0)) {
					cid = jget_str(rt, "catalogue_id");
					rkind = jget_str(rt, "kind");
					fr = jget_bool(rt, "probable_false_root");
					break;
				}
			if (fr)
				continue;
			ce = have_cat ? report_cat_find(&cat, cid) : NULL;
			o = cJSON_CreateObject();
			if (o == NULL || !cJSON_AddItemToArray(cul, o) ||
			    !cJSON_AddNumberToObject(o, "bucket_id", (double)jget_num(b, "id", 0)) ||
			    !cJSON_AddItemToObject(o, "culprit", jget_str(b, "title") ? cJSON_CreateString(jget_str(b, "title")) : cJSON_CreateNull()) ||
			    !cJSON_AddItemToObject(o, "kind", rkind ? cJSON_CreateString(rkind) : cJSON_CreateNull()) ||
			    !cJSON_AddNumberToObject(o, "count_in_range", (double)in) ||
			    !cJSON_AddNumberToObject(o, "count", (double)jget_num(b, "count", 0)) ||
			    !cJSON_AddItemToObject(o, "catalogue_id", cid ? cJSON_CreateString(cid) : cJSON_CreateNull()) ||
			    !cJSON_AddItemToObject(o, "known_title", ce && ce->title ? cJSON_CreateString(ce->title) : cJSON_CreateNull()) ||
			    !cJSON_AddItemToObject(o, "advice", ce && ce->advice ? cJSON_CreateString(ce->advice) : cJSON_CreateNull()))
				rc = DS_ENOMEM;
		}
		if (rc != DS_OK) {
			rc = ds_err_setn(e, DS_ENOMEM, "out of memory building the report");
			goto out;
		}
	}
	cJSON_DeleteItemFromObjectCaseSensitive(r, "buckets");
	if (!cJSON_AddNumberToObject(totals, "new_buckets", (double)nnew) ||
	    !cJSON_AddNumberToObject(totals, "grown_buckets", (double)ngrown) || report_fill_days(r, since, until) != DS_OK) {
		rc = ds_err_setn(e, DS_ENOMEM, "out of memory building the report");
		goto out;
	}
	*out = r;
	r = NULL;
out:
	if (have_cat)
		culprits_free(&cat);
	free(ids);
	free(cnt);
	cJSON_Delete(r);
	cJSON_Delete(prev);
	cJSON_Delete(roots);
	return rc;
}

int report_is_empty(const cJSON *r)
{
	return jget_num(jget_obj(r, "totals"), "dumps", 0) == 0;
}

/* ---- rendering helpers ---- */

struct rb {
	struct buf b;
	int rc;
};

static void rb_printf(struct rb *w, const char *fmt, ...) DS_PRINTF(2, 3);
static void rb_printf(struct rb *w, const char *fmt, ...)
{
	va_list ap;

	if (w->rc != DS_OK)
		return;
	va_start(ap, fmt);
	w->rc = text_vbprintf(&w->b, fmt, ap);
	va_end(ap);
}

/* Text from the database, cleaned (core/text.h), cut to max columns with "..." (0: no cut). */
static void rb_text(struct rb *w, const char *s, size_t max)
{
	size_t i, cols = 0;
	char *c;

	if (w->rc != DS_OK || s == NULL)
		return;
	c = text_clean_dup(s, 0);
	if (c == NULL) {
		w->rc = DS_ENOMEM;
		return;
	}
	for (i = 0; c[i]; i++) {
		if (((unsigned char)c[i] & 0xC0) != 0x80 && max > 0 && ++cols > max)
			break;
	}
	w->rc = buf_append(&w->b, c, i);
	if (w->rc == DS_OK && c[i])
		w->rc = buf_puts(&w->b, "...");
	free(c);
}

/* Database text wrapped at width columns, continuation lines indented by indent spaces. */
static void rb_wrap(struct rb *w, const char *s, size_t indent, size_t width)
{
	size_t col = indent, wl, i;
	char *c = s != NULL ? text_clean_dup(s, 0) : NULL;
	const char *p = c, *q;

	if (s != NULL && c == NULL && w->rc == DS_OK)
		w->rc = DS_ENOMEM;
	while (p != NULL && *p && w->rc == DS_OK) {
		while (*p == ' ')
			p++;
		for (q = p, wl = 0; *q && *q != ' '; q++)
			if (((unsigned char)*q & 0xC0) != 0x80)
				wl++;
		if (wl == 0)
			break;
		if (col > indent && col + 1 + wl > width) {
			rb_printf(w, "\n");
			for (i = 0; i < indent; i++)
				rb_printf(w, " ");
			col = indent;
		} else if (col > indent) {
			rb_printf(w, " ");
			col++;
		}
		if (w->rc == DS_OK)
			w->rc = buf_append(&w->b, p, (size_t)(q - p));
		p = q;
		col += wl;
	}
	free(c);
	rb_printf(w, "\n");
}

int report_html_escape(struct buf *b, const char *s)
{
	int rc = DS_OK;
	size_t i, start = 0;
	const char *rep;
	char *c = text_clean_dup(s != NULL ? s : "", TEXT_KEEP_NL | TEXT_KEEP_TAB);

	/* cleaned first (C1, bidi and other controls are no more welcome in a mail than on a terminal),
	 * then the HTML specials */
	if (c == NULL)
		return DS_ENOMEM;
	for (i = 0; rc == DS_OK; i++) {
		unsigned char ch = (unsigned char)c[i];

		switch (ch) {
		case '&': rep = "&amp;"; break;
		case '<': rep = "&lt;"; break;
		case '>': rep = "&gt;"; break;
		case '"': rep = "&quot;"; break;
		case '\'': rep = "&#39;"; break;
		case '\0': rep = ""; break;
		default: rep = NULL; break;
		}
		if (rep == NULL)
			continue;
		rc = buf_append(b, c + start, i - start);
		if (rc == DS_OK)
			rc = buf_puts(b, rep);
		start = i + 1;
		if (ch == '\0')
			break;
	}
	free(c);
	return rc;
}

static void rb_html(struct rb *w, const char *s)
{
	if (w->rc == DS_OK)
		w->rc = report_html_escape(&w->b, s != NULL ? s : "");
}

static int rb_finish(struct rb *w, char **out, size_t *len)
{
	int rc = w->rc;

	*out = NULL;
	if (rc == DS_OK) {
		if (len != NULL)
			*len = w->b.len;
		*out = buf_steal(&w->b);
		if (*out == NULL)
			rc = DS_ENOMEM;
	}
	buf_free(&w->b);
	return rc;
}

static void report_range(const cJSON *r, char *dst, size_t n)
{
	char a[40], b[40];

	when_format(jget_num(r, "since", 0), 0, a, sizeof(a));
	when_format(jget_num(r, "until", 0), 0, b, sizeof(b));
	if (jget_num(r, "since", 0) <= 0)
		snprintf(dst, n, "everything until %s UTC", b);
	else
		snprintf(dst, n, "%s to %s UTC", a, b);
}

char *report_subject(const cJSON *r)
{
	const cJSON *t = jget_obj(r, "totals");
	char range[128], *s = malloc(256);

	if (s == NULL)
		return NULL;
	report_range(r, range, sizeof(range));
	if (report_is_empty(r))
		snprintf(s, 256, "no new crash dumps (%s)", range);
	else
		snprintf(s, 256, "%lld crash dump(s), %lld new bucket(s), %lld leak(s) (%s)",
			 (long long)jget_num(t, "dumps", 0), (long long)jget_num(t, "new_buckets", 0),
			 (long long)jget_num(t, "leaks", 0), range);
	return s;
}

static int64_t report_max_count(const cJSON *arr, const char *key)
{
	const cJSON *d;
	int64_t m = 0;

	cJSON_ArrayForEach(d, arr)
		if (jget_num(d, key, 0) > m)
			m = jget_num(d, key, 0);
	return m;
}

/* ---- text ---- */

static void report_text_buckets(struct rb *w, const char *heading, const cJSON *arr, int grown)
{
	const cJSON *b;

	rb_printf(w, "\n%s\n", heading);
	if (cJSON_GetArraySize(arr) == 0) {
		rb_printf(w, "  none\n");
		return;
	}
	cJSON_ArrayForEach(b, arr) {
		rb_printf(w, "  #%-6lld %-5s %6lld", (long long)jget_num(b, "id", 0), jget_str(b, "kind") ? jget_str(b, "kind") : "?",
			  (long long)jget_num(b, "count_in_range", 0));
		if (grown)
			rb_printf(w, " (was %lld)", (long long)jget_num(b, "count_before", 0));
		rb_printf(w, "  ");
		rb_text(w, jget_str(b, "title"), 100);
		rb_printf(w, "\n");
	}
}

int report_render_text(const cJSON *r, char **out, size_t *len)
{
	struct rb w;
	const cJSON *t = jget_obj(r, "totals"), *bs = jget_obj(t, "by_state"), *it;
	char range[128];
	int64_t max, bar;
	int first = 1, k = 0;

	buf_init(&w.b, REPORT_MAX_BYTES);
	w.rc = DS_OK;
	report_range(r, range, sizeof(range));
	rb_printf(&w, "dumpscout report: %s\n", range);
	if (report_is_empty(r)) {
		rb_printf(&w, "\nNo crash dumps were recorded in this period.\n");
		return rb_finish(&w, out, len);
	}
	rb_printf(&w, "\n%lld dump(s) from %lld application(s); %lld with a leaking AssemblyLoadContext; "
		      "%lld new bucket(s), %lld bucket(s) grew.\n",
		  (long long)jget_num(t, "dumps", 0), (long long)jget_num(t, "apps", 0), (long long)jget_num(t, "leaks", 0),
		  (long long)jget_num(t, "new_buckets", 0), (long long)jget_num(t, "grown_buckets", 0));
	rb_printf(&w, "By state:");
	cJSON_ArrayForEach(it, bs) {
		if (cJSON_IsNumber(it) && it->valuedouble > 0) {
			rb_printf(&w, "%s %s %lld", first ? "" : ",", it->string, (long long)it->valuedouble);
			first = 0;
		}
	}
	rb_printf(&w, "\n");
	report_text_buckets(&w, "New buckets", jget_arr(r, "new_buckets"), 0);
	report_text_buckets(&w, "Buckets that grew (against the period before)", jget_arr(r, "grown_buckets"), 1);
	report_text_buckets(&w, "Top crash buckets", jget_arr(r, "top_buckets"), 0);
	rb_printf(&w, "\nTop culprits keeping AssemblyLoadContexts alive\n");
	if (cJSON_GetArraySize(jget_arr(r, "top_culprits")) == 0)
		rb_printf(&w, "  none\n");
	cJSON_ArrayForEach(it, jget_arr(r, "top_culprits")) {
		rb_printf(&w, "  %d. ", ++k);
		rb_text(&w, jget_str(it, "culprit") ? jget_str(it, "culprit") : "(unknown)", 120);
		rb_printf(&w, "  [%s] %lld dump(s), bucket %lld\n", jget_str(it, "kind") ? jget_str(it, "kind") : "?",
			  (long long)jget_num(it, "count_in_range", 0), (long long)jget_num(it, "bucket_id", 0));
		if (jget_str(it, "known_title") != NULL) {
			rb_printf(&w, "     known cause: ");
			rb_wrap(&w, jget_str(it, "known_title"), 18, 96);
		}
		if (jget_str(it, "advice") != NULL) {
			rb_printf(&w, "     advice: ");
			rb_wrap(&w, jget_str(it, "advice"), 13, 96);
		}
	}
	rb_printf(&w, "\nApplications\n");
	cJSON_ArrayForEach(it, jget_arr(r, "apps")) {
		rb_printf(&w, "  %6lld dump(s), %lld leak(s)  ", (long long)jget_num(it, "count", 0), (long long)jget_num(it, "leaks", 0));
		rb_text(&w, jget_str(it, "app") && jget_str(it, "app")[0] ? jget_str(it, "app") : "(not triaged)", 80);
		rb_printf(&w, "\n");
	}
	rb_printf(&w, "\nDumps per day (UTC)\n");
	max = report_max_count(jget_arr(r, "days"), "count");
	cJSON_ArrayForEach(it, jget_arr(r, "days")) {
		bar = max > 0 ? (jget_num(it, "count", 0) * 40 + max - 1) / max : 0;
		rb_printf(&w, "  %s %6lld ", jget_str(it, "day") ? jget_str(it, "day") : "?", (long long)jget_num(it, "count", 0));
		while (bar-- > 0)
			rb_printf(&w, "#");
		rb_printf(&w, "\n");
	}
	return rb_finish(&w, out, len);
}

/* ---- HTML ---- */

static const char report_css[] =
	"body{font-family:-apple-system,'Segoe UI',Roboto,Helvetica,Arial,sans-serif;color:#1f2328;"
	"background:#ffffff;margin:0;padding:24px;}"
	".wrap{max-width:1000px;margin:0 auto;}"
	"h1{font-size:22px;margin:0 0 4px 0;}h2{font-size:17px;margin:28px 0 8px 0;border-bottom:1px solid #d0d7de;"
	"padding-bottom:4px;}"
	".muted{color:#656d76;font-size:13px;}"
	"table.t{border-collapse:collapse;width:100%;font-size:13px;}"
	"table.t th{text-align:left;background:#f6f8fa;border-bottom:1px solid #d0d7de;padding:6px 8px;}"
	"table.t td{border-bottom:1px solid #eaeef2;padding:6px 8px;vertical-align:top;word-break:break-word;}"
	"td.n,th.n{text-align:right;white-space:nowrap;}td.k{white-space:nowrap;}"
	".cards td{padding:10px 16px;background:#f6f8fa;border:4px solid #ffffff;text-align:center;}"
	".big{font-size:26px;font-weight:bold;display:block;}"
	".bar{height:14px;background:#0969da;}.bar.leak{background:#cf222e;}"
	".badge{display:inline-block;padding:1px 6px;border-radius:8px;font-size:11px;background:#ddf4ff;color:#0969da;}"
	".badge.new{background:#fff8c5;color:#9a6700;}"
	".advice{color:#424a53;font-size:12px;margin-top:4px;}";

static void report_html_bucket_table(struct rb *w, const cJSON *arr, int grown)
{
	const cJSON *b;
	int64_t max = report_max_count(arr, "count_in_range");

	if (cJSON_GetArraySize(arr) == 0) {
		rb_printf(w, "<p class=\"muted\">None in this period.</p>\n");
		return;
	}
	rb_printf(w, "<table class=\"t\"><tr><th class=\"n\">Bucket</th><th>Kind</th><th>Title</th>"
		     "<th class=\"n\">Dumps</th>%s<th style=\"width:22%%\">&nbsp;</th></tr>\n",
		  grown ? "<th class=\"n\">Before</th>" : "");
	cJSON_ArrayForEach(b, arr) {
		int64_t in = jget_num(b, "count_in_range", 0), pct = max > 0 ? (in * 100 + max - 1) / max : 0;

		rb_printf(w, "<tr><td class=\"n\">%lld</td><td class=\"k\">", (long long)jget_num(b, "id", 0));
		rb_html(w, jget_str(b, "kind"));
		rb_printf(w, "</td><td>");
		rb_html(w, jget_str(b, "title"));
		if (jget_bool(b, "is_new"))
			rb_printf(w, " <span class=\"badge new\">new</span>");
		rb_printf(w, "</td><td class=\"n\">%lld</td>", (long long)in);
		if (grown)
			rb_printf(w, "<td class=\"n\">%lld</td>", (long long)jget_num(b, "count_before", 0));
		rb_printf(w, "<td><div class=\"bar\" style=\"width:%lld%%\"></div></td></tr>\n", (long long)pct);
	}
	rb_printf(w, "</table>\n");
}

int report_render_html(const cJSON *r, char **out, size_t *len)
{
	struct rb w;
	const cJSON *t = jget_obj(r, "totals"), *bs = jget_obj(t, "by_state"), *it;
	char range[128];
	int64_t max, pct, lpct;

	buf_init(&w.b, REPORT_MAX_BYTES);
	w.rc = DS_OK;
	report_range(r, range, sizeof(range));
	rb_printf(&w, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
		      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
		      "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">"
		      "<title>dumpscout report</title><style>%s</style></head>\n<body><div class=\"wrap\">\n", report_css);
	rb_printf(&w, "<h1>dumpscout report</h1>\n<p class=\"muted\">");
	rb_html(&w, range);
	rb_printf(&w, "</p>\n");
	if (report_is_empty(r)) {
		rb_printf(&w, "<p>No crash dumps were recorded in this period.</p>\n</div></body></html>\n");
		return rb_finish(&w, out, len);
	}
	rb_printf(&w, "<table class=\"cards\" role=\"presentation\"><tr>"
		      "<td><span class=\"big\">%lld</span>dumps</td><td><span class=\"big\">%lld</span>applications</td>"
		      "<td><span class=\"big\">%lld</span>leaking</td><td><span class=\"big\">%lld</span>new buckets</td>"
		      "<td><span class=\"big\">%lld</span>buckets grew</td></tr></table>\n",
		  (long long)jget_num(t, "dumps", 0), (long long)jget_num(t, "apps", 0), (long long)jget_num(t, "leaks", 0),
		  (long long)jget_num(t, "new_buckets", 0), (long long)jget_num(t, "grown_buckets", 0));
	rb_printf(&w, "<p class=\"muted\">By state:");
	cJSON_ArrayForEach(it, bs)
		if (cJSON_IsNumber(it) && it->valuedouble > 0) {
			rb_printf(&w, " ");
			rb_html(&w, it->string);
			rb_printf(&w, " %lld;", (long long)it->valuedouble);
		}
	rb_printf(&w, "</p>\n");
	rb_printf(&w, "<h2>Dumps per day (UTC)</h2>\n<table class=\"t\"><tr><th>Day</th><th class=\"n\">Dumps</th>"
		      "<th class=\"n\">Leaks</th><th style=\"width:60%%\">&nbsp;</th></tr>\n");
	max = report_max_count(jget_arr(r, "days"), "count");
	cJSON_ArrayForEach(it, jget_arr(r, "days")) {
		int64_t c = jget_num(it, "count", 0), l = jget_num(it, "leaks", 0);

		pct = max > 0 ? (c * 100 + max - 1) / max : 0;
		lpct = max > 0 ? (l * 100 + max - 1) / max : 0;
		rb_printf(&w, "<tr><td>");
		rb_html(&w, jget_str(it, "day"));
		rb_printf(&w, "</td><td class=\"n\">%lld</td><td class=\"n\">%lld</td><td>"
			      "<div class=\"bar\" style=\"width:%lld%%\"></div>", (long long)c, (long long)l, (long long)pct);
		if (l > 0)
			rb_printf(&w, "<div class=\"bar leak\" style=\"width:%lld%%;height:6px\"></div>", (long long)lpct);
		rb_printf(&w, "</td></tr>\n");
	}
	rb_printf(&w, "</table>\n");
	rb_printf(&w, "<h2>New buckets</h2>\n");
	report_html_bucket_table(&w, jget_arr(r, "new_buckets"), 0);
	rb_printf(&w, "<h2>Buckets that grew</h2>\n<p class=\"muted\">Dumps in this period against the period of the "
		      "same length before it.</p>\n");
	report_html_bucket_table(&w, jget_arr(r, "grown_buckets"), 1);
	rb_printf(&w, "<h2>Top crash buckets</h2>\n");
	report_html_bucket_table(&w, jget_arr(r, "top_buckets"), 0);
	rb_printf(&w, "<h2>Top culprits keeping AssemblyLoadContexts alive</h2>\n");
	if (cJSON_GetArraySize(jget_arr(r, "top_culprits")) == 0) {
		rb_printf(&w, "<p class=\"muted\">None in this period.</p>\n");
	} else {
		rb_printf(&w, "<table class=\"t\"><tr><th class=\"n\">Bucket</th><th>Culprit</th><th>Root</th>"
			      "<th class=\"n\">Dumps</th></tr>\n");
		cJSON_ArrayForEach(it, jget_arr(r, "top_culprits")) {
			rb_printf(&w, "<tr><td class=\"n\">%lld</td><td><code>", (long long)jget_num(it, "bucket_id", 0));
			rb_html(&w, jget_str(it, "culprit") ? jget_str(it, "culprit") : "(unknown)");
			rb_printf(&w, "</code>");
			if (jget_str(it, "known_title") != NULL) {
				rb_printf(&w, "<div class=\"advice\"><b>");
				rb_html(&w, jget_str(it, "known_title"));
				rb_printf(&w, "</b>");
				if (jget_str(it, "advice") != NULL) {
					rb_printf(&w, ": ");
					rb_html(&w, jget_str(it, "advice"));
				}
				rb_printf(&w, "</div>");
			}
			rb_printf(&w, "</td><td class=\"k\">");
			rb_html(&w, jget_str(it, "kind"));
			rb_printf(&w, "</td><td class=\"n\">%lld</td></tr>\n", (long long)jget_num(it, "count_in_range", 0));
		}
		rb_printf(&w, "</table>\n");
	}
	rb_printf(&w, "<h2>Applications</h2>\n<table class=\"t\"><tr><th>Application</th><th class=\"n\">Dumps</th>"
		      "<th class=\"n\">Leaks</th><th style=\"width:40%%\">&nbsp;</th></tr>\n");
	max = report_max_count(jget_arr(r, "apps"), "count");
	cJSON_ArrayForEach(it, jget_arr(r, "apps")) {
		pct = max > 0 ? (jget_num(it, "count", 0) * 100 + max - 1) / max : 0;
		rb_printf(&w, "<tr><td>");
		rb_html(&w, jget_str(it, "app") && jget_str(it, "app")[0] ? jget_str(it, "app") : "(not triaged)");
		rb_printf(&w, "</td><td class=\"n\">%lld</td><td class=\"n\">%lld</td><td><div class=\"bar\" "
			      "style=\"width:%lld%%\"></div></td></tr>\n",
			  (long long)jget_num(it, "count", 0), (long long)jget_num(it, "leaks", 0), (long long)pct);
	}
	rb_printf(&w, "</table>\n<p class=\"muted\">Generated by dumpscout. Details: <code>dumpscout show bucket ID"
		      "</code>, <code>dumpscout roots</code>.</p>\n</div></body></html>\n");
	return rb_finish(&w, out, len);
}
