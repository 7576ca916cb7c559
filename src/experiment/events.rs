//! Typed events: the one stream that feeds the UI's charts, the CLI's JSON lines and the tests.
use serde::{Deserialize, Serialize};

/// One pair as the app shows it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PairView {
    /// Input index.
    pub index: usize,
    /// Prompt text.
    pub prompt: String,
    /// Chosen response.
    pub chosen: String,
    /// Rejected response.
    pub rejected: String,
    /// In the training split.
    pub train: bool,
}

/// Something a runner reports.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum Event {
    /// The run is set up and about to take its first step.
    Started {
        /// `wgpu` or `flex`.
        backend: String,
        /// Adapter description.
        adapter: String,
        /// Why the backend differs from the request, if it does.
        notice: Option<String>,
        /// Data source label.
        data: String,
        /// Pairs used for training.
        train_pairs: usize,
        /// Pairs held out.
        validation_pairs: usize,
        /// Malformed lines skipped while loading.
        skipped_lines: usize,
        /// Tokenizer vocabulary size.
        vocab_size: usize,
        /// Trainable parameters.
        params: usize,
        /// Steps the run will take.
        total_steps: usize,
    },
    /// One optimizer step of reward-model training.
    RmStep {
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
    /// Validation after a step.
    RmEval {
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
    /// The run finished all its steps.
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
    /// The pairs of a multi-run experiment (once, before its first step), parallel to the
    /// positions that μ and σ use.
    Pairs {
        /// Every pair.
        pairs: Vec<PairView>,
        /// Known mislabels, where known.
        mislabeled: Option<Vec<bool>>,
        /// Where they come from.
        truth_source: Option<String>,
    },
    /// An event of one run inside a multi-run experiment (ensemble member, band, method).
    Job {
        /// 0-based run index.
        job: usize,
        /// Runs in this phase.
        jobs: usize,
        /// The run's name.
        label: String,
        /// What the run reported.
        inner: Box<Event>,
    },
    /// Preference strength over the members done so far (≥ 2), every input position.
    StrengthUpdate {
        /// Members finished.
        members: usize,
        /// Ensemble size.
        models: usize,
        /// μ per pair (input positions).
        mu: Vec<f32>,
        /// σ per pair.
        sigma: Vec<f32>,
    },
    /// A band-alone retraining run finished (Fig 4).
    BandDone {
        /// Its result.
        result: super::strength_runner::BandResult,
    },
    /// The strength experiment finished.
    StrengthDone {
        /// Everything it found.
        report: Box<super::strength_runner::StrengthReport>,
    },
    /// A denoising method run finished.
    MethodDone {
        /// Its result.
        run: super::denoise_runner::MethodRun,
    },
    /// The method comparison finished.
    DenoiseDone {
        /// Everything it found.
        report: Box<super::denoise_runner::DenoiseReport>,
    },
    /// Something the user should see (not an error).
    Notice {
        /// The text.
        message: String,
    },
    /// The run stopped on an error; everything before it stays valid.
    Error {
        /// What went wrong and how to fix it.
        message: String,
    },
}
