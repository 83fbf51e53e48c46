#!/usr/bin/env bash
# Fairness benchmark (issue "Unbreakable, round two"), one run of each measurement, on the Release build:
#   1. single-name p99 while another client floods 1,000-name batches as fast as it can, with bulk work taking turns
#      (RateLimiting:BulkConcurrency at its default) and, as the baseline in the same run, without turns (1024)
#   2. GET /api/models requests/s with 1 version and with 60 versions in the folder (the listing is cached per set)
# Rate limits are lifted for the run: on loopback every wrk connection is the same client.
#
# usage: bash benchmarks/fairness.sh      env: DURATION=10s
# Needs a Release build (dotnet build RnnService.sln -c Release), curl, python3 and wrk (installed when missing).
set -euo pipefail

source "$(dirname "$0")/common.sh" fairness
duration=${DURATION:-10s}
api="$repo/src/RnnService.Api/bin/Release/net10.0/RnnService.Api.dll"

[ -f "$api" ] || { echo "build first: dotnet build RnnService.sln -c Release" >&2; exit 1; }
require_package wrk wrk

cat "$repo"/data/names/*.txt | awk 'NF' | awk 'NR % 100 == 0' | head -200 >"$work/names.txt"
port=$(free_port)
base="http://127.0.0.1:$port"

start_api() { # models folder, extra environment...
  local models=$1; shift
  (cd "$repo/src/RnnService.Api" && exec env Urls="$base" Serving__ModelsDirectory="$models" Security__ApiKey=bench \
      RateLimiting__PredictionsPerWindow=1000000 RateLimiting__NamesPerWindow=100000000 RateLimiting__ReadsPerWindow=1000000 \
      RateLimiting__BulkQueue=100000 Serilog__MinimumLevel__Default=Warning "$@" dotnet "$api") >>"$work/api.log" 2>&1 &
  api_pid=$!
  for _ in $(seq 1 3000); do
    [ "$(curl -s -o /dev/null -w '%{http_code}' "$base/health/ready")" = 200 ] && return
    kill -0 "$api_pid" 2>/dev/null || { tail -30 "$work/api.log" >&2; exit 1; }
    sleep 0.02
  done
  echo "the API did not become ready" >&2; exit 1
}
stop_api() { stop_process "$api_pid"; api_pid=""; }

p99_ms() { awk '$1 == "99%" { v = $2; if (v ~ /us$/) v = v / 1000; else if (v ~ /ms$/) v = v + 0; else if (v ~ /s$/) v = v * 1000; print v }' "$1"; }
rps() { awk '/Requests\/sec:/ { printf "%.0f", $2 }' "$1"; }

singles=(-t1 -c4 --latency -s "$repo/benchmarks/predictions.lua" "$base/api/predictions" -- "$work/names.txt")
flood=(-t1 -c8 -s "$repo/benchmarks/batch.lua" "$base/api/predictions/batch" -- "$work/names.txt")

models="$work/models"
mkdir -p "$models"
cp -r "$repo/models/1" "$models/"

measure_flood() { # label, environment...
  local label=$1; shift
  start_api "$models" "$@"
  wrk -t1 -c4 -d5s -s "$repo/benchmarks/predictions.lua" "$base/api/predictions" -- "$work/names.txt" >/dev/null   # warm-up
  wrk -t1 -c4 -d5s -s "$repo/benchmarks/batch.lua" "$base/api/predictions/batch" -- "$work/names.txt" >/dev/null
  wrk -d"$duration" --latency "${singles[@]}" >"$work/alone-$label.txt"
  wrk -d"$duration" "${flood[@]}" >"$work/flood-$label.txt" &
  local flood_pid=$!
  sleep 1
  wrk -d"$duration" "${singles[@]}" >"$work/singles-$label.txt"
  wait "$flood_pid"
  stop_api
  printf '%s %s %s %s\n' "$(p99_ms "$work/alone-$label.txt")" "$(p99_ms "$work/singles-$label.txt")" "$(rps "$work/singles-$label.txt")" "$(rps "$work/flood-$label.txt")"
}

log "single names alone, then beside a batch flood: bulk work taking turns (default)"
read -r turns_alone turns_p99 turns_rps turns_batches < <(measure_flood turns)
log "the same without turns (RateLimiting__BulkConcurrency=1024), the baseline"
read -r free_alone free_p99 free_rps free_batches < <(measure_flood free RateLimiting__BulkConcurrency=1024)

listing() { # label
  start_api "$models"
  wrk -t1 -c4 -d2s "$base/api/models" >/dev/null
  wrk -t1 -c4 -d"$duration" "$base/api/models" >"$work/listing-$1.txt"
  stop_api
  rps "$work/listing-$1.txt"
}
log "GET /api/models with 1 version"
listing_1=$(listing one)
for version in $(seq 2 60); do cp -r "$repo/models/1" "$models/$version"; sed -i "s/\"version\": 1,/\"version\": $version,/" "$models/$version/manifest.json"; done
echo 1 >"$models/current"
log "GET /api/models with 60 versions"
listing_60=$(listing sixty)

cat <<TABLE

Fairness benchmark run of $(date -u +%Y-%m-%dT%H:%MZ) on $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg) at the end.
Single names: wrk -t1 -c4 -d$duration; flood: wrk -t1 -c8 -d$duration of 1,000-name batches; listing: wrk -t1 -c4 -d$duration.

| measurement | bulk work taking turns (default) | without turns (baseline) | target |
|---|---|---|---|
| single-name p99 alone | $turns_alone ms | $free_alone ms | |
| single-name p99 beside the batch flood | $turns_p99 ms | $free_p99 ms | ≤ 10 ms |
| single names/s beside the flood | $turns_rps | $free_rps | |
| batches/s of the flood | $turns_batches | $free_batches | |

| GET /api/models | requests/s |
|---|---|
| 1 version | $listing_1 |
| 60 versions | $listing_60 (ratio $(awk -v a="$listing_1" -v b="$listing_60" 'BEGIN { printf "%.2f", b / a }')) |
TABLE
