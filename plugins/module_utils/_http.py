# -*- coding: utf-8 -*-
# Copyright (c) azmon.metrics contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""HTTP layer: one requests session per module run, request ids, error decoding, retries.

Nothing here knows about Ansible.  ``requests`` is imported lazily so that a
missing library becomes a clear error at run time instead of an import failure.
"""

from __future__ import annotations

import dataclasses
import email.utils
import json
import math
import os
import random
import re
import ssl
import time
import traceback
import uuid
import xml.etree.ElementTree as ET
from urllib.parse import quote, urlsplit

from ansible_collections.azmon.metrics.plugins.module_utils._errors import (
    ConfigError,
    MissingLibraryError,
    ServiceError,
    TransportError,
)

USER_AGENT = 'azmon.metrics/0.1.0'
CLIENT_REQUEST_ID_HEADER = 'x-ms-client-request-id'
# Response headers that carry the service's request id, most specific first.
REQUEST_ID_HEADERS = ('x-ms-request-id', 'request-id', 'x-ms-correlation-request-id', 'x-request-id', 'client-request-id')

# What an outcome means for a retry.
RETRY = 'retry'          # nothing was applied; sending again is safe
FAIL = 'fail'            # a final answer; sending again would not help
AMBIGUOUS = 'ambiguous'  # the service may have applied the request; only an idempotent one is sent again


def import_requests():
    """Return the requests module, or raise MissingLibraryError."""
    try:
        import requests  # pylint: disable=import-outside-toplevel
    except ImportError:
        raise MissingLibraryError('requests', traceback=traceback.format_exc()) from None
    return requests


def new_request_id():
    return str(uuid.uuid4())


# --- local checks and the environment, the same for every connection ---------------------------------------

TIMEOUT_MIN = 1.0
TIMEOUT_MAX = 3600.0
_HASHED_CA = re.compile(r'^[0-9a-f]{8}\.[0-9]+$')
CA_BUNDLE_ENV = ('REQUESTS_CA_BUNDLE', 'CURL_CA_BUNDLE')


def quote_path(path):
    """``path`` percent-encoded as RFC 3986 asks (UTF-8), keeping ``/`` and the unreserved characters."""
    return quote(path, safe='/')


def check_timeout(value, option='timeout'):
    """``value`` as a float when it is a sensible number of seconds, else ``ConfigError`` naming ``option``."""
    try:
        seconds = float(value)
    except (TypeError, ValueError):
        seconds = float('nan')
    if not TIMEOUT_MIN <= seconds <= TIMEOUT_MAX:
        raise ConfigError('%s must be from %g to %g seconds, got %r' % (option, TIMEOUT_MIN, TIMEOUT_MAX, value),
                          option=option)
    return seconds


def check_ca_bundle(path, option='ca_path'):
    """Refuse a CA bundle that cannot be used, before any connection: ``ConfigError`` naming ``option``.

    A file must hold PEM certificates that OpenSSL loads; a directory must hold
    hashed CA certificates (``openssl rehash``), as ``requests`` and OpenSSL
    read them.
    """
    what = '%s %s' % (option, path)
    try:
        if not os.path.exists(path):
            raise ConfigError('%s does not exist: give a CA bundle file (PEM)' % what, option=option)
        if os.path.isdir(path):
            if not any(_HASHED_CA.match(name) for name in os.listdir(path)):
                raise ConfigError('%s is a directory without hashed CA certificates (see openssl rehash): give a CA'
                                  ' bundle file (PEM)' % what, option=option)
            return
        with open(path, 'rb') as handle:
            data = handle.read()
    except UnicodeError:
        raise ConfigError('%r cannot be used as a file name on this system' % what, option=option) from None
    except OSError as exc:
        raise ConfigError('%s cannot be read: %s' % (what, exc.strerror or exc.__class__.__name__),
                          option=option) from None
    if b'-----BEGIN CERTIFICATE-----' not in data:
        raise ConfigError('%s is not a PEM CA bundle: no "-----BEGIN CERTIFICATE-----" block' % what, option=option)
    try:
        ssl.create_default_context(cafile=path)
    except (ssl.SSLError, ValueError) as exc:
        raise ConfigError('%s holds a certificate that cannot be loaded: %s' % (what, exc.__class__.__name__),
                          option=option) from None


@dataclasses.dataclass(repr=False)
class ConnectionSettings:
    """What one connection uses: ``verify`` (``False``, ``True`` or a CA bundle path) and ``proxy`` (URL or ``None``)."""

    verify: bool | str
    proxy: str | None
    verify_source: str | None = None
    proxy_source: str | None = None

    def __repr__(self):
        return 'ConnectionSettings(verify=%r, proxy=%r)' % (self.verify, _without_credentials(self.proxy))


def connection_settings(url, validate_certs=True, ca_path=None, environ=None):
    """CA bundle and proxy for ``url``, read from the options and the environment the way ``requests`` reads them.

    ``validate_certs=false`` wins, then ``ca_path``, then ``REQUESTS_CA_BUNDLE``
    or ``CURL_CA_BUNDLE``, then ``True`` (``requests``' bundle).  The proxy is
    ``requests``' choice for the URL from ``HTTPS_PROXY``/``HTTP_PROXY``,
    ``ALL_PROXY`` and ``NO_PROXY`` (upper or lower case), with ``http://``
    prepended when it has no scheme.  Every connection of the collection, the
    sign-in included, uses this one function.
    """
    requests = import_requests()
    environ = os.environ if environ is None else environ
    if not validate_certs:
        verify, verify_source = False, 'validate_certs'
    elif ca_path:
        verify, verify_source = ca_path, 'ca_path'
    else:
        name = next((n for n in CA_BUNDLE_ENV if environ.get(n)), None)
        verify, verify_source = (environ[name], name) if name else (True, None)
    proxies = requests.utils.get_environ_proxies(url)
    proxy = requests.utils.select_proxy(url, proxies)
    proxy_source = None
    if proxy:
        scheme = urlsplit(url).scheme
        proxy_source = next((n for n in ('%s_proxy' % scheme, 'all_proxy') for n in (n.upper(), n) if environ.get(n)),
                            'the proxy environment')
        try:
            proxy = requests.utils.prepend_scheme_if_needed(proxy, 'http')
        except ValueError:
            raise ConfigError('%s: the proxy %s is not a URL with a valid host and port'
                              % (proxy_source, _without_credentials(proxy)), option=proxy_source) from None
    return ConnectionSettings(verify, proxy, verify_source, proxy_source)


def check_connection(url, validate_certs=True, ca_path=None, environ=None):
    """``connection_settings`` for ``url`` after checking, with no network call, that they can be used."""
    settings = connection_settings(url, validate_certs, ca_path, environ)
    if isinstance(settings.verify, str):
        check_ca_bundle(settings.verify, settings.verify_source)
    if settings.proxy:
        parts = urlsplit(settings.proxy)
        try:
            parts.port  # pylint: disable=pointless-statement
        except ValueError:
            raise ConfigError('%s: the proxy %s has an invalid port' % (settings.proxy_source,
                                                                        _without_credentials(settings.proxy)),
                              option=settings.proxy_source) from None
        if not parts.hostname:
            raise ConfigError('%s: the proxy %s has no host' % (settings.proxy_source,
                                                                _without_credentials(settings.proxy)),
                              option=settings.proxy_source)
    return settings


def _without_credentials(url):
    if not url:
        return url
    parts = urlsplit(url)
    if parts.username is None and parts.password is None:
        return url
    return url.replace(parts.netloc, parts.netloc.rsplit('@', 1)[-1], 1)


def decode_error(body, content_type=None):
    """Return ``(code, message)`` from an error body of any shape the services use.

    Shapes: ARM, Graph and ingestion ``{"error": {"code", "message"}}``; Entra ID
    ``{"error": "invalid_client", "error_description": ...}``; WAP JSON
    ``{"Code", "Message"}``; XML ``<Error><Code/><Message/></Error>`` (any
    namespace); plain text.  Missing parts are ``None``.
    """
    if isinstance(body, bytes):
        body = body.decode('utf-8', errors='replace')
    text = (body or '').strip()
    if not text:
        return None, None
    if text[:1] in '{[':
        try:
            doc = json.loads(text)
        except ValueError:
            doc = None
        if isinstance(doc, dict):
            return _decode_json_error(doc)
    if text.startswith('<'):
        decoded = _decode_xml_error(text)
        if decoded is not None:
            return decoded
    if content_type and 'html' in content_type.lower():
        text = re.sub(r'<[^>]+>', ' ', text)
        text = re.sub(r'\s+', ' ', text).strip()
    return None, text[:2000] or None


def _decode_json_error(doc):
    err = doc.get('error')
    if isinstance(err, dict):
        return _text(err.get('code')), _text(err.get('message'))
    if isinstance(err, str):
        return err, _text(doc.get('error_description'))
    lowered = {k.lower(): v for k, v in doc.items() if isinstance(k, str)}
    if 'code' in lowered or 'message' in lowered:
        return _text(lowered.get('code')), _text(lowered.get('message'))
    return None, json.dumps(doc)[:2000]


def _decode_xml_error(text):
    try:
        root = ET.fromstring(text)
    except ET.ParseError:
        return None
    found = {}
    for elem in root.iter():
        local = elem.tag.rsplit('}', 1)[-1].lower()
        if local in ('code', 'message') and local not in found:
            found[local] = (elem.text or '').strip() or None
    if not found:
        return None
    return found.get('code'), found.get('message')


def _text(value):
    if value is None:
        return None
    return value if isinstance(value, str) else str(value)


def request_id_from(headers, body=None):
    """The service's request id: from the response headers, else from a Graph ``innerError``."""
    if headers:
        lowered = {k.lower(): v for k, v in headers.items()}
        for name in REQUEST_ID_HEADERS:
            if lowered.get(name):
                return lowered[name]
    if body:
        try:
            doc = json.loads(body)
            inner = doc['error'].get('innerError') or doc['error'].get('innererror') or {}
            return inner.get('request-id') or inner.get('requestId')
        except (ValueError, TypeError, KeyError, AttributeError):
            return None
    return None


def parse_retry_after(value, now=None):
    """Seconds to wait from a ``Retry-After`` header (delta seconds or HTTP date), or ``None``."""
    if value is None:
        return None
    value = str(value).strip()
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
        if when is None:
            return None
        seconds = when.timestamp() - (time.time() if now is None else now)
    if math.isnan(seconds):
        return None
    return max(0.0, seconds)


def classify_status(status, idempotent, retry_after=None):
    """What a status code means for sending the same request again.

    429, and 503 with ``Retry-After``, mean nothing was applied.  500, 502, 504
    and a 503 without ``Retry-After`` may have been applied: only an idempotent
    request is repeated.  Any other status is final.
    """
    if status == 429 or (status == 503 and retry_after is not None):
        return RETRY
    if status in (500, 502, 503, 504):
        return RETRY if idempotent else AMBIGUOUS
    return FAIL


def classify_transport(sent, idempotent):
    """A broken connection: safe to repeat when nothing was sent, or when the request is idempotent."""
    if not sent or idempotent:
        return RETRY
    return AMBIGUOUS


class RetryPolicy:
    """How often and how long to retry.

    ``max_attempts`` counts every try, the first included.  Waits grow
    exponentially with full jitter from ``backoff`` up to ``backoff_max``; a
    ``Retry-After`` from the service replaces the computed wait.  No wait ends
    after ``deadline`` (a ``clock()`` value) nor makes the total wait exceed
    ``max_wait``.
    """

    def __init__(self, max_attempts=5, backoff=0.5, backoff_max=10.0, max_wait=60.0,
                 sleep=time.sleep, clock=time.monotonic, rng=None):
        self.max_attempts = max_attempts
        self.backoff = backoff
        self.backoff_max = backoff_max
        self.max_wait = max_wait
        self.sleep = sleep
        self.clock = clock
        self.rng = rng or random.Random()

    def next_wait(self, attempt, waited, retry_after=None, deadline=None):
        """Seconds to wait before try ``attempt + 1``, or ``None`` to give up.

        ``attempt`` is the number of tries made so far; ``waited`` the seconds
        already spent waiting.
        """
        if attempt >= self.max_attempts:
            return None
        if retry_after is not None:
            wait = retry_after
        else:
            wait = self.rng.uniform(0, min(self.backoff_max, self.backoff * (2 ** (attempt - 1))))
        if waited + wait > self.max_wait:
            return None
        if deadline is not None and self.clock() + wait >= deadline:
            return None
        return wait


@dataclasses.dataclass
class Response:
    """A final HTTP answer: status, headers, body bytes, decoded JSON on demand.

    ``body_sent`` is ``False`` when the answer came before the request body
    was written (the ingestion transport waits for ``100 Continue``), so the
    service cannot have acted on the body.
    """

    status: int
    headers: dict
    body: bytes
    request_id: str | None = None
    client_request_id: str | None = None
    body_sent: bool = True

    def json(self):
        if not self.body:
            return None
        return json.loads(self.body)


class TokenSource:
    """The interface the client needs from a sign-in: a bearer token, and a fresh one after a 401."""

    def token(self):
        raise NotImplementedError

    def refresh(self):
        raise NotImplementedError


class HttpClient:
    """A requests session with the collection's rules on ids, errors and retries.

    ``service`` names are only used in messages.  ``stats`` counts requests
    and retries for the module result.
    """

    def __init__(self, validate_certs=True, ca_path=None, timeout=30.0, retry=None, user_agent=USER_AGENT,
                 session=None, log=None):
        requests = import_requests()
        self.timeout = timeout
        self.retry = retry or RetryPolicy()
        self.session = session or requests.Session()
        self.session.headers['User-Agent'] = user_agent
        self.session.verify = ca_path if (validate_certs and ca_path) else bool(validate_certs)
        self.validate_certs = validate_certs
        self.ca_path = ca_path
        self.log = log or (lambda msg: None)
        self.stats = {'requests': 0, 'retries': 0}

    @property
    def verify(self):
        """The value requests (and azure-core's transport) wants for ``verify``: the same as every connection's."""
        return connection_settings('https://localhost/', self.validate_certs, self.ca_path).verify

    def settings(self, url):
        """The ``ConnectionSettings`` for ``url`` (CA bundle and proxy, from the options and the environment)."""
        return connection_settings(url, self.validate_certs, self.ca_path)

    def request(self, method, url, service, json_body=None, data=None, headers=None, params=None, token=None,
                idempotent=None, ok=(200, 201, 202, 204), deadline=None):
        """Send a request, retrying what is safe to retry; return a ``Response`` for statuses in ``ok``.

        ``token`` is a ``TokenSource`` (or ``None``): a 401 gets one fresh token
        and one more try.  ``idempotent`` defaults to ``False`` for POST only.
        Raises ``ServiceError`` for other statuses and ``TransportError`` when
        no answer came back.
        """
        requests = import_requests()
        if idempotent is None:
            idempotent = method.upper() != 'POST'
        attempt = 0
        waited = 0.0
        refreshed = False
        given = {k.lower(): v for k, v in (headers or {}).items()}.get(CLIENT_REQUEST_ID_HEADER)
        client_request_id = given or new_request_id()
        while True:
            attempt += 1
            send_headers = {'Accept': 'application/json'}
            if token is not None:
                send_headers['Authorization'] = 'Bearer ' + token.token()
            send_headers.update({k: v for k, v in (headers or {}).items() if k.lower() != CLIENT_REQUEST_ID_HEADER})
            send_headers[CLIENT_REQUEST_ID_HEADER] = client_request_id
            self.stats['requests'] += 1
            settings = self.settings(url)
            proxies = {urlsplit(url).scheme: settings.proxy} if settings.proxy else None
            try:
                # verify is passed on every call: requests lets REQUESTS_CA_BUNDLE/CURL_CA_BUNDLE override the
                # session's own setting, which would ignore ca_path and even validate_certs=false.
                resp = self.session.request(method, url, params=params, json=json_body, data=data,
                                            headers=send_headers, timeout=self.timeout, verify=settings.verify,
                                            proxies=proxies)
            except requests.exceptions.SSLError as exc:
                raise TransportError(
                    '%s: TLS verification failed for %s: %s. Set ca_path to the CA bundle that signs this endpoint,'
                    ' or validate_certs=false (not recommended).' % (service, origin(url), _reason(exc)),
                    sent=False, url=url, client_request_id=client_request_id) from None
            except (requests.exceptions.ConnectionError, requests.exceptions.Timeout) as exc:
                sent = not isinstance(exc, requests.exceptions.ConnectTimeout) and not _is_connect_failure(exc)
                decision = classify_transport(sent, idempotent)
                wait = self.retry.next_wait(attempt, waited, deadline=deadline) if decision == RETRY else None
                if wait is None:
                    raise TransportError(
                        '%s: %s %s failed after %d attempt(s): %s' % (service, method, url, attempt, _reason(exc)),
                        sent=sent, url=url, client_request_id=client_request_id, attempts=attempt) from None
                self._wait(wait, 'connection problem: %s' % _reason(exc))
                waited += wait
                continue

            body = resp.content
            request_id = request_id_from(resp.headers, body)
            if resp.status_code in ok:
                return Response(resp.status_code, resp.headers, body, request_id, client_request_id)
            if resp.status_code == 401 and token is not None and not refreshed:
                refreshed = True
                token.refresh()
                continue
            retry_after = parse_retry_after(resp.headers.get('Retry-After'))
            decision = classify_status(resp.status_code, idempotent, retry_after)
            wait = None
            if decision == RETRY:
                wait = self.retry.next_wait(attempt, waited, retry_after=retry_after, deadline=deadline)
            if wait is None:
                code, message = decode_error(body, resp.headers.get('Content-Type'))
                raise ServiceError(
                    '%s: %s %s returned HTTP %d%s%s' % (
                        service, method, _path(url), resp.status_code,
                        ' %s' % code if code else '', ': %s' % message if message else ''),
                    status=resp.status_code, code=code, message=message, request_id=request_id,
                    client_request_id=client_request_id, attempts=attempt,
                    ambiguous=True if decision == AMBIGUOUS else None)
            self._wait(wait, 'HTTP %d' % resp.status_code)
            waited += wait

    def pages(self, url, service, token=None, next_key='nextLink', what='the list', max_pages=100):
        """GET ``url`` and each next page it links to under ``next_key``; yield each page's JSON document.

        A next link is followed only to the origin of ``url`` (the bearer
        token goes nowhere else) and only once: a service that links to a page
        it already gave, or gives more than ``max_pages`` pages, gets a
        ``ServiceError`` naming ``what`` instead of an endless loop.
        """
        home = origin(url)
        seen = {url}
        for _page in range(max_pages):
            doc = self.request('GET', url, service, token=token, ok=(200,)).json() or {}
            yield doc
            url = doc.get(next_key)
            if not url:
                return
            if origin(url) != home:
                raise ServiceError('%s: refusing to follow %s to another host (%s); the bearer token is only sent to'
                                   ' %s' % (service, next_key, origin(url), home))
            if url in seen:
                raise ServiceError('%s: %s repeats the %s %s' % (service, what, next_key, url))
            seen.add(url)
        raise ServiceError('%s: more than %d pages of %s; refine the query' % (service, max_pages, what))

    def _wait(self, seconds, why):
        self.stats['retries'] += 1
        self.log('retrying in %.1fs after %s' % (seconds, why))
        self.retry.sleep(seconds)


def _is_connect_failure(exc):
    """True when requests could not open the connection at all (nothing was sent)."""
    text = repr(exc)
    return any(marker in text for marker in (
        'NewConnectionError', 'NameResolutionError', 'Failed to establish a new connection',
        'Connection refused', 'ConnectTimeout', 'No route to host'))


def _reason(exc):
    reason = exc
    while getattr(reason, 'args', None) and isinstance(reason.args[0], BaseException):
        reason = reason.args[0]
    text = str(reason)
    inner = getattr(reason, 'reason', None)
    if inner is not None and str(inner) not in text:
        text = '%s (%s)' % (text, inner)
    return text


def origin(url):
    """``scheme://host[:port]`` of ``url`` in lower case: where a bearer token may be sent."""
    parts = urlsplit(url)
    return '%s://%s' % (parts.scheme.lower(), parts.netloc.lower())


def _path(url):
    """The URL without its query string (which may be long); never holds a secret here."""
    return url.split('?', 1)[0]
