//! Text exports (speaker-labelled lines) and subtitle files (WebVTT, SRT), with a header of call
//! metadata and times before the labels.

use super::meta::{key_of, Key};
use super::{problem, speaker_of_label, Speaker, Transcript, Turn};
use crate::model::{quote, Problem};
use serde_json::Value;

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

/// `00:01:02.500`, `01:02,500` or `01:02` → seconds.
pub(super) fn timestamp(text: &str) -> Option<f64> {
    let text = text.trim().replace(',', ".");
    let parts: Vec<&str> = text.split(':').collect();
    let number = |s: &str| -> Option<f64> {
        let s = s.trim();
        (!s.is_empty() && s.chars().all(|c| c.is_ascii_digit() || c == '.'))
            .then(|| s.parse::<f64>().ok())
            .flatten()
    };
    let (h, m, s) = match parts.as_slice() {
        [h, m, s] => (number(h)?, number(m)?, number(s)?),
        [m, s] => (0.0, number(m)?, number(s)?),
        _ => return None,
    };
    Some(h * 3600.0 + m * 60.0 + s)
}

/// A time before the speaker label — `[00:01]`, `(00:00:01)`, `【00:01】` or a bare `00:00:01 ` —
/// and the rest of the line.
fn leading_time(line: &str) -> Option<(f64, &str)> {
    for (open, close) in [('[', ']'), ('(', ')'), ('【', '】'), ('（', '）')] {
        if let Some(rest) = line.strip_prefix(open) {
            let (inside, after) = rest.split_once(close)?;
            return Some((timestamp(inside)?, after.trim_start()));
        }
    }
    let end = line.find(|c: char| c.is_whitespace())?;
    let time = timestamp(line.get(..end)?)?;
    Some((time, line.get(end..)?.trim_start()))
}

/// A `key: value` (or `key：value`, `key = value`) header line's parts.
fn header_pair(text: &str) -> Option<(&str, &str)> {
    let idx = text.find([':', '：', '='])?;
    let sep = text.get(idx..)?.chars().next()?.len_utf8();
    Some((text.get(..idx)?.trim(), text.get(idx + sep..)?.trim()))
}

/// Applies one header field to the transcript: the DPD, the id, call metadata, or anything else
/// into `meta.extra`. A DPD that is not a number is an error at its line.
fn apply_header(t: &mut Transcript, key: &str, value: &str, line: usize) -> Result<(), Problem> {
    if key.is_empty() || value.is_empty() {
        return Ok(());
    }
    match key_of(key) {
        Some(Key::Dpd) => {
            let digits: String = value.chars().take_while(char::is_ascii_digit).collect();
            let dpd = digits.parse::<u32>().map_err(|_| {
                problem(
                    line,
                    format!(
                        "第 {line} 行的逾期天数不是数字：`{}` (dpd must be a number of days)",
                        quote(value, 40)
                    ),
                )
            })?;
            t.dpd = Some(dpd);
        }
        Some(Key::Id) => t.id = Some(value.to_string()),
        Some(k) => t.meta.set(k, value.to_string()),
        None => {
            t.meta
                .extra
                .insert(key.to_string(), Value::String(value.to_string()));
        }
    }
    Ok(())
}

pub(super) fn parse_text(content: &str) -> Result<Transcript, Problem> {
    let mut t = Transcript::new();
    for (i, raw) in content.lines().enumerate() {
        let line = raw.trim();
        if line.is_empty() {
            continue;
        }
        if let Some(comment) = line.strip_prefix('#') {
            if let Some((key, value)) = header_pair(comment) {
                apply_header(&mut t, key, value, i + 1)?;
            }
            continue;
        }
        let (start, body) = match leading_time(line) {
            Some((time, rest)) => (Some(time), rest),
            None => (None, line),
        };
        match split_label(body) {
            Some((speaker, text)) => t.turns.push(Turn {
                speaker,
                text: text.to_string(),
                start,
                end: None,
            }),
            // A line without a label continues the previous turn (wrapped speech-to-text output).
            None => match t.turns.last_mut() {
                Some(last) => last.text.push_str(body),
                None => {
                    return Err(problem(
                        i + 1,
                        format!(
                            "第 {} 行没有说话人标签：`{}`；每句请以 坐席： / 客户： / 第三方：（或 A: / C:、Agent: / Customer:）开头，可带 [00:01] 这样的时间 (line {} has no speaker label)",
                            i + 1,
                            quote(line, 60),
                            i + 1
                        ),
                    ))
                }
            },
        }
    }
    // A text export's turns end where the next one starts.
    let starts: Vec<Option<f64>> = t.turns.iter().skip(1).map(|x| x.start).collect();
    for (turn, next) in t.turns.iter_mut().zip(starts) {
        if turn.start.is_some() {
            turn.end = next;
        }
    }
    Ok(t)
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

/// A metadata block: WebVTT's `NOTE` (`NOTE dpd: 12`, or `NOTE` then `key: value` lines) or a
/// block of `# key: value` lines (SRT has no comments of its own). Returns whether it was one.
fn metadata_block(block: &[(usize, &str)], t: &mut Transcript) -> Result<bool, Problem> {
    let Some(&(_, first)) = block.first() else {
        return Ok(false);
    };
    let first = first.trim();
    if let Some(note) = first.strip_prefix("NOTE") {
        let lines = std::iter::once((block.first().map_or(0, |b| b.0), note))
            .chain(block.iter().skip(1).map(|&(n, l)| (n, l)));
        for (n, line) in lines {
            if let Some((key, value)) = header_pair(line.trim()) {
                apply_header(t, key, value, n + 1)?;
            }
        }
        return Ok(true);
    }
    if block.iter().all(|(_, l)| l.trim_start().starts_with('#')) {
        for &(n, line) in block {
            let comment = line.trim_start().trim_start_matches('#');
            if let Some((key, value)) = header_pair(comment) {
                apply_header(t, key, value, n + 1)?;
            }
        }
        return Ok(true);
    }
    Ok(first.starts_with("STYLE") || first.starts_with("REGION"))
}

/// One cue block into turns.
fn cue_block(block: &[(usize, &str)], t: &mut Transcript) -> Result<(), Problem> {
    let Some(timing) = block.iter().position(|(_, l)| l.contains("-->")) else {
        let (n, l) = block.first().copied().unwrap_or((0, ""));
        return Err(problem(
            n + 1,
            format!(
                "第 {} 行起的字幕块没有 `-->` 时间行：`{}` (cue has no timing line)",
                n + 1,
                quote(l, 60)
            ),
        ));
    };
    let (n, timing_line) = block.get(timing).copied().unwrap_or((0, ""));
    let (start, end) = cue_times(timing_line).ok_or_else(|| {
        problem(
            n + 1,
            format!(
                "第 {} 行的时间格式不对：`{}` (malformed timing)",
                n + 1,
                quote(timing_line, 60)
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
                            "第 {} 行的字幕没有说话人：`{}`；请用 `<v 坐席>` 语音标签或 `坐席：` 标签 (cue text has no speaker)",
                            n + 1,
                            quote(text, 60)
                        ),
                    ))
                }
            },
        }
    }
    Ok(())
}

/// WebVTT and SRT share the cue structure: blocks separated by blank lines, a timing line.
pub(super) fn parse_cues(content: &str, vtt: bool) -> Result<Transcript, Problem> {
    let mut t = Transcript::new();
    let mut lines = content.lines().enumerate().peekable();
    if vtt {
        match lines.next() {
            Some((_, first)) if first.starts_with("WEBVTT") => {}
            _ => {
                return Err(problem(
                    1,
                    "WebVTT 文件必须以 `WEBVTT` 开头 (a WebVTT file must start with `WEBVTT`)"
                        .to_string(),
                ))
            }
        }
    }
    let mut block: Vec<(usize, &str)> = Vec::new();
    let mut flush = |block: &mut Vec<(usize, &str)>| -> Result<(), Problem> {
        if !block.is_empty() && !metadata_block(block, &mut t)? {
            cue_block(block, &mut t)?;
        }
        block.clear();
        Ok(())
    };
    for (n, line) in lines.by_ref() {
        if line.trim().is_empty() {
            flush(&mut block)?;
        } else {
            block.push((n, line));
        }
    }
    flush(&mut block)?;
    Ok(t)
}
