//! The committed JSON Schemas (docs/schema/) match the result structs, and real outputs of each
//! command validate against them.

use chatcap::Cli;
use chatcap::cli::{SchemaName, schema_json};
use clap::Parser;

fn committed(name: &str) -> String {
    let path = format!("{}/docs/schema/{name}.json", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn output(argv: &[&str]) -> serde_json::Value {
    let mut out = Vec::new();
    chatcap::run(Cli::parse_from(argv), &mut out).unwrap();
    serde_json::from_slice(&out).unwrap()
}

fn assert_valid(schema: &str, instance: &serde_json::Value, what: &str) {
    let schema: serde_json::Value = serde_json::from_str(schema).unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    let errors: Vec<String> = validator
        .iter_errors(instance)
        .take(5)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(
        errors.is_empty(),
        "{what} does not match its schema: {errors:#?}"
    );
}

#[test]
fn committed_schemas_match_the_result_structs() {
    for (name, which) in [
        ("plan", SchemaName::Plan),
        ("caps", SchemaName::Caps),
        ("simulate", SchemaName::Simulate),
        ("roster", SchemaName::Roster),
    ] {
        assert_eq!(
            committed(name),
            schema_json(which).unwrap(),
            "docs/schema/{name}.json is stale; regenerate it with \
             `chatcap schema {name} > docs/schema/{name}.json`"
        );
    }
}

#[test]
fn outputs_validate_against_their_schemas() {
    let plan = output(&["chatcap", "plan", "-r", "3", "--format", "json", "-q"]);
    assert_valid(&committed("plan"), &plan, "plan");
    let caps = output(&[
        "chatcap", "caps", "--caps", "2,3", "-r", "3", "--format", "json", "-q",
    ]);
    assert_valid(&committed("caps"), &caps, "caps");
    let simulate = output(&["chatcap", "simulate", "-r", "2", "--format", "json", "-q"]);
    assert_valid(&committed("simulate"), &simulate, "simulate");
    let week = format!("{}/profiles/week.toml", env!("CARGO_MANIFEST_DIR"));
    let roster = output(&[
        "chatcap", "roster", "-p", &week, "-r", "2", "--rounds", "0", "--format", "json", "-q",
    ]);
    assert_valid(&committed("roster"), &roster, "roster");
    // The schema can fail: a plan without its totals does not validate.
    let mut broken = plan.clone();
    broken.as_object_mut().unwrap().remove("totals");
    let schema: serde_json::Value = serde_json::from_str(&committed("plan")).unwrap();
    assert!(!jsonschema::is_valid(&schema, &broken));
}
