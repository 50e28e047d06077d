//! JSON transcripts: our own `{"turns": […]}` with call metadata, or a speech-to-text vendor's
//! result, recognised from its content.

use super::meta::{key_of, value_text, Key};
use super::{asr, speaker_of_label, ParseOptions, Transcript, Turn};
use crate::model::{quote, Location, Problem};
use serde_json::{Map, Value};

/// The shapes a JSON transcript may have, for error messages.
const SHAPES: &str = "{\"turns\": [{\"speaker\": \"坐席|客户|第三方 (agent|customer|third_party)\", \"text\": \"…\", \"start\"?: 秒, \"end\"?: 秒}], \"dpd\"?, \"call_id\"?, \"agent_id\"?, …}，或阿里云、腾讯云、讯飞、FunASR/Paraformer、Whisper/WhisperX 的识别结果";

pub(super) fn parse_json(content: &str, options: ParseOptions) -> Result<Transcript, Problem> {
    let value: Value = serde_json::from_str(content).map_err(|e| {
        Problem::new(
            "invalid_json",
            format!(
                "第 {} 行第 {} 列：JSON 格式不对 (invalid transcript JSON: {e})",
                e.line(),
                e.column()
            ),
        )
        .help(format!("expected {SHAPES}"))
        .at(Location {
            line: Some(e.line()),
            column: Some(e.column()),
            ..Location::default()
        })
    })?;
    from_value(value, options)
}

pub(super) fn from_value(value: Value, options: ParseOptions) -> Result<Transcript, Problem> {
    match value {
        Value::Object(map) if map.contains_key("turns") => own(map),
        other => match asr::read(&other, options) {
            Some(read) => read,
            None => Err(Problem::new(
                "invalid_transcript",
                "无法识别这个 JSON 转写的格式 (unrecognised transcript JSON)".to_string(),
            )
            .help(format!("expected {SHAPES}"))),
        },
    }
}

/// Our own shape. Known metadata names (and their aliases) are understood; any other top-level
/// field is kept in `meta.extra`; turn fields other than speaker, text, start and end are ignored.
fn own(map: Map<String, Value>) -> Result<Transcript, Problem> {
    let mut t = Transcript::new();
    for (name, value) in map {
        if name == "turns" {
            t.turns = turns(value)?;
            continue;
        }
        match key_of(&name) {
            Some(Key::Dpd) => t.dpd = dpd(&name, &value)?,
            Some(Key::Id) => t.id = value_text(&value),
            Some(key) => match value_text(&value) {
                Some(text) => t.meta.set(key, text),
                None if value.is_null() => {}
                None => {
                    t.meta.extra.insert(name, value);
                }
            },
            None => {
                t.meta.extra.insert(name, value);
            }
        }
    }
    if t.id.is_none() {
        t.id = t.meta.call_id.clone();
    }
    Ok(t)
}

fn dpd(name: &str, value: &Value) -> Result<Option<u32>, Problem> {
    match value {
        Value::Null => Ok(None),
        Value::Number(n) => n
            .as_u64()
            .and_then(|d| u32::try_from(d).ok())
            .map(Some)
            .ok_or_else(|| {
                Problem::new(
                    "invalid_transcript",
                    format!("`{name}` 应为 0 或更大的天数，收到 `{n}` (dpd must be 0 or more)"),
                )
                .field(name)
            }),
        Value::String(s) if s.trim().parse::<u32>().is_ok() => Ok(s.trim().parse::<u32>().ok()),
        other => Err(Problem::new(
            "invalid_transcript",
            format!(
                "`{name}` 应为天数，收到 `{}` (dpd must be a number)",
                quote(&other.to_string(), 40)
            ),
        )
        .field(name)),
    }
}

fn turns(value: Value) -> Result<Vec<Turn>, Problem> {
    let Value::Array(items) = value else {
        return Err(Problem::new(
            "invalid_transcript",
            "`turns` 应为数组 (turns must be an array)".to_string(),
        )
        .field("turns"));
    };
    items
        .into_iter()
        .enumerate()
        .map(|(i, item)| turn(i, item))
        .collect()
}

fn first_of<'a>(item: &'a Map<String, Value>, names: &[&str]) -> Option<&'a Value> {
    names.iter().find_map(|n| item.get(*n))
}

fn seconds(item: &Map<String, Value>, name: &str, field: &str) -> Result<Option<f64>, Problem> {
    match item.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => Ok(n.as_f64()),
        Some(other) => Err(Problem::new(
            "invalid_transcript",
            format!(
                "`{field}.{name}` 应为秒数，收到 `{}` (must be seconds)",
                quote(&other.to_string(), 40)
            ),
        )
        .field(&format!("{field}.{name}"))),
    }
}

fn turn(i: usize, item: Value) -> Result<Turn, Problem> {
    let field = format!("turns[{i}]");
    let Value::Object(item) = item else {
        return Err(Problem::new(
            "invalid_transcript",
            format!(
                "第 {} 句（`{field}`）应为对象 (each turn must be an object)",
                i + 1
            ),
        )
        .field(&field));
    };
    let label = first_of(&item, &["speaker", "role", "说话人", "角色"])
        .and_then(value_text)
        .unwrap_or_default();
    let speaker = speaker_of_label(&label).ok_or_else(|| {
        Problem::new(
            "invalid_transcript",
            format!(
                "第 {} 句的说话人 `{}` 无法识别，应为 坐席、客户、第三方（agent、customer、third_party）或 未知 (unknown speaker)",
                i + 1,
                quote(&label, 30)
            ),
        )
        .field(&format!("{field}.speaker"))
    })?;
    let text = match first_of(&item, &["text", "content", "内容"]) {
        Some(Value::String(s)) => s.clone(),
        _ => {
            return Err(Problem::new(
                "invalid_transcript",
                format!("第 {} 句缺少文字 `text` (each turn needs a text)", i + 1),
            )
            .field(&format!("{field}.text")))
        }
    };
    Ok(Turn {
        speaker,
        text,
        start: seconds(&item, "start", &field)?,
        end: seconds(&item, "end", &field)?,
    })
}
