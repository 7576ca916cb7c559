//! What a reward-model run reports besides the lifecycle.
use serde::{Deserialize, Serialize};

/// Reward-model training events.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "rm", rename_all = "snake_case")]
pub enum RmEvent {
    /// The data and model of the run, once, before its first step.
    Setup {
        /// Data source label.
        data: String,
        /// Pairs used for training.
        train_pairs: usize,
        /// Pairs held out.
        validation_pairs: usize,
        /// Malformed lines skipped while loading.
        skipped_lines: usize,
        /// Candidate pairs dropped as ties while loading.
        dropped_ties: usize,
        /// Tokenizer vocabulary size.
        vocab_size: usize,
        /// Trainable parameters.
        params: usize,
    },
    /// One optimizer step.
    Step {
        /// 1-based step number.
        step: usize,
        /// Mean loss of the batch.
        loss: f32,
        /// Fraction of batch pairs with r_c > r_r.
        train_accuracy: f32,
        /// Learning rate used.
        lr: f64,
        /// The contrastive term (before β), in contrastive runs.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        contrastive_loss: Option<f32>,
        /// MetaRM's difference loss J on the step's meta groups, at θ before the step (runs
        /// with a meta set).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        difference_loss: Option<f32>,
    },
    /// Validation after a step.
    Eval {
        /// Step after which it was measured.
        step: usize,
        /// Accuracy against the gold labels (synthetic world) or the held-out labels (real data).
        validation_accuracy: f32,
        /// Accuracy against the (possibly noisy) dataset labels.
        validation_label_accuracy: f32,
        /// Mean validation loss against the dataset labels.
        validation_loss: f32,
        /// Reward of every validation chosen response.
        chosen_rewards: Vec<f32>,
        /// Reward of every validation rejected response.
        rejected_rewards: Vec<f32>,
    },
    /// Held-out pooled features at the end of a run (at most 400 pairs), for the app's 2-D
    /// projection, and how well a linear probe separates chosen from rejected.
    Features {
        /// Features of chosen responses.
        chosen: Vec<Vec<f32>>,
        /// Features of rejected responses.
        rejected: Vec<Vec<f32>>,
        /// Linear-probe AUROC over all held-out pairs.
        separation_auroc: Option<f32>,
    },
    /// The trained model as the bytes of a model file (single runs only, at their end). The
    /// bytes stay out of JSON: the CLI writes them to `DIR/model.bin` instead.
    Model {
        /// The model file.
        #[serde(skip)]
        bytes: std::sync::Arc<Vec<u8>>,
    },
    /// The run's final measurements (before the lifecycle's `Finished`).
    Done {
        /// Steps taken.
        step: usize,
        /// Accuracy on the whole training set at the end.
        train_accuracy: f32,
        /// Final validation accuracy (gold for the synthetic world).
        validation_accuracy: f32,
        /// Seconds of training (without final scoring).
        wall_time_s: f64,
        /// Training throughput.
        train_pairs_per_s: f64,
    },
}
