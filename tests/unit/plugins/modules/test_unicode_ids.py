# -*- coding: utf-8 -*-
# Copyright (c) azmon.metrics contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unicode resource group and resource names, end to end against the emulator: ARM and ingestion paths are
percent-encoded (UTF-8, RFC 3986) and reach the right resource."""

from __future__ import annotations

import json
import os
import sys

import pytest

EMULATOR = os.path.join(os.path.dirname(__file__), '..', '..', '..', 'emulator')
sys.path.insert(0, EMULATOR)

from azmon_emulator.testing import DEFAULT_SEED, start_emulator  # noqa: E402  pylint: disable=wrong-import-position

from ansible_collections.azmon.metrics.plugins.modules import custom_metric_emit, metrics_publisher_role  # noqa: E402

RG = 'rg-donn\u00e9es-\u65e5\u672c'
VM = 'vm-\u00fcml\u00e4ut(1)'


@pytest.fixture(scope='module')
def emu(tmp_path_factory):
    with open(DEFAULT_SEED, encoding='utf-8') as handle:
        seed = json.load(handle)
    seed['subscriptions'][0]['resourceGroups'].append({
        'name': RG, 'location': 'eastus',
        'resources': [{'type': 'Microsoft.Compute/virtualMachines', 'name': VM, 'location': 'eastus'}]})
    process = start_emulator(seed=seed, tmpdir=tmp_path_factory.mktemp('emulator'))
    process.seed = seed
    yield process
    process.stop()


def sign_in(emu, handle):
    info, principal = emu.info, emu.seed['principals'][handle]
    return {'tenant': info['tenant_id'], 'client_id': principal['appId'], 'secret': principal['secrets'][0]['secretText'],
            'authority_host': info['login'], 'disable_instance_discovery': True, 'arm_endpoint': info['arm'],
            'graph_endpoint': info['graph'], 'ingestion_endpoint': info['ingest'], 'ca_path': info['ca_bundle']}


def test_role_assignment_and_emission_on_unicode_names(emu, run_main, tmp_path):
    sub = emu.info['subscription_id']
    group = '/subscriptions/%s/resourceGroups/%s' % (sub, RG)
    vm_id = group + '/providers/Microsoft.Compute/virtualMachines/' + VM
    publisher = emu.seed['principals']['publisher']['principalId']

    assign = dict(sign_in(emu, 'admin'), scope=group, principal_id=publisher)
    first = run_main(metrics_publisher_role, assign)
    assert first.get('failed') is not True, first
    assert first['changed'] is True
    again = run_main(metrics_publisher_role, assign)
    assert again['changed'] is False, again
    assignments = [a for a in emu.admin('GET', '/_admin/role-assignments')['value']
                   if a['principalId'] == publisher and RG.lower() in a['scope'].lower()]
    assert [a['scope'].lower() for a in assignments] == [group.lower()]

    emit = dict(sign_in(emu, 'publisher'), resource_id=vm_id, region='eastus', namespace='Unicode', metric='Load',
                value=3, ledger_path=str(tmp_path / 'ledger.sqlite3'))
    result = run_main(custom_metric_emit, emit)
    assert result.get('failed') is not True, result
    assert result['series_sent'] == 1
    rows = [r for r in emu.admin('GET', '/_admin/metrics')['value'] if r['namespace'] == 'Unicode']
    assert [(r['resourceId'].lower(), r['metric'], r['sum']) for r in rows] == [(vm_id.lower(), 'Load', 3)]

    raw = [r['rawPath'] for r in emu.admin('GET', '/_admin/requests')['value'] if r['service'] in ('arm', 'ingest')]
    encoded_group = 'rg-donn%C3%A9es-%E6%97%A5%E6%9C%AC'
    assert raw and all(encoded_group in path for path in raw), raw
    assert any(path.endswith('/virtualMachines/vm-%C3%BCml%C3%A4ut%281%29/metrics') for path in raw), raw
