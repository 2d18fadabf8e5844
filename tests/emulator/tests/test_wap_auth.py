"""WAP authentication site: WS-Trust 1.3 Issue over usernamemixed and over Windows transport (real NTLM), its faults,
and the JWT it issues being accepted by the WAP admin API."""

import base64
import datetime
import re
import uuid

import pytest
import spnego

ADMIN = "CONTOSO\\wapadmin"
REALM = "http://azureservices/AdminSite"
SOAP = "application/soap+xml; charset=utf-8"


def _stamp(delta_minutes=0.0):
    value = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(minutes=delta_minutes)
    return value.strftime("%Y-%m-%dT%H:%M:%S.000Z")


def rst(to, realm=REALM, username=None, password=None, created=None, expires=None,
        key_type="http://docs.oasis-open.org/ws-sx/ws-trust/200512/Bearer", token_type="urn:ietf:params:oauth:token-type:jwt",
        action="http://docs.oasis-open.org/ws-sx/ws-trust/200512/RST/Issue"):
    security = ""
    if username is not None:
        security = (
            '<o:Security s:mustUnderstand="1" xmlns:o="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd">'
            '<u:Timestamp u:Id="_0"><u:Created>%s</u:Created><u:Expires>%s</u:Expires></u:Timestamp>'
            '<o:UsernameToken u:Id="uuid-1"><o:Username>%s</o:Username>'
            '<o:Password Type="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-username-token-profile-1.0#PasswordText">%s</o:Password>'
            '</o:UsernameToken></o:Security>' % (created or _stamp(), expires or _stamp(5), username, password))
    return (
        '<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope" xmlns:a="http://www.w3.org/2005/08/addressing"'
        ' xmlns:u="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd"><s:Header>'
        '<a:Action s:mustUnderstand="1">%s</a:Action><a:MessageID>urn:uuid:%s</a:MessageID>'
        '<a:To s:mustUnderstand="1">%s</a:To>%s</s:Header><s:Body>'
        '<trust:RequestSecurityToken xmlns:trust="http://docs.oasis-open.org/ws-sx/ws-trust/200512">'
        '<wsp:AppliesTo xmlns:wsp="http://schemas.xmlsoap.org/ws/2004/09/policy"><a:EndpointReference>'
        '<a:Address>%s</a:Address></a:EndpointReference></wsp:AppliesTo>'
        '<trust:KeyType>%s</trust:KeyType>'
        '<trust:RequestType>http://docs.oasis-open.org/ws-sx/ws-trust/200512/Issue</trust:RequestType>'
        '<trust:TokenType>%s</trust:TokenType></trust:RequestSecurityToken></s:Body></s:Envelope>'
        % (action, uuid.uuid4(), to, security, realm, key_type, token_type)).encode()


def _jwt_from(text):
    match = re.search(r"<o:BinarySecurityToken[^>]*>([^<]+)</o:BinarySecurityToken>", text)
    assert match, text
    return base64.b64decode(match.group(1)).decode()


def _subcode(text):
    match = re.search(r"<s:Subcode><s:Value[^>]*>[^:<]+:([^<]+)</s:Value>", text)
    return match.group(1) if match else None


def _metrics(c, token):
    return c.session.get(c.info["wap"] + "/addons/contoso-backup/metrics", headers={
        "Authorization": "Bearer " + token, "x-ms-principal-id": ADMIN},
        params={"startTime": _stamp(-60 * 24 * 3), "endTime": _stamp()})


def _mixed(c, path="/wstrust/issue/usernamemixed", **kwargs):
    url = c.info["wap_auth"] + path
    return c.session.post(url, data=rst(url, **kwargs), headers={"Content-Type": SOAP})


def test_usernamemixed_issues_a_jwt_the_admin_api_accepts(c):
    resp = _mixed(c, username=ADMIN, password="WapAdmin-Emu~0001")
    assert resp.status_code == 200, resp.text
    assert "RSTRC/IssueFinal" in resp.text and "urn:ietf:params:oauth:token-type:jwt" in resp.text
    token = _jwt_from(resp.text)
    header = token.split(".")[0]
    assert base64.urlsafe_b64decode(header + "=" * (-len(header) % 4)).startswith(b'{"typ":"JWT","alg":"RS256"')
    assert _metrics(c, token).status_code == 200
    adfs = _mixed(c, path="/adfs/services/trust/13/usernamemixed", username="wapadmin@contoso.com",
                  password="WapAdmin-Emu~0001")
    assert adfs.status_code == 200, adfs.text


@pytest.mark.parametrize("username,password", [(ADMIN, "wrong"), ("CONTOSO\\nobody", "WapAdmin-Emu~0001"), (ADMIN, "")])
def test_bad_credentials_fault(c, username, password):
    resp = _mixed(c, username=username, password=password)
    assert resp.status_code == 500
    assert _subcode(resp.text) == "FailedAuthentication"
    assert "ID3242" in resp.text


def test_wrong_realm_stale_timestamp_and_unsupported_types(c):
    wrong = _mixed(c, username=ADMIN, password="WapAdmin-Emu~0001", realm="http://azureservices/TenantSite")
    assert wrong.status_code == 500 and _subcode(wrong.text) == "InvalidScope" and "ID3082" in wrong.text
    adfs = _mixed(c, path="/adfs/services/trust/13/usernamemixed", username=ADMIN, password="WapAdmin-Emu~0001",
                  realm="urn:nowhere")
    assert adfs.status_code == 500 and "MSIS7007" in adfs.text
    stale = _mixed(c, username=ADMIN, password="WapAdmin-Emu~0001", created=_stamp(-30), expires=_stamp(-25))
    assert stale.status_code == 500 and _subcode(stale.text) == "MessageExpired" and "stale" in stale.text
    future = _mixed(c, username=ADMIN, password="WapAdmin-Emu~0001", created=_stamp(30), expires=_stamp(35))
    assert future.status_code == 500 and _subcode(future.text) == "MessageExpired"
    saml = _mixed(c, username=ADMIN, password="WapAdmin-Emu~0001", token_type="urn:oasis:names:tc:SAML:2.0:assertion")
    assert saml.status_code == 500 and _subcode(saml.text) == "InvalidRequest"
    symmetric = _mixed(c, username=ADMIN, password="WapAdmin-Emu~0001",
                       key_type="http://docs.oasis-open.org/ws-sx/ws-trust/200512/SymmetricKey")
    assert symmetric.status_code == 500 and _subcode(symmetric.text) == "InvalidRequest"
    action = _mixed(c, username=ADMIN, password="WapAdmin-Emu~0001", action="urn:other")
    assert action.status_code == 500 and _subcode(action.text) == "ActionNotSupported"
    url = c.info["wap_auth"] + "/wstrust/issue/usernamemixed"
    text_xml = c.session.post(url, data=rst(url, username=ADMIN, password="x"), headers={"Content-Type": "text/xml"})
    assert text_xml.status_code == 415


def _windows(c, username, password, protocol):
    url = c.info["wap_auth"] + "/wstrust/issue/windowstransport"
    body = rst(url)
    first = c.session.post(url, data=body, headers={"Content-Type": SOAP})
    assert first.status_code == 401
    assert "Negotiate" in first.headers["WWW-Authenticate"] and "NTLM" in first.headers["WWW-Authenticate"]
    context = spnego.client(username, password, hostname="127.0.0.1", service="HTTP", protocol=protocol)
    scheme = "Negotiate" if protocol == "negotiate" else "NTLM"
    out = context.step()
    resp = None
    for _leg in range(3):
        resp = c.session.post(url, data=body, headers={"Content-Type": SOAP,
                                                       "Authorization": "%s %s" % (scheme, base64.b64encode(out).decode())})
        challenge = resp.headers.get("WWW-Authenticate", "")
        if resp.status_code != 401 or not challenge.startswith(scheme + " "):
            break
        out = context.step(base64.b64decode(challenge.split(" ", 1)[1]))
    return resp


@pytest.mark.parametrize("protocol", ["ntlm", "negotiate"])
def test_windows_transport_ntlm(c, protocol):
    resp = _windows(c, ADMIN, "WapAdmin-Emu~0001", protocol)
    assert resp.status_code == 200, resp.text
    token = _jwt_from(resp.text)
    assert _metrics(c, token).status_code == 200


def test_windows_transport_refuses_a_wrong_password_and_a_bare_request(c):
    resp = _windows(c, ADMIN, "wrong", "ntlm")
    assert resp.status_code == 401 and resp.headers["WWW-Authenticate"] == "Negotiate, NTLM"
    url = c.info["wap_auth"] + "/wstrust/issue/windowstransport"
    bogus = c.session.post(url, data=rst(url), headers={"Content-Type": SOAP, "Authorization": "NTLM bm90LW50bG0="})
    assert bogus.status_code == 401
