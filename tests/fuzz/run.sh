#!/usr/bin/env bash
# run.sh [SECONDS] [TARGET...] - build the libFuzzer targets with clang (ASan + UBSan) into
# build-fuzz/ and run each for SECONDS (default 10) on its committed seed corpus
# (tests/fuzz/corpus/<target>, read only: new inputs go to a scratch folder). A crash, a leak
# or a failed property (abort) fails the run and leaves the input in build-fuzz/. Targets:
# cron (core/cron.c), config (core/config.c over libconfig), sigv4 (core/aws.c's
# canonicalizer), report (core/report.c: the web API's report parameters against an
# in-memory SQLite database). Needs clang and libclang-rt-14-dev (scripts/install-deps.sh test).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
secs=${1:-10}
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(cron config sigv4 report)
out=${NORC_FUZZ_DIR:-$root/build-fuzz}
mkdir -p "$out"
command -v clang >/dev/null || { echo "run.sh: clang is missing; scripts/install-deps.sh test installs it" >&2; exit 2; }
flags=(-g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined -D_GNU_SOURCE
       -std=gnu11 -I"$root/core/include" -iquote "$root/core" -Wall -Wextra -Werror)
declare -A src=(
  [cron]="core/cron.c core/tz.c core/mem.c core/clock.c"
  [config]="core/config.c core/params.c core/mem.c core/runas.c core/clock.c"
  [sigv4]="core/aws.c"
  [report]="core/report.c core/model.c core/db.c core/db_sqlite.c core/db_mariadb.c core/schema.c core/clock.c core/mem.c core/status.c core/params.c core/log.c"
)
declare -A libs=(
  [cron]=""
  [config]="$(pkg-config --libs libconfig jansson)"
  [sigv4]="$(pkg-config --libs libcurl libcrypto)"
  [report]="$(pkg-config --cflags --libs sqlite3 libmariadb jansson)"
)
fail=0
for t in "${targets[@]}"; do
  [ -n "${src[$t]:-}" ] || { echo "run.sh: unknown target $t (cron config sigv4 report)" >&2; exit 2; }
  files=()
  for f in ${src[$t]}; do files+=("$root/$f"); done
  # shellcheck disable=SC2086
  clang "${flags[@]}" "$here/fuzz_$t.c" "${files[@]}" ${libs[$t]} -o "$out/fuzz_$t"
  scratch=$(mktemp -d "$out/corpus-$t.XXXXXX")
  echo "fuzz_$t: ${secs}s from $(ls "$here/corpus/$t" | wc -l) seeds"
  if (cd "$out" && ASAN_OPTIONS=detect_leaks=1 LSAN_OPTIONS=suppressions="$here/lsan.supp" "$out/fuzz_$t" -max_total_time="$secs" \
        -max_len=2048 -print_final_stats=1 "$scratch" "$here/corpus/$t" >"$out/fuzz_$t.log" 2>&1); then
    grep -E '^stat::number_of_executed_units' "$out/fuzz_$t.log" | sed "s/^/  fuzz_$t: /"
  else
    echo "FAIL - fuzz_$t found a problem; see $out/fuzz_$t.log and the crash-* file in $out"
    tail -30 "$out/fuzz_$t.log"
    fail=1
  fi
  rm -rf "$scratch"
done
exit $fail
