/* store_share.h - the SQLite side of the fleet's dump share (fleet.dump_share, docs/fleet.md): the list of
 * the files this service wrote there (share_files; a copy's path is published in its dump's snapshot), from which failed copies are retried and old copies expire. Only files in
 * that list are ever deleted from the share. The SQL is in store_share.c.
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

/* Records dump_id's copy at path (then its snapshots name it and, when the dump was already triaged,
 * a new snapshot is queued for the fleet), or with path NULL a failed attempt and its error.
 * A failure after an earlier copy leaves that copy recorded. Own transaction (or a savepoint). */
int store_share_record(struct store *s, int64_t dump_id, const char *path, const char *error, int64_t now,
		       struct ds_err *e);

/* *yes 1 when dump_id has a copy on the share already (a new triage of it then makes none). */
int store_share_has_copy(struct store *s, int64_t dump_id, int *yes, struct ds_err *e);

/* One file on the share due for deletion (or one dump due for a copy). Strings owned (store_share_items_free). */
struct store_share_item {
	int64_t dump_id;
	char *path;    /* the copy (expired), or the local dump (to copy) */
	char *file_id; /* the local dump's identity (plat_file_id_format), to copy */
};
void store_share_items_free(struct store_share_item *items, size_t n);

/* Copies written before `before` (ms), oldest first, at most max. */
int store_share_expired(struct store *s, int64_t before, size_t max, struct store_share_item **items, size_t *n,
			struct ds_err *e);
/* Dumps whose copy failed, last tried before `before`, whose local file is still there; at most max. */
int store_share_failed(struct store *s, int64_t before, size_t max, struct store_share_item **items, size_t *n,
		       struct ds_err *e);
/* After the copy of dump_id was deleted from the share: forgets it (its share_files row)
 * and queues a snapshot so the central row stops naming it. Own transaction. */
int store_share_forget(struct store *s, int64_t dump_id, int64_t now, struct ds_err *e);

/* {"copied": N, "failed": N, "last_error": "..."|null} for `status`. *out owned (cJSON_Delete). */
int store_share_status(struct store *s, struct cJSON **out, struct ds_err *e);

#endif
