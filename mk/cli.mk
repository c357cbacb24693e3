# cli.mk - the CLI's own unit tests (tests/unit/test_cli_*.c) link the CLI's objects too: table,
# dbopen, the shared helpers (cli.c) and the cmd_* functions, archived without main.c into
# build/libdscli.a. This pattern rule is more specific than the Makefile's test_% rule, so make picks it for test_cli_*.
# Also: `make cli-bench-db` makes the benchmark's generated database (bench/cli.sh does it on demand).
LIBCLI := $(BUILD)/libdscli.a
LIBCLI_OBJ := $(filter-out $(call obj,cli/main.c),$(CLI_OBJ))

$(LIBCLI): $(LIBCLI_OBJ)
	@rm -f $@
	$(Q)ar rcs $@ $^

$(BUILD)/tests/test_cli_%: tests/unit/test_cli_%.c tests/unit/t.h $(LIBCLI) $(LIBDS) $(LIBANALYZER) $(LIBCORE)
	@mkdir -p $(dir $@)
	@$(if $(V),,echo "  LINK    $@")
	$(Q)$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) -o $@ $< $(LIBCLI) $(LIBDS) $(LIBANALYZER) $(LIBCORE) $(LIBS)
