# -*- coding: utf-8 -*-
# Copyright (c) azmon.metrics contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import email.utils
import random
import uuid

import pytest

from ansible_collections.azmon.metrics.plugins.module_utils._errors import AuthError, ServiceError, TransportError
from ansible_collections.azmon.metrics.plugins.module_utils._http import (
    AMBIGUOUS,
    FAIL,
    RETRY,
    HttpClient,
    RetryPolicy,
    TokenSource,
    classify_status,
    classify_transport,
    decode_error,
    parse_retry_after,
    request_id_from,
)


# --- error decoding: every body shape the services use -------------------------------------------------

@pytest.mark.parametrize('body, content_type, expected', [
    ('{"error": {"code": "RoleAssignmentExists", "message": "The role assignment already exists."}}', 'application/json',
     ('RoleAssignmentExists', 'The role assignment already exists.')),
    ('{"error": {"code": "Authorization_RequestDenied", "message": "Insufficient privileges",'
     ' "innerError": {"request-id": "r1"}}}', 'application/json', ('Authorization_RequestDenied', 'Insufficient privileges')),
    ('{"error": "invalid_client", "error_description": "AADSTS7000215: Invalid client secret provided."}', None,
     ('invalid_client', 'AADSTS7000215: Invalid client secret provided.')),
    ('{"Code": "NotFound", "Message": "Add-on not found", "Severity": "Error", "State": 0}', 'application/json',
     ('NotFound', 'Add-on not found')),
    ('<Error xmlns="http://schemas.microsoft.com/windowsazure"><Code>Forbidden</Code><Message>Not an admin</Message></Error>',
     'application/xml', ('Forbidden', 'Not an admin')),
    ('<Error><Code>BadRequest</Code><Message>startTime is invalid</Message></Error>', 'text/xml',
     ('BadRequest', 'startTime is invalid')),
    ('The add-on was not found.', 'text/plain', (None, 'The add-on was not found.')),
    ('<html><body><h1>502 Bad Gateway</h1></body></html>', 'text/html', (None, '502 Bad Gateway')),
    ('', None, (None, None)),
    (b'{"error": {"code": 400, "message": "bytes body"}}', None, ('400', 'bytes body')),
    ('{"unexpected": true}', None, (None, '{"unexpected": true}')),
    ('{broken json', None, (None, '{broken json')),
])
def test_decode_error(body, content_type, expected):
    assert decode_error(body, content_type) == expected


def test_request_id_prefers_service_headers_then_graph_inner_error():
    assert request_id_from({'X-Ms-Request-Id': 'abc', 'request-id': 'def'}) == 'abc'
    assert request_id_from({'request-id': 'def'}) == 'def'
    body = b'{"error": {"code": "x", "innerError": {"request-id": "inner"}}}'
    assert request_id_from({}, body) == 'inner'
    assert request_id_from({}, b'not json') is None


# --- retry decisions ----------------------------------------------------------------------------------

@pytest.mark.parametrize('status, idempotent, retry_after, expected', [
    (429, False, None, RETRY),
    (429, True, 5, RETRY),
    (503, False, 2, RETRY),
    (503, False, None, AMBIGUOUS),
    (503, True, None, RETRY),
    (500, False, None, AMBIGUOUS),
    (502, False, None, AMBIGUOUS),
    (504, False, None, AMBIGUOUS),
    (500, True, None, RETRY),
    (400, True, None, FAIL),
    (401, False, None, FAIL),
    (403, True, None, FAIL),
    (404, True, None, FAIL),
    (409, True, None, FAIL),
    (413, False, None, FAIL),
])
def test_classify_status(status, idempotent, retry_after, expected):
    assert classify_status(status, idempotent, retry_after) == expected


def test_classify_transport():
    assert classify_transport(sent=False, idempotent=False) == RETRY
    assert classify_transport(sent=True, idempotent=True) == RETRY
    assert classify_transport(sent=True, idempotent=False) == AMBIGUOUS


def test_parse_retry_after():
    assert parse_retry_after('7') == 7.0
    assert parse_retry_after('0.5') == 0.5
    assert parse_retry_after('-3') == 0.0
    assert parse_retry_after(None) is None
    assert parse_retry_after('soon') is None
    assert parse_retry_after('nan') is None
    date = email.utils.formatdate(1_000_030, usegmt=True)
    assert parse_retry_after(date, now=1_000_000) == pytest.approx(30.0)


def test_retry_policy_waits():
    policy = RetryPolicy(max_attempts=3, backoff=1.0, backoff_max=4.0, max_wait=10.0, rng=random.Random(1))
    assert policy.next_wait(1, 0.0, retry_after=2.5) == 2.5
    wait = policy.next_wait(2, 0.0)
    assert 0 <= wait <= 2.0
    assert policy.next_wait(3, 0.0) is None            # out of attempts
    assert policy.next_wait(1, 9.0, retry_after=2) is None  # would exceed the total wait


def test_retry_policy_never_waits_past_the_deadline():
    now = [100.0]
    policy = RetryPolicy(max_attempts=10, max_wait=1000, clock=lambda: now[0])
    assert policy.next_wait(1, 0.0, retry_after=5, deadline=104.0) is None
    assert policy.next_wait(1, 0.0, retry_after=3, deadline=104.0) == 3


# --- the client against a real socket ---------------------------------------------------------------------

def client(**kw):
    sleeps = []
    policy = RetryPolicy(max_attempts=kw.pop('attempts', 4), sleep=sleeps.append, rng=random.Random(0), max_wait=100)
    http = HttpClient(retry=policy, timeout=kw.pop('timeout', 5), **kw)
    return http, sleeps


def test_request_id_header_on_every_call_and_kept_across_retries(scripted_server):
    scripted_server.script = [(429, {'Retry-After': '1'}, {}), (200, {'x-ms-request-id': 'srv-1'}, {'ok': True})]
    http, sleeps = client()
    resp = http.request('POST', scripted_server.url + '/x', 'test', json_body={'a': 1})
    assert resp.json() == {'ok': True}
    assert resp.request_id == 'srv-1'
    ids = [r['headers']['x-ms-client-request-id'] for r in scripted_server.requests]
    assert len(ids) == 2 and ids[0] == ids[1] == resp.client_request_id
    uuid.UUID(ids[0])
    assert sleeps == [1.0]
    assert http.stats == {'requests': 2, 'retries': 1}


def test_post_not_repeated_after_500(scripted_server):
    scripted_server.script = [(500, {'x-ms-request-id': 'r500'}, {'error': {'code': 'InternalServerError', 'message': 'boom'}})]
    http, sleeps = client()
    with pytest.raises(ServiceError) as exc:
        http.request('POST', scripted_server.url + '/metrics', 'ingestion', data=b'{}')
    err = exc.value
    assert (err.status, err.code, err.message, err.request_id) == (500, 'InternalServerError', 'boom', 'r500')
    assert err.details['ambiguous'] is True
    assert len(scripted_server.requests) == 1 and sleeps == []


def test_put_repeated_after_500(scripted_server):
    scripted_server.script = [(500, {}, {}), (502, {}, {}), (201, {}, {'id': 'x'})]
    http, sleeps = client()
    assert http.request('PUT', scripted_server.url + '/ra', 'arm', json_body={}).status == 201
    assert len(sleeps) == 2 and http.stats['retries'] == 2


def test_gives_up_after_max_attempts(scripted_server):
    scripted_server.script = [(429, {'Retry-After': '0'}, {})] * 5
    http, sleeps = client(attempts=3)
    with pytest.raises(ServiceError) as exc:
        http.request('GET', scripted_server.url + '/x', 'arm')
    assert exc.value.status == 429 and exc.value.details['attempts'] == 3
    assert len(scripted_server.requests) == 3 and len(sleeps) == 2


def test_final_error_is_not_retried_and_carries_the_service_code(scripted_server):
    scripted_server.script = [(400, {'request-id': 'g1'}, {'error': {'code': 'BadRequest', 'message': 'dims'}})]
    http = client()[0]
    with pytest.raises(ServiceError) as exc:
        http.request('GET', scripted_server.url + '/v1.0/applications?$filter=x', 'graph')
    assert 'HTTP 400 BadRequest: dims' in exc.value.msg
    assert '$filter' not in exc.value.msg
    assert exc.value.to_result()['request_id'] == 'g1'
    assert 'ambiguous' not in exc.value.to_result()


class CountingToken(TokenSource):
    def __init__(self):
        self.refreshes = 0

    def token(self):
        return 'token-%d' % self.refreshes

    def refresh(self):
        self.refreshes += 1


def test_401_refreshes_the_token_once(scripted_server):
    scripted_server.script = [(401, {}, {}), (200, {}, {})]
    http = client()[0]
    token = CountingToken()
    http.request('GET', scripted_server.url + '/', 'arm', token=token)
    assert [r['headers']['Authorization'] for r in scripted_server.requests] == ['Bearer token-0', 'Bearer token-1']


def test_second_401_fails(scripted_server):
    scripted_server.script = [(401, {}, {'error': {'code': 'InvalidAudience', 'message': 'aud'}})] * 2
    http = client()[0]
    token = CountingToken()
    with pytest.raises(ServiceError) as exc:
        http.request('POST', scripted_server.url + '/', 'ingestion', token=token)
    assert exc.value.code == 'InvalidAudience' and token.refreshes == 1


def test_static_token_refusal_surfaces_as_auth_error(scripted_server):
    class Static(TokenSource):
        def token(self):
            return 't'

        def refresh(self):
            raise AuthError('cannot be refreshed')

    scripted_server.script = [(401, {}, {})]
    http = client()[0]
    with pytest.raises(AuthError):
        http.request('GET', scripted_server.url + '/', 'arm', token=Static())


def test_connection_refused_is_retried_and_reported_as_not_sent(closed_port):
    http, sleeps = client(attempts=3)
    with pytest.raises(TransportError) as exc:
        http.request('POST', 'http://127.0.0.1:%d/metrics' % closed_port, 'ingestion', data=b'{}')
    assert exc.value.sent is False
    assert len(sleeps) == 2


def test_reset_after_post_is_ambiguous_and_not_repeated(scripted_server):
    scripted_server.script = ['reset']
    http, sleeps = client()
    with pytest.raises(TransportError) as exc:
        http.request('POST', scripted_server.url + '/metrics', 'ingestion', data=b'{}')
    assert exc.value.sent is True
    assert len(scripted_server.requests) == 1 and sleeps == []


def test_reset_on_get_is_retried(scripted_server):
    scripted_server.script = ['close', (200, {}, {'v': 1})]
    http, sleeps = client()
    assert http.request('GET', scripted_server.url + '/', 'arm').json() == {'v': 1}
    assert len(sleeps) == 1


def test_verify_setting(monkeypatch):
    monkeypatch.delenv('REQUESTS_CA_BUNDLE', raising=False)
    monkeypatch.delenv('CURL_CA_BUNDLE', raising=False)
    assert client(validate_certs=True, ca_path='/ca.pem')[0].verify == '/ca.pem'
    assert client(validate_certs=True)[0].verify is True
    monkeypatch.setenv('REQUESTS_CA_BUNDLE', '/env.pem')
    assert client(validate_certs=True)[0].verify == '/env.pem'
    assert client(validate_certs=False, ca_path='/ca.pem')[0].verify is False


def test_ca_path_wins_over_requests_environment(tls_scripted_server, monkeypatch):
    server = tls_scripted_server
    monkeypatch.setenv('REQUESTS_CA_BUNDLE', '/etc/ssl/certs/ca-certificates.crt')
    monkeypatch.setenv('CURL_CA_BUNDLE', '/etc/ssl/certs/ca-certificates.crt')
    http = client(ca_path=server.ca_path)[0]
    assert http.request('POST', server.url + '/x', 'test', json_body={}).status == 200
    insecure = client(validate_certs=False)[0]
    assert insecure.request('POST', server.url + '/x', 'test', json_body={}).status == 200
    strict = client()[0]
    with pytest.raises(TransportError, match='TLS verification failed'):
        strict.request('POST', server.url + '/x', 'test', json_body={})


def test_a_caller_given_client_request_id_is_used_and_reported(scripted_server):
    scripted_server.script = [(404, {}, {'error': {'code': 'NotFound', 'message': 'x'}})]
    http = client()[0]
    with pytest.raises(ServiceError) as exc:
        http.request('GET', scripted_server.url + '/', 'wap', headers={'X-MS-Client-Request-Id': 'mine-1'})
    assert exc.value.details['client_request_id'] == 'mine-1'
    assert scripted_server.requests[0]['headers']['x-ms-client-request-id'] == 'mine-1'
    assert 'X-MS-Client-Request-Id' not in scripted_server.requests[0]['headers']
