/* plat_win.c - the platform layer for Windows (built with mingw-w64, tested under Wine). Only OS calls
 * live here: paths arrive as UTF-8 and are converted to UTF-16 for the wide-character (...W) APIs, and
 * Windows error codes become DS_E... codes once, at the call. Policy (what to read, when) is the callers'.
 * The Windows integration (registry, ACLs, service control manager, event log) is in win_*.c (win.h). */
#include "core/plat_win.h"

#include <aclapi.h>
#include <bcrypt.h>
#include <shellapi.h>
#include <tlhelp32.h>
#include <shlobj.h>

#include "core/plat.h"
#include "core/ds.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <wchar.h>

/* Difference between the FILETIME epoch (1601-01-01) and the Unix epoch, in 100 ns units. */
#define PLAT_WIN_EPOCH_DIFF 116444736000000000LL
/* ReadFile/WriteFile take a DWORD length: transfer at most this much per call. */
#define PLAT_WIN_IO_CHUNK (1u << 30)

struct plat_file {
	HANDLE h;
	uint64_t size;
};

int plat_win_error(DWORD e)
{
	switch (e) {
	case ERROR_FILE_NOT_FOUND:
	case ERROR_PATH_NOT_FOUND:
	case ERROR_BAD_NETPATH:
	case ERROR_BAD_NET_NAME:
	case ERROR_INVALID_DRIVE: return DS_ENOENT;
	case ERROR_ACCESS_DENIED:
	case ERROR_SHARING_VIOLATION:
	case ERROR_LOCK_VIOLATION:
	case ERROR_PRIVILEGE_NOT_HELD:
	case ERROR_WRITE_PROTECT: return DS_EPERM;
	case ERROR_NOT_ENOUGH_MEMORY:
	case ERROR_OUTOFMEMORY: return DS_ENOMEM;
	case ERROR_ALREADY_EXISTS:
	case ERROR_FILE_EXISTS: return DS_EEXIST;
	case ERROR_INVALID_PARAMETER:
	case ERROR_INVALID_NAME:
	case ERROR_DIRECTORY:
	case ERROR_FILENAME_EXCED_RANGE:
	case ERROR_NO_UNICODE_TRANSLATION: return DS_EINVAL;
	default: return DS_EIO;
	}
}

/* UTF-8 -> UTF-16, malloc'd and NUL-terminated; NULL (with *rc set) on invalid UTF-8 or no memory. */
wchar_t *plat_win_wide(const char *s, int *rc)
{
	wchar_t *w;
	int n;

	n = MultiByteToWideChar(CP_UTF8, MB_ERR_INVALID_CHARS, s, -1, NULL, 0);
	if (n <= 0 || n > PLAT_WIN_PATH_MAX) {
		*rc = DS_EINVAL;
		return NULL;
	}
	w = malloc((size_t)n * sizeof(*w));
	if (w == NULL) {
		*rc = DS_ENOMEM;
		return NULL;
	}
	if (MultiByteToWideChar(CP_UTF8, MB_ERR_INVALID_CHARS, s, -1, w, n) != n) {
		free(w);
		*rc = DS_EINVAL;
		return NULL;
	}
	*rc = DS_OK;
	return w;
}

/* UTF-16 -> UTF-8, malloc'd and NUL-terminated, or NULL (unpaired surrogates, no memory). */
char *plat_win_utf8(const wchar_t *w)
{
	char *s;
	int n;

	n = WideCharToMultiByte(CP_UTF8, WC_ERR_INVALID_CHARS, w, -1, NULL, 0, NULL, NULL);
	if (n <= 0)
		return NULL;
	s = malloc((size_t)n);
	if (s == NULL)
		return NULL;
	if (WideCharToMultiByte(CP_UTF8, WC_ERR_INVALID_CHARS, w, -1, s, n, NULL, NULL) != n) {
		free(s);
		return NULL;
	}
	return s;
}

static int plat_win_is_sep(wchar_t c)
{
	return c == L'\\' || c == L'/';
}

/* A path for the wide APIs. Long absolute drive paths ("C:\...", MAX_PATH or more) get the "\\?\"
 * prefix, which lifts the 260-character limit but turns off the API's own normalisation, so it is only
 * added to paths without "." or ".." components, with '/' turned into '\'. */
wchar_t *plat_win_path(const char *path, int *rc)
{
	wchar_t *w, *p;
	size_t n, i;
	int dots = 0, drive;

	w = plat_win_wide(path, rc);
	if (w == NULL)
		return NULL;
	n = wcslen(w);
	if (n == 0) {
		free(w);
		*rc = DS_EINVAL;
		return NULL;
	}
	drive = (w[0] >= L'A' && w[0] <= L'Z') || (w[0] >= L'a' && w[0] <= L'z');
	if (n < MAX_PATH - 12 || n + 5 > PLAT_WIN_PATH_MAX || !drive || w[1] != L':' || !plat_win_is_sep(w[2]))
		return w;
	for (i = 0; i < n; i++)
		if (w[i] == L'.' && (i == 0 || plat_win_is_sep(w[i - 1])) &&
		    (plat_win_is_sep(w[i + 1]) || w[i + 1] == 0 || (w[i + 1] == L'.' && (plat_win_is_sep(w[i + 2]) || w[i + 2] == 0))))
			dots = 1;
	if (dots)
		return w;
	p = malloc((n + 5) * sizeof(*p));
	if (p == NULL) {
		free(w);
		*rc = DS_ENOMEM;
		return NULL;
	}
	memcpy(p, L"\\\\?\\", 4 * sizeof(*p));
	for (i = 0; i <= n; i++)
		p[4 + i] = w[i] == L'/' ? L'\\' : w[i];
	free(w);
	return p;
}

static int64_t plat_win_filetime_ns(FILETIME ft)
{
	int64_t t = (int64_t)(((uint64_t)ft.dwHighDateTime << 32) | ft.dwLowDateTime);

	return (t - PLAT_WIN_EPOCH_DIFF) * 100;
}

int plat_file_open_ex(const char *path, int flags, struct plat_file **out)
{
	struct plat_file *f = NULL;
	BY_HANDLE_FILE_INFORMATION info;
	HANDLE h = INVALID_HANDLE_VALUE;
	wchar_t *w;
	FILE_ATTRIBUTE_TAG_INFO tag;
	DWORD attr, share;
	int rc;

	*out = NULL;
	w = plat_win_path(path, &rc);
	if (w == NULL)
		goto out;
	/* Share everything: a dump being written or rotated by someone else must not be locked by us,
	 * unless the caller asks for the file to stay what it checked (PLAT_OPEN_LOCK). */
	share = (flags & PLAT_OPEN_LOCK) ? FILE_SHARE_READ : FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE;
	h = CreateFileW(w, GENERIC_READ, share, NULL, OPEN_EXISTING,
			FILE_ATTRIBUTE_NORMAL | ((flags & PLAT_OPEN_NOFOLLOW) ? FILE_FLAG_OPEN_REPARSE_POINT : 0), NULL);
	if (h == INVALID_HANDLE_VALUE) {
		rc = plat_win_error(GetLastError());
		/* Opening a folder without FILE_FLAG_BACKUP_SEMANTICS is "access denied": say what it is. */
		if (rc == DS_EPERM) {
			attr = GetFileAttributesW(w);
			if (attr != INVALID_FILE_ATTRIBUTES && (attr & FILE_ATTRIBUTE_DIRECTORY))
				rc = DS_EINVAL;
		}
		goto out;
	}
	if (GetFileType(h) != FILE_TYPE_DISK || !GetFileInformationByHandle(h, &info) ||
	    (info.dwFileAttributes & FILE_ATTRIBUTE_DIRECTORY)) {
		rc = DS_EINVAL;
		goto out;
	}
	if ((flags & PLAT_OPEN_NOFOLLOW) && (info.dwFileAttributes & FILE_ATTRIBUTE_REPARSE_POINT) &&
	    (!GetFileInformationByHandleEx(h, FileAttributeTagInfo, &tag, sizeof(tag)) ||
	     tag.ReparseTag == IO_REPARSE_TAG_SYMLINK || tag.ReparseTag == IO_REPARSE_TAG_MOUNT_POINT)) {
		rc = DS_ELINK;
		goto out;
	}
	if ((flags & PLAT_OPEN_SINGLE_LINK) && info.nNumberOfLinks > 1) {
		rc = DS_ELINK;
		goto out;
	}
	f = malloc(sizeof(*f));
	if (f == NULL) {
		rc = DS_ENOMEM;
		goto out;
	}
	f->h = h;
	f->size = ((uint64_t)info.nFileSizeHigh << 32) | info.nFileSizeLow;
	*out = f;
	h = INVALID_HANDLE_VALUE;
	rc = DS_OK;
out:
	if (h != INVALID_HANDLE_VALUE)
		CloseHandle(h);
	free(w);
	return rc;
}

int plat_file_open(const char *path, struct plat_file **out)
{
	return plat_file_open_ex(path, 0, out);
}

static void plat_win_info_id(const BY_HANDLE_FILE_INFORMATION *info, struct plat_file_id *id)
{
	id->dev = info->dwVolumeSerialNumber;
	id->ino = ((uint64_t)info->nFileIndexHigh << 32) | info->nFileIndexLow;
	id->size = ((uint64_t)info->nFileSizeHigh << 32) | info->nFileSizeLow;
	id->mtime_ns = plat_win_filetime_ns(info->ftLastWriteTime);
	id->nlink = info->nNumberOfLinks;
}

int plat_file_identity(struct plat_file *f, struct plat_file_id *id)
{
	BY_HANDLE_FILE_INFORMATION info;

	if (!GetFileInformationByHandle(f->h, &info))
		return DS_EIO;
	plat_win_info_id(&info, id);
	return DS_OK;
}

int plat_file_fd(const struct plat_file *f)
{
	(void)f;
	return -1;
}

int plat_file_child_path(int child_fd, char *out, size_t n)
{
	(void)child_fd;
	if (n > 0)
		out[0] = '\0';
	return DS_EUNSUPPORTED;
}

int plat_unlink_verified(const char *path, const struct plat_file_id *want)
{
	BY_HANDLE_FILE_INFORMATION info;
	FILE_DISPOSITION_INFO disp;
	struct plat_file_id id;
	HANDLE h = INVALID_HANDLE_VALUE;
	wchar_t *w;
	int rc;

	w = plat_win_path(path, &rc);
	if (w == NULL)
		goto out;
	/* The check and the delete go through one handle opened on the link itself: what is deleted is
	 * exactly what was checked (the delete happens when the handle closes). */
	h = CreateFileW(w, DELETE | FILE_READ_ATTRIBUTES, FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE, NULL,
			OPEN_EXISTING, FILE_FLAG_OPEN_REPARSE_POINT, NULL);
	if (h == INVALID_HANDLE_VALUE) {
		rc = plat_win_error(GetLastError());
		goto out;
	}
	if (!GetFileInformationByHandle(h, &info)) {
		rc = plat_win_error(GetLastError());
		goto out;
	}
	plat_win_info_id(&info, &id);
	if (info.dwFileAttributes & FILE_ATTRIBUTE_REPARSE_POINT) {
		rc = DS_ELINK;
		goto out;
	}
	if ((info.dwFileAttributes & FILE_ATTRIBUTE_DIRECTORY) || !plat_file_id_same(&id, want)) {
		rc = DS_ECHANGED;
		goto out;
	}
	if (id.nlink > 1) {
		rc = DS_ELINK;
		goto out;
	}
	disp.DeleteFile = TRUE;
	rc = SetFileInformationByHandle(h, FileDispositionInfo, &disp, sizeof(disp)) ? DS_OK
										  : plat_win_error(GetLastError());
out:
	if (h != INVALID_HANDLE_VALUE)
		CloseHandle(h);
	free(w);
	return rc;
}

void plat_file_close(struct plat_file *f)
{
	if (f != NULL) {
		CloseHandle(f->h);
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
	OVERLAPPED ov;
	DWORD want, got;

	if (off > (uint64_t)INT64_MAX)
		return DS_EIO;
	while (n > 0) {
		/* A positioned read on a synchronous handle: ReadFile takes the offset from OVERLAPPED, so
		 * concurrent readers of the same handle do not disturb each other's position. */
		memset(&ov, 0, sizeof(ov));
		ov.Offset = (DWORD)(off & 0xffffffffu);
		ov.OffsetHigh = (DWORD)(off >> 32);
		want = n > PLAT_WIN_IO_CHUNK ? PLAT_WIN_IO_CHUNK : (DWORD)n;
		got = 0;
		if (!ReadFile(f->h, p, want, &got, &ov) || got == 0)
			return DS_EIO;
		p += got;
		n -= got;
		off += got;
	}
	return DS_OK;
}


/* mode is a POSIX notion: on Windows the new file inherits its folder's ACL, which is what the
 * service's folders are set up for. */
int plat_write_file_atomic(const char *path, const void *data, size_t len, int mode)
{
	const char *p = data;
	char *tmp = NULL;
	wchar_t *wtmp = NULL, *wpath = NULL;
	HANDLE h = INVALID_HANDLE_VALUE;
	size_t tlen;
	DWORD want, put;
	int rc, created = 0;

	(void)mode;
	tlen = strlen(path) + 32;
	tmp = malloc(tlen);
	if (tmp == NULL) {
		rc = DS_ENOMEM;
		goto out;
	}
	snprintf(tmp, tlen, "%s.tmp.%lu", path, (unsigned long)GetCurrentProcessId());
	wpath = plat_win_path(path, &rc);
	if (wpath == NULL)
		goto out;
	wtmp = plat_win_path(tmp, &rc);
	if (wtmp == NULL)
		goto out;
	h = CreateFileW(wtmp, GENERIC_WRITE, 0, NULL, CREATE_ALWAYS, FILE_ATTRIBUTE_NORMAL, NULL);
	if (h == INVALID_HANDLE_VALUE) {
		rc = plat_win_error(GetLastError());
		goto out;
	}
	created = 1;
	while (len > 0) {
		want = len > PLAT_WIN_IO_CHUNK ? PLAT_WIN_IO_CHUNK : (DWORD)len;
		put = 0;
		if (!WriteFile(h, p, want, &put, NULL) || put == 0) {
			rc = DS_EIO;
			goto out;
		}
		p += put;
		len -= put;
	}
	if (!FlushFileBuffers(h)) {
		rc = DS_EIO;
		goto out;
	}
	if (!CloseHandle(h)) {
		h = INVALID_HANDLE_VALUE;
		rc = DS_EIO;
		goto out;
	}
	h = INVALID_HANDLE_VALUE;
	/* Replaces an existing file in one step; WRITE_THROUGH returns only once the rename is on disk. */
	if (!MoveFileExW(wtmp, wpath, MOVEFILE_REPLACE_EXISTING | MOVEFILE_WRITE_THROUGH)) {
		rc = plat_win_error(GetLastError());
		goto out;
	}
	rc = DS_OK;
out:
	if (h != INVALID_HANDLE_VALUE)
		CloseHandle(h);
	if (rc != DS_OK && created)
		DeleteFileW(wtmp);
	free(wtmp);
	free(wpath);
	free(tmp);
	return rc;
}

/* Makes the folder w if missing and checks it is a real folder (no reparse point: a junction or a
 * symbolic link could lead the copy elsewhere). */
static int plat_copy_subdir(const wchar_t *w)
{
	DWORD a;

	if (!CreateDirectoryW(w, NULL) && GetLastError() != ERROR_ALREADY_EXISTS)
		return plat_win_error(GetLastError());
	a = GetFileAttributesW(w);
	if (a == INVALID_FILE_ATTRIBUTES)
		return plat_win_error(GetLastError());
	if ((a & FILE_ATTRIBUTE_REPARSE_POINT) || !(a & FILE_ATTRIBUTE_DIRECTORY))
		return DS_ELINK;
	return DS_OK;
}

int plat_file_copy_atomic(struct plat_file *src, const char *root, const char *rel_dir, const char *name,
			  plat_copy_progress_fn progress, void *ctx)
{
	char *path = NULL, *buf = NULL, comp[256];
	wchar_t *w = NULL, *wtmp = NULL;
	const char *p = rel_dir;
	HANDLE h = INVALID_HANDLE_VALUE;
	size_t len, at, cap, chunk = 1u << 20;
	uint64_t off = 0;
	DWORD put;
	int rc = DS_OK, made = 0;

	if (!plat_path_component_ok(name, strlen(name)) || rel_dir[0] == '\0')
		return DS_EINVAL;
	cap = strlen(root) + strlen(rel_dir) + strlen(name) + 40;
	path = malloc(cap);
	buf = malloc(chunk);
	if (path == NULL || buf == NULL) {
		rc = DS_ENOMEM;
		goto out;
	}
	at = (size_t)snprintf(path, cap, "%s", root);
	while ((rc = plat_path_next_component(&p, comp)) == 1) {
		at += (size_t)snprintf(path + at, cap - at, "\\%s", comp);
		free(w);
		w = plat_win_path(path, &rc);
		if (w == NULL || (rc = plat_copy_subdir(w)) != DS_OK)
			goto out;
	}
	if (rc != DS_OK)
		goto out;
	/* one temporary name per target, so an attempt after a crash replaces what the cut-short one left */
	snprintf(path + at, cap - at, "\\.%s.tmp", name);
	wtmp = plat_win_path(path, &rc);
	snprintf(path + at, cap - at, "\\%s", name);
	free(w);
	w = plat_win_path(path, &rc);
	if (wtmp == NULL || w == NULL) {
		rc = rc != DS_OK ? rc : DS_ENOMEM;
		goto out;
	}
	/* deleted, not opened: a link planted under that name leads nowhere */
	if (!DeleteFileW(wtmp) && GetLastError() != ERROR_FILE_NOT_FOUND) {
		rc = plat_win_error(GetLastError());
		goto out;
	}
	h = CreateFileW(wtmp, GENERIC_WRITE, 0, NULL, CREATE_NEW, FILE_ATTRIBUTE_NORMAL, NULL);
	if (h == INVALID_HANDLE_VALUE) {
		rc = plat_win_error(GetLastError());
		goto out;
	}
	made = 1;
	while (off < src->size) {
		len = src->size - off < chunk ? (size_t)(src->size - off) : chunk;
		rc = plat_file_read_at(src, off, buf, len);
		if (rc != DS_OK)
			goto out;
		if (!WriteFile(h, buf, (DWORD)len, &put, NULL) || put != (DWORD)len) {
			rc = DS_EIO;
			goto out;
		}
		off += len;
		if (progress != NULL && (rc = progress(ctx, off, src->size)) != DS_OK)
			goto out;
	}
	if (!FlushFileBuffers(h) || !CloseHandle(h)) {
		h = INVALID_HANDLE_VALUE;
		rc = DS_EIO;
		goto out;
	}
	h = INVALID_HANDLE_VALUE;
	if (!MoveFileExW(wtmp, w, MOVEFILE_REPLACE_EXISTING | MOVEFILE_WRITE_THROUGH)) {
		rc = plat_win_error(GetLastError());
		goto out;
	}
	made = 0;
out:
	if (h != INVALID_HANDLE_VALUE)
		CloseHandle(h);
	if (made)
		DeleteFileW(wtmp);
	free(wtmp);
	free(w);
	free(buf);
	free(path);
	return rc;
}

int plat_lstat(const char *path, struct plat_stat *out)
{
	BY_HANDLE_FILE_INFORMATION info;
	FILE_ATTRIBUTE_TAG_INFO tag;
	HANDLE h = INVALID_HANDLE_VALUE;
	wchar_t *w;
	int rc, link = 0, dir;

	w = plat_win_path(path, &rc);
	if (w == NULL)
		goto out;
	/* OPEN_REPARSE_POINT opens a link itself rather than its target (lstat, not stat);
	 * BACKUP_SEMANTICS lets folders be opened; no data access is needed for attributes. */
	h = CreateFileW(w, FILE_READ_ATTRIBUTES, FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE, NULL,
			OPEN_EXISTING, FILE_FLAG_OPEN_REPARSE_POINT | FILE_FLAG_BACKUP_SEMANTICS, NULL);
	if (h == INVALID_HANDLE_VALUE) {
		rc = plat_win_error(GetLastError());
		goto out;
	}
	if (!GetFileInformationByHandle(h, &info)) {
		rc = plat_win_error(GetLastError());
		goto out;
	}
	if (info.dwFileAttributes & FILE_ATTRIBUTE_REPARSE_POINT) {
		/* Only symbolic links and junctions are links; other reparse points (cloud placeholders,
		 * deduplicated files) are ordinary files to their readers. */
		if (GetFileInformationByHandleEx(h, FileAttributeTagInfo, &tag, sizeof(tag)))
			link = tag.ReparseTag == IO_REPARSE_TAG_SYMLINK || tag.ReparseTag == IO_REPARSE_TAG_MOUNT_POINT;
		else
			link = 1;
	}
	dir = (info.dwFileAttributes & FILE_ATTRIBUTE_DIRECTORY) != 0;
	out->size = link ? 0 : ((uint64_t)info.nFileSizeHigh << 32) | info.nFileSizeLow;
	out->mtime_ns = plat_win_filetime_ns(info.ftLastWriteTime);
	out->is_symlink = link;
	out->is_dir = dir && !link;
	out->is_regular = !dir && !link && !(info.dwFileAttributes & FILE_ATTRIBUTE_DEVICE);
	rc = DS_OK;
out:
	if (h != INVALID_HANDLE_VALUE)
		CloseHandle(h);
	free(w);
	return rc;
}

int64_t plat_now_ms(void)
{
	FILETIME ft;

	GetSystemTimePreciseAsFileTime(&ft);
	return plat_win_filetime_ns(ft) / 1000000;
}

uint64_t plat_mono_ns(void)
{
	LARGE_INTEGER c, f;
	uint64_t cnt, freq;

	/* Both calls always succeed on Windows XP and later. Split the division so that
	 * count * 1e9 cannot overflow after a long uptime. */
	QueryPerformanceCounter(&c);
	QueryPerformanceFrequency(&f);
	cnt = (uint64_t)c.QuadPart;
	freq = (uint64_t)f.QuadPart;
	if (freq == 0)
		return 0;
	return (cnt / freq) * 1000000000ULL + (cnt % freq) * 1000000000ULL / freq;
}

/* mode is ignored: new folders inherit their parent's ACL (the service sets its own folders' ACLs). */
int plat_mkdirs(const char *path, int mode)
{
	wchar_t *w;
	size_t i, n, start = 0, seps = 0;
	wchar_t c;
	DWORD attr, e;
	int rc;

	(void)mode;
	w = plat_win_path(path, &rc);
	if (w == NULL)
		goto out;
	n = wcslen(w);
	/* Components that cannot be created: "\\server\share\" and "\\?\C:\" (skip past the 4th
	 * separator), and the drive of "C:\". */
	if (n >= 2 && plat_win_is_sep(w[0]) && plat_win_is_sep(w[1])) {
		for (i = 0; i < n && seps < 4; i++)
			if (plat_win_is_sep(w[i]))
				seps++;
		start = i;
	} else if (n >= 2 && w[1] == L':') {
		start = 2;
	}
	for (i = start; i <= n; i++) {
		if (i < n && !plat_win_is_sep(w[i]))
			continue;
		if (i == start || (i > 0 && plat_win_is_sep(w[i - 1])))
			continue; /* a leading or doubled separator: nothing to create */
		c = w[i];
		w[i] = 0;
		if (!CreateDirectoryW(w, NULL)) {
			e = GetLastError();
			attr = GetFileAttributesW(w);
			if (e != ERROR_ALREADY_EXISTS &&
			    (attr == INVALID_FILE_ATTRIBUTES || !(attr & FILE_ATTRIBUTE_DIRECTORY))) {
				rc = plat_win_error(e);
				goto out;
			}
		}
		w[i] = c;
	}
	rc = DS_OK;
out:
	free(w);
	return rc;
}

static HANDLE plat_win_std_handle(int fd)
{
	switch (fd) {
	case 0: return GetStdHandle(STD_INPUT_HANDLE);
	case 1: return GetStdHandle(STD_OUTPUT_HANDLE);
	case 2: return GetStdHandle(STD_ERROR_HANDLE);
	default: return INVALID_HANDLE_VALUE;
	}
}

/* A console, not just any character device: _isatty() is also true for NUL. */
int plat_isatty(int fd)
{
	HANDLE h = plat_win_std_handle(fd);
	DWORD m;

	if (h == NULL || h == INVALID_HANDLE_VALUE)
		return 0;
	return GetFileType(h) == FILE_TYPE_CHAR && GetConsoleMode(h, &m);
}

int plat_term_width(int fd)
{
	HANDLE h = plat_win_std_handle(fd);
	CONSOLE_SCREEN_BUFFER_INFO ci;
	int w;

	if (h == NULL || h == INVALID_HANDLE_VALUE || !GetConsoleScreenBufferInfo(h, &ci))
		return 0;
	w = ci.srWindow.Right - ci.srWindow.Left + 1;
	return w > 0 ? w : 0;
}

int plat_args_utf8(int *argc, char ***argv)
{
	wchar_t **wv;
	char **v = NULL;
	int n = 0, i, rc = DS_OK;

	SetConsoleOutputCP(CP_UTF8);
	wv = CommandLineToArgvW(GetCommandLineW(), &n);
	if (wv == NULL || n < 1) {
		rc = DS_ENOMEM;
		goto out;
	}
	v = calloc((size_t)n + 1, sizeof(*v));
	if (v == NULL) {
		rc = DS_ENOMEM;
		goto out;
	}
	for (i = 0; i < n; i++) {
		v[i] = plat_win_utf8(wv[i]);
		if (v[i] == NULL) {
			rc = DS_ENOMEM;
			goto out;
		}
	}
	/* Kept for the life of the process, like the C runtime's own argv. */
	*argc = n;
	*argv = v;
	v = NULL;
out:
	if (v != NULL) {
		for (i = 0; i < n; i++)
			free(v[i]);
		free(v);
	}
	if (wv != NULL)
		LocalFree(wv);
	return rc;
}

char *plat_exe_dir(void)
{
	wchar_t *w = NULL, *slash, *p;
	char *dir = NULL;
	DWORD cap = MAX_PATH, n;

	/* GetModuleFileNameW truncates silently (returning the buffer size) when the buffer is short. */
	for (;;) {
		free(w);
		w = malloc(cap * sizeof(*w));
		if (w == NULL)
			goto out;
		n = GetModuleFileNameW(NULL, w, cap);
		if (n == 0)
			goto out;
		if (n < cap)
			break;
		if (cap >= PLAT_WIN_PATH_MAX)
			goto out;
		cap *= 2;
	}
	slash = NULL;
	for (p = w; *p != 0; p++)
		if (plat_win_is_sep(*p))
			slash = p;
	if (slash == NULL)
		goto out;
	*slash = 0;
	dir = plat_win_utf8(w);
out:
	free(w);
	return dir;
}

/* uv_spawn (which starts the SOS engine) runs only .exe and .com files, so only those count. */
int plat_is_executable(const char *path)
{
	static const wchar_t *const exts[] = { L".exe", L".com" };
	wchar_t *w;
	DWORD attr;
	size_t n, i;
	int rc, yes = 0;

	w = plat_win_path(path, &rc);
	if (w == NULL)
		return 0;
	attr = GetFileAttributesW(w);
	n = wcslen(w);
	if (attr != INVALID_FILE_ATTRIBUTES && !(attr & FILE_ATTRIBUTE_DIRECTORY) && n > 4)
		for (i = 0; i < DS_ARRAY_LEN(exts); i++)
			if (_wcsicmp(w + n - 4, exts[i]) == 0)
				yes = 1;
	free(w);
	return yes;
}

/* Ends pid and every process it started, children first found from a process snapshot. Windows has
 * no process groups; a child is a process whose parent id is in the set and that was created after
 * that parent (so a reused parent id does not adopt strangers). Best effort, like the POSIX kill. */
static int plat_win_created(DWORD pid, ULONGLONG *t)
{
	HANDLE h = OpenProcess(PROCESS_QUERY_LIMITED_INFORMATION, FALSE, pid);
	FILETIME c, x, k, u;
	int ok = 0;

	if (h == NULL)
		return 0;
	if (GetProcessTimes(h, &c, &x, &k, &u)) {
		*t = ((ULONGLONG)c.dwHighDateTime << 32) | c.dwLowDateTime;
		ok = 1;
	}
	CloseHandle(h);
	return ok;
}

#define PLAT_WIN_KILL_MAX 256

int plat_spawn_detach(void)
{
	return 0;
}

void plat_kill_tree(int pid)
{
	DWORD ids[PLAT_WIN_KILL_MAX];
	ULONGLONG born[PLAT_WIN_KILL_MAX], t;
	PROCESSENTRY32W pe;
	HANDLE snap = INVALID_HANDLE_VALUE, h;
	size_t n = 0, i, j;
	int added;

	if (pid <= 0)
		return;
	ids[n] = (DWORD)pid;
	born[n] = 0;
	if (plat_win_created(ids[n], &t))
		born[n] = t;
	n++;
	snap = CreateToolhelp32Snapshot(TH32CS_SNAPPROCESS, 0);
	/* Grow the set until no process in the snapshot has a parent in it. */
	do {
		added = 0;
		pe.dwSize = sizeof(pe);
		if (snap == INVALID_HANDLE_VALUE || !Process32FirstW(snap, &pe))
			break;
		do {
			for (i = 0; i < n && pe.th32ProcessID != ids[i]; i++)
				;
			if (i < n || n >= PLAT_WIN_KILL_MAX)
				continue;
			for (j = 0; j < n; j++) {
				if (pe.th32ParentProcessID != ids[j])
					continue;
				if (!plat_win_created(pe.th32ProcessID, &t) || t < born[j])
					continue;
				ids[n] = pe.th32ProcessID;
				born[n] = t;
				n++;
				added = 1;
				break;
			}
		} while (Process32NextW(snap, &pe));
	} while (added);
	/* Children last found are the deepest: end them first so none is left to start another. */
	for (i = n; i-- > 0;) {
		h = OpenProcess(PROCESS_TERMINATE, FALSE, ids[i]);
		if (h != NULL) {
			TerminateProcess(h, 1);
			CloseHandle(h);
		}
	}
	if (snap != INVALID_HANDLE_VALUE)
		CloseHandle(snap);
}

char plat_path_list_sep(void)
{
	return ';';
}

int plat_dir_list(const char *path, size_t max, char ***names, size_t *n)
{
	WIN32_FIND_DATAW fd;
	HANDLE fh = INVALID_HANDLE_VALUE;
	wchar_t *w = NULL, *pat = NULL;
	char **v = NULL, **nv, *name;
	size_t cnt = 0, cap = 0, wl;
	DWORD attr, e;
	int rc;

	*names = NULL;
	*n = 0;
	w = plat_win_path(path, &rc);
	if (w == NULL)
		goto out;
	attr = GetFileAttributesW(w);
	if (attr == INVALID_FILE_ATTRIBUTES) {
		rc = plat_win_error(GetLastError());
		goto out;
	}
	if (!(attr & FILE_ATTRIBUTE_DIRECTORY)) {
		rc = DS_EINVAL;
		goto out;
	}
	wl = wcslen(w);
	pat = malloc((wl + 3) * sizeof(*pat));
	if (pat == NULL) {
		rc = DS_ENOMEM;
		goto out;
	}
	memcpy(pat, w, wl * sizeof(*pat));
	if (wl > 0 && !plat_win_is_sep(w[wl - 1]) && !(wl == 2 && w[1] == L':'))
		pat[wl++] = L'\\';
	pat[wl++] = L'*';
	pat[wl] = 0;
	fh = FindFirstFileExW(pat, FindExInfoBasic, &fd, FindExSearchNameMatch, NULL, FIND_FIRST_EX_LARGE_FETCH);
	if (fh == INVALID_HANDLE_VALUE) {
		e = GetLastError();
		/* An empty drive root has not even "." and ".." */
		rc = e == ERROR_FILE_NOT_FOUND ? DS_OK : plat_win_error(e);
		goto out;
	}
	rc = DS_OK;
	do {
		if (wcscmp(fd.cFileName, L".") == 0 || wcscmp(fd.cFileName, L"..") == 0)
			continue;
		/* A name that is not valid UTF-16 (an unpaired surrogate) cannot be named in UTF-8:
		 * leave it out rather than fail the whole listing. */
		name = plat_win_utf8(fd.cFileName);
		if (name == NULL)
			continue;
		if (cnt >= max) {
			free(name);
			rc = DS_ETOOBIG;
			break;
		}
		if (cnt == cap) {
			cap = cap ? cap * 2 : 64;
			nv = realloc(v, cap * sizeof(*v));
			if (nv == NULL) {
				free(name);
				rc = DS_ENOMEM;
				break;
			}
			v = nv;
		}
		v[cnt++] = name;
	} while (FindNextFileW(fh, &fd));
	if (rc == DS_OK && GetLastError() != ERROR_NO_MORE_FILES)
		rc = DS_EIO;
out:
	if (fh != INVALID_HANDLE_VALUE)
		FindClose(fh);
	if (rc == DS_OK) {
		*names = v;
		*n = cnt;
	} else {
		plat_dir_list_free(v, cnt);
	}
	free(pat);
	free(w);
	return rc;
}

void plat_dir_list_free(char **names, size_t n)
{
	size_t i;

	for (i = 0; names != NULL && i < n; i++)
		free(names[i]);
	free(names);
}

/* Like POSIX unlink: a read-only file can still be removed (its folder decides), a folder cannot. */
int plat_unlink(const char *path)
{
	wchar_t *w;
	DWORD attr, e;
	int rc;

	w = plat_win_path(path, &rc);
	if (w == NULL)
		goto out;
	rc = DS_OK;
	if (DeleteFileW(w))
		goto out;
	e = GetLastError();
	attr = GetFileAttributesW(w);
	if (attr != INVALID_FILE_ATTRIBUTES && (attr & FILE_ATTRIBUTE_DIRECTORY)) {
		rc = DS_EINVAL;
	} else if (e == ERROR_ACCESS_DENIED && attr != INVALID_FILE_ATTRIBUTES && (attr & FILE_ATTRIBUTE_READONLY) &&
		   SetFileAttributesW(w, attr & ~(DWORD)FILE_ATTRIBUTE_READONLY)) {
		if (!DeleteFileW(w)) {
			rc = plat_win_error(GetLastError());
			SetFileAttributesW(w, attr);
		}
	} else {
		rc = plat_win_error(e);
	}
out:
	free(w);
	return rc;
}

int plat_rmdir(const char *path)
{
	wchar_t *w;
	int rc;

	w = plat_win_path(path, &rc);
	if (w == NULL)
		return rc;
	rc = RemoveDirectoryW(w) ? DS_OK : plat_win_error(GetLastError());
	if (rc == DS_EIO && GetLastError() == ERROR_DIR_NOT_EMPTY)
		rc = DS_EEXIST; /* POSIX gives ENOTEMPTY (or EEXIST) */
	free(w);
	return rc;
}

/* Windows files have ACLs, not mode bits: the service sets ACLs on its own folders. */
int plat_chmod(const char *path, int mode)
{
	(void)path;
	(void)mode;
	return DS_OK;
}

/* The C runtime's 64-bit time functions, which read the Windows time-zone settings (or TZ). The
 * offset is the broken-down local time read back as if it were UTC, minus t. */
int plat_localtime(int64_t t, struct tm *out, long *utc_offset_s)
{
	__time64_t tt = (__time64_t)t, back;
	struct tm copy;

	if (t < 0 || _localtime64_s(out, &tt) != 0)
		return DS_EINVAL;
	copy = *out;
	back = _mkgmtime64(&copy);
	if (back == -1)
		return DS_EINVAL;
	*utc_offset_s = (long)(back - tt);
	return DS_OK;
}

int plat_gmtime(int64_t t, struct tm *out)
{
	__time64_t tt = (__time64_t)t;

	return _gmtime64_s(out, &tt) == 0 ? DS_OK : DS_EINVAL;
}

int64_t plat_mktime_local(struct tm *tm, int *ok)
{
	__time64_t t = _mktime64(tm);

	*ok = t != -1;
	return (int64_t)t;
}

int plat_random_bytes(void *dst, size_t n)
{
	unsigned char *p = dst;
	ULONG want;

	while (n > 0) {
		want = n > PLAT_WIN_IO_CHUNK ? PLAT_WIN_IO_CHUNK : (ULONG)n;
		if (!BCRYPT_SUCCESS(BCryptGenRandom(NULL, p, want, BCRYPT_USE_SYSTEM_PREFERRED_RNG)))
			return DS_EIO;
		p += want;
		n -= want;
	}
	return DS_OK;
}

int plat_win_sid_in(PSID sid, const WELL_KNOWN_SID_TYPE *types, size_t n)
{
	BYTE buf[SECURITY_MAX_SID_SIZE];
	DWORD len;
	size_t i;

	for (i = 0; i < n; i++) {
		len = sizeof(buf);
		if (CreateWellKnownSid(types[i], NULL, buf, &len) && EqualSid(sid, (PSID)buf))
			return 1;
	}
	return 0;
}

/* 1 if sid is the owner, LocalSystem or the Administrators group: those may read anything anyway. */
static int plat_win_trusted_sid(PSID sid, PSID owner)
{
	static const WELL_KNOWN_SID_TYPE trusted[] = { WinLocalSystemSid, WinBuiltinAdministratorsSid,
						      WinCreatorOwnerSid, WinCreatorOwnerRightsSid };

	return (owner != NULL && EqualSid(sid, owner)) || plat_win_sid_in(sid, trusted, DS_ARRAY_LEN(trusted));
}

int plat_win_dacl(const char *path, PSID *owner, PACL *dacl, PSECURITY_DESCRIPTOR *sd)
{
	SECURITY_INFORMATION what = DACL_SECURITY_INFORMATION | (owner != NULL ? OWNER_SECURITY_INFORMATION : 0);
	wchar_t *w;
	DWORD e;
	int rc;

	*sd = NULL;
	*dacl = NULL;
	w = plat_win_path(path, &rc);
	if (w == NULL)
		return rc;
	e = GetNamedSecurityInfoW(w, SE_FILE_OBJECT, what, owner, NULL, dacl, NULL, sd);
	free(w);
	return e == ERROR_SUCCESS ? DS_OK : plat_win_error(e);
}

int plat_win_ace(PACL dacl, DWORD i, ACCESS_ALLOWED_ACE **ace)
{
	ACE_HEADER *h;

	if (!GetAce(dacl, i, (LPVOID *)&h) || (h->AceFlags & INHERIT_ONLY_ACE))
		return 0;
	*ace = (ACCESS_ALLOWED_ACE *)h;
	return 1;
}

int plat_file_mode(const char *path, int *mode)
{
	const DWORD readers = FILE_READ_DATA | GENERIC_READ | GENERIC_ALL;
	PSECURITY_DESCRIPTOR sd = NULL;
	PSID owner = NULL;
	PACL dacl = NULL;
	ACCESS_ALLOWED_ACE *allow;
	DWORD i;
	int rc, shared;

	rc = plat_win_dacl(path, &owner, &dacl, &sd);
	if (rc != DS_OK)
		goto out;
	shared = dacl == NULL; /* no DACL at all means everyone has full access */
	for (i = 0; dacl != NULL && i < dacl->AceCount && !shared; i++)
		if (plat_win_ace(dacl, i, &allow) && allow->Header.AceType == ACCESS_ALLOWED_ACE_TYPE &&
		    (allow->Mask & readers) && !plat_win_trusted_sid((PSID)&allow->SidStart, owner))
			shared = 1;
	*mode = shared ? 0644 : 0600;
out:
	if (sd != NULL)
		LocalFree(sd);
	return rc;
}

char *plat_home_dir(void)
{
	const wchar_t *w = _wgetenv(L"USERPROFILE");

	return w != NULL && w[0] != 0 ? plat_win_utf8(w) : NULL;
}

/* ---- appending, renaming ---- */

int plat_append_file(const char *path, const void *data, size_t len)
{
	const char *p = data;
	wchar_t *w;
	HANDLE h = INVALID_HANDLE_VALUE;
	DWORD want, done;
	int rc;

	w = plat_win_path(path, &rc);
	if (w == NULL)
		goto out;
	/* FILE_APPEND_DATA alone: every write goes to the end, even with another writer. */
	h = CreateFileW(w, FILE_APPEND_DATA | SYNCHRONIZE, FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE,
			NULL, OPEN_ALWAYS, FILE_ATTRIBUTE_NORMAL, NULL);
	if (h == INVALID_HANDLE_VALUE) {
		rc = plat_win_error(GetLastError());
		goto out;
	}
	rc = DS_OK;
	while (len > 0) {
		want = len > PLAT_WIN_IO_CHUNK ? PLAT_WIN_IO_CHUNK : (DWORD)len;
		if (!WriteFile(h, p, want, &done, NULL) || done == 0) {
			rc = DS_EIO;
			break;
		}
		p += done;
		len -= done;
	}
out:
	if (h != INVALID_HANDLE_VALUE)
		CloseHandle(h);
	free(w);
	return rc;
}

int plat_rename(const char *from, const char *to)
{
	wchar_t *wf, *wt = NULL;
	int rc;

	wf = plat_win_path(from, &rc);
	if (wf == NULL)
		goto out;
	wt = plat_win_path(to, &rc);
	if (wt == NULL)
		goto out;
	rc = MoveFileExW(wf, wt, MOVEFILE_REPLACE_EXISTING) ? DS_OK : plat_win_error(GetLastError());
out:
	free(wf);
	free(wt);
	return rc;
}

char *plat_common_data_dir(void)
{
	wchar_t w[MAX_PATH];

	if (FAILED(SHGetFolderPathW(NULL, CSIDL_COMMON_APPDATA, NULL, SHGFP_TYPE_CURRENT, w)))
		return NULL;
	return plat_win_utf8(w);
}

/* RtlGetVersion's type: ntdll exports it but the import libraries do not declare it for programs. */
typedef LONG(WINAPI *plat_win_rtl_get_version)(RTL_OSVERSIONINFOW *info);

/* The product name from the registry ("Windows 10 Pro") as printable ASCII in out (n bytes), or "" when
 * it is absent, not a string or too long. Windows 11 kept "Windows 10" in this value, so from build
 * 22000 on that prefix is read as "Windows 11". */
static void plat_win_product_name(DWORD build, char *out, size_t n)
{
	wchar_t w[64];
	DWORD size = sizeof(w);
	size_t i = 0, k = 0;

	/* a 64-bit program reads the 64-bit view of the key, where the value is */
	if (RegGetValueW(HKEY_LOCAL_MACHINE, L"SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion", L"ProductName",
			 RRF_RT_REG_SZ, NULL, w, &size) != ERROR_SUCCESS)
		w[0] = 0;
	if (build >= 22000 && wcsncmp(w, L"Windows 10", 10) == 0) {
		snprintf(out, n, "Windows 11");
		k = strlen(out);
		i = 10;
	}
	for (; w[i] != 0 && k + 1 < n; i++)
		out[k++] = w[i] >= 0x20 && w[i] <= 0x7e ? (char)w[i] : '?';
	out[k] = '\0';
}

int plat_os_name(char out[PLAT_OS_NAME_MAX])
{
	plat_win_rtl_get_version get;
	RTL_OSVERSIONINFOW v;
	char product[80];
	HMODULE ntdll;
	int rc = DS_EIO;

	snprintf(out, PLAT_OS_NAME_MAX, "unknown");
	ntdll = GetModuleHandleW(L"ntdll.dll"); /* in every process: no load, no free */
	if (ntdll == NULL)
		goto out;
	/* through a generic function pointer: GetProcAddress's FARPROC is not the function's type */
	get = (plat_win_rtl_get_version)(void (*)(void))GetProcAddress(ntdll, "RtlGetVersion");
	memset(&v, 0, sizeof(v));
	v.dwOSVersionInfoSize = sizeof(v);
	if (get == NULL || get(&v) != 0)
		goto out;
	plat_win_product_name(v.dwBuildNumber, product, sizeof(product));
	if (product[0] != '\0')
		snprintf(out, PLAT_OS_NAME_MAX, "Windows %lu.%lu (build %lu, %s)", (unsigned long)v.dwMajorVersion,
			 (unsigned long)v.dwMinorVersion, (unsigned long)v.dwBuildNumber, product);
	else
		snprintf(out, PLAT_OS_NAME_MAX, "Windows %lu.%lu (build %lu)", (unsigned long)v.dwMajorVersion,
			 (unsigned long)v.dwMinorVersion, (unsigned long)v.dwBuildNumber);
	rc = DS_OK;
out:
	return rc;
}

const char *plat_exe_suffix(void)
{
	return ".exe";
}

const char *plat_dac_name(void)
{
	return "mscordaccore.dll";
}

int plat_is_path_sep(int c)
{
	return c == '/' || c == '\\';
}

int plat_path_is_absolute(const char *path)
{
	if (path == NULL || path[0] == '\0')
		return 0;
	return path[0] == '/' || path[0] == '\\' ||
	       (((path[0] | 0x20) >= 'a' && (path[0] | 0x20) <= 'z') && path[1] == ':');
}

struct plat_lock {
	HANDLE h;
};

int plat_lock_acquire(const char *path, struct plat_lock **out, int *holder)
{
	struct plat_lock *l = NULL;
	OVERLAPPED ov;
	HANDLE h = INVALID_HANDLE_VALUE;
	char pid[32];
	DWORD got = 0, put = 0;
	wchar_t *w;
	int rc, n;

	*out = NULL;
	*holder = 0;
	w = plat_win_path(path, &rc);
	if (w == NULL)
		goto out;
	h = CreateFileW(w, GENERIC_READ | GENERIC_WRITE, FILE_SHARE_READ | FILE_SHARE_WRITE, NULL, OPEN_ALWAYS,
			FILE_ATTRIBUTE_NORMAL, NULL);
	if (h == INVALID_HANDLE_VALUE) {
		rc = plat_win_error(GetLastError());
		goto out;
	}
	/* the lock covers a byte far past the pid, so the holder's pid stays readable; Windows drops it
	 * when the process ends */
	memset(&ov, 0, sizeof(ov));
	ov.Offset = 0x40000000u;
	if (!LockFileEx(h, LOCKFILE_EXCLUSIVE_LOCK | LOCKFILE_FAIL_IMMEDIATELY, 0, 1, 0, &ov)) {
		rc = DS_EBUSY;
		if (ReadFile(h, pid, sizeof(pid) - 1, &got, NULL))
			pid[got] = '\0', *holder = atoi(pid);
		goto out;
	}
	n = snprintf(pid, sizeof(pid), "%lu\r\n", (unsigned long)GetCurrentProcessId());
	if (SetFilePointer(h, 0, NULL, FILE_BEGIN) == INVALID_SET_FILE_POINTER || !SetEndOfFile(h) ||
	    !WriteFile(h, pid, (DWORD)n, &put, NULL) || put != (DWORD)n) {
		rc = DS_EIO;
		goto out;
	}
	l = malloc(sizeof(*l));
	if (l == NULL) {
		rc = DS_ENOMEM;
		goto out;
	}
	l->h = h;
	h = INVALID_HANDLE_VALUE;
	*out = l;
	rc = DS_OK;
out:
	if (h != INVALID_HANDLE_VALUE)
		CloseHandle(h);
	free(w);
	return rc;
}

void plat_lock_release(struct plat_lock *l)
{
	if (l != NULL) {
		CloseHandle(l->h);
		free(l);
	}
}

void plat_private_files(void)
{
}

int plat_dir_private_default(const char *path)
{
	(void)path;
	return DS_OK;
}

int plat_reap_orphan_engines(const char *const *dump_dirs, size_t n)
{
	(void)dump_dirs;
	(void)n;
	return 0;
}
