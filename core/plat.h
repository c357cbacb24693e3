/* plat.h - the platform layer: the only header that hides which OS we are on. plat_posix.c and
 * plat_win.c are the only files in the tree that make OS calls. Paths are UTF-8 on every OS.
 * All functions are thread-safe unless noted; errors are DS_E... codes. */
#ifndef DS_PLAT_H
#define DS_PLAT_H

#include <stddef.h>
#include <stdint.h>

struct plat_file; /* opaque: an open read-only file */

/* Opens a regular file for reading. *out is owned by the caller (plat_file_close).
 * DS_ENOENT, DS_EPERM, DS_EINVAL (not a regular file), DS_EIO. */
int plat_file_open(const char *path, struct plat_file **out);
void plat_file_close(struct plat_file *f);
/* Size in bytes at open time. */
uint64_t plat_file_size(const struct plat_file *f);
/* Reads exactly n bytes at off. DS_ECORRUPT-free: returns DS_EIO on short reads or errors;
 * callers check bounds against plat_file_size first. */
int plat_file_read_at(struct plat_file *f, uint64_t off, void *dst, size_t n);

/* Reads a whole file of at most max bytes into a NUL-terminated malloc'd buffer (caller frees).
 * DS_ETOOBIG if larger. */
int plat_read_file(const char *path, size_t max, char **data, size_t *len);
/* Writes data to path atomically (temp file in the same folder, fsync, rename). */
int plat_write_file_atomic(const char *path, const void *data, size_t len, int mode);

struct plat_stat {
	uint64_t size;
	int64_t mtime_ns; /* modification time, ns since the Unix epoch */
	int is_regular;
	int is_dir;
	int is_symlink; /* the path itself is a symbolic link (not followed) */
};
/* Stats path without following a final symlink. */
int plat_lstat(const char *path, struct plat_stat *st);

/* Current wall-clock time in ms since the Unix epoch, and a monotonic clock in ns. */
int64_t plat_now_ms(void);
uint64_t plat_mono_ns(void);

/* Creates a folder and its parents (mode on POSIX). DS_OK if it already exists. */
int plat_mkdirs(const char *path, int mode);

/* 1 if the descriptor (0,1,2) is a terminal. Terminal width in columns, or 0 if unknown. */
int plat_isatty(int fd);
int plat_term_width(int fd);

/* Folder of the running executable (malloc'd, caller frees), or NULL. */
char *plat_exe_dir(void);

#endif
