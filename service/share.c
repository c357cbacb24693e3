/* share.c - the round over the dump share (see share.h). The first copy of each dump is made by the
 * triage worker from its open file (worker.c); here only the retries, which open the local dump again
 * with its recorded identity (plat_file_open_verified: a file swapped at that path is not copied), and
 * the share's own retention. */
#include "share.h"
#include "worker.h"

#include "core/log.h"
#include "core/plat.h"
#include "core/store_share.h"
#include "lib/fleet_config.h"

#include <stdio.h>

static void share_retry(struct store *st, const struct fleet_config *fc, const char *host,
			const struct store_share_item *it, int64_t now)
{
	struct plat_file_id id;
	struct plat_file *f = NULL;
	struct ds_err e = { 0 };
	char dir[256], name[256], path[1400], why[300];
	int rc;

	rc = plat_file_id_parse(it->file_id, &id);
	if (rc == DS_OK)
		rc = plat_file_open_verified(it->path, &id, &f);
	if (rc == DS_OK) {
		worker_share_names(host, it->dump_id, it->path, now, dir, sizeof(dir), name, sizeof(name));
		rc = plat_file_copy_atomic(f, fc->dump_share, dir, name);
	}
	plat_file_close(f);
	if (rc == DS_OK) {
		snprintf(path, sizeof(path), "%s/%s/%s", fc->dump_share, dir, name);
		log_info("share", "dump %lld copied to %s", (long long)it->dump_id, path);
	} else {
		snprintf(why, sizeof(why), "cannot copy to %s: %s", fc->dump_share, ds_strerror(rc));
		log_warn("share", "dump %lld: %s (tried again later)", (long long)it->dump_id, why);
	}
	if (store_share_record(st, it->dump_id, rc == DS_OK ? path : NULL, rc == DS_OK ? NULL : why, now, &e) != DS_OK)
		log_error("share", "dump %lld: %s", (long long)it->dump_id, e.msg);
}

void share_round(struct store *st, const struct fleet_config *fc, const char *host, int64_t now)
{
	struct store_share_item *items = NULL;
	struct ds_err e = { 0 };
	size_t n = 0, i, gone = 0;
	int rc;

	if (fc == NULL || fc->dump_share == NULL)
		return;
	if (store_share_failed(st, now - SHARE_RETRY_AFTER_MS, SHARE_RETRY_MAX, &items, &n, &e) != DS_OK)
		log_error("share", "%s", e.msg);
	for (i = 0; i < n; i++)
		share_retry(st, fc, host, &items[i], now);
	store_share_items_free(items, n);
	items = NULL;
	n = 0;
	if (fc->dump_share_days == 0)
		return;
	if (store_share_expired(st, now - (int64_t)fc->dump_share_days * 86400000, SHARE_EXPIRE_MAX, &items, &n, &e) !=
	    DS_OK)
		log_error("share", "%s", e.msg);
	for (i = 0; i < n; i++) {
		rc = plat_unlink(items[i].path);
		if (rc != DS_OK && rc != DS_ENOENT) {
			log_warn("share", "cannot delete %s: %s", items[i].path, ds_strerror(rc));
			continue;
		}
		if (store_share_forget(st, items[i].dump_id, now, &e) != DS_OK)
			log_error("share", "%s", e.msg);
		else
			gone++;
	}
	if (gone > 0)
		log_info("share", "%zu copy(ies) older than %u day(s) deleted from %s", gone, fc->dump_share_days,
			 fc->dump_share);
	store_share_items_free(items, n);
}
