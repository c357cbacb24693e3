/* err.c - error strings and error-detail helpers. Knows nothing about where errors come from. */
#include "ds.h"

#include <stdarg.h>
#include <stdio.h>

const char *ds_strerror(int err)
{
	switch (err) {
	case DS_OK: return "success";
	case DS_ENOMEM: return "out of memory";
	case DS_EIO: return "input/output error";
	case DS_ENOENT: return "not found";
	case DS_EINVAL: return "invalid argument";
	case DS_ECORRUPT: return "corrupt input";
	case DS_EFORMAT: return "unrecognised format";
	case DS_ETOOBIG: return "size limit exceeded";
	case DS_ETIMEOUT: return "timed out";
	case DS_EENGINE: return "analysis engine failed";
	case DS_EUNSUPPORTED: return "not supported";
	case DS_ESCHEMA: return "database schema is newer than this program";
	case DS_EBUSY: return "database is busy";
	case DS_EDB: return "database error";
	case DS_EPARSE: return "could not parse text";
	case DS_EEXIST: return "already exists";
	case DS_EPERM: return "permission denied";
	case DS_ENET: return "network error";
	case DS_ENODAC: return "no CLR runtime found in the dump";
	case DS_ECHANGED: return "file changed or was replaced since it was recorded";
	case DS_ELINK: return "refused: a symbolic link or a file with other hard links";
	case DS_ECANCELED: return "cancelled";
	default: return "unknown error";
	}
}

static int err_vset(struct ds_err *e, int code, int has_off, uint64_t off, const char *fmt, va_list ap)
{
	if (e != NULL) {
		e->code = code;
		e->has_offset = has_off;
		e->offset = off;
		vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
	}
	return code;
}

int ds_err_set(struct ds_err *e, int code, uint64_t offset, const char *fmt, ...)
{
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = err_vset(e, code, 1, offset, fmt, ap);
	va_end(ap);
	return rc;
}

int ds_err_setn(struct ds_err *e, int code, const char *fmt, ...)
{
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = err_vset(e, code, 0, 0, fmt, ap);
	va_end(ap);
	return rc;
}

int ds_exit_code(int err)
{
	switch (err) {
	case DS_OK: return DS_EXIT_OK;
	case DS_ECORRUPT:
	case DS_EFORMAT:
	case DS_EINVAL:
	case DS_EPARSE:
		return DS_EXIT_BADINPUT;
	default: return DS_EXIT_FAIL;
	}
}
