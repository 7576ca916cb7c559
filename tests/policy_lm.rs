//! The transformer policy's first stage: SFT on the synthetic world's reference responses
//! teaches the policy LM the world's words and when to stop (EOS), and sampling draws only the
//! tokens a response may hold.
use rlhf_lab::compute::Compute;
use rlhf_lab::data::rng::Rng;
use rlhf_lab::data::synthetic::{Prompt, SyntheticConfig, World};
use rlhf_lab::experiment::ppo::lm::{sample, sft_step};
use rlhf_lab::experiment::prepare::prepare;
use rlhf_lab::experiment::rm::step::adamw;
use rlhf_lab::experiment::{DataConfig, DataSource, OptimizerConfig};
use rlhf_lab::model::policy::PolicyConfig;
use rlhf_lab::rl::sampling::Sampling;

#[test]
fn sft_teaches_the_policy_the_worlds_words_and_when_to_stop() {
    let world_config = SyntheticConfig {
        pairs: 200,
        ..Default::default()
    };
    let data = prepare(
        &DataConfig {
            source: DataSource::Synthetic(world_config.clone()),
            ..Default::default()
        },
        32,
        1,
        None,
    )
    .expect("the world's pairs");
    let world = World::new(&world_config);
    let t = &data.tokenizer;
    let id = |w: &str| t.encode(w).unwrap()[0];
    let words: Vec<u32> = world.response_words().iter().map(|w| id(w)).collect();
    let prompts: Vec<Vec<u32>> = (0..world.prompts())
        .map(|topic| t.encode(&Prompt { topic }.text()).unwrap())
        .collect();
    let (eos, pad) = (t.eos_id(), t.pad_id());
    let mut allowed = vec![false; t.vocab_size()];
    for &w in &words {
        allowed[w as usize] = true;
    }
    allowed[eos as usize] = true;
    let config = PolicyConfig {
        d_model: 32,
        layers: 1,
        heads: 2,
        ffn: 64,
        ..Default::default()
    };
    let device = Compute::cpu().train_device();
    let mut model = config.init_seeded(&allowed, 3, &device);
    let mut optim = adamw(&OptimizerConfig {
        lr: 3e-3,
        weight_decay: 0.0,
        ..Default::default()
    });
    let stopped = |responses: &[Vec<u32>]| {
        responses.iter().filter(|r| r.last() == Some(&eos)).count() as f64 / responses.len() as f64
    };
    let draw = |model: &rlhf_lab::model::policy::PolicyLm, seed: u64| {
        let asks: Vec<Vec<u32>> = (0..120)
            .map(|i| prompts[i % prompts.len()].clone())
            .collect();
        pollster::block_on(sample(
            model,
            &asks,
            16,
            eos,
            pad,
            &Sampling::default(),
            &mut Rng::new(seed),
        ))
        .expect("samples")
    };
    let before = draw(&model, 5);
    let mut rng = Rng::new(11);
    let mut losses = Vec::new();
    for _ in 0..120 {
        let batch: Vec<(Vec<u32>, usize)> = (0..48)
            .map(|_| {
                let p = world.sample_prompt(&mut rng);
                let mut seq = prompts[p.topic].clone();
                let start = seq.len();
                seq.extend(world.sample_response(p, &mut rng).iter().map(|&w| words[w]));
                seq.push(eos);
                (seq, start)
            })
            .collect();
        let seqs: Vec<&[u32]> = batch.iter().map(|(s, _)| s.as_slice()).collect();
        let starts: Vec<usize> = batch.iter().map(|(_, s)| *s).collect();
        let (next, loss) =
            pollster::block_on(sft_step(&model, &mut optim, &seqs, &starts, pad, 3e-3))
                .expect("step");
        model = next;
        losses.push(loss);
    }
    let first: f32 = losses[..10].iter().sum::<f32>() / 10.0;
    let last: f32 = losses[losses.len() - 10..].iter().sum::<f32>() / 10.0;
    assert!(last < first - 0.3, "SFT loss falls: {first} → {last}");
    let after = draw(&model, 5);
    let all_allowed = after.iter().flatten().all(|&id| allowed[id as usize]);
    assert!(all_allowed, "only response words and EOS are drawn");
    assert!(
        stopped(&before) < 0.7 && stopped(&after) > 0.9,
        "SFT learns to stop: {} → {}",
        stopped(&before),
        stopped(&after)
    );
    let mean_len = after.iter().map(|r| r.len() as f64 - 1.0).sum::<f64>() / after.len() as f64;
    eprintln!(
        "SFT loss {first:.3} → {last:.3}; stopped {:.2} → {:.2}; mean length {mean_len:.2}",
        stopped(&before),
        stopped(&after)
    );
    assert!(
        (5.0..=11.0).contains(&mean_len),
        "reference lengths are 4–12: {mean_len}"
    );
}

/// The critic initialised from a transformer reward model reads, at each sequence's last token,
/// exactly the reward model's score mapped the way PPO normalises it (scale · r + shift), and
/// a reward model without a trunk gives no such critic.
#[test]
fn a_critic_on_the_reward_models_trunk_values_the_last_token_as_the_normalised_reward() {
    use rlhf_lab::data::encode::pad_sequences;
    use rlhf_lab::experiment::rm::step::read_floats;
    use rlhf_lab::model::policy::ValueLm;
    use rlhf_lab::model::{Arch, RewardModelConfig};
    let device = Compute::cpu().train_device();
    let config = RewardModelConfig {
        d_model: 16,
        layers: 1,
        heads: 2,
        ffn: 32,
        max_len: 12,
        dropout: 0.0,
        ..RewardModelConfig::default()
    };
    let rm = config.init_seeded(20, 0, 5, &device);
    let seqs: [&[u32]; 2] = [&[3, 4, 5, 1], &[7, 1]];
    let batch = pad_sequences(&seqs, 0);
    let rewards = pollster::block_on(read_floats(rm.forward(&batch).rewards)).unwrap();
    let (scale, shift) = (0.5, -2.0);
    let critic = ValueLm::from_reward_model(&rm, &config.trunk_shape(20), scale, shift)
        .expect("a transformer has a trunk");
    let values = pollster::block_on(read_floats(critic.values(&batch))).unwrap();
    let seq = batch.seq_len;
    for (r, len) in batch.lengths.iter().enumerate() {
        let v = values[r * seq + len - 1];
        let want = scale * rewards[r] + shift;
        assert!((v - want).abs() < 1e-4, "row {r}: value {v}, want {want}");
    }
    // A constant head keeps the trunk and values every position at the constant.
    let flat = pollster::block_on(read_floats(critic.with_constant(0.25).values(&batch))).unwrap();
    assert!(flat.iter().all(|&v| (v - 0.25).abs() < 1e-6));
    let bow = RewardModelConfig::preset(Arch::Bow).init_seeded(20, 0, 5, &device);
    assert!(ValueLm::from_reward_model(&bow, &config.trunk_shape(20), 1.0, 0.0).is_none());
}

/// Generation from a key/value cache draws, under one seed, the same tokens as recomputing every
/// prefix at each token, with the same log-probabilities (the first token's bit for bit: the
/// prefill is the same forward pass; later ones within rounding, since one query attends to
/// cached keys in place of the whole causal product). Prompts of different lengths exercise the
/// padding columns, EOS the rows that drop out of the cache.
#[test]
fn cached_generation_draws_what_recomputing_every_prefix_draws() {
    use rlhf_lab::experiment::ppo::lm::generate;
    let (pad, eos, vocab) = (0u32, 1u32, 24usize);
    // The policy may emit EOS and three words, so about one token in four ends a response.
    let mut allowed = vec![false; vocab];
    for id in [1, 5, 9, 13] {
        allowed[id] = true;
    }
    let config = PolicyConfig {
        d_model: 32,
        layers: 2,
        heads: 4,
        ffn: 48,
        max_len: 24,
        ..Default::default()
    };
    let device = Compute::cpu().train_device();
    let model = config.init_seeded(&allowed, 7, &device);
    let mut rng = Rng::new(3);
    let prompts: Vec<Vec<u32>> = (0..40)
        .map(|i| (0..1 + i % 7).map(|_| 2 + rng.below(22) as u32).collect())
        .collect();
    let draw = |cached: bool| {
        pollster::block_on(generate(
            &model,
            &prompts,
            12,
            (eos, pad),
            &Sampling::default(),
            &mut Rng::new(11),
            cached,
        ))
        .expect("responses")
    };
    let (slow, fast) = (draw(false), draw(true));
    assert_eq!(fast.tokens, slow.tokens, "the same tokens");
    let early = slow.tokens.iter().filter(|t| t.len() < 12).count();
    assert!(
        (5..40).contains(&early),
        "some responses stop early and some run to the limit: {early} of 40 stopped"
    );
    let mut worst = 0f32;
    for (a, b) in fast.log_probs.iter().zip(&slow.log_probs) {
        assert_eq!(a.len(), b.len());
        assert_eq!(a[0], b[0], "the first token's log-probability, bit for bit");
        for (x, y) in a.iter().zip(b) {
            worst = worst.max((x - y).abs());
        }
    }
    assert!(worst < 1e-5, "log-probabilities within rounding: {worst}");
    // `sample` (what PPO calls) is the cached path.
    let sampled = pollster::block_on(sample(
        &model,
        &prompts,
        12,
        eos,
        pad,
        &Sampling::default(),
        &mut Rng::new(11),
    ))
    .expect("samples");
    assert_eq!(sampled, fast.tokens);
}

/// A response that would pass the policy's longest sequence is an error naming `max_len`, not
/// a panic inside the position embedding.
#[test]
fn cached_generation_past_max_len_is_an_error_naming_it() {
    use rlhf_lab::experiment::ppo::lm::generate;
    let mut allowed = vec![false; 12];
    allowed[5] = true; // one word and no EOS: every response runs to the limit
    let config = PolicyConfig {
        d_model: 16,
        layers: 1,
        heads: 2,
        ffn: 16,
        max_len: 8,
        ..Default::default()
    };
    let model = config.init_seeded(&allowed, 1, &Compute::cpu().train_device());
    let prompts = vec![vec![2u32, 3, 4, 6, 7, 8]];
    let run = |max_new| {
        pollster::block_on(generate(
            &model,
            &prompts,
            max_new,
            (1, 0),
            &Sampling::default(),
            &mut Rng::new(0),
            true,
        ))
    };
    // Six prompt tokens and two drawn fill the eight positions (the last token is not fed).
    assert_eq!(run(3).expect("fits").tokens[0], vec![5, 5, 5]);
    let err = run(4).expect_err("past max_len").to_string();
    assert!(err.contains("max_len = 8"), "{err}");
}
