"""azure-mgmt-resource (resources and subscriptions) against the emulator's ARM.

Documented behaviour asserted here (REST reference, https://learn.microsoft.com/rest/api/resources/):
- Resource Groups - Get: 200 with ``location``; an unknown group is 404 ``ResourceGroupNotFound``;
- Resource Groups - Check Existence and Resources - Check Existence By Id (``HEAD``): 204 when it exists, 404 if not;
- Resources - Get By Id, Resources - List By Resource Group, Resource Groups - List;
- Subscriptions - List / Get and Tenants - List (https://learn.microsoft.com/rest/api/resources/subscriptions);
- a caller without ``*/read`` gets 403 ``AuthorizationFailed``
  (https://learn.microsoft.com/azure/role-based-access-control/troubleshooting);
- ARM accepts tokens whose ``aud`` is any of https://management.azure.com, https://management.core.windows.net, with
  or without the trailing slash (the list ARM's own InvalidAuthenticationTokenAudience message gives).
"""

import uuid

import pytest
from azure.core.exceptions import HttpResponseError, ResourceNotFoundError
from azure.identity import ManagedIdentityCredential
from azure.mgmt.authorization import AuthorizationManagementClient
from azure.mgmt.authorization.models import RoleAssignmentCreateParameters
from azure.mgmt.resource.resources import ResourceManagementClient
from azure.mgmt.resource.subscriptions import SubscriptionClient

READER = "acdd72a7-3385-48ef-bd42-f606fba81ae7"
VM_API = "2024-07-01"


def resources(emu, credential, **extra):
    return ResourceManagementClient(credential, emu.subscription_id, **emu.mgmt_kwargs(**extra))


def test_resource_group_get_and_existence(emu):
    client = resources(emu, emu.secret_credential("admin"))
    group = client.resource_groups.get("rg-demo")
    assert group.name == "rg-demo" and group.location == "eastus"
    assert group.id.lower() == emu.rg_demo.lower()
    assert client.resource_groups.check_existence("rg-demo") is True
    assert client.resource_groups.check_existence("rg-missing") is False
    with pytest.raises(ResourceNotFoundError) as caught:
        client.resource_groups.get("rg-missing")
    assert caught.value.error.code == "ResourceGroupNotFound"


def test_resource_get_by_id_and_existence(emu):
    client = resources(emu, emu.secret_credential("admin"))
    vm = client.resources.get_by_id(emu.vm1, api_version=VM_API)
    assert vm.name == "vm1" and vm.location == "eastus" and vm.type == "Microsoft.Compute/virtualMachines"
    assert client.resources.check_existence_by_id(emu.vm1, api_version=VM_API) is True
    assert client.resources.check_existence_by_id(emu.rg_demo + "/providers/Microsoft.Compute/virtualMachines/nope",
                                                  api_version=VM_API) is False


def test_lists(emu):
    client = resources(emu, emu.secret_credential("admin"))
    assert sorted(g.name for g in client.resource_groups.list()) == ["rg-demo", "rg-other"]
    assert sorted(r.name for r in client.resources.list_by_resource_group("rg-demo")) == [
        "amw-demo", "dce-amw-demo", "dcr-amw-demo", "stdemo01", "vm1"]
    assert sorted(r.name for r in client.resources.list()) == [
        "amw-demo", "dce-amw-demo", "dcr-amw-demo", "dcr-amw-other", "stdemo01", "vm-other", "vm1"]


def test_subscriptions_and_tenants(emu):
    client = SubscriptionClient(emu.secret_credential("admin"), **emu.mgmt_kwargs())
    subs = list(client.subscriptions.list())
    assert [s.subscription_id for s in subs] == [emu.subscription_id]
    assert subs[0].display_name == "Contoso Demo" and subs[0].state == "Enabled"
    assert client.subscriptions.get(emu.subscription_id).tenant_id == emu.info["tenant_id"]
    assert [t.tenant_id for t in client.tenants.list()] == [emu.info["tenant_id"]]


def test_no_read_permission_is_403(emu):
    # Monitoring Metrics Publisher may read its resource group (Microsoft.Resources/subscriptions/resourceGroups/read)
    # but not the virtual machine in it.
    client = resources(emu, emu.secret_credential("publisher"))
    assert client.resource_groups.get("rg-demo").name == "rg-demo"
    with pytest.raises(HttpResponseError) as caught:
        client.resources.get_by_id(emu.vm1, api_version=VM_API)
    assert caught.value.status_code == 403 and caught.value.error.code == "AuthorizationFailed"


def test_managed_identity_audience_without_slash(emu, monkeypatch):
    # The admin makes the managed identity a Reader of rg-demo; the identity's token says aud
    # "https://management.azure.com" (no slash, the resource as sent) and ARM takes it.
    AuthorizationManagementClient(emu.secret_credential("admin"), emu.subscription_id, **emu.mgmt_kwargs()).role_assignments.create(
        emu.rg_demo, str(uuid.uuid4()), RoleAssignmentCreateParameters(
            role_definition_id=emu.sub + "/providers/Microsoft.Authorization/roleDefinitions/" + READER,
            principal_id=emu.principal("mi")["principalId"], principal_type="ServicePrincipal"))
    monkeypatch.setenv("IDENTITY_ENDPOINT", emu.info["msi"])
    monkeypatch.setenv("IDENTITY_HEADER", emu.info["msi_header"])
    client = resources(emu, ManagedIdentityCredential(connection_verify=emu.ca))
    assert client.resource_groups.get("rg-demo").location == "eastus"


def test_custom_cloud_scope(emu):
    # A client of a custom cloud asks for a token for the cloud's own ARM URL.
    client = resources(emu, emu.secret_credential("admin"), credential_scopes=[emu.info["arm"] + "/.default"])
    assert client.resource_groups.get("rg-other").location == "westus2"
