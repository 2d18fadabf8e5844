# -*- coding: utf-8 -*-
# Copyright (c) azmon.metrics contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import pytest

from ansible_collections.azmon.metrics.plugins.module_utils._clouds import cloud_settings, ingestion_url, scope_for
from ansible_collections.azmon.metrics.plugins.module_utils._errors import ConfigError

RID = '/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm1'


@pytest.mark.parametrize('audience, scope', [
    ('https://monitoring.azure.com/', 'https://monitoring.azure.com//.default'),
    ('https://management.azure.com/', 'https://management.azure.com//.default'),
    ('https://graph.microsoft.com', 'https://graph.microsoft.com/.default'),
])
def test_scope_keeps_the_audience_exact(audience, scope):
    assert scope_for(audience) == scope


@pytest.mark.parametrize('endpoint, url', [
    (None, 'https://eastus.monitoring.azure.com' + RID + '/metrics'),
    ('https://127.0.0.1:9443/{region}/', 'https://127.0.0.1:9443/eastus' + RID + '/metrics'),
    ('https://private.example/', 'https://private.example' + RID + '/metrics'),
])
def test_ingestion_url_never_has_a_double_slash(endpoint, url):
    settings = cloud_settings('AzureCloud', {'ingestion_endpoint': endpoint})
    assert ingestion_url(settings, 'eastus', RID) == url


def test_unknown_cloud_and_bad_override():
    with pytest.raises(ConfigError, match='unknown cloud'):
        cloud_settings('AzureStack')
    with pytest.raises(ConfigError, match='https'):
        cloud_settings('AzureCloud', {'graph_endpoint': 'http://graph.example'})
