//! Trainer scenarios: a persona on the line, scripted customer lines that branch on what the
//! trainee says, and objectives. Scenarios are data (`policies/scenarios/*.toml`), embedded at
//! build time and validated when the engine loads them.

use crate::model::{Category, Location, Party, Problem};
use crate::normalize::normalize_phrase;
use crate::pack::line_column;
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;

include!(concat!(env!("OUT_DIR"), "/embedded_scenarios.rs"));

/// How an objective is judged from the practice call scored so far.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Goal {
    /// The counterpart confirmed being the debtor before any debt detail was said.
    IdentityVerified,
    /// None of `categories` was found in any trainee reply.
    NoFindings,
    /// The customer agreed a date and a clock time within the pack's promise limit.
    ConcretePromise,
    /// A trainee reply said one of `phrases` (normalized: Traditional, spaces, width).
    Said,
    /// The call ended with the pack's required closing.
    Closing,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Objective {
    pub id: String,
    /// What the trainee has to do, in Chinese.
    pub label: String,
    pub goal: Goal,
    /// Shown in the debrief when the objective was missed.
    pub hint: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub phrases: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub categories: Vec<Category>,
}

/// Where the script goes after the trainee's reply: the first branch that matches wins.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Branch {
    /// The reply says one of these (normalized).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub said: Vec<String>,
    /// The reply has a finding in one of these categories.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub findings: Vec<Category>,
    pub goto: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Step {
    pub id: String,
    /// What the customer (or third party) says at this step.
    pub customer: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub branches: Vec<Branch>,
    /// Where to go when no branch matches; a step without `next` ends the call after the
    /// trainee's reply to it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    pub id: String,
    pub title: String,
    pub summary: String,
    pub persona: String,
    /// The pack the practice is scored with; the default pack when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pack: Option<String>,
    pub dpd: u32,
    /// Who answers the phone: `debtor` or `third_party`.
    pub counterpart: Party,
    /// The debtor's name, for the trainee's identity check.
    pub debtor: String,
    /// Where the situation comes from (documents of the shared sources).
    #[serde(default)]
    pub sources: Vec<String>,
    #[serde(default = "default_max_replies")]
    pub max_replies: usize,
    pub start: String,
    pub objectives: Vec<Objective>,
    pub steps: Vec<Step>,
    /// What the counterpart answers whenever the trainee asks it, with the script's next line:
    /// a customer asked for the last digits of an ID card gives them.
    #[serde(default)]
    pub answers: Vec<Answer>,
    /// Worked replies with the outcome they must get; the tests run every one.
    #[serde(default)]
    pub walkthroughs: Vec<Walkthrough>,
}

/// A question the counterpart answers wherever the trainee asks it.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Answer {
    /// The reply asks this when it says one of these (normalized).
    pub asked: Vec<String>,
    /// What the counterpart says, after the script's next line.
    pub customer: String,
    /// Answered only once the call has reached this step (a customer gives ID digits once they
    /// know who is calling); anywhere when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
}

/// A trainee's replies and what the practice must make of them, like a rule's `bad`/`allows`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Walkthrough {
    pub name: String,
    pub replies: Vec<String>,
    /// Objectives that must be done at the end.
    #[serde(default)]
    pub done: Vec<String>,
    /// Objectives that must be missed at the end.
    #[serde(default)]
    pub missed: Vec<String>,
    /// Bounds on the final score.
    #[serde(default)]
    pub min_score: Option<u32>,
    #[serde(default)]
    pub max_score: Option<u32>,
}

fn default_max_replies() -> usize {
    12
}

impl Scenario {
    pub fn step(&self, id: &str) -> Option<&Step> {
        self.steps.iter().find(|s| s.id == id)
    }
}

/// Parses and validates one scenario file. `name` is used in messages.
pub fn load(name: &str, source: &str) -> Result<Scenario, Vec<Problem>> {
    let scenario: Scenario = toml::from_str(source).map_err(|e| {
        let (line, column) = e
            .span()
            .map(|s| line_column(source, s.start))
            .unwrap_or((0, 0));
        vec![Problem::new(
            "invalid_scenario",
            format!("scenario `{name}`: {}", e.message()),
        )
        .at(Location {
            line: Some(line),
            column: Some(column),
            ..Location::default()
        })]
    })?;
    let problems = validate(&scenario);
    if problems.is_empty() {
        Ok(scenario)
    } else {
        Err(problems
            .into_iter()
            .map(|(field, message)| {
                Problem::new("invalid_scenario", format!("scenario `{name}`: {message}"))
                    .field(&field)
            })
            .collect())
    }
}

fn validate(s: &Scenario) -> Vec<(String, String)> {
    let mut problems = Vec::new();
    let mut ids = BTreeSet::new();
    for step in &s.steps {
        if !ids.insert(step.id.as_str()) {
            problems.push((
                "steps".into(),
                format!("step `{}` is defined twice", step.id),
            ));
        }
    }
    if !matches!(s.counterpart, Party::Debtor | Party::ThirdParty) {
        problems.push((
            "counterpart".into(),
            format!(
                "counterpart must be `debtor` or `third_party`: got `{}`",
                s.counterpart
            ),
        ));
    }
    if !ids.contains(s.start.as_str()) {
        problems.push(("start".into(), format!("no step `{}`", s.start)));
    }
    for step in &s.steps {
        let targets = step
            .branches
            .iter()
            .map(|b| &b.goto)
            .chain(step.next.as_ref());
        for target in targets {
            if !ids.contains(target.as_str()) {
                problems.push((
                    format!("steps.{}", step.id),
                    format!("step `{}` goes to unknown step `{target}`", step.id),
                ));
            }
        }
        for branch in &step.branches {
            if branch.said.is_empty() && branch.findings.is_empty() {
                problems.push((
                    format!("steps.{}.branches", step.id),
                    format!(
                        "a branch of step `{}` to `{}` needs `said` or `findings`",
                        step.id, branch.goto
                    ),
                ));
            }
            if branch.said.iter().any(|p| normalize_phrase(p).is_empty()) {
                problems.push((
                    format!("steps.{}.branches", step.id),
                    format!("step `{}` has an empty `said` phrase", step.id),
                ));
            }
        }
    }
    for (i, answer) in s.answers.iter().enumerate() {
        if answer.asked.is_empty() || answer.asked.iter().any(|p| normalize_phrase(p).is_empty()) {
            problems.push((
                format!("answers.{i}"),
                format!("answer {} needs non-empty `asked` phrases", i + 1),
            ));
        }
        if answer.customer.trim().is_empty() {
            problems.push((
                format!("answers.{i}"),
                format!("answer {} has an empty `customer` line", i + 1),
            ));
        }
        if let Some(from) = &answer.from {
            if !ids.contains(from.as_str()) {
                problems.push((
                    format!("answers.{i}"),
                    format!("answer {} starts from unknown step `{from}`", i + 1),
                ));
            }
        }
    }
    if !s.steps.iter().any(|st| st.next.is_none()) {
        problems.push((
            "steps".into(),
            "no step ends the call (every step has `next`)".into(),
        ));
    }
    let mut objective_ids = BTreeSet::new();
    for o in &s.objectives {
        if !objective_ids.insert(o.id.as_str()) {
            problems.push((
                "objectives".into(),
                format!("objective `{}` is defined twice", o.id),
            ));
        }
        match o.goal {
            Goal::Said if o.phrases.is_empty() => problems.push((
                format!("objectives.{}", o.id),
                format!("objective `{}` (said) needs `phrases`", o.id),
            )),
            Goal::NoFindings if o.categories.is_empty() => problems.push((
                format!("objectives.{}", o.id),
                format!("objective `{}` (no_findings) needs `categories`", o.id),
            )),
            _ => {}
        }
    }
    for w in &s.walkthroughs {
        for id in w.done.iter().chain(&w.missed) {
            if !objective_ids.contains(id.as_str()) {
                problems.push((
                    "walkthroughs".into(),
                    format!("walkthrough `{}` names unknown objective `{id}`", w.name),
                ));
            }
        }
    }
    if s.max_replies == 0 || s.max_replies > 50 {
        problems.push((
            "max_replies".into(),
            format!("`max_replies` must be 1–50: got `{}`", s.max_replies),
        ));
    }
    problems
}
