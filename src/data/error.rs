//! Why a preference file could not be loaded (every loader's error: the container, the layout,
//! the records).

use std::path::PathBuf;

/// Why a preference file could not be loaded. The display text names the place, says what is
/// wrong and how to fix it.
#[derive(Debug, thiserror::Error)]
pub enum DataError {
    /// The file could not be read.
    #[error(
        "cannot read {}: {source}. Hint: check the path; `hh-sample` and `synthetic` are \
         built-in sources.",
        .path.display()
    )]
    Io {
        /// The path that was asked for.
        path: PathBuf,
        /// The operating system's error.
        source: std::io::Error,
    },
    /// The input starts like gzip or zstd but its data is corrupt or truncated.
    #[error(
        "{source_name}: the {codec} data is corrupt or truncated ({message}). Download or \
         compress the file again, or load it uncompressed."
    )]
    Compressed {
        /// The file name (or the name the browser gave).
        source_name: String,
        /// `gzip` or `zstd`.
        codec: &'static str,
        /// The decompressor's error.
        message: String,
    },
    /// The input is larger than the loader reads.
    #[error(
        "{source_name}: is (or decompresses to) more than {limit} bytes, the most this loader \
         reads. Split the data into smaller files."
    )]
    TooLarge {
        /// The file name.
        source_name: String,
        /// The limit, in bytes.
        limit: u64,
    },
    /// The file as a whole is malformed (a JSON array that does not parse, a CSV without a
    /// header, a damaged Parquet file).
    #[error("{source_name}: {message}")]
    Whole {
        /// The file name.
        source_name: String,
        /// What is wrong and how to fix it.
        message: String,
    },
    /// A record is bad (and bad records are not being skipped).
    #[error("{source_name} {unit} {line}: {message}")]
    Line {
        /// The file name.
        source_name: String,
        /// `line`, `record` (JSON array) or `row` (Parquet).
        unit: &'static str,
        /// 1-based line, element or row.
        line: usize,
        /// What is wrong and how to fix it.
        message: String,
    },
    /// The input has no records at all.
    #[error(
        "{source_name} holds no preference pairs (the file is empty or has only blank lines). \
         Expected JSONL, a JSON array, CSV or Parquet records in a supported layout."
    )]
    Empty {
        /// The file name.
        source_name: String,
    },
    /// Records were read but every candidate pair was a tie.
    #[error(
        "{source_name}: all {ties} candidate pairs were dropped as ties (equal scores, a gap \
         below --min-score-gap / the minimum rating gap, or the same response as chosen and \
         rejected). Lower the minimum gap, or check the chosen and rejected fields."
    )]
    AllTies {
        /// The file name.
        source_name: String,
        /// How many were dropped.
        ties: usize,
    },
    /// Bad records were being skipped and every record was bad.
    #[error(
        "{source_name} holds no usable preference pairs: all {skipped} records were skipped as \
         bad. The first, {unit} {first_line}: {first_reason}"
    )]
    AllSkipped {
        /// The file name.
        source_name: String,
        /// `line`, `record` or `row`.
        unit: &'static str,
        /// How many were skipped.
        skipped: usize,
        /// Place of the first bad record.
        first_line: usize,
        /// What was wrong with it.
        first_reason: String,
    },
}
