#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) azmon.metrics contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r'''
module: workspace_metric_info
short_description: Read metrics back from an Azure Monitor workspace with PromQL
version_added: 0.1.0
author:
  - azmon.metrics contributors (!UNKNOWN)
description:
  - Runs a PromQL instant query (C(/api/v1/query)) or range query (C(/api/v1/query_range)) on the Prometheus
    query endpoint of an Azure Monitor workspace, and returns one row per series and time, with the labels as a
    mapping, so that a play can C(assert) on what the workspace holds.
  - Give either a PromQL expression in O(promql), or a custom metric in O(metric) (with O(aggregate) and
    optionally O(namespace), O(resource_id) and O(dimensions)); the module then writes the selector with the
    naming rule of M(azmon.metrics.workspace_metric_emit), quoting every value.
  - Each row also carries the namespace, metric, aggregate, resource ID and dimensions the naming rule gives
    back for its series (RV(rows[].custom_metric)), or null for a series the rule did not make.
  - With O(start_time) the query is a range query from O(start_time) to O(end_time) every O(step) seconds;
    without it an instant query at O(time).
  - Options are checked before anything is sent.
  - The signed-in principal needs the data action C(Microsoft.Monitor/accounts/data/metrics/read) on the
    workspace, which the built-in role Monitoring Data Reader (C(b0d8363b-8ddd-447d-831f-62ca05bff136)) grants;
    the token is asked for the audience C(https://prometheus.monitor.azure.com).
extends_documentation_fragment:
  - azmon.metrics.auth
  - azmon.metrics.attributes
  - azmon.metrics.attributes.info_module
options:
  query_endpoint:
    description:
      - The workspace's query endpoint, as its overview page in the Azure portal shows it, for example
        C(https://my-amw-a1b2.eastus.prometheus.monitor.azure.com). The module appends C(/api/v1/query) or
        C(/api/v1/query_range) to it; a path (behind a proxy) is kept, a query string is refused.
    type: str
    required: true
  promql:
    description:
      - A PromQL expression, sent as given.
      - Mutually exclusive with O(metric).
    type: str
  metric:
    description:
      - A custom metric name as given to M(azmon.metrics.workspace_metric_emit), for example C(QueueDepth).
      - Mutually exclusive with O(promql); one of the two is required.
    type: str
  aggregate:
    description:
      - With O(metric), which of the four series of each point to read.
    type: str
    choices: [min, max, sum, count]
    default: sum
  namespace:
    description:
      - With O(metric), only series of this namespace.
    type: str
  resource_id:
    description:
      - With O(metric), only series sent for this resource ID (as it was given when sending).
    type: str
  dimensions:
    description:
      - With O(metric), only series with these dimension values (name to value).
    type: dict
  time:
    description:
      - The time of an instant query, ISO 8601, epoch seconds, C(now) or relative such as C(-5m). Default the
        server's now.
      - Not with O(start_time).
    type: str
  start_time:
    description:
      - Makes the query a range query starting here (ISO 8601, epoch seconds or relative such as C(-1h)).
    type: str
  end_time:
    description:
      - End of a range query. Default now. Only with O(start_time).
    type: str
  step:
    description:
      - Seconds between the points of a range query. Only with O(start_time).
      - At most 11,000 points per series; a smaller step over a longer range is refused before sending.
    type: int
    default: 60
  names:
    description:
      - Whether to add RV(rows[].custom_metric) to each row.
    type: bool
    default: true
notes:
  - A sample is visible to an instant query for 5 minutes after its time (Prometheus's lookback), so read
    minutes sent long ago with a range query or an explicit O(time).
  - The values are the per-minute aggregates the emit module sent (gauges), not counters; sum a range with
    C(sum_over_time) in O(promql) rather than C(rate).
seealso:
  - module: azmon.metrics.workspace_metric_emit
  - module: azmon.metrics.custom_metric_info
'''

EXAMPLES = r'''
# Sending needs Monitoring Metrics Publisher on the data collection rule, reading needs Monitoring Data Reader on
# the workspace: two sign-ins, or one principal holding both roles.
- name: Read back the images queue's sum sent to the workspace
  azmon.metrics.workspace_metric_info:
    query_endpoint: https://my-amw-a1b2.eastus.prometheus.monitor.azure.com
    metric: QueueDepth
    aggregate: sum
    namespace: QueueProcessing
    dimensions: {QueueName: images}
  register: images

- name: Show the series found
  ansible.builtin.debug:
    msg: "{{ images.rows | map(attribute='custom_metric') | list }}"

- name: The images queue's maximum over the last hour, every five minutes, in PromQL
  azmon.metrics.workspace_metric_info:
    query_endpoint: https://my-amw-a1b2.eastus.prometheus.monitor.azure.com
    promql: QueueDepth_max{dim_QueueName="images"}
    start_time: -1h
    step: 300
  register: hour

- name: Fail when the queue was ever deeper than 100
  ansible.builtin.assert:
    that:
      - hour.rows | map(attribute='value') | select('gt', 100) | list | length == 0
'''

RETURN = r'''
rows:
  description:
    - One row per series and time, in the order of the answer (for a range query, each series' times in order).
  returned: success
  type: list
  elements: dict
  contains:
    name:
      description: The metric name (label C(__name__)); null when the expression dropped it.
      type: str
      sample: QueueDepth_sum
    labels:
      description: The other labels of the series.
      type: dict
      sample: {azure_namespace: QueueProcessing, dim_QueueName: images}
    time:
      description: The sample's time, UTC.
      type: str
      sample: "2026-11-22T10:31:00Z"
    value:
      description: The value; C(NaN), C(+Inf) or C(-Inf) as text when not finite.
      type: raw
      sample: 28.0
    custom_metric:
      description:
        - The series under the naming rule of M(azmon.metrics.workspace_metric_emit), or null when it does not
          follow it. Only with O(names=true).
      type: dict
      contains:
        namespace:
          description: The namespace.
          type: str
        metric:
          description: The metric as it was sent.
          type: str
        aggregate:
          description: C(min), C(max), C(sum) or C(count).
          type: str
        resource_id:
          description: The resource ID the series was sent for.
          type: str
        dimensions:
          description: Dimension name to value.
          type: dict
      sample: {namespace: QueueProcessing, metric: QueueDepth, aggregate: sum, resource_id: /subscriptions/0/x,
               dimensions: {QueueName: images}}
series_count:
  description: How many series the answer holds.
  returned: success
  type: int
  sample: 1
result_type:
  description: The Prometheus result type, C(vector), C(matrix), C(scalar) or C(string).
  returned: success
  type: str
  sample: vector
query:
  description: The PromQL expression sent.
  returned: success
  type: str
  sample: QueueDepth_sum{azure_namespace="QueueProcessing",dim_QueueName="images"}
msg:
  description: One line saying what was read.
  returned: success
  type: str
  sample: 1 row(s) in 1 series from the instant query QueueDepth_sum
request_ids:
  description: The request IDs of the answers, for support cases.
  returned: success
  type: list
  elements: str
'''

from ansible_collections.azmon.metrics.plugins.module_utils._errors import ValidationError
from ansible_collections.azmon.metrics.plugins.module_utils._http import check_connection
from ansible_collections.azmon.metrics.plugins.module_utils._module import auth_argspec, azure_context, run_module
from ansible_collections.azmon.metrics.plugins.module_utils._prometheus_query import (
    PrometheusReader,
    check_endpoint,
    instant_params,
    range_params,
    selector,
)
from ansible_collections.azmon.metrics.plugins.module_utils._time import TimeFormatError, parse_time

OWN_OPTIONS = {
    'query_endpoint': {'type': 'str', 'required': True},
    'promql': {'type': 'str'},
    'metric': {'type': 'str'},
    'aggregate': {'type': 'str', 'default': 'sum', 'choices': ['min', 'max', 'sum', 'count']},
    'namespace': {'type': 'str'},
    'resource_id': {'type': 'str'},
    'dimensions': {'type': 'dict'},
    'time': {'type': 'str'},
    'start_time': {'type': 'str'},
    'end_time': {'type': 'str'},
    'step': {'type': 'int', 'default': 60},
    'names': {'type': 'bool', 'default': True},
}


def _time(params, option, now=None):
    try:
        return parse_time(params[option], now=now, allow_relative=True)
    except TimeFormatError as exc:
        raise ValidationError('%s: %s' % (option, exc), option=option) from None


def plan(params, now=None):
    """Every rule on the options, before anything is sent: ``(endpoint, kind, query, form fields)``."""
    endpoint = check_endpoint(params['query_endpoint'])
    if bool(params.get('promql')) == bool(params.get('metric')):
        raise ValidationError('give exactly one of promql and metric', option='promql')
    if params.get('promql'):
        for option in ('namespace', 'resource_id', 'dimensions'):
            if params.get(option) is not None:
                raise ValidationError('%s only applies with metric, not with promql' % option, option=option)
        query = params['promql'].strip()
    else:
        query = selector(params['metric'], params['aggregate'], params.get('namespace'), params.get('resource_id'),
                         params.get('dimensions'))
    if params.get('start_time') is None:
        if params.get('end_time') is not None:
            raise ValidationError('end_time needs start_time (a range query)', option='end_time')
        at = _time(params, 'time', now) if params.get('time') is not None else None
        return endpoint, 'instant', query, instant_params(query, at)
    if params.get('time') is not None:
        raise ValidationError('time is for an instant query; a range query takes start_time and end_time',
                              option='time')
    start = _time(params, 'start_time', now)
    end = _time(params, 'end_time', now) if params.get('end_time') is not None else parse_time(
        'now', now=now, allow_relative=True)
    return endpoint, 'range', query, range_params(query, start, end, params['step'])


def run(module):
    params = module.params
    endpoint, kind, query, fields = plan(params)
    ctx = azure_context(module)
    check_connection(endpoint, ctx.http.validate_certs, ctx.http.ca_path, ctx.environ)
    reader = PrometheusReader(ctx.http, endpoint, ctx.token_source('prometheus_audience'))
    result_type, rows, series = reader.query(kind, fields, params['names'])
    return {'changed': False, 'rows': rows, 'series_count': series, 'result_type': result_type, 'query': query,
            'request_ids': [rid for rid in reader.request_ids if rid],
            'msg': '%d row(s) in %d series from the %s query %s' % (len(rows), series, kind, query)}


def main():
    spec = auth_argspec()
    spec.update(OWN_OPTIONS)
    run_module(spec, run, supports_check_mode=True)


if __name__ == '__main__':
    main()
