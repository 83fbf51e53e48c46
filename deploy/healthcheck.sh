#!/usr/bin/env bash
# Exit 0 when the API on this machine answers /health/ready with 200 (a model is loaded). Needs only bash, since the
# runtime image has neither curl nor wget. The port is taken from Urls (e.g. http://+:8080), as the app itself does.
port=${Urls##*:}
port=${port%%/*}
exec 3<>"/dev/tcp/127.0.0.1/${port:-8080}" || exit 1
printf 'GET /health/ready HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n' >&3
IFS=' ' read -r _ status _ <&3
[ "$status" = "200" ]
