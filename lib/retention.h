/* retention.h - quotas on the raw dump files: count, total bytes and age. Deletes raw files oldest
 * first, never a dump still in the queue and never the newest present dump of a bucket; rows and
 * analyses stay (the row is marked deleted). The daemon runs it after new dumps and on a timer;
 * `dumpscout purge` calls the same retention_run. It does not decide when to run. */
#ifndef DS_RETENTION_H
#define DS_RETENTION_H

#include <stddef.h>
#include <stdint.h>

#include "core/ds.h"
#include "core/store.h"

struct retention_quota {
	uint64_t max_count;      /* raw files kept at most (0: no limit) */
	uint64_t max_bytes;      /* their total size (0: no limit) */
	uint32_t max_age_days;   /* older files go (0: no limit) */
};

/* Why a file is deleted (bit set), or 0 when it stays. */
enum { RETENTION_AGE = 1, RETENTION_COUNT = 2, RETENTION_BYTES = 4 };

/* Decides which of the raw files (oldest first, as store_retention_list returns them) go: reasons[i]
 * gets a RETENTION_* mask or 0. Files with pending or keep set always stay, even when the quotas cannot
 * be met without them. Returns how many go. Pure. */
size_t retention_plan(const struct store_raw *raw, size_t n, const struct retention_quota *q, int64_t now_ms,
		      int *reasons);

struct retention_report {
	size_t files_before;
	uint64_t bytes_before;
	size_t deleted;          /* files removed (or that would be, for a dry run) */
	uint64_t bytes_deleted;
	size_t errors;           /* files that could not be removed (left, rows untouched) */
};

/* Applies the quotas: lists the raw files, plans, deletes each chosen file (and the
 * NAME.crashreport.json beside it) and marks its row deleted. dry_run: plans and reports only. A file
 * already gone is marked deleted too. Each deletion is logged at info; the CLI prints from the report.
 * The store is used from the caller's thread. Errors: DS_E... from the store (e has the message). */
int retention_run(struct store *st, const struct retention_quota *q, int64_t now_ms, int dry_run,
		  struct retention_report *rep, struct ds_err *e);

#endif
