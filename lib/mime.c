/* mime.c - message building for the mailer: header sanitising and RFC 2047 encoding, quoted-printable
 * bodies, the multipart/alternative layout and the size cap. See mime.h. It holds no state and sends
 * nothing; the configuration, the outbox and SMTP live in lib/mail.c and service/smtp.c. */
#include "mime.h"

#include "core/buf.h"
#include "core/plat.h"
#include "core/text.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Header lines are folded before this column (RFC 5322 recommends 78). */
#define MIME_FOLD_COL 76
/* Longest subject we keep, in bytes of UTF-8 (before encoding). */
#define MIME_SUBJECT_MAX 600
/* Quoted-printable lines are at most 76 characters including the soft-break '='. */
#define MIME_QP_COL 76
/* Steps of the size-cap search: the kept share of each body is k / MIME_CUT_STEPS. */
#define MIME_CUT_STEPS 4096

static const char hexdig[] = "0123456789ABCDEF";
static const char b64dig[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

size_t mime_sanitize(const char *in, char *out, size_t n)
{
	return text_clean(out, n, in, 0);
}

/* An output that either counts bytes (b == NULL) or appends them to a capped buffer. */
struct mime_out {
	struct buf *b;
	size_t n;
	int rc;
};

static void mime_put(struct mime_out *o, const char *s, size_t len)
{
	int rc;

	o->n += len;
	if (o->b != NULL && o->rc == DS_OK) {
		rc = buf_append(o->b, s, len);
		if (rc != DS_OK)
			o->rc = rc;
	}
}

static void mime_puts(struct mime_out *o, const char *s)
{
	mime_put(o, s, strlen(s));
}

/* A header being written: tokens are folded onto continuation lines before MIME_FOLD_COL. */
struct mime_hdr {
	struct mime_out *o;
	size_t col;
	size_t start; /* column after "Name:"; the first token is never folded away from it */
};

static void mime_hdr_start(struct mime_hdr *h, struct mime_out *o, const char *name)
{
	h->o = o;
	mime_puts(o, name);
	mime_puts(o, ":");
	h->col = strlen(name) + 1;
	h->start = h->col;
}

/* Writes one token preceded by a space, or by a fold when the line would grow too long. */
static void mime_hdr_token(struct mime_hdr *h, const char *tok, size_t len)
{
	if (h->col + 1 + len > MIME_FOLD_COL && h->col > h->start) {
		mime_puts(h->o, "\r\n ");
		h->col = 1;
	} else {
		mime_puts(h->o, " ");
		h->col++;
	}
	mime_put(h->o, tok, len);
	h->col += len;
}

/* Appends a token directly after the previous one (no space), e.g. the comma of an address list. */
static void mime_hdr_glue(struct mime_hdr *h, const char *s)
{
	mime_puts(h->o, s);
	h->col += strlen(s);
}

static void mime_hdr_end(struct mime_hdr *h)
{
	mime_puts(h->o, "\r\n");
}

static size_t mime_b64(const unsigned char *in, size_t n, char *out)
{
	size_t i, o = 0;
	uint32_t v;

	for (i = 0; i + 2 < n; i += 3) {
		v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];
		out[o++] = b64dig[v >> 18];
		out[o++] = b64dig[(v >> 12) & 63];
		out[o++] = b64dig[(v >> 6) & 63];
		out[o++] = b64dig[v & 63];
	}
	if (i < n) {
		v = (uint32_t)in[i] << 16 | (i + 1 < n ? (uint32_t)in[i + 1] << 8 : 0);
		out[o++] = b64dig[v >> 18];
		out[o++] = b64dig[(v >> 12) & 63];
		out[o++] = i + 1 < n ? b64dig[(v >> 6) & 63] : '=';
		out[o++] = '=';
	}
	return o;
}

static int mime_is_ascii_plain(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	for (; *p; p++)
		if (*p >= 0x80 || (p[0] == '=' && p[1] == '?'))
			return 0;
	return 1;
}

/* Writes sanitised UTF-8 text s as RFC 2047 "B" encoded-words of at most 45 bytes of text each
 * (75 characters encoded), never splitting a character. */
static void mime_hdr_words(struct mime_hdr *h, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t len = strlen(s), i = 0, take, k, max;
	char word[16 + 64];
	size_t w;

	while (i < len) {
		/* as many bytes as fit on this line: 12 characters of wrapper, 4 of base64 per 3 bytes */
		max = h->col + 1 + 12 + 8 <= MIME_FOLD_COL ? (MIME_FOLD_COL - h->col - 1 - 12) / 4 * 3 : 0;
		if (max < 6 && h->col > h->start) {
			mime_puts(h->o, "\r\n");
			h->col = 0;
			max = 45;
		}
		if (max > 45 || max < 6)
			max = 45;
		take = 0;
		while (i + take < len) {
			k = text_utf8_seq(p + i + take, len - i - take, NULL);
			if (k == 0)
				k = 1; /* cannot happen after mime_sanitize; keep moving */
			if (take + k > max)
				break;
			take += k;
		}
		memcpy(word, "=?UTF-8?B?", 10);
		w = 10 + mime_b64(p + i, take, word + 10);
		memcpy(word + w, "?=", 2);
		w += 2;
		mime_hdr_token(h, word, w);
		i += take;
	}
}

/* Writes plain ASCII text as space-separated tokens so it can be folded at its spaces. */
static void mime_hdr_ascii(struct mime_hdr *h, const char *s)
{
	const char *p = s, *e;

	while (*p) {
		while (*p == ' ')
			p++;
		if (*p == '\0')
			break;
		e = strchr(p, ' ');
		if (e == NULL)
			e = p + strlen(p);
		mime_hdr_token(h, p, (size_t)(e - p));
		p = e;
	}
}

static void mime_hdr_text(struct mime_hdr *h, const char *s)
{
	if (mime_is_ascii_plain(s))
		mime_hdr_ascii(h, s);
	else
		mime_hdr_words(h, s);
}

/* Writes one address ("name" <addr> or bare addr); glue is appended to the last token (a comma). */
static void mime_hdr_addr(struct mime_hdr *h, const struct mime_addr *a, const char *glue)
{
	char tok[MIME_ADDR_MAX + 4];
	char q[2 * MIME_NAME_MAX + 4];
	const char *p;
	size_t n = 0;

	if (a->name[0] != '\0') {
		if (mime_is_ascii_plain(a->name)) {
			q[n++] = '"';
			for (p = a->name; *p; p++) {
				if (*p == '"' || *p == '\\')
					q[n++] = '\\';
				q[n++] = *p;
			}
			q[n++] = '"';
			mime_hdr_token(h, q, n);
		} else {
			mime_hdr_words(h, a->name);
		}
		snprintf(tok, sizeof(tok), "<%s>", a->addr);
	} else {
		snprintf(tok, sizeof(tok), "%s", a->addr);
	}
	mime_hdr_token(h, tok, strlen(tok));
	mime_hdr_glue(h, glue);
}

/* Quoted-printable encoding (RFC 2045 6.7) of UTF-8 text: CRLF hard breaks for "\n" or "\r\n",
 * soft breaks keep lines within 76 characters without splitting a character, trailing white space
 * and a leading '.' are encoded, invalid UTF-8 and NUL become U+FFFD. '=' is always encoded, so the
 * output never contains "=_", the start of our boundaries. */
static void mime_qp(struct mime_out *o, const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, col = 0, k, j, tl;
	char tok[16];
	int eol;

	while (i < n) {
		if (p[i] == '\n' || (p[i] == '\r' && i + 1 < n && p[i + 1] == '\n')) {
			i += p[i] == '\r' ? 2 : 1;
			mime_puts(o, "\r\n");
			col = 0;
			continue;
		}
		k = text_utf8_seq(p + i, n - i, NULL);
		tl = 0;
		if (k == 0 || p[i] == 0) {
			memcpy(tok, "=EF=BF=BD", 9);
			tl = 9;
			k = 1;
		} else if (k > 1) {
			for (j = 0; j < k; j++) {
				tok[tl++] = '=';
				tok[tl++] = hexdig[p[i + j] >> 4];
				tok[tl++] = hexdig[p[i + j] & 15];
			}
		} else {
			eol = i + 1 >= n || p[i + 1] == '\n' || (p[i + 1] == '\r' && i + 2 < n && p[i + 2] == '\n');
			if ((p[i] >= 33 && p[i] <= 126 && p[i] != '=' && !(p[i] == '.' && col == 0)) ||
			    ((p[i] == ' ' || p[i] == '\t') && !eol)) {
				tok[tl++] = (char)p[i];
			} else {
				tok[tl++] = '=';
				tok[tl++] = hexdig[p[i] >> 4];
				tok[tl++] = hexdig[p[i] & 15];
			}
		}
		if (col + tl > MIME_QP_COL - 1) {
			mime_puts(o, "=\r\n");
			col = 0;
			if (tok[0] == '.' && tl == 1) {
				memcpy(tok, "=2E", 3);
				tl = 3;
			}
		}
		mime_put(o, tok, tl);
		col += tl;
		i += k;
	}
	if (col > 0)
		mime_puts(o, "\r\n");
}

static const char *const mime_days[] = { "Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat" };
static const char *const mime_months[] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
					   "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };

int mime_date(int64_t ms, char *out, size_t n)
{
	struct tm tm;
	long off, aoff;
	int64_t sec = ms / 1000 - (ms % 1000 < 0 ? 1 : 0);
	int w;

	if (plat_localtime(sec, &tm, &off) != DS_OK || tm.tm_wday < 0 || tm.tm_wday > 6 || tm.tm_mon < 0 ||
	    tm.tm_mon > 11 || tm.tm_year + 1900 < 1900 || tm.tm_year + 1900 > 9999)
		return DS_EINVAL;
	aoff = off < 0 ? -off : off;
	w = snprintf(out, n, "%s, %02d %s %04d %02d:%02d:%02d %c%02ld%02ld", mime_days[tm.tm_wday], tm.tm_mday,
		     mime_months[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec > 59 ? 59 : tm.tm_sec,
		     off < 0 ? '-' : '+', aoff / 3600, (aoff / 60) % 60);
	if (w < 0 || (size_t)w >= n)
		return DS_EINVAL;
	return DS_OK;
}

int mime_message_id(int64_t row_id, const char *token, const char *domain, char *out, size_t n)
{
	char tok[65], dom[MIME_ADDR_MAX + 1];
	size_t t = 0, d = 0;
	int w;

	for (; token != NULL && *token && t < sizeof(tok) - 1; token++)
		if ((*token >= '0' && *token <= '9') || (*token >= 'a' && *token <= 'z') ||
		    (*token >= 'A' && *token <= 'Z'))
			tok[t++] = *token;
	tok[t] = '\0';
	for (; domain != NULL && *domain && d < sizeof(dom) - 1; domain++)
		if ((*domain >= '0' && *domain <= '9') || (*domain >= 'a' && *domain <= 'z') ||
		    (*domain >= 'A' && *domain <= 'Z') || *domain == '.' || *domain == '-')
			dom[d++] = *domain;
	dom[d] = '\0';
	w = snprintf(out, n, "<ds.%lld.%s@%s>", (long long)row_id, t ? tok : "0", d ? dom : "dumpscout.invalid");
	if (w < 0 || (size_t)w >= n)
		return DS_EINVAL;
	return DS_OK;
}

static int mime_addr_char_ok(char c)
{
	return c > 0x20 && c < 0x7F && strchr("()<>[]\\,;:\"", c) == NULL;
}

int mime_addr_parse(const char *text, struct mime_addr *out, struct ds_err *e)
{
	const char *s = text, *end, *lt, *at = NULL, *p;
	char name[MIME_NAME_MAX * 2 + 1];
	size_t nl = 0, al;
	int rc = DS_OK;

	memset(out, 0, sizeof(*out));
	while (*s == ' ' || *s == '\t')
		s++;
	end = s + strlen(s);
	while (end > s && (end[-1] == ' ' || end[-1] == '\t'))
		end--;
	if (end > s && end[-1] == '>') {
		lt = end - 1;
		while (lt > s && *lt != '<')
			lt--;
		if (*lt != '<') {
			rc = ds_err_setn(e, DS_EINVAL, "'>' without '<' in the address");
			goto out;
		}
		/* the display name, unquoted if it was a quoted-string */
		p = s;
		while (lt > p && (lt[-1] == ' ' || lt[-1] == '\t'))
			lt--;
		if (lt - p >= 2 && *p == '"' && lt[-1] == '"') {
			for (p++; p < lt - 1 && nl < sizeof(name) - 1; p++) {
				if (*p == '\\' && p + 1 < lt - 1)
					p++;
				name[nl++] = *p;
			}
		} else {
			for (; p < lt && nl < sizeof(name) - 1; p++)
				name[nl++] = *p;
		}
		name[nl] = '\0';
		if (nl > MIME_NAME_MAX) {
			rc = ds_err_setn(e, DS_EINVAL, "display name longer than %d bytes", MIME_NAME_MAX);
			goto out;
		}
		mime_sanitize(name, out->name, sizeof(out->name));
		while (*lt != '<')
			lt++;
		s = lt + 1;
		end--;
	}
	al = (size_t)(end - s);
	if (al == 0 || al > MIME_ADDR_MAX) {
		rc = ds_err_setn(e, DS_EINVAL, "address is empty or longer than %d bytes", MIME_ADDR_MAX);
		goto out;
	}
	for (p = text; *p; p++) {
		if ((unsigned char)*p < 0x20 || *p == 0x7F) {
			rc = ds_err_setn(e, DS_EINVAL, "address has a control character (byte 0x%02x)", (unsigned char)*p);
			goto out;
		}
	}
	for (p = s; p < end; p++) {
		if (!mime_addr_char_ok(*p)) {
			rc = ds_err_setn(e, DS_EINVAL, "address has a character not allowed here (byte 0x%02x)",
					 (unsigned char)*p);
			goto out;
		}
		if (*p == '@') {
			if (at != NULL) {
				rc = ds_err_setn(e, DS_EINVAL, "address has more than one '@'");
				goto out;
			}
			at = p;
		}
	}
	if (at == NULL || at == s || at + 1 == end || at - s > 64) {
		rc = ds_err_setn(e, DS_EINVAL, "address must be local@domain (local part 1..64 bytes)");
		goto out;
	}
	for (p = at + 1; p < end; p++) {
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '-' ||
		      (*p == '.' && p != at + 1 && p + 1 != end && p[1] != '.'))) {
			rc = ds_err_setn(e, DS_EINVAL, "address domain must be letters, digits, '-' and '.'");
			goto out;
		}
	}
	memcpy(out->addr, s, al);
	out->addr[al] = '\0';
out:
	if (rc != DS_OK)
		memset(out, 0, sizeof(*out));
	return rc;
}

static const char mime_text_note[] =
	"\n\n[dumpscout: this message was cut short to stay within the mail size limit (max_message_bytes); "
	"run `dumpscout report` for the full report.]\n";
static const char mime_html_note[] =
	"\n<p style=\"color:#a00\"><em>dumpscout: this message was cut short to stay within the mail size "
	"limit (max_message_bytes); run <code>dumpscout report</code> for the full report.</em></p>\n";

/* A cut point at or before p that does not split a UTF-8 character; for text, at a line end when
 * one is near; for HTML, outside a tag and outside a character reference. */
static size_t mime_cut(const char *s, size_t len, size_t p, int html)
{
	size_t i, lt = (size_t)-1, gt = (size_t)-1, amp = (size_t)-1, semi = (size_t)-1;

	if (p >= len)
		return len;
	while (p > 0 && ((unsigned char)s[p] & 0xC0) == 0x80)
		p--;
	if (!html) {
		for (i = p; i > 0 && p - i < 160; i--)
			if (s[i - 1] == '\n')
				return i;
		return p;
	}
	for (i = 0; i < p; i++) {
		if (s[i] == '<')
			lt = i;
		else if (s[i] == '>')
			gt = i;
		else if (s[i] == '&')
			amp = i;
		else if (s[i] == ';')
			semi = i;
	}
	if (lt != (size_t)-1 && (gt == (size_t)-1 || lt > gt))
		p = lt;
	if (amp != (size_t)-1 && amp < p && (semi == (size_t)-1 || amp > semi) && p - amp <= 12)
		p = amp;
	return p;
}

/* The headers and body of one message; text and html are already cut (with the note if cut). */
static void mime_emit(const struct mime_message *m, const char *boundary, const char *text, size_t tl,
		      const char *html, size_t hl, struct mime_out *o)
{
	char line[600], subj[MIME_SUBJECT_MAX + 1];
	struct mime_hdr h;
	size_t i;

	mime_date(m->date_ms, line, sizeof(line));
	mime_hdr_start(&h, o, "Date");
	mime_hdr_ascii(&h, line);
	mime_hdr_end(&h);

	mime_hdr_start(&h, o, "From");
	mime_hdr_addr(&h, m->from, "");
	mime_hdr_end(&h);

	mime_hdr_start(&h, o, "To");
	for (i = 0; i < m->to_count; i++)
		mime_hdr_addr(&h, &m->to[i], i + 1 < m->to_count ? "," : "");
	mime_hdr_end(&h);

	mime_sanitize(m->subject != NULL ? m->subject : "", subj, sizeof(subj));
	mime_hdr_start(&h, o, "Subject");
	mime_hdr_text(&h, subj);
	mime_hdr_end(&h);

	mime_sanitize(m->message_id, line, sizeof(line));
	mime_hdr_start(&h, o, "Message-ID");
	mime_hdr_token(&h, line, strlen(line));
	mime_hdr_end(&h);

	mime_puts(o, "MIME-Version: 1.0\r\nAuto-Submitted: auto-generated\r\n");
	if (html == NULL) {
		mime_puts(o, "Content-Type: text/plain; charset=utf-8\r\n"
			     "Content-Transfer-Encoding: quoted-printable\r\n\r\n");
		mime_qp(o, text, tl);
		return;
	}
	mime_puts(o, "Content-Type: multipart/alternative;\r\n boundary=\"");
	mime_puts(o, boundary);
	mime_puts(o, "\"\r\n\r\nThis is a MIME message: a plain-text part and an HTML part.\r\n\r\n--");
	mime_puts(o, boundary);
	mime_puts(o, "\r\nContent-Type: text/plain; charset=utf-8\r\n"
		     "Content-Transfer-Encoding: quoted-printable\r\n\r\n");
	mime_qp(o, text, tl);
	mime_puts(o, "\r\n--");
	mime_puts(o, boundary);
	mime_puts(o, "\r\nContent-Type: text/html; charset=utf-8\r\n"
		     "Content-Transfer-Encoding: quoted-printable\r\n\r\n");
	mime_qp(o, html, hl);
	mime_puts(o, "\r\n--");
	mime_puts(o, boundary);
	mime_puts(o, "--\r\n");
}

/* Cut copies of the bodies keeping k / MIME_CUT_STEPS of each, the notes appended. */
struct mime_cutbodies {
	struct buf text;
	struct buf html;
};

static int mime_cut_bodies(const struct mime_message *m, size_t k, struct mime_cutbodies *c)
{
	const char *text = m->text != NULL ? m->text : "";
	size_t tp, hp;
	int rc;

	buf_reset(&c->text);
	buf_reset(&c->html);
	tp = mime_cut(text, m->text_len, (size_t)((double)m->text_len * (double)k / MIME_CUT_STEPS), 0);
	rc = buf_append(&c->text, text, tp);
	if (rc == DS_OK)
		rc = buf_puts(&c->text, mime_text_note);
	if (rc == DS_OK && m->html != NULL) {
		hp = mime_cut(m->html, m->html_len, (size_t)((double)m->html_len * (double)k / MIME_CUT_STEPS), 1);
		rc = buf_append(&c->html, m->html, hp);
		if (rc == DS_OK)
			rc = buf_puts(&c->html, mime_html_note);
	}
	return rc;
}

static size_t mime_count(const struct mime_message *m, const char *boundary, const char *text, size_t tl,
			 const char *html, size_t hl)
{
	struct mime_out o = { NULL, 0, DS_OK };

	mime_emit(m, boundary, text, tl, html, hl, &o);
	return o.n;
}

/* Counts occurrences of needle in hay (NUL-terminated). */
static size_t mime_occurrences(const char *hay, const char *needle)
{
	size_t n = 0, nl = strlen(needle);

	while ((hay = strstr(hay, needle)) != NULL) {
		n++;
		hay += nl;
	}
	return n;
}

int mime_build(const struct mime_message *m, char **out, size_t *out_len, int *truncated, struct ds_err *e)
{
	struct mime_cutbodies cb;
	struct mime_message mc;
	struct buf msg;
	struct mime_out o;
	char *ctext = NULL, *chtml = NULL;
	unsigned char rnd[16];
	char boundary[64], delim[70];
	const char *text, *html;
	size_t tl, hl, lo, hi, mid, i;
	int rc = DS_OK, attempt, cut = 0;

	*out = NULL;
	*out_len = 0;
	if (truncated != NULL)
		*truncated = 0;
	buf_init(&cb.text, SIZE_MAX / 4);
	buf_init(&cb.html, SIZE_MAX / 4);
	buf_init(&msg, SIZE_MAX / 4);
	if (m->from == NULL || m->to == NULL || m->to_count == 0 || m->message_id == NULL ||
	    (m->text == NULL && m->text_len != 0) || (m->html == NULL && m->html_len != 0)) {
		rc = ds_err_setn(e, DS_EINVAL, "message needs a sender, a recipient and a Message-ID");
		goto out;
	}
	if (mime_date(m->date_ms, delim, sizeof(delim)) != DS_OK) {
		rc = ds_err_setn(e, DS_EINVAL, "message date out of range");
		goto out;
	}
	/* Both parts go through the one sanitiser (core/text.h): whatever a caller rendered, no raw
	 * control, C1 or bidi character and no CR reaches a mail; line breaks are the LFs the text has. */
	mc = *m;
	mc.text = ctext = text_clean_dupn(m->text != NULL ? m->text : "", m->text_len, TEXT_KEEP_NL | TEXT_KEEP_TAB);
	mc.html = chtml = m->html != NULL ? text_clean_dupn(m->html, m->html_len, TEXT_KEEP_NL | TEXT_KEEP_TAB) : NULL;
	if (ctext == NULL || (m->html != NULL && chtml == NULL)) {
		rc = ds_err_setn(e, DS_ENOMEM, "out of memory");
		goto out;
	}
	mc.text_len = strlen(ctext);
	mc.html_len = chtml != NULL ? strlen(chtml) : 0;
	m = &mc;
	text = m->text;
	tl = m->text_len;
	html = m->html;
	hl = m->html_len;
	for (attempt = 0; attempt < 4; attempt++) {
		rc = plat_random_bytes(rnd, sizeof(rnd));
		if (rc != DS_OK) {
			ds_err_setn(e, rc, "no random source for the MIME boundary");
			goto out;
		}
		memcpy(boundary, "=_ds_", 5);
		for (i = 0; i < sizeof(rnd); i++) {
			boundary[5 + 2 * i] = hexdig[rnd[i] >> 4];
			boundary[6 + 2 * i] = hexdig[rnd[i] & 15];
		}
		boundary[5 + 2 * sizeof(rnd)] = '\0';

		if (m->max_bytes != 0 && mime_count(m, boundary, text, tl, html, hl) > m->max_bytes) {
			/* binary search for the largest share of the bodies that fits with the notes */
			lo = 0;
			hi = MIME_CUT_STEPS;
			rc = mime_cut_bodies(m, 0, &cb);
			if (rc != DS_OK)
				goto out;
			if (mime_count(m, boundary, cb.text.data, cb.text.len, m->html ? cb.html.data : NULL,
				       cb.html.len) > m->max_bytes) {
				rc = ds_err_setn(e, DS_ETOOBIG, "max_message_bytes (%zu) is too small for the headers",
						 m->max_bytes);
				goto out;
			}
			while (hi - lo > 1) {
				mid = lo + (hi - lo) / 2;
				rc = mime_cut_bodies(m, mid, &cb);
				if (rc != DS_OK)
					goto out;
				if (mime_count(m, boundary, cb.text.data, cb.text.len, m->html ? cb.html.data : NULL,
					       cb.html.len) <= m->max_bytes)
					lo = mid;
				else
					hi = mid;
			}
			rc = mime_cut_bodies(m, lo, &cb);
			if (rc != DS_OK)
				goto out;
			text = cb.text.data;
			tl = cb.text.len;
			html = m->html ? cb.html.data : NULL;
			hl = m->html ? cb.html.len : 0;
			cut = 1;
		}
		buf_reset(&msg);
		o.b = &msg;
		o.n = 0;
		o.rc = DS_OK;
		mime_emit(m, boundary, text, tl, html, hl, &o);
		if (o.rc != DS_OK) {
			rc = ds_err_setn(e, o.rc, "could not build the message");
			goto out;
		}
		snprintf(delim, sizeof(delim), "--%s", boundary);
		/* the boundary must appear exactly as our three delimiters (QP output cannot hold "=_") */
		if (html == NULL || mime_occurrences(msg.data, delim) == 3)
			break;
	}
	if (attempt == 4) {
		rc = ds_err_setn(e, DS_EIO, "could not pick a MIME boundary absent from the bodies");
		goto out;
	}
	*out_len = msg.len;
	*out = buf_steal(&msg);
	if (*out == NULL)
		rc = DS_ENOMEM;
	else if (truncated != NULL)
		*truncated = cut;
out:
	buf_free(&cb.text);
	buf_free(&cb.html);
	buf_free(&msg);
	free(ctext);
	free(chtml);
	return rc;
}
