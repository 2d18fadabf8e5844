# -*- coding: utf-8 -*-
# Copyright (c) azmon.metrics contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""ARM scopes and resource IDs: parse, validate, normalise, compare; deterministic role assignment names.

Pure functions, nothing here knows about Ansible or the network.

A scope is one of::

    /subscriptions/{guid}
    /subscriptions/{guid}/resourceGroups/{group}
    /subscriptions/{guid}/resourceGroups/{group}/providers/{Namespace}/{type}/{name}[/{type}/{name}...]

The normal form has a leading ``/``, no trailing ``/``, the fixed keywords
spelled ``subscriptions``, ``resourceGroups`` and ``providers``, and the
subscription GUID in lower case; the resource group, namespace, types and
names keep the case they were given in.  ARM treats all of it
case-insensitively, so comparisons use ``scope_key()`` (the normal form in
lower case).

Validation is strict on purpose: a validated ID is pasted into request URLs,
so anything that could change the request path or query (``..``, ``//``,
``?``, ``#``, ``%``, ``\\``, whitespace, control characters, quotes) is
refused before anything is sent.
"""

from __future__ import annotations

import re
import uuid

from ansible_collections.azmon.metrics.plugins.module_utils._errors import ValidationError
from ansible_collections.azmon.metrics.plugins.module_utils._guid import is_guid, require_guid

SUBSCRIPTION = 'subscription'
RESOURCE_GROUP = 'resource_group'
RESOURCE = 'resource'
KINDS = (SUBSCRIPTION, RESOURCE_GROUP, RESOURCE)
KIND_NAMES = {SUBSCRIPTION: 'a subscription', RESOURCE_GROUP: 'a resource group', RESOURCE: 'a resource'}

# Resource group: 1-90 letters, digits, '_', '-', '.', '(' and ')' (Unicode letters and digits allowed), not
# ending with '.'.
RESOURCE_GROUP_RE = re.compile(r'^[\w\-.()]{1,90}$')
# Resource provider namespace: dotted words such as Microsoft.Compute, Microsoft.Insights, Dynatrace.Observability.
NAMESPACE_RE = re.compile(r'^[A-Za-z][A-Za-z0-9]*(?:\.[A-Za-z0-9]+)+$')
# Resource type segment: virtualMachines, storageAccounts, servers, databases, ...
TYPE_RE = re.compile(r'^[A-Za-z][A-Za-z0-9_\-]{0,127}$')
# Resource name: letters, digits (Unicode too) and a few punctuation marks that never change a URL's meaning.
NAME_RE = re.compile(r'^[\w\-.()~@!+,=:]{1,260}$')
MAX_ID_LENGTH = 4096
FORBIDDEN = (
    ('..', "'..'"),
    ('//', "'//'"),
    ('?', "'?'"),
    ('#', "'#'"),
    ('%', "'%' (give the ID unencoded)"),
    ('\\', "'\\'"),
)

ROLE_ASSIGNMENT_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, 'https://galaxy.ansible.com/azmon/metrics/role-assignment')


class Scope:
    """A validated ARM scope.  ``id`` is the normal form; compare with ``key`` (lower case)."""

    __slots__ = ('kind', 'subscription_id', 'resource_group', 'namespace', 'types', 'names')

    def __init__(self, kind, subscription_id, resource_group=None, namespace=None, types=(), names=()):
        self.kind = kind
        self.subscription_id = subscription_id
        self.resource_group = resource_group
        self.namespace = namespace
        self.types = tuple(types)
        self.names = tuple(names)

    @property
    def id(self):
        parts = ['', 'subscriptions', self.subscription_id]
        if self.resource_group is not None:
            parts += ['resourceGroups', self.resource_group]
        if self.namespace is not None:
            parts += ['providers', self.namespace]
            for type_, name in zip(self.types, self.names):
                parts += [type_, name]
        return '/'.join(parts)

    @property
    def key(self):
        return self.id.lower()

    @property
    def resource_type(self):
        """``Microsoft.Sql/servers/databases`` for a resource, ``None`` otherwise."""
        if self.namespace is None:
            return None
        return '/'.join((self.namespace,) + self.types)

    def __eq__(self, other):
        return isinstance(other, Scope) and other.key == self.key

    def __ne__(self, other):
        return not self == other

    def __hash__(self):
        return hash(self.key)

    def __repr__(self):
        return 'Scope(%r)' % self.id

    def __str__(self):
        return self.id


def _fail(option, value, rule):
    raise ValidationError('%s: %r is not a valid ARM ID: %s' % (option, value, rule), option=option)


def _check_text(value, option):
    if not isinstance(value, str):
        raise ValidationError('%s must be a string, got %s' % (option, type(value).__name__), option=option)
    if not value.strip():
        raise ValidationError('%s must not be empty' % option, option=option)
    if len(value) > MAX_ID_LENGTH:
        _fail(option, value[:80] + '...', 'longer than %d characters' % MAX_ID_LENGTH)
    for char in value:
        if ord(char) < 0x20 or ord(char) == 0x7f or 0x80 <= ord(char) < 0xa0 or char.isspace():
            _fail(option, value, 'it contains whitespace or a control character (%r)' % char)
    for text, label in FORBIDDEN:
        if text in value:
            _fail(option, value, 'it contains %s' % label)


def parse_scope(value, kinds=KINDS, option='scope'):
    """Validate an ARM scope and return a ``Scope``.

    ``kinds`` lists what is accepted (``subscription``, ``resource_group``,
    ``resource``).  One trailing ``/`` is ignored and a missing leading ``/``
    is added.  Raises ``ValidationError`` naming ``option`` and the rule broken.
    """
    _check_text(value, option)
    text = value
    if text.endswith('/'):
        text = text[:-1]
    if not text.startswith('/'):
        text = '/' + text
    parts = text.split('/')[1:]
    if not parts or parts[0].lower() != 'subscriptions':
        if parts and parts[0].lower() == 'providers':
            _fail(option, value, 'management group and tenant scopes are not supported; give a subscription,'
                  ' resource group or resource ID starting with /subscriptions/')
        _fail(option, value, "it must start with '/subscriptions/{subscription GUID}'")
    if len(parts) < 2 or not is_guid(parts[1]):
        _fail(option, value, 'the subscription must be a GUID, got %r' % (parts[1] if len(parts) > 1 else ''))
    subscription_id = parts[1].lower()
    scope = None
    if len(parts) == 2:
        scope = Scope(SUBSCRIPTION, subscription_id)
    elif parts[2].lower() == 'providers':
        _fail(option, value, 'resources directly under a subscription (without a resource group) are not supported')
    elif parts[2].lower() != 'resourcegroups':
        _fail(option, value, "expected 'resourceGroups' after the subscription, got %r" % parts[2])
    elif len(parts) < 4:
        _fail(option, value, 'the resource group name is missing')
    else:
        group = _check_resource_group(parts[3], option, value)
        if len(parts) == 4:
            scope = Scope(RESOURCE_GROUP, subscription_id, group)
        else:
            scope = _parse_resource(parts[4:], subscription_id, group, option, value)
    if scope.kind not in kinds:
        wanted = ' or '.join(KIND_NAMES[k] for k in kinds)
        _fail(option, value, 'this is %s ID; %s ID is required here' % (KIND_NAMES[scope.kind], wanted))
    return scope


def _check_resource_group(group, option, value):
    if not RESOURCE_GROUP_RE.match(group) or group.endswith('.'):
        _fail(option, value, 'resource group name %r breaks the rules (1-90 letters, digits, _ - . ( ),'
              ' not ending with a period)' % group)
    return group


def _parse_resource(parts, subscription_id, group, option, value):
    if parts[0].lower() != 'providers':
        _fail(option, value, "expected 'providers' after the resource group, got %r" % parts[0])
    if len(parts) < 2 or not NAMESPACE_RE.match(parts[1]):
        _fail(option, value, 'the resource provider namespace must look like Microsoft.Compute, got %r'
              % (parts[1] if len(parts) > 1 else ''))
    pairs = parts[2:]
    if not pairs:
        _fail(option, value, 'a resource type and name must follow the provider namespace')
    if len(pairs) % 2:
        _fail(option, value, 'resource types and names must come in pairs (type/name), got %d segment(s) after %s'
              % (len(pairs), parts[1]))
    types = pairs[0::2]
    names = pairs[1::2]
    for type_ in types:
        if type_.lower() == 'providers':
            _fail(option, value, "extension resources (a second '/providers/' segment) are not supported here")
        if not TYPE_RE.match(type_):
            _fail(option, value, 'resource type %r must be letters and digits, starting with a letter' % type_)
    for name in names:
        if not NAME_RE.match(name) or set(name) == {'.'}:
            _fail(option, value, 'resource name %r may hold only letters, digits and - . _ ( ) ~ @ ! + , = :' % name)
    return Scope(RESOURCE, subscription_id, group, parts[1], types, names)


def parse_resource_id(value, option='resource_id'):
    """Validate a full ARM resource ID (a resource, not a subscription or resource group); returns a ``Scope``."""
    return parse_scope(value, kinds=(RESOURCE,), option=option)


def build_scope(subscription_id, resource_group=None, resource_type=None, resource_name=None):
    """A ``Scope`` from parts, each validated and named by its option in errors.

    ``resource_type`` is the full type with its namespace
    (``Microsoft.Compute/virtualMachines``, nested ``Microsoft.Sql/servers/databases``);
    ``resource_name`` holds one name per type level (``vm1``, ``server1/db1``).
    """
    subscription_id = require_guid(subscription_id, 'subscription_id')
    if resource_group is None:
        if resource_type is not None or resource_name is not None:
            raise ValidationError('resource_type and resource_name need resource_group', option='resource_group')
        return Scope(SUBSCRIPTION, subscription_id)
    for option, text in (('resource_group', resource_group), ('resource_type', resource_type),
                         ('resource_name', resource_name)):
        if text is not None:
            _check_text(text, option)
            if text.startswith('/') or text.endswith('/'):
                raise ValidationError('%s: %r must not start or end with /' % (option, text), option=option)
    if '/' in resource_group or not RESOURCE_GROUP_RE.match(resource_group) or resource_group.endswith('.'):
        raise ValidationError('resource_group: %r breaks the rules (1-90 letters, digits, _ - . ( ), not ending'
                              ' with a period)' % resource_group, option='resource_group')
    if resource_type is None and resource_name is None:
        return Scope(RESOURCE_GROUP, subscription_id, resource_group)
    if resource_type is None or resource_name is None:
        raise ValidationError('resource_type and resource_name go together', option='resource_type')
    type_parts = resource_type.split('/')
    name_parts = resource_name.split('/')
    if len(type_parts) < 2 or not NAMESPACE_RE.match(type_parts[0]):
        raise ValidationError('resource_type: %r must be the full type with its namespace, like'
                              ' Microsoft.Compute/virtualMachines' % resource_type, option='resource_type')
    if len(type_parts) - 1 != len(name_parts):
        raise ValidationError('resource_name: %r has %d name(s) but resource_type %r has %d type level(s); give'
                              ' one name per level, like server1/db1 for Microsoft.Sql/servers/databases'
                              % (resource_name, len(name_parts), resource_type, len(type_parts) - 1),
                              option='resource_name')
    segments = [type_parts[0]]
    for type_, name in zip(type_parts[1:], name_parts):
        segments += [type_, name]
    text = '/subscriptions/%s/resourceGroups/%s/providers/%s' % (subscription_id, resource_group, '/'.join(segments))
    return parse_scope(text, kinds=(RESOURCE,), option='resource_type/resource_name')


def scope_key(value):
    """The comparison key of any scope text ARM returns: leading ``/``, no trailing ``/``, lower case.

    Unlike ``parse_scope`` this never fails: ARM's own answers may hold
    scopes this module does not accept as input (management groups, ``/``).
    """
    text = (value or '').strip().rstrip('/').lower()
    if not text.startswith('/'):
        text = '/' + text
    return text


def relation(assigned, requested):
    """Where scope ``assigned`` stands relative to scope ``requested``.

    ``'exact'``, ``'above'`` (a parent: ``requested`` inherits from it),
    ``'below'`` (a child), or ``None`` (unrelated).  The tenant root ``/`` and
    management group scopes are above every subscription scope.
    """
    outer = scope_key(str(assigned))
    inner = scope_key(str(requested))
    if outer == inner:
        return 'exact'
    if outer == '/' or outer.startswith('/providers/microsoft.management/managementgroups/'):
        return 'above' if inner.startswith('/subscriptions/') else None
    if inner.startswith(outer + '/'):
        return 'above'
    if outer.startswith(inner + '/'):
        return 'below'
    return None


def role_guid(value, option='role_definition_id'):
    """The role definition GUID (lower case) from a GUID or a ``.../roleDefinitions/{guid}`` ID."""
    if not isinstance(value, str) or not value:
        raise ValidationError('%s must be a role definition GUID or ID, got %r' % (option, value), option=option)
    last = value.rstrip('/').rsplit('/', 1)[-1]
    if not is_guid(last):
        raise ValidationError('%s must end with a role definition GUID, got %r' % (option, value), option=option)
    return last.lower()


def role_definition_id(subscription_id, guid):
    """``/subscriptions/{sub}/providers/Microsoft.Authorization/roleDefinitions/{guid}`` as ARM wants it."""
    return '/subscriptions/%s/providers/Microsoft.Authorization/roleDefinitions/%s' % (
        require_guid(subscription_id, 'subscription_id'), require_guid(guid, 'role definition'))


def assignment_name(scope, principal_id, role):
    """The deterministic role assignment name: a UUID (version 5) of scope, principal and role.

    The input is ``scope_key(scope)|principal GUID|role GUID``, all lower case,
    so the same triple always gives the same name, whatever case or trailing
    slash the caller used, and any difference gives another name.
    """
    principal = require_guid(principal_id, 'principal_id')
    key = '%s|%s|%s' % (scope_key(str(scope)), principal, role_guid(role))
    return str(uuid.uuid5(ROLE_ASSIGNMENT_NAMESPACE, key))
