//! Crash points: named places in the use-cases where a test can make the function stop dead, as a
//! crash or a Lambda timeout would, to prove that the cleanup function converges from there.
//!
//! Only builds with the `crash-points` feature (the integration tests) can arm them; in any other
//! build [`CrashPoints::hit`] compiles to nothing.

#[derive(Clone, Default)]
pub struct CrashPoints {
    #[cfg(feature = "crash-points")]
    armed: std::sync::Arc<std::sync::Mutex<std::collections::BTreeSet<String>>>,
}

impl CrashPoints {
    /// Stops the current request when it reaches `point` (once per arming).
    #[cfg(feature = "crash-points")]
    pub fn arm(&self, point: &str) {
        self.armed.lock().unwrap_or_else(|e| e.into_inner()).insert(point.to_owned());
    }

    /// Whether `point` is armed and not yet reached.
    #[cfg(feature = "crash-points")]
    pub fn is_armed(&self, point: &str) -> bool {
        self.armed.lock().unwrap_or_else(|e| e.into_inner()).contains(point)
    }

    #[inline]
    pub fn hit(&self, point: &'static str) {
        #[cfg(feature = "crash-points")]
        {
            let armed = self.armed.lock().unwrap_or_else(|e| e.into_inner()).remove(point);
            if armed {
                // Unwinding drops the request's future mid-way: nothing after this point runs,
                // exactly as when the process dies.
                std::panic::panic_any(format!("crash point {point}"));
            }
        }
        #[cfg(not(feature = "crash-points"))]
        let _ = point;
    }
}

/// Every crash point, by use-case and step.
/// No crash point: where a step has none of its own (one that was passed just before).
pub const NONE: &str = "";
pub const CREATE_AFTER_RECORD: &str = "create.after_record";
pub const CREATE_AFTER_PORT: &str = "create.after_port";
pub const CREATE_AFTER_PROVIDER: &str = "create.after_provider";
pub const DELETE_AFTER_MARK: &str = "delete.after_mark";
pub const DELETE_AFTER_PROVIDER: &str = "delete.after_provider";
pub const UPDATE_AFTER_INTENT: &str = "update.after_intent";
pub const UPDATE_AFTER_PROVIDER: &str = "update.after_provider";
pub const UPDATE_NETWORK_AFTER_INTENT: &str = "update.network_after_intent";
pub const UPDATE_NETWORK_AFTER_PORT: &str = "update.network_after_port";
/// Network provisioning, after each provider object is made and before it is recorded.
pub const PROVISION_AFTER_PROJECT: &str = "provision.after_project";
pub const PROVISION_AFTER_USER: &str = "provision.after_user";
pub const PROVISION_AFTER_CREDENTIAL: &str = "provision.after_credential";
pub const PROVISION_AFTER_NETWORK: &str = "provision.after_network";
pub const PROVISION_AFTER_SUBNET: &str = "provision.after_subnet";
pub const PROVISION_AFTER_ROUTER: &str = "provision.after_router";
/// Teardown, after the provider objects are gone and before the records are removed.
pub const TEARDOWN_AFTER_PROVIDER: &str = "teardown.after_provider";
/// After Neutron made a security group, before its id is recorded.
pub const GROUP_AFTER_CREATE: &str = "group.after_create";
/// After Neutron removed a security group, before its record goes.
pub const GROUP_AFTER_DELETE: &str = "group.after_delete";
pub const POWER_AFTER_INTENT: &str = "power.after_intent";
pub const POWER_AFTER_PROVIDER: &str = "power.after_provider";
pub const SNAPSHOT_AFTER_INTENT: &str = "snapshot.after_intent";
pub const SNAPSHOT_AFTER_PROVIDER: &str = "snapshot.after_provider";
/// A worker matching a sweep's slice, after its first project and before the slice is finished.
pub const SLICE_MIDWAY: &str = "slice.midway";
