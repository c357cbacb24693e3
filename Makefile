# dumpscout - build, test, run, install. The only entry point a user needs.
#   make            build build/dumpscout and build/dumpscoutd
#   make test       build and run every test (unit, golden, fuzz replay, end-to-end)
#   make run        run the service in the foreground on ./var/
#   make sanitize   ASan+UBSan build running the unit and golden tests
#   make fuzz       run the libFuzzer targets (FUZZ_SECONDS each)
#   make bench      benchmarks against peer tools
#   make deps       install what the build and tests need (idempotent)
#   make install    install binaries, config and the systemd unit under $(DESTDIR)$(PREFIX)

PREFIX ?= /usr/local
BUILD ?= build
CC ?= cc
PKG_CONFIG ?= pkg-config
PKGS := libuv sqlite3 libcjson libcurl libpq

OPT ?= -O2
CFLAGS_BASE := -std=c11 -Wall -Wextra -Werror -g $(OPT) -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE \
	-fno-strict-aliasing -MMD -MP -DDS_HAVE_LIBPQ
# The libraries' flags are asked of pkg-config when the first compile or link needs them, not when make
# reads this file: on a fresh machine `make test` installs them (deps) before it compiles anything.
# Asked once, then kept; a pkg-config that cannot find them stops the build with what to do.
PKG_CFLAGS = $(eval PKG_CFLAGS := $$(call pkg_ask,--cflags))$(PKG_CFLAGS)
PKG_LIBS = $(eval PKG_LIBS := $$(call pkg_ask,--libs))$(PKG_LIBS)
pkg_ask = $(call pkg_check,$(shell $(PKG_CONFIG) $(1) $(PKGS) 2>/dev/null || echo DS_PKG_CONFIG_FAILED))
pkg_check = $(if $(filter DS_PKG_CONFIG_FAILED,$(1)),$(error $(PKG_CONFIG) cannot find $(PKGS): run `make deps` first),$(1))
ALL_CFLAGS = $(CFLAGS_BASE) $(PKG_CFLAGS) -I. $(CFLAGS) $(SAN_FLAGS)
ALL_LDFLAGS = $(LDFLAGS) $(SAN_FLAGS)
LIBS = $(PKG_LIBS) -lm -lpthread

# Source lists: every .c file of a part, minus the other OS's files and the program entry points.
# The layers, each an archive linked below the ones above it: core, analyzer, lib (what both programs
# know: configuration, reports, mail composition, retention, collection settings), then service/ for
# dumpscoutd and cli/ for dumpscout. Neither program's folder includes the other's.
WIN_ONLY := $(wildcard core/*_win.c core/win_*.c analyzer/*_win.c lib/*_win.c service/*_win.c cli/*_win.c)
CORE_SRC := $(filter-out $(WIN_ONLY),$(wildcard core/*.c))
ANALYZER_SRC := $(filter-out $(WIN_ONLY),$(wildcard analyzer/*.c))
LIB_SRC := $(filter-out $(WIN_ONLY),$(wildcard lib/*.c))
SERVICE_SRC := $(filter-out $(WIN_ONLY) service/main_posix.c,$(wildcard service/*.c))
CLI_SRC := $(filter-out $(WIN_ONLY),$(wildcard cli/*.c))
GEN_SRC := $(BUILD)/gen/schema_embed.c

obj = $(patsubst %.c,$(BUILD)/obj/%.o,$(1))
CORE_OBJ := $(call obj,$(CORE_SRC)) $(call obj,$(GEN_SRC:$(BUILD)/%=%))
ANALYZER_OBJ := $(call obj,$(ANALYZER_SRC))
LIB_OBJ := $(call obj,$(LIB_SRC))
SERVICE_OBJ := $(call obj,$(SERVICE_SRC))
CLI_OBJ := $(call obj,$(CLI_SRC))

LIBCORE := $(BUILD)/libdscore.a
LIBANALYZER := $(BUILD)/libdsanalyzer.a
LIBDS := $(BUILD)/libdumpscout.a
LIBSERVICE := $(if $(SERVICE_SRC),$(BUILD)/libdsservice.a)
CLI_BIN := $(BUILD)/dumpscout
SERVICE_BIN := $(BUILD)/dumpscoutd

UNIT_SRC := $(wildcard tests/unit/test_*.c)
UNIT_BIN := $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(UNIT_SRC))
FUZZ_SRC := $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_REPLAY_BIN := $(patsubst tests/fuzz/%.c,$(BUILD)/tests/replay_%,$(FUZZ_SRC))
GOLDEN_SCRIPTS := $(wildcard tests/golden/test_*.sh)
E2E_SCRIPTS := $(wildcard tests/e2e/test_*.sh)

DEPS_STAMP := .tools/deps.stamp

.PHONY: valgrind all deps test check test-unit test-golden test-fuzz-replay test-e2e test-update run demo sanitize \
	fuzz bench install uninstall clean fixtures fixtures-windows windows

all: $(CLI_BIN)

# deps: the stamp is rebuilt when the dependency script changes; the script itself is idempotent.
deps: $(DEPS_STAMP)
$(DEPS_STAMP): installer/deps.sh
	bash installer/deps.sh
	@mkdir -p $(dir $@) && touch $@

# V=1 shows the full compiler command lines.
Q := $(if $(V),,@)

# When this run installs the dependencies (make test, make deps all, ...), nothing compiles before they are
# in, also under make -j.
DEPS_FIRST := $(if $(filter deps test check sanitize run bench install demo fuzz fixtures,$(MAKECMDGOALS)),$(DEPS_STAMP))

$(BUILD)/obj/%.o: %.c | $(DEPS_FIRST)
	@mkdir -p $(dir $@)
	@$(if $(V),,echo "  CC      $<")
	$(Q)$(CC) $(ALL_CFLAGS) -c $< -o $@

$(BUILD)/obj/gen/%.o: $(BUILD)/gen/%.c | $(DEPS_FIRST)
	@mkdir -p $(dir $@)
	@$(if $(V),,echo "  CC      $<")
	$(Q)$(CC) $(ALL_CFLAGS) -c $< -o $@

$(BUILD)/gen/schema_embed.c: $(sort $(wildcard schema/*.sql)) installer/embed_schema.sh
	@mkdir -p $(dir $@)
	bash installer/embed_schema.sh $(sort $(wildcard schema/*.sql)) > $@.tmp && mv $@.tmp $@

$(LIBCORE): $(CORE_OBJ)
	@rm -f $@
	$(Q)ar rcs $@ $^
$(LIBANALYZER): $(ANALYZER_OBJ)
	@rm -f $@
	$(Q)ar rcs $@ $^
$(LIBDS): $(LIB_OBJ)
	@rm -f $@
	$(Q)ar rcs $@ $^
$(BUILD)/libdsservice.a: $(SERVICE_OBJ)
	@rm -f $@
	$(Q)ar rcs $@ $^

$(CLI_BIN): $(CLI_OBJ) $(LIBDS) $(LIBANALYZER) $(LIBCORE)
	@$(if $(V),,echo "  LINK    $@")
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $(CLI_OBJ) $(LIBDS) $(LIBANALYZER) $(LIBCORE) $(LIBS)

$(SERVICE_BIN): $(call obj,service/main_posix.c) $(LIBSERVICE) $(LIBDS) $(LIBANALYZER) $(LIBCORE)
	@$(if $(V),,echo "  LINK    $@")
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $^ $(LIBS)

all: $(if $(wildcard service/main_posix.c),$(SERVICE_BIN))

$(BUILD)/tests/test_%: tests/unit/test_%.c tests/unit/t.h $(LIBSERVICE) $(LIBDS) $(LIBANALYZER) $(LIBCORE)
	@mkdir -p $(dir $@)
	@$(if $(V),,echo "  LINK    $@")
	$(Q)$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) -o $@ $< $(LIBSERVICE) $(LIBDS) $(LIBANALYZER) $(LIBCORE) $(LIBS)

# Fuzz targets built with a replay main (no libFuzzer runtime needed) replay tests/fuzz/corpus/NAME/.
$(BUILD)/tests/replay_%: tests/fuzz/%.c tests/fuzz/replay_main.c $(LIBANALYZER) $(LIBCORE)
	@mkdir -p $(dir $@)
	@$(if $(V),,echo "  LINK    $@")
	$(Q)$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) -o $@ $< tests/fuzz/replay_main.c $(LIBANALYZER) $(LIBCORE) $(LIBS)

# Helper programs the shell tests run (mk/ fragments add theirs).
TEST_HELPERS += $(BUILD)/tests/sos_transcript

# The real dumps the tests read are made first (cached): .NET fixtures and native cores.
test check: deps all fixtures native-cores $(UNIT_BIN) $(FUZZ_REPLAY_BIN) $(TEST_HELPERS)
	@BUILD=$(BUILD) tests/run.sh $(UNIT_BIN) $(FUZZ_REPLAY_BIN) $(GOLDEN_SCRIPTS) $(E2E_SCRIPTS)

test-unit: all $(UNIT_BIN)
	@BUILD=$(BUILD) tests/run.sh $(UNIT_BIN)
test-golden: all
	@BUILD=$(BUILD) tests/run.sh $(GOLDEN_SCRIPTS)
test-fuzz-replay: $(FUZZ_REPLAY_BIN)
	@BUILD=$(BUILD) tests/run.sh $(FUZZ_REPLAY_BIN)
test-e2e: all
	@BUILD=$(BUILD) tests/run.sh $(E2E_SCRIPTS)
# Rewrites the expected outputs of the golden tests; review the result with git diff.
test-update: all
	@BUILD=$(BUILD) UPDATE=1 tests/run.sh $(GOLDEN_SCRIPTS)

sanitize:
	$(MAKE) BUILD=build/san OPT=-O1 SAN_FLAGS="-fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer" \
		deps all fixtures native-cores $(patsubst $(BUILD)/%,build/san/%,$(UNIT_BIN) $(FUZZ_REPLAY_BIN) $(TEST_HELPERS))
	@BUILD=build/san ASAN_OPTIONS=detect_leaks=1 tests/run.sh \
		$(patsubst $(BUILD)/%,build/san/%,$(UNIT_BIN) $(FUZZ_REPLAY_BIN)) $(GOLDEN_SCRIPTS)

# Every unit test and fuzz replay under valgrind's memcheck: any error or definite leak fails the test.
valgrind: all $(UNIT_BIN) $(FUZZ_REPLAY_BIN)
	@BUILD=$(BUILD) TEST_WRAP="valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite" \
		tests/run.sh $(UNIT_BIN) $(FUZZ_REPLAY_BIN)

FUZZ_SECONDS ?= 60
fuzz: deps
	bash tests/fuzz/run_fuzz.sh $(FUZZ_SECONDS)

bench: deps all
	bash bench/run.sh

run: deps all
	bash installer/run_local.sh

# install: both binaries, the heap engine (build/engine) and the .tools/ folder `make deps` filled, under libexec, the systemd
# unit (ExecStart pointing at PREFIX) and, unless one exists, the default config in /etc/dumpscout.
install: all deps
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/libexec/dumpscout $(DESTDIR)$(PREFIX)/lib/systemd/system
	install -m 755 $(CLI_BIN) $(SERVICE_BIN) $(DESTDIR)$(PREFIX)/bin/
	cp -a .tools/. $(DESTDIR)$(PREFIX)/libexec/dumpscout/
	[ ! -d $(BUILD)/engine ] || cp -a $(BUILD)/engine/. $(DESTDIR)$(PREFIX)/libexec/dumpscout/
	rm -f $(DESTDIR)$(PREFIX)/libexec/dumpscout/deps.stamp
	sed 's|/usr/local/bin/|$(PREFIX)/bin/|' installer/dumpscoutd.service > $(DESTDIR)$(PREFIX)/lib/systemd/system/dumpscoutd.service
	install -d $(DESTDIR)/etc/dumpscout
	[ -e $(DESTDIR)/etc/dumpscout/dumpscout.json ] || install -m 600 installer/dumpscout.json $(DESTDIR)/etc/dumpscout/

uninstall:
	rm -f $(DESTDIR)$(PREFIX)/bin/dumpscout $(DESTDIR)$(PREFIX)/bin/dumpscoutd
	rm -rf $(DESTDIR)$(PREFIX)/libexec/dumpscout
	rm -f $(DESTDIR)$(PREFIX)/lib/systemd/system/dumpscoutd.service
	@echo "kept /etc/dumpscout and /var/lib/dumpscout (the config and the data); remove them by hand if you want"

clean:
	rm -rf build

-include $(shell find $(BUILD)/obj -name '*.d' 2>/dev/null)

# Feature fragments (fixtures, windows, fuzz, bench): each file in mk/ adds its own targets.
-include $(sort $(wildcard mk/*.mk))
