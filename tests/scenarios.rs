//! Every embedded trainer scenario loads, and every walkthrough it carries gets the outcome it
//! names: finished, the objectives done or missed, the score in bounds, a debrief that cites a
//! rule and a source for every deduction.
#![allow(
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests fail by panicking and index answers they just checked"
)]

use callguard::practice::Status;
use callguard::scenario::EMBEDDED_SCENARIOS;
use callguard::Engine;

/// The practice call as `speaker: text` lines, for failure messages.
fn call_text(p: &callguard::practice::Practice) -> String {
    p.turns
        .iter()
        .map(|t| format!("{:?}: {}", t.speaker, t.text))
        .collect::<Vec<_>>()
        .join("\n  ")
}

#[test]
fn every_scenario_has_walkthroughs_that_get_their_outcome() {
    let engine = Engine::with_embedded_packs().unwrap_or_else(|p| panic!("{p:?}"));
    assert!(
        EMBEDDED_SCENARIOS.len() >= 6,
        "the six scenarios of issue 4"
    );
    let mut failures = Vec::new();
    for scenario in engine.scenarios() {
        assert!(
            scenario.walkthroughs.len() >= 2,
            "scenario `{}` needs a compliant and a failing walkthrough",
            scenario.id
        );
        let pack = engine
            .get(scenario.pack.as_deref().unwrap_or(callguard::DEFAULT_PACK))
            .unwrap_or_else(|p| panic!("{p}"));
        for w in &scenario.walkthroughs {
            let at = format!("scenario `{}` walkthrough `{}`", scenario.id, w.name);
            let p = callguard::practice::practice(pack, scenario, &w.replies)
                .unwrap_or_else(|e| panic!("{at}: {e}"));
            if !p.finished {
                failures.push(format!(
                    "{at}: not finished; waiting at `{:?}`\n  {}",
                    p.next,
                    call_text(&p)
                ));
                continue;
            }
            let expected = w
                .done
                .iter()
                .map(|id| (id, Status::Done))
                .chain(w.missed.iter().map(|id| (id, Status::Missed)));
            let wrong: Vec<String> = expected
                .filter_map(
                    |(id, want)| match p.objectives.iter().find(|o| &o.id == id) {
                        None => Some(format!("no objective {id}")),
                        Some(o) if o.status != want => Some(format!(
                            "{id} is {:?}, not {want:?} ({:?}, turn {:?})",
                            o.status, o.reason, o.turn
                        )),
                        Some(_) => None,
                    },
                )
                .collect();
            if !wrong.is_empty() {
                failures.push(format!("{at}: {wrong:?}\n  {}", call_text(&p)));
                continue;
            }
            let score = p.scorecard.score;
            if w.min_score.is_some_and(|min| score < min)
                || w.max_score.is_some_and(|max| score > max)
            {
                let found: Vec<String> = p
                    .scorecard
                    .findings
                    .iter()
                    .map(|f| format!("{} `{}`", f.rule, f.excerpt))
                    .collect();
                failures.push(format!(
                    "{at}: score {score} outside {:?}..{:?}: {found:?}",
                    w.min_score, w.max_score
                ));
                continue;
            }
            let debrief = p.debrief.unwrap_or_else(|| panic!("{at}: no debrief"));
            assert_eq!(debrief.score, score);
            for d in &debrief.deductions {
                assert!(
                    !d.rules.is_empty(),
                    "{at}: deduction {:?} without a rule",
                    d.category
                );
                for r in &d.rules {
                    assert!(
                        !r.sources.is_empty(),
                        "{at}: rule `{}` cites no source",
                        r.rule
                    );
                }
            }
            let missed: Vec<&str> = debrief.missed.iter().map(|m| m.id.as_str()).collect();
            for id in &w.missed {
                assert!(
                    missed.contains(&id.as_str()),
                    "{at}: debrief omits missed `{id}`"
                );
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[test]
fn a_practice_in_progress_waits_for_the_next_reply() {
    let engine = Engine::with_embedded_packs().unwrap_or_else(|p| panic!("{p:?}"));
    let call = callguard::practice::PracticeCall {
        scenario: "roommate".into(),
        replies: vec!["您好，我是金桥消费金融的客服小李，请问周斌先生在吗？".into()],
    };
    let answer = engine
        .practice_call(&call)
        .unwrap_or_else(|p| panic!("{p}"));
    let p = &answer.practice;
    assert!(!p.finished);
    assert_eq!(p.turns.len(), 3, "line, reply, next line: {:#?}", p.turns);
    assert_eq!(p.next.as_deref(), Some(p.turns[2].text.as_str()));
    assert!(p.debrief.is_none());
    let no_disclosure = p
        .objectives
        .iter()
        .find(|o| o.id == "no_disclosure")
        .unwrap_or_else(|| panic!("objective"));
    assert_eq!(no_disclosure.status, Status::Pending);

    // The same call, then a disclosure to the roommate: flagged on that reply, objective missed.
    let mut replies = call.replies.clone();
    replies.push("他在我们这里的贷款已经逾期20天了，欠款3600元。".into());
    let answer = engine
        .practice_call(&callguard::practice::PracticeCall {
            scenario: "roommate".into(),
            replies,
        })
        .unwrap_or_else(|p| panic!("{p}"));
    let p = &answer.practice;
    assert!(
        p.findings
            .iter()
            .any(|f| f.category == callguard::Category::ThirdPartyDisclosure),
        "{:#?}",
        p.findings
    );
    assert!(p.findings.iter().all(|f| f.turn == Some(3)));
    let no_disclosure = p
        .objectives
        .iter()
        .find(|o| o.id == "no_disclosure")
        .unwrap_or_else(|| panic!("objective"));
    assert_eq!(no_disclosure.status, Status::Missed);
    assert!(
        p.turns
            .last()
            .is_some_and(|t| t.step.as_deref() == Some("leaked")),
        "the roommate reacts to the leak"
    );
}

#[test]
fn bad_practice_calls_get_clear_errors() {
    let engine = Engine::with_embedded_packs().unwrap_or_else(|p| panic!("{p:?}"));
    let unknown = callguard::api::practice_json(&engine, r#"{"scenario":"nope"}"#);
    assert!(unknown.contains("unknown scenario `nope`"), "{unknown}");
    let too_many = callguard::api::practice_json(
        &engine,
        &format!(
            r#"{{"scenario":"roommate","replies":{}}}"#,
            serde_json::to_string(&vec!["好的"; 40]).unwrap_or_default()
        ),
    );
    assert!(too_many.contains(r#""type":"failure""#), "{too_many}");
    let bad_field =
        callguard::api::practice_json(&engine, r#"{"scenario":"roommate","reply":"x"}"#);
    assert!(bad_field.contains("unknown field `reply`"), "{bad_field}");
}

#[test]
fn a_broken_scenario_is_refused_with_the_reason() {
    let broken = r#"
id = "x"
title = "t"
summary = "s"
persona = "p"
dpd = 3
counterpart = "minor"
debtor = "某某"
start = "a"
objectives = [{ id = "o", label = "l", goal = "said", hint = "h" }]
[[steps]]
id = "a"
customer = "喂"
next = "b"
"#;
    let problems = callguard::scenario::load("x", broken)
        .err()
        .unwrap_or_default();
    let text = format!("{problems:?}");
    assert!(text.contains("unknown step `b`"), "{text}");
    assert!(text.contains("counterpart must be"), "{text}");
    assert!(text.contains("needs `phrases`"), "{text}");
    let syntax = callguard::scenario::load("y", "id = ")
        .err()
        .unwrap_or_default();
    assert!(
        syntax[0].location.as_ref().and_then(|l| l.line).is_some(),
        "{syntax:?}"
    );
}

#[test]
fn a_scripted_customer_answers_what_the_trainee_asked() {
    let engine = Engine::with_embedded_packs().unwrap_or_else(|p| panic!("{p:?}"));
    let practice = |replies: &[&str]| {
        let call = callguard::practice::PracticeCall {
            scenario: "unemployed".into(),
            replies: replies.iter().map(|r| r.to_string()).collect(),
        };
        engine
            .practice_call(&call)
            .unwrap_or_else(|p| panic!("{p}"))
            .practice
    };
    // Asked with the name, the customer confirms and gives the digits.
    let p = practice(&["您好，请问是陈志强先生本人吗？麻烦您报一下身份证后四位，核实一下身份。"]);
    let line = p.next.as_deref().unwrap_or_default();
    assert!(line.contains("0312") && line.contains("是我"), "{line}");
    assert_eq!(p.turns.last().map(|t| t.text.as_str()), Some(line));
    // The confirmation still opens the turn, so the identity counts as verified.
    assert!(p.scorecard.identity_verified, "{line}");
    // Asked before saying who is calling, a stranger gets no digits: the customer asks who it is.
    let p = practice(&["麻烦报一下身份证后四位。"]);
    let line = p.next.as_deref().unwrap_or_default();
    assert!(!line.contains("0312"), "{line}");
    // A reply that asks nothing gets the script's line alone.
    let p = practice(&["您好，请问是陈志强先生本人吗？"]);
    assert_eq!(p.next.as_deref(), Some("是我。是贷款的事吧？"));
}
