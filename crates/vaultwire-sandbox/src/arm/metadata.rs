//! `GET /metadata/endpoints`: the cloud's endpoints, which `az cloud register` reads (and
//! `ARM_CLOUD_METADATA_URL`, SDKs discovering an Azure Stack). As management.azure.com answers
//! (recorded in hashicorp/go-azure-sdk `sdk/internal/metadata/client_test.go`): api-version
//! 2022-09-01 and later, one cloud object; 2019-05-01 up to it, a list of clouds; earlier, the
//! old shape without names or suffixes. Through the proxy it is the public cloud's document; on
//! the sandbox's own endpoint a cloud named `sandbox` with the endpoint as authority and ARM.

use http::StatusCode;
use serde_json::{Value, json};

use crate::context::{Addressing, Ctx};
use crate::exchange::{Req, Resp};
use crate::hosts;

pub fn is_endpoints(req: &Req) -> bool {
    let segments = req.segments();
    matches!(segments.as_slice(), [first, second]
        if first.eq_ignore_ascii_case("metadata") && second.eq_ignore_ascii_case("endpoints"))
}

pub fn endpoints(ctx: &Ctx<'_>, req: &Req) -> Resp {
    let cloud = cloud(ctx);
    // Dates compare as text: every api-version is `YYYY-MM-DD`, maybe with a suffix ("1.0",
    // the oldest, sorts first too).
    let version = req.query_param("api-version").unwrap_or_default();
    let body = if version.as_str() >= "2022-09-01" {
        cloud
    } else if version.as_str() >= "2019-05-01" {
        json!([cloud])
    } else {
        json!({
            "galleryEndpoint": "https://gallery.azure.com/",
            "graphEndpoint": "https://graph.windows.net/",
            "portalEndpoint": "https://portal.azure.com/",
            "authentication": cloud["authentication"],
        })
    };
    Resp::json(StatusCode::OK, &body)
}

fn cloud(ctx: &Ctx<'_>) -> Value {
    let (name, login, arm) = match ctx.addressing {
        Addressing::AzureHosts => (
            "AzureCloud",
            format!("https://{}", hosts::AUTHORITY_HOST),
            format!("https://{}/", hosts::ARM_HOST),
        ),
        Addressing::Endpoint => ("sandbox", ctx.authority(), format!("{}/", ctx.arm())),
    };
    json!({
        "portal": "https://portal.azure.com",
        "authentication": {
            "loginEndpoint": login,
            "audiences": [
                "https://management.core.windows.net/",
                "https://management.azure.com/",
            ],
            "tenant": "common",
            "identityProvider": "AAD",
        },
        "media": "https://rest.media.azure.net",
        "graphAudience": "https://graph.windows.net/",
        "graph": "https://graph.windows.net/",
        "name": name,
        "suffixes": {
            "azureDataLakeStoreFileSystem": "azuredatalakestore.net",
            "acrLoginServer": "azurecr.io",
            "sqlServerHostname": "database.windows.net",
            "azureDataLakeAnalyticsCatalogAndJob": "azuredatalakeanalytics.net",
            "keyVaultDns": hosts::VAULT_DNS_SUFFIX,
            "storage": "core.windows.net",
            "azureFrontDoorEndpointSuffix": "azurefd.net",
            "storageSyncEndpointSuffix": "afs.azure.net",
            "mhsmDns": "managedhsm.azure.net",
            "mysqlServerEndpoint": "mysql.database.azure.com",
            "postgresqlServerEndpoint": "postgres.database.azure.com",
            "mariadbServerEndpoint": "mariadb.database.azure.com",
            "synapseAnalytics": "dev.azuresynapse.net",
            "attestationEndpoint": "attest.azure.net",
        },
        "batch": "https://batch.core.windows.net/",
        "resourceManager": arm,
        "vmImageAliasDoc": "https://raw.githubusercontent.com/Azure/azure-rest-api-specs/main/arm-compute/quickstart-templates/aliases.json",
        "activeDirectoryDataLake": "https://datalake.azure.net/",
        "sqlManagement": "https://management.core.windows.net:8443/",
        "microsoftGraphResourceId": format!("https://{}/", hosts::GRAPH_HOST),
        "appInsightsResourceId": "https://api.applicationinsights.io",
        "appInsightsTelemetryChannelResourceId": "https://dc.applicationinsights.azure.com/v2/track",
        "attestationResourceId": "https://attest.azure.net",
        "synapseAnalyticsResourceId": "https://dev.azuresynapse.net",
        "logAnalyticsResourceId": "https://api.loganalytics.io",
        "ossrDbmsResourceId": "https://ossrdbms-aad.database.windows.net",
    })
}
