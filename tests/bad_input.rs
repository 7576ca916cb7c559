//! The malformed-input table: each bad input, across loaders, model files, tokenizer files,
//! configs and URL state (the browser's `?config=` goes through the same parser), gives an error
//! that names the place and the fix, and nothing panics. Each row is `(input, words the message
//! must hold)`; the table is printed by `--nocapture` for the issue note.
use std::io::Write;

use rlhf_lab::data::load::{LoadOptions, load_bytes};
use rlhf_lab::data::tokenizer::TextTokenizer;
use rlhf_lab::experiment::prepare::prepare;
use rlhf_lab::experiment::{DataConfig, DataSource, RmTrainConfig, Run, RunConfig, StrengthConfig};
use rlhf_lab::model::saved::{FORMAT_VERSION, MAGIC, SavedRewardModel};

const GOOD: &str = "{\"prompt\": \"p\", \"chosen\": \"c\", \"rejected\": \"r\"}\n";

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    encoder.write_all(data).unwrap();
    encoder.finish().unwrap()
}

fn load(name: &str, bytes: &[u8]) -> String {
    match std::panic::catch_unwind(|| load_bytes(name, bytes, &LoadOptions::default())) {
        Ok(Ok(report)) => format!("loaded {} pairs (expected an error)", report.pairs.len()),
        Ok(Err(error)) => error.to_string(),
        Err(_) => "PANIC".into(),
    }
}

fn config(json: &str) -> String {
    match RunConfig::parse(json) {
        Ok(parsed) => match parsed.config.validate() {
            Ok(()) => "accepted (expected an error)".into(),
            Err(error) => format!("invalid config: {error}"),
        },
        Err(error) => error,
    }
}

fn check(table: &[(String, String, &[&str])]) {
    let mut failures = Vec::new();
    for (input, message, words) in table {
        println!("| {input} | {} |", message.replace('\n', " "));
        for word in *words {
            if !message.contains(word) {
                failures.push(format!("{input}: {word:?} missing from: {message}"));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn malformed_data_files_name_the_file_the_place_and_the_fix() {
    let huge_line = format!(
        "{{\"prompt\": \"{}\", \"chosen\": \"c\", \"rejected\": \"r\"}}\n",
        "x".repeat(100 << 20)
    );
    let packed = gzip(GOOD.repeat(100).as_bytes());
    let zstd = ruzstd::encoding::compress_to_vec(
        GOOD.repeat(100).as_bytes(),
        ruzstd::encoding::CompressionLevel::Fastest,
    );
    let rows: Vec<(String, String, &[&str])> = vec![
        (
            "bad JSON".into(),
            load("a.jsonl", b"{\"prompt\": \"p\",}\n"),
            &["a.jsonl line 1", "invalid JSON", "one JSON object"],
        ),
        (
            "wrong type".into(),
            load(
                "a.jsonl",
                b"{\"prompt\": \"p\", \"chosen\": 1, \"rejected\": \"r\"}",
            ),
            &["line 1", "\"chosen\" is a number", "expected a string"],
        ),
        (
            "missing field".into(),
            load("a.jsonl", b"{\"prompt\": \"p\", \"chosen\": \"c\"}"),
            &["line 1", "missing field \"rejected\""],
        ),
        (
            "null response".into(),
            load(
                "a.jsonl",
                b"{\"prompt\": \"p\", \"chosen\": null, \"rejected\": \"r\"}",
            ),
            &["line 1", "\"chosen\" is null"],
        ),
        (
            "empty file".into(),
            load("a.jsonl", b""),
            &["a.jsonl holds no preference pairs"],
        ),
        (
            "only blank lines".into(),
            load("a.jsonl", b"\n \r\n"),
            &["holds no preference pairs"],
        ),
        (
            "a 100 MB line".into(),
            load("big.jsonl", huge_line.as_bytes()),
            &[
                "big.jsonl line 1",
                "over the 16777216-byte limit",
                "Split the record",
            ],
        ),
        (
            "invalid UTF-8".into(),
            load(
                "a.jsonl",
                b"{\"prompt\": \"\xff\", \"chosen\": \"c\", \"rejected\": \"r\"}",
            ),
            &["line 1", "not valid UTF-8", "Save the file as UTF-8"],
        ),
        (
            "gzip that ends early".into(),
            load("a.jsonl.gz", &packed[..packed.len() / 2]),
            &[
                "a.jsonl.gz",
                "gzip data is corrupt or truncated",
                "compress the file again",
            ],
        ),
        (
            "zstd that ends early".into(),
            load("a.jsonl.zst", &zstd[..zstd.len() / 2]),
            &["a.jsonl.zst", "zstd data is corrupt or truncated"],
        ),
        (
            "mixed layouts in one file".into(),
            load(
                "a.jsonl",
                format!(
                    "{GOOD}{{\"question\": \"q\", \"response_j\": \"a\", \"response_k\": \"b\"}}\n"
                )
                .as_bytes(),
            ),
            &[
                "line 2",
                "stack-exchange layout",
                "One file must use one layout",
            ],
        ),
        (
            "duplicate keys".into(),
            load(
                "a.jsonl",
                b"{\"prompt\": \"p\", \"chosen\": \"c\", \"chosen\": \"d\", \"rejected\": \"r\"}",
            ),
            &["line 1", "\"chosen\" appears twice"],
        ),
        (
            "unknown layout".into(),
            load("a.jsonl", b"{\"input\": \"x\", \"output\": \"y\"}"),
            &[
                "line 1",
                "unknown layout",
                "\"input\", \"output\"",
                "--format NAME",
            ],
        ),
        (
            "JSON array cut short".into(),
            load("a.json", b"[{\"prompt\": \"p\"}, "),
            &["a.json", "not one valid JSON array"],
        ),
        (
            "CSV row with too few cells".into(),
            load("a.csv", b"prompt,chosen,rejected\np,c\n"),
            &[
                "a.csv line 2",
                "2 cells but the header has 3",
                "Quote cells",
            ],
        ),
        (
            "Parquet that ends early".into(),
            load("a.parquet", b"PAR1\x00\x01garbage"),
            &["a.parquet", "cannot be read", "JSONL"],
        ),
        (
            "a record that is a list".into(),
            load(
                "a.jsonl",
                b"{\"prompt\": \"p\", \"chosen\": \"c\", \"rejected\": \"r\"}\n[1]\n",
            ),
            &["line 2", "not a JSON object"],
        ),
    ];
    check(&rows);
}

#[test]
fn malformed_model_and_tokenizer_files_say_what_to_do() {
    let model = |bytes: &[u8]| match SavedRewardModel::from_bytes(bytes) {
        Ok(_) => "read (expected an error)".to_owned(),
        Err(error) => error.to_string(),
    };
    let mut header_cut = MAGIC.to_vec();
    header_cut.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
    header_cut.extend_from_slice(&1000u64.to_le_bytes());
    header_cut.extend_from_slice(b"{\"kind\"");
    let mut bad_header = MAGIC.to_vec();
    bad_header.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
    bad_header.extend_from_slice(&4u64.to_le_bytes());
    bad_header.extend_from_slice(b"null");
    let mut future = MAGIC.to_vec();
    future.extend_from_slice(&(FORMAT_VERSION + 1).to_le_bytes());
    let tokenizer = |json: &str| match TextTokenizer::from_json(json) {
        Ok(_) => "read (expected an error)".to_owned(),
        Err(error) => error.to_string(),
    };
    // Regression rows from `examples/mutate_inputs.rs` (71 of 1.36 M mutated model files made
    // `tokenizers` panic: a decoder section holding a number out of range or a cut value).
    let ours = TextTokenizer::word_level(&["a", "b"])
        .unwrap()
        .to_json()
        .unwrap();
    assert!(ours.contains("\"decoder\": null"), "{ours}");
    let broken_decoder = ours.replace(
        "\"decoder\": null",
        "\"decoder\": {\"type\": \"ByteLevel\", \"trim_offsets\": 1e999}",
    );
    let cut_decoder = ours.replace("\"decoder\": null", "\"decoder\": {\"type\": ");
    let mut precompiled: serde_json::Value = serde_json::from_str(&ours).unwrap();
    precompiled["normalizer"] =
        serde_json::json!({"type": "Precompiled", "precompiled_charsmap": 5});
    let rows: Vec<(String, String, &[&str])> = vec![
        (
            "tokenizer with a number out of range in its decoder (fuzz)".into(),
            tokenizer(&broken_decoder),
            &["not a valid tokenizer.json", "number out of range"],
        ),
        (
            "tokenizer whose decoder is cut short (fuzz)".into(),
            tokenizer(&cut_decoder),
            &["not a valid tokenizer.json"],
        ),
        (
            "tokenizer with a malformed Precompiled normalizer".into(),
            tokenizer(&precompiled.to_string()),
            &["Precompiled", "does not read"],
        ),
        (
            "empty model file".into(),
            model(b""),
            &[
                "not an rlhf-lab model file",
                "model.bin that train-rm --out wrote",
            ],
        ),
        (
            "a JSONL file given as a model".into(),
            model(GOOD.as_bytes()),
            &["not an rlhf-lab model file"],
        ),
        (
            "model file cut in its header".into(),
            model(&header_cut),
            &["truncated", "header", "download it again"],
        ),
        (
            "model header of the wrong shape".into(),
            model(&bad_header),
            &["header is unreadable", "save the model again"],
        ),
        (
            "model file of a newer format".into(),
            model(&future),
            &["format version", "retrain with this build"],
        ),
        (
            "tokenizer file that is not JSON".into(),
            tokenizer("vocab: x"),
            &["tokenizer"],
        ),
        (
            "tokenizer JSON of the wrong shape".into(),
            tokenizer("{\"model\": 3}"),
            &["tokenizer"],
        ),
    ];
    check(&rows);
}

#[test]
fn absurd_configs_and_url_state_are_refused_by_name() {
    let rm = |edit: &dyn Fn(&mut Run<RmTrainConfig>)| {
        let mut run = Run::<RmTrainConfig>::default();
        edit(&mut run);
        match run.validate() {
            Ok(()) => "accepted (expected an error)".to_owned(),
            Err(error) => error,
        }
    };
    let strength_one_model = {
        let mut run = Run::<StrengthConfig>::default();
        run.experiment.models = 1;
        run.validate()
            .err()
            .unwrap_or_else(|| "accepted (expected an error)".into())
    };
    let billion_pairs = {
        let mut run = Run::<RmTrainConfig>::default();
        if let DataSource::Synthetic(s) = &mut run.data.source {
            s.pairs = 1_000_000_000;
        }
        run.validate()
            .err()
            .unwrap_or_else(|| "accepted (expected an error)".into())
    };
    let data_error = |data: DataConfig| match prepare(&data, 64, 0, None) {
        Ok(_) => "prepared (expected an error)".to_owned(),
        Err(error) => error.to_string(),
    };
    let dir = std::env::temp_dir().join(format!("rlhf_lab_bad_input_{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("pairs.jsonl");
    std::fs::write(&file, GOOD.repeat(4)).unwrap();
    let on_file = |edit: &dyn Fn(&mut DataConfig)| {
        let mut data = DataConfig {
            source: DataSource::Jsonl {
                path: file.display().to_string(),
            },
            ..DataConfig::default()
        };
        edit(&mut data);
        match data.validate() {
            Err(error) => error,
            Ok(()) => data_error(data),
        }
    };
    let rows: Vec<(String, String, &[&str])> = vec![
        (
            "config that is not JSON (also ?config= in the URL)".into(),
            config("{\"seed\": "),
            &["not JSON"],
        ),
        (
            "config field of the wrong type".into(),
            config("{\"seed\": \"three\"}"),
            &["seed", "invalid type"],
        ),
        (
            "config field nothing reads".into(),
            config("{\"sede\": 3}"),
            &["unknown field", "sede"],
        ),
        (
            "unknown --format in a config".into(),
            config("{\"data\": {\"format\": \"alpaca\"}}"),
            &["data.format", "unknown variant"],
        ),
        (
            "0 layers".into(),
            rm(&|r| r.experiment.model.layers = 0),
            &["layers"],
        ),
        (
            "lr = NaN".into(),
            rm(&|r| r.experiment.optimizer.lr = f64::NAN),
            &["optimizer.lr = NaN", "positive"],
        ),
        (
            "M = 1 ensemble member".into(),
            strength_one_model,
            &["models", "2"],
        ),
        (
            "a 10⁹-pair synthetic world".into(),
            billion_pairs,
            &["synthetic pairs = 1000000000", "at most 1000000"],
        ),
        (
            "truth rule that is not a comparison".into(),
            on_file(&|d| d.truth_field = Some("label=1".into())),
            &["data.truth_field", "use one of"],
        ),
        (
            "truth field missing from the records".into(),
            on_file(&|d| d.truth_field = Some("GPT4 label==0".into())),
            &["--truth-field", "'GPT4 label' is missing"],
        ),
        (
            "margin field missing".into(),
            on_file(&|d| d.margin_field = Some("margin".into())),
            &["--margin-field", "index 0", "'margin' is missing"],
        ),
        (
            "negative min score gap".into(),
            on_file(&|d| d.min_score_gap = -1.0),
            &["data.min_score_gap = -1", "≥ 0"],
        ),
        (
            "data file that does not exist".into(),
            data_error(DataConfig {
                source: DataSource::Jsonl {
                    path: "/nonexistent/x.jsonl".into(),
                },
                ..DataConfig::default()
            }),
            &["cannot read /nonexistent/x.jsonl", "check the path"],
        ),
    ];
    let _ = std::fs::remove_dir_all(&dir);
    check(&rows);
}
