//! The `rlhf-lab` binary: the app window by default, headless subcommands for experiments.
#[cfg(not(target_arch = "wasm32"))]
fn main() -> std::process::ExitCode {
    rlhf_lab::cli::main()
}

#[cfg(target_arch = "wasm32")]
fn main() {
    rlhf_lab::web::start();
}
