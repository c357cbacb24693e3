/* triage_fixture.h - the triage record the store and CLI unit tests write: a Windows access violation
 * read from a minidump (three threads, ten modules, a heap), counted in one crash bucket. */
#ifndef DS_TRIAGE_FIXTURE_H
#define DS_TRIAGE_FIXTURE_H

#include "core/store.h"

#include <string.h>

/* Fills *t for app in crash bucket `bucket`, process pid, the fault at exception_address; the strings
 * are borrowed, the rest of *t is zero for the caller to add to. */
static inline void triage_fixture(struct store_triage *t, const char *app, const char *bucket, uint64_t pid,
				  const char *process, uint64_t exception_address)
{
	memset(t, 0, sizeof(*t));
	t->app = app;
	t->format = "minidump";
	t->os = "windows";
	t->arch = "amd64";
	t->has_pid = 1;
	t->pid = pid;
	t->process_name = process;
	t->has_exception = 1;
	t->exception_code = 0xc0000005u;
	t->exception_name = "EXCEPTION_ACCESS_VIOLATION_READ";
	t->exception_address = exception_address;
	t->thread_count = 3;
	t->module_count = 10;
	t->has_heap = 1;
	t->bucket_key = bucket;
}

#endif
