//! Target files: the built-in one loads, and each kind of mistake is refused with the file, the
//! operation and the fix.

use super::*;

fn chatcap_text() -> String {
    CHATCAP.to_string()
}

fn parse(text: &str) -> Result<Target, TargetError> {
    let env = |name: &str| (name == "CHAT_KEY").then(|| "k-123".to_string());
    check::parse("t.toml", text, &TargetContext::default(), &env)
}

/// The built-in target with `from` replaced by `to` (which must occur).
fn edited(from: &str, to: &str) -> String {
    let text = chatcap_text();
    assert!(text.contains(from), "{from}");
    text.replacen(from, to, 1)
}

fn error_of(text: &str) -> String {
    match parse(text) {
        Ok(_) => panic!("accepted"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn the_built_in_target_speaks_chatcap_s_api() {
    let t = load("chatcap", &TargetContext::default()).unwrap();
    assert_eq!(t.name, "chatcap");
    assert!(t.offers() && t.transfers() && t.tells_abandoned());
    let names: Vec<&str> = t.endpoints.iter().map(|e| e.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "create_chat",
            "customer_message",
            "poll_messages",
            "leave_chat",
            "get_chat",
            "agent_login",
            "agent_status",
            "poll_offers",
            "accept_offer",
            "agent_message",
            "close_chat",
            "transfer_chat"
        ]
    );
    let polls: Vec<&str> = t
        .endpoints
        .iter()
        .filter(|e| e.long_poll)
        .map(|e| e.route.as_str())
        .collect();
    assert_eq!(
        polls,
        [
            "GET /v1/chats/{chat.id}/messages?after={chat.cursor}&wait={poll.wait_secs}",
            "GET /v1/agents/{agent.id}/offers?wait={poll.wait_secs}"
        ]
    );
    assert!(matches!(
        t.customer.read.as_ref().unwrap().last().reading,
        Reading::View(_)
    ));
    assert!(t.stats.is_some());
    assert_eq!(t.state("offered"), Some(ChatState::Offered));
}

#[test]
fn unknown_operations_variables_and_roles_are_refused_with_the_fix() {
    let e = error_of(&edited("[[agent.close]]", "[[agent.finish]]"));
    assert!(
        e.starts_with("target t.toml: unknown operation agent.finish"),
        "{e}"
    );
    assert!(e.contains("agent.close"), "{e}");

    let e = error_of(&edited(
        "/v1/chats/{chat.id}/close",
        "/v1/chats/{chat.uid}/close",
    ));
    assert!(e.contains("agent.close, call \"close_chat\""), "{e}");
    assert!(e.contains("{chat.uid}") && e.contains("chat.id"), "{e}");

    let e = error_of(&edited("{run.agent_token}", "{run.operator}"));
    assert!(e.contains("{run.operator}") && e.contains("[vars]"), "{e}");

    // A captured variable is known only after the call that captures it.
    let e = error_of(&edited(
        "body = { queue = \"{chat.queue}\"",
        "body = { queue = \"{chat.token}\"",
    ));
    assert!(
        e.contains("customer.start") && e.contains("{chat.token}"),
        "{e}"
    );

    let e = error_of(&edited("[auth.agent]\nbearer = \"{agent.token}\"\n", ""));
    assert!(
        e.contains("no [auth.agent]") && e.contains("auth = \"none\""),
        "{e}"
    );

    let e = error_of(&edited("[[customer.wait_reply]]", "[[customer.poll]]"));
    assert!(e.contains("unknown operation customer.poll"), "{e}");
}

#[test]
fn pointers_refusals_and_missing_pieces_are_refused() {
    let e = error_of(&edited(
        "\"chat.token\" = \"/token\"",
        "\"chat.token\" = \"token\"",
    ));
    assert!(
        e.contains("not a JSON pointer") && e.contains("\"/token\""),
        "{e}"
    );

    let e = error_of(&edited(
        "refused = { 409 = \"ended\", 404 = \"ended\" }\nown_cursor",
        "refused = { 409 = \"gone\" }\nown_cursor",
    ));
    assert!(e.contains("\"gone\"") && e.contains("\"ended\""), "{e}");

    let e = error_of(&edited("\"chat.id\" = \"/id\", ", ""));
    assert!(e.contains("no call captures chat.id"), "{e}");

    let e = error_of(&edited("offer = \"/offer_id\", ", ""));
    assert!(e.contains("agent.accept") && e.contains("offer ="), "{e}");

    let e = error_of(&edited(
        "agent_items = { pointer = \"/from\", equals = \"agent\" }\n",
        "",
    ));
    assert!(e.contains("which messages are the agent's"), "{e}");

    let e = error_of(&edited(
        "long_poll = true\nrefused = { 404",
        "long_poll = true\nevery = \"soon\"\nrefused = { 404",
    ));
    assert!(e.contains("every = \"soon\""), "{e}");

    let e = error_of(&edited("closed = \"closed\"", "closed = \"done\""));
    assert!(e.contains("[states] closed = \"done\""), "{e}");

    let e = error_of(&edited(
        "name = \"chatcap\"",
        "name = \"chatcap\"\ncolour = \"blue\"",
    ));
    assert!(e.contains("colour"), "{e}");

    let e = error_of(&edited("path = \"/v1/chats\"\n", "path = \"v1/chats\"\n"));
    assert!(e.contains("does not start with `/`"), "{e}");
}

#[test]
fn environment_variables_are_read_when_the_target_loads() {
    let with_env = edited(
        "[auth.customer]",
        "[vars]\nkey = \"{env.CHAT_KEY}\"\n\n[auth.customer]",
    )
    .replace(
        "\"X-Chat-Token\" = \"{chat.token}\"",
        "\"X-Chat-Token\" = \"{chat.token}\", \"X-Key\" = \"{run.key}\"",
    );
    let t = parse(&with_env).unwrap();
    let send = &t.customer.send.calls[0];
    let key = send.headers.iter().find(|h| h.name == "X-Key").unwrap();
    assert_eq!(key.value.constant(), Some("k-123"));
    let e = error_of(&with_env.replace("CHAT_KEY", "NOT_SET_ANYWHERE"));
    assert!(
        e.contains("NOT_SET_ANYWHERE is not set in the environment"),
        "{e}"
    );
}

#[test]
fn a_missing_file_says_how_to_name_a_target() {
    let e = load("/nonexistent/target.toml", &TargetContext::default()).unwrap_err();
    assert!(
        e.to_string()
            .contains("or `chatcap` for the built-in target"),
        "{e}"
    );
}
