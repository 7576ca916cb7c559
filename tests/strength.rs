//! The paper's preference-strength phenomena on the synthetic world with injected flips
//! (spec §8.1): PS-1 (μ < 0 matches the noise rate), PS-2 (low μ finds the flips), PS-3 (band
//! pattern), PS-4 (σ U-shape, direction only), PS-5 (M ≥ 2, population σ). Full size: these are the
//! figures in the issue note, and they run in CI as they are (a few seconds per ensemble member).
use rlhf_lab::compute::{BackendChoice, Compute};
use rlhf_lab::data::synthetic::SyntheticConfig;
use rlhf_lab::experiment::strength_runner::StrengthReport;
use rlhf_lab::experiment::{DataSource, Event, StrengthConfig, StrengthRunner};
use rlhf_lab::rm::strength::PreferenceStrength;

/// The synthetic world for strength tests: labels follow the gold reward (T = 0), then a
/// fraction ρ is flipped; the ensemble is the default (10 bag-of-words models, in-sample).
pub fn world(rho: f64, seed: u64, pairs: usize) -> StrengthConfig {
    let mut c = StrengthConfig::default();
    c.rm.data.source = DataSource::Synthetic(SyntheticConfig {
        pairs,
        flip_rate: rho,
        temperature: 0.0,
        seed,
        ..Default::default()
    });
    c.rm.seed = seed;
    c.rm.backend = BackendChoice::Cpu;
    c
}

/// Pairs drawn (80 % train). At ρ = 0.25: 10,000. At ρ = 0.1 the few flips compete with the
/// ensemble's own errors on clean pairs, so bottom-ρ precision needs the more accurate models
/// that 20,000 pairs give (0.796 mean at 10,000, just under the 0.80 bar; see the issue note).
const PAIRS_025: usize = 10_000;
const PAIRS_010: usize = 20_000;

fn run(config: StrengthConfig) -> (StrengthReport, Vec<Event>) {
    let mut runner = StrengthRunner::setup(config, Compute::cpu(), None).expect("setup");
    let mut events = Vec::new();
    while !runner.is_finished() {
        events.extend(pollster::block_on(runner.step()).expect("step"));
    }
    (runner.report(), events)
}

fn show(tag: &str, r: &StrengthReport) {
    let bands: Vec<String> = r
        .band_results
        .iter()
        .map(|b| format!("{:.3}", b.validation_accuracy))
        .collect();
    eprintln!(
        "{tag}: true noise {:.3}, frac μ<0 {:.3}, AUROC {:.3}, bottom-ρ P/R {:.3}/{:.3}, μ<0 P/R {:.3}/{:.3}, ensemble val {:.3}\n  bands [{}]\n  groups σ {:?}",
        r.true_noise_rate.unwrap_or(f32::NAN),
        r.frac_mu_negative,
        r.auroc.unwrap_or(f32::NAN),
        r.precision_bottom.unwrap_or(f32::NAN),
        r.recall_bottom.unwrap_or(f32::NAN),
        r.precision_mu_negative.unwrap_or(f32::NAN),
        r.recall_mu_negative.unwrap_or(f32::NAN),
        r.ensemble_validation_accuracy,
        bands.join(", "),
        r.groups
            .iter()
            .map(|g| (g.1 * 1000.0).round() / 1000.0)
            .collect::<Vec<_>>()
    );
}

const SEEDS: [u64; 3] = [1, 2, 3];

fn mean(xs: impl Iterator<Item = f32>) -> f32 {
    let v: Vec<f32> = xs.collect();
    v.iter().sum::<f32>() / v.len().max(1) as f32
}

/// PS-4 (direction only, as the spec asks): the seed-mean σ of the lowest and the highest
/// 5 % group both exceed the median group σ — the U shape of Fig 2.
fn check_ps4(reports: &[StrengthReport]) {
    let sigma: Vec<f32> = (0..20)
        .map(|g| mean(reports.iter().map(|r| r.groups[g].1)))
        .collect();
    let mut sorted = sigma.clone();
    sorted.sort_by(f32::total_cmp);
    let median = (sorted[9] + sorted[10]) / 2.0;
    eprintln!("PS-4 σ by group (seed mean): {sigma:.3?}, median {median:.3}");
    assert!(
        sigma[0] > median && sigma[19] > median,
        "PS-4: ends {} / {} vs median {median}",
        sigma[0],
        sigma[19]
    );
}

/// PS-1 and PS-2 on the mean over seeds (spec §8: stochastic expectations over ≥ 3 seeds).
fn check_ps1_ps2(reports: &[StrengthReport]) {
    let gap = mean(reports.iter().map(|r| {
        (r.frac_mu_negative
            - r.true_noise_rate
                .expect("the synthetic world knows its flips"))
        .abs()
    }));
    let auroc = mean(reports.iter().map(|r| r.auroc.expect("auroc")));
    let precision = mean(
        reports
            .iter()
            .map(|r| r.precision_bottom.expect("precision")),
    );
    eprintln!(
        "means over seeds: |frac μ<0 − noise| {gap:.3}, AUROC {auroc:.3}, bottom-ρ precision {precision:.3}"
    );
    assert!(gap <= 0.06, "PS-1: |frac μ<0 − noise rate| = {gap}");
    assert!(auroc >= 0.90, "PS-2 AUROC {auroc}");
    assert!(precision >= 0.80, "PS-2 bottom-ρ precision {precision}");
}

#[test]
fn ps_flip_rate_025_strength_finds_flips_and_bands_follow_the_paper() {
    let mut reports = Vec::new();
    for seed in SEEDS {
        let (r, events) = run(world(0.25, seed, PAIRS_025));
        show(&format!("ρ=0.25 seed {seed}"), &r);
        // The runner streamed progress: one strength update per member from the second on.
        let updates = events
            .iter()
            .filter(|e| matches!(e, Event::StrengthUpdate { .. }))
            .count();
        assert_eq!(updates, 9);
        assert_eq!(r.groups.len(), 20);
        assert_eq!(r.band_results.len(), 10);
        reports.push(r);
    }
    check_ps1_ps2(&reports);
    check_ps4(&reports);
    // PS-3 on the seed-mean band accuracies: bands 1–2 worse than random, the boundary band
    // ambiguous, the rest good, and the strongest band not the best one alone.
    let acc: Vec<f32> = (0..10)
        .map(|b| {
            mean(
                reports
                    .iter()
                    .map(|r| r.band_results[b].validation_accuracy),
            )
        })
        .collect();
    eprintln!("band-alone accuracy, mean of seeds: {acc:.3?}");
    assert!(acc[0] < 0.40 && acc[1] < 0.40, "PS-3 bottom bands {acc:?}");
    assert!((0.25..=0.65).contains(&acc[2]), "PS-3 band 3 {acc:?}");
    assert!(
        acc[3..].iter().all(|&a| a >= 0.70),
        "PS-3 upper bands {acc:?}"
    );
    let best = acc
        .iter()
        .enumerate()
        .max_by(|a, b| a.1.total_cmp(b.1))
        .map(|(i, _)| i);
    assert_ne!(
        best,
        Some(9),
        "PS-3 soft: the top band is not the best alone {acc:?}"
    );
}

#[test]
fn ps_flip_rate_010_strength_finds_flips() {
    let reports: Vec<StrengthReport> = SEEDS
        .iter()
        .map(|&seed| {
            let mut c = world(0.10, seed, PAIRS_010);
            c.band_retrain = false;
            let (r, _) = run(c);
            show(&format!("ρ=0.10 seed {seed}"), &r);
            r
        })
        .collect();
    check_ps1_ps2(&reports);
    check_ps4(&reports);
}

#[test]
fn ps5_one_model_is_refused_and_sigma_is_the_population_std() {
    let c = StrengthConfig {
        models: 1,
        ..world(0.1, 0, 100)
    };
    let err = c.validate().unwrap_err();
    assert!(err.contains("at least 2"), "{err}");
    assert!(StrengthRunner::setup(c, Compute::cpu(), None).is_err());
    // σ divides by M: two models at gaps 0 and 2 give σ = 1 (the sample std would be √2).
    let s = PreferenceStrength::from_gaps(&[vec![0.0], vec![2.0]]).unwrap();
    assert_eq!((s.mu[0], s.sigma[0]), (1.0, 1.0));
}
