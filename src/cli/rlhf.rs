//! `rlhf-lab rlhf --rounds R …`: iterative RLHF with a MetaRM arm and a vanilla arm; writes
//! DIR/report.json, DIR/rounds.csv, DIR/curves.csv (each arm's PPO steps), the shift views (DIR/shift_spread.csv, DIR/abs_dr_hist.csv,
//! DIR/features_pca.csv) and each round's reward model and policy (DIR/round-R/ARM/).
use std::path::{Path, PathBuf};

use clap::Args;

use super::{CommonArgs, drive, write_file};
use crate::compute;
use crate::experiment::rlhf::{Arm, RlhfConfig, RlhfEvent, RlhfRunner};
use crate::experiment::{Event, ExperimentConfig, KindEvent, Run};

/// Flags of `rlhf`.
#[derive(Args, Debug)]
pub struct RlhfArgs {
    #[command(flatten)]
    common: CommonArgs,
    /// The world: synthetic (the known gold reward) or hh-sample (HH-RLHF text: a gold reward
    /// model, a transformer policy SFT-trained on the chosen responses).
    #[arg(long)]
    world: Option<String>,
    /// Rounds of (meta set → reward model → PPO-max).
    #[arg(long)]
    rounds: Option<usize>,
    /// MetaRM's meta learning rate η.
    #[arg(long, allow_negative_numbers = true)]
    meta_lr: Option<f64>,
    /// Responses per meta group (k).
    #[arg(long)]
    k: Option<usize>,
    /// The arms, comma-separated: metarm, vanilla.
    #[arg(long)]
    arms: Option<String>,
    /// PPO iterations per round.
    #[arg(long)]
    ppo_steps: Option<usize>,
    /// Write DIR/report.json, DIR/rounds.csv, the shift views and every round's models.
    #[arg(long)]
    out: Option<PathBuf>,
}

fn build(args: &RlhfArgs) -> Result<Run<RlhfConfig>, String> {
    let mut run = args
        .common
        .run_config("rlhf", super::ppo::default_run(), |e| match e {
            ExperimentConfig::Rlhf(c) => Some(c.clone()),
            _ => None,
        })?;
    if let Some(w) = &args.world {
        super::ppo::set_world(&mut run.data.source, &mut run.experiment.ppo, w)?;
    }
    let c = &mut run.experiment;
    if let Some(r) = args.rounds {
        c.rounds = r;
    }
    if let Some(v) = args.meta_lr {
        c.ppo.proxy.meta_lr = v;
    }
    if let Some(k) = args.k {
        c.ppo.proxy.k = k;
    }
    if let Some(s) = args.ppo_steps {
        c.ppo.steps = s;
    }
    if let Some(list) = &args.arms {
        c.arms = list
            .split(',')
            .map(Arm::from_arg)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| format!("--arms: {e}"))?;
    }
    run.validate().map_err(|e| format!("invalid config: {e}"))?;
    Ok(run)
}

/// Human-mode lines: the stages and each round's rows.
fn print_progress(event: &Event) {
    match event {
        Event::Kind(KindEvent::Rlhf(RlhfEvent::Start {
            rm0_accuracy,
            sft_gold,
            tie_band_gold,
        })) => eprintln!(
            "RM_0 held-out accuracy {}; SFT gold {sft_gold:.3}; ties within ±{tie_band_gold:.3} gold",
            rm0_accuracy.map_or("n/a".into(), |a| format!("{a:.3}"))
        ),
        Event::Kind(KindEvent::Rlhf(RlhfEvent::Stage { round, arm, what })) if *round > 0 => {
            eprintln!("round {round} · {arm}: {what}")
        }
        Event::Kind(KindEvent::Rlhf(RlhfEvent::Round(r))) => eprintln!(
            "round {} {:>7}: gold {:>7.3}  proxy {:>7.3}  KL {:>6.3}  shifted acc {:.3}  J {:.4}  win/tie/lose {:.2}/{:.2}/{:.2}  gold at matched KL {:.3}",
            r.round,
            r.arm,
            r.gold,
            r.proxy,
            r.kl,
            r.shifted_accuracy,
            r.j,
            r.win,
            r.tie,
            r.lose,
            r.gold_at_matched_kl
        ),
        Event::Kind(KindEvent::Rlhf(RlhfEvent::HeadToHead(h))) => eprintln!(
            "{} vs {} at the last round: win/tie/lose {:.2}/{:.2}/{:.2}",
            h.policy, h.opponent, h.win, h.tie, h.lose
        ),
        _ => {}
    }
}

fn save(runner: &RlhfRunner, dir: &Path) -> Result<(), String> {
    std::fs::create_dir_all(dir).map_err(|e| format!("could not create {}: {e}", dir.display()))?;
    let write = |name: &str, text: &str| write_file(&dir.join(name), text.as_bytes());
    let report = runner.report();
    write(
        "report.json",
        &serde_json::to_string_pretty(report).map_err(|e| e.to_string())?,
    )?;
    write("rounds.csv", &report.rounds_csv())?;
    write("curves.csv", &report.curves_csv())?;
    write("shift_spread.csv", &report.spread_csv())?;
    write("abs_dr_hist.csv", &report.hist_csv())?;
    write("features_pca.csv", &report.features_csv())?;
    for f in runner.round_files() {
        let folder = dir.join(format!("round-{}", f.round)).join(f.arm.name());
        let rm = folder.join("reward_model");
        std::fs::create_dir_all(&rm)
            .map_err(|e| format!("could not create {}: {e}", rm.display()))?;
        write_file(&rm.join(crate::model::saved::MODEL_FILE), &f.reward_model)?;
        for (name, bytes) in &f.policy {
            write_file(&folder.join(name), bytes)?;
        }
        // The round's policy reads back as a policy folder (`metarm --policy`): its run config.
        let policy_report = serde_json::json!({
            "config": report.config.with(report.config.experiment.ppo.clone()),
            "round": f.round,
            "arm": f.arm.name(),
        });
        write_file(
            &folder.join("report.json"),
            policy_report.to_string().as_bytes(),
        )?;
    }
    eprintln!("results: {}", dir.display());
    Ok(())
}

/// Run `rlhf`.
pub fn run_rlhf(args: RlhfArgs) -> Result<(), String> {
    let config = build(&args)?;
    if let Some(dir) = &args.out {
        super::check_writable(dir)?;
    }
    let (compute, _setup) = compute::init(config.backend).map_err(|e| e.to_string())?;
    let mut runner = RlhfRunner::setup(config, compute, None).map_err(|e| e.to_string())?;
    runner.keep_models(args.out.is_some());
    drive(
        &mut runner,
        args.common.json,
        print_progress,
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
