//! Speech-to-text results read natively, recognised from their content:
//! - Aliyun 录音文件识别: `Result.Sentences[]` with `ChannelId` (and `SpeakerId` when a mono
//!   recording is diarized), times in ms;
//! - Tencent Cloud 录音文件识别: `Response.Data.ResultDetail[]` with `SpeakerId`, `StartMs`,
//!   `EndMs`, `FinalSentence`;
//! - iFlytek 录音文件转写: `content.orderResult`, a JSON string whose `lattice[].json_1best` (itself
//!   a JSON string) holds `st.bg` / `st.ed` (ms) / `st.rl` (role, from 1) and the words;
//! - FunASR / Paraformer: `sentence_info[]` with `spk`, `start` / `end` in ms;
//! - Whisper (`segments[]`, seconds, no speakers) and WhisperX (`speaker: "SPEAKER_00"`).
//!
//! Every vendor's speakers become numbers from 0 (a channel, or the vendor's speaker label
//! counted from 0); `agent_channel` is the agent, everyone else the customer. Consecutive pieces
//! of one speaker are one turn. The transcript's notes say which reader ran and who was taken
//! for the agent.

use super::{ParseOptions, Speaker, Transcript, Turn};
use crate::model::Problem;
use serde_json::Value;

/// One piece of speech: who (from 0), when (seconds), what.
struct Piece {
    speaker: Option<u32>,
    start: Option<f64>,
    end: Option<f64>,
    text: String,
}

fn ms(v: Option<&Value>) -> Option<f64> {
    match v? {
        Value::Number(n) => n.as_f64().map(|x| x / 1000.0),
        Value::String(s) => s.trim().parse::<f64>().ok().map(|x| x / 1000.0),
        _ => None,
    }
}

fn secs(v: Option<&Value>) -> Option<f64> {
    v?.as_f64()
}

fn text_of(v: Option<&Value>) -> String {
    v.and_then(Value::as_str).unwrap_or("").trim().to_string()
}

/// A speaker id as a number: an integer, a numeric string, or the digits of `SPEAKER_01`.
fn number(v: Option<&Value>) -> Option<u32> {
    match v? {
        Value::Number(n) => n.as_u64().and_then(|x| u32::try_from(x).ok()),
        Value::String(s) => {
            let digits: String = s.chars().filter(char::is_ascii_digit).collect();
            digits.parse().ok()
        }
        _ => None,
    }
}

/// Reads `value` if it is a result of a known vendor; `None` if it is none of them.
pub(super) fn read(value: &Value, options: ParseOptions) -> Option<Result<Transcript, Problem>> {
    let (vendor, pieces) = if let Some(sentences) = value.pointer("/Result/Sentences") {
        ("阿里云录音文件识别 (Aliyun)", aliyun(sentences))
    } else if let Some(detail) = value.pointer("/Response/Data/ResultDetail") {
        ("腾讯云录音文件识别 (Tencent Cloud ASR)", tencent(detail))
    } else if let Some(order) = value
        .pointer("/content/orderResult")
        .or_else(|| value.get("orderResult"))
        .or_else(|| value.get("lattice").map(|_| value))
    {
        ("讯飞录音文件转写 (iFlytek)", iflytek(order))
    } else if let Some(info) = funasr_info(value) {
        ("FunASR / Paraformer", funasr(info))
    } else if let Some(segments) = value.get("segments").and_then(Value::as_array) {
        ("Whisper / WhisperX", whisper(segments))
    } else {
        return None;
    };
    Some(pieces.and_then(|pieces| turns(vendor, pieces, options)))
}

fn not_a_list(vendor: &str, what: &str) -> Problem {
    Problem::new(
        "invalid_transcript",
        format!("{vendor} 结果中的 `{what}` 应为数组 (`{what}` must be an array)"),
    )
    .field(what)
}

fn aliyun(sentences: &Value) -> Result<Vec<Piece>, Problem> {
    let items = sentences
        .as_array()
        .ok_or_else(|| not_a_list("阿里云", "Result.Sentences"))?;
    let channels: std::collections::BTreeSet<Option<u32>> =
        items.iter().map(|s| number(s.get("ChannelId"))).collect();
    // Two channels: the channel is the speaker. One channel with diarization: `SpeakerId`, which
    // counts from 1.
    let by_channel = channels.len() > 1 || items.iter().all(|s| s.get("SpeakerId").is_none());
    Ok(items
        .iter()
        .map(|s| Piece {
            speaker: if by_channel {
                number(s.get("ChannelId"))
            } else {
                number(s.get("SpeakerId")).map(|n| n.saturating_sub(1))
            },
            start: ms(s.get("BeginTime")),
            end: ms(s.get("EndTime")),
            text: text_of(s.get("Text")),
        })
        .collect())
}

fn tencent(detail: &Value) -> Result<Vec<Piece>, Problem> {
    let items = detail
        .as_array()
        .ok_or_else(|| not_a_list("腾讯云", "Response.Data.ResultDetail"))?;
    Ok(items
        .iter()
        .map(|s| Piece {
            speaker: number(s.get("SpeakerId")),
            start: ms(s.get("StartMs")),
            end: ms(s.get("EndMs")),
            text: text_of(s.get("FinalSentence")),
        })
        .collect())
}

/// A JSON value that may be given as a string holding JSON (iFlytek nests them).
fn unnest(v: &Value) -> Result<Value, Problem> {
    match v {
        Value::String(s) => serde_json::from_str(s).map_err(|e| {
            Problem::new(
                "invalid_transcript",
                format!("讯飞结果中嵌套的 JSON 无法解析 (nested iFlytek JSON is invalid): {e}"),
            )
        }),
        other => Ok(other.clone()),
    }
}

fn iflytek(order: &Value) -> Result<Vec<Piece>, Problem> {
    let order = unnest(order)?;
    let lattice = order
        .get("lattice")
        .or_else(|| order.get("lattice2"))
        .and_then(Value::as_array)
        .ok_or_else(|| not_a_list("讯飞", "orderResult.lattice"))?;
    let mut pieces = Vec::new();
    for item in lattice {
        let best = unnest(item.get("json_1best").unwrap_or(&Value::Null))?;
        let Some(st) = best.get("st") else { continue };
        let mut text = String::new();
        for rt in st.get("rt").and_then(Value::as_array).into_iter().flatten() {
            for ws in rt.get("ws").and_then(Value::as_array).into_iter().flatten() {
                if let Some(w) = ws.pointer("/cw/0/w").and_then(Value::as_str) {
                    text.push_str(w);
                }
            }
        }
        // `rl` is the role from 1; 0 means roles were not separated.
        let role = number(st.get("rl"));
        pieces.push(Piece {
            speaker: role.filter(|&r| r > 0).map(|r| r - 1),
            start: ms(st.get("bg")),
            end: ms(st.get("ed")),
            text,
        });
    }
    Ok(pieces)
}

/// FunASR's `sentence_info`: at the top, or in the first (only) result of a list.
fn funasr_info(value: &Value) -> Option<&Value> {
    value
        .get("sentence_info")
        .or_else(|| value.pointer("/0/sentence_info"))
}

fn funasr(info: &Value) -> Result<Vec<Piece>, Problem> {
    let items = info
        .as_array()
        .ok_or_else(|| not_a_list("FunASR", "sentence_info"))?;
    Ok(items
        .iter()
        .map(|s| Piece {
            speaker: number(s.get("spk")),
            start: ms(s.get("start")),
            end: ms(s.get("end")),
            text: text_of(s.get("text").or_else(|| s.get("sentence"))),
        })
        .collect())
}

fn whisper(segments: &[Value]) -> Result<Vec<Piece>, Problem> {
    Ok(segments
        .iter()
        .map(|s| {
            // WhisperX puts the speaker on the segment, or only on its words.
            let speaker = number(s.get("speaker")).or_else(|| {
                s.get("words")
                    .and_then(Value::as_array)
                    .and_then(|w| w.iter().find_map(|w| number(w.get("speaker"))))
            });
            Piece {
                speaker,
                start: secs(s.get("start")),
                end: secs(s.get("end")),
                text: text_of(s.get("text")),
            }
        })
        .collect())
}

/// Pieces into turns: the agent is `agent_channel`, everyone else the customer; consecutive
/// pieces of one speaker are one turn. Without any speaker, every piece is taken as the
/// agent's (the usual case: only the agent's channel was transcribed), and a note says so.
fn turns(vendor: &str, pieces: Vec<Piece>, options: ParseOptions) -> Result<Transcript, Problem> {
    let mut t = Transcript::new();
    let agent = options.agent_channel;
    let diarized = pieces.iter().any(|p| p.speaker.is_some());
    if diarized {
        t.notes.push(format!(
            "按{vendor}结果读取：第 {agent} 声道（或说话人，从 0 计）为坐席，其余为客户 (agent channel {agent})"
        ));
    } else {
        t.notes.push(format!(
            "{vendor}结果未区分说话人：全部按坐席所说检查，适用于只转写坐席声道的录音 (no speakers: every piece is taken as the agent's)"
        ));
    }
    for p in pieces {
        if p.text.is_empty() {
            continue;
        }
        let speaker = match p.speaker {
            Some(n) if n == agent => Speaker::Agent,
            Some(_) => Speaker::Customer,
            None if diarized => Speaker::Unknown,
            None => Speaker::Agent,
        };
        match t.turns.last_mut() {
            Some(last) if last.speaker == speaker => {
                last.text.push_str(&p.text);
                last.end = p.end.or(last.end);
            }
            _ => t.turns.push(Turn {
                speaker,
                text: p.text,
                start: p.start,
                end: p.end,
            }),
        }
    }
    if diarized && !t.turns.iter().any(|x| x.speaker == Speaker::Agent) {
        return Err(Problem::new(
            "invalid_transcript",
            format!(
                "{vendor}结果里没有第 {agent} 声道（说话人）的话：请用 --agent-channel 指定坐席所在的声道 (no speech on the agent channel)"
            ),
        ));
    }
    Ok(t)
}
