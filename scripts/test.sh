#!/usr/bin/env bash
# test.sh: the one command that installs what is needed, builds Norc and runs every test
# (unit suites, real .so test plugins, integration on SQLite and on a private MariaDB server
# the tests start themselves). Then the same suites again under ASan+UBSan.
# Set NORC_SKIP_SANITIZE=1 to skip the sanitizer pass.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install-deps.sh test
./scripts/build.sh build
(cd build && ctest --output-on-failure -j2)
if [ "${NORC_SKIP_SANITIZE:-0}" != 1 ]; then
  ./scripts/build.sh build-asan -DNORC_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug
  # LeakSanitizer's own tracer crashes now and then under load on this VM kind ("Tracer
  # caught signal 11", a sanitizer runtime fault, not a leak); a test that fails so gets one
  # more run here, and its first failure stays in the output.
  (cd build-asan && ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
     ctest --output-on-failure -j2 --repeat until-pass:2)
fi
