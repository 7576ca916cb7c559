//! Command line: `rlhf-lab` (window), `rlhf-lab train-rm …`, `strength …`, `denoise …`,
//! `export …`, `bench rm|strength|ppo …`.
mod bench;
mod denoise;
mod metarm;
mod ppo;
mod recipe;
mod rlhf;
mod score;
mod strength;

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};

use crate::compute::{self, BackendChoice};
use crate::data::formats::{Format, Pairing};
use crate::experiment::runner::step_reported;
use crate::experiment::{
    DataConfig, DataSource, Event, ExperimentConfig, ExperimentError, KindEvent, RmEvent, RmRunner,
    RmTrainConfig, Run, RunConfig, Runner,
};

#[derive(Parser, Debug)]
#[command(
    name = "rlhf-lab",
    version,
    about = "Train and watch RLHF reward models (Secrets of RLHF Part II)"
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Open the app window (the default with no subcommand).
    Gui {
        /// Compute backend: auto, gpu or cpu.
        #[arg(long, default_value = "auto")]
        backend: BackendChoice,
        /// Start training as soon as the window opens.
        #[arg(long)]
        autostart: bool,
        /// The tab to open: rm, strength, denoise, ppo or rlhf (its own lesson).
        #[arg(long)]
        tab: Option<String>,
        /// The lesson preset to open (assets/presets/lessons/: rm, contrastive, strength,
        /// bands, denoise, soft-labels, ppo, rlhf).
        #[arg(long, conflicts_with = "tab")]
        preset: Option<String>,
        /// A run config to open (JSON, as `Save config…` or a report's "config" writes it; what
        /// it leaves out comes from its tab's lesson).
        #[arg(long, conflicts_with_all = ["tab", "preset"])]
        config: Option<PathBuf>,
    },
    /// Train a reward model headless and report its accuracy.
    TrainRm(Box<TrainRmArgs>),
    /// Preference strength: train an ensemble, write DIR/strength.csv and DIR/report.json.
    Strength(Box<strength::StrengthArgs>),
    /// Compare denoising methods over seeds; write DIR/denoise.csv and DIR/report.json.
    Denoise(Box<denoise::DenoiseArgs>),
    /// PPO against a proxy reward model, measured against the gold reward; write
    /// DIR/report.json and DIR/curves.csv.
    Ppo(Box<ppo::PpoArgs>),
    /// Iterative RLHF: rounds of (meta set from the last policy → reward model → PPO-max), a
    /// MetaRM arm beside a vanilla one; write DIR/report.json, DIR/rounds.csv, the shift views and
    /// every round's models.
    Rlhf(Box<rlhf::RlhfArgs>),
    /// One MetaRM round on a saved policy: a vanilla and a MetaRM reward model under one seed,
    /// measured on the original pairs and on the policy's samples; write DIR/report.json and
    /// the two models.
    Metarm(Box<metarm::MetarmArgs>),
    /// Best-of-n on a saved reward model from the synthetic world's reference; write
    /// DIR/bon.csv (n, kl, proxy, gold).
    Bon(Box<ppo::BonArgs>),
    /// Score pairs with a saved reward model; write index,reward_chosen,reward_rejected.
    Score(Box<score::ScoreArgs>),
    /// Write pairs with the strength-based flip applied and a margin column (TRL format).
    Export(Box<strength::ExportArgs>),
    /// Turn a run folder into a folder to take to a GPU machine: the pairs (flipped and margined
    /// where the run measured strength), the prompts, ready-to-run TRL or OpenRLHF scripts
    /// (MetaRM included for TRL), MAPPING.md and README.md.
    Recipe(Box<recipe::RecipeArgs>),
    /// Run a fixed benchmark workload and print JSON figures.
    Bench {
        #[command(subcommand)]
        workload: bench::BenchWorkload,
    },
}

/// Data options shared by every command that reads data.
#[derive(Args, Debug, Clone)]
pub(crate) struct DataArgs {
    /// `synthetic`, `hh-sample`, or a path to a preference file: JSONL, a JSON array, CSV or
    /// Parquet, plain, .gz or .zst, in any supported layout (see the README).
    #[arg(long)]
    data: Option<String>,
    /// Synthetic world: number of pairs.
    #[arg(long)]
    pairs: Option<usize>,
    /// Synthetic world: fraction of labels flipped on purpose (ρ).
    #[arg(long)]
    flip_rate: Option<f64>,
    /// Synthetic world: Bradley–Terry label temperature.
    #[arg(long)]
    temperature: Option<f64>,
    /// Synthetic world: seed of the world and its pairs (independent of --seed, so runs with
    /// different seeds see the same data).
    #[arg(long)]
    world_seed: Option<u64>,
    /// Skip (and count) malformed records instead of stopping at the first.
    #[arg(long)]
    skip_bad_lines: bool,
    /// Ground truth of mislabeling for AUROC and precision/recall: a dotted path to a boolean
    /// in each record (meta.flipped), or a number compared with a value ("GPT4 label==0",
    /// "mean preference difference<0"; operators < <= > >= == !=).
    #[arg(long)]
    truth_field: Option<String>,
    /// How rated completions (UltraFeedback, Nectar) become pairs: best-vs-random (the best
    /// against a random lower-rated one) or all-pairs.
    #[arg(long)]
    pairing: Option<String>,
    /// Rated completions: the smallest rating gap that makes a pair (equal ratings never do).
    #[arg(long)]
    min_rating_gap: Option<f64>,
    /// Drop pairs whose score_chosen − score_rejected is smaller than this (near ties; equal
    /// scores are always dropped, and counted).
    #[arg(long)]
    min_score_gap: Option<f64>,
    /// Dotted path to a number in each record used as the pair's margin in the loss (e.g.
    /// margin, as `export` writes it).
    #[arg(long)]
    margin_field: Option<String>,
    /// Dotted path to a number in each record used as preference strength μ, so `strength`
    /// and `denoise` need no ensemble (e.g. "mean preference difference", the paper's release).
    #[arg(long)]
    strength_field: Option<String>,
    /// Dotted path to the spread σ of that strength (e.g. "std preference difference").
    #[arg(long)]
    strength_std_field: Option<String>,
    /// Flip this fraction of all pairs at random first and use them as ground truth (the
    /// injected-noise test on real text).
    #[arg(long)]
    inject_flip_rate: Option<f64>,
}

/// `--format NAME`: the record layout of the data file (the `export` command, whose
/// `--format` names what it writes, calls it `--input-format`).
#[derive(Args, Debug, Clone)]
pub(crate) struct LayoutArg {
    /// Read the data file in this record layout instead of detecting it (hh, implicit,
    /// trl-standard, trl-conversational, hh-strength, stack-exchange, shp, summarize,
    /// pku-saferlhf, ultrafeedback, nectar).
    #[arg(long)]
    format: Option<String>,
}

/// Sets the layout a `--format` / `--input-format` flag names.
pub(crate) fn apply_layout(
    data: &mut DataConfig,
    name: Option<&str>,
    flag: &str,
) -> Result<(), String> {
    if let Some(name) = name {
        data.format = Some(Format::from_name(name).map_err(|e| format!("{flag}: {e}"))?);
    }
    Ok(())
}

/// What every experiment command shares: the data, the run config file, the seed, the backend
/// and the output mode. These flags override the config file's fields.
#[derive(Args, Debug, Clone)]
pub(crate) struct CommonArgs {
    #[command(flatten)]
    data: DataArgs,
    #[command(flatten)]
    layout: LayoutArg,
    /// A JSON run config: a saved config.json, the "config" of a report.json, or an older
    /// layout (converted, with a notice). Flags override its fields.
    #[arg(long)]
    config: Option<PathBuf>,
    /// Start from one of the app's lessons (assets/presets/lessons/: rm, contrastive,
    /// strength, bands, denoise, soft-labels, ppo, rlhf) instead of the defaults; flags override
    /// it.
    #[arg(long, conflicts_with = "config")]
    lesson: Option<String>,
    /// Compute backend: auto, gpu or cpu.
    #[arg(long)]
    backend: Option<BackendChoice>,
    /// Seed of the split, the weights, the shuffling and dropout (the synthetic world has
    /// --world-seed).
    #[arg(long)]
    seed: Option<u64>,
    /// Print one JSON event per line on stdout.
    #[arg(long)]
    json: bool,
}

impl CommonArgs {
    /// The run config of a `command` whose experiment `pick` takes out of any experiment: the
    /// `--config` file (which must be of that kind) or `default`, then the flags.
    pub(crate) fn run_config<K>(
        &self,
        command: &str,
        default: Run<K>,
        pick: impl FnOnce(&ExperimentConfig) -> Option<K>,
    ) -> Result<Run<K>, String> {
        let mut run = match (&self.config, &self.lesson) {
            (None, Some(name)) => {
                let config = crate::experiment::presets::find(name)
                    .and_then(|p| p.run_config())
                    .map_err(|e| format!("--lesson: {e}"))?;
                let experiment = pick(&config.experiment).ok_or_else(|| {
                    format!(
                        "lesson '{name}' is a {} experiment, not one for `{command}`: run `rlhf-lab {} --lesson {name}`",
                        crate::experiment::KindConfig::kind(&config.experiment),
                        config.experiment.command()
                    )
                })?;
                config.with(experiment)
            }
            (None, None) => default,
            (Some(path), _) => {
                let text = std::fs::read_to_string(path)
                    .map_err(|e| format!("could not read config {}: {e}", path.display()))?;
                let parsed = RunConfig::parse(&text)
                    .map_err(|e| format!("config {}: {e}", path.display()))?;
                if let Some(note) = &parsed.note {
                    eprintln!("notice: config {}: {note}", path.display());
                }
                let config = parsed.config;
                let experiment = pick(&config.experiment).ok_or_else(|| {
                    let other = &config.experiment;
                    format!(
                        "config {} is a {} experiment, not one for `{command}`: run it with `rlhf-lab {} --config {}`",
                        path.display(),
                        crate::experiment::KindConfig::kind(other),
                        other.command(),
                        path.display()
                    )
                })?;
                config.with(experiment)
            }
        };
        apply_data_args(&mut run.data, &self.data)?;
        apply_layout(&mut run.data, self.layout.format.as_deref(), "--format")?;
        if let Some(s) = self.seed {
            run.seed = s;
        }
        if let Some(b) = self.backend {
            run.backend = b;
        }
        Ok(run)
    }

    /// Whether a config file or a lesson was given.
    pub(crate) fn has_config(&self) -> bool {
        self.config.is_some() || self.lesson.is_some()
    }
}

#[derive(Args, Debug)]
struct TrainRmArgs {
    #[command(flatten)]
    common: CommonArgs,
    /// Optimizer steps (default: from --epochs).
    #[arg(long)]
    steps: Option<usize>,
    /// Passes over the training pairs (default 3), used when --steps is not given.
    #[arg(long)]
    epochs: Option<f64>,
    /// Pairs per step.
    #[arg(long)]
    batch_size: Option<usize>,
    /// Peak learning rate.
    #[arg(long)]
    lr: Option<f64>,
    /// Reward model preset: transformer (default), bow (bag of words, fast) or bow-text (bag
    /// of words with bigrams, for real text).
    #[arg(long)]
    arch: Option<String>,
    /// Contrastive loss with the paper's settings: none, simcse, swav or swav-diff.
    #[arg(long)]
    contrastive: Option<String>,
    /// Weight β of the contrastive loss.
    #[arg(long)]
    beta: Option<f64>,
    /// Temperature τ of the contrastive loss.
    #[arg(long)]
    tau: Option<f64>,
    /// SwAV prototypes K.
    #[arg(long)]
    prototypes: Option<usize>,
    /// SimCSE instances: pairs (every response) or difference (±(f(c) − f(r))).
    #[arg(long)]
    instances: Option<String>,
    /// Dropout of the model (the contrastive views; the paper uses 0.05).
    #[arg(long)]
    dropout: Option<f64>,
    /// Write DIR/report.json, DIR/model.bin (the trained model), DIR/config.json and
    /// DIR/tokenizer.json.
    #[arg(long)]
    out: Option<PathBuf>,
}

use crate::app::native::Opening;

/// Entry point of the binary.
pub fn main() -> ExitCode {
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("warn")).init();
    let cli = Cli::parse();
    let result = match cli.command {
        None => crate::app::native::run(BackendChoice::Auto, false, Opening::Tab("rm".into())),
        Some(Command::Gui {
            backend,
            autostart,
            tab,
            preset,
            config,
        }) => {
            let opening = match (tab, preset, config) {
                (_, _, Some(path)) => Opening::Config(path),
                (_, Some(p), _) => Opening::Preset(p),
                (Some(t), _, _) => Opening::Tab(t),
                _ => Opening::Tab("rm".into()),
            };
            crate::app::native::run(backend, autostart, opening)
        }
        Some(Command::TrainRm(args)) => train_rm(*args),
        Some(Command::Strength(args)) => strength::run_strength(*args),
        Some(Command::Score(args)) => score::run_score(*args),
        Some(Command::Export(args)) => strength::run_export(*args),
        Some(Command::Recipe(args)) => recipe::run_recipe(*args),
        Some(Command::Denoise(args)) => denoise::run_denoise(*args),
        Some(Command::Ppo(args)) => ppo::run_ppo(*args),
        Some(Command::Bon(args)) => ppo::run_bon(*args),
        Some(Command::Metarm(args)) => metarm::run_metarm(*args),
        Some(Command::Rlhf(args)) => rlhf::run_rlhf(*args),
        Some(Command::Bench { workload }) => bench::run_bench(workload),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
}

/// Apply `--data` and the synthetic-world flags to a data config.
pub(crate) fn apply_data_args(data: &mut DataConfig, args: &DataArgs) -> Result<(), String> {
    if let Some(d) = &args.data {
        data.source = DataSource::from_arg(d);
    }
    if let Some(f) = &args.truth_field {
        data.truth_field = Some(f.clone());
    }
    if let Some(r) = args.inject_flip_rate {
        data.inject_flip_rate = r;
    }
    if let Some(p) = &args.pairing {
        data.pairing = Pairing::parse(p).map_err(|e| format!("--pairing: {e}"))?;
    }
    if let Some(g) = args.min_rating_gap {
        data.min_rating_gap = g;
    }
    if let Some(g) = args.min_score_gap {
        data.min_score_gap = g;
    }
    for (target, value) in [
        (&mut data.margin_field, &args.margin_field),
        (&mut data.strength_field, &args.strength_field),
        (&mut data.strength_std_field, &args.strength_std_field),
    ] {
        if let Some(v) = value {
            *target = Some(v.clone());
        }
    }
    if args.skip_bad_lines {
        data.skip_bad_lines = true;
    }
    let synthetic_flags = args.pairs.is_some()
        || args.flip_rate.is_some()
        || args.temperature.is_some()
        || args.world_seed.is_some();
    match &mut data.source {
        DataSource::Synthetic(s) => {
            if let Some(n) = args.pairs {
                s.pairs = n;
            }
            if let Some(r) = args.flip_rate {
                s.flip_rate = r;
            }
            if let Some(t) = args.temperature {
                s.temperature = t;
            }
            if let Some(w) = args.world_seed {
                s.seed = w;
            }
        }
        _ if synthetic_flags => {
            return Err(
                "--pairs, --flip-rate, --temperature and --world-seed apply to --data synthetic only".into(),
            );
        }
        _ => {}
    }
    Ok(())
}

/// Make sure `dir` can be written before a run starts (so a long run does not fail only at
/// its end): create it and write a probe file there.
pub(crate) fn check_writable(dir: &std::path::Path) -> Result<(), String> {
    let fail = |e: std::io::Error| {
        format!(
            "--out {}: the folder cannot be written ({e}); choose another",
            dir.display()
        )
    };
    std::fs::create_dir_all(dir).map_err(fail)?;
    let probe = dir.join(".rlhf-lab-write-check");
    std::fs::write(&probe, b"").map_err(fail)?;
    let _ = std::fs::remove_file(probe);
    Ok(())
}

/// Check before a run that the file `path` can be written (`flag` names the option), so a long
/// run does not end on "could not write": its folder exists and a file can be made there. A file
/// the check makes is removed again.
pub(crate) fn check_writable_file(path: &std::path::Path, flag: &str) -> Result<(), String> {
    let fail = |e: std::io::Error| {
        format!(
            "{flag} {}: the file cannot be written ({e}); choose another path",
            path.display()
        )
    };
    // Anything already at the path (a file, or a link, even one pointing nowhere) is opened for
    // appending and left as it was; only a file this check creates itself is removed again.
    if std::fs::symlink_metadata(path).is_ok() {
        std::fs::OpenOptions::new()
            .append(true)
            .open(path)
            .map_err(fail)?;
        return Ok(());
    }
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
        .map_err(fail)?;
    let _ = std::fs::remove_file(path);
    Ok(())
}

/// Write `bytes` to `path`, naming the file in the error.
pub(crate) fn write_file(path: &std::path::Path, bytes: &[u8]) -> Result<(), String> {
    std::fs::write(path, bytes).map_err(|e| format!("could not write {}: {e}", path.display()))
}

fn build_config(args: &TrainRmArgs) -> Result<Run<RmTrainConfig>, String> {
    let mut run = args
        .common
        .run_config("train-rm", Run::default(), |e| match e {
            ExperimentConfig::Rm(c) => Some(c.clone()),
            _ => None,
        })?;
    let config = &mut run.experiment;
    if !args.common.has_config() && args.arch.is_none() && run.data.source.is_text() {
        config.use_text_defaults();
        eprintln!(
            "real text: the bag-of-words reward model (bow), 3 epochs at lr 0.01, measured best here; --arch transformer or bow-text for the others"
        );
    }
    if let Some(e) = args.epochs {
        config.epochs = e;
        config.steps = 0;
    }
    if let Some(s) = args.steps {
        config.steps = s;
    }
    if let Some(b) = args.batch_size {
        config.batch_size = b;
    }
    if let Some(a) = &args.arch {
        config.model = crate::model::RewardModelConfig::from_preset(a)?;
    }
    apply_contrastive_args(config, args)?;
    if let Some(lr) = args.lr {
        config.optimizer.lr = lr;
    }
    run.validate().map_err(|e| format!("invalid config: {e}"))?;
    Ok(run)
}

/// The run lifecycle in human mode, for every command.
fn print_lifecycle(event: &Event) {
    match event {
        Event::Started {
            backend,
            adapter,
            total_steps,
            ..
        } => eprintln!("backend: {backend} ({adapter}); {total_steps} steps"),
        Event::Notice { message } => eprintln!("notice: {message}"),
        _ => {}
    }
}

/// The reward-model payload in human mode.
fn print_rm(event: &Event) {
    let Some(KindEvent::Rm(event)) = event.kind() else {
        return;
    };
    match event {
        RmEvent::Setup {
            data,
            train_pairs,
            validation_pairs,
            skipped_lines,
            dropped_ties,
            params,
            ..
        } => {
            eprintln!(
                "data: {data} — {train_pairs} train / {validation_pairs} validation pairs; {params} parameters"
            );
            if *skipped_lines > 0 {
                eprintln!("skipped {skipped_lines} malformed line(s)");
            }
            if *dropped_ties > 0 {
                eprintln!(
                    "dropped {dropped_ties} tied pair(s) (equal scores or ratings, or the same \
                     response as chosen and rejected)"
                );
            }
        }
        RmEvent::Eval {
            step,
            validation_accuracy,
            validation_label_accuracy,
            validation_loss,
            ..
        } => eprintln!(
            "step {step:>5}: validation accuracy {validation_accuracy:.3} (labels {validation_label_accuracy:.3}), loss {validation_loss:.3}"
        ),
        RmEvent::Done {
            train_accuracy,
            validation_accuracy,
            wall_time_s,
            train_pairs_per_s,
            ..
        } => eprintln!(
            "done: train accuracy {train_accuracy:.3}, validation accuracy {validation_accuracy:.3}, {wall_time_s:.1} s, {train_pairs_per_s:.0} pairs/s"
        ),
        RmEvent::Features {
            separation_auroc: Some(a),
            ..
        } => eprintln!("held-out feature separation (linear-probe AUROC): {a:.3}"),
        RmEvent::Step { .. } | RmEvent::Features { .. } | RmEvent::Model { .. } => {}
    }
}

fn train_rm(args: TrainRmArgs) -> Result<(), String> {
    let config = build_config(&args)?;
    if let Some(dir) = &args.out {
        check_writable(dir)?;
    }
    let (compute, _setup) = compute::init(config.backend).map_err(|e| e.to_string())?;
    // Human mode prints the Notice event; JSON mode also says it on stderr, off the event stream.
    if args.common.json
        && let Some(n) = &compute.notice
    {
        eprintln!("notice: {n}");
    }
    let mut runner = RmRunner::setup(config, compute, None).map_err(|e| e.to_string())?;
    drive(&mut runner, args.common.json, print_rm, |r, e| {
        save_partial(r, args.out.as_ref(), e);
        Ok(())
    })?;
    let report = runner.report();
    if let Some(dir) = &args.out {
        let path = report.write(dir).map_err(|e| e.to_string())?;
        eprintln!("report: {}", path.display());
        let tokenizer = dir.join("tokenizer.json");
        runner
            .data()
            .tokenizer
            .save(&tokenizer)
            .map_err(|e| e.to_string())?;
        eprintln!("tokenizer: {}", tokenizer.display());
        let config = serde_json::to_string_pretty(runner.config()).map_err(|e| e.to_string())?;
        write_file(&dir.join("config.json"), config.as_bytes())?;
        let model = dir.join(crate::model::saved::MODEL_FILE);
        write_file(&model, &runner.model_file().map_err(|e| e.to_string())?)?;
        eprintln!("model: {}", model.display());
    }
    if !args.common.json {
        let show = |x: Option<f32>| x.map_or("n/a".to_string(), |v| format!("{v:.3}"));
        eprintln!(
            "validation accuracy {} vs {} (shorter-wins baseline {:.3}), train accuracy {} vs labels",
            show(report.validation_accuracy),
            report.validation_target,
            report.baseline_accuracy,
            show(report.train_accuracy)
        );
    }
    Ok(())
}

/// Keep what was done when a run fails midway: the report so far goes to `DIR/report.json`.
fn save_partial(runner: &RmRunner, out: Option<&PathBuf>, error: &ExperimentError) {
    if let Some(dir) = out
        && runner.steps_done() > 0
    {
        match runner.report().write(dir) {
            Ok(p) => eprintln!(
                "partial report (after {} steps): {}",
                runner.steps_done(),
                p.display()
            ),
            Err(e) => eprintln!("could not save the partial report: {e} (after: {error})"),
        }
    }
}

/// Step a runner to its end, printing its events as JSON lines (`json`), or the lifecycle and,
/// through `human`, the command's own payload.
/// On an error the JSON stream gets an Error event, `on_error` keeps what was done (a partial
/// report), and the error is returned. Every headless command runs through this loop.
pub(crate) fn drive<R: Runner>(
    runner: &mut R,
    json: bool,
    mut human: impl FnMut(&Event),
    on_error: impl FnOnce(&R, &ExperimentError) -> Result<(), String>,
) -> Result<(), String> {
    let stdout = std::io::stdout();
    while !runner.is_finished() {
        match pollster::block_on(step_reported(runner)) {
            Ok(events) => {
                for ev in &events {
                    if json {
                        emit_json(&stdout, ev);
                    } else {
                        print_lifecycle(ev);
                        human(ev);
                    }
                }
            }
            Err(e) => {
                if json {
                    emit_json(
                        &stdout,
                        &Event::Error {
                            message: e.to_string(),
                        },
                    );
                }
                on_error(runner, &e)?;
                return Err(e.to_string());
            }
        }
    }
    Ok(())
}

/// The first event of a run over pairs, as the app's run starts: the pairs and their split.
pub(crate) fn emit_pairs(data: &crate::experiment::prepare::PreparedData) {
    emit_json(
        &std::io::stdout(),
        &crate::experiment::StrengthEvent::pairs_of(data).into(),
    );
}

pub(crate) fn emit_json(stdout: &std::io::Stdout, event: &Event) {
    if let Ok(line) = serde_json::to_string(event) {
        let mut lock = stdout.lock();
        // A closed pipe (e.g. `| head`) is not an error worth dying for.
        let _ = writeln!(lock, "{line}");
    }
}

/// `--contrastive` and its knobs. A contrastive method on a model without dropout gets the
/// paper's 0.05 (its two views need it) unless `--dropout` says otherwise.
fn apply_contrastive_args(config: &mut RmTrainConfig, args: &TrainRmArgs) -> Result<(), String> {
    use crate::rm::contrastive::{ContrastiveConfig, ContrastiveMethod as M, Instances};
    if let Some(m) = &args.contrastive {
        let preset = ContrastiveConfig::from_arg(m)?;
        // Keep a config file's Sinkhorn settings; take the method's paper preset otherwise.
        config.contrastive = ContrastiveConfig {
            sinkhorn_epsilon: config.contrastive.sinkhorn_epsilon,
            sinkhorn_iterations: config.contrastive.sinkhorn_iterations,
            ..preset
        };
    }
    let method = config.contrastive.method;
    let knobs = args.beta.is_some()
        || args.tau.is_some()
        || args.prototypes.is_some()
        || args.instances.is_some();
    if method == M::None && knobs {
        return Err(
            "--beta, --tau, --prototypes and --instances need --contrastive simcse|swav|swav-diff"
                .into(),
        );
    }
    if args.prototypes.is_some() && method == M::Simcse {
        return Err("--prototypes applies to swav and swav-diff only".into());
    }
    if args.instances.is_some() && method != M::Simcse {
        return Err(
            "--instances applies to simcse only (swav uses pairs, swav-diff differences)".into(),
        );
    }
    let c = &mut config.contrastive;
    if let Some(b) = args.beta {
        c.beta = b;
    }
    if let Some(t) = args.tau {
        c.tau = t;
    }
    if let Some(k) = args.prototypes {
        c.prototypes = k;
    }
    if let Some(i) = &args.instances {
        c.instances = match i.as_str() {
            "pairs" => Instances::Pairs,
            "difference" => Instances::Difference,
            other => return Err(format!("--instances {other}: use pairs or difference")),
        };
    }
    match args.dropout {
        Some(d) => config.model.dropout = d,
        // Decided after every override: the two views need dropout (the paper's 0.05).
        None if config.contrastive.active() && config.model.dropout == 0.0 => {
            config.model.dropout = 0.05;
        }
        None => {}
    }
    Ok(())
}
