//! Generates one test per rule of every embedded pack (`$OUT_DIR/rule_tests.rs`, included by
//! `tests/pack_examples.rs`), so a failing example names its pack and rule in the test list, and
//! the list of embedded trainer scenarios (`$OUT_DIR/embedded_scenarios.rs`).
//! A layered pack also tests its parents' rules, since its own words and negators apply to them.

use std::collections::BTreeMap;
use std::path::PathBuf;

fn main() {
    println!("cargo:rerun-if-changed=policies");
    let dir = PathBuf::from("policies");
    let mut packs: BTreeMap<String, (Option<String>, Vec<String>)> = BTreeMap::new();
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .map(|entries| entries.filter_map(|e| e.ok().map(|e| e.path())).collect())
        .unwrap_or_default();
    files.sort();
    for path in files
        .iter()
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
    {
        println!("cargo:rerun-if-changed={}", path.display());
        let text = std::fs::read_to_string(path).unwrap_or_default();
        let (mut id, mut extends, mut rules) = (None, None, Vec::new());
        let mut section = String::new();
        for line in text.lines().map(str::trim) {
            if line.starts_with('[') {
                section = line.to_string();
                continue;
            }
            let value = |key: &str| {
                line.strip_prefix(key)
                    .map(str::trim_start)
                    .and_then(|rest| rest.strip_prefix('='))
                    .map(|v| v.trim().trim_matches('"').to_string())
            };
            match section.as_str() {
                "[pack]" => {
                    id = id.or(value("id"));
                    extends = extends.or(value("extends"));
                }
                "[[rules]]" => {
                    if let Some(rule) = value("id") {
                        rules.push(rule);
                        section.clear();
                    }
                }
                _ => {}
            }
        }
        if let Some(id) = id {
            packs.insert(id, (extends, rules));
        }
    }
    let mut out = String::new();
    for (pack, (extends, own)) in &packs {
        let mut rules = own.clone();
        let mut parent = extends.clone();
        while let Some(p) = parent {
            let (next, inherited) = packs.get(&p).cloned().unwrap_or_default();
            rules.extend(inherited);
            parent = next;
        }
        for rule in rules {
            let name: String = format!("{pack}_{rule}")
                .chars()
                .map(|c| {
                    if c.is_ascii_alphanumeric() {
                        c.to_ascii_lowercase()
                    } else {
                        '_'
                    }
                })
                .collect();
            out.push_str(&format!(
                "#[test]\nfn {name}() {{\n    check_rule({pack:?}, {rule:?});\n}}\n\n"
            ));
        }
    }
    write_out("rule_tests.rs", &out);
    write_out("embedded_scenarios.rs", &embedded_scenarios());
    write_out("t2s.rs", &traditional_to_simplified());
}

/// The Traditional → Simplified table of `src/fold.rs`: every character that fast2s converts when
/// it stands alone (fast2s only converts characters of three UTF-8 bytes, so all are in the BMP).
/// The engine looks characters up in this sorted table instead of linking fast2s, whose hash maps
/// and embedded dictionary cost time on every character and size in every module.
fn traditional_to_simplified() -> String {
    let mut pairs = std::collections::BTreeMap::new();
    for u in 0x0800u32..=0xFFFF {
        let Some(c) = char::from_u32(u) else { continue };
        let converted: Vec<char> = fast2s::convert(&c.to_string()).chars().collect();
        if let [s] = converted.as_slice() {
            if *s != c && u32::from(*s) <= 0xFFFF {
                pairs.insert(u, u32::from(*s));
            }
        }
    }
    // fast2s leaves a character alone where it is also a Simplified character of its own (著 in
    // 著名). Matching only needs one form, and Traditional speech writes 等著 / 看著辦 / 彆: the
    // normalized text takes the colloquial form (as do the packs' phrases, normalized the same way).
    // It also leaves the variant forms that OpenCC writes (羣 for 群 in 家族羣, 磣 in 寒磣) and
    // takes 疊 for 迭 where the rules mean 叠.
    for (traditional, simplified) in [
        ('著', '着'),
        ('彆', '别'),
        ('羣', '群'),
        ('磣', '碜'),
        ('疊', '叠'),
    ] {
        pairs.insert(u32::from(traditional), u32::from(simplified));
    }
    let (from, to): (Vec<u32>, Vec<u32>) = pairs.into_iter().unzip();
    let mut bits = vec![0u64; 1024];
    for &u in &from {
        if let Some(word) = bits.get_mut((u / 64) as usize) {
            *word |= 1 << (u % 64);
        }
    }
    let list = |v: &[u32]| {
        v.iter()
            .map(|u| format!("0x{u:04X}"))
            .collect::<Vec<_>>()
            .join(",")
    };
    let words = bits
        .iter()
        .map(|w| format!("0x{w:X}"))
        .collect::<Vec<_>>()
        .join(",");
    format!(
        "/// Generated by build.rs from fast2s: characters that have a Simplified form, sorted.\n\
         static T2S_FROM: [u16; {n}] = [{from}];\n\
         /// The Simplified form of `T2S_FROM[i]`.\n\
         static T2S_TO: [u16; {n}] = [{to}];\n\
         /// Bit `u` is set when BMP character `u` is in `T2S_FROM`.\n\
         static HAS_SIMPLIFIED: [u64; 1024] = [{words}];\n",
        n = from.len(),
        from = list(&from),
        to = list(&to),
    )
}

/// `EMBEDDED_SCENARIOS`: every `policies/scenarios/*.toml`, by file stem, in name order, so a
/// trainer adds a scenario by adding a file.
fn embedded_scenarios() -> String {
    let dir = PathBuf::from("policies/scenarios");
    println!("cargo:rerun-if-changed={}", dir.display());
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .map(|entries| entries.filter_map(|e| e.ok().map(|e| e.path())).collect())
        .unwrap_or_default();
    files.retain(|p| p.extension().is_some_and(|e| e == "toml"));
    files.sort();
    let mut out = String::from(
        "/// Trainer scenarios built into every module: (file stem, TOML).\n\
         pub const EMBEDDED_SCENARIOS: &[(&str, &str)] = &[\n",
    );
    for path in files {
        println!("cargo:rerun-if-changed={}", path.display());
        let stem = path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        out.push_str(&format!(
            "    ({stem:?}, include_str!(concat!(env!(\"CARGO_MANIFEST_DIR\"), \"/policies/scenarios/{stem}.toml\"))),\n"
        ));
    }
    out.push_str("];\n");
    out
}

fn write_out(name: &str, text: &str) {
    let dest = PathBuf::from(std::env::var("OUT_DIR").unwrap_or_default()).join(name);
    if let Err(e) = std::fs::write(&dest, text) {
        println!("cargo:warning=cannot write {}: {e}", dest.display());
        std::process::exit(1);
    }
}
