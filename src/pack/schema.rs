//! The file form of a policy pack: what a compliance officer writes in TOML.
//! `deny_unknown_fields` everywhere, so a misspelt key is an error with its line, not a rule that
//! silently never applies.

use serde::Deserialize;
use std::collections::BTreeMap;
use toml::Spanned;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PackFile {
    pub pack: PackMeta,
    #[serde(default)]
    pub sources: Vec<SourceFile>,
    #[serde(default)]
    pub calling: CallingFile,
    #[serde(default)]
    pub stages: Vec<StageFile>,
    #[serde(default)]
    pub lexicons: BTreeMap<String, Vec<String>>,
    #[serde(default)]
    pub call: CallFile,
    #[serde(default)]
    pub scoring: ScoringFile,
    #[serde(default)]
    pub rules: Vec<RuleFile>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PackMeta {
    pub id: Spanned<String>,
    pub version: String,
    pub title: String,
    pub jurisdiction: String,
    pub default_utc_offset: Spanned<String>,
    #[serde(default)]
    pub extends: Option<Spanned<String>>,
    #[serde(default)]
    pub description: String,
    /// Third-party contact policy for DPDs that no stage of this pack covers.
    #[serde(default)]
    pub third_party_contact: Option<Spanned<String>>,
    #[serde(default)]
    pub third_party_contact_sources: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SourceFile {
    pub id: String,
    pub title: String,
    #[serde(default)]
    pub note: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CallingFile {
    #[serde(default)]
    pub window: Option<WindowFile>,
    #[serde(default)]
    pub debtor_connected_per_day: Option<LimitFile>,
    #[serde(default)]
    pub attempts_per_phone_per_day: Option<LimitFile>,
    #[serde(default)]
    pub third_party_calls_per_day: Option<LimitFile>,
    #[serde(default)]
    pub stop_after_refusal: Option<FlagFile>,
    #[serde(default)]
    pub visit_min_collectors: Option<LimitFile>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WindowFile {
    pub start: Spanned<String>,
    pub end: Spanned<String>,
    pub sources: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LimitFile {
    pub limit: u32,
    pub sources: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FlagFile {
    pub enabled: bool,
    pub sources: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StageFile {
    pub id: Spanned<String>,
    pub name: String,
    pub from: u32,
    #[serde(default)]
    pub to: Option<u32>,
    pub third_party_contact: Spanned<String>,
    pub guidance: String,
    pub sources: Vec<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CallFile {
    #[serde(default)]
    pub opening: Option<CallCheckFile>,
    #[serde(default)]
    pub closing: Option<CallCheckFile>,
    #[serde(default)]
    pub promise: Option<PromiseFile>,
    #[serde(default)]
    pub review: Option<ReviewFile>,
    #[serde(default)]
    pub cues: BTreeMap<String, Vec<String>>,
    /// Checks on how the agent talks, from the turns' times (`pack/timing.rs`).
    #[serde(default)]
    pub timing: super::timing::TimingFile,
}

/// What a customer turn matching the `review` cue (我要投诉, 我录音了, 你这是威胁我) puts in the
/// scorecard: an info signal for a reviewer, with the turn.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReviewFile {
    pub message: String,
    pub sources: Vec<String>,
}

/// A whole-call requirement: some agent turn among the first (opening) or last (closing)
/// `within_turns` must match every pattern group in `require`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CallCheckFile {
    pub within_turns: u32,
    pub require: BTreeMap<String, Vec<String>>,
    pub message: String,
    #[serde(default)]
    pub suggestion: Option<String>,
    pub severity: String,
    pub sources: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PromiseFile {
    pub max_days: u32,
    pub message: String,
    #[serde(default)]
    pub suggestion: Option<String>,
    pub severity: String,
    pub sources: Vec<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScoringFile {
    #[serde(default)]
    pub weights: BTreeMap<String, u32>,
    #[serde(default)]
    pub critical: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleFile {
    pub id: Spanned<String>,
    pub category: Spanned<String>,
    pub severity: Spanned<String>,
    pub message: String,
    #[serde(default)]
    pub suggestion: Option<String>,
    /// A whole sentence to say instead of the clause a match sits in. Without it, a suggestion of
    /// a few characters (客户) replaces the match inside its clause, and a longer one the clause.
    #[serde(default)]
    pub rewrite: Option<String>,
    /// Literal phrases, written in Simplified Chinese; normalization covers the variants.
    #[serde(default)]
    pub phrases: Vec<String>,
    /// Names of lexicons whose phrases this rule also matches.
    #[serde(default)]
    pub lexicons: Vec<String>,
    /// Regular expressions over the normalized text (no spaces or punctuation, Simplified,
    /// lower case). Never `\b`: it means nothing between Chinese characters.
    #[serde(default)]
    pub patterns: Vec<Spanned<String>>,
    /// Categories whose findings this rule follows: where one is found and this rule's `when`
    /// holds, this rule is found at the same span (a threat to a third party is collecting from them).
    #[serde(default)]
    pub derived_from: Vec<Spanned<String>>,
    /// Example sentences: a clause whose character bigrams are close enough to one of them
    /// (Dice coefficient ≥ `threshold`) matches, so a paraphrase is caught.
    #[serde(default)]
    pub similar: Option<SimilarFile>,
    /// Frames: the rule matches when every part occurs near the others (see [`FrameFile`]).
    #[serde(default)]
    pub frames: Vec<FrameFile>,
    /// Phrases that, where they overlap a match, show it is not this rule's meaning: an
    /// institution's name (金桥小额贷款贷后服务中心) is not a debt disclosure.
    #[serde(default)]
    pub except: Vec<String>,
    /// Lexicons whose phrases are added to `except`.
    #[serde(default)]
    pub except_lexicons: Vec<String>,
    /// Built-in detectors for things no phrase list can describe: `cn_id_number` (check digit
    /// validated), `bank_card` (Luhn), `cn_mobile`.
    #[serde(default)]
    pub detectors: Vec<String>,
    /// Whether a warning context (警惕, 谨防, 冒充…诈骗) in the same clause clears the match:
    /// for rules whose words also appear in anti-fraud reminders.
    #[serde(default)]
    pub cleared_by_warning: bool,
    /// Whether an explanation of the law in the same sentence (前提是, 针对的是, 法定情形,
    /// 可以向法院申请 …, the pack's `legal_explanation` lexicon) clears the match: for rules whose
    /// words a collector also uses to explain accurately what courts and police may do.
    #[serde(default)]
    pub cleared_by_explanation: bool,
    /// Whether a negation or warning cue just before or after the match clears it.
    #[serde(default = "default_true")]
    pub negatable: bool,
    /// Pressure wording: said to a customer who disclosed illness or hardship it becomes
    /// `vulnerable_pressure` with severity error.
    #[serde(default)]
    pub pressure: bool,
    #[serde(default)]
    pub when: WhenFile,
    pub sources: Vec<String>,
    pub bad: Vec<String>,
    pub allows: Vec<String>,
}

/// A frame: parts (regex fragments over normalized text, `{concept}` allowed) that must all occur
/// (a single part is a pattern with a scope and `unless` words),
/// in the written order unless `any_order`, with at most `within` characters between one part and
/// the next, inside one sentence (`scope = "sentence"`, the default), one clause (`"clause"`) or
/// anywhere in the text (`"text"`), and with none of the `unless` words in that sentence or clause.
/// With `at_least = n` any n of the parts are enough, in any order (an N-of frame).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FrameFile {
    pub all: Vec<String>,
    #[serde(default)]
    pub any_order: bool,
    #[serde(default)]
    pub at_least: Option<usize>,
    #[serde(default)]
    pub within: Option<u32>,
    #[serde(default)]
    pub scope: Option<String>,
    #[serde(default)]
    pub unless: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SimilarFile {
    pub examples: Vec<String>,
    pub threshold: f32,
}

fn default_true() -> bool {
    true
}

/// Conditions on the context; an absent field matches any value.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WhenFile {
    #[serde(default)]
    pub party: Vec<String>,
    #[serde(default)]
    pub identity_verified: Option<bool>,
    #[serde(default)]
    pub third_party_informed: Option<bool>,
    #[serde(default)]
    pub vulnerable: Option<bool>,
    #[serde(default)]
    pub channel: Vec<String>,
    #[serde(default)]
    pub min_dpd: Option<u32>,
    #[serde(default)]
    pub max_dpd: Option<u32>,
}
