# Shared by the benchmark scripts (sourced): the repository root, a scratch folder removed on exit together with the
# API and worker processes a script started (api_pid, worker_pid), progress lines on stderr, a free loopback port,
# and tools installed from Debian packages when missing.
# usage: source "$(dirname "$0")/common.sh" NAME      (NAME names the scratch folder /tmp/rnnservice-NAME-XXXXXX)

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
work=$(mktemp -d "/tmp/rnnservice-$1-XXXXXX")
api_pid=""
worker_pid=""

stop_process() { # pid
  if [ -n "$1" ] && kill -0 "$1" 2>/dev/null; then kill -TERM "$1"; wait "$1" 2>/dev/null || true; fi
}

cleanup() {
  stop_process "$api_pid"
  stop_process "$worker_pid"
  rm -rf "$work"
}
trap cleanup EXIT

log() { printf '>> %s\n' "$*" >&2; }

free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

require_package() { # command, Debian package
  command -v "$1" >/dev/null && return
  log "installing $2"
  apt-get update -qq && apt-get install -y -qq "$2" >/dev/null
}
