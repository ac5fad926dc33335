"""Python's Azure SDKs, with the public cloud's defaults, against `vaultwire sandbox serve` as
the HTTPS proxy `DIR/env` names: azure-identity signs in at login.microsoftonline.com, the
management client lists resource groups on management.azure.com, and SecretClient — which by
default verifies that the Key Vault challenge's resource matches the vault's host — sets and
reads a secret at NAME.vault.azure.net. Run by tests/python/run.sh (docs/sandbox.md, "Python SDKs").
"""

import os
import uuid

import requests

from azure.core.exceptions import ResourceNotFoundError
from azure.core.rest import HttpRequest
from azure.identity import ClientSecretCredential
from azure.keyvault.secrets import SecretClient
from azure.mgmt.resource.resources import ResourceManagementClient

SUB = os.environ["AZURE_SUBSCRIPTION_ID"]
VAULT = "kv-python-sdk"
VAULT_ID = f"/subscriptions/{SUB}/resourceGroups/rg-demo/providers/Microsoft.KeyVault/vaults/{VAULT}"
SECRETS_OFFICER = f"/subscriptions/{SUB}/providers/Microsoft.Authorization/roleDefinitions/b86a8fe4-44ce-4948-aee5-eccb2c155cd7"

credential = ClientSecretCredential(
    os.environ["AZURE_TENANT_ID"],
    os.environ["AZURE_CLIENT_ID"],
    os.environ["AZURE_CLIENT_SECRET"],
    authority="login.microsoftonline.com",
)
arm = ResourceManagementClient(credential, SUB)
groups = [group.name for group in arm.resource_groups.list()]
assert "rg-demo" in groups, groups


def put(path, body):
    request = HttpRequest("PUT", "https://management.azure.com" + path, json=body)
    response = arm._client.send_request(request)
    assert response.status_code in (200, 201), (response.status_code, response.text())
    return response.json()


vault = put(VAULT_ID + "?api-version=2025-05-01", {
    "location": "westeurope",
    "properties": {
        "tenantId": os.environ["AZURE_TENANT_ID"],
        "sku": {"family": "A", "name": "standard"},
        "enableRbacAuthorization": True,
    },
})
assert vault["properties"]["vaultUri"] == f"https://{VAULT}.vault.azure.net/", vault
# The deploying app's object ID, from Microsoft Graph by its app ID, as az resolves an assignee.
graph_token = credential.get_token("https://graph.microsoft.com/.default").token
found = requests.get(
    "https://graph.microsoft.com/v1.0/servicePrincipals",
    params={"$filter": f"servicePrincipalNames/any(c:c eq '{os.environ['AZURE_CLIENT_ID']}')"},
    headers={"Authorization": "Bearer " + graph_token},
    timeout=30,
).json()["value"]
assert len(found) == 1, found
put(f"{VAULT_ID}/providers/Microsoft.Authorization/roleAssignments/{uuid.uuid4()}?api-version=2022-04-01", {
    "properties": {"roleDefinitionId": SECRETS_OFFICER, "principalId": found[0]["id"]},
})

secrets = SecretClient(vault["properties"]["vaultUri"], credential)
value = "python-canary-" + uuid.uuid4().hex
version = secrets.set_secret("greeting", value).properties.version
got = secrets.get_secret("greeting")
assert got.value == value and got.properties.version == version
try:
    SecretClient("https://kv-nowhere.vault.azure.net", credential).get_secret("x")
    raise AssertionError("a vault the sandbox lacks answered")
except ResourceNotFoundError as error:
    assert "VaultNotFound" in str(error), error
print("ok: azure-identity, azure-mgmt-resource and azure-keyvault-secrets through the proxy")
