# -*- coding: utf-8 -*-
# Copyright (c) azmon.metrics contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import pytest

from ansible_collections.azmon.metrics.plugins.module_utils._jwt import claims, decode_part, header

# {"alg":"RS256","typ":"JWT"} . {"oid":"o","appid":"a"} . sig, written out (base64url, no padding)
TOKEN = 'eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCJ9.eyJvaWQiOiJvIiwiYXBwaWQiOiJhIn0.sig'


def test_token_claims():
    assert claims(TOKEN) == {'oid': 'o', 'appid': 'a'}
    assert claims('not a jwt') == {}
    assert claims('a.!!!.c') == {}


def test_header():
    assert header(TOKEN) == {'alg': 'RS256', 'typ': 'JWT'}
    assert header('not a jwt') == {}


@pytest.mark.parametrize('part, expected', [
    ('eyJhIjoxfQ', {'a': 1}),        # {"a":1} without padding
    ('eyJhIjoxfQ==', {'a': 1}),      # and with it
    ('WzFd', {}),                    # [1]: JSON, but not an object
    ('bm90IGpzb24', {}),             # "not json"
    ('w7w', {}),                     # not UTF-8 JSON
    ('é', {}),                       # not ASCII
])
def test_decode_part(part, expected):
    assert decode_part(part) == expected
