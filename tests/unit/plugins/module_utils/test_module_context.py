# -*- coding: utf-8 -*-
# Copyright (c) azmon.metrics contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""AzureContext, what every Azure-facing module builds first: local checks and the validate_certs warning."""

from __future__ import annotations

import pytest

from ansible_collections.azmon.metrics.plugins.module_utils._errors import ConfigError
from ansible_collections.azmon.metrics.plugins.module_utils._module import AzureContext, auth_argspec


def params(**kw):
    base = {name: spec.get('default') for name, spec in auth_argspec().items()}
    base.update({'access_token': 'a.b.c', 'auth_source': 'access_token'})
    base.update(kw)
    return base


def test_validate_certs_false_warns_once():
    warnings = []
    AzureContext(params(validate_certs=False), environ={}, warn=warnings.append)
    assert len(warnings) == 1 and warnings[0].startswith('validate_certs is false')
    quiet = []
    AzureContext(params(), environ={}, warn=quiet.append)
    assert quiet == []


@pytest.mark.parametrize('extra, option', [
    ({'timeout': 0}, 'timeout'),
    ({'timeout': 7200}, 'timeout'),
    ({'ca_path': '/nonexistent/ca.pem'}, 'ca_path'),
])
def test_bad_local_settings_are_refused_when_the_context_is_built(extra, option):
    with pytest.raises(ConfigError) as exc:
        AzureContext(params(**extra), environ={})
    assert exc.value.details['option'] == option


def test_a_bad_requests_ca_bundle_is_named(monkeypatch, tmp_path):
    monkeypatch.setenv('REQUESTS_CA_BUNDLE', str(tmp_path / 'gone.pem'))
    with pytest.raises(ConfigError) as exc:
        AzureContext(params(), environ={'REQUESTS_CA_BUNDLE': str(tmp_path / 'gone.pem')})
    assert exc.value.details['option'] == 'REQUESTS_CA_BUNDLE' and 'does not exist' in exc.value.msg
