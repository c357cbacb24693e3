/* retention.c - applies the raw-file quotas: plans from the store's list of present files (oldest
 * first, with the "still queued" and "newest of a bucket" flags the store computes), then removes the
 * files through the platform layer and marks their rows. Rows, triage and analyses are never removed;
 * only files triage recognised as dumps are listed, and each is unlinked only if it still has the
 * identity recorded then (plat_unlink_verified). */
#include "retention.h"

#include "core/log.h"
#include "core/plat.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

size_t retention_plan(const struct store_raw *raw, size_t n, const struct retention_quota *q, int64_t now_ms,
		      int *reasons)
{
	uint64_t count = n, bytes = 0;
	int64_t cutoff = q->max_age_days ? now_ms - (int64_t)q->max_age_days * 86400000LL : INT64_MIN;
	size_t i, gone = 0;

	for (i = 0; i < n; i++)
		bytes += raw[i].size;
	for (i = 0; i < n; i++) {
		reasons[i] = 0;
		if (raw[i].pending || raw[i].keep)
			continue;
		if (raw[i].discovered_at < cutoff)
			reasons[i] |= RETENTION_AGE;
		if (q->max_count && count > q->max_count)
			reasons[i] |= RETENTION_COUNT;
		if (q->max_bytes && bytes > q->max_bytes)
			reasons[i] |= RETENTION_BYTES;
		if (reasons[i]) {
			count--;
			bytes -= raw[i].size;
			gone++;
		}
	}
	return gone;
}

static const char *retention_why(int r)
{
	if (r & RETENTION_AGE)
		return "older than the age limit";
	if (r & RETENTION_COUNT)
		return "over the count quota";
	return "over the size quota";
}

int retention_run(struct store *st, const struct retention_quota *q, int64_t now_ms, int dry_run,
		  struct retention_report *rep, struct ds_err *e)
{
	struct store_raw *raw = NULL;
	struct plat_file_id id;
	char report[4200];
	int *reasons = NULL;
	size_t n = 0, i;
	int rc;

	memset(rep, 0, sizeof(*rep));
	rc = store_retention_list(st, &raw, &n, e);
	if (rc != DS_OK)
		goto out;
	rep->files_before = n;
	for (i = 0; i < n; i++)
		rep->bytes_before += raw[i].size;
	reasons = calloc(n ? n : 1, sizeof(*reasons));
	if (reasons == NULL) {
		rc = ds_err_setn(e, DS_ENOMEM, "out of memory");
		goto out;
	}
	if (retention_plan(raw, n, q, now_ms, reasons) == 0)
		goto out;
	for (i = 0; i < n; i++) {
		if (!reasons[i])
			continue;
		if (dry_run) {
			rep->deleted++;
			rep->bytes_deleted += raw[i].size;
			continue;
		}
		/* Only a file triage recognised as a dump, and only if it is still that file: a dump
		 * rewritten or swapped for a link since is left alone (the watcher sees it as new). */
		if (plat_file_id_parse(raw[i].file_id, &id) != DS_OK) {
			rep->errors++;
			continue;
		}
		rc = plat_unlink_verified(raw[i].path, &id);
		if (rc != DS_OK && rc != DS_ENOENT) {
			log_warn("retention", "not deleting %s: %s", raw[i].path, ds_strerror(rc));
			rep->errors++;
			continue;
		}
		if (snprintf(report, sizeof(report), "%s.crashreport.json", raw[i].path) < (int)sizeof(report))
			(void)plat_unlink(report);
		rc = store_dump_mark_deleted(st, raw[i].id, now_ms, e);
		if (rc != DS_OK)
			goto out;
		rep->deleted++;
		rep->bytes_deleted += raw[i].size;
		log_info("retention", "deleted dump %lld's file %s (%llu bytes): %s; its row stays",
			 (long long)raw[i].id, raw[i].path, (unsigned long long)raw[i].size, retention_why(reasons[i]));
	}
	rc = DS_OK;
out:
	free(reasons);
	store_raw_free(raw, n);
	return rc;
}
