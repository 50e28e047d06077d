//! The pack language for kinds of wording: concepts, frames (order, distance, scope, `unless`,
//! N-of), negators between frame parts, quoted and reported speech, explanations of the law — on a
//! small pack of its own.

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
