#!/usr/bin/env bash
# test_make_fresh.sh - the Makefile on a machine where the libraries are not installed yet: in a copy of
# the tree, pkg-config is a stand-in that fails until the dependency step has run (the fault a fresh
# machine has: libcjson-dev and the others arrive with `make deps`), and installer/deps.sh is a stand-in
# that marks them installed. The stand-ins only inject that fault; the compiler, the real pkg-config and
# the libraries are this machine's. `make all` alone must stop with what to do; `make deps all` (one run,
# -j2, as `make test` does deps first) must build, and the built test program must pass.
set -u
cd "$(dirname "$0")/../.."
source tests/lib.sh

real_pc=$(command -v pkg-config) || { skip make_fresh "pkg-config is not installed"; exit 0; }
scratch
src=$SCRATCH/src b=$SCRATCH/build
mkdir -p "$src" "$SCRATCH/bin"
git ls-files -co --exclude-standard -z | tar --null -T - -cf - 2>/dev/null | tar -xf - -C "$src" ||
	{ fail make_fresh_copy "cannot copy the tree"; exit 0; }
cat >"$SCRATCH/bin/pkg-config" <<SH
#!/bin/sh
[ -e "$SCRATCH/deps-installed" ] || exit 1
exec "$real_pc" "\$@"
SH
printf '#!/usr/bin/env bash\ntouch "%s/deps-installed"\necho "deps: ok (stand-in)"\n' "$SCRATCH" >"$src/installer/deps.sh"
chmod +x "$SCRATCH/bin/pkg-config"
export PATH="$SCRATCH/bin:$PATH"
# the stand-in really fails before deps
if pkg-config --exists libcjson; then fail make_fresh_fault "the stand-in pkg-config did not fail"; exit 0; fi

out=$(make -C "$src" BUILD="$b" all 2>&1); rc=$?
if [ "$rc" -ne 0 ] && grep -q 'run `make deps` first' <<<"$out"; then
	pass make_without_deps_says_what_to_do
else
	fail make_without_deps_says_what_to_do "exit $rc: $(tail -n 5 <<<"$out")"
fi
[ ! -e "$SCRATCH/deps-installed" ] || fail make_without_deps_says_what_to_do "make all ran the dependency step"

out=$(make -C "$src" -j2 BUILD="$b" deps all "$b/tests/test_core" 2>&1); rc=$?
if [ "$rc" -eq 0 ] && [ -x "$b/dumpscout" ] && [ -x "$b/dumpscoutd" ]; then
	pass make_deps_all_first_run
else
	fail make_deps_all_first_run "exit $rc: $(grep -m5 -E 'error|Error|\*\*\*' <<<"$out")"
fi
if [ -x "$b/tests/test_core" ] && out=$("$b/tests/test_core" 2>&1); then
	pass make_fresh_test_program_passes
else
	fail make_fresh_test_program_passes "$(grep FAIL <<<"$out" | head -n 5)"
fi
