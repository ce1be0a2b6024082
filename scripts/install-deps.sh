#!/usr/bin/env bash
# install-deps.sh [build|test]: install the Debian 12 packages Norc needs, only when missing.
#   build: compiler, CMake and the libraries the build links against.
#   test:  build + what the test suites run against (a MariaDB server the harness starts itself).
#   bench: test + the peers tests/bench/peers.sh compares with (cron, task-spooler, GNU
#          parallel, Slurm with munge) and perf.
# Runs apt-get as root (or through sudo). Safe to run again: it installs nothing already there.
set -euo pipefail
what=${1:-build}

build_pkgs=(build-essential cmake pkg-config libmariadb-dev libsqlite3-dev sqlite3 libconfig-dev
            libcurl4-openssl-dev zlib1g-dev check libjansson-dev libmicrohttpd-dev libssl-dev libsystemd-dev)
# python3-botocore: the SigV4 verifier; nodejs and npm: the s3rver and local-aws-sqs emulators
# (s3-tmp.sh, sqs-tmp.sh); curl: raw SQS requests in sqs-tmp.sh and sqsplugin.sh.
test_pkgs=(mariadb-server mariadb-client galera-4 rsync python3 iproute2 procps bc python3-botocore nodejs npm clang libclang-rt-14-dev curl openssl chromium systemd valgrind)
bench_pkgs=(cron task-spooler parallel slurm-wlm munge)

pkgs=("${build_pkgs[@]}")
case "$what" in
  build) ;;
  test) pkgs+=("${test_pkgs[@]}") ;;
  bench) pkgs+=("${test_pkgs[@]}" "${bench_pkgs[@]}") ;;
  *) echo "install-deps.sh: unknown set '$what'; use 'build', 'test' or 'bench'" >&2; exit 2 ;;
esac

missing=()
for p in "${pkgs[@]}"; do
  # NodeSource's nodejs package bundles npm and conflicts with Debian's: a working npm counts.
  if [ "$p" = npm ] && command -v npm >/dev/null; then continue; fi
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && { echo "install-deps: all ${#pkgs[@]} packages present"; exit 0; }

sudo=()
[ "$(id -u)" = 0 ] || sudo=(sudo)
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -qq
"${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "install-deps: done"
