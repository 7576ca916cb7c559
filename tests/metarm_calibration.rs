//! Calibration tier for MetaRM (spec §8.6, group `mr`): MR-2 asserted on the mean over seeds
//! with a margin of two standard errors; MR-3 (shifted accuracy), MR-4 (J and |Δr| per arm) and
//! MR-5 (gold per round at matched KL, win rate against SFT per round) measured and printed.
//! World seed and run seed both take each of the calibration seeds.
mod common;

use common::stats::{CALIBRATION_SEEDS, PerSeed, all_hold};
use rlhf_lab::compute::Compute;
use rlhf_lab::experiment::metarm::{MetaRmConfig, MetaRmReport, MetaRmRunner, MetaSampling};
use rlhf_lab::experiment::ppo::saved_policy::SavedPolicy;
use rlhf_lab::experiment::ppo::{PpoConfig, PpoRunner};
use rlhf_lab::experiment::rlhf::config::PolicyInit;
use rlhf_lab::experiment::rlhf::report::CurvePoint;
use rlhf_lab::experiment::rlhf::{RlhfConfig, RlhfReport, RlhfRunner};
use rlhf_lab::experiment::{Run, Runner};
use rlhf_lab::model::{Arch, RewardModelConfig};

fn world<E>(seed: u64, experiment: E) -> Run<E> {
    common::world_run(2000, seed, experiment)
}

fn drive(r: &mut dyn Runner) {
    while !r.is_finished() {
        pollster::block_on(r.step()).expect("step");
    }
}

/// π_1: PPO of `preset` for `steps` iterations against the world's count-feature proxy.
fn policy(seed: u64, preset: &str, steps: usize) -> SavedPolicy {
    let config = world(
        seed,
        PpoConfig {
            steps,
            bon_trials: 0,
            ..PpoConfig::preset(preset).unwrap()
        },
    );
    let mut r = PpoRunner::setup(config, Compute::cpu(), None, None).expect("setup");
    drive(&mut r);
    let files = r.model_files().unwrap();
    let file = |name: &str| {
        files
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, b)| b.clone())
    };
    let report = serde_json::json!({ "config": r.report().config }).to_string();
    SavedPolicy::from_files(
        &file("policy.json").unwrap(),
        file("policy.bin"),
        report.as_bytes(),
    )
    .unwrap()
}

fn rm_of(arch: Arch) -> rlhf_lab::experiment::rm::RmTrainConfig {
    let mut rm = PpoConfig::default().proxy;
    match arch {
        Arch::Counts => {}
        Arch::Bow => {
            rm.model = RewardModelConfig::bow();
            rm.optimizer.lr = 0.003;
            rm.epochs = 3.0;
        }
        Arch::Transformer => {
            rm.model = RewardModelConfig {
                d_model: 32,
                layers: 2,
                heads: 2,
                ffn: 64,
                max_len: 24,
                dropout: 0.1,
                ..RewardModelConfig::default()
            };
            rm.optimizer.lr = 0.001;
            rm.epochs = 3.0;
        }
    }
    rm
}

fn metarm(seed: u64, policy: &SavedPolicy, arch: Arch, eta: f64) -> MetaRmReport {
    let mut rm = rm_of(arch);
    rm.meta_lr = eta;
    let config = world(
        seed,
        MetaRmConfig {
            rm,
            sampling: MetaSampling {
                groups: 400,
                heldout_groups: 200,
                shifted_pairs: 1000,
            },
        },
    );
    let mut r =
        MetaRmRunner::setup(config, Compute::cpu(), None, policy.clone(), None).expect("setup");
    drive(&mut r);
    r.report().clone()
}

/// MR-2 asserted, MR-3 and MR-4 printed: MetaRM against vanilla on a drifted policy's samples,
/// for the three reward-model architectures, over meta learning rates, on a near policy
/// (PPO-max, 100 steps) and a far one (vanilla PPO, 150 steps).
#[test]
#[ignore = "calibration tier (scripts/calibrate.sh): MR-2 to MR-4, several minutes"]
fn cal_mr2_mr4_metarm_keeps_original_accuracy_on_drifted_policies() {
    let mut checks = Vec::new();
    let policies: Vec<(&str, Vec<SavedPolicy>)> = vec![
        (
            "near π_1 (PPO-max, 100 steps)",
            CALIBRATION_SEEDS
                .iter()
                .map(|&s| policy(s, "ppo-max", 100))
                .collect(),
        ),
        (
            "far π_1 (vanilla PPO, 150 steps)",
            CALIBRATION_SEEDS
                .iter()
                .map(|&s| policy(s, "vanilla", 150))
                .collect(),
        ),
    ];
    let settings: [(Arch, &[f64]); 3] = [
        (Arch::Counts, &[0.5, 2.0, 8.0]),
        (Arch::Bow, &[0.5, 2.0, 8.0]),
        (Arch::Transformer, &[2.0]),
    ];
    for (what, pis) in &policies {
        for (arch, etas) in settings {
            for &eta in etas {
                let tag = format!("{arch:?} RM, η {eta}, {what}");
                let mut orig = (PerSeed::new("v"), PerSeed::new("m"));
                let mut shifted = (PerSeed::new("v"), PerSeed::new("m"));
                let mut j = (PerSeed::new("v"), PerSeed::new("m"));
                let mut dr = (PerSeed::new("v"), PerSeed::new("m"));
                for (&seed, pi) in CALIBRATION_SEEDS.iter().zip(pis) {
                    let r = metarm(seed, pi, arch, eta);
                    let (v, m) = (&r.arms["vanilla"], &r.arms["metarm"]);
                    let acc = |x: Option<f32>| f64::from(x.unwrap_or(f32::NAN));
                    orig.0.push(seed, acc(v.original_accuracy));
                    orig.1.push(seed, acc(m.original_accuracy));
                    shifted.0.push(seed, v.shifted_accuracy);
                    shifted.1.push(seed, m.shifted_accuracy);
                    j.0.push(seed, v.j);
                    j.1.push(seed, m.j);
                    dr.0.push(seed, v.mean_abs_dr);
                    dr.1.push(seed, m.mean_abs_dr);
                }
                let name = |p: &mut PerSeed, n: &str| p.name = format!("{n} · {tag}");
                name(&mut orig.0, "MR-2 original acc vanilla");
                name(&mut orig.1, "MR-2 original acc metarm");
                name(&mut shifted.0, "MR-3 shifted acc vanilla");
                name(&mut shifted.1, "MR-3 shifted acc metarm");
                name(&mut j.0, "MR-4 J vanilla");
                name(&mut j.1, "MR-4 J metarm");
                name(&mut dr.0, "MR-4 mean |Δr| vanilla");
                name(&mut dr.1, "MR-4 mean |Δr| metarm");
                for p in [
                    &orig.0, &orig.1, &shifted.0, &shifted.1, &j.0, &j.1, &dr.0, &dr.1,
                ] {
                    eprintln!("{}", p.row());
                }
                let gain = shifted.1.minus(&shifted.0);
                eprintln!("{}", gain.row());
                eprintln!(
                    "MR-3 (reported, not asserted): {tag}: shifted gain {:.4} ± {:.4} (paper: ≥ +0.03)",
                    gain.mean(),
                    2.0 * gain.se()
                );
                checks.push(orig.1.minus(&orig.0).check_at_least(-0.03));
            }
        }
    }
    all_hold(checks);
}

/// `rounds` rounds of `steps` PPO-max iterations of `rollouts` responses each.
fn rounds(seed: u64, init: PolicyInit, schedule: (usize, usize, usize)) -> RlhfReport {
    let (rounds, steps, rollouts) = schedule;
    let mut c = RlhfConfig {
        rounds,
        policy_init: init,
        ..RlhfConfig::default()
    };
    c.ppo.steps = steps;
    c.ppo.rollouts = rollouts;
    let mut r = RlhfRunner::setup(world(seed, c), Compute::cpu(), None).expect("setup");
    drive(&mut r);
    r.report().clone()
}

/// Gold (25-step trailing mean) where `curve` first reaches KL `kl`.
fn gold_at(curve: &[&CurvePoint], kl: f64) -> f64 {
    let at = curve
        .iter()
        .position(|c| c.kl >= kl)
        .unwrap_or(curve.len().saturating_sub(1));
    let from = at.saturating_sub(24);
    curve[from..=at].iter().map(|c| c.gold).sum::<f64>() / (at + 1 - from) as f64
}

/// MR-5 measured and printed: rounds of both arms with the count-feature reward model, on two
/// schedules fixed beforehand — four rounds of 100 PPO-max steps of 256 responses, and the rlhf
/// lesson's three rounds of 40 steps of 128 — gold, win rate against SFT and gold at matched KL
/// per round and arm, and the last round's head-to-head; then, with each round's policy
/// restarted from SFT (one KL axis for every round), round 2's gold against round 1's at
/// matched KL (the spec's pass criterion, UNCALIBRATED).
#[test]
#[ignore = "calibration tier (scripts/calibrate.sh): MR-5, a few minutes"]
fn cal_mr5_rounds_gold_and_win_rate_per_round() {
    for (what, schedule) in [
        ("4 × 100 steps × 256", (4, 100, 256)),
        ("lesson: 3 × 40 steps × 128", (3, 40, 128)),
    ] {
        let reports: Vec<(u64, RlhfReport)> = CALIBRATION_SEEDS
            .iter()
            .map(|&s| (s, rounds(s, PolicyInit::Continue, schedule)))
            .collect();
        for arm in ["metarm", "vanilla"] {
            for round in 1..=schedule.0 {
                let tag = format!("{arm} · round {round} · {what}");
                let mut gold = PerSeed::new(&format!("MR-5 gold · {tag}"));
                let mut matched = PerSeed::new(&format!("MR-5 gold at matched KL · {tag}"));
                let mut kl = PerSeed::new(&format!("MR-5 KL · {tag}"));
                let mut win = PerSeed::new(&format!("MR-5 win rate vs SFT · {tag}"));
                let mut lose = PerSeed::new(&format!("MR-5 lose rate vs SFT · {tag}"));
                let mut shifted = PerSeed::new(&format!("MR-5 shifted acc · {tag}"));
                for (seed, r) in &reports {
                    let row = r
                        .rounds
                        .iter()
                        .find(|x| x.arm == arm && x.round == round)
                        .unwrap();
                    gold.push(*seed, row.gold);
                    matched.push(*seed, row.gold_at_matched_kl);
                    kl.push(*seed, row.kl);
                    win.push(*seed, row.win);
                    lose.push(*seed, row.lose);
                    shifted.push(*seed, row.shifted_accuracy);
                }
                for p in [&gold, &matched, &kl, &win, &lose, &shifted] {
                    eprintln!("{}", p.row());
                }
            }
        }
        let mut h2h = PerSeed::new(&format!(
            "MR-5 head-to-head metarm vs vanilla, last round: win − lose · {what}"
        ));
        for (seed, r) in &reports {
            let h = r.head_to_head.as_ref().unwrap();
            h2h.push(*seed, h.win - h.lose);
        }
        eprintln!("{}", h2h.row());
        // Restarted rounds share one KL axis: round 2's reward model against round 1's at the
        // KL both reach.
        let mut frontier = PerSeed::new(&format!(
            "MR-5 restart, metarm: round-2 gold − round-1 gold at matched KL · {what}"
        ));
        for &seed in &CALIBRATION_SEEDS {
            let r = rounds(seed, PolicyInit::Restart, schedule);
            let curve = |round: usize| -> Vec<&CurvePoint> {
                r.curves
                    .iter()
                    .filter(|c| c.arm == "metarm" && c.round == round)
                    .collect()
            };
            let (one, two) = (curve(1), curve(2));
            let end = |c: &[&CurvePoint]| c.last().map_or(f64::NAN, |p| p.kl);
            let kl = end(&one).min(end(&two));
            frontier.push(seed, gold_at(&two, kl) - gold_at(&one, kl));
        }
        eprintln!("{}", frontier.row());
        eprintln!(
            "MR-5 pass criterion (UNCALIBRATED, reported) · {what}: round-2 gold ≥ round-1 gold at matched KL: mean {:.4}, mean − 2 SE {:.4}",
            frontier.mean(),
            frontier.mean() - 2.0 * frontier.se()
        );
    }
}
