//! Real text (spec §8.3): the HH-RLHF harmless-base sample from ../shared/data. HH-1 (the text
//! defaults beat the shorter-wins baseline without leaking), HH-2 (strength views), HH-3
//! (injected flips are found by low μ with a cross-fitted ensemble). HH-1 and HH-3 over 5 seeds
//! are the calibration tier; CI runs one of each.
use rlhf_lab::compute::{BackendChoice, Compute};
use rlhf_lab::experiment::strength::StrengthReport;
use rlhf_lab::experiment::{
    DataSource, RmRunner, RmTrainConfig, Run, StrengthConfig, StrengthRunner,
};

mod common;
use common::stats::{CALIBRATION_SEEDS, PerSeed, all_hold};

fn hh_strength() -> Run<StrengthConfig> {
    let mut c = Run::<StrengthConfig>::default();
    c.data.source = DataSource::HhSample;
    c.backend = BackendChoice::Cpu;
    c.experiment.band_retrain = false;
    c
}

fn run_strength(c: Run<StrengthConfig>) -> StrengthReport {
    let mut r = StrengthRunner::setup(c, Compute::cpu(), None).expect("the HH sample loads");
    while !r.is_finished() {
        pollster::block_on(r.step()).expect("step");
    }
    r.report()
}

/// The defaults `train-rm --data <HH file>` uses, with `seed`.
fn hh_rm(seed: u64) -> Run<RmTrainConfig> {
    let mut config = Run {
        seed,
        backend: BackendChoice::Cpu,
        data: rlhf_lab::experiment::DataConfig {
            source: DataSource::HhSample,
            ..Default::default()
        },
        experiment: RmTrainConfig::default(),
    };
    config.experiment.use_text_defaults();
    config
}

fn train(config: Run<RmTrainConfig>) -> rlhf_lab::experiment::RmReport {
    let mut runner = RmRunner::setup(config, Compute::cpu(), None).expect("setup");
    while !runner.is_finished() {
        pollster::block_on(runner.step()).expect("step");
    }
    runner.report()
}

/// HH-1 over 5 seeds (each also changes the split), with the text defaults: held-out accuracy
/// in [0.56, 0.70], at least 0.58 (the bar for the defaults) and above shorter-wins.
#[test]
#[ignore = "calibration tier (scripts/calibrate.sh): HH-1 over 5 seeds, ~1 min"]
fn cal_hh1_the_text_defaults_beat_shorter_wins_on_held_out_pairs() {
    let mut acc = PerSeed::new("HH-1 held-out accuracy");
    let mut baseline = PerSeed::new("shorter-wins");
    for seed in CALIBRATION_SEEDS {
        let r = train(hh_rm(seed));
        acc.push(seed, f64::from(r.validation_accuracy.expect("accuracy")));
        baseline.push(seed, f64::from(r.baseline_accuracy));
    }
    all_hold(vec![
        acc.check_at_least(0.58),
        acc.check_at_most(0.70),
        acc.minus(&baseline).check_at_least(0.0),
    ]);
}

/// Fast tier: one run of the text defaults learns something and does not leak.
#[test]
fn hh1_one_run_of_the_text_defaults_learns_without_leaking() {
    let r = train(hh_rm(0));
    let acc = r.validation_accuracy.expect("accuracy");
    eprintln!(
        "seed 0: held-out {acc:.3}, shorter-wins {:.3}",
        r.baseline_accuracy
    );
    assert!((0.52..=0.75).contains(&acc), "{acc}");
    assert!(r.train_accuracy.expect("train") > acc - 0.05);
}

#[test]
fn hh2_strength_views_on_real_text() {
    let r = run_strength(hh_strength());
    eprintln!(
        "HH ensemble: frac μ<0 {:.3}, ensemble held-out accuracy {:.3}, groups {:?}",
        r.frac_mu_negative, r.ensemble_validation_accuracy, r.groups
    );
    // Fig 1/2 analogues exist for real text; their shape is reported, not asserted (spec HH-2).
    assert_eq!(r.groups.len(), 20);
    assert!(
        r.groups.iter().all(|g| g.1.is_finite() && g.1 > 0.0),
        "members disagree somewhere"
    );
    assert!(
        r.truth_source.is_none() && r.auroc.is_none(),
        "no truth on plain HH"
    );
    // The ensemble of weak models still ranks held-out pairs better than chance.
    assert!(
        r.ensemble_validation_accuracy > 0.55,
        "{}",
        r.ensemble_validation_accuracy
    );
}

/// HH-3 over 5 seeds per ρ (the seed picks the injected flips, the split and the members).
#[test]
#[ignore = "calibration tier (scripts/calibrate.sh): HH-3 over 5 seeds and 2 flip rates, ~5 min"]
fn cal_hh3_injected_flips_are_found_by_low_strength() {
    let mut checks = Vec::new();
    for rho in [0.1, 0.2] {
        let mut auroc = PerSeed::new(&format!("HH-3 ρ={rho} AUROC"));
        let mut lift = PerSeed::new(&format!("HH-3 ρ={rho} bottom-ρ precision / ρ"));
        for seed in CALIBRATION_SEEDS {
            let mut c = hh_strength();
            c.data.inject_flip_rate = rho;
            c.seed = seed;
            c.experiment.models = 4;
            c.experiment.cross_fit = 5;
            let r = run_strength(c);
            assert_eq!(r.truth_source.as_deref(), Some("injected flips"));
            auroc.push(
                seed,
                f64::from(r.auroc.expect("injected flips are the truth")),
            );
            lift.push(
                seed,
                f64::from(r.precision_bottom.expect("precision")) / rho,
            );
        }
        checks.push(auroc.check_at_least(0.60));
        checks.push(lift.check_at_least(1.4));
    }
    all_hold(checks);
}

/// Fast tier: injected flips on real text become the truth the report scores against.
#[test]
fn hh3_injected_flips_are_the_truth_and_scored() {
    let mut c = hh_strength();
    c.data.inject_flip_rate = 0.2;
    c.experiment.models = 2;
    let r = run_strength(c);
    assert_eq!(r.truth_source.as_deref(), Some("injected flips"));
    let noise = r.true_noise_rate.expect("noise");
    assert!((noise - 0.2).abs() < 0.01, "{noise}");
    let auroc = r.auroc.expect("auroc");
    assert!(
        auroc > 0.5,
        "low μ finds injected flips better than chance: {auroc}"
    );
}

/// Spearman rank correlation of two equally long samples (no ties expected in `x`).
fn spearman(x: &[f32], y: &[f32]) -> f32 {
    let rank = |v: &[f32]| {
        let mut idx: Vec<usize> = (0..v.len()).collect();
        idx.sort_by(|&a, &b| v[a].total_cmp(&v[b]));
        let mut r = vec![0.0f32; v.len()];
        for (k, &i) in idx.iter().enumerate() {
            r[i] = k as f32;
        }
        r
    };
    let (rx, ry) = (rank(x), rank(y));
    let n = x.len() as f32;
    let d2: f32 = rx.iter().zip(&ry).map(|(a, b)| (a - b).powi(2)).sum();
    1.0 - 6.0 * d2 / (n * (n * n - 1.0))
}

/// HH-4 (reported, not part of CI: ~3 minutes): an independent judge (the transformer RM,
/// 2-fold cross-fitted, so it never scores pairs it trained on) agrees with the labels more
/// often where the bag-of-words ensemble's μ is high. Run with
/// `cargo nextest run --test hh --run-ignored only --no-capture`.
#[test]
#[ignore = "report for the issue note (~3 min): HH-4 judge agreement by μ band"]
fn hh4_judge_agreement_rises_with_strength() {
    use rlhf_lab::experiment::rm::TrainPlan;
    use std::sync::Arc;
    let mut strength =
        StrengthRunner::setup(hh_strength(), Compute::cpu(), None).expect("the HH sample loads");
    while !strength.is_finished() {
        pollster::block_on(strength.step()).expect("step");
    }
    let mu = strength.strength().expect("μ").mu.clone();
    let data = Arc::clone(strength.data());
    let train = data.split.train.clone();
    let mut judge_gap = vec![f32::NAN; data.pairs.len()];
    for fold in 0..2 {
        let (fit, held): (Vec<usize>, Vec<usize>) = train.iter().partition(|&&p| p % 2 != fold);
        let config = Run {
            backend: BackendChoice::Cpu,
            experiment: RmTrainConfig {
                epochs: 2.0,
                eval_every: 1_000_000,
                ..Default::default()
            },
            ..Default::default()
        };
        let plan = TrainPlan {
            train: fit,
            validation: held.clone(),
            targets: Vec::new(),
            measure_features: false,
            meta: None,
        };
        let mut judge =
            RmRunner::with_plan(config, Compute::cpu(), Arc::clone(&data), plan).expect("judge");
        while !judge.is_finished() {
            pollster::block_on(judge.step()).expect("step");
        }
        let gaps = pollster::block_on(judge.score_gaps(&held)).expect("scores");
        for (&p, g) in held.iter().zip(gaps) {
            judge_gap[p] = g;
        }
    }
    let mut order = train.clone();
    order.sort_by(|&a, &b| mu[a].total_cmp(&mu[b]));
    let (mut band_mu, mut agreement) = (Vec::new(), Vec::new());
    for band in order.chunks(200).filter(|b| b.len() >= 100) {
        band_mu.push(band.iter().map(|&p| mu[p]).sum::<f32>() / band.len() as f32);
        let agree = band.iter().filter(|&&p| judge_gap[p] > 0.0).count();
        agreement.push(agree as f32 / band.len() as f32);
    }
    let rho = spearman(&band_mu, &agreement);
    eprintln!("HH-4 judge agreement per μ band of 200: {agreement:.3?}; Spearman {rho:.3}");
    assert!(rho > 0.0, "agreement should rise with μ: {agreement:?}");
}
