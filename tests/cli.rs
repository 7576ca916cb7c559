//! The `rlhf-lab` binary: train-rm (JSON events, report), bench, and its error paths.
use std::path::PathBuf;
use std::process::{Command, Output};

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_rlhf-lab"))
}

fn temp_dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("rlhf-lab-cli-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn small_config(dir: &std::path::Path) -> PathBuf {
    let p = dir.join("small.json");
    std::fs::write(
        &p,
        r#"{"model": {"d_model": 32, "layers": 1, "heads": 2, "ffn": 64, "max_len": 24},
            "batch_size": 16, "eval_every": 10}"#,
    )
    .unwrap();
    p
}

fn text(o: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&o.stdout).into(),
        String::from_utf8_lossy(&o.stderr).into(),
    )
}

#[test]
fn train_rm_prints_json_events_and_writes_the_report() {
    let dir = temp_dir("json");
    let out = bin()
        .args([
            "train-rm",
            "--data",
            "synthetic",
            "--pairs",
            "400",
            "--flip-rate",
            "0.1",
        ])
        .args(["--steps", "20", "--backend", "cpu", "--seed", "5", "--json"])
        .arg("--config")
        .arg(small_config(&dir))
        .arg("--out")
        .arg(dir.join("run"))
        .output()
        .unwrap();
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stderr}");
    let events: Vec<serde_json::Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON: {l}: {e}")))
        .collect();
    let kinds: Vec<&str> = events
        .iter()
        .map(|e| e["event"].as_str().unwrap())
        .collect();
    assert_eq!(kinds.first(), Some(&"started"));
    assert_eq!(kinds.last(), Some(&"done"));
    assert_eq!(kinds.iter().filter(|k| **k == "rm_step").count(), 20);
    assert_eq!(kinds.iter().filter(|k| **k == "rm_eval").count(), 2);
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("run/report.json")).unwrap())
            .unwrap();
    for key in [
        "config",
        "train_accuracy",
        "validation_accuracy",
        "baseline_accuracy",
        "wall_time_s",
        "train_pairs_per_s",
        "backend",
    ] {
        assert!(!report[key].is_null(), "report lacks {key}: {report}");
    }
    assert_eq!(report["backend"], "flex");
    assert_eq!(report["config"]["seed"], 5);
    assert_eq!(report["config"]["data"]["source"]["flip_rate"], 0.1);
    assert_eq!(report["config"]["data"]["source"]["pairs"], 400);
    assert_eq!(report["validation_target"], "gold");
    let tokenizer =
        rlhf_lab::data::tokenizer::TextTokenizer::load(&dir.join("run/tokenizer.json")).unwrap();
    assert_eq!(tokenizer.encode("kind clear").unwrap().len(), 2);
    // The saved config reproduces the run when fed back.
    let cfg = dir.join("again.json");
    std::fs::write(&cfg, report["config"].to_string()).unwrap();
    let again = bin()
        .args(["train-rm", "--json"])
        .arg("--config")
        .arg(&cfg)
        .output()
        .unwrap();
    assert!(again.status.success(), "{}", text(&again).1);
    let last = |s: &str| s.lines().last().map(str::to_owned);
    assert_eq!(
        last(&text(&again).0).map(|l| l.contains("\"done\"")),
        Some(true)
    );
    let losses = |s: &str| -> Vec<String> {
        s.lines()
            .filter(|l| l.contains("rm_step"))
            .map(str::to_owned)
            .collect()
    };
    assert_eq!(
        losses(&stdout),
        losses(&text(&again).0),
        "same config, same run"
    );
}

#[test]
fn missing_data_file_is_a_clear_error() {
    let out = bin()
        .args([
            "train-rm",
            "--data",
            "/no/such/pairs.jsonl",
            "--backend",
            "cpu",
        ])
        .output()
        .unwrap();
    let (_, stderr) = text(&out);
    assert!(!out.status.success());
    assert!(stderr.contains("/no/such/pairs.jsonl"), "{stderr}");
    assert!(
        stderr.contains("hh-sample"),
        "the hint names the built-in sources: {stderr}"
    );
}

#[test]
fn malformed_jsonl_names_file_and_line_and_skip_flag_counts() {
    let dir = temp_dir("bad");
    let p = dir.join("pairs.jsonl");
    let mut lines = String::new();
    for i in 0..30 {
        lines.push_str(&format!(
            "{{\"prompt\": \"q{i}\", \"chosen\": \"good answer {i}\", \"rejected\": \"bad {i}\"}}\n"
        ));
    }
    lines.push_str("{\"prompt\": \"x\", \"chosen\": 3}\n");
    std::fs::write(&p, &lines).unwrap();
    let out = bin()
        .args(["train-rm", "--backend", "cpu", "--data"])
        .arg(&p)
        .output()
        .unwrap();
    let (_, stderr) = text(&out);
    assert!(!out.status.success());
    assert!(stderr.contains("pairs.jsonl line 31"), "{stderr}");
    let out = bin()
        .args([
            "train-rm",
            "--backend",
            "cpu",
            "--steps",
            "2",
            "--skip-bad-lines",
            "--vocab-free",
        ])
        .output()
        .unwrap();
    assert!(!out.status.success(), "unknown flags are rejected");
    let out = bin()
        .args([
            "train-rm",
            "--backend",
            "cpu",
            "--steps",
            "2",
            "--skip-bad-lines",
            "--json",
            "--data",
        ])
        .arg(&p)
        .output()
        .unwrap();
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stderr}");
    assert!(
        stdout
            .lines()
            .next()
            .unwrap()
            .contains("\"skipped_lines\":1"),
        "{stdout}"
    );
}

#[test]
fn synthetic_flags_on_real_data_and_bad_config_are_errors() {
    let out = bin()
        .args(["train-rm", "--data", "hh-sample", "--pairs", "10"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(
        text(&out).1.contains("--data synthetic only"),
        "{}",
        text(&out).1
    );
    let dir = temp_dir("cfg");
    let p = dir.join("bad.json");
    std::fs::write(&p, "{\"steps\": \"many\"}").unwrap();
    let out = bin()
        .args(["train-rm"])
        .arg("--config")
        .arg(&p)
        .output()
        .unwrap();
    let stderr = text(&out).1;
    assert!(!out.status.success());
    assert!(
        stderr.contains("bad.json") && stderr.contains("line 1"),
        "{stderr}"
    );
    let out = bin()
        .args(["train-rm", "--data", "synthetic", "--flip-rate", "2"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(text(&out).1.contains("flip_rate"), "{}", text(&out).1);
}

#[test]
fn bench_rm_prints_the_figures() {
    let out = bin()
        .args(["bench", "rm", "--backend", "cpu", "--steps", "1"])
        .output()
        .unwrap();
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stderr}");
    let v: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    for key in [
        "train_pairs_per_s",
        "score_pairs_per_s",
        "params",
        "backend",
    ] {
        assert!(!v[key].is_null(), "{key} missing: {v}");
    }
    assert!(v["train_pairs_per_s"].as_f64().unwrap() > 0.0);
    // vocab 4096·128 + positions 128·128 + 4 blocks + final norm + head.
    assert!(v["params"].as_u64().unwrap() > 1_000_000, "{v}");
}

#[test]
fn train_rm_takes_a_contrastive_loss_and_reports_feature_separation() {
    let dir = temp_dir("contrastive");
    let out = bin()
        .args([
            "train-rm",
            "--data",
            "synthetic",
            "--pairs",
            "300",
            "--arch",
            "bow-text",
        ])
        .args(["--contrastive", "swav", "--prototypes", "8", "--steps", "6"])
        .args(["--backend", "cpu", "--out"])
        .arg(dir.join("run"))
        .output()
        .unwrap();
    let (_, stderr) = text(&out);
    assert!(out.status.success(), "{stderr}");
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("run/report.json")).unwrap())
            .unwrap();
    let c = &report["config"]["contrastive"];
    assert_eq!(c["method"], "swav");
    assert_eq!(c["prototypes"], 8);
    assert_eq!(c["beta"], 0.1, "the paper's SwAV β");
    assert_eq!(
        report["config"]["model"]["dropout"], 0.05,
        "a model without dropout gets the paper's 0.05 for its views"
    );
    let sep = report["feature_separation_auroc"]
        .as_f64()
        .expect("separation");
    assert!((0.0..=1.0).contains(&sep));

    let steps = report["validation_curve"].as_array().map_or(0, Vec::len);
    assert!(steps > 0);

    for (args, message) in [
        (
            &["--contrastive", "moco"][..],
            "unknown contrastive method 'moco'",
        ),
        (&["--beta", "0.5"][..], "need --contrastive"),
        (
            &["--contrastive", "simcse", "--prototypes", "9"][..],
            "swav and swav-diff only",
        ),
        (
            &["--contrastive", "swav", "--instances", "difference"][..],
            "simcse only",
        ),
        (
            &["--contrastive", "swav", "--prototypes", "0"][..],
            "prototypes",
        ),
        (&["--contrastive", "simcse", "--tau", "0"][..], "tau"),
        (
            &["--contrastive", "simcse", "--dropout", "0"][..],
            "dropout",
        ),
    ] {
        let out = bin()
            .args(["train-rm", "--data", "synthetic", "--steps", "1"])
            .args(args)
            .output()
            .unwrap();
        assert!(!out.status.success(), "{args:?} must fail");
        let stderr = text(&out).1;
        assert!(stderr.contains(message), "{args:?}: {stderr}");
    }
    // β = 0 is the baseline: no dropout is added to a model that has none.
    let out = bin()
        .args([
            "train-rm",
            "--data",
            "synthetic",
            "--pairs",
            "200",
            "--arch",
            "bow-text",
        ])
        .args([
            "--contrastive",
            "simcse",
            "--beta",
            "0",
            "--steps",
            "2",
            "--backend",
            "cpu",
        ])
        .arg("--out")
        .arg(dir.join("beta0"))
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out).1);
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("beta0/report.json")).unwrap())
            .unwrap();
    assert_eq!(report["config"]["model"]["dropout"], 0.0);
}
