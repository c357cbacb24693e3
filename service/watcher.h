/* watcher.h - finds complete dump files in the dump folders: libuv file-system events, a scan at
 * start-up and a periodic rescan that costs one listing and no file reads when nothing changed. A file
 * is reported once it is complete (size and mtime unchanged for the stability window and openable, or
 * a createdump NAME.crashreport.json beside it). It does not know about the store or triage: it calls
 * back with a path and the caller decides. Runs on the loop thread only. */
#ifndef DS_WATCHER_H
#define DS_WATCHER_H

#include <stddef.h>
#include <stdint.h>

#include <uv.h>

#include "core/ds.h"
#include "core/plat.h"

struct watcher;

/* What the watcher hands over for each complete file. Pointers valid during the callback only. */
struct watcher_ready {
	const char *dir;     /* the watched folder */
	const char *name;    /* the file's name in it */
	const char *path;    /* dir/name */
	uint64_t size;
	int64_t mtime_ns;
	int by_report;       /* a .crashreport.json was beside it (it came from createdump); informational */
	uint64_t stable_ns;  /* monotonic time at which the watcher judged it complete */
};

typedef void (*watcher_ready_fn)(void *ctx, const struct watcher_ready *r);

struct watcher_stats {
	uint64_t events;       /* fs events received */
	uint64_t scans;        /* full listings done (start-up, rescans, overflows) */
	uint64_t scans_skipped;/* rescans that found the listing unchanged */
	uint64_t ready;        /* files reported */
	uint64_t ignored;      /* symlinks, folders, devices seen */
	size_t pending;        /* files waiting to become complete */
	size_t tracked;        /* names the watcher remembers */
};

/* Starts watching the folders (which must exist) on loop. Calls ready(ctx, ...) for every complete
 * file, on the loop thread, once per (path, size, mtime). stability_ms 0 takes files at first sight.
 * rescan_s 0 disables the periodic rescan. *out is owned by the caller: watcher_close.
 * DS_ENOMEM, DS_EINVAL, DS_EIO (a folder could not be watched: e->msg names it). */
int watcher_start(uv_loop_t *loop, char *const *dirs, size_t ndirs, uint32_t stability_ms, uint32_t rescan_s,
		  watcher_ready_fn ready, void *ctx, struct watcher **out, struct ds_err *e);

/* Lists every folder again now (e.g. after a restart of the queue). Loop thread only. */
void watcher_rescan(struct watcher *w, int force);

/* Forgets a reported file so that it is reported again when seen (used when the caller could not
 * record it). Loop thread only. */
void watcher_forget(struct watcher *w, const char *path);

void watcher_get_stats(const struct watcher *w, struct watcher_stats *st);

/* Stops events and timers and frees w once libuv has closed its handles (run the loop). NULL-safe. */
void watcher_close(struct watcher *w);

/* ---- the pure parts, exposed for tests ---- */

/* 1 when a name is never a dump: dotfiles, temporary names (*.tmp, *.part, *.partial, *.swp, *~,
 * *.crdownload), createdump's *.crashreport.json and names with control characters. */
int watcher_name_ignored(const char *name);

/* If name is "X.crashreport.json", writes "X" to base (cap bytes) and returns 1; else 0. */
int watcher_report_base(const char *name, char *base, size_t cap);

/* What the watcher remembers of a candidate between looks. */
struct watcher_obs {
	int known;
	uint64_t size;
	int64_t mtime_ns;
	uint64_t since_ns; /* monotonic time at which this size and mtime were first seen */
};

enum watcher_verdict {
	WATCHER_WAIT,   /* not yet: look again at since_ns + window */
	WATCHER_STABLE, /* complete as far as size and time tell: try to open it, then take it */
	WATCHER_EMPTY,  /* zero bytes: not a dump yet; look again on the next event */
	WATCHER_IGNORE, /* not a regular file (symlink, folder, device): never taken */
	WATCHER_GONE,   /* it disappeared */
};

/* Judges one look at a file: lstat_rc/st are the result of plat_lstat on it (not followed),
 * has_report whether NAME.crashreport.json is beside it, which does NOT make it complete (createdump
 * writes the report before the dump): only the stability window does. Updates obs. Pure. */
enum watcher_verdict watcher_judge(struct watcher_obs *obs, int lstat_rc, const struct plat_stat *st,
				   int has_report, uint64_t now_ns, uint64_t window_ns);

#endif
