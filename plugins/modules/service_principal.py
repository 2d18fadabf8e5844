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
        - Reads and writes repeated within O(replication_timeout) because Microsoft Graph did not show an object
          created moments ago yet.
      type: int
    replication_wait_seconds:
      description: Seconds spent waiting between those repeats.
      type: float
'''

from ansible_collections.azmon.metrics.plugins.module_utils._graph import GraphClient
from ansible_collections.azmon.metrics.plugins.module_utils._module import auth_argspec, azure_context, run_module
from ansible_collections.azmon.metrics.plugins.module_utils._registration import Registration, check_options
from ansible_collections.azmon.metrics.plugins.module_utils._wait import Wait

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


def run(module):
    wanted = check_options(module.params, no_log=bool(module.no_log))
    ctx = azure_context(module)
    wait = Wait()
    graph = GraphClient(ctx.http, ctx.cloud['graph_endpoint'], ctx.token_source('graph_audience'),
                        consistency_wait=module.params['replication_timeout'], wait=wait)
    result = Registration(graph, wanted, check_mode=module.check_mode, no_log=bool(module.no_log),
                          warn=module.warn).run()
    result['stats'] = dict(ctx.http.stats, **wait.report())
    if not module._diff:
        result.pop('diff', None)
    return result


def main():
    spec = auth_argspec()
    spec.update(OWN_OPTIONS)
    run_module(spec, run, supports_check_mode=True, required_one_of=[['display_name', 'app_id']])


if __name__ == '__main__':
    main()
