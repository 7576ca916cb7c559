//! Errors of experiment set-up and runs: each says what went wrong, where, and what to do.
use crate::compute::ComputeError;
use crate::data::DataError;
use crate::data::encode::EncodeError;
use crate::data::tokenizer::TokenizerError;

/// Why an experiment could not start or continue.
#[derive(Debug, thiserror::Error)]
pub enum ExperimentError {
    /// A setting is out of range.
    #[error("invalid config: {0}")]
    Config(String),
    /// The data could not be loaded.
    #[error(transparent)]
    Data(#[from] DataError),
    /// The built-in HH-RLHF sample is not where we looked.
    #[error(
        "the HH-RLHF sample (hh-rlhf-harmless-base-test.jsonl.gz) was not found; looked in: {searched}. \
         Put the file in one of these folders, set RLHF_LAB_DATA_DIR to its folder, or pass the file's path to --data"
    )]
    HhSampleMissing {
        /// Folders searched, comma-separated.
        searched: String,
    },
    /// Tokenizer training or use failed.
    #[error(transparent)]
    Tokenizer(#[from] TokenizerError),
    /// Turning text into ids failed.
    #[error(transparent)]
    Encode(#[from] EncodeError),
    /// The GPU could not be used.
    #[error(transparent)]
    Compute(#[from] ComputeError),
    /// Training produced NaN or infinity; the step was not applied.
    #[error(
        "training diverged: the loss at step {step} is {value}. The model after step {last_good} is kept; \
         lower optimizer.lr (now {lr}) or raise optimizer.warmup_fraction, then continue or reset"
    )]
    NonFinite {
        /// The step that failed (1-based).
        step: usize,
        /// The bad value.
        value: f32,
        /// The last step whose update was applied.
        last_good: usize,
        /// The learning rate in use.
        lr: f64,
    },
    /// The device failed while computing (e.g. a GPU that was lost).
    #[error(
        "the compute device failed: {0}. Switch to the CPU backend (--backend cpu) and start again"
    )]
    Device(String),
    /// A saved model could not be written, read or used.
    #[error("model: {0}")]
    Model(String),
    /// Writing results failed.
    #[error("could not write {path}: {message}")]
    Output {
        /// The file.
        path: String,
        /// The OS error.
        message: String,
    },
}
