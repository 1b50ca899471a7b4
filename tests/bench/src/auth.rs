//! What authentication costs: identity and DynamoDB calls per request (a container's cache, the
//! table every container shares, identity), the latency it adds, and one request end to end
//! through the authorizer and a function.

use std::sync::Arc;
use std::time::Instant;

use identity_emulator::{ACL, DISCOVERY, USERINFO};
use integration_tests::calls::Calls;
use integration_tests::stack::admin_acl;
use shared::identity::authenticate::{Authenticator, CacheSettings, Presented};
use shared::identity::cache::{NoSharedCache, SharedCache};
use shared::identity::client::{HttpIdentity, IdentityConfig};
use shared::store::dynamodb::DynamoStore;

use crate::fixtures::Fixtures;
use crate::stats::{median, ms, p99};

fn container(fx: &Fixtures, shared: Arc<dyn SharedCache>) -> Authenticator {
    let config = IdentityConfig { url: fx.stack.identity.url.clone(), ..IdentityConfig::default() };
    let identity = HttpIdentity::new(&config).unwrap_or_else(|e| panic!("{e}"));
    Authenticator::new(Arc::new(identity), shared, CacheSettings::default())
}

fn bearer(token: &str) -> Presented {
    Presented { authorization: Some(format!("Bearer {token}")), ..Presented::default() }
}

fn identity_calls(fx: &Fixtures) -> String {
    let id = &fx.stack.identity;
    let (discovery, userinfo, acl) = (id.counter(DISCOVERY), id.counter(USERINFO), id.counter(ACL));
    id.reset_counters();
    format!("{} (userinfo {userinfo}, ACL {acl}, discovery {discovery})", userinfo + acl + discovery)
}

fn dynamo_calls(calls: &Calls) -> String {
    let taken = calls.take();
    if taken.is_empty() {
        return "0".into();
    }
    taken.iter().map(|(op, n)| format!("{op} {n}")).collect::<Vec<_>>().join(", ")
}

pub async fn section(fx: &Fixtures) -> String {
    let mut out = String::from(
        "## Authentication: calls and latency\n\n\
         A container is an authenticator (its own caches) on the table every container shares; identity \
         is the emulator on loopback.\n\n\
         | case | identity calls | DynamoDB calls |\n| --- | --- | --- |\n",
    );
    let calls = Calls::default();
    let table =
        || -> Arc<dyn SharedCache> { Arc::new(DynamoStore::new(futures_client(&calls), fx.stack.table.clone())) };
    fx.stack.identity.reset_counters();
    calls.take();
    let token = fx.stack.token(&format!("bench-{}", uuid::Uuid::new_v4().simple()), &admin_acl());
    let cold = container(fx, table());
    cold.authenticate(&bearer(&token)).await.unwrap_or_else(|e| panic!("{e}"));
    out += &format!(
        "| cold container, a token no container has seen | {} | {} |\n",
        identity_calls(fx),
        dynamo_calls(&calls)
    );
    let second = container(fx, table());
    second.authenticate(&bearer(&token)).await.unwrap_or_else(|e| panic!("{e}"));
    out += &format!(
        "| cold container, a token another container has seen | {} | {} |\n",
        identity_calls(fx),
        dynamo_calls(&calls)
    );
    second.authenticate(&bearer(&token)).await.unwrap_or_else(|e| panic!("{e}"));
    out += &format!("| warm container, a token it has seen | {} | {} |\n", identity_calls(fx), dynamo_calls(&calls));
    let sub_again = fx.stack.identity.token(&format!("bench-{}", uuid::Uuid::new_v4().simple()), &admin_acl());
    second.authenticate(&bearer(&sub_again)).await.unwrap_or_else(|e| panic!("{e}"));
    out +=
        &format!("| warm container, a new token (new subject) | {} | {} |\n", identity_calls(fx), dynamo_calls(&calls));
    for (label, shared) in [("shared table", true), ("no shared cache", false)] {
        let token = fx.stack.token(&format!("burst-{}", uuid::Uuid::new_v4().simple()), &admin_acl());
        let containers: Vec<Authenticator> = (0..20)
            .map(|_| container(fx, if shared { table() } else { Arc::new(NoSharedCache) as Arc<dyn SharedCache> }))
            .collect();
        let presented = bearer(&token);
        let started = Instant::now();
        // Polled together, as concurrent cold containers would ask.
        let answers = futures::future::join_all(containers.iter().map(|c| c.authenticate(&presented))).await;
        let took = started.elapsed();
        assert!(answers.iter().all(Result::is_ok), "burst");
        out += &format!(
            "| burst: 20 cold containers at once, one new token, {label} ({:.0} ms) | {} | {} |\n",
            ms(took),
            identity_calls(fx),
            dynamo_calls(&calls)
        );
    }
    out += "\n";

    // Latency: a warm container with a cached token, a warm container with new tokens, and a request
    // end to end (authorizer, then get) against the same get without the authorizer.
    let warm = container(fx, table());
    let known = bearer(&token);
    warm.authenticate(&known).await.unwrap_or_else(|e| panic!("{e}"));
    let (mut cached, mut fresh) = (Vec::new(), Vec::new());
    for _ in 0..1000 {
        let started = Instant::now();
        warm.authenticate(&known).await.unwrap_or_else(|e| panic!("{e}"));
        cached.push(started.elapsed());
    }
    for i in 0..50 {
        let token = fx.stack.identity.token(&format!("fresh-{i}-{}", uuid::Uuid::new_v4().simple()), &admin_acl());
        let started = Instant::now();
        warm.authenticate(&bearer(&token)).await.unwrap_or_else(|e| panic!("{e}"));
        fresh.push(started.elapsed());
    }
    let get_event = fx.event("GET", &format!("/api/v2/servers/{}", fx.settled), None);
    let authorizer_request = {
        let headers = std::collections::BTreeMap::from([("authorization".to_owned(), format!("Bearer {}", fx.admin))]);
        let path = format!("/api/v2/servers/{}", fx.settled);
        let call = local_api::api_call("GET", &path, "", &headers, b"");
        serde_json::from_value::<lambda_http::aws_lambda_events::apigw::ApiGatewayV2CustomAuthorizerV2Request>(
            call.authorizer_request,
        )
        .unwrap_or_else(|e| panic!("{e}"))
    };
    let (mut through, mut direct) = (Vec::new(), Vec::new());
    for _ in 0..200 {
        let started = Instant::now();
        let answer = shared::http::authorize(&warm, &authorizer_request).await;
        assert!(answer.context.get("sub").is_some(), "{}", answer.context);
        let response =
            get::handle(&fx.stack.deps, lambda_http::request::from_str(&get_event).unwrap_or_else(|e| panic!("{e}")))
                .await;
        through.push(started.elapsed());
        assert_eq!(response.status().as_u16(), 200);
        let started = Instant::now();
        let response =
            get::handle(&fx.stack.deps, lambda_http::request::from_str(&get_event).unwrap_or_else(|e| panic!("{e}")))
                .await;
        direct.push(started.elapsed());
        assert_eq!(response.status().as_u16(), 200);
    }
    out += &format!(
        "| latency | median ms | p99 ms |\n| --- | ---: | ---: |\n\
         | authenticate, warm container, cached token (1000) | {:.4} | {:.4} |\n\
         | authenticate, warm container, new token and subject (50: userinfo + ACL + 2 table writes) | {:.2} | {:.2} |\n\
         | get through the authorizer (warm) then the function (200) | {:.2} | {:.2} |\n\
         | the same get without the authorizer | {:.2} | {:.2} |\n\n",
        ms(median(&cached)),
        ms(p99(&cached)),
        ms(median(&fresh)),
        ms(p99(&fresh)),
        ms(median(&through)),
        ms(p99(&through)),
        ms(median(&direct)),
        ms(p99(&direct)),
    );
    out
}

fn futures_client(calls: &Calls) -> aws_sdk_dynamodb::Client {
    tokio::task::block_in_place(|| tokio::runtime::Handle::current().block_on(calls.client()))
}
