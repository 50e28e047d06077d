//! Types shared by every operation: parties, channels, categories, findings and errors.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// Parses the `snake_case` name of an enum value and lists the valid names when it is wrong.
macro_rules! named_enum {
    ($(#[$meta:meta])* $name:ident, $what:literal { $($variant:ident => $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum $name { $($variant),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }
        }

        impl FromStr for $name {
            type Err = String;
            fn from_str(s: &str) -> Result<Self, String> {
                match s {
                    $($text => Ok($name::$variant),)+
                    _ => Err(format!(
                        concat!("`", $what, "` 的取值不认识：`{0}`，可选：{1}（unknown ", $what, " `{0}`）"),
                        s,
                        [$($text),+].join(", ")
                    )),
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

named_enum!(
    /// Who the collector is speaking to.
    Party, "party" {
        Debtor => "debtor",
        ThirdParty => "third_party",
        Unknown => "unknown",
        Minor => "minor",
    }
);

named_enum!(
    /// How the contact is made.
    Channel, "channel" {
        Call => "call",
        Sms => "sms",
        Visit => "visit",
        Letter => "letter",
    }
);

named_enum!(
    /// How bad a finding is. Ordered: `Info < Warning < Error`.
    Severity, "severity" {
        Info => "info",
        Warning => "warning",
        Error => "error",
    }
);

named_enum!(
    /// The stable finding categories of DESIGN.md (plus `field_visit` for visit staffing).
    Category, "category" {
        AbusiveLanguage => "abusive_language",
        Threat => "threat",
        Impersonation => "impersonation",
        FalseLegalClaim => "false_legal_claim",
        UnauthorizedPromise => "unauthorized_promise",
        ImproperPaymentChannel => "improper_payment_channel",
        DebtInducement => "debt_inducement",
        Provocation => "provocation",
        Discourtesy => "discourtesy",
        ThirdPartyDisclosure => "third_party_disclosure",
        ThirdPartyCollection => "third_party_collection",
        DisclosureBeforeVerification => "disclosure_before_verification",
        PiiExposure => "pii_exposure",
        MinorContact => "minor_contact",
        VulnerablePressure => "vulnerable_pressure",
        MissingOpening => "missing_opening",
        MissingClosing => "missing_closing",
        VaguePromise => "vague_promise",
        ReviewNeeded => "review_needed",
        OutsideCallingWindow => "outside_calling_window",
        ContactFrequency => "contact_frequency",
        ThirdPartyContact => "third_party_contact",
        FieldVisit => "field_visit",
        LongSilence => "long_silence",
        TalkingOver => "talking_over",
        FastSpeech => "fast_speech",
        TalkDominance => "talk_dominance",
        RepeatedDemand => "repeated_demand",
    }
);

/// The situation an utterance is said in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Context {
    /// Days past due; `None` when unknown.
    #[serde(default)]
    pub dpd: Option<u32>,
    #[serde(default = "default_party")]
    pub party: Party,
    #[serde(default)]
    pub identity_verified: bool,
    #[serde(default)]
    pub third_party_informed: bool,
    #[serde(default)]
    pub vulnerable: bool,
    #[serde(default = "default_channel")]
    pub channel: Channel,
}

fn default_party() -> Party {
    Party::Debtor
}

fn default_channel() -> Channel {
    Channel::Call
}

impl Default for Context {
    fn default() -> Self {
        Context {
            dpd: None,
            party: Party::Debtor,
            identity_verified: false,
            third_party_informed: false,
            vulnerable: false,
            channel: Channel::Call,
        }
    }
}

/// One flagged span (or, for call-level and contact findings, one flagged fact).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Finding {
    pub rule: String,
    pub category: Category,
    pub severity: Severity,
    /// UTF-8 byte offsets into the checked text (the turn's text for call findings).
    pub start: usize,
    pub end: usize,
    /// UTF-16 code-unit offsets: what `text.slice(start, end)` in JavaScript takes.
    pub utf16_start: usize,
    pub utf16_end: usize,
    pub excerpt: String,
    pub message: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub suggestion: Option<String>,
    /// Where the rule comes from: document and article.
    #[serde(default)]
    pub sources: Vec<String>,
    /// Index of the turn in the call, for call-level answers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub turn: Option<usize>,
    /// What to say instead: the whole clause the violation sits in, and a sentence for it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rewrite: Option<Rewrite>,
}

/// A rewrite of the clause a finding sits in: replace `start..end` (UTF-8 bytes; UTF-16 beside)
/// of the checked text with `text`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rewrite {
    pub start: usize,
    pub end: usize,
    pub utf16_start: usize,
    pub utf16_end: usize,
    pub text: String,
}

impl Rewrite {
    /// `text` with this rewrite applied (the text unchanged if the span does not fit it).
    pub fn apply(&self, text: &str) -> String {
        match (text.get(..self.start), text.get(self.end..)) {
            (Some(before), Some(after)) => format!("{before}{}{after}", self.text),
            _ => text.to_string(),
        }
    }
}

/// Where in an input a problem is.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Location {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line: Option<usize>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub column: Option<usize>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rule: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
}

/// An error answer: what was wrong, how to fix it, a stable code and where.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Problem {
    pub message: String,
    #[serde(default)]
    pub help: String,
    pub code: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<Box<Location>>,
}

impl Problem {
    pub fn new(code: &str, message: impl Into<String>) -> Self {
        Problem {
            message: message.into(),
            help: String::new(),
            code: code.to_string(),
            location: None,
        }
    }

    pub fn help(mut self, help: impl Into<String>) -> Self {
        self.help = help.into();
        self
    }

    pub fn at(mut self, location: Location) -> Self {
        self.location = Some(Box::new(location));
        self
    }

    pub fn field(self, field: &str) -> Self {
        self.at(Location {
            field: Some(field.to_string()),
            ..Location::default()
        })
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)?;
        if let Some(loc) = &self.location {
            if let (Some(line), Some(column)) = (loc.line, loc.column) {
                write!(f, " (line {line}, column {column})")?;
            }
            if let Some(rule) = &loc.rule {
                write!(f, " (rule `{rule}`)")?;
            }
        }
        Ok(())
    }
}

/// Validates a days-past-due value as callers send it (any integer) into a DPD.
pub fn parse_dpd(dpd: Option<i64>) -> Result<Option<u32>, Problem> {
    match dpd {
        None => Ok(None),
        Some(d) if d < 0 => Err(Problem::new(
            "invalid_input",
            format!("逾期天数不能为负：`{d}`（`dpd` must be 0 or more: got `{d}`）"),
        )
        .field("dpd")),
        Some(d) => u32::try_from(d).map(Some).map_err(|_| {
            Problem::new(
                "invalid_input",
                format!("逾期天数过大：`{d}`（`dpd` is too large: `{d}`）"),
            )
            .field("dpd")
        }),
    }
}

/// The largest text one `check` accepts, in bytes. A long draft is ~10 KB.
pub const MAX_UTTERANCE_BYTES: usize = 256 * 1024;
/// The largest transcript one `score` accepts, in bytes.
pub const MAX_TRANSCRIPT_BYTES: usize = 4 * 1024 * 1024;

/// Cuts `text` to at most `max` bytes on a character boundary, for quoting bad input in errors.
pub fn quote(text: &str, max: usize) -> String {
    if text.len() <= max {
        return text.to_string();
    }
    let mut end = max;
    while end > 0 && !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", text.get(..end).unwrap_or(""))
}
