//! Loading preference pairs from JSONL, plain or gzip-compressed (detected by the magic bytes
//! `1f 8b`, not by the file name). Each non-blank line is one JSON record in one of the formats of
//! [`super::formats`]. Works natively and in the browser ([`load_bytes`] takes what a file
//! picker gives).
//!
//! Blank lines are skipped silently. Every other line gets the next `index`, whether it loads or
//! is skipped as bad, so per-pair results can be written back in input order.
use std::io::Read;
use std::path::{Path, PathBuf};

use flate2::read::MultiGzDecoder;
use serde::Serialize;

use super::pair::PreferencePair;

pub use super::formats::{ASSISTANT_MARKER, Format, parse_record, split_hh_transcript};

/// Default for [`LoadOptions::max_line_bytes`]: 16 MiB.
pub const DEFAULT_MAX_LINE_BYTES: usize = 16 * 1024 * 1024;

/// The most a gzip input may decompress to: 2 GiB.
pub const MAX_DECOMPRESSED_BYTES: u64 = 2 * 1024 * 1024 * 1024;

const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];
const UTF8_BOM: &[u8] = b"\xEF\xBB\xBF";

/// How to treat bad lines and how long a line may be.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LoadOptions {
    /// When true, bad lines are recorded in [`LoadReport::skipped`] and loading goes on; when
    /// false (the default), the first bad line is returned as [`DataError::Line`].
    pub skip_bad_lines: bool,
    /// The longest line accepted, in bytes (without the line ending). Default 16 MiB.
    pub max_line_bytes: usize,
}

impl Default for LoadOptions {
    fn default() -> Self {
        Self {
            skip_bad_lines: false,
            max_line_bytes: DEFAULT_MAX_LINE_BYTES,
        }
    }
}

/// What a load produced: the pairs in input order, the lines skipped, and the formats seen.
#[derive(Clone, Debug, Default, Serialize)]
pub struct LoadReport {
    /// The loaded pairs, in input order; `index` is the record's ordinal among non-blank lines.
    pub pairs: Vec<PreferencePair>,
    /// Bad lines skipped (only with [`LoadOptions::skip_bad_lines`]).
    pub skipped: Vec<SkippedLine>,
    /// How many loaded pairs came in each format.
    pub format_counts: FormatCounts,
}

/// A bad line that was skipped.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct SkippedLine {
    /// 1-based line number in the (decompressed) input, blank lines included.
    pub line: usize,
    /// What was wrong and how to fix it.
    pub reason: String,
}

/// How many loaded pairs came in each format.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct FormatCounts {
    /// Anthropic HH-RLHF transcripts.
    pub hh_transcript: usize,
    /// TRL standard (`prompt`/`chosen`/`rejected` strings).
    pub trl_standard: usize,
    /// TRL conversational (lists of messages).
    pub trl_conversational: usize,
}

impl FormatCounts {
    /// Counts one more pair of `format`.
    pub fn add(&mut self, format: Format) {
        match format {
            Format::HhTranscript => self.hh_transcript += 1,
            Format::TrlStandard => self.trl_standard += 1,
            Format::TrlConversational => self.trl_conversational += 1,
        }
    }

    /// All pairs counted.
    pub fn total(&self) -> usize {
        self.hh_transcript + self.trl_standard + self.trl_conversational
    }
}

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
    /// The input starts like gzip but its data is corrupt or truncated.
    #[error(
        "{source_name}: the gzip data is corrupt or truncated ({message}). Download or compress \
         the file again, or load it uncompressed."
    )]
    Gzip {
        /// The file name (or the name the browser gave).
        source_name: String,
        /// The decompressor's error.
        message: String,
    },
    /// The gzip input decompresses to more than [`MAX_DECOMPRESSED_BYTES`].
    #[error(
        "{source_name}: decompresses to more than {limit} bytes, the most this loader reads. \
         Split the data into smaller files."
    )]
    TooLarge {
        /// The file name.
        source_name: String,
        /// The limit that was passed, in bytes.
        limit: u64,
    },
    /// A line is bad (and bad lines are not being skipped).
    #[error("{source_name} line {line}: {message}")]
    Line {
        /// The file name.
        source_name: String,
        /// 1-based line number, blank lines included.
        line: usize,
        /// What is wrong and how to fix it.
        message: String,
    },
    /// The input has no records at all.
    #[error(
        "{source_name} holds no preference pairs (the file is empty or has only blank lines). \
         Expected one JSON object per line: HH-RLHF, TRL standard or TRL conversational records."
    )]
    Empty {
        /// The file name.
        source_name: String,
    },
    /// Bad lines were being skipped and every line was bad.
    #[error(
        "{source_name} holds no usable preference pairs: all {skipped} non-blank lines were \
         skipped as bad. The first, line {first_line}: {first_reason}"
    )]
    AllSkipped {
        /// The file name.
        source_name: String,
        /// How many lines were skipped.
        skipped: usize,
        /// Line number of the first bad line.
        first_line: usize,
        /// What was wrong with it.
        first_reason: String,
    },
}

/// Loads a JSONL or JSONL.gz file of preference pairs. The error names the file as `path` shows.
pub fn load_path(path: &Path, options: &LoadOptions) -> Result<LoadReport, DataError> {
    let bytes = std::fs::read(path).map_err(|source| DataError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    load_bytes(&path.display().to_string(), &bytes, options)
}

/// Loads preference pairs from the bytes of a JSONL file, gzip-compressed or not (decided by the
/// magic bytes `1f 8b`). `source_name` is only used in messages.
pub fn load_bytes(
    source_name: &str,
    bytes: &[u8],
    options: &LoadOptions,
) -> Result<LoadReport, DataError> {
    if bytes.starts_with(&GZIP_MAGIC) {
        let text = gunzip(source_name, bytes, MAX_DECOMPRESSED_BYTES)?;
        load_lines(source_name, &text, options)
    } else {
        load_lines(source_name, bytes, options)
    }
}

/// Decompresses a (possibly multi-member) gzip stream, refusing more than `limit` bytes.
fn gunzip(source_name: &str, bytes: &[u8], limit: u64) -> Result<Vec<u8>, DataError> {
    let mut text = Vec::new();
    MultiGzDecoder::new(bytes)
        .take(limit.saturating_add(1))
        .read_to_end(&mut text)
        .map_err(|error| DataError::Gzip {
            source_name: source_name.to_owned(),
            message: error.to_string(),
        })?;
    if text.len() as u64 > limit {
        return Err(DataError::TooLarge {
            source_name: source_name.to_owned(),
            limit,
        });
    }
    Ok(text)
}

fn load_lines(
    source_name: &str,
    text: &[u8],
    options: &LoadOptions,
) -> Result<LoadReport, DataError> {
    let text = text.strip_prefix(UTF8_BOM).unwrap_or(text);
    let mut report = LoadReport::default();
    let mut index = 0;
    for (line_index, raw) in text.split(|&byte| byte == b'\n').enumerate() {
        let line = line_index + 1;
        let raw = raw.strip_suffix(b"\r").unwrap_or(raw);
        if raw.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        let record_index = index;
        index += 1;
        match parse_line(raw, options) {
            Ok((format, mut pair)) => {
                pair.index = record_index;
                report.format_counts.add(format);
                report.pairs.push(pair);
            }
            Err(reason) if options.skip_bad_lines => {
                report.skipped.push(SkippedLine { line, reason });
            }
            Err(message) => {
                return Err(DataError::Line {
                    source_name: source_name.to_owned(),
                    line,
                    message,
                });
            }
        }
    }
    if report.pairs.is_empty() {
        return Err(match report.skipped.first() {
            None => DataError::Empty {
                source_name: source_name.to_owned(),
            },
            Some(first) => DataError::AllSkipped {
                source_name: source_name.to_owned(),
                skipped: report.skipped.len(),
                first_line: first.line,
                first_reason: first.reason.clone(),
            },
        });
    }
    Ok(report)
}

/// One non-blank line (without its line ending) to a pair with `index` 0.
fn parse_line(raw: &[u8], options: &LoadOptions) -> Result<(Format, PreferencePair), String> {
    if raw.len() > options.max_line_bytes {
        return Err(format!(
            "line is {} bytes, over the {}-byte limit (LoadOptions::max_line_bytes). Split the \
             record or raise the limit.",
            raw.len(),
            options.max_line_bytes
        ));
    }
    let text = std::str::from_utf8(raw).map_err(|error| {
        format!(
            "not valid UTF-8 (first bad byte at byte {} of the line). Save the file as UTF-8.",
            error.valid_up_to() + 1
        )
    })?;
    let value: serde_json::Value =
        serde_json::from_str(text).map_err(|error| describe_json_error(&error))?;
    parse_record(&value)
}

/// `invalid JSON (expected `:` at column 12). …` — serde_json's text without the `line 1`.
fn describe_json_error(error: &serde_json::Error) -> String {
    let full = error.to_string();
    let position = format!(" at line {} column {}", error.line(), error.column());
    let what = full.strip_suffix(&position).unwrap_or(&full);
    format!(
        "invalid JSON ({what} at column {}). Each line must be one JSON object.",
        error.column()
    )
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;

    fn gzip(data: &[u8]) -> Vec<u8> {
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        encoder.write_all(data).unwrap();
        encoder.finish().unwrap()
    }

    #[test]
    fn gunzip_refuses_more_than_the_limit() {
        let data = vec![b' '; 1000];
        let packed = gzip(&data);
        assert_eq!(gunzip("x.gz", &packed, 1000).unwrap().len(), 1000);
        let error = gunzip("x.gz", &packed, 999).unwrap_err();
        assert!(
            matches!(error, DataError::TooLarge { limit: 999, .. }),
            "{error:?}"
        );
        assert!(error.to_string().contains("x.gz"), "{error}");
    }

    #[test]
    fn gunzip_reads_concatenated_members() {
        let mut packed = gzip(b"ab");
        packed.extend(gzip(b"cd"));
        assert_eq!(gunzip("x.gz", &packed, 100).unwrap(), b"abcd");
    }
}
