//! Frames: joining the parts a pack's frames are made of, found by the phrase automaton and the
//! pattern pass, into frame matches (in order or any order, within a distance, inside a sentence
//! or clause, without `unless` words, and without a negator between two parts).

use crate::compiled::CompiledPack;
use crate::negation::negator_reaches_end;
use crate::normalize::Normalized;
use crate::pack::FrameScope;

/// Joins the frame parts found in the pattern pass into frame matches: for each frame with every
/// part present, each way of taking the parts in order (every order with `any_order`), each part
/// starting after the previous one ends and at most `within` characters later, all inside one
/// sentence or clause (as the frame's scope says), with no `unless` word in it.
/// Frame matches as (rule, start, end) in normalized byte offsets.
pub(crate) fn frame_hits(
    compiled: &CompiledPack,
    n: &Normalized,
    mut buckets: PartSpans,
) -> Vec<(usize, usize, usize)> {
    let mut hits = Vec::new();
    for &(rule, f, first) in &compiled.frames {
        let Some(frame) = compiled.rule(rule).and_then(|r| r.frames.get(f)) else {
            continue;
        };
        let parts = first..first + frame.parts.len();
        let present: Vec<usize> = (0..frame.parts.len())
            .filter(|&i| !buckets.is_empty(first + i))
            .collect();
        if present.len() < frame.at_least.unwrap_or(frame.parts.len()) {
            continue;
        }
        for &i in &present {
            buckets.sort(first + i);
        }
        let spans: Vec<&[(usize, usize)]> = parts.map(|b| buckets.get(b)).collect();
        let n_of;
        let orders = match frame.at_least {
            Some(n) => {
                n_of = n_of_orders(&present, n);
                &n_of
            }
            None => &frame.orders,
        };
        let mut joined = Vec::new();
        for order in orders {
            let ordered: Vec<&[(usize, usize)]> = order
                .iter()
                .filter_map(|&i| spans.get(i).copied())
                .collect();
            for &(start, end) in ordered.first().copied().into_iter().flatten() {
                join_from(
                    n,
                    frame,
                    &ordered,
                    1,
                    start,
                    end,
                    &mut Vec::new(),
                    &mut joined,
                );
            }
        }
        let negatable = compiled.rule(rule).is_some_and(|r| r.negatable);
        for (start, end, gaps) in joined {
            // A negator between two parts turns the frame around (账户没有被冻结,
            // 不还的话我们也不会去你家): the parts are there, the meaning is not.
            if negatable
                && gaps
                    .iter()
                    .any(|&(from, to)| negator_reaches_end(compiled, n.slice(from, to)))
            {
                continue;
            }
            let held = match frame.scope {
                FrameScope::Text => unless_absent(frame, &n.text),
                scope => {
                    let sentence = scope == FrameScope::Sentence;
                    !n.breaks_inside(start, end, sentence) && {
                        let (from, to) = n.unit_around(start, end, sentence);
                        unless_absent(frame, n.slice(from, to))
                    }
                }
            };
            if held {
                hits.push((rule, start, end));
            }
        }
    }
    hits
}

/// The spans of every frame part found in one check, grouped by bucket in one array (bucket `b`
/// holds `spans[starts[b]..starts[b + 1]]`): a `Vec` per bucket meant hundreds of small
/// allocations per check.
pub(crate) struct PartSpans {
    starts: Vec<usize>,
    spans: Vec<(usize, usize)>,
}

impl PartSpans {
    /// Groups `(bucket, start, end)` triples by bucket (a counting sort: buckets are dense ids).
    pub(crate) fn group(found: Vec<(u32, usize, usize)>, buckets: usize) -> Self {
        let mut starts = vec![0usize; buckets + 2];
        for &(b, _, _) in &found {
            if let Some(count) = starts.get_mut(b as usize + 2) {
                *count += 1;
            }
        }
        for i in 1..starts.len() {
            let before = starts.get(i - 1).copied().unwrap_or(0);
            if let Some(here) = starts.get_mut(i) {
                *here += before;
            }
        }
        // starts[b + 1] is now where bucket b begins; filling moves it to where b ends.
        let mut spans = vec![(0, 0); found.len()];
        for (b, start, end) in found {
            if let Some(next) = starts.get_mut(b as usize + 1) {
                if let Some(slot) = spans.get_mut(*next) {
                    *slot = (start, end);
                }
                *next += 1;
            }
        }
        starts.pop();
        PartSpans { starts, spans }
    }

    fn range(&self, bucket: usize) -> std::ops::Range<usize> {
        let at = |i: usize| self.starts.get(i).copied().unwrap_or(0);
        at(bucket)..at(bucket + 1)
    }

    fn is_empty(&self, bucket: usize) -> bool {
        self.range(bucket).is_empty()
    }

    fn sort(&mut self, bucket: usize) {
        let range = self.range(bucket);
        if let Some(list) = self.spans.get_mut(range) {
            list.sort_unstable();
        }
    }

    fn get(&self, bucket: usize) -> &[(usize, usize)] {
        self.spans.get(self.range(bucket)).unwrap_or(&[])
    }
}

/// At most this many orders are tried for an N-of frame in one text (twelve parts all present
/// with `at_least = 4` would be 11,880).
const MAX_N_OF_ORDERS: usize = 256;

/// The orders an N-of frame is joined in: every arrangement of every `n` of the parts `present`.
fn n_of_orders(present: &[usize], n: usize) -> Vec<Vec<usize>> {
    let arrangements = crate::pack::permutations(n);
    let mut orders = Vec::new();
    let mut chosen = Vec::with_capacity(n);
    combinations(present, n, 0, &mut chosen, &mut |combo| {
        for arrangement in &arrangements {
            if orders.len() >= MAX_N_OF_ORDERS {
                return;
            }
            orders.push(
                arrangement
                    .iter()
                    .filter_map(|&i| combo.get(i).copied())
                    .collect(),
            );
        }
    });
    orders
}

/// Calls `visit` with every `n`-element subset of `items` (in order), built up in `chosen`.
fn combinations(
    items: &[usize],
    n: usize,
    from: usize,
    chosen: &mut Vec<usize>,
    visit: &mut dyn FnMut(&[usize]),
) {
    if chosen.len() == n {
        visit(chosen);
        return;
    }
    for (k, &item) in items.iter().enumerate().skip(from) {
        chosen.push(item);
        combinations(items, n, k + 1, chosen, visit);
        chosen.pop();
    }
}

/// At most this many joined matches per frame and text: a long text full of one part cannot
/// make the joining combinatorial.
const MAX_JOINED: usize = 64;

/// A frame match: its span and the gaps between its parts.
type Joined = (usize, usize, Vec<(usize, usize)>);

#[expect(
    clippy::too_many_arguments,
    reason = "the recursion's state, kept on the stack"
)]
/// Extends a partial frame match `start..end` (with the `gaps` between its parts so far) by part
/// `k` of `ordered` and the parts after it.
fn join_from(
    n: &Normalized,
    frame: &crate::pack::Frame,
    ordered: &[&[(usize, usize)]],
    k: usize,
    start: usize,
    end: usize,
    gaps: &mut Vec<(usize, usize)>,
    out: &mut Vec<Joined>,
) {
    if out.len() >= MAX_JOINED {
        return;
    }
    let Some(candidates) = ordered.get(k) else {
        out.push((start, end, gaps.clone()));
        return;
    };
    let within = frame.within as usize;
    // Candidates are sorted by start. A character is at most four bytes, so a part starting
    // more than 4 × `within` bytes later is out of reach, and so is every part after it.
    let first = candidates.partition_point(|&(s, _)| s < end);
    for &(s, e) in candidates.iter().skip(first) {
        if s - end > within.saturating_mul(4) {
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

fn unless_absent(frame: &crate::pack::Frame, around: &str) -> bool {
    frame
        .unless_words
        .as_ref()
        .is_none_or(|words| !words.is_match(around))
}

#[cfg(test)]
#[path = "frame_tests.rs"]
mod frame_tests;
