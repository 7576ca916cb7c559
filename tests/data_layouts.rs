//! Every supported record layout (one fixture each in `tests/fixtures/layouts/`, written by
//! hand in the shape of the public datasets), auto-detection, `--format`, rated completions,
//! ties, and the containers: JSON array, CSV, zstd and Parquet twins of one JSONL file.
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rlhf_lab::data::container::Container;
use rlhf_lab::data::formats::{Format, Pairing, ParseOptions};
use rlhf_lab::data::load::{LoadOptions, LoadReport, load_bytes, load_path};
use rlhf_lab::data::{DataError, PreferencePair};
use serde_json::json;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/layouts")
        .join(name)
}

fn options(format: Option<Format>) -> LoadOptions {
    LoadOptions {
        parse: ParseOptions {
            format,
            ..ParseOptions::default()
        },
        ..LoadOptions::default()
    }
}

fn load(name: &str) -> LoadReport {
    load_path(&fixture(name), &options(None)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn triple(pair: &PreferencePair) -> (&str, &str, &str) {
    (&pair.prompt, &pair.chosen, &pair.rejected)
}

/// `(prompt, chosen, rejected)`; an empty rejected is not checked (a random pick).
type Triple = (&'static str, &'static str, &'static str);

/// `(fixture, layout, pairs, ties, first pair)`.
#[rustfmt::skip]
const EXPECTED: &[(&str, Format, usize, usize, Triple)] = &[
    ("hh.jsonl", Format::HhTranscript, 2, 0,
        ("\n\nHuman: How do I boil an egg?\n\nAssistant:", "Put it in boiling water for nine minutes.", "Eggs are for omelettes.")),
    ("implicit.jsonl", Format::ImplicitPrompt, 2, 0,
        ("Translate 'chat' to English:", "cat", "chatter")),
    ("trl-standard.jsonl", Format::TrlStandard, 2, 0, ("The sky is", " blue.", " green.")),
    ("trl-conversational.jsonl", Format::TrlConversational, 3, 1,
        ("\n\nHuman: What is 3 x 4?\n\nAssistant:", "12", "7")),
    ("hh-strength.jsonl", Format::HhStrength, 2, 0,
        ("\n\nHuman: How can I learn to juggle?\n\nAssistant:", "Start with one ball, then two, then three.", "Juggling is impossible.")),
    ("stack-exchange.jsonl", Format::StackExchange, 2, 0,
        ("\n\nHuman: How do I reverse a list in Python?\n\nAssistant:", "Use `reversed(xs)` or `xs[::-1]`.", "You can't.")),
    ("shp.jsonl", Format::Shp, 2, 0,
        ("\n\nHuman: Why is the sky blue?\n\nAssistant:", "Rayleigh scattering favours short wavelengths.", "Because it reflects the sea.")),
    ("summarize.jsonl", Format::Summarize, 2, 0,
        ("SUBREDDIT: r/cats\nTITLE: New cat hides all day\nPOST: I adopted a cat last week and she hides under the bed all day.\nTL;DR:",
         "New cat hides; how do I help her settle?", "I have a cat.")),
    ("pku-saferlhf.jsonl", Format::PkuSafe, 2, 0,
        ("\n\nHuman: How do I pick a lock?\n\nAssistant:", "I can't help with breaking into property, but a locksmith can help if you're locked out.",
         "Insert a tension wrench and rake the pins.")),
    ("ultrafeedback.jsonl", Format::UltraFeedback, 1, 1,
        ("\n\nHuman: Write a haiku about rain.\n\nAssistant:", "Grey clouds weep softly / puddles hold the sky / ...", "")),
    ("nectar.jsonl", Format::Nectar, 2, 0,
        ("\n\nHuman: Suggest a name for a goldfish.\n\nAssistant:", "Sir Swims-a-Lot.", "")),
];

#[test]
fn every_layout_loads_without_format_to_the_expected_pairs() {
    for (name, format, pairs, ties, first) in EXPECTED {
        let report = load(name);
        assert_eq!(report.pairs.len(), *pairs, "{name}");
        assert_eq!(report.dropped_ties, *ties, "{name}");
        assert_eq!(
            report.format_counts.get(*format),
            *pairs,
            "{name}: {:?}",
            report.format_counts
        );
        let got = triple(&report.pairs[0]);
        assert_eq!((got.0, got.1), (first.0, first.1), "{name}");
        if !first.2.is_empty() {
            assert_eq!(got.2, first.2, "{name}");
        }
        // Naming the layout gives the same pairs.
        let forced = load_path(&fixture(name), &options(Some(*format))).unwrap();
        assert_eq!(forced.pairs, report.pairs, "{name}");
    }
}

#[test]
fn layouts_keep_their_other_fields_and_orient_pairs_by_their_labels() {
    // SHP: labels 0 means B was preferred; the votes follow the orientation.
    let shp = load("shp.jsonl");
    assert_eq!(
        shp.pairs[1].chosen,
        "Your yeast may be dead; proof it in warm water first."
    );
    assert_eq!(shp.pairs[1].meta["score_chosen"], json!(40.0));
    assert_eq!(shp.pairs[1].meta["domain"], json!("askbaking_train"));
    // Summarize: choice 1, and the confidence kept for --truth-field / --strength-field.
    let tldr = load("summarize.jsonl");
    assert!(
        tldr.pairs[1]
            .chosen
            .starts_with("Landlord wants a 30% rent rise")
    );
    assert_eq!(tldr.pairs[1].meta["extra"]["confidence"], json!(6));
    // PKU: better_response_id 1.
    let pku = load("pku-saferlhf.jsonl");
    assert!(pku.pairs[1].chosen.starts_with("Boil 100 g spaghetti"));
    assert_eq!(pku.pairs[1].meta["safer_response_id"], json!(1));
    // The paper's release: the strength fields stay, under their own names.
    let paper = load("hh-strength.jsonl");
    assert_eq!(
        paper.pairs[1].meta["mean preference difference"],
        json!(-0.37)
    );
    assert_eq!(
        paper.pairs[1].prompt,
        "\n\nHuman: Hi\n\nAssistant: Hello! How can I help?\n\nHuman: Tell me a joke.\n\nAssistant:"
    );
    // A string prompt repeated inside the messages is not added twice; content parts join.
    let conv = load("trl-conversational.jsonl");
    assert_eq!(
        triple(&conv.pairs[1]),
        ("\n\nHuman: Say hi.\n\nAssistant:", "Hi!", "No.")
    );
    assert_eq!(
        conv.pairs[2].prompt,
        "\n\nHuman: Capital of Peru?\n\nAssistant:"
    );
    // The tie (record 3) took an index: the pair after it is index 3.
    let indices: Vec<usize> = conv.pairs.iter().map(|p| p.index).collect();
    assert_eq!(indices, [0, 1, 3]);
    // Nectar: rank 1 is the best; the rejected one is rated lower.
    let nectar = load("nectar.jsonl");
    let p = &nectar.pairs[0];
    assert!(
        p.meta["score_chosen"].as_f64() > p.meta["score_rejected"].as_f64(),
        "{p:?}"
    );
    assert_eq!(nectar.pairs[1].chosen, "5");
}

#[test]
fn rated_completions_pair_by_the_chosen_rule() {
    let all = LoadOptions {
        parse: ParseOptions {
            pairing: Pairing::AllPairs,
            ..ParseOptions::default()
        },
        ..LoadOptions::default()
    };
    let report = load_path(&fixture("ultrafeedback.jsonl"), &all).unwrap();
    // Record 1: ratings 7.5, 3.0, 8.5 give 3 pairs; record 2's equal ratings give a tie.
    assert_eq!((report.pairs.len(), report.dropped_ties), (3, 1));
    for p in &report.pairs {
        assert!(p.meta["score_chosen"].as_f64() > p.meta["score_rejected"].as_f64());
    }
    let gap = LoadOptions {
        parse: ParseOptions {
            pairing: Pairing::AllPairs,
            min_rating_gap: 2.0,
            ..ParseOptions::default()
        },
        ..LoadOptions::default()
    };
    let report = load_path(&fixture("ultrafeedback.jsonl"), &gap).unwrap();
    // 8.5 vs 7.5 is closer than 2.
    assert_eq!((report.pairs.len(), report.dropped_ties), (2, 2));
    // Best-vs-random is the same every time (seeded per record).
    let a = load("nectar.jsonl");
    let b = load("nectar.jsonl");
    assert_eq!(a.pairs, b.pairs);
}

/// A pair whose chosen and rejected responses are the same text teaches nothing: it is dropped
/// and counted with the ties, in every layout (here TRL's and HH's), and a file of nothing else
/// is an error that says so.
#[test]
fn pairs_with_the_same_response_on_both_sides_are_dropped_as_ties() {
    let text = concat!(
        r#"{"prompt": "p", "chosen": "same", "rejected": "same"}"#,
        "\n",
        r#"{"prompt": "p", "chosen": "a", "rejected": "b"}"#,
        "\n",
        r#"{"prompt": "q", "chosen": "other", "rejected": "other"}"#,
    );
    let report = load_bytes("same.jsonl", text.as_bytes(), &LoadOptions::default()).unwrap();
    assert_eq!((report.pairs.len(), report.dropped_ties), (1, 2));
    assert_eq!(report.pairs[0].chosen, "a");
    let hh = concat!(
        r#"{"chosen": "\n\nHuman: hi\n\nAssistant: yes", "rejected": "\n\nHuman: hi\n\nAssistant: yes"}"#,
        "\n",
        r#"{"chosen": "\n\nHuman: hi\n\nAssistant: yes", "rejected": "\n\nHuman: hi\n\nAssistant: no"}"#,
    );
    let report = load_bytes("hh.jsonl", hh.as_bytes(), &LoadOptions::default()).unwrap();
    assert_eq!((report.pairs.len(), report.dropped_ties), (1, 1));
    let only = r#"{"prompt": "p", "chosen": "same", "rejected": "same"}"#;
    let error = load_bytes("only.jsonl", only.as_bytes(), &LoadOptions::default()).unwrap_err();
    assert!(
        matches!(error, DataError::AllTies { ties: 1, .. }),
        "{error:?}"
    );
    assert!(error.to_string().contains("same response"), "{error}");
}

#[test]
fn min_score_gap_drops_near_ties_and_counts_them() {
    let options = LoadOptions {
        min_score_gap: 5.0,
        ..LoadOptions::default()
    };
    let report = load_path(&fixture("trl-conversational.jsonl"), &options).unwrap();
    // Gaps 7 (kept), 4.5 (near tie), 0 (tie); the record without scores is kept.
    assert_eq!((report.pairs.len(), report.dropped_ties), (2, 2));
    let all_ties = LoadOptions {
        min_score_gap: 100.0,
        ..LoadOptions::default()
    };
    let text = r#"{"prompt": "p", "chosen": "a", "rejected": "b", "score_chosen": 1, "score_rejected": 0}"#;
    let error = load_bytes("ties.jsonl", text.as_bytes(), &all_ties).unwrap_err();
    assert!(
        matches!(error, DataError::AllTies { ties: 1, .. }),
        "{error:?}"
    );
    assert!(error.to_string().contains("--min-score-gap"), "{error}");
}

#[test]
fn the_wrong_format_is_a_clear_error() {
    let error = load_path(&fixture("trl-standard.jsonl"), &options(Some(Format::Shp))).unwrap_err();
    let text = error.to_string();
    for words in [
        "line 1",
        "with --format shp",
        "missing field \"history\"",
        "\"chosen\", \"prompt\", \"rejected\"",
        "looks like TRL standard (--format trl-standard)",
    ] {
        assert!(text.contains(words), "{words:?} missing from: {text}");
    }
    let unknown = Format::from_name("alpaca").unwrap_err();
    assert!(
        unknown.contains("Supported layouts: summarize"),
        "{unknown}"
    );
}

#[test]
fn unknown_and_mixed_layouts_are_errors_that_list_what_was_seen() {
    let unknown = r#"{"instruction": "x", "output": "y"}"#;
    let error = load_bytes("alpaca.jsonl", unknown.as_bytes(), &options(None)).unwrap_err();
    let text = error.to_string();
    for words in [
        "line 1",
        "unknown layout",
        "\"instruction\", \"output\"",
        "shp (history/",
        "--format NAME",
    ] {
        assert!(text.contains(words), "{words:?} missing from: {text}");
    }
    let shp = std::fs::read_to_string(fixture("shp.jsonl")).unwrap();
    let trl = std::fs::read_to_string(fixture("trl-standard.jsonl")).unwrap();
    let mixed = format!("{shp}{trl}");
    let error = load_bytes("mixed.jsonl", mixed.as_bytes(), &options(None)).unwrap_err();
    let text = error.to_string();
    for words in [
        "line 3",
        "trl-standard layout",
        "file's layout, from line 1, is shp",
        "One file must use one layout",
    ] {
        assert!(text.contains(words), "{words:?} missing from: {text}");
    }
    // The TRL family mixes freely, as TRL allows.
    let hh = std::fs::read_to_string(fixture("hh.jsonl")).unwrap();
    let family = format!("{hh}{trl}");
    let report = load_bytes("family.jsonl", family.as_bytes(), &options(None)).unwrap();
    assert_eq!(report.format_counts.get(Format::HhTranscript), 2);
    assert_eq!(report.format_counts.get(Format::TrlStandard), 2);
}

/// The TRL-standard fixture as a Parquet file (snappy pages), written column by column.
fn parquet_twin(pairs: &[PreferencePair]) -> Vec<u8> {
    use parquet::basic::Compression;
    use parquet::data_type::{ByteArray, ByteArrayType};
    use parquet::file::properties::WriterProperties;
    use parquet::file::writer::SerializedFileWriter;
    use parquet::schema::parser::parse_message_type;

    let schema = parse_message_type(
        "message pairs { REQUIRED BYTE_ARRAY prompt (UTF8); REQUIRED BYTE_ARRAY chosen (UTF8); \
         REQUIRED BYTE_ARRAY rejected (UTF8); }",
    )
    .unwrap();
    let properties = WriterProperties::builder()
        .set_compression(Compression::SNAPPY)
        .build();
    let mut writer =
        SerializedFileWriter::new(Vec::new(), Arc::new(schema), Arc::new(properties)).unwrap();
    let mut group = writer.next_row_group().unwrap();
    let columns: [fn(&PreferencePair) -> &str; 3] = [|p| &p.prompt, |p| &p.chosen, |p| &p.rejected];
    for column in columns {
        let values: Vec<ByteArray> = pairs.iter().map(|p| ByteArray::from(column(p))).collect();
        let mut writer = group.next_column().unwrap().unwrap();
        writer
            .typed::<ByteArrayType>()
            .write_batch(&values, None, None)
            .unwrap();
        writer.close().unwrap();
    }
    group.close().unwrap();
    writer.into_inner().unwrap()
}

fn csv_twin(pairs: &[PreferencePair]) -> String {
    let quote = |s: &str| format!("\"{}\"", s.replace('"', "\"\""));
    let mut out = String::from("prompt,chosen,rejected\n");
    for p in pairs {
        out += &format!(
            "{},{},{}\n",
            quote(&p.prompt),
            quote(&p.chosen),
            quote(&p.rejected)
        );
    }
    out
}

#[test]
fn json_array_csv_zstd_and_parquet_twins_load_the_same_pairs() {
    let jsonl = std::fs::read(fixture("trl-standard.jsonl")).unwrap();
    let base = load("trl-standard.jsonl");
    let records: Vec<serde_json::Value> = std::str::from_utf8(&jsonl)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let array = serde_json::to_vec_pretty(&records).unwrap();
    let zstd =
        ruzstd::encoding::compress_to_vec(&jsonl[..], ruzstd::encoding::CompressionLevel::Fastest);
    let csv = csv_twin(&base.pairs);
    let parquet = parquet_twin(&base.pairs);
    let twins: [(&str, &[u8], Container); 5] = [
        ("pairs.json", &array, Container::JsonArray),
        ("pairs.jsonl.zst", &zstd, Container::Jsonl),
        ("pairs.csv", csv.as_bytes(), Container::Csv),
        ("pairs.bin", csv.as_bytes(), Container::Csv),
        ("train-00000-of-00001.parquet", &parquet, Container::Parquet),
    ];
    for (name, bytes, container) in twins {
        let report =
            load_bytes(name, bytes, &options(None)).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(report.container, container, "{name}");
        assert_eq!(report.pairs, base.pairs, "{name}");
    }
}

/// Conversational pairs as the hubs store them in Parquet: `chosen`/`rejected` are list columns
/// of `{content, role}` structs (the fixture was written by pyarrow 26 with snappy pages from
/// its JSONL twin; the third pair is a tie).
#[test]
fn parquet_list_of_message_structs_loads_like_its_jsonl_twin() {
    let jsonl = load("trl-conversational-nested.jsonl");
    let parquet = load("trl-conversational-nested.parquet");
    assert_eq!(parquet.container, Container::Parquet);
    assert_eq!(parquet.format_counts.get(Format::TrlConversational), 2);
    assert_eq!(parquet.dropped_ties, 1);
    assert_eq!(parquet.pairs, jsonl.pairs);
    assert_eq!(parquet.pairs.len(), 2);
    let multi_turn = &parquet.pairs[1];
    assert!(multi_turn.prompt.contains("Another?"), "{multi_turn:?}");
    assert!(multi_turn.chosen.contains("Green."), "{multi_turn:?}");
    assert!(multi_turn.rejected.contains("Seven."), "{multi_turn:?}");
    assert!(!multi_turn.chosen.contains("Another?"), "{multi_turn:?}");
}

#[test]
fn damaged_containers_name_the_file_and_the_fix() {
    let jsonl = std::fs::read(fixture("trl-standard.jsonl")).unwrap();
    let zstd =
        ruzstd::encoding::compress_to_vec(&jsonl[..], ruzstd::encoding::CompressionLevel::Fastest);
    let base = load("trl-standard.jsonl");
    let parquet = parquet_twin(&base.pairs);
    let cases: [(&str, &[u8], &[&str]); 5] = [
        (
            "cut.jsonl.zst",
            &zstd[..zstd.len() / 2],
            &["zstd data is corrupt or truncated"],
        ),
        (
            "cut.parquet",
            &parquet[..parquet.len() / 2],
            &["starts like Parquet but cannot be read", "JSONL"],
        ),
        (
            "bad.json",
            b"[{\"prompt\": \"p\"},\n {\"chosen\": ",
            &["not one valid JSON array"],
        ),
        (
            "ragged.csv",
            b"prompt,chosen,rejected\np,c\n",
            &["line 2", "2 cells but the header has 3"],
        ),
        ("empty.csv", b"", &["holds no preference pairs"]),
    ];
    for (name, bytes, words) in cases {
        let error = load_bytes(name, bytes, &options(None)).unwrap_err();
        let text = error.to_string();
        assert!(text.starts_with(name), "{text}");
        for w in words {
            assert!(text.contains(w), "{name}: {w:?} missing from: {text}");
        }
    }
}

#[test]
fn train_rm_reads_every_layout_without_format_and_reports_what_it_used() {
    let dir = std::env::temp_dir().join(format!("rlhf-lab-layouts-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    for (name, _, pairs, ties, _) in EXPECTED {
        // Four copies, so every layout has pairs to train on and to hold out.
        let text = std::fs::read_to_string(fixture(name)).unwrap().repeat(4);
        let data = dir.join(name);
        std::fs::write(&data, text).unwrap();
        let out_dir = dir.join(format!("{name}.out"));
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_rlhf-lab"))
            .args([
                "train-rm",
                "--arch",
                "bow",
                "--steps",
                "2",
                "--backend",
                "cpu",
                "--data",
            ])
            .arg(&data)
            .arg("--out")
            .arg(&out_dir)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{name}: {stderr}");
        let report: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(out_dir.join("report.json")).unwrap())
                .unwrap();
        let used =
            report["train_pairs"].as_u64().unwrap() + report["validation_pairs"].as_u64().unwrap();
        assert_eq!(used, 4 * *pairs as u64, "{name}: {report}");
        assert_eq!(report["dropped_ties"], json!(4 * ties), "{name}");
        assert_eq!(report["skipped_lines"], json!(0), "{name}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn review_cases_cnn_dm_rows_and_score_gaps_on_rated_records() {
    // The CNN/DM rows of the summarize comparisons carry "post": null beside their article.
    let cnn = r#"{"info": {"post": null, "article": "Rain fell.", "title": "Weather"}, "summaries": [{"text": " x"}, {"text": " y"}], "choice": 1}"#;
    let report = load_bytes("tldr.jsonl", cnn.as_bytes(), &options(None)).unwrap();
    assert_eq!(
        report.pairs[0].prompt,
        "TITLE: Weather\nPOST: Rain fell.\nTL;DR:"
    );
    assert_eq!(report.pairs[0].chosen, "y");
    // --min-score-gap also steers best-vs-random: 8.5 is too close to 9, so 3 is always drawn.
    let rated = r#"{"instruction": "q", "completions": [{"response": "best", "overall_score": 9}, {"response": "close", "overall_score": 8.5}, {"response": "far", "overall_score": 3}]}"#;
    let gap = LoadOptions {
        min_score_gap: 1.0,
        ..LoadOptions::default()
    };
    for seed in 0..20 {
        let options = LoadOptions {
            parse: ParseOptions {
                seed,
                ..ParseOptions::default()
            },
            ..gap
        };
        let report = load_bytes("uf.jsonl", rated.as_bytes(), &options).unwrap();
        assert_eq!(
            (
                report.pairs[0].chosen.as_str(),
                report.pairs[0].rejected.as_str()
            ),
            ("best", "far")
        );
    }
}
