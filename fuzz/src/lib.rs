//! The project's data-loading modules, compiled straight from `../src/data` (they use only
//! serde, compression, CSV and Parquet crates), so the fuzz build stays small.
#![allow(dead_code)]

pub mod data;
