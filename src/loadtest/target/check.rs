//! The one place a target file becomes a [`Target`]: every operation known, every template's
//! variables defined where the call runs, every pointer well formed, every role's credentials
//! given. Each error names the file, the operation and call, and the fix.

use std::collections::BTreeMap;

use super::raw::{RawAuth, RawCall, RawTarget};
use super::readings::{
    agent_status, check_pointer, message_poll, method, refusals, states, stats_reading,
    status_code, view, work_poll,
};
use super::template::Resolved;
use super::vars::{AGENT_BUILTINS, CUSTOMER_BUILTINS, Registry};
use super::{
    AgentOps, Call, Capture, CustomerOps, EndpointInfo, Header, JsonTemplate, Op, Pointer, Reading,
    Target, TargetContext, TargetError, Template,
};
use crate::api::ChatState;

const CUSTOMER_OPS: [&str; 5] = ["start", "send", "wait_reply", "read", "leave"];
const AGENT_OPS: [&str; 7] = [
    "login",
    "status",
    "wait_work",
    "accept",
    "send",
    "close",
    "transfer",
];
const RUN_OPS: [&str; 1] = ["stats"];
/// Parses and checks the target file `file` with text `text`.
pub(super) fn parse(
    file: &str,
    text: &str,
    context: &TargetContext,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Target, TargetError> {
    let fail = |detail: String| TargetError {
        file: file.to_string(),
        detail,
    };
    let raw: RawTarget = toml::from_str(text).map_err(|e| {
        fail(format!(
            "not a valid target file: {}",
            e.to_string().trim_end()
        ))
    })?;
    Checker::new(&raw, context, env)
        .map_err(&fail)?
        .target(file, &raw)
        .map_err(fail)
}

/// What the checks share: constants, credentials, report rows.
struct Checker<'a> {
    constants: BTreeMap<String, String>,
    env: &'a dyn Fn(&str) -> Option<String>,
    auth: &'a BTreeMap<String, RawAuth>,
    endpoints: Vec<EndpointInfo>,
}

/// The operation being checked: its full name, role and the variables it can use.
struct Scope<'r> {
    op: &'static str,
    role: &'static str,
    registry: &'r mut Registry,
    known: Vec<String>,
}

impl<'a> Checker<'a> {
    fn new(
        raw: &'a RawTarget,
        context: &TargetContext,
        env: &'a dyn Fn(&str) -> Option<String>,
    ) -> Result<Checker<'a>, String> {
        let mut constants = BTreeMap::new();
        constants.insert("run.agent_token".into(), context.agent_token.clone());
        constants.insert("run.time_scale".into(), context.time_scale.to_string());
        let mut checker = Checker {
            constants,
            env,
            auth: &raw.auth,
            endpoints: Vec::new(),
        };
        for name in context.vars.keys() {
            if !raw.vars.contains_key(name) {
                let have: Vec<&str> = raw.vars.keys().map(String::as_str).collect();
                return Err(format!(
                    "--var {name}: the target has no [vars] {name}; its variables: {}",
                    if have.is_empty() {
                        "none".to_string()
                    } else {
                        have.join(", ")
                    }
                ));
            }
        }
        for (name, value) in &raw.vars {
            let text = match context.vars.get(name) {
                Some(given) => given.clone(),
                None => {
                    let mut resolve = |n: &str| checker.constant(n, &format!("[vars] {name}"));
                    let t = Template::compile(value, &mut resolve)
                        .map_err(|e| format!("[vars] {name}: {e}"))?;
                    t.constant().unwrap_or_default().to_string()
                }
            };
            checker.constants.insert(format!("run.{name}"), text);
        }
        for role in raw.auth.keys() {
            if !["customer", "agent", "operator"].contains(&role.as_str()) {
                return Err(format!(
                    "[auth.{role}]: unknown role; the roles are customer, agent and operator"
                ));
            }
        }
        Ok(checker)
    }

    /// A `run.*` or `env.*` value.
    fn constant(&self, name: &str, place: &str) -> Result<Resolved, String> {
        if let Some(var) = name.strip_prefix("env.") {
            return (self.env)(var).map(Resolved::Constant).ok_or_else(|| {
                format!(
                    "{place} uses {{{name}}} but {var} is not set in the environment; export it \
                     or write the value in [vars]"
                )
            });
        }
        if let Some(value) = self.constants.get(name) {
            return Ok(Resolved::Constant(value.clone()));
        }
        let have: Vec<&str> = self.constants.keys().map(String::as_str).collect();
        Err(format!(
            "{place} uses {{{name}}}, which is not defined; add it to [vars] (run.* variables: \
             {})",
            have.join(", ")
        ))
    }

    fn target(mut self, file: &str, raw: &RawTarget) -> Result<Target, String> {
        unknown_ops("customer", raw.customer.keys(), &CUSTOMER_OPS)?;
        unknown_ops("agent", raw.agent.keys(), &AGENT_OPS)?;
        unknown_ops("run", raw.run.keys(), &RUN_OPS)?;
        let states = states(&raw.states)?;
        let agent_status = agent_status(&raw.agent_status)?;

        let mut customers = Registry::new(CUSTOMER_BUILTINS);
        let builtins: Vec<String> = CUSTOMER_BUILTINS
            .iter()
            .map(|(n, _)| n.to_string())
            .collect();
        let start = self.op(&raw.customer, "customer.start", &mut customers, &builtins)?;
        let start = start.ok_or_else(|| missing("customer.start", "creates the chat"))?;
        if !start
            .calls
            .iter()
            .any(|c| c.captures.iter().any(|k| k.var == "chat.id"))
        {
            return Err(
                "customer.start: no call captures chat.id; add capture = { \"chat.id\" = \
                 \"/pointer/to/id\" } to the call that creates the chat"
                    .into(),
            );
        }
        let after_start = with_captures(&builtins, &start);
        let mut customer_op = |checker: &mut Self, name: &'static str, what: &str| {
            checker
                .op(&raw.customer, name, &mut customers, &after_start)?
                .ok_or_else(|| missing(name, what))
        };
        let send = customer_op(&mut self, "customer.send", "sends the customer's message")?;
        let wait_reply = customer_op(&mut self, "customer.wait_reply", "polls the messages")?;
        let leave = customer_op(&mut self, "customer.leave", "ends the chat as the customer")?;
        let read = self.op(&raw.customer, "customer.read", &mut customers, &after_start)?;

        let mut agents = Registry::new(AGENT_BUILTINS);
        let builtins: Vec<String> = AGENT_BUILTINS.iter().map(|(n, _)| n.to_string()).collect();
        let login = self.op(&raw.agent, "agent.login", &mut agents, &builtins)?;
        let login = login.ok_or_else(|| missing("agent.login", "signs the agent in"))?;
        let after_login = with_captures(&builtins, &login);
        let mut agent_op = |checker: &mut Self, name: &'static str| {
            checker.op(&raw.agent, name, &mut agents, &after_login)
        };
        let status = agent_op(&mut self, "agent.status")?;
        let wait_work = agent_op(&mut self, "agent.wait_work")?;
        let accept = agent_op(&mut self, "agent.accept")?;
        let agent_send = agent_op(&mut self, "agent.send")?;
        let close = agent_op(&mut self, "agent.close")?;
        let transfer = agent_op(&mut self, "agent.transfer")?;
        let wait_work = wait_work.ok_or_else(|| missing("agent.wait_work", "polls for work"))?;
        if accept.is_some()
            && let Reading::Work(w) = &wait_work.last().reading
            && w.offer.is_none()
        {
            return Err(
                "agent.wait_work: the target accepts offers (agent.accept) but its work items \
                 name no offer; add offer = \"/pointer/to/offer_id\" to work, or remove \
                 agent.accept for a backend that assigns chats"
                    .into(),
            );
        }
        let mut run_registry = Registry::new(&[]);
        let stats = self.op(&raw.run, "run.stats", &mut run_registry, &[])?;
        if !states.values().any(|s| *s == ChatState::Closed) {
            return Err(
                "[states] maps no backend state to closed; map the backend's word for an ended \
                 chat, e.g. resolved = \"closed\""
                    .into(),
            );
        }
        Ok(Target {
            name: raw.name.clone(),
            about: raw.about.clone(),
            file: file.to_string(),
            customer: CustomerOps {
                start,
                send,
                wait_reply,
                read,
                leave,
            },
            agent: AgentOps {
                login,
                status: status.ok_or_else(|| missing("agent.status", "sets the status"))?,
                wait_work,
                accept,
                send: agent_send.ok_or_else(|| missing("agent.send", "sends a message"))?,
                close: close.ok_or_else(|| missing("agent.close", "closes a chat"))?,
                transfer,
            },
            stats,
            endpoints: self.endpoints,
            states,
            agent_status,
            customer_replies: raw.customer_replies.unwrap_or(true),
            customer_slots: customers.customer_slots(),
            agent_slots: agents.agent_slots(),
        })
    }

    /// Checks operation `name` if the file has it.
    fn op(
        &mut self,
        ops: &BTreeMap<String, Vec<RawCall>>,
        name: &'static str,
        registry: &mut Registry,
        known: &[String],
    ) -> Result<Option<Op>, String> {
        let (role, short) = name.split_once('.').expect("operation names have a role");
        let Some(raw_calls) = ops.get(short) else {
            return Ok(None);
        };
        if raw_calls.is_empty() {
            return Err(format!(
                "{name} has no call; give it at least one [[{name}]]"
            ));
        }
        let mut scope = Scope {
            op: name,
            role,
            registry,
            known: known.to_vec(),
        };
        let mut calls = Vec::new();
        for (i, raw) in raw_calls.iter().enumerate() {
            let last = i + 1 == raw_calls.len();
            let call = self
                .call(&mut scope, raw, last)
                .map_err(|e| format!("{name}, call {:?}: {e}", raw.name))?;
            calls.push(call);
        }
        Ok(Some(Op { name, calls }))
    }

    fn call(&mut self, scope: &mut Scope, raw: &RawCall, last: bool) -> Result<Call, String> {
        if raw.name.trim().is_empty() {
            return Err("its name is empty; name it (the row in the report)".into());
        }
        let method = method(&raw.method)?;
        if !raw.path.starts_with('/') {
            return Err(format!(
                "path {:?} does not start with `/`; give the path under --host",
                raw.path
            ));
        }
        let path = self.template(scope, &raw.path, "path")?;
        let mut headers = Vec::new();
        for (name, value) in &raw.headers {
            let value = self.template(scope, value, &format!("header {name}"))?;
            headers.push(header(name, value, ""));
        }
        headers.extend(self.auth(scope, raw.auth.as_deref())?);
        let body = match &raw.body {
            None => None,
            Some(b) => {
                let mut resolve = |n: &str| self.resolve(scope, n, "the body");
                Some(JsonTemplate::compile(b, &mut resolve)?)
            }
        };
        let refused = refusals(scope.op, &raw.refused)?;
        let hints = raw
            .hints
            .iter()
            .map(|(s, h)| Ok((status_code(s)?, h.clone())))
            .collect::<Result<_, String>>()?;
        let every = raw
            .every
            .as_deref()
            .map(|e| {
                humantime::parse_duration(e)
                    .map_err(|err| format!("every = {e:?}: {err}; write e.g. \"500ms\""))
            })
            .transpose()?;
        let reading = self.reading(scope, raw, last)?;
        let captures = self.captures(scope, raw)?;
        let selection = super::select::of(&captures, &reading);
        let route = format!("{} {}", raw.method.to_uppercase(), raw.path);
        // The backend's counts are read outside the report's rows.
        let endpoint = if scope.role == "run" {
            usize::MAX
        } else {
            self.endpoint(&raw.name, route, raw.long_poll)?
        };
        Ok(Call {
            endpoint,
            name: raw.name.clone(),
            method,
            path,
            body,
            headers,
            ok: raw.ok.clone(),
            refused,
            hints,
            captures,
            long_poll: raw.long_poll,
            every,
            reading,
            selection,
            vars: scope.registry.names().into(),
        })
    }

    fn resolve(&self, scope: &Scope, name: &str, place: &str) -> Result<Resolved, String> {
        if name.starts_with("run.") || name.starts_with("env.") {
            return self.constant(name, place);
        }
        if scope.known.iter().any(|k| k == name)
            && let Some(slot) = scope.registry.slot(name)
        {
            return Ok(Resolved::Slot(slot));
        }
        Err(format!(
            "{place} uses {{{name}}}, which {} does not have here; its variables: {}, run.* and \
             env.* (a captured variable is known after the call that captures it)",
            scope.op,
            scope.known.join(", ")
        ))
    }

    fn template(&self, scope: &Scope, text: &str, place: &str) -> Result<Template, String> {
        let mut resolve = |n: &str| self.resolve(scope, n, place);
        Template::compile(text, &mut resolve)
    }

    /// The credentials of the call's role (or of `auth`).
    fn auth(&self, scope: &Scope, auth: Option<&str>) -> Result<Vec<Header>, String> {
        let default = match scope.op {
            "customer.start" | "agent.login" | "run.stats" => "none",
            _ => scope.role,
        };
        let role = auth.unwrap_or(default);
        if role == "none" {
            return Ok(Vec::new());
        }
        let Some(raw) = self.auth.get(role) else {
            return Err(format!(
                "it calls as {role} but the target has no [auth.{role}]; add [auth.{role}] with \
                 bearer = \"...\" or header = {{ ... }}, or set auth = \"none\""
            ));
        };
        let place = format!("[auth.{role}]");
        let mut headers = Vec::new();
        if let Some(bearer) = &raw.bearer {
            let value = self.template(scope, bearer, &place)?;
            headers.push(header("Authorization", value, "Bearer "));
        }
        for (name, value) in &raw.header {
            headers.push(header(name, self.template(scope, value, &place)?, ""));
        }
        Ok(headers)
    }

    fn captures(&self, scope: &mut Scope, raw: &RawCall) -> Result<Vec<Capture>, String> {
        let mut out = Vec::new();
        for (var, pointer) in &raw.capture {
            check_pointer(pointer, &format!("capture {var}"))?;
            let allowed = match scope.role {
                "customer" => var.starts_with("chat.") && !is_builtin(CUSTOMER_BUILTINS, var),
                "agent" => var.starts_with("agent.") && !is_builtin(AGENT_BUILTINS, var),
                _ => false,
            };
            if !allowed {
                return Err(format!(
                    "capture {var:?}: {} captures into new {}.* variables (not the built-in \
                     ones); rename it, e.g. {}.token",
                    scope.op,
                    if scope.role == "agent" {
                        "agent"
                    } else {
                        "chat"
                    },
                    if scope.role == "agent" {
                        "agent"
                    } else {
                        "chat"
                    },
                ));
            }
            let special_here = match var.as_str() {
                "chat.id" => scope.op == "customer.start",
                "agent.presence" => scope.op == "agent.wait_work",
                _ => true,
            };
            if !special_here {
                return Err(format!(
                    "capture {var:?} belongs to {} only",
                    if var == "chat.id" {
                        "customer.start"
                    } else {
                        "agent.wait_work"
                    }
                ));
            }
            let slot = scope.registry.declare(var);
            if !scope.known.contains(var) {
                scope.known.push(var.clone());
            }
            out.push(Capture {
                slot,
                var: var.clone(),
                pointer: Pointer::new(pointer),
            });
        }
        Ok(out)
    }

    /// The row of call `name`: a name used twice must mean the same route.
    fn endpoint(&mut self, name: &str, route: String, long_poll: bool) -> Result<usize, String> {
        if let Some(i) = self.endpoints.iter().position(|e| e.name == name) {
            let e = &self.endpoints[i];
            if e.route != route || e.long_poll != long_poll {
                return Err(format!(
                    "another call is named {name:?} with route {}; give each call its own name",
                    e.route
                ));
            }
            return Ok(i);
        }
        self.endpoints.push(EndpointInfo {
            name: name.to_string(),
            route,
            long_poll,
        });
        Ok(self.endpoints.len() - 1)
    }

    /// The operation-specific reading of a call's answer; misplaced keys are refused.
    fn reading(&self, scope: &Scope, raw: &RawCall, last: bool) -> Result<Reading, String> {
        let op = scope.op;
        let misplaced = |key: &str, home: &str| {
            Err(format!(
                "`{key}` belongs to the last call of {home}; remove it here"
            ))
        };
        let is = |home: &str| op == home && last;
        if raw.own_cursor.is_some() && !is("customer.send") {
            return misplaced("own_cursor", "customer.send");
        }
        let message_keys = raw.agent_items.is_some() || raw.cursor.is_some();
        if (message_keys || raw.item_cursor.is_some()) && !is("customer.wait_reply") {
            return misplaced("agent_items/cursor", "customer.wait_reply");
        }
        if (raw.work.is_some() || raw.gone.is_some() || raw.snapshot) && !is("agent.wait_work") {
            return misplaced("work/gone/snapshot", "agent.wait_work");
        }
        if raw.items.is_some() && !is("customer.wait_reply") && !is("agent.wait_work") {
            return misplaced("items", "customer.wait_reply or agent.wait_work");
        }
        if (raw.view.is_some() || raw.time.is_some())
            && !is("customer.read")
            && !is("customer.leave")
        {
            return misplaced("view/time", "customer.read or customer.leave");
        }
        let stats_keys = !raw.counts.is_empty() || raw.check.is_some();
        if (stats_keys || raw.route_latency_buckets.is_some()) && op != "run.stats" {
            return Err(
                "`counts`, `check` and `route_latency_buckets` belong to run.stats; \
                        remove them here"
                    .into(),
            );
        }
        if (raw.long_poll || raw.every.is_some())
            && !matches!(op, "customer.wait_reply" | "agent.wait_work")
        {
            return Err(
                "`long_poll` and `every` belong to the polls (customer.wait_reply, \
                        agent.wait_work); remove them here"
                    .into(),
            );
        }
        Ok(match op {
            "customer.send" => match &raw.own_cursor {
                Some(p) => {
                    check_pointer(p, "own_cursor")?;
                    Reading::Sent {
                        own_cursor: Pointer::new(p),
                    }
                }
                None => Reading::Plain,
            },
            "customer.wait_reply" if last => Reading::Messages(message_poll(raw)?),
            "agent.wait_work" if last => Reading::Work(Box::new(work_poll(raw)?)),
            "customer.read" if last => Reading::View(Box::new(view(raw)?)),
            "customer.leave" if last && raw.view.is_some() => Reading::View(Box::new(view(raw)?)),
            "run.stats" => Reading::Stats(Box::new(stats_reading(raw)?)),
            _ => Reading::Plain,
        })
    }
}

fn header(name: &str, value: Template, prefix: &'static str) -> Header {
    Header {
        name: name.to_string(),
        value,
        prefix,
    }
}

fn is_builtin(builtins: &[(&str, &str)], var: &str) -> bool {
    builtins.iter().any(|(n, _)| *n == var)
}

fn missing(op: &str, what: &str) -> String {
    format!("{op} is missing; add [[{op}]] with the call that {what} (docs/targets.md)")
}

/// `known` and every variable `op` captures.
fn with_captures(known: &[String], op: &Op) -> Vec<String> {
    let mut out = known.to_vec();
    for c in op.calls.iter().flat_map(|c| &c.captures) {
        if !out.contains(&c.var) {
            out.push(c.var.clone());
        }
    }
    out
}

fn unknown_ops<'k>(
    role: &str,
    names: impl Iterator<Item = &'k String>,
    known: &[&str],
) -> Result<(), String> {
    for name in names {
        if !known.contains(&name.as_str()) {
            let all: Vec<String> = known.iter().map(|k| format!("{role}.{k}")).collect();
            return Err(format!(
                "unknown operation {role}.{name}; the {role} operations are {}",
                all.join(", ")
            ));
        }
    }
    Ok(())
}
