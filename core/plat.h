/* plat.h - the platform layer: the only header that hides which OS we are on. plat_posix.c and
 * plat_win.c implement every call here (the OS is chosen by which of the two is linked; no caller tests
 * _WIN32). The Windows integration that has no POSIX counterpart (registry, ACLs, service control
 * manager, event log) is core/win.h, built into the Windows programs only. Paths are UTF-8 on every OS.
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

/* ---- File identity: a dump is recorded by what it is, not only where it is ----
 * The queue records a dump's identity when it first opens it; the engine runner and retention re-check
 * it before they use or delete the file, so a file swapped for a link, or rewritten, is refused.
 * Policy (issue 12, docs/service.md "File identity"):
 *  - no link is followed: the final path component must not be a symbolic link (O_NOFOLLOW; on
 *    Windows no reparse point that is a link or junction);
 *  - a file with more than one hard link is refused outright. Where its other names are cannot be
 *    known without searching the disk, and a dump writer always creates a new file (one link), so a
 *    second link can only be someone pointing the root service at a file that is not theirs;
 *  - the identity is POSIX st_dev + st_ino + size + mtime (ns), read with fstat from the open
 *    descriptor; on Windows the volume serial number + 64-bit file index + size + last-write time.
 * The folders above the file are trusted (they come from the root-owned configuration). */
struct plat_file_id {
	uint64_t dev;     /* st_dev; Windows: the volume serial number */
	uint64_t ino;     /* st_ino; Windows: the file index (nFileIndexHigh:Low) */
	uint64_t size;    /* bytes */
	int64_t mtime_ns; /* last modification, ns since the Unix epoch */
	uint32_t nlink;   /* hard links (not part of the identity) */
};
/* Longest text form of an identity, with its NUL. */
#define PLAT_FILE_ID_TEXT 96

enum {
	PLAT_OPEN_NOFOLLOW = 1,    /* refuse a final symbolic link (DS_ELINK) */
	PLAT_OPEN_SINGLE_LINK = 2, /* refuse a file with st_nlink > 1 (DS_ELINK) */
	PLAT_OPEN_DUMP = 3,        /* both: how every dump is opened */
	PLAT_OPEN_LOCK = 4,        /* Windows: deny others writing, renaming, deleting while open (POSIX: no-op) */
};
/* plat_file_open with the PLAT_OPEN_* checks, made on the open descriptor (no check-then-open race).
 * DS_ELINK, plus plat_file_open's errors. */
int plat_file_open_ex(const char *path, int flags, struct plat_file **out);
/* The identity of an open file, from the descriptor (fstat), now. DS_EIO. */
int plat_file_identity(struct plat_file *f, struct plat_file_id *id);
/* 1 if a and b name the same unchanged file (device, inode, size, mtime; nlink is ignored). */
int plat_file_id_same(const struct plat_file_id *a, const struct plat_file_id *b);
/* Text form "DEV:INO:SIZE:MTIME_NS" (decimal) for storing; plat_file_id_parse reads it back
 * (DS_EINVAL when malformed). */
void plat_file_id_format(const struct plat_file_id *id, char out[PLAT_FILE_ID_TEXT]);
int plat_file_id_parse(const char *s, struct plat_file_id *id);
/* The re-check before use: opens path with PLAT_OPEN_DUMP | PLAT_OPEN_LOCK and checks that it is still `want`.
 * DS_ECHANGED when it is another file or was rewritten, DS_ELINK for a link; *out (caller closes) only
 * on DS_OK. How the engine runner hands the checked file to the engine without a second open by path:
 *  - POSIX: keep *out open and give the child the descriptor: uv_spawn's stdio[3] with UV_INHERIT_FD
 *    and plat_file_fd(*out) makes it the child's fd 3; the engine opens "/proc/self/fd/3" (Linux),
 *    which is that very file even if the path is swapped meanwhile. plat_file_child_path writes it.
 *  - Windows: the handle is opened without FILE_SHARE_WRITE/DELETE, so while *out stays open nobody
 *    can rewrite, rename or delete the file: pass the path itself, then close *out after the child
 *    has opened it (or when it exits). */
int plat_file_open_verified(const char *path, const struct plat_file_id *want, struct plat_file **out);
/* The OS descriptor of an open file (POSIX; -1 on Windows). Owned by f: do not close it. */
int plat_file_fd(const struct plat_file *f);
/* The path a child process uses to open the file it inherited as its descriptor child_fd:
 * "/proc/self/fd/N" on Linux, "/dev/fd/N" on other POSIX systems. DS_EUNSUPPORTED on Windows. */
int plat_file_child_path(int child_fd, char *out, size_t n);
/* Unlinks path only if it is still the regular, unlinked-elsewhere file `want` (checked with lstat
 * right before the unlink; a symlink is never followed). DS_ECHANGED (left in place), DS_ELINK,
 * DS_ENOENT. The check and the unlink are two calls: a file swapped in the microseconds between them
 * can still go, but only by someone who may already delete it (the folder's sticky bit). */
int plat_unlink_verified(const char *path, const struct plat_file_id *want);

/* Reads a whole file of at most max bytes into a NUL-terminated malloc'd buffer (caller frees).
 * DS_ETOOBIG if larger. */
int plat_read_file(const char *path, size_t max, char **data, size_t *len);
/* Writes data to path atomically (temp file in the same folder, fsync, rename). */
int plat_write_file_atomic(const char *path, const void *data, size_t len, int mode);
/* Called by plat_file_copy_atomic after each chunk with the bytes copied so far and the total: return
 * DS_OK to go on, or a DS_E... code to stop (the copy then removes its temporary file and returns that
 * code). Runs on the copying thread. */
typedef int (*plat_copy_progress_fn)(void *ctx, uint64_t done, uint64_t total);
/* Copies the open file src (from offset 0 to its size at open) to root/rel_dir/name without reopening
 * anything by the source's path: a file swapped at that path meanwhile is not what gets copied. root must
 * be an existing folder (followed if a link: it is configured by the administrator); rel_dir is one or
 * more '/'-separated names ("host/2026-12-03"), each made if missing (mode 0700 on POSIX) and refused
 * (DS_ELINK) if it is a symbolic link, a reparse point or not a folder; name is one plain file name. The
 * data goes to the temporary name ".NAME.tmp" in the target folder (whatever was there under that name,
 * e.g. the remains of a copy cut short by a crash, is replaced, never opened: no link or FIFO is
 * followed), is flushed to disk, then renamed over name (mode 0600 on POSIX), so a reader of the share
 * sees the whole file or none. The temporary name is the same for every attempt at one target: two
 * copies to the same target at once (two services writing the same host folder) are not supported.
 * progress (may be NULL) is called after each chunk with ctx. DS_EINVAL for a bad component ("", ".",
 * "..", a separator in name), DS_ENOENT/DS_EPERM/DS_EIO from the OS, progress's code; on failure no
 * temporary file is left. src is only read (with plat_file_read_at): the caller keeps it. */
int plat_file_copy_atomic(struct plat_file *src, const char *root, const char *rel_dir, const char *name,
			  plat_copy_progress_fn progress, void *ctx);
/* 1 if s is usable as one component of plat_file_copy_atomic's rel_dir or name: not empty, not "." or
 * "..", no '/', '\\', ':' or control character, at most 255 bytes. */
int plat_path_component_ok(const char *s, size_t len);
/* The next '/'-separated component of *p into out (NUL-terminated), *p moved past it and its '/':
 * 1 when one was taken, 0 at the end, DS_EINVAL when it fails plat_path_component_ok. */
int plat_path_next_component(const char **p, char out[256]);

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

/* 1 if a child the service must be able to end (the heap engine) is started detached (libuv's
 * UV_PROCESS_DETACHED): POSIX, where that gives it its own session and process group, which
 * plat_kill_tree ends. 0 on Windows, where a detached child would leave libuv's kill-on-close job
 * object, the one thing that ends it when the service dies (even by TerminateProcess). */
int plat_spawn_detach(void);
/* 1 if path is a regular file the current user may execute. */
int plat_is_executable(const char *path);
/* Forcibly ends a process and, where the OS allows, the process group it leads (children it
 * started). Used on engine timeouts. */
void plat_kill_tree(int pid);
/* 1 if c separates folders in a path: '/', and on Windows also '\\'. */
int plat_is_path_sep(int c);
/* 1 if path is absolute: "/x"; on Windows also "C:\\x", "C:/x" and "\\\\server\\share". */
int plat_path_is_absolute(const char *path);
/* The suffix of executable files: "" or ".exe". */
const char *plat_exe_suffix(void);
/* The file name of the .NET runtime's data access component (DAC) on this OS: "libmscordaccore.so",
 * "libmscordaccore.dylib" or "mscordaccore.dll". */
const char *plat_dac_name(void);
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

/* Mail helpers (lib/mail.c). Fills *out with the local broken-down time of t (seconds since
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
/* The machine-wide application data folder: on Windows SHGetFolderPathW(CSIDL_COMMON_APPDATA), usually
 * C:\ProgramData (malloc'd, caller frees); NULL on POSIX, which has none (the configuration names the
 * data folder there). */
char *plat_common_data_dir(void);

/* Longest text of plat_os_name, with its NUL. */
#define PLAT_OS_NAME_MAX 160
/* The OS's name and version for people (the fleet's host list), in out: printable ASCII (any other byte
 * the OS gives becomes '?'), cut to PLAT_OS_NAME_MAX - 1 bytes. POSIX: uname(2)'s sysname and release,
 * as `uname -sr` prints them ("Linux 6.1.0-18-amd64"). Windows: the version the kernel reports
 * (RtlGetVersion: GetVersionEx answers what the program's manifest claims, not what runs) and, when the
 * registry's HKLM\SOFTWARE\Microsoft\Windows NT\CurrentVersion holds it, the product name:
 * "Windows 10.0 (build 19045, Windows 10 Pro)". Always starts with the OS's own name ("Windows " on
 * Windows). DS_OK, or DS_EIO with "unknown" in out when the OS does not say. */
int plat_os_name(char out[PLAT_OS_NAME_MAX]);

/* ---- Private data and one service per database (issue 12 items 6 and 7) ---- */

struct plat_lock; /* opaque: a held lock file */
/* Takes an exclusive, non-blocking lock on path (created 0600 when missing) and writes this process's
 * pid into it; the OS drops the lock when the process ends, however it ends (kill -9 too). DS_EBUSY
 * when another process holds it: *holder is the pid written in the file (0 if unreadable). *out is
 * released with plat_lock_release. DS_EPERM, DS_EIO. */
int plat_lock_acquire(const char *path, struct plat_lock **out, int *holder);
void plat_lock_release(struct plat_lock *l);
/* Makes every file this process creates from now on private to its user (POSIX umask 077: the
 * database, its -wal/-shm, logs); a no-op on Windows, where the data folder's ACL decides. Not
 * thread-safe: call at start-up. */
void plat_private_files(void);
/* Gives a dump folder a default ACL under which every file created in it is readable only by its
 * creator and root, whatever the creator's umask (POSIX ACL user::rw-, group::---, other::---; the
 * folder itself stays 01733: anyone may drop a file, nobody but root may list it). DS_EUNSUPPORTED
 * where the file system has no POSIX ACLs (the folder keeps its mode; files then carry the
 * creator's umask), DS_EPERM, DS_EIO. A no-op DS_OK on Windows (win_acl_set_sddl in core/win.h does this). */
int plat_dir_private_default(const char *path);

/* Ends engines a previous dumpscoutd left behind (killed with -9, the engine outlives it): on Linux,
 * every process that leads its own session (the engine is started with setsid), whose parent is not a
 * `dumpscout` CLI, and one of whose arguments or whose descriptor 3 (the dump the heap engine is given)
 * is a file inside one of the n dump folders, is killed
 * with its process group. Call it at start-up once the database lock is held (no other service
 * of this database is running). Returns how many groups were ended; 0 where /proc is absent. The live
 * mechanism is the engine's parent pipe (analyzer/heap_run.h); this catches engines that ignore it. On
 * Windows the engine belongs to libuv's job object, which ends it with the service (not done here). Not
 * thread-safe (one static buffer): call it once, at start-up. */
int plat_reap_orphan_engines(const char *const *dump_dirs, size_t n);

/* ---- Appending and renaming (the service's own log file) ---- */

/* Appends len bytes to path, creating it (mode 0600 on POSIX; the folder's ACL on Windows) when missing.
 * Opens and closes the file each call, so a rename in between (log rotation) is harmless. DS_EIO,
 * DS_EPERM, DS_ENOENT (no folder). Thread-safe, but concurrent appends to one file may interleave. */
int plat_append_file(const char *path, const void *data, size_t len);
/* Renames a file, replacing `to` if it exists. DS_ENOENT, DS_EPERM, DS_EIO. */
int plat_rename(const char *from, const char *to);

#endif
