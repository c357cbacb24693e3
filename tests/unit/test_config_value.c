/* test_config_value.c - the typed readers every part of the configuration shares: a section's known
 * keys, whole numbers in a range, strings without control characters, booleans, relative paths anchored
 * at the config file's folder, a password file's mode and the password itself; absent keys keep the
 * caller's default; each error names SECTION.KEY. (test_config.c checks that the sections read through
 * them.) */
#include "t.h"

#include "lib/config_value.h"

#include <cjson/cJSON.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

TEST(section_object_with_known_keys)
{
	static const char *const keys[] = { "url", "hostname" };
	cJSON *ok = cJSON_Parse("{\"url\": 1, \"hostname\": 2}"), *bad = cJSON_Parse("{\"url\": 1, \"hots\": 2}");
	cJSON *arr = cJSON_Parse("[]"), *none = cJSON_Parse("{}");
	struct ds_err e = { 0 };

	CHECK(ok != NULL && bad != NULL && arr != NULL && none != NULL);
	CHECK_INT(config_value_section(ok, "fleet", keys, DS_ARRAY_LEN(keys), &e), DS_OK);
	CHECK_INT(config_value_section(none, "fleet", keys, DS_ARRAY_LEN(keys), &e), DS_OK);
	CHECK_INT(config_value_section(bad, "fleet", keys, DS_ARRAY_LEN(keys), &e), DS_EINVAL);
	CHECK_STR(e.msg, "fleet: unknown key 'hots'");
	CHECK_INT(config_value_section(arr, "mail", keys, DS_ARRAY_LEN(keys), &e), DS_EINVAL);
	CHECK_STR(e.msg, "mail: must be an object");
	CHECK_INT(config_value_section(NULL, "mail", keys, DS_ARRAY_LEN(keys), &e), DS_EINVAL);
	cJSON_Delete(ok);
	cJSON_Delete(bad);
	cJSON_Delete(arr);
	cJSON_Delete(none);
}

TEST(uint_in_range_absent_keeps_default)
{
	cJSON *o = cJSON_Parse("{\"n\": 7, \"big\": 11, \"frac\": 2.5, \"s\": \"7\"}");
	struct ds_err e = { 0 };
	uint64_t v = 3;

	CHECK(o != NULL);
	CHECK_INT(config_value_key_uint(o, "sec", "missing", 1, 10, &v, &e), DS_OK);
	CHECK_U64(v, 3);
	CHECK_INT(config_value_key_uint(o, "sec", "n", 1, 10, &v, &e), DS_OK);
	CHECK_U64(v, 7);
	CHECK_INT(config_value_key_uint(o, "sec", "big", 1, 10, &v, &e), DS_EINVAL);
	CHECK_STR(e.msg, "sec.big: must be a whole number from 1 to 10");
	CHECK_INT(config_value_key_uint(o, "sec", "frac", 1, 10, &v, &e), DS_EINVAL);
	CHECK_INT(config_value_key_uint(o, "sec", "s", 1, 10, &v, &e), DS_EINVAL);
	CHECK_U64(v, 7);
	cJSON_Delete(o);
	/* the bounds are inclusive; a value out of range leaves *out alone; no value is no number */
	o = cJSON_CreateNumber(65536);
	CHECK(config_value_uint(o, 0, 65536, &v) == 1 && v == 65536);
	CHECK(config_value_uint(o, 0, 65535, &v) == 0 && v == 65536);
	cJSON_Delete(o);
	CHECK(config_value_uint(NULL, 0, 10, &v) == 0);
}

TEST(str_bounded_and_free_of_control_characters)
{
	cJSON *o = cJSON_Parse("{\"a\": \"x.example.org\", \"empty\": \"\", \"nl\": \"a\\nRCPT TO:<b>\","
			       " \"del\": \"a\\u007f\", \"tab\": \"a\\tb\", \"n\": 5, \"long\": \"abcdef\"}");
	struct ds_err e = { 0 };
	char *s = NULL;

	CHECK(o != NULL);
	CHECK_INT(config_value_key_str(o, "mail", "missing", 100, 0, &s, &e), DS_OK);
	CHECK(s == NULL);
	CHECK_INT(config_value_key_str(o, "mail", "a", 100, 0, &s, &e), DS_OK);
	CHECK_STR(s, "x.example.org");
	/* a present key replaces what was there (the caller's default) */
	CHECK_INT(config_value_key_str(o, "mail", "long", 6, 0, &s, &e), DS_OK);
	CHECK_STR(s, "abcdef");
	CHECK_INT(config_value_key_str(o, "mail", "long", 5, 0, &s, &e), DS_EINVAL);
	CHECK_STR(e.msg, "mail.long: must be 1..5 bytes");
	CHECK_INT(config_value_key_str(o, "fleet", "empty", 100, 0, &s, &e), DS_EINVAL);
	CHECK_STR(e.msg, "fleet.empty: must be 1..100 bytes");
	CHECK_INT(config_value_key_str(o, "fleet", "nl", 100, 0, &s, &e), DS_EINVAL);
	CHECK_STR(e.msg, "fleet.nl: control characters are not allowed");
	CHECK_INT(config_value_key_str(o, "fleet", "del", 100, 0, &s, &e), DS_EINVAL);
	CHECK_INT(config_value_key_str(o, "fleet", "tab", 100, 0, &s, &e), DS_EINVAL);
	CHECK_INT(config_value_key_str(o, "fleet", "n", 100, 0, &s, &e), DS_EINVAL);
	CHECK_STR(e.msg, "fleet.n: must be a string");
	CHECK_STR(s, "abcdef");
	free(s);
	s = NULL;
	CHECK_INT(config_value_key_str(o, "mail", "empty", 100, 1, &s, &e), DS_OK);
	CHECK_STR(s, "");
	free(s);
	cJSON_Delete(o);
}

TEST(bool_true_false_only)
{
	cJSON *o = cJSON_Parse("{\"t\": true, \"f\": false, \"one\": 1}");
	struct ds_err e = { 0 };
	int b = 5;

	CHECK(o != NULL);
	CHECK_INT(config_value_key_bool(o, "fleet", "missing", &b, &e), DS_OK);
	CHECK_INT(b, 5);
	CHECK_INT(config_value_key_bool(o, "fleet", "t", &b, &e), DS_OK);
	CHECK_INT(b, 1);
	CHECK_INT(config_value_key_bool(o, "fleet", "f", &b, &e), DS_OK);
	CHECK_INT(b, 0);
	CHECK_INT(config_value_key_bool(o, "fleet", "one", &b, &e), DS_EINVAL);
	CHECK_STR(e.msg, "fleet.one: must be true or false");
	CHECK_INT(b, 0);
	cJSON_Delete(o);
}

TEST(path_anchored_at_the_config_folder)
{
	char *p = strdup("secrets/pw"), *q = strdup("/etc/pw"), *n = NULL;

	CHECK(p != NULL && q != NULL);
	CHECK_INT(config_value_path(&p, "/srv/ds"), DS_OK);
	CHECK_STR(p, "/srv/ds/secrets/pw");
	CHECK_INT(config_value_path(&q, "/srv/ds"), DS_OK);
	CHECK_STR(q, "/etc/pw");
	CHECK_INT(config_value_path(&n, "/srv/ds"), DS_OK);
	CHECK(n == NULL);
	free(p);
	p = strdup("pw");
	CHECK_INT(config_value_path(&p, NULL), DS_OK);
	CHECK_STR(p, "pw");
	CHECK_INT(config_value_path(&p, ""), DS_OK);
	CHECK_STR(p, "pw");
	free(p);
	free(q);
}

TEST(secret_file_owner_only)
{
	char dir[] = "/tmp/ds-test-cv-XXXXXX", path[128];
	struct ds_err e = { 0 };
	int fd;

	CHECK(mkdtemp(dir) != NULL);
	snprintf(path, sizeof(path), "%s/pw", dir);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
	CHECK(fd >= 0);
	if (fd >= 0)
		close(fd);
	CHECK_INT(chmod(path, 0600), 0);
	CHECK_INT(config_value_secret_file("mail", "password_file", path, &e), DS_OK);
	CHECK_INT(chmod(path, 0640), 0);
	CHECK_INT(config_value_secret_file("mail", "password_file", path, &e), DS_EPERM);
	CHECK(strncmp(e.msg, "mail.password_file: ", 20) == 0 && strstr(e.msg, "mode 0640") != NULL &&
	      strstr(e.msg, "chmod 600") != NULL);
	CHECK_INT(chmod(path, 0604), 0);
	CHECK_INT(config_value_secret_file("fleet", "password_file", path, &e), DS_EPERM);
	unlink(path);
	CHECK_INT(config_value_secret_file("fleet", "password_file", path, &e), DS_ENOENT);
	CHECK(strncmp(e.msg, "fleet.password_file: cannot read ", 33) == 0);
	rmdir(dir);
}

/* a password: the environment variable when one is named, else the owner-only file without its line
 * break, else none; errors name the section's key and never the password */
TEST(secret_from_env_or_file)
{
	char dir[] = "/tmp/ds-test-cvs-XXXXXX", path[128];
	struct ds_err e = { 0 };
	char *pw = NULL;
	FILE *f;

	CHECK(mkdtemp(dir) != NULL);
	snprintf(path, sizeof(path), "%s/pw", dir);
	f = fopen(path, "w");
	CHECK(f != NULL);
	if (f != NULL) {
		fputs("s3cret pass\r\n", f);
		fclose(f);
	}
	CHECK_INT(chmod(path, 0600), 0);
	CHECK_INT(config_value_secret("fleet", path, NULL, 1024, &pw, &e), DS_OK);
	CHECK_STR(pw, "s3cret pass");
	config_value_secret_free(pw);
	/* the variable wins over the file */
	CHECK_INT(setenv("DS_TEST_CV_PW", "from env", 1), 0);
	CHECK_INT(config_value_secret("mail", path, "DS_TEST_CV_PW", 1024, &pw, &e), DS_OK);
	CHECK_STR(pw, "from env");
	config_value_secret_free(pw);
	CHECK_INT(unsetenv("DS_TEST_CV_PW"), 0);
	CHECK_INT(config_value_secret("mail", NULL, "DS_TEST_CV_PW", 1024, &pw, &e), DS_ENOENT);
	CHECK(pw == NULL);
	CHECK_STR(e.msg, "mail.password_env: the environment variable DS_TEST_CV_PW is not set");
	CHECK_INT(config_value_secret("mail", NULL, NULL, 1024, &pw, &e), DS_OK);
	CHECK(pw == NULL);
	/* too long for max, then readable by others */
	CHECK_INT(config_value_secret("fleet", path, NULL, 4, &pw, &e), DS_ETOOBIG);
	CHECK(pw == NULL && strncmp(e.msg, "fleet.password_file: cannot read ", 33) == 0);
	CHECK_INT(chmod(path, 0644), 0);
	CHECK_INT(config_value_secret("fleet", path, NULL, 1024, &pw, &e), DS_EPERM);
	CHECK(pw == NULL && strstr(e.msg, "s3cret") == NULL && strstr(e.msg, "chmod 600") != NULL);
	config_value_secret_free(NULL);
	unlink(path);
	rmdir(dir);
}

int main(void)
{
	RUN(section_object_with_known_keys);
	RUN(uint_in_range_absent_keeps_default);
	RUN(str_bounded_and_free_of_control_characters);
	RUN(bool_true_false_only);
	RUN(path_anchored_at_the_config_folder);
	RUN(secret_file_owner_only);
	RUN(secret_from_env_or_file);
	return t_total_failed != 0;
}
