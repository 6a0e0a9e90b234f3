#!/usr/bin/env bash
# The production-style server (`make serve`): nginx on KB_LISTEN, buffering whole requests and
# responses, in front of gunicorn's sync workers on KB_UPSTREAM (loopback only). Both stop
# when either does, or on Ctrl-C.
#   KB_LISTEN (127.0.0.1:8000), KB_UPSTREAM (127.0.0.1:8001), KB_NGINX_DIR (var/nginx),
#   WEB_CONCURRENCY (2 workers), GUNICORN (.venv/bin/gunicorn), REDIS_URL,
#   PROMETHEUS_MULTIPROC_DIR (var/prometheus: emptied at each start, see kb/metrics.py)
# Without REDIS_URL it starts its own Redis (scripts/with_redis.sh) for as long as it runs: the
# request limits, the vote limit and the content version must be one across gunicorn's workers.
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
if [ -z "${REDIS_URL:-}" ]; then
  exec "$here/scripts/with_redis.sh" "$0" "$@"
fi
listen="${KB_LISTEN:-127.0.0.1:8000}"
upstream="${KB_UPSTREAM:-127.0.0.1:8001}"
static="${KB_STATIC_ROOT:-${KB_VAR_DIR:-$here/var}/staticfiles}"  # as config/settings.py's STATIC_ROOT
conf="$("$here/scripts/nginx_conf.sh" "${KB_NGINX_DIR:-$here/var/nginx}" "$listen" "$upstream" "$(id -un)" "$static")"
export KB_TRUSTED_PROXIES="${KB_TRUSTED_PROXIES:-1}"  # nginx puts the client's address in X-Forwarded-For
# Every worker writes its metrics there and a scrape adds them up; counts of a previous run
# must not be added to this one's.
export PROMETHEUS_MULTIPROC_DIR="${PROMETHEUS_MULTIPROC_DIR:-$here/var/prometheus}"
rm -rf "$PROMETHEUS_MULTIPROC_DIR" && mkdir -p -m 700 "$PROMETHEUS_MULTIPROC_DIR"
cd "$here"
"${GUNICORN:-$here/.venv/bin/gunicorn}" config.wsgi -c deploy/gunicorn.conf.py --bind "$upstream" &
app=$!
/usr/sbin/nginx -e stderr -p "$(dirname "$conf")" -c "$conf" -g "daemon off;" &
proxy=$!
trap 'kill -TERM $app $proxy 2>/dev/null; wait' EXIT INT TERM
echo "Serving http://$listen/ (nginx → gunicorn on $upstream)"
wait -n $app $proxy
