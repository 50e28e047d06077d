//! "Did you mean …": the nearest expected name for a misspelt field, read from serde's
//! `unknown field `x`, expected one of `a`, `b`` message. A misspelt call context field changes
//! the verdict (a misspelt `identity_verified` reads as "not verified"), so it is refused, and the
//! refusal should say what was meant.

/// The misspelt name and the expected name nearest to it, when one is near enough.
pub fn did_you_mean(serde_message: &str) -> Option<(String, String)> {
    let rest = serde_message.strip_prefix("unknown field `")?;
    let (unknown, rest) = rest.split_once('`')?;
    let expected = rest.split_once("expected")?.1;
    let candidates: Vec<&str> = expected.split('`').skip(1).step_by(2).collect();
    let (best, distance) = candidates
        .iter()
        .map(|c| (*c, edit_distance(unknown, c)))
        .min_by_key(|(_, d)| *d)?;
    // Near enough: at most a third of the name's letters differ (and at most 3).
    (distance <= 3 && distance * 3 <= unknown.chars().count().max(3))
        .then(|| (unknown.to_string(), best.to_string()))
}

/// Levenshtein distance over characters.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut current = Vec::with_capacity(b.len() + 1);
        current.push(i + 1);
        for (j, cb) in b.iter().enumerate() {
            let substitute =
                previous.get(j).copied().unwrap_or(usize::MAX) + usize::from(ca != *cb);
            let delete = previous
                .get(j + 1)
                .copied()
                .unwrap_or(usize::MAX)
                .saturating_add(1);
            let insert = current
                .get(j)
                .copied()
                .unwrap_or(usize::MAX)
                .saturating_add(1);
            current.push(substitute.min(delete).min(insert));
        }
        previous = current;
    }
    previous.last().copied().unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_misspelt_context_field_gets_the_name_it_meant() {
        let m = "unknown field `identity_verifed`, expected one of `dpd`, `party`, `identity_verified`, `third_party_informed`, `vulnerable`, `channel`";
        assert_eq!(
            did_you_mean(m),
            Some(("identity_verifed".into(), "identity_verified".into()))
        );
        let far = "unknown field `colour`, expected one of `dpd`, `party`";
        assert_eq!(did_you_mean(far), None);
        assert_eq!(did_you_mean("missing field `text`"), None);
        assert_eq!(edit_distance("kitten", "sitting"), 3);
    }
}
