//! `chatcap schema NAME`: the JSON Schema of a command's `--format json` output, generated from
//! the result structs themselves so that it cannot drift from what the commands write.

use std::io::Write;

use clap::{Args, ValueEnum};

use super::GlobalArgs;
use crate::error::{Error, Result};
use crate::report::Format;

/// Commands whose JSON output has a schema.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SchemaName {
    /// `chatcap plan`.
    Plan,
    /// `chatcap caps`.
    Caps,
    /// `chatcap simulate`.
    Simulate,
    /// `chatcap roster`.
    Roster,
}

/// Arguments of `chatcap schema`.
#[derive(Debug, Clone, Args)]
pub(crate) struct SchemaArgs {
    /// The command whose JSON output to describe.
    #[arg(value_enum)]
    pub name: SchemaName,
}

/// The JSON Schema (draft 2020-12) of `name`'s JSON output, pretty-printed.
pub fn schema_json(name: SchemaName) -> serde_json::Result<String> {
    let schema = match name {
        SchemaName::Plan => schemars::schema_for!(crate::plan::PlanReport),
        SchemaName::Caps => schemars::schema_for!(crate::plan::caps::CapsReport),
        SchemaName::Simulate => schemars::schema_for!(crate::sim::SimulationReport),
        SchemaName::Roster => schemars::schema_for!(crate::roster::RosterReport),
    };
    serde_json::to_string_pretty(&schema).map(|s| s + "\n")
}

pub(crate) fn run(global: &GlobalArgs, args: &SchemaArgs, stdout: &mut dyn Write) -> Result<()> {
    super::refuse_format(global, &[Format::Json], "schema", "JSON only")?;
    let text = schema_json(args.name)?;
    let write = |out: &mut dyn Write| out.write_all(text.as_bytes()).and_then(|()| out.flush());
    match &global.out {
        Some(path) if path.as_os_str() != "-" => {
            std::fs::write(path, &text).map_err(|source| Error::Write {
                path: path.clone(),
                cause: source,
            })
        }
        _ => write(stdout).map_err(|source| Error::Write {
            path: "-".into(),
            cause: source,
        }),
    }
}
