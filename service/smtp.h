/* smtp.h - mail delivery, in dumpscoutd only (the one part that links libcurl): sending one message over
 * SMTP as the "mail" section says, and pumping the outbox that lib/mail.c fills. Composition, the
 * config and the schedule are lib/mail.h's. It never puts a password or a body in a log or a result. */
#ifndef DS_SMTP_H
#define DS_SMTP_H

#include <stddef.h>
#include <stdint.h>

#include "core/ds.h"
#include "lib/mail.h"

struct store;

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

#endif
