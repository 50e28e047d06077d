//! The pack's `[call.timing.*]` settings: whole-call checks on how the agent talks, read from the
//! turns' times (and, for repetition, their words) as commercial QA engines do — silences the
//! agent leaves, talking over the customer, speech rate, the agent's share of the talk, the same
//! demand said again and again. Each has a limit, a message, a severity and its sources; a child
//! pack may lower a limit (stricter), never raise it.

use super::{check_sources, Notice, Validator};
use crate::model::Severity;
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;
use toml::Spanned;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TimingFile {
    /// Seconds the agent leaves the customer waiting after they finish.
    #[serde(default)]
    pub silence: Option<LimitFile>,
    /// Seconds the agent's turn overlaps the end of the customer's.
    #[serde(default)]
    pub talking_over: Option<LimitFile>,
    /// Characters per second in one agent turn.
    #[serde(default)]
    pub speech_rate: Option<LimitFile>,
    /// The agent's share (0–1) of the call's talk time.
    #[serde(default)]
    pub talk_share: Option<LimitFile>,
    /// Times one demand may be said in a call.
    #[serde(default)]
    pub repetition: Option<LimitFile>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LimitFile {
    pub limit: Spanned<f64>,
    pub message: String,
    #[serde(default)]
    pub suggestion: Option<String>,
    pub severity: Spanned<String>,
    pub sources: Vec<String>,
    /// Words that make an agent turn a demand (repetition only), matched in normalized text.
    #[serde(default)]
    pub about: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct TimingLimit {
    pub limit: f64,
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub suggestion: Option<String>,
    pub severity: Severity,
    pub sources: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub about: Vec<String>,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct Timing {
    pub silence: Option<TimingLimit>,
    pub talking_over: Option<TimingLimit>,
    pub speech_rate: Option<TimingLimit>,
    pub talk_share: Option<TimingLimit>,
    pub repetition: Option<TimingLimit>,
}

/// A checked limit from its table, or `None` after reporting what is wrong with it.
fn limit(
    v: &mut Validator<'_>,
    name: &str,
    f: &LimitFile,
    known: &BTreeSet<String>,
    at: &Spanned<String>,
) -> Option<TimingLimit> {
    check_sources(v, &f.sources, known, at, None);
    let value = *f.limit.get_ref();
    let most = if name == "talk_share" { 1.0 } else { f64::MAX };
    if !(value.is_finite() && value > 0.0 && value <= most) {
        v.report(
            "invalid_value",
            format!(
                "`call.timing.{name}.limit` must be above 0{}; got `{value}`",
                if name == "talk_share" {
                    " and at most 1"
                } else {
                    ""
                }
            ),
            &f.limit,
            None,
        );
        return None;
    }
    if name == "repetition" && f.about.is_empty() {
        v.report(
            "invalid_value",
            "`call.timing.repetition` needs `about`: the words that make an agent turn a demand"
                .to_string(),
            &f.limit,
            None,
        );
        return None;
    }
    let severity = v.parse_enum::<Severity>(&f.severity, None)?;
    Some(TimingLimit {
        limit: value,
        message: f.message.clone(),
        suggestion: f.suggestion.clone(),
        severity,
        sources: f.sources.clone(),
        about: f
            .about
            .iter()
            .map(|w| crate::normalize::Normalized::new(w).text)
            .collect(),
    })
}

/// Merges a pack file's timing settings over its parent's: the lower limit stands.
pub(crate) fn merge(
    v: &mut Validator<'_>,
    timing: &mut Timing,
    file: &TimingFile,
    known: &BTreeSet<String>,
    at: &Spanned<String>,
    notices: &mut Vec<Notice>,
) {
    let slots: [(&str, &Option<LimitFile>, &mut Option<TimingLimit>); 5] = [
        ("silence", &file.silence, &mut timing.silence),
        ("talking_over", &file.talking_over, &mut timing.talking_over),
        ("speech_rate", &file.speech_rate, &mut timing.speech_rate),
        ("talk_share", &file.talk_share, &mut timing.talk_share),
        ("repetition", &file.repetition, &mut timing.repetition),
    ];
    for (name, child, slot) in slots {
        let Some(child) = child.as_ref().and_then(|f| limit(v, name, f, known, at)) else {
            continue;
        };
        *slot = Some(match slot.take() {
            Some(parent) if parent.limit < child.limit => {
                notices.push(Notice {
                    code: "looser_than_parent".into(),
                    message: format!(
                        "pack `{}` allows `call.timing.{name}` up to {} but its parent only {}; the parent's limit stands",
                        at.get_ref(),
                        child.limit,
                        parent.limit
                    ),
                });
                TimingLimit {
                    limit: parent.limit,
                    ..child
                }
            }
            Some(parent) => TimingLimit {
                severity: parent.severity.max(child.severity),
                ..child
            },
            None => child,
        });
    }
}
