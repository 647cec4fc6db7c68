#!/usr/bin/env bash
# barbican-up.sh — a real OpenStack Barbican 23 (from PyPI) key manager on
# 127.0.0.1, for the image signature tests: the simple_crypto plugin (a KEK
# made on first start and kept in the state dir), SQLite, keystonemiddleware
# auth against the shared Keystone (../shared/backends/keystone-up.sh, started
# here when it is down; never stopped here), served by uWSGI. Idempotent:
# re-running while it is up re-checks the service user and the catalog and
# prints the settings.
#
# Keystone gets: a user `barbican` [barbican-password], admin on project
# service (Barbican's authtoken user), and a `key-manager` service with
# public, internal and admin endpoints at BARBICAN_URL's root (region
# KEYSTONE_REGION), where castellan and Glint look for it.
#
# Env (all optional):
#   BARBICAN_STATE      state dir (default ${GLINT_HARNESS_STATE:-/tmp/glint-harness}/barbican)
#   BARBICAN_VENV       virtualenv (default ${GLINT_HARNESS_VENVS:-<GLINT_HARNESS_STATE>/venvs}/barbican)
#   BARBICAN_PORT       9311
#   BARBICAN_PIP_SPECS  "barbican==23.0.0 uwsgi==2.0.31"
#   GLINT_SHARED        the shared tooling (default: ../shared beside the checkout, else /work/shared)
# First run: a few minutes for pip (uWSGI compiles); later: ~5 s.
# Prints KEY=value settings on stdout; progress goes to stderr.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
SHARED="${GLINT_SHARED:-$HERE/../../../shared}"
[[ -f $SHARED/backends/lib.sh ]] || SHARED=/work/shared
# shellcheck source=/dev/null
. "$SHARED/backends/lib.sh"

ROOT="${GLINT_HARNESS_STATE:-/tmp/glint-harness}"
STATE="${BARBICAN_STATE:-$ROOT/barbican}"
VENV="${BARBICAN_VENV:-${GLINT_HARNESS_VENVS:-$ROOT/venvs}/barbican}"
PORT="${BARBICAN_PORT:-9311}"
SPECS="${BARBICAN_PIP_SPECS:-barbican==23.0.0 uwsgi==2.0.31}"
URL="http://127.0.0.1:$PORT"
PIDF="$STATE/run/uwsgi.pid"
export PYTHONWARNINGS=ignore

# The shared Keystone (idempotent; prints its settings).
KS_OUT="$(bash "$SHARED/backends/keystone-up.sh")" || die "keystone-up.sh failed"
ks() { sed -n "s/^$1=//p" <<<"$KS_OUT" | head -n1; }
KS_URL="$(ks KEYSTONE_URL)"
KS_ADMIN_PW="$(ks KEYSTONE_ADMIN_PASSWORD)"
KS_REGION="$(ks KEYSTONE_REGION)"
KS_ROOT="${KS_URL%/v3}"

py_venv "$VENV" $SPECS
mkdir -p "$STATE"/{run,log,app}

# Barbican's service user and its catalog entry (stdlib-only REST calls with
# a system-scoped admin token).
"$VENV/bin/python" - "$KS_URL" "$KS_ADMIN_PW" "$KS_REGION" "$URL" \
  >>"$STATE/log/setup.log" 2>&1 <<'EOF' || { tail -n 20 "$STATE/log/setup.log" >&2; die "keystone setup for barbican failed"; }
import json
import sys
import urllib.error
import urllib.request

url, admin_pw, region, barbican_url = sys.argv[1:5]
token = None


def call(method, path, body=None):
    headers = {"Content-Type": "application/json"}
    if token:
        headers["X-Auth-Token"] = token
    req = urllib.request.Request(url + path, method=method, headers=headers,
                                 data=None if body is None else json.dumps(body).encode())
    try:
        with urllib.request.urlopen(req, timeout=60) as r:
            data = r.read()
            return (json.loads(data) if data else {}), r.headers
    except urllib.error.HTTPError as e:
        sys.exit("%s %s -> HTTP %s %s" % (method, path, e.code, e.read()[:300]))


_, h = call("POST", "/auth/tokens", {"auth": {
    "identity": {"methods": ["password"], "password": {"user": {
        "name": "admin", "domain": {"id": "default"}, "password": admin_pw}}},
    "scope": {"system": {"all": True}}}})
token = h["X-Subject-Token"]


def one(kind, name, extra=None, query=""):
    found = call("GET", "/%s?name=%s%s" % (kind, name, query))[0][kind]
    if found:
        return found[0]["id"]
    body = {"name": name}
    body.update(extra or {})
    return call("POST", "/" + kind, {kind[:-1]: body})[0][kind[:-1]]["id"]


D = "&domain_id=default"
admin_role = one("roles", "admin")
service = one("projects", "service", {"domain_id": "default"}, D)
user = one("users", "barbican", {"domain_id": "default", "password": "barbican-password"}, D)
call("PUT", "/projects/%s/users/%s/roles/%s" % (service, user, admin_role))

svcs = call("GET", "/services?type=key-manager")[0]["services"]
sid = svcs[0]["id"] if svcs else call("POST", "/services", {"service": {
    "type": "key-manager", "name": "barbican", "enabled": True}})[0]["service"]["id"]
have = set()
for ep in call("GET", "/endpoints?service_id=" + sid)[0]["endpoints"]:
    have.add(ep["interface"])
    if ep["url"] != barbican_url:
        call("PATCH", "/endpoints/" + ep["id"], {"endpoint": {"url": barbican_url}})
for iface in ("public", "internal", "admin"):
    if iface not in have:
        call("POST", "/endpoints", {"endpoint": {"service_id": sid, "interface": iface,
                                                 "url": barbican_url, "region_id": region,
                                                 "enabled": True}})
print("setup ok")
EOF

# The key-encryption key of simple_crypto: made once, kept with the database.
[ -s "$STATE/kek" ] || "$VENV/bin/python" -c \
  'import base64, os; print(base64.urlsafe_b64encode(os.urandom(32)).decode())' > "$STATE/kek"
chmod 600 "$STATE/kek"

cat > "$STATE/barbican.conf" <<EOF
[DEFAULT]
host_href = $URL
db_auto_create = true
log_file = $STATE/log/barbican.log
use_stderr = false
debug = false
[database]
connection = sqlite:///$STATE/barbican.db
[secretstore]
enabled_secretstore_plugins = store_crypto
[crypto]
enabled_crypto_plugins = simple_crypto
[simple_crypto_plugin]
kek = $(cat "$STATE/kek")
[keystone_authtoken]
www_authenticate_uri = $KS_ROOT
auth_url = $KS_ROOT
auth_type = password
username = barbican
password = barbican-password
project_name = service
user_domain_id = default
project_domain_id = default
region_name = $KS_REGION
service_token_roles_required = true
[oslo_policy]
enforce_scope = true
enforce_new_defaults = true
EOF
chmod 600 "$STATE/barbican.conf"

# The packaged paste pipeline with Keystone auth, read from the state dir
# (Barbican's own entry point reads /etc/barbican only).
cat > "$STATE/barbican-api-paste.ini" <<'EOF'
[composite:main]
use = egg:Paste#urlmap
/: barbican_version
/v1: barbican-api-keystone

[pipeline:barbican_version]
pipeline = request_id http_proxy_to_wsgi microversion versionapp

[pipeline:barbican-api-keystone]
pipeline = request_id http_proxy_to_wsgi authtoken context microversion apiapp

[app:apiapp]
paste.app_factory = barbican.api.app:create_main_app

[app:versionapp]
paste.app_factory = barbican.api.app:create_version_app

[filter:context]
paste.filter_factory = barbican.api.middleware.context:ContextMiddleware.factory

[filter:microversion]
paste.filter_factory = barbican.api.middleware.microversion:MicroversionMiddleware.factory

[filter:authtoken]
paste.filter_factory = keystonemiddleware.auth_token:filter_factory

[filter:request_id]
paste.filter_factory = oslo_middleware.request_id:RequestId.factory

[filter:http_proxy_to_wsgi]
paste.filter_factory = oslo_middleware:HTTPProxyToWSGI.factory
EOF
# Barbican parses its configuration several times (the API, then each
# plugin on its own), always from oslo.config's default places (/etc/barbican,
# ~/.barbican). Point that search at the state dir before Barbican loads.
cat > "$STATE/app/barbican_wsgi.py" <<EOF
from oslo_config import cfg

cfg.find_config_files = lambda *args, **kwargs: ["$STATE/barbican.conf"]

from paste import deploy  # noqa: E402

application = deploy.loadapp("config:$STATE/barbican-api-paste.ini")
EOF

if ! pid_alive "$PIDF"; then
  claim_port "$PIDF" "$PORT"
  log "barbican: starting uWSGI on 127.0.0.1:$PORT"
  # One process with one thread: SQLite takes one writer at a time, and
  # Barbican's writes from concurrent threads fail with "database is locked"
  # (seen as a 500 "Secret creation failure" when tests store secrets at once).
  start_bg "$PIDF" "$STATE/log/uwsgi.log" \
    "$VENV/bin/uwsgi" --http-socket "127.0.0.1:$PORT" --master --processes 1 --threads 1 \
    --enable-threads --lazy-apps --die-on-term --need-app --buffer-size 65535 \
    --add-header "Connection: close" --pythonpath "$STATE/app" --module barbican_wsgi:application \
    --env PYTHONWARNINGS=ignore \
    --env PYTHONDONTWRITEBYTECODE=1 --virtualenv "$VENV"
fi
barbican_ready() { curl -sf -m 5 -o /dev/null -w '%{http_code}' "$URL/" | grep -q '^[23]'; }
wait_until 120 "barbican on $URL (log: $STATE/log/uwsgi.log)" alive_and "$PIDF" barbican_ready

cat <<EOF
BARBICAN_URL=$URL/v1
BARBICAN_ENDPOINT=$URL
BARBICAN_PORT=$PORT
BARBICAN_PID=$(cat "$PIDF")
BARBICAN_STATE=$STATE
BARBICAN_VENV=$VENV
BARBICAN_LOG=$STATE/log/barbican.log
KEYSTONE_URL=$KS_URL
EOF
