//! Personal numbers read out in full: mainland ID numbers (check digit validated), bank-card
//! numbers (Luhn) and mobile numbers. Masked forms (尾号1234, 138****5678) are too short to match.
//!
//! Runs of digits are read from the normalized text, so spaces and dashes inside a number
//! (6222 0202 …) are already gone; Chinese numerals (一三八…, 幺) count as digits because
//! speech-to-text writes numbers both ways. A run never crosses a clause break.

use crate::normalize::Normalized;
use serde::Serialize;
use std::fmt;
use std::str::FromStr;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Detector {
    CnIdNumber,
    BankCard,
    CnMobile,
}

impl FromStr for Detector {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "cn_id_number" => Ok(Self::CnIdNumber),
            "bank_card" => Ok(Self::BankCard),
            "cn_mobile" => Ok(Self::CnMobile),
            _ => Err(format!(
                "unknown detector `{s}`; expected one of: cn_id_number, bank_card, cn_mobile"
            )),
        }
    }
}

impl fmt::Display for Detector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::CnIdNumber => "cn_id_number",
            Self::BankCard => "bank_card",
            Self::CnMobile => "cn_mobile",
        })
    }
}

fn digit_value(c: char) -> Option<u8> {
    match c {
        '0'..='9' => Some(c as u8 - b'0'),
        '零' | '〇' => Some(0),
        '一' | '幺' => Some(1),
        '二' | '两' => Some(2),
        '三' => Some(3),
        '四' => Some(4),
        '五' => Some(5),
        '六' => Some(6),
        '七' => Some(7),
        '八' => Some(8),
        '九' => Some(9),
        _ => None,
    }
}

/// A run of digits in the normalized text: byte span and the digit values (10 stands for X).
pub struct DigitRun {
    start: usize,
    end: usize,
    digits: Vec<u8>,
}

/// Short runs of Chinese numerals are ordinary words (一下, 三个): only number-length runs count.
const MIN_DIGITS: usize = 11;

pub fn digit_runs(n: &Normalized) -> Vec<DigitRun> {
    // Most text has no number-length run at all. A cheap first pass finds the stretches of
    // digits and x that are long enough; only those are read exactly, with clause breaks.
    let mut runs = Vec::new();
    let mut stretch: Option<(usize, usize)> = None;
    for (at, c) in n.text.char_indices() {
        if digit_value(c).is_some() || c == 'x' {
            let (start, count) = stretch.unwrap_or((at, 0));
            stretch = Some((start, count + 1));
        } else if let Some((start, count)) = stretch.take() {
            if count >= MIN_DIGITS {
                read_runs(n, start, at, &mut runs);
            }
        }
    }
    if let Some((start, count)) = stretch {
        if count >= MIN_DIGITS {
            read_runs(n, start, n.text.len(), &mut runs);
        }
    }
    runs
}

/// The digit runs of `n.text[from..to]`, a stretch of digits and x: a run ends at a clause break
/// and at an x, which only closes an 18-character ID number.
fn read_runs(n: &Normalized, from: usize, to: usize, runs: &mut Vec<DigitRun>) {
    let text = n.text.get(from..to).unwrap_or("");
    let breaks = n.clause_breaks();
    let first_break = breaks.partition_point(|&b| b <= from);
    let mut breaks = breaks
        .get(first_break..)
        .unwrap_or(&[])
        .iter()
        .copied()
        .peekable();
    let mut current: Option<DigitRun> = None;
    let mut finish = |run: Option<DigitRun>| {
        if let Some(run) = run.filter(|r| r.digits.len() >= MIN_DIGITS) {
            runs.push(run);
        }
    };
    for (offset, c) in text.char_indices() {
        let at = from + offset;
        while breaks.next_if(|&b| b < at).is_some() {}
        if breaks.next_if_eq(&at).is_some() {
            finish(current.take());
        }
        let closes_id = current.as_ref().is_some_and(|r| r.digits.len() == 17) && c == 'x';
        let Some(value) = digit_value(c).or(closes_id.then_some(10)) else {
            finish(current.take());
            continue;
        };
        let run = current.get_or_insert(DigitRun {
            start: at,
            end: at,
            digits: Vec::new(),
        });
        run.digits.push(value);
        run.end = at + c.len_utf8();
        if closes_id {
            finish(current.take());
        }
    }
    finish(current);
}

/// ISO 7064 MOD 11-2 check digit of a mainland resident ID number, plus a plausible birth date.
pub fn valid_cn_id(digits: &[u8]) -> bool {
    const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
    const CHECK: [u8; 11] = [1, 0, 10, 9, 8, 7, 6, 5, 4, 3, 2];
    if digits.len() != 18 || digits.iter().take(17).any(|&d| d > 9) {
        return false;
    }
    let sum: u32 = digits
        .iter()
        .zip(WEIGHTS.iter())
        .map(|(&d, &w)| u32::from(d) * w)
        .sum();
    let expected = CHECK.get((sum % 11) as usize).copied();
    let number = |range: std::ops::Range<usize>| {
        digits
            .get(range)
            .map(|ds| ds.iter().fold(0u32, |acc, &d| acc * 10 + u32::from(d)))
    };
    let plausible_birth = matches!(
        (number(6..10), number(10..12), number(12..14)),
        (Some(1900..=2099), Some(1..=12), Some(1..=31))
    );
    plausible_birth && expected == digits.get(17).copied()
}

/// The Luhn check used by bank-card numbers.
pub fn luhn(digits: &[u8]) -> bool {
    if digits.iter().any(|&d| d > 9) {
        return false;
    }
    let sum: u32 = digits
        .iter()
        .rev()
        .enumerate()
        .map(|(i, &d)| {
            let d = u32::from(d);
            if i % 2 == 1 {
                let doubled = d * 2;
                if doubled > 9 {
                    doubled - 9
                } else {
                    doubled
                }
            } else {
                d
            }
        })
        .sum();
    sum.is_multiple_of(10)
}

fn is_cn_mobile(digits: &[u8]) -> bool {
    digits.len() == 11 && digits.first() == Some(&1) && matches!(digits.get(1), Some(3..=9))
}

/// Normalized byte spans where `detector` finds a full number.
pub fn detect(n: &Normalized, detector: Detector) -> Vec<(usize, usize)> {
    detect_in(&digit_runs(n), detector)
}

/// [`detect`] over digit runs already found, so several detectors share one scan of the text.
pub fn detect_in(runs: &[DigitRun], detector: Detector) -> Vec<(usize, usize)> {
    runs.iter()
        .filter(|run| match detector {
            Detector::CnIdNumber => valid_cn_id(&run.digits),
            Detector::BankCard => (16..=19).contains(&run.digits.len()) && luhn(&run.digits),
            Detector::CnMobile => is_cn_mobile(&run.digits),
        })
        .map(|run| (run.start, run.end))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn digits(s: &str) -> Vec<u8> {
        s.chars()
            .map(|c| if c == 'X' { 10 } else { c as u8 - b'0' })
            .collect()
    }

    #[test]
    fn id_check_digit() {
        assert!(valid_cn_id(&digits("11010519491231002X")));
        assert!(!valid_cn_id(&digits("110105194912310021")));
    }

    #[test]
    fn luhn_check() {
        assert!(luhn(&digits("4111111111111111")));
        assert!(!luhn(&digits("4111111111111112")));
    }

    #[test]
    fn finds_spoken_numbers_across_spaces_not_across_clauses() {
        let n = Normalized::new("您的手机是138 1234 5678吧");
        assert_eq!(detect(&n, Detector::CnMobile).len(), 1);
        let n = Normalized::new("尾号5678，138");
        assert!(detect(&n, Detector::CnMobile).is_empty());
        let n = Normalized::new("幺三八一二三四五六七八");
        assert_eq!(detect(&n, Detector::CnMobile).len(), 1);
    }
}
