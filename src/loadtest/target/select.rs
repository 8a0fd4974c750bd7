//! Reading only what a call needs: the pointers a call follows (its captures and its poll's or
//! view's fields) make a [`Selection`], and an answer is parsed into a JSON value holding just
//! those parts; the rest is skipped by the parser without being built. A work poll's offer
//! keeps 8 of its 11 fields, a message poll's message 1 of its 5, a chat view 8 of 20, and
//! nothing is kept of answers no call reads.

use std::fmt;

use serde::de::{self, DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};

use super::read::{Pointer, array_index};
use super::{Capture, Reading};

/// What a call with `captures` and `reading` reads of a successful answer (`None`: nothing).
pub(super) fn of(captures: &[Capture], reading: &Reading) -> Option<Selection> {
    let mut sel = Selection::default();
    for c in captures {
        sel.add(&c.pointer);
    }
    match reading {
        Reading::Plain => {}
        Reading::Sent { own_cursor } => sel.add(own_cursor),
        Reading::Messages(poll) => {
            let inside = [Some(&poll.agent_items.pointer), poll.item_cursor.as_ref()];
            sel.add_each(&poll.items, inside.into_iter().flatten());
            poll.cursor.iter().for_each(|p| sel.add(p));
        }
        Reading::Work(w) => {
            sel.add_each(&w.items, w.item_pointers());
            w.server_time.iter().for_each(|p| sel.add(p));
            if let Some((items, chat)) = &w.gone {
                sel.add_each(items, [chat]);
            }
        }
        Reading::View(v) => {
            v.fields().for_each(|p| sel.add(p));
            if let Some((items, answered, ended)) = &v.legs {
                sel.add_each(
                    items,
                    [Some(answered), ended.as_ref()].into_iter().flatten(),
                );
            }
        }
        Reading::Stats(s) => {
            s.counts
                .iter()
                .flat_map(|(_, ps)| ps)
                .for_each(|p| sel.add(p));
            let fields = [
                &s.time_scale,
                &s.profile,
                &s.queues,
                &s.route_latency_buckets,
            ];
            fields.into_iter().flatten().for_each(|p| sel.add(p));
        }
    }
    (sel != Selection::default()).then_some(sel)
}

/// The parts of a JSON value to keep.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Selection {
    /// The whole value.
    All,
    /// Some members (by key, or by index in an array), and every element of an array.
    Parts {
        fields: Vec<(String, Selection)>,
        each: Option<Box<Selection>>,
    },
}

impl Default for Selection {
    fn default() -> Self {
        Selection::Parts {
            fields: Vec::new(),
            each: None,
        }
    }
}

impl Selection {
    /// Keeps what `pointer` points to.
    pub(crate) fn add(&mut self, pointer: &Pointer) {
        self.at(pointer.tokens()).merge(Selection::All);
    }

    /// Keeps, in every element of the array at `items`, what each of `inside` points to.
    pub(crate) fn add_each<'p>(
        &mut self,
        items: &Pointer,
        inside: impl IntoIterator<Item = &'p Pointer>,
    ) {
        let mut element = Selection::default();
        for p in inside {
            element.add(p);
        }
        let node = self.at(items.tokens());
        node.merge(Selection::Parts {
            fields: Vec::new(),
            each: Some(Box::new(element)),
        });
    }

    /// The node at `tokens`, made if new (inside a node kept whole, that node).
    fn at(&mut self, tokens: &[String]) -> &mut Selection {
        let Some((first, rest)) = tokens.split_first() else {
            return self;
        };
        match self {
            Selection::All => self,
            Selection::Parts { fields, .. } => {
                let i = match fields.iter().position(|(k, _)| k == first) {
                    Some(i) => i,
                    None => {
                        fields.push((first.clone(), Selection::default()));
                        fields.len() - 1
                    }
                };
                fields[i].1.at(rest)
            }
        }
    }

    fn merge(&mut self, other: Selection) {
        match (&mut *self, other) {
            (Selection::All, _) => {}
            (_, Selection::All) => *self = Selection::All,
            (
                Selection::Parts { fields, each },
                Selection::Parts {
                    fields: more,
                    each: more_each,
                },
            ) => {
                for (k, sel) in more {
                    match fields.iter_mut().find(|(f, _)| *f == k) {
                        Some((_, mine)) => mine.merge(sel),
                        None => fields.push((k, sel)),
                    }
                }
                if let Some(e) = more_each {
                    match each {
                        Some(mine) => mine.merge(*e),
                        None => *each = Some(e),
                    }
                }
            }
        }
    }

    /// The selected parts of the JSON text `bytes`, or `None` when it is not JSON.
    pub(crate) fn parse(&self, bytes: &[u8]) -> Option<Value> {
        let mut de = serde_json::Deserializer::from_slice(bytes);
        let value = self.deserialize(&mut de).ok()?;
        de.end().ok()?;
        Some(value)
    }
}

impl<'de> DeserializeSeed<'de> for &Selection {
    type Value = Value;

    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        match self {
            Selection::All => serde::Deserialize::deserialize(d),
            Selection::Parts { .. } => d.deserialize_any(Parts(self)),
        }
    }
}

/// Visits a value keeping the selected parts; scalars are kept as they are.
struct Parts<'s>(&'s Selection);

impl Parts<'_> {
    fn fields(&self) -> &[(String, Selection)] {
        match self.0 {
            Selection::Parts { fields, .. } => fields,
            Selection::All => &[],
        }
    }
}

/// Finds a member's key among the selected ones without allocating it.
struct Key<'s>(&'s [(String, Selection)]);

impl<'de> DeserializeSeed<'de> for Key<'_> {
    type Value = Option<usize>;

    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Option<usize>, D::Error> {
        d.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for Key<'_> {
    type Value = Option<usize>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a member name")
    }

    fn visit_str<E: de::Error>(self, key: &str) -> Result<Option<usize>, E> {
        Ok(self.0.iter().position(|(k, _)| k == key))
    }
}

impl<'de> Visitor<'de> for Parts<'_> {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::from(v))
    }

    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::from(v))
    }

    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        Ok(Value::from(v))
    }

    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_string()))
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let fields = self.fields();
        let mut out = Map::new();
        while let Some(found) = map.next_key_seed(Key(fields))? {
            match found {
                Some(i) => {
                    let (key, sel) = &fields[i];
                    out.insert(key.clone(), map.next_value_seed(sel)?);
                }
                None => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(Value::Object(out))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let Selection::Parts { fields, each } = self.0 else {
            return Ok(Value::Null);
        };
        let mut out = Vec::new();
        loop {
            let index = Some(out.len());
            let by_index = fields
                .iter()
                .find(|(k, _)| array_index(k) == index)
                .map(|(_, s)| s);
            let sel = by_index.or(each.as_deref());
            let element = match sel {
                Some(sel) => seq.next_element_seed(sel)?,
                // Skipped, its place kept so that later indices still point right.
                None => seq.next_element::<IgnoredAny>()?.map(|_| Value::Null),
            };
            match element {
                Some(v) => out.push(v),
                None => break,
            }
        }
        Ok(Value::Array(out))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_selection_keeps_what_its_pointers_read_and_nothing_else() {
        let doc = json!({"chat_id": "c1", "state": "active", "last_seq": 3,
            "messages": [{"seq": 2, "from": "agent", "text": "hi"},
                         {"seq": 3, "from": "customer", "text": "yo"}],
            "legs": [{"answered_at": 1.5, "ended_at": null, "agent": "a"}],
            "meta": {"deep": {"x": [1, 2, 3]}}, "big": "x".repeat(100)});
        let mut sel = Selection::default();
        let p = |s: &str| Pointer::new(s);
        sel.add(&p("/state"));
        sel.add(&p("/last_seq"));
        sel.add(&p("/meta/deep"));
        sel.add(&p("/legs/0/answered_at"));
        sel.add_each(&p("/messages"), [&p("/from")]);
        let text = serde_json::to_vec(&doc).unwrap();
        let kept = sel.parse(&text).unwrap();
        assert_eq!(
            kept,
            json!({"state": "active", "last_seq": 3, "meta": {"deep": {"x": [1, 2, 3]}},
                "legs": [{"answered_at": 1.5}],
                "messages": [{"from": "agent"}, {"from": "customer"}]})
        );
        for pointer in [
            "/state",
            "/last_seq",
            "/meta/deep/x/2",
            "/legs/0/answered_at",
        ] {
            assert_eq!(p(pointer).get(&kept), p(pointer).get(&doc), "{pointer}");
        }
        // A whole-answer pointer keeps everything; an array answer keeps its elements' parts.
        let mut all = Selection::default();
        all.add(&p("/meta"));
        all.add(&p(""));
        assert_eq!(all.parse(&text).unwrap(), doc);
        let mut each = Selection::default();
        each.add_each(&p(""), [&p("/id")]);
        assert_eq!(
            each.parse(br#"[{"id": 1, "x": 2}, {"y": 3}]"#).unwrap(),
            json!([{"id": 1}, {}])
        );
        assert!(sel.parse(b"{not json").is_none());
        assert!(sel.parse(br#"{"state": 1} trailing"#).is_none());
    }
}
