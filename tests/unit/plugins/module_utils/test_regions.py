# -*- coding: utf-8 -*-
# Copyright (c) azmon.metrics contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The warning for a region where Azure does not take custom metrics, and its override."""

from __future__ import annotations

import pytest

from ansible_collections.azmon.metrics.plugins.module_utils._clouds import cloud_settings, region_warning


@pytest.mark.parametrize('cloud, region', [('AzureCloud', 'eastus'), ('AzureCloud', 'westeurope'),
                                           ('AzureUSGovernment', 'usgovvirginia'), ('AzureChinaCloud', 'chinanorth2')])
def test_known_regions_give_no_warning(cloud, region):
    assert region_warning(cloud_settings(cloud), region, {}) is None


def test_a_misspelled_region_is_named_with_the_likely_one():
    warning = region_warning(cloud_settings('AzureCloud'), 'esatus', {})
    assert "region 'esatus'" in warning
    warning = region_warning(cloud_settings('AzureCloud'), 'eastuss', {})
    assert 'did you mean eastus or eastus2?' in warning
    assert 'AZMON_CUSTOM_METRICS_REGIONS' in warning


def test_a_region_of_another_cloud_warns():
    assert "region 'eastus'" in region_warning(cloud_settings('AzureChinaCloud'), 'eastus', {})


def test_the_environment_replaces_the_list():
    env = {'AZMON_CUSTOM_METRICS_REGIONS': 'newregion1, EastUS'}
    assert region_warning(cloud_settings('AzureCloud'), 'newregion1', env) is None
    assert region_warning(cloud_settings('AzureCloud'), 'eastus', env) is None
    assert 'newregion1' in region_warning(cloud_settings('AzureCloud'), 'westeurope', env)
