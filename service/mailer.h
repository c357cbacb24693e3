/* mailer.h - the service's mail loop: with a "mail" section in the config, it delivers the outbox on a
 * pool thread (mail_outbox_pump with a store connection of its own), queues the digest when the
 * schedule says so, and queues an alert when a new crash bucket or root signature appears (rate
 * limited by mail.c's alert rules). Everything runs from timers on the daemon's loop; the message
 * bodies come from digest.c and the delivery rules from mail.c. It never sees or logs the password. */
#ifndef DS_MAILER_H
#define DS_MAILER_H

#include <uv.h>

#include "core/ds.h"
#include "lib/config.h"

struct store;
struct mailer;

/* How often the digest schedule is checked, and the longest wait between two delivery rounds (also
 * how soon an edited password file is noticed after an authentication failure). */
#define MAILER_TICK_MS 30000
#define MAILER_POLL_MS 60000
/* New buckets are looked for at most this often while dumps are being recorded. */
#define MAILER_ALERT_THROTTLE_MS 1000
/* The service_kv key holding the highest bucket id already covered by an alert. */
#define MAILER_KV_ALERTED "mail.alerted_bucket_id"

/* Starts the mailer when cfg->mail is set (*out NULL and DS_OK when it is not): uses the section the
 * config parsed (cfg must outlive the mailer), calls mail_global_init, opens its own connection to
 * cfg->db for the delivery thread, records where alerts start (the newest bucket at first start) and
 * starts its timers; a first delivery round runs at once (the outbox the last run left, after the
 * queue's start-up recovery put 'sending' rows back). host names this machine in mail (borrowed for
 * the mailer's life). st is the loop thread's store (borrowed). *out is owned by the caller
 * (mailer_free after the loop has stopped). DS_EIO (libcurl), the store's errors, DS_ENOMEM. Loop
 * thread. */
int mailer_start(uv_loop_t *loop, struct store *st, const struct config *cfg, const char *host,
		 struct mailer **out, struct ds_err *e);

/* Something was recorded (a triage or an analysis): new buckets are looked for soon. NULL-safe.
 * Loop thread. */
void mailer_on_recorded(struct mailer *m);

/* Runs a delivery round now (a message was queued by someone else: the fleet's digest sender).
 * NULL-safe. Loop thread. */
void mailer_poke(struct mailer *m);

/* Stops the timers; on_stopped(ctx) is called from the loop once the handles are closed and no
 * delivery round is running (the round in flight finishes: at most mail.timeout_s). NULL-safe (then
 * nothing is called). Loop thread. */
void mailer_stop(struct mailer *m, void (*on_stopped)(void *ctx), void *ctx);

/* 1 while a delivery round runs on the pool thread. */
int mailer_busy(const struct mailer *m);

/* Frees the mailer after the loop has stopped. When a round is still running (the stop grace ran
 * out), its store and config are left to the process exit instead of being freed under it. NULL-safe. */
void mailer_free(struct mailer *m);

#endif
