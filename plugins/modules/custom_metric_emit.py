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
  - One metric through O(metric), O(namespace), O(dimensions) and a value, or many through O(metrics).
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
  metric:
    description:
      - Name of the metric, for a single metric (1 to 256 characters). Mutually exclusive with O(metrics) and
        O(metrics_file).
    type: str
  namespace:
    description:
      - Metric namespace (1 to 256 characters) for O(metric), and the default namespace of every O(metrics) entry.
      - Names starting with C(Microsoft.) and Azure's internal namespaces are refused.
    type: str
  dimensions:
    description:
      - Dimension names and values for O(metric), and dimensions added to every O(metrics) entry (an entry's own
        dimension of the same name wins).
      - At most 10 dimensions; names and values 1 to 256 characters; empty values are refused.
    type: dict
  value:
    description:
      - One observed value of O(metric) (sent as min = max = sum, count 1).
    type: raw
  values:
    description:
      - Raw observations of O(metric), aggregated here into min, max, sum and count.
    type: list
    elements: raw
  min:
    description:
      - Explicit aggregate of O(metric); give O(min), O(max), O(sum) and O(count) together.
    type: raw
  max:
    description:
      - Explicit aggregate of O(metric), see O(min).
    type: raw
  sum:
    description:
      - Explicit aggregate of O(metric), see O(min).
    type: raw
  count:
    description:
      - Explicit aggregate of O(metric), see O(min); a whole number from 1 to 2147483647.
    type: raw
  time:
    description:
      - Time of O(metric), and the default time of every O(metrics) entry.
      - ISO 8601 with a zone, ISO 8601 without a zone (taken as UTC), or epoch seconds. Truncated to the minute.
      - Must lie within 19 minutes in the past and 3 minutes in the future, inside Azure's ingestion window.
      - Defaults to now.
    type: raw
  dedupe_key:
    description:
      - Identifies O(metric)'s data point in the ledger instead of its minute, for values that are re-stamped to
        now (for example the source's own timestamp), so that one source value is sent once however often the task
        runs.
      - Also the default C(dedupe_key) of every O(metrics) or O(metrics_file) entry (an entry's own wins), a batch
        key, so that the same batch run again sends nothing while each of its series is recorded separately.
    type: str
  metrics_file:
    description:
      - A file on the managed node holding the entries of O(metrics), as JSON (a list, or a mapping with a
        C(metrics) list), ndjson or JSON Lines (C(.ndjson), C(.jsonl), one entry a line) or YAML (C(.yml), C(.yaml)).
      - For large batches this is much cheaper than O(metrics), which Ansible templates, copies and echoes entry by
        entry.
      - Mutually exclusive with O(metric) and O(metrics).
    type: path
  metrics:
    description:
      - Many metrics for the resource. Each entry is a mapping with the keys C(metric) (required),
        C(namespace), C(dimensions), C(time), C(dedupe_key), and its value as exactly one of C(value), C(values),
        or C(min), C(max), C(sum) and C(count), with the meaning of the options of the same names.
      - Entries for the same series and minute are added together, as Azure would.
      - Mutually exclusive with O(metric) and O(metrics_file).
    type: list
    elements: dict
  dedupe:
    description:
      - Record delivered series in the ledger and skip those already delivered.
      - When V(false), the ledger is neither read nor written and every run sends everything.
    type: bool
    default: true
  unknown:
    description:
      - What to do with series an earlier run left C(unknown) (its request failed after the body was sent, or its
        sender died).
      - V(skip) leaves them unknown and reports them (status V(unknown_skipped)).
      - V(resend) sends them again; Azure counts them twice if the earlier request was ingested.
      - V(reconcile) reads them back from Azure through the metrics API (one call per metric and time range, with
        a dimension filter) and settles them by what Azure holds. It needs O(dedupe=true) and a reader role.
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
  ledger_path:
    description:
      - SQLite file of the delivery ledger. Created with mode 0600 in a folder of mode 0700; safe for many
        processes at once. Holds hashes of series identities and states, never metric values or secrets.
    type: path
    default: ~/.ansible/azmon_metrics/ledger.sqlite3
  ledger_url:
    description:
      - Keep the delivery ledger in Azure Blob Storage instead of O(ledger_path), so that every runner that
        reaches the container shares it (ephemeral CI runners, AWX execution nodes, several controllers). Give
        the container URL, with an optional prefix of folders, for example
        V(https://mystorage.blob.core.windows.net/azmon-ledger/prod). An IP address or C(localhost) as host
        means a path-style URL with the account first, as the storage emulator serves it
        (V(https://127.0.0.1:10000/devstoreaccount1/ledger)).
      - The module signs in to Blob Storage with the same options as for ingestion (token audience
        C(https://storage.azure.com)). The principal needs the Storage Blob Data Contributor role on the
        container or the account. A missing container is created (which needs the role on the account).
      - Four blobs under C({prefix}/azmon-ledger/v1/) hold the series-minute keys (hashes, no values, names or
        secrets); every change is a conditional write, so concurrent runners never both send a series. Claiming
        and settling one request costs at most about a dozen storage calls whatever its size, and a run that
        has nothing to send reads four blobs.
      - A claim expires 30 minutes after it was taken, because a runner on another host cannot check whether the
        claiming process still lives; only then are the series of a runner that died while sending reported
        C(unknown). A sender never sends after 20 minutes (the ingestion window), so a live claim never expires
        while its request may still be sent.
      - Keys older than O(ledger_retention_days) are removed on every write.
      - If the ledger cannot be read or written before anything was sent, the task fails and sends nothing.
        If it fails after a request was sent, the series of that request are reported (status
        V(not_recorded)) and stay claimed, so no later run sends them again silently.
    type: str
  ledger_retention_days:
    description:
      - Ledger rows older than this many days are removed. Keep it longer than the time O(dedupe_key) values may
        come back.
    type: int
    default: 30
  compress:
    description:
      - Send bodies gzip-compressed, with the header C(Content-Encoding) set to C(gzip).
    type: bool
    default: true
  max_request_bytes:
    description:
      - Largest uncompressed request body, in bytes (4096 to 1000000).
    type: int
    default: 1000000
  detail_limit:
    description:
      - Largest number of series listed one by one in RV(series). Beyond it, only series that were not delivered
        are listed, up to this number, and the counts tell the rest.
    type: int
    default: 100
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
      description: Not in Azure; sent again by this run (in check mode, would be).
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
    - One item per series with C(index), C(namespace), C(metric), C(dimensions), C(time), C(dedupe_key) and
      C(status) (V(sent), V(would_send), V(skipped), V(unknown), V(unknown_skipped), V(failed), V(not_sent),
      V(in_flight), V(not_recorded)).
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

from ansible_collections.azmon.metrics.plugins.module_utils._auth import token_claims
from ansible_collections.azmon.metrics.plugins.module_utils._blob import parse_blob_url
from ansible_collections.azmon.metrics.plugins.module_utils._blob_ledger import open_ledger
from ansible_collections.azmon.metrics.plugins.module_utils._clouds import ingestion_url, region_warning
from ansible_collections.azmon.metrics.plugins.module_utils._emit import Emission, EmissionFailed
from ansible_collections.azmon.metrics.plugins.module_utils._errors import ValidationError
from ansible_collections.azmon.metrics.plugins.module_utils._http import RetryPolicy
from ansible_collections.azmon.metrics.plugins.module_utils._ingest import IngestionTransport, Sender
from ansible_collections.azmon.metrics.plugins.module_utils._ledger import LedgerError
from ansible_collections.azmon.metrics.plugins.module_utils._metrics import build_points, entries_from_options, normalize_region
from ansible_collections.azmon.metrics.plugins.module_utils._metrics_read import MetricsReader
from ansible_collections.azmon.metrics.plugins.module_utils._module import auth_argspec, azure_context, run_module
from ansible_collections.azmon.metrics.plugins.module_utils._reconcile import RecordingLedger, reconcile
from ansible_collections.azmon.metrics.plugins.module_utils._scope import parse_resource_id

ARGUMENT_SPEC = {
    'resource_id': {'type': 'str', 'required': True},
    'region': {'type': 'str', 'required': True},
    'metric': {'type': 'str'},
    'namespace': {'type': 'str'},
    'dimensions': {'type': 'dict'},
    'value': {'type': 'raw'},
    'values': {'type': 'list', 'elements': 'raw'},
    'min': {'type': 'raw'},
    'max': {'type': 'raw'},
    'sum': {'type': 'raw'},
    'count': {'type': 'raw'},
    'time': {'type': 'raw'},
    'dedupe_key': {'type': 'str', 'no_log': False},
    'metrics': {'type': 'list', 'elements': 'dict'},
    'metrics_file': {'type': 'path'},
    'dedupe': {'type': 'bool', 'default': True},
    'unknown': {'type': 'str', 'default': 'skip', 'choices': ['skip', 'resend', 'reconcile']},
    'reconcile_wait': {'type': 'int', 'default': 180},
    'resend_unknown': {'type': 'bool', 'default': False},
    'ledger_path': {'type': 'path', 'default': '~/.ansible/azmon_metrics/ledger.sqlite3'},
    'ledger_url': {'type': 'str'},
    'ledger_retention_days': {'type': 'int', 'default': 30},
    'compress': {'type': 'bool', 'default': True},
    'max_request_bytes': {'type': 'int', 'default': 1000000},
    'detail_limit': {'type': 'int', 'default': 100},
}


def _check_limits(params):
    if not 4096 <= params['max_request_bytes'] <= 1000000:
        raise ValidationError('max_request_bytes must be from 4096 to 1000000, got %d' % params['max_request_bytes'],
                              option='max_request_bytes')
    if params['detail_limit'] < 0:
        raise ValidationError('detail_limit must not be negative', option='detail_limit')
    if params['ledger_retention_days'] < 1:
        raise ValidationError('ledger_retention_days must be at least 1', option='ledger_retention_days')
    if params['resend_unknown'] and params['unknown'] not in ('skip', 'resend'):
        raise ValidationError('resend_unknown=true means unknown=resend and cannot be combined with unknown=%s'
                              % params['unknown'], option='resend_unknown')
    if params['unknown'] == 'reconcile' and not params['dedupe']:
        raise ValidationError('unknown=reconcile needs dedupe=true: the ledger records which series are unknown',
                              option='unknown')
    if params['reconcile_wait'] < 0:
        raise ValidationError('reconcile_wait must not be negative', option='reconcile_wait')


def _explain_403(token_source, resource_id):
    def explain(message):
        claims = token_claims(token_source.token())
        who = claims.get('appid') or claims.get('azp') or 'the signed-in principal'
        oid = claims.get('oid')
        return ('%s (object ID %s) may not publish metrics to %s: it needs the Monitoring Metrics Publisher role'
                ' (data action Microsoft.Insights/Metrics/Write) on that resource or a parent scope; Owner and'
                ' Contributor do not include it. A new role assignment can take up to 10 minutes to take effect.'
                ' %s' % (who, oid or 'unknown', resource_id, message))
    return explain


def run(module):
    params = module.params
    _check_limits(params)
    location = parse_blob_url(params['ledger_url']) if params['ledger_url'] and params['dedupe'] else None
    resource = parse_resource_id(params['resource_id'], option='resource_id')
    region = normalize_region(params['region'])
    # entries read from metrics_file are dropped one by one as they become points (metrics stays for the invocation)
    points = build_points(entries_from_options(params), resource.id,
                          defaults={'namespace': params['namespace'], 'dimensions': params['dimensions'],
                                    'time': params['time'], 'dedupe_key': params['dedupe_key']},
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
    ledger = None
    if params['dedupe']:
        ledger = open_ledger(location, params['ledger_path'], not module.check_mode,
                             params['ledger_retention_days'] * 86400, ctx.http, ctx.token_source('storage_audience'))
    sender = None
    token = ctx.token_source('ingestion_audience')
    if not module.check_mode:
        sender = Sender(transport, token, RetryPolicy(max_attempts=6, max_wait=300.0), compress=params['compress'],
                        log=module.debug)
    if ledger is not None and hasattr(ledger, 'record_sent'):
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
        if location is not None:
            exc.details['ledger_requests'] = ledger.calls
        if any(r.get('status') == 403 for r in exc.details.get('requests', [])):
            exc.msg = _explain_403(token, resource.id)(exc.msg)
        raise
    finally:
        if sender is not None:
            transport.close()
        if ledger is not None:
            if not module.check_mode:
                _prune(module, ledger, params['ledger_retention_days'])
            ledger.close()
    result['region'] = region
    if location is not None:
        result['ledger_requests'] = ledger.calls
    if reconciled is not None:
        result['reconciled'] = reconciled
    _slim_invocation(module)
    return result


def _prune(module, ledger, days):
    """Drop old ledger rows.  Everything this task sent is recorded by then, so a ledger that cannot be pruned now
    (locked, disk full) only warns: a later run prunes it, and the result keeps its counts."""
    try:
        ledger.prune(days * 86400)
    except LedgerError as exc:
        module.warn('old rows of the delivery ledger were not removed this time: %s' % exc.msg)


def _slim_invocation(module):
    """Keep a large ``metrics`` list out of the echoed invocation: ``series`` and the counts tell what happened,
    and masking secrets in ten thousand entries costs more than the emission itself."""
    metrics = module.params.get('metrics')
    if metrics and len(metrics) > module.params['detail_limit']:
        module.params['metrics'] = '(%d entries, left out of the invocation; see series)' % len(metrics)


def main():
    spec = auth_argspec()
    spec.update(ARGUMENT_SPEC)
    run_module(spec, run, supports_check_mode=True,
               mutually_exclusive=[('metric', 'metrics', 'metrics_file')])


if __name__ == '__main__':
    main()
