//! A PPO run as an iterative RLHF run uses it between rounds: wait until its reward models are
//! trained and its policy is warmed up, fork it into arms, sample from its policy, swap in a new
//! reward model (the critic and the reward normalisation start again from it), move the KL
//! reference, and run more iterations.
use std::sync::Arc;

use super::config::PolicyKind;
use super::env::Env;
use super::proxy::Proxy;
use super::runner::{Agent, PpoRunner};
use crate::data::rng::Rng;
use crate::experiment::error::ExperimentError;
use crate::experiment::jobs::JobQueue;
use crate::experiment::rm::RmRunner;
use crate::rl::moments::RunningMoments;
use crate::rl::sampling::Sampling;

impl PpoRunner {
    /// True once the reward models are trained and the policy is warmed up (SFT), before the
    /// first PPO iteration.
    pub fn ready_for_ppo(&self) -> bool {
        let warmed = match &self.agent {
            Agent::Lm(lm) => lm.sft_done() >= self.run.experiment.sft_steps,
            Agent::Factorised(_) => true,
        };
        self.proxy.is_some() && !self.proxy_loaded && warmed && self.step == 0
    }

    /// A copy to run as one arm of an iterative run: the same world, reward model, policy,
    /// reference and critic, with fresh optimizer moments; only before the first PPO
    /// iteration (see [`Self::ready_for_ppo`]).
    pub fn fork(&self) -> Result<Self, ExperimentError> {
        if !self.ready_for_ppo() {
            return Err(ExperimentError::Config(
                "a PPO run forks into arms once its reward model is trained and its policy warmed up, before PPO starts".into(),
            ));
        }
        let agent = match &self.agent {
            Agent::Factorised(a) => Agent::Factorised(Box::new(a.fork())),
            Agent::Lm(lm) => Agent::Lm(Box::new(lm.fork(&self.run.experiment))),
        };
        Ok(Self {
            run: self.run.clone(),
            compute: self.compute.clone(),
            data: Arc::clone(&self.data),
            data_label: self.data_label.clone(),
            env: self.env.clone(),
            queue: JobQueue::new(self.compute.clone(), Arc::clone(&self.data), Vec::new()),
            stages_done: self.stages_done,
            proxy: self.proxy.clone(),
            proxy_loaded: false,
            proxy_accuracy: self.proxy_accuracy,
            gold_accuracy: self.gold_accuracy,
            critic_init: self.critic_init.clone(),
            best_of_n: self.best_of_n.clone(),
            agent,
            moments: self.moments.clone(),
            detector: self.detector.clone(),
            rng: self.rng.clone(),
            sft_rng: self.sft_rng.clone(),
            step: self.step,
            curves: self.curves.clone(),
            collapse_steps: self.collapse_steps.clone(),
            tokens: self.tokens,
            ppo_seconds: self.ppo_seconds,
            update_seconds: self.update_seconds,
            started: true,
            finished: false,
            proxy_runner: None,
        })
    }

    /// Where the run acts: the world (or the text track) and its gold reward.
    pub fn env(&self) -> &Env {
        &self.env
    }

    /// The reward model PPO optimises, once trained.
    pub fn proxy(&self) -> Option<&Proxy> {
        self.proxy.as_ref()
    }

    /// The finished run that trained the proxy (its model file, its data and split).
    pub fn proxy_runner(&self) -> Option<&RmRunner> {
        self.proxy_runner.as_ref()
    }

    /// The proxy's held-out accuracy (against gold on the world; on text against the labels
    /// the gold model drew).
    pub fn proxy_accuracy(&self) -> Option<f32> {
        self.proxy_accuracy
    }

    /// Optimizer steps of the reward models (the gold model's on text, then the proxy's),
    /// done and planned (the proxy's estimated until the gold model is trained).
    pub fn reward_model_progress(&self) -> (usize, usize) {
        let p = crate::experiment::runner::Runner::progress(self);
        let (sft, ppo) = match &self.agent {
            Agent::Lm(lm) => (lm.sft_done(), self.run.experiment.sft_steps),
            Agent::Factorised(_) => (0, 0),
        };
        let later = sft + self.step;
        let planned = ppo + self.run.experiment.steps;
        (
            p.done.saturating_sub(later),
            p.total.saturating_sub(planned),
        )
    }

    /// PPO iterations taken.
    pub fn steps_done(&self) -> usize {
        self.step
    }

    /// Responses (words, without EOS) of the current policy to `prompts`, drawn with `rng`.
    pub async fn sample_words(
        &self,
        prompts: &[usize],
        rng: &mut Rng,
    ) -> Result<Vec<Vec<usize>>, ExperimentError> {
        let sampling = Sampling::default();
        let actions = match &self.agent {
            Agent::Factorised(a) => {
                let draws = a.policy.draw_table(&sampling);
                prompts
                    .iter()
                    .map(|&p| a.policy.sample(p, &draws, rng))
                    .collect()
            }
            Agent::Lm(lm) => lm.sample(prompts, &sampling, rng).await?,
        };
        Ok(actions.iter().map(|a| self.words(a)).collect())
    }

    /// Use `proxy` from now on: the reward normalisation's running moments start again, and the
    /// critic starts again from the new reward model as the config asks (`critic_init`).
    /// Returns what the critic did, in words.
    pub async fn set_proxy(&mut self, proxy: Proxy) -> Result<String, ExperimentError> {
        self.proxy = Some(proxy);
        self.moments = RunningMoments::default();
        self.critic_init = match self.run.experiment.critic_init {
            super::config::CriticInit::Zero => "zero (kept)".into(),
            super::config::CriticInit::RewardModel => self.init_critic().await?,
        };
        Ok(self.critic_init.clone())
    }

    /// Run `more` PPO iterations after those planned so far.
    pub fn extend(&mut self, more: usize) {
        self.run.experiment.steps = self.step + more;
        self.finished = false;
    }

    /// Make the current policy the KL reference (a round whose reference is the last round's
    /// policy).
    pub fn reference_to_policy(&mut self) {
        match &mut self.agent {
            Agent::Factorised(a) => a.reference_to_policy(),
            Agent::Lm(lm) => lm.reference_to_policy(),
        }
    }

    /// Put the policy back at its reference (a round that restarts from SFT).
    pub fn policy_to_reference(&mut self) {
        let c = self.run.experiment.clone();
        match &mut self.agent {
            Agent::Factorised(a) => a.policy_to_reference(),
            Agent::Lm(lm) => lm.policy_to_reference(&c),
        }
    }

    /// The prompts of `texts` (HH-shaped, as the prompt loaders give them) as prompt indices:
    /// on the world, each must be one of its prompts ("about weather"); on text each becomes a
    /// new prompt, past the training prompts, that the policy and the reward models can read.
    pub fn prompts_for(&mut self, texts: &[String]) -> Result<Vec<usize>, ExperimentError> {
        match &mut self.env {
            Env::World(world) => texts
                .iter()
                .enumerate()
                .map(|(i, text)| {
                    let asked = super::env::last_turn(text);
                    (0..world.prompts())
                        .find(|&t| crate::data::synthetic::Prompt { topic: t }.text() == asked)
                        .ok_or_else(|| {
                            let known: Vec<String> = (0..world.prompts())
                                .map(|t| format!("'{}'", crate::data::synthetic::Prompt { topic: t }.text()))
                                .collect();
                            ExperimentError::Config(format!(
                                "meta prompt {} ('{asked}') is not a prompt of the synthetic world: use {}",
                                i + 1,
                                known.join(", ")
                            ))
                        })
                })
                .collect(),
            Env::Text(text) => {
                let ids = texts
                    .iter()
                    .map(|t| text.add_prompt(t))
                    .collect::<Result<Vec<_>, _>>()?;
                let space = text.space.clone();
                if let Some(gold) = &mut text.gold {
                    gold.set_space(space.clone());
                }
                if let Some(proxy) = &mut self.proxy {
                    proxy.set_space(space.clone());
                }
                if let Agent::Lm(lm) = &mut self.agent {
                    lm.set_space(space);
                }
                Ok(ids)
            }
        }
    }

    /// Every prompt index of the run (the world's topics, or the text track's prompts).
    pub fn all_prompts(&self) -> Vec<usize> {
        (0..self.env.prompts()).collect()
    }

    /// Which policy learns.
    pub fn policy_kind(&self) -> PolicyKind {
        match &self.agent {
            Agent::Factorised(_) => PolicyKind::Factorised,
            Agent::Lm(_) => PolicyKind::Transformer,
        }
    }
}
