#!/usr/bin/env python
"""Write the Ansible variables that describe a running emulator into one or more YAML files.

Variables (the same for `make integration` and `make demo`):
  emulator_info_file  absolute path of the info file the emulator wrote once it was listening
  emulator_seed_file  absolute path of the seed file it was started with
  emulator_info       the info file's content (a mapping)
  emulator_seed       the seed file's content (a mapping)

With --env-out FILE it also writes a shell file that points every azmon.metrics module of a shell at the
emulator (`. build/emulator/env.sh`): its endpoints and CA (AZURE_AUTHORITY_HOST, AZMON_*), its tenant and
subscription, and sign-in as its "admin" application (AZURE_CLIENT_ID, AZURE_CLIENT_SECRET, also in
AZMON_EMULATOR_ADMIN_CLIENT_ID and AZMON_EMULATOR_ADMIN_SECRET); the seed's
"publisher" application, which may write metrics, is in AZMON_EMULATOR_PUBLISHER_CLIENT_ID and
AZMON_EMULATOR_PUBLISHER_SECRET.

usage: emulator_vars.py [--env-out ENV_FILE] INFO_FILE SEED_FILE OUT_FILE...
"""

from __future__ import annotations

import json
import os
import shlex
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


def shell_env(info: dict, seed: dict) -> str:
    """The export lines of env.sh (sign-in values of the emulator's own test principals, not real secrets)."""
    admin = seed['principals']['admin']
    publisher = seed['principals']['publisher']
    values = [
        ('AZURE_AUTHORITY_HOST', info['login']),
        ('AZMON_DISABLE_INSTANCE_DISCOVERY', 'true'),
        ('AZMON_ARM_ENDPOINT', info['arm']),
        ('AZMON_GRAPH_ENDPOINT', info['graph']),
        ('AZMON_INGESTION_ENDPOINT', info['ingest']),
        ('AZMON_CA_PATH', info['ca_bundle']),
        ('AZURE_TENANT_ID', info['tenant_id']),
        ('AZURE_SUBSCRIPTION_ID', info['subscription_id']),
        ('AZURE_CLIENT_ID', admin['appId']),
        ('AZURE_CLIENT_SECRET', admin['secrets'][0]['secretText']),
        ('AZMON_EMULATOR_ADMIN_CLIENT_ID', admin['appId']),
        ('AZMON_EMULATOR_ADMIN_SECRET', admin['secrets'][0]['secretText']),
        ('AZMON_EMULATOR_PUBLISHER_CLIENT_ID', publisher['appId']),
        ('AZMON_EMULATOR_PUBLISHER_SECRET', publisher['secrets'][0]['secretText']),
        ('AZMON_EMULATOR_ADMIN_URL', info['admin']),
    ]
    lines = ['# Written by tests/tools/emulator for the emulator now running; do not edit, do not commit.',
             '# `. build/emulator/env.sh` points every azmon.metrics module run from this shell at the emulator:',
             '# its endpoints and CA, its tenant and subscription, and sign-in as its "admin" application.']
    lines += ['export %s=%s' % (name, shlex.quote(value)) for name, value in values]
    return '\n'.join(lines) + '\n'


def write(path: str, text: str, mode: int = 0o644) -> None:
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    fd = os.open(path + '.tmp', os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(fd, 'w', encoding='utf-8') as handle:
        handle.write(text)
    os.replace(path + '.tmp', path)


def main() -> None:
    args = sys.argv[1:]
    env_out = None
    if args[:1] == ['--env-out']:
        env_out, args = args[1], args[2:]
    if len(args) < 3:
        sys.exit(__doc__)
    info_file = os.path.abspath(args[0])
    seed_file = os.path.abspath(args[1])
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
    for out in args[2:]:
        write(out, header + body)
        print(f'emulator variables written to {out}')
    if env_out:
        write(env_out, shell_env(variables['emulator_info'], variables['emulator_seed']), 0o600)
        print(f'emulator environment written to {env_out} (. {env_out} to point azmon.metrics modules at it)')


if __name__ == '__main__':
    main()
