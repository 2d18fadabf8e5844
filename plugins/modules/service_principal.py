#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) azmon.metrics contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r'''
module: service_principal
short_description: Ensure a Microsoft Entra application, its service principal and their credentials exist
description:
  - Ensures that an application registration and its service principal exist in Microsoft Entra ID, found by
    O(display_name) (or O(app_id)), and creates what is missing through Microsoft Graph. A rerun never makes a
    duplicate.
  - Manages, each only when asked and each idempotently, the application's federated credentials (for GitHub
    Actions, GitLab or Kubernetes OIDC sign-in without a secret), one client secret, and certificate credentials.
  - With O(state=absent) deletes the application, and with it its service principal.
  - The principal returned in RV(service_principal_object_id) is the one to give the Monitoring Metrics Publisher
    role with M(azmon.metrics.metrics_publisher_role).
  - The signed-in identity needs the Microsoft Graph permission C(Application.ReadWrite.OwnedBy) or
    C(Application.ReadWrite.All) (or a directory role such as Application Developer or Application Administrator).
  - Microsoft Graph replicates new objects with a delay; reads and writes that follow a create are retried on
    HTTP 404 for up to O(replication_timeout) seconds.
version_added: 0.1.0
author:
  - azmon.metrics maintainers (!UNKNOWN)
extends_documentation_fragment:
  - azmon.metrics.auth
  - azmon.metrics.attributes
  - azmon.metrics.attributes.check_mode_full
  - azmon.metrics.attributes.diff_mode_full
options:
  state:
    description:
      - V(present) ensures the application, its service principal and the credentials named here.
      - V(absent) deletes the application; Microsoft Entra ID deletes its service principal with it.
    type: str
    choices: [present, absent]
    default: present
  display_name:
    description:
      - The display name of the application (and of its service principal).
      - Display names are not unique in Microsoft Entra ID. When more than one application has this name the
        module fails and lists their application IDs; pass O(app_id) to choose one.
      - Required unless O(app_id) is given. With O(app_id) it is the wanted display name, and the application is
        renamed when it differs.
    type: str
  app_id:
    description:
      - The application (client) ID of an existing application, to find it without its display name.
      - An application ID is chosen by Microsoft Entra ID; when no application has it, O(state=present) fails
        and O(state=absent) changes nothing.
    type: str
  unique_name:
    description:
      - The immutable C(uniqueName) alternate key given to an application this module creates. Creation is then an
        idempotent upsert (C(PATCH /applications(uniqueName=...\)) with the header C(Prefer=create-if-missing)),
        so that a retried or concurrent run cannot create a second application even before a new application
        shows up in searches by display name.
      - When omitted it is derived from O(display_name) (case-insensitively) as C(azmon-<uuid5>).
      - An existing application with this unique name is used even if its display name was changed; it is then
        renamed back to O(display_name).
    type: str
  federated_credentials:
    description:
      - Federated identity credentials the application must have, matched by name (ignoring case).
      - A missing one is created, one whose issuer, subject, audiences or (when given) description differ is
        updated, an equal one is left alone. Others the application has are kept unless
        O(purge_federated_credentials=true).
      - An application holds at most 20; each issuer and subject pair at most once.
      - Omit the option to leave the federated credentials alone.
    type: list
    elements: dict
    suboptions:
      name:
        description:
          - Name of the credential, 3 to 120 letters, digits, C(-) or C(_), starting with a letter or digit.
            Immutable once created.
        type: str
        required: true
      issuer:
        description:
          - The https URL of the token issuer, for GitHub Actions C(https://token.actions.githubusercontent.com),
            for GitLab.com C(https://gitlab.com).
        type: str
        required: true
      subject:
        description:
          - The subject of the external token, for GitHub Actions for example C(repo:ORG/REPO:ref:refs/heads/main)
            or C(repo:ORG/REPO:environment:prod); for GitLab C(project_path:GROUP/PROJECT:ref_type:branch:ref:main).
        type: str
        required: true
      audiences:
        description:
          - The audience the external token carries. Microsoft Entra ID accepts exactly one.
        type: list
        elements: str
        default: ['api://AzureADTokenExchange']
      description:
        description:
          - A description, up to 600 characters. When omitted, an existing description is left as it is.
        type: str
  purge_federated_credentials:
    description:
      - Delete the federated credentials of the application that O(federated_credentials) does not list.
      - Only applies when O(federated_credentials) is given (an empty list then removes all of them).
    type: bool
    default: false
  client_secret:
    description:
      - A client secret (password credential) of the application, identified by its display name.
      - It is created only when the application has no unexpired secret with this display name (ignoring case),
        or when O(client_secret.rotate=true). Its text is shown by Microsoft Graph once, at creation, and cannot
        be read again; the module never reads it back.
      - 'Where the new secret goes: it is written to O(client_secret.secret_file) when that is given, and it is
        returned in RV(secret_text) only when the task runs with C(no_log: true). At least one of the two is
        required whenever a secret may be created, so that the text reaches you and never reaches a log: a
        result of a task without C(no_log) is shown with C(-v), stored by AWX and Automation Platform job events
        and written to callback logs, and masking the value in the module would make it useless to the next task.'
      - The secret never appears in the diff, in warnings or in the module's log messages.
    type: dict
    suboptions:
      display_name:
        description:
          - The display name of the secret; the key of idempotence.
        type: str
        required: true
      end_date_time:
        description:
          - When the new secret expires, ISO 8601 (V(2027-01-31T00:00:00Z)) or relative to now (V(+180d), V(+26w)).
          - Mutually exclusive with O(client_secret.lifetime_days). When neither is given, Microsoft Entra ID
            chooses (two years, unless a tenant policy says otherwise).
        type: str
      lifetime_days:
        description:
          - Lifetime of the new secret in days.
        type: int
      rotate:
        description:
          - Create a new secret even when one with this display name exists, then remove the older secrets with
            this display name. Every run with V(true) makes a new secret; use it in a task run on purpose.
        type: bool
        default: false
      secret_file:
        description:
          - A file to write a newly created secret to (the secret text only, no newline), mode C(0600), created
            atomically (a temporary file in the same directory, renamed over the target).
          - The directory must exist; it is checked before the secret is created, and if the file cannot be
            written after all, the new secret is removed again.
          - Not written when the secret already exists. The module warns when the secret exists and this file
            does not, since the text cannot be recovered (set O(client_secret.rotate=true) once to make a new one).
        type: path
  certificates:
    description:
      - Certificate credentials (public certificates) the application must have, matched by SHA-1 thumbprint.
        A missing one is added; existing certificates are kept.
      - A private key in the same PEM text is ignored and never sent.
    type: list
    elements: dict
    suboptions:
      content:
        description:
          - The PEM text of the public certificate.
          - Exactly one of O(certificates[].content) and O(certificates[].path) is required.
        type: str
      path:
        description:
          - A file holding the PEM public certificate, read on the managed node.
        type: path
      display_name:
        description:
          - The display name of the credential. Defaults to C(CN thumbprint) style text C(certificate <thumbprint>).
        type: str
  replication_timeout:
    description:
      - How long, in seconds, to keep retrying a read or write that fails with HTTP 404 because an object created
        moments ago has not replicated in Microsoft Graph yet.
    type: float
    default: 60
notes:
  - Adding a certificate replaces the application's C(keyCredentials) with the current list plus the new one, as
    Microsoft Graph offers no other way without proof of an existing private key; the module refuses when Graph
    does not return an existing certificate's key, rather than drop it.
seealso:
  - module: azmon.metrics.metrics_publisher_role
  - name: Workload identity federation
    description: Federated credentials in Microsoft Entra ID.
    link: https://learn.microsoft.com/entra/workload-id/workload-identity-federation
'''

EXAMPLES = r'''
- name: Register the publisher for GitHub Actions (no secret anywhere)
  azmon.metrics.service_principal:
    display_name: metrics-publisher
    federated_credentials:
      - name: github-main
        issuer: https://token.actions.githubusercontent.com
        subject: repo:contoso/telemetry:ref:refs/heads/main
  register: publisher

- name: Let it publish metrics on one resource
  azmon.metrics.metrics_publisher_role:
    principal_id: "{{ publisher.service_principal_object_id }}"
    scope: /subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-demo/providers/Microsoft.Compute/virtualMachines/vm1

- name: A client secret, created once, written to a file only this controller user can read
  azmon.metrics.service_principal:
    display_name: metrics-publisher
    client_secret:
      display_name: ansible
      lifetime_days: 180
      secret_file: /etc/azmon/publisher.secret

- name: A client secret handed to the next task (the task must be no_log)
  azmon.metrics.service_principal:
    display_name: metrics-publisher
    client_secret:
      display_name: vault-sync
      end_date_time: +90d
  no_log: true
  register: created

- name: Store it (runs only when a secret was created)
  ansible.builtin.debug:
    msg: store created.secret_text in your vault here
  when: created.secret_text is defined

- name: A certificate credential
  azmon.metrics.service_principal:
    display_name: metrics-publisher
    certificates:
      - path: /etc/pki/azmon/publisher.crt

- name: Remove the application and its service principal
  azmon.metrics.service_principal:
    display_name: metrics-publisher
    state: absent
'''

RETURN = r'''
app_id:
  description: The application (client) ID; V(null) when absent, or in check mode before creation.
  returned: always
  type: str
  sample: 11111111-2222-3333-4444-555555555555
application_object_id:
  description: The object ID of the application.
  returned: always
  type: str
service_principal_object_id:
  description: The object ID of the service principal, the principal ID for role assignments.
  returned: always
  type: str
display_name:
  description: The display name of the application.
  returned: always
  type: str
unique_name:
  description: The C(uniqueName) of the application, when it has one.
  returned: always
  type: str
federated_credentials:
  description: The application's federated credentials after the run (all of them, sorted by name).
  returned: when O(state=present)
  type: list
  elements: dict
  contains:
    name: {description: Name., type: str}
    issuer: {description: Issuer URL., type: str}
    subject: {description: Subject., type: str}
    audiences: {description: Audiences., type: list, elements: str}
    description: {description: 'Description, or V(null).', type: str}
client_secret:
  description: The secret with O(client_secret.display_name) that the application has after the run; never its text.
  returned: when O(client_secret) is given
  type: dict
  contains:
    display_name: {description: Display name., type: str}
    key_id: {description: 'Key ID, the handle for removing it.', type: str}
    start_date_time: {description: Valid from., type: str}
    end_date_time: {description: Expires at., type: str}
    created: {description: Whether this run created it., type: bool}
secret_text:
  description:
    - The text of a secret this run created. Sensitive. Returned only once, and only when the task runs with
      C(no_log=true); Microsoft Graph never shows it again.
  returned: when a secret was created and the task has C(no_log) set
  type: str
certificates:
  description: The certificate credentials the application has after the run.
  returned: when O(state=present)
  type: list
  elements: dict
  contains:
    thumbprint: {description: SHA-1 thumbprint (upper-case hex)., type: str}
    display_name: {description: Display name., type: str}
    key_id: {description: Key ID., type: str}
    start_date_time: {description: Valid from., type: str}
    end_date_time: {description: Expires at., type: str}
msg:
  description: One line, without any secret; the changes joined by C(; ), or that nothing needed a change.
  returned: always
  type: str
  sample: created application metrics-publisher; created service principal
changes:
  description: What this run changed (or would change in check mode), one line each.
  returned: always
  type: list
  elements: str
  sample: [created application metrics-publisher, created service principal, created federated credential github-main]
retries:
  description: How many requests were repeated (throttling, transient errors, Graph replication delay).
  returned: always
  type: int
'''

import datetime
import os
import uuid

from ansible_collections.azmon.metrics.plugins.module_utils._app_credentials import (
    SecretFile,
    certificate_view,
    federated_view,
    key_credential_thumbprints,
    new_key_credential,
    normalize_federated_credentials,
    parse_certificate_pem,
    plan_federated_credentials,
    plan_secret,
    secret_end_date,
    secret_view,
)
from ansible_collections.azmon.metrics.plugins.module_utils._errors import ServiceError, TransportError, ValidationError
from ansible_collections.azmon.metrics.plugins.module_utils._graph import GraphClient, require_guid
from ansible_collections.azmon.metrics.plugins.module_utils._module import auth_argspec, azure_context, run_module

UNIQUE_NAME_NAMESPACE = uuid.UUID('6f1d3c52-9b1e-4c3a-8a59-2f3a3c1b7e11')

OWN_OPTIONS = {
    'state': {'type': 'str', 'choices': ['present', 'absent'], 'default': 'present'},
    'display_name': {'type': 'str'},
    'app_id': {'type': 'str'},
    'unique_name': {'type': 'str'},
    'federated_credentials': {'type': 'list', 'elements': 'dict', 'options': {
        'name': {'type': 'str', 'required': True},
        'issuer': {'type': 'str', 'required': True},
        'subject': {'type': 'str', 'required': True},
        'audiences': {'type': 'list', 'elements': 'str', 'default': ['api://AzureADTokenExchange']},
        'description': {'type': 'str'},
    }},
    'purge_federated_credentials': {'type': 'bool', 'default': False},
    'client_secret': {'type': 'dict', 'no_log': False, 'options': {
        'display_name': {'type': 'str', 'required': True},
        'end_date_time': {'type': 'str'},
        'lifetime_days': {'type': 'int'},
        'rotate': {'type': 'bool', 'default': False},
        'secret_file': {'type': 'path', 'no_log': False},
    }, 'mutually_exclusive': [['end_date_time', 'lifetime_days']]},
    'certificates': {'type': 'list', 'elements': 'dict', 'options': {
        'content': {'type': 'str'},
        'path': {'type': 'path'},
        'display_name': {'type': 'str'},
    }, 'mutually_exclusive': [['content', 'path']], 'required_one_of': [['content', 'path']]},
    'replication_timeout': {'type': 'float', 'default': 60.0},
}


def derived_unique_name(display_name):
    """The uniqueName the module gives an application it creates for ``display_name`` (stable, case-insensitive)."""
    return 'azmon-%s' % uuid.uuid5(UNIQUE_NAME_NAMESPACE, display_name.strip().lower())


def check_options(params, no_log, now=None):
    """Validate what needs no network; return the prepared wanted state. Raises ``ValidationError``."""
    wanted = {'state': params['state'], 'display_name': params.get('display_name'), 'app_id': None}
    if params.get('app_id'):
        wanted['app_id'] = require_guid(params['app_id'], 'app_id')
    name = wanted['display_name']
    if name is not None and (not name.strip() or len(name) > 256):
        raise ValidationError('display_name must be 1 to 256 characters and not blank', option='display_name')
    unique = params.get('unique_name')
    if unique is not None and (not unique.strip() or len(unique) > 120):
        raise ValidationError('unique_name must be 1 to 120 characters and not blank', option='unique_name')
    wanted['unique_name'] = unique or (derived_unique_name(name) if name else None)
    if params['state'] == 'absent':
        return wanted
    if params.get('federated_credentials') is None:
        wanted['federated'] = None
    else:
        wanted['federated'] = normalize_federated_credentials(params['federated_credentials'])
    wanted['purge'] = params.get('purge_federated_credentials')
    secret = params.get('client_secret')
    if secret:
        if not secret['display_name'].strip():
            raise ValidationError('client_secret.display_name must not be blank', option='client_secret.display_name')
        if not secret.get('secret_file') and not no_log:
            raise ValidationError(
                'client_secret: a new secret could only be delivered in the task result, which is logged. Set'
                ' client_secret.secret_file to write it to a file (mode 0600), and/or run the task with'
                ' "no_log: true" to receive it in secret_text.', option='client_secret')
        if secret.get('secret_file'):
            # before anything is written to Microsoft Entra ID: a secret that could not be stored is worse than none
            SecretFile(secret['secret_file']).check()
        wanted['secret'] = dict(secret, end=secret_end_date(secret.get('end_date_time'), secret.get('lifetime_days'), now))
    else:
        wanted['secret'] = None
    certs = []
    for index, item in enumerate(params.get('certificates') or []):
        where = 'certificates[%d]' % index
        if item.get('path'):
            try:
                with open(item['path'], 'r', encoding='ascii', errors='replace') as handle:
                    text = handle.read()
            except OSError as exc:
                raise ValidationError('%s.path: cannot read %s: %s' % (where, item['path'], exc.strerror),
                                      option='certificates') from None
        else:
            text = item['content']
        cert = parse_certificate_pem(text, where)
        cert['display_name'] = item.get('display_name') or 'certificate %s' % cert['thumbprint']
        if any(c['thumbprint'] == cert['thumbprint'] for c in certs):
            raise ValidationError('%s: the same certificate is listed twice' % where, option='certificates')
        certs.append(cert)
    wanted['certificates'] = certs
    return wanted


class Registration:
    """Brings one application registration to the wanted state through a ``GraphClient``."""

    def __init__(self, graph, wanted, check_mode=False, no_log=False, warn=None):
        self.graph = graph
        self.wanted = wanted
        self.check_mode = check_mode
        self.no_log = no_log
        self.warn = warn or (lambda msg: None)
        self.changes = []

    # ------------------------------------------------------------------------- lookup
    def find_application(self):
        w = self.wanted
        if w['app_id']:
            return self.graph.application_by_app_id(w['app_id'])
        if w['unique_name']:
            app = self.graph.application_by_unique_name(w['unique_name'])
            if app is not None:
                return app
        apps = self.graph.applications_by_display_name(w['display_name'])
        if len(apps) > 1:
            raise ValidationError(
                'display_name: %d applications are named %r (appIds: %s); pass app_id to choose one'
                % (len(apps), w['display_name'], ', '.join(sorted(a.get('appId') or '?' for a in apps))),
                option='display_name', candidates=sorted(a.get('appId') for a in apps))
        return apps[0] if apps else None

    # --------------------------------------------------------------------------- run
    def run(self):
        app = self.find_application()
        if self.wanted['state'] == 'absent':
            return self.absent(app, self.snapshot(app, None, [], include_credentials=False))
        return self.present(app)

    def absent(self, app, before):
        if app is not None:
            self.changes.append('deleted application %s (%s) and its service principal'
                                % (app.get('displayName'), app.get('appId')))
            if not self.check_mode:
                self.graph.delete_application(app['id'])
        result = {'app_id': None, 'application_object_id': None, 'service_principal_object_id': None,
                  'display_name': self.wanted['display_name'] or (app or {}).get('displayName'),
                  'unique_name': None}
        return self.finish(result, before, {'state': 'absent'})

    def present(self, app):
        w = self.wanted
        if app is None and w['app_id']:
            raise ValidationError('app_id: no application has the application ID %s; an application ID cannot be'
                                  ' chosen, so omit app_id to create the application by display_name' % w['app_id'],
                                  option='app_id')
        sp = None
        existing_fics = []
        created = False
        if app is None:
            before = {'state': 'absent'}
            if self.check_mode:
                self.changes.append('created application %s' % w['display_name'])
            else:
                app, created = self.graph.create_application(w['display_name'], w['unique_name'])
                if created:
                    self.changes.append('created application %s' % w['display_name'])
        if app is not None and not created:
            sp = self.graph.service_principal_by_app_id(app['appId'])
            existing_fics = self.graph.federated_credentials(app['id'])
            before = self.snapshot(app, sp, existing_fics)
            if w['display_name'] and app.get('displayName') != w['display_name']:
                self.changes.append('renamed application %r to %r' % (app.get('displayName'), w['display_name']))
                if not self.check_mode:
                    self.graph.update_application(app['id'], {'displayName': w['display_name']})
                app = dict(app, displayName=w['display_name'])
        if sp is None:
            self.changes.append('created service principal')
            if not self.check_mode:
                sp = self.graph.ensure_service_principal(app['appId'], app.get('displayName'))
        fics_after = self.apply_federated(app, existing_fics)
        secret_result, secrets_after = self.apply_secret(app)
        certs_after = self.apply_certificates(app)
        result = {
            'app_id': (app or {}).get('appId'),
            'application_object_id': (app or {}).get('id'),
            'service_principal_object_id': (sp or {}).get('id'),
            'display_name': (app or {}).get('displayName') or w['display_name'],
            'unique_name': (app or {}).get('uniqueName') if app else w['unique_name'],
            'federated_credentials': fics_after,
            'certificates': certs_after,
        }
        result.update(secret_result)
        after = {
            'state': 'present', 'display_name': result['display_name'], 'app_id': result['app_id'],
            'service_principal': True, 'federated_credentials': fics_after,
            'client_secrets': secrets_after, 'certificates': certs_after,
        }
        return self.finish(result, before, after)

    def snapshot(self, app, sp, fics, include_credentials=True):
        if app is None:
            return {'state': 'absent'}
        snap = {'state': 'present', 'display_name': app.get('displayName'), 'app_id': app.get('appId')}
        if include_credentials:
            snap['service_principal'] = sp is not None
            snap['federated_credentials'] = sorted((federated_view(c) for c in fics), key=lambda c: c['name'] or '')
            snap['client_secrets'] = sorted((secret_view(c) for c in app.get('passwordCredentials') or []),
                                            key=lambda c: (c['display_name'] or '', c['key_id'] or ''))
            snap['certificates'] = sorted((certificate_view(c) for c in app.get('keyCredentials') or []),
                                          key=lambda c: c['thumbprint'] or '')
        return snap

    def finish(self, result, before, after):
        result['changed'] = bool(self.changes)
        result['changes'] = self.changes
        result['msg'] = self.summary(result, after)
        result['diff'] = {'before': before, 'after': after}
        return result

    def summary(self, result, after):
        """One line: the changes made (or that would be), or that nothing needed one. Never a secret."""
        name = result.get('display_name') or self.wanted.get('display_name') or self.wanted.get('app_id')
        if self.changes:
            return '%s%s' % ('check mode, would have: ' if self.check_mode else '', '; '.join(self.changes))
        if after.get('state') == 'absent':
            return 'no application %s: nothing to delete' % name
        return 'application %s (%s) and its service principal are as wanted' % (name, result.get('app_id'))

    # ------------------------------------------------------------ federated credentials
    def apply_federated(self, app, existing):
        w = self.wanted
        plan = plan_federated_credentials(existing, w.get('federated'), purge=w.get('purge'))
        final = {(c.get('name') or '').lower(): c for c in existing}
        for cred in plan['delete']:
            self.changes.append('deleted federated credential %s' % cred.get('name'))
            if not self.check_mode:
                self.graph.delete_federated_credential(app['id'], cred['id'])
            final.pop((cred.get('name') or '').lower(), None)
        for current, body, fields in plan['update']:
            self.changes.append('updated federated credential %s (%s)' % (current.get('name'), ', '.join(fields)))
            if not self.check_mode:
                self.graph.update_federated_credential(app['id'], current['id'], body)
            final[body['name'].lower()] = dict(current, **body)
        for body in plan['create']:
            self.changes.append('created federated credential %s' % body['name'])
            created = body
            if not self.check_mode:
                created = self.graph.create_federated_credential(app['id'], body) or body
            final[body['name'].lower()] = created
        return sorted((federated_view(c) for c in final.values()), key=lambda c: c['name'] or '')

    # ------------------------------------------------------------------- client secret
    def apply_secret(self, app):
        """Returns ``(result fields, secrets after)``; the secret text only goes to the file and/or the result."""
        secret = self.wanted.get('secret')
        existing = list((app or {}).get('passwordCredentials') or [])
        if not secret:
            return {}, _secret_views(existing)
        plan = plan_secret(existing, secret['display_name'], rotate=secret['rotate'])
        if not plan['create']:
            if secret.get('secret_file') and not os.path.exists(secret['secret_file']):
                self.warn('client_secret: the application already has the secret %r, but secret_file %s does not exist;'
                          ' a secret cannot be read again. Set client_secret.rotate=true once to make a new one.'
                          % (secret['display_name'], secret['secret_file']))
            return {'client_secret': dict(secret_view(plan['current']), created=False)}, _secret_views(existing)
        why = {'rotate': 'rotated', 'expired': 'created (the previous one expired)', 'missing': 'created'}[plan['reason']]
        self.changes.append('%s client secret %s' % (why, secret['display_name']))
        if plan['remove']:
            self.changes.append('removed %d older client secret(s) named %s' % (len(plan['remove']), secret['display_name']))
        remaining = [c for c in existing if c.get('keyId') not in plan['remove']]
        if self.check_mode:
            if secret.get('secret_file'):
                SecretFile(secret['secret_file']).check()
            planned = {'displayName': secret['display_name'], 'keyId': None, 'endDateTime': secret['end']}
            return {'client_secret': dict(secret_view(planned), created=True)}, _secret_views(remaining + [planned])
        writer = SecretFile(secret['secret_file']) if secret.get('secret_file') else None
        if writer:
            writer.prepare()
        try:
            cred = dict(self.graph.add_password(app['id'], secret['display_name'], secret['end']) or {})
        except BaseException:
            if writer:
                writer.abort()
            raise
        text = cred.pop('secretText', None)
        if not text:
            if writer:
                writer.abort()
            raise ServiceError('client_secret: Microsoft Graph created the secret %s (keyId %s) but returned no'
                               ' secretText' % (secret['display_name'], cred.get('keyId')))
        if writer:
            try:
                writer.commit(text)
            except OSError as exc:
                writer.abort()
                undone = self._undo_secret(app, cred)
                raise ValidationError('client_secret.secret_file: cannot write %s: %s; %s'
                                      % (secret['secret_file'], exc.strerror, undone),
                                      option='client_secret.secret_file') from None
        for key_id in plan['remove']:
            self.graph.remove_password(app['id'], key_id)
        out = {'client_secret': dict(secret_view(cred), created=True)}
        if self.no_log:
            out['secret_text'] = text
        return out, _secret_views(remaining + [cred])

    def _undo_secret(self, app, cred):
        try:
            self.graph.remove_password(app['id'], cred['keyId'])
        except (ServiceError, TransportError) as exc:
            return 'removing the new secret (keyId %s) failed too: %s' % (cred.get('keyId'), exc.msg)
        return 'the new secret was removed again'

    # --------------------------------------------------------------------- certificates
    def apply_certificates(self, app):
        existing = list((app or {}).get('keyCredentials') or [])
        views = [certificate_view(c) for c in existing]
        missing = []
        for cert in self.wanted.get('certificates') or []:
            if any(cert['thumbprint'] in key_credential_thumbprints(c) for c in existing):
                continue
            missing.append(cert)
        if not missing:
            return sorted(views, key=lambda c: c['thumbprint'] or '')
        now = datetime.datetime.now(datetime.timezone.utc)
        for cert in missing:
            if cert['not_after'] <= now:
                raise ValidationError('certificates: the certificate %s expired on %s'
                                      % (cert['thumbprint'], cert['not_after'].strftime('%Y-%m-%dT%H:%M:%SZ')),
                                      option='certificates')
            self.changes.append('added certificate %s' % cert['thumbprint'])
        new = [new_key_credential(c, c['display_name']) for c in missing]
        if not self.check_mode:
            current = self.graph.key_credentials(app['id']) if existing else []
            keep = []
            for cred in current:
                if not cred.get('key'):
                    raise ServiceError(
                        'certificates: Microsoft Graph did not return the key of the existing certificate credential'
                        ' %s (%s); adding a certificate would remove it, so nothing was changed'
                        % (cred.get('keyId'), cred.get('displayName')))
                keep.append({k: cred[k] for k in ('type', 'usage', 'key', 'displayName', 'keyId', 'customKeyIdentifier',
                                                  'startDateTime', 'endDateTime') if cred.get(k) is not None})
            self.graph.set_key_credentials(app['id'], keep + new)
        views.extend(dict(certificate_view(n, thumbprint=c['thumbprint']), key_id=None) for n, c in zip(new, missing))
        return sorted(views, key=lambda c: c['thumbprint'] or '')


def _secret_views(creds):
    return sorted((secret_view(c) for c in creds), key=lambda c: (c['display_name'] or '', c['key_id'] or ''))


def run(module):
    wanted = check_options(module.params, no_log=bool(module.no_log))
    ctx = azure_context(module)
    graph = GraphClient(ctx.http, ctx.cloud['graph_endpoint'], ctx.token_source('graph_audience'),
                        consistency_wait=module.params['replication_timeout'])
    result = Registration(graph, wanted, check_mode=module.check_mode, no_log=bool(module.no_log),
                          warn=module.warn).run()
    result['retries'] = ctx.http.stats['retries'] + graph.replication_retries
    if not module._diff:
        result.pop('diff', None)
    return result


def main():
    spec = auth_argspec()
    spec.update(OWN_OPTIONS)
    run_module(spec, run, supports_check_mode=True, required_one_of=[['display_name', 'app_id']])


if __name__ == '__main__':
    main()
