/* t.h - the unit-test harness: one TEST per behaviour, each run in order by T_MAIN; results are
 * printed as "PASS name" / "FAIL name: where: why" lines that tests/run.sh counts. A test that crashes
 * is reported by the runner (the program's exit status), so one crash cannot hide as a pass. */
#ifndef DS_T_H
#define DS_T_H

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int t_cur_failed;
static int t_total_failed;

#define TEST(name) static void name(void)

#define T_FAIL_(...)                                                                       \
	do {                                                                               \
		if (!t_cur_failed)                                                         \
			printf("FAIL %s: %s:%d: ", t_cur_name, __FILE__, __LINE__);         \
		else                                                                       \
			printf("     also %s:%d: ", __FILE__, __LINE__);                   \
		printf(__VA_ARGS__);                                                       \
		printf("\n");                                                              \
		t_cur_failed = 1;                                                          \
	} while (0)

static const char *t_cur_name = "";

#define CHECK(cond)                                                                        \
	do {                                                                               \
		if (!(cond))                                                               \
			T_FAIL_("CHECK(%s)", #cond);                                       \
	} while (0)

#define CHECK_INT(a, b)                                                                    \
	do {                                                                               \
		long long t_a_ = (long long)(a), t_b_ = (long long)(b);                    \
		if (t_a_ != t_b_)                                                          \
			T_FAIL_("%s == %lld, expected %s == %lld", #a, t_a_, #b, t_b_);    \
	} while (0)

#define CHECK_U64(a, b)                                                                    \
	do {                                                                               \
		unsigned long long t_a_ = (unsigned long long)(a), t_b_ = (unsigned long long)(b); \
		if (t_a_ != t_b_)                                                          \
			T_FAIL_("%s == 0x%llx, expected 0x%llx", #a, t_a_, t_b_);          \
	} while (0)

#define CHECK_STR(a, b)                                                                    \
	do {                                                                               \
		const char *t_a_ = (a), *t_b_ = (b);                                       \
		if (t_a_ == NULL || t_b_ == NULL ? t_a_ != t_b_ : strcmp(t_a_, t_b_) != 0) \
			T_FAIL_("%s == \"%s\", expected \"%s\"", #a, t_a_ ? t_a_ : "(null)", \
				t_b_ ? t_b_ : "(null)");                                    \
	} while (0)

/* Skips the current test with a reason (counted as skipped, not passed). */
#define SKIP(...)                                                                          \
	do {                                                                               \
		printf("SKIP %s: ", t_cur_name);                                           \
		printf(__VA_ARGS__);                                                       \
		printf("\n");                                                              \
		t_cur_failed = -1;                                                         \
		return;                                                                    \
	} while (0)

static void t_run(const char *name, void (*fn)(void))
{
	t_cur_name = name;
	t_cur_failed = 0;
	fflush(stdout);
	fn();
	if (t_cur_failed == 0)
		printf("PASS %s\n", name);
	else if (t_cur_failed > 0)
		t_total_failed++;
	fflush(stdout);
}

#define RUN(name) t_run(#name, name)

/* Path of the shared corpus, from the project root (tests run from there). */
#define T_CORPUS "../shared/corpus"

#endif
