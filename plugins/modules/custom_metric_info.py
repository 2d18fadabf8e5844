#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) azmon.metrics contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r'''
module: custom_metric_info
short_description: Read Azure Monitor metric values, namespaces or definitions of a resource
version_added: 0.1.0
author:
  - azmon.metrics contributors (!UNKNOWN)
description:
  - Reads metrics of one Azure resource back through the Azure Resource Manager metrics API
    (C(GET {resourceId}/providers/Microsoft.Insights/metrics), api-version C(2023-10-01)); custom metrics sent
    by M(azmon.metrics.custom_metric_emit) as well as platform metrics.
  - With O(query=values) it returns one row per series and time that holds data, with the dimensions as a
    mapping, so that a play can C(assert) on what Azure holds.
  - With O(query=namespaces) it lists the resource's metric namespaces; with O(query=definitions) the metrics
    of a namespace with their dimensions, aggregations and time grains.
  - Options are checked before anything is sent; dimension values are quoted for the filter (a C(') is doubled)
    and percent-encoded, so no value can change the request.
  - New custom series take about 3 minutes after ingestion to appear, and most data appears within 30 seconds
    after that; read later, or retry, to see recent data.
  - The signed-in principal needs C(Microsoft.Insights/Metrics/Read) on the resource, which Monitoring Reader
    (C(43d0d8ad-25c7-4714-9337-8ba259a9fe05)) and Reader grant; Monitoring Metrics Publisher does not. See
    O(azmon.metrics.metrics_publisher_role#module:role=reader).
extends_documentation_fragment:
  - azmon.metrics.auth
  - azmon.metrics.attributes
  - azmon.metrics.attributes.info_module
options:
  resource_id:
    description:
      - Full ARM ID of the resource, for example
        C(/subscriptions/{guid}/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm1).
      - A subscription or resource group ID is refused.
    type: str
    required: true
  query:
    description:
      - V(values) reads metric values; V(namespaces) lists metric namespaces; V(definitions) lists the metric
        definitions of O(namespace) (the resource type's platform namespace when not set).
    type: str
    default: values
    choices: [values, namespaces, definitions]
  namespace:
    description:
      - Metric namespace, for example the one given to M(azmon.metrics.custom_metric_emit), or a platform
        namespace such as V(Microsoft.Compute/virtualMachines).
      - Required with O(query=values).
    type: str
  metrics:
    description:
      - Names of the metrics to read, 1 to 20. Required with O(query=values).
    type: list
    elements: str
  start_time:
    description:
      - Start of the time range. ISO 8601 (a time without a zone is UTC), epoch seconds, V(now), or relative to
        now such as V(-30m), V(-2h), V(-1d) (units s, m, h, d, w).
      - Give two of O(start_time), O(end_time) and O(duration), or O(duration) alone (the range then ends when
        Azure answers), or O(start_time) alone (the range ends now). With none of them, the last hour.
    type: str
  end_time:
    description:
      - End of the time range, in the same forms as O(start_time).
    type: str
  duration:
    description:
      - Length of the time range as an ISO 8601 duration, for example V(PT30M), V(PT1H), V(P1D).
    type: str
  interval:
    description:
      - Time grain of the returned points; V(FULL) returns one point for the whole range.
      - Azure aligns the first point to the grain.
    type: str
    default: PT1M
    choices: [PT1M, PT5M, PT15M, PT30M, PT1H, PT6H, PT12H, P1D, FULL]
  aggregations:
    description:
      - Aggregations to return for each point.
    type: list
    elements: str
    default: [Total, Count, Minimum, Maximum, Average]
    choices: [Total, Count, Minimum, Maximum, Average]
  dimensions:
    description:
      - Dimensions to filter on and split by, as a mapping of dimension name to a value, a list of values (any of
        them), or V(*) (every value, one series each).
      - Without it, each metric is returned as one series added up over all dimension values.
      - Dimension names must not hold whitespace, quotes, parentheses or commas; values are non-empty strings.
    type: dict
  top:
    description:
      - With O(dimensions), the largest number of series returned per metric (Azure's default is 10).
    type: int
  order_by:
    description:
      - With O(top), the aggregation that ranks the series and the direction, for example V(Total desc).
    type: str
  expect:
    description:
      - Series-minutes Azure must hold, to check a read-back; the task fails naming every series whose count or
        sum differs (or that Azure does not show yet), so that C(retries)/C(until) can wait out the ingestion
        latency (a new series takes about 3 minutes).
      - Each item has C(metric), C(dimensions) (a mapping), C(time) (the minute), C(count) and C(sum), and
        C(namespace) unless O(namespace) is set. The items of RV(azmon.metrics.custom_metric_emit#module:series)
        can be given as they are; those with a C(status) other than V(sent) are not checked (they were not sent
        by that run at that minute). Other keys are ignored.
      - The module chooses the reads (one per namespace and set of dimension names, per 20 metrics, over the
        expected minutes, split by every dimension), so O(metrics), O(dimensions), O(start_time), O(end_time),
        O(duration), O(top) and O(order_by) must not be set; only O(query=values).
      - Series in Azure that are not expected are not checked; a series-minute sent twice reads twice its count.
    type: list
    elements: dict
seealso:
  - module: azmon.metrics.custom_metric_emit
  - module: azmon.metrics.metrics_publisher_role
  - name: Metrics - List (REST API)
    description: The call this module makes for O(query=values).
    link: https://learn.microsoft.com/rest/api/monitor/metrics/list
'''

EXAMPLES = r'''
# Variables the examples use:
#   vm_id: /subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-demo/providers/Microsoft.Compute/virtualMachines/vm1
#   release: "2026.11.22-1"
# Sending needs Monitoring Metrics Publisher, reading needs Monitoring Reader: two sign-ins, or one principal
# holding both roles.

- name: Send one smoke-test value for this release
  azmon.metrics.custom_metric_emit:
    resource_id: "{{ vm_id }}"
    region: eastus
    namespace: Deployments
    metric: SmokeTest
    dimensions: {Stage: canary}
    value: 1
    dedupe_key: "{{ release }}"

- name: Read it back once Azure shows it (a new series takes about 3 minutes)
  azmon.metrics.custom_metric_info:
    resource_id: "{{ vm_id }}"
    namespace: Deployments
    metrics: [SmokeTest]
    duration: PT30M
    dimensions:
      Stage: "*"
  register: smoke
  until: smoke.rows | selectattr('dimensions.Stage', 'equalto', 'canary') | list | length > 0
  retries: 20
  delay: 15

- name: Gate the deployment on it
  ansible.builtin.assert:
    that:
      - smoke.rows | selectattr('dimensions.Stage', 'equalto', 'canary') | map(attribute='count') | sum >= 1

- name: Totals of two queues only, per five minutes, over the last two hours
  azmon.metrics.custom_metric_info:
    resource_id: "{{ vm_id }}"
    namespace: QueueProcessing
    metrics: [QueueDepth]
    start_time: -2h
    interval: PT5M
    aggregations: [Total, Maximum]
    dimensions:
      QueueName: [ImagesToProcess, "Tom's queue"]

- name: List the metric namespaces of the VM
  azmon.metrics.custom_metric_info:
    resource_id: "{{ vm_id }}"
    query: namespaces

- name: List the custom metrics of one namespace with their dimensions
  azmon.metrics.custom_metric_info:
    resource_id: "{{ vm_id }}"
    query: definitions
    namespace: Deployments
'''

RETURN = r'''
msg:
  description: One line saying what was read (rows, series and metrics, namespaces or definitions).
  returned: success
  type: str
  sample: 12 row(s) in 2 series of 1 metric(s) read for 2026-11-22T10:00:00Z/2026-11-22T11:00:00Z
rows:
  description:
    - With O(query=values), one row per series and time that holds data, in the order Azure returned them.
  returned: success
  type: list
  elements: dict
  contains:
    metric:
      description: Metric name.
      type: str
      sample: QueueDepth
    namespace:
      description: Metric namespace.
      type: str
      sample: QueueProcessing
    time:
      description: Start of the time grain, UTC ISO 8601.
      type: str
      sample: "2026-11-22T10:31:00Z"
    dimensions:
      description:
        - Dimension name to value for the dimensions in O(dimensions); empty without it. Names are spelt as in
          O(dimensions) (Azure returns them in lower case).
      type: dict
      sample: {QueueName: ImagesToProcess}
    total:
      description: Sum of the values in the grain, when asked for.
      type: float
      sample: 28.0
    count:
      description: Number of values in the grain, when asked for.
      type: float
      sample: 3
    minimum:
      description: Smallest value, when asked for.
      type: float
    maximum:
      description: Largest value, when asked for.
      type: float
    average:
      description: Average value, when asked for.
      type: float
expected:
  description: With O(expect), one item per checked series-minute, in the order given.
  returned: when O(expect) is set, also when the task fails because of it
  type: list
  elements: dict
  contains:
    namespace:
      description: Metric namespace.
      type: str
    metric:
      description: Metric name.
      type: str
    dimensions:
      description: Dimension name to value.
      type: dict
    time:
      description: The minute, UTC ISO 8601.
      type: str
    sent_count:
      description: The count expected.
      type: float
    sent_sum:
      description: The sum expected.
      type: float
    read_count:
      description: The count Azure returned (0 when it shows nothing).
      type: float
    read_sum:
      description: The sum Azure returned (0 when it shows nothing).
      type: float
    match:
      description: Whether both are equal (sums within a relative 1e-9).
      type: bool
mismatched:
  description: With O(expect), how many checked series-minutes differ; the task fails when it is not 0.
  returned: when O(expect) is set, also when the task fails because of it
  type: int
  sample: 0
metrics:
  description: With O(query=values), one entry per metric asked for.
  returned: success
  type: list
  elements: dict
  contains:
    name:
      description: Metric name.
      type: str
    unit:
      description: Unit Azure reports.
      type: str
    series:
      description: Number of series returned.
      type: int
    error_code:
      description: Azure's per-metric status (C(Success) when it could be read).
      type: str
    error_message:
      description: Azure's reason when the metric could not be read.
      type: str
namespaces:
  description: With O(query=namespaces), the metric namespaces of the resource.
  returned: success
  type: list
  elements: dict
  contains:
    name:
      description: Namespace name, as used in O(namespace).
      type: str
    classification:
      description: V(Platform) or V(Custom) (also V(Qos)).
      type: str
    id:
      description: ARM ID of the namespace.
      type: str
definitions:
  description: With O(query=definitions), the metrics of the namespace.
  returned: success
  type: list
  elements: dict
  contains:
    name:
      description: Metric name.
      type: str
    namespace:
      description: Its namespace.
      type: str
    unit:
      description: Unit.
      type: str
    category:
      description: Category, when Azure gives one.
      type: str
    primary_aggregation:
      description: The aggregation shown by default.
      type: str
    aggregations:
      description: Supported aggregations.
      type: list
      elements: str
    dimensions:
      description: Dimension names.
      type: list
      elements: str
    time_grains:
      description: Time grains that can be asked for.
      type: list
      elements: str
    dimension_required:
      description: Whether a dimension filter is required.
      type: bool
    id:
      description: ARM ID of the definition.
      type: str
timespan:
  description: With O(query=values), the time range Azure answered for (C(start/end), UTC).
  returned: success
  type: str
  sample: "2026-11-22T10:00:00Z/2026-11-22T11:00:00Z"
interval:
  description: With O(query=values), the time grain Azure answered with.
  returned: success
  type: str
  sample: PT1M
resource_region:
  description: With O(query=values), the region of the resource as Azure reports it.
  returned: success
  type: str
  sample: eastus
request_ids:
  description: Request IDs of the calls made, for support cases.
  returned: success
  type: list
  elements: str
'''

from ansible_collections.azmon.metrics.plugins.module_utils._errors import ValidationError
from ansible_collections.azmon.metrics.plugins.module_utils._expect import (
    compare,
    failure,
    parse_expected,
    read_groups,
    span_of,
)
from ansible_collections.azmon.metrics.plugins.module_utils._metrics_read import (
    MetricsReader,
    check_duration,
    order_by,
    timespan,
)
from ansible_collections.azmon.metrics.plugins.module_utils._module import auth_argspec, azure_context, run_module
from ansible_collections.azmon.metrics.plugins.module_utils._scope import parse_resource_id
from ansible_collections.azmon.metrics.plugins.module_utils._time import TimeFormatError, parse_time

OWN_OPTIONS = {
    'resource_id': {'type': 'str', 'required': True},
    'query': {'type': 'str', 'default': 'values', 'choices': ['values', 'namespaces', 'definitions']},
    'namespace': {'type': 'str'},
    'metrics': {'type': 'list', 'elements': 'str'},
    'start_time': {'type': 'str'},
    'end_time': {'type': 'str'},
    'duration': {'type': 'str'},
    'interval': {'type': 'str', 'default': 'PT1M', 'choices': ['PT1M', 'PT5M', 'PT15M', 'PT30M', 'PT1H', 'PT6H', 'PT12H',
                                                               'P1D', 'FULL']},
    'aggregations': {'type': 'list', 'elements': 'str', 'default': ['Total', 'Count', 'Minimum', 'Maximum', 'Average'],
                     'choices': ['Total', 'Count', 'Minimum', 'Maximum', 'Average']},
    'dimensions': {'type': 'dict'},
    'top': {'type': 'int'},
    'order_by': {'type': 'str'},
    'expect': {'type': 'list', 'elements': 'dict'},
}

MAX_METRIC_NAMES = 20


def time_range(params):
    """The ``timespan`` parameter from start_time, end_time and duration; raises naming the option."""
    times = {}
    for option in ('start_time', 'end_time'):
        if params.get(option) is not None:
            try:
                times[option] = parse_time(params[option], allow_relative=True)
            except TimeFormatError as exc:
                raise ValidationError('%s: %s' % (option, exc), option=option) from None
    duration = check_duration(params['duration'], 'duration') if params.get('duration') is not None else None
    start, end = times.get('start_time'), times.get('end_time')
    if start is None and end is None and duration is None:
        duration = 'PT1H'
    if start is not None and end is None and duration is None:
        end = parse_time('now', allow_relative=True)
    if end is not None and start is None and duration is None:
        raise ValidationError('end_time needs start_time or duration', option='end_time')
    return timespan(start, end, duration)


def check(params):
    """Every rule on the options, before anything is sent; returns the resource ID in normal form."""
    resource = parse_resource_id(params['resource_id'], option='resource_id')
    if params.get('expect') is not None:
        if params['query'] != 'values':
            raise ValidationError('expect only applies to query=values', option='expect')
        for option in ('metrics', 'dimensions', 'start_time', 'end_time', 'duration', 'top', 'order_by'):
            if params.get(option) is not None:
                raise ValidationError('%s cannot be used with expect: the expected series choose what is read'
                                      % option, option=option)
        return resource.id
    if params['query'] == 'values':
        for option in ('namespace', 'metrics'):
            if not params.get(option):
                raise ValidationError('%s is required with query=values' % option, option=option)
        if not params['aggregations']:
            raise ValidationError('aggregations must name at least one aggregation', option='aggregations')
        if params.get('top') is not None and params['top'] < 1:
            raise ValidationError('top must be 1 or more, got %d' % params['top'], option='top')
    else:
        for option in ('metrics', 'start_time', 'end_time', 'duration', 'dimensions', 'top', 'order_by'):
            if params.get(option) is not None:
                raise ValidationError('%s only applies to query=values' % option, option=option)
        if params['query'] == 'namespaces' and params.get('namespace'):
            raise ValidationError('namespace does not apply to query=namespaces', option='namespace')
    return resource.id


def read_expected(module, resource_id):
    """The expect check: read the expected series-minutes back, compare, fail naming those that differ."""
    params = module.params
    expected = parse_expected(params['expect'], params.get('namespace'))
    result = {'changed': False, 'expected': [], 'mismatched': 0, 'values': []}
    if not expected:
        result['msg'] = 'nothing to check: no expected series with status sent'
        return result
    start, end = span_of(expected)
    span = timespan(start, end, None)
    ctx = azure_context(module)
    reader = MetricsReader(ctx.http, ctx.cloud['arm_endpoint'], ctx.token_source('arm_audience'))
    rows = []
    for (namespace, dim_names), metric_names in sorted(read_groups(expected).items()):
        names = sorted(metric_names)
        top = max(10, len(expected))
        for first in range(0, len(names), MAX_METRIC_NAMES):
            _doc, got, _metrics = reader.values(resource_id, namespace, names[first:first + MAX_METRIC_NAMES],
                                                span=span, interval='PT1M', aggregations=['Total', 'Count'],
                                                dimensions=dict.fromkeys(dim_names, '*') or None,
                                                top=top if dim_names else None)
            rows.extend(got)
    checks, mismatches = compare(expected, rows)
    if mismatches:
        raise failure(checks, mismatches)
    result.update(expected=checks, rows=rows, request_ids=[rid for rid in reader.request_ids if rid])
    result['msg'] = '%d expected series-minute(s) read back with the count and sum sent' % len(checks)
    return result


def run(module):
    params = module.params
    resource_id = check(params)
    if params.get('expect') is not None:
        return read_expected(module, resource_id)
    result = {'changed': False}
    if params['query'] == 'values':
        span = time_range(params)
        orderby = order_by(params['order_by']) if params.get('order_by') else None
        aggregations = list(dict.fromkeys(params['aggregations']))
    ctx = azure_context(module)
    reader = MetricsReader(ctx.http, ctx.cloud['arm_endpoint'], ctx.token_source('arm_audience'))
    if params['query'] == 'values':
        doc, rows, metrics = reader.values(resource_id, params['namespace'], params['metrics'], span=span,
                                           interval=params['interval'], aggregations=aggregations,
                                           dimensions=params.get('dimensions'), top=params.get('top'), orderby=orderby)
        result.update(rows=rows, metrics=metrics, timespan=doc.get('timespan'), interval=doc.get('interval'),
                      resource_region=doc.get('resourceregion'))
    elif params['query'] == 'namespaces':
        result['namespaces'] = reader.namespaces(resource_id)
    else:
        result['definitions'] = reader.definitions(resource_id, params.get('namespace'))
    result['request_ids'] = [rid for rid in reader.request_ids if rid]
    result['msg'] = summary(params, result)
    return result


def summary(params, result):
    """One line saying what was read."""
    if params['query'] == 'namespaces':
        return '%d metric namespace(s) of %s' % (len(result['namespaces']), params['resource_id'])
    if params['query'] == 'definitions':
        return '%d metric definition(s) in %s' % (len(result['definitions']), params.get('namespace') or 'the platform namespace')
    return '%d row(s) in %d series of %d metric(s) read for %s' % (
        len(result['rows']), sum(m.get('series') or 0 for m in result['metrics']), len(result['metrics']),
        result.get('timespan') or 'the time range')


def main():
    spec = auth_argspec()
    spec.update(OWN_OPTIONS)
    run_module(spec, run, supports_check_mode=True)


if __name__ == '__main__':
    main()
