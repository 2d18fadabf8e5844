"""Built-in Azure role definitions (IDs and permissions as Azure publishes them) and action matching."""

import re

OWNER = "8e3af657-a8ff-4c83-a602-7a9e3c95d1cb"
CONTRIBUTOR = "b24988ac-6180-42a0-ab88-20f7382dd24c"
READER = "acdd72a7-3385-48ef-bd42-f606fba81ae7"
USER_ACCESS_ADMINISTRATOR = "18d7d88d-d35e-4fb5-a5c3-7773c20a72d9"
MONITORING_READER = "43d0d8ad-25c7-4714-9337-8ba259a9fe05"
MONITORING_CONTRIBUTOR = "749f88d5-cbae-40b8-bcfc-e573ddc772fa"
MONITORING_METRICS_PUBLISHER = "3913510d-42f4-4e42-8a64-420c390055eb"
STORAGE_BLOB_DATA_CONTRIBUTOR = "ba92f5b4-2d11-453d-a403-e96b0029c9fe"
MONITORING_DATA_READER = "b0d8363b-8ddd-447d-831f-62ca05bff136"

BUILTIN = {
    OWNER: {"roleName": "Owner", "description": "Grants full access to manage all resources, including the ability to assign roles in Azure RBAC.",
            "actions": ["*"], "notActions": [], "dataActions": [], "notDataActions": []},
    CONTRIBUTOR: {"roleName": "Contributor",
                  "description": "Grants full access to manage all resources, but does not allow you to assign roles in Azure RBAC.",
                  "actions": ["*"],
                  "notActions": ["Microsoft.Authorization/*/Delete", "Microsoft.Authorization/*/Write",
                                 "Microsoft.Authorization/elevateAccess/Action", "Microsoft.Blueprint/blueprintAssignments/write",
                                 "Microsoft.Blueprint/blueprintAssignments/delete", "Microsoft.Compute/galleries/share/action"],
                  "dataActions": [], "notDataActions": []},
    READER: {"roleName": "Reader", "description": "View all resources, but does not allow you to make any changes.",
             "actions": ["*/read"], "notActions": [], "dataActions": [], "notDataActions": []},
    USER_ACCESS_ADMINISTRATOR: {"roleName": "User Access Administrator", "description": "Lets you manage user access to Azure resources.",
                                "actions": ["*/read", "Microsoft.Authorization/*", "Microsoft.Support/*"], "notActions": [],
                                "dataActions": [], "notDataActions": []},
    MONITORING_READER: {"roleName": "Monitoring Reader", "description": "Can read all monitoring data.",
                        "actions": ["*/read", "Microsoft.OperationalInsights/workspaces/search/action", "Microsoft.Support/*"],
                        "notActions": [], "dataActions": [], "notDataActions": []},
    MONITORING_CONTRIBUTOR: {"roleName": "Monitoring Contributor", "description": "Can read all monitoring data and update monitoring settings.",
                             "actions": ["*/read", "Microsoft.Insights/*", "Microsoft.Support/*"], "notActions": [],
                             "dataActions": [], "notDataActions": []},
    MONITORING_METRICS_PUBLISHER: {"roleName": "Monitoring Metrics Publisher", "description": "Enables publishing metrics against Azure resources",
                                   "actions": ["Microsoft.Insights/Register/Action", "Microsoft.Support/*",
                                               "Microsoft.Resources/subscriptions/resourceGroups/read"],
                                   "notActions": [], "dataActions": ["Microsoft.Insights/Metrics/Write", "Microsoft.Insights/Telemetry/Write"],
                                   "notDataActions": []},
    MONITORING_DATA_READER: {"roleName": "Monitoring Data Reader", "description": "Can read all monitoring data.",
                             "actions": ["Microsoft.Monitor/accounts/read"], "notActions": [],
                             "dataActions": ["Microsoft.Monitor/accounts/data/metrics/read"], "notDataActions": []},
    STORAGE_BLOB_DATA_CONTRIBUTOR: {
        "roleName": "Storage Blob Data Contributor",
        "description": "Allows for read, write and delete access to Azure Storage blob containers and data",
        "actions": ["Microsoft.Storage/storageAccounts/blobServices/containers/delete",
                    "Microsoft.Storage/storageAccounts/blobServices/containers/read",
                    "Microsoft.Storage/storageAccounts/blobServices/containers/write",
                    "Microsoft.Storage/storageAccounts/blobServices/generateUserDelegationKey/action"],
        "notActions": [],
        "dataActions": ["Microsoft.Storage/storageAccounts/blobServices/containers/blobs/delete",
                        "Microsoft.Storage/storageAccounts/blobServices/containers/blobs/read",
                        "Microsoft.Storage/storageAccounts/blobServices/containers/blobs/write",
                        "Microsoft.Storage/storageAccounts/blobServices/containers/blobs/move/action",
                        "Microsoft.Storage/storageAccounts/blobServices/containers/blobs/add/action"],
        "notDataActions": []},
}


def _pattern_matches(pattern, action):
    regex = "^" + ".*".join(re.escape(part) for part in pattern.split("*")) + "$"
    return re.match(regex, action, re.IGNORECASE) is not None


def allows(role, action, data=False):
    """True when the role definition grants ``action`` (a data action when ``data``)."""
    allow, deny = ("dataActions", "notDataActions") if data else ("actions", "notActions")
    if not any(_pattern_matches(p, action) for p in role[allow]):
        return False
    return not any(_pattern_matches(p, action) for p in role[deny])


def definition_body(role_id, scope_prefix=""):
    role = BUILTIN[role_id]
    return {
        "properties": {
            "roleName": role["roleName"], "type": "BuiltInRole", "description": role["description"],
            "assignableScopes": ["/"],
            "permissions": [{"actions": list(role["actions"]), "notActions": list(role["notActions"]),
                             "dataActions": list(role["dataActions"]), "notDataActions": list(role["notDataActions"])}],
            "createdOn": "2015-02-02T21:55:09.8806423Z", "updatedOn": "2024-01-01T00:00:00.0000000Z",
            "createdBy": None, "updatedBy": None,
        },
        "id": "%s/providers/Microsoft.Authorization/roleDefinitions/%s" % (scope_prefix, role_id),
        "type": "Microsoft.Authorization/roleDefinitions",
        "name": role_id,
    }
