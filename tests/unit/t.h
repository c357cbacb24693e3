/* t.h - the unit-test harness: one TEST per behaviour, each run by RUN in a child process of its own
 * (fork, as libuv's runner does) with a time limit (T_TIMEOUT seconds: 600, tests/run.sh's limit for a
 * whole program, so never stricter than that; the environment variable DS_TEST_TIMEOUT overrides it),
 * so a test that crashes, hangs or corrupts memory is reported
 * as that test's failure and the tests after it still run. Results are printed as "PASS name" /
 * "FAIL name: where: why" / "SKIP name: why" lines that tests/run.sh counts into its "N passed, N failed"
 * totals. Where fork does not exist (the Wine build of the Windows tests) the tests run in-process. */
#ifndef DS_T_H
#define DS_T_H

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#ifndef _WIN32
#include <errno.h>
#include <signal.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>
#endif

#ifndef T_TIMEOUT
#define T_TIMEOUT 600
#endif
/* A forked test's exit status when it failed (and said why) or skipped; any other non-zero status is a
 * death the test did not report itself (exit() in the code under test, a sanitizer). */
#define T_EXIT_FAILED 97
#define T_EXIT_SKIPPED 98

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

/* Runs one test body in this process; returns 0 passed, T_EXIT_FAILED, or T_EXIT_SKIPPED. */
static int t_run_here(const char *name, void (*fn)(void))
{
	t_cur_name = name;
	t_cur_failed = 0;
	fflush(stdout);
	fn();
	if (t_cur_failed == 0)
		printf("PASS %s\n", name);
	fflush(stdout);
	return t_cur_failed == 0 ? 0 : t_cur_failed > 0 ? T_EXIT_FAILED : T_EXIT_SKIPPED;
}

#ifdef _WIN32
static void t_run(const char *name, void (*fn)(void))
{
	if (t_run_here(name, fn) == T_EXIT_FAILED)
		t_total_failed++;
}
#else
/* Forks; the child runs the test under alarm() and exits with t_run_here's result. The parent reports a
 * child that died of a signal, timed out, or exited with another status (a sanitizer, valgrind) as a
 * failure of that test. */
static void t_run(const char *name, void (*fn)(void))
{
	const char *env = getenv("DS_TEST_TIMEOUT");
	unsigned limit = env != NULL && atoi(env) > 0 ? (unsigned)atoi(env) : T_TIMEOUT;
	int status = 0;
	pid_t pid, w;

	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (pid < 0) {
		perror("fork");
		if (t_run_here(name, fn) == T_EXIT_FAILED)
			t_total_failed++;
		return;
	}
	if (pid == 0) {
		signal(SIGALRM, SIG_DFL);
		alarm(limit);
		exit(t_run_here(name, fn));
	}
	do
		w = waitpid(pid, &status, 0);
	while (w < 0 && errno == EINTR);
	if (w == pid && WIFEXITED(status) && (WEXITSTATUS(status) == 0 || WEXITSTATUS(status) == T_EXIT_SKIPPED))
		return;
	t_total_failed++;
	if (w != pid)
		printf("FAIL %s: waitpid: %s\n", name, strerror(errno));
	else if (WIFEXITED(status) && WEXITSTATUS(status) == T_EXIT_FAILED)
		return; /* the child printed its FAIL line */
	else if (WIFSIGNALED(status) && WTERMSIG(status) == SIGALRM)
		printf("FAIL %s: timed out after %u s\n", name, limit);
	else if (WIFSIGNALED(status))
		printf("FAIL %s: crashed (signal %d: %s)\n", name, WTERMSIG(status), strsignal(WTERMSIG(status)));
	else
		printf("FAIL %s: exited with status %d\n", name, WEXITSTATUS(status));
	fflush(stdout);
}
#endif

#define RUN(name) t_run(#name, name)

/* Path of the third-party corpus (tests/corpus/SOURCES.md), from the project root (tests run from there). */
#define T_CORPUS "tests/corpus"

#endif
