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
    // Lifecycle events by name; reward-model payloads as rm_<what>.
    let kinds: Vec<String> = events
        .iter()
        .map(|e| match e["event"].as_str().unwrap() {
            "rm" => format!("rm_{}", e["rm"].as_str().unwrap()),
            other => other.to_string(),
        })
        .collect();
    let count = |k: &str| kinds.iter().filter(|x| *x == k).count();
    assert_eq!(kinds.first().map(String::as_str), Some("started"));
    assert_eq!(kinds.get(1).map(String::as_str), Some("rm_setup"));
    assert_eq!(kinds.last().map(String::as_str), Some("finished"));
    assert_eq!(count("rm_step"), 20);
    assert_eq!(count("rm_eval"), 2);
    assert_eq!(count("rm_done"), 1);
    assert_eq!(count("progress"), 20);
    let last_progress = events
        .iter()
        .rev()
        .find(|e| e["event"] == "progress")
        .unwrap();
    assert_eq!(
        (
            last_progress["done"].as_u64(),
            last_progress["total"].as_u64()
        ),
        (Some(20), Some(20))
    );
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
        last(&text(&again).0).map(|l| l.contains("\"finished\"")),
        Some(true)
    );
    let losses = |s: &str| -> Vec<String> {
        s.lines()
            .filter(|l| l.contains("\"rm\":\"step\""))
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
    let setup = stdout
        .lines()
        .find(|l| l.contains("\"rm\":\"setup\""))
        .unwrap_or_else(|| panic!("no setup event: {stdout}"));
    assert!(setup.contains("\"skipped_lines\":1"), "{setup}");
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
        stderr.contains("bad.json") && stderr.contains("field steps: invalid type"),
        "{stderr}"
    );
    let out = bin()
        .args(["train-rm", "--data", "synthetic", "--flip-rate", "2"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(text(&out).1.contains("flip_rate"), "{}", text(&out).1);
}

/// `rlhf-lab bench ARGS…` on the CPU backend: its JSON figures (the run must succeed).
fn bench(args: &[&str]) -> serde_json::Value {
    let out = bin()
        .arg("bench")
        .args(args)
        .args(["--backend", "cpu"])
        .output()
        .unwrap();
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stderr}");
    serde_json::from_str(&stdout).unwrap()
}

#[test]
fn bench_rm_prints_the_figures_and_where_it_ran() {
    let v = bench(&["rm", "--steps", "1"]);
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
    assert_eq!(v["backend"], "flex", "{v}");
    let profile = if cfg!(debug_assertions) {
        "debug"
    } else {
        "release"
    };
    assert_eq!(v["profile"], profile, "{v}");
    assert!(v["threads"].as_u64().unwrap() >= 1, "{v}");
    if cfg!(target_os = "linux") {
        // VmHWM: the model alone (1.2 M parameters, AdamW state) is several MiB.
        assert!(v["peak_rss_mib"].as_f64().unwrap() > 5.0, "{v}");
    }
}

#[test]
fn bench_strength_times_the_ensemble_and_the_bands() {
    let v = bench(&["strength", "--models", "2", "--pairs", "200"]);
    assert_eq!(v["members"], 2, "{v}");
    assert_eq!(v["config"]["experiment"]["models"], 2, "{v}");
    assert_eq!(v["config"]["data"]["source"]["pairs"], 200, "{v}");
    let (wall, ensemble, bands) = (
        v["wall_s"].as_f64().unwrap(),
        v["ensemble_s"].as_f64().unwrap(),
        v["bands_s"].as_f64().unwrap(),
    );
    assert!(ensemble > 0.0 && bands > 0.0, "{v}");
    assert!((ensemble + bands - wall).abs() < 1e-9, "{v}");
    // members × steps × batch pairs over the ensemble's time.
    let updates = 2.0 * v["member_steps"].as_f64().unwrap() * v["batch_pairs"].as_f64().unwrap();
    let rate = v["member_pairs_per_s"].as_f64().unwrap();
    assert!((rate * ensemble / updates - 1.0).abs() < 1e-6, "{v}");
    // 200 pairs less the validation split, 5 epochs.
    assert!(v["train_pairs"].as_u64().unwrap() < 200, "{v}");

    let out = bin()
        .args(["bench", "strength", "--backend", "cpu", "--models", "1"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(text(&out).1.contains("at least 2"), "{}", text(&out).1);

    let v = bench(&[
        "strength",
        "--models",
        "2",
        "--pairs",
        "200",
        "--no-band-retrain",
    ]);
    assert_eq!(v["bands_s"].as_f64().unwrap(), 0.0, "{v}");
}

#[test]
fn bench_ppo_splits_the_iteration_into_update_and_rollout() {
    let v = bench(&["ppo", "--policy", "factorised", "--steps", "3"]);
    assert_eq!(v["steps"], 3, "{v}");
    assert_eq!(v["config"]["experiment"]["policy"], "factorised", "{v}");
    // Best-of-n is off so that only PPO is timed.
    assert_eq!(v["config"]["experiment"]["bon_trials"], 0, "{v}");
    let f = |k: &str| v[k].as_f64().unwrap_or_else(|| panic!("{k} missing: {v}"));
    assert!(f("setup_s") > 0.0 && f("ppo_s") > 0.0, "{v}");
    assert!(f("update_seconds_per_step") > 0.0, "{v}");
    let split = f("update_seconds_per_step") + f("rollout_seconds_per_step");
    assert!((split - f("seconds_per_step")).abs() < 1e-9, "{v}");
    assert!(
        (f("seconds_per_step") * 3.0 - f("ppo_s")).abs() < 1e-9,
        "{v}"
    );
    assert!(f("rollout_tokens_per_s") > 0.0, "{v}");
    assert!(v["profile"].is_string(), "{v}");
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
    let c = &report["config"]["experiment"]["contrastive"];
    assert_eq!(c["method"], "swav");
    assert_eq!(c["prototypes"], 8);
    assert_eq!(c["beta"], 0.1, "the paper's SwAV β");
    assert_eq!(
        report["config"]["experiment"]["model"]["dropout"], 0.05,
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
    assert_eq!(report["config"]["experiment"]["model"]["dropout"], 0.0);
}

/// `score --json` summary of a run directory.
fn score_summary(
    model: &std::path::Path,
    backend: &str,
    csv: &std::path::Path,
) -> serde_json::Value {
    let out = bin()
        .arg("score")
        .arg("--model")
        .arg(model)
        .args([
            "--split",
            "validation",
            "--backend",
            backend,
            "--json",
            "--out",
        ])
        .arg(csv)
        .output()
        .unwrap();
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stderr}");
    serde_json::from_str(stdout.trim()).unwrap_or_else(|e| panic!("not JSON: {stdout}: {e}"))
}

#[test]
fn train_rm_saves_a_model_that_score_reproduces_on_cpu_and_wgpu() {
    let dir = temp_dir("score");
    let run = dir.join("run");
    let out = bin()
        .args(["train-rm", "--data", "synthetic", "--pairs", "400"])
        .args(["--steps", "20", "--backend", "cpu", "--seed", "3"])
        .arg("--config")
        .arg(small_config(&dir))
        .arg("--out")
        .arg(&run)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out).1);
    for f in ["model.bin", "config.json", "tokenizer.json", "report.json"] {
        assert!(run.join(f).is_file(), "{f} missing");
    }
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(run.join("report.json")).unwrap()).unwrap();
    let expected = report["validation_accuracy"].as_f64().unwrap();
    let csv = dir.join("scores.csv");
    let summary = score_summary(&run, "cpu", &csv);
    assert_eq!(summary["accuracy"].as_f64().unwrap(), expected, "{summary}");
    assert_eq!(summary["target"], "gold");
    assert_eq!(summary["pairs"], report["validation_pairs"]);
    let table = std::fs::read_to_string(&csv).unwrap();
    let mut lines = table.lines();
    assert_eq!(lines.next(), Some("index,reward_chosen,reward_rejected"));
    let indices: Vec<usize> = lines
        .map(|l| l.split(',').next().unwrap().parse().unwrap())
        .collect();
    assert_eq!(
        indices.len() as u64,
        report["validation_pairs"].as_u64().unwrap()
    );
    assert!(indices.windows(2).all(|w| w[0] < w[1]), "input order");
    // The same file on wgpu (lavapipe here) gives the same accuracy.
    if std::env::var_os("RLHF_LAB_SKIP_WGPU").is_none() {
        let gpu = score_summary(&run.join("model.bin"), "gpu", &dir.join("gpu.csv"));
        assert_eq!(gpu["backend"], "wgpu");
        assert_eq!(gpu["accuracy"].as_f64().unwrap(), expected, "{gpu}");
    }
}

#[test]
fn score_errors_name_the_file_and_the_fix() {
    let dir = temp_dir("score-errors");
    let run_score = |model: &std::path::Path, extra: &[&str]| {
        let out = bin()
            .arg("score")
            .arg("--model")
            .arg(model)
            .args(["--backend", "cpu"])
            .args(extra)
            .output()
            .unwrap();
        assert!(!out.status.success());
        text(&out).1
    };
    let err = run_score(&dir.join("nowhere"), &[]);
    assert!(err.contains("could not read the model file"), "{err}");
    let junk = dir.join("junk.bin");
    std::fs::write(&junk, b"hello, not a model").unwrap();
    let err = run_score(&junk, &[]);
    assert!(
        err.contains("junk.bin") && err.contains("not an rlhf-lab model file"),
        "{err}"
    );
    let mut cut = b"RLHFLAB\0".to_vec();
    cut.extend_from_slice(&1u32.to_le_bytes());
    cut.extend_from_slice(&500u64.to_le_bytes());
    cut.extend_from_slice(b"{\"kind\"");
    let truncated = dir.join("cut.bin");
    std::fs::write(&truncated, &cut).unwrap();
    let err = run_score(&truncated, &[]);
    assert!(err.contains("truncated") && err.contains("header"), "{err}");
    let err = run_score(&junk, &["--split", "test"]);
    assert!(err.contains("--split test"), "{err}");
}

#[test]
fn ppo_writes_the_report_keys_curves_and_the_policy_and_bon_writes_its_curve() {
    let dir = temp_dir("ppo");
    let out = bin()
        .args([
            "ppo",
            "--world",
            "synthetic",
            "--policy",
            "factorised",
            "--preset",
            "vanilla",
            "--rm-pairs",
            "400",
            "--steps",
            "12",
            "--rollouts",
            "32",
            "--seed",
            "3",
            "--world-seed",
            "4",
            "--backend",
            "cpu",
            "--json",
            "--out",
        ])
        .arg(&dir)
        .output()
        .unwrap();
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stderr}");
    assert!(
        stdout.lines().any(|l| l.contains(r#""ppo":"step""#)),
        "JSON step events"
    );
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("report.json")).unwrap()).unwrap();
    for key in [
        "gold_initial",
        "gold_peak",
        "gold_peak_step",
        "gold_final",
        "proxy_initial",
        "proxy_final",
        "kl_final",
        "collapse_steps",
        "steps",
        "wall_time_s",
        "backend",
        "config",
    ] {
        assert!(!report[key].is_null(), "report.json has {key}");
    }
    assert_eq!(report["steps"], 12);
    assert_eq!(report["config"]["seed"], 3);
    assert_eq!(report["config"]["data"]["source"]["seed"], 4);
    assert_eq!(report["config"]["experiment"]["kind"], "ppo");
    assert_eq!(
        report["config"]["experiment"]["kl_coef"], 0.0,
        "the vanilla preset"
    );
    let curves = std::fs::read_to_string(dir.join("curves.csv")).unwrap();
    let lines: Vec<&str> = curves.lines().collect();
    assert_eq!(lines.len(), 13, "a header and one row per step");
    assert!(lines[0].starts_with("step,proxy,gold,kl,sqrt_kl"));
    assert!(dir.join("policy.json").is_file() && dir.join("critic.json").is_file());
    // The saved report's config runs again through --config.
    let cfg = dir.join("again.json");
    std::fs::write(&cfg, report["config"].to_string()).unwrap();
    let again = bin()
        .args(["ppo", "--backend", "cpu", "--config"])
        .arg(&cfg)
        .args(["--out"])
        .arg(dir.join("again"))
        .output()
        .unwrap();
    assert!(again.status.success(), "{}", text(&again).1);
    let a: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(dir.join("again").join("report.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(
        a["gold_final"], report["gold_final"],
        "same config, same run"
    );
    // Best-of-n on a saved count-feature reward model of the same world.
    let rm = dir.join("rm");
    let trained = bin()
        .args([
            "train-rm",
            "--data",
            "synthetic",
            "--pairs",
            "400",
            "--arch",
            "counts",
            "--epochs",
            "2",
            "--backend",
            "cpu",
            "--out",
        ])
        .arg(&rm)
        .output()
        .unwrap();
    assert!(trained.status.success(), "{}", text(&trained).1);
    let bon = bin()
        .args([
            "bon",
            "--world",
            "synthetic",
            "--n",
            "1,2,4",
            "--trials",
            "3",
            "--backend",
            "cpu",
            "--rm",
        ])
        .arg(&rm)
        .arg("--out")
        .arg(dir.join("bon"))
        .output()
        .unwrap();
    assert!(bon.status.success(), "{}", text(&bon).1);
    let csv = std::fs::read_to_string(dir.join("bon").join("bon.csv")).unwrap();
    let rows: Vec<&str> = csv.lines().collect();
    assert_eq!(rows[0], "n,kl,proxy,gold");
    assert_eq!(rows.len(), 4);
    assert!(rows[1].starts_with("1,0,"), "n = 1 has KL 0: {}", rows[1]);
    // The same saved model as PPO's proxy: no proxy is trained.
    let with_rm = bin()
        .args([
            "ppo",
            "--steps",
            "3",
            "--rollouts",
            "16",
            "--backend",
            "cpu",
            "--json",
            "--rm",
        ])
        .arg(&rm)
        .output()
        .unwrap();
    assert!(with_rm.status.success(), "{}", text(&with_rm).1);
    let events = text(&with_rm).0;
    assert!(!events.contains(r#""event":"job""#), "no proxy stage");
    assert_eq!(events.matches(r#""ppo":"step""#).count(), 3);
    let bad = bin()
        .args(["bon", "--n", "0,2", "--rm"])
        .arg(&rm)
        .arg("--out")
        .arg(dir.join("bad"))
        .output()
        .unwrap();
    assert!(!bad.status.success() && text(&bad).1.contains("--n 0"));
}

/// Every command that writes checks its `--out` before it loads or trains anything, so a long
/// run never ends on "could not write": a folder under a plain file cannot be made, and the
/// error names the option and the path.
#[test]
fn every_command_refuses_an_out_it_cannot_write_before_it_runs() {
    let dir = temp_dir("unwritable");
    let file = dir.join("a-file");
    std::fs::write(&file, "").unwrap();
    let under_file = file.join("out");
    let nowhere = dir.join("no-such-run");
    let nowhere = nowhere.to_str().unwrap();
    let cases: Vec<Vec<&str>> = vec![
        vec!["train-rm", "--data", "synthetic", "--backend", "cpu"],
        vec!["denoise", "--backend", "cpu"],
        vec!["strength", "--backend", "cpu"],
        vec!["ppo", "--backend", "cpu"],
        vec![
            "bon",
            "--world",
            "synthetic",
            "--backend",
            "cpu",
            "--rm",
            nowhere,
        ],
        vec!["metarm", "--backend", "cpu", "--policy", nowhere],
        vec!["rlhf", "--backend", "cpu"],
        vec!["score", "--model", nowhere],
        vec!["export", "--strength", nowhere],
    ];
    for args in cases {
        let o = bin()
            .args(&args)
            .arg("--out")
            .arg(&under_file)
            .output()
            .unwrap();
        let (stdout, stderr) = text(&o);
        assert!(!o.status.success(), "{args:?}: {stdout}");
        assert!(
            stderr.contains("cannot be written") && stderr.contains("--out"),
            "{args:?}: {stderr}"
        );
        assert!(
            !stderr.contains("no-such-run"),
            "{args:?}: the output is checked before the inputs are read: {stderr}"
        );
    }
}

/// The GPU check's dry run (what it would carry and run on a lent GPU machine) lists every part:
/// the adapter, RM-bench against PyTorch, the benchmarks on both paths, the agreement runs.
#[test]
fn the_gpu_checks_dry_run_lists_every_part_and_runs_nothing() {
    let out = temp_dir("gpu-check");
    let o = Command::new("bash")
        .arg(concat!(env!("CARGO_MANIFEST_DIR"), "/scripts/gpu-check.sh"))
        .arg("--dry-run")
        .env("RLHF_LAB_BIN", env!("CARGO_BIN_EXE_rlhf-lab"))
        .env("GPU_CHECK_OUT", &out)
        .output()
        .unwrap();
    let (stdout, stderr) = text(&o);
    assert!(o.status.success(), "{stdout}\n{stderr}");
    for part in [
        "bench rm --backend gpu --steps 1",
        "bench/compare.sh 1 --backend gpu",
        "bench strength --backend gpu",
        "bench ppo --backend cpu --policy transformer",
        "train-rm --config",
        "ppo --world synthetic --policy factorised --steps 20 --backend gpu",
        "dry run: nothing was run",
    ] {
        assert!(stderr.contains(part), "{part}: {stderr}");
    }
    let ran: Vec<_> = std::fs::read_dir(&out)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(ran, ["rm-config.json"], "nothing but the config is written");
}
