# -*- coding: utf-8 -*-
# Copyright (c) azmon.metrics contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A scripted HTTP server on loopback, for unit tests of the HTTP layer that need a real socket.

Tests about how Azure behaves belong against the emulator (tests/emulator, ``azmon_emulator.testing``).
This server stays for what no emulator gives: an exact sequence of answers chosen per request (a status,
then a reset, then a close, a repeated next link, a malformed body), so that a client's handling of each
one is pinned down.
"""

from __future__ import annotations

import http.server
import json
import os
import socket
import ssl
import struct
import sys
import threading

import pytest


class ScriptedServer:
    """Answers each request with the next step of a script.

    A step is ``(status, headers, body)`` or one of the strings ``'reset'``
    (close with RST before answering) and ``'close'`` (close without an
    answer).  Every request is recorded as a dict.
    """

    def __init__(self):
        self.script = []
        self.requests = []
        self.lock = threading.Lock()
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = 'HTTP/1.1'

            def log_message(self, *args):  # silence
                pass

            def _handle(self):
                length = int(self.headers.get('Content-Length') or 0)
                body = self.rfile.read(length) if length else b''
                with server.lock:
                    server.requests.append({'method': self.command, 'path': self.path, 'headers': dict(self.headers),
                                            'body': body})
                    step = server.script.pop(0) if server.script else (200, {}, {})
                if step == 'reset':
                    self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack('ii', 1, 0))
                    self.connection.close()
                    self.close_connection = True
                    return
                if step == 'close':
                    self.close_connection = True
                    return
                status, headers, payload = step
                if not isinstance(payload, (bytes, str)):
                    payload = json.dumps(payload)
                if isinstance(payload, str):
                    payload = payload.encode()
                self.send_response(status)
                for key, value in headers.items():
                    self.send_header(key, value)
                self.send_header('Content-Length', str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = _handle

        self.httpd = http.server.ThreadingHTTPServer(('127.0.0.1', 0), Handler)
        self.httpd.daemon_threads = True
        self.url = 'http://127.0.0.1:%d' % self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def scripted_server():
    server = ScriptedServer()
    yield server
    server.stop()


@pytest.fixture
def tls_scripted_server(scripted_server, tmp_path):
    """The scripted server behind TLS (cloud endpoints must be https): ``.url`` is https, ``.ca_path`` trusts it."""
    pytest.importorskip('cryptography', reason='cryptography (a dependency of msal/azure-identity) makes the test certificate')
    here = os.path.dirname(os.path.abspath(__file__))
    if here not in sys.path:
        sys.path.insert(0, here)
    from tls_server import make_cert  # pylint: disable=import-outside-toplevel
    cert, key = make_cert(tmp_path)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    accept = scripted_server.httpd.get_request

    def get_request():
        # each accepted connection speaks TLS; a client that gives up on the handshake fails only its own request
        sock, addr = accept()
        sock.settimeout(5)
        return context.wrap_socket(sock, server_side=True), addr

    scripted_server.httpd.get_request = get_request
    scripted_server.url = scripted_server.url.replace('http://', 'https://')
    scripted_server.ca_path = cert
    return scripted_server


EMULATOR_ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'emulator')


def _start_seeded_emulator(tmpdir):
    if EMULATOR_ROOT not in sys.path:
        sys.path.insert(0, EMULATOR_ROOT)
    from azmon_emulator.testing import DEFAULT_SEED, start_emulator  # pylint: disable=import-outside-toplevel
    process = start_emulator(tmpdir=tmpdir)
    with open(DEFAULT_SEED, encoding='utf-8') as handle:
        process.seed = json.load(handle)
    return process


# ansible-test units runs every test in a fork of its own (its ansible_forked plugin), so a session fixture set up
# in a test would be set up again in every test's fork, and never torn down there. The session's emulator is
# therefore started by the runner's own process once the tests are collected (when any of them uses it), and
# stopped when the session ends; forks inherit it.
_SESSION = {}


@pytest.hookimpl(trylast=True)
def pytest_collection_finish(session):
    if any('emulator' in getattr(item, 'fixturenames', ()) for item in session.items):
        _SESSION['pid'] = os.getpid()
        _SESSION['emulator'] = _start_seeded_emulator(session.config._tmp_path_factory.mktemp('emulator'))  # pylint: disable=protected-access


def pytest_sessionfinish(session):  # pylint: disable=unused-argument
    if _SESSION.get('pid') == os.getpid():
        _SESSION.pop('emulator').stop()


@pytest.fixture(scope='session')
def emulator(tmp_path_factory):
    """The emulator (tests/emulator) with its shipped seed, one per session (and xdist worker); ``.seed`` holds the
    seed. Tests that change it use ``emu``, which resets it first."""
    if 'emulator' in _SESSION:
        yield _SESSION['emulator']
        return
    process = _start_seeded_emulator(tmp_path_factory.mktemp('emulator'))
    yield process
    process.stop()


@pytest.fixture
def emu(emulator, monkeypatch):
    """The session's emulator, back to its seed: directory, role assignments, metrics, settings, faults, request log.

    REQUESTS_CA_BUNDLE and CURL_CA_BUNDLE are unset for the test: requests would let them override its CA."""
    for name in ('REQUESTS_CA_BUNDLE', 'CURL_CA_BUNDLE'):
        monkeypatch.delenv(name, raising=False)
    emulator.admin('POST', '/_admin/reset')
    return emulator


class EmulatorClients:
    """The collection's ARM and Graph clients on the emulator, signed in as one of its seed's principals."""

    AUDIENCES = {'arm': 'https://management.azure.com/', 'graph': 'https://graph.microsoft.com'}

    def __init__(self, emu, clock):
        self.emu = emu
        self.clock = clock

    def token(self, handle, service):
        """A TokenSource with a token the emulator minted for the seed's ``handle`` and ``service`` (arm, graph)."""
        from ansible_collections.azmon.metrics.plugins.module_utils._http import TokenSource  # pylint: disable=import-outside-toplevel

        value = self.emu.admin('POST', '/_admin/tokens/access', {'principal': handle, 'audience': self.AUDIENCES[service]})

        class Minted(TokenSource):
            def token(self):
                return value['token']

            def refresh(self):
                pass

        return Minted()

    def _client(self, cls, service, handle):
        # pylint: disable=import-outside-toplevel
        from ansible_collections.azmon.metrics.plugins.module_utils._http import HttpClient, RetryPolicy
        from ansible_collections.azmon.metrics.plugins.module_utils._wait import Wait
        http = HttpClient(ca_path=self.emu.info['ca_bundle'], retry=RetryPolicy(sleep=lambda s: None), timeout=10)
        return cls(http, self.emu.info[service], self.token(handle, service), wait=Wait(sleep=self.clock.sleep, clock=self.clock))

    def arm(self, handle='admin'):
        from ansible_collections.azmon.metrics.plugins.module_utils._arm import ArmClient  # pylint: disable=import-outside-toplevel
        return self._client(ArmClient, 'arm', handle)

    def graph(self, handle='admin'):
        from ansible_collections.azmon.metrics.plugins.module_utils._graph import GraphClient  # pylint: disable=import-outside-toplevel
        return self._client(GraphClient, 'graph', handle)


@pytest.fixture
def emu_clients(emu, fake_clock):
    """``emu_clients.arm(handle)`` / ``.graph(handle)``: clients on the reset emulator (``.emu``) signed in as the seed's
    ``handle`` (default admin), waiting on ``fake_clock`` (``.clock``); ``.token(handle, service)`` a TokenSource."""
    return EmulatorClients(emu, fake_clock)


class FakeClock:
    """A clock for code that takes ``clock`` and ``sleep``: it moves only when slept on (or when a test sets ``now``)."""

    def __init__(self, now=1000.0):
        self.now = now
        self.slept = []

    def __call__(self):
        return self.now

    def sleep(self, seconds):
        self.slept.append(seconds)
        self.now += seconds


@pytest.fixture
def fake_clock():
    return FakeClock()


@pytest.fixture
def ledger(tmp_path):
    """A delivery ledger (SQLite) in tmp_path, closed after the test."""
    from ansible_collections.azmon.metrics.plugins.module_utils._ledger import Ledger  # pylint: disable=import-outside-toplevel
    book = Ledger(str(tmp_path / 'ledger.sqlite3'))
    yield book
    book.close()


@pytest.fixture
def closed_port():
    """A loopback port where nothing listens."""
    sock = socket.socket()
    sock.bind(('127.0.0.1', 0))
    port = sock.getsockname()[1]
    sock.close()
    return port
