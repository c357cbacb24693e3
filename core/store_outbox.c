/* store_outbox.c - the mail outbox in the store: queueing a message once per dedupe key, claiming the
 * next due one, recording delivery or failure (see store.h). Composing and sending are the mailer's;
 * the backoff is the caller's. The fleet's outbox is store_fleet.c. */
#include "store.h"
#include "store_int.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char sql_by_key[] = "SELECT id FROM outbox WHERE dedupe_key = ?1";
static const char sql_insert[] = "INSERT INTO outbox (kind, dedupe_key, created_at, message_id, subject, to_addrs, "
				 "body_text, body_html, mime, bucket_id, next_attempt_at) "
				 "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?3)";
static const char sql_due[] = "SELECT id FROM outbox WHERE state = 'queued' AND next_attempt_at <= ?1 "
			      "ORDER BY next_attempt_at, id LIMIT 1";
static const char sql_mark_sending[] = "UPDATE outbox SET state = 'sending', attempts = attempts + 1 WHERE id = ?1";
static const char sql_get[] = "SELECT id, kind, state, attempts, dedupe_key, message_id, subject, to_addrs, "
			      "body_text, body_html, mime, last_error, bucket_id, created_at, next_attempt_at, sent_at "
			      "FROM outbox WHERE id = ?1";
static const char sql_sent[] = "UPDATE outbox SET state = 'sent', sent_at = ?2, last_error = NULL WHERE id = ?1";
static const char sql_failed[] = "UPDATE outbox SET state = ?2, last_error = ?3, next_attempt_at = ?4 "
				 "WHERE id = ?1 AND state != 'sent'";
static const char sql_next_due[] = "SELECT MIN(next_attempt_at) FROM outbox WHERE state = 'queued'";

void store_mail_clear(struct store_mail *m)
{
	if (m == NULL)
		return;
	free(m->dedupe_key);
	free(m->message_id);
	free(m->subject);
	free(m->to);
	free(m->body_text);
	free(m->body_html);
	free(m->mime);
	free(m->last_error);
	memset(m, 0, sizeof(*m));
}

int store_outbox_enqueue(struct store *s, const struct store_mail_new *m, int64_t now, int64_t *id, int *existed,
			 struct ds_err *e)
{
	sqlite3_stmt *st = NULL;
	int64_t rid = 0;
	int rc, tx = 0, found = 0;

	if (m == NULL || m->kind < 0 || m->kind > STORE_MAIL_TEST || m->message_id == NULL || m->subject == NULL ||
	    m->to == NULL) {
		rc = ds_err_setn(e, DS_EINVAL, "store_outbox_enqueue: kind, message_id, subject and to are required");
		goto out;
	}
	rc = store_tx_begin(s, e);
	if (rc != DS_OK)
		goto out;
	tx = 1;
	if (m->dedupe_key != NULL) {
		rc = store_row(s, sql_by_key, &st, e, "looking up a message", "t", m->dedupe_key);
		if (rc < 0)
			goto out;
		found = rc;
		if (found)
			rid = store_col_i64(st, 0);
		sqlite3_reset(st);
	}
	if (!found) {
		rc = store_do(s, sql_insert, NULL, e, "queueing a message", "ttittttttn", store_mail_kind_names[m->kind],
			      m->dedupe_key, now, m->message_id, m->subject, m->to, m->body_text, m->body_html, m->mime,
			      m->bucket_id);
		if (rc != DS_OK)
			goto out;
		rid = sqlite3_last_insert_rowid(s->db);
	}
	rc = store_tx_commit(s, e);
	tx = 0;
	if (rc != DS_OK)
		goto out;
	if (id != NULL)
		*id = rid;
	if (existed != NULL)
		*existed = found;
out:
	if (tx)
		store_tx_rollback(s);
	store_release(s);
	return rc;
}

/* Reads outbox row id into m (no release). */
static int store_mail_read(struct store *s, int64_t id, struct store_mail *m, struct ds_err *e)
{
	sqlite3_stmt *st = NULL;
	int rc, oom = 0;

	memset(m, 0, sizeof(*m));
	rc = store_row(s, sql_get, &st, e, "reading a message", "i", id);
	if (rc == 0)
		rc = ds_err_setn(e, DS_ENOENT, "no message %" PRId64 " in the outbox of %s", id, s->path);
	if (rc < 0)
		goto out;
	m->id = store_col_i64(st, 0);
	m->kind = store_name_parse(store_mail_kind_names, 3, (const char *)sqlite3_column_text(st, 1));
	m->state = store_name_parse(store_mail_state_names, 4, (const char *)sqlite3_column_text(st, 2));
	m->attempts = sqlite3_column_int(st, 3);
	m->dedupe_key = store_col_dup_null(st, 4, &oom);
	m->message_id = store_col_dup_null(st, 5, &oom);
	m->subject = store_col_dup_null(st, 6, &oom);
	m->to = store_col_dup_null(st, 7, &oom);
	m->body_text = store_col_dup_null(st, 8, &oom);
	m->body_html = store_col_dup_null(st, 9, &oom);
	m->mime = store_col_dup_null(st, 10, &oom);
	m->last_error = store_col_dup_null(st, 11, &oom);
	m->bucket_id = store_col_i64(st, 12);
	m->created_at = store_col_i64(st, 13);
	m->next_attempt_at = store_col_i64(st, 14);
	m->sent_at = store_col_i64(st, 15);
	rc = oom ? ds_err_setn(e, DS_ENOMEM, "out of memory reading a message") : DS_OK;
	sqlite3_reset(st);
out:
	if (rc != DS_OK)
		store_mail_clear(m);
	return rc;
}

int store_outbox_get(struct store *s, int64_t id, struct store_mail *m, struct ds_err *e)
{
	int rc = store_mail_read(s, id, m, e);

	store_release(s);
	return rc;
}

int store_outbox_claim(struct store *s, int64_t now, struct store_mail *m, struct ds_err *e)
{
	sqlite3_stmt *st = NULL;
	int64_t id;
	int rc, tx = 0;

	memset(m, 0, sizeof(*m));
	rc = store_tx_begin(s, e);
	if (rc != DS_OK)
		goto out;
	tx = 1;
	rc = store_row(s, sql_due, &st, e, "looking for due mail", "i", now);
	if (rc == 0)
		rc = ds_err_setn(e, DS_ENOENT, "no mail due in %s", s->path);
	if (rc < 0)
		goto out;
	id = store_col_i64(st, 0);
	sqlite3_reset(st);
	rc = store_do(s, sql_mark_sending, NULL, e, "claiming a message", "i", id);
	if (rc == DS_OK)
		rc = store_mail_read(s, id, m, e);
	if (rc != DS_OK)
		goto out;
	rc = store_tx_commit(s, e);
	tx = 0;
	if (rc != DS_OK)
		store_mail_clear(m);
out:
	if (tx)
		store_tx_rollback(s);
	store_release(s);
	return rc;
}

/* DS_ENOENT for an outbox update that changed nothing. */
static int store_outbox_changed(struct store *s, int rc, int64_t n, int64_t id, struct ds_err *e)
{
	if (rc == DS_OK && n == 0)
		rc = ds_err_setn(e, DS_ENOENT, "no unsent message %" PRId64 " in the outbox of %s", id, s->path);
	return rc;
}

int store_outbox_sent(struct store *s, int64_t id, int64_t now, struct ds_err *e)
{
	int64_t n = 0;
	int rc = store_write(s, sql_sent, &n, e, "updating a message", "ii", id, now);

	return store_outbox_changed(s, rc, n, id, e);
}

int store_outbox_failed(struct store *s, int64_t id, const char *error, int permanent, int64_t next_attempt_at,
			struct ds_err *e)
{
	int64_t n = 0;
	int rc = store_write(s, sql_failed, &n, e, "updating a message", "itei", id, permanent ? "failed" : "queued",
			     error, next_attempt_at);

	return store_outbox_changed(s, rc, n, id, e);
}

int store_outbox_next_due(struct store *s, int64_t *at, struct ds_err *e)
{
	return store_queue_min(s, sql_next_due, NULL, at, e);
}
