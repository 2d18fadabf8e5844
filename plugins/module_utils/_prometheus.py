# -*- coding: utf-8 -*-
# Copyright (c) azmon.metrics contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Custom metric points as Prometheus series, packed into remote write 1.0 requests.

No Ansible here.  The naming rule, reversible both ways:

- The metric name is the escaped metric followed by the aggregate: ``_min``,
  ``_max``, ``_sum`` or ``_count``.  One point becomes four series, each a gauge
  holding that minute's aggregate (not a cumulative counter: read them with
  ``sum_over_time``/``max_over_time``, not ``rate``).
- Labels: ``azure_namespace`` (the namespace, as given), ``azure_resource_id``
  (the resource ID, as given) and one ``dim_<escaped name>`` per dimension
  (the value, as given).  Label values take any text, so only names are escaped.
- Escaping keeps ASCII letters and digits, writes ``_`` as ``__`` and any other
  character as ``_<lowercase hex code point>_`` (``.`` -> ``_2e_``); a metric
  name's first character is escaped too when it is a digit.  ``QueueDepth`` stays
  ``QueueDepth``; ``Disk.Read_Bytes`` becomes ``Disk_2e_Read__Bytes``.

Samples carry the point's minute in milliseconds since the epoch; the samples of
one series are in time order, and the points of one series-minute are merged as
Azure Monitor would add them.  The body is a protobuf ``WriteRequest`` compressed
with snappy (block format).  The message classes are built at run time from a
descriptor of the four remote write 1.0 messages, so no generated code ships.
"""

from __future__ import annotations

import datetime
import functools
import gc
import hashlib
import re
import traceback

from ansible_collections.azmon.metrics.plugins.module_utils._errors import MissingLibraryError, ServiceError, ValidationError
from ansible_collections.azmon.metrics.plugins.module_utils._ledger import key_head
from ansible_collections.azmon.metrics.plugins.module_utils._metrics import MAX_COUNT, MAX_REQUEST_BYTES
from ansible_collections.azmon.metrics.plugins.module_utils._scope import parse_resource_id
from ansible_collections.azmon.metrics.plugins.module_utils._time import format_utc

AGGREGATES = ('min', 'max', 'sum', 'count')
NAMESPACE_LABEL = 'azure_namespace'
RESOURCE_LABEL = 'azure_resource_id'
DIMENSION_PREFIX = 'dim_'
METRIC_NAME = re.compile(r'^[a-zA-Z_:][a-zA-Z0-9_:]*$')
LABEL_NAME = re.compile(r'^[a-zA-Z_][a-zA-Z0-9_]*$')
CONTENT_TYPE = 'application/x-protobuf'
HEADERS = {'Content-Encoding': 'snappy', 'X-Prometheus-Remote-Write-Version': '0.1.0'}
API_VERSION = '2023-04-24'
RULE_API_VERSION = '2023-03-11'   # Microsoft.Insights dataCollectionRules / dataCollectionEndpoints, read from ARM
STREAM = 'Microsoft-PrometheusMetrics'
# Remote write 1.0: a receiver MAY ingest the valid samples of a request that holds invalid ones, and answers it 400.
PARTIAL_STATUSES = {400: 'HTTP 400 from a remote write receiver, which may have kept the valid samples of the'
                         ' request (remote write 1.0): whether these series were ingested is unknown'}
_PLAIN = re.compile(r'[A-Za-z0-9]')
_IMMUTABLE_ID = re.compile(r'^dcr-[0-9a-f]{32}$')


# -- naming --------------------------------------------------------------------------------------------------
@functools.lru_cache(maxsize=4096)   # a batch repeats a few metric and dimension names thousands of times
def escape(text, leading_digit=False):
    """``text`` in the characters of a Prometheus name; ``leading_digit`` escapes a digit in first place too."""
    out = []
    for position, char in enumerate(text):
        if char == '_':
            out.append('__')
        elif _PLAIN.match(char) and not (leading_digit and position == 0 and char.isdigit()):
            out.append(char)
        else:
            out.append('_%x_' % ord(char))
    return ''.join(out)


def unescape(name):
    """The text ``escape`` made ``name`` from; raises ``ValueError`` for a name it cannot have made."""
    out, i = [], 0
    while i < len(name):
        char = name[i]
        if char != '_':
            if not _PLAIN.match(char):
                raise ValueError('%r: %r is never left unescaped' % (name, char))
            out.append(char)
            i += 1
        elif name.startswith('__', i):
            out.append('_')
            i += 2
        else:
            end = name.find('_', i + 1)
            digits = name[i + 1:end] if end > 0 else ''
            if not digits or not re.match(r'^[0-9a-f]+$', digits) or int(digits, 16) > 0x10ffff:
                raise ValueError('%r: bad escape at position %d' % (name, i))
            out.append(chr(int(digits, 16)))
            i = end + 1
    return ''.join(out)


def metric_name(metric, aggregate):
    """The Prometheus metric name of one aggregate of ``metric``."""
    if aggregate not in AGGREGATES:
        raise ValueError('aggregate must be one of %s' % ', '.join(AGGREGATES))
    return '%s_%s' % (escape(metric, leading_digit=True), aggregate)


def dimension_label(name):
    return DIMENSION_PREFIX + escape(name)


def series_labels(point, resource_id, aggregate):
    """The labels of one aggregate of ``point``: ``__name__`` first, then the rest sorted by name."""
    return [('__name__', metric_name(point.metric, aggregate))] + _other_labels(point, resource_id)


def _other_labels(point, resource_id):
    """The labels of ``point`` after ``__name__``, the same for its four aggregates, sorted by name."""
    labels = {NAMESPACE_LABEL: point.namespace, RESOURCE_LABEL: resource_id}
    for name, value in zip(point.dim_names, point.dim_values):
        labels[dimension_label(name)] = value
    return sorted(labels.items())


def parse_series(labels):
    """The inverse of ``series_labels``: ``labels`` (pairs or a dict) to a dict with ``namespace``, ``metric``,
    ``aggregate``, ``resource_id`` and ``dimensions``; raises ``ValueError`` for a series the rule cannot make."""
    labels = dict(labels)
    name = labels.pop('__name__', '')
    base, _sep, aggregate = name.rpartition('_')
    if aggregate not in AGGREGATES or not base:
        raise ValueError('%r does not end in one of _%s' % (name, ', _'.join(AGGREGATES)))
    try:
        namespace = labels.pop(NAMESPACE_LABEL)
        resource_id = labels.pop(RESOURCE_LABEL)
    except KeyError as exc:
        raise ValueError('label %s is missing' % exc) from None
    dimensions = {}
    for label, value in labels.items():
        if not label.startswith(DIMENSION_PREFIX):
            raise ValueError('label %r is not one the naming rule makes' % label)
        dimensions[unescape(label[len(DIMENSION_PREFIX):])] = value
    return {'namespace': namespace, 'metric': unescape(base), 'aggregate': aggregate, 'resource_id': resource_id,
            'dimensions': dimensions}


# -- the endpoint ---------------------------------------------------------------------------------------------
def write_url(dce_endpoint, dcr_immutable_id):
    """The remote write URL of a data collection endpoint and rule; raises ``ValidationError`` naming the option."""
    endpoint = (dce_endpoint or '').strip().rstrip('/')
    if not re.match(r'^https://[^/?#\s]+$', endpoint):
        raise ValidationError('dce_endpoint: must be the https:// URL of a data collection endpoint\'s metrics'
                              ' ingestion (for example https://NAME.eastus-1.metrics.ingest.monitor.azure.com),'
                              ' without a path; got %r' % (dce_endpoint,), option='dce_endpoint')
    endpoint = endpoint.lower()     # a host name knows no case; the URL names the destination in ledger keys
    if not isinstance(dcr_immutable_id, str) or not _IMMUTABLE_ID.match(dcr_immutable_id):
        raise ValidationError('dcr_immutable_id: must be a data collection rule\'s immutableId, dcr- followed by 32'
                              ' lowercase hex digits; got %r' % (dcr_immutable_id,), option='dcr_immutable_id')
    return '%s/dataCollectionRules/%s/streams/%s/api/v1/write?api-version=%s' % (
        endpoint, dcr_immutable_id, STREAM, API_VERSION)


def rule_ingestion(arm, dcr_resource_id):
    """``(metrics ingestion endpoint, immutable ID)`` of the data collection rule ``dcr_resource_id``, read from ARM
    with ``arm`` (an ``_arm.ArmClient``): the rule's ``properties.endpoints.metricsIngestion`` when it has its own
    endpoints (a rule of kind Direct), else the ``properties.metricsIngestion.endpoint`` of the data collection
    endpoint in its ``properties.dataCollectionEndpointId`` (the rule and endpoint a workspace is created with).
    Raises ``ValidationError`` naming ``dcr_resource_id`` when the rule has neither, ``ServiceError`` as ARM answers."""
    rule = parse_resource_id(dcr_resource_id, option='dcr_resource_id')
    if rule.namespace.lower() != 'microsoft.insights' or [t.lower() for t in rule.types] != ['datacollectionrules']:
        raise ValidationError('dcr_resource_id: must be the ID of a data collection rule'
                              ' (.../providers/Microsoft.Insights/dataCollectionRules/NAME); got %s' % rule.id,
                              option='dcr_resource_id')
    props = _read(arm, rule, 'data collection rule').get('properties') or {}
    immutable_id = props.get('immutableId')
    endpoint = (props.get('endpoints') or {}).get('metricsIngestion')
    if not endpoint and props.get('dataCollectionEndpointId'):
        dce = parse_resource_id(props['dataCollectionEndpointId'], option='dcr_resource_id')
        endpoint = ((_read(arm, dce, 'data collection endpoint').get('properties') or {}).get('metricsIngestion')
                    or {}).get('endpoint')
        if not endpoint:
            raise ValidationError('dcr_resource_id: the data collection endpoint %s of rule %s has no metrics'
                                  ' ingestion endpoint (properties.metricsIngestion.endpoint); use the endpoint and'
                                  ' rule of an Azure Monitor workspace' % (dce.id, rule.id), option='dcr_resource_id')
    if not endpoint:
        raise ValidationError('dcr_resource_id: rule %s names no metrics ingestion endpoint (neither'
                              ' properties.endpoints.metricsIngestion nor properties.dataCollectionEndpointId); use'
                              ' the rule of an Azure Monitor workspace, or give dce_endpoint and dcr_immutable_id'
                              % rule.id, option='dcr_resource_id')
    if not immutable_id:
        raise ValidationError('dcr_resource_id: ARM returned rule %s without properties.immutableId' % rule.id,
                              option='dcr_resource_id')
    return endpoint, immutable_id


def _read(arm, resource, what):
    try:
        return arm.get_resource(resource, RULE_API_VERSION)
    except ServiceError as exc:
        if exc.status not in (403, 404):
            raise
        why = ('does not exist (or is in another subscription or tenant than the sign-in)' if exc.status == 404 else
               'may not be read by the signed-in principal: reading it needs %s/read on it, which Reader or Monitoring'
               ' Reader grant and Monitoring Metrics Publisher does not' % resource.resource_type)
        raise exc.recast(ServiceError, 'dcr_resource_id: the %s %s %s (ARM: HTTP %s %s)'
                         % (what, resource.id, why, exc.status, exc.code or ''), option='dcr_resource_id') from None


def rekey(points, url):
    """Make every point's ledger key name the destination ``url`` too, so that one ledger serves custom metrics and
    any number of data collection rules without one destination's deliveries skipping another's."""
    for point in points:
        head = key_head(point.key)      # the minute a key may name stays on it, for the ledger to read
        point.key = hashlib.blake2b(('prometheus\x1f%s\x1f%s' % (url, head)).encode('utf-8'),
                                    digest_size=16).hexdigest() + point.key[len(head):]
    return points


# -- encoding -------------------------------------------------------------------------------------------------
_CLASSES = {}


def _protobuf():
    try:
        from google.protobuf import descriptor_pb2, descriptor_pool, message_factory  # pylint: disable=import-outside-toplevel
    except ImportError:
        raise MissingLibraryError('protobuf', traceback=traceback.format_exc()) from None
    return descriptor_pb2, descriptor_pool, message_factory


def _snappy():
    try:
        import cramjam  # pylint: disable=import-outside-toplevel
    except ImportError:
        raise MissingLibraryError('cramjam', traceback=traceback.format_exc()) from None
    return cramjam.snappy


def check_libraries():
    """Raise ``MissingLibraryError`` now, before anything is opened or sent, when protobuf or cramjam is missing."""
    message_classes()
    _snappy()


def message_classes():
    """``(WriteRequest, TimeSeries, Label, Sample)`` built from a descriptor of Prometheus remote write 1.0."""
    if not _CLASSES:
        descriptor_pb2, descriptor_pool, message_factory = _protobuf()
        field = descriptor_pb2.FieldDescriptorProto
        proto = descriptor_pb2.FileDescriptorProto(name='azmon_remote_write.proto', package='prometheus',
                                                   syntax='proto3')
        shapes = (
            ('WriteRequest', (('timeseries', 1, field.TYPE_MESSAGE, '.prometheus.TimeSeries', True),)),
            ('TimeSeries', (('labels', 1, field.TYPE_MESSAGE, '.prometheus.Label', True),
                            ('samples', 2, field.TYPE_MESSAGE, '.prometheus.Sample', True))),
            ('Label', (('name', 1, field.TYPE_STRING, None, False), ('value', 2, field.TYPE_STRING, None, False))),
            ('Sample', (('value', 1, field.TYPE_DOUBLE, None, False), ('timestamp', 2, field.TYPE_INT64, None, False))),
        )
        for name, fields in shapes:
            message = proto.message_type.add(name=name)
            for fname, number, ftype, type_name, repeated in fields:
                item = message.field.add(name=fname, number=number, type=ftype,
                                         label=field.LABEL_REPEATED if repeated else field.LABEL_OPTIONAL)
                if type_name:
                    item.type_name = type_name
        pool = descriptor_pool.DescriptorPool()   # a private pool: no clash with another prometheus.WriteRequest
        pool.Add(proto)
        for name, _fields in shapes:
            _CLASSES[name] = message_factory.GetMessageClass(pool.FindMessageTypeByName('prometheus.' + name))
    return tuple(_CLASSES[name] for name in ('WriteRequest', 'TimeSeries', 'Label', 'Sample'))


def encode(series):
    """Protobuf bytes of a ``WriteRequest`` holding ``series``: a list of ``(labels, [(ms, value), ...])``."""
    write_request = message_classes()[0]
    return write_request(timeseries=[
        {'labels': [{'name': name, 'value': value} for name, value in labels],
         'samples': [{'value': value, 'timestamp': stamp} for stamp, value in samples]}
        for labels, samples in series]).SerializeToString()


def compress(data):
    """``data`` in the snappy block format (not the framed one) that remote write uses."""
    return bytes(_snappy().compress_raw(data))


class Request:
    """One remote write request: its series, the points it carries, its uncompressed size."""

    __slots__ = ('_units', 'points', 'size', '_body')

    content_type = CONTENT_TYPE

    def __init__(self, units, points, raw):
        self._units = units
        self.points = points
        self.size = len(raw)
        self._body = compress(raw)

    @property
    def body(self):
        return self._body

    @property
    def series(self):
        """``[(labels, [(ms, value), ...]), ...]``: what the body holds, one item per Prometheus series."""
        return _merged_series(self._units)

    def documents(self):
        """What the request says, readable: one dict per series."""
        return [{'labels': dict(labels), 'samples': [{'time': format_utc_ms(stamp), 'value': value}
                                                     for stamp, value in samples]}
                for labels, samples in self.series]


def format_utc_ms(stamp):
    return format_utc(datetime.datetime.fromtimestamp(stamp / 1000.0, datetime.timezone.utc))


def packer(resource_id):
    """A ``pack(points, max_bytes)`` for ``Emission`` that makes remote write requests for ``resource_id``."""
    def pack_points(points, max_bytes=MAX_REQUEST_BYTES):
        return pack(points, resource_id, max_bytes)
    return pack_points


def pack(points, resource_id, max_bytes=MAX_REQUEST_BYTES):
    """Remote write requests of at most ``max_bytes`` uncompressed protobuf for ``points``.

    Points of one series-minute merge (min and max combine, sum and count add up); the minutes of one series go
    out in time order; points that share a ledger key (one series under one ``dedupe_key``) share a request.
    """
    # Packing makes a few small containers per point, none of them in a reference cycle: the cyclic garbage
    # collector, which these allocations would set off again and again, has nothing to find here.
    collecting = gc.isenabled()
    gc.disable()
    try:
        return _pack(points, resource_id, max_bytes)
    finally:
        if collecting:
            gc.enable()


def _pack(points, resource_id, max_bytes):
    merged = {}
    for point in points:
        ident = (point.namespace, point.metric, point.dim_names, point.dim_values)
        slot = merged.setdefault(ident, {}).get(point.minute)
        if slot is None:
            merged[ident][point.minute] = [point.min, point.max, point.sum, point.count, [point]]
        else:
            slot[0] = min(slot[0], point.min)
            slot[1] = max(slot[1], point.max)
            slot[2] += point.sum
            slot[3] += point.count
            slot[4].append(point)
    write_request = message_classes()[0]
    units = []     # _Unit: the four series of one ledger key, each in time order
    stamps = {}    # minute -> milliseconds since the epoch
    for ident, minutes in merged.items():
        ordered = sorted(minutes) if len(minutes) > 1 else list(minutes)
        labels = _aggregate_labels(minutes[ordered[0]][4][0], resource_id)
        groups = {}
        for minute in ordered:
            low, high, total, count, members = minutes[minute]
            if count > MAX_COUNT:
                raise ValidationError('metrics: entries %s add up to a count of %d for one series-minute (%s); the'
                                      ' most is %d' % (', '.join(str(m.index) for m in members[:5]), count,
                                                       members[0].describe(), MAX_COUNT))
            key = members[0].key
            group = groups.setdefault(key, [])
            stamp = stamps.get(minute)
            if stamp is None:
                stamp = stamps[minute] = int(minute.timestamp()) * 1000
            group.append((stamp, (low, high, total, count), members))
        shared = len(groups) > 1     # the series is split over ledger keys: a request may hold several parts
        for group in groups.values():
            units.append(_Unit(labels, group, shared, write_request))
    requests, current, current_size = [], [], 0
    for unit in units:
        size = len(unit.raw)
        if current and current_size + size > max_bytes:
            requests.append(_request(current))
            current, current_size = [], 0
        if size > max_bytes:
            first = unit.samples[0][2][0]
            raise ValidationError('metrics[%d]: its series (%s) needs %d bytes, more than max_request_bytes (%d)'
                                  % (first.index, first.describe(), size, max_bytes), option='max_request_bytes')
        current.append(unit)
        current_size += size
    if current:
        requests.append(_request(current))
    return requests


def _aggregate_labels(point, resource_id):
    """``series_labels`` of ``point`` for each aggregate, in ``AGGREGATES`` order, the common labels built once."""
    rest = _other_labels(point, resource_id)
    return [[('__name__', name)] + rest for name in _metric_names(point.metric)]


@functools.lru_cache(maxsize=1024)
def _metric_names(metric):
    return tuple(metric_name(metric, aggregate) for aggregate in AGGREGATES)


class _Unit:
    """The samples of one series under one ledger key, and their encoding: a ``WriteRequest`` holding the four
    aggregate series.  Protobuf merges concatenated messages by appending repeated fields, so the body of a
    request is the concatenation of its units' encodings, and a unit's size is exactly what it adds to the body."""

    __slots__ = ('labels', 'samples', 'shared', 'raw')

    def __init__(self, labels, samples, shared, write_request):
        self.labels = labels        # one label list per aggregate
        self.samples = samples      # [(ms, (min, max, sum, count), points)], in time order
        self.shared = shared        # other units carry other minutes of the same series (same labels)
        # what encode(self.series()) makes, the labels after __name__ (the same in all four) converted once
        rest = [{'name': name, 'value': value} for name, value in labels[0][1:]]
        self.raw = write_request(timeseries=[
            {'labels': [{'name': '__name__', 'value': labels[i][0][1]}] + rest,
             'samples': [{'value': float(stats[i]), 'timestamp': stamp} for stamp, stats, _m in samples]}
            for i in range(len(AGGREGATES))]).SerializeToString()

    def series(self):
        return [(self.labels[i], [(stamp, float(stats[i])) for stamp, stats, _m in self.samples])
                for i in range(len(AGGREGATES))]


def _merged_series(units):
    """The series of ``units``, the parts of a series split over ledger keys joined into one in time order."""
    by_series = {}
    for unit in units:
        for labels, samples in unit.series():
            by_series.setdefault(tuple(labels), []).extend(samples)
    return [(list(key), sorted(samples)) for key, samples in by_series.items()]


def _request(units):
    points = [member for unit in units for _stamp, _stats, members in unit.samples for member in members]
    parts = [id(unit.labels) for unit in units if unit.shared]     # the units of one series share its labels
    if len(set(parts)) < len(parts):
        # Parts of one series in this request: one time series of it in time order (smaller than the parts).
        raw = encode(_merged_series(units))
    else:
        raw = b''.join(unit.raw for unit in units)
    return Request(units, points, raw)
