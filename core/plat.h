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

/* Call first in main(): makes the arguments and console output UTF-8 like every other string in the
 * program. On Windows, replaces *argc and *argv with the wide command line converted to UTF-8 (main's own
 * argv is in the ANSI code page, which cannot name every file; the new array lives until exit) and
 * sets the console output code page to UTF-8. On POSIX it does nothing. DS_ENOMEM; not thread-safe. */
int plat_args_utf8(int *argc, char ***argv);

/* Folder of the running executable (malloc'd, caller frees), or NULL. */
char *plat_exe_dir(void);

/* The user's home folder (HOME on POSIX, the profile folder on Windows), malloc'd (caller frees), or
 * NULL when unknown. */
char *plat_home_dir(void);

/* 1 if path is a regular file the current user may execute. */
int plat_is_executable(const char *path);
/* Forcibly ends a process and, where the OS allows, the process group it leads (children it
 * started). Used on engine timeouts. */
void plat_kill_tree(int pid);
/* Separator of the PATH variable: ':' or ';'. */
char plat_path_list_sep(void);

/* Lists the names in a folder (not "." or ".."), unsorted, without following or statting them.
 * *names is a malloc'd array of *n malloc'd strings: free with plat_dir_list_free. At most max
 * names (DS_ETOOBIG beyond). DS_ENOENT, DS_EPERM, DS_EINVAL (not a folder), DS_EIO. */
int plat_dir_list(const char *path, size_t max, char ***names, size_t *n);
void plat_dir_list_free(char **names, size_t n);
/* Removes a file (never a folder), or an empty folder. DS_ENOENT if it is already gone. */
int plat_unlink(const char *path);
int plat_rmdir(const char *path);
/* Sets a file's or folder's permission bits (POSIX mode, e.g. 01733); a no-op DS_OK on Windows. */
int plat_chmod(const char *path, int mode);

/* Mail helpers (service/mail.c). Fills *out with the local broken-down time of t (seconds since
 * the Unix epoch) and *utc_offset_s with the local zone's offset east of UTC in seconds at that time.
 * DS_EINVAL if t cannot be represented. */
struct tm;
int plat_localtime(int64_t t, struct tm *out, long *utc_offset_s);
/* Fills *out with the UTC broken-down time of t (seconds since the Unix epoch), like POSIX gmtime_r
 * (which C11 and Windows lack). DS_EINVAL if t cannot be represented. */
int plat_gmtime(int64_t t, struct tm *out);
/* Seconds since the Unix epoch of a local broken-down time (tm_isdst -1 lets the OS decide);
 * normalises out-of-range fields like mktime. *ok is 0 when the time cannot be represented (the
 * result is then meaningless). */
int64_t plat_mktime_local(struct tm *tm, int *ok);
/* Fills n bytes from the OS's cryptographic random source. DS_EIO if it is unavailable. */
int plat_random_bytes(void *dst, size_t n);
/* Permission bits of path (following symlinks), e.g. 0600, in *mode. On Windows, 0600 when only the
 * owner (and administrators/SYSTEM) can read the file, 0644 otherwise. DS_ENOENT, DS_EPERM, DS_EIO. */
int plat_file_mode(const char *path, int *mode);

#endif
