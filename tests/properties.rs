//! Property tests for normalization and span mapping: whatever is slipped between or around a
//! banned phrase (spaces, punctuation, zero-width characters, emoji, astral CJK, Traditional
//! forms), the finding's byte and UTF-16 spans cut exactly the flagged characters.

#![allow(
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test helpers fail the test by panicking; test JSON is indexed directly"
)]

use callguard::normalize::{utf16_offsets, Normalized};
use callguard::{Context, Engine};
use proptest::prelude::*;
use std::sync::OnceLock;

fn engine() -> &'static Engine {
    static ENGINE: OnceLock<Engine> = OnceLock::new();
    ENGINE.get_or_init(|| Engine::with_embedded_packs().unwrap_or_else(|p| panic!("{p:?}")))
}

fn noise() -> impl Strategy<Value = String> {
    prop::collection::vec(
        prop::sample::select(vec![
            " ", "　", "-", "·", "\u{200B}", "\u{200D}", "*", "，", "😀", "\u{FEFF}",
        ]),
        0..3,
    )
    .prop_map(|v| v.concat())
}

fn prefix() -> impl Strategy<Value = String> {
    prop::collection::vec(
        prop::sample::select(vec![
            "😀", "𠀀", "𪚥", "您好", "ｈｉ", "，", "喂", "🇨🇳", "e\u{301}",
        ]),
        0..6,
    )
    .prop_map(|v| v.concat())
}

proptest! {
    #[test]
    fn banned_label_is_found_whatever_is_inserted(pre in prefix(), gap in noise(), traditional in any::<bool>()) {
        let second = if traditional { "賴" } else { "赖" };
        let flagged = format!("老{gap}{second}");
        let text = format!("{pre}你这个{flagged}，快还钱");
        let ctx = Context { identity_verified: true, ..Context::default() };
        let findings = engine().check("cn-company", &text, &ctx).unwrap_or_default();
        let f = findings.iter().find(|f| f.rule == "abuse.label");
        prop_assert!(f.is_some(), "not flagged: {text}");
        if let Some(f) = f {
            prop_assert_eq!(text.get(f.start..f.end), Some(flagged.as_str()));
            let units: Vec<u16> = text.encode_utf16().collect();
            let slice = units.get(f.utf16_start..f.utf16_end).map(String::from_utf16_lossy);
            prop_assert_eq!(slice.as_deref(), Some(flagged.as_str()));
        }
    }

    #[test]
    fn spans_map_back_inside_the_original(text in "\\PC{0,40}") {
        let n = Normalized::new(&text);
        let boundaries: Vec<usize> = n.text.char_indices().map(|(i, _)| i).chain([n.text.len()]).collect();
        for (i, &s) in boundaries.iter().enumerate() {
            for &e in boundaries.iter().skip(i + 1).take(3) {
                let mapped = n.original_span(s, e);
                prop_assert!(mapped.is_some());
                if let Some((os, oe)) = mapped {
                    prop_assert!(os < oe && oe <= text.len());
                    prop_assert!(text.is_char_boundary(os) && text.is_char_boundary(oe));
                }
            }
        }
    }

    #[test]
    fn normalizing_twice_changes_nothing(text in "\\PC{0,40}") {
        let once = Normalized::new(&text).text;
        prop_assert_eq!(Normalized::new(&once).text, once);
    }

    #[test]
    fn utf16_offsets_agree_with_encode_utf16(text in "\\PC{0,30}") {
        let offsets: Vec<usize> = text.char_indices().map(|(i, _)| i).chain([text.len()]).collect();
        let units = utf16_offsets(&text, &offsets);
        for (&byte, &unit) in offsets.iter().zip(&units) {
            prop_assert_eq!(text.get(..byte).map(|p| p.encode_utf16().count()), Some(unit));
        }
    }

    #[test]
    fn check_never_panics(text in "\\PC{0,200}", dpd in 0u32..400, party in 0usize..4, verified in any::<bool>()) {
        let party = callguard::Party::ALL.get(party).copied().unwrap_or(callguard::Party::Debtor);
        let ctx = Context { dpd: Some(dpd), party, identity_verified: verified, ..Context::default() };
        let findings = engine().check("cn-company", &text, &ctx).unwrap_or_default();
        for f in findings {
            prop_assert!(f.start < f.end && f.end <= text.len());
            prop_assert_eq!(text.get(f.start..f.end), Some(f.excerpt.as_str()));
        }
    }
}
