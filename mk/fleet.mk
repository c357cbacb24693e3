# fleet.mk - the fleet (issue 15): libpq for core/fleetdb.c (the PostgreSQL store), the central schema
# schema/fleet/*.sql embedded like the SQLite migrations, and `make fleet-bench` (bench/fleet.sh, also
# run by `make bench`). libpq is one of the Makefile's PKGS (asked of pkg-config after `make deps`, like
# the others; the Windows build links its cross-built libpq, mk/windows.mk); a build without
# DS_HAVE_LIBPQ has a fleet stub that says so.

FLEET_SQL := $(sort $(wildcard schema/fleet/*.sql))
FLEET_GEN := $(BUILD)/gen/fleet_schema_embed.c

$(FLEET_GEN): $(FLEET_SQL) installer/embed_schema.sh
	@mkdir -p $(dir $@)
	FLEET=1 bash installer/embed_schema.sh $(FLEET_SQL) > $@.tmp && mv $@.tmp $@

.PHONY: fleet-bench
fleet-bench: all
	bash bench/fleet.sh
$(LIBCORE): $(call obj,$(FLEET_GEN:$(BUILD)/%=%))
