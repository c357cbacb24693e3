/* watcher.c - the dump folders' watcher: per folder a libuv fs-event handle and a table of the names
 * seen there (pending, taken or ignored), one timer for the stability window of all pending files and
 * one for the periodic rescan. Files are looked at with lstat only (never followed, never read) until
 * they are judged complete; then opened once to prove they can be. Not the queue: it only reports. */
#include "watcher.h"

#include "core/log.h"

#include <stdlib.h>
#include <string.h>

#define WATCHER_MAX_NAMES 1000000u
#define WATCHER_PATH_MAX 4096
#define WATCHER_REPORT_SUFFIX ".crashreport.json"

enum watcher_state { WS_PENDING, WS_TAKEN, WS_IDLE };

struct watcher_entry {
	struct watcher_entry *next;  /* hash chain */
	char *name;
	uint64_t hash;
	struct watcher_obs obs;
	enum watcher_state state;
	uint64_t due_ns;             /* WS_PENDING: when to look again */
	uint32_t gen;                /* last listing that saw it */
};

struct watcher_dir {
	struct watcher *w;
	char *path;
	uv_fs_event_t ev;
	int ev_started;
	struct watcher_entry **tab;
	size_t nbuckets, count, pending;
	uint64_t listing_hash;       /* sum of per-name hashes of the last listing */
	size_t listing_count;
	uint32_t gen;
};

struct watcher {
	uv_loop_t *loop;
	struct watcher_dir *dirs;
	size_t ndirs;
	uint64_t window_ns;
	uint32_t rescan_s;
	watcher_ready_fn ready;
	void *ctx;
	uv_timer_t tick;             /* the next pending file's due time */
	uv_timer_t rescan;
	uint64_t tick_due_ns;        /* 0 when not armed */
	int closing;
	int open_handles;
	struct watcher_stats st;
};

static uint64_t watcher_hash(const char *s)
{
	uint64_t h = 1469598103934665603ULL;

	for (; *s != '\0'; s++) {
		h ^= (unsigned char)*s;
		h *= 1099511628211ULL;
	}
	return h;
}

static int watcher_ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	return n >= m && strcmp(s + n - m, suffix) == 0;
}

int watcher_report_base(const char *name, char *base, size_t cap)
{
	size_t n = strlen(name), m = sizeof(WATCHER_REPORT_SUFFIX) - 1;

	if (n <= m || strcmp(name + n - m, WATCHER_REPORT_SUFFIX) != 0 || n - m >= cap)
		return 0;
	memcpy(base, name, n - m);
	base[n - m] = '\0';
	return 1;
}

int watcher_name_ignored(const char *name)
{
	static const char *const temp[] = { ".tmp", ".temp", ".part", ".partial", ".swp", "~", ".crdownload",
					    WATCHER_REPORT_SUFFIX };
	const char *p;
	size_t i;

	if (name[0] == '\0' || name[0] == '.')
		return 1;
	/* A name with control characters is recorded like any other (issue 12 item 7: such dumps were
	 * silently never seen); everything that shows it goes through the one sanitiser. */
	for (p = name; *p != '\0'; p++)
		if (*p == '/')
			return 1;
	for (i = 0; i < DS_ARRAY_LEN(temp); i++)
		if (watcher_ends_with(name, temp[i]))
			return 1;
	/* plat_write_file_atomic and similar tools write NAME.tmp.PID before renaming */
	return strstr(name, ".tmp.") != NULL;
}

enum watcher_verdict watcher_judge(struct watcher_obs *obs, int lstat_rc, const struct plat_stat *st,
				   int has_report, uint64_t now_ns, uint64_t window_ns)
{
	if (lstat_rc == DS_ENOENT) {
		obs->known = 0;
		return WATCHER_GONE;
	}
	if (lstat_rc != DS_OK) {
		/* e.g. permission denied for a moment: keep the old look and try again later */
		if (!obs->known) {
			obs->known = 1;
			obs->size = UINT64_MAX;
			obs->mtime_ns = INT64_MIN;
			obs->since_ns = now_ns;
		}
		return WATCHER_WAIT;
	}
	if (st->is_symlink || !st->is_regular)
		return WATCHER_IGNORE;
	if (!obs->known || obs->size != st->size || obs->mtime_ns != st->mtime_ns) {
		obs->known = 1;
		obs->size = st->size;
		obs->mtime_ns = st->mtime_ns;
		obs->since_ns = now_ns;
		if (st->size == 0)
			return WATCHER_EMPTY;
		return window_ns == 0 ? WATCHER_STABLE : WATCHER_WAIT;
	}
	if (st->size == 0)
		return WATCHER_EMPTY;
	/* A crash report beside the dump does not shorten the window: createdump writes NAME.crashreport.json
	 * BEFORE the dump itself (seen with .NET 10: the report is complete while the dump is still
	 * growing), so taking the dump at the report's sight took it half-written. */
	(void)has_report;
	if (now_ns - obs->since_ns >= window_ns)
		return WATCHER_STABLE;
	return WATCHER_WAIT;
}

/* ---- the name table of one folder ---- */

static struct watcher_entry *watcher_find(struct watcher_dir *d, const char *name, uint64_t h)
{
	struct watcher_entry *e;

	if (d->nbuckets == 0)
		return NULL;
	for (e = d->tab[h & (d->nbuckets - 1)]; e != NULL; e = e->next)
		if (e->hash == h && strcmp(e->name, name) == 0)
			return e;
	return NULL;
}

static int watcher_grow(struct watcher_dir *d)
{
	size_t nb = d->nbuckets ? d->nbuckets * 2 : 256, i;
	struct watcher_entry **tab, *e, *next;

	tab = calloc(nb, sizeof(*tab));
	if (tab == NULL)
		return DS_ENOMEM;
	for (i = 0; i < d->nbuckets; i++) {
		for (e = d->tab[i]; e != NULL; e = next) {
			next = e->next;
			e->next = tab[e->hash & (nb - 1)];
			tab[e->hash & (nb - 1)] = e;
		}
	}
	free(d->tab);
	d->tab = tab;
	d->nbuckets = nb;
	return DS_OK;
}

static struct watcher_entry *watcher_add(struct watcher_dir *d, const char *name, uint64_t h)
{
	struct watcher_entry *e;

	if (d->count >= WATCHER_MAX_NAMES)
		return NULL;
	if (d->count >= d->nbuckets && watcher_grow(d) != DS_OK)
		return NULL;
	e = calloc(1, sizeof(*e));
	if (e == NULL)
		return NULL;
	e->name = strdup(name);
	if (e->name == NULL) {
		free(e);
		return NULL;
	}
	e->hash = h;
	e->state = WS_IDLE;
	e->next = d->tab[h & (d->nbuckets - 1)];
	d->tab[h & (d->nbuckets - 1)] = e;
	d->count++;
	return e;
}

static void watcher_remove(struct watcher_dir *d, struct watcher_entry *victim)
{
	struct watcher_entry **pp = &d->tab[victim->hash & (d->nbuckets - 1)];

	while (*pp != NULL && *pp != victim)
		pp = &(*pp)->next;
	if (*pp == NULL)
		return;
	*pp = victim->next;
	if (victim->state == WS_PENDING)
		d->pending--;
	d->count--;
	free(victim->name);
	free(victim);
}

static void watcher_set_state(struct watcher_dir *d, struct watcher_entry *e, enum watcher_state s)
{
	if (e->state == WS_PENDING)
		d->pending--;
	if (s == WS_PENDING)
		d->pending++;
	e->state = s;
}

/* ---- looking at files ---- */

static void watcher_arm(struct watcher *w, uint64_t due_ns);

static int watcher_path(const struct watcher_dir *d, const char *name, const char *suffix, char *out)
{
	int n = snprintf(out, WATCHER_PATH_MAX, "%s/%s%s", d->path, name, suffix);

	return n > 0 && n < WATCHER_PATH_MAX;
}

/* Looks at one name of folder d now and acts on the verdict. */
static void watcher_consider(struct watcher_dir *d, const char *name)
{
	struct watcher *w = d->w;
	char path[WATCHER_PATH_MAX], rpath[WATCHER_PATH_MAX], base[WATCHER_PATH_MAX];
	struct watcher_entry *e;
	struct watcher_ready r;
	struct plat_stat st = { 0 }, rst = { 0 };
	struct plat_file *f = NULL;
	enum watcher_verdict v;
	uint64_t h, now;
	int rc, has_report;

	if (w->closing)
		return;
	if (watcher_name_ignored(name)) {
		/* A crash report completes the dump it is named after, if we are waiting for it. */
		if (watcher_report_base(name, base, sizeof(base)) && !watcher_name_ignored(base)) {
			e = watcher_find(d, base, watcher_hash(base));
			if (e == NULL || e->state != WS_TAKEN)
				watcher_consider(d, base);
		}
		return;
	}
	if (!watcher_path(d, name, "", path) || !watcher_path(d, name, WATCHER_REPORT_SUFFIX, rpath)) {
		log_warn("watcher", "%s: a name in it is too long; skipped", d->path);
		return;
	}
	h = watcher_hash(name);
	e = watcher_find(d, name, h);
	rc = plat_lstat(path, &st);
	if (e == NULL) {
		if (rc == DS_ENOENT)
			return;
		e = watcher_add(d, name, h);
		if (e == NULL) {
			log_error("watcher", "%s: cannot track more names (out of memory or over %u)", d->path,
				  WATCHER_MAX_NAMES);
			return;
		}
	}
	if (e->state == WS_TAKEN && rc == DS_OK && st.size == e->obs.size && st.mtime_ns == e->obs.mtime_ns)
		return; /* already reported, unchanged: the common case of repeated events and rescans */
	has_report = rc == DS_OK && plat_lstat(rpath, &rst) == DS_OK && rst.is_regular && !rst.is_symlink;
	now = plat_mono_ns();
	if (e->state == WS_TAKEN)
		e->obs.known = 0; /* replaced or rewritten since it was reported: start over */
	v = watcher_judge(&e->obs, rc, &st, has_report, now, w->window_ns);
	switch (v) {
	case WATCHER_GONE:
		watcher_remove(d, e);
		return;
	case WATCHER_IGNORE:
		if (e->state != WS_IDLE || e->obs.known == 0) {
			w->st.ignored++;
			log_debug("watcher", "%s: not a regular file (symlink, folder or device): ignored", path);
		}
		e->obs.known = 1;
		watcher_set_state(d, e, WS_IDLE);
		return;
	case WATCHER_EMPTY:
		watcher_set_state(d, e, WS_IDLE);
		return;
	case WATCHER_WAIT:
		watcher_set_state(d, e, WS_PENDING);
		e->due_ns = e->obs.since_ns + (w->window_ns ? w->window_ns : 1000000);
		if (e->due_ns <= now)
			e->due_ns = now + w->window_ns;
		watcher_arm(w, e->due_ns);
		return;
	case WATCHER_STABLE:
		break;
	}
	/* Complete by size and time; it must also open (a writer may still hold it exclusively). */
	rc = plat_file_open(path, &f);
	if (rc != DS_OK) {
		log_debug("watcher", "%s: stable but cannot be opened yet (%s)", path, ds_strerror(rc));
		watcher_set_state(d, e, WS_PENDING);
		e->obs.since_ns = now;
		e->due_ns = now + (w->window_ns ? w->window_ns : 1000000000ULL);
		watcher_arm(w, e->due_ns);
		return;
	}
	plat_file_close(f);
	watcher_set_state(d, e, WS_TAKEN);
	w->st.ready++;
	r.dir = d->path;
	r.name = e->name;
	r.path = path;
	r.size = e->obs.size;
	r.mtime_ns = e->obs.mtime_ns;
	r.by_report = has_report;
	r.stable_ns = now;
	w->ready(w->ctx, &r);
}

static void watcher_on_tick(uv_timer_t *t)
{
	struct watcher *w = t->data;
	struct watcher_entry *e, *next;
	uint64_t now = plat_mono_ns(), slack = 5000000; /* look at files due within 5 ms together */
	size_t i, b;

	w->tick_due_ns = 0;
	for (i = 0; i < w->ndirs; i++) {
		struct watcher_dir *d = &w->dirs[i];
		for (b = 0; d->pending > 0 && b < d->nbuckets; b++) {
			for (e = d->tab[b]; e != NULL; e = next) {
				next = e->next; /* consider() may remove e */
				if (e->state == WS_PENDING && e->due_ns <= now + slack)
					watcher_consider(d, e->name);
			}
		}
	}
	/* Re-arm for whatever is still pending (consider() armed new due times already). */
	for (i = 0; i < w->ndirs; i++) {
		struct watcher_dir *d = &w->dirs[i];
		for (b = 0; d->pending > 0 && b < d->nbuckets; b++)
			for (e = d->tab[b]; e != NULL; e = e->next)
				if (e->state == WS_PENDING)
					watcher_arm(w, e->due_ns);
	}
}

static void watcher_arm(struct watcher *w, uint64_t due_ns)
{
	uint64_t now = plat_mono_ns(), ms;

	if (w->closing || (w->tick_due_ns != 0 && w->tick_due_ns <= due_ns))
		return;
	w->tick_due_ns = due_ns;
	ms = due_ns > now ? (due_ns - now + 999999) / 1000000 : 0;
	uv_timer_start(&w->tick, watcher_on_tick, ms, 0);
}

/* Lists folder d: with force = 0, stops early when the listing (names, sizes, mtimes) hashes the same
 * as last time and nothing is pending, which is the idle case. */
static void watcher_scan_dir(struct watcher_dir *d, int force)
{
	struct watcher *w = d->w;
	char path[WATCHER_PATH_MAX], **names = NULL;
	struct watcher_entry *e, *next;
	struct plat_stat st;
	uint64_t sum = 0, h;
	size_t n = 0, i, b;
	int rc;

	rc = plat_dir_list(d->path, WATCHER_MAX_NAMES, &names, &n);
	if (rc != DS_OK) {
		log_error("watcher", "cannot list %s: %s", d->path, ds_strerror(rc));
		return;
	}
	for (i = 0; i < n; i++) {
		h = watcher_hash(names[i]);
		if (watcher_path(d, names[i], "", path) && plat_lstat(path, &st) == DS_OK)
			h ^= (st.size * 0x9E3779B97F4A7C15ULL) ^ ((uint64_t)st.mtime_ns * 0xC2B2AE3D27D4EB4FULL);
		sum += h * 0xff51afd7ed558ccdULL + (h >> 29);
	}
	if (!force && d->pending == 0 && sum == d->listing_hash && n == d->listing_count) {
		w->st.scans_skipped++;
		goto out;
	}
	w->st.scans++;
	d->listing_hash = sum;
	d->listing_count = n;
	d->gen++;
	for (i = 0; i < n; i++) {
		if (!watcher_name_ignored(names[i])) {
			watcher_consider(d, names[i]);
			e = watcher_find(d, names[i], watcher_hash(names[i]));
			if (e != NULL)
				e->gen = d->gen;
		}
	}
	/* Names we remember that are no longer listed: forget them. */
	for (b = 0; b < d->nbuckets; b++) {
		for (e = d->tab[b]; e != NULL; e = next) {
			next = e->next;
			if (e->gen != d->gen)
				watcher_remove(d, e);
		}
	}
out:
	plat_dir_list_free(names, n);
}

void watcher_rescan(struct watcher *w, int force)
{
	size_t i;

	for (i = 0; w != NULL && !w->closing && i < w->ndirs; i++)
		watcher_scan_dir(&w->dirs[i], force);
}

static void watcher_on_rescan(uv_timer_t *t)
{
	watcher_rescan(t->data, 0);
}

static void watcher_on_event(uv_fs_event_t *h, const char *filename, int events, int status)
{
	struct watcher_dir *d = h->data;

	(void)events;
	d->w->st.events++;
	if (status < 0) {
		log_warn("watcher", "%s: event error: %s; listing it again", d->path, uv_strerror(status));
		watcher_scan_dir(d, 1);
		return;
	}
	if (filename == NULL) {
		/* the kernel lost events (queue overflow): the listing is the truth */
		watcher_scan_dir(d, 1);
		return;
	}
	watcher_consider(d, filename);
}

int watcher_start(uv_loop_t *loop, char *const *dirs, size_t ndirs, uint32_t stability_ms, uint32_t rescan_s,
		  watcher_ready_fn ready, void *ctx, struct watcher **out, struct ds_err *e)
{
	struct watcher *w;
	size_t i;
	int rc = DS_OK, urc;

	*out = NULL;
	if (ndirs == 0 || ready == NULL)
		return ds_err_setn(e, DS_EINVAL, "no dump folder to watch");
	w = calloc(1, sizeof(*w));
	if (w == NULL)
		return ds_err_setn(e, DS_ENOMEM, "out of memory");
	w->dirs = calloc(ndirs, sizeof(*w->dirs));
	if (w->dirs == NULL) {
		free(w);
		return ds_err_setn(e, DS_ENOMEM, "out of memory");
	}
	w->loop = loop;
	w->window_ns = (uint64_t)stability_ms * 1000000ULL;
	w->rescan_s = rescan_s;
	w->ready = ready;
	w->ctx = ctx;
	uv_timer_init(loop, &w->tick);
	uv_timer_init(loop, &w->rescan);
	w->tick.data = w;
	w->rescan.data = w;
	w->open_handles = 2;
	w->ndirs = ndirs;
	*out = w; /* from here on the caller frees with watcher_close, also on error */
	for (i = 0; i < ndirs; i++) {
		struct watcher_dir *d = &w->dirs[i];
		d->w = w;
		d->path = strdup(dirs[i]);
		if (d->path == NULL) {
			rc = ds_err_setn(e, DS_ENOMEM, "out of memory");
			goto out;
		}
		while (strlen(d->path) > 1 && d->path[strlen(d->path) - 1] == '/')
			d->path[strlen(d->path) - 1] = '\0';
		uv_fs_event_init(loop, &d->ev);
		d->ev.data = d;
		w->open_handles++;
		d->ev_started = 1;
		urc = uv_fs_event_start(&d->ev, watcher_on_event, d->path, 0);
		if (urc != 0) {
			rc = ds_err_setn(e, DS_EIO, "cannot watch %s: %s", d->path, uv_strerror(urc));
			goto out;
		}
	}
	/* Events first, then the listing: a file created in between is seen by one or the other. */
	watcher_rescan(w, 1);
	if (rescan_s > 0)
		uv_timer_start(&w->rescan, watcher_on_rescan, (uint64_t)rescan_s * 1000, (uint64_t)rescan_s * 1000);
out:
	return rc;
}

void watcher_forget(struct watcher *w, const char *path)
{
	size_t i, n;
	struct watcher_entry *e;

	for (i = 0; i < w->ndirs; i++) {
		struct watcher_dir *d = &w->dirs[i];
		n = strlen(d->path);
		if (strncmp(path, d->path, n) != 0 || path[n] != '/')
			continue;
		e = watcher_find(d, path + n + 1, watcher_hash(path + n + 1));
		if (e != NULL)
			watcher_remove(d, e);
	}
}

void watcher_get_stats(const struct watcher *w, struct watcher_stats *st)
{
	size_t i;

	*st = w->st;
	st->pending = 0;
	st->tracked = 0;
	for (i = 0; i < w->ndirs; i++) {
		st->pending += w->dirs[i].pending;
		st->tracked += w->dirs[i].count;
	}
}

static void watcher_free(struct watcher *w)
{
	struct watcher_entry *e, *next;
	size_t i, b;

	for (i = 0; i < w->ndirs; i++) {
		struct watcher_dir *d = &w->dirs[i];
		for (b = 0; b < d->nbuckets; b++) {
			for (e = d->tab[b]; e != NULL; e = next) {
				next = e->next;
				free(e->name);
				free(e);
			}
		}
		free(d->tab);
		free(d->path);
	}
	free(w->dirs);
	free(w);
}

static void watcher_on_closed(uv_handle_t *h)
{
	struct watcher *w = h->data;

	if (h->type == UV_FS_EVENT)
		w = ((struct watcher_dir *)h->data)->w;
	if (--w->open_handles == 0)
		watcher_free(w);
}

void watcher_close(struct watcher *w)
{
	size_t i;

	if (w == NULL || w->closing)
		return;
	w->closing = 1;
	uv_close((uv_handle_t *)&w->tick, watcher_on_closed);
	uv_close((uv_handle_t *)&w->rescan, watcher_on_closed);
	for (i = 0; i < w->ndirs; i++)
		if (w->dirs[i].ev_started)
			uv_close((uv_handle_t *)&w->dirs[i].ev, watcher_on_closed);
}
