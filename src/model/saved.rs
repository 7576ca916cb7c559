//! Saved reward models: one self-describing file (bytes, so the browser can download and upload
//! the same file) holding a JSON header — the architecture, the tokenizer and the run's config —
//! and the weights as a burnpack record.
//!
//! Layout: the 8-byte magic [`MAGIC`], a little-endian `u32` format version, a `u64` header
//! length, the header (JSON), a `u64` weights length and the weights.
use burn::module::Module;
use burn::store::ModuleRecord;
use burn::tensor::{Bytes, Device};
use serde::{Deserialize, Serialize};

use super::reward::{Arch, RewardModel, RewardModelConfig};
use crate::data::tokenizer::TextTokenizer;

/// The first bytes of every model file.
pub const MAGIC: &[u8; 8] = b"RLHFLAB\0";
/// The format this build writes and reads.
pub const FORMAT_VERSION: u32 = 1;
/// The file name a run directory keeps its model under.
pub const MODEL_FILE: &str = "model.bin";

/// Why a model file could not be read or used. The caller adds the file's name.
#[derive(Debug, thiserror::Error)]
pub enum ModelFileError {
    /// Not a model file at all.
    #[error(
        "not an rlhf-lab model file (it does not start with the model-file marker); give the model.bin that train-rm --out wrote"
    )]
    NotAModel,
    /// Written by another format version.
    #[error(
        "model format version {found}, but this build reads version {FORMAT_VERSION}; retrain with this build or use the build that wrote it"
    )]
    Version {
        /// The file's version.
        found: u32,
    },
    /// The file ends early.
    #[error(
        "the file is truncated: the {part} needs {needed} bytes but only {available} are left; copy or download it again"
    )]
    Truncated {
        /// Which part is cut.
        part: &'static str,
        /// Bytes the part needs.
        needed: u64,
        /// Bytes present.
        available: u64,
    },
    /// The header is not valid JSON of the expected shape.
    #[error("the header is unreadable: {0}; the file is damaged, save the model again")]
    Header(String),
    /// The header and the tokenizer disagree, or the tokenizer is unreadable.
    #[error("vocabulary mismatch: {0}")]
    Vocabulary(String),
    /// The weights do not fit the architecture in the header.
    #[error(
        "the weights do not fit the {arch} reward model its header describes: {message}. The file was changed or mixes two models; save the model again"
    )]
    Weights {
        /// Architecture the header names.
        arch: &'static str,
        /// burn's account of the mismatch.
        message: String,
    },
    /// The model is not the kind the caller needs.
    #[error("this file holds a {found} reward model, but {expected} is needed; {fix}")]
    WrongArchitecture {
        /// What the file holds.
        found: &'static str,
        /// What was asked for.
        expected: &'static str,
        /// What to do.
        fix: String,
    },
    /// Reading the weights on the device failed.
    #[error("could not serialise the weights: {0}")]
    Serialise(String),
}

/// Everything about a saved model except its weights.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ModelHeader {
    /// What the file holds (`reward_model`).
    pub kind: String,
    /// The model's shape.
    pub model: RewardModelConfig,
    /// Vocabulary size the embeddings were built for.
    pub vocab_size: usize,
    /// SwAV prototypes (0 = none).
    pub prototypes: usize,
    /// The tokenizer, as `tokenizer.json` text.
    pub tokenizer: String,
    /// The config of the run that trained it (the experiment layer's, kept as JSON).
    pub run_config: serde_json::Value,
}

/// A reward model read from a file: its header and its weights, not yet on a device.
pub struct SavedRewardModel {
    /// Shape, tokenizer and run config.
    pub header: ModelHeader,
    /// The tokenizer the header carries.
    pub tokenizer: TextTokenizer,
    weights: Vec<u8>,
}

/// Human name of an architecture for messages.
pub fn arch_name(arch: Arch) -> &'static str {
    match arch {
        Arch::Transformer => "transformer",
        Arch::Bow => "bag-of-words",
        Arch::Counts => "count-features",
    }
}

/// Serialise `model` with `header` into the bytes of a model file.
pub fn reward_model_to_bytes(
    model: &RewardModel,
    header: &ModelHeader,
) -> Result<Vec<u8>, ModelFileError> {
    let header_json =
        serde_json::to_vec(header).map_err(|e| ModelFileError::Header(e.to_string()))?;
    let weights = model
        .valid()
        .into_record()
        .into_bytes()
        .map_err(|e| ModelFileError::Serialise(e.to_string()))?;
    let mut out = Vec::with_capacity(28 + header_json.len() + weights.len());
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
    out.extend_from_slice(&(header_json.len() as u64).to_le_bytes());
    out.extend_from_slice(&header_json);
    out.extend_from_slice(&(weights.len() as u64).to_le_bytes());
    out.extend_from_slice(&weights);
    Ok(out)
}

/// Reads the parts of a model file in order.
struct Cursor<'a> {
    bytes: &'a [u8],
}

impl<'a> Cursor<'a> {
    fn take(&mut self, n: u64, part: &'static str) -> Result<&'a [u8], ModelFileError> {
        let available = self.bytes.len() as u64;
        if n > available {
            return Err(ModelFileError::Truncated {
                part,
                needed: n,
                available,
            });
        }
        let (head, rest) = self.bytes.split_at(n as usize);
        self.bytes = rest;
        Ok(head)
    }

    fn u64(&mut self, part: &'static str) -> Result<u64, ModelFileError> {
        let b = self.take(8, part)?;
        let mut a = [0u8; 8];
        a.copy_from_slice(b);
        Ok(u64::from_le_bytes(a))
    }
}

impl SavedRewardModel {
    /// Parse a model file's bytes (header checked; weights checked when loaded).
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, ModelFileError> {
        if bytes.len() < MAGIC.len() || &bytes[..MAGIC.len()] != MAGIC {
            return Err(ModelFileError::NotAModel);
        }
        let mut c = Cursor {
            bytes: &bytes[MAGIC.len()..],
        };
        let mut v = [0u8; 4];
        v.copy_from_slice(c.take(4, "format version")?);
        let found = u32::from_le_bytes(v);
        if found != FORMAT_VERSION {
            return Err(ModelFileError::Version { found });
        }
        let header_len = c.u64("header length")?;
        let header: ModelHeader = serde_json::from_slice(c.take(header_len, "header")?)
            .map_err(|e| ModelFileError::Header(e.to_string()))?;
        if header.kind != "reward_model" {
            return Err(ModelFileError::Header(format!(
                "kind '{}' where 'reward_model' was expected",
                header.kind
            )));
        }
        header.model.validate().map_err(ModelFileError::Header)?;
        let tokenizer = TextTokenizer::from_json(&header.tokenizer)
            .map_err(|e| ModelFileError::Vocabulary(format!("its tokenizer is unreadable: {e}")))?;
        if tokenizer.vocab_size() != header.vocab_size {
            return Err(ModelFileError::Vocabulary(format!(
                "the header says {} tokens but its tokenizer has {}",
                header.vocab_size,
                tokenizer.vocab_size()
            )));
        }
        let weights_len = c.u64("weights length")?;
        let weights = c.take(weights_len, "weights")?.to_vec();
        Ok(Self {
            header,
            tokenizer,
            weights,
        })
    }

    /// Refuse a model of another architecture than `expected`, saying why it is needed.
    pub fn expect_arch(&self, expected: Arch, fix: &str) -> Result<(), ModelFileError> {
        if self.header.model.arch == expected {
            return Ok(());
        }
        Err(ModelFileError::WrongArchitecture {
            found: arch_name(self.header.model.arch),
            expected: arch_name(expected),
            fix: fix.into(),
        })
    }

    /// Build the model the header describes and load the weights into it, on `device`.
    pub fn load(&self, device: &Device) -> Result<RewardModel, ModelFileError> {
        let arch = arch_name(self.header.model.arch);
        let weights_error = |message: String| ModelFileError::Weights { arch, message };
        let record = ModuleRecord::from_bytes(Bytes::from_bytes_vec(self.weights.clone()))
            .map_err(|e| weights_error(e.to_string()))?;
        let cpu = Device::flex();
        let model = self.header.model.init_with_prototypes(
            self.header.vocab_size,
            self.header.prototypes,
            &cpu,
        );
        let model = model
            .try_load_record(record)
            .map_err(|e| weights_error(e.to_string()))?;
        Ok(model.to_device(device))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::encode::pad_sequences;

    fn tiny(arch: Arch) -> RewardModelConfig {
        RewardModelConfig {
            arch,
            d_model: 8,
            layers: 1,
            heads: 2,
            ffn: 8,
            max_len: 8,
            bigram_buckets: 0,
            dropout: 0.0,
        }
    }

    fn file(arch: Arch, seed: u64) -> (RewardModel, Vec<u8>) {
        let tokenizer = TextTokenizer::word_level(&["good", "bad", "fine"]).unwrap();
        let config = tiny(arch);
        let vocab = tokenizer.vocab_size();
        let model = config.init_seeded(vocab, 0, seed, &Device::flex());
        let header = ModelHeader {
            kind: "reward_model".into(),
            model: config,
            vocab_size: vocab,
            prototypes: 0,
            tokenizer: tokenizer.to_json().unwrap(),
            run_config: serde_json::json!({"seed": seed}),
        };
        let bytes = reward_model_to_bytes(&model, &header).unwrap();
        (model, bytes)
    }

    fn rewards(model: &RewardModel) -> Vec<f32> {
        let batch = pad_sequences(&[&[2, 3, 1], &[4, 1]], 0);
        model
            .forward(&batch)
            .rewards
            .into_data()
            .try_to_vec::<f32>()
            .unwrap()
    }

    #[test]
    fn a_saved_model_loads_with_identical_rewards() {
        for arch in [Arch::Transformer, Arch::Bow, Arch::Counts] {
            let (model, bytes) = file(arch, 3);
            let saved = SavedRewardModel::from_bytes(&bytes).unwrap();
            assert_eq!(saved.header.model.arch, arch);
            assert_eq!(saved.header.run_config["seed"], 3);
            let loaded = saved.load(&Device::flex()).unwrap();
            assert_eq!(rewards(&model), rewards(&loaded), "{arch:?}");
            // Another seed's model scores differently: the weights really came from the file.
            let (other, _) = file(arch, 4);
            assert_ne!(rewards(&other), rewards(&loaded), "{arch:?}");
        }
    }

    #[test]
    fn truncated_foreign_and_future_files_are_clear_errors() {
        let (_, bytes) = file(Arch::Bow, 1);
        for cut in [4, 14, 40, bytes.len() - 1] {
            let err = SavedRewardModel::from_bytes(&bytes[..cut]).err().unwrap();
            let text = err.to_string();
            assert!(
                matches!(
                    err,
                    ModelFileError::Truncated { .. } | ModelFileError::NotAModel
                ),
                "{cut}: {text}"
            );
            if cut > 8 {
                assert!(text.contains("truncated"), "{text}");
            }
        }
        let err = SavedRewardModel::from_bytes(b"{\"not\": \"a model\"}")
            .err()
            .unwrap();
        assert!(
            err.to_string().contains("not an rlhf-lab model file"),
            "{err}"
        );
        let mut future = bytes.clone();
        future[8..12].copy_from_slice(&7u32.to_le_bytes());
        let err = SavedRewardModel::from_bytes(&future).err().unwrap();
        assert!(err.to_string().contains("version 7"), "{err}");
    }

    /// Swap the weights of one file into another's header.
    fn splice(header_from: &[u8], weights_from: &[u8]) -> Vec<u8> {
        let header_end = |b: &[u8]| {
            let mut n = [0u8; 8];
            n.copy_from_slice(&b[12..20]);
            20 + u64::from_le_bytes(n) as usize
        };
        let mut out = header_from[..header_end(header_from)].to_vec();
        out.extend_from_slice(&weights_from[header_end(weights_from)..]);
        out
    }

    #[test]
    fn weights_of_another_architecture_or_vocabulary_are_refused() {
        let (_, transformer) = file(Arch::Transformer, 1);
        let (_, bow) = file(Arch::Bow, 1);
        let spliced = SavedRewardModel::from_bytes(&splice(&transformer, &bow)).unwrap();
        let err = spliced.load(&Device::flex()).err().unwrap().to_string();
        assert!(
            err.contains("do not fit the transformer reward model"),
            "{err}"
        );
        // The header's vocabulary must be its tokenizer's.
        let saved = SavedRewardModel::from_bytes(&bow).unwrap();
        let mut header = saved.header.clone();
        header.vocab_size += 1;
        let again = reward_model_to_bytes(&saved.load(&Device::flex()).unwrap(), &header).unwrap();
        let err = SavedRewardModel::from_bytes(&again)
            .err()
            .unwrap()
            .to_string();
        assert!(err.contains("vocabulary mismatch"), "{err}");
        // Embeddings of another vocabulary size do not fit.
        let wider = {
            let model = tiny(Arch::Bow).init_seeded(9, 0, 1, &Device::flex());
            let mut h = saved.header.clone();
            h.vocab_size = 9;
            reward_model_to_bytes(&model, &h).unwrap()
        };
        let spliced = SavedRewardModel::from_bytes(&splice(&bow, &wider)).unwrap();
        let err = spliced.load(&Device::flex()).err().unwrap().to_string();
        assert!(err.contains("shape mismatch"), "{err}");
        // A caller that needs a transformer says so.
        let err = SavedRewardModel::from_bytes(&bow)
            .unwrap()
            .expect_arch(Arch::Transformer, "train one with --arch transformer")
            .err()
            .unwrap()
            .to_string();
        assert!(
            err.contains("bag-of-words") && err.contains("--arch transformer"),
            "{err}"
        );
    }
}
