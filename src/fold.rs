//! Traditional → Simplified, one character for one, from a table generated at build time.
//!
//! The table is every character that fast2s converts when it stands alone. fast2s also keeps a
//! handful of characters unconverted in set words (乾隆, 瞭望, 答覆); matching does not depend on
//! them, since no rule phrase contains those words, so the context check is left out.

include!(concat!(env!("OUT_DIR"), "/t2s.rs"));

/// The Simplified form of `c`, or `c` itself.
#[inline(always)]
pub fn simplified_char(c: char) -> char {
    let u = u32::from(c);
    // The bitset covers the BMP only, so a character beyond it is never flagged and the
    // `u16` below never truncates.
    let flagged = HAS_SIMPLIFIED
        .get((u / 64) as usize)
        .is_some_and(|word| word & (1 << (u % 64)) != 0);
    if !flagged {
        return c;
    }
    T2S_FROM
        .binary_search(&(u as u16))
        .ok()
        .and_then(|i| T2S_TO.get(i))
        .and_then(|&s| char::from_u32(u32::from(s)))
        .unwrap_or(c)
}

/// `text` with every Traditional character in its Simplified form; same number of characters.
pub fn simplified(text: &str) -> String {
    text.chars().map(simplified_char).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn converts_traditional_and_keeps_the_rest() {
        assert_eq!(simplified("老賴，還錢！ABC 😀"), "老赖，还钱！ABC 😀");
        assert_eq!(simplified("逾期還款"), "逾期还款");
    }

    #[test]
    fn agrees_with_fast2s_on_every_character_alone() {
        // The characters build.rs folds on purpose (等著 → 等着, 彆 → 别, and OpenCC's variants).
        assert_eq!(simplified("你等著，看著辦，彆走"), "你等着，看着办，别走");
        assert_eq!(simplified("家族羣，寒磣，疊"), "家族群，寒碜，叠");
        for u in 0x0800u32..=0xFFFF {
            let Some(c) = char::from_u32(u) else { continue };
            if matches!(c, '著' | '彆' | '羣' | '磣' | '疊') {
                continue;
            }
            let expected = fast2s::convert(&c.to_string());
            if expected.chars().count() == 1 {
                assert_eq!(simplified_char(c).to_string(), expected, "U+{u:04X}");
            }
        }
    }

    #[test]
    fn table_is_sorted_and_every_entry_is_flagged() {
        assert!(T2S_FROM.windows(2).all(|w| w[0] < w[1]));
        assert!(
            T2S_FROM.len() > 2000,
            "table has {} entries",
            T2S_FROM.len()
        );
        for (&from, &to) in T2S_FROM.iter().zip(T2S_TO.iter()) {
            let c = char::from_u32(u32::from(from)).unwrap_or('\0');
            assert_eq!(u32::from(simplified_char(c)), u32::from(to));
        }
    }
}
