//! `strength`, `export` and `denoise` from the command line: files, formats, round trips and
//! error paths (small sizes; the paper's phenomena are in tests/strength.rs and denoise.rs).
use std::path::PathBuf;
use std::process::Command;

use rlhf_lab::data::load::{LoadOptions, load_path};
use rlhf_lab::experiment::prepare::load_pairs;
use rlhf_lab::experiment::{DataConfig, DataSource};

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_rlhf-lab"))
}

fn temp_dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("rlhf-lab-st-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

const SYN: [&str; 8] = [
    "--data",
    "synthetic",
    "--pairs",
    "300",
    "--flip-rate",
    "0.2",
    "--temperature",
    "0",
];

#[test]
fn strength_csv_round_trips_through_export_and_the_trl_loader() {
    let dir = temp_dir("roundtrip");
    let out = bin()
        .arg("strength")
        .args(SYN)
        .args(["--models", "2", "--epochs", "1", "--backend", "cpu"])
        .arg("--no-band-retrain")
        .arg("--out")
        .arg(dir.join("s"))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let csv = std::fs::read_to_string(dir.join("s/strength.csv")).unwrap();
    let mut lines = csv.lines();
    assert_eq!(lines.next(), Some("index,mu,sigma,band"));
    let rows: Vec<Vec<f64>> = lines
        .map(|l| l.split(',').map(|x| x.parse().unwrap()).collect())
        .collect();
    assert_eq!(rows.len(), 300, "one row per input pair");
    for (i, r) in rows.iter().enumerate() {
        assert_eq!(r[0] as usize, i, "input order");
        assert!(r[2] >= 0.0 && r[1].is_finite(), "{r:?}");
        assert!((0.0..10.0).contains(&r[3]), "band {r:?}");
    }
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("s/report.json")).unwrap()).unwrap();
    for key in [
        "frac_mu_negative",
        "groups",
        "auroc",
        "precision_bottom",
        "recall_bottom",
    ] {
        assert!(!report[key].is_null(), "report.json lacks {key}: {report}");
    }
    assert_eq!(report["groups"].as_array().unwrap().len(), 20);

    // Export with the μ < 0 flip, then load it back as TRL standard data.
    let exported = dir.join("pairs.jsonl");
    let out = bin()
        .arg("export")
        .args(SYN)
        .arg("--strength")
        .arg(dir.join("s"))
        .args(["--format", "trl", "--flip", "negative", "--out"])
        .arg(&exported)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let back = load_path(&exported, &LoadOptions::default()).unwrap();
    let mut cfg = DataConfig::default();
    if let DataSource::Synthetic(s) = &mut cfg.source {
        s.pairs = 300;
        s.flip_rate = 0.2;
        s.temperature = 0.0;
    }
    let (original, _) = load_pairs(&cfg, None).unwrap();
    assert_eq!(back.pairs.len(), 300);
    let mut flipped = 0;
    for ((p, q), r) in original.iter().zip(&back.pairs).zip(&rows) {
        let mu = r[1];
        let margin = q.meta["margin"].as_f64().unwrap();
        if mu < 0.0 {
            flipped += 1;
            assert_eq!((&q.chosen, &q.rejected), (&p.rejected, &p.chosen));
            assert!(
                (margin + mu).abs() < 1e-4,
                "flipped margin is −μ: {margin} vs {mu}"
            );
        } else {
            assert_eq!((&q.chosen, &q.rejected), (&p.chosen, &p.rejected));
            assert!((margin - mu).abs() < 1e-4);
        }
        assert_eq!(q.prompt, p.prompt);
    }
    assert!(flipped > 0, "some pairs have μ < 0 at a 20 % flip rate");
}

#[test]
fn strength_needs_two_models_and_export_needs_matching_data() {
    let out = bin()
        .arg("strength")
        .args(SYN)
        .args(["--models", "1", "--backend", "cpu"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("at least 2 reward models"), "{stderr}");

    let dir = temp_dir("mismatch");
    std::fs::create_dir_all(dir.join("s")).unwrap();
    std::fs::write(
        dir.join("s/strength.csv"),
        "index,mu,sigma,band\n0,1.0,0.1,3\n",
    )
    .unwrap();
    let out = bin()
        .arg("export")
        .args(SYN)
        .arg("--strength")
        .arg(dir.join("s"))
        .arg("--out")
        .arg(dir.join("x.jsonl"))
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("pair 1 has no row"), "{stderr}");
    assert!(!dir.join("x.jsonl").exists(), "nothing half-written");
    // `denoise --strength` matches μ to the pairs the same way.
    let out = bin()
        .arg("denoise")
        .args(SYN)
        .arg("--strength")
        .arg(dir.join("s"))
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("pair 1 has no row"), "{stderr}");

    std::fs::write(
        dir.join("s/strength.csv"),
        "index,mu,sigma,band\n0,abc,0.1,3\n",
    )
    .unwrap();
    let out = bin()
        .arg("export")
        .args(SYN)
        .arg("--strength")
        .arg(dir.join("s"))
        .arg("--out")
        .arg(dir.join("x.jsonl"))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("line 2") && stderr.contains("mu"),
        "{stderr}"
    );
}

#[test]
fn truth_field_is_read_from_records_and_bad_fields_are_named() {
    let dir = temp_dir("truth");
    let mut good = String::new();
    for i in 0..60 {
        let flipped = i % 5 == 0;
        good.push_str(
            &serde_json::json!({
                "prompt": format!("question {i}"),
                "chosen": if flipped { "no" } else { "yes indeed" },
                "rejected": if flipped { "yes indeed" } else { "no" },
                "meta": {"flipped": flipped}
            })
            .to_string(),
        );
        good.push('\n');
    }
    let path = dir.join("pairs.jsonl");
    std::fs::write(&path, &good).unwrap();
    let out = bin()
        .args(["strength", "--data"])
        .arg(&path)
        .args([
            "--truth-field",
            "meta.flipped",
            "--models",
            "2",
            "--epochs",
            "1",
        ])
        .args(["--no-band-retrain", "--backend", "cpu", "--out"])
        .arg(dir.join("s"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("s/report.json")).unwrap()).unwrap();
    assert_eq!(report["truth_source"], "field meta.flipped");
    assert!(report["auroc"].is_number(), "{report}");

    let out = bin()
        .args(["strength", "--data"])
        .arg(&path)
        .args([
            "--truth-field",
            "meta.missing",
            "--models",
            "2",
            "--backend",
            "cpu",
        ])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("index 0") && stderr.contains("meta.missing"),
        "{stderr}"
    );
}

#[test]
fn denoise_writes_a_table_per_method_and_seed() {
    let dir = temp_dir("denoise");
    let out = bin()
        .arg("denoise")
        .args(SYN)
        .args(["--methods", "baseline,flip+margin,oracle", "--seeds", "2"])
        .args([
            "--models",
            "2",
            "--epochs",
            "1",
            "--backend",
            "cpu",
            "--out",
        ])
        .arg(dir.join("d"))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let csv = std::fs::read_to_string(dir.join("d/denoise.csv")).unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines[0], "method,seed,validation_accuracy,train_loss");
    assert_eq!(lines.len(), 1 + 3 * 2);
    assert!(lines.iter().any(|l| l.starts_with("flip+margin,1,")));
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("d/report.json")).unwrap()).unwrap();
    assert_eq!(report["summary"].as_array().unwrap().len(), 3);
    assert_eq!(report["validation_target"], "gold");
    assert!(
        std::fs::read_to_string(dir.join("d/curves.csv"))
            .unwrap()
            .lines()
            .count()
            > 6
    );

    let out = bin()
        .arg("denoise")
        .args(SYN)
        .args(["--methods", "baseline,flipp"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown method 'flipp'"));
}

/// `n` pairs in the paper's release layout whose `mean preference difference` is known: the
/// even ones agree with their labels, every fifth is marked by GPT-4 as mislabeled.
fn paper_release(n: usize) -> String {
    let mut out = String::new();
    for i in 0..n {
        let mu = if i % 5 == 0 {
            -0.5 - i as f64 / 100.0
        } else {
            0.25 + i as f64 / 50.0
        };
        let record = serde_json::json!({
            "chosen": [format!("question {i}?"), format!("a helpful answer number {i}")],
            "rejected": [format!("question {i}?"), format!("no {i}")],
            "mean preference difference": mu,
            "std preference difference": 0.1 + i as f64 / 1000.0,
            "GPT4 label": if i % 5 == 0 { 0 } else { 1 },
        });
        out.push_str(&record.to_string());
        out.push('\n');
    }
    out
}

#[test]
fn a_file_with_its_own_strength_needs_no_ensemble_and_round_trips_through_export() {
    let dir = temp_dir("field-strength");
    let data = dir.join("paper.jsonl");
    std::fs::write(&data, paper_release(30)).unwrap();
    let data_args = [
        "--data",
        data.to_str().unwrap(),
        "--strength-field",
        "mean preference difference",
        "--strength-std-field",
        "std preference difference",
        "--truth-field",
        "GPT4 label==0",
    ];
    let out = bin()
        .arg("strength")
        .args(data_args)
        .args(["--no-band-retrain", "--backend", "cpu", "--out"])
        .arg(dir.join("s"))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(
        stderr.contains("strength from the data's field"),
        "{stderr}"
    );
    assert!(
        !stderr.contains("ensemble 1/"),
        "no member trained: {stderr}"
    );
    let csv = std::fs::read_to_string(dir.join("s/strength.csv")).unwrap();
    let rows: Vec<Vec<f64>> = csv
        .lines()
        .skip(1)
        .map(|l| l.split(',').map(|x| x.parse().unwrap()).collect())
        .collect();
    assert_eq!(rows.len(), 30);
    for (i, r) in rows.iter().enumerate() {
        let mu = if i % 5 == 0 {
            -0.5 - i as f64 / 100.0
        } else {
            0.25 + i as f64 / 50.0
        };
        assert!(
            (r[1] - mu).abs() < 1e-5,
            "row {i}: μ {} vs the file's {mu}",
            r[1]
        );
        assert!(
            (r[2] - (0.1 + i as f64 / 1000.0)).abs() < 1e-5,
            "row {i}: σ"
        );
    }
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("s/report.json")).unwrap()).unwrap();
    assert_eq!(
        report["strength_source"],
        "field mean preference difference"
    );
    // GPT-4's labels mark exactly the pairs with μ < 0: AUROC 1.
    assert_eq!(report["auroc"].as_f64(), Some(1.0), "{report}");

    let exported = dir.join("export.jsonl");
    let out = bin()
        .arg("export")
        .args([
            "--data",
            data.to_str().unwrap(),
            "--input-format",
            "hh-strength",
        ])
        .arg("--strength")
        .arg(dir.join("s"))
        .args(["--format", "trl", "--flip", "negative", "--out"])
        .arg(&exported)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // Back in: the margin column, read as strength, is |μ| in the written orientation.
    let cfg = DataConfig {
        source: DataSource::Jsonl {
            path: exported.display().to_string(),
        },
        strength_field: Some("margin".into()),
        ..DataConfig::default()
    };
    let (back, _) = load_pairs(&cfg, None).unwrap();
    assert_eq!(back.len(), 30);
    for (i, (p, r)) in back.iter().zip(&rows).enumerate() {
        let margin = p.meta["margin"].as_f64().unwrap();
        assert!(
            (margin - r[1].abs()).abs() < 1e-5,
            "pair {i}: {margin} vs μ {}",
            r[1]
        );
        let flipped = p.chosen.starts_with("no ");
        assert_eq!(flipped, i % 5 == 0, "pair {i}: {p:?}");
    }
}

#[test]
fn denoise_runs_on_a_file_with_its_own_strength_without_an_ensemble() {
    let dir = temp_dir("field-denoise");
    let data = dir.join("paper.jsonl");
    std::fs::write(&data, paper_release(40)).unwrap();
    let out = bin()
        .arg("denoise")
        .args(["--data", data.to_str().unwrap()])
        .args(["--strength-field", "mean preference difference"])
        .args([
            "--methods",
            "baseline,flip",
            "--seeds",
            "1",
            "--backend",
            "cpu",
            "--out",
        ])
        .arg(dir.join("d"))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(
        !stderr.contains("member"),
        "no ensemble member trained: {stderr}"
    );
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("d/report.json")).unwrap()).unwrap();
    assert!(report.to_string().contains("flip"), "{report}");
}
