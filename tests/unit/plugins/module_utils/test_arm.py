# -*- coding: utf-8 -*-
# Copyright (c) azmon.metrics contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import base64
import json
import uuid
from urllib.parse import parse_qs, unquote, urlsplit

import pytest

from ansible_collections.azmon.metrics.plugins.module_utils._arm import (
    MONITORING_METRICS_PUBLISHER,
    ArmClient,
    Assignment,
    AuthorizationFailed,
    PrincipalNotFound,
    RoleAssignmentExists,
    classify,
    describe_caller,
    ensure_absent,
    ensure_present,
)
from ansible_collections.azmon.metrics.plugins.module_utils._errors import ServiceError, ValidationError
from ansible_collections.azmon.metrics.plugins.module_utils._http import HttpClient, RetryPolicy, TokenSource
from ansible_collections.azmon.metrics.plugins.module_utils._scope import assignment_name, parse_scope
from ansible_collections.azmon.metrics.plugins.module_utils._wait import Wait

SUB = '1d2c3b4a-5e6f-4a8b-9c0d-e1f2a3b4c5d6'
SUB_ID = '/subscriptions/' + SUB
RG_ID = SUB_ID + '/resourceGroups/rg-demo'
VM_ID = RG_ID + '/providers/Microsoft.Compute/virtualMachines/vm1'
PRINCIPAL = 'c0000003-0000-4000-8000-000000000003'
OTHER = 'c0000004-0000-4000-8000-000000000004'
MMP = MONITORING_METRICS_PUBLISHER
READER = 'acdd72a7-3385-48ef-bd42-f606fba81ae7'
ROLE_ID = '/subscriptions/%s/providers/Microsoft.Authorization/roleDefinitions/%s' % (SUB, MMP)
ASSIGNMENTS = '/providers/Microsoft.Authorization/roleAssignments'


def jwt(claims):
    def part(doc):
        return base64.urlsafe_b64encode(json.dumps(doc).encode()).decode().rstrip('=')
    return '%s.%s.sig' % (part({'alg': 'RS256', 'typ': 'JWT'}), part(claims))


class StaticToken(TokenSource):
    def __init__(self, value='t0k3n'):
        self.value = value

    def token(self):
        return self.value

    def refresh(self):
        pass


def arm(server, token=None, clock=None):
    """An ArmClient on the scripted server; its waits go to ``clock`` (conftest's fake_clock), else nowhere."""
    http = HttpClient(retry=RetryPolicy(sleep=lambda s: None), timeout=5)
    wait = Wait(sleep=clock.sleep, clock=clock) if clock else Wait(sleep=lambda seconds: None)
    return ArmClient(http, server.url + '/', token or StaticToken(), wait=wait)


def doc(scope, principal=PRINCIPAL, role=MMP, name=None, principal_type='ServicePrincipal'):
    name = name or assignment_name(scope, principal, role)
    return {'id': '%s%s/%s' % (scope, ASSIGNMENTS, name), 'name': name,
            'type': 'Microsoft.Authorization/roleAssignments',
            'properties': {'scope': scope, 'principalId': principal, 'principalType': principal_type,
                           'roleDefinitionId': '/subscriptions/%s/providers/Microsoft.Authorization/roleDefinitions/%s'
                           % (SUB, role)}}


def error(code, message='whatever ARM says today'):
    return {'error': {'code': code, 'message': message}}


def query(request):
    return parse_qs(urlsplit(request['path']).query)


# --- listing ---------------------------------------------------------------------------------------

def test_list_request_shape_and_paging(scripted_server):
    server = scripted_server
    link = server.url + RG_ID + ASSIGNMENTS + '?api-version=2022-04-01&$skiptoken=abc'
    server.script = [
        (200, {}, {'value': [doc(SUB_ID)], 'nextLink': link}),
        (200, {}, {'value': [doc(RG_ID, role=READER)]}),
    ]
    found = arm(server).list_role_assignments(parse_scope(VM_ID), principal_id=PRINCIPAL.upper())
    assert [a.scope for a in found] == [SUB_ID, RG_ID]
    first, second = server.requests
    assert first['method'] == 'GET'
    assert urlsplit(first['path']).path == VM_ID + ASSIGNMENTS
    assert query(first) == {'api-version': ['2022-04-01'], '$filter': ["principalId eq '%s'" % PRINCIPAL]}
    assert '$filter=' in first['path'], 'the $ of $filter stays literal'
    assert first['headers']['Authorization'] == 'Bearer t0k3n'
    assert query(second)['$skiptoken'] == ['abc']


def test_list_without_principal_uses_at_scope(scripted_server):
    scripted_server.script = [(200, {}, {'value': []})]
    assert arm(scripted_server).list_role_assignments(VM_ID) == []
    assert query(scripted_server.requests[0])['$filter'] == ['atScope()']


def test_list_refuses_next_link_to_another_host(scripted_server):
    scripted_server.script = [(200, {}, {'value': [], 'nextLink': 'https://evil.example' + VM_ID + ASSIGNMENTS})]
    with pytest.raises(ServiceError, match='refusing to follow nextLink to another host'):
        arm(scripted_server).list_role_assignments(VM_ID, PRINCIPAL)
    assert len(scripted_server.requests) == 1


def test_list_refuses_a_next_link_loop(scripted_server):
    link = scripted_server.url + VM_ID + ASSIGNMENTS + '?api-version=2022-04-01&$skiptoken=same'
    scripted_server.script = [(200, {}, {'value': [], 'nextLink': link})] * 3
    with pytest.raises(ServiceError, match='repeats the nextLink'):
        arm(scripted_server).list_role_assignments(VM_ID, PRINCIPAL)


def test_list_403_names_the_read_permission(scripted_server):
    scripted_server.script = [(403, {'x-ms-request-id': 'req-1'}, error('AuthorizationFailed'))]
    token = StaticToken(jwt({'oid': OTHER, 'appid': 'a0000004-0000-4000-8000-000000000004'}))
    with pytest.raises(AuthorizationFailed) as info:
        arm(scripted_server, token).list_role_assignments(VM_ID, PRINCIPAL)
    assert 'Microsoft.Authorization/roleAssignments/read' in info.value.msg
    assert OTHER in info.value.msg
    assert info.value.request_id == 'req-1'


def test_list_rejects_bad_principal_and_scope_before_sending(scripted_server):
    client = arm(scripted_server)
    with pytest.raises(ValidationError):
        client.list_role_assignments(VM_ID, "x' or 1 eq 1 or principalId eq 'y")
    with pytest.raises(ValidationError):
        client.list_role_assignments(VM_ID + '/../..', PRINCIPAL)
    assert scripted_server.requests == []


# --- creating --------------------------------------------------------------------------------------

def test_create_sends_principal_type_and_reports_created(scripted_server):
    name = assignment_name(VM_ID, PRINCIPAL, MMP)
    scripted_server.script = [(201, {}, doc(VM_ID))]
    created, was_created = arm(scripted_server).create_role_assignment(parse_scope(VM_ID), name, ROLE_ID, PRINCIPAL.upper())
    assert was_created is True
    assert created.name == name
    request = scripted_server.requests[0]
    assert request['method'] == 'PUT'
    assert urlsplit(request['path']).path == '%s%s/%s' % (VM_ID, ASSIGNMENTS, name)
    assert query(request) == {'api-version': ['2022-04-01']}
    assert json.loads(request['body']) == {'properties': {'roleDefinitionId': ROLE_ID, 'principalId': PRINCIPAL,
                                                          'principalType': 'ServicePrincipal'}}


def test_create_200_means_it_already_existed(scripted_server):
    scripted_server.script = [(200, {}, doc(VM_ID))]
    _created, was_created = arm(scripted_server).create_role_assignment(
        VM_ID, assignment_name(VM_ID, PRINCIPAL, MMP), ROLE_ID, PRINCIPAL)
    assert was_created is False


def test_create_refuses_a_name_that_is_not_a_guid(scripted_server):
    with pytest.raises(ValidationError):
        arm(scripted_server).create_role_assignment(VM_ID, '../../x', ROLE_ID, PRINCIPAL)
    assert scripted_server.requests == []


@pytest.mark.parametrize('message', [
    'The role assignment already exists.',
    'A role assignment with the same principal, role and scope already exists under the ID 8f2a...',
    '',
])
def test_409_role_assignment_exists_is_typed_whatever_the_message(scripted_server, message):
    scripted_server.script = [(409, {}, error('RoleAssignmentExists', message))]
    with pytest.raises(RoleAssignmentExists) as info:
        arm(scripted_server).create_role_assignment(VM_ID, assignment_name(VM_ID, PRINCIPAL, MMP), ROLE_ID, PRINCIPAL)
    assert info.value.status == 409


def test_409_with_another_code_is_not_role_assignment_exists(scripted_server):
    scripted_server.script = [(409, {}, error('Conflict', 'The role assignment already exists.'))]
    with pytest.raises(ServiceError) as info:
        arm(scripted_server).create_role_assignment(VM_ID, assignment_name(VM_ID, PRINCIPAL, MMP), ROLE_ID, PRINCIPAL)
    assert not isinstance(info.value, RoleAssignmentExists)


def test_principal_not_found_is_retried_with_backoff(scripted_server, fake_clock):
    clock = fake_clock
    scripted_server.script = [(400, {}, error('PrincipalNotFound'))] * 3 + [(201, {}, doc(VM_ID))]
    client = arm(scripted_server, clock=clock)
    _created, was_created = client.create_role_assignment(VM_ID, assignment_name(VM_ID, PRINCIPAL, MMP), ROLE_ID,
                                                          PRINCIPAL, principal_wait=60)
    assert was_created
    assert clock.slept == [2.0, 4.0, 8.0]
    assert client.wait.report() == {'replication_retries': 3, 'replication_wait_seconds': 14.0}
    assert len(scripted_server.requests) == 4


def test_principal_not_found_gives_up_at_the_deadline(scripted_server, fake_clock):
    clock = fake_clock
    scripted_server.script = [(400, {}, error('PrincipalNotFound'))] * 10
    with pytest.raises(PrincipalNotFound) as info:
        arm(scripted_server, clock=clock).create_role_assignment(
            VM_ID, assignment_name(VM_ID, PRINCIPAL, MMP), ROLE_ID, PRINCIPAL, principal_wait=20)
    assert sum(clock.slept) <= 20
    assert clock.slept == [2.0, 4.0, 8.0]
    assert 'after waiting 14s' in info.value.msg
    assert 'principal_wait_timeout' in info.value.msg
    assert 'not an application object ID' in info.value.msg
    assert info.value.details['principal_id'] == PRINCIPAL


def test_principal_not_found_without_wait_fails_at_once(scripted_server, fake_clock):
    clock = fake_clock
    scripted_server.script = [(400, {}, error('PrincipalNotFound'))]
    with pytest.raises(PrincipalNotFound):
        arm(scripted_server, clock=clock).create_role_assignment(
            VM_ID, assignment_name(VM_ID, PRINCIPAL, MMP), ROLE_ID, PRINCIPAL, principal_wait=0)
    assert clock.slept == []
    assert len(scripted_server.requests) == 1


def test_other_400_is_not_retried(scripted_server):
    scripted_server.script = [(400, {}, error('InvalidRoleDefinitionId'))]
    with pytest.raises(ServiceError) as info:
        arm(scripted_server).create_role_assignment(VM_ID, assignment_name(VM_ID, PRINCIPAL, MMP), ROLE_ID, PRINCIPAL,
                                                    principal_wait=60)
    assert info.value.code == 'InvalidRoleDefinitionId'
    assert len(scripted_server.requests) == 1


def test_403_names_caller_scope_permission_and_roles(scripted_server):
    scripted_server.script = [(403, {'x-ms-request-id': 'req-9'},
                               error('AuthorizationFailed', "The client 'x' does not have authorization"))]
    token = StaticToken(jwt({'oid': OTHER, 'appid': 'a0000002-0000-4000-8000-000000000002', 'tid': 't'}))
    with pytest.raises(AuthorizationFailed) as info:
        arm(scripted_server, token).create_role_assignment(parse_scope(VM_ID), assignment_name(VM_ID, PRINCIPAL, MMP),
                                                           ROLE_ID, PRINCIPAL)
    msg = info.value.msg
    assert 'Microsoft.Authorization/roleAssignments/write' in msg
    assert 'Owner, User Access Administrator or Role Based Access Control Administrator' in msg
    assert 'object ID %s' % OTHER in msg
    assert 'application ID a0000002-0000-4000-8000-000000000002' in msg
    assert VM_ID in msg
    assert token.value not in msg
    result = info.value.to_result()
    assert result['status'] == 403
    assert result['error_code'] == 'AuthorizationFailed'
    assert result['request_id'] == 'req-9'
    assert result['scope'] == VM_ID
    assert result['required_permission'] == 'Microsoft.Authorization/roleAssignments/write'


def test_403_with_an_opaque_token_still_explains(scripted_server):
    scripted_server.script = [(403, {}, error('AuthorizationFailed'))]
    with pytest.raises(AuthorizationFailed, match='the signed-in principal is not allowed to write'):
        arm(scripted_server, StaticToken('not-a-jwt')).create_role_assignment(
            VM_ID, assignment_name(VM_ID, PRINCIPAL, MMP), ROLE_ID, PRINCIPAL)


def test_update_not_permitted_is_explained(scripted_server):
    scripted_server.script = [(400, {}, error('RoleAssignmentUpdateNotPermitted', 'Tenant ID, application ID, ...'))]
    with pytest.raises(ServiceError, match='already used for another principal or role'):
        arm(scripted_server).create_role_assignment(VM_ID, assignment_name(VM_ID, PRINCIPAL, MMP), ROLE_ID, PRINCIPAL)


# --- deleting --------------------------------------------------------------------------------------

def test_delete_returns_the_deleted_assignment(scripted_server):
    name = assignment_name(VM_ID, PRINCIPAL, MMP)
    scripted_server.script = [(200, {}, doc(VM_ID)), (204, {}, b''), (404, {}, error('RoleAssignmentNotFound'))]
    client = arm(scripted_server)
    assert client.delete_role_assignment(VM_ID, name).name == name
    assert client.delete_role_assignment(VM_ID, name) is None
    assert client.delete_role_assignment(VM_ID, name) is None
    assert [r['method'] for r in scripted_server.requests] == ['DELETE'] * 3
    assert urlsplit(scripted_server.requests[0]['path']).path == '%s%s/%s' % (VM_ID, ASSIGNMENTS, name)


def test_delete_403_names_the_delete_permission(scripted_server):
    scripted_server.script = [(403, {}, error('AuthorizationFailed'))]
    with pytest.raises(AuthorizationFailed, match='roleAssignments/delete'):
        arm(scripted_server).delete_role_assignment(VM_ID, assignment_name(VM_ID, PRINCIPAL, MMP))


def test_describe_caller():
    assert describe_caller({}) == 'the signed-in principal'
    assert describe_caller({'upn': 'alice@contoso.com', 'oid': 'o1'}) == \
        'the signed-in principal (alice@contoso.com, object ID o1)'
    assert describe_caller({'azp': 'app'}) == 'the signed-in principal (application ID app)'


# --- matching --------------------------------------------------------------------------------------

def assignments(*docs):
    return [Assignment.from_arm(d) for d in docs]


def test_classify_ignores_case_and_trailing_slash():
    upper = doc(VM_ID.upper(), principal=PRINCIPAL.upper(), role=MMP.upper())
    exact, inherited = classify(assignments(upper), parse_scope(VM_ID + '/'), PRINCIPAL, MMP)
    assert len(exact) == 1 and inherited == []
    exact, _inherited = classify(assignments(doc(VM_ID + '/')), parse_scope(VM_ID), PRINCIPAL, MMP)
    assert len(exact) == 1


def test_classify_inherited_nearest_first_and_ignores_the_rest():
    found = assignments(
        doc('/'),
        doc(SUB_ID),
        doc('/providers/Microsoft.Management/managementGroups/a-long-management-group-name-longer-than-a-sub'),
        doc(RG_ID.upper()),
        doc(VM_ID, principal=OTHER),                      # another principal
        doc(VM_ID, role=READER),                          # another role
        doc(VM_ID + '/providers/Microsoft.Foo/bars/b1'),  # below
        doc(SUB_ID + '/resourceGroups/rg-demo2'),         # unrelated, though a text prefix
        doc(SUB_ID + '/resourceGroups/rg-other'),         # unrelated
    )
    exact, inherited = classify(found, parse_scope(VM_ID), PRINCIPAL, ROLE_ID)
    assert exact == []
    assert [a.scope for a in inherited] == [
        RG_ID.upper(), SUB_ID, '/providers/Microsoft.Management/managementGroups/a-long-management-group-name-longer-than-a-sub',
        '/']


def test_assignment_scope_falls_back_to_the_id():
    item = Assignment.from_arm({'id': RG_ID + ASSIGNMENTS + '/x', 'name': 'x', 'properties': {
        'principalId': PRINCIPAL, 'roleDefinitionId': ROLE_ID}})
    assert item.scope == RG_ID


# --- present / absent decisions against the emulator's ARM (tests/unit/conftest.py: emu) ---------------------

NOBODY = 'c0000004-0000-4000-8000-000000000004'      # the seed's principal without any role
PUBLISHER = 'c0000003-0000-4000-8000-000000000003'   # another of the seed's principals


@pytest.fixture
def live(emu_clients):
    """The admin's (Owner of the subscription) ArmClient on a freshly reset emulator; ``.clock`` records its waits."""
    client = emu_clients.arm()
    client.emu, client.clock = emu_clients.emu, emu_clients.clock
    return client


def existing(client, scope, principal=NOBODY, role=MMP, name=None):
    """An assignment made before the test, through ARM; the emulator's request log is cleared afterwards."""
    role_id = '/subscriptions/%s/providers/Microsoft.Authorization/roleDefinitions/%s' % (SUB, role)
    client.create_role_assignment(parse_scope(scope), name or str(uuid.uuid4()), role_id, principal)
    client.emu.admin('DELETE', '/_admin/requests')


def sent(client):
    """What reached the emulator's ARM: ``(operation, path)``."""
    names = {'GET': 'list', 'PUT': 'create', 'DELETE': 'delete'}
    return [(names[r['method']], r['path']) for r in client.emu.admin('GET', '/_admin/requests?service=arm')['value']]


def ops(client):
    return [op for op, _path in sent(client)]


def test_present_exact_exists_is_unchanged(live):
    existing(live, VM_ID.upper(), name='0f0f0f0f-0000-4000-8000-000000000001')
    out = ensure_present(live, parse_scope(VM_ID), NOBODY)
    assert out['changed'] is False and out['inherited'] is False
    assert out['assignment'].name == '0f0f0f0f-0000-4000-8000-000000000001'
    assert ops(live) == ['list']
    assert out['before'] == out['after']


def test_present_creates_with_the_deterministic_name(live):
    existing(live, VM_ID, role=READER)
    live.emu.admin('POST', '/_admin/faults', {'action': 'principal_not_found', 'count': 1})
    out = ensure_present(live, parse_scope(VM_ID), NOBODY.upper(), principal_wait=42)
    name = assignment_name(VM_ID, NOBODY, MMP)
    assert out['changed'] is True
    puts = [r for r in live.emu.admin('GET', '/_admin/requests?service=arm')['value'] if r['method'] == 'PUT']
    body = {'properties': {'roleDefinitionId': ROLE_ID, 'principalId': NOBODY, 'principalType': 'ServicePrincipal'}}
    assert [(r['path'], r['json']) for r in puts] == [(VM_ID + ASSIGNMENTS + '/' + name, body)] * 2
    assert live.clock.slept == [2.0]     # principal_wait reached the client: PrincipalNotFound was waited out
    assert out['assignment'].name == name
    assert out['before']['assignment_name'] is None
    assert out['after']['assignment_name'] == name


def test_present_check_mode_predicts_without_writing(live):
    out = ensure_present(live, parse_scope(VM_ID), NOBODY, check_mode=True)
    assert out['changed'] is True
    assert ops(live) == ['list']
    assert out['assignment'].id == '%s%s/%s' % (VM_ID, ASSIGNMENTS, assignment_name(VM_ID, NOBODY, MMP))


def test_present_inherited_ok_is_satisfied_by_a_parent(live):
    existing(live, SUB_ID)
    existing(live, RG_ID)
    out = ensure_present(live, parse_scope(VM_ID), NOBODY, inherited_ok=True)
    assert out['changed'] is False
    assert out['inherited'] is True
    assert out['assignment'].scope.lower() == RG_ID.lower()
    assert [a.scope.lower() for a in out['inherited_assignments']] == [RG_ID.lower(), SUB_ID.lower()]
    assert ops(live) == ['list']


def test_present_inherited_not_ok_creates_at_the_scope(live):
    existing(live, RG_ID)
    out = ensure_present(live, parse_scope(VM_ID), NOBODY, inherited_ok=False)
    assert out['changed'] is True and out['inherited'] is False
    assert ops(live) == ['list', 'create']
    assert [scope.lower() for scope in out['after']['inherited_from']] == [RG_ID.lower()]


def test_present_role_assignment_exists_counts_as_unchanged(live):
    other_name = '99999999-0000-4000-8000-000000000009'
    existing(live, VM_ID, name=other_name)
    live.emu.admin('POST', '/_admin/faults', {'action': 'stale_read', 'count': 1})   # the first list misses it
    out = ensure_present(live, parse_scope(VM_ID), NOBODY)
    assert out['changed'] is False
    assert out['assignment'].name == other_name
    assert ops(live) == ['list', 'create', 'list']
    assert 'RoleAssignmentExists' in out['notes'][0]


def test_present_role_assignment_exists_not_listable_yet(live):
    existing(live, VM_ID)
    live.emu.admin('POST', '/_admin/faults', {'action': 'stale_read', 'count': 2})
    out = ensure_present(live, parse_scope(VM_ID), NOBODY)
    assert out['changed'] is False
    assert out['assignment'] is None


def test_present_put_200_is_unchanged(live):
    existing(live, VM_ID, name=assignment_name(VM_ID, NOBODY, MMP))
    live.emu.admin('POST', '/_admin/faults', {'action': 'stale_read', 'count': 1})   # so the PUT goes out again
    out = ensure_present(live, parse_scope(VM_ID), NOBODY)
    assert ops(live) == ['list', 'create']
    assert out['changed'] is False
    assert out['before'] == out['after']


def test_present_errors_pass_through(live, emu_clients):
    reader = emu_clients.arm('reader')     # may read role assignments, not write them
    with pytest.raises(AuthorizationFailed):
        ensure_present(reader, parse_scope(VM_ID), NOBODY)


def test_absent_removes_only_the_exact_assignment(live):
    odd = '0f0f0f0f-0000-4000-8000-000000000001'
    existing(live, VM_ID.upper(), name=odd)
    existing(live, RG_ID)
    existing(live, VM_ID, principal=PUBLISHER)
    existing(live, VM_ID, role=READER)
    out = ensure_absent(live, parse_scope(VM_ID), NOBODY)
    assert out['changed'] is True
    assert out['inherited'] is True
    assert [call for call in sent(live) if call[0] != 'list'] == [('delete', VM_ID + ASSIGNMENTS + '/' + odd)]
    assert out['before']['assignment_name'] == odd
    assert out['after']['assignment_name'] is None
    assert RG_ID.lower() in out['notes'][0].lower()


def test_absent_never_removes_an_inherited_assignment(live):
    existing(live, RG_ID)
    existing(live, SUB_ID)
    out = ensure_absent(live, parse_scope(VM_ID), NOBODY)
    assert out['changed'] is False
    assert out['inherited'] is True
    assert out['assignment'] is None
    assert ops(live) == ['list']
    assert 'never removes' in out['notes'][0]


def test_absent_nothing_there(live):
    out = ensure_absent(live, parse_scope(VM_ID), NOBODY)
    assert out == {'changed': False, 'assignment': None, 'inherited': False, 'inherited_assignments': [],
                   'before': out['after'], 'after': out['after'], 'notes': []}


def test_absent_check_mode_does_not_delete(live):
    existing(live, VM_ID)
    out = ensure_absent(live, parse_scope(VM_ID), NOBODY, check_mode=True)
    assert out['changed'] is True
    assert ops(live) == ['list']


def test_ensure_rejects_bad_principal_before_listing(live):
    with pytest.raises(ValidationError):
        ensure_present(live, parse_scope(VM_ID), 'not-a-guid')
    assert sent(live) == []


def test_path_is_never_decoded_into_something_else(scripted_server):
    """A unicode resource name goes out percent-encoded as UTF-8 and comes back as the same ID."""
    scope = parse_scope(RG_ID + '/providers/Microsoft.Web/sites/caf\u00e9')
    scripted_server.script = [(200, {}, {'value': []})]
    arm(scripted_server).list_role_assignments(scope, PRINCIPAL)
    assert unquote(urlsplit(scripted_server.requests[0]['path']).path) == scope.id + ASSIGNMENTS


def test_unicode_scope_is_percent_encoded_on_the_wire(scripted_server):
    scripted_server.script = [(200, {}, {'value': []})]
    scope = ('/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg-\u00e9t\u00e9(1)'
             '/providers/Microsoft.Compute/virtualMachines/vm-\u65e5')
    assert arm(scripted_server).list_role_assignments(parse_scope(scope)) == []
    (request,) = scripted_server.requests
    assert urlsplit(request['path']).path == (
        '/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg-%C3%A9t%C3%A9%281%29'
        '/providers/Microsoft.Compute/virtualMachines/vm-%E6%97%A5' + ASSIGNMENTS)
