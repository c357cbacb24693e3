/* test_watcher.c - when the watcher takes a file: the pure completeness judgement (stability window,
 * crash report, empty, symlink, vanished), the names that are never dumps, and the real thing on a
 * temporary folder with libuv: a file written in pieces is reported once, complete; a symlink never;
 * a crash report does not complete its dump early; an unchanged folder's rescan is skipped. */
#include "t.h"

#include "core/plat.h"
#include "service/watcher.h"

#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

#define MS 1000000ULL

TEST(names_never_dumps)
{
	CHECK(watcher_name_ignored(".hidden.dmp"));
	CHECK(watcher_name_ignored("core.123.dmp.tmp"));
	CHECK(watcher_name_ignored("x.dmp.tmp.4711"));
	CHECK(watcher_name_ignored("app.1.dmp.crashreport.json"));
	CHECK(watcher_name_ignored("download.part"));
	CHECK(watcher_name_ignored("edit~"));
	/* issue 12 item 7: recorded (and shown sanitised), no longer silently skipped */
	CHECK(!watcher_name_ignored("bad\nname.dmp"));
	CHECK(!watcher_name_ignored("esc\x1b]0;x\x07.dmp"));
	CHECK(!watcher_name_ignored("app.1234.dmp"));
	CHECK(!watcher_name_ignored("my dump 'quoted' $(x).dmp"));
	CHECK(!watcher_name_ignored("core"));
}

TEST(report_base)
{
	char b[64];

	CHECK_INT(watcher_report_base("app.12.dmp.crashreport.json", b, sizeof(b)), 1);
	CHECK_STR(b, "app.12.dmp");
	CHECK_INT(watcher_report_base(".crashreport.json", b, sizeof(b)), 0);
	CHECK_INT(watcher_report_base("app.12.dmp", b, sizeof(b)), 0);
}

TEST(judge_stability_window)
{
	struct watcher_obs o = { 0 };
	struct plat_stat st = { 100, 5, 1, 0, 0 };

	/* first sight: wait for the window */
	CHECK_INT(watcher_judge(&o, DS_OK, &st, 0, 1000 * MS, 2000 * MS), WATCHER_WAIT);
	CHECK_INT(watcher_judge(&o, DS_OK, &st, 0, 2999 * MS, 2000 * MS), WATCHER_WAIT);
	/* it grew: the window starts again */
	st.size = 200;
	CHECK_INT(watcher_judge(&o, DS_OK, &st, 0, 2999 * MS, 2000 * MS), WATCHER_WAIT);
	CHECK_INT(watcher_judge(&o, DS_OK, &st, 0, 4000 * MS, 2000 * MS), WATCHER_WAIT);
	/* only the time changed (rewritten in place): again */
	st.mtime_ns = 6;
	CHECK_INT(watcher_judge(&o, DS_OK, &st, 0, 4998 * MS, 2000 * MS), WATCHER_WAIT);
	CHECK_INT(watcher_judge(&o, DS_OK, &st, 0, 6997 * MS, 2000 * MS), WATCHER_WAIT);
	CHECK_INT(watcher_judge(&o, DS_OK, &st, 0, 6998 * MS, 2000 * MS), WATCHER_STABLE);
}

/* createdump writes NAME.crashreport.json before the dump: the report never shortens the window */
TEST(judge_crash_report_is_no_shortcut)
{
	struct watcher_obs o = { 0 };
	struct plat_stat st = { 100, 5, 1, 0, 0 };

	CHECK_INT(watcher_judge(&o, DS_OK, &st, 1, 10 * MS, 2000 * MS), WATCHER_WAIT);
	CHECK_INT(watcher_judge(&o, DS_OK, &st, 1, 2009 * MS, 2000 * MS), WATCHER_WAIT);
	CHECK_INT(watcher_judge(&o, DS_OK, &st, 1, 2010 * MS, 2000 * MS), WATCHER_STABLE);
}

TEST(judge_other_cases)
{
	struct watcher_obs o = { 0 };
	struct plat_stat link = { 11, 5, 0, 0, 1 }, dir = { 4096, 5, 0, 1, 0 }, empty = { 0, 5, 1, 0, 0 };

	CHECK_INT(watcher_judge(&o, DS_OK, &link, 1, 0, 0), WATCHER_IGNORE);
	CHECK_INT(watcher_judge(&o, DS_OK, &dir, 0, 0, 0), WATCHER_IGNORE);
	CHECK_INT(watcher_judge(&o, DS_OK, &empty, 1, 0, 0), WATCHER_EMPTY);
	memset(&o, 0, sizeof(o));
	CHECK_INT(watcher_judge(&o, DS_ENOENT, NULL, 0, 0, 0), WATCHER_GONE);
	/* lstat failing for another reason: try again later, never take it */
	CHECK_INT(watcher_judge(&o, DS_EPERM, NULL, 0, 0, 2000 * MS), WATCHER_WAIT);
	CHECK_INT(watcher_judge(&o, DS_EPERM, NULL, 0, 5000 * MS, 2000 * MS), WATCHER_WAIT);
}

/* ---- on a real folder ---- */

struct seen {
	int n;
	char names[16][128];
	uint64_t sizes[16];
	int by_report[16];
};

static void on_ready(void *ctx, const struct watcher_ready *r)
{
	struct seen *s = ctx;

	if (s->n < 16) {
		snprintf(s->names[s->n], sizeof(s->names[0]), "%s", r->name);
		s->sizes[s->n] = r->size;
		s->by_report[s->n] = r->by_report;
	}
	s->n++;
}

static void run_for(uv_loop_t *loop, int ms)
{
	uint64_t end = plat_mono_ns() + (uint64_t)ms * MS;

	while (plat_mono_ns() < end) {
		uv_run(loop, UV_RUN_NOWAIT);
		usleep(5000);
	}
}

static void append(const char *path, const char *text)
{
	FILE *f = fopen(path, "a");

	if (f != NULL) {
		fputs(text, f);
		fclose(f);
	}
}

static int find(const struct seen *s, const char *name)
{
	int i, hits = 0;

	for (i = 0; i < s->n && i < 16; i++)
		hits += strcmp(s->names[i], name) == 0;
	return hits;
}

TEST(real_folder)
{
	char dir[] = "/tmp/ds-test-watcher-XXXXXX", p[512], q[512];
	char *dirs[1];
	struct watcher *w = NULL;
	struct watcher_stats ws;
	struct ds_err e = { 0 };
	struct seen s = { 0 };
	uv_loop_t loop;
	int i;

	if (mkdtemp(dir) == NULL)
		SKIP("no temporary folder");
	dirs[0] = dir;
	/* present before start: found by the start-up scan */
	snprintf(p, sizeof(p), "%s/before.dmp", dir);
	append(p, "0123456789");
	uv_loop_init(&loop);
	CHECK_INT(watcher_start(&loop, dirs, 1, 300, 0, on_ready, &s, &w, &e), DS_OK);
	/* written in pieces, 100 ms apart (less than the window): must come out once, whole */
	snprintf(p, sizeof(p), "%s/slow 'quoted' $(name).dmp", dir);
	for (i = 0; i < 6; i++) {
		append(p, "0123456789");
		run_for(&loop, 100);
	}
	/* a symlink to a regular file, and a dotfile, and a temporary name */
	snprintf(q, sizeof(q), "%s/link.dmp", dir);
	CHECK_INT(symlink(p, q), 0);
	snprintf(q, sizeof(q), "%s/.hidden.dmp", dir);
	append(q, "x");
	snprintf(q, sizeof(q), "%s/partial.dmp.tmp", dir);
	append(q, "x");
	/* a dump with its crash report: still waits for the window (createdump writes the report first) */
	snprintf(q, sizeof(q), "%s/app.42.dmp", dir);
	append(q, "ELF...");
	snprintf(q, sizeof(q), "%s/app.42.dmp.crashreport.json", dir);
	append(q, "{}");
	run_for(&loop, 100);
	CHECK_INT(find(&s, "app.42.dmp"), 0);
	CHECK_INT(find(&s, "slow 'quoted' $(name).dmp"), 0); /* last piece was under 300 ms ago */
	run_for(&loop, 600);
	CHECK_INT(find(&s, "before.dmp"), 1);
	CHECK_INT(find(&s, "slow 'quoted' $(name).dmp"), 1);
	for (i = 0; i < s.n && i < 16; i++) {
		if (strcmp(s.names[i], "slow 'quoted' $(name).dmp") == 0)
			CHECK_U64(s.sizes[i], 60);
		if (strcmp(s.names[i], "app.42.dmp") == 0)
			CHECK_INT(s.by_report[i], 1);
	}
	CHECK_INT(find(&s, "link.dmp"), 0);
	CHECK_INT(find(&s, ".hidden.dmp"), 0);
	CHECK_INT(find(&s, "partial.dmp.tmp"), 0);
	CHECK_INT(s.n, 3);
	/* a rescan of an unchanged folder is skipped; a changed one is not, and nothing is reported twice */
	watcher_rescan(w, 0); /* takes in what changed since the start-up listing */
	watcher_get_stats(w, &ws);
	watcher_rescan(w, 0);
	watcher_rescan(w, 0);
	{
		struct watcher_stats ws2;
		watcher_get_stats(w, &ws2);
		CHECK_U64(ws2.scans_skipped, ws.scans_skipped + 2);
		CHECK_INT(ws2.pending, 0);
	}
	CHECK_INT(s.n, 3);
	/* a file replaced with new content is reported again */
	snprintf(p, sizeof(p), "%s/before.dmp", dir);
	append(p, "more");
	run_for(&loop, 500);
	CHECK_INT(find(&s, "before.dmp"), 2);
	watcher_close(w);
	uv_run(&loop, UV_RUN_DEFAULT);
	CHECK_INT(uv_loop_close(&loop), 0);
	{
		char cmd[600];
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
		CHECK_INT(system(cmd), 0);
	}
}

int main(void)
{
	RUN(names_never_dumps);
	RUN(report_base);
	RUN(judge_stability_window);
	RUN(judge_crash_report_is_no_shortcut);
	RUN(judge_other_cases);
	RUN(real_folder);
	return t_total_failed != 0;
}
