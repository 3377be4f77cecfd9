//! Errors every part of wsmon can raise that the binary's edge maps to an exit code.

/// Bad arguments, config or input files: said in one line, exit code 2.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub(crate) struct UsageError(pub String);
