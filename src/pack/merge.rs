//! Layering a pack on its parent. Strictest wins: a child may narrow the calling window, lower a
//! limit, forbid more, add rules and words — never loosen. Where it tries, the parent's rule stands
//! and a notice says so.

use super::schema::{CallCheckFile, LimitFile, PackFile, StageFile};
use super::{
    build_rule, chain_digest, check_sources, parse_clock, parse_utc_offset, CallCheck, Calling,
    Flag, Limit, Notice, Pack, PromiseRule, ReviewRule, SourceDoc, Stage, StageLayer, Validator,
    Window,
};
use crate::model::{Category, Severity};
use regex::Regex;
use serde::Serialize;
use std::collections::BTreeSet;
use std::fmt;
use std::str::FromStr;
use toml::Spanned;

/// Whether a third party (a contact, relative, colleague) may be called at a stage.
/// Ordered strictest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ThirdPartyPolicy {
    Never,
    IfUnreachable,
    IfUnreachableOrBrokenPromise,
    Allowed,
}

impl FromStr for ThirdPartyPolicy {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "never" => Ok(Self::Never),
            "if_unreachable" => Ok(Self::IfUnreachable),
            "if_unreachable_or_broken_promise" => Ok(Self::IfUnreachableOrBrokenPromise),
            "allowed" => Ok(Self::Allowed),
            _ => Err(format!(
                "unknown third-party contact policy `{s}`; expected one of: never, if_unreachable, if_unreachable_or_broken_promise, allowed"
            )),
        }
    }
}

impl fmt::Display for ThirdPartyPolicy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Never => "never",
            Self::IfUnreachable => "if_unreachable",
            Self::IfUnreachableOrBrokenPromise => "if_unreachable_or_broken_promise",
            Self::Allowed => "allowed",
        })
    }
}

fn union(a: &[String], b: &[String]) -> Vec<String> {
    let mut out = a.to_vec();
    for s in b {
        if !out.contains(s) {
            out.push(s.clone());
        }
    }
    out
}

pub(super) fn build(
    v: &mut Validator<'_>,
    file: PackFile,
    source: &str,
    parent: Option<&Pack>,
) -> Pack {
    let id = file.pack.id.get_ref().clone();
    let meta = &file.pack;
    if id.is_empty()
        || !id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "._-".contains(c))
    {
        v.report(
            "invalid_pack_id",
            format!("pack id `{id}` must be ASCII letters, digits, `.`, `_` or `-`"),
            &meta.id,
            None,
        );
    }
    match (&meta.extends, parent) {
        (Some(name), Some(p)) if name.get_ref() != &p.id => v.report(
            "wrong_parent",
            format!(
                "pack extends `{}` but was layered on `{}`",
                name.get_ref(),
                p.id
            ),
            name,
            None,
        ),
        (Some(name), None) => v.report(
            "unknown_parent",
            format!("pack extends `{}`, which is not loaded", name.get_ref()),
            name,
            None,
        ),
        _ => {}
    }
    let offset = parse_utc_offset(meta.default_utc_offset.get_ref()).unwrap_or_else(|| {
        v.report(
            "invalid_offset",
            format!(
                "default_utc_offset `{}` is not an offset like `+08:00`",
                meta.default_utc_offset.get_ref()
            ),
            &meta.default_utc_offset,
            None,
        );
        0
    });
    let (sha256, digest_input) =
        chain_digest(parent.map_or(&[][..], |p| &p.digest_input[..]), source);

    let mut pack = match parent {
        Some(p) => {
            let mut p = p.clone();
            p.notices.clear();
            p
        }
        None => Pack {
            id: String::new(),
            version: String::new(),
            title: String::new(),
            jurisdiction: String::new(),
            description: String::new(),
            default_utc_offset_minutes: 0,
            extends: None,
            chain: Vec::new(),
            sha256: String::new(),
            sources: Vec::new(),
            calling: Calling::default(),
            stage_layers: Vec::new(),
            lexicons: Default::default(),
            call: Default::default(),
            scoring: Default::default(),
            rules: Vec::new(),
            notices: Vec::new(),
            digest_input: Vec::new(),
        },
    };
    pack.id = id.clone();
    pack.version = meta.version.clone();
    pack.title = meta.title.clone();
    pack.jurisdiction = meta.jurisdiction.clone();
    pack.description = meta.description.clone();
    pack.default_utc_offset_minutes = offset;
    pack.extends = meta.extends.as_ref().map(|e| e.get_ref().clone());
    pack.chain.push(id.clone());
    pack.sha256 = sha256;
    pack.digest_input = digest_input;

    for s in &file.sources {
        if pack.sources.iter().any(|known| known.id == s.id) {
            v.report(
                "duplicate_source",
                format!("source `{}` is declared twice in the chain", s.id),
                &meta.id,
                None,
            );
        }
        pack.sources.push(SourceDoc {
            id: s.id.clone(),
            title: s.title.clone(),
            note: s.note.clone(),
        });
    }
    let known: BTreeSet<String> = pack.sources.iter().map(|s| s.id.clone()).collect();

    merge_calling(v, &mut pack, &file, &known);
    merge_stages(v, &mut pack, &file, &known);

    for (name, words) in &file.lexicons {
        let entry = pack.lexicons.entry(name.clone()).or_default();
        for w in words {
            let n = crate::normalize::normalize_phrase(w);
            if !n.is_empty() && !entry.contains(&n) {
                entry.push(n);
            }
        }
    }
    merge_call(v, &mut pack, &file, &known);
    merge_scoring(v, &mut pack, &file);

    let lexicons = pack.lexicons.clone();
    for rule_file in file.rules {
        let rule_id = rule_file.id.clone();
        if let Some(existing) = pack.rules.iter().find(|r| &r.id == rule_id.get_ref()) {
            let message = format!(
                "rule `{}` is already defined by pack `{}`; a layered pack adds rules and cannot replace or loosen its parent's",
                rule_id.get_ref(),
                existing.pack
            );
            v.report("duplicate_rule", message, &rule_id, Some(rule_id.get_ref()));
            continue;
        }
        if let Some(rule) = build_rule(v, rule_file, &id, &lexicons, &known) {
            pack.rules.push(rule);
        }
    }
    pack
}

fn limit_from(
    v: &mut Validator<'_>,
    f: &LimitFile,
    known: &BTreeSet<String>,
    at: &Spanned<String>,
) -> Limit {
    check_sources(v, &f.sources, known, at, None);
    Limit {
        limit: f.limit,
        sources: f.sources.clone(),
    }
}

/// Lower limit wins; a higher child limit is reported and ignored.
fn merge_limit(
    pack_id: &str,
    what: &str,
    parent: Option<Limit>,
    child: Option<Limit>,
    notices: &mut Vec<Notice>,
) -> Option<Limit> {
    match (parent, child) {
        (Some(p), Some(c)) if c.limit > p.limit => {
            notices.push(Notice {
                code: "looser_than_parent".into(),
                message: format!(
                    "pack `{pack_id}` allows {what} {} but its parent allows {}; the parent's limit stands",
                    c.limit, p.limit
                ),
            });
            Some(p)
        }
        (Some(p), Some(c)) => Some(Limit {
            limit: c.limit,
            sources: union(&c.sources, &p.sources),
        }),
        (p, c) => c.or(p),
    }
}

fn merge_calling(
    v: &mut Validator<'_>,
    pack: &mut Pack,
    file: &PackFile,
    known: &BTreeSet<String>,
) {
    let at = &file.pack.id;
    let c = &file.calling;
    let mut notices = Vec::new();
    if let Some(w) = &c.window {
        let start = parse_clock(w.start.get_ref());
        let end = parse_clock(w.end.get_ref());
        check_sources(v, &w.sources, known, &w.start, None);
        match (start, end) {
            (Some(start), Some(end)) if start < end => {
                let child = Window {
                    start_minute: start,
                    end_minute: end,
                    sources: w.sources.clone(),
                };
                pack.calling.window = Some(match pack.calling.window.take() {
                    Some(p) => {
                        if child.start_minute < p.start_minute || child.end_minute > p.end_minute {
                            notices.push(Notice {
                                code: "looser_than_parent".into(),
                                message: format!(
                                    "pack `{}` calls {}–{} but its parent allows only {}–{}; the narrower window applies",
                                    pack.id,
                                    w.start.get_ref(),
                                    w.end.get_ref(),
                                    clock(p.start_minute),
                                    clock(p.end_minute)
                                ),
                            });
                        }
                        Window {
                            start_minute: child.start_minute.max(p.start_minute),
                            end_minute: child.end_minute.min(p.end_minute),
                            sources: union(&child.sources, &p.sources),
                        }
                    }
                    None => child,
                });
            }
            _ => v.report(
                "invalid_window",
                format!(
                    "calling window `{}`–`{}` must be two `HH:MM` times with start before end",
                    w.start.get_ref(),
                    w.end.get_ref()
                ),
                &w.start,
                None,
            ),
        }
    }
    let id = pack.id.clone();
    let new = |v: &mut Validator<'_>, f: &Option<LimitFile>| {
        f.as_ref().map(|f| limit_from(v, f, known, at))
    };
    let child = new(v, &c.debtor_connected_per_day);
    pack.calling.debtor_connected_per_day = merge_limit(
        &id,
        "connected calls per day to a debtor:",
        pack.calling.debtor_connected_per_day.take(),
        child,
        &mut notices,
    );
    let child = new(v, &c.attempts_per_phone_per_day);
    pack.calling.attempts_per_phone_per_day = merge_limit(
        &id,
        "attempts per day to one phone:",
        pack.calling.attempts_per_phone_per_day.take(),
        child,
        &mut notices,
    );
    let child = new(v, &c.third_party_calls_per_day);
    pack.calling.third_party_calls_per_day = merge_limit(
        &id,
        "calls per day to a third party:",
        pack.calling.third_party_calls_per_day.take(),
        child,
        &mut notices,
    );
    if let Some(f) = &c.visit_min_collectors {
        check_sources(v, &f.sources, known, at, None);
        let child = Limit {
            limit: f.limit,
            sources: f.sources.clone(),
        };
        // A minimum: the higher one is stricter.
        pack.calling.visit_min_collectors = Some(match pack.calling.visit_min_collectors.take() {
            Some(p) if p.limit > child.limit => {
                notices.push(Notice {
                    code: "looser_than_parent".into(),
                    message: format!(
                        "pack `{id}` sends {} collector(s) on a visit but its parent requires {}; the parent's minimum stands",
                        child.limit, p.limit
                    ),
                });
                p
            }
            _ => child,
        });
    }
    if let Some(f) = &c.stop_after_refusal {
        check_sources(v, &f.sources, known, at, None);
        let parent_on = pack
            .calling
            .stop_after_refusal
            .as_ref()
            .is_some_and(|p| p.enabled);
        if parent_on && !f.enabled {
            notices.push(Notice {
                code: "looser_than_parent".into(),
                message: format!("pack `{id}` keeps calling third parties who refused, which its parent forbids; the parent's rule stands"),
            });
        } else {
            pack.calling.stop_after_refusal = Some(Flag {
                enabled: f.enabled,
                sources: f.sources.clone(),
            });
        }
    }
    pack.notices.extend(notices);
}

fn clock(minute: u32) -> String {
    format!("{:02}:{:02}", minute / 60, minute % 60)
}

fn parse_policy(v: &mut Validator<'_>, text: &Spanned<String>) -> Option<super::ThirdPartyPolicy> {
    match text.get_ref().parse() {
        Ok(p) => Some(p),
        Err(e) => {
            v.report("invalid_value", e, text, None);
            None
        }
    }
}

fn merge_stages(v: &mut Validator<'_>, pack: &mut Pack, file: &PackFile, known: &BTreeSet<String>) {
    let default = match &file.pack.third_party_contact {
        Some(text) => {
            check_sources(v, &file.pack.third_party_contact_sources, known, text, None);
            parse_policy(v, text).map(|p| (p, file.pack.third_party_contact_sources.clone()))
        }
        None => None,
    };
    let mut stages: Vec<Stage> = Vec::new();
    for s in &file.stages {
        if let Some(stage) = build_stage(v, s, known) {
            if stages
                .iter()
                .any(|o| o.covers(stage.from) || stage.covers(o.from))
            {
                v.report(
                    "overlapping_stages",
                    format!("stage `{}` overlaps another stage of this pack", stage.id),
                    &s.id,
                    None,
                );
            }
            stages.push(stage);
        }
    }
    // Report every stage of this pack that is looser than what the parent chain already enforces.
    let mut notices = Vec::new();
    if !pack.stage_layers.is_empty() {
        for stage in &stages {
            let last = stage
                .to
                .unwrap_or(stage.from.max(365))
                .min(stage.from + 400);
            let parent_strictest = (stage.from..=last)
                .map(|d| pack.stage_at(d).third_party_contact)
                .min();
            if let Some(p) = parent_strictest {
                if stage.third_party_contact > p {
                    notices.push(Notice {
                        code: "looser_than_parent".into(),
                        message: format!(
                            "stage `{}` of pack `{}` allows third-party contact `{}` where its parent allows only `{}`; the stricter rule applies",
                            stage.id, pack.id, stage.third_party_contact, p
                        ),
                    });
                }
            }
        }
    }
    pack.notices.extend(notices);
    pack.stage_layers.push(StageLayer {
        pack: pack.id.clone(),
        default_third_party_contact: default,
        stages,
    });
}

fn build_stage(v: &mut Validator<'_>, s: &StageFile, known: &BTreeSet<String>) -> Option<Stage> {
    check_sources(v, &s.sources, known, &s.id, None);
    if let Some(to) = s.to {
        if to < s.from {
            v.report(
                "invalid_stage",
                format!(
                    "stage `{}` ends (day {to}) before it starts (day {})",
                    s.id.get_ref(),
                    s.from
                ),
                &s.id,
                None,
            );
            return None;
        }
    }
    Some(Stage {
        id: s.id.get_ref().clone(),
        name: s.name.clone(),
        from: s.from,
        to: s.to,
        third_party_contact: parse_policy(v, &s.third_party_contact)?,
        guidance: s.guidance.clone(),
        sources: s.sources.clone(),
    })
}

fn check_patterns(v: &mut Validator<'_>, patterns: &[String], at: &Spanned<String>) {
    for p in patterns {
        if let Err(e) = Regex::new(p) {
            v.report(
                "invalid_pattern",
                format!(
                    "pattern `{p}` is not a valid regex: {}",
                    e.to_string().lines().last().unwrap_or("")
                ),
                at,
                None,
            );
        }
    }
}

fn severity(v: &mut Validator<'_>, text: &str, at: &Spanned<String>) -> Severity {
    text.parse().unwrap_or_else(|e: String| {
        v.report("invalid_value", e, at, None);
        Severity::Error
    })
}

fn call_check(
    v: &mut Validator<'_>,
    f: &CallCheckFile,
    known: &BTreeSet<String>,
    at: &Spanned<String>,
) -> CallCheck {
    check_sources(v, &f.sources, known, at, None);
    for patterns in f.require.values() {
        check_patterns(v, patterns, at);
    }
    CallCheck {
        within_turns: f.within_turns,
        require: f.require.clone(),
        message: f.message.clone(),
        suggestion: f.suggestion.clone(),
        severity: severity(v, &f.severity, at),
        sources: f.sources.clone(),
    }
}

/// A child's opening / closing requirement adds pattern alternatives per group only if the
/// parent had none; otherwise the parent's requirement stands with the child's wording.
fn merge_call(v: &mut Validator<'_>, pack: &mut Pack, file: &PackFile, known: &BTreeSet<String>) {
    let at = &file.pack.id;
    if let Some(f) = &file.call.opening {
        let child = call_check(v, f, known, at);
        pack.call.opening = Some(merge_call_check(pack.call.opening.take(), child));
    }
    if let Some(f) = &file.call.closing {
        let child = call_check(v, f, known, at);
        pack.call.closing = Some(merge_call_check(pack.call.closing.take(), child));
    }
    if let Some(f) = &file.call.promise {
        check_sources(v, &f.sources, known, at, None);
        let child = PromiseRule {
            max_days: f.max_days,
            message: f.message.clone(),
            suggestion: f.suggestion.clone(),
            severity: severity(v, &f.severity, at),
            sources: f.sources.clone(),
        };
        pack.call.promise = Some(match pack.call.promise.take() {
            Some(p) if p.max_days < child.max_days => {
                pack.notices.push(Notice {
                    code: "looser_than_parent".into(),
                    message: format!(
                        "pack `{}` accepts promises {} days out but its parent only {}; the parent's limit stands",
                        pack.id, child.max_days, p.max_days
                    ),
                });
                PromiseRule {
                    max_days: p.max_days,
                    ..child
                }
            }
            Some(p) => PromiseRule {
                severity: p.severity.max(child.severity),
                sources: union(&child.sources, &p.sources),
                ..child
            },
            None => child,
        });
    }
    if let Some(f) = &file.call.review {
        check_sources(v, &f.sources, known, at, None);
        let sources = match &pack.call.review {
            Some(parent) => union(&f.sources, &parent.sources),
            None => f.sources.clone(),
        };
        pack.call.review = Some(ReviewRule {
            message: f.message.clone(),
            sources,
        });
    }
    super::timing::merge(
        v,
        &mut pack.call.timing,
        &file.call.timing,
        known,
        at,
        &mut pack.notices,
    );
    for (name, patterns) in &file.call.cues {
        check_patterns(v, patterns, at);
        let entry = pack.call.cues.entry(name.clone()).or_default();
        *entry = union(entry, patterns);
    }
}

fn merge_call_check(parent: Option<CallCheck>, child: CallCheck) -> CallCheck {
    match parent {
        None => child,
        Some(p) => {
            // Groups from both apply (more requirements is stricter); same-named groups keep the
            // child's alternatives, which restate the parent's in the company's own words.
            let mut require = p.require.clone();
            for (k, pats) in child.require {
                require.insert(k, pats);
            }
            CallCheck {
                within_turns: p.within_turns.min(child.within_turns),
                require,
                message: child.message,
                suggestion: child.suggestion.or(p.suggestion),
                severity: p.severity.max(child.severity),
                sources: union(&child.sources, &p.sources),
            }
        }
    }
}

fn merge_scoring(v: &mut Validator<'_>, pack: &mut Pack, file: &PackFile) {
    let at = &file.pack.id;
    for (name, weight) in &file.scoring.weights {
        match name.parse::<Category>() {
            Ok(c) => {
                let entry = pack.scoring.weights.entry(c).or_insert(0);
                if *weight < *entry {
                    pack.notices.push(Notice {
                        code: "looser_than_parent".into(),
                        message: format!(
                            "pack `{}` weighs `{name}` {weight} but its parent {}; the higher weight stands",
                            pack.id, entry
                        ),
                    });
                }
                *entry = (*entry).max(*weight);
            }
            Err(e) => v.report("invalid_value", e, at, None),
        }
    }
    for name in &file.scoring.critical {
        match name.parse::<Category>() {
            Ok(c) => {
                pack.scoring.critical.insert(c);
            }
            Err(e) => v.report("invalid_value", e, at, None),
        }
    }
}
