# -*- coding: utf-8 -*-
# Copyright (c) azmon.metrics contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Azure Resource Manager role assignments: a client and the idempotent present/absent logic.

Nothing here knows about Ansible.  ``ArmClient`` takes an ``HttpClient``, the
ARM endpoint and a ``TokenSource`` for the ARM audience and raises the
collection's typed errors, with ARM's answers that need a specific reaction
as subclasses of ``ServiceError``: ``RoleAssignmentExists``,
``PrincipalNotFound`` and ``AuthorizationFailed`` (matched on the error code
and status, never on the message text, which ARM changes).

``ensure_present`` and ``ensure_absent`` decide what to do from the listed
assignments and return a plain outcome dict; they never act on an inherited
assignment.
"""

from __future__ import annotations

import dataclasses
from urllib.parse import quote

from ansible_collections.azmon.metrics.plugins.module_utils import _jwt
from ansible_collections.azmon.metrics.plugins.module_utils._errors import AzmonError, ServiceError, ValidationError
from ansible_collections.azmon.metrics.plugins.module_utils._guid import is_guid, require_guid
from ansible_collections.azmon.metrics.plugins.module_utils._http import quote_path
from ansible_collections.azmon.metrics.plugins.module_utils._scope import (
    Scope,
    assignment_name,
    parse_scope,
    relation,
    role_definition_id,
    role_guid,
    scope_key,
)
from ansible_collections.azmon.metrics.plugins.module_utils._wait import Wait

SERVICE = 'Azure Resource Manager'
API_VERSION = '2022-04-01'
MONITORING_METRICS_PUBLISHER = '3913510d-42f4-4e42-8a64-420c390055eb'
# Read and write blobs: what the shared delivery ledger (custom_metric_emit ledger_url) needs on its container.
STORAGE_BLOB_DATA_CONTRIBUTOR = 'ba92f5b4-2d11-453d-a403-e96b0029c9fe'
PRINCIPAL_TYPES = ('ServicePrincipal', 'User', 'Group', 'ForeignGroup', 'Device')
ASSIGNMENTS_PATH = '/providers/Microsoft.Authorization/roleAssignments'
MAX_PAGES = 200
WRITE_ROLES = 'Owner, User Access Administrator or Role Based Access Control Administrator'
NEEDED = {
    'read': ('Microsoft.Authorization/roleAssignments/read', 'Reader (and most other roles)'),
    'write': ('Microsoft.Authorization/roleAssignments/write', WRITE_ROLES),
    'delete': ('Microsoft.Authorization/roleAssignments/delete', WRITE_ROLES),
}


class RoleAssignmentExists(ServiceError):
    """409 RoleAssignmentExists: the same scope, principal and role are assigned under another name."""


class PrincipalNotFound(ServiceError):
    """400 PrincipalNotFound: ARM does not know the principal (yet: directory replication)."""


class AuthorizationFailed(ServiceError):
    """403: the signed-in caller lacks the permission for this call at this scope."""


@dataclasses.dataclass(repr=False, eq=False)
class Assignment:
    """One role assignment as ARM returns it, with the fields this collection compares."""

    id: str
    name: str
    scope: str
    principal_id: str
    role_definition_id: str
    principal_type: str | None = None

    @classmethod
    def from_arm(cls, doc):
        props = (doc or {}).get('properties') or {}
        assignment_id = doc.get('id') or ''
        scope = props.get('scope')
        if scope is None and '/providers/microsoft.authorization/roleassignments/' in assignment_id.lower():
            scope = assignment_id[:assignment_id.lower().rindex('/providers/microsoft.authorization/roleassignments/')]
        return cls(assignment_id, doc.get('name'), scope if scope is not None else '', props.get('principalId') or '',
                   props.get('roleDefinitionId') or '', props.get('principalType'))

    @property
    def role_guid(self):
        last = (self.role_definition_id or '').rstrip('/').rsplit('/', 1)[-1]
        return last.lower()

    def matches(self, principal_id, role):
        return (self.principal_id or '').lower() == principal_id.lower() and self.role_guid == role.lower()

    def to_dict(self):
        return dataclasses.asdict(self)

    def __repr__(self):
        return 'Assignment(%r)' % self.id


def describe_caller(claims):
    """A short description of the signed-in principal from its token claims (never the token)."""
    parts = []
    name = claims.get('upn') or claims.get('unique_name') or claims.get('name')
    if name:
        parts.append(str(name))
    if claims.get('oid'):
        parts.append('object ID %s' % claims['oid'])
    app = claims.get('appid') or claims.get('azp')
    if app:
        parts.append('application ID %s' % app)
    if not parts:
        return 'the signed-in principal'
    return 'the signed-in principal (%s)' % ', '.join(parts)


class ArmClient:
    """The role assignment calls of ARM (api-version 2022-04-01).

    ``wait`` (a ``_wait.Wait``, shared with the module's other clients)
    paces and counts the repeats after ``PrincipalNotFound``.
    """

    def __init__(self, http, endpoint, token, api_version=API_VERSION, wait=None):
        if not endpoint:
            raise ValidationError('arm_endpoint is empty')
        self.http = http
        self.endpoint = endpoint.rstrip('/')
        self.token = token
        self.api_version = api_version
        self.wait = wait or Wait()

    # ------------------------------------------------------------------ plumbing
    def _assignments_url(self, scope, name=None, query=None):
        scope_id = scope.id if isinstance(scope, Scope) else parse_scope(scope).id
        url = self.endpoint + quote_path(scope_id) + ASSIGNMENTS_PATH
        if name is not None:
            url += '/' + require_guid(name, 'role assignment name')
        url += '?api-version=' + quote(self.api_version, safe='')
        if query:
            url += '&' + query
        return url

    def caller(self):
        """Who is signed in, from the ARM token's claims, for messages."""
        try:
            return describe_caller(_jwt.claims(self.token.token()))
        except AzmonError:
            return 'the signed-in principal'

    def _denied(self, exc, action, scope):
        permission, roles = NEEDED[action]
        caller = self.caller()
        return exc.recast(AuthorizationFailed,
                          '%s: %s is not allowed to %s role assignments at scope %s (HTTP %s %s). It needs the'
                          ' permission %s at that scope, which the built-in roles %s grant when assigned there or at'
                          ' a parent scope.%s' % (
                              SERVICE, caller, action, scope, exc.status, exc.code or '', permission, roles,
                              ' ARM said: %s' % exc.message if exc.message else ''),
                          scope=str(scope), caller=caller, required_permission=permission)

    # ------------------------------------------------------------------ calls
    def list_role_assignments(self, scope, principal_id=None):
        """Every assignment ARM lists for ``scope`` (and ``principal_id``), following ``nextLink``.

        With ``principal_id`` ARM returns assignments of that principal at,
        above and below the scope; without it, ``atScope()`` (at and above).
        """
        if principal_id is not None:
            expression = "principalId eq '%s'" % require_guid(principal_id, 'principal_id')
        else:
            expression = 'atScope()'
        url = self._assignments_url(scope, query='$filter=' + quote(expression, safe=''))
        found = []
        try:
            for doc in self.http.pages(url, SERVICE, token=self.token, next_key='nextLink',
                                       what='the list of role assignments at %s' % scope, max_pages=MAX_PAGES):
                found.extend(Assignment.from_arm(item) for item in doc.get('value') or [] if isinstance(item, dict))
        except ServiceError as exc:
            if exc.status == 403:
                raise self._denied(exc, 'read', scope) from None
            raise
        return found

    def create_role_assignment(self, scope, name, role_definition, principal_id, principal_type='ServicePrincipal',
                               principal_wait=0.0):
        """PUT the assignment; returns ``(Assignment, created)``.

        ``created`` is ``False`` when ARM answers 200 (it already existed under
        this name).  A ``PrincipalNotFound`` answer is retried with backoff for
        up to ``principal_wait`` seconds.  Raises ``RoleAssignmentExists``,
        ``PrincipalNotFound``, ``AuthorizationFailed`` or ``ServiceError``.
        """
        principal_id = require_guid(principal_id, 'principal_id')
        if principal_type not in PRINCIPAL_TYPES:
            raise ValidationError('principal_type must be one of %s, got %r' % (', '.join(PRINCIPAL_TYPES), principal_type),
                                  option='principal_type')
        url = self._assignments_url(scope, name)
        body = {'properties': {'roleDefinitionId': role_definition, 'principalId': principal_id,
                               'principalType': principal_type}}
        pending, waited = None, 0.0
        for waited in self.wait.tries(principal_wait):
            try:
                resp = self.http.request('PUT', url, SERVICE, json_body=body, token=self.token, ok=(200, 201))
                return Assignment.from_arm(resp.json() or {}), resp.status == 201
            except ServiceError as exc:
                if exc.status == 403:
                    raise self._denied(exc, 'write', scope) from None
                if exc.status == 409 and exc.code == 'RoleAssignmentExists':
                    raise exc.recast(RoleAssignmentExists, exc.msg) from None
                if exc.code == 'RoleAssignmentUpdateNotPermitted':
                    raise exc.recast(ServiceError,
                                     '%s: the role assignment name %s at %s is already used for another principal or'
                                     ' role; ARM does not allow changing it (%s)' % (SERVICE, name, scope, exc.message),
                                     scope=str(scope)) from None
                if exc.code != 'PrincipalNotFound':
                    raise
                pending = exc
        raise pending.recast(
            PrincipalNotFound,
            '%s: principal %s was not found in the directory (PrincipalNotFound) after waiting %.0fs.'
            ' If it was created moments ago, raise principal_wait_timeout to wait longer for replication;'
            ' otherwise check that it is the object ID of a service principal (not an application object'
            ' ID or a client ID) in the tenant of the subscription.' % (SERVICE, principal_id, waited),
            principal_id=principal_id, waited=round(waited, 1))

    def get_resource(self, resource_id, api_version):
        """The document ARM returns for a resource (``GET {resource id}?api-version=...``); raises ``ServiceError``
        as ARM answers (404 ``ResourceNotFound``, 403 ``AuthorizationFailed``...)."""
        scope_id = resource_id.id if isinstance(resource_id, Scope) else parse_scope(resource_id).id
        url = self.endpoint + quote_path(scope_id) + '?api-version=' + quote(api_version, safe='')
        return self.http.request('GET', url, SERVICE, token=self.token, ok=(200,)).json() or {}

    def delete_role_assignment(self, scope, name):
        """DELETE the assignment named ``name`` at ``scope``; returns the deleted ``Assignment`` or ``None``."""
        url = self._assignments_url(scope, name)
        try:
            resp = self.http.request('DELETE', url, SERVICE, token=self.token, ok=(200, 204))
        except ServiceError as exc:
            if exc.status == 403:
                raise self._denied(exc, 'delete', scope) from None
            if exc.status == 404:
                return None
            raise
        if resp.status == 204 or not resp.body:
            return None
        return Assignment.from_arm(resp.json() or {})


# ---------------------------------------------------------------------- decisions
def classify(assignments, scope, principal_id, role):
    """Split the assignments of ``principal_id`` for ``role`` into ``(exact, inherited)`` relative to ``scope``.

    ``exact`` are at ``scope`` itself (case and trailing ``/`` ignored);
    ``inherited`` at a parent scope, nearest first.  Everything else
    (other principals, other roles, child or unrelated scopes) is left out.
    """
    principal_id = principal_id.lower()
    role = role_guid(role)
    exact, inherited = [], []
    for item in assignments:
        if not item.matches(principal_id, role):
            continue
        where = relation(item.scope, scope)
        if where == 'exact':
            exact.append(item)
        elif where == 'above':
            inherited.append(item)
    # Nearest first: the longest subscription-based scope, then management groups, then the tenant root.
    inherited.sort(key=lambda a: (not scope_key(a.scope).startswith('/subscriptions/'), -len(scope_key(a.scope))))
    return exact, inherited


def _state(scope, principal_id, role_id, exact, inherited):
    """The before/after picture for diff mode."""
    return {'scope': str(scope), 'principal_id': principal_id, 'role_definition_id': role_id,
            'assignment_name': exact.name if exact else None,
            'inherited_from': [a.scope for a in inherited]}


def ensure_present(client, scope, principal_id, role=MONITORING_METRICS_PUBLISHER, principal_type='ServicePrincipal',
                   inherited_ok=True, check_mode=False, principal_wait=0.0):
    """Make sure ``principal_id`` holds ``role`` at ``scope`` (a ``Scope``); returns an outcome dict.

    The outcome has ``changed``, ``assignment`` (an ``Assignment`` or ``None``
    in check mode), ``inherited``, ``inherited_assignments``, ``before``,
    ``after`` and ``notes``.
    """
    principal_id = require_guid(principal_id, 'principal_id')
    role = role_guid(role)
    role_id = role_definition_id(scope.subscription_id, role)
    exact, inherited = classify(client.list_role_assignments(scope, principal_id=principal_id), scope, principal_id, role)
    before = _state(scope, principal_id, role_id, exact[0] if exact else None, inherited)
    outcome = {'changed': False, 'assignment': None, 'inherited': False, 'inherited_assignments': inherited,
               'before': before, 'after': before, 'notes': []}
    if exact:
        outcome['assignment'] = exact[0]
        return outcome
    if inherited and inherited_ok:
        outcome.update(assignment=inherited[0], inherited=True)
        outcome['notes'].append('the role is inherited from scope %s; nothing was assigned at %s (inherited_ok=true)'
                                % (inherited[0].scope, scope))
        return outcome
    name = assignment_name(scope, principal_id, role)
    planned = Assignment('%s%s/%s' % (scope, ASSIGNMENTS_PATH, name), name, str(scope), principal_id, role_id,
                         principal_type)
    outcome['after'] = _state(scope, principal_id, role_id, planned, inherited)
    outcome['changed'] = True
    if check_mode:
        outcome['assignment'] = planned
        return outcome
    try:
        created, was_created = client.create_role_assignment(scope, name, role_id, principal_id, principal_type,
                                                             principal_wait=principal_wait)
    except RoleAssignmentExists:
        # The triple is unique: it exists under another name that the list did not show yet.
        exact, _inherited = classify(client.list_role_assignments(scope, principal_id=principal_id), scope,
                                     principal_id, role)
        outcome.update(changed=False, after=before)
        outcome['assignment'] = exact[0] if exact else None
        outcome['notes'].append('ARM answered RoleAssignmentExists: the principal already holds the role at %s under'
                                ' another assignment name' % scope)
        if exact:
            outcome['before'] = outcome['after'] = _state(scope, principal_id, role_id, exact[0], inherited)
        return outcome
    if not created.id:
        created = planned
    outcome['assignment'] = created
    if not was_created:
        outcome.update(changed=False, before=outcome['after'])
        outcome['notes'].append('the assignment %s already existed' % name)
    return outcome


def ensure_absent(client, scope, principal_id, role=MONITORING_METRICS_PUBLISHER, check_mode=False):
    """Remove ``role`` for ``principal_id`` at exactly ``scope``; never an inherited assignment.

    Returns an outcome dict like ``ensure_present``; ``assignment`` is the
    removed one (or the one that would be removed in check mode).
    """
    principal_id = require_guid(principal_id, 'principal_id')
    role = role_guid(role)
    role_id = role_definition_id(scope.subscription_id, role)
    exact, inherited = classify(client.list_role_assignments(scope, principal_id=principal_id), scope, principal_id, role)
    before = _state(scope, principal_id, role_id, exact[0] if exact else None, inherited)
    after = _state(scope, principal_id, role_id, None, inherited)
    outcome = {'changed': bool(exact), 'assignment': exact[0] if exact else None, 'inherited': bool(inherited),
               'inherited_assignments': inherited, 'before': before, 'after': after, 'notes': []}
    if inherited:
        outcome['notes'].append('the principal still holds the role through scope %s, which state=absent never'
                                ' removes; remove it there if that is intended' % ', '.join(a.scope for a in inherited))
    if check_mode:
        return outcome
    for item in exact:
        name = item.name if is_guid(item.name) else item.id.rstrip('/').rsplit('/', 1)[-1]
        client.delete_role_assignment(scope, name)
    return outcome
