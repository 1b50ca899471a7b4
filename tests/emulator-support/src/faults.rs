//! Injected faults: what a fault does to the requests it matches, and the queue they wait in.

use serde::{Deserialize, Serialize};

/// What a fault does to each of the next `count` requests it matches: wait `delayMs`, then answer
/// `status` or lose the connection.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Effect {
    #[serde(default)]
    pub status: Option<u16>,
    #[serde(default)]
    pub delay_ms: Option<u64>,
    #[serde(default)]
    pub drop_connection: bool,
    #[serde(default = "one")]
    pub count: u32,
    /// A `Retry-After` (seconds) on the answer, as a rate-limiting service sends.
    #[serde(default)]
    pub retry_after: Option<u64>,
}

fn one() -> u32 {
    1
}

impl Effect {
    pub fn status(status: u16) -> Effect {
        Effect { status: Some(status), ..Effect::none() }
    }

    pub fn delay(ms: u64) -> Effect {
        Effect { delay_ms: Some(ms), ..Effect::none() }
    }

    pub fn dropped() -> Effect {
        Effect { drop_connection: true, ..Effect::none() }
    }

    fn none() -> Effect {
        Effect { status: None, delay_ms: None, drop_connection: false, count: 1, retry_after: None }
    }
}

/// A fault of either emulator: its own way of matching requests, and an [`Effect`].
pub trait HasEffect: Clone {
    fn effect_mut(&mut self) -> &mut Effect;
}

/// Takes one use of the first fault `matches` accepts; a fault used `count` times leaves the queue.
pub fn take_fault<F: HasEffect>(faults: &mut Vec<F>, matches: impl Fn(&F) -> bool) -> Option<F> {
    let index = faults.iter().position(matches)?;
    let fault = faults[index].clone();
    let effect = faults[index].effect_mut();
    effect.count = effect.count.saturating_sub(1);
    if effect.count == 0 {
        faults.remove(index);
    }
    Some(fault)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Clone)]
    struct Named(&'static str, Effect);

    impl HasEffect for Named {
        fn effect_mut(&mut self) -> &mut Effect {
            &mut self.1
        }
    }

    #[test]
    fn a_fault_serves_its_count_then_leaves() {
        let mut faults = vec![Named("a", Effect { count: 2, ..Effect::status(503) }), Named("b", Effect::dropped())];
        assert!(take_fault(&mut faults, |f| f.0 == "a").is_some());
        assert!(take_fault(&mut faults, |f| f.0 == "a").is_some());
        assert!(take_fault(&mut faults, |f| f.0 == "a").is_none());
        assert_eq!(faults.len(), 1);
        assert!(take_fault(&mut faults, |f| f.0 == "b").is_some_and(|f| f.1.drop_connection));
        assert!(faults.is_empty());
    }
}
