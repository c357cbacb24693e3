/* source.c - the read commands' data source: the local store, or the fleet's central database with
 * --fleet (see source.h). It maps the store's filter structs to the JSON filters of the central read
 * functions and hands back results of the same shapes; it renders nothing. */
#include "source.h"
#include "cli.h"
#include "lib/report.h"
#include "core/fleetdb.h"
#include "lib/config.h"
#include "lib/fleet_config.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int source_fleet;
static const char *source_host;
static const char *source_url;

int cli_fleet_args(int *argc, char **argv)
{
	int i, o = 1, fleet = 0;

	for (i = 1; i < *argc; i++)
		if (strcmp(argv[i], "--fleet") == 0)
			fleet = 1;
	source_fleet = fleet;
	for (i = 1; i < *argc; i++) {
		const char *a = argv[i];
		int host = fleet && strcmp(a, "--host") == 0;

		if (strcmp(a, "--fleet") == 0)
			continue;
		if (host || strcmp(a, "--fleet-url") == 0) {
			if (i + 1 >= *argc) {
				fprintf(stderr, "dumpscout: %s needs a value\n", a);
				return -1;
			}
			if (host)
				source_host = argv[++i];
			else
				source_url = argv[++i];
			continue;
		}
		if (fleet && strncmp(a, "--host=", 7) == 0) {
			source_host = a + 7;
			continue;
		}
		if (strncmp(a, "--fleet-url=", 12) == 0) {
			source_url = a + 12;
			continue;
		}
		argv[o++] = argv[i];
	}
	argv[o] = NULL;
	*argc = o;
	return 0;
}

int cli_fleet_active(void)
{
	return source_fleet;
}

const char *cli_fleet_host(void)
{
	return source_host;
}

int cli_fleet_open(const char *cmd, const struct dbopen_opts *dbo, int init, struct fleetdb **out)
{
	struct config cfg;
	struct ds_err e = { 0 };
	const char *url = source_url, *env = getenv("DUMPSCOUT_FLEET_URL");
	char *pw = NULL;
	int code = DS_EXIT_FAIL, found = 0, rc, version;

	*out = NULL;
	memset(&cfg, 0, sizeof(cfg));
	if (url == NULL && env != NULL && env[0] != '\0')
		url = env;
	if (url == NULL) {
		code = dbopen_config(cmd, dbo, &cfg, &found);
		if (code != DS_EXIT_OK)
			goto out;
		code = DS_EXIT_FAIL;
		if (cfg.fleet == NULL) {
			cli_error(cmd, "no fleet database: give --fleet-url URL, set $DUMPSCOUT_FLEET_URL, or a \"fleet\" "
				       "section with a url in the config (%s)", cfg.file ? cfg.file : config_default_path());
			goto out;
		}
		rc = fleet_config_password(cfg.fleet, &pw, &e);
		if (rc != DS_OK) {
			cli_error(cmd, "%s", e.msg);
			goto out;
		}
		url = cfg.fleet->url;
	}
	rc = fleetdb_connect(url, pw, 10, out, &e);
	if (rc == DS_OK && !init)
		rc = fleetdb_check(*out, &version, &e);
	if (rc != DS_OK) {
		cli_error(cmd, "%s", e.msg);
		fleetdb_close(*out);
		*out = NULL;
		code = rc == DS_EINVAL ? DS_EXIT_BADINPUT : DS_EXIT_FAIL;
		goto out;
	}
	code = DS_EXIT_OK;
out:
	fleet_config_password_free(pw);
	config_free(&cfg);
	return code;
}

int src_open(const char *cmd, const struct dbopen_opts *dbo, struct cli_src *s)
{
	memset(s, 0, sizeof(*s));
	s->cmd = cmd;
	if (source_fleet)
		return cli_fleet_open(cmd, dbo, 0, &s->fdb);
	if (source_host != NULL) {
		cli_error(cmd, "--host needs --fleet");
		return DS_EXIT_BADINPUT;
	}
	return dbopen_open(cmd, dbo, 0, &s->st);
}

void src_close(struct cli_src *s)
{
	store_close(s->st);
	fleetdb_close(s->fdb);
	s->st = NULL;
	s->fdb = NULL;
}

int src_fail(struct cli_src *s, int rc, const struct ds_err *e)
{
	if (s->fdb == NULL)
		return dbopen_fail(s->cmd, rc, e);
	cli_error(s->cmd, "%s", e != NULL && e->msg[0] != '\0' ? e->msg : ds_strerror(rc));
	return rc == DS_ENOENT || rc == DS_EINVAL ? DS_EXIT_BADINPUT : DS_EXIT_FAIL;
}

/* A filter object with the --host filter in it; NULL on allocation failure. */
static cJSON *src_filter(void)
{
	cJSON *f = cJSON_CreateObject();

	if (f != NULL && source_host != NULL && cJSON_AddStringToObject(f, "host", source_host) == NULL) {
		cJSON_Delete(f);
		f = NULL;
	}
	return f;
}

static int src_num(cJSON *f, const char *key, int64_t v)
{
	return cJSON_AddNumberToObject(f, key, (double)v) != NULL ? DS_OK : DS_ENOMEM;
}

int src_dump_list(struct cli_src *s, const struct store_dump_filter *f, cJSON **out, struct ds_err *e)
{
	static const char *const sorts[] = { "newest", "oldest", "size", "app", "state" };
	cJSON *j;
	int rc = DS_OK;

	if (s->fdb == NULL)
		return store_dump_list(s->st, f, out, e);
	*out = NULL;
	j = src_filter();
	if (j == NULL)
		return ds_err_setn(e, DS_ENOMEM, "out of memory");
	if (f->app != NULL && cJSON_AddStringToObject(j, "app", f->app) == NULL)
		rc = DS_ENOMEM;
	if (rc == DS_OK && f->since > 0)
		rc = src_num(j, "since", f->since);
	if (rc == DS_OK && f->until > 0)
		rc = src_num(j, "until", f->until);
	if (rc == DS_OK && f->state >= 0 && cJSON_AddStringToObject(j, "state", store_state_name(f->state)) == NULL)
		rc = DS_ENOMEM;
	if (rc == DS_OK && f->bucket_id > 0)
		rc = src_num(j, "bucket", f->bucket_id);
	if (rc == DS_OK && f->leak && cJSON_AddTrueToObject(j, "leak") == NULL)
		rc = DS_ENOMEM;
	if (rc == DS_OK && f->limit > 0)
		rc = src_num(j, "limit", f->limit);
	if (rc == DS_OK && f->offset > 0)
		rc = src_num(j, "offset", f->offset);
	if (rc == DS_OK && f->sort >= 0 && f->sort < (int)DS_ARRAY_LEN(sorts) &&
	    cJSON_AddStringToObject(j, "sort", sorts[f->sort]) == NULL)
		rc = DS_ENOMEM;
	if (rc == DS_OK)
		rc = fleetdb_list(s->fdb, j, out, e);
	else
		ds_err_setn(e, rc, "out of memory");
	cJSON_Delete(j);
	return rc;
}

int src_dump_get(struct cli_src *s, int64_t id, cJSON **out, struct ds_err *e)
{
	return s->fdb == NULL ? store_dump_get(s->st, id, out, e) : fleetdb_show(s->fdb, id, out, e);
}

int src_bucket_list(struct cli_src *s, const struct store_bucket_filter *f, cJSON **out, struct ds_err *e)
{
	static const char *const sorts[] = { "count", "last_seen", "first_seen" };
	cJSON *j;
	int rc = DS_OK;

	if (s->fdb == NULL)
		return store_bucket_list(s->st, f, out, e);
	*out = NULL;
	j = src_filter();
	if (j == NULL)
		return ds_err_setn(e, DS_ENOMEM, "out of memory");
	if (f->kind != NULL && cJSON_AddStringToObject(j, "kind", f->kind) == NULL)
		rc = DS_ENOMEM;
	if (rc == DS_OK && f->sort >= 0 && f->sort < (int)DS_ARRAY_LEN(sorts) &&
	    cJSON_AddStringToObject(j, "sort", sorts[f->sort]) == NULL)
		rc = DS_ENOMEM;
	if (rc == DS_OK && f->since > 0)
		rc = src_num(j, "since", f->since);
	if (rc == DS_OK && f->before > 0)
		rc = src_num(j, "before", f->before);
	if (rc == DS_OK && f->limit > 0)
		rc = src_num(j, "limit", f->limit);
	if (rc == DS_OK)
		rc = fleetdb_buckets(s->fdb, j, out, e);
	else
		ds_err_setn(e, rc, "out of memory");
	cJSON_Delete(j);
	return rc;
}

int src_bucket_get(struct cli_src *s, int64_t id, int64_t dump_limit, cJSON **out, struct ds_err *e)
{
	if (s->fdb == NULL)
		return store_bucket_get(s->st, id, dump_limit, out, e);
	return fleetdb_bucket(s->fdb, id, dump_limit, source_host, out, e);
}

int src_roots_list(struct cli_src *s, int64_t since, int64_t limit, cJSON **out, struct ds_err *e)
{
	if (s->fdb == NULL)
		return store_roots_list(s->st, since, limit, out, e);
	return fleetdb_roots(s->fdb, since, limit, source_host, out, e);
}

int src_report(struct cli_src *s, int64_t since, int64_t until, int64_t now, cJSON **out, struct ds_err *e)
{
	cJSON *rep = NULL, *prev = NULL, *roots = NULL;
	int rc;

	if (s->fdb == NULL)
		return report_build(s->st, since, until, now, out, e);
	*out = NULL;
	rc = fleetdb_report(s->fdb, since, until, source_host, &rep, e);
	if (rc == DS_OK)
		rc = fleetdb_bucket_counts(s->fdb, since - (until - since), since, source_host, &prev, e);
	if (rc == DS_OK)
		rc = fleetdb_roots(s->fdb, since, 0, source_host, &roots, e);
	if (rc == DS_OK)
		return report_build_from(rep, prev, roots, since, until, now, out, e);
	cJSON_Delete(rep);
	cJSON_Delete(prev);
	cJSON_Delete(roots);
	return rc;
}
