//! Call metadata: who made the call, for which team, when, in which direction, to which debtor.
//! The same names are understood in a JSON transcript's top level, a text file's `# key: value`
//! header and a WebVTT `NOTE`, with the usual aliases in English and Chinese. Anything else is
//! kept under `extra` and shown, never refused.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CallMeta {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub call_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub team: Option<String>,
    /// When the call started, as given (RFC 3339 where the source has it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub started_at: Option<String>,
    /// `outbound` (呼出) or `inbound` (呼入), or the source's own word.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub direction: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub debtor_id: Option<String>,
    /// Every other field of the source, as it was.
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    pub extra: Map<String, Value>,
}

/// What a metadata key names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Key {
    Id,
    Dpd,
    CallId,
    AgentId,
    AgentName,
    Team,
    StartedAt,
    Direction,
    DebtorId,
}

/// The key a field name stands for: case, `_`, `-` and spaces ignored; Chinese names too.
pub(crate) fn key_of(name: &str) -> Option<Key> {
    let folded = crate::fold::simplified(name.trim());
    let k: String = folded
        .chars()
        .filter(|c| !matches!(c, '_' | '-' | ' '))
        .flat_map(char::to_lowercase)
        .collect();
    Some(match k.as_str() {
        "id" => Key::Id,
        "dpd" | "逾期天数" | "dayspastdue" => Key::Dpd,
        "callid" | "通话编号" | "通话id" | "录音编号" | "recordingid" | "sessionid" => {
            Key::CallId
        }
        "agentid" | "agent" | "坐席" | "坐席编号" | "坐席工号" | "工号" | "collectorid"
        | "operatorid" | "staffid" | "userid" => Key::AgentId,
        "agentname" | "坐席姓名" | "催收员" | "催收员姓名" | "collectorname" | "operatorname" => {
            Key::AgentName
        }
        "team" | "团队" | "小组" | "组别" | "group" | "department" | "部门" => Key::Team,
        "startedat" | "starttime" | "date" | "time" | "calltime" | "datetime" | "通话时间"
        | "日期" | "开始时间" | "拨打时间" => Key::StartedAt,
        "direction" | "方向" | "呼叫方向" | "calldirection" | "calltype" => Key::Direction,
        "debtorid" | "customerid" | "客户编号" | "客户id" | "债务人编号" => {
            Key::DebtorId
        }
        _ => return None,
    })
}

/// A metadata value as text: strings as they are, numbers and booleans written out.
pub(crate) fn value_text(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.trim().to_string()).filter(|s| !s.is_empty()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// `呼出` / `outbound` / `out` → `outbound`; `呼入` / `inbound` / `in` → `inbound`; else as given.
fn direction(text: &str) -> String {
    match text.trim().to_lowercase().as_str() {
        "outbound" | "out" | "outgoing" | "呼出" | "外呼" | "去电" => "outbound".into(),
        "inbound" | "in" | "incoming" | "呼入" | "来电" => "inbound".into(),
        _ => text.trim().to_string(),
    }
}

impl CallMeta {
    pub fn is_empty(&self) -> bool {
        *self == CallMeta::default()
    }

    /// Sets the field `key` names from `value`. `Id` and `Dpd` belong to the transcript and are
    /// not handled here.
    pub(crate) fn set(&mut self, key: Key, value: String) {
        let slot = match key {
            Key::CallId => &mut self.call_id,
            Key::AgentId => &mut self.agent_id,
            Key::AgentName => &mut self.agent_name,
            Key::Team => &mut self.team,
            Key::StartedAt => &mut self.started_at,
            Key::DebtorId => &mut self.debtor_id,
            Key::Direction => {
                self.direction = Some(direction(&value));
                return;
            }
            Key::Id | Key::Dpd => return,
        };
        *slot = Some(value);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aliases_in_english_and_chinese() {
        assert_eq!(key_of("agent"), Some(Key::AgentId));
        assert_eq!(key_of("Agent_ID"), Some(Key::AgentId));
        assert_eq!(key_of("坐席"), Some(Key::AgentId));
        assert_eq!(key_of("date"), Some(Key::StartedAt));
        assert_eq!(key_of("通話時間"), Some(Key::StartedAt));
        assert_eq!(key_of("call-id"), Some(Key::CallId));
        assert_eq!(key_of("客户编号"), Some(Key::DebtorId));
        assert_eq!(key_of("campaign"), None);
        let mut m = CallMeta::default();
        m.set(Key::Direction, "呼出".into());
        assert_eq!(m.direction.as_deref(), Some("outbound"));
    }
}
