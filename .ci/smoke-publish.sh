#!/usr/bin/env bash
# Smoke test of the container's contents without a Docker engine: publish with the Dockerfile's own script, lay out the
# files as its COPY lines do, start the API with its ENV, ENTRYPOINT and HEALTHCHECK (paths under /app moved to a temp
# folder, port 8080 to a free loopback port), predict, scrape /metrics, let the trainer publish a version that the
# running API must pick up, then stop with SIGTERM. Any failed step fails the script.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(mktemp -d)
api_pid=
cleanup() {
  if [ -n "$api_pid" ]; then kill "$api_pid" 2>/dev/null || true; fi
  rm -rf "$root"
}
trap cleanup EXIT
fail() { echo "smoke test FAILED: $*" >&2; [ -f "$root/api.log" ] && tail -n 40 "$root/api.log" >&2; exit 1; }
app() { sed "s#/app#$root#g"; }   # a container path, moved into the temp folder

# Dockerfile logical lines (continuations joined), from the final stage only.
dockerfile=$(awk '/\\$/ { sub(/\\$/, ""); printf "%s", $0; next } { print }' Dockerfile | awk '/^FROM /{stage++} stage==2')

grep -q '^RUN bash deploy/publish.sh /out$' <<<"$(awk '/\\$/ { sub(/\\$/, ""); printf "%s", $0; next } { print }' Dockerfile)" \
  || fail "the Dockerfile no longer publishes with deploy/publish.sh"
bash deploy/publish.sh "$root" > "$root/publish.log" 2>&1 || { tail -n 30 "$root/publish.log"; fail "publish"; }

while read -r _ args; do
  set -- $args
  while [[ "$1" == --* ]]; do shift; done
  [ "$1" = "/out/" ] && continue               # the publish output, already in place
  mkdir -p "$(dirname "$(app <<<"$2")")"
  cp -r "$1" "$(app <<<"$2")"
done < <(grep '^COPY ' <<<"$dockerfile")

# Every COPY source must reach the build context: .dockerignore's patterns, the last matching one deciding, as Docker
# applies them (a source left out there fails `docker build`, which this machine cannot run).
grep '^COPY ' <<<"$dockerfile" | awk '{ for (i = 2; i <= NF; i++) if ($i !~ /^--/) { print $i; break } }' | grep -v '^/out/$' \
  | python3 -c '
import fnmatch, sys
rules = [line.strip() for line in open(".dockerignore") if line.strip() and not line.startswith("#")]
def excluded(path):
    parts = path.rstrip("/").split("/")
    verdict = False
    for rule in rules:
        negate, pattern = rule.startswith("!"), rule.lstrip("!").rstrip("/")
        # A pattern matching the path or one of its parent folders applies to it.
        if any(fnmatch.fnmatch("/".join(parts[:n]), pattern.replace("**/", "*")) for n in range(1, len(parts) + 1)):
            verdict = not negate
    return verdict
left_out = [path for path in sys.stdin.read().split() if excluded(path)]
sys.exit("left out of the build context by .dockerignore: " + " ".join(left_out) if left_out else 0)
' || fail "a COPY source is excluded by .dockerignore"

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])' 2>/dev/null || echo 18080)
api_key=smoke-test-key
environment=()
for pair in $(grep '^ENV ' <<<"$dockerfile" | sed 's/^ENV //'); do environment+=("$(app <<<"$pair" | sed "s#http://+:8080#http://127.0.0.1:$port#")"); done
workdir=$(grep '^WORKDIR ' <<<"$dockerfile" | tail -n 1 | awk '{print $2}' | app)
entrypoint=$(grep '^ENTRYPOINT ' <<<"$dockerfile" | sed 's/^ENTRYPOINT //' | tr -d '[],"' | app)
healthcheck=$(grep '^HEALTHCHECK ' <<<"$dockerfile" | sed 's/.* CMD //' | tr -d '[],"' | app)
environment+=("Security__ApiKey=$api_key")   # as docker-compose sets it
echo "smoke: starting '$entrypoint' in $workdir on port $port with ${environment[*]}"

(cd "$workdir" && exec env "${environment[@]}" $entrypoint) > "$root/api.log" 2>&1 &
api_pid=$!
for _ in $(seq 1 120); do
  env "${environment[@]}" $healthcheck 2>/dev/null && break
  kill -0 "$api_pid" 2>/dev/null || fail "the API exited during startup"
  sleep 0.5
done
env "${environment[@]}" $healthcheck || fail "/health/ready never answered 200"
echo "smoke: ready"

prediction=$(curl -sf "http://127.0.0.1:$port/api/predictions" -H 'Content-Type: application/json' -d '{"name": "Nakamura", "top": 1}') \
  || fail "prediction request"
grep -q '"language":"Japanese"' <<<"$prediction" || fail "unexpected prediction: $prediction"
shipped=$(cat models/current)
grep -q "\"modelVersion\":$shipped" <<<"$prediction" || fail "prediction not from the shipped version $shipped: $prediction"
echo "smoke: predicted $prediction"
metrics=$(curl -sf "http://127.0.0.1:$port/metrics") || fail "/metrics"
grep -q '^rnnservice_predictions_total{language="Japanese"} 1' <<<"$metrics" || fail "/metrics lacks the prediction counter"
grep -q "^rnnservice_model_version $shipped" <<<"$metrics" || fail "/metrics lacks the model version"
echo "smoke: /metrics ok"

# The compose file's trainer service, against the same models folder (2 epochs instead of the default 40, promoted
# whatever its score: a 2-epoch model would fail the promotion rule, and this checks that a promotion reaches the API).
trainer=$(grep 'entrypoint: \["dotnet", "/app/trainer/RnnService.Trainer.dll", "train"' docker-compose.yml | sed 's/.*entrypoint: //' | tr -d '[],"' | app)
(cd "$root/trainer" && env "${environment[@]}" $trainer --Epochs 2 --PromotionTolerance 1) > "$root/trainer.log" 2>&1 || { tail -n 20 "$root/trainer.log"; fail "trainer"; }
trained=$(( $(ls models | grep -cE '^[0-9]+$') + 1 ))
for _ in $(seq 1 40); do
  curl -sf "http://127.0.0.1:$port/health/ready" | grep -q "\"modelVersion\":$trained" && break
  sleep 0.25
done
curl -sf "http://127.0.0.1:$port/health/ready" | grep -q "\"modelVersion\":$trained" || fail "the running API did not pick up the trainer's version $trained"
echo "smoke: the running API serves the trainer's version $trained"

# Graceful shutdown with a training job running: SIGTERM cancels it, nothing new is published, the process exits in time.
job=$(curl -sf "http://127.0.0.1:$port/api/training" -H "X-Api-Key: $api_key" -H 'Content-Type: application/json' \
  -d '{"epochs": 200, "earlyStoppingPatience": 0}') || fail "starting a training job"
for _ in $(seq 1 60); do grep -q 'Training job .* epoch 1/' "$root/api.log" && break; sleep 0.5; done
grep -q 'Training job .* epoch 1/' "$root/api.log" || fail "the training job never reported an epoch"
kill -TERM "$api_pid"
for _ in $(seq 1 60); do kill -0 "$api_pid" 2>/dev/null || break; sleep 0.5; done
kill -0 "$api_pid" 2>/dev/null && fail "the API did not stop within 30 s of SIGTERM"
wait "$api_pid" || fail "the API exited with status $? after SIGTERM"
api_pid=
grep -q 'Training job .* cancelled; nothing was published' "$root/api.log" || fail "the running job was not cancelled on SIGTERM"
[ "$(ls "$root/models" | grep -v -e '^jobs\.db' -e '^current\.history$')" = "$(seq 1 "$trained"; echo current)" ] || fail "models folder changed by the cancelled job: $(ls -a "$root/models")"
echo "smoke: SIGTERM cancelled the running training job ($(grep -o '"id":"[^"]*"' <<<"$job")), published nothing and stopped cleanly"
echo "smoke: publish smoke test passed"
