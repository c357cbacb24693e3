# windows_engine.mk - (sorted after engine.mk and windows.mk, whose variables it uses; before
# windows_msi.mk, which ships the result) the heap engine for Windows:
#   make windows-engine   build/win/engine/dumpscout-heap.exe: engine/ published for win-x64, self-contained
#                         (the server needs no .NET install); the MSI installs the folder as
#                         INSTALLDIR\engine\, where the service and the CLI look beside their own program.
# The win-x64 runtime and host packs come from NuGet through the dotnet client. Its own artifacts folder,
# so the Linux engine's restore (another runtime identifier) never shares project.assets.json with it.
WIN_ENGINE_DIR := $(WIN_DIR)/engine
WIN_ENGINE_EXE := $(WIN_ENGINE_DIR)/dumpscout-heap.exe

.PHONY: windows-engine
windows-engine: $(WIN_ENGINE_EXE)

$(WIN_ENGINE_EXE): $(ENGINE_SRC)
	@echo "  DOTNET  engine (win-x64, self-contained) -> $(WIN_ENGINE_DIR)/"
	$(Q)rm -rf $(WIN_ENGINE_DIR)
	$(Q)$(ENGINE_DOTNET_ENV) dotnet publish engine/DumpScout.Heap.csproj -c Release -r win-x64 --self-contained \
		-p:ArtifactsPath=$(abspath $(WIN_DIR))/engine-artifacts --nologo -v quiet -o $(WIN_ENGINE_DIR)
	@touch $@
