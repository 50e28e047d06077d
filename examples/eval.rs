//! Accuracy report of `check` over labelled corpora: precision, recall, F1 and the share of clean
//! lines falsely flagged, per category and overall, with every miss and false alarm listed.
//!
//! ```text
//! cargo run --release --example eval -- [--pack ID] [--markdown FILE] NAME=PATH[:external] …
//! ```
//! A set marked `:external` (someone else's words, such as ../shared/corpus) is listed by line id
//! only in the Markdown file, never quoted; its texts are printed to the terminal only.
//! `cargo xtask eval` runs this over the project's corpus and, when present, ../shared/corpus.

#[path = "../tests/support/accuracy.rs"]
mod accuracy;

use accuracy::{Counts, Report};
use callguard::{Category, Engine};
use std::fmt::Write as _;
use std::process::ExitCode;

struct Set {
    name: String,
    external: bool,
    report: Report,
}

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("eval: {e}");
            ExitCode::from(2)
        }
    }
}

fn run() -> Result<(), String> {
    let mut pack = callguard::DEFAULT_PACK.to_string();
    let mut markdown = None;
    let mut specs = Vec::new();
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--pack" => pack = args.next().ok_or("`--pack` needs a pack id")?,
            "--markdown" => markdown = Some(args.next().ok_or("`--markdown` needs a file")?),
            _ => specs.push(arg),
        }
    }
    if specs.is_empty() {
        return Err("give at least one NAME=PATH[:external] corpus".into());
    }
    let engine = Engine::with_embedded_packs().map_err(|p| format!("{p:?}"))?;
    let mut sets = Vec::new();
    for spec in &specs {
        let (name, path) = spec
            .split_once('=')
            .ok_or_else(|| format!("corpus `{spec}` is not NAME=PATH"))?;
        let (path, external) = match path.strip_suffix(":external") {
            Some(p) => (p, true),
            None => (path, false),
        };
        let lines = accuracy::load(std::path::Path::new(path))?;
        let report = accuracy::evaluate(&engine, &pack, &lines)?;
        sets.push(Set {
            name: name.to_string(),
            external,
            report,
        });
    }
    for set in &sets {
        print!("{}", terminal(set));
    }
    if let Some(path) = markdown {
        std::fs::write(&path, render_markdown(&pack, &sets))
            .map_err(|e| format!("cannot write `{path}`: {e}"))?;
        eprintln!("eval: wrote {path}");
    }
    Ok(())
}

fn pct(x: f64) -> String {
    format!("{:.1} %", x * 100.0)
}

fn row(name: &str, c: &Counts) -> String {
    format!(
        "| {name} | {} | {} | {} | {:.3} | {:.3} | {:.3} |\n",
        c.tp,
        c.missed,
        c.false_alarm,
        c.precision(),
        c.recall(),
        c.f1()
    )
}

fn table(report: &Report) -> String {
    let mut out = String::from(
        "| category | found | missed | false alarms | precision | recall | F1 |\n| --- | ---: | ---: | ---: | ---: | ---: | ---: |\n",
    );
    for (category, counts) in &report.per_category {
        out.push_str(&row(category.as_str(), counts));
    }
    out.push_str(&row("**overall**", &report.overall()));
    out
}

fn summary(report: &Report) -> String {
    format!(
        "violating lines caught with a right category: {}/{} ({}); every expected category: {}/{}; clean lines falsely flagged: {}/{} ({})",
        report.caught,
        report.violating,
        pct(report.caught_share()),
        report.fully_caught,
        report.violating,
        report.falsely_flagged,
        report.clean,
        pct(report.false_flag_share())
    )
}

fn mistake_line(m: &accuracy::Mistake, quote: bool) -> String {
    let missed: Vec<&str> = m.missed.iter().map(|c| Category::as_str(*c)).collect();
    // Someone else's words are never quoted, not even the flagged fragment.
    let alarms: Vec<String> = m
        .false_alarms
        .iter()
        .map(|(c, rule, excerpt)| {
            if quote {
                format!("{c} ({rule} `{excerpt}`)")
            } else {
                format!("{c} ({rule})")
            }
        })
        .collect();
    let mut line = format!("- `{}`", m.id);
    if !missed.is_empty() {
        let _ = write!(line, " missed: {}", missed.join(", "));
    }
    if !alarms.is_empty() {
        let _ = write!(line, " false alarm: {}", alarms.join(", "));
    }
    if quote {
        let _ = write!(line, " — {}", m.text);
    }
    line.push('\n');
    line
}

fn terminal(set: &Set) -> String {
    let mut out = format!(
        "\n== {} ==\n{}\n{}\n",
        set.name,
        summary(&set.report),
        table(&set.report)
    );
    for m in &set.report.mistakes {
        out.push_str(&mistake_line(m, true));
    }
    out
}

fn render_markdown(pack: &str, sets: &[Set]) -> String {
    let mut out = format!(
        "# Accuracy of `check` (pack `{pack}`)\n\nWritten by `cargo xtask eval` (examples/eval.rs). A violating line is caught when at least one of its expected categories is reported; a clean line is falsely flagged when a category outside its `allow` list is reported. Per category, a false alarm is a reported category that the line neither expects nor allows.\n"
    );
    for set in sets {
        let _ = write!(
            out,
            "\n## {}\n\n{}\n\n{}",
            set.name,
            summary(&set.report),
            table(&set.report)
        );
        if set.report.mistakes.is_empty() {
            continue;
        }
        out.push_str(if set.external {
            "\nMisses and false alarms (line ids only: these are other people's words, not copied here):\n\n"
        } else {
            "\nMisses and false alarms:\n\n"
        });
        for m in &set.report.mistakes {
            out.push_str(&mistake_line(m, !set.external));
        }
    }
    out
}
