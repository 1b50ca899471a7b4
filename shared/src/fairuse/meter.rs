//! What one request was charged, for its answer's headers. The HTTP edge opens a meter for each
//! request it serves (its class from the method); the use-cases charge through it when they know
//! the organization (`usecase::admit`). Work outside a request (the cleanup function) has no meter
//! and is never charged.

use std::sync::{Arc, Mutex};

use super::limiter::Ticket;
use super::{Class, Quota};

tokio::task_local! {
    /// The meter of the request being served.
    pub static METER: Meter;
}

#[derive(Clone)]
pub struct Meter(Arc<Mutex<State>>);

struct State {
    class: Class,
    /// The tightest bucket charged (a list across organizations is charged in each).
    quota: Option<Quota>,
    tickets: Vec<Ticket>,
    /// The organizations already charged: a request that reads several records of one
    /// organization (a server and its network) is one request.
    charged: Vec<String>,
}

impl Meter {
    pub fn new(class: Class) -> Meter {
        Meter(Arc::new(Mutex::new(State { class, quota: None, tickets: Vec::new(), charged: Vec::new() })))
    }

    /// The meter of the request being served, if this runs inside one.
    pub fn current() -> Option<Meter> {
        METER.try_with(Meter::clone).ok()
    }

    pub fn class(&self) -> Class {
        self.0.lock().map(|s| s.class).unwrap_or(Class::Mutation)
    }

    /// Whether `organization` is yet to be charged for this request (and notes that it now is).
    pub fn first_charge(&self, organization: &str) -> bool {
        let Ok(mut state) = self.0.lock() else { return false };
        if state.charged.iter().any(|o| o == organization) {
            return false;
        }
        state.charged.push(organization.to_owned());
        true
    }

    pub fn record(&self, quota: Quota, ticket: Option<Ticket>) {
        let Ok(mut state) = self.0.lock() else { return };
        if state.quota.is_none_or(|q| quota.retry_after.is_some() || quota.remaining < q.remaining) {
            state.quota = Some(quota);
        }
        state.tickets.extend(ticket);
    }

    /// Ends the request: `give_back` returns its tokens (a request refused for its own content
    /// costs nothing). Answers the headers' quota.
    pub async fn finish(&self, give_back: bool) -> Option<Quota> {
        let (mut quota, tickets) = {
            let mut state = self.0.lock().ok()?;
            (state.quota, std::mem::take(&mut state.tickets))
        };
        if give_back {
            if let Some(q) = quota.as_mut().filter(|q| q.retry_after.is_none()) {
                q.remaining = (q.remaining + 1).min(q.limit);
            }
            for ticket in tickets {
                ticket.give_back().await;
            }
        }
        quota
    }
}
