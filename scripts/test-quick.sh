#!/usr/bin/env bash
# npm run test:quick: the type check and every test that needs no server and no build (unit, property, type and
# docs tests; soaks skipped through TEST_QUICK=1), two test files at a time: about a minute on a 2-core machine.
# `npm test` (what CI runs) keeps everything: the build, the tests against real PostgreSQL and Redis, the
# multi-process and fault tests, the soaks, coverage.
set -euo pipefail
cd "$(dirname "$0")/.."
started=$(date +%s)
tsc -p tsconfig.json --noEmit
files=()
for file in test/*.test.ts; do
  case "$file" in
    test/processes.test.ts | test/redis.test.ts | test/bullmq.test.ts | test/sharded.test.ts | test/install.test.ts | test/demo.test.ts | test/demo-postgres.test.ts | test/package.test.ts) ;;
    *) files+=("$file") ;;
  esac
done
# Dots while it runs, failures in full at the end, then the counts of the TAP summary; no test run is a failure.
tap=$(mktemp)
trap 'rm -f "$tap"' EXIT
status=0
TEST_QUICK=1 node --import tsx --test --test-concurrency=2 --test-reporter=dot --test-reporter-destination=stdout \
  --test-reporter=tap --test-reporter-destination="$tap" "${files[@]}" || status=$?
count() { grep -m1 "^# $1 " "$tap" | awk '{ print $3 }'; }
echo "test:quick: $(count pass) passed, $(count fail) failed, $(count cancelled) cancelled, $(count skipped) skipped (soaks), in ${#files[@]} files and the type check, $(( $(date +%s) - started )) s"
[ "$(count tests)" -gt 0 ] || { echo "test:quick: no test ran"; status=1; }
exit "$status"
