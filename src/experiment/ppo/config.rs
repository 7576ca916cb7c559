//! The PPO experiment's knobs: the policy, the proxy reward model it optimises, and every switch
//! of PPO-max (spec §6). `vanilla`, `scaling`, `ppo-max` and `reinforce` are presets — data in
//! `assets/presets/ppo.json`, each with a paragraph for the app — and every switch works in any
//! combination.
use serde::{Deserialize, Serialize};

use crate::experiment::config::{KindConfig, OptimizerConfig};
use crate::experiment::rm::RmTrainConfig;
use crate::model::RewardModelConfig;
use crate::rl::collapse::CollapseConfig;
use crate::rl::sampling::Sampling;

/// Which policy learns.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PolicyKind {
    /// Per-topic, per-position categorical logits over the world's words and EOS, started at the
    /// world's reference distribution: exact KL, seconds per run (the teaching toy).
    #[default]
    Factorised,
    /// A causal transformer LM on the shared trunk (not built yet).
    Transformer,
}

/// How the reward model's score is normalised before it enters the token rewards.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RewardNorm {
    /// Raw scores.
    #[default]
    None,
    /// Divide by the running std ([CODE]'s `use_reward_scaling`).
    Scale,
    /// Subtract the running mean, divide by the running std (Part I Eq. 18).
    Normalise,
}

/// How the critic starts.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CriticInit {
    /// All values 0.
    #[default]
    Zero,
    /// From the reward model: every value starts at the proxy's mean score of reference samples
    /// for its prompt (a tabular critic has no trunk to share; this is the reward model's
    /// estimate of the return at the start).
    RewardModel,
}

/// The PPO experiment.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct PpoConfig {
    /// Which policy learns.
    pub policy: PolicyKind,
    /// The proxy reward model: trained first on the world's pairs (the run's data) with these
    /// knobs.
    pub proxy: RmTrainConfig,
    /// PPO iterations.
    pub steps: usize,
    /// Responses sampled per iteration.
    pub rollouts: usize,
    /// Passes over each rollout batch.
    pub ppo_epochs: usize,
    /// Minibatches per pass.
    pub minibatches: usize,
    /// Policy learning rate (Adam).
    pub lr: f64,
    /// Critic learning rate (Adam).
    pub critic_lr: f64,
    /// Token-level KL penalty β to the reference policy.
    pub kl_coef: f64,
    /// Reward normalisation.
    pub reward_norm: RewardNorm,
    /// Clip the (normalised) score to ±δ (0 = off).
    pub reward_clip: f64,
    /// Discount γ.
    pub gamma: f64,
    /// GAE λ.
    pub lambda: f64,
    /// Whiten advantages over each batch.
    pub advantage_norm: bool,
    /// Clip whitened advantages to ±c (0 = off).
    pub advantage_clip: f64,
    /// PPO ratio clip ε (0 = the plain policy gradient).
    pub policy_clip: f64,
    /// Use a critic (GAE); without one the advantage is the return (REINFORCE).
    pub critic: bool,
    /// Value-loss clip around the old value (0 = off).
    pub value_clip: f64,
    /// How the critic starts.
    pub critic_init: CriticInit,
    /// Clip the policy's global gradient norm (0 = off).
    pub grad_clip: f64,
    /// Entropy bonus coefficient (0 = off; Part I advises against it).
    pub entropy_coef: f64,
    /// How responses are drawn during training (temperature 1 samples the policy itself).
    pub sampling: Sampling,
    /// The collapse detector's thresholds.
    pub collapse: CollapseConfig,
    /// Steps of the trailing moving average that gold peak and final values are read from.
    pub smooth: usize,
    /// Best-of-n trials (draws of `bon_max_n` reference responses) once the proxy is trained
    /// (0 = no best-of-n curve).
    pub bon_trials: usize,
    /// Largest n of the best-of-n curve (powers of two up to it).
    pub bon_max_n: usize,
    /// The transformer policy's shape (policy = transformer).
    pub policy_model: crate::model::policy::PolicyConfig,
    /// SFT steps on the world's reference responses before PPO (transformer).
    pub sft_steps: usize,
    /// Responses per SFT step.
    pub sft_batch: usize,
    /// SFT learning rate.
    pub sft_lr: f64,
    /// The transformer policy's PPO learning rate (`lr` is the factorised policy's).
    pub lm_lr: f64,
    /// The transformer critic's learning rate.
    pub lm_critic_lr: f64,
    /// The text track (HH-RLHF): its gold reward model and how prompts and the proxy's pairs
    /// are drawn.
    pub text: TextTrack,
}

/// The text track (spec §8.4's text variant, after Gao et al.): a larger gold reward model
/// trained on the pairs, a smaller proxy (`proxy`) trained on at most `proxy_pairs` pairs whose
/// labels the gold model re-draws (Bradley–Terry sampled), and a transformer policy SFT-trained on
/// the chosen responses.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct TextTrack {
    /// The gold reward model, trained on every training pair.
    pub gold: RmTrainConfig,
    /// Pairs the proxy trains and validates on (their labels drawn from the gold model).
    pub proxy_pairs: usize,
    /// Prompt tokens the policy sees (the last ones).
    pub prompt_tokens: usize,
    /// Most response tokens, EOS included.
    pub response_tokens: usize,
}

impl Default for TextTrack {
    fn default() -> Self {
        Self {
            gold: {
                let mut c = RmTrainConfig::default();
                c.use_text_defaults();
                c.eval_every = 1_000_000;
                c
            },
            proxy_pairs: 500,
            prompt_tokens: 24,
            response_tokens: 24,
        }
    }
}

impl TextTrack {
    /// Check the text track's knobs.
    pub fn validate(&self) -> Result<(), String> {
        self.gold
            .validate()
            .map_err(|e| format!("text.gold: {e}"))?;
        if self.proxy_pairs < 10 {
            return Err(format!(
                "text.proxy_pairs = {}: the proxy needs at least 10 pairs",
                self.proxy_pairs
            ));
        }
        if self.prompt_tokens == 0 || self.response_tokens < 2 {
            return Err(format!(
                "text.prompt_tokens = {}, text.response_tokens = {}: need ≥ 1 prompt token and ≥ 2 response tokens (EOS included)",
                self.prompt_tokens, self.response_tokens
            ));
        }
        Ok(())
    }

    /// The proxy of the text track: a unigram bag of words a quarter the gold's width (a small
    /// transformer stays near chance on a few hundred HH pairs, see
    /// [`RmTrainConfig::use_text_defaults`]).
    pub fn proxy() -> RmTrainConfig {
        let mut c = RmTrainConfig::default();
        c.use_text_defaults();
        c.model.d_model = 16;
        c.model.ffn = 16;
        c.eval_every = 1_000_000;
        c
    }
}

impl Default for PpoConfig {
    fn default() -> Self {
        Self::ppo_max()
    }
}

impl PpoConfig {
    /// The proxy reward model every preset starts from: spec §8.4's Bradley–Terry logistic
    /// model on count features, 5 epochs at lr 0.03 (the best held-out accuracy of six settings
    /// on 2,000 world pairs: 0.90 against gold).
    fn proxy() -> RmTrainConfig {
        RmTrainConfig {
            model: RewardModelConfig::counts(),
            epochs: 5.0,
            eval_every: 1_000_000,
            optimizer: OptimizerConfig {
                lr: 0.03,
                ..Default::default()
            },
            ..Default::default()
        }
    }

    /// PPO-max (Part I's starred list): token-level KL 0.05, reward normalisation clipped at
    /// δ = 0.8, GAE, PPO clip 0.2, value clip 0.2, critic from the reward model, grad clip 1.
    pub fn ppo_max() -> Self {
        Self {
            policy: PolicyKind::Factorised,
            proxy: Self::proxy(),
            steps: 300,
            rollouts: 256,
            ppo_epochs: 2,
            minibatches: 4,
            lr: 0.05,
            critic_lr: 0.05,
            kl_coef: 0.05,
            reward_norm: RewardNorm::Normalise,
            reward_clip: 0.8,
            gamma: 1.0,
            lambda: 0.95,
            advantage_norm: false,
            advantage_clip: 0.0,
            policy_clip: 0.2,
            critic: true,
            value_clip: 0.2,
            critic_init: CriticInit::RewardModel,
            grad_clip: 1.0,
            entropy_coef: 0.0,
            sampling: Sampling::default(),
            collapse: CollapseConfig::default(),
            smooth: 25,
            bon_trials: 16,
            bon_max_n: 1024,
            policy_model: crate::model::policy::PolicyConfig::default(),
            sft_steps: 300,
            sft_batch: 48,
            sft_lr: 3e-3,
            lm_lr: 3e-4,
            lm_critic_lr: 1e-3,
            text: TextTrack::default(),
        }
    }

    /// These settings moved to the text track: the transformer policy, long enough for its
    /// prompts and responses, the text proxy (when the proxy is the synthetic world's count
    /// model) and no best-of-n (it samples the world's reference distribution).
    pub fn for_text(mut self) -> Self {
        self.policy = PolicyKind::Transformer;
        if self.proxy.model.arch == crate::model::Arch::Counts {
            self.proxy = TextTrack::proxy();
        }
        let need = self.text.prompt_tokens + self.text.response_tokens;
        self.policy_model.max_len = self.policy_model.max_len.max(need);
        self.bon_trials = 0;
        self
    }

    /// A preset by name (`assets/presets/ppo.json`): its switches on the defaults.
    pub fn preset(name: &str) -> Result<Self, String> {
        let presets = PpoPreset::all()?;
        let names: Vec<&str> = presets.iter().map(|p| p.name.as_str()).collect();
        presets
            .iter()
            .find(|p| p.name == name)
            .ok_or_else(|| format!("unknown preset '{name}': use {}", names.join(", ")))?
            .apply(&Self::default())
    }

    /// Check everything a user can set.
    pub fn validate(&self) -> Result<(), String> {
        self.text.validate()?;
        if self.policy == PolicyKind::Transformer {
            self.policy_model.validate()?;
            if self.sft_steps == 0 || self.sft_batch == 0 {
                return Err(format!(
                    "sft_steps = {}, sft_batch = {}: the transformer policy learns the reference first; use at least 1 of each",
                    self.sft_steps, self.sft_batch
                ));
            }
            for (name, v) in [
                ("sft_lr", self.sft_lr),
                ("lm_lr", self.lm_lr),
                ("lm_critic_lr", self.lm_critic_lr),
            ] {
                if !(v.is_finite() && v > 0.0) {
                    return Err(format!("{name} = {v}: must be a positive number"));
                }
            }
            if self.entropy_coef > 0.0 {
                return Err("entropy_coef: the entropy bonus is built for the factorised policy only; set it to 0".into());
            }
        }
        self.proxy.validate()?;
        self.sampling.validate()?;
        if self.sampling != Sampling::default() {
            return Err(
                "sampling: PPO's ratios and KL are those of the policy itself, so training samples at temperature 1 without top-k/top-p".into(),
            );
        }
        if self.critic && self.critic_lr == 0.0 {
            return Err("critic_lr = 0 with critic on: the critic would not learn".into());
        }
        let k = &self.collapse;
        if !(1..=4).contains(&k.min_signals) {
            return Err(format!(
                "collapse.min_signals = {}: use 1 to 4 (of the four signals)",
                k.min_signals
            ));
        }
        for (name, v) in [
            ("collapse.rise", k.rise),
            ("collapse.max_len_share", k.max_len_share),
            ("collapse.kl_factor", k.kl_factor),
            ("collapse.drop", k.drop),
            ("collapse.skew", k.skew),
        ] {
            if !(v.is_finite() && v >= 0.0) {
                return Err(format!("{name} = {v}: must be a number ≥ 0"));
            }
        }
        if self.steps == 0 || self.rollouts < 2 {
            return Err(format!(
                "steps = {}, rollouts = {}: need at least 1 step of 2 responses",
                self.steps, self.rollouts
            ));
        }
        if self.ppo_epochs == 0 || self.minibatches == 0 || self.minibatches > self.rollouts {
            return Err(format!(
                "ppo_epochs = {}, minibatches = {}: need ≥ 1 of each and no more minibatches than rollouts",
                self.ppo_epochs, self.minibatches
            ));
        }
        for (name, v) in [
            ("lr", self.lr),
            ("critic_lr", self.critic_lr),
            ("kl_coef", self.kl_coef),
            ("reward_clip", self.reward_clip),
            ("advantage_clip", self.advantage_clip),
            ("policy_clip", self.policy_clip),
            ("value_clip", self.value_clip),
            ("grad_clip", self.grad_clip),
            ("entropy_coef", self.entropy_coef),
        ] {
            if !(v.is_finite() && v >= 0.0) {
                return Err(format!("{name} = {v}: must be a number ≥ 0"));
            }
        }
        if self.lr == 0.0 {
            return Err("lr = 0: the policy would not learn".into());
        }
        for (name, v) in [("gamma", self.gamma), ("lambda", self.lambda)] {
            if !(0.0..=1.0).contains(&v) {
                return Err(format!("{name} = {v}: must be in [0, 1]"));
            }
        }
        if self.collapse.window < 2 * self.collapse.edge.max(1) {
            return Err(format!(
                "collapse.window = {} is shorter than two edges of {}",
                self.collapse.window, self.collapse.edge
            ));
        }
        if self.bon_trials > 0 && !(1..=65_536).contains(&self.bon_max_n) {
            return Err(format!("bon_max_n = {}: use 1 to 65536", self.bon_max_n));
        }
        if self.smooth == 0 {
            return Err("smooth = 0: use at least 1 step".into());
        }
        Ok(())
    }

    /// `Some(x)` for a positive switch value, `None` for 0 (off).
    pub fn on(x: f64) -> Option<f32> {
        (x > 0.0).then_some(x as f32)
    }
}

/// The presets, as data: a name, a paragraph for the app, and the PPO switches each sets.
const PRESETS: &str = include_str!("../../../assets/presets/ppo.json");

/// One preset of `assets/presets/ppo.json`.
#[derive(Clone, Debug, PartialEq, Deserialize)]
pub struct PpoPreset {
    /// Its name (`--preset NAME`).
    pub name: String,
    /// What it does and what to watch, in plain words.
    pub about: String,
    /// The fields of [`PpoConfig`] it sets.
    switches: serde_json::Map<String, serde_json::Value>,
}

impl PpoPreset {
    /// Every preset, in the file's order.
    pub fn all() -> Result<Vec<Self>, String> {
        serde_json::from_str(PRESETS).map_err(|e| format!("assets/presets/ppo.json: {e}"))
    }

    /// A stand-in that shows why a preset could not be applied.
    pub fn error(message: String) -> Self {
        Self {
            name: String::new(),
            about: message,
            switches: serde_json::Map::new(),
        }
    }

    /// `base` with this preset's switches set (everything else kept).
    pub fn apply(&self, base: &PpoConfig) -> Result<PpoConfig, String> {
        let error = |e: String| format!("preset {}: {e}", self.name);
        let mut value = serde_json::to_value(base).map_err(|e| error(e.to_string()))?;
        let fields = value
            .as_object_mut()
            .ok_or_else(|| error("the config is not an object".into()))?;
        for (key, v) in &self.switches {
            if !fields.contains_key(key) {
                return Err(error(format!("'{key}' is not a PPO setting")));
            }
            fields.insert(key.clone(), v.clone());
        }
        serde_json::from_value(value).map_err(|e| error(e.to_string()))
    }
}

impl KindConfig for PpoConfig {
    fn kind(&self) -> &'static str {
        "ppo"
    }

    fn check(&self) -> Result<(), String> {
        self.validate()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn presets_are_data_that_validate_and_ppo_max_is_the_default() {
        let presets = PpoPreset::all().unwrap();
        let names: Vec<&str> = presets.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(names, ["vanilla", "scaling", "ppo-max", "reinforce"]);
        for p in &presets {
            assert!(p.about.len() > 80, "{} explains itself", p.name);
            PpoConfig::preset(&p.name).unwrap().validate().unwrap();
        }
        assert_eq!(PpoConfig::preset("ppo-max").unwrap(), PpoConfig::default());
        let v = PpoConfig::preset("vanilla").unwrap();
        assert_eq!(
            (v.kl_coef, v.reward_norm, v.value_clip),
            (0.0, RewardNorm::None, 0.0)
        );
        // A preset sets its switches only.
        let base = PpoConfig {
            steps: 17,
            ..Default::default()
        };
        let r = presets[3].apply(&base).unwrap();
        assert_eq!((r.steps, r.critic), (17, false));
        let m = PpoConfig::ppo_max();
        assert_eq!(
            (m.kl_coef, m.reward_clip, m.value_clip, m.policy_clip),
            (0.05, 0.8, 0.2, 0.2)
        );
        assert!(
            PpoConfig::preset("max")
                .unwrap_err()
                .contains("vanilla, scaling, ppo-max")
        );
        let t = PpoConfig {
            policy: PolicyKind::Transformer,
            sft_steps: 0,
            ..Default::default()
        };
        assert!(t.validate().unwrap_err().contains("sft_steps"));
    }
}
