//! Text normalization for matching Chinese, with every normalized byte mapped back to the original.
//!
//! Rules are written once, in Simplified Chinese without spaces or punctuation. Collectors and
//! speech-to-text produce Traditional characters, full-width letters, stray spaces, punctuation and
//! zero-width characters inside words (`老 赖`, `老-赖`, `老賴`). Matching runs on the normalized text;
//! spans are mapped back through [`Normalized::original_span`], so a finding always points at the
//! exact original characters, whatever was skipped in between.

use crate::fold::simplified_char;

/// The normalized form of a text and the way back to the original byte offsets.
#[derive(Debug, Clone)]
pub struct Normalized {
    /// Simplified, half-width, lower-case text with ignorable characters removed.
    pub text: String,
    /// For each byte of `text`: the original byte offsets where its character starts and ends.
    origin: Vec<[u32; 2]>,
    /// Normalized byte offsets where a clause ends (sentence punctuation or a line break was removed
    /// there). Negation never reaches across a clause break.
    clause_breaks: Vec<usize>,
    /// The subset of `clause_breaks` that end a sentence (。！？；, a line break), not just a
    /// clause (，、): a frame scoped to a sentence may cross a comma but not a full stop.
    sentence_breaks: Vec<usize>,
    /// Normalized spans between quotation marks (“…”, 「…」, '…'): words a speaker quotes.
    quoted: Vec<(usize, usize)>,
}

/// Interjections of hesitation that speech-to-text writes out (嗯, 呃, 额 is a word too often).
fn is_filler(c: char) -> bool {
    matches!(c, '嗯' | '呃')
}

/// Opening and closing quotation marks (`"` and `'`, which open and close in turn, are handled
/// where they are met).
fn quote_mark(c: char) -> Option<bool> {
    match c {
        '“' | '「' | '『' | '‘' | '«' | '〝' => Some(true),
        '”' | '」' | '』' | '’' | '»' | '〞' => Some(false),
        _ => None,
    }
}

/// Clause breaks that also end a sentence.
fn is_sentence_break(c: char) -> bool {
    matches!(
        c,
        '。' | '！' | '？' | '；' | '!' | '?' | ';' | '\n' | '\r' | '…' | '｡'
    )
}

/// Characters that end a clause: negation and context cues stop here.
fn is_clause_break(c: char) -> bool {
    matches!(
        c,
        '。' | '！'
            | '？'
            | '；'
            | '，'
            | '!'
            | '?'
            | ';'
            | ','
            | '.'
            | '\n'
            | '\r'
            | '…'
            | '｡'
            | '､'
            | '、'
    )
}

/// Characters that carry no meaning for matching and may be slipped between the characters of a
/// phrase: whitespace, punctuation, zero-width and formatting characters, emoji.
fn is_ignorable(c: char) -> bool {
    if c.is_whitespace() || c.is_ascii_punctuation() || c.is_control() {
        return true;
    }
    // 【 】 frame an SMS sender's name (【某某法院】), which says who claims to be writing: they stay
    // in the text so that a pattern can tell a sender tag from the same words in a sentence.
    if matches!(c, '【' | '】') {
        return false;
    }
    let u = u32::from(c);
    matches!(u,
        0x00A0..=0x00BF            // Latin-1 punctuation and symbols (nbsp, ·, «, ¬, soft hyphen…)
        | 0x2000..=0x206F          // general punctuation, zero-width spaces and joiners, word joiner
        | 0x2190..=0x21FF          // arrows
        | 0x2500..=0x27BF          // box drawing, shapes, dingbats, misc symbols
        | 0x3000..=0x3006          // ideographic space and CJK punctuation
        | 0x3008..=0x303F          // CJK brackets and marks (U+3007 〇 is a numeral and stays)
        | 0xFE10..=0xFE1F          // vertical forms
        | 0xFE30..=0xFE6F          // CJK compatibility and small forms
        | 0xFEFF                   // byte-order mark / zero-width no-break space
        | 0xFF61..=0xFF65          // half-width CJK punctuation
        | 0x1F000..=0x1FAFF        // emoji and pictographs
        | 0xE0000..=0xE007F        // tag characters
        | 0xFE00..=0xFE0F          // variation selectors
    )
}

/// The CJK ideograph (Unified or Extension A, U+3400–U+9FFF) whose UTF-8 encoding starts at
/// `bytes[at] == lead`, or `None` for any other character.
#[inline(always)]
fn cjk_ideograph_at(bytes: &[u8], at: usize, lead: u8) -> Option<char> {
    // U+3400–U+9FFF are the three-byte sequences with lead bytes E3–E9.
    if !(0xE3..=0xE9).contains(&lead) {
        return None;
    }
    let (b1, b2) = (*bytes.get(at + 1)?, *bytes.get(at + 2)?);
    let u = (u32::from(lead & 0x0F) << 12) | (u32::from(b1 & 0x3F) << 6) | u32::from(b2 & 0x3F);
    if u < 0x3400 || (0x4DC0..0x4E00).contains(&u) {
        return None;
    }
    char::from_u32(u)
}

/// Full-width ASCII forms become ASCII; then case folds when it folds to a single character.
fn fold_width_and_case(c: char) -> char {
    let u = u32::from(c);
    let c = if (0xFF01..=0xFF5E).contains(&u) {
        char::from_u32(u - 0xFEE0).unwrap_or(c)
    } else {
        c
    };
    if c.is_ascii() {
        return c.to_ascii_lowercase();
    }
    // CJK ideographs, kana, hangul and CJK symbols have no case; skipping the case tables for
    // them saves a table search on nearly every character of a Chinese text.
    if (0x2E80..=0xFEFF).contains(&u32::from(c)) || u32::from(c) >= 0x20000 {
        return c;
    }
    let mut lower = c.to_lowercase();
    match (lower.next(), lower.next()) {
        (Some(l), None) => l,
        _ => c,
    }
}

impl Normalized {
    /// Normalizes `original` in one pass. Linear in its length.
    pub fn new(original: &str) -> Self {
        let bytes = original.as_bytes();
        let mut text = String::with_capacity(original.len());
        let mut origin = Vec::with_capacity(original.len());
        let mut clause_breaks = Vec::new();
        let mut sentence_breaks = Vec::new();
        let mut quoted = Vec::new();
        let mut open_quote: Option<usize> = None;
        let mut at = 0;
        while let Some(&lead) = bytes.get(at) {
            // Nearly every character of a Chinese text is a three-byte ideograph with no clause
            // break, nothing to skip and no width or case: it is copied (or swapped for its
            // Simplified form) without decoding it into a char first.
            if let Some(ideograph) = cjk_ideograph_at(bytes, at, lead) {
                // Hesitation sounds from speech-to-text (你必须嗯今天还) carry nothing and are
                // skipped like punctuation, so a phrase reads through them.
                if is_filler(ideograph) {
                    at += 3;
                    continue;
                }
                let span = [at as u32, (at + 3) as u32];
                origin.push(span);
                origin.push(span);
                origin.push(span);
                text.push(simplified_char(ideograph));
                at += 3;
                continue;
            }
            let Some(c) = original.get(at..).and_then(|rest| rest.chars().next()) else {
                break;
            };
            let width = c.len_utf8();
            let offset = at;
            at += width;
            if is_clause_break(c) {
                if clause_breaks.last() != Some(&text.len()) {
                    clause_breaks.push(text.len());
                }
                if is_sentence_break(c) && sentence_breaks.last() != Some(&text.len()) {
                    sentence_breaks.push(text.len());
                }
                // A quotation left open does not run past its sentence.
                if is_sentence_break(c) {
                    open_quote = None;
                }
                continue;
            }
            if is_ignorable(c) || is_ignorable(fold_width_and_case(c)) {
                let mark = fold_width_and_case(c);
                // An apostrophe inside a word (don't) is not a quotation mark.
                let in_word = mark == '\''
                    && text
                        .chars()
                        .next_back()
                        .is_some_and(|p| p.is_ascii_alphanumeric());
                let opens = match (mark, open_quote) {
                    ('"' | '\'', None) if !in_word => Some(true),
                    ('"' | '\'', Some(_)) => Some(false),
                    _ => quote_mark(mark),
                };
                match (opens, open_quote) {
                    (Some(true), _) => open_quote = Some(text.len()),
                    (Some(false), Some(from)) => {
                        if from < text.len() {
                            quoted.push((from, text.len()));
                        }
                        open_quote = None;
                    }
                    _ => {}
                }
                continue;
            }
            let folded = fold_width_and_case(simplified_char(c));
            if folded != c && is_ignorable(folded) {
                continue;
            }
            let span = [offset as u32, (offset + width) as u32];
            for _ in 0..folded.len_utf8() {
                origin.push(span);
            }
            text.push(folded);
        }
        Normalized {
            text,
            origin,
            clause_breaks,
            sentence_breaks,
            quoted,
        }
    }

    /// The quoted span (between quotation marks) that holds all of `start..end`, if any.
    pub fn quote_around(&self, start: usize, end: usize) -> Option<(usize, usize)> {
        self.quoted
            .iter()
            .copied()
            .find(|&(from, to)| from <= start && end <= to)
    }

    /// Maps a span of the normalized text (byte offsets, non-empty, on character boundaries) to
    /// the original text. The result starts at the first matched character and ends after the
    /// last one, so skipped characters inside the match are covered and those around it are not.
    pub fn original_span(&self, start: usize, end: usize) -> Option<(usize, usize)> {
        if end <= start {
            return None;
        }
        let [s, _] = *self.origin.get(start)?;
        let [_, e] = *self.origin.get(end - 1)?;
        Some((s as usize, e as usize))
    }

    /// Normalized byte offsets where clauses end, in increasing order.
    pub fn clause_breaks(&self) -> &[usize] {
        &self.clause_breaks
    }

    /// Start of the clause containing normalized offset `at`.
    pub fn clause_start(&self, at: usize) -> usize {
        self.unit_around(at, at, false).0
    }

    /// End of the clause containing normalized offset `at` (exclusive).
    pub fn clause_end(&self, at: usize) -> usize {
        let idx = self.clause_breaks.partition_point(|&b| b <= at);
        self.clause_breaks
            .get(idx)
            .copied()
            .unwrap_or(self.text.len())
    }

    /// Sentence breaks, or every clause break.
    fn breaks(&self, sentence: bool) -> &[usize] {
        if sentence {
            &self.sentence_breaks
        } else {
            &self.clause_breaks
        }
    }

    /// Whether a clause break (or, with `sentence_only`, a sentence break) lies strictly inside
    /// the normalized span `start..end`.
    pub fn breaks_inside(&self, start: usize, end: usize, sentence_only: bool) -> bool {
        let breaks = self.breaks(sentence_only);
        let first_after_start = breaks.partition_point(|&b| b <= start);
        breaks.get(first_after_start).is_some_and(|&b| b < end)
    }

    /// Start and end of the sentence (or clause) around the normalized span `start..end`.
    pub fn unit_around(&self, start: usize, end: usize, sentence: bool) -> (usize, usize) {
        let breaks = self.breaks(sentence);
        let before = breaks.partition_point(|&b| b <= start);
        let from = match before {
            0 => 0,
            i => breaks.get(i - 1).copied().unwrap_or(0),
        };
        let after = breaks.partition_point(|&b| b < end);
        let to = breaks.get(after).copied().unwrap_or(self.text.len());
        (from, to.max(end))
    }

    /// The normalized text between two byte offsets, widened to character boundaries.
    pub fn slice(&self, start: usize, end: usize) -> &str {
        let mut s = start.min(self.text.len());
        while s > 0 && !self.text.is_char_boundary(s) {
            s -= 1;
        }
        let mut e = end.min(self.text.len()).max(s);
        while e < self.text.len() && !self.text.is_char_boundary(e) {
            e += 1;
        }
        self.text.get(s..e).unwrap_or("")
    }
}

/// Normalizes a rule phrase the same way as the text it will be matched against.
pub fn normalize_phrase(phrase: &str) -> String {
    Normalized::new(phrase).text
}

/// Converts UTF-8 byte offsets into UTF-16 code-unit offsets (a JavaScript string index) in one
/// pass over `text`. `offsets` may be in any order; each answer is at the same index.
pub fn utf16_offsets(text: &str, offsets: &[usize]) -> Vec<usize> {
    let mut order: Vec<usize> = (0..offsets.len()).collect();
    order.sort_by_key(|&i| offsets.get(i).copied().unwrap_or(0));
    let mut answers = vec![0usize; offsets.len()];
    let (mut at, mut units) = (0usize, 0usize);
    for i in order {
        let target = offsets.get(i).copied().unwrap_or(0).min(text.len());
        // Every byte that starts a character is one UTF-16 unit; a four-byte character is a
        // surrogate pair, one more.
        if let Some(stretch) = text.get(at..target) {
            units += stretch.chars().count() + stretch.bytes().filter(|&b| b >= 0xF0).count();
            at = target;
        }
        if let Some(slot) = answers.get_mut(i) {
            *slot = units;
        }
    }
    answers
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hesitation_sounds_are_skipped() {
        let n = Normalized::new("你必须嗯今天呃还");
        assert_eq!(n.text, "你必须今天还");
    }

    #[test]
    fn folds_traditional_width_case_and_skips_noise() {
        let n = Normalized::new("老 賴，ＡＢＣ\u{200B}d");
        assert_eq!(n.text, "老赖abcd");
    }

    #[test]
    fn maps_spans_back_over_skipped_characters() {
        let original = "你这个老-賴！";
        let n = Normalized::new(original);
        let at = n.text.find("老赖").unwrap_or(usize::MAX);
        let (s, e) = n.original_span(at, at + "老赖".len()).unwrap_or((0, 0));
        assert_eq!(&original[s..e], "老-賴");
    }

    #[test]
    fn clause_bounds_stop_at_sentence_punctuation() {
        let n = Normalized::new("我不能保证，但可以减免");
        let at = n.text.find("减免").unwrap_or(0);
        assert_eq!(n.slice(n.clause_start(at), at), "但可以");
    }

    #[test]
    fn utf16_offsets_count_surrogate_pairs() {
        let text = "😀𠀀老赖";
        let start = text.find("老").unwrap_or(0);
        assert_eq!(utf16_offsets(text, &[start, text.len(), 0]), vec![4, 6, 0]);
    }
}
