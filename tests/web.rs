//! The real web build (`trunk build --release` → dist/) loaded in Debian's headless Chromium:
//! the page trains the synthetic RM and its status marker shows the steps taken.
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn dist() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("dist")
}

fn content_type(path: &Path) -> &'static str {
    match path.extension().and_then(|e| e.to_str()) {
        Some("html") => "text/html; charset=utf-8",
        Some("js") => "text/javascript",
        Some("wasm") => "application/wasm",
        Some("css") => "text/css",
        Some("svg") => "image/svg+xml",
        _ => "application/octet-stream",
    }
}

fn serve_one(mut stream: TcpStream, root: &Path) {
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut request_line = String::new();
    if reader.read_line(&mut request_line).is_err() {
        return;
    }
    loop {
        let mut header = String::new();
        if reader
            .read_line(&mut header)
            .map(|n| n == 0)
            .unwrap_or(true)
            || header == "\r\n"
        {
            break;
        }
    }
    let target = request_line.split_whitespace().nth(1).unwrap_or("/");
    let path = target.split('?').next().unwrap_or("/");
    let rel = if path == "/" {
        "index.html"
    } else {
        path.trim_start_matches('/')
    };
    let file = root.join(rel);
    let (status, body, ctype) = if !rel.contains("..") && file.is_file() {
        let mut body = Vec::new();
        std::fs::File::open(&file)
            .unwrap()
            .read_to_end(&mut body)
            .unwrap();
        ("200 OK", body, content_type(&file))
    } else {
        ("404 Not Found", b"not found".to_vec(), "text/plain")
    };
    let head = format!(
        "HTTP/1.1 {status}\r\nContent-Type: {ctype}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    let _ = stream.write_all(head.as_bytes());
    let _ = stream.write_all(&body);
}

/// Serve `root` on 127.0.0.1 (a free port) from a background thread.
fn serve(root: PathBuf) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let root = root.clone();
            std::thread::spawn(move || serve_one(stream, &root));
        }
    });
    port
}

fn chromium() -> PathBuf {
    for c in ["/usr/bin/chromium", "/usr/bin/chromium-browser"] {
        if Path::new(c).exists() {
            return c.into();
        }
    }
    panic!(
        "Chromium not found: install it with `apt-get install chromium` (scripts/install-deps.sh does)"
    );
}

/// Load `url` headless and return the DOM after the virtual-time budget.
fn dump_dom(url: &str) -> String {
    let profile = std::env::temp_dir().join(format!(
        "rlhf-lab-chromium-{}-{}",
        std::process::id(),
        url.len()
    ));
    let mut child = Command::new(chromium())
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--enable-unsafe-webgpu",
            "--enable-features=Vulkan",
            "--use-angle=swiftshader",
            "--use-webgpu-adapter=swiftshader",
            "--enable-unsafe-swiftshader",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            "--disable-quic",
            "--window-size=1200,800",
            "--virtual-time-budget=150000",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg("--dump-dom")
        .arg(url)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start chromium");
    let mut out = String::new();
    let mut stdout = child.stdout.take().unwrap();
    let reader = std::thread::spawn(move || {
        let _ = stdout.read_to_string(&mut out);
        out
    });
    let start = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if start.elapsed() > Duration::from_secs(400) {
            let _ = child.kill();
            panic!("chromium did not finish within 400 s for {url}");
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    let _ = std::fs::remove_dir_all(&profile);
    reader.join().unwrap()
}

/// `(data-step, data-backend, text)` of the status marker.
fn status(dom: &str) -> (usize, String, String) {
    let at = dom
        .find("id=\"rlhf-status\"")
        .unwrap_or_else(|| panic!("no status marker in:\n{dom}"));
    let tag_end = at + dom[at..].find('>').unwrap();
    let tag = &dom[at..tag_end];
    let step = tag
        .split("data-step=\"")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let backend = tag
        .split("data-backend=\"")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .unwrap_or("")
        .to_string();
    let text_end = tag_end + dom[tag_end..].find('<').unwrap();
    (step, backend, dom[tag_end + 1..text_end].to_string())
}

const RM_CONFIG: &str = r#"{"model":{"d_model":16,"layers":1,"heads":2,"ffn":32,"max_len":20,"dropout":0.0},"data":{"source":{"kind":"synthetic","pairs":200}},"steps":6,"batch_size":8,"eval_every":3}"#;

/// A two-model ensemble in the Preference-strength tab, through the URL's experiment config.
const STRENGTH_CONFIG: &str = r#"{"experiment":"strength","rm":{"data":{"source":{"kind":"synthetic","pairs":200,"flip_rate":0.2}},"epochs":1,"batch_size":16},"models":2,"band_retrain":false}"#;

fn url(port: u16, backend: &str, config: &str) -> String {
    let encoded: String = config
        .bytes()
        .map(|b| match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'.' | b'_' | b'-' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect();
    format!("http://127.0.0.1:{port}/index.html?autostart=1&backend={backend}&config={encoded}")
}

#[test]
fn web_build_trains_in_headless_chromium() {
    if std::env::var_os("RLHF_LAB_SKIP_WEB").is_some() {
        eprintln!("RLHF_LAB_SKIP_WEB set: skipping the browser test");
        return;
    }
    assert!(
        dist().join("index.html").is_file(),
        "no web build in {}: run `trunk build --release` first (scripts/test.sh does)",
        dist().display()
    );
    let port = serve(dist());
    // `auto` must train on WebGPU (SwiftShader's adapter here); `cpu` on burn-flex in wasm.
    for (choice, expected) in [("auto", "wgpu"), ("cpu", "flex")] {
        let dom = dump_dom(&url(port, choice, RM_CONFIG));
        let (step, backend, text) = status(&dom);
        assert!(
            !text.contains("error"),
            "{choice}: the page reported {text}"
        );
        assert_eq!(backend, expected, "{choice}: status {text}");
        assert_eq!(step, 6, "{choice}: the run did not finish; status: {text}");
        assert!(text.starts_with("done"), "{choice}: status {text}");
        eprintln!("{choice}: {text} (step {step}, backend {backend})");
    }
    strength_ensemble_runs_from_the_url(port);
}

/// A two-model ensemble in the strength tab, from the URL (run after the training checks, in
/// the same test: two headless browsers at once starve each other's WebGPU emulation).
fn strength_ensemble_runs_from_the_url(port: u16) {
    let dom = dump_dom(&url(port, "cpu", STRENGTH_CONFIG));
    let (_, backend, text) = status(&dom);
    assert!(!text.contains("error"), "the page reported {text}");
    assert_eq!(backend, "flex", "status {text}");
    assert!(text.starts_with("strength done"), "status {text}");
    let auroc: f32 = text
        .split("auroc=")
        .nth(1)
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("the synthetic world's truth gives an AUROC: {text}"));
    assert!((0.0..=1.0).contains(&auroc), "{text}");
    eprintln!("strength in the browser: {text}");
}
