//! From a [`DataConfig`] to tokenized, split pairs ready for a runner.
use std::path::PathBuf;

use super::config::{DataConfig, DataSource};
use super::error::ExperimentError;
use crate::data::encode::{EncodedPair, encode_pairs};
use crate::data::fields::{TruthRule, numbers_at};
use crate::data::formats::ParseOptions;
use crate::data::load::{LoadOptions, load_bytes, load_path};
use crate::data::split::{Split, train_validation_split};
use crate::data::synthetic::generate_pairs;
use crate::data::tokenizer::TextTokenizer;
use crate::data::{PreferencePair, load::LoadReport};

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
    /// Candidate pairs dropped as ties while loading.
    pub dropped_ties: usize,
    /// Each pair's margin from the file (`data.margin_field`), parallel to `pairs`.
    pub margins: Option<Vec<f32>>,
    /// Each pair's preference strength from the file (`data.strength_field`).
    pub strength: Option<FieldStrength>,
    /// Which pairs are known to be mislabeled, parallel to `pairs`, where that is known: the
    /// synthetic world (label disagrees with the gold reward), a `truth_field`, or injected
    /// flips.
    pub mislabeled: Option<Vec<bool>>,
    /// Where `mislabeled` comes from, for reports.
    pub truth_source: Option<String>,
}

/// Preference strength a file carries for its pairs (the paper's release does), used instead of
/// an ensemble.
#[derive(Clone, Debug, PartialEq)]
pub struct FieldStrength {
    /// The field it was read from.
    pub field: String,
    /// μ of each pair, parallel to the pairs.
    pub mu: Vec<f32>,
    /// σ of each pair, where a field gives it.
    pub sigma: Option<Vec<f32>>,
}

impl PreparedData {
    /// True when every pair knows its gold reward (the synthetic world): accuracy is then
    /// measured against gold instead of the labels.
    pub fn has_gold(&self) -> bool {
        !self.pairs.is_empty() && self.pairs.iter().all(|p| p.truth.is_some())
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
    if let Some(rule) = &config.truth_field {
        let parsed = TruthRule::parse(rule)
            .map_err(|e| ExperimentError::Config(format!("--truth-field: {e}")))?;
        let base = pairs
            .iter()
            .map(|p| parsed.mislabeled(p))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| ExperimentError::Config(format!("--truth-field: {e}")))?;
        let merged = match injected {
            Some(inj) => base.iter().zip(&inj).map(|(a, b)| a != b).collect(),
            None => base,
        };
        return Ok((Some(merged), Some(format!("field {rule}"))));
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

/// What loading dropped, beside the pairs it kept.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Dropped {
    /// Malformed records skipped.
    pub skipped_lines: usize,
    /// Candidate pairs dropped as ties (equal scores or ratings, or below the minimum gap).
    pub ties: usize,
}

/// The loader's options of a data config.
pub fn load_options(config: &DataConfig) -> LoadOptions {
    LoadOptions {
        skip_bad_lines: config.skip_bad_lines,
        parse: ParseOptions {
            format: config.format,
            pairing: config.pairing,
            min_rating_gap: config.min_rating_gap,
            seed: 0,
        },
        min_score_gap: config.min_score_gap,
        ..LoadOptions::default()
    }
}

/// Load the raw pairs of a data source. `upload` supplies the bytes of a picked file (browser).
pub fn load_pairs(
    config: &DataConfig,
    upload: Option<&Upload>,
) -> Result<(Vec<PreferencePair>, Dropped), ExperimentError> {
    let options = load_options(config);
    let report: LoadReport = match (&config.source, upload) {
        (DataSource::Synthetic(s), _) => {
            let (_, pairs) = generate_pairs(s).map_err(ExperimentError::Config)?;
            return Ok((pairs, Dropped::default()));
        }
        (DataSource::Jsonl { .. }, Some(up)) => load_bytes(&up.name, &up.bytes, &options)?,
        (DataSource::Jsonl { path }, None) => load_path(std::path::Path::new(path), &options)?,
        (DataSource::HhSample, _) => load_path(&find_hh_sample()?, &options)?,
    };
    let dropped = Dropped {
        skipped_lines: report.skipped.len(),
        ties: report.dropped_ties,
    };
    Ok((report.pairs, dropped))
}

/// The pairs' own margins and strengths, where the config names fields for them.
pub fn numeric_fields(
    config: &DataConfig,
    pairs: &[PreferencePair],
) -> Result<(Option<Vec<f32>>, Option<FieldStrength>), ExperimentError> {
    let read = |flag: &str, path: &Option<String>| {
        path.as_deref()
            .map(|p| {
                numbers_at(pairs, p).map_err(|e| ExperimentError::Config(format!("{flag}: {e}")))
            })
            .transpose()
    };
    let margins = read("--margin-field", &config.margin_field)?;
    let strength = match read("--strength-field", &config.strength_field)? {
        None => None,
        Some(mu) => {
            let sigma = read("--strength-std-field", &config.strength_std_field)?;
            Some(FieldStrength {
                field: config.strength_field.clone().unwrap_or_default(),
                mu,
                sigma,
            })
        }
    };
    Ok((margins, strength))
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
    let (mut pairs, dropped) = load_pairs(config, upload)?;
    let (margins, strength) = numeric_fields(config, &pairs)?;
    if config.inject_flip_rate > 0.0 && (margins.is_some() || strength.is_some()) {
        return Err(ExperimentError::Config(
            "--inject-flip-rate cannot be combined with --margin-field or --strength-field: the \
             file's values describe the pairs before the flips"
                .into(),
        ));
    }
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
        skipped_lines: dropped.skipped_lines,
        dropped_ties: dropped.ties,
        margins,
        strength,
        mislabeled,
        truth_source,
    })
}
