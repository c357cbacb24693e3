/* mail.h - mail composition that both programs share: the "mail" section of the config, the password,
 * the persistent outbox (writing messages into it), the backoff rule and the digest/alert schedule.
 * Message building is in mime.h; the report bodies come already rendered (text and HTML) from the report
 * module. Delivery over SMTP (libcurl) is dumpscoutd's alone: service/smtp.h. It never logs a password or
 * a message body. */
#ifndef DS_MAIL_H
#define DS_MAIL_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "core/ds.h"
#include "mime.h"

struct cJSON;
struct store;

enum mail_security { MAIL_SEC_STARTTLS = 0, MAIL_SEC_TLS, MAIL_SEC_NONE };
enum mail_schedule { MAIL_SCHED_DAILY = 0, MAIL_SCHED_EVERY };

#define MAIL_MAX_RCPT 100
#define MAIL_DEFAULT_MAX_BYTES (5u * 1024 * 1024)
#define MAIL_MIN_MAX_BYTES 8192u
/* A message still not accepted this long after it was written is given up ('failed'). */
#define MAIL_GIVE_UP_MS (7LL * 24 * 3600 * 1000)

/* The "mail" object of the service config; every key is documented in docs/mail.md. */
struct mail_config {
	char *server;                  /* "server": host name or IP address (required) */
	unsigned port;                 /* "port": 587 (starttls), 465 (tls), 25 (none) */
	int security;                  /* "security": enum mail_security, default starttls */
	char *username;                /* "username": NULL = no AUTH */
	char *password_file;           /* "password_file": absolute path, owner-only file */
	char *password_env;            /* "password_env": environment variable name */
	char *ca_file;                 /* "ca_file": CA bundle for the server's certificate (NULL: system) */
	struct mime_addr from;         /* "from" (required) */
	struct mime_addr *to;          /* "to": one address or a list (required) */
	size_t to_count;
	char *subject_prefix;          /* "subject_prefix": "[dumpscout]" ("" for none) */
	int schedule;                  /* "schedule": {"daily_at": "HH:MM"} or {"every_hours": N} */
	int daily_hour, daily_minute;  /* default daily at 08:00 local time */
	unsigned every_hours;
	int alert_on_new_bucket;       /* "alert_on_new_bucket": true */
	unsigned alert_min_interval_minutes; /* "alert_min_interval_minutes": 60 */
	size_t max_message_bytes;      /* "max_message_bytes": 5 MiB */
	int skip_empty_digest;         /* "skip_empty_digest": false */
	unsigned connect_timeout_s;    /* "connect_timeout_s": 15 */
	unsigned timeout_s;            /* "timeout_s": 120, the whole SMTP session */
	/* Pump state, not config: a fingerprint of the credentials that the server last refused (0: none).
	 * Delivery stays paused while the server, user and password are unchanged. */
	_Atomic uint64_t auth_block;
};

/* Parses and validates the "mail" object. Relative paths are taken relative to base_dir (the config
 * file's folder; NULL: the current folder). A password_file that group or others can read is refused
 * with a message naming the file and its mode. *out is owned by the caller (mail_config_free).
 * DS_EINVAL with e->msg naming the key ("mail.port: ..."), DS_EPERM (password file mode), DS_ENOMEM.
 * Thread-safe. */
int mail_config_parse(const struct cJSON *mail, const char *base_dir, struct mail_config **out,
		      struct ds_err *e);
void mail_config_free(struct mail_config *c);

/* Reads the password (password_file, trailing newline removed, or password_env) into a malloc'd
 * string the caller wipes and frees with mail_password_free. *pw is NULL when no username is set.
 * DS_EPERM (file readable by others: the message names the file and mode), DS_ENOENT (file or
 * variable missing), DS_EIO. Thread-safe. */
int mail_password(const struct mail_config *c, char **pw, struct ds_err *e);
void mail_password_free(char *pw);

/* ---- outbox ---- */

struct mail_compose {
	int kind;                /* enum store_mail_kind */
	const char *dedupe_key;  /* NULL: none */
	const char *subject;     /* without the prefix; UTF-8, may hold anything (it is sanitised) */
	const char *text;        /* rendered text report (UTF-8) */
	size_t text_len;
	const char *html;        /* rendered HTML report, NULL for text only */
	size_t html_len;
	int64_t bucket_id;       /* alerts: the new bucket; 0: none */
};

/* Builds the message (Date = now, a Message-ID from the database's mail sequence and random token
 * and the From domain) and writes it to the outbox, due at once, in one transaction; it is delivered by
 * mail_outbox_pump (service/smtp.h). *id and *existed (a row with the same dedupe_key was already there: nothing new
 * written) may be NULL. Errors as the store's, and mime_build's. Same thread rules as the store. */
int mail_enqueue(struct store *st, const struct mail_config *c, const struct mail_compose *m, int64_t now,
		 int64_t *id, int *existed, struct ds_err *e);

/* The mail's own state, integers kept as text in the store's key-value table ("mail.seq",
 * "mail.last_digest_at", "mail.last_alert_at", the mailer's alert watermark). get: *v = 0 and *found = 0
 * when the key is absent or does not hold a whole integer (cursor_parse_int); found may be NULL. set:
 * writes v at now. Errors as the store's; the caller's transaction applies. Same thread rules as the
 * store. */
int mail_state_get(struct store *st, const char *key, int64_t *v, int *found, struct ds_err *e);
int mail_state_set(struct store *st, const char *key, int64_t v, int64_t now, struct ds_err *e);

/* Backoff after `attempts` failed attempts, in ms (60 s, 120 s, ... capped at 1 h). Thread-safe. */
int64_t mail_backoff_ms(int attempts);

/* ---- schedule ---- */

/* When the next digest is due (ms since the epoch): the first daily HH:MM local time after
 * last_digest (or every_hours after it). With no digest yet (last_digest <= 0) the schedule starts at
 * now. A result <= now means due now. Thread-safe. */
int64_t mail_next_digest_at(const struct mail_config *c, int64_t last_digest, int64_t now);

/* Alert rate limit: 1 if an alert may be sent at now given the last one (<= 0: never), else 0 with
 * *next (may be NULL) set to when it may. 0 (and *next = 0) when alerts are off. Thread-safe. */
int mail_alert_allowed(const struct mail_config *c, int64_t last_alert, int64_t now, int64_t *next);

/* The service's digest step: reads "mail.last_digest_at" from the store and, when the digest is due,
 * writes *due = 1 and the time its window starts (*since: the last digest, or 0). The caller renders the
 * report for [since, now) and calls mail_digest_enqueue. */
int mail_digest_due(struct store *st, const struct mail_config *c, int64_t now, int *due, int64_t *since,
		    struct ds_err *e);
/* Enqueues the digest (dedupe_key from the schedule slot, so a crash and restart cannot queue the same
 * digest twice) and records the digest time, in one transaction. When empty is set and
 * skip_empty_digest is on, only the time is recorded (*id = 0). */
int mail_digest_enqueue(struct store *st, const struct mail_config *c, const char *subject, const char *text,
			size_t text_len, const char *html, size_t html_len, int empty, int64_t now, int64_t *id,
			struct ds_err *e);
/* The service's alert step: whether an alert may go now (alert_on_new_bucket and the rate limit, from
 * "mail.last_alert_at"), *since = the last alert time (new buckets after it belong in this alert). */
int mail_alert_due(struct store *st, const struct mail_config *c, int64_t now, int *allowed, int64_t *since,
		   struct ds_err *e);
/* Enqueues an alert about bucket_id (dedupe "alert:bucket:ID") and records the alert time. */
int mail_alert_enqueue(struct store *st, const struct mail_config *c, int64_t bucket_id, const char *subject,
		       const char *text, size_t text_len, const char *html, size_t html_len, int64_t now,
		       int64_t *id, struct ds_err *e);

/* Overwrites n bytes with zeros in a way the compiler keeps (passwords). Internal to mail.c and smtp.c. */
void mail_wipe(char *p, size_t n);

#endif
