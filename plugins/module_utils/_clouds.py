# -*- coding: utf-8 -*-
# Copyright (c) azmon.metrics contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The cloud table: sign-in authority, service endpoints and token audiences per Azure cloud."""

from __future__ import annotations

import difflib

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
        # Azure Monitor workspace ingestion (Prometheus remote write to a data collection endpoint).
        'workspace_audience': 'https://monitor.azure.com',
        # Azure Monitor workspace queries (its Prometheus query endpoint).
        'prometheus_audience': 'https://prometheus.monitor.azure.com',
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
        # Not confirmed by a public source; as for ingestion_audience.
        # Azure Monitor workspace ingestion (Prometheus remote write to a data collection endpoint).
        'workspace_audience': 'https://monitor.azure.us',
        # Azure Monitor workspace queries (its Prometheus query endpoint).
        # Not confirmed by a public source; as for ingestion_audience.
        'prometheus_audience': 'https://prometheus.monitor.azure.us',
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
        # Azure Monitor workspace ingestion (Prometheus remote write to a data collection endpoint).
        'workspace_audience': 'https://monitor.azure.cn',
        # Azure Monitor workspace queries (its Prometheus query endpoint).
        # Not confirmed by a public source; as for ingestion_audience.
        'prometheus_audience': 'https://prometheus.monitor.azure.cn',
        # Blob Storage (the shared delivery ledger): the same resource in every cloud.
        'storage_audience': 'https://storage.azure.com',
    },
}
CLOUD_NAMES = tuple(CLOUDS)

# The regions whose ingestion endpoint takes custom metrics, per cloud (docs/azure-facts.md, section 1): the one
# list the modules check a region against. A region outside it gets a warning before anything is sent, not an
# error, since Azure adds regions; AZMON_CUSTOM_METRICS_REGIONS (comma-separated codes) replaces it, for a region
# this list does not know yet or for a private cloud.
CUSTOM_METRICS_REGIONS = {
    'AzureCloud': frozenset((
        'australiacentral', 'australiacentral2', 'australiaeast', 'australiasoutheast', 'austriaeast',
        'belgiumcentral', 'brazilsouth', 'brazilsoutheast', 'canadacentral', 'canadaeast', 'centralindia',
        'centralus', 'chilecentral', 'eastasia', 'eastus', 'eastus2', 'francecentral', 'francesouth',
        'germanynorth', 'germanywestcentral', 'indonesiacentral', 'israelcentral', 'italynorth', 'japaneast',
        'japanwest', 'jioindiacentral', 'jioindiawest', 'koreacentral', 'koreasouth', 'malaysiawest',
        'mexicocentral', 'newzealandnorth', 'northcentralus', 'northeurope', 'norwayeast', 'norwaywest',
        'polandcentral', 'qatarcentral', 'southafricanorth', 'southafricawest', 'southcentralus', 'southeastasia',
        'southindia', 'spaincentral', 'swedencentral', 'swedensouth', 'switzerlandnorth', 'switzerlandwest',
        'uaecentral', 'uaenorth', 'uksouth', 'ukwest', 'westcentralus', 'westeurope', 'westindia', 'westus',
        'westus2', 'westus3',
    )),
    'AzureUSGovernment': frozenset(('usdodcentral', 'usdodeast', 'usgovarizona', 'usgovtexas', 'usgovvirginia')),
    'AzureChinaCloud': frozenset(('chinaeast', 'chinaeast2', 'chinaeast3', 'chinanorth', 'chinanorth2',
                                  'chinanorth3')),
}
REGIONS_ENV = 'AZMON_CUSTOM_METRICS_REGIONS'


def region_warning(settings, region, environ):
    """A warning when ``region`` (a code) is not one where the cloud of ``settings`` takes custom metrics, else None."""
    override = environ.get(REGIONS_ENV)
    if override:
        known = frozenset(code.strip().lower() for code in override.split(',') if code.strip())
        where = '%s (%s)' % (REGIONS_ENV, ', '.join(sorted(known)))
    else:
        cloud = settings.get('cloud_environment') or DEFAULT_CLOUD
        known = CUSTOM_METRICS_REGIONS.get(cloud, frozenset())
        where = 'the regions of %s that take custom metrics' % cloud
    if region in known:
        return None
    close = difflib.get_close_matches(region, sorted(known), n=3, cutoff=0.8)
    return ('region %r is not among %s, so Azure will probably refuse the metrics (or its host will not resolve)%s'
            ' If the region is right, set %s to the region codes to accept.'
            % (region, where, '; did you mean %s?' % ' or '.join(close) if close else '.', REGIONS_ENV))


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
