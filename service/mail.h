/* mail.h - the mailer: the "mail" section of the config, SMTP delivery with libcurl, the persistent
 * outbox (enqueue, pump with retries and backoff) and the digest/alert schedule. Message building is
 * in mime.h; the report bodies come already rendered (text and HTML) from the report module. It never
 * logs a password or a message body. */
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

/* Call once at program start before any thread sends (libcurl's global init); and at exit. */
int mail_global_init(void);
void mail_global_cleanup(void);

/* ---- delivery ---- */

enum mail_outcome {
	MAIL_SENT = 0,   /* the server accepted the message (250 after DATA) */
	MAIL_TRANSIENT,  /* connection refused, timeout, 4xx: retry later with backoff */
	MAIL_AUTH,       /* the server refused the login (535...): retry only once the credentials change */
	MAIL_CONFIG,     /* TLS, certificate or settings problem: retry only once the config changes */
	MAIL_REJECTED    /* a 5xx answer to the sender, a recipient or the data: this message fails */
};

struct mail_result {
	int outcome;             /* enum mail_outcome */
	long smtp_code;          /* the server's reply code that decided the outcome (0: no reply) */
	char smtp_text[512];     /* that reply's text (control characters replaced) */
	char error[1024];        /* for people: names the server and what failed; "" when sent */
};

/* Sends one message (CRLF lines, as made by mime_build) to the recipients over SMTP, as configured:
 * STARTTLS or TLS required unless security is none, AUTH when a username is set, timeouts. Blocks for
 * up to timeout_s. Never puts the password or the body in res or in a log. Returns DS_OK when sent,
 * else DS_ENET (res->outcome says which kind of failure), DS_EPERM/DS_ENOENT (password unreadable;
 * res->outcome MAIL_CONFIG), DS_ENOMEM. Thread-safe (one libcurl handle per call) after
 * mail_global_init. */
int mail_send(const struct mail_config *c, const char *msg, size_t len, const struct mime_addr *rcpt,
	      size_t nrcpt, struct mail_result *res);

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
 * mail_outbox_pump. *id and *existed (a row with the same dedupe_key was already there: nothing new
 * written) may be NULL. Errors as the store's, and mime_build's. Same thread rules as the store. */
int mail_enqueue(struct store *st, const struct mail_config *c, const struct mail_compose *m, int64_t now,
		 int64_t *id, int *existed, struct ds_err *e);

struct mail_pump_stats {
	int sent, retry, failed;
	int blocked;             /* 1: delivery paused by an authentication or configuration error */
	char last_error[1024];   /* the last delivery error ("" if none) */
};

/* Delivers what is due: claims queued messages one at a time ('sending'), sends each, and marks it
 * sent only after the server accepted it; transient failures go back to 'queued' with exponential
 * backoff (1 min doubling, at most 1 h; failed after MAIL_GIVE_UP_MS), 5xx rejections fail, and an
 * authentication or TLS/config failure pauses delivery until the credentials or config change (the
 * error is written to the service status and the log). Sends at most max_messages (<= 0: 100) per
 * call. Blocking network I/O: call it from a worker thread with its own store, never from the event
 * loop; not reentrant for one mail_config. *stats may be NULL. Returns DS_OK (even when deliveries
 * failed: see stats) or a store error. */
int mail_outbox_pump(struct store *st, struct mail_config *c, int64_t now, int max_messages,
		     struct mail_pump_stats *stats, struct ds_err *e);

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
