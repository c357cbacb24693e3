# windows.mk - the Windows cross-build with mingw-w64 (docs/windows.md):
#   make windows-deps      toolchain packages + static libuv, SQLite, cJSON, curl, OpenSSL and libpq in
#                          build/win/prefix
#                          (installer/windows/build_deps.sh; cached, idempotent)
#   make windows           build/win/dumpscout.exe, and build/win/dumpscoutd.exe once service/main_win.c exists
#   make fixtures-windows  build/fixtures/windows/crash.dmp: a real minidump of a crashing Windows program
#                          written by Wine's winedbg (tests/fixtures/windows/make_dump.sh)
# Same source lists as the Linux build, with the OS-specific files swapped: plat_win.c for plat_posix.c,
# *_win.c for *_posix.c, plus the Windows integration core/win_*.c (core/win.h) that only this build
# compiles. Everything goes under build/win; nothing here touches the Linux build.
WIN_DIR ?= build/win
WIN_TRIPLE := x86_64-w64-mingw32
WIN_CC := $(WIN_TRIPLE)-gcc
WIN_AR := $(WIN_TRIPLE)-ar
WIN_PREFIX := $(WIN_DIR)/prefix
WIN_DEPS_STAMP := $(WIN_DIR)/stamps/deps.done

# Windows 10 API level; C99 printf (%zu, %lld) from mingw's own stdio rather than msvcrt's; the
# wide-character API by default; cJSON and curl linked statically (no dllimport/dllexport).
WIN_CFLAGS := -std=c11 -Wall -Wextra -Werror -O2 -fno-strict-aliasing -MMD -MP \
	-D_WIN32_WINNT=0x0A00 -DWINVER=0x0A00 -DUNICODE -D_UNICODE -D__USE_MINGW_ANSI_STDIO=1 \
	-DCJSON_HIDE_SYMBOLS -DCURL_STATICLIB -DDS_HAVE_LIBPQ \
	-I. -I$(WIN_PREFIX)/include -I$(WIN_PREFIX)/include/cjson $(WIN_CFLAGS_EXTRA)
WIN_LDFLAGS := -static -s
WIN_LIBS := -L$(WIN_PREFIX)/lib -lcurl -lsqlite3 -lcjson -luv \
	-lpq -lpgcommon_shlib -lpgport_shlib -lssl -lcrypto -lgdi32 \
	-lws2_32 -liphlpapi -luserenv -lpsapi -ldbghelp -ladvapi32 -luser32 -lole32 -lshell32 \
	-lbcrypt -lcrypt32 -lsecur32

WIN_CORE_SRC := $(filter-out core/plat_posix.c %_posix.c,$(wildcard core/*.c))
WIN_ANALYZER_SRC := $(filter-out %_posix.c,$(wildcard analyzer/*.c))
WIN_LIB_SRC := $(filter-out %_posix.c,$(wildcard lib/*.c))
WIN_SERVICE_SRC := $(filter-out service/main_posix.c service/main_win.c %_posix.c,$(wildcard service/*.c))
WIN_CLI_SRC := $(filter-out %_posix.c,$(wildcard cli/*.c))

win_obj = $(patsubst %.c,$(WIN_DIR)/obj/%.o,$(1))
WIN_CORE_OBJ := $(call win_obj,$(WIN_CORE_SRC)) $(WIN_DIR)/obj/gen/schema_embed.o \
	$(WIN_DIR)/obj/gen/fleet_schema_embed.o
WIN_ANALYZER_OBJ := $(call win_obj,$(WIN_ANALYZER_SRC))
WIN_LIB_OBJ := $(call win_obj,$(WIN_LIB_SRC))
WIN_SERVICE_OBJ := $(call win_obj,$(WIN_SERVICE_SRC))
WIN_CLI_OBJ := $(call win_obj,$(WIN_CLI_SRC))
WIN_LIBCORE := $(WIN_DIR)/libdscore.a
WIN_LIBANALYZER := $(WIN_DIR)/libdsanalyzer.a
WIN_LIBDS := $(WIN_DIR)/libdumpscout.a
WIN_LIBSERVICE := $(WIN_DIR)/libdsservice.a
WIN_CLI_EXE := $(WIN_DIR)/dumpscout.exe
WIN_SERVICE_EXE := $(WIN_DIR)/dumpscoutd.exe
WIN_EXES := $(WIN_CLI_EXE) $(if $(wildcard service/main_win.c),$(WIN_SERVICE_EXE))

.PHONY: windows windows-deps
windows: $(WIN_EXES)

windows-deps:
	bash installer/windows/build_deps.sh
	@mkdir -p $(dir $(WIN_DEPS_STAMP)) && touch $(WIN_DEPS_STAMP)

# make test builds the cross-built libraries first, outside any one test's time limit (from scratch they
# take longer than tests/run.sh gives a test: OpenSSL and libpq alone are several minutes on 2 cores).
test check: $(WIN_DEPS_STAMP)

# The libraries are (re)built when the recipe changes; the script itself skips finished steps.
$(WIN_DEPS_STAMP): installer/windows/build_deps.sh installer/windows/mingw64.cmake
	bash installer/windows/build_deps.sh
	@mkdir -p $(dir $@) && touch $@

$(WIN_DIR)/obj/%.o: %.c | $(WIN_DEPS_STAMP)
	@mkdir -p $(dir $@)
	$(WIN_CC) $(WIN_CFLAGS) -c $< -o $@

# core/fleetdb.c compiles against libpq-fe.h from the prefix: redone when the libraries are.
$(call win_obj,core/fleetdb.c): $(WIN_DEPS_STAMP)

# Generated sources (the schema, the culprit catalogue) come from the Linux build's $(BUILD)/gen.
$(WIN_DIR)/obj/gen/%.o: $(BUILD)/gen/%.c | $(WIN_DEPS_STAMP)
	@mkdir -p $(dir $@)
	$(WIN_CC) $(WIN_CFLAGS) -c $< -o $@

$(WIN_LIBCORE): $(WIN_CORE_OBJ)
	@rm -f $@
	$(WIN_AR) rcs $@ $^
$(WIN_LIBANALYZER): $(WIN_ANALYZER_OBJ) $(WIN_DIR)/obj/gen/culprits_data.o
	@rm -f $@
	$(WIN_AR) rcs $@ $^
$(WIN_LIBDS): $(WIN_LIB_OBJ)
	@rm -f $@
	$(WIN_AR) rcs $@ $^
$(WIN_LIBSERVICE): $(WIN_SERVICE_OBJ)
	@rm -f $@
	$(WIN_AR) rcs $@ $^

# Archives, in dependency order: only what a program uses is linked in. The CLI does not link the
# daemon's archive, as on Linux.
WIN_LINK_LIBS := $(WIN_LIBDS) $(WIN_LIBANALYZER) $(WIN_LIBCORE)

$(WIN_CLI_EXE): $(WIN_CLI_OBJ) $(WIN_LINK_LIBS)
	$(WIN_CC) $(WIN_LDFLAGS) -o $@ $(WIN_CLI_OBJ) $(WIN_LINK_LIBS) $(WIN_LIBS)

# The service carries a message table (service/eventlog_win.mc: event 1 = "%1"), so the Event Viewer
# shows the text of its events; the Event Log source points at dumpscoutd.exe.
WIN_SERVICE_RES := $(WIN_DIR)/obj/service/eventlog_win.res.o
$(WIN_SERVICE_RES): service/eventlog_win.mc
	@mkdir -p $(WIN_DIR)/obj/service/mc
	$(WIN_TRIPLE)-windmc -h $(WIN_DIR)/obj/service/mc -r $(WIN_DIR)/obj/service/mc $<
	$(WIN_TRIPLE)-windres -I $(WIN_DIR)/obj/service/mc $(WIN_DIR)/obj/service/mc/eventlog_win.rc -o $@

$(WIN_SERVICE_EXE): $(call win_obj,service/main_win.c) $(WIN_SERVICE_RES) $(WIN_LIBSERVICE) $(WIN_LINK_LIBS)
	$(WIN_CC) $(WIN_LDFLAGS) -o $@ $(call win_obj,service/main_win.c) $(WIN_SERVICE_RES) $(WIN_LIBSERVICE) \
		$(WIN_LINK_LIBS) $(WIN_LIBS)

# Unit tests cross-built for Wine (tests/e2e/test_windows_build.sh runs build/win/tests/test_plat.exe).
$(WIN_DIR)/tests/test_%.exe: tests/unit/test_%.c tests/unit/t.h $(WIN_LIBSERVICE) $(WIN_LINK_LIBS)
	@mkdir -p $(dir $@)
	$(WIN_CC) $(WIN_CFLAGS) $(WIN_LDFLAGS) -o $@ $< $(WIN_LIBSERVICE) $(WIN_LINK_LIBS) $(WIN_LIBS)

-include $(shell find $(WIN_DIR)/obj -name '*.d' 2>/dev/null)

# A real minidump from Windows code: a mingw-built program that crashes, caught under Wine.
WIN_FIX := $(BUILD)/fixtures/windows
WIN_WINEPREFIX ?= $(WIN_DIR)/wineprefix

# ...and real Windows .NET heap dumps: the win-x64 self-contained plugin host crashed under Wine, createdump
# writing them (tests/fixtures/windows/make_dotnet_dumps.sh; cached by a hash of the sources).
.PHONY: fixtures-windows
fixtures-windows: $(WIN_FIX)/crash.dmp fixtures-windows-dotnet

$(WIN_FIX)/crash.exe: tests/fixtures/windows/crash.c
	@mkdir -p $(dir $@)
	$(WIN_CC) -std=c11 -Wall -Wextra -Werror -O0 -g -static -o $@ $<

$(WIN_FIX)/crash.dmp: $(WIN_FIX)/crash.exe tests/fixtures/windows/make_dump.sh
	WINEPREFIX=$(abspath $(WIN_WINEPREFIX)) bash tests/fixtures/windows/make_dump.sh $(WIN_FIX)/crash.exe $(WIN_FIX)

# `make test` makes the Windows .NET dumps before the tests run (a full dump under Wine takes minutes,
# longer than a test's time limit allows from scratch); without Wine or the .NET SDK the tests SKIP instead.
.PHONY: fixtures-windows-dotnet
fixtures-windows-dotnet:
	@if command -v wine >/dev/null 2>&1 && command -v dotnet >/dev/null 2>&1; then \
		WINEPREFIX=$(abspath $(WIN_WINEPREFIX)) bash tests/fixtures/windows/make_dotnet_dumps.sh; \
	else echo "fixtures-windows-dotnet: no Wine or no .NET SDK: the Windows .NET tests will SKIP"; fi
test check: fixtures-windows-dotnet
