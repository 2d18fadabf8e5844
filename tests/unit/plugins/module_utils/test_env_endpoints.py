# -*- coding: utf-8 -*-
# Copyright (c) azmon.metrics contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Endpoints, instance discovery and the CA bundle from AZMON_* environment variables (what the emulator's
env.sh sets), and options winning over them."""

from __future__ import annotations

import pytest

from ansible_collections.azmon.metrics.plugins.module_utils._auth import env_ca_path, resolve_auth
from ansible_collections.azmon.metrics.plugins.module_utils._errors import ConfigError

EMULATOR_ENV = {
    'AZMON_ARM_ENDPOINT': 'https://127.0.0.1:4001/',
    'AZMON_GRAPH_ENDPOINT': 'https://127.0.0.1:4002',
    'AZMON_INGESTION_ENDPOINT': 'https://127.0.0.1:4003/{region}',
    'AZMON_DISABLE_INSTANCE_DISCOVERY': 'true',
}


def resolve(params, env):
    full = {'auth_source': 'auto', 'access_token': 'a'}
    full.update(params)
    return resolve_auth(full, environ=env, credential_file='/nonexistent/credentials', which=lambda _name: None)


def test_endpoints_and_instance_discovery_from_the_environment():
    plan = resolve({}, EMULATOR_ENV)
    assert plan.cloud['arm_endpoint'] == 'https://127.0.0.1:4001'
    assert plan.cloud['graph_endpoint'] == 'https://127.0.0.1:4002'
    assert plan.cloud['ingestion_endpoint'] == 'https://127.0.0.1:4003/{region}'
    assert plan.disable_instance_discovery is True
    # audiences stay the cloud's
    assert plan.cloud['arm_audience'] == 'https://management.azure.com/'


def test_options_win_over_the_environment():
    plan = resolve({'arm_endpoint': 'https://arm.example', 'graph_endpoint': 'https://graph.example',
                    'ingestion_endpoint': 'https://{region}.ingest.example'}, EMULATOR_ENV)
    assert plan.cloud['arm_endpoint'] == 'https://arm.example'
    assert plan.cloud['graph_endpoint'] == 'https://graph.example'
    assert plan.cloud['ingestion_endpoint'] == 'https://{region}.ingest.example'


def test_without_the_environment_the_cloud_defaults_stay():
    plan = resolve({}, {})
    assert plan.cloud['arm_endpoint'] == 'https://management.azure.com'
    assert plan.cloud['ingestion_endpoint'] == 'https://{region}.monitoring.azure.com'
    assert plan.disable_instance_discovery is False


@pytest.mark.parametrize('value, expected', [('1', True), ('yes', True), ('ON', True), ('false', False),
                                             ('0', False), ('', False)])
def test_instance_discovery_words(value, expected):
    assert resolve({}, {'AZMON_DISABLE_INSTANCE_DISCOVERY': value}).disable_instance_discovery is expected


def test_instance_discovery_not_a_boolean_names_the_variable():
    with pytest.raises(ConfigError) as info:
        resolve({}, {'AZMON_DISABLE_INSTANCE_DISCOVERY': 'sometimes'})
    assert 'AZMON_DISABLE_INSTANCE_DISCOVERY' in str(info.value)
    assert 'sometimes' in str(info.value)


def test_an_endpoint_from_the_environment_must_use_https():
    with pytest.raises(ConfigError) as info:
        resolve({}, {'AZMON_ARM_ENDPOINT': 'http://127.0.0.1:4001'})
    assert 'https' in str(info.value)


def test_ca_path_option_then_environment():
    assert env_ca_path({'ca_path': '/etc/a.pem'}, {'AZMON_CA_PATH': '/etc/b.pem'}) == '/etc/a.pem'
    assert env_ca_path({'ca_path': None}, {'AZMON_CA_PATH': '/etc/b.pem'}) == '/etc/b.pem'
    assert env_ca_path({}, {}) is None
