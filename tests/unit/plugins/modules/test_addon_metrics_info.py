# -*- coding: utf-8 -*-
# Copyright (c) azmon.metrics contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""addon_metrics_info's main() against a real TLS socket (the scripted server of conftest.py behind TLS)."""

from __future__ import annotations

import base64
import datetime
import json
import ssl
import time
from urllib.parse import parse_qs, urlsplit

import pytest

from ansible_collections.azmon.metrics.plugins.modules import addon_metrics_info

SAMPLE = [
    {'Name': 'StorageUsed', 'PrimaryAggregationType': 'Average', 'Unit': 'Bytes', 'TimeGrain': '1.00:00:00',
     'StartTime': '2013-06-20T00:00:00.0000000Z', 'EndTime': '2013-06-23T00:00:00.0000000Z',
     'Values': [{'TimeCreated': '2013-06-22T00:00:00.0000000-07:00', 'Total': 42, 'Minimum': None, 'Maximum': None,
                 'Count': 2}]},
    {'Name': 'JobsCompleted', 'PrimaryAggregationType': 'Total', 'ConfigState': 'Count', 'TimeGrain': '00:05:00',
     'Values': []},
]


@pytest.fixture(autouse=True)
def as_on_a_managed_node(monkeypatch):
    """Once any test imports controller code (ansible.errors, a filter), ansible-core 2.19 sends module warnings
    to the controller's Display instead of the result; a module runs where that never happens."""
    from ansible.module_utils import _internal  # pylint: disable=import-outside-toplevel
    monkeypatch.setattr(_internal, 'is_controller', False)


@pytest.fixture
def wap(tls_scripted_server):
    """The scripted server behind TLS (tests/unit/conftest.py) answers as WAP's admin API."""
    return tls_scripted_server


@pytest.fixture
def pki(wap):
    """The CA bundle that trusts ``wap``."""
    return {'ca': wap.ca_path}


def b64(doc):
    return base64.urlsafe_b64encode(json.dumps(doc).encode()).rstrip(b'=').decode()


def make_token(lifetime=3600):
    claims = {'upn': 'CONTOSO\\wapadmin', 'exp': int(time.time()) + lifetime, 'aud': 'http://azureservices/AdminSite'}
    return '%s.%s.%s' % (b64({'alg': 'RS256', 'typ': 'JWT'}), b64(claims), 'c2lnbmF0dXJlLXNpZ25hdHVyZQ')


def warnings_of(result):
    """Warning texts (ansible-core 2.19 prints them as WarningSummary objects in the raw module JSON)."""
    return [w['event']['msg'] if isinstance(w, dict) else w for w in result.get('warnings', [])]


def args(server, pki, **extra):
    base = {'endpoint': server.url, 'addon_id': 'contoso-backup', 'token': make_token(),
            'principal_id': 'CONTOSO\\wapadmin', 'ca_path': pki['ca'], 'start_time': '2013-06-20T00:00:00Z',
            'end_time': '2013-06-23T00:00:00Z'}
    base.update(extra)
    return base


def test_happy_path(run_main, wap, pki):
    wap.script = [(200, {'Content-Type': 'application/json', 'x-ms-request-id': 'srv-1'}, SAMPLE)]
    module_args = args(wap, pki)
    result = run_main(addon_metrics_info, module_args)
    assert not result.get('failed'), result
    assert result['changed'] is False
    assert result['addon_id'] == 'contoso-backup'
    assert result['start_time'] == '2013-06-20T00:00:00.0000000Z'
    assert result['end_time'] == '2013-06-23T00:00:00.0000000Z'
    assert result['request_id'] == 'srv-1'
    assert len(result['client_request_id']) == 36
    assert result['msg'] == ('2 metric(s) of add-on contoso-backup read, 1 data point(s), from'
                             ' 2013-06-20T00:00:00.0000000Z to 2013-06-23T00:00:00.0000000Z')
    storage, jobs = result['metrics']
    assert storage['unit'] == 'Bytes' and storage['time_grain_seconds'] == 86400
    assert storage['time_grain_iso8601'] == 'P1D'
    assert storage['data_points'] == [{'time': '2013-06-22T07:00:00Z', 'time_raw': '2013-06-22T00:00:00.0000000-07:00',
                                       'total': 42, 'minimum': None, 'maximum': None, 'count': 2}]
    assert jobs['unit'] == 'Count' and jobs['time_grain_iso8601'] == 'PT5M'
    (req,) = wap.requests
    assert urlsplit(req['path']).path == '/addons/contoso-backup/metrics'
    assert parse_qs(urlsplit(req['path']).query) == {'startTime': ['2013-06-20T00:00:00.0000000Z'],
                                                     'endTime': ['2013-06-23T00:00:00.0000000Z']}
    assert req['headers']['x-ms-client-request-id'] == result['client_request_id']
    assert req['headers']['Authorization'] == 'Bearer ' + module_args['token']
    assert module_args['token'] not in json.dumps(result)
    assert warnings_of(result) == []


def test_check_mode_reads_the_same(run_main, wap, pki):
    wap.script = [(200, {}, SAMPLE)]
    result = run_main(addon_metrics_info, args(wap, pki, _ansible_check_mode=True, client_request_id='mine-1',
                                               metric_names=['jobscompleted', 'Missing']))
    assert result['changed'] is False
    assert result['client_request_id'] == 'mine-1'
    assert [m['name'] for m in result['metrics']] == ['JobsCompleted']
    assert warnings_of(result) == ["WAP returned no metric named 'Missing'"]
    assert wap.requests[0]['headers']['x-ms-client-request-id'] == 'mine-1'


def test_relative_times(run_main, wap, pki):
    wap.script = [(200, {}, [])]
    before = datetime.datetime.now(datetime.timezone.utc)
    result = run_main(addon_metrics_info, args(wap, pki, start_time='-7d', end_time='now'))
    assert result['metrics'] == []
    query = parse_qs(urlsplit(wap.requests[0]['path']).query)
    start = datetime.datetime.strptime(query['startTime'][0][:19], '%Y-%m-%dT%H:%M:%S').replace(
        tzinfo=datetime.timezone.utc)
    end = datetime.datetime.strptime(query['endTime'][0][:19], '%Y-%m-%dT%H:%M:%S').replace(
        tzinfo=datetime.timezone.utc)
    assert query['startTime'][0].endswith('Z') and len(query['startTime'][0]) == 28
    assert abs((end - start).total_seconds() - 7 * 86400) < 1
    assert abs((end - before).total_seconds()) < 60


@pytest.mark.parametrize('extra, option, says', [
    ({'endpoint': 'http://127.0.0.1:1'}, 'endpoint', 'must use https'),
    ({'endpoint': 'wap.contoso.com'}, 'endpoint', 'not a URL'),
    ({'addon_id': '../../admin'}, 'addon_id', 'one path segment'),
    ({'addon_id': 'x?y=1'}, 'addon_id', 'one path segment'),
    ({'addon_id': 'a#b'}, 'addon_id', 'one path segment'),
    ({'addon_id': '..'}, 'addon_id', 'relative path segment'),
    ({'token': make_token(lifetime=-120)}, 'token', 'expired at'),
    ({'token': 'abc.def'}, 'token', 'not a JWT'),
    ({'start_time': '2013-06-23T00:00:00Z', 'end_time': '2013-06-20T00:00:00Z'}, 'start_time', 'must be before'),
    ({'start_time': 'now', 'end_time': '-1h'}, 'start_time', 'must be before'),
    ({'start_time': 'yesterday'}, 'start_time', 'not a time'),
    ({'end_time': '2013-13-01T00:00:00Z'}, 'end_time', 'not a valid date and time'),
    ({'principal_id': 'CONTOSO\\x\r\nX-Admin: yes'}, 'principal_id', 'control characters'),
    ({'client_session_id': 'a\nb'}, 'client_session_id', 'control characters'),
    ({'metric_names': ['']}, 'metric_names', 'empty name'),
    ({'ca_path': '/nonexistent/ca.pem'}, 'ca_path', 'does not exist'),
    ({'timeout': 0}, 'timeout', 'from 1 to 3600 seconds'),
    ({'timeout': -5}, 'timeout', 'from 1 to 3600 seconds'),
    ({'timeout': 1e9}, 'timeout', 'from 1 to 3600 seconds'),
    ({'ca_path': '/'}, 'ca_path', 'is a directory'),
])
def test_mistakes_fail_before_anything_is_sent(run_main, wap, pki, extra, option, says):
    module_args = args(wap, pki, **extra)
    result = run_main(addon_metrics_info, module_args)
    assert result['failed'] is True
    assert result['msg'].startswith(option), result['msg']
    assert says in result['msg']
    assert result['option'] == option
    assert result['client_request_id']
    assert wap.requests == []
    assert module_args['token'] not in json.dumps(result)


def test_tls_without_ca_path_fails_clearly(run_main, wap, pki):
    result = run_main(addon_metrics_info, args(wap, pki, ca_path=None))
    assert result['failed'] is True
    assert 'TLS verification failed for %s' % wap.url in result['msg']
    assert 'ca_path' in result['msg']
    assert result['client_request_id'] in result['msg']
    assert wap.requests == []


def test_validate_certs_false_works_with_a_warning(run_main, wap, pki):
    wap.script = [(200, {}, SAMPLE)]
    result = run_main(addon_metrics_info, args(wap, pki, ca_path=None, validate_certs=False))
    assert not result.get('failed'), result
    assert len(result['metrics']) == 2
    assert any('validate_certs is false' in w and 'ca_path' in w for w in warnings_of(result))


def test_404_names_both_causes(run_main, wap, pki):
    wap.script = [(404, {'Content-Type': 'application/xml'},
                   '<Error><Code>NotFound</Code><Message>Resource not found</Message></Error>')]
    result = run_main(addon_metrics_info, args(wap, pki, client_request_id='req-404'))
    assert result['failed'] is True
    assert result['status'] == 404
    assert result['error_code'] == 'NotFound' and result['error_message'] == 'Resource not found'
    assert "add-on 'contoso-backup' does not exist" in result['msg']
    assert 'check start_time and end_time' in result['msg']
    assert result['client_request_id'] == 'req-404' and 'req-404' in result['msg']
    assert result['request_id'] == 'req-404'
    assert result['addon_id'] == 'contoso-backup'


def test_403_non_admin(run_main, wap, pki):
    wap.script = [(403, {'Content-Type': 'text/plain'}, 'Access denied')]
    result = run_main(addon_metrics_info, args(wap, pki, principal_id='CONTOSO\\alice'))
    assert result['status'] == 403
    assert 'not a WAP administrator' in result['msg'] and 'alice' in result['msg']
    assert 'Access denied' in result['msg']


def test_401_is_not_retried_with_the_same_token(run_main, wap, pki):
    wap.script = [(401, {}, {'Code': 'InvalidToken', 'Message': 'signature'})]
    result = run_main(addon_metrics_info, args(wap, pki))
    assert result['status'] == 401 and 'token was refused' in result['msg']
    assert len(wap.requests) == 1


@pytest.mark.parametrize('tls', [{}, {'ca_path': None, 'validate_certs': False}])
def test_tls_options_win_over_requests_environment(run_main, wap, pki, monkeypatch, tls):
    # requests lets REQUESTS_CA_BUNDLE replace a session's verify; ca_path and validate_certs must still win.
    monkeypatch.setenv('REQUESTS_CA_BUNDLE', ssl.get_default_verify_paths().openssl_cafile)
    wap.script = [(200, {}, SAMPLE)]
    result = run_main(addon_metrics_info, args(wap, pki, **tls))
    assert not result.get('failed'), result['msg']


def test_token_may_be_a_wap_token_result(run_main, wap, pki):
    wap.script = [(200, {}, SAMPLE)]
    token = make_token()
    login = {'changed': False, 'token': token, 'expires_on': '2026-12-03T19:00:00Z', 'token_type': 'Bearer',
             'subject': 'CONTOSO\\wapadmin', 'token_endpoint': 'https://127.0.0.1:30072/wstrust/issue/windowstransport',
             'invocation': {'module_args': {'username': 'CONTOSO\\wapadmin', 'password': 'VALUE_SPECIFIED_IN_NO_LOG_PARAMETER'}}}
    result = run_main(addon_metrics_info, args(wap, pki, token=login, metric_names=['Missing']))
    assert not result.get('failed'), result
    assert wap.requests[0]['headers']['Authorization'] == 'Bearer ' + token
    assert token not in json.dumps(result)
    # only the JWT is masked: the user, also a string of the wap_token result, still shows as it is in the
    # invocation, which ansible-core returns up to 2.20 (2.21 no longer puts the invocation in module results)
    if 'invocation' in result:
        assert result['invocation']['module_args']['principal_id'] == 'CONTOSO\\wapadmin'


@pytest.mark.parametrize('login,says', [
    ({'changed': False, 'expires_on': '2026-12-03T19:00:00Z'}, 'is a dict without a "token" key'),
    ({'failed': True, 'msg': 'bad password'}, 'is the result of a wap_token task that failed: bad password'),
])
def test_a_wap_token_result_without_a_token_is_refused(run_main, wap, pki, login, says):
    result = run_main(addon_metrics_info, args(wap, pki, token=login))
    assert result['failed'] is True and result['option'] == 'token'
    assert says in result['msg']
    assert wap.requests == []
