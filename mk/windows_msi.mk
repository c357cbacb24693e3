# windows_msi.mk - (sorted after windows.mk, whose variables it uses) the Windows installer (installer/dumpscout.wxs, installer/windows/build_msi.sh, wixl):
#   make msi    build/win/dumpscout.msi from the cross-built programs (make windows)
# tests/e2e/test_windows_service.sh installs it under Wine.
WIN_MSI := $(WIN_DIR)/dumpscout.msi

.PHONY: msi
msi: $(WIN_MSI)

$(WIN_MSI): $(WIN_CLI_EXE) $(WIN_SERVICE_EXE) $(WIN_ENGINE_EXE) installer/dumpscout.wxs installer/windows/build_msi.sh \
		installer/windows/dumpscout.default.json core/ds.h
	bash installer/windows/build_msi.sh $@
