#!/usr/bin/env bash
# Secrets: every module and the publisher role run at -vvvv, signed in with a client secret, a certificate,
# workload identity and a ready access token. Neither what Ansible prints, nor its log, nor any file the run
# writes (the ledger included) may hold a secret, a token, a client assertion or a secretText; secret files are
# mode 0600. The run gets a fresh HOME and TMPDIR, so that every file it writes is under $work and is scanned.
set -eux

export ANSIBLE_ROLES_PATH=..
export ANSIBLE_LIBRARY=../reliability_common/library
work="${OUTPUT_DIR:-$(mktemp -d)}/reliability-secrets"
rm -rf "$work"
mkdir -p "$work/known" "$work/run/home" "$work/run/tmp" "$work/run/files"
chmod -R 0700 "$work"
config=../../integration_config.yml
py="$(ansible --version | sed -n 's/^  python version = .*(\(.*\))$/\1/p')"
common=(-i "$INVENTORY_PATH" -e "@$config" -e "work=$work")

# The scanner must find what it looks for, or its silence proves nothing.
"$py" scan.py self-test

# Tokens and the OIDC token file, minted outside the run under test; their values go to $work/known.
ansible-playbook prepare.yml "${common[@]}" "$@"

# The run under test. Its own output is not shown here (it would be the leak if there were one); it is kept in
# $work/run/files/output.txt for the scan, and a summary is printed.
status=0
HOME="$work/run/home" TMPDIR="$work/run/tmp" ANSIBLE_LOG_PATH="$work/run/files/ansible.log" \
    ansible-playbook run.yml -vvvv "${common[@]}" > "$work/run/files/output.txt" 2>&1 || status=$?
grep -a -E '^(PLAY RECAP|testhost|TASK \[)' "$work/run/files/output.txt" || true
if [ "$status" != 0 ]; then
    echo "run.yml failed ($status); its failed tasks:"
    grep -a -A3 -E '^(fatal|failed):' "$work/run/files/output.txt" | cut -c1-400 || true
    exit "$status"
fi

# Every value known to be secret, and anything shaped like a JWT, in the output, the log and every file written.
"$py" scan.py scan "$work/known" "$work/run"
