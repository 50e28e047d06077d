//! Whether a match means what it says: negators before or after it (我们不会…, …是不可能的),
//! anti-fraud warnings around it (请警惕…), reported speech and quotations (您说…, 同事说您“…”),
//! and a rule's own `except` phrases.

use crate::compiled::{CompiledPack, NegatorKind};
use crate::normalize::Normalized;
use crate::pack::Rule;

/// How far before a match (in characters) a negator still applies; advice negators (请不要,
/// 不建议, 无权) scope over a whole verb phrase and reach further.
const NEGATION_BEFORE_CHARS: usize = 6;
const WIDE_NEGATION_BEFORE_CHARS: usize = 12;
/// How far before a match a reported-speech cue (您说, 有人跟您讲 …) may stand.
const REPORTED_BEFORE_CHARS: usize = 20;
/// How far before an opening quotation mark a quoting word (说, 那句 …) may stand.
const QUOTE_CUE_CHARS: usize = 8;
/// How far after a match (in characters) a trailing negator may start.
const NEGATION_AFTER_GAP_CHARS: usize = 3;

/// Moves `at` back by up to `chars` characters in `text`, not before `floor`.
pub(crate) fn back_chars(text: &str, at: usize, chars: usize, floor: usize) -> usize {
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

/// A negator that names a cause (不会因为…就…) negates the whole "because X, then Y", so a 就
/// after it is not the conditional connective that would hand the negation to a condition.
fn causal(negator: &str) -> bool {
    negator.ends_with("因为") || negator.ends_with('因')
}

/// Whether a negator in `text` reaches its end: no further away than its short or wide reach,
/// and no conditional connective (就, 否则 …) after it — in 没钱就去借网贷 the negation belongs to
/// the condition, not the advice. What stands before a match, and the gap between two parts of a
/// frame, are both read this way.
pub(crate) fn negator_reaches_end(compiled: &CompiledPack, text: &str) -> bool {
    let neg = &compiled.negation;
    let Some(before) = &neg.before else {
        return false;
    };
    before.find_iter(text).any(|m| {
        let reach = match neg.kinds.get(m.pattern().as_usize()) {
            Some(NegatorKind::Wide) => WIDE_NEGATION_BEFORE_CHARS,
            Some(NegatorKind::Short) => NEGATION_BEFORE_CHARS,
            Some(NegatorKind::Exception) | None => return false,
        };
        let rest = text.get(m.end()..).unwrap_or("");
        let negator = text.get(m.start()..m.end()).unwrap_or("");
        let conditional =
            !causal(negator) && neg.condition.as_ref().is_some_and(|c| c.is_match(rest));
        rest.chars().count() <= reach && !conditional
    })
}

/// Whether the text between two hits joins them as one list (A或者B, A和B).
pub(crate) fn coordinated(gap: &str) -> bool {
    gap.chars().count() <= 8
        && ["或者", "或", "和", "及", "以及", "还是", "也不", "、"]
            .iter()
            .any(|c| gap.contains(c))
}

/// Whether one of the rule's `except` phrases overlaps the match: an institution's name that
/// contains 贷款 is not a disclosure, and 转给我司 is not 转给我. The phrases are searched once, by
/// the rule's own automaton, in the stretch a phrase overlapping the match can lie in.
pub(crate) fn excepted(
    compiled: &CompiledPack,
    n: &Normalized,
    rule: usize,
    start: usize,
    end: usize,
) -> bool {
    let Some(Some((words, longest))) = compiled.excepts.get(rule) else {
        return false;
    };
    let from = back_chars(&n.text, start, *longest, 0);
    let to = forward_chars(&n.text, end, *longest, n.text.len());
    words
        .find_overlapping_iter(n.slice(from, to))
        .any(|m| from + m.start() < end && start < from + m.end())
}

/// Whether a negation or (for some rules) a warning context turns the match around.
pub(crate) fn negated(
    compiled: &CompiledPack,
    n: &Normalized,
    rule: &Rule,
    start: usize,
    end: usize,
) -> bool {
    let neg = &compiled.negation;
    let text = n.text.as_str();
    let clause_start = n.clause_start(start);
    let clause_end = n.clause_end(start).max(end);
    // Both sentence-wide clearances read the same unit: the sentence around the match.
    let sentence_has = |cues: &Option<aho_corasick::AhoCorasick>| {
        cues.as_ref().is_some_and(|cues| {
            let (from, to) = n.unit_around(start, end, true);
            cues.is_match(n.slice(from, to))
        })
    };
    // A reminder names the danger in one clause and the forbidden act in the next
    // (不法分子冒充我司人员，让客户转账到个人账户): the whole sentence is the warning.
    if rule.cleared_by_warning && sentence_has(&neg.warning) {
        return true;
    }
    // Explaining the law names its sanctions (拘留针对的是有能力却拒不履行的人; 财产保全要
    // 提供担保，法院裁定之后才执行): the sentence as a whole says when they apply, which a
    // threat never does.
    if rule.cleared_by_explanation && sentence_has(&neg.explanation) {
        return true;
    }
    // Quoting the customer or a rumour (您说“有本事你去告我”, 您问是不是要坐牢, 我理解您觉得被
    // 当成老赖了) repeats words the collector is not saying. A number read out is still read out,
    // so detectors are never cleared this way.
    if rule.detectors.is_empty() {
        if let Some(reported) = &neg.reported {
            // A few characters back, up to the match's last character: a pattern may itself
            // begin with the quoting words (您说派出所给您打过电话). 我跟您说… is the collector
            // speaking, not quoting, so a cue right after 跟/和/给/对/我 does not count; nor does
            // one right after 就是: 就是说 / 也就是说 is speech-to-text filler (就是说我们会…).
            let from = back_chars(text, start, REPORTED_BEFORE_CHARS, clause_start);
            let last = back_chars(text, end, 1, start);
            let window = n.slice(from, last);
            let quoting = reported.find_iter(window).any(|m| {
                let before = window.get(..m.start()).and_then(|b| b.chars().next_back());
                !matches!(before, Some('跟' | '和' | '给' | '对' | '我'))
                    && !text
                        .get(..from + m.start())
                        .is_some_and(|b| b.ends_with("就是"))
            });
            if quoting {
                return true;
            }
        }
        if let (Some(cues), Some((quote_start, _))) = (&neg.quote_cues, n.quote_around(start, end))
        {
            let sentence_start = n.unit_around(quote_start, quote_start, true).0;
            let from = back_chars(text, quote_start, QUOTE_CUE_CHARS, sentence_start);
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
    let from = back_chars(text, start, WIDE_NEGATION_BEFORE_CHARS + 4, clause_start);
    if negator_reaches_end(compiled, n.slice(from, start)) {
        return true;
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
