//! Tables drawn line by line as they are written, in comfy-table's
//! `UTF8_FULL_CONDENSED` look, with tables nested in the last column.
//!
//! Rows are produced on demand by a [`Source`] (once to measure the columns,
//! once to draw), so a table of a million rows never exists in memory, and
//! a nested table is drawn as the lines of its row are written; so is a
//! cell's text given by [`Lines`] (a list of a million values). A table fits
//! the width it is given: the last column is wrapped (and tables nested in
//! it narrowed), the others are capped.

use std::io;

use unicode_width::UnicodeWidthChar;

/// One cell: text (lines split at `\n`, wrapped to the column), or a table,
/// or text made a line at a time each time it is measured or drawn.
pub enum Cell<'s> {
    Text(String),
    Nested(Box<dyn Source + 's>),
    Lines(Box<dyn Lines + 's>),
}

/// Text given a line at a time (without line ends), the same lines each
/// time: a value too large to hold as one string.
pub trait Lines {
    fn lines(&self, line: &mut dyn FnMut(&str) -> io::Result<()>) -> io::Result<()>;
}

/// The lines of a string, without its final line ends.
pub struct TextLines(pub String);

impl Lines for TextLines {
    fn lines(&self, line: &mut dyn FnMut(&str) -> io::Result<()>) -> io::Result<()> {
        self.0.trim_end_matches('\n').split('\n').try_for_each(line)
    }
}

/// The display width of the widest line `lines` gives.
fn lines_width(lines: &dyn Lines) -> io::Result<usize> {
    let mut width = 0;
    lines.lines(&mut |l| {
        width = width.max(line_width(l));
        Ok(())
    })?;
    Ok(width)
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
    fn text(&self) -> Option<Box<dyn Lines + '_>> {
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
                Cell::Lines(l) if i < last => {
                    widths[i] = widths[i].max(lines_width(l.as_ref())?.min(FIXED_CAP))
                }
                // Made again only when its width matters here.
                Cell::Lines(l) if max.is_some() && last_text < MIN_LAST => {
                    last_text = last_text.max(lines_width(l.as_ref())?)
                }
                Cell::Lines(_) => {}
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
            Some(Cell::Lines(l)) => last_width = last_width.max(lines_width(l.as_ref())?),
            Some(Cell::Nested(inner)) => {
                let mut w = total(&measure(inner.as_ref(), avail, false)?);
                if let Some(a) = avail.filter(|a| w > *a) {
                    if let Some(t) = inner.text() {
                        w = lines_width(t.as_ref())?.min(a);
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
        let mut made = None;
        for (i, cell) in row.into_iter().enumerate() {
            match cell {
                Cell::Text(t) => texts.push(wrap(&t, widths[i])),
                Cell::Nested(inner) if i == last => {
                    let inner_widths = measure(inner.as_ref(), Some(widths[i]), false)?;
                    texts.push(Vec::new());
                    // Too wide even narrowed: its text, wrapped.
                    made = Some(
                        if total(&inner_widths) > widths[i] && inner.text().is_some() {
                            Made::Text(inner)
                        } else {
                            Made::Table(inner, inner_widths)
                        },
                    );
                }
                Cell::Lines(l) if i == last => {
                    texts.push(Vec::new());
                    made = Some(Made::Lines(l));
                }
                // Only the last column holds tables: draw others as text.
                Cell::Nested(inner) => {
                    let drawn = to_string(inner.as_ref(), None);
                    texts.push(wrap(drawn.trim_end_matches('\n'), widths[i]))
                }
                Cell::Lines(l) => {
                    let mut text = String::new();
                    l.lines(&mut |l| {
                        text.push_str(l);
                        text.push('\n');
                        Ok(())
                    })?;
                    texts.push(wrap(text.trim_end_matches('\n'), widths[i]))
                }
            }
        }
        draw_lines(&texts, widths, made, line)
    })?;
    line(&rule("└", "─", "┴", "┘"))
}

/// What the last column of a row draws as it goes: a table, the text of a
/// table too wide for it, or lines of text.
enum Made<'s> {
    Table(Box<dyn Source + 's>, Vec<usize>),
    Text(Box<dyn Source + 's>),
    Lines(Box<dyn Lines + 's>),
}

/// Draws one row: its text cells' lines side by side, and the lines the
/// last column makes as they are made.
fn draw_lines(
    cells: &[Vec<String>],
    widths: &[usize],
    made: Option<Made<'_>>,
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
    // The last column's lines as they are made, each under the last.
    let width = widths[widths.len() - 1];
    let mut put = |l: &str| -> io::Result<()> {
        row_line(k, Some(l), line)?;
        k += 1;
        Ok(())
    };
    match made {
        Some(Made::Table(inner, inner_widths)) => draw(inner.as_ref(), &inner_widths, &mut put)?,
        Some(Made::Text(inner)) => {
            if let Some(text) = inner.text() {
                text.lines(&mut |l| wrap_line(l, width, &mut put))?;
            }
        }
        Some(Made::Lines(lines)) => lines.lines(&mut |l| wrap_line(l, width, &mut put))?,
        None => {}
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

/// `text`'s lines, each broken into pieces no wider than `width` by
/// [`wrap_line`].
fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut out = Vec::new();
    for l in text.split('\n') {
        let _ = wrap_line(l, width, &mut |piece| {
            out.push(piece.to_owned());
            Ok(())
        });
    }
    out
}

/// Breaks `line` into pieces no wider than `width`: after a space when there
/// is one in the second half of the piece, else anywhere.
fn wrap_line(
    line: &str,
    width: usize,
    piece: &mut dyn FnMut(&str) -> io::Result<()>,
) -> io::Result<()> {
    wrap_line_with(line, width, |c| c.width().unwrap_or(0), piece)
}

/// [`wrap_line`] with the width of a character given by `char_width`. Each
/// character is measured at most twice, once the piece before it is cut
/// (a line of a megabyte took minutes when the whole rest of the line was
/// measured again for each piece).
fn wrap_line_with(
    line: &str,
    width: usize,
    mut char_width: impl FnMut(char) -> usize,
    piece: &mut dyn FnMut(&str) -> io::Result<()>,
) -> io::Result<()> {
    let mut rest = line;
    loop {
        // The longest prefix that fits, in bytes; the rest fits when the
        // whole of it does.
        let mut w = 0;
        let mut fit = 0;
        let mut fits = true;
        for (i, c) in rest.char_indices() {
            let cw = char_width(c);
            if w + cw > width {
                fits = false;
                break;
            }
            w += cw;
            fit = i + c.len_utf8();
        }
        if fits {
            break;
        }
        if fit == 0 {
            fit = rest.chars().next().map_or(rest.len(), char::len_utf8);
        }
        let cut = match rest[..fit].rfind(' ') {
            Some(sp) if sp >= fit / 2 && sp > 0 => sp + 1,
            _ => fit,
        };
        piece(rest[..cut].trim_end())?;
        rest = &rest[cut..];
    }
    piece(rest)
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

    /// Issue 8 review, item 3: wrapping measured the whole rest of a line
    /// again for each piece cut from it (a 1 MB map key in a table, or a
    /// long string in the text of a nested table too wide for the width,
    /// took 5 s, 2 MB 21 s, 4 MB minutes).
    #[test]
    fn wrapping_a_long_line_measures_each_character_at_most_twice() {
        // Words (cut after a space), then a run without one (cut anywhere).
        let line = format!("{}{}", "word ".repeat(20_000), "x".repeat(100_000));
        let mut measured = 0;
        let mut pieces = Vec::new();
        let mut width = |c: char| {
            measured += 1;
            c.width().unwrap_or(0)
        };
        wrap_line_with(&line, 30, &mut width, &mut |p| {
            pieces.push(p.to_owned());
            Ok(())
        })
        .unwrap();
        let chars = line.chars().count();
        assert!(
            measured <= 2 * chars + pieces.len(),
            "{measured} measures for {chars} characters"
        );
        assert!(pieces.iter().all(|p| line_width(p) <= 30));
        assert_eq!(pieces.concat().replace(' ', ""), line.replace(' ', ""));
        assert_eq!(pieces[0], "word word word word word word");
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
