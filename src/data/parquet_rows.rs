//! Parquet files (what the dataset hubs serve by default) read row by row through the
//! `parquet` crate's record API: every row becomes a JSON object, so the layouts of
//! [`super::formats`] apply unchanged. Snappy, gzip, LZ4 and (natively) zstd pages are read;
//! the browser build has no zstd for Parquet pages and says so.
use bytes::Bytes;
use parquet::file::reader::{FileReader, SerializedFileReader};
use parquet::record::reader::RowIter;

use super::error::DataError;
use super::record::Item;

/// The rows of a Parquet file as `(1-based row, record)`.
pub fn rows(source_name: &str, bytes: &[u8]) -> Result<Box<dyn Iterator<Item = Item>>, DataError> {
    let whole = |message: String| DataError::Whole {
        source_name: source_name.to_owned(),
        message,
    };
    let reader = SerializedFileReader::new(Bytes::copy_from_slice(bytes)).map_err(|error| {
        whole(format!(
            "the file starts like Parquet but cannot be read ({error}). It may be truncated: \
             download it again, or export the data as JSONL."
        ))
    })?;
    let rows = reader.metadata().file_metadata().num_rows();
    if rows == 0 {
        return Err(whole("the Parquet file has no rows.".into()));
    }
    let iter = RowIter::from_file_into(Box::new(reader));
    // A damaged file fails on every row after the first bad one: stop at the first error.
    let mut failed = false;
    Ok(Box::new(iter.enumerate().map_while(move |(i, row)| {
        if failed {
            return None;
        }
        let record = row.map(|row| row.to_json_value()).map_err(|error| {
            let text = error.to_string();
            let hint = if text.contains("ZSTD") || text.contains("zstd") {
                " This build cannot read zstd-compressed Parquet pages (the browser build); \
                 load the file natively, or convert it to JSONL."
            } else {
                " The file may be damaged; download it again, or export the data as JSONL."
            };
            format!("the Parquet row cannot be read ({text}).{hint}")
        });
        failed = record.is_err();
        Some((i + 1, record))
    })))
}
