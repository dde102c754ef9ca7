//! The simulator's templates: device ids (`SIM{n:04}`) and JSON bodies of
//! replies and unasked messages, with placeholders worked out per message:
//!
//! - `{uuid}`: a new random UUID; `{now}`: the time, RFC 3339;
//! - `{id}`: the device's id; `{n}`: its number (from 1), `{n:04}` padded;
//! - `{seq}`: a counter per device and entry, from 1;
//! - `{random:A..B}`: a number between A and B (whole when both are);
//! - `{walk:A..B}`: a bounded random walk between A and B, one per
//!   placeholder and device, for a gauge that moves smoothly.
//!
//! A `{` that starts a JSON object is followed by `"`, `}` or a space,
//! never a letter, so placeholders and JSON never clash.

use rand::Rng;
use rand::rngs::StdRng;

/// One placeholder, parsed once.
#[derive(Debug, Clone, PartialEq)]
enum Part {
    Text(String),
    Uuid,
    Now,
    Id,
    N {
        width: usize,
    },
    Seq,
    Random {
        low: f64,
        high: f64,
        whole: bool,
    },
    Walk {
        low: f64,
        high: f64,
        whole: bool,
        slot: usize,
    },
}

/// A parsed template.
#[derive(Debug, Clone, PartialEq)]
pub struct Template {
    parts: Vec<Part>,
    /// How many `{walk:..}` placeholders (each keeps its own state).
    pub walks: usize,
}

/// What a template is rendered for.
pub struct Ctx<'a> {
    pub id: &'a str,
    pub n: u64,
    pub seq: u64,
    pub rng: &'a mut StdRng,
    /// The state of each `{walk:..}` (None before its first step).
    pub walks: &'a mut Vec<Option<f64>>,
}

impl Template {
    /// Parses `text`; an unknown `{name}` is an error that lists the known.
    pub fn parse(text: &str) -> Result<Template, String> {
        let mut parts = Vec::new();
        let mut walks = 0;
        let mut rest = text;
        let mut literal = String::new();
        while let Some(open) = rest.find('{') {
            literal.push_str(&rest[..open]);
            let after = &rest[open + 1..];
            if !after.starts_with(|c: char| c.is_ascii_alphabetic()) {
                // JSON's own brace.
                literal.push('{');
                rest = after;
                continue;
            }
            let close = after
                .find('}')
                .ok_or_else(|| format!("'{{{after}' has no closing '}}'"))?;
            let name = &after[..close];
            if !literal.is_empty() {
                parts.push(Part::Text(std::mem::take(&mut literal)));
            }
            parts.push(placeholder(name, &mut walks)?);
            rest = &after[close + 1..];
        }
        literal.push_str(rest);
        if !literal.is_empty() {
            parts.push(Part::Text(literal));
        }
        Ok(Template { parts, walks })
    }

    /// The text, placeholders worked out.
    pub fn render(&self, ctx: &mut Ctx<'_>) -> String {
        let mut out = String::new();
        if ctx.walks.len() < self.walks {
            ctx.walks.resize(self.walks, None);
        }
        for part in &self.parts {
            match part {
                Part::Text(t) => out.push_str(t),
                Part::Uuid => out.push_str(&uuid::Uuid::new_v4().to_string()),
                Part::Now => out.push_str(
                    &prost_types::Timestamp::from(std::time::SystemTime::now()).to_string(),
                ),
                Part::Id => out.push_str(ctx.id),
                Part::N { width } => out.push_str(&format!("{:0width$}", ctx.n)),
                Part::Seq => out.push_str(&ctx.seq.to_string()),
                Part::Random { low, high, whole } => {
                    let x = if *whole {
                        ctx.rng.random_range(*low as i64..=*high as i64) as f64
                    } else {
                        ctx.rng.random_range(*low..=*high)
                    };
                    out.push_str(&number(x, *whole));
                }
                Part::Walk {
                    low,
                    high,
                    whole,
                    slot,
                } => {
                    let span = high - low;
                    let state = &mut ctx.walks[*slot];
                    let x = match *state {
                        // Starts somewhere in the middle half.
                        None => low + span * ctx.rng.random_range(0.25..=0.75),
                        // Steps of up to 5 % of the range, kept inside it.
                        Some(x) => {
                            (x + span * ctx.rng.random_range(-0.05..=0.05)).clamp(*low, *high)
                        }
                    };
                    *state = Some(x);
                    out.push_str(&number(if *whole { x.round() } else { x }, *whole));
                }
            }
        }
        out
    }

    /// Does it use `{id}` or `{n}` (so that it can name many devices)?
    pub fn names_devices(&self) -> bool {
        self.parts
            .iter()
            .any(|p| matches!(p, Part::N { .. } | Part::Id))
    }
}

fn placeholder(name: &str, walks: &mut usize) -> Result<Part, String> {
    let (head, arg) = match name.split_once(':') {
        Some((h, a)) => (h, Some(a)),
        None => (name, None),
    };
    Ok(match (head, arg) {
        ("uuid", None) => Part::Uuid,
        ("now", None) => Part::Now,
        ("id", None) => Part::Id,
        ("seq", None) => Part::Seq,
        ("n", None) => Part::N { width: 0 },
        ("n", Some(w)) => Part::N {
            width: w.parse().ok().filter(|w| *w <= 20).ok_or_else(|| {
                format!("{{n:{w}}}: the width is a number up to 20, as in {{n:04}}")
            })?,
        },
        ("random" | "walk", Some(range)) => {
            let (low, high, whole) = range_of(range).ok_or_else(|| {
                format!("{{{name}}}: the range is A..B, as in {{{head}:-10..35}}")
            })?;
            if head == "random" {
                Part::Random { low, high, whole }
            } else {
                *walks += 1;
                Part::Walk {
                    low,
                    high,
                    whole,
                    slot: *walks - 1,
                }
            }
        }
        _ => {
            return Err(format!(
                "'{{{name}}}' is not a placeholder: use {{uuid}}, {{now}}, {{id}}, {{n}}, {{n:04}}, {{seq}}, {{random:A..B}} or {{walk:A..B}}"
            ));
        }
    })
}

/// `A..B` with A <= B; whole when both are integers.
fn range_of(text: &str) -> Option<(f64, f64, bool)> {
    let (a, b) = text.split_once("..")?;
    let (a, b) = (a.trim(), b.trim());
    let whole = a.parse::<i64>().is_ok() && b.parse::<i64>().is_ok();
    let (low, high): (f64, f64) = (a.parse().ok()?, b.parse().ok()?);
    (low.is_finite() && high.is_finite() && (high - low).is_finite() && low <= high)
        .then_some((low, high, whole))
}

/// A number as JSON text: whole, or with two decimals at most.
fn number(x: f64, whole: bool) -> String {
    if whole {
        format!("{}", x as i64)
    } else {
        let s = format!("{:.2}", x);
        let s = s.trim_end_matches('0').trim_end_matches('.');
        if s == "-0" {
            "0".to_owned()
        } else {
            s.to_owned()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    fn render(t: &str, n: u64, seq: u64, walks: &mut Vec<Option<f64>>) -> String {
        let mut rng = StdRng::seed_from_u64(7);
        Template::parse(t).unwrap().render(&mut Ctx {
            id: "SIM0001",
            n,
            seq,
            rng: &mut rng,
            walks,
        })
    }

    #[test]
    fn ids_numbers_and_json_braces() {
        let mut w = Vec::new();
        assert_eq!(render("SIM{n:04}", 7, 1, &mut w), "SIM0007");
        assert_eq!(
            render(r#"{"id":"{id}","seq":{seq},"o":{}}"#, 1, 42, &mut w),
            r#"{"id":"SIM0001","seq":42,"o":{}}"#
        );
    }

    #[test]
    fn random_and_walk_stay_in_their_ranges() {
        let t = Template::parse("{random:-10..35} {walk:0..1.5}").unwrap();
        assert_eq!(t.walks, 1);
        let mut rng = StdRng::seed_from_u64(1);
        let mut walks = Vec::new();
        let mut last: Option<f64> = None;
        for seq in 0..500 {
            let out = t.render(&mut Ctx {
                id: "x",
                n: 1,
                seq,
                rng: &mut rng,
                walks: &mut walks,
            });
            let (r, w) = out.split_once(' ').unwrap();
            let r: i64 = r.parse().unwrap();
            let w: f64 = w.parse().unwrap();
            assert!((-10..=35).contains(&r), "{out}");
            assert!((0.0..=1.5).contains(&w), "{out}");
            if let Some(prev) = last {
                // Steps of 5 % of the range at most (and the rounding).
                assert!((w - prev).abs() <= 0.075 + 0.01, "{prev} -> {w}");
            }
            last = Some(w);
        }
    }

    #[test]
    fn unknown_placeholders_and_bad_ranges_are_errors() {
        assert!(
            Template::parse("{vin}")
                .unwrap_err()
                .contains("not a placeholder")
        );
        assert!(
            Template::parse("{random:5..1}")
                .unwrap_err()
                .contains("A..B")
        );
        assert!(Template::parse("{n:x}").is_err());
        assert!(Template::parse("{id").is_err());
    }
}
