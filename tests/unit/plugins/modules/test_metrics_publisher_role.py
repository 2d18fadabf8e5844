# -*- coding: utf-8 -*-
# Copyright (c) azmon.metrics contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""metrics_publisher_role's main() against the emulator's ARM and Graph (tests/unit/conftest.py: ``emu``)."""

from __future__ import annotations

import json
import os
import uuid
from urllib.parse import urlsplit

import pytest
import requests

from ansible_collections.azmon.metrics.plugins.module_utils import _wait
from ansible_collections.azmon.metrics.plugins.module_utils._scope import assignment_name
from ansible_collections.azmon.metrics.plugins.modules import metrics_publisher_role

# The emulator's seed (tests/emulator/seed.json): its subscription, vm1 in rg-demo, and principals.
SUB = '1d2c3b4a-5e6f-4a8b-9c0d-e1f2a3b4c5d6'
SUB_ID = '/subscriptions/' + SUB
RG_ID = SUB_ID + '/resourceGroups/rg-demo'
VM_ID = RG_ID + '/providers/Microsoft.Compute/virtualMachines/vm1'
MMP = '3913510d-42f4-4e42-8a64-420c390055eb'
READER_ROLE = 'acdd72a7-3385-48ef-bd42-f606fba81ae7'
ROLE_ID = '/subscriptions/%s/providers/Microsoft.Authorization/roleDefinitions/%s' % (SUB, MMP)
ASSIGNMENTS = '/providers/Microsoft.Authorization/roleAssignments'
# a principal with no role anywhere (the seed's "nobody")
PRINCIPAL = {'id': 'c0000004-0000-4000-8000-000000000004', 'appId': 'a0000004-0000-4000-8000-000000000004',
             'displayName': 'azmon-nobody'}
CALLER_OID = 'c0000001-0000-4000-8000-000000000001'     # the seed's "admin", Owner of the subscription
READER_OID = 'c0000002-0000-4000-8000-000000000002'     # the seed's "reader": may read assignments, not write them


@pytest.fixture(autouse=True)
def clean_env(monkeypatch):
    for name in list(os.environ):
        if name.startswith(('AZURE_', 'IDENTITY_', 'MSI_')) or name in ('REQUESTS_CA_BUNDLE', 'CURL_CA_BUNDLE'):
            monkeypatch.delenv(name)
    monkeypatch.setenv('HOME', '/nonexistent')


@pytest.fixture
def slept(monkeypatch):
    """Replace time.sleep (the module's waits) with a recorder."""
    record = []
    monkeypatch.setattr(_wait.time, 'sleep', record.append)
    return record


def secret(emu, handle):
    return emu.seed['principals'][handle]['secrets'][0]['secretText']


@pytest.fixture
def args(emu):
    def make(caller='admin', **extra):
        info = emu.info
        base = {'tenant': info['tenant_id'], 'client_id': emu.seed['principals'][caller]['appId'],
                'secret': secret(emu, caller), 'authority_host': info['login'], 'disable_instance_discovery': True,
                'arm_endpoint': info['arm'], 'graph_endpoint': info['graph'], 'ca_path': info['ca_bundle']}
        base.update(extra)
        return base
    return make


def run(run_main, **module_args):
    return run_main(metrics_publisher_role, module_args)


def logged(emu, service):
    return emu.admin('GET', '/_admin/requests?service=' + service)['value']


def writes(emu):
    return [r for r in logged(emu, 'arm') if r['method'] in ('PUT', 'DELETE', 'POST', 'PATCH')]


def held(emu, principal_id=PRINCIPAL['id']):
    """The role assignments the emulator holds for the principal."""
    return [a for a in emu.admin('GET', '/_admin/role-assignments')['value'] if a['principalId'] == principal_id]


def call(emu, method, url, audience, body=None):
    token = emu.admin('POST', '/_admin/tokens/access', {'principal': 'admin', 'audience': audience})['token']
    resp = requests.request(method, url, json=body, headers={'Authorization': 'Bearer ' + token},
                            verify=emu.info['ca_bundle'], timeout=15)
    assert resp.status_code in (200, 201), resp.text
    return resp.json()


def add(emu, scope, principal_id, role=MMP, name=None):
    """An existing assignment, made through ARM as the admin; the request log is cleared afterwards."""
    name = name or str(uuid.uuid4())
    body = {'properties': {'roleDefinitionId': '/subscriptions/%s/providers/Microsoft.Authorization/roleDefinitions/%s'
                           % (SUB, role), 'principalId': principal_id, 'principalType': 'ServicePrincipal'}}
    doc = call(emu, 'PUT', '%s%s%s/%s?api-version=2022-04-01' % (emu.info['arm'], scope, ASSIGNMENTS, name),
               'https://management.azure.com/', body)
    emu.admin('DELETE', '/_admin/requests')
    return doc


def add_service_principal(emu, display_name):
    """A new application and its service principal, made through Graph as the admin."""
    graph = emu.info['graph'] + '/v1.0'
    app = call(emu, 'POST', graph + '/applications', 'https://graph.microsoft.com', {'displayName': display_name})
    sp = call(emu, 'POST', graph + '/servicePrincipals', 'https://graph.microsoft.com', {'appId': app['appId']})
    emu.admin('DELETE', '/_admin/requests')
    return {'id': sp['id'], 'appId': app['appId'], 'displayName': display_name}


# --- the ordinary cycle ----------------------------------------------------------------------------

def test_create_rerun_check_absent_rerun(run_main, emu, args):
    name = assignment_name(VM_ID, PRINCIPAL['id'], MMP)

    check = run(run_main, **args(scope=VM_ID, principal_id=PRINCIPAL['id'], _ansible_check_mode=True, _ansible_diff=True))
    assert check['changed'] is True
    assert check['name'] == name
    assert check['msg'] == 'would create role assignment %s' % name
    assert check['diff']['before']['assignment_name'] is None
    assert check['diff']['after']['assignment_name'] == name
    assert writes(emu) == []

    created = run(run_main, **args(scope=VM_ID, principal_id=PRINCIPAL['id']))
    assert created['changed'] is True
    assert created['id'].lower() == ('%s%s/%s' % (VM_ID, ASSIGNMENTS, name)).lower()
    assert created['name'] == name
    assert created['scope'].lower() == VM_ID.lower()
    assert created['principal_id'] == PRINCIPAL['id']
    assert created['role_definition_id'] == ROLE_ID
    assert created['inherited'] is False
    assert created['requested_scope'] == VM_ID
    (put,) = writes(emu)
    assert put['method'] == 'PUT'
    assert put['json'] == {'properties': {'roleDefinitionId': ROLE_ID, 'principalId': PRINCIPAL['id'],
                                          'principalType': 'ServicePrincipal'}}
    assert secret(emu, 'admin') not in json.dumps(created)

    # rerun, with the scope in another case and a trailing slash
    again = run(run_main, **args(scope=VM_ID.upper().replace('SUBSCRIPTIONS', 'subscriptions') + '/',
                                 principal_id=PRINCIPAL['id'].upper(), _ansible_diff=True))
    assert again['changed'] is False
    assert again['name'] == name
    assert again['diff']['before'] == again['diff']['after']
    assert len(writes(emu)) == 1

    check_absent = run(run_main, **args(scope=VM_ID, principal_id=PRINCIPAL['id'], state='absent',
                                        _ansible_check_mode=True))
    assert check_absent['changed'] is True
    assert check_absent['msg'] == 'would remove role assignment %s' % name
    assert len(writes(emu)) == 1

    removed = run(run_main, **args(scope=VM_ID, principal_id=PRINCIPAL['id'], state='absent', _ansible_diff=True))
    assert removed['changed'] is True
    assert removed['name'] == name
    assert removed['diff']['before']['assignment_name'] == name
    assert removed['diff']['after']['assignment_name'] is None
    assert writes(emu)[-1]['method'] == 'DELETE'
    assert held(emu) == []

    gone = run(run_main, **args(scope=VM_ID, principal_id=PRINCIPAL['id'], state='absent'))
    assert gone['changed'] is False
    assert gone['id'] is None
    assert len(writes(emu)) == 2


def test_scope_from_parts_and_subscription_option(run_main, emu, args):
    result = run(run_main, **args(subscription_id=SUB.upper(), resource_group='rg-demo',
                                  resource_type='Microsoft.Compute/virtualMachines', resource_name='vm1',
                                  principal_id=PRINCIPAL['id']))
    assert result['changed'] is True
    assert result['requested_scope'] == VM_ID
    assert urlsplit(writes(emu)[0]['path']).path.startswith(VM_ID + ASSIGNMENTS + '/')


def test_subscription_scope_from_the_environment(run_main, emu, args, monkeypatch):
    monkeypatch.setenv('AZURE_SUBSCRIPTION_ID', SUB)
    result = run(run_main, **args(principal_id=PRINCIPAL['id']))
    assert result['requested_scope'] == SUB_ID
    assert result['scope'] == SUB_ID


def test_paging_finds_an_assignment_on_a_later_page(run_main, emu, args):
    add(emu, SUB_ID, PRINCIPAL['id'], role=READER_ROLE)
    add(emu, RG_ID, PRINCIPAL['id'], role=READER_ROLE)
    add(emu, VM_ID, PRINCIPAL['id'], name='99999999-0000-4000-8000-000000000000')
    emu.admin('POST', '/_admin/settings', {'pageSize': 1})
    result = run(run_main, **args(scope=VM_ID, principal_id=PRINCIPAL['id']))
    assert result['changed'] is False
    assert result['name'] == '99999999-0000-4000-8000-000000000000'
    assert len([r for r in logged(emu, 'arm') if r['method'] == 'GET']) == 3


# --- finding the principal ----------------------------------------------------------------------------

def test_app_id_is_resolved_through_graph(run_main, emu, args):
    result = run(run_main, **args(scope=RG_ID, app_id=PRINCIPAL['appId'].upper()))
    assert result['changed'] is True
    assert result['principal_id'] == PRINCIPAL['id']
    assert result['principal'] == {'object_id': PRINCIPAL['id'], 'app_id': PRINCIPAL['appId'],
                                   'display_name': 'azmon-nobody', 'resolved_from': 'app_id'}
    assert len(logged(emu, 'graph')) == 1
    assert writes(emu)[0]['json']['properties']['principalId'] == PRINCIPAL['id']


def test_principal_name_is_resolved_through_graph(run_main, emu, args):
    result = run(run_main, **args(scope=RG_ID, principal_name='azmon-nobody'))
    assert result['principal_id'] == PRINCIPAL['id']
    assert result['principal']['resolved_from'] == 'principal_name'


def test_ambiguous_name_fails_listing_the_candidates(run_main, emu, args):
    twins = [add_service_principal(emu, 'twin'), add_service_principal(emu, 'twin')]
    result = run(run_main, **args(scope=RG_ID, principal_name='twin'))
    assert result['failed'] is True
    assert '2 service principals are named' in result['msg']
    for sp in twins:
        assert sp['id'] in result['msg'] and sp['appId'] in result['msg']
    assert {c['object_id'] for c in result['candidates']} == {twin['id'] for twin in twins}
    assert logged(emu, 'arm') == []


def test_unknown_app_is_looked_up_again_then_fails(run_main, emu, args, slept):
    result = run(run_main, **args(scope=RG_ID, app_id='a0000099-0000-4000-8000-000000000099', principal_wait_timeout=10))
    assert result['failed'] is True
    assert 'no service principal with application (client) ID a0000099' in result['msg']
    assert slept == [2.0, 4.0]
    assert len(logged(emu, 'graph')) == 3


def test_principal_id_needs_no_graph(run_main, emu, args):
    run(run_main, **args(scope=RG_ID, principal_id=PRINCIPAL['id']))
    assert logged(emu, 'graph') == []


# --- inheritance ----------------------------------------------------------------------------------------

def test_inherited_assignment_satisfies_present(run_main, emu, args):
    parent = add(emu, RG_ID.upper(), PRINCIPAL['id'])
    result = run(run_main, **args(scope=VM_ID, principal_id=PRINCIPAL['id']))
    assert result['changed'] is False
    assert result['inherited'] is True
    assert result['name'] == parent['name']
    assert result['scope'].lower() == RG_ID.lower()
    assert result['requested_scope'] == VM_ID
    assert 'inherited' in result['msg']
    assert writes(emu) == []


def test_inherited_not_ok_creates_at_the_scope(run_main, emu, args):
    add(emu, RG_ID, PRINCIPAL['id'])
    result = run(run_main, **args(scope=VM_ID, principal_id=PRINCIPAL['id'], inherited_ok=False))
    assert result['changed'] is True
    assert result['inherited'] is False
    assert result['scope'].lower() == VM_ID.lower()
    assert [a['scope'].lower() for a in result['inherited_assignments']] == [RG_ID.lower()]


def test_absent_leaves_the_inherited_assignment_and_says_so(run_main, emu, args):
    parent = add(emu, RG_ID, PRINCIPAL['id'])
    result = run(run_main, **args(scope=VM_ID, principal_id=PRINCIPAL['id'], state='absent'))
    assert result['changed'] is False
    assert result['inherited'] is True
    assert result['id'] is None
    assert result['inherited_assignments'][0]['name'] == parent['name']
    assert 'never removes' in json.dumps(result['warnings'])
    assert 'never removes' in result['msg']
    assert writes(emu) == []
    assert [a['name'] for a in held(emu)] == [parent['name']]


# --- ARM's answers ------------------------------------------------------------------------------------

def test_role_assignment_exists_under_another_name_is_unchanged(run_main, emu, args):
    other = add(emu, VM_ID, PRINCIPAL['id'], name='12345678-0000-4000-8000-000000000000')
    emu.admin('POST', '/_admin/faults', {'action': 'stale_read', 'count': 1})   # the first list does not show it yet
    result = run(run_main, **args(scope=VM_ID, principal_id=PRINCIPAL['id']))
    assert 'failed' not in result
    assert result['changed'] is False
    assert result['name'] == other['name']
    assert 'RoleAssignmentExists' in result['msg']
    assert [r['method'] for r in writes(emu)] == ['PUT']


def test_principal_not_found_is_waited_for(run_main, emu, args, slept):
    emu.admin('POST', '/_admin/faults', {'action': 'principal_not_found', 'count': 2})
    result = run(run_main, **args(scope=VM_ID, principal_id=PRINCIPAL['id']))
    assert result['changed'] is True
    assert slept == [2.0, 4.0]
    assert result['stats']['replication_retries'] == 2
    assert result['stats']['replication_wait_seconds'] == 6.0
    assert [r['method'] for r in writes(emu)] == ['PUT'] * 3


def test_principal_not_found_beyond_the_timeout_fails(run_main, emu, args, slept):
    emu.admin('POST', '/_admin/faults', {'action': 'principal_not_found'})
    result = run(run_main, **args(scope=VM_ID, principal_id=PRINCIPAL['id'], principal_wait_timeout=5))
    assert result['failed'] is True
    assert 'PrincipalNotFound' in result['msg']
    assert 'principal_wait_timeout' in result['msg']
    assert result['error_code'] == 'PrincipalNotFound'
    assert result['status'] == 400
    assert sum(slept) <= 5


def test_forbidden_write_names_caller_scope_and_permission(run_main, emu, args):
    result = run(run_main, **args(caller='reader', scope=VM_ID, principal_id=PRINCIPAL['id']))
    assert result['failed'] is True
    assert 'Microsoft.Authorization/roleAssignments/write' in result['msg']
    assert 'Owner, User Access Administrator or Role Based Access Control Administrator' in result['msg']
    assert READER_OID in result['msg']
    assert VM_ID in result['msg']
    assert result['status'] == 403
    assert result['error_code'] == 'AuthorizationFailed'
    (put,) = writes(emu)
    assert result['request_id'] == put['requestId']
    assert secret(emu, 'reader') not in json.dumps(result)


def test_forbidden_delete_names_the_delete_permission(run_main, emu, args):
    add(emu, VM_ID, PRINCIPAL['id'])
    result = run(run_main, **args(caller='reader', scope=VM_ID, principal_id=PRINCIPAL['id'], state='absent'))
    assert result['failed'] is True
    assert 'roleAssignments/delete' in result['msg']


# --- mistakes fail before anything is sent --------------------------------------------------------------

@pytest.mark.parametrize('extra, says', [
    ({'scope': VM_ID + '/../../x', 'principal_id': PRINCIPAL['id']}, "scope: "),
    ({'scope': VM_ID + '?api-version=1', 'principal_id': PRINCIPAL['id']}, "'?'"),
    ({'scope': VM_ID, 'principal_id': 'azmon-publisher'}, 'principal_id must be a GUID'),
    ({'scope': VM_ID, 'app_id': 'not-a-guid'}, 'app_id must be a GUID'),
    ({'principal_id': PRINCIPAL['id']}, 'scope is not set, and no subscription_id'),
    ({'subscription_id': 'abc', 'principal_id': PRINCIPAL['id']}, 'subscription_id must be a GUID'),
    ({'subscription_id': SUB, 'resource_group': 'rg', 'resource_type': 'virtualMachines', 'resource_name': 'vm1',
      'principal_id': PRINCIPAL['id']}, 'with its namespace'),
    ({'scope': VM_ID, 'resource_group': 'rg', 'principal_id': PRINCIPAL['id']}, 'mutually exclusive'),
    ({'scope': VM_ID, 'principal_id': PRINCIPAL['id'], 'app_id': PRINCIPAL['appId']}, 'mutually exclusive'),
    ({'scope': VM_ID}, 'one of the following is required'),
    ({'subscription_id': SUB, 'resource_type': 'Microsoft.Compute/virtualMachines', 'resource_name': 'vm1',
      'principal_id': PRINCIPAL['id']}, 'resource_group'),
    ({'scope': VM_ID, 'app_id': PRINCIPAL['appId'], 'principal_type': 'User'}, 'principal_type=User needs principal_id'),
    ({'scope': VM_ID, 'principal_id': PRINCIPAL['id'], 'principal_wait_timeout': -1}, 'principal_wait_timeout'),
    ({'scope': SUB_ID + '/resourceGroups/rg-demo/providers/Microsoft.Compute/virtualMachines/vm1'
      '/providers/Microsoft.Authorization/roleAssignments/x', 'principal_id': PRINCIPAL['id']}, 'extension resources'),
])
def test_mistakes_fail_before_anything_is_sent(run_main, emu, args, extra, says):
    result = run(run_main, **args(**extra))
    assert result['failed'] is True
    assert says in result['msg']
    assert [r for r in emu.admin('GET', '/_admin/requests')['value'] if r['service'] != 'admin'] == []


def test_user_principal_type_is_sent(run_main, emu, args):
    run(run_main, **args(scope=VM_ID, principal_id=PRINCIPAL['id'], principal_type='User'))
    assert writes(emu)[0]['json']['properties']['principalType'] == 'User'


def test_role_ledger_grants_storage_blob_data_contributor_on_a_storage_account_once(run_main, emu, args):
    account = RG_ID + '/providers/Microsoft.Storage/storageAccounts/stdemo01'   # the emulator serves no container scopes
    sbdc = 'ba92f5b4-2d11-453d-a403-e96b0029c9fe'
    created = run(run_main, **args(role='ledger', scope=account, principal_id=PRINCIPAL['id']))
    assert created['changed'] is True
    assert created['role_definition_id'] == '/subscriptions/%s/providers/Microsoft.Authorization/roleDefinitions/%s' % (
        SUB, sbdc)
    assert created['name'] == assignment_name(account, PRINCIPAL['id'], sbdc)
    (put,) = writes(emu)
    assert put['json']['properties']['roleDefinitionId'].endswith('/' + sbdc)
    again = run(run_main, **args(role='ledger', scope=account, principal_id=PRINCIPAL['id']))
    assert again['changed'] is False
    assert len(writes(emu)) == 1
