//! `rlhf-lab recipe`: a run folder of every kind becomes a TRL or OpenRLHF folder whose scripts
//! compile, whose MAPPING.md names every setting of the run, and whose recipe.json and
//! openrlhf.sh carry the values that MAPPING.md says they carry; bad input is a clear error. When
//! torch and TRL 1.12 are importable, the TRL scripts also train a tiny random model.
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use rlhf_lab::data::synthetic::SyntheticConfig;
use rlhf_lab::experiment::metarm::MetaRmConfig;
use rlhf_lab::experiment::strength::StrengthTable;
use rlhf_lab::experiment::strength::io::to_csv;
use rlhf_lab::experiment::{DataSource, ExperimentConfig, KindConfig, Run};
use rlhf_lab::recipe::{self, Dest, RecipeInput, RunKind, Target};

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_rlhf-lab"))
}

fn temp_dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("rlhf-lab-recipe-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into()
}

/// A run config of `experiment` on a small synthetic world (200 pairs).
fn small_run<E: Clone>(experiment: E) -> Run<E> {
    let mut run = Run::<E> {
        data: Default::default(),
        seed: 3,
        backend: Default::default(),
        experiment,
    };
    run.data.source = DataSource::Synthetic(SyntheticConfig {
        pairs: 200,
        ..Default::default()
    });
    run
}

/// Every kind's config at its defaults, as its report writes it (`metarm` is not a kind of
/// `ExperimentConfig`: its own envelope).
fn every_config() -> Vec<serde_json::Value> {
    let mut out: Vec<serde_json::Value> = ExperimentConfig::every_default()
        .into_iter()
        .map(|e| serde_json::to_value(small_run(e)).unwrap())
        .collect();
    out.push(serde_json::to_value(small_run(MetaRmConfig::default())).unwrap());
    out
}

fn kind_of(config: &serde_json::Value) -> RunKind {
    RunKind::from_tag(config["experiment"]["kind"].as_str().unwrap()).unwrap()
}

/// A run folder of `config`: its report, and for strength and denoise a strength.csv whose μ is
/// the world's gold gap (negative for the mislabeled pairs).
fn run_folder(name: &str, config: &serde_json::Value) -> PathBuf {
    let dir = temp_dir(name);
    let report = serde_json::json!({ "config": config });
    std::fs::write(dir.join("report.json"), report.to_string()).unwrap();
    if matches!(kind_of(config), RunKind::Strength | RunKind::Denoise) {
        let data: rlhf_lab::experiment::DataConfig =
            serde_json::from_value(config["data"].clone()).unwrap();
        let (pairs, _) = rlhf_lab::experiment::prepare::load_pairs(&data, None).unwrap();
        let mu: Vec<f32> = pairs
            .iter()
            .map(|p| {
                let t = p.truth.as_ref().unwrap();
                t.gold_chosen - t.gold_rejected
            })
            .collect();
        let n = pairs.len();
        let table = StrengthTable {
            index: pairs.iter().map(|p| p.index).collect(),
            sigma: vec![0.1; n],
            band: vec![0; n],
            train: vec![true; n],
            mu,
        };
        std::fs::write(dir.join("strength.csv"), to_csv(&table)).unwrap();
    }
    dir
}

fn write_recipe(run: &Path, to: &str, out: &Path) -> Output {
    bin()
        .args(["recipe", "--run"])
        .arg(run)
        .args(["--to", to, "--out"])
        .arg(out)
        .output()
        .unwrap()
}

fn python() -> String {
    std::env::var("RLHF_LAB_PYTHON").unwrap_or_else(|_| "python3".into())
}

#[test]
fn every_setting_of_every_kind_has_a_rule_and_a_row_in_mapping() {
    for mut config in every_config() {
        let kind = kind_of(&config);
        // Contrastive and text settings are leaves too: a text source has other fields.
        config["data"]["source"] = serde_json::json!({ "kind": "hh_sample" });
        for (path, _) in recipe::leaves(&config) {
            assert!(
                recipe::rule_for(kind, &path).is_some(),
                "{kind:?}: `{path}` has no rule in src/recipe/mapping.rs: say where it goes in TRL and OpenRLHF, or that it has none"
            );
        }
        let input = config_only(config.clone(), vec![]);
        for target in [Target::Trl, Target::Openrlhf] {
            let files = recipe::build(&input, target, "m").unwrap();
            let mapping = text_of(&files, "MAPPING.md");
            for (path, _) in recipe::leaves(&config) {
                assert!(
                    mapping.contains(&format!("| `{path}` |")),
                    "{kind:?} → {target:?}: MAPPING.md has no row for `{path}`"
                );
            }
            assert!(
                !mapping.contains("has no rule"),
                "{kind:?} → {target:?}: a setting fell through to the catch-all"
            );
        }
    }
}

/// A recipe input of a config alone: no pairs, only `prompts`.
fn config_only(config: serde_json::Value, prompts: Vec<String>) -> RecipeInput {
    RecipeInput {
        config,
        rows: vec![],
        prompts,
        flipped: 0,
        data_note: String::new(),
    }
}

fn text_of(files: &[recipe::RecipeFile], name: &str) -> String {
    let f = files
        .iter()
        .find(|f| f.path == name)
        .unwrap_or_else(|| panic!("no {name} among {:?}", paths(files)));
    String::from_utf8(f.bytes.clone()).unwrap()
}

fn paths(files: &[recipe::RecipeFile]) -> Vec<&str> {
    files.iter().map(|f| f.path.as_str()).collect()
}

/// The value after `flag` in a script (the text up to the line's end or the next flag).
fn flag_value(script: &str, flag: &str) -> Option<String> {
    let at = script.find(&format!("{flag} "))? + flag.len() + 1;
    let rest = &script[at..];
    let end = rest.find([' ', '\n']).unwrap_or(rest.len());
    Some(rest[..end].to_string())
}

fn same(value: &serde_json::Value, written: &serde_json::Value) -> bool {
    match (value.as_f64(), written.as_f64()) {
        (Some(a), Some(b)) => (a - b).abs() <= 1e-12 * a.abs().max(1.0),
        _ => value == written,
    }
}

#[test]
fn recipe_json_and_openrlhf_sh_carry_the_values_mapping_names() {
    // Values away from the defaults, so a key that reads the wrong field shows.
    let run = small_run(ExperimentConfig::every_default()[4].clone());
    let mut config = serde_json::to_value(&run).unwrap();
    for (path, value) in [
        ("experiment.ppo.kl_coef", 0.07),
        ("experiment.ppo.gamma", 0.99),
        ("experiment.ppo.lambda", 0.9),
        ("experiment.ppo.policy_clip", 0.15),
        ("experiment.ppo.value_clip", 0.3),
        ("experiment.ppo.grad_clip", 0.7),
        ("experiment.ppo.sampling.temperature", 0.8),
        ("experiment.ppo.sampling.top_p", 0.9),
        ("experiment.ppo.proxy.optimizer.weight_decay", 0.02),
        ("experiment.ppo.proxy.optimizer.grad_clip_norm", 0.5),
        ("experiment.ppo.proxy.optimizer.final_lr_fraction", 0.2),
        ("experiment.ppo.proxy.epochs", 2.0),
    ] {
        let mut at = &mut config;
        for part in path.split('.') {
            at = &mut at[part];
        }
        *at = serde_json::json!(value);
    }
    config["experiment"]["ppo"]["ppo_epochs"] = serde_json::json!(3);
    config["experiment"]["ppo"]["rollouts"] = serde_json::json!(96);
    config["experiment"]["ppo"]["steps"] = serde_json::json!(50);
    config["experiment"]["ppo"]["proxy"]["batch_size"] = serde_json::json!(20);
    config["experiment"]["rounds"] = serde_json::json!(3);
    config["seed"] = serde_json::json!(11);
    let input = config_only(config.clone(), vec![]);
    let trl = recipe::build(&input, Target::Trl, "m").unwrap();
    let settings: serde_json::Value = serde_json::from_str(&text_of(&trl, "recipe.json")).unwrap();
    let orl = recipe::build(&input, Target::Openrlhf, "m").unwrap();
    let script = text_of(&orl, "openrlhf.sh");
    let (mut keys, mut flags) = (0, 0);
    for (path, value) in recipe::leaves(&config) {
        let rule = recipe::rule_for(RunKind::Rlhf, &path).unwrap();
        if let Dest::Key(key) = rule.trl {
            let mut at = &settings;
            for part in key.split('.') {
                at = &at[part];
            }
            assert!(
                same(&value, at),
                "`{path}` = {value}, but recipe.json `{key}` = {at}"
            );
            keys += 1;
        }
        if let Dest::Flag(flag) = rule.openrlhf {
            // The two commands share flag names: each setting is read from its own command.
            let (rm_part, ppo_part) =
                script.split_at(script.find("openrlhf.cli.train_ppo_ray").unwrap());
            let part = match path.strip_prefix("experiment.ppo.") {
                Some(rest) if !rest.starts_with("proxy.") => ppo_part,
                _ => rm_part,
            };
            let written = flag_value(part, flag)
                .unwrap_or_else(|| panic!("openrlhf.sh has no {flag} (for `{path}`)"));
            let written: serde_json::Value =
                serde_json::from_str(&written).unwrap_or(serde_json::Value::String(written));
            assert!(
                same(&value, &written),
                "`{path}` = {value}, but openrlhf.sh {flag} {written}"
            );
            flags += 1;
        }
    }
    assert!(
        keys >= 12 && flags >= 10,
        "only {keys} keys and {flags} flags compared"
    );
    // Converted values, by hand.
    assert_eq!(settings["policy"]["total_episodes"], 50 * 96);
    let ppo_part = &script[script.find("openrlhf.cli.train_ppo_ray").unwrap()..];
    assert_eq!(
        flag_value(ppo_part, "--train.batch_size").as_deref(),
        Some("24")
    );
    // 50 steps of 96 rollouts over the world's prompts, repeated to fill one batch of 96.
    let prompts = text_of(&orl, "data/prompts.jsonl").lines().count();
    assert_eq!(
        flag_value(ppo_part, "--train.num_episodes"),
        Some(4800usize.div_ceil(prompts.max(1)).to_string())
    );
    assert!(script.contains("--reward.clip_range -0.8 0.8"), "{script}");
    assert!(script.contains("--reward.normalize_enable"));
    assert_eq!(settings["rounds"]["count"], 3);
    assert!(text_of(&trl, "rounds.sh").contains("seq 1 3"));
    assert_eq!(settings["metarm"]["meta_prompts"], 400);
}

fn assert_compiles(dir: &Path) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("");
        let o = match ext {
            "py" => Command::new(python())
                .args(["-m", "py_compile"])
                .arg(&path)
                .output()
                .unwrap(),
            "sh" => Command::new("bash").arg("-n").arg(&path).output().unwrap(),
            _ => continue,
        };
        assert!(o.status.success(), "{}: {}", path.display(), stderr(&o));
    }
}

#[test]
fn recipes_of_every_run_kind_are_written_and_their_scripts_compile() {
    for config in every_config() {
        let kind = kind_of(&config);
        let run = run_folder(kind.command(), &config);
        for to in ["trl", "openrlhf"] {
            let out = run.join(format!("recipe-{to}"));
            let o = write_recipe(&run, to, &out);
            assert!(o.status.success(), "{kind:?} → {to}: {}", stderr(&o));
            for name in [
                "MAPPING.md",
                "README.md",
                "data/pairs.jsonl",
                "data/prompts.jsonl",
            ] {
                assert!(out.join(name).is_file(), "{kind:?} → {to}: no {name}");
            }
            let scripts: &[&str] = if to == "trl" {
                &[
                    "train_reward.py",
                    "train_policy.py",
                    "metarm_trainer.py",
                    "check_metarm.py",
                    "recipe.json",
                ]
            } else {
                &["openrlhf.sh"]
            };
            for name in scripts {
                assert!(out.join(name).is_file(), "{kind:?} → {to}: no {name}");
            }
            assert_eq!(
                out.join("rounds.sh").is_file(),
                to == "trl" && kind == RunKind::Rlhf,
                "{kind:?} → {to}: rounds.sh only for an rlhf run's TRL recipe"
            );
            assert_compiles(&out);
            let pairs = std::fs::read_to_string(out.join("data/pairs.jsonl")).unwrap();
            let rows: Vec<serde_json::Value> = pairs
                .lines()
                .map(|l| serde_json::from_str(l).unwrap())
                .collect();
            assert_eq!(rows.len(), 200, "{kind:?}: every pair is written");
            let margined = matches!(kind, RunKind::Strength | RunKind::Denoise);
            assert_eq!(
                rows[0].get("margin").is_some(),
                margined,
                "{kind:?}: a margin column only where the run measured strength"
            );
            if kind == RunKind::Strength {
                // μ is the gold gap here and a strength run flips every μ < 0: every written
                // pair has gold on its chosen side, so every margin is ≥ 0 as written.
                assert!(rows.iter().all(|r| r["margin"].as_f64().unwrap() >= 0.0));
            }
        }
    }
}

#[test]
fn strength_flips_are_those_with_negative_mu_and_the_text_is_the_pairs() {
    let config =
        serde_json::to_value(small_run(ExperimentConfig::every_default()[1].clone())).unwrap();
    let run = run_folder("flips", &config);
    let input = RecipeInput::from_run_dir(&run).unwrap();
    let data: rlhf_lab::experiment::DataConfig =
        serde_json::from_value(config["data"].clone()).unwrap();
    let (pairs, _) = rlhf_lab::experiment::prepare::load_pairs(&data, None).unwrap();
    let mislabeled = pairs
        .iter()
        .filter(|p| {
            let t = p.truth.as_ref().unwrap();
            t.gold_chosen < t.gold_rejected
        })
        .count();
    assert_eq!(input.flipped, mislabeled);
    assert!(mislabeled > 0, "the world has mislabeled pairs to flip");
    for (p, r) in pairs.iter().zip(&input.rows) {
        let t = p.truth.as_ref().unwrap();
        let flipped = t.gold_chosen < t.gold_rejected;
        assert_eq!(&r.chosen, if flipped { &p.rejected } else { &p.chosen });
        assert_eq!(r.prompt, p.prompt);
        let mu = t.gold_chosen - t.gold_rejected;
        assert!((r.margin.unwrap() - mu.abs()).abs() < 1e-5);
    }
    assert!(
        input
            .data_note
            .contains(&format!("{mislabeled} of 200 pairs flipped"))
    );
}

#[test]
fn a_trained_reward_model_run_becomes_a_recipe() {
    let dir = temp_dir("train-rm");
    let run = dir.join("run");
    let o = bin()
        .args([
            "train-rm",
            "--arch",
            "bow",
            "--pairs",
            "150",
            "--steps",
            "5",
            "--backend",
            "cpu",
            "--out",
        ])
        .arg(&run)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    let out = dir.join("recipe");
    let o = write_recipe(&run, "trl", &out);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stderr(&o).contains("150 pairs"), "{}", stderr(&o));
    let settings: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("recipe.json")).unwrap()).unwrap();
    assert_eq!(settings["run_kind"], "train-rm");
    assert_eq!(settings["reward"]["max_steps"], 5);
    assert!(
        settings["metarm"].is_null(),
        "a train-rm run has no meta set"
    );
    assert_eq!(settings["policy_from_run"], false);
    let readme = std::fs::read_to_string(out.join("README.md")).unwrap();
    assert!(
        readme.contains("synthetic world") && readme.contains("trl==1.12.0"),
        "{readme}"
    );
}

#[test]
fn bad_input_is_a_clear_error() {
    let dir = temp_dir("bad");
    let o = write_recipe(&dir, "trl", &dir.join("out"));
    assert!(!o.status.success());
    assert!(stderr(&o).contains("is not a run folder"), "{}", stderr(&o));

    let config =
        serde_json::to_value(small_run(ExperimentConfig::every_default()[0].clone())).unwrap();
    let run = run_folder("bad-to", &config);
    let o = write_recipe(&run, "deepspeed-chat", &dir.join("out"));
    assert!(!o.status.success());
    assert!(
        stderr(&o).contains("--to deepspeed-chat: use trl or openrlhf"),
        "{}",
        stderr(&o)
    );

    let mut other = config.clone();
    other["experiment"]["kind"] = serde_json::json!("dpo");
    std::fs::write(
        run.join("report.json"),
        serde_json::json!({ "config": other }).to_string(),
    )
    .unwrap();
    let o = write_recipe(&run, "trl", &dir.join("out"));
    assert!(
        stderr(&o).contains("experiment kind 'dpo' has no recipe"),
        "{}",
        stderr(&o)
    );

    std::fs::write(run.join("report.json"), "{\"rounds\": []}").unwrap();
    let o = write_recipe(&run, "trl", &dir.join("out"));
    assert!(stderr(&o).contains("has no \"config\""), "{}", stderr(&o));

    let strength =
        serde_json::to_value(small_run(ExperimentConfig::every_default()[1].clone())).unwrap();
    let run = run_folder("bad-strength", &strength);
    std::fs::remove_file(run.join("strength.csv")).unwrap();
    let o = write_recipe(&run, "trl", &dir.join("out"));
    assert!(stderr(&o).contains("strength.csv"), "{}", stderr(&o));

    let mut injected = strength.clone();
    injected["data"]["inject_flip_rate"] = serde_json::json!(0.1);
    let run = run_folder("bad-injected", &injected);
    let o = write_recipe(&run, "openrlhf", &dir.join("out"));
    assert!(stderr(&o).contains("injected flips"), "{}", stderr(&o));
    assert!(
        !dir.join("out").join("MAPPING.md").exists(),
        "nothing written on an error"
    );
}

#[test]
fn the_zip_holds_every_file_under_one_folder() {
    let config =
        serde_json::to_value(small_run(ExperimentConfig::every_default()[3].clone())).unwrap();
    let run = run_folder("zip", &config);
    let input = RecipeInput::from_run_dir(&run).unwrap();
    let files = recipe::build(&input, Target::Trl, "m").unwrap();
    let bytes = recipe::zip(&files, "recipe-trl").unwrap();
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes)).unwrap();
    assert_eq!(archive.len(), files.len());
    for f in &files {
        let mut entry = archive.by_name(&format!("recipe-trl/{}", f.path)).unwrap();
        let mut read = Vec::new();
        std::io::Read::read_to_end(&mut entry, &mut read).unwrap();
        assert_eq!(read, f.bytes, "{}", f.path);
    }
}

/// Whether `python()` has torch and a TRL with a PPO trainer (1.12).
fn has_trl() -> bool {
    Command::new(python())
        .args(["-c", "import torch, trl.experimental.ppo"])
        .output()
        .is_ok_and(|o| o.status.success())
}

#[test]
fn trl_scripts_train_a_tiny_random_model_when_torch_and_trl_are_here() {
    if !has_trl() {
        eprintln!(
            "skipped: {} cannot import torch and trl.experimental.ppo (pip install torch trl==1.12.0 transformers datasets accelerate, or point RLHF_LAB_PYTHON at such a Python)",
            python()
        );
        return;
    }
    let mut ppo = small_run(ExperimentConfig::every_default()[4].clone());
    if let ExperimentConfig::Rlhf(r) = &mut ppo.experiment {
        r.ppo.rollouts = 8;
        r.ppo.steps = 2;
        r.sampling.groups = 8;
    }
    assert_eq!(ppo.experiment.kind(), "rlhf");
    let run = run_folder("smoke", &serde_json::to_value(&ppo).unwrap());
    let out = run.join("recipe");
    let o = write_recipe(&run, "trl", &out);
    assert!(o.status.success(), "{}", stderr(&o));
    let smoke = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/python/smoke_trl.sh");
    let o = Command::new("bash")
        .arg(&smoke)
        .arg(&out)
        .env("PYTHON", python())
        .output()
        .unwrap();
    let log = format!("{}{}", String::from_utf8_lossy(&o.stdout), stderr(&o));
    assert!(o.status.success(), "{log}");
    assert!(
        log.contains("check_metarm: PASS") && log.contains("smoke_trl: PASS"),
        "{log}"
    );
    eprintln!("{log}");
}

#[test]
fn switches_off_in_the_lab_are_off_in_the_targets_and_metarm_keys_exist_only_with_metarm() {
    // The vanilla PPO preset: no value clip (0 = off), and a PPO run has no meta set.
    let mut config =
        serde_json::to_value(small_run(ExperimentConfig::every_default()[3].clone())).unwrap();
    config["experiment"]["value_clip"] = serde_json::json!(0.0);
    config["experiment"]["policy_clip"] = serde_json::json!(0.0);
    let input = config_only(config, vec!["p".into()]);
    let trl = recipe::build(&input, Target::Trl, "m").unwrap();
    let settings: serde_json::Value = serde_json::from_str(&text_of(&trl, "recipe.json")).unwrap();
    assert_eq!(settings["policy"]["cliprange_value"], 1e9);
    assert_eq!(settings["policy"]["cliprange"], 1e9);
    assert!(settings["metarm"].is_null());
    let mapping = text_of(&trl, "MAPPING.md");
    let row = mapping
        .lines()
        .find(|l| l.starts_with("| `experiment.proxy.meta_lr` |"))
        .unwrap();
    assert!(row.contains("MetaRM is off"), "{row}");
    let orl = recipe::build(&input, Target::Openrlhf, "m").unwrap();
    let script = text_of(&orl, "openrlhf.sh");
    assert_eq!(
        flag_value(&script, "--critic.value_clip").as_deref(),
        Some("1000000000")
    );
}

#[test]
fn any_base_model_name_is_one_shell_word() {
    let config =
        serde_json::to_value(small_run(ExperimentConfig::every_default()[0].clone())).unwrap();
    let run = run_folder("quote", &config);
    let input = RecipeInput::from_run_dir(&run).unwrap();
    let name = "my \"odd\" $HOME's model";
    let files = recipe::build(&input, Target::Openrlhf, name).unwrap();
    let script = text_of(&files, "openrlhf.sh");
    let line = script
        .lines()
        .find(|l| l.starts_with("MODEL="))
        .unwrap()
        .to_string();
    let o = Command::new("bash")
        .args(["-c", &format!("{line}\nprintf '%s' \"$MODEL\"")])
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&o.stdout), name, "{line}");
    let empty = recipe::build(&input, Target::Trl, "  ").unwrap_err();
    assert!(empty.contains("--base-model is empty"), "{empty}");
}
