"""azure-mgmt-authorization (api-version 2022-04-01) against the emulator's ARM.

Documented behaviour asserted here (https://learn.microsoft.com/rest/api/authorization/ and
https://learn.microsoft.com/azure/role-based-access-control/role-assignments-list-rest):
- Role Definitions - Get / List with ``$filter=roleName eq '...'``; Monitoring Metrics Publisher is
  3913510d-42f4-4e42-8a64-420c390055eb with the data actions Microsoft.Insights/Metrics/Write and Telemetry/Write
  (https://learn.microsoft.com/azure/role-based-access-control/built-in-roles/monitor);
- Role Assignments - Create: 201 then 200 for the same body; the same scope, principal and role under another name
  is 409 ``RoleAssignmentExists``; an unknown principal is 400 ``PrincipalNotFound``; a caller without
  roleAssignments/write is 403 ``AuthorizationFailed`` (https://learn.microsoft.com/azure/role-based-access-control/troubleshooting);
- List For Scope: ``atScope()`` gives the assignments at or above the scope, ``principalId eq '{id}'`` those at,
  above or below it for that principal; pages follow ``nextLink``;
- Get and Delete by name; Delete returns the deleted assignment, and then Get is 404.
"""

import uuid

import pytest
from azure.core.exceptions import HttpResponseError, ResourceExistsError, ResourceNotFoundError
from azure.mgmt.authorization import AuthorizationManagementClient
from azure.mgmt.authorization.models import RoleAssignmentCreateParameters

PUBLISHER = "3913510d-42f4-4e42-8a64-420c390055eb"
OWNER = "8e3af657-a8ff-4c83-a602-7a9e3c95d1cb"


def client(emu, handle="admin"):
    return AuthorizationManagementClient(emu.secret_credential(handle), emu.subscription_id, **emu.mgmt_kwargs())


def params(emu, principal_id, role=PUBLISHER):
    return RoleAssignmentCreateParameters(role_definition_id=emu.sub + "/providers/Microsoft.Authorization/roleDefinitions/" + role,
                                          principal_id=principal_id, principal_type="ServicePrincipal")


def test_role_definitions(emu):
    auth = client(emu)
    role = auth.role_definitions.get(emu.sub, PUBLISHER)
    assert role.role_name == "Monitoring Metrics Publisher" and role.role_type == "BuiltInRole"
    assert set(role.permissions[0].data_actions) == {"Microsoft.Insights/Metrics/Write", "Microsoft.Insights/Telemetry/Write"}
    found = list(auth.role_definitions.list(emu.sub, filter="roleName eq 'Monitoring Metrics Publisher'"))
    assert [r.name for r in found] == [PUBLISHER]
    assert auth.role_definitions.get_by_id(role.id).role_name == "Monitoring Metrics Publisher"
    owner = auth.role_definitions.get(emu.sub, OWNER)
    assert owner.permissions[0].actions == ["*"] and owner.permissions[0].data_actions == []


def test_create_idempotent_conflict_get_delete(emu):
    auth = client(emu)
    principal = emu.principal("nobody")["principalId"]
    name = str(uuid.uuid4())
    created = auth.role_assignments.create(emu.vm1, name, params(emu, principal))
    assert created.name == name and created.principal_id == principal and created.principal_type == "ServicePrincipal"
    assert created.role_definition_id.lower().endswith("/roledefinitions/" + PUBLISHER)
    assert created.scope.lower() == emu.vm1.lower()
    again = auth.role_assignments.create(emu.vm1, name, params(emu, principal))
    assert again.name == name
    with pytest.raises(ResourceExistsError) as caught:
        auth.role_assignments.create(emu.vm1, str(uuid.uuid4()), params(emu, principal))
    assert caught.value.error.code == "RoleAssignmentExists"
    assert auth.role_assignments.get(emu.vm1, name).principal_id == principal
    assert auth.role_assignments.get_by_id(created.id).name == name
    deleted = auth.role_assignments.delete_by_id(created.id)
    assert deleted.name == name
    with pytest.raises(ResourceNotFoundError):
        auth.role_assignments.get(emu.vm1, name)
    assert auth.role_assignments.delete(emu.vm1, name) is None  # deleting a missing assignment: 204, no body


def test_create_errors(emu):
    # Without principalType ARM looks the principal up in the directory (with it, ARM skips the lookup).
    unknown = params(emu, str(uuid.uuid4()))
    unknown.principal_type = None
    with pytest.raises(HttpResponseError) as caught:
        client(emu).role_assignments.create(emu.vm1, str(uuid.uuid4()), unknown)
    assert caught.value.status_code == 400 and caught.value.error.code == "PrincipalNotFound"
    with pytest.raises(HttpResponseError) as caught:
        client(emu, "publisher").role_assignments.create(emu.vm1, str(uuid.uuid4()), params(emu, emu.principal("nobody")["principalId"]))
    assert caught.value.status_code == 403 and caught.value.error.code == "AuthorizationFailed"


def test_list_filters_and_paging(emu):
    auth = client(emu)
    nobody = emu.principal("nobody")["principalId"]
    auth.role_assignments.create(emu.vm1, str(uuid.uuid4()), params(emu, nobody))
    auth.role_assignments.create(emu.rg_demo, str(uuid.uuid4()), params(emu, nobody))
    # atScope() at the VM: the VM's and rg-demo's (at or above), and the subscription-level seed assignments.
    at_vm = list(auth.role_assignments.list_for_scope(emu.vm1, filter="atScope()"))
    nobody_at_vm = [ra for ra in at_vm if ra.principal_id == nobody]
    assert len(nobody_at_vm) == 2
    assert any(ra.principal_id == emu.principal("admin")["principalId"] for ra in at_vm)
    # principalId at the subscription: at, above and below, so both of nobody's assignments.
    mine = list(auth.role_assignments.list_for_scope(emu.sub, filter="principalId eq '%s'" % nobody))
    assert sorted(ra.scope.lower() for ra in mine) == sorted([emu.rg_demo.lower(), emu.vm1.lower()])
    # The emulator pages by two: more than two assignments in all means the client followed nextLink.
    everything = list(auth.role_assignments.list_for_subscription())
    assert len(everything) > 2 and len({ra.name for ra in everything}) == len(everything)
