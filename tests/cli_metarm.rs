//! `rlhf-lab metarm` and `rlhf-lab rlhf` as a user runs them: the files and report keys they
//! write, a round's saved policy read back by `metarm`, models readable by `score`, and the
//! mistakes a user makes (a folder that is not a policy, a policy of another world, bad knobs),
//! each a clear error naming the place.
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_rlhf-lab"))
}

/// `metarm` at a small size (30 meta groups, 60 shifted pairs) on the CPU.
fn small_metarm() -> Command {
    let mut c = bin();
    c.args([
        "metarm",
        "--groups",
        "30",
        "--shifted-pairs",
        "60",
        "--backend",
        "cpu",
    ]);
    c
}

fn temp_dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("rlhf-lab-cli-meta-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into()
}

/// A short PPO run on the synthetic world (seed 7 of the world), its folder.
fn policy(dir: &Path) -> PathBuf {
    let out = dir.join("policy");
    let o = bin()
        .args([
            "ppo",
            "--steps",
            "20",
            "--rollouts",
            "64",
            "--rm-pairs",
            "400",
            "--world-seed",
            "7",
            "--backend",
            "cpu",
            "--out",
        ])
        .arg(&out)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    out
}

fn report(path: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

#[test]
fn metarm_on_a_saved_policy_writes_both_arms_and_their_models() {
    let dir = temp_dir("run");
    let policy = policy(&dir);
    let out = dir.join("metarm");
    let o = bin()
        .args([
            "metarm",
            "--meta-lr",
            "2",
            "--k",
            "4",
            "--groups",
            "60",
            "--shifted-pairs",
            "100",
        ])
        .args(["--backend", "cpu", "--policy"])
        .arg(&policy)
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    let r = report(&out.join("report.json"));
    for arm in ["vanilla", "metarm"] {
        for key in ["original_accuracy", "shifted_accuracy", "j", "mean_abs_dr"] {
            assert!(
                r["arms"][arm][key].is_number(),
                "arms.{arm}.{key}: {}",
                r["arms"]
            );
        }
        // k = 4: J lies in [3/8, 3/4).
        let j = r["arms"][arm]["j"].as_f64().unwrap();
        assert!((0.375..0.75).contains(&j), "{arm}: J {j}");
    }
    assert_eq!(r["config"]["experiment"]["kind"], "metarm");
    assert_eq!(r["config"]["experiment"]["rm"]["k"], 4);
    assert_eq!(
        r["config"]["data"]["source"]["seed"], 7,
        "the policy's world"
    );
    assert_eq!(r["meta_groups"], 60);
    // Both models score with `score`, on their own training data.
    for arm in ["vanilla", "metarm"] {
        let scores = dir.join(format!("{arm}.csv"));
        let o = bin()
            .args(["score", "--backend", "cpu", "--model"])
            .arg(out.join(arm))
            .arg("--out")
            .arg(&scores)
            .output()
            .unwrap();
        assert!(o.status.success(), "{arm}: {}", stderr(&o));
        assert!(
            std::fs::read_to_string(&scores)
                .unwrap()
                .starts_with("index,reward_chosen,reward_rejected\n")
        );
    }
    // η = 0: the MetaRM arm is the vanilla arm.
    let zero = dir.join("zero");
    let o = bin()
        .args([
            "metarm",
            "--meta-lr",
            "0",
            "--groups",
            "30",
            "--backend",
            "cpu",
            "--policy",
        ])
        .arg(&policy)
        .arg("--out")
        .arg(&zero)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    let r = report(&zero.join("report.json"));
    assert_eq!(r["arms"]["vanilla"], r["arms"]["metarm"]);
    assert_eq!(
        std::fs::read(zero.join("vanilla").join("model.bin"))
            .unwrap()
            .len(),
        std::fs::read(zero.join("metarm").join("model.bin"))
            .unwrap()
            .len()
    );
}

#[test]
fn metarm_mistakes_are_clear_errors() {
    let dir = temp_dir("bad");
    let run = |args: &[&str]| {
        let o = bin()
            .args(["metarm", "--backend", "cpu"])
            .args(args)
            .output()
            .unwrap();
        assert!(!o.status.success(), "{args:?} should fail");
        stderr(&o)
    };
    let missing = dir.join("nowhere");
    let err = run(&["--policy", missing.to_str().unwrap()]);
    assert!(
        err.contains("not a folder") && err.contains("ppo --out"),
        "{err}"
    );
    let empty = dir.join("empty");
    std::fs::create_dir_all(&empty).unwrap();
    let err = run(&["--policy", empty.to_str().unwrap()]);
    assert!(err.contains("no policy.json"), "{err}");
    std::fs::write(empty.join("policy.json"), b"{\"kind\": \"lookup\"}").unwrap();
    std::fs::write(empty.join("report.json"), b"{}").unwrap();
    let err = run(&["--policy", empty.to_str().unwrap()]);
    assert!(
        err.contains("not a policy") && err.contains("'lookup'"),
        "{err}"
    );
    let policy = policy(&dir);
    let p = policy.to_str().unwrap();
    let err = run(&["--policy", p, "--world-seed", "3"]);
    assert!(
        err.contains("another world") && err.contains("seed 7") && err.contains("--world-seed 7"),
        "{err}"
    );
    let err = run(&["--policy", p, "--world", "hh-sample"]);
    assert!(
        err.contains("--world hh-sample") && err.contains("synthetic world"),
        "{err}"
    );
    let err = run(&["--policy", p, "--k", "1"]);
    assert!(err.contains("k = 1"), "{err}");
    let err = run(&["--policy", p, "--meta-lr", "NaN"]);
    assert!(err.contains("meta_lr = NaN"), "{err}");
    let err = run(&["--policy", p, "--meta-lr", "-1"]);
    assert!(err.contains("meta_lr = -1"), "{err}");
    // The policy's logits cut short: a policy of another shape.
    let cut = dir.join("cut");
    std::fs::create_dir_all(&cut).unwrap();
    std::fs::copy(policy.join("report.json"), cut.join("report.json")).unwrap();
    std::fs::write(
        cut.join("policy.json"),
        br#"{"kind":"factorised","logits":[0.5, 1.0]}"#,
    )
    .unwrap();
    let err = run(&["--policy", cut.to_str().unwrap()]);
    assert!(
        err.contains("another world") && err.contains("2 logits"),
        "{err}"
    );
}

#[test]
fn rlhf_writes_rounds_the_shift_views_and_each_rounds_models() {
    let dir = temp_dir("rlhf");
    let out = dir.join("rlhf");
    let o = bin()
        .args([
            "rlhf",
            "--world",
            "synthetic",
            "--pairs",
            "400",
            "--rounds",
            "2",
            "--ppo-steps",
            "6",
            "--meta-lr",
            "2",
            "--k",
            "4",
            "--arms",
            "metarm,vanilla",
            "--seed",
            "3",
            "--world-seed",
            "2",
            "--backend",
            "cpu",
            "--json",
            "--out",
        ])
        .arg(&out)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(
        stdout.lines().any(|l| l.contains(r#""rlhf":"round""#)),
        "JSON round events"
    );
    let r = report(&out.join("report.json"));
    assert_eq!(r["rounds"].as_array().unwrap().len(), 4);
    assert_eq!(r["config"]["experiment"]["kind"], "rlhf");
    assert_eq!(r["config"]["experiment"]["ppo"]["proxy"]["k"], 4);
    assert!(r["head_to_head"]["win"].is_number());
    for (file, header) in [
        (
            "rounds.csv",
            "round,arm,gold,proxy,kl,original_accuracy,shifted_accuracy,j,mean_abs_dr,win,tie,lose,",
        ),
        (
            "shift_spread.csv",
            "arm,round,step,pairs,variance,q05,q25,median,q75,q95",
        ),
        ("abs_dr_hist.csv", "round,source,bin_low,bin_high,share"),
        ("features_pca.csv", "source,arm,round,x,y"),
    ] {
        let text = std::fs::read_to_string(out.join(file)).unwrap();
        assert!(
            text.starts_with(header),
            "{file}: {}",
            text.lines().next().unwrap_or("")
        );
        assert!(text.lines().count() > 2, "{file} has rows");
    }
    for round in ["round-1", "round-2"] {
        for arm in ["metarm", "vanilla"] {
            let folder = out.join(round).join(arm);
            assert!(folder.join("policy.json").is_file(), "{round}/{arm}");
            assert!(folder.join("reward_model").join("model.bin").is_file());
        }
    }
    // A round's policy is a policy folder: MetaRM on the vanilla arm's last policy.
    let again = dir.join("metarm");
    let o = small_metarm()
        .arg("--policy")
        .arg(out.join("round-2").join("vanilla"))
        .arg("--out")
        .arg(&again)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(
        report(&again.join("report.json"))["config"]["data"]["source"]["seed"],
        2
    );
    // Mistakes.
    let o = bin()
        .args(["rlhf", "--rounds", "0", "--backend", "cpu"])
        .output()
        .unwrap();
    assert!(
        !o.status.success() && stderr(&o).contains("rounds = 0"),
        "{}",
        stderr(&o)
    );
    let o = bin()
        .args(["rlhf", "--arms", "metarm,dpo"])
        .output()
        .unwrap();
    assert!(
        !o.status.success() && stderr(&o).contains("unknown arm 'dpo'"),
        "{}",
        stderr(&o)
    );
    let o = bin().args(["rlhf", "--k", "1"]).output().unwrap();
    assert!(
        !o.status.success() && stderr(&o).contains("k = 1"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn metarm_asks_the_policy_other_prompts_from_a_prompt_file() {
    let dir = temp_dir("prompts");
    let policy = policy(&dir);
    // Prompt-only records: two of the world's six prompts, as the prompt loaders read them.
    let prompts = dir.join("prompts.jsonl");
    std::fs::write(
        &prompts,
        "{\"prompt\": \"about music\"}\n{\"prompt\": \"about money\"}\n",
    )
    .unwrap();
    let out = dir.join("out");
    let o = small_metarm()
        .arg("--policy")
        .arg(&policy)
        .arg("--meta-prompts")
        .arg(&prompts)
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(report(&out.join("report.json"))["arms"]["metarm"]["j"].is_number());
    // A prompt the world does not have is named.
    std::fs::write(&prompts, "{\"prompt\": \"about cats\"}\n").unwrap();
    let o = bin()
        .args(["metarm", "--groups", "30", "--backend", "cpu", "--policy"])
        .arg(&policy)
        .arg("--meta-prompts")
        .arg(&prompts)
        .output()
        .unwrap();
    let err = stderr(&o);
    assert!(
        !o.status.success() && err.contains("'about cats'") && err.contains("'about weather'"),
        "{err}"
    );
}
