/* test_plat.c - the platform layer's contract (core/plat.h), written once for every OS: the Linux build
 * runs it against plat_posix.c, and tests/e2e/test_windows_build.sh cross-compiles it and runs it under
 * Wine against plat_win.c. It works in a fresh folder under build/ and removes it at the end. */
#include "t.h"
#include "core/ds.h"
#include "core/plat.h"
#ifdef _WIN32
#include "core/win.h"
#endif

#include <time.h>
#ifndef _WIN32
#include <sys/stat.h>
#include <unistd.h>
#endif

static char dir[128];

/* dir/name into out. */
static const char *p(char *out, size_t n, const char *name)
{
	snprintf(out, n, "%s/%s", dir, name);
	return out;
}

/* Names the scratch folder every test uses (in main, so each forked test inherits the name). */
static int t_name_dir(void)
{
	unsigned char r[6];
	int rc = plat_random_bytes(r, sizeof(r));

	snprintf(dir, sizeof(dir), "build/tests/plat-%02x%02x%02x%02x%02x%02x/a/b", r[0], r[1], r[2], r[3], r[4], r[5]);
	return rc;
}

TEST(plat_scratch_folder)
{
	struct plat_stat st;

	CHECK_INT(plat_mkdirs(dir, 0700), DS_OK);
	CHECK_INT(plat_mkdirs(dir, 0700), DS_OK); /* already there: still fine */
	CHECK_INT(plat_lstat(dir, &st), DS_OK);
	CHECK(st.is_dir && !st.is_regular && !st.is_symlink);
}

TEST(plat_write_read_roundtrip)
{
	static const char text[] = "line one\nline two\n\0binary\xff";
	struct plat_file *f = NULL;
	struct plat_stat st;
	char path[256], buf[8], *data = NULL;
	size_t len = 0;

	p(path, sizeof(path), "data.bin");
	CHECK_INT(plat_write_file_atomic(path, text, sizeof(text), 0600), DS_OK);
	CHECK_INT(plat_read_file(path, 1024, &data, &len), DS_OK);
	CHECK_INT(len, sizeof(text));
	CHECK(data != NULL && memcmp(data, text, sizeof(text)) == 0 && data[len] == '\0');
	free(data);
	data = NULL;
	CHECK_INT(plat_read_file(path, 4, &data, &len), DS_ETOOBIG);
	CHECK(data == NULL);
	/* replacing an existing file is atomic and complete */
	CHECK_INT(plat_write_file_atomic(path, "new", 3, 0600), DS_OK);
	CHECK_INT(plat_read_file(path, 1024, &data, &len), DS_OK);
	CHECK(len == 3 && data != NULL && strcmp(data, "new") == 0);
	free(data);

	CHECK_INT(plat_write_file_atomic(path, text, sizeof(text), 0600), DS_OK);
	CHECK_INT(plat_file_open(path, &f), DS_OK);
	if (f != NULL) {
		CHECK_U64(plat_file_size(f), sizeof(text));
		CHECK_INT(plat_file_read_at(f, 5, buf, 3), DS_OK);
		CHECK(memcmp(buf, "one", 3) == 0);
		CHECK_INT(plat_file_read_at(f, sizeof(text) - 2, buf, 4), DS_EIO); /* past the end */
		plat_file_close(f);
	}
	CHECK_INT(plat_lstat(path, &st), DS_OK);
	CHECK(st.is_regular && !st.is_dir && !st.is_symlink);
	CHECK_U64(st.size, sizeof(text));
	/* written just now: within a day of the wall clock */
	CHECK(st.mtime_ns / 1000000 > plat_now_ms() - 86400000LL && st.mtime_ns / 1000000 < plat_now_ms() + 86400000LL);
}

TEST(plat_errors)
{
	struct plat_file *f = (struct plat_file *)1;
	struct plat_stat st;
	char path[256], *data = (char *)1;
	size_t len;

	CHECK_INT(plat_file_open(p(path, sizeof(path), "missing"), &f), DS_ENOENT);
	CHECK(f == NULL);
	CHECK_INT(plat_read_file(path, 10, &data, &len), DS_ENOENT);
	CHECK(data == NULL);
	CHECK_INT(plat_lstat(path, &st), DS_ENOENT);
	CHECK_INT(plat_file_open(dir, &f), DS_EINVAL); /* a folder is not a regular file */
	CHECK_INT(plat_unlink(path), DS_ENOENT);
}

TEST(plat_dir_list_unlink_rmdir)
{
	/* "é" and "日本": names the ANSI code page cannot always hold; UTF-8 must round-trip */
	static const char *const names[] = { "x.dmp", "caf\xc3\xa9.dmp", "\xe6\x97\xa5\xe6\x9c\xac.dmp" };
	char path[256], **got = NULL;
	size_t n = 0, i, j, found = 0;

	for (i = 0; i < DS_ARRAY_LEN(names); i++)
		CHECK_INT(plat_write_file_atomic(p(path, sizeof(path), names[i]), "x", 1, 0600), DS_OK);
	CHECK_INT(plat_dir_list(dir, 100, &got, &n), DS_OK);
	for (i = 0; i < n; i++) {
		CHECK(strcmp(got[i], ".") != 0 && strcmp(got[i], "..") != 0);
		for (j = 0; j < DS_ARRAY_LEN(names); j++)
			found += strcmp(got[i], names[j]) == 0;
	}
	CHECK_INT(found, DS_ARRAY_LEN(names));
	plat_dir_list_free(got, n);
	got = NULL;
	CHECK_INT(plat_dir_list(dir, 1, &got, &n), DS_ETOOBIG);
	CHECK(got == NULL);
	CHECK_INT(plat_dir_list(p(path, sizeof(path), names[0]), 10, &got, &n), DS_EINVAL);
	CHECK_INT(plat_dir_list(p(path, sizeof(path), "nope"), 10, &got, &n), DS_ENOENT);

	CHECK(plat_rmdir(dir) != DS_OK); /* not empty */
	CHECK_INT(plat_unlink(dir), DS_EINVAL); /* unlink never removes a folder */
	CHECK_INT(plat_unlink(p(path, sizeof(path), "data.bin")), DS_OK);
	for (i = 0; i < DS_ARRAY_LEN(names); i++)
		CHECK_INT(plat_unlink(p(path, sizeof(path), names[i])), DS_OK);
	CHECK_INT(plat_dir_list(dir, 100, &got, &n), DS_OK);
	CHECK_INT(n, 0);
	plat_dir_list_free(got, n);
}

TEST(plat_clocks)
{
	uint64_t a, b;
	int64_t now = plat_now_ms();

	CHECK(now > 1577836800000LL);  /* after 2020-01-01 */
	CHECK(now < 4102444800000LL);  /* before 2100-01-01 */
	a = plat_mono_ns();
	b = plat_mono_ns();
	CHECK(b >= a);
}

TEST(plat_time_conversions)
{
	struct tm tm, back;
	long off = 99999;
	int64_t t = 1700000000, again;
	int ok = 0;

	CHECK_INT(plat_gmtime(t, &tm), DS_OK); /* 2023-11-14 22:13:20 UTC, a Tuesday */
	CHECK_INT(tm.tm_year, 123);
	CHECK_INT(tm.tm_mon, 10);
	CHECK_INT(tm.tm_mday, 14);
	CHECK_INT(tm.tm_hour, 22);
	CHECK_INT(tm.tm_min, 13);
	CHECK_INT(tm.tm_sec, 20);
	CHECK_INT(tm.tm_wday, 2);
	CHECK_INT(plat_localtime(t, &tm, &off), DS_OK);
	CHECK(off >= -14 * 3600 && off <= 14 * 3600 && off % 60 == 0);
	back = tm;
	back.tm_isdst = -1;
	again = plat_mktime_local(&back, &ok);
	CHECK(ok);
	CHECK_INT(again, t);
}

TEST(plat_misc)
{
	unsigned char a[32], b[32];
	char path[256], *exe;
	int mode = -1;

	CHECK_INT(plat_random_bytes(a, sizeof(a)), DS_OK);
	CHECK_INT(plat_random_bytes(b, sizeof(b)), DS_OK);
	CHECK(memcmp(a, b, sizeof(a)) != 0);
#ifdef _WIN32
	CHECK_INT(plat_path_list_sep(), ';');
	CHECK_STR(plat_dac_name(), "mscordaccore.dll"); /* the name in the runtime's Windows packages */
	exe = plat_common_data_dir();
	CHECK(exe != NULL && plat_path_is_absolute(exe));
	free(exe);
#else
	CHECK_INT(plat_path_list_sep(), ':');
#ifdef __APPLE__
	CHECK_STR(plat_dac_name(), "libmscordaccore.dylib");
#else
	CHECK_STR(plat_dac_name(), "libmscordaccore.so"); /* the name in the runtime's Linux packages */
#endif
	CHECK(plat_common_data_dir() == NULL); /* POSIX has no machine-wide data folder of its own */
#endif
	CHECK_INT(plat_write_file_atomic(p(path, sizeof(path), "notes.txt"), "x", 1, 0600), DS_OK);
	CHECK(!plat_is_executable(path));
	CHECK(!plat_is_executable(dir));
	CHECK_INT(plat_file_mode(path, &mode), DS_OK);
	CHECK(mode == 0600 || mode == 0644);
	CHECK_INT(plat_file_mode(p(path, sizeof(path), "nope"), &mode), DS_ENOENT);
	CHECK_INT(plat_unlink(p(path, sizeof(path), "notes.txt")), DS_OK);
	exe = plat_exe_dir();
	CHECK(exe != NULL && exe[0] != '\0');
	free(exe);
	CHECK(plat_term_width(1) >= 0);
}

/* The source file src_name with data (its path into src, 256 bytes) opened as a dump, and the empty
 * folder share_name (into share, 256 bytes); NULL (a failed check) when the open fails. */
static struct plat_file *t_copy_setup(const char *src_name, char *src, const char *share_name, char *share,
				      const char *data, size_t n)
{
	struct plat_file *f = NULL;

	p(src, 256, src_name);
	p(share, 256, share_name);
	CHECK_INT(plat_write_file_atomic(src, data, n, 0600), DS_OK);
	CHECK_INT(plat_mkdirs(share, 0700), DS_OK);
	CHECK_INT(plat_file_open_ex(src, PLAT_OPEN_DUMP, &f), DS_OK);
	return f;
}

/* Removes the copy share/a[/b]/name, its folders and share. */
static void t_rm_copy(const char *share, const char *a, const char *b, const char *name)
{
	char path[300];

	snprintf(path, sizeof(path), "%s/%s%s%s/%s", share, a, b != NULL ? "/" : "", b != NULL ? b : "", name);
	CHECK_INT(plat_unlink(path), DS_OK);
	if (b != NULL) {
		snprintf(path, sizeof(path), "%s/%s/%s", share, a, b);
		CHECK_INT(plat_rmdir(path), DS_OK);
	}
	snprintf(path, sizeof(path), "%s/%s", share, a);
	CHECK_INT(plat_rmdir(path), DS_OK);
	CHECK_INT(plat_rmdir(share), DS_OK);
}

/* The progress callback of plat_copy_stops: counts its calls, stops at the second chunk. */
struct copy_seen {
	int calls;
	uint64_t done, total;
};

static int copy_stop_second(void *ctx, uint64_t done, uint64_t total)
{
	struct copy_seen *c = ctx;

	c->calls++;
	c->done = done;
	c->total = total;
	return c->calls == 2 ? DS_ECANCELED : DS_OK;
}

/* plat_file_copy_atomic stopped by its progress callback leaves neither the copy nor its temporary
 * file; the remains of an earlier cut-short attempt under the temporary name (a file, or on POSIX a
 * FIFO that would block whoever opens it) are replaced and gone after the next copy. */
TEST(plat_copy_stops)
{
	size_t n = (5u << 20) / 2, cnt = 0;
	struct plat_file *f = NULL;
	struct copy_seen seen = { 0 };
	char src[256], share[256], dst[300], **names = NULL, *data = calloc(1, n);
	struct plat_stat st;

	CHECK(data != NULL);
	if (data == NULL)
		return;
	f = t_copy_setup("stop-src.bin", src, "share-stop", share, data, n);
	if (f == NULL)
		goto out;
	CHECK_INT(plat_file_copy_atomic(f, share, "h", "z.dmp", copy_stop_second, &seen), DS_ECANCELED);
	CHECK_INT(seen.calls, 2);
	CHECK_U64(seen.done, 2u << 20);
	CHECK_U64(seen.total, n);
	snprintf(dst, sizeof(dst), "%s/h", share);
	CHECK_INT(plat_dir_list(dst, 100, &names, &cnt), DS_OK);
	CHECK(cnt == 0);
	plat_dir_list_free(names, cnt);
	/* what a killed attempt leaves: its temporary file */
	snprintf(dst, sizeof(dst), "%s/h/.z.dmp.tmp", share);
	CHECK_INT(plat_write_file_atomic(dst, "partial", 7, 0600), DS_OK);
	CHECK_INT(plat_file_copy_atomic(f, share, "h", "z.dmp", NULL, NULL), DS_OK);
	CHECK_INT(plat_lstat(dst, &st), DS_ENOENT);
#ifndef _WIN32
	CHECK(mkfifo(dst, 0600) == 0);
	CHECK_INT(plat_file_copy_atomic(f, share, "h", "z.dmp", NULL, NULL), DS_OK);
	CHECK_INT(plat_lstat(dst, &st), DS_ENOENT);
#endif
	snprintf(dst, sizeof(dst), "%s/h/z.dmp", share);
	CHECK_INT(plat_lstat(dst, &st), DS_OK);
	CHECK_U64(st.size, n);
	t_rm_copy(share, "h", NULL, "z.dmp");
out:
	plat_file_close(f);
	CHECK_INT(plat_unlink(src), DS_OK);
	free(data);
}

/* plat_os_name: the OS as people know it, checked against a source that is not the call itself. POSIX:
 * exactly what `uname -sr` prints. Windows: "Windows MAJOR.MINOR (build N" with the numbers the registry
 * keeps beside the product name, which follows when the registry has one. */
TEST(plat_os_name_says_what_runs)
{
	char name[PLAT_OS_NAME_MAX], want[PLAT_OS_NAME_MAX + 64];
#ifdef _WIN32
	const char *cv = "HKLM\\SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion";
	char *build = NULL, *product = NULL;
	uint32_t major = 0, minor = 0;

	CHECK_INT(plat_os_name(name), DS_OK);
	CHECK(strncmp(name, "Windows ", 8) == 0);
	CHECK(strlen(name) < PLAT_OS_NAME_MAX);
	CHECK_INT(win_reg_get_str(cv, "CurrentBuildNumber", NULL, &build), DS_OK);
	if (win_reg_get_dword(cv, "CurrentMajorVersionNumber", &major) == DS_OK &&
	    win_reg_get_dword(cv, "CurrentMinorVersionNumber", &minor) == DS_OK) { /* Windows 10 and later */
		snprintf(want, sizeof(want), "Windows %u.%u (build %s", (unsigned)major, (unsigned)minor,
			 build != NULL ? build : "?");
		if (strncmp(name, want, strlen(want)) != 0)
			T_FAIL_("plat_os_name gave \"%s\", the registry says \"%s...\"", name, want);
	} else {
		snprintf(want, sizeof(want), "(build %s", build != NULL ? build : "?");
		CHECK(strstr(name, want) != NULL);
	}
	if (win_reg_get_str(cv, "ProductName", NULL, &product) == DS_OK && atoi(build != NULL ? build : "0") < 22000) {
		snprintf(want, sizeof(want), ", %s)", product);
		if (strstr(name, want) == NULL)
			T_FAIL_("plat_os_name gave \"%s\", without the product name \"%s\"", name, product);
	}
	free(build);
	free(product);
#else
	FILE *f = popen("uname -sr", "r"); /* a fixed command: nothing from outside reaches the shell */
	size_t n = 0;

	CHECK(f != NULL);
	if (f != NULL) {
		n = fread(want, 1, sizeof(want) - 1, f);
		pclose(f);
	}
	want[n] = '\0';
	while (n > 0 && (want[n - 1] == '\n' || want[n - 1] == '\r'))
		want[--n] = '\0';
	CHECK(n > 0);
	CHECK_INT(plat_os_name(name), DS_OK);
	CHECK_STR(name, want);
#endif
	CHECK(name[0] != '\0');
}

/* plat_file_copy_atomic: the copy is of the open file, byte for byte (over several read chunks), even
 * when its path names another file by the time of the copy; the folders are made; bad names and (POSIX)
 * a symbolic link among the folders are refused; no temporary file stays behind. */
TEST(plat_copy_atomic)
{
	size_t n = (3u << 20) / 2 + 7, i, len = 0, cnt = 0;
	struct plat_file *f = NULL;
	char src[256], moved[256], share[256], dst[300], **names = NULL, *want = malloc(n), *got = NULL;
	struct plat_stat st;

	CHECK(want != NULL);
	if (want == NULL)
		return;
	for (i = 0; i < n; i++)
		want[i] = (char)(i * 7 + i / 4099);
	p(moved, sizeof(moved), "copy-moved.bin");
	f = t_copy_setup("copy-src.bin", src, "share", share, want, n);
	if (f == NULL)
		goto out;
#ifndef _WIN32
	/* the path now names another file: the copy must still be the one opened */
	CHECK_INT(plat_rename(src, moved), DS_OK);
	CHECK_INT(plat_write_file_atomic(src, "swapped", 7, 0600), DS_OK);
#endif
	CHECK_INT(plat_file_copy_atomic(f, share, "host-1/2026-12-03", "x.dmp", NULL, NULL), DS_OK);
	snprintf(dst, sizeof(dst), "%s/host-1/2026-12-03/x.dmp", share);
	CHECK_INT(plat_read_file(dst, n + 1, &got, &len), DS_OK);
	CHECK(got != NULL && len == n && memcmp(got, want, n) == 0);
	/* again over an existing copy: replaced whole */
	CHECK_INT(plat_file_copy_atomic(f, share, "host-1/2026-12-03", "x.dmp", NULL, NULL), DS_OK);
	CHECK_INT(plat_lstat(dst, &st), DS_OK);
	CHECK_U64(st.size, n);
	snprintf(dst, sizeof(dst), "%s/host-1/2026-12-03", share);
	CHECK_INT(plat_dir_list(dst, 100, &names, &cnt), DS_OK);
	CHECK(cnt == 1 && names != NULL && strcmp(names[0], "x.dmp") == 0);
	plat_dir_list_free(names, cnt);
	CHECK_INT(plat_file_copy_atomic(f, share, "host-1/..", "y.dmp", NULL, NULL), DS_EINVAL);
	CHECK_INT(plat_file_copy_atomic(f, share, "host-1//d", "y.dmp", NULL, NULL), DS_EINVAL);
	CHECK_INT(plat_file_copy_atomic(f, share, "", "y.dmp", NULL, NULL), DS_EINVAL);
	CHECK_INT(plat_file_copy_atomic(f, share, "host-1", "a/y.dmp", NULL, NULL), DS_EINVAL);
	CHECK_INT(plat_file_copy_atomic(f, share, "host-1", "..", NULL, NULL), DS_EINVAL);
	snprintf(dst, sizeof(dst), "%s/none", share);
	CHECK_INT(plat_file_copy_atomic(f, dst, "host-1", "y.dmp", NULL, NULL), DS_ENOENT);
#ifndef _WIN32
	snprintf(dst, sizeof(dst), "%s/host-1/link", share);
	CHECK(symlink("2026-12-03", dst) == 0);
	CHECK_INT(plat_file_copy_atomic(f, share, "host-1/link", "y.dmp", NULL, NULL), DS_ELINK);
	CHECK_INT(plat_unlink(dst), DS_OK);
	CHECK_INT(plat_unlink(moved), DS_OK);
#endif
	t_rm_copy(share, "host-1", "2026-12-03", "x.dmp");
out:
	plat_file_close(f);
	CHECK_INT(plat_unlink(src), DS_OK);
	free(got);
	free(want);
}

#ifdef _WIN32
/* The folder ACLs of core/win.h (win_acl.c) against the Windows ACL API itself: an SDDL is accepted and
 * the DACL reads back as SDDL; the ACL readers answer for it; a bad SDDL is refused before any folder is
 * made, and a missing folder is DS_ENOENT. (Under Wine the DACL set is not kept by the file system and
 * reads back as Wine's default, so what the DACL grants is checked by the Windows service test only.) */
TEST(win_acl)
{
	char path[256], *sddl = NULL;
	int yes = -1, mode = -1;

	p(path, sizeof(path), "acl");
	CHECK_INT(win_acl_set_sddl(path, "D:P(A;OICI;FA;;;SY)(A;OICI;FA;;;BA)(A;OICI;FA;;;WD)"), DS_OK);
	CHECK_INT(win_acl_get_sddl(path, &sddl), DS_OK);
	CHECK(sddl != NULL && strncmp(sddl, "D:", 2) == 0 && strstr(sddl, ";;;SY)") != NULL);
	free(sddl);
	CHECK_INT(win_acl_users_can_create(path, &yes), DS_OK);
	CHECK(yes == 0 || yes == 1);
	CHECK_INT(plat_file_mode(path, &mode), DS_OK);
	CHECK(mode == 0600 || mode == 0644);
	CHECK_INT(plat_rmdir(path), DS_OK);
	CHECK_INT(win_acl_set_sddl(path, "D:P(bogus"), DS_EINVAL);
	CHECK_INT(win_acl_get_sddl(path, &sddl), DS_ENOENT);
	CHECK_INT(win_acl_users_can_create(path, &yes), DS_ENOENT);
}
#endif

TEST(plat_cleanup)
{
	char d[128], *slash;
	int i;

	/* dir is build/tests/plat-XXXX/a/b: remove b, a and plat-XXXX */
	snprintf(d, sizeof(d), "%s", dir);
	for (i = 0; i < 3; i++) {
		CHECK_INT(plat_rmdir(d), DS_OK);
		slash = strrchr(d, '/');
		if (slash == NULL)
			break;
		*slash = '\0';
	}
}

int main(int argc, char **argv)
{
	if (plat_args_utf8(&argc, &argv) != DS_OK || argc < 1 || t_name_dir() != DS_OK)
		return 1;
	RUN(plat_scratch_folder);
	RUN(plat_write_read_roundtrip);
	RUN(plat_errors);
	RUN(plat_dir_list_unlink_rmdir);
	RUN(plat_clocks);
	RUN(plat_time_conversions);
	RUN(plat_misc);
	RUN(plat_os_name_says_what_runs);
	RUN(plat_copy_atomic);
	RUN(plat_copy_stops);
#ifdef _WIN32
	RUN(win_acl);
#endif
	RUN(plat_cleanup);
	return t_total_failed != 0;
}
