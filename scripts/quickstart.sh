#!/usr/bin/env bash
# quickstart.sh: install what is needed, build, and run a single-host Norc on the embedded
# SQLite database in the foreground (`norc up`: scheduler, executors and the web page). On an
# empty database it sets up the original's INSTALL walkthrough: DemoQueue, DemoTask (`echo 'Demo successful!'`) every 5 s,
# 5 times. State goes to var/ (conf/norc.conf). Ctrl-C stops it.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install-deps.sh build
./scripts/build.sh build >/dev/null
# The web page (http://127.0.0.1:8470/) needs a login: the first run makes user "admin" with
# a random password, kept in var/web-admin.password (mode 0600).
mkdir -p var
if ! grep -q '^admin:' var/web-users 2>/dev/null; then
  (umask 077; build/bin/norc -C conf/norc.conf web user add admin --role admin --random |
     sed -n 's/^password: //p' >var/web-admin.password)
fi
echo "quickstart: built; starting a single-host Norc (config conf/norc.conf, state in var/)."
echo "quickstart: web page http://127.0.0.1:8470/ - user admin, password in var/web-admin.password"
echo "quickstart: in another shell: export NORC_CONFIG=$PWD/conf/norc.conf; build/bin/norc instance list"
exec build/bin/norc -C conf/norc.conf up "$@"
