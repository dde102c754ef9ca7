//! The interactive builder on schemas other than the built-in one (issue 9):
//! `tests/data/interactive/any/tcu.proto`, written for these tests, and the
//! real envelopes of `tests/data/corpus` (Tesla, ChirpStack). Driven by the
//! scripted prompter of `support/script.rs`.

mod support;

use std::path::PathBuf;

use commander::cmd::Session;
use commander::profile::Profile;
use commander::prompt::link::{self, Found, LinkedBy};
use commander::prompt::{Builder, Built, LinkChoice, NO_LINK};
use commander::schema::Schema;
use prost_reflect::{DynamicMessage, MessageDescriptor, SerializeOptions};
use serde_json::json;
use support::script::*;

fn tcu() -> Schema {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/interactive/any");
    Schema::load(&[dir.join("tcu.proto")], &[dir]).expect("tcu.proto loads")
}

fn message(schema: &Schema, name: &str) -> MessageDescriptor {
    schema.message(name).expect("the type exists")
}

fn json(msg: &DynamicMessage) -> serde_json::Value {
    let opts = SerializeOptions::new().use_proto_field_name(true);
    msg.serialize_with_options(serde_json::value::Serializer, &opts)
        .expect("serializes")
}

#[track_caller]
fn build_with(start: DynamicMessage, link: LinkChoice, script: &mut Script) -> DynamicMessage {
    match Builder::new(script)
        .linking(link)
        .build(start)
        .expect("builds")
    {
        Built::Message(m) => m,
        Built::Quit => panic!("the builder quit"),
    }
}

// Item 6: editing keeps what was there.

#[test]
fn editing_keeps_a_sub_message_when_its_oneof_member_is_kept() {
    let s = tcu();
    let desc = message(&s, "tcu.remote.v1.DeviceRequest");
    let mut script = Script::new(vec![
        select("opcode", Pick("(leave unset)")),
        select("args", Pick("a1")),
        text("a1.channel", Text("2")),
        text("a1.duty_pct", Text("40")),
    ]);
    let first = build_with(
        DynamicMessage::new(desc.clone()),
        LinkChoice::Off,
        &mut script,
    );
    script.finish();
    assert_eq!(json(&first), json!({"a1": {"channel": 2, "duty_pct": 40}}));
    let mut script = Script::new(vec![
        select("opcode", Pick("(leave unset)")),
        select("args", Pick("(keep a1)")),
    ]);
    let edited = build_with(first.clone(), LinkChoice::Off, &mut script);
    script.finish();
    assert_eq!(json(&edited), json(&first));
}

fn session(desc: MessageDescriptor, response: Option<MessageDescriptor>) -> Session {
    Session {
        desc,
        response,
        profile: Profile::default(),
        mqtt: None,
        link: LinkChoice::Auto,
        bytes_as: None,
    }
}

fn hex_lines(out: &str) -> Vec<String> {
    out.lines()
        .map(str::trim)
        .filter(|l| l.len() >= 2 && l.bytes().all(|b| b.is_ascii_hexdigit()))
        .map(str::to_owned)
        .collect()
}

// Item 1: the builder's flags on the bare command.

#[test]
fn every_interactive_flag_works_on_the_bare_command() {
    use clap::Parser as _;
    use commander::cli::Cli;
    let cli = Cli::try_parse_from([
        "commander",
        "-s",
        "tcu.proto",
        "-m",
        "tcu.remote.v1.CommandMessage",
        "--response-type",
        "tcu.remote.v1.CommandResponseMessage",
        "--link",
        "header.op=body.command",
        "--bytes-as",
        "signature=tcu.remote.v1.Lock",
        "--broker",
        "mqtt://127.0.0.1:1883",
        "--timeout",
        "3s",
        "--qos",
        "2",
    ])
    .expect("the bare command takes the builder's flags");
    assert!(cli.command.is_none());
    let i = &cli.interactive;
    assert_eq!(i.message.as_deref(), Some("tcu.remote.v1.CommandMessage"));
    assert_eq!(
        i.response_type.as_deref(),
        Some("tcu.remote.v1.CommandResponseMessage")
    );
    assert_eq!(i.link.as_deref(), Some("header.op=body.command"));
    assert_eq!(i.bytes_as, ["signature=tcu.remote.v1.Lock"]);
    assert_eq!(i.broker.broker.as_deref(), Some("mqtt://127.0.0.1:1883"));
    assert_eq!((i.timeout.as_str(), i.broker.qos), ("3s", 2));
    // Given before another subcommand, they are an error that says so.
    let r = support::run(&["-m", "CommandMessage", "decode", "08"]);
    let err = r.fails_with(2);
    assert!(err.contains("-m/--message before a subcommand"), "{err}");
    // Without a terminal the bare command says what to use instead.
    let r = support::run(&[
        "-s",
        "tests/data/interactive/any/tcu.proto",
        "-m",
        "CommandMessage",
    ]);
    assert!(r.fails_with(2).contains("needs a terminal"), "{}", r.stderr);
}

// Item 2: the reply type inferred from the command's name.

#[test]
fn reply_types_are_inferred_from_command_names() {
    let s = tcu();
    let reply = |n: &str| {
        s.infer_reply(&message(&s, n))
            .map(|m| m.full_name().to_owned())
    };
    assert_eq!(
        reply("tcu.remote.v1.CommandMessage").as_deref(),
        Some("tcu.remote.v1.CommandResponseMessage")
    );
    assert_eq!(
        reply("tcu.remote.v1.DeviceRequest").as_deref(),
        Some("tcu.remote.v1.DeviceReply")
    );
    assert_eq!(reply("tcu.remote.v1.Routed"), None);
}

#[test]
fn without_a_reply_type_the_reply_is_still_offered_and_decoded_without_a_schema() {
    let s = tcu();
    let desc = message(&s, "tcu.remote.v1.FlashLights");
    let mut script = Script::new(vec![
        text("times", Text("3")),
        text("reply", Text("08 2a 12 02 6f 6b")),
        select("next", Pick("quit")),
    ]);
    let mut out = Vec::new();
    session(desc, None).run(&mut script, &mut out).unwrap();
    script.finish();
    assert_eq!(script.asked("reply").q.kind, "no schema");
    let out = String::from_utf8(out).unwrap();
    assert!(out.contains("(no schema) · 6 bytes"), "{out}");
    assert!(
        out.contains("len (text)") && out.contains("\"ok\""),
        "{out}"
    );
}

// Item 3: envelope linking, made dependable.

#[test]
fn a_header_selector_links_a_body_oneof_by_name_case_and_type_name() {
    let s = tcu();
    let desc = message(&s, "tcu.remote.v1.CommandMessage");
    let l = link::find(&desc).one().expect("a link");
    assert_eq!(l.selector_path(), "header.op");
    assert_eq!(l.oneof_path(), "body.command");
    assert_eq!(l.by, LinkedBy::Name);
    let member = |n| l.member_for(n).unwrap().name().to_owned();
    assert_eq!(member(1), "lock"); // LOCK: the name but for case
    assert_eq!(member(2), "climate"); // SET_CLIMATE: by type name (SetClimate)
    assert_eq!(member(3), "flashLights"); // FLASH_LIGHTS: case and _
    let mut script = Script::new(vec![
        select("header.op", Pick("SET_CLIMATE")),
        text("header.request_id", Text("r-1")),
        text("header.vin", Enter),
        text("header.version", Enter),
        text("body.climate.target_c", Text("21")),
        text("body.climate.minutes", Enter),
        text("signature", Enter),
    ]);
    let msg = build_with(DynamicMessage::new(desc), LinkChoice::Auto, &mut script);
    script.finish();
    assert_eq!(
        json(&msg),
        json!({"header": {"request_id": "r-1", "op": "SET_CLIMATE"}, "body": {"climate": {"target_c": 21}}})
    );
    // Only the linked member was offered: no question about lock or flashLights.
    assert!(
        script
            .asked
            .iter()
            .all(|a| !a.q.path.contains("lock") && !a.q.path.contains("flash"))
    );
}

#[test]
fn a_zero_value_that_is_a_real_command_links_by_position_from_zero() {
    let s = tcu();
    let desc = message(&s, "tcu.remote.v1.DeviceRequest");
    let l = link::find(&desc).one().expect("a link");
    assert_eq!(l.by, LinkedBy::Position);
    assert_eq!(l.member_for(0).unwrap().name(), "a0");
    assert_eq!(l.member_for(1).unwrap().name(), "a1");
    assert_eq!(l.member_for(2).unwrap().name(), "a2");
    let mut script = Script::new(vec![select("opcode", Pick("NOP (0)"))]);
    let msg = build_with(
        DynamicMessage::new(desc.clone()),
        LinkChoice::Auto,
        &mut script,
    );
    script.finish();
    // NOP's member is set (empty), so the bytes say which command it is.
    assert_eq!(hex::encode(commander::wire::encode_to_vec(&msg)), "5200");
    let mut script = Script::new(vec![
        select("opcode", Pick("SET_PWM")),
        text("a1.channel", Text("2")),
        text("a1.duty_pct", Text("40")),
    ]);
    let msg = build_with(DynamicMessage::new(desc), LinkChoice::Auto, &mut script);
    script.finish();
    assert_eq!(
        json(&msg),
        json!({"opcode": "SET_PWM", "a1": {"channel": 2, "duty_pct": 40}})
    );
}

#[test]
fn an_envelope_where_no_link_is_right_gets_none() {
    let s = tcu();
    let desc = message(&s, "tcu.remote.v1.Routed");
    assert!(matches!(link::find(&desc), Found::None));
    // Every field is offered, the status's enum as itself.
    let mut script = Script::new(vec![
        confirm("status", Yes),
        select("status.state", Pick("WAIT")),
        select("payload", Pick("note")),
        text("note", Text("hi")),
    ]);
    let msg = build_with(DynamicMessage::new(desc), LinkChoice::Auto, &mut script);
    script.finish();
    assert_eq!(
        json(&msg),
        json!({"status": {"state": "WAIT"}, "note": "hi"})
    );
}

#[test]
fn real_envelopes_are_not_linked_to_unrelated_enums() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/corpus");
    let tesla = Schema::load(&[root.join("tesla/pkg/protocol/protobuf")], &[]).unwrap();
    let routable = message(&tesla, "UniversalMessage.RoutableMessage");
    assert!(
        matches!(link::find(&routable), Found::None),
        "{:?}",
        link::find(&routable)
    );
    // to_destination is offered as a message, as the user fills it.
    let mut script = Script::new(vec![
        confirm("to_destination", Yes),
        select("to_destination.sub_destination", Pick("domain")),
        select("to_destination.domain", Pick("DOMAIN_INFOTAINMENT")),
        confirm("from_destination", No),
        select("payload", Pick("(none)")),
        select("sub_sigData", Pick("(none)")),
        confirm("signedMessageStatus", No),
        text("request_uuid", Enter),
        text("uuid", Enter),
        text("flags", Enter),
    ]);
    let msg = build_with(DynamicMessage::new(routable), LinkChoice::Auto, &mut script);
    script.finish();
    assert_eq!(
        json(&msg),
        json!({"to_destination": {"domain": "DOMAIN_INFOTAINMENT"}})
    );
    // ChirpStack's uplink frame: two genuine pairs inside its headers, so
    // the user is asked which (or none).
    let chirp = Schema::load(&[root.join("chirpstack/api/proto")], &[]).unwrap();
    match link::find(&message(&chirp, "gw.UplinkFrame")) {
        Found::Several(links) => {
            let all: Vec<String> = links.iter().map(|l| l.describe()).collect();
            assert_eq!(links.len(), 2, "{all:?}");
            assert!(
                all[0].starts_with("tx_info_legacy.modulation → tx_info_legacy.modulation_info"),
                "{all:?}"
            );
            assert!(
                all[1].starts_with(
                    "rx_info_legacy.fine_timestamp_type → rx_info_legacy.fine_timestamp"
                ),
                "{all:?}"
            );
        }
        other => panic!("expected several links, got {other:?}"),
    }
}

#[test]
fn when_several_links_fit_the_user_chooses_one_or_none() {
    let s = tcu();
    let desc = message(&s, "tcu.remote.v1.Twin");
    let Found::Several(links) = link::find(&desc) else {
        panic!("mode and fallback both name the setting's members");
    };
    assert_eq!(links.len(), 2);
    let mut script = Script::new(vec![select("link", Pick("fallback → setting"))]);
    let chosen = commander::cmd::choose_link(&mut script, &desc)
        .unwrap()
        .unwrap();
    script.finish();
    let items = &script.asked("link").items;
    assert_eq!(items.last().map(String::as_str), Some(NO_LINK));
    let LinkChoice::Use(l) = chosen else {
        panic!("a link was chosen");
    };
    assert_eq!(l.selector_path(), "fallback");
    // None: every field asked.
    let mut script = Script::new(vec![select("link", Pick(NO_LINK))]);
    let chosen = commander::cmd::choose_link(&mut script, &desc)
        .unwrap()
        .unwrap();
    script.finish();
    assert!(matches!(chosen, LinkChoice::Off));
}

#[test]
fn the_link_can_always_be_refused_or_named() {
    let s = tcu();
    let desc = message(&s, "tcu.remote.v1.CommandMessage");
    // "(no link)" in the selector's list: the fields one by one.
    let mut script = Script::new(vec![
        select("header.op", Pick(NO_LINK)),
        confirm("header", Yes),
        text("header.request_id", Enter),
        text("header.vin", Enter),
        select("header.op", Pick("LOCK")),
        text("header.version", Enter),
        confirm("body", Yes),
        select("body.command", Pick("flashLights")),
        text("body.flashLights.times", Text("2")),
        text("signature", Enter),
    ]);
    let msg = build_with(
        DynamicMessage::new(desc.clone()),
        LinkChoice::Auto,
        &mut script,
    );
    script.finish();
    // Not linked: LOCK with flashLights, as the user chose.
    assert_eq!(
        json(&msg),
        json!({"header": {"op": "LOCK"}, "body": {"flashLights": {"times": 2}}})
    );
    // Off: no selector list at all.
    let mut script = Script::new(vec![
        confirm("header", No),
        confirm("body", No),
        text("signature", Enter),
    ]);
    build_with(
        DynamicMessage::new(desc.clone()),
        LinkChoice::Off,
        &mut script,
    );
    script.finish();
    // Named: SELECTOR=ONEOF as field paths; a wrong one says what there is.
    let l = link::explicit(&desc, "header.op=body.command").unwrap();
    assert_eq!(l.by, LinkedBy::Name);
    let err = link::explicit(&desc, "header.kind=body.command").unwrap_err();
    assert!(err.contains("enum fields: header.op"), "{err}");
    let twin = message(&s, "tcu.remote.v1.DeviceRequest");
    assert_eq!(
        link::explicit(&twin, "opcode=args").unwrap().by,
        LinkedBy::Position
    );
}

#[test]
fn describe_says_which_link_the_builder_would_use_and_why() {
    let proto = "tests/data/interactive/any/tcu.proto";
    let cases = [
        (
            "CommandMessage",
            "envelope link: header.op → body.command, by name: 3 of 4 values pick a member",
        ),
        (
            "DeviceRequest",
            "envelope link: opcode → args, by position (value k is member k, from zero): 3 of 3 values pick a member",
        ),
        ("Routed", "envelope link: none"),
        (
            "Twin",
            "envelope links: several fit, the builder asks (--link chooses): mode → setting",
        ),
    ];
    for (ty, want) in cases {
        let r = support::run(&["describe", "-s", proto, ty]);
        assert!(r.ok().contains(want), "{ty}: {}", r.stdout);
    }
}

// Item 4: prompt paths are the paths --set and profile defaults take.

#[test]
fn every_prompt_path_is_a_path_set_accepts() {
    let s = tcu();
    let desc = message(&s, "tcu.remote.v1.CommandMessage");
    let answers = [
        ("header.request_id", "r-9"),
        ("header.vin", "VIN"),
        ("header.version", "4"),
        ("body.climate.target_c", "-3"),
        ("body.climate.minutes", "5"),
    ];
    let mut steps = vec![select("header.op", Pick("SET_CLIMATE"))];
    steps.extend(answers.iter().map(|(p, a)| text(*p, Text(a))));
    steps.push(text("signature", Enter));
    let mut script = Script::new(steps);
    let built = build_with(
        DynamicMessage::new(desc.clone()),
        LinkChoice::Auto,
        &mut script,
    );
    script.finish();
    // The same values through --set, path for path.
    let mut set = DynamicMessage::new(desc);
    commander::value::apply_set(&mut set, "header.op=SET_CLIMATE").unwrap();
    for (path, answer) in answers {
        commander::value::apply_set(&mut set, &format!("{path}={answer}"))
            .unwrap_or_else(|e| panic!("--set {path}: {e}"));
    }
    assert_eq!(json(&set), json(&built));
}

// Item 5: a message carried in a bytes field is built in place.

#[test]
fn a_message_carried_in_bytes_is_built_in_place_and_shown_decoded_in_the_reply() {
    let s = tcu();
    let desc = message(&s, "tcu.remote.v1.Routed");
    let carried = commander::render::BytesAs::new(
        vec![(
            "carried".to_owned(),
            message(&s, "tcu.remote.v1.FlashLights"),
        )],
        Some(&desc),
    )
    .unwrap()
    .leak();
    let mut script = Script::new(vec![
        confirm("status", No),
        select("payload", Pick("carried")),
        confirm("carried", Yes),
        text("carried.times", Text("3")),
        // The same message pasted back as the reply: decoded in place.
        text("reply", Text("120208 03")),
        select("next", Pick("quit")),
    ]);
    let mut sess = session(desc.clone(), Some(desc.clone()));
    sess.bytes_as = Some(carried);
    let mut out = Vec::new();
    sess.run(&mut script, &mut out).unwrap();
    script.finish();
    assert_eq!(script.asked("carried").q.kind, "bytes as FlashLights");
    let out = String::from_utf8(out).unwrap();
    assert_eq!(hex_lines(&out), ["12020803"], "{out}");
    // The reply's table shows the carried message decoded.
    let reply = out
        .split("tcu.remote.v1.Routed · 4 bytes")
        .nth(2)
        .unwrap_or_default();
    assert!(
        reply.contains("bytes as FlashLights") && reply.contains("times"),
        "{out}"
    );
}
