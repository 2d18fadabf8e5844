# -*- coding: utf-8 -*-
# Copyright (c) azmon.metrics contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""wap_token's main(): what it refuses before anything is sent, and check mode. The sign-in itself runs against
the emulator's WAP authentication site (integration target wap_token)."""

from __future__ import annotations

import json

import pytest

from ansible_collections.azmon.metrics.plugins.modules import wap_token

PASSWORD = 'Not-Sent~42'


def args(**extra):
    # Port 9 (discard) on loopback: nothing listens there, so a request sent by mistake would fail loudly.
    base = {'endpoint': 'https://127.0.0.1:9', 'username': 'CONTOSO\\wapadmin', 'password': PASSWORD,
            'authentication': 'usernamemixed', '_ansible_no_log': True}
    base.update(extra)
    return base


def test_without_no_log_fails_before_anything_is_sent(run_main):
    result = run_main(wap_token, args(_ansible_no_log=False))
    assert result['failed'] is True
    assert result['option'] == 'no_log'
    assert result['msg'].startswith('the token could only be returned in the task result, which is logged')
    assert PASSWORD not in json.dumps(result)


def test_check_mode_sends_nothing_and_says_so(run_main):
    result = run_main(wap_token, args(_ansible_check_mode=True))
    assert not result.get('failed'), result
    assert result['changed'] is False
    assert result['token_endpoint'] == 'https://127.0.0.1:9/wstrust/issue/usernamemixed'
    assert result['msg'] == 'check mode: no token was requested from https://127.0.0.1:9/wstrust/issue/usernamemixed'
    assert 'token' not in result


@pytest.mark.parametrize('extra,option,says', [
    ({'endpoint': 'http://127.0.0.1:9'}, 'endpoint', 'must use https'),
    ({'username': 'A\\B\\C'}, 'username', 'is not DOMAIN\\user or user@domain'),
    ({'password': ''}, 'password', 'password is required'),
    ({'realm': 'AdminSite'}, 'realm', 'is not an absolute URI'),
    ({'timeout': 0}, 'timeout', 'must be from 1 to 3600 seconds'),
    ({'ca_path': '/nonexistent/ca.pem'}, 'ca_path', 'does not exist'),
])
def test_mistakes_name_the_option(run_main, extra, option, says):
    result = run_main(wap_token, args(**extra))
    assert result['failed'] is True
    assert result['option'] == option
    assert says in result['msg']
    assert PASSWORD not in json.dumps(result)
