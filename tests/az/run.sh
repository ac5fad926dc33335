#!/usr/bin/env bash
# The real azure-cli (PyPI, into a throwaway venv) and the real kubectl run the CIS AKS control
# "Consider external secret storage" against `vaultwire sandbox serve`, unmodified: only
# `. DIR/env` and `az login --service-principal` — no `az cloud register`, no `az config`. Each
# step checks what real Azure returns (docs/sandbox.md, "azure-cli"). Run by .ci/run; needs PyPI,
# kubectl and a built vaultwire (default target/debug/vaultwire). Not part of `cargo test`.
#
#   tests/az/run.sh                       # install azure-cli, then run
#   AZ_VENV=/path/to/venv tests/az/run.sh # reuse a venv that has azure-cli
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
bin=${VAULTWIRE_BIN:-$root/target/debug/vaultwire}
work=$(mktemp -d)
pid=
trap 'if [ -n "$pid" ]; then kill -TERM "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi; rm -rf "$work"' EXIT

venv=${AZ_VENV:-}
if [ -z "$venv" ]; then
  venv=$work/venv
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet azure-cli
fi
"$venv/bin/az" version --query '"azure-cli"' -o tsv | sed 's/^/azure-cli /'

"$bin" sandbox serve --dir "$work/sb" >"$work/serve.log" 2>&1 &
pid=$!
for _ in $(seq 300); do [ -f "$work/sb/server.json" ] && break; sleep 0.1; done
# shellcheck disable=SC1091
. "$work/sb/env"
# az's and kubectl's own files stay in the throwaway directory.
export AZURE_CONFIG_DIR=$work/azure KUBECONFIG=$work/kubeconfig AZURE_CORE_NO_COLOR=1
az() { "$venv/bin/az" "$@"; }

step() { printf '\n--- %s\n' "$*"; }
fail() { printf 'FAILED: %s\n' "$*" >&2; exit 1; }
expect_eq() { # WHAT EXPECTED ACTUAL
  [ "$2" = "$3" ] || fail "$1: expected [$2], got [$3]"
  printf 'ok   %s = %s\n' "$1" "$3"
}
expect_contains() { # WHAT NEEDLE HAYSTACK
  case "$3" in *"$2"*) printf 'ok   %s\n' "$1" ;; *) fail "$1: [$2] not in [$3]" ;; esac
}
# Runs a command that must fail; prints and returns its standard error. A Python traceback is a
# client crash, never an acceptable refusal.
refused() {
  local err status=0
  err=$("$@" 2>&1 >/dev/null) || status=$?
  [ "$status" -ne 0 ] || fail "expected \`$*\` to fail"
  case "$err" in *Traceback*|*"AttributeError"*|*"KeyError"*) fail "client crash in \`$*\`: $err" ;; esac
  printf '%s' "$err"
}

rg=rg-demo
cluster=aks-demo
vault=kv-cis-az-demo
canary="vaultwire-canary-az-$RANDOM$RANDOM"

step "sign in (the public cloud's authority, through the sandbox)"
az login --service-principal -u "$AZURE_CLIENT_ID" -p "$AZURE_CLIENT_SECRET" --tenant "$AZURE_TENANT_ID" -o none
expect_eq "subscription" "$AZURE_SUBSCRIPTION_ID" "$(az account show --query id -o tsv)"
expect_eq "cloud" "AzureCloud" "$(az account show --query environmentName -o tsv)"

step "the control's test plan: the add-on is not enabled yet, native Secrets are in use"
expect_eq "addonProfiles.azureKeyvaultSecretsProvider.enabled" "" \
  "$(az aks show -g $rg -n $cluster --query addonProfiles.azureKeyvaultSecretsProvider.enabled -o tsv)"
az aks get-credentials -g $rg -n $cluster --admin -o none 2>/dev/null
server=$(kubectl config view --minify -o jsonpath='{.clusters[0].cluster.server}')
fqdn=$(az aks show -g $rg -n $cluster --query fqdn -o tsv)
expect_eq "kubeconfig server" "https://$fqdn:443" "$server"
secrets=$(kubectl get secrets --all-namespaces --no-headers)
expect_contains "kubectl get secrets --all-namespaces lists the seeded native Secret" "payments-db-legacy" "$secrets"

step "implementation plan: a vault, the add-on, a grant, a SecretProviderClass"
az keyvault create -n $vault -g $rg -l westeurope -o none
vault_id=$(az keyvault show -n $vault --query id -o tsv)
expect_eq "vault id (found without -g)" \
  "/subscriptions/$AZURE_SUBSCRIPTION_ID/resourceGroups/$rg/providers/Microsoft.KeyVault/vaults/$vault" "$vault_id"
expect_eq "vaultUri" "https://$vault.vault.azure.net/" "$(az keyvault show -n $vault --query properties.vaultUri -o tsv)"
expect_eq "new vaults use Azure RBAC" "true" "$(az keyvault show -n $vault --query properties.enableRbacAuthorization -o tsv)"
az aks enable-addons --addons azure-keyvault-secrets-provider -g $rg -n $cluster -o none
expect_eq "add-on enabled" "true" \
  "$(az aks show -g $rg -n $cluster --query addonProfiles.azureKeyvaultSecretsProvider.enabled -o tsv)"
expect_eq "rotation off" "false" \
  "$(az aks show -g $rg -n $cluster --query addonProfiles.azureKeyvaultSecretsProvider.config.enableSecretRotation -o tsv)"
addon_client=$(az aks show -g $rg -n $cluster --query addonProfiles.azureKeyvaultSecretsProvider.identity.clientId -o tsv)
[ -n "$addon_client" ] || fail "the add-on has no identity"
expect_eq "grant by client ID (resolved through Microsoft Graph)" "ServicePrincipal" \
  "$(az role assignment create --assignee "$addon_client" --role "Key Vault Secrets User" --scope "$vault_id" --query principalType -o tsv)"
cat >"$work/spc.yaml" <<YAML
apiVersion: secrets-store.csi.x-k8s.io/v1
kind: SecretProviderClass
metadata:
  name: payments-db
  namespace: payments
spec:
  provider: azure
  parameters:
    usePodIdentity: "false"
    useVMManagedIdentity: "true"
    userAssignedIdentityID: "$addon_client"
    keyvaultName: "$vault"
    tenantId: "$AZURE_TENANT_ID"
    objects: |
      array:
        - |
          objectName: db-password
          objectType: secret
YAML
expect_contains "kubectl apply -f a SecretProviderClass" "created" "$(kubectl apply -f "$work/spc.yaml")"

step "the implementation plan again: each step succeeds or refuses as az does on Azure"
expect_contains "az keyvault create refuses an existing vault" "already exists" \
  "$(refused az keyvault create -n $vault -g $rg -l westeurope -o none)"
expect_contains "az aks enable-addons refuses an enabled add-on" "already enabled" \
  "$(refused az aks enable-addons --addons azure-keyvault-secrets-provider -g $rg -n $cluster -o none)"
expect_eq "the same grant again returns the existing one" "ServicePrincipal" \
  "$(az role assignment create --assignee "$addon_client" --role "Key Vault Secrets User" --scope "$vault_id" --query principalType -o tsv)"
expect_contains "kubectl apply again" "unchanged" "$(kubectl apply -f "$work/spc.yaml")"
expect_eq "one assignment at the vault" "1" \
  "$(az role assignment list --scope "$vault_id" --query 'length(@)' -o tsv)"

step "role assignments name their principal and role"
listed=$(az role assignment list --scope "$vault_id" --query "join(' / ', [0].[principalName, roleDefinitionName])" -o tsv)
expect_eq "principalName / roleDefinitionName" "$addon_client / Key Vault Secrets User" "$listed"

step "backout: disabling the add-on is refused while SecretProviderClasses exist"
expect_contains "az aks disable-addons refused" "Secret Provider Classes" \
  "$(refused az aks disable-addons -a azure-keyvault-secrets-provider -g $rg -n $cluster -o none)"
kubectl delete secretproviderclass payments-db -n payments >/dev/null
az aks disable-addons -a azure-keyvault-secrets-provider -g $rg -n $cluster -o none
expect_eq "add-on disabled" "false" \
  "$(az aks show -g $rg -n $cluster --query addonProfiles.azureKeyvaultSecretsProvider.enabled -o tsv)"

step "the add-on again, with secret rotation"
az aks enable-addons --addons azure-keyvault-secrets-provider --enable-secret-rotation -g $rg -n $cluster -o none
expect_eq "rotation on" "true" \
  "$(az aks show -g $rg -n $cluster --query addonProfiles.azureKeyvaultSecretsProvider.config.enableSecretRotation -o tsv)"

step "secrets by the vault's hostname"
az role assignment create --assignee "$AZURE_CLIENT_ID" --role "Key Vault Secrets Officer" --scope "$vault_id" -o none
secret_id=$(az keyvault secret set --vault-name $vault -n db-password --value "$canary" --query id -o tsv)
expect_contains "secret id on the vault's host" "https://$vault.vault.azure.net/secrets/db-password/" "$secret_id"
expect_value() { # WHAT EXPECTED ACTUAL, without printing either: they are secret values
  [ "$2" = "$3" ] || fail "$1: not the value set"
  printf 'ok   %s\n' "$1"
}
expect_value "az keyvault secret show returns the value set" "$canary" \
  "$(az keyvault secret show --vault-name $vault -n db-password --query value -o tsv)"
expect_eq "az keyvault secret list" "db-password" "$(az keyvault secret list --vault-name $vault --query '[].name' -o tsv)"
az keyvault secret delete --vault-name $vault -n db-password -o none 2>/dev/null
expect_eq "az keyvault secret list-deleted" "db-password" \
  "$(az keyvault secret list-deleted --vault-name $vault --query '[].name' -o tsv)"
az keyvault secret recover --vault-name $vault -n db-password -o none
expect_value "the recovered secret has its value" "$canary" \
  "$(az keyvault secret show --vault-name $vault -n db-password --query value -o tsv)"
az keyvault secret set --vault-name $vault -n scratch --value "$canary" -o none
az keyvault secret delete --vault-name $vault -n scratch -o none 2>/dev/null
az keyvault secret purge --vault-name $vault -n scratch
expect_eq "az keyvault secret purge leaves nothing deleted" "" \
  "$(az keyvault secret list-deleted --vault-name $vault --query '[].name' -o tsv)"

step "vaults without -g: list, delete, list-deleted, recover"
expect_contains "az keyvault list" "$vault" "$(az keyvault list --query '[].name' -o tsv)"
az keyvault delete -n $vault -o none 2>/dev/null
expect_eq "az keyvault list after delete" "" "$(az keyvault list --query "[?name=='$vault'].name" -o tsv)"
expect_contains "az keyvault list-deleted" "$vault" "$(az keyvault list-deleted --query '[].name' -o tsv)"
az keyvault recover -n $vault -o none
expect_eq "recovered vault" "$vault_id" "$(az keyvault show -n $vault --query id -o tsv)"

step "a pod mounts the class; the vault firewall admits the cluster's outbound IP"
# Re-enabling the add-on gave it a new identity, as on AKS: the class names the new one.
old_client=$addon_client
addon_client=$(az aks show -g $rg -n $cluster --query addonProfiles.azureKeyvaultSecretsProvider.identity.clientId -o tsv)
sed -i "s/$old_client/$addon_client/" "$work/spc.yaml"
kubectl apply -f "$work/spc.yaml" >/dev/null
az role assignment create --assignee "$addon_client" --role "Key Vault Secrets User" --scope "$vault_id" -o none
cat >"$work/pod.yaml" <<YAML
apiVersion: v1
kind: Pod
metadata:
  name: cis-check
  namespace: payments
spec:
  containers:
    - name: check
      image: busybox:1.36
      volumeMounts: [{name: secrets, mountPath: /mnt/secrets, readOnly: true}]
  volumes:
    - name: secrets
      csi: {driver: secrets-store.csi.k8s.io, readOnly: true, volumeAttributes: {secretProviderClass: payments-db}}
YAML
# Waits (up to 60 s, the kubelet's retries back off) until `kubectl get` of JSONPATH on the pod
# prints EXPECTED.
wait_for_pod() { # WHAT JSONPATH EXPECTED
  local got=
  for _ in $(seq 120); do
    got=$(kubectl get pod cis-check -n payments -o "jsonpath=$2")
    case "$got" in *"$3"*) printf 'ok   %s\n' "$1"; return ;; esac
    sleep 0.5
  done
  kubectl get events -n payments --field-selector involvedObject.name=cis-check >&2 || true
  fail "$1: [$3] not in [$got]"
}
kubectl apply -f "$work/pod.yaml" >/dev/null
wait_for_pod "the pod runs with its secret mounted" '{.status.phase}' Running
kubectl delete pod cis-check -n payments >/dev/null
az keyvault update -n $vault --default-action Deny -o none
expect_contains "az is outside the firewall" "Client address is not authorized" \
  "$(refused az keyvault secret show --vault-name $vault -n db-password)"
kubectl apply -f "$work/pod.yaml" >/dev/null
for _ in $(seq 60); do
  events=$(kubectl get events -n payments --field-selector involvedObject.name=cis-check,reason=FailedMount -o 'jsonpath={.items[*].message}')
  case "$events" in *ForbiddenByFirewall*) break ;; esac
  sleep 0.5
done
expect_contains "behind the firewall, the pod fails to mount" "ForbiddenByFirewall" "$events"
outbound=$(az aks show -g $rg -n $cluster --query 'networkProfile.loadBalancerProfile.effectiveOutboundIPs[0].id' -o tsv)
outbound_ip=$(az network public-ip show --ids "$outbound" --query ipAddress -o tsv)
expect_contains "az network public-ip show finds the outbound IP" "20." "$outbound_ip"
az keyvault network-rule add -n $vault --ip-address "$outbound_ip" -o none
wait_for_pod "with the outbound IP allowed, the pod runs" '{.status.phase}' Running
az keyvault update -n $vault --default-action Allow -o none

step "workload identity: a managed identity, a federated credential, a class with clientID"
identity_client=$(az identity create -g $rg -n id-cis-payments -l westeurope --query clientId -o tsv)
identity_principal=$(az identity show -g $rg -n id-cis-payments --query principalId -o tsv)
az role assignment create --assignee-object-id "$identity_principal" --assignee-principal-type ServicePrincipal \
  --role "Key Vault Secrets User" --scope "$vault_id" -o none
issuer=$(az aks show -g $rg -n $cluster --query oidcIssuerProfile.issuerUrl -o tsv)
expect_contains "the cluster's OIDC issuer" "oic.prod-aks.azure.com" "$issuer"
sed -e "s/payments-db/payments-wi/" -e '/useVMManagedIdentity/d' -e '/userAssignedIdentityID/d' \
  -e "s/    keyvaultName:/    clientID: \"$identity_client\"\n    keyvaultName:/" "$work/spc.yaml" >"$work/spc-wi.yaml"
kubectl apply -f "$work/spc-wi.yaml" >/dev/null
sed -e "s/cis-check/cis-check-wi/" -e "s/payments-db/payments-wi/" "$work/pod.yaml" >"$work/pod-wi.yaml"
kubectl apply -f "$work/pod-wi.yaml" >/dev/null
for _ in $(seq 60); do
  events=$(kubectl get events -n payments --field-selector involvedObject.name=cis-check-wi,reason=FailedMount -o 'jsonpath={.items[*].message}')
  case "$events" in *AADSTS700211*) break ;; esac
  sleep 0.5
done
expect_contains "without a federated credential, Entra refuses the pod's token" "AADSTS700211" "$events"
expect_eq "az identity federated-credential create" "system:serviceaccount:payments:default" \
  "$(az identity federated-credential create --name payments-default --identity-name id-cis-payments -g $rg \
      --issuer "$issuer" --subject system:serviceaccount:payments:default --audiences api://AzureADTokenExchange \
      --query subject -o tsv)"
for _ in $(seq 120); do
  phase=$(kubectl get pod cis-check-wi -n payments -o 'jsonpath={.status.phase}')
  [ "$phase" = Running ] && break
  sleep 0.5
done
expect_eq "with the federated credential, the pod runs" "Running" "$phase"

step "vaultwire's own workload identity, read back by az (cloud = AzureCloud, through the proxy)"
mkdir -p "$work/repo/plans"
cat >"$work/repo/plans/orders.toml" <<TOML
version = 1
[target]
cloud = "AzureCloud"
subscription_id = "$AZURE_SUBSCRIPTION_ID"
tenant_id = "$AZURE_TENANT_ID"

[vault.cis]
name = "$vault"
resource_group = "$rg"
location = "westeurope"

[addon.demo]
cluster = "$cluster"
resource_group = "$rg"
workload_identity = true

[identity.orders]
name = "id-vw-orders"
resource_group = "$rg"
location = "westeurope"

[federation.orders-api]
identity = "orders"
addon = "demo"
namespace = "payments"
service_account = "orders-api"

[grant.orders-reads]
vault = "cis"
principal = { identity = "orders" }
role = "Key Vault Secrets User"

[spc.orders]
addon = "demo"
namespace = "payments"
vault = "cis"
identity = { identity = "orders" }
objects = [{ name = "db-password", type = "secret" }]
TOML
(cd "$work/repo" && "$bin" apply plans/orders.toml --auto-approve >"$work/orders-apply.log" 2>&1) \
  || { cat "$work/orders-apply.log"; fail "vaultwire apply plans/orders.toml"; }
orders_client=$(cd "$work/repo" && "$bin" output plans/orders.toml identity.orders.client_id)
expect_eq "az identity show: the client ID vaultwire output prints" "$orders_client" \
  "$(az identity show -g $rg -n id-vw-orders --query clientId -o tsv)"
orders_principal=$(az identity show -g $rg -n id-vw-orders --query principalId -o tsv)
expect_eq "az identity federated-credential list: the cluster's issuer" "$issuer" \
  "$(az identity federated-credential list --identity-name id-vw-orders -g $rg --query '[0].issuer' -o tsv)"
expect_eq "az identity federated-credential list: the service account" "system:serviceaccount:payments:orders-api" \
  "$(az identity federated-credential list --identity-name id-vw-orders -g $rg --query '[0].subject' -o tsv)"
expect_eq "az role assignment list: the identity may read the vault" "Key Vault Secrets User" \
  "$(az role assignment list --assignee "$orders_principal" --scope "$vault_id" --query '[0].roleDefinitionName' -o tsv)"
expect_eq "the class names the identity's client ID" "$orders_client" \
  "$(kubectl get secretproviderclass orders -n payments -o 'jsonpath={.spec.parameters.clientID}')"
# Destroy turns the add-on off, which AKS refuses while classes remain: remove az's own first.
kubectl delete pod cis-check cis-check-wi -n payments --wait=false >/dev/null
kubectl delete secretproviderclass payments-db payments-wi -n payments >/dev/null
(cd "$work/repo" && "$bin" destroy plans/orders.toml --auto-approve >"$work/orders-destroy.log" 2>&1) \
  || { cat "$work/orders-destroy.log"; fail "vaultwire destroy plans/orders.toml"; }
gone=$(refused az identity show -g $rg -n id-vw-orders)
expect_contains "after destroy, az finds no identity" "ResourceNotFound" "$gone"

step "kubectl through the API server's FQDN"
expect_contains "kubectl get namespaces" "payments" "$(kubectl get namespaces --no-headers)"

step "no secret value in the sandbox's log or request journal"
curl -s --cacert "$VAULTWIRE_SANDBOX_CA" "$VAULTWIRE_SANDBOX_ENDPOINT/_sandbox/journal" >"$work/journal.json"
grep -q "db-password" "$work/journal.json" || fail "the journal does not show the secret requests"
if grep -q "$canary" "$work/serve.log" "$work/journal.json"; then
  fail "the secret value appears in the sandbox's log or journal"
fi
echo "ok   canary absent from serve's log and journal"
echo
echo "azure-cli against vaultwire sandbox serve: ok"
