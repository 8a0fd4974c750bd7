//! The shipped Kubernetes Indexed Job, validated against the Kubernetes v1.33 `batch/v1` Job
//! schema (strict: unknown fields are errors; packaged in kubernetes-validate, see the
//! fixture's `$comment`) with its placeholders filled as `deploy/kubernetes/run.sh` fills them.

use serde_json::Value;

const JOB: &str = include_str!("../../deploy/kubernetes/loadtest-job.yaml");
const SCHEMA: &str = include_str!("../fixtures/kubernetes/job-batch-v1.schema.json");

/// The manifest as `run.sh` applies it.
fn filled() -> String {
    [
        ("${SHARDS}", "4"),
        ("${START_AT}", "1796403600"),
        ("${TARGET_HOST}", "http://chat.default.svc:8080"),
        ("${DURATION}", "300s"),
        ("${TIME_SCALE}", "60"),
        ("${EXTRA_FLAGS}", "--agents 24"),
        ("${IMAGE}", "chatcap:latest"),
    ]
    .iter()
    .fold(JOB.to_string(), |text, (from, to)| text.replace(from, to))
}

fn errors(job: &Value) -> Vec<String> {
    let schema: Value = serde_json::from_str(SCHEMA).expect("schema JSON");
    let validator = jsonschema::validator_for(&schema).expect("a valid schema");
    validator
        .iter_errors(job)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect()
}

#[test]
fn the_kubernetes_job_is_a_valid_indexed_job_running_one_shard_per_index() {
    let text = filled();
    assert!(!text.contains("${"), "a placeholder run.sh does not fill");
    let job: Value = serde_saphyr::from_str(&text).expect("the manifest is YAML");
    let found = errors(&job);
    assert!(found.is_empty(), "{found:#?}");

    let spec = &job["spec"];
    assert_eq!(spec["completionMode"], "Indexed");
    assert_eq!(spec["completions"], 4);
    assert_eq!(spec["parallelism"], 4, "every shard runs at once");
    let container = &spec["template"]["spec"]["containers"][0];
    let script = container["args"][0].as_str().expect("the shard's script");
    for needle in [
        "JOB_COMPLETION_INDEX + 1",
        "--shard \"$k/$SHARDS\"",
        "--start-at \"$START_AT\"",
        "--result /tmp/result.json",
        "CHATCAP-RESULT",
    ] {
        assert!(script.contains(needle), "{needle} missing from {script}");
    }
    // run.sh fills every placeholder the manifest has.
    let run_sh = include_str!("../../deploy/kubernetes/run.sh");
    for name in [
        "SHARDS",
        "START_AT",
        "TARGET_HOST",
        "DURATION",
        "TIME_SCALE",
        "EXTRA_FLAGS",
        "IMAGE",
    ] {
        assert!(
            run_sh.contains(&format!("${{{name}}}")),
            "run.sh does not fill {name}"
        );
    }
}

#[test]
fn the_schema_check_catches_a_broken_job() {
    let mut job: Value = serde_saphyr::from_str(&filled()).expect("YAML");
    job["spec"]["completions"] = Value::String("four".into());
    job["spec"]["template"]["spec"]["containers"][0]["imagePullPolcy"] = "Always".into();
    let found = errors(&job);
    assert!(found.len() >= 2, "{found:#?}");
    assert!(
        found.iter().any(|e| e.contains("imagePullPolcy")),
        "{found:#?}"
    );
}
