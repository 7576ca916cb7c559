//! Preference data: pairs, loaders, the synthetic world, tokenization and batching.
//! Knows nothing of burn beyond plain id vectors.
pub mod encode;
pub mod formats;
pub mod jsonl;
pub mod pair;
pub mod rng;
pub mod split;
pub mod synthetic;
pub mod tokenizer;

pub use jsonl::{DataError, LoadOptions, LoadReport};
pub use pair::{PairTruth, PreferencePair};
