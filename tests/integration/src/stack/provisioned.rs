//! What the worker provisions in the background, waited for as a client waits: by reading it.

use serde_json::json;

use super::{Reply, Stack, V1Home};

impl Stack {
    /// Polls a resource's read until it shows `stage` (`gone`: a 404), for at most 20 s.
    pub async fn until_stage(&self, path: &str, stage: &str) -> Reply {
        let started = std::time::Instant::now();
        loop {
            let reply = self.call("GET", path, Some(&self.admin()), None).await;
            if reply.stage() == stage {
                return reply;
            }
            assert!(started.elapsed() < std::time::Duration::from_secs(20), "{path} never {stage}: {}", reply.body);
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
    }

    /// A v1 identity in `project` with a network made under it (Unikorn's body, a /24), both
    /// provisioned: the path uni-compute's servers are created under, in the identity's project.
    pub async fn v1_provisioned_home(&self, token: &str, org: &str, project: &str) -> V1Home {
        let (identity, path) = self.v1_identity(token, org, project).await;
        let body =
            json!({"metadata": {"name": "net"}, "spec": {"prefix": "10.0.0.0/24", "dnsNameservers": ["8.8.8.8"]}});
        let network = self.call("POST", &format!("{path}/networks"), Some(token), Some(&body)).await;
        assert_eq!(network.status, 201, "v1 network create: {}", network.body);
        self.until_stage(&format!("{path}/networks/{}", network.id()), "provisioned").await;
        V1Home { identity_id: identity, network_id: network.id(), path }
    }

    /// Runs the cleanup function (the worker runs beside it) until `path` reads 404 (30 s at most).
    pub async fn until_gone_with_cleanup(&self, path: &str) {
        let started = std::time::Instant::now();
        while self.call("GET", path, Some(&self.admin()), None).await.status != 404 {
            assert!(started.elapsed() < std::time::Duration::from_secs(30), "{path} never went");
            self.cleanup(300).await;
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
    }

    /// Waits until a worker died at the armed crash `point` (so the cleanup runs that follow are
    /// what completes its work).
    pub async fn reached(&self, point: &str) {
        let started = std::time::Instant::now();
        while self.deps.crash.is_armed(point) {
            assert!(started.elapsed() < std::time::Duration::from_secs(10), "{point} never reached");
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
    }

    /// At most two cleanup runs (no grace period) after a fault, `path` reads `stage`.
    pub async fn settles_at(&self, path: &str, stage: &str, label: &str) {
        for _ in 0..2 {
            self.cleanup(0).await;
            if self.call("GET", path, Some(&self.admin()), None).await.stage() == stage {
                return;
            }
        }
        let shown = self.call("GET", path, Some(&self.admin()), None).await;
        panic!("{label}: not {stage} after two cleanup runs: {}", shown.body);
    }
}
