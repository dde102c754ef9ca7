//! One module per subcommand: raw flags in, work done, exit status out.

mod acked_out;
mod decode;
mod describe;
mod encode;
mod generate;
mod interactive;
mod list;
mod listen;
pub(crate) mod request;
pub(crate) mod send;
pub(crate) mod simulate;

use std::io::{self, IsTerminal, Write};
use std::process::ExitCode;

use anyhow::{Context as _, Result};

use crate::cli::{Cli, Command, Framing, SchemaArgs};
use crate::codec;
use crate::profile::Profile;
use crate::schema::Schema;
use prost_reflect::MessageDescriptor;

pub use generate::{completion_script, man_page, man_page_names};
pub use interactive::{Mqtt, Session, choose_link};

pub fn run(cli: Cli) -> Result<ExitCode> {
    let Some(command) = cli.command else {
        // `commander` alone is the interactive builder, with its flags.
        return interactive::run(&cli.schema, cli.interactive);
    };
    if let Some(flag) = cli.interactive.given() {
        return Err(crate::UsageError(format!(
            "{flag} before a subcommand is a flag of the interactive builder (commander alone); \
             put the subcommand's own flags after its name"
        ))
        .into());
    }
    match command {
        Command::Interactive(args) => interactive::run(&cli.schema, args),
        Command::Encode(args) => with_context(&cli.schema, |c| encode::run(c, args)),
        Command::Decode(args) => decode::run(&cli.schema, args),
        Command::List(args) => with_context(&cli.schema, |c| list::run(&c.schema, &args)),
        Command::Describe(args) => with_context(&cli.schema, |c| describe::run(&c.schema, &args)),
        Command::Send(args) => with_context(&cli.schema, |c| send::run(c, args)),
        Command::Listen(args) => listen::run(&cli.schema, args),
        Command::Simulate(args) => with_context(&cli.schema, |c| simulate::run(c, args)),
        Command::Web(args) => with_context(&cli.schema, |c| crate::web::run(c, &cli.schema, args)),
        Command::Completions(args) => generate::completions(args.shell),
        Command::Man(args) => generate::man(args.command.as_deref()),
    }
}

/// The schema and the profile a command works with.
pub struct Context {
    pub schema: Schema,
    pub profile: Profile,
}

impl Context {
    /// Schema paths come from `-s`, else `COMMANDER_SCHEMA`, else the
    /// profile, else the built-in protocol; the profile is `--profile`, else
    /// `./commander.toml`, else the built-in one when the built-in protocol is
    /// loaded.
    pub fn load(args: &SchemaArgs) -> Result<Context> {
        let paths = args.paths();
        let profile = Profile::find(args.profile.as_deref(), || paths.is_empty())?;
        let paths = if paths.is_empty() {
            profile.schema.clone()
        } else {
            paths
        };
        let schema = Schema::load(&paths, &args.include)?;
        Ok(Context { schema, profile })
    }

    /// `-m TYPE`, else the profile's command type.
    pub fn command_type(&self, explicit: Option<&str>) -> Result<MessageDescriptor> {
        self.schema
            .message_or_default(explicit, self.profile.command.as_deref())
    }

    /// `-m TYPE`, else the profile's response type.
    pub fn response_type(&self, explicit: Option<&str>) -> Result<MessageDescriptor> {
        self.schema
            .message_or_default(explicit, self.profile.response.as_deref())
    }
}

/// The broker settings: command-line flags over the profile's `[mqtt]`.
/// `session` makes the session persistent under that client id. User info
/// in the URL (`mqtt://user:password@host`) gives the credentials; TLS
/// options with a plain `mqtt://` URL are an error (they would be ignored,
/// and the password sent in clear).
pub(crate) fn broker_config(
    args: &crate::cli::BrokerArgs,
    profile: &Profile,
    session: Option<&str>,
) -> Result<crate::mqtt::BrokerConfig> {
    let raw = args
        .broker
        .clone()
        .or_else(|| profile.mqtt.broker.clone())
        .ok_or_else(|| {
            crate::UsageError(
                "no broker: pass --broker mqtt://host:port, or set broker in the [mqtt] section of commander.toml"
                    .into(),
            )
        })?;
    let ep =
        crate::mqtt::parse_url(&raw).map_err(|e| crate::UsageError(format!("--broker: {e}")))?;
    if !ep.tls {
        for (given, flag) in [
            (args.ca.is_some(), "--ca"),
            (args.cert.is_some(), "--cert"),
            (args.key.is_some(), "--key"),
        ] {
            if given {
                return Err(crate::UsageError(format!(
                    "{flag} is for TLS, but {} is a plain connection: use mqtts://",
                    crate::mqtt::redact(&raw)
                ))
                .into());
            }
        }
    }
    // The URL without its user info; the credentials apart.
    let url = match raw.split_once("://") {
        Some((scheme, rest)) => {
            let (_, host, path) = crate::mqtt::split_authority(rest);
            match path {
                Some(path) if !path.is_empty() => format!("{scheme}://{host}/{path}"),
                _ => format!("{scheme}://{host}"),
            }
        }
        None => raw.clone(),
    };
    let connect_timeout = send::parse_duration(&args.connect_timeout)
        .map_err(|e| crate::UsageError(format!("--connect-timeout: {e}")))?;
    Ok(crate::mqtt::BrokerConfig {
        url,
        username: args
            .username
            .clone()
            .or(ep.username)
            .or_else(|| profile.mqtt.username.clone()),
        password: args.password.clone().or(ep.password),
        ca: args.ca.clone(),
        cert: args.cert.clone(),
        key: args.key.clone(),
        client_id: session
            .map(str::to_owned)
            .or_else(|| args.client_id.clone())
            .or_else(|| profile.mqtt.client_id.clone()),
        keep_alive: std::time::Duration::from_secs(args.keep_alive),
        persistent: session.is_some(),
        receive_maximum: 1000,
        connect_timeout,
    })
}

/// Loads the schema and profile, runs `f`, and leaves them for the process
/// exit to reclaim: freeing a descriptor pool piece by piece takes a tenth of
/// a short run.
fn with_context(
    args: &SchemaArgs,
    f: impl FnOnce(&Context) -> Result<ExitCode>,
) -> Result<ExitCode> {
    let context = Context::load(args)?;
    let result = f(&context);
    std::mem::forget(context);
    result
}

/// The width tables are drawn to: `--width` (0: no limit), else the
/// terminal's (`COLUMNS` first) when standard output is one, else no limit.
pub(crate) fn table_width(flag: Option<usize>) -> Option<usize> {
    match flag {
        Some(0) => None,
        Some(n) => Some(n),
        None if io::stdout().is_terminal() => terminal_width(),
        None => None,
    }
}

/// The terminal's width: `COLUMNS`, else what the terminal says.
pub(crate) fn terminal_width() -> Option<usize> {
    std::env::var("COLUMNS")
        .ok()
        .and_then(|c| c.trim().parse().ok())
        .filter(|c: &usize| *c > 0)
        .or_else(|| {
            console::Term::stdout()
                .size_checked()
                .map(|(_, cols)| usize::from(cols))
        })
}

/// The messages carried in bytes fields: the profile's `[bytes_as]`, then
/// `--bytes-as PATH=TYPE` (which wins for the same path); checked against
/// `root` when there is one type to decode.
pub(crate) fn bytes_as(
    schema: &Schema,
    profile: &Profile,
    flags: &[String],
    root: Option<&MessageDescriptor>,
) -> Result<Option<&'static crate::render::BytesAs>> {
    let mut specs: Vec<(String, String)> = profile.bytes_as.clone();
    for flag in flags {
        let (path, ty) = flag.split_once('=').ok_or_else(|| {
            crate::UsageError(format!("--bytes-as {flag}: expected FIELD.PATH=TYPE"))
        })?;
        specs.retain(|(p, _)| p != path.trim());
        specs.push((path.trim().to_owned(), ty.trim().to_owned()));
    }
    if specs.is_empty() {
        return Ok(None);
    }
    let mut entries = Vec::new();
    for (path, ty) in specs {
        let desc = schema
            .message(&ty)
            .with_context(|| format!("--bytes-as {path}={ty}"))?;
        entries.push((path, desc));
    }
    let carried = crate::render::BytesAs::new(entries, root)
        .map_err(|e| crate::UsageError(format!("{e:#}")))?;
    Ok(Some(carried.leak()))
}

impl From<crate::cli::GuessArg> for crate::codec::raw::Guess {
    fn from(g: crate::cli::GuessArg) -> Self {
        use crate::cli::GuessArg;
        use crate::codec::raw::Guess;
        match g {
            GuessArg::None => Guess::None,
            GuessArg::Some => Guess::Some,
            GuessArg::All => Guess::All,
        }
    }
}

impl From<crate::cli::OutputFormat> for crate::render::Format {
    fn from(f: crate::cli::OutputFormat) -> Self {
        use crate::cli::OutputFormat;
        use crate::render::Format;
        match f {
            OutputFormat::Table => Format::Table,
            OutputFormat::Json => Format::Json,
            OutputFormat::Jsonl => Format::Jsonl,
            OutputFormat::Text => Format::Text,
            OutputFormat::Hex => Format::Hex,
            OutputFormat::Base64 => Format::Base64,
        }
    }
}

impl From<Framing> for codec::Framing {
    fn from(f: Framing) -> Self {
        match f {
            Framing::None => codec::Framing::None,
            Framing::Varint => codec::Framing::Varint,
            Framing::U16be => codec::Framing::U16Be,
            Framing::U32be => codec::Framing::U32Be,
            Framing::U32le => codec::Framing::U32Le,
        }
    }
}

/// Standard input as a reader; when it is a terminal, says what it waits
/// for, so a user who forgot the argument is not left at a silent prompt.
pub(crate) fn stdin_reader(waiting_for: &str) -> Box<dyn io::Read> {
    let stdin = io::stdin();
    if stdin.is_terminal() {
        eprintln!("reading {waiting_for} from the terminal; end with Ctrl-D");
    }
    Box::new(stdin.lock())
}

/// Standard output for a stream of messages: buffered in chunks, written
/// after each message when someone is typing or watching, and kept in order
/// with the failures reported on stderr. Each bad item is reported and
/// counted, and the stream goes on; the exit status is 1 if any failed.
pub(crate) struct StreamOut {
    /// Output not yet written.
    pub buf: Vec<u8>,
    stdout: io::StdoutLock<'static>,
    flush_at: usize,
    pub failures: usize,
    /// Why writing failed while a message was being rendered: the renderer
    /// stops with an error of its own, which must not pass for the input's.
    write_error: Option<io::Error>,
}

/// Standard output could not be written (closed early, a full disk): a
/// failure of the output, never of the input. A closed pipe ends the run
/// quietly with status 0 ([`crate::report`]); anything else is
/// `error: cannot write output`.
pub(crate) fn output_error(err: io::Error) -> anyhow::Error {
    anyhow::Error::new(err).context("cannot write output")
}

/// Output of one message goes out in chunks once it is known to decode.
impl crate::render::Out for StreamOut {
    fn buf(&mut self) -> &mut Vec<u8> {
        &mut self.buf
    }

    fn spill(&mut self) -> io::Result<()> {
        if self.buf.len() >= SPILL_AT {
            if let Err(e) = self.stdout.write_all(&self.buf) {
                let kind = e.kind();
                self.write_error = Some(e);
                return Err(kind.into());
            }
            self.buf.clear();
        }
        Ok(())
    }
}

/// Output held for one message beyond this is written out as it is made.
const SPILL_AT: usize = 1 << 20;

impl StreamOut {
    pub fn new() -> StreamOut {
        const CHUNK: usize = 1 << 16;
        let interactive = io::stdin().is_terminal() || io::stdout().is_terminal();
        StreamOut {
            buf: Vec::with_capacity(CHUNK * 2),
            stdout: io::stdout().lock(),
            flush_at: if interactive { 0 } else { CHUNK },
            failures: 0,
            write_error: None,
        }
    }

    /// The error writing the output met while a message was rendered, if
    /// any (the render's own error is then only its consequence).
    pub fn write_failed(&mut self) -> Option<anyhow::Error> {
        self.write_error.take().map(output_error)
    }

    /// Call after each message: writes the buffer out when it is full, or at
    /// once when interactive.
    pub fn done_one(&mut self) -> Result<()> {
        if let Some(e) = self.write_failed() {
            return Err(e);
        }
        if self.buf.len() >= self.flush_at {
            self.stdout.write_all(&self.buf).map_err(output_error)?;
            self.buf.clear();
            if self.flush_at == 0 {
                self.stdout.flush().map_err(output_error)?;
            }
        }
        Ok(())
    }

    /// Reports one bad item on stderr (`error: ...` plus causes), after the
    /// output of the items before it.
    pub fn fail(&mut self, err: anyhow::Error) -> Result<()> {
        self.finish()?;
        eprintln!("{}", crate::format_error(&err));
        self.failures += 1;
        Ok(())
    }

    /// Prints a warning on stderr, after the output of the items before it.
    pub fn warn(&mut self, warning: &str) -> Result<()> {
        self.finish()?;
        eprintln!("{warning}");
        Ok(())
    }

    /// Writes out everything buffered.
    pub fn finish(&mut self) -> Result<()> {
        if let Some(e) = self.write_failed() {
            return Err(e);
        }
        self.stdout.write_all(&self.buf).map_err(output_error)?;
        self.buf.clear();
        self.stdout.flush().map_err(output_error)?;
        Ok(())
    }

    /// The exit status at the end of the stream.
    pub fn status(&self) -> ExitCode {
        if self.failures == 0 {
            ExitCode::SUCCESS
        } else {
            ExitCode::from(1)
        }
    }
}
