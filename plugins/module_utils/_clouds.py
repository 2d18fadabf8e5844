# -*- coding: utf-8 -*-
# Copyright (c) azmon.metrics contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The cloud table: sign-in authority, service endpoints and token audiences per Azure cloud."""

from __future__ import annotations

from ansible_collections.azmon.metrics.plugins.module_utils._errors import ConfigError

# ``ingestion_endpoint`` is a template: ``{region}`` becomes the resource's region code.
CLOUDS = {
    'AzureCloud': {
        'authority_host': 'https://login.microsoftonline.com',
        'arm_endpoint': 'https://management.azure.com',
        'arm_audience': 'https://management.azure.com/',
        'graph_endpoint': 'https://graph.microsoft.com',
        'graph_audience': 'https://graph.microsoft.com',
        'ingestion_endpoint': 'https://{region}.monitoring.azure.com',
        'ingestion_audience': 'https://monitoring.azure.com/',
        # Blob Storage (the shared delivery ledger): the same resource in every cloud.
        'storage_audience': 'https://storage.azure.com',
    },
    'AzureUSGovernment': {
        'authority_host': 'https://login.microsoftonline.us',
        'arm_endpoint': 'https://management.usgovcloudapi.net',
        'arm_audience': 'https://management.usgovcloudapi.net/',
        'graph_endpoint': 'https://graph.microsoft.us',
        'graph_audience': 'https://graph.microsoft.us',
        'ingestion_endpoint': 'https://{region}.monitoring.azure.us',
        # Not confirmed by a public source; override with ingestion_audience if Azure says otherwise.
        'ingestion_audience': 'https://monitoring.azure.us/',
        # Blob Storage (the shared delivery ledger): the same resource in every cloud.
        'storage_audience': 'https://storage.azure.com',
    },
    'AzureChinaCloud': {
        'authority_host': 'https://login.chinacloudapi.cn',
        'arm_endpoint': 'https://management.chinacloudapi.cn',
        'arm_audience': 'https://management.chinacloudapi.cn/',
        'graph_endpoint': 'https://microsoftgraph.chinacloudapi.cn',
        'graph_audience': 'https://microsoftgraph.chinacloudapi.cn',
        'ingestion_endpoint': 'https://{region}.monitoring.azure.cn',
        'ingestion_audience': 'https://monitoring.azure.cn/',
        # Blob Storage (the shared delivery ledger): the same resource in every cloud.
        'storage_audience': 'https://storage.azure.com',
    },
}
CLOUD_NAMES = tuple(CLOUDS)
DEFAULT_CLOUD = 'AzureCloud'
OVERRIDABLE = ('authority_host', 'arm_endpoint', 'graph_endpoint', 'ingestion_endpoint', 'ingestion_audience')


def cloud_settings(name=None, overrides=None, source='cloud_environment'):
    """The endpoints and audiences for cloud ``name`` with the non-empty ``overrides`` applied.

    Endpoints come back without a trailing slash.  Every override must be an
    https URL; the ingestion endpoint must hold ``{region}`` or be a fixed URL.
    """
    name = name or DEFAULT_CLOUD
    if name not in CLOUDS:
        raise ConfigError('%s: unknown cloud %r; use one of %s' % (source, name, ', '.join(CLOUD_NAMES)),
                          option=source)
    settings = dict(CLOUDS[name], cloud_environment=name)
    for key, value in (overrides or {}).items():
        if key not in OVERRIDABLE:
            raise ConfigError('internal: %s cannot be overridden' % key)
        if value in (None, ''):
            continue
        if not str(value).lower().startswith('https://'):
            raise ConfigError('%s must be an https URL, got %r' % (key, value), option=key)
        settings[key] = value
    for key in ('authority_host', 'arm_endpoint', 'graph_endpoint', 'ingestion_endpoint'):
        settings[key] = settings[key].rstrip('/')
    return settings


def scope_for(audience):
    """The OAuth 2 scope that yields a token for exactly ``audience``.

    ``/.default`` is appended as it is, so ``https://monitoring.azure.com/``
    becomes ``https://monitoring.azure.com//.default``: Entra ID maps that to
    the identifier with its trailing slash, and managed identity (which strips
    ``/.default`` to get the resource) asks for that same identifier.  Without
    the double slash a managed identity would get a token for
    ``https://monitoring.azure.com``, an audience ingestion is not documented
    to accept.
    """
    return audience + '/.default'


def ingestion_url(settings, region, resource_id):
    """``{endpoint}{resourceId}/metrics`` with the region filled in and never a double slash."""
    base = settings['ingestion_endpoint'].replace('{region}', region).rstrip('/')
    return base + '/' + resource_id.lstrip('/') + '/metrics'
