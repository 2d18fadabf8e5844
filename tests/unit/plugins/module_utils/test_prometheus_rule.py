# -*- coding: utf-8 -*-
# Copyright (c) azmon.metrics contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A data collection rule's remote write endpoint and immutable ID, read from the emulator's ARM."""

from __future__ import annotations

import pytest

from ansible_collections.azmon.metrics.plugins.module_utils._arm import ArmClient
from ansible_collections.azmon.metrics.plugins.module_utils._errors import ServiceError, ValidationError
from ansible_collections.azmon.metrics.plugins.module_utils._http import HttpClient, RetryPolicy, TokenSource
from ansible_collections.azmon.metrics.plugins.module_utils._prometheus import rule_ingestion

SUB = '/subscriptions/1d2c3b4a-5e6f-4a8b-9c0d-e1f2a3b4c5d6'
DCR_DEMO = SUB + '/resourceGroups/rg-demo/providers/Microsoft.Insights/dataCollectionRules/dcr-amw-demo'
DCR_OTHER = SUB + '/resourceGroups/rg-other/providers/Microsoft.Insights/dataCollectionRules/dcr-amw-other'


class StaticToken(TokenSource):
    def __init__(self, value):
        self.value = value

    def token(self):
        return self.value

    def refresh(self):
        pass


@pytest.fixture
def arm(emu, monkeypatch):
    """``arm(handle)``: an ArmClient on the reset emulator signed in as the seed's ``handle``."""
    for name in ('REQUESTS_CA_BUNDLE', 'CURL_CA_BUNDLE'):
        monkeypatch.delenv(name, raising=False)

    def client(handle='admin'):
        token = emu.admin('POST', '/_admin/tokens/access', {'principal': handle, 'audience': 'https://management.azure.com/'})
        http = HttpClient(ca_path=emu.info['ca_bundle'], retry=RetryPolicy(sleep=lambda s: None), timeout=10)
        return ArmClient(http, emu.info['arm'], StaticToken(token['token']))
    client.emu = emu
    return client


def arm_gets(emu):
    return [(r['path'], r['query'].get('api-version')) for r in emu.admin('GET', '/_admin/requests?service=arm')['value']
            if r['method'] == 'GET']


def test_a_workspace_rule_leads_to_its_endpoint(arm):
    assert rule_ingestion(arm(), DCR_DEMO) == (arm.emu.info['dce'], 'dcr-8c2d1e0f4b7a4c3d9e5f6a7b8c9d0e1f')
    gets = arm_gets(arm.emu)
    assert gets == [
        (DCR_DEMO, '2023-03-11'),
        (SUB + '/resourceGroups/rg-demo/providers/Microsoft.Insights/dataCollectionEndpoints/dce-amw-demo', '2023-03-11')]


def test_a_direct_rule_has_the_endpoint_itself(arm):
    assert rule_ingestion(arm(), DCR_OTHER) == (arm.emu.info['dce'], 'dcr-0f1e2d3c4b5a49687766554433221100')
    assert len(arm_gets(arm.emu)) == 1


def test_no_read_role_on_the_rule_names_the_option_and_the_roles(arm):
    with pytest.raises(ServiceError) as exc:
        rule_ingestion(arm('publisher'), DCR_DEMO)
    assert exc.value.status == 403
    assert exc.value.details['option'] == 'dcr_resource_id'
    assert exc.value.msg.startswith('dcr_resource_id: the data collection rule ' + DCR_DEMO)
    assert 'Microsoft.Insights/dataCollectionRules/read' in exc.value.msg
    assert 'Monitoring Reader' in exc.value.msg


def test_a_rule_that_does_not_exist(arm):
    with pytest.raises(ServiceError) as exc:
        rule_ingestion(arm(), DCR_DEMO.replace('dcr-amw-demo', 'dcr-gone'))
    assert exc.value.status == 404
    assert 'does not exist' in exc.value.msg


@pytest.mark.parametrize('value', [
    SUB + '/resourceGroups/rg-demo/providers/Microsoft.Compute/virtualMachines/vm1',
    SUB + '/resourceGroups/rg-demo',
    'dcr-8c2d1e0f4b7a4c3d9e5f6a7b8c9d0e1f',
])
def test_anything_but_a_rule_id_is_refused_before_asking(arm, value):
    with pytest.raises(ValidationError) as exc:
        rule_ingestion(arm(), value)
    assert exc.value.details['option'] == 'dcr_resource_id'
    assert arm_gets(arm.emu) == []
