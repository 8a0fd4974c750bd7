//! `[routing]`: agent selection, accept mode, chat order and transfer place, read through the
//! profile's policy spellings.

use toml::Value;

use super::super::RoutingSettings;
use super::super::locate::{FieldPath, Issue};
use super::super::policy_names::{parse_agent_selection, parse_transfer_place};
use super::super::raw::RawRouting;
use super::values::{DURATION_EXAMPLE, duration, positive_duration, to_time};
use crate::routing::{AcceptMode, ChatOrder};

/// The policies `raw` gives, defaults for the rest.
pub(super) fn routing(raw: RawRouting, path: &FieldPath) -> Result<RoutingSettings, Issue> {
    let mut settings = RoutingSettings::default();
    if let Some(s) = &raw.agent_selection {
        settings.agent_selection = parse_agent_selection(s)
            .map_err(|m| Issue::new(&path.key("agent_selection"), format!("= {m}")))?;
    }
    if let Some(value) = &raw.accept {
        settings.accept = accept(value, &path.key("accept"))?;
    }
    if let Some(value) = &raw.priority_weight {
        let weight_path = path.key("priority_weight");
        settings.order = match value {
            Value::String(s) if s == "strict" => ChatOrder::Strict,
            other => ChatOrder::Weighted {
                priority_weight: to_time(duration(other, &weight_path).map_err(|_| {
                    Issue::new(&weight_path, format!("= {other} is not a duration or \"strict\"; write e.g. \"60s\" (waiting time one priority point is worth) or \"strict\""))
                })?),
            },
        };
    }
    if let Some(s) = &raw.transfer_place {
        settings.transfer_place = parse_transfer_place(s)
            .map_err(|m| Issue::new(&path.key("transfer_place"), format!("= {m}")))?;
    }
    Ok(settings)
}

/// `accept = "auto"` or `accept = { timeout = "30s", misses_before_away = 1 }`.
fn accept(value: &Value, path: &FieldPath) -> Result<AcceptMode, Issue> {
    let hint = "use accept = \"auto\" or accept = { timeout = \"30s\", misses_before_away = 1 }";
    match value {
        Value::String(s) if s == "auto" => Ok(AcceptMode::Auto),
        Value::Table(table) => {
            if let Some(key) = table
                .keys()
                .find(|k| *k != "timeout" && *k != "misses_before_away")
            {
                return Err(Issue::new(
                    &path.key(key),
                    format!("is not an accept key; {hint}"),
                ));
            }
            let timeout = match table.get("timeout") {
                None => 30.0,
                Some(v) => positive_duration(v, &path.key("timeout"), DURATION_EXAMPLE)?,
            };
            let misses = match table.get("misses_before_away") {
                None => 1,
                Some(Value::Integer(n)) if (1..=i64::from(u32::MAX)).contains(n) => *n as u32,
                Some(other) => {
                    return Err(Issue::new(
                        &path.key("misses_before_away"),
                        format!(
                            "= {other} is not a whole number from 1 to {}; use e.g. 1 (consecutive misses before the agent goes away)",
                            u32::MAX
                        ),
                    ));
                }
            };
            Ok(AcceptMode::Offer {
                timeout: to_time(timeout),
                misses_before_away: misses,
            })
        }
        other => Err(Issue::new(
            path,
            format!("= {other} is not an accept mode; {hint}"),
        )),
    }
}
