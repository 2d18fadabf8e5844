#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) azmon.metrics contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r'''
module: metrics_publisher_role
short_description: Grant or revoke the Monitoring Metrics Publisher (or Monitoring Reader) role for a principal
description:
  - Makes sure a principal holds the built-in Azure role C(Monitoring Metrics Publisher)
    (C(3913510d-42f4-4e42-8a64-420c390055eb)) at a resource, resource group or subscription, or removes it.
  - That role carries the data action C(Microsoft.Insights/Metrics/Write) that
    M(azmon.metrics.custom_metric_emit) needs. Owner and Contributor do not include it.
  - With O(role=reader) it manages C(Monitoring Reader) (C(43d0d8ad-25c7-4714-9337-8ba259a9fe05)) the same way
    instead. That role carries the action C(Microsoft.Insights/Metrics/Read) that M(azmon.metrics.custom_metric_info)
    and the reconciliation of M(azmon.metrics.custom_metric_emit) need; the publisher role cannot read.
  - With O(role=ledger) it manages C(Storage Blob Data Contributor) (C(ba92f5b4-2d11-453d-a403-e96b0029c9fe)), which
    the shared delivery ledger of M(azmon.metrics.custom_metric_emit) (its O(azmon.metrics.custom_metric_emit#module:ledger_url))
    needs on the storage container (scope
    C(/subscriptions/{id}/resourceGroups/{rg}/providers/Microsoft.Storage/storageAccounts/{account}/blobServices/default/containers/{container}))
    or on the storage account.
  - Idempotent. The existing assignments of the principal are listed first; scopes are compared ignoring case
    and a trailing C(/), principal and role IDs ignoring case. A new assignment gets a deterministic name (a
    version 5 UUID of the normalised scope, principal and role), so reruns never create a second one, and ARM's
    C(RoleAssignmentExists) answer counts as present and unchanged.
  - C(principalType) is always sent, so ARM does not look the principal up in the directory; a principal created
    moments ago that ARM does not know yet (C(PrincipalNotFound)) is retried with backoff for up to
    O(principal_wait_timeout) seconds.
  - The signed-in principal needs C(Microsoft.Authorization/roleAssignments/write) (and C(/delete) for
    O(state=absent)) at the scope, which Owner, User Access Administrator and Role Based Access Control
    Administrator grant. Without it the task fails naming the caller, the scope and the permission.
version_added: 0.1.0
author:
  - azmon.metrics contributors (!UNKNOWN)
extends_documentation_fragment:
  - azmon.metrics.auth
  - azmon.metrics.attributes
  - azmon.metrics.attributes.check_mode_full
  - azmon.metrics.attributes.diff_mode_full
options:
  role:
    description:
      - V(publisher) manages Monitoring Metrics Publisher (sending metrics); V(reader) manages Monitoring Reader
        (reading them back); V(ledger) manages Storage Blob Data Contributor (the shared delivery ledger in Blob
        Storage). Run the module once per role.
    type: str
    default: publisher
    choices: [publisher, reader, ledger]
  state:
    description:
      - V(present) makes sure the principal holds the role at O(scope) (or, with O(inherited_ok=true), at a parent
        scope).
      - V(absent) removes the assignment of this role to this principal at exactly O(scope). An assignment at a
        parent scope is never removed; the result reports it as RV(inherited) and a warning says so.
    type: str
    default: present
    choices: [present, absent]
  scope:
    description:
      - Full ARM ID of the resource, resource group or subscription to assign the role at, for example
        C(/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg1/providers/Microsoft.Compute/virtualMachines/vm1).
      - A trailing C(/) is ignored and a missing leading C(/) is added. IDs holding C(..), C(//), C(?), C(#),
        C(%), C(\), whitespace or control characters are refused. Management group scopes and extension
        resources are not supported.
      - When set, O(subscription_id) is not used to build the scope.
      - Mutually exclusive with O(resource_group), O(resource_type) and O(resource_name). Without it the scope is
        built from O(subscription_id) (required then, which may come from the environment) and the optional
        O(resource_group), O(resource_type) and O(resource_name).
    type: str
  resource_group:
    description:
      - Resource group name. With O(subscription_id) alone it makes a resource group scope.
    type: str
  resource_type:
    description:
      - Full resource type including the provider namespace, such as C(Microsoft.Compute/virtualMachines), or a
        nested type such as C(Microsoft.Sql/servers/databases).
      - Needs O(resource_group) and O(resource_name).
    type: str
  resource_name:
    description:
      - Resource name, one per level of O(resource_type), separated by C(/) (C(vm1), or C(server1/db1) for
        C(Microsoft.Sql/servers/databases)).
      - Needs O(resource_type).
    type: str
  principal_id:
    description:
      - Object ID of the principal (for an application, the object ID of its service principal, not of the
        application object and not the client ID).
      - Used as given, without a Microsoft Graph call.
      - Exactly one of O(principal_id), O(app_id) and O(principal_name) is required.
    type: str
  app_id:
    description:
      - Application (client) ID; the service principal object ID is looked up through Microsoft Graph, which needs
        a Graph permission such as C(Application.Read.All).
      - A service principal not found is looked up again, with backoff, for up to O(principal_wait_timeout)
        seconds, for one created moments ago.
    type: str
  principal_name:
    description:
      - Display name of the service principal, looked up through Microsoft Graph like O(app_id).
      - Display names are not unique; when several service principals carry this name the task fails and lists
        them. Use O(app_id) or O(principal_id) then.
    type: str
  principal_type:
    description:
      - Type of the principal, sent to ARM as C(principalType) so that it does not have to look the principal up
        in the directory.
      - Must be V(ServicePrincipal) (for managed identities too) when O(app_id) or O(principal_name) is used.
    type: str
    default: ServicePrincipal
    choices: [ServicePrincipal, User, Group, ForeignGroup, Device]
  inherited_ok:
    description:
      - With V(true), an assignment of the role to the principal at a parent scope (resource group, subscription,
        management group, parent resource) satisfies O(state=present); nothing is created and the result has
        RV(inherited=true). This avoids redundant assignments, which count against the limit of assignments per
        subscription.
      - With V(false), an assignment at exactly O(scope) is created even when one is inherited.
      - O(state=absent) ignores this option and never removes an inherited assignment.
    type: bool
    default: true
  principal_wait_timeout:
    description:
      - How long, in seconds, to keep retrying while the principal is not known yet (Microsoft Graph finds no
        service principal, or ARM answers C(PrincipalNotFound)) because it was created moments ago and the
        directory is still replicating.
      - V(0) fails at the first such answer.
    type: int
    default: 180
notes:
  - A new role assignment can take up to 10 minutes to take effect for data actions; the first metrics sent with
    the principal may be refused with HTTP 403 until then.
  - The deterministic assignment name is C(uuid5(ns, "<scope>|<principal_id>|<role_guid>")) with the scope in
    normal form in lower case, the GUIDs in lower case and C(ns) the UUID
    C(uuid5(NAMESPACE_URL, "https://galaxy.ansible.com/azmon/metrics/role-assignment")).
seealso:
  - module: azmon.metrics.custom_metric_emit
  - module: azmon.metrics.service_principal
  - name: Monitoring Metrics Publisher built-in role
    description: The role's permissions.
    link: https://learn.microsoft.com/azure/role-based-access-control/built-in-roles/monitor#monitoring-metrics-publisher
'''

EXAMPLES = r'''
- name: Let the publisher application write metrics for one VM
  azmon.metrics.metrics_publisher_role:
    scope: "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-demo\
      /providers/Microsoft.Compute/virtualMachines/vm1"
    app_id: 11111111-1111-1111-1111-111111111111

- name: Same, scope built from parts (subscription from AZURE_SUBSCRIPTION_ID)
  azmon.metrics.metrics_publisher_role:
    resource_group: rg-demo
    resource_type: Microsoft.Compute/virtualMachines
    resource_name: vm1
    principal_name: azmon-publisher

- name: Grant at the resource group for a managed identity, by object ID
  azmon.metrics.metrics_publisher_role:
    subscription_id: 00000000-0000-0000-0000-000000000000
    resource_group: rg-demo
    principal_id: 22222222-2222-2222-2222-222222222222

- name: Assign at the VM even though the resource group already grants the role
  azmon.metrics.metrics_publisher_role:
    scope: "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-demo\
      /providers/Microsoft.Compute/virtualMachines/vm1"
    principal_id: 22222222-2222-2222-2222-222222222222
    inherited_ok: false

- name: Let the same application read the metrics back (custom_metric_info, reconciliation)
  azmon.metrics.metrics_publisher_role:
    role: reader
    scope: "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-demo\
      /providers/Microsoft.Compute/virtualMachines/vm1"
    app_id: 11111111-1111-1111-1111-111111111111

- name: Let the same application keep the shared delivery ledger in the account's containers
  azmon.metrics.metrics_publisher_role:
    role: ledger
    scope: "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-demo\
      /providers/Microsoft.Storage/storageAccounts/stdemo01"
    app_id: 11111111-1111-1111-1111-111111111111

- name: Revoke it at the VM (an assignment at the resource group stays)
  azmon.metrics.metrics_publisher_role:
    scope: "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-demo\
      /providers/Microsoft.Compute/virtualMachines/vm1"
    principal_id: 22222222-2222-2222-2222-222222222222
    state: absent
'''

RETURN = r'''
id:
  description:
    - ARM ID of the role assignment that grants the role (created, found, inherited, or removed with
      O(state=absent)); in check mode, the ID it would get.
    - V(null) when O(state=absent) found nothing at the scope, or when ARM answered C(RoleAssignmentExists) and
      the existing assignment could not be listed yet.
  returned: always
  type: str
  sample: "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-demo\
    /providers/Microsoft.Authorization/roleAssignments/6a3f1a3e-95a5-5b8a-9d0c-2c1e9c3b7f10"
name:
  description: Name (a GUID) of that role assignment.
  returned: always
  type: str
  sample: 6a3f1a3e-95a5-5b8a-9d0c-2c1e9c3b7f10
scope:
  description:
    - Scope of that role assignment as ARM reports it. Differs from RV(requested_scope) when RV(inherited=true).
  returned: always
  type: str
principal_id:
  description: Object ID of the principal (resolved through Microsoft Graph for O(app_id) and O(principal_name)).
  returned: always
  type: str
  sample: 22222222-2222-2222-2222-222222222222
role_definition_id:
  description:
    - ARM ID of the role definition (Monitoring Metrics Publisher, Monitoring Reader with O(role=reader), Storage
      Blob Data Contributor with O(role=ledger)) in the
      scope's subscription.
  returned: always
  type: str
  sample: /subscriptions/00000000-0000-0000-0000-000000000000/providers/Microsoft.Authorization/roleDefinitions/3913510d-42f4-4e42-8a64-420c390055eb
inherited:
  description:
    - With O(state=present), V(true) when the role is held through an assignment at a parent scope (RV(id) is
      that assignment) and nothing was assigned at O(scope).
    - With O(state=absent), V(true) when the principal still holds the role through a parent scope, which this
      module never removes.
  returned: always
  type: bool
inherited_assignments:
  description: Assignments of the role to the principal at parent scopes, nearest first.
  returned: always
  type: list
  elements: dict
  contains:
    id:
      description: ARM ID of the assignment.
      type: str
    name:
      description: Name of the assignment.
      type: str
    scope:
      description: Scope of the assignment.
      type: str
    principal_id:
      description: Object ID of the principal.
      type: str
    role_definition_id:
      description: Role definition ID.
      type: str
    principal_type:
      description: Principal type as ARM reports it.
      type: str
requested_scope:
  description: O(scope), or the scope built from parts, in normal form.
  returned: always
  type: str
  sample: /subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-demo
principal:
  description: How the principal was identified.
  returned: always
  type: dict
  contains:
    object_id:
      description: Object ID of the principal.
      type: str
    app_id:
      description: Application (client) ID, when looked up through Microsoft Graph.
      type: str
    display_name:
      description: Display name, when looked up through Microsoft Graph.
      type: str
    resolved_from:
      description: The option that named the principal (C(principal_id), C(app_id) or C(principal_name)).
      type: str
msg:
  description: What was done, in words.
  returned: always
  type: str
  sample: created role assignment 6a3f1a3e-95a5-5b8a-9d0c-2c1e9c3b7f10
stats:
  description: Request counts and retries.
  returned: always
  type: dict
  contains:
    requests:
      description: HTTP requests sent.
      type: int
    retries:
      description: HTTP retries (throttling, transient errors).
      type: int
    replication_retries:
      description:
        - Calls repeated within O(principal_wait_timeout) because Azure did not know a new principal yet; Microsoft
          Graph lookups that found nothing, and role assignment creations refused with C(PrincipalNotFound).
      type: int
    replication_wait_seconds:
      description: Seconds spent waiting between those repeats.
      type: float
'''

from ansible_collections.azmon.metrics.plugins.module_utils._arm import (
    MONITORING_METRICS_PUBLISHER,
    PRINCIPAL_TYPES,
    STORAGE_BLOB_DATA_CONTRIBUTOR,
    ArmClient,
    ensure_absent,
    ensure_present,
)
from ansible_collections.azmon.metrics.plugins.module_utils._errors import ConfigError
from ansible_collections.azmon.metrics.plugins.module_utils._graph import GraphClient
from ansible_collections.azmon.metrics.plugins.module_utils._metrics_read import MONITORING_READER
from ansible_collections.azmon.metrics.plugins.module_utils._module import auth_argspec, azure_context, run_module
from ansible_collections.azmon.metrics.plugins.module_utils._principal import resolve_principal
from ansible_collections.azmon.metrics.plugins.module_utils._scope import build_scope, parse_scope
from ansible_collections.azmon.metrics.plugins.module_utils._wait import Wait

ROLES = {'publisher': MONITORING_METRICS_PUBLISHER, 'reader': MONITORING_READER, 'ledger': STORAGE_BLOB_DATA_CONTRIBUTOR}
OWN_OPTIONS = {
    'role': {'type': 'str', 'default': 'publisher', 'choices': list(ROLES)},
    'state': {'type': 'str', 'default': 'present', 'choices': ['present', 'absent']},
    'scope': {'type': 'str'},
    'resource_group': {'type': 'str'},
    'resource_type': {'type': 'str'},
    'resource_name': {'type': 'str'},
    'principal_id': {'type': 'str'},
    'app_id': {'type': 'str'},
    'principal_name': {'type': 'str'},
    'principal_type': {'type': 'str', 'default': 'ServicePrincipal', 'choices': list(PRINCIPAL_TYPES)},
    'inherited_ok': {'type': 'bool', 'default': True},
    'principal_wait_timeout': {'type': 'int', 'default': 180},
}
PRINCIPAL_OPTIONS = ('principal_id', 'app_id', 'principal_name')


def requested_scope(params, plan_subscription_id):
    """The ``Scope`` from ``scope`` or from ``subscription_id`` and parts; raises before anything is sent."""
    if params.get('scope'):
        return parse_scope(params['scope'], option='scope')
    subscription_id = params.get('subscription_id') or plan_subscription_id
    if not subscription_id:
        raise ConfigError('scope is not set, and no subscription_id to build it from: set scope, or subscription_id'
                          ' (option, AZURE_SUBSCRIPTION_ID or the credentials file) with optional resource_group,'
                          ' resource_type and resource_name', option='scope')
    return build_scope(subscription_id, params.get('resource_group'), params.get('resource_type'),
                       params.get('resource_name'))


def run(module):
    params = module.params
    if params['principal_type'] != 'ServicePrincipal' and not params.get('principal_id'):
        raise ConfigError('principal_type=%s needs principal_id; app_id and principal_name always name a service'
                          ' principal' % params['principal_type'], option='principal_type')
    if params['principal_wait_timeout'] < 0:
        raise ConfigError('principal_wait_timeout must be 0 or more seconds, got %d' % params['principal_wait_timeout'],
                          option='principal_wait_timeout')
    ctx = azure_context(module)
    scope = requested_scope(params, ctx.plan.subscription_id)
    wait = Wait()
    graph = None
    if not params.get('principal_id'):
        graph = GraphClient(ctx.http, ctx.cloud['graph_endpoint'], ctx.token_source('graph_audience'), wait=wait)
    principal = resolve_principal(graph, params, params['principal_wait_timeout'], wait)
    arm = ArmClient(ctx.http, ctx.cloud['arm_endpoint'], ctx.token_source('arm_audience'), wait=wait)
    if params['state'] == 'present':
        outcome = ensure_present(arm, scope, principal['object_id'], ROLES[params['role']],
                                 principal_type=params['principal_type'], inherited_ok=params['inherited_ok'],
                                 check_mode=module.check_mode, principal_wait=params['principal_wait_timeout'])
    else:
        outcome = ensure_absent(arm, scope, principal['object_id'], ROLES[params['role']],
                                check_mode=module.check_mode)
        for note in outcome['notes']:
            module.warn(note)
    return result(params['state'], scope, principal, outcome, module.check_mode, module._diff,
                  dict(ctx.http.stats, **wait.report()))


def summary(state, outcome, check_mode):
    assignment = outcome['assignment']
    if state == 'absent':
        text = 'no assignment of the role to the principal at the scope'
        if outcome['changed']:
            text = '%s role assignment %s' % ('would remove' if check_mode else 'removed', assignment.name)
        return '; '.join([text] + outcome['notes'])
    if outcome['changed']:
        return '%s role assignment %s' % ('would create' if check_mode else 'created', assignment.name)
    if outcome['notes']:
        return outcome['notes'][0]
    return 'role already assigned at the scope (assignment %s)' % assignment.name


def result(state, scope, principal, outcome, check_mode, diff, stats):
    assignment = outcome['assignment']
    fields = assignment.to_dict() if assignment is not None else {}
    res = {
        'changed': outcome['changed'],
        'id': fields.get('id'),
        'name': fields.get('name'),
        'scope': fields.get('scope'),
        'principal_id': principal['object_id'],
        'role_definition_id': outcome['before']['role_definition_id'],
        'inherited': outcome['inherited'],
        'inherited_assignments': [a.to_dict() for a in outcome['inherited_assignments']],
        'requested_scope': scope.id,
        'principal': principal,
        'msg': summary(state, outcome, check_mode),
        'stats': stats,
    }
    if diff:
        res['diff'] = {'before': outcome['before'], 'after': outcome['after']}
    return res


def main():
    spec = auth_argspec()
    spec.update(OWN_OPTIONS)
    run_module(spec, run, supports_check_mode=True,
               mutually_exclusive=[PRINCIPAL_OPTIONS, ('scope', 'resource_group'), ('scope', 'resource_type'),
                                   ('scope', 'resource_name')],
               required_one_of=[PRINCIPAL_OPTIONS],
               required_together=[('resource_type', 'resource_name')],
               required_by={'resource_type': 'resource_group'})


if __name__ == '__main__':
    main()
