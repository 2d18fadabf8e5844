# -*- coding: utf-8 -*-
# Copyright (c) azmon.metrics contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import json
import os
import random
import sys
import time

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), '..', '..'))

from tls_server import TlsScriptedServer  # noqa: E402  pylint: disable=wrong-import-position

from ansible_collections.azmon.metrics.plugins.module_utils._errors import TransportError  # noqa: E402
from ansible_collections.azmon.metrics.plugins.module_utils._http import RetryPolicy, TokenSource  # noqa: E402
from ansible_collections.azmon.metrics.plugins.module_utils._ingest import (  # noqa: E402
    DELIVERED,
    FAILED,
    UNKNOWN,
    IngestionTransport,
    Sender,
    monotonic_deadline,
)

BODY = b'{"time":"2026-11-22T10:31:00Z","data":{"baseData":{"metric":"m","namespace":"n","series":[]}}}'


class Token(TokenSource):
    def __init__(self):
        self.refreshes = 0

    def token(self):
        return 'tok-%d' % self.refreshes

    def refresh(self):
        self.refreshes += 1


@pytest.fixture
def server(tmp_path):
    srv = TlsScriptedServer(tmp_path)
    yield srv
    srv.stop()


def sender(server, attempts=4, timeout=2.0, compress=True):
    sleeps = []
    policy = RetryPolicy(max_attempts=attempts, sleep=sleeps.append, rng=random.Random(0), max_wait=100)
    transport = IngestionTransport(ca_path=server.cert, timeout=timeout, continue_timeout=0.5)
    return Sender(transport, Token(), policy, compress=compress), sleeps


def test_delivered_with_headers(server):
    server.script = [('ok', 200, {'x-ms-request-id': 'srv-1'}, {'approximateCount': 1})]
    snd = sender(server)[0]
    out = snd.send(server.url + '/eastus/subscriptions/x/metrics', BODY, 'application/json')
    assert (out.state, out.request_id, out.attempts) == (DELIVERED, 'srv-1', 1)
    headers = server.requests[0]['headers']
    assert headers['Authorization'] == 'Bearer tok-0'
    assert headers['Expect'] == '100-continue'
    assert headers['Content-Encoding'] == 'gzip'
    assert headers['Content-Type'] == 'application/json'
    assert headers['x-ms-client-request-id'] == out.client_request_id
    assert server.received == [BODY]


def test_uncompressed(server):
    snd = sender(server, compress=False)[0]
    assert snd.send(server.url + '/m', BODY, 'application/json').state == DELIVERED
    assert 'Content-Encoding' not in server.requests[0]['headers']
    assert int(server.requests[0]['headers']['Content-Length']) == len(BODY)


def test_reset_before_the_body_is_retried_and_delivered_once(server):
    server.script = ['reset_before_body', 'reset_before_body', ('ok', 200, {}, {})]
    snd, sleeps = sender(server)
    out = snd.send(server.url + '/m', BODY, 'application/json')
    assert (out.state, out.attempts, len(sleeps), snd.retries) == (DELIVERED, 3, 2, 2)
    assert server.received == [BODY]


def test_reset_after_the_body_is_unknown_and_not_repeated(server):
    server.script = ['reset_after_body', ('ok', 200, {}, {})]
    snd, sleeps = sender(server)
    out = snd.send(server.url + '/m', BODY, 'application/json')
    assert out.state == UNKNOWN and 'after the body was sent' in out.reason
    assert len(server.requests) == 1 and sleeps == []


def test_timeout_after_the_body_is_unknown(server):
    server.script = ['hang']
    snd = sender(server, timeout=1.0)[0]
    out = snd.send(server.url + '/m', BODY, 'application/json')
    assert out.state == UNKNOWN and 'no answer within' in out.reason


@pytest.mark.parametrize('status', [500, 502, 504])
def test_server_errors_after_ingest_are_unknown(server, status):
    server.script = [('ok', status, {'x-ms-request-id': 'r'}, {'error': {'code': 'InternalError', 'message': 'x'}})]
    snd, sleeps = sender(server)
    out = snd.send(server.url + '/m', BODY, 'application/json')
    assert (out.state, out.status, out.code, out.request_id) == (UNKNOWN, status, 'InternalError', 'r')
    assert sleeps == []


def test_503_without_retry_after_is_unknown_with_it_retried(server):
    server.script = [('ok', 503, {'Retry-After': '2'}, {}), ('ok', 503, {}, {})]
    snd, sleeps = sender(server)
    out = snd.send(server.url + '/m', BODY, 'application/json')
    assert out.state == UNKNOWN and sleeps == [2.0]


def test_429_honours_retry_after(server):
    server.script = [('early', 429, {'Retry-After': '3'}), ('ok', 200, {}, {})]
    snd, sleeps = sender(server)
    assert snd.send(server.url + '/m', BODY, 'application/json').state == DELIVERED
    assert sleeps == [3.0] and len(server.received) == 1


def test_throttling_past_the_deadline_fails_without_ingesting(server):
    server.script = [('early', 429, {'Retry-After': '120'})]
    snd, sleeps = sender(server)
    out = snd.send(server.url + '/m', BODY, 'application/json', deadline=time.monotonic() + 60)
    assert out.state == FAILED and 'time window' in out.reason and sleeps == []
    assert server.received == []


def test_early_final_answer_reads_the_error_and_sends_no_body(server):
    server.script = [('early', 400, {'Content-Type': 'application/json'},
                      json.dumps({'error': {'code': 'RegionMismatch', 'message': 'wrong region'}}).encode())]
    snd = sender(server)[0]
    out = snd.send(server.url + '/m', BODY, 'application/json')
    assert (out.state, out.status, out.code, out.message, out.systemic) == (FAILED, 400, 'RegionMismatch', 'wrong region', True)
    assert server.received == []


def test_401_refreshes_once(server):
    server.script = [('early', 401), ('ok', 200, {}, {})]
    snd = sender(server)[0]
    assert snd.send(server.url + '/m', BODY, 'application/json').state == DELIVERED
    assert [r['headers']['Authorization'] for r in server.requests] == ['Bearer tok-0', 'Bearer tok-1']


def test_second_401_fails_systemically(server):
    server.script = [('early', 401), ('early', 401, {}, b'{"error":{"code":"InvalidAudience","message":"aud"}}')]
    snd = sender(server)[0]
    out = snd.send(server.url + '/m', BODY, 'application/json')
    assert (out.state, out.code, out.systemic) == (FAILED, 'InvalidAudience', True)


def test_server_that_never_sends_continue_still_gets_the_body(server):
    server.script = ['silent_continue']
    snd = sender(server)[0]
    assert snd.send(server.url + '/m', BODY, 'application/json').state == DELIVERED
    assert server.received == [BODY]


def test_keep_alive_reuses_the_connection(server):
    snd = sender(server)[0]
    for attempt in range(3):
        assert snd.send(server.url + '/m', BODY, 'application/json').state == DELIVERED
    assert len(snd.transport._connections) == 1  # pylint: disable=protected-access


def test_connection_refused_is_not_delivered(closed_port):
    policy = RetryPolicy(max_attempts=2, sleep=lambda s: None)
    snd = Sender(IngestionTransport(timeout=1), Token(), policy)
    out = snd.send('https://127.0.0.1:%d/m' % closed_port, BODY, 'application/json')
    assert out.state == FAILED and 'not delivered after 2 attempt' in out.reason


def test_untrusted_certificate_is_a_clear_error(server):
    snd = Sender(IngestionTransport(timeout=2), Token(), RetryPolicy(sleep=lambda s: None))
    with pytest.raises(TransportError) as exc:
        snd.send(server.url + '/m', BODY, 'application/json')
    assert 'TLS verification failed' in exc.value.msg and 'ca_path' in exc.value.msg
    assert server.received == []


def test_validate_certs_off(server):
    snd = Sender(IngestionTransport(validate_certs=False, timeout=2), Token(), RetryPolicy(sleep=lambda s: None))
    assert snd.send(server.url + '/m', BODY, 'application/json').state == DELIVERED


def test_http_is_refused():
    with pytest.raises(TransportError, match='https'):
        IngestionTransport().post('http://127.0.0.1:1/m', BODY, {})


def test_deadline_from_the_oldest_minute():
    deadline = monotonic_deadline(oldest_minute_epoch=1000.0, now=1000.0 + 600, clock=lambda: 50.0)
    assert deadline == 50.0 + 20 * 60 - 30 - 600


def test_server_error_before_the_body_is_retried(server):
    server.script = [('early', 503, {}, b'{"error":{"code":"ServiceUnavailable","message":"busy"}}'),
                     ('early', 500), ('ok', 200, {}, {})]
    snd, sleeps = sender(server)
    out = snd.send(server.url + '/m', BODY, 'application/json')
    assert (out.state, out.attempts, len(sleeps)) == (DELIVERED, 3, 2)
    assert server.received == [BODY]


# -- what an emission needs to know when send() raises --------------------------------------------------------------
class BrokenToken(Token):
    def token(self):
        raise FileNotFoundError(2, 'No such file or directory', '/var/run/secrets/token')


def test_prepare_signs_in_before_anything_is_sent(server):
    snd = Sender(IngestionTransport(ca_path=server.cert), BrokenToken(), RetryPolicy(max_attempts=1))
    with pytest.raises(FileNotFoundError):
        snd.prepare()
    assert server.requests == [] and snd.posts == 0


def test_a_failure_before_the_body_is_written_is_not_in_doubt(server):
    snd = Sender(IngestionTransport(ca_path=server.cert), BrokenToken(), RetryPolicy(max_attempts=1))
    with pytest.raises(FileNotFoundError):
        snd.send(server.url + '/m', BODY, 'application/json')
    assert snd.in_doubt is False and server.requests == []


class Interrupting(IngestionTransport):
    """Interrupts the process (Ctrl-C) while the body is being written, or before the connection is made."""

    def __init__(self, when, **kwargs):
        super().__init__(**kwargs)
        self.when = when

    def _connection(self, *args):
        if self.when == 'connect':
            raise KeyboardInterrupt()
        key, conn = super()._connection(*args)
        if self.when == 'body':
            original, calls = conn.send, []

            def interrupted(data):
                calls.append(data)
                if len(calls) > 1:      # the first send is the request head, the second the body
                    raise KeyboardInterrupt()
                return original(data)
            conn.send = interrupted
        return key, conn


@pytest.mark.parametrize('when, in_doubt', [('connect', False), ('body', True)])
def test_an_interruption_is_in_doubt_once_the_body_is_being_written(server, when, in_doubt):
    snd = Sender(Interrupting(when, ca_path=server.cert, continue_timeout=0.5), Token(), RetryPolicy(max_attempts=1))
    with pytest.raises(KeyboardInterrupt):
        snd.send(server.url + '/m', BODY, 'application/json')
    assert snd.in_doubt is in_doubt


def test_a_host_that_does_not_resolve_names_it_and_the_region():
    # .invalid never resolves (RFC 2606): what a misspelled region gives, without a network.
    sleeps = []
    snd = Sender(IngestionTransport(timeout=2), Token(), RetryPolicy(max_attempts=4, sleep=sleeps.append))
    with pytest.raises(TransportError) as exc:
        snd.send('https://eastuss.monitoring.invalid/subscriptions/x/metrics', BODY, 'application/json')
    assert 'host eastuss.monitoring.invalid did not resolve' in exc.value.msg
    assert 'the region may be wrong' in exc.value.msg
    assert 'gaierror' not in exc.value.msg
    assert sleeps == []   # not retried: the name will not appear in a few seconds
