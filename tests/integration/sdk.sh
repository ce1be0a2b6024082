#!/usr/bin/env bash
# sdk.sh SOURCE_DIR - the plugin SDK as a user meets it: `cmake --install` the build
# ($NORC_BUILD_DIR) into a private prefix, build the example plugin FileFresh OUT OF TREE with
# nothing but pkg-config and cc, and again with CMake's find_package(NorcPlugin), then drop
# it in and run it through the INSTALLED norc and norc_executor (SQLite): plugins check, the
# listing, validate's one-line refusals, and fresh / stale / too small / missing files ending
# SUCCESS or FAILURE with the reason in the run's log.
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
src=$(cd "${1:?usage: sdk.sh SOURCE_DIR}" && pwd)
: "${NORC_BUILD_DIR:?}"
CMAKE=${NORC_CMAKE:-cmake}
ex="$src/plugins/examples/filefresh"
xpid=
trap '[ -n "$xpid" ] && kill -KILL "$xpid" 2>/dev/null; rm -rf "$WORK"' EXIT

expect_ok "cmake --install into a private prefix" "$CMAKE" --install "$NORC_BUILD_DIR" --prefix "$WORK/prefix"
P="$WORK/prefix/bin"
pcdir=$(dirname "$(find "$WORK"/prefix/lib* -maxdepth 3 -name norc-plugin.pc -path '*/pkgconfig/*' | head -1)")
[ -f "$pcdir/norc-plugin.pc" ] && ok "norc-plugin.pc installed ($pcdir)" || bad "no norc-plugin.pc under $WORK/prefix/lib*"
[ -z "$(find "$WORK/prefix" -name '*filefresh*.so')" ] && ok "the example is not installed as a binary" || bad "filefresh .so installed: $(find "$WORK/prefix" -name '*filefresh*.so')"
inst_ex=$(find "$WORK/prefix" -path '*/norc/examples/filefresh/filefresh.c' | head -1)
[ -n "$inst_ex" ] && cmp -s "$inst_ex" "$ex/filefresh.c" && ok "its source is installed (${inst_ex#"$WORK/prefix/"})" || bad "example source not installed"
export PKG_CONFIG_PATH="$pcdir"
[ "$(pkg-config --variable=abi norc-plugin)" = "$(awk '/#define NORC_ABI_MAJOR/ { a = $3 } /#define NORC_ABI_MINOR/ { b = $3 } END { print a "." b }' "$src/core/include/norc/version.h")" ] && ok "pkg-config reports the SDK's ABI" || bad "abi variable: $(pkg-config --variable=abi norc-plugin)"
[ "$(cd "$(pkg-config --variable=plugindir norc-plugin)" 2>/dev/null && pwd -P)" = "$(cd "$WORK"/prefix/lib*/norc/plugins && pwd -P)" ] && ok "pkg-config's plugindir is the installed drop-in folder" || bad "plugindir: $(pkg-config --variable=plugindir norc-plugin)"

# (a) nothing but pkg-config and cc
mkdir -p "$WORK/dropin" && chmod 755 "$WORK/dropin"
# shellcheck disable=SC2046 # the flags are meant to split
expect_ok "pkg-config + cc builds filefresh.so" cc $(pkg-config --cflags norc-plugin) -shared -Wl,-z,defs -o "$WORK/dropin/filefresh.so" "$ex/filefresh.c"
chmod go-w "$WORK/dropin/filefresh.so" 2>/dev/null
[ "$(nm -D --defined-only "$WORK/dropin/filefresh.so" | awk '{ print $3 }')" = norc_plugin ] && ok "it exports norc_plugin and nothing else" || bad "exports: $(nm -D --defined-only "$WORK/dropin/filefresh.so")"

# (b) CMake: find_package(NorcPlugin) + norc_add_plugin()
run "$CMAKE" -S "$ex" -B "$WORK/ffbuild" -DCMAKE_PREFIX_PATH="$WORK/prefix"
[ "$RC" = 0 ] && ok "cmake configures the standalone example" || bad "cmake configure (exit $RC)"
grep -q "Norc plugin ABI" "$OUT" && ok "find_package(NorcPlugin) found the installed SDK" || bad "no ABI line from find_package"
expect_ok "cmake --build builds it" "$CMAKE" --build "$WORK/ffbuild"
[ -f "$WORK/ffbuild/filefresh.so" ] && ok "ffbuild/filefresh.so exists" || bad "no ffbuild/filefresh.so: $(ls "$WORK/ffbuild")"

# The installed binaries, SQLite in $WORK, no plugin_dirs: the drop-in folder is enough.
conf="$WORK/norc.conf"
printf 'database: { path = "norc.db"; };\ntasks: { allow_root = true; };\nlog_dir = "log";\ntmp_dir = "tmp";\ndaemon: { heartbeat = 1; heartbeat_timeout = 5; };\n' >"$conf"
export NORC_CONFIG="$conf"
norc() { "$P/norc" "$@"; }
sql() { sqlite3 "$WORK/norc.db" "$1"; } # for lib.sh's wait_for

# Both builds pass the loader's checks (before one of them takes the name FileFresh)
expect_ok "norc plugins check passes the pkg-config build" norc plugins check "$WORK/dropin/filefresh.so"
expect_out "check prints ok" "filefresh\.so: ok"
expect_ok "norc plugins check passes the CMake build" norc plugins check "$WORK/ffbuild/filefresh.so"
# Dropped into the installed drop-in folder (pkg-config's plugindir)
plugindir=$(cd "$(pkg-config --variable=plugindir norc-plugin)" && pwd -P)
expect_ok "copy it into the drop-in folder" install -m 0644 "$WORK/dropin/filefresh.so" "$plugindir/"
expect_fail "a second file with the same type name is refused, naming both" 1 "plugin name 'FileFresh' is already taken by $plugindir/filefresh\.so" norc plugins check "$WORK/ffbuild/filefresh.so"
expect_ok "norc init" norc init
expect_ok "norc plugins" norc plugins
expect_out "FileFresh listed from the drop-in folder" "^task +FileFresh +1\.0 +1\.[0-9]+ +$plugindir/filefresh\.so$"

expect_fail "unknown parameter refused" 1 "FileFresh has no parameter 'colour'" norc task add Bad --type FileFresh --param path=/x --param max_age=1d --param colour=red
expect_fail "missing path refused" 1 "FileFresh needs path" norc task add Bad --type FileFresh --param max_age=1d
expect_fail "missing max_age refused" 1 "FileFresh needs max_age: add --param max_age=1d" norc task add Bad --type FileFresh --param path=/x
expect_fail "bad max_age refused with the fix" 1 "max_age '3 weeks' is not a duration: use seconds or a number with s, m, h or d" norc task add Bad --type FileFresh --param path=/x --param "max_age=3 weeks"
expect_fail "bad min_size refused" 1 "min_size '1M' is not a number of bytes" norc task add Bad --type FileFresh --param path=/x --param max_age=1d --param min_size=1M
expect_fail "relative path refused" 1 "path 'backups/x' is not absolute" norc task add Bad --type FileFresh --param path=backups/x --param max_age=1d
[ "$(sql "SELECT COUNT(*) FROM tasks WHERE name = 'Bad'")" = 0 ] && ok "no refused task was stored" || bad "a refused task was stored"

"$P/norc_executor" Q -c 1 -q >"$WORK/exec.out" 2>&1 & xpid=$!; disown "$xpid"
wait_for 10 "SELECT COUNT(*) FROM daemons WHERE pid = $xpid AND status = 2" 1 && ok "installed norc_executor runs" || bad "executor did not start: $(cat "$WORK/exec.out")"
st() { sql "SELECT status FROM instances WHERE id = $1"; }
log_of() { cat "$WORK/log/$(sql "SELECT log_path FROM instances WHERE id = $1")"; }
# check NAME PARAM...: adds a FileFresh task, runs it once, waits for its end; prints its id
check() {
  local n=$1 args=() i; shift
  for p in "$@"; do args+=(--param "$p"); done
  norc task add "$n" --type FileFresh "${args[@]}" >/dev/null || bad "task add $n"
  i=$(norc --json run "$n" --queue Q | sed 's/[^0-9]//g')
  wait_for 15 "SELECT status >= 7 FROM instances WHERE id = $i" 1 >/dev/null || bad "$n did not end"
  echo "$i"
}
mkdir -p "$WORK/backups"
head -c 48213 /dev/zero >"$WORK/backups/db-new.sql.gz"
touch -d '3 hours ago' "$WORK/backups/db-new.sql.gz"
echo old >"$WORK/backups/db-old.sql.gz"
touch -d '3 days ago' "$WORK/backups/db-old.sql.gz"

i=$(check Fresh "path=$WORK/backups/db-*.sql.gz" max_age=1d)
[ "$(st "$i")" = 7 ] && ok "a fresh file (newest of a glob): SUCCESS" || bad "fresh: status $(st "$i"): $(log_of "$i")"
log_of "$i" | grep -Eq "db-new\.sql\.gz: 3h[0-9]+m old \(max 1d\), 48213 bytes.*: fresh$" && ok "its log: $(log_of "$i" | grep fresh)" || bad "fresh log: $(log_of "$i")"
i=$(check Stale "path=$WORK/backups/db-old.sql.gz" max_age=1d)
[ "$(st "$i")" = 13 ] && ok "a stale file: FAILURE" || bad "stale: status $(st "$i")"
log_of "$i" | grep -q "db-old\.sql\.gz: 3d0h old (max 1d), 4 bytes: STALE, older than max_age 1d" && ok "its log gives the reason" || bad "stale log: $(log_of "$i")"
i=$(check Small "path=$WORK/backups/db-new.sql.gz" max_age=26h min_size=100000)
[ "$(st "$i")" = 13 ] && log_of "$i" | grep -q "TOO SMALL, under min_size 100000 bytes" && ok "a too small file: FAILURE, said in the log" || bad "small: status $(st "$i"): $(log_of "$i")"
i=$(check Gone "path=$WORK/nowhere/db-*.sql.gz" max_age=5m)
[ "$(st "$i")" = 13 ] && ok "a glob without a match: FAILURE" || bad "missing: status $(st "$i")"
log_of "$i" | grep -q "nowhere/db-\*\.sql\.gz: no file matches: MISSING" && ok "its log says no file matches" || bad "missing log: $(log_of "$i")"
kill -0 "$xpid" 2>/dev/null && ok "the executor is still running" || bad "executor gone: $(cat "$WORK/exec.out")"
finish
