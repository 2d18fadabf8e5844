# -*- coding: utf-8 -*-
# Copyright (c) azmon.metrics contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""WS-Trust messages for the WAP admin API token: the request built, responses and faults parsed, errors named."""

from __future__ import annotations

import base64
import datetime
import json
import xml.etree.ElementTree as ET

import pytest

from ansible_collections.azmon.metrics.plugins.module_utils._errors import AuthError, ValidationError
from ansible_collections.azmon.metrics.plugins.module_utils._wap_auth import (
    WsTrustClient,
    build_rst,
    check_credentials,
    check_realm,
    parse_fault,
    parse_rstr,
    token_url,
)
from ansible_collections.azmon.metrics.plugins.module_utils._wap import parse_endpoint

UTC = datetime.timezone.utc
NOW = datetime.datetime(2026, 12, 3, 18, 0, 0, tzinfo=UTC)
S = '{http://www.w3.org/2003/05/soap-envelope}'
A = '{http://www.w3.org/2005/08/addressing}'
T = '{http://docs.oasis-open.org/ws-sx/ws-trust/200512}'
O = '{http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd}'
U = '{http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd}'
P = '{http://schemas.xmlsoap.org/ws/2004/09/policy}'


def b64url(doc):
    return base64.urlsafe_b64encode(json.dumps(doc).encode()).rstrip(b'=').decode()


JWT = '%s.%s.%s' % (b64url({'typ': 'JWT', 'alg': 'RS256'}),
                    b64url({'iss': 'http://azureservices/AdminSite', 'aud': 'http://azureservices/AdminSite',
                            'upn': 'CONTOSO\\wapadmin', 'exp': 1796324400}),
                    'c2lnbmF0dXJl')

# The shape of a WAP authentication site's answer (WCF, SOAP 1.2, WS-Trust 1.3 RSTR collection).
RSTR = '''<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope" xmlns:a="http://www.w3.org/2005/08/addressing"
 xmlns:u="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd">
 <s:Header><a:Action s:mustUnderstand="1">http://docs.oasis-open.org/ws-sx/ws-trust/200512/RSTRC/IssueFinal</a:Action>
 </s:Header>
 <s:Body>
  <trust:RequestSecurityTokenResponseCollection xmlns:trust="http://docs.oasis-open.org/ws-sx/ws-trust/200512">
   <trust:RequestSecurityTokenResponse>
    <trust:Lifetime><u:Created>2026-12-03T18:00:00.000Z</u:Created><u:Expires>2026-12-03T19:00:00.000Z</u:Expires>
    </trust:Lifetime>
    <wsp:AppliesTo xmlns:wsp="http://schemas.xmlsoap.org/ws/2004/09/policy"><a:EndpointReference>
     <a:Address>http://azureservices/AdminSite</a:Address></a:EndpointReference></wsp:AppliesTo>
    <trust:RequestedSecurityToken>
     <wsse:BinarySecurityToken xmlns:wsse="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"
      ValueType="urn:ietf:params:oauth:token-type:jwt"
      EncodingType="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-soap-message-security-1.0#Base64Binary"
      >%s</wsse:BinarySecurityToken>
    </trust:RequestedSecurityToken>
    <trust:TokenType>urn:ietf:params:oauth:token-type:jwt</trust:TokenType>
    <trust:RequestType>http://docs.oasis-open.org/ws-sx/ws-trust/200512/Issue</trust:RequestType>
    <trust:KeyType>http://docs.oasis-open.org/ws-sx/ws-trust/200512/Bearer</trust:KeyType>
   </trust:RequestSecurityTokenResponse>
  </trust:RequestSecurityTokenResponseCollection>
 </s:Body></s:Envelope>'''


def fault(subcode_ns, subcode, reason, code='Sender'):
    return ('<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"><s:Body><s:Fault>'
            '<s:Code><s:Value>s:%s</s:Value><s:Subcode><s:Value xmlns:x="%s">x:%s</s:Value></s:Subcode></s:Code>'
            '<s:Reason><s:Text xml:lang="en-US">%s</s:Text></s:Reason></s:Fault></s:Body></s:Envelope>'
            % (code, subcode_ns, subcode, reason))


WSSE = 'http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd'
WST = 'http://docs.oasis-open.org/ws-sx/ws-trust/200512'
BAD_PASSWORD = fault(WSSE, 'FailedAuthentication', 'ID3242: The security token could not be authenticated or authorized.')
WRONG_REALM = fault(WST, 'InvalidScope', 'ID3082: The request scope is not valid or is unsupported.')
ADFS_WRONG_REALM = fault(WST, 'InvalidRequest', "MSIS7007: The requested relying party trust 'urn:x' is unspecified or"
                         " unsupported.")
STALE = fault(WSSE, 'MessageExpired', "The security timestamp is stale because its expiration time"
              " ('2026-12-03T17:00:00.000Z') is in the past.")
# A SOAP 1.1 fault (an older AD FS endpoint or a proxy in front of it).
SOAP11 = ('<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body><s:Fault>'
          '<faultcode xmlns:a="%s">a:FailedAuthentication</faultcode><faultstring>ID3242: no</faultstring>'
          '</s:Fault></s:Body></s:Envelope>' % WSSE)


# --- the request -------------------------------------------------------------------------------------------

def test_windows_request_has_addressing_and_no_credential():
    body = build_rst('https://wap:30072/wstrust/issue/windowstransport', 'http://azureservices/AdminSite',
                     message_id='urn:uuid:1')
    root = ET.fromstring(body)
    assert root.tag == S + 'Envelope'
    header = root.find(S + 'Header')
    assert header.find(A + 'Action').text == 'http://docs.oasis-open.org/ws-sx/ws-trust/200512/RST/Issue'
    assert header.find(A + 'Action').get(S + 'mustUnderstand') == '1'
    assert header.find(A + 'MessageID').text == 'urn:uuid:1'
    assert header.find(A + 'To').text == 'https://wap:30072/wstrust/issue/windowstransport'
    assert header.find(A + 'ReplyTo/' + A + 'Address').text == 'http://www.w3.org/2005/08/addressing/anonymous'
    assert header.find(O + 'Security') is None
    rst = root.find(S + 'Body/' + T + 'RequestSecurityToken')
    assert rst.find(P + 'AppliesTo/' + A + 'EndpointReference/' + A + 'Address').text == 'http://azureservices/AdminSite'
    assert rst.find(T + 'KeyType').text == 'http://docs.oasis-open.org/ws-sx/ws-trust/200512/Bearer'
    assert rst.find(T + 'RequestType').text == 'http://docs.oasis-open.org/ws-sx/ws-trust/200512/Issue'
    assert rst.find(T + 'TokenType').text == 'urn:ietf:params:oauth:token-type:jwt'


def test_usernamemixed_request_carries_username_token_and_timestamp():
    body = build_rst('https://adfs/adfs/services/trust/13/usernamemixed', 'http://azureservices/AdminSite',
                     username='CONTOSO\\wap<admin>', password='p&ss"w\'<rd>', now=NOW)
    root = ET.fromstring(body)
    security = root.find(S + 'Header/' + O + 'Security')
    assert security.get(S + 'mustUnderstand') == '1'
    assert security.find(U + 'Timestamp/' + U + 'Created').text == '2026-12-03T18:00:00.000Z'
    assert security.find(U + 'Timestamp/' + U + 'Expires').text == '2026-12-03T18:05:00.000Z'
    token = security.find(O + 'UsernameToken')
    assert token.find(O + 'Username').text == 'CONTOSO\\wap<admin>'
    password = token.find(O + 'Password')
    assert password.text == 'p&ss"w\'<rd>'
    assert password.get('Type') == ('http://docs.oasis-open.org/wss/2004/01/'
                                    'oasis-200401-wss-username-token-profile-1.0#PasswordText')


# --- the response ------------------------------------------------------------------------------------------

def test_rstr_gives_the_jwt_and_its_expiry():
    issued = parse_rstr(RSTR % base64.b64encode(JWT.encode()).decode())
    assert issued.token == JWT
    assert issued.expires_on == datetime.datetime(2026, 12, 3, 19, 0, 0, tzinfo=UTC)
    assert issued.lifetime_expires == datetime.datetime(2026, 12, 3, 19, 0, 0, tzinfo=UTC)
    described = issued.describe(now=NOW)
    assert described == {'expires_on': '2026-12-03T19:00:00Z', 'expires_in': 3600, 'token_type': 'Bearer',
                         'issuer': 'http://azureservices/AdminSite', 'audience': 'http://azureservices/AdminSite',
                         'subject': 'CONTOSO\\wapadmin'}
    assert JWT not in json.dumps(described)


def test_rstr_with_the_jwt_not_base64_encoded_is_accepted():
    assert parse_rstr(RSTR % JWT).token == JWT


@pytest.mark.parametrize('content,says', [
    ('', 'empty'),
    ('!!!not base64!!!', 'not base64'),
    (base64.b64encode(b'<saml:Assertion/>').decode(), 'does not hold a JWT'),
])
def test_rstr_without_a_usable_jwt(content, says):
    with pytest.raises(ValueError, match=says):
        parse_rstr(RSTR % content)


def test_rstr_with_a_saml_token_says_so():
    saml = RSTR.replace('<wsse:BinarySecurityToken', '<saml:Assertion xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion"'
                        ).replace('</wsse:BinarySecurityToken>', '</saml:Assertion>')
    with pytest.raises(ValueError, match='Assertion instead of a BinarySecurityToken'):
        parse_rstr(saml % 'x')


@pytest.mark.parametrize('body,code,subcode,kind', [
    (BAD_PASSWORD, 'Sender', 'FailedAuthentication', 'bad_credentials'),
    (WRONG_REALM, 'Sender', 'InvalidScope', 'wrong_realm'),
    (ADFS_WRONG_REALM, 'Sender', 'InvalidRequest', 'wrong_realm'),
    (STALE, 'Sender', 'MessageExpired', 'clock'),
    (SOAP11, 'FailedAuthentication', None, 'bad_credentials'),
    (fault(WST, 'RequestFailed', 'Something else broke.', code='Receiver'), 'Receiver', 'RequestFailed', None),
])
def test_faults_are_parsed_and_classified(body, code, subcode, kind):
    parsed = parse_fault(body)
    assert (parsed.code, parsed.subcode, parsed.kind) == (code, subcode, kind)
    with pytest.raises(type(parsed)):
        parse_rstr(body)


def test_no_fault_in_a_token_response_or_in_text():
    assert parse_fault(RSTR % JWT) is None
    assert parse_fault('<html>Service Unavailable</html') is None


# --- errors mapped to the option to fix ----------------------------------------------------------------------

def _client(realm='http://azureservices/AdminSite'):
    return WsTrustClient(None, 'https://wap:30072/wstrust/issue/usernamemixed', realm, 'CONTOSO\\wapadmin', 's3cret!',
                         authentication='usernamemixed')


def test_bad_credentials_name_the_password_option():
    err = _client().fault_error(parse_fault(BAD_PASSWORD), 500)
    assert isinstance(err, AuthError)
    assert err.details['option'] == 'password'
    assert "refused the credentials of username 'CONTOSO\\\\wapadmin'" in err.msg
    assert 'Check username' in err.msg and 'ID3242' in err.msg
    assert err.details['fault_subcode'] == 'FailedAuthentication' and err.details['status'] == 500
    assert 's3cret!' not in err.msg and 's3cret!' not in json.dumps(err.to_result())


def test_wrong_realm_names_the_realm_option():
    err = _client('http://azureservices/TenantSite').fault_error(parse_fault(WRONG_REALM), 500)
    assert err.details['option'] == 'realm'
    assert "does not issue tokens for realm 'http://azureservices/TenantSite'" in err.msg
    assert 'the WAP admin API is http://azureservices/AdminSite' in err.msg


def test_stale_request_says_to_synchronise_clocks():
    err = _client().fault_error(parse_fault(STALE), 500)
    assert 'option' not in err.details
    assert 'synchronise them (NTP)' in err.msg


def test_unknown_fault_keeps_what_the_site_said():
    err = _client().fault_error(parse_fault(fault(WST, 'RequestFailed', 'Disk full.', code='Receiver')), 500)
    assert err.msg.endswith('refused the token request (the site said RequestFailed: Disk full.)')


# --- checks before anything is sent ------------------------------------------------------------------------

@pytest.mark.parametrize('endpoint,site,authentication,url', [
    ('https://wap.contoso.com', 'wap', 'windows', 'https://wap.contoso.com:30072/wstrust/issue/windowstransport'),
    ('https://wap.contoso.com:30071/', 'wap', 'usernamemixed', 'https://wap.contoso.com:30071/wstrust/issue/usernamemixed'),
    ('https://wap.contoso.com:30072/wstrust/issue/windowstransport', 'wap', 'windows',
     'https://wap.contoso.com:30072/wstrust/issue/windowstransport'),
    ('https://adfs.contoso.com', 'adfs', 'usernamemixed',
     'https://adfs.contoso.com:443/adfs/services/trust/13/usernamemixed'),
    ('https://adfs.contoso.com/adfs/services/trust/13/windowstransport', 'adfs', 'windows',
     'https://adfs.contoso.com:443/adfs/services/trust/13/windowstransport'),
    ('https://proxy.contoso.com/wap-auth', 'wap', 'windows', 'https://proxy.contoso.com:30072/wap-auth/wstrust/issue/windowstransport'),
])
def test_token_url(endpoint, site, authentication, url):
    assert token_url(endpoint, site, authentication) == url


@pytest.mark.parametrize('endpoint,says', [
    ('', 'endpoint is required'),
    ('wap.contoso.com', 'is not a URL'),
    ('http://wap.contoso.com:30072', 'must use https'),
    ('https://user:pw@wap.contoso.com', 'must not contain a user name or password'),
    ('https://wap.contoso.com?x=1', 'query string'),
    ('https://wap.contoso.com:30072/wstrust/issue/usernamemixed', 'is the usernamemixed endpoint, but authentication'
                                                                  ' is windows'),
])
def test_token_url_refuses(endpoint, says):
    with pytest.raises(ValidationError, match=says) as info:
        token_url(endpoint, 'wap', 'windows')
    assert info.value.details['option'] == 'endpoint'


# The admin API endpoint and the sign-in site share one https check; each says why in its own words.
@pytest.mark.parametrize('endpoint, api_says, sign_in_says', [
    ('', 'endpoint is required: the https URL of the WAP admin API, e.g. https://wap.contoso.com:30004',
     'endpoint is required: the https URL of the WAP authentication site, e.g. https://wap.contoso.com:30072'),
    ('wap.contoso.com', "endpoint 'wap.contoso.com' is not a URL: write it as https://wap.contoso.com (port 30004 when"
     " none is given)", "endpoint 'wap.contoso.com' is not a URL: write it as https://wap.contoso.com"),
    ('http://wap.contoso.com', "endpoint 'http://wap.contoso.com' must use https (the WAP admin API is served over TLS"
     " on port 30004)", "endpoint 'http://wap.contoso.com' must use https: the password or Windows sign-in must not"
     " cross the network in clear text"),
    ('https://u:p@wap.contoso.com', 'endpoint must not contain a user name or password; pass the token with the token'
     ' option', 'endpoint must not contain a user name or password; use the username and password options'),
    ('https://wap.contoso.com/a/../b', "endpoint 'https://wap.contoso.com/a/../b' has an invalid path",
     "endpoint 'https://wap.contoso.com/a/../b' has an invalid path"),
])
def test_https_endpoint_messages_per_caller(endpoint, api_says, sign_in_says):
    with pytest.raises(ValidationError) as api:
        parse_endpoint(endpoint)
    with pytest.raises(ValidationError) as sign_in:
        token_url(endpoint, 'wap', 'windows')
    assert (api.value.msg, sign_in.value.msg) == (api_says, sign_in_says)


@pytest.mark.parametrize('username,password,option', [
    ('', 'x', 'username'),
    (' CONTOSO\\wapadmin', 'x', 'username'),
    ('A\\B\\C', 'x', 'username'),
    ('CONTOSO\\wapadmin', '', 'password'),
    ('CONTOSO\\wapadmin', None, 'password'),
])
def test_credentials_checked(username, password, option):
    with pytest.raises(ValidationError) as info:
        check_credentials(username, password)
    assert info.value.details['option'] == option


def test_realm_checked():
    assert check_realm('http://azureservices/AdminSite') == 'http://azureservices/AdminSite'
    for bad in ('', 'AdminSite', 'http://azure services/x', ' http://x/'):
        with pytest.raises(ValidationError) as info:
            check_realm(bad)
        assert info.value.details['option'] == 'realm'
