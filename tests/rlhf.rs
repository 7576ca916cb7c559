//! Iterative RLHF (spec §5.3, §8.6, §8.8): two rounds end to end on the synthetic world and on the
//! HH text track at small size, the report's keys and CSV files, the arms' fairness (with η = 0
//! the MetaRM arm's first round is the vanilla arm's), and config errors that name the field.
use rlhf_lab::compute::{BackendChoice, Compute};
use rlhf_lab::data::synthetic::SyntheticConfig;
use rlhf_lab::experiment::metarm::MetaSampling;
use rlhf_lab::experiment::ppo::saved_policy::SavedPolicy;
use rlhf_lab::experiment::ppo::{PpoConfig, PpoRunner};
use rlhf_lab::experiment::rlhf::config::EvalConfig;
use rlhf_lab::experiment::rlhf::{Arm, RlhfConfig, RlhfEvent, RlhfReport, RlhfRunner};
use rlhf_lab::experiment::{DataConfig, DataSource, Event, KindEvent, Run, Runner};
use rlhf_lab::model::policy::PolicyConfig;

fn small(seed: u64) -> Run<RlhfConfig> {
    let mut ppo = PpoConfig {
        steps: 8,
        rollouts: 64,
        bon_trials: 0,
        ..PpoConfig::default()
    };
    ppo.proxy.epochs = 2.0;
    ppo.proxy.meta_lr = 2.0;
    ppo.proxy.meta_batch = 4;
    Run {
        data: DataConfig {
            source: DataSource::Synthetic(SyntheticConfig {
                pairs: 400,
                ..Default::default()
            }),
            ..Default::default()
        },
        seed,
        backend: BackendChoice::Cpu,
        experiment: RlhfConfig {
            rounds: 2,
            ppo,
            sampling: MetaSampling {
                groups: 40,
                heldout_groups: 20,
                shifted_pairs: 60,
            },
            eval: EvalConfig {
                draws: 60,
                diversity_groups: 10,
                spread_pairs: 30,
                spread_per_round: 2,
                feature_points: 20,
                ..Default::default()
            },
            ..Default::default()
        },
    }
}

fn run(config: Run<RlhfConfig>) -> (RlhfRunner, Vec<Event>) {
    let mut r = RlhfRunner::setup(config, Compute::cpu(), None).expect("setup");
    let mut events = Vec::new();
    let mut steps = 0;
    while !r.is_finished() {
        events.extend(pollster::block_on(r.step()).expect("step"));
        steps += 1;
        assert!(steps < 100_000, "the run ends");
    }
    (r, events)
}

/// PPO run to its end, its policy read back from the files `ppo --out` writes.
fn trained_policy(config: Run<PpoConfig>) -> SavedPolicy {
    let mut r = PpoRunner::setup(config, Compute::cpu(), None, None).unwrap();
    while !r.is_finished() {
        pollster::block_on(r.step()).unwrap();
    }
    let files = r.model_files().unwrap();
    let file = |n: &str| files.iter().find(|(f, _)| *f == n).map(|(_, b)| b.clone());
    let report = serde_json::json!({ "config": r.report().config }).to_string();
    SavedPolicy::from_files(
        &file("policy.json").unwrap(),
        file("policy.bin"),
        report.as_bytes(),
    )
    .unwrap()
}

fn rlhf_events(events: &[Event]) -> Vec<&RlhfEvent> {
    events
        .iter()
        .filter_map(|e| match e {
            Event::Kind(KindEvent::Rlhf(r)) => Some(r),
            _ => None,
        })
        .collect()
}

#[test]
fn two_rounds_on_the_synthetic_world_report_every_arm_and_the_shift() {
    let (runner, events) = run(small(1));
    let report: &RlhfReport = runner.report();
    // One row per arm and round, in order, each with its judge's shares.
    let rows: Vec<(usize, &str)> = report
        .rounds
        .iter()
        .map(|r| (r.round, r.arm.as_str()))
        .collect();
    assert_eq!(
        rows,
        [(1, "metarm"), (1, "vanilla"), (2, "metarm"), (2, "vanilla")]
    );
    for r in &report.rounds {
        assert!((r.win + r.tie + r.lose - 1.0).abs() < 1e-9, "{r:?}");
        assert!(
            r.gold.is_finite() && r.proxy.is_finite() && r.kl > 0.0,
            "{r:?}"
        );
        assert!((0.0..=1.0).contains(&r.shifted_accuracy), "{r:?}");
        assert!(
            (0.4..0.8).contains(&r.j),
            "J of k = 5 lies in [0.4, 0.8): {r:?}"
        );
        assert!(r.distinct_2 > 0.0 && (0.0..=1.0).contains(&r.self_bleu_2));
        assert!(r.matched_kl <= r.kl + 1e-12 && r.gold_at_matched_kl.is_finite());
        assert_eq!(r.ppo_steps, 8 * r.round);
    }
    // The vanilla arm keeps RM_0: its original accuracy is RM_0's every round.
    for r in report.rounds.iter().filter(|r| r.arm == "vanilla") {
        assert_eq!(r.original_accuracy, report.rm0_accuracy);
    }
    // The arms are compared at the smaller of their KLs.
    for round in [1, 2] {
        let kls: Vec<f64> = report
            .rounds
            .iter()
            .filter(|r| r.round == round)
            .map(|r| r.kl)
            .collect();
        let smaller = kls.iter().copied().fold(f64::INFINITY, f64::min);
        assert!(
            report
                .rounds
                .iter()
                .filter(|r| r.round == round)
                .all(|r| r.matched_kl == smaller)
        );
    }
    let h = report.head_to_head.as_ref().expect("head to head");
    assert!((h.win + h.tie + h.lose - 1.0).abs() < 1e-9);
    assert!(report.tie_band_gold > 0.0);
    // The shift: SFT's spread, then two checkpoints per arm and round.
    assert_eq!(report.spread.len(), 1 + 2 * 2 * 2);
    assert!(
        report
            .spread
            .iter()
            .all(|s| s.values.len() == 30 && s.variance >= 0.0)
    );
    let sources: Vec<(usize, &str)> = report
        .abs_dr_hist
        .iter()
        .map(|h| (h.round, h.source.as_str()))
        .collect();
    assert_eq!(
        sources,
        [
            (0, "rm0_pi0"),
            (1, "rm0_pi_r"),
            (1, "metarm_rm_r_pi_r"),
            (2, "rm0_pi_r"),
            (2, "metarm_rm_r_pi_r")
        ]
    );
    for h in &report.abs_dr_hist {
        assert_eq!(h.shares.len(), 20);
        assert!((h.shares.iter().sum::<f64>() - 1.0).abs() < 1e-9);
    }
    let count = |s: &str| report.features.iter().filter(|p| p.source == s).count();
    assert_eq!(
        (
            count("chosen"),
            count("rejected"),
            count("pi_0"),
            count("pi_r")
        ),
        (20, 20, 20, 2 * 2 * 20)
    );
    assert!(report.hull.len() >= 3);
    // The CSV files' headers and rows.
    let csv = report.rounds_csv();
    assert!(csv.starts_with(
        "round,arm,gold,proxy,kl,original_accuracy,shifted_accuracy,j,mean_abs_dr,win,tie,lose,"
    ));
    assert_eq!(csv.lines().count(), 5);
    assert_eq!(report.spread_csv().lines().count(), 1 + 9);
    assert!(
        report
            .spread_csv()
            .starts_with("arm,round,step,pairs,variance,q05,q25,median,q75,q95\n")
    );
    assert_eq!(report.hist_csv().lines().count(), 1 + 5 * 20);
    let features = report.features_csv();
    assert!(features.starts_with("source,arm,round,x,y\n") && features.contains("\nhull,"));
    // The report's keys, as `report.json` holds them.
    let json = serde_json::to_value(report).unwrap();
    for key in [
        "rounds",
        "head_to_head",
        "spread",
        "abs_dr_hist",
        "features",
        "hull",
        "config",
    ] {
        assert!(json.get(key).is_some(), "report.json has {key}");
    }
    for key in [
        "round",
        "arm",
        "gold",
        "proxy",
        "kl",
        "original_accuracy",
        "shifted_accuracy",
        "j",
        "mean_abs_dr",
        "win",
        "tie",
        "lose",
    ] {
        assert!(
            json["rounds"][0].get(key).is_some(),
            "a round row has {key}"
        );
    }
    // The events: the plan first, PPO steps of both arms, the rows, the report last.
    let ev = rlhf_events(&events);
    assert!(matches!(
        ev.first(),
        Some(RlhfEvent::Setup { rounds: 2, .. })
    ));
    assert!(matches!(ev.last(), Some(RlhfEvent::Done { .. })));
    let ppo_steps = ev
        .iter()
        .filter(|e| matches!(e, RlhfEvent::PpoStep { .. }))
        .count();
    assert_eq!(ppo_steps, 2 * 2 * 8);
    assert!(ev.iter().any(|e| matches!(
        e,
        RlhfEvent::RmStep {
            difference_loss: Some(_),
            ..
        }
    )));
    assert!(matches!(events.last(), Some(Event::Finished { .. })));
    let p = runner.progress();
    assert_eq!(p.done, p.total, "progress reaches its total");
    // Deterministic under a seed.
    let (again, _) = run(small(1));
    assert_eq!(again.report().rounds, report.rounds);
}

#[test]
fn with_meta_lr_zero_the_metarm_arms_first_round_is_the_vanilla_arms() {
    let mut c = small(4);
    c.experiment.rounds = 1;
    c.experiment.ppo.proxy.meta_lr = 0.0;
    let (runner, events) = run(c);
    let curve = |arm: &str| -> Vec<(f64, f64, f64)> {
        rlhf_events(&events)
            .into_iter()
            .filter_map(|e| match e {
                RlhfEvent::PpoStep {
                    arm: a, metrics, ..
                } if a == arm => Some((metrics.gold, metrics.proxy, metrics.kl)),
                _ => None,
            })
            .collect()
    };
    assert_eq!(curve("metarm").len(), 8);
    assert_eq!(
        curve("metarm"),
        curve("vanilla"),
        "same seeds, and a MetaRM reward model with η = 0 is RM_0"
    );
    let rows = &runner.report().rounds;
    assert_eq!(rows[0].original_accuracy, rows[1].original_accuracy);
}

#[test]
fn two_rounds_on_the_text_track_at_small_size() {
    let mut ppo = PpoConfig {
        policy_model: PolicyConfig {
            d_model: 32,
            layers: 1,
            heads: 2,
            ffn: 64,
            ..Default::default()
        },
        sft_steps: 20,
        sft_batch: 16,
        steps: 3,
        rollouts: 8,
        minibatches: 2,
        ..PpoConfig::default()
    }
    .for_text();
    ppo.text.gold.epochs = 1.0;
    ppo.text.proxy_pairs = 120;
    ppo.text.prompt_tokens = 12;
    ppo.text.response_tokens = 10;
    ppo.proxy.meta_lr = 1.0;
    ppo.proxy.meta_batch = 4;
    let config = Run {
        data: DataConfig {
            source: DataSource::HhSample,
            ..Default::default()
        },
        seed: 2,
        backend: BackendChoice::Cpu,
        experiment: RlhfConfig {
            rounds: 2,
            ppo,
            sampling: MetaSampling {
                groups: 12,
                heldout_groups: 6,
                shifted_pairs: 20,
            },
            eval: EvalConfig {
                draws: 16,
                diversity_groups: 4,
                spread_pairs: 10,
                spread_per_round: 1,
                feature_points: 8,
                ..Default::default()
            },
            ..Default::default()
        },
    };
    let (runner, _) = run(config);
    let report = runner.report();
    assert_eq!(report.rounds.len(), 4);
    assert!(
        report
            .rounds
            .iter()
            .all(|r| r.gold.is_finite() && r.j.is_finite())
    );
    assert_eq!(report.rounds_csv().lines().count(), 5);
    assert!(!report.features.is_empty());
}

#[test]
fn config_mistakes_are_errors_that_name_the_field() {
    let setup = |f: &dyn Fn(&mut RlhfConfig)| {
        let mut c = small(1);
        f(&mut c.experiment);
        RlhfRunner::setup(c, Compute::cpu(), None)
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default()
    };
    let err = setup(&|c| c.ppo.proxy.k = 1);
    assert!(err.contains("k = 1"), "{err}");
    let err = setup(&|c| c.ppo.proxy.meta_lr = -1.0);
    assert!(err.contains("meta_lr = -1"), "{err}");
    let err = setup(&|c| c.ppo.proxy.meta_lr = f64::NAN);
    assert!(err.contains("meta_lr = NaN"), "{err}");
    let err = setup(&|c| c.rounds = 0);
    assert!(err.contains("rounds = 0"), "{err}");
    let err = setup(&|c| c.arms.clear());
    assert!(err.contains("arms"), "{err}");
    let err = setup(&|c| c.arms = vec![Arm::Metarm, Arm::Metarm]);
    assert!(err.contains("each arm once"), "{err}");
    let err = setup(&|c| c.eval.tie_band = f64::NAN);
    assert!(err.contains("eval.tie_band"), "{err}");
    let err = setup(&|c| {
        c.policy_init = rlhf_lab::experiment::rlhf::config::PolicyInit::Restart;
        c.kl_reference = rlhf_lab::experiment::rlhf::config::KlReference::Previous;
    });
    assert!(err.contains("kl_reference = sft"), "{err}");
}

#[test]
fn a_step_by_round_ends_at_round_boundaries_and_by_stage_at_each_arms_stage() {
    use rlhf_lab::experiment::Stride;
    let mut r = RlhfRunner::setup(small(2), Compute::cpu(), None).expect("setup");
    let (mut rounds, mut stages) = (Vec::new(), Vec::new());
    while !r.is_finished() {
        if let Some(s) = r.span(Stride::Epoch)
            && s.len() == 1
            && rounds.last() != Some(&s[0])
        {
            rounds.push(s[0]);
        }
        if let Some(s) = r.span(Stride::Job)
            && s.len() == 3
            && stages.last() != Some(&s)
        {
            stages.push(s);
        }
        pollster::block_on(r.step()).expect("step");
    }
    assert_eq!(rounds, [0, 1, 2], "the start (round 0), then each round");
    assert_eq!(
        stages,
        [
            vec![1, 0, 0],
            vec![1, 0, 1],
            vec![1, 1, 0],
            vec![1, 1, 1],
            vec![2, 0, 0],
            vec![2, 0, 1],
            vec![2, 1, 0],
            vec![2, 1, 1]
        ],
        "round, arm, part: the MetaRM reward model, PPO; the vanilla arm's sampling, PPO"
    );
}

#[test]
fn metarm_loads_a_saved_transformer_policy_and_samples_it() {
    use rlhf_lab::experiment::metarm::{MetaRmConfig, MetaRmRunner};
    use rlhf_lab::experiment::ppo::config::PolicyKind;
    fn world<E>(experiment: E) -> Run<E> {
        Run {
            data: DataConfig {
                source: DataSource::Synthetic(SyntheticConfig {
                    pairs: 300,
                    ..Default::default()
                }),
                ..Default::default()
            },
            seed: 3,
            backend: BackendChoice::Cpu,
            experiment,
        }
    }
    let ppo = PpoConfig {
        policy: PolicyKind::Transformer,
        policy_model: PolicyConfig {
            d_model: 16,
            layers: 1,
            heads: 2,
            ffn: 32,
            ..Default::default()
        },
        sft_steps: 10,
        sft_batch: 16,
        steps: 3,
        rollouts: 16,
        minibatches: 2,
        bon_trials: 0,
        ..PpoConfig::default()
    };
    let saved = trained_policy(world(ppo));
    assert_eq!(saved.kind(), "transformer");
    let mut config = world(MetaRmConfig {
        sampling: MetaSampling {
            groups: 8,
            heldout_groups: 4,
            shifted_pairs: 12,
        },
        ..Default::default()
    });
    config.experiment.rm.epochs = 1.0;
    let mut m = MetaRmRunner::setup(config, Compute::cpu(), None, saved.clone(), None).unwrap();
    while !m.is_finished() {
        pollster::block_on(m.step()).unwrap();
    }
    let arms = &m.report().arms;
    assert!(arms["metarm"].j.is_finite() && arms["vanilla"].shifted_pairs > 0);
    // A policy whose token space differs (weights cut short) is refused, not loaded.
    let mut broken = saved;
    broken.weights = Some(vec![1, 2, 3]);
    let mut config = world(MetaRmConfig::default());
    config.experiment.rm.epochs = 1.0;
    let mut m = MetaRmRunner::setup(config, Compute::cpu(), None, broken, None).unwrap();
    let err = loop {
        match pollster::block_on(m.step()) {
            Ok(_) if !m.is_finished() => continue,
            Ok(_) => panic!("a broken policy.bin is an error"),
            Err(e) => break e.to_string(),
        }
    };
    assert!(err.contains("policy.bin"), "{err}");
}

#[test]
fn on_the_text_track_metarm_asks_a_saved_policy_prompts_outside_its_data() {
    use rlhf_lab::experiment::metarm::{MetaRmConfig, MetaRmRunner};
    fn text<E>(experiment: E) -> Run<E> {
        Run {
            data: DataConfig {
                source: DataSource::HhSample,
                ..Default::default()
            },
            seed: 2,
            backend: BackendChoice::Cpu,
            experiment,
        }
    }
    let mut ppo = PpoConfig {
        policy_model: PolicyConfig {
            d_model: 16,
            layers: 1,
            heads: 2,
            ffn: 32,
            ..Default::default()
        },
        sft_steps: 5,
        sft_batch: 8,
        steps: 2,
        rollouts: 8,
        minibatches: 2,
        ..PpoConfig::default()
    }
    .for_text();
    ppo.text.gold.epochs = 1.0;
    ppo.text.proxy_pairs = 80;
    ppo.text.prompt_tokens = 12;
    ppo.text.response_tokens = 8;
    let saved = trained_policy(text(ppo.clone()));
    let mut rm = ppo.proxy.clone();
    rm.epochs = 1.0;
    rm.meta_batch = 4;
    let config = text(MetaRmConfig {
        rm,
        sampling: MetaSampling {
            groups: 6,
            heldout_groups: 3,
            shifted_pairs: 10,
        },
    });
    let asked = vec![
        "\n\nHuman: What should I name my goldfish?\n\nAssistant:".to_string(),
        "\n\nHuman: How do I fold a paper crane?\n\nAssistant:".to_string(),
    ];
    let mut m = MetaRmRunner::setup(config, Compute::cpu(), None, saved, Some(asked)).unwrap();
    while !m.is_finished() {
        pollster::block_on(m.step()).unwrap();
    }
    let arms = &m.report().arms;
    assert!(arms["metarm"].j.is_finite() && arms["vanilla"].j.is_finite());
    assert!(arms["vanilla"].mean_abs_dr.is_finite());
}
