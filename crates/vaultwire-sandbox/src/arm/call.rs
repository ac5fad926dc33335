//! One authenticated ARM call as handlers receive it.

use crate::auth::Caller;
use crate::context::Ctx;
use crate::exchange::Req;

#[derive(Debug, Clone, Copy)]
pub struct Call<'a> {
    pub ctx: &'a Ctx<'a>,
    pub req: &'a Req,
    pub caller: &'a Caller,
    /// The checked api-version, lower-cased.
    pub api_version: &'a str,
}

impl Call<'_> {
    /// The name ARM records in `systemData.createdBy`: the caller's app ID or object ID.
    pub fn actor(&self) -> String {
        self.caller
            .app_id
            .clone()
            .unwrap_or_else(|| self.caller.object_id.clone())
    }

    /// An absolute URL on the sandbox for `path_and_query`.
    pub fn url(&self, path_and_query: &str) -> String {
        format!("{}{path_and_query}", self.ctx.arm())
    }
}
