//! How the agent talks, checked over a whole call (the pack's `[call.timing.*]`): the silence
//! left after the customer finishes, talking over the customer, speech rate, the agent's share of
//! the talk — all from the turns' times — and the same demand said again and again, from their
//! words. A call without times skips the four timing checks and says so in the scorecard's notes.

use crate::model::{Category, Finding};
use crate::normalize::Normalized;
use crate::pack::{Timing, TimingLimit};
use crate::score::CallRule;
use crate::transcript::{Speaker, Turn};

/// `75.4` → `01:15`.
fn clock(seconds: f64) -> String {
    let s = seconds.max(0.0).round() as u64;
    format!("{:02}:{:02}", s / 60, s % 60)
}

fn finding(
    id: &str,
    category: Category,
    rule: &TimingLimit,
    detail: String,
    turn: usize,
    text: &str,
) -> Finding {
    CallRule {
        id,
        category,
        severity: rule.severity,
        message: format!("{}（{detail}）", rule.message),
        suggestion: rule.suggestion.clone(),
        sources: &rule.sources,
    }
    .at(turn, text, None)
}

/// Spoken characters: letters, digits and CJK, no punctuation or spaces.
fn spoken_chars(text: &str) -> usize {
    text.chars().filter(|c| c.is_alphanumeric()).count()
}

/// An agent turn that opens by excusing the interruption, as the etiquette asks
/// (抱歉，打断一下) — talking over then is not a fault.
fn excuses_interruption(text: &str) -> bool {
    let head: String = Normalized::new(text).text.chars().take(12).collect();
    ["打断", "插一句", "插句话", "插个话"]
        .iter()
        .any(|w| head.contains(w))
}

type Pairs = std::collections::BTreeSet<(char, char)>;

/// Character bigrams of normalized text.
fn bigrams(text: &str) -> Pairs {
    let chars: Vec<char> = text.chars().filter(|c| c.is_alphanumeric()).collect();
    chars
        .windows(2)
        .filter_map(|w| Some((*w.first()?, *w.get(1)?)))
        .collect()
}

/// The same demand: at least 60 % of the shorter turn's character pairs are in the longer one
/// (a demand is often said again inside a longer sentence), and the shorter has at least four.
fn similar(a: &Pairs, b: &Pairs) -> bool {
    let shorter = a.len().min(b.len());
    let common = a.intersection(b).count();
    shorter >= 4 && common * 10 >= shorter * 6
}

/// The timing findings of a call and the notes on what could not be checked.
pub(crate) fn check(timing: &Timing, turns: &[Turn]) -> (Vec<Finding>, Vec<String>) {
    let mut findings = Vec::new();
    let mut notes = Vec::new();
    let timed = turns.iter().any(|t| t.start.is_some() && t.end.is_some());
    let wants_times = timing.silence.is_some()
        || timing.talking_over.is_some()
        || timing.speech_rate.is_some()
        || timing.talk_share.is_some();
    if wants_times && !timed {
        notes.push("通话没有时间信息：未检查静音、抢话、语速和通话占比 (no turn times: timing checks skipped)".to_string());
    }
    if timed {
        pauses_and_overlaps(timing, turns, &mut findings);
        speech_rate(timing, turns, &mut findings);
        talk_share(timing, turns, &mut findings);
    }
    repetition(timing, turns, &mut findings);
    (findings, notes)
}

/// Silences the agent leaves after the customer finishes, and the agent starting before the
/// customer has finished.
fn pauses_and_overlaps(timing: &Timing, turns: &[Turn], findings: &mut Vec<Finding>) {
    for (i, pair) in turns.windows(2).enumerate() {
        let (Some(before), Some(turn)) = (pair.first(), pair.get(1)) else {
            continue;
        };
        if turn.speaker != Speaker::Agent || before.speaker == Speaker::Agent {
            continue;
        }
        let (Some(ended), Some(started)) = (before.end, turn.start) else {
            continue;
        };
        let gap = started - ended;
        if let Some(rule) = timing.silence.as_ref().filter(|r| gap > r.limit) {
            findings.push(finding(
                "call.timing.silence",
                Category::LongSilence,
                rule,
                format!(
                    "客户说完后 {gap:.0} 秒才回应，{}–{}",
                    clock(ended),
                    clock(started)
                ),
                i + 1,
                &turn.text,
            ));
        }
        if let Some(rule) = timing.talking_over.as_ref().filter(|r| -gap >= r.limit) {
            if !excuses_interruption(&turn.text) {
                findings.push(finding(
                    "call.timing.talking_over",
                    Category::TalkingOver,
                    rule,
                    format!(
                        "客户还没说完坐席就开口，重叠 {:.1} 秒，{}",
                        -gap,
                        clock(started)
                    ),
                    i + 1,
                    &turn.text,
                ));
            }
        }
    }
}

/// Agent turns spoken faster than the limit (turns of at least 1.5 s and 8 characters, so a
/// quick 好的 never counts).
fn speech_rate(timing: &Timing, turns: &[Turn], findings: &mut Vec<Finding>) {
    let Some(rule) = &timing.speech_rate else {
        return;
    };
    for (i, turn) in turns.iter().enumerate() {
        let (Some(start), Some(end)) = (turn.start, turn.end) else {
            continue;
        };
        let seconds = end - start;
        let chars = spoken_chars(&turn.text);
        if turn.speaker != Speaker::Agent || seconds < 1.5 || chars < 8 {
            continue;
        }
        let rate = chars as f64 / seconds;
        if rate > rule.limit {
            findings.push(finding(
                "call.timing.speech_rate",
                Category::FastSpeech,
                rule,
                format!(
                    "{chars} 个字 {seconds:.1} 秒，每秒 {rate:.1} 字，{}",
                    clock(start)
                ),
                i,
                &turn.text,
            ));
        }
    }
}

/// The agent's share of the talk, over calls with at least 30 seconds of speech and two timed
/// customer turns.
fn talk_share(timing: &Timing, turns: &[Turn], findings: &mut Vec<Finding>) {
    let Some(rule) = &timing.talk_share else {
        return;
    };
    let (mut agent, mut other, mut other_turns) = (0.0, 0.0, 0);
    for t in turns {
        if let (Some(s), Some(e)) = (t.start, t.end) {
            if t.speaker == Speaker::Agent {
                agent += (e - s).max(0.0);
            } else {
                other += (e - s).max(0.0);
                other_turns += 1;
            }
        }
    }
    let total = agent + other;
    if total < 30.0 || other_turns < 2 {
        return;
    }
    let share = agent / total;
    let last_agent = turns.iter().rposition(|t| t.speaker == Speaker::Agent);
    if let (true, Some(i)) = (share > rule.limit, last_agent) {
        let text = turns.get(i).map_or("", |t| t.text.as_str());
        findings.push(finding(
            "call.timing.talk_share",
            Category::TalkDominance,
            rule,
            format!(
                "坐席说话占通话的 {:.0}%：坐席 {agent:.0} 秒，客户 {other:.0} 秒",
                share * 100.0
            ),
            i,
            text,
        ));
    }
}

/// The same demand said more often than the limit: agent turns about the pack's demand words,
/// grouped with any earlier turn they repeat (see [`similar`]).
fn repetition(timing: &Timing, turns: &[Turn], findings: &mut Vec<Finding>) {
    let Some(rule) = &timing.repetition else {
        return;
    };
    // Each group: its turns' character pairs, its turns, and whether it was reported.
    let mut groups: Vec<(Vec<Pairs>, Vec<usize>, bool)> = Vec::new();
    for (i, turn) in turns.iter().enumerate() {
        if turn.speaker != Speaker::Agent {
            continue;
        }
        let normalized = Normalized::new(&turn.text).text;
        if !rule.about.iter().any(|w| normalized.contains(w.as_str())) {
            continue;
        }
        let pairs = bigrams(&normalized);
        let known = groups
            .iter()
            .position(|(said, _, _)| said.iter().any(|p| similar(p, &pairs)));
        let group = match known {
            Some(g) => g,
            None => {
                groups.push((Vec::new(), Vec::new(), false));
                groups.len() - 1
            }
        };
        let Some((said, members, reported)) = groups.get_mut(group) else {
            continue;
        };
        said.push(pairs);
        members.push(i);
        if members.len() as f64 > rule.limit && !*reported {
            *reported = true;
            let listed: Vec<String> = members.iter().map(|m| (m + 1).to_string()).collect();
            findings.push(finding(
                "call.timing.repetition",
                Category::RepeatedDemand,
                rule,
                format!(
                    "同一催款要求说了 {} 次：第 {} 句",
                    members.len(),
                    listed.join("、")
                ),
                i,
                &turn.text,
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::Engine;
    use serde_json::{json, Value};

    fn score(turns: Value) -> Value {
        let engine = Engine::with_embedded_packs().unwrap_or_else(|p| panic!("{p:?}"));
        let call = json!({"pack": "cn-company", "dpd": 10, "transcript": {"turns": turns}});
        let answer = crate::api::score_json(&engine, &call.to_string());
        serde_json::from_str(&answer).unwrap_or_else(|e| panic!("{e}"))
    }

    fn rules(answer: &Value) -> Vec<String> {
        answer["findings"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|f| f["rule"].as_str().map(str::to_string))
            .collect()
    }

    #[test]
    fn an_interruption_excused_first_is_not_talking_over() {
        let over = |text: &str| {
            score(json!([
                {"speaker": "customer", "text": "我想问一下能不能分期还款，因为最近……", "start": 0.0, "end": 6.0},
                {"speaker": "agent", "text": text, "start": 4.0, "end": 8.0},
            ]))
        };
        assert!(rules(&over("您先听我说，今天必须处理。"))
            .contains(&"call.timing.talking_over".to_string()));
        assert!(!rules(&over("抱歉，打断一下，您是想分几期？"))
            .contains(&"call.timing.talking_over".to_string()));
    }

    #[test]
    fn a_call_without_times_skips_the_timing_checks_and_says_so() {
        let answer = score(json!([
            {"speaker": "agent", "text": "您好，请问是刘洋吗？"},
            {"speaker": "customer", "text": "是我。"},
        ]));
        assert!(answer["notes"].as_array().is_some_and(|n| n
            .iter()
            .any(|n| n.as_str().is_some_and(|n| n.contains("没有时间信息")))));
        assert!(!rules(&answer).iter().any(|r| r.starts_with("call.timing.")));
    }

    #[test]
    fn a_short_quick_reply_is_not_fast_speech() {
        let answer = score(json!([
            {"speaker": "customer", "text": "明天还行吗？", "start": 0.0, "end": 1.0},
            {"speaker": "agent", "text": "好的好的没问题", "start": 1.2, "end": 1.9},
        ]));
        assert!(!rules(&answer).contains(&"call.timing.speech_rate".to_string()));
    }

    #[test]
    fn a_child_pack_cannot_loosen_a_timing_limit_and_a_bad_limit_is_refused() {
        let child = |limit: &str| {
            format!(
                "[pack]\nid = \"timing-child\"\nversion = \"1\"\ntitle = \"t\"\njurisdiction = \"CN\"\ndefault_utc_offset = \"+08:00\"\nextends = \"cn-company\"\n\n[call.timing.silence]\nlimit = {limit}\nmessage = \"静音\"\nseverity = \"warning\"\nsources = [\"000_8b980145f8dd927a 附件 四、（一）5.\"]\n"
            )
        };
        let mut engine = Engine::with_embedded_packs().unwrap_or_else(|p| panic!("{p:?}"));
        let problems = engine
            .load_pack(&child("-1"), false)
            .err()
            .unwrap_or_default();
        assert!(
            problems
                .iter()
                .any(|p| p.message.contains("call.timing.silence.limit")),
            "{problems:?}"
        );
        let loaded = engine
            .load_pack(&child("30"), false)
            .unwrap_or_else(|p| panic!("{p:?}"));
        let pack = &loaded.pack;
        assert_eq!(
            pack.call.timing.silence.as_ref().map(|s| s.limit),
            Some(10.0)
        );
        assert!(pack
            .notices
            .iter()
            .any(|n| n.message.contains("call.timing.silence")));
    }
}
