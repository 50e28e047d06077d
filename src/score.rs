//! `score`: a whole call → a scorecard. The call is a state machine over its turns: who is on
//! the line, whether identity was confirmed, whether the customer disclosed hardship, and what
//! was promised. Every agent turn is checked in the context the call had reached at that turn.

use crate::check::fill_utf16;
use crate::compiled::{CompiledPack, Cues};
use crate::model::{Category, Channel, Context, Finding, Party, Severity};
use crate::normalize::Normalized;
use crate::pack::CallCheck;
use crate::transcript::{CallMeta, Speaker, Transcript};
use regex::{Regex, RegexSet, SetMatches};
use serde::Serialize;
use std::collections::BTreeMap;
use std::sync::OnceLock;

/// Who was on the line and what was known when a turn was said.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct TurnState {
    pub turn: usize,
    pub speaker: Speaker,
    pub party: Party,
    pub identity_verified: bool,
    pub third_party_informed: bool,
    pub vulnerable: bool,
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Deduction {
    pub category: Category,
    pub points: u32,
    pub findings: usize,
}

/// What the call established about a promise to pay.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct PromiseSummary {
    /// Turn where the customer first spoke of paying.
    pub turn: usize,
    /// Whether a date and a clock time within the pack's limit were agreed.
    pub concrete: bool,
    /// Days from the call to the agreed date, when the date is relative (今天, 明天, 后天).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub days: Option<u32>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Scorecard {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dpd: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stage: Option<String>,
    pub score: u32,
    pub auto_fail: bool,
    pub deductions: Vec<Deduction>,
    pub findings: Vec<Finding>,
    pub counterpart: Party,
    pub identity_verified: bool,
    pub vulnerable: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub promise: Option<PromiseSummary>,
    pub timeline: Vec<TurnState>,
    /// The call's metadata (collector, team, time …) as the transcript carried it.
    #[serde(skip_serializing_if = "CallMeta::is_empty")]
    pub meta: CallMeta,
    /// What the reader or the scorer had to assume: no DPD, speakers taken from a channel.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}

struct CallState {
    party: Party,
    verified: bool,
    informed: bool,
    vulnerable: bool,
    /// Customer turns left in which a 是我 still answers the agent's name check.
    name_check_open: u8,
}

impl CallState {
    fn context(&self, dpd: Option<u32>) -> Context {
        Context {
            dpd,
            party: self.party,
            identity_verified: self.verified,
            third_party_informed: self.informed,
            vulnerable: self.vulnerable,
            channel: Channel::Call,
        }
    }

    /// Moves the state on what the counterpart said.
    fn hear(&mut self, cues: &Cues<'_>, speaker: Speaker) {
        let cue = |name: &str| cues.has(name);
        if speaker == Speaker::ThirdParty && self.party != Party::Minor {
            self.party = Party::ThirdParty;
            self.verified = false;
        }
        if cue("minor") {
            self.party = Party::Minor;
            self.verified = false;
        } else if cue("wrong_party")
            || cue("third_party")
            || (self.name_check_open > 0 && cue("deny"))
        {
            if self.party != Party::Minor {
                self.party = Party::ThirdParty;
            }
            self.verified = false;
        } else if self.name_check_open > 0 && cue("confirm") && speaker != Speaker::ThirdParty {
            self.party = Party::Debtor;
            self.verified = true;
        }
        self.name_check_open = self.name_check_open.saturating_sub(1);
        if self.party == Party::ThirdParty && cue("informed") {
            self.informed = true;
        }
        if cue("vulnerable") {
            self.vulnerable = true;
        }
    }
}

/// What a whole-call rule says when it is broken.
pub(crate) struct CallRule<'a> {
    pub(crate) id: &'a str,
    pub(crate) category: Category,
    pub(crate) severity: Severity,
    pub(crate) message: String,
    pub(crate) suggestion: Option<String>,
    pub(crate) sources: &'a [String],
}

impl CallRule<'_> {
    /// A finding at `turn`, covering `span` of the turn's `text` when there is one.
    pub(crate) fn at(self, turn: usize, text: &str, span: Option<(usize, usize)>) -> Finding {
        let (start, end) = span.unwrap_or((0, 0));
        let mut finding = Finding {
            rule: self.id.to_string(),
            category: self.category,
            severity: self.severity,
            start,
            end,
            utf16_start: 0,
            utf16_end: 0,
            excerpt: text.get(start..end).unwrap_or("").to_string(),
            message: self.message,
            suggestion: self.suggestion,
            sources: self.sources.to_vec(),
            turn: Some(turn),
            rewrite: None,
        };
        fill_utf16(text, std::slice::from_mut(&mut finding));
        finding
    }
}

/// Whether every requirement group matches some of the given agent turns; returns the missing
/// group names.
fn missing_groups(groups: &[(String, Regex)], turns: &[&str]) -> Vec<String> {
    groups
        .iter()
        .filter(|(_, re)| !turns.iter().any(|t| re.is_match(t)))
        .map(|(name, _)| name.clone())
        .collect()
}

/// Whether an agent turn says the pack's whole closing (the trainee hangs up politely).
pub fn says_closing(compiled: &CompiledPack, text: &str) -> bool {
    let normalized = Normalized::new(text);
    !compiled.closing.is_empty()
        && missing_groups(&compiled.closing, &[&normalized.text]).is_empty()
}

fn requirement_finding(
    rule: &str,
    category: Category,
    check: &CallCheck,
    missing: &[String],
    turn: usize,
) -> Finding {
    CallRule {
        id: rule,
        category,
        severity: check.severity,
        message: format!("{}（缺少：{}）", check.message, missing.join("、")),
        suggestion: check.suggestion.clone(),
        sources: &check.sources,
    }
    .at(turn, "", None)
}

/// Dates and clock times, read from a turn's Simplified text.
struct DateTimeRegexes {
    /// The five below in one set, in this order: a turn is searched once, and only the
    /// expressions it contains are run again for their text.
    set: RegexSet,
    relative: Regex,
    within_days: Regex,
}

const RELATIVE: usize = 0;
const WITHIN_DAYS: usize = 1;
const FAR: usize = 2;
const ABSOLUTE: usize = 3;
const CLOCK: usize = 4;

fn date_time_regexes() -> Option<&'static DateTimeRegexes> {
    static CELL: OnceLock<Option<DateTimeRegexes>> = OnceLock::new();
    CELL.get_or_init(|| {
        let relative = "(大后天|后天|明天|明日|明早|明晚|明儿|今天|今日|今晚|今早|今儿|当天)";
        let within_days = "([0-9]+|[一二两三四五六七八九十]+)(天|日)(内|之内|以内|后)";
        let far = "(下个?月|月底|年底|年后|下周|下星期|下个?礼拜|过几天|过段时间|过阵子|以后|改天)";
        let absolute = "(([0-9]{1,2}|[一二三四五六七八九十]{1,3})月)?([0-9]{1,2}|[一二三四五六七八九十]{1,3})(号|日)|(本周|这周|周|星期|礼拜)[一二三四五六日天]";
        let clock = "([0-9]{1,2}|[零一二两三四五六七八九十]{1,3})\\s*(点|時|时)|[0-9]{1,2}\\s*[:：]\\s*[0-9]{2}";
        Some(DateTimeRegexes {
            set: RegexSet::new([relative, within_days, far, absolute, clock]).ok()?,
            relative: Regex::new(relative).ok()?,
            within_days: Regex::new(within_days).ok()?,
        })
    })
    .as_ref()
}

fn chinese_number(text: &str) -> Option<u32> {
    if let Ok(n) = text.parse() {
        return Some(n);
    }
    let digit = |c: char| {
        "零一二三四五六七八九"
            .chars()
            .position(|d| d == c)
            .map(|p| p as u32)
            .or((c == '两').then_some(2))
    };
    let chars: Vec<char> = text.chars().collect();
    match chars.as_slice() {
        [c] if *c == '十' => Some(10),
        [c] => digit(*c),
        ['十', u] => Some(10 + digit(*u)?),
        [t, '十'] => Some(digit(*t)? * 10),
        [t, '十', u] => Some(digit(*t)? * 10 + digit(*u)?),
        _ => None,
    }
}

/// What a turn says about when: `Some(Some(days))` for a relative date, `Some(None)` for a
/// concrete date at an unknown distance (11月24日, 周五), `None` for no date.
enum When {
    Days(u32),
    Dated,
    Far,
}

fn when_of(re: &DateTimeRegexes, text: &str, found: &SetMatches) -> Option<When> {
    if found.matched(RELATIVE) {
        if let Some(m) = re.relative.find(text) {
            return Some(When::Days(match m.as_str() {
                "大后天" => 3,
                "后天" => 2,
                "明天" | "明日" | "明早" | "明晚" | "明儿" => 1,
                _ => 0,
            }));
        }
    }
    if found.matched(WITHIN_DAYS) {
        if let Some(c) = re.within_days.captures(text) {
            if let Some(n) = c.get(1).and_then(|m| chinese_number(m.as_str())) {
                return Some(When::Days(n));
            }
        }
    }
    if found.matched(FAR) {
        return Some(When::Far);
    }
    if found.matched(ABSOLUTE) {
        return Some(When::Dated);
    }
    None
}

/// Scores a call with `compiled`. `dpd` overrides the transcript's own.
pub fn score(compiled: &CompiledPack, transcript: &Transcript, dpd: Option<u32>) -> Scorecard {
    let dpd = dpd.or(transcript.dpd);
    let pack = &compiled.pack;
    let mut state = CallState {
        party: Party::Unknown,
        verified: false,
        informed: false,
        vulnerable: false,
        name_check_open: 0,
    };
    let mut findings: Vec<Finding> = Vec::new();
    let mut timeline = Vec::with_capacity(transcript.turns.len());
    let mut agent_turns: Vec<(usize, String)> = Vec::new();
    let mut promise: Option<PromiseSummary> = None;
    let mut vague: Option<(usize, Option<(usize, usize)>)> = None;
    let mut too_far: Option<usize> = None;

    for (i, turn) in transcript.turns.iter().enumerate() {
        let normalized = Normalized::new(&turn.text);
        let cues = compiled.cues_in(&normalized.text);
        match turn.speaker {
            Speaker::Agent => {
                let ctx = state.context(dpd);
                let mut turn_findings =
                    crate::check::check_normalized(compiled, &turn.text, &normalized, &ctx);
                for f in &mut turn_findings {
                    f.turn = Some(i);
                }
                findings.extend(turn_findings);
                if cues.has("name_check") {
                    state.name_check_open = 2;
                }
                agent_turns.push((i, normalized.text.clone()));
            }
            speaker => {
                // A customer who says they are complaining, recording or being threatened asks
                // for a human to listen to this call: a signal, not a deduction.
                if let (Some(review), true) = (&pack.call.review, cues.has("review")) {
                    let span = compiled.cue_span("review", &normalized);
                    findings.push(
                        CallRule {
                            id: "call.review_needed",
                            category: Category::ReviewNeeded,
                            severity: Severity::Info,
                            message: review.message.clone(),
                            suggestion: None,
                            sources: &review.sources,
                        }
                        .at(i, &turn.text, span),
                    );
                }
                state.hear(&cues, speaker);
                let debtor_side = matches!(state.party, Party::Debtor | Party::Unknown);
                if debtor_side && (cues.has("ptp_intent") || cues.has("ptp_vague")) {
                    if promise.is_none() {
                        promise = Some(PromiseSummary {
                            turn: i,
                            concrete: false,
                            days: None,
                        });
                    }
                    if cues.has("ptp_vague") {
                        let span = compiled.cue_span("ptp_vague", &normalized);
                        vague = Some((i, span));
                    }
                }
            }
        }
        // A concrete date and clock time said by either side after the promise came up.
        if let Some(p) = promise.as_mut() {
            // Dates and clock times are read with their punctuation (18:00), Simplified only.
            let simplified = crate::fold::simplified(&turn.text);
            let (clock, when) = date_time_regexes().map_or((false, None), |re| {
                let found = re.set.matches(&simplified);
                (found.matched(CLOCK), when_of(re, &simplified, &found))
            });
            match when {
                Some(When::Days(d)) if clock => {
                    let max = pack.call.promise.as_ref().map_or(u32::MAX, |r| r.max_days);
                    if d <= max {
                        p.concrete = true;
                        p.days = Some(d);
                    } else {
                        too_far = Some(i);
                    }
                }
                Some(When::Dated) if clock => p.concrete = true,
                Some(When::Far) if turn.speaker != Speaker::Agent => too_far = Some(i),
                _ => {}
            }
        }
        timeline.push(TurnState {
            turn: i,
            speaker: turn.speaker,
            party: state.party,
            identity_verified: state.verified,
            third_party_informed: state.informed,
            vulnerable: state.vulnerable,
        });
    }

    let first_agent = agent_turns.first().map_or(0, |(i, _)| *i);
    let last_agent = agent_turns.last().map_or(0, |(i, _)| *i);
    if let Some(check) = &pack.call.opening {
        let n = check.within_turns as usize;
        let first: Vec<&str> = agent_turns
            .iter()
            .take(n)
            .map(|(_, t)| t.as_str())
            .collect();
        let missing = missing_groups(&compiled.opening, &first);
        if !missing.is_empty() {
            findings.push(requirement_finding(
                "call.opening",
                Category::MissingOpening,
                check,
                &missing,
                first_agent,
            ));
        }
    }
    if let Some(check) = &pack.call.closing {
        let n = check.within_turns as usize;
        let last: Vec<&str> = agent_turns
            .iter()
            .rev()
            .take(n)
            .map(|(_, t)| t.as_str())
            .collect();
        let missing = missing_groups(&compiled.closing, &last);
        if !missing.is_empty() {
            findings.push(requirement_finding(
                "call.closing",
                Category::MissingClosing,
                check,
                &missing,
                last_agent,
            ));
        }
    }
    if let (Some(rule), Some(p)) = (&pack.call.promise, &promise) {
        if !p.concrete {
            let (turn, span) = vague
                .or(too_far.map(|t| (t, None)))
                .unwrap_or((p.turn, None));
            let text = transcript.turns.get(turn).map_or("", |t| t.text.as_str());
            let f = CallRule {
                id: "call.promise",
                category: Category::VaguePromise,
                severity: rule.severity,
                message: rule.message.clone(),
                suggestion: rule.suggestion.clone(),
                sources: &rule.sources,
            }
            .at(turn, text, span);
            findings.push(f);
        }
    }
    let (timing_findings, timing_notes) =
        crate::timing::check(&pack.call.timing, &transcript.turns);
    findings.extend(timing_findings);
    findings.sort_by_key(|f| (f.turn, f.start, f.end));

    let mut by_category: BTreeMap<Category, (u32, usize)> = BTreeMap::new();
    for f in &findings {
        let entry = by_category.entry(f.category).or_insert((0, 0));
        entry.0 = entry.0.max(CompiledPack::weight_factor(f.severity));
        entry.1 += 1;
    }
    let deductions: Vec<Deduction> = by_category
        .into_iter()
        .map(|(category, (factor, count))| Deduction {
            category,
            points: pack.scoring.weights.get(&category).copied().unwrap_or(0) * factor / 2,
            findings: count,
        })
        .collect();
    let total: u32 = deductions.iter().map(|d| d.points).sum();
    let auto_fail = findings
        .iter()
        .any(|f| f.severity == Severity::Error && pack.scoring.critical.contains(&f.category));
    Scorecard {
        id: transcript.id.clone(),
        dpd,
        stage: dpd.map(|d| pack.stage_at(d)).and_then(|s| s.stage),
        score: 100u32.saturating_sub(total),
        auto_fail,
        deductions,
        findings,
        counterpart: state.party,
        identity_verified: state.verified,
        vulnerable: state.vulnerable,
        promise,
        timeline,
        meta: transcript.meta.clone(),
        notes: score_notes(transcript, dpd, timing_notes),
    }
}

/// The reader's notes, and one more when no DPD was given: then every stage's rules apply and
/// there is no stage guidance, which a reviewer should know before trusting the score.
fn score_notes(transcript: &Transcript, dpd: Option<u32>, timing: Vec<String>) -> Vec<String> {
    let mut notes = transcript.notes.clone();
    notes.extend(timing);
    if dpd.is_none() {
        notes.push(
            "未提供逾期天数（DPD）：按所有阶段的规则检查，没有阶段指引；请用 --dpd 或文件头 `# dpd: 12` 指定 (no DPD: the rules of every stage applied)"
                .to_string(),
        );
    }
    notes
}

#[cfg(test)]
mod tests {
    use crate::model::{Category, Severity};
    use crate::transcript::{Speaker, Transcript, Turn};
    use crate::Engine;

    fn call(lines: &[(Speaker, &str)]) -> Transcript {
        Transcript {
            id: None,
            dpd: Some(20),
            meta: Default::default(),
            notes: Vec::new(),
            turns: lines
                .iter()
                .map(|(speaker, text)| Turn {
                    speaker: *speaker,
                    text: (*text).to_string(),
                    start: None,
                    end: None,
                })
                .collect(),
        }
    }

    #[test]
    fn name_checks_in_their_common_forms_verify_identity() {
        let engine = Engine::with_embedded_packs().unwrap_or_default();
        let Ok(pack) = engine.get("cn-company") else {
            panic!("cn-company is embedded");
        };
        for (ask, answer) in [
            ("您好，这里是金桥消费金融，刘洋是吧？", "嗯是的"),
            ("您好，请问是刘洋吗？", "对"),
            ("你好，你是不是刘洋？", "是我"),
            ("您好，麻烦找一下刘先生。", "我就是"),
        ] {
            let card = super::score(
                pack,
                &call(&[(Speaker::Agent, ask), (Speaker::Customer, answer)]),
                None,
            );
            assert!(card.identity_verified, "{ask} / {answer}");
        }
        // A question about the debt answered with 对 is not a name check.
        let card = super::score(
            pack,
            &call(&[
                (Speaker::Agent, "您是不是忘记还款了？"),
                (Speaker::Customer, "对"),
            ]),
            None,
        );
        assert!(!card.identity_verified);
    }

    #[test]
    fn a_customer_asking_for_review_raises_a_signal_not_a_deduction() {
        let engine = Engine::with_embedded_packs().unwrap_or_default();
        let Ok(pack) = engine.get("cn-company") else {
            panic!("cn-company is embedded");
        };
        let calm = call(&[
            (Speaker::Agent, "您好，请问是刘洋吗？"),
            (Speaker::Customer, "是我，有什么事"),
        ]);
        let upset = call(&[
            (Speaker::Agent, "您好，请问是刘洋吗？"),
            (
                Speaker::Customer,
                "是我，你们天天打电话，我要投诉，我已经录音了",
            ),
        ]);
        let (calm, upset) = (
            super::score(pack, &calm, None),
            super::score(pack, &upset, None),
        );
        let signal: Vec<_> = upset
            .findings
            .iter()
            .filter(|f| f.category == Category::ReviewNeeded)
            .collect();
        assert_eq!(signal.len(), 1, "{:?}", upset.findings);
        assert_eq!(
            (signal[0].turn, signal[0].severity),
            (Some(1), Severity::Info)
        );
        assert_eq!(upset.score, calm.score);
    }
}
