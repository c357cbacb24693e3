/* test_cli_filters.c - property test of `dumpscout list`'s filters: a database of random dumps written
 * through the store's API (random applications, times over 30 days, every state, some leaks, two
 * buckets), then every combination of --app, --since, --until, --state and --leak run through the
 * real binary (build/dumpscout list --json --limit 0) and compared with a brute-force filter computed
 * here, including the newest-first order; plus --bucket, --limit and --sort spot checks. */
#include "t.h"
#include "cli_db.h"
#include "lib/jget.h"
#include "core/buf.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DB "build/tests/cli_filters.db"
#define N 300
#define MIN_MS 60000LL
#define H_MS (60 * MIN_MS)
#define D_MS (24 * H_MS)

struct tdump {
	int64_t id, at;
	const char *app;  /* NULL: not triaged */
	int state, leak;
	int64_t bucket;
};

static struct tdump dumps[N];
static const char *apps[] = { "alpha", "beta", "gamma svc", "delta" };
static int64_t now, bucket_x, bucket_y;
static const char *bin;

static uint64_t rng = 0x9e3779b97f4a7c15ull;
static uint32_t t_rand(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)(rng >> 16);
}

static int t_build(void)
{
	struct store *s = cli_db_create(DB);
	struct store_bucket_filter bf;
	cJSON *bl = NULL, *b;
	char path[64];
	int i, rc = 0;

	if (s == NULL)
		return -1;
	for (i = 0; i < N && rc == 0; i++) {
		struct tdump *d = &dumps[i];
		int r = (int)(t_rand() % 100);

		/* minutes plus 30 s: never within 30 s of a whole-minute span boundary of now */
		d->at = now - (int64_t)(t_rand() % (30 * 24 * 60)) * MIN_MS - 30000;
		snprintf(path, sizeof(path), "/dumps/d%03d.dmp", i);
		d->id = cli_db_dump(s, path, 1000 + t_rand() % 100000, d->at);
		d->app = apps[t_rand() % 4];
		d->bucket = t_rand() % 2;
		if (r < 10) {
			d->app = NULL;
			d->state = STORE_DISCOVERED;
			continue;
		}
		d->state = r < 25 ? STORE_TRIAGED : r < 35 ? STORE_FAILED : r < 42 ? STORE_UNSUPPORTED : r < 47 ? STORE_ANALYZING : STORE_DONE;
		rc = cli_db_triage(s, d->id, d->app, "proc", d->bucket ? "bucket|Y" : "bucket|X",
				   d->state == STORE_UNSUPPORTED ? STORE_UNSUPPORTED : d->state == STORE_DONE ? STORE_DONE : STORE_TRIAGED, now);
		if (rc == 0 && d->state == STORE_DONE && t_rand() % 3 == 0) {
			d->leak = t_rand() % 4 != 0; /* a probable false root alone is not a leak */
			rc = cli_db_leak(s, d->id, "Plugin.Cache", d->leak ? "sig-real" : "sig-false", NULL, !d->leak, now);
		}
		if (rc == 0 && (d->state == STORE_FAILED || d->state == STORE_ANALYZING))
			rc = store_dump_transition(s, d->id, d->state, 0, d->state == STORE_FAILED ? "boom" : NULL, NULL);
	}
	memset(&bf, 0, sizeof(bf));
	bf.kind = "crash";
	if (rc == 0)
		rc = store_bucket_list(s, &bf, &bl, NULL);
	cJSON_ArrayForEach(b, bl) {
		if (strcmp(jget_str(b, "key"), "bucket|X") == 0)
			bucket_x = jget_num(b, "id", 0);
		if (strcmp(jget_str(b, "key"), "bucket|Y") == 0)
			bucket_y = jget_num(b, "id", 0);
	}
	cJSON_Delete(bl);
	store_close(s);
	return rc;
}

/* Runs the binary with args (no shell quoting issues: every value used here is plain or quoted below)
 * and parses its JSON array. NULL on failure. */
static cJSON *t_list(const char *args)
{
	char cmd[1024], chunk[4096];
	struct buf b;
	FILE *p;
	size_t n;
	cJSON *arr = NULL;

	snprintf(cmd, sizeof(cmd), "%s list --db " DB " --json --limit 0 %s 2>/dev/null", bin, args);
	p = popen(cmd, "r");
	if (p == NULL)
		return NULL;
	buf_init(&b, 64u * 1024 * 1024);
	while ((n = fread(chunk, 1, sizeof(chunk), p)) > 0)
		if (buf_append(&b, chunk, n) != DS_OK)
			break;
	if (pclose(p) == 0 && b.data != NULL)
		arr = cJSON_Parse(b.data);
	buf_free(&b);
	return arr;
}

TEST(filters_match_brute_force)
{
	static const char *app_opt[] = { NULL, "alpha", "gamma svc", "nobody" };
	static const char *since_opt[] = { NULL, "30m", "24h", "7d", "2w" };
	static const int64_t since_ms[] = { 0, 30 * MIN_MS, D_MS, 7 * D_MS, 14 * D_MS };
	static const char *until_opt[] = { NULL, "3d" };
	static const int64_t until_ms[] = { 0, 3 * D_MS };
	static const char *state_names[] = { "discovered", "triaged", "analyzing", "done", "failed", "unsupported" };
	size_t a, si, u, st, i;
	int leak, combos = 0, bad = 0, matched_total = 0;
	char args[512];

	for (a = 0; a < 4; a++)
		for (si = 0; si < 5; si++)
			for (u = 0; u < 2; u++)
				for (st = 0; st < 7; st++)
					for (leak = 0; leak < 2; leak++) {
						int64_t exp[N], ne = 0, k = 0;
						cJSON *arr, *d;
						int ok = 1;

						snprintf(args, sizeof(args), "%s%s%s %s%s %s%s %s%s %s",
							 app_opt[a] ? "--app '" : "", app_opt[a] ? app_opt[a] : "", app_opt[a] ? "'" : "",
							 since_opt[si] ? "--since " : "", since_opt[si] ? since_opt[si] : "",
							 until_opt[u] ? "--until " : "", until_opt[u] ? until_opt[u] : "",
							 st ? "--state " : "", st ? state_names[st - 1] : "", leak ? "--leak" : "");
						/* brute force, newest first (ties by id, descending) */
						for (i = 0; i < N; i++) {
							const struct tdump *x = &dumps[i];

							if (app_opt[a] && (x->app == NULL || strcmp(x->app, app_opt[a]) != 0))
								continue;
							if (since_opt[si] && x->at < now - since_ms[si])
								continue;
							if (until_opt[u] && x->at >= now - until_ms[u])
								continue;
							if (st && x->state != (int)st - 1)
								continue;
							if (leak && !x->leak)
								continue;
							exp[ne++] = (int64_t)i;
						}
						for (i = 1; i < (size_t)ne; i++) { /* insertion sort by (at desc, id desc) */
							int64_t v = exp[i];
							size_t j = i;
							while (j > 0 && (dumps[exp[j - 1]].at < dumps[v].at ||
									 (dumps[exp[j - 1]].at == dumps[v].at && dumps[exp[j - 1]].id < dumps[v].id))) {
								exp[j] = exp[j - 1];
								j--;
							}
							exp[j] = v;
						}
						arr = t_list(args);
						if (since_opt[si] && until_opt[u] && until_ms[u] >= since_ms[si]) {
							/* an empty period is refused (exit 2), not listed as nothing */
							if (arr != NULL && bad++ < 5)
								T_FAIL_("list %s: accepted an empty period", args);
							cJSON_Delete(arr);
							combos++;
							continue;
						}
						if (arr == NULL || cJSON_GetArraySize(arr) != ne) {
							ok = 0;
						} else {
							cJSON_ArrayForEach(d, arr)
								if (jget_num(d, "id", 0) != dumps[exp[k++]].id)
									ok = 0;
						}
						if (!ok && bad++ < 5)
							T_FAIL_("list %s: got %d dumps, expected %lld", args,
								arr ? cJSON_GetArraySize(arr) : -1, (long long)ne);
						matched_total += (int)ne;
						combos++;
						cJSON_Delete(arr);
					}
	CHECK_INT(combos, 560);
	CHECK(matched_total > 1000); /* the combinations are not all trivially empty */
}

TEST(bucket_limit_sort)
{
	cJSON *arr;
	char args[128];
	int64_t nx = 0, prev_size = INT64_MAX;
	const cJSON *d;
	size_t i;
	int ok = 1;

	for (i = 0; i < N; i++)
		if (dumps[i].app != NULL && dumps[i].bucket == 0)
			nx++;
	snprintf(args, sizeof(args), "--bucket %lld", (long long)bucket_x);
	arr = t_list(args);
	CHECK(arr != NULL);
	CHECK_INT(cJSON_GetArraySize(arr), nx);
	cJSON_ArrayForEach(d, arr)
		if (jget_num(d, "crash_bucket_id", 0) != bucket_x)
			ok = 0;
	CHECK(ok);
	cJSON_Delete(arr);
	arr = t_list("--limit 7");
	CHECK_INT(cJSON_GetArraySize(arr), 7); /* the last --limit wins */
	cJSON_Delete(arr);
	arr = t_list("--sort size");
	cJSON_ArrayForEach(d, arr) {
		if (jget_num(d, "size", 0) > prev_size)
			ok = 0;
		prev_size = jget_num(d, "size", 0);
	}
	CHECK(ok);
	cJSON_Delete(arr);
	CHECK(bucket_y > 0);
}

TEST(bad_arguments_exit_2)
{
	char cmd[512];

	snprintf(cmd, sizeof(cmd), "%s list --db " DB " --since 1h --until 2h 2>/dev/null", bin);
	CHECK_INT(WEXITSTATUS(system(cmd)), 2);
	snprintf(cmd, sizeof(cmd), "%s list --db " DB " --since yesterday 2>/dev/null", bin);
	CHECK_INT(WEXITSTATUS(system(cmd)), 2);
	snprintf(cmd, sizeof(cmd), "%s list --db " DB " --state exploded 2>/dev/null", bin);
	CHECK_INT(WEXITSTATUS(system(cmd)), 2);
	snprintf(cmd, sizeof(cmd), "%s list --db build/tests/no-such.db 2>/dev/null", bin);
	CHECK_INT(WEXITSTATUS(system(cmd)), 1);
}

int main(void)
{
	static char b[512];
	const char *build = getenv("BUILD");

	snprintf(b, sizeof(b), "%s/dumpscout", build && build[0] ? build : "build");
	bin = b;
	now = plat_now_ms();
	if (!plat_is_executable(bin)) {
		printf("SKIP filters: no %s (make it first)\n", bin);
		return 0;
	}
	if (t_build() != 0) {
		printf("FAIL build_database: could not fill " DB "\n");
		return 1;
	}
	RUN(filters_match_brute_force);
	RUN(bucket_limit_sort);
	RUN(bad_arguments_exit_2);
	return t_total_failed != 0;
}
