//! DPD stages: each pack of a chain has its own stage table; what applies at a DPD is the most
//! specific stage's name and guidance with the strictest third-party policy of every layer.

use super::{Pack, ThirdPartyPolicy};
use serde::Serialize;

/// A DPD stage as one pack of the chain defines it.
#[derive(Debug, Clone, Serialize)]
pub struct Stage {
    pub id: String,
    pub name: String,
    pub from: u32,
    pub to: Option<u32>,
    pub third_party_contact: ThirdPartyPolicy,
    pub guidance: String,
    pub sources: Vec<String>,
}

impl Stage {
    pub fn covers(&self, dpd: u32) -> bool {
        dpd >= self.from && self.to.is_none_or(|to| dpd <= to)
    }
}

/// One pack's stage table; a layered pack keeps every layer and takes the strictest.
#[derive(Debug, Clone, Serialize)]
pub struct StageLayer {
    pub pack: String,
    pub default_third_party_contact: Option<(ThirdPartyPolicy, Vec<String>)>,
    pub stages: Vec<Stage>,
}

/// What applies at one DPD after layering.
#[derive(Debug, Clone, Serialize)]
pub struct StageView {
    pub dpd: u32,
    pub stage: Option<String>,
    pub name: String,
    pub guidance: Vec<String>,
    pub third_party_contact: ThirdPartyPolicy,
    pub sources: Vec<String>,
}

/// A stage of the pack's own table as the pages show it: its own wording, and the third-party
/// policy actually in force there once every layer is applied (the strictest wins). When a parent
/// pack's stricter policy overrides this stage's, `in_force_pack` and `in_force_sources` say whose.
#[derive(Debug, Clone, Serialize)]
pub struct StageSummary {
    #[serde(flatten)]
    pub stage: Stage,
    pub third_party_in_force: ThirdPartyPolicy,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub in_force_pack: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub in_force_sources: Vec<String>,
}

impl Pack {
    /// What applies at `dpd`: the most specific stage's name and guidance, and the strictest
    /// third-party policy of every layer.
    pub fn stage_at(&self, dpd: u32) -> StageView {
        let mut view = StageView {
            dpd,
            stage: None,
            name: String::new(),
            guidance: Vec::new(),
            third_party_contact: ThirdPartyPolicy::Allowed,
            sources: Vec::new(),
        };
        for layer in &self.stage_layers {
            if let Some(stage) = layer.stages.iter().find(|s| s.covers(dpd)) {
                view.stage = Some(stage.id.clone());
                view.name = stage.name.clone();
                view.guidance.push(stage.guidance.clone());
                if stage.third_party_contact <= view.third_party_contact {
                    view.third_party_contact = stage.third_party_contact;
                }
                view.sources.extend(stage.sources.iter().cloned());
            } else if let Some((policy, sources)) = &layer.default_third_party_contact {
                if *policy <= view.third_party_contact {
                    view.third_party_contact = *policy;
                }
                view.sources.extend(sources.iter().cloned());
            }
        }
        view
    }

    /// The pack's own stages, each with the policy in force over its whole range. A stage's range
    /// may span a parent's stage boundary, so the strictest policy of any day in it applies.
    pub fn stage_table(&self) -> Vec<StageSummary> {
        let Some((own, parents)) = self.stage_layers.split_last() else {
            return Vec::new();
        };
        own.stages
            .iter()
            .map(|stage| {
                let mut summary = StageSummary {
                    stage: stage.clone(),
                    third_party_in_force: stage.third_party_contact,
                    in_force_pack: None,
                    in_force_sources: Vec::new(),
                };
                for layer in parents {
                    for (policy, sources) in layer.policies_within(stage.from, stage.to) {
                        if policy < summary.third_party_in_force {
                            summary.third_party_in_force = policy;
                            summary.in_force_pack = Some(layer.pack.clone());
                            summary.in_force_sources = sources.to_vec();
                        }
                    }
                }
                summary
            })
            .collect()
    }
}

impl StageLayer {
    /// Every third-party policy this layer sets for some day in `from..=to` (open-ended when `to`
    /// is `None`), with its sources: its stages that overlap the range, and its default where a
    /// day of the range falls outside all of its stages.
    fn policies_within(&self, from: u32, to: Option<u32>) -> Vec<(ThirdPartyPolicy, &[String])> {
        let overlaps =
            |s: &Stage| s.to.is_none_or(|end| end >= from) && to.is_none_or(|end| s.from <= end);
        let mut out: Vec<(ThirdPartyPolicy, &[String])> = self
            .stages
            .iter()
            .filter(|s| overlaps(s))
            .map(|s| (s.third_party_contact, s.sources.as_slice()))
            .collect();
        if let Some((policy, sources)) = &self.default_third_party_contact {
            // The default applies on any day of the range no stage of this layer covers.
            let end = to.unwrap_or(u32::MAX);
            let mut day = from;
            let uncovered = loop {
                match self.stages.iter().find(|s| s.covers(day)) {
                    None => break true,
                    Some(s) => match s.to {
                        Some(t) if t < end => day = t + 1,
                        _ => break false,
                    },
                }
            };
            if uncovered {
                out.push((*policy, sources.as_slice()));
            }
        }
        out
    }
}
