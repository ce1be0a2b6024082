#!/usr/bin/env bash
# quickstart.sh: install what is needed, build, and run a single-host Norc on the embedded
# SQLite database in the foreground (`norc up`). On an empty database it sets up the
# original's INSTALL walkthrough: DemoQueue, DemoTask (`echo 'Demo successful!'`) every 5 s,
# 5 times. State goes to var/ (conf/norc.conf). Ctrl-C stops it.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install-deps.sh build
./scripts/build.sh build >/dev/null
echo "quickstart: built; starting a single-host Norc (config conf/norc.conf, state in var/)."
echo "quickstart: in another shell: export NORC_CONFIG=$PWD/conf/norc.conf; build/bin/norc instance list"
exec build/bin/norc -C conf/norc.conf up "$@"
