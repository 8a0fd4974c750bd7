//! Templates over a flow's variables: `/v1/chats/{chat.id}/messages` for paths and headers, and
//! JSON bodies whose string leaves are templates (a leaf that is one variable alone takes the
//! variable's JSON value, so `"{agent.skills}"` sends an array and `"{agent.concurrency}"` a
//! number). Names are resolved once, when the target is checked: at run time a template is a
//! list of text pieces and slot numbers, and rendering it looks nothing up by name.

use std::fmt::Write;

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use serde_json::Value;

/// Characters a variable's value keeps unescaped in a path: RFC 3986's unreserved ones.
const PATH_VALUE: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// A flow variable's slot in its [`Values`].
pub(crate) type Slot = u16;

/// One piece of a template.
#[derive(Debug, Clone, PartialEq)]
enum Piece {
    Text(String),
    Var(Slot),
}

/// A string template, variables resolved to slots; constants (`run.*`, `env.*`) are text.
#[derive(Debug, Clone, PartialEq, Default)]
pub(crate) struct Template {
    pieces: Vec<Piece>,
}

/// A JSON body template.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum JsonTemplate {
    Literal(Value),
    Text(Template),
    /// A string that is one variable: the variable's JSON value.
    Whole(Slot),
    Array(Vec<JsonTemplate>),
    Object(Vec<(String, JsonTemplate)>),
}

/// What a `{name}` in a template stands for.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Resolved {
    Slot(Slot),
    Constant(String),
}

enum Parsed<'a> {
    Text(&'a str),
    Name(&'a str),
}

/// Splits `text` into text and `{name}` pieces; `{{` and `}}` are literal braces.
fn parse<'a>(text: &'a str, mut each: impl FnMut(Parsed<'a>)) -> Result<(), String> {
    let mut rest = text;
    while !rest.is_empty() {
        let Some(at) = rest.find(['{', '}']) else {
            each(Parsed::Text(rest));
            break;
        };
        if at > 0 {
            each(Parsed::Text(&rest[..at]));
        }
        let tail = &rest[at..];
        if let Some(after) = tail.strip_prefix("{{") {
            each(Parsed::Text("{"));
            rest = after;
        } else if let Some(after) = tail.strip_prefix("}}") {
            each(Parsed::Text("}"));
            rest = after;
        } else if tail.starts_with('}') {
            return Err(format!(
                "{text:?} has a lone `}}`; write `}}}}` for a brace"
            ));
        } else {
            let Some(end) = tail.find('}') else {
                return Err(format!(
                    "{text:?} opens `{{` without closing it; write `{{{{` for a brace"
                ));
            };
            let name = tail[1..end].trim();
            if !name.contains('.') || name.contains(['{', ' ']) {
                return Err(format!(
                    "{text:?} names `{{{name}}}`, which is not `{{scope.name}}` (e.g. {{chat.id}})"
                ));
            }
            each(Parsed::Name(name));
            rest = &tail[end + 1..];
        }
    }
    Ok(())
}

impl Template {
    /// Compiles `text`, resolving each name with `resolve` (an error names the variable).
    pub(crate) fn compile(
        text: &str,
        resolve: &mut impl FnMut(&str) -> Result<Resolved, String>,
    ) -> Result<Template, String> {
        let mut pieces: Vec<Piece> = Vec::new();
        let mut error = None;
        let push_text = |pieces: &mut Vec<Piece>, s: &str| match pieces.last_mut() {
            Some(Piece::Text(t)) => t.push_str(s),
            _ => pieces.push(Piece::Text(s.to_string())),
        };
        parse(text, |piece| match piece {
            Parsed::Text(s) => push_text(&mut pieces, s),
            Parsed::Name(name) => match resolve(name) {
                Ok(Resolved::Slot(slot)) => pieces.push(Piece::Var(slot)),
                Ok(Resolved::Constant(value)) => push_text(&mut pieces, &value),
                Err(e) => {
                    error.get_or_insert(e);
                }
            },
        })?;
        match error {
            Some(e) => Err(e),
            None => Ok(Template { pieces }),
        }
    }

    /// The slot, when the template is one variable and nothing else.
    fn whole(&self) -> Option<Slot> {
        match self.pieces.as_slice() {
            [Piece::Var(slot)] => Some(*slot),
            _ => None,
        }
    }

    /// Whether the template has no variable.
    pub(crate) fn constant(&self) -> Option<&str> {
        match self.pieces.as_slice() {
            [] => Some(""),
            [Piece::Text(t)] => Some(t),
            _ => None,
        }
    }

    /// Writes the template with `values` into `out`, variables percent-encoded when
    /// `encode`; `Err` names the first variable without a value.
    pub(crate) fn render_into(
        &self,
        values: &Values,
        encode: bool,
        out: &mut String,
    ) -> Result<(), Slot> {
        for piece in &self.pieces {
            match piece {
                Piece::Text(t) => out.push_str(t),
                Piece::Var(slot) => {
                    let value = values.get(*slot).ok_or(*slot)?;
                    match value {
                        // In runs of text: one piece when nothing needs encoding.
                        Value::String(s) if encode => {
                            out.extend(utf8_percent_encode(s, PATH_VALUE))
                        }
                        Value::String(s) => out.push_str(s),
                        other => {
                            let _ = write!(out, "{other}");
                        }
                    }
                }
            }
        }
        Ok(())
    }

    /// The template rendered as a new string.
    pub(crate) fn render(&self, values: &Values, encode: bool) -> Result<String, Slot> {
        let mut out = String::new();
        self.render_into(values, encode, &mut out)?;
        Ok(out)
    }
}

impl JsonTemplate {
    /// Compiles a TOML body (tables, arrays, strings as templates, other values as they are).
    pub(crate) fn compile(
        value: &toml::Value,
        resolve: &mut impl FnMut(&str) -> Result<Resolved, String>,
    ) -> Result<JsonTemplate, String> {
        Ok(match value {
            toml::Value::String(s) => {
                let t = Template::compile(s, resolve)?;
                if let Some(slot) = t.whole() {
                    JsonTemplate::Whole(slot)
                } else if let Some(text) = t.constant() {
                    JsonTemplate::Literal(Value::String(text.to_string()))
                } else {
                    JsonTemplate::Text(t)
                }
            }
            toml::Value::Array(items) => JsonTemplate::Array(
                items
                    .iter()
                    .map(|v| JsonTemplate::compile(v, resolve))
                    .collect::<Result<_, _>>()?,
            ),
            toml::Value::Table(table) => JsonTemplate::Object(
                table
                    .iter()
                    .map(|(k, v)| Ok((k.clone(), JsonTemplate::compile(v, resolve)?)))
                    .collect::<Result<_, String>>()?,
            ),
            other => JsonTemplate::Literal(
                serde_json::to_value(other).map_err(|e| format!("a body value: {e}"))?,
            ),
        })
    }

    /// The body with `values`, written as JSON text into `out` (no intermediate value).
    pub(crate) fn write_json(&self, values: &Values, out: &mut Vec<u8>) -> Result<(), Slot> {
        match self {
            JsonTemplate::Literal(v) => write_value(out, v),
            JsonTemplate::Text(t) => write_value(out, t.render(values, false)?.as_str()),
            JsonTemplate::Whole(slot) => write_value(out, values.get(*slot).ok_or(*slot)?),
            JsonTemplate::Array(items) => {
                out.push(b'[');
                for (i, t) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(b',');
                    }
                    t.write_json(values, out)?;
                }
                out.push(b']');
            }
            JsonTemplate::Object(fields) => {
                out.push(b'{');
                for (i, (k, t)) in fields.iter().enumerate() {
                    if i > 0 {
                        out.push(b',');
                    }
                    write_value(out, k.as_str());
                    out.push(b':');
                    t.write_json(values, out)?;
                }
                out.push(b'}');
            }
        }
        Ok(())
    }
}

/// Writes `value` as JSON text (strings escaped).
fn write_value<T: serde::Serialize + ?Sized>(out: &mut Vec<u8>, value: &T) {
    // Serializing strings, numbers and JSON values into a vector cannot fail.
    let _ = serde_json::to_writer(out, value);
}

/// A flow's variable values by slot (`None`: not set yet).
#[derive(Debug, Clone, Default)]
pub(crate) struct Values {
    slots: Vec<Option<Value>>,
}

impl Values {
    /// `len` empty slots.
    pub(crate) fn new(len: usize) -> Values {
        Values {
            slots: vec![None; len],
        }
    }

    pub(crate) fn get(&self, slot: Slot) -> Option<&Value> {
        self.slots.get(usize::from(slot))?.as_ref()
    }

    pub(crate) fn set(&mut self, slot: Slot, value: Value) {
        if let Some(s) = self.slots.get_mut(usize::from(slot)) {
            *s = Some(value);
        }
    }

    pub(crate) fn set_str(&mut self, slot: Slot, value: &str) {
        self.set(slot, Value::String(value.to_string()));
    }

    /// The value as text: a string as it is, a number or other value as JSON.
    pub(crate) fn text(&self, slot: Slot) -> Option<String> {
        match self.get(slot)? {
            Value::String(s) => Some(s.clone()),
            Value::Null => None,
            other => Some(other.to_string()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resolver(name: &str) -> Result<Resolved, String> {
        match name {
            "chat.id" => Ok(Resolved::Slot(0)),
            "agent.skills" => Ok(Resolved::Slot(1)),
            "run.account" => Ok(Resolved::Constant("7".into())),
            other => Err(format!("unknown {other}")),
        }
    }

    #[test]
    fn templates_render_slots_constants_and_escaped_braces() {
        let t = Template::compile("/a/{run.account}/c/{chat.id}?x={{y}}", &mut resolver).unwrap();
        let mut values = Values::new(2);
        assert_eq!(t.render(&values, true), Err(0));
        values.set_str(0, "a b/c");
        assert_eq!(t.render(&values, true).unwrap(), "/a/7/c/a%20b%2Fc?x={y}");
        assert_eq!(t.render(&values, false).unwrap(), "/a/7/c/a b/c?x={y}");
        assert!(Template::compile("{chat.nope}", &mut resolver).is_err());
        assert!(Template::compile("{chat", &mut resolver).is_err());
        assert!(Template::compile("a}b", &mut resolver).is_err());
        assert!(Template::compile("{id}", &mut resolver).is_err());
    }

    #[test]
    fn a_body_leaf_of_one_variable_keeps_its_json_type() {
        let body: toml::Value = toml::from_str(
            r#"skills = "{agent.skills}"
               label = "chat {chat.id}"
               fixed = 3
               list = ["{run.account}"]"#,
        )
        .unwrap();
        let t = JsonTemplate::compile(&body, &mut resolver).unwrap();
        let mut values = Values::new(2);
        values.set_str(0, "c1");
        values.set(1, serde_json::json!([{"name": "sales"}]));
        let expected = serde_json::json!({"skills": [{"name": "sales"}], "label": "chat c1",
            "fixed": 3, "list": ["7"]});
        let mut text = Vec::new();
        t.write_json(&values, &mut text).unwrap();
        assert_eq!(serde_json::from_slice::<Value>(&text).unwrap(), expected);
    }
}
