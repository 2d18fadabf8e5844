# -*- coding: utf-8 -*-
# Copyright (c) azmon.metrics contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import base64
import json
import os
import time

import pytest

from ansible_collections.azmon.metrics.plugins.module_utils._auth import (
    StaticTokenSource,
    check_local_files,
    read_credential_file,
    resolve_auth,
)
from ansible_collections.azmon.metrics.plugins.module_utils._errors import AuthError, ConfigError

TENANT = '11111111-1111-1111-1111-111111111111'
CLIENT = '22222222-2222-2222-2222-222222222222'


def never(_name):
    return None


def resolve(params=None, env=None, cred_file='/nonexistent/credentials', which=never):
    full = {'auth_source': 'auto'}
    full.update(params or {})
    return resolve_auth(full, environ=env or {}, credential_file=cred_file, which=which)


@pytest.fixture
def cred_file(tmp_path):
    path = tmp_path / 'credentials'
    path.write_text(
        '[default]\nclient_id = file-client\nsecret = file-secret\ntenant = file-tenant\nsubscription_id = file-sub\n\n'
        '[gov]\nclient_id = gov-client\nsecret = gov-secret\ntenant = gov-tenant\ncloud_environment = AzureUSGovernment\n\n'
        '[broken]\nclient_id = x\n')
    return str(path)


def test_explicit_secret_wins_over_everything(cred_file):
    env = {'AZURE_CLIENT_ID': 'env-client', 'AZURE_SECRET': 'env-secret', 'AZURE_TENANT': 'env-tenant',
           'IDENTITY_ENDPOINT': 'https://msi'}
    plan = resolve({'client_id': CLIENT, 'secret': 's3cret', 'tenant': TENANT}, env, cred_file)
    assert (plan.kind, plan.origin, plan.client_id, plan.tenant, plan.secret) == ('secret', 'options', CLIENT, TENANT, 's3cret')
    assert plan.secrets == ['s3cret']


def test_explicit_secret_takes_identity_from_environment():
    plan = resolve({'secret': 's3cret'}, {'AZURE_CLIENT_ID': 'env-client', 'AZURE_TENANT_ID': 'env-tenant'})
    assert (plan.kind, plan.client_id, plan.tenant) == ('secret', 'env-client', 'env-tenant')


@pytest.mark.parametrize('secret_var', ['AZURE_SECRET', 'AZURE_CLIENT_SECRET'])
@pytest.mark.parametrize('tenant_var', ['AZURE_TENANT', 'AZURE_TENANT_ID'])
def test_environment_both_naming_schemes(secret_var, tenant_var, cred_file):
    env = {'AZURE_CLIENT_ID': 'env-client', secret_var: 'env-secret', tenant_var: 'env-tenant'}
    plan = resolve(env=env, cred_file=cred_file)
    assert (plan.kind, plan.origin, plan.client_id, plan.tenant, plan.secret) == (
        'secret', 'environment', 'env-client', 'env-tenant', 'env-secret')


def test_environment_schemes_must_agree():
    env = {'AZURE_CLIENT_ID': 'c', 'AZURE_SECRET': 'alpha-value', 'AZURE_CLIENT_SECRET': 'beta-value', 'AZURE_TENANT': 't'}
    with pytest.raises(ConfigError) as exc:
        resolve(env=env)
    assert 'AZURE_SECRET and AZURE_CLIENT_SECRET' in exc.value.msg
    assert 'alpha-value' not in exc.value.msg and 'beta-value' not in exc.value.msg


def test_environment_schemes_may_repeat_the_same_value():
    env = {'AZURE_CLIENT_ID': 'c', 'AZURE_SECRET': 'same', 'AZURE_CLIENT_SECRET': 'same', 'AZURE_TENANT': 't',
           'AZURE_TENANT_ID': 't'}
    assert resolve(env=env).secret == 'same'


def test_environment_certificate(tmp_path):
    pem = tmp_path / 'cert.pem'
    pem.write_text('-----BEGIN CERTIFICATE-----\n')
    env = {'AZURE_CLIENT_ID': 'c', 'AZURE_TENANT_ID': 't', 'AZURE_CLIENT_CERTIFICATE_PATH': str(pem),
           'AZURE_CLIENT_CERTIFICATE_PASSWORD': 'pw'}
    plan = resolve(env=env)
    assert (plan.kind, plan.certificate_path, plan.certificate_password) == ('certificate', str(pem), 'pw')
    assert plan.secrets == ['pw']


def _local_error(params, env=None):
    """The ConfigError check_local_files raises for the plan of ``params`` (resolving needs no file)."""
    plan = resolve(params, env=env)
    with pytest.raises(ConfigError) as exc:
        check_local_files(plan)
    return exc.value


def _key_and_cert(password=None):
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID
    import datetime
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, 'client')])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(1).not_valid_before(now).not_valid_after(now + datetime.timedelta(days=1))
            .sign(key, hashes.SHA256()))
    encryption = (serialization.BestAvailableEncryption(password.encode()) if password
                  else serialization.NoEncryption())
    return (key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption)
            + cert.public_bytes(serialization.Encoding.PEM))


SP = {'client_id': 'c', 'tenant': 't'}


def test_certificate_path_must_exist():
    err = _local_error(dict(SP, x509_certificate_path='/nonexistent/cert.pem'))
    assert err.details['option'] == 'x509_certificate_path' and 'does not exist' in err.msg


def test_certificate_path_that_is_a_directory(tmp_path):
    err = _local_error(dict(SP, x509_certificate_path=str(tmp_path)))
    assert err.details['option'] == 'x509_certificate_path' and 'is a directory' in err.msg


def test_certificate_that_does_not_parse(tmp_path):
    pem = tmp_path / 'cert.pem'
    pem.write_text('-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----\n')
    err = _local_error(dict(SP, x509_certificate_path=str(pem)))
    assert err.details['option'] == 'x509_certificate_path' and 'no private key' in err.msg


def test_certificate_neither_pem_nor_pkcs12(tmp_path):
    pem = tmp_path / 'cert.bin'
    pem.write_bytes(b'\x00\x01garbage')
    err = _local_error(dict(SP, x509_certificate_path=str(pem)))
    assert err.details['option'] == 'x509_certificate_path' and 'PKCS#12' in err.msg


def test_certificate_from_the_environment_names_the_variable(tmp_path):
    env = {'AZURE_CLIENT_ID': 'c', 'AZURE_TENANT_ID': 't', 'AZURE_CLIENT_CERTIFICATE_PATH': str(tmp_path / 'x.pem')}
    err = _local_error({}, env=env)
    assert err.details['option'] == 'AZURE_CLIENT_CERTIFICATE_PATH'


def test_encrypted_key_needs_the_right_password(tmp_path):
    pem = tmp_path / 'cert.pem'
    pem.write_bytes(_key_and_cert(password='right'))
    err = _local_error(dict(SP, x509_certificate_path=str(pem)))
    assert err.details['option'] == 'x509_certificate_password' and 'encrypted' in err.msg
    err = _local_error(dict(SP, x509_certificate_path=str(pem), x509_certificate_password='wrong'))
    assert err.details['option'] == 'x509_certificate_path' and 'wrong x509_certificate_password' in err.msg
    check_local_files(resolve(dict(SP, x509_certificate_path=str(pem), x509_certificate_password='right')))


def test_good_certificate_passes(tmp_path):
    pem = tmp_path / 'c\u00e9rt \u65e5\u672c.pem'
    pem.write_bytes(_key_and_cert())
    check_local_files(resolve(dict(SP, x509_certificate_path=str(pem))))


def test_federated_token_file_missing_empty_or_unreadable(tmp_path):
    err = _local_error(dict(SP, federated_token_file=str(tmp_path / 'none.jwt')))
    assert err.details['option'] == 'federated_token_file' and 'does not exist' in err.msg
    empty = tmp_path / 'empty.jwt'
    empty.write_text('')
    err = _local_error(dict(SP, federated_token_file=str(empty)))
    assert err.details['option'] == 'federated_token_file' and 'is empty' in err.msg
    err = _local_error(dict(SP, federated_token_file=str(tmp_path)))
    assert err.details['option'] == 'federated_token_file' and 'is a directory' in err.msg
    binary = tmp_path / 'bin.jwt'
    binary.write_bytes(b'\xff\xfe')
    err = _local_error(dict(SP, federated_token_file=str(binary)))
    assert 'non-ASCII' in err.msg
    env = {'AZURE_CLIENT_ID': 'c', 'AZURE_TENANT_ID': 't', 'AZURE_FEDERATED_TOKEN_FILE': str(tmp_path / 'gone')}
    assert _local_error({}, env=env).details['option'] == 'AZURE_FEDERATED_TOKEN_FILE'


@pytest.mark.skipif(os.geteuid() == 0, reason='root reads any file whatever its mode')
def test_federated_token_file_unreadable(tmp_path):
    token = tmp_path / 'token.jwt'
    token.write_text('a.b.c')
    token.chmod(0)
    err = _local_error(dict(SP, federated_token_file=str(token)))
    assert err.details['option'] == 'federated_token_file' and 'cannot read' in err.msg


def test_credential_file_default_profile(cred_file):
    plan = resolve(cred_file=cred_file)
    assert (plan.kind, plan.client_id, plan.secret, plan.tenant, plan.subscription_id) == (
        'secret', 'file-client', 'file-secret', 'file-tenant', 'file-sub')
    assert 'profile [default]' in plan.origin


def test_credential_file_named_profile_sets_cloud(cred_file):
    plan = resolve({'profile': 'gov'}, cred_file=cred_file)
    assert plan.client_id == 'gov-client'
    assert plan.cloud['cloud_environment'] == 'AzureUSGovernment'
    assert plan.cloud['authority_host'] == 'https://login.microsoftonline.us'


def test_credential_file_profile_from_environment(cred_file):
    assert resolve(env={'AZURE_PROFILE': 'gov'}, cred_file=cred_file).client_id == 'gov-client'


def test_missing_named_profile_fails(cred_file):
    with pytest.raises(ConfigError, match=r'no section \[nope\]'):
        resolve({'profile': 'nope'}, cred_file=cred_file)


def test_incomplete_profile_fails(cred_file):
    with pytest.raises(ConfigError, match='lacks secret, tenant'):
        resolve({'profile': 'broken'}, cred_file=cred_file)


def test_auth_source_credential_file_requires_file():
    with pytest.raises(ConfigError, match='no section'):
        resolve({'auth_source': 'credential_file'})


def test_read_credential_file_absent(tmp_path):
    assert read_credential_file(str(tmp_path / 'none'), 'default') is None


def test_environment_beats_credential_file(cred_file):
    env = {'AZURE_CLIENT_ID': 'env-client', 'AZURE_SECRET': 'env-secret', 'AZURE_TENANT': 'env-tenant'}
    assert resolve(env=env, cred_file=cred_file).origin == 'environment'


def test_workload_identity_from_environment():
    env = {'AZURE_CLIENT_ID': 'c', 'AZURE_TENANT_ID': 't', 'AZURE_FEDERATED_TOKEN_FILE': '/var/run/token'}
    plan = resolve(env=env, which=lambda name: '/usr/bin/az')
    assert (plan.kind, plan.token_file, plan.client_id, plan.tenant) == ('workload_identity', '/var/run/token', 'c', 't')
    assert plan.secrets == []


def test_workload_identity_option_with_explicit_identity():
    plan = resolve({'auth_source': 'workload_identity', 'federated_token_file': '/tmp/oidc', 'client_id': CLIENT,
                    'tenant': TENANT})
    assert (plan.kind, plan.origin, plan.token_file) == ('workload_identity', 'options', '/tmp/oidc')


def test_workload_identity_needs_tenant():
    with pytest.raises(ConfigError) as exc:
        resolve({'federated_token_file': '/tmp/oidc', 'client_id': CLIENT})
    assert 'tenant' in exc.value.msg and exc.value.details['options'] == ['tenant']


def test_workload_identity_source_without_token_file():
    with pytest.raises(ConfigError, match='federated_token_file'):
        resolve({'auth_source': 'workload_identity', 'client_id': 'c', 'tenant': 't'})


def test_credential_file_beats_workload_identity(cred_file):
    env = {'AZURE_CLIENT_ID': 'c', 'AZURE_TENANT_ID': 't', 'AZURE_FEDERATED_TOKEN_FILE': '/var/run/token'}
    assert resolve(env=env, cred_file=cred_file).kind == 'secret'


def test_managed_identity_from_environment_then_cli():
    assert resolve(env={'IDENTITY_ENDPOINT': 'https://x', 'IDENTITY_HEADER': 'h'}, which=lambda n: '/bin/az').kind == 'msi'
    assert resolve(env={'MSI_ENDPOINT': 'https://x'}).kind == 'msi'
    plan = resolve({'tenant': TENANT}, which=lambda n: '/usr/bin/az' if n == 'az' else None)
    assert (plan.kind, plan.tenant) == ('cli', TENANT)


def test_msi_explicit_user_assigned():
    plan = resolve({'auth_source': 'msi', 'client_id': CLIENT})
    assert (plan.kind, plan.client_id) == ('msi', CLIENT)


def test_nothing_found_lists_what_was_tried():
    with pytest.raises(ConfigError) as exc:
        resolve()
    for word in ('AZURE_SECRET', 'AZURE_FEDERATED_TOKEN_FILE', 'IDENTITY_ENDPOINT', 'az command', 'auth_source=msi'):
        assert word in exc.value.msg


def test_access_token_ignores_identity_hints_set_for_the_whole_play():
    plan = resolve({'access_token': 'tok', 'tenant': TENANT, 'client_id': CLIENT})
    assert (plan.kind, plan.access_token) == ('access_token', 'tok')


def test_access_token():
    plan = resolve({'access_token': 'tok'})
    assert (plan.kind, plan.access_token, plan.secrets) == ('access_token', 'tok', ['tok'])
    assert resolve({'auth_source': 'access_token', 'access_token': 'tok'}).kind == 'access_token'


@pytest.mark.parametrize('params, words', [
    ({'secret': 's', 'tenant': 't'}, ['client_id']),
    ({'secret': 's', 'client_id': 'c'}, ['tenant']),
    ({'secret': 's', 'access_token': 'a'}, ['secret and access_token']),
    ({'secret': 's', 'x509_certificate_path': '/p', 'client_id': 'c', 'tenant': 't'}, ['secret and x509_certificate_path']),
    ({'federated_token_file': '/f', 'secret': 's'}, ['secret and federated_token_file', 'auth_source']),
    ({'profile': 'p', 'secret': 's', 'client_id': 'c', 'tenant': 't'}, ['secret and profile']),
    ({'access_token': 'a', 'federated_token_file': '/f'}, ['access_token and federated_token_file']),
    ({'auth_source': 'secret', 'client_id': 'c', 'tenant': 't'}, ['auth_source=secret', 'AZURE_SECRET']),
    ({'auth_source': 'certificate', 'client_id': 'c', 'tenant': 't', 'secret': 's'},
     ['auth_source=certificate', 'x509_certificate_path']),
    ({'auth_source': 'env', 'secret': 's'}, ['auth_source=env', 'AZURE_SECRET']),
    ({'x509_certificate_password': 'pw', 'client_id': 'c', 'tenant': 't'}, ['x509_certificate_password', 'x509_certificate_path']),
    ({'auth_source': 'access_token'}, ['access_token option']),
    ({'cloud_environment': 'Mars'}, ['cloud_environment', 'Mars', 'AzureCloud']),
    ({'access_token': 'a', 'authority_host': 'http://login.example'}, ['authority_host', 'https']),
    ({'access_token': 'a', 'arm_endpoint': 'ftp://x'}, ['arm_endpoint', 'https']),
    ({'auth_source': 'env'}, ['AZURE_CLIENT_ID', 'AZURE_SECRET']),
])
def test_bad_combinations_fail_before_network(params, words):
    with pytest.raises(ConfigError) as exc:
        resolve(params)
    for word in words:
        assert word in exc.value.msg


# An auth_source other than auto names the source; the credential options of the other sources (a play's
# module_defaults, say) are ignored, and none of their secrets is in the plan.
@pytest.mark.parametrize('params, expected', [
    ({'auth_source': 'msi', 'secret': 's', 'profile': 'p'}, ('msi', 'options', None, [])),
    ({'auth_source': 'cli', 'access_token': 'a', 'tenant': TENANT}, ('cli', 'options', None, [])),
    ({'auth_source': 'access_token', 'access_token': 'a', 'secret': 's', 'federated_token_file': '/f'},
     ('access_token', 'options', None, ['a'])),
    ({'auth_source': 'workload_identity', 'federated_token_file': '/f', 'secret': 's', 'access_token': 'a',
      'x509_certificate_path': '/c', 'x509_certificate_password': 'pw', 'client_id': CLIENT, 'tenant': TENANT},
     ('workload_identity', 'options', CLIENT, [])),
    ({'auth_source': 'secret', 'secret': 's', 'federated_token_file': '/f', 'x509_certificate_path': '/c',
      'x509_certificate_password': 'pw', 'access_token': 'a', 'profile': 'p', 'client_id': CLIENT, 'tenant': TENANT},
     ('secret', 'options', CLIENT, ['s'])),
    ({'auth_source': 'certificate', 'x509_certificate_path': '/c', 'x509_certificate_password': 'pw', 'secret': 's',
      'client_id': CLIENT, 'tenant': TENANT}, ('certificate', 'options', CLIENT, ['pw'])),
])
def test_named_source_ignores_the_options_of_the_others(params, expected):
    plan = resolve(params, {'AZURE_SECRET': 'env-secret'})
    assert (plan.kind, plan.origin, plan.client_id, plan.secrets) == expected


def test_named_client_secret_or_certificate_falls_back_to_the_environment():
    env = {'AZURE_CLIENT_ID': 'env-client', 'AZURE_TENANT_ID': 'env-tenant', 'AZURE_CLIENT_SECRET': 'env-secret',
           'AZURE_CLIENT_CERTIFICATE_PATH': '/env/cert.pem', 'AZURE_CLIENT_CERTIFICATE_PASSWORD': 'env-pw'}
    plan = resolve({'auth_source': 'secret', 'federated_token_file': '/f'}, env)
    assert (plan.kind, plan.origin, plan.client_id, plan.tenant, plan.secret) == (
        'secret', 'environment', 'env-client', 'env-tenant', 'env-secret')
    plan = resolve({'auth_source': 'certificate', 'secret': 's'}, env)
    assert (plan.kind, plan.origin, plan.certificate_path, plan.certificate_password, plan.secret) == (
        'certificate', 'environment', '/env/cert.pem', 'env-pw', None)


def test_explicit_option_beats_the_environment_and_the_credentials_file(cred_file):
    env = {'AZURE_CLIENT_ID': 'env-client', 'AZURE_TENANT': 'env-tenant', 'AZURE_SECRET': 'env-secret'}
    plan = resolve({'federated_token_file': '/tmp/oidc', 'client_id': CLIENT}, env, cred_file)
    assert (plan.kind, plan.origin, plan.token_file, plan.client_id, plan.tenant, plan.secrets) == (
        'workload_identity', 'options', '/tmp/oidc', CLIENT, 'env-tenant', [])
    plan = resolve({'profile': 'gov'}, env, cred_file)
    assert (plan.kind, plan.client_id, plan.secret) == ('secret', 'gov-client', 'gov-secret')


def test_two_credential_options_name_both_and_auth_source():
    with pytest.raises(ConfigError) as exc:
        resolve({'secret': 's', 'federated_token_file': '/f', 'client_id': CLIENT, 'tenant': TENANT})
    assert exc.value.msg == ('secret and federated_token_file are different sign-in sources; give only one of them, or'
                             " choose one with auth_source (for example when a play's module_defaults set the other)")
    assert exc.value.details['options'] == ['secret', 'federated_token_file']


def test_a_certificate_password_beside_another_source_names_both_and_auth_source():
    # a play's module_defaults give the certificate's password (its path comes from the environment), the task a secret
    with pytest.raises(ConfigError) as exc:
        resolve({'secret': 's', 'x509_certificate_password': 'pw', 'client_id': CLIENT, 'tenant': TENANT},
                {'AZURE_CLIENT_CERTIFICATE_PATH': '/env/cert.pem'})
    assert exc.value.msg == ('secret and x509_certificate_password are different sign-in sources; give only one of'
                             " them, or choose one with auth_source (for example when a play's module_defaults set"
                             ' the other)')
    assert exc.value.details['options'] == ['secret', 'x509_certificate_password']
    assert 'pw' not in exc.value.msg.split()
    plan = resolve({'auth_source': 'secret', 'secret': 's', 'x509_certificate_password': 'pw', 'client_id': CLIENT,
                    'tenant': TENANT}, {'AZURE_CLIENT_CERTIFICATE_PATH': '/env/cert.pem'})
    assert (plan.kind, plan.secrets) == ('secret', ['s'])


def test_unknown_cloud_from_environment_names_the_variable():
    with pytest.raises(ConfigError, match='AZURE_CLOUD_ENVIRONMENT'):
        resolve({'access_token': 'a'}, {'AZURE_CLOUD_ENVIRONMENT': 'AzureGermanCloud'})


@pytest.mark.parametrize('cloud, authority, arm, ingestion, audience', [
    ('AzureCloud', 'https://login.microsoftonline.com', 'https://management.azure.com',
     'https://{region}.monitoring.azure.com', 'https://monitoring.azure.com/'),
    ('AzureUSGovernment', 'https://login.microsoftonline.us', 'https://management.usgovcloudapi.net',
     'https://{region}.monitoring.azure.us', 'https://monitoring.azure.us/'),
    ('AzureChinaCloud', 'https://login.chinacloudapi.cn', 'https://management.chinacloudapi.cn',
     'https://{region}.monitoring.azure.cn', 'https://monitoring.azure.cn/'),
])
def test_cloud_table(cloud, authority, arm, ingestion, audience):
    plan = resolve({'access_token': 'a', 'cloud_environment': cloud})
    assert (plan.cloud['authority_host'], plan.cloud['arm_endpoint'], plan.cloud['ingestion_endpoint'],
            plan.cloud['ingestion_audience']) == (authority, arm, ingestion, audience)


def test_cloud_from_environment():
    plan = resolve({'access_token': 'a'}, {'AZURE_CLOUD_ENVIRONMENT': 'AzureChinaCloud'})
    assert plan.cloud['graph_endpoint'] == 'https://microsoftgraph.chinacloudapi.cn'


def test_overrides_replace_endpoints_and_keep_audiences():
    plan = resolve({'access_token': 'a', 'authority_host': 'https://127.0.0.1:8443/', 'arm_endpoint': 'https://127.0.0.1:1/',
                    'graph_endpoint': 'https://127.0.0.1:2', 'ingestion_endpoint': 'https://127.0.0.1:3/{region}/',
                    'ingestion_audience': 'https://monitor.azure.com/'})
    assert plan.cloud['authority_host'] == 'https://127.0.0.1:8443'
    assert plan.cloud['arm_endpoint'] == 'https://127.0.0.1:1'
    assert plan.cloud['graph_endpoint'] == 'https://127.0.0.1:2'
    assert plan.cloud['ingestion_endpoint'] == 'https://127.0.0.1:3/{region}'
    assert plan.cloud['ingestion_audience'] == 'https://monitor.azure.com/'
    assert plan.cloud['arm_audience'] == 'https://management.azure.com/'


def test_authority_host_from_environment_without_scheme():
    plan = resolve({'access_token': 'a'}, {'AZURE_AUTHORITY_HOST': 'login.microsoftonline.us'})
    assert plan.cloud['authority_host'] == 'https://login.microsoftonline.us'


def test_subscription_from_option_then_environment(cred_file):
    assert resolve({'access_token': 'a', 'subscription_id': 'opt'}, {'AZURE_SUBSCRIPTION_ID': 'env'}).subscription_id == 'opt'
    assert resolve({'access_token': 'a'}, {'AZURE_SUBSCRIPTION_ID': 'env'}).subscription_id == 'env'


def test_empty_strings_count_as_unset():
    plan = resolve({'access_token': 'a', 'secret': '', 'profile': ''})
    assert plan.kind == 'access_token'


def _jwt(claims):
    def enc(doc):
        return base64.urlsafe_b64encode(json.dumps(doc).encode()).rstrip(b'=').decode()
    return '%s.%s.sig' % (enc({'alg': 'RS256'}), enc(claims))


def test_static_token_refuses_expired_and_refresh():
    fresh = StaticTokenSource(_jwt({'exp': time.time() + 600}))
    assert fresh.token().count('.') == 2
    with pytest.raises(AuthError, match='expired'):
        StaticTokenSource(_jwt({'exp': 1000})).token()
    with pytest.raises(AuthError, match='cannot be refreshed'):
        fresh.refresh()


def test_sign_in_against_an_untrusted_certificate_names_ca_path(emu):
    """The emulator's sign-in, whose CA is not given: the TLS failure names ca_path, never the secret."""
    from ansible_collections.azmon.metrics.plugins.module_utils._auth import TokenProvider  # pylint: disable=import-outside-toplevel
    from ansible_collections.azmon.metrics.plugins.module_utils._http import HttpClient  # pylint: disable=import-outside-toplevel
    plan = resolve({'client_id': CLIENT, 'secret': 'never-shown', 'tenant': TENANT, 'authority_host': emu.info['login'],
                    'disable_instance_discovery': True})
    source = TokenProvider(plan, HttpClient(timeout=5)).source('https://monitoring.azure.com/')
    with pytest.raises(AuthError) as exc:
        source.token()
    assert 'ca_path' in exc.value.msg and 'never-shown' not in exc.value.msg
