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
  # use_tls=0: LeakSanitizer (GCC 12, glibc 2.36) crashed at exit ("Tracer caught signal 11")
  # scanning a bogus dynamic-TLS range of a library a plugin pulled in ("DTLS 6 at
  # 0x171-0x1000001273" with verbosity=1), depending on the memory layout. Norc keeps no heap
  # pointer in thread-local storage, so without TLS as a root LSan can only report more, not
  # fewer, leaks; tests/lsan.supp lists the one glibc state kept in TLS (dlerror's).
  # print_suppressions=0 keeps the suppressions' summary off stderr.
  supp="$PWD/tests/lsan.supp"
  (cd build-asan && ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
     LSAN_OPTIONS="use_tls=0:print_suppressions=0:suppressions=$supp" \
     ctest --output-on-failure -j2)
fi
