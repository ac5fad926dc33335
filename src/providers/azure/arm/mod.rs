//! The Azure Resource Manager client: azure_core's pipeline with vaultwire's retry, rate limit,
//! long-running-operation polling, pagination and typed errors.

pub mod api_version;
mod client;
mod error;
mod lro;
mod request;
mod response;
mod retry;
mod throttle;

pub(crate) use client::send;
pub use client::{ArmClient, ArmClientOptions};
pub use error::{ApiFailure, ArmError, ArmErrorDetail, OperationFailure};
pub use lro::LroSettings;
pub use request::{ArmRequest, OperationKind, encode_segment, resource_path, subscription_path};
pub use response::ArmResponse;
pub(crate) use retry::ArmRetryPolicy;
pub use retry::{RetrySettings, backoff_delay};
pub use throttle::{BucketLimit, Throttle};
