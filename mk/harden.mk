# harden.mk - helpers for the hardening tests (issue 12): mkhostile writes the hostile minidump that
# tests/e2e/test_harden_memory.sh measures the triage's peak memory on.
$(BUILD)/tests/mkhostile: tests/tools/mkhostile.c tests/unit/mdmp_build.h
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) -o $@ $<

test check test-e2e: $(BUILD)/tests/mkhostile
