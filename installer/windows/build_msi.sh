#!/usr/bin/env bash
# build_msi.sh OUT.msi - builds the Windows installer from installer/dumpscout.wxs with wixl (msitools):
# stages build/win/dumpscout.exe, build/win/dumpscoutd.exe, installer/windows/dumpscout.default.json and the
# heap engine's folder build/win/engine (make windows-engine: dumpscout-heap.exe, self-contained, about 200
# files, listed for wixl by wixl-heat into engine.wxs) in build/win/msi/stage (wixl takes File/@Source
# relative to the folder it runs in), runs `wixl -a x64`, then
# adds what wixl 0.101 cannot write from WiX elements: the Environment table row that puts the install
# folder on the system PATH (removed again on uninstall) and its two standard actions. Does not build
# the programs (make windows does) and does not install anything.
set -euo pipefail
cd "$(dirname "$0")/../.."
[ $# -eq 1 ] || { echo "usage: build_msi.sh OUT.msi" >&2; exit 2; }
out=$1
case $out in /*) ;; *) out=$PWD/$out ;; esac
WIN=build/win
STAGE=$WIN/msi/stage
for tool in wixl wixl-heat msibuild msiinfo; do
	command -v "$tool" >/dev/null 2>&1 || { echo "build_msi: $tool is not installed (apt-get install wixl msitools)" >&2; exit 1; }
done
for f in "$WIN/dumpscout.exe" "$WIN/dumpscoutd.exe" "$WIN/engine/dumpscout-heap.exe"; do
	[ -f "$f" ] || { echo "build_msi: $f is missing (make windows windows-engine)" >&2; exit 1; }
done
version=$(sed -n 's/^#define DS_VERSION "\(.*\)"/\1/p' core/ds.h)
[ -n "$version" ] || { echo "build_msi: no DS_VERSION in core/ds.h" >&2; exit 1; }

rm -rf "$STAGE"
mkdir -p "$STAGE" "$(dirname "$out")"
cp "$WIN/dumpscout.exe" "$WIN/dumpscoutd.exe" "$STAGE/"
cp installer/windows/dumpscout.default.json "$STAGE/"
cp -r "$WIN/engine" "$STAGE/engine"
# One component per engine file (component group EngineFiles, in INSTALLDIR\engine).
(cd "$STAGE" && find ./engine -type f | LC_ALL=C sort |
	wixl-heat -p ./ --component-group EngineFiles --var var.Stage --directory-ref INSTALLDIR --win64 >engine.wxs)
tmp="$STAGE/out.msi"
(cd "$STAGE" && wixl -a x64 -D Version="$version" -D Stage=. -D Win64=yes -o out.msi \
	"$OLDPWD/installer/dumpscout.wxs" engine.wxs)

# PATH: "=-*PATH" = set on install, remove on uninstall, system-wide; "[~];" = append to the old value.
printf 'Environment\tName\tValue\tComponent_\ns72\tl255\tL255\ts72\nEnvironment\tEnvironment\n' >"$STAGE/Environment.idt"
printf 'PathEntry\t=-*PATH\t[~];[INSTALLDIR]\tCli\n' >>"$STAGE/Environment.idt"
(cd "$STAGE" && msiinfo export out.msi InstallExecuteSequence >InstallExecuteSequence.idt)
if ! grep -q '^WriteEnvironmentStrings' "$STAGE/InstallExecuteSequence.idt"; then
	printf 'RemoveEnvironmentStrings\t\t3300\nWriteEnvironmentStrings\t\t5200\n' >>"$STAGE/InstallExecuteSequence.idt"
fi
(cd "$STAGE" && msibuild out.msi -i Environment.idt InstallExecuteSequence.idt)
mv "$tmp" "$out"
echo "build_msi: $out ($(stat -c %s "$out") bytes, version $version)"
