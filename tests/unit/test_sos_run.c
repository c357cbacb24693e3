/* test_sos_run.c - the engine driver against the real dotnet-dump on real dumps (a Windows minidump on
 * this Linux host, a Linux core without .NET) and against a stand-in engine that hangs, floods or dies,
 * to prove every limit ends the session with the right status and never hangs the caller. */
#include "t.h"
#include "analyzer/sos_run.h"
#include "core/plat.h"

#include <signal.h>
#include <sys/types.h>
#include <unistd.h>

#define FAKE "tests/fixtures/fake_engine/dotnet-dump"
#define REAL ".tools/dotnet-dump"

static void quick_limits(struct sos_limits *lim)
{
	sos_limits_default(lim);
	lim->cmd_timeout_ms = 1500;
	lim->dump_timeout_ms = 4000;
	lim->max_output = 1 << 20;
}

TEST(missing_engine_is_a_clear_status)
{
	struct sos_limits lim;
	struct sos_run *s = NULL;
	enum sos_status st;
	struct ds_err e = { 0 };

	quick_limits(&lim);
	CHECK_INT(sos_run_open(NULL, "x.dmp", &lim, &s, &st, &e), DS_EENGINE);
	CHECK_INT(st, SOS_ENGINE_MISSING);
	CHECK(strstr(e.msg, "dotnet-dump") != NULL);
	CHECK_INT(sos_run_open("/nonexistent/dotnet-dump", "x.dmp", &lim, &s, &st, &e), DS_EENGINE);
	CHECK_INT(st, SOS_ENGINE_MISSING);
	CHECK(s == NULL);
	CHECK_STR(sos_status_name(SOS_NO_DAC), "no_dac");
	CHECK(sos_run_find_engine("/nonexistent/engine") == NULL);
}

TEST(real_engine_refuses_windows_dump_on_linux)
{
	struct sos_limits lim;
	struct sos_run *s = NULL;
	enum sos_status st;
	struct ds_err e = { 0 };

	if (!plat_is_executable(REAL))
		SKIP("no %s (run make deps)", REAL);
	sos_limits_default(&lim);
	CHECK_INT(sos_run_open(REAL, T_CORPUS "/dumps/mdmp/lldb__sigsegv.dmp", &lim, &s, &st, &e), DS_EUNSUPPORTED);
	CHECK_INT(st, SOS_UNSUPPORTED_HOST);
	CHECK(s == NULL);
}

TEST(real_engine_reports_no_clr_on_native_core)
{
	struct sos_limits lim;
	struct sos_run *s = NULL;
	enum sos_status st;
	struct ds_err e = { 0 };
	struct buf out;
	int failed = 0;
	size_t len = 0;

	if (!plat_is_executable(REAL))
		SKIP("no %s (run make deps)", REAL);
	sos_limits_default(&lim);
	buf_init(&out, 1 << 20);
	CHECK_INT(sos_run_open(REAL, T_CORPUS "/dumps/elf/lldb__linux-x86_64.core", &lim, &s, &st, &e), DS_OK);
	if (s != NULL) {
		CHECK_INT(sos_run_cmd(s, "dumpheap -type System.Reflection.LoaderAllocator", &out, &failed), DS_OK);
		CHECK_INT(failed, 1);
		CHECK(out.data != NULL && strstr(out.data, "No CLR runtime found") != NULL);
		CHECK(out.data != NULL && strstr(out.data, "> dumpheap") == NULL); /* echo stripped */
		CHECK_INT(sos_run_status(s), SOS_NO_DAC);
		CHECK(strstr(sos_run_transcript(s, &len), "<END_COMMAND_ERROR>") != NULL);
		CHECK(len > 0);
		sos_run_close(s);
	}
	buf_free(&out);
}

/* Opens the stand-in engine on a dump whose name selects its fault. */
static struct sos_run *fake_open(const char *name, struct sos_limits *lim, enum sos_status *st, int *rc)
{
	struct sos_run *s = NULL;
	struct ds_err e = { 0 };

	*rc = sos_run_open(FAKE, name, lim, &s, st, &e);
	return s;
}

TEST(hang_at_start_times_out_within_dump_limit)
{
	struct sos_limits lim;
	enum sos_status st;
	uint64_t t0 = plat_mono_ns();
	int rc;

	quick_limits(&lim);
	lim.dump_timeout_ms = 1000;
	CHECK(fake_open("hang-start.dmp", &lim, &st, &rc) == NULL);
	CHECK_INT(rc, DS_ETIMEOUT);
	CHECK_INT(st, SOS_TIMEOUT);
	/* Generous bound: only proves the driver returned instead of waiting for the hour-long sleep. */
	CHECK(plat_mono_ns() - t0 < 30ull * 1000000000ull);
}

TEST(hang_in_command_times_out_and_kills)
{
	struct sos_limits lim;
	enum sos_status st;
	struct sos_run *s;
	struct buf out;
	int rc, failed;

	quick_limits(&lim);
	buf_init(&out, 4096);
	s = fake_open("hang-cmd.dmp", &lim, &st, &rc);
	CHECK_INT(rc, DS_OK);
	if (s != NULL) {
		CHECK_INT(sos_run_cmd(s, "dumpheap -stat", &out, &failed), DS_ETIMEOUT);
		CHECK_INT(sos_run_status(s), SOS_TIMEOUT);
		/* The session is dead: further commands fail at once. */
		CHECK_INT(sos_run_cmd(s, "gcroot 1234", &out, &failed), DS_ETIMEOUT);
		sos_run_close(s);
	}
	buf_free(&out);
}

TEST(flood_hits_output_cap)
{
	struct sos_limits lim;
	enum sos_status st;
	struct sos_run *s;
	struct buf out;
	int rc, failed;

	quick_limits(&lim);
	lim.max_output = 256 * 1024;
	lim.cmd_timeout_ms = 20000;
	buf_init(&out, 1 << 20);
	s = fake_open("flood.dmp", &lim, &st, &rc);
	CHECK_INT(rc, DS_OK);
	if (s != NULL) {
		CHECK_INT(sos_run_cmd(s, "dumpheap", &out, &failed), DS_ETOOBIG);
		CHECK_INT(sos_run_status(s), SOS_TOOBIG);
		CHECK(out.len <= 256 * 1024);
		sos_run_close(s);
	}
	buf_free(&out);
}

TEST(engine_crash_is_failed_not_hang)
{
	struct sos_limits lim;
	enum sos_status st;
	struct sos_run *s;
	struct buf out;
	int rc, failed;

	quick_limits(&lim);
	lim.cmd_timeout_ms = 20000;
	buf_init(&out, 4096);
	s = fake_open("crash.dmp", &lim, &st, &rc);
	CHECK_INT(rc, DS_OK);
	if (s != NULL) {
		CHECK_INT(sos_run_cmd(s, "dumpheap", &out, &failed), DS_EENGINE);
		CHECK_INT(sos_run_status(s), SOS_FAILED);
		sos_run_close(s);
	}
	buf_free(&out);
}

TEST(outputs_split_per_command)
{
	struct sos_limits lim;
	enum sos_status st;
	struct sos_run *s;
	struct buf a, b;
	int rc, failed = 1;

	quick_limits(&lim);
	buf_init(&a, 4096);
	buf_init(&b, 4096);
	s = fake_open("garbage.dmp", &lim, &st, &rc);
	CHECK_INT(rc, DS_OK);
	if (s != NULL) {
		CHECK_INT(sos_run_cmd(s, "one", &a, &failed), DS_OK);
		CHECK_INT(failed, 0);
		CHECK_INT(sos_run_cmd(s, "two", &b, &failed), DS_OK);
		CHECK(a.data != NULL && strstr(a.data, "garbage") != NULL && strstr(a.data, "END_COMMAND") == NULL);
		CHECK(b.data != NULL && strstr(b.data, "> two") == NULL && strstr(b.data, "> one") == NULL);
		/* A command with a newline could smuggle a second command: refused. */
		CHECK_INT(sos_run_cmd(s, "gcroot 1\nexit", &a, &failed), DS_EINVAL);
		sos_run_close(s);
	}
	buf_free(&a);
	buf_free(&b);
}

int main(void)
{
	signal(SIGPIPE, SIG_IGN);
	RUN(missing_engine_is_a_clear_status);
	RUN(real_engine_refuses_windows_dump_on_linux);
	RUN(real_engine_reports_no_clr_on_native_core);
	RUN(hang_at_start_times_out_within_dump_limit);
	RUN(hang_in_command_times_out_and_kills);
	RUN(flood_hits_output_cap);
	RUN(engine_crash_is_failed_not_hang);
	RUN(outputs_split_per_command);
	return t_total_failed != 0;
}
