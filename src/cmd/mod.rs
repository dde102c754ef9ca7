//! One module per subcommand: raw flags in, work done, exit status out.

mod decode;
mod describe;
mod encode;
mod generate;
mod list;

use std::io::{self, IsTerminal, Write};
use std::process::ExitCode;

use anyhow::Result;

use crate::cli::{Cli, Command, Framing, SchemaArgs};
use crate::codec;
use crate::schema::Schema;

pub use generate::{completion_script, man_page, man_page_names};

pub fn run(cli: Cli) -> Result<ExitCode> {
    match cli.command {
        Command::Encode(args) => with_schema(&cli.schema, |s| encode::run(s, args)),
        Command::Decode(args) => decode::run(&cli.schema, args),
        Command::List(args) => with_schema(&cli.schema, |s| list::run(s, &args)),
        Command::Describe(args) => with_schema(&cli.schema, |s| describe::run(s, &args)),
        Command::Completions(args) => generate::completions(args.shell),
        Command::Man(args) => generate::man(args.command.as_deref()),
    }
}

/// Loads the schema, runs `f`, and leaves the schema for the process exit to
/// reclaim: freeing a descriptor pool piece by piece takes a tenth of a short
/// run.
fn with_schema(args: &SchemaArgs, f: impl FnOnce(&Schema) -> Result<ExitCode>) -> Result<ExitCode> {
    let schema = load(args)?;
    let result = f(&schema);
    std::mem::forget(schema);
    result
}

pub(crate) fn load(args: &SchemaArgs) -> Result<Schema> {
    Schema::load(&args.paths(), &args.include)
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

/// Reports one bad item of a stream on stderr (`error: ...` plus causes) and
/// lets the stream go on.
pub(crate) fn report_item(err: &anyhow::Error) {
    let _ = io::stdout().flush();
    eprintln!("{}", crate::format_error(err));
}

/// The exit status at the end of a stream.
pub(crate) fn stream_status(failures: usize) -> ExitCode {
    if failures == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}
