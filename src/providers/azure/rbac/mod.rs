//! Azure RBAC: role assignments that grant principals data-plane roles on vaults, and the
//! role definitions they name.

mod client;
mod requests;

pub use client::{Assignment, RbacClient, RbacError, RbacOptions};
pub use requests::{
    RoleAssignment, RoleAssignmentSpec, RoleDefinition, create_role_assignment,
    delete_role_assignment, get_role_assignment, get_role_definition, list_role_assignments,
    role_assignment_name, role_definition_id,
};
