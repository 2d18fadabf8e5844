# -*- coding: utf-8 -*-
# Copyright (c) azmon.metrics contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Sign-in: choose one credential from options, environment and files, then get tokens with azure-identity.

``resolve_auth`` is pure (options, environment and the credentials file in;
an ``AuthPlan`` out) and raises ``ConfigError`` for contradictory or
incomplete input before any network call.  ``TokenProvider`` turns a plan
into bearer tokens, importing ``azure.identity`` only when a token is needed.
"""

from __future__ import annotations

import configparser
import os
import shutil
import time
import traceback

from ansible_collections.azmon.metrics.plugins.module_utils._clouds import CLOUD_NAMES, cloud_settings, scope_for
from ansible_collections.azmon.metrics.plugins.module_utils._errors import AuthError, ConfigError, MissingLibraryError
from ansible_collections.azmon.metrics.plugins.module_utils._http import TokenSource
from ansible_collections.azmon.metrics.plugins.module_utils._jwt import claims as jwt_claims

AUTH_SOURCES = ('auto', 'secret', 'certificate', 'env', 'credential_file', 'workload_identity', 'msi', 'cli', 'access_token')
DEFAULT_CREDENTIAL_FILE = '~/.azure/credentials'

# Environment variables, azure.azcollection's name first, azure-identity's second.
ENV_NAMES = {
    'client_id': ('AZURE_CLIENT_ID',),
    'secret': ('AZURE_SECRET', 'AZURE_CLIENT_SECRET'),
    'tenant': ('AZURE_TENANT', 'AZURE_TENANT_ID'),
    'subscription_id': ('AZURE_SUBSCRIPTION_ID',),
    'profile': ('AZURE_PROFILE',),
    'cloud_environment': ('AZURE_CLOUD_ENVIRONMENT',),
    'authority_host': ('AZURE_AUTHORITY_HOST',),
    'x509_certificate_path': ('AZURE_CLIENT_CERTIFICATE_PATH',),
    'x509_certificate_password': ('AZURE_CLIENT_CERTIFICATE_PASSWORD',),
    'federated_token_file': ('AZURE_FEDERATED_TOKEN_FILE',),
    # This collection's own names for what Azure's tools have none for: endpoints and the CA of a private or local
    # cloud (the emulator writes them to build/emulator/env.sh), so that one shell setting points every module there.
    'arm_endpoint': ('AZMON_ARM_ENDPOINT',),
    'graph_endpoint': ('AZMON_GRAPH_ENDPOINT',),
    'ingestion_endpoint': ('AZMON_INGESTION_ENDPOINT',),
    'disable_instance_discovery': ('AZMON_DISABLE_INSTANCE_DISCOVERY',),
    'ca_path': ('AZMON_CA_PATH',),
}
TRUE_WORDS = ('1', 'true', 'yes', 'on')
FALSE_WORDS = ('0', 'false', 'no', 'off')
MSI_ENV = ('IDENTITY_ENDPOINT', 'MSI_ENDPOINT')
# The options that belong to one sign-in source; an auth_source other than auto ignores those of the others.
SOURCE_OPTIONS = {
    'secret': ('secret',),
    'certificate': ('x509_certificate_path', 'x509_certificate_password'),
    'credential_file': ('profile',),
    'workload_identity': ('federated_token_file',),
    'access_token': ('access_token',),
}
# The options that choose their source when auth_source=auto (in the order messages name them).
EXPLICIT_OPTIONS = {
    'secret': 'secret',
    'x509_certificate_path': 'certificate',
    'access_token': 'access_token',
    'federated_token_file': 'workload_identity',
    'profile': 'credential_file',
}


class AuthPlan:
    """One chosen way to sign in, with where each value came from (for messages)."""

    def __init__(self, kind, origin, cloud, client_id=None, tenant=None, secret=None, certificate_path=None,
                 certificate_password=None, token_file=None, access_token=None, subscription_id=None,
                 disable_instance_discovery=False):
        self.kind = kind            # secret | certificate | workload_identity | msi | cli | access_token
        self.origin = origin        # e.g. "options", "environment", "credentials file profile 'default'"
        self.cloud = cloud          # the dict from cloud_settings()
        self.client_id = client_id
        self.tenant = tenant
        self.secret = secret
        self.certificate_path = certificate_path
        self.certificate_password = certificate_password
        self.token_file = token_file
        self.access_token = access_token
        self.subscription_id = subscription_id
        self.disable_instance_discovery = disable_instance_discovery

    @property
    def secrets(self):
        """Values that must never be shown, wherever they came from."""
        return [v for v in (self.secret, self.certificate_password, self.access_token) if v]

    def describe(self):
        who = ' as client %s' % self.client_id if self.client_id else ''
        return '%s from %s%s' % (self.kind, self.origin, who)


def _env(environ, field):
    """The value of ``field`` from the environment, reading both naming schemes; they must agree."""
    found = [(name, environ[name]) for name in ENV_NAMES[field] if environ.get(name)]
    values = {value for _name, value in found}
    if len(values) > 1:
        raise ConfigError('environment variables %s are both set, to different values; unset one'
                          % ' and '.join(name for name, _value in found))
    return found[0][1] if found else None


def env_flag(environ, field):
    """A boolean from the environment (``true``/``false``, ``1``/``0``, ``yes``/``no``, ``on``/``off``)."""
    value = _env(environ, field)
    if value is None or value.strip().lower() in FALSE_WORDS:
        return False
    if value.strip().lower() in TRUE_WORDS:
        return True
    raise ConfigError('%s: %r is not a boolean; use true or false' % (ENV_NAMES[field][0], value),
                      option=field)


def env_ca_path(params, environ):
    """``ca_path``, else ``AZMON_CA_PATH`` (``REQUESTS_CA_BUNDLE`` is read later, where every connection reads it)."""
    return params.get('ca_path') or _env(environ, 'ca_path')


def read_credential_file(path, profile):
    """The ``[profile]`` section of an azure.azcollection credentials file, or ``None`` when absent."""
    path = os.path.expanduser(path)
    if not os.path.isfile(path):
        return None
    parser = configparser.ConfigParser(interpolation=None)
    try:
        parser.read(path, encoding='utf-8')
    except (configparser.Error, UnicodeDecodeError) as exc:
        raise ConfigError('cannot read the credentials file %s: %s' % (path, exc.__class__.__name__)) from None
    if not parser.has_section(profile):
        return None
    return dict(parser.items(profile))


def resolve_auth(params, environ=None, credential_file=DEFAULT_CREDENTIAL_FILE, which=shutil.which):
    """Choose the sign-in described by ``params`` (module options), ``environ`` and the credentials file.

    Precedence: an ``auth_source`` other than ``auto`` names the source, and
    the credential options of every other source are ignored.  ``auto`` takes
    the credential option given (two of them are refused, naming both), else
    the environment, the credentials file, a federated token file named by the
    environment, a managed identity, the Azure CLI.  Raises ``ConfigError``
    naming the options when they contradict each other or are incomplete.
    Does no network call.
    """
    environ = os.environ if environ is None else environ
    p = {k: (v if v != '' else None) for k, v in params.items()}
    source = p.get('auth_source') or 'auto'
    if source not in AUTH_SOURCES:
        raise ConfigError('auth_source: %r is not one of %s' % (source, ', '.join(AUTH_SOURCES)), option='auth_source')
    if source == 'auto':
        chosen = _explicit_source(p)
    else:
        chosen = source
        # The options of the other sources are not used; dropping them keeps them out of every later decision.
        for other, options in SOURCE_OPTIONS.items():
            if other != source:
                for name in options:
                    p[name] = None

    profile_name = p.get('profile') or _env(environ, 'profile') or 'default'
    profile = None
    if chosen in ('auto', 'credential_file'):
        profile = read_credential_file(credential_file, profile_name)
        if profile is None and chosen == 'credential_file':
            raise ConfigError("profile: no section [%s] in the credentials file %s" % (profile_name, credential_file),
                              option='profile')

    cloud_name = p.get('cloud_environment')
    cloud_origin = 'cloud_environment'
    if not cloud_name:
        cloud_name, cloud_origin = _env(environ, 'cloud_environment'), 'AZURE_CLOUD_ENVIRONMENT'
    if not cloud_name and profile:
        cloud_name, cloud_origin = profile.get('cloud_environment'), 'cloud_environment in the credentials file'
    if cloud_name and cloud_name not in CLOUD_NAMES:
        raise ConfigError('%s: unknown cloud %r; use one of %s' % (cloud_origin, cloud_name, ', '.join(CLOUD_NAMES)),
                          option='cloud_environment')
    authority = p.get('authority_host') or _env(environ, 'authority_host')
    if authority and '://' not in authority:
        authority = 'https://' + authority
    overrides = {k: p.get(k) or (_env(environ, k) if k in ENV_NAMES else None)
                 for k in ('arm_endpoint', 'graph_endpoint', 'ingestion_endpoint', 'ingestion_audience')}
    overrides['authority_host'] = authority
    cloud = cloud_settings(cloud_name, overrides)

    def plan(kind, origin, **kw):
        kw.setdefault('subscription_id', p.get('subscription_id') or _env(environ, 'subscription_id')
                      or (profile or {}).get('subscription_id'))
        return AuthPlan(kind, origin, cloud, disable_instance_discovery=bool(p.get('disable_instance_discovery'))
                        or env_flag(environ, 'disable_instance_discovery'), **kw)

    if chosen == 'access_token':
        if not p.get('access_token'):
            raise ConfigError('auth_source=access_token needs the access_token option', option='access_token')
        return plan('access_token', 'options', access_token=p['access_token'])
    if chosen == 'msi':
        return plan('msi', 'options', client_id=p.get('client_id'))
    if chosen == 'cli':
        return plan('cli', 'options', tenant=p.get('tenant'))
    if chosen in ('secret', 'certificate'):
        option = 'secret' if chosen == 'secret' else 'x509_certificate_path'
        if p.get(option):
            return _service_principal(plan, p, environ, 'options', p)
        env_creds = {option: _env(environ, option)}
        if chosen == 'certificate':
            env_creds['x509_certificate_password'] = p.get('x509_certificate_password')
        if not env_creds[option]:
            raise ConfigError('auth_source=%s needs the %s option (or %s)'
                              % (chosen, option, ' or '.join(ENV_NAMES[option])), option=option)
        return _service_principal(plan, p, environ, 'environment', env_creds)
    if chosen in ('auto', 'env'):
        env_creds = {k: _env(environ, k) for k in ('secret', 'x509_certificate_path', 'x509_certificate_password')}
        if env_creds['secret'] or env_creds['x509_certificate_path']:
            return _service_principal(plan, p, environ, 'environment', env_creds)
        if chosen == 'env':
            raise ConfigError('auth_source=env: set AZURE_CLIENT_ID, AZURE_TENANT (or AZURE_TENANT_ID) and either'
                              ' AZURE_SECRET (or AZURE_CLIENT_SECRET) or AZURE_CLIENT_CERTIFICATE_PATH')
    if profile is not None:
        return _from_profile(plan, profile, profile_name, credential_file)
    token_file = p.get('federated_token_file') or _env(environ, 'federated_token_file')
    if token_file:
        client_id, tenant = _identity(p, environ, 'workload identity')
        return plan('workload_identity', 'options' if p.get('federated_token_file') else 'environment',
                    client_id=client_id, tenant=tenant, token_file=token_file)
    if chosen == 'workload_identity':
        raise ConfigError('auth_source=workload_identity needs federated_token_file (or AZURE_FEDERATED_TOKEN_FILE),'
                          ' client_id and tenant', option='federated_token_file')
    if any(environ.get(name) for name in MSI_ENV):
        return plan('msi', 'environment (%s)' % '/'.join(n for n in MSI_ENV if environ.get(n)), client_id=p.get('client_id'))
    if which('az'):
        return plan('cli', 'Azure CLI found on PATH', tenant=p.get('tenant'))
    raise ConfigError(
        'No Azure credentials found. auth_source=auto looked for: the secret, x509_certificate_path, access_token or'
        ' federated_token_file options; AZURE_SECRET/AZURE_CLIENT_SECRET or AZURE_CLIENT_CERTIFICATE_PATH in the'
        ' environment; profile [%s] in %s; AZURE_FEDERATED_TOKEN_FILE; IDENTITY_ENDPOINT/MSI_ENDPOINT; the az command.'
        ' On an Azure VM with a managed identity set auth_source=msi.' % (profile_name, credential_file),
        option='auth_source')


def _explicit_source(p):
    """The source that ``auth_source=auto`` takes from the credential options, or ``'auto'`` when none is given.

    Two credential options of different sources are ambiguous and refused, naming both: a play's
    ``module_defaults`` may set one of them, and ``auth_source`` then says which to use.
    """
    given = [name for name in EXPLICIT_OPTIONS if p.get(name)]
    if p.get('x509_certificate_password') and not p.get('x509_certificate_path') and given:
        # the certificate's password without its path, beside another source: a play's module_defaults may give it
        given.append('x509_certificate_password')
    if len(given) > 1:
        raise ConfigError('%s are different sign-in sources; give only one of them, or choose one with auth_source'
                          ' (for example when a play\'s module_defaults set the other)' % ' and '.join(given),
                          options=given)
    if p.get('x509_certificate_password') and not p.get('x509_certificate_path'):
        raise ConfigError('x509_certificate_password is set but x509_certificate_path is not',
                          option='x509_certificate_password')
    if not given:
        return 'auto'
    return EXPLICIT_OPTIONS[given[0]]


def _identity(p, environ, what):
    client_id = p.get('client_id') or _env(environ, 'client_id')
    tenant = p.get('tenant') or _env(environ, 'tenant')
    missing = [name for name, value in (('client_id (or AZURE_CLIENT_ID)', client_id),
                                        ('tenant (or AZURE_TENANT / AZURE_TENANT_ID)', tenant)) if not value]
    if missing:
        raise ConfigError('%s sign-in needs %s' % (what, ' and '.join(missing)),
                          options=[m.split(' ')[0] for m in missing])
    return client_id, tenant


def _service_principal(plan, p, environ, origin, creds):
    if creds.get('secret'):
        client_id, tenant = _identity(p, environ, 'client secret')
        return plan('secret', origin, client_id=client_id, tenant=tenant, secret=creds['secret'])
    client_id, tenant = _identity(p, environ, 'certificate')
    path = os.path.expanduser(creds['x509_certificate_path'])
    return plan('certificate', origin, client_id=client_id, tenant=tenant, certificate_path=path,
                certificate_password=creds.get('x509_certificate_password') or _env(environ, 'x509_certificate_password'))


def _from_profile(plan, profile, name, path):
    origin = "credentials file %s profile [%s]" % (path, name)
    missing = [k for k in ('client_id', 'secret', 'tenant') if not profile.get(k)]
    if missing:
        raise ConfigError('%s lacks %s' % (origin, ', '.join(missing)), option='profile')
    return plan('secret', origin, client_id=profile['client_id'], tenant=profile['tenant'], secret=profile['secret'],
                subscription_id=profile.get('subscription_id'))


def _read_local(path, option, what):
    """The bytes of ``path``, or ``ConfigError`` naming ``option`` with the reason (missing, a directory, unreadable)."""
    try:
        if not os.path.exists(path):
            raise ConfigError('%s: %s does not exist' % (option, path), option=option)
        if os.path.isdir(path):
            raise ConfigError('%s: %s is a directory; give the %s file' % (option, path, what), option=option)
        with open(path, 'rb') as handle:
            return handle.read()
    except UnicodeError:
        raise ConfigError('%s: %r cannot be used as a file name on this system' % (option, path), option=option) from None
    except OSError as exc:
        raise ConfigError('%s: cannot read %s: %s' % (option, path, exc.strerror or exc.__class__.__name__),
                          option=option) from None


def _import_crypto():
    try:
        from cryptography import x509  # pylint: disable=import-outside-toplevel
        from cryptography.hazmat.primitives import serialization  # pylint: disable=import-outside-toplevel
        from cryptography.hazmat.primitives.serialization import pkcs12  # pylint: disable=import-outside-toplevel
    except ImportError:
        raise MissingLibraryError('cryptography', traceback=traceback.format_exc()) from None
    return x509, serialization, pkcs12


def check_certificate(data, password, option='x509_certificate_path', password_option='x509_certificate_password'):
    """Refuse a client certificate azure-identity could not use: PEM with a private key and a certificate, or PKCS#12.

    Reads it as azure-identity's ``CertificateCredential`` does, with no network call.
    """
    x509, serialization, pkcs12 = _import_crypto()
    secret = password.encode('utf-8') if isinstance(password, str) else password
    if b'-----BEGIN' in data:
        if b'PRIVATE KEY-----' not in data:
            raise ConfigError('%s: the PEM file holds no private key; give the private key and the certificate in one'
                              ' file' % option, option=option)
        try:
            x509.load_pem_x509_certificate(data)
        except ValueError:
            raise ConfigError('%s: the PEM file holds no readable certificate; give the private key and the'
                              ' certificate in one file' % option, option=option) from None
        try:
            serialization.load_pem_private_key(data, password=secret)
        except TypeError:
            if secret:
                raise ConfigError('%s is set but the private key in %s is not encrypted; remove it'
                                  % (password_option, option), option=password_option) from None
            raise ConfigError('%s: the private key is encrypted; set %s' % (option, password_option),
                              option=password_option) from None
        except ValueError:
            raise ConfigError('%s: the private key cannot be read (a wrong %s, or not a private key)'
                              % (option, password_option), option=option) from None
        return
    try:
        key, cert, _extra = pkcs12.load_key_and_certificates(data, secret)
    except (ValueError, TypeError):
        raise ConfigError('%s: neither a PEM file (private key and certificate) nor a PKCS#12 file that %s opens'
                          % (option, password_option), option=option) from None
    if key is None or cert is None:
        raise ConfigError('%s: the PKCS#12 file must hold a private key and its certificate' % option, option=option)


def check_local_files(plan):
    """Check every file the sign-in plan will read, before any network call; ``ConfigError`` naming the option."""
    origin_env = plan.origin == 'environment'
    if plan.kind == 'certificate':
        option = 'AZURE_CLIENT_CERTIFICATE_PATH' if origin_env else 'x509_certificate_path'
        data = _read_local(plan.certificate_path, option, 'certificate')
        check_certificate(data, plan.certificate_password, option,
                          'AZURE_CLIENT_CERTIFICATE_PASSWORD' if origin_env else 'x509_certificate_password')
    elif plan.kind == 'workload_identity':
        option = 'AZURE_FEDERATED_TOKEN_FILE' if origin_env else 'federated_token_file'
        data = _read_local(plan.token_file, option, 'token')
        try:
            text = data.decode('ascii').strip()
        except UnicodeDecodeError:
            raise ConfigError('%s: %s is not a token (it holds non-ASCII bytes)' % (option, plan.token_file),
                              option=option) from None
        if not text:
            raise ConfigError('%s: %s is empty; the workload identity token is written there by the CI system or'
                              ' Kubernetes' % (option, plan.token_file), option=option)


def _import_identity():
    try:
        from azure import identity  # pylint: disable=import-outside-toplevel
        from azure.core import exceptions as core_exceptions  # pylint: disable=import-outside-toplevel
        from azure.core.pipeline.transport import RequestsTransport  # pylint: disable=import-outside-toplevel
    except ImportError:
        raise MissingLibraryError('azure-identity', traceback=traceback.format_exc()) from None
    return identity, core_exceptions, RequestsTransport


class TokenProvider:
    """Bearer tokens for a plan, one ``TokenSource`` per audience, over the module's HTTP session."""

    def __init__(self, plan, http):
        self.plan = plan
        self.http = http
        self._sources = {}

    def source(self, audience):
        if audience not in self._sources:
            if self.plan.kind == 'access_token':
                self._sources[audience] = StaticTokenSource(self.plan.access_token)
            else:
                self._sources[audience] = CredentialTokenSource(self, scope_for(audience))
        return self._sources[audience]

    def new_credential(self):
        identity, _exceptions, transport_cls = _import_identity()
        plan = self.plan
        if plan.kind == 'cli':
            return identity.AzureCliCredential(tenant_id=plan.tenant) if plan.tenant else identity.AzureCliCredential()
        transport = transport_cls(session=self.http.session, session_owner=False, connection_verify=self.http.verify,
                                  connection_timeout=self.http.timeout, read_timeout=self.http.timeout)
        if plan.kind == 'msi':
            kwargs = {'client_id': plan.client_id} if plan.client_id else {}
            return identity.ManagedIdentityCredential(transport=transport, **kwargs)
        common = {
            'authority': plan.cloud['authority_host'],
            'disable_instance_discovery': plan.disable_instance_discovery,
            'transport': transport,
        }
        if plan.kind == 'secret':
            return identity.ClientSecretCredential(plan.tenant, plan.client_id, plan.secret, **common)
        if plan.kind == 'certificate':
            return identity.CertificateCredential(plan.tenant, plan.client_id, plan.certificate_path,
                                                  password=plan.certificate_password, **common)
        if plan.kind == 'workload_identity':
            return identity.WorkloadIdentityCredential(tenant_id=plan.tenant, client_id=plan.client_id,
                                                       token_file_path=plan.token_file, **common)
        raise ConfigError('internal: unknown sign-in kind %s' % plan.kind)


class StaticTokenSource(TokenSource):
    """A token obtained elsewhere (``access_token``): used as is, never refreshed."""

    def __init__(self, token):
        self._token = token

    def token(self):
        exp = jwt_claims(self._token).get('exp')
        if isinstance(exp, (int, float)) and exp < time.time():
            raise AuthError('access_token expired at %s; obtain a new one'
                            % time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime(exp)), option='access_token')
        return self._token

    def refresh(self):
        raise AuthError('the service refused access_token (HTTP 401) and a given token cannot be refreshed;'
                        ' check its audience and expiry', option='access_token')


class CredentialTokenSource(TokenSource):
    """Tokens from an azure-identity credential; ``refresh`` signs in anew, skipping every cache."""

    def __init__(self, provider, scope):
        self.provider = provider
        self.scope = scope
        self._credential = None
        self._token = None

    def token(self):
        if self._token is None or self._token.expires_on - 60 < time.time():
            self._token = self._get()
        return self._token.token

    def refresh(self):
        self._credential = None
        self._token = self._get()

    def _get(self):
        _identity_mod, core_exceptions, _transport = _import_identity()
        plan = self.provider.plan
        if self._credential is None:
            self._credential = self.provider.new_credential()
        try:
            return self._credential.get_token(self.scope)
        except core_exceptions.ServiceRequestError as exc:
            raise AuthError('cannot reach the sign-in endpoint %s (%s): %s%s' % (
                plan.cloud['authority_host'], plan.describe(), _first_line(exc), _tls_hint(exc)), auth=plan.kind) from None
        except core_exceptions.AzureError as exc:
            raise AuthError('sign-in failed (%s) for %s: %s%s' % (plan.describe(), self.scope, _first_line(exc),
                                                                  _tls_hint(exc)), auth=plan.kind) from None


def _tls_hint(exc):
    """What to do when the sign-in endpoint's certificate was refused (azure-identity wraps the SSL error)."""
    if 'CERTIFICATE_VERIFY_FAILED' not in str(exc):
        return ''
    return ('. TLS verification of the sign-in endpoint failed: set ca_path to the CA bundle that signs it, or'
            ' validate_certs=false (not recommended)')


def _first_line(exc):
    text = str(getattr(exc, 'message', None) or exc).strip()
    return text.splitlines()[0] if text else exc.__class__.__name__
