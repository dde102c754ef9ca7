//! A command and its reply over MQTT, as `send` and the interactive mode
//! do it: topics from the profile's templates, how a reply is recognised,
//! and what was skipped on the way (summarised).

use std::time::Duration;

use anyhow::{Result, anyhow, bail};
use prost_reflect::{DynamicMessage, MessageDescriptor};

use crate::mqtt::{self, BrokerConfig, Outcome, ReplyWanted};
use rumqttc::v5::mqttbytes::QoS;

/// How a reply is recognised as the answer to a command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Matcher {
    /// The reply's `correlation_id` (or `message_id`) equals this.
    Id(String),
    /// The first message on the response topic (asked for with
    /// `--any-reply`, or nothing to match on).
    Any,
}

/// The fields a reply is matched on, in order.
const ID_FIELDS: [&str; 2] = ["correlation_id", "message_id"];

impl Matcher {
    /// From the command: its `correlation_id`, else its `message_id`. `Err`
    /// says why there is nothing to match a reply on.
    pub fn for_command(
        command: &DynamicMessage,
        response: &MessageDescriptor,
    ) -> std::result::Result<Matcher, String> {
        if !ID_FIELDS
            .iter()
            .any(|name| response.get_field_by_name(name).is_some())
        {
            return Err(format!(
                "{} has no correlation_id or message_id field",
                response.full_name()
            ));
        }
        for name in ID_FIELDS {
            if let Some(s) = command
                .get_field_by_name(name)
                .and_then(|v| v.as_str().map(str::to_owned))
            {
                if !s.is_empty() {
                    return Ok(Matcher::Id(s));
                }
            }
        }
        Err("the command has no correlation_id or message_id set (the profile's defaults set them; --no-defaults leaves them out)".to_owned())
    }

    /// Does this decoded reply answer the command?
    pub fn accepts(&self, reply: &DynamicMessage) -> bool {
        match self {
            Matcher::Any => true,
            Matcher::Id(id) => ID_FIELDS.iter().any(|name| {
                reply
                    .get_field_by_name(name)
                    .and_then(|v| v.as_str().map(|s| s == id))
                    .unwrap_or(false)
            }),
        }
    }
}

/// The messages on the response topic that were not the reply.
#[derive(Debug, Default)]
pub struct Skipped {
    /// Replies to other commands: how many, and the first ids.
    pub others: usize,
    pub other_ids: Vec<String>,
    /// Messages that are not the response type: how many, the first one.
    pub undecodable: usize,
    pub first_undecodable: Option<String>,
}

/// How many ids a summary names.
const NAMED: usize = 3;

impl Skipped {
    /// One line per kind, for stderr.
    pub fn lines(&self) -> Vec<String> {
        let mut lines = Vec::new();
        if self.others > 0 {
            let more = if self.others > self.other_ids.len() {
                ", …"
            } else {
                ""
            };
            lines.push(format!(
                "note: skipped {} {} to other commands (correlation_id {}{more})",
                self.others,
                if self.others == 1 { "reply" } else { "replies" },
                self.other_ids.join(", ")
            ));
        }
        if let Some(first) = &self.first_undecodable {
            lines.push(format!(
                "note: skipped {} {} that did not decode; the first: {first}",
                self.undecodable,
                if self.undecodable == 1 {
                    "message"
                } else {
                    "messages"
                },
            ));
        }
        lines
    }
}

/// What to do about a reply.
pub struct Wanted<'a> {
    pub topic: &'a str,
    pub response: &'a MessageDescriptor,
    pub matcher: &'a Matcher,
}

/// The reply's bytes, nothing in time, or published only.
pub enum Answer {
    Reply { bytes: Vec<u8> },
    Timeout,
    Published,
}

/// Publishes `payload` and, when a reply is wanted, waits up to `timeout`
/// for the one `matcher` accepts; `on_published` runs once the broker has
/// acknowledged the publish.
pub fn exchange(
    cfg: &BrokerConfig,
    topic: &str,
    payload: Vec<u8>,
    qos: QoS,
    wanted: Option<Wanted<'_>>,
    timeout: Duration,
    on_published: impl FnOnce(),
) -> Result<(Answer, Skipped)> {
    let mut skipped = Skipped::default();
    let Some(w) = wanted else {
        mqtt::request(cfg, topic, payload, qos, None, timeout, on_published)?;
        return Ok((Answer::Published, skipped));
    };
    let mut reply = None;
    let mut accept = |_topic: &str, bytes: &[u8]| -> bool {
        match DynamicMessage::decode(w.response.clone(), bytes) {
            Ok(m) if w.matcher.accepts(&m) => {
                reply = Some(m);
                true
            }
            Ok(m) => {
                skipped.others += 1;
                if skipped.other_ids.len() < NAMED {
                    let id = ID_FIELDS
                        .iter()
                        .find_map(|n| {
                            m.get_field_by_name(n)
                                .and_then(|v| v.as_str().map(str::to_owned))
                        })
                        .unwrap_or_default();
                    skipped.other_ids.push(format!("{id:?}"));
                }
                false
            }
            Err(e) => {
                skipped.undecodable += 1;
                if skipped.first_undecodable.is_none() {
                    let shown = bytes.len().min(64);
                    skipped.first_undecodable = Some(format!(
                        "not a {}: {e} (hex {}{})",
                        w.response.full_name(),
                        hex::encode(&bytes[..shown]),
                        if shown < bytes.len() { "…" } else { "" }
                    ));
                }
                false
            }
        }
    };
    let outcome = mqtt::request(
        cfg,
        topic,
        payload,
        qos,
        Some(ReplyWanted {
            topic: w.topic,
            accept: &mut accept,
        }),
        timeout,
        on_published,
    )?;
    let answer = match (outcome, reply) {
        (Outcome::Reply { payload, .. }, Some(_)) => Answer::Reply { bytes: payload },
        _ => Answer::Timeout,
    };
    Ok((answer, skipped))
}

/// Renders a topic template (`/device/{vehicle_id}/command`) with the values
/// of `msg`. A field that renders empty or holds `/`, `+` or `#` would
/// change the topic's levels: an error naming the field. `publish`: the
/// topic is published to (no wildcards at all); else it is a subscription.
pub fn render_topic(template: &str, msg: &DynamicMessage, publish: bool) -> Result<String> {
    for path in crate::profile::field_refs(template) {
        let value = crate::profile::field_text(msg, path)
            .map_err(|e| anyhow!("topic '{template}': {e}"))?;
        if value.is_empty() {
            bail!(
                "topic '{template}': the field {path} is empty, so the topic would have an empty level; give it a value (--set {path}=...) or pass --topic"
            );
        }
        if value.contains(['/', '+', '#']) {
            bail!(
                "topic '{template}': the field {path} is {value:?}, and a topic level cannot hold '/', '+' or '#'"
            );
        }
    }
    let topic = crate::profile::render_template(template, msg)
        .map_err(|e| anyhow!("topic '{template}': {e}"))?;
    if publish {
        check_publish_topic(&topic).map_err(|e| anyhow!("{e} (from the template '{template}')"))?;
    }
    Ok(topic)
}

/// A topic a message can be published to: not empty, no wildcards.
pub fn check_publish_topic(topic: &str) -> Result<()> {
    if topic.is_empty() {
        bail!("the topic is empty: a message is published to a named topic");
    }
    if topic.contains(['+', '#']) {
        bail!("topic '{topic}' has wildcards ('+' or '#'); a message is published to one topic");
    }
    Ok(())
}
