//! Where computation runs: burn's wgpu backend (GPU: Vulkan/Metal/DX12 natively, WebGPU in the
//! browser) or burn-flex (CPU, also in wasm). The one place that creates burn devices, and that
//! hands burn's wgpu device to eframe so the UI and training share one GPU device.
use std::fmt;
use std::str::FromStr;

use burn::tensor::Device;
use serde::{Deserialize, Serialize};

/// What the user asked for.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BackendChoice {
    /// Use a hardware GPU when there is one; otherwise the CPU, with a notice.
    #[default]
    Auto,
    /// The wgpu backend, or an error.
    Gpu,
    /// burn-flex on the CPU.
    Cpu,
}

impl FromStr for BackendChoice {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.to_ascii_lowercase().as_str() {
            "auto" => Ok(Self::Auto),
            "gpu" | "wgpu" => Ok(Self::Gpu),
            "cpu" | "flex" => Ok(Self::Cpu),
            other => Err(format!("unknown backend `{other}`: use auto, gpu or cpu")),
        }
    }
}

impl fmt::Display for BackendChoice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Auto => "auto",
            Self::Gpu => "gpu",
            Self::Cpu => "cpu",
        })
    }
}

/// The backend actually in use.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BackendKind {
    /// burn's wgpu backend.
    Wgpu,
    /// burn-flex, the CPU backend.
    Flex,
}

/// A ready compute device and what the user should know about how it was chosen.
#[derive(Clone, Debug)]
pub struct Compute {
    /// The plain (non-autodiff) device; training uses [`Compute::train_device`].
    pub device: Device,
    /// Which backend this is.
    pub kind: BackendKind,
    /// Human-readable adapter description, e.g. "llvmpipe (Vulkan, Cpu)" or "CPU (burn-flex)".
    pub adapter: String,
    /// Set when the choice differs from what was asked (fallback), shown as a banner / log line.
    pub notice: Option<String>,
}

/// The GPU could not be used.
#[derive(Debug, thiserror::Error)]
#[error(
    "GPU backend unavailable: {reason}. Use `--backend cpu` (or `auto`, which falls back to the CPU), \
     or check the GPU driver (Vulkan/Metal/DX12; in a browser, WebGPU)."
)]
pub struct ComputeError {
    /// What went wrong.
    pub reason: String,
}

impl Compute {
    /// The CPU backend (always available).
    pub fn cpu() -> Self {
        Self {
            device: Device::flex(),
            kind: BackendKind::Flex,
            adapter: "CPU (burn-flex)".into(),
            notice: None,
        }
    }

    /// The device to train on (autodiff enabled).
    pub fn train_device(&self) -> Device {
        self.device.clone().autodiff()
    }

    /// Short name for reports: `wgpu` or `flex`.
    pub fn backend_name(&self) -> &'static str {
        match self.kind {
            BackendKind::Wgpu => "wgpu",
            BackendKind::Flex => "flex",
        }
    }

    fn fallback(reason: String) -> Self {
        Self {
            notice: Some(format!("{reason}; using the CPU backend (burn-flex)")),
            ..Self::cpu()
        }
    }
}

/// "name (API, device type)", with a placeholder where the platform hides the name.
fn describe_adapter(name: &str, api: impl fmt::Debug, kind: impl fmt::Debug) -> String {
    let name = if name.trim().is_empty() {
        "unnamed adapter"
    } else {
        name
    };
    format!("{name} ({api:?}, {kind:?})")
}

#[cfg(not(target_arch = "wasm32"))]
mod native {
    use super::*;
    use burn::tensor::wgpu::{WgpuSetup, wgpu};

    /// Initialise the backend natively. Returns the wgpu handles too when the GPU is used, so the
    /// UI can render with the same device ([`eframe_setup`]).
    pub fn init(choice: BackendChoice) -> Result<(Compute, Option<WgpuSetup>), ComputeError> {
        if choice == BackendChoice::Cpu {
            return Ok((Compute::cpu(), None));
        }
        let attempt = std::panic::catch_unwind(|| Device::wgpu_options().init_with_setup());
        let result = match attempt {
            Ok(Ok(ok)) => Ok(ok),
            Ok(Err(e)) => Err(format!("{e}")),
            Err(_) => Err("the wgpu runtime panicked while starting".to_string()),
        };
        match (choice, result) {
            (_, Ok((device, setup))) => {
                let info = setup.adapter.get_info();
                let adapter = describe_adapter(&info.name, info.backend, info.device_type);
                let software = info.device_type == wgpu::DeviceType::Cpu;
                if choice == BackendChoice::Auto && software {
                    // A software rasteriser (lavapipe/llvmpipe) is far slower than burn-flex.
                    let reason = format!("only a software GPU was found ({adapter})");
                    return Ok((Compute::fallback(reason), None));
                }
                let compute = Compute {
                    device,
                    kind: BackendKind::Wgpu,
                    adapter,
                    notice: None,
                };
                Ok((compute, Some(setup)))
            }
            (BackendChoice::Auto, Err(reason)) => Ok((
                Compute::fallback(format!("no usable GPU ({reason}){}", likely_cause())),
                None,
            )),
            (_, Err(reason)) => Err(ComputeError {
                reason: format!("{reason}{}", likely_cause()),
            }),
        }
    }

    /// On Linux, what probably kept wgpu from an adapter, and the fix, as `". Likely …"` (empty
    /// where nothing is missing, or off Linux).
    fn likely_cause() -> String {
        if !cfg!(target_os = "linux") {
            return String::new();
        }
        let dirs = [
            "/usr/lib/x86_64-linux-gnu",
            "/usr/lib/aarch64-linux-gnu",
            "/usr/lib64",
            "/usr/lib",
            "/lib/x86_64-linux-gnu",
            "/lib64",
        ];
        let mut search: Vec<std::path::PathBuf> = std::env::var_os("LD_LIBRARY_PATH")
            .map(|p| std::env::split_paths(&p).collect())
            .unwrap_or_default();
        search.extend(dirs.iter().map(std::path::PathBuf::from));
        let loader = search.iter().any(|d| d.join("libvulkan.so.1").exists());
        let listed = ["VK_DRIVER_FILES", "VK_ICD_FILENAMES"]
            .iter()
            .any(|v| std::env::var_os(v).is_some_and(|f| !f.is_empty()));
        let icds = listed
            || [
                "/usr/share/vulkan/icd.d",
                "/etc/vulkan/icd.d",
                "/usr/local/share/vulkan/icd.d",
            ]
            .iter()
            .filter_map(|d| std::fs::read_dir(d).ok())
            .flatten()
            .flatten()
            .any(|e| e.path().extension().is_some_and(|x| x == "json"));
        super::vulkan_hint(loader, icds)
    }

    /// Hand burn's wgpu device to eframe (the working direction: burn's device has the features
    /// its kernels need; eframe's does not).
    pub fn eframe_setup(setup: WgpuSetup) -> egui_wgpu::WgpuSetup {
        egui_wgpu::WgpuSetup::Existing(egui_wgpu::WgpuSetupExisting {
            instance: setup.instance,
            adapter: setup.adapter,
            device: setup.device,
            queue: setup.queue,
        })
    }
}

#[cfg(not(target_arch = "wasm32"))]
pub use native::{eframe_setup, init};

/// What a Linux machine lacks for wgpu's Vulkan path, and how to fix it: `loader`, whether
/// `libvulkan.so.1` was found; `icds`, whether any Vulkan driver (ICD) is installed or named.
pub fn vulkan_hint(loader: bool, icds: bool) -> String {
    match (loader, icds) {
        (false, _) => ". Likely cause: no Vulkan loader (libvulkan.so.1) on this machine; install \
                      it (Debian/Ubuntu: apt install libvulkan1; Fedora: dnf install \
                      vulkan-loader), or run with --backend cpu"
            .into(),
        (true, false) => ". Likely cause: no Vulkan driver (ICD) is installed; install your GPU \
                          vendor's driver, or Mesa's (apt install mesa-vulkan-drivers) for a \
                          software one, or run with --backend cpu"
            .into(),
        (true, true) => String::new(),
    }
}

/// Initialise the backend in the browser: WebGPU when the page has it, else burn-flex in wasm.
#[cfg(target_arch = "wasm32")]
pub async fn init_web(choice: BackendChoice, has_webgpu: bool) -> Compute {
    if choice == BackendChoice::Cpu {
        return Compute::cpu();
    }
    if !has_webgpu {
        return Compute::fallback("this browser has no WebGPU (navigator.gpu is missing)".into());
    }
    match Device::wgpu_options().init_with_setup_async().await {
        Ok((device, setup)) => {
            let info = setup.adapter.get_info();
            let adapter = describe_adapter(&info.name, info.backend, info.device_type);
            // Dropping the setup loses the device in the browser ("A valid external Instance
            // reference no longer exists"), so it lives as long as the page.
            std::mem::forget(setup);
            Compute {
                device,
                kind: BackendKind::Wgpu,
                adapter,
                notice: None,
            }
        }
        Err(e) => Compute::fallback(format!("WebGPU could not start ({e})")),
    }
}

/// Resolve after `ms` milliseconds, giving the browser's event loop its turn.
#[cfg(target_arch = "wasm32")]
pub async fn sleep_ms(ms: i32) {
    let promise = js_sys::Promise::new(&mut |resolve, _| {
        if let Some(w) = web_sys::window() {
            let _ = w.set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, ms);
        }
    });
    let _ = wasm_bindgen_futures::JsFuture::from(promise).await;
}

/// The shortest stretch of work between two turns of the page (a frame at 30 fps).
#[cfg(target_arch = "wasm32")]
const SLICE_MIN: std::time::Duration = std::time::Duration::from_millis(30);
/// The longest stretch (the page still draws 10 frames a second, however slow its frames).
#[cfg(target_arch = "wasm32")]
const SLICE_MAX: std::time::Duration = std::time::Duration::from_millis(100);

/// The browser's side of sharing one thread between the work and the page.
#[cfg(target_arch = "wasm32")]
#[derive(Clone, Copy)]
struct Turns {
    /// When the work last got the thread back (or began).
    back: Option<web_time::Instant>,
    /// How long the work may now run before the page's next turn.
    slice: std::time::Duration,
    /// Milliseconds the page has had in turns so far (frames, timers, the browser's own work).
    away_ms: f64,
}

#[cfg(target_arch = "wasm32")]
thread_local! {
    static TURNS: std::cell::Cell<Turns> = const {
        std::cell::Cell::new(Turns { back: None, slice: SLICE_MIN, away_ms: 0.0 })
    };
}

/// Milliseconds the page has had in [`give_turn`]s so far (the rest of the wall time went to
/// the work, or to waiting for a command).
#[cfg(target_arch = "wasm32")]
pub fn away_ms() -> f64 {
    TURNS.get().away_ms
}

/// Give the host event loop a turn inside a long piece of work once the work has had its slice
/// of the thread; natively nothing. In the browser a turn is a `setTimeout(0)` round trip, in
/// which the page may draw a frame; a frame on a software-rendered canvas can cost 200 ms, far
/// more than a small training step, so the work keeps the thread for a slice that grows with the
/// last turn's length (twice it, from 30 to 100 ms): the page draws 30 frames a second when its
/// frames are fast, the work gets two thirds of the time with frames up to 50 ms, and the page
/// still draws a few frames a second when they are slower. Every turn, the run's own between
/// steps and these inside a step, goes through [`give_turn`], so a slice counts the work's time
/// only (a turn inside a step used to leave the run's slice spent, and the page had two turns,
/// two frames, where one was due).
pub async fn yield_to_host() {
    #[cfg(target_arch = "wasm32")]
    {
        let t = TURNS.get();
        match t.back {
            Some(back) if back.elapsed() < t.slice => {}
            Some(_) => give_turn().await,
            None => TURNS.set(Turns {
                back: Some(web_time::Instant::now()),
                ..t
            }),
        }
    }
}

/// Give the page a turn now (see [`yield_to_host`]).
#[cfg(target_arch = "wasm32")]
pub async fn give_turn() {
    let left = web_time::Instant::now();
    sleep_ms(0).await;
    let back = web_time::Instant::now();
    let away = back.duration_since(left);
    let t = TURNS.get();
    TURNS.set(Turns {
        back: Some(back),
        slice: (away * 2).clamp(SLICE_MIN, SLICE_MAX),
        away_ms: t.away_ms + away.as_secs_f64() * 1e3,
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_vulkan_loader_or_driver_is_named_with_its_fix() {
        let no_loader = vulkan_hint(false, true);
        assert!(
            no_loader.contains("libvulkan.so.1") && no_loader.contains("apt install libvulkan1")
        );
        assert_eq!(
            vulkan_hint(false, false),
            no_loader,
            "the loader comes first"
        );
        let no_icd = vulkan_hint(true, false);
        assert!(no_icd.contains("ICD") && no_icd.contains("mesa-vulkan-drivers"));
        assert!(vulkan_hint(true, true).is_empty());
    }

    #[test]
    fn backend_choice_parses_and_prints() {
        assert_eq!("GPU".parse::<BackendChoice>(), Ok(BackendChoice::Gpu));
        assert_eq!("flex".parse::<BackendChoice>(), Ok(BackendChoice::Cpu));
        assert!(
            "tpu"
                .parse::<BackendChoice>()
                .unwrap_err()
                .contains("auto, gpu or cpu")
        );
        assert_eq!(BackendChoice::Auto.to_string(), "auto");
    }
}
