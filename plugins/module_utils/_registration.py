# -*- coding: utf-8 -*-
# Copyright (c) azmon.metrics contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""One application registration brought to a wanted state through Microsoft Graph.

``check_options`` turns the options of ``service_principal`` into the wanted
state, checking all that needs no network; ``Registration`` finds the
application, decides and makes each change through a ``GraphClient``, and
returns the result with its diff.  The decisions about each credential live in
``_app_credentials``.  Nothing here knows about Ansible: warnings go to the
``warn`` callable given.
"""

from __future__ import annotations

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
from ansible_collections.azmon.metrics.plugins.module_utils._guid import require_guid

UNIQUE_NAME_NAMESPACE = uuid.UUID('6f1d3c52-9b1e-4c3a-8a59-2f3a3c1b7e11')


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
