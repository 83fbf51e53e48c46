#!/usr/bin/env bash
# HTTP benchmark of the published API, one run of each measurement:
#   1. cold start: process start -> GET /health/ready answers 200
#   2. wrk, same duration and connections: (a) GET /health/live, (b) POST /api/predictions cycling through ~200 real
#      names from data/names (benchmarks/predictions.lua); requests/s, p50/p99 and the ratio (b)/(a)
#   3. predictions again while a training job runs (POST /api/training {"epochs": 40}); the job is cancelled after
#   3b. the same on an API with its worker off (Training__RunWorker=false) while a separate worker process
#      (RnnService.Trainer worker, sharing the models folder and its SQLite job store) trains the job: the fleet layout
#   MODE=training runs only the training comparison, ROUNDS (2) times: an API with its own worker, idle and training,
#      then an API with the worker off and a worker process, idle and training (UPDATE_DOCS=1: docs block "training")
#   MODE=ratio runs only (a) and (b), ROUNDS (5) times on one API, with the API's CPU per request (UPDATE_DOCS=1: docs block "ratio")
#   4. resident memory (VmRSS) of a fresh API process after 10k and after 200k predictions
# and prints a markdown table of each figure next to its target. If BenchmarkDotNet results of InferenceBenchmarks
# are present (BenchmarkDotNet.Artifacts/results), their medians fill the in-process rows.
#
# usage: bash benchmarks/http.sh
#   env: DURATION=10s CONNECTIONS=32 THREADS=2; MODELS_DIR (default: a temporary copy of models/);
#        PUBLISH_DIR (an existing deploy/publish.sh output to reuse instead of publishing);
#        UPDATE_DOCS=1 writes the table into docs/performance.md (benchmarks/update_docs.py)
# Needs the .NET 10 SDK, curl, python3 and wrk (installed with apt-get when missing).
# The API serves a temporary copy of models/ unless MODELS_DIR is set, so the training job can never publish a
# version into the repository's models folder or move its current pointer.
set -euo pipefail

source "$(dirname "$0")/common.sh" http
duration=${DURATION:-10s}
connections=${CONNECTIONS:-32}
threads=${THREADS:-2}
api_key=bench
api_settings=()   # extra environment of the next start_api

require_package wrk wrk

publish=${PUBLISH_DIR:-$work/publish}
if [ -z "${PUBLISH_DIR:-}" ]; then
  log "publishing to $publish (deploy/publish.sh)"
  bash "$repo/deploy/publish.sh" "$publish" >"$work/publish.log" 2>&1 || { cat "$work/publish.log" >&2; exit 1; }
fi

models=${MODELS_DIR:-}
if [ -z "$models" ]; then
  models="$work/models"
  mkdir -p "$models"
  for version in "$repo"/models/[0-9]*; do cp -r "$version" "$models/"; done
  if [ -f "$repo/models/current" ]; then cp "$repo/models/current" "$models/"; fi
fi

# ~200 real names, spread over every language file: every n-th line of the concatenated lists.
cat "$repo"/data/names/*.txt | awk 'NF' >"$work/all-names.txt"
total=$(wc -l <"$work/all-names.txt")
awk -v step=$((total / 200)) 'NR % step == 0' "$work/all-names.txt" | head -200 >"$work/names.txt"
log "$(wc -l <"$work/names.txt") names for the prediction mix"

port=$(free_port)
base="http://127.0.0.1:$port"

now_ms() { date +%s%3N; }

# Starts the published API; sets api_pid and cold_start_ms (process start -> /health/ready 200).
start_api() {
  local started
  started=$(now_ms)
  (cd "$publish/api" && exec env Urls="$base" Serving__ModelsDirectory="$models" Training__DataDirectory="$repo/data/names" \
      Security__ApiKey=$api_key RateLimiting__PredictionsPerWindow=1000000 RateLimiting__NamesPerWindow=100000000 \
      RateLimiting__ReadsPerWindow=1000000 "${api_settings[@]}" dotnet RnnService.Api.dll) >>"$work/api.log" 2>&1 &
  api_pid=$!
  for _ in $(seq 1 6000); do
    if [ "$(curl -s -o /dev/null -w '%{http_code}' "$base/health/ready" 2>/dev/null)" = 200 ]; then
      cold_start_ms=$(($(now_ms) - started))
      return
    fi
    kill -0 "$api_pid" 2>/dev/null || { tail -50 "$work/api.log" >&2; exit 1; }
    sleep 0.01
  done
  log "the API did not become ready within 60 s"; tail -50 "$work/api.log" >&2; exit 1
}

stop_api() {
  stop_process "$api_pid"
  api_pid=""
}

# wrk output + the server's CPU ticks spent during the run -> "requests/s p50_ms p99_ms non_2xx cpu_us_per_request".
# CPU time per request is the steadier figure on a shared machine: it does not depend on what else gets the cores.
summarize() {
  awk -v ticks="$2" -v hz="$(getconf CLK_TCK)" '
    function ms(v) { if (v ~ /us$/) return v / 1000; if (v ~ /ms$/) return v + 0; if (v ~ /s$/) return v * 1000; return v }
    / requests in / { n = $1 }
    /Requests\/sec:/ { rps = $2 }
    $1 == "50%" { p50 = ms($2) }
    $1 == "99%" { p99 = ms($2) }
    /Non-2xx or 3xx responses:/ { bad = $NF }
    END { printf "%.0f %.2f %.2f %d %.1f\n", rps, p50, p99, bad, (n > 0 ? ticks * 1e6 / hz / n : 0) }' "$1"
}

cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$api_pid/stat"; }

run_wrk() { # name, wrk args...
  local name=$1 before; shift
  before=$(cpu_ticks)
  wrk -t"$threads" -c"$connections" --latency "$@" >"$work/$name.txt" 2>&1
  cat "$work/$name.txt" >&2
  local figures
  figures=$(summarize "$work/$name.txt" $(($(cpu_ticks) - before)))
  # Refused or failed requests would be timed as if they were answers.
  [ "$(cut -d' ' -f4 <<<"$figures")" = 0 ] || { log "$name: $(cut -d' ' -f4 <<<"$figures") requests were not answered 2xx; the figures are not comparable"; exit 1; }
  echo "$figures"
}

predict_args=(-s "$repo/benchmarks/predictions.lua" "$base/api/predictions" -- "$work/names.txt")

log "starting the API on $base"
start_api
cold_start=$cold_start_ms
log "cold start: $cold_start ms"

# Tiered JIT needs about 10 s of load before the request path runs fully optimised code.
log "warming up (5 s /health/live, 10 s predictions)"
wrk -t"$threads" -c"$connections" -d5s "$base/health/live" >/dev/null
wrk -t"$threads" -c"$connections" -d10s "${predict_args[@]}" >/dev/null

# Predictions while a training job (40 epochs) runs; sets <prefix>_rps, _p50, _p99, _bad, _cpu and <prefix>_state (the
# job's progress when the run ended). The job is cancelled afterwards.
predictions_while_training() { # prefix
  local prefix=$1 figures state
  job_id=$(curl -s -X POST "$base/api/training" -H "X-Api-Key: $api_key" -H 'Content-Type: application/json' -d '{"epochs": 40}' \
    | python3 -c 'import json, sys; print(json.load(sys.stdin)["id"])')
  for _ in $(seq 1 100); do curl -s "$base/api/training/$job_id" | grep -q '"state":"Running"' && break; sleep 0.1; done
  sleep 2   # past data loading, into the epochs
  figures=$(run_wrk "$prefix" -d"$duration" "${predict_args[@]}")
  read -r "${prefix}_rps" "${prefix}_p50" "${prefix}_p99" "${prefix}_bad" "${prefix}_cpu" <<<"$figures"
  state=$(curl -s "$base/api/training/$job_id" | python3 -c 'import json, sys; j = json.load(sys.stdin); print(j["state"], "epochs done:", len(j["epochs"]))')
  printf -v "${prefix}_state" '%s' "$state"
  log "training job $job_id after the run: $state"
  curl -s -o /dev/null -X DELETE "$base/api/training/$job_id" -H "X-Api-Key: $api_key"
  for _ in $(seq 1 50); do curl -s "$base/api/training/$job_id" | grep -q '"state":"Cancelled"' && break; sleep 0.1; done
}

# The fleet layout on this machine: the API with its worker off, and a worker process sharing its models folder (and so
# its SQLite job store).
start_fleet() {
  api_settings=(Training__RunWorker=false)
  start_api
  api_settings=()
  # On one host the worker yields the CPU to the API (nice 19), as an operator would run it; on a fleet it has a node of its own.
  (cd "$publish/trainer" && exec env Serving__ModelsDirectory="$models" Training__DataDirectory="$repo/data/names" \
      nice -n 19 dotnet RnnService.Trainer.dll worker) >>"$work/worker.log" 2>&1 &
  worker_pid=$!
}

stop_fleet() {
  stop_process "$worker_pid"
  worker_pid=""
  stop_api
}

warm_up() { wrk -t"$threads" -c"$connections" -d10s "${predict_args[@]}" >/dev/null; }

# (a) GET /health/live, then (b) POST /api/predictions, each for $duration; sets live_* and pred_* (rps, p50, p99, bad, cpu).
live_then_predictions() {
  log "(a) GET /health/live, $duration, $connections connections"
  read -r live_rps live_p50 live_p99 live_bad live_cpu < <(run_wrk live -d"$duration" "$base/health/live")
  log "(b) POST /api/predictions, $duration, $connections connections"
  read -r pred_rps pred_p50 pred_p99 pred_bad pred_cpu < <(run_wrk predictions -d"$duration" "${predict_args[@]}")
}

ratio_of() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }

if [ "${MODE:-full}" = ratio ]; then
  # Only predictions against /health/live, ROUNDS times back to back on one API: one run's ratio swings with what else
  # gets the cores, so the spread over rounds and the CPU per request say how far to trust it.
  rounds=${ROUNDS:-5}
  rows=""
  for round in $(seq 1 "$rounds"); do
    log "round $round: /health/live, then predictions"
    live_then_predictions
    rows+="| $round | $live_rps | $pred_rps | $(ratio_of "$pred_rps" "$live_rps") | $live_cpu µs | $pred_cpu µs | $(ratio_of "$live_cpu" "$pred_cpu") |"$'\n'
  done
  stop_api
  table="Predictions against /health/live: run of $(date -u +%Y-%m-%dT%H:%MZ) on $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg) at the end.
\`MODE=ratio bash benchmarks/http.sh\`: wrk -t$threads -c$connections -d$duration --latency each, on one API; issue 12's target: predictions ≥ 0.6 × /health/live (the full run's table keeps the earlier bar of 0.8).

| round | /health/live req/s | predictions req/s | ratio | API CPU per request, /health/live | API CPU per request, predictions | CPU ratio (live ÷ predictions) |
|---|---|---|---|---|---|---|
${rows}"
  printf '\n%s\n' "$table"
  if [ "${UPDATE_DOCS:-}" = 1 ]; then
    printf '%s\n' "$table" | python3 "$repo/benchmarks/update_docs.py" ratio
    log "docs/performance.md updated"
  fi
  exit 0
fi

if [ "${MODE:-full}" = training ]; then
  # Only the comparison of predictions while a job trains, ROUNDS times, alternating the two layouts.
  rounds=${ROUNDS:-2}
  rows=""
  for round in $(seq 1 "$rounds"); do
    [ "$round" -gt 1 ] && start_api
    log "round $round: the API with its own worker"
    warm_up
    read -r idle_rps idle_p50 idle_p99 idle_bad idle_cpu < <(run_wrk idle -d"$duration" "${predict_args[@]}")
    predictions_while_training train
    stop_api
    log "round $round: the API with its worker off, and a worker process"
    start_fleet
    warm_up
    read -r fidle_rps fidle_p50 fidle_p99 fidle_bad fidle_cpu < <(run_wrk fleet-idle -d"$duration" "${predict_args[@]}")
    predictions_while_training fleet
    stop_fleet
    rows+="| $round | $idle_p99 ms ($idle_rps req/s) | $train_p99 ms ($train_rps req/s; $train_state) | $(ratio_of "$train_p99" "$idle_p99") "
    rows+="| $idle_cpu → $train_cpu µs "
    rows+="| $fidle_p99 ms ($fidle_rps req/s) | $fleet_p99 ms ($fleet_rps req/s; $fleet_state) | $(ratio_of "$fleet_p99" "$fidle_p99") "
    rows+="| $fidle_cpu → $fleet_cpu µs |"$'\n'
  done
  table="Predictions while a job trains: run of $(date -u +%Y-%m-%dT%H:%MZ) on $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg) at the end.
\`MODE=training bash benchmarks/http.sh\`: wrk -t$threads -c$connections -d$duration --latency each; the job: 40 epochs of the default configuration.

API CPU per request: CPU time of the API process divided by the requests it answered, idle → while the job trains.

| round | API with its own worker: p99 idle | p99 while it trains | ratio | API CPU per request | API with the worker off: p99 idle | p99 while a worker process trains | ratio | API CPU per request |
|---|---|---|---|---|---|---|---|---|
${rows}"
  printf '\n%s\n' "$table"
  if [ "${UPDATE_DOCS:-}" = 1 ]; then
    printf '%s\n' "$table" | python3 "$repo/benchmarks/update_docs.py" training
    log "docs/performance.md updated"
  fi
  exit 0
fi

live_then_predictions
ratio=$(ratio_of "$pred_rps" "$live_rps")

log "(c) POST /api/predictions while a training job runs"
predictions_while_training train
stop_api

log "(d) POST /api/predictions on an API with the worker off while a worker process trains"
start_fleet
warm_up
predictions_while_training fleet
stop_fleet

log "memory: fresh API, 10k then 200k predictions"
start_api
second_cold_start=$cold_start_ms
rss() { awk '/VmRSS/ { printf "%.0f", $2 / 1024 }' "/proc/$api_pid/status"; }
served() { curl -s "$base/metrics" | awk '/^rnnservice_predictions_total\{/ { n += $NF } END { printf "%.0f", n }'; }
# Serves predictions until the service has answered `target` in total: each wrk thread stops after its share
# (predictions.lua), and wrk, which would otherwise sleep out its duration, is interrupted once the count is reached
# (or stops moving, should a request have been cut off).
drive_to() {
  local target=$1 start share last stalled=0 wrk_pid now
  start=$(served)
  share=$(((target - start + threads - 1) / threads))
  wrk -t"$threads" -c"$connections" -d3600s "${predict_args[@]}" "$share" >"$work/memory-$target.txt" 2>&1 &
  wrk_pid=$!
  last=$start
  while kill -0 "$wrk_pid" 2>/dev/null; do
    sleep 0.5
    now=$(served)
    if [ "$now" -ge "$target" ]; then break; fi
    if [ "$now" = "$last" ]; then stalled=$((stalled + 1)); else stalled=0; fi
    if [ "$stalled" -ge 6 ]; then break; fi
    last=$now
  done
  kill -INT "$wrk_pid" 2>/dev/null || true
  wait "$wrk_pid" 2>/dev/null || true
}
rss_start=$(rss)
drive_to 10000
sleep 1
served_10k=$(served)
rss_10k=$(rss)
drive_to 200000
sleep 1
served_200k=$(served)
rss_200k=$(rss)
stop_api
rss_growth=$(awk -v a="$rss_10k" -v b="$rss_200k" 'BEGIN { printf "%+.1f", (b - a) * 100 / a }')

# In-process medians from the last BenchmarkDotNet run, if any, and their verdicts.
inprocess() { python3 "$repo/benchmarks/update_docs.py" median "$1" 2>/dev/null || echo "n/a (run the BenchmarkDotNet suite first)"; }
inprocess_judge() { # method, target in µs
  local us
  us=$(python3 "$repo/benchmarks/update_docs.py" median "$1" --us 2>/dev/null) || return 0
  judge "$us" "v <= $2"
}

judge() { # value target_expression(awk, v) -> ok / MISSED
  awk -v v="$1" "BEGIN { exit !($2) }" && echo ok || echo MISSED
}

table=$(cat <<EOF
HTTP benchmark run of $(date -u +%Y-%m-%dT%H:%MZ) on $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg) at the end.

wrk -t$threads -c$connections -d$duration --latency; prediction mix: $(wc -l <"$work/names.txt") names from data/names.

| measurement | figure | target | |
|---|---|---|---|
| predict one name in-process, fast path (median) | $(inprocess OneNameFast) | ≤ 10 µs | $(inprocess_judge OneNameFast 10) |
| predict one name in-process, TorchSharp (median) | $(inprocess OneNameTorchSharp) | | |
| batch of 1,000 in-process, fast path (median) | $(inprocess Batch1000Fast) | ≤ 20 ms | $(inprocess_judge Batch1000Fast 20000) |
| batch of 1,000 in-process, TorchSharp (median) | $(inprocess Batch1000TorchSharp) | | |
| GET /health/live | $live_rps req/s, p50 $live_p50 ms, p99 $live_p99 ms | (reference) | $([ "$live_bad" = 0 ] && echo ok || echo "$live_bad errors") |
| POST /api/predictions | $pred_rps req/s, p50 $pred_p50 ms, p99 $pred_p99 ms | | $([ "$pred_bad" = 0 ] && echo ok || echo "$pred_bad errors") |
| predictions / trivial endpoint, req/s | $ratio | ≥ 0.8 | $(judge "$ratio" 'v >= 0.8') |
| server CPU per request: /health/live, predictions | $live_cpu µs, $pred_cpu µs | | |
| predictions p99 | $pred_p99 ms | ≤ 5 ms | $(judge "$pred_p99" 'v <= 5') |
| predictions p99 while training | $train_p99 ms ($train_rps req/s, p50 $train_p50 ms) | ≤ 20 ms | $(judge "$train_p99" 'v <= 20') |
| predictions p99 on an API with the worker off while a worker process trains | $fleet_p99 ms ($fleet_rps req/s, p50 $fleet_p50 ms; $(ratio_of "$fleet_p99" "$pred_p99") × idle p99) | ≤ 20 ms | $(judge "$fleet_p99" 'v <= 20') |
| cold start (start → /health/ready 200) | $cold_start ms (second start: $second_cold_start ms) | ≤ 2000 ms | $(judge "$cold_start" 'v <= 2000') |
| RSS after 10k / 200k predictions | $rss_10k MB / $rss_200k MB ($rss_growth %; $rss_start MB when ready; counts served: $served_10k / $served_200k) | within 10 % | $(judge "$rss_growth" 'v <= 10 && v >= -10') |

Training job during (c): $train_state; during (d), in the worker process: $fleet_state (both cancelled afterwards).
EOF
)
printf '\n%s\n' "$table"
if [ "${UPDATE_DOCS:-}" = 1 ]; then
  printf '%s\n' "$table" | python3 "$repo/benchmarks/update_docs.py" http
  log "docs/performance.md updated"
fi
