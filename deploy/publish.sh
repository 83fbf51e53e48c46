#!/usr/bin/env bash
# Publishes the API and the command-line trainer for linux-x64 into OUT/api and OUT/trainer.
# The Dockerfile runs exactly this script, and so does CI's smoke test (.ci/smoke-publish.sh), so what CI starts is
# what the image contains.
set -euo pipefail
out=${1:?usage: deploy/publish.sh OUTPUT_DIR}
cd "$(dirname "$0")/.."

dotnet publish src/RnnService.Api -c Release -r linux-x64 --self-contained false -o "$out/api"
dotnet publish src/RnnService.Trainer -c Release -r linux-x64 --self-contained false -o "$out/trainer"

for app in "$out/api" "$out/trainer"; do
  # LibTorch ships test, Python and mobile backends that TorchSharp never loads; it needs only libLibTorchSharp,
  # libtorch, libtorch_cpu, libc10 and libgomp.
  rm -f "$app"/libtorch_python.so "$app"/libshm.so "$app"/libtorchbind_test.so "$app"/libjitbackend_test.so \
        "$app"/libnnapi_backend.so "$app"/libaoti_custom_ops.so "$app"/libbackend_with_compiler.so
done
# libtorch_cpu.so carries ~90 MB of symbols that only debuggers read.
strip --strip-unneeded "$out/api/libtorch_cpu.so"
# The trainer uses the very same native libraries: link them instead of shipping them twice.
for lib in "$out"/trainer/*.so*; do
  name=$(basename "$lib")
  if [ -f "$out/api/$name" ]; then ln -sf "../api/$name" "$lib"; fi
done
du -sh "$out"
