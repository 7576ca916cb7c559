//! The unit every loader produces: one preference pair, with its place in the input.
use serde::{Deserialize, Serialize};

/// One preference pair: a prompt, the response people preferred and the one they rejected.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PreferencePair {
    /// 0-based position of this pair's record in its input (non-blank lines for JSONL;
    /// generation order for the synthetic world). Skipped bad lines leave gaps, so per-pair
    /// results can always be written back in input order.
    pub index: usize,
    /// The shared context (for HH-RLHF: the transcript up to and including the last
    /// `\n\nAssistant:`). May be empty.
    pub prompt: String,
    /// The preferred response (without the prompt).
    pub chosen: String,
    /// The rejected response (without the prompt).
    pub rejected: String,
    /// Fields of the input record that the loader did not consume, kept as they were
    /// (e.g. `{"meta": {"flipped": true}}`), so later steps can address them by a dotted path.
    #[serde(default, skip_serializing_if = "serde_json::Map::is_empty")]
    pub meta: serde_json::Map<String, serde_json::Value>,
    /// Ground truth, where it is known (the synthetic world).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub truth: Option<PairTruth>,
}

/// What the synthetic world knows about a pair and a real dataset does not.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct PairTruth {
    /// Gold reward of the response now labelled `chosen`.
    pub gold_chosen: f32,
    /// Gold reward of the response now labelled `rejected`.
    pub gold_rejected: f32,
    /// True when the label was deliberately flipped (injected noise at rate ρ).
    pub flipped: bool,
}

impl PairTruth {
    /// Gold reward gap in the orientation of the current label: `g(chosen) - g(rejected)`.
    pub fn gold_gap(&self) -> f32 {
        self.gold_chosen - self.gold_rejected
    }

    /// Whether the current label agrees with the gold reward (ties count as agreement).
    pub fn label_is_gold_correct(&self) -> bool {
        self.gold_gap() >= 0.0
    }
}

impl PreferencePair {
    /// A pair with no metadata and no truth.
    pub fn new(
        index: usize,
        prompt: impl Into<String>,
        chosen: impl Into<String>,
        rejected: impl Into<String>,
    ) -> Self {
        Self {
            index,
            prompt: prompt.into(),
            chosen: chosen.into(),
            rejected: rejected.into(),
            meta: serde_json::Map::new(),
            truth: None,
        }
    }
}
