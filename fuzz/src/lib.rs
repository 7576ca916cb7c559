//! The project's data-loading modules, compiled straight from `../src/data` (they use only
//! serde, compression, CSV and Parquet crates), so the fuzz build stays small.
#![allow(dead_code)]

pub mod data {
    #[path = "../../../src/data/container.rs"]
    pub mod container;
    #[path = "../../../src/data/fields.rs"]
    pub mod fields;
    #[path = "../../../src/data/formats/mod.rs"]
    pub mod formats;
    #[path = "../../../src/data/load.rs"]
    pub mod load;
    #[path = "../../../src/data/pair.rs"]
    pub mod pair;
    #[path = "../../../src/data/parquet_rows.rs"]
    pub mod parquet_rows;
    #[path = "../../../src/data/prompts.rs"]
    pub mod prompts;
    #[path = "../../../src/data/rng.rs"]
    pub mod rng;
    #[path = "../../../src/data/strict_json.rs"]
    pub mod strict_json;
}
