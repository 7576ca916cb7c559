//! rlhf-lab: train and watch the reward-modeling side of RLHF ("Secrets of RLHF in Large
//! Language Models Part II: Reward Modeling") natively and in the browser.
//!
//! Layers, top to bottom: `app` (egui) → `experiment` (configs, runners, events) → `rm` and
//! `rl` (paper methods) → `model` (burn modules) → `data` / `compute`; `recipe` (a run as a TRL or
//! OpenRLHF job) sits beside `experiment`. Nothing below `app` knows egui.
pub mod app;
#[cfg(not(target_arch = "wasm32"))]
pub mod cli;
pub mod compute;
pub mod data;
pub mod experiment;
pub mod model;
#[cfg(target_arch = "wasm32")]
pub mod page;
pub mod recipe;
pub mod rl;
pub mod rm;
#[cfg(target_arch = "wasm32")]
pub mod web;
