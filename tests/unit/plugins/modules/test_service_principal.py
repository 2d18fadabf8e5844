# -*- coding: utf-8 -*-
# Copyright (c) azmon.metrics contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""service_principal: the Registration against the emulator's Graph (tests/unit/conftest.py: ``emu``), main() over TLS."""

from __future__ import annotations

import datetime
import json
import os
import stat
import uuid

import pytest
import requests

from ansible_collections.azmon.metrics.plugins.module_utils import _app_credentials
from ansible_collections.azmon.metrics.plugins.module_utils._errors import ServiceError, ValidationError
from ansible_collections.azmon.metrics.plugins.module_utils._graph import GraphClient
from ansible_collections.azmon.metrics.plugins.module_utils._http import HttpClient, RetryPolicy
from ansible_collections.azmon.metrics.plugins.module_utils._wait import Wait
from ansible_collections.azmon.metrics.plugins.modules import service_principal
from ansible_collections.azmon.metrics.plugins.module_utils._registration import (
    Registration,
    check_options,
    derived_unique_name,
)

GH = 'https://token.actions.githubusercontent.com'
UTC = datetime.timezone.utc


@pytest.fixture
def graph(emu_clients):
    """A GraphClient on the reset emulator, signed in as the seed's admin (Application.ReadWrite.All); ``.emu`` is the
    emulator."""
    client = emu_clients.graph()
    client.emu = emu_clients.emu
    return client


def writes(graph):
    """The writes that reached the emulator's Graph since the log was last cleared: ``(method, path, body)``."""
    return [(r['method'], r['path'], r.get('json')) for r in graph.emu.admin('GET', '/_admin/requests?service=graph')['value']
            if r['method'] in ('POST', 'PATCH', 'DELETE')]


def clear_log(graph):
    graph.emu.admin('DELETE', '/_admin/requests')


def directory(graph):
    """The emulator's applications (by id) and service principals (by appId) that are not the seed's."""
    seeded = {p.get('appId') or p.get('clientId') for p in graph.emu.seed['principals'].values()}
    held = graph.emu.admin('GET', '/_admin/applications')
    apps = {a['id']: a for a in held['value'] if a['appId'] not in seeded}
    sps = {s['appId']: s for s in held['servicePrincipals'] if s['appId'] not in seeded}
    return apps, sps


def add_app(graph, name):
    """An application made earlier (without a service principal); the request log is cleared afterwards."""
    app = graph.call('POST', 'applications', json_body={'displayName': name}, ok=(201,)).json()
    clear_log(graph)
    return app


def signs_in(graph, app_id, secret):
    """Whether the emulator's sign-in takes ``secret`` for the application ``app_id``."""
    info = graph.emu.info
    resp = requests.post('%s/%s/oauth2/v2.0/token' % (info['login'], info['tenant_id']), timeout=10,
                         verify=info['ca_bundle'], data={'grant_type': 'client_credentials', 'client_id': app_id,
                                                         'client_secret': secret,
                                                         'scope': 'https://monitoring.azure.com/.default'})
    return resp.status_code == 200


def params(**kw):
    base = {'state': 'present', 'display_name': 'metrics-publisher', 'app_id': None, 'unique_name': None,
            'federated_credentials': None, 'purge_federated_credentials': False, 'client_secret': None,
            'certificates': None, 'replication_timeout': 60.0}
    base.update(kw)
    return base


def secret_opts(**kw):
    base = {'display_name': 'ansible', 'end_date_time': None, 'lifetime_days': None, 'rotate': False,
            'secret_file': None}
    base.update(kw)
    return base


def fic(name, subject='repo:o/r:ref:refs/heads/main', **kw):
    item = {'name': name, 'issuer': GH, 'subject': subject, 'audiences': ['api://AzureADTokenExchange'],
            'description': None}
    item.update(kw)
    return item


def run(graph, check_mode=False, no_log=False, warnings=None, **kw):
    wanted = check_options(params(**kw), no_log=no_log)
    return Registration(graph, wanted, check_mode=check_mode, no_log=no_log,
                        warn=(warnings.append if warnings is not None else None)).run()


# --- application and service principal -------------------------------------------------------------------

def test_create_then_rerun_unchanged(graph):
    first = run(graph)
    assert first['changed'] is True
    assert first['changes'] == ['created application metrics-publisher', 'created service principal']
    app = graph.application_by_app_id(first['app_id'])
    assert first['application_object_id'] == app['id']
    assert first['service_principal_object_id'] == graph.service_principal_by_app_id(app['appId'])['id']
    assert first['unique_name'] == derived_unique_name('metrics-publisher')
    assert first['diff']['before'] == {'state': 'absent'}
    assert first['msg'] == 'created application metrics-publisher; created service principal'
    clear_log(graph)
    second = run(graph)
    assert second['changed'] is False and second['changes'] == [] and writes(graph) == []
    assert second['msg'] == ('application metrics-publisher (%s) and its service principal are as wanted'
                             % first['app_id'])
    assert second['service_principal_object_id'] == first['service_principal_object_id']
    assert second['diff']['before'] == second['diff']['after']


def test_check_mode_writes_nothing(graph, tmp_path):
    result = run(graph, check_mode=True, federated_credentials=[fic('gh-main')],
                 client_secret=secret_opts(secret_file=str(tmp_path / 'never-written')))
    assert result['changed'] is True
    assert writes(graph) == []
    assert result['app_id'] is None and result['service_principal_object_id'] is None
    assert result['changes'] == ['created application metrics-publisher', 'created service principal',
                                 'created federated credential gh-main', 'created client secret ansible']
    assert 'secret_text' not in result
    assert result['msg'].startswith('check mode, would have: created application metrics-publisher; ')
    assert list(tmp_path.iterdir()) == []


def test_check_mode_predicts_a_secret_file_that_cannot_be_written(graph, tmp_path):
    with pytest.raises(ValidationError, match='does not exist'):
        run(graph, check_mode=True, client_secret=secret_opts(secret_file=str(tmp_path / 'no' / 'such')))


def test_an_application_found_by_unique_name_is_not_duplicated_when_search_lags(graph):
    run(graph)
    clear_log(graph)
    # the display-name search does not show the new application yet
    graph.emu.admin('POST', '/_admin/faults', {'action': 'stale_read', 'service': 'graph', 'path': '^/v1.0/applications$'})
    result = run(graph)
    assert result['changed'] is False and writes(graph) == []
    assert len(directory(graph)[0]) == 1


def test_upsert_that_finds_an_application_reports_no_creation(graph):
    first = run(graph)
    clear_log(graph)
    # Neither the key read nor the search sees it yet (another replica); the upsert lands on it.
    graph.emu.admin('POST', '/_admin/faults', {'faults': [
        {'action': 'stale_read', 'service': 'graph', 'path': r'^/v1\.0/applications\(uniqueName=', 'count': 1},
        {'action': 'stale_read', 'service': 'graph', 'path': '^/v1.0/applications$'}]})
    result = run(graph)
    assert result['changed'] is False and result['changes'] == []
    unique = derived_unique_name('metrics-publisher')
    assert writes(graph) == [('PATCH', "/v1.0/applications(uniqueName='%s')" % unique, {'displayName': 'metrics-publisher'})]
    assert result['app_id'] == first['app_id'] and len(directory(graph)[0]) == 1


def test_existing_application_without_service_principal_gets_one(graph):
    app = add_app(graph, 'metrics-publisher')
    result = run(graph)
    assert result['changes'] == ['created service principal']
    assert [(method, path) for method, path, _body in writes(graph)] == [
        ('PATCH', "/v1.0/servicePrincipals(appId='%s')" % app['appId'])]
    assert result['diff']['before']['service_principal'] is False


def test_ambiguous_display_name_fails_listing_app_ids(graph):
    one, two = add_app(graph, 'Twin'), add_app(graph, 'twin')
    with pytest.raises(ValidationError) as info:
        run(graph, display_name='Twin')
    for app in (one, two):
        assert app['appId'] in info.value.msg
    assert 'app_id' in info.value.msg
    assert writes(graph) == []
    result = run(graph, display_name='Twin', app_id=one['appId'])
    assert result['app_id'] == one['appId']


def test_app_id_that_does_not_exist(graph):
    missing = str(uuid.uuid4())
    with pytest.raises(ValidationError, match='no application has the application ID'):
        run(graph, display_name=None, app_id=missing)
    result = run(graph, display_name=None, app_id=missing, state='absent')
    assert result['changed'] is False


def test_app_id_with_another_display_name_renames(graph):
    app = add_app(graph, 'old-name')
    graph.ensure_service_principal(app['appId'])
    clear_log(graph)
    result = run(graph, display_name='new-name', app_id=app['appId'])
    assert result['changes'] == ["renamed application 'old-name' to 'new-name'"]
    assert result['display_name'] == 'new-name' and graph.application(app['id'])['displayName'] == 'new-name'


def test_absent_deletes_and_then_is_unchanged(graph):
    run(graph)
    check = run(graph, state='absent', check_mode=True)
    assert check['changed'] is True and len(directory(graph)[0]) == 1
    result = run(graph, state='absent')
    assert result['changed'] is True and directory(graph) == ({}, {})
    assert result['diff']['after'] == {'state': 'absent'}
    again = run(graph, state='absent')
    assert again['changed'] is False
    assert again['msg'] == 'no application metrics-publisher: nothing to delete'


# --- federated credentials --------------------------------------------------------------------------------

def test_federated_credentials_created_updated_untouched_purged(graph):
    first = run(graph, federated_credentials=[fic('gh-main'), fic('gh-prod', subject='repo:o/r:environment:prod')])
    assert 'created federated credential gh-main' in first['changes']
    assert [c['name'] for c in first['federated_credentials']] == ['gh-main', 'gh-prod']
    clear_log(graph)
    same = run(graph, federated_credentials=[fic('gh-main'), fic('gh-prod', subject='repo:o/r:environment:prod')])
    assert same['changed'] is False and writes(graph) == []
    changed = run(graph, federated_credentials=[fic('gh-main', subject='repo:o/r:ref:refs/heads/release')])
    assert changed['changes'] == ['updated federated credential gh-main (subject)']
    assert {c['name'] for c in changed['federated_credentials']} == {'gh-main', 'gh-prod'}
    assert changed['diff']['before']['federated_credentials'][0]['subject'] == 'repo:o/r:ref:refs/heads/main'
    assert changed['diff']['after']['federated_credentials'][0]['subject'] == 'repo:o/r:ref:refs/heads/release'
    purged = run(graph, federated_credentials=[fic('gh-main', subject='repo:o/r:ref:refs/heads/release')],
                 purge_federated_credentials=True)
    assert purged['changes'] == ['deleted federated credential gh-prod']
    assert [c['name'] for c in purged['federated_credentials']] == ['gh-main']


def test_federated_credentials_omitted_are_left_alone_and_reported(graph):
    run(graph, federated_credentials=[fic('gh-main')])
    clear_log(graph)
    result = run(graph, purge_federated_credentials=True)
    assert result['changed'] is False and writes(graph) == []
    assert [c['name'] for c in result['federated_credentials']] == ['gh-main']


# --- client secret ----------------------------------------------------------------------------------------

def test_secret_created_once_across_three_runs(graph, tmp_path):
    target = tmp_path / 'publisher.secret'
    results = [run(graph, client_secret=secret_opts(secret_file=str(target))) for dummy in range(3)]
    assert [r['changed'] for r in results] == [True, False, False]
    assert [body for method, path, body in writes(graph) if path.endswith('/addPassword')] == [
        {'passwordCredential': {'displayName': 'ansible'}}]
    secret = target.read_text()
    assert signs_in(graph, results[0]['app_id'], secret)
    assert stat.S_IMODE(os.stat(target).st_mode) == 0o600
    assert results[0]['client_secret']['created'] is True
    assert results[2]['client_secret'] == dict(results[0]['client_secret'], created=False)
    for result in results:
        assert 'secret_text' not in result
        assert secret not in json.dumps(result)


def test_secret_text_only_in_a_no_log_task(graph):
    result = run(graph, no_log=True, client_secret=secret_opts())
    assert signs_in(graph, result['app_id'], result['secret_text'])
    assert result['secret_text'] not in json.dumps(result['diff'])
    assert result['secret_text'] not in json.dumps(result['changes'])


def test_secret_without_any_safe_delivery_is_refused_before_anything_is_sent():
    with pytest.raises(ValidationError) as info:
        check_options(params(client_secret=secret_opts()), no_log=False)
    assert 'client_secret.secret_file' in info.value.msg and 'no_log' in info.value.msg


def test_secret_exists_but_file_missing_warns(graph, tmp_path):
    run(graph, no_log=True, client_secret=secret_opts())
    warnings = []
    result = run(graph, warnings=warnings, client_secret=secret_opts(secret_file=str(tmp_path / 'gone')))
    assert result['changed'] is False
    assert len(warnings) == 1 and 'rotate' in warnings[0]
    assert not (tmp_path / 'gone').exists()


def test_secret_rotation_replaces_the_old_one(graph, tmp_path):
    target = tmp_path / 's'
    first = run(graph, client_secret=secret_opts(secret_file=str(target)))
    old_secret = target.read_text()
    rotated = run(graph, client_secret=secret_opts(secret_file=str(target), rotate=True))
    assert rotated['changes'] == ['rotated client secret ansible', 'removed 1 older client secret(s) named ansible']
    new_id = rotated['client_secret']['key_id']
    assert new_id != first['client_secret']['key_id']
    app = graph.application_by_app_id(first['app_id'])
    assert [c['keyId'] for c in app['passwordCredentials']] == [new_id]
    assert signs_in(graph, first['app_id'], target.read_text())
    assert not signs_in(graph, first['app_id'], old_secret)


def test_secret_that_cannot_be_stored_is_removed_again(graph, tmp_path, monkeypatch):
    def broken_commit(self, text):
        raise OSError(28, 'No space left on device')

    monkeypatch.setattr(_app_credentials.SecretFile, 'commit', broken_commit)
    with pytest.raises(ValidationError) as info:
        run(graph, client_secret=secret_opts(secret_file=str(tmp_path / 's')))
    assert 'No space left' in info.value.msg and 'removed again' in info.value.msg
    (app,) = directory(graph)[0].values()
    assert graph.application(app['id'])['passwordCredentials'] == []
    assert list(tmp_path.iterdir()) == []


def test_secret_file_directory_checked_before_creation(graph, tmp_path):
    with pytest.raises(ValidationError, match='does not exist'):
        run(graph, client_secret=secret_opts(secret_file=str(tmp_path / 'no' / 'such')))
    assert writes(graph) == []


@pytest.mark.parametrize('where, words', [
    ('missing/secret', 'the directory'),
    ('.', 'is a directory'),
])
def test_secret_file_refused_before_any_write(tmp_path, where, words):
    """The application and its service principal are not created when the secret could not be stored."""
    with pytest.raises(ValidationError) as exc:
        check_options(params(client_secret=secret_opts(secret_file=str(tmp_path / where))), no_log=False)
    assert exc.value.details['option'] == 'client_secret.secret_file' and words in exc.value.msg


# --- certificates -----------------------------------------------------------------------------------------

def make_pem(cn='publisher', days=365):
    x509 = pytest.importorskip('cryptography.x509', reason='cryptography builds the test certificate')
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])
    start = datetime.datetime.now(UTC) - datetime.timedelta(days=1)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(start)
            .not_valid_after(start + datetime.timedelta(days=days)).sign(key, hashes.SHA256()))
    return cert.public_bytes(serialization.Encoding.PEM).decode(), cert.fingerprint(hashes.SHA1()).hex().upper()


def test_certificate_added_once_and_existing_ones_kept(graph, tmp_path):
    pem1, thumb1 = make_pem('one')
    pem2, thumb2 = make_pem('two')
    path = tmp_path / 'two.pem'
    path.write_text(pem2)
    first = run(graph, certificates=[{'content': pem1, 'path': None, 'display_name': 'first'}])
    assert 'added certificate %s' % thumb1 in first['changes']
    assert [c['thumbprint'] for c in first['certificates']] == [thumb1]
    clear_log(graph)
    again = run(graph, certificates=[{'content': pem1, 'path': None, 'display_name': 'first'}])
    assert again['changed'] is False and writes(graph) == []
    both = run(graph, certificates=[{'content': pem1, 'path': None, 'display_name': None},
                                    {'content': None, 'path': str(path), 'display_name': None}])
    assert both['changes'] == ['added certificate %s' % thumb2]
    assert sorted(c['thumbprint'] for c in both['certificates']) == sorted([thumb1, thumb2])
    stored = graph.key_credentials(first['application_object_id'])
    assert len(stored) == 2 and all(c.get('key') for c in stored)


def test_certificate_not_added_when_graph_hides_an_existing_key(graph, emu_clients, tls_scripted_server):
    """Graph answering an existing certificate without its key: the emulator's Graph always gives it on $select,
    so its answers to the first run are replayed by the scripted server with the key left out."""
    pem1, dummy = make_pem('one')
    pem2, dummy = make_pem('two')
    first = run(graph, certificates=[{'content': pem1, 'path': None, 'display_name': None}])
    app = graph.application(first['application_object_id'])
    hidden = [dict(cred, key=None) for cred in graph.key_credentials(app['id'])]
    server = tls_scripted_server
    server.script = [(200, {}, app), (200, {}, graph.service_principal_by_app_id(first['app_id'])),
                     (200, {}, {'value': []}), (200, {}, {'id': app['id'], 'keyCredentials': hidden})]
    http = HttpClient(ca_path=server.ca_path, retry=RetryPolicy(sleep=lambda s: None), timeout=10)
    replay = GraphClient(http, server.url, emu_clients.token('admin', 'graph'), wait=Wait(sleep=lambda s: None))
    with pytest.raises(ServiceError, match='would remove it'):
        run(replay, certificates=[{'content': pem2, 'path': None, 'display_name': None}])
    assert [r['method'] for r in server.requests] == ['GET'] * 4


def test_expired_certificate_refused(graph):
    pem, dummy = make_pem(days=0)
    with pytest.raises(ValidationError, match='expired'):
        run(graph, certificates=[{'content': pem, 'path': None, 'display_name': None}])


def test_unreadable_certificate_path_is_a_clear_error(tmp_path):
    with pytest.raises(ValidationError, match=r'certificates\[0\].path: cannot read'):
        check_options(params(certificates=[{'content': None, 'path': str(tmp_path / 'x.pem'), 'display_name': None}]),
                      no_log=False)


def test_derived_unique_name_ignores_case_and_is_stable():
    assert derived_unique_name('Metrics-Publisher') == derived_unique_name('metrics-publisher ')
    assert derived_unique_name('a') != derived_unique_name('b')
    assert derived_unique_name('a').startswith('azmon-')


# --- main() end to end over TLS, as Ansible runs it ------------------------------------------------------------

@pytest.fixture
def tls_server(tls_scripted_server):
    """The scripted server behind TLS (tests/unit/conftest.py; cloud endpoints must be https) answers as Graph."""
    return tls_scripted_server


def module_args(server, **kw):
    args = {'auth_source': 'access_token', 'access_token': 'opaque-graph-token', 'graph_endpoint': server.url,
            'ca_path': server.ca_path, 'display_name': "O'Brien publisher"}
    args.update(kw)
    return args


APP = {'id': 'aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee', 'appId': '11111111-2222-3333-4444-555555555555',
       'displayName': "O'Brien publisher", 'uniqueName': None, 'passwordCredentials': [], 'keyCredentials': []}
SP = {'id': '99999999-8888-7777-6666-555555555555', 'appId': APP['appId']}
NOT_FOUND = (404, {}, {'error': {'code': 'Request_ResourceNotFound', 'message': 'not found'}})


def test_main_creates_over_the_wire(tls_server, run_main):
    tls_server.script = [
        NOT_FOUND,                                   # GET applications(uniqueName=...)
        (200, {}, {'value': []}),                    # GET applications?$filter=displayName eq ...
        (201, {}, dict(APP, uniqueName='u')),        # PATCH applications(uniqueName=...) create-if-missing
        (201, {}, SP),                               # PATCH servicePrincipals(appId=...) create-if-missing
        (201, {}, {'id': '12345678-1234-1234-1234-123456789012', 'name': 'gh-main', 'issuer': GH,
                   'subject': 'repo:o/r:ref:refs/heads/main', 'audiences': ['api://AzureADTokenExchange']}),
    ]
    result = run_main(service_principal, module_args(tls_server, federated_credentials=[
        {'name': 'gh-main', 'issuer': GH, 'subject': 'repo:o/r:ref:refs/heads/main'}], _ansible_diff=True))
    assert result.get('failed') is None, result
    assert result['changed'] is True
    assert result['app_id'] == APP['appId'] and result['service_principal_object_id'] == SP['id']
    assert result['diff']['before'] == {'state': 'absent'}
    reqs = tls_server.requests
    assert [r['method'] for r in reqs] == ['GET', 'GET', 'PATCH', 'PATCH', 'POST']
    unique = derived_unique_name("O'Brien publisher")
    assert reqs[0]['path'] == "/v1.0/applications(uniqueName='%s')" % unique
    assert "O%27%27Brien" in reqs[1]['path']
    assert json.loads(reqs[2]['body']) == {'displayName': "O'Brien publisher"}
    assert reqs[3]['path'] == "/v1.0/servicePrincipals(appId='%s')" % APP['appId']
    assert json.loads(reqs[3]['body']) == {'displayName': "O'Brien publisher"}
    assert json.loads(reqs[4]['body'])['audiences'] == ['api://AzureADTokenExchange']
    assert all(r['headers']['Authorization'] == 'Bearer opaque-graph-token' for r in reqs)


def test_main_unchanged_over_the_wire(tls_server, run_main):
    tls_server.script = [(200, {}, APP), (200, {}, SP), (200, {}, {'value': []})]
    result = run_main(service_principal, module_args(tls_server, unique_name='my-unique'))
    assert result['changed'] is False and result['changes'] == []
    assert 'diff' not in result
    assert tls_server.requests[0]['path'] == "/v1.0/applications(uniqueName='my-unique')"


def test_main_refuses_a_secret_that_would_be_logged_before_sending(tls_server, run_main):
    result = run_main(service_principal, module_args(tls_server, client_secret={'display_name': 'ansible'}))
    assert result['failed'] is True
    assert 'client_secret.secret_file' in result['msg']
    assert tls_server.requests == []


def test_main_returns_secret_text_in_a_no_log_task(tls_server, run_main):
    tls_server.script = [(200, {}, APP), (200, {}, SP), (200, {}, {'value': []}),
                         (200, {}, {'displayName': 'ansible', 'keyId': '0f0f0f0f-0000-0000-0000-000000000000',
                                    'endDateTime': '2027-06-01T00:00:00Z', 'secretText': 'Abc~TheSecret'})]
    result = run_main(service_principal, module_args(tls_server, unique_name='u', _ansible_no_log=True,
                                                     client_secret={'display_name': 'ansible', 'lifetime_days': 180}))
    assert result['changed'] is True
    assert result['secret_text'] == 'Abc~TheSecret'
    sent = json.loads(tls_server.requests[-1]['body'])
    assert sent['passwordCredential']['displayName'] == 'ansible'
    assert sent['passwordCredential']['endDateTime'].endswith('Z')


def test_main_ambiguous_name_fails_with_candidates(tls_server, run_main):
    tls_server.script = [NOT_FOUND, (200, {}, {'value': [dict(APP), dict(APP, appId='22222222-2222-3333-4444-555555555555')]})]
    result = run_main(service_principal, module_args(tls_server))
    assert result['failed'] is True
    assert APP['appId'] in result['msg'] and '22222222-2222-3333-4444-555555555555' in result['msg']
    assert len(tls_server.requests) == 2


def test_main_graph_error_keeps_code_and_request_id(tls_server, run_main):
    tls_server.script = [(403, {'request-id': 'rid-7'}, {'error': {'code': 'Authorization_RequestDenied',
                                                                   'message': 'Insufficient privileges'}})]
    result = run_main(service_principal, module_args(tls_server, unique_name='u'))
    assert result['failed'] is True
    assert result['status'] == 403 and result['error_code'] == 'Authorization_RequestDenied'
    assert result['request_id'] == 'rid-7'


@pytest.mark.parametrize('args, words', [
    ({'app_id': 'not-a-guid'}, 'app_id must be a GUID'),
    ({'federated_credentials': [{'name': 'x', 'issuer': GH, 'subject': 's'}]}, 'federated_credentials[0].name'),
    ({'client_secret': {'display_name': 'a', 'end_date_time': '+1d', 'lifetime_days': 3}}, 'mutually exclusive'),
    ({'display_name': None}, 'one of the following is required'),
])
def test_main_option_errors_name_the_option(run_main, args, words):
    base = {'auth_source': 'access_token', 'access_token': 'opaque-token-value', 'display_name': 'publisher'}
    base.update(args)
    base = {k: v for k, v in base.items() if v is not None}
    result = run_main(service_principal, base)
    assert result['failed'] is True
    assert words in result['msg']
