//! The public IP addresses AKS creates as a cluster's managed outbound IPs (the load balancer's
//! `effectiveOutboundIPs`), read-only: their address is the source of the cluster's pods'
//! requests, so a user allows it in a vault firewall as on Azure (`az network public-ip show
//! --ids … --query ipAddress`). The shape follows the PublicIPAddresses_Get example.

use http::StatusCode;
use serde_json::json;

use crate::arm::call::Call;
use crate::arm::response;
use crate::exchange::Resp;
use crate::world::{World, derived_uuid};

pub fn get(call: &Call<'_>, world: &World) -> Resp {
    let segments = call.req.segments();
    let at = |i: usize| segments.get(i).map(String::as_str).unwrap_or_default();
    let (rg, name) = (at(3), at(7));
    let wanted = format!(
        "/subscriptions/{}/resourceGroups/{rg}/providers/Microsoft.Network/publicIPAddresses/{name}",
        at(1)
    );
    let found = world.clusters.values().find_map(|cluster| {
        let egress = cluster.egress();
        let (id, address) = egress
            .public_ips
            .into_iter()
            .find(|(id, _)| id.eq_ignore_ascii_case(&wanted))?;
        Some((cluster.location.clone(), id, address))
    });
    let Some((location, id, address)) = found else {
        return response::resource_not_found("Microsoft.Network/publicIPAddresses", name, rg);
    };
    let resource_name = id.rsplit('/').next().unwrap_or(name).to_owned();
    Resp::json(
        StatusCode::OK,
        &json!({
            "name": resource_name,
            "id": id,
            "etag": format!("W/\"{}\"", derived_uuid(world.seed, &format!("{id}:etag"))),
            "location": location,
            "type": "Microsoft.Network/publicIPAddresses",
            "sku": {"name": "Standard", "tier": "Regional"},
            "tags": {},
            "properties": {
                "provisioningState": "Succeeded",
                "resourceGuid": derived_uuid(world.seed, &format!("{id}:resourceGuid")),
                "ipAddress": address.to_string(),
                "publicIPAddressVersion": "IPv4",
                "publicIPAllocationMethod": "Static",
                "idleTimeoutInMinutes": 30,
                "ipTags": []
            }
        }),
    )
}
