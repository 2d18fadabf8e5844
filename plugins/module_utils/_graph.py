# -*- coding: utf-8 -*-
# Copyright (c) azmon.metrics contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A small Microsoft Graph client: applications, service principals and their credentials.

Nothing here knows about Ansible.  It takes an ``HttpClient``, the Graph
endpoint (``https://graph.microsoft.com``) and a ``TokenSource`` for the Graph
audience, and raises the collection's typed errors.

Every value that goes into a URL is either checked (object ids and app ids
must be GUIDs) or quoted for its place (OData string literals double ``'``
and are percent-encoded), so no option value can change the request path.
"""

from __future__ import annotations

from urllib.parse import quote

from ansible_collections.azmon.metrics.plugins.module_utils._errors import ServiceError, ValidationError
from ansible_collections.azmon.metrics.plugins.module_utils._guid import require_guid
from ansible_collections.azmon.metrics.plugins.module_utils._wait import Wait

SERVICE = 'Microsoft Graph'
MAX_PAGES = 100
# Graph usually shows a new directory object within seconds: short pauses (1, 2, 4, 8, 10, 10... seconds).
FIRST_PAUSE = 1.0
LONGEST_PAUSE = 10.0


def odata_string(value):
    """An OData string literal: single quotes around ``value`` with every ``'`` doubled."""
    if not isinstance(value, str):
        raise ValidationError('expected a string for an OData literal, got %r' % (value,))
    return "'" + value.replace("'", "''") + "'"


def encode_query_value(value):
    """Percent-encode a query value completely (spaces as ``%20``, never ``+``)."""
    return quote(value, safe='')


def filter_query(expression):
    """The query string for ``$filter=expression`` (``$filter`` kept literal, the expression encoded)."""
    return '$filter=' + encode_query_value(expression)


def key_segment(name, value):
    """An alternate-key path segment such as ``(uniqueName='a%27%27b')``: quoted, then percent-encoded."""
    return '(%s=%s)' % (name, quote(odata_string(value), safe="'"))


class GraphClient:
    """Microsoft Graph v1.0 calls the collection needs.

    ``consistency_wait`` bounds how long (seconds) a read or write that
    depends on an object created moments ago is retried on 404 (Graph
    replicates new directory objects with a delay); ``wait`` (a ``_wait.Wait``,
    shared with the module's other clients) counts those retries.
    """

    def __init__(self, http, endpoint, token, consistency_wait=60.0, wait=None):
        if not endpoint:
            raise ValidationError('graph_endpoint is empty')
        self.http = http
        self.endpoint = endpoint.rstrip('/')
        self.token = token
        self.consistency_wait = consistency_wait
        self.wait = wait or Wait()

    # ------------------------------------------------------------------ plumbing
    def url(self, path, query=None):
        # IDs are GUIDs and key segments are encoded already (their '%', '(', "'" and '=' stay); anything else
        # that is not ASCII-safe is percent-encoded (RFC 3986).
        url = '%s/v1.0/%s' % (self.endpoint, quote(path.lstrip('/'), safe="/()'=%,"))
        if query:
            url += '?' + query
        return url

    def call(self, method, path, query=None, json_body=None, headers=None, ok=(200, 201, 204), idempotent=None):
        """One request; returns the ``Response``."""
        return self.http.request(method, self.url(path, query), SERVICE, json_body=json_body, headers=headers,
                                 token=self.token, ok=ok, idempotent=idempotent)

    def get_json(self, path, query=None):
        return self.call('GET', path, query).json()

    def get_or_none(self, path, query=None):
        """GET a single object; ``None`` when Graph answers 404."""
        try:
            return self.get_json(path, query)
        except ServiceError as exc:
            if exc.status == 404:
                return None
            raise

    def list_all(self, path, query=None):
        """GET a collection, following ``@odata.nextLink`` (only to the same Graph origin, never twice)."""
        items = []
        for doc in self.http.pages(self.url(path, query), SERVICE, token=self.token, next_key='@odata.nextLink',
                                   what=path, max_pages=MAX_PAGES):
            items.extend(doc.get('value') or [])
        return items

    def eventually(self, func, what):
        """Call ``func()``, retrying on 404 for up to ``consistency_wait`` seconds (replication delay)."""
        pending = None
        for _waited in self.wait.tries(self.consistency_wait, FIRST_PAUSE, LONGEST_PAUSE):
            try:
                return func()
            except ServiceError as exc:
                if not _is_replication_delay(exc):
                    raise
                pending = exc
        pending.msg = '%s (still failing after waiting %.0fs for Graph replication of %s)' % (
            pending.msg, self.consistency_wait, what)
        raise pending

    # -------------------------------------------------------- service principals
    def service_principals_by_app_id(self, app_id):
        app_id = require_guid(app_id, 'app_id')
        return self.list_all('servicePrincipals', filter_query('appId eq %s' % odata_string(app_id)))

    def service_principals_by_display_name(self, name):
        return self.list_all('servicePrincipals', filter_query('displayName eq %s' % odata_string(name)))

    # ---------------------------------------------------------------- applications
    def applications_by_display_name(self, name):
        return self.list_all('applications', filter_query('displayName eq %s' % odata_string(name)))

    def application_by_app_id(self, app_id):
        app_id = require_guid(app_id, 'app_id')
        return self.get_or_none('applications' + key_segment('appId', app_id))

    def application_by_unique_name(self, unique_name):
        return self.get_or_none('applications' + key_segment('uniqueName', unique_name))

    def application(self, object_id, select=None):
        object_id = require_guid(object_id, 'application object id')
        return self.get_or_none('applications/%s' % object_id, '$select=' + ','.join(select) if select else None)

    def create_application(self, display_name, unique_name=None):
        """Create an application; return ``(application, created)``.

        With ``unique_name`` the create is an idempotent upsert
        (``PATCH applications(uniqueName=...)`` with ``Prefer: create-if-missing``):
        sending it twice never makes two applications, and ``created`` is
        ``False`` when Graph answers 204 because one already had that unique
        name (an earlier run whose application searches did not show yet).
        Without it, a plain ``POST`` that is never repeated after an unclear failure.
        """
        body = {'displayName': display_name}
        if unique_name is None:
            return self.call('POST', 'applications', json_body=body, ok=(201,)).json(), True
        path = 'applications' + key_segment('uniqueName', unique_name)
        resp = self.call('PATCH', path, json_body=body, headers={'Prefer': 'create-if-missing'}, ok=(200, 201, 204))
        doc = resp.json() if resp.status in (200, 201) else None
        if doc and doc.get('id'):
            return doc, resp.status == 201
        # 204: it existed already and was updated; read it back.
        app = self.eventually(lambda: self._must(self.get_or_none(path), path), 'application %s' % unique_name)
        return app, False

    def update_application(self, object_id, body):
        object_id = require_guid(object_id, 'application object id')
        self.eventually(lambda: self.call('PATCH', 'applications/%s' % object_id, json_body=body, ok=(200, 204)),
                        'application %s' % object_id)

    def delete_application(self, object_id):
        """Delete an application (and with it its service principal); ``False`` when it was already gone."""
        object_id = require_guid(object_id, 'application object id')
        try:
            self.call('DELETE', 'applications/%s' % object_id, ok=(200, 204))
        except ServiceError as exc:
            if exc.status == 404:
                return False
            raise
        return True

    def _must(self, value, what):
        if value is None:
            raise ServiceError('%s: %s returned no object' % (SERVICE, what), status=404)
        return value

    # ----------------------------------------------------- the app's service principal
    def service_principal_by_app_id(self, app_id):
        """The service principal of an application (key read, consistent); ``None`` when there is none."""
        app_id = require_guid(app_id, 'app_id')
        return self.get_or_none('servicePrincipals' + key_segment('appId', app_id))

    def ensure_service_principal(self, app_id, display_name=None):
        """Create the service principal of ``app_id`` if missing (idempotent upsert); return it."""
        app_id = require_guid(app_id, 'app_id')
        path = 'servicePrincipals' + key_segment('appId', app_id)
        body = {'displayName': display_name} if display_name else {}

        def upsert():
            resp = self.call('PATCH', path, json_body=body, headers={'Prefer': 'create-if-missing'}, ok=(200, 201, 204))
            doc = resp.json() if resp.status in (200, 201) else None
            if doc and doc.get('id'):
                return doc
            return self._must(self.get_or_none(path), path)

        return self.eventually(upsert, 'the application %s' % app_id)

    # ------------------------------------------------------ federated credentials
    def federated_credentials(self, app_object_id):
        app_object_id = require_guid(app_object_id, 'application object id')
        return self.eventually(lambda: self.list_all('applications/%s/federatedIdentityCredentials' % app_object_id),
                               'application %s' % app_object_id)

    def create_federated_credential(self, app_object_id, body):
        app_object_id = require_guid(app_object_id, 'application object id')
        # A 404 means the application is not replicated yet and nothing was created: safe to send again.
        return self.eventually(
            lambda: self.call('POST', 'applications/%s/federatedIdentityCredentials' % app_object_id, json_body=body,
                              ok=(200, 201)).json(),
            'application %s' % app_object_id)

    def update_federated_credential(self, app_object_id, credential_id, body):
        app_object_id = require_guid(app_object_id, 'application object id')
        credential_id = require_guid(credential_id, 'federated credential id')
        self.eventually(lambda: self.call('PATCH', 'applications/%s/federatedIdentityCredentials/%s' % (
            app_object_id, credential_id), json_body=body, ok=(200, 204)), 'federated credential %s' % credential_id)

    def delete_federated_credential(self, app_object_id, credential_id):
        app_object_id = require_guid(app_object_id, 'application object id')
        credential_id = require_guid(credential_id, 'federated credential id')
        try:
            self.call('DELETE', 'applications/%s/federatedIdentityCredentials/%s' % (app_object_id, credential_id),
                      ok=(200, 204))
        except ServiceError as exc:
            if exc.status != 404:
                raise

    # ------------------------------------------------------------- client secrets
    def add_password(self, app_object_id, display_name, end_date_time=None):
        """Add a client secret; return Graph's passwordCredential, whose ``secretText`` is shown only this once.

        Never repeated after an unclear failure (it would make a second
        secret); repeated on 404, which means the application is not
        replicated yet and nothing was added.
        """
        app_object_id = require_guid(app_object_id, 'application object id')
        cred = {'displayName': display_name}
        if end_date_time:
            cred['endDateTime'] = end_date_time
        return self.eventually(
            lambda: self.call('POST', 'applications/%s/addPassword' % app_object_id,
                              json_body={'passwordCredential': cred}, ok=(200, 201)).json(),
            'application %s' % app_object_id)

    def remove_password(self, app_object_id, key_id):
        app_object_id = require_guid(app_object_id, 'application object id')
        key_id = require_guid(key_id, 'password credential keyId')
        self.call('POST', 'applications/%s/removePassword' % app_object_id, json_body={'keyId': key_id},
                  ok=(200, 204), idempotent=True)

    # ---------------------------------------------------------- key credentials
    def key_credentials(self, app_object_id):
        """The application's keyCredentials with their ``key`` (Graph returns it only on ``$select``)."""
        app = self.eventually(lambda: self._must(self.application(app_object_id, select=['id', 'keyCredentials']),
                                                 'application %s' % app_object_id),
                              'application %s' % app_object_id)
        return app.get('keyCredentials') or []

    def set_key_credentials(self, app_object_id, key_credentials):
        """Replace the application's keyCredentials (Graph has no add without proof of an existing key)."""
        self.update_application(app_object_id, {'keyCredentials': key_credentials})


def _is_replication_delay(exc):
    """A Graph answer that means "the object you just created has not replicated here yet"."""
    if not isinstance(exc, ServiceError):
        return False
    if exc.status == 404:
        return True
    # Creating a service principal right after its application: 400 "... does not reference a valid application object".
    return exc.status == 400 and 'does not reference a valid application' in (exc.message or '')
