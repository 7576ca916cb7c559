//! `rlhf-lab denoise`: baseline vs flip / smoothing / margin and their combinations, several
//! seeds each; writes DIR/denoise.csv, DIR/report.json and DIR/curves.csv.
use crate::experiment::denoise::DenoiseEvent;
use crate::experiment::{KindEvent, StrengthEvent};
use std::path::PathBuf;

use clap::Args;

use super::strength::parse_flip;
use super::{CommonArgs, drive};
use crate::compute;
use crate::experiment::denoise::{DenoiseReport, TrainSubset, runs_csv};
use crate::experiment::strength::io::{StrengthMu, StrengthRow, parse_csv};
use crate::experiment::{DenoiseConfig, DenoiseRunner, Event, ExperimentConfig, Method, Run};
use crate::rm::denoise::SmoothScope;

/// Flags of `denoise`.
#[derive(Args, Debug)]
pub struct DenoiseArgs {
    #[command(flatten)]
    common: CommonArgs,
    /// Comma-separated: baseline,flip,smooth,margin,flip+margin,smooth+margin,oracle.
    #[arg(long)]
    methods: Option<String>,
    /// Seeds per method.
    #[arg(long)]
    seeds: Option<usize>,
    /// Ensemble size for μ.
    #[arg(long)]
    models: Option<usize>,
    /// Cross-fit the ensemble with K folds.
    #[arg(long)]
    cross_fit: Option<usize>,
    /// Reuse μ from a `strength --out` folder instead of training an ensemble.
    #[arg(long)]
    strength: Option<PathBuf>,
    /// Flip rule: negative, bottom:F or none.
    #[arg(long)]
    flip: Option<String>,
    /// Label-smoothing α.
    #[arg(long)]
    smoothing: Option<f64>,
    /// Smooth every pair instead of only μ < 0.
    #[arg(long)]
    smooth_all: bool,
    /// Margin scale λ.
    #[arg(long)]
    margin_scale: Option<f64>,
    /// Use max(μ, 0) as the margin.
    #[arg(long)]
    margin_clamp: bool,
    /// Train the methods only on the strongest fraction of pairs (e.g. 0.1, Fig 6).
    #[arg(long)]
    top_fraction: Option<f64>,
    /// Epochs of each method run.
    #[arg(long)]
    epochs: Option<f64>,
    /// Reward model preset of the ensemble and the method runs: bow, bow-text or transformer.
    #[arg(long)]
    arch: Option<String>,
    /// Write DIR/denoise.csv, DIR/curves.csv and DIR/report.json.
    #[arg(long)]
    out: Option<PathBuf>,
}

fn build(args: &DenoiseArgs) -> Result<Run<DenoiseConfig>, String> {
    let mut run = args
        .common
        .run_config("denoise", Run::default(), |e| match e {
            ExperimentConfig::Denoise(c) => Some(c.clone()),
            _ => None,
        })?;
    let c = &mut run.experiment;
    if let Some(m) = &args.methods {
        c.methods = Method::parse_list(m)?;
    }
    if let Some(s) = args.seeds {
        c.seeds = s;
    }
    if let Some(m) = args.models {
        c.strength.models = m;
    }
    if let Some(k) = args.cross_fit {
        c.strength.cross_fit = k;
    }
    if let Some(f) = &args.flip {
        c.flip = parse_flip(f)?;
    }
    if let Some(a) = args.smoothing {
        c.smoothing = a;
    }
    if args.smooth_all {
        c.smoothing_scope = SmoothScope::All;
    }
    if let Some(l) = args.margin_scale {
        c.margin_scale = l;
    }
    if args.margin_clamp {
        c.margin_clamp = true;
    }
    if let Some(f) = args.top_fraction {
        c.subset = TrainSubset::Top { fraction: f };
    }
    if let Some(e) = args.epochs {
        c.rm.epochs = e;
        c.rm.steps = 0;
    }
    if let Some(a) = &args.arch {
        let model = crate::model::RewardModelConfig::from_preset(a)?;
        c.strength.rm.model = model.clone();
        c.rm.model = model;
    }
    run.validate().map_err(|e| format!("invalid config: {e}"))?;
    Ok(run)
}

/// The rows of a strength folder's `strength.csv`, and the file's name for messages.
fn load_strength(dir: &std::path::Path) -> Result<(Vec<StrengthRow>, String), String> {
    let path = dir.join("strength.csv");
    let text = std::fs::read_to_string(&path)
        .map_err(|e| format!("could not read {}: {e}", path.display()))?;
    let name = path.display().to_string();
    Ok((parse_csv(&text, &name)?, name))
}

fn print_progress(event: &Event) {
    match event.kind() {
        Some(KindEvent::Denoise(DenoiseEvent::MethodDone { run })) => eprintln!(
            "{} · seed {}: validation accuracy {:.4}",
            run.method.name(),
            run.seed + 1,
            run.validation_accuracy
        ),
        Some(KindEvent::Strength(StrengthEvent::Update {
            members, models, ..
        })) if members == models => {
            eprintln!("ensemble of {models} done; training the methods");
        }
        _ => {}
    }
}

fn print_table(report: &DenoiseReport) {
    eprintln!(
        "{:<15} {:>9} {:>7} {:>11}  (validation accuracy vs {}, {} seeds)",
        "method",
        "mean",
        "std",
        "train loss",
        report.validation_target,
        report.config.experiment.seeds
    );
    for s in &report.summary {
        eprintln!(
            "{:<15} {:>9.4} {:>7.4} {:>11}",
            s.method.name(),
            s.mean_accuracy,
            s.std_accuracy,
            s.mean_train_loss
                .map_or("n/a".into(), |l| format!("{l:.4}"))
        );
    }
}

/// Run `denoise`.
pub fn run_denoise(args: DenoiseArgs) -> Result<(), String> {
    let config = build(&args)?;
    if let Some(dir) = &args.out {
        super::check_writable(dir)?;
    }
    let strength = args.strength.as_deref().map(load_strength).transpose()?;
    let (compute, _setup) = compute::init(config.backend).map_err(|e| e.to_string())?;
    let mut runner = DenoiseRunner::setup(
        config,
        compute,
        None,
        strength
            .as_ref()
            .map(|(rows, name)| StrengthMu::from_rows(rows, name))
            .as_ref(),
    )
    .map_err(|e| e.to_string())?;
    if args.common.json {
        super::emit_pairs(runner.data());
    }
    drive(
        &mut runner,
        args.common.json,
        print_progress,
        |r, _| match &args.out {
            Some(dir) => {
                save(&r.report(), dir)?;
                eprintln!("partial results saved in {}", dir.display());
                Ok(())
            }
            None => Ok(()),
        },
    )?;
    let report = runner.report();
    if let Some(dir) = &args.out {
        save(&report, dir)?;
    }
    if !args.common.json {
        print_table(&report);
    }
    Ok(())
}

fn save(report: &DenoiseReport, dir: &std::path::Path) -> Result<(), String> {
    std::fs::create_dir_all(dir).map_err(|e| format!("could not create {}: {e}", dir.display()))?;
    let write = |name: &str, text: &str| super::write_file(&dir.join(name), text.as_bytes());
    write("denoise.csv", &runs_csv(report))?;
    let mut curves = String::from("method,seed,step,validation_accuracy\n");
    for r in &report.runs {
        for (step, acc) in &r.curve {
            curves.push_str(&format!("{},{},{step},{acc}\n", r.method.name(), r.seed));
        }
    }
    write("curves.csv", &curves)?;
    let json = serde_json::to_string_pretty(report).map_err(|e| e.to_string())?;
    write("report.json", &json)?;
    eprintln!("results: {}", dir.display());
    Ok(())
}
