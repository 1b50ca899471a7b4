//! What ships must agree with the code: the SAM template's functions and routes, the OpenAPI
//! document's paths and the route table are the same sets; the template's runtime, architecture
//! and build method are right; every reference in it names something that exists (the linters do
//! not check references inside `AWS::Serverless::Function`).

use std::collections::BTreeSet;

use integration_tests::repo_root;
use shared::http::{Function, ROUTES};

fn read(relative: &str) -> String {
    let path = repo_root().join(relative);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn indent(line: &str) -> usize {
    line.len() - line.trim_start().len()
}

fn code_routes() -> BTreeSet<RouteKey> {
    ROUTES.iter().map(|r| (r.method().to_owned(), r.path().to_owned())).collect()
}

/// Top-level keys under a top-level section (`Parameters:`, `Resources:`).
fn section_keys(template: &str, section: &str) -> BTreeSet<String> {
    let mut inside = false;
    let mut keys = BTreeSet::new();
    for line in template.lines() {
        if indent(line) == 0 && !line.trim().is_empty() {
            inside = line.trim_end() == format!("{section}:");
            continue;
        }
        if inside && indent(line) == 2 && line.trim_end().ends_with(':') && !line.trim_start().starts_with('#') {
            keys.insert(line.trim().trim_end_matches(':').to_owned());
        }
    }
    keys
}

/// A `(method, path)` pair.
type RouteKey = (String, String);

/// (resource, binary, routes) for every function in the template.
fn template_functions(template: &str) -> Vec<(String, String, Vec<RouteKey>)> {
    let mut out: Vec<(String, String, Vec<RouteKey>)> = Vec::new();
    let mut resource = String::new();
    let mut path = String::new();
    for line in template.lines() {
        let trimmed = line.trim();
        if indent(line) == 2 && trimmed.ends_with(':') {
            resource = trimmed.trim_end_matches(':').to_owned();
        } else if let Some(binary) = trimmed.strip_prefix("Binary: ") {
            out.push((resource.clone(), binary.to_owned(), Vec::new()));
        } else if let Some(p) = trimmed.strip_prefix("Path: ") {
            path = p.to_owned();
        } else if let Some(method) = trimmed.strip_prefix("Method: ") {
            let last = out.last_mut().filter(|f| f.0 == resource);
            let last = last.unwrap_or_else(|| panic!("route {method} {path} outside a function ({resource})"));
            last.2.push((method.to_owned(), path.clone()));
        }
    }
    out
}

#[test]
fn template_routes_and_functions_match_the_code() {
    let template = read("infra/template.yaml");
    let functions = template_functions(&template);
    let binaries: BTreeSet<String> = functions.iter().map(|f| f.1.clone()).collect();
    let crates: BTreeSet<String> = std::fs::read_dir(repo_root().join("functions"))
        .unwrap_or_else(|e| panic!("{e}"))
        .filter_map(|e| e.ok().map(|e| e.file_name().to_string_lossy().into_owned()))
        .collect();
    assert_eq!(binaries, crates, "every function crate is deployed, and only those");

    let mut template_routes = BTreeSet::new();
    let mut default_route = Vec::new();
    for (resource, binary, routes) in &functions {
        for (method, path) in routes {
            if path == shared::http::routes::DEFAULT_ROUTE {
                default_route.push((method.clone(), binary.clone()));
                continue;
            }
            let route = ROUTES.iter().find(|r| r.method() == method && r.path() == path);
            let route = route.unwrap_or_else(|| panic!("{resource}: {method} {path} is not served by the code"));
            assert_eq!(route.function.name(), binary, "{method} {path} is wired to {resource}");
            assert!(template_routes.insert((method.clone(), path.clone())), "{method} {path} twice");
        }
    }
    assert_eq!(template_routes, code_routes(), "every served route is in the template and the reverse");
    for f in Function::ALL {
        assert!(binaries.contains(f.name()), "{f:?} has no function in the template");
    }
    assert!(binaries.contains("authorizer"));
    assert_eq!(
        default_route,
        vec![("ANY".to_owned(), "actions".to_owned())],
        "one $default route (405/404 for what no route matches), served by actions"
    );
}

#[test]
fn template_runtime_architecture_and_build_are_right() {
    let template = read("infra/template.yaml");
    assert!(template.contains("    Runtime: provided.al2023\n"), "Globals.Function.Runtime");
    assert!(template.contains("    Architectures: [arm64]\n"), "Globals.Function.Architectures");
    let functions = template.matches("Type: AWS::Serverless::Function").count();
    assert_eq!(
        template.matches("BuildMethod: rust-cargolambda").count(),
        functions,
        "every function builds with cargo-lambda"
    );
    assert!(
        !template.contains("Runtime: ") || template.matches("Runtime: ").count() == 1,
        "no per-function runtime override"
    );
    assert!(
        !template.contains("Action: \"*\"") && !template.contains("dynamodb:*") && !template.contains("- \"*\""),
        "no wildcard actions"
    );
    assert_eq!(
        template.matches("secretsmanager:GetSecretValue").count(),
        functions - 5 + 3,
        "every function but list, sshcas, securitygroups, protection and actions reads a secret (the authorizer its client \
         certificate for identity, when one is configured; networks, worker and cleanup the same certificate \
         beside their own, for identity's allocations)"
    );
    assert_eq!(
        (template.matches("events:PutEvents").count(), template.matches("EVENT_BUS_NAME: !Ref EventBus").count()),
        (1, 1),
        "only the cleanup function publishes events, to the bus the stack creates"
    );
    assert_eq!(
        (
            template.matches("KEY_ENCRYPTION_KEY_SECRET").count(),
            template.matches("${KeyEncryptionKeySecretName}-*").count()
        ),
        (5, 5),
        "only create and console (they seal and open SSH keys), the worker and cleanup (they make and open \
         the identities' secrets) and networks (a v1 identity's read opens them) read the key-encryption key"
    );
    assert_eq!(
        (template.matches("sqs:SendMessage").count(), template.matches("WORK_QUEUE_URL: !Ref WorkQueue").count()),
        (9, 8),
        "the networks and securitygroups functions leave work for the worker, the worker queues what \
         waited for the item it finished (and dead-letters what it cannot do), create, update, delete and \
         power ask for their intents' follow-ups, and cleanup queues its sweep's slices"
    );
    assert_eq!(
        (
            template.matches("WORK_DEAD_LETTER_QUEUE_URL: !Ref WorkDeadLetterQueue").count(),
            template.matches("sqs:ChangeMessageVisibility").count(),
            template.matches("dynamodb:BatchGetItem").count(),
        ),
        (2, 1, 1),
        "the worker dead-letters with reasons, puts failed items off and reads a slice's records by key; \
         cleanup counts the dead letters"
    );
    assert!(
        template.contains("deadLetterTargetArn: !GetAtt WorkDeadLetterQueue.Arn")
            && template.contains("ReportBatchItemFailures"),
        "the work queue ends in a dead-letter queue, and the worker reports each failed item"
    );
}

#[test]
fn every_template_reference_names_a_parameter_or_resource() {
    let template = read("infra/template.yaml");
    let mut known = section_keys(&template, "Parameters");
    known.extend(section_keys(&template, "Resources"));
    assert!(known.contains("Table") && known.contains("Api") && known.contains("Stage"), "{known:?}");
    let mut missing = Vec::new();
    for line in template.lines() {
        let mut names: Vec<String> = Vec::new();
        for marker in ["!Ref ", "!GetAtt "] {
            if let Some(rest) = line.split(marker).nth(1) {
                let name = rest.split(|c: char| c == '.' || c == ']' || c == ',' || c.is_whitespace()).next();
                names.extend(name.map(str::to_owned));
            }
        }
        let mut rest = line;
        while let Some(start) = rest.find("${") {
            let after = &rest[start + 2..];
            let end = after.find('}').unwrap_or(after.len());
            names.push(after[..end].split('.').next().unwrap_or_default().to_owned());
            rest = &after[end..];
        }
        for name in names {
            if !name.starts_with("AWS::") && !known.contains(&name) {
                missing.push(format!("{name} in: {}", line.trim()));
            }
        }
    }
    assert!(missing.is_empty(), "references to nothing: {missing:#?}");
}

#[test]
fn openapi_paths_match_the_code() {
    let spec = read("openapi.yaml");
    let mut inside = false;
    let mut path = String::new();
    let mut documented = BTreeSet::new();
    for line in spec.lines() {
        if indent(line) == 0 && !line.trim().is_empty() {
            inside = line.trim_end() == "paths:";
            continue;
        }
        if !inside {
            continue;
        }
        let trimmed = line.trim().trim_end_matches(':');
        if indent(line) == 2 && trimmed.starts_with('/') {
            path = trimmed.to_owned();
        } else if indent(line) == 4 && matches!(trimmed, "get" | "post" | "put" | "delete" | "patch") {
            documented.insert((trimmed.to_uppercase(), path.clone()));
        }
    }
    assert_eq!(documented, code_routes(), "every route in the spec is served and every served route is in the spec");
}

/// An index as compared: its name, its (attribute, key type) pairs, its projection.
type IndexRow = (String, Vec<(String, String)>, String);

/// The table the code creates (and the store reads) is the one the template deploys: the same keys,
/// attributes, indexes with their keys and projections, and TTL attribute.
#[test]
fn the_table_in_code_and_in_the_template_agree() {
    use serde_yaml_ng::Value;
    use shared::store::dynamodb::TABLE;
    let template: Value = serde_yaml_ng::from_str(&read("infra/template.yaml")).unwrap_or_else(|e| panic!("{e}"));
    let table = &template["Resources"]["Table"]["Properties"];
    let text = |v: &Value| v.as_str().unwrap_or_default().to_owned();
    let keys = |schema: &Value| -> Vec<(String, String)> {
        schema.as_sequence().into_iter().flatten().map(|k| (text(&k["AttributeName"]), text(&k["KeyType"]))).collect()
    };
    let pair =
        |hash: &str, range: &str| vec![(hash.to_owned(), "HASH".to_owned()), (range.to_owned(), "RANGE".to_owned())];
    assert_eq!(keys(&table["KeySchema"]), pair(TABLE.hash, TABLE.range), "table keys");
    let mut attributes: Vec<(String, String)> = table["AttributeDefinitions"]
        .as_sequence()
        .into_iter()
        .flatten()
        .map(|a| (text(&a["AttributeName"]), text(&a["AttributeType"])))
        .collect();
    attributes.sort();
    let mut expected: Vec<(String, String)> =
        TABLE.attributes.iter().map(|a| (a.to_string(), "S".to_owned())).collect();
    expected.sort();
    assert_eq!(attributes, expected, "attribute definitions");
    let indexes: Vec<IndexRow> = table["GlobalSecondaryIndexes"]
        .as_sequence()
        .into_iter()
        .flatten()
        .map(|i| (text(&i["IndexName"]), keys(&i["KeySchema"]), text(&i["Projection"]["ProjectionType"])))
        .collect();
    let expected: Vec<IndexRow> =
        TABLE.indexes.iter().map(|i| (i.name.to_owned(), pair(i.hash, i.range), "ALL".to_owned())).collect();
    assert_eq!(indexes, expected, "indexes, their keys and projections");
    assert_eq!(text(&table["TimeToLiveSpecification"]["AttributeName"]), TABLE.ttl_attribute, "TTL attribute");
    assert_eq!(table["TimeToLiveSpecification"]["Enabled"].as_bool(), Some(true), "TTL enabled");
}
