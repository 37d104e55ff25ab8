//! The wasmtime [`Engine`] shared by both ABIs, with the compiled-code disk cache, and the
//! [`Limits`] both runners (waPC and WIT) put on the policy's guests.
//!
//! Compiling the policy with Cranelift takes seconds; loading it from the cache takes
//! milliseconds. The cache key covers the module bytes, the engine configuration and the
//! wasmtime version, so a stale hit is impossible and no cache ever needs clearing by hand.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use wasmtime::{Cache, CacheConfig, Config, Engine};

use crate::Error;

/// Environment variable naming the cache directory; overrides the default.
pub const CACHE_DIR_ENV: &str = "AWI_CACHE_DIR";

/// Where compiled code is cached when the caller does not say:
/// `$AWI_CACHE_DIR`, else `$XDG_CACHE_HOME/awi`, else `~/.cache/awi`.
/// `None` when none of these can be determined (then nothing is cached).
pub fn default_cache_dir() -> Option<PathBuf> {
    let from_env = |name: &str| {
        std::env::var_os(name)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    };
    if let Some(dir) = from_env(CACHE_DIR_ENV) {
        return Some(dir);
    }
    if let Some(dir) = from_env("XDG_CACHE_HOME") {
        return Some(dir.join("awi"));
    }
    from_env("HOME").map(|home| home.join(".cache").join("awi"))
}

/// A new engine for the policy. `cache_dir`: where compiled code is kept between runs;
/// `None` disables the disk cache.
pub fn new_engine(cache_dir: Option<&Path>) -> Result<Engine, Error> {
    engine(cache_dir, false)
}

/// Like [`new_engine`], with epoch interruption on, so that [`Limits::epoch_deadline`]
/// bounds every call. Something must tick the engine: see [`EpochTicker`].
pub fn new_engine_with_epochs(cache_dir: Option<&Path>) -> Result<Engine, Error> {
    engine(cache_dir, true)
}

fn engine(cache_dir: Option<&Path>, epochs: bool) -> Result<Engine, Error> {
    let mut config = Config::new();
    config.epoch_interruption(epochs);
    if let Some(dir) = cache_dir {
        let mut cache = CacheConfig::new();
        cache.with_directory(dir);
        let cache = Cache::new(cache)
            .map_err(|e| Error::runtime(format!("wasmtime cache in {}", dir.display()), e))?;
        config.cache(Some(cache));
    }
    Engine::new(&config).map_err(|e| Error::runtime("creating the wasmtime engine", e))
}

/// Resource limits on the policy's guests, as a Kubewarden policy server sets them. One
/// value for both runners: [`crate::WapcPolicy::with_limits`] and
/// [`crate::WitPolicy::with_limits`]. The default sets no limit.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Limits {
    /// Cap on each instance's linear memory, in bytes; a guest that needs more fails its
    /// call.
    pub max_memory: Option<usize>,
    /// Epoch ticks each call may run before it is interrupted. Needs an engine from
    /// [`new_engine_with_epochs`] and an [`EpochTicker`].
    pub epoch_deadline: Option<u64>,
}

impl Limits {
    /// No limit.
    pub fn none() -> Limits {
        Limits::default()
    }

    /// Each instance's linear memory capped at `bytes`.
    pub fn max_memory(self, bytes: usize) -> Limits {
        Limits {
            max_memory: Some(bytes),
            ..self
        }
    }

    /// Each call interrupted after `ticks` epoch ticks.
    pub fn epoch_deadline(self, ticks: u64) -> Limits {
        Limits {
            epoch_deadline: Some(ticks),
            ..self
        }
    }
}

/// A thread that ticks an engine's epoch every `tick` until dropped, so that epoch
/// deadlines measure time.
#[derive(Debug)]
pub struct EpochTicker {
    stop: Arc<AtomicBool>,
}

impl EpochTicker {
    /// Starts ticking `engine`.
    pub fn start(engine: &Engine, tick: Duration) -> EpochTicker {
        let stop = Arc::new(AtomicBool::new(false));
        let stopped = Arc::clone(&stop);
        let engine = engine.clone();
        std::thread::spawn(move || {
            while !stopped.load(Ordering::Relaxed) {
                std::thread::sleep(tick);
                engine.increment_epoch();
            }
        });
        EpochTicker { stop }
    }
}

impl Drop for EpochTicker {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}
