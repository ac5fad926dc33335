//! Waiting for tasks this process spawned.

use tokio::task::{JoinError, JoinHandle};

/// What `task` returned. A panic in it carries on here, as if its work had run inline; `Err`
/// only when the task was cancelled, which happens when the runtime shuts down.
pub async fn joined<T>(task: JoinHandle<T>) -> Result<T, JoinError> {
    match task.await {
        Ok(output) => Ok(output),
        Err(error) if error.is_panic() => std::panic::resume_unwind(error.into_panic()),
        Err(error) => Err(error),
    }
}
