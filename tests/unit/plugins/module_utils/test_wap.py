# -*- coding: utf-8 -*-
# Copyright (c) azmon.metrics contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import base64
import datetime
import json
from urllib.parse import parse_qs, urlsplit

import pytest

from ansible_collections.azmon.metrics.plugins.module_utils._errors import ServiceError, TransportError, ValidationError
from ansible_collections.azmon.metrics.plugins.module_utils._http import HttpClient, RetryPolicy
from ansible_collections.azmon.metrics.plugins.module_utils._wap import (
    WapClient,
    addon_segment,
    check_header,
    check_token,
    check_window,
    format_time,
    normalize_metrics,
    parse_endpoint,
    wap_time,
)

UTC = datetime.timezone.utc
NOW = datetime.datetime(2026, 11, 22, 10, 31, 0, tzinfo=UTC)


def b64(doc):
    raw = doc if isinstance(doc, bytes) else json.dumps(doc).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b'=').decode()


def jwt(claims, header=None):
    return '%s.%s.%s' % (b64(header or {'alg': 'RS256', 'typ': 'JWT'}), b64(claims), 'c2lnbmF0dXJl')


def valid_token(lifetime=3600, **claims):
    body = {'upn': 'CONTOSO\\wapadmin', 'exp': int(NOW.timestamp()) + lifetime}
    body.update(claims)
    return jwt(body)


# --- endpoint ------------------------------------------------------------------------------------------------

@pytest.mark.parametrize('given, expected', [
    ('https://wap.contoso.com', 'https://wap.contoso.com:30004'),
    ('https://wap.contoso.com/', 'https://wap.contoso.com:30004'),
    ('https://wap.contoso.com:30004', 'https://wap.contoso.com:30004'),
    ('https://wap.contoso.com:8443/', 'https://wap.contoso.com:8443'),
    ('https://wap.contoso.com/admin/api/', 'https://wap.contoso.com:30004/admin/api'),
    ('HTTPS://WAP.Contoso.com', 'https://wap.contoso.com:30004'),
    ('https://[::1]', 'https://[::1]:30004'),
    ('https://[::1]:31000', 'https://[::1]:31000'),
    ('  https://127.0.0.1  ', 'https://127.0.0.1:30004'),
])
def test_endpoint_gets_default_port(given, expected):
    assert parse_endpoint(given) == expected


@pytest.mark.parametrize('given, says', [
    ('', 'required'),
    (None, 'required'),
    ('wap.contoso.com', 'not a URL'),
    ('wap.contoso.com:30004', 'not a URL'),
    ('http://wap.contoso.com', 'must use https'),
    ('ftp://wap.contoso.com', 'must use https'),
    ('https://', 'no host'),
    ('https://admin:pw@wap.contoso.com', 'user name or password'),
    ('https://wap.contoso.com?x=1', 'query string'),
    ('https://wap.contoso.com/#frag', 'query string or fragment'),
    ('https://wap.contoso.com?', 'query string'),
    ('https://wap.contoso.com:99999', 'not a valid URL'),
    ('https://wap.contoso.com:port', 'not a valid URL'),
    ('https://wap.contoso.com/a/../b', 'invalid path'),
])
def test_bad_endpoint_is_refused_with_the_rule(given, says):
    with pytest.raises(ValidationError) as info:
        parse_endpoint(given)
    assert says in info.value.msg
    assert info.value.msg.startswith('endpoint')
    assert 'pw' not in info.value.msg


# --- addon_id ------------------------------------------------------------------------------------------------

@pytest.mark.parametrize('given, segment', [
    ('contoso-backup', 'contoso-backup'),
    ('Contoso.Backup_1', 'Contoso.Backup_1'),
    ('my addon', 'my%20addon'),
    ('a:b', 'a%3Ab'),
    ('a+b&c=d;e', 'a%2Bb%26c%3Dd%3Be'),
    ('sauvegarde-\u00e9t\u00e9', 'sauvegarde-%C3%A9t%C3%A9'),
    ('...', '...'),
    ('12345678-1234-1234-1234-123456789abc', '12345678-1234-1234-1234-123456789abc'),
])
def test_addon_id_is_one_encoded_segment(given, segment):
    assert addon_segment(given) == segment


@pytest.mark.parametrize('given', [
    '', None, '..', '.', '../metrics', 'a/b', '/etc', 'a\\b', 'a?x=1', 'a#b', 'a%2Fb', '%2e%2e', ' a', 'a ',
    'a\nb', 'a\x00b',
])
def test_addon_id_cannot_change_the_path(given):
    with pytest.raises(ValidationError) as info:
        addon_segment(given)
    assert info.value.msg.startswith('addon_id')


# --- headers -------------------------------------------------------------------------------------------------

def test_header_values_cannot_inject_headers():
    assert check_header('principal_id', 'CONTOSO\\wapadmin') == 'CONTOSO\\wapadmin'
    assert check_header('principal_id', 'j\u00fcrgen@contoso.com') == 'j\u00fcrgen@contoso.com'
    assert check_header('client_session_id', None) is None
    with pytest.raises(ValidationError, match='principal_id is required'):
        check_header('principal_id', '', required=True)
    with pytest.raises(ValidationError, match='control characters'):
        check_header('principal_id', 'CONTOSO\\x\r\nX-Evil: 1')
    with pytest.raises(ValidationError, match='Latin-1'):
        check_header('principal_id', '\u7528\u6237@contoso.com')


# --- token ---------------------------------------------------------------------------------------------------

def test_valid_token_passes_and_bearer_prefix_is_removed():
    token = valid_token()
    assert check_token(token, now=NOW)[0] == token
    assert check_token('Bearer ' + token, now=NOW)[0] == token
    assert check_token('  bearer  %s ' % token, now=NOW)[1]['upn'] == 'CONTOSO\\wapadmin'


def test_expired_token_says_when_and_how_to_fix():
    token = valid_token(lifetime=-600)
    with pytest.raises(ValidationError) as info:
        check_token(token, now=NOW)
    msg = info.value.msg
    assert 'expired at 2026-11-22T10:21:00Z (10 minutes ago)' in msg
    assert 'CONTOSO\\wapadmin' in msg
    assert 'new token' in msg
    assert token not in msg and token.split('.')[1] not in msg
    assert info.value.details['token_expired_at'] == '2026-11-22T10:21:00Z'


def test_token_expiring_exactly_now_is_expired():
    with pytest.raises(ValidationError, match='expired'):
        check_token(valid_token(lifetime=0), now=NOW)


@pytest.mark.parametrize('token, says', [
    ('', 'required'),
    (None, 'required'),
    ('not-a-jwt', 'found 1 part'),
    ('a.b', 'found 2 part'),
    ('a.b.c.d.e', 'found 5 part'),
    ('%s..sig' % b64({'alg': 'none'}), 'not a JWT'),
    ('%s.%s.s!g' % (b64({'alg': 'RS256'}), b64({'exp': 1})), 'not a JWT'),
    ('%s.%s.sig' % (b64(b'not json'), b64({'exp': 4102444800})), 'header is not'),
    ('%s.%s.sig' % (b64({'alg': 'RS256'}), b64(b'not json')), 'payload is not'),
    ('%s.%s.sig' % (b64({'alg': 'RS256'}), b64([1, 2])), 'payload is not'),
    (jwt({'upn': 'x'}), 'no numeric "exp"'),
    (jwt({'exp': '4102444800'}), 'no numeric "exp"'),
    (jwt({'exp': True}), 'no numeric "exp"'),
])
def test_malformed_token_is_refused(token, says):
    with pytest.raises(ValidationError) as info:
        check_token(token, now=NOW)
    assert says in info.value.msg
    assert info.value.msg.startswith('token')


def test_unsigned_token_is_still_well_formed():
    # The signature is WAP's business; an empty third part is a well-formed (unsecured) JWT.
    token = '%s.%s.' % (b64({'alg': 'none'}), b64({'exp': int(NOW.timestamp()) + 60}))
    assert check_token(token, now=NOW)[0] == token


# --- window --------------------------------------------------------------------------------------------------

def test_start_must_be_before_end():
    check_window(NOW - datetime.timedelta(days=1), NOW)
    with pytest.raises(ValidationError, match=r'start_time \(2026-11-22T10:31:00Z\) must be before end_time'):
        check_window(NOW, NOW)
    with pytest.raises(ValidationError, match='must be before'):
        check_window(NOW, NOW - datetime.timedelta(seconds=1))


def test_wap_time_is_dotnet_round_trip_utc():
    assert wap_time(datetime.datetime(2013, 6, 22, 7, 0, tzinfo=UTC)) == '2013-06-22T07:00:00.0000000Z'
    offset = datetime.timezone(datetime.timedelta(hours=-7))
    assert wap_time(datetime.datetime(2013, 6, 22, 0, 0, 0, 123456, tzinfo=offset)) == '2013-06-22T07:00:00.1234560Z'


# --- the client against a real socket ------------------------------------------------------------------------

SAMPLE = [{
    'Name': 'StorageUsed', 'PrimaryAggregationType': 'Average', 'Unit': 'Bytes', 'TimeGrain': '1.00:00:00',
    'StartTime': '2013-06-20T00:00:00.0000000Z', 'EndTime': '2013-06-23T00:00:00.0000000Z',
    'Values': [{'TimeCreated': '2013-06-22T07:00:00.0000000Z', 'Total': 42, 'Minimum': 1, 'Maximum': 41, 'Count': 2}],
}]


def make_client(server, **kwargs):
    http = HttpClient(retry=RetryPolicy(max_attempts=3, sleep=lambda s: None))
    args = {'client_request_id': 'my-request-1'}
    args.update(kwargs)
    return WapClient(http, server.url, 'tok.en.x', 'CONTOSO\\wapadmin', **args)


START = datetime.datetime(2013, 6, 20, tzinfo=UTC)
END = datetime.datetime(2013, 6, 23, tzinfo=UTC)


def test_request_shape(scripted_server):
    scripted_server.script = [(200, {'Content-Type': 'application/json; charset=utf-8', 'x-ms-request-id': 'srv-1'},
                               SAMPLE)]
    client = make_client(scripted_server, client_session_id='sess-1', principal_liveid='live-1')
    result = client.addon_metrics('my addon', START, END)
    assert result.metrics == SAMPLE
    assert result.request_id == 'srv-1'
    assert result.client_request_id == 'my-request-1'
    (req,) = scripted_server.requests
    path, _sep, query = req['path'].partition('?')
    assert req['method'] == 'GET'
    assert path == '/addons/my%20addon/metrics'
    assert query == 'startTime=2013-06-20T00%3A00%3A00.0000000Z&endTime=2013-06-23T00%3A00%3A00.0000000Z'
    assert parse_qs(query) == {'startTime': ['2013-06-20T00:00:00.0000000Z'],
                               'endTime': ['2013-06-23T00:00:00.0000000Z']}
    headers = {k.lower(): v for k, v in req['headers'].items()}
    assert headers['authorization'] == 'Bearer tok.en.x'
    assert headers['x-ms-principal-id'] == 'CONTOSO\\wapadmin'
    assert headers['x-ms-client-request-id'] == 'my-request-1'
    assert headers['x-ms-client-session-id'] == 'sess-1'
    assert headers['x-ms-principal-liveid'] == 'live-1'
    assert headers['accept'] == 'application/json'


def test_optional_headers_are_left_out_and_request_id_generated(scripted_server):
    scripted_server.script = [(200, {}, [])]
    client = make_client(scripted_server, client_request_id=None)
    result = client.addon_metrics('a', START, END)
    headers = {k.lower(): v for k, v in scripted_server.requests[0]['headers'].items()}
    assert 'x-ms-client-session-id' not in headers and 'x-ms-principal-liveid' not in headers
    assert headers['x-ms-client-request-id'] == result.client_request_id
    assert len(result.client_request_id) == 36


def test_prefix_path_is_kept(scripted_server):
    scripted_server.script = [(200, {}, [])]
    http = HttpClient()
    WapClient(http, scripted_server.url + '/wap/', 't', 'p').addon_metrics('x', START, END)
    assert urlsplit(scripted_server.requests[0]['path']).path == '/wap/addons/x/metrics'


def test_utf8_bom_and_wrapped_list_are_accepted(scripted_server):
    scripted_server.script = [(200, {}, b'\xef\xbb\xbf' + json.dumps(SAMPLE).encode()),
                              (200, {}, {'value': SAMPLE})]
    client = make_client(scripted_server)
    assert client.addon_metrics('a', START, END).metrics == SAMPLE
    assert client.addon_metrics('a', START, END).metrics == SAMPLE


@pytest.mark.parametrize('body, says', [
    (b'<html><body>Sign in</body></html>', 'not JSON'),
    (b'', 'an empty body'),
    ({'Name': 'x'}, 'not a list of metrics'),
    ([1, 2], 'not a list of metrics'),
])
def test_unexpected_success_body_is_an_error(scripted_server, body, says):
    scripted_server.script = [(200, {'Content-Type': 'text/html'}, body)]
    with pytest.raises(ServiceError) as info:
        make_client(scripted_server).addon_metrics('a', START, END)
    assert says in info.value.msg
    assert 'my-request-1' in info.value.msg
    assert info.value.to_result()['client_request_id'] == 'my-request-1'


ERROR_BODIES = [
    ('application/json', {'Code': 'AddonNotFound', 'Message': 'The add-on was not found.', 'Severity': 'Error',
                          'State': 0},
     'AddonNotFound', 'The add-on was not found.'),
    ('application/xml',
     '<Error xmlns="http://schemas.microsoft.com/windowsazure"><Code>AddonNotFound</Code>'
     '<Message>The add-on was not found.</Message></Error>',
     'AddonNotFound', 'The add-on was not found.'),
    ('text/plain; charset=utf-8', 'The add-on was not found.', None, 'The add-on was not found.'),
    ('text/html', '<html><body><h1>404 - File or directory not found.</h1></body></html>', None,
     '404 - File or directory not found.'),
    ('application/json', {'error': {'code': 'NotFound', 'message': 'nope'}}, 'NotFound', 'nope'),
    (None, '', None, None),
]


@pytest.mark.parametrize('ctype, body, code, message', ERROR_BODIES)
def test_404_says_both_causes_and_decodes_the_body(scripted_server, ctype, body, code, message):
    headers = {'Content-Type': ctype} if ctype else {}
    scripted_server.script = [(404, headers, body)]
    with pytest.raises(ServiceError) as info:
        make_client(scripted_server).addon_metrics('nope', START, END)
    exc = info.value
    assert exc.status == 404
    assert exc.code == code
    assert exc.message == message
    assert "add-on 'nope' does not exist" in exc.msg
    assert '2013-06-20T00:00:00.0000000Z to 2013-06-23T00:00:00.0000000Z' in exc.msg
    assert 'start_time and end_time' in exc.msg
    if message:
        assert message in exc.msg
    result = exc.to_result()
    assert result['client_request_id'] == 'my-request-1'
    assert result['request_id'] == 'my-request-1'  # no server id: ours stands in
    assert 'my-request-1' in result['msg']
    assert len(scripted_server.requests) == 1


def test_401_and_403_explain(scripted_server):
    scripted_server.script = [(401, {'x-ms-request-id': 'srv-9'}, {'Code': 'Unauthorized', 'Message': 'Token expired'}),
                              (403, {}, '<Error><Code>Forbidden</Code><Message>not admin</Message></Error>')]
    client = make_client(scripted_server)
    with pytest.raises(ServiceError) as info:
        client.addon_metrics('a', START, END)
    assert info.value.status == 401
    assert 'expired' in info.value.msg and 'new token' in info.value.msg
    assert 'request id srv-9, client request id my-request-1' in info.value.msg
    assert info.value.to_result()['request_id'] == 'srv-9'
    with pytest.raises(ServiceError) as info:
        client.addon_metrics('a', START, END)
    assert info.value.status == 403
    assert "'CONTOSO\\wapadmin' (x-ms-principal-id)" in info.value.msg and 'not a WAP administrator' in info.value.msg
    assert 'Forbidden: not admin' in info.value.msg
    # no token refresh on 401 (the token is the user's): one request each
    assert len(scripted_server.requests) == 2


def test_5xx_is_retried_then_reported(scripted_server):
    scripted_server.script = [(500, {}, {'Code': 'InternalError', 'Message': 'boom'})] * 3
    with pytest.raises(ServiceError) as info:
        make_client(scripted_server).addon_metrics('a', START, END)
    assert info.value.status == 500
    assert 'server error (HTTP 500)' in info.value.msg and 'boom' in info.value.msg
    assert info.value.to_result()['attempts'] == 3
    assert len(scripted_server.requests) == 3
    assert {r['headers']['x-ms-client-request-id'] for r in scripted_server.requests} == {'my-request-1'}


def test_5xx_then_success(scripted_server):
    scripted_server.script = [(503, {}, 'busy'), (200, {}, SAMPLE)]
    assert make_client(scripted_server).addon_metrics('a', START, END).metrics == SAMPLE


def test_transport_error_carries_our_request_id(closed_port):
    http = HttpClient(retry=RetryPolicy(max_attempts=1))
    client = WapClient(http, 'http://127.0.0.1:%d' % closed_port, 't', 'p', client_request_id='cr-1')
    with pytest.raises(TransportError) as info:
        client.addon_metrics('a', START, END)
    assert info.value.sent is False
    assert info.value.to_result()['client_request_id'] == 'cr-1'
    assert 'cr-1' in info.value.msg


# --- normalisation -------------------------------------------------------------------------------------------

@pytest.mark.parametrize('raw, utc', [
    ('2013-06-22T07:00:00.0000000Z', '2013-06-22T07:00:00Z'),
    ('2013-06-22T07:00:00Z', '2013-06-22T07:00:00Z'),
    ('2013-06-22T07:00:00.5Z', '2013-06-22T07:00:00.5Z'),
    ('2013-06-22T07:00:00.12Z', '2013-06-22T07:00:00.12Z'),
    ('2013-06-22T07:00:00.1234567Z', '2013-06-22T07:00:00.123456Z'),
    ('2013-06-22T00:00:00-07:00', '2013-06-22T07:00:00Z'),
    ('2013-06-22T00:00:00.0000000-07:00', '2013-06-22T07:00:00Z'),
    ('2013-06-22T09:30:00+02:30', '2013-06-22T07:00:00Z'),
    ('2013-06-22T07:00:00', '2013-06-22T07:00:00Z'),            # no zone: taken as UTC
    ('2013-06-22T07:00:00.0000000', '2013-06-22T07:00:00Z'),
    ('2013-06-22T07:00', '2013-06-22T07:00:00Z'),
    ('2013-06-21T23:30:00-07:30', '2013-06-22T07:00:00Z'),
])
def test_every_wap_time_form(raw, utc):
    metrics, warnings = normalize_metrics([{'Name': 'm', 'StartTime': raw,
                                            'Values': [{'TimeCreated': raw, 'Total': 1, 'Count': 1}]}])
    assert warnings == []
    assert metrics[0]['start_time'] == utc
    assert metrics[0]['start_time_raw'] == raw
    assert metrics[0]['data_points'][0]['time'] == utc
    assert metrics[0]['data_points'][0]['time_raw'] == raw


def test_format_time_trims_fraction():
    assert format_time(datetime.datetime(2013, 6, 22, 7, 0, 0, 500000, tzinfo=UTC)) == '2013-06-22T07:00:00.5Z'
    assert format_time(datetime.datetime(2013, 6, 22, 7, 0, 0, tzinfo=UTC)) == '2013-06-22T07:00:00Z'


def test_normalised_shape():
    raw = [
        {'Name': 'StorageUsed', 'PrimaryAggregationType': 'Average', 'Unit': 'Bytes', 'TimeGrain': '1.00:00:00',
         'StartTime': '2013-06-20T00:00:00Z', 'EndTime': '2013-06-23T00:00:00.0000000Z',
         'Values': [
             {'TimeCreated': '2013-06-22T07:00:00.0000000Z', 'Total': 42, 'Minimum': None, 'Maximum': None,
              'Count': 2},
             {'TimeCreated': '2013-06-21T07:00:00.0000000Z', 'Total': 4.5, 'Minimum': 1, 'Maximum': 3.5, 'Count': 2},
         ]},
        {'Name': 'JobsCompleted', 'PrimaryAggregationType': 'Total', 'ConfigState': 'Count', 'TimeGrain': '00:05:00',
         'Values': []},
        {'name': 'camel', 'unit': '', 'configState': 'Seconds', 'timeGrain': '00:00:30', 'values': None},
    ]
    metrics, warnings = normalize_metrics(raw)
    assert warnings == []
    first, second, third = metrics
    assert first == {
        'name': 'StorageUsed', 'primary_aggregation_type': 'Average', 'unit': 'Bytes',
        'time_grain': '1.00:00:00', 'time_grain_seconds': 86400, 'time_grain_iso8601': 'P1D',
        'start_time': '2013-06-20T00:00:00Z', 'start_time_raw': '2013-06-20T00:00:00Z',
        'end_time': '2013-06-23T00:00:00Z', 'end_time_raw': '2013-06-23T00:00:00.0000000Z',
        'data_points': [  # oldest first
            {'time': '2013-06-21T07:00:00Z', 'time_raw': '2013-06-21T07:00:00.0000000Z', 'total': 4.5, 'minimum': 1,
             'maximum': 3.5, 'count': 2},
            {'time': '2013-06-22T07:00:00Z', 'time_raw': '2013-06-22T07:00:00.0000000Z', 'total': 42,
             'minimum': None, 'maximum': None, 'count': 2},
        ],
    }
    assert second['unit'] == 'Count'  # ConfigState fallback
    assert second['time_grain_seconds'] == 300 and second['time_grain_iso8601'] == 'PT5M'
    assert second['start_time'] is None and second['data_points'] == []
    assert third['name'] == 'camel' and third['unit'] == 'Seconds' and third['time_grain_seconds'] == 30
    assert third['data_points'] == []


def test_values_sort_by_instant_not_by_text():
    raw = [{'Name': 'm', 'Values': [
        {'TimeCreated': '2013-06-22T07:00:00.5Z', 'Total': 2},
        {'TimeCreated': '2013-06-22T07:00:00Z', 'Total': 1},
        {'TimeCreated': '2013-06-22T01:00:00-07:00', 'Total': 3},  # 08:00Z
    ]}]
    metrics, _warnings = normalize_metrics(raw)
    assert [p['total'] for p in metrics[0]['data_points']] == [1, 2, 3]


def test_bad_fields_become_null_with_a_warning():
    raw = [{'Name': 'm', 'TimeGrain': 'daily', 'StartTime': 'yesterday',
            'Values': [{'TimeCreated': 'noon', 'Total': 'many', 'Minimum': '1.5', 'Maximum': float('nan'),
                        'Count': True},
                       {'TimeCreated': '2013-06-22T07:00:00Z', 'Total': '7', 'Count': '1'}]}]
    metrics, warnings = normalize_metrics(raw)
    metric = metrics[0]
    assert metric['time_grain'] == 'daily' and metric['time_grain_seconds'] is None
    assert metric['start_time'] is None and metric['start_time_raw'] == 'yesterday'
    good, bad = metric['data_points']  # a value without a time sorts last
    assert good == {'time': '2013-06-22T07:00:00Z', 'time_raw': '2013-06-22T07:00:00Z', 'total': 7,
                    'minimum': None, 'maximum': None, 'count': 1}
    assert bad['time'] is None and bad['time_raw'] == 'noon'
    assert bad['total'] is None and bad['minimum'] == 1.5 and bad['maximum'] is None and bad['count'] is None
    text = '\n'.join(warnings)
    for part in ('TimeGrain', 'StartTime', 'TimeCreated', "Total 'many'", 'Maximum nan', 'Count True'):
        assert part in text
    assert all(w.startswith('metric m:') for w in warnings)


def test_metric_names_filter_case_insensitive_and_warns_for_missing():
    raw = [{'Name': 'StorageUsed'}, {'Name': 'JobsCompleted'}, {'Name': 'CpuPercent'}]
    metrics, warnings = normalize_metrics(raw, metric_names=['storageused', 'CpuPercent', 'Nope'])
    assert [m['name'] for m in metrics] == ['StorageUsed', 'CpuPercent']
    assert warnings == ["WAP returned no metric named 'Nope'"]
    assert normalize_metrics(raw, metric_names=[])[0] == normalize_metrics(raw)[0]
