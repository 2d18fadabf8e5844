#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) azmon.metrics contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r'''
module: custom_metric_emit
short_description: Emit Azure Monitor custom metrics for one resource, validated, batched and idempotent
version_added: 0.1.0
author: azmon.metrics maintainers (!UNKNOWN)
description:
  - Sends custom metrics for one Azure resource to the regional ingestion endpoint
    (C(POST https://{region}.monitoring.azure.com{resourceId}/metrics)).
  - One metric through O(metric), O(namespace), O(dimensions) and a value, or many through O(metrics), a file on the
    managed node (O(metrics_file)) or a file on the controller (O(metrics_src)). For tens of thousands of entries
    use a file; inline entries are Ansible values, which ansible-core templates one by one before the task starts.
  - Everything is validated against the ingestion limits before anything is sent; if any entry is invalid,
    nothing is sent and the error names the entry (index and metric), the field and the rule.
  - Series are packed into as few requests as the limits allow (one document per metric, namespace, minute and
    dimension names; gzip-compressed ndjson of at most O(max_request_bytes) uncompressed).
  - Idempotent. A local ledger records every series-minute (resource, namespace, metric, dimension names and
    values, and the minute or the entry's C(dedupe_key)) that was delivered, so the same task run again sends
    nothing and reports C(changed=false).
  - A C(dedupe_key) stands for the minute in that identity. Entries of one series that share a key, whatever their
    times, are one unit; they are always sent in the same request and recorded together, so within one task every
    series-minute given is delivered once however the series are split into requests, and a later task with the
    same key skips all of them (even re-stamped to another minute). A unit larger than O(max_request_bytes) is
    refused before anything is sent.
  - Azure adds up every post for a series-minute, so a request whose outcome is unclear is never re-sent
    blindly. The body is only written after the service answers C(100 Continue); failures before that, HTTP 429,
    and 503 with C(Retry-After) are retried (never past the time window). A timeout or a broken connection after
    the body was written, HTTP 500, 502, 504 and 503 without C(Retry-After) make those series C(unknown); they
    are recorded in the ledger and the task fails naming them. A later run does not re-send them blindly; see
    O(unknown).
  - With O(unknown=reconcile) a later run settles them by reading Azure, which gives exactly once through
    ambiguous failures. Each C(unknown) series-minute whose count and sum Azure holds as sent becomes delivered, one Azure does not hold
    is sent again (once), and any other value stays C(unknown) and is reported with both numbers (RV(reconciled)).
    The signed-in principal then also needs a reader role (Monitoring Reader, see
    O(azmon.metrics.metrics_publisher_role#module:role)); series are read back only O(reconcile_wait) seconds
    after they became C(unknown), since Azure shows a new series only after about 3 minutes; a series can only be
    sent again within Azure's ingestion window (about 20 minutes after its time), so a run that reconciles should
    come soon after the failed one; and Azure keeps metrics for 93 days.
  - The signed-in principal needs the Monitoring Metrics Publisher role on the resource or a parent scope (see
    M(azmon.metrics.metrics_publisher_role)).
extends_documentation_fragment:
  - azmon.metrics.auth
  - azmon.metrics.emit
  - azmon.metrics.attributes
  - azmon.metrics.attributes.check_mode_full
  - azmon.metrics.attributes.diff_mode_none
options:
  resource_id:
    description:
      - Full ARM ID of the resource the metrics are about, for example
        C(/subscriptions/{guid}/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm1).
      - A subscription or resource group ID is refused.
    type: str
    required: true
  region:
    description:
      - Region of the resource, as a name (V(East US)) or code (V(eastus)). It must be the resource's own
        region, else Azure answers C(RegionMismatch).
      - A region that is not one of the cloud's regions that take custom metrics gets a warning before anything is
        sent (a misspelled region is a host that does not resolve). E(AZMON_CUSTOM_METRICS_REGIONS), a
        comma-separated list of region codes, replaces that list.
    type: str
    required: true
  unknown:
    description:
      - What to do with series an earlier run left C(unknown) (its request failed after the body was sent, or its
        sender died).
      - V(skip) leaves them unknown and reports them (status V(unknown_skipped)).
      - V(resend) sends them again; Azure counts them twice if the earlier request was ingested.
      - V(reconcile) reads them back from Azure through the metrics API (one call per metric and time range, with
        a dimension filter) and settles them by what Azure holds. It needs O(dedupe=true) and a reader role, and
        works with either ledger; with O(ledger_url), any runner that shares it can settle what another left
        unknown.
    type: str
    default: skip
    choices: [skip, resend, reconcile]
  reconcile_wait:
    description:
      - With O(unknown=reconcile), series that became unknown less than this many seconds ago are not read back
        yet (they stay unknown, counted in RV(reconciled.waiting)), since Azure shows a new series only after
        about 3 minutes.
    type: int
    default: 180
  resend_unknown:
    description:
      - V(true) is the same as O(unknown=resend), kept for existing plays. Cannot be combined with another
        O(unknown).
    type: bool
    default: false
  compress:
    description:
      - Send bodies gzip-compressed, with the header C(Content-Encoding) set to C(gzip).
    type: bool
    default: true
notes:
  - RV(msg) says in one line what happened (series sent, skipped, unknown, and requests). The request bodies
    (RV(payloads)) are returned in check mode and when Ansible runs with C(-vvv) or more, so that C(-v) stays short.
  - One token is obtained per task, for the ingestion audience of the chosen cloud, and only when something is
    to be sent. Signing in and every check of local files and settings happen before any series is claimed in
    the ledger, so a task that fails there leaves nothing behind and the corrected task sends everything; a
    request that fails before its body is written releases its series too.
  - A task that skips series an earlier run left C(unknown) warns, every time, with their number and how to
    settle them.
seealso:
  - module: azmon.metrics.metrics_publisher_role
  - name: Custom metrics in Azure Monitor
    description: The REST call this module makes.
    link: https://learn.microsoft.com/azure/azure-monitor/essentials/metrics-custom-overview
'''

EXAMPLES = r'''
# Variables the examples use:
#   vm_id: /subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-demo/providers/Microsoft.Compute/virtualMachines/vm1
#   backup: {size_gb: 118.4, finished_at: "2026-11-20T02:13:07Z"}

- name: Emit one value
  azmon.metrics.custom_metric_emit:
    resource_id: /subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-demo/providers/Microsoft.Compute/virtualMachines/vm1
    region: East US
    namespace: QueueProcessing
    metric: QueueDepth
    dimensions:
      QueueName: ImagesToProcess
      MessageType: JPEG
    value: 42

- name: Emit many metrics in one task, aggregating raw samples
  azmon.metrics.custom_metric_emit:
    resource_id: "{{ vm_id }}"
    region: eastus
    namespace: QueueProcessing
    dimensions:
      Environment: prod
    metrics:
      - metric: QueueDepth
        dimensions:
          QueueName: ImagesToProcess
        values: [3, 5, 20]
      - metric: ProcessingTime
        min: 1.5
        max: 9.25
        sum: 31.0
        count: 6

- name: Emit a large batch that a collector wrote on the controller (files/fleet-metrics.ndjson, one entry a line)
  azmon.metrics.custom_metric_emit:
    resource_id: "{{ vm_id }}"
    region: eastus
    namespace: Fleet
    metrics_src: fleet-metrics.ndjson

- name: Forward a value measured elsewhere once, however often this runs
  azmon.metrics.custom_metric_emit:
    resource_id: "{{ vm_id }}"
    region: eastus
    namespace: Backups
    metric: LastBackupSizeGB
    value: "{{ backup.size_gb }}"
    dedupe_key: "{{ backup.finished_at }}"
'''

RETURN = r'''
msg:
  description: What happened, in one line (series sent, skipped and unknown, and the requests made).
  returned: success
  type: str
  sample: 50 of 50 series sent in 1 request(s); 0 skipped (delivered before), 0 unknown
resource_id:
  description: The resource ID as sent (normalised).
  returned: always
  type: str
url:
  description: The ingestion URL posted to.
  returned: always
  type: str
region:
  description: The region as a code, as in the ingestion URL (V(East US) becomes V(eastus)).
  returned: always
  type: str
  sample: eastus
series_total:
  description: Number of entries given.
  returned: always
  type: int
series_sent:
  description: Series delivered by this run.
  returned: always
  type: int
series_would_send:
  description: Series a real run would send (check mode).
  returned: always
  type: int
series_skipped:
  description: Series skipped because an earlier run delivered them.
  returned: always
  type: int
series_unknown:
  description: Series whose request may or may not have been ingested in this run; recorded in the ledger.
  returned: always
  type: int
series_unknown_skipped:
  description: Series not sent because an earlier run left them unknown (see O(unknown)).
  returned: always
  type: int
reconciled:
  description:
    - With O(unknown=reconcile), how the series an earlier run left unknown were settled (counts of series-minute
      keys). Series found absent are sent by this run and counted in RV(series_sent) too.
  returned: when O(unknown=reconcile)
  type: dict
  contains:
    unknown:
      description: Keys of this task's series recorded unknown before this run.
      type: int
    delivered:
      description: Found in Azure exactly as sent; now recorded delivered.
      type: int
    absent:
      description: Not in Azure; sent again by this run (in check mode, counted in RV(series_would_send)).
      type: int
    mismatched:
      description: Azure holds another count or sum (part of it, or more); left unknown, see RV(reconciled.series).
      type: int
    waiting:
      description: Became unknown less than O(reconcile_wait) seconds ago; left unknown for a later run.
      type: int
    unreadable:
      description: Cannot be read back (see the reason in RV(reconciled.series)); left unknown.
      type: int
    reads:
      description: Calls made to the metrics read API.
      type: int
    series:
      description:
        - The series that were checked, not settled first, up to O(detail_limit), each with C(namespace), C(metric),
          C(dimensions), C(time), C(dedupe_key), C(decision), C(sent_sum), C(sent_count), C(read_sum),
          C(read_count) and, when not read, C(reason).
      type: list
      elements: dict
series_failed:
  description: Series certainly not delivered (refused, or still throttled when retrying had to stop).
  returned: always
  type: int
series_not_sent:
  description: Series not attempted after an error that every request would hit (401, 403, 404, region mismatch).
  returned: always
  type: int
series_in_flight:
  description: Series being sent by another live process, left to it.
  returned: always
  type: int
series_not_recorded:
  description:
    - Series sent whose delivery the ledger could not record; they stay claimed in the ledger, so that no later
      run sends them again without saying so.
  returned: always
  type: int
ledger_requests:
  description: Calls made to Blob Storage for the ledger (retries included).
  returned: when O(ledger_url) is set and O(dedupe=true)
  type: int
requests_planned:
  description: Number of request bodies the series were packed into.
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
  sample:
    - {request: 0, series: 2, bytes: 310, state: delivered, attempts: 1, status: 200, request_id: 5d1c...}
series:
  description:
    - One item per series with C(index), C(namespace), C(metric), C(dimensions), C(time), C(dedupe_key),
      C(count) and C(sum) (the aggregate sent), and C(status) (V(sent), V(would_send), V(skipped), V(unknown),
      V(unknown_skipped), V(failed), V(not_sent), V(in_flight), V(not_recorded)).
    - The items can be given as they are to O(azmon.metrics.custom_metric_info#module:expect) to read back what
      was sent.
    - Every entry given has exactly one status, so the C(series_*) counts add up to RV(series_total).
    - All series when there are at most O(detail_limit); otherwise only those not delivered, up to O(detail_limit).
  returned: always
  type: list
  elements: dict
series_truncated:
  description: Whether RV(series) lists fewer series than were given.
  returned: always
  type: bool
payloads:
  description:
    - The documents of the first request bodies, one list per request.
    - They show at most O(detail_limit) series in all (at least one; the last document shown may be cut short), so that the
      result does not grow with the number of series; RV(requests) and the C(series_*) counts cover everything.
  returned: in check mode, or with C(-vvv) and more
  type: list
  elements: list
'''

import gc

from ansible_collections.azmon.metrics.plugins.module_utils._clouds import ingestion_url, region_warning
from ansible_collections.azmon.metrics.plugins.module_utils._emit import Emission, EmissionFailed
from ansible_collections.azmon.metrics.plugins.module_utils._emit_options import (
    MUTUALLY_EXCLUSIVE,
    check_delivery_options,
    emission_argspec,
    entry_defaults,
    task_ledger,
)
from ansible_collections.azmon.metrics.plugins.module_utils._errors import ValidationError
from ansible_collections.azmon.metrics.plugins.module_utils._http import RetryPolicy
from ansible_collections.azmon.metrics.plugins.module_utils._ingest import IngestionTransport, Sender
from ansible_collections.azmon.metrics.plugins.module_utils._jwt import claims as jwt_claims
from ansible_collections.azmon.metrics.plugins.module_utils._metrics import build_points, entries_from_options, normalize_region
from ansible_collections.azmon.metrics.plugins.module_utils._metrics_read import MetricsReader
from ansible_collections.azmon.metrics.plugins.module_utils._module import auth_argspec, azure_context, run_module
from ansible_collections.azmon.metrics.plugins.module_utils._reconcile import RecordingLedger, reconcile
from ansible_collections.azmon.metrics.plugins.module_utils._scope import parse_resource_id

ARGUMENT_SPEC = emission_argspec({
    'resource_id': {'type': 'str', 'required': True},
    'region': {'type': 'str', 'required': True},
    'unknown': {'type': 'str', 'default': 'skip', 'choices': ['skip', 'resend', 'reconcile']},
    'reconcile_wait': {'type': 'int', 'default': 180},
    'resend_unknown': {'type': 'bool', 'default': False},
    'compress': {'type': 'bool', 'default': True},
})


def _check_options(params):
    """The delivery options, then this module's own; returns the ledger's Blob Storage location or ``None``."""
    location = check_delivery_options(params)
    if params['resend_unknown'] and params['unknown'] not in ('skip', 'resend'):
        raise ValidationError('resend_unknown=true means unknown=resend and cannot be combined with unknown=%s'
                              % params['unknown'], option='resend_unknown')
    if params['unknown'] == 'reconcile' and not params['dedupe']:
        raise ValidationError('unknown=reconcile needs dedupe=true: the ledger records which series are unknown',
                              option='unknown')
    if params['reconcile_wait'] < 0:
        raise ValidationError('reconcile_wait must not be negative', option='reconcile_wait')
    return location


def _explain_403(token_source, resource_id):
    def explain(message):
        claims = jwt_claims(token_source.token())
        who = claims.get('appid') or claims.get('azp') or 'the signed-in principal'
        oid = claims.get('oid')
        return ('%s (object ID %s) may not publish metrics to %s: it needs the Monitoring Metrics Publisher role'
                ' (data action Microsoft.Insights/Metrics/Write) on that resource or a parent scope; Owner and'
                ' Contributor do not include it. A new role assignment can take up to 10 minutes to take effect.'
                ' %s' % (who, oid or 'unknown', resource_id, message))
    return explain


def run(module):
    # Every entry and point lives until the emission ends, and it makes no garbage cycles worth collecting: the
    # cyclic collector would only walk hundreds of thousands of live objects again and again (a fifth of the CPU
    # of a 100,000-series run that has nothing to send).
    gc.disable()
    try:
        return _run(module)
    finally:
        gc.enable()


def _run(module):
    params = module.params
    location = _check_options(params)
    resource = parse_resource_id(params['resource_id'], option='resource_id')
    region = normalize_region(params['region'])
    # entries read from a file are dropped one by one as they become points (metrics stays for the invocation)
    points = build_points(entries_from_options(params), resource.id, defaults=entry_defaults(params),
                          consume=params['metrics'] is None)
    ctx = azure_context(module)
    url = ingestion_url(ctx.cloud, region, resource.id)
    warning = region_warning(ctx.cloud, region, ctx.environ)
    if warning:
        module.warn(warning)
    # every local setting of the connection is checked before the ledger is opened or anything is claimed
    transport = IngestionTransport(validate_certs=ctx.http.validate_certs, ca_path=ctx.http.ca_path,
                                   timeout=ctx.http.timeout)
    transport.prepare(url)
    token = ctx.token_source('ingestion_audience')
    with task_ledger(module, ctx, location) as ledger:
        result = _emit(module, ctx, resource, url, points, ledger, transport, token)
    if location is not None:
        result['ledger_requests'] = ledger.calls      # pruning included
    result['region'] = region
    _slim_invocation(module)
    return result


def _emit(module, ctx, resource, url, points, ledger, transport, token):
    """Reconcile what an earlier run left unknown (when asked), then send; the result, or ``EmissionFailed``
    carrying it."""
    params = module.params
    sender = None
    if not module.check_mode:
        sender = Sender(transport, token, RetryPolicy(max_attempts=6, max_wait=300.0), compress=params['compress'],
                        log=module.debug)
    if ledger is not None:
        ledger = RecordingLedger(ledger, points)   # keeps what went out for series that end up unknown
    emission = Emission(points, resource.id, url, ledger=ledger, sender=sender,
                        resend_unknown=params['resend_unknown'] or params['unknown'] == 'resend',
                        check_mode=module.check_mode, detail_limit=params['detail_limit'],
                        show_payloads=module._verbosity >= 3,  # pylint: disable=protected-access
                        max_request_bytes=params['max_request_bytes'], warn=module.warn)
    reconciled = None
    try:
        if params['unknown'] == 'reconcile':
            reader = MetricsReader(ctx.http, ctx.cloud['arm_endpoint'], ctx.token_source('arm_audience'))
            reconciled = reconcile(points, ledger, reader, resource.id, wait=params['reconcile_wait'],
                                   check_mode=module.check_mode, detail_limit=params['detail_limit'])
        result = emission.run()
    except EmissionFailed as exc:
        if reconciled is not None:
            exc.details['reconciled'] = reconciled
        if params['ledger_url'] and ledger is not None:
            exc.details['ledger_requests'] = ledger.calls
        if any(r.get('status') == 403 for r in exc.details.get('requests', [])):
            exc.msg = _explain_403(token, resource.id)(exc.msg)
        raise
    finally:
        if sender is not None:
            transport.close()
    if reconciled is not None:
        result['reconciled'] = reconciled
    return result


def _slim_invocation(module):
    """Keep a large ``metrics`` list out of the echoed invocation: ``series`` and the counts tell what happened,
    and masking secrets in ten thousand entries costs more than the emission itself."""
    metrics = module.params.get('metrics')
    if metrics and len(metrics) > module.params['detail_limit']:
        module.params['metrics'] = '(%d entries, left out of the invocation; see series)' % len(metrics)


def main():
    spec = auth_argspec()
    spec.update(ARGUMENT_SPEC)
    run_module(spec, run, supports_check_mode=True, mutually_exclusive=MUTUALLY_EXCLUSIVE)


if __name__ == '__main__':
    main()
