//! Accuracy of `check` over a labelled corpus (JSON lines of `{id, text, context, expect, allow}`),
//! shared by `examples/eval.rs` (the report behind `cargo xtask eval`) and `tests/accuracy.rs`
//! (the floor CI holds).
//!
//! Per category: a line that expects it and gets it is a true positive, one that expects it and
//! does not get it a miss, and one that gets it while neither `expect` nor `allow` names it a false
//! alarm. A violating line is *caught* when at least one of its expected categories is reported;
//! a clean line (empty `expect`) is *falsely flagged* when anything outside its `allow` is reported.

use callguard::{Category, Context, Engine};
use serde::Deserialize;
use std::collections::{BTreeMap, BTreeSet};

#[derive(Debug, Clone, Deserialize)]
pub struct Line {
    pub id: String,
    pub text: String,
    #[serde(default)]
    pub context: Option<Context>,
    #[serde(default)]
    pub expect: Vec<Category>,
    #[serde(default)]
    pub allow: Vec<Category>,
}

/// Reads a corpus file; a bad line is an error naming the file and the line number.
pub fn load(path: &std::path::Path) -> Result<Vec<Line>, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read `{}`: {e}", path.display()))?;
    let mut lines = Vec::new();
    for (n, raw) in text.lines().enumerate() {
        if raw.trim().is_empty() {
            continue;
        }
        let line: Line = serde_json::from_str(raw)
            .map_err(|e| format!("`{}` line {}: {e}", path.display(), n + 1))?;
        lines.push(line);
    }
    Ok(lines)
}

#[derive(Debug, Default, Clone, Copy)]
pub struct Counts {
    pub tp: u32,
    pub missed: u32,
    pub false_alarm: u32,
}

impl Counts {
    pub fn precision(&self) -> f64 {
        ratio(self.tp, self.tp + self.false_alarm)
    }
    pub fn recall(&self) -> f64 {
        ratio(self.tp, self.tp + self.missed)
    }
    pub fn f1(&self) -> f64 {
        let (p, r) = (self.precision(), self.recall());
        if p + r == 0.0 {
            0.0
        } else {
            2.0 * p * r / (p + r)
        }
    }
}

fn ratio(a: u32, b: u32) -> f64 {
    if b == 0 {
        1.0
    } else {
        f64::from(a) / f64::from(b)
    }
}

/// One line the checker got wrong.
#[derive(Debug, Clone)]
pub struct Mistake {
    pub id: String,
    pub text: String,
    pub missed: Vec<Category>,
    /// Category, rule id and the flagged words of each false alarm.
    pub false_alarms: Vec<(Category, String, String)>,
}

#[derive(Debug, Default)]
pub struct Report {
    pub per_category: BTreeMap<Category, Counts>,
    pub violating: u32,
    pub caught: u32,
    pub fully_caught: u32,
    pub clean: u32,
    pub falsely_flagged: u32,
    pub mistakes: Vec<Mistake>,
}

impl Report {
    pub fn overall(&self) -> Counts {
        self.per_category
            .values()
            .fold(Counts::default(), |acc, c| Counts {
                tp: acc.tp + c.tp,
                missed: acc.missed + c.missed,
                false_alarm: acc.false_alarm + c.false_alarm,
            })
    }
    pub fn caught_share(&self) -> f64 {
        ratio(self.caught, self.violating)
    }
    pub fn false_flag_share(&self) -> f64 {
        if self.clean == 0 {
            0.0
        } else {
            f64::from(self.falsely_flagged) / f64::from(self.clean)
        }
    }
}

/// Runs `check` with pack `pack` over every line.
pub fn evaluate(engine: &Engine, pack: &str, lines: &[Line]) -> Result<Report, String> {
    let mut report = Report::default();
    for line in lines {
        let ctx = line.context.clone().unwrap_or_default();
        let findings = engine
            .check(pack, &line.text, &ctx)
            .map_err(|p| format!("line `{}`: {}", line.id, p.message))?;
        let reported: BTreeSet<Category> = findings.iter().map(|f| f.category).collect();
        let expect: BTreeSet<Category> = line.expect.iter().copied().collect();
        let mut mistake = Mistake {
            id: line.id.clone(),
            text: line.text.clone(),
            missed: Vec::new(),
            false_alarms: Vec::new(),
        };
        for &category in &expect {
            let counts = report.per_category.entry(category).or_default();
            if reported.contains(&category) {
                counts.tp += 1;
            } else {
                counts.missed += 1;
                mistake.missed.push(category);
            }
        }
        for f in &findings {
            if !expect.contains(&f.category)
                && !line.allow.contains(&f.category)
                && !mistake
                    .false_alarms
                    .iter()
                    .any(|(c, _, _)| *c == f.category)
            {
                report
                    .per_category
                    .entry(f.category)
                    .or_default()
                    .false_alarm += 1;
                mistake
                    .false_alarms
                    .push((f.category, f.rule.clone(), f.excerpt.clone()));
            }
        }
        if expect.is_empty() {
            report.clean += 1;
            if !mistake.false_alarms.is_empty() {
                report.falsely_flagged += 1;
            }
        } else {
            report.violating += 1;
            if expect.iter().any(|c| reported.contains(c)) {
                report.caught += 1;
            }
            if mistake.missed.is_empty() {
                report.fully_caught += 1;
            }
        }
        if !mistake.missed.is_empty() || !mistake.false_alarms.is_empty() {
            report.mistakes.push(mistake);
        }
    }
    Ok(report)
}
