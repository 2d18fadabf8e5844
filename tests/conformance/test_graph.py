"""msgraph-sdk (Microsoft Graph v1.0) against the emulator's Graph.

msgraph-sdk sends ``@odata.type`` with every object it writes and URL-encodes the ``$`` of query options; Graph
accepts both. Documented behaviour asserted here (https://learn.microsoft.com/graph/api/resources/application,
.../serviceprincipal, .../federatedidentitycredential, https://learn.microsoft.com/graph/query-parameters,
https://learn.microsoft.com/graph/aad-advanced-queries):
- create, get, update (204) and delete an application with its v1.0 properties (web, spa, publicClient, api,
  appRoles, optionalClaims, groupMembershipClaims, isFallbackPublicClient);
- upsert by ``applications(uniqueName='...')`` with ``Prefer: create-if-missing``;
- service principals created and updated through the SDK; ``servicePrincipalNames/any(x:x eq '...')`` finds one
  by its appId; ``in``/``and``/``or`` filters; ``POST /directoryObjects/getByIds``;
- addPassword returns ``secretText`` once and the secret signs in; removePassword removes it;
- a certificate PATCHed into ``keyCredentials`` (type AsymmetricX509Cert, usage Verify) signs in; its ``key`` is
  returned only with ``$select`` on the single object (https://learn.microsoft.com/graph/api/resources/keycredential);
- federated identity credentials: create, list, get by ``(name='...')``, update, delete; a second one with the
  same name is 409;
- ``$top`` limits a page, ``$select`` trims objects, ``$count`` and ``$search`` need ``ConsistencyLevel: eventual``
  (advanced queries) and without it are refused with 400.
"""

import datetime
import uuid

import pytest
from azure.identity import CertificateCredential, ClientSecretCredential
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from kiota_abstractions.base_request_configuration import RequestConfiguration
from msgraph.generated.applications.applications_request_builder import ApplicationsRequestBuilder
from msgraph.generated.applications.item.application_item_request_builder import ApplicationItemRequestBuilder
from msgraph.generated.applications.item.add_password.add_password_post_request_body import AddPasswordPostRequestBody
from msgraph.generated.applications.item.remove_password.remove_password_post_request_body import RemovePasswordPostRequestBody
from msgraph.generated.directory_objects.get_by_ids.get_by_ids_post_request_body import GetByIdsPostRequestBody
from msgraph.generated.models.api_application import ApiApplication
from msgraph.generated.models.app_role import AppRole
from msgraph.generated.models.application import Application
from msgraph.generated.models.federated_identity_credential import FederatedIdentityCredential
from msgraph.generated.models.key_credential import KeyCredential
from msgraph.generated.models.o_data_errors.o_data_error import ODataError
from msgraph.generated.models.optional_claims import OptionalClaims
from msgraph.generated.models.password_credential import PasswordCredential
from msgraph.generated.models.public_client_application import PublicClientApplication
from msgraph.generated.models.service_principal import ServicePrincipal
from msgraph.generated.models.spa_application import SpaApplication
from msgraph.generated.models.web_application import WebApplication
from msgraph.generated.service_principals.service_principals_request_builder import ServicePrincipalsRequestBuilder

GITHUB = "https://token.actions.githubusercontent.com"


def _apps_query(headers=None, **query):
    config = RequestConfiguration(query_parameters=ApplicationsRequestBuilder.ApplicationsRequestBuilderGetQueryParameters(**query))
    for name, value in (headers or {}).items():
        config.headers.add(name, value)
    return config


def _sps_query(**query):
    return RequestConfiguration(
        query_parameters=ServicePrincipalsRequestBuilder.ServicePrincipalsRequestBuilderGetQueryParameters(**query))


def test_application_v1_properties(emu, run):
    graph = emu.graph_client(emu.secret_credential("admin"))
    role_id = uuid.uuid4()

    async def scenario():
        created = await graph.applications.post(Application(
            display_name="conformance-props", sign_in_audience="AzureADMyOrg",
            web=WebApplication(redirect_uris=["https://app.example.com/signin"]),
            spa=SpaApplication(redirect_uris=["https://app.example.com/spa"]),
            public_client=PublicClientApplication(redirect_uris=["http://localhost"]),
            api=ApiApplication(requested_access_token_version=2),
            app_roles=[AppRole(id=role_id, allowed_member_types=["Application"], display_name="Writer",
                               description="Writes", value="Data.Write", is_enabled=True)],
            optional_claims=OptionalClaims(id_token=[]), group_membership_claims="SecurityGroup",
            is_fallback_public_client=False))
        item = graph.applications.by_application_id(created.id)
        got = await item.get()
        assert got.web.redirect_uris == ["https://app.example.com/signin"]
        assert got.spa.redirect_uris == ["https://app.example.com/spa"]
        assert got.public_client.redirect_uris == ["http://localhost"]
        assert got.api.requested_access_token_version == 2
        assert [(r.id, r.value) for r in got.app_roles] == [(role_id, "Data.Write")]
        assert got.group_membership_claims == "SecurityGroup" and got.is_fallback_public_client is False
        await item.patch(Application(web=WebApplication(home_page_url="https://app.example.com"), is_fallback_public_client=True))
        got = await item.get()
        assert got.web.home_page_url == "https://app.example.com" and got.is_fallback_public_client is True
        await item.delete()
        with pytest.raises(ODataError) as caught:
            await item.get()
        assert caught.value.response_status_code == 404

    run(scenario())


def test_upsert_by_unique_name(emu, run):
    graph = emu.graph_client(emu.secret_credential("admin"))

    async def scenario():
        config = RequestConfiguration()
        config.headers.add("Prefer", "create-if-missing")
        builder = graph.applications_with_unique_name("conformance-unique")
        created = await builder.patch(Application(display_name="conformance unique"), request_configuration=config)
        assert created is not None and created.unique_name == "conformance-unique"
        assert await builder.patch(Application(display_name="renamed"), request_configuration=config) is None  # 204
        assert (await builder.get()).display_name == "renamed"

    run(scenario())


def test_service_principals_and_lookups(emu, run):
    graph = emu.graph_client(emu.secret_credential("admin"))

    async def scenario():
        one = await graph.applications.post(Application(display_name="conformance-one"))
        two = await graph.applications.post(Application(display_name="conformance-two"))
        sp_one = await graph.service_principals.post(ServicePrincipal(app_id=one.app_id))
        sp_two = await graph.service_principals.post(ServicePrincipal(app_id=two.app_id))
        assert sp_one.app_id == one.app_id and one.app_id in sp_one.service_principal_names
        await graph.service_principals.by_service_principal_id(sp_one.id).patch(ServicePrincipal(tags=["conformance"]))
        assert (await graph.service_principals_with_app_id(one.app_id).get()).tags == ["conformance"]
        found = await graph.service_principals.get(_sps_query(filter="servicePrincipalNames/any(x:x eq '%s')" % two.app_id))
        assert [sp.id for sp in found.value] == [sp_two.id]
        either = await graph.applications.get(_apps_query(filter="appId in ('%s', '%s')" % (one.app_id, two.app_id)))
        assert sorted(a.id for a in either.value) == sorted([one.id, two.id])
        narrowed = await graph.applications.get(_apps_query(
            filter="(displayName eq 'conformance-one' or displayName eq 'conformance-two') and appId eq '%s'" % two.app_id))
        assert [a.id for a in narrowed.value] == [two.id]
        objects = await graph.directory_objects.get_by_ids.post(GetByIdsPostRequestBody(
            ids=[sp_one.id, sp_two.id, str(uuid.uuid4())], types=["servicePrincipal"]))
        assert sorted(o.id for o in objects.value) == sorted([sp_one.id, sp_two.id])
        assert all(isinstance(o, ServicePrincipal) for o in objects.value)
        with pytest.raises(ODataError) as caught:
            await graph.service_principals.post(ServicePrincipal(app_id=one.app_id))
        assert caught.value.response_status_code == 409

    run(scenario())


def test_password_signs_in_then_is_removed(emu, run):
    graph = emu.graph_client(emu.secret_credential("admin"))

    async def scenario():
        app = await graph.applications.post(Application(display_name="conformance-secret"))
        await graph.service_principals.post(ServicePrincipal(app_id=app.app_id))
        item = graph.applications.by_application_id(app.id)
        cred = await item.add_password.post(AddPasswordPostRequestBody(password_credential=PasswordCredential(display_name="ci")))
        assert cred.secret_text and cred.hint == cred.secret_text[:3]
        listed = (await item.get()).password_credentials
        assert [c.key_id for c in listed] == [cred.key_id] and listed[0].secret_text is None
        signed_in = ClientSecretCredential(emu.info["tenant_id"], app.app_id, cred.secret_text, **emu.identity_kwargs())
        assert signed_in.get_token("https://monitoring.azure.com/.default").token
        await item.remove_password.post(RemovePasswordPostRequestBody(key_id=cred.key_id))
        assert (await item.get()).password_credentials == []

    run(scenario())


def _certificate(tmp_path):
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "conformance")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=30)).sign(key, hashes.SHA256()))
    pem = tmp_path / "conformance.pem"
    pem.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
                    + cert.public_bytes(serialization.Encoding.PEM))
    return cert.public_bytes(serialization.Encoding.DER), str(pem)


def test_certificate_key_credential_signs_in(emu, run, tmp_path):
    graph = emu.graph_client(emu.secret_credential("admin"))
    der, pem = _certificate(tmp_path)

    async def scenario():
        app = await graph.applications.post(Application(display_name="conformance-cert"))
        await graph.service_principals.post(ServicePrincipal(app_id=app.app_id))
        item = graph.applications.by_application_id(app.id)
        await item.patch(Application(key_credentials=[KeyCredential(type="AsymmetricX509Cert", usage="Verify", key=der,
                                                                    display_name="conformance")]))
        assert [k.key for k in (await item.get()).key_credentials] == [None]
        select = RequestConfiguration(query_parameters=ApplicationItemRequestBuilder.ApplicationItemRequestBuilderGetQueryParameters(
            select=["keyCredentials"]))
        assert [k.key for k in (await item.get(select)).key_credentials] == [der]
        signed_in = CertificateCredential(emu.info["tenant_id"], app.app_id, pem, **emu.identity_kwargs())
        assert signed_in.get_token("https://monitoring.azure.com/.default").token

    run(scenario())


def test_federated_identity_credentials(emu, run):
    graph = emu.graph_client(emu.secret_credential("admin"))

    async def scenario():
        app = await graph.applications.post(Application(display_name="conformance-fic"))
        fics = graph.applications.by_application_id(app.id).federated_identity_credentials
        body = FederatedIdentityCredential(name="deploy-main", issuer=GITHUB, subject="repo:org/repo:ref:refs/heads/main",
                                           audiences=["api://AzureADTokenExchange"])
        created = await fics.post(body)
        assert created.name == "deploy-main" and created.audiences == ["api://AzureADTokenExchange"]
        assert [f.id for f in (await fics.get()).value] == [created.id]
        by_name = graph.applications.by_application_id(app.id).federated_identity_credentials_with_name("deploy-main")
        assert (await by_name.get()).id == created.id
        await fics.by_federated_identity_credential_id(created.id).patch(FederatedIdentityCredential(
            subject="repo:org/repo:environment:prod"))
        assert (await by_name.get()).subject == "repo:org/repo:environment:prod"
        with pytest.raises(ODataError) as caught:
            await fics.post(body)
        assert caught.value.response_status_code == 409
        await fics.by_federated_identity_credential_id(created.id).delete()
        assert (await fics.get()).value == []

    run(scenario())


def test_query_options(emu, run):
    graph = emu.graph_client(emu.secret_credential("admin"))
    eventual = {"ConsistencyLevel": "eventual"}

    async def scenario():
        for index in range(3):
            await graph.applications.post(Application(display_name="conformance query %d" % index))
        page = await graph.applications.get(_apps_query(top=2, filter="startswith(displayName,'conformance query')"))
        assert len(page.value) == 2 and page.odata_next_link
        rest = await graph.applications.with_url(page.odata_next_link).get()
        assert [a.display_name for a in rest.value] == ["conformance query 2"] and rest.odata_next_link is None
        trimmed = await graph.applications.get(_apps_query(select=["displayName"], filter="startswith(displayName,'conformance query')"))
        assert [a.display_name for a in trimmed.value] == ["conformance query 0", "conformance query 1", "conformance query 2"]
        assert all(a.app_id is None for a in trimmed.value)
        counted = await graph.applications.get(_apps_query(headers=eventual, count=True, search='"displayName:query"'))
        assert counted.odata_count == 3 and len(counted.value) == 3
        for refused in (dict(count=True), dict(search='"displayName:query"')):
            with pytest.raises(ODataError) as caught:
                await graph.applications.get(_apps_query(**refused))
            assert caught.value.response_status_code == 400

    run(scenario())


def test_custom_cloud_graph_scope(emu, run):
    # A client of a custom cloud asks for a token for the cloud's own Graph URL.
    graph = emu.graph_client(emu.secret_credential("reader"), scopes=(emu.info["graph"] + "/.default",))

    async def scenario():
        found = await graph.applications.get(_apps_query(filter="displayName eq 'azmon-admin'"))
        assert [a.app_id for a in found.value] == [emu.principal("admin")["appId"]]

    run(scenario())
