//! PPO against a proxy reward model on the synthetic world (spec §8.4, §8.5) with the factorised
//! policy. Fast tier: a small run end to end, determinism, and the report. Calibration tier
//! (`cal_*`, 5 seeds, world seed = run seed): OO-1 … OO-3 asserted at mean ± 2 SE with the
//! spec's thresholds; OO-4, OO-5 and the presets' collapse behaviour reported.
use rlhf_lab::compute::Compute;
use rlhf_lab::experiment::ppo::{PpoConfig, PpoEvent, PpoReport, PpoRunner, PpoStep};
use rlhf_lab::experiment::{DataSource, Event, KindEvent, Run, Runner};

mod common;
use common::stats::{CALIBRATION_SEEDS, PerSeed, all_hold};

fn world(pairs: usize, seed: u64, experiment: PpoConfig) -> Run<PpoConfig> {
    common::world_run(pairs, seed, experiment)
}

fn run(config: Run<PpoConfig>) -> (PpoReport, Vec<PpoStep>, Vec<Event>) {
    let mut r = PpoRunner::setup(config, Compute::cpu(), None, None).expect("setup");
    let mut events = Vec::new();
    while !r.is_finished() {
        events.extend(pollster::block_on(r.step()).expect("step"));
    }
    (r.report(), r.curves().to_vec(), events)
}

fn small(preset: PpoConfig, seed: u64) -> Run<PpoConfig> {
    world(
        600,
        seed,
        PpoConfig {
            steps: 40,
            rollouts: 64,
            ..preset
        },
    )
}

#[test]
fn a_small_run_trains_the_proxy_then_raises_its_score() {
    let (report, curves, events) = run(small(PpoConfig::preset("reinforce").unwrap(), 3));
    assert_eq!(curves.len(), 40);
    assert_eq!(report.steps, 40);
    assert!(
        report
            .proxy_validation_accuracy
            .expect("the proxy was scored")
            > 0.6
    );
    assert_eq!(curves[0].kl, 0.0, "the policy starts at the reference");
    assert!(curves.iter().all(|c| c.kl >= 0.0 && c.sqrt_kl.is_finite()));
    let mean = |xs: &[PpoStep]| xs.iter().map(|c| c.proxy).sum::<f64>() / xs.len() as f64;
    assert!(
        mean(&curves[30..]) > mean(&curves[..10]) + 1.0,
        "the proxy rises: {} → {}",
        mean(&curves[..10]),
        mean(&curves[30..])
    );
    assert!(
        curves[39].kl > 0.1,
        "the policy moved away from the reference"
    );
    // Lifecycle and payload: setup, a step per iteration, checkpoints, samples, the report last.
    let ppo: Vec<&PpoEvent> = events
        .iter()
        .filter_map(|e| match e {
            Event::Kind(KindEvent::Ppo(p)) => Some(p),
            _ => None,
        })
        .collect();
    assert!(matches!(ppo[0], PpoEvent::Setup { steps: 40, .. }));
    assert_eq!(
        ppo.iter()
            .filter(|e| matches!(e, PpoEvent::Step(_)))
            .count(),
        40
    );
    assert!(
        ppo.iter()
            .filter(|e| matches!(e, PpoEvent::Checkpoint { .. }))
            .count()
            >= 10
    );
    let Some(PpoEvent::Samples {
        tokens, samples, ..
    }) = ppo.iter().find(|e| matches!(e, PpoEvent::Samples { .. }))
    else {
        panic!("samples");
    };
    assert_eq!(samples.len(), 4);
    // The score sits on the last token only: the rest of the rewards are the KL penalty.
    let n = tokens.len();
    for t in &tokens[..n - 1] {
        assert!((t.reward - t.kl_penalty).abs() < 1e-6);
    }
    assert!(matches!(events.last(), Some(Event::Finished { .. })));
    assert_eq!(
        report.collapse_steps.len(),
        curves.iter().filter(|c| c.collapse).count()
    );
}

#[test]
fn ppo_runs_are_deterministic_under_their_seed() {
    let a = run(small(PpoConfig::ppo_max(), 5)).1;
    let b = run(small(PpoConfig::ppo_max(), 5)).1;
    let c = run(small(PpoConfig::ppo_max(), 6)).1;
    let key = |v: &[PpoStep]| {
        v.iter()
            .map(|s| (s.proxy, s.gold, s.kl))
            .collect::<Vec<_>>()
    };
    assert_eq!(key(&a), key(&b));
    assert_ne!(key(&a), key(&c));
}

#[test]
fn bad_ppo_settings_are_errors_naming_the_field() {
    let mut c = small(PpoConfig::ppo_max(), 1);
    c.experiment.rollouts = 1;
    let err = PpoRunner::setup(c, Compute::cpu(), None, None)
        .err()
        .unwrap();
    assert!(err.to_string().contains("rollouts"), "{err}");
    let mut c = small(PpoConfig::ppo_max(), 1);
    c.experiment.sampling.temperature = 0.7;
    let err = PpoRunner::setup(c, Compute::cpu(), None, None)
        .err()
        .unwrap();
    assert!(err.to_string().contains("temperature 1"), "{err}");
    let mut c = small(PpoConfig::ppo_max(), 1);
    c.experiment.collapse.min_signals = 0;
    let err = PpoRunner::setup(c, Compute::cpu(), None, None)
        .err()
        .unwrap();
    assert!(err.to_string().contains("min_signals"), "{err}");
    let mut c = small(PpoConfig::ppo_max(), 1);
    c.data.source = DataSource::HhSample;
    let err = PpoRunner::setup(c, Compute::cpu(), None, None)
        .err()
        .unwrap();
    assert!(err.to_string().contains("synthetic world"), "{err}");
}

/// Spec §8.4's REINFORCE arm at the calibrated size: 2,000 proxy pairs, 256 samples, 600 steps.
fn oo(seed: u64, kl: f64, pairs: usize) -> (PpoReport, Vec<PpoStep>) {
    let (r, c, _) = run(world(
        pairs,
        seed,
        PpoConfig {
            kl_coef: kl,
            steps: 600,
            ..PpoConfig::preset("reinforce").unwrap()
        },
    ));
    (r, c)
}

#[test]
#[ignore = "calibration tier (scripts/calibrate.sh): OO-1 … OO-3 over 5 seeds, ~2 min"]
fn cal_oo_the_proxy_rises_gold_rises_then_falls_and_a_kl_penalty_holds_it() {
    let mut rising =
        PerSeed::new("OO-1 β=0: share of steps where the proxy's 50-step MA does not fall");
    let mut peak_gain = PerSeed::new("OO-2 β=0: gold peak − gold start");
    let mut end_drop = PerSeed::new("OO-2 β=0: gold start − gold final");
    let mut interior = PerSeed::new("OO-2 β=0: gold peak step / steps");
    let mut kl_share = [
        PerSeed::new("OO-3 β=1: final KL / β=0 final KL"),
        PerSeed::new("OO-3 β=2: final KL / β=0 final KL"),
    ];
    let mut gold_gain = [
        PerSeed::new("OO-3 β=1: final gold − β=0 final gold"),
        PerSeed::new("OO-3 β=2: final gold − β=0 final gold"),
    ];
    let mut table = Vec::new();
    for seed in CALIBRATION_SEEDS {
        let (r0, c0) = oo(seed, 0.0, 2000);
        let proxy: Vec<f64> = c0.iter().map(|c| c.proxy).collect();
        let ma = rlhf_lab::experiment::ppo::curves::moving_average(&proxy, 50);
        let up =
            ma.windows(2).filter(|w| w[1] >= w[0] - 1e-9).count() as f64 / (ma.len() - 1) as f64;
        rising.push(seed, up);
        peak_gain.push(seed, r0.gold_peak - r0.gold_initial);
        end_drop.push(seed, r0.gold_initial - r0.gold_final);
        interior.push(seed, r0.gold_peak_step as f64 / r0.steps as f64);
        table.push(format!("| seed {seed} β=0 | {}", row(&r0)));
        for (i, beta) in [1.0, 2.0].into_iter().enumerate() {
            let (r, _) = oo(seed, beta, 2000);
            kl_share[i].push(seed, r.kl_final / r0.kl_final);
            gold_gain[i].push(seed, r.gold_final - r0.gold_final);
            table.push(format!("| seed {seed} β={beta} | {}", row(&r)));
        }
    }
    for line in &table {
        eprintln!("{line}");
    }
    let mut checks = vec![
        rising.check_at_least(0.95),
        peak_gain.check_at_least(3.0),
        end_drop.check_at_least(0.0),
        interior.check_at_most(0.9),
    ];
    for i in 0..2 {
        checks.push(kl_share[i].check_at_most(0.25));
        checks.push(gold_gain[i].check_at_least(4.0));
    }
    all_hold(checks);
}

fn row(r: &PpoReport) -> String {
    format!(
        "gold {:.2} → peak {:.2} (step {}) → final {:.2} | proxy {:.2} → {:.2} | KL final {:.2} | proxy acc {:.3} | flags {} (first {:?}) |",
        r.gold_initial,
        r.gold_peak,
        r.gold_peak_step,
        r.gold_final,
        r.proxy_initial,
        r.proxy_final,
        r.kl_final,
        r.proxy_validation_accuracy.unwrap_or(f32::NAN),
        r.collapse_steps.len(),
        r.collapse_steps.first()
    )
}

/// OO-4 and OO-5 are reported, not asserted (the spec leaves them uncalibrated).
#[test]
#[ignore = "calibration tier report: OO-4 (300 vs 2000 proxy pairs) and OO-5 (the d(α − β log d) fit), ~1 min"]
fn cal_oo4_oo5_less_proxy_data_and_the_gao_fit() {
    let mut gold_at_matched =
        PerSeed::new("OO-4: gold(2000 pairs) − gold(300 pairs) at the 300-pair run's peak KL");
    let mut earlier = PerSeed::new("OO-4: √KL at peak, 2000 − 300 pairs");
    let mut r2 =
        PerSeed::new("OO-5: R² of gold = d(α − β log d), d ≥ 0.3 up to the gold peak + 100 steps");
    for seed in CALIBRATION_SEEDS {
        let (big, cb) = oo(seed, 0.0, 2000);
        let (small, cs) = oo(seed, 0.0, 300);
        let kl = small.kl_at_gold_peak;
        let at = |c: &[PpoStep]| {
            let smooth = rlhf_lab::experiment::ppo::curves::moving_average(
                &c.iter().map(|s| s.gold).collect::<Vec<_>>(),
                25,
            );
            c.iter()
                .zip(&smooth)
                .min_by(|a, b| (a.0.kl - kl).abs().total_cmp(&(b.0.kl - kl).abs()))
                .map(|(_, g)| *g)
                .unwrap_or(f64::NAN)
        };
        gold_at_matched.push(seed, at(&cb) - at(&cs));
        earlier.push(
            seed,
            big.kl_at_gold_peak.sqrt() - small.kl_at_gold_peak.sqrt(),
        );
        let gold0 = cb[0].gold;
        let points: Vec<(f64, f64)> = cb
            .iter()
            .take(big.gold_peak_step + 100)
            .filter(|c| c.sqrt_kl >= 0.3)
            .map(|c| (c.sqrt_kl, c.gold - gold0))
            .collect();
        r2.push(seed, gao_fit_r2(&points));
    }
    for p in [&gold_at_matched, &earlier, &r2] {
        eprintln!("{}", p.row());
    }
}

/// Least squares of `y = α d − β d log d` (linear in α, β); the R².
fn gao_fit_r2(points: &[(f64, f64)]) -> f64 {
    let (mut a11, mut a12, mut a22, mut b1, mut b2) = (0.0, 0.0, 0.0, 0.0, 0.0);
    for &(d, y) in points {
        let (x1, x2) = (d, -d * d.ln());
        a11 += x1 * x1;
        a12 += x1 * x2;
        a22 += x2 * x2;
        b1 += x1 * y;
        b2 += x2 * y;
    }
    let det = a11 * a22 - a12 * a12;
    if det.abs() < 1e-12 {
        return f64::NAN;
    }
    let alpha = (b1 * a22 - b2 * a12) / det;
    let beta = (a11 * b2 - a12 * b1) / det;
    let mean = points.iter().map(|p| p.1).sum::<f64>() / points.len() as f64;
    let (mut ss_res, mut ss_tot) = (0.0, 0.0);
    for &(d, y) in points {
        let f = alpha * d - beta * d * d.ln();
        ss_res += (y - f).powi(2);
        ss_tot += (y - mean).powi(2);
    }
    1.0 - ss_res / ss_tot
}

/// The presets side by side (spec §8.5 with the factorised policy; PM-1/PM-2 are stated for the
/// transformer policy, which is not built yet): reported, not asserted.
#[test]
#[ignore = "calibration tier report: vanilla / scaling / ppo-max over 5 seeds, ~1 min"]
fn cal_pm_presets_report() {
    for (name, preset) in [
        ("vanilla", PpoConfig::preset("vanilla").unwrap()),
        ("scaling", PpoConfig::preset("scaling").unwrap()),
        ("ppo-max", PpoConfig::ppo_max()),
    ] {
        let mut peak = PerSeed::new(&format!("{name}: gold peak − start"));
        let mut fin = PerSeed::new(&format!("{name}: gold final − start"));
        let mut kl = PerSeed::new(&format!("{name}: final KL"));
        let mut first = PerSeed::new(&format!(
            "{name}: first flag − gold peak step (600 if none)"
        ));
        let mut flags = PerSeed::new(&format!("{name}: flagged steps"));
        for seed in CALIBRATION_SEEDS {
            let (r, _, _) = run(world(
                2000,
                seed,
                PpoConfig {
                    steps: 600,
                    ..preset.clone()
                },
            ));
            peak.push(seed, r.gold_peak - r.gold_initial);
            fin.push(seed, r.gold_final - r.gold_initial);
            kl.push(seed, r.kl_final);
            first.push(
                seed,
                r.collapse_steps
                    .first()
                    .map_or(600.0, |&f| f as f64 - r.gold_peak_step as f64),
            );
            flags.push(seed, r.collapse_steps.len() as f64);
        }
        for p in [&peak, &fin, &kl, &first, &flags] {
            eprintln!("{}", p.row());
        }
    }
}

#[test]
fn a_trained_reward_model_handed_over_becomes_the_proxy_without_training_another() {
    use rlhf_lab::experiment::{RmRunner, RmTrainConfig};
    // Train a count-feature RM on the world, take its model file, and hand it to PPO.
    let mut c = small(PpoConfig::preset("reinforce").unwrap(), 4);
    let rm = c.with(RmTrainConfig {
        steps: 20,
        ..PpoConfig::preset("reinforce").unwrap().proxy
    });
    let mut trained = RmRunner::setup(rm, Compute::cpu(), None).expect("rm");
    while !trained.is_finished() {
        pollster::block_on(trained.step()).expect("step");
    }
    let bytes = trained.model_file().expect("model file");
    c.experiment.steps = 5;
    let mut r = PpoRunner::setup(c, Compute::cpu(), None, Some(&bytes)).expect("setup");
    let mut events = Vec::new();
    while !r.is_finished() {
        events.extend(pollster::block_on(r.step()).expect("step"));
    }
    assert!(
        !events.iter().any(|e| matches!(e, Event::Job { .. })),
        "no proxy was trained"
    );
    assert_eq!(r.curves().len(), 5);
    assert_eq!(Runner::progress(&r).done, 5);
    // A model of another world is refused, naming the world to use.
    let err = PpoRunner::setup(
        small(PpoConfig::preset("reinforce").unwrap(), 5),
        Compute::cpu(),
        None,
        Some(&bytes),
    )
    .err()
    .unwrap();
    assert!(err.to_string().contains("--world-seed 4"), "{err}");
    let err = PpoRunner::setup(
        small(PpoConfig::preset("reinforce").unwrap(), 4),
        Compute::cpu(),
        None,
        Some(b"junk"),
    )
    .err()
    .unwrap();
    assert!(err.to_string().contains("proxy reward model file"), "{err}");
}

#[test]
fn a_pipeline_hands_a_trained_reward_model_to_ppo() {
    use rlhf_lab::experiment::pipeline::{Pipeline, StageBuilder};
    use rlhf_lab::experiment::{ExperimentConfig, Phase, RmTrainConfig, RunConfig};
    let world = small(PpoConfig::preset("reinforce").unwrap(), 6);
    let rm: RunConfig = world.with(ExperimentConfig::Rm(RmTrainConfig {
        steps: 15,
        ..PpoConfig::default().proxy
    }));
    let ppo: RunConfig = world.with(ExperimentConfig::Ppo(PpoConfig {
        steps: 4,
        ..world.experiment.clone()
    }));
    let rm_stage: StageBuilder = Box::new(move |a| Ok(rm.build(Compute::cpu(), None, a)?.0));
    let ppo_stage: StageBuilder = Box::new(move |a| {
        assert!(
            a.reward_model.is_some(),
            "the RM stage handed over its model"
        );
        Ok(ppo.build(Compute::cpu(), None, a)?.0)
    });
    let mut p = Pipeline::new(
        Compute::cpu(),
        vec![("reward model".into(), rm_stage), ("ppo".into(), ppo_stage)],
    );
    let mut events = Vec::new();
    while !p.is_finished() {
        events.extend(pollster::block_on(p.step()).expect("step"));
    }
    let in_ppo: Vec<&Event> = events
        .iter()
        .filter_map(|e| match e {
            Event::Job {
                phase: Phase::Stage { stage: 1, .. },
                inner,
                ..
            } => Some(inner.as_ref()),
            _ => None,
        })
        .collect();
    let steps = in_ppo
        .iter()
        .filter(|e| matches!(e, Event::Kind(KindEvent::Ppo(PpoEvent::Step(_)))))
        .count();
    assert_eq!(steps, 4);
    assert!(
        !in_ppo.iter().any(|e| matches!(e, Event::Job { .. })),
        "PPO trained no proxy of its own"
    );
}

#[test]
fn the_transformer_policy_learns_the_reference_by_sft_then_moves_under_ppo() {
    use rlhf_lab::experiment::ppo::config::PolicyKind;
    use rlhf_lab::model::policy::PolicyConfig;
    let config = world(
        400,
        7,
        PpoConfig {
            policy: PolicyKind::Transformer,
            policy_model: PolicyConfig {
                d_model: 32,
                layers: 1,
                heads: 2,
                ffn: 64,
                max_len: 24,
                ..Default::default()
            },
            sft_steps: 80,
            steps: 6,
            rollouts: 32,
            bon_trials: 0,
            ..PpoConfig::default()
        },
    );
    let (report, curves, events) = run(config);
    let sft: Vec<f32> = events
        .iter()
        .filter_map(|e| match e {
            Event::Kind(KindEvent::Ppo(PpoEvent::Sft { loss, .. })) => Some(*loss),
            _ => None,
        })
        .collect();
    assert_eq!(sft.len(), 80);
    let head: f32 = sft[..5].iter().sum::<f32>() / 5.0;
    let tail: f32 = sft[75..].iter().sum::<f32>() / 5.0;
    assert!(tail < head - 1.0, "SFT loss falls: {head} → {tail}");
    assert_eq!(curves.len(), 6);
    assert_eq!(report.steps, 6);
    // Step 0 samples the SFT policy, which is the reference: no KL yet.
    assert!(
        curves[0].kl_sampled.abs() < 1e-3,
        "{}",
        curves[0].kl_sampled
    );
    assert!(
        (4.0..=12.0).contains(&curves[0].length),
        "{}",
        curves[0].length
    );
    assert!(curves[5].kl_sampled.abs() > 1e-4, "PPO moved the policy");
    assert!(curves.iter().all(|c| c.entropy > 0.0 && c.ppl.is_finite()));
    eprintln!(
        "transformer: SFT {head:.2} → {tail:.2}; length {:.2}; KL after 5 updates {:.4}; proxy {:.2} → {:.2}",
        curves[0].length, curves[5].kl_sampled, curves[0].proxy, curves[5].proxy
    );
}

/// PM-1 / PM-2 (spec §8.5) with the transformer policy: vanilla trips the collapse detector
/// near its gold peak; PPO-max does not trip it, keeps ≥ 90 % of vanilla's peak gold gain, and
/// its KL plateaus. 300 SFT steps, then 300 PPO steps of 64 responses, seeds 1–5.
#[test]
#[ignore = "calibration tier (scripts/calibrate.sh): PM-1 and PM-2 with the transformer policy, ~6 min"]
fn cal_pm_vanilla_collapses_near_its_peak_and_ppo_max_holds() {
    use rlhf_lab::experiment::ppo::config::PolicyKind;
    let transformer = |preset: &str, seed: u64| {
        run(world(
            2000,
            seed,
            PpoConfig {
                policy: PolicyKind::Transformer,
                steps: 300,
                rollouts: 64,
                bon_trials: 0,
                ..PpoConfig::preset(preset).unwrap()
            },
        ))
    };
    let mut near = PerSeed::new("PM-1 vanilla: |first flag − gold peak step| (300 if none)");
    let mut flags = PerSeed::new("PM-2 ppo-max: flagged steps");
    let mut kept = PerSeed::new("PM-2 ppo-max final gold gain / vanilla peak gold gain");
    let mut slope = PerSeed::new("PM-2 ppo-max KL slope, last 20 % / first 20 %");
    for seed in CALIBRATION_SEEDS {
        let (v, _, _) = transformer("vanilla", seed);
        let (m, cm, _) = transformer("ppo-max", seed);
        near.push(
            seed,
            v.collapse_steps
                .first()
                .map_or(300.0, |&f| (f as f64 - v.gold_peak_step as f64).abs()),
        );
        flags.push(seed, m.collapse_steps.len() as f64);
        kept.push(
            seed,
            (m.gold_final - m.gold_initial) / (v.gold_peak - v.gold_initial).max(1e-9),
        );
        let n = cm.len();
        let k = n / 5;
        let rise = |a: usize, b: usize| (cm[b - 1].kl - cm[a].kl) / (b - 1 - a).max(1) as f64;
        slope.push(seed, rise(n - k, n) / rise(0, k).max(1e-9));
        eprintln!("| seed {seed} vanilla | {} |", row(&v));
        eprintln!("| seed {seed} ppo-max | {} |", row(&m));
    }
    all_hold(vec![
        near.check_at_most(100.0),
        flags.check_at_most(0.0),
        kept.check_at_least(0.9),
        slope.check_at_most(0.1),
    ]);
}

/// With a transformer proxy the transformer policy's critic is a value head on the proxy's
/// trunk (it reads the same token ids), and with the count-feature proxy it says why not.
#[test]
fn the_critic_starts_on_a_transformer_proxys_trunk_and_says_so() {
    use rlhf_lab::experiment::ppo::config::PolicyKind;
    use rlhf_lab::model::RewardModelConfig;
    use rlhf_lab::model::policy::PolicyConfig;
    let setup = |proxy_model: Option<RewardModelConfig>| {
        let mut c = PpoConfig {
            policy: PolicyKind::Transformer,
            policy_model: PolicyConfig {
                d_model: 16,
                layers: 1,
                heads: 2,
                ffn: 32,
                max_len: 24,
                ..Default::default()
            },
            sft_steps: 2,
            steps: 2,
            rollouts: 8,
            minibatches: 2,
            bon_trials: 0,
            ..PpoConfig::default()
        };
        if let Some(m) = proxy_model {
            c.proxy.model = m;
            c.proxy.epochs = 1.0;
        }
        let (report, curves, _) = run(world(200, 4, c));
        assert_eq!(curves.len(), 2);
        report.critic_init
    };
    let on_trunk = setup(Some(RewardModelConfig {
        d_model: 16,
        layers: 1,
        heads: 2,
        ffn: 32,
        max_len: 24,
        dropout: 0.1,
        ..RewardModelConfig::default()
    }));
    assert!(
        on_trunk.starts_with("value head on the proxy's transformer trunk"),
        "{on_trunk}"
    );
    let counts = setup(None);
    assert!(counts.contains("not a transformer"), "{counts}");
}
