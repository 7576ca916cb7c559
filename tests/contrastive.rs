//! Contrastive reward modelling (spec §4, §8.7): CL-1 (β = 0 is the baseline bit for bit),
//! gradients reach the SwAV prototypes, and, in the calibration tier, CL-2 (held-out accuracy
//! within 0.01 of the baseline, 5 seeds, mean ± 2 SE) on the synthetic world. CL-3 (feature
//! separation ≥ baseline) is measured and printed but not asserted (UNCALIBRATED in the spec,
//! and it did not hold at this scale; see the issue notes).
mod common;
use common::stats::{CALIBRATION_SEEDS, PerSeed, all_hold};

use rlhf_lab::compute::Compute;
use rlhf_lab::data::synthetic::SyntheticConfig;
use rlhf_lab::experiment::{DataSource, RmReport, RmRunner, RmTrainConfig, Run};
use rlhf_lab::model::RewardModelConfig;
use rlhf_lab::rm::contrastive::{ContrastiveConfig, ContrastiveMethod};

fn config(method: ContrastiveMethod, seed: u64, pairs: usize) -> Run<RmTrainConfig> {
    let mut c = Run {
        seed,
        backend: rlhf_lab::compute::BackendChoice::Cpu,
        experiment: RmTrainConfig {
            model: RewardModelConfig {
                dropout: 0.05,
                ..RewardModelConfig::bow()
            },
            epochs: 5.0,
            contrastive: ContrastiveConfig::preset(method),
            optimizer: rlhf_lab::experiment::OptimizerConfig {
                lr: 3e-3,
                ..Default::default()
            },
            ..Default::default()
        },
        ..Default::default()
    };
    c.data.source = DataSource::Synthetic(SyntheticConfig {
        pairs,
        seed,
        ..Default::default()
    });
    c
}

fn run(c: Run<RmTrainConfig>) -> (RmReport, Vec<f32>) {
    let mut r = RmRunner::setup(c, Compute::cpu(), None).expect("setup");
    let events = common::run_to_end(&mut r);
    (r.report(), common::losses(&events))
}

#[test]
fn cl1_beta_zero_is_the_baseline_bit_for_bit() {
    let mut base = config(ContrastiveMethod::None, 4, 400);
    base.experiment.steps = 12;
    let (_, expected) = run(base.clone());
    for method in [ContrastiveMethod::Simcse, ContrastiveMethod::Swav] {
        let mut c = base.clone();
        c.experiment.contrastive = ContrastiveConfig {
            beta: 0.0,
            ..ContrastiveConfig::preset(method)
        };
        let (_, got) = run(c);
        assert_eq!(got, expected, "{method:?} with β = 0");
    }
    // And β > 0 does change training.
    let mut c = base;
    c.experiment.contrastive = ContrastiveConfig::preset(ContrastiveMethod::Simcse);
    let (_, got) = run(c);
    assert_ne!(got, expected);
}

#[test]
fn swav_trains_its_prototypes_and_needs_dropout() {
    let mut c = config(ContrastiveMethod::Swav, 1, 300);
    c.experiment.steps = 5;
    let mut r = RmRunner::setup(c.clone(), Compute::cpu(), None).unwrap();
    let before = r.model().prototypes().expect("SwAV builds prototypes");
    assert_eq!(
        before.dims(),
        [50, 128],
        "K = 50 prototypes of the 128-wide feature"
    );
    let before = before.into_data().try_to_vec::<f32>().unwrap();
    let events = common::run_to_end(&mut r);
    let after = r
        .model()
        .prototypes()
        .unwrap()
        .into_data()
        .try_to_vec::<f32>()
        .unwrap();
    let moved = before.iter().zip(&after).filter(|(a, b)| a != b).count();
    assert!(
        moved > before.len() / 2,
        "gradients reach the prototypes: {moved} moved"
    );
    let cl: Vec<f32> = events
        .iter()
        .filter_map(|e| match e {
            rlhf_lab::experiment::Event::Kind(rlhf_lab::experiment::KindEvent::Rm(
                rlhf_lab::experiment::RmEvent::Step {
                    contrastive_loss, ..
                },
            )) => *contrastive_loss,
            _ => None,
        })
        .collect();
    assert_eq!(cl.len(), 5);
    assert!(cl.iter().all(|x| x.is_finite() && *x > 0.0), "{cl:?}");
    // The training model's two forward passes are different views (dropout is on).
    let data = r.shared_data();
    let batch = rlhf_lab::data::encode::pad_pairs(&[&data.encoded[0], &data.encoded[1]], 0);
    let view = |m: &rlhf_lab::model::RewardModel, draws: u64| {
        m.forward_train(&batch, draws)
            .features
            .into_data()
            .try_to_vec::<f32>()
            .unwrap()
    };
    let train_model = {
        let fresh = RmRunner::setup(c.clone(), Compute::cpu(), None).unwrap();
        fresh.model().clone()
    };
    assert_ne!(
        view(&train_model, 1),
        view(&train_model, 2),
        "two dropout views differ"
    );
    assert_eq!(
        view(&train_model, 1),
        view(&train_model, 1),
        "a view is fixed by its seed"
    );
    // Two identical views would make the contrastive task trivial: dropout is required.
    c.experiment.model.dropout = 0.0;
    let err = c.experiment.validate().unwrap_err();
    assert!(err.contains("dropout"), "{err}");
}

/// CL-2 (asserted) and CL-3 (UNCALIBRATED in the spec; measured and printed, not asserted) over
/// 5 seeds, paired with the baseline of the same seed.
#[test]
#[ignore = "calibration tier (scripts/calibrate.sh): CL-2/CL-3 over 5 seeds, ~2 min"]
fn cal_cl2_contrastive_runs_keep_accuracy_and_report_separation() {
    let methods = [
        ContrastiveMethod::None,
        ContrastiveMethod::Simcse,
        ContrastiveMethod::Swav,
        ContrastiveMethod::SwavDiff,
    ];
    let mut acc: Vec<PerSeed> = methods
        .iter()
        .map(|m| PerSeed::new(&format!("{m:?} accuracy")))
        .collect();
    let mut sep: Vec<PerSeed> = methods
        .iter()
        .map(|m| PerSeed::new(&format!("{m:?} separation")))
        .collect();
    for seed in CALIBRATION_SEEDS {
        for (m, &method) in methods.iter().enumerate() {
            let (r, _) = run(config(method, seed, 4000));
            acc[m].push(seed, f64::from(r.validation_accuracy.expect("accuracy")));
            sep[m].push(
                seed,
                f64::from(r.feature_separation_auroc.expect("separation")),
            );
        }
    }
    let mut checks = Vec::new();
    for m in 1..methods.len() {
        checks.push(acc[m].minus(&acc[0]).check_at_least(-0.01));
        // CL-3, reported: separation minus the baseline's (not asserted; see the issue note).
        let cl3 = sep[m].minus(&sep[0]);
        eprintln!("CL-3 (reported) {}", cl3.row());
    }
    all_hold(checks);
}

/// Fast tier: every contrastive method trains, keeps a useful accuracy and reports a real
/// probe result.
#[test]
fn contrastive_methods_train_and_report_separation() {
    for method in [
        ContrastiveMethod::Simcse,
        ContrastiveMethod::Swav,
        ContrastiveMethod::SwavDiff,
    ] {
        let (r, losses) = run(config(method, 2, 800));
        let acc = r.validation_accuracy.expect("accuracy");
        let sep = r.feature_separation_auroc.expect("separation");
        eprintln!("{method:?}: accuracy {acc:.3}, separation {sep:.3}");
        assert!(losses.iter().all(|l| l.is_finite()));
        assert!(acc > 0.6, "{method:?} accuracy {acc}");
        assert!(sep > 0.5 && sep <= 1.0, "{method:?} separation {sep}");
    }
}
