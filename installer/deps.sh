#!/usr/bin/env bash
# deps.sh - installs what dumpscout needs to build, test and run, from Debian's packages and NuGet
# only. Idempotent: what is already there is not installed again. Run by `make deps` (which every
# other target that needs it depends on). Needs root for apt-get on a bare machine.
set -euo pipefail
cd "$(dirname "$0")/.."

DEB_PKGS=(
	build-essential pkg-config
	libuv1-dev libsqlite3-dev libcjson-dev libcurl4-openssl-dev
	sqlite3 clang llvm libclang-rt-14-dev
	elfutils gdb valgrind python3 python3-aiosmtpd openssl
	hyperfine time wine64-tools chromium
	# the Windows build and its tests under Wine (make windows, tests/e2e/test_windows_*.sh)
	gcc-mingw-w64-x86-64-win32 wine wine64 msitools wixl cmake ninja-build tcl
	# systemd-analyze verify of the unit (tests/e2e/test_systemd_unit.sh)
	systemd
	# the fleet (docs/fleet.md): libpq to publish and read, a PostgreSQL 15 server for its tests
	libpq-dev postgresql-15 postgresql-client-15
)
DOTNET_DUMP_VERSION=${DOTNET_DUMP_VERSION:-10.0.*}

missing=()
for p in "${DEB_PKGS[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
	echo "deps: installing Debian packages: ${missing[*]}"
	SUDO=""
	[ "$(id -u)" -eq 0 ] || SUDO=sudo
	$SUDO apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# dotnet-dump, the SOS engine, as a .NET tool in the project's own .tools/ folder.
if ! command -v dotnet >/dev/null 2>&1; then
	echo "deps: the .NET SDK (dotnet) is not on PATH; SOS analysis and the .NET fixtures need it" >&2
	exit 1
fi
if [ ! -x .tools/dotnet-dump ]; then
	echo "deps: installing dotnet-dump into .tools/"
	mkdir -p .tools
	DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 \
		dotnet tool install dotnet-dump --tool-path .tools --version "$DOTNET_DUMP_VERSION"
fi
echo "deps: ok"
