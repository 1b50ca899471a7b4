//! The convergence invariants: what must hold between the table and the provider once the cleanup
//! function has settled everything. Read from the table (a test-only Scan) and from the emulator's
//! view of every project.

use std::collections::{BTreeMap, BTreeSet};

use aws_sdk_dynamodb::types::AttributeValue;
use serde_json::{json, Value};

use crate::neutron::{groups_of, pairs_of, NeutronApi};
use crate::stack::Stack;
use openstack_emulator::seed;

type Item = std::collections::HashMap<String, AttributeValue>;

fn text(item: &Item, name: &str) -> String {
    item.get(name).and_then(|v| v.as_s().ok()).cloned().unwrap_or_default()
}

impl Stack {
    /// Every item of the table (test-only Scan).
    pub async fn scan(&self) -> Vec<Item> {
        let mut items = Vec::new();
        let mut start = None;
        loop {
            let out = self
                .dynamo
                .scan()
                .table_name(&self.table)
                .set_exclusive_start_key(start)
                .send()
                .await
                .unwrap_or_else(|e| panic!("scan: {e}"));
            items.extend(out.items().iter().cloned());
            start = out.last_evaluated_key().cloned();
            if start.is_none() {
                return items;
            }
        }
    }

    /// What breaks the invariants now (empty when everything agrees):
    /// provider servers carrying our metadata == records; claims == live records; every network's
    /// count == its records; every identity's count == its networks; no record provisioning or with
    /// a pending change; record power == Nova's; every running action is the one its live record
    /// tracks.
    pub async fn violations(&self) -> Vec<String> {
        self.check(false).await
    }

    /// [`Stack::violations`], and (right after a cleanup run) every transition written is
    /// published: the outbox is empty.
    async fn check(&self, published: bool) -> Vec<String> {
        let items = self.scan().await;
        let mut records: BTreeMap<String, Value> = BTreeMap::new();
        let mut claims: BTreeSet<(String, String, String)> = BTreeSet::new();
        let mut counts: BTreeMap<String, i64> = BTreeMap::new();
        let mut identity_counts: BTreeMap<String, i64> = BTreeMap::new();
        let mut group_counts: BTreeMap<String, i64> = BTreeMap::new();
        let mut network_parents: Vec<String> = Vec::new();
        let mut running_actions: BTreeSet<(String, String)> = BTreeSet::new();
        let mut unpublished = 0;
        for item in &items {
            let pk = text(item, "PK");
            if pk.starts_with("SERVER#") {
                let doc: Value = serde_json::from_str(&text(item, "doc")).unwrap_or_default();
                records.insert(doc["id"].as_str().unwrap_or_default().to_owned(), doc);
            } else if pk.starts_with("CLAIM#") {
                claims.insert((text(item, "networkId"), text(item, "name"), text(item, "serverId")));
            } else if pk.starts_with("NETWORK#") {
                let count = item.get("serverCount").and_then(|v| v.as_n().ok()).and_then(|n| n.parse().ok());
                counts.insert(pk.trim_start_matches("NETWORK#").to_owned(), count.unwrap_or(0));
                network_parents.extend(item.get("parentIdentityId").and_then(|v| v.as_s().ok()).cloned());
            } else if pk.starts_with("ACTIONS#") && text(item, "actionStatus") == "running" {
                let doc: Value = serde_json::from_str(&text(item, "doc")).unwrap_or_default();
                let field = |k: &str| doc[k].as_str().unwrap_or_default().to_owned();
                running_actions.insert((field("serverId"), field("id")));
            } else if pk.starts_with("OUTBOX#") {
                unpublished += 1;
            } else if pk.starts_with("SECGROUP#") {
                let count = item.get("serverCount").and_then(|v| v.as_n().ok()).and_then(|n| n.parse().ok());
                group_counts.insert(pk.trim_start_matches("SECGROUP#").to_owned(), count.unwrap_or(0));
            } else if pk.starts_with("IDENTITY#") {
                let count = item.get("networkCount").and_then(|v| v.as_n().ok()).and_then(|n| n.parse().ok());
                identity_counts.insert(pk.trim_start_matches("IDENTITY#").to_owned(), count.unwrap_or(0));
            }
        }
        let mut problems = Vec::new();
        let nova: BTreeMap<String, String> = self
            .emulator
            .servers()
            .into_iter()
            .filter_map(|(_, _, status, metadata)| metadata.get("unikorn:server:id").map(|id| (id.clone(), status)))
            .collect();
        let nova_ids: BTreeSet<&String> = nova.keys().collect();
        let record_ids: BTreeSet<&String> = records.keys().collect();
        if nova_ids != record_ids {
            problems.push(format!("provider servers {nova_ids:?} != records {record_ids:?}"));
        }
        let wanted: BTreeSet<(String, String, String)> = records
            .values()
            .map(|r| {
                let field = |k: &str| r[k].as_str().unwrap_or_default().to_owned();
                (field("networkId"), field("name"), field("id"))
            })
            .collect();
        if claims != wanted {
            problems.push(format!("claims {claims:?} != live records {wanted:?}"));
        }
        for (network, count) in &counts {
            let live = records.values().filter(|r| r["networkId"] == network.as_str()).count() as i64;
            if *count != live {
                problems.push(format!("network {network} counts {count} servers, {live} live"));
            }
        }
        for (group, count) in &group_counts {
            let names =
                |r: &&Value| r["networking"]["securityGroups"].as_array().is_some_and(|g| g.contains(&json!(group)));
            let live = records.values().filter(names).count() as i64;
            if *count != live {
                problems.push(format!("security group {group} counts {count} servers, {live} name it"));
            }
        }
        for (identity, count) in &identity_counts {
            let live = network_parents.iter().filter(|p| *p == identity).count() as i64;
            if *count != live {
                problems.push(format!("identity {identity} counts {count} networks, {live} live"));
            }
        }
        let tracked: BTreeSet<(String, String)> = records
            .iter()
            .filter(|(_, r)| r["action"]["status"] == "running")
            .map(|(id, r)| (id.clone(), r["action"]["id"].as_str().unwrap_or_default().to_owned()))
            .collect();
        if !running_actions.is_subset(&tracked) {
            problems
                .push(format!("running actions {running_actions:?} are not all tracked by live records {tracked:?}"));
        }
        if published && unpublished > 0 {
            problems.push(format!("{unpublished} transitions were never published"));
        }
        for (id, record) in &records {
            let status = record["provisioningStatus"].as_str().unwrap_or_default();
            if matches!(status, "provisioning" | "deprovisioning") {
                problems.push(format!("record {id} is still {status}"));
            }
            if !record["pending"].is_null() {
                problems.push(format!("record {id} still has a pending change {}", record["pending"]));
            }
            let expected = match nova.get(id).map(String::as_str) {
                Some("ACTIVE" | "RESCUE") => Some("Running"),
                Some("SHUTOFF" | "PAUSED" | "SUSPENDED" | "SHELVED" | "SHELVED_OFFLOADED") => Some("Stopped"),
                _ => None,
            };
            if let Some(expected) = expected {
                if record["powerState"] != expected {
                    problems
                        .push(format!("record {id} power {} but the provider's is {expected}", record["powerState"]));
                }
            }
        }
        problems.extend(self.networking_violations(&records).await);
        problems
    }

    /// Every live record has exactly one port named after it, with the record's security groups
    /// (when it names any) and allowed source addresses, and a public IP bound to it exactly when
    /// it asks for one; no port or public IP is left that no record owns. Read through Neutron's
    /// API of each project the stack's identities use.
    async fn networking_violations(&self, records: &BTreeMap<String, Value>) -> Vec<String> {
        let mut ports = Vec::new();
        let mut ips = Vec::new();
        for (id, secret) in [
            (seed::DEMO_APP_CRED_ID, seed::DEMO_APP_CRED_SECRET),
            (seed::OTHER_APP_CRED_ID, seed::OTHER_APP_CRED_SECRET),
        ] {
            let api = NeutronApi::connect_as(&self.emulator, id, secret).await;
            ports.extend(api.ports().await);
            ips.extend(api.floating_ips().await);
        }
        let is_id = |v: &Value| v.as_str().is_some_and(|s| uuid::Uuid::parse_str(s).is_ok());
        let ours: Vec<&Value> = ports.iter().filter(|p| is_id(&p["name"])).collect();
        let mut problems = Vec::new();
        for port in &ours {
            let name = port["name"].as_str().unwrap_or_default();
            if !records.contains_key(name) {
                problems.push(format!("port {} of no record ({name})", port["id"]));
            }
        }
        for ip in &ips {
            let bound = ours
                .iter()
                .any(|p| p["id"] == ip["port_id"] && records.contains_key(p["name"].as_str().unwrap_or_default()));
            if is_id(&ip["description"]) && !bound {
                problems.push(format!("public IP {} of no live record", ip["floating_ip_address"]));
            }
        }
        for (id, record) in records {
            let mine: Vec<&&Value> = ours.iter().filter(|p| p["name"] == id.as_str()).collect();
            let [port] = mine.as_slice() else {
                problems.push(format!("record {id} has {} ports", mine.len()));
                continue;
            };
            let networking = &record["networking"];
            let wanted = |key: &str| -> Vec<String> {
                let mut v: Vec<String> = networking[key]
                    .as_array()
                    .map(|l| l.iter().filter_map(|e| e.as_str().or(e["cidr"].as_str()).map(str::to_owned)).collect())
                    .unwrap_or_default();
                v.sort();
                v
            };
            // The record names Unikorn's groups; the port carries the Neutron groups made for them.
            let mut groups = Vec::new();
            for group in wanted("securityGroups") {
                let made = self.stored(&format!("SECGROUP#{group}"), "SECGROUP").await;
                groups.push(made.and_then(|g| g["objects"]["groupId"].as_str().map(str::to_owned)).unwrap_or(group));
            }
            groups.sort();
            let held = groups_of(port);
            if !groups.is_empty() && groups != held {
                problems.push(format!("record {id} asks for groups {groups:?}, its port has {:?}", groups_of(port)));
            }
            if wanted("allowedSourceAddresses") != pairs_of(port) {
                problems.push(format!(
                    "record {id} allows {:?}, its port {:?}",
                    wanted("allowedSourceAddresses"),
                    pairs_of(port)
                ));
            }
            let bound = ips.iter().filter(|ip| ip["port_id"] == port["id"]).count();
            let asked = usize::from(networking["publicIp"] == true);
            if bound != asked {
                problems.push(format!("record {id} asks for {asked} public IPs, its port has {bound}"));
            }
        }
        problems
    }

    /// Runs cleanup (grace `grace_seconds`) until the invariants hold, at most `runs` times;
    /// answers how many runs it took, or the last violations.
    pub async fn converge(&self, grace_seconds: i64, runs: usize) -> Result<usize, Vec<String>> {
        let mut last = Vec::new();
        for run in 1..=runs {
            self.cleanup(grace_seconds).await;
            last = self.check(true).await;
            if last.is_empty() {
                return Ok(run);
            }
        }
        Err(last)
    }
}
