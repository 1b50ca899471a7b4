//! Use-case unit tests: the action history and events.

use super::*;

#[tokio::test]
async fn actions_carry_request_ids_and_refusals_and_transitions_are_published_once() {
    use crate::domain::{ActionStatus, Command, ServerState};
    use crate::store::{ActionQuery, ActionStore};
    let w = world().await;
    let record = create_server(&w.deps, &cx(admin()), create_input(&w.network, "web"), None)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let actions = |w: &World, id: String| {
        let store = w.store.clone();
        async move {
            let page = store.list_actions(&id, &ActionQuery { limit: 10, ..Default::default() }).await;
            page.unwrap_or_else(|e| panic!("{e}")).items
        }
    };
    let created = actions(&w, record.id.clone()).await;
    assert_eq!(created[0].action.command, Command::CreateServer);
    assert_eq!(created[0].provider_request_id.as_deref(), Some("req-create"));
    get_server(&w.deps, &cx(admin()), &record.id).await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(actions(&w, record.id.clone()).await[0].action.status, ActionStatus::Success, "a read saw ACTIVE");

    w.provider.fail_next(ProviderError::Conflict { what: "server".into(), detail: "Cannot 'stop' instance".into() });
    power(&w.deps, &cx(admin()), &record.id, PowerAction::Stop).await.expect_err("refused");
    let refused = actions(&w, record.id.clone()).await;
    assert_eq!((refused[0].action.command, refused[0].action.status), (Command::StopServer, ActionStatus::Error));
    assert_eq!(refused[0].action.error.as_ref().map(|e| e.message.as_str()), Some("Cannot 'stop' instance"));

    let bus = crate::events::MemoryBus::default();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    cleanup::run(&w.deps, &bus, deadline).await.unwrap_or_else(|e| panic!("{e}"));
    cleanup::run(&w.deps, &bus, deadline).await.unwrap_or_else(|e| panic!("{e}"));
    let published = bus.published.lock().unwrap_or_else(|e| e.into_inner()).clone();
    let seen: Vec<_> = published.iter().map(|e| (e.previous, e.current)).collect();
    assert_eq!(seen, [(None, ServerState::Provisioning), (Some(ServerState::Provisioning), ServerState::Running)]);
}

#[tokio::test]
async fn a_running_action_past_the_timeout_reads_as_timed_out() {
    use crate::domain::ActionStatus;
    let mut w = world().await;
    let record = create_server(&w.deps, &cx(admin()), create_input(&w.network, "web"), None)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    w.deps.timing.action_timeout = chrono::Duration::zero();
    let params = |status| crate::usecase::actions::ActionListParams { status, after: None, limit: 10 };
    let page = crate::usecase::actions::list_actions(&w.deps, &cx(admin()), &record.id, params(None)).await;
    let listed = page.unwrap_or_else(|e| panic!("{e}")).items;
    assert_eq!(listed[0].action.status, ActionStatus::Error);
    assert_eq!(listed[0].action.error.as_ref().map(|e| e.code.as_str()), Some("timeout"));
    let running =
        crate::usecase::actions::list_actions(&w.deps, &cx(admin()), &record.id, params(Some(ActionStatus::Running)))
            .await;
    assert!(running.unwrap_or_else(|e| panic!("{e}")).items.is_empty(), "a timed-out action is not listed as running");
}
