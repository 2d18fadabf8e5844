# -*- coding: utf-8 -*-
# Copyright (c) azmon.metrics contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The Ansible side of the collection: shared option groups, and the one place errors become ``fail_json``."""

from __future__ import annotations

import os

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.azmon.metrics.plugins.module_utils._auth import (
    AUTH_SOURCES,
    TokenProvider,
    check_local_files,
    env_ca_path,
    resolve_auth,
)
from ansible_collections.azmon.metrics.plugins.module_utils._clouds import CLOUD_NAMES
from ansible_collections.azmon.metrics.plugins.module_utils._errors import AzmonError, MissingLibraryError
from ansible_collections.azmon.metrics.plugins.module_utils._http import HttpClient, check_connection, check_timeout

VALIDATE_CERTS_WARNING = ('validate_certs is false: TLS certificates are not checked, so secrets and tokens could be'
                          ' sent to an impostor. Set ca_path to the CA bundle that signs the endpoints instead.')


def auth_argspec():
    """Sign-in, cloud and connection options shared by every Azure-facing module (doc fragment ``auth``)."""
    return {
        'auth_source': {'type': 'str', 'default': 'auto', 'choices': list(AUTH_SOURCES)},
        'client_id': {'type': 'str'},
        'secret': {'type': 'str', 'no_log': True},
        'tenant': {'type': 'str'},
        'subscription_id': {'type': 'str'},
        'x509_certificate_path': {'type': 'path'},
        'x509_certificate_password': {'type': 'str', 'no_log': True},
        'federated_token_file': {'type': 'path'},
        'access_token': {'type': 'str', 'no_log': True},
        'profile': {'type': 'str'},
        'cloud_environment': {'type': 'str', 'choices': list(CLOUD_NAMES)},
        'authority_host': {'type': 'str'},
        'disable_instance_discovery': {'type': 'bool', 'default': False},
        'arm_endpoint': {'type': 'str'},
        'graph_endpoint': {'type': 'str'},
        'ingestion_endpoint': {'type': 'str'},
        'ingestion_audience': {'type': 'str'},
        'validate_certs': {'type': 'bool', 'default': True},
        'ca_path': {'type': 'path'},
        'timeout': {'type': 'float', 'default': 30.0},
    }


class AzureContext:
    """What one module run needs to talk to Azure: the sign-in plan, the cloud, one HTTP session, tokens.

    Built from the module's options; every secret the plan holds, and every
    token issued, is registered with ``register_secret`` so that Ansible masks
    it in any output.
    """

    def __init__(self, params, environ=None, register_secret=None, log=None, warn=None):
        self.register_secret = register_secret or (lambda value: None)
        self.environ = os.environ if environ is None else environ
        timeout = check_timeout(params.get('timeout', 30.0))
        self.plan = resolve_auth(params, environ=self.environ)
        for value in self.plan.secrets:
            self.register_secret(value)
        self.cloud = self.plan.cloud
        self.http = HttpClient(validate_certs=params.get('validate_certs', True),
                               ca_path=env_ca_path(params, self.environ),
                               timeout=timeout, log=log)
        self.tokens = TokenProvider(self.plan, self.http)
        self.validate_local()
        if not self.http.validate_certs and warn is not None:
            warn(VALIDATE_CERTS_WARNING)

    def validate_local(self):
        """Check every local file and setting the connections will use, with no network call.

        The CA bundle (``ca_path``, else ``REQUESTS_CA_BUNDLE``/``CURL_CA_BUNDLE``),
        the proxy settings, the client certificate and the federated token file:
        each problem is a ``ConfigError`` naming the option (or variable).
        """
        for key in ('authority_host', 'arm_endpoint', 'graph_endpoint'):
            if self.cloud.get(key):
                check_connection(self.cloud[key], self.http.validate_certs, self.http.ca_path, self.environ)
        check_local_files(self.plan)

    def token_source(self, audience_key):
        """The token source for ``arm_audience``, ``graph_audience`` or ``ingestion_audience``."""
        return _Registering(self.tokens.source(self.cloud[audience_key]), self.register_secret)


class _Registering:
    """Wraps a token source so every token handed out is registered as a secret first."""

    def __init__(self, source, register):
        self._source = source
        self._register = register

    def token(self):
        value = self._source.token()
        self._register(value)
        return value

    def refresh(self):
        self._source.refresh()


def azure_context(module):
    """The ``AzureContext`` for an ``AnsibleModule`` built with ``auth_argspec()``."""
    return AzureContext(module.params, register_secret=module.no_log_values.add, log=module.debug, warn=module.warn)


def run_module(argument_spec, work, supports_check_mode=True, **kwargs):
    """Build the module, call ``work(module)`` for the result dict, and turn our errors into ``fail_json``.

    This is the only place where an exception becomes a failed task.
    """
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=supports_check_mode, **kwargs)
    try:
        result = work(module)
    except MissingLibraryError as exc:
        module.fail_json(msg=missing_required_lib(exc.library), exception=exc.traceback)
    except AzmonError as exc:
        module.fail_json(**exc.to_result())
    module.exit_json(**result)
