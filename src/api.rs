//! The typed calls and answers of every operation, and their JSON-string form for the ABI.
//! Answers are data: `{"type":"success", …}` or `{"type":"failure","errors":[…]}`.

use crate::engine::{Engine, DEFAULT_PACK};
use crate::gate::{GateAnswer, GateCall};
use crate::model::{parse_dpd, Channel, Context, Finding, Location, Party, Problem};
use crate::pack::{Calling, Notice, Pack, StageSummary, StageView, ThirdPartyPolicy};
use crate::practice::{Practice, PracticeCall};
use crate::scenario::Goal;
use crate::score::Scorecard;
use crate::transcript::{Format, ParseOptions, Transcript};
use serde::{Deserialize, Serialize};

/// Which pack produced an answer.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct PackStamp {
    pub id: String,
    pub version: String,
    pub sha256: String,
}

impl From<&Pack> for PackStamp {
    fn from(p: &Pack) -> Self {
        PackStamp {
            id: p.id.clone(),
            version: p.version.clone(),
            sha256: p.sha256.clone(),
        }
    }
}

/// The context as callers send it; validated into [`Context`] with clear errors.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ContextInput {
    #[serde(default)]
    pub dpd: Option<i64>,
    /// A stage id of the pack (`M1-2`, `M2` …) instead of a DPD: its first day is used.
    #[serde(default)]
    pub stage: Option<String>,
    #[serde(default)]
    pub party: Option<String>,
    #[serde(default)]
    pub identity_verified: bool,
    #[serde(default)]
    pub third_party_informed: bool,
    #[serde(default)]
    pub vulnerable: bool,
    #[serde(default)]
    pub channel: Option<String>,
}

impl ContextInput {
    pub fn validate(&self) -> Result<Context, Problem> {
        fn field(f: &'static str) -> impl Fn(String) -> Problem {
            move |e| Problem::new("invalid_input", e).field(f)
        }
        Ok(Context {
            dpd: parse_dpd(self.dpd)?,
            party: match &self.party {
                Some(p) => p.parse::<Party>().map_err(field("party"))?,
                None => Party::Debtor,
            },
            identity_verified: self.identity_verified,
            third_party_informed: self.third_party_informed,
            vulnerable: self.vulnerable,
            channel: match &self.channel {
                Some(c) => c.parse::<Channel>().map_err(field("channel"))?,
                None => Channel::Call,
            },
        })
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CheckCall {
    #[serde(default)]
    pub pack: Option<String>,
    pub text: String,
    #[serde(default)]
    pub context: ContextInput,
}

#[derive(Debug, Clone, Serialize)]
pub struct CheckAnswer {
    pub pack: PackStamp,
    pub findings: Vec<Finding>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stage: Option<StageView>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScoreCall {
    #[serde(default)]
    pub pack: Option<String>,
    /// A transcript as JSON: our turns with call metadata, or a speech-to-text result…
    #[serde(default)]
    pub transcript: Option<serde_json::Value>,
    /// …or the text of a transcript file in `format`.
    #[serde(default)]
    pub content: Option<String>,
    #[serde(default)]
    pub format: Option<String>,
    #[serde(default)]
    pub dpd: Option<i64>,
    /// Call id, e.g. the file name; the transcript's own id wins when it has one.
    #[serde(default)]
    pub id: Option<String>,
    /// In a speech-to-text result, the channel (or speaker, from 0) of the agent.
    #[serde(default)]
    pub agent_channel: Option<u32>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ScoreAnswer {
    pub pack: PackStamp,
    #[serde(flatten)]
    pub scorecard: Scorecard,
}

/// A transcript file's text to read into turns (what QA pages show next to a scorecard).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ParseCall {
    pub content: String,
    pub format: String,
    #[serde(default)]
    pub agent_channel: Option<u32>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ParseAnswer {
    pub transcript: Transcript,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GateRequest {
    #[serde(default)]
    pub pack: Option<String>,
    pub contact: GateCall,
}

#[derive(Debug, Clone, Serialize)]
pub struct GateResponse {
    pub pack: PackStamp,
    #[serde(flatten)]
    pub answer: GateAnswer,
}

/// A pack as `packs` lists it.
#[derive(Debug, Clone, Serialize)]
pub struct PackSummary {
    pub id: String,
    pub version: String,
    pub sha256: String,
    pub title: String,
    pub jurisdiction: String,
    pub description: String,
    pub default_utc_offset_minutes: i32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub extends: Option<String>,
    pub chain: Vec<String>,
    pub rules: usize,
    pub calling: Calling,
    pub stages: Vec<StageSummary>,
    pub notices: Vec<Notice>,
}

impl From<&Pack> for PackSummary {
    fn from(p: &Pack) -> Self {
        PackSummary {
            id: p.id.clone(),
            version: p.version.clone(),
            sha256: p.sha256.clone(),
            title: p.title.clone(),
            jurisdiction: p.jurisdiction.clone(),
            description: p.description.clone(),
            default_utc_offset_minutes: p.default_utc_offset_minutes,
            extends: p.extends.clone(),
            chain: p.chain.clone(),
            rules: p.rules.len(),
            calling: p.calling.clone(),
            stages: p.stage_table(),
            notices: p.notices.clone(),
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct PacksAnswer {
    pub default: String,
    pub packs: Vec<PackSummary>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LoadPackCall {
    pub toml: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct LoadPackAnswer {
    pub pack: PackSummary,
}

/// A third party on the line at a stage whose policy is never to contact third parties: an `info`
/// finding (no score deduction) that says what may still be said. A call's score does not use
/// it — a third party who picks up the debtor's phone was not called by the collector — but a
/// collector drafting what to say to a contact at this stage should see it.
fn third_party_stage_notice(stage: &StageView, ctx: &Context) -> Option<Finding> {
    if ctx.party != Party::ThirdParty || stage.third_party_contact != ThirdPartyPolicy::Never {
        return None;
    }
    Some(Finding {
        rule: "stage.third_party_contact".into(),
        category: crate::model::Category::ThirdPartyContact,
        severity: crate::model::Severity::Info,
        start: 0,
        end: 0,
        utf16_start: 0,
        utf16_end: 0,
        excerpt: String::new(),
        message: format!(
            "{}：本阶段不得主动联系第三方；如系第三方代接，只请其转告回电，不谈任何债务信息。",
            if stage.name.is_empty() {
                "当前阶段"
            } else {
                &stage.name
            }
        ),
        suggestion: None,
        sources: stage.sources.clone(),
        turn: None,
        rewrite: None,
    })
}

/// A scenario as the trainer's page lists it (without its script, which the trainee meets live).
#[derive(Debug, Clone, Serialize)]
pub struct ScenarioSummary {
    pub id: String,
    pub title: String,
    pub summary: String,
    pub persona: String,
    pub pack: String,
    pub dpd: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stage: Option<String>,
    pub counterpart: Party,
    pub debtor: String,
    pub sources: Vec<String>,
    pub max_replies: usize,
    pub objectives: Vec<ObjectiveSummary>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ObjectiveSummary {
    pub id: String,
    pub label: String,
    pub goal: Goal,
}

#[derive(Debug, Clone, Serialize)]
pub struct ScenariosAnswer {
    pub scenarios: Vec<ScenarioSummary>,
}

#[derive(Debug, Clone, Serialize)]
pub struct PracticeAnswer {
    pub pack: PackStamp,
    #[serde(flatten)]
    pub practice: Practice,
}

impl Engine {
    pub fn scenarios_answer(&self) -> ScenariosAnswer {
        let scenarios = self
            .scenarios()
            .map(|s| {
                let pack = s.pack.clone().unwrap_or_else(|| DEFAULT_PACK.to_string());
                let stage = self
                    .get(&pack)
                    .ok()
                    .and_then(|c| c.pack.stage_at(s.dpd).stage);
                ScenarioSummary {
                    id: s.id.clone(),
                    title: s.title.clone(),
                    summary: s.summary.clone(),
                    persona: s.persona.clone(),
                    pack,
                    dpd: s.dpd,
                    stage,
                    counterpart: s.counterpart,
                    debtor: s.debtor.clone(),
                    sources: s.sources.clone(),
                    max_replies: s.max_replies,
                    objectives: s
                        .objectives
                        .iter()
                        .map(|o| ObjectiveSummary {
                            id: o.id.clone(),
                            label: o.label.clone(),
                            goal: o.goal,
                        })
                        .collect(),
                }
            })
            .collect();
        ScenariosAnswer { scenarios }
    }

    pub fn practice_call(&self, call: &PracticeCall) -> Result<PracticeAnswer, Problem> {
        let scenario = self.scenario(&call.scenario)?;
        let compiled = self.pack_for(&scenario.pack)?;
        if let Some((i, long)) = call
            .replies
            .iter()
            .enumerate()
            .find(|(_, r)| r.len() > crate::model::MAX_UTTERANCE_BYTES)
        {
            return Err(Problem::new(
                "input_too_large",
                format!(
                    "第 {} 句回复过长：{} 字节，一次最多检查 {} 字节（reply {i} is too large）",
                    i + 1,
                    long.len(),
                    crate::model::MAX_UTTERANCE_BYTES
                ),
            )
            .field("replies"));
        }
        let practice = crate::practice::practice(compiled, scenario, &call.replies)?;
        Ok(PracticeAnswer {
            pack: (&compiled.pack).into(),
            practice,
        })
    }

    fn pack_for(&self, id: &Option<String>) -> Result<&crate::compiled::CompiledPack, Problem> {
        self.get(id.as_deref().unwrap_or(DEFAULT_PACK))
    }

    pub fn check_call(&self, call: &CheckCall) -> Result<CheckAnswer, Problem> {
        let compiled = self.pack_for(&call.pack)?;
        let mut ctx = call.context.validate()?;
        if let (None, Some(stage)) = (ctx.dpd, &call.context.stage) {
            let stages = compiled
                .pack
                .stage_layers
                .iter()
                .flat_map(|l| l.stages.iter());
            let found = stages.clone().find(|s| &s.id == stage).ok_or_else(|| {
                let known: Vec<&str> = stages.map(|s| s.id.as_str()).collect();
                Problem::new(
                    "invalid_input",
                    format!(
                        "规则包 `{}` 中没有阶段 `{stage}`（unknown stage `{stage}` in pack `{}`）",
                        compiled.pack.id, compiled.pack.id
                    ),
                )
                .help(format!("可用的阶段 (known stages): {}", known.join(", ")))
                .field("context.stage")
            })?;
            ctx.dpd = Some(found.from);
        }
        let mut findings = self.check(&compiled.pack.id, &call.text, &ctx)?;
        let stage = ctx.dpd.map(|d| compiled.pack.stage_at(d));
        if let Some(notice) = stage
            .as_ref()
            .and_then(|s| third_party_stage_notice(s, &ctx))
        {
            findings.insert(0, notice);
        }
        Ok(CheckAnswer {
            pack: (&compiled.pack).into(),
            findings,
            stage,
        })
    }

    pub fn score_call(&self, call: &ScoreCall) -> Result<ScoreAnswer, Problem> {
        let compiled = self.pack_for(&call.pack)?;
        let dpd = parse_dpd(call.dpd)?;
        let options = ParseOptions {
            agent_channel: call.agent_channel.unwrap_or(0),
        };
        let mut transcript = match (&call.transcript, &call.content) {
            (Some(t), None) => crate::transcript::from_value(t.clone(), options)?,
            (None, Some(content)) => {
                let format = call
                    .format
                    .as_deref()
                    .unwrap_or("json")
                    .parse::<Format>()
                    .map_err(|e| Problem::new("invalid_input", e).field("format"))?;
                crate::transcript::parse_with(content, format, options)?
            }
            _ => {
                return Err(Problem::new(
                    "invalid_input",
                    "请给出 `transcript`（JSON 轮次）或 `content`（文件文本及 `format`）之一（give exactly one of `transcript` or `content`）",
                ))
            }
        };
        if transcript.turns.is_empty() {
            return Err(Problem::new(
                "empty_transcript",
                "转写中没有任何对话（transcript has no turns）",
            )
            .field("transcript"));
        }
        let total: usize = transcript.turns.iter().map(|t| t.text.len()).sum();
        if total > crate::model::MAX_TRANSCRIPT_BYTES {
            return Err(Problem::new(
                "input_too_large",
                format!(
                    "转写文本过长：{total} 字节，一次最多评分 {} 字节（transcript text is too large）",
                    crate::model::MAX_TRANSCRIPT_BYTES
                ),
            ));
        }
        if transcript.id.is_none() {
            transcript.id = call.id.clone();
        }
        let scorecard = crate::score::score(compiled, &transcript, dpd);
        Ok(ScoreAnswer {
            pack: (&compiled.pack).into(),
            scorecard,
        })
    }

    pub fn parse_call(&self, call: &ParseCall) -> Result<ParseAnswer, Problem> {
        let format = call
            .format
            .parse::<Format>()
            .map_err(|e| Problem::new("invalid_input", e).field("format"))?;
        let options = ParseOptions {
            agent_channel: call.agent_channel.unwrap_or(0),
        };
        Ok(ParseAnswer {
            transcript: crate::transcript::parse_with(&call.content, format, options)?,
        })
    }

    pub fn gate_call(&self, call: &GateRequest) -> Result<GateResponse, Problem> {
        let compiled = self.pack_for(&call.pack)?;
        let answer = crate::gate::gate(compiled, &call.contact)?;
        Ok(GateResponse {
            pack: (&compiled.pack).into(),
            answer,
        })
    }

    pub fn packs_answer(&self) -> PacksAnswer {
        PacksAnswer {
            default: DEFAULT_PACK.to_string(),
            packs: self.packs().map(PackSummary::from).collect(),
        }
    }

    pub fn load_pack_call(&mut self, call: &LoadPackCall) -> Result<LoadPackAnswer, Vec<Problem>> {
        let compiled = self.load_pack(&call.toml, true)?;
        Ok(LoadPackAnswer {
            pack: (&compiled.pack).into(),
        })
    }
}

thread_local! {
    static INSTANCE_ENGINE: std::cell::RefCell<Option<Result<Engine, Vec<Problem>>>> =
        const { std::cell::RefCell::new(None) };
}

/// Runs `f` with the engine of this WebAssembly instance, built with the embedded packs on first
/// use; if it cannot be built, every call answers with that failure. The two wasm adapters (the
/// C-ABI and wasm-bindgen) each keep one engine per instance through this.
pub fn with_instance_engine(f: impl FnOnce(&mut Engine) -> String) -> String {
    INSTANCE_ENGINE.with(|cell| {
        let mut slot = cell.borrow_mut();
        match slot.get_or_insert_with(Engine::with_embedded_packs) {
            Ok(engine) => f(engine),
            Err(problems) => envelope::<()>(Err(problems.clone())),
        }
    })
}

#[derive(Serialize)]
struct Success<'a, T: Serialize> {
    r#type: &'static str,
    #[serde(flatten)]
    answer: &'a T,
}

#[derive(Serialize)]
struct Failure<'a> {
    r#type: &'static str,
    errors: &'a [Problem],
}

/// Serializes an answer in the success / failure envelope.
pub fn envelope<T: Serialize>(result: Result<T, Vec<Problem>>) -> String {
    let text = match &result {
        Ok(answer) => serde_json::to_string(&Success {
            r#type: "success",
            answer,
        }),
        Err(errors) => serde_json::to_string(&Failure {
            r#type: "failure",
            errors,
        }),
    };
    text.unwrap_or_else(|e| {
        format!(r#"{{"type":"failure","errors":[{{"message":"cannot serialize answer: {}","help":"","code":"internal"}}]}}"#, e.to_string().replace('"', "'"))
    })
}

/// Parses a call's JSON with an error that says where.
pub fn parse_call<T: for<'de> Deserialize<'de>>(json: &str) -> Result<T, Vec<Problem>> {
    serde_json::from_str(json).map_err(|e| {
        let location = Location {
            line: Some(e.line()),
            column: Some(e.column()),
            ..Location::default()
        };
        let problem = match crate::suggest::did_you_mean(&e.to_string()) {
            Some((unknown, meant)) => Problem::new(
                "invalid_json",
                format!("调用中有未知字段 `{unknown}`，是否想写 `{meant}`？拼错的字段会改变判断，所以不予接受 (invalid call: {e})"),
            )
            .help(format!("did you mean `{meant}`?")),
            None => Problem::new("invalid_json", format!("调用格式不对 (invalid call): {e}")),
        };
        vec![problem.at(location)]
    })
}

/// The JSON-string operations the ABI exports, one per entry point.
pub fn check_json(engine: &Engine, json: &str) -> String {
    envelope(parse_call::<CheckCall>(json).and_then(|c| engine.check_call(&c).map_err(|p| vec![p])))
}

pub fn score_json(engine: &Engine, json: &str) -> String {
    envelope(parse_call::<ScoreCall>(json).and_then(|c| engine.score_call(&c).map_err(|p| vec![p])))
}

pub fn parse_json(engine: &Engine, json: &str) -> String {
    envelope(parse_call::<ParseCall>(json).and_then(|c| engine.parse_call(&c).map_err(|p| vec![p])))
}

pub fn gate_json(engine: &Engine, json: &str) -> String {
    envelope(
        parse_call::<GateRequest>(json).and_then(|c| engine.gate_call(&c).map_err(|p| vec![p])),
    )
}

pub fn scenarios_json(engine: &Engine) -> String {
    envelope::<ScenariosAnswer>(Ok(engine.scenarios_answer()))
}

pub fn practice_json(engine: &Engine, json: &str) -> String {
    envelope(
        parse_call::<PracticeCall>(json)
            .and_then(|c| engine.practice_call(&c).map_err(|p| vec![p])),
    )
}

pub fn packs_json(engine: &Engine) -> String {
    envelope::<PacksAnswer>(Ok(engine.packs_answer()))
}

pub fn load_pack_json(engine: &mut Engine, json: &str) -> String {
    envelope(parse_call::<LoadPackCall>(json).and_then(|c| engine.load_pack_call(&c)))
}

/// Runs the examples of every loaded pack (a server checks a module this way before serving it).
#[derive(Debug, Clone, Serialize)]
pub struct SelfTestAnswer {
    pub packs: usize,
    pub rules: usize,
    pub examples: usize,
}

pub fn self_test_json(engine: &Engine) -> String {
    let mut problems = Vec::new();
    let (mut packs, mut rules, mut examples) = (0, 0, 0);
    for id in engine.pack_ids() {
        if let Ok(compiled) = engine.get(&id) {
            packs += 1;
            rules += compiled.pack.rules.len();
            examples += compiled
                .pack
                .rules
                .iter()
                .map(|r| r.bad.len() + r.allows.len())
                .sum::<usize>();
            problems.extend(crate::engine::self_test_examples(compiled));
        }
    }
    if problems.is_empty() {
        envelope::<SelfTestAnswer>(Ok(SelfTestAnswer {
            packs,
            rules,
            examples,
        }))
    } else {
        envelope::<SelfTestAnswer>(Err(problems))
    }
}
