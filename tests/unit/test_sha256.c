/* test_sha256.c - SHA-256 against the FIPS 180-4 / NIST example vectors, split updates and files. */
#include "t.h"
#include "core/sha256.h"

#include <stdio.h>
#include <stdlib.h>

TEST(nist_vectors)
{
	char hex[65];
	char *a;

	sha256_hex("", 0, hex);
	CHECK_STR(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	sha256_hex("abc", 3, hex);
	CHECK_STR(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	sha256_hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", 56, hex);
	CHECK_STR(hex, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
	sha256_hex("abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu",
		   112, hex);
	CHECK_STR(hex, "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1");
	a = malloc(1000000);
	CHECK(a != NULL);
	if (a != NULL) {
		memset(a, 'a', 1000000);
		sha256_hex(a, 1000000, hex);
		CHECK_STR(hex, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
		free(a);
	}
}

TEST(split_updates_match_one_shot)
{
	static const char msg[] = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
	struct sha256 c;
	uint8_t d[32];
	char one[65], hex[65];
	size_t cut, i;

	sha256_hex(msg, sizeof(msg) - 1, one);
	for (cut = 0; cut < sizeof(msg); cut++) {
		sha256_init(&c);
		sha256_update(&c, msg, cut);
		sha256_update(&c, msg + cut, sizeof(msg) - 1 - cut);
		sha256_final(&c, d);
		for (i = 0; i < 32; i++)
			snprintf(hex + 2 * i, 3, "%02x", d[i]);
		CHECK_STR(hex, one);
	}
}

TEST(file_digest)
{
	char tmpl[] = "/tmp/ds_sha_XXXXXX", path[64], hex[65];
	FILE *f;
	int rc;

	CHECK(mkdtemp(tmpl) != NULL);
	snprintf(path, sizeof(path), "%s/abc", tmpl);
	f = fopen(path, "wb");
	CHECK(f != NULL);
	if (f == NULL)
		return;
	fputs("abc", f);
	fclose(f);
	rc = sha256_file(path, hex);
	CHECK_INT(rc, DS_OK);
	CHECK_STR(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	remove(path);
	rc = sha256_file(path, hex);
	CHECK_INT(rc, DS_ENOENT);
	CHECK_STR(hex, "");
	remove(tmpl);
}

int main(void)
{
	RUN(nist_vectors);
	RUN(split_updates_match_one_shot);
	RUN(file_digest);
	return t_total_failed != 0;
}
