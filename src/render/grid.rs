//! Tables drawn line by line as they are written, in comfy-table's
//! `UTF8_FULL_CONDENSED` look, with tables nested in the last column.
//!
//! Rows are produced on demand by a [`Source`] (once to measure the columns,
//! once to draw), so a table of a million rows never exists in memory, and
//! a nested table is drawn as the lines of its row are written. A table fits
//! the width it is given: the last column is wrapped (and tables nested in
//! it narrowed), the others are capped.

use std::io;

use unicode_width::UnicodeWidthChar;

/// One cell: text (lines split at `\n`, wrapped to the column), or a table.
pub enum Cell<'s> {
    Text(String),
    Nested(Box<dyn Source + 's>),
}

impl From<String> for Cell<'_> {
    fn from(s: String) -> Self {
        Cell::Text(s)
    }
}

impl From<&str> for Cell<'_> {
    fn from(s: &str) -> Self {
        Cell::Text(s.to_owned())
    }
}

/// Where a table's rows come from.
pub trait Source {
    /// The column titles.
    fn header(&self) -> &[&str];
    /// Calls `row` with each row in order (as many cells as titles).
    fn rows<'s>(&'s self, row: &mut dyn FnMut(Vec<Cell<'s>>) -> io::Result<()>) -> io::Result<()>;

    /// The same content as plain text, shown (wrapped) instead of the table
    /// where the table cannot be made narrow enough.
    fn text(&self) -> Option<String> {
        None
    }
}

/// Columns other than the last are never wider than this (longer text wraps).
const FIXED_CAP: usize = 48;
/// The last column is never made narrower than this to fit a width.
const MIN_LAST: usize = 16;
/// Nothing is made narrower than this.
const MIN_COLUMN: usize = 3;

/// Writes the table `source` draws, one line at a time (without line
/// ends), no wider than `max` when it can.
pub fn write(
    source: &dyn Source,
    max: Option<usize>,
    line: &mut dyn FnMut(&str) -> io::Result<()>,
) -> io::Result<()> {
    let widths = measure(source, max, true)?;
    draw(source, &widths, line)
}

/// The whole table as a string (lines ended by `\n`).
pub fn to_string(source: &dyn Source, max: Option<usize>) -> String {
    let mut out = String::new();
    let _ = write(source, max, &mut |l| {
        out.push_str(l);
        out.push('\n');
        Ok(())
    });
    out
}

/// The width of a drawn table with these column widths.
fn total(widths: &[usize]) -> usize {
    1 + widths.iter().map(|w| w + 3).sum::<usize>()
}

/// The column widths of `source` within `max`. Only the outermost table
/// (`outer`) narrows its fixed columns (wrapping names and types); a nested
/// table keeps them and gives up its value column's width, its own nested
/// tables turning to text first, so that what does not fit is shown as text
/// rather than as a table squeezed out of shape.
fn measure(source: &dyn Source, max: Option<usize>, outer: bool) -> io::Result<Vec<usize>> {
    let header = source.header();
    let n = header.len();
    let last = n - 1;
    let mut widths: Vec<usize> = header.iter().map(|h| text_width(h)).collect();
    // The fixed columns first: their natural widths, capped; and what the
    // last column's text needs.
    let mut last_text = widths[last];
    let mut last_nested = false;
    source.rows(&mut |row| {
        for (i, cell) in row.iter().enumerate() {
            match cell {
                Cell::Text(t) if i < last => {
                    widths[i] = widths[i].max(text_width(t).min(FIXED_CAP))
                }
                Cell::Text(t) => last_text = last_text.max(text_width(t)),
                Cell::Nested(_) => last_nested |= i == last,
            }
        }
        Ok(())
    })?;
    // Then what the last column may take: the rest of the width, narrowing
    // the fixed columns (widest first) when that leaves it too little.
    let avail = max.map(|m| {
        let need = if last_nested {
            MIN_LAST
        } else {
            last_text.min(MIN_LAST)
        };
        let fixed: usize = total(&widths[..last]) + 3;
        let mut over = if outer {
            (fixed + need).saturating_sub(m)
        } else {
            0
        };
        while over > 0 {
            let (i, w) = widths[..last]
                .iter()
                .copied()
                .enumerate()
                .max_by_key(|(_, w)| *w)
                .expect("a fixed column");
            if w <= MIN_COLUMN {
                break;
            }
            widths[i] -= 1;
            over -= 1;
        }
        // A nested table that cannot give its value column this much does
        // not fit, and its parent shows it as text.
        m.saturating_sub(total(&widths[..last]) + 3).max(need)
    });
    let mut last_width = widths[last];
    source.rows(&mut |row| {
        match row.get(last) {
            Some(Cell::Text(t)) => last_width = last_width.max(text_width(t)),
            Some(Cell::Nested(inner)) => {
                let mut w = total(&measure(inner.as_ref(), avail, false)?);
                if let Some(a) = avail.filter(|a| w > *a) {
                    if let Some(t) = inner.text() {
                        w = text_width(&t).min(a);
                    }
                }
                last_width = last_width.max(w);
            }
            None => {}
        }
        Ok(())
    })?;
    widths[last] = match avail {
        Some(a) => last_width.min(a).max(MIN_COLUMN),
        None => last_width,
    };
    Ok(widths)
}

fn draw(
    source: &dyn Source,
    widths: &[usize],
    line: &mut dyn FnMut(&str) -> io::Result<()>,
) -> io::Result<()> {
    let rule = |left: &str, fill: &str, mid: &str, right: &str| {
        let mut s = String::from(left);
        for (i, w) in widths.iter().enumerate() {
            if i > 0 {
                s.push_str(mid);
            }
            s.push_str(&fill.repeat(w + 2));
        }
        s.push_str(right);
        s
    };
    line(&rule("┌", "─", "┬", "┐"))?;
    let header: Vec<Vec<String>> = source
        .header()
        .iter()
        .zip(widths)
        .map(|(h, w)| wrap(h, *w))
        .collect();
    draw_lines(&header, widths, None, line)?;
    line(&rule("╞", "═", "╪", "╡"))?;
    let last = widths.len() - 1;
    source.rows(&mut |row| {
        let mut texts: Vec<Vec<String>> = Vec::with_capacity(row.len());
        let mut nested = None;
        for (i, cell) in row.into_iter().enumerate() {
            match cell {
                Cell::Text(t) => texts.push(wrap(&t, widths[i])),
                Cell::Nested(inner) if i == last => {
                    let inner_widths = measure(inner.as_ref(), Some(widths[i]), false)?;
                    match inner.text() {
                        // Too wide even narrowed: its text, wrapped.
                        Some(t) if total(&inner_widths) > widths[i] => {
                            texts.push(wrap(t.trim_end_matches('\n'), widths[i]));
                        }
                        _ => {
                            texts.push(Vec::new());
                            nested = Some((inner, inner_widths));
                        }
                    }
                }
                // Only the last column holds tables: draw others as text.
                Cell::Nested(inner) => {
                    let drawn = to_string(inner.as_ref(), None);
                    texts.push(wrap(drawn.trim_end_matches('\n'), widths[i]))
                }
            }
        }
        draw_lines(&texts, widths, nested, line)
    })?;
    line(&rule("└", "─", "┴", "┘"))
}

/// Draws one row: its text cells' lines side by side, and the nested
/// table's lines in the last column as they are written.
fn draw_lines(
    cells: &[Vec<String>],
    widths: &[usize],
    nested: Option<(Box<dyn Source + '_>, Vec<usize>)>,
    line: &mut dyn FnMut(&str) -> io::Result<()>,
) -> io::Result<()> {
    let mut k = 0;
    let mut buf = String::new();
    let mut row_line =
        |k: usize, last: Option<&str>, line: &mut dyn FnMut(&str) -> io::Result<()>| {
            buf.clear();
            buf.push('│');
            for (i, w) in widths.iter().enumerate() {
                if i > 0 {
                    buf.push('┆');
                }
                let text = match (last, i == widths.len() - 1) {
                    (Some(t), true) => t,
                    _ => cells
                        .get(i)
                        .and_then(|c| c.get(k))
                        .map_or("", String::as_str),
                };
                let pad = w.saturating_sub(text_width(text));
                buf.push(' ');
                if i == 0 {
                    // The first column (field numbers) is right-aligned.
                    push_spaces(&mut buf, pad);
                    buf.push_str(text);
                } else {
                    buf.push_str(text);
                    push_spaces(&mut buf, pad);
                }
                buf.push(' ');
            }
            buf.push('│');
            line(&buf)
        };
    if let Some((inner, inner_widths)) = nested {
        draw(inner.as_ref(), &inner_widths, &mut |l| {
            row_line(k, Some(l), line)?;
            k += 1;
            Ok(())
        })?;
    }
    let height = cells.iter().map(Vec::len).max().unwrap_or(0).max(1);
    while k < height {
        row_line(k, None, line)?;
        k += 1;
    }
    Ok(())
}

fn push_spaces(buf: &mut String, n: usize) {
    buf.extend(std::iter::repeat_n(' ', n));
}

/// The display width of the widest line of `text`.
pub fn text_width(text: &str) -> usize {
    text.split('\n').map(line_width).max().unwrap_or(0)
}

fn line_width(line: &str) -> usize {
    line.chars().map(|c| c.width().unwrap_or(0)).sum()
}

/// `text`'s lines, each broken into pieces no wider than `width`: after a
/// space when there is one in the second half of the piece, else anywhere.
fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut out = Vec::new();
    for l in text.split('\n') {
        if line_width(l) <= width {
            out.push(l.to_owned());
            continue;
        }
        let mut rest: &str = l;
        while line_width(rest) > width {
            // The longest prefix that fits, in bytes.
            let mut w = 0;
            let mut fit = 0;
            for (i, c) in rest.char_indices() {
                let cw = c.width().unwrap_or(0);
                if w + cw > width {
                    break;
                }
                w += cw;
                fit = i + c.len_utf8();
            }
            if fit == 0 {
                fit = rest.chars().next().map_or(rest.len(), char::len_utf8);
            }
            let cut = match rest[..fit].rfind(' ') {
                Some(sp) if sp >= fit / 2 && sp > 0 => sp + 1,
                _ => fit,
            };
            out.push(rest[..cut].trim_end().to_owned());
            rest = &rest[cut..];
        }
        out.push(rest.to_owned());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Rows(Vec<(String, String)>, Option<Box<Rows>>);

    impl Source for Rows {
        fn header(&self) -> &[&str] {
            &["#", "value"]
        }
        fn rows<'s>(
            &'s self,
            row: &mut dyn FnMut(Vec<Cell<'s>>) -> io::Result<()>,
        ) -> io::Result<()> {
            for (a, b) in &self.0 {
                row(vec![Cell::Text(a.clone()), Cell::Text(b.clone())])?;
            }
            if let Some(inner) = &self.1 {
                row(vec![
                    Cell::from("9"),
                    Cell::Nested(Box::new(Rows(inner.0.clone(), None))),
                ])?;
            }
            Ok(())
        }
    }

    fn rows(items: &[(&str, &str)]) -> Vec<(String, String)> {
        items
            .iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect()
    }

    #[test]
    fn draws_like_comfy_tables_condensed_preset() {
        let t = Rows(rows(&[("1", "a"), ("10", "two\nlines")]), None);
        assert_eq!(
            to_string(&t, None),
            "┌────┬───────┐\n\
             │  # ┆ value │\n\
             ╞════╪═══════╡\n\
             │  1 ┆ a     │\n\
             │ 10 ┆ two   │\n\
             │    ┆ lines │\n\
             └────┴───────┘\n"
        );
    }

    #[test]
    fn nested_tables_are_drawn_in_the_last_column() {
        let t = Rows(
            rows(&[("1", "a")]),
            Some(Box::new(Rows(rows(&[("2", "b")]), None))),
        );
        assert_eq!(
            to_string(&t, None),
            "┌───┬───────────────┐\n\
             │ # ┆ value         │\n\
             ╞═══╪═══════════════╡\n\
             │ 1 ┆ a             │\n\
             │ 9 ┆ ┌───┬───────┐ │\n\
             │   ┆ │ # ┆ value │ │\n\
             │   ┆ ╞═══╪═══════╡ │\n\
             │   ┆ │ 2 ┆ b     │ │\n\
             │   ┆ └───┴───────┘ │\n\
             └───┴───────────────┘\n"
        );
    }

    #[test]
    fn a_table_fits_the_width_it_is_given() {
        let long = "x".repeat(300);
        let inner = Rows(rows(&[("2", &long)]), None);
        let t = Rows(rows(&[("1", &long)]), Some(Box::new(inner)));
        let drawn = to_string(&t, Some(80));
        for l in drawn.lines() {
            assert!(line_width(l) <= 80, "{} wide: {l}", line_width(l));
        }
        assert_eq!(
            drawn.matches('x').count(),
            600,
            "nothing is lost by wrapping"
        );
    }
}
