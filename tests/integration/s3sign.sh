#!/usr/bin/env bash
# s3sign.sh - the S3 path end to end, on a private s3rver and SigV4 verifier (s3-tmp.sh,
# started here and stopped in the trap):
#   - against the verifier (botocore recomputes each signature): PUT, GET, HEAD, DELETE and
#     LIST (ListObjectsV2) from norc_aws, with keys and prefixes holding spaces, '+', '=',
#     unicode and dot segments, a session token, and the S3 plugin's own requests, all
#     answered 200 "SIGV4 OK"; a wrong secret gets 403, and the plugin's message shows no
#     secret;
#   - against s3rver: raw put/get round trip (s3probe), the S3 plugin's gzip objects with
#     create_bucket, get of a missing key, an object stored zlib-compressed as the original
#     Norc did, and retries against a dead endpoint;
#   - against s3flaky.py: retries of 503 SlowDown, a GET cut mid-body resumed with Range and
#     If-Match (or restarted, when the server ignores the Range), no retry for a 403;
#   - LocalBackup: round trip, atomic files, refused keys and settings.
# Needs NORC_S3PROBE, NORC_BACKUPCTL, NORC_S3_SO and NORC_LOCALBACKUP_SO (set by CMake).
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
: "${NORC_S3PROBE:?}" "${NORC_BACKUPCTL:?}" "${NORC_S3_SO:?}" "${NORC_LOCALBACKUP_SO:?}"

S3DIR="$WORK/s3"
flaky_pid=
trap '[ -n "$flaky_pid" ] && kill "$flaky_pid" 2>/dev/null; "$here/s3-tmp.sh" stop "$S3DIR" >/dev/null 2>&1; rm -rf "$WORK"' EXIT
if ! "$here/s3-tmp.sh" start "$S3DIR"; then
  echo "FAIL - s3-tmp.sh start"
  echo "0 passed, 1 failed"
  exit 1
fi
. "$S3DIR/env"
unset AWS_SESSION_TOKEN AWS_PROFILE

probe() { "$NORC_S3PROBE" "$@"; }
ctl() { "$NORC_BACKUPCTL" "$@"; }
as_verifier() { AWS_ACCESS_KEY_ID=$SIGV4_KEY AWS_SECRET_ACCESS_KEY=$SIGV4_SECRET "$@"; }
as_s3rver() { AWS_ACCESS_KEY_ID=$S3_KEY AWS_SECRET_ACCESS_KEY=$S3_SECRET "$@"; }

# Files: a small text, and 3 MB of random and repetitive bytes.
printf 'hello s3 world\n' >"$WORK/small.txt"
{ head -c 1500000 /dev/urandom; for i in $(seq 1 30000); do echo "line $i of a log"; done; } \
  >"$WORK/big.bin"

# ---- signing, against botocore ----
keys=("norc_logs/tasks/Cmd/a b+c=d/é-1" "plain/key.log" "sp ace/~tilde/(p)!*'@,;:\$&"
      "a/./b/../c" "100%/x%20y")
for k in "${keys[@]}"; do
  run as_verifier probe "$SIGV4_ENDPOINT" us-east-1 bkt put "$k" "$WORK/small.txt"
  [ "$RC" = 0 ] && grep -q '^SIGV4 OK s3 PUT ' "$OUT" && ok "verifier: PUT '$k'" || bad "verifier: PUT '$k'"
  run as_verifier probe "$SIGV4_ENDPOINT" eu-west-1 bkt get "$k"
  [ "$RC" = 0 ] && grep -q '^SIGV4 OK s3 GET ' "$OUT" && ok "verifier: GET '$k'" || bad "verifier: GET '$k'"
  run as_verifier probe "$SIGV4_ENDPOINT" us-east-1 bkt head "$k"
  [ "$RC" = 0 ] && grep -q '^HTTP 200' "$ERR" && ok "verifier: HEAD '$k'" || bad "verifier: HEAD '$k'"
  run as_verifier probe "$SIGV4_ENDPOINT" us-east-1 bkt del "$k"
  [ "$RC" = 0 ] && grep -q '^SIGV4 OK s3 DELETE ' "$OUT" && ok "verifier: DELETE '$k'" || bad "verifier: DELETE '$k'"
done
for p in "" "dir/" "norc_logs/tasks/Cmd/a b+c=d/é" "x=y&z+w" "~.-_"; do
  run as_verifier probe "$SIGV4_ENDPOINT" us-east-1 bkt list "$p"
  [ "$RC" = 0 ] && grep -q '^SIGV4 OK s3 GET /bkt?list-type=2&prefix=' "$OUT" &&
    ok "verifier: LIST prefix '$p'" || bad "verifier: LIST prefix '$p'"
done
run as_verifier probe "$SIGV4_ENDPOINT" us-east-1 bkt list "dir/" "abc=="
[ "$RC" = 0 ] && grep -q 'continuation-token=abc%3D%3D&list-type=2&prefix=dir%2F' "$OUT" &&
  ok "verifier: LIST with a continuation token, canonical order" || bad "verifier: LIST with a continuation token"
run as_verifier probe "$SIGV4_ENDPOINT" us-east-1 bkt mkbucket
[ "$RC" = 0 ] && grep -q '^SIGV4 OK s3 PUT /bkt ' "$OUT" && ok "verifier: PUT bucket" || bad "verifier: PUT bucket"
run as_verifier probe "$SIGV4_ENDPOINT" us-east-1 bkt put big "$WORK/big.bin"
[ "$RC" = 0 ] && grep -q '^SIGV4 OK' "$OUT" && ok "verifier: PUT of 3 MB (Expect: 100-continue sent, unsigned)" || bad "verifier: PUT of 3 MB"
run env AWS_SESSION_TOKEN='FQoGZXIvYXdzE+token/with=chars' AWS_ACCESS_KEY_ID=$SIGV4_KEY \
  AWS_SECRET_ACCESS_KEY=$SIGV4_SECRET "$NORC_S3PROBE" "$SIGV4_ENDPOINT" us-east-1 bkt get k
[ "$RC" = 0 ] && grep -q 'signed=.*x-amz-security-token' "$OUT" && ok "verifier: session token signed" || bad "verifier: session token"
run env AWS_ACCESS_KEY_ID=$SIGV4_KEY AWS_SECRET_ACCESS_KEY=wrongsecret \
  "$NORC_S3PROBE" "$SIGV4_ENDPOINT" us-east-1 bkt get "${keys[0]}"
[ "$RC" = 1 ] && grep -q '^HTTP 403' "$ERR" && grep -q SignatureDoesNotMatch "$OUT" &&
  ok "verifier: a wrong secret gets 403" || bad "verifier: wrong secret (exit $RC)"

# The S3 plugin's own requests (Content-Type and Content-Encoding signed too).
V=(-o bucket=bkt -o "endpoint=$SIGV4_ENDPOINT" -o region=eu-west-1)
expect_ok "verifier: plugin put" as_verifier ctl "$NORC_S3_SO" "${V[@]}" put "$WORK/big.bin" "${keys[0]}"
expect_ok "verifier: plugin get" as_verifier ctl "$NORC_S3_SO" "${V[@]}" get "${keys[0]}"
expect_out "verifier: plugin get signed" '^SIGV4 OK s3 GET /bkt/norc_logs/tasks/Cmd/a%20b%2Bc%3Dd/%C3%A9-1 '
expect_ok "verifier: plugin exists" as_verifier ctl "$NORC_S3_SO" "${V[@]}" exists "${keys[0]}"
expect_out "verifier: plugin exists is true" '^true$'
expect_ok "verifier: plugin del" as_verifier ctl "$NORC_S3_SO" "${V[@]}" del "${keys[0]}"
expect_fail "verifier: plugin put with a wrong secret" 1 'S3 put s3://bkt/norc_logs/.*HTTP 403.*check the' \
  env AWS_ACCESS_KEY_ID=$SIGV4_KEY AWS_SECRET_ACCESS_KEY=wrong-secret-xyz \
  "$NORC_BACKUPCTL" "$NORC_S3_SO" "${V[@]}" put "$WORK/small.txt" "${keys[0]}"
grep -q 'wrong-secret-xyz\|AKIDEXAMPLE' "$ERR" && bad "verifier: the error shows a credential" ||
  ok "verifier: the error shows no credential"

# ---- s3rver: bytes round trip ----
S=("$S3_ENDPOINT" us-east-1)
expect_ok "s3rver: make bucket raw" as_s3rver probe "${S[@]}" raw mkbucket
expect_ok "s3rver: put raw" as_s3rver probe "${S[@]}" raw put "${keys[0]}" "$WORK/big.bin"
run as_s3rver probe "${S[@]}" raw get "${keys[0]}"
[ "$RC" = 0 ] && cmp -s "$OUT" "$WORK/big.bin" && ok "s3rver: get raw returns the same bytes" || bad "s3rver: get raw"
run as_s3rver probe "${S[@]}" raw list "norc_logs/tasks/Cmd/a b+c=d/"
[ "$RC" = 0 ] && grep -q '<KeyCount>1</KeyCount>' "$OUT" && ok "s3rver: list by an awkward prefix" || bad "s3rver: list"

# ---- s3rver: the S3 plugin ----
P=(-o bucket=logs -o "endpoint=$S3_ENDPOINT" -o "tmp_dir=$WORK")
expect_fail "s3rver: plugin put without the bucket" 1 'NoSuchBucket.*create_bucket = true' \
  as_s3rver ctl "$NORC_S3_SO" "${P[@]}" put "$WORK/big.bin" "${keys[0]}"
expect_ok "s3rver: plugin put with create_bucket" as_s3rver ctl "$NORC_S3_SO" "${P[@]}" -o create_bucket=true put "$WORK/big.bin" "${keys[0]}"
run as_s3rver ctl "$NORC_S3_SO" "${P[@]}" get "${keys[0]}"
[ "$RC" = 0 ] && cmp -s "$OUT" "$WORK/big.bin" && ok "s3rver: plugin get returns the same bytes" || bad "s3rver: plugin get"
run as_s3rver probe "${S[@]}" logs get "${keys[0]}"
[ "$RC" = 0 ] && [ "$(head -c 2 "$OUT" | od -An -tx1 | tr -d ' ')" = 1f8b ] &&
  [ "$(stat -c %s "$OUT")" -lt "$(stat -c %s "$WORK/big.bin")" ] &&
  ok "s3rver: the object is stored gzip-compressed" || bad "s3rver: stored object is not gzip"
expect_ok "s3rver: plugin exists" as_s3rver ctl "$NORC_S3_SO" "${P[@]}" exists "${keys[0]}"
expect_out "s3rver: exists is true" '^true$'
expect_ok "s3rver: plugin exists of a missing key" as_s3rver ctl "$NORC_S3_SO" "${P[@]}" exists nope
expect_out "s3rver: exists is false" '^false$'
expect_fail "s3rver: plugin get of a missing key" 3 'S3 get s3://logs/nope: no such object' \
  as_s3rver ctl "$NORC_S3_SO" "${P[@]}" get nope
/usr/bin/python3 -c 'import sys,zlib; sys.stdout.buffer.write(zlib.compress(open(sys.argv[1],"rb").read(), 9))' \
  "$WORK/big.bin" >"$WORK/big.z"
expect_ok "s3rver: put a zlib object (as the original Norc)" as_s3rver probe "${S[@]}" logs put old/zlib "$WORK/big.z"
run as_s3rver ctl "$NORC_S3_SO" "${P[@]}" get old/zlib
[ "$RC" = 0 ] && cmp -s "$OUT" "$WORK/big.bin" && ok "s3rver: plugin get decodes a zlib object" || bad "s3rver: zlib object"
expect_ok "s3rver: put a raw object" as_s3rver probe "${S[@]}" logs put old/raw "$WORK/small.txt"
run as_s3rver ctl "$NORC_S3_SO" "${P[@]}" get old/raw
[ "$RC" = 0 ] && cmp -s "$OUT" "$WORK/small.txt" && ok "s3rver: plugin get passes a raw object through" || bad "s3rver: raw object"
expect_ok "s3rver: plugin del" as_s3rver ctl "$NORC_S3_SO" "${P[@]}" del "${keys[0]}"
run as_s3rver ctl "$NORC_S3_SO" "${P[@]}" exists "${keys[0]}"
grep -q '^false$' "$OUT" && ok "s3rver: gone after del" || bad "s3rver: still there after del"
expect_ok "s3rver: del of a missing key is done" as_s3rver ctl "$NORC_S3_SO" "${P[@]}" del "${keys[0]}"
expect_fail "s3rver: a missing local file" 1 'S3 put s3://logs/k: cannot open .*/nofile' \
  as_s3rver ctl "$NORC_S3_SO" "${P[@]}" put "$WORK/nofile" k
start=$(date +%s%N)
expect_fail "dead endpoint: retried, then one line" 1 'S3 exists s3://logs/k: HEAD 127.0.0.1:1: .*after 3 tries' \
  as_s3rver ctl "$NORC_S3_SO" -o bucket=logs -o endpoint=http://127.0.0.1:1 -o attempts=3 exists k
ms=$(( ($(date +%s%N) - start) / 1000000 ))
[ "$ms" -ge 1400 ] && [ "$ms" -lt 10000 ] && ok "dead endpoint: backoff 0.5 s + 1 s ($ms ms)" || bad "dead endpoint: took $ms ms"
expect_fail "settings: unknown key" 1 "S3 has no setting 'buckett' \(valid: bucket region" \
  as_s3rver ctl "$NORC_S3_SO" -o buckett=x exists k
expect_fail "settings: no bucket" 1 'S3 needs a bucket' as_s3rver ctl "$NORC_S3_SO" exists k
expect_fail "settings: no credentials" 1 'no AWS credentials: set credentials_file' \
  env -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY "$NORC_BACKUPCTL" "$NORC_S3_SO" -o bucket=b exists k
printf '[default]\naws_access_key_id = %s\naws_secret_access_key = %s\n' "$S3_KEY" "$S3_SECRET" >"$WORK/creds"
expect_ok "s3rver: credentials_file" env -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY \
  "$NORC_BACKUPCTL" "$NORC_S3_SO" "${P[@]}" -o "credentials_file=$WORK/creds" exists k

# ---- retries, against a scripted flaky endpoint ----
/usr/bin/python3 "$here/s3flaky.py" 0 "$WORK/flaky.log" >"$WORK/flaky.port" 2>"$WORK/flaky.err" &
flaky_pid=$!
for _ in $(seq 1 100); do [ -s "$WORK/flaky.port" ] && break; sleep 0.1; done
F=("http://127.0.0.1:$(cat "$WORK/flaky.port")" us-east-1 b)
FP=(-o bucket=b -o "endpoint=${F[0]}")
run as_s3rver probe "${F[@]}" get body
cp "$OUT" "$WORK/flaky.body"
[ "$RC" = 0 ] && [ "$(stat -c %s "$WORK/flaky.body")" = 460000 ] && ok "flaky: plain GET" || bad "flaky: plain GET"
run as_s3rver env S3PROBE_ATTEMPTS=3 "$NORC_S3PROBE" "${F[@]}" get slowdown
[ "$RC" = 0 ] && grep -q 'ok after slowdown' "$OUT" && [ "$(grep -c 'GET /b/slowdown' "$WORK/flaky.log")" = 2 ] &&
  ok "flaky: 503 SlowDown retried once" || bad "flaky: 503 SlowDown"
run as_s3rver ctl "$NORC_S3_SO" "${FP[@]}" get drop
[ "$RC" = 0 ] && cmp -s "$OUT" "$WORK/flaky.body" && grep -q '^GET /b/drop bytes=230000- "0123456789abcdef"$' "$WORK/flaky.log" &&
  ok "flaky: plugin get cut mid-body resumes with Range and If-Match" || bad "flaky: resumed get"
run as_s3rver ctl "$NORC_S3_SO" "${FP[@]}" get drop-full
[ "$RC" = 0 ] && cmp -s "$OUT" "$WORK/flaky.body" && ok "flaky: plugin get restarted with 200 skips what it had" || bad "flaky: restarted get"
expect_fail "flaky: 403 is final" 1 'S3 get s3://b/denied: HTTP 403 AccessDenied: Access Denied \(check' \
  as_s3rver ctl "$NORC_S3_SO" "${FP[@]}" get denied
[ "$(grep -c 'GET /b/denied' "$WORK/flaky.log")" = 1 ] && ok "flaky: 403 not retried" || bad "flaky: 403 retried"

# ---- LocalBackup ----
L=(-o "dir=$WORK/store")
expect_ok "local: put" ctl "$NORC_LOCALBACKUP_SO" "${L[@]}" put "$WORK/big.bin" "${keys[0]}"
[ -f "$WORK/store/${keys[0]}" ] && [ "$(head -c 2 "$WORK/store/${keys[0]}" | od -An -tx1 | tr -d ' ')" = 1f8b ] &&
  ok "local: stored gzip-compressed at DIR/KEY" || bad "local: object file"
[ -z "$(find "$WORK/store" -name '.*')" ] && ok "local: no temporary file left" || bad "local: temporary file left"
run ctl "$NORC_LOCALBACKUP_SO" "${L[@]}" get "${keys[0]}"
[ "$RC" = 0 ] && cmp -s "$OUT" "$WORK/big.bin" && ok "local: get returns the same bytes" || bad "local: get"
expect_ok "local: exists" ctl "$NORC_LOCALBACKUP_SO" "${L[@]}" exists "${keys[0]}"
expect_out "local: exists is true" '^true$'
expect_fail "local: get of a missing key" 3 "LocalBackup get 'a/nope': no such object" \
  ctl "$NORC_LOCALBACKUP_SO" "${L[@]}" get a/nope
expect_ok "local: del" ctl "$NORC_LOCALBACKUP_SO" "${L[@]}" del "${keys[0]}"
run ctl "$NORC_LOCALBACKUP_SO" "${L[@]}" exists "${keys[0]}"
grep -q '^false$' "$OUT" && ok "local: gone after del" || bad "local: still there after del"
for k in "../escape" "a/../../b" "/abs" "a//b" "a/./b" ""; do
  expect_fail "local: key '$k' refused" 1 'not a valid key' \
    ctl "$NORC_LOCALBACKUP_SO" "${L[@]}" put "$WORK/small.txt" "$k"
done
expect_fail "local: relative dir refused" 1 'LocalBackup needs dir, an absolute path' \
  ctl "$NORC_LOCALBACKUP_SO" -o dir=store exists k
expect_fail "local: unknown setting" 1 "LocalBackup has no setting 'bucket' \(valid: dir tmp_dir\)" \
  ctl "$NORC_LOCALBACKUP_SO" "${L[@]}" -o bucket=x exists k

finish
