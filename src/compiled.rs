//! A pack compiled for matching: one Aho-Corasick automaton over every literal phrase of every
//! rule, one `RegexSet` over the patterns, and the call-level cue regexes. Built once per pack.

use crate::model::{Problem, Severity};
use crate::pack::{Pack, Rule};
use crate::patterns::PatternScanner;
use aho_corasick::{AhoCorasick, AhoCorasickBuilder, AhoCorasickKind, MatchKind};
use regex::{Regex, RegexSet, SetMatches};
use std::collections::BTreeMap;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NegatorKind {
    /// Negates the next few characters (不是, 没有).
    Short,
    /// Scopes over a whole verb phrase (请不要…, 不建议…, 无权…).
    Wide,
    /// Looks like a negator but is not one (是不是, 不要脸).
    Exception,
}

/// Words that turn a match around, from the pack's lexicons.
pub struct Negation {
    /// Negators just before a match and look-alikes that are not negators, in one
    /// leftmost-longest automaton so the longest reading wins; `kinds[pattern]` tells which.
    pub before: Option<AhoCorasick>,
    pub kinds: Vec<NegatorKind>,
    /// Negators just after a match (是不可能的, 做不到 …).
    pub after: Option<AhoCorasick>,
    /// Anti-fraud warning cues (警惕, 谨防, 诈骗 …) that clear rules marked `cleared_by_warning`.
    pub warning: Option<AhoCorasick>,
    /// Cues of an accurate explanation of the law (前提是, 法定情形, 可以向法院申请 …) that clear
    /// rules marked `cleared_by_explanation`.
    pub explanation: Option<AhoCorasick>,
    /// Connectives that make a preceding negation belong to a condition (没钱就…, 不还就…).
    pub condition: Option<AhoCorasick>,
    /// Reported speech (您说…, 您问…, 有人跟您讲…, 被当成…): words after it in the clause quote
    /// someone else, so the collector is not saying them.
    pub reported: Option<AhoCorasick>,
    /// Words that, just before a quotation mark, make the quoted words someone else's (说, 称,
    /// 那句, 所谓 …): 同事说您“不要脸” quotes an insult, it does not make one.
    pub quote_cues: Option<AhoCorasick>,
}

pub struct CompiledPack {
    pub pack: Pack,
    /// Overlapping search, so a phrase of one rule never hides a phrase of another.
    pub phrases: Option<AhoCorasick>,
    /// Pattern id of `phrases` → the rules that own the phrase and the frame parts it is a word
    /// of (a part that is a finite set of words, `{family}` or `(帮|替|代)(他|她)`, is searched by
    /// the phrase automaton, not the regex pass).
    pub phrase_owners: PhraseOwners,
    /// One entry per distinct pattern text: several rules share patterns such as amounts of
    /// money, and each distinct pattern is searched once.
    pub pattern_scan: Option<PatternScanner>,
    /// Index in `pattern_scan` → the compiled regex (for captures) and the rules that own it.
    pub patterns: Vec<(Regex, Vec<usize>)>,
    /// Index in `pattern_scan` → the frame parts it is (a part shared by several frames, such as
    /// `{if_unpaid}`, is searched once).
    pub frame_parts: Vec<Vec<FramePart>>,
    /// Every frame as (rule, frame, first bucket): its parts' buckets are consecutive.
    pub frames: Vec<(usize, usize, usize)>,
    /// Buckets of one check: one per part of every frame.
    pub frame_buckets: usize,
    pub negation: Negation,
    /// Rule index → its `except` phrases as one automaton, with the longest phrase's length in
    /// characters (how far around a match an overlapping phrase can reach).
    pub excepts: Vec<Option<(AhoCorasick, usize)>>,
    /// Every rule's example sentences for `similar`, indexed by bigram.
    pub similar: crate::similar::SimilarIndex,
    /// Call cue name → one regex over normalized text.
    pub cues: BTreeMap<String, Regex>,
    /// Every cue in one set, in `cues` order, so a turn is searched once for all of them.
    cue_set: Option<RegexSet>,
    /// Opening / closing requirement groups → one regex each.
    pub opening: Vec<(String, Regex)>,
    pub closing: Vec<(String, Regex)>,
}

/// Every automaton is a full DFA without a prefilter: one table step per byte. Prefilters look
/// for a phrase's first byte, and in Chinese text the lead byte of 不 or 贷 starts every other
/// character, so they fire constantly; without SIMD (WebAssembly) they cost more than the DFA.
pub(crate) fn automaton(words: &[String], kind: MatchKind) -> Result<Option<AhoCorasick>, Problem> {
    build_automaton(words, kind, AhoCorasickKind::DFA)
}

/// The phrase automaton holds every rule phrase and every frame word (~5,600 words). As a full
/// DFA it took 21.7 MB and a quarter of the pack's compile time for no gain in search speed: the
/// table no longer fits in cache, so a contiguous NFA (0.7 MB, dense near the root where most
/// steps happen) searches the draft as fast (~220 µs either way for the whole `check`) and the
/// embedded packs load in 157 ms instead of 224 ms.
fn phrase_automaton(words: &[String]) -> Result<Option<AhoCorasick>, Problem> {
    build_automaton(words, MatchKind::Standard, AhoCorasickKind::ContiguousNFA)
}

fn build_automaton(
    words: &[String],
    kind: MatchKind,
    automaton: AhoCorasickKind,
) -> Result<Option<AhoCorasick>, Problem> {
    if words.is_empty() {
        return Ok(None);
    }
    AhoCorasickBuilder::new()
        .match_kind(kind)
        .kind(Some(automaton))
        .prefilter(false)
        .build(words)
        .map(Some)
        .map_err(|e| {
            Problem::new(
                "pack_too_large",
                format!("cannot build phrase automaton: {e}"),
            )
        })
}

fn lexicon(pack: &Pack, name: &str) -> Vec<String> {
    pack.lexicons.get(name).cloned().unwrap_or_default()
}

/// The words a regex matches when it matches only a finite set of them (`(你|您)(的)?(老婆|孩子)`),
/// or `None` (repetition, `.`, a large class, or too many combinations).
fn finite_words(pattern: &str) -> Option<Vec<String>> {
    use regex_syntax::hir::literal::{ExtractKind, Extractor};
    let hir = regex_syntax::Parser::new().parse(pattern).ok()?;
    // Literal extraction drops anchors (`^`, `$`): an anchored pattern is not a set of words.
    if !hir.properties().look_set().is_empty() {
        return None;
    }
    let mut extractor = Extractor::new();
    extractor
        .kind(ExtractKind::Prefix)
        .limit_class(16)
        .limit_literal_len(64)
        .limit_total(128);
    let seq = extractor.extract(&hir);
    if !seq.is_exact() {
        return None;
    }
    let literals = seq.literals()?;
    let mut words = Vec::with_capacity(literals.len());
    for literal in literals {
        if !literal.is_exact() || literal.as_bytes().is_empty() {
            return None;
        }
        words.push(String::from_utf8(literal.as_bytes().to_vec()).ok()?);
    }
    // As phrase words every occurrence is found, where the regex would have taken the
    // leftmost-first alternative; the per-rule leftmost-longest selection then keeps the longest.
    words.sort();
    words.dedup();
    Some(words)
}

/// One regex that matches when any of `patterns` does.
pub fn alternation(patterns: &[String]) -> Result<Regex, Problem> {
    let joined = patterns
        .iter()
        .map(|p| format!("(?:{p})"))
        .collect::<Vec<_>>()
        .join("|");
    Regex::new(&joined)
        .map_err(|e| Problem::new("invalid_pattern", format!("cannot compile `{joined}`: {e}")))
}

/// The call cues found in one turn ([`CompiledPack::cues_in`]).
pub struct Cues<'a> {
    names: &'a BTreeMap<String, Regex>,
    matched: Option<SetMatches>,
}

impl Cues<'_> {
    /// Whether the named cue matched.
    pub fn has(&self, name: &str) -> bool {
        let index = self.names.keys().position(|n| n == name);
        match (index, &self.matched) {
            (Some(i), Some(matched)) => matched.matched(i),
            _ => false,
        }
    }
}

/// What a match of one phrase word feeds: a rule's own phrase, or a part of a frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PhraseOwner {
    Rule(u32),
    Part { rule: u32, bucket: u32 },
}

/// Every phrase word's owners in one flat array (word `w` owns `entries[starts[w]..starts[w + 1]]`).
/// The draft's ~600 phrase matches each look their owners up; with a `Vec` per word (5,600 of
/// them) each lookup was a cache miss, and the loop around the automaton cost more than the
/// search itself.
#[derive(Debug, Default)]
pub struct PhraseOwners {
    starts: Vec<u32>,
    entries: Vec<PhraseOwner>,
}

impl PhraseOwners {
    fn new(rules: &[Vec<usize>], parts: &[Vec<FramePart>]) -> Self {
        let mut starts = Vec::with_capacity(rules.len() + 1);
        let mut entries = Vec::new();
        let to_u32 = |v: usize| u32::try_from(v).unwrap_or(u32::MAX);
        for word in 0..rules.len() {
            starts.push(to_u32(entries.len()));
            for &rule in rules.get(word).into_iter().flatten() {
                entries.push(PhraseOwner::Rule(to_u32(rule)));
            }
            for part in parts.get(word).into_iter().flatten() {
                entries.push(PhraseOwner::Part {
                    rule: to_u32(part.rule),
                    bucket: to_u32(part.bucket),
                });
            }
        }
        starts.push(to_u32(entries.len()));
        PhraseOwners { starts, entries }
    }

    /// The owners of phrase word `word`.
    pub fn of(&self, word: usize) -> &[PhraseOwner] {
        let at = |i: usize| self.starts.get(i).map_or(0, |&v| v as usize);
        self.entries.get(at(word)..at(word + 1)).unwrap_or(&[])
    }
}

/// Part `part` of frame `frame` of rule `rule`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FramePart {
    pub rule: usize,
    pub frame: usize,
    pub part: usize,
    /// Where this part's matches go in a check's flat list of buckets (see
    /// [`CompiledPack::frame_buckets`]).
    pub bucket: usize,
}

/// Distinct strings (phrases, patterns) in first-seen order, each with the rules that own it:
/// rules share phrases and patterns, and each distinct one is searched once.
#[derive(Default)]
struct Owned {
    items: Vec<String>,
    owners: Vec<Vec<usize>>,
    index: BTreeMap<String, usize>,
}

impl Owned {
    /// The id of `item`, and whether it was new.
    fn intern(&mut self, item: &str) -> (usize, bool) {
        match self.index.get(item) {
            Some(&id) => (id, false),
            None => {
                self.items.push(item.to_string());
                self.owners.push(Vec::new());
                let id = self.items.len() - 1;
                self.index.insert(item.to_string(), id);
                (id, true)
            }
        }
    }

    /// Records that rule `rule` owns `item`; true when `item` was not seen before.
    fn add(&mut self, item: &str, rule: usize) -> bool {
        let (id, new) = self.intern(item);
        if let Some(owners) = self.owners.get_mut(id) {
            if !owners.contains(&rule) {
                owners.push(rule);
            }
        }
        new
    }
}

impl CompiledPack {
    pub fn new(pack: Pack) -> Result<Self, Problem> {
        let mut phrase_owners = Owned::default();
        let mut pattern_owners = Owned::default();
        let mut regexes = Vec::new();
        let mut frame_parts: Vec<Vec<FramePart>> = Vec::new();
        let mut phrase_parts: BTreeMap<usize, Vec<FramePart>> = BTreeMap::new();
        let mut frames = Vec::new();
        let mut frame_buckets = 0;
        let compile = |p: &str, rule: &Rule| {
            Regex::new(p).map_err(|e| {
                Problem::new(
                    "invalid_pattern",
                    format!("pattern `{p}` of rule `{}`: {e}", rule.id),
                )
            })
        };
        for (i, rule) in pack.rules.iter().enumerate() {
            for phrase in &rule.phrases {
                phrase_owners.add(phrase, i);
            }
            // A pattern that matches only a finite set of words is searched as those words by
            // the phrase automaton, unless the rule's suggestion quotes its captures.
            let quotes_captures = rule.suggestion.as_ref().is_some_and(|t| t.contains('$'));
            for p in &rule.patterns {
                if !quotes_captures {
                    if let Some(words) = finite_words(p) {
                        for word in words {
                            phrase_owners.add(&word, i);
                        }
                        continue;
                    }
                }
                if pattern_owners.add(p, i) {
                    regexes.push(compile(p, rule)?);
                    frame_parts.push(Vec::new());
                }
            }
            for (f, frame) in rule.frames.iter().enumerate() {
                frames.push((i, f, frame_buckets));
                let first = frame_buckets;
                frame_buckets += frame.parts.len();
                for (k, p) in frame.parts.iter().enumerate() {
                    let part = FramePart {
                        rule: i,
                        frame: f,
                        part: k,
                        bucket: first + k,
                    };
                    if let Some(words) = finite_words(p) {
                        for word in words {
                            let (id, _) = phrase_owners.intern(&word);
                            phrase_parts.entry(id).or_default().push(part);
                        }
                        continue;
                    }
                    let (id, new) = pattern_owners.intern(p);
                    if new {
                        regexes.push(compile(p, rule)?);
                        frame_parts.push(Vec::new());
                    }
                    if let Some(parts) = frame_parts.get_mut(id) {
                        parts.push(part);
                    }
                }
            }
        }
        let mut similar = crate::similar::SimilarIndex::default();
        for (i, rule) in pack.rules.iter().enumerate() {
            if let Some(s) = &rule.similar {
                similar.add(i, &s.examples, s.threshold);
            }
        }
        let (words, phrase_rules) = (phrase_owners.items, phrase_owners.owners);
        let phrase_frame_parts: Vec<Vec<FramePart>> = (0..words.len())
            .map(|id| phrase_parts.remove(&id).unwrap_or_default())
            .collect();
        let phrase_owners = PhraseOwners::new(&phrase_rules, &phrase_frame_parts);
        let patterns: Vec<(Regex, Vec<usize>)> =
            regexes.into_iter().zip(pattern_owners.owners).collect();
        let phrases = phrase_automaton(&words)?;
        let pattern_scan = if patterns.is_empty() {
            None
        } else {
            let texts: Vec<&str> = patterns.iter().map(|(r, _)| r.as_str()).collect();
            Some(PatternScanner::new(&texts).map_err(|e| {
                Problem::new(
                    "invalid_pattern",
                    format!("cannot build pattern scanner: {e}"),
                )
            })?)
        };

        let mut before_words = Vec::new();
        let mut kinds = Vec::new();
        for (name, kind) in [
            ("negation_before", NegatorKind::Short),
            ("negation_before_wide", NegatorKind::Wide),
            ("negation_exceptions", NegatorKind::Exception),
        ] {
            for word in lexicon(&pack, name) {
                before_words.push(word);
                kinds.push(kind);
            }
        }
        let negation = Negation {
            before: automaton(&before_words, MatchKind::LeftmostLongest)?,
            kinds,
            after: automaton(
                &lexicon(&pack, "negation_after"),
                MatchKind::LeftmostLongest,
            )?,
            warning: automaton(
                &lexicon(&pack, "warning_context"),
                MatchKind::LeftmostLongest,
            )?,
            explanation: automaton(
                &lexicon(&pack, "legal_explanation"),
                MatchKind::LeftmostLongest,
            )?,
            condition: automaton(
                &lexicon(&pack, "condition_connectives"),
                MatchKind::LeftmostLongest,
            )?,
            reported: automaton(
                &lexicon(&pack, "reported_speech"),
                MatchKind::LeftmostLongest,
            )?,
            quote_cues: automaton(&lexicon(&pack, "quote_cues"), MatchKind::LeftmostLongest)?,
        };

        let mut cues = BTreeMap::new();
        for (name, pats) in &pack.call.cues {
            if !pats.is_empty() {
                cues.insert(name.clone(), alternation(pats)?);
            }
        }
        let cue_set = if cues.is_empty() {
            None
        } else {
            Some(
                RegexSet::new(cues.values().map(Regex::as_str)).map_err(|e| {
                    Problem::new("invalid_pattern", format!("cannot build the cue set: {e}"))
                })?,
            )
        };
        let groups =
            |check: &Option<crate::pack::CallCheck>| -> Result<Vec<(String, Regex)>, Problem> {
                let mut out = Vec::new();
                if let Some(c) = check {
                    for (name, pats) in &c.require {
                        out.push((name.clone(), alternation(pats)?));
                    }
                }
                Ok(out)
            };
        let excepts = pack
            .rules
            .iter()
            .map(|rule| {
                let longest = rule.except.iter().map(|w| w.chars().count()).max();
                match (automaton(&rule.except, MatchKind::Standard)?, longest) {
                    (Some(words), Some(longest)) => Ok(Some((words, longest))),
                    _ => Ok(None),
                }
            })
            .collect::<Result<Vec<_>, Problem>>()?;
        let opening = groups(&pack.call.opening)?;
        let closing = groups(&pack.call.closing)?;
        Ok(CompiledPack {
            pack,
            phrases,
            phrase_owners,
            frames,
            frame_buckets,
            pattern_scan,
            patterns,
            frame_parts,
            negation,
            excepts,
            similar,
            cues,
            cue_set,
            opening,
            closing,
        })
    }

    pub fn rule(&self, index: usize) -> Option<&Rule> {
        self.pack.rules.get(index)
    }

    /// The original span of the first match of cue `name` in a normalized turn.
    pub fn cue_span(&self, name: &str, n: &crate::normalize::Normalized) -> Option<(usize, usize)> {
        let m = self.cues.get(name)?.find(&n.text)?;
        n.original_span(m.start(), m.end())
    }

    /// Which call cues match anywhere in normalized `text`, found in one search.
    pub fn cues_in(&self, text: &str) -> Cues<'_> {
        Cues {
            names: &self.cues,
            matched: self.cue_set.as_ref().map(|set| set.matches(text)),
        }
    }

    /// Severity weight for scoring: errors count fully, warnings half, info not at all.
    pub fn weight_factor(severity: Severity) -> u32 {
        match severity {
            Severity::Error => 2,
            Severity::Warning => 1,
            Severity::Info => 0,
        }
    }
}
