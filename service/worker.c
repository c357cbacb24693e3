/* worker.c - the pool-thread side of the service: triage plus content hash of one dump, and the
 * verdict that maps its outcome to a queue state. It never touches the store or the loop; the queue
 * records what it returns. */
#include "worker.h"

#include "core/plat.h"
#include "analyzer/dsrc.h"
#include "core/sha256.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void worker_triage_run(struct worker_triage *w)
{
	uint64_t t0 = plat_mono_ns();
	struct plat_file_id before, after;
	struct plat_file *f = NULL;
	struct dsrc src;
	int rc;

	memset(&w->err, 0, sizeof(w->err));
	w->json = NULL;
	w->sha256[0] = '\0';
	w->file_id[0] = '\0';
	w->hash_rc = DS_EINVAL;
	w->file = NULL;
	triage_init(&w->t);
	/* One open, without following a link and refusing a second hard link (docs/service.md "File
	 * identity"): the triage, the hash and the identity recorded all describe this one file. */
	rc = plat_file_open_ex(w->path, PLAT_OPEN_DUMP, &f);
	if (rc == DS_OK)
		rc = plat_file_identity(f, &before);
	if (rc != DS_OK) {
		w->rc = rc == DS_ELINK ? ds_err_setn(&w->err, rc, "%s", ds_strerror(rc))
				       : ds_err_setn(&w->err, rc, "cannot open: %s", ds_strerror(rc));
		goto out;
	}
	dsrc_init_file(&src, f);
	w->rc = triage_read(&src, &w->t, &w->err);
	dsrc_close(&src);
	if (w->rc == DS_OK)
		w->json = triage_to_json(&w->t, w->path, 0);
	/* The hash of the whole file: identical dumps are analysed once. Read after triage so the
	 * triage's own cost stays independent of the dump's size. */
	if (!w->defer_hash) {
		w->hash_rc = sha256_plat_file(f, w->sha256);
		if (w->hash_rc != DS_OK)
			w->sha256[0] = '\0';
	}
	/* A writer that paused longer than the stability window may still be growing the file: what was
	 * read is not the dump, so neither a triage nor a "corrupt" verdict may stand. */
	if (plat_file_identity(f, &after) == DS_OK && !plat_file_id_same(&before, &after)) {
		if (w->rc == DS_OK)
			triage_free(&w->t);
		free(w->json);
		w->json = NULL;
		w->rc = ds_err_setn(&w->err, DS_EBUSY, "the file was still being written (%llu -> %llu bytes)",
				    (unsigned long long)before.size, (unsigned long long)after.size);
		w->sha256[0] = '\0';
	} else if (w->rc == DS_OK) {
		plat_file_id_format(&before, w->file_id);
		if (w->keep_file) { /* for the copy to the share (service/share.h: who owns it next) */
			w->file = f;
			f = NULL;
		}
	}
out:
	plat_file_close(f);
	w->duration_ns = plat_mono_ns() - t0;
}

void worker_hash_run(struct worker_triage *w)
{
	uint64_t t0 = plat_mono_ns();
	struct plat_file_id id;
	struct plat_file *f = NULL;

	/* The deferred half reopens the file: it must still be the one triage read. */
	w->hash_rc = plat_file_id_parse(w->file_id, &id);
	if (w->hash_rc == DS_OK)
		w->hash_rc = plat_file_open_verified(w->path, &id, &f);
	if (w->hash_rc == DS_OK)
		w->hash_rc = sha256_plat_file(f, w->sha256);
	if (w->hash_rc != DS_OK)
		w->sha256[0] = '\0';
	plat_file_close(f);
	w->hash_ns = plat_mono_ns() - t0;
}

void worker_triage_clear(struct worker_triage *w)
{
	if (w == NULL)
		return;
	if (w->rc == DS_OK)
		triage_free(&w->t);
	free(w->json);
	free(w->path);
	plat_file_close(w->file);
	w->json = NULL;
	w->path = NULL;
	w->file = NULL;
}

void worker_triage_verdict(const struct worker_triage *w, struct worker_verdict *v)
{
	const char *msg = w->err.msg[0] != '\0' ? w->err.msg : ds_strerror(w->rc);

	memset(v, 0, sizeof(*v));
	switch (w->rc) {
	case DS_OK:
		/* A .NET dump with a heap goes on to SOS analysis; everything else is finished. */
		v->state = w->t.runtime_name[0] != '\0' && w->t.has_heap ? STORE_TRIAGED : STORE_DONE;
		return;
	case DS_ECORRUPT:
		v->state = STORE_FAILED;
		if (w->err.has_offset)
			snprintf(v->error, sizeof(v->error), "corrupt dump at offset %llu (0x%llx): %s",
				 (unsigned long long)w->err.offset, (unsigned long long)w->err.offset, msg);
		else
			snprintf(v->error, sizeof(v->error), "corrupt dump: %s", msg);
		return;
	case DS_EFORMAT:
		v->state = STORE_FAILED;
		if (w->err.msg[0] != '\0')
			snprintf(v->error, sizeof(v->error), "%s", msg);
		else
			snprintf(v->error, sizeof(v->error), "not a crash dump we read");
		return;
	case DS_EUNSUPPORTED:
		v->state = STORE_UNSUPPORTED;
		snprintf(v->error, sizeof(v->error), "unsupported dump: %s", msg);
		return;
	case DS_ENOENT:
		v->state = STORE_FAILED;
		snprintf(v->error, sizeof(v->error), "the file disappeared before triage");
		return;
	case DS_EINVAL:
		v->state = STORE_FAILED;
		snprintf(v->error, sizeof(v->error), "not a regular file: %s", msg);
		return;
	case DS_ELINK:
		v->state = STORE_FAILED;
		snprintf(v->error, sizeof(v->error), "not read: %s", msg);
		return;
	case DS_ETOOBIG:
		v->state = STORE_FAILED;
		snprintf(v->error, sizeof(v->error), "over a reader limit: %s", msg);
		return;
	default:
		/* EPERM, EIO, ENOMEM: the file or the machine may be fine a little later */
		v->state = STORE_DISCOVERED;
		v->retry = 1;
		snprintf(v->error, sizeof(v->error), "cannot read the dump: %s", msg);
		return;
	}
}

static const char *worker_nz(const char *s)
{
	return s != NULL && s[0] != '\0' ? s : NULL;
}

void worker_triage_to_store(const struct triage *t, const char *json, struct store_triage *o)
{
	memset(o, 0, sizeof(*o));
	o->app = NULL; /* the store derives it from the process name */
	o->format = worker_nz(t->format);
	o->writer = worker_nz(t->writer);
	o->os = worker_nz(t->os);
	o->os_version = worker_nz(t->os_version);
	o->arch = worker_nz(t->arch);
	o->has_pid = t->has_pid;
	o->pid = t->pid;
	o->process_name = worker_nz(t->process_name);
	o->app_version = worker_nz(t->app_version);
	o->command_line = worker_nz(t->command_line);
	o->dump_time = t->dump_time > 0 ? t->dump_time * 1000 : 0;
	o->has_exception = t->exc.present;
	o->exception_code = t->exc.code;
	o->exception_name = worker_nz(t->exc.name);
	o->exception_address = t->exc.address;
	o->has_fault_address = t->exc.has_fault_address;
	o->fault_address = t->exc.fault_address;
	o->has_crashing_thread = t->has_crashing_thread;
	o->crashing_thread = t->crashing_thread_id;
	o->thread_count = (int64_t)t->nthreads;
	o->module_count = (int64_t)t->nmodules;
	o->runtime_name = worker_nz(t->runtime_name);
	o->runtime_version = worker_nz(t->runtime_version);
	o->has_heap = t->has_heap;
	o->bucket_key = worker_nz(t->bucket);
	o->bucket_title = NULL;
	o->json = json;
}
