//! One config file, two paths: the CLI (`--config FILE`) and the app (a URL's or a saved
//! config, loaded into the tabs and started from them) run on the same data with the same
//! settings — also for a config of the older layout, whose two reward-model blocks could name
//! different data.
use rlhf_lab::app::RlhfApp;
use rlhf_lab::compute::Compute;
use rlhf_lab::experiment::denoise::DenoiseReport;
use rlhf_lab::experiment::strength::StrengthReport;
use rlhf_lab::experiment::{Artifacts, Event, KindEvent, RunConfig, StrengthEvent};

fn temp_dir(name: &str) -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!("rlhf-lab-paths-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// The CLI's report for `command --config file`, and its JSON event lines.
fn cli(
    command: &str,
    file: &std::path::Path,
    dir: &std::path::Path,
) -> (serde_json::Value, Vec<Event>) {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_rlhf-lab"))
        .args([command, "--json", "--backend", "cpu", "--config"])
        .arg(file)
        .arg("--out")
        .arg(dir)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let events = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("one event per line"))
        .collect();
    let report = std::fs::read_to_string(dir.join("report.json")).unwrap();
    (serde_json::from_str(&report).unwrap(), events)
}

/// The app's report for the same file: parsed as a URL config is, loaded into the tabs, and
/// started from the tab it selects; also the events before the first step.
fn app(file: &std::path::Path) -> (serde_json::Value, Vec<Event>) {
    let text = std::fs::read_to_string(file).unwrap();
    let parsed = RunConfig::parse(&text).expect("the file parses");
    let app = RlhfApp::new(parsed.config, Some(Compute::cpu()));
    let mut config = app.run_config();
    config.backend = rlhf_lab::compute::BackendChoice::Cpu;
    let (mut runner, first) = config
        .build(Compute::cpu(), None, &Artifacts::default())
        .expect("set up");
    while !runner.is_finished() {
        pollster::block_on(runner.step()).expect("step");
    }
    (runner.report_json(), first)
}

fn pairs(events: &[Event]) -> serde_json::Value {
    let p = events
        .iter()
        .find(|e| {
            matches!(
                e,
                Event::Kind(KindEvent::Strength(StrengthEvent::Pairs { .. }))
            )
        })
        .expect("the pairs event");
    serde_json::to_value(p).unwrap()
}

#[test]
fn one_config_file_runs_on_the_same_data_in_the_cli_and_the_app() {
    let dir = temp_dir("new");
    let file = dir.join("strength.json");
    std::fs::write(
        &file,
        r#"{"data": {"source": {"kind": "synthetic", "pairs": 240, "seed": 9, "flip_rate": 0.2}},
            "seed": 4,
            "experiment": {"kind": "strength", "models": 2, "band_retrain": false,
                           "rm": {"epochs": 1.0}}}"#,
    )
    .unwrap();
    let (cli_report, cli_events) = cli("strength", &file, &dir.join("out"));
    let (app_report, app_events) = app(&file);
    assert_eq!(
        pairs(&cli_events),
        pairs(&app_events),
        "the same pairs and split"
    );
    let typed = |v: serde_json::Value| serde_json::from_value::<StrengthReport>(v).unwrap();
    let (c, a) = (typed(cli_report.clone()), typed(app_report));
    assert_eq!(c.config, a.config);
    assert_eq!((&c.data, c.pairs), (&a.data, a.pairs));
    assert_eq!(c.frac_mu_negative, a.frac_mu_negative, "the same ensemble");
    assert_eq!(cli_report["config"]["data"]["source"]["pairs"], 240);
    assert_eq!(cli_report["config"]["seed"], 4);
}

#[test]
fn an_older_config_whose_blocks_disagree_runs_on_the_ensembles_data_in_both() {
    let dir = temp_dir("old");
    let file = dir.join("denoise.json");
    // Before the envelope: the ensemble's block and the methods' block each named data; the
    // runs read the ensemble's.
    std::fs::write(
        &file,
        r#"{"experiment": "denoise", "methods": ["baseline"], "seeds": 1,
            "strength": {"rm": {"seed": 2, "data": {"source": {"kind": "synthetic", "pairs": 200, "seed": 5}}}},
            "rm": {"seed": 2, "epochs": 1.0, "data": {"source": {"kind": "synthetic", "pairs": 900}}}}"#,
    )
    .unwrap();
    let (cli_report, _) = cli("denoise", &file, &dir.join("out"));
    let (app_report, _) = app(&file);
    let typed = |v: serde_json::Value| serde_json::from_value::<DenoiseReport>(v).unwrap();
    let (c, a) = (typed(cli_report.clone()), typed(app_report));
    assert_eq!(c.config, a.config);
    assert_eq!((&c.data, c.train_pairs), (&a.data, a.train_pairs));
    assert_eq!(c.runs, a.runs, "the same method runs");
    assert_eq!(cli_report["config"]["data"]["source"]["pairs"], 200);
    assert_eq!(cli_report["train_pairs"], 160);
}
