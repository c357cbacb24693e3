/* store_share.h - the SQLite side of the fleet's dump share (fleet.dump_share, docs/fleet.md): the list of
 * the files this service wrote there or means to (share_files: 'pending', 'copied' or 'failed'; a copy's
 * path is published in its dump's snapshot), from which copies are made and retried and old copies
 * expire. Only files in that list are ever deleted from the share. The SQL is in store_share.c.
 *
 * Conventions are store.h's: DS_OK or a negative DS_E... code with e filled; one thread per store.
 */
#ifndef DS_STORE_SHARE_H
#define DS_STORE_SHARE_H

#include <stddef.h>
#include <stdint.h>

#include "ds.h"

struct cJSON;
struct store;

/* Records that dump_id's copy is wanted (a 'pending' row), unless the dump has a row already (a copy,
 * or one waiting or failed). Called by store_record_triage inside its transaction (it opens none), so a
 * dump triaged is a dump whose copy will be made even if the service dies before copying it. */
int store_share_want(struct store *s, int64_t dump_id, int64_t now, struct ds_err *e);

/* Records dump_id's copy at path (then its snapshots name it and, when the dump was already published,
 * a new snapshot is queued for the fleet), or with path NULL a failed attempt and its error (the row is
 * then 'failed', its attempts counted for the backoff). A failure after an earlier copy leaves that copy
 * recorded. Own transaction. */
int store_share_record(struct store *s, int64_t dump_id, const char *path, const char *error, int64_t now,
		       struct ds_err *e);

/* *yes 1 when dump_id has a copy on the share already (a new triage of it then makes none). */
int store_share_has_copy(struct store *s, int64_t dump_id, int *yes, struct ds_err *e);

/* One file on the share due for deletion (or one dump due for a copy). Strings owned (store_share_items_free). */
struct store_share_item {
	int64_t dump_id;
	char *path;            /* the copy (expired), or the local dump (to copy) */
	char *file_id;         /* the local dump's identity (plat_file_id_format), to copy; "" when expired */
	int64_t discovered_at; /* the local dump's discovery (ms), to copy */
};
void store_share_items_free(struct store_share_item *items, size_t n);

/* Copies written before `before` (ms), oldest first, at most max. */
int store_share_expired(struct store *s, int64_t before, size_t max, struct store_share_item **items, size_t *n,
			struct ds_err *e);
/* Dumps due for a copy at now, whose local file is still there and has a recorded identity, at most max,
 * oldest wish first: 'pending' ones (never finished) at once, 'failed' ones once retry_ms * 2^(attempts-1)
 * (at most a day) has passed since their last attempt. */
int store_share_due(struct store *s, int64_t now, int64_t retry_ms, size_t max, struct store_share_item **items,
		    size_t *n, struct ds_err *e);
/* Forgets the copies wanted (pending or failed, never made) of dumps whose local file retention deleted
 * meanwhile: there is nothing left to copy. *n (may be NULL) gets how many. */
int store_share_drop_gone(struct store *s, int64_t *n, struct ds_err *e);
/* After the copy of dump_id was deleted from the share: forgets it (its share_files row)
 * and queues a snapshot so the central row stops naming it. Own transaction. */
int store_share_forget(struct store *s, int64_t dump_id, int64_t now, struct ds_err *e);

/* {"copied": N, "pending": N, "failed": N, "last_error": "..."|null} for `status` (pending: wanted, not
 * copied yet, not failed either: under way, or cut short by a stop or a crash). *out owned (cJSON_Delete). */
int store_share_status(struct store *s, struct cJSON **out, struct ds_err *e);

#endif
