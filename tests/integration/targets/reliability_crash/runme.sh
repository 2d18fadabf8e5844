#!/usr/bin/env bash
# Crash: kill -9 in the middle of a large emit, then run again at once. Three kills, run side by side, each
# with its own ledger and namespace:
#   pid     kill -9 of ansible-playbook alone
#   group   kill -9 of ansible-playbook's whole process group
#   module  kill -9 of the process group the module runs in (Ansible's worker calls setsid(), so the two
#           kills above leave the worker and the module running: they finish the emit on their own)
# After each, the rerun must lose no series and count none twice, apart from those it names as unknown (the
# in-flight request of a dead sender); while the killed run's module still lives, the rerun waits for it.
set -eux

export ANSIBLE_ROLES_PATH=..
export ANSIBLE_LIBRARY=../reliability_common/library
export ANSIBLE_PIPELINING=true
work="${OUTPUT_DIR:-$(mktemp -d)}/reliability-crash"
config=../../integration_config.yml
py="$(ansible --version | sed -n 's/^  python version = .*(\(.*\))$/\1/p')"
# tests/soak sets these to crash larger emits at other moments
series="${CRASH_SERIES:-1200}"
kill_after="${CRASH_KILL_AFTER:-300}"
delay="${CRASH_DELAY:-0.1}"
common=(-i "$INVENTORY_PATH" -e "@$config" -e "work=$work" -e "series_count=$series" -e "slow_delay=$delay")

ansible-playbook prepare.yml "${common[@]}" "$@"

crash() {
    local how=$1 playbook module
    shift
    local run=(emit.yml "${common[@]}" -e "how=$how")
    # the run to kill, in a session of its own so that killing its process group spares this script
    setsid ansible-playbook "${run[@]}" -e result=killed "$@" > "$work/$how/killed.log" 2>&1 &
    playbook=$!
    module="$("$py" crash_helper.py sender "$work/$how/ledger.sqlite3" "$kill_after")"
    # the sessions of the killed run: its own (setsid above) and its worker's, where the module runs
    echo "$playbook $("$py" crash_helper.py session "$module")" > "$work/$how/sessions"
    case "$how" in
        pid) kill -9 "$playbook" ;;
        group) kill -9 -- "-$playbook" ;;
        # SIGKILL is delivered at once, but a loaded machine may not have torn the process down when `alive` looks
        # a moment later: give it the time to go (a module that survives still fails the check below)
        module) kill -9 -- "-$(ps -o pgid= -p "$module" | tr -d ' ')"; kill -9 -- "-$playbook"
                "$py" crash_helper.py wait-gone "$module" 10 || true ;;
    esac
    wait "$playbook" || true
    echo "$module" > "$work/$how/module_pid"
    "$py" crash_helper.py alive "$module" > "$work/$how/module_survived"
    # the rerun, at once
    ansible-playbook "${run[@]}" -e result=rerun "$@"
    "$py" crash_helper.py wait-gone "$module" 90
    # the killed run's worker outlives its module, blocked on the pipe to its dead parent: end it
    # shellcheck disable=SC2046
    "$py" crash_helper.py reap 30 $(cat "$work/$how/sessions")
}

# whatever happens, nothing this test started is left running
cleanup() {
    local sessions
    sessions="$(cat "$work"/*/sessions 2>/dev/null || true)"
    # shellcheck disable=SC2086
    [ -z "$sessions" ] || "$py" crash_helper.py reap 30 $sessions || true
}
trap cleanup EXIT

pids=()
for how in pid group module; do
    mkdir -p "$work/$how"
    crash "$how" "$@" > "$work/$how/trace.log" 2>&1 &
    pids+=($!)
done
status=0
for pid in "${pids[@]}"; do
    wait "$pid" || status=1
done
for how in pid group module; do
    echo "=== $how"
    cat "$work/$how/trace.log"
done
[ "$status" = 0 ]
# every process of the killed runs has ended
# shellcheck disable=SC2046
"$py" crash_helper.py left $(cat "$work"/*/sessions)

ansible-playbook check.yml "${common[@]}" "$@"
