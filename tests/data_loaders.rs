//! The preference loaders on JSONL: the TRL-family formats, gzip, skip mode, malformed inputs,
//! the real HH data. (Other layouts and containers: `data_layouts.rs`.)
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use rlhf_lab::data::formats::{Format, ParseOptions, Reader};
use rlhf_lab::data::load::*;
use rlhf_lab::data::{DataError, LoadOptions, PreferencePair};
use serde_json::json;

const STRICT: LoadOptions = LoadOptions {
    skip_bad_lines: false,
    max_line_bytes: 16 << 20,
    parse: ParseOptions {
        format: None,
        pairing: rlhf_lab::data::formats::Pairing::BestVsRandom,
        min_rating_gap: 0.0,
        seed: 0,
    },
    min_score_gap: 0.0,
};
const SKIP: LoadOptions = LoadOptions {
    skip_bad_lines: true,
    ..STRICT
};

/// Parses one record in auto mode, expecting one pair.
fn parse_record(record: &serde_json::Value) -> Result<(Format, PreferencePair), String> {
    let (format, mut parsed) = Reader::new(ParseOptions::default()).parse(record, 0, "line 1")?;
    assert_eq!(parsed.pairs.len(), 1, "{parsed:?}");
    Ok((format, parsed.pairs.remove(0)))
}

/// A fresh directory under the system temp dir, removed when dropped.
struct TempDir(PathBuf);

impl TempDir {
    fn new() -> Self {
        static COUNTER: AtomicUsize = AtomicUsize::new(0);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        let count = COUNTER.fetch_add(1, Ordering::Relaxed);
        let name = format!(
            "rlhf_lab_data_loaders_{}_{count}_{nanos}",
            std::process::id()
        );
        let dir = std::env::temp_dir().join(name);
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }

    fn write(&self, name: &str, contents: &[u8]) -> PathBuf {
        let path = self.0.join(name);
        std::fs::write(&path, contents).unwrap();
        path
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    encoder.write_all(data).unwrap();
    encoder.finish().unwrap()
}

/// Writes `contents` to a file called `name` in a fresh temp dir and loads it.
fn load_file(name: &str, contents: &[u8], options: &LoadOptions) -> Result<LoadReport, DataError> {
    let dir = TempDir::new();
    load_path(&dir.write(name, contents), options)
}

fn load_ok(name: &str, contents: &[u8], options: &LoadOptions) -> LoadReport {
    load_file(name, contents, options).unwrap_or_else(|e| panic!("{name} should load: {e}"))
}

fn assert_has(text: &str, words: &[&str]) {
    for word in words {
        assert!(text.contains(word), "{word:?} missing from: {text}");
    }
}

/// Loads a file that must fail on `line`, with a message holding the file name and `words`.
fn line_error(name: &str, contents: &[u8], options: &LoadOptions, line: usize, words: &[&str]) {
    let error = load_file(name, contents, options).expect_err("the load should fail");
    let text = error.to_string();
    let DataError::Line {
        unit, line: got, ..
    } = &error
    else {
        panic!("{name}: expected DataError::Line, got {error:?}");
    };
    assert_eq!(*got, line, "wrong line in: {text}");
    assert_has(&text, &[name, &format!("{unit} {line}: ")]);
    assert_has(&text, words);
}

fn line(value: serde_json::Value) -> String {
    format!("{value}\n")
}

/// A list of `{"role", "content"}` messages.
fn msgs(turns: &[(&str, &str)]) -> serde_json::Value {
    let message = |(role, content): &(&str, &str)| json!({"role": role, "content": content});
    turns.iter().map(message).collect()
}

/// `(index, chosen)` of each loaded pair.
fn indexed(report: &LoadReport) -> Vec<(usize, &str)> {
    report
        .pairs
        .iter()
        .map(|p| (p.index, p.chosen.as_str()))
        .collect()
}

fn triple(pair: &PreferencePair) -> (&str, &str, &str) {
    (&pair.prompt, &pair.chosen, &pair.rejected)
}

const HH_PROMPT: &str =
    "\n\nHuman: Hi there\n\nAssistant: Hello! How can I help?\n\nHuman: What is 2+2?\n\nAssistant:";

fn hh_record() -> serde_json::Value {
    json!({
        "chosen": format!("{HH_PROMPT}  It is 4."),
        "rejected": format!("{HH_PROMPT} I think it is 5, but\nnot sure."),
    })
}

#[test]
fn default_options_are_strict_with_a_16_mib_line_limit() {
    assert_eq!(LoadOptions::default(), STRICT);
    assert_eq!(DEFAULT_MAX_LINE_BYTES, 16_777_216);
}

#[test]
fn hh_transcript_splits_at_the_last_assistant_turn() {
    let report = load_ok("hh.jsonl", line(hh_record()).as_bytes(), &STRICT);
    assert_eq!(report.pairs.len(), 1);
    let pair = &report.pairs[0];
    let expected = (HH_PROMPT, "It is 4.", "I think it is 5, but\nnot sure.");
    assert_eq!(triple(pair), expected);
    assert_eq!((pair.index, pair.truth), (0, None));
    assert!(pair.meta.is_empty());
    assert_eq!(report.format_counts.get(Format::HhTranscript), 1);
    assert_eq!(report.format_counts.total(), 1);
}

#[test]
fn hh_transcripts_with_different_prefixes_use_the_chosen_prompt() {
    let (prompt, chosen, rejected) = split_hh_transcript(
        "\n\nHuman: A\n\nAssistant: short",
        "\n\nHuman: A\n\nAssistant: x\n\nHuman: B\n\nAssistant: long answer",
    )
    .unwrap();
    assert_eq!(prompt, "\n\nHuman: A\n\nAssistant:");
    assert_eq!(
        (chosen.as_str(), rejected.as_str()),
        ("short", "long answer")
    );
}

#[test]
fn trl_standard_and_identical_or_empty_responses() {
    let text = line(json!({"prompt": "Say hi", "chosen": "Hi!", "rejected": "No."}))
        + &line(json!({"prompt": "Same", "chosen": "x", "rejected": "x"}))
        + &line(json!({"prompt": "", "chosen": "", "rejected": "y"}));
    let report = load_ok("std.jsonl", text.as_bytes(), &STRICT);
    let triples: Vec<_> = report.pairs.iter().map(triple).collect();
    // The pair with the same response on both sides is dropped as a tie and counted; an empty
    // prompt or response is kept.
    assert_eq!(triples, [("Say hi", "Hi!", "No."), ("", "", "y")]);
    assert_eq!(report.dropped_ties, 1);
    assert_eq!(report.format_counts.get(Format::TrlStandard), 2);
    assert_eq!(report.format_counts.get(Format::HhTranscript), 0);
}

#[test]
fn trl_conversational_with_implicit_prompt() {
    let (system, user) = (("system", "Be brief."), ("user", "Capital of France?"));
    let record = json!({
        "chosen": msgs(&[system, user, ("assistant", "Paris.")]),
        "rejected": msgs(&[system, user, ("assistant", "Lyon, I believe.")]),
    });
    let report = load_ok("conv.jsonl", line(record).as_bytes(), &STRICT);
    let prompt = "\n\nSystem: Be brief.\n\nHuman: Capital of France?\n\nAssistant:";
    assert_eq!(
        triple(&report.pairs[0]),
        (prompt, "Paris.", "Lyon, I believe.")
    );
    assert_eq!(report.format_counts.get(Format::TrlConversational), 1);
}

#[test]
fn trl_conversational_with_explicit_prompt() {
    let record = json!({
        "prompt": msgs(&[("user", "Hi"), ("assistant", "Hello."), ("tool", "weather: sunny")]),
        "chosen": msgs(&[("assistant", "It is sunny.")]),
        "rejected": msgs(&[("assistant", "It rains.")]),
    });
    let (format, pair) = parse_record(&record).unwrap();
    assert_eq!(format, Format::TrlConversational);
    let prompt = "\n\nHuman: Hi\n\nAssistant: Hello.\n\nTool: weather: sunny\n\nAssistant:";
    assert_eq!(triple(&pair), (prompt, "It is sunny.", "It rains."));
}

#[test]
fn trl_conversational_earlier_turns_join_the_prompt_only_when_identical() {
    let (shared, end, more) = (
        ("user", "And then?"),
        ("assistant", "The end."),
        ("assistant", "More."),
    );
    let record = json!({
        "prompt": msgs(&[("user", "Tell a story")]),
        "chosen": msgs(&[shared, end]),
        "rejected": msgs(&[shared, more]),
    });
    let (_, pair) = parse_record(&record).unwrap();
    let prompt = "\n\nHuman: Tell a story\n\nHuman: And then?\n\nAssistant:";
    assert_eq!(triple(&pair), (prompt, "The end.", "More."));

    let differing = json!({
        "prompt": msgs(&[("user", "Tell a story")]),
        "chosen": msgs(&[shared, end]),
        "rejected": msgs(&[more]),
    });
    let (_, pair) = parse_record(&differing).unwrap();
    assert_eq!(pair.prompt, "\n\nHuman: Tell a story\n\nAssistant:");
}

#[test]
fn extra_fields_are_kept_in_meta() {
    let record = json!({
        "id": 17, "prompt": "p", "chosen": "c", "rejected": "r",
        "meta": {"flipped": true}, "source": "unit"
    });
    let report = load_ok("meta.jsonl", line(record).as_bytes(), &STRICT);
    let meta = &report.pairs[0].meta;
    assert_eq!(meta.len(), 3, "{meta:?}");
    assert_eq!(meta["id"], json!(17));
    assert_eq!(meta["meta"], json!({"flipped": true}));
    assert_eq!(meta["source"], json!("unit"));
    assert!(!meta.contains_key("chosen") && !meta.contains_key("prompt"));
}

#[test]
fn blank_lines_are_skipped_without_advancing_the_index() {
    let a = json!({"prompt": "p", "chosen": "a", "rejected": "b"});
    let b = json!({"prompt": "p", "chosen": "c", "rejected": "d"});
    // CRLF endings, a UTF-8 byte order mark, whitespace-only lines, no final newline.
    let text = format!("\u{feff}\r\n{a}\r\n   \r\n\t\n{b}");
    let report = load_ok("blank.jsonl", text.as_bytes(), &STRICT);
    assert_eq!(indexed(&report), [(0, "a"), (1, "c")]);
    assert!(report.skipped.is_empty());
}

#[test]
fn skip_mode_keeps_good_lines_and_leaves_index_gaps() {
    let text = String::from("{not json}\n\n")
        + &line(json!({"prompt": "p", "chosen": "good1", "rejected": "r"}))
        + &line(json!({"chosen": "only chosen"}))
        + &line(json!({"prompt": "p", "chosen": "good2", "rejected": "r"}));
    let report = load_ok("skip.jsonl", text.as_bytes(), &SKIP);
    assert_eq!(indexed(&report), [(1, "good1"), (3, "good2")]);
    let lines: Vec<_> = report.skipped.iter().map(|s| s.line).collect();
    assert_eq!(lines, [1, 4]);
    assert_has(&report.skipped[0].reason, &["invalid JSON"]);
    assert_has(&report.skipped[1].reason, &["missing field \"rejected\""]);
    assert_eq!(report.format_counts.get(Format::TrlStandard), 2);

    // Without skipping, the first bad line is the error.
    line_error("skip.jsonl", text.as_bytes(), &STRICT, 1, &["invalid JSON"]);
}

#[test]
fn gzip_loads_like_plain_text_whatever_the_name() {
    let text = line(hh_record())
        + "\n"
        + &line(json!({"prompt": "p", "chosen": "c", "rejected": "r", "k": [1]}));
    let plain = load_ok("data.jsonl", text.as_bytes(), &STRICT);
    assert_eq!(plain.pairs.len(), 2);
    let packed = gzip(text.as_bytes());
    let from_gz = load_ok("data.jsonl.gz", &packed, &STRICT);
    assert_eq!(plain.pairs, from_gz.pairs);
    assert_eq!(plain.format_counts, from_gz.format_counts);
    // The magic bytes decide, not the name: gzip without .gz, plain text with .gz.
    assert_eq!(load_ok("data.bin", &packed, &STRICT).pairs, plain.pairs);
    assert_eq!(
        load_ok("plain.gz", text.as_bytes(), &STRICT).pairs,
        plain.pairs
    );
    // The browser gives bytes and a name.
    assert_eq!(
        load_bytes("picked.gz", &packed, &STRICT).unwrap().pairs,
        plain.pairs
    );
}

/// `(file name, contents, bad line, words the message must hold)`.
#[rustfmt::skip]
const MALFORMED: &[(&str, &str, usize, &[&str])] = &[
    ("json.jsonl", "{\"prompt\":\"p\",\"chosen\":\"c\",\"rejected\":\"r\"}\n\n{\"chosen\" \"x\"}\n", 3,
        &["invalid JSON (expected `:` at column 11)", "one JSON object"]),
    ("missing.jsonl", r#"{"prompt": "p", "chosen": "c"}"#, 1,
        &["missing field \"rejected\"", "HH-RLHF", "TRL standard", "TRL conversational"]),
    ("type.jsonl", r#"{"chosen": 5, "rejected": "r"}"#, 1,
        &["field \"chosen\" is a number", "expected a string or a list"]),
    ("array.jsonl", "[1, 2]", 1, &["record 1", "the record is a number, not a JSON object"]),
    ("string.jsonl", "\"hello\"", 1, &["the record is a string, not a JSON object"]),
    ("role.jsonl", r#"{"chosen": [{"content": "hi"}], "rejected": [{"role": "assistant", "content": "x"}]}"#, 1,
        &["\"chosen\"[0]", "no \"role\""]),
    ("content.jsonl", r#"{"chosen": [{"role": "assistant", "content": "a"}], "rejected": [{"role": "user", "content": "q"}, {"role": "assistant"}]}"#, 1,
        &["\"rejected\"[1]", "no \"content\""]),
    ("last.jsonl", r#"{"chosen": [{"role": "user", "content": "q"}], "rejected": [{"role": "assistant", "content": "a"}]}"#, 1,
        &["\"chosen\"[0]", "role \"user\"", "must be the assistant's response"]),
    ("mixed.jsonl", r#"{"chosen": "a", "rejected": [{"role": "assistant", "content": "a"}]}"#, 1,
        &["\"chosen\" is a string but \"rejected\" is a list"]),
    ("noassist.jsonl", r#"{"chosen": "\n\nHuman: hi", "rejected": "\n\nHuman: hi\n\nAssistant: x"}"#, 1,
        &["field \"chosen\" has no \"\\n\\nAssistant:\" turn", "add a \"prompt\" field"]),
    ("prompt.jsonl", r#"{"prompt": 3, "chosen": "c", "rejected": "r"}"#, 1,
        &["field \"prompt\" is a number"]),
    ("twice.jsonl", "{} {}", 1, &["invalid JSON (trailing characters"]),
];

#[test]
fn malformed_lines_name_the_file_the_line_and_the_problem() {
    for (name, text, at, words) in MALFORMED {
        line_error(name, text.as_bytes(), &STRICT, *at, words);
    }
}

#[test]
fn over_long_and_non_utf8_lines_are_line_errors() {
    let good = line(json!({"prompt": "p", "chosen": "c", "rejected": "r"}));
    let long = line(json!({"prompt": "x".repeat(200), "chosen": "c", "rejected": "r"}));
    let text = format!("{good}{long}");
    let small = LoadOptions {
        max_line_bytes: 100,
        ..STRICT
    };
    let expected = format!("line is {} bytes, over the 100-byte limit", long.len() - 1);
    line_error(
        "long.jsonl",
        text.as_bytes(),
        &small,
        2,
        &[&expected, "max_line_bytes"],
    );
    // The same file loads under the default limit.
    assert_eq!(
        load_ok("long.jsonl", text.as_bytes(), &STRICT).pairs.len(),
        2
    );

    let mut bytes = good.into_bytes();
    bytes
        .extend_from_slice(b"{\"prompt\": \"\xff\xfe\", \"chosen\": \"c\", \"rejected\": \"r\"}\n");
    line_error(
        "latin1.jsonl",
        &bytes,
        &STRICT,
        2,
        &["not valid UTF-8", "byte 13"],
    );
}

#[test]
fn empty_inputs_are_empty_errors() {
    let empty_gz = gzip(b"");
    let inputs: [(&str, &[u8]); 3] = [
        ("empty.jsonl", b""),
        ("blank.jsonl", b"\n  \n\r\n\t\n"),
        ("empty.jsonl.gz", &empty_gz),
    ];
    for (name, contents) in inputs {
        let error = load_file(name, contents, &STRICT).unwrap_err();
        let DataError::Empty { source_name } = &error else {
            panic!("{name}: expected DataError::Empty, got {error:?}");
        };
        assert!(source_name.ends_with(name), "{source_name}");
        assert_has(&error.to_string(), &[name, "holds no preference pairs"]);
    }
}

#[test]
fn all_lines_bad_while_skipping_is_an_error_with_the_first_reason() {
    let error = load_file("bad.jsonl", b"\n[1]\n{}\n", &SKIP).unwrap_err();
    let DataError::AllSkipped {
        skipped,
        first_line,
        ..
    } = &error
    else {
        panic!("expected DataError::AllSkipped, got {error:?}");
    };
    assert_eq!((*skipped, *first_line), (2, 2));
    let words = [
        "bad.jsonl",
        "all 2 records were skipped",
        "line 2",
        "not a JSON object",
    ];
    assert_has(&error.to_string(), &words);
}

#[test]
fn corrupt_gzip_is_a_gzip_error() {
    let good = line(json!({"prompt": "p", "chosen": "c", "rejected": "r"}));
    let packed = gzip(good.repeat(50).as_bytes());
    let mut flipped = packed.clone();
    let middle = flipped.len() / 2;
    flipped[middle..middle + 8]
        .iter_mut()
        .for_each(|byte| *byte ^= 0x5a);
    let inputs = [
        ("cut.jsonl.gz", &packed[..packed.len() / 2]),
        ("flipped.jsonl.gz", &flipped[..]),
        ("header.jsonl.gz", b"\x1f\x8bnot really gzip"),
    ];
    for (name, bytes) in inputs {
        let error = load_file(name, bytes, &SKIP).unwrap_err();
        let DataError::Compressed { source_name, .. } = &error else {
            panic!("{name}: expected DataError::Compressed, got {error:?}");
        };
        assert!(source_name.ends_with(name), "{source_name}");
        assert_has(
            &error.to_string(),
            &[name, "gzip data is corrupt or truncated"],
        );
    }
}

#[test]
fn a_missing_path_is_an_io_error_with_a_hint() {
    let dir = TempDir::new();
    let path = dir.0.join("does-not-exist.jsonl");
    let error = load_path(&path, &STRICT).unwrap_err();
    assert!(
        matches!(&error, DataError::Io { path: p, .. } if p == &path),
        "{error:?}"
    );
    let words = [
        "does-not-exist.jsonl",
        "cannot read",
        "check the path",
        "`hh-sample`",
    ];
    assert_has(&error.to_string(), &words);
}

/// `RLHF_LAB_SHARED_DATA` if set, else the project's `../shared/data`.
fn shared_data_dir() -> PathBuf {
    match std::env::var_os("RLHF_LAB_SHARED_DATA") {
        Some(dir) => PathBuf::from(dir),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/data"),
    }
}

#[test]
fn real_hh_rlhf_harmless_base_test_split() {
    let path = shared_data_dir().join("hh-rlhf-harmless-base-test.jsonl.gz");
    if !path.exists() {
        eprintln!(
            "SKIPPED real_hh_rlhf_harmless_base_test_split: {} not found \
             (set RLHF_LAB_SHARED_DATA to the folder holding it)",
            path.display()
        );
        return;
    }
    let report = load_path(&path, &STRICT).unwrap();
    assert_eq!(report.pairs.len(), 2312);
    assert_eq!(report.format_counts.get(Format::HhTranscript), 2312);
    assert!(report.skipped.is_empty());
    assert!(report.pairs.iter().enumerate().all(|(i, p)| p.index == i));

    let shorter_wins = |p: &PreferencePair| {
        let (chosen, rejected) = (p.chosen.chars().count(), p.rejected.chars().count());
        match chosen.cmp(&rejected) {
            std::cmp::Ordering::Less => 1.0,
            std::cmp::Ordering::Equal => 0.5,
            std::cmp::Ordering::Greater => 0.0,
        }
    };
    let score = report.pairs.iter().map(shorter_wins).sum::<f64>() / report.pairs.len() as f64;
    assert!(
        (score - 0.555).abs() <= 0.005,
        "shorter-wins scored {score}"
    );

    let marker = "\n\nAssistant:";
    let with_prompt = report
        .pairs
        .iter()
        .filter(|p| p.prompt.len() > marker.len() && p.prompt.ends_with(marker))
        .count();
    assert!(
        with_prompt >= 2300,
        "only {with_prompt} prompts end with the Assistant marker"
    );
    eprintln!("real HH data: shorter-wins {score:.4}, {with_prompt} prompts end with the marker");
}
