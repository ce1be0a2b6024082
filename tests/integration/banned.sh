#!/usr/bin/env bash
# banned.sh SRC_DIR - the house style's banned calls (c-anchors-style.md rule 30) must not
# appear in the product code: core/, bin/, plugins/, queues/, backups/.
set -u
cd "${1:?source dir}"
pattern='\b(sprintf|vsprintf|strcpy|strcat|gets|strtok|atoi|atol|system|popen|signal|vfork|tmpnam|mktemp|getpwnam|getgrnam|setenv)\s*\('
hits=$(grep -rnE "$pattern" core bin plugins queues backups --include='*.c' --include='*.h' 2>/dev/null |
       grep -vE '^\S+:[0-9]+:\s*(\*|/\*|//)')
if [ -n "$hits" ]; then
  echo "$hits"
  echo "0 passed, 1 failed"
  exit 1
fi
echo "1 passed, 0 failed"
