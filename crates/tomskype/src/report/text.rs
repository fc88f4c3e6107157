//! Stage 6, report: the text report for people, drawn from the [`Story`]. The answer comes
//! first, in one line; then each machine with any sign, most serious first: the verdict and how
//! sure, what it means and what to do, the evidence as steps in time order, advisories, how
//! much it rests on and the published sources; machines with no sign are counted in one line
//! (`--all-hosts` tells them too). Lines fit the width given (the terminal's, or 100 when
//! piped), wrapped at word boundaries (CJK text between any two characters, as UAX #14 allows).
//! `--verbose` adds each step's kind, weight, basis and indicator id for analysts.
//!
//! Every text from the input (names, URLs, file names) goes through [`crate::textsafe::safe`] first: no
//! control character, escape sequence or bidirectional formatting character reaches the
//! terminal. Colour only when asked (the caller decides: a terminal, and no `NO_COLOR`).

use std::borrow::Cow;
use std::fmt::Write as _;
use std::io::{self, Write};

use super::people::{Machine, Story};
use crate::classify::Label;
use crate::textsafe::safe;

/// How to draw the text report.
#[derive(Debug, Clone, Copy)]
pub struct Style {
    /// ANSI colours.
    pub colour: bool,
    /// Columns to fit (at least 40).
    pub width: usize,
    /// Technical details per step, for analysts.
    pub verbose: bool,
}

impl Default for Style {
    fn default() -> Style {
        Style {
            colour: false,
            width: 100,
            verbose: false,
        }
    }
}

impl Style {
    fn paint(&self, code: &str, s: &str) -> String {
        if self.colour {
            format!("\x1b[{code}m{s}\x1b[0m")
        } else {
            s.to_owned()
        }
    }
}

/// Most problems listed at the end (the JSON report has them all).
const MAX_PROBLEMS: usize = 10;

/// Writes `story` for people.
pub fn write(story: &Story, out: &mut dyn Write, style: Style) -> io::Result<()> {
    let width = style.width.max(40);
    let code = |label: Label| match label {
        Label::TomSkype => "1;31",
        Label::Inconclusive => "1;33",
        Label::RegularSkype => "1;32",
        Label::NoSkype => "1",
    };
    let top = story.machines.first().map_or(Label::NoSkype, |m| m.label);
    for (i, line) in story.answer.iter().enumerate() {
        for l in &wrap(&safe(line), width, "", "  ") {
            let painted = if i == 0 {
                style.paint(code(top), l)
            } else {
                l.clone()
            };
            writeln!(out, "{painted}")?;
        }
    }
    for m in &story.machines {
        writeln!(out)?;
        machine(m, out, &style, width, code(m.label))?;
    }
    if let Some(q) = &story.quiet_line {
        writeln!(out)?;
        for l in wrap(q, width, "", "") {
            writeln!(out, "{l}")?;
        }
    }
    writeln!(out)?;
    for l in wrap(&story.inputs_line, width, "", "") {
        writeln!(out, "{}", style.paint("2", &l))?;
    }
    for l in story
        .memory_line
        .iter()
        .flat_map(|line| wrap(line, width, "", ""))
    {
        writeln!(out, "{}", style.paint("2", &l))?;
    }
    for p in story.problems.iter().take(MAX_PROBLEMS) {
        for l in wrap(&safe(p), width, "  ! ", "    ") {
            writeln!(out, "{}", style.paint("33", &l))?;
        }
    }
    if story.problems.len() > MAX_PROBLEMS {
        writeln!(
            out,
            "  … {} more (--format json lists them all)",
            story.problems.len() - MAX_PROBLEMS
        )?;
    }
    for l in wrap(&safe(&story.knowledge_line), width, "", "") {
        writeln!(out, "{}", style.paint("2", &l))?;
    }
    Ok(())
}

fn machine(
    m: &Machine,
    out: &mut dyn Write,
    style: &Style,
    width: usize,
    code: &str,
) -> io::Result<()> {
    // Capitals stand out in Latin script; other scripts have none.
    let verdict = if m.verdict.is_ascii() {
        m.verdict.to_uppercase()
    } else {
        m.verdict.clone()
    };
    let mut head = format!("{}  {}", m.address, style.paint(code, &verdict));
    let _ = write!(head, "  ({})", m.confidence);
    if style.verbose {
        let _ = write!(head, " [{:.3}]", m.confidence_value);
    }
    writeln!(out, "{}", style.paint("1", &head))?;
    for l in wrap(&m.meaning, width, "  ", "  ") {
        writeln!(out, "{l}")?;
    }
    for l in wrap(&m.advice, width, "  ", "  ") {
        writeln!(out, "{}", style.paint("1", &l))?;
    }
    if let Some(first) = m.steps.first() {
        writeln!(out)?;
        writeln!(out, "  {}", m.story_heading)?;
        let stamp = first.when.chars().count().max(23);
        let indent = " ".repeat(4 + stamp + 2);
        for s in &m.steps {
            let text = safe(&s.text);
            let first_line = format!("    {:<stamp$}  ", s.when);
            let lines = wrap(&text, width, &first_line, &indent);
            for (i, l) in lines.iter().enumerate() {
                let l = if s.counted || i > 0 {
                    l.clone()
                } else {
                    style.paint("2", l)
                };
                writeln!(out, "{l}")?;
            }
            for n in &s.notes {
                for l in wrap(&format!("({n})"), width, &indent, &indent) {
                    writeln!(out, "{}", style.paint("2", &l))?;
                }
            }
            if style.verbose {
                writeln!(out, "{indent}{}", style.paint("2", &safe(&s.technical)))?;
            }
        }
        if let Some(more) = &m.more {
            writeln!(out, "{indent}{more}")?;
        }
    }
    for a in m.advisories.iter().chain(&m.roles) {
        for l in wrap(&safe(a), width, "  ! ", "    ") {
            writeln!(out, "{}", style.paint("33", &l))?;
        }
    }
    for p in &m.programs {
        writeln!(out, "  {}", safe(p))?;
    }
    for r in &m.rests_on {
        for l in wrap(r, width, "  ", "  ") {
            writeln!(out, "{}", style.paint("2", &l))?;
        }
    }
    if !m.sources.is_empty() {
        writeln!(out, "  {}", style.paint("2", &m.sources_heading))?;
    }
    for s in &m.sources {
        for l in wrap(&safe(s), width, "  · ", "    ") {
            writeln!(out, "{}", style.paint("2", &l))?;
        }
    }
    Ok(())
}

/// Wraps `text` to `width` columns (East Asian wide characters count two), the first line
/// after `first`, the others after `rest`.
fn wrap(text: &str, width: usize, first: &str, rest: &str) -> Vec<String> {
    let options = textwrap::Options::new(width)
        .initial_indent(first)
        .subsequent_indent(rest)
        .break_words(true);
    textwrap::wrap(text, options)
        .into_iter()
        .map(Cow::into_owned)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn acting_characters_are_shown_escaped() {
        assert_eq!(safe("plain"), "plain");
        assert_eq!(
            safe("a\u{1b}]0;title\u{7}b\u{202e}c\u{2028}d\u{9b}"),
            "a\\x1b]0;title\\x07b\\u{202e}c\\u{2028}d\\x9b"
        );
    }

    #[test]
    fn wrapping_counts_wide_characters_twice() {
        let lines = wrap(&"中".repeat(30), 40, "", "");
        assert!(lines.len() >= 2, "{lines:?}");
        for l in &lines {
            assert!(textwrap::core::display_width(l) <= 40, "{l}");
        }
    }
}
