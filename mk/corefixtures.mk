# corefixtures.mk - real ELF cores made on this machine for the ELF-core reader's tests
# (tests/unit/test_elfcore.c): `make native-cores` builds tests/fixtures/native/crash.c and runs
# tests/fixtures/native/make_cores.sh into build/fixtures/native/ (kernel core, gdb gcore of the sleeping
# program, gdb gcore of it crashed, each with a .expect file the program printed, or a .skip reason).
# Up to date while crash.c and the script are unchanged.
# Always under build/ (not $(BUILD)): the test reads this path, also in `make sanitize`'s build/san.
NATIVE_FIX := build/fixtures/native
NATIVE_STAMP := $(NATIVE_FIX)/.stamp

.PHONY: native-cores
native-cores: $(NATIVE_STAMP)

$(NATIVE_FIX)/crash: tests/fixtures/native/crash.c
	@mkdir -p $(dir $@)
	$(CC) -std=c11 -g -O0 -pthread -o $@ $<

$(NATIVE_STAMP): $(NATIVE_FIX)/crash tests/fixtures/native/make_cores.sh
	bash tests/fixtures/native/make_cores.sh $(NATIVE_FIX)/crash $(NATIVE_FIX)
	@touch $@

# The ELF-core unit test reads these cores; make them first (they are skipped with a reason, never a
# build failure, where this machine cannot make them).
$(BUILD)/tests/test_elfcore: | $(NATIVE_STAMP)
