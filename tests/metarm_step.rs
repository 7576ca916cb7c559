//! MetaRM's meta step (spec §5.2, §8.6): MR-1 (η = 0 is vanilla training bit for bit, for every
//! reward-model architecture), the linear model's meta step by hand, and meta prompts that are
//! not training prompts.
use std::sync::Arc;

use burn::module::{Module, ModuleVisitor, Param};
use burn::optim::SgdConfig;
use burn::tensor::{Device, Tensor};
use rlhf_lab::compute::Compute;
use rlhf_lab::data::encode::{EncodedPair, PaddedBatch};
use rlhf_lab::data::rng::Rng;
use rlhf_lab::data::synthetic::{Prompt, SyntheticConfig, World};
use rlhf_lab::experiment::ppo::space::TokenSpace;
use rlhf_lab::experiment::prepare::{PreparedData, prepare};
use rlhf_lab::experiment::rm::meta::{MetaGroup, MetaSet};
use rlhf_lab::experiment::rm::step::{PairBatch, meta_ascent, train_step};
use rlhf_lab::experiment::rm::{RmTrainConfig, TrainPlan};
use rlhf_lab::experiment::{DataConfig, DataSource, Event, KindEvent, RmEvent, RmRunner, Run};
use rlhf_lab::model::counts::CountsBody;
use rlhf_lab::model::{Arch, RewardModel, RewardModelConfig};

/// Every float weight of a module, in visiting order.
struct Weights(Vec<f32>);

impl ModuleVisitor for Weights {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        self.0.extend(
            param
                .val()
                .into_data()
                .try_to_vec::<f32>()
                .expect("f32 weights"),
        );
    }
}

fn weights(model: &RewardModel) -> Vec<f32> {
    let mut w = Weights(Vec::new());
    model.visit(&mut w);
    w.0
}

fn world_run(arch: Arch, seed: u64) -> Run<RmTrainConfig> {
    let mut model = RewardModelConfig::preset(arch);
    if arch == Arch::Transformer {
        model.d_model = 16;
        model.ffn = 32;
        model.layers = 1;
        model.heads = 2;
        model.max_len = 24;
        model.dropout = 0.1;
    }
    Run {
        data: DataConfig {
            source: DataSource::Synthetic(SyntheticConfig {
                pairs: 200,
                ..Default::default()
            }),
            ..Default::default()
        },
        seed,
        experiment: RmTrainConfig {
            model,
            steps: 12,
            batch_size: 16,
            eval_every: 6,
            meta_lr: 0.0,
            meta_batch: 4,
            ..Default::default()
        },
        ..Default::default()
    }
}

/// `groups` groups of `k` reference responses to the world's prompts, encoded for `data`'s
/// reward model (prompts `topics` only).
fn reference_groups(
    run: &Run<RmTrainConfig>,
    data: &PreparedData,
    topics: &[usize],
    groups: usize,
    k: usize,
) -> MetaSet {
    let DataSource::Synthetic(w) = &run.data.source else {
        panic!("synthetic")
    };
    let world = World::new(w);
    let space = TokenSpace::world(&world, &data.tokenizer).unwrap();
    let mut rng = Rng::new(7);
    let max_len = run.experiment.model.max_len;
    MetaSet {
        k,
        groups: (0..groups)
            .map(|g| {
                let topic = topics[g % topics.len()];
                let (sequences, starts) = (0..k)
                    .map(|_| {
                        let words = world.sample_response(Prompt { topic }, &mut rng);
                        space.scored(topic, &words, max_len).unwrap()
                    })
                    .unzip();
                MetaGroup {
                    prompt: topic,
                    sequences,
                    starts,
                }
            })
            .collect(),
    }
}

/// Train to the end; the step losses, the J of each step and the final weights.
fn train(
    run: &Run<RmTrainConfig>,
    data: &Arc<PreparedData>,
    meta: Option<MetaSet>,
) -> (Vec<f32>, Vec<Option<f32>>, Vec<f32>) {
    let plan = TrainPlan {
        meta: meta.map(Arc::new),
        ..TrainPlan::from_split(data)
    };
    let mut runner =
        RmRunner::with_plan(run.clone(), Compute::cpu(), Arc::clone(data), plan).expect("setup");
    let mut losses = Vec::new();
    let mut js = Vec::new();
    while !runner.is_finished() {
        for e in pollster::block_on(runner.step()).expect("step") {
            if let Event::Kind(KindEvent::Rm(RmEvent::Step {
                loss,
                difference_loss,
                ..
            })) = e
            {
                losses.push(loss);
                js.push(difference_loss);
            }
        }
    }
    (losses, js, weights(runner.model()))
}

#[test]
fn mr1_meta_lr_zero_reproduces_vanilla_training_bit_for_bit_for_every_architecture() {
    for arch in [Arch::Counts, Arch::Bow, Arch::Transformer] {
        let run = world_run(arch, 3);
        let data =
            Arc::new(prepare(&run.data, run.experiment.model.max_len, run.seed, None).unwrap());
        let meta = reference_groups(&run, &data, &[0, 1, 2, 3, 4, 5], 24, 5);
        let (vanilla_losses, vanilla_js, vanilla) = train(&run, &data, None);
        assert!(
            vanilla_js.iter().all(Option::is_none),
            "{arch:?}: no meta set, no J"
        );
        let (losses, js, zero) = train(&run, &data, Some(meta.clone()));
        assert!(
            js.iter()
                .all(|j| j.is_some_and(|j| (0.4..0.8).contains(&j))),
            "{arch:?}: {js:?}"
        );
        assert_eq!(losses, vanilla_losses, "{arch:?}: η = 0 losses");
        assert!(
            zero.iter()
                .zip(&vanilla)
                .all(|(a, b)| a.to_bits() == b.to_bits()),
            "{arch:?}: η = 0 weights differ from vanilla"
        );
        // A meta step that moves θ' changes the training: the comparison above can fail.
        let mut moved = run.clone();
        moved.experiment.meta_lr = 2.0;
        let (_, _, moved_weights) = train(&moved, &data, Some(meta));
        assert_ne!(
            moved_weights, vanilla,
            "{arch:?}: η = 2 must change the weights"
        );
    }
}

fn sigmoid(x: f64) -> f64 {
    1.0 / (1.0 + (-x).exp())
}

/// A right-padded batch of `prompt + response + EOS` rows (EOS = 1, pad = 0).
fn rows(seqs: &[(&[u32], &[u32])]) -> PaddedBatch {
    let full: Vec<Vec<u32>> = seqs.iter().map(|(p, r)| [*p, *r, &[1]].concat()).collect();
    let refs: Vec<&[u32]> = full.iter().map(Vec::as_slice).collect();
    let mut b = rlhf_lab::data::encode::pad_sequences(&refs, 0);
    b.starts = seqs.iter().map(|(p, _)| p.len()).collect();
    b
}

fn dot(a: &[f64], b: &[f32]) -> f64 {
    a.iter().zip(b).map(|(x, &y)| x * f64::from(y)).sum()
}

#[test]
fn for_a_linear_reward_model_the_meta_step_is_a_plain_step_and_the_outer_gradient_is_taken_at_theta_prime()
 {
    // Count features under a linear head (the counts model): r(x) = w · f(x).
    let device = Device::flex().autodiff();
    let vocab = 6;
    let config = RewardModelConfig {
        arch: Arch::Counts,
        bigram_buckets: 1,
        dropout: 0.0,
        ..RewardModelConfig::counts()
    };
    let model = config.init_seeded(vocab, 0, 11, &device);
    let w: Vec<f64> = weights(&model).iter().map(|&x| f64::from(x)).collect();
    let body = CountsBody::new(vocab, 1);
    let width = CountsBody::width(vocab, 1);
    assert_eq!(w.len(), width, "the head is the whole model");
    // One meta group of k = 3 responses to prompt [5]; one preference pair on prompt [4].
    let k = 3;
    let group = rows(&[(&[5], &[2, 3]), (&[5], &[3, 3, 4]), (&[5], &[2])]);
    let f = body.features(&group);
    let feat = |i: usize| &f[i * width..(i + 1) * width];
    let r: Vec<f64> = (0..k).map(|i| dot(&w, feat(i))).collect();
    // J and ∇J by hand: (2/k²) Σ_{i<j} σ(|r_i − r_j|), ∂/∂w = (2/k²) Σ σ'(|d|) sign(d) (f_i − f_j).
    let (mut j, mut grad_j) = (0.0, vec![0.0; width]);
    for a in 0..k {
        for b in a + 1..k {
            let d = r[a] - r[b];
            let s = sigmoid(d.abs());
            j += s;
            for (g, (x, y)) in grad_j.iter_mut().zip(feat(a).iter().zip(feat(b))) {
                *g += s * (1.0 - s) * d.signum() * f64::from(x - y);
            }
        }
    }
    let norm = 2.0 / (k * k) as f64;
    j *= norm;
    grad_j.iter_mut().for_each(|g| *g *= norm);
    let eta = 0.7;
    let (lookahead, j_got) = pollster::block_on(meta_ascent(&model, &group, k, eta)).unwrap();
    assert!((f64::from(j_got) - j).abs() < 1e-6, "J {j_got} vs {j}");
    let w_prime: Vec<f64> = w.iter().zip(&grad_j).map(|(x, g)| x + eta * g).collect();
    for (got, want) in weights(&lookahead).iter().zip(&w_prime) {
        assert!((f64::from(*got) - want).abs() < 1e-6, "θ' {got} vs {want}");
    }
    assert_eq!(
        weights(&model)
            .iter()
            .map(|&x| f64::from(x))
            .collect::<Vec<_>>(),
        w,
        "θ itself is not moved"
    );
    // The outer step: ∇L of −log σ(w'·(f_c − f_r)) at θ', applied to θ by plain SGD at lr α.
    let pair = EncodedPair {
        index: 0,
        chosen: vec![4, 2, 2, 1],
        rejected: vec![4, 3, 1],
        chosen_start: 1,
        rejected_start: 1,
    };
    let batch = PairBatch::new(&[&pair], 0);
    let pf = body.features(&batch.padded);
    let diff: Vec<f32> = (0..width).map(|i| pf[i] - pf[width + i]).collect();
    let grad_at = |w: &[f64]| -> Vec<f64> {
        let m = dot(w, &diff);
        diff.iter()
            .map(|&d| -(1.0 - sigmoid(m)) * f64::from(d))
            .collect()
    };
    let (g_prime, g_theta) = (grad_at(&w_prime), grad_at(&w));
    assert!(
        g_prime
            .iter()
            .zip(&g_theta)
            .any(|(a, b)| (a - b).abs() > 1e-3),
        "θ' is far enough from θ that the two gradients differ"
    );
    let alpha = 0.1;
    let mut sgd = SgdConfig::new().init();
    let outcome = pollster::block_on(train_step(
        &model,
        Some(&lookahead),
        &mut sgd,
        &batch,
        alpha,
        &Default::default(),
        0,
    ))
    .unwrap();
    for ((got, x), g) in weights(&outcome.model).iter().zip(&w).zip(&g_prime) {
        let want = x - alpha * g;
        assert!(
            (f64::from(*got) - want).abs() < 1e-6,
            "θ_next {got} vs {want}"
        );
    }
    let want_loss = -sigmoid(dot(&w_prime, &diff)).ln();
    assert!((f64::from(outcome.loss) - want_loss).abs() < 1e-5);
}

#[test]
fn meta_prompts_need_not_be_training_prompts() {
    // The reward model trains on pairs of the world's first three topics only; its meta set asks
    // about the other three, which no training pair mentions.
    let run = world_run(Arch::Bow, 5);
    let mut data = prepare(&run.data, run.experiment.model.max_len, run.seed, None).unwrap();
    let topics_seen: Vec<usize> = (0..3).collect();
    let on_seen = |i: &usize| {
        let p = &data.pairs[*i].prompt;
        topics_seen
            .iter()
            .any(|&t| *p == Prompt { topic: t }.text())
    };
    let fit: Vec<usize> = data.split.train.iter().copied().filter(on_seen).collect();
    let held: Vec<usize> = data
        .split
        .validation
        .iter()
        .copied()
        .filter(on_seen)
        .collect();
    assert!(fit.len() > 50 && !held.is_empty());
    data.split.train = fit;
    data.split.validation = held;
    let data = Arc::new(data);
    let meta = reference_groups(&run, &data, &[3, 4, 5], 12, 5);
    for g in &meta.groups {
        let prompt = Prompt { topic: g.prompt }.text();
        assert!(
            data.split
                .train
                .iter()
                .all(|&i| data.pairs[i].prompt != prompt),
            "no training pair asks {prompt}"
        );
    }
    let (_, _, vanilla) = train(&run, &data, None);
    let mut meta_run = run.clone();
    meta_run.experiment.meta_lr = 2.0;
    let (losses, js, moved) = train(&meta_run, &data, Some(meta));
    assert!(losses.iter().all(|l| l.is_finite()));
    assert!(js.iter().all(Option::is_some));
    assert_ne!(
        moved, vanilla,
        "J on unseen prompts still moves the reward model"
    );
}
