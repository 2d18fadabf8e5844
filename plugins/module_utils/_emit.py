# -*- coding: utf-8 -*-
# Copyright (c) azmon.metrics contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""One emission: consult the ledger, pack, send, record, and account for every series.

No Ansible here: ``Emission.run`` returns the result dict, or raises
``EmissionFailed`` carrying the same dict when anything was not delivered.
"""

from __future__ import annotations

import collections
import time

from ansible_collections.azmon.metrics.plugins.module_utils._errors import AzmonError
from ansible_collections.azmon.metrics.plugins.module_utils._ingest import Outcome, monotonic_deadline
from ansible_collections.azmon.metrics.plugins.module_utils._ledger import LedgerError, owner_alive, owner_id
from ansible_collections.azmon.metrics.plugins.module_utils._metrics import MAX_REQUEST_BYTES, pack
from ansible_collections.azmon.metrics.plugins.module_utils._states import (
    DELIVERED,
    FAILED,
    IN_FLIGHT,
    NOT_RECORDED,
    NOT_SENT,
    PENDING,
    SENT,
    SKIPPED,
    UNKNOWN,
    UNKNOWN_SKIPPED,
    WOULD_SEND,
)

STALE_PENDING_SECONDS = 3600
_WENT_OUT = frozenset((SENT, UNKNOWN, NOT_RECORDED))                 # may have been ingested
_NOT_DELIVERED = frozenset((FAILED, UNKNOWN, NOT_SENT, NOT_RECORDED))  # makes the task fail


def abandoned(owner, started):
    """Whether an in-flight request's sender is gone: its process ended, or it is older than any sender lives."""
    return owner_alive(owner) is False or time.time() - started > STALE_PENDING_SECONDS


class EmissionFailed(AzmonError):
    """Some series were not delivered; ``details`` is the whole result."""


class Emission:
    """Everything one task emits for one resource."""

    def __init__(self, points, resource_id, url, ledger=None, sender=None, resend_unknown=False, check_mode=False,
                 detail_limit=100, show_payloads=False, max_request_bytes=MAX_REQUEST_BYTES, in_flight_wait=60.0,
                 sleep=time.sleep, clock=time.monotonic, warn=None, owner=None, is_abandoned=abandoned,
                 packer=pack):
        self.points = points
        self.resource_id = resource_id
        self.url = url
        self.ledger = ledger
        self.sender = sender
        self.resend_unknown = resend_unknown
        self.check_mode = check_mode
        self.detail_limit = detail_limit
        self.show_payloads = show_payloads
        self.max_request_bytes = max_request_bytes
        self.in_flight_wait = in_flight_wait
        self.sleep = sleep
        self.clock = clock
        self.warn = warn or (lambda msg: None)
        self.owner = owner or owner_id()     # who holds this emission's in-flight rows in the ledger
        self.is_abandoned = is_abandoned     # (owner, started) -> whether that sender is gone
        self.packer = packer                 # (points, max_bytes) -> requests (.points, .body, .content_type, .size)
        self.status = {}         # point index -> status
        self.request_log = []
        self.ledger_error = None  # a LedgerError after something went out

    # -- ledger ------------------------------------------------------------------------------------------------
    def _classify(self, points):
        """Split points by what the ledger knows of them; returns the ones to send."""
        if self.ledger is None or not self.ledger.exists:
            return list(points)
        deadline = self.clock() + self.in_flight_wait
        while True:
            known = self.ledger.lookup([p.key for p in points])
            to_send, waiting = [], []
            for point in points:
                row = known.get(point.key)
                state = row[0] if row else None
                if state == PENDING and self.is_abandoned(row[1], row[2]):
                    state = UNKNOWN      # its sender died mid-request (check mode only: a real run settled it)
                if state is None or (state == UNKNOWN and self.resend_unknown):
                    to_send.append(point)
                elif state == DELIVERED:
                    self.status[point.index] = SKIPPED
                elif state == UNKNOWN:
                    self.status[point.index] = UNKNOWN_SKIPPED
                else:
                    waiting.append(point)
            if not waiting or self.clock() >= deadline:
                for point in waiting:
                    self.status[point.index] = IN_FLIGHT
                if waiting:
                    self.warn('%d series are being sent by another live process and were left to it' % len(waiting))
                return to_send
            self.sleep(0.5)
            points = waiting + to_send

    # -- run ---------------------------------------------------------------------------------------------------
    def run(self):
        if self.ledger is not None and self.ledger.exists and not self.check_mode:
            settled = self.ledger.settle_abandoned(self.is_abandoned)
            if settled:
                self.warn('%d series of an earlier run that was interrupted while sending are now recorded as unknown'
                          % settled)
        to_send = self._classify(self.points)
        requests = self.packer(to_send, self.max_request_bytes)
        payloads = self._payloads(requests) if (self.show_payloads or self.check_mode) else None
        if self.check_mode:
            for point in to_send:
                self.status[point.index] = WOULD_SEND
            return self._finish(bool(to_send), payloads, len(requests), None)
        if requests:
            # Sign in (and with it every local check of files and settings) before anything is claimed in the
            # ledger: a failure here leaves nothing behind, and the corrected run sends everything.
            self.sender.prepare()
        stop = None
        ledger_error = None
        for number, req in enumerate(requests):
            keys = [p.key for p in req.points]
            if stop is not None or ledger_error is not None:
                for point in req.points:
                    self.status[point.index] = NOT_SENT
                self.request_log.append({'request': number, 'series': len(req.points), 'bytes': req.size,
                                         'state': NOT_SENT})
                continue
            inflight = None
            if self.ledger is not None:
                try:
                    inflight, others = self.ledger.claim(keys, self.owner, self.is_abandoned,
                                                         resend_unknown=self.resend_unknown)
                except LedgerError as exc:
                    if not self._went_out():
                        raise   # nothing went out: a plain error
                    ledger_error = self.ledger_error = exc
                    for point in req.points:
                        self.status[point.index] = NOT_SENT
                    self.request_log.append({'request': number, 'series': len(req.points), 'bytes': req.size,
                                             'state': NOT_SENT})
                    continue
                if others:
                    # another process delivered or took some of these series since they were looked up
                    req = self._without(req, others, number)
                    if req is None:
                        continue
                    keys = [p.key for p in req.points]
            oldest = min(p.minute for p in req.points).timestamp()
            try:
                outcome = self.sender.send(self.url, req.body, req.content_type, deadline=monotonic_deadline(oldest))
            except AzmonError as exc:
                # Signing in again failed, or TLS verification, or the like: the sender knows whether this body
                # may have been ingested.  Once something went out, report it like any other partial failure.
                in_doubt = getattr(self.sender, 'in_doubt', True)
                if not in_doubt and not self._went_out():
                    self._release(inflight, keys, None)
                    raise
                outcome = Outcome(UNKNOWN if in_doubt else FAILED, 1, reason=exc.msg, systemic=True)
            except BaseException:
                # Not one of ours (a bug, an interrupt): settle the claim as truthfully as the sender can tell,
                # so that neither this series' rerun nor another process waits on it, then let it through.
                self._release(inflight, keys, UNKNOWN if getattr(self.sender, 'in_doubt', True) else None)
                raise
            if self.ledger is not None:
                settled = None if outcome.state == FAILED else outcome.state   # nothing to remember of a failure
                try:
                    self.ledger.finish(inflight, keys, settled, outcome.request_id or outcome.client_request_id)
                except LedgerError as exc:
                    # The claim stays in the ledger: other runs see these series in flight, then unknown, and
                    # never send them again silently.
                    ledger_error = self.ledger_error = exc
            state = SENT if outcome.state == DELIVERED else outcome.state
            if ledger_error is not None and state != FAILED:
                state = NOT_RECORDED
            for point in req.points:
                self.status[point.index] = state
            entry = {'request': number, 'series': len(req.points), 'bytes': req.size}
            entry.update(outcome.to_dict())
            self.request_log.append(entry)
            if outcome.systemic:
                stop = outcome
        return self._finish(self._went_out(), payloads, len(requests), stop)

    def _payloads(self, requests):
        """The documents of the first requests, one list per request, showing at most ``detail_limit`` series (at
        least one) in all: the result stays the same size however many series there are, and the counts and
        ``requests`` tell the rest.  A request without ``sample(limit)`` counts each document as one series."""
        shown, left = [], max(self.detail_limit, 1)
        for req in requests:
            if left <= 0:
                break
            if hasattr(req, 'sample'):
                docs, count = req.sample(left)
            else:
                docs = req.documents()[:left]
                count = len(docs)
            shown.append(docs)
            left -= count
        return shown

    def _went_out(self):
        """Whether this run sent something that may have been ingested."""
        return not _WENT_OUT.isdisjoint(self.status.values())

    def _release(self, inflight, keys, state):
        """Settle a claim while another error is on its way; if the ledger fails too, the claim stays, and a
        later run reports its series unknown once this process has ended."""
        if inflight is None:
            return
        try:
            self.ledger.finish(inflight, keys, state)
        except LedgerError:
            pass

    def _finish(self, changed, payloads, requests_planned, stop):
        """The result; warns about series left unknown by an earlier run; raises when anything failed."""
        result = self._result(changed=changed, payloads=payloads, requests_planned=requests_planned)
        if result['series_unknown_skipped']:
            self.warn('%d series were not sent because an earlier run could not tell whether Azure ingested them'
                      ' (they are recorded as unknown in the delivery ledger; see series with status'
                      ' unknown_skipped). To settle them, run with unknown=reconcile, which reads them back from'
                      ' Azure and sends only those Azure does not hold; unknown=resend (resend_unknown=true) sends'
                      ' them again blindly, which counts them twice if they were ingested.'
                      % result['series_unknown_skipped'])
        if not _NOT_DELIVERED.isdisjoint(self.status.values()):
            raise EmissionFailed(self._failure_message(result, stop), **result)
        result['msg'] = self._summary(result)
        return result

    def _summary(self, result):
        """One line for a person: what was sent, what was skipped or left unknown, and in how many requests."""
        if self.check_mode:
            head = 'check mode: %d of %d series would be sent in %d request(s)' % (
                result['series_would_send'], result['series_total'], result['requests_planned'])
        else:
            head = '%d of %d series sent in %d request(s)' % (
                result['series_sent'], result['series_total'], result['requests_sent'])
        tail = ['%d skipped (delivered before)' % result['series_skipped'],
                '%d unknown' % (result['series_unknown'] + result['series_unknown_skipped'])]
        if result['series_in_flight']:
            tail.append('%d left to another run sending them' % result['series_in_flight'])
        if result['retries']:
            tail.append('%d retries' % result['retries'])
        return '%s; %s' % (head, ', '.join(tail))

    def _without(self, req, others, number):
        """``req`` without the series ``others`` holds (marked accordingly), or ``None`` when none is left."""
        status = {DELIVERED: SKIPPED, UNKNOWN: UNKNOWN_SKIPPED}
        remaining = []
        for point in req.points:
            if point.key in others:
                self.status[point.index] = status.get(others[point.key], IN_FLIGHT)
            else:
                remaining.append(point)
        if not remaining:
            self.request_log.append({'request': number, 'series': len(req.points), 'bytes': req.size,
                                     'state': SKIPPED})
            return None
        # a part of one request's series always fits in one request
        (smaller,) = self.packer(remaining, self.max_request_bytes)
        return smaller

    # -- reporting ---------------------------------------------------------------------------------------------
    def _result(self, changed, payloads, requests_planned):
        counts = collections.Counter(self.status.values())
        result = {
            'changed': changed,
            'resource_id': self.resource_id,
            'url': self.url,
            'series_total': len(self.points),
            'series_sent': counts[SENT],
            'series_would_send': counts[WOULD_SEND],
            'series_skipped': counts[SKIPPED],
            'series_unknown': counts[UNKNOWN],
            'series_unknown_skipped': counts[UNKNOWN_SKIPPED],
            'series_failed': counts[FAILED],
            'series_not_sent': counts[NOT_SENT],
            'series_in_flight': counts[IN_FLIGHT],
            'series_not_recorded': counts[NOT_RECORDED],
            'requests_planned': requests_planned,
            'requests_sent': self.sender.posts if self.sender else 0,
            'retries': self.sender.retries if self.sender else 0,
            'requests': self.request_log,
        }
        details = []
        noteworthy = (FAILED, UNKNOWN, UNKNOWN_SKIPPED, NOT_SENT, IN_FLIGHT, NOT_RECORDED)
        everything = len(self.points) <= self.detail_limit
        listed = self.points if everything or any(counts[s] for s in noteworthy) else ()
        for point in listed:
            status = self.status.get(point.index)
            if everything or status in noteworthy:
                detail = point.summary()
                detail['status'] = status
                details.append(detail)
                if len(details) >= self.detail_limit:
                    break
        result['series'] = details
        result['series_truncated'] = len(details) < len(self.points)
        if payloads is not None:
            result['payloads'] = payloads
        return result

    def _failure_message(self, result, stop):
        parts = ['%d of %d series delivered' % (result['series_sent'], result['series_total'])]
        if result['series_skipped']:
            parts.append('%d already delivered before' % result['series_skipped'])
        if result['series_failed']:
            parts.append('%d NOT delivered (certainly not ingested; safe to run again)' % result['series_failed'])
        if result['series_unknown']:
            parts.append('%d UNKNOWN (the service may have ingested them; recorded in the ledger and not re-sent'
                         ' unless resend_unknown=true)' % result['series_unknown'])
        if result['series_not_recorded']:
            parts.append('%d sent but NOT RECORDED in the delivery ledger (%s); their claim stays in the ledger, so'
                         ' later runs report them unknown instead of sending them again'
                         % (result['series_not_recorded'], self.ledger_error.msg))
        elif self.ledger_error is not None:
            parts.append('stopped because the delivery ledger failed: %s' % self.ledger_error.msg)
        if result['series_not_sent']:
            parts.append('%d not sent after an error that every request would hit' % result['series_not_sent'])
        failures = [r for r in self.request_log if r.get('state') in (FAILED, UNKNOWN)]
        first = (stop and stop.to_dict()) or (failures[0] if failures else {})
        detail = ''
        if first:
            bits = [str(first.get(k)).rstrip('.') for k in ('status', 'error_code', 'error_message', 'reason') if first.get(k)]
            detail = ' First error (request %s, request id %s): %s.' % (
                first.get('request', 0), first.get('request_id') or first.get('client_request_id'), ': '.join(bits))
        names = [d for d in result['series'] if d['status'] in (FAILED, UNKNOWN, NOT_SENT, NOT_RECORDED)][:5]
        named = '; '.join('metrics[%(index)d] %(namespace)s/%(metric)s %(dimensions)s %(status)s' % d for d in names)
        affected = (result['series_failed'] + result['series_unknown'] + result['series_not_sent']
                    + result['series_not_recorded'])
        more = ' (see series)' if len(names) < affected else ''
        return '%s.%s Affected: %s%s' % (', '.join(parts), detail, named, more)
