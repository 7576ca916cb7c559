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
    /// Which pairs are known to be mislabeled, parallel to `pairs`, where that is known: the
    /// synthetic world (label disagrees with the gold reward), a `truth_field`, or injected
    /// flips.
    pub mislabeled: Option<Vec<bool>>,
    /// Where `mislabeled` comes from, for reports.
    pub truth_source: Option<String>,
}

impl PreparedData {
    /// True when every pair knows its gold reward (the synthetic world): accuracy is then
    /// measured against gold instead of the labels.
    pub fn has_gold(&self) -> bool {
        !self.pairs.is_empty() && self.pairs.iter().all(|p| p.truth.is_some())
    }
}

/// Follow a dotted path (`meta.flipped`) in a pair's kept record fields to a boolean.
pub fn truth_at(pair: &PreferencePair, path: &str) -> Result<bool, ExperimentError> {
    let mut parts = path.split('.');
    let first = parts.next().unwrap_or_default();
    let mut value = pair.meta.get(first);
    for part in parts {
        value = value.and_then(|v| v.get(part));
    }
    match value {
        Some(serde_json::Value::Bool(b)) => Ok(*b),
        Some(other) => Err(ExperimentError::Config(format!(
            "pair {}: truth field '{path}' is {other}, not true/false; point --truth-field at a boolean",
            pair.index
        ))),
        None => Err(ExperimentError::Config(format!(
            "pair {}: truth field '{path}' is missing; every record needs it (fields kept: {})",
            pair.index,
            pair.meta.keys().cloned().collect::<Vec<_>>().join(", ")
        ))),
    }
}

/// Swap chosen and rejected of `fraction` of the pairs (exactly round(fraction·n), seeded);
/// returns which were swapped.
fn inject_flips(pairs: &mut [PreferencePair], fraction: f64, seed: u64) -> Vec<bool> {
    let mut order: Vec<usize> = (0..pairs.len()).collect();
    crate::data::rng::Rng::derived(seed, "inject-flips").shuffle(&mut order);
    let count = (fraction * pairs.len() as f64).round() as usize;
    let mut flipped = vec![false; pairs.len()];
    for &i in order.iter().take(count) {
        let p = &mut pairs[i];
        std::mem::swap(&mut p.chosen, &mut p.rejected);
        if let Some(t) = &mut p.truth {
            std::mem::swap(&mut t.gold_chosen, &mut t.gold_rejected);
            t.flipped = !t.flipped;
        }
        flipped[i] = true;
    }
    flipped
}

/// Ground truth of mislabeling, and its source.
fn mislabeled(
    config: &DataConfig,
    pairs: &[PreferencePair],
    injected: Option<Vec<bool>>,
) -> Result<(Option<Vec<bool>>, Option<String>), ExperimentError> {
    if let Some(path) = &config.truth_field {
        let base = pairs
            .iter()
            .map(|p| truth_at(p, path))
            .collect::<Result<Vec<_>, _>>()?;
        let merged = match injected {
            Some(inj) => base.iter().zip(&inj).map(|(a, b)| a != b).collect(),
            None => base,
        };
        return Ok((Some(merged), Some(format!("field {path}"))));
    }
    if pairs.iter().all(|p| p.truth.is_some()) {
        let gold = pairs
            .iter()
            .map(|p| p.truth.is_some_and(|t| !t.label_is_gold_correct()))
            .collect();
        return Ok((Some(gold), Some("gold reward".into())));
    }
    Ok(match injected {
        Some(inj) => (Some(inj), Some("injected flips".into())),
        None => (None, None),
    })
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
    prepare_with_tokenizer(config, max_len, seed, upload, None)
}

/// [`prepare`], encoding with `tokenizer` when given (a saved model's) instead of building one
/// from the data.
pub fn prepare_with_tokenizer(
    config: &DataConfig,
    max_len: usize,
    seed: u64,
    upload: Option<&Upload>,
    tokenizer: Option<TextTokenizer>,
) -> Result<PreparedData, ExperimentError> {
    let (mut pairs, skipped_lines) = load_pairs(config, upload)?;
    let injected = (config.inject_flip_rate > 0.0)
        .then(|| inject_flips(&mut pairs, config.inject_flip_rate, seed));
    let (mislabeled, truth_source) = mislabeled(config, &pairs, injected)?;
    if pairs.len() < 2 {
        return Err(ExperimentError::Config(format!(
            "{} holds {} usable pair(s); training needs at least 2 (one to train, one to validate)",
            config.source.label(),
            pairs.len()
        )));
    }
    let split = train_validation_split(pairs.len(), config.validation_fraction, seed);
    let tokenizer = match (tokenizer, &config.source) {
        (Some(t), _) => t,
        (None, DataSource::Synthetic(s)) => {
            let world = crate::data::synthetic::World::new(s);
            TextTokenizer::word_level(&world.vocabulary())?
        }
        (None, _) => {
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
        mislabeled,
        truth_source,
    })
}
