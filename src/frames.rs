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

/// The pack language for kinds of wording: concepts, frames (order, distance, scope, `unless`),
/// negators between frame parts, quoted and reported speech — on a small pack of its own.
#[cfg(test)]
mod frame_tests {
    use crate::model::{Category, Context};
    use crate::Engine;

    const PACK: &str = r#"
[pack]
id = "frames-test"
version = "1"
title = "frames"
jurisdiction = "CN"
default_utc_offset = "+08:00"

[[sources]]
id = "doc"
title = "test document"

[lexicons]
if_unpaid = ["再不还", "不还的话"]
visit = ["去你家", "去你单位"]
negation_before = ["不会", "没有"]
reported_speech = ["您说", "说我"]
quote_cues = ["说"]
legal_explanation = ["前提是", "针对的是"]

[[rules]]
id = "t.visit"
category = "threat"
severity = "error"
message = "visit"
rewrite = "请您尽快安排还款"
frames = [{ all = ["{if_unpaid}", "{visit}"], within = 8 }]
sources = ["doc 1"]
bad = ["再不还我们就去你家"]
allows = ["我们不会去你家"]

[[rules]]
id = "t.any"
category = "false_legal_claim"
severity = "error"
message = "seize"
rewrite = "请您尽快安排还款"
frames = [{ all = ["冻结", "(明天|今天)"], any_order = true, within = 4, scope = "clause", unless = ["解冻"] }]
sources = ["doc 1"]
bad = ["明天冻结"]
allows = ["还款后解冻"]

[[rules]]
id = "t.register"
category = "impersonation"
severity = "warning"
message = "register"
suggestion = "请您尽快安排还款"
frames = [{ all = ["(立案|开庭)", "(法院|公安)", "(已经|今日)"], at_least = 2, within = 6, unless = ["如果"] }]
sources = ["doc 1"]
bad = ["法院已经立案"]
allows = ["如果法院立案"]

[[rules]]
id = "t.jail"
category = "false_legal_claim"
severity = "error"
message = "jail"
suggestion = "请您尽快安排还款"
phrases = ["拘留"]
cleared_by_explanation = true
sources = ["doc 1"]
bad = ["不还就拘留"]
allows = ["拘留针对的是拒不履行判决的人"]

[[rules]]
id = "t.word"
category = "abusive_language"
severity = "error"
message = "word"
suggestion = "客户"
phrases = ["老赖"]
sources = ["doc 1"]
bad = ["你这个老赖"]
allows = ["您好"]
"#;

    fn categories(engine: &Engine, text: &str) -> Vec<Category> {
        let ctx = Context::default();
        engine
            .check("frames-test", text, &ctx)
            .unwrap_or_default()
            .iter()
            .map(|f| f.category)
            .collect()
    }

    fn engine() -> Engine {
        let mut engine = Engine::default();
        let loaded = engine.load_pack(PACK, true);
        assert!(loaded.is_ok(), "{:?}", loaded.err());
        engine
    }

    #[test]
    fn frames_join_parts_in_order_within_the_distance() {
        let engine = engine();
        assert_eq!(
            categories(&engine, "你再不还，我们明天就去你家"),
            [Category::Threat]
        );
        // Out of order, too far apart, or across a full stop: no frame.
        assert!(categories(&engine, "去你家看看，再不还也没关系").is_empty());
        assert!(categories(&engine, "再不还的话我们会很为难很为难很为难再去你家").is_empty());
        assert!(categories(&engine, "再不还。我们去你家吃饭").is_empty());
        // Without punctuation (speech-to-text) the distance alone bounds the frame.
        assert_eq!(
            categories(&engine, "那个就是说再不还嗯就去你家"),
            [Category::Threat]
        );
    }

    #[test]
    fn any_order_scope_and_unless() {
        let engine = engine();
        assert_eq!(categories(&engine, "冻结明天"), [Category::FalseLegalClaim]);
        assert_eq!(
            categories(&engine, "明天就冻结"),
            [Category::FalseLegalClaim]
        );
        // A clause-scoped frame does not reach across a comma; `unless` words cancel it.
        assert!(categories(&engine, "明天，冻结").is_empty());
        assert!(categories(&engine, "明天冻结的账户会解冻").is_empty());
    }

    #[test]
    fn an_n_of_frame_needs_any_n_of_its_parts() {
        let engine = engine();
        // Two or three of the three parts, in any order, within the distance.
        assert_eq!(
            categories(&engine, "法院已经立案"),
            [Category::Impersonation]
        );
        assert_eq!(categories(&engine, "今日开庭"), [Category::Impersonation]);
        assert_eq!(
            categories(&engine, "立案的是公安"),
            [Category::Impersonation]
        );
        // One part alone, parts too far apart, or an `unless` word: no match.
        assert!(categories(&engine, "开庭").is_empty());
        assert!(categories(&engine, "法院门口有一家很好吃很好吃的面馆今日").is_empty());
        assert!(categories(&engine, "如果法院立案").is_empty());
    }

    #[test]
    fn an_n_of_frame_is_checked_when_the_pack_loads() {
        for (at_least, parts) in [(0, 3), (4, 3), (5, 6)] {
            let all: Vec<String> = (0..parts).map(|i| format!("\"词{i}\"")).collect();
            let pack = PACK.replace(
                r#"frames = [{ all = ["(立案|开庭)", "(法院|公安)", "(已经|今日)"], at_least = 2"#,
                &format!(
                    "frames = [{{ all = [{}], at_least = {at_least}",
                    all.join(", ")
                ),
            );
            let mut engine = Engine::default();
            let loaded = engine.load_pack(&pack, true);
            let message = format!("{:?}", loaded.err().unwrap_or_default());
            assert!(
                message.contains("at_least"),
                "{at_least} of {parts}: {message}"
            );
        }
    }

    #[test]
    fn an_explanation_of_the_law_clears_a_rule_that_allows_it() {
        let engine = engine();
        assert_eq!(
            categories(&engine, "再拖就拘留你"),
            [Category::FalseLegalClaim]
        );
        // The explanation may stand anywhere in the sentence, but not in the next one.
        assert!(categories(&engine, "拘留的前提是有能力却拒不履行判决").is_empty());
        assert_eq!(
            categories(&engine, "前提是您同意。再拖就拘留你"),
            [Category::FalseLegalClaim]
        );
    }

    #[test]
    fn a_negator_between_parts_turns_the_frame_around() {
        let engine = engine();
        assert!(categories(&engine, "不还的话我们也不会去你家").is_empty());
        assert_eq!(
            categories(&engine, "不还的话我们就去你家"),
            [Category::Threat]
        );
    }

    #[test]
    fn quoted_and_reported_words_are_not_said() {
        let engine = engine();
        assert!(categories(&engine, "同事说您“老赖”，这是不对的").is_empty());
        assert!(categories(&engine, "您说我们把您当老赖，没有的事").is_empty());
        assert_eq!(
            categories(&engine, "你这个“老赖”"),
            [Category::AbusiveLanguage]
        );
        // The collector telling (我跟您说) is not quoting; a quotation does not outlive its sentence.
        assert_eq!(
            categories(&engine, "我跟您说再不还我们就去你家"),
            [Category::Threat]
        );
        assert_eq!(
            categories(&engine, "我说过“好的。你这个老赖"),
            [Category::AbusiveLanguage]
        );
        // 就是说 is speech-to-text filler, not a report: 就是说我们… is the collector speaking,
        // while 有人说我… reports what someone said.
        assert_eq!(
            categories(&engine, "就是说我们再不还就去你家"),
            [Category::Threat]
        );
        assert!(categories(&engine, "有人说我们再不还就去你家").is_empty());
    }

    #[test]
    fn a_rewrite_replaces_the_clause() {
        let engine = engine();
        let text = "张先生，你这个老赖，再不还我们就去你家";
        let findings = engine
            .check("frames-test", text, &Context::default())
            .unwrap_or_default();
        let fixed: Vec<(String, String)> = findings
            .iter()
            .filter_map(|f| {
                let r = f.rewrite.as_ref()?;
                Some((text.get(r.start..r.end)?.to_string(), r.text.clone()))
            })
            .collect();
        assert_eq!(
            fixed,
            [
                ("你这个老赖".to_string(), "你这个客户".to_string()),
                (
                    "再不还我们就去你家".to_string(),
                    "请您尽快安排还款".to_string()
                ),
            ]
        );
    }

    #[test]
    fn a_bad_pack_language_is_a_clear_error() {
        for (broken, expect) in [
            (PACK.replace("{visit}\"]", "{vist}\"]"), "概念 `{vist}`"),
            (
                PACK.replace("all = [\"冻结\"", "all = [\"(明天)?\", \"冻结\""),
                "can match nothing",
            ),
            (
                PACK.replace("scope = \"clause\"", "scope = \"para\""),
                "框架范围 `para`",
            ),
        ] {
            let mut engine = Engine::default();
            let problems = engine.load_pack(&broken, false).err().unwrap_or_default();
            assert!(
                problems.iter().any(|p| p.message.contains(expect)),
                "{expect}: {problems:?}"
            );
        }
    }
}
