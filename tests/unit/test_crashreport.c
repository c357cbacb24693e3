/* test_crashreport.c - the createdump crash report reader, on the real reports the fixtures produce
 * (build/fixtures/dumps/, made by `make fixtures`) and on hostile hand-made inputs. */
#include "t.h"
#include "analyzer/crashreport.h"
#include "core/plat.h"

#define S10 "build/fixtures/dumps/s10-unhandled-exception.dmp.crashreport.json"

TEST(real_report_of_unhandled_exception)
{
	struct crashreport r;
	struct ds_err e = { 0 };
	struct plat_stat st;
	size_t i;
	int found = 0;

	if (plat_lstat(S10, &st) != DS_OK)
		SKIP("no %s (make fixtures)", S10);
	CHECK_INT(crashreport_read_file(S10, &r, &e), DS_OK);
	/* The fixture host (tests/fixtures/dotnet/Host) throws InvalidOperationException from RunThrow. */
	CHECK_STR(r.exception_type, "System.InvalidOperationException");
	CHECK(r.has_hresult);
	CHECK_U64(r.exception_hresult, 0x80131509u); /* COR_E_INVALIDOPERATION */
	CHECK_STR(r.process_name, "Scout.Host.dll");
	CHECK(r.runtime_version != NULL && strncmp(r.runtime_version, "10.", 3) == 0);
	CHECK(strchr(r.runtime_version ? r.runtime_version : " ", ' ') == NULL);
	CHECK(r.has_crashed_thread && r.crashed_thread_id != 0);
	for (i = 0; i < r.nframes; i++)
		if (strstr(r.frames[i].method, "RunThrow") != NULL)
			found = 1;
	CHECK(found);
	crashreport_free(&r);
}

TEST(hostile_reports_fail_cleanly)
{
	static const char *const bad[] = {
		"", "not json", "[]", "{\"payload\": 3}", "{\"payload\": {\"threads\": 7}}",
		"{\"payload\": {\"threads\": [{\"crashed\": \"true\", \"native_thread_id\": \"-1\", "
		"\"stack_frames\": [1, null, {\"is_managed\": \"true\"}, {\"is_managed\": true, \"method_name\": 5}]}]}}",
		"{\"payload\": {\"configuration\": {\"version\": 12}, \"process_name\": [\"x\"]}}",
	};
	struct crashreport r;
	struct ds_err e = { 0 };
	size_t i;
	int rc;

	for (i = 0; i < DS_ARRAY_LEN(bad); i++) {
		rc = crashreport_parse(bad[i], strlen(bad[i]), &r, &e);
		CHECK(rc == DS_OK || rc == DS_EPARSE);
		if (rc == DS_OK) {
			CHECK(r.process_name == NULL);
			CHECK(r.nframes == 0);
			CHECK(!r.has_crashed_thread);
			crashreport_free(&r);
		}
	}
	CHECK_INT(crashreport_parse("[]", 2, &r, &e), DS_EPARSE);
}

TEST(values_are_strings_converted)
{
	const char *js = "{\"payload\": {\"process_name\": \"app\", \"configuration\": {\"version\": \"8.0.10 @Commit: abc\"},"
			 "\"threads\": [{\"crashed\": \"false\", \"native_thread_id\": \"0x1\"},"
			 "{\"crashed\": \"true\", \"native_thread_id\": \"0x684f\", \"managed_exception_type\": \"X.Y\","
			 "\"managed_exception_hresult\": \"0x80004005\", \"stack_frames\": ["
			 "{\"is_managed\": \"false\", \"native_module\": \"libc.so.6\"},"
			 "{\"is_managed\": \"true\", \"method_name\": \"A.B()\", \"filename\": \"a.dll\", \"il_offset\": \"0xf\"}]}]}}";
	struct crashreport r;
	struct ds_err e = { 0 };

	CHECK_INT(crashreport_parse(js, strlen(js), &r, &e), DS_OK);
	CHECK_STR(r.runtime_version, "8.0.10");
	CHECK_U64(r.crashed_thread_id, 0x684f);
	CHECK_STR(r.exception_type, "X.Y");
	CHECK_U64(r.exception_hresult, 0x80004005u);
	CHECK_INT(r.nframes, 1);
	if (r.nframes == 1) {
		CHECK_STR(r.frames[0].method, "A.B()");
		CHECK_STR(r.frames[0].module, "a.dll");
		CHECK_INT(r.frames[0].il_offset, 15);
	}
	crashreport_free(&r);
}

int main(void)
{
	RUN(real_report_of_unhandled_exception);
	RUN(hostile_reports_fail_cleanly);
	RUN(values_are_strings_converted);
	return t_total_failed != 0;
}
