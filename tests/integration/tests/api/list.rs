use integration_tests::stack::*;
use serde_json::{json, Value};

fn ids(body: &Value) -> Vec<String> {
    body.as_array()
        .unwrap_or_else(|| panic!("list body is not an array: {body}"))
        .iter()
        .map(|s| s["metadata"]["id"].as_str().unwrap_or_default().to_owned())
        .collect()
}

/// Three servers in ORG/PROJECT, one in ORG/PROJECT_B, one in ORG_2/PROJECT_C.
async fn populated() -> (Stack, Vec<String>, String, String) {
    let stack = Stack::start().await;
    let admin = stack.admin();
    let mut a = Vec::new();
    for name in ["a1", "a2", "a3"] {
        a.push(stack.server(name).await);
    }
    let net_b = stack.create_network(&admin, "net-b", ORG, PROJECT_B).await;
    let b = stack.call("POST", "/api/v2/servers", Some(&admin), Some(&stack.server_body("b1", &net_b))).await.id();
    let net_c = stack.create_network(&admin, "net-c", ORG_2, PROJECT_C).await;
    let c = stack.call("POST", "/api/v2/servers", Some(&admin), Some(&stack.server_body("c1", &net_c))).await.id();
    (stack, a, b, c)
}

#[tokio::test]
async fn list_is_sorted_by_id_and_limited_to_readable_projects() {
    let (stack, a, b, c) = populated().await;
    let all = stack.call("GET", "/api/v2/servers", Some(&stack.admin()), None).await;
    assert_eq!(all.status, 200);
    let mut expected = [a.clone(), vec![b.clone(), c.clone()]].concat();
    expected.sort();
    assert_eq!(ids(&all.body), expected, "every server, ascending id");
    assert!(all.header("link").is_none());

    let project_reader = stack.token("p", &project_acl(ORG, PROJECT, &[("region:servers", &["read"])]));
    let mut only_a = a.clone();
    only_a.sort();
    assert_eq!(ids(&stack.call("GET", "/api/v2/servers", Some(&project_reader), None).await.body), only_a);

    let no_read = stack.token("n", &project_acl(ORG, PROJECT, &[("region:servers", &["create"])]));
    assert_eq!(ids(&stack.call("GET", "/api/v2/servers", Some(&no_read), None).await.body), Vec::<String>::new());
}

#[tokio::test]
async fn filters_narrow_and_repeat() {
    let (stack, a, b, c) = populated().await;
    let admin = stack.admin();
    let get = |query: String| {
        let stack = &stack;
        let admin = admin.clone();
        async move {
            let reply = stack.call("GET", &format!("/api/v2/servers?{query}"), Some(&admin), None).await;
            assert_eq!(reply.status, 200, "{query}: {}", reply.body);
            let mut got = ids(&reply.body);
            got.sort();
            got
        }
    };
    let sorted = |mut v: Vec<String>| {
        v.sort();
        v
    };
    assert_eq!(get(format!("organizationID={ORG_2}")).await, vec![c.clone()]);
    assert_eq!(get(format!("projectID={PROJECT_B}")).await, vec![b.clone()]);
    assert_eq!(get(format!("projectID={PROJECT_B}&projectID={PROJECT_C}")).await, sorted(vec![b.clone(), c.clone()]));
    assert_eq!(get(format!("organizationID={ORG}&projectID={PROJECT_C}")).await, Vec::<String>::new());
    assert_eq!(get(format!("networkID={}", stack.network_id)).await, sorted(a.clone()));
    assert_eq!(get(format!("regionID={REGION}")).await.len(), 5);
    assert_eq!(get("regionID=elsewhere".into()).await, Vec::<String>::new());
    assert_eq!(get(format!("organizationID={ORG}&organizationID={ORG_2}&regionID={REGION}")).await.len(), 5);
}

#[tokio::test]
async fn pages_follow_the_link_header_until_the_end() {
    let (stack, ..) = populated().await;
    let admin = stack.admin();
    let everything = ids(&stack.call("GET", "/api/v2/servers", Some(&admin), None).await.body);
    let mut seen = Vec::new();
    let mut next = Some("/api/v2/servers?limit=2".to_owned());
    let mut pages = 0;
    while let Some(path) = next.take() {
        let reply = stack.call("GET", &path, Some(&admin), None).await;
        assert_eq!(reply.status, 200, "{path}: {}", reply.body);
        let page = ids(&reply.body);
        assert!(page.len() <= 2);
        seen.extend(page);
        pages += 1;
        next = reply.header("link").map(|link| {
            assert!(link.ends_with("; rel=\"next\""), "{link}");
            link.trim_start_matches('<').split('>').next().unwrap_or_default().to_owned()
        });
        assert!(pages < 10, "pagination does not end");
    }
    assert_eq!(seen, everything, "pages cover everything once, in order");
    assert_eq!(pages, 3);
}

#[tokio::test]
async fn bad_list_queries_are_400() {
    let stack = Stack::start().await;
    let admin = stack.admin();
    for query in [
        "limit=0",
        "limit=1001",
        "limit=x",
        "pageToken=forged",
        "tag=a",
        "organizationId=typo",
        "projectID=",
        "networkID=a,",
    ] {
        let reply = stack.call("GET", &format!("/api/v2/servers?{query}"), Some(&admin), None).await;
        assert_eq!((reply.status, reply.error_code()), (400, "invalid_request"), "{query}");
        let field = query.split('=').next().unwrap_or_default();
        assert!(reply.description().contains(field), "{query}: {}", reply.description());
    }
}

/// Regression: a filter value holding a comma was split, so `organizationID=<org>,x` answered the
/// organization's servers and `projectID=a,b` on the CA list was 200 `[]`. The contract's pattern
/// is `^[^,]+$` with `explode: true`: a comma is 400, the value named; repeated parameters are how
/// several values are given.
#[tokio::test]
async fn a_comma_in_a_filter_value_is_400_on_every_list() {
    let stack = Stack::start().await;
    let admin = stack.admin();
    stack.server("listed").await;
    for path in [
        format!("/api/v2/servers?organizationID={ORG},x"),
        format!("/api/v2/servers?projectID={PROJECT}%2C{PROJECT_B}"),
        format!("/api/v2/servers?regionID={REGION},"),
        format!("/api/v2/servers?networkID={},{}", stack.network_id, stack.network_id),
        "/api/v2/sshcertificateauthorities?projectID=a,b".to_owned(),
        format!("/api/v2/sshcertificateauthorities?organizationID={ORG},x"),
    ] {
        let reply = stack.call("GET", &path, Some(&admin), None).await;
        assert_eq!((reply.status, reply.error_code()), (400, "invalid_request"), "{path}: {}", reply.body);
        assert!(reply.description().contains("comma"), "{path}: {}", reply.description());
    }
    let both =
        stack.call("GET", &format!("/api/v2/servers?organizationID={ORG}&organizationID=x"), Some(&admin), None).await;
    assert_eq!((both.status, both.body.as_array().map(Vec::len)), (200, Some(1)), "repeated: {}", both.body);
}

/// `tag=name=value`, repeatable: a server must carry every pair; combined with the other filters.
#[tokio::test]
async fn the_tag_filter_needs_every_pair_and_combines_with_the_others() {
    let stack = Stack::start().await;
    let admin = stack.admin();
    let tagged = |name: &str, tags: serde_json::Value| {
        let mut body = stack.server_body(name, &stack.network_id);
        body["metadata"]["tags"] = tags;
        body
    };
    let mut ids = std::collections::BTreeMap::new();
    for (name, tags) in [
        ("both", json!([{"name": "team", "value": "blue"}, {"name": "env", "value": "prod"}])),
        ("team", json!([{"name": "team", "value": "blue"}])),
        ("other", json!([{"name": "team", "value": "red"}, {"name": "env", "value": "prod"}])),
        ("none", json!([])),
    ] {
        let reply = stack.call("POST", "/api/v2/servers", Some(&admin), Some(&tagged(name, tags))).await;
        assert_eq!(reply.status, 201, "{}", reply.body);
        ids.insert(name, reply.id());
    }
    let names = |reply: &Reply| -> Vec<String> {
        let mut found: Vec<String> = reply
            .body
            .as_array()
            .into_iter()
            .flatten()
            .map(|s| s["metadata"]["name"].as_str().unwrap_or_default().to_owned())
            .collect();
        found.sort();
        found
    };
    let list = |query: String| {
        let (stack, admin) = (&stack, admin.clone());
        async move { stack.call("GET", &format!("/api/v2/servers?{query}"), Some(&admin), None).await }
    };
    assert_eq!(names(&list("tag=team%3Dblue".into()).await), ["both", "team"]);
    assert_eq!(names(&list("tag=team%3Dblue&tag=env%3Dprod".into()).await), ["both"]);
    assert_eq!(names(&list("tag=env%3Dprod".into()).await), ["both", "other"]);
    assert!(names(&list("tag=team%3Dgreen".into()).await).is_empty());
    let other = format!("networkID={}&tag=env%3Dprod", uuid::Uuid::new_v4());
    assert!(names(&list(other).await).is_empty(), "combined with networkID");
    let same = format!("networkID={}&tag=env%3Dprod&limit=1", stack.network_id);
    let first = list(same).await;
    assert_eq!(first.body.as_array().map(Vec::len), Some(1));
    let link = first.header("link").unwrap_or_default();
    let next = link.trim_start_matches('<').split('>').next().unwrap_or_default().to_owned();
    let second = stack.call("GET", &next, Some(&admin), None).await;
    let mut both = names(&first);
    both.extend(names(&second));
    both.sort();
    assert_eq!(both, ["both", "other"], "pages chain with the filter kept: {link}");
    for bad in ["tag=novalue", "tag=%3Dx"] {
        let reply = list(bad.into()).await;
        assert_eq!((reply.status, reply.error_code()), (400, "invalid_request"), "{bad}");
    }
}
