//! Transcripts as QA teams receive them, read by one parser for the CLI, the server and the
//! pages:
//! - `text`: speaker-labelled lines (坐席：/客户：, A:/C:, Agent:/Customer:), optionally with a
//!   `[00:01]` or `00:00:01` time before the label and a header block of `# key: value` lines;
//! - `vtt` / `srt`: cues with voice tags or labels, and the same header block (`NOTE key: value`
//!   in WebVTT, `# key: value` before the first cue in SRT);
//! - `json`: our own `{"turns": […]}` with call metadata, or a speech-to-text result read natively
//!   and recognised from its content: Aliyun, Tencent Cloud, iFlytek, FunASR / Paraformer,
//!   Whisper and WhisperX (`asr.rs`).
//!
//! A UTF-8 byte-order mark and CRLF line ends are ignored everywhere. Every error names its line
//! and is in Chinese first.

mod asr;
mod json;
mod meta;
mod text;

pub use meta::CallMeta;

use crate::model::{Location, Problem, MAX_TRANSCRIPT_BYTES};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Speaker {
    Agent,
    Customer,
    ThirdParty,
    Unknown,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Turn {
    pub speaker: Speaker,
    pub text: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Transcript {
    #[serde(default)]
    pub id: Option<String>,
    #[serde(default)]
    pub dpd: Option<u32>,
    /// Who, when and which call: the metadata a file or result carried.
    #[serde(default, skip_serializing_if = "CallMeta::is_empty")]
    pub meta: CallMeta,
    /// What the reader had to assume (a vendor format, speakers taken from a channel), shown
    /// with the scorecard.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
    pub turns: Vec<Turn>,
}

impl Transcript {
    pub(crate) fn new() -> Self {
        Transcript {
            id: None,
            dpd: None,
            meta: CallMeta::default(),
            notes: Vec::new(),
            turns: Vec::new(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Format {
    Json,
    Text,
    Vtt,
    Srt,
}

impl Format {
    /// The format a file's name says: `.json`, `.txt` / `.text`, `.vtt`, `.srt` (any case).
    pub fn from_path(path: &std::path::Path) -> Option<Format> {
        let ext = path.extension()?.to_str()?.to_ascii_lowercase();
        match ext.as_str() {
            "json" => Some(Format::Json),
            "txt" | "text" => Some(Format::Text),
            "vtt" => Some(Format::Vtt),
            "srt" => Some(Format::Srt),
            _ => None,
        }
    }

    /// The name calls use for the format (`format` in a score call).
    pub fn as_str(self) -> &'static str {
        match self {
            Format::Json => "json",
            Format::Text => "text",
            Format::Vtt => "vtt",
            Format::Srt => "srt",
        }
    }
}

impl std::str::FromStr for Format {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "json" => Ok(Format::Json),
            "text" | "txt" => Ok(Format::Text),
            "vtt" | "webvtt" => Ok(Format::Vtt),
            "srt" => Ok(Format::Srt),
            _ => Err(format!(
                "未知的转写格式 `{s}`，应为 json、text、vtt 或 srt (unknown transcript format; expected one of: json, text, vtt, srt)"
            )),
        }
    }
}

/// How a transcript is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ParseOptions {
    /// In a speech-to-text result, the channel (or speaker, counted from 0 in order of the
    /// vendor's numbering) that is the agent; every other one is the customer.
    pub agent_channel: u32,
}

/// Speaker labels, Simplified and Traditional (Traditional folded to Simplified before lookup).
pub(crate) fn speaker_of_label(label: &str) -> Option<Speaker> {
    let simplified = crate::fold::simplified(label.trim());
    let l = simplified.trim().to_lowercase();
    let l = l.trim_matches(|c: char| c == '[' || c == ']' || c == '【' || c == '】');
    Some(match l {
        "坐席" | "催收员" | "客服" | "座席" | "专员" | "调解员" | "员工" | "a" | "agent"
        | "collector" | "operator" | "坐席员" | "催收" => Speaker::Agent,
        "客户" | "债务人" | "用户" | "c" | "customer" | "debtor" | "client" | "客户方" => {
            Speaker::Customer
        }
        "第三方" | "联系人" | "家属" | "第三人" | "third_party" | "third party" | "thirdparty"
        | "contact" => Speaker::ThirdParty,
        "未知" | "unknown" | "对方" => Speaker::Unknown,
        _ => return None,
    })
}

/// An error at a line of the file.
pub(crate) fn problem(line: usize, message: String) -> Problem {
    Problem::new("invalid_transcript", message).at(Location {
        line: Some(line),
        ..Location::default()
    })
}

/// Parses a transcript in `format` with the default options. The DPD inside the file (JSON
/// `dpd`, `# dpd:` or `NOTE dpd:`) is kept; the caller's DPD wins when given.
pub fn parse(content: &str, format: Format) -> Result<Transcript, Problem> {
    parse_with(content, format, ParseOptions::default())
}

/// Parses a transcript in `format`.
pub fn parse_with(
    content: &str,
    format: Format,
    options: ParseOptions,
) -> Result<Transcript, Problem> {
    if content.len() > MAX_TRANSCRIPT_BYTES {
        return Err(Problem::new(
            "input_too_large",
            format!(
                "转写文本有 {} 字节，一次最多评分 {MAX_TRANSCRIPT_BYTES} 字节 (transcript too large)",
                content.len()
            ),
        ));
    }
    let content = content.strip_prefix('\u{feff}').unwrap_or(content);
    let t = match format {
        Format::Json => json::parse_json(content, options)?,
        Format::Text => text::parse_text(content)?,
        Format::Vtt => text::parse_cues(content, true)?,
        Format::Srt => text::parse_cues(content, false)?,
    };
    if t.turns.is_empty() {
        return Err(Problem::new(
            "empty_transcript",
            "转写没有任何对话 (transcript has no turns)".to_string(),
        ));
    }
    Ok(t)
}

/// A transcript given as a JSON value (a score call's `transcript`).
pub fn from_value(value: serde_json::Value, options: ParseOptions) -> Result<Transcript, Problem> {
    json::from_value(value, options)
}

#[cfg(test)]
mod tests;
