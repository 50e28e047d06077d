//! Rewrites: the clause a finding sits in and a sentence to say instead; suggestion templates
//! read without their captures; UTF-16 offsets for every span at the edge.

use crate::model::{Finding, Rewrite};
use crate::normalize::{utf16_offsets, Normalized};
use crate::pack::Rule;

/// A suggestion for a match that has no captures (a phrase, a detector): a template such as
/// `请您${when}安排还款` reads with its captures left out, never with `${when}` in it.
pub(crate) fn without_captures(template: &str) -> String {
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

/// Suggestions this many characters or longer are sentences and replace the whole clause;
/// shorter ones (客户) replace the match inside it.
const SENTENCE_CHARS: usize = 5;

/// The rewrite of the clause `hit` sits in: the rule's `rewrite` sentence, or its suggestion —
/// a sentence for the whole clause, or a word put in place of the match.
pub(crate) fn clause_rewrite(
    text: &str,
    n: &Normalized,
    rule: &Rule,
    (hit_start, hit_end): (usize, usize),
    suggestion: Option<&str>,
) -> Option<Rewrite> {
    let (from, to) = n.unit_around(hit_start, hit_end, false);
    let (start, end) = n.original_span(from, to)?;
    let replacement = match (&rule.rewrite, suggestion) {
        (Some(sentence), _) => without_captures(sentence),
        (None, Some(s)) if s.chars().count() >= SENTENCE_CHARS => s.to_string(),
        (None, Some(word)) => {
            let (m_start, m_end) = n.original_span(hit_start, hit_end)?;
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
