# -*- coding: utf-8 -*-
# Copyright (c) azmon.metrics contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What a person reads of custom_metric_emit: a one-line msg always, request bodies only with -vvv or check mode."""

from __future__ import annotations

import pytest

from ansible_collections.azmon.metrics.plugins.modules import custom_metric_emit


@pytest.fixture
def args(emit_args):
    """custom_metric_emit's options (conftest.py's emit_args) with five metrics by default."""
    def make(**extra):
        return emit_args(**dict({'metrics': [{'metric': 'm%d' % n, 'value': n} for n in range(5)]}, **extra))
    return make


def test_default_output_is_one_line_and_no_bodies(run_main, args):
    result = run_main(custom_metric_emit, args())
    assert result['msg'] == '5 of 5 series sent in 1 request(s); 0 skipped (delivered before), 0 unknown'
    assert 'payloads' not in result
    again = run_main(custom_metric_emit, args())
    assert again['msg'] == '0 of 5 series sent in 0 request(s); 5 skipped (delivered before), 0 unknown'


def test_minus_v_still_has_no_bodies(run_main, args):
    assert 'payloads' not in run_main(custom_metric_emit, args(_ansible_verbosity=1))


def test_minus_vvv_shows_the_bodies(run_main, args):
    result = run_main(custom_metric_emit, args(_ansible_verbosity=3))
    assert [doc['data']['baseData']['metric'] for doc in result['payloads'][0]] == ['m0', 'm1', 'm2', 'm3', 'm4']


def test_check_mode_shows_the_bodies_and_says_so(run_main, args):
    result = run_main(custom_metric_emit, args(_ansible_check_mode=True))
    assert result['msg'].startswith('check mode: 5 of 5 series would be sent in 1 request(s)')
    assert len(result['payloads'][0]) == 5


def test_check_mode_shows_a_sample_of_detail_limit_series_however_many_there_are(run_main, args):
    metrics = [{'metric': 'Load', 'value': n, 'dimensions': {'Host': 'h%04d' % n}} for n in range(3000)]
    given = args(_ansible_check_mode=True, metrics=metrics, detail_limit=7, max_request_bytes=4096)
    result = run_main(custom_metric_emit, given)
    assert result['series_would_send'] == 3000
    assert result['requests_planned'] > 1
    shown = [series for request in result['payloads'] for doc in request for series in doc['data']['baseData']['series']]
    assert [series['dimValues'] for series in shown] == [['h%04d' % n] for n in range(7)]
    assert result['series'] == []       # beyond detail_limit only series that went wrong are listed
    assert result['series_truncated'] is True
