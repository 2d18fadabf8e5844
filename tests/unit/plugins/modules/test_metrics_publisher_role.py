# -*- coding: utf-8 -*-
# Copyright (c) azmon.metrics contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""metrics_publisher_role's main() against a small stateful ARM + Graph fake served over TLS."""

from __future__ import annotations

import base64
import http.server
import json
import os
import ssl
import sys
import threading
import uuid
from urllib.parse import parse_qs, unquote, urlsplit

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), '..', '..'))

from tls_server import make_cert  # noqa: E402  pylint: disable=wrong-import-position

from ansible_collections.azmon.metrics.plugins.module_utils import _wait  # noqa: E402
from ansible_collections.azmon.metrics.plugins.module_utils._scope import assignment_name  # noqa: E402
from ansible_collections.azmon.metrics.plugins.modules import metrics_publisher_role  # noqa: E402

SUB = '1d2c3b4a-5e6f-4a8b-9c0d-e1f2a3b4c5d6'
SUB_ID = '/subscriptions/' + SUB
RG_ID = SUB_ID + '/resourceGroups/rg-demo'
VM_ID = RG_ID + '/providers/Microsoft.Compute/virtualMachines/vm1'
MMP = '3913510d-42f4-4e42-8a64-420c390055eb'
ROLE_ID = '/subscriptions/%s/providers/Microsoft.Authorization/roleDefinitions/%s' % (SUB, MMP)
ASSIGNMENTS = '/providers/Microsoft.Authorization/roleAssignments'
PUBLISHER = {'id': 'c0000003-0000-4000-8000-000000000003', 'appId': 'a0000003-0000-4000-8000-000000000003',
             'displayName': 'azmon-publisher'}
TWIN_A = {'id': 'c0000008-0000-4000-8000-000000000008', 'appId': 'a0000008-0000-4000-8000-000000000008',
          'displayName': 'twin'}
TWIN_B = {'id': 'c0000009-0000-4000-8000-000000000009', 'appId': 'a0000009-0000-4000-8000-000000000009',
          'displayName': 'twin'}
CALLER_OID = 'c0000001-0000-4000-8000-000000000001'


def jwt(claims):
    def enc(doc):
        return base64.urlsafe_b64encode(json.dumps(doc).encode()).rstrip(b'=').decode()
    return '%s.%s.sig' % (enc({'alg': 'RS256', 'typ': 'JWT'}), enc(claims))


TOKEN = jwt({'oid': CALLER_OID, 'appid': 'a0000001-0000-4000-8000-000000000001'})


class FakeAzure:
    """ARM role assignments and Graph service principal lookups, enough for the module.

    Knobs: ``principal_not_found`` (PUTs answered PrincipalNotFound first),
    ``forbid`` (methods answered 403), ``hidden`` (assignments that the list
    does not show yet but that make a PUT conflict), ``page_size``.
    """

    def __init__(self, tmp_path):
        self.assignments = {}
        self.hidden = {}
        self.service_principals = [PUBLISHER, TWIN_A, TWIN_B]
        self.principal_not_found = 0
        self.forbid = set()
        self.page_size = 2
        self.requests = []
        self.cert, key = make_cert(tmp_path)
        fake = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = 'HTTP/1.1'

            def log_message(self, *args):
                pass

            def _handle(self):
                length = int(self.headers.get('Content-Length') or 0)
                body = json.loads(self.rfile.read(length)) if length else None
                fake.requests.append({'method': self.command, 'path': self.path, 'body': body,
                                      'headers': dict(self.headers)})
                status, payload = fake.route(self.command, self.path, body, self.headers)
                data = json.dumps(payload).encode() if payload is not None else b''
                self.send_response(status)
                self.send_header('Content-Type', 'application/json')
                self.send_header('x-ms-request-id', 'req-%d' % len(fake.requests))
                self.send_header('Content-Length', str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_PUT = do_DELETE = do_POST = _handle

        self.httpd = http.server.ThreadingHTTPServer(('127.0.0.1', 0), Handler)
        self.httpd.daemon_threads = True
        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ctx.load_cert_chain(self.cert, key)
        self.httpd.socket = ctx.wrap_socket(self.httpd.socket, server_side=True)
        self.url = 'https://127.0.0.1:%d' % self.httpd.server_address[1]
        threading.Thread(target=self.httpd.serve_forever, kwargs={'poll_interval': 0.05}, daemon=True).start()

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()

    # ---------------------------------------------------------------- state
    def add(self, scope, principal_id, role=MMP, name=None, hidden=False):
        name = name or str(uuid.uuid4())
        doc = {'id': '%s%s/%s' % (scope, ASSIGNMENTS, name), 'name': name, 'type': 'Microsoft.Authorization/roleAssignments',
               'properties': {'scope': scope, 'principalId': principal_id, 'principalType': 'ServicePrincipal',
                              'roleDefinitionId': '/subscriptions/%s/providers/Microsoft.Authorization/roleDefinitions/%s'
                              % (SUB, role)}}
        (self.hidden if hidden else self.assignments)[name] = doc
        return doc

    def writes(self):
        return [r for r in self.requests if r['method'] in ('PUT', 'DELETE', 'POST', 'PATCH')]

    @staticmethod
    def error(status, code, message='fake'):
        return status, {'error': {'code': code, 'message': message}}

    def route(self, method, raw_path, body, headers):
        parts = urlsplit(raw_path)
        path = unquote(parts.path)
        query = parse_qs(parts.query)
        if headers.get('Authorization') != 'Bearer ' + TOKEN:
            return self.error(401, 'InvalidAuthenticationToken')
        if path.startswith('/v1.0/servicePrincipals'):
            expression = query['$filter'][0]
            field, _eq, literal = expression.split(' ', 2)
            value = literal[1:-1].replace("''", "'")
            return 200, {'value': [sp for sp in self.service_principals if sp[field].lower() == value.lower()]}
        if method in self.forbid:
            return self.error(403, 'AuthorizationFailed', "The client '%s' does not have authorization" % CALLER_OID)
        marker = path.lower().rfind(ASSIGNMENTS.lower())
        scope, rest = path[:marker], path[marker + len(ASSIGNMENTS):]
        if query.get('api-version') != ['2022-04-01']:
            return self.error(400, 'InvalidApiVersionParameter')
        if method == 'GET' and not rest:
            return self.list(scope, query)
        name = rest.lstrip('/')
        if method == 'PUT':
            return self.put(scope, name, body)
        if method == 'DELETE':
            doc = self.assignments.pop(name, None)
            return (200, doc) if doc else (204, None)
        return self.error(405, 'MethodNotAllowed')

    def list(self, scope, query):
        principal = query['$filter'][0].split("'")[1].lower()
        items = sorted((d for d in self.assignments.values() if d['properties']['principalId'].lower() == principal),
                       key=lambda d: d['name'])
        skip = int(query.get('$skiptoken', ['0'])[0])
        page = {'value': items[skip:skip + self.page_size]}
        if skip + self.page_size < len(items):
            page['nextLink'] = '%s%s%s?api-version=2022-04-01&$filter=%s&$skiptoken=%d' % (
                self.url, scope, ASSIGNMENTS, query['$filter'][0].replace(' ', '%20'), skip + self.page_size)
        return 200, page

    def put(self, scope, name, body):
        props = body['properties']
        if self.principal_not_found:
            self.principal_not_found -= 1
            return self.error(400, 'PrincipalNotFound', 'Principal %s does not exist in the directory'
                              % props['principalId'])
        for doc in list(self.assignments.values()) + list(self.hidden.values()):
            p = doc['properties']
            if (p['scope'].lower() == scope.lower() and p['principalId'].lower() == props['principalId'].lower()
                    and p['roleDefinitionId'].lower() == props['roleDefinitionId'].lower()):
                if doc['name'] == name:
                    return 200, doc
                self.assignments.update(self.hidden)
                self.hidden.clear()
                return self.error(409, 'RoleAssignmentExists', 'The role assignment already exists.')
        doc = {'id': '%s%s/%s' % (scope, ASSIGNMENTS, name), 'name': name,
               'type': 'Microsoft.Authorization/roleAssignments', 'properties': dict(props, scope=scope)}
        self.assignments[name] = doc
        return 201, doc


@pytest.fixture
def azure(tmp_path):
    fake = FakeAzure(tmp_path)
    yield fake
    fake.stop()


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


@pytest.fixture
def args(azure):
    def make(**extra):
        base = {'access_token': TOKEN, 'arm_endpoint': azure.url, 'graph_endpoint': azure.url, 'ca_path': azure.cert}
        base.update(extra)
        return base
    return make


def run(run_main, **module_args):
    return run_main(metrics_publisher_role, module_args)


# --- the ordinary cycle ----------------------------------------------------------------------------

def test_create_rerun_check_absent_rerun(run_main, azure, args):
    name = assignment_name(VM_ID, PUBLISHER['id'], MMP)

    check = run(run_main, **args(scope=VM_ID, principal_id=PUBLISHER['id'], _ansible_check_mode=True, _ansible_diff=True))
    assert check['changed'] is True
    assert check['name'] == name
    assert check['msg'] == 'would create role assignment %s' % name
    assert check['diff']['before']['assignment_name'] is None
    assert check['diff']['after']['assignment_name'] == name
    assert azure.writes() == []

    created = run(run_main, **args(scope=VM_ID, principal_id=PUBLISHER['id']))
    assert created['changed'] is True
    assert created['id'] == '%s%s/%s' % (VM_ID, ASSIGNMENTS, name)
    assert created['name'] == name
    assert created['scope'] == VM_ID
    assert created['principal_id'] == PUBLISHER['id']
    assert created['role_definition_id'] == ROLE_ID
    assert created['inherited'] is False
    assert created['requested_scope'] == VM_ID
    (put,) = azure.writes()
    assert put['method'] == 'PUT'
    assert put['body'] == {'properties': {'roleDefinitionId': ROLE_ID, 'principalId': PUBLISHER['id'],
                                          'principalType': 'ServicePrincipal'}}
    assert TOKEN not in json.dumps(created)

    # rerun, with the scope in another case and a trailing slash
    again = run(run_main, **args(scope=VM_ID.upper().replace('SUBSCRIPTIONS', 'subscriptions') + '/',
                                 principal_id=PUBLISHER['id'].upper(), _ansible_diff=True))
    assert again['changed'] is False
    assert again['name'] == name
    assert again['diff']['before'] == again['diff']['after']
    assert len(azure.writes()) == 1

    check_absent = run(run_main, **args(scope=VM_ID, principal_id=PUBLISHER['id'], state='absent',
                                        _ansible_check_mode=True))
    assert check_absent['changed'] is True
    assert check_absent['msg'] == 'would remove role assignment %s' % name
    assert len(azure.writes()) == 1

    removed = run(run_main, **args(scope=VM_ID, principal_id=PUBLISHER['id'], state='absent', _ansible_diff=True))
    assert removed['changed'] is True
    assert removed['name'] == name
    assert removed['diff']['before']['assignment_name'] == name
    assert removed['diff']['after']['assignment_name'] is None
    assert azure.writes()[-1]['method'] == 'DELETE'
    assert azure.assignments == {}

    gone = run(run_main, **args(scope=VM_ID, principal_id=PUBLISHER['id'], state='absent'))
    assert gone['changed'] is False
    assert gone['id'] is None
    assert len(azure.writes()) == 2


def test_scope_from_parts_and_subscription_option(run_main, azure, args):
    result = run(run_main, **args(subscription_id=SUB.upper(), resource_group='rg-demo',
                                  resource_type='Microsoft.Compute/virtualMachines', resource_name='vm1',
                                  principal_id=PUBLISHER['id']))
    assert result['changed'] is True
    assert result['requested_scope'] == VM_ID
    assert urlsplit(azure.writes()[0]['path']).path.startswith(VM_ID + ASSIGNMENTS + '/')


def test_subscription_scope_from_the_environment(run_main, azure, args, monkeypatch):
    monkeypatch.setenv('AZURE_SUBSCRIPTION_ID', SUB)
    result = run(run_main, **args(principal_id=PUBLISHER['id']))
    assert result['requested_scope'] == SUB_ID
    assert result['scope'] == SUB_ID


def test_paging_finds_an_assignment_on_a_later_page(run_main, azure, args):
    for index in range(5):
        azure.add('%s/resourceGroups/rg%d' % (SUB_ID, index), PUBLISHER['id'], name='0000000%d-0000-4000-8000-000000000000'
                  % index)
    azure.add(VM_ID, PUBLISHER['id'], name='99999999-0000-4000-8000-000000000000')
    result = run(run_main, **args(scope=VM_ID, principal_id=PUBLISHER['id']))
    assert result['changed'] is False
    assert result['name'] == '99999999-0000-4000-8000-000000000000'
    assert len([r for r in azure.requests if r['method'] == 'GET']) == 3


# --- finding the principal ----------------------------------------------------------------------------

def test_app_id_is_resolved_through_graph(run_main, azure, args):
    result = run(run_main, **args(scope=RG_ID, app_id=PUBLISHER['appId'].upper()))
    assert result['changed'] is True
    assert result['principal_id'] == PUBLISHER['id']
    assert result['principal'] == {'object_id': PUBLISHER['id'], 'app_id': PUBLISHER['appId'],
                                   'display_name': 'azmon-publisher', 'resolved_from': 'app_id'}
    graph = [r for r in azure.requests if r['path'].startswith('/v1.0/')]
    assert len(graph) == 1
    assert azure.writes()[0]['body']['properties']['principalId'] == PUBLISHER['id']


def test_principal_name_is_resolved_through_graph(run_main, azure, args):
    result = run(run_main, **args(scope=RG_ID, principal_name='azmon-publisher'))
    assert result['principal_id'] == PUBLISHER['id']
    assert result['principal']['resolved_from'] == 'principal_name'


def test_ambiguous_name_fails_listing_the_candidates(run_main, azure, args):
    result = run(run_main, **args(scope=RG_ID, principal_name='twin'))
    assert result['failed'] is True
    assert '2 service principals are named' in result['msg']
    for sp in (TWIN_A, TWIN_B):
        assert sp['id'] in result['msg'] and sp['appId'] in result['msg']
    assert {c['object_id'] for c in result['candidates']} == {TWIN_A['id'], TWIN_B['id']}
    assert not [r for r in azure.requests if not r['path'].startswith('/v1.0/')]


def test_unknown_app_is_looked_up_again_then_fails(run_main, azure, args, slept):
    result = run(run_main, **args(scope=RG_ID, app_id='a0000099-0000-4000-8000-000000000099', principal_wait_timeout=10))
    assert result['failed'] is True
    assert 'no service principal with application (client) ID a0000099' in result['msg']
    assert slept == [2.0, 4.0]
    assert len(azure.requests) == 3


def test_principal_id_needs_no_graph(run_main, azure, args):
    run(run_main, **args(scope=RG_ID, principal_id=PUBLISHER['id']))
    assert not [r for r in azure.requests if r['path'].startswith('/v1.0/')]


# --- inheritance ----------------------------------------------------------------------------------------

def test_inherited_assignment_satisfies_present(run_main, azure, args):
    parent = azure.add(RG_ID.upper(), PUBLISHER['id'])
    result = run(run_main, **args(scope=VM_ID, principal_id=PUBLISHER['id']))
    assert result['changed'] is False
    assert result['inherited'] is True
    assert result['name'] == parent['name']
    assert result['scope'] == RG_ID.upper()
    assert result['requested_scope'] == VM_ID
    assert 'inherited' in result['msg']
    assert azure.writes() == []


def test_inherited_not_ok_creates_at_the_scope(run_main, azure, args):
    azure.add(RG_ID, PUBLISHER['id'])
    result = run(run_main, **args(scope=VM_ID, principal_id=PUBLISHER['id'], inherited_ok=False))
    assert result['changed'] is True
    assert result['inherited'] is False
    assert result['scope'] == VM_ID
    assert [a['scope'] for a in result['inherited_assignments']] == [RG_ID]


def test_absent_leaves_the_inherited_assignment_and_says_so(run_main, azure, args):
    parent = azure.add(RG_ID, PUBLISHER['id'])
    result = run(run_main, **args(scope=VM_ID, principal_id=PUBLISHER['id'], state='absent'))
    assert result['changed'] is False
    assert result['inherited'] is True
    assert result['id'] is None
    assert result['inherited_assignments'][0]['name'] == parent['name']
    assert 'never removes' in json.dumps(result['warnings'])
    assert 'never removes' in result['msg']
    assert azure.writes() == []
    assert parent['name'] in azure.assignments


# --- ARM's answers ------------------------------------------------------------------------------------

def test_role_assignment_exists_under_another_name_is_unchanged(run_main, azure, args):
    other = azure.add(VM_ID, PUBLISHER['id'], name='12345678-0000-4000-8000-000000000000', hidden=True)
    result = run(run_main, **args(scope=VM_ID, principal_id=PUBLISHER['id']))
    assert 'failed' not in result
    assert result['changed'] is False
    assert result['name'] == other['name']
    assert 'RoleAssignmentExists' in result['msg']
    assert [r['method'] for r in azure.writes()] == ['PUT']


def test_principal_not_found_is_waited_for(run_main, azure, args, slept):
    azure.principal_not_found = 2
    result = run(run_main, **args(scope=VM_ID, principal_id=PUBLISHER['id']))
    assert result['changed'] is True
    assert slept == [2.0, 4.0]
    assert result['stats']['replication_retries'] == 2
    assert result['stats']['replication_wait_seconds'] == 6.0
    assert [r['method'] for r in azure.writes()] == ['PUT'] * 3


def test_principal_not_found_beyond_the_timeout_fails(run_main, azure, args, slept):
    azure.principal_not_found = 100
    result = run(run_main, **args(scope=VM_ID, principal_id=PUBLISHER['id'], principal_wait_timeout=5))
    assert result['failed'] is True
    assert 'PrincipalNotFound' in result['msg']
    assert 'principal_wait_timeout' in result['msg']
    assert result['error_code'] == 'PrincipalNotFound'
    assert result['status'] == 400
    assert sum(slept) <= 5


def test_forbidden_write_names_caller_scope_and_permission(run_main, azure, args):
    azure.forbid.add('PUT')
    result = run(run_main, **args(scope=VM_ID, principal_id=PUBLISHER['id']))
    assert result['failed'] is True
    assert 'Microsoft.Authorization/roleAssignments/write' in result['msg']
    assert 'Owner, User Access Administrator or Role Based Access Control Administrator' in result['msg']
    assert CALLER_OID in result['msg']
    assert VM_ID in result['msg']
    assert result['status'] == 403
    assert result['error_code'] == 'AuthorizationFailed'
    assert result['request_id'].startswith('req-')
    assert TOKEN not in json.dumps(result)


def test_forbidden_delete_names_the_delete_permission(run_main, azure, args):
    azure.add(VM_ID, PUBLISHER['id'])
    azure.forbid.add('DELETE')
    result = run(run_main, **args(scope=VM_ID, principal_id=PUBLISHER['id'], state='absent'))
    assert result['failed'] is True
    assert 'roleAssignments/delete' in result['msg']


# --- mistakes fail before anything is sent --------------------------------------------------------------

@pytest.mark.parametrize('extra, says', [
    ({'scope': VM_ID + '/../../x', 'principal_id': PUBLISHER['id']}, "scope: "),
    ({'scope': VM_ID + '?api-version=1', 'principal_id': PUBLISHER['id']}, "'?'"),
    ({'scope': VM_ID, 'principal_id': 'azmon-publisher'}, 'principal_id must be a GUID'),
    ({'scope': VM_ID, 'app_id': 'not-a-guid'}, 'app_id must be a GUID'),
    ({'principal_id': PUBLISHER['id']}, 'scope is not set, and no subscription_id'),
    ({'subscription_id': 'abc', 'principal_id': PUBLISHER['id']}, 'subscription_id must be a GUID'),
    ({'subscription_id': SUB, 'resource_group': 'rg', 'resource_type': 'virtualMachines', 'resource_name': 'vm1',
      'principal_id': PUBLISHER['id']}, 'with its namespace'),
    ({'scope': VM_ID, 'resource_group': 'rg', 'principal_id': PUBLISHER['id']}, 'mutually exclusive'),
    ({'scope': VM_ID, 'principal_id': PUBLISHER['id'], 'app_id': PUBLISHER['appId']}, 'mutually exclusive'),
    ({'scope': VM_ID}, 'one of the following is required'),
    ({'subscription_id': SUB, 'resource_type': 'Microsoft.Compute/virtualMachines', 'resource_name': 'vm1',
      'principal_id': PUBLISHER['id']}, 'resource_group'),
    ({'scope': VM_ID, 'app_id': PUBLISHER['appId'], 'principal_type': 'User'}, 'principal_type=User needs principal_id'),
    ({'scope': VM_ID, 'principal_id': PUBLISHER['id'], 'principal_wait_timeout': -1}, 'principal_wait_timeout'),
    ({'scope': SUB_ID + '/resourceGroups/rg-demo/providers/Microsoft.Compute/virtualMachines/vm1'
      '/providers/Microsoft.Authorization/roleAssignments/x', 'principal_id': PUBLISHER['id']}, 'extension resources'),
])
def test_mistakes_fail_before_anything_is_sent(run_main, azure, args, extra, says):
    result = run(run_main, **args(**extra))
    assert result['failed'] is True
    assert says in result['msg']
    assert azure.requests == []


def test_user_principal_type_is_sent(run_main, azure, args):
    run(run_main, **args(scope=VM_ID, principal_id=PUBLISHER['id'], principal_type='User'))
    assert azure.writes()[0]['body']['properties']['principalType'] == 'User'


def test_role_ledger_grants_storage_blob_data_contributor_on_a_container_once(run_main, azure, args):
    container = RG_ID + '/providers/Microsoft.Storage/storageAccounts/stledger/blobServices/default/containers/ledger'
    sbdc = 'ba92f5b4-2d11-453d-a403-e96b0029c9fe'
    created = run(run_main, **args(role='ledger', scope=container, principal_id=PUBLISHER['id']))
    assert created['changed'] is True
    assert created['role_definition_id'] == '/subscriptions/%s/providers/Microsoft.Authorization/roleDefinitions/%s' % (
        SUB, sbdc)
    assert created['name'] == assignment_name(container, PUBLISHER['id'], sbdc)
    (put,) = azure.writes()
    assert put['body']['properties']['roleDefinitionId'].endswith('/' + sbdc)
    again = run(run_main, **args(role='ledger', scope=container, principal_id=PUBLISHER['id']))
    assert again['changed'] is False
    assert len(azure.writes()) == 1
