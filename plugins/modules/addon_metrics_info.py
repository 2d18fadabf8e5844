#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) azmon.metrics contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r'''
module: addon_metrics_info
short_description: Read a Windows Azure Pack add-on's metrics from the WAP admin API
description:
  - Reads the metrics of one Windows Azure Pack (WAP) add-on between two times from the WAP Service Management
    admin API (C(GET /addons/{addon_id}/metrics), normally on port 30004).
  - Returns them with snake_case keys, every time converted to UTC ISO 8601, and the metric's time grain
    (a .NET TimeSpan) converted to seconds and to an ISO 8601 duration.
  - Checks the options before calling WAP; an expired or malformed O(token), a O(start_time) that is not
    before O(end_time), or an O(addon_id) that could change the request path fails without a request.
  - This module does not sign in to Azure; it uses a token from the WAP authentication site. Feed its result
    to the P(azmon.metrics.wap_to_metrics#filter) filter and M(azmon.metrics.custom_metric_emit) to forward
    the values to Azure Monitor.
version_added: 0.1.0
author:
  - azmon.metrics contributors (!UNKNOWN)
extends_documentation_fragment:
  - azmon.metrics.attributes.info_module
attributes:
  action_group:
    description: Use C(group/azmon.metrics.wap) in C(module_defaults) to set options for this module.
    support: full
    membership:
      - azmon.metrics.wap
options:
  endpoint:
    description:
      - The https URL of the WAP Service Management admin API, for example V(https://wap.contoso.com:30004).
      - Port 30004 is used when the URL has none. A path prefix is kept; user info, a query string or a
        fragment are refused.
    type: str
    required: true
  addon_id:
    description:
      - The add-on's ID, sent as one percent-encoded path segment.
      - It must not contain C(/), C(\\), C(?), C(#), C(%) or control characters, and must not be C(.) or C(..).
    type: str
    required: true
  start_time:
    description:
      - Start of the time window. ISO 8601 (a time without a zone is UTC), epoch seconds, V(now), or a time
        relative to now such as V(-7d), V(-12h), V(-30m) (units s, m, h, d, w).
      - Sent to WAP as a .NET round-trip UTC time (V(2013-06-22T07:00:00.0000000Z)).
      - Must be before O(end_time).
    type: str
    default: -2d
  end_time:
    description:
      - End of the time window, in the same forms as O(start_time).
    type: str
    default: now
  token:
    description:
      - The bearer token (a JWT) from the WAP authentication site (the admin site on port 30072, or ADFS).
        A leading C(Bearer ) is removed.
      - Either the token itself, or the registered result of M(azmon.metrics.wap_token) (a dict whose C(token)
        key holds it), so that the registered variable can be given as it is, here or in C(module_defaults) of
        C(group/azmon.metrics.wap).
      - It must be a well-formed JWT whose C(exp) claim has not passed; this is checked before calling WAP.
        Its signature is checked by WAP only.
    type: raw
    required: true
  principal_id:
    description:
      - The acting user, sent as C(x-ms-principal-id), for example V(CONTOSO\\wapadmin) or a UPN.
      - It must be a WAP administrator.
    type: str
    required: true
  client_request_id:
    description:
      - Sent as C(x-ms-client-request-id) so the call can be found in WAP's logs.
      - A new UUID is generated when not given; either way it is returned and named in every failure.
    type: str
  client_session_id:
    description:
      - Sent as C(x-ms-client-session-id) when given.
    type: str
  principal_liveid:
    description:
      - Sent as C(x-ms-principal-liveid) when given.
    type: str
  metric_names:
    description:
      - Return only the metrics with these names (compared case-insensitively).
      - A name WAP did not return gives a warning.
      - All metrics are returned when not given or empty.
    type: list
    elements: str
  validate_certs:
    description:
      - Whether to check the TLS certificate of O(endpoint).
      - WAP's certificates are often self-signed; prefer O(ca_path) to turning this off. V(false) gives a warning.
    type: bool
    default: true
  ca_path:
    description:
      - A CA bundle file (PEM), or a directory of hashed CA certificates, to check the certificate of O(endpoint).
      - When unset, E(REQUESTS_CA_BUNDLE) or E(CURL_CA_BUNDLE) is used if set, as for every other module.
      - A missing, unreadable or non-PEM bundle is refused before anything is sent.
    type: path
  timeout:
    description:
      - Seconds to wait for the connection and for each read from WAP, from 1 to 3600.
    type: float
    default: 30.0
requirements:
  - requests >= 2.25.0
notes:
  - WAP answers HTTP 404 both for an unknown add-on and for time parameters it rejects; the failure message
    says both.
  - Times WAP writes without a zone are taken as UTC; the raw text is returned next to every converted time.
  - A field that does not parse (a time, a time grain, a number) is returned as V(null) with a warning
    rather than failing the task.
seealso:
  - module: azmon.metrics.wap_token
  - plugin: azmon.metrics.wap_to_metrics
    plugin_type: filter
  - module: azmon.metrics.custom_metric_emit
'''

EXAMPLES = r'''
# Variables the examples use:
#   resource_id: /subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-demo/providers/Microsoft.Storage/storageAccounts/stdemo01
# and wap_token, a bearer token of the WAP admin API (keep it in a vault).

- name: Read the last two days of an add-on's metrics
  azmon.metrics.addon_metrics_info:
    endpoint: https://wap.contoso.com:30004
    addon_id: contoso-backup
    start_time: -2d
    end_time: now
    token: "{{ wap_token }}"
    principal_id: CONTOSO\wapadmin
    ca_path: /etc/pki/wap-ca.pem
  register: wap

- name: Forward the newest value of each metric to Azure Monitor
  azmon.metrics.custom_metric_emit:
    resource_id: "{{ resource_id }}"
    region: westeurope
    metrics: "{{ (wap | azmon.metrics.wap_to_metrics).metrics }}"

- name: Only two metrics, a fixed window, options shared through module_defaults
  module_defaults:
    group/azmon.metrics.wap:
      endpoint: https://wap.contoso.com
      token: "{{ wap_token }}"
      principal_id: wapadmin@contoso.com
      ca_path: /etc/pki/wap-ca.pem
  azmon.metrics.addon_metrics_info:
    addon_id: contoso-backup
    start_time: "2026-11-01T00:00:00Z"
    end_time: "2026-11-02T00:00:00Z"
    metric_names: [StorageUsed, JobsCompleted]
  register: wap_november
'''

RETURN = r'''
msg:
  description: One line saying what was read (metrics and values of the add-on, and the window).
  returned: success
  type: str
  sample: 2 metric(s) of add-on mysqlservers read, 48 data point(s), from 2026-12-01T19:00:00Z to 2026-12-03T19:00:00Z
metrics:
  description: The add-on's metrics, in the order WAP returned them.
  returned: success
  type: list
  elements: dict
  contains:
    name:
      description: The metric's name (WAP C(Name)).
      type: str
      sample: StorageUsed
    primary_aggregation_type:
      description: WAP's C(PrimaryAggregationType), for example C(Total), C(Average), C(Last).
      type: str
      sample: Average
    unit:
      description: The unit, from WAP's C(Unit), or C(ConfigState) when C(Unit) is missing or empty.
      type: str
      sample: Bytes
    time_grain:
      description: WAP's C(TimeGrain) as it came (a .NET TimeSpan such as C(1.00:00:00)).
      type: str
      sample: "1.00:00:00"
    time_grain_seconds:
      description: The time grain in seconds (an integer when whole); V(null) when it does not parse.
      type: float
      sample: 86400
    time_grain_iso8601:
      description: The time grain as an ISO 8601 duration; V(null) when it does not parse.
      type: str
      sample: P1D
    start_time:
      description: WAP's C(StartTime) in UTC ISO 8601 with C(Z); V(null) when missing or not a time.
      type: str
      sample: "2026-11-20T10:31:00Z"
    start_time_raw:
      description: WAP's C(StartTime) as it came.
      type: str
      sample: "2026-11-20T10:31:00.0000000Z"
    end_time:
      description: WAP's C(EndTime) in UTC ISO 8601 with C(Z); V(null) when missing or not a time.
      type: str
      sample: "2026-11-22T10:31:00Z"
    end_time_raw:
      description: WAP's C(EndTime) as it came.
      type: str
      sample: "2026-11-22T10:31:00.0000000Z"
    data_points:
      description:
        - The metric's values (WAP C(Values)), oldest first (values without a time last).
        - Named C(data_points) rather than C(values) so that C(metric.data_points) works in Jinja (C(values) is
          a dict method there).
      type: list
      elements: dict
      contains:
        time:
          description: WAP's C(TimeCreated) in UTC ISO 8601 with C(Z); V(null) when it does not parse.
          type: str
          sample: "2026-11-21T00:00:00Z"
        time_raw:
          description: WAP's C(TimeCreated) as it came (with C(Z), an offset or no zone).
          type: str
          sample: "2026-11-20T17:00:00.0000000-07:00"
        total:
          description: WAP's C(Total); V(null) stays V(null).
          type: float
          sample: 2147483648
        minimum:
          description: WAP's C(Minimum); often V(null).
          type: float
          sample: null
        maximum:
          description: WAP's C(Maximum); often V(null).
          type: float
          sample: null
        count:
          description: WAP's C(Count); V(null) stays V(null).
          type: float
          sample: 2
addon_id:
  description: The add-on ID as given.
  returned: always
  type: str
  sample: contoso-backup
start_time:
  description: The start of the window sent to WAP (.NET round-trip UTC).
  returned: success
  type: str
  sample: "2026-11-20T10:31:00.0000000Z"
end_time:
  description: The end of the window sent to WAP (.NET round-trip UTC).
  returned: success
  type: str
  sample: "2026-11-22T10:31:00.0000000Z"
client_request_id:
  description: The C(x-ms-client-request-id) sent (O(client_request_id), or the UUID generated for this run).
  returned: always
  type: str
  sample: 0f8fad5b-d9cb-469f-a165-70867728950e
request_id:
  description: The request id from WAP's response headers, when it sent one.
  returned: success
  type: str
  sample: 7e0c2e0a-3a44-4f6b-9f1e-2b7a0f9c1c11
'''


from ansible_collections.azmon.metrics.plugins.module_utils._errors import AzmonError, ValidationError
from ansible_collections.azmon.metrics.plugins.module_utils._http import HttpClient, check_connection, check_timeout
from ansible_collections.azmon.metrics.plugins.module_utils._module import run_module
from ansible_collections.azmon.metrics.plugins.module_utils._time import TimeFormatError, parse_time
from ansible_collections.azmon.metrics.plugins.module_utils._http import new_request_id
from ansible_collections.azmon.metrics.plugins.module_utils._wap import (
    WapClient,
    addon_segment,
    check_header,
    check_token,
    check_window,
    normalize_metrics,
    parse_endpoint,
    time_now,
    wap_time,
)

ARGUMENT_SPEC = {
    'endpoint': {'type': 'str', 'required': True},
    'addon_id': {'type': 'str', 'required': True},
    'start_time': {'type': 'str', 'default': '-2d'},
    'end_time': {'type': 'str', 'default': 'now'},
    'token': {'type': 'raw', 'required': True, 'no_log': True},
    'principal_id': {'type': 'str', 'required': True},
    'client_request_id': {'type': 'str'},
    'client_session_id': {'type': 'str'},
    'principal_liveid': {'type': 'str'},
    'metric_names': {'type': 'list', 'elements': 'str'},
    'validate_certs': {'type': 'bool', 'default': True},
    'ca_path': {'type': 'path'},
    'timeout': {'type': 'float', 'default': 30.0},
}


def _window(params, now):
    times = {}
    for option in ('start_time', 'end_time'):
        try:
            times[option] = parse_time(params[option], now=now, allow_relative=True)
        except TimeFormatError as exc:
            raise ValidationError('%s: %s' % (option, exc), option=option) from None
    check_window(times['start_time'], times['end_time'])
    return times['start_time'], times['end_time']


def _connection(params, endpoint):
    """The HTTP client, once the timeout, the CA bundle and the proxy settings are known to be usable."""
    timeout = check_timeout(params['timeout'])
    check_connection(endpoint, params['validate_certs'], params['ca_path'])
    return HttpClient(validate_certs=params['validate_certs'], ca_path=params['ca_path'], timeout=timeout)


def _strings(value):
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, (list, tuple)):
        for item in value:
            yield from _strings(item)


def _mask_only_the_token(module, given):
    """A wap_token result as ``token`` made Ansible mask every string in it (the endpoint, the user, the expiry).

    Only the JWT is secret: mask it, and let the rest of the result (and any message about it) show as it is.
    """
    module.no_log_values.difference_update(_strings(given))
    if isinstance(given.get('token'), str) and given['token']:
        module.no_log_values.add(given['token'])


def run(module):
    params = module.params
    client_request_id = check_header('client_request_id', params['client_request_id']) or new_request_id()
    base = {'changed': False, 'addon_id': params['addon_id'], 'client_request_id': client_request_id}
    try:
        endpoint = parse_endpoint(params['endpoint'])
        addon_segment(params['addon_id'])
        principal_id = check_header('principal_id', params['principal_id'], required=True)
        session_id = check_header('client_session_id', params['client_session_id'])
        liveid = check_header('principal_liveid', params['principal_liveid'])
        for name in params['metric_names'] or []:
            if not name:
                raise ValidationError('metric_names must not contain an empty name', option='metric_names')
        now = time_now()
        if isinstance(params['token'], dict):
            _mask_only_the_token(module, params['token'])
        token, _claims = check_token(params['token'], now=now)
        start, end = _window(params, now)
        if not params['validate_certs']:
            module.warn('validate_certs is false: the certificate of %s is not checked, so the token could be sent'
                        ' to an impostor. Set ca_path to the CA that signs it instead.' % endpoint)
        client = WapClient(_connection(params, endpoint), endpoint, token, principal_id,
                           client_request_id=client_request_id, client_session_id=session_id, principal_liveid=liveid)
        answer = client.addon_metrics(params['addon_id'], start, end)
    except AzmonError as exc:
        # every failure names the add-on and the request id (also those raised before anything was sent)
        exc.details.setdefault('addon_id', params['addon_id'])
        exc.details.setdefault('client_request_id', client_request_id)
        raise
    metrics, warnings = normalize_metrics(answer.metrics, params['metric_names'])
    for warning in warnings:
        module.warn(warning)
    base.update(metrics=metrics, start_time=wap_time(start), end_time=wap_time(end),
                request_id=answer.request_id)
    base['msg'] = '%d metric(s) of add-on %s read, %d data point(s), from %s to %s' % (
        len(metrics), params['addon_id'], sum(len(m.get('data_points') or []) for m in metrics),
        base['start_time'], base['end_time'])
    return base


def main():
    run_module(ARGUMENT_SPEC, run, supports_check_mode=True)


if __name__ == '__main__':
    main()
