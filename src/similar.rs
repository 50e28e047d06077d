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

impl SimilarIndex {
    /// Adds rule `rule`'s example sentences (normalized) with its threshold.
    pub fn add(&mut self, rule: usize, examples: &[String], threshold: f32) {
        let mut pairs = Vec::new();
        for example in examples {
            bigrams_into(example, &mut pairs);
            if pairs.is_empty() {
                continue;
            }
            let id = self.examples.len() as u32;
            let chars = example.chars().count();
            self.longest = self.longest.max(chars);
            self.examples.push(Example {
                rule,
                bigrams: pairs.len() as u32,
                threshold,
            });
            for &pair in &pairs {
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

    /// Clauses of `n` (and, in a clause much longer than the longest example — speech-to-text
    /// without punctuation — overlapping windows of that length) close enough to an example of
    /// an active rule: (rule, start, end) in normalized bytes.
    pub fn matches(&self, n: &Normalized, active: &[bool]) -> Vec<(usize, usize, usize)> {
        let mut found = Vec::new();
        if self.examples.is_empty() {
            return found;
        }
        let mut shared = vec![0u32; self.examples.len()];
        let mut touched: Vec<u32> = Vec::new();
        let mut pairs = Vec::new();
        let mut unit_start = 0;
        let ends = n.clause_breaks().iter().copied().chain([n.text.len()]);
        for unit_end in ends {
            for (start, end) in self.windows(n, unit_start, unit_end) {
                bigrams_into(n.slice(start, end), &mut pairs);
                for pair in &pairs {
                    let Ok(at) = self.postings.binary_search_by_key(pair, |(k, _)| *k) else {
                        continue;
                    };
                    for &id in self
                        .postings
                        .get(at)
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
                for &id in &touched {
                    let (Some(example), Some(count)) =
                        (self.examples.get(id as usize), shared.get_mut(id as usize))
                    else {
                        continue;
                    };
                    let dice = 2.0 * *count as f32 / (pairs.len() as u32 + example.bigrams) as f32;
                    if dice >= example.threshold
                        && active.get(example.rule).copied().unwrap_or(false)
                    {
                        found.push((example.rule, start, end));
                    }
                    *count = 0;
                }
                touched.clear();
            }
            unit_start = unit_end;
        }
        found
    }

    /// The stretch `start..end` itself, or windows of the longest example's length stepping a
    /// third of it when the stretch is more than twice as long.
    fn windows(&self, n: &Normalized, start: usize, end: usize) -> Vec<(usize, usize)> {
        let text = n.slice(start, end);
        let offsets: Vec<usize> = text.char_indices().map(|(i, _)| start + i).collect();
        if offsets.len() <= 2 * self.longest.max(1) {
            return if offsets.is_empty() {
                Vec::new()
            } else {
                vec![(start, end)]
            };
        }
        let width = self.longest.max(2);
        let step = (width / 3).max(1);
        let mut out = Vec::new();
        let mut at = 0;
        while at < offsets.len() {
            let from = offsets.get(at).copied().unwrap_or(end);
            let to = offsets.get(at + width).copied().unwrap_or(end);
            out.push((from, to));
            if at + width >= offsets.len() {
                break;
            }
            at += step;
        }
        out
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
