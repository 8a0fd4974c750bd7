//! `chatcap validate PROFILE`: load a profile and report what is wrong with it.

use std::io::Write;
use std::path::PathBuf;

use clap::Args;

use super::GlobalArgs;
use crate::error::Result;

/// Arguments of `chatcap validate`.
#[derive(Debug, Clone, Args)]
pub struct ValidateArgs {
    /// The profile (TOML) to check.
    pub profile: PathBuf,
}

pub(crate) fn run(
    _global: &GlobalArgs,
    _args: &ValidateArgs,
    _stdout: &mut dyn Write,
) -> Result<()> {
    Ok(())
}
