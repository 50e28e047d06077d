//! `practice`: a trainee's replies in a scenario → the call so far, the customer's next line,
//! the objectives' state and, once the call ends, a debrief. Stateless: the caller sends every
//! reply so far and the call is replayed, so a page, a test and a server all get the same answer.

use crate::compiled::CompiledPack;
use crate::model::{Category, Finding, Problem};
use crate::normalize::{normalize_phrase, Normalized};
use crate::scenario::{Goal, Scenario, Step};
use crate::score::{score, Scorecard};
use crate::transcript::{Speaker, Transcript, Turn};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PracticeCall {
    pub scenario: String,
    /// Every reply the trainee has given so far, in order.
    #[serde(default)]
    pub replies: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Done,
    Pending,
    Missed,
}

#[derive(Debug, Clone, Serialize)]
pub struct ObjectiveState {
    pub id: String,
    pub label: String,
    pub status: Status,
    /// The turn that met or broke the objective.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub turn: Option<usize>,
    /// Why it was missed, when it was.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// One rule behind a deduction, with every turn where it was broken.
#[derive(Debug, Clone, Serialize)]
pub struct DebriefRule {
    pub rule: String,
    pub message: String,
    pub sources: Vec<String>,
    pub turns: Vec<usize>,
    pub excerpts: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub suggestion: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct DebriefDeduction {
    pub category: Category,
    pub points: u32,
    pub rules: Vec<DebriefRule>,
}

#[derive(Debug, Clone, Serialize)]
pub struct MissedObjective {
    pub id: String,
    pub label: String,
    pub hint: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Debrief {
    pub score: u32,
    pub auto_fail: bool,
    pub deductions: Vec<DebriefDeduction>,
    pub missed: Vec<MissedObjective>,
}

#[derive(Debug, Clone, Serialize)]
pub struct PracticeTurn {
    pub speaker: Speaker,
    pub text: String,
    /// The scenario step of a customer line.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub step: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Practice {
    pub scenario: String,
    pub dpd: u32,
    pub turns: Vec<PracticeTurn>,
    /// Wording findings of the latest reply.
    pub findings: Vec<Finding>,
    pub objectives: Vec<ObjectiveState>,
    /// The line waiting for the trainee's next reply; `null` once the call has ended.
    pub next: Option<String>,
    pub finished: bool,
    /// The call so far, scored with the scenario's pack and DPD.
    pub scorecard: Scorecard,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub debrief: Option<Debrief>,
}

/// Categories judged on the whole call, not on one reply.
fn is_call_level(category: Category) -> bool {
    matches!(
        category,
        Category::MissingOpening | Category::MissingClosing | Category::VaguePromise
    )
}

fn says(normalized_reply: &str, phrases: &[String]) -> bool {
    phrases.iter().any(|p| {
        let p = normalize_phrase(p);
        !p.is_empty() && normalized_reply.contains(&p)
    })
}

fn transcript_of(scenario: &Scenario, turns: &[PracticeTurn]) -> Transcript {
    Transcript {
        id: Some(scenario.id.clone()),
        dpd: Some(scenario.dpd),
        meta: Default::default(),
        notes: Vec::new(),
        turns: turns
            .iter()
            .map(|t| Turn {
                speaker: t.speaker,
                text: t.text.clone(),
                start: None,
                end: None,
            })
            .collect(),
    }
}

fn last_sentence(text: &str) -> &str {
    text.split(['。', '！', '？', '!', '?', '；', ';', '\n'])
        .rfind(|s| !s.trim().is_empty())
        .unwrap_or(text)
}

/// Where the script goes after `reply` at `step`; `None` ends the call.
fn next_step<'s>(
    scenario: &'s Scenario,
    step: &'s Step,
    reply: &str,
    findings: &[Finding],
) -> Option<&'s Step> {
    let normalized = Normalized::new(reply).text;
    let branch = step.branches.iter().find(|b| {
        says(&normalized, &b.said) || findings.iter().any(|f| b.findings.contains(&f.category))
    });
    let target = branch.map(|b| &b.goto).or(step.next.as_ref())?;
    scenario.step(target)
}

/// The counterpart's answers to what `reply` asked, for the end of the turn of step `next`. A step that ends
/// the call (no `next`, no branches) answers nothing: the counterpart is saying goodbye.
fn answers_to(scenario: &Scenario, reply: &str, next: &Step, turns: &[PracticeTurn]) -> String {
    if next.next.is_none() && next.branches.is_empty() {
        return String::new();
    }
    let normalized = Normalized::new(reply).text;
    let reached =
        |from: &str| next.id == from || turns.iter().any(|t| t.step.as_deref() == Some(from));
    scenario
        .answers
        .iter()
        .filter(|a| says(&normalized, &a.asked) && a.from.as_deref().is_none_or(reached))
        .map(|a| a.customer.as_str())
        .collect()
}

pub fn practice(
    compiled: &CompiledPack,
    scenario: &Scenario,
    replies: &[String],
) -> Result<Practice, Problem> {
    if replies.len() > scenario.max_replies {
        return Err(Problem::new(
            "invalid_input",
            format!(
                "scenario `{}` takes at most {} replies: got {}",
                scenario.id,
                scenario.max_replies,
                replies.len()
            ),
        )
        .field("replies"));
    }
    let counterpart = if scenario.counterpart == crate::model::Party::ThirdParty {
        Speaker::ThirdParty
    } else {
        Speaker::Customer
    };
    let mut turns: Vec<PracticeTurn> = Vec::with_capacity(replies.len() * 2 + 1);
    let mut step = scenario.step(&scenario.start).ok_or_else(|| {
        Problem::new(
            "invalid_scenario",
            format!("scenario `{}` has no start step", scenario.id),
        )
    })?;
    let mut last_findings = Vec::new();
    let mut next = None;
    let mut finished = false;
    let mut answered = 0;
    // The score of `turns` as they stand, when the last turn is a scored reply.
    let mut card: Option<Scorecard>;
    // What the counterpart answers of the trainee's last reply, after the script's next line: a
    // confirmation (是我) has to open the turn for the scorer to take it as one.
    let mut answering = String::new();
    loop {
        turns.push(PracticeTurn {
            speaker: counterpart,
            text: format!("{}{answering}", step.customer),
            step: Some(step.id.clone()),
        });
        card = None;
        let Some(reply) = replies.get(answered) else {
            next = Some(format!("{}{answering}", step.customer));
            break;
        };
        turns.push(PracticeTurn {
            speaker: Speaker::Agent,
            text: reply.clone(),
            step: None,
        });
        answered += 1;
        // The state machine is causal, so the call so far gives this reply's findings exactly.
        let reply_turn = turns.len() - 1;
        let so_far = score(
            compiled,
            &transcript_of(scenario, &turns),
            Some(scenario.dpd),
        );
        last_findings = so_far
            .findings
            .iter()
            .filter(|f| f.turn == Some(reply_turn) && !is_call_level(f.category))
            .cloned()
            .collect();
        card = Some(so_far);
        // A reply whose last sentence is the whole closing (致谢道别) ends the call, as hanging
        // up would; 打扰了 before a question does not.
        if crate::score::says_closing(compiled, last_sentence(reply)) {
            finished = true;
            break;
        }
        match next_step(scenario, step, reply, &last_findings) {
            Some(s) if answered < scenario.max_replies => {
                answering = answers_to(scenario, reply, s, &turns);
                step = s;
            }
            _ => {
                finished = true;
                break;
            }
        }
    }
    if finished && answered < replies.len() {
        return Err(Problem::new(
            "invalid_input",
            format!(
                "scenario `{}` ended after reply {answered}; {} more replies were sent",
                scenario.id,
                replies.len() - answered
            ),
        )
        .field("replies"));
    }
    let scorecard = match card {
        Some(card) => card,
        None => score(
            compiled,
            &transcript_of(scenario, &turns),
            Some(scenario.dpd),
        ),
    };
    let objectives = objectives(scenario, &turns, &scorecard, finished);
    let debrief = finished.then(|| debrief(scenario, &scorecard, &objectives));
    Ok(Practice {
        scenario: scenario.id.clone(),
        dpd: scenario.dpd,
        turns,
        findings: last_findings,
        objectives,
        next,
        finished,
        scorecard,
        debrief,
    })
}

fn objectives(
    scenario: &Scenario,
    turns: &[PracticeTurn],
    card: &Scorecard,
    finished: bool,
) -> Vec<ObjectiveState> {
    let open = if finished {
        Status::Missed
    } else {
        Status::Pending
    };
    let first_finding = |categories: &[Category]| {
        card.findings
            .iter()
            .find(|f| categories.contains(&f.category))
    };
    scenario
        .objectives
        .iter()
        .map(|o| {
            let (status, turn, reason) = match o.goal {
                Goal::IdentityVerified => {
                    if let Some(f) = first_finding(&[Category::DisclosureBeforeVerification]) {
                        (Status::Missed, f.turn, Some(f.message.clone()))
                    } else if let Some(t) = card.timeline.iter().find(|t| t.identity_verified) {
                        (Status::Done, Some(t.turn), None)
                    } else {
                        (open, None, None)
                    }
                }
                Goal::NoFindings => match first_finding(&o.categories) {
                    Some(f) => (
                        Status::Missed,
                        f.turn,
                        Some(format!("{}（“{}”）", f.message, f.excerpt)),
                    ),
                    None if finished => (Status::Done, None, None),
                    None => (Status::Pending, None, None),
                },
                Goal::ConcretePromise => match &card.promise {
                    Some(p) if p.concrete => (Status::Done, Some(p.turn), None),
                    _ => match first_finding(&[Category::VaguePromise]) {
                        Some(f) if finished => (Status::Missed, f.turn, Some(f.message.clone())),
                        _ => (open, None, None),
                    },
                },
                Goal::Said => {
                    let said = turns.iter().enumerate().find(|(_, t)| {
                        t.speaker == Speaker::Agent
                            && says(&Normalized::new(&t.text).text, &o.phrases)
                    });
                    match said {
                        Some((i, _)) => (Status::Done, Some(i), None),
                        None => (open, None, None),
                    }
                }
                Goal::Closing => match first_finding(&[Category::MissingClosing]) {
                    _ if !finished => (Status::Pending, None, None),
                    Some(f) => (Status::Missed, f.turn, Some(f.message.clone())),
                    None => (Status::Done, None, None),
                },
            };
            ObjectiveState {
                id: o.id.clone(),
                label: o.label.clone(),
                status,
                turn,
                reason,
            }
        })
        .collect()
}

fn debrief(scenario: &Scenario, card: &Scorecard, objectives: &[ObjectiveState]) -> Debrief {
    let deductions = card
        .deductions
        .iter()
        .map(|d| {
            let mut rules: Vec<DebriefRule> = Vec::new();
            for f in card.findings.iter().filter(|f| f.category == d.category) {
                let turn = f.turn.unwrap_or(0);
                match rules.iter_mut().find(|r| r.rule == f.rule) {
                    Some(r) => {
                        r.turns.push(turn);
                        r.excerpts.push(f.excerpt.clone());
                    }
                    None => rules.push(DebriefRule {
                        rule: f.rule.clone(),
                        message: f.message.clone(),
                        sources: f.sources.clone(),
                        turns: vec![turn],
                        excerpts: vec![f.excerpt.clone()],
                        suggestion: f.suggestion.clone(),
                    }),
                }
            }
            DebriefDeduction {
                category: d.category,
                points: d.points,
                rules,
            }
        })
        .collect();
    let missed = objectives
        .iter()
        .filter(|o| o.status == Status::Missed)
        .filter_map(|o| scenario.objectives.iter().find(|s| s.id == o.id))
        .map(|o| MissedObjective {
            id: o.id.clone(),
            label: o.label.clone(),
            hint: o.hint.clone(),
        })
        .collect();
    Debrief {
        score: card.score,
        auto_fail: card.auto_fail,
        deductions,
        missed,
    }
}
