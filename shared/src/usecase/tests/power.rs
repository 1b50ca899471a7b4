//! Use-case unit tests: power.

use super::*;

#[tokio::test]
async fn power_records_the_transition_and_translates_refusals() {
    let w = world().await;
    let record = create_server(&w.deps, &cx(admin()), create_input(&w.network, "web"), None)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let record = get_server(&w.deps, &cx(admin()), &record.id).await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(record.provisioning_status, ProvisioningStatus::Provisioned);
    let calls = w.provider.calls().len();
    power(&w.deps, &cx(admin()), &record.id, PowerAction::Stop).await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(w.provider.calls().len(), calls + 1, "exactly one provider call");
    let stored = w.deps.store.get_server(&record.id).await.ok().flatten().unwrap_or_else(|| panic!("gone"));
    assert_eq!(stored.power_state, Some(PowerState::Stopping));
    w.provider.fail_next(ProviderError::Conflict {
        what: "server nova-web".into(),
        detail: "Cannot 'stop' instance nova-web while it is in vm_state stopped".into(),
    });
    let err = power(&w.deps, &cx(admin()), &record.id, PowerAction::Stop).await.expect_err("refused");
    assert_eq!(err, Error::invalid("server cannot be stopped in its current state"), "Unikorn's answer");
}

#[tokio::test]
async fn a_server_still_building_refuses_power_without_an_action_call() {
    let w = world().await;
    let record = create_server(&w.deps, &cx(admin()), create_input(&w.network, "web"), None)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    w.provider.set_phase(ServerPhase::Building);
    let err = power(&w.deps, &cx(admin()), &record.id, PowerAction::Start).await.expect_err("building");
    assert_eq!(err, Error::invalid("server cannot be started in its current state"));
    assert!(!w.provider.calls().iter().any(|c| c.starts_with("power")));
}
