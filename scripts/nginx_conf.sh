#!/usr/bin/env bash
# Render deploy/nginx/kb.conf.template to PREFIX/kb.conf and check it with `nginx -t`.
#   scripts/nginx_conf.sh PREFIX LISTEN UPSTREAM [USER] [STATIC]
#   e.g. scripts/nginx_conf.sh var/nginx 127.0.0.1:8000 127.0.0.1:8001
# STATIC: the collected static files nginx serves itself (default var/staticfiles).
# Then: nginx -e stderr -p PREFIX -c PREFIX/kb.conf -g 'daemon off;'
set -euo pipefail
[ $# -ge 3 ] || { sed -n 2,6p "$0"; exit 2; }
here="$(cd "$(dirname "$0")/.." && pwd)"
mkdir -p "$1"
prefix="$(cd "$1" && pwd)"
static="${5:-$here/var/staticfiles}"
sed -e "s|@PREFIX@|$prefix|g" -e "s|@LISTEN@|$2|g" -e "s|@UPSTREAM@|$3|g" -e "s|@USER@|${4:-$(id -un)}|g" \
    -e "s|@STATIC@|$static|g" \
    "$here/deploy/nginx/kb.conf.template" > "$prefix/kb.conf"
/usr/sbin/nginx -q -t -e stderr -p "$prefix" -c "$prefix/kb.conf"
echo "$prefix/kb.conf"
