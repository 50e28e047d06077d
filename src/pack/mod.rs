//! Policy packs: parsing the TOML file form, validating it with exact locations, and layering a
//! pack on its parent with strictest-wins merging.

mod language;
mod merge;
mod schema;
mod stages;
mod timing;

use crate::model::{Category, Channel, Location, Party, Problem, Severity};
pub use crate::pii::Detector;
use regex::Regex;
use schema::{PackFile, RuleFile, WhenFile};
use serde::Serialize;
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, BTreeSet};
pub use timing::{Timing, TimingLimit};
use toml::Spanned;

use language::{build_frame, expand_concepts};
pub use language::{permutations, Frame, FrameScope, DEFAULT_FRAME_WITHIN};
pub use merge::ThirdPartyPolicy;
pub use stages::{Stage, StageLayer, StageSummary, StageView};

/// A document a rule comes from.
#[derive(Debug, Clone, Serialize)]
pub struct SourceDoc {
    pub id: String,
    pub title: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub note: String,
}

/// The calling window in the debtor's local time, minutes after midnight, `start <= t < end`.
#[derive(Debug, Clone, Serialize)]
pub struct Window {
    pub start_minute: u32,
    pub end_minute: u32,
    pub sources: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Limit {
    pub limit: u32,
    pub sources: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Flag {
    pub enabled: bool,
    pub sources: Vec<String>,
}

/// Contact-gating limits after layering.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Calling {
    pub window: Option<Window>,
    pub debtor_connected_per_day: Option<Limit>,
    pub attempts_per_phone_per_day: Option<Limit>,
    pub third_party_calls_per_day: Option<Limit>,
    pub stop_after_refusal: Option<Flag>,
    pub visit_min_collectors: Option<Limit>,
}

/// Conditions on the context, typed.
#[derive(Debug, Clone, Default, Serialize)]
pub struct When {
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub party: Vec<Party>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub identity_verified: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub third_party_informed: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vulnerable: Option<bool>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub channel: Vec<Channel>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub min_dpd: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_dpd: Option<u32>,
}

/// A wording rule after validation. Phrases are stored normalized.
#[derive(Debug, Clone, Serialize)]
pub struct Rule {
    pub id: String,
    pub pack: String,
    pub category: Category,
    pub severity: Severity,
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub suggestion: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rewrite: Option<String>,
    pub phrases: Vec<String>,
    pub patterns: Vec<String>,
    pub detectors: Vec<Detector>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub frames: Vec<Frame>,
    /// Example sentences (normalized) and the closeness a clause needs to match one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub similar: Option<Similar>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub derived_from: Vec<Category>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub except: Vec<String>,
    pub negatable: bool,
    pub cleared_by_warning: bool,
    pub cleared_by_explanation: bool,
    pub pressure: bool,
    pub when: When,
    pub sources: Vec<String>,
    pub bad: Vec<String>,
    pub allows: Vec<String>,
    #[serde(skip)]
    pub location: Location,
}

#[derive(Debug, Clone, Serialize)]
pub struct Similar {
    pub examples: Vec<String>,
    pub threshold: f32,
}

/// A whole-call requirement (opening or closing).
#[derive(Debug, Clone, Serialize)]
pub struct CallCheck {
    pub within_turns: u32,
    /// Every group must match some agent turn in range (e.g. institution and collector id).
    pub require: BTreeMap<String, Vec<String>>,
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub suggestion: Option<String>,
    pub severity: Severity,
    pub sources: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct PromiseRule {
    pub max_days: u32,
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub suggestion: Option<String>,
    pub severity: Severity,
    pub sources: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ReviewRule {
    pub message: String,
    pub sources: Vec<String>,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct CallRules {
    pub opening: Option<CallCheck>,
    pub closing: Option<CallCheck>,
    pub promise: Option<PromiseRule>,
    /// The signal a customer's request for review raises (see the `review` cue).
    pub review: Option<ReviewRule>,
    /// Regexes over normalized customer / agent turns that move the call's state.
    pub cues: BTreeMap<String, Vec<String>>,
    /// Checks on how the agent talks: silences, talking over, speech rate, share, repetition.
    pub timing: Timing,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct Scoring {
    pub weights: BTreeMap<Category, u32>,
    pub critical: BTreeSet<Category>,
}

/// Something loading noticed that is not an error: a child pack looser than its parent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Notice {
    pub code: String,
    pub message: String,
}

/// A validated, layered policy pack.
#[derive(Debug, Clone, Serialize)]
pub struct Pack {
    pub id: String,
    pub version: String,
    pub title: String,
    pub jurisdiction: String,
    pub description: String,
    pub default_utc_offset_minutes: i32,
    pub extends: Option<String>,
    /// Pack ids from the root of the chain to this pack.
    pub chain: Vec<String>,
    /// sha256 over the TOML text of every pack in the chain, root first (see ABI.md).
    pub sha256: String,
    pub sources: Vec<SourceDoc>,
    pub calling: Calling,
    pub stage_layers: Vec<StageLayer>,
    pub lexicons: BTreeMap<String, Vec<String>>,
    pub call: CallRules,
    pub scoring: Scoring,
    pub rules: Vec<Rule>,
    pub notices: Vec<Notice>,
    #[serde(skip)]
    pub(crate) digest_input: Vec<u8>,
}

/// Line and column (1-based, in characters) of a byte offset in `source`.
pub fn line_column(source: &str, offset: usize) -> (usize, usize) {
    let before = source.get(..offset.min(source.len())).unwrap_or("");
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, column)
}

/// Collects problems while validating one pack file, each with its place in the file.
pub(crate) struct Validator<'a> {
    source: &'a str,
    pub problems: Vec<Problem>,
}

impl<'a> Validator<'a> {
    fn location<T>(&self, spanned: &Spanned<T>, rule: Option<&str>) -> Location {
        let (line, column) = line_column(self.source, spanned.span().start);
        Location {
            line: Some(line),
            column: Some(column),
            rule: rule.map(str::to_string),
            field: None,
        }
    }

    fn report<T>(&mut self, code: &str, message: String, at: &Spanned<T>, rule: Option<&str>) {
        let location = self.location(at, rule);
        self.problems.push(Problem::new(code, message).at(location));
    }

    fn parse_enum<E: std::str::FromStr<Err = String>>(
        &mut self,
        value: &Spanned<String>,
        rule: Option<&str>,
    ) -> Option<E> {
        match value.get_ref().parse::<E>() {
            Ok(v) => Some(v),
            Err(e) => {
                self.report("invalid_value", e, value, rule);
                None
            }
        }
    }
}

/// Minutes after midnight of `HH:MM` (`24:00` allowed as an end).
pub fn parse_clock(text: &str) -> Option<u32> {
    let (h, m) = text.split_once(':')?;
    if h.len() != 2 || m.len() != 2 {
        return None;
    }
    let h: u32 = h.parse().ok()?;
    let m: u32 = m.parse().ok()?;
    if m >= 60 || h > 24 || (h == 24 && m != 0) {
        return None;
    }
    Some(h * 60 + m)
}

/// Minutes east of UTC of `+08:00` / `-05:30`.
pub fn parse_utc_offset(text: &str) -> Option<i32> {
    let sign = match text.get(..1)? {
        "+" => 1,
        "-" => -1,
        _ => return None,
    };
    let minutes = parse_clock(text.get(1..)?)?;
    if minutes > 14 * 60 {
        return None;
    }
    Some(sign * minutes as i32)
}

/// Parses and validates one pack file and layers it on `parent` (which must be the pack its
/// `extends` names). Every problem found is returned, not just the first.
pub fn load(source: &str, parent: Option<&Pack>) -> Result<Pack, Vec<Problem>> {
    let file: PackFile = toml::from_str(source).map_err(|e| {
        let mut problem = Problem::new(
            "invalid_toml",
            format!("invalid pack: {}", e.message().trim()),
        )
        .help("check the TOML syntax and the field names in README.md, section \"Writing a pack\"");
        if let Some(span) = e.span() {
            let (line, column) = line_column(source, span.start);
            problem = problem.at(Location {
                line: Some(line),
                column: Some(column),
                ..Location::default()
            });
        }
        vec![problem]
    })?;
    let mut v = Validator {
        source,
        problems: Vec::new(),
    };
    let pack = merge::build(&mut v, file, source, parent);
    if v.problems.is_empty() {
        Ok(pack)
    } else {
        Err(v.problems)
    }
}

/// Validates a rule's file form into a [`Rule`]; problems go to the validator.
pub(crate) fn build_rule(
    v: &mut Validator<'_>,
    file: RuleFile,
    pack_id: &str,
    lexicons: &BTreeMap<String, Vec<String>>,
    known_sources: &BTreeSet<String>,
) -> Option<Rule> {
    let id = file.id.get_ref().clone();
    let rid = Some(id.as_str());
    if id.is_empty()
        || !id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "._-".contains(c))
    {
        v.report(
            "invalid_rule_id",
            format!("rule id `{id}` must be ASCII letters, digits, `.`, `_` or `-`"),
            &file.id,
            rid,
        );
    }
    let category = v.parse_enum::<Category>(&file.category, rid);
    let severity = v.parse_enum::<Severity>(&file.severity, rid);
    let mut phrases: Vec<String> = Vec::new();
    for phrase in &file.phrases {
        let normalized = crate::normalize::normalize_phrase(phrase);
        if normalized.is_empty() {
            v.report(
                "empty_phrase",
                format!("phrase `{phrase}` is empty after normalization"),
                &file.id,
                rid,
            );
        } else {
            phrases.push(normalized);
        }
    }
    phrases.extend(lexicon_words(v, &file.lexicons, lexicons, &file.id, rid));
    phrases.sort();
    phrases.dedup();
    let mut patterns = Vec::new();
    for pattern in &file.patterns {
        let text = match expand_concepts(pattern.get_ref(), lexicons) {
            Ok(text) => text,
            Err(e) => {
                v.report("unknown_concept", e, pattern, rid);
                continue;
            }
        };
        let text = &text;
        if text.contains("\\b") || text.contains("\\B") {
            v.report(
                "word_boundary",
                format!("pattern `{text}` uses a word boundary, which never matches between Chinese characters"),
                pattern,
                rid,
            );
        } else if let Err(e) = Regex::new(text) {
            v.report(
                "invalid_pattern",
                format!(
                    "pattern `{text}` is not a valid regex: {}",
                    first_line(&e.to_string())
                ),
                pattern,
                rid,
            );
        } else {
            patterns.push(text.clone());
        }
    }
    let mut frames = Vec::new();
    for frame in &file.frames {
        match build_frame(frame, lexicons) {
            Ok(built) => frames.push(built),
            Err(e) => v.report("invalid_frame", e, &file.id, rid),
        }
    }
    let mut except: Vec<String> = file
        .except
        .iter()
        .map(|p| crate::normalize::normalize_phrase(p))
        .filter(|p| !p.is_empty())
        .collect();
    except.extend(lexicon_words(
        v,
        &file.except_lexicons,
        lexicons,
        &file.id,
        rid,
    ));
    let mut detectors = Vec::new();
    for name in &file.detectors {
        match name.parse::<Detector>() {
            Ok(d) => detectors.push(d),
            Err(e) => v.report("invalid_value", e, &file.id, rid),
        }
    }
    let similar = file.similar.as_ref().and_then(|s| {
        let examples: Vec<String> = s
            .examples
            .iter()
            .map(|e| crate::normalize::normalize_phrase(e))
            .filter(|e| e.chars().count() >= 4)
            .collect();
        if examples.is_empty() || !(s.threshold > 0.3 && s.threshold <= 1.0) {
            v.report(
                "invalid_similar",
                format!(
                    "规则 `{id}` 的 `similar` 需要至少 4 个字的例句，阈值须大于 0.3 且不超过 1，实际为 {}（`similar` needs example sentences of 4+ characters and a threshold in (0.3, 1]）",
                    s.threshold
                ),
                &file.id,
                rid,
            );
            return None;
        }
        Some(Similar {
            examples,
            threshold: s.threshold,
        })
    });
    let mut derived_from = Vec::new();
    for name in &file.derived_from {
        if let Some(c) = v.parse_enum::<Category>(name, rid) {
            derived_from.push(c);
        }
    }
    if phrases.is_empty()
        && patterns.is_empty()
        && detectors.is_empty()
        && frames.is_empty()
        && similar.is_none()
        && derived_from.is_empty()
    {
        v.report(
            "empty_rule",
            format!("rule `{id}` has no phrases, lexicons, patterns, frames or `derived_from`"),
            &file.id,
            rid,
        );
    }
    if file.bad.is_empty() || file.allows.is_empty() {
        v.report(
            "missing_examples",
            format!("rule `{id}` needs at least one `bad` and one `allows` example"),
            &file.id,
            rid,
        );
    }
    check_sources(v, &file.sources, known_sources, &file.id, rid);
    let when = build_when(v, &file.when, &file.id, rid);
    let location = v.location(&file.id, rid);
    Some(Rule {
        id,
        pack: pack_id.to_string(),
        category: category?,
        severity: severity?,
        message: file.message,
        suggestion: file.suggestion,
        rewrite: file.rewrite,
        phrases,
        patterns,
        detectors,
        frames,
        similar,
        derived_from,
        except,
        negatable: file.negatable,
        cleared_by_warning: file.cleared_by_warning,
        cleared_by_explanation: file.cleared_by_explanation,
        pressure: file.pressure,
        when,
        sources: file.sources,
        bad: file.bad,
        allows: file.allows,
        location,
    })
}

/// The words of the named lexicons; an unknown name is reported at the rule.
fn lexicon_words(
    v: &mut Validator<'_>,
    names: &[String],
    lexicons: &BTreeMap<String, Vec<String>>,
    at: &Spanned<String>,
    rule: Option<&str>,
) -> Vec<String> {
    let mut words = Vec::new();
    for name in names {
        match lexicons.get(name) {
            Some(found) => words.extend(found.iter().cloned()),
            None => v.report(
                "unknown_lexicon",
                format!("lexicon `{name}` is not defined in this pack or its parents"),
                at,
                rule,
            ),
        }
    }
    words
}

pub(crate) fn first_line(text: &str) -> String {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

fn build_when(
    v: &mut Validator<'_>,
    w: &WhenFile,
    at: &Spanned<String>,
    rule: Option<&str>,
) -> When {
    let mut when = When {
        identity_verified: w.identity_verified,
        third_party_informed: w.third_party_informed,
        vulnerable: w.vulnerable,
        min_dpd: w.min_dpd,
        max_dpd: w.max_dpd,
        ..When::default()
    };
    for p in &w.party {
        match p.parse::<Party>() {
            Ok(p) => when.party.push(p),
            Err(e) => v.report("invalid_value", e, at, rule),
        }
    }
    for c in &w.channel {
        match c.parse::<Channel>() {
            Ok(c) => when.channel.push(c),
            Err(e) => v.report("invalid_value", e, at, rule),
        }
    }
    when
}

/// Every citation is `"<source id> <article>"` with a source the chain declares.
pub(crate) fn check_sources<T>(
    v: &mut Validator<'_>,
    sources: &[String],
    known: &BTreeSet<String>,
    at: &Spanned<T>,
    rule: Option<&str>,
) {
    if sources.is_empty() {
        v.report(
            "missing_source",
            "every rule must cite its source as `\"<source id> <article>\"`".to_string(),
            at,
            rule,
        );
    }
    for cite in sources {
        let (doc, article) = cite.split_once(' ').unwrap_or((cite.as_str(), ""));
        if !known.contains(doc) {
            v.report(
                "unknown_source",
                format!(
                    "citation `{cite}` names source `{doc}`, which no `[[sources]]` entry declares"
                ),
                at,
                rule,
            );
        } else if article.trim().is_empty() {
            v.report(
                "missing_article",
                format!("citation `{cite}` names no article or section after the source id"),
                at,
                rule,
            );
        }
    }
}

/// sha256 over the chain's TOML texts: for each pack, root first, its length as 8 little-endian
/// bytes, then its bytes. Returns the hex digest and the digest input for child packs.
pub(crate) fn chain_digest(parent_input: &[u8], source: &str) -> (String, Vec<u8>) {
    let mut input = parent_input.to_vec();
    input.extend_from_slice(&(source.len() as u64).to_le_bytes());
    input.extend_from_slice(source.as_bytes());
    let digest = Sha256::digest(&input);
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    (hex, input)
}
