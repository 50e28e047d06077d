//! `check`: one collector utterance in a context → findings with exact spans.

use crate::compiled::{CompiledPack, NegatorKind};
use crate::model::{Category, Context, Finding, Rewrite, Severity};
use crate::normalize::{utf16_offsets, Normalized};
use crate::pack::{FrameScope, Rule, When};
use crate::patterns::PatternMatch;
use crate::pii;

/// How far before a match (in characters) a negator still applies; advice negators (请不要,
/// 不建议, 无权) scope over a whole verb phrase and reach further.
const NEGATION_BEFORE_CHARS: usize = 6;
const WIDE_NEGATION_BEFORE_CHARS: usize = 12;
/// How far before an opening quotation mark a quoting word (说, 那句 …) may stand.
const QUOTE_CUE_CHARS: usize = 8;
/// How far after a match (in characters) a trailing negator may start.
const NEGATION_AFTER_GAP_CHARS: usize = 3;

/// A match in the normalized text before it becomes a finding.
#[derive(Debug, Clone)]
struct Hit {
    rule: usize,
    start: usize,
    end: usize,
    /// The suggestion with the pattern's captures filled in; `None` means the rule's own.
    expanded: Option<String>,
}

pub fn when_matches(when: &When, ctx: &Context) -> bool {
    (when.party.is_empty() || when.party.contains(&ctx.party))
        && when
            .identity_verified
            .is_none_or(|v| v == ctx.identity_verified)
        && when
            .third_party_informed
            .is_none_or(|v| v == ctx.third_party_informed)
        && when.vulnerable.is_none_or(|v| v == ctx.vulnerable)
        && (when.channel.is_empty() || when.channel.contains(&ctx.channel))
        && when.min_dpd.is_none_or(|m| ctx.dpd.is_none_or(|d| d >= m))
        && when.max_dpd.is_none_or(|m| ctx.dpd.is_none_or(|d| d <= m))
}

/// Moves `at` back by up to `chars` characters in `text`, not before `floor`.
fn back_chars(text: &str, at: usize, chars: usize, floor: usize) -> usize {
    let mut pos = at;
    for _ in 0..chars {
        if pos <= floor {
            break;
        }
        pos -= 1;
        while pos > floor && !text.is_char_boundary(pos) {
            pos -= 1;
        }
    }
    pos.max(floor)
}

fn forward_chars(text: &str, at: usize, chars: usize, ceiling: usize) -> usize {
    let mut pos = at;
    for _ in 0..chars {
        if pos >= ceiling {
            break;
        }
        pos += 1;
        while pos < ceiling && !text.is_char_boundary(pos) {
            pos += 1;
        }
    }
    pos.min(ceiling)
}

/// Whether the text between two hits joins them as one list (A或者B, A和B).
fn coordinated(gap: &str) -> bool {
    gap.chars().count() <= 8
        && ["或者", "或", "和", "及", "以及", "还是", "也不", "、"]
            .iter()
            .any(|c| gap.contains(c))
}

/// Whether one of the rule's `except` phrases overlaps the match: an institution's name that
/// contains 贷款 is not a disclosure, and 转给我司 is not 转给我.
fn excepted(n: &Normalized, rule: &Rule, start: usize, end: usize) -> bool {
    rule.except.iter().any(|phrase| {
        let from = back_chars(&n.text, start, phrase.chars().count(), 0);
        let to = forward_chars(&n.text, end, phrase.chars().count(), n.text.len());
        n.slice(from, to)
            .match_indices(phrase.as_str())
            .any(|(at, m)| from + at < end && start < from + at + m.len())
    })
}

/// Whether a negation or (for some rules) a warning context turns the match around.
fn negated(compiled: &CompiledPack, n: &Normalized, rule: &Rule, start: usize, end: usize) -> bool {
    let neg = &compiled.negation;
    let text = n.text.as_str();
    let clause_start = n.clause_start(start);
    let clause_end = n.clause_end(start).max(end);
    if rule.cleared_by_warning {
        if let Some(warning) = &neg.warning {
            let clause = n.slice(clause_start, clause_end);
            if warning.is_match(clause) {
                return true;
            }
        }
    }
    // Quoting the customer or a rumour (您说“有本事你去告我”, 您问是不是要坐牢, 我理解您觉得被
    // 当成老赖了) repeats words the collector is not saying. A number read out is still read out,
    // so detectors are never cleared this way.
    if rule.detectors.is_empty() {
        if let Some(reported) = &neg.reported {
            // Up to the match's last character: a pattern may itself begin with the quoting
            // words (您说派出所给您打过电话).
            let last = back_chars(text, end, 1, start);
            if reported.is_match(n.slice(clause_start, last)) {
                return true;
            }
        }
        if let (Some(cues), Some((quote_start, _))) = (&neg.quote_cues, n.quote_around(start, end))
        {
            let from = back_chars(text, quote_start, QUOTE_CUE_CHARS, 0);
            if cues.is_match(n.slice(from, quote_start)) {
                return true;
            }
        }
    }
    if !rule.negatable {
        return false;
    }
    // A negator shortly before the match, unless a conditional connective (就, 否则 …) sits
    // between them: in 没钱就去借网贷 the negation belongs to the condition, not the advice.
    if let Some(before) = &neg.before {
        let from = back_chars(text, start, WIDE_NEGATION_BEFORE_CHARS + 4, clause_start);
        let window = n.slice(from, start);
        let negators = before.find_iter(window).filter_map(|m| {
            let kind = neg.kinds.get(m.pattern().as_usize()).copied()?;
            (kind != NegatorKind::Exception).then_some((m, kind))
        });
        for (m, kind) in negators {
            let gap = window.get(m.end()..).unwrap_or("");
            let reach = match kind {
                NegatorKind::Wide => WIDE_NEGATION_BEFORE_CHARS,
                _ => NEGATION_BEFORE_CHARS,
            };
            let conditional = neg.condition.as_ref().is_some_and(|c| c.is_match(gap));
            if gap.chars().count() <= reach && !conditional {
                return true;
            }
        }
    }
    if let Some(after) = &neg.after {
        let to = forward_chars(text, end, NEGATION_AFTER_GAP_CHARS + 8, clause_end);
        let window = n.slice(end, to);
        if let Some(m) = after.find(window) {
            let gap = window.get(..m.start()).unwrap_or("");
            if gap.chars().count() <= NEGATION_AFTER_GAP_CHARS {
                return true;
            }
        }
    }
    false
}

/// `active[rule]`: whether the rule's `when` holds in this context. Hits of other rules are never
/// collected, and their frames are never joined.
fn collect_hits(compiled: &CompiledPack, n: &Normalized, active: &[bool]) -> Vec<Hit> {
    let is_active = |rule: usize| active.get(rule).copied().unwrap_or(false);
    let mut hits = Vec::new();
    // One bucket of spans per part of every frame, filled as the two passes find them.
    let mut parts: Vec<Vec<(usize, usize)>> = vec![Vec::new(); compiled.frame_buckets];
    if let Some(ac) = &compiled.phrases {
        for m in ac.find_overlapping_iter(n.text.as_str()) {
            for &part in compiled
                .phrase_frame_parts
                .get(m.pattern().as_usize())
                .into_iter()
                .flatten()
            {
                if is_active(part.rule) {
                    if let Some(bucket) = parts.get_mut(part.bucket) {
                        bucket.push((m.start(), m.end()));
                    }
                }
            }
            if let Some(rules) = compiled.phrase_rules.get(m.pattern().as_usize()) {
                for &rule in rules.iter().filter(|&&r| is_active(r)) {
                    hits.push(Hit {
                        rule,
                        start: m.start(),
                        end: m.end(),
                        expanded: None,
                    });
                }
            }
        }
    }
    if let Some(scanner) = &compiled.pattern_scan {
        let matches = scanner
            .scan(&n.text)
            .unwrap_or_else(|| search_each(compiled, n));
        for m in &matches {
            for &part in compiled.frame_parts.get(m.pattern).into_iter().flatten() {
                if is_active(part.rule) {
                    if let Some(bucket) = parts.get_mut(part.bucket) {
                        bucket.push((m.start, m.end));
                    }
                }
            }
        }
        for m in matches {
            let Some((re, owners)) = compiled.patterns.get(m.pattern) else {
                continue;
            };
            for &rule in owners.iter().filter(|&&r| is_active(r)) {
                // Only a suggestion that quotes a capture (`${when}`) needs the captures.
                let template = compiled
                    .rule(rule)
                    .and_then(|r| r.suggestion.as_ref())
                    .filter(|t| t.contains('$'));
                let expanded = template.and_then(|t| {
                    let caps = re.captures_at(n.text.get(..m.end)?, m.start)?;
                    let mut out = String::new();
                    caps.expand(t, &mut out);
                    Some(out)
                });
                push_pattern_hit(&mut hits, rule, m.start..m.end, expanded);
            }
        }
    }
    frame_hits(compiled, n, parts, &mut hits);
    let mut runs = None;
    for (i, rule) in compiled.pack.rules.iter().enumerate() {
        if !is_active(i) {
            continue;
        }
        for &detector in &rule.detectors {
            let runs = runs.get_or_insert_with(|| pii::digit_runs(n));
            for (start, end) in pii::detect_in(runs, detector) {
                hits.push(Hit {
                    rule: i,
                    start,
                    end,
                    expanded: None,
                });
            }
        }
    }
    hits
}

/// Joins the frame parts found in the pattern pass into frame matches: for each frame with every
/// part present, each way of taking the parts in order (every order with `any_order`), each part
/// starting after the previous one ends and at most `within` characters later, all inside one
/// sentence or clause (as the frame's scope says), with no `unless` word in it.
fn frame_hits(
    compiled: &CompiledPack,
    n: &Normalized,
    mut buckets: Vec<Vec<(usize, usize)>>,
    hits: &mut Vec<Hit>,
) {
    for &(rule, f, first) in &compiled.frames {
        let Some(frame) = compiled.rule(rule).and_then(|r| r.frames.get(f)) else {
            continue;
        };
        let Some(spans) = buckets.get_mut(first..first + frame.parts.len()) else {
            continue;
        };
        if spans.iter().any(Vec::is_empty) {
            continue;
        }
        for list in spans.iter_mut() {
            list.sort_unstable();
        }
        let spans: &[Vec<(usize, usize)>] = spans;
        let orders = if frame.any_order {
            crate::pack::permutations(spans.len())
        } else {
            vec![(0..spans.len()).collect()]
        };
        let mut joined = Vec::new();
        for order in &orders {
            let ordered: Vec<&Vec<(usize, usize)>> =
                order.iter().filter_map(|&i| spans.get(i)).collect();
            for &(start, end) in ordered.first().copied().into_iter().flatten() {
                join_rest(n, frame, &ordered, 1, start, end, &mut joined);
            }
        }
        let negatable = compiled.rule(rule).is_some_and(|r| r.negatable);
        for (start, end, gaps) in joined {
            // A negator between two parts turns the frame around (账户没有被冻结,
            // 不还的话我们也不会去你家): the parts are there, the meaning is not.
            if negatable
                && gaps
                    .iter()
                    .any(|&(from, to)| gap_negated(compiled, n, from, to))
            {
                continue;
            }
            let held = match frame.scope {
                FrameScope::Text => unless_absent(&frame.unless, &n.text),
                scope => {
                    let sentence = scope == FrameScope::Sentence;
                    !n.breaks_inside(start, end, sentence) && {
                        let (from, to) = n.unit_around(start, end, sentence);
                        unless_absent(&frame.unless, n.slice(from, to))
                    }
                }
            };
            if held {
                hits.push(Hit {
                    rule,
                    start,
                    end,
                    expanded: None,
                });
            }
        }
    }
}

/// Whether the text between two parts of a frame holds a negator (不会, 没有, 不是 …).
fn gap_negated(compiled: &CompiledPack, n: &Normalized, from: usize, to: usize) -> bool {
    let neg = &compiled.negation;
    let Some(before) = &neg.before else {
        return false;
    };
    before.find_iter(n.slice(from, to)).any(|m| {
        neg.kinds
            .get(m.pattern().as_usize())
            .is_some_and(|&k| k != NegatorKind::Exception)
    })
}

/// A frame match: its span and the gaps between its parts.
type Joined = (usize, usize, Vec<(usize, usize)>);

/// Extends a partial frame match `start..end` with part `k` of `ordered` and the parts after it.
fn join_rest(
    n: &Normalized,
    frame: &crate::pack::Frame,
    ordered: &[&Vec<(usize, usize)>],
    k: usize,
    start: usize,
    end: usize,
    out: &mut Vec<Joined>,
) {
    join_from(n, frame, ordered, k, start, end, &mut Vec::new(), out);
}

#[expect(
    clippy::too_many_arguments,
    reason = "the recursion's state, kept on the stack"
)]
fn join_from(
    n: &Normalized,
    frame: &crate::pack::Frame,
    ordered: &[&Vec<(usize, usize)>],
    k: usize,
    start: usize,
    end: usize,
    gaps: &mut Vec<(usize, usize)>,
    out: &mut Vec<Joined>,
) {
    let Some(candidates) = ordered.get(k) else {
        out.push((start, end, gaps.clone()));
        return;
    };
    let within = frame.within as usize;
    // Candidates are sorted by start. A character is at most four bytes, so a part starting
    // more than 4 × `within` bytes later is out of reach, and so is every part after it.
    let first = candidates.partition_point(|&(s, _)| s < end);
    for &(s, e) in candidates.iter().skip(first) {
        if s - end > 4 * within {
            break;
        }
        if s - end > within && n.slice(end, s).chars().count() > within {
            continue;
        }
        gaps.push((end, s));
        join_from(n, frame, ordered, k + 1, start, e, gaps, out);
        gaps.pop();
    }
}

fn unless_absent(unless: &[String], around: &str) -> bool {
    !unless.iter().any(|w| around.contains(w.as_str()))
}

/// The patterns' matches found one regex at a time, for the rare text where the lazy DFA of
/// [`PatternScanner`](crate::patterns::PatternScanner) gives up.
fn search_each(compiled: &CompiledPack, n: &Normalized) -> Vec<PatternMatch> {
    compiled
        .patterns
        .iter()
        .enumerate()
        .flat_map(|(pattern, (re, _))| {
            re.find_iter(&n.text).map(move |m| PatternMatch {
                pattern,
                start: m.start(),
                end: m.end(),
            })
        })
        .collect()
}

/// A suggestion for a match that has no captures (a phrase, a detector): a template such as
/// `请您${when}安排还款` reads with its captures left out, never with `${when}` in it.
fn without_captures(template: &str) -> String {
    static EMPTY: std::sync::OnceLock<Option<regex::Regex>> = std::sync::OnceLock::new();
    if !template.contains('$') {
        return template.to_string();
    }
    // The regex crate's own template syntax, expanded against a match without groups.
    let empty = EMPTY.get_or_init(|| regex::Regex::new("^").ok());
    match empty.as_ref().and_then(|re| re.captures("")) {
        Some(caps) => {
            let mut out = String::new();
            caps.expand(template, &mut out);
            out
        }
        None => template.to_string(),
    }
}

fn push_pattern_hit(
    hits: &mut Vec<Hit>,
    rule: usize,
    span: std::ops::Range<usize>,
    expanded: Option<String>,
) {
    if !span.is_empty() {
        hits.push(Hit {
            rule,
            start: span.start,
            end: span.end,
            expanded,
        });
    }
}

/// Per rule, keeps the leftmost-longest non-overlapping hits.
fn leftmost_longest_per_rule(mut hits: Vec<Hit>) -> Vec<Hit> {
    hits.sort_by(|a, b| {
        (a.rule, a.start, std::cmp::Reverse(a.end)).cmp(&(
            b.rule,
            b.start,
            std::cmp::Reverse(b.end),
        ))
    });
    let mut kept: Vec<Hit> = Vec::new();
    for hit in hits {
        let overlaps = kept
            .last()
            .is_some_and(|k| k.rule == hit.rule && hit.start < k.end);
        if !overlaps {
            kept.push(hit);
        }
    }
    kept
}

/// Checks one utterance. Spans are UTF-8 byte offsets into `text` with UTF-16 offsets beside.
pub fn check(compiled: &CompiledPack, text: &str, ctx: &Context) -> Vec<Finding> {
    check_normalized(compiled, text, &Normalized::new(text), ctx)
}

/// [`check`] for a caller that has already normalized `text` (`n` must be `Normalized::new(text)`).
pub fn check_normalized(
    compiled: &CompiledPack,
    text: &str,
    n: &Normalized,
    ctx: &Context,
) -> Vec<Finding> {
    let findings = findings_per_rule(compiled, text, n, ctx);
    let mut deduped = same_category_once(findings);
    fill_utf16(text, &mut deduped);
    deduped
}

/// Every rule's own findings, before overlapping findings of one category are merged: what a
/// rule's `bad` examples are tested against, since a wider rule of the same category may
/// otherwise stand in for it.
pub fn findings_per_rule(
    compiled: &CompiledPack,
    text: &str,
    n: &Normalized,
    ctx: &Context,
) -> Vec<Finding> {
    let mut kept: Vec<Hit> = Vec::new();
    let mut negated_hits: Vec<Hit> = Vec::new();
    let active: Vec<bool> = compiled
        .pack
        .rules
        .iter()
        .map(|r| when_matches(&r.when, ctx))
        .collect();
    for h in collect_hits(compiled, n, &active) {
        let Some(rule) = compiled.rule(h.rule) else {
            continue;
        };
        if !when_matches(&rule.when, ctx) || excepted(n, rule, h.start, h.end) {
            continue;
        }
        if negated(compiled, n, rule, h.start, h.end) {
            negated_hits.push(h);
        } else {
            kept.push(h);
        }
    }
    // A negation carries over a coordination: in 不建议您去借网贷或者信用卡套现 the 套现 is
    // negated too.
    let hits: Vec<Hit> = kept
        .into_iter()
        .filter(|h| {
            !negated_hits.iter().any(|g| {
                g.rule == h.rule
                    && g.end <= h.start
                    && n.clause_start(g.start) == n.clause_start(h.start)
                    && coordinated(n.slice(g.end, h.start))
            })
        })
        .collect();
    let hits = leftmost_longest_per_rule(hits);

    let mut findings: Vec<Finding> = Vec::new();
    for hit in hits {
        let (Some(rule), Some((start, end))) =
            (compiled.rule(hit.rule), n.original_span(hit.start, hit.end))
        else {
            continue;
        };
        let suggestion = hit
            .expanded
            .clone()
            .or_else(|| rule.suggestion.as_deref().map(without_captures));
        let rewrite = clause_rewrite(text, n, rule, &hit, suggestion.as_deref());
        let finding = Finding {
            rule: rule.id.clone(),
            category: rule.category,
            severity: rule.severity,
            start,
            end,
            utf16_start: 0,
            utf16_end: 0,
            excerpt: text.get(start..end).unwrap_or("").to_string(),
            message: rule.message.clone(),
            suggestion,
            sources: rule.sources.clone(),
            turn: None,
            rewrite,
        };
        // Pressure wording said to a customer who disclosed illness or hardship is a second,
        // graver violation on top of the wording itself.
        if ctx.vulnerable && rule.pressure {
            findings.push(Finding {
                category: Category::VulnerablePressure,
                severity: Severity::Error,
                message: format!(
                    "{}（客户已表明患病、怀孕、失业或家庭困难，须缓和语气，不得施压）",
                    rule.message
                ),
                ..finding.clone()
            });
        }
        findings.push(finding);
    }
    derive_findings(compiled, ctx, &mut findings);
    findings
}

fn same_category_once(mut findings: Vec<Finding>) -> Vec<Finding> {
    // Within one category, overlapping findings say the same thing twice: keep the most severe,
    // then the longest.
    findings.sort_by(|a, b| {
        (
            a.category,
            a.start,
            std::cmp::Reverse(a.severity),
            std::cmp::Reverse(a.end),
        )
            .cmp(&(
                b.category,
                b.start,
                std::cmp::Reverse(b.severity),
                std::cmp::Reverse(b.end),
            ))
    });
    let mut deduped: Vec<Finding> = Vec::new();
    for f in findings {
        let dup = deduped
            .iter()
            .rev()
            .take_while(|k| k.category == f.category)
            .any(|k| f.start < k.end && k.start < f.end);
        if !dup {
            deduped.push(f);
        }
    }
    deduped.sort_by_key(|f| (f.start, f.end, f.category));
    deduped
}

/// Rules that follow from other findings (`derived_from`): a threat said to a third party is also
/// collecting from that third party. The derived finding has the same span as the one it follows.
fn derive_findings(compiled: &CompiledPack, ctx: &Context, findings: &mut Vec<Finding>) {
    let mut derived = Vec::new();
    for rule in &compiled.pack.rules {
        if rule.derived_from.is_empty() || !when_matches(&rule.when, ctx) {
            continue;
        }
        if let Some(source) = findings
            .iter()
            .find(|f| rule.derived_from.contains(&f.category))
        {
            let suggestion = rule.suggestion.as_deref().map(without_captures);
            // The clause the finding it follows sits in, with this rule's own sentence.
            let rewrite = source.rewrite.as_ref().and_then(|r| {
                let text = rule.rewrite.clone().or_else(|| suggestion.clone())?;
                Some(Rewrite { text, ..r.clone() })
            });
            derived.push(Finding {
                rule: rule.id.clone(),
                category: rule.category,
                severity: rule.severity,
                message: rule.message.clone(),
                suggestion,
                sources: rule.sources.clone(),
                rewrite,
                ..source.clone()
            });
        }
    }
    findings.extend(derived);
}

/// Suggestions this many characters or longer are sentences and replace the whole clause;
/// shorter ones (客户) replace the match inside it.
const SENTENCE_CHARS: usize = 6;

/// The rewrite of the clause `hit` sits in: the rule's `rewrite` sentence, or its suggestion —
/// a sentence for the whole clause, or a word put in place of the match.
fn clause_rewrite(
    text: &str,
    n: &Normalized,
    rule: &Rule,
    hit: &Hit,
    suggestion: Option<&str>,
) -> Option<Rewrite> {
    let (from, to) = n.unit_around(hit.start, hit.end, false);
    let (start, end) = n.original_span(from, to)?;
    let replacement = match (&rule.rewrite, suggestion) {
        (Some(sentence), _) => without_captures(sentence),
        (None, Some(s)) if s.chars().count() >= SENTENCE_CHARS => s.to_string(),
        (None, Some(word)) => {
            let (m_start, m_end) = n.original_span(hit.start, hit.end)?;
            format!(
                "{}{word}{}",
                text.get(start..m_start)?,
                text.get(m_end..end)?
            )
        }
        (None, None) => return None,
    };
    Some(Rewrite {
        start,
        end,
        utf16_start: 0,
        utf16_end: 0,
        text: replacement,
    })
}

/// Converts every finding's byte span (and its rewrite's) to UTF-16 in a single pass over `text`.
pub fn fill_utf16(text: &str, findings: &mut [Finding]) {
    let offsets: Vec<usize> = findings
        .iter()
        .flat_map(|f| {
            let (rs, re) = f.rewrite.as_ref().map_or((0, 0), |r| (r.start, r.end));
            [f.start, f.end, rs, re]
        })
        .collect();
    let units = utf16_offsets(text, &offsets);
    for (f, four) in findings.iter_mut().zip(units.chunks(4)) {
        if let [s, e, rs, re] = four {
            f.utf16_start = *s;
            f.utf16_end = *e;
            if let Some(r) = &mut f.rewrite {
                r.utf16_start = *rs;
                r.utf16_end = *re;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::model::{Context, Party};
    use crate::Engine;

    #[test]
    fn a_phrase_match_never_shows_a_capture_template() {
        let engine = Engine::with_embedded_packs();
        assert!(engine.is_ok(), "embedded packs must load");
        let Ok(engine) = engine else { return };
        let ctx = Context {
            dpd: Some(40),
            party: Party::Debtor,
            identity_verified: true,
            ..Context::default()
        };
        // 必须今天还 is a phrase of discourtesy.demand, whose suggestion quotes `${when}`;
        // 你必须马上还钱 is its pattern, with the capture.
        for (text, expected) in [
            ("欠的钱必须今天还", "请您安排还款"),
            ("你必须马上还钱", "请您马上安排还款"),
        ] {
            let findings = engine.check("cn-company", text, &ctx).unwrap_or_default();
            let demand = findings.iter().find(|f| f.rule == "discourtesy.demand");
            assert_eq!(
                demand.and_then(|f| f.suggestion.as_deref()),
                Some(expected),
                "{text}: {findings:?}"
            );
        }
    }
}

/// The pack language for kinds of wording: concepts, frames (order, distance, scope, `unless`),
/// negators between frame parts, quoted and reported speech — on a small pack of its own.
#[cfg(test)]
mod frame_tests {
    use crate::model::{Category, Context};
    use crate::Engine;

    const PACK: &str = r#"
[pack]
id = "frames-test"
version = "1"
title = "frames"
jurisdiction = "CN"
default_utc_offset = "+08:00"

[[sources]]
id = "doc"
title = "test document"

[lexicons]
if_unpaid = ["再不还", "不还的话"]
visit = ["去你家", "去你单位"]
negation_before = ["不会", "没有"]
reported_speech = ["您说"]
quote_cues = ["说"]

[[rules]]
id = "t.visit"
category = "threat"
severity = "error"
message = "visit"
rewrite = "请您尽快安排还款"
frames = [{ all = ["{if_unpaid}", "{visit}"], within = 8 }]
sources = ["doc 1"]
bad = ["再不还我们就去你家"]
allows = ["我们不会去你家"]

[[rules]]
id = "t.any"
category = "false_legal_claim"
severity = "error"
message = "seize"
rewrite = "请您尽快安排还款"
frames = [{ all = ["冻结", "(明天|今天)"], any_order = true, within = 4, scope = "clause", unless = ["解冻"] }]
sources = ["doc 1"]
bad = ["明天冻结"]
allows = ["还款后解冻"]

[[rules]]
id = "t.word"
category = "abusive_language"
severity = "error"
message = "word"
suggestion = "客户"
phrases = ["老赖"]
sources = ["doc 1"]
bad = ["你这个老赖"]
allows = ["您好"]
"#;

    fn categories(engine: &Engine, text: &str) -> Vec<Category> {
        let ctx = Context::default();
        engine
            .check("frames-test", text, &ctx)
            .unwrap_or_default()
            .iter()
            .map(|f| f.category)
            .collect()
    }

    fn engine() -> Engine {
        let mut engine = Engine::default();
        let loaded = engine.load_pack(PACK, true);
        assert!(loaded.is_ok(), "{:?}", loaded.err());
        engine
    }

    #[test]
    fn frames_join_parts_in_order_within_the_distance() {
        let engine = engine();
        assert_eq!(
            categories(&engine, "你再不还，我们明天就去你家"),
            [Category::Threat]
        );
        // Out of order, too far apart, or across a full stop: no frame.
        assert!(categories(&engine, "去你家看看，再不还也没关系").is_empty());
        assert!(categories(&engine, "再不还的话我们会很为难很为难很为难再去你家").is_empty());
        assert!(categories(&engine, "再不还。我们去你家吃饭").is_empty());
        // Without punctuation (speech-to-text) the distance alone bounds the frame.
        assert_eq!(
            categories(&engine, "那个就是说再不还嗯就去你家"),
            [Category::Threat]
        );
    }

    #[test]
    fn any_order_scope_and_unless() {
        let engine = engine();
        assert_eq!(categories(&engine, "冻结明天"), [Category::FalseLegalClaim]);
        assert_eq!(
            categories(&engine, "明天就冻结"),
            [Category::FalseLegalClaim]
        );
        // A clause-scoped frame does not reach across a comma; `unless` words cancel it.
        assert!(categories(&engine, "明天，冻结").is_empty());
        assert!(categories(&engine, "明天冻结的账户会解冻").is_empty());
    }

    #[test]
    fn a_negator_between_parts_turns_the_frame_around() {
        let engine = engine();
        assert!(categories(&engine, "不还的话我们也不会去你家").is_empty());
        assert_eq!(
            categories(&engine, "不还的话我们就去你家"),
            [Category::Threat]
        );
    }

    #[test]
    fn quoted_and_reported_words_are_not_said() {
        let engine = engine();
        assert!(categories(&engine, "同事说您“老赖”，这是不对的").is_empty());
        assert!(categories(&engine, "您说我们把您当老赖，没有的事").is_empty());
        assert_eq!(
            categories(&engine, "你这个“老赖”"),
            [Category::AbusiveLanguage]
        );
    }

    #[test]
    fn a_rewrite_replaces_the_clause() {
        let engine = engine();
        let text = "张先生，你这个老赖，再不还我们就去你家";
        let findings = engine
            .check("frames-test", text, &Context::default())
            .unwrap_or_default();
        let fixed: Vec<(String, String)> = findings
            .iter()
            .filter_map(|f| {
                let r = f.rewrite.as_ref()?;
                Some((text.get(r.start..r.end)?.to_string(), r.text.clone()))
            })
            .collect();
        assert_eq!(
            fixed,
            [
                ("你这个老赖".to_string(), "你这个客户".to_string()),
                (
                    "再不还我们就去你家".to_string(),
                    "请您尽快安排还款".to_string()
                ),
            ]
        );
    }

    #[test]
    fn a_bad_pack_language_is_a_clear_error() {
        for (broken, expect) in [
            (PACK.replace("{visit}\"]", "{vist}\"]"), "concept `{vist}`"),
            (
                PACK.replace("all = [\"冻结\"", "all = [\"(明天)?\", \"冻结\""),
                "can match nothing",
            ),
            (
                PACK.replace("scope = \"clause\"", "scope = \"para\""),
                "frame scope `para`",
            ),
        ] {
            let mut engine = Engine::default();
            let problems = engine.load_pack(&broken, false).err().unwrap_or_default();
            assert!(
                problems.iter().any(|p| p.message.contains(expect)),
                "{expect}: {problems:?}"
            );
        }
    }
}
