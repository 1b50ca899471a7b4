use integration_tests::stack::*;

/// 50 concurrent creates of one name on one network: exactly one wins, at the table and at Nova.
#[tokio::test]
async fn fifty_concurrent_creates_of_one_name_give_one_server() {
    let stack = Stack::start().await;
    let admin = stack.admin();
    let before = stack.item_count().await;
    let calls = (0..50).map(|_| stack.create_server(&admin, "race"));
    let replies = futures::future::join_all(calls).await;
    let created = replies.iter().filter(|r| r.status == 201).count();
    let conflicts = replies.iter().filter(|r| r.status == 409 && r.error_code() == "conflict").count();
    let others: Vec<u16> = replies.iter().map(|r| r.status).filter(|s| *s != 201 && *s != 409).collect();
    println!(
        "concurrency: {created} created, {conflicts} conflicts, other statuses {others:?}, nova creates {}",
        stack.nova_creates()
    );
    assert_eq!((created, conflicts), (1, 49), "other statuses: {others:?}");
    assert_eq!(stack.nova_creates(), 1);
    assert_eq!(stack.emulator.servers().len(), 1);
    assert_eq!(stack.item_count().await, before + 2, "one server record and one name claim");
}
