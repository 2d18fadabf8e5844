#!/usr/bin/env bash
# Every published example of the collection, run against the emulator: the EXAMPLES of each module and filter and
# of each role entry point
# (from ansible-doc, as a user reads them) and the YAML blocks of the role READMEs, changed only as mapping.yml
# says (placeholders to emulator values, sign-in, files on the user's machine), each with its reason printed.
# Module examples run in check mode, for real, and again (no change expected); README plays in check mode, for real
# and again (changed=0). verify.yml then reads what they left in the emulator. See run_examples.py.
set -euo pipefail

config="$(cd ../.. && pwd)/integration_config.yml"
work="${OUTPUT_DIR:-$(mktemp -d)}/module-examples"
# The interpreter that runs Ansible has what the modules need (requests, azure-identity) and PyYAML.
py="$(ansible --version | sed -n 's/^  python version = .*(\(.*\))$/\1/p')"

"$py" run_examples.py --config "$config" --work "$work" "$@"
