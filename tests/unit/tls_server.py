# -*- coding: utf-8 -*-
# Copyright (c) azmon.metrics contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A scripted HTTPS server on loopback that can fail at each phase of a POST with ``Expect: 100-continue``.

It stays beside the emulator because it controls what no emulator fault can: whether ``100 Continue`` is
sent at all, a final answer before the body, a reset after the body but before any answer, a hang.
"""

from __future__ import annotations

import datetime
import gzip
import http.server
import json
import socket
import ssl
import struct
import threading
import time

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
import ipaddress


def make_cert(directory):
    """A self-signed certificate for 127.0.0.1; returns ``(cert_path, key_path)``."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, 'azmon test')])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address('127.0.0.1'))]), critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    cert_path, key_path = directory / 'cert.pem', directory / 'key.pem'
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return str(cert_path), str(key_path)


class TlsScriptedServer:
    """Each request takes the next step of ``script``:

    ``('ok', status, headers, body)`` answer after reading the body;
    ``'reset_before_body'`` no ``100 Continue``, then RST;
    ``'reset_after_body'`` read the body, then RST;
    ``'early'`` + status: a final answer without reading the body;
    ``'silent_continue'``: never sends ``100 Continue`` but reads the body and answers 200;
    ``'hang'``: read the body and never answer.
    ``received`` holds the decoded bodies the server read completely.
    """

    def __init__(self, tmp_path):
        self.script = []
        self.received = []
        self.requests = []
        self.cert, key = make_cert(tmp_path)
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = 'HTTP/1.1'

            def log_message(self, *args):
                pass

            def handle_expect_100(self):
                step = server.script[0] if server.script else 'ok'
                if step in ('reset_before_body', 'silent_continue') or (isinstance(step, tuple) and step[0] == 'early'):
                    return True
                return super().handle_expect_100()

            def _rst(self):
                self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack('ii', 1, 0))
                self.connection.close()
                self.close_connection = True

            def _answer(self, status, headers=None, body=b''):
                if not isinstance(body, bytes):
                    body = json.dumps(body).encode()
                self.send_response(status)
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.send_header('Content-Length', str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_POST(self):  # noqa: N802
                step = server.script.pop(0) if server.script else ('ok', 200, {}, {})
                server.requests.append({'path': self.path, 'headers': dict(self.headers), 'step': step})
                if step == 'reset_before_body':
                    self._rst()
                    return
                if isinstance(step, tuple) and step[0] == 'early':
                    self._answer(step[1], step[2] if len(step) > 2 else {}, step[3] if len(step) > 3 else b'')
                    self.close_connection = True
                    return
                body = self.rfile.read(int(self.headers['Content-Length']))
                if self.headers.get('Content-Encoding') == 'gzip':
                    body = gzip.decompress(body)
                server.received.append(body)
                if step == 'reset_after_body':
                    self._rst()
                elif step == 'hang':
                    time.sleep(3)
                    self.close_connection = True
                elif step == 'silent_continue':
                    self._answer(200, {}, {})
                else:
                    self._answer(step[1], step[2], step[3])

        self.httpd = http.server.ThreadingHTTPServer(('127.0.0.1', 0), Handler)
        self.httpd.daemon_threads = True
        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ctx.load_cert_chain(self.cert, key)
        self.httpd.socket = ctx.wrap_socket(self.httpd.socket, server_side=True)
        self.url = 'https://127.0.0.1:%d' % self.httpd.server_address[1]
        threading.Thread(target=self.httpd.serve_forever, kwargs={'poll_interval': 0.05}, daemon=True).start()

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()
