//! Preference data: pairs, loaders, the synthetic world, tokenization and batching.
//! Knows nothing of burn beyond plain id vectors.
pub mod container;
pub mod encode;
pub mod error;
pub mod fields;
pub mod formats;
pub mod load;
pub mod pair;
pub mod parquet_rows;
pub mod prompts;
pub mod record;
pub mod rng;
pub mod split;
pub mod strict_json;
pub mod synthetic;
pub mod tokenizer;

pub use error::DataError;
pub use load::{LoadOptions, LoadReport};
pub use pair::{PairTruth, PreferencePair};
