/* test_fileid.c - file identity in the platform layer (core/plat.h "File identity"): links are refused,
 * a replaced or rewritten file is told apart from the recorded one, and the verified unlink leaves
 * anything but the recorded file alone. POSIX: it makes symlinks and hard links with the OS's calls. */
#include "t.h"
#include "core/ds.h"
#include "core/plat.h"

#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static char dir[128];

static const char *p(char *out, size_t n, const char *name)
{
	snprintf(out, n, "%s/%s", dir, name);
	return out;
}

static void put(const char *path, const char *text)
{
	FILE *f = fopen(path, "wb");

	if (f != NULL) {
		fputs(text, f);
		fclose(f);
	}
}

/* Sets path's mtime to sec (whole seconds) so a rewrite can be made to look like a same-second one. */
static void set_mtime(const char *path, time_t sec)
{
	struct timespec ts[2] = { { sec, 0 }, { sec, 0 } };

	utimensat(AT_FDCWD, path, ts, 0);
}

static int id_of(const char *path, struct plat_file_id *id)
{
	struct plat_file *f = NULL;
	int rc = plat_file_open_ex(path, PLAT_OPEN_DUMP, &f);

	if (rc == DS_OK)
		rc = plat_file_identity(f, id);
	plat_file_close(f);
	return rc;
}

/* The scratch folder is made in main, before the tests fork: each test runs in a child of its own. */
static int fileid_scratch(void)
{
	unsigned char r[6];

	if (plat_random_bytes(r, sizeof(r)) != DS_OK)
		return -1;
	snprintf(dir, sizeof(dir), "build/tests/fileid-%02x%02x%02x%02x%02x%02x", r[0], r[1], r[2], r[3], r[4], r[5]);
	return plat_mkdirs(dir, 0700) == DS_OK ? 0 : -1;
}

TEST(fileid_symlink_and_hardlink_refused)
{
	char a[256], l[256], h[256];
	struct plat_file *f = NULL;

	put(p(a, sizeof(a), "a.dmp"), "MDMP");
	CHECK_INT(symlink("a.dmp", p(l, sizeof(l), "link.dmp")), 0);
	CHECK_INT(plat_file_open_ex(l, PLAT_OPEN_NOFOLLOW, &f), DS_ELINK);
	CHECK(f == NULL);
	/* Without the flag the old behaviour stays (other callers read configs through links). */
	CHECK_INT(plat_file_open_ex(l, 0, &f), DS_OK);
	plat_file_close(f);
	f = NULL;
	CHECK_INT(plat_file_open_ex(a, PLAT_OPEN_DUMP, &f), DS_OK);
	plat_file_close(f);
	f = NULL;
	CHECK_INT(link(a, p(h, sizeof(h), "hard.dmp")), 0);
	CHECK_INT(plat_file_open_ex(h, PLAT_OPEN_SINGLE_LINK, &f), DS_ELINK);
	CHECK_INT(plat_file_open_ex(a, PLAT_OPEN_DUMP, &f), DS_ELINK); /* both names have nlink 2 */
	CHECK(f == NULL);
	unlink(h);
	unlink(l);
	unlink(a);
}

TEST(fileid_text_roundtrip)
{
	struct plat_file_id a = { 2049, 1234567, 99, -5, 1 }, b;
	char t[PLAT_FILE_ID_TEXT];

	plat_file_id_format(&a, t);
	CHECK_STR(t, "2049:1234567:99:-5");
	CHECK_INT(plat_file_id_parse(t, &b), DS_OK);
	CHECK(plat_file_id_same(&a, &b));
	a.mtime_ns = INT64_MAX;
	a.dev = UINT64_MAX;
	plat_file_id_format(&a, t);
	CHECK_INT(plat_file_id_parse(t, &b), DS_OK);
	CHECK(plat_file_id_same(&a, &b));
	CHECK_INT(plat_file_id_parse("1:2:3", &b), DS_EINVAL);
	CHECK_INT(plat_file_id_parse("1:2:3:4x", &b), DS_EINVAL);
	CHECK_INT(plat_file_id_parse("1::3:4", &b), DS_EINVAL);
	CHECK_INT(plat_file_id_parse("18446744073709551616:2:3:4", &b), DS_EINVAL);
	CHECK_INT(plat_file_id_parse(NULL, &b), DS_EINVAL);
}

TEST(fileid_verified_open_detects_swap_and_rewrite)
{
	char a[256], t[256], root[256];
	struct plat_file_id id, id2;
	struct plat_file *f = NULL;

	put(p(a, sizeof(a), "v.dmp"), "MDMP one");
	set_mtime(a, 1700000000);
	CHECK_INT(id_of(a, &id), DS_OK);
	CHECK_U64(id.size, 8);
	CHECK_INT(plat_file_open_verified(a, &id, &f), DS_OK);
	CHECK(f != NULL && plat_file_fd(f) >= 0);
	plat_file_close(f);
	f = NULL;
	/* Rewritten in place (same inode): a new size with the old mtime, then the old size with a new mtime. */
	put(a, "MDMP two!");
	set_mtime(a, 1700000000);
	CHECK_INT(plat_file_open_verified(a, &id, &f), DS_ECHANGED);
	put(a, "MDMP one");
	set_mtime(a, 1700000001);
	CHECK_INT(plat_file_open_verified(a, &id, &f), DS_ECHANGED);
	/* Swapped: another file renamed over the name, same size and mtime (a new inode). */
	put(p(t, sizeof(t), "tmp"), "MDMP one");
	set_mtime(t, 1700000000);
	CHECK_INT(id_of(t, &id2), DS_OK);
	CHECK(!plat_file_id_same(&id, &id2));
	CHECK_INT(rename(t, a), 0);
	CHECK_INT(plat_file_open_verified(a, &id, &f), DS_ECHANGED);
	/* Swapped for a symlink to a file only root may read (here: any other file). */
	put(p(root, sizeof(root), "secret"), "root only");
	unlink(a);
	CHECK_INT(symlink("secret", a), 0);
	CHECK_INT(plat_file_open_verified(a, &id, &f), DS_ELINK);
	CHECK(f == NULL);
	unlink(a);
	unlink(root);
}

TEST(fileid_child_path)
{
	char path[64];

	CHECK_INT(plat_file_child_path(3, path, sizeof(path)), DS_OK);
#ifdef __linux__
	CHECK_STR(path, "/proc/self/fd/3");
#endif
	CHECK_INT(plat_file_child_path(3, path, 4), DS_EINVAL);
}

TEST(fileid_unlink_verified_keeps_anything_else)
{
	char a[256], t[256];
	struct plat_file_id id;
	struct plat_stat st;

	put(p(a, sizeof(a), "u.dmp"), "MDMP");
	set_mtime(a, 1700000000);
	CHECK_INT(id_of(a, &id), DS_OK);
	/* Rewritten: kept. */
	put(a, "MDMP rewritten");
	CHECK_INT(plat_unlink_verified(a, &id), DS_ECHANGED);
	CHECK_INT(plat_lstat(a, &st), DS_OK);
	/* Replaced by a symlink to another file: neither the link nor its target goes. */
	put(p(t, sizeof(t), "target"), "MDMP");
	set_mtime(t, 1700000000);
	unlink(a);
	CHECK_INT(symlink("target", a), 0);
	CHECK_INT(plat_unlink_verified(a, &id), DS_ELINK);
	CHECK_INT(plat_lstat(a, &st), DS_OK);
	CHECK_INT(plat_lstat(t, &st), DS_OK);
	unlink(a);
	/* The recorded file itself: gone. */
	put(a, "MDMP");
	set_mtime(a, 1700000000);
	CHECK_INT(id_of(a, &id), DS_OK);
	CHECK_INT(plat_unlink_verified(a, &id), DS_OK);
	CHECK_INT(plat_lstat(a, &st), DS_ENOENT);
	CHECK_INT(plat_unlink_verified(a, &id), DS_ENOENT);
	unlink(t);
}

TEST(fileid_cleanup)
{
	CHECK_INT(plat_rmdir(dir), DS_OK);
}

int main(void)
{
	if (fileid_scratch() != 0) {
		fprintf(stderr, "test_fileid: cannot make a scratch folder under build/tests\n");
		return 1;
	}
	RUN(fileid_symlink_and_hardlink_refused);
	RUN(fileid_text_roundtrip);
	RUN(fileid_verified_open_detects_swap_and_rewrite);
	RUN(fileid_child_path);
	RUN(fileid_unlink_verified_keeps_anything_else);
	RUN(fileid_cleanup);
	return t_total_failed != 0;
}
