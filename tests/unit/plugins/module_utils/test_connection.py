# -*- coding: utf-8 -*-
# Copyright (c) azmon.metrics contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""One reading of the environment for every connection; local checks of timeout and CA bundle; encoded paths."""

from __future__ import annotations

import os
import select
import socket
import sys
import threading

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), '..', '..'))
sys.path.insert(0, os.path.dirname(__file__))  # test_ingest's fakes; ansible-test does not put this folder on the path

from tls_server import TlsScriptedServer  # noqa: E402  pylint: disable=wrong-import-position

from ansible_collections.azmon.metrics.plugins.module_utils._errors import ConfigError  # noqa: E402
from ansible_collections.azmon.metrics.plugins.module_utils._http import (  # noqa: E402
    HttpClient,
    RetryPolicy,
    check_ca_bundle,
    check_connection,
    check_timeout,
    connection_settings,
    quote_path,
)
from ansible_collections.azmon.metrics.plugins.module_utils._ingest import (  # noqa: E402
    DELIVERED,
    IngestionTransport,
    Sender,
)
from test_ingest import BODY, Token  # noqa: E402  pylint: disable=wrong-import-position

PROXY_VARS = ('HTTPS_PROXY', 'https_proxy', 'HTTP_PROXY', 'http_proxy', 'ALL_PROXY', 'all_proxy', 'NO_PROXY',
              'no_proxy', 'REQUESTS_CA_BUNDLE', 'CURL_CA_BUNDLE')


@pytest.fixture
def clean_env(monkeypatch):
    for name in PROXY_VARS:
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


@pytest.fixture
def server(tmp_path):
    srv = TlsScriptedServer(tmp_path)
    yield srv
    srv.stop()


# --- timeout ---------------------------------------------------------------------------------------------------

@pytest.mark.parametrize('value', [0, -1, 0.5, 3601, 1e9, float('nan'), float('inf'), None, 'soon'])
def test_timeout_outside_its_range_is_refused(value):
    with pytest.raises(ConfigError) as exc:
        check_timeout(value)
    assert exc.value.details['option'] == 'timeout'
    assert 'timeout must be from 1 to 3600 seconds' in exc.value.msg


@pytest.mark.parametrize('value, expected', [(1, 1.0), (30.0, 30.0), ('45', 45.0), (3600, 3600.0)])
def test_timeout_inside_its_range(value, expected):
    assert check_timeout(value) == expected


# --- CA bundle -------------------------------------------------------------------------------------------------

def test_ca_bundle_missing(tmp_path):
    with pytest.raises(ConfigError) as exc:
        check_ca_bundle(str(tmp_path / 'none.pem'))
    assert exc.value.details['option'] == 'ca_path' and 'does not exist' in exc.value.msg


def test_ca_bundle_not_pem(tmp_path):
    path = tmp_path / 'ca.pem'
    path.write_text('hello')
    with pytest.raises(ConfigError) as exc:
        check_ca_bundle(str(path))
    assert exc.value.details['option'] == 'ca_path' and 'not a PEM CA bundle' in exc.value.msg


def test_ca_bundle_with_a_broken_certificate(tmp_path):
    path = tmp_path / 'ca.pem'
    path.write_text('-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n')
    with pytest.raises(ConfigError) as exc:
        check_ca_bundle(str(path))
    assert exc.value.details['option'] == 'ca_path' and 'cannot be loaded' in exc.value.msg


def test_ca_bundle_a_directory_without_hashed_certificates(tmp_path):
    with pytest.raises(ConfigError) as exc:
        check_ca_bundle(str(tmp_path))
    assert exc.value.details['option'] == 'ca_path' and 'is a directory' in exc.value.msg


def test_ca_bundle_good_file_and_hashed_directory(server, tmp_path):
    check_ca_bundle(server.cert)
    hashed = tmp_path / 'hashed'
    hashed.mkdir()
    (hashed / '0123abcd.0').write_bytes(open(server.cert, 'rb').read())
    check_ca_bundle(str(hashed))


def test_requests_ca_bundle_that_does_not_exist_is_named(clean_env, tmp_path):
    clean_env.setenv('REQUESTS_CA_BUNDLE', str(tmp_path / 'gone.pem'))
    with pytest.raises(ConfigError) as exc:
        check_connection('https://example.invalid/')
    assert exc.value.details['option'] == 'REQUESTS_CA_BUNDLE'


# --- the environment, read as requests reads it ------------------------------------------------------------------

def test_verify_order(clean_env):
    assert connection_settings('https://h/', validate_certs=True).verify is True
    clean_env.setenv('CURL_CA_BUNDLE', '/curl.pem')
    assert connection_settings('https://h/').verify == '/curl.pem'
    clean_env.setenv('REQUESTS_CA_BUNDLE', '/requests.pem')
    assert connection_settings('https://h/').verify == '/requests.pem'
    assert connection_settings('https://h/', ca_path='/mine.pem').verify == '/mine.pem'
    assert connection_settings('https://h/', validate_certs=False, ca_path='/mine.pem').verify is False


def test_proxies(clean_env):
    assert connection_settings('https://h.example/').proxy is None
    clean_env.setenv('ALL_PROXY', 'proxy.example:3128')
    assert connection_settings('https://h.example/').proxy == 'http://proxy.example:3128'
    clean_env.setenv('https_proxy', 'http://other.example')
    settings = connection_settings('https://h.example/')
    assert (settings.proxy, settings.proxy_source) == ('http://other.example', 'https_proxy')
    clean_env.setenv('NO_PROXY', '.example,127.0.0.1')
    assert connection_settings('https://h.example/').proxy is None
    assert connection_settings('https://elsewhere.test/').proxy == 'http://other.example'


def test_proxy_with_a_bad_port_is_named(clean_env):
    clean_env.setenv('HTTPS_PROXY', 'http://proxy.example:99999')
    with pytest.raises(ConfigError) as exc:
        check_connection('https://h.example/')
    assert exc.value.details['option'] == 'HTTPS_PROXY' and 'port' in exc.value.msg


def test_ingestion_refuses_a_socks_proxy_before_connecting(clean_env):
    clean_env.setenv('ALL_PROXY', 'socks5://127.0.0.1:1080')
    with pytest.raises(ConfigError) as exc:
        IngestionTransport().prepare('https://eastus.monitoring.azure.com/subscriptions/x/metrics')
    assert exc.value.details['option'] == 'ALL_PROXY' and 'http:// proxy' in exc.value.msg


def test_ingestion_proxy_without_a_port_uses_port_80(clean_env):
    clean_env.setenv('HTTPS_PROXY', 'proxy.example')
    transport = IngestionTransport()
    _key, conn = transport._connection(  # pylint: disable=protected-access
        __import__('urllib.parse').parse.urlsplit('https://eastus.monitoring.azure.com/x'),
        'https://eastus.monitoring.azure.com/x')
    assert (conn.host, conn.port) == ('proxy.example', 80)
    assert conn._tunnel_host == 'eastus.monitoring.azure.com'  # pylint: disable=protected-access
    transport.close()


def test_ingestion_trusts_requests_ca_bundle_like_sign_in(clean_env, server):
    """The same REQUESTS_CA_BUNDLE makes sign-in (requests) and ingestion (http.client) trust the same CA."""
    clean_env.setenv('REQUESTS_CA_BUNDLE', server.cert)
    snd = Sender(IngestionTransport(timeout=2, continue_timeout=0.5), Token(), RetryPolicy(sleep=lambda s: None))
    assert snd.send(server.url + '/m', BODY, 'application/json').state == DELIVERED
    assert HttpClient().verify == server.cert


class ConnectProxy:
    """A CONNECT proxy on loopback that records the tunnels it opened."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(('127.0.0.1', 0))
        self.sock.listen(5)
        self.port = self.sock.getsockname()[1]
        self.tunnels = []
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        while True:
            try:
                client, _addr = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._tunnel, args=(client,), daemon=True).start()

    def _tunnel(self, client):
        head = b''
        while b'\r\n\r\n' not in head:
            chunk = client.recv(1)
            if not chunk:
                return
            head += chunk
        target = head.split(b' ')[1].decode()
        self.tunnels.append(target)
        host, port = target.rsplit(':', 1)
        upstream = socket.create_connection((host, int(port)))
        client.sendall(b'HTTP/1.1 200 Connection established\r\n\r\n')
        pair = [client, upstream]
        try:
            while True:
                ready, _w, _x = select.select(pair, [], [], 5)
                if not ready:
                    return
                for sock in ready:
                    data = sock.recv(65536)
                    if not data:
                        return
                    (upstream if sock is client else client).sendall(data)
        finally:
            client.close()
            upstream.close()

    def stop(self):
        self.sock.close()


def test_ingestion_goes_through_all_proxy(clean_env, server):
    proxy = ConnectProxy()
    try:
        clean_env.setenv('ALL_PROXY', '127.0.0.1:%d' % proxy.port)
        snd = Sender(IngestionTransport(ca_path=server.cert, timeout=2, continue_timeout=0.5), Token(),
                     RetryPolicy(sleep=lambda s: None))
        assert snd.send(server.url + '/m', BODY, 'application/json').state == DELIVERED
        assert proxy.tunnels == ['127.0.0.1:%d' % int(server.url.rsplit(':', 1)[1])]
        snd.transport.close()
    finally:
        proxy.stop()


# --- percent-encoded paths ------------------------------------------------------------------------------------

def test_quote_path_keeps_slashes_and_unreserved():
    assert quote_path('/subscriptions/x/resourceGroups/rg-\u00fc(1)/vm_a.b~c') == \
        '/subscriptions/x/resourceGroups/rg-%C3%BC%281%29/vm_a.b~c'
    assert quote_path('/a b/\u65e5\u672c') == '/a%20b/%E6%97%A5%E6%9C%AC'


def test_ingestion_sends_a_unicode_resource_percent_encoded(server):
    snd = Sender(IngestionTransport(ca_path=server.cert, timeout=2, continue_timeout=0.5), Token(),
                 RetryPolicy(sleep=lambda s: None))
    url = server.url + '/eastus/subscriptions/s/resourceGroups/rg-\u00e9t\u00e9/providers/A.B/c/vm-\u65e5/metrics'
    assert snd.send(url, BODY, 'application/json').state == DELIVERED
    assert server.requests[-1]['path'] == \
        '/eastus/subscriptions/s/resourceGroups/rg-%C3%A9t%C3%A9/providers/A.B/c/vm-%E6%97%A5/metrics'
