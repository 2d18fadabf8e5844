#!/usr/bin/env bash
# Concurrency: twenty inventory hosts (local connection, forks 20) emit at once through one ledger, first with
# custom_metric_emit, then with the publisher role's emit entry point. Each host sends series of its own and
# series every host shares (same identity, same minute or batch): every series must reach the emulator exactly
# once, the ledger must stay sound, and a rerun (of the modules) must send nothing.
set -eux

export ANSIBLE_ROLES_PATH=..
export ANSIBLE_LIBRARY=../reliability_common/library
export ANSIBLE_PIPELINING=true
export ANSIBLE_FORKS=20
work="${OUTPUT_DIR:-$(mktemp -d)}/reliability-concurrency"
mkdir -p "$work"
# tests/soak sets these to send more series per host
vars=(-e @../../integration_config.yml -e "work=$work" -e "own_series=${CONCURRENCY_OWN:-100}"
      -e "shared_series=${CONCURRENCY_SHARED:-100}")

ansible-playbook emit.yml -i inventory.yml "${vars[@]}" -e phase=first "$@"
ansible-playbook emit.yml -i inventory.yml "${vars[@]}" -e phase=again "$@"
ansible-playbook role.yml -i inventory.yml "${vars[@]}" -e phase=first "$@"
