# -*- coding: utf-8 -*-
# Copyright (c) azmon.metrics contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Run a module's ``main()`` in-process and return the JSON it would print; custom_metric_emit's options for the
emulator (tests/unit/conftest.py: ``emu``)."""

from __future__ import annotations

import json

from unittest import mock

import pytest

from ansible.module_utils import _internal
from ansible.module_utils.common import warnings as ansible_warnings
from ansible.module_utils.testing import patch_module_args

# the emulator's seeded vm1 (tests/emulator/seed.json), in East US
VM1 = '/subscriptions/1d2c3b4a-5e6f-4a8b-9c0d-e1f2a3b4c5d6/resourceGroups/rg-demo/providers/Microsoft.Compute/virtualMachines/vm1'


class ModuleExit(Exception):
    def __init__(self, result, failed):
        super().__init__(result)
        self.result = result
        self.failed = failed


def _run(module, args, capsys):
    # Under plain pytest, once a test has imported controller code, ansible-core sends module warnings to the
    # console instead of the result; a module runs as a module here. A real module process starts with no warnings;
    # ansible-core keeps them in module-level dicts, which an earlier test's module would otherwise leave behind.
    ansible_warnings._global_warnings.clear()
    ansible_warnings._global_deprecations.clear()
    with patch_module_args(args), mock.patch.object(_internal, 'is_controller', False):
        try:
            module.main()
        except SystemExit as exc:
            out = capsys.readouterr().out
            result = json.loads(out)
            return result, exc.code != 0
    raise AssertionError('main() returned without exit_json or fail_json')


@pytest.fixture
def run_main(capsys):
    """``run_main(module, args)`` -> the module's result dict; ``result['failed']`` is set on failure."""
    def runner(module, args):
        result, failed = _run(module, args, capsys)
        if failed:
            result.setdefault('failed', True)
        return result
    return runner


@pytest.fixture
def ingest_token(emu):
    """An ingestion access token the emulator issued to its seed's publisher (Monitoring Metrics Publisher on
    rg-demo)."""
    return emu.admin('POST', '/_admin/tokens/access', {'principal': 'publisher', 'audience': 'https://monitoring.azure.com/'})['token']


@pytest.fixture
def emit_args(emu, ingest_token, tmp_path):
    """``emit_args(**extra)``: custom_metric_emit options for the reset emulator's ingestion as its publisher, for vm1
    in East US, ledger in tmp_path."""
    def make(**extra):
        base = {'resource_id': VM1, 'region': 'East US', 'namespace': 'NS', 'access_token': ingest_token,
                'ingestion_endpoint': emu.info['ingest'], 'ca_path': emu.info['ca_bundle'],
                'ledger_path': str(tmp_path / 'ledger.sqlite3')}
        base.update(extra)
        return base
    return make
