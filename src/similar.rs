//! Similar sentences: a rule may list example sentences and match a clause that is close to one
//! of them, so a paraphrase of a known violation is caught where none of its listed words is.
//!
//! Closeness is the Dice coefficient of character bigrams of the normalized texts (2 × shared ÷
//! (bigrams of one + bigrams of the other)). An inverted index from bigram to example makes one
//! clause cost its own bigrams' postings, not one comparison per example.

use crate::normalize::Normalized;

/// One example sentence of one rule.
struct Example {
    rule: usize,
    bigrams: u32,
    threshold: f32,
}

/// Every example sentence of a pack, indexed by bigram.
#[derive(Default)]
pub struct SimilarIndex {
    examples: Vec<Example>,
    /// Bigram (two chars packed in a u64) → the examples holding it, sorted by bigram.
    postings: Vec<(u64, Vec<u32>)>,
    /// One bit per bigram hash: set when some example has a bigram with that hash.
    filter: Vec<u64>,
    longest: usize,
}

/// The distinct character bigrams of `text`, each packed in a u64, into `out`.
fn bigrams_into(text: &str, out: &mut Vec<u64>) {
    out.clear();
    let mut chars = text.chars();
    let Some(mut prev) = chars.next() else {
        return;
    };
    for c in chars {
        out.push((u64::from(prev) << 32) | u64::from(c));
        prev = c;
    }
    out.sort_unstable();
    out.dedup();
}

/// Bits of the bigram filter: a bigram whose bit is clear is in no example.
const FILTER_BITS: usize = 4096;

fn filter_bit(pair: u64) -> usize {
    ((pair >> 32)
        .wrapping_mul(31)
        .wrapping_add(pair & 0xFFFF_FFFF) as usize)
        % FILTER_BITS
}

impl SimilarIndex {
    /// Adds rule `rule`'s example sentences (normalized) with its threshold.
    pub fn add(&mut self, rule: usize, examples: &[String], threshold: f32) {
        if self.filter.is_empty() {
            self.filter = vec![0u64; FILTER_BITS / 64];
        }
        let mut pairs = Vec::new();
        for example in examples {
            bigrams_into(example, &mut pairs);
            if pairs.is_empty() {
                continue;
            }
            let id = self.examples.len() as u32;
            self.longest = self.longest.max(example.chars().count());
            self.examples.push(Example {
                rule,
                bigrams: pairs.len() as u32,
                threshold,
            });
            for &pair in &pairs {
                let bit = filter_bit(pair);
                if let Some(word) = self.filter.get_mut(bit / 64) {
                    *word |= 1 << (bit % 64);
                }
                match self.postings.binary_search_by_key(&pair, |(k, _)| *k) {
                    Ok(at) => {
                        if let Some((_, ids)) = self.postings.get_mut(at) {
                            ids.push(id);
                        }
                    }
                    Err(at) => self.postings.insert(at, (pair, vec![id])),
                }
            }
        }
    }

    pub fn is_empty(&self) -> bool {
        self.examples.is_empty()
    }

    /// The posting of `pair`, if some example has it.
    fn posting(&self, pair: u64) -> Option<usize> {
        let bit = filter_bit(pair);
        let set = self
            .filter
            .get(bit / 64)
            .is_some_and(|w| w & (1 << (bit % 64)) != 0);
        if !set {
            return None;
        }
        self.postings.binary_search_by_key(&pair, |(k, _)| *k).ok()
    }

    /// Clauses of `n` (and, in a clause much longer than the longest example — speech-to-text
    /// without punctuation — overlapping windows of that length) close enough to an example of
    /// an active rule: (rule, start, end) in normalized bytes.
    pub fn matches(&self, n: &Normalized, active: &[bool]) -> Vec<(usize, usize, usize)> {
        let mut found = Vec::new();
        if !self
            .examples
            .iter()
            .any(|e| active.get(e.rule).copied().unwrap_or(false))
        {
            return found;
        }
        // Allocated on the first clause that shares a bigram with some example: a short text
        // usually shares none, and these are as long as the examples and the postings.
        let mut shared: Vec<u32> = Vec::new();
        let mut seen: Vec<u32> = Vec::new();
        let mut touched: Vec<u32> = Vec::new();
        // Per clause: byte offset of every character, and (character index, posting) of every
        // bigram that some example has. Most bigrams are in none, and cost one bit test.
        let mut offsets: Vec<usize> = Vec::new();
        let mut hits: Vec<(usize, usize)> = Vec::new();
        let mut window_id = 0u32;
        let mut unit_start = 0;
        let ends = n.clause_breaks().iter().copied().chain([n.text.len()]);
        for unit_end in ends {
            offsets.clear();
            hits.clear();
            let mut prev: Option<char> = None;
            for (i, c) in n.slice(unit_start, unit_end).char_indices() {
                offsets.push(unit_start + i);
                if let Some(p) = prev {
                    let pair = (u64::from(p) << 32) | u64::from(c);
                    if let Some(posting) = self.posting(pair) {
                        hits.push((offsets.len() - 2, posting));
                    }
                }
                prev = Some(c);
            }
            let chars = offsets.len();
            let width = if chars <= 2 * self.longest.max(1) {
                chars
            } else {
                self.longest.max(2)
            };
            let step = (width / 3).max(1);
            if !hits.is_empty() && shared.is_empty() {
                shared = vec![0u32; self.examples.len()];
                seen = vec![u32::MAX; self.postings.len()];
            }
            let mut from = 0;
            while from < chars && !hits.is_empty() {
                let to = (from + width).min(chars);
                window_id = window_id.wrapping_add(1);
                for &(at, posting) in &hits {
                    // A bigram counts once per window, and only when both characters are in it.
                    if at < from || at + 1 >= to {
                        continue;
                    }
                    let Some(stamp) = seen.get_mut(posting) else {
                        continue;
                    };
                    if *stamp == window_id {
                        continue;
                    }
                    *stamp = window_id;
                    for &id in self
                        .postings
                        .get(posting)
                        .map(|(_, ids)| ids)
                        .into_iter()
                        .flatten()
                    {
                        if let Some(count) = shared.get_mut(id as usize) {
                            if *count == 0 {
                                touched.push(id);
                            }
                            *count += 1;
                        }
                    }
                }
                let window_bigrams = (to - from).saturating_sub(1) as u32;
                for &id in &touched {
                    let (Some(example), Some(count)) =
                        (self.examples.get(id as usize), shared.get_mut(id as usize))
                    else {
                        continue;
                    };
                    let dice = 2.0 * *count as f32 / (window_bigrams + example.bigrams) as f32;
                    if dice >= example.threshold
                        && active.get(example.rule).copied().unwrap_or(false)
                    {
                        let start = offsets.get(from).copied().unwrap_or(unit_start);
                        let end = offsets.get(to).copied().unwrap_or(unit_end);
                        found.push((example.rule, start, end));
                    }
                    *count = 0;
                }
                touched.clear();
                if to >= chars {
                    break;
                }
                from += step;
            }
            unit_start = unit_end;
        }
        found
    }
}

#[cfg(test)]
mod tests {
    use super::SimilarIndex;
    use crate::normalize::Normalized;

    #[test]
    fn a_close_paraphrase_matches_and_an_unrelated_clause_does_not() {
        let mut index = SimilarIndex::default();
        let example = crate::normalize::normalize_phrase("我们的人随时都能找到你");
        index.add(0, &[example], 0.5);
        let found = |text: &str| {
            let n = Normalized::new(text);
            index
                .matches(&n, &[true])
                .iter()
                .map(|&(_, s, e)| n.slice(s, e).to_string())
                .collect::<Vec<_>>()
        };
        assert_eq!(
            found("你听好，我们的人随时能找到你。"),
            ["我们的人随时能找到你"]
        );
        assert!(found("我们随时欢迎您来电咨询").is_empty());
        // An inactive rule's examples never match.
        let n = Normalized::new("我们的人随时都能找到你");
        assert!(index.matches(&n, &[false]).is_empty());
    }

    #[test]
    fn long_unpunctuated_speech_is_compared_in_windows() {
        let mut index = SimilarIndex::default();
        index.add(
            0,
            &[crate::normalize::normalize_phrase("我们的人随时都能找到你")],
            0.5,
        );
        let speech = "那个就是说你这个钱呢一直拖着也不是个办法我跟你讲我们的人随时都能找到你你自己想想吧嗯就这样";
        let n = Normalized::new(speech);
        assert!(!index.matches(&n, &[true]).is_empty());
    }
}
