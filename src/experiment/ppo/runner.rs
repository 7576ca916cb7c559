//! The PPO run: first the proxy reward model (the reward-model runner on the world's pairs),
//! then PPO iterations of the factorised policy against it, measured against the world's gold
//! reward at every step. One iteration per [`Runner::step`], so the browser can drive it.
use std::sync::Arc;

use web_time::Instant;

use super::adam::Adam;
use super::bon::{BonPoint, best_of_n, powers_of_two};
use super::config::{CriticInit, PolicyKind, PpoConfig, RewardNorm};
use super::curves::{PpoStep, moving_average};
use super::event::{PpoEvent, SampleView, TokenView};
use super::factorised::Factorised;
use super::lm_agent::LmAgent;
use super::proxy::Proxy;
use super::report::PpoReport;
use super::rollout::{Learner, Rollout, entering_score, make_experiences, update};
use crate::compute::Compute;
use crate::data::rng::Rng;
use crate::data::synthetic::{Prompt, World};
use crate::experiment::config::{DataSource, Run};
use crate::experiment::error::ExperimentError;
use crate::experiment::events::{Event, Phase};
use crate::experiment::jobs::{Job, JobQueue};
use crate::experiment::prepare::{PreparedData, Upload, prepare};
use crate::experiment::rm::TrainPlan;
use crate::experiment::runner::{Progress, Runner, StepFuture, report_value};
use crate::model::saved::SavedRewardModel;
use crate::rl::collapse::{CollapseDetector, StepSignals};
use crate::rl::metrics::{distinct_2, max_token_frequency, mean_std, skewness};
use crate::rl::moments::RunningMoments;
use crate::rl::shaping::k1_mean;

/// A PPO run.
pub struct PpoRunner {
    run: Run<PpoConfig>,
    compute: Compute,
    data: Arc<PreparedData>,
    world: World,
    queue: JobQueue,
    proxy: Option<Proxy>,
    /// The proxy came from a saved model: PPO starts at the first step.
    proxy_loaded: bool,
    proxy_accuracy: Option<f32>,
    best_of_n: Vec<BonPoint>,
    policy: Factorised,
    reference: Factorised,
    critic: Vec<f64>,
    policy_adam: Adam,
    critic_adam: Adam,
    /// The transformer policy (policy = transformer); the factorised fields then go unused.
    lm: Option<Box<LmAgent>>,
    moments: RunningMoments,
    detector: CollapseDetector,
    rng: Rng,
    step: usize,
    curves: Vec<PpoStep>,
    collapse_steps: Vec<usize>,
    tokens: usize,
    ppo_seconds: f64,
    started: bool,
    finished: bool,
}

impl PpoRunner {
    /// Load the world's pairs and set up the proxy stage and the policy. With `proxy_file` (the
    /// bytes of a saved reward model trained on this world) PPO uses that model and trains none.
    pub fn setup(
        run: Run<PpoConfig>,
        compute: Compute,
        upload: Option<&Upload>,
        proxy_file: Option<&[u8]>,
    ) -> Result<Self, ExperimentError> {
        run.validate().map_err(ExperimentError::Config)?;
        let c = &run.experiment;
        let DataSource::Synthetic(world_config) = &run.data.source else {
            return Err(ExperimentError::Config(
                "ppo runs on the synthetic world for now (--world synthetic): the text track needs the transformer policy, which is not built yet".into(),
            ));
        };
        let world = World::new(world_config);
        let data = Arc::new(prepare(&run.data, c.proxy.model.max_len, run.seed, upload)?);
        let plan = TrainPlan {
            measure_features: false,
            ..TrainPlan::from_split(&data)
        };
        let job = Job {
            phase: Phase::Stage {
                stage: 0,
                name: "proxy reward model".into(),
            },
            config: run.with(c.proxy.clone()),
            plan,
        };
        let loaded = proxy_file
            .map(|bytes| -> Result<Proxy, ExperimentError> {
                let model_error =
                    |e: String| ExperimentError::Model(format!("the proxy reward model file: {e}"));
                let saved =
                    SavedRewardModel::from_bytes(bytes).map_err(|e| model_error(e.to_string()))?;
                let trained = crate::experiment::rm::score::training_config(&saved)
                    .map_err(|e| model_error(e.to_string()))?;
                match &trained.data.source {
                    DataSource::Synthetic(t)
                        if t.seed == world_config.seed
                            && (t.min_len, t.max_len)
                                == (world_config.min_len, world_config.max_len) => {}
                    DataSource::Synthetic(t) => {
                        return Err(model_error(format!(
                            "it was trained on the synthetic world with seed {} and lengths {}..={}, this run's world has seed {} and lengths {}..={}: use the same world (--world-seed {})",
                            t.seed, t.min_len, t.max_len, world_config.seed, world_config.min_len, world_config.max_len, t.seed
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
                Proxy::new(model, &saved.tokenizer, &world, saved.header.model.max_len)
            })
            .transpose()?;
        let jobs = if loaded.is_some() {
            Vec::new()
        } else {
            vec![job]
        };
        let queue = JobQueue::new(compute.clone(), Arc::clone(&data), jobs);
        let lm = match c.policy {
            PolicyKind::Transformer => Some(Box::new(LmAgent::new(
                c,
                &world,
                &data.tokenizer,
                run.seed,
                &compute.train_device(),
            )?)),
            PolicyKind::Factorised => None,
        };
        let policy = Factorised::reference(&world);
        let critic = vec![0.0; policy.states()];
        Ok(Self {
            policy_adam: Adam::new(policy.len()),
            critic_adam: Adam::new(critic.len()),
            reference: policy.clone(),
            detector: CollapseDetector::new(c.collapse.clone()),
            rng: Rng::derived(run.seed, "ppo"),
            policy,
            critic,
            queue,
            world,
            data,
            compute,
            run,
            proxy_loaded: loaded.is_some(),
            proxy: loaded,
            lm,
            proxy_accuracy: None,
            best_of_n: Vec::new(),
            moments: RunningMoments::default(),
            step: 0,
            curves: Vec::new(),
            collapse_steps: Vec::new(),
            tokens: 0,
            ppo_seconds: 0.0,
            started: false,
            finished: false,
        })
    }

    /// The metrics of every iteration so far.
    pub fn curves(&self) -> &[PpoStep] {
        &self.curves
    }

    /// True when the policy is the transformer (then [`Self::policy`] and [`Self::critic`] are
    /// unused).
    pub fn transformer(&self) -> bool {
        self.lm.is_some()
    }

    /// The factorised policy.
    pub fn policy(&self) -> &Factorised {
        &self.policy
    }

    /// The tabular critic.
    pub fn critic(&self) -> &[f64] {
        &self.critic
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
    fn words(&self, actions: &[usize]) -> Vec<usize> {
        actions
            .iter()
            .copied()
            .filter(|&a| a != self.policy.eos())
            .collect()
    }

    /// After the proxy trained: best-of-n on it, and the critic from it when asked.
    async fn start_ppo(&mut self) -> Result<Vec<Event>, ExperimentError> {
        let c = &self.run.experiment;
        let mut events = Vec::new();
        if c.bon_trials > 0 {
            if let Some(proxy) = &self.proxy {
                self.best_of_n = best_of_n(
                    &self.world,
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
        if self.run.experiment.critic_init == CriticInit::RewardModel && self.lm.is_none() {
            // The critic learns returns built from the score as it enters the rewards
            // (normalised, scaled, clipped): it starts at the reference samples' mean of that
            // score, and the running moments start from those samples too.
            let mut rng = Rng::derived(self.run.seed, "critic-init");
            let mut by_prompt = Vec::new();
            for p in 0..self.world.prompts() {
                let items: Vec<(usize, Vec<usize>)> = (0..64)
                    .map(|_| (p, self.world.sample_response(Prompt { topic: p }, &mut rng)))
                    .collect();
                by_prompt.push(self.score(&items).await?);
            }
            let c = &self.run.experiment;
            if c.reward_norm != RewardNorm::None {
                self.moments.update(&by_prompt.concat());
            }
            let clip = PpoConfig::on(c.reward_clip);
            for (p, scores) in by_prompt.iter().enumerate() {
                let transformed: Vec<f64> = scores
                    .iter()
                    .map(|&x| f64::from(entering_score(x, c.reward_norm, clip, &self.moments)))
                    .collect();
                let mean = transformed.iter().sum::<f64>() / transformed.len().max(1) as f64;
                for t in 0..self.world.lengths().1 {
                    self.critic[self.policy.state(p, t)] = mean;
                }
            }
        }
        events.insert(
            0,
            PpoEvent::Setup {
                data: self.data.label.clone(),
                proxy_validation_accuracy: self.proxy_accuracy,
                steps: self.run.experiment.steps,
                rollouts: self.run.experiment.rollouts,
            }
            .into(),
        );
        Ok(events)
    }

    /// One PPO iteration: sample, score, measure, update.
    async fn iterate(&mut self) -> Result<Vec<Event>, ExperimentError> {
        let t0 = Instant::now();
        let c = self.run.experiment.clone();
        let mut batch: Vec<Rollout> = match &self.lm {
            None => (0..c.rollouts)
                .map(|_| {
                    let prompt = self.rng.below(self.world.prompts());
                    let actions = self.policy.sample(prompt, &c.sampling, &mut self.rng);
                    Rollout {
                        prompt,
                        logp: self.policy.action_log_probs(prompt, &actions),
                        ref_logp: self.reference.action_log_probs(prompt, &actions),
                        values: (0..actions.len())
                            .map(|t| self.critic[self.policy.state(prompt, t)] as f32)
                            .collect(),
                        actions,
                        ..Default::default()
                    }
                })
                .collect(),
            Some(lm) => {
                let prompts: Vec<usize> = (0..c.rollouts)
                    .map(|_| self.rng.below(self.world.prompts()))
                    .collect();
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
        for ((r, s), (p, w)) in batch.iter_mut().zip(proxy).zip(&items) {
            r.proxy = s;
            r.gold = self.world.gold_reward(Prompt { topic: *p }, w);
        }
        make_experiences(&mut batch, &c, &mut self.moments);
        let (entropy, exact_kl) = match &self.lm {
            None => (
                self.factorised_entropy(&batch),
                Some(self.policy.exact_kl(&self.reference)),
            ),
            Some(lm) => {
                let items: Vec<(usize, &[usize])> = batch
                    .iter()
                    .map(|r| (r.prompt, r.actions.as_slice()))
                    .collect();
                (lm.entropy(&items).await?, None)
            }
        };
        let mut row = self.measure(&batch, &items, entropy, exact_kl);
        let mut events = self.views(&batch, &items);
        let stats = match &mut self.lm {
            None => update(
                Learner {
                    policy: &mut self.policy,
                    critic: &mut self.critic,
                    policy_adam: &mut self.policy_adam,
                    critic_adam: &mut self.critic_adam,
                },
                &batch,
                &c,
                &mut self.rng,
            ),
            Some(lm) => lm.update(&batch, &c, &mut self.rng).await?,
        };
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

    /// The batch's metrics (losses are filled in after the update).
    /// Mean entropy of the factorised policy at the batch's positions.
    fn factorised_entropy(&self, batch: &[Rollout]) -> f64 {
        let tokens: usize = batch.iter().map(|r| r.actions.len()).sum();
        batch
            .iter()
            .flat_map(|r| (0..r.actions.len()).map(move |t| (r.prompt, t)))
            .map(|(p, t)| self.policy.entropy(p, t))
            .sum::<f64>()
            / tokens.max(1) as f64
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
        let max_len = self.world.lengths().1;
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
            at_max_len: if self.world.lengths().0 < max_len {
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
                prompt: Prompt { topic: *p }.text(),
                response: self.world.render(w),
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
                    token: self
                        .world
                        .response_words()
                        .get(a)
                        .map_or("<eos>".to_string(), |w| (*w).to_string()),
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
                self.proxy_accuracy = done.runner.report().validation_accuracy;
                self.proxy = Some(Proxy::new(
                    done.runner.model().clone(),
                    &self.data.tokenizer,
                    &self.world,
                    self.run.experiment.proxy.model.max_len,
                )?);
                events.extend(self.start_ppo().await?);
            }
            return Ok(events);
        }
        let sft_steps = self.run.experiment.sft_steps;
        if let Some(lm) = &mut self.lm
            && lm.sft_done() < sft_steps
        {
            let step = lm.sft_done() + 1;
            let loss = lm
                .sft(
                    &self.world,
                    self.run.experiment.sft_batch,
                    step == sft_steps,
                )
                .await?;
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
        let (sft_done, sft_total) = match &self.lm {
            Some(lm) => (lm.sft_done(), self.run.experiment.sft_steps),
            None => (0, 0),
        };
        Progress {
            done: done + sft_done + self.step,
            total: total + sft_total + self.run.experiment.steps,
        }
    }

    fn report_json(&self) -> serde_json::Value {
        report_value(&self.report())
    }
}
