#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) azmon.metrics contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r'''
module: wap_token
short_description: Get a Windows Azure Pack admin API token from a Linux controller
description:
  - Signs in to the Windows Azure Pack (WAP) authentication site, or to AD FS when WAP is federated with it, and
    returns the JSON Web Token (JWT) that the WAP Service Management admin API accepts, with its expiry. This is
    what C(Get-MgmtSvcToken) does in PowerShell, without Windows.
  - Speaks WS-Trust 1.3 (an C(Issue) request for a bearer token of type C(urn:ietf:params:oauth:token-type:jwt)
    for the relying party O(realm)). With O(authentication=windows) the HTTP connection is authenticated with
    Negotiate or NTLM (Windows transport security); with O(authentication=usernamemixed) the user name and
    password travel in the SOAP message over TLS.
  - 'The token is returned in RV(token) only when the task runs with C(no_log: true): a result without C(no_log)
    is shown with C(-v), stored by AWX and Automation Platform job events and written to callback logs. Without
    C(no_log) the task fails before anything is sent.'
  - Pass the registered result (or its RV(token)) to the O(azmon.metrics.addon_metrics_info#module:token) option of
    M(azmon.metrics.addon_metrics_info).
  - Windows Azure Pack's extended support ends on 2027-01-12. This module belongs to the collection's WAP bridge
    and will be removed with it.
version_added: 0.2.0
author:
  - azmon.metrics contributors (!UNKNOWN)
extends_documentation_fragment:
  - azmon.metrics.attributes.info_module
options:
  endpoint:
    description:
      - The https URL of the token service, for example V(https://wap.contoso.com:30072) (the WAP admin Windows
        authentication site) or V(https://adfs.contoso.com) (AD FS).
      - The WS-Trust path is added from O(site) and O(authentication); a URL that already ends in that path is
        used as it is. Port 30072 (O(site=wap)) or 443 (O(site=adfs)) is used when the URL has none.
    type: str
    required: true
  site:
    description:
      - V(wap) is WAP's own authentication site (C(/wstrust/issue/windowstransport) or
        C(/wstrust/issue/usernamemixed)).
      - V(adfs) is AD FS, for a WAP federated with it (C(/adfs/services/trust/13/windowstransport) or
        C(/adfs/services/trust/13/usernamemixed)).
    type: str
    choices: [wap, adfs]
    default: wap
  authentication:
    description:
      - V(windows) authenticates the connection with Negotiate or NTLM (see O(windows_protocol)); this is how the
        WAP admin authentication site signs in. Needs the Python library C(pyspnego).
      - V(usernamemixed) sends the user name and password in a WS-Security C(UsernameToken) in the message, over
        TLS; AD FS and the WAP tenant authentication site offer it.
    type: str
    choices: [windows, usernamemixed]
    default: windows
  windows_protocol:
    description:
      - With O(authentication=windows), V(negotiate) uses Negotiate (Kerberos when available, else NTLM) when the
        site offers it, and V(ntlm) uses NTLM.
    type: str
    choices: [negotiate, ntlm]
    default: negotiate
  username:
    description:
      - The Windows account, as V(CONTOSO\\wapadmin) or V(wapadmin@contoso.com).
    type: str
    required: true
  password:
    description:
      - The account's password.
    type: str
    required: true
  realm:
    description:
      - The relying party the token is for (the C(AppliesTo) of the request).
      - V(http://azureservices/AdminSite) is the WAP admin API; V(http://azureservices/TenantSite) the tenant API.
    type: str
    default: http://azureservices/AdminSite
  validate_certs:
    description:
      - Whether to check the TLS certificate of O(endpoint).
      - WAP's certificates are often self-signed; prefer O(ca_path) to turning this off. V(false) gives a warning.
    type: bool
    default: true
  ca_path:
    description:
      - A CA bundle file (PEM), or a directory of hashed CA certificates, to check the certificate of O(endpoint).
    type: path
  timeout:
    description:
      - Seconds to wait for the connection and for each read.
    type: float
    default: 30.0
notes:
  - Check mode checks the options and sends nothing; the result says so in RV(msg).
  - The token service decides the token's lifetime; RV(expires_on) comes from the token's C(exp) claim.
  - A refusal names what to fix; bad credentials (the site's C(ID3242) fault, or HTTP 401 after Windows sign-in)
    name O(password), an unknown relying party names O(realm), and a stale request says to synchronise the clocks.
requirements:
  - requests >= 2.25.0
  - pyspnego (only for O(authentication=windows))
seealso:
  - module: azmon.metrics.addon_metrics_info
'''

EXAMPLES = r'''
# Variables the examples use:
#   vault_wap_password: the WAP administrator's password (keep it in a vault)

- name: Get a WAP admin API token from the admin authentication site (Windows sign-in)
  azmon.metrics.wap_token:
    endpoint: https://wap-auth.contoso.com:30072
    username: CONTOSO\wapadmin
    password: "{{ vault_wap_password }}"
    ca_path: /etc/pki/wap-ca.pem
  register: wap_login
  no_log: true

- name: Read an add-on's metrics with it
  azmon.metrics.addon_metrics_info:
    endpoint: https://wap.contoso.com:30004
    addon_id: contoso-backup
    token: "{{ wap_login }}"
    principal_id: CONTOSO\wapadmin
    ca_path: /etc/pki/wap-ca.pem
  register: wap_metrics

- name: WAP federated with AD FS (user name and password in the message)
  azmon.metrics.wap_token:
    endpoint: https://adfs.contoso.com
    site: adfs
    authentication: usernamemixed
    username: wapadmin@contoso.com
    password: "{{ vault_wap_password }}"
    ca_path: /etc/pki/wap-ca.pem
  register: wap_login
  no_log: true
'''

RETURN = r'''
token:
  description:
    - The JWT, to send as a bearer token. Sensitive.
    - Returned only when the task runs with C(no_log=true).
  returned: success, when the task has C(no_log) set and not in check mode
  type: str
expires_on:
  description: When the token expires, UTC ISO 8601.
  returned: success, not in check mode
  type: str
  sample: "2026-12-03T19:30:00Z"
expires_in:
  description: Seconds until the token expires.
  returned: success, not in check mode
  type: int
  sample: 3600
token_type:
  description: Always C(Bearer).
  returned: success, not in check mode
  type: str
  sample: Bearer
issuer:
  description: The token's C(iss) claim.
  returned: success, not in check mode
  type: str
  sample: http://azureservices/AdminSite
audience:
  description: The token's C(aud) claim.
  returned: success, not in check mode
  type: str
  sample: http://azureservices/AdminSite
subject:
  description: Who the token is for (its C(upn), C(unique_name), C(email) or C(sub) claim).
  returned: success, not in check mode
  type: str
  sample: CONTOSO\wapadmin
token_endpoint:
  description: The WS-Trust URL asked (or, in check mode, that would be asked).
  returned: always
  type: str
  sample: https://wap.contoso.com:30072/wstrust/issue/windowstransport
msg:
  description:
    - One line saying what happened, without the token; in check mode, that nothing was sent.
  returned: success
  type: str
  sample: token issued by https://wap-auth.contoso.com/wstrust/issue/usernamemixed, expires 2026-12-03T19:30:00Z
'''

from ansible_collections.azmon.metrics.plugins.module_utils._errors import AzmonError, ValidationError
from ansible_collections.azmon.metrics.plugins.module_utils._http import HttpClient, check_connection, check_timeout
from ansible_collections.azmon.metrics.plugins.module_utils._module import run_module
from ansible_collections.azmon.metrics.plugins.module_utils._wap_auth import (
    ADMIN_REALM,
    AUTHENTICATIONS,
    SITES,
    WINDOWS_PROTOCOLS,
    WsTrustClient,
    check_credentials,
    check_realm,
    import_spnego,
    token_url,
)

ARGUMENT_SPEC = {
    'endpoint': {'type': 'str', 'required': True},
    'site': {'type': 'str', 'default': 'wap', 'choices': list(SITES)},
    'authentication': {'type': 'str', 'default': 'windows', 'choices': list(AUTHENTICATIONS)},
    'windows_protocol': {'type': 'str', 'default': 'negotiate', 'choices': list(WINDOWS_PROTOCOLS)},
    'username': {'type': 'str', 'required': True},
    'password': {'type': 'str', 'required': True, 'no_log': True},
    'realm': {'type': 'str', 'default': ADMIN_REALM},
    'validate_certs': {'type': 'bool', 'default': True},
    'ca_path': {'type': 'path'},
    'timeout': {'type': 'float', 'default': 30.0},
}


def check_options(params, no_log):
    """Everything that needs no network; returns the WS-Trust URL. Raises ``ValidationError``."""
    url = token_url(params['endpoint'], params['site'], params['authentication'])
    check_credentials(params['username'], params['password'])
    check_realm(params['realm'])
    check_timeout(params['timeout'])
    check_connection(url, params['validate_certs'], params['ca_path'])
    if not no_log:
        raise ValidationError(
            'the token could only be returned in the task result, which is logged: run this task with'
            ' "no_log: true" and register its result', option='no_log')
    return url


def run(module):
    params = module.params
    url = check_options(params, no_log=bool(module.no_log))
    if params['authentication'] == 'windows':
        import_spnego()
    result = {'changed': False, 'token_endpoint': url}
    if module.check_mode:
        result['msg'] = 'check mode: no token was requested from %s' % url
        return result
    if not params['validate_certs']:
        module.warn('validate_certs is false: the certificate of %s is not checked, so the password or Windows sign-in'
                    ' could go to an impostor. Set ca_path to the CA that signs it instead.' % url)
    http = HttpClient(validate_certs=params['validate_certs'], ca_path=params['ca_path'],
                      timeout=check_timeout(params['timeout']), log=module.debug)
    client = WsTrustClient(http, url, params['realm'], params['username'], params['password'],
                           authentication=params['authentication'], windows_protocol=params['windows_protocol'],
                           site=params['site'])
    try:
        issued = client.issue()
    except AzmonError as exc:
        exc.details.setdefault('token_endpoint', url)
        raise
    if params['password'] in issued.token:
        # Ansible masks every no_log value in the result, substrings too: a password that happens to occur in
        # the token must not corrupt it. The task runs with no_log, and the result holds no password.
        module.no_log_values.discard(params['password'])
    result.update(issued.describe())
    result['msg'] = 'token issued by %s, expires %s' % (url, result['expires_on'])
    result['token'] = issued.token
    return result


def main():
    run_module(ARGUMENT_SPEC, run, supports_check_mode=True)


if __name__ == '__main__':
    main()
