# -*- coding: utf-8 -*-
# Copyright (c) azmon.metrics contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import uuid

import pytest
from hypothesis import given, settings, strategies as st

from ansible_collections.azmon.metrics.plugins.module_utils._errors import ValidationError
from ansible_collections.azmon.metrics.plugins.module_utils._scope import (
    RESOURCE,
    RESOURCE_GROUP,
    SUBSCRIPTION,
    assignment_name,
    build_scope,
    parse_resource_id,
    parse_scope,
    relation,
    role_definition_id,
    role_guid,
    scope_key,
)

SUB = '1d2c3b4a-5e6f-4a8b-9c0d-e1f2a3b4c5d6'
SUB_ID = '/subscriptions/' + SUB
RG_ID = SUB_ID + '/resourceGroups/rg-demo'
VM_ID = RG_ID + '/providers/Microsoft.Compute/virtualMachines/vm1'
DB_ID = RG_ID + '/providers/Microsoft.Sql/servers/srv1/databases/db1'
PRINCIPAL = 'c0000003-0000-4000-8000-000000000003'
MMP = '3913510d-42f4-4e42-8a64-420c390055eb'


# --- good IDs and their normal form ------------------------------------------------------------------

@pytest.mark.parametrize('text, kind, normal', [
    (SUB_ID, SUBSCRIPTION, SUB_ID),
    (SUB_ID + '/', SUBSCRIPTION, SUB_ID),
    (SUB_ID.upper(), SUBSCRIPTION, SUB_ID),
    ('subscriptions/' + SUB, SUBSCRIPTION, SUB_ID),
    (RG_ID, RESOURCE_GROUP, RG_ID),
    (RG_ID + '/', RESOURCE_GROUP, RG_ID),
    ('/SUBSCRIPTIONS/%s/RESOURCEGROUPS/rg-demo' % SUB.upper(), RESOURCE_GROUP, RG_ID),
    (SUB_ID + '/resourcegroups/RG-Demo', RESOURCE_GROUP, SUB_ID + '/resourceGroups/RG-Demo'),
    (SUB_ID + '/resourceGroups/my_rg.(prod)-1', RESOURCE_GROUP, SUB_ID + '/resourceGroups/my_rg.(prod)-1'),
    (SUB_ID + '/resourceGroups/grüppe', RESOURCE_GROUP, SUB_ID + '/resourceGroups/grüppe'),
    (VM_ID, RESOURCE, VM_ID),
    (VM_ID + '/', RESOURCE, VM_ID),
    (RG_ID + '/PROVIDERS/Microsoft.Compute/virtualMachines/vm1', RESOURCE, VM_ID),
    (RG_ID + '/providers/microsoft.compute/VIRTUALMACHINES/VM1', RESOURCE,
     RG_ID + '/providers/microsoft.compute/VIRTUALMACHINES/VM1'),
    (DB_ID, RESOURCE, DB_ID),
    (RG_ID + '/providers/Microsoft.Web/sites/app1/slots/staging', RESOURCE,
     RG_ID + '/providers/Microsoft.Web/sites/app1/slots/staging'),
    (RG_ID + '/providers/Microsoft.Insights/components/app-insights.prod_1', RESOURCE,
     RG_ID + '/providers/Microsoft.Insights/components/app-insights.prod_1'),
    (RG_ID + '/providers/Dynatrace.Observability/monitors/m1', RESOURCE,
     RG_ID + '/providers/Dynatrace.Observability/monitors/m1'),
    (RG_ID + '/providers/Microsoft.Network/dnszones/example.com', RESOURCE,
     RG_ID + '/providers/Microsoft.Network/dnszones/example.com'),
])
def test_good_ids_are_normalised(text, kind, normal):
    scope = parse_scope(text)
    assert scope.kind == kind
    assert scope.id == normal
    # the normal form parses to itself
    assert parse_scope(scope.id).id == scope.id


def test_parts_of_a_nested_resource():
    scope = parse_scope(DB_ID)
    assert scope.subscription_id == SUB
    assert scope.resource_group == 'rg-demo'
    assert scope.namespace == 'Microsoft.Sql'
    assert scope.types == ('servers', 'databases')
    assert scope.names == ('srv1', 'db1')
    assert scope.resource_type == 'Microsoft.Sql/servers/databases'


def test_scopes_compare_ignoring_case_and_trailing_slash():
    assert parse_scope(VM_ID) == parse_scope(VM_ID.upper().replace('SUBSCRIPTIONS', 'subscriptions') + '/')
    assert hash(parse_scope(VM_ID)) == hash(parse_scope(VM_ID.lower()))
    assert parse_scope(VM_ID) != parse_scope(RG_ID)


# --- bad IDs: every rule, and everything that could change the request --------------------------------

BAD = [
    ('', 'must not be empty'),
    ('   ', 'must not be empty'),
    ('/', "must start with '/subscriptions/"),
    ('/subscriptions', 'subscription must be a GUID'),
    ('/subscriptions/', 'subscription must be a GUID'),
    ('/subscriptions/not-a-guid', 'subscription must be a GUID'),
    ('/subscriptions/1d2c3b4a5e6f4a8b9c0de1f2a3b4c5d6', 'subscription must be a GUID'),
    ('/subscriptions/{%s}' % SUB, 'subscription must be a GUID'),
    ('/tenants/' + SUB, "must start with '/subscriptions/"),
    ('/providers/Microsoft.Management/managementGroups/mg1', 'management group'),
    ('https://management.azure.com' + VM_ID, "'//'"),
    ('management.azure.com' + VM_ID, "must start with '/subscriptions/"),
    (SUB_ID + '/resourceGroup/rg', "expected 'resourceGroups'"),
    (SUB_ID + '/resourceGroups', 'resource group name is missing'),
    (SUB_ID + '/resourceGroups/', 'resource group name is missing'),
    (SUB_ID + '/resourceGroups/rg.', 'not ending with a period'),
    (SUB_ID + '/resourceGroups/' + 'r' * 91, 'resource group name'),
    (SUB_ID + '/resourceGroups/rg$1', 'resource group name'),
    (SUB_ID + '/providers/Microsoft.Compute/virtualMachines/vm1', 'without a resource group'),
    (RG_ID + '/providers', 'namespace'),
    (RG_ID + '/providers/Compute/virtualMachines/vm1', 'namespace'),
    (RG_ID + '/providers/Microsoft.Compute', 'type and name must follow'),
    (RG_ID + '/providers/Microsoft.Compute/virtualMachines', 'in pairs'),
    (RG_ID + '/providers/Microsoft.Sql/servers/s1/databases', 'in pairs'),
    (RG_ID + '/resources/Microsoft.Compute/virtualMachines/vm1', "expected 'providers'"),
    (VM_ID + '/providers/Microsoft.Insights/diagnosticSettings/d1', 'extension resources'),
    (RG_ID + '/providers/Microsoft.Authorization/roleAssignments/x/providers/Microsoft.Compute/virtualMachines/vm1',
     'extension resources'),
    (RG_ID + '/providers/Microsoft.Compute/1virtualMachines/vm1', 'resource type'),
    (RG_ID + '/providers/Microsoft.Compute/virtualMachines/vm 1', 'whitespace'),
    (RG_ID + '/providers/Microsoft.Compute/virtualMachines/vm"1', 'resource name'),
    (RG_ID + "/providers/Microsoft.Compute/virtualMachines/vm'1", 'resource name'),
    (RG_ID + '/providers/Microsoft.Compute/virtualMachines/vm;1', 'resource name'),
    (RG_ID + '/providers/Microsoft.Compute/virtualMachines/vm&x=1', 'resource name'),
    (RG_ID + '/providers/Microsoft.Compute/virtualMachines/<vm>', 'resource name'),
    (RG_ID + '/providers/Microsoft.Compute/virtualMachines/.', 'resource name'),
    (RG_ID + '/providers/Microsoft.Compute/virtualMachines/' + 'v' * 261, 'resource name'),
    ('/' + 'x' * 5000, 'longer than'),
]
INJECTIONS = [
    (VM_ID + '/../../../providers/Microsoft.Authorization/roleAssignments', "'..'"),
    (RG_ID + '/providers/Microsoft.Compute/virtualMachines/..', "'..'"),
    (SUB_ID + '/resourceGroups/..', "'..'"),
    (SUB_ID + '//resourceGroups/rg', "'//'"),
    ('//' + VM_ID, "'//'"),
    (VM_ID + '//', "'//'"),
    (VM_ID + '?api-version=2015-01-01', "'?'"),
    (VM_ID + '?', "'?'"),
    (VM_ID + '#fragment', "'#'"),
    (VM_ID + '%2F%2E%2E%2F', "'%'"),
    (RG_ID + '/providers/Microsoft.Compute/virtualMachines/vm%00', "'%'"),
    (RG_ID + '/providers/Microsoft.Compute/virtualMachines/vm1\\..\\x', "'..'"),
    (RG_ID + '\\providers\\x', "'\\'"),
    (VM_ID + '\n', 'control character'),
    (VM_ID + '\r\nHost: evil.example', 'control character'),
    (VM_ID + '\x00', 'control character'),
    (VM_ID + '\x7f', 'control character'),
    (VM_ID + '\x85', 'control character'),
    (VM_ID + '\t', 'control character'),
    (VM_ID + '\u2028', 'control character'),
    (RG_ID + '/providers/Microsoft.Compute/virtualMachines/vm\u202e1', 'resource name'),
    (RG_ID + '/providers/Microsoft.Compute/virtualMachines/vm\u200b1', 'resource name'),
    (RG_ID + '/providers/Microsoft.Compute/virtualMachines/vm1&$filter=x', 'resource name'),
    (VM_ID + ' ', 'whitespace'),
    (' ' + VM_ID, 'whitespace'),
]


@pytest.mark.parametrize('text, fragment', BAD + INJECTIONS)
def test_bad_ids_are_refused_naming_the_option_and_rule(text, fragment):
    with pytest.raises(ValidationError) as info:
        parse_scope(text, option='scope')
    assert info.value.msg.startswith('scope')
    assert fragment in info.value.msg
    assert info.value.details['option'] == 'scope'


@pytest.mark.parametrize('value', [None, 42, b'/subscriptions/x', ['/subscriptions/x']])
def test_non_strings_are_refused(value):
    with pytest.raises(ValidationError, match='must be a string'):
        parse_scope(value)


# --- the resource ID check the emit module reuses ------------------------------------------------------

@pytest.mark.parametrize('text', [VM_ID, DB_ID, VM_ID.lower() + '/'])
def test_parse_resource_id_accepts_resources(text):
    assert parse_resource_id(text).kind == RESOURCE


@pytest.mark.parametrize('text, kind', [(SUB_ID, 'a subscription'), (RG_ID, 'a resource group'),
                                        (RG_ID + '/', 'a resource group')])
def test_parse_resource_id_refuses_subscription_and_group(text, kind):
    with pytest.raises(ValidationError) as info:
        parse_resource_id(text, option='resource_id')
    assert 'this is %s ID; a resource ID is required here' % kind in info.value.msg
    assert info.value.details['option'] == 'resource_id'


def test_kinds_can_be_restricted():
    with pytest.raises(ValidationError, match='a resource group or a resource ID is required'):
        parse_scope(SUB_ID, kinds=(RESOURCE_GROUP, RESOURCE))


# --- building from parts -------------------------------------------------------------------------------

@pytest.mark.parametrize('args, expected', [
    ((SUB.upper(),), SUB_ID),
    ((SUB, 'rg-demo'), RG_ID),
    ((SUB, 'rg-demo', 'Microsoft.Compute/virtualMachines', 'vm1'), VM_ID),
    ((SUB, 'rg-demo', 'Microsoft.Sql/servers/databases', 'srv1/db1'), DB_ID),
])
def test_build_scope(args, expected):
    assert build_scope(*args).id == expected


@pytest.mark.parametrize('args, option, fragment', [
    (('nope',), 'subscription_id', 'GUID'),
    ((None,), 'subscription_id', 'GUID'),
    ((SUB, None, 'Microsoft.Compute/virtualMachines', 'vm1'), 'resource_group', 'need resource_group'),
    ((SUB, 'rg/x'), 'resource_group', 'breaks the rules'),
    ((SUB, '/rg'), 'resource_group', 'must not start or end'),
    ((SUB, 'rg..x'), 'resource_group', "'..'"),
    ((SUB, 'rg?x=1'), 'resource_group', "'?'"),
    ((SUB, 'rg', 'Microsoft.Compute/virtualMachines', None), 'resource_type', 'go together'),
    ((SUB, 'rg', None, 'vm1'), 'resource_type', 'go together'),
    ((SUB, 'rg', 'virtualMachines', 'vm1'), 'resource_type', 'with its namespace'),
    ((SUB, 'rg', 'Microsoft.Compute', 'vm1'), 'resource_type', 'with its namespace'),
    ((SUB, 'rg', 'Microsoft.Sql/servers/databases', 'db1'), 'resource_name', 'one name per level'),
    ((SUB, 'rg', 'Microsoft.Compute/virtualMachines', 'a/b'), 'resource_name', 'one name per level'),
    ((SUB, 'rg', 'Microsoft.Compute/virtualMachines', 'vm1/'), 'resource_name', 'must not start or end'),
    ((SUB, 'rg', 'Microsoft.Compute/virtualMachines', '../../x'), 'resource_name', "'..'"),
    ((SUB, 'rg', 'Microsoft.Compute/virtualMachines', 'vm#1'), 'resource_name', "'#'"),
    ((SUB, 'rg', 'Microsoft.Compute/providers', 'x'), 'resource_type/resource_name', 'extension resources'),
])
def test_build_scope_refuses_bad_parts(args, option, fragment):
    with pytest.raises(ValidationError) as info:
        build_scope(*args)
    assert info.value.details['option'] == option
    assert fragment in info.value.msg


# --- comparing ---------------------------------------------------------------------------------------

@pytest.mark.parametrize('assigned, requested, expected', [
    (VM_ID, VM_ID, 'exact'),
    (VM_ID.upper(), VM_ID, 'exact'),
    (VM_ID + '/', VM_ID, 'exact'),
    ('subscriptions/' + SUB, SUB_ID + '/', 'exact'),
    (RG_ID, VM_ID, 'above'),
    (RG_ID.upper() + '/', VM_ID, 'above'),
    (SUB_ID, VM_ID, 'above'),
    (SUB_ID, RG_ID, 'above'),
    (RG_ID + '/providers/Microsoft.Sql/servers/srv1', DB_ID, 'above'),
    ('/', VM_ID, 'above'),
    ('/providers/Microsoft.Management/managementGroups/mg1', SUB_ID, 'above'),
    ('/providers/Microsoft.Management/managementGroups/mg1', VM_ID, 'above'),
    (VM_ID, RG_ID, 'below'),
    (DB_ID, SUB_ID, 'below'),
    # a prefix of the text, not of the path: rg-demo is not a parent of rg-demo2
    (RG_ID, RG_ID + '2', None),
    (RG_ID + '2', RG_ID, None),
    (SUB_ID + '/resourceGroups/rg-other', VM_ID, None),
    ('/subscriptions/00000000-0000-4000-8000-000000000000', VM_ID, None),
    ('/providers/Microsoft.Management/managementGroups/mg1', '/providers/Microsoft.Management/managementGroups/mg2', None),
])
def test_relation(assigned, requested, expected):
    assert relation(assigned, requested) == expected


def test_scope_key():
    assert scope_key(VM_ID.upper() + '/') == VM_ID.lower()
    assert scope_key('subscriptions/X') == '/subscriptions/x'
    assert scope_key(None) == '/'
    assert scope_key(str(parse_scope(VM_ID))) == scope_key(VM_ID.upper() + '/')
    assert scope_key(RG_ID) != scope_key(RG_ID + '2')


# --- role definition IDs ---------------------------------------------------------------------------

@pytest.mark.parametrize('value', [
    MMP, MMP.upper(), '/subscriptions/%s/providers/Microsoft.Authorization/roleDefinitions/%s' % (SUB, MMP.upper()),
    '/providers/Microsoft.Authorization/roleDefinitions/%s/' % MMP,
])
def test_role_guid(value):
    assert role_guid(value) == MMP


@pytest.mark.parametrize('value', ['', None, 'Monitoring Metrics Publisher', '/roleDefinitions/x'])
def test_role_guid_refuses(value):
    with pytest.raises(ValidationError):
        role_guid(value)


def test_role_definition_id():
    assert role_definition_id(SUB.upper(), MMP) == (
        '/subscriptions/%s/providers/Microsoft.Authorization/roleDefinitions/%s' % (SUB, MMP))


# --- deterministic names -----------------------------------------------------------------------------

def test_assignment_name_is_a_stable_uuid5():
    name = assignment_name(parse_scope(VM_ID), PRINCIPAL, MMP)
    assert uuid.UUID(name).version == 5
    assert name == str(uuid.UUID(name))
    # pinned: changing the derivation would create duplicate assignments for existing users
    assert name == str(uuid.uuid5(uuid.uuid5(uuid.NAMESPACE_URL, 'https://galaxy.ansible.com/azmon/metrics/role-assignment'),
                                  '%s|%s|%s' % (VM_ID.lower(), PRINCIPAL, MMP)))


@pytest.mark.parametrize('scope, principal, role', [
    (VM_ID.upper().replace('SUBSCRIPTIONS', 'subscriptions'), PRINCIPAL, MMP),
    (VM_ID + '/', PRINCIPAL.upper(), MMP.upper()),
    (parse_scope(VM_ID.lower()), PRINCIPAL, '/subscriptions/%s/providers/Microsoft.Authorization/roleDefinitions/%s'
     % (SUB, MMP)),
])
def test_assignment_name_ignores_case_slash_and_role_id_form(scope, principal, role):
    assert assignment_name(scope, principal, role) == assignment_name(parse_scope(VM_ID), PRINCIPAL, MMP)


def test_assignment_name_differs_per_input():
    base = assignment_name(VM_ID, PRINCIPAL, MMP)
    others = {
        assignment_name(RG_ID, PRINCIPAL, MMP),
        assignment_name(SUB_ID, PRINCIPAL, MMP),
        assignment_name(VM_ID, 'c0000004-0000-4000-8000-000000000004', MMP),
        assignment_name(VM_ID, PRINCIPAL, '43d0d8ad-25c7-4714-9337-8ba259a9fe05'),
        assignment_name(RG_ID + '/providers/Microsoft.Compute/virtualMachines/vm2', PRINCIPAL, MMP),
    }
    assert base not in others
    assert len(others) == 5


def test_assignment_name_refuses_non_guid_principal():
    with pytest.raises(ValidationError, match='principal_id must be a GUID'):
        assignment_name(VM_ID, 'publisher-app', MMP)


# --- properties ------------------------------------------------------------------------------------

NAME = st.text(alphabet='abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_', min_size=1, max_size=20)


@settings(max_examples=200, deadline=None)
@given(sub=st.uuids(), group=NAME, names=st.lists(NAME, min_size=0, max_size=3), upper=st.booleans(),
       slash=st.booleans())
def test_normal_form_is_stable_and_case_insensitive(sub, group, names, upper, slash):
    text = '/subscriptions/%s/resourceGroups/%s' % (sub, group)
    parents = ['/subscriptions/%s' % sub]  # every scope above, built here from the parts
    if names:
        parents.append(text)
        text += '/providers/Microsoft.Test' + ''.join('/type%d/%s' % (i, n) for i, n in enumerate(names))
        nested = ['/providers/Microsoft.Test' + ''.join('/type%d/%s' % (i, n) for i, n in enumerate(names[:depth]))
                  for depth in range(1, len(names))]
        parents += [parents[1] + tail for tail in nested]
    variant = text.upper() if upper else text
    variant += '/' if slash else ''
    scope = parse_scope(variant)
    assert scope.key == text.lower()
    assert parse_scope(scope.id).id == scope.id
    assert assignment_name(scope, PRINCIPAL, MMP) == assignment_name(text, PRINCIPAL, MMP)
    for parent in parents:
        assert relation(parent, scope) == 'above'
        assert relation(scope, parent) == 'below'


@settings(max_examples=300, deadline=None)
@given(st.text(min_size=1, max_size=40))
def test_whatever_is_accepted_cannot_change_the_request(tail):
    try:
        scope = parse_scope(RG_ID + '/providers/Microsoft.Compute/virtualMachines/' + tail)
    except ValidationError:
        return
    for bad in ('..', '//', '?', '#', '%', '\\', "'", '"', ' ', '\n', '\r', '&', ';'):
        assert bad not in scope.id
    assert all(ord(c) >= 0x20 and not c.isspace() for c in scope.id)
