# engine.mk - the heap engine, dumpscout-heap (engine/: C# on ClrMD; the JSON contract is docs/engine.md).
#   make engine   build build/engine/dumpscout-heap (framework-dependent; rebuilt only when engine/ changes)
# `make` (all) and `make test` build it too. The NuGet restore it needs is done by the dotnet client.
ENGINE_SRC := $(wildcard engine/*.cs engine/*.csproj engine/*.props)
ENGINE_BIN := $(BUILD)/engine/dumpscout-heap
ENGINE_DOTNET_ENV := DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

.PHONY: engine
engine: $(ENGINE_BIN)

$(ENGINE_BIN): $(ENGINE_SRC)
	@echo "  DOTNET  engine -> $(BUILD)/engine/"
	$(Q)$(ENGINE_DOTNET_ENV) dotnet publish engine/DumpScout.Heap.csproj -c Release --nologo -v quiet \
		-p:UseAppHost=true -o $(BUILD)/engine
	@touch $@

all: $(ENGINE_BIN)
test check test-e2e: $(ENGINE_BIN)
