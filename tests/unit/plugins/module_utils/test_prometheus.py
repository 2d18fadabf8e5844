# -*- coding: utf-8 -*-
# Copyright (c) azmon.metrics contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import datetime
import os
import sys

import pytest

from ansible_collections.azmon.metrics.plugins.module_utils import _prometheus
from ansible_collections.azmon.metrics.plugins.module_utils._emit import Emission
from ansible_collections.azmon.metrics.plugins.module_utils._errors import MissingLibraryError, ValidationError
from ansible_collections.azmon.metrics.plugins.module_utils._http import Response, RetryPolicy
from ansible_collections.azmon.metrics.plugins.module_utils._ingest import DELIVERED, Outcome, Sender
from ansible_collections.azmon.metrics.plugins.module_utils._ledger import Ledger
from ansible_collections.azmon.metrics.plugins.module_utils._metrics import build_points
from ansible_collections.azmon.metrics.plugins.module_utils._prometheus import (
    escape,
    metric_name,
    pack,
    parse_series,
    rekey,
    series_labels,
    unescape,
    write_url,
)

cramjam = pytest.importorskip('cramjam', reason='cramjam is a requirement of the remote write path')
pytest.importorskip('google.protobuf', reason='protobuf is a requirement too')
sys.path.insert(0, os.path.join(os.path.dirname(__file__), '..', '..', '..', 'emulator'))
from azmon_emulator.testing import remote_write_class  # noqa: E402  pylint: disable=wrong-import-position

UTC = datetime.timezone.utc
NOW = datetime.datetime(2026, 11, 22, 10, 31, 17, tzinfo=UTC)
RID = '/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm1'


def points(entries, **defaults):
    defaults.setdefault('namespace', 'NS')
    return build_points(entries, RID, now=NOW, defaults=defaults)


# --- an independent decoder: remote write 1.0 as the emulator's testing helper writes it out, parsed by protobuf ---

def decode(body):
    message = remote_write_class().FromString(bytes(cramjam.snappy.decompress_raw(body)))
    return [({lab.name: lab.value for lab in ts.labels}, [(s.timestamp, s.value) for s in ts.samples])
            for ts in message.timeseries]


# --- naming, both ways ---------------------------------------------------------------------------------------

@pytest.mark.parametrize('text, escaped', [
    ('QueueDepth', 'QueueDepth'),
    ('Disk.Read_Bytes', 'Disk_2e_Read__Bytes'),
    ('a b', 'a_20_b'),
    ('_', '__'),
    ('x._', 'x_2e___'),
    ('Größe', 'Gr_f6__df_e'),
    ('\U0001f600', '_1f600_'),
])
def test_escape_both_ways(text, escaped):
    assert escape(text) == escaped
    assert unescape(escaped) == text


def test_metric_name_escapes_a_leading_digit_and_adds_the_aggregate():
    assert metric_name('5xx', 'count') == '_35_xx_count'
    assert metric_name('Queue Depth', 'sum') == 'Queue_20_Depth_sum'
    assert unescape('_35_xx') == '5xx'


@pytest.mark.parametrize('bad', ['a.b', '_zz_', '_2e', 'a_110000_'])
def test_unescape_refuses_what_escape_never_makes(bad):
    with pytest.raises(ValueError):
        unescape(bad)


def test_series_labels_and_back():
    (p,) = points([{'metric': 'Disk.Read', 'namespace': 'My NS', 'dimensions': {'Queue_Name': 'a/b', '2nd': 'x'},
                    'value': 3}])
    labels = series_labels(p, RID, 'max')
    assert labels == [('__name__', 'Disk_2e_Read_max'), ('azure_namespace', 'My NS'), ('azure_resource_id', RID),
                      ('dim_2nd', 'x'), ('dim_Queue__Name', 'a/b')]
    assert parse_series(labels) == {'namespace': 'My NS', 'metric': 'Disk.Read', 'aggregate': 'max',
                                    'resource_id': RID, 'dimensions': {'Queue_Name': 'a/b', '2nd': 'x'}}
    for name, _value in labels:
        assert _prometheus.LABEL_NAME.match(name)


@pytest.mark.parametrize('labels', [
    {'__name__': 'x_avg', 'azure_namespace': 'n', 'azure_resource_id': 'r'},
    {'__name__': 'x_sum', 'azure_resource_id': 'r'},
    {'__name__': 'x_sum', 'azure_namespace': 'n', 'azure_resource_id': 'r', 'job': 'j'},
])
def test_parse_series_refuses_foreign_series(labels):
    with pytest.raises(ValueError):
        parse_series(labels)


# --- encoding round trip -------------------------------------------------------------------------------------

def test_pack_round_trips_through_protobuf_and_snappy():
    entries = [{'metric': 'Depth', 'values': [1, 5], 'time': '2026-11-22T10:29:40Z', 'dimensions': {'q': 'a'}},
               {'metric': 'Depth', 'value': 2, 'time': '2026-11-22T10:28:05Z', 'dimensions': {'q': 'a'}},
               {'metric': 'Depth', 'value': 4, 'time': '2026-11-22T10:29:10Z', 'dimensions': {'q': 'a'}}]
    (req,) = pack(points(entries), RID)
    assert req.content_type == 'application/x-protobuf'
    assert len(req.points) == 3
    decoded = decode(req.body)
    by_name = {labels['__name__']: (labels, samples) for labels, samples in decoded}
    assert sorted(by_name) == ['Depth_count', 'Depth_max', 'Depth_min', 'Depth_sum']
    # 10:28 then 10:29 (two entries merged: values 1, 5 and 4), in time order, milliseconds
    assert by_name['Depth_sum'][1] == [(1795343280000, 2.0), (1795343340000, 10.0)]
    assert by_name['Depth_count'][1] == [(1795343280000, 1.0), (1795343340000, 3.0)]
    assert by_name['Depth_min'][1] == [(1795343280000, 2.0), (1795343340000, 1.0)]
    assert by_name['Depth_max'][1] == [(1795343280000, 2.0), (1795343340000, 5.0)]
    assert by_name['Depth_sum'][0] == {'__name__': 'Depth_sum', 'azure_namespace': 'NS', 'azure_resource_id': RID,
                                       'dim_q': 'a'}
    assert req.size == len(bytes(cramjam.snappy.decompress_raw(req.body)))


def test_pack_splits_by_size_and_keeps_every_point():
    entries = [{'metric': 'm%d' % i, 'value': i} for i in range(40)]
    requests = pack(points(entries), RID, max_bytes=2000)
    assert len(requests) > 1
    assert all(r.size <= 2000 for r in requests)
    names = sorted(labels['__name__'] for r in requests for labels, _s in decode(r.body))
    assert len(names) == 160
    assert sorted(p.index for r in requests for p in r.points) == list(range(40))


def test_a_body_of_several_series_decodes_to_each_of_them_whole():
    entries = [{'metric': 'Load', 'value': i, 'time': '2026-11-22T10:30:00Z', 'dimensions': {'Host': 'h%d' % i}}
               for i in range(3)]
    (req,) = pack(points(entries), RID)
    decoded = decode(req.body)
    assert [(labels['__name__'], labels['dim_Host'], samples) for labels, samples in decoded] == [
        ('Load_min', 'h0', [(1795343400000, 0.0)]), ('Load_max', 'h0', [(1795343400000, 0.0)]),
        ('Load_sum', 'h0', [(1795343400000, 0.0)]), ('Load_count', 'h0', [(1795343400000, 1.0)]),
        ('Load_min', 'h1', [(1795343400000, 1.0)]), ('Load_max', 'h1', [(1795343400000, 1.0)]),
        ('Load_sum', 'h1', [(1795343400000, 1.0)]), ('Load_count', 'h1', [(1795343400000, 1.0)]),
        ('Load_min', 'h2', [(1795343400000, 2.0)]), ('Load_max', 'h2', [(1795343400000, 2.0)]),
        ('Load_sum', 'h2', [(1795343400000, 2.0)]), ('Load_count', 'h2', [(1795343400000, 1.0)])]
    assert all(sorted(labels) == ['__name__', 'azure_namespace', 'azure_resource_id', 'dim_Host']
               for labels, _samples in decoded)
    assert req.size == len(bytes(cramjam.snappy.decompress_raw(req.body)))


def test_minutes_of_one_series_in_one_request_are_one_time_series_in_time_order():
    # without a dedupe_key every minute has its own ledger key; a request holding several still sends the
    # series once, its samples in time order
    entries = [{'metric': 'Load', 'value': v, 'time': t, 'dimensions': {'Host': 'h'}}
               for v, t in ((3, '2026-11-22T10:30:00Z'), (1, '2026-11-22T10:28:00Z'), (2, '2026-11-22T10:29:00Z'))]
    (req,) = pack(points(entries), RID)
    decoded = decode(req.body)
    assert [labels['__name__'] for labels, _samples in decoded] == ['Load_min', 'Load_max', 'Load_sum', 'Load_count']
    assert decoded[2][1] == [(1795343280000, 1.0), (1795343340000, 2.0), (1795343400000, 3.0)]
    assert req.size == len(bytes(cramjam.snappy.decompress_raw(req.body)))
    assert sorted(p.index for p in req.points) == [0, 1, 2]


def test_minutes_of_one_series_split_over_requests_keep_their_order_and_size():
    entries = [{'metric': 'Load', 'value': m, 'time': '2026-11-22T10:%02d:00Z' % m, 'dimensions': {'Host': 'h'}}
               for m in range(20, 30)]
    requests = pack(points(entries), RID, max_bytes=2000)
    assert len(requests) > 1
    stamps = []
    for req in requests:
        assert req.size == len(bytes(cramjam.snappy.decompress_raw(req.body))) <= 2000
        decoded = decode(req.body)
        assert len(decoded) == 4
        stamps.extend(stamp for stamp, _value in decoded[0][1])
    assert stamps == [1795342800000 + 60000 * m for m in range(10)]


def test_pack_refuses_a_series_larger_than_the_limit():
    with pytest.raises(ValidationError) as exc:
        pack(points([{'metric': 'm', 'value': 1}]), RID, max_bytes=50)
    assert exc.value.details['option'] == 'max_request_bytes'


def test_check_mode_documents_are_readable():
    (req,) = pack(points([{'metric': 'm', 'value': 1.5, 'time': '2026-11-22T10:30:00Z'}]), RID)
    docs = req.documents()
    assert {'labels': {'__name__': 'm_sum', 'azure_namespace': 'NS', 'azure_resource_id': RID},
            'samples': [{'time': '2026-11-22T10:30:00Z', 'value': 1.5}]} in docs


# --- validation and the endpoint -----------------------------------------------------------------------------

def test_write_url():
    assert write_url('https://dce-1.eastus-1.metrics.ingest.monitor.azure.com/', 'dcr-' + 'a1' * 16) == (
        'https://dce-1.eastus-1.metrics.ingest.monitor.azure.com/dataCollectionRules/dcr-a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1'
        '/streams/Microsoft-PrometheusMetrics/api/v1/write?api-version=2023-04-24')


def test_an_endpoint_spelt_in_capitals_is_the_same_destination():
    # a host name knows no case: typed as the portal's overview shows the resource name, or read from ARM, one
    # endpoint is one destination, so the ledger keys (which name the URL) are the same and nothing is sent twice
    url = write_url('https://DCE-1.EastUS-1.Metrics.Ingest.Monitor.Azure.com', 'dcr-' + 'a1' * 16)
    assert url == ('https://dce-1.eastus-1.metrics.ingest.monitor.azure.com/dataCollectionRules/'
                   'dcr-a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1/streams/Microsoft-PrometheusMetrics/api/v1/write'
                   '?api-version=2023-04-24')


@pytest.mark.parametrize('endpoint, dcr, option', [
    ('http://dce.example', 'dcr-' + '0' * 32, 'dce_endpoint'),
    ('https://dce.example/path', 'dcr-' + '0' * 32, 'dce_endpoint'),
    (None, 'dcr-' + '0' * 32, 'dce_endpoint'),
    ('https://dce.example', 'dcr-' + '0' * 31, 'dcr_immutable_id'),
    ('https://dce.example', 'DCR-' + 'A' * 32, 'dcr_immutable_id'),
])
def test_write_url_refuses(endpoint, dcr, option):
    with pytest.raises(ValidationError) as exc:
        write_url(endpoint, dcr)
    assert exc.value.details['option'] == option
    assert exc.value.msg.startswith(option + ':')


def test_missing_snappy_names_the_package(monkeypatch):
    import builtins
    real = builtins.__import__

    def fake(name, *args, **kwargs):
        if name == 'cramjam':
            raise ImportError('no cramjam')
        return real(name, *args, **kwargs)
    monkeypatch.setattr(builtins, '__import__', fake)
    with pytest.raises(MissingLibraryError) as exc:
        _prometheus.compress(b'x')
    assert exc.value.library == 'cramjam'


# --- through Emission and a real Sender ----------------------------------------------------------------------

class _Sender:
    """Decodes what it is given, as a remote write receiver would, and answers delivered."""

    def __init__(self):
        self.bodies = []
        self.posts = 0
        self.retries = 0
        self.in_doubt = False

    def prepare(self):
        pass

    def send(self, url, body, content_type, deadline=None):  # pylint: disable=unused-argument
        self.posts += 1
        self.bodies.append((url, content_type, decode(body)))
        return Outcome(DELIVERED, 1, status=204)


def test_emission_sends_remote_write_and_a_rerun_sends_nothing(tmp_path):
    url = write_url('https://dce.example', 'dcr-' + '0' * 32)
    ledger = Ledger(str(tmp_path / 'ledger.sqlite3'))
    entries = [{'metric': 'm', 'value': 2, 'time': '2026-11-22T10:30:00Z'}]

    def emission(sender, check_mode=False):
        return Emission(rekey(points(entries), url), RID, url, ledger=ledger, sender=sender, check_mode=check_mode,
                        packer=_prometheus.packer(RID), in_flight_wait=0.0)

    checked = emission(None, check_mode=True).run()
    assert checked['series_would_send'] == 1
    assert {'labels': {'__name__': 'm_count', 'azure_namespace': 'NS', 'azure_resource_id': RID},
            'samples': [{'time': '2026-11-22T10:30:00Z', 'value': 1.0}]} in checked['payloads'][0]
    sender = _Sender()
    assert emission(sender).run()['series_sent'] == 1
    ((sent_url, content_type, series),) = sender.bodies
    assert (sent_url, content_type) == (url, 'application/x-protobuf')
    assert sorted(labels['__name__'] for labels, _samples in series) == ['m_count', 'm_max', 'm_min', 'm_sum']
    again = _Sender()
    assert emission(again).run()['series_skipped'] == 1
    assert again.bodies == []


def test_rekey_separates_destinations_in_one_ledger():
    (plain,) = points([{'metric': 'm', 'value': 1, 'time': '2026-11-22T10:30:00Z'}])
    (one,) = rekey(points([{'metric': 'm', 'value': 1, 'time': '2026-11-22T10:30:00Z'}]), 'https://a/x')
    (other,) = rekey(points([{'metric': 'm', 'value': 1, 'time': '2026-11-22T10:30:00Z'}]), 'https://b/x')
    assert len({plain.key, one.key, other.key}) == 3
    # each still names its minute, for the ledger to let it go once that minute cannot be sent again
    assert plain.key.endswith('@1795343400') and one.key.endswith('@1795343400') and other.key.endswith('@1795343400')
    assert len(one.key) == len(plain.key) == 32 + len('@1795343400')


def test_sender_sends_the_remote_write_headers_unchanged():
    seen = []

    class Transport:
        body_started = False

        def post(self, url, body, headers):
            seen.append((body, headers))
            return Response(204, {}, b'')

    class Token:
        def token(self):
            return 'tok'

    snd = Sender(Transport(), Token(), RetryPolicy(max_attempts=1), compress=False, headers=_prometheus.HEADERS)
    assert snd.send('https://dce/x', b'\x01snappy', 'application/x-protobuf').state == DELIVERED
    ((body, headers),) = seen
    assert body == b'\x01snappy'
    assert headers['Content-Encoding'] == 'snappy'
    assert headers['Content-Type'] == 'application/x-protobuf'
    assert headers['X-Prometheus-Remote-Write-Version'] == '0.1.0'


@pytest.mark.parametrize('body_sent, state', [(True, 'unknown'), (False, 'failed')])
def test_a_remote_write_400_after_the_body_leaves_the_request_unknown(body_sent, state):
    # remote write 1.0: a receiver may keep the valid samples of a request it answers 400; an answer that came
    # before the body was written cannot have kept anything
    class Transport:
        body_started = False

        def post(self, url, body, headers):
            return Response(400, {}, b'{"error": {"code": "BadRequest", "message": "out of order sample"}}',
                            body_sent=body_sent)

    class Token:
        def token(self):
            return 'tok'

    snd = Sender(Transport(), Token(), RetryPolicy(max_attempts=3), compress=False, headers=_prometheus.HEADERS,
                 partial_statuses=_prometheus.PARTIAL_STATUSES)
    outcome = snd.send('https://dce/x', b'\x01snappy', 'application/x-protobuf')
    assert outcome.state == state
    assert outcome.status == 400 and outcome.attempts == 1
    assert ('remote write' in (outcome.reason or '')) is body_sent
