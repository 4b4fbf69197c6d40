#!/bin/sh
# Entrypoint of the stand-in image (see Containerfile). A manifest that gives
# a command (the busybox:1.36 apps) never runs this. Otherwise:
#   --nginx.scrape-uri=...  the nginx exporter's place: serve /www on :9113
#                           until SIGTERM, then exit 0
#   no arguments            myapp:1.0.0: serve /www on :8080 and append a JSON
#                           line every 0.2 s to /var/log/app/app.log until
#                           SIGTERM, then exit 0
set -eu
case "${1:-}" in
  --nginx.*)
    httpd -p 9113 -h /www
    trap 'exit 0' TERM INT
    while :; do sleep 1; done
    ;;
  "")
    httpd -p 8080 -h /www
    trap 'exit 0' TERM INT
    i=0
    while :; do
      i=$((i + 1))
      printf '{"timestamp":"%s.000","level":"info","message":"myapp request %d served"}\n' \
        "$(date -u +%Y-%m-%dT%H:%M:%S)" "$i" >>/var/log/app/app.log
      sleep 0.2
    done
    ;;
  *)
    echo "stand-in: unknown arguments: $*" >&2
    exit 2
    ;;
esac
