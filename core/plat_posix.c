/* plat_posix.c - the platform layer for Linux and other POSIX systems. Only OS calls live here;
 * policy (what to read, when) belongs to the callers. */
#define _GNU_SOURCE
#include "plat.h"
#include "ds.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <sys/xattr.h>
#include <time.h>
#include <unistd.h>

struct plat_file {
	int fd;
	uint64_t size;
};

static int plat_errno(int e)
{
	switch (e) {
	case ENOENT:
	case ENOTDIR: return DS_ENOENT;
	case EACCES:
	case EPERM: return DS_EPERM;
	case ENOMEM: return DS_ENOMEM;
	case EEXIST: return DS_EEXIST;
	case EINVAL:
	case EISDIR: return DS_EINVAL;
	default: return DS_EIO;
	}
}

static void plat_stat_id(const struct stat *st, struct plat_file_id *id)
{
	id->dev = (uint64_t)st->st_dev;
	id->ino = (uint64_t)st->st_ino;
	id->size = (uint64_t)st->st_size;
	id->mtime_ns = (int64_t)st->st_mtim.tv_sec * 1000000000LL + st->st_mtim.tv_nsec;
	id->nlink = st->st_nlink > UINT32_MAX ? UINT32_MAX : (uint32_t)st->st_nlink;
}

int plat_file_open_ex(const char *path, int flags, struct plat_file **out)
{
	struct plat_file *f = NULL;
	struct stat st;
	int fd, rc = DS_OK;

	*out = NULL;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK | ((flags & PLAT_OPEN_NOFOLLOW) ? O_NOFOLLOW : 0));
	if (fd < 0)
		return (flags & PLAT_OPEN_NOFOLLOW) && errno == ELOOP ? DS_ELINK : plat_errno(errno);
	if (fstat(fd, &st) != 0) {
		rc = plat_errno(errno);
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		rc = DS_EINVAL;
		goto out;
	}
	if ((flags & PLAT_OPEN_SINGLE_LINK) && st.st_nlink > 1) {
		rc = DS_ELINK;
		goto out;
	}
	f = malloc(sizeof(*f));
	if (f == NULL) {
		rc = DS_ENOMEM;
		goto out;
	}
	f->fd = fd;
	f->size = (uint64_t)st.st_size;
	*out = f;
	fd = -1;
out:
	if (fd >= 0)
		close(fd);
	return rc;
}

int plat_file_open(const char *path, struct plat_file **out)
{
	return plat_file_open_ex(path, 0, out);
}

int plat_file_identity(struct plat_file *f, struct plat_file_id *id)
{
	struct stat st;

	if (fstat(f->fd, &st) != 0)
		return DS_EIO;
	plat_stat_id(&st, id);
	return DS_OK;
}

int plat_file_fd(const struct plat_file *f)
{
	return f->fd;
}

int plat_file_child_path(int child_fd, char *out, size_t n)
{
	int k;

#ifdef __linux__
	k = snprintf(out, n, "/proc/self/fd/%d", child_fd);
#else
	k = snprintf(out, n, "/dev/fd/%d", child_fd);
#endif
	return child_fd < 0 || k < 0 || (size_t)k >= n ? DS_EINVAL : DS_OK;
}

int plat_unlink_verified(const char *path, const struct plat_file_id *want)
{
	struct plat_file_id id;
	struct stat st;

	if (lstat(path, &st) != 0)
		return plat_errno(errno);
	if (S_ISLNK(st.st_mode))
		return DS_ELINK;
	if (!S_ISREG(st.st_mode))
		return DS_ECHANGED;
	plat_stat_id(&st, &id);
	if (!plat_file_id_same(&id, want))
		return DS_ECHANGED;
	if (id.nlink > 1)
		return DS_ELINK;
	if (unlink(path) != 0)
		return plat_errno(errno);
	return DS_OK;
}

void plat_file_close(struct plat_file *f)
{
	if (f != NULL) {
		close(f->fd);
		free(f);
	}
}

uint64_t plat_file_size(const struct plat_file *f)
{
	return f->size;
}

int plat_file_read_at(struct plat_file *f, uint64_t off, void *dst, size_t n)
{
	char *p = dst;
	ssize_t r;

	if (off > (uint64_t)INT64_MAX)
		return DS_EIO;
	while (n > 0) {
		r = pread(f->fd, p, n, (off_t)off);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return DS_EIO;
		p += r;
		n -= (size_t)r;
		off += (uint64_t)r;
	}
	return DS_OK;
}


int plat_write_file_atomic(const char *path, const void *data, size_t len, int mode)
{
	char tmp[PATH_MAX];
	const char *p = data;
	int fd = -1, rc = DS_OK, n;
	ssize_t w;

	n = snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", path, (long)getpid());
	if (n < 0 || (size_t)n >= sizeof(tmp))
		return DS_EINVAL;
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	if (fd < 0)
		return plat_errno(errno);
	while (len > 0) {
		w = write(fd, p, len);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			rc = DS_EIO;
			goto out;
		}
		p += w;
		len -= (size_t)w;
	}
	if (fsync(fd) != 0) {
		rc = DS_EIO;
		goto out;
	}
	if (close(fd) != 0) {
		fd = -1;
		rc = DS_EIO;
		goto out;
	}
	fd = -1;
	if (rename(tmp, path) != 0)
		rc = plat_errno(errno);
out:
	if (fd >= 0)
		close(fd);
	if (rc != DS_OK)
		unlink(tmp);
	return rc;
}

/* Opens (making it if missing) the folder `name` under the open folder parent, refusing a symbolic link. */
static int plat_copy_subdir(int parent, const char *name, int *out)
{
	int fd;

	if (mkdirat(parent, name, 0700) != 0 && errno != EEXIST)
		return plat_errno(errno);
	fd = openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return errno == ELOOP || errno == ENOTDIR ? DS_ELINK : plat_errno(errno);
	*out = fd;
	return DS_OK;
}

int plat_file_copy_atomic(struct plat_file *src, const char *root, const char *rel_dir, const char *name,
			  plat_copy_progress_fn progress, void *ctx)
{
	char tmp[300], comp[256], *buf = NULL;
	const char *p = rel_dir;
	uint64_t off = 0;
	size_t len, chunk = 1u << 20, done;
	ssize_t w;
	int dfd = -1, nfd = -1, fd = -1, rc = DS_OK, made = 0;

	if (!plat_path_component_ok(name, strlen(name)) || rel_dir[0] == '\0') {
		rc = DS_EINVAL;
		goto out;
	}
	dfd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0) {
		rc = plat_errno(errno);
		goto out;
	}
	while ((rc = plat_path_next_component(&p, comp)) == 1) {
		rc = plat_copy_subdir(dfd, comp, &nfd);
		if (rc != DS_OK)
			goto out;
		close(dfd);
		dfd = nfd;
	}
	if (rc != DS_OK)
		goto out;
	/* One temporary name per target, so an attempt after a crash replaces what the cut-short one left.
	 * What is there is unlinked, not opened: a link or a FIFO planted under that name leads nowhere. */
	snprintf(tmp, sizeof(tmp), ".%.250s.tmp", name);
	if (unlinkat(dfd, tmp, 0) != 0 && errno != ENOENT) {
		rc = plat_errno(errno);
		goto out;
	}
	fd = openat(dfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0) {
		rc = plat_errno(errno);
		goto out;
	}
	made = 1;
	buf = malloc(chunk);
	if (buf == NULL) {
		rc = DS_ENOMEM;
		goto out;
	}
	while (off < src->size) {
		len = src->size - off < chunk ? (size_t)(src->size - off) : chunk;
		rc = plat_file_read_at(src, off, buf, len);
		if (rc != DS_OK)
			goto out;
		for (done = 0; done < len; done += (size_t)w) {
			w = write(fd, buf + done, len - done);
			if (w < 0 && errno == EINTR) {
				w = 0;
				continue;
			}
			if (w <= 0) {
				rc = w < 0 ? plat_errno(errno) : DS_EIO;
				goto out;
			}
		}
		off += len;
		if (progress != NULL && (rc = progress(ctx, off, src->size)) != DS_OK)
			goto out;
	}
	if (fsync(fd) != 0 || close(fd) != 0) {
		fd = -1;
		rc = DS_EIO;
		goto out;
	}
	fd = -1;
	if (renameat(dfd, tmp, dfd, name) != 0) {
		rc = plat_errno(errno);
		goto out;
	}
	made = 0;
	/* The new directory entry on disk too. */
	if (fsync(dfd) != 0)
		rc = DS_EIO;
out:
	if (fd >= 0)
		close(fd);
	if (made)
		unlinkat(dfd, tmp, 0);
	if (dfd >= 0)
		close(dfd);
	free(buf);
	return rc;
}

int plat_lstat(const char *path, struct plat_stat *out)
{
	struct stat st;

	if (lstat(path, &st) != 0)
		return plat_errno(errno);
	out->size = (uint64_t)st.st_size;
	out->mtime_ns = (int64_t)st.st_mtim.tv_sec * 1000000000LL + st.st_mtim.tv_nsec;
	out->is_regular = S_ISREG(st.st_mode);
	out->is_dir = S_ISDIR(st.st_mode);
	out->is_symlink = S_ISLNK(st.st_mode);
	return DS_OK;
}

int64_t plat_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

uint64_t plat_mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

int plat_mkdirs(const char *path, int mode)
{
	char tmp[PATH_MAX];
	size_t i, n = strlen(path);

	if (n == 0 || n >= sizeof(tmp))
		return DS_EINVAL;
	memcpy(tmp, path, n + 1);
	for (i = 1; i <= n; i++) {
		if (tmp[i] != '/' && tmp[i] != '\0')
			continue;
		tmp[i] = '\0';
		if (mkdir(tmp, (mode_t)mode) != 0 && errno != EEXIST)
			return plat_errno(errno);
		if (i < n)
			tmp[i] = '/';
	}
	return DS_OK;
}

int plat_isatty(int fd)
{
	return isatty(fd);
}

int plat_term_width(int fd)
{
	struct winsize ws;

	if (ioctl(fd, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0)
		return ws.ws_col;
	return 0;
}

int plat_args_utf8(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	return DS_OK;
}

char *plat_exe_dir(void)
{
	char buf[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", buf, sizeof(buf) - 1);
	char *slash;

	if (n <= 0)
		return NULL;
	buf[n] = '\0';
	slash = strrchr(buf, '/');
	if (slash == NULL)
		return NULL;
	*slash = '\0';
	return strdup(buf);
}

int plat_is_executable(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISREG(st.st_mode) && access(path, X_OK) == 0;
}

int plat_spawn_detach(void)
{
	return 1;
}

void plat_kill_tree(int pid)
{
	if (pid <= 0)
		return;
	/* The engine is started as a group leader (setsid); end the group, then the process itself in
	 * case it was not one. */
	kill(-pid, SIGKILL);
	kill(pid, SIGKILL);
}

char plat_path_list_sep(void)
{
	return ':';
}

int plat_dir_list(const char *path, size_t max, char ***names, size_t *n)
{
	DIR *d = NULL;
	struct dirent *de;
	char **v = NULL, **nv;
	size_t cnt = 0, cap = 0;
	int rc = DS_OK;

	*names = NULL;
	*n = 0;
	d = opendir(path);
	if (d == NULL)
		return errno == ENOTDIR ? DS_EINVAL : plat_errno(errno);
	for (;;) {
		errno = 0;
		de = readdir(d);
		if (de == NULL) {
			if (errno != 0)
				rc = DS_EIO;
			break;
		}
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		if (cnt >= max) {
			rc = DS_ETOOBIG;
			break;
		}
		if (cnt == cap) {
			cap = cap ? cap * 2 : 64;
			nv = realloc(v, cap * sizeof(*v));
			if (nv == NULL) {
				rc = DS_ENOMEM;
				break;
			}
			v = nv;
		}
		v[cnt] = strdup(de->d_name);
		if (v[cnt] == NULL) {
			rc = DS_ENOMEM;
			break;
		}
		cnt++;
	}
	closedir(d);
	if (rc != DS_OK) {
		plat_dir_list_free(v, cnt);
		return rc;
	}
	*names = v;
	*n = cnt;
	return rc;
}

void plat_dir_list_free(char **names, size_t n)
{
	size_t i;

	for (i = 0; names != NULL && i < n; i++)
		free(names[i]);
	free(names);
}

int plat_unlink(const char *path)
{
	return unlink(path) == 0 ? DS_OK : plat_errno(errno);
}

int plat_rmdir(const char *path)
{
	return rmdir(path) == 0 ? DS_OK : plat_errno(errno);
}

int plat_localtime(int64_t t, struct tm *out, long *utc_offset_s)
{
	time_t tt = (time_t)t;

	if ((int64_t)tt != t || localtime_r(&tt, out) == NULL)
		return DS_EINVAL;
	*utc_offset_s = out->tm_gmtoff;
	return DS_OK;
}

int plat_gmtime(int64_t t, struct tm *out)
{
	time_t tt = (time_t)t;

	if ((int64_t)tt != t || gmtime_r(&tt, out) == NULL)
		return DS_EINVAL;
	return DS_OK;
}

int64_t plat_mktime_local(struct tm *tm, int *ok)
{
	time_t t;

	errno = 0;
	t = mktime(tm);
	*ok = !(t == (time_t)-1 && errno != 0);
	return (int64_t)t;
}

int plat_random_bytes(void *dst, size_t n)
{
	unsigned char *p = dst;
	ssize_t r;

	while (n > 0) {
		r = getrandom(p, n, 0);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return DS_EIO;
		p += r;
		n -= (size_t)r;
	}
	return DS_OK;
}

int plat_file_mode(const char *path, int *mode)
{
	struct stat st;

	if (stat(path, &st) != 0)
		return plat_errno(errno);
	*mode = (int)(st.st_mode & 07777);
	return DS_OK;
}

int plat_chmod(const char *path, int mode)
{
	return chmod(path, (mode_t)mode) == 0 ? DS_OK : plat_errno(errno);
}

char *plat_home_dir(void)
{
	const char *h = getenv("HOME");

	return h != NULL && h[0] != '\0' ? strdup(h) : NULL;
}

int plat_append_file(const char *path, const void *data, size_t len)
{
	const char *p = data;
	ssize_t w;
	int fd, rc = DS_OK;

	fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		return plat_errno(errno);
	while (len > 0) {
		w = write(fd, p, len);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			rc = w < 0 ? plat_errno(errno) : DS_EIO;
			break;
		}
		p += w;
		len -= (size_t)w;
	}
	if (close(fd) != 0 && rc == DS_OK)
		rc = DS_EIO;
	return rc;
}

int plat_rename(const char *from, const char *to)
{
	return rename(from, to) == 0 ? DS_OK : plat_errno(errno);
}

char *plat_common_data_dir(void)
{
	return NULL;
}

int plat_os_name(char out[PLAT_OS_NAME_MAX])
{
	struct utsname u;
	unsigned char *c;
	int rc = DS_OK;

	if (uname(&u) != 0) {
		snprintf(out, PLAT_OS_NAME_MAX, "unknown");
		rc = DS_EIO;
		goto out;
	}
	snprintf(out, PLAT_OS_NAME_MAX, "%s %s", u.sysname, u.release);
	for (c = (unsigned char *)out; *c != '\0'; c++)
		if (*c < 0x20 || *c > 0x7e)
			*c = '?';
out:
	return rc;
}

const char *plat_exe_suffix(void)
{
	return "";
}

const char *plat_dac_name(void)
{
#if defined(__APPLE__)
	return "libmscordaccore.dylib";
#else
	return "libmscordaccore.so";
#endif
}

int plat_is_path_sep(int c)
{
	return c == '/';
}

int plat_path_is_absolute(const char *path)
{
	return path != NULL && path[0] == '/';
}

struct plat_lock {
	int fd;
};

int plat_lock_acquire(const char *path, struct plat_lock **out, int *holder)
{
	struct plat_lock *l = NULL;
	struct flock fl;
	char pid[32];
	ssize_t r;
	int fd, rc = DS_OK, n;

	*out = NULL;
	*holder = 0;
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return plat_errno(errno);
	memset(&fl, 0, sizeof(fl));
	fl.l_type = F_WRLCK;
	fl.l_whence = SEEK_SET;
	/* an fcntl lock: released by the kernel when the process dies, however it dies */
	if (fcntl(fd, F_SETLK, &fl) != 0) {
		rc = errno == EACCES || errno == EAGAIN ? DS_EBUSY : plat_errno(errno);
		if (rc == DS_EBUSY) {
			r = pread(fd, pid, sizeof(pid) - 1, 0);
			pid[r > 0 ? r : 0] = '\0';
			*holder = atoi(pid);
		}
		goto out;
	}
	n = snprintf(pid, sizeof(pid), "%ld\n", (long)getpid());
	if (ftruncate(fd, 0) != 0 || pwrite(fd, pid, (size_t)n, 0) != n) {
		rc = DS_EIO;
		goto out;
	}
	l = malloc(sizeof(*l));
	if (l == NULL) {
		rc = DS_ENOMEM;
		goto out;
	}
	l->fd = fd;
	fd = -1;
	*out = l;
out:
	if (fd >= 0)
		close(fd);
	return rc;
}

void plat_lock_release(struct plat_lock *l)
{
	if (l != NULL) {
		close(l->fd);
		free(l);
	}
}

void plat_private_files(void)
{
	umask(077);
}

int plat_dir_private_default(const char *path)
{
	/* The kernel's POSIX ACL xattr: a version word, then (tag, perm, id) entries in tag order. */
	unsigned char v[4 + 3 * 8];
	static const uint16_t tags[3] = { 0x01 /* USER_OBJ */, 0x04 /* GROUP_OBJ */, 0x20 /* OTHER */ };
	static const uint16_t perms[3] = { 6, 0, 0 };
	size_t i;

	memset(v, 0, sizeof(v));
	v[0] = 2; /* POSIX_ACL_XATTR_VERSION, little-endian */
	for (i = 0; i < 3; i++) {
		unsigned char *e = v + 4 + 8 * i;

		e[0] = (unsigned char)tags[i];
		e[1] = (unsigned char)(tags[i] >> 8);
		e[2] = (unsigned char)perms[i];
		e[4] = e[5] = e[6] = e[7] = 0xff; /* ACL_UNDEFINED_ID */
	}
	if (setxattr(path, "system.posix_acl_default", v, sizeof(v), 0) != 0)
		return errno == ENOTSUP || errno == EOPNOTSUPP ? DS_EUNSUPPORTED : plat_errno(errno);
	return DS_OK;
}

/* Reads at most n-1 bytes of a small /proc file into buf (NUL-terminated); the byte count, or -1. */
static ssize_t plat_proc_read(const char *path, char *buf, size_t n)
{
	ssize_t r, got = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -1;
	while ((size_t)got < n - 1 && (r = read(fd, buf + got, n - 1 - (size_t)got)) > 0)
		got += r;
	close(fd);
	buf[got] = '\0';
	return got;
}

/* 1 if path p lies inside one of the folders. */
static int plat_path_in_dirs(const char *p, const char *const *dirs, size_t n)
{
	size_t i, dl;

	for (i = 0; i < n; i++) {
		dl = strlen(dirs[i]);
		while (dl > 1 && dirs[i][dl - 1] == '/')
			dl--;
		if (strncmp(p, dirs[i], dl) == 0 && p[dl] == '/')
			return 1;
	}
	return 0;
}

/* 1 if the NUL-separated argument list (after the program) holds a path inside one of the folders: the
 * engine is started with the dump's path as an argument (`dotnet-dump analyze DUMP`, `engine DUMP ...`). */
static int plat_engine_args(const char *args, size_t len, const char *const *dirs, size_t n)
{
	const char *p;

	for (p = args + strlen(args) + 1; p < args + len; p += strlen(p) + 1)
		if (plat_path_in_dirs(p, dirs, n))
			return 1;
	return 0;
}

/* 1 if process pid's descriptor 3 is a file inside one of the folders: how the heap engine is given the
 * dump (its argument is then "/proc/self/fd/3", see analyzer/heap_run.h). */
static int plat_engine_fd(long pid, const char *const *dirs, size_t n)
{
	char path[64], target[4096];
	ssize_t len;

	snprintf(path, sizeof(path), "/proc/%ld/fd/3", pid);
	len = readlink(path, target, sizeof(target) - 1);
	if (len <= 0)
		return 0;
	target[len] = '\0';
	return plat_path_in_dirs(target, dirs, n);
}

int plat_reap_orphan_engines(const char *const *dump_dirs, size_t n)
{
	static char args[65536];
	char path[64], stat[1024], comm[64], *rp;
	struct dirent *de;
	long pid, ppid, sid;
	ssize_t len;
	DIR *d;
	int ended = 0;

	d = opendir("/proc");
	if (d == NULL)
		return 0;
	while ((de = readdir(d)) != NULL) {
		pid = strtol(de->d_name, &rp, 10);
		if (*rp != '\0' || pid <= 1 || pid == (long)getpid())
			continue;
		snprintf(path, sizeof(path), "/proc/%ld/stat", pid);
		if (plat_proc_read(path, stat, sizeof(stat)) <= 0 || (rp = strrchr(stat, ')')) == NULL)
			continue;
		/* after "(comm)": state ppid pgrp session */
		if (sscanf(rp + 1, " %*c %ld %*d %ld", &ppid, &sid) != 2 || sid != pid)
			continue;
		snprintf(path, sizeof(path), "/proc/%ld/comm", ppid);
		if (plat_proc_read(path, comm, sizeof(comm)) > 0 && strcmp(comm, "dumpscout\n") == 0)
			continue; /* a user's `dumpscout analyze`: not ours to end */
		snprintf(path, sizeof(path), "/proc/%ld/cmdline", pid);
		len = plat_proc_read(path, args, sizeof(args));
		if ((len <= 0 || !plat_engine_args(args, (size_t)len, dump_dirs, n)) && !plat_engine_fd(pid, dump_dirs, n))
			continue;
		kill((pid_t)-pid, SIGKILL);
		kill((pid_t)pid, SIGKILL);
		ended++;
	}
	closedir(d);
	return ended;
}
