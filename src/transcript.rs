//! Transcripts as speech-to-text and QA tools produce them: JSON turns, plain text lines with
//! speaker labels (坐席：/客户：, A:/C:, Agent:/Customer:), WebVTT with voice tags or labels, SRT.

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
#[serde(deny_unknown_fields)]
pub struct Transcript {
    #[serde(default)]
    pub id: Option<String>,
    #[serde(default)]
    pub dpd: Option<u32>,
    pub turns: Vec<Turn>,
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
                "unknown transcript format `{s}`; expected one of: json, text, vtt, srt"
            )),
        }
    }
}

/// Speaker labels, Simplified and Traditional (Traditional folded to Simplified before lookup).
fn speaker_of_label(label: &str) -> Option<Speaker> {
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

/// Splits `坐席：你好` / `A: hello` into speaker and text.
fn split_label(line: &str) -> Option<(Speaker, &str)> {
    let (idx, sep_len) = line
        .char_indices()
        .find(|&(_, c)| c == '：' || c == ':')
        .map(|(i, c)| (i, c.len_utf8()))?;
    let label = line.get(..idx)?;
    if label.chars().count() > 12 {
        return None;
    }
    let speaker = speaker_of_label(label)?;
    Some((speaker, line.get(idx + sep_len..)?.trim()))
}

fn problem(line: usize, message: String) -> Problem {
    Problem::new("invalid_transcript", message).at(Location {
        line: Some(line),
        ..Location::default()
    })
}

/// `# dpd: 15` / `NOTE dpd: 15` header lines.
fn dpd_header(line: &str) -> Option<u32> {
    let rest = line
        .strip_prefix('#')
        .or_else(|| line.strip_prefix("NOTE"))?
        .trim();
    let value = rest
        .strip_prefix("dpd")?
        .trim_start()
        .strip_prefix([':', '：', '='])?;
    value.trim().parse().ok()
}

fn parse_text(content: &str) -> Result<Transcript, Problem> {
    let mut t = Transcript {
        id: None,
        dpd: None,
        turns: Vec::new(),
    };
    for (i, raw) in content.lines().enumerate() {
        let line = raw.trim();
        if line.is_empty() {
            continue;
        }
        if line.starts_with('#') {
            if let Some(d) = dpd_header(line) {
                t.dpd = Some(d);
            }
            continue;
        }
        match split_label(line) {
            Some((speaker, text)) => t.turns.push(Turn {
                speaker,
                text: text.to_string(),
                start: None,
                end: None,
            }),
            // A line without a label continues the previous turn (wrapped speech-to-text output).
            None => match t.turns.last_mut() {
                Some(last) => last.text.push_str(line),
                None => {
                    return Err(problem(
                        i + 1,
                        format!(
                            "line {} has no speaker label: `{}`; start lines with 坐席： / 客户： / 第三方： (or A: / C:, Agent: / Customer:)",
                            i + 1,
                            crate::model::quote(line, 60)
                        ),
                    ))
                }
            },
        }
    }
    Ok(t)
}

/// `00:01:02.500` or `01:02,500` → seconds.
fn timestamp(text: &str) -> Option<f64> {
    let text = text.trim().replace(',', ".");
    let parts: Vec<&str> = text.split(':').collect();
    let (h, m, s) = match parts.as_slice() {
        [h, m, s] => (
            h.parse::<f64>().ok()?,
            m.parse::<f64>().ok()?,
            s.parse::<f64>().ok()?,
        ),
        [m, s] => (0.0, m.parse::<f64>().ok()?, s.parse::<f64>().ok()?),
        _ => return None,
    };
    Some(h * 3600.0 + m * 60.0 + s)
}

fn cue_times(line: &str) -> Option<(f64, f64)> {
    let (a, b) = line.split_once("-->")?;
    let b = b.split_whitespace().next()?;
    Some((timestamp(a)?, timestamp(b)?))
}

/// One cue's text → speaker and text: `<v 坐席>…`, or `坐席：…`.
fn cue_turn(text: &str) -> Option<(Speaker, String)> {
    if let Some(rest) = text.strip_prefix("<v") {
        let (label, body) = rest.split_once('>')?;
        let label = label
            .trim_start_matches('.')
            .split_whitespace()
            .collect::<Vec<_>>();
        let name = label.last().copied().unwrap_or("");
        let speaker =
            speaker_of_label(name).or_else(|| label.iter().find_map(|l| speaker_of_label(l)))?;
        let body = body.replace("</v>", "");
        return Some((speaker, body.trim().to_string()));
    }
    split_label(text).map(|(s, t)| (s, t.to_string()))
}

/// WebVTT and SRT share the cue structure: blocks separated by blank lines, a timing line.
fn parse_cues(content: &str, vtt: bool) -> Result<Transcript, Problem> {
    let mut t = Transcript {
        id: None,
        dpd: None,
        turns: Vec::new(),
    };
    let mut lines = content.lines().enumerate().peekable();
    if vtt {
        match lines.next() {
            Some((_, first)) if first.trim_start_matches('\u{feff}').starts_with("WEBVTT") => {}
            _ => {
                return Err(problem(
                    1,
                    "a WebVTT file must start with `WEBVTT`".to_string(),
                ))
            }
        }
    }
    let mut block: Vec<(usize, &str)> = Vec::new();
    let flush = |block: &mut Vec<(usize, &str)>, t: &mut Transcript| -> Result<(), Problem> {
        if block.is_empty() {
            return Ok(());
        }
        let first = block.first().map(|(_, l)| l.trim()).unwrap_or("");
        if first.starts_with("NOTE") {
            if let Some(d) = dpd_header(first) {
                t.dpd = Some(d);
            }
            block.clear();
            return Ok(());
        }
        if first.starts_with("STYLE") || first.starts_with("REGION") {
            block.clear();
            return Ok(());
        }
        let Some(timing) = block.iter().position(|(_, l)| l.contains("-->")) else {
            let (n, l) = block.first().copied().unwrap_or((0, ""));
            block.clear();
            return Err(problem(
                n + 1,
                format!(
                    "cue at line {} has no `-->` timing line: `{}`",
                    n + 1,
                    crate::model::quote(l, 60)
                ),
            ));
        };
        let (n, timing_line) = block.get(timing).copied().unwrap_or((0, ""));
        let (start, end) = cue_times(timing_line).ok_or_else(|| {
            problem(
                n + 1,
                format!(
                    "line {} has a malformed timing: `{}`",
                    n + 1,
                    crate::model::quote(timing_line, 60)
                ),
            )
        })?;
        for &(n, text) in block.iter().skip(timing + 1) {
            let text = text.trim();
            if text.is_empty() {
                continue;
            }
            match cue_turn(text) {
                Some((speaker, body)) => t.turns.push(Turn {
                    speaker,
                    text: body,
                    start: Some(start),
                    end: Some(end),
                }),
                None => match t.turns.last_mut() {
                    Some(last) if last.start == Some(start) => last.text.push_str(text),
                    _ => {
                        return Err(problem(
                            n + 1,
                            format!(
                                "cue text at line {} has no speaker: `{}`; use `<v 坐席>` voice tags or `坐席：` labels",
                                n + 1,
                                crate::model::quote(text, 60)
                            ),
                        ))
                    }
                },
            }
        }
        block.clear();
        Ok(())
    };
    for (n, line) in lines.by_ref() {
        if line.trim().is_empty() {
            flush(&mut block, &mut t)?;
        } else {
            block.push((n, line));
        }
    }
    flush(&mut block, &mut t)?;
    Ok(t)
}

/// Parses a transcript in `format`. The DPD inside the file (JSON `dpd`, `# dpd:` or `NOTE dpd:`)
/// is kept; the caller's DPD wins when given.
pub fn parse(content: &str, format: Format) -> Result<Transcript, Problem> {
    if content.len() > MAX_TRANSCRIPT_BYTES {
        return Err(Problem::new(
            "input_too_large",
            format!(
                "transcript is {} bytes; at most {MAX_TRANSCRIPT_BYTES} bytes are scored at once",
                content.len()
            ),
        ));
    }
    let t = match format {
        Format::Json => serde_json::from_str::<Transcript>(content).map_err(|e| {
            Problem::new("invalid_json", format!("invalid transcript JSON: {e}"))
                .help("expected {\"id\", \"dpd\", \"turns\": [{\"speaker\": \"agent|customer|third_party|unknown\", \"text\", \"start\"?, \"end\"?}]}")
                .at(Location {
                    line: Some(e.line()),
                    column: Some(e.column()),
                    ..Location::default()
                })
        })?,
        Format::Text => parse_text(content)?,
        Format::Vtt => parse_cues(content, true)?,
        Format::Srt => parse_cues(content, false)?,
    };
    if t.turns.is_empty() {
        return Err(Problem::new(
            "empty_transcript",
            "transcript has no turns".to_string(),
        ));
    }
    Ok(t)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_labels_in_both_scripts_and_english() {
        let t = parse(
            "# dpd: 7\n坐席：您好\n客戶：是我\nA: hi\nCustomer: yes\n第三方：他不在",
            Format::Text,
        );
        let t = t.unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(t.dpd, Some(7));
        let speakers: Vec<Speaker> = t.turns.iter().map(|x| x.speaker).collect();
        assert_eq!(
            speakers,
            vec![
                Speaker::Agent,
                Speaker::Customer,
                Speaker::Agent,
                Speaker::Customer,
                Speaker::ThirdParty
            ]
        );
    }

    #[test]
    fn vtt_voice_tags_and_srt_labels() {
        let vtt = "WEBVTT\n\nNOTE dpd: 12\n\n00:00:01.000 --> 00:00:02.500\n<v 坐席>您好\n\n00:00:03.000 --> 00:00:04.000\n<v 客戶>是我\n";
        let t = parse(vtt, Format::Vtt).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(t.dpd, Some(12));
        assert_eq!(t.turns.len(), 2);
        assert_eq!(t.turns.first().and_then(|x| x.start), Some(1.0));
        let srt = "1\n00:00:01,000 --> 00:00:02,000\n坐席：您好\n\n2\n00:00:02,000 --> 00:00:03,000\n客户：嗯\n";
        let t = parse(srt, Format::Srt).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(t.turns.len(), 2);
    }

    #[test]
    fn unlabeled_first_line_is_an_error_with_its_line() {
        let e = parse("\n你好", Format::Text).err();
        assert_eq!(e.and_then(|e| e.location).and_then(|l| l.line), Some(2));
    }
}
