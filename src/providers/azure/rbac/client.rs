//! The role-assignment client: assigns idempotently, adopts an assignment that already exists,
//! lists, reads and deletes.
//!
//! `RoleAssignmentExists` (the same role for the same principal at the same scope, under
//! another name — made by hand or by another tool) adopts that assignment rather than failing.
//! `PrincipalNotFound` right after an identity was created is Entra replication delay: retried
//! with backoff, a bounded number of times.

use std::time::Duration;

use serde_json::Value;

use super::{
    RoleAssignment, RoleAssignmentSpec, RoleDefinition, create_role_assignment,
    delete_role_assignment, get_role_assignment, get_role_definition, list_role_assignments,
};
use crate::providers::azure::arm::{ArmClient, ArmError, RetrySettings, backoff_delay};
use crate::providers::timer::jitter_fraction;

#[derive(Debug, thiserror::Error)]
pub enum RbacError {
    #[error("principal `{principal_id}` is still unknown to azure after {attempts} attempts")]
    PrincipalNotFound {
        principal_id: String,
        attempts: u32,
        #[source]
        source: ArmError,
    },
    #[error(
        "azure says principal `{principal_id}` already has role `{role}` at `{scope}`, but lists no such assignment"
    )]
    ExistingNotFound {
        principal_id: String,
        role: String,
        scope: String,
    },
    #[error("azure returned a role assignment vaultwire cannot read at `{scope}`")]
    Unreadable { scope: String },
    #[error(transparent)]
    Arm(#[from] ArmError),
}

impl RbacError {
    pub fn help(&self) -> Option<String> {
        match self {
            RbacError::PrincipalNotFound { .. } => Some(
                "a new identity can take minutes to replicate; run again shortly, and check the \
                 object ID"
                    .into(),
            ),
            _ => None,
        }
    }
}

/// The assignment a grant ended up with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Assignment {
    pub assignment: RoleAssignment,
    /// `true` when it existed already under another name and vaultwire took it over.
    pub adopted: bool,
}

/// One wait of [`RbacClient::assign_reporting`] for a principal Entra has not replicated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrincipalWait {
    pub principal_id: String,
    /// The attempt that was refused, and how many there are in all.
    pub attempt: u32,
    pub attempts: u32,
    pub wait: Duration,
}

impl std::fmt::Display for PrincipalWait {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "principal `{}` is not replicated in Entra yet (PrincipalNotFound); retrying in {}s [attempt {} of {}]",
            self.principal_id,
            self.wait.as_secs().max(1),
            self.attempt + 1,
            self.attempts
        )
    }
}

/// How long [`RbacClient::assign`] waits out replication delay.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RbacOptions {
    pub max_attempts: u32,
    pub principal_delay: Duration,
    pub max_principal_delay: Duration,
}

impl Default for RbacOptions {
    fn default() -> Self {
        // About two minutes in all, like az-cli's ten tries with growing sleeps.
        Self {
            max_attempts: 6,
            principal_delay: Duration::from_secs(5),
            max_principal_delay: Duration::from_secs(40),
        }
    }
}

#[derive(Debug, Clone)]
pub struct RbacClient {
    arm: ArmClient,
    options: RbacOptions,
}

fn assignment(scope: &str, value: &Value) -> Result<RoleAssignment, RbacError> {
    RoleAssignment::from_document(value).ok_or_else(|| RbacError::Unreadable {
        scope: scope.to_owned(),
    })
}

impl RbacClient {
    pub fn new(arm: ArmClient, options: RbacOptions) -> Self {
        Self { arm, options }
    }

    /// Makes sure `spec` holds: creates the assignment under its deterministic name, or adopts
    /// the one that already grants the same role to the same principal at the same scope.
    pub async fn assign(&self, spec: &RoleAssignmentSpec) -> Result<Assignment, RbacError> {
        self.assign_reporting(spec, &|_| {}).await
    }

    /// [`Self::assign`], telling `waiting` each time it waits out replication delay.
    pub async fn assign_reporting(
        &self,
        spec: &RoleAssignmentSpec,
        waiting: &(dyn Fn(PrincipalWait) + Sync),
    ) -> Result<Assignment, RbacError> {
        let request = create_role_assignment(spec);
        let backoff = RetrySettings {
            max_retries: self.options.max_attempts,
            initial_delay: self.options.principal_delay,
            max_delay: self.options.max_principal_delay,
            max_retry_after: self.options.max_principal_delay,
        };
        let mut attempt = 0;
        loop {
            attempt += 1;
            match self.arm.send(&request).await {
                Ok(response) => {
                    let body = response.json().unwrap_or(Value::Null);
                    return Ok(Assignment {
                        assignment: assignment(&spec.scope, &body)?,
                        adopted: false,
                    });
                }
                Err(error) if error.is(409, "RoleAssignmentExists") => {
                    return self.adopt(spec).await;
                }
                Err(error) if error.is(400, "PrincipalNotFound") => {
                    if attempt >= self.options.max_attempts {
                        return Err(RbacError::PrincipalNotFound {
                            principal_id: spec.principal_id.clone(),
                            attempts: attempt,
                            source: error,
                        });
                    }
                    let wait = backoff_delay(&backoff, attempt, jitter_fraction());
                    tracing::debug!(principal = %spec.principal_id, attempt, "principal not replicated yet");
                    waiting(PrincipalWait {
                        principal_id: spec.principal_id.clone(),
                        attempt,
                        attempts: self.options.max_attempts,
                        wait,
                    });
                    self.arm.timer().sleep(wait).await;
                }
                Err(error) => return Err(error.into()),
            }
        }
    }

    async fn adopt(&self, spec: &RoleAssignmentSpec) -> Result<Assignment, RbacError> {
        match self.find(spec).await? {
            Some(assignment) => Ok(Assignment {
                assignment,
                adopted: true,
            }),
            None => Err(RbacError::ExistingNotFound {
                principal_id: spec.principal_id.clone(),
                role: spec.role.definition_guid().to_owned(),
                scope: spec.scope.clone(),
            }),
        }
    }

    /// The assignment that fulfils `spec` exactly at its scope, under any name.
    pub async fn find(
        &self,
        spec: &RoleAssignmentSpec,
    ) -> Result<Option<RoleAssignment>, RbacError> {
        let assignments = self
            .list_for_principal(&spec.scope, &spec.principal_id)
            .await?;
        Ok(assignments
            .into_iter()
            .find(|assignment| assignment.fulfils(spec)))
    }

    /// Every assignment of `principal_id` at, above or below `scope`.
    pub async fn list_for_principal(
        &self,
        scope: &str,
        principal_id: &str,
    ) -> Result<Vec<RoleAssignment>, RbacError> {
        let items = self
            .arm
            .list(&list_role_assignments(scope, Some(principal_id)))
            .await?;
        Ok(items
            .iter()
            .filter_map(RoleAssignment::from_document)
            .collect())
    }

    /// Every assignment at or above `scope`.
    pub async fn list_at_scope(&self, scope: &str) -> Result<Vec<RoleAssignment>, RbacError> {
        let items = self.arm.list(&list_role_assignments(scope, None)).await?;
        Ok(items
            .iter()
            .filter_map(RoleAssignment::from_document)
            .collect())
    }

    pub async fn get(&self, scope: &str, name: &str) -> Result<Option<RoleAssignment>, RbacError> {
        match self.arm.read(&get_role_assignment(scope, name)).await? {
            Some(response) => {
                let body = response.json().unwrap_or(Value::Null);
                assignment(scope, &body).map(Some)
            }
            None => Ok(None),
        }
    }

    /// Deletes the assignment with full ID `id`; `false` when it was already gone (204).
    pub async fn delete(&self, id: &str) -> Result<bool, RbacError> {
        let response = self.arm.send(&delete_role_assignment(id)).await?;
        Ok(response.status != 204)
    }

    /// The role definition `guid`, to check a custom role a plan names exists.
    pub async fn role_definition(
        &self,
        scope: &str,
        guid: &str,
    ) -> Result<Option<RoleDefinition>, RbacError> {
        Ok(self
            .arm
            .read(&get_role_definition(scope, guid))
            .await?
            .and_then(|response| response.json().ok())
            .as_ref()
            .and_then(RoleDefinition::from_document))
    }
}

#[cfg(test)]
#[path = "client_tests.rs"]
mod tests;
