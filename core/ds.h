/* ds.h - error codes and the small set of definitions every part of dumpscout shares.
 * Errors are negative DS_E... integers; 0 is success. Functions that can fail return one of these
 * and, where the caller needs detail (a file offset, a key name), fill a struct ds_err. */
#ifndef DS_H
#define DS_H

#include <stddef.h>
#include <stdint.h>

#define DS_VERSION "0.1.0"

enum {
	DS_OK = 0,
	DS_ENOMEM = -1,        /* allocation failed */
	DS_EIO = -2,           /* read/write failed */
	DS_ENOENT = -3,        /* file or object not found */
	DS_EINVAL = -4,        /* bad argument or configuration */
	DS_ECORRUPT = -5,      /* input is the right format but damaged */
	DS_EFORMAT = -6,       /* input is not a format we read */
	DS_ETOOBIG = -7,       /* a cap was reached */
	DS_ETIMEOUT = -8,      /* a time limit was reached */
	DS_EENGINE = -9,       /* the SOS engine failed or is missing */
	DS_EUNSUPPORTED = -10, /* valid input we cannot handle here */
	DS_ESCHEMA = -11,      /* database schema newer than this binary */
	DS_EBUSY = -12,        /* database locked past the busy timeout */
	DS_EDB = -13,          /* other database error */
	DS_EPARSE = -14,       /* text we could not parse */
	DS_EEXIST = -15,       /* already exists */
	DS_EPERM = -16,        /* permission denied */
	DS_ENET = -17,         /* network or remote server error */
	DS_ENODAC = -18,       /* engine found no usable CLR runtime/DAC in the dump */
	DS_ECHANGED = -19,     /* a file is no longer the one recorded (replaced, rewritten) */
	DS_ELINK = -20,        /* a symbolic link, or a file with more than one hard link: refused */
	DS_ECANCELED = -21,    /* stopped on request (the service is stopping) */
};

/* Returns a static, human-readable string for an error code (never NULL). Thread-safe. */
const char *ds_strerror(int err);

/* Detail for an error about external input. `offset` is a byte offset into the file
 * (has_offset tells whether it is meaningful); msg is a short description. */
struct ds_err {
	int code;
	int has_offset;
	uint64_t offset;
	char msg[256];
};

/* Marks a printf-like function (format string is argument f, the values start at a). Use it instead of
 * __attribute__((format(printf, ...))): mingw's GCC reads "printf" as the old msvcrt dialect (no %zu,
 * %lld), while the Windows build uses mingw's C99 stdio (__USE_MINGW_ANSI_STDIO), the gnu_printf one. */
#if defined(__MINGW32__)
#define DS_PRINTF(f, a) __attribute__((format(gnu_printf, f, a)))
#else
#define DS_PRINTF(f, a) __attribute__((format(printf, f, a)))
#endif

/* Records an error with an offset into `e` (may be NULL) and returns `code`. Thread-safe. */
int ds_err_set(struct ds_err *e, int code, uint64_t offset, const char *fmt, ...) DS_PRINTF(4, 5);
/* Same without an offset. */
int ds_err_setn(struct ds_err *e, int code, const char *fmt, ...) DS_PRINTF(3, 4);

/* Exit codes of both binaries (architecture: 0 ok, 1 operational failure, 2 bad input). */
enum { DS_EXIT_OK = 0, DS_EXIT_FAIL = 1, DS_EXIT_BADINPUT = 2 };

/* Maps an error code to the exit code convention above. */
int ds_exit_code(int err);

#define DS_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

#endif
