# -*- coding: utf-8 -*-
# Copyright (c) azmon.metrics contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import pytest

from ansible_collections.azmon.metrics.plugins.module_utils import _prometheus

pytest.importorskip('google.protobuf', reason='protobuf (the serializer the size is checked against) is not installed')


def test_size_of_one_label_and_one_sample():
    # label a=b: 2 x (tag, length, 1 byte) = 6, field 8; sample 1.0 at 1000 ms: 9 + 3 = 12, field 14; series 22, 24
    assert _prometheus.encoded_size([([('a', 'b')], [(1000, 1.0)])]) == 24


@pytest.mark.parametrize('series', [
    [],
    [([('__name__', 'QueueDepth_sum'), ('azure_namespace', 'Queue.Processing'), ('dim_Q', 'images')],
      [(1795341600000, 28.0), (1795341660000, 0.0)])],
    [([('n', '')], [(0, -0.0), (5, float('nan')), (-1, 1e300)])],
    [([('dim_x', 'é' * 200)], [(2 ** 62, 3.5)] * 20), ([], [])],
    [([('a' * 127, 'b' * 128)], [(127, 1.0), (128, 2.0), (16383, 3.0), (16384, 4.0)])],
])
def test_size_equals_the_serialized_length(series):
    assert _prometheus.encoded_size(series) == len(_prometheus.encode(series))
