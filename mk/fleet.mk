# fleet.mk - the fleet (issue 15): libpq for core/fleetdb.c (the PostgreSQL store), the central schema
# schema/fleet/*.sql embedded like the SQLite migrations, and `make fleet-bench` (bench/fleet.sh, also
# run by `make bench`). Without libpq's pkg-config entry the fleet code builds as a stub that says so.
FLEET_PQ_CFLAGS := $(shell $(PKG_CONFIG) --cflags libpq 2>/dev/null)
FLEET_PQ_LIBS := $(shell $(PKG_CONFIG) --libs libpq 2>/dev/null)
ifneq ($(FLEET_PQ_LIBS),)
PKG_CFLAGS += $(FLEET_PQ_CFLAGS) -DDS_HAVE_LIBPQ
PKG_LIBS += $(FLEET_PQ_LIBS)
endif

FLEET_SQL := $(sort $(wildcard schema/fleet/*.sql))
FLEET_GEN := $(BUILD)/gen/fleet_schema_embed.c

$(FLEET_GEN): $(FLEET_SQL) installer/embed_schema.sh
	@mkdir -p $(dir $@)
	FLEET=1 bash installer/embed_schema.sh $(FLEET_SQL) > $@.tmp && mv $@.tmp $@

.PHONY: fleet-bench
fleet-bench: all
	bash bench/fleet.sh
$(LIBCORE): $(call obj,$(FLEET_GEN:$(BUILD)/%=%))
