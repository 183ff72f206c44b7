#!/usr/bin/env bash
# npm run build: dist/ holds the ES modules `import` gets, dist/cjs/ the CommonJS modules `require` gets
# (Node 20 cannot `require` an ES module), each with its .d.ts and source maps.
set -euo pipefail
rm -rf dist
tsc -p tsconfig.build.json
tsc -p tsconfig.cjs.json
echo '{ "type": "commonjs" }' > dist/cjs/package.json
