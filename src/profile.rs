//! Profiles (SPEC 7): what differs per deployment, so no header field is
//! hard-coded. `commander.toml` holds the schema, the command and response
//! types, header defaults (values or templates) and MQTT settings.
//!
//! Templates: `{uuid}` (a new random UUID), `{now}` (the current time, RFC
//! 3339) and `{field.path}` (a value of the message being built), anywhere in
//! a string.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, anyhow};
use prost_reflect::{DynamicMessage, MessageDescriptor, ReflectMessage, Value};
use serde::Deserialize;
use toml::Spanned;

use crate::schema::{BUILTIN_COMMAND, BUILTIN_RESPONSE};

/// The file looked for in the current directory when `--profile` is not given.
pub const DEFAULT_FILE: &str = "commander.toml";

/// The built-in profile of the sample protocol.
pub const BUILTIN: &str = r#"
command  = "cvp.CommandMessage"
response = "cvp.CommandResponseMessage"

[defaults]
message_id         = "{uuid}"
correlation_id     = "{uuid}"
vehicle_id         = "MH12VF1121"
type               = "COMMAND"
priority           = "NORMAL"
provisioning_state = "ACTIVE"
version            = "3"
time_stamp         = "{now}"
packet_status      = "COMPLETE"

[mqtt]
broker         = "mqtt://127.0.0.1:1883"
command_topic  = "/device/{vehicle_id}/MQTTPROTOBUF/command"
response_topic = "/device/{vehicle_id}/MQTTPROTOBUF/commandresponse"

[mqtt.types]
"/device/+/MQTTPROTOBUF/commandresponse" = "cvp.CommandResponseMessage"
"/device/+/MQTTPROTOBUF/telemetry"       = "cvp.VehicleTelemetryMessage"
"/device/+/MQTTPROTOBUF/vehicleevents"   = "cvp.VehicleEventMessage"

[simulate]
ids = "SIM{n:04}"

[simulate.replies]
ENGINE_START = '{"return_code":"SUCCESS","engine_start":{"started_at":"{now}","cabin_temp_c":{random:-10..35},"auto_stop_in":"600s"}}'

[[simulate.publish]]
topic  = "/device/{vehicle_id}/MQTTPROTOBUF/telemetry"
type   = "cvp.VehicleTelemetryMessage"
period = "1s"
json   = '{"sequence":{seq},"speed_kph":{walk:0..130},"odometer_km":{walk:12000..12100},"fuel_level_pct":{walk:5..100},"engine_rpm":{walk:700..4000},"battery_voltage":{walk:11.8..14.4},"ambient_temp_c":{random:-5..30},"ignition":"ON","position":{"latitude":{walk:48.10..48.20},"longitude":{walk:11.50..11.65}}}'

[[simulate.publish]]
topic  = "/device/{vehicle_id}/MQTTPROTOBUF/vehicleevents"
type   = "cvp.VehicleEventMessage"
period = "10s"
"#;

/// A loaded profile.
#[derive(Debug, Clone, Default)]
pub struct Profile {
    /// The file it came from; `None` for the built-in one or none.
    pub source: Option<PathBuf>,
    /// The built-in profile of the sample protocol.
    pub builtin: bool,
    /// Schema paths, resolved against the profile's directory.
    pub schema: Vec<PathBuf>,
    pub command: Option<String>,
    pub response: Option<String>,
    /// Field path and template, in the file's order.
    pub defaults: Vec<HeaderDefault>,
    pub mqtt: Mqtt,
    /// `[bytes_as]`: field path and the type its bytes carry, in file order.
    pub bytes_as: Vec<(String, String)>,
    /// `link`: the envelope link the builder follows (auto, none,
    /// SELECTOR=ONEOF).
    pub link: Option<String>,
    /// `[simulate]`: how simulated devices behave.
    pub simulate: Simulate,
}

/// `[simulate]`.
#[derive(Debug, Clone, Default)]
pub struct Simulate {
    /// Device ids for `--vehicles N`, e.g. `SIM{n:04}`.
    pub ids: Option<String>,
    /// The return code's value for failed replies.
    pub error_code: Option<String>,
    /// `[simulate.replies]`: selector value name → JSON template, in file order.
    pub replies: Vec<(String, String)>,
    /// `[[simulate.publish]]` entries.
    pub publish: Vec<Publish>,
}

/// One `[[simulate.publish]]` entry: what each device publishes unasked.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Publish {
    /// Topic template (`/device/{vehicle_id}/MQTTPROTOBUF/telemetry`).
    pub topic: String,
    /// Message type.
    #[serde(rename = "type")]
    pub type_name: String,
    /// How often (`1s`, `500ms`).
    pub period: String,
    /// JSON template; without one, plausible values (`--fill`).
    pub json: Option<String>,
}

/// One `[defaults]` entry.
#[derive(Debug, Clone)]
pub struct HeaderDefault {
    pub path: String,
    pub template: String,
    /// Line in the profile, for errors.
    pub line: usize,
}

#[derive(Debug, Clone, Default)]
pub struct Mqtt {
    pub broker: Option<String>,
    pub command_topic: Option<String>,
    pub response_topic: Option<String>,
    pub username: Option<String>,
    pub client_id: Option<String>,
    /// Topic filter and message type, in the file's order.
    pub types: Vec<(String, String)>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawProfile {
    #[serde(default)]
    schema: Option<Spanned<SchemaList>>,
    command: Option<String>,
    response: Option<String>,
    #[serde(default)]
    defaults: BTreeMap<Spanned<String>, Spanned<toml::Value>>,
    #[serde(default)]
    mqtt: Option<RawMqtt>,
    /// Field path = type of the message its bytes carry.
    #[serde(default)]
    bytes_as: BTreeMap<Spanned<String>, String>,
    /// The envelope link: auto, none, or SELECTOR=ONEOF.
    link: Option<String>,
    #[serde(default)]
    simulate: Option<RawSimulate>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSimulate {
    ids: Option<String>,
    error_code: Option<String>,
    #[serde(default)]
    replies: BTreeMap<Spanned<String>, String>,
    #[serde(default)]
    publish: Vec<Publish>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum SchemaList {
    One(String),
    Many(Vec<String>),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawMqtt {
    broker: Option<String>,
    command_topic: Option<String>,
    response_topic: Option<String>,
    username: Option<String>,
    client_id: Option<String>,
    #[serde(default)]
    types: BTreeMap<Spanned<String>, String>,
}

impl Profile {
    /// The profile in effect: `--profile FILE`, else `./commander.toml` when
    /// present, else the built-in one when the built-in protocol is in use
    /// (`uses_builtin`), else none.
    pub fn find(explicit: Option<&Path>, uses_builtin: impl FnOnce() -> bool) -> Result<Profile> {
        if let Some(path) = explicit {
            return Profile::load(path);
        }
        let here = Path::new(DEFAULT_FILE);
        if here.is_file() {
            // It changes what commands do without a flag: say so (once).
            static SAID: std::sync::Once = std::sync::Once::new();
            if !crate::quiet() {
                SAID.call_once(|| {
                    eprintln!(
                        "note: using ./{DEFAULT_FILE} (schema, types, defaults); \
                         --profile chooses another, -q hides this note"
                    )
                });
            }
            return Profile::load(here);
        }
        if uses_builtin() {
            return Profile::builtin();
        }
        Ok(Profile::default())
    }

    /// The built-in profile of the sample protocol.
    pub fn builtin() -> Result<Profile> {
        let mut p = Profile::parse(BUILTIN, None).context("the built-in profile is broken")?;
        p.builtin = true;
        Ok(p)
    }

    /// Reads a profile file.
    pub fn load(path: &Path) -> Result<Profile> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read profile '{}'", path.display()))?;
        Profile::parse(&text, Some(path))
            .with_context(|| format!("bad profile '{}'", path.display()))
    }

    /// Parses profile text; `path` (for relative schema paths and errors).
    pub fn parse(text: &str, path: Option<&Path>) -> Result<Profile> {
        let raw: RawProfile =
            toml::from_str(text).map_err(|e| anyhow!("{}", describe_toml_error(text, &e)))?;
        let base = path
            .and_then(Path::parent)
            .map(Path::to_path_buf)
            .unwrap_or_default();
        let schema = match raw.schema.map(Spanned::into_inner) {
            None => Vec::new(),
            Some(SchemaList::One(s)) => vec![base.join(s)],
            Some(SchemaList::Many(v)) => v.into_iter().map(|s| base.join(s)).collect(),
        };
        let mut defaults = Vec::new();
        for (key, value) in raw.defaults {
            let line = line_of(text, key.span().start);
            let template = match value.get_ref() {
                toml::Value::String(s) => s.clone(),
                toml::Value::Integer(i) => i.to_string(),
                toml::Value::Float(f) => f.to_string(),
                toml::Value::Boolean(b) => b.to_string(),
                other => {
                    return Err(anyhow!(
                        "line {line}: defaults.{}: a default is a string, number or bool, not {}",
                        key.get_ref(),
                        other.type_str()
                    ));
                }
            };
            check_template(&template)
                .map_err(|e| anyhow!("line {line}: defaults.{}: {e}", key.get_ref()))?;
            defaults.push(HeaderDefault {
                path: key.into_inner(),
                template,
                line,
            });
        }
        defaults.sort_by_key(|d| d.line);
        let mqtt = match raw.mqtt {
            None => Mqtt::default(),
            Some(m) => {
                let mut types: Vec<(usize, String, String)> = m
                    .types
                    .into_iter()
                    .map(|(k, v)| (k.span().start, k.into_inner(), v))
                    .collect();
                types.sort();
                Mqtt {
                    broker: m.broker,
                    command_topic: m.command_topic,
                    response_topic: m.response_topic,
                    username: m.username,
                    client_id: m.client_id,
                    types: types.into_iter().map(|(_, k, v)| (k, v)).collect(),
                }
            }
        };
        let mut bytes_as: Vec<(usize, String, String)> = raw
            .bytes_as
            .into_iter()
            .map(|(k, v)| (k.span().start, k.into_inner(), v))
            .collect();
        bytes_as.sort();
        let simulate = match raw.simulate {
            None => Simulate::default(),
            Some(r) => {
                let mut replies: Vec<(usize, String, String)> = r
                    .replies
                    .into_iter()
                    .map(|(k, v)| (k.span().start, k.into_inner(), v))
                    .collect();
                replies.sort();
                Simulate {
                    ids: r.ids,
                    error_code: r.error_code,
                    replies: replies.into_iter().map(|(_, k, v)| (k, v)).collect(),
                    publish: r.publish,
                }
            }
        };
        Ok(Profile {
            source: path.map(Path::to_path_buf),
            builtin: false,
            schema,
            command: raw.command,
            response: raw.response,
            defaults,
            mqtt,
            bytes_as: bytes_as.into_iter().map(|(_, k, v)| (k, v)).collect(),
            link: raw.link,
            simulate,
        })
    }

    /// Where the profile came from, for messages.
    pub fn describe(&self) -> String {
        match (&self.source, self.builtin) {
            (Some(p), _) => format!("profile {}", p.display()),
            (None, true) => "built-in profile".to_owned(),
            (None, false) => "no profile".to_owned(),
        }
    }

    /// The command type: the profile's, else the sample protocol's.
    pub fn command_type(&self) -> &str {
        self.command.as_deref().unwrap_or(BUILTIN_COMMAND)
    }

    /// The response type: the profile's, else the sample protocol's.
    pub fn response_type(&self) -> &str {
        self.response.as_deref().unwrap_or(BUILTIN_RESPONSE)
    }

    /// Sets the header defaults on `msg`: plain values and `{uuid}`/`{now}`
    /// first, then those that copy other fields (`{field.path}`), so a copy
    /// sees the values set before it. A default that does not fit (a field
    /// the message does not have, a bad value) is an error naming the
    /// profile line; the other defaults are still applied.
    pub fn apply_defaults(&self, msg: &mut DynamicMessage) -> Result<()> {
        self.apply_defaults_except(msg, &[])
    }

    /// [`Profile::apply_defaults`] but for the field paths in `given`: the
    /// user gave those (even empty), and what the user gives wins.
    pub fn apply_defaults_except(&self, msg: &mut DynamicMessage, given: &[String]) -> Result<()> {
        let (plain, copies): (Vec<&HeaderDefault>, Vec<&HeaderDefault>) = self
            .defaults
            .iter()
            .filter(|d| {
                let path = crate::value::canonical_path(&msg.descriptor(), &d.path);
                !given.contains(&path)
            })
            .partition(|d| field_refs(&d.template).is_empty());
        let errors: Vec<String> = plain
            .into_iter()
            .chain(copies)
            .filter_map(|d| self.apply_one(d, msg).err())
            .collect();
        if errors.is_empty() {
            Ok(())
        } else {
            Err(anyhow!("{}", errors.join("\n  ")))
        }
    }

    fn apply_one(&self, d: &HeaderDefault, msg: &mut DynamicMessage) -> Result<(), String> {
        let value = render_template(&d.template, msg).map_err(|e| {
            format!(
                "{}, line {}: defaults.{}: {e}",
                self.describe(),
                d.line,
                d.path
            )
        })?;
        crate::value::apply_set(msg, &format!("{}={value}", d.path)).map_err(|e| {
            format!(
                "{}, line {}: defaults.{} does not fit {}: {e}",
                self.describe(),
                d.line,
                d.path,
                msg.descriptor().full_name()
            )
        })
    }

    /// After the user has edited `msg` (which started as `prefilled`), the
    /// defaults that copy other fields (`correlation_id = "{message_id}"`)
    /// are worked out again from the message being sent, unless the user
    /// changed the copy itself.
    pub fn refresh_copies(&self, prefilled: &DynamicMessage, msg: &mut DynamicMessage) {
        self.refresh_matching(|_| true, prefilled, msg);
    }

    /// [`Profile::refresh_copies`] for the default of one field path.
    pub fn refresh_copy(&self, path: &str, prefilled: &DynamicMessage, msg: &mut DynamicMessage) {
        self.refresh_matching(|p| p == path, prefilled, msg);
    }

    fn refresh_matching(
        &self,
        wanted: impl Fn(&str) -> bool,
        prefilled: &DynamicMessage,
        msg: &mut DynamicMessage,
    ) {
        for d in self
            .defaults
            .iter()
            .filter(|d| wanted(&d.path) && !field_refs(&d.template).is_empty())
        {
            let before = field_text(prefilled, &d.path).ok();
            if before.is_some() && before == field_text(msg, &d.path).ok() {
                let _ = self.apply_one(d, msg);
            }
        }
    }

    /// The defaults that apply to `desc` (the paths it has), for prompts.
    pub fn defaults_for(&self, desc: &MessageDescriptor) -> Vec<&HeaderDefault> {
        self.defaults
            .iter()
            .filter(|d| {
                let first = d.path.split(['.', '[']).next().unwrap_or_default();
                crate::value::find_field(desc, first).is_some()
            })
            .collect()
    }
}

/// Renders `{uuid}`, `{now}` and `{field.path}` in `template`.
pub fn render_template(template: &str, msg: &DynamicMessage) -> Result<String, String> {
    let mut out = String::with_capacity(template.len());
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let close = rest[open..].find('}').ok_or("a '{' without its '}'")? + open;
        let name = &rest[open + 1..close];
        match name {
            "uuid" => out.push_str(&uuid::Uuid::new_v4().to_string()),
            "now" => out
                .push_str(&prost_types::Timestamp::from(std::time::SystemTime::now()).to_string()),
            path => out.push_str(&field_text(msg, path)?),
        }
        rest = &rest[close + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

/// The fields a template copies (`{field.path}`).
pub fn field_refs(template: &str) -> Vec<&str> {
    let mut refs = Vec::new();
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        let Some(close) = rest[open..].find('}') else {
            break;
        };
        let name = &rest[open + 1..open + close];
        if name != "uuid" && name != "now" {
            refs.push(name);
        }
        rest = &rest[open + close + 1..];
    }
    refs
}

fn check_template(template: &str) -> Result<(), String> {
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        let close = rest[open..].find('}').ok_or("a '{' without its '}'")? + open;
        let name = &rest[open + 1..close];
        if name.is_empty()
            || !name
                .chars()
                .all(|c| c.is_alphanumeric() || c == '_' || c == '.')
        {
            return Err(format!(
                "'{{{name}}}' is not a template: use {{uuid}}, {{now}} or {{field.path}}"
            ));
        }
        rest = &rest[close + 1..];
    }
    Ok(())
}

/// A field of `msg` as text, for `{field.path}` templates.
pub fn field_text(msg: &DynamicMessage, path: &str) -> Result<String, String> {
    let mut current = msg.clone();
    let parts: Vec<&str> = path.split('.').collect();
    for (i, part) in parts.iter().enumerate() {
        let desc = current.descriptor();
        let field = crate::value::find_field(&desc, part)
            .ok_or_else(|| format!("{{{path}}}: {} has no field '{part}'", desc.full_name()))?;
        let value = current.get_field(&field).into_owned();
        if i + 1 < parts.len() {
            match value {
                Value::Message(m) => current = m,
                _ => return Err(format!("{{{path}}}: '{part}' is not a message")),
            }
            continue;
        }
        return Ok(match (&value, field.kind()) {
            (Value::Message(m), _) if m.descriptor().full_name() == "google.protobuf.Timestamp" => {
                let ts = prost_types::Timestamp {
                    seconds: m
                        .get_field_by_name("seconds")
                        .and_then(|v| v.as_i64())
                        .unwrap_or(0),
                    nanos: m
                        .get_field_by_name("nanos")
                        .and_then(|v| v.as_i32())
                        .unwrap_or(0),
                };
                ts.to_string()
            }
            (Value::String(s), _) => s.clone(),
            (Value::EnumNumber(n), prost_reflect::Kind::Enum(e)) => e
                .get_value(*n)
                .map_or_else(|| n.to_string(), |v| v.name().to_owned()),
            (Value::Bytes(b), _) => hex::encode(b),
            (v, kind) => crate::render::text::scalar(&kind, v),
        });
    }
    Err(format!("{{{path}}}: empty field path"))
}

fn line_of(text: &str, offset: usize) -> usize {
    text[..offset.min(text.len())].matches('\n').count() + 1
}

/// toml's errors carry a span; lead with the line.
fn describe_toml_error(text: &str, err: &toml::de::Error) -> String {
    match err.span() {
        Some(span) => format!("line {}: {}", line_of(text, span.start), err.message()),
        None => err.message().to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::Schema;

    fn command() -> DynamicMessage {
        DynamicMessage::new(Schema::builtin().unwrap().message(BUILTIN_COMMAND).unwrap())
    }

    #[test]
    fn builtin_profile_fills_the_sample_header() {
        let p = Profile::builtin().unwrap();
        let mut m = command();
        p.apply_defaults(&mut m).unwrap();
        let id = m
            .get_field_by_name("message_id")
            .unwrap()
            .as_str()
            .unwrap()
            .to_owned();
        assert_eq!(id.len(), 36, "{id}");
        assert_eq!(
            m.get_field_by_name("vehicle_id").unwrap().as_str(),
            Some("MH12VF1121")
        );
        assert_eq!(m.get_field_by_name("version").unwrap().as_u32(), Some(3));
        assert!(m.has_field_by_name("time_stamp"));
        assert_ne!(
            m.get_field_by_name("correlation_id").unwrap().as_str(),
            Some(id.as_str())
        );
    }

    #[test]
    fn templates_copy_other_fields_after_plain_values() {
        let p = Profile::parse(
            "[defaults]\ncorrelation_id = \"corr-{message_id}\"\nmessage_id = \"abc\"\n",
            None,
        )
        .unwrap();
        let mut m = command();
        p.apply_defaults(&mut m).unwrap();
        assert_eq!(
            m.get_field_by_name("correlation_id").unwrap().as_str(),
            Some("corr-abc")
        );
    }

    #[test]
    fn bad_profiles_name_the_key_and_line() {
        let e = Profile::parse("command = \"x\"\ncomand = \"y\"\n", None)
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("line 2:") && e.contains("comand"), "{e}");
        let e = Profile::parse("[defaults]\n\nmessage_id = \"{uid\"\n", None)
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("line 3: defaults.message_id"), "{e}");
        let e = Profile::parse("[defaults]\nx = [1]\n", None)
            .unwrap_err()
            .to_string();
        assert!(e.contains("line 2") && e.contains("array"), "{e}");
        let p = Profile::parse("[defaults]\n\nnosuch = \"1\"\n", None).unwrap();
        let e = p.apply_defaults(&mut command()).unwrap_err().to_string();
        assert!(e.contains("line 3: defaults.nosuch"), "{e}");
    }

    #[test]
    fn schema_paths_are_relative_to_the_profile() {
        let p = Profile::parse(
            "schema = [\"proto\", \"/abs.pb\"]\n",
            Some(Path::new("/etc/x/commander.toml")),
        )
        .unwrap();
        assert_eq!(
            p.schema,
            vec![PathBuf::from("/etc/x/proto"), PathBuf::from("/abs.pb")]
        );
    }
}
