/* test_cli_report.c - the report model and its renderers on a database written through the store's
 * API: totals, new and grown buckets against the previous period, top culprits with the catalogue's
 * advice, per-app and per-day counts; HTML that is self-contained and keeps hostile names inert; the
 * text form without control characters. */
#include "t.h"
#include "cli_db.h"
#include "lib/report.h"
#include "lib/jget.h"
#include "core/buf.h"

#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>

#define DAY (86400LL * 1000)
#define DB "build/tests/cli_report.db"

static const int64_t now = 1714564800000LL; /* 2024-05-01T12:00:00Z */
static cJSON *rep;

/* Period: the last 2 days. Before it: bucket A had 1 dump, B had 3. In it: A 3 (grew), B 1, C 1 (new,
 * from a process with a hostile name), plus two leaks in root signature "sig-mp" (catalogued). */
static int t_fill(void)
{
	struct store *s = cli_db_create(DB);
	int64_t id;
	int i, rc = 0;

	if (s == NULL)
		return -1;
	id = cli_db_dump(s, "/d/a0.dmp", 100, now - 3 * DAY);
	rc |= cli_db_triage(s, id, "alpha", "alpha.exe", "alpha|mod|A", STORE_DONE, now - 3 * DAY);
	for (i = 0; i < 3; i++) {
		char p[32];

		snprintf(p, sizeof(p), "/d/b%d.dmp", i);
		id = cli_db_dump(s, p, 100, now - 3 * DAY - i * 1000);
		rc |= cli_db_triage(s, id, "beta", "beta.exe", "beta|mod|B", STORE_DONE, now);
		snprintf(p, sizeof(p), "/d/a%d.dmp", i + 1);
		id = cli_db_dump(s, p, 100, now - DAY - i * 1000);
		rc |= cli_db_triage(s, id, "alpha", "alpha.exe", "alpha|mod|A", STORE_DONE, now);
		if (i < 2)
			rc |= cli_db_leak(s, id, "MessagePack.MessagePackSerializerOptions.Options", "sig-mp",
					  "messagepack-dynamic-assembly", 0, now);
	}
	id = cli_db_dump(s, "/d/b9.dmp", 100, now - 2 * 3600 * 1000);
	rc |= cli_db_triage(s, id, "beta", "beta.exe", "beta|mod|B", STORE_FAILED, now);
	id = cli_db_dump(s, "/d/evil.dmp", 100, now - 3600 * 1000);
	rc |= cli_db_triage(s, id, "<script>alert(1)</script>", "<script>alert(1)</script>.exe",
			    "<img src=x onerror=alert(2)>|\033[31m|C", STORE_DONE, now);
	store_close(s);
	return rc;
}

/* The report of the period over the database t_fill made (built once per process: each test runs in a
 * process of its own, after `model` filled the database). NULL when that failed. */
static const cJSON *t_report(void)
{
	struct store *s = NULL;

	if (rep == NULL && store_open(DB, STORE_READONLY, &s, NULL) == DS_OK) {
		if (report_build(s, now - 2 * DAY, now, now, &rep, NULL) != DS_OK)
			rep = NULL;
		store_close(s);
	}
	return rep;
}

TEST(model)
{
	struct store *s = NULL;
	const cJSON *t, *it;
	int found = 0;

	CHECK_INT(t_fill(), 0);
	CHECK_INT(store_open(DB, STORE_READONLY, &s, NULL), DS_OK);
	CHECK_INT(report_build(s, now - 2 * DAY, now, now, &rep, NULL), DS_OK);
	store_close(s);
	if (rep == NULL)
		return;
	t = jget_obj(rep, "totals");
	CHECK_INT(jget_num(t, "dumps", -1), 5);  /* a1..a3, b9, evil */
	CHECK_INT(jget_num(t, "leaks", -1), 2);
	CHECK_INT(jget_num(t, "apps", -1), 3);
	CHECK_INT(jget_num(jget_obj(t, "by_state"), "failed", -1), 1);
	CHECK_INT(jget_num(t, "new_buckets", -1), 2);  /* C (crash) and sig-mp (root) began in the period */
	cJSON_ArrayForEach(it, jget_arr(rep, "grown_buckets"))
		if (strcmp(jget_str(it, "title"), "alpha|mod|A") == 0) {
			found = 1;
			CHECK_INT(jget_num(it, "count_in_range", -1), 3);
			CHECK_INT(jget_num(it, "count_before", -1), 1);
			CHECK_INT(jget_num(it, "growth", -1), 2);
		}
	CHECK(found);
	cJSON_ArrayForEach(it, jget_arr(rep, "grown_buckets"))
		CHECK(strcmp(jget_str(it, "title"), "beta|mod|B") != 0); /* 1 now, 3 before: shrank */
	it = cJSON_GetArrayItem(jget_arr(rep, "top_culprits"), 0);
	CHECK_STR(jget_str(it, "culprit"), "MessagePack.MessagePackSerializerOptions.Options");
	CHECK_INT(jget_num(it, "count_in_range", -1), 2);
	CHECK_STR(jget_str(it, "catalogue_id"), "messagepack-dynamic-assembly");
	CHECK(jget_str(it, "advice") != NULL && strstr(jget_str(it, "advice"), "MessagePack") != NULL);
	CHECK_INT(cJSON_GetArraySize(jget_arr(rep, "days")), 3); /* 2024-04-29 .. 2024-05-01, gaps filled */
	CHECK_STR(jget_str(cJSON_GetArrayItem(jget_arr(rep, "days"), 0), "day"), "2024-04-29");
	CHECK_INT(jget_num(cJSON_GetArrayItem(jget_arr(rep, "days"), 2), "count", -1), 2);
	CHECK_STR(jget_str(cJSON_GetArrayItem(jget_arr(rep, "apps"), 0), "app"), "alpha");
	CHECK_INT(jget_num(cJSON_GetArrayItem(jget_arr(rep, "apps"), 0), "leaks", -1), 2);
}

TEST(new_bucket_counts)
{
	const cJSON *it;
	int crash_new = 0, root_new = 0;

	CHECK(t_report() != NULL);

	cJSON_ArrayForEach(it, jget_arr(rep, "new_buckets")) {
		if (strcmp(jget_str(it, "kind"), "crash") == 0)
			crash_new++;
		else
			root_new++;
	}
	CHECK_INT(crash_new, 1);
	CHECK_INT(root_new, 1);
	CHECK_INT(jget_num(jget_obj(rep, "totals"), "new_buckets", -1), 2);
}

TEST(html_is_self_contained_and_escaped)
{
	char *html = NULL, *low;
	size_t len = 0, i;

	CHECK(t_report() != NULL);

	CHECK_INT(report_render_html(rep, &html, &len), DS_OK);
	if (html == NULL)
		return;
	CHECK_INT(strlen(html), len);
	low = strdup(html);
	for (i = 0; low[i]; i++)
		low[i] = (char)(low[i] >= 'A' && low[i] <= 'Z' ? low[i] + 32 : low[i]);
	CHECK(strstr(low, "<script") == NULL);
	CHECK(strstr(low, "<img") == NULL);
	CHECK(strstr(low, "onerror=alert") == NULL || strstr(low, "&lt;img src=x onerror=alert(2)&gt;") != NULL);
	CHECK(strstr(low, "http://") == NULL && strstr(low, "https://") == NULL);
	CHECK(strstr(low, "url(") == NULL && strstr(low, "@import") == NULL && strstr(low, "<link") == NULL);
	CHECK(strstr(html, "&lt;script&gt;alert(1)&lt;/script&gt;") != NULL);
	CHECK(strchr(html, '\033') == NULL);
	CHECK(strstr(html, "MessagePack") != NULL);
	CHECK(strstr(html, "class=\"bar\"") != NULL);
	CHECK(strncmp(html, "<!DOCTYPE html>", 15) == 0);
	CHECK(strstr(html, "</html>") != NULL);
	free(low);
	free(html);
}

TEST(text_has_no_control_characters)
{
	char *text = NULL, *subj;
	size_t len = 0, i;
	int bad = 0;

	CHECK(t_report() != NULL);

	CHECK_INT(report_render_text(rep, &text, &len), DS_OK);
	if (text == NULL)
		return;
	for (i = 0; i < len; i++)
		if (((unsigned char)text[i] < 0x20 && text[i] != '\n') || text[i] == 0x7f)
			bad++;
	CHECK_INT(bad, 0);
	CHECK(strstr(text, "5 dump(s) from 3 application(s)") != NULL);
	CHECK(strstr(text, "#1 ") != NULL || strstr(text, "alpha|mod|A") != NULL);
	CHECK(strstr(text, "(was 1)") != NULL);
	CHECK(strstr(text, "2024-05-01      2 ") != NULL);
	subj = report_subject(rep);
	CHECK(subj != NULL && strstr(subj, "5 crash dump(s), 2 new bucket(s), 2 leak(s)") != NULL);
	free(subj);
	free(text);
}

TEST(empty_period)
{
	struct store *s = NULL;
	cJSON *r = NULL;
	char *text = NULL, *html = NULL;

	CHECK_INT(store_open(DB, STORE_READONLY, &s, NULL), DS_OK);
	CHECK_INT(report_build(s, now + DAY, now + 2 * DAY, now + 2 * DAY, &r, NULL), DS_OK);
	store_close(s);
	CHECK(report_is_empty(r));
	CHECK_INT(report_render_text(r, &text, NULL), DS_OK);
	CHECK(text != NULL && strstr(text, "No crash dumps were recorded in this period.") != NULL);
	CHECK_INT(report_render_html(r, &html, NULL), DS_OK);
	CHECK(html != NULL && strstr(html, "No crash dumps") != NULL);
	free(text);
	free(html);
	cJSON_Delete(r);
}

TEST(escape_function)
{
	struct buf b;

	buf_init(&b, 1024);
	CHECK_INT(report_html_escape(&b, "<a href=\"x\">'&'</a>\001\tok"), DS_OK);
	CHECK_STR(b.data, "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;?\tok");
	buf_free(&b);
}

int main(void)
{
	RUN(model);
	RUN(new_bucket_counts);
	RUN(html_is_self_contained_and_escaped);
	RUN(text_has_no_control_characters);
	RUN(empty_period);
	RUN(escape_function);
	cJSON_Delete(rep);
	return t_total_failed != 0;
}
