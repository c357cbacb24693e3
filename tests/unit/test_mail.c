/* test_mail.c - the mailer: addresses and header safety, MIME building (decoded here with an
 * independent quoted-printable and base64 decoder), the size cap, dates, the config section, the
 * schedule, and the outbox against a real SQLite store with an unreachable server. With arguments it
 * is also the driver tests/e2e/test_mail.sh runs against a real SMTP server:
 *   test_mail enqueue DB CFG SUBJECT TEXTFILE HTMLFILE | pump DB CFG [OFFSET_MS] | recover DB |
 *             send-nomark DB CFG | row DB ID | status DB */
#include "t.h"
#include "core/buf.h"
#include "core/ds.h"
#include "core/plat.h"
#include "core/store.h"
#include "lib/config.h"
#include "lib/mail.h"
#include "service/smtp.h"
#include "lib/mime.h"

#include <cjson/cJSON.h>
#include <time.h>

/* ---- independent decoders ---- */

static int t_hex(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Decodes quoted-printable (CRLF line ends) into a malloc'd string with "\n" line ends. */
static char *t_qp_decode(const char *s, size_t n)
{
	char *o = malloc(n + 1);
	size_t i = 0, k = 0;

	while (i < n) {
		if (s[i] == '=' && i + 2 < n && s[i + 1] == '\r' && s[i + 2] == '\n') {
			i += 3;
		} else if (s[i] == '=' && i + 2 < n && t_hex(s[i + 1]) >= 0 && t_hex(s[i + 2]) >= 0) {
			o[k++] = (char)(t_hex(s[i + 1]) * 16 + t_hex(s[i + 2]));
			i += 3;
		} else if (s[i] == '\r' && i + 1 < n && s[i + 1] == '\n') {
			o[k++] = '\n';
			i += 2;
		} else {
			o[k++] = s[i++];
		}
	}
	o[k] = '\0';
	return o;
}

static int t_b64v(char c)
{
	const char *a = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	const char *p = c ? strchr(a, c) : NULL;

	return p ? (int)(p - a) : -1;
}

/* Decodes a header value made of "=?UTF-8?B?...?=" words separated by folding white space. */
static char *t_words_decode(const char *v)
{
	char *o = malloc(strlen(v) + 1);
	size_t k = 0;
	unsigned acc = 0;
	int bits = 0, d;

	while (*v) {
		if (strncmp(v, "=?UTF-8?B?", 10) != 0) {
			v++;
			continue;
		}
		v += 10;
		acc = 0;
		bits = 0;
		for (; *v && !(v[0] == '?' && v[1] == '='); v++) {
			if (*v == '=')
				continue;
			d = t_b64v(*v);
			if (d < 0)
				continue;
			acc = (acc << 6) | (unsigned)d;
			bits += 6;
			if (bits >= 8) {
				bits -= 8;
				o[k++] = (char)((acc >> bits) & 0xFF);
			}
		}
		if (*v)
			v += 2;
	}
	o[k] = '\0';
	return o;
}

/* The unfolded value of header name in msg (malloc'd), or NULL. */
static char *t_header(const char *msg, const char *name)
{
	size_t nl = strlen(name), k = 0;
	const char *p = msg, *end;
	char *o;

	end = strstr(msg, "\r\n\r\n");
	while (p != NULL && p < end) {
		if (strncmp(p, name, nl) == 0 && p[nl] == ':') {
			o = malloc(1000);
			p += nl + 1;
			while (*p == ' ')
				p++;
			for (; p < end + 2 && k < 999; p++) {
				if (p[0] == '\r' && p[1] == '\n' && (p[2] == ' ' || p[2] == '\t')) {
					p += 1;
					continue;
				}
				if (p[0] == '\r' && p[1] == '\n')
					break;
				o[k++] = *p;
			}
			o[k] = '\0';
			return o;
		}
		p = strstr(p, "\r\n");
		if (p != NULL)
			p += 2;
	}
	return NULL;
}

/* The header name of msg is want (unfolded, as t_header reads it). */
#define CHECK_HEADER(msg, name, want)                                                       \
	do {                                                                               \
		char *t_h_ = t_header((msg), (name));                                      \
		if (t_h_ == NULL || strcmp(t_h_, (want)) != 0)                             \
			T_FAIL_("header %s: \"%s\", expected \"%s\"", (name),            \
				t_h_ ? t_h_ : "(null)", (want));                             \
		free(t_h_);                                                                \
	} while (0)

/* Every line ends in CRLF, has no bare CR/LF, and is at most max bytes long. */
static int t_lines_ok(const char *m, size_t len, size_t max)
{
	size_t i, start = 0;

	for (i = 0; i < len; i++) {
		if (m[i] == '\n' && (i == 0 || m[i - 1] != '\r'))
			return 0;
		if (m[i] == '\r' && (i + 1 >= len || m[i + 1] != '\n'))
			return 0;
		if (m[i] == '\n') {
			if (i - 1 - start > max)
				return 0;
			start = i + 1;
		}
	}
	return start == len;
}

/* The decoded body of the MIME part with this Content-Type (malloc'd), or NULL. */
static char *t_part(const char *msg, const char *ctype)
{
	const char *p = strstr(msg, ctype), *body, *end;

	if (p == NULL)
		return NULL;
	body = strstr(p, "\r\n\r\n");
	if (body == NULL)
		return NULL;
	body += 4;
	end = strstr(body, "\r\n--=_ds_");
	if (end == NULL)
		end = body + strlen(body);
	return t_qp_decode(body, (size_t)(end - body));
}

static size_t t_count(const char *hay, const char *needle)
{
	size_t n = 0;

	while ((hay = strstr(hay, needle)) != NULL) {
		n++;
		hay++;
	}
	return n;
}

/* ---- addresses and headers ---- */

TEST(addr_parse_forms)
{
	struct mime_addr a;
	struct ds_err e;

	CHECK_INT(mime_addr_parse("ops@example.org", &a, &e), DS_OK);
	CHECK_STR(a.addr, "ops@example.org");
	CHECK_STR(a.name, "");
	CHECK_INT(mime_addr_parse("  \"Ops, Team\" <ops@mail.example.org> ", &a, &e), DS_OK);
	CHECK_STR(a.addr, "ops@mail.example.org");
	CHECK_STR(a.name, "Ops, Team");
	CHECK_INT(mime_addr_parse("Zoë <z@example.org>", &a, &e), DS_OK);
	CHECK_STR(a.name, "Zoë");
	CHECK_INT(mime_addr_parse("user@localhost", &a, &e), DS_OK);
}

TEST(addr_parse_rejects_injection_and_junk)
{
	struct mime_addr a;
	struct ds_err e;

	CHECK_INT(mime_addr_parse("a@b.org\r\nRCPT TO:<x@y.org>", &a, &e), DS_EINVAL);
	CHECK_INT(mime_addr_parse("a@b.org>\r\nBcc: x@y", &a, &e), DS_EINVAL);
	CHECK_INT(mime_addr_parse("no-at-sign", &a, &e), DS_EINVAL);
	CHECK_INT(mime_addr_parse("a@@b.org", &a, &e), DS_EINVAL);
	CHECK_INT(mime_addr_parse("a@b..org", &a, &e), DS_EINVAL);
	CHECK_INT(mime_addr_parse("a b@c.org", &a, &e), DS_EINVAL);
	CHECK_INT(mime_addr_parse("", &a, &e), DS_EINVAL);
	CHECK_INT(mime_addr_parse("Name <>", &a, &e), DS_EINVAL);
	CHECK_STR(a.addr, "");
}

TEST(sanitize_removes_controls_and_bad_utf8)
{
	char out[64];

	CHECK_INT(mime_sanitize("a\r\nBcc: x", out, sizeof(out)), 9);
	CHECK_STR(out, "a??Bcc: x");
	/* C1 CSI and a bidi override are no better in a subject than on a terminal */
	mime_sanitize("a\xc2\x9b" "2J\xe2\x80\xae" "b", out, sizeof(out));
	CHECK_STR(out, "a?2J?b");
	mime_sanitize("x\xff" "y", out, sizeof(out));
	CHECK_STR(out, "x\xEF\xBF\xBDy");
	/* cut at a character boundary */
	CHECK_INT(mime_sanitize("ab\xC3\xA9", out, 4), 2);
}

TEST(date_is_rfc5322_local_with_offset)
{
	char d[40];

	setenv("TZ", "UTC0", 1);
	tzset();
	CHECK_INT(mime_date(0, d, sizeof(d)), DS_OK);
	CHECK_STR(d, "Thu, 01 Jan 1970 00:00:00 +0000");
	/* POSIX TZ rule: no tzdata needed. 2024-07-01 12:00:00Z is 14:00 CEST, 2024-01-15 is CET */
	setenv("TZ", "CET-1CEST,M3.5.0,M10.5.0/3", 1);
	tzset();
	CHECK_INT(mime_date(1719835200000LL, d, sizeof(d)), DS_OK);
	CHECK_STR(d, "Mon, 01 Jul 2024 14:00:00 +0200");
	CHECK_INT(mime_date(1705320000000LL, d, sizeof(d)), DS_OK);
	CHECK_STR(d, "Mon, 15 Jan 2024 13:00:00 +0100");
	setenv("TZ", "<-0330>3:30", 1);
	tzset();
	CHECK_INT(mime_date(1705320000000LL, d, sizeof(d)), DS_OK);
	CHECK_STR(d, "Mon, 15 Jan 2024 08:30:00 -0330");
	CHECK_INT(mime_date(0, d, 10), DS_EINVAL);
	setenv("TZ", "UTC0", 1);
	tzset();
}

TEST(message_id_is_stable_and_clean)
{
	char a[200], b[200];

	CHECK_INT(mime_message_id(42, "abc123", "example.org", a, sizeof(a)), DS_OK);
	CHECK_INT(mime_message_id(42, "abc123", "example.org", b, sizeof(b)), DS_OK);
	CHECK_STR(a, "<ds.42.abc123@example.org>");
	CHECK_STR(a, b);
	CHECK_INT(mime_message_id(7, "a>b\r\nc", "ex<am>ple.org", a, sizeof(a)), DS_OK);
	CHECK_STR(a, "<ds.7.abc@example.org>");
	CHECK_INT(mime_message_id(7, "abc", "example.org", a, 8), DS_EINVAL);
}

/* ---- building ---- */

static const char *t_subject = "Digest: 3 new buckets — Zürich 東京 ✓ (\"ok\")";

static void t_addrs(struct mime_addr *from, struct mime_addr *to)
{
	struct ds_err e;

	mime_addr_parse("dumpscout <scout@example.org>", from, &e);
	mime_addr_parse("ops@example.org", &to[0], &e);
	mime_addr_parse("\"Dev, Team\" <dev@example.org>", &to[1], &e);
	mime_addr_parse("Zoë Ünal <zoe@example.org>", &to[2], &e);
}

TEST(build_multipart_roundtrips)
{
	struct mime_addr from, to[3];
	struct mime_message m;
	struct ds_err e;
	struct buf text;
	char *msg = NULL, *v, *part, *html;
	size_t len;
	int trunc = -1, i;

	t_addrs(&from, to);
	buf_init(&text, 1 << 20);
	buf_puts(&text, "Crash digest\n.leading dot line\nFrom the start\ntrailing space   \n");
	buf_puts(&text, "tab\tinside and = equals and =?UTF-8?B?x?= lookalike\n--=_ds_fake boundary line\n");
	/* one 2,970-byte line with two-byte characters: soft breaks must not split them */
	for (i = 0; i < 270; i++)
		buf_puts(&text, i % 2 ? "abcdefghé " : "abcdefgh=é");
	buf_puts(&text, "\nUnicode: Zürich 東京 🚀\nlast line without newline");
	html = "<!DOCTYPE html><html><body><h1>Digest – ü</h1><p>a&amp;b</p>\n<p>=3D not encoded</p></body></html>";
	memset(&m, 0, sizeof(m));
	m.from = &from;
	m.to = to;
	m.to_count = 3;
	m.subject = t_subject;
	m.text = text.data;
	m.text_len = text.len;
	m.html = html;
	m.html_len = strlen(html);
	m.date_ms = 1719835200000LL;
	m.message_id = "<ds.1.tok@example.org>";
	CHECK_INT(mime_build(&m, &msg, &len, &trunc, &e), DS_OK);
	if (msg == NULL)
		goto out;
	CHECK_INT(trunc, 0);
	CHECK_INT(strlen(msg), len);
	CHECK(t_lines_ok(msg, len, 78));
	v = t_header(msg, "Subject");
	CHECK(v != NULL && strncmp(v, "=?UTF-8?B?", 10) == 0);
	if (v != NULL) {
		part = t_words_decode(v);
		CHECK_STR(part, t_subject);
		free(part);
	}
	free(v);
	v = t_header(msg, "To");
	CHECK(v != NULL && strstr(v, "ops@example.org, \"Dev, Team\" <dev@example.org>, =?UTF-8?B?") == v);
	CHECK(v != NULL && strstr(v, "<zoe@example.org>") != NULL);
	free(v);
	CHECK_HEADER(msg, "From", "\"dumpscout\" <scout@example.org>");
	CHECK_HEADER(msg, "Message-ID", "<ds.1.tok@example.org>");
	CHECK_HEADER(msg, "Date", "Mon, 01 Jul 2024 12:00:00 +0000");
	CHECK_HEADER(msg, "MIME-Version", "1.0");
	/* no raw 8-bit byte anywhere: everything is encoded */
	for (i = 0; i < (int)len; i++)
		if ((unsigned char)msg[i] >= 0x80)
			break;
	CHECK_INT(i, (int)len);
	/* the boundary: declared once, two delimiters, one close; the fake one in the text is encoded */
	CHECK_INT(t_count(msg, "\r\n--=_ds_"), 3);
	CHECK(strstr(msg, "multipart/alternative") != NULL);
	part = t_part(msg, "Content-Type: text/plain; charset=utf-8");
	CHECK(part != NULL && strlen(part) == text.len + 1 && memcmp(part, text.data, text.len) == 0);
	free(part);
	part = t_part(msg, "Content-Type: text/html; charset=utf-8");
	CHECK(part != NULL && strncmp(part, html, strlen(html)) == 0);
	free(part);
out:
	free(msg);
	buf_free(&text);
}

TEST(build_header_injection_is_neutralised)
{
	struct mime_addr from, to[3];
	struct mime_message m;
	struct ds_err e;
	char *msg = NULL, *v;
	size_t len;

	t_addrs(&from, to);
	memset(&m, 0, sizeof(m));
	m.from = &from;
	m.to = to;
	m.to_count = 1;
	m.subject = "new bucket: evil.exe\r\nBcc: victim@example.org\r\n\r\nbody";
	m.text = "x";
	m.text_len = 1;
	m.date_ms = 0;
	m.message_id = "<ds.1.t@example.org>\r\nX-Evil: 1";
	CHECK_INT(mime_build(&m, &msg, &len, NULL, &e), DS_OK);
	if (msg == NULL)
		return;
	CHECK(strstr(msg, "\r\nBcc:") == NULL);
	CHECK(strstr(msg, "\r\nX-Evil:") == NULL);
	v = t_header(msg, "Subject");
	CHECK(v != NULL && strstr(v, "evil.exe??Bcc: victim@example.org") != NULL);
	free(v);
	/* a text-only message is not multipart */
	CHECK(strstr(msg, "multipart") == NULL && strstr(msg, "Content-Type: text/plain; charset=utf-8") != NULL);
	free(msg);
}

TEST(build_caps_size_with_a_note)
{
	struct mime_addr from, to[3];
	struct mime_message m;
	struct ds_err e;
	struct buf text, html;
	char *msg = NULL, *part;
	size_t len;
	int trunc = 0, i;

	t_addrs(&from, to);
	buf_init(&text, 1 << 22);
	buf_init(&html, 1 << 22);
	buf_puts(&html, "<html><body><table>");
	for (i = 0; i < 5000; i++) {
		buf_printf(&text, "line %d: Zürich bucket with some text to make it long enough\n", i);
		buf_printf(&html, "<tr><td>%d</td><td>Zürich &amp; bucket</td></tr>\n", i);
	}
	buf_puts(&html, "</table></body></html>");
	memset(&m, 0, sizeof(m));
	m.from = &from;
	m.to = to;
	m.to_count = 3;
	m.subject = "big";
	m.text = text.data;
	m.text_len = text.len;
	m.html = html.data;
	m.html_len = html.len;
	m.message_id = "<ds.2.t@example.org>";
	m.max_bytes = 20000;
	CHECK_INT(mime_build(&m, &msg, &len, &trunc, &e), DS_OK);
	if (msg == NULL)
		goto out;
	CHECK_INT(trunc, 1);
	CHECK(len <= 20000);
	CHECK(len > 15000); /* the search keeps most of what fits */
	CHECK(t_lines_ok(msg, len, 78));
	part = t_part(msg, "Content-Type: text/plain; charset=utf-8");
	CHECK(part != NULL && strstr(part, "cut short to stay within the mail size limit") != NULL);
	CHECK(part != NULL && strncmp(part, text.data, 200) == 0);
	free(part);
	part = t_part(msg, "Content-Type: text/html; charset=utf-8");
	/* cut outside a tag and outside "&amp;": the note follows a complete tag or text */
	CHECK(part != NULL && strstr(part, "<p style=\"color:#a00\"><em>dumpscout: this message was cut") != NULL);
	if (part != NULL) {
		char *note = strstr(part, "\n<p style="), *q, *lt = NULL, *gt = NULL, *amp = NULL, *semi = NULL;

		for (q = part; note != NULL && q < note; q++) {
			lt = *q == '<' ? q : lt;
			gt = *q == '>' ? q : gt;
			amp = *q == '&' ? q : amp;
			semi = *q == ';' ? q : semi;
		}
		CHECK(note != NULL && gt != NULL && (lt == NULL || gt > lt));
		CHECK(amp == NULL || (semi != NULL && semi > amp));
	}
	free(part);
	free(msg);
	msg = NULL;
	m.max_bytes = 300; /* smaller than the headers */
	CHECK_INT(mime_build(&m, &msg, &len, &trunc, &e), DS_ETOOBIG);
	CHECK(msg == NULL);
out:
	free(msg);
	buf_free(&text);
	buf_free(&html);
}

/* ---- config ---- */

static char t_dir[64];

static void t_mkdir(void)
{
	if (t_dir[0] == '\0') {
		snprintf(t_dir, sizeof(t_dir), "/tmp/ds_mail_XXXXXX");
		if (mkdtemp(t_dir) == NULL)
			t_dir[0] = '\0';
	}
}

static int t_cfg(const char *json, struct mail_config **c, struct ds_err *e)
{
	cJSON *o = cJSON_Parse(json);
	int rc;

	*c = NULL;
	if (o == NULL)
		return -999;
	rc = mail_config_parse(o, t_dir, c, e);
	cJSON_Delete(o);
	return rc;
}

TEST(config_defaults_and_required_keys)
{
	struct mail_config *c = NULL;
	struct ds_err e;

	t_mkdir();
	CHECK_INT(t_cfg("{\"server\":\"smtp.example.org\",\"from\":\"a@example.org\",\"to\":\"b@example.org\"}", &c, &e),
		  DS_OK);
	if (c != NULL) {
		CHECK_INT(c->port, 587);
		CHECK_INT(c->security, MAIL_SEC_STARTTLS);
		CHECK_STR(c->subject_prefix, "[dumpscout]");
		CHECK_INT(c->schedule, MAIL_SCHED_DAILY);
		CHECK_INT(c->daily_hour, 8);
		CHECK_INT(c->alert_on_new_bucket, 1);
		CHECK_INT(c->max_message_bytes, MAIL_DEFAULT_MAX_BYTES);
		CHECK_INT(c->to_count, 1);
	}
	mail_config_free(c);
	CHECK_INT(t_cfg("{\"server\":\"s.example.org\",\"security\":\"tls\",\"from\":\"a@example.org\",\"to\":[\"b@example.org\","
			"\"C <c@example.org>\"],\"schedule\":{\"every_hours\":6},\"subject_prefix\":\"\"}",
			&c, &e),
		  DS_OK);
	if (c != NULL) {
		CHECK_INT(c->port, 465);
		CHECK_INT(c->to_count, 2);
		CHECK_INT(c->schedule, MAIL_SCHED_EVERY);
		CHECK_INT(c->every_hours, 6);
		CHECK_STR(c->subject_prefix, "");
	}
	mail_config_free(c);
	CHECK_INT(t_cfg("{\"from\":\"a@example.org\",\"to\":\"b@example.org\"}", &c, &e), DS_EINVAL);
	CHECK(strstr(e.msg, "mail.server") != NULL);
	CHECK_INT(t_cfg("{\"server\":\"s\",\"to\":\"b@example.org\"}", &c, &e), DS_EINVAL);
	CHECK(strstr(e.msg, "mail.from") != NULL);
	CHECK_INT(t_cfg("{\"server\":\"s\",\"from\":\"a@example.org\"}", &c, &e), DS_EINVAL);
	CHECK(strstr(e.msg, "mail.to") != NULL);
	CHECK(c == NULL);
}

TEST(config_rejects_bad_values)
{
	struct mail_config *c = NULL;
	struct ds_err e;

	t_mkdir();
	CHECK_INT(t_cfg("{\"server\":\"s\",\"from\":\"a@x.org\",\"to\":\"b@x.org\",\"sever\":1}", &c, &e), DS_EINVAL);
	CHECK(strstr(e.msg, "unknown key 'sever'") != NULL);
	CHECK_INT(t_cfg("{\"server\":\"smtp.example.org\",\"security\":\"none\",\"from\":\"a@x.org\",\"to\":\"b@x.org\"}",
			&c, &e),
		  DS_EINVAL);
	CHECK(strstr(e.msg, "only allowed for localhost") != NULL);
	CHECK_INT(t_cfg("{\"server\":\"::1\",\"security\":\"none\",\"from\":\"a@x.org\",\"to\":\"b@x.org\"}", &c, &e),
		  DS_OK);
	CHECK(c != NULL && c->port == 25);
	mail_config_free(c);
	CHECK_INT(t_cfg("{\"server\":\"s/evil?x\",\"from\":\"a@x.org\",\"to\":\"b@x.org\"}", &c, &e), DS_EINVAL);
	CHECK_INT(t_cfg("{\"server\":\"s\",\"port\":70000,\"from\":\"a@x.org\",\"to\":\"b@x.org\"}", &c, &e), DS_EINVAL);
	CHECK(strstr(e.msg, "mail.port") != NULL);
	CHECK_INT(t_cfg("{\"server\":\"s\",\"from\":\"a@x.org\",\"to\":\"b@x.org\",\"username\":\"u\\r\\nQUIT\"}", &c, &e),
		  DS_EINVAL);
	CHECK_INT(t_cfg("{\"server\":\"s\",\"from\":\"a@x.org\",\"to\":\"b@x.org\",\"username\":\"u\"}", &c, &e),
		  DS_EINVAL);
	CHECK(strstr(e.msg, "password_file") != NULL);
	CHECK_INT(t_cfg("{\"server\":\"s\",\"from\":\"a@x.org\",\"to\":[\"b@x.org\",\"bad\"]}", &c, &e), DS_EINVAL);
	CHECK(strstr(e.msg, "mail.to[1]") != NULL);
	CHECK_INT(t_cfg("{\"server\":\"s\",\"from\":\"a@x.org\",\"to\":\"b@x.org\",\"schedule\":{\"daily_at\":\"24:00\"}}",
			&c, &e),
		  DS_EINVAL);
	CHECK_INT(t_cfg("{\"server\":\"s\",\"from\":\"a@x.org\",\"to\":\"b@x.org\",\"max_message_bytes\":100}", &c, &e),
		  DS_EINVAL);
	CHECK(c == NULL);
}

TEST(config_password_file_must_be_private)
{
	struct mail_config *c = NULL;
	struct ds_err e;
	char path[128], *pw = NULL;
	const char *cfg = "{\"server\":\"s\",\"from\":\"a@x.org\",\"to\":\"b@x.org\",\"username\":\"u\","
			  "\"password_file\":\"pw.txt\"}";

	t_mkdir();
	snprintf(path, sizeof(path), "%s/pw.txt", t_dir);
	CHECK_INT(plat_write_file_atomic(path, "hunter2-secret\n", 15, 0644), DS_OK);
	plat_chmod(path, 0644);
	CHECK_INT(t_cfg(cfg, &c, &e), DS_EPERM);
	CHECK(strstr(e.msg, path) != NULL && strstr(e.msg, "0644") != NULL);
	CHECK(strstr(e.msg, "hunter2") == NULL);
	plat_chmod(path, 0600);
	CHECK_INT(t_cfg(cfg, &c, &e), DS_OK);
	if (c != NULL) {
		CHECK_STR(c->password_file, path);
		CHECK_INT(mail_password(c, &pw, &e), DS_OK);
		CHECK_STR(pw, "hunter2-secret");
		mail_password_free(pw);
		/* changed to readable after start: refused at send time too */
		plat_chmod(path, 0640);
		CHECK_INT(mail_password(c, &pw, &e), DS_EPERM);
		CHECK(pw == NULL && strstr(e.msg, "0640") != NULL);
	}
	mail_config_free(c);
	plat_unlink(path);
	setenv("DS_TEST_MAIL_PW", "from-env", 1);
	CHECK_INT(t_cfg("{\"server\":\"s\",\"from\":\"a@x.org\",\"to\":\"b@x.org\",\"username\":\"u\","
			"\"password_env\":\"DS_TEST_MAIL_PW\"}",
			&c, &e),
		  DS_OK);
	if (c != NULL) {
		CHECK_INT(mail_password(c, &pw, &e), DS_OK);
		CHECK_STR(pw, "from-env");
		mail_password_free(pw);
	}
	mail_config_free(c);
}

/* ---- schedule ---- */

TEST(schedule_daily_every_and_alert_limit)
{
	struct mail_config *c = NULL;
	struct ds_err e;
	int64_t next = -1;
	/* 2024-05-01 09:00:00Z */
	const int64_t t0 = 1714554000000LL, H = 3600000;

	t_mkdir();
	setenv("TZ", "UTC0", 1);
	tzset();
	CHECK_INT(t_cfg("{\"server\":\"s\",\"from\":\"a@x.org\",\"to\":\"b@x.org\",\"schedule\":{\"daily_at\":\"08:30\"},"
			"\"alert_min_interval_minutes\":30}",
			&c, &e),
		  DS_OK);
	if (c == NULL)
		return;
	/* last digest at 09:00 -> tomorrow 08:30; last at 07:00 -> today 08:30 */
	CHECK_INT(mail_next_digest_at(c, t0, t0), t0 + 23 * H + H / 2);
	CHECK_INT(mail_next_digest_at(c, t0 - 2 * H, t0), t0 - H / 2);
	/* a service down for three days sends one digest, then follows the schedule */
	CHECK(mail_next_digest_at(c, t0 - 72 * H, t0) <= t0);
	/* local time: 08:30 in UTC+2 (summer) is 06:30Z */
	setenv("TZ", "CET-1CEST,M3.5.0,M10.5.0/3", 1);
	tzset();
	CHECK_INT(mail_next_digest_at(c, t0, t0), t0 + 21 * H + H / 2);
	setenv("TZ", "UTC0", 1);
	tzset();
	c->schedule = MAIL_SCHED_EVERY;
	c->every_hours = 6;
	CHECK_INT(mail_next_digest_at(c, t0, t0 + H), t0 + 6 * H);
	CHECK_INT(mail_next_digest_at(c, 0, t0), t0 + 6 * H);
	CHECK_INT(mail_alert_allowed(c, 0, t0, &next), 1);
	CHECK_INT(mail_alert_allowed(c, t0 - 10 * 60000, t0, &next), 0);
	CHECK_INT(next, t0 + 20 * 60000);
	CHECK_INT(mail_alert_allowed(c, t0 - 30 * 60000, t0, &next), 1);
	c->alert_on_new_bucket = 0;
	CHECK_INT(mail_alert_allowed(c, 0, t0, &next), 0);
	mail_config_free(c);
	CHECK_INT(mail_backoff_ms(1), 60000);
	CHECK_INT(mail_backoff_ms(2), 120000);
	CHECK_INT(mail_backoff_ms(7), 3600000);
	CHECK_INT(mail_backoff_ms(60), 3600000);
}

/* ---- outbox against a real store, server unreachable ---- */

TEST(outbox_enqueue_dedupe_and_retry_when_server_down)
{
	struct mail_config *c = NULL;
	struct store *st = NULL;
	struct store_mail row;
	struct mail_compose m;
	struct mail_pump_stats ps;
	struct ds_err e;
	char db[128];
	int64_t id1 = 0, id2 = 0, id3 = 0, now = 1714554000000LL;
	int existed = -1;

	t_mkdir();
	memset(&row, 0, sizeof(row));
	snprintf(db, sizeof(db), "%s/mail.db", t_dir);
	/* port 1 on localhost: connection refused */
	CHECK_INT(t_cfg("{\"server\":\"127.0.0.1\",\"port\":1,\"security\":\"none\",\"from\":\"a@x.org\","
			"\"to\":[\"b@x.org\",\"c@x.org\"],\"connect_timeout_s\":2}",
			&c, &e),
		  DS_OK);
	CHECK_INT(store_open(db, STORE_READWRITE, &st, &e), DS_OK);
	if (c == NULL || st == NULL)
		goto out;
	memset(&m, 0, sizeof(m));
	m.kind = STORE_MAIL_ALERT;
	m.dedupe_key = "alert:bucket:5";
	m.subject = "new bucket";
	m.text = "text body";
	m.text_len = 9;
	m.html = "<p>html</p>";
	m.html_len = 11;
	CHECK_INT(mail_enqueue(st, c, &m, now, &id1, &existed, &e), DS_OK);
	CHECK_INT(existed, 0);
	CHECK_INT(mail_enqueue(st, c, &m, now, &id2, &existed, &e), DS_OK);
	CHECK_INT(existed, 1);
	CHECK_INT(id2, id1);
	m.dedupe_key = NULL;
	CHECK_INT(mail_enqueue(st, c, &m, now, &id3, &existed, &e), DS_OK);
	CHECK(id3 != id1);
	CHECK_INT(store_outbox_get(st, id1, &row, &e), DS_OK);
	CHECK(row.message_id != NULL && strncmp(row.message_id, "<ds.1.", 6) == 0 &&
	      strstr(row.message_id, "@x.org>") != NULL);
	CHECK_STR(row.to, "b@x.org, c@x.org");
	CHECK_STR(row.subject, "[dumpscout] new bucket");
	CHECK(row.mime != NULL && strstr(row.mime, row.message_id) != NULL);
	store_mail_clear(&row);
	CHECK_INT(mail_outbox_pump(st, c, now, 0, &ps, &e), DS_OK);
	CHECK_INT(ps.sent, 0);
	CHECK_INT(ps.retry, 1); /* the first refusal stops the round: the rest waits too */
	CHECK_INT(ps.blocked, 0);
	CHECK(strstr(ps.last_error, "127.0.0.1:1") != NULL);
	CHECK_INT(store_outbox_get(st, id1, &row, &e), DS_OK);
	CHECK_INT(row.state, STORE_MAIL_QUEUED);
	CHECK_INT(row.attempts, 1);
	CHECK_INT(row.next_attempt_at, now + 60000);
	CHECK(row.last_error != NULL && strstr(row.last_error, "127.0.0.1:1") != NULL);
	store_mail_clear(&row);
	/* the other message is still due now; the first is not due until its backoff ends */
	CHECK_INT(mail_outbox_pump(st, c, now, 0, &ps, &e), DS_OK);
	CHECK_INT(ps.retry, 1);
	CHECK_INT(mail_outbox_pump(st, c, now + 1000, 0, &ps, &e), DS_OK);
	CHECK_INT(ps.retry + ps.sent + ps.failed, 0);
	CHECK_INT(mail_outbox_pump(st, c, now + 61000, 0, &ps, &e), DS_OK);
	CHECK_INT(ps.retry, 1);
	CHECK_INT(store_outbox_get(st, id1, &row, &e), DS_OK);
	CHECK_INT(row.attempts, 2);
	CHECK_INT(row.next_attempt_at, now + 61000 + 120000);
	store_mail_clear(&row);
	/* a week later it is given up */
	CHECK_INT(mail_outbox_pump(st, c, now + MAIL_GIVE_UP_MS, 0, &ps, &e), DS_OK);
	CHECK_INT(ps.failed, 1);
out:
	store_mail_clear(&row);
	store_close(st);
	mail_config_free(c);
}

/* ---- driver for tests/e2e/test_mail.sh ---- */

static int drive_cfg(const char *path, struct config *cfg, struct mail_config **mc)
{
	struct ds_err e = { 0 };
	int rc;

	memset(cfg, 0, sizeof(*cfg));
	rc = config_load(path, cfg, &e);
	if (rc == DS_OK && cfg->mail == NULL)
		rc = ds_err_setn(&e, DS_EINVAL, "no mail section");
	if (rc == DS_OK)
		*mc = cfg->mail; /* the config's */
	if (rc != DS_OK)
		fprintf(stderr, "config: %s\n", e.msg);
	return rc;
}

static int drive(int argc, char **argv)
{
	struct config cfg;
	struct mail_config *mc = NULL;
	struct store *st = NULL;
	struct store_mail row;
	struct mail_compose m;
	struct mail_pump_stats ps;
	struct mail_result res;
	struct mime_addr rcpt[MAIL_MAX_RCPT];
	struct ds_err e = { 0 };
	char *text = NULL, *html = NULL, *json;
	size_t tl = 0, hl = 0, n = 0;
	int64_t id = 0, now = plat_now_ms();
	int rc = 1, existed = 0;
	const char *cmd = argv[1];
	cJSON *o = NULL;

	memset(&cfg, 0, sizeof(cfg));
	memset(&row, 0, sizeof(row));
	if (argc < 3 || store_open(argv[2], STORE_READWRITE, &st, &e) != DS_OK) {
		fprintf(stderr, "store: %s\n", e.msg);
		goto out;
	}
	mail_global_init();
	if (strcmp(cmd, "recover") == 0) {
		rc = store_recover(st, NULL, &e) != DS_OK;
	} else if (strcmp(cmd, "row") == 0 && argc == 4) {
		if (store_outbox_get(st, strtoll(argv[3], NULL, 10), &row, &e) == DS_OK) {
			printf("state=%d attempts=%d msgid=%s error=%s\n", row.state, row.attempts, row.message_id,
			       row.last_error ? row.last_error : "");
			rc = 0;
		}
	} else if (strcmp(cmd, "status") == 0) {
		if (store_status_get(st, &o, &e) == DS_OK) {
			json = cJSON_PrintUnformatted(o);
			printf("%s\n", json);
			free(json);
			rc = 0;
		}
	} else if (argc >= 4 && drive_cfg(argv[3], &cfg, &mc) != DS_OK) {
		rc = 2;
	} else if (strcmp(cmd, "enqueue") == 0 && argc == 7) {
		if (plat_read_file(argv[5], 1 << 26, &text, &tl) != DS_OK || plat_read_file(argv[6], 1 << 26, &html, &hl) != DS_OK)
			goto out;
		memset(&m, 0, sizeof(m));
		m.kind = STORE_MAIL_DIGEST;
		m.subject = argv[4];
		m.text = text;
		m.text_len = tl;
		m.html = html;
		m.html_len = hl;
		if (mail_enqueue(st, mc, &m, now, &id, &existed, &e) == DS_OK && store_outbox_get(st, id, &row, &e) == DS_OK) {
			printf("id=%lld msgid=%s\n", (long long)id, row.message_id);
			rc = 0;
		}
	} else if (strcmp(cmd, "pump") == 0 && argc >= 4) {
		if (argc == 5)
			now += strtoll(argv[4], NULL, 10);
		if (mail_outbox_pump(st, mc, now, 0, &ps, &e) == DS_OK) {
			printf("sent=%d retry=%d failed=%d blocked=%d error=%s\n", ps.sent, ps.retry, ps.failed, ps.blocked,
			       ps.last_error);
			rc = 0;
		}
	} else if (strcmp(cmd, "send-nomark") == 0 && argc == 4) {
		/* the crash window: claimed and delivered, the process dies before store_outbox_sent */
		if (store_outbox_claim(st, now, &row, &e) == DS_OK) {
			for (n = 0; n < mc->to_count; n++)
				rcpt[n] = mc->to[n];
			mail_send(mc, row.mime, strlen(row.mime), rcpt, n, &res);
			printf("outcome=%d code=%ld id=%lld msgid=%s\n", res.outcome, res.smtp_code, (long long)row.id,
			       row.message_id);
			rc = res.outcome != MAIL_SENT;
		}
	} else {
		fprintf(stderr, "usage: see the comment at the top of tests/unit/test_mail.c\n");
		rc = 2;
	}
	if (rc == 1 && e.msg[0])
		fprintf(stderr, "error: %s\n", e.msg);
out:
	cJSON_Delete(o);
	free(text);
	free(html);
	store_mail_clear(&row);
	store_close(st);
	config_free(&cfg);
	mail_global_cleanup();
	return rc;
}

int main(int argc, char **argv)
{
	if (argc > 1)
		return drive(argc, argv);
	mail_global_init();
	RUN(addr_parse_forms);
	RUN(addr_parse_rejects_injection_and_junk);
	RUN(sanitize_removes_controls_and_bad_utf8);
	RUN(date_is_rfc5322_local_with_offset);
	RUN(message_id_is_stable_and_clean);
	RUN(build_multipart_roundtrips);
	RUN(build_header_injection_is_neutralised);
	RUN(build_caps_size_with_a_note);
	RUN(config_defaults_and_required_keys);
	RUN(config_rejects_bad_values);
	RUN(config_password_file_must_be_private);
	RUN(schedule_daily_every_and_alert_limit);
	RUN(outbox_enqueue_dedupe_and_retry_when_server_down);
	if (t_dir[0] != '\0') {
		char p[128];

		snprintf(p, sizeof(p), "%s/mail.db", t_dir);
		plat_unlink(p);
		snprintf(p, sizeof(p), "%s/mail.db-wal", t_dir);
		plat_unlink(p);
		snprintf(p, sizeof(p), "%s/mail.db-shm", t_dir);
		plat_unlink(p);
		plat_rmdir(t_dir);
	}
	mail_global_cleanup();
	return t_total_failed != 0;
}
