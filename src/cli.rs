//! Command-line arguments: the only module that knows clap.
//!
//! Flags speak protoc's language where users expect it (`-I`/`--proto_path`,
//! `--decode_raw`); choices are `ValueEnum`s so help lists them.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// The exit statuses, shown at the end of `--help` and in the man pages.
pub const EXIT_STATUS: &str = "\
Exit status:
  0  success (also when the output pipe closes early, as with | head)
  1  a failure while working: bad input, a message that does not decode or
     encode (a stream goes on past it and ends with 1), an unreadable file
     or schema, no reply in time, the broker gone
  2  a usage error: bad flags, an unknown or ambiguous type name, several
     messages as unframed binary, no terminal for the interactive builder";

/// Talk to devices in Protocol Buffers, no generated code needed.
///
/// Loads schemas at run time (descriptor sets or .proto files), encodes JSON or
/// text format to wire bytes and decodes replies into tables, JSON or text.
/// With no schema given, the built-in sample telematics protocol (package cvp)
/// is loaded, so every command works out of the box.
#[derive(Debug, Parser)]
#[command(
    name = "commander",
    version,
    max_term_width = 100,
    after_help = EXIT_STATUS
)]
pub struct Cli {
    #[command(flatten)]
    pub schema: SchemaArgs,

    // `commander` alone is the interactive builder: its flags work here too.
    #[command(flatten)]
    pub interactive: InteractiveArgs,

    #[command(subcommand)]
    pub command: Option<Command>,
}

// Where message types come from (SPEC 2).
#[derive(Debug, Args, Clone, Default)]
pub struct SchemaArgs {
    /// Schema to load: a descriptor set, a .proto file or a directory of them
    ///
    /// Repeatable. Descriptor sets are recognised by content, whatever their
    /// name. Without -s, the paths in the environment variable
    /// COMMANDER_SCHEMA (separated by ':') are used; without either, the
    /// built-in sample protocol.
    #[arg(short = 's', long = "schema", value_name = "PATH", global = true)]
    pub schemas: Vec<PathBuf>,

    /// Import root for .proto files (repeatable)
    ///
    /// Default: each directory given with --schema and the directory of each
    /// .proto file given. Google's well-known types are always available.
    #[arg(
        short = 'I',
        long = "proto-path",
        visible_alias = "proto_path",
        value_name = "DIR",
        global = true
    )]
    pub include: Vec<PathBuf>,

    /// Profile: schema, command and response types, header defaults, MQTT
    ///
    /// Default: ./commander.toml when present, else the built-in profile of
    /// the sample protocol.
    #[arg(long, value_name = "FILE", global = true)]
    pub profile: Option<PathBuf>,

    /// Leave out notes on stderr (such as which commander.toml is in effect)
    #[arg(short = 'q', long, global = true)]
    pub quiet: bool,
}

impl SchemaArgs {
    /// The schema paths: `-s`, else `COMMANDER_SCHEMA` split at ':' (an
    /// empty variable counts as unset).
    pub fn paths(&self) -> Vec<PathBuf> {
        if !self.schemas.is_empty() {
            return self.schemas.clone();
        }
        std::env::var_os("COMMANDER_SCHEMA")
            .map(|v| {
                std::env::split_paths(&v)
                    .filter(|p| !p.as_os_str().is_empty())
                    .collect()
            })
            .unwrap_or_default()
    }
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Build command messages at prompts, see them encoded, decode replies (the default)
    #[command(after_help = EXIT_STATUS)]
    Interactive(InteractiveArgs),
    /// Encode JSON or text format into wire bytes
    #[command(after_help = EXIT_STATUS)]
    Encode(EncodeArgs),
    /// Decode wire bytes (hex, base64 or binary) into a table, JSON or text
    #[command(after_help = EXIT_STATUS)]
    Decode(DecodeArgs),
    /// List the message types (and enums, services) of the schema
    #[command(after_help = EXIT_STATUS)]
    List(ListArgs),
    /// Show a message's fields, an enum's values or a service's methods
    #[command(after_help = EXIT_STATUS)]
    Describe(DescribeArgs),
    /// Publish a command over MQTT and show the decoded reply
    #[command(after_help = EXIT_STATUS)]
    Send(SendArgs),
    /// Decode every message on MQTT topics (a fleet's replies, telemetry, events)
    #[command(after_help = EXIT_STATUS)]
    Listen(ListenArgs),
    /// Simulated devices that answer commands and publish telemetry, from the schema alone
    ///
    /// --broker takes a URL as for send and listen, or 'embedded': an MQTT 5 broker (rumqttd)
    /// inside this process on 127.0.0.1:1883, or a free port when 1883 is taken. Loopback only,
    /// no TLS: for production use mosquitto, EMQX or HiveMQ.
    #[command(after_help = EXIT_STATUS)]
    Simulate(SimulateArgs),
    /// The command form and live views in a browser (a local web page)
    ///
    /// Serves a page, built into this binary, with the command form generated from the schema,
    /// the message as JSON and hex beside it, send with the correlated reply, live decoded views
    /// of the profile's [mqtt.types] topics (each tab its own), history and a decode pane.
    /// Loopback only by default; on any other address a token is required. With no broker
    /// given (--broker, or broker in your commander.toml), it starts the embedded broker and a
    /// simulated vehicle, so the whole loop works on a fresh machine.
    #[command(after_help = EXIT_STATUS)]
    Web(WebArgs),
    /// Print a shell completion script
    Completions(CompletionsArgs),
    /// Print the man page (roff)
    Man(ManArgs),
}

impl InteractiveArgs {
    /// The first flag given (before a subcommand, where it does not apply),
    /// if any. The password is left out: it may come from the environment.
    pub fn given(&self) -> Option<&'static str> {
        let d = InteractiveArgs::defaults();
        let b = (&self.broker, &d.broker);
        [
            (self.message.is_some(), "-m/--message"),
            (self.response_type.is_some(), "--response-type"),
            (self.timeout != d.timeout, "--timeout"),
            (self.link.is_some(), "--link"),
            (!self.bytes_as.is_empty(), "--bytes-as"),
            (b.0.broker.is_some(), "--broker"),
            (b.0.username.is_some(), "--username"),
            (b.0.ca.is_some(), "--ca"),
            (b.0.client_id.is_some(), "--client-id"),
            (b.0.keep_alive != b.1.keep_alive, "--keep-alive"),
            (b.0.qos != b.1.qos, "--qos"),
        ]
        .into_iter()
        .find_map(|(given, flag)| given.then_some(flag))
    }

    /// The arguments of `commander interactive` with nothing given.
    pub fn defaults() -> InteractiveArgs {
        match Cli::parse_from(["commander", "interactive"]).command {
            Some(Command::Interactive(args)) => args,
            _ => unreachable!("parsed as the interactive subcommand"),
        }
    }
}

#[derive(Debug, Args)]
pub struct InteractiveArgs {
    /// Message type to build (default: the profile's command type)
    #[arg(short = 'm', long = "message", value_name = "TYPE")]
    pub message: Option<String>,

    /// Type of the replies to decode (default: the profile's response type)
    #[arg(long, value_name = "TYPE")]
    pub response_type: Option<String>,

    /// How long to wait for a reply after publishing, like 10s
    #[arg(long, value_name = "DURATION", default_value = "10s")]
    pub timeout: String,

    /// Envelope link: auto, none, or SELECTOR=ONEOF (field paths, like header.op=body.content)
    ///
    /// auto (the default, or the profile's `link`): the enum that names the
    /// members of a oneof picks the payload; when several pairs fit, you are
    /// asked. none: every field is asked for.
    #[arg(long, value_name = "auto|none|SELECTOR=ONEOF")]
    pub link: Option<String>,

    /// Build the message carried in a bytes field: FIELD.PATH=TYPE (repeatable)
    #[arg(long = "bytes-as", value_name = "FIELD.PATH=TYPE")]
    pub bytes_as: Vec<String>,

    #[command(flatten)]
    pub broker: BrokerArgs,
}

#[derive(Debug, Args)]
pub struct EncodeArgs {
    /// Message type to encode (full name or unique short name)
    ///
    /// Default with the built-in protocol: cvp.CommandMessage.
    #[arg(short = 'm', long = "message", value_name = "TYPE")]
    pub message: Option<String>,

    #[command(flatten)]
    pub source: MessageInput,

    /// What FILE or stdin holds
    #[arg(short = 'i', long = "input", value_enum, default_value_t = EncodeInput::Auto)]
    pub input: EncodeInput,

    /// Output format
    #[arg(short = 'f', long = "format", value_enum, default_value_t = OutputBytes::Hex)]
    pub format: OutputBytes,

    /// Length prefix before each message
    ///
    /// With hex or base64 output, each line holds one framed message.
    #[arg(long, value_enum, default_value_t = Framing::None)]
    pub framing: Framing,

    /// Set a field after reading the input: FIELD.PATH=VALUE (repeatable)
    ///
    /// Enums by name or number, bytes as hex or utf8:TEXT, Timestamps as
    /// RFC 3339 or 'now', Durations as '1.5s'; a repeated field gets the value
    /// appended; a map entry is addressed as MAP_FIELD.KEY.
    #[arg(long = "set", value_name = "FIELD.PATH=VALUE")]
    pub set: Vec<String>,

    /// First set the profile's header defaults (message ids, time, vehicle...)
    ///
    /// The input's own fields win over them, and --set over both.
    #[arg(long)]
    pub defaults: bool,

    /// Refuse a message that lacks a proto2 required field (default: warn)
    #[arg(long)]
    pub strict: bool,

    /// Accept the message carried in a bytes field as JSON: FIELD.PATH=TYPE
    ///
    /// Repeatable (also [bytes_as] in the profile). The field's value may be
    /// the inner message as a JSON object, which is encoded into the bytes;
    /// a base64 string is taken as it is.
    #[arg(long = "bytes-as", value_name = "FIELD.PATH=TYPE")]
    pub bytes_as: Vec<String>,
}

// Where the message(s) to encode or send come from.
#[derive(Debug, Args)]
pub struct MessageInput {
    /// The message as JSON (proto3 JSON mapping)
    #[arg(long, value_name = "JSON", conflicts_with_all = ["text", "file"])]
    pub json: Option<String>,

    /// The message in protobuf text format
    #[arg(long, value_name = "TEXT", conflicts_with_all = ["json", "file"])]
    pub text: Option<String>,

    /// Read from FILE ('-' for stdin); default stdin
    ///
    /// JSON or text format. encode reads a stream of JSON values (JSON Lines
    /// or concatenated: one message each) or one text-format message; send
    /// reads one message. Also given as --file FILE.
    #[arg(value_name = "FILE", conflicts_with = "file_flag")]
    pub file: Option<PathBuf>,

    /// Read from PATH ('-' for stdin), as for decode
    #[arg(long = "file", value_name = "PATH", conflicts_with_all = ["json", "text"])]
    pub file_flag: Option<PathBuf>,

    /// Skip JSON keys that name no field of the type (and enum names it lacks) instead of refusing them
    #[arg(long)]
    pub ignore_unknown: bool,
}

impl MessageInput {
    /// The input file, given as FILE or --file FILE.
    pub fn file(&self) -> Option<&std::path::Path> {
        self.file.as_deref().or(self.file_flag.as_deref())
    }
}

// How decoded messages are shown (decode, listen, send).
#[derive(Debug, Args, Clone, Default)]
pub struct ViewArgs {
    /// Draw tables no wider than N columns (0: no limit)
    ///
    /// Default: the terminal's width when the output is a terminal, else no
    /// limit. Long values wrap inside their cells.
    #[arg(long, value_name = "N")]
    pub width: Option<usize>,

    /// Enum values as numbers in JSON (as use_integers_for_enums)
    #[arg(long)]
    pub enum_numbers: bool,

    /// Decode the message carried in a bytes field: FIELD.PATH=TYPE
    ///
    /// Repeatable (also [bytes_as] in the profile). Tables and text show the
    /// inner message under the field; JSON holds it as an object, with the
    /// bytes themselves in base64 under the key FIELD@bytes.
    #[arg(long = "bytes-as", value_name = "FIELD.PATH=TYPE")]
    pub bytes_as: Vec<String>,
}

/// Which readings a schemaless decode offers beside the structure.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum GuessArg {
    /// The structure only, as protoc --decode_raw shows it
    None,
    /// Plausible readings: floats in a sensible range, packed numbers that
    /// look like a device's array (not a key, nonce or UUID)
    #[default]
    Some,
    /// Every reading that decodes
    All,
}

// How to reach the MQTT broker (default: the profile's [mqtt] settings).
// (A `///` comment here would become the about text of every command that
// flattens it, `commander` itself included.)
#[derive(Debug, Args, Clone, Default)]
pub struct BrokerArgs {
    /// Broker URL: mqtt://[user[:password]@]host:port, or mqtts://... for TLS
    ///
    /// A password in the URL is never printed (messages show ***).
    #[arg(long, value_name = "URL")]
    pub broker: Option<String>,

    /// Username
    #[arg(long, value_name = "NAME")]
    pub username: Option<String>,

    /// Password (better from the environment: it is never printed)
    #[arg(
        long,
        value_name = "PASSWORD",
        env = "COMMANDER_MQTT_PASSWORD",
        hide_env_values = true
    )]
    pub password: Option<String>,

    /// CA certificate (PEM) to trust for mqtts:// instead of the system's roots
    #[arg(long, value_name = "FILE")]
    pub ca: Option<PathBuf>,

    /// Client certificate (PEM), for brokers that require one (with --key; mqtts:// only)
    #[arg(long, value_name = "FILE", requires = "key")]
    pub cert: Option<PathBuf>,

    /// Private key (PEM) of the client certificate
    #[arg(long, value_name = "FILE", requires = "cert")]
    pub key: Option<PathBuf>,

    /// How long the broker may take to accept a connection (each reconnect too)
    #[arg(long, value_name = "DURATION", default_value = "10s")]
    pub connect_timeout: String,

    /// Client id (default: commander- and a random suffix)
    #[arg(long, value_name = "ID")]
    pub client_id: Option<String>,

    /// Keep-alive interval, in seconds (5 to 65535, as MQTT allows)
    #[arg(long, value_name = "SECONDS", default_value_t = 30,
          value_parser = clap::value_parser!(u64).range(5..=65535))]
    pub keep_alive: u64,

    /// Quality of service: 0, 1 or 2
    #[arg(long, value_name = "0|1|2", default_value_t = 1, value_parser = clap::value_parser!(u8).range(0..=2))]
    pub qos: u8,
}

#[derive(Debug, Args)]
pub struct SimulateArgs {
    /// How many devices, with ids from the profile's [simulate] ids template (default SIM{n:04})
    #[arg(long, value_name = "N", conflicts_with = "vehicle",
          value_parser = clap::value_parser!(u64).range(1..=1_000_000))]
    pub vehicles: Option<u64>,

    /// A device id to simulate (repeatable)
    #[arg(long, value_name = "ID")]
    pub vehicle: Vec<String>,

    /// Fields without a template: plausible values (random) or left unset (empty)
    #[arg(long, value_enum, default_value_t = FillArg::Random)]
    pub fill: FillArg,

    /// Wait this long before each reply: a duration (200ms) or a range (100ms..2s)
    #[arg(long, value_name = "D|A..B")]
    pub delay: Option<String>,

    /// Share of commands answered with the error return code (0 to 1)
    #[arg(long, value_name = "F", default_value_t = 0.0)]
    pub fail_rate: f64,

    /// Share of commands not answered at all (0 to 1), to test timeouts
    #[arg(long, value_name = "F", default_value_t = 0.0)]
    pub drop_rate: f64,

    /// Seed for the random choices and values, for repeatable runs
    #[arg(long, value_name = "S")]
    pub seed: Option<u64>,

    /// Do not publish the profile's [[simulate.publish]] messages
    #[arg(long)]
    pub no_publish: bool,

    /// Log format on stderr: a line per event (text) or JSON Lines
    #[arg(short = 'o', long = "output", value_enum, default_value_t = SimulateLog::Text)]
    pub output: SimulateLog,

    /// Only errors and the summary at exit
    #[arg(short, long)]
    pub quiet: bool,

    #[command(flatten)]
    pub broker: BrokerArgs,
}

#[derive(Debug, Args)]
pub struct WebArgs {
    /// The message type the form starts with (default: the profile's command type)
    #[arg(short = 'm', long = "message", value_name = "TYPE")]
    pub message: Option<String>,

    /// Address to serve the page on; anything but loopback requires a token
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:8080")]
    pub listen: String,

    /// The token every request must carry (default: a random one when not on loopback)
    #[arg(
        long,
        value_name = "TOKEN",
        env = "COMMANDER_WEB_TOKEN",
        hide_env_values = true
    )]
    pub token: Option<String>,

    /// Open the page in the browser
    #[arg(long)]
    pub open: bool,

    /// How long a send waits for its reply
    #[arg(long, value_name = "DURATION", default_value = "10s")]
    pub timeout: String,

    /// With no broker given, start the embedded broker but no simulated vehicle
    #[arg(long)]
    pub no_simulate: bool,

    #[command(flatten)]
    pub broker: BrokerArgs,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FillArg {
    /// Plausible values for every field
    Random,
    /// Only the header rules and the command's fields
    Empty,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SimulateLog {
    /// One line per event
    Text,
    /// One JSON object per event
    Jsonl,
}

#[derive(Debug, Args)]
pub struct SendArgs {
    /// Message type to send (default: the profile's command type)
    #[arg(short = 'm', long = "message", value_name = "TYPE")]
    pub message: Option<String>,

    #[command(flatten)]
    pub source: MessageInput,

    /// Set a field: FIELD.PATH=VALUE (repeatable, as for encode)
    #[arg(long = "set", value_name = "FIELD.PATH=VALUE")]
    pub set: Vec<String>,

    /// Do not fill the header from the profile's defaults
    #[arg(long)]
    pub no_defaults: bool,

    /// Topic to publish to (default: the profile's command_topic)
    #[arg(long, value_name = "TOPIC")]
    pub topic: Option<String>,

    /// Topic the reply comes on (default: the profile's response_topic)
    #[arg(long, value_name = "TOPIC")]
    pub response_topic: Option<String>,

    /// Type of the reply (default: the profile's response type)
    #[arg(long, value_name = "TYPE")]
    pub response_type: Option<String>,

    /// How long to wait for the reply, like 10s or 500ms
    #[arg(long, value_name = "DURATION", default_value = "10s")]
    pub timeout: String,

    /// Take the first message on the response topic as the reply, even when
    /// there is no correlation_id or message_id to match it on
    #[arg(long, conflicts_with = "no_reply")]
    pub any_reply: bool,

    /// Publish only: wait for the broker's acknowledgement, not for a reply
    #[arg(long)]
    pub no_reply: bool,

    /// Output format of the reply
    #[arg(short = 'o', long = "output", value_enum, default_value_t = OutputFormat::Table)]
    pub output: OutputFormat,

    #[command(flatten)]
    pub view: ViewArgs,

    #[command(flatten)]
    pub broker: BrokerArgs,
}

#[derive(Debug, Args)]
pub struct ListenArgs {
    /// Message type for topics without a --type or profile mapping
    #[arg(
        short = 'm',
        long = "message",
        value_name = "TYPE",
        conflicts_with = "raw"
    )]
    pub message: Option<String>,

    /// Decode without a schema, like protoc --decode_raw
    #[arg(long)]
    pub raw: bool,

    /// Decode messages on topics matching FILTER as TYPE (repeatable)
    #[arg(long = "type", value_name = "FILTER=TYPE")]
    pub types: Vec<String>,

    /// Topic filter to subscribe to (repeatable; default: the profile's [mqtt.types] filters)
    #[arg(long = "topic", value_name = "FILTER")]
    pub topics: Vec<String>,

    /// Output format
    #[arg(short = 'o', long = "output", value_enum, default_value_t = ListenFormat::Table)]
    pub output: ListenFormat,

    /// Stop after N messages
    #[arg(long, value_name = "N")]
    pub count: Option<u64>,

    /// Persistent session NAME (also the client id): messages sent while away arrive on return
    #[arg(long, value_name = "NAME")]
    pub session: Option<String>,

    /// Share the subscriptions with other listeners in GROUP ($share/GROUP/FILTER)
    #[arg(long, value_name = "GROUP")]
    pub share: Option<String>,

    /// With --raw: which readings to offer beside the structure
    #[arg(long, value_enum, default_value_t = GuessArg::Some)]
    pub guess: GuessArg,

    #[command(flatten)]
    pub view: ViewArgs,

    #[command(flatten)]
    pub broker: BrokerArgs,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ListenFormat {
    /// A title line (topic, time, type) and a table per message
    Table,
    /// Pretty JSON per message, with its topic and time
    Json,
    /// One compact JSON object per message: topic, time, type, message
    Jsonl,
}

#[derive(Debug, Args)]
pub struct DecodeArgs {
    /// Message type to decode as (full name or unique short name)
    ///
    /// Default with the built-in protocol: cvp.CommandResponseMessage.
    #[arg(
        short = 'm',
        long = "message",
        value_name = "TYPE",
        conflicts_with = "raw"
    )]
    pub message: Option<String>,

    /// Decode without a schema, like protoc --decode_raw
    #[arg(long, visible_alias = "decode_raw")]
    pub raw: bool,

    /// Messages as hex or base64 literals (one message each)
    #[arg(value_name = "HEX_OR_BASE64")]
    pub literals: Vec<String>,

    /// Read input from PATH ('-' for stdin) instead of literals
    #[arg(long, value_name = "PATH", conflicts_with = "literals")]
    pub file: Option<PathBuf>,

    /// How the input is encoded
    #[arg(short = 'i', long = "input", value_enum, default_value_t = InputEncoding::Auto)]
    pub input: InputEncoding,

    /// How messages are delimited in the input
    ///
    /// none: hex/base64 input has one message per line, binary input is one
    /// message. Otherwise the whole input is one byte stream split by length
    /// prefixes.
    #[arg(long, value_enum, default_value_t = Framing::None)]
    pub framing: Framing,

    /// Output format
    #[arg(short = 'o', long = "output", value_enum, default_value_t = OutputFormat::Table)]
    pub output: OutputFormat,

    /// Show fields that are at their default value too
    #[arg(long)]
    pub emit_defaults: bool,

    /// JSON keys in lowerCamelCase instead of proto field names
    #[arg(long)]
    pub camel_case: bool,

    /// With -o text: leave unknown fields out (they are shown by number otherwise)
    #[arg(long)]
    pub no_unknown: bool,

    /// With --raw: which readings to offer beside the structure
    #[arg(long, value_enum, default_value_t = GuessArg::Some)]
    pub guess: GuessArg,

    #[command(flatten)]
    pub view: ViewArgs,
}

#[derive(Debug, Args)]
pub struct ListArgs {
    /// Only names containing S (case-insensitive)
    #[arg(long, value_name = "S")]
    pub filter: Option<String>,

    /// List enum types
    #[arg(long)]
    pub enums: bool,

    /// List services
    #[arg(long)]
    pub services: bool,

    /// Include the well-known types (google.protobuf.*)
    #[arg(long)]
    pub all: bool,
}

#[derive(Debug, Args)]
pub struct DescribeArgs {
    /// Message, enum or service name (full or unique short name)
    #[arg(value_name = "TYPE")]
    pub name: String,
}

#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// Shell to complete for
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

#[derive(Debug, Args)]
pub struct ManArgs {
    /// Subcommand whose page to print (default: the main page)
    #[arg(value_name = "COMMAND")]
    pub command: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum EncodeInput {
    /// JSON if the input starts with '{', else text format
    Auto,
    Json,
    Text,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OutputBytes {
    /// Lowercase hex, one message per line
    Hex,
    /// Standard base64, one message per line
    Base64,
    /// Raw bytes (see --framing)
    Binary,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum InputEncoding {
    /// Hex if it looks like hex, else base64 if valid, else binary
    Auto,
    Hex,
    Base64,
    Binary,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Framing {
    /// No length prefix
    None,
    /// Base-128 varint length (writeDelimitedTo / parseDelimitedFrom)
    Varint,
    /// 2-byte big-endian length
    U16be,
    /// 4-byte big-endian length
    U32be,
    /// 4-byte little-endian length
    U32le,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    /// Nested tables: field number, name, type, value
    Table,
    /// Pretty JSON per message
    Json,
    /// One compact JSON object per line
    Jsonl,
    /// Protobuf text format
    Text,
    /// The message encoded again, canonically (fields in number order, unknown fields kept, last), as hex: binary in, binary out
    Hex,
    /// The same as base64
    Base64,
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn schema_flag_is_global_and_repeatable() {
        let cli = Cli::try_parse_from([
            "commander",
            "list",
            "-s",
            "a.proto",
            "--schema",
            "b.pb",
            "-I",
            "inc",
        ])
        .unwrap();
        assert_eq!(
            cli.schema.schemas,
            [PathBuf::from("a.proto"), PathBuf::from("b.pb")]
        );
        assert_eq!(cli.schema.include, [PathBuf::from("inc")]);
    }

    #[test]
    fn proto_path_alias_matches_protoc() {
        let cli = Cli::try_parse_from(["commander", "list", "--proto_path", "x"]).unwrap();
        assert_eq!(cli.schema.include, [PathBuf::from("x")]);
    }

    #[test]
    fn no_subcommand_means_interactive() {
        let cli = Cli::try_parse_from(["commander"]).unwrap();
        assert!(cli.command.is_none());
        let cli = Cli::try_parse_from(["commander", "--profile", "p.toml"]).unwrap();
        assert_eq!(
            cli.schema.profile.as_deref(),
            Some(std::path::Path::new("p.toml"))
        );
    }

    #[test]
    fn decode_raw_conflicts_with_message() {
        assert!(Cli::try_parse_from(["commander", "decode", "--raw", "-m", "X", "08"]).is_err());
    }
}
