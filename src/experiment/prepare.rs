//! From a [`DataConfig`] to tokenized, split pairs ready for a runner.
use std::path::PathBuf;

use super::config::{DataConfig, DataSource};
use super::error::ExperimentError;
use crate::data::encode::{EncodedPair, encode_pairs};
use crate::data::jsonl::{LoadOptions, load_bytes, load_path};
use crate::data::split::{Split, train_validation_split};
use crate::data::synthetic::generate_pairs;
use crate::data::tokenizer::TextTokenizer;
use crate::data::{PreferencePair, jsonl::LoadReport};

/// File name of the built-in real-text sample.
pub const HH_SAMPLE_FILE: &str = "hh-rlhf-harmless-base-test.jsonl.gz";

/// A file the user picked in the browser (or handed over as bytes).
#[derive(Clone, Debug)]
pub struct Upload {
    /// The file's name, for messages.
    pub name: String,
    /// Its contents (JSONL or JSONL.gz).
    pub bytes: Vec<u8>,
}

/// Pairs loaded, split and tokenized.
#[derive(Clone)]
pub struct PreparedData {
    /// Data source label.
    pub label: String,
    /// All pairs, input order.
    pub pairs: Vec<PreferencePair>,
    /// Encoded pairs, parallel to `pairs`.
    pub encoded: Vec<EncodedPair>,
    /// Which positions train and which validate.
    pub split: Split,
    /// The tokenizer (word-level for the synthetic world, byte-level BPE for text).
    pub tokenizer: TextTokenizer,
    /// Malformed lines skipped while loading.
    pub skipped_lines: usize,
}

/// Folders searched for the HH-RLHF sample, in order.
pub fn hh_sample_dirs() -> Vec<PathBuf> {
    let mut dirs = Vec::new();
    if let Ok(dir) = std::env::var("RLHF_LAB_DATA_DIR") {
        dirs.push(PathBuf::from(dir));
    }
    dirs.push(PathBuf::from("../shared/data"));
    dirs.push(PathBuf::from("shared/data"));
    dirs.push(PathBuf::from("data"));
    dirs.push(PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../shared/data"
    )));
    dirs
}

/// Where the HH-RLHF sample is, or an error that says where to put it.
pub fn find_hh_sample() -> Result<PathBuf, ExperimentError> {
    let dirs = hh_sample_dirs();
    for d in &dirs {
        let p = d.join(HH_SAMPLE_FILE);
        if p.is_file() {
            return Ok(p);
        }
    }
    Err(ExperimentError::HhSampleMissing {
        searched: dirs
            .iter()
            .map(|d| d.display().to_string())
            .collect::<Vec<_>>()
            .join(", "),
    })
}

/// Load the raw pairs of a data source. `upload` supplies the bytes of a picked file (browser).
pub fn load_pairs(
    config: &DataConfig,
    upload: Option<&Upload>,
) -> Result<(Vec<PreferencePair>, usize), ExperimentError> {
    let options = LoadOptions {
        skip_bad_lines: config.skip_bad_lines,
        ..LoadOptions::default()
    };
    let report: LoadReport = match (&config.source, upload) {
        (DataSource::Synthetic(s), _) => {
            let (_, pairs) = generate_pairs(s).map_err(ExperimentError::Config)?;
            return Ok((pairs, 0));
        }
        (DataSource::Jsonl { .. }, Some(up)) => load_bytes(&up.name, &up.bytes, &options)?,
        (DataSource::Jsonl { path }, None) => load_path(std::path::Path::new(path), &options)?,
        (DataSource::HhSample, _) => load_path(&find_hh_sample()?, &options)?,
    };
    Ok((report.pairs, report.skipped.len()))
}

/// Load, split, tokenize and encode. `max_len` is the model's longest sequence.
pub fn prepare(
    config: &DataConfig,
    max_len: usize,
    seed: u64,
    upload: Option<&Upload>,
) -> Result<PreparedData, ExperimentError> {
    let (pairs, skipped_lines) = load_pairs(config, upload)?;
    if pairs.len() < 2 {
        return Err(ExperimentError::Config(format!(
            "{} holds {} usable pair(s); training needs at least 2 (one to train, one to validate)",
            config.source.label(),
            pairs.len()
        )));
    }
    let split = train_validation_split(pairs.len(), config.validation_fraction, seed);
    let tokenizer = match &config.source {
        DataSource::Synthetic(s) => {
            let world = crate::data::synthetic::World::new(s);
            TextTokenizer::word_level(&world.vocabulary())?
        }
        _ => {
            // Train the BPE on the training split only, so validation text stays unseen.
            let texts = split.train.iter().flat_map(|&i| {
                let p = &pairs[i];
                [p.prompt.as_str(), p.chosen.as_str(), p.rejected.as_str()]
            });
            TextTokenizer::train_bpe(texts, config.vocab_size)?
        }
    };
    let encoded = encode_pairs(
        &tokenizer,
        pairs.iter().map(|p| {
            (
                p.index,
                p.prompt.as_str(),
                p.chosen.as_str(),
                p.rejected.as_str(),
            )
        }),
        max_len,
        config.max_prompt_len,
    )?;
    Ok(PreparedData {
        label: config.source.label(),
        pairs,
        encoded,
        split,
        tokenizer,
        skipped_lines,
    })
}
