//! `chatcap completions SHELL` and `chatcap man`: shell completion scripts and the man page,
//! generated from the clap definitions themselves so that packagers never ship stale ones.

use std::io::Write;

use clap::{Args, CommandFactory};
use clap_complete::Shell;

use super::{Cli, GlobalArgs};
use crate::error::{Error, Result};

/// Arguments of `chatcap completions`.
#[derive(Debug, Clone, Args)]
pub(crate) struct CompletionsArgs {
    /// The shell to write the completion script for.
    #[arg(value_enum)]
    pub shell: Shell,
}

/// Arguments of `chatcap man` (none: the page covers every command).
#[derive(Debug, Clone, Args)]
pub(crate) struct ManArgs {}

pub(crate) fn completions(
    global: &GlobalArgs,
    args: &CompletionsArgs,
    stdout: &mut dyn Write,
) -> Result<()> {
    super::refuse_format(global, &[], "completions", "a shell script")?;
    let mut script = Vec::new();
    clap_complete::generate(args.shell, &mut Cli::command(), "chatcap", &mut script);
    super::write_bytes(global, &script, stdout)
}

pub(crate) fn man(global: &GlobalArgs, stdout: &mut dyn Write) -> Result<()> {
    super::refuse_format(global, &[], "man", "a roff man page")?;
    let mut page = Vec::new();
    clap_mangen::Man::new(Cli::command())
        .render(&mut page)
        .map_err(|cause| Error::Write {
            path: "-".into(),
            cause,
        })?;
    super::write_bytes(global, &page, stdout)
}
