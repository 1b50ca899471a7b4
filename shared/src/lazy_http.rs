//! An HTTP client built at its first use. Building a reqwest client loads and parses the system's
//! root certificates (rustls-platform-verifier reads the bundle and every file of the certificate
//! directory): about 3 ms that init should not pay for a client its requests may never use (`get`
//! answers from the table; the authorizer answers known tokens from its caches). Functions whose
//! every request calls the provider still build it during init, through their warm-up.

use std::sync::OnceLock;

type Build = Box<dyn Fn() -> reqwest::ClientBuilder + Send + Sync>;

pub struct LazyClient {
    build: Build,
    client: OnceLock<Result<reqwest::Client, String>>,
}

impl LazyClient {
    /// `build` configures the client (timeouts, certificates); it runs once, at the first [`Self::get`].
    pub fn new(build: impl Fn() -> reqwest::ClientBuilder + Send + Sync + 'static) -> Self {
        crate::aws::install_tls_provider();
        LazyClient { build: Box::new(build), client: OnceLock::new() }
    }

    /// The client, or why it cannot be built (the same answer every time: its settings are fixed).
    pub fn get(&self) -> Result<&reqwest::Client, &str> {
        self.client
            .get_or_init(|| (self.build)().build().map_err(|e| format!("cannot build the HTTP client: {e}")))
            .as_ref()
            .map_err(String::as_str)
    }
}
