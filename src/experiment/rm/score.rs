//! Score preference pairs with a saved reward model (`rlhf-lab score`, the app's "load model"):
//! the data is prepared exactly as the training run prepared it — same loader, split seed and
//! injected flips — but encoded with the model's own tokenizer.
use serde::{Deserialize, Serialize};

use super::config::RmTrainConfig;
use super::step::score_pairs;
use crate::compute::Compute;
use crate::data::PreferencePair;
use crate::data::encode::EncodedPair;
use crate::experiment::config::{DataConfig, Run};
use crate::experiment::error::ExperimentError;
use crate::experiment::metrics::{pairwise_accuracy, shorter_wins_accuracy};
use crate::experiment::prepare::{Upload, prepare_with_tokenizer};
use crate::model::saved::{ModelHeader, SavedRewardModel, reward_model_to_bytes};
use crate::model::{RewardModel, saved::ModelFileError};

/// Which pairs to score.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ScoreSplit {
    /// Every pair, in input order.
    #[default]
    All,
    /// The training split of the run's seed.
    Train,
    /// The held-out split of the run's seed: the pairs the training report's accuracy is on.
    Validation,
}

impl ScoreSplit {
    /// The CLI name.
    pub fn name(self) -> &'static str {
        match self {
            Self::All => "all",
            Self::Train => "train",
            Self::Validation => "validation",
        }
    }

    /// Parse a CLI value.
    pub fn from_arg(arg: &str) -> Result<Self, String> {
        match arg {
            "all" => Ok(Self::All),
            "train" => Ok(Self::Train),
            "validation" => Ok(Self::Validation),
            other => Err(format!("--split {other}: use all, train or validation")),
        }
    }
}

/// One scored pair.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ScoreRow {
    /// The pair's input index.
    pub index: usize,
    /// Reward of the chosen response.
    pub reward_chosen: f32,
    /// Reward of the rejected response.
    pub reward_rejected: f32,
}

/// What scoring found.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ScoreSummary {
    /// Data source label.
    pub data: String,
    /// Which pairs.
    pub split: ScoreSplit,
    /// Pairs scored.
    pub pairs: usize,
    /// Pairwise accuracy: against the gold reward where every pair knows it, else the labels.
    pub accuracy: f32,
    /// `gold` or `labels`.
    pub target: String,
    /// "Shorter response wins" on the same pairs and target.
    pub baseline_accuracy: f32,
    /// `wgpu` or `flex`.
    pub backend: String,
}

/// Scores in input order and their summary.
pub struct Scored {
    /// One row per scored pair, input order.
    pub rows: Vec<ScoreRow>,
    /// Accuracy and context.
    pub summary: ScoreSummary,
}

/// The header of a reward model trained by a run with `config`.
pub fn rm_header(
    config: &Run<RmTrainConfig>,
    tokenizer_json: String,
    vocab_size: usize,
) -> Result<ModelHeader, ExperimentError> {
    Ok(ModelHeader {
        kind: "reward_model".into(),
        model: config.experiment.model.clone(),
        vocab_size,
        prototypes: config.experiment.contrastive.model_prototypes(),
        tokenizer: tokenizer_json,
        run_config: serde_json::to_value(config)
            .map_err(|e| ExperimentError::Config(format!("config not serialisable: {e}")))?,
    })
}

/// The bytes of a model file for `model`, trained by a run with `config` and tokenizer JSON.
pub fn save_reward_model(
    model: &RewardModel,
    config: &Run<RmTrainConfig>,
    tokenizer_json: String,
    vocab_size: usize,
) -> Result<Vec<u8>, ExperimentError> {
    let header = rm_header(config, tokenizer_json, vocab_size)?;
    reward_model_to_bytes(model, &header).map_err(|e| ExperimentError::Model(e.to_string()))
}

/// The training run's config a model file carries (files from before the run envelope are
/// converted).
pub fn training_config(saved: &SavedRewardModel) -> Result<Run<RmTrainConfig>, ModelFileError> {
    let mut value = saved.header.run_config.clone();
    if crate::experiment::legacy::is_legacy(&value) {
        value = crate::experiment::legacy::convert(value)
            .map_err(ModelFileError::Header)?
            .0;
    }
    serde_json::from_value(value)
        .map_err(|e| ModelFileError::Header(format!("its run config does not parse: {e}")))
}

/// Score the pairs of `data` (split with `seed`, as the training run did) with `saved` on
/// `compute`.
pub async fn score_with_saved(
    saved: &SavedRewardModel,
    data: &DataConfig,
    seed: u64,
    split: ScoreSplit,
    compute: &Compute,
    upload: Option<&Upload>,
) -> Result<Scored, ExperimentError> {
    let model = saved
        .load(&compute.device)
        .map_err(|e| ExperimentError::Model(e.to_string()))?;
    let prepared = prepare_with_tokenizer(
        data,
        saved.header.model.max_len,
        seed,
        upload,
        Some(saved.tokenizer.clone()),
    )?;
    let positions: Vec<usize> = match split {
        ScoreSplit::All => (0..prepared.pairs.len()).collect(),
        ScoreSplit::Train => prepared.split.train.clone(),
        ScoreSplit::Validation => prepared.split.validation.clone(),
    };
    let (encoded, pairs): (Vec<&EncodedPair>, Vec<&PreferencePair>) = positions
        .iter()
        .map(|&p| (&prepared.encoded[p], &prepared.pairs[p]))
        .unzip();
    let (chosen, rejected) = score_pairs(
        &model,
        &encoded,
        prepared.tokenizer.pad_id(),
        super::step::EVAL_BATCH_PAIRS,
    )
    .await?;
    let gaps: Vec<f32> = chosen.iter().zip(&rejected).map(|(c, r)| c - r).collect();
    let use_gold = prepared.has_gold();
    let rows = pairs
        .iter()
        .zip(chosen.iter().zip(&rejected))
        .map(|(p, (&c, &r))| ScoreRow {
            index: p.index,
            reward_chosen: c,
            reward_rejected: r,
        })
        .collect();
    Ok(Scored {
        rows,
        summary: ScoreSummary {
            data: prepared.label.clone(),
            split,
            pairs: pairs.len(),
            accuracy: pairwise_accuracy(&pairs, &gaps, use_gold),
            target: if use_gold { "gold" } else { "labels" }.into(),
            baseline_accuracy: shorter_wins_accuracy(&pairs, use_gold),
            backend: compute.backend_name().into(),
        },
    })
}

/// `scores.csv`: `index,reward_chosen,reward_rejected`, one row per pair.
pub fn scores_csv(rows: &[ScoreRow]) -> String {
    let mut out = String::from("index,reward_chosen,reward_rejected\n");
    for r in rows {
        out.push_str(&format!(
            "{},{},{}\n",
            r.index, r.reward_chosen, r.reward_rejected
        ));
    }
    out
}
