# -*- coding: utf-8 -*-
# Copyright (c) azmon.metrics contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Run a module's ``main()`` in-process and return the JSON it would print."""

from __future__ import annotations

import json

from unittest import mock

import pytest

from ansible.module_utils import _internal
from ansible.module_utils.testing import patch_module_args


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
