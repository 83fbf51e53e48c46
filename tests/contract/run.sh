#!/usr/bin/env bash
# The contract as third-party tools see it. Starts the built API (Release) on a free loopback port with a copy of the
# shipped model and the names data, then:
#   1. lints the served OpenAPI document with redocly's recommended rules: any error or warning fails;
#   2. generates TypeScript types from it (openapi-typescript) and type-checks the client test against them (tsc);
#   3. runs that client (openapi-fetch) against the instance: predict, batch, explain, models, training start/poll/cancel,
#      every response checked against the document (status, media type, schema);
#   4. parses /metrics with the Prometheus project's text-format parser and checks it against the README's table.
# Needs `npm ci` here first, Debian's python3-prometheus-client (.ci/run installs both) and a Release build of the API.
set -euo pipefail
cd "$(dirname "$0")"
repo=$(cd ../.. && pwd)
api="$repo/src/RnnService.Api/bin/Release/net10.0/RnnService.Api.dll"
[ -f "$api" ] || { echo "contract: build the API first (dotnet build -c Release)" >&2; exit 1; }
root=$(mktemp -d)
api_pid=
cleanup() {
  if [ -n "$api_pid" ]; then kill "$api_pid" 2>/dev/null || true; wait "$api_pid" 2>/dev/null || true; fi
  rm -rf "$root"
}
trap cleanup EXIT
fail() { echo "contract FAILED: $*" >&2; [ -f "$root/api.log" ] && tail -n 30 "$root/api.log" >&2; exit 1; }

mkdir -p "$root/models" generated
cp -r "$repo/models/1" "$root/models/1"
port=$(node -e 'const s = require("net").createServer().listen(0, "127.0.0.1", () => { console.log(s.address().port); s.close(); })')
export CONTRACT_BASE_URL="http://127.0.0.1:$port" CONTRACT_API_KEY=contract-test-key
CONTRACT_README="$repo/README.md"
(cd "$repo/src/RnnService.Api" && exec env Urls="$CONTRACT_BASE_URL" Security__ApiKey="$CONTRACT_API_KEY" \
  Serving__ModelsDirectory="$root/models" Training__DataDirectory="$repo/data/names" \
  RateLimiting__PredictionsPerWindow=200 RateLimiting__Window=00:01:00 dotnet "$api") > "$root/api.log" 2>&1 &
api_pid=$!
for _ in $(seq 1 120); do
  curl -sf "$CONTRACT_BASE_URL/health/ready" > /dev/null && break
  kill -0 "$api_pid" 2>/dev/null || fail "the API exited during startup"
  sleep 0.5
done
curl -sf "$CONTRACT_BASE_URL/swagger/v1/swagger.json" -o generated/openapi.json || fail "no OpenAPI document"

# 1. redocly: errors fail its exit code; warnings are counted from its JSON report.
npx --no-install redocly lint generated/openapi.json --format stylish || fail "redocly lint found errors"
npx --no-install redocly lint generated/openapi.json --format json > generated/lint.json 2> /dev/null || true
node -e 'const t = require("./generated/lint.json").totals; console.log(`redocly: ${t.errors} errors, ${t.warnings} warnings`);
         process.exit(t.errors + t.warnings === 0 ? 0 : 1)' || fail "redocly lint found warnings"

# 2. the generated client's types, and the client test type-checked against them.
npx --no-install openapi-typescript generated/openapi.json -o generated/api.d.ts
npx --no-install tsc -p tsconfig.json || fail "the client test does not type-check against the generated types"

# 3. the client against the running instance.
CONTRACT_DOCUMENT="$PWD/generated/openapi.json" node --test generated/out/ || fail "the client's calls"

# 4. /metrics, with Debian's Python (which has the package), not whichever python3 comes first on PATH.
/usr/bin/python3 metrics.py "$CONTRACT_BASE_URL" "$CONTRACT_README" || fail "/metrics"
