//! Experiment configs: one serde envelope, [`Run`] — the data, the seed, the backend and the
//! experiment's own knobs — is the CLI's `--config`, the app's settings, the saved run's header,
//! every report's `config` and (in the browser) the URL state.
use serde::ser::{Error as _, SerializeStruct};
use serde::{Deserialize, Serialize, Serializer};

use crate::compute::BackendChoice;
use crate::data::fields::TruthRule;
use crate::data::formats::{Format, Pairing};
use crate::data::synthetic::SyntheticConfig;

/// An experiment kind's own knobs, named by its `kind` tag (`rm`, `strength`, `denoise`).
pub trait KindConfig {
    /// The `kind` tag of this config in JSON.
    fn kind(&self) -> &'static str;
    /// Check every knob, naming the field and the fix.
    fn check(&self) -> Result<(), String>;
}

/// A run: what every run shares whatever its kind (data, seed, backend), around the knobs of
/// its experiment `E`. `Run<ExperimentConfig>` is any run; `Run<RmTrainConfig>` one reward
/// model's. In JSON the experiment always carries its `kind` tag, so a report's `config` loads
/// back as a run config anywhere.
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct Run<E> {
    /// The data and its split.
    pub data: DataConfig,
    /// Seed of the split, the weights, the shuffling and dropout (the synthetic world has its
    /// own, so runs with different seeds can see the same world).
    pub seed: u64,
    /// Compute backend.
    pub backend: BackendChoice,
    /// The experiment's own knobs.
    pub experiment: E,
}

impl<E: Serialize + KindConfig> Serialize for Run<E> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut experiment = serde_json::to_value(&self.experiment).map_err(S::Error::custom)?;
        if let Some(fields) = experiment.as_object_mut() {
            fields
                .entry("kind")
                .or_insert_with(|| self.experiment.kind().into());
        }
        let mut s = serializer.serialize_struct("Run", 4)?;
        s.serialize_field("data", &self.data)?;
        s.serialize_field("seed", &self.seed)?;
        s.serialize_field("backend", &self.backend)?;
        s.serialize_field("experiment", &experiment)?;
        s.end()
    }
}

impl<E: KindConfig> Run<E> {
    /// Check the data and the experiment's knobs, naming the field and the fix.
    pub fn validate(&self) -> Result<(), String> {
        self.data.validate()?;
        self.experiment.check()
    }
}

impl<E> Run<E> {
    /// The same data, seed and backend around other knobs (a stage, an ensemble member).
    pub fn with<F>(&self, experiment: F) -> Run<F> {
        Run {
            data: self.data.clone(),
            seed: self.seed,
            backend: self.backend,
            experiment,
        }
    }

    /// The same run with another seed (ensemble members, method seeds).
    pub fn reseeded(&self, seed: u64) -> Self
    where
        E: Clone,
    {
        Self {
            seed,
            ..self.clone()
        }
    }
}

/// Where the preference pairs come from.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum DataSource {
    /// The synthetic preference world (gold reward known).
    Synthetic(SyntheticConfig),
    /// The Anthropic HH-RLHF harmless-base test split shipped in `shared/data`.
    HhSample,
    /// A JSONL or JSONL.gz file (HH-RLHF transcripts, TRL standard or TRL conversational).
    Jsonl {
        /// File path (natively) or the picked file's name (in the browser).
        path: String,
    },
}

impl Default for DataSource {
    fn default() -> Self {
        Self::Synthetic(SyntheticConfig::default())
    }
}

impl DataSource {
    /// Parse the CLI's `--data` value: `synthetic`, `hh-sample` or a path.
    pub fn from_arg(arg: &str) -> Self {
        match arg {
            "synthetic" => Self::Synthetic(SyntheticConfig::default()),
            "hh-sample" | "hh" => Self::HhSample,
            path => Self::Jsonl { path: path.into() },
        }
    }

    /// True for real text (HH-RLHF, JSONL files), false for the synthetic world.
    pub fn is_text(&self) -> bool {
        !matches!(self, Self::Synthetic(_))
    }

    /// A short name for logs and the UI.
    pub fn label(&self) -> String {
        match self {
            Self::Synthetic(s) => {
                format!(
                    "synthetic world ({} pairs, flip rate {})",
                    s.pairs, s.flip_rate
                )
            }
            Self::HhSample => "HH-RLHF harmless-base sample".into(),
            Self::Jsonl { path } => path.clone(),
        }
    }
}

/// Data source and how it is split and tokenized.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct DataConfig {
    /// The pairs.
    pub source: DataSource,
    /// Fraction of pairs held out for validation (seeded split).
    pub validation_fraction: f64,
    /// Skip (and count) malformed JSONL lines instead of stopping at the first.
    pub skip_bad_lines: bool,
    /// Byte-level BPE vocabulary size for text data (the synthetic world uses its own words).
    pub vocab_size: usize,
    /// Keep at most this many prompt tokens (the last ones, nearest the response).
    pub max_prompt_len: usize,
    /// Dotted JSON path, in each input record, to a boolean that says the pair is known to be
    /// mislabeled (e.g. `meta.flipped`): ground truth for strength analysis on real data.
    pub truth_field: Option<String>,
    /// Flip this fraction of all pairs at random (seeded) before anything else, and remember
    /// which: the injected-noise test on real text (spec §8.3, HH-3).
    pub inject_flip_rate: f64,
    /// Read the file in this record layout instead of detecting it.
    pub format: Option<Format>,
    /// How rated multi-completion records (UltraFeedback, Nectar) become pairs.
    pub pairing: Pairing,
    /// Rated records: the smallest rating gap that makes a pair (equal ratings never do).
    pub min_rating_gap: f64,
    /// Drop pairs whose `score_chosen − score_rejected` is smaller than this in size (equal
    /// scores are always dropped).
    pub min_score_gap: f64,
    /// Dotted path to a number in each record used as the pair's margin in the loss
    /// (Bradley–Terry with margin), e.g. `margin`.
    pub margin_field: Option<String>,
    /// Dotted path to a number in each record used as the pair's preference strength μ instead
    /// of training an ensemble, e.g. `mean preference difference` (the paper's release).
    pub strength_field: Option<String>,
    /// Dotted path to the spread σ of that strength, e.g. `std preference difference`.
    pub strength_std_field: Option<String>,
}

impl Default for DataConfig {
    fn default() -> Self {
        Self {
            source: DataSource::default(),
            validation_fraction: 0.2,
            skip_bad_lines: false,
            vocab_size: 4096,
            max_prompt_len: 48,
            truth_field: None,
            inject_flip_rate: 0.0,
            format: None,
            pairing: Pairing::default(),
            min_rating_gap: 0.0,
            min_score_gap: 0.0,
            margin_field: None,
            strength_field: None,
            strength_std_field: None,
        }
    }
}

impl DataConfig {
    /// Check everything a user can set, naming the field and the fix.
    pub fn validate(&self) -> Result<(), String> {
        if let DataSource::Synthetic(s) = &self.source {
            s.validate()?;
        }
        if !(0.0..=1.0).contains(&self.inject_flip_rate) {
            return Err(format!(
                "data.inject_flip_rate = {}: must be in [0, 1]",
                self.inject_flip_rate
            ));
        }
        if self
            .truth_field
            .as_deref()
            .is_some_and(|f| f.trim().is_empty())
        {
            return Err(
                "data.truth_field is empty: give a dotted path such as meta.flipped".into(),
            );
        }
        if let Some(rule) = &self.truth_field {
            TruthRule::parse(rule).map_err(|e| format!("data.truth_field: {e}"))?;
        }
        for (name, value) in [
            ("min_rating_gap", self.min_rating_gap),
            ("min_score_gap", self.min_score_gap),
        ] {
            if !(value.is_finite() && value >= 0.0) {
                return Err(format!(
                    "data.{name} = {value}: must be a finite number ≥ 0 (0 drops only exact ties)"
                ));
            }
        }
        for (name, value) in [
            ("margin_field", &self.margin_field),
            ("strength_field", &self.strength_field),
            ("strength_std_field", &self.strength_std_field),
        ] {
            if value.as_deref().is_some_and(|f| f.trim().is_empty()) {
                return Err(format!(
                    "data.{name} is empty: give a dotted path to a number, such as margin"
                ));
            }
        }
        if self.strength_std_field.is_some() && self.strength_field.is_none() {
            return Err(
                "data.strength_std_field is set without data.strength_field: name the strength too"
                    .into(),
            );
        }
        if !(self.validation_fraction > 0.0 && self.validation_fraction < 1.0) {
            return Err(format!(
                "data.validation_fraction = {}: must be strictly between 0 and 1",
                self.validation_fraction
            ));
        }
        Ok(())
    }
}

/// AdamW with linear warmup over the first `warmup_fraction` of the steps, then cosine decay to
/// `final_lr_fraction · lr`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct OptimizerConfig {
    /// Peak learning rate.
    pub lr: f64,
    /// Decoupled weight decay.
    pub weight_decay: f64,
    /// Fraction of the run spent warming up linearly from 0 to `lr`.
    pub warmup_fraction: f64,
    /// Learning rate at the last step, as a fraction of `lr`.
    pub final_lr_fraction: f64,
    /// Clip each weight tensor's gradient to this L2 norm (0 = off; burn clips per tensor).
    pub grad_clip_norm: f64,
}

impl Default for OptimizerConfig {
    fn default() -> Self {
        Self {
            lr: 1e-3,
            weight_decay: 0.01,
            warmup_fraction: 0.1,
            final_lr_fraction: 0.1,
            grad_clip_norm: 1.0,
        }
    }
}

impl OptimizerConfig {
    /// Learning rate at optimizer step `step` (0-based) of `total`.
    pub fn lr_at(&self, step: usize, total: usize) -> f64 {
        let warmup = (self.warmup_fraction.clamp(0.0, 1.0) * total as f64).round() as usize;
        if step < warmup {
            return self.lr * (step + 1) as f64 / warmup as f64;
        }
        // The last step taken is `total - 1`: it gets exactly the final learning rate.
        let span = total.saturating_sub(warmup + 1).max(1) as f64;
        let progress = ((step - warmup) as f64 / span).clamp(0.0, 1.0);
        let cosine = 0.5 * (1.0 + (std::f64::consts::PI * progress).cos());
        self.lr * (self.final_lr_fraction + (1.0 - self.final_lr_fraction) * cosine)
    }
}
#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schedule_warms_up_then_decays() {
        let o = OptimizerConfig {
            lr: 1.0,
            warmup_fraction: 0.1,
            final_lr_fraction: 0.1,
            ..Default::default()
        };
        assert!((o.lr_at(0, 100) - 0.1).abs() < 1e-12);
        assert!((o.lr_at(9, 100) - 1.0).abs() < 1e-12);
        assert!((o.lr_at(10, 100) - 1.0).abs() < 1e-12);
        assert!((o.lr_at(99, 100) - 0.1).abs() < 1e-9);
        assert!(o.lr_at(50, 100) < 1.0 && o.lr_at(50, 100) > 0.1);
    }
}
