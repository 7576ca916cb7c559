//! A record as the containers ([`super::container`], [`super::parquet_rows`]) hand it to the
//! layouts: its place in the file, and its JSON value or why it could not be read.
use serde_json::Value;

/// Where a record is: its 1-based line (JSONL, CSV), array element or Parquet row.
pub type Place = usize;

/// A record or why it could not be read; its place.
pub type Item = (Place, Result<Value, String>);
