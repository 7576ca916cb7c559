//! PPO's text track (spec §8.4's text variant) on the HH-RLHF sample in ../shared/data: a gold
//! bag of words on every training pair, a smaller proxy on pairs the gold model relabels, SFT of
//! the transformer policy on the chosen responses, then PPO scored by both. Fast tier: a small
//! run end to end; the calibration tier reports the full-size curves.
use rlhf_lab::compute::{BackendChoice, Compute};
use rlhf_lab::experiment::ppo::{PpoConfig, PpoEvent, PpoReport, PpoRunner, PpoStep};
use rlhf_lab::experiment::{DataConfig, DataSource, Event, KindEvent, Phase, Run, Runner};
use rlhf_lab::model::policy::PolicyConfig;

fn text(seed: u64, experiment: PpoConfig) -> Run<PpoConfig> {
    Run {
        data: DataConfig {
            source: DataSource::HhSample,
            ..Default::default()
        },
        seed,
        backend: BackendChoice::Cpu,
        experiment: experiment.for_text(),
    }
}

fn run(config: Run<PpoConfig>) -> (PpoRunner, Vec<Event>) {
    let mut r = PpoRunner::setup(config, Compute::cpu(), None, None).expect("setup");
    let mut events = Vec::new();
    while !r.is_finished() {
        events.extend(pollster::block_on(r.step()).expect("step"));
    }
    (r, events)
}

fn ppo_events(events: &[Event]) -> Vec<&PpoEvent> {
    events
        .iter()
        .filter_map(|e| match e {
            Event::Kind(KindEvent::Ppo(p)) => Some(p),
            _ => None,
        })
        .collect()
}

#[test]
fn the_text_track_trains_gold_then_a_relabelled_proxy_then_sft_then_ppo() {
    let mut c = PpoConfig {
        policy_model: PolicyConfig {
            d_model: 32,
            layers: 1,
            heads: 2,
            ffn: 64,
            ..Default::default()
        },
        sft_steps: 40,
        sft_batch: 16,
        steps: 3,
        rollouts: 8,
        minibatches: 2,
        ..PpoConfig::default()
    };
    c.text.gold.epochs = 1.0;
    c.text.proxy_pairs = 120;
    c.text.prompt_tokens = 12;
    c.text.response_tokens = 10;
    let (runner, events) = run(text(2, c));
    // Two reward-model stages, gold first.
    let stages: Vec<String> = events
        .iter()
        .filter_map(|e| match e {
            Event::Job {
                phase: Phase::Stage { name, .. },
                ..
            } => Some(name.clone()),
            _ => None,
        })
        .fold(Vec::new(), |mut v, n| {
            if v.last() != Some(&n) {
                v.push(n);
            }
            v
        });
    assert_eq!(stages, ["gold reward model", "proxy reward model"]);
    let ppo = ppo_events(&events);
    let Some(PpoEvent::Setup {
        data,
        proxy_validation_accuracy,
        gold_validation_accuracy,
        critic_init,
        ..
    }) = ppo.first()
    else {
        panic!("setup first: {:?}", ppo.first());
    };
    assert!(
        data.contains("120 pairs") && data.contains("relabelled"),
        "{data}"
    );
    assert!(proxy_validation_accuracy.is_some() && gold_validation_accuracy.is_some());
    assert!(critic_init.contains("not a transformer"), "{critic_init}");
    let sft: Vec<f32> = ppo
        .iter()
        .filter_map(|e| match e {
            PpoEvent::Sft { loss, .. } => Some(*loss),
            _ => None,
        })
        .collect();
    assert_eq!(sft.len(), 40);
    assert!(
        sft[35..].iter().sum::<f32>() < sft[..5].iter().sum::<f32>() - 5.0,
        "SFT on the chosen responses lowers the loss: {sft:?}"
    );
    let curves: &[PpoStep] = runner.curves();
    assert_eq!(curves.len(), 3);
    assert!(
        curves[0].kl_sampled.abs() < 1e-3,
        "the SFT policy is the reference"
    );
    assert!(
        curves
            .iter()
            .all(|s| s.gold.is_finite() && s.proxy.is_finite() && (0.0..=10.0).contains(&s.length))
    );
    // Samples are text, prompts the last human turn.
    let samples = ppo
        .iter()
        .find_map(|e| match e {
            PpoEvent::Samples {
                samples, tokens, ..
            } => Some((samples, tokens)),
            _ => None,
        })
        .expect("samples");
    assert!(samples.0.iter().all(|s| !s.prompt.contains("Human:")));
    assert!(!samples.1.is_empty());
    let report: PpoReport = runner.report();
    assert!(
        report.best_of_n.is_empty(),
        "best-of-n needs the world's reference sampler"
    );
    let files = runner.model_files().expect("the policy's files");
    let names: Vec<&str> = files.iter().map(|(n, _)| *n).collect();
    assert_eq!(
        names,
        ["policy.json", "policy.bin", "critic.bin", "tokenizer.json"]
    );
    assert!(files.iter().all(|(_, b)| b.len() > 10));
}

#[test]
fn text_track_mistakes_are_errors_that_say_the_fix() {
    use rlhf_lab::experiment::ppo::config::PolicyKind;
    let mut c = text(1, PpoConfig::default());
    c.experiment.policy = PolicyKind::Factorised;
    let err = PpoRunner::setup(c, Compute::cpu(), None, None)
        .err()
        .unwrap();
    assert!(err.to_string().contains("--policy transformer"), "{err}");
    let mut c = text(1, PpoConfig::default());
    c.experiment.proxy = PpoConfig::default().proxy;
    let err = PpoRunner::setup(c, Compute::cpu(), None, None)
        .err()
        .unwrap();
    assert!(err.to_string().contains("counts"), "{err}");
    let c = text(1, PpoConfig::default());
    let err = PpoRunner::setup(c, Compute::cpu(), None, Some(b"x"))
        .err()
        .unwrap();
    assert!(err.to_string().contains("drop --rm"), "{err}");
    let mut c = text(1, PpoConfig::default());
    c.experiment.text.proxy_pairs = 3;
    let err = PpoRunner::setup(c, Compute::cpu(), None, None)
        .err()
        .unwrap();
    assert!(err.to_string().contains("text.proxy_pairs"), "{err}");
}
