# -*- coding: utf-8 -*-
# Copyright (c) azmon.metrics contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""ledger_url parsing, and the blob ledger's shard format (the behaviour against storage: integration target
blob_ledger, against Azurite)."""

from __future__ import annotations

import gzip
import json

import pytest

from ansible_collections.azmon.metrics.plugins.module_utils._blob import BlobClient, parse_blob_url
from ansible_collections.azmon.metrics.plugins.module_utils._blob_ledger import (
    BlobLedger,
    _add_sent,
    _decode,
    _drop_old,
    _forget,
    _has_old,
    _record,
    _settle,
    shard_of,
)
from ansible_collections.azmon.metrics.plugins.module_utils._errors import ConfigError, ServiceError
from ansible_collections.azmon.metrics.plugins.module_utils._ledger import LedgerError


@pytest.mark.parametrize('url, account, container, prefix, base', [
    ('https://mystore.blob.core.windows.net/ledger', 'mystore', 'ledger', '',
     'https://mystore.blob.core.windows.net/ledger'),
    ('https://mystore.blob.core.windows.net/ledger/prod/eu/', 'mystore', 'ledger', 'prod/eu',
     'https://mystore.blob.core.windows.net/ledger/prod/eu'),
    ('https://MyStore.Blob.Core.ChinaCloudApi.CN/led-ger', 'mystore', 'led-ger', '',
     'https://mystore.blob.core.chinacloudapi.cn/led-ger'),
    ('https://127.0.0.1:10000/devstoreaccount1/ledger/run1', 'devstoreaccount1', 'ledger', 'run1',
     'https://127.0.0.1:10000/devstoreaccount1/ledger/run1'),
    ('https://localhost:443/devstoreaccount1/abc', 'devstoreaccount1', 'abc', '',
     'https://localhost:443/devstoreaccount1/abc'),
])
def test_a_ledger_url_names_account_container_and_prefix(url, account, container, prefix, base):
    location = parse_blob_url(url)
    assert (location.account, location.container, location.prefix, location.url) == (account, container, prefix, base)
    assert location.blob_url('x/y') == base + '/x/y'


@pytest.mark.parametrize('url, words', [
    ('http://mystore.blob.core.windows.net/ledger', 'must be an https URL'),
    ('https://mystore.blob.core.windows.net/ledger?sv=2020&sig=abc', 'without query'),
    ('https://mystore.blob.core.windows.net', 'must name a container'),
    ('https://mystore.queue.core.windows.net/ledger', 'is not a blob endpoint'),
    ('https://mystore.blob.core.windows.net/Ledger', "container name 'Ledger'"),
    ('https://mystore.blob.core.windows.net/ab', "container name 'ab'"),
    ('https://mystore.blob.core.windows.net/a--b', "container name 'a--b'"),
    ('https://my_store.blob.core.windows.net/ledger', "storage account name 'my_store'"),
    ('https://mystore.blob.core.windows.net/ledger/../x', "prefix segment '..'"),
    ('https://mystore.blob.core.windows.net/ledger/a b', "prefix segment 'a b'"),
    ('https://127.0.0.1:10000/devstoreaccount1', 'needs /ACCOUNT/CONTAINER'),
])
def test_a_bad_ledger_url_is_refused_naming_the_option_and_the_rule(url, words):
    with pytest.raises(ConfigError) as caught:
        parse_blob_url(url)
    assert caught.value.msg.startswith('ledger_url')
    assert words in caught.value.msg
    assert caught.value.details['option'] == 'ledger_url'


def test_a_sas_token_in_the_ledger_url_is_never_echoed():
    with pytest.raises(ConfigError) as caught:
        parse_blob_url('https://mystore.blob.core.windows.net/ledger?sv=2022-11-02&sig=c2VjcmV0c2lnbmF0dXJl')
    assert 'sig=' not in caught.value.msg and 'c2VjcmV0c2lnbmF0dXJl' not in caught.value.msg
    assert 'https://mystore.blob.core.windows.net/ledger' in caught.value.msg


def test_keys_spread_over_four_shards_and_stay_in_theirs():
    keys = ['%032x' % n for n in range(400)]
    shards = [shard_of(k) for k in keys]
    assert set(shards) == {0, 1, 2, 3}
    assert all(60 < shards.count(s) < 140 for s in range(4))
    assert [shard_of(k) for k in keys] == shards


def test_a_claim_that_expired_or_whose_owner_is_gone_turns_unknown_and_old_keys_are_dropped():
    doc = {'format': 1, 'settled': {'old': ['d', 100], 'new': ['d', 5000]},
           'claims': {'c1': {'owner': 'h:1', 'started': 4000, 'expires': 4999, 'keys': ['a', 'b']},
                      'c2': {'owner': 'h:2', 'started': 4900, 'expires': 9000, 'keys': ['c']},
                      'c3': {'owner': 'h:3', 'started': 4900, 'expires': 9000, 'keys': ['d']}}}
    assert _settle(doc, 5000, lambda owner, started: owner == 'h:3') == 3
    assert sorted(doc['claims']) == ['c2']
    assert doc['settled']['a'] == ['u', 5000] and doc['settled']['d'] == ['u', 5000]
    assert _drop_old(doc, 1000, 0) == 1
    assert 'old' not in doc['settled'] and 'new' in doc['settled']


def test_a_series_minute_is_settled_under_its_digest_with_its_minute_and_dropped_two_hours_after_it():
    digest, other = '0123456789abcdef0123456789abcdef', 'fedcba9876543210fedcba9876543210'
    minute_key = digest + '@1764795600'
    assert shard_of(minute_key) == shard_of(digest)     # the shard an earlier version put the digest in
    doc = {'format': 1, 'settled': {}, 'claims': {
        'c1': {'owner': 'h:1', 'started': 1764795610, 'expires': 1764795620, 'keys': [minute_key, other]}}}
    assert _settle(doc, 1764795630, lambda owner, started: False) == 2
    assert doc['settled'] == {digest: ['u', 1764795630, 1764795600], other: ['u', 1764795630]}
    # the second cutoff is now - two hours: kept at 7199 s after the minute, dropped at 7201 s
    assert _drop_old(doc, 1764795630 - 30 * 86400, 1764795600 + 7199 - 7200) == 0
    assert _drop_old(doc, 1764795630 - 30 * 86400, 1764795600 + 7201 - 7200) == 1
    assert doc['settled'] == {other: ['u', 1764795630]}


def test_what_was_sent_is_kept_by_digest_one_entry_a_minute_until_the_key_is_delivered():
    digest, keyed = '0123456789abcdef0123456789abcdef', 'fedcba9876543210fedcba9876543210'
    doc = _decode(gzip.compress(json.dumps({'format': 1, 'settled': {}, 'claims': {}}).encode()), 'u')
    _add_sent(doc, [(digest, 1764795600, 4.5, 3), (keyed, 1764795600, 1.0, 1)], 1764795610)
    _add_sent(doc, [(keyed, 1764795660, 2.0, 1), (keyed, 1764795600, 7.0, 2)], 1764795670)
    assert doc['sent'] == {digest: [[1764795600, 4.5, 3, 1764795610]],
                           keyed: [[1764795600, 7.0, 2, 1764795670], [1764795660, 2.0, 1, 1764795670]]}
    _record(doc, [digest + '@1764795600'], 'u', 1764795611)
    _record(doc, [keyed], 'd', 1764795680)
    assert doc['settled'] == {digest: ['u', 1764795611, 1764795600], keyed: ['d', 1764795680]}
    assert list(doc['sent']) == [digest]


def test_what_was_sent_goes_with_the_sqlite_ledgers_rules():
    digest, keyed, gone = 'a' * 32, 'b' * 32, 'c' * 32
    doc = {'format': 1, 'claims': {}, 'settled': {digest: ['u', 9000, 1000], keyed: ['u', 9000]},
           'sent': {digest: [[1000, 1.0, 1, 9000]], keyed: [[1000, 1.0, 1, 9000], [1060, 2.0, 1, 100]],
                    gone: [[1000, 3.0, 1, 9000], [8000, 4.0, 1, 9000]]}}
    assert not _has_old({'settled': doc['settled'], 'sent': {digest: [[1000, 1.0, 1, 9000]]}}, 500, 900)
    assert _has_old(doc, 500, 900)
    # retention cutoff 500: the entry written at 100 goes; minutes before 2000: the unsettled key's minute 1000 goes
    assert _drop_old(doc, 500, 2000) == 4
    assert doc['settled'] == {keyed: ['u', 9000]}
    assert doc['sent'] == {keyed: [[1000, 1.0, 1, 9000]], gone: [[8000, 4.0, 1, 9000]]}


def test_forget_drops_only_keys_still_unknown_as_they_were_read():
    doc = {'format': 1, 'claims': {},
           'settled': {'a' * 32: ['u', 100, 60], 'b' * 32: ['u', 400, 60], 'c' * 32: ['d', 100], 'e' * 32: ['u', 100]},
           'sent': {'a' * 32: [[60, 1.0, 1, 100]], 'b' * 32: [[60, 1.0, 1, 400]], 'c' * 32: [[60, 1.0, 1, 100]]}}
    seen = {'a' * 32 + '@60': 100, 'b' * 32 + '@60': 100}
    assert _forget(doc, ['a' * 32 + '@60', 'b' * 32 + '@60', 'c' * 32, 'd' * 32, 'e' * 32], seen) == 2
    assert sorted(doc['settled']) == ['b' * 32, 'c' * 32]
    assert sorted(doc['sent']) == ['b' * 32, 'c' * 32]


@pytest.mark.parametrize('body, words', [
    (b'not gzip', 'is not a ledger shard'),
    # mtime=0: the same bytes in every pytest-xdist worker, so that they collect the same test ids
    (gzip.compress(json.dumps({'format': 9}).encode(), mtime=0), 'another format (9)'),
], ids=['not gzip', 'another format'])
def test_a_blob_that_is_not_a_shard_is_a_clear_error(body, words):
    with pytest.raises(LedgerError) as caught:
        _decode(body, 'https://a.blob.core.windows.net/c')
    assert words in caught.value.msg


@pytest.mark.parametrize('code, words', [
    ('AuthorizationPermissionMismatch', 'needs the Storage Blob Data Contributor role'),
    ('AuthenticationFailed', 'needs a token for https://storage.azure.com'),
])
def test_a_refusal_says_whether_the_role_or_the_token_is_wrong(code, words):
    class Location:  # pylint: disable=too-few-public-methods
        url = 'https://mystore.blob.core.windows.net/ledger'
    ledger = BlobLedger(BlobClient(None, None, Location()))
    refusal = ServiceError('blob storage: GET ... returned HTTP 403', status=403, code=code, request_id='r-1')
    error = ledger._error('read', refusal)  # pylint: disable=protected-access
    assert isinstance(error, LedgerError)
    assert words in error.msg
    assert error.msg.startswith('cannot read the blob ledger https://mystore.blob.core.windows.net/ledger: ')
    assert (error.details['status'], error.details['error_code'], error.details['request_id']) == (403, code, 'r-1')
