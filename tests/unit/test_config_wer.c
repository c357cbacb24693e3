/* test_config_wer.c - the "wer" section of the service configuration (WER LocalDumps on Windows):
 * defaults that give full dumps, every key read, application names that cannot be a LocalDumps subkey
 * rejected with the key named, the replaceable default data folder the Windows service uses, and the
 * section shown in the effective configuration. The registry side is tested under Wine
 * (tests/e2e/test_windows_service.sh). */
#include "t.h"

#include "lib/config.h"

#include <cjson/cJSON.h>

static int load(const char *text, struct config *c, struct ds_err *e)
{
	memset(e, 0, sizeof(*e));
	return config_load_text(text, strlen(text), "/etc/ds/x.json", c, e);
}

TEST(wer_defaults_full_dumps)
{
	struct config c;
	struct ds_err e = { 0 };

	CHECK_INT(config_load(NULL, &c, &e), DS_OK);
	CHECK_INT(c.wer_apply, 1);
	CHECK_INT(c.wer_dump_type, 2);
	CHECK_INT(c.wer_dump_count, 10);
	CHECK_INT(c.wer_custom_dump_flags, 0);
	CHECK_STR(c.wer_dump_folder, "");
	CHECK_INT(c.nwer_apps, 0);
	config_free(&c);
}

TEST(wer_keys_read)
{
	struct config c;
	struct ds_err e;

	CHECK_INT(load("{\"wer\": {\"apply\": false, \"dump_type\": 0, \"custom_dump_flags\": 4660, \"dump_count\": 3,"
		       " \"dump_folder\": \"/srv/dumps\", \"applications\": [\"a.exe\", \"Svc Host.exe\"]}}", &c, &e),
		  DS_OK);
	CHECK_INT(c.wer_apply, 0);
	CHECK_INT(c.wer_dump_type, 0);
	CHECK_INT(c.wer_custom_dump_flags, 4660);
	CHECK_INT(c.wer_dump_count, 3);
	CHECK_STR(c.wer_dump_folder, "/srv/dumps");
	CHECK_INT(c.nwer_apps, 2);
	CHECK_STR(c.wer_apps[1], "Svc Host.exe");
	config_free(&c);
}

TEST(wer_bad_values_name_the_key)
{
	struct config c;
	struct ds_err e;

	CHECK_INT(load("{\"wer\": {\"applications\": [\"C:\\\\x\\\\a.exe\"]}}", &c, &e), DS_EINVAL);
	CHECK(strstr(e.msg, "wer.applications[0]") != NULL);
	config_free(&c);
	CHECK_INT(load("{\"wer\": {\"applications\": [\"notepad\"]}}", &c, &e), DS_EINVAL);
	config_free(&c);
	CHECK_INT(load("{\"wer\": {\"dump_type\": 3}}", &c, &e), DS_EINVAL);
	CHECK(strstr(e.msg, "wer.dump_type") != NULL);
	config_free(&c);
	CHECK_INT(load("{\"wer\": {\"apply\": 1}}", &c, &e), DS_EINVAL);
	CHECK(strstr(e.msg, "true or false") != NULL);
	config_free(&c);
	CHECK_INT(load("{\"wer\": {\"dumptype\": 2}}", &c, &e), DS_EINVAL);
	CHECK(strstr(e.msg, "unknown key 'wer.dumptype'") != NULL);
	config_free(&c);
}

TEST(default_data_dir_replaceable)
{
	struct config c;
	struct ds_err e = { 0 };

	CHECK_INT(config_set_default_data_dir("/srv/ds"), DS_OK);
	CHECK_INT(config_load(NULL, &c, &e), DS_OK);
	CHECK_STR(c.data_dir, "/srv/ds");
	CHECK_STR(c.dump_dirs[0], "/srv/ds/dumps");
	config_free(&c);
	CHECK_INT(config_set_default_data_dir(NULL), DS_OK);
	CHECK_INT(config_load(NULL, &c, &e), DS_OK);
	CHECK_STR(c.data_dir, "/var/lib/dumpscout");
	config_free(&c);
}

TEST(wer_in_effective_config)
{
	struct config c;
	struct ds_err e;
	cJSON *j, *w;
	char *s;

	CHECK_INT(load("{\"wer\": {\"applications\": [\"a.exe\"]}}", &c, &e), DS_OK);
	s = config_to_json(&c, 0);
	CHECK(s != NULL);
	j = cJSON_Parse(s);
	w = cJSON_GetObjectItemCaseSensitive(j, "wer");
	CHECK(cJSON_IsObject(w));
	CHECK_INT((int)cJSON_GetObjectItemCaseSensitive(w, "dump_type")->valuedouble, 2);
	CHECK_STR(cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(w, "applications"), 0)->valuestring, "a.exe");
	cJSON_Delete(j);
	free(s);
	config_free(&c);
}

int main(void)
{
	RUN(wer_defaults_full_dumps);
	RUN(wer_keys_read);
	RUN(wer_bad_values_name_the_key);
	RUN(default_data_dir_replaceable);
	RUN(wer_in_effective_config);
	return t_total_failed != 0;
}
