//! `rlhf-lab metarm --policy DIR --meta-lr η …`: one MetaRM round on a saved policy — a vanilla
//! and a MetaRM reward model under one seed, measured on the original pairs and on the policy's
//! samples; writes DIR/report.json and the two models (DIR/vanilla/, DIR/metarm/, for `score`).
use std::path::{Path, PathBuf};

use clap::Args;

use super::{drive, write_file};
use crate::compute::{self, BackendChoice};
use crate::data::load::LoadOptions;
use crate::data::prompts::load_prompts_path;
use crate::experiment::DataSource;
use crate::experiment::config::Run;
use crate::experiment::metarm::{MetaRmConfig, MetaRmRunner};
use crate::experiment::ppo::saved_policy::SavedPolicy;

/// Flags of `metarm`.
#[derive(Args, Debug)]
pub struct MetarmArgs {
    /// The policy to sample: the folder `rlhf-lab ppo --out` (or an rlhf round) wrote.
    #[arg(long)]
    policy: PathBuf,
    /// The world: synthetic or hh-sample (default: the policy's own).
    #[arg(long)]
    world: Option<String>,
    /// Synthetic world: its seed (default: the policy's world; another is an error).
    #[arg(long)]
    world_seed: Option<u64>,
    /// MetaRM's meta learning rate η (the plain ascent step on J); 0 makes the MetaRM arm the
    /// vanilla one bit for bit.
    #[arg(long, allow_negative_numbers = true)]
    meta_lr: Option<f64>,
    /// Responses per meta group (k).
    #[arg(long)]
    k: Option<usize>,
    /// Meta groups per training step (m).
    #[arg(long)]
    meta_batch: Option<usize>,
    /// Meta groups the MetaRM arm trains on.
    #[arg(long)]
    groups: Option<usize>,
    /// Pairs of policy samples the shifted accuracy is measured on.
    #[arg(long)]
    shifted_pairs: Option<usize>,
    /// Ask the policy these prompts for the meta set and the shifted pairs instead of its own
    /// (any file the prompt loaders read: a preference file or prompt-only records).
    #[arg(long)]
    meta_prompts: Option<PathBuf>,
    /// Seed of both arms' weights, shuffling and dropout, and of the samples (default: the
    /// policy's run seed; on hh-sample it also seeds the split and the gold model).
    #[arg(long)]
    seed: Option<u64>,
    /// A JSON config (`{"data", "seed", "backend", "experiment": {"rm", "sampling"}}`, as a
    /// report's "config" holds it); flags override it.
    #[arg(long)]
    config: Option<PathBuf>,
    /// Compute backend: auto, gpu or cpu.
    #[arg(long)]
    backend: Option<BackendChoice>,
    /// Print one JSON event per line on stdout.
    #[arg(long)]
    json: bool,
    /// Write DIR/report.json, DIR/vanilla/model.bin and DIR/metarm/model.bin.
    #[arg(long)]
    out: Option<PathBuf>,
}

fn read(path: &Path) -> Result<Vec<u8>, String> {
    std::fs::read(path).map_err(|e| format!("could not read {}: {e}", path.display()))
}

/// The saved policy in `dir`.
pub(crate) fn read_policy(dir: &Path) -> Result<SavedPolicy, String> {
    let not_policy = |what: &str| {
        format!(
            "--policy {}: {what}; give the folder `rlhf-lab ppo --out DIR` wrote",
            dir.display()
        )
    };
    if !dir.is_dir() {
        return Err(not_policy("not a folder"));
    }
    let json = dir.join("policy.json");
    if !json.is_file() {
        return Err(not_policy("no policy.json in it"));
    }
    let report = dir.join("report.json");
    if !report.is_file() {
        return Err(not_policy(
            "no report.json beside policy.json (it names the world the policy acts in)",
        ));
    }
    let weights = dir.join("policy.bin");
    let weights = weights.is_file().then(|| read(&weights)).transpose()?;
    SavedPolicy::from_files(&read(&json)?, weights, &read(&report)?)
        .map_err(|e| format!("--policy {}: {e}", dir.display()))
}

fn build(args: &MetarmArgs, policy: &SavedPolicy) -> Result<Run<MetaRmConfig>, String> {
    let mut run: Run<MetaRmConfig> = match &args.config {
        Some(path) => {
            let text = String::from_utf8(read(path)?)
                .map_err(|e| format!("config {}: not text ({e})", path.display()))?;
            serde_path_to_error::deserialize(&mut serde_json::Deserializer::from_str(&text))
                .map_err(|e| format!("config {}: {} at {}", path.display(), e.inner(), e.path()))?
        }
        None => {
            let mut rm = MetaRmConfig::default().rm;
            // Both arms share the policy's proxy reward model's shape and training.
            let proxy = &policy.run.experiment.proxy;
            rm.model = proxy.model.clone();
            rm.optimizer = proxy.optimizer.clone();
            rm.epochs = proxy.epochs;
            rm.steps = proxy.steps;
            rm.batch_size = proxy.batch_size;
            Run {
                data: policy.run.data.clone(),
                seed: policy.run.seed,
                backend: policy.run.backend,
                experiment: MetaRmConfig {
                    rm,
                    ..Default::default()
                },
            }
        }
    };
    if let Some(w) = &args.world {
        let wanted_text = match w.as_str() {
            "synthetic" => false,
            "hh-sample" | "hh" => true,
            other => return Err(format!("--world {other}: use synthetic or hh-sample")),
        };
        if wanted_text != run.data.source.is_text() {
            return Err(format!(
                "--world {w}: the policy was trained on {}; a policy is measured in its own world",
                policy.run.data.source.label()
            ));
        }
    }
    if let Some(s) = args.world_seed {
        match &mut run.data.source {
            DataSource::Synthetic(world) => world.seed = s,
            _ => return Err("--world-seed applies to the synthetic world only".into()),
        }
    }
    let c = &mut run.experiment;
    if let Some(v) = args.meta_lr {
        c.rm.meta_lr = v;
    }
    if let Some(v) = args.k {
        c.rm.k = v;
    }
    if let Some(v) = args.meta_batch {
        c.rm.meta_batch = v;
    }
    if let Some(v) = args.groups {
        c.sampling.groups = v;
    }
    if let Some(v) = args.shifted_pairs {
        c.sampling.shifted_pairs = v;
    }
    if let Some(s) = args.seed {
        run.seed = s;
    }
    if let Some(b) = args.backend {
        run.backend = b;
    }
    run.experiment
        .validate()
        .map_err(|e| format!("invalid config: {e}"))?;
    Ok(run)
}

/// Run `metarm`.
pub fn run_metarm(args: MetarmArgs) -> Result<(), String> {
    if let Some(dir) = &args.out {
        super::check_writable(dir)?;
    }
    let policy = read_policy(&args.policy)?;
    let config = build(&args, &policy)?;
    let meta_prompts = match &args.meta_prompts {
        Some(path) => {
            let set = load_prompts_path(path, &LoadOptions::default())
                .map_err(|e| format!("--meta-prompts: {e}"))?;
            Some(set.prompts)
        }
        None => None,
    };
    let (compute, _setup) = compute::init(config.backend).map_err(|e| e.to_string())?;
    let mut runner = MetaRmRunner::setup(config, compute, None, policy, meta_prompts)
        .map_err(|e| e.to_string())?;
    drive(&mut runner, args.json, |_| {}, |_, _| Ok(()))?;
    let report = runner.report();
    if let Some(dir) = &args.out {
        let json = serde_json::to_string_pretty(report).map_err(|e| e.to_string())?;
        write_file(&dir.join("report.json"), json.as_bytes())?;
        for (arm, bytes) in runner.model_files().map_err(|e| e.to_string())? {
            let folder = dir.join(arm);
            std::fs::create_dir_all(&folder)
                .map_err(|e| format!("could not create {}: {e}", folder.display()))?;
            write_file(&folder.join(crate::model::saved::MODEL_FILE), &bytes)?;
        }
        eprintln!("results: {}", dir.display());
    }
    if !args.json {
        for (name, arm) in &report.arms {
            let show = |x: Option<f32>| x.map_or("n/a".into(), |a| format!("{a:.3}"));
            eprintln!(
                "{name:>8}: original accuracy {}  shifted accuracy {:.3} ({} pairs)  J {:.4}  mean |Δr| {:.3}",
                show(arm.original_accuracy),
                arm.shifted_accuracy,
                arm.shifted_pairs,
                arm.j,
                arm.mean_abs_dr
            );
        }
    }
    Ok(())
}
