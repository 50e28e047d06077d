//! `check`: one collector utterance in a context → findings with exact spans.

use crate::compiled::{CompiledPack, PhraseOwner};
use crate::model::{Category, Context, Finding, Rewrite, Severity};
use crate::negation::{coordinated, excepted, negated};
use crate::normalize::Normalized;
use crate::pack::When;
use crate::patterns::PatternMatch;
use crate::pii;
pub use crate::rewrite::fill_utf16;
use crate::rewrite::{clause_rewrite, without_captures};

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

/// `active[rule]`: whether the rule's `when` holds in this context. Hits of other rules are never
/// collected, and their frames are never joined.
fn collect_hits(compiled: &CompiledPack, n: &Normalized, active: &[bool]) -> Vec<Hit> {
    let is_active = |rule: usize| active.get(rule).copied().unwrap_or(false);
    let mut hits = Vec::new();
    // Every frame part found, as (bucket, start, end); grouped by bucket before joining.
    let mut parts: Vec<(u32, usize, usize)> = Vec::new();
    if let Some(ac) = &compiled.phrases {
        for m in ac.find_overlapping_iter(n.text.as_str()) {
            for owner in compiled.phrase_owners.of(m.pattern().as_usize()) {
                match *owner {
                    PhraseOwner::Rule(rule) if is_active(rule as usize) => {
                        hits.push(Hit::plain(rule as usize, m.start(), m.end()));
                    }
                    PhraseOwner::Part { rule, bucket } if is_active(rule as usize) => {
                        parts.push((bucket, m.start(), m.end()));
                    }
                    _ => {}
                }
            }
        }
    }
    if let Some(scanner) = &compiled.pattern_scan {
        let matches = scanner
            .scan(&n.text)
            .unwrap_or_else(|| search_each(compiled, n));
        for m in &matches {
            for part in compiled.frame_parts.get(m.pattern).into_iter().flatten() {
                if is_active(part.rule) {
                    let bucket = u32::try_from(part.bucket).unwrap_or(u32::MAX);
                    parts.push((bucket, m.start, m.end));
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
    let parts = crate::frames::PartSpans::group(parts, compiled.frame_buckets);
    for (rule, start, end) in crate::frames::frame_hits(compiled, n, parts) {
        hits.push(Hit::plain(rule, start, end));
    }
    for (rule, start, end) in compiled.similar.matches(n, active) {
        hits.push(Hit::plain(rule, start, end));
    }
    let mut runs = None;
    for (i, rule) in compiled.pack.rules.iter().enumerate() {
        if !is_active(i) {
            continue;
        }
        for &detector in &rule.detectors {
            let runs = runs.get_or_insert_with(|| pii::digit_runs(n));
            for (start, end) in pii::detect_in(runs, detector) {
                hits.push(Hit::plain(i, start, end));
            }
        }
    }
    hits
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

impl Hit {
    /// A hit that quotes no capture.
    fn plain(rule: usize, start: usize, end: usize) -> Self {
        Hit {
            rule,
            start,
            end,
            expanded: None,
        }
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
        // `collect_hits` keeps only hits of rules whose `when` holds (`active`).
        if excepted(compiled, n, h.rule, h.start, h.end) {
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
        let rewrite = clause_rewrite(text, n, rule, (hit.start, hit.end), suggestion.as_deref());
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
    // Within one category, overlapping findings say the same thing twice: keep the most severe
    // (a wide warning never hides an error inside it), then the earliest and longest.
    findings.sort_by(|a, b| {
        (
            a.category,
            std::cmp::Reverse(a.severity),
            a.start,
            std::cmp::Reverse(a.end),
        )
            .cmp(&(
                b.category,
                std::cmp::Reverse(b.severity),
                b.start,
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
                let text = rule
                    .rewrite
                    .as_deref()
                    .map(without_captures)
                    .or_else(|| suggestion.clone())?;
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
