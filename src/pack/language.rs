//! The pack language for kinds of wording: concepts (`{name}` in a pattern or frame part, from
//! `[lexicons]`) and frames (parts that occur together). Validated here; compiled into the phrase
//! automaton or the pattern pass in [`crate::compiled`]; joined in [`crate::frames`].

use super::first_line;
use super::schema::FrameFile;
use regex::Regex;
use serde::Serialize;
use std::collections::BTreeMap;

/// Where a frame's parts must lie together.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FrameScope {
    Clause,
    Sentence,
    Text,
}

/// A frame after validation: its parts are regexes (concepts expanded) that the phrase automaton
/// (finite sets of words) or the pattern pass finds one by one; [`crate::frames`] joins them: in order (or any order), at
/// most `within` characters apart, inside the scope, with none of the `unless` words around.
/// Searching the parts rather than one regex with gaps keeps the automaton small: a gap between
/// two wide alternations multiplies the lazy DFA's states.
#[derive(Debug, Clone, Serialize)]
pub struct Frame {
    /// The parts as written (`{if_unpaid}`), for a reader.
    pub all: Vec<String>,
    /// The parts as regexes over normalized text.
    #[serde(skip)]
    pub parts: Vec<String>,
    pub any_order: bool,
    /// An N-of frame: any this many of the parts, in any order, are enough.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub at_least: Option<usize>,
    pub within: u32,
    pub scope: FrameScope,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub unless: Vec<String>,
    /// The orders the parts are tried in: the written one, or every one with `any_order`.
    #[serde(skip)]
    pub orders: Vec<Vec<usize>>,
    /// The `unless` words in one automaton.
    #[serde(skip)]
    pub unless_words: Option<aho_corasick::AhoCorasick>,
}

/// The most characters a frame may allow between two parts (a larger `within` is cut to it).
pub const MAX_FRAME_WITHIN: u32 = 200;
/// Characters allowed between one part of a frame and the next when the frame says nothing.
pub const DEFAULT_FRAME_WITHIN: u32 = 10;
/// Parts a frame in any order may have (each permutation is tried).
pub const MAX_ANY_ORDER_PARTS: usize = 4;
/// Parts an N-of frame (`at_least`) may list; the N itself is at most [`MAX_ANY_ORDER_PARTS`],
/// since the parts found are joined in every order.
pub const MAX_AT_LEAST_PARTS: usize = 12;

/// Replaces every `{name}` in a pattern with an alternation of the words of concept (lexicon)
/// `name`; regex repetitions such as `{0,6}` start with a digit and are left alone.
pub(crate) fn expand_concepts(
    pattern: &str,
    lexicons: &BTreeMap<String, Vec<String>>,
) -> Result<String, String> {
    let mut out = String::with_capacity(pattern.len());
    let mut rest = pattern;
    while let Some(open) = rest.find('{') {
        let (before, from_open) = rest.split_at(open);
        out.push_str(before);
        let after_open = from_open.get(1..).unwrap_or("");
        let name_len = after_open
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(after_open.len());
        let name = after_open.get(..name_len).unwrap_or("");
        let is_concept = name.starts_with(|c: char| c.is_ascii_alphabetic())
            && after_open
                .get(name_len..)
                .is_some_and(|r| r.starts_with('}'));
        if !is_concept {
            out.push('{');
            rest = after_open;
            continue;
        }
        let words = lexicons.get(name).filter(|w| !w.is_empty()).ok_or_else(|| {
            format!("模式 `{pattern}` 引用的概念 `{{{name}}}` 未在本规则包或其上级的 [lexicons] 中定义（pattern uses concept `{{{name}}}`, which no `[lexicons]` entry of this pack or its parents defines）")
        })?;
        let mut words: Vec<&String> = words.iter().collect();
        // Longest first, so a leftmost-first search also prefers the longest word.
        words.sort_by_key(|w| std::cmp::Reverse(w.len()));
        let alternation: Vec<String> = words.iter().map(|w| regex::escape(w)).collect();
        out.push_str("(?:");
        out.push_str(&alternation.join("|"));
        out.push(')');
        rest = after_open.get(name_len + 1..).unwrap_or("");
    }
    out.push_str(rest);
    Ok(out)
}

/// Validates a frame and expands the concepts of its parts.
pub(crate) fn build_frame(
    frame: &FrameFile,
    lexicons: &BTreeMap<String, Vec<String>>,
) -> Result<Frame, String> {
    if frame.all.is_empty() {
        return Err(
            "框架的 `all` 至少需要一个部分（a frame needs at least one part in `all`）".to_string(),
        );
    }
    if let Some(n) = frame.at_least {
        if n < 1 || n > frame.all.len() || n > MAX_ANY_ORDER_PARTS {
            return Err(format!(
                "框架的 `at_least = {n}` 无效：应在 1 到 {} 之间（不超过部分数，最多 {MAX_ANY_ORDER_PARTS}）（frame `at_least = {n}` must be between 1 and the number of parts, at most {MAX_ANY_ORDER_PARTS}）",
                frame.all.len().min(MAX_ANY_ORDER_PARTS)
            ));
        }
        if frame.all.len() > MAX_AT_LEAST_PARTS {
            return Err(format!(
                "`at_least` 框架最多 {MAX_AT_LEAST_PARTS} 个部分，实际 {} 个（an `at_least` frame has at most {MAX_AT_LEAST_PARTS} parts）",
                frame.all.len()
            ));
        }
    } else if frame.any_order && frame.all.len() > MAX_ANY_ORDER_PARTS {
        return Err(format!(
            "不限顺序的框架最多 {MAX_ANY_ORDER_PARTS} 个部分，实际 {} 个（a frame in any order has at most {MAX_ANY_ORDER_PARTS} parts）",
            frame.all.len()
        ));
    }
    let scope = match frame.scope.as_deref() {
        None | Some("sentence") => FrameScope::Sentence,
        Some("clause") => FrameScope::Clause,
        Some("text") => FrameScope::Text,
        Some(other) => {
            return Err(format!(
                "框架范围 `{other}` 无效，应为 clause、sentence 或 text（frame scope `{other}` is unknown; expected one of: clause, sentence, text）"
            ))
        }
    };
    let mut parts = Vec::new();
    for part in &frame.all {
        let expanded = expand_concepts(part, lexicons)?;
        if expanded.contains("\\b") || expanded.contains("\\B") {
            return Err(format!("框架部分 `{part}` 使用了词边界，中文字符之间永远不匹配（frame part `{part}` uses a word boundary）"));
        }
        let re = Regex::new(&expanded).map_err(|e| {
            format!(
                "框架部分 `{part}` 不是有效的正则表达式（frame part is not a valid regex）：{}",
                first_line(&e.to_string())
            )
        })?;
        if re.is_match("") {
            return Err(format!(
                "框架部分 `{part}` 可以匹配空文本，每个部分都必须匹配实际文字（frame part `{part}` can match nothing at all）"
            ));
        }
        parts.push(expanded);
    }
    let mut unless = Vec::new();
    for word in &frame.unless {
        match word.strip_prefix('{').and_then(|w| w.strip_suffix('}')) {
            Some(name) => unless.extend(
                lexicons
                    .get(name)
                    .ok_or_else(|| {
                        format!("框架 `unless` 引用的概念 `{{{name}}}` 未定义（frame `unless` names concept `{{{name}}}`, which is not defined）")
                    })?
                    .iter()
                    .cloned(),
            ),
            None => {
                let n = crate::normalize::normalize_phrase(word);
                if !n.is_empty() {
                    unless.push(n);
                }
            }
        }
    }
    // An N-of frame's orders depend on which parts a text holds; they are made per check.
    let orders = if frame.at_least.is_some() {
        Vec::new()
    } else if frame.any_order {
        permutations(parts.len())
    } else {
        vec![(0..parts.len()).collect()]
    };
    let unless_words = if unless.is_empty() {
        None
    } else {
        Some(aho_corasick::AhoCorasick::new(&unless).map_err(|e| {
            format!("框架 `unless` 词无法编译（frame `unless` words do not compile）：{e}")
        })?)
    };
    Ok(Frame {
        all: frame.all.clone(),
        parts,
        any_order: frame.any_order || frame.at_least.is_some(),
        at_least: frame.at_least,
        within: frame
            .within
            .unwrap_or(DEFAULT_FRAME_WITHIN)
            .min(MAX_FRAME_WITHIN),
        scope,
        unless,
        orders,
        unless_words,
    })
}

/// Every ordering of `0..n` (n is at most [`MAX_ANY_ORDER_PARTS`]).
pub fn permutations(n: usize) -> Vec<Vec<usize>> {
    if n <= 1 {
        return vec![(0..n).collect()];
    }
    let mut out = Vec::new();
    for smaller in permutations(n - 1) {
        for at in 0..=smaller.len() {
            let mut order = smaller.clone();
            order.insert(at, n - 1);
            out.push(order);
        }
    }
    out
}
