//! The engine: the loaded packs and the operations over them. Pure: no I/O, no clock.

use crate::compiled::CompiledPack;
use crate::model::{Context, Finding, Location, Problem, MAX_UTTERANCE_BYTES};
use crate::pack::{self, Pack};
use crate::scenario::Scenario;
use std::collections::BTreeMap;
use std::sync::Arc;

/// The packs built into every module, parents before children.
pub const EMBEDDED_PACKS: &[(&str, &str)] = &[
    ("cn-national", include_str!("../policies/cn-national.toml")),
    ("cn-company", include_str!("../policies/cn-company.toml")),
];

/// The pack used when a call names none.
pub const DEFAULT_PACK: &str = "cn-company";

#[derive(Clone, Default)]
pub struct Engine {
    packs: BTreeMap<String, Arc<CompiledPack>>,
    scenarios: Vec<Arc<Scenario>>,
}

impl Engine {
    /// An engine with the embedded packs. Their examples are not re-run here: the generated
    /// test suite runs every one of them at build time.
    pub fn with_embedded_packs() -> Result<Self, Vec<Problem>> {
        let mut engine = Engine::default();
        for (name, source) in EMBEDDED_PACKS {
            engine.load_pack(source, false).map_err(|mut problems| {
                for p in &mut problems {
                    p.message = format!("embedded pack `{name}`: {}", p.message);
                }
                problems
            })?;
        }
        for (name, source) in crate::scenario::EMBEDDED_SCENARIOS {
            engine.add_scenario(name, source)?;
        }
        Ok(engine)
    }

    /// Adds a trainer scenario; its pack must be loaded.
    pub fn add_scenario(&mut self, name: &str, source: &str) -> Result<(), Vec<Problem>> {
        let scenario = crate::scenario::load(name, source)?;
        let pack = scenario.pack.as_deref().unwrap_or(DEFAULT_PACK);
        self.get(pack).map_err(|p| {
            vec![Problem::new(
                "invalid_scenario",
                format!("scenario `{name}`: {}", p.message),
            )
            .help(p.help)]
        })?;
        if self.scenario(&scenario.id).is_ok() {
            return Err(vec![Problem::new(
                "invalid_scenario",
                format!("scenario id `{}` is used twice", scenario.id),
            )]);
        }
        self.scenarios.push(Arc::new(scenario));
        Ok(())
    }

    pub fn scenarios(&self) -> impl Iterator<Item = &Scenario> {
        self.scenarios.iter().map(|s| s.as_ref())
    }

    pub fn scenario(&self, id: &str) -> Result<&Scenario, Problem> {
        self.scenarios().find(|s| s.id == id).ok_or_else(|| {
            let known: Vec<&str> = self.scenarios().map(|s| s.id.as_str()).collect();
            Problem::new("unknown_scenario", format!("unknown scenario `{id}`"))
                .help(format!("known scenarios: {}", known.join(", ")))
                .field("scenario")
        })
    }

    /// Loads a pack from TOML text and makes it available by id; with `self_test`, every rule's
    /// `bad` example must be flagged and every `allows` example must pass first.
    pub fn load_pack(
        &mut self,
        source: &str,
        self_test: bool,
    ) -> Result<Arc<CompiledPack>, Vec<Problem>> {
        let parent_id = extends_of(source);
        let parent = match &parent_id {
            Some(id) => Some(self.packs.get(id).ok_or_else(|| {
                vec![Problem::new(
                    "unknown_parent",
                    format!("pack extends `{id}`, which is not loaded"),
                )
                .help(format!(
                    "load `{id}` first, or extend one of: {}",
                    self.pack_ids().join(", ")
                ))]
            })?),
            None => None,
        };
        let pack = pack::load(source, parent.map(|p| &p.pack))?;
        let compiled = CompiledPack::new(pack).map_err(|p| vec![p])?;
        if self_test {
            let failures = self_test_examples(&compiled);
            if !failures.is_empty() {
                return Err(failures);
            }
        }
        let compiled = Arc::new(compiled);
        self.packs
            .insert(compiled.pack.id.clone(), compiled.clone());
        Ok(compiled)
    }

    pub fn pack_ids(&self) -> Vec<String> {
        self.packs.keys().cloned().collect()
    }

    pub fn packs(&self) -> impl Iterator<Item = &Pack> {
        self.packs.values().map(|c| &c.pack)
    }

    pub fn get(&self, id: &str) -> Result<&CompiledPack, Problem> {
        self.packs.get(id).map(|c| c.as_ref()).ok_or_else(|| {
            Problem::new("unknown_pack", format!("unknown pack `{id}`"))
                .help(format!("known packs: {}", self.pack_ids().join(", ")))
                .field("pack")
        })
    }

    /// Checks one utterance with pack `pack_id`.
    pub fn check(&self, pack_id: &str, text: &str, ctx: &Context) -> Result<Vec<Finding>, Problem> {
        let compiled = self.get(pack_id)?;
        if text.len() > MAX_UTTERANCE_BYTES {
            return Err(Problem::new(
                "input_too_large",
                format!(
                    "utterance is {} bytes; at most {MAX_UTTERANCE_BYTES} bytes are checked at once",
                    text.len()
                ),
            )
            .help("split the text into turns or paragraphs")
            .field("text"));
        }
        Ok(crate::check::check(compiled, text, ctx))
    }
}

/// The `extends` of a pack's TOML, read before full parsing so the parent can be found.
fn extends_of(source: &str) -> Option<String> {
    let value: toml::Table = toml::from_str(source).ok()?;
    value
        .get("pack")?
        .get("extends")?
        .as_str()
        .map(str::to_string)
}

/// The context a rule's examples are checked in: the first value each condition allows.
pub fn example_context(rule: &pack::Rule) -> Context {
    let w = &rule.when;
    Context {
        dpd: w.min_dpd.or(w.max_dpd),
        party: w
            .party
            .first()
            .copied()
            .unwrap_or(crate::model::Party::Debtor),
        identity_verified: w.identity_verified.unwrap_or(true),
        third_party_informed: w.third_party_informed.unwrap_or(false),
        vulnerable: w.vulnerable.unwrap_or(false),
        channel: w
            .channel
            .first()
            .copied()
            .unwrap_or(crate::model::Channel::Call),
    }
}

/// Runs every rule's examples: each `bad` line must be flagged by that rule, and no `allows`
/// line may be flagged by any rule of the same category. Problems point at the rule.
pub fn self_test_examples(compiled: &CompiledPack) -> Vec<Problem> {
    compiled
        .pack
        .rules
        .iter()
        .flat_map(|rule| self_test_rule(compiled, rule))
        .collect()
}

/// What is wrong with the rewrites of `rule`'s findings on its `bad` example `bad`, if anything:
/// there must be one, the rewritten line must not be flagged by the rule again, and it must not
/// repeat a fragment the example did not (请您安排还款请您安排还款).
fn rewrite_problem(
    compiled: &CompiledPack,
    rule: &pack::Rule,
    bad: &str,
    findings: &[crate::model::Finding],
    ctx: &Context,
) -> Option<Problem> {
    let mut rewrites: Vec<&crate::model::Rewrite> = findings
        .iter()
        .filter(|f| f.rule == rule.id)
        .filter_map(|f| f.rewrite.as_ref())
        .collect();
    if findings.iter().any(|f| f.rule == rule.id) && rewrites.is_empty() {
        return Some(
            Problem::new(
                "missing_rewrite",
                format!("规则 `{}` 的违规示例 `{bad}` 没有改写（`bad` example has no rewrite）", rule.id),
            )
            .help("请为规则提供 `rewrite` 改写句或 `suggestion`（give the rule a `rewrite` sentence or a `suggestion`）"),
        );
    }
    // Applied from the end, so earlier spans stay valid; overlapping ones are skipped.
    rewrites.sort_by_key(|r| std::cmp::Reverse(r.start));
    let mut fixed = bad.to_string();
    let mut limit = usize::MAX;
    for r in rewrites {
        if r.end <= limit {
            fixed = r.apply(&fixed);
            limit = r.start;
        }
    }
    let normalized = crate::normalize::Normalized::new(&fixed);
    let again = crate::check::findings_per_rule(compiled, &fixed, &normalized, ctx);
    if let Some(f) = again.iter().find(|f| f.rule == rule.id) {
        return Some(Problem::new(
            "rewrite_still_flagged",
            format!(
                "规则 `{}` 的违规示例 `{bad}` 改写为 `{fixed}` 后仍在 `{}` 处被标记（the rewrite is flagged again）",
                rule.id, f.excerpt
            ),
        ));
    }
    match repeated_fragment(&fixed) {
        Some(fragment) if repeated_fragment(bad).as_deref() != Some(fragment.as_str()) => {
            Some(Problem::new(
                "rewrite_doubled",
                format!(
                    "规则 `{}` 的违规示例 `{bad}` 改写为 `{fixed}` 后重复了 `{fragment}`（the rewrite repeats a fragment）",
                    rule.id
                ),
            ))
        }
        _ => None,
    }
}

/// A fragment of three or more characters that `text` says twice in a row.
fn repeated_fragment(text: &str) -> Option<String> {
    let chars: Vec<char> = text.chars().filter(|c| !c.is_whitespace()).collect();
    for len in (3..=chars.len() / 2).rev() {
        for at in 0..=chars.len().saturating_sub(2 * len) {
            let (first, second) = (chars.get(at..at + len)?, chars.get(at + len..at + 2 * len)?);
            if first == second {
                return Some(first.iter().collect());
            }
        }
    }
    None
}

/// Runs one rule's examples (see [`self_test_examples`]).
pub fn self_test_rule(compiled: &CompiledPack, rule: &pack::Rule) -> Vec<Problem> {
    let mut problems = Vec::new();
    let ctx = example_context(rule);
    let at = || Location {
        rule: Some(rule.id.clone()),
        ..rule.location.clone()
    };
    for bad in &rule.bad {
        let normalized = crate::normalize::Normalized::new(bad);
        let findings = crate::check::findings_per_rule(compiled, bad, &normalized, &ctx);
        if let Some(problem) = rewrite_problem(compiled, rule, bad, &findings, &ctx) {
            problems.push(problem.at(at()));
        }
        if !findings.iter().any(|f| f.rule == rule.id) {
            problems.push(
                Problem::new(
                    "example_not_flagged",
                    format!("`bad` example `{bad}` of rule `{}` is not flagged", rule.id),
                )
                .help("widen the rule's phrases or patterns, or fix the example")
                .at(at()),
            );
        }
    }
    for allowed in &rule.allows {
        let findings = crate::check::check(compiled, allowed, &ctx);
        if let Some(f) = findings.iter().find(|f| f.category == rule.category) {
            problems.push(
                Problem::new(
                    "example_flagged",
                    format!(
                        "`allows` example `{allowed}` of rule `{}` is flagged by rule `{}` at `{}`",
                        rule.id, f.rule, f.excerpt
                    ),
                )
                .help("narrow the flagging rule, add a negation cue, or fix the example")
                .at(at()),
            );
        }
    }
    problems
}
