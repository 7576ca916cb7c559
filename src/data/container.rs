//! What holds the records: JSON Lines, one JSON array, CSV with a header, or Parquet, each
//! plain, gzip or zstd (decided by the magic bytes, never by the file name, except that a
//! `.csv` name picks CSV). Every container yields `(place, record)` one at a time, a record
//! being a JSON object whatever the container was.
use std::io::Read;

use serde_json::{Map, Value};

use super::error::DataError;
pub use super::record::{Item, Place};

/// The most a compressed input may decompress to: 2 GiB.
pub const MAX_DECOMPRESSED_BYTES: u64 = 2 * 1024 * 1024 * 1024;

const GZIP_MAGIC: &[u8] = &[0x1f, 0x8b];
const ZSTD_MAGIC: &[u8] = &[0x28, 0xb5, 0x2f, 0xfd];
const PARQUET_MAGIC: &[u8] = b"PAR1";
const UTF8_BOM: &[u8] = b"\xEF\xBB\xBF";

/// The container of a file.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Container {
    /// One JSON object per line.
    Jsonl,
    /// One JSON array of objects.
    JsonArray,
    /// Comma-separated values with a header row.
    Csv,
    /// Apache Parquet.
    Parquet,
}

impl Container {
    /// What a place in it is called: `line`, `record` or `row`.
    pub fn unit(self) -> &'static str {
        match self {
            Container::Jsonl | Container::Csv => "line",
            Container::JsonArray => "record",
            Container::Parquet => "row",
        }
    }
}

/// The bytes decompressed when they start like gzip or zstd; otherwise as they are.
pub fn decompress<'a>(
    source_name: &str,
    bytes: &'a [u8],
    limit: u64,
) -> Result<std::borrow::Cow<'a, [u8]>, DataError> {
    let (codec, result) = if bytes.starts_with(GZIP_MAGIC) {
        (
            "gzip",
            read_limited(flate2::read::MultiGzDecoder::new(bytes), Vec::new(), limit),
        )
    } else if bytes.starts_with(ZSTD_MAGIC) {
        ("zstd", unzstd(bytes, limit))
    } else {
        return Ok(std::borrow::Cow::Borrowed(bytes));
    };
    let out = result.map_err(|message| DataError::Compressed {
        source_name: source_name.to_owned(),
        codec,
        message,
    })?;
    if out.len() as u64 > limit {
        return Err(DataError::TooLarge {
            source_name: source_name.to_owned(),
            limit,
        });
    }
    Ok(std::borrow::Cow::Owned(out))
}

/// Appends what `reader` yields to `out`, stopping one byte past `limit` in all.
fn read_limited(reader: impl Read, mut out: Vec<u8>, limit: u64) -> Result<Vec<u8>, String> {
    let room = limit.saturating_add(1).saturating_sub(out.len() as u64);
    reader
        .take(room)
        .read_to_end(&mut out)
        .map_err(|e| e.to_string())?;
    Ok(out)
}

/// Every frame of a zstd stream (`pzstd` and `cat a.zst b.zst` write several).
fn unzstd(bytes: &[u8], limit: u64) -> Result<Vec<u8>, String> {
    let mut rest = bytes;
    let mut out = Vec::new();
    while !rest.is_empty() && out.len() as u64 <= limit {
        let decoder =
            ruzstd::decoding::StreamingDecoder::new(&mut rest).map_err(|e| e.to_string())?;
        out = read_limited(decoder, out, limit)?;
    }
    Ok(out)
}

/// The container of decompressed bytes (`name` only decides for CSV).
pub fn detect(name: &str, bytes: &[u8]) -> Container {
    if bytes.starts_with(PARQUET_MAGIC) {
        return Container::Parquet;
    }
    let lower = name.to_ascii_lowercase();
    let stem = lower
        .trim_end_matches(".gz")
        .trim_end_matches(".zst")
        .trim_end_matches(".zstd");
    if stem.ends_with(".csv") {
        return Container::Csv;
    }
    let text = bytes.strip_prefix(UTF8_BOM).unwrap_or(bytes);
    match text.iter().find(|b| !b.is_ascii_whitespace()) {
        Some(b'[') => Container::JsonArray,
        Some(b'{') | None => Container::Jsonl,
        Some(_) => {
            let first_line = text.split(|&b| b == b'\n').next().unwrap_or_default();
            if first_line.contains(&b',') {
                Container::Csv
            } else {
                Container::Jsonl
            }
        }
    }
}

/// The records of `bytes` (already decompressed) in `container`, and the container they were
/// read as: text that starts with `[` but is not one array, while its first line is a JSON value
/// of its own, is JSON Lines. Blank JSONL lines are not records. `max_line_bytes` bounds a
/// JSONL line.
pub fn records<'a>(
    source_name: &str,
    container: Container,
    bytes: &'a [u8],
    max_line_bytes: usize,
) -> Result<(Container, Box<dyn Iterator<Item = Item> + 'a>), DataError> {
    let text = bytes.strip_prefix(UTF8_BOM).unwrap_or(bytes);
    if container != Container::Parquet && text.iter().all(u8::is_ascii_whitespace) {
        return Ok((Container::Jsonl, Box::new(std::iter::empty())));
    }
    Ok(match container {
        Container::Jsonl => (container, Box::new(jsonl(text, max_line_bytes))),
        Container::JsonArray => match json_array(source_name, text) {
            Ok(items) => (container, Box::new(items.into_iter())),
            Err(error) => {
                let first = text
                    .split(|&b| b == b'\n')
                    .find(|line| !line.iter().all(u8::is_ascii_whitespace))
                    .unwrap_or_default();
                if serde_json::from_slice::<Value>(first).is_ok() {
                    (Container::Jsonl, Box::new(jsonl(text, max_line_bytes)))
                } else {
                    return Err(error);
                }
            }
        },
        Container::Csv => (container, Box::new(csv_rows(source_name, text)?)),
        Container::Parquet => (container, super::parquet_rows::rows(source_name, bytes)?),
    })
}

fn jsonl(text: &[u8], max_line_bytes: usize) -> impl Iterator<Item = Item> + '_ {
    text.split(|&byte| byte == b'\n')
        .enumerate()
        .filter_map(move |(i, raw)| {
            let raw = raw.strip_suffix(b"\r").unwrap_or(raw);
            if raw.iter().all(u8::is_ascii_whitespace) {
                return None;
            }
            Some((i + 1, parse_line(raw, max_line_bytes)))
        })
}

fn parse_line(raw: &[u8], max_line_bytes: usize) -> Result<Value, String> {
    if raw.len() > max_line_bytes {
        return Err(format!(
            "line is {} bytes, over the {}-byte limit (LoadOptions::max_line_bytes). Split the \
             record or raise the limit.",
            raw.len(),
            max_line_bytes
        ));
    }
    let text = std::str::from_utf8(raw).map_err(|error| {
        format!(
            "not valid UTF-8 (first bad byte at byte {} of the line). Save the file as UTF-8.",
            error.valid_up_to() + 1
        )
    })?;
    super::strict_json::from_slice(text.as_bytes()).map_err(|error| {
        let full = error.to_string();
        let position = format!(" at line {} column {}", error.line(), error.column());
        let what = full.strip_suffix(&position).unwrap_or(&full);
        format!(
            "invalid JSON ({what} at column {}). Each line must be one JSON object.",
            error.column()
        )
    })
}

/// A whole-file JSON array: every element is a record.
fn json_array(source_name: &str, text: &[u8]) -> Result<Vec<Item>, DataError> {
    let value = super::strict_json::from_slice(text).map_err(|error| DataError::Whole {
        source_name: source_name.to_owned(),
        message: format!(
            "the file starts with '[' but is not one valid JSON array ({error}). Write one JSON \
             array of objects, or one object per line (JSONL)."
        ),
    })?;
    let Value::Array(values) = value else {
        return Err(DataError::Whole {
            source_name: source_name.to_owned(),
            message: "the file starts with '[' but is not a JSON array. Write one JSON array of objects, or one object per line (JSONL).".into(),
        });
    };
    Ok(values
        .into_iter()
        .enumerate()
        .map(|(i, value)| (i + 1, Ok(value)))
        .collect())
}

/// CSV with a header row: each row becomes an object of its cells. A cell that holds a JSON
/// list or object (messages, completions) is read as JSON; every other cell is a string.
fn csv_rows<'a>(
    source_name: &str,
    text: &'a [u8],
) -> Result<impl Iterator<Item = Item> + 'a, DataError> {
    let mut reader = csv::ReaderBuilder::new().flexible(false).from_reader(text);
    let header: Vec<String> = reader
        .headers()
        .map_err(|error| DataError::Whole {
            source_name: source_name.to_owned(),
            message: format!(
                "the CSV header row cannot be read ({error}). The first row must name the columns."
            ),
        })?
        .iter()
        .map(str::to_owned)
        .collect();
    if header.iter().all(String::is_empty) {
        return Err(DataError::Whole {
            source_name: source_name.to_owned(),
            message: "the CSV header row is empty. The first row must name the columns, such as prompt,chosen,rejected.".into(),
        });
    }
    Ok(reader.into_records().map(move |row| match row {
        Ok(row) => {
            let line = row.position().map_or(0, |p| p.line() as usize);
            let object: Map<String, Value> = header
                .iter()
                .zip(row.iter())
                .map(|(key, cell)| (key.clone(), cell_value(cell)))
                .collect();
            (line, Ok(Value::Object(object)))
        }
        Err(error) => {
            let line = error.position().map_or(0, |p| p.line() as usize);
            let message = match error.kind() {
                csv::ErrorKind::UnequalLengths { expected_len, len, .. } => format!(
                    "the row has {len} cells but the header has {expected_len}. Quote cells that hold commas (\"a, b\")."
                ),
                csv::ErrorKind::Utf8 { .. } => "not valid UTF-8. Save the file as UTF-8.".to_owned(),
                _ => format!("the row cannot be read as CSV ({error})."),
            };
            (line, Err(message))
        }
    }))
}

/// A cell holding a JSON list of objects (messages, completions) or of strings (turns) is that
/// list; every other cell is its text (an answer such as `[1, 2, 3]` or `{"a": 1}` stays text).
fn cell_value(cell: &str) -> Value {
    if cell.trim_start().starts_with('[')
        && let Ok(Value::Array(items)) = serde_json::from_str::<Value>(cell)
        && !items.is_empty()
        && (items.iter().all(Value::is_object) || items.iter().all(Value::is_string))
    {
        return Value::Array(items);
    }
    Value::String(cell.to_owned())
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
    fn decompression_refuses_more_than_the_limit() {
        let data = vec![b' '; 1000];
        let packed = gzip(&data);
        assert_eq!(decompress("x.gz", &packed, 1000).unwrap().len(), 1000);
        let error = decompress("x.gz", &packed, 999).unwrap_err();
        assert!(
            matches!(error, DataError::TooLarge { limit: 999, .. }),
            "{error:?}"
        );
        assert!(error.to_string().contains("x.gz"), "{error}");
    }

    #[test]
    fn concatenated_gzip_members_are_read() {
        let mut packed = gzip(b"ab");
        packed.extend(gzip(b"cd"));
        assert_eq!(&*decompress("x.gz", &packed, 100).unwrap(), b"abcd");
    }

    #[test]
    fn concatenated_zstd_frames_are_read() {
        let level = ruzstd::encoding::CompressionLevel::Fastest;
        let mut packed = ruzstd::encoding::compress_to_vec(&b"ab"[..], level);
        packed.extend(ruzstd::encoding::compress_to_vec(&b"cd"[..], level));
        assert_eq!(&*decompress("x.zst", &packed, 100).unwrap(), b"abcd");
        assert!(matches!(
            decompress("x.zst", &packed, 3),
            Err(DataError::TooLarge { limit: 3, .. })
        ));
    }

    #[test]
    fn containers_are_told_by_their_first_bytes() {
        assert_eq!(detect("a", b"  {\"a\":1}\n"), Container::Jsonl);
        assert_eq!(detect("a", b"\n[{\"a\":1}]"), Container::JsonArray);
        assert_eq!(detect("a", b"prompt,chosen,rejected\n"), Container::Csv);
        assert_eq!(detect("a.csv.gz", b"{odd header}\n"), Container::Csv);
        assert_eq!(detect("a", b"PAR1...."), Container::Parquet);
        assert_eq!(detect("a", b""), Container::Jsonl);
    }

    #[test]
    fn csv_cells_holding_json_lists_are_json() {
        let text =
            b"prompt,chosen,rejected\n\"[{\"\"role\"\":\"\"user\"\"}]\",[not json,\"[1, 2]\"\n";
        let items: Vec<Item> = csv_rows("t.csv", text).unwrap().collect();
        let (line, Ok(record)) = &items[0] else {
            panic!("{items:?}")
        };
        assert_eq!(*line, 2);
        assert!(record["prompt"].is_array());
        assert_eq!(record["chosen"], "[not json");
        assert_eq!(record["rejected"], "[1, 2]");
    }
}
