//! Every regex pattern of a pack in one forward pass over the text.
//!
//! A `RegexSet` only says which patterns match somewhere; each of those then had to search the
//! whole text again for its spans, and in WebAssembly (no SIMD literal prefilters) those second
//! searches cost more than everything else in `check`. Here one overlapping lazy-DFA pass reports
//! every (pattern, end) and a short anchored reverse search from each end finds the leftmost
//! start, the way the regex crate itself finds a match's start.

use regex_automata::hybrid::dfa::{Cache, OverlappingState, DFA};
use regex_automata::nfa::thompson;
use regex_automata::util::pool::Pool;
use regex_automata::{Anchored, Input, MatchKind};
use std::sync::Arc;

type Caches = (Cache, Cache);
type MakeCaches = Box<dyn Fn() -> Caches + Send + Sync>;

pub struct PatternScanner {
    forward: Arc<DFA>,
    reverse: Arc<DFA>,
    /// Lazy DFAs fill their transition tables as they search; keeping the caches between calls
    /// is what makes them fast.
    caches: Pool<Caches, MakeCaches>,
}

/// A match of pattern `pattern` (index into the patterns given to [`PatternScanner::new`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PatternMatch {
    pub pattern: usize,
    pub start: usize,
    pub end: usize,
}

impl PatternScanner {
    pub fn new(patterns: &[&str]) -> Result<Self, String> {
        let forward = DFA::builder()
            .configure(
                DFA::config()
                    .match_kind(MatchKind::All)
                    // 8 MiB began to thrash (a cache clear every few bytes, ~50 ms for the draft)
                    // once ~320 patterns with gaps shared one overlapping DFA; the cache only
                    // grows as far as a text needs.
                    .cache_capacity(32 << 20),
            )
            .build_many(patterns)
            .map_err(|e| e.to_string())?;
        let reverse = DFA::builder()
            .configure(
                DFA::config()
                    .match_kind(MatchKind::All)
                    .starts_for_each_pattern(true)
                    // The default 2 MiB is below the minimum once a pack has ~300 patterns with
                    // concept alternations (every pattern gets its own anchored start states).
                    .cache_capacity(8 << 20),
            )
            .thompson(thompson::Config::new().reverse(true))
            .build_many(patterns)
            .map_err(|e| e.to_string())?;
        let (forward, reverse) = (Arc::new(forward), Arc::new(reverse));
        let (f, r) = (Arc::clone(&forward), Arc::clone(&reverse));
        let make: MakeCaches = Box::new(move || (f.create_cache(), r.create_cache()));
        Ok(PatternScanner {
            forward,
            reverse,
            caches: Pool::new(make),
        })
    }

    /// How many times the lazy DFAs have thrown their states away for lack of room (forward,
    /// reverse). A count that grows on ordinary text means the cache is too small for the pack
    /// and every search rebuilds states byte by byte.
    pub fn cache_clears(&self) -> (usize, usize) {
        let guard = self.caches.get();
        (guard.0.clear_count(), guard.1.clear_count())
    }

    /// Every non-empty match: each end where a pattern matches, with the leftmost start that
    /// reaches it. `None` when the lazy DFA gave up (the caller then searches pattern by pattern).
    pub fn scan(&self, text: &str) -> Option<Vec<PatternMatch>> {
        let mut guard = self.caches.get();
        let (fwd_cache, rev_cache) = &mut *guard;
        let input = Input::new(text);
        let mut state = OverlappingState::start();
        let mut found = Vec::new();
        loop {
            self.forward
                .try_search_overlapping_fwd(fwd_cache, &input, &mut state)
                .ok()?;
            let Some(end) = state.get_match() else { break };
            let pattern = end.pattern();
            let back = Input::new(text)
                .range(..end.offset())
                .anchored(Anchored::Pattern(pattern));
            let start = self.reverse.try_search_rev(rev_cache, &back).ok()??;
            if start.offset() < end.offset() {
                found.push(PatternMatch {
                    pattern: pattern.as_usize(),
                    start: start.offset(),
                    end: end.offset(),
                });
            }
        }
        Some(found)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_every_pattern_with_its_leftmost_start() {
        let scanner = PatternScanner::new(&[r"\d+(元|块)", "让你.{0,6}(好看|后悔)", "不存在"]).ok();
        let found = scanner.and_then(|s| s.scan("欠了300元，让你好看，再欠5块"));
        let spans: Vec<(usize, &str)> = found
            .unwrap_or_default()
            .iter()
            .map(|m| (m.pattern, &"欠了300元，让你好看，再欠5块"[m.start..m.end]))
            .collect();
        assert_eq!(spans, vec![(0, "300元"), (1, "让你好看"), (0, "5块")]);
    }
}
