//! The PPO run: first the reward models (the reward-model runner: the proxy on the world's
//! pairs; on HH text the gold model on every pair, then the proxy on pairs it relabels), then
//! PPO iterations of the policy against the proxy, measured against the gold reward at every
//! step. One iteration per [`Runner::step`], so the browser can drive it.
use std::sync::Arc;

use web_time::Instant;

use super::bon::{BonPoint, best_of_n, powers_of_two};
use super::config::{CriticInit, PolicyKind, PpoConfig, RewardNorm};
use super::curves::{PpoStep, moving_average};
use super::env::{Env, TextEnv, relabelled};
use super::event::{PpoEvent, SampleView, TokenView};
use super::factorised::Factorised;
use super::lm_agent::LmAgent;
use super::proxy::Proxy;
use super::report::PpoReport;
use super::rollout::{FactorisedAgent, Rollout, entering_score, make_experiences, update};
use super::space::TokenSpace;
use crate::compute::Compute;
use crate::data::rng::Rng;
use crate::experiment::config::{DataSource, Run};
use crate::experiment::error::ExperimentError;
use crate::experiment::events::{Event, Phase};
use crate::experiment::jobs::{Job, JobQueue};
use crate::experiment::prepare::{PreparedData, Upload, prepare};
use crate::experiment::rm::{RmRunner, RmTrainConfig, TrainPlan};
use crate::experiment::runner::{Progress, Runner, Span, StepFuture, Stride, report_value};
use crate::model::Arch;
use crate::model::policy::ValueLm;
use crate::model::saved::SavedRewardModel;
use crate::rl::collapse::{CollapseDetector, StepSignals};
use crate::rl::metrics::{distinct_2, max_token_frequency, mean_std, skewness};
use crate::rl::moments::RunningMoments;
use crate::rl::shaping::k1_mean;

/// Who learns: the factorised policy with its tabular critic, or the transformer policy LM
/// with its transformer critic.
pub(super) enum Agent {
    Factorised(Box<FactorisedAgent>),
    Lm(Box<LmAgent>),
}

/// A PPO run.
pub struct PpoRunner {
    pub(super) run: Run<PpoConfig>,
    pub(super) compute: Compute,
    pub(super) data: Arc<PreparedData>,
    /// What the reward models trained on, in words.
    pub(super) data_label: String,
    pub(super) env: Env,
    pub(super) queue: JobQueue,
    /// Optimizer steps of reward-model stages already finished (the text track's gold model).
    pub(super) stages_done: usize,
    pub(super) proxy: Option<Proxy>,
    /// The proxy came from a saved model: PPO starts at the first step.
    pub(super) proxy_loaded: bool,
    pub(super) proxy_accuracy: Option<f32>,
    pub(super) gold_accuracy: Option<f32>,
    pub(super) critic_init: String,
    pub(super) best_of_n: Vec<BonPoint>,
    pub(super) agent: Agent,
    pub(super) moments: RunningMoments,
    pub(super) detector: CollapseDetector,
    pub(super) rng: Rng,
    pub(super) sft_rng: Rng,
    pub(super) step: usize,
    pub(super) curves: Vec<PpoStep>,
    pub(super) collapse_steps: Vec<usize>,
    pub(super) tokens: usize,
    pub(super) ppo_seconds: f64,
    /// Seconds of the PPO stage spent in updates (the rest: rollouts, scoring, measurements).
    pub(super) update_seconds: f64,
    pub(super) started: bool,
    pub(super) finished: bool,
    /// The finished run that trained the proxy (its model file and data), when one did.
    pub(super) proxy_runner: Option<RmRunner>,
}

/// A job training a reward model on `data`'s split.
fn rm_job(
    run: &Run<PpoConfig>,
    config: &RmTrainConfig,
    data: &PreparedData,
    stage: usize,
    name: &str,
) -> Job {
    Job {
        phase: Phase::Stage {
            stage,
            name: name.into(),
        },
        config: run.with(config.clone()),
        plan: TrainPlan {
            measure_features: false,
            ..TrainPlan::from_split(data)
        },
    }
}

/// The proxy from a saved model file, checked against the run's world.
fn load_proxy(
    bytes: &[u8],
    env: &Env,
    compute: &Compute,
    world_config: &crate::data::synthetic::SyntheticConfig,
) -> Result<Proxy, ExperimentError> {
    let model_error =
        |e: String| ExperimentError::Model(format!("the proxy reward model file: {e}"));
    let Env::World(world) = env else {
        return Err(model_error(
            "the text track trains its own gold and proxy reward models: drop --rm".into(),
        ));
    };
    let saved = SavedRewardModel::from_bytes(bytes).map_err(|e| model_error(e.to_string()))?;
    let trained = crate::experiment::rm::score::training_config(&saved)
        .map_err(|e| model_error(e.to_string()))?;
    match &trained.data.source {
        DataSource::Synthetic(t)
            if t.seed == world_config.seed
                && (t.min_len, t.max_len) == (world_config.min_len, world_config.max_len) => {}
        DataSource::Synthetic(t) => {
            return Err(model_error(format!(
                "it was trained on the synthetic world with seed {} and lengths {}..={}, this run's world has seed {} and lengths {}..={}: use the same world (--world-seed {})",
                t.seed,
                t.min_len,
                t.max_len,
                world_config.seed,
                world_config.min_len,
                world_config.max_len,
                t.seed
            )));
        }
        other => {
            return Err(model_error(format!(
                "it was trained on {}, not the synthetic world: PPO measures gold, which only the synthetic world knows",
                other.label()
            )));
        }
    }
    let model = saved
        .load(&compute.train_device())
        .map_err(|e| model_error(e.to_string()))?;
    Proxy::new(model, &saved.tokenizer, world, &saved.header.model)
}

impl PpoRunner {
    /// Load the pairs and set up the reward-model stages and the policy. With `proxy_file`
    /// (the bytes of a saved reward model trained on this synthetic world) PPO uses that model
    /// and trains none.
    pub fn setup(
        run: Run<PpoConfig>,
        compute: Compute,
        upload: Option<&Upload>,
        proxy_file: Option<&[u8]>,
    ) -> Result<Self, ExperimentError> {
        run.validate().map_err(ExperimentError::Config)?;
        let c = &run.experiment;
        let (env, data, job, loaded) = match &run.data.source {
            DataSource::Synthetic(world_config) => {
                let env = Env::World(crate::data::synthetic::World::new(world_config));
                let data = prepare(&run.data, c.proxy.model.max_len, run.seed, upload)?;
                let job = rm_job(&run, &c.proxy, &data, 0, "proxy reward model");
                let loaded = proxy_file
                    .map(|bytes| load_proxy(bytes, &env, &compute, world_config))
                    .transpose()?;
                (env, data, job, loaded)
            }
            other => {
                if c.policy != PolicyKind::Transformer {
                    return Err(ExperimentError::Config(format!(
                        "{}: the factorised policy lives in the synthetic world; text needs policy = transformer (--policy transformer)",
                        other.label()
                    )));
                }
                if proxy_file.is_some() {
                    return Err(ExperimentError::Config(
                        "--rm: the text track trains its own gold and proxy reward models; drop --rm".into(),
                    ));
                }
                for (name, m) in [("proxy", &c.proxy.model), ("text.gold", &c.text.gold.model)] {
                    if m.arch == Arch::Counts {
                        return Err(ExperimentError::Config(format!(
                            "{name}.model.arch = counts reads the synthetic world's words only: use bow or transformer on text"
                        )));
                    }
                }
                let max_len = c.proxy.model.max_len.min(c.text.gold.model.max_len);
                let data = prepare(&run.data, max_len, run.seed, upload)?;
                let env = Env::Text(Box::new(TextEnv::new(
                    &data,
                    c.text.prompt_tokens,
                    c.text.response_tokens,
                )?));
                let job = rm_job(&run, &c.text.gold, &data, 0, "gold reward model");
                (env, data, job, None)
            }
        };
        let data = Arc::new(data);
        let jobs = if loaded.is_some() {
            Vec::new()
        } else {
            vec![job]
        };
        let queue = JobQueue::new(compute.clone(), Arc::clone(&data), jobs);
        let agent = match (&env, c.policy) {
            (Env::World(world), PolicyKind::Factorised) => {
                Agent::Factorised(Box::new(FactorisedAgent::new(Factorised::reference(world))))
            }
            (Env::World(world), PolicyKind::Transformer) => Agent::Lm(Box::new(LmAgent::new(
                c,
                TokenSpace::world(world, &data.tokenizer)?,
                run.seed,
                &compute.train_device(),
            )?)),
            (Env::Text(text), _) => Agent::Lm(Box::new(LmAgent::new(
                c,
                text.space.clone(),
                run.seed,
                &compute.train_device(),
            )?)),
        };
        Ok(Self {
            detector: CollapseDetector::new(c.collapse.clone()),
            rng: Rng::derived(run.seed, "ppo"),
            sft_rng: Rng::derived(run.seed, "sft"),
            agent,
            queue,
            stages_done: 0,
            env,
            data_label: data.label.clone(),
            data,
            compute,
            run,
            proxy_loaded: loaded.is_some(),
            proxy: loaded,
            proxy_accuracy: None,
            gold_accuracy: None,
            critic_init: String::new(),
            best_of_n: Vec::new(),
            moments: RunningMoments::default(),
            step: 0,
            curves: Vec::new(),
            collapse_steps: Vec::new(),
            tokens: 0,
            ppo_seconds: 0.0,
            update_seconds: 0.0,
            started: false,
            finished: false,
            proxy_runner: None,
        })
    }

    /// The metrics of every iteration so far.
    pub fn curves(&self) -> &[PpoStep] {
        &self.curves
    }

    /// True when the policy is the transformer.
    pub fn transformer(&self) -> bool {
        matches!(self.agent, Agent::Lm(_))
    }

    /// The factorised policy and its tabular critic (policy = factorised).
    pub fn factorised(&self) -> Option<(&Factorised, &[f64])> {
        match &self.agent {
            Agent::Factorised(a) => Some((&a.policy, &a.critic)),
            Agent::Lm(_) => None,
        }
    }

    /// The files that keep the trained policy and critic for later rounds: `policy.json` and
    /// `critic.json` (factorised: logits and values), or `policy.json` (the shape and token
    /// space), `policy.bin`, `critic.bin` (burn records) and `tokenizer.json` (transformer).
    pub fn model_files(&self) -> Result<Vec<(&'static str, Vec<u8>)>, ExperimentError> {
        let json = |v: serde_json::Value| v.to_string().into_bytes();
        Ok(match &self.agent {
            Agent::Factorised(a) => vec![
                (
                    "policy.json",
                    json(serde_json::json!({"kind": "factorised", "logits": a.policy.logits})),
                ),
                (
                    "critic.json",
                    json(serde_json::json!({"kind": "tabular", "values": a.critic})),
                ),
            ],
            Agent::Lm(lm) => {
                let (policy, critic) = lm.weights()?;
                let space = lm.space();
                vec![
                    (
                        "policy.json",
                        json(serde_json::json!({
                            "kind": "transformer",
                            "policy_model": self.run.experiment.policy_model,
                            "vocab_size": space.vocab_size,
                            "prompts": space.prompts,
                            "actions": space.words,
                            "max_new": space.max_new,
                            "weights": "policy.bin",
                            "critic": "critic.bin",
                        })),
                    ),
                    ("policy.bin", policy),
                    ("critic.bin", critic),
                    (
                        "tokenizer.json",
                        self.data.tokenizer.to_json()?.into_bytes(),
                    ),
                ]
            }
        })
    }

    /// Proxy scores of responses (word ids) to prompts.
    async fn score(&self, items: &[(usize, Vec<usize>)]) -> Result<Vec<f32>, ExperimentError> {
        match &self.proxy {
            Some(p) => p.score(items).await,
            None => Err(ExperimentError::Config(
                "the proxy reward model is not trained yet".into(),
            )),
        }
    }

    /// The words of a response (its actions without EOS).
    pub(super) fn words(&self, actions: &[usize]) -> Vec<usize> {
        let eos = self.env.eos_action();
        actions.iter().copied().filter(|&a| a != eos).collect()
    }

    /// After the proxy trained: best-of-n on it (synthetic world), and the critic from it
    /// when asked.
    async fn start_ppo(&mut self) -> Result<Vec<Event>, ExperimentError> {
        let c = self.run.experiment.clone();
        let mut events = Vec::new();
        if let (Env::World(world), true) = (&self.env, c.bon_trials > 0) {
            if let Some(proxy) = &self.proxy {
                self.best_of_n = best_of_n(
                    world,
                    proxy,
                    &powers_of_two(c.bon_max_n),
                    c.bon_trials,
                    self.run.seed,
                )
                .await?;
            }
            events.push(
                PpoEvent::BestOfN {
                    points: self.best_of_n.clone(),
                }
                .into(),
            );
        }
        self.critic_init = match c.critic_init {
            CriticInit::Zero => "zero".into(),
            CriticInit::RewardModel => self.init_critic().await?,
        };
        events.insert(
            0,
            PpoEvent::Setup {
                data: self.data_label.clone(),
                proxy_validation_accuracy: self.proxy_accuracy,
                gold_validation_accuracy: self.gold_accuracy,
                critic_init: self.critic_init.clone(),
                steps: c.steps,
                rollouts: c.rollouts,
            }
            .into(),
        );
        Ok(events)
    }

    /// The critic from the proxy. The critic learns returns built from the score as it enters
    /// the rewards (normalised, scaled, clipped), so it starts at that score of reference
    /// responses, and the running moments start from them too. Returns what it did, in words.
    pub(super) async fn init_critic(&mut self) -> Result<String, ExperimentError> {
        let c = self.run.experiment.clone();
        let clip = PpoConfig::on(c.reward_clip);
        let mut rng = Rng::derived(self.run.seed, "critic-init");
        match &self.agent {
            Agent::Factorised(_) => {
                let mut by_prompt = Vec::new();
                for p in 0..self.env.prompts() {
                    let items = self.env.references_for(p, 64, &mut rng);
                    by_prompt.push(self.score(&items).await?);
                }
                if c.reward_norm != RewardNorm::None {
                    self.moments.update(&by_prompt.concat());
                }
                let max_len = self.env.lengths().1;
                let Agent::Factorised(a) = &mut self.agent else {
                    unreachable!("matched above")
                };
                for (p, scores) in by_prompt.iter().enumerate() {
                    let mean = scores
                        .iter()
                        .map(|&x| f64::from(entering_score(x, c.reward_norm, clip, &self.moments)))
                        .sum::<f64>()
                        / scores.len().max(1) as f64;
                    for t in 0..max_len {
                        let s = a.policy.state(p, t);
                        a.critic[s] = mean;
                    }
                }
                Ok("tabular: each prompt's values at the proxy's mean entering score of 64 reference responses".into())
            }
            Agent::Lm(_) => {
                let items: Vec<(usize, Vec<usize>)> =
                    (0..256).map(|_| self.env.reference(&mut rng)).collect();
                let scores = self.score(&items).await?;
                if c.reward_norm != RewardNorm::None {
                    self.moments.update(&scores);
                }
                let entering: Vec<f64> = scores
                    .iter()
                    .map(|&x| f64::from(entering_score(x, c.reward_norm, clip, &self.moments)))
                    .collect();
                let mean = (entering.iter().sum::<f64>() / entering.len().max(1) as f64) as f32;
                // The entering score as an affine map of the raw one (clipping aside).
                let (scale, shift) = match c.reward_norm {
                    RewardNorm::None => (1.0, 0.0),
                    RewardNorm::Scale => (1.0 / self.moments.std().max(1e-8) as f32, 0.0),
                    RewardNorm::Normalise => {
                        let sd = self.moments.std().max(1e-8) as f32;
                        (1.0 / sd, -(self.moments.mean as f32) / sd)
                    }
                };
                let Some(proxy) = &self.proxy else {
                    return Err(ExperimentError::Config(
                        "the proxy reward model is not trained yet".into(),
                    ));
                };
                let Agent::Lm(lm) = &mut self.agent else {
                    unreachable!("matched above")
                };
                let longest =
                    lm.space().prompts.iter().map(Vec::len).max().unwrap_or(0) + lm.space().max_new;
                let same_ids = proxy.space() == lm.space();
                let shape = proxy.config().trunk_shape(lm.space().vocab_size);
                let on_trunk = (same_ids && proxy.config().max_len >= longest)
                    .then(|| ValueLm::from_reward_model(proxy.model(), &shape, scale, shift))
                    .flatten();
                Ok(match on_trunk {
                    Some(critic) => {
                        lm.set_critic(critic);
                        format!(
                            "value head on the proxy's transformer trunk (the reward head × {scale:.3} + {shift:.3}, the reward normalisation)"
                        )
                    }
                    None => {
                        let why = if proxy.config().arch != Arch::Transformer {
                            "the proxy is not a transformer, so there is no trunk to share"
                        } else if !same_ids {
                            "the proxy reads other token ids"
                        } else {
                            "the proxy's positions are shorter than the policy's sequences"
                        };
                        lm.set_critic_constant(mean);
                        format!(
                            "own trunk, value head constant at the proxy's mean entering score of 256 reference responses ({mean:.3}): {why}"
                        )
                    }
                })
            }
        }
    }

    /// One PPO iteration: sample, score, measure, update.
    async fn iterate(&mut self) -> Result<Vec<Event>, ExperimentError> {
        let t0 = Instant::now();
        let c = self.run.experiment.clone();
        let prompts = self.env.prompts();
        let mut batch: Vec<Rollout> = match &self.agent {
            Agent::Factorised(a) => {
                // The policy does not change while the batch is drawn: each state's numbers once.
                let draws = a.policy.draw_table(&c.sampling);
                let (policy_lp, reference_lp) =
                    (a.policy.log_prob_table(), a.reference.log_prob_table());
                (0..c.rollouts)
                    .map(|_| {
                        let prompt = self.rng.below(prompts);
                        let actions = a.policy.sample(prompt, &draws, &mut self.rng);
                        Rollout {
                            prompt,
                            logp: a.policy.action_log_probs(prompt, &actions, &policy_lp),
                            ref_logp: a
                                .reference
                                .action_log_probs(prompt, &actions, &reference_lp),
                            values: (0..actions.len())
                                .map(|t| a.critic[a.policy.state(prompt, t)] as f32)
                                .collect(),
                            actions,
                            ..Default::default()
                        }
                    })
                    .collect()
            }
            Agent::Lm(lm) => {
                let prompts: Vec<usize> =
                    (0..c.rollouts).map(|_| self.rng.below(prompts)).collect();
                let actions = lm.sample(&prompts, &c.sampling, &mut self.rng).await?;
                let items: Vec<(usize, &[usize])> = prompts
                    .iter()
                    .zip(&actions)
                    .map(|(&p, a)| (p, a.as_slice()))
                    .collect();
                let (logp, ref_logp, values) = lm.score(&items).await?;
                prompts
                    .into_iter()
                    .zip(actions)
                    .zip(logp.into_iter().zip(ref_logp).zip(values))
                    .map(|((prompt, actions), ((logp, ref_logp), values))| Rollout {
                        prompt,
                        actions,
                        logp,
                        ref_logp,
                        values,
                        ..Default::default()
                    })
                    .collect()
            }
        };
        let items: Vec<(usize, Vec<usize>)> = batch
            .iter()
            .map(|r| (r.prompt, self.words(&r.actions)))
            .collect();
        let proxy = self.score(&items).await?;
        let gold = self.env.gold(&items).await?;
        for ((r, s), g) in batch.iter_mut().zip(proxy).zip(gold) {
            r.proxy = s;
            r.gold = g;
        }
        make_experiences(&mut batch, &c, &mut self.moments);
        let (entropy, exact_kl) = match &self.agent {
            Agent::Factorised(a) => (
                factorised_entropy(&a.policy, &batch),
                Some(a.policy.exact_kl(&a.reference)),
            ),
            Agent::Lm(lm) => {
                let items: Vec<(usize, &[usize])> = batch
                    .iter()
                    .map(|r| (r.prompt, r.actions.as_slice()))
                    .collect();
                (lm.entropy(&items).await?, None)
            }
        };
        let mut row = self.measure(&batch, &items, entropy, exact_kl);
        let mut events = self.views(&batch, &items);
        let t_update = Instant::now();
        let stats = match &mut self.agent {
            Agent::Factorised(a) => update(a, &batch, &c, &mut self.rng),
            Agent::Lm(lm) => lm.update(&batch, &c, &mut self.rng).await?,
        };
        self.update_seconds += t_update.elapsed().as_secs_f64();
        row.policy_loss = stats.policy_loss;
        row.value_loss = stats.value_loss;
        row.pg_clip_frac = stats.pg_clip_frac;
        row.vf_clip_frac = stats.vf_clip_frac;
        self.tokens += batch.iter().map(|r| r.actions.len()).sum::<usize>();
        self.ppo_seconds += t0.elapsed().as_secs_f64();
        row.wall_time_s = self.ppo_seconds;
        let (flag, signals) = self.detector.push(StepSignals {
            length: row.length,
            max_token_frequency: row.max_token_frequency,
            at_max_len: row.at_max_len,
            kl: row.kl,
            perplexity: row.ppl,
            entropy: row.entropy,
            reward_skewness: row.reward_skewness,
        });
        row.collapse = flag;
        if flag {
            self.collapse_steps.push(self.step);
            events.push(
                PpoEvent::Collapse {
                    step: self.step,
                    signals,
                }
                .into(),
            );
        }
        events.insert(0, PpoEvent::Step(row.clone()).into());
        self.curves.push(row);
        self.step += 1;
        crate::compute::yield_to_host().await;
        Ok(events)
    }

    /// The batch's metrics (losses are filled in after the update); `exact_kl` where the
    /// policy allows it, else the sampled sequence-level estimate stands in.
    fn measure(
        &self,
        batch: &[Rollout],
        items: &[(usize, Vec<usize>)],
        entropy: f64,
        exact_kl: Option<f64>,
    ) -> PpoStep {
        let n = batch.len().max(1) as f64;
        let tokens: usize = batch.iter().map(|r| r.actions.len()).sum();
        let nll: f64 = batch
            .iter()
            .flat_map(|r| &r.logp)
            .map(|&l| -f64::from(l))
            .sum();
        let nll_ref: f64 = batch
            .iter()
            .flat_map(|r| &r.ref_logp)
            .map(|&l| -f64::from(l))
            .sum();
        let seq_kl: f64 = batch
            .iter()
            .map(|r| {
                r.logp
                    .iter()
                    .zip(&r.ref_logp)
                    .map(|(a, b)| f64::from(a - b))
                    .sum::<f64>()
            })
            .sum::<f64>()
            / n;
        let token_kl: f64 = batch
            .iter()
            .map(|r| f64::from(k1_mean(&r.logp, &r.ref_logp)) * r.logp.len() as f64)
            .sum::<f64>()
            / tokens.max(1) as f64;
        let words: Vec<Vec<usize>> = items.iter().map(|(_, w)| w.clone()).collect();
        let (min_len, max_len) = self.env.lengths();
        let proxy: Vec<f64> = batch.iter().map(|r| f64::from(r.proxy)).collect();
        let adv: Vec<f64> = batch
            .iter()
            .flat_map(|r| &r.advantages)
            .map(|&a| f64::from(a))
            .collect();
        let ret: Vec<f64> = batch
            .iter()
            .flat_map(|r| &r.returns)
            .map(|&a| f64::from(a))
            .collect();
        let (advantage_mean, advantage_std) = mean_std(&adv);
        let (return_mean, return_std) = mean_std(&ret);
        let kl = exact_kl.unwrap_or(seq_kl);
        PpoStep {
            step: self.step,
            proxy: proxy.iter().sum::<f64>() / n,
            gold: batch.iter().map(|r| f64::from(r.gold)).sum::<f64>() / n,
            kl,
            sqrt_kl: kl.max(0.0).sqrt(),
            kl_sampled: seq_kl,
            kl_token: token_kl,
            ppl: (nll / tokens.max(1) as f64).exp(),
            ppl_ref: (nll_ref / tokens.max(1) as f64).exp(),
            length: words.iter().map(Vec::len).sum::<usize>() as f64 / n,
            // A world with one length has every response at the limit: no signal there.
            at_max_len: if min_len < max_len {
                words.iter().filter(|w| w.len() >= max_len).count() as f64 / n
            } else {
                0.0
            },
            distinct_2: distinct_2(&words),
            max_token_frequency: max_token_frequency(&words),
            entropy,
            reward_skewness: skewness(&proxy),
            advantage_mean,
            advantage_std,
            return_mean,
            return_std,
            reward_running_mean: self.moments.mean,
            reward_running_std: self.moments.std(),
            ..Default::default()
        }
    }

    /// Samples, the token view, and the reward distributions at checkpoints.
    fn views(&self, batch: &[Rollout], items: &[(usize, Vec<usize>)]) -> Vec<Event> {
        let steps = self.run.experiment.steps;
        let mut events = Vec::new();
        let every = (steps / 10).max(1);
        if self.step.is_multiple_of(every) || self.step + 1 == steps {
            events.push(
                PpoEvent::Checkpoint {
                    step: self.step,
                    proxy: batch.iter().map(|r| r.proxy).collect(),
                    gold: batch.iter().map(|r| r.gold).collect(),
                }
                .into(),
            );
        }
        let samples = batch
            .iter()
            .zip(items)
            .take(4)
            .map(|(r, (p, w))| SampleView {
                prompt: self.env.prompt_text(*p),
                response: self.env.render(w),
                proxy: r.proxy,
                gold: r.gold,
            })
            .collect();
        let beta = self.run.experiment.kl_coef as f32;
        let tokens = batch.first().map_or_else(Vec::new, |r| {
            r.actions
                .iter()
                .enumerate()
                .map(|(t, &a)| TokenView {
                    token: self.env.token_text(a),
                    kl_penalty: -beta * (r.logp[t] - r.ref_logp[t]),
                    reward: r.rewards[t],
                    advantage: r.advantages[t],
                })
                .collect()
        });
        events.push(
            PpoEvent::Samples {
                step: self.step,
                samples,
                tokens,
            }
            .into(),
        );
        events
    }

    /// The report so far.
    pub fn report(&self) -> PpoReport {
        let c = &self.run.experiment;
        let gold: Vec<f64> = self.curves.iter().map(|r| r.gold).collect();
        let proxy: Vec<f64> = self.curves.iter().map(|r| r.proxy).collect();
        let smooth = moving_average(&gold, c.smooth);
        let (peak_step, peak) =
            smooth
                .iter()
                .enumerate()
                .fold(
                    (0, f64::NEG_INFINITY),
                    |(bi, b), (i, &g)| if g > b { (i, g) } else { (bi, b) },
                );
        let last = |xs: &[f64]| xs.last().copied().unwrap_or(f64::NAN);
        PpoReport {
            config: self.run.clone(),
            proxy_validation_accuracy: self.proxy_accuracy,
            gold_validation_accuracy: self.gold_accuracy,
            critic_init: self.critic_init.clone(),
            gold_initial: gold.first().copied().unwrap_or(f64::NAN),
            gold_peak: peak,
            gold_peak_step: peak_step,
            gold_final: last(&smooth),
            proxy_initial: proxy.first().copied().unwrap_or(f64::NAN),
            proxy_final: last(&moving_average(&proxy, c.smooth)),
            kl_final: self.curves.last().map_or(f64::NAN, |r| r.kl),
            kl_at_gold_peak: self.curves.get(peak_step).map_or(f64::NAN, |r| r.kl),
            collapse_steps: self.collapse_steps.clone(),
            steps: self.curves.len(),
            wall_time_s: self.ppo_seconds,
            seconds_per_step: self.ppo_seconds / self.curves.len().max(1) as f64,
            rollout_tokens_per_s: self.tokens as f64 / self.ppo_seconds.max(1e-9),
            update_seconds_per_step: self.update_seconds / self.curves.len().max(1) as f64,
            backend: self.compute.backend_name().into(),
            best_of_n: self.best_of_n.clone(),
        }
    }

    async fn step_inner(&mut self) -> Result<Vec<Event>, ExperimentError> {
        if self.finished {
            return Ok(Vec::new());
        }
        let mut events = Vec::new();
        if !self.started {
            self.started = true;
            events.push(Event::started(&self.compute, Runner::progress(self).total));
        }
        if self.proxy_loaded {
            self.proxy_loaded = false;
            events.extend(self.start_ppo().await?);
        }
        if self.proxy.is_none() {
            let (job_events, finished) = self.queue.step().await?;
            events.extend(job_events);
            if let Some(done) = finished {
                let accuracy = done.runner.report().validation_accuracy;
                let model = done.runner.model().clone();
                let c = &self.run.experiment;
                match &mut self.env {
                    Env::Text(text) if text.gold.is_none() => {
                        // The gold model is trained: relabel pairs for the proxy and train it.
                        self.gold_accuracy = accuracy;
                        let proxy_data =
                            relabelled(&self.data, &done.runner, c.text.proxy_pairs, self.run.seed)
                                .await?;
                        text.gold = Some(Proxy::in_space(
                            model,
                            text.space.clone(),
                            &c.text.gold.model,
                        ));
                        self.stages_done += self.queue.progress().1;
                        self.data_label = format!(
                            "{} (gold); the proxy's: {}",
                            self.data.label, proxy_data.label
                        );
                        let job = rm_job(&self.run, &c.proxy, &proxy_data, 1, "proxy reward model");
                        self.queue =
                            JobQueue::new(self.compute.clone(), Arc::new(proxy_data), vec![job]);
                        return Ok(events);
                    }
                    Env::Text(text) => {
                        self.proxy =
                            Some(Proxy::in_space(model, text.space.clone(), &c.proxy.model));
                    }
                    Env::World(world) => {
                        self.proxy = Some(Proxy::new(
                            model,
                            &self.data.tokenizer,
                            world,
                            &c.proxy.model,
                        )?);
                    }
                }
                self.proxy_runner = Some(done.runner);
                self.proxy_accuracy = accuracy;
                events.extend(self.start_ppo().await?);
            }
            return Ok(events);
        }
        let sft_steps = self.run.experiment.sft_steps;
        if let Agent::Lm(lm) = &mut self.agent
            && lm.sft_done() < sft_steps
        {
            let step = lm.sft_done() + 1;
            let responses: Vec<(usize, Vec<usize>)> = (0..self.run.experiment.sft_batch.max(1))
                .map(|_| self.env.reference(&mut self.sft_rng))
                .collect();
            let loss = lm.sft(&responses, step == sft_steps).await?;
            events.push(
                PpoEvent::Sft {
                    step,
                    steps: sft_steps,
                    loss,
                }
                .into(),
            );
            return Ok(events);
        }
        events.extend(self.iterate().await?);
        if self.step >= self.run.experiment.steps {
            self.finished = true;
            let report = self.report();
            let summary = report.summary();
            events.extend(Event::closing(
                PpoEvent::Done {
                    report: Box::new(report),
                },
                self.ppo_seconds,
                summary,
            ));
        }
        Ok(events)
    }
}

impl Runner for PpoRunner {
    fn step(&mut self) -> StepFuture<'_> {
        Box::pin(self.step_inner())
    }

    fn is_finished(&self) -> bool {
        self.finished
    }

    fn progress(&self) -> Progress {
        let (done, total) = self.queue.progress();
        let (sft_done, sft_total) = match &self.agent {
            Agent::Lm(lm) => (lm.sft_done(), self.run.experiment.sft_steps),
            Agent::Factorised(_) => (0, 0),
        };
        // Before the text track's gold model finishes, the proxy's steps are estimated.
        let c = &self.run.experiment;
        let pending = match &self.env {
            Env::Text(t) if t.gold.is_none() => c
                .proxy
                .total_steps(c.text.proxy_pairs.min(self.data.pairs.len()) * 4 / 5),
            _ => 0,
        };
        Progress {
            done: self.stages_done + done + sft_done + self.step,
            total: self.stages_done + total + pending + sft_total + c.steps,
        }
    }

    fn report_json(&self) -> serde_json::Value {
        report_value(&self.report())
    }

    /// `[0, stage, job, epoch]` while reward models train (gold, then proxy), then `[1]` for
    /// the policy's supervised warm-up and `[2]` for PPO (one job each, without epochs).
    fn span(&self, stride: Stride) -> Option<Span> {
        if self.finished {
            return None;
        }
        if self.proxy.is_none() {
            let mut span = vec![0, self.stages_done];
            span.extend(self.queue.span(stride).unwrap_or_default());
            return Some(span);
        }
        if stride == Stride::Epoch {
            return None;
        }
        let warming_up = matches!(&self.agent,
            Agent::Lm(lm) if lm.sft_done() < self.run.experiment.sft_steps);
        Some(vec![if warming_up { 1 } else { 2 }])
    }
}

/// Mean entropy of the factorised policy at the batch's positions.
fn factorised_entropy(policy: &Factorised, batch: &[Rollout]) -> f64 {
    let tokens: usize = batch.iter().map(|r| r.actions.len()).sum();
    let by_state: Vec<f64> = policy
        .log_prob_table()
        .iter()
        .map(|lp| super::factorised::entropy_of(lp))
        .collect();
    batch
        .iter()
        .flat_map(|r| (0..r.actions.len()).map(move |t| (r.prompt, t)))
        .map(|(p, t)| by_state[policy.state(p, t)])
        .sum::<f64>()
        / tokens.max(1) as f64
}
