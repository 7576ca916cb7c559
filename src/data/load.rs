//! Loading preference pairs from a file or the bytes a browser file picker gives: the container
//! ([`super::container`]: JSONL, JSON array, CSV or Parquet; plain, gzip or zstd), then the
//! record layout ([`super::formats`], detected from the first records or named).
//!
//! Every record gets the next `index`, whether it loads or is skipped as bad, so per-pair results
//! can be written back in input order; a record that makes several pairs (rated completions)
//! takes one index per pair. Pairs whose two scores are equal (`score_chosen`/`score_rejected`,
//! or ratings) are dropped as ties and counted, as are gaps below `min_score_gap` and pairs whose
//! chosen and rejected responses are the same text (nothing to learn from: a model scores both
//! the same, so they only pull accuracy towards 0.5).
use std::collections::BTreeMap;
use std::path::Path;

use serde::Serialize;

pub use super::error::DataError;

use super::container::{self, Container, MAX_DECOMPRESSED_BYTES};
use super::formats::{Format, ParseOptions, Reader, value};
use super::pair::PreferencePair;

pub use super::formats::{ASSISTANT_MARKER, split_hh_transcript};

/// Default for [`LoadOptions::max_line_bytes`]: 16 MiB.
pub const DEFAULT_MAX_LINE_BYTES: usize = 16 * 1024 * 1024;

/// The largest file read: 2 GiB.
pub const MAX_FILE_BYTES: u64 = 2 * 1024 * 1024 * 1024;

/// How to read a file.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LoadOptions {
    /// When true, bad records are recorded in [`LoadReport::skipped`] and loading goes on; when
    /// false (the default), the first bad record is returned as [`DataError::Line`].
    pub skip_bad_lines: bool,
    /// The longest JSONL line accepted, in bytes (without the line ending). Default 16 MiB.
    pub max_line_bytes: usize,
    /// Layout, pairing of rated completions.
    pub parse: ParseOptions,
    /// Drop pairs whose `score_chosen − score_rejected` is smaller than this in size (near
    /// ties). Equal scores are always dropped.
    pub min_score_gap: f64,
}

impl Default for LoadOptions {
    fn default() -> Self {
        Self {
            skip_bad_lines: false,
            max_line_bytes: DEFAULT_MAX_LINE_BYTES,
            parse: ParseOptions::default(),
            min_score_gap: 0.0,
        }
    }
}

/// What a load produced.
#[derive(Clone, Debug, Serialize)]
pub struct LoadReport {
    /// The loaded pairs, in input order.
    pub pairs: Vec<PreferencePair>,
    /// Bad records skipped (only with [`LoadOptions::skip_bad_lines`]).
    pub skipped: Vec<SkippedLine>,
    /// Candidate pairs dropped as ties (equal scores or ratings, a gap below the minimum, or the
    /// same response on both sides).
    pub dropped_ties: usize,
    /// How many loaded pairs came in each layout.
    pub format_counts: FormatCounts,
    /// The container read.
    pub container: Container,
}

/// A bad record that was skipped.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct SkippedLine {
    /// 1-based line (JSONL, CSV), array element or Parquet row.
    pub line: usize,
    /// What was wrong and how to fix it.
    pub reason: String,
}

/// How many loaded pairs came in each layout.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct FormatCounts(BTreeMap<Format, usize>);

impl FormatCounts {
    /// Counts `n` more pairs of `format`.
    pub fn add(&mut self, format: Format, n: usize) {
        if n > 0 {
            *self.0.entry(format).or_default() += n;
        }
    }

    /// Pairs counted in `format`.
    pub fn get(&self, format: Format) -> usize {
        self.0.get(&format).copied().unwrap_or(0)
    }

    /// All pairs counted.
    pub fn total(&self) -> usize {
        self.0.values().sum()
    }

    /// The layouts seen, with their counts.
    pub fn iter(&self) -> impl Iterator<Item = (Format, usize)> + '_ {
        self.0.iter().map(|(f, n)| (*f, *n))
    }
}

/// Loads a preference file. The error names the file as `path` shows.
pub fn load_path(path: &Path, options: &LoadOptions) -> Result<LoadReport, DataError> {
    load_bytes(&path.display().to_string(), &read_file(path)?, options)
}

/// A data file's bytes, refusing one over [`MAX_FILE_BYTES`].
pub fn read_file(path: &Path) -> Result<Vec<u8>, DataError> {
    let io = |source| DataError::Io {
        path: path.to_path_buf(),
        source,
    };
    let size = std::fs::metadata(path).map_err(io)?.len();
    if size > MAX_FILE_BYTES {
        return Err(DataError::TooLarge {
            source_name: path.display().to_string(),
            limit: MAX_FILE_BYTES,
        });
    }
    std::fs::read(path).map_err(io)
}

/// Decompresses `bytes`, tells their container and hands its records to `read`.
pub fn with_records<T>(
    source_name: &str,
    bytes: &[u8],
    max_line_bytes: usize,
    read: impl FnOnce(Container, &mut dyn Iterator<Item = container::Item>) -> Result<T, DataError>,
) -> Result<T, DataError> {
    let text = container::decompress(source_name, bytes, MAX_DECOMPRESSED_BYTES)?;
    let detected = container::detect(source_name, &text);
    let (kind, mut records) = container::records(source_name, detected, &text, max_line_bytes)?;
    read(kind, &mut records)
}

/// Loads preference pairs from a file's bytes. `source_name` names it in messages (and a
/// `.csv` name selects CSV).
pub fn load_bytes(
    source_name: &str,
    bytes: &[u8],
    options: &LoadOptions,
) -> Result<LoadReport, DataError> {
    with_records(
        source_name,
        bytes,
        options.max_line_bytes,
        |kind, records| read_pairs(source_name, kind, records, options),
    )
}

/// The pairs of a file's records.
fn read_pairs(
    source_name: &str,
    kind: Container,
    records: &mut dyn Iterator<Item = container::Item>,
    options: &LoadOptions,
) -> Result<LoadReport, DataError> {
    let mut report = LoadReport {
        pairs: Vec::new(),
        skipped: Vec::new(),
        dropped_ties: 0,
        format_counts: FormatCounts::default(),
        container: kind,
    };
    // A rated record picks its pair among those the score gap would keep.
    let mut parse = options.parse;
    parse.min_rating_gap = parse.min_rating_gap.max(options.min_score_gap);
    let mut reader = Reader::new(parse);
    let mut index = 0;
    for (ordinal, (line, record)) in records.enumerate() {
        let parsed = record.and_then(|value| {
            let place = format!("{} {line}", kind.unit());
            reader.parse(&value, ordinal, &place)
        });
        match parsed {
            Ok((format, parsed)) => {
                report.dropped_ties += parsed.ties;
                let before = report.pairs.len();
                for mut pair in parsed.pairs {
                    pair.index = index;
                    index += 1;
                    if pair.chosen == pair.rejected {
                        report.dropped_ties += 1;
                        continue;
                    }
                    match score_gap(&pair) {
                        Err(reason) if options.skip_bad_lines => {
                            report.skipped.push(SkippedLine { line, reason });
                        }
                        Err(message) => {
                            return Err(line_error(source_name, kind, line, message));
                        }
                        Ok(Some(gap)) if gap == 0.0 || gap.abs() < options.min_score_gap => {
                            report.dropped_ties += 1;
                        }
                        Ok(_) => report.pairs.push(pair),
                    }
                }
                report
                    .format_counts
                    .add(format, report.pairs.len() - before);
            }
            Err(reason) if options.skip_bad_lines => {
                index += 1;
                report.skipped.push(SkippedLine { line, reason });
            }
            Err(message) => return Err(line_error(source_name, kind, line, message)),
        }
    }
    if report.pairs.is_empty() {
        return Err(if let Some(first) = report.skipped.first() {
            DataError::AllSkipped {
                source_name: source_name.to_owned(),
                unit: kind.unit(),
                skipped: report.skipped.len(),
                first_line: first.line,
                first_reason: first.reason.clone(),
            }
        } else if report.dropped_ties > 0 {
            DataError::AllTies {
                source_name: source_name.to_owned(),
                ties: report.dropped_ties,
            }
        } else {
            DataError::Empty {
                source_name: source_name.to_owned(),
            }
        });
    }
    Ok(report)
}

fn line_error(source_name: &str, kind: Container, line: usize, message: String) -> DataError {
    DataError::Line {
        source_name: source_name.to_owned(),
        unit: kind.unit(),
        line,
        message,
    }
}

/// `score_chosen − score_rejected` where a pair carries both (an error when one is not a
/// number); `None` when it carries neither.
fn score_gap(pair: &PreferencePair) -> Result<Option<f64>, String> {
    match (
        pair.meta.get("score_chosen"),
        pair.meta.get("score_rejected"),
    ) {
        (Some(c), Some(r)) if !c.is_null() && !r.is_null() => {
            let c = value::number(c, "field \"score_chosen\"")?;
            let r = value::number(r, "field \"score_rejected\"")?;
            Ok(Some(c - r))
        }
        _ => Ok(None),
    }
}
