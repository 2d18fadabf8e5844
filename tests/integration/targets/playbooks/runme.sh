#!/usr/bin/env bash
# The collection's playbooks, run by their FQCN against the emulator, with the demo's inventory
# (tests/demo/inventory.yml): site.yml in check mode, for real, and again (changed=0, nothing sent, no secret in
# the output at -vvvv); then setup_publisher.yml, emit_metrics.yml (JSON and YAML files) and
# wap_to_azure_monitor.yml alone, each twice, the second time with changed=0.
set -euo pipefail

# Modules run piped to the interpreter (no temporary module files): faster, and what most installations use.
export ANSIBLE_PIPELINING=true

collection="${ANSIBLE_COLLECTIONS_PATH%%:*}/ansible_collections/azmon/metrics"
inventory="$collection/tests/demo/inventory.yml"
config="$(cd ../.. && pwd)/integration_config.yml"
work="${OUTPUT_DIR:-/tmp}/playbooks-target"
rm -rf "$work"
mkdir -p "$work"
chmod 0700 "$work"

helper() { ansible-playbook "$1" -i "$inventory" -e @"$config" -e work="$work" "${@:2}"; }
play() {
    # play LOG PLAYBOOK ARGS...: run a collection playbook by FQCN, keep its output in $work/LOG.log
    local log="$work/$1.log"
    shift
    ansible-playbook "$@" -i "$inventory" -e @"$config" -e @"$work/run.yml" 2>&1 | tee "$log"
}
changed() {
    # changed LOG: the changed= count of the play recap
    sed -n 's/^localhost *: ok=[0-9]* *changed=\([0-9]*\) *unreachable=0 *failed=0 .*/\1/p' "$work/$1.log" | tail -n 1
}
expect_changed() {
    local got
    got="$(changed "$1")"
    if [ -z "$got" ]; then echo "FAIL: $1: no successful play recap" >&2; exit 1; fi
    if [ "$2" = "some" ] && [ "$got" -gt 0 ]; then echo "ok: $1 changed=$got"; return; fi
    if [ "$got" = "$2" ]; then echo "ok: $1 changed=$got"; return; fi
    echo "FAIL: $1: changed=$got, expected $2" >&2
    exit 1
}

helper prepare.yml

# site.yml: check mode, run (at -vvvv), rerun
play site-check azmon.metrics.site --check -e demo_run=check
expect_changed site-check some
helper verify.yml -e phase=check

play site-1 azmon.metrics.site -vvvv -e demo_run=1
expect_changed site-1 some
helper verify.yml -e phase=1

play site-2 azmon.metrics.site -e demo_run=2
expect_changed site-2 0
helper verify.yml -e phase=2

# No secret in any output: the publisher's new client secret, the admin's secret, the WAP token.
secrets=("$(cat "$work/publisher.secret")")
secrets+=("$(python -c 'import json, sys; print(json.load(open(sys.argv[1]))["demo_wap_token"])' "$work/run.yml")")
secrets+=("$(python -c 'import sys, yaml; d = yaml.safe_load(open(sys.argv[1])); print(d["emulator_seed"]["principals"]["admin"]["secrets"][0]["secretText"])' "$config")")
for secret in "${secrets[@]}"; do
    [ "${#secret}" -gt 8 ] || { echo "FAIL: could not read a secret to look for" >&2; exit 1; }
    if grep -rlF -- "$secret" "$work"/*.log; then echo "FAIL: a secret appears in the output above" >&2; exit 1; fi
done
echo "ok: no secret in the output of ${#secrets[@]} runs at up to -vvvv"

# The playbooks alone, from a fresh emulator and ledger; the emissions sign in as the seed's publisher.
helper prepare.yml
rm -f "$work/ledger.sqlite3"

play setup-1 azmon.metrics.setup_publisher
expect_changed setup-1 some
play setup-2 azmon.metrics.setup_publisher
expect_changed setup-2 0

for file in metrics.json metrics.yml; do
    play "emit-$file-1" azmon.metrics.emit_metrics -e @"$work/publisher_auth.yml" -e azmon_metrics_file="$work/$file"
    expect_changed "emit-$file-1" some
    # Without -v, the emission's one-line summary is shown for the task (the action plugin), not only changed: [...].
    grep -E '^localhost: [0-9]+ of [0-9]+ series sent in [0-9]+ request\(s\); 0 skipped' "$work/emit-$file-1.log" \
        || { echo "FAIL: emit-$file-1: no summary line in the default output" >&2; exit 1; }
    play "emit-$file-2" azmon.metrics.emit_metrics -e @"$work/publisher_auth.yml" -e azmon_metrics_file="$work/$file"
    expect_changed "emit-$file-2" 0
done

play bridge-1 azmon.metrics.wap_to_azure_monitor -e @"$work/publisher_auth.yml"
expect_changed bridge-1 some
grep -q 'Not forwarded: contoso-backup/StorageUsed value of .*older than max_age (12h)' "$work/bridge-1.log"
play bridge-2 azmon.metrics.wap_to_azure_monitor -e @"$work/publisher_auth.yml"
expect_changed bridge-2 0

helper verify.yml -e phase=alone
echo "ok: every playbook"
