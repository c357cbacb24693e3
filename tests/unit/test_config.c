/* test_config.c - the service configuration: defaults that work without a file, every documented key
 * read, unknown keys and wrong types rejected with a message naming the key and the file, relative
 * paths anchored at the file's folder, the mail and fleet sections loaded once into their typed structs,
 * one rule per type of value in every section. */
#include "t.h"

#include "lib/config.h"
#include "lib/fleet_config.h"
#include "lib/mail.h"

#include <cjson/cJSON.h>
#include <sys/stat.h>

static int load(const char *text, struct config *c, struct ds_err *e)
{
	memset(e, 0, sizeof(*e));
	return config_load_text(text, strlen(text), "/srv/ds/x.json", c, e);
}

TEST(defaults_without_file)
{
	struct config c;
	struct ds_err e = { 0 };

	CHECK_INT(config_load(NULL, &c, &e), DS_OK);
	CHECK_STR(c.data_dir, "/var/lib/dumpscout");
	CHECK_INT(c.ndump_dirs, 1);
	CHECK_STR(c.dump_dirs[0], "/var/lib/dumpscout/dumps");
	CHECK_STR(c.db, "/var/lib/dumpscout/dumpscout.db");
	CHECK_INT(c.stability_ms, 2000);
	CHECK_INT(c.rescan_s, 300);
	CHECK_INT(c.concurrency, 1);
	CHECK_STR(c.engine, "");
	CHECK_INT(c.max_attempts, 3);
	CHECK_INT(c.log_level, LOG_INFO);
	CHECK(c.mail == NULL);
	CHECK_INT(c.nunits, 0);
	config_free(&c);
}

TEST(data_dir_moves_derived_paths)
{
	struct config c;
	struct ds_err e;

	CHECK_INT(load("{\"data_dir\": \"var\"}", &c, &e), DS_OK);
	CHECK_STR(c.data_dir, "/srv/ds/var");
	CHECK_STR(c.dump_dirs[0], "/srv/ds/var/dumps");
	CHECK_STR(c.db, "/srv/ds/var/dumpscout.db");
	config_free(&c);
}

TEST(every_key_read)
{
	struct config c;
	struct ds_err e;
	const char *text =
		"{\"data_dir\": \"/d\", \"dump_dirs\": [\"/a\", \"./b c\"], \"db\": \"/x.db\", \"log_level\": \"debug\","
		" \"heartbeat_s\": 5, \"watch\": {\"stability_ms\": 250, \"rescan_s\": 0},"
		" \"analysis\": {\"concurrency\": 2, \"engine\": \"/opt/dd\", \"command_timeout_s\": 9,"
		"   \"dump_timeout_s\": 99, \"output_cap_bytes\": 1048576, \"max_roots\": 7},"
		" \"retries\": {\"max_attempts\": 5, \"backoff_base_s\": 2},"
		" \"retention\": {\"max_count\": 10, \"max_bytes\": 1000000, \"max_age_days\": 3, \"interval_s\": 60},"
		" \"collection\": {\"units\": [\"a.service\", \"b@1.service\"]},"
		" \"mail\": {\"server\": \"127.0.0.1\", \"security\": \"none\", \"from\": \"a@b.org\", \"to\": \"c@d.org\"}}";

	CHECK_INT(load(text, &c, &e), DS_OK);
	CHECK_STR(e.msg, "");
	CHECK_INT(c.ndump_dirs, 2);
	CHECK_STR(c.dump_dirs[0], "/a");
	CHECK_STR(c.dump_dirs[1], "/srv/ds/b c");
	CHECK_STR(c.db, "/x.db");
	CHECK_INT(c.log_level, LOG_DEBUG);
	CHECK_INT(c.heartbeat_s, 5);
	CHECK_INT(c.stability_ms, 250);
	CHECK_INT(c.rescan_s, 0);
	CHECK_INT(c.concurrency, 2);
	CHECK_STR(c.engine, "/opt/dd");
	CHECK_INT(c.command_timeout_s, 9);
	CHECK_INT(c.dump_timeout_s, 99);
	CHECK_U64(c.output_cap_bytes, 1048576);
	CHECK_INT(c.max_roots, 7);
	CHECK_INT(c.max_attempts, 5);
	CHECK_INT(c.backoff_base_s, 2);
	CHECK_U64(c.max_count, 10);
	CHECK_U64(c.max_bytes, 1000000);
	CHECK_INT(c.max_age_days, 3);
	CHECK_INT(c.retention_interval_s, 60);
	CHECK_INT(c.nunits, 2);
	CHECK_STR(c.units[1], "b@1.service");
	/* mail is parsed once, at load, into its typed struct */
	CHECK(c.mail != NULL);
	if (c.mail != NULL) {
		CHECK_STR(c.mail->server, "127.0.0.1");
		CHECK_INT(c.mail->security, MAIL_SEC_NONE);
		CHECK_INT(c.mail->port, 25);
		CHECK_STR(c.mail->from.addr, "a@b.org");
		CHECK_INT(c.mail->to_count, 1);
	}
	config_free(&c);
}

TEST(unknown_key_named_with_file)
{
	struct config c;
	struct ds_err e;

	CHECK_INT(load("{\"watch\": {\"stabilty_ms\": 5}}", &c, &e), DS_EINVAL);
	CHECK(strstr(e.msg, "/srv/ds/x.json") != NULL);
	CHECK(strstr(e.msg, "unknown key 'watch.stabilty_ms'") != NULL);
	config_free(&c);
	CHECK_INT(load("{\"dumpdirs\": []}", &c, &e), DS_EINVAL);
	CHECK(strstr(e.msg, "'dumpdirs'") != NULL);
	config_free(&c);
}

TEST(wrong_types_named)
{
	static const struct {
		const char *text, *key;
	} cases[] = {
		{ "{\"analysis\": {\"concurrency\": \"2\"}}", "'analysis.concurrency' must be a number" },
		{ "{\"analysis\": {\"concurrency\": 0}}", "'analysis.concurrency' must be a whole number from 1" },
		{ "{\"analysis\": {\"concurrency\": 1.5}}", "'analysis.concurrency'" },
		{ "{\"watch\": {\"stability_ms\": -1}}", "'watch.stability_ms'" },
		{ "{\"dump_dirs\": \"/x\"}", "'dump_dirs' must be a list" },
		{ "{\"dump_dirs\": []}", "'dump_dirs' must have 1" },
		{ "{\"dump_dirs\": [\"/a\", 3]}", "'dump_dirs[1]'" },
		{ "{\"data_dir\": true}", "'data_dir' must be a string" },
		{ "{\"log_level\": \"loud\"}", "'log_level' must be one of" },
		{ "{\"retention\": []}", "'retention' must be an object" },
		{ "{\"mail\": 1}", "'mail' must be an object" },
		{ "{\"collection\": {\"units\": [\"x; rm -rf /\"]}}", "'collection.units[0]'" },
		{ "{\"db\": \"/a\", \"db\": \"/b\"}", "key 'db' appears twice" },
		{ "[1]", "top level must be an object" },
	};
	struct config c;
	struct ds_err e;
	size_t i;

	for (i = 0; i < DS_ARRAY_LEN(cases); i++) {
		CHECK_INT(load(cases[i].text, &c, &e), DS_EINVAL);
		if (strstr(e.msg, cases[i].key) == NULL || strstr(e.msg, "x.json") == NULL)
			T_FAIL_("case %zu: message \"%s\" lacks \"%s\"", i, e.msg, cases[i].key);
		config_free(&c);
	}
}

TEST(not_json_gives_line)
{
	struct config c;
	struct ds_err e;

	CHECK_INT(load("{\n\"db\": \"/x\",\n,\n}", &c, &e), DS_EPARSE);
	CHECK(strstr(e.msg, "x.json:3") != NULL);
	config_free(&c);
}

TEST(check_prints_all_problems)
{
	char path[] = "/tmp/ds-test-config-XXXXXX", *out = NULL;
	size_t len = 0;
	FILE *f, *mem;
	int fd, code;

	fd = mkstemp(path);
	CHECK(fd >= 0);
	f = fdopen(fd, "w");
	fputs("{\"bogus\": 1, \"watch\": {\"rescan_s\": \"often\"}}", f);
	fclose(f);
	mem = open_memstream(&out, &len);
	code = config_check(path, mem);
	fclose(mem);
	CHECK_INT(code, 2);
	CHECK(strstr(out, "unknown key 'bogus'") != NULL);
	CHECK(strstr(out, "'watch.rescan_s' must be a number") != NULL);
	free(out);
	remove(path);
	mem = open_memstream(&out, &len);
	code = config_check("/nonexistent/ds.json", mem);
	fclose(mem);
	CHECK_INT(code, 1);
	CHECK(strstr(out, "/nonexistent/ds.json") != NULL);
	free(out);
}

TEST(effective_config_json_hides_mail)
{
	struct config c;
	struct ds_err e;
	char *j;

	CHECK_INT(load("{\"mail\": {\"server\": \"smtp.example.org\", \"username\": \"u\", \"password_env\": \"hunter2\","
		       " \"from\": \"a@b.org\", \"to\": [\"c@d.org\"]}}", &c, &e), DS_OK);
	j = config_to_json(&c, 0);
	CHECK(j != NULL && strstr(j, "\"stability_ms\":2000") != NULL);
	CHECK(j != NULL && strstr(j, "hunter2") == NULL);
	CHECK(j != NULL && strstr(j, "\"mail_configured\":true") != NULL);
	free(j);
	config_free(&c);
}

/* the mail section is checked with mail_config_parse: its first problem is reported, naming the key */
TEST(mail_section_validated)
{
	struct config c;
	struct ds_err e;

	CHECK_INT(load("{\"mail\": {\"server\": \"smtp.example.org\", \"prot\": 25}}", &c, &e), DS_EINVAL);
	CHECK_STR(e.msg, "/srv/ds/x.json: mail: unknown key 'prot'");
	config_free(&c);
	CHECK_INT(load("{\"mail\": {\"server\": \"smtp.example.org\", \"port\": 0, \"from\": \"a@b.org\", \"to\": \"c@d.org\"}}",
		       &c, &e), DS_EINVAL);
	CHECK_STR(e.msg, "/srv/ds/x.json: mail.port: must be a whole number from 1 to 65535");
	config_free(&c);
	CHECK_INT(load("{\"mail\": {\"server\": \"smtp.example.org\", \"security\": \"none\", \"from\": \"a@b.org\","
		       " \"to\": \"c@d.org\"}}", &c, &e), DS_EINVAL);
	CHECK(strstr(e.msg, "mail.security") != NULL);
	config_free(&c);
	CHECK_INT(load("{\"mail\": []}", &c, &e), DS_EINVAL);
	CHECK_STR(e.msg, "/srv/ds/x.json: 'mail' must be an object, not a list");
	config_free(&c);
}

/* the fleet section is parsed once at load into struct fleet_config: defaults, every key, a relative
 * password file anchored at the config's folder (and checked for its mode there) */
TEST(fleet_section_typed)
{
	char dir[] = "/tmp/ds_cfg_XXXXXX", pwf[64], cfgf[64], text[512];
	struct config c;
	struct ds_err e;
	FILE *f;

	memset(&e, 0, sizeof(e));
	CHECK_INT(load("{\"fleet\": {\"url\": \"host=db dbname=ds\"}}", &c, &e), DS_OK);
	CHECK(c.fleet != NULL);
	if (c.fleet != NULL) {
		CHECK_STR(c.fleet->url, "host=db dbname=ds");
		CHECK(c.fleet->password_file == NULL && c.fleet->password_env == NULL && c.fleet->hostname == NULL);
		CHECK_INT(c.fleet->interval_s, 10);
		CHECK_INT(c.fleet->batch_size, 200);
		CHECK_INT(c.fleet->batch_bytes, 4 * 1024 * 1024);
		CHECK_INT(c.fleet->max_backlog, 100000);
		CHECK_INT(c.fleet->connect_timeout_s, 10);
		CHECK_INT(c.fleet->digest, 0);
	}
	CHECK_INT(fleet_config_digest(c.fleet), 0);
	config_free(&c);

	CHECK(mkdtemp(dir) != NULL);
	snprintf(pwf, sizeof(pwf), "%s/pw", dir);
	snprintf(cfgf, sizeof(cfgf), "%s/x.json", dir);
	f = fopen(pwf, "w");
	CHECK(f != NULL);
	if (f != NULL) {
		fputs("secret\n", f);
		fclose(f);
	}
	CHECK_INT(chmod(pwf, 0600), 0);
	snprintf(text, sizeof(text), "{\"fleet\": {\"url\": \"u\", \"password_file\": \"pw\", \"hostname\": \"web-7\","
		 " \"interval_s\": 3, \"batch_size\": 50, \"batch_bytes\": 65536, \"max_backlog\": 1000,"
		 " \"connect_timeout_s\": 5, \"digest\": true}}");
	CHECK_INT(config_load_text(text, strlen(text), cfgf, &c, &e), DS_OK);
	CHECK(c.fleet != NULL);
	if (c.fleet != NULL) {
		CHECK_STR(c.fleet->password_file, pwf);
		CHECK_STR(c.fleet->hostname, "web-7");
		CHECK_INT(c.fleet->interval_s, 3);
		CHECK_INT(c.fleet->batch_size, 50);
		CHECK_INT(c.fleet->batch_bytes, 65536);
		CHECK_INT(c.fleet->max_backlog, 1000);
		CHECK_INT(c.fleet->connect_timeout_s, 5);
	}
	CHECK_INT(fleet_config_digest(c.fleet), 1);
	config_free(&c);
	/* a password file others can read is refused at load, naming the key */
	CHECK_INT(chmod(pwf, 0644), 0);
	CHECK_INT(config_load_text(text, strlen(text), cfgf, &c, &e), DS_EINVAL);
	CHECK(strstr(e.msg, "fleet.password_file") != NULL && strstr(e.msg, "chmod 600") != NULL);
	config_free(&c);
	unlink(pwf);
	rmdir(dir);
	CHECK_INT(load("{\"fleet\": {\"batch_size\": 5}}", &c, &e), DS_EINVAL);
	CHECK(strstr(e.msg, "fleet.url: required") != NULL);
	CHECK(c.fleet == NULL);
	config_free(&c);
}

/* fleet.dump_share: absolute path, retention days in range (default 30); `config check` reports a share
 * that is missing or not a folder, while loading (the service's start) accepts it */
TEST(fleet_dump_share)
{
	char dir[] = "/tmp/ds-test-share-XXXXXX", cfgf[128], text[512], *out = NULL;
	struct config c;
	struct ds_err e;
	size_t len = 0;
	FILE *f, *mem;
	int code;

	CHECK_INT(load("{\"fleet\": {\"url\": \"u\"}}", &c, &e), DS_OK);
	CHECK(c.fleet != NULL && c.fleet->dump_share == NULL && c.fleet->dump_share_days == 30);
	config_free(&c);
	CHECK_INT(load("{\"fleet\": {\"url\": \"u\", \"dump_share\": \"/mnt/dumps\", \"dump_share_days\": 0}}", &c, &e), DS_OK);
	CHECK(c.fleet != NULL && c.fleet->dump_share != NULL && c.fleet->dump_share_days == 0);
	if (c.fleet != NULL && c.fleet->dump_share != NULL)
		CHECK_STR(c.fleet->dump_share, "/mnt/dumps");
	config_free(&c);
	CHECK_INT(load("{\"fleet\": {\"url\": \"u\", \"dump_share\": \"dumps\"}}", &c, &e), DS_EINVAL);
	CHECK(strstr(e.msg, "fleet.dump_share: must be an absolute path") != NULL);
	config_free(&c);
	CHECK_INT(load("{\"fleet\": {\"url\": \"u\", \"dump_share\": \"/d\", \"dump_share_days\": 36501}}", &c, &e), DS_EINVAL);
	CHECK(strstr(e.msg, "fleet.dump_share_days: must be a whole number from 0 to 36500") != NULL);
	config_free(&c);

	CHECK(mkdtemp(dir) != NULL);
	snprintf(cfgf, sizeof(cfgf), "%s/x.json", dir);
	snprintf(text, sizeof(text), "{\"fleet\": {\"url\": \"u\", \"dump_share\": \"%s/share\"}}", dir);
	f = fopen(cfgf, "w");
	CHECK(f != NULL);
	if (f == NULL)
		return;
	fputs(text, f);
	fclose(f);
	mem = open_memstream(&out, &len);
	code = config_check(cfgf, mem);
	fclose(mem);
	CHECK_INT(code, 2);
	CHECK(out != NULL && strstr(out, "fleet.dump_share: ") != NULL && strstr(out, "/share: ") != NULL);
	free(out);
	out = NULL;
	snprintf(text, sizeof(text), "%s/share", dir);
	CHECK_INT(mkdir(text, 0700), 0);
	mem = open_memstream(&out, &len);
	code = config_check(cfgf, mem);
	fclose(mem);
	CHECK_INT(code, 0);
	free(out);
	rmdir(text);
	unlink(cfgf);
	rmdir(dir);
}

/* every section reads its values by one rule per type (lib/config_value.c): integers whole, in range, a
 * number (not a string), and text after the digits makes the file invalid JSON; strings without control
 * characters (a line break could add a header or a connection option); booleans true or false */
TEST(values_one_rule_per_type)
{
	static const struct {
		const char *text, *msg;
	} bad[] = {
		{ "{\"heartbeat_s\": 1.5}", "'heartbeat_s' must be a whole number from 1 to 86400 (got 1.5)" },
		{ "{\"heartbeat_s\": -1}", "'heartbeat_s' must be a whole number from 1 to 86400 (got -1)" },
		{ "{\"fleet\": {\"url\": \"u\", \"batch_size\": 2.5}}", "fleet.batch_size: must be a whole number from 1 to 10000" },
		{ "{\"fleet\": {\"url\": \"u\", \"interval_s\": \"10\"}}", "fleet.interval_s: must be a whole number from 1 to 3600" },
		{ "{\"fleet\": {\"url\": \"u\", \"max_backlog\": 1e30}}", "fleet.max_backlog: must be a whole number from 10 to 100000000" },
		{ "{\"mail\": {\"server\": \"s\", \"port\": 25.5, \"from\": \"a@b.org\", \"to\": \"c@d.org\"}}",
		  "mail.port: must be a whole number from 1 to 65535" },
		{ "{\"mail\": {\"server\": \"s\", \"from\": \"a@b.org\", \"to\": \"c@d.org\", \"schedule\": {\"every_hours\": 0.5}}}",
		  "mail.schedule.every_hours: must be a whole number from 1 to 744" },
		{ "{\"mail\": {\"server\": \"smtp.example.org\\r\\nX\", \"from\": \"a@b.org\", \"to\": \"c@d.org\"}}",
		  "mail.server: control characters are not allowed" },
		{ "{\"fleet\": {\"url\": \"host=db\\ndbname=x\"}}", "fleet.url: control characters are not allowed" },
		{ "{\"fleet\": {\"url\": \"u\", \"hostname\": \"web\\u0001\"}}",
		  "fleet.hostname: control characters are not allowed" },
		{ "{\"fleet\": {\"url\": \"u\", \"digest\": 1}}", "fleet.digest: must be true or false" },
		{ "{\"mail\": {\"server\": \"s\", \"from\": \"a@b.org\", \"to\": \"c@d.org\", \"skip_empty_digest\": \"yes\"}}",
		  "mail.skip_empty_digest: must be true or false" },
	};
	struct config c;
	struct ds_err e;
	size_t i;
	char want[300];

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		CHECK_INT(load(bad[i].text, &c, &e), DS_EINVAL);
		snprintf(want, sizeof(want), "/srv/ds/x.json: %s", bad[i].msg);
		CHECK_STR(e.msg, want);
		config_free(&c);
	}
	CHECK_INT(load("{\"heartbeat_s\": 30x}", &c, &e), DS_EPARSE);
	config_free(&c);
	CHECK_INT(load("{\"fleet\": {\"url\": \"u\", \"batch_size\": 1e3}}", &c, &e), DS_OK);
	CHECK(c.fleet != NULL && c.fleet->batch_size == 1000);
	config_free(&c);
}

TEST(config_file_dir_is_where_relative_paths_start)
{
	char *d;

	d = config_file_dir("/etc/dumpscout/dumpscout.json");
	CHECK_STR(d, "/etc/dumpscout");
	free(d);
	d = config_file_dir("/dumpscout.json");
	CHECK_STR(d, "/");
	free(d);
	CHECK(config_file_dir("dumpscout.json") == NULL);
	CHECK(config_file_dir(NULL) == NULL);
	d = config_file_dir("var/x.json");
	CHECK_STR(d, "var");
	free(d);
}

/* Issue 12 item 2: with dump_dirs = the data folder, retention once unlinked dumpscout.db and -shm. */
TEST(dump_dirs_must_hold_only_dumps)
{
	static const struct {
		const char *json, *want;
	} bad[] = {
		{ "{\"dump_dirs\": [\"/\"]}", "'/' is a system folder" },
		{ "{\"dump_dirs\": [\"/etc/../\"]}", "'/etc/../' is a system folder" },
		{ "{\"dump_dirs\": [\"/usr/lib/x\"]}", "'/usr/lib/x' is a system folder" },
		{ "{\"dump_dirs\": [\"/var//lib/\"]}", "is a system folder" },
		{ "{\"dump_dirs\": [\"/tmp\"]}", "is a system folder" },
		{ "{\"data_dir\": \"/srv/d\", \"dump_dirs\": [\"/srv/d\"]}", "holds the data folder (/srv/d)" },
		{ "{\"data_dir\": \"/srv/d/x\", \"dump_dirs\": [\"/srv/d/./\"]}", "holds the data folder" },
		{ "{\"data_dir\": \"/srv/d\", \"db\": \"/srv/d/dumps/a.db\"}", "holds the database (/srv/d/dumps/a.db)" },
		{ "{\"dump_dirs\": [\".\"]}", "holds the config file (/srv/ds/x.json)" },
		{ "{\"dump_dirs\": [\"/srv/a\", \"/srv/b\", \"/srv/a/\"]}", "'/srv/a' and '/srv/a/' are the same folder" },
		{ "{\"dump_dirs\": [\"/srv/a\", \"/srv/a/b\"]}", "one inside the other" },
	};
	struct config c;
	struct ds_err e;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		CHECK_INT(load(bad[i].json, &c, &e), DS_EINVAL);
		if (strstr(e.msg, bad[i].want) == NULL)
			T_FAIL_("%s: message '%s' lacks '%s'", bad[i].json, e.msg, bad[i].want);
		config_free(&c);
	}
	/* the default layout and ordinary folders pass */
	CHECK_INT(load("{\"data_dir\": \"/var/lib/dumpscout\"}", &c, &e), DS_OK);
	config_free(&c);
	CHECK_INT(load("{\"data_dir\": \"/srv/d\", \"dump_dirs\": [\"/srv/d/dumps\", \"/var/crash\", \"/home/x/dumps\"]}", &c, &e), DS_OK);
	CHECK_STR(e.msg, "");
	config_free(&c);
}

int main(void)
{
	RUN(config_file_dir_is_where_relative_paths_start);
	RUN(defaults_without_file);
	RUN(data_dir_moves_derived_paths);
	RUN(every_key_read);
	RUN(mail_section_validated);
	RUN(fleet_section_typed);
	RUN(fleet_dump_share);
	RUN(values_one_rule_per_type);
	RUN(unknown_key_named_with_file);
	RUN(wrong_types_named);
	RUN(not_json_gives_line);
	RUN(check_prints_all_problems);
	RUN(effective_config_json_hides_mail);
	RUN(dump_dirs_must_hold_only_dumps);
	return t_total_failed != 0;
}
