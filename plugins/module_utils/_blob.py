# -*- coding: utf-8 -*-
# Copyright (c) azmon.metrics contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A small Azure Blob Storage client: read, create-if-absent and replace-if-unchanged one block blob.

No SDK: requests through the collection's ``HttpClient`` with a bearer token
for ``https://storage.azure.com``.  Conditional writes are the whole point:
``put(..., etag='*')`` creates only when the blob is absent, ``put(..., etag=E)``
replaces only the version ``E`` that was read; both return ``None`` when
another writer won (HTTP 409 or 412), so that the caller reads again.
Nothing here knows about Ansible.
"""

from __future__ import annotations

import ipaddress
import re

from ansible_collections.azmon.metrics.plugins.module_utils._errors import ConfigError

API_VERSION = '2025-11-05'
SERVICE = 'blob storage'
STORAGE_AUDIENCE = 'https://storage.azure.com'
# https://learn.microsoft.com/rest/api/storageservices/naming-and-referencing-containers--blobs--and-metadata
_CONTAINER = re.compile(r'^(?=.{3,63}$)[a-z0-9]+(-[a-z0-9]+)*$')
_ACCOUNT = re.compile(r'^[a-z0-9]{3,24}$')
_PREFIX_PART = re.compile(r'^[A-Za-z0-9._~-]{1,200}$')


class BlobLocation:
    """Where a ledger lives: account, container, prefix, and the base URL blob names are appended to."""

    def __init__(self, url, account, container, prefix):
        self.url = url
        self.account = account
        self.container = container
        self.prefix = prefix

    def blob_url(self, name):
        return '%s/%s' % (self.url, name)

    def container_url(self):
        return self.url[:len(self.url) - len(self.prefix)].rstrip('/') if self.prefix else self.url


def parse_blob_url(url, option='ledger_url'):
    """``https://{account}.blob.core.windows.net/{container}[/prefix]`` -> ``BlobLocation``.

    A host that is an IP address or ``localhost`` is path-style, as the storage
    emulator serves it: ``https://127.0.0.1:10000/{account}/{container}[/prefix]``.
    Raises ``ConfigError`` naming ``option`` and the rule that is broken.
    """
    text = str(url or '').strip()
    match = re.match(r'^https://([^/?#]+)(/[^?#]*)?$', text, re.IGNORECASE)
    if not match:
        # never echo a query string: it may hold a SAS token
        shown = re.split(r'[?#]', text, maxsplit=1)[0]
        if shown != text:
            shown += ' (query or fragment left out)'
        raise ConfigError('%s must be an https URL without query or fragment, like'
                          ' https://ACCOUNT.blob.core.windows.net/CONTAINER[/PREFIX]; got %r' % (option, shown),
                          option=option)
    host = match.group(1).lower()
    parts = [p for p in (match.group(2) or '').split('/') if p]
    hostname = host.rsplit(':', 1)[0] if not host.startswith('[') else host.split(']')[0] + ']'
    if _path_style(hostname):
        if len(parts) < 2:
            raise ConfigError('%s: an address like %s needs /ACCOUNT/CONTAINER after the host' % (option, host),
                              option=option)
        account, parts = parts[0], parts[1:]
    else:
        account = hostname.split('.', 1)[0]
        if '.blob.' not in hostname:
            raise ConfigError('%s: %s is not a blob endpoint (ACCOUNT.blob.core.windows.net or the blob endpoint of'
                              ' another cloud)' % (option, host), option=option)
        if not parts:
            raise ConfigError('%s must name a container after the host: https://%s/CONTAINER' % (option, host),
                              option=option)
    if not _ACCOUNT.match(account):
        raise ConfigError('%s: storage account name %r must be 3 to 24 lowercase letters and digits' % (option, account),
                          option=option)
    container = parts[0]
    if not _CONTAINER.match(container):
        raise ConfigError('%s: container name %r must be 3 to 63 lowercase letters, digits and single hyphens, starting'
                          ' and ending with a letter or digit' % (option, container), option=option)
    for part in parts[1:]:
        if not _PREFIX_PART.match(part) or part in ('.', '..'):
            raise ConfigError('%s: prefix segment %r may hold only letters, digits and . _ ~ -' % (option, part),
                              option=option)
    prefix = '/'.join(parts[1:])
    base = 'https://%s/%s' % (host, '/'.join(([account] if _path_style(hostname) else []) + parts))
    return BlobLocation(base, account, container, prefix)


def _path_style(hostname):
    if hostname == 'localhost':
        return True
    try:
        ipaddress.ip_address(hostname.strip('[]'))
    except ValueError:
        return False
    return True


class BlobClient:
    """Get and conditionally put block blobs under one ``BlobLocation``; counts every call in ``calls``."""

    def __init__(self, http, token, location):
        self.http = http
        self.token = token
        self.location = location
        self.calls = 0

    def _request(self, method, url, ok, headers=None, data=None, params=None):
        self.calls += 1
        send = {'x-ms-version': API_VERSION}
        send.update(headers or {})
        return self.http.request(method, url, SERVICE, data=data, headers=send, params=params, token=self.token,
                                 idempotent=True, ok=ok)

    def get(self, name):
        """``(etag, body)`` of blob ``name``, or ``(None, None)`` when it (or its container) does not exist."""
        resp = self._request('GET', self.location.blob_url(name), ok=(200, 404))
        if resp.status == 404:
            return None, None
        return resp.headers.get('ETag'), resp.body

    def put(self, name, body, etag, content_type='application/octet-stream'):
        """Write ``body`` if the blob is absent (``etag='*'``) or still at ``etag``; the new ETag, or ``None`` when
        another writer got there first.  A missing container is created once."""
        headers = {'x-ms-blob-type': 'BlockBlob', 'Content-Type': content_type}
        if etag == '*':
            headers['If-None-Match'] = '*'
        else:
            headers['If-Match'] = etag
        for attempt in (1, 2):
            resp = self._request('PUT', self.location.blob_url(name), ok=(201, 404, 409, 412), headers=headers,
                                 data=body)
            if resp.status == 201:
                return resp.headers.get('ETag')
            if resp.status == 404 and attempt == 1 and _error_code(resp) == 'ContainerNotFound':
                self.create_container()
                continue
            if resp.status == 404:
                return None   # replaced a version that was deleted meanwhile: read again
            return None
        return None

    def delete(self, name, etag=None):
        """Delete blob ``name`` (only at ``etag`` when given); ``False`` when it changed or was already gone."""
        headers = {'If-Match': etag} if etag else {}
        resp = self._request('DELETE', self.location.blob_url(name), ok=(202, 404, 412), headers=headers)
        return resp.status == 202

    def create_container(self):
        self._request('PUT', self.location.container_url(), ok=(201, 409), params={'restype': 'container'})


def _error_code(resp):
    code = resp.headers.get('x-ms-error-code')
    if code:
        return code
    match = re.search(rb'<Code>([^<]+)</Code>', resp.body or b'')
    return match.group(1).decode('ascii', 'replace') if match else None
