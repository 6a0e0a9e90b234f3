#!/usr/bin/env bash
# `make checks`: the production recipe as written. The systemd units of deploy/systemd/,
# rendered for this checkout, pass `systemd-analyze verify`; the nginx configuration
# (deploy/nginx/kb.conf.template, the one `make serve` runs) passes `nginx -t`.
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
"$here/scripts/system_deps.sh" --deploy
tmp=$(mktemp -d /tmp/kb-deploy-check.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/static"
cp "$here/.env.example" "$tmp/kb.env"
"$here/scripts/deploy_units.sh" "$tmp/units" "$here" "$(id -un)" "$tmp/kb.env" 127.0.0.1:8000 "$tmp/static" >/dev/null
# verify loads the units as systemd would: a missing binary or a unit the timer names fails
# it; an unknown key or a bad value it only prints, so any output fails the check too.
found=$(cd "$tmp/units" && systemd-analyze verify --man=no ./kb.service ./kb-proxy.service ./kb-daily.service \
  ./kb-daily.timer 2>&1) || { echo "$found"; exit 1; }
[ -z "$found" ] || { echo "systemd-analyze verify: $found"; exit 1; }
echo "systemd units: systemd-analyze verify passed ($(ls "$tmp/units" | tr '\n' ' '))"
"$here/scripts/nginx_conf.sh" "$tmp/nginx" 127.0.0.1:8000 127.0.0.1:8001 "$(id -un)" "$tmp/static" >/dev/null
echo "nginx: nginx -t passed for deploy/nginx/kb.conf.template"
