//! Text to token ids and back: a byte-level BPE trained on the data, or a fixed word-level
//! vocabulary (for the synthetic world). Both reserve id 0 for [`PAD`] and id 1 for [`EOS`].
//!
//! A thin wrapper around the `tokenizers` crate (built with fancy-regex, so the same code runs
//! natively and in the browser). Text is always encoded as plain text: a literal `"<eos>"`
//! inside a prompt is *not* turned into the EOS id.
use std::collections::HashSet;
use std::path::Path;
use std::str::FromStr;

use tokenizers::models::ModelWrapper;
use tokenizers::models::TrainerWrapper;
use tokenizers::models::bpe::{BPE, BpeTrainerBuilder};
use tokenizers::models::wordlevel::WordLevel;
use tokenizers::pre_tokenizers::byte_level::ByteLevel;
use tokenizers::pre_tokenizers::whitespace::WhitespaceSplit;
use tokenizers::{AddedToken, Tokenizer};

/// The padding token; id 0 in every tokenizer this module makes.
pub const PAD: &str = "<pad>";
/// The end-of-sequence token; id 1 in every tokenizer this module makes. The reward model
/// reads its score at this position.
pub const EOS: &str = "<eos>";
/// The unknown-word token of word-level tokenizers (id `2 + words.len()`). Encoding never
/// returns it: an unknown word is an error instead.
pub const UNK: &str = "<unk>";

/// Smallest vocabulary a byte-level BPE can have: 256 byte symbols plus [`PAD`] and [`EOS`].
pub const MIN_BPE_VOCAB: usize = 256 + 2;

/// Everything that can go wrong building, loading or using a [`TextTokenizer`].
#[derive(Debug, thiserror::Error)]
pub enum TokenizerError {
    /// The requested BPE vocabulary cannot even hold the byte alphabet.
    #[error(
        "BPE vocabulary size {requested} is too small: it must be at least {minimum} \
         (256 byte symbols + {PAD} + {EOS}); choose a larger vocab size"
    )]
    VocabTooSmall {
        /// The size that was asked for.
        requested: usize,
        /// The smallest size that works.
        minimum: usize,
    },
    /// `train_bpe` got no (non-empty) text to learn from.
    #[error("cannot train a tokenizer on an empty corpus: give it at least one non-empty text")]
    EmptyCorpus,
    /// The `tokenizers` trainer failed.
    #[error("tokenizer training failed: {0}")]
    Training(String),
    /// A word-level vocabulary was rejected.
    #[error("invalid word-level vocabulary: {0}")]
    InvalidVocabulary(String),
    /// The `tokenizers` crate refused to build or configure the tokenizer.
    #[error("could not build the tokenizer: {0}")]
    Build(String),
    /// The text is not a tokenizer.json the `tokenizers` crate understands.
    #[error(
        "not a valid tokenizer.json: {0}; give a file written by this app or by Hugging Face \
         `tokenizers`"
    )]
    Parse(String),
    /// A loaded tokenizer lacks one of the tokens every tokenizer here needs.
    #[error(
        "the tokenizer has no `{token}` token; this app needs `{PAD}` and `{EOS}` in the \
         vocabulary: train a new tokenizer here, or add both tokens to the tokenizer.json"
    )]
    MissingSpecialToken {
        /// The missing token.
        token: &'static str,
    },
    /// A loaded tokenizer maps two required special tokens to the same id.
    #[error(
        "the tokenizer maps `{PAD}` and `{EOS}` to the same id {id}; they must differ: train \
         a new tokenizer here"
    )]
    SharedSpecialId {
        /// The shared id.
        id: u32,
    },
    /// Serializing the tokenizer to JSON failed.
    #[error("could not serialize the tokenizer: {0}")]
    Serialize(String),
    /// Reading or writing a tokenizer file failed.
    #[error("could not {action} tokenizer file {path}: {source}; check the path and permissions")]
    Io {
        /// `"read"` or `"write"`.
        action: &'static str,
        /// The file.
        path: String,
        /// The underlying error.
        source: std::io::Error,
    },
    /// The text holds a word that a word-level vocabulary does not know.
    #[error(
        "unknown word `{word}`: it is not in the tokenizer's vocabulary; add it to the word \
         list or use a BPE tokenizer"
    )]
    UnknownWord {
        /// The offending word, as it appears in the text.
        word: String,
    },
    /// Encoding produced a reserved id ([`PAD`] or [`EOS`]) from plain text; only possible
    /// with word-level vocabularies, where the text contains the literal token.
    #[error(
        "the text contains the reserved token `{token}`, which cannot appear in plain text \
         with this tokenizer; remove it from the data"
    )]
    ReservedToken {
        /// The offending piece of text.
        token: String,
    },
    /// The `tokenizers` crate failed to encode the text.
    #[error("could not encode text: {0}")]
    Encode(String),
    /// An id passed to `decode` is not in the vocabulary.
    #[error(
        "cannot decode id {id}: the vocabulary has {vocab_size} ids; were these ids made by a \
         different tokenizer?"
    )]
    UnknownId {
        /// The offending id.
        id: u32,
        /// The tokenizer's vocabulary size.
        vocab_size: usize,
    },
    /// The `tokenizers` crate failed to decode the ids.
    #[error("could not decode ids: {0}")]
    Decode(String),
}

/// A tokenizer as the reward model uses it: plain text in, ids out, with [`PAD`] and
/// [`EOS`] ids known. Wraps a Hugging Face [`tokenizers::Tokenizer`].
#[derive(Clone)]
pub struct TextTokenizer {
    inner: Tokenizer,
    pad_id: u32,
    eos_id: u32,
    unk_id: Option<u32>,
    vocab_size: usize,
}

impl std::fmt::Debug for TextTokenizer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let kind = match self.inner.get_model() {
            ModelWrapper::BPE(_) => "BPE",
            ModelWrapper::WordLevel(_) => "WordLevel",
            ModelWrapper::WordPiece(_) => "WordPiece",
            ModelWrapper::Unigram(_) => "Unigram",
        };
        f.debug_struct("TextTokenizer")
            .field("model", &kind)
            .field("vocab_size", &self.vocab_size)
            .field("pad_id", &self.pad_id)
            .field("eos_id", &self.eos_id)
            .field("unk_id", &self.unk_id)
            .finish()
    }
}

/// Whether a tokenizer.json normalizer (or a sequence of them, at any depth) is `Precompiled`.
fn has_precompiled_normalizer(value: &serde_json::Value) -> bool {
    match value {
        serde_json::Value::Object(object) => {
            object.get("type").and_then(serde_json::Value::as_str) == Some("Precompiled")
                || object.values().any(has_precompiled_normalizer)
        }
        serde_json::Value::Array(items) => items.iter().any(has_precompiled_normalizer),
        _ => false,
    }
}

impl TextTokenizer {
    /// Train a byte-level BPE on the given texts. `vocab_size` counts everything, including
    /// [`PAD`] (id 0) and [`EOS`] (id 1), and must be at least [`MIN_BPE_VOCAB`]; the result
    /// has at most `vocab_size` ids (fewer if the corpus runs out of pairs to merge).
    ///
    /// Deterministic: the same texts give the same tokenizer JSON. For that (and for wasm)
    /// this turns off the `tokenizers` crate's thread parallelism for the whole process.
    /// Empty texts are ignored; an error is returned when none is left.
    pub fn train_bpe<'a>(
        texts: impl Iterator<Item = &'a str>,
        vocab_size: usize,
    ) -> Result<Self, TokenizerError> {
        if vocab_size < MIN_BPE_VOCAB {
            return Err(TokenizerError::VocabTooSmall {
                requested: vocab_size,
                minimum: MIN_BPE_VOCAB,
            });
        }
        let texts: Vec<&str> = texts.filter(|t| !t.is_empty()).collect();
        if texts.is_empty() {
            return Err(TokenizerError::EmptyCorpus);
        }
        tokenizers::utils::parallelism::set_parallelism(false);

        let mut trainer: TrainerWrapper = BpeTrainerBuilder::new()
            .vocab_size(vocab_size)
            .show_progress(false)
            .special_tokens(vec![
                AddedToken::from(PAD, true),
                AddedToken::from(EOS, true),
            ])
            .initial_alphabet(ByteLevel::alphabet().into_iter().collect::<HashSet<char>>())
            .build()
            .into();

        let mut inner = Tokenizer::new(BPE::default());
        inner.with_pre_tokenizer(Some(byte_level()));
        inner.with_decoder(Some(byte_level()));
        inner
            .train(&mut trainer, texts.iter().copied())
            .map_err(|e| TokenizerError::Training(e.to_string()))?;
        Self::from_inner(inner)
    }

    /// A word-level tokenizer over a fixed vocabulary, split on whitespace only: id 0 is
    /// [`PAD`], id 1 is [`EOS`], then the words in the given order (id `2 + position`), then
    /// [`UNK`]. Encoding a word outside the list is an error naming the word.
    ///
    /// Words must be non-empty, contain no whitespace, be distinct and not be one of the
    /// reserved tokens.
    pub fn word_level(words: &[&str]) -> Result<Self, TokenizerError> {
        if words.is_empty() {
            return Err(TokenizerError::InvalidVocabulary(
                "the word list is empty; give at least one word".to_string(),
            ));
        }
        let mut seen = HashSet::with_capacity(words.len());
        for &word in words {
            if word.is_empty() {
                return Err(TokenizerError::InvalidVocabulary(
                    "the word list contains an empty word".to_string(),
                ));
            }
            if word.chars().any(char::is_whitespace) {
                return Err(TokenizerError::InvalidVocabulary(format!(
                    "word {word:?} contains whitespace; words are split on whitespace, so each \
                     must be a single whitespace-free token"
                )));
            }
            if [PAD, EOS, UNK].contains(&word) {
                return Err(TokenizerError::InvalidVocabulary(format!(
                    "word {word:?} is a reserved token; remove it from the word list"
                )));
            }
            if !seen.insert(word) {
                return Err(TokenizerError::InvalidVocabulary(format!(
                    "word {word:?} appears more than once; each word must be listed once"
                )));
            }
        }
        let too_many = || TokenizerError::InvalidVocabulary("too many words".to_string());
        let unk_id = u32::try_from(words.len() + 2).map_err(|_| too_many())?;
        let mut entries = Vec::with_capacity(words.len() + 3);
        entries.push((PAD.to_string(), 0u32));
        entries.push((EOS.to_string(), 1u32));
        for (position, &word) in words.iter().enumerate() {
            let id = u32::try_from(position + 2).map_err(|_| too_many())?;
            entries.push((word.to_string(), id));
        }
        entries.push((UNK.to_string(), unk_id));

        let model = WordLevel::builder()
            .vocab(entries.into_iter().collect())
            .unk_token(UNK.to_string())
            .build()
            .map_err(|e| TokenizerError::Build(e.to_string()))?;
        let mut inner = Tokenizer::new(model);
        inner.with_pre_tokenizer(Some(WhitespaceSplit));
        inner
            .add_special_tokens([AddedToken::from(PAD, true), AddedToken::from(EOS, true)])
            .map_err(|e| TokenizerError::Build(e.to_string()))?;
        Self::from_inner(inner)
    }

    /// Read a tokenizer from tokenizer.json text (as written by [`Self::to_json`] or by Hugging
    /// Face `tokenizers`). It must contain [`PAD`] and [`EOS`] tokens. Any truncation or
    /// padding settings in the JSON are dropped: this app truncates and pads itself.
    pub fn from_json(json: &str) -> Result<Self, TokenizerError> {
        // `tokenizers` 0.23 panics instead of returning an error on some malformed input (a
        // decoder section that is not valid JSON, e.g. a number out of range; a sentencepiece
        // `Precompiled` normalizer with bad fields), and a panic aborts in the browser: check
        // those first (found by `examples/mutate_inputs.rs`).
        let value: serde_json::Value =
            serde_json::from_str(json).map_err(|e| TokenizerError::Parse(e.to_string()))?;
        if has_precompiled_normalizer(&value["normalizer"]) {
            return Err(TokenizerError::Parse(
                "its normalizer is a sentencepiece \"Precompiled\" one, which this app does not \
                 read"
                    .into(),
            ));
        }
        let inner = Tokenizer::from_str(json).map_err(|e| TokenizerError::Parse(e.to_string()))?;
        Self::from_inner(inner)
    }

    /// The tokenizer as tokenizer.json text (pretty-printed; deterministic for a given
    /// tokenizer).
    pub fn to_json(&self) -> Result<String, TokenizerError> {
        self.inner
            .to_string(true)
            .map_err(|e| TokenizerError::Serialize(e.to_string()))
    }

    /// Write the tokenizer as tokenizer.json to `path` (the folder must exist).
    pub fn save(&self, path: &Path) -> Result<(), TokenizerError> {
        let json = self.to_json()?;
        std::fs::write(path, json).map_err(|source| TokenizerError::Io {
            action: "write",
            path: path.display().to_string(),
            source,
        })
    }

    /// Read a tokenizer.json written by [`Self::save`] (or by Hugging Face `tokenizers`).
    pub fn load(path: &Path) -> Result<Self, TokenizerError> {
        let json = std::fs::read_to_string(path).map_err(|source| TokenizerError::Io {
            action: "read",
            path: path.display().to_string(),
            source,
        })?;
        Self::from_json(&json)
    }

    /// Number of ids the model's embedding table needs: one more than the largest id, counting
    /// the special tokens (and [`UNK`] for word-level tokenizers).
    pub fn vocab_size(&self) -> usize {
        self.vocab_size
    }

    /// Id of [`PAD`] (0 for tokenizers made here).
    pub fn pad_id(&self) -> u32 {
        self.pad_id
    }

    /// Id of [`EOS`] (1 for tokenizers made here).
    pub fn eos_id(&self) -> u32 {
        self.eos_id
    }

    /// Encode plain text to ids. No special tokens are added, and special-token text inside
    /// `text` is treated as ordinary text. Errors on a word outside a word-level vocabulary
    /// (naming it).
    pub fn encode(&self, text: &str) -> Result<Vec<u32>, TokenizerError> {
        let encoding = self
            .inner
            .encode(text, false)
            .map_err(|e| TokenizerError::Encode(e.to_string()))?;
        let ids = encoding.get_ids();
        for (position, &id) in ids.iter().enumerate() {
            let is_unk = self.unk_id == Some(id);
            if is_unk || id == self.pad_id || id == self.eos_id {
                let piece = encoding
                    .get_offsets()
                    .get(position)
                    .and_then(|&(start, end)| text.get(start..end))
                    .unwrap_or(text)
                    .to_string();
                return Err(if is_unk {
                    TokenizerError::UnknownWord { word: piece }
                } else {
                    TokenizerError::ReservedToken { token: piece }
                });
            }
        }
        Ok(ids.to_vec())
    }

    /// Decode ids to text, skipping [`PAD`], [`EOS`] and other special tokens. For a byte-level
    /// BPE `decode(encode(s)) == s` for any string; word-level output joins words with single
    /// spaces. Errors on an id outside the vocabulary.
    pub fn decode(&self, ids: &[u32]) -> Result<String, TokenizerError> {
        let mut kept = Vec::with_capacity(ids.len());
        for &id in ids {
            if id == self.pad_id || id == self.eos_id {
                continue;
            }
            if self.inner.id_to_token(id).is_none() {
                return Err(TokenizerError::UnknownId {
                    id,
                    vocab_size: self.vocab_size,
                });
            }
            kept.push(id);
        }
        self.inner
            .decode(&kept, true)
            .map_err(|e| TokenizerError::Decode(e.to_string()))
    }

    /// Wrap a configured `tokenizers::Tokenizer`: look up the special ids, turn off the crate's
    /// own truncation and padding, and make special-token text encode as plain text.
    fn from_inner(mut inner: Tokenizer) -> Result<Self, TokenizerError> {
        inner.set_encode_special_tokens(true);
        inner
            .with_truncation(None)
            .map_err(|e| TokenizerError::Build(e.to_string()))?;
        inner.with_padding(None);
        let pad_id = inner
            .token_to_id(PAD)
            .ok_or(TokenizerError::MissingSpecialToken { token: PAD })?;
        let eos_id = inner
            .token_to_id(EOS)
            .ok_or(TokenizerError::MissingSpecialToken { token: EOS })?;
        if pad_id == eos_id {
            return Err(TokenizerError::SharedSpecialId { id: pad_id });
        }
        let unk_id = match inner.get_model() {
            ModelWrapper::WordLevel(model) => inner.token_to_id(&model.unk_token),
            ModelWrapper::BPE(model) => model
                .unk_token
                .as_deref()
                .and_then(|token| inner.token_to_id(token)),
            _ => None,
        };
        let max_id = inner.get_vocab(true).into_values().max().unwrap_or(0);
        let vocab_size = (max_id as usize + 1).max(inner.get_vocab_size(true));
        Ok(Self {
            inner,
            pad_id,
            eos_id,
            unk_id,
            vocab_size,
        })
    }
}

/// The byte-level pre-tokenizer/decoder: GPT-2 splitting, no prefix space, so decoding gives
/// back exactly the encoded text.
fn byte_level() -> ByteLevel {
    ByteLevel::new(false, true, true)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A few hundred short English sentences, generated combinatorially.
    fn corpus() -> Vec<String> {
        let subjects = [
            "The cat",
            "A dog",
            "My friend",
            "The teacher",
            "Our neighbor",
            "The child",
            "A robot",
            "The farmer",
        ];
        let verbs = ["likes", "sees", "finds", "wants", "helps", "paints"];
        let objects = [
            "the red ball.",
            "a quiet garden.",
            "the old house!",
            "some fresh bread.",
            "the blue river?",
            "a small boat.",
        ];
        let mut out = Vec::new();
        for s in subjects {
            for v in verbs {
                for o in objects {
                    out.push(format!("{s} {v} {o}"));
                }
            }
        }
        out
    }

    fn train(vocab: usize) -> TextTokenizer {
        let texts = corpus();
        TextTokenizer::train_bpe(texts.iter().map(String::as_str), vocab).unwrap()
    }

    #[test]
    fn bpe_trains_with_specials_first_and_respects_vocab_size() {
        let texts = corpus();
        assert!(texts.len() >= 200, "corpus has {} sentences", texts.len());
        let tok = train(300);
        assert_eq!(tok.pad_id(), 0);
        assert_eq!(tok.eos_id(), 1);
        assert!(tok.vocab_size() <= 300, "vocab {}", tok.vocab_size());
        // The corpus has far more than 42 mergeable pairs, so the vocabulary is filled.
        assert_eq!(tok.vocab_size(), 300);
        // Merges learned: a frequent word is fewer tokens than bytes.
        let ids = tok.encode("The teacher likes the garden").unwrap();
        assert!(ids.len() < "The teacher likes the garden".len(), "{ids:?}");
        assert!(ids.iter().all(|&id| (id as usize) < tok.vocab_size()));
        assert!(!ids.contains(&0) && !ids.contains(&1));
    }

    #[test]
    fn bpe_small_corpus_stops_below_vocab_size() {
        let tok = TextTokenizer::train_bpe(["ab ab"].into_iter(), 1000).unwrap();
        // 258 base ids plus the few merges the corpus allows ("ab", " ab"...).
        assert!(tok.vocab_size() > MIN_BPE_VOCAB);
        assert!(tok.vocab_size() < 270, "vocab {}", tok.vocab_size());
        assert_eq!(tok.encode("ab").unwrap().len(), 1);
    }

    #[test]
    fn bpe_is_deterministic() {
        let a = train(320).to_json().unwrap();
        let b = train(320).to_json().unwrap();
        assert_eq!(a, b);
        // Different input gives a different tokenizer (the test can fail).
        let other = TextTokenizer::train_bpe(["zzz qqq zzz qqq"].into_iter(), 320)
            .unwrap()
            .to_json()
            .unwrap();
        assert_ne!(a, other);
    }

    #[test]
    fn bpe_round_trips_any_text() {
        let tok = train(300);
        let samples = [
            "",
            "The cat likes the red ball.",
            "Human: hi\n\nAssistant: hello there\n",
            "  leading and trailing spaces  ",
            "tabs\tand\r\nwindows newlines",
            "emoji 🤖👍🏽 and flags 🇫🇷",
            "中文测试：你好，世界！",
            "mixed 日本語 and Ελληνικά and العربية",
            "literal <eos> and <pad> stay text",
            "numbers 12345 and symbols #$%^&*()",
        ];
        for s in samples {
            let ids = tok.encode(s).unwrap();
            assert!(
                !ids.contains(&tok.eos_id()) && !ids.contains(&tok.pad_id()),
                "{s:?}"
            );
            assert_eq!(tok.decode(&ids).unwrap(), s, "round trip of {s:?}");
        }
        assert!(tok.encode("").unwrap().is_empty());
    }

    #[test]
    fn decode_skips_specials_and_rejects_unknown_ids() {
        let tok = train(300);
        let mut ids = tok.encode("A dog sees").unwrap();
        ids.push(tok.eos_id());
        ids.push(tok.pad_id());
        ids.push(tok.pad_id());
        assert_eq!(tok.decode(&ids).unwrap(), "A dog sees");
        let bad = tok.vocab_size() as u32 + 5;
        let err = tok.decode(&[bad]).unwrap_err();
        assert!(matches!(err, TokenizerError::UnknownId { id, .. } if id == bad));
    }

    #[test]
    fn json_and_file_round_trip() {
        let tok = train(300);
        let text = "Our neighbor paints a small boat. 🚣";
        let json = tok.to_json().unwrap();
        let back = TextTokenizer::from_json(&json).unwrap();
        assert_eq!(back.to_json().unwrap(), json);
        assert_eq!(back.encode(text).unwrap(), tok.encode(text).unwrap());

        let dir = std::env::temp_dir().join(format!("rlhf_lab_tok_{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("tokenizer.json");
        tok.save(&path).unwrap();
        let loaded = TextTokenizer::load(&path).unwrap();
        std::fs::remove_dir_all(&dir).unwrap();
        assert_eq!(loaded.encode(text).unwrap(), tok.encode(text).unwrap());
        assert_eq!(loaded.vocab_size(), tok.vocab_size());
        assert_eq!((loaded.pad_id(), loaded.eos_id()), (0, 1));
        // A literal "<eos>" still encodes as text after loading (the flag is not in the JSON).
        assert!(!loaded.encode("<eos>").unwrap().contains(&1));
    }

    #[test]
    fn bpe_errors() {
        let texts = corpus();
        let err = TextTokenizer::train_bpe(texts.iter().map(String::as_str), 257).unwrap_err();
        assert!(matches!(
            err,
            TokenizerError::VocabTooSmall {
                requested: 257,
                minimum: 258
            }
        ));
        assert!(err.to_string().contains("at least 258"));
        assert!(TextTokenizer::train_bpe(texts.iter().map(String::as_str), 258).is_ok());

        let err = TextTokenizer::train_bpe(std::iter::empty(), 300).unwrap_err();
        assert!(matches!(err, TokenizerError::EmptyCorpus));
        let err = TextTokenizer::train_bpe(["", ""].into_iter(), 300).unwrap_err();
        assert!(matches!(err, TokenizerError::EmptyCorpus));

        let err = TextTokenizer::from_json("this is not json").unwrap_err();
        assert!(matches!(err, TokenizerError::Parse(_)), "{err:?}");
        let err = TextTokenizer::from_json("{\"model\": 3}").unwrap_err();
        assert!(matches!(err, TokenizerError::Parse(_)), "{err:?}");

        let missing = Path::new("/definitely/not/here/tokenizer.json");
        let err = TextTokenizer::load(missing).unwrap_err();
        assert!(
            matches!(err, TokenizerError::Io { action: "read", .. }),
            "{err:?}"
        );
        assert!(
            err.to_string()
                .contains("/definitely/not/here/tokenizer.json")
        );
    }

    #[test]
    fn from_json_requires_pad_and_eos() {
        // A valid tokenizer.json whose vocabulary lacks <eos>.
        let json = r#"{
            "version": "1.0", "truncation": null, "padding": null, "added_tokens": [],
            "normalizer": null, "pre_tokenizer": {"type": "WhitespaceSplit"},
            "post_processor": null, "decoder": null,
            "model": {"type": "WordLevel", "vocab": {"<pad>": 0, "a": 1, "<unk>": 2},
                      "unk_token": "<unk>"}
        }"#;
        let err = TextTokenizer::from_json(json).unwrap_err();
        assert!(
            matches!(err, TokenizerError::MissingSpecialToken { token: EOS }),
            "{err:?}"
        );
        assert!(err.to_string().contains("<eos>"));
        let ok = json.replace("\"a\": 1", "\"<eos>\": 1");
        let tok = TextTokenizer::from_json(&ok).unwrap();
        assert_eq!((tok.pad_id(), tok.eos_id(), tok.vocab_size()), (0, 1, 3));
    }

    #[test]
    fn word_level_ids_follow_the_word_order() {
        let tok = TextTokenizer::word_level(&["good", "bad", "very"]).unwrap();
        assert_eq!(tok.pad_id(), 0);
        assert_eq!(tok.eos_id(), 1);
        assert_eq!(tok.vocab_size(), 6); // pad, eos, 3 words, unk
        assert_eq!(tok.encode("good").unwrap(), vec![2]);
        assert_eq!(tok.encode("very bad\n good").unwrap(), vec![4, 3, 2]);
        assert_eq!(tok.encode("").unwrap(), Vec::<u32>::new());
        assert_eq!(tok.decode(&[4, 2, 1, 0]).unwrap(), "very good");
        // Survives JSON.
        let back = TextTokenizer::from_json(&tok.to_json().unwrap()).unwrap();
        assert_eq!(back.encode("bad very").unwrap(), vec![3, 4]);
        assert_eq!(back.vocab_size(), 6);
    }

    #[test]
    fn word_level_unknown_word_is_an_error_naming_it() {
        let tok = TextTokenizer::word_level(&["good", "bad"]).unwrap();
        let err = tok.encode("good terrible bad").unwrap_err();
        assert!(
            matches!(&err, TokenizerError::UnknownWord { word } if word == "terrible"),
            "{err:?}"
        );
        assert!(err.to_string().contains("`terrible`"));
        // Punctuation is part of the word: "good." is not "good".
        let err = tok.encode("good.").unwrap_err();
        assert!(matches!(&err, TokenizerError::UnknownWord { word } if word == "good."));
        // The unk token itself and reserved tokens cannot sneak in as text.
        assert!(matches!(
            tok.encode("<unk>").unwrap_err(),
            TokenizerError::UnknownWord { .. }
        ));
        assert!(matches!(
            tok.encode("good <eos>").unwrap_err(),
            TokenizerError::ReservedToken { token } if token == "<eos>"
        ));
    }

    #[test]
    fn word_level_rejects_bad_word_lists() {
        for words in [
            &[][..],
            &["a", ""][..],
            &["a b"][..],
            &["a", "a"][..],
            &["<pad>"][..],
            &["<unk>"][..],
        ] {
            let err = TextTokenizer::word_level(words).unwrap_err();
            assert!(
                matches!(err, TokenizerError::InvalidVocabulary(_)),
                "{words:?}: {err:?}"
            );
        }
    }
}
