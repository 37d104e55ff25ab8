//! The wasmtime [`Engine`] shared by both ABIs, with the compiled-code disk cache.
//!
//! Compiling the policy with Cranelift takes seconds; loading it from the cache takes
//! milliseconds. The cache key covers the module bytes, the engine configuration and the
//! wasmtime version, so a stale hit is impossible and no cache ever needs clearing by hand.

use std::path::{Path, PathBuf};

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
    let mut config = Config::new();
    if let Some(dir) = cache_dir {
        let mut cache = CacheConfig::new();
        cache.with_directory(dir);
        let cache = Cache::new(cache)
            .map_err(|e| Error::runtime(format!("wasmtime cache in {}", dir.display()), e))?;
        config.cache(Some(cache));
    }
    Engine::new(&config).map_err(|e| Error::runtime("creating the wasmtime engine", e))
}
