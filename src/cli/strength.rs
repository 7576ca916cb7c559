//! `rlhf-lab strength` (ensemble preference strength) and `rlhf-lab export` (TRL pairs with the
//! strength-based flip and a margin column).
use crate::experiment::{KindEvent, RmEvent, StrengthEvent};
use std::path::{Path, PathBuf};

use clap::Args;

use super::{CommonArgs, DataArgs, apply_data_args, drive};
use crate::compute;
use crate::experiment::prepare::load_pairs;
use crate::experiment::strength::io::{export_trl, parse_csv, to_csv};
use crate::experiment::{DataConfig, Event, ExperimentConfig, Run, StrengthConfig, StrengthRunner};
use crate::rm::denoise::{DenoiseSpec, FlipRule};

/// Flags of `strength`.
#[derive(Args, Debug)]
pub struct StrengthArgs {
    #[command(flatten)]
    common: CommonArgs,
    /// Ensemble size M (≥ 2; the paper uses 10).
    #[arg(long)]
    models: Option<usize>,
    /// K-fold cross-fitting (K ≥ 2); without it members score their own training pairs.
    #[arg(long)]
    cross_fit: Option<usize>,
    /// Reward model preset: bow (default for ensembles), bow-text (bigrams) or transformer.
    #[arg(long)]
    arch: Option<String>,
    /// Epochs of each member.
    #[arg(long)]
    epochs: Option<f64>,
    /// Peak learning rate of each member.
    #[arg(long)]
    lr: Option<f64>,
    /// Skip band-alone retraining (Fig 4).
    #[arg(long)]
    no_band_retrain: bool,
    /// Train the members (and the band-alone runs) one after another instead of together as
    /// stacked models (the same results to float rounding; for comparison).
    #[arg(long)]
    sequential_members: bool,
    /// Write DIR/strength.csv and DIR/report.json.
    #[arg(long)]
    out: Option<PathBuf>,
}

fn build(args: &StrengthArgs) -> Result<Run<StrengthConfig>, String> {
    let mut run = args
        .common
        .run_config("strength", Run::default(), |e| match e {
            ExperimentConfig::Strength(c) => Some(c.clone()),
            _ => None,
        })?;
    let c = &mut run.experiment;
    if let Some(m) = args.models {
        c.models = m;
    }
    if let Some(k) = args.cross_fit {
        c.cross_fit = k;
    }
    if let Some(a) = &args.arch {
        c.rm.model = crate::model::RewardModelConfig::from_preset(a)?;
    }
    if let Some(e) = args.epochs {
        c.rm.epochs = e;
        c.rm.steps = 0;
    }
    if let Some(lr) = args.lr {
        c.rm.optimizer.lr = lr;
    }
    if args.no_band_retrain {
        c.band_retrain = false;
    }
    if args.sequential_members {
        c.stacked = false;
    }
    run.validate().map_err(|e| format!("invalid config: {e}"))?;
    Ok(run)
}

fn print_progress(event: &Event) {
    match event {
        // The experiment's own start says the backend's notice once for all its runs.
        Event::Started {
            notice: Some(n), ..
        } => eprintln!("notice: {n}"),
        Event::Job { inner, phase, .. } => {
            if let Event::Kind(KindEvent::Rm(RmEvent::Done {
                validation_accuracy,
                wall_time_s,
                ..
            })) = inner.as_ref()
            {
                eprintln!(
                    "{}: validation accuracy {validation_accuracy:.3} ({wall_time_s:.1} s)",
                    phase.label()
                );
            }
        }
        Event::Kind(KindEvent::Strength(StrengthEvent::Update {
            members,
            models,
            mu,
            ..
        })) => {
            let neg = mu.iter().filter(|&&m| m < 0.0).count() as f32 / mu.len().max(1) as f32;
            if *models == 0 {
                eprintln!(
                    "strength from the data's field: fraction of pairs with μ < 0 = {neg:.3}"
                );
            } else {
                eprintln!("ensemble {members}/{models}: fraction of pairs with μ < 0 = {neg:.3}");
            }
        }
        Event::Kind(KindEvent::Strength(StrengthEvent::BandDone { result })) => eprintln!(
            "band {}: mean μ {:.2}, band-alone validation accuracy {:.3}",
            result.band + 1,
            result.mean_mu,
            result.validation_accuracy
        ),
        _ => {}
    }
}

/// Run `strength`.
pub fn run_strength(args: StrengthArgs) -> Result<(), String> {
    let config = build(&args)?;
    if let Some(dir) = &args.out {
        super::check_writable(dir)?;
    }
    let (compute, _setup) = compute::init(config.backend).map_err(|e| e.to_string())?;
    let mut runner = StrengthRunner::setup(config, compute, None).map_err(|e| e.to_string())?;
    if args.common.json {
        super::emit_pairs(runner.data());
    }
    drive(
        &mut runner,
        args.common.json,
        print_progress,
        |r, _| match &args.out {
            Some(dir) => {
                save(r, dir)?;
                eprintln!("partial results saved in {}", dir.display());
                Ok(())
            }
            None => Ok(()),
        },
    )?;
    let report = runner.report();
    if let Some(dir) = &args.out {
        save(&runner, dir)?;
    }
    if !args.common.json {
        let show = |x: Option<f32>| x.map_or("n/a".to_string(), |v| format!("{v:.3}"));
        eprintln!(
            "frac μ<0 {:.3} · ensemble validation accuracy {:.3} · AUROC {} · bottom-ρ precision {} recall {} (truth: {})",
            report.frac_mu_negative,
            report.ensemble_validation_accuracy,
            show(report.auroc),
            show(report.precision_bottom),
            show(report.recall_bottom),
            report.truth_source.as_deref().unwrap_or("none")
        );
    }
    Ok(())
}

fn write(path: &Path, text: &str) -> Result<(), String> {
    super::write_file(path, text.as_bytes())
}

fn save(runner: &StrengthRunner, dir: &Path) -> Result<(), String> {
    std::fs::create_dir_all(dir).map_err(|e| format!("could not create {}: {e}", dir.display()))?;
    if let Some(table) = runner.table() {
        let path = dir.join("strength.csv");
        write(&path, &to_csv(&table))?;
        eprintln!("strength: {}", path.display());
    }
    let json = serde_json::to_string_pretty(&runner.report()).map_err(|e| e.to_string())?;
    let path = dir.join("report.json");
    write(&path, &json)?;
    eprintln!("report: {}", path.display());
    Ok(())
}

/// Flags of `export`.
#[derive(Args, Debug)]
pub struct ExportArgs {
    #[command(flatten)]
    data: DataArgs,
    /// The folder `strength --out` wrote (its strength.csv is read).
    #[arg(long)]
    strength: PathBuf,
    /// Output format: trl (prompt/chosen/rejected strings plus margin).
    #[arg(long, default_value = "trl")]
    format: String,
    /// The record layout of the --data file, instead of detecting it (as `--format` elsewhere).
    #[arg(long)]
    input_format: Option<String>,
    /// Which pairs to flip: none, negative (μ < 0) or bottom:F (lowest fraction F by μ).
    #[arg(long, default_value = "negative")]
    flip: String,
    /// Margin scale λ (margin = λ·μ in the written orientation).
    #[arg(long, default_value_t = 1.0)]
    margin_scale: f64,
    /// The JSONL file to write.
    #[arg(long)]
    out: PathBuf,
}

/// Parse `none`, `negative` or `bottom:F`.
pub fn parse_flip(arg: &str) -> Result<FlipRule, String> {
    match arg {
        "none" => Ok(FlipRule::None),
        "negative" => Ok(FlipRule::MuNegative),
        other => match other.strip_prefix("bottom:").map(str::parse::<f64>) {
            Some(Ok(fraction)) => Ok(FlipRule::Bottom { fraction }),
            _ => Err(format!(
                "--flip {other}: use none, negative, or bottom:F with F a fraction such as bottom:0.2"
            )),
        },
    }
}

/// Run `export`.
pub fn run_export(args: ExportArgs) -> Result<(), String> {
    if args.format != "trl" {
        return Err(format!("--format {}: only trl is supported", args.format));
    }
    let flip = parse_flip(&args.flip)?;
    super::check_writable_file(&args.out, "--out")?;
    let csv_path = args.strength.join("strength.csv");
    let text = std::fs::read_to_string(&csv_path).map_err(|e| {
        format!(
            "could not read {}: {e}. Pass the folder that `strength --out` wrote",
            csv_path.display()
        )
    })?;
    let rows = parse_csv(&text, &csv_path.display().to_string())?;
    // μ of a run that injected flips is measured on swapped pairs: exporting it onto the
    // original data would flip and margin them the wrong way round.
    let report = std::fs::read_to_string(args.strength.join("report.json"))
        .ok()
        .and_then(|text| serde_json::from_str::<serde_json::Value>(&text).ok());
    if let Some(value) = &report
        // The run envelope keeps the data at the top; reports before it, in the rm block.
        && [&value["config"]["data"], &value["config"]["rm"]["data"]]
            .iter()
            .any(|d| d["inject_flip_rate"].as_f64().unwrap_or(0.0) > 0.0)
    {
        return Err(format!(
            "{} comes from a run with injected flips (a test of the method); rerun `strength` without --inject-flip-rate to export",
            args.strength.display()
        ));
    }
    // The strength run's own data options (layout, pairing of rated completions, gaps) number
    // the pairs as strength.csv does; flags override them.
    let mut data: DataConfig = report
        .and_then(|value| serde_json::from_value(value["config"]["data"].clone()).ok())
        .unwrap_or_default();
    apply_data_args(&mut data, &args.data)?;
    super::apply_layout(&mut data, args.input_format.as_deref(), "--input-format")?;
    if data.inject_flip_rate > 0.0 {
        return Err("--inject-flip-rate does not apply to export".into());
    }
    data.validate()
        .map_err(|e| format!("invalid data options: {e}"))?;
    let (pairs, _) = load_pairs(&data, None).map_err(|e| e.to_string())?;
    let spec = DenoiseSpec {
        flip,
        margin_scale: args.margin_scale,
        ..Default::default()
    };
    let (jsonl, flipped) = export_trl(&pairs, &rows, &spec)?;
    write(&args.out, &jsonl)?;
    eprintln!(
        "wrote {} pairs ({flipped} flipped) to {}",
        pairs.len(),
        args.out.display()
    );
    Ok(())
}
