//! The ARM front door: authenticate, match the route, check the subscription and api-version,
//! and hand the call to the resource's handler; then add ARM's headers.

use http::{Method, StatusCode};

use crate::arm::call::Call;
use crate::arm::route::Route;
use crate::arm::{
    access_policies, api_version, cluster_actions, deleted_vaults, federated_credentials,
    generic_resources, identities, managed_clusters, metadata, operations, public_ips,
    resource_groups, response, role_assignments, role_definitions, vaults,
};
use crate::auth::{Audience, authenticate};
use crate::context::Ctx;
use crate::exchange::{Req, Resp};
use crate::world::World;

/// Answers one ARM request.
pub fn handle(ctx: &Ctx<'_>, world: &mut World, req: &Req) -> Resp {
    let route = Route::parse(&req.segments());
    let mut resp = answer(ctx, world, req, route);
    response::finish(req, &mut resp, ctx.now);
    resp
}

/// The journal's name for an ARM request's route.
pub fn label(req: &Req) -> &'static str {
    Route::parse(&req.segments()).map_or("arm (unknown route)", |route| route.label())
}

fn answer(ctx: &Ctx<'_>, world: &mut World, req: &Req, route: Option<Route>) -> Resp {
    // The one ARM document served without a token: clients read it before they sign in.
    if metadata::is_endpoints(req) {
        return metadata::endpoints(ctx, req);
    }
    let caller = match authenticate(ctx, req, Audience::Arm) {
        Ok(caller) => caller,
        Err(failure) => return response::unauthorized(ctx, &failure),
    };
    let Some(route) = route else {
        return response::error(
            StatusCode::NOT_FOUND,
            "InvalidResourceType",
            format!(
                "The resource type could not be found in the namespace for path '{}'. The sandbox serves resource groups, Microsoft.KeyVault, Microsoft.ContainerService and Microsoft.Authorization.",
                req.path
            ),
        );
    };
    if let Some(sub) = route.subscription()
        && !sub.eq_ignore_ascii_case(&world.subscription_id)
    {
        return response::error(
            StatusCode::NOT_FOUND,
            "SubscriptionNotFound",
            format!("The subscription '{sub}' could not be found."),
        );
    }
    let api_version = match api_version::check(
        route.resource_type(),
        req.query_param("api-version").as_deref(),
    ) {
        Ok(version) => version,
        Err(error) => return error,
    };
    let call = Call {
        ctx,
        req,
        caller: &caller,
        api_version: &api_version,
    };
    dispatch(&call, world, route)
}

fn dispatch(call: &Call<'_>, world: &mut World, route: Route) -> Resp {
    let method = call.req.method.clone();
    match (route, method) {
        (Route::Subscriptions, Method::GET) => resource_groups::list_subscriptions(call, world),
        (Route::Subscription { .. }, Method::GET) => resource_groups::get_subscription(call, world),
        (Route::ResourceGroups { .. }, Method::GET) => resource_groups::list(call, world),
        (Route::ResourceGroup { rg, .. }, Method::GET) => resource_groups::get(call, world, &rg),
        (Route::ResourceGroup { rg, .. }, Method::HEAD) => resource_groups::exists(world, &rg),
        (Route::ResourceGroup { rg, .. }, Method::PUT) => resource_groups::put(call, world, &rg),
        (Route::Vaults { rg, .. }, Method::GET) => vaults::list(call, world, rg.as_deref()),
        (Route::Vault { rg, name, .. }, Method::GET) => vaults::get(call, world, &rg, &name),
        (Route::Vault { rg, name, .. }, Method::PUT) => vaults::put(call, world, &rg, &name),
        (Route::Vault { rg, name, .. }, Method::PATCH) => vaults::patch(call, world, &rg, &name),
        (Route::Vault { rg, name, .. }, Method::DELETE) => vaults::delete(call, world, &rg, &name),
        (Route::VaultAccessPolicy { rg, name, kind, .. }, Method::PUT) => {
            access_policies::update(call, world, &rg, &name, &kind)
        }
        (Route::CheckVaultName { .. }, Method::POST) => vaults::check_name(call, world),
        (Route::DeletedVaults { .. }, Method::GET) => deleted_vaults::list(call, world),
        (Route::DeletedVault { location, name, .. }, Method::GET) => {
            deleted_vaults::get(call, world, &location, &name)
        }
        (Route::PurgeDeletedVault { location, name, .. }, Method::POST) => {
            deleted_vaults::purge(call, world, &location, &name)
        }
        (Route::VaultOperation { id, .. }, Method::GET) => {
            operations::vault_result(call, world, &id)
        }
        (Route::Clusters { rg, .. }, Method::GET) => {
            managed_clusters::list(call, world, rg.as_deref())
        }
        (Route::Cluster { rg, name, .. }, Method::GET) => {
            managed_clusters::get(call, world, &rg, &name)
        }
        (Route::Cluster { rg, name, .. }, Method::PUT) => {
            managed_clusters::put(call, world, &rg, &name)
        }
        (Route::Cluster { rg, name, .. }, Method::PATCH) => {
            cluster_actions::update_tags(call, world, &rg, &name)
        }
        (
            Route::ClusterCredential {
                rg, name, admin, ..
            },
            Method::POST,
        ) => cluster_actions::credentials(call, world, &rg, &name, admin),
        (Route::ClusterOperation { id, .. }, Method::GET) => {
            operations::cluster_status(call, world, &id)
        }
        (Route::RoleAssignments { scope }, Method::GET) => {
            role_assignments::list(call, world, &scope)
        }
        (Route::RoleAssignment { scope, name }, Method::GET) => {
            role_assignments::get(call, world, &scope, &name)
        }
        (Route::RoleAssignment { scope, name }, Method::PUT) => {
            role_assignments::put(call, world, &scope, &name)
        }
        (Route::RoleAssignment { scope, name }, Method::DELETE) => {
            role_assignments::delete(call, world, &scope, &name)
        }
        (Route::RoleDefinitions { .. }, Method::GET) => role_definitions::list(call, world),
        (Route::RoleDefinition { id, .. }, Method::GET) => role_definitions::get(call, world, &id),
        (Route::Resources { rg, .. }, Method::GET) => {
            generic_resources::list(call, world, rg.as_deref())
        }
        (Route::ManagedHsms { .. } | Route::DeletedManagedHsms { .. }, Method::GET) => {
            generic_resources::empty()
        }
        (Route::PublicIpAddress { .. }, Method::GET) => public_ips::get(call, world),
        (Route::Identities { rg, .. }, Method::GET) => identities::list(call, world, rg.as_deref()),
        (Route::Identity { rg, name, .. }, Method::GET) => identities::get(call, world, &rg, &name),
        (Route::Identity { rg, name, .. }, Method::PUT) => identities::put(call, world, &rg, &name),
        (Route::Identity { rg, name, .. }, Method::DELETE) => {
            identities::delete(call, world, &rg, &name)
        }
        (Route::FederatedCredentials { rg, name, .. }, Method::GET) => {
            federated_credentials::list(call, world, &rg, &name)
        }
        (
            Route::FederatedCredential {
                rg,
                name,
                credential,
                ..
            },
            method,
        ) if method == Method::GET || method == Method::PUT || method == Method::DELETE => {
            federated_credentials::handle(call, world, &rg, &name, &credential, &method)
        }
        (_, method) => response::error(
            StatusCode::METHOD_NOT_ALLOWED,
            "MethodNotAllowed",
            format!("The requested resource does not support http method '{method}'."),
        ),
    }
}
