# -*- coding: utf-8 -*-
# Copyright (c) azmon.metrics contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


class ModuleDocFragment:
    # Matches plugins/module_utils/_module.py auth_argspec() exactly.
    DOCUMENTATION = r'''
options:
  auth_source:
    description:
      - How to sign in to Microsoft Entra ID, and which sign-in options count.
      - Any value other than V(auto) names the source to use; the credential options that belong to the other
        sources (O(secret), O(x509_certificate_path) and O(x509_certificate_password), O(federated_token_file),
        O(access_token), O(profile)) are then ignored, never sent and never refused. This lets a task choose its
        own sign-in over the one a play sets with C(module_defaults).
      - V(auto) takes the first source that is configured, in this order, and never probes the network to
        find one. Explicit options first (O(secret), O(x509_certificate_path), O(access_token),
        O(federated_token_file) or O(profile)); giving two of them fails naming both, since nothing says which
        was meant; set O(auth_source) to choose. Then the environment (E(AZURE_SECRET) or
        E(AZURE_CLIENT_SECRET), else E(AZURE_CLIENT_CERTIFICATE_PATH)); the credentials file
        C(~/.azure/credentials) section named by E(AZURE_PROFILE) or C(default); workload identity through
        E(AZURE_FEDERATED_TOKEN_FILE); managed identity when E(IDENTITY_ENDPOINT) or E(MSI_ENDPOINT) is set;
        the Azure CLI when C(az) is on E(PATH).
      - V(secret) signs in as O(client_id) with O(secret), else with E(AZURE_SECRET) or E(AZURE_CLIENT_SECRET).
      - V(certificate) signs in as O(client_id) with O(x509_certificate_path), else with
        E(AZURE_CLIENT_CERTIFICATE_PATH).
      - V(env) reads a client secret or certificate from the environment variables only.
      - V(credential_file) reads the O(profile) section of C(~/.azure/credentials) (keys C(client_id),
        C(secret), C(tenant), optional C(subscription_id) and C(cloud_environment)).
      - V(workload_identity) exchanges an OIDC token file (GitHub Actions, GitLab, Kubernetes) for an Entra
        token through a federated credential of the application; no secret is stored anywhere.
      - V(msi) uses the managed identity of the Azure host (O(client_id) selects a user-assigned identity).
      - V(cli) uses the signed-in Azure CLI through azure-identity (the Azure CLI itself is not imported).
      - V(access_token) sends O(access_token) as it is, without signing in.
      - O(client_id), O(tenant) and the cloud and connection options are shared by every source.
    type: str
    default: auto
    choices: [auto, secret, certificate, env, credential_file, workload_identity, msi, cli, access_token]
  client_id:
    description:
      - Application (client) ID of the service principal that signs in.
      - Falls back to E(AZURE_CLIENT_ID), except with O(auth_source=msi), where only this option selects a
        user-assigned identity.
    type: str
  secret:
    description:
      - Client secret of the service principal.
      - Falls back to E(AZURE_SECRET), then E(AZURE_CLIENT_SECRET); when both are set they must be equal.
    type: str
  tenant:
    description:
      - Directory (tenant) ID to sign in to.
      - Falls back to E(AZURE_TENANT), then E(AZURE_TENANT_ID); when both are set they must be equal.
    type: str
  subscription_id:
    description:
      - Subscription ID, for modules that build ARM IDs from parts.
      - Falls back to E(AZURE_SUBSCRIPTION_ID), then to C(subscription_id) in the credentials file profile.
    type: str
  x509_certificate_path:
    description:
      - Path to a PEM or PKCS12 file holding the certificate and private key that sign in as O(client_id).
      - Falls back to E(AZURE_CLIENT_CERTIFICATE_PATH).
      - The file is read and its key and certificate parsed before any network call.
    type: path
  x509_certificate_password:
    description:
      - Password of the private key in O(x509_certificate_path).
      - Falls back to E(AZURE_CLIENT_CERTIFICATE_PASSWORD).
    type: str
  federated_token_file:
    description:
      - Path to a file holding an OIDC token (for example GitHub Actions' or GitLab's ID token) that is
        exchanged for an Entra token through a federated credential of O(client_id). The file is read
        again whenever a token is needed.
      - Falls back to E(AZURE_FEDERATED_TOKEN_FILE).
      - It must exist and hold a token when the task starts; this is checked before any network call.
    type: path
  access_token:
    description:
      - A bearer token obtained elsewhere, sent as it is. It must be issued for the audience of the API the
        module calls, and cannot be refreshed.
    type: str
  profile:
    description:
      - Section of the credentials file C(~/.azure/credentials) to read.
      - Falls back to E(AZURE_PROFILE), then C(default).
    type: str
  cloud_environment:
    description:
      - Azure cloud whose sign-in authority, endpoints and token audiences are used.
      - Falls back to E(AZURE_CLOUD_ENVIRONMENT), then to C(cloud_environment) in the credentials file profile,
        then V(AzureCloud).
    type: str
    choices: [AzureCloud, AzureUSGovernment, AzureChinaCloud]
  authority_host:
    description:
      - Sign-in authority, overriding the cloud's (for example V(https://login.microsoftonline.us)).
      - Falls back to E(AZURE_AUTHORITY_HOST). Must use https.
    type: str
  disable_instance_discovery:
    description:
      - Skip the authority metadata look-up at sign-in. Needed for a private or local authority, such as the
        emulator this collection ships; keep it off for Microsoft's clouds.
      - Also turned on by E(AZMON_DISABLE_INSTANCE_DISCOVERY=true).
    type: bool
    default: false
  arm_endpoint:
    description:
      - Azure Resource Manager endpoint, overriding the cloud's (for example V(https://management.azure.com)).
      - Falls back to E(AZMON_ARM_ENDPOINT).
    type: str
  graph_endpoint:
    description:
      - Microsoft Graph endpoint, overriding the cloud's (for example V(https://graph.microsoft.com)).
      - Falls back to E(AZMON_GRAPH_ENDPOINT).
    type: str
  ingestion_endpoint:
    description:
      - Custom metrics ingestion endpoint, overriding the cloud's. C({region}) is replaced by the region of
        the resource, so the default for V(AzureCloud) is V(https://{region}.monitoring.azure.com).
      - Falls back to E(AZMON_INGESTION_ENDPOINT).
    type: str
  ingestion_audience:
    description:
      - Token audience for metrics ingestion, overriding the cloud's (V(https://monitoring.azure.com/) for
        V(AzureCloud)).
    type: str
  validate_certs:
    description:
      - Verify TLS certificates of every endpoint, sign-in included. Turn off only for testing; the task then
        warns.
    type: bool
    default: true
  ca_path:
    description:
      - PEM bundle of certificate authorities to trust, for sign-in and every API, or a directory of hashed CA
        certificates (C(openssl rehash)).
      - When unset, E(AZMON_CA_PATH), then E(REQUESTS_CA_BUNDLE) or E(CURL_CA_BUNDLE) is used if set, else the CA
        bundle of C(requests), for every connection alike. Proxies come from E(HTTPS_PROXY), E(ALL_PROXY) and
        E(NO_PROXY) the way C(requests) reads them (a proxy without a port uses port 80); metrics ingestion needs
        an C(http://) proxy.
      - A missing, unreadable or non-PEM bundle is refused before any connection.
    type: path
  timeout:
    description:
      - Seconds to wait for a connection or an answer on each HTTP request, from 1 to 3600.
    type: float
    default: 30.0
requirements:
  - requests >= 2.25.0
  - azure-identity >= 1.15.0
notes:
  - Secrets (O(secret), O(x509_certificate_password), O(access_token)), secrets read from the environment or
    the credentials file, and every token obtained are kept out of results, warnings and logs.
  - Set sign-in once for a play with C(module_defaults) and the action group C(group/azmon.metrics.azure).
'''
