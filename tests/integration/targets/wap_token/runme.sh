#!/usr/bin/env bash
# wap_token against the emulator's WAP authentication site, at -vvvv: tokens over usernamemixed and Windows sign-in
# (NTLM, and Negotiate), addon_metrics_info with them, refusals naming the option (token.yml); then the bridge
# playbook twice, signing in to WAP itself with credentials, the second run forwarding nothing. Neither the WAP
# passwords nor any token (anything shaped like a JWT) may appear in the output.
set -euo pipefail

config="$(cd ../.. && pwd)/integration_config.yml"
work="${OUTPUT_DIR:-/tmp}/wap-token-target"
rm -rf "$work"
mkdir -p "$work"
chmod 0700 "$work"
py="$(ansible --version | sed -n 's/^  python version = .*(\(.*\))$/\1/p')"

run() {
    # run LOG ARGS...: ansible-playbook ARGS at -vvvv, output kept in $work/LOG.log and shown only on failure
    local log="$work/$1.log"
    shift
    if ! ansible-playbook -vvvv "$@" -e @"$config" > "$log" 2>&1; then
        grep -a -A5 -E '^(fatal|failed):' "$log" | cut -c1-600 || tail -n 40 "$log"
        echo "FAIL: ansible-playbook $*" >&2
        exit 1
    fi
    grep -a -E '^localhost +:' "$log" | tail -n 1
}
changed() {
    sed -n 's/^localhost *: ok=[0-9]* *changed=\([0-9]*\) *unreachable=0 *failed=0 .*/\1/p' "$work/$1.log" | tail -n 1
}

run token token.yml -i "$INVENTORY_PATH"

ansible-playbook prepare.yml -i "$INVENTORY_PATH" -e @"$config" -e work="$work"
run bridge-1 azmon.metrics.wap_to_azure_monitor -e @"$work/bridge.yml"
[ "$(changed bridge-1)" -gt 0 ] || { echo "FAIL: the first bridge run forwarded nothing" >&2; exit 1; }
run bridge-2 azmon.metrics.wap_to_azure_monitor -e @"$work/bridge.yml"
[ "$(changed bridge-2)" = 0 ] || { echo "FAIL: the second bridge run changed something" >&2; exit 1; }
grep -a -q 'Sign in to the WAP authentication site' "$work/bridge-2.log"
echo "ok: the bridge signed in to WAP itself, forwarded, and forwarded nothing the second time"

# A wrong WAP password stops the bridge before anything is read, with a message that says what to fix.
"$py" -c 'import json, sys; d = json.load(open(sys.argv[1])); d["publisher_wap_sign_in"]["password"] = "not-the-password"
json.dump(d, open(sys.argv[2], "w"))' "$work/bridge.yml" "$work/bridge-bad.yml"
if ansible-playbook -vvvv azmon.metrics.wap_to_azure_monitor -e @"$config" -e @"$work/bridge-bad.yml" > "$work/bridge-bad.log" 2>&1; then
    echo "FAIL: the bridge ran with a wrong WAP password" >&2
    exit 1
fi
grep -a -q 'refused the credentials of username .*Check username (DOMAIN.*) and password' "$work/bridge-bad.log"
if grep -a -q "Read each add-on's metrics" "$work/bridge-bad.log"; then echo "FAIL: WAP was read" >&2; exit 1; fi
echo "ok: a wrong WAP password stops the bridge and says to check username and password"

# No password and no token in what the runs printed.
"$py" - "$config" "$work"/*.log <<'PY'
import re, sys, yaml
config = yaml.safe_load(open(sys.argv[1]))
secrets = {p['password'] for p in config['emulator_seed']['wap']['principals'] if p.get('password')}
secrets.add(config['emulator_seed']['principals']['publisher']['secrets'][0]['secretText'])
jwt = re.compile(rb'eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}')
b64_jwt = re.compile(rb'ZXlK[A-Za-z0-9+/=]{40,}')  # a JWT base64-encoded, as in a BinarySecurityToken
found = []
for path in sys.argv[2:]:
    data = open(path, 'rb').read()
    found += ['%s: a password or secret' % path for s in secrets if s.encode() in data]
    found += ['%s: a JWT' % path for _ in jwt.finditer(data)][:1]
    found += ['%s: a base64-encoded JWT' % path for _ in b64_jwt.finditer(data)][:1]
if len(secrets) < 2 or not jwt.search(b'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0x.c2lnbmF0dXJlcw'):
    sys.exit('FAIL: the scan has nothing to look for')
if found:
    sys.exit('FAIL: ' + '; '.join(found))
print('ok: no password, secret or token in %d outputs at -vvvv' % (len(sys.argv) - 2))
PY
