/* alert.h - the body of the service's new-bucket alert mail: a subject, a text part and an HTML part
 * listing the crash buckets and root signatures that appeared since the last alert. It renders only:
 * when to alert is mailer.c's (with mail.c's rate limit), delivery is mail.c's, and the scheduled
 * digest is the report's (lib/report.h). Bucket, kind and application names only; no heap contents
 * (the store holds none). */
#ifndef DS_ALERT_H
#define DS_ALERT_H

#include <stddef.h>
#include <stdint.h>

#include "core/ds.h"

struct cJSON;

/* Cap on one rendered part (the mailer cuts a message to max_message_bytes anyway). */
#define ALERT_MAX_PART (1024u * 1024)
/* Buckets listed by name in one alert; more are counted. */
#define ALERT_MAX_LISTED 50

struct alert_msg {
	char *subject;  /* without the configured prefix; owned */
	char *text;     /* UTF-8 text part; owned */
	size_t text_len;
	char *html;     /* HTML part; owned */
	size_t html_len;
};

/* Renders an alert about new buckets: `buckets` is an array of bucket objects as store_bucket_list
 * returns them (id, kind, key, title, first_seen, count, apps...), oldest first; it is borrowed. host
 * names the machine (NULL: "this machine"). *out is owned by the caller (alert_msg_clear), zeroed on
 * error. Errors: DS_EINVAL (empty array), DS_ENOMEM, DS_ETOOBIG. Thread-safe. */
int alert_render(const struct cJSON *buckets, const char *host, struct alert_msg *out, struct ds_err *e);

/* Frees what m owns and zeroes it. NULL-safe. */
void alert_msg_clear(struct alert_msg *m);

#endif
