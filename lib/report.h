/* report.h - the summary report of `dumpscout report` and the mail digest: a model built from the
 * store (totals, new buckets, buckets that grew, top culprits with the catalogue's advice, counts per
 * application, a per-day series) and three renderers: plain text, one self-contained HTML page (inline
 * CSS, no scripts, no external resources, charts as HTML/CSS bars; every database string escaped), and
 * the model itself as JSON. It does not send mail or choose the time range. */
#ifndef DS_CLI_REPORT_H
#define DS_CLI_REPORT_H

#include <stddef.h>
#include <stdint.h>

#include "core/ds.h"

struct cJSON;
struct store;

/* Rendered reports are capped (a mail must stay small): DS_ETOOBIG past this. */
#define REPORT_MAX_BYTES (4u * 1024 * 1024)
/* Rows in the new / grown / top lists. */
#define REPORT_TOP 10
/* Days filled with zeros for the chart when the range is at most this long. */
#define REPORT_MAX_DAYS 92

/* Builds the model for dumps discovered in [since, until) (until > since; now for the usual report).
 * Growth compares each bucket's dumps in the range with the equally long range just before it. *out is
 * owned by the caller (cJSON_Delete). Layout (documented in docs/cli.md):
 *   {"since", "until", "generated_at", "totals": {dumps, leaks, apps, new_buckets, grown_buckets,
 *    by_state{...}}, "new_buckets": [...], "grown_buckets": [...], "top_buckets": [...],
 *    "top_culprits": [...], "apps": [{app, count, leaks}], "days": [{day, count, leaks}]}
 * Errors: the store's (e filled). Same thread rules as the store. */
int report_build(struct store *s, int64_t since, int64_t until, int64_t now, struct cJSON **out,
		 struct ds_err *e);

/* The same from the three results a store gives (store_report, store_bucket_counts for the equally
 * long range before since, store_roots_list since `since`), which it takes over (freed in every case):
 * the fleet builds its report from the central database's results of the same shapes. */
int report_build_from(struct cJSON *rep, struct cJSON *prev, struct cJSON *roots, int64_t since, int64_t until,
		      int64_t now, struct cJSON **out, struct ds_err *e);
/* 1 when the report has no dumps at all (the digest says so in one line). */
int report_is_empty(const struct cJSON *r);

/* The subject line of a digest for the report (malloc'd, caller frees; NULL on OOM). */
char *report_subject(const struct cJSON *r);

/* Renders the model. *out is malloc'd (caller frees), NUL-terminated, *len its length (may be NULL).
 * DS_ENOMEM, DS_ETOOBIG (over REPORT_MAX_BYTES). Thread-safe (reads only r). */
int report_render_text(const struct cJSON *r, char **out, size_t *len);
int report_render_html(const struct cJSON *r, char **out, size_t *len);

/* Appends s to b with the five HTML special characters escaped (& < > " ') and control characters
 * other than tab/newline dropped. Exposed for tests. Thread-safe. */
struct buf;
int report_html_escape(struct buf *b, const char *s);

#endif
