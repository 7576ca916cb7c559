//! `rlhf-lab ppo`: a proxy reward model on the world's pairs, then PPO against it, measured
//! against the gold reward; writes DIR/report.json, DIR/curves.csv and the trained policy and
//! critic (DIR/policy.json with DIR/critic.json, or the transformer's DIR/policy.bin, DIR/critic.bin
//! and DIR/tokenizer.json).
use std::path::{Path, PathBuf};

use clap::Args;

use super::{CommonArgs, drive};
use crate::compute;
use crate::data::synthetic::SyntheticConfig;
use crate::experiment::ppo::config::PolicyKind;
use crate::experiment::ppo::curves::curves_csv;
use crate::experiment::ppo::{PpoConfig, PpoEvent, PpoRunner};
use crate::experiment::{DataSource, Event, ExperimentConfig, KindEvent, Run};

/// Flags of `ppo`.
#[derive(Args, Debug)]
pub struct PpoArgs {
    #[command(flatten)]
    common: CommonArgs,
    /// The world: synthetic (the known gold reward) or hh-sample (HH-RLHF text: the transformer
    /// policy SFT-trained on the chosen responses; gold = a bag-of-words reward model on every
    /// pair, proxy = a smaller one on --rm-pairs pairs, 500 by default, relabelled by gold).
    #[arg(long)]
    world: Option<String>,
    /// The policy: factorised (the teaching toy, exact KL) or transformer (a causal LM on the
    /// shared trunk, SFT on the world's reference first).
    #[arg(long)]
    policy: Option<PolicyKind>,
    /// vanilla, scaling, ppo-max (default) or reinforce.
    #[arg(long)]
    preset: Option<String>,
    /// Pairs the proxy reward model trains on (80 % of them; the rest are held out). On
    /// hh-sample: pairs relabelled by the gold reward model (default 500).
    #[arg(long, conflicts_with = "rm")]
    rm_pairs: Option<usize>,
    /// Use a saved reward model as the proxy instead of training one: the directory
    /// `train-rm --out` wrote on the synthetic world, or its model.bin.
    #[arg(long)]
    rm: Option<PathBuf>,
    /// Token-level KL penalty β.
    #[arg(long)]
    kl_coef: Option<f64>,
    /// PPO iterations.
    #[arg(long)]
    steps: Option<usize>,
    /// Responses per iteration.
    #[arg(long)]
    rollouts: Option<usize>,
    /// Policy learning rate.
    #[arg(long)]
    lr: Option<f64>,
    /// Write DIR/report.json, DIR/curves.csv and the policy and critic (DIR/policy.json and
    /// DIR/critic.json; the transformer adds DIR/policy.bin, DIR/critic.bin, DIR/tokenizer.json).
    #[arg(long)]
    out: Option<PathBuf>,
}

impl std::str::FromStr for PolicyKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "factorised" | "factorized" => Ok(Self::Factorised),
            "transformer" => Ok(Self::Transformer),
            other => Err(format!(
                "unknown policy '{other}': use factorised or transformer"
            )),
        }
    }
}

/// The default world of `ppo` and `rlhf`: the synthetic world with 2,000 pairs for the proxy.
pub(crate) fn default_run<E: Default>() -> Run<E> {
    Run {
        data: crate::experiment::DataConfig {
            source: DataSource::Synthetic(SyntheticConfig {
                pairs: 2000,
                ..Default::default()
            }),
            ..Default::default()
        },
        ..Default::default()
    }
}

/// `--world synthetic|hh-sample`: the data source, and PPO's settings for text on the text track.
pub(crate) fn set_world(
    source: &mut DataSource,
    ppo: &mut PpoConfig,
    world: &str,
) -> Result<(), String> {
    *source = match world {
        "synthetic" => match source {
            DataSource::Synthetic(s) => DataSource::Synthetic(s.clone()),
            _ => DataSource::from_arg("synthetic"),
        },
        "hh-sample" | "hh" => {
            *ppo = ppo.clone().for_text();
            DataSource::HhSample
        }
        other => return Err(format!("--world {other}: use synthetic or hh-sample")),
    };
    Ok(())
}

fn build(args: &PpoArgs) -> Result<Run<PpoConfig>, String> {
    let mut base = default_run();
    if args.preset.is_some() && args.common.has_config() {
        return Err(
            "--preset and --config (or --lesson) both set the switches: give one (a config from a report already holds its preset's values)".into(),
        );
    }
    if let Some(p) = &args.preset {
        base.experiment = PpoConfig::preset(p)?;
    }
    let mut run = args.common.run_config("ppo", base, |e| match e {
        ExperimentConfig::Ppo(c) => Some(c.clone()),
        _ => None,
    })?;
    if let Some(w) = &args.world {
        set_world(&mut run.data.source, &mut run.experiment, w)?;
    }
    if let Some(n) = args.rm_pairs {
        match &mut run.data.source {
            DataSource::Synthetic(s) => s.pairs = n,
            _ => run.experiment.text.proxy_pairs = n,
        }
    }
    let c = &mut run.experiment;
    if let Some(p) = args.policy {
        c.policy = p;
    }
    if let Some(b) = args.kl_coef {
        c.kl_coef = b;
    }
    if let Some(s) = args.steps {
        c.steps = s;
    }
    if let Some(r) = args.rollouts {
        c.rollouts = r;
    }
    if let Some(lr) = args.lr {
        c.lr = lr;
    }
    run.validate().map_err(|e| format!("invalid config: {e}"))?;
    Ok(run)
}

/// Human-mode lines: the proxy, every 25th step, and the start of each run of collapse flags.
fn print_progress(event: &Event, last_flag: &mut Option<usize>) {
    match event {
        Event::Kind(KindEvent::Ppo(PpoEvent::Setup {
            proxy_validation_accuracy,
            gold_validation_accuracy,
            critic_init,
            ..
        })) => {
            let show = |a: &Option<f32>| a.map_or("n/a".into(), |a| format!("{a:.3}"));
            match gold_validation_accuracy {
                Some(_) => eprintln!(
                    "gold reward model: held-out accuracy on the pairs' labels {}; proxy: held-out accuracy on labels gold drew {}",
                    show(gold_validation_accuracy),
                    show(proxy_validation_accuracy)
                ),
                None => eprintln!(
                    "proxy reward model: held-out accuracy vs gold {}",
                    show(proxy_validation_accuracy)
                ),
            }
            eprintln!("critic: {critic_init}");
        }
        Event::Kind(KindEvent::Ppo(PpoEvent::Sft { step, steps, loss }))
            if step % 50 == 0 || step == steps =>
        {
            eprintln!("SFT step {step}/{steps}: loss {loss:.3}")
        }
        Event::Kind(KindEvent::Ppo(PpoEvent::Step(s))) if s.step % 25 == 0 => eprintln!(
            "step {:>4}: proxy {:>7.3}  gold {:>7.3}  KL {:>7.3}  length {:>5.2}  entropy {:.3}",
            s.step, s.proxy, s.gold, s.kl, s.length, s.entropy
        ),
        Event::Kind(KindEvent::Ppo(PpoEvent::Collapse { step, signals })) => {
            if last_flag.is_none_or(|l| l + 1 != *step) {
                eprintln!("step {step}: collapse detector fired (signals {signals:?})");
            }
            *last_flag = Some(*step);
        }
        _ => {}
    }
}

fn save(runner: &PpoRunner, dir: &Path) -> Result<(), String> {
    std::fs::create_dir_all(dir).map_err(|e| format!("could not create {}: {e}", dir.display()))?;
    let write = |name: &str, text: &str| super::write_file(&dir.join(name), text.as_bytes());
    let report = runner.report();
    write(
        "report.json",
        &serde_json::to_string_pretty(&report).map_err(|e| e.to_string())?,
    )?;
    write(
        "curves.csv",
        &curves_csv(runner.curves(), report.config.experiment.smooth),
    )?;
    for (name, bytes) in runner.model_files().map_err(|e| e.to_string())? {
        super::write_file(&dir.join(name), &bytes)?;
    }
    eprintln!("results: {}", dir.display());
    Ok(())
}

/// Run `ppo`.
pub fn run_ppo(args: PpoArgs) -> Result<(), String> {
    let config = build(&args)?;
    if let Some(dir) = &args.out {
        super::check_writable(dir)?;
    }
    let (compute, _setup) = compute::init(config.backend).map_err(|e| e.to_string())?;
    let proxy = args
        .rm
        .as_deref()
        .map(|p| {
            let file = if p.is_dir() {
                p.join(crate::model::saved::MODEL_FILE)
            } else {
                p.to_path_buf()
            };
            std::fs::read(&file).map_err(|e| {
                format!(
                    "could not read the reward model {}: {e}; give the directory train-rm --out wrote",
                    file.display()
                )
            })
        })
        .transpose()?;
    let mut runner =
        PpoRunner::setup(config, compute, None, proxy.as_deref()).map_err(|e| e.to_string())?;
    let mut last_flag = None;
    drive(
        &mut runner,
        args.common.json,
        |e| print_progress(e, &mut last_flag),
        |r, _| match &args.out {
            Some(dir) => save(r, dir),
            None => Ok(()),
        },
    )?;
    if let Some(dir) = &args.out {
        save(&runner, dir)?;
    }
    if !args.common.json {
        eprintln!("{}", runner.report().summary());
    }
    Ok(())
}

/// Flags of `bon`.
#[derive(Args, Debug)]
pub struct BonArgs {
    /// The world (synthetic only: best-of-n needs its gold reward).
    #[arg(long, default_value = "synthetic")]
    world: String,
    /// Synthetic world: seed of its reference distribution (default: the reward model's own
    /// training world).
    #[arg(long)]
    world_seed: Option<u64>,
    /// A reward model trained on the synthetic world: the directory `train-rm --out` wrote, or
    /// its model.bin.
    #[arg(long)]
    rm: PathBuf,
    /// The n of the curve, comma-separated.
    #[arg(long, default_value = "1,2,4,8,16,32,64,128,256,512,1024")]
    n: String,
    /// Draws of max(n) reference responses.
    #[arg(long, default_value_t = 16)]
    trials: usize,
    /// Seed of the draws.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Compute backend: auto, gpu or cpu.
    #[arg(long, default_value = "auto")]
    backend: crate::compute::BackendChoice,
    /// Write DIR/bon.csv (n, kl, proxy, gold).
    #[arg(long)]
    out: PathBuf,
}

/// Run `bon`.
pub fn run_bon(args: BonArgs) -> Result<(), String> {
    use crate::experiment::ppo::bon::{best_of_n, bon_csv};
    use crate::experiment::ppo::proxy::Proxy;
    super::check_writable(&args.out)?;
    if args.world != "synthetic" {
        return Err(format!(
            "--world {}: best-of-n needs the gold reward of --world synthetic",
            args.world
        ));
    }
    let ns = args
        .n
        .split(',')
        .map(|s| {
            s.trim()
                .parse::<usize>()
                .ok()
                .filter(|&n| (1..=65_536).contains(&n))
                .ok_or_else(|| format!("--n {s}: each n is a whole number from 1 to 65536"))
        })
        .collect::<Result<Vec<_>, _>>()?;
    if args.trials == 0 {
        return Err("--trials 0: draw at least once".into());
    }
    let saved = super::score::read_model(&args.rm)?;
    let trained = crate::experiment::rm::score::training_config(&saved)
        .map_err(|e| format!("model file {}: {e}", args.rm.display()))?;
    let mut world = match trained.data.source {
        DataSource::Synthetic(s) => s,
        other => {
            return Err(format!(
                "model file {}: it was trained on {}, not the synthetic world, whose gold reward best-of-n measures",
                args.rm.display(),
                other.label()
            ));
        }
    };
    if let Some(s) = args.world_seed {
        world.seed = s;
    }
    let world = crate::data::synthetic::World::new(&world);
    let (compute, _setup) = compute::init(args.backend).map_err(|e| e.to_string())?;
    let model = saved
        .load(&compute.device)
        .map_err(|e| format!("model file {}: {e}", args.rm.display()))?;
    let proxy = Proxy::new(model, &saved.tokenizer, &world, &saved.header.model)
        .map_err(|e| format!("model file {}: {e}", args.rm.display()))?;
    let points = pollster::block_on(best_of_n(&world, &proxy, &ns, args.trials, args.seed))
        .map_err(|e| e.to_string())?;
    std::fs::create_dir_all(&args.out)
        .map_err(|e| format!("could not create {}: {e}", args.out.display()))?;
    super::write_file(&args.out.join("bon.csv"), bon_csv(&points).as_bytes())?;
    for p in &points {
        eprintln!(
            "n {:>5}: √KL {:.3}  proxy {:>7.3}  gold {:>7.3}",
            p.n, p.sqrt_kl, p.proxy, p.gold
        );
    }
    eprintln!("bon: {}", args.out.join("bon.csv").display());
    Ok(())
}
