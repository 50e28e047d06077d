//! `gate`: may this contact happen now? Time is an input: the attempt's instant with its offset,
//! the debtor's possible UTC offsets (every one must be inside the calling window) and the
//! history of earlier attempts. Days are the debtor's local calendar days; with several possible
//! offsets an earlier attempt counts as "today" when it is the same local day under any of them.

use crate::compiled::CompiledPack;
use crate::model::{Category, Channel, Finding, Party, Problem, Severity};
use crate::pack::{parse_utc_offset, Limit, StageView, ThirdPartyPolicy};
use chrono::{DateTime, Duration, FixedOffset, TimeZone, Timelike};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GateCall {
    pub at: String,
    #[serde(default)]
    pub debtor_utc_offsets: Vec<String>,
    #[serde(default = "default_party")]
    pub party: String,
    #[serde(default)]
    pub phone: Option<String>,
    #[serde(default = "default_channel")]
    pub channel: String,
    #[serde(default)]
    pub dpd: Option<i64>,
    #[serde(default)]
    pub history: Vec<Attempt>,
    /// Whether the debtor cannot be reached; when absent it is derived from the history: no
    /// connected call with the debtor in the last 3 days and at least one unanswered attempt.
    #[serde(default)]
    pub debtor_unreachable: Option<bool>,
    /// Whether the debtor has broken a promise to pay (opens contacts at some stages).
    #[serde(default)]
    pub broken_promise: bool,
    /// Collectors going on a field visit.
    #[serde(default)]
    pub collectors: Option<u32>,
}

fn default_party() -> String {
    "debtor".into()
}

fn default_channel() -> String {
    "call".into()
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Attempt {
    pub at: String,
    #[serde(default = "default_party")]
    pub party: String,
    #[serde(default)]
    pub phone: Option<String>,
    /// connected / unanswered / refused (a third party asked not to be called again).
    pub outcome: String,
    #[serde(default = "default_channel")]
    pub channel: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    Connected,
    Unanswered,
    Refused,
}

struct ParsedAttempt {
    at: DateTime<FixedOffset>,
    party: Party,
    phone: Option<String>,
    outcome: Outcome,
    channel: Channel,
}

/// Today's counts against the limits, for the collector's clock.
#[derive(Debug, Clone, Serialize)]
pub struct Counts {
    pub debtor_connected_today: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub debtor_connected_limit: Option<u32>,
    pub phone_attempts_today: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub phone_attempts_limit: Option<u32>,
    pub third_party_calls_today: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub third_party_calls_limit: Option<u32>,
}

#[derive(Debug, Clone, Serialize)]
pub struct GateAnswer {
    pub allowed: bool,
    pub findings: Vec<Finding>,
    pub next_allowed_at: Option<String>,
    /// The attempt's time in each of the debtor's offsets.
    pub debtor_local_times: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stage: Option<StageView>,
    pub today: Counts,
}

fn bad(field: &str, message: String) -> Problem {
    Problem::new("invalid_input", message).field(field)
}

fn parse_time(field: &str, text: &str) -> Result<DateTime<FixedOffset>, Problem> {
    DateTime::parse_from_rfc3339(text).map_err(|e| {
        bad(
            field,
            format!("`{field}` 需要带时区偏移的时间，如 `2026-11-22T20:30:00+08:00`：收到 `{}`（must be an RFC 3339 time with an offset: {e}）", crate::model::quote(text, 60)),
        )
    })
}

fn parse_named<T: std::str::FromStr<Err = String>>(field: &str, text: &str) -> Result<T, Problem> {
    text.parse::<T>().map_err(|e| bad(field, e))
}

struct Gate<'a> {
    compiled: &'a CompiledPack,
    offsets: Vec<FixedOffset>,
    party: Party,
    phone: Option<String>,
    channel: Channel,
    dpd: Option<u32>,
    history: Vec<ParsedAttempt>,
    unreachable: bool,
    broken_promise: bool,
    collectors: Option<u32>,
}

/// A violation and whether waiting can cure it.
struct Violation {
    finding: Finding,
    curable: bool,
}

fn finding(rule: &str, category: Category, message: String, sources: &[String]) -> Finding {
    Finding {
        rule: rule.to_string(),
        category,
        severity: Severity::Error,
        start: 0,
        end: 0,
        utf16_start: 0,
        utf16_end: 0,
        excerpt: String::new(),
        message,
        suggestion: None,
        sources: sources.to_vec(),
        turn: None,
        rewrite: None,
    }
}

fn hhmm(minute: u32) -> String {
    format!("{:02}:{:02}", minute / 60, minute % 60)
}

impl Gate<'_> {
    fn same_local_day(&self, a: DateTime<FixedOffset>, b: DateTime<FixedOffset>) -> bool {
        self.offsets
            .iter()
            .any(|o| a.with_timezone(o).date_naive() == b.with_timezone(o).date_naive())
    }

    fn dpd_at(&self, start: DateTime<FixedOffset>, t: DateTime<FixedOffset>) -> Option<u32> {
        let primary = self.offsets.first()?;
        let days = (t.with_timezone(primary).date_naive()
            - start.with_timezone(primary).date_naive())
        .num_days();
        self.dpd.map(|d| d.saturating_add(days.max(0) as u32))
    }

    fn counts(&self, t: DateTime<FixedOffset>) -> Counts {
        let calling = &self.compiled.pack.calling;
        let today = |a: &&ParsedAttempt| a.at <= t && self.same_local_day(a.at, t);
        let calls = || {
            self.history
                .iter()
                .filter(|a| a.channel == Channel::Call)
                .filter(today)
        };
        let same_phone = |a: &&ParsedAttempt| self.phone.is_some() && a.phone == self.phone;
        Counts {
            debtor_connected_today: calls()
                .filter(|a| a.party == Party::Debtor && a.outcome == Outcome::Connected)
                .count() as u32,
            debtor_connected_limit: calling.debtor_connected_per_day.as_ref().map(|l| l.limit),
            phone_attempts_today: calls().filter(same_phone).count() as u32,
            phone_attempts_limit: calling.attempts_per_phone_per_day.as_ref().map(|l| l.limit),
            third_party_calls_today: calls()
                .filter(same_phone)
                .filter(|a| a.party == Party::ThirdParty)
                .count() as u32,
            third_party_calls_limit: calling.third_party_calls_per_day.as_ref().map(|l| l.limit),
        }
    }

    fn violations(&self, start: DateTime<FixedOffset>, t: DateTime<FixedOffset>) -> Vec<Violation> {
        let pack = &self.compiled.pack;
        let calling = &pack.calling;
        let mut out = Vec::new();
        if self.channel != Channel::Letter {
            if let Some(w) = &calling.window {
                for o in &self.offsets {
                    let local = t.with_timezone(o);
                    let minute = local.hour() * 60 + local.minute();
                    if minute < w.start_minute || minute >= w.end_minute {
                        out.push(Violation {
                            finding: finding(
                                "calling.window",
                                Category::OutsideCallingWindow,
                                format!(
                                    "债务人当地时间 {}（UTC{}）不在允许的联系时段 {}–{} 内",
                                    local.format("%H:%M"),
                                    o,
                                    hhmm(w.start_minute),
                                    hhmm(w.end_minute)
                                ),
                                &w.sources,
                            ),
                            curable: true,
                        });
                        break;
                    }
                }
            }
        }
        if self.channel == Channel::Call {
            let counts = self.counts(t);
            fn over(count: u32, limit: &Option<Limit>) -> Option<&Limit> {
                limit.as_ref().filter(|l| count >= l.limit)
            }
            if self.party == Party::Debtor {
                if let Some(l) = over(
                    counts.debtor_connected_today,
                    &calling.debtor_connected_per_day,
                ) {
                    out.push(Violation {
                        finding: finding(
                            "calling.debtor_connected_per_day",
                            Category::ContactFrequency,
                            format!(
                                "今日已与债务人接通 {} 次，已达每日上限 {} 次",
                                counts.debtor_connected_today, l.limit
                            ),
                            &l.sources,
                        ),
                        curable: true,
                    });
                }
            }
            if let Some(l) = over(
                counts.phone_attempts_today,
                &calling.attempts_per_phone_per_day,
            ) {
                out.push(Violation {
                    finding: finding(
                        "calling.attempts_per_phone_per_day",
                        Category::ContactFrequency,
                        format!(
                            "今日已拨打该号码 {} 次，已达每日上限 {} 次",
                            counts.phone_attempts_today, l.limit
                        ),
                        &l.sources,
                    ),
                    curable: true,
                });
            }
            if self.party == Party::ThirdParty {
                if let Some(l) = over(
                    counts.third_party_calls_today,
                    &calling.third_party_calls_per_day,
                ) {
                    out.push(Violation {
                        finding: finding(
                            "calling.third_party_calls_per_day",
                            Category::ContactFrequency,
                            format!(
                                "今日已致电该第三人 {} 次，已达每日上限 {} 次",
                                counts.third_party_calls_today, l.limit
                            ),
                            &l.sources,
                        ),
                        curable: true,
                    });
                }
            }
        }
        if matches!(self.party, Party::ThirdParty | Party::Minor) {
            if let Some(flag) = calling.stop_after_refusal.as_ref().filter(|f| f.enabled) {
                let refused = self.history.iter().any(|a| {
                    a.outcome == Outcome::Refused
                        && a.party != Party::Debtor
                        && self.phone.is_some()
                        && a.phone == self.phone
                });
                if refused {
                    out.push(Violation {
                        finding: finding(
                            "calling.third_party_refused",
                            Category::ThirdPartyContact,
                            "该第三人已明确拒绝，应停止联系".to_string(),
                            &flag.sources,
                        ),
                        curable: false,
                    });
                }
            }
            if let Some(dpd) = self.dpd_at(start, t) {
                let view = pack.stage_at(dpd);
                let allowed = match view.third_party_contact {
                    ThirdPartyPolicy::Never => false,
                    ThirdPartyPolicy::IfUnreachable => self.unreachable,
                    ThirdPartyPolicy::IfUnreachableOrBrokenPromise => {
                        self.unreachable || self.broken_promise
                    }
                    ThirdPartyPolicy::Allowed => true,
                };
                if !allowed {
                    let why = match view.third_party_contact {
                        ThirdPartyPolicy::Never => {
                            format!("逾期第 {dpd} 天（{}）不得联系第三人", view.name)
                        }
                        ThirdPartyPolicy::IfUnreachable => {
                            format!("逾期第 {dpd} 天仅在无法联系债务人本人时才可联系第三人")
                        }
                        _ => {
                            format!("逾期第 {dpd} 天仅在无法联系债务人或其屡次爽约时才可联系第三人")
                        }
                    };
                    // Waiting helps only when a later stage opens contacts and nothing else is needed.
                    let curable = view.third_party_contact == ThirdPartyPolicy::Never;
                    out.push(Violation {
                        finding: finding(
                            "stage.third_party_contact",
                            Category::ThirdPartyContact,
                            why,
                            &view.sources,
                        ),
                        curable,
                    });
                }
            }
        }
        if self.channel == Channel::Visit {
            if let Some(l) = &calling.visit_min_collectors {
                let n = self.collectors.unwrap_or(1);
                if n < l.limit {
                    out.push(Violation {
                        finding: finding(
                            "visit.min_collectors",
                            Category::FieldVisit,
                            format!("上门催收须至少 {} 人同行，本次仅 {n} 人", l.limit),
                            &l.sources,
                        ),
                        curable: false,
                    });
                }
            }
        }
        out
    }

    /// The first instant after `start` with no violation: window openings in every offset over
    /// the next 60 days are the only candidates, since limits reset at local midnight and the
    /// window opens after it.
    fn next_allowed(&self, start: DateTime<FixedOffset>) -> Option<DateTime<FixedOffset>> {
        let window_start = self
            .compiled
            .pack
            .calling
            .window
            .as_ref()
            .map_or(0, |w| w.start_minute);
        let mut candidates: Vec<DateTime<FixedOffset>> = Vec::new();
        for o in &self.offsets {
            let base = start.with_timezone(o).date_naive();
            for d in 0..=60 {
                let date = base + Duration::days(d);
                let Some(naive) = date.and_hms_opt(window_start / 60, window_start % 60, 0) else {
                    continue;
                };
                if let Some(t) = o.from_local_datetime(&naive).single() {
                    if t > start {
                        candidates.push(t);
                    }
                }
            }
        }
        candidates.sort();
        candidates
            .into_iter()
            .find(|&t| self.violations(start, t).is_empty())
    }
}

/// Decides whether the contact in `call` may happen now.
pub fn gate(compiled: &CompiledPack, call: &GateCall) -> Result<GateAnswer, Problem> {
    let at = parse_time("at", &call.at)?;
    let mut offsets = Vec::new();
    for (i, text) in call.debtor_utc_offsets.iter().enumerate() {
        let minutes = parse_utc_offset(text).ok_or_else(|| {
            bad(
                "debtor_utc_offsets",
                format!(
                    "第 {} 个时区偏移 `{}` 格式不对，应形如 `+08:00`（debtor_utc_offsets[{i}] is not an offset）",
                    i + 1,
                    crate::model::quote(text, 40)
                ),
            )
        })?;
        offsets.push(FixedOffset::east_opt(minutes * 60).ok_or_else(|| {
            bad(
                "debtor_utc_offsets",
                format!("时区偏移 `{text}` 超出范围（offset out of range）"),
            )
        })?);
    }
    if offsets.is_empty() {
        let minutes = compiled.pack.default_utc_offset_minutes;
        offsets.push(
            FixedOffset::east_opt(minutes * 60)
                .ok_or_else(|| bad("pack", "pack default offset out of range".into()))?,
        );
    }
    let party: Party = parse_named("party", &call.party)?;
    let channel: Channel = parse_named("channel", &call.channel)?;
    let dpd = crate::model::parse_dpd(call.dpd)?;
    let mut history = Vec::with_capacity(call.history.len());
    for (i, a) in call.history.iter().enumerate() {
        let field = format!("history[{i}]");
        let outcome = match a.outcome.as_str() {
            "connected" => Outcome::Connected,
            "unanswered" => Outcome::Unanswered,
            "refused" => Outcome::Refused,
            other => {
                return Err(bad(&field, format!("{field}.outcome 取值不认识：`{}`，可选：connected（接通）、unanswered（未接）、refused（拒绝）", crate::model::quote(other, 40))))
            }
        };
        history.push(ParsedAttempt {
            at: parse_time(&format!("{field}.at"), &a.at)?,
            party: parse_named(&format!("{field}.party"), &a.party)?,
            phone: a.phone.clone(),
            outcome,
            channel: parse_named(&format!("{field}.channel"), &a.channel)?,
        });
    }
    let derived_unreachable = {
        let recent = |a: &&ParsedAttempt| {
            a.party == Party::Debtor && a.at <= at && at - a.at <= Duration::days(3)
        };
        let connected = history
            .iter()
            .filter(recent)
            .any(|a| a.outcome == Outcome::Connected);
        let tried = history
            .iter()
            .filter(recent)
            .any(|a| a.outcome == Outcome::Unanswered);
        !connected && tried
    };
    let gate = Gate {
        compiled,
        offsets,
        party,
        phone: call.phone.clone(),
        channel,
        dpd,
        history,
        unreachable: call.debtor_unreachable.unwrap_or(derived_unreachable),
        broken_promise: call.broken_promise,
        collectors: call.collectors,
    };
    let violations = gate.violations(at, at);
    let allowed = violations.is_empty();
    let next_allowed_at = if allowed || violations.iter().any(|v| !v.curable) {
        None
    } else {
        let primary = gate.offsets.first().copied();
        gate.next_allowed(at)
            .map(|t| primary.map_or(t, |o| t.with_timezone(&o)).to_rfc3339())
    };
    Ok(GateAnswer {
        allowed,
        findings: violations.into_iter().map(|v| v.finding).collect(),
        next_allowed_at,
        debtor_local_times: gate
            .offsets
            .iter()
            .map(|o| at.with_timezone(o).to_rfc3339())
            .collect(),
        stage: dpd.map(|d| compiled.pack.stage_at(d)),
        today: gate.counts(at),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::Engine;

    fn run(json: &str) -> GateAnswer {
        let engine = Engine::with_embedded_packs().unwrap_or_else(|p| panic!("{p:?}"));
        let compiled = engine.get("cn-company").unwrap_or_else(|p| panic!("{p}"));
        let call: GateCall = serde_json::from_str(json).unwrap_or_else(|e| panic!("{e}"));
        gate(compiled, &call).unwrap_or_else(|p| panic!("{p}"))
    }

    #[test]
    fn late_evening_call_waits_for_the_morning() {
        let a = run(
            r#"{"at":"2026-11-22T21:30:00+08:00","debtor_utc_offsets":["+08:00"],"party":"debtor","phone":"13800000000","channel":"call","dpd":10,"history":[]}"#,
        );
        assert!(!a.allowed);
        assert_eq!(
            a.next_allowed_at.as_deref(),
            Some("2026-11-23T08:00:00+08:00")
        );
    }

    #[test]
    fn every_possible_offset_must_be_inside_the_window() {
        // 08:30 in Beijing is 07:30 in Bangkok (+07:00): not yet.
        let a = run(
            r#"{"at":"2026-11-23T08:30:00+08:00","debtor_utc_offsets":["+08:00","+07:00"],"dpd":3}"#,
        );
        assert!(!a.allowed);
        assert_eq!(
            a.next_allowed_at.as_deref(),
            Some("2026-11-23T09:00:00+08:00")
        );
    }

    #[test]
    fn third_connected_call_is_the_last_of_the_day() {
        let h = r#"[{"at":"2026-11-23T09:00:00+08:00","party":"debtor","phone":"1","outcome":"connected"},{"at":"2026-11-23T11:00:00+08:00","party":"debtor","phone":"1","outcome":"connected"},{"at":"2026-11-23T14:00:00+08:00","party":"debtor","phone":"1","outcome":"connected"}]"#;
        let a = run(&format!(
            r#"{{"at":"2026-11-23T16:00:00+08:00","party":"debtor","phone":"1","dpd":12,"history":{h}}}"#
        ));
        assert!(!a.allowed);
        assert!(a
            .findings
            .iter()
            .any(|f| f.category == Category::ContactFrequency));
        assert_eq!(
            a.next_allowed_at.as_deref(),
            Some("2026-11-24T08:00:00+08:00")
        );
    }

    #[test]
    fn contacts_are_off_limits_in_the_first_five_days() {
        let a = run(
            r#"{"at":"2026-11-23T10:00:00+08:00","party":"third_party","phone":"2","dpd":3,"debtor_unreachable":true}"#,
        );
        assert!(!a.allowed);
        assert!(a
            .findings
            .iter()
            .any(|f| f.rule == "stage.third_party_contact"));
        // Day 6 opens contacts when the debtor cannot be reached.
        assert_eq!(
            a.next_allowed_at.as_deref(),
            Some("2026-11-26T08:00:00+08:00")
        );
    }
}
