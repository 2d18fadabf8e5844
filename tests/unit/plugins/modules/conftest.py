# -*- coding: utf-8 -*-
# Copyright (c) azmon.metrics contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Run a module's ``main()`` in-process and return the JSON it would print; the emission modules' scripted server."""

from __future__ import annotations

import base64
import json
import os
import sys
import time

from unittest import mock

import pytest

from ansible.module_utils import _internal
from ansible.module_utils.testing import patch_module_args

sys.path.insert(0, os.path.join(os.path.dirname(__file__), '..', '..'))

from tls_server import TlsScriptedServer  # noqa: E402  pylint: disable=wrong-import-position

RID = '/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm1'


class ModuleExit(Exception):
    def __init__(self, result, failed):
        super().__init__(result)
        self.result = result
        self.failed = failed


def _run(module, args, capsys):
    # Under plain pytest, once a test has imported controller code, ansible-core sends module warnings to the
    # console instead of the result; a module runs as a module here.
    with patch_module_args(args), mock.patch.object(_internal, 'is_controller', False):
        try:
            module.main()
        except SystemExit as exc:
            out = capsys.readouterr().out
            result = json.loads(out)
            return result, exc.code != 0
    raise AssertionError('main() returned without exit_json or fail_json')


@pytest.fixture
def run_main(capsys):
    """``run_main(module, args)`` -> the module's result dict; ``result['failed']`` is set on failure."""
    def runner(module, args):
        result, failed = _run(module, args, capsys)
        if failed:
            result.setdefault('failed', True)
        return result
    return runner


def _unsigned_jwt(claims):
    def enc(doc):
        return base64.urlsafe_b64encode(json.dumps(doc).encode()).rstrip(b'=').decode()
    return '%s.%s.sig' % (enc({'alg': 'RS256', 'typ': 'JWT'}), enc(claims))


@pytest.fixture
def ingest_token():
    """A ready ingestion access token of caller oid ``oid-123``, app ``app-456``; nothing checks its signature."""
    return _unsigned_jwt({'aud': 'https://monitoring.azure.com/', 'oid': 'oid-123', 'appid': 'app-456',
                          'exp': time.time() + 3600})


@pytest.fixture
def server(tmp_path):
    """The scripted TLS server (tests/unit/tls_server.py) that the emission modules post to."""
    srv = TlsScriptedServer(tmp_path)
    yield srv
    srv.stop()


@pytest.fixture
def emit_args(server, ingest_token, tmp_path):
    """``emit_args(**extra)``: custom_metric_emit options posting to ``server`` for RID in East US, ledger in tmp_path."""
    def make(**extra):
        base = {'resource_id': RID, 'region': 'East US', 'namespace': 'NS', 'access_token': ingest_token,
                'ingestion_endpoint': server.url + '/{region}', 'ca_path': server.cert,
                'ledger_path': str(tmp_path / 'ledger.sqlite3')}
        base.update(extra)
        return base
    return make
