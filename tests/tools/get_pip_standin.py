#!/usr/bin/env python
"""Write ansible-test's get-pip stand-ins into ~/.ansible/test/cache/ (run with each venv's python).

ansible-test bootstraps pip into every virtual environment it creates by running
get-pip-<version>.py, which it downloads from an ansible CI host that is not reachable here
("Python X at ... does not have pip available"). It uses ~/.ansible/test/cache/get_pip_<version>.py
instead when that file exists. The stand-in written here installs pip from the interpreter's own
bundled wheel (ensurepip) and then upgrades it to the requested version from the package index.

The pip versions are read from the ansible-test that the running interpreter imports
(ansible_test._internal.python_requirements.get_venv_packages, for every Python it supports), so a
new ansible-core release that moves pip is picked up without editing anything.
"""

from __future__ import annotations

import os
import re
import sys
import types

STANDIN = '''\
"""Stand-in for get-pip.py, written by tests/tools/get_pip_standin.py of azmon.metrics.

ansible-test runs this (through its quiet_pip.py, as __main__) with pip install arguments such as
"--disable-pip-version-check pip==X.Y --no-setuptools --no-wheel".
"""
import subprocess
import sys


def main():
    args = [arg for arg in sys.argv[1:] if arg not in ('--no-setuptools', '--no-wheel')]
    subprocess.run([sys.executable, '-m', 'ensurepip', '--upgrade', '--default-pip'], check=True, stdout=subprocess.DEVNULL)
    subprocess.run([sys.executable, '-m', 'pip', 'install', '--upgrade'] + args, check=True)


if __name__ == '__main__':
    main()
'''


def pip_versions() -> set[str]:
    """Return every pip version the importable ansible-test bootstraps into its venvs."""
    try:
        from ansible_test._internal.constants import SUPPORTED_PYTHON_VERSIONS
        from ansible_test._internal.python_requirements import get_venv_packages
    except ImportError as ex:
        sys.exit(f'get_pip_standin: cannot import ansible-test with {sys.executable}: {ex}')

    versions = set()
    for python_version in SUPPORTED_PYTHON_VERSIONS:
        packages = get_venv_packages(types.SimpleNamespace(version=python_version))
        versions.add(packages['pip'])
    return versions


def main() -> None:
    cache = os.path.expanduser('~/.ansible/test/cache')
    os.makedirs(cache, exist_ok=True)
    for version in sorted(pip_versions()):
        if not re.fullmatch(r'[0-9][0-9A-Za-z.]*', version):
            sys.exit(f'get_pip_standin: unexpected pip version {version!r}')
        path = os.path.join(cache, 'get_pip_%s.py' % version.replace('.', '_'))
        current = None
        if os.path.exists(path):
            with open(path, encoding='utf-8') as handle:
                current = handle.read()
        if current != STANDIN:
            with open(path + '.tmp', 'w', encoding='utf-8') as handle:
                handle.write(STANDIN)
            os.replace(path + '.tmp', path)
        print(f'get-pip stand-in for pip {version}: {path}')


if __name__ == '__main__':
    main()
