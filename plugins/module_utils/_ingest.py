# -*- coding: utf-8 -*-
# Copyright (c) azmon.metrics contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Metrics ingestion POSTs that know whether the body can have reached the service.

Azure adds up every post for the same series-minute, so a blind re-send after
an unclear failure counts twice.  This transport sends ``Expect: 100-continue``
and writes the body only once the service asks for it: when the connection
breaks before that, or while the body is being written, the service cannot
have a complete request and the post is safely repeated.  Only a failure after
the whole body was written (a timeout, a reset, a 500/502/504, a 503 without
``Retry-After``) leaves the outcome unknown.  A server that never sends the
interim ``100 Continue`` gets the body after ``continue_timeout`` seconds, as
RFC 9110 asks.

Built on ``http.client`` (requests cannot wait for ``100 Continue``); the CA
bundle and proxy come from ``_http.connection_settings``, as for every other
connection.  Paths are percent-encoded (RFC 3986), so Unicode resource names
travel as Azure expects them.
"""

from __future__ import annotations

import base64
import gzip
import http.client
import io
import os
import socket
import ssl
import time
import urllib.parse

from ansible_collections.azmon.metrics.plugins.module_utils._errors import ConfigError, TransportError
from ansible_collections.azmon.metrics.plugins.module_utils._http import (
    AMBIGUOUS,
    CLIENT_REQUEST_ID_HEADER,
    RETRY,
    USER_AGENT,
    Response,
    check_connection,
    classify_status,
    decode_error,
    import_requests,
    new_request_id,
    parse_retry_after,
    quote_path,
    request_id_from,
)
from ansible_collections.azmon.metrics.plugins.module_utils._states import DELIVERED, FAILED, UNKNOWN

# Answers after which every further request to this endpoint would fail the same way.
SYSTEMIC_STATUSES = (401, 403, 404)
SYSTEMIC_CODES = ('RegionMismatch', 'InvalidAudience', 'AuthorizationFailed', 'AuthenticationFailed')


# getaddrinfo's answers for a name that does not exist (a temporary failure, EAI_AGAIN, is retried instead).
_UNKNOWN_HOST = tuple(getattr(socket, name) for name in ('EAI_NONAME', 'EAI_NODATA') if hasattr(socket, name))


class NotDelivered(Exception):
    """The service cannot have received the whole body: safe to send again."""


class MaybeDelivered(Exception):
    """The whole body was written and no answer came back: the service may have ingested it."""


class _ChainRaw(io.RawIOBase):
    """Bytes already read from a socket, then the rest of the socket."""

    def __init__(self, prefix, sock):
        super().__init__()
        self._prefix = prefix
        self._sock = sock

    def readable(self):
        return True

    def readinto(self, buffer):
        if self._prefix:
            size = min(len(buffer), len(self._prefix))
            buffer[:size] = self._prefix[:size]
            self._prefix = self._prefix[size:]
            return size
        return self._sock.recv_into(buffer)


class _Replay:
    """Gives ``http.client.HTTPResponse`` a socket whose first bytes were already consumed."""

    def __init__(self, prefix, sock):
        self._prefix = prefix
        self._sock = sock

    def makefile(self, mode='rb', *_args, **_kwargs):
        return io.BufferedReader(_ChainRaw(self._prefix, self._sock))


class IngestionTransport:
    """One keep-alive connection per host; ``post`` raises ``NotDelivered`` or ``MaybeDelivered``, else answers.

    The CA bundle and the proxy come from ``connection_settings``, as for every other connection (the sign-in
    included): ``ca_path``, ``REQUESTS_CA_BUNDLE``, ``HTTPS_PROXY``, ``ALL_PROXY``, ``NO_PROXY`` mean the same here.
    """

    def __init__(self, validate_certs=True, ca_path=None, timeout=30.0, continue_timeout=1.0):
        self.validate_certs = validate_certs
        self.ca_path = ca_path
        self.timeout = timeout
        self.continue_timeout = continue_timeout
        self._connections = {}
        self._contexts = {}
        self.body_started = False   # whether the last post began writing its body

    def prepare(self, url):
        """Check, with no network call, that ``url`` can be reached with these settings; raises ``ConfigError``."""
        settings = check_connection(url, self.validate_certs, self.ca_path)
        if settings.proxy and urllib.parse.urlsplit(settings.proxy).scheme.lower() != 'http':
            raise ConfigError('%s: metrics ingestion goes through an http:// proxy only (CONNECT tunnel), got %s'
                              % (settings.proxy_source, urllib.parse.urlsplit(settings.proxy).scheme),
                              option=settings.proxy_source)
        self._context(settings.verify)
        return settings

    def _context(self, verify):
        key = verify if isinstance(verify, str) else bool(verify)
        if key not in self._contexts:
            if verify is False:
                context = ssl._create_unverified_context()  # pylint: disable=protected-access
            else:
                bundle = verify if isinstance(verify, str) else import_requests().certs.where()
                try:
                    if os.path.isdir(bundle):
                        context = ssl.create_default_context(capath=bundle)
                    else:
                        context = ssl.create_default_context(cafile=bundle)
                except (OSError, ValueError) as exc:
                    raise ConfigError('cannot load the CA bundle %s: %s' % (bundle, exc), option='ca_path') from None
            self._contexts[key] = context
        return self._contexts[key]

    def close(self):
        for conn in self._connections.values():
            conn.close()
        self._connections.clear()

    def _connection(self, parsed, url):
        key = (parsed.hostname, parsed.port or 443)
        conn = self._connections.get(key)
        if conn is None:
            settings = self.prepare(url)
            context = self._context(settings.verify)
            if settings.proxy:
                proxy = urllib.parse.urlsplit(settings.proxy)
                # a proxy URL without a port means the scheme's port, as urllib3 reads it
                conn = http.client.HTTPSConnection(proxy.hostname, proxy.port or 80, timeout=self.timeout,
                                                   context=context)
                headers = {}
                if proxy.username:
                    creds = '%s:%s' % (urllib.parse.unquote(proxy.username), urllib.parse.unquote(proxy.password or ''))
                    headers['Proxy-Authorization'] = 'Basic ' + base64.b64encode(creds.encode()).decode()
                conn.set_tunnel(key[0], key[1], headers=headers)
            else:
                conn = http.client.HTTPSConnection(key[0], key[1], timeout=self.timeout, context=context)
            self._connections[key] = conn
        return key, conn

    def _drop(self, key):
        conn = self._connections.pop(key, None)
        if conn is not None:
            conn.close()

    def post(self, url, body, headers):
        self.body_started = False
        parsed = urllib.parse.urlsplit(url)
        if parsed.scheme != 'https':
            raise TransportError('ingestion endpoint must use https: %s' % url, sent=False)
        path = quote_path(parsed.path) + ('?' + parsed.query if parsed.query else '')
        key, conn = self._connection(parsed, url)
        try:
            if conn.sock is None:
                conn.connect()
            conn.putrequest('POST', path, skip_accept_encoding=True)
            for name, value in headers.items():
                conn.putheader(name, value)
            conn.putheader('Expect', '100-continue')
            conn.endheaders()
        except ssl.SSLCertVerificationError as exc:
            self._drop(key)
            raise TransportError('ingestion: TLS verification failed for %s://%s: %s. Set ca_path to the CA bundle'
                                 ' that signs this endpoint, or validate_certs=false (not recommended).'
                                 % (parsed.scheme, parsed.netloc, exc.verify_message or exc), sent=False) from None
        except socket.gaierror as exc:
            self._drop(key)
            if exc.errno in _UNKNOWN_HOST:
                # The regional host is made of the region: a misspelled region is a host nobody knows.
                raise TransportError('ingestion: host %s did not resolve (%s); the region may be wrong: give the'
                                     " resource's own region, as a code (eastus) or a name (East US)"
                                     % (parsed.hostname, exc.strerror or exc), sent=False) from None
            raise NotDelivered('connection failed before the body was sent: %s' % _describe(exc)) from None
        except (OSError, http.client.HTTPException) as exc:
            self._drop(key)
            raise NotDelivered('connection failed before the body was sent: %s' % _describe(exc)) from None
        try:
            early = self._await_continue(conn)
        except (OSError, http.client.HTTPException) as exc:
            self._drop(key)
            raise NotDelivered('connection closed before the service asked for the body: %s' % _describe(exc)) from None
        if early is not None:
            # A final answer before the body: the service did not read it.
            try:
                resp = http.client.HTTPResponse(_Replay(early, conn.sock), method='POST')
                resp.begin()
                answer = Response(resp.status, dict(resp.getheaders()), resp.read(), body_sent=False)
            except (OSError, http.client.HTTPException) as exc:
                raise NotDelivered('unreadable answer before the body was sent: %s' % _describe(exc)) from None
            finally:
                self._drop(key)
            return answer
        self.body_started = True
        try:
            conn.send(body)
        except (OSError, http.client.HTTPException) as exc:
            self._drop(key)
            raise NotDelivered('connection broke while the body was being sent: %s' % _describe(exc)) from None
        try:
            resp = conn.getresponse()
            answer = Response(resp.status, dict(resp.getheaders()), resp.read())
        except socket.timeout:
            self._drop(key)
            raise MaybeDelivered('no answer within %gs after the body was sent' % self.timeout) from None
        except (OSError, http.client.HTTPException) as exc:
            self._drop(key)
            raise MaybeDelivered('connection broke after the body was sent: %s' % _describe(exc)) from None
        if resp.will_close:
            self._drop(key)
        return answer

    def _await_continue(self, conn):
        """``None`` when the body should be sent now; the bytes of a final answer's head otherwise."""
        sock = conn.sock
        sock.settimeout(self.continue_timeout)
        try:
            try:
                first = sock.recv(1)
            except socket.timeout:
                return None  # no interim answer: send the body anyway
            if not first:
                raise ConnectionResetError('connection closed')
            sock.settimeout(self.timeout)
            head = bytearray(first)
            while not head.endswith(b'\r\n\r\n'):
                byte = sock.recv(1)
                if not byte:
                    raise ConnectionResetError('connection closed mid-answer')
                head += byte
                if len(head) > 65536:
                    raise http.client.LineTooLong('interim answer')
        finally:
            sock.settimeout(self.timeout)
        parts = bytes(head).split(b' ', 2)
        if len(parts) >= 2 and parts[1] == b'100':
            return None
        return bytes(head)


def _describe(exc):
    text = str(exc)
    return '%s%s' % (exc.__class__.__name__, ': ' + text if text else '')


class Outcome:
    """What became of one request: ``delivered``, ``failed`` (certainly not ingested) or ``unknown``."""

    def __init__(self, state, attempts, request_id=None, client_request_id=None, status=None, code=None, message=None,
                 reason=None, systemic=False):
        self.state = state
        self.attempts = attempts
        self.request_id = request_id
        self.client_request_id = client_request_id
        self.status = status
        self.code = code
        self.message = message
        self.reason = reason
        self.systemic = systemic

    def to_dict(self):
        return {k: v for k, v in (('state', self.state), ('attempts', self.attempts), ('request_id', self.request_id),
                                  ('client_request_id', self.client_request_id), ('status', self.status),
                                  ('error_code', self.code), ('error_message', self.message), ('reason', self.reason))
                if v is not None}


class Sender:
    """Sends request bodies with the retry rules of docs/azure-facts.md section 1 and counts what it did."""

    def __init__(self, transport, token, policy, compress=True, log=None, headers=None, partial_statuses=None):
        self.transport = transport
        self.headers = dict(headers or {})   # sent with every POST (a remote write body's own encoding, ...)
        # Refusals after which a received body may still have been partly applied, with why: a remote write
        # receiver may keep the valid samples of a request it answers 400.  Their series are unknown, not failed.
        self.partial_statuses = dict(partial_statuses or {})
        self.token = token
        self.policy = policy
        self.compress = compress
        self.log = log or (lambda msg: None)
        self.posts = 0
        self.retries = 0
        # When ``send`` raised: whether the service may have ingested that body (an exception while or after it
        # was written).  ``False`` means provably nothing was ingested, so the series may be sent again.
        self.in_doubt = False

    def prepare(self):
        """Sign in now, so that a sign-in or local file problem shows before anything is claimed or sent."""
        self.token.token()

    def send(self, url, body, content_type, deadline=None):
        """POST ``body`` until it is delivered, certainly refused, or its outcome is unknown; return an ``Outcome``."""
        self.in_doubt = False
        payload = gzip.compress(body, compresslevel=6) if self.compress else body
        client_request_id = new_request_id()
        attempt = 0
        waited = 0.0
        refreshed = False
        while True:
            attempt += 1
            headers = {
                'Content-Type': content_type,
                'Content-Length': str(len(payload)),
                'Authorization': 'Bearer ' + self.token.token(),
                CLIENT_REQUEST_ID_HEADER: client_request_id,
                'x-request-id': client_request_id,
                'User-Agent': USER_AGENT,
                'Accept': 'application/json',
            }
            if self.compress:
                headers['Content-Encoding'] = 'gzip'
            headers.update(self.headers)
            self.posts += 1
            try:
                answer = self.transport.post(url, payload, headers)
            except NotDelivered as exc:
                wait = self.policy.next_wait(attempt, waited, deadline=deadline)
                if wait is None:
                    return Outcome(FAILED, attempt, client_request_id=client_request_id,
                                   reason='not delivered after %d attempt(s): %s' % (attempt, exc))
                waited += self._wait(wait, str(exc))
                continue
            except MaybeDelivered as exc:
                return Outcome(UNKNOWN, attempt, client_request_id=client_request_id, reason=str(exc))
            except BaseException:
                self.in_doubt = getattr(self.transport, 'body_started', True)
                raise
            # Until this answer is known to be a refusal, an exception would leave its body in doubt.
            self.in_doubt = answer.body_sent
            request_id = request_id_from(answer.headers, answer.body)
            if 200 <= answer.status < 300:
                return Outcome(DELIVERED, attempt, request_id=request_id, client_request_id=client_request_id,
                               status=answer.status)
            if answer.status == 401 and not refreshed:
                self.in_doubt = False
                refreshed = True
                self.token.refresh()
                continue
            retry_after = parse_retry_after(_header(answer.headers, 'Retry-After'))
            # An answer given before the body was written cannot have ingested anything: a 5xx then is as safe
            # to repeat as for an idempotent request.
            decision = classify_status(answer.status, not answer.body_sent, retry_after)
            code, message = decode_error(answer.body, _header(answer.headers, 'Content-Type'))
            if decision == RETRY:
                self.in_doubt = False    # a refusal worth retrying: nothing was ingested
                wait = self.policy.next_wait(attempt, waited, retry_after=retry_after, deadline=deadline)
                if wait is not None:
                    waited += self._wait(wait, 'HTTP %d' % answer.status)
                    continue
                reason = 'still HTTP %d after %d attempt(s); retrying longer would pass the time window or the' \
                         ' retry budget' % (answer.status, attempt)
            else:
                reason = None
            if decision != AMBIGUOUS and answer.body_sent and answer.status in self.partial_statuses:
                decision, reason = AMBIGUOUS, self.partial_statuses[answer.status]
            return Outcome(UNKNOWN if decision == AMBIGUOUS else FAILED, attempt, request_id=request_id,
                           client_request_id=client_request_id, status=answer.status, code=code, message=message,
                           reason=reason,
                           systemic=answer.status in SYSTEMIC_STATUSES or code in SYSTEMIC_CODES)

    def _wait(self, seconds, why):
        self.retries += 1
        self.log('ingestion: retrying in %.1fs after %s' % (seconds, why))
        self.policy.sleep(seconds)
        return seconds


def _header(headers, name):
    lowered = name.lower()
    for key, value in headers.items():
        if key.lower() == lowered:
            return value
    return None


def monotonic_deadline(oldest_minute_epoch, window_seconds=20 * 60, margin=30.0, now=None, clock=time.monotonic):
    """The ``clock()`` value after which the oldest point of a request would fall out of the ingestion window."""
    now = time.time() if now is None else now
    return clock() + (oldest_minute_epoch + window_seconds - margin - now)
