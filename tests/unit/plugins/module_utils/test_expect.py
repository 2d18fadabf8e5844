# -*- coding: utf-8 -*-
# Copyright (c) azmon.metrics contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Read-back checks: parsing expected series-minutes, grouping the reads, comparing with the rows read."""

from __future__ import annotations

import datetime

import pytest

from ansible_collections.azmon.metrics.plugins.module_utils._errors import ValidationError
from ansible_collections.azmon.metrics.plugins.module_utils._expect import (
    ExpectationFailed,
    compare,
    failure,
    parse_expected,
    read_groups,
    span_of,
)

UTC = datetime.timezone.utc
# items as custom_metric_emit returns them in `series`
SENT = {'index': 0, 'namespace': 'Deploy', 'metric': 'Smoke', 'dimensions': {'Stage': 'canary'},
        'time': '2026-12-03T19:31:00Z', 'dedupe_key': 'b1', 'status': 'sent', 'count': 2, 'sum': 7.5}
SKIPPED = dict(SENT, index=1, metric='Other', status='skipped')


def test_only_sent_items_are_checked_and_other_keys_ignored():
    (item,) = parse_expected([SENT, SKIPPED])
    assert (item.namespace, item.metric, item.dimensions, item.count, item.sum) == ('Deploy', 'Smoke', {'Stage': 'canary'}, 2.0, 7.5)
    assert item.minute == datetime.datetime(2026, 12, 3, 19, 31, tzinfo=UTC)


def test_the_task_namespace_fills_in_and_items_without_status_are_checked():
    item = dict(SENT)
    del item['namespace'], item['status']
    (parsed,) = parse_expected([item], namespace='FromTask')
    assert parsed.namespace == 'FromTask'


@pytest.mark.parametrize('item, says', [
    ({'metric': 'm', 'time': '2026-12-03T19:31:00Z', 'count': 1, 'sum': 1}, 'expect[0] needs a namespace'),
    (dict(SENT, metric=''), 'expect[0].metric must be a metric name'),
    (dict(SENT, time=None), 'expect[0].time is required'),
    (dict(SENT, time='yesterday-ish'), 'expect[0].time: '),
    (dict(SENT, count='2'), 'expect[0].count must be a number'),
    (dict(SENT, sum=True), 'expect[0].sum must be a number'),
    (dict(SENT, dimensions={'Stage': ''}), 'expect[0].dimensions must map names to non-empty strings'),
    ('not a mapping', 'expect[0] must be a mapping'),
])
def test_bad_items_name_the_option_and_the_item(item, says):
    with pytest.raises(ValidationError) as info:
        parse_expected([item])
    assert says in info.value.msg
    assert info.value.details['option'] == 'expect'


def test_reads_grouped_by_namespace_and_dimension_names_over_the_expected_minutes():
    items = parse_expected([SENT, dict(SENT, metric='Two', time='2026-12-03T19:33:20Z'),
                            dict(SENT, metric='Bare', dimensions={})])
    assert read_groups(items) == {('Deploy', ('Stage',)): {'Smoke', 'Two'}, ('Deploy', ()): {'Bare'}}
    start, end = span_of(items)
    assert start == datetime.datetime(2026, 12, 3, 19, 31, tzinfo=UTC)
    assert end == datetime.datetime(2026, 12, 3, 19, 34, tzinfo=UTC)


def row(metric='Smoke', time='2026-12-03T19:31:00Z', count=2.0, total=7.5, dims=None):
    return {'namespace': 'Deploy', 'metric': metric, 'time': time, 'dimensions': dims or {'Stage': 'canary'},
            'count': count, 'total': total}


def test_equal_counts_and_sums_match():
    checks, mismatches = compare(parse_expected([SENT]), [row(), row(time='2026-12-03T19:32:00Z', count=9.0)])
    assert mismatches == []
    assert checks == [{'namespace': 'Deploy', 'metric': 'Smoke', 'dimensions': {'Stage': 'canary'},
                       'time': '2026-12-03T19:31:00Z', 'sent_count': 2.0, 'sent_sum': 7.5, 'read_count': 2.0,
                       'read_sum': 7.5, 'match': True}]


@pytest.mark.parametrize('rows, read', [
    ([], (0.0, 0.0)),                                              # not shown yet
    ([row(count=4.0, total=15.0)], (4.0, 15.0)),                   # sent twice
    ([row(total=7.0)], (2.0, 7.0)),                                # another sum
    ([row(dims={'Stage': 'prod'})], (0.0, 0.0)),                   # another series
])
def test_differences_fail_naming_the_series_and_both_numbers(rows, read):
    checks, mismatches = compare(parse_expected([SENT]), rows)
    assert (checks[0]['read_count'], checks[0]['read_sum'], checks[0]['match']) == read + (False,)
    error = failure(checks, mismatches)
    assert isinstance(error, ExpectationFailed)
    assert error.msg == ('1 of 1 expected series differ from what Azure holds: Deploy/Smoke[Stage=canary]@2026-12-03T19:31:00Z:'
                         ' read count %g sum %g, sent count 2 sum 7.5' % read)
    assert error.to_result()['mismatched'] == 1
