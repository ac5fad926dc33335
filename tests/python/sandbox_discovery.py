"""Optional check: Python's azure-identity (MSAL) discovers the sandbox's token endpoint.

Not part of `cargo test` (the Rust tests are required; this needs PyPI). Run it against a
served sandbox:

    vaultwire sandbox serve --dir /tmp/sb &
    . /tmp/sb/env
    python3 -m venv /tmp/venv && /tmp/venv/bin/pip install azure-identity
    /tmp/venv/bin/python tests/python/sandbox_discovery.py

MSAL's instance discovery calls login.microsoftonline.com unless it is disabled, so the
credential is built with `disable_instance_discovery=True`; MSAL then reads
`{authority}/{tenant}/v2.0/.well-known/openid-configuration` from the sandbox.
"""

import json
import os
import ssl
import urllib.request

from azure.identity import ClientSecretCredential

credential = ClientSecretCredential(
    os.environ["AZURE_TENANT_ID"],
    os.environ["AZURE_CLIENT_ID"],
    os.environ["AZURE_CLIENT_SECRET"],
    authority=os.environ["AZURE_AUTHORITY_HOST"],
    disable_instance_discovery=True,
)
token = credential.get_token("https://management.azure.com/.default")
context = ssl.create_default_context(cafile=os.environ["VAULTWIRE_SANDBOX_CA"])
url = (
    os.environ["AZURE_RESOURCE_MANAGER_ENDPOINT"]
    + "subscriptions/"
    + os.environ["AZURE_SUBSCRIPTION_ID"]
    + "/resourcegroups?api-version=2024-11-01"
)
request = urllib.request.Request(url, headers={"Authorization": "Bearer " + token.token})
groups = [group["name"] for group in json.load(urllib.request.urlopen(request, context=context))["value"]]
assert "rg-demo" in groups, groups
print("ok: azure-identity got a token through discovery; resource groups:", groups)
