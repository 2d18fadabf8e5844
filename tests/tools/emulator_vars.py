#!/usr/bin/env python
"""Write the Ansible variables that describe a running emulator into one or more YAML files.

Variables (the same for `make integration` and `make demo`):
  emulator_info_file  absolute path of the info file the emulator wrote once it was listening
  emulator_seed_file  absolute path of the seed file it was started with
  emulator_info       the info file's content (a mapping)
  emulator_seed       the seed file's content (a mapping)

usage: emulator_vars.py INFO_FILE SEED_FILE OUT_FILE...
"""

from __future__ import annotations

import json
import os
import sys


def load(path: str) -> dict:
    """Load a JSON (or, with PyYAML, YAML) mapping."""
    with open(path, encoding='utf-8') as handle:
        text = handle.read()
    try:
        data = json.loads(text)
    except ValueError:
        import yaml  # pylint: disable=import-outside-toplevel
        data = yaml.safe_load(text)
    if not isinstance(data, dict):
        sys.exit(f'emulator_vars: {path} does not hold a mapping')
    return data


def main() -> None:
    if len(sys.argv) < 4:
        sys.exit(__doc__)
    info_file = os.path.abspath(sys.argv[1])
    seed_file = os.path.abspath(sys.argv[2])
    variables = dict(
        emulator_info_file=info_file,
        emulator_seed_file=seed_file,
        emulator_info=load(info_file),
        emulator_seed=load(seed_file),
    )
    header = '# Written by tests/tools/emulator_vars.py for the emulator now running; do not edit, do not commit.\n'
    try:
        import yaml  # pylint: disable=import-outside-toplevel
        body = yaml.safe_dump(variables, default_flow_style=False, sort_keys=True)
    except ImportError:
        body = json.dumps(variables, indent=2, sort_keys=True) + '\n'  # JSON is YAML too
    for out in sys.argv[3:]:
        os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
        with open(out + '.tmp', 'w', encoding='utf-8') as handle:
            handle.write(header + body)
        os.replace(out + '.tmp', out)
        print(f'emulator variables written to {out}')


if __name__ == '__main__':
    main()
