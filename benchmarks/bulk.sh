#!/usr/bin/env bash
# Bulk scoring benchmark, one run of each measurement, printed as a markdown table next to the targets:
#   1. command line: 1,000,000 real names, CSV -> CSV, pinned to one core (taskset): wall and CPU time, names/s
#   2. HTTP: the same file through POST /api/predictions/stream with one client (curl) on loopback, after a warm-up:
#      names/s end to end, and names per second of server CPU
#   3. peak resident memory (VmHWM / time's maximum RSS) for a 1 GB CSV on both paths: a customer table with a
#      free-text column (about 190 bytes a row, so about 5 million rows; memory depends on the bytes held, not the names)
# The machine is shared: wall-clock figures move with the load average (printed); CPU-time figures move much less.
#
# usage: bash benchmarks/bulk.sh
#   env: ROWS=1000000; BIG_MB=1000 (size of the input of step 3; 0 skips it)
# Needs the .NET 10 SDK, curl, python3 and GNU time (installed with apt-get when missing). Builds Release first.
set -euo pipefail

source "$(dirname "$0")/common.sh" bulk
rows=${ROWS:-1000000}
big_mb=${BIG_MB:-1000}

[ -x /usr/bin/time ] || { log "installing GNU time"; apt-get update -qq && apt-get install -y -qq time >/dev/null; }

log "building (Release)"
dotnet build "$repo/RnnService.sln" -c Release -v q -nologo >"$work/build.log" 2>&1 || { cat "$work/build.log" >&2; exit 1; }
scorer="$repo/src/RnnService.Scorer/bin/Release/net10.0/RnnService.Scorer.dll"
api="$repo/src/RnnService.Api/bin/Release/net10.0/RnnService.Api.dll"

# Real names from data/names with a fixed seed; an id and a city around each, RFC 4180 quoting where needed.
python3 - "$repo/data/names" "$rows" "$work/names.csv" <<'PY'
import glob, os, random, sys
folder, rows, path = sys.argv[1], int(sys.argv[2]), sys.argv[3]
names = [line.strip() for f in sorted(glob.glob(os.path.join(folder, "*.txt"))) for line in open(f, encoding="utf-8") if line.strip()]
random.seed(42)
with open(path, "w", encoding="utf-8", newline="") as out:
    out.write("id,last_name,city\r\n")
    for i in range(rows):
        name = random.choice(names)
        if any(c in name for c in ',"\r\n'):
            name = '"' + name.replace('"', '""') + '"'
        out.write(f"{i},{name},City {i % 100}\r\n")
PY
size_mb=$(python3 -c "import os; print(round(os.path.getsize('$work/names.csv') / 1e6, 1))")
log "$rows rows, $size_mb MB"
load() { cut -d' ' -f1 /proc/loadavg; }

# 1. Command line, one core.
log "command line: CSV -> CSV on one core"
load_cli=$(load)
/usr/bin/time -f "%e %U %S %M" -o "$work/cli.time" taskset -c 0 dotnet "$scorer" \
  --input "$work/names.csv" --column last_name --output "$work/scored.csv" --models "$repo/models" 2>"$work/cli.log"
read -r cli_wall cli_user cli_sys cli_rss <"$work/cli.time"
scored=$(($(wc -l <"$work/scored.csv") - 1))
[ "$scored" -eq "$rows" ] || { log "expected $rows scored rows, found $scored"; cat "$work/cli.log" >&2; exit 1; }
rm -f "$work/scored.csv"

# 2. HTTP stream, one client.
log "HTTP: starting the API on a free loopback port"
# From its own folder, so that it finds its appsettings.json (logging, limits) as the published service does.
(cd "$(dirname "$api")" && Urls=http://127.0.0.1:0 Security__ApiKey=bench RateLimiting__NamesPerWindow=100000000 \
  Serving__ModelsDirectory="$repo/models" exec dotnet "$(basename "$api")") >"$work/api.log" 2>&1 &
api_pid=$!
for _ in $(seq 1 300); do
  url=$(grep -o 'http://127.0.0.1:[0-9]*' "$work/api.log" | head -1 || true)
  [ -n "$url" ] && curl -sf "$url/health/ready" >/dev/null 2>&1 && break
  sleep 0.2
done
[ -n "$url" ] || { cat "$work/api.log" >&2; exit 1; }
stream() { curl -sf -X POST "$url/api/predictions/stream?column=last_name" -H 'Content-Type: text/csv' -T "$1"; }
server_cpu() { awk '{print $14 + $15}' "/proc/$api_pid/stat"; }   # utime + stime, clock ticks
ticks=$(getconf CLK_TCK)
log "HTTP: warm-up, then $rows names through one stream"
stream "$work/names.csv" >/dev/null
load_http=$(load)
cpu0=$(server_cpu)
start=$(date +%s.%N)
answered=$(stream "$work/names.csv" | wc -l)
end=$(date +%s.%N)
cpu1=$(server_cpu)
[ "$answered" -eq $((rows + 1)) ] || { log "expected $((rows + 1)) lines from the stream, got $answered"; exit 1; }

# 3. Peak memory for a ~1 GB input on both paths (the body limit is 1 GiB).
if [ "$big_mb" -gt 0 ]; then
  log "building a $big_mb MB input"
  python3 - "$work/names.csv" "$big_mb" "$work/big.csv" <<'PY'
import sys
source, megabytes, path = sys.argv[1], int(sys.argv[2]), sys.argv[3]
names = [line.rstrip("\r\n").split(",", 2)[1] for line in open(source, encoding="utf-8").readlines()[1:200_001]]
note = '"Customer since 2011, prefers letters; ' + "account notes and the like, " * 4 + 'end of note"'
limit, written, i = megabytes * 1_000_000, 0, 0
with open(path, "w", encoding="utf-8", newline="") as out:
    out.write("id,last_name,city,notes\r\n")
    while written < limit:
        row = f"{i},{names[i % len(names)]},City {i % 100},{note}\r\n"
        out.write(row)
        written += len(row.encode())
        i += 1
print(i, file=sys.stderr)
PY
  log "HTTP: $big_mb MB through one stream"
  stream "$work/big.csv" >/dev/null
  http_rss=$(awk '/VmHWM/ {print $2}' "/proc/$api_pid/status")
  log "command line: $big_mb MB"
  /usr/bin/time -f "%e %U %S %M" -o "$work/big.time" dotnet "$scorer" \
    --input "$work/big.csv" --column last_name --output - --models "$repo/models" >/dev/null 2>"$work/big.log"
  read -r _ _ _ big_cli_rss <"$work/big.time"
fi

python3 - <<PY
rows = $rows
cli_wall, cli_cpu = $cli_wall, $cli_user + $cli_sys
http_wall, http_cpu = $end - $start, ($cpu1 - $cpu0) / $ticks
print()
print(f"Bulk scoring, {rows:,} real names ($size_mb MB CSV); load average {'$load_cli'} (command line), {'$load_http'} (HTTP), $(nproc) cores")
print()
print("| measurement | figure | target |")
print("|---|---|---|")
print(f"| command line, CSV -> CSV, one core (taskset), wall | {cli_wall:.1f} s ({rows / cli_wall:,.0f} names/s) | <= 15 s |")
print(f"| command line, CPU time (user + sys) | {cli_cpu:.1f} s ({rows / cli_cpu:,.0f} names per CPU-second) | |")
print(f"| command line, peak RSS, {rows:,} rows | {$cli_rss / 1024:.0f} MB | |")
print(f"| HTTP stream, one client on loopback, end to end | {rows / http_wall:,.0f} names/s ({http_wall:.1f} s) | >= 150,000 names/s |")
print(f"| HTTP stream, server CPU | {http_cpu:.1f} s ({rows / http_cpu:,.0f} names per server CPU-second) | |")
if $big_mb > 0:
    print(f"| peak RSS, $big_mb MB input, HTTP (API process VmHWM, whole run) | {${http_rss:-0} / 1024:.0f} MB | <= 300 MB |")
    print(f"| peak RSS, $big_mb MB input, command line | {${big_cli_rss:-0} / 1024:.0f} MB | <= 300 MB |")
PY
