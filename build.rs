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
