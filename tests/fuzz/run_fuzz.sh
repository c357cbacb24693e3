#!/usr/bin/env bash
# run_fuzz.sh SECONDS [TARGET...] - builds each libFuzzer target with clang (ASan+UBSan+fuzzer) and
# runs it for SECONDS, seeded from its replay corpus and the dump corpus (tests/corpus). New inputs that raise
# coverage go to build/fuzz/NAME-new/; crashes to tests/fuzz/artifacts/. Add real findings (and the
# fixed inputs) to tests/fuzz/corpus/NAME/ so CI replays them.
set -euo pipefail
cd "$(dirname "$0")/../.."
secs=${1:-60}; shift || true
targets=("$@")
if [ "${#targets[@]}" -eq 0 ]; then
	for f in tests/fuzz/fuzz_*.c; do targets+=("$(basename "$f" .c)"); done
fi
CLANG=${CLANG:-clang}
mkdir -p build/fuzz tests/fuzz/artifacts
make -s build/gen/culprits_data.c   # the culprit catalogue the analyzer embeds (mk/culprits.mk)
flags="-std=c11 -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all -I. -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE $(pkg-config --cflags libcjson)"
# core/ without the store (SQLite), the fleet client (libpq) and the Windows files: what the readers link
core=()
for f in core/*.c; do
	case $f in core/store*|core/fleetdb*|core/*win*) ;; *) core+=("$f") ;; esac
done
for t in "${targets[@]}"; do
	srcs=(tests/fuzz/$t.c "${core[@]}" analyzer/*.c build/gen/culprits_data.c)
	echo "fuzz: building $t"
	$CLANG $flags -o build/fuzz/$t "${srcs[@]}" $(pkg-config --libs libcjson libuv) -lm
	mkdir -p "build/fuzz/$t-new" "tests/fuzz/corpus/$t"
	seeds=("build/fuzz/$t-new" "tests/fuzz/corpus/$t")
	[ -d "build/fuzz/$t-seeds" ] && seeds+=("build/fuzz/$t-seeds")
	echo "fuzz: running $t for ${secs}s"
	build/fuzz/$t -max_total_time="$secs" -max_len=262144 -rss_limit_mb=2048 -timeout=10 \
		-artifact_prefix="tests/fuzz/artifacts/$t-" -print_final_stats=1 "${seeds[@]}" 2>&1 | tail -n 15
done
