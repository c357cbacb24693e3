/* test_alert.c - the new-bucket alert mail (lib/alert.c): the subject names the first bucket (and
 * its kind when it is the only one), the text lists each bucket up to ALERT_MAX_LISTED and counts the
 * rest, and every value from a dump is HTML-escaped in the HTML part and cleaned in the text part (no
 * terminal sequence, C1 control, bidi override or line break of its own: issue 12 item 5). */
#include "t.h"

#include "lib/alert.h"

#include <cjson/cJSON.h>

TEST(alert_lists_buckets)
{
	cJSON *arr = cJSON_CreateArray(), *b;
	struct alert_msg m;
	struct ds_err e = { 0 };
	char key[64];
	int i;

	CHECK_INT(alert_render(arr, "h", &m, &e), DS_EINVAL);
	for (i = 0; i < ALERT_MAX_LISTED + 5; i++) {
		b = cJSON_CreateObject();
		snprintf(key, sizeof(key), "app%d.exe|mod+0x%x|0xc0000005", i, i);
		cJSON_AddNumberToObject(b, "id", i + 1);
		cJSON_AddStringToObject(b, "kind", i == 0 ? "crash" : "root");
		cJSON_AddStringToObject(b, "key", key);
		cJSON_AddStringToObject(b, "title", key);
		cJSON_AddNumberToObject(b, "first_seen", 1700000000000.0);
		cJSON_AddNumberToObject(b, "count", 1);
		cJSON_AddItemToArray(arr, b);
	}
	CHECK_INT(alert_render(arr, "host2", &m, &e), DS_OK);
	CHECK(m.subject != NULL && strstr(m.subject, "55 new buckets on host2: app0.exe|mod+0x0|0xc0000005") != NULL);
	CHECK(strstr(m.text, "app49.exe") != NULL);
	CHECK(strstr(m.text, "app50.exe") == NULL);
	CHECK(strstr(m.text, "... and 5 more") != NULL);
	alert_msg_clear(&m);
	/* one bucket: its kind in the subject */
	while (cJSON_GetArraySize(arr) > 1)
		cJSON_DeleteItemFromArray(arr, 1);
	CHECK_INT(alert_render(arr, "host2", &m, &e), DS_OK);
	CHECK_STR(m.subject, "new crash bucket on host2: app0.exe|mod+0x0|0xc0000005");
	CHECK(strstr(m.text, "1 new bucket seen") != NULL);
	alert_msg_clear(&m);
	cJSON_Delete(arr);
}

TEST(alert_escapes_html)
{
	cJSON *arr = cJSON_CreateArray(), *b = cJSON_CreateObject(), *apps, *a;
	struct alert_msg m;
	struct ds_err e = { 0 };

	cJSON_AddNumberToObject(b, "id", 7);
	cJSON_AddStringToObject(b, "kind", "root");
	cJSON_AddStringToObject(b, "key", "static|<script>x</script>|A&B");
	cJSON_AddStringToObject(b, "title", "");
	cJSON_AddNumberToObject(b, "count", 3);
	apps = cJSON_AddArrayToObject(b, "apps");
	a = cJSON_CreateObject();
	cJSON_AddStringToObject(a, "app", "\"evil'.exe");
	cJSON_AddItemToArray(apps, a);
	cJSON_AddItemToArray(arr, b);
	CHECK_INT(alert_render(arr, NULL, &m, &e), DS_OK);
	CHECK_STR(m.subject, "new root bucket on this machine: static|<script>x</script>|A&B");
	CHECK(strstr(m.text, "static|<script>x</script>|A&B") != NULL); /* the key when there is no title */
	CHECK(strstr(m.text, "bucket 7: 3 dumps; apps: \"evil'.exe") != NULL);
	CHECK(strstr(m.html, "<script>") == NULL);
	CHECK(strstr(m.html, "static|&lt;script&gt;x&lt;/script&gt;|A&amp;B") != NULL);
	CHECK(strstr(m.html, "&quot;evil&#39;.exe") != NULL);
	CHECK_INT(m.text_len, strlen(m.text));
	CHECK_INT(m.html_len, strlen(m.html));
	alert_msg_clear(&m);
	CHECK(m.subject == NULL && m.text == NULL && m.html == NULL);
	cJSON_Delete(arr);
}

TEST(alert_text_part_is_clean)
{
	cJSON *arr = cJSON_CreateArray(), *b = cJSON_CreateObject(), *apps, *a;
	struct alert_msg m;
	struct ds_err e = { 0 };
	const char *p;

	cJSON_AddNumberToObject(b, "id", 9);
	cJSON_AddStringToObject(b, "kind", "crash");
	cJSON_AddStringToObject(b, "key", "k");
	/* an OSC title change, BEL, a C1 CSI (U+009B), a bidi override (U+202E), and a forged line */
	cJSON_AddStringToObject(b, "title", "evil\x1b]0;pwn\x07.exe\xc2\x9b" "2J\xe2\x80\xae" "x\r\nForged: line");
	cJSON_AddNumberToObject(b, "count", 1);
	apps = cJSON_AddArrayToObject(b, "apps");
	a = cJSON_CreateObject();
	cJSON_AddStringToObject(a, "app", "app\nSecond: line");
	cJSON_AddItemToArray(apps, a);
	cJSON_AddItemToArray(arr, b);
	CHECK_INT(alert_render(arr, "h", &m, &e), DS_OK);
	CHECK(m.text != NULL);
	if (m.text != NULL) {
		CHECK(strchr(m.text, '\x1b') == NULL && strchr(m.text, '\x07') == NULL && strchr(m.text, '\r') == NULL);
		CHECK(strstr(m.text, "\xc2\x9b") == NULL && strstr(m.text, "\xe2\x80\xae") == NULL);
		/* the values are still there, each on the line it belongs to */
		CHECK(strstr(m.text, "Forged: line") != NULL && strstr(m.text, "Second: line") != NULL);
		for (p = m.text; (p = strchr(p, '\n')) != NULL; p++)
			CHECK(strncmp(p + 1, "Forged:", 7) != 0 && strncmp(p + 1, "Second:", 7) != 0);
	}
	/* (the subject is cleaned when the message is built: test_mail build_header_injection_is_neutralised) */
	alert_msg_clear(&m);
	cJSON_Delete(arr);
}

int main(void)
{
	RUN(alert_lists_buckets);
	RUN(alert_escapes_html);
	RUN(alert_text_part_is_clean);
	return t_total_failed != 0;
}
