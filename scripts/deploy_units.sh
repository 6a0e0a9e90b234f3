#!/usr/bin/env bash
# Render the systemd units of deploy/systemd/ for one machine, into OUT.
#   scripts/deploy_units.sh OUT [ROOT] [USER] [ENV] [LISTEN] [STATIC]
#   e.g. scripts/deploy_units.sh /etc/systemd/system /srv/kb kb /etc/kb/kb.env 0.0.0.0:80 /srv/kb/static
# ROOT: the checkout with its .venv (default: this one); USER: who runs gunicorn and the daily
# job (default: you); ENV: the environment file (.env.example is the template); LISTEN: where
# nginx listens; STATIC: STATIC_ROOT (KB_STATIC_ROOT), which nginx serves itself.
# `make checks` renders them into a temporary folder and runs `systemd-analyze verify`.
set -euo pipefail
[ $# -ge 1 ] || { sed -n 2,8p "$0"; exit 2; }
here="$(cd "$(dirname "$0")/.." && pwd)"
out="$1" root="${2:-$here}" user="${3:-$(id -un)}" env="${4:-/etc/kb/kb.env}"
listen="${5:-0.0.0.0:80}" static="${6:-$root/var/staticfiles}"
mkdir -p "$out"
for unit in "$here"/deploy/systemd/*.service "$here"/deploy/systemd/*.timer; do
  sed -e "s|@ROOT@|$root|g" -e "s|@USER@|$user|g" -e "s|@ENV@|$env|g" \
      -e "s|@LISTEN@|$listen|g" -e "s|@STATIC@|$static|g" "$unit" > "$out/$(basename "$unit")"
done
ls "$out"/kb*.service "$out"/kb*.timer
