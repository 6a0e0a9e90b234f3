#!/usr/bin/env bash
# Debian packages the test suite needs: Chromium (+ CJK fonts for readable screenshots)
# for the browser tests, PostgreSQL and Redis for the production-like run, nginx for `make serve`.
# `--deploy`: only what `make checks` needs to check deploy/ (nginx, systemd-analyze).
set -euo pipefail
missing=()
deploy_only=""
[ "${1:-}" = "--deploy" ] && { deploy_only=1; shift; }
for extra in "$@"; do  # more packages for a caller, e.g. wrk for the load benchmark
  command -v "$extra" >/dev/null || missing+=("$extra")
done
if [ -z "$deploy_only" ]; then
  [ -x /usr/bin/chromium ] || missing+=(chromium)
  dpkg -s fonts-noto-cjk >/dev/null 2>&1 || missing+=(fonts-noto-cjk)
  ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || missing+=(postgresql)
  command -v redis-server >/dev/null || missing+=(redis-server)
fi
# nginx: the buffering proxy `make serve` and the production recipe put in front of gunicorn
[ -x /usr/sbin/nginx ] || missing+=(nginx-light)
# systemd-analyze: `make checks` verifies the units of deploy/systemd/ with it
command -v systemd-analyze >/dev/null || missing+=(systemd)
[ ${#missing[@]} -eq 0 ] && exit 0
echo "installing Debian packages: ${missing[*]}"
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
