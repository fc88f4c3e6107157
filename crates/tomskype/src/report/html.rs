//! Stage 6, report: the HTML report (`--format html`). One self-contained file: styles and the
//! world map are inside it, no script, no font, no request to any server, so it opens from a USB
//! stick on a machine with no network and reads the same without JavaScript. It draws the same
//! [`Story`] as the text report: the answer first, a summary table, a card per machine with a
//! sign (what it means, what to do, the evidence as a timeline with its sources, a map of the
//! countries it talked to with TOM's servers' country marked), then the rest counted.
//!
//! Every text from the input (names, URLs, file names) is escaped for HTML, and control and
//! bidirectional formatting characters are shown as `\u{...}`, never interpreted.

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::io::{self, Write};

use super::lang::Messages;
use super::people::{Machine, Story};
use super::world;
use super::Report;

const STYLE: &str = r#"
:root { --tom: #b3261e; --unclear: #8a5a00; --regular: #1d6b35; --none: #555; --ink: #1b1b1b; }
* { box-sizing: border-box; }
body { font: 16px/1.5 system-ui, -apple-system, "Segoe UI", "Noto Sans", "Noto Sans CJK SC",
       "Microsoft YaHei", "PingFang SC", sans-serif; color: var(--ink); margin: 0 auto;
       max-width: 60rem; padding: 1.5rem; }
h1 { font-size: 1.6rem; line-height: 1.3; margin: 0 0 .5rem; }
h2 { font-size: 1.25rem; margin: 0 0 .5rem; }
h3 { font-size: 1rem; margin: 1rem 0 .25rem; }
.answer-tom-skype { color: var(--tom); } .answer-inconclusive { color: var(--unclear); }
.answer-regular-skype { color: var(--regular); }
table { border-collapse: collapse; width: 100%; margin: 1rem 0; }
th, td { text-align: left; padding: .35rem .6rem; border-bottom: 1px solid #ddd; vertical-align: top; }
.badge { display: inline-block; padding: .05rem .5rem; border-radius: .3rem; color: #fff; font-weight: 600; }
.tom-skype .badge, .badge.tom-skype { background: var(--tom); }
.inconclusive .badge, .badge.inconclusive { background: var(--unclear); }
.regular-skype .badge, .badge.regular-skype { background: var(--regular); }
.no-skype .badge, .badge.no-skype { background: var(--none); }
article { border: 1px solid #ccc; border-left: .5rem solid var(--none); border-radius: .4rem;
          padding: 1rem 1.2rem; margin: 1.2rem 0; }
article.tom-skype { border-left-color: var(--tom); } article.inconclusive { border-left-color: var(--unclear); }
article.regular-skype { border-left-color: var(--regular); }
.advice { font-weight: 600; }
ol.timeline { list-style: none; padding: 0; margin: 0; border-left: 2px solid #bbb; }
ol.timeline li { position: relative; padding: .2rem 0 .5rem 1rem; }
ol.timeline li::before { content: ""; position: absolute; left: -.4rem; top: .6rem; width: .7rem; height: .7rem;
                         border-radius: 50%; background: #888; }
ol.timeline li.tom::before { background: var(--tom); }
ol.timeline li.uncounted { color: #666; }
time { font-variant-numeric: tabular-nums; color: #444; font-size: .9rem; display: block; }
.note { color: #666; font-size: .9rem; display: block; }
.input { font-family: ui-monospace, "SFMono-Regular", Consolas, monospace; font-size: .92em; word-break: break-all; }
figure { margin: .8rem 0; }
svg.map { width: 100%; height: auto; background: #eef3f7; border-radius: .3rem; }
svg.map .talked { fill: #5b8db8; stroke: #fff; stroke-width: .4; }
svg.map .tom { fill: var(--tom); stroke: #fff; stroke-width: .4; }
figcaption, .small, footer { font-size: .85rem; color: #555; }
ul.advisories li { margin: .3rem 0; }
footer { border-top: 1px solid #ddd; margin-top: 2rem; padding-top: .6rem; }
"#;

/// Writes the HTML report of `report` told as `story`.
pub fn write(story: &Story, report: &Report, out: &mut dyn Write) -> io::Result<()> {
    let m = Messages::new(story.lang);
    let mut h = String::with_capacity(256 * 1024);
    let top = story
        .machines
        .first()
        .map_or("no-skype", |mc| mc.label.name());
    let _ = write!(
        h,
        "<!doctype html>\n<html lang=\"{}\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>{}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n",
        story.lang.tag(),
        esc(&m.text("html-title"))
    );
    world_defs(&mut h);
    let _ = writeln!(h, "<header>");
    for (i, line) in story.answer.iter().enumerate() {
        if i == 0 {
            let _ = writeln!(h, "<h1 class=\"answer answer-{top}\">{}</h1>", esc(line));
        } else {
            let _ = writeln!(h, "<p class=\"answer-more\">{}</p>", esc(line));
        }
    }
    let _ = writeln!(h, "</header>");
    if !story.machines.is_empty() {
        summary(&mut h, story, &m);
    }
    for machine in &story.machines {
        card(&mut h, machine, report, &m);
    }
    if let Some(line) = &story.quiet_line {
        let _ = writeln!(
            h,
            "<section class=\"quiet\"><h2>{}</h2><p>{}</p></section>",
            esc(&m.text("html-quiet-heading")),
            esc(line)
        );
    }
    let _ = writeln!(h, "<footer>\n<p>{}</p>", esc(&story.inputs_line));
    if let Some(line) = &story.memory_line {
        let _ = writeln!(h, "<p>{}</p>", esc(line));
    }
    if !story.problems.is_empty() {
        let _ = writeln!(h, "<p>{}</p><ul>", esc(&m.text("problems-heading")));
        for p in &story.problems {
            let _ = writeln!(h, "<li class=\"input\">{}</li>", esc(p));
        }
        let _ = writeln!(h, "</ul>");
    }
    let _ = writeln!(
        h,
        "<p>{}</p>\n<p>{} {}</p>\n<p>{}</p>\n</footer>\n</body>\n</html>",
        esc(&story.knowledge_line),
        esc(report.tool.name),
        esc(report.tool.version),
        esc(&m.text("html-map-credit"))
    );
    out.write_all(h.as_bytes())
}

/// The world's outlines, once, for every card's map to use.
fn world_defs(h: &mut String) {
    let _ = write!(
        h,
        "<svg width=\"0\" height=\"0\" style=\"position:absolute\" aria-hidden=\"true\"><defs><g id=\"world\" fill=\"#d6d6d6\" stroke=\"#fff\" stroke-width=\"0.4\">"
    );
    // Antarctica lies below the maps' frame, and its outline runs along the plane's edges.
    for (_, d) in world::shapes().filter(|(code, _)| *code != "AQ") {
        let _ = write!(h, "<path d=\"{d}\"/>");
    }
    let _ = writeln!(h, "</g></defs></svg>");
}

fn summary(h: &mut String, story: &Story, m: &Messages) {
    let _ = writeln!(
        h,
        "<table class=\"summary\"><thead><tr><th>{}</th><th>{}</th><th>{}</th></tr></thead><tbody>",
        esc(&m.text("html-machine")),
        esc(&m.text("html-verdict")),
        esc(&m.text("html-confidence"))
    );
    for mc in &story.machines {
        let _ = writeln!(
            h,
            "<tr><td><a href=\"#m-{id}\">{addr}</a></td><td><span class=\"badge {label}\">{verdict}</span></td><td>{conf}</td></tr>",
            id = anchor(&mc.address.to_string()),
            addr = esc(&mc.address.to_string()),
            label = mc.label.name(),
            verdict = esc(&mc.verdict),
            conf = esc(&mc.confidence),
        );
    }
    let _ = writeln!(h, "</tbody></table>");
}

fn anchor(addr: &str) -> String {
    addr.chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect()
}

fn card(h: &mut String, mc: &Machine, report: &Report, m: &Messages) {
    let label = mc.label.name();
    let _ = writeln!(
        h,
        "<article class=\"machine {label}\" id=\"m-{}\">\n<h2>{} <span class=\"badge\">{}</span> <span class=\"small\">{}</span></h2>",
        anchor(&mc.address.to_string()),
        esc(&mc.address.to_string()),
        esc(&mc.verdict),
        esc(&mc.confidence)
    );
    let _ = writeln!(
        h,
        "<p class=\"meaning\">{}</p>\n<p class=\"advice\">{}</p>",
        esc(&mc.meaning),
        esc(&mc.advice)
    );
    if !mc.steps.is_empty() {
        let _ = writeln!(
            h,
            "<h3>{}</h3>\n<ol class=\"timeline\">",
            esc(&m.text("story-heading"))
        );
        for s in &mc.steps {
            let mut class = Vec::new();
            if s.counted && s.technical.starts_with("tom-") {
                class.push("tom");
            }
            if !s.counted {
                class.push("uncounted");
            }
            let _ = write!(
                h,
                "<li class=\"{}\"><time>{}</time>{}",
                class.join(" "),
                esc(&s.when),
                esc(&s.text)
            );
            for n in &s.notes {
                let _ = write!(h, "<span class=\"note\">{}</span>", esc(n));
            }
            let _ = writeln!(h, "</li>");
        }
        let _ = writeln!(h, "</ol>");
        if let Some(more) = &mc.more {
            let _ = writeln!(h, "<p class=\"small\">{}</p>", esc(more));
        }
    }
    if !mc.advisories.is_empty() || !mc.roles.is_empty() {
        let _ = writeln!(h, "<ul class=\"advisories\">");
        for a in mc.advisories.iter().chain(&mc.roles) {
            let _ = writeln!(h, "<li>{}</li>", esc(a));
        }
        let _ = writeln!(h, "</ul>");
    }
    map(h, mc, report, m);
    for line in &mc.rests_on {
        let _ = writeln!(h, "<p class=\"small\">{}</p>", esc(line));
    }
    if !mc.sources.is_empty() {
        let _ = writeln!(
            h,
            "<p class=\"small\">{}</p>\n<ul class=\"small\">",
            esc(&mc.sources_heading)
        );
        for s in &mc.sources {
            let _ = writeln!(h, "<li>{}</li>", esc(s));
        }
        let _ = writeln!(h, "</ul>");
    }
    let _ = writeln!(h, "</article>");
}

/// The countries a machine talked to on the world map; the countries of the servers behind
/// its TOM evidence in red.
fn map(h: &mut String, mc: &Machine, report: &Report, m: &Messages) {
    if mc.countries.is_empty() {
        return;
    }
    let host = report.hosts.iter().find(|x| x.address == mc.address);
    let tom: BTreeSet<String> = host
        .into_iter()
        .flat_map(|x| &x.evidence)
        .filter(|e| e.kind.starts_with("tom-") && e.weight > 0.0)
        .filter_map(|e| e.country.map(|c| c.to_string()))
        .collect();
    let talked: BTreeSet<String> = mc.countries.iter().map(|c| c.to_string()).collect();
    let (w, ht) = world::PLANE;
    // Latitudes 84 N to 58 S: the inhabited world, without Antarctica's band.
    let _ = write!(
        h,
        "<figure><svg class=\"map\" viewBox=\"0 12 {w} {}\" role=\"img\" aria-label=\"{}\"><use href=\"#world\"/>",
        ht * 148 / 180,
        esc(&m.text("html-map-caption"))
    );
    for (code, d) in world::shapes() {
        let class = if tom.contains(code) {
            "tom"
        } else if talked.contains(code) {
            "talked"
        } else {
            continue;
        };
        let _ = write!(
            h,
            "<path class=\"{class}\" d=\"{d}\"><title>{}</title></path>",
            esc(&world::country_name(code, m.lang()))
        );
    }
    let names: Vec<String> = mc
        .countries
        .iter()
        .map(|c| world::country_name(&c.to_string(), m.lang()))
        .collect();
    let _ = writeln!(
        h,
        "</svg><figcaption>{} {}</figcaption></figure>",
        esc(&m.text("html-map-caption")),
        esc(&m.get("html-countries", &[("list", (&names.join(", ")).into())]))
    );
}

/// Escapes `s` for HTML text and attributes, and shows control and bidirectional formatting
/// characters as `\u{...}` instead of letting them act.
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c if c != '\n' && c != '\t' && crate::textsafe::is_unsafe(c) => {
                crate::textsafe::push_escaped(&mut out, c);
            }
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn input_text_cannot_act() {
        assert_eq!(
            esc("<script>\u{1b}[2J\u{202e}x\"'&"),
            "&lt;script&gt;\\x1b[2J\\u{202e}x&quot;&#39;&amp;"
        );
    }
}
