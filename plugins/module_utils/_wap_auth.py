# -*- coding: utf-8 -*-
# Copyright (c) azmon.metrics contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Windows Azure Pack sign-in: a WS-Trust 1.3 client for the WAP admin API token.

Nothing here knows about Ansible.  ``WsTrustClient`` asks a security token
service (WAP's Windows authentication site, or AD FS) for a JWT whose
audience is the WAP admin API (relying party ``http://azureservices/AdminSite``):

- ``windows``: Windows transport security. The SOAP request carries no
  credential; the HTTP connection is authenticated with Negotiate or NTLM
  (``pyspnego``, imported only for this).
- ``usernamemixed``: a WS-Security ``UsernameToken`` (user name and password)
  in the SOAP header, over TLS.

The message shapes, the sources they were checked against and the faults a
site answers are described in docs/wap_sign_in.md.  This file belongs to the
Windows Azure Pack bridge only and goes away with it.
"""

from __future__ import annotations

import base64
import binascii
import datetime
import re
import traceback
import uuid
import xml.etree.ElementTree as ET
from urllib.parse import urlsplit, urlunsplit
from xml.sax.saxutils import escape

from ansible_collections.azmon.metrics.plugins.module_utils._errors import (
    AuthError,
    MissingLibraryError,
    ValidationError,
)
from ansible_collections.azmon.metrics.plugins.module_utils._jwt import claims as jwt_claims
from ansible_collections.azmon.metrics.plugins.module_utils._time import UTC, TimeFormatError, format_utc, parse_iso
from ansible_collections.azmon.metrics.plugins.module_utils._wap import https_url

SERVICE = 'WAP sign-in'
ADMIN_REALM = 'http://azureservices/AdminSite'
JWT_TOKEN_TYPE = 'urn:ietf:params:oauth:token-type:jwt'

NS_SOAP12 = 'http://www.w3.org/2003/05/soap-envelope'
NS_WSA = 'http://www.w3.org/2005/08/addressing'
NS_WST = 'http://docs.oasis-open.org/ws-sx/ws-trust/200512'
NS_WSP = 'http://schemas.xmlsoap.org/ws/2004/09/policy'
NS_WSSE = 'http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd'
NS_WSU = 'http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd'
ACTION_ISSUE = NS_WST + '/RST/Issue'
REQUEST_TYPE_ISSUE = NS_WST + '/Issue'
KEY_TYPE_BEARER = NS_WST + '/Bearer'
PASSWORD_TEXT = ('http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-username-token-profile-1.0'
                 '#PasswordText')
CONTENT_TYPE = 'application/soap+xml; charset=utf-8'

# Where each kind of token service listens, and its paths per authentication.
SITES = {
    'wap': {'port': 30072, 'windows': '/wstrust/issue/windowstransport',
            'usernamemixed': '/wstrust/issue/usernamemixed', 'name': 'the WAP authentication site'},
    'adfs': {'port': 443, 'windows': '/adfs/services/trust/13/windowstransport',
             'usernamemixed': '/adfs/services/trust/13/usernamemixed', 'name': 'AD FS'},
}
AUTHENTICATIONS = ('windows', 'usernamemixed')
WINDOWS_PROTOCOLS = ('negotiate', 'ntlm')
# How long the UsernameToken's timestamp is valid (the site rejects older messages).
TIMESTAMP_LIFETIME = datetime.timedelta(minutes=5)
# HTTP statuses that come back with a SOAP answer (a token or a fault) rather than an HTTP error.
ANSWER_STATUSES = (200, 400, 401, 403, 500)

# Faults: which WS-Trust / WS-Security fault subcodes and message ids mean what.
BAD_CREDENTIALS = 'bad_credentials'
WRONG_REALM = 'wrong_realm'
CLOCK = 'clock'
_KIND_BY_SUBCODE = {
    'failedauthentication': BAD_CREDENTIALS,
    'invalidsecuritytoken': BAD_CREDENTIALS,
    'invalidscope': WRONG_REALM,
    'messageexpired': CLOCK,
    'invalidtimerange': CLOCK,
    'expireddata': CLOCK,
}
_KIND_BY_TEXT = (
    (re.compile(r'\bID3242\b|\bMSIS7068\b|user name or password|logon failure', re.I), BAD_CREDENTIALS),
    (re.compile(r'\bID3082\b|\bMSIS7007\b|relying party|\bscope\b|AppliesTo', re.I), WRONG_REALM),
    (re.compile(r'timestamp|clock skew|\bstale\b|in the future', re.I), CLOCK),
)


# --- checks made before anything is sent -------------------------------------------------------------------

def token_url(endpoint, site='wap', authentication='windows', option='endpoint'):
    """The WS-Trust URL for ``endpoint`` (the site's base URL, or already the full WS-Trust URL).

    ``https`` only; the site's usual port (30072 for WAP, 443 for AD FS) when
    none is given; user info, a query string or a fragment are refused.
    """
    if site not in SITES:
        raise ValidationError('site must be one of %s, not %r' % (', '.join(SITES), site), option='site')
    if authentication not in AUTHENTICATIONS:
        raise ValidationError('authentication must be one of %s, not %r' % (', '.join(AUTHENTICATIONS), authentication),
                              option='authentication')
    info = SITES[site]
    example = 'https://wap.contoso.com:30072' if site == 'wap' else 'https://adfs.contoso.com'
    text, parts, host, port = https_url(
        endpoint, option, what='the https URL of %s, e.g. %s' % (info['name'], example),
        why_https=': the password or Windows sign-in must not cross the network in clear text',
        credentials_hint='use the username and password options')
    path = parts.path.rstrip('/')
    wanted = info[authentication]
    for known in (info['windows'], info['usernamemixed']):
        if path.lower().endswith(known.lower()):
            if known != wanted:
                raise ValidationError('%s %r is the %s endpoint, but authentication is %s: give the base URL of the'
                                      ' site (%s) and choose authentication' % (
                                          option, text, 'windows' if known == info['windows'] else 'usernamemixed',
                                          authentication, example), option=option)
            path = path[:-len(known)]
    netloc = '%s:%d' % (host, port if port is not None else info['port'])
    return urlunsplit(('https', netloc, path + wanted, '', ''))


def check_realm(realm, option='realm'):
    """The relying party the token is for: an absolute URI without white space."""
    if not isinstance(realm, str) or not realm.strip():
        raise ValidationError('%s is required: the relying party of the WAP admin API, normally %s'
                              % (option, ADMIN_REALM), option=option)
    if realm != realm.strip() or re.search(r'\s', realm) or not re.match(r'^[A-Za-z][A-Za-z0-9+.-]*:', realm):
        raise ValidationError('%s %r is not an absolute URI such as %s' % (option, realm, ADMIN_REALM), option=option)
    return realm


def check_credentials(username, password):
    """A user name (``DOMAIN\\user`` or a UPN) and a password, both required."""
    if not isinstance(username, str) or not username.strip():
        raise ValidationError('username is required: the Windows account, as DOMAIN\\user or user@domain',
                              option='username')
    if username != username.strip() or re.search(r'[\x00-\x1f\x7f]', username):
        raise ValidationError('username %r must not have surrounding white space or control characters' % username,
                              option='username')
    if username.count('\\') > 1 or username.startswith('\\') or username.endswith('\\'):
        raise ValidationError('username %r is not DOMAIN\\user or user@domain' % username, option='username')
    if not isinstance(password, str) or password == '':
        raise ValidationError('password is required for %s' % username, option='password')
    return username, password


# --- the messages ------------------------------------------------------------------------------------------

def build_rst(to_url, realm, message_id=None, username=None, password=None, now=None):
    """The SOAP 1.2 envelope of a WS-Trust 1.3 Issue request for a bearer JWT, as bytes (UTF-8).

    With ``username`` and ``password`` the header carries a WS-Security
    ``UsernameToken`` (password as text, as usernamemixed endpoints expect) and
    a ``Timestamp`` valid for five minutes from ``now``; without them the
    header has addressing only (Windows transport security authenticates the
    connection instead).
    """
    message_id = message_id or 'urn:uuid:%s' % uuid.uuid4()
    security = ''
    if username is not None:
        now = (now or datetime.datetime.now(UTC)).astimezone(UTC)
        security = (
            '<o:Security s:mustUnderstand="1" xmlns:o="{wsse}">'
            '<u:Timestamp u:Id="_0"><u:Created>{created}</u:Created><u:Expires>{expires}</u:Expires></u:Timestamp>'
            '<o:UsernameToken u:Id="uuid-{token_id}"><o:Username>{username}</o:Username>'
            '<o:Password Type="{password_type}">{password}</o:Password></o:UsernameToken>'
            '</o:Security>'
        ).format(wsse=NS_WSSE, created=format_utc(now, 3), expires=format_utc(now + TIMESTAMP_LIFETIME, 3),
                 token_id=uuid.uuid4(), username=escape(username), password_type=PASSWORD_TEXT,
                 password=escape(password or '', {'"': '&quot;', "'": '&apos;'}))
    envelope = (
        '<s:Envelope xmlns:s="{s}" xmlns:a="{wsa}" xmlns:u="{wsu}">'
        '<s:Header>'
        '<a:Action s:mustUnderstand="1">{action}</a:Action>'
        '<a:MessageID>{message_id}</a:MessageID>'
        '<a:ReplyTo><a:Address>http://www.w3.org/2005/08/addressing/anonymous</a:Address></a:ReplyTo>'
        '<a:To s:mustUnderstand="1">{to}</a:To>'
        '{security}'
        '</s:Header>'
        '<s:Body>'
        '<trust:RequestSecurityToken xmlns:trust="{wst}">'
        '<wsp:AppliesTo xmlns:wsp="{wsp}"><a:EndpointReference><a:Address>{realm}</a:Address></a:EndpointReference>'
        '</wsp:AppliesTo>'
        '<trust:KeyType>{key_type}</trust:KeyType>'
        '<trust:RequestType>{request_type}</trust:RequestType>'
        '<trust:TokenType>{token_type}</trust:TokenType>'
        '</trust:RequestSecurityToken>'
        '</s:Body>'
        '</s:Envelope>'
    ).format(s=NS_SOAP12, wsa=NS_WSA, wsu=NS_WSU, wst=NS_WST, wsp=NS_WSP, action=ACTION_ISSUE,
             message_id=escape(message_id), to=escape(to_url), security=security, realm=escape(realm),
             key_type=KEY_TYPE_BEARER, request_type=REQUEST_TYPE_ISSUE, token_type=JWT_TOKEN_TYPE)
    return envelope.encode('utf-8')


class IssuedToken:
    """A JWT the token service issued, with what the response and the token say about it."""

    def __init__(self, token, expires_on, lifetime_expires=None):
        self.token = token
        self.expires_on = expires_on
        self.lifetime_expires = lifetime_expires
        self.claims = jwt_claims(token)

    def describe(self, now=None):
        """A result without the token: expiry, seconds left, issuer, audience and subject."""
        now = now or datetime.datetime.now(UTC)
        claims = self.claims
        subject = next((claims[k] for k in ('upn', 'unique_name', 'email', 'sub')
                        if isinstance(claims.get(k), str) and claims[k]), None)
        audience = claims.get('aud')
        return {
            'expires_on': format_utc(self.expires_on),
            'expires_in': max(0, int((self.expires_on - now).total_seconds())),
            'token_type': 'Bearer',
            'issuer': claims.get('iss'),
            'audience': audience if isinstance(audience, str) else None,
            'subject': subject,
        }


class WsTrustFault(Exception):
    """A SOAP fault: its code, subcode (local names) and reason text."""

    def __init__(self, code, subcode, reason):
        super().__init__(reason or subcode or code)
        self.code = code
        self.subcode = subcode
        self.reason = reason

    @property
    def kind(self):
        """``bad_credentials``, ``wrong_realm``, ``clock`` or ``None``."""
        kind = _KIND_BY_SUBCODE.get((self.subcode or '').lower())
        if kind:
            return kind
        for pattern, text_kind in _KIND_BY_TEXT:
            if pattern.search(self.reason or ''):
                return text_kind
        return None


def _local(tag):
    return tag.rsplit('}', 1)[-1] if isinstance(tag, str) else ''


def _parse(body):
    if isinstance(body, str):
        body = body.encode('utf-8')
    try:
        return ET.fromstring(body)
    except ET.ParseError:
        return None


def parse_fault(body):
    """The ``WsTrustFault`` in a SOAP 1.2 (or 1.1) envelope, or ``None`` when there is none."""
    root = _parse(body)
    if root is None:
        return None
    fault = next((e for e in root.iter() if _local(e.tag) == 'Fault'), None)
    if fault is None:
        return None
    code = subcode = reason = None
    for elem in fault.iter():
        name = _local(elem.tag)
        if name == 'Code' and code is None:
            value = next((c for c in elem if _local(c.tag) == 'Value'), None)
            code = _qname_local(value.text if value is not None else None)
        elif name == 'Subcode':
            value = next((c for c in elem if _local(c.tag) == 'Value'), None)
            if value is not None and value.text:
                subcode = _qname_local(value.text)
        elif name == 'Text' and reason is None:
            reason = (elem.text or '').strip() or None
        elif name == 'faultcode' and code is None:  # SOAP 1.1
            code = _qname_local(elem.text)
        elif name == 'faultstring' and reason is None:
            reason = (elem.text or '').strip() or None
    return WsTrustFault(code, subcode, reason)


def _qname_local(text):
    text = (text or '').strip()
    return text.rsplit(':', 1)[-1] if text else None


def parse_rstr(body):
    """The ``IssuedToken`` in a WS-Trust 1.3 response; raises ``WsTrustFault`` or ``ValueError``.

    The token is the text of ``RequestedSecurityToken/BinarySecurityToken``:
    the JWT, base64-encoded (a JWT given as it is is accepted too).  Its
    expiry is the JWT's ``exp``, else the response's ``Lifetime/Expires``.
    """
    root = _parse(body)
    if root is None:
        raise ValueError('the answer is not XML')
    fault = parse_fault(body)
    if fault is not None:
        raise fault
    for rstr in (e for e in root.iter() if _local(e.tag) == 'RequestSecurityTokenResponse'):
        requested = next((e for e in rstr.iter() if _local(e.tag) == 'RequestedSecurityToken'), None)
        if requested is None:
            continue
        binary = next((e for e in requested.iter() if _local(e.tag) == 'BinarySecurityToken'), None)
        if binary is None:
            kinds = ', '.join(sorted({_local(e.tag) for e in requested})) or 'nothing'
            raise ValueError('the response holds %s instead of a BinarySecurityToken (a JWT): the site issued another'
                             ' token type; is it configured to issue JWTs for this relying party?' % kinds)
        token = _decode_binary_token(binary.text)
        lifetime_expires = None
        expires = next((e for e in rstr.iter() if _local(e.tag) == 'Lifetime'), None)
        if expires is not None:
            stamp = next((e for e in expires if _local(e.tag) == 'Expires'), None)
            if stamp is not None and stamp.text:
                try:
                    lifetime_expires = parse_iso(stamp.text.strip())
                except TimeFormatError:
                    lifetime_expires = None
        exp = jwt_claims(token).get('exp')
        if isinstance(exp, (int, float)) and not isinstance(exp, bool):
            expires_on = datetime.datetime.fromtimestamp(min(exp, 253402300799), UTC)
        elif lifetime_expires is not None:
            expires_on = lifetime_expires
        else:
            raise ValueError('the issued token has no expiry (no "exp" claim and no Lifetime)')
        return IssuedToken(token, expires_on, lifetime_expires)
    raise ValueError('the answer has no RequestSecurityTokenResponse with a RequestedSecurityToken')


def _decode_binary_token(text):
    text = re.sub(r'\s+', '', text or '')
    if not text:
        raise ValueError('the BinarySecurityToken is empty')
    if text.count('.') == 2:
        candidate = text
    else:
        try:
            candidate = base64.b64decode(text + '=' * (-len(text) % 4), validate=True).decode('utf-8').strip()
        except (binascii.Error, ValueError, UnicodeDecodeError):
            raise ValueError('the BinarySecurityToken is not base64') from None
    if candidate.count('.') != 2 or not jwt_claims(candidate):
        raise ValueError('the BinarySecurityToken does not hold a JWT')
    return candidate


# --- the client --------------------------------------------------------------------------------------------

def import_spnego():
    """Return the ``spnego`` module (pyspnego), or raise MissingLibraryError."""
    try:
        import spnego  # pylint: disable=import-outside-toplevel
    except ImportError:
        raise MissingLibraryError('pyspnego', traceback=traceback.format_exc()) from None
    return spnego


class WsTrustClient:
    """Asks one WS-Trust endpoint for a bearer JWT for ``realm``.

    ``http`` is an ``HttpClient``; its session keeps the connection open
    between the legs of a Negotiate/NTLM exchange (NTLM authenticates the
    connection, not the request).
    """

    def __init__(self, http, url, realm, username, password, authentication='windows', windows_protocol='negotiate',
                 site='wap', spnego=None):
        self.http = http
        self.url = url
        self.realm = realm
        self.username = username
        self.password = password
        self.authentication = authentication
        self.windows_protocol = windows_protocol
        self.site = site
        self._spnego = spnego

    def issue(self, now=None):
        if self.authentication == 'usernamemixed':
            body = build_rst(self.url, self.realm, username=self.username, password=self.password, now=now)
            resp = self._post(body)
        else:
            spnego = self._spnego or import_spnego()
            resp = self._windows(spnego, build_rst(self.url, self.realm))
        return self._answer(resp)

    def _post(self, body, authorization=None):
        headers = {'Content-Type': CONTENT_TYPE + '; action="%s"' % ACTION_ISSUE,
                   'Accept': 'application/soap+xml, text/xml'}
        if authorization:
            headers['Authorization'] = authorization
        return self.http.request('POST', self.url, SERVICE, data=body, headers=headers, ok=ANSWER_STATUSES,
                                 idempotent=True)

    def _windows(self, spnego, body):
        resp = self._post(body)
        if resp.status != 401:
            return resp
        offered = _auth_schemes(resp.headers)
        scheme = None
        if self.windows_protocol == 'negotiate' and 'negotiate' in offered:
            scheme = 'Negotiate'
        elif 'ntlm' in offered:
            scheme = 'NTLM'
        elif 'negotiate' in offered:
            scheme = 'Negotiate'
        if scheme is None:
            raise AuthError('%s: %s does not offer Windows authentication (Negotiate or NTLM); it offers %s. Is'
                            ' authentication=windows right for this site?'
                            % (SERVICE, self.url, ', '.join(sorted(offered)) or 'no WWW-Authenticate scheme'),
                            option='authentication', url=self.url)
        host = urlsplit(self.url).hostname
        try:
            context = spnego.client(self.username, self.password, hostname=host, service='HTTP',
                                    protocol=scheme.lower())
            out_token = context.step()
        except Exception as exc:  # pylint: disable=broad-except
            raise AuthError('%s: cannot start %s authentication for %s: %s' % (SERVICE, scheme, self.username, exc),
                            option='username', url=self.url) from None
        for _leg in range(4):
            resp = self._post(body, '%s %s' % (scheme, base64.b64encode(out_token).decode('ascii')))
            in_token = _auth_token(resp.headers, scheme)
            if resp.status != 401:
                if in_token and not context.complete:
                    try:
                        context.step(in_token)  # the server's last (mutual authentication) token
                    except Exception:  # pylint: disable=broad-except
                        pass
                return resp
            if not in_token:
                # a 401 without a challenge: the server refused the final authentication message
                raise self._bad_credentials('the site refused the Windows sign-in (HTTP 401 after %s)' % scheme)
            try:
                out_token = context.step(in_token)
            except Exception as exc:  # pylint: disable=broad-except
                raise AuthError('%s: %s authentication with %s failed: %s' % (SERVICE, scheme, self.url, exc),
                                url=self.url) from None
            if out_token is None:
                raise self._bad_credentials('the site did not accept the Windows sign-in (HTTP 401)')
        raise AuthError('%s: %s authentication with %s did not finish after four round trips' % (SERVICE, scheme,
                                                                                                 self.url), url=self.url)

    def _answer(self, resp):
        try:
            return parse_rstr(resp.body or b'')
        except WsTrustFault as fault:
            raise self.fault_error(fault, resp.status) from None
        except ValueError as exc:
            if resp.status == 401:
                raise self._bad_credentials('the site answered HTTP 401') from None
            if resp.status != 200:
                raise AuthError('%s: POST %s returned HTTP %d without a SOAP answer: is endpoint a WS-Trust %s?'
                                % (SERVICE, self.url, resp.status, SITES[self.site]['name']),
                                status=resp.status, url=self.url, request_id=resp.request_id) from None
            raise AuthError('%s: %s answered without a usable token: %s' % (SERVICE, self.url, exc),
                            status=resp.status, url=self.url, request_id=resp.request_id) from None

    def _bad_credentials(self, said):
        return AuthError(
            '%s: %s refused the credentials of username %r: %s. Check username (DOMAIN\\user or user@domain) and'
            ' password; the account must be allowed to sign in to this site.'
            % (SERVICE, self.url, self.username, said), option='password', reason=BAD_CREDENTIALS, url=self.url)

    def fault_error(self, fault, status=None):
        """The ``AuthError`` for a fault, naming the option to fix."""
        said = ': '.join(x for x in (fault.subcode, fault.reason) if x) or 'no reason given'
        kind = fault.kind
        if kind == BAD_CREDENTIALS:
            err = self._bad_credentials('the site said %s' % said)
        elif kind == WRONG_REALM:
            err = AuthError(
                '%s: %s does not issue tokens for realm %r (the site said %s). Check realm: the WAP admin API is'
                ' %s, and AD FS needs a relying party trust with that identifier.'
                % (SERVICE, self.url, self.realm, said, ADMIN_REALM), option='realm', reason=WRONG_REALM, url=self.url)
        elif kind == CLOCK:
            err = AuthError(
                '%s: %s rejected the request as expired or not yet valid (the site said %s). The clocks of this'
                ' controller and of the site differ: synchronise them (NTP) and try again.'
                % (SERVICE, self.url, said), reason=CLOCK, url=self.url)
        else:
            err = AuthError('%s: %s refused the token request (the site said %s)' % (SERVICE, self.url, said),
                            url=self.url)
        err.details.update(status=status, fault_code=fault.code, fault_subcode=fault.subcode,
                           fault_reason=fault.reason)
        return err


def _auth_headers(headers):
    if headers is None:
        return []
    getlist = getattr(headers, 'get_all', None) or getattr(headers, 'getlist', None)
    values = []
    if getlist is not None:
        try:
            values = list(getlist('WWW-Authenticate') or [])
        except TypeError:
            values = []
    if not values:
        value = headers.get('WWW-Authenticate') if hasattr(headers, 'get') else None
        values = [value] if value else []
    out = []
    for value in values:
        out.extend(part.strip() for part in value.split(',') if part.strip())
    return out


def _auth_schemes(headers):
    return {part.split(' ', 1)[0].lower() for part in _auth_headers(headers)}


def _auth_token(headers, scheme):
    for part in _auth_headers(headers):
        name, _sep, data = part.partition(' ')
        if name.lower() == scheme.lower() and data.strip():
            try:
                return base64.b64decode(data.strip())
            except (binascii.Error, ValueError):
                return None
    return None
