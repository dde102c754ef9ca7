//! `commander list`: the schema's type names, one a line.

use std::process::ExitCode;

use anyhow::Result;
use prost_reflect::DescriptorPool;

use crate::cli::ListArgs;
use crate::schema::{OPTION_STUBS_FILE, Schema, is_well_known_file};

pub fn run(schema: &Schema, args: &ListArgs) -> Result<ExitCode> {
    let names = names(schema, args);
    let mut out = String::new();
    for n in &names {
        out.push_str(n);
        out.push('\n');
    }
    use std::io::Write;
    std::io::stdout()
        .lock()
        .write_all(out.as_bytes())
        .map_err(super::output_error)?;
    Ok(ExitCode::SUCCESS)
}

/// Messages by default; `--enums` and `--services` list those kinds instead
/// (both flags: both kinds). Well-known types only with `--all`.
pub fn names(schema: &Schema, args: &ListArgs) -> Vec<String> {
    let want_messages = !args.enums && !args.services;
    let filter = args.filter.as_deref().map(str::to_ascii_lowercase);
    let global = DescriptorPool::global();
    let pools: Vec<&DescriptorPool> = if args.all {
        vec![&schema.pool, &global]
    } else {
        vec![&schema.pool]
    };
    let mut out: Vec<String> = Vec::new();
    for pool in pools {
        let keep =
            |file: &str| file != OPTION_STUBS_FILE && (args.all || !is_well_known_file(file));
        if want_messages {
            out.extend(
                pool.all_messages()
                    .filter(|m| !m.is_map_entry() && keep(m.parent_file().name()))
                    .map(|m| m.full_name().to_owned()),
            );
        }
        if args.enums {
            out.extend(
                pool.all_enums()
                    .filter(|e| keep(e.parent_file().name()))
                    .map(|e| e.full_name().to_owned()),
            );
        }
        if args.services {
            out.extend(
                pool.services()
                    .filter(|s| keep(s.parent_file().name()))
                    .map(|s| s.full_name().to_owned()),
            );
        }
    }
    if let Some(f) = filter {
        out.retain(|n| n.to_ascii_lowercase().contains(&f));
    }
    out.sort();
    out.dedup();
    out
}
