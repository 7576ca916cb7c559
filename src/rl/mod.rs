//! The RL half's methods as pure functions (PPO-max, Part I; spec §6): KL-shaped token rewards,
//! running reward moments, GAE, the clipped policy and value losses with their gradients, token
//! sampling, per-step metrics, the collapse detector and best-of-n. No models, no UI: policies
//! and runners in `experiment/ppo/` call these, and the tests check them against the formulas.
pub mod bon;
pub mod collapse;
pub mod gae;
pub mod losses;
pub mod metrics;
pub mod moments;
pub mod sampling;
pub mod shaping;
