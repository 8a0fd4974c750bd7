//! The profile's spellings of the routing policies (`"least-busy"`, `"keep"`, ...): the routing
//! core keeps only the enums, so parsing and printing a policy's name happens here, in one table
//! per policy, for the profile, the reports and the server alike.

use crate::routing::{AgentSelection, TransferPlace};

/// Every agent-selection policy with its profile spelling.
pub const AGENT_SELECTIONS: [(&str, AgentSelection); 4] = [
    ("least-busy", AgentSelection::LeastBusy),
    ("longest-idle", AgentSelection::LongestIdle),
    ("round-robin", AgentSelection::RoundRobin),
    ("most-skilled", AgentSelection::MostSkilled),
];

/// Every transfer place with its profile spelling.
pub const TRANSFER_PLACES: [(&str, TransferPlace); 2] = [
    ("keep", TransferPlace::Keep),
    ("reset", TransferPlace::Reset),
];

/// The profile spelling of an agent-selection policy.
pub fn agent_selection_name(selection: AgentSelection) -> &'static str {
    name_in(&AGENT_SELECTIONS, selection)
}

/// The policy a profile spelling names; the error lists every spelling.
pub fn parse_agent_selection(text: &str) -> Result<AgentSelection, String> {
    parse_in(&AGENT_SELECTIONS, text, "an agent selection policy")
}

/// The profile spelling of a transfer place.
pub fn transfer_place_name(place: TransferPlace) -> &'static str {
    name_in(&TRANSFER_PLACES, place)
}

/// The transfer place a profile spelling names; the error lists every spelling.
pub fn parse_transfer_place(text: &str) -> Result<TransferPlace, String> {
    parse_in(&TRANSFER_PLACES, text, "a transfer place")
}

/// The spellings of a table, quoted and joined for a message: `"keep" or "reset"`.
pub(crate) fn spellings<T>(table: &[(&str, T)]) -> String {
    let quoted: Vec<String> = table.iter().map(|(name, _)| format!("{name:?}")).collect();
    match quoted.split_last() {
        Some((last, rest)) if !rest.is_empty() => format!("{} or {last}", rest.join(", ")),
        _ => quoted.join(""),
    }
}

fn name_in<T: PartialEq + Copy>(table: &[(&'static str, T)], value: T) -> &'static str {
    // Every table lists every variant (checked by the tests below).
    table
        .iter()
        .find(|(_, v)| *v == value)
        .map_or("", |(name, _)| *name)
}

fn parse_in<T: Copy>(table: &[(&str, T)], text: &str, what: &str) -> Result<T, String> {
    table
        .iter()
        .find(|(name, _)| *name == text)
        .map(|(_, v)| *v)
        .ok_or_else(|| format!("{text:?} is not {what}; use {}", spellings(table)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_policy_has_one_spelling_that_round_trips() {
        for selection in AgentSelection::ALL {
            let name = agent_selection_name(selection);
            assert!(!name.is_empty(), "{selection:?} has no spelling");
            assert_eq!(parse_agent_selection(name), Ok(selection));
        }
        for place in [TransferPlace::Keep, TransferPlace::Reset] {
            assert_eq!(parse_transfer_place(transfer_place_name(place)), Ok(place));
        }
    }

    #[test]
    fn unknown_spellings_list_the_right_ones() {
        let e = parse_agent_selection("fastest").unwrap_err();
        assert_eq!(
            e,
            "\"fastest\" is not an agent selection policy; use \"least-busy\", \
             \"longest-idle\", \"round-robin\" or \"most-skilled\""
        );
        let e = parse_transfer_place("front").unwrap_err();
        assert!(e.ends_with("use \"keep\" or \"reset\""), "{e}");
    }
}
