#!/usr/bin/env bash
# The blob ledger against Azurite (a real storage server) and the emulator. Runners share nothing but the ledger
# (each has its own HOME and SQLite file):
#   many      twenty runners at once, own and shared series: every series-minute arrives exactly once
#   fresh     a new runner emits the same again: nothing sent, at most 5 storage calls
#   killed    kill -9 of a runner while its second request is in flight; after   a rerun from another runner:
#             nothing lost, the in-flight request's series unknown (not re-sent), the rest delivered once
#   down      Azurite stopped before a run: a clear error, nothing sent
#   norecord  Azurite stopped while a request is in flight: the delivered series are reported as not recorded;
#             norecord-rerun from another runner does not send them again
#   bound     shards rewritten as an earlier version wrote them (no minutes) plus two rows three hours old:
#             bound-rerun sends nothing, and its write drops the old series-minute but keeps the dedupe_key row
#   unsettled one runner's requests end unknown: six series ingested (then 500), four not (500 after the body);
#             reconcile: twenty runners at once, unknown=reconcile, each with an empty SQLite file: the six are
#             recorded delivered, the four sent once in all
# a token Blob Storage refuses (HTTP 403) fails before anything is sent (forbidden.yml), and the publisher role's
# assign step grants Storage Blob Data Contributor on the ledger's storage (assign.yml).
set -eux

export ANSIBLE_PIPELINING=true
export ANSIBLE_FORKS=20
work="${OUTPUT_DIR:-$(mktemp -d)}/blob-ledger"
rm -rf "$work"
mkdir -p "$work"
config=../../integration_config.yml
py="$(ansible --version | sed -n 's/^  python version = .*(\(.*\))$/\1/p')"
control="$("$py" -c 'import sys, yaml; print(yaml.safe_load(open(sys.argv[1]))["azurite_info"]["control"])' "$config")"
run="r$(date +%s)$$"
minute="$(date -u +%Y-%m-%dT%H:%M:00Z)"
common=(-e "@$config" -e "work=$work" -e "emit_time=$minute" -e "run=$run")
url() { echo "ledger_url={{ azurite_info.url }}/ledger/$run/$1"; }
vm1=Microsoft.Compute/virtualMachines/vm1
st=Microsoft.Storage/storageAccounts/stdemo01
trap '"$control" start >/dev/null 2>&1 || true' EXIT

"$py" helper.py faults "$config" '[]'
# many, then fresh
ansible-playbook emit.yml -i inventory.yml "${common[@]}" -e "$(url shared)" -e emit_hosts=emitters -e label=many \
    -e "ns=BlobMany$run" -e "resource=$vm1" -e own_series=10 -e shared_series=40 "$@"
ansible-playbook emit.yml -i inventory.yml "${common[@]}" -e "$(url shared)" -e label=fresh -e as_host=h07 \
    -e "ns=BlobMany$run" -e "resource=$vm1" -e own_series=10 -e shared_series=40 "$@"

# killed, then after
"$py" helper.py faults "$config" '[{"service": "ingest", "path": "stdemo01", "action": "slow", "delay": 5, "nth": 2, "count": 1}]'
setsid ansible-playbook emit.yml -i inventory.yml "${common[@]}" -e "$(url kill)" -e label=killed \
    -e "ns=BlobKill$run" -e "resource=$st" -e region=westeurope -e own_series=150 "$@" > "$work/killed.log" 2>&1 &
killed=$!
"$py" helper.py wait-claim "$config" "ledger/$run/kill" 1 60
"$py" helper.py kill-tree "$killed"
wait "$killed" || true
"$py" helper.py faults "$config" '[]'
ansible-playbook emit.yml -i inventory.yml "${common[@]}" -e "$(url kill)" -e label=after \
    -e "ns=BlobKill$run" -e "resource=$st" -e region=westeurope -e own_series=150 "$@"

# down
"$control" stop
ansible-playbook emit.yml -i inventory.yml "${common[@]}" -e "$(url shared)" -e label=down \
    -e "ns=BlobDown$run" -e "resource=$vm1" -e own_series=5 "$@"
"$control" start

# norecord, then norecord-rerun
"$py" helper.py faults "$config" '[{"service": "ingest", "path": "vm1", "action": "slow", "delay": 4, "count": 1}]'
ansible-playbook emit.yml -i inventory.yml "${common[@]}" -e "$(url shared)" -e label=norecord \
    -e "ns=BlobNoRecord$run" -e "resource=$vm1" -e own_series=5 "$@" > "$work/norecord.log" 2>&1 &
norecord=$!
"$py" helper.py wait-claim "$config" "ledger/$run/shared" 0 60
"$control" stop
wait "$norecord" || true
"$control" start
"$py" helper.py faults "$config" '[]'
ansible-playbook emit.yml -i inventory.yml "${common[@]}" -e "$(url shared)" -e label=norecord-rerun \
    -e "ns=BlobNoRecord$run" -e "resource=$vm1" -e own_series=5 "$@"

# bound: shards as an earlier version wrote them still hold, and the next write drops a series-minute three hours old
ansible-playbook emit.yml -i inventory.yml "${common[@]}" -e "$(url bound)" -e label=bound \
    -e "ns=BlobBound$run" -e "resource=$vm1" -e own_series=5 "$@"
"$py" helper.py age-shards "$config" "ledger/$run/bound"
ansible-playbook emit.yml -i inventory.yml "${common[@]}" -e "$(url bound)" -e label=bound-rerun \
    -e "ns=BlobBound$run" -e "resource=$vm1" -e own_series=5 "$@"
"$py" helper.py settled "$config" "ledger/$run/bound" > "$work/bound-settled.json"

# unsettled, then reconcile (Azure's read latency 0 here: reconcile_wait 0 reads at once)
ansible-playbook reader.yml -i inventory.yml "${common[@]}" "$@"
"$py" helper.py settings "$config" '{"readDelaySeconds": 0}'
"$py" helper.py faults "$config" '[{"service": "ingest", "path": "vm1", "action": "500_after_ingest"}]'
ansible-playbook emit.yml -i inventory.yml "${common[@]}" -e "$(url reconcile)" -e label=unsettled-ingested \
    -e "ns=BlobReconcile$run" -e "resource=$vm1" -e shared_series=6 "$@"
"$py" helper.py faults "$config" '[{"service": "ingest", "path": "vm1", "action": "500_after_body"}]'
ansible-playbook emit.yml -i inventory.yml "${common[@]}" -e "$(url reconcile)" -e label=unsettled-dropped \
    -e "ns=BlobReconcile$run" -e "resource=$vm1" -e as_host=dropped -e own_series=4 "$@"
"$py" helper.py faults "$config" '[]'
ansible-playbook emit.yml -i inventory.yml "${common[@]}" -e "$(url reconcile)" -e emit_hosts=emitters -e label=reconcile \
    -e "ns=BlobReconcile$run" -e "resource=$vm1" -e as_host=dropped -e own_series=4 -e shared_series=6 \
    -e unknown=reconcile -e reconcile_wait=0 "$@"

ansible-playbook forbidden.yml check.yml assign.yml -i inventory.yml "${common[@]}" "$@"
