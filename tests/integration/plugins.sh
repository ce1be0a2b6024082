#!/usr/bin/env bash
# plugins.sh - `norc plugins` and `norc plugins check` through the real binary and loader:
# the built-ins load from .so files; each bad test plugin is refused naming its check; the
# CLI keeps going past bad files.
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
: "${NORC_BIN:?}" "${NORC_TEST_PLUGIN_DIR:?}"
T=$NORC_TEST_PLUGIN_DIR
norc() { "$NORC_BIN" "$@"; }
# the SDK's ABI version, as the plugins under test were built
ABI_MINOR=$(awk '/#define NORC_ABI_MINOR/ { print $3 }' "$here/../../core/include/norc/version.h")
ABI="1\\.$ABI_MINOR"

conf="$WORK/norc.conf"
printf 'database: { path = "norc.db"; };\n' >"$conf"
export NORC_CONFIG="$conf"

expect_ok "norc plugins" norc plugins
expect_out "CommandTask is loaded from a .so" "^task +CommandTask +1\.0 +$ABI +/.*/command\.so$"
expect_out "DBQueue is loaded from a .so" "^queue +DBQueue +1\.0 +$ABI +/.*/dbqueue\.so$"
expect_out "S3 is loaded from a .so" "^backup +S3 +1\.0 +$ABI +/.*/s3\.so$"
expect_out "LocalBackup is loaded from a .so" "^backup +LocalBackup +1\.0 +$ABI +/.*/localbackup\.so$"
expect_out "Job is loaded from a .so" "^task +Job +1\.0 +$ABI +/.*/job\.so$"
expect_ok "norc plugins --json" norc plugins list --json
expect_json "json lists the built-ins" "sorted(p['name'] for p in j)==['CommandTask','DBQueue','Job','LocalBackup','S3','SQSQueue'] and all(p['path'].endswith('.so') for p in j)"
builtin=$(dirname "$(grep -Eo '/.*/command\.so' "$OUT" | head -1)")

for so in "$builtin"/*.so; do
  expect_ok "built-in $(basename "$so") passes norc plugins check" norc plugins check "$so"
done

run env -u NORC_CONFIG "$NORC_BIN" plugins check "$T/good.so"
[ "$RC" = 0 ] && grep -q "good.so: ok" "$OUT" && ok "plugins check works without any config" || bad "plugins check without config (exit $RC)"

check_fails() { expect_fail "$1.so refused by check '$2'" 1 "check '$2' failed.*$3" norc plugins check "$T/$1.so"; }
check_fails bad_magic magic "0x12345678"
check_fails bad_abi_major abi "ABI 2\.$ABI_MINOR.*rebuild"
check_fails newer_minor abi "ABI 1\.$((ABI_MINOR + 1)).*upgrade norc"
check_fails small_size size "claims 8 bytes"
check_fails oversized size "claims 4096 bytes"
check_fails bad_kind kind "kind 9"
check_fails no_descriptor descriptor "NORC_PLUGIN_DEFINE"
check_fails no_validate ops "validate"
check_fails unresolved dlopen "norc_test_no_such_function.*ldd -r"
check_fails writable owner "chmod go-w"
expect_ok "good test plugin passes" norc plugins check "$T/good.so"
expect_out "check prints ok" "good\.so: ok"
cp /etc/hostname "$WORK/text.so"
expect_fail "a file that is not a plugin" 1 "check 'elf' failed: .*not an ELF file" norc plugins check "$WORK/text.so"
expect_fail "plugins check needs a file" 2 "give at least one FILE.so" norc plugins check

# The test folder as a user plugin folder: good ones load, bad ones are reported and skipped.
printf 'database: { path = "norc.db"; };\nplugin_dirs = ["%s"];\n' "$T" >"$conf"
expect_ok "norc plugins keeps going past bad files" norc plugins
expect_out "good test plugin listed" "^task +TestGood +0\.0-test"
expect_out "first duplicate listed" "^task +TestDup "
expect_no_out "init_fails not listed" "TestInitFails"
n=$(grep -c "refused" "$ERR")
[ "$n" = 14 ] && ok "14 refused files reported on stderr" || bad "expected 14 refusals, got $n"
grep -q "plugin 'TestInitHangs'.*init did not return within 5 s" "$ERR" && ok "an init that hangs is refused, the rest load" || bad "no refusal for init_hangs"
grep -q "plugin 'TestInitCrashes'.*init crashed (signal 11, SIGSEGV)" "$ERR" && ok "an init that crashes is refused, the loader lives" || bad "no refusal for init_crashes"
grep -q "check 'name' failed: .*dup_b.so: plugin name 'TestDup' is already taken" "$ERR" && ok "duplicate name reported" || bad "duplicate name not reported"
grep -q "check 'init' failed: plugin 'TestInitFails'" "$ERR" && ok "failing init reported" || bad "failing init not reported"
expect_fail "check sees the duplicate against loaded plugins" 1 "check 'name' failed" norc plugins check "$T/dup_b.so"
finish
