#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) azmon.metrics contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r'''
module: workspace_metric_emit
short_description: Emit metrics to an Azure Monitor workspace through Prometheus remote write
version_added: 0.1.0
author: azmon.metrics maintainers (!UNKNOWN)
description:
  - Sends the same entries as M(azmon.metrics.custom_metric_emit) to an Azure Monitor workspace, the store Microsoft
    recommends for new solutions (queried with PromQL and Grafana), through the Prometheus remote write endpoint of
    a data collection endpoint and rule (C(POST {endpoint}/dataCollectionRules/{immutable id}/streams/Microsoft-PrometheusMetrics/api/v1/write)).
  - A separate module rather than a destination option of M(azmon.metrics.custom_metric_emit), because the two
    destinations need different options (a region against an endpoint and a rule), different token audiences and
    roles, and differ in what a repeated request does. The entry options are the same, so a play moves from one to
    the other, or emits to both, by changing the module name and the destination options only.
  - 'Naming rule, reversible: every entry becomes four series, C(<metric>_min), C(<metric>_max), C(<metric>_sum)
    and C(<metric>_count), each holding that minute''s aggregate as a gauge (read them with C(sum_over_time) or
    C(max_over_time), not C(rate)). Labels: C(azure_namespace) (the namespace), C(azure_resource_id) (the resource
    ID) and C(dim_<name>) per dimension, with the values as given. In names, ASCII letters and digits stay, C(_)
    becomes C(__), any other character C(_<hex code point>_) (C(Disk.Read) becomes C(Disk_2e_Read)), and a
    leading digit of a metric is escaped too.'
  - Samples carry the minute of the entry, in milliseconds; samples of one series go out in time order, and entries
    of one series and minute are added together first, as for custom metrics.
  - Validation, the delivery ledger, check mode, the result counts and retries work as in
    M(azmon.metrics.custom_metric_emit). The ledger keys name the endpoint and rule, so one ledger serves both
    modules and any number of rules.
  - Prometheus stores a sample that repeats one it holds (same series, time and value) once, so a request sent
    again after an unclear failure is not counted twice by a Prometheus receiver. Microsoft does not document this
    for the workspace; until it does, series whose request had an unclear outcome are recorded C(unknown) as for
    custom metrics, and O(unknown=resend) sends them again.
  - An HTTP 400 after the body was sent also leaves the request's series C(unknown) rather than failed, because a
    remote write receiver may keep the valid samples of a request it refuses (remote write 1.0).
  - The signed-in principal needs the Monitoring Metrics Publisher role on the data collection rule (a role
    assignment at the rule, its resource group or subscription).
requirements:
  - requests >= 2.25.0
  - azure-identity >= 1.15.0
  - protobuf >= 4.25.0
  - cramjam >= 2.7.0
extends_documentation_fragment:
  - azmon.metrics.auth
  - azmon.metrics.emit
  - azmon.metrics.attributes
  - azmon.metrics.attributes.check_mode_full
  - azmon.metrics.attributes.diff_mode_none
options:
  dce_endpoint:
    description:
      - The metrics ingestion endpoint of the data collection endpoint, for example
        V(https://my-amw-a1b2.eastus-1.metrics.ingest.monitor.azure.com) (the C(metricsIngestion.endpoint) of the
        endpoint; an Azure Monitor workspace created with defaults has its own).
      - Named so because O(ingestion_endpoint) already means the custom metrics endpoint.
      - Give it with O(dcr_immutable_id), or give O(dcr_resource_id) instead of both.
    type: str
  dcr_immutable_id:
    description:
      - The C(immutableId) of the data collection rule that sends to the workspace, C(dcr-) and 32 hex digits.
      - Give it with O(dce_endpoint), or give O(dcr_resource_id) instead of both.
    type: str
  dcr_resource_id:
    description:
      - The ARM resource ID of the data collection rule
        (C(/subscriptions/.../providers/Microsoft.Insights/dataCollectionRules/NAME)), instead of O(dce_endpoint)
        and O(dcr_immutable_id).
      - The module then reads the rule from Azure Resource Manager (api-version 2023-03-11), also in check mode, for its
        C(immutableId), and its metrics ingestion endpoint, which is the rule's own C(endpoints.metricsIngestion) or
        else the C(metricsIngestion.endpoint) of the data collection endpoint the rule names in
        C(dataCollectionEndpointId) (as for the rule and endpoint of an Azure Monitor workspace).
      - Reading needs C(Microsoft.Insights/dataCollectionRules/read) on the rule (and
        C(Microsoft.Insights/dataCollectionEndpoints/read) on that endpoint), which Monitoring Metrics Publisher does
        not grant; Reader or Monitoring Reader on the rule's resource group does. The token is for the cloud's ARM
        audience.
    type: str
  resource_id:
    description:
      - Full ARM ID of the resource the metrics are about, written to the label C(azure_resource_id).
    type: str
    required: true
  unknown:
    description:
      - What to do with series an earlier run left C(unknown). V(skip) reports them (status V(unknown_skipped));
        V(resend) sends them again.
    type: str
    default: skip
    choices: [skip, resend]
notes:
  - The token is requested for the cloud's workspace ingestion audience (C(https://monitor.azure.com) in
    V(AzureCloud)), and only when something is to be sent.
  - Create the workspace, endpoint and rule once with the Azure CLI or Bicep; this module creates nothing in Azure.
'''

EXAMPLES = r'''
- name: Send queue depths to the Azure Monitor workspace
  azmon.metrics.workspace_metric_emit:
    dce_endpoint: https://my-amw-a1b2.eastus-1.metrics.ingest.monitor.azure.com
    dcr_immutable_id: dcr-00112233445566778899aabbccddeeff
    resource_id: /subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm1
    namespace: QueueProcessing
    metrics:
      - metric: QueueDepth
        dimensions: {QueueName: images}
        values: [3, 20, 5]
      - metric: QueueDepth
        dimensions: {QueueName: mail}
        value: 7
- name: Send to the workspace whose rule is given by its resource ID (endpoint and immutable ID read from ARM)
  azmon.metrics.workspace_metric_emit:
    dcr_resource_id: /subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-monitoring/providers/Microsoft.Insights/dataCollectionRules/my-amw
    resource_id: /subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm1
    namespace: QueueProcessing
    metric: QueueDepth
    value: 12
'''

RETURN = r'''
msg:
  description: One line saying what was sent, skipped and left unknown, and in how many requests.
  returned: success
  type: str
resource_id:
  description: The resource ID written to the label C(azure_resource_id).
  returned: always
  type: str
url:
  description: The remote write URL.
  returned: always
  type: str
dce_endpoint:
  description: The metrics ingestion endpoint sent to, as given or as read from ARM for O(dcr_resource_id).
  returned: when the endpoint is known (always, unless reading the rule from ARM failed)
  type: str
dcr_immutable_id:
  description: The immutable ID of the rule sent through, as given or as read from ARM for O(dcr_resource_id).
  returned: when the endpoint is known (always, unless reading the rule from ARM failed)
  type: str
series_total:
  description: Number of entries given.
  returned: always
  type: int
series_sent:
  description: Entries delivered by this run (each as four series).
  returned: always
  type: int
series_would_send:
  description: Entries a real run would send (check mode).
  returned: always
  type: int
series_skipped:
  description: Entries skipped because an earlier run delivered them.
  returned: always
  type: int
series_unknown:
  description: Entries whose request may or may not have been ingested in this run; recorded in the ledger.
  returned: always
  type: int
series_unknown_skipped:
  description: Entries not sent because an earlier run left them unknown (see O(unknown)).
  returned: always
  type: int
series_failed:
  description: Entries certainly not delivered.
  returned: always
  type: int
series_not_sent:
  description: Entries not attempted after an error every request would hit (401, 403, 404).
  returned: always
  type: int
series_in_flight:
  description: Entries being sent by another live process, left to it.
  returned: always
  type: int
series_not_recorded:
  description: Entries sent whose delivery the ledger could not record; they stay claimed in the ledger.
  returned: always
  type: int
ledger_requests:
  description: Calls made to Blob Storage for the ledger.
  returned: when O(ledger_url) is set and O(dedupe=true)
  type: int
requests_planned:
  description: Number of request bodies the entries were packed into.
  returned: always
  type: int
requests_sent:
  description: HTTP POSTs made, retries included.
  returned: always
  type: int
retries:
  description: Number of retries.
  returned: always
  type: int
requests:
  description: What became of each request body.
  returned: always
  type: list
  elements: dict
series:
  description:
    - One item per entry with C(index), C(namespace), C(metric), C(dimensions), C(time), C(dedupe_key),
      C(count), C(sum) and C(status), as in M(azmon.metrics.custom_metric_emit); all of them up to O(detail_limit), else those not
      delivered.
  returned: always
  type: list
  elements: dict
series_truncated:
  description: Whether RV(series) lists fewer entries than were given.
  returned: always
  type: bool
payloads:
  description:
    - The series of the first request bodies (labels and samples), one list per request.
    - At most O(detail_limit) series in all (at least one), so that the result does not grow with the number of series.
  returned: in check mode, or with C(-vvv) and more
  type: list
  elements: list
'''

from ansible_collections.azmon.metrics.plugins.module_utils._arm import ArmClient
from ansible_collections.azmon.metrics.plugins.module_utils._emit import Emission, EmissionFailed
from ansible_collections.azmon.metrics.plugins.module_utils._emit_options import (
    MUTUALLY_EXCLUSIVE,
    check_delivery_options,
    emission_argspec,
    entry_defaults,
    task_ledger,
)
from ansible_collections.azmon.metrics.plugins.module_utils._http import RetryPolicy
from ansible_collections.azmon.metrics.plugins.module_utils._ingest import IngestionTransport, Sender
from ansible_collections.azmon.metrics.plugins.module_utils._metrics import build_points, entries_from_options
from ansible_collections.azmon.metrics.plugins.module_utils._module import auth_argspec, azure_context, run_module
from ansible_collections.azmon.metrics.plugins.module_utils._prometheus import (
    HEADERS,
    PARTIAL_STATUSES,
    check_libraries,
    packer,
    rekey,
    rule_ingestion,
    write_url,
)
from ansible_collections.azmon.metrics.plugins.module_utils._scope import parse_resource_id

ARGUMENT_SPEC = emission_argspec({
    'dce_endpoint': {'type': 'str'},
    'dcr_immutable_id': {'type': 'str'},
    'dcr_resource_id': {'type': 'str'},
    'resource_id': {'type': 'str', 'required': True},
    'unknown': {'type': 'str', 'default': 'skip', 'choices': ['skip', 'resend']},
})


def run(module):
    params = module.params
    location = check_delivery_options(params)
    rule = {'dce_endpoint': params['dce_endpoint'], 'dcr_immutable_id': params['dcr_immutable_id']}
    if params['dcr_resource_id'] is None:
        url = write_url(rule['dce_endpoint'], rule['dcr_immutable_id'])
    resource = parse_resource_id(params['resource_id'], option='resource_id')
    points = build_points(entries_from_options(params), resource.id, defaults=entry_defaults(params),
                          consume=params['metrics'] is None)
    check_libraries()          # protobuf and cramjam, before the ledger or a token
    ctx = azure_context(module)
    if params['dcr_resource_id'] is not None:
        arm = ArmClient(ctx.http, ctx.cloud['arm_endpoint'], ctx.token_source('arm_audience'))
        rule['dce_endpoint'], rule['dcr_immutable_id'] = rule_ingestion(arm, params['dcr_resource_id'])
        url = write_url(rule['dce_endpoint'], rule['dcr_immutable_id'])
    rekey(points, url)
    transport = IngestionTransport(validate_certs=ctx.http.validate_certs, ca_path=ctx.http.ca_path,
                                   timeout=ctx.http.timeout)
    transport.prepare(url)
    with task_ledger(module, ctx, location) as ledger:
        result = _emit(module, ctx, resource, rule, url, points, ledger, transport)
    if location is not None:
        result['ledger_requests'] = ledger.calls      # pruning included
    result.update(rule)
    return result


def _emit(module, ctx, resource, rule, url, points, ledger, transport):
    """Send what the ledger does not hold yet; the result, or ``EmissionFailed`` carrying it (and ``rule``, the
    endpoint and immutable ID sent to)."""
    params = module.params
    sender = None
    if not module.check_mode:
        sender = Sender(transport, ctx.token_source('workspace_audience'), RetryPolicy(max_attempts=6, max_wait=300.0),
                        compress=False, log=module.debug, headers=HEADERS, partial_statuses=PARTIAL_STATUSES)
    emission = Emission(points, resource.id, url, ledger=ledger, sender=sender,
                        resend_unknown=params['unknown'] == 'resend', check_mode=module.check_mode,
                        detail_limit=params['detail_limit'],
                        show_payloads=module._verbosity >= 3,  # pylint: disable=protected-access
                        max_request_bytes=params['max_request_bytes'], warn=module.warn,
                        packer=packer(resource.id))
    try:
        return emission.run()
    except EmissionFailed as exc:
        if params['ledger_url'] and ledger is not None:
            exc.details['ledger_requests'] = ledger.calls
        exc.details.update(rule)
        if any(r.get('status') == 403 for r in exc.details.get('requests', [])):
            exc.msg = ('the signed-in principal may not write through data collection rule %s: it needs the'
                       ' Monitoring Metrics Publisher role on the rule (or its resource group or subscription); a new'
                       ' role assignment can take up to 30 minutes to take effect. %s'
                       % (rule['dcr_immutable_id'], exc.msg))
        raise
    finally:
        if sender is not None:
            transport.close()


def main():
    spec = auth_argspec()
    spec.update(ARGUMENT_SPEC)
    run_module(spec, run, supports_check_mode=True,
               mutually_exclusive=MUTUALLY_EXCLUSIVE + [('dcr_resource_id', 'dce_endpoint'),
                                                        ('dcr_resource_id', 'dcr_immutable_id')],
               required_one_of=[('dcr_resource_id', 'dcr_immutable_id')],
               required_together=[('dce_endpoint', 'dcr_immutable_id')])


if __name__ == '__main__':
    main()
